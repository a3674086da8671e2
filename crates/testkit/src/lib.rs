//! Test support shared by the workspace's test suites.
//!
//! Real data lives beside the project in `../shared/data` (or `$DWELL_SHARED_DATA`);
//! its licences are not ours, so tests read it in place and never copy it. On a
//! machine without it, tests that need it skip with a printed reason, unless
//! `DWELL_REQUIRE_SHARED=1` (set by `.ci/run`), in which case a missing folder fails.

pub mod spec;

use std::path::{Path, PathBuf};

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| here.into())
}

/// The shared data folder, if present. Panics if it is required but missing.
pub fn shared_data() -> Option<PathBuf> {
    let dir = match std::env::var_os("DWELL_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => workspace_root().join("../shared/data"),
    };
    if dir.join("MANIFEST.tsv").is_file() {
        return Some(dir.canonicalize().unwrap_or(dir));
    }
    let required = std::env::var("DWELL_REQUIRE_SHARED").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "DWELL_REQUIRE_SHARED=1 but the shared data folder {} (or $DWELL_SHARED_DATA) is missing",
        dir.display()
    );
    eprintln!("SKIP: shared data folder {} not found (set DWELL_SHARED_DATA)", dir.display());
    None
}

/// Returns the shared data folder or makes the calling test return early (skipping).
#[macro_export]
macro_rules! shared_or_skip {
    () => {
        match $crate::shared_data() {
            Some(d) => d,
            None => return,
        }
    };
}

/// One row of `MANIFEST.tsv`.
#[derive(Clone, Debug)]
pub struct ManifestRow {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Path as written in the manifest, relative to the data folder.
    pub rel: String,
    /// Format column (`zeek-tsv`, `zeek-tsv (gzip)`, `zeek-json`, `eve-json`, `pcap`, ...).
    pub format: String,
    /// Ground-truth text.
    pub truth: String,
}

/// Reads the manifest of `data` (the shared data folder).
pub fn manifest(data: &Path) -> Vec<ManifestRow> {
    let text = std::fs::read_to_string(data.join("MANIFEST.tsv")).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 8 {
            continue;
        }
        let rel = cols[0].strip_prefix("shared/data/").unwrap_or(cols[0]).to_string();
        out.push(ManifestRow {
            path: data.join(&rel),
            rel,
            format: cols[2].to_string(),
            truth: cols[7].to_string(),
        });
    }
    out
}

/// Manifest rows of Zeek logs (TSV, gzip TSV, JSON).
pub fn zeek_files(data: &Path) -> Vec<ManifestRow> {
    manifest(data).into_iter().filter(|r| r.format.starts_with("zeek-")).collect()
}

/// Manifest rows of Suricata EVE files.
pub fn eve_files(data: &Path) -> Vec<ManifestRow> {
    manifest(data).into_iter().filter(|r| r.format.starts_with("eve")).collect()
}

/// Manifest rows of packet captures (pcap, pcapng).
pub fn capture_files(data: &Path) -> Vec<ManifestRow> {
    manifest(data).into_iter().filter(|r| r.format.starts_with("pcap")).collect()
}

/// Manifest rows of Windows event logs: EVTX files, Sysmon/Security JSON lines, and
/// syslog exports that carry Sysmon's event XML.
pub fn winlog_files(data: &Path) -> Vec<ManifestRow> {
    manifest(data)
        .into_iter()
        .filter(|r| {
            r.format.starts_with("evtx")
                || r.format.starts_with("sysmon")
                || r.truth.contains("Sysmon-for-Linux")
        })
        .collect()
}

/// The `tshark` binary, if installed. Panics if it is missing while
/// `DWELL_REQUIRE_SHARED=1` (`.ci/run` installs it); otherwise prints why the caller skips.
pub fn tshark() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|p| p.join("tshark")).find(|p| p.is_file())
    });
    if found.is_none() {
        let required = std::env::var("DWELL_REQUIRE_SHARED").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "DWELL_REQUIRE_SHARED=1 but tshark is not installed (apt-get install tshark)"
        );
        eprintln!("SKIP: tshark not installed");
    }
    found
}

/// The lines of `tshark -r FILE ARGS... -T fields -e FIELD...`: one per packet the
/// display filter in `args` keeps, fields separated by tabs (repeated fields joined
/// with commas, as tshark prints them). Blank lines are dropped.
pub fn tshark_lines(bin: &Path, file: &Path, args: &[&str], fields: &[&str]) -> Vec<String> {
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("-r").arg(file).args(args).args(["-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Directories holding two or more Zeek logs (analysed as a whole, as an analyst would).
pub fn zeek_dirs(data: &Path) -> Vec<PathBuf> {
    let mut count = std::collections::BTreeMap::<PathBuf, usize>::new();
    for r in zeek_files(data) {
        if let Some(p) = r.path.parent() {
            *count.entry(p.to_path_buf()).or_default() += 1;
        }
    }
    count.into_iter().filter(|(_, n)| *n >= 2).map(|(p, _)| p).collect()
}
