//! Loading the org profile (`--config dwell.toml`) and threat-intel lists (`--intel`).

use std::path::Path;
use std::sync::Arc;

use dwell_detect::intel::LoadReport;
use dwell_detect::{build_all, BuildCx, IntelSet, OrgProfile, ProfileFile};

use crate::EngineError;

/// Reads and validates an org profile; errors name the file and the key.
pub fn load_profile(path: &Path) -> Result<OrgProfile, EngineError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EngineError::Config(format!("{}: cannot read: {e}", path.display())))?;
    parse_profile(&text).map_err(|e| EngineError::Config(format!("{}: {e}", path.display())))
}

/// Parses and validates profile text, including every detector override.
pub fn parse_profile(text: &str) -> Result<OrgProfile, String> {
    let file: ProfileFile =
        toml::from_str(text).map_err(|e| e.to_string().trim().replace('\n', " "))?;
    let profile = OrgProfile::from_file(file).map_err(|e| e.to_string())?;
    // Build the detectors once so a bad override fails here, naming its key.
    let intel = Arc::new(IntelSet::new());
    build_all(&BuildCx { profile: &profile, intel: &intel }).map_err(|e| e.to_string())?;
    Ok(profile)
}

/// The indicators of a run and, per list, what loading it gave.
pub type LoadedIntel = (Arc<IntelSet>, Vec<(String, LoadReport)>);

/// Reads intel lists into one set; returns a report per file.
pub fn load_intel(paths: &[impl AsRef<Path>]) -> Result<LoadedIntel, EngineError> {
    let (set, reports, _) = load_rules(paths, &[] as &[&Path])?;
    Ok((set, reports))
}

/// What loading each Sigma directory gave.
pub type SigmaReports = Vec<(String, dwell_detect::sigma::SigmaReport)>;

/// Indicators and rules of a run, with what loading each list and directory gave.
pub type LoadedRules = (Arc<IntelSet>, Vec<(String, LoadReport)>, SigmaReports);

/// Reads intel lists and Sigma rule directories into one set.
pub fn load_rules(
    paths: &[impl AsRef<Path>],
    sigma: &[impl AsRef<Path>],
) -> Result<LoadedRules, EngineError> {
    let mut set = IntelSet::new();
    let mut reports = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let name = p.display().to_string();
        let bytes = std::fs::read(p)
            .map_err(|e| EngineError::Config(format!("{name}: cannot read intel list: {e}")))?;
        let text = String::from_utf8_lossy(&bytes);
        let rep = set.load(&name, &text);
        reports.push((name, rep));
    }
    let mut sreps = Vec::new();
    for d in sigma {
        let d = d.as_ref();
        let rep = set.sigma.load_dir(d).map_err(|e| EngineError::Config(format!("--sigma {e}")))?;
        if rep.files == 0 {
            return Err(EngineError::Config(format!(
                "--sigma {}: no .yml or .yaml rule files there",
                d.display()
            )));
        }
        sreps.push((d.display().to_string(), rep));
    }
    Ok((Arc::new(set), reports, sreps))
}

/// Reads a saved baseline (JSON, gzip-compressed or not); errors name the file.
pub fn load_baseline(path: &Path) -> Result<dwell_detect::Baselines, EngineError> {
    use std::io::Read;
    let err = |why: String| EngineError::Config(format!("--baseline {}: {why}", path.display()));
    let raw = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| err(format!("corrupt gzip: {e}")))?;
        out
    } else {
        raw
    };
    let file: dwell_detect::baselines::BaselineFile =
        serde_json::from_slice(&text).map_err(|e| err(format!("not a dwell baseline: {e}")))?;
    dwell_detect::Baselines::from_file(file).map_err(err)
}

/// Writes the baselines as JSON, gzip-compressed when the name ends in `.gz`.
pub fn save_baseline(b: &dwell_detect::Baselines, path: &Path) -> Result<(), EngineError> {
    use std::io::Write;
    let err =
        |e: std::io::Error| EngineError::Output(format!("--save-baseline {}: {e}", path.display()));
    let file = std::fs::File::create(path).map_err(err)?;
    let w = std::io::BufWriter::new(file);
    if path.extension().is_some_and(|x| x == "gz") {
        let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
        serde_json::to_writer(&mut gz, &b.to_file()).map_err(|e| err(e.into()))?;
        gz.finish().map_err(err)?.flush().map_err(err)?;
    } else {
        let mut w = w;
        serde_json::to_writer(&mut w, &b.to_file()).map_err(|e| err(e.into()))?;
        w.flush().map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_profile_parses() {
        let p = parse_profile(
            r#"
sector = "transportation"
timezone = "UTC"
internal_networks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
dns_resolvers = ["10.0.0.10", "10.0.0.11"]
edge_hosts = ["10.0.100.5"]
admin_hosts = ["10.0.10.20"]

[[rmm.approved]]
tool = "screenconnect"
hosts = ["10.0.20.0/24"]
hours = "07:00-19:00"

[detectors.long_connection]
base_s = 1800.0
"#,
        )
        .unwrap();
        assert_eq!(p.sector.as_deref(), Some("transportation"));
        assert_eq!(p.role("10.0.100.5".parse().unwrap()), Some("edge"));
        assert_eq!(p.rmm_approved.len(), 1);
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = parse_profile("sectr = \"energy\"\n").unwrap_err();
        assert!(e.contains("sectr"), "{e}");
        let e = parse_profile("[[rmm.approved]]\ntool = \"x\"\nwhere = []\n").unwrap_err();
        assert!(e.contains("where"), "{e}");
        let e = parse_profile("[detectors.long_connection]\nbase = 1\n").unwrap_err();
        assert!(e.contains("base"), "{e}");
        let e = parse_profile("[detectors.nope]\n").unwrap_err();
        assert!(e.contains("nope"), "{e}");
        let e = parse_profile("internal_networks = [\"10.0.0.0/33\"]\n").unwrap_err();
        assert!(e.contains("internal_networks[0]"), "{e}");
        let e = parse_profile("timezone = \"Mars/Olympus\"\n").unwrap_err();
        assert!(e.contains("timezone"), "{e}");
    }
}
