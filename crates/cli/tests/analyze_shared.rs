//! `dwell analyze` over every Zeek directory, Zeek log and EVE file under
//! `../shared/data`: exit status 0 and output valid per `spec/findings.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use dwell_testkit::{eve_files, shared_or_skip, spec, zeek_dirs, zeek_files};

/// Indicators taken from the manifest's ground truth (facts, written as our own list).
const INTEL: &str = "\
indicator,description
66.63.168.35,RemcosRAT exfiltration server (CTU-SME-11)
192.168.0.4,APT29 day-2 emulation C2
73.54.23.243,HTTP beacon source (RITA sample)
123.33.22.11,Tor client destination (Slips test 9)
e7d705a3286e19ea42f587b344ee6865,Standard tor client JA3
";

fn dwell() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dwell"))
}

fn run_one(input: &Path, out: &Path, intel: &Path) -> (usize, usize) {
    let o = dwell()
        .arg("analyze")
        .arg(input)
        .arg("--out")
        .arg(out)
        .arg("--intel")
        .arg(intel)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}: exit {:?}\n{}",
        input.display(),
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    spec::validate_dir(out).unwrap_or_else(|e| panic!("{}: {e}", input.display()))
}

#[test]
fn analyze_every_zeek_and_eve_input() {
    let data = shared_or_skip!();
    let tmp = std::env::temp_dir().join(format!("dwell-shared-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let intel = tmp.join("intel.csv");
    std::fs::write(&intel, INTEL).unwrap();
    let mut inputs: Vec<PathBuf> = zeek_dirs(&data);
    inputs.extend(zeek_files(&data).into_iter().map(|r| r.path));
    inputs.extend(eve_files(&data).into_iter().map(|r| r.path));
    assert!(inputs.len() > 150, "{}", inputs.len());
    let (mut findings, mut incidents) = (0, 0);
    for (i, input) in inputs.iter().enumerate() {
        let out = tmp.join(format!("out{i}"));
        let (f, n) = run_one(input, &out, &intel);
        findings += f;
        incidents += n;
        std::fs::remove_dir_all(&out).ok();
    }
    // The validator must have seen real findings and incidents, not only empty files.
    assert!(findings >= 10 && incidents >= 5, "findings {findings}, incidents {incidents}");
    std::fs::remove_dir_all(&tmp).ok();
}
