//! `dwell eval`: findings and incidents scored against `truth.json`.
//!
//! A finding *matches* a stage when it names one of the stage's internal hosts, its
//! time overlaps the stage (±1 h), and it says the same thing in one of three ways: the
//! same life-cycle stage, a shared ATT&CK technique (or parent), or the stage's peer
//! (address or domain). A stage is *detected* when a matching finding scores ≥ 50.
//! A *trap* fires when a finding of score ≥ 50 names a trap host (or any host, for
//! traps every host does) and a trap peer. Every other finding of score ≥ 50 that
//! matches no stage is a false positive. Incidents are scored per scenario: the one
//! holding the most matching findings, its entities, its operating model, its dwell
//! time against the truth's.

use std::collections::BTreeSet;
use std::fmt::Write;

use dwell_model::{Finding, IncidentsFile, Technique};
use serde::Serialize;

use crate::truth::{StageTruth, Trap, Truth};

/// Alert line: findings at or above it count.
pub const ALERT: f64 = 50.0;
/// Slack around a stage's time span, seconds.
const SLACK_S: f64 = 3600.0;

/// Result for one stage.
#[derive(Clone, Debug, Serialize)]
pub struct StageResult {
    /// Scenario.
    pub scenario: String,
    /// Stage name.
    pub stage: String,
    /// Life-cycle stage.
    pub lifecycle: String,
    /// Techniques.
    pub attack: Vec<String>,
    /// Detected with score ≥ 50.
    pub detected: bool,
    /// Best matching score (0 if none).
    pub best_score: f64,
    /// Detectors of the matching findings.
    pub detectors: Vec<String>,
    /// First matching finding's time minus the stage start, seconds (detection delay).
    pub delay_s: Option<f64>,
}

/// Result for one trap.
#[derive(Clone, Debug, Serialize)]
pub struct TrapResult {
    /// Trap name.
    pub trap: String,
    /// Findings ≥ 50 it caused.
    pub findings: usize,
    /// Detectors that fell for it.
    pub detectors: Vec<String>,
}

/// Result for one scenario's incident.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentResult {
    /// Scenario.
    pub scenario: String,
    /// Incident id (none: no incident holds its findings).
    pub incident: Option<String>,
    /// Scenario hosts named by that incident.
    pub hosts_found: Vec<String>,
    /// Scenario hosts in the truth.
    pub hosts_true: Vec<String>,
    /// Model called vs true.
    pub model: Option<String>,
    /// True model.
    pub model_true: String,
    /// Dwell called vs true, seconds.
    pub dwell_s: Option<f64>,
    /// True dwell, seconds.
    pub dwell_true_s: f64,
    /// Time to exfiltration called, seconds.
    pub time_to_exfil_s: Option<f64>,
    /// True time to exfiltration, seconds.
    pub time_to_exfil_true_s: Option<f64>,
    /// Stages of this scenario detected / its stages.
    pub stages_detected: (usize, usize),
}

/// The evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Per stage.
    pub stages: Vec<StageResult>,
    /// Per trap.
    pub traps: Vec<TrapResult>,
    /// Per scenario.
    pub incidents: Vec<IncidentResult>,
    /// Findings ≥ 50 matching no stage and no trap.
    pub other_false_positives: Vec<String>,
    /// Stages detected / stages.
    pub stages_detected: (usize, usize),
    /// Malicious hosts with a finding ≥ 50 / malicious hosts.
    pub hosts_detected: (usize, usize),
    /// Findings ≥ 50 that match no stage (traps included).
    pub false_positives: usize,
    /// Hosts with a finding ≥ 50 that are malicious / hosts with a finding ≥ 50.
    pub host_precision: (usize, usize),
}

fn domain_match(name: &str, peer: &str) -> bool {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    let p = peer.to_ascii_lowercase();
    n == p || n.ends_with(&format!(".{p}")) || p.ends_with(&format!(".{n}"))
}

fn peer_matches(f: &Finding, peers: &[String]) -> bool {
    let Some(p) = &f.peer else { return false };
    peers.iter().any(|x| {
        p.ip.is_some_and(|ip| ip.to_string() == *x)
            || p.domain.as_deref().is_some_and(|d| domain_match(d, x))
    })
}

fn entity_in(f: &Finding, hosts: &[String]) -> bool {
    f.entity.ip.is_some_and(|ip| hosts.contains(&ip.to_string()))
}

