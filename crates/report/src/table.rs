//! The summary table `dwell analyze` prints: one line per incident, strongest first.

use std::fmt::Write;

use dwell_model::{Finding, Incident};

use crate::human_duration;

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Renders incidents as a fixed-width table (empty input: a one-line note).
pub fn incidents(incidents: &[Incident], findings: &[Finding]) -> String {
    let mut out = String::new();
    if incidents.is_empty() {
        let strong = findings.iter().filter(|f| f.score >= 50.0).count();
        let _ = writeln!(
            out,
            "No incidents. {} finding{} ({} with score ≥ 50).",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            strong
        );
        return out;
    }
    let _ = writeln!(
        out,
        "{:>5}  {:<8}  {:<14}  {:>10}  {:>10}  {:<28}  {:<22}  TITLE",
        "SCORE", "SEVERITY", "MODEL", "DWELL", "TO EXFIL", "STAGES", "ENTITY"
    );
    for i in incidents {
        let stages: Vec<&str> = i.stages.iter().map(|s| s.as_str()).collect();
        let entity = i.entities.first().map(|e| e.to_string()).unwrap_or_default();
        let _ = writeln!(
            out,
            "{:>5.1}  {:<8}  {:<14}  {:>10}  {:>10}  {:<28}  {:<22}  {}",
            i.score,
            i.severity.as_str(),
            i.model.as_str(),
            human_duration(i.dwell_s),
            i.time_to_exfil_s.map(human_duration).unwrap_or_else(|| "-".into()),
            cut(&stages.join(","), 28),
            cut(&entity, 22),
            cut(&i.title, 70)
        );
    }
    out
}
