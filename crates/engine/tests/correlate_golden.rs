//! Correlation golden tests: hand-built `findings.jsonl` → `incidents.json`.
//!
//! Each case lives in `tests/golden/correlate/CASE/`: `findings.jsonl` (the input, built
//! by [`cases`] and written when `DWELL_UPDATE_GOLDEN=1`) and `incidents.json` (the
//! expected output). Besides the snapshot, each case asserts what it is about, so a
//! snapshot update cannot silently accept a wrong answer.

use std::path::{Path, PathBuf};

use dwell_engine::correlate::correlate;
use dwell_model::{Entity, Finding, Incident, Peer, Stage, Technique, TempoModel, Timestamp};
use serde_json::json;

const H: i64 = 3600;
const D: i64 = 86_400;
const T0: i64 = 1_772_409_600; // 2026-03-02T00:00:00Z

#[allow(clippy::too_many_arguments)]
fn f(
    id: &str,
    det: &str,
    ip: &str,
    t: i64,
    dur: i64,
    stage: Stage,
    attack: &str,
    score: f64,
) -> Finding {
    Finding {
        id: id.into(),
        time: Timestamp::from_secs(T0 + t),
        end: Timestamp::from_secs(T0 + t + dur),
        detector: det.into(),
        title: format!("{det} finding"),
        stage,
        attack: vec![Technique::parse(attack).unwrap()],
        score,
        entity: Entity::ip(ip.parse().unwrap()),
        peer: None,
        summary: format!("{det} on {ip}"),
        evidence: Default::default(),
        sources: vec![],
    }
}

fn peer_ip(mut x: Finding, ip: &str) -> Finding {
    x.peer = Some(Peer { ip: Some(ip.parse().unwrap()), domain: None, port: None });
    x
}

fn ev(mut x: Finding, v: serde_json::Value) -> Finding {
    if let serde_json::Value::Object(m) = v {
        x.evidence = m;
    }
    x
}

fn smash() -> Vec<Finding> {
    vec![
        f(
            "sg-exploit",
            "edge_device",
            "10.100.0.5",
            9 * H,
            60,
            Stage::InitialAccess,
            "T1190",
            75.0,
        ),
        peer_ip(
            f(
                "sg-lateral",
                "lateral_movement",
                "10.100.0.5",
                9 * H + 1800,
                300,
                Stage::LateralMovement,
                "T1021.002",
                80.0,
            ),
            "10.10.0.20",
        ),
        ev(
            f(
                "sg-beacon",
                "beaconing",
                "10.10.0.20",
                10 * H,
                30 * H,
                Stage::CommandAndControl,
                "T1071.001",
                90.0,
            ),
            json!({"period_s": 60.0}),
        ),
        ev(
            f(
                "sg-exfil",
                "data_egress",
                "10.10.0.20",
                9 * H + 40 * H,
                3 * H,
                Stage::Exfiltration,
                "T1567.002",
                95.0,
            ),
            json!({"peak_day_bytes": 4.0e9, "active_days": 1.0, "bytes_out": 4.0e9}),
        ),
    ]
}

fn slow() -> Vec<Finding> {
    vec![
        ev(
            f(
                "ls-beacon",
                "beaconing",
                "10.20.1.7",
                2 * D,
                28 * D,
                Stage::CommandAndControl,
                "T1071.001",
                75.0,
            ),
            json!({"period_s": 14400.0}),
        ),
        f(
            "ls-dns",
            "dns_tunnel",
            "10.20.1.7",
            3 * D,
            27 * D,
            Stage::CommandAndControl,
            "T1071.004",
            85.0,
        ),
        ev(
            f(
                "ls-exfil",
                "data_egress",
                "10.20.1.7",
                6 * D,
                24 * D,
                Stage::Exfiltration,
                "T1030",
                70.0,
            ),
            json!({"peak_day_bytes": 5.2e7, "active_days": 24.0, "bytes_out": 1.2e9}),
        ),
    ]
}

