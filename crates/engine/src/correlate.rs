//! First correlation: findings grouped into incidents by entity.
//!
//! A pure function from findings to incidents. This first version groups by the
//! internal host only (the full correlation — links through peers, lateral edges and
//! IP↔hostname mappings, patient zero, life-cycle scoring — is issue 7). A group
//! becomes an incident when it holds a finding worth an analyst's look (score ≥ 50) or
//! evidence from two or more life-cycle stages; a lone low-score finding stays a
//! finding.
//!
//! Tempo: dwell time is first to last evidence; time to exfiltration is first evidence
//! to the first exfiltration-stage finding. The operating model is called only when
//! the evidence supports it, against the public benchmarks: smash-and-grab (median
//! ~48 h from access to egress, median compromise ~10 days) when egress came within
//! 7 days of first evidence; low-and-slow (mean 35 days to egress, persistence up to
//! ~2 years) when egress came after 14 days or the evidence spans 30 days or more
//! without egress; otherwise undetermined, with the reason.

use std::collections::BTreeMap;

use dwell_model::{
    clamp_score, Entity, Finding, Incident, Severity, Stage, Technique, TempoModel, Timestamp,
};

/// Findings at or above this score are worth an analyst's look on their own.
pub const ALERT_SCORE: f64 = 50.0;
/// Seconds in a day.
const DAY: f64 = 86_400.0;

/// Benchmarks from the public reporting on the two operating models.
pub mod benchmarks {
    /// Smash-and-grab: median time from initial access to exfiltration (48 h).
    pub const SMASH_MEDIAN_TO_EXFIL_S: f64 = 48.0 * 3600.0;
    /// Smash-and-grab: median length of a compromise (~10 days).
    pub const SMASH_MEDIAN_DWELL_S: f64 = 10.0 * 86_400.0;
    /// Low-and-slow: mean time to exfiltration (35 days).
    pub const SLOW_MEAN_TO_EXFIL_S: f64 = 35.0 * 86_400.0;
    /// Low-and-slow: longest persistence reported (~2 years).
    pub const SLOW_MAX_DWELL_S: f64 = 730.0 * 86_400.0;
}

/// The operating model and its reasons, from the incident's timing.
pub fn classify_tempo(dwell_s: f64, time_to_exfil_s: Option<f64>) -> (TempoModel, Vec<String>) {
    let days = |s: f64| s / DAY;
    match time_to_exfil_s {
        Some(t) if t <= 7.0 * DAY => (
            TempoModel::SmashAndGrab,
            vec![format!(
                "exfiltration {:.1} h after the first evidence, within a week (smash-and-grab median: 48 h)",
                t / 3600.0
            )],
        ),
        Some(t) if t >= 14.0 * DAY => (
            TempoModel::LowAndSlow,
            vec![format!(
                "exfiltration {:.1} days after the first evidence (low-and-slow mean: 35 days)",
                days(t)
            )],
        ),
        Some(t) => (
            TempoModel::Undetermined,
            vec![format!(
                "exfiltration {:.1} days after the first evidence: between the smash-and-grab median (2 days) and the low-and-slow mean (35 days)",
                days(t)
            )],
        ),
        None if dwell_s >= 30.0 * DAY => (
            TempoModel::LowAndSlow,
            vec![format!(
                "evidence spans {:.1} days without exfiltration seen (low-and-slow persistence: months to ~2 years)",
                days(dwell_s)
            )],
        ),
        None => (
            TempoModel::Undetermined,
            vec![format!(
                "no exfiltration seen and evidence spans {}: too little to tell the operating model",
                human_duration(dwell_s)
            )],
        ),
    }
}

/// `3.2 h`, `4.5 days`, `12 min`.
pub fn human_duration(s: f64) -> String {
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

/// Groups findings into incidents, highest score first.
pub fn correlate(findings: &[Finding]) -> Vec<Incident> {
    let mut groups: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        groups.entry(f.entity.key()).or_default().push(f);
    }
    let mut out: Vec<Incident> = groups.into_values().filter_map(|g| incident(&g)).collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.first_seen.cmp(&b.first_seen)));
    out
}

