//! The engine: from input paths to findings, incidents and the files analysts read.
//!
//! * [`inputs`]: expand and sniff the paths given;
//! * [`merge`]: one time-ordered event stream from many files (bounded reordering);
//! * [`pipeline`]: baselines and detectors over that stream, watermarks, findings;
//! * [`correlate`]: findings into incidents, with dwell time and tempo;
//! * [`config`]: the org profile and intel lists;
//! * [`output`]: `findings.jsonl`, `incidents.json`, `report.html`.

pub mod config;
pub mod correlate;
pub mod inputs;
pub mod merge;
pub mod output;
pub mod pipeline;

use std::path::Path;
use std::sync::Arc;

use dwell_decode::DecodeError;
use dwell_detect::{IntelSet, OrgProfile};
use dwell_model::{Finding, IncidentsFile, Timestamp, INCIDENTS_SCHEMA};

pub use inputs::Inputs;
pub use pipeline::{Progress, RunOptions, RunStats};

/// Why a run could not be done. Usage and input errors are the user's to fix (exit
/// status 2); output errors are the machine's (exit status 1).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An input file cannot be read or decoded.
    #[error(transparent)]
    Input(#[from] DecodeError),
    /// Bad usage (no inputs, nothing decodable).
    #[error("{0}")]
    Usage(String),
    /// The org profile or an intel list is wrong.
    #[error("{0}")]
    Config(String),
    /// Writing results failed.
    #[error("cannot write results: {0}")]
    Output(String),
}

impl EngineError {
    /// Exit status per the spec: 2 for bad usage or unreadable input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            EngineError::Input(_) | EngineError::Usage(_) | EngineError::Config(_) => 2,
            EngineError::Output(_) => 1,
        }
    }
}

/// Everything an analysis produced.
pub struct Analysis {
    /// The inputs (files, skipped files).
    pub inputs: Inputs,
    /// Findings, sorted by (time, detector, entity).
    pub findings: Vec<Finding>,
    /// The incidents document.
    pub incidents: IncidentsFile,
    /// Counts.
    pub stats: RunStats,
}

/// Analyses `paths`: decode, detect, correlate. Writing files is the caller's choice
/// ([`output::write_all`]).
pub fn analyze(
    inputs: Inputs,
    profile: OrgProfile,
    intel: Arc<IntelSet>,
    opts: &RunOptions,
    progress: impl FnMut(Progress),
) -> Result<Analysis, EngineError> {
    let mut scoring = correlate::Scoring::for_sector(profile.sector.as_deref());
    let (findings, stats) = pipeline::run(&inputs, profile, intel, opts, progress)?;
    scoring.peer_roles.clone_from(&stats.peer_roles);
    let incidents = IncidentsFile {
        schema: INCIDENTS_SCHEMA,
        generated: wall_clock_now(),
        inputs: inputs.given.iter().map(|p| p.display().to_string()).collect(),
        incidents: correlate::correlate_with(&findings, correlate::DEFAULT_HORIZON_S, &scoring),
    };
    Ok(Analysis { inputs, findings, incidents, stats })
}

/// The wall clock, for the `generated` stamp only (never for detection).
pub fn wall_clock_now() -> Timestamp {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    Timestamp(now)
}

/// Display form of a path for messages.
pub fn show(p: &Path) -> String {
    p.display().to_string()
}
