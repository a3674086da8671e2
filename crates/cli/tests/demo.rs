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
    std::fs::remove_dir_all(&out).ok();
}
