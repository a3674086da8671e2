//! Golden tests: real inputs decode to a checked-in normalised snapshot.
//!
//! One Zeek TSV directory, one Zeek JSON directory and one EVE file from
//! `../shared/data`; for each file, the first [`PER_FILE`] events in the normalised
//! JSON form `dwell decode` prints, with the volatile part (the directory of the input
//! path) masked to the file name. The snapshots are our own output, kept short; the
//! inputs themselves are never copied here.
//!
//! Update after an intended change with:
//!
//! ```text
//! DWELL_UPDATE_GOLDEN=1 cargo test -p dwell-decode --test golden
//! ```

use std::path::{Path, PathBuf};

use dwell_decode::{normal, DecodeOptions, FileDecoder};
use dwell_model::FileId;
use dwell_testkit::shared_or_skip;

/// Events kept per input file.
const PER_FILE: usize = 25;

fn files_of(p: &Path) -> Vec<PathBuf> {
    if p.is_dir() {
        let mut v: Vec<PathBuf> =
            std::fs::read_dir(p).unwrap().map(|e| e.unwrap().path()).collect();
        v.sort();
        v
    } else {
        vec![p.to_path_buf()]
    }
}

fn snapshot(input: &Path) -> String {
    let mut out = String::new();
    for f in files_of(input) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(d) = FileDecoder::open(&f, FileId(0), &DecodeOptions::default()) else { continue };
        for ev in d.take(PER_FILE) {
            out.push_str(&serde_json::to_string(&normal::to_json(&ev, &name)).unwrap());
            out.push('\n');
        }
    }
    out
}

fn check(name: &str, rel: &str) {
    let data = shared_or_skip!();
    let got = snapshot(&data.join(rel));
    assert!(!got.is_empty(), "{rel} produced no events");
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.jsonl"));
    if std::env::var("DWELL_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &got).unwrap();
        eprintln!("updated {}", path.display());
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e} (run with DWELL_UPDATE_GOLDEN=1 to create it)", path.display())
    });
    if got != want {
        let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
        let first = g.iter().zip(&w).position(|(a, b)| a != b).unwrap_or(g.len().min(w.len()));
        panic!(
            "{name}: decoded output differs from {} at line {} (got {} lines, want {}):\n got: {}\nwant: {}\n\
             If the change is intended: DWELL_UPDATE_GOLDEN=1 cargo test -p dwell-decode --test golden",
            path.display(),
            first + 1,
            g.len(),
            w.len(),
            g.get(first).unwrap_or(&"<none>"),
            w.get(first).unwrap_or(&"<none>")
        );
    }
}

#[test]
fn golden_zeek_tsv_dir() {
    check("zeek_tsv_slips_test10", "mixed/slips_test10-mixed-zeek-dir");
}

#[test]
fn golden_zeek_json_dir() {
    check("zeek_json_otrf_apt29_utica_a", "mixed/otrf_apt29_day2_UTICA-A");
}

#[test]
fn golden_eve() {
    check("eve_slips_test6", "mixed/slips_test6-malicious.suricata.json");
}