fn techniques_overlap(f: &Finding, attack: &[String]) -> bool {
    let want: Vec<Technique> = attack.iter().filter_map(|a| Technique::parse(a)).collect();
    f.attack.iter().any(|t| want.iter().any(|w| w == t || w.parent() == t.parent()))
}

/// Whether a finding matches a stage: same host, overlapping time, the same peer when
/// both name one, and the same stage, technique or peer.
pub fn matches(f: &Finding, s: &StageTruth) -> bool {
    let overlap = f.end.secs_since(s.start) >= -SLACK_S && s.end.secs_since(f.time) >= -SLACK_S;
    let names_peer = f.peer.as_ref().is_some_and(|p| p.ip.is_some() || p.domain.is_some());
    let peer_ok =
        !names_peer || s.peers.is_empty() || peer_matches(f, &s.peers) || peer_is_host(f, &s.hosts);
    overlap
        && entity_in(f, &s.hosts)
        && peer_ok
        && (f.stage == s.stage || techniques_overlap(f, &s.attack) || peer_matches(f, &s.peers))
}

/// The finding's peer is another internal host of the stage (lateral movement).
fn peer_is_host(f: &Finding, hosts: &[String]) -> bool {
    f.peer.as_ref().and_then(|p| p.ip).is_some_and(|ip| hosts.contains(&ip.to_string()))
}

fn trap_fires(f: &Finding, t: &Trap) -> bool {
    let host_ok = t.hosts.is_empty() || entity_in(f, &t.hosts);
    let peer_ok = t.peers.is_empty() || peer_matches(f, &t.peers);
    host_ok && peer_ok && !(t.hosts.is_empty() && t.peers.is_empty())
}

/// Scores results against the truth.
pub fn evaluate(truth: &Truth, findings: &[Finding], incidents: &IncidentsFile) -> Report {
    let mut stages = Vec::new();
    let mut matched = BTreeSet::new();
    let (mut found_hosts, mut all_hosts) = (BTreeSet::new(), BTreeSet::new());
    for sc in &truth.scenarios {
        for h in &sc.hosts {
            all_hosts.insert(h.clone());
        }
        for st in &sc.stages {
            let m: Vec<&Finding> = findings.iter().filter(|f| matches(f, st)).collect();
            for f in &m {
                matched.insert(f.id.clone());
                if f.score >= ALERT {
                    if let Some(ip) = f.entity.ip {
                        found_hosts.insert(ip.to_string());
                    }
                }
            }
            let best = m.iter().map(|f| f.score).fold(0.0, f64::max);
            let mut detectors: Vec<String> = m.iter().map(|f| f.detector.clone()).collect();
            detectors.sort();
            detectors.dedup();
            let delay = m
                .iter()
                .filter(|f| f.score >= ALERT)
                .map(|f| f.time.secs_since(st.start))
                .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.min(x))));
            stages.push(StageResult {
                scenario: sc.name.clone(),
                stage: st.name.clone(),
                lifecycle: st.stage.as_str().to_string(),
                attack: st.attack.clone(),
                detected: best >= ALERT,
                best_score: best,
                detectors,
                delay_s: delay,
            });
        }
    }
    let strong: Vec<&Finding> =
        findings.iter().filter(|f| f.score >= ALERT && !matched.contains(&f.id)).collect();
    let mut traps = Vec::new();
    let mut trapped = BTreeSet::new();
    for t in &truth.traps {
        let hits: Vec<&&Finding> = strong.iter().filter(|f| trap_fires(f, t)).collect();
        for f in &hits {
            trapped.insert(f.id.clone());
        }
        let mut detectors: Vec<String> = hits.iter().map(|f| f.detector.clone()).collect();
        detectors.sort();
        detectors.dedup();
        traps.push(TrapResult { trap: t.name.clone(), findings: hits.len(), detectors });
    }
    let other: Vec<String> = strong
        .iter()
        .filter(|f| !trapped.contains(&f.id))
        .map(|f| format!("{} {} {:.0}: {}", f.detector, f.entity, f.score, f.summary))
        .collect();
    let mut inc_results = Vec::new();
    for sc in &truth.scenarios {
        let ids: BTreeSet<String> = findings
            .iter()
            .filter(|f| sc.stages.iter().any(|s| matches(f, s)))
            .map(|f| f.id.clone())
            .collect();
        let best = incidents
            .incidents
            .iter()
            .map(|i| (i.findings.iter().filter(|id| ids.contains(*id)).count(), i))
            .filter(|(n, _)| *n > 0)
            .max_by_key(|(n, _)| *n)
            .map(|(_, i)| i);
        inc_results.push(IncidentResult {
            scenario: sc.name.clone(),
            incident: best.map(|i| i.id.clone()),
            hosts_found: best
                .map(|i| {
                    i.entities
                        .iter()
                        .filter_map(|e| e.ip.map(|ip| ip.to_string()))
                        .filter(|ip| sc.hosts.contains(ip))
                        .collect()
                })
                .unwrap_or_default(),
            hosts_true: sc.hosts.clone(),
            model: best.map(|i| i.model.as_str().to_string()),
            model_true: sc.model.as_str().to_string(),
            dwell_s: best.map(|i| i.dwell_s),
            dwell_true_s: sc.dwell_s,
            time_to_exfil_s: best.and_then(|i| i.time_to_exfil_s),
            time_to_exfil_true_s: sc.time_to_exfil_s,
            stages_detected: (
                stages.iter().filter(|s| s.scenario == sc.name && s.detected).count(),
                stages.iter().filter(|s| s.scenario == sc.name).count(),
            ),
        });
    }
    let detected = stages.iter().filter(|s| s.detected).count();
    let flagged: BTreeSet<String> = findings
        .iter()
        .filter(|f| f.score >= ALERT)
        .filter_map(|f| f.entity.ip.map(|ip| ip.to_string()))
        .collect();
    Report {
        host_precision: (flagged.intersection(&all_hosts).count(), flagged.len()),
        stages_detected: (detected, stages.len()),
        hosts_detected: (found_hosts.intersection(&all_hosts).count(), all_hosts.len()),
        false_positives: strong.len(),
        stages,
        traps,
        incidents: inc_results,
        other_false_positives: other,
    }
}

