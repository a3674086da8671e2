//! `dwell demo` on a clean directory: exits 0, writes valid results and an evaluation.

use std::process::Command;

#[test]
fn demo_runs_and_writes_valid_results() {
    let out = std::env::temp_dir().join(format!("dwell-demo-{}", std::process::id()));
    std::fs::remove_dir_all(&out).ok();
    let o = Command::new(env!("CARGO_BIN_EXE_dwell"))
        .args(["demo", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}\n{}", stdout, String::from_utf8_lossy(&o.stderr));
    dwell_testkit::spec::validate_dir(&out).unwrap();
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
    // Both scenarios' stages are evaluated, and the embedded default is a regression
    // guard: every stage found, no benign trap fired, both operating models named right.
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sim/truth.json")).unwrap())
            .unwrap();
    let stages: usize = truth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stages"].as_array().unwrap().len())
        .sum();
    assert_eq!(eval["stages_detected"][1], stages);
    assert_eq!(eval["stages_detected"][0], eval["stages_detected"][1], "{}", stdout);
    assert_eq!(eval["false_positives"], 0, "{}", stdout);
    for inc in eval["incidents"].as_array().unwrap() {
        assert_eq!(inc["model"], inc["model_true"], "{inc}");
    }
    assert!(stdout.contains("Evaluation against the simulation's ground truth"));
    assert!(stdout.contains("report: "));
    assert!(out.join("sim/truth.json").is_file() && out.join("sim/conn.log").is_file());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Hunt next") && md.contains("smash_and_grab"), "{md}");
    let layer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("attack-layer.json")).unwrap())
            .unwrap();
    assert!(layer["techniques"].as_array().unwrap().len() >= 10);
    assert!(out.join("sim/endpoint/winlogbeat.jsonl").is_file());
    std::fs::remove_dir_all(&out).ok();
}

/// The demo's organisation without an intruder, network and Windows endpoints alike
/// (logons, Office, browsers, updates, Defender, the helpdesk's approved ScreenConnect,
/// administrators' nltest/dsquery/PowerShell remoting from the jump host): no finding
/// reaches the alert score.
#[test]
fn benign_enterprise_with_endpoints_stays_quiet() {
    let dir = std::env::temp_dir().join(format!("dwell-benign-ep-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let sim = dir.join("sim");
    let o = Command::new(env!("CARGO_BIN_EXE_dwell"))
        .args(["simulate", "--scenario", "none", "--seed", "11", "--hosts", "40", "--days", "5"])
        .arg("--endpoint")
        .arg("--out")
        .arg(&sim)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let winlog = std::fs::read_to_string(sim.join("endpoint/winlogbeat.jsonl")).unwrap();
    assert!(winlog.lines().count() > 1000, "{} Windows records", winlog.lines().count());
    // The organisation's profile, as the simulator writes it for its SOC.
    let profile = sim.join("profile.toml");
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_dwell"))
        .arg("analyze")
        .arg(&sim)
        .arg("--config")
        .arg(&profile)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    let findings: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let endpoint = findings.iter().filter(|f| f["entity"]["host"].is_string()).count();
    let loud: Vec<String> = findings
        .iter()
        .filter(|f| f["score"].as_f64().unwrap() >= 50.0)
        .map(|f| format!("{} {} {}", f["detector"], f["score"], f["summary"]))
        .collect();
    println!("{} findings ({endpoint} with a host name), {} >= 50", findings.len(), loud.len());
    assert!(loud.is_empty(), "{}", loud.join("\n"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A pattern of life saved by one run starts the next: the file round-trips, merges
/// with the next run's, and a damaged file is refused with its name.
#[test]
fn baselines_save_and_load_between_runs() {
    let dir = std::env::temp_dir().join(format!("dwell-baseline-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let sim = dir.join("sim");
    let dwell = || Command::new(env!("CARGO_BIN_EXE_dwell"));
    let o = dwell()
        .args([
            "simulate",
            "--scenario",
            "none",
            "--seed",
            "4",
            "--hosts",
            "20",
            "--days",
            "1",
            "--out",
        ])
        .arg(&sim)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b1 = dir.join("day1.json.gz");
    let o = dwell()
        .arg("analyze")
        .arg(&sim)
        .arg("--quiet")
        .arg("--out")
        .arg(dir.join("r1"))
        .arg("--save-baseline")
        .arg(&b1)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b2 = dir.join("day2.json");
    let o = dwell()
        .arg("analyze")
        .arg(&sim)
        .arg("--quiet")
        .arg("--out")
        .arg(dir.join("r2"))
        .arg("--baseline")
        .arg(&b1)
        .arg("--save-baseline")
        .arg(&b2)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&b2).unwrap()).unwrap();
    assert_eq!(v["schema"], 1);
    let peers = v["peers"].as_array().unwrap();
    assert!(peers.len() > 50, "{}", peers.len());
    // The same data twice: every peer's flows doubled, first-seen unchanged.
    let (_, p0) = (&peers[0][0], &peers[0][1]);
    assert_eq!(p0["flows"].as_u64().unwrap() % 2, 0);
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"schema\": 1, \"peers\": 3}").unwrap();
    let o = dwell()
        .arg("analyze")
        .arg(&sim)
        .arg("--quiet")
        .arg("--out")
        .arg(dir.join("r3"))
        .arg("--baseline")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.json") && err.contains("not a dwell baseline"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