fn incident(g: &[&Finding]) -> Option<Incident> {
    let max = g.iter().map(|f| f.score).fold(0.0, f64::max);
    let mut stages: Vec<Stage> = g.iter().map(|f| f.stage).collect();
    stages.sort();
    stages.dedup();
    if max < ALERT_SCORE && stages.len() < 2 {
        return None;
    }
    let first_seen = g.iter().map(|f| f.time).min().unwrap_or(Timestamp(0));
    let last_seen = g.iter().map(|f| f.end.max(f.time)).max().unwrap_or(first_seen);
    let mut attack: Vec<Technique> = g.iter().flat_map(|f| f.attack.iter().copied()).collect();
    attack.sort();
    attack.dedup();
    let dwell_s = last_seen.secs_since(first_seen).max(0.0);
    let time_to_exfil_s = g
        .iter()
        .filter(|f| f.stage == Stage::Exfiltration)
        .map(|f| f.time)
        .min()
        .map(|t| t.secs_since(first_seen).max(0.0));
    let (model, model_reasons) = classify_tempo(dwell_s, time_to_exfil_s);
    // Risk-based: the strongest finding, plus 5 per further stage seen.
    let score = clamp_score(max + 5.0 * (stages.len().saturating_sub(1)) as f64);
    let entity: Entity = merged_entity(g);
    let top = g.iter().max_by(|a, b| a.score.total_cmp(&b.score))?;
    let title = if g.len() == 1 {
        format!("{}: {}", entity, top.title)
    } else {
        format!(
            "{}: {} and {} more finding{}",
            entity,
            top.title,
            g.len() - 1,
            if g.len() == 2 { "" } else { "s" }
        )
    };
    let stage_names: Vec<&str> = stages.iter().map(|s| s.title()).collect();
    let summary = format!(
        "{} finding{} on {} from {} to {} ({}), stages: {}. Strongest: {}",
        g.len(),
        if g.len() == 1 { "" } else { "s" },
        entity,
        first_seen,
        last_seen,
        human_duration(dwell_s),
        stage_names.join(", "),
        top.summary
    );
    let mut ids: Vec<String> = g.iter().map(|f| f.id.clone()).collect();
    ids.sort();
    let id = format!(
        "inc-{:016x}",
        dwell_detect::ctx::stable_hash(&ids.iter().map(String::as_str).collect::<Vec<_>>())
    );
    let mut finding_ids: Vec<(Timestamp, String)> =
        g.iter().map(|f| (f.time, f.id.clone())).collect();
    finding_ids.sort();
    Some(Incident {
        id,
        title,
        summary,
        score,
        severity: Severity::from_score(score),
        entities: vec![entity],
        first_seen,
        last_seen,
        stages,
        attack,
        model,
        model_reasons,
        dwell_s,
        time_to_exfil_s,
        findings: finding_ids.into_iter().map(|(_, id)| id).collect(),
    })
}

/// The entity of a group, with the host name and role any finding knew.
fn merged_entity(g: &[&Finding]) -> Entity {
    let mut e = g.first().map(|f| f.entity.clone()).unwrap_or_default();
    for f in g {
        if e.host.is_none() {
            e.host.clone_from(&f.entity.host);
        }
        if e.role.is_none() {
            e.role.clone_from(&f.entity.role);
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &str, ip: &str, t: i64, stage: Stage, score: f64) -> Finding {
        Finding {
            id: id.into(),
            time: Timestamp::from_secs(t),
            end: Timestamp::from_secs(t + 10),
            detector: "x".into(),
            title: "T".into(),
            stage,
            attack: vec![Technique::must("T1071")],
            score,
            entity: Entity::ip(ip.parse().unwrap()),
            peer: None,
            summary: "s".into(),
            evidence: Default::default(),
            sources: vec![],
        }
    }

    #[test]
    fn lone_low_findings_stay_findings() {
        let f = vec![finding("a", "10.0.0.1", 0, Stage::CommandAndControl, 30.0)];
        assert!(correlate(&f).is_empty());
    }

    #[test]
    fn groups_by_entity_with_tempo() {
        let day = 86_400;
        let f = vec![
            finding("a", "10.0.0.1", 0, Stage::InitialAccess, 60.0),
            finding("b", "10.0.0.1", day, Stage::Exfiltration, 70.0),
            finding("c", "10.0.0.2", 0, Stage::CommandAndControl, 55.0),
            finding("d", "10.0.0.3", 0, Stage::CommandAndControl, 20.0),
            finding("e", "10.0.0.3", 40 * day, Stage::Discovery, 20.0),
        ];
        let inc = correlate(&f);
        assert_eq!(inc.len(), 3);
        let a = inc.iter().find(|i| i.findings.contains(&"a".to_string())).unwrap();
        assert_eq!(a.findings, ["a", "b"]);
        assert_eq!(a.model, TempoModel::SmashAndGrab);
        assert_eq!(a.time_to_exfil_s, Some(day as f64));
        assert_eq!(a.score, 75.0);
        assert_eq!(a.stages, [Stage::InitialAccess, Stage::Exfiltration]);
        let slow = inc.iter().find(|i| i.findings.contains(&"e".to_string())).unwrap();
        assert_eq!(slow.model, TempoModel::LowAndSlow);
        assert!(slow.time_to_exfil_s.is_none());
        assert_eq!(inc[0].id, correlate(&f)[0].id, "stable ids");
    }

    #[test]
    fn tempo_bands() {
        assert_eq!(classify_tempo(0.0, Some(3600.0)).0, TempoModel::SmashAndGrab);
        assert_eq!(classify_tempo(0.0, Some(10.0 * DAY)).0, TempoModel::Undetermined);
        assert_eq!(classify_tempo(0.0, Some(20.0 * DAY)).0, TempoModel::LowAndSlow);
        assert_eq!(classify_tempo(31.0 * DAY, None).0, TempoModel::LowAndSlow);
        assert_eq!(classify_tempo(3600.0, None).0, TempoModel::Undetermined);
    }
}