fn dur(s: f64) -> String {
    if s >= 172_800.0 {
        format!("{:.1} d", s / 86_400.0)
    } else if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.0} min", s / 60.0)
    }
}

/// The report as a table.
pub fn table(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<16} {:<20} {:<20} {:<22} {:>6}  {:<9} DETECTORS",
        "SCENARIO", "STAGE", "LIFE CYCLE", "ATT&CK", "SCORE", "DETECTED"
    );
    for s in &r.stages {
        let _ = writeln!(
            o,
            "{:<16} {:<20} {:<20} {:<22} {:>6.1}  {:<9} {}",
            s.scenario,
            s.stage,
            s.lifecycle,
            s.attack.join(","),
            s.best_score,
            if s.detected { "yes" } else { "no" },
            if s.detectors.is_empty() { "-".to_string() } else { s.detectors.join(",") }
        );
    }
    let _ = writeln!(o, "\nstages detected: {}/{}; malicious hosts with a finding ≥ 50: {}/{} (recall); hosts with a finding ≥ 50 that are malicious: {}/{} (precision); findings ≥ 50 matching no stage: {}", r.stages_detected.0, r.stages_detected.1, r.hosts_detected.0, r.hosts_detected.1, r.host_precision.0, r.host_precision.1, r.false_positives);
    let fired: Vec<String> = r
        .traps
        .iter()
        .filter(|t| t.findings > 0)
        .map(|t| format!("{} ({} by {})", t.trap, t.findings, t.detectors.join(",")))
        .collect();
    let _ = writeln!(
        o,
        "benign traps fired (score ≥ 50): {}",
        if fired.is_empty() { "none".to_string() } else { fired.join("; ") }
    );
    for fp in r.other_false_positives.iter().take(10) {
        let _ = writeln!(o, "  false positive: {fp}");
    }
    for i in &r.incidents {
        match &i.incident {
            Some(id) => {
                let _ = writeln!(
                    o,
                    "incident for {}: {} — stages {}/{}, hosts {}/{}, model {} (true {}), dwell {} (true {}), to exfiltration {} (true {})",
                    i.scenario,
                    id,
                    i.stages_detected.0,
                    i.stages_detected.1,
                    i.hosts_found.len(),
                    i.hosts_true.len(),
                    i.model.as_deref().unwrap_or("-"),
                    i.model_true,
                    i.dwell_s.map(dur).unwrap_or_else(|| "-".into()),
                    dur(i.dwell_true_s),
                    i.time_to_exfil_s.map(dur).unwrap_or_else(|| "-".into()),
                    i.time_to_exfil_true_s.map(dur).unwrap_or_else(|| "-".into()),
                );
            }
            None => {
                let _ = writeln!(
                    o,
                    "incident for {}: none (true model {}, dwell {})",
                    i.scenario,
                    i.model_true,
                    dur(i.dwell_true_s)
                );
            }
        }
    }
    o
}