fn noise() -> Vec<Finding> {
    vec![
        // A lone weak finding elsewhere: stays a finding.
        f(
            "n-longconn",
            "long_connection",
            "10.20.3.44",
            5 * D,
            2 * H,
            Stage::CommandAndControl,
            "T1071",
            30.0,
        ),
        // A weak finding on the smash-and-grab host 200 days later: beyond the horizon.
        f(
            "n-late",
            "rare_destination",
            "10.10.0.20",
            200 * D,
            60,
            Stage::CommandAndControl,
            "T1071",
            40.0,
        ),
        // A weak admin finding on the low-and-slow host before it all: context only.
        f(
            "n-admin",
            "remote_execution",
            "10.20.1.7",
            D,
            60,
            Stage::LateralMovement,
            "T1021.006",
            30.0,
        ),
    ]
}

fn cases() -> Vec<(&'static str, Vec<Finding>)> {
    vec![
        ("smash_and_grab", smash()),
        ("low_and_slow", slow()),
        ("two_intrusions", [smash(), slow()].concat()),
        ("with_noise", [smash(), slow(), noise()].concat()),
    ]
}

fn dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/correlate").join(case)
}

fn run(case: &str, built: &[Finding]) -> Vec<Incident> {
    let d = dir(case);
    let update = std::env::var("DWELL_UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let fpath = d.join("findings.jsonl");
    if update {
        std::fs::create_dir_all(&d).unwrap();
        let text: String = built.iter().map(|x| serde_json::to_string(x).unwrap() + "\n").collect();
        std::fs::write(&fpath, text).unwrap();
    }
    let findings: Vec<Finding> = std::fs::read_to_string(&fpath)
        .unwrap_or_else(|e| panic!("{}: {e} (DWELL_UPDATE_GOLDEN=1 creates it)", fpath.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        findings.len(),
        built.len(),
        "{case}: input differs from the case; update the golden files"
    );
    let got = correlate(&findings);
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    let ipath = d.join("incidents.json");
    if update {
        std::fs::write(&ipath, &text).unwrap();
    }
    let want = std::fs::read_to_string(&ipath).unwrap();
    assert_eq!(text, want, "{case}: incidents differ from {}", ipath.display());
    got
}

fn by_member<'a>(inc: &'a [Incident], id: &str) -> &'a Incident {
    inc.iter()
        .find(|i| i.findings.iter().any(|x| x == id))
        .unwrap_or_else(|| panic!("no incident holds {id}"))
}

#[test]
fn golden_incidents() {
    for (case, built) in cases() {
        let inc = run(case, &built);
        match case {
            "smash_and_grab" => {
                assert_eq!(inc.len(), 1);
                let i = &inc[0];
                assert_eq!(i.model, TempoModel::SmashAndGrab, "{:?}", i.model_reasons);
                assert_eq!(i.time_to_exfil_s, Some(40.0 * H as f64));
                assert_eq!(
                    i.entities[0].ip.unwrap().to_string(),
                    "10.100.0.5",
                    "patient zero first"
                );
                assert_eq!(i.entities.len(), 2);
                assert_eq!(i.stages.len(), 4);
            }
            "low_and_slow" => {
                assert_eq!(inc.len(), 1);
                assert_eq!(inc[0].model, TempoModel::LowAndSlow, "{:?}", inc[0].model_reasons);
                assert_eq!(inc[0].time_to_exfil_s, Some(4.0 * D as f64));
            }
            "two_intrusions" => {
                assert_eq!(inc.len(), 2, "unrelated intrusions stay apart");
                assert_eq!(by_member(&inc, "sg-exfil").model, TempoModel::SmashAndGrab);
                assert_eq!(by_member(&inc, "ls-exfil").model, TempoModel::LowAndSlow);
            }
            "with_noise" => {
                assert_eq!(inc.len(), 2, "noise forms no incident of its own");
                let sg = by_member(&inc, "sg-exfil");
                assert!(!sg.findings.iter().any(|x| x == "n-late"), "beyond the 90-day horizon");
                assert_eq!(sg.time_to_exfil_s, Some(40.0 * H as f64));
                let ls = by_member(&inc, "ls-exfil");
                assert!(
                    ls.findings.iter().any(|x| x == "n-admin"),
                    "weak context on the same host joins"
                );
                assert_eq!(
                    ls.first_seen,
                    Timestamp::from_secs(T0 + 2 * D),
                    "but does not move the first evidence"
                );
                assert!(!inc.iter().any(|i| i.findings.iter().any(|x| x == "n-longconn")));
            }
            _ => unreachable!(),
        }
    }
}
