//! Reports of a run: the terminal table ([`table`]), the self-contained HTML report
//! ([`html`]), the Markdown report for tickets ([`markdown`]), the ATT&CK Navigator
//! layer ([`navigator`]) and the hunting windows all of them show ([`hunt`]).
//!
//! Both read only the output contract (`IncidentsFile`, `Finding`) plus a few run
//! figures, so they can be regenerated from the files `dwell analyze` wrote.

pub mod html;
pub mod hunt;
pub mod markdown;
pub mod navigator;
pub mod table;

use std::collections::HashMap;

use dwell_model::{Finding, Incident, Timestamp};

/// Findings by id: incidents name their findings by id, and a report of thousands of
/// incidents must not search the whole list for each one.
pub(crate) struct FindingIndex<'a>(HashMap<&'a str, &'a Finding>);

impl<'a> FindingIndex<'a> {
    pub(crate) fn new(all: &'a [Finding]) -> Self {
        FindingIndex(all.iter().map(|f| (f.id.as_str(), f)).collect())
    }

    /// The findings of `inc` that are in the list, in the incident's order.
    pub(crate) fn of(&self, inc: &Incident) -> Vec<&'a Finding> {
        inc.findings.iter().filter_map(|id| self.0.get(id.as_str()).copied()).collect()
    }
}

/// Figures of the run shown in the report's header.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// Events analysed.
    pub events: u64,
    /// Input files decoded.
    pub files: usize,
    /// Files skipped (not telemetry).
    pub skipped: usize,
    /// Malformed records counted.
    pub anomalies: u64,
    /// Seconds the run took.
    pub elapsed_s: f64,
    /// First and last event time.
    pub span: Option<(Timestamp, Timestamp)>,
}

/// `3.2 h`, `4.5 days`, `12 min`, `40 s`.
pub fn human_duration(s: f64) -> String {
    const DAY: f64 = 86_400.0;
    if s >= 2.0 * DAY {
        format!("{:.1} days", s / DAY)
    } else if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}
