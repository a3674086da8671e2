//! The simulator: deterministic, self-consistent, with a truth that matches its data.

use std::path::{Path, PathBuf};

use dwell_model::{Entity, Finding, IncidentsFile, Peer, Stage, Technique, Timestamp};
use dwell_sim::{eval, truth::Truth, Scenario, SimConfig};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dwell-sim-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    d
}

fn small(seed: u64) -> SimConfig {
    SimConfig { seed, hosts: 24, days: 3.0, scenario: Scenario::Both, ..SimConfig::default() }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (tmp("a"), tmp("b"), tmp("c"));
    dwell_sim::simulate(&small(5), &a, |_| {}).unwrap();
    dwell_sim::simulate(&small(5), &b, |_| {}).unwrap();
    dwell_sim::simulate(&small(6), &c, |_| {}).unwrap();
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert_eq!(fa.len(), 10, "8 logs, truth.json and profile.toml");
    assert!(fa == fb, "byte-identical output for the same seed");
    assert!(fa != fc);
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).ok();
    }
}

#[test]
fn truth_matches_the_data() {
    let d = tmp("truth");
    let s = dwell_sim::simulate(&small(9), &d, |_| {}).unwrap();
    let truth: Truth = serde_json::from_str(&std::fs::read_to_string(&s.truth).unwrap()).unwrap();
    assert_eq!(truth.scenarios.len(), 2);
    let conn = std::fs::read_to_string(d.join("conn.log")).unwrap();
    for sc in &truth.scenarios {
        assert!(!sc.stages.is_empty());
        for st in &sc.stages {
            assert!(st.sessions > 0, "{} {}", sc.name, st.name);
            assert!(st.end >= st.start);
            assert!(!st.hosts.is_empty(), "{} {}", sc.name, st.name);
            for h in &st.hosts {
                assert!(h.starts_with("10."), "{h} is internal");
                assert!(conn.contains(h.as_str()));
            }
        }
        let exfil = sc.stages.iter().find(|s| s.stage == Stage::Exfiltration).unwrap();
        let tte = sc.time_to_exfil_s.unwrap();
        assert!((exfil.start.secs_since(sc.first_seen) - tte).abs() < 1e-6);
    }
    let sg = truth.scenarios.iter().find(|s| s.name == "smash_and_grab").unwrap();
    // The public benchmark: egress within ~48 h of access.
    assert!(sg.time_to_exfil_s.unwrap() < 48.0 * 3600.0);
    assert!(!truth.traps.is_empty());
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn eval_counts_a_matching_finding_and_a_trap() {
    let d = tmp("eval");
    let s = dwell_sim::simulate(&small(3), &d, |_| {}).unwrap();
    let truth: Truth = serde_json::from_str(&std::fs::read_to_string(&s.truth).unwrap()).unwrap();
    let beacon = truth.scenarios[0].stages.iter().find(|s| s.name == "beacon").unwrap();
    let f = Finding {
        id: "f1".into(),
        time: beacon.start,
        end: beacon.end,
        detector: "beaconing".into(),
        title: "Beacon".into(),
        stage: Stage::CommandAndControl,
        attack: vec![Technique::must("T1071.001")],
        score: 80.0,
        entity: Entity::ip(beacon.hosts[0].parse().unwrap()),
        peer: Some(Peer {
            ip: None,
            domain: Some(
                beacon
                    .peers
                    .iter()
                    .find(|p| p.contains('.') && p.parse::<std::net::IpAddr>().is_err())
                    .unwrap()
                    .clone(),
            ),
            port: Some(443),
        }),
        summary: "s".into(),
        evidence: Default::default(),
        sources: vec![],
    };
    let ntp = Finding {
        id: "f2".into(),
        detector: "beaconing".into(),
        peer: Some(Peer { ip: None, domain: Some("time.windows.com".into()), port: Some(123) }),
        entity: Entity::ip("10.10.0.10".parse().unwrap()),
        ..f.clone()
    };
    let doc =
        IncidentsFile { schema: 1, generated: Timestamp(0), inputs: vec![], incidents: vec![] };
    let r = eval::evaluate(&truth, &[f, ntp], &doc);
    let b = r.stages.iter().find(|s| s.stage == "beacon").unwrap();
    assert!(b.detected, "{r:?}");
    assert_eq!(r.stages_detected.0, 1);
    assert_eq!(r.traps.iter().find(|t| t.trap == "ntp").unwrap().findings, 1);
    assert_eq!(r.false_positives, 1);
    std::fs::remove_dir_all(d).ok();
}
