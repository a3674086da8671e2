//! `report.md`: the incidents as Markdown, for tickets and chat.
//!
//! Per incident: the headline figures (score, severity, operating model with its
//! reasons, dwell time and time to exfiltration against the public benchmarks), the
//! hosts, the life-cycle stages with their first evidence, the hunting window, and the
//! findings in time order. Cells are escaped so a hostile host name or URI cannot
//! break the table.

use std::fmt::Write;

use dwell_model::{Finding, Incident, IncidentsFile, Stage};

use crate::{human_duration, hunt, FindingIndex, RunInfo};

/// Escapes text for a Markdown table cell or line.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => o.push_str("\\|"),
            '\n' | '\r' => o.push(' '),
            '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' => {
                o.push('\\');
                o.push(c);
            }
            c => o.push(c),
        }
    }
    o
}

/// Renders the Markdown report.
pub fn render(doc: &IncidentsFile, findings: &[Finding], run: &RunInfo) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# dwell report\n");
    let span = run
        .span
        .map(|(a, b)| format!("{a} – {b} ({})", human_duration(b.secs_since(a))))
        .unwrap_or_else(|| "no events".into());
    let _ = writeln!(
        m,
        "{} events from {} files · {} · {} findings · {} incidents · generated {}\n",
        run.events,
        run.files,
        span,
        findings.len(),
        doc.incidents.len(),
        doc.generated
    );
    if doc.incidents.is_empty() {
        m.push_str("No incidents: no finding reached a score of 50 and no host showed two life-cycle stages.\n");
        return m;
    }
    m.push_str("| Score | Severity | Model | Dwell | To exfiltration | Incident |\n|---:|---|---|---|---|---|\n");
    for i in &doc.incidents {
        let _ = writeln!(
            m,
            "| {:.1} | {} | {} | {} | {} | {} |",
            i.score,
            i.severity.as_str(),
            i.model.as_str(),
            human_duration(i.dwell_s),
            i.time_to_exfil_s.map(human_duration).unwrap_or_else(|| "–".into()),
            esc(&i.title)
        );
    }
    let index = FindingIndex::new(findings);
    for i in &doc.incidents {
        incident(&mut m, i, &index);
    }
    m
}

fn incident(m: &mut String, i: &Incident, index: &FindingIndex<'_>) {
    let fs = index.of(i);
    let _ = writeln!(m, "\n## {} — {} ({:.1})\n", esc(&i.id), esc(&i.title), i.score);
    let _ = writeln!(m, "{}\n", esc(&i.summary));
    let _ = writeln!(
        m,
        "- **Operating model:** {} — {}",
        i.model.as_str(),
        esc(&i.model_reasons.join("; "))
    );
    let _ = writeln!(
        m,
        "- **Dwell time:** {} (benchmarks: smash-and-grab median compromise ~10 days; low-and-slow mean 35 days to egress, up to ~2 years inside)",
        human_duration(i.dwell_s)
    );
    let _ = writeln!(
        m,
        "- **Time to exfiltration:** {} (benchmarks: smash-and-grab median 48 h; low-and-slow mean 35 days)",
        i.time_to_exfil_s.map(human_duration).unwrap_or_else(|| "no exfiltration seen".into())
    );
    let hosts: Vec<String> = i.entities.iter().map(|e| esc(&e.to_string())).collect();
    let _ = writeln!(m, "- **Hosts (patient zero first):** {}", hosts.join(", "));
    let techniques: Vec<String> = i.attack.iter().map(|t| t.to_string()).collect();
    let _ = writeln!(
        m,
        "- **ATT&CK:** {}",
        if techniques.is_empty() { "–".into() } else { techniques.join(", ") }
    );
    m.push_str("\n**Life cycle (first evidence per stage):**\n\n");
    for s in Stage::ALL {
        if let Some(f) = fs.iter().filter(|f| f.stage == *s).min_by_key(|f| f.time) {
            let _ = writeln!(
                m,
                "1. {} — {} on {}: {}",
                s.title(),
                f.time,
                esc(&f.entity.to_string()),
                esc(&f.summary)
            );
        }
    }
    let h = hunt::window(i, &fs);
    let _ = writeln!(
        m,
        "\n**Hunt next:** {} to {} ({:.0} days before the first evidence: {}).",
        h.from,
        h.to,
        h.lookback_days,
        esc(&h.why)
    );
    let _ =
        writeln!(m, "Hosts: {}.", h.hosts.iter().map(|x| esc(x)).collect::<Vec<_>>().join(", "));
    if !h.peers.is_empty() {
        let _ = writeln!(
            m,
            "Peers: {}.",
            h.peers
                .iter()
                .map(|x| format!("`{}`", x.replace('`', "'")))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    m.push_str("\n| Time | Detector | Stage | Score | Entity → peer | Summary |\n|---|---|---|---:|---|---|\n");
    for f in &fs {
        let peer = f.peer.as_ref().map(|p| p.to_string()).unwrap_or_else(|| "–".into());
        let _ = writeln!(
            m,
            "| {} | {} | {} | {:.1} | {} → {} | {} |",
            f.time,
            esc(&f.detector),
            f.stage.title(),
            f.score,
            esc(&f.entity.to_string()),
            esc(&peer),
            esc(&f.summary)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(esc("a|b\nc"), "a\\|b c");
        assert_eq!(esc("<script>"), "\\<script\\>");
        assert_eq!(esc("plain text 10.0.0.1"), "plain text 10.0.0.1");
    }
}
