//! Writing a run's results: `findings.jsonl`, `incidents.json`, `report.html`
//! (`spec/findings.md`).

use std::io::Write;
use std::path::{Path, PathBuf};

use dwell_report::RunInfo;

use crate::{Analysis, EngineError};

/// Paths of the files written.
#[derive(Clone, Debug)]
pub struct Written {
    /// `findings.jsonl`.
    pub findings: PathBuf,
    /// `incidents.json`.
    pub incidents: PathBuf,
    /// `report.html`.
    pub report: PathBuf,
}

fn err(path: &Path, e: impl std::fmt::Display) -> EngineError {
    EngineError::Output(format!("{}: {e}", path.display()))
}

/// The run figures the report shows.
pub fn run_info(a: &Analysis) -> RunInfo {
    RunInfo {
        events: a.stats.events,
        files: a.inputs.files.len(),
        skipped: a.inputs.skipped.len(),
        anomalies: a.stats.totals().anomaly_total(),
        elapsed_s: a.stats.elapsed.as_secs_f64(),
        span: a.stats.span,
    }
}

/// Writes the three files into `dir` (created if missing).
pub fn write_all(dir: &Path, a: &Analysis) -> Result<Written, EngineError> {
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let fpath = dir.join("findings.jsonl");
    let file = std::fs::File::create(&fpath).map_err(|e| err(&fpath, e))?;
    let mut w = std::io::BufWriter::new(file);
    for f in &a.findings {
        serde_json::to_writer(&mut w, f).map_err(|e| err(&fpath, e))?;
        w.write_all(b"\n").map_err(|e| err(&fpath, e))?;
    }
    w.flush().map_err(|e| err(&fpath, e))?;
    let ipath = dir.join("incidents.json");
    let text = serde_json::to_string_pretty(&a.incidents).map_err(|e| err(&ipath, e))?;
    std::fs::write(&ipath, text + "\n").map_err(|e| err(&ipath, e))?;
    let rpath = dir.join("report.html");
    let html = dwell_report::html::render(&a.incidents, &a.findings, &run_info(a));
    std::fs::write(&rpath, html).map_err(|e| err(&rpath, e))?;
    let mpath = dir.join("report.md");
    let md = dwell_report::markdown::render(&a.incidents, &a.findings, &run_info(a));
    std::fs::write(&mpath, md).map_err(|e| err(&mpath, e))?;
    let lpath = dir.join("attack-layer.json");
    let layer = dwell_report::navigator::layer(&a.findings, 50.0);
    let text = serde_json::to_string_pretty(&layer).map_err(|e| err(&lpath, e))?;
    std::fs::write(&lpath, text + "\n").map_err(|e| err(&lpath, e))?;
    Ok(Written { findings: fpath, incidents: ipath, report: rpath })
}
