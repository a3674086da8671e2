//! First correlation: findings grouped into incidents.
//!
//! A pure function from findings to incidents. Findings join when they name the same
//! internal host, or when a lateral-movement or credential-access finding worth a look
//! (score ≥ 50) names another internal host as its peer — the edge an intruder walked
//! (union–find over hosts). The full correlation (IP↔hostname links, time horizons,
//! patient-zero inference, life-cycle scoring) is issue 7. A command-and-control
//! finding worth a look whose peer is another internal host with findings (an internal
//! relay) joins the two as well; DNS through a resolver does not. A group becomes an incident
//! when it holds a finding worth an analyst's look (score ≥ 50) or evidence from two or
//! more life-cycle stages; a lone low-score finding stays a finding.
//!
//! **Tempo.** Dwell time is first to last evidence; time to exfiltration is first
//! evidence to the first exfiltration-stage finding. The operating model is called from
//! the incident's shape, against the public benchmarks (smash-and-grab: median ~48 h
//! from access to egress, median compromise ~10 days; low-and-slow: mean 35 days to
//! egress, persistence up to ~2 years). Signals for the fast model: egress within a week
//! of first evidence, egress in one bulk burst, beacons every few minutes, lateral
//! movement within a day of first evidence. For the slow one: egress two weeks or more
//! after first evidence, evidence spanning 30 days or more, egress spread over days in
//! small pieces, beacons hours apart, DNS tunnelling. Decisive timing (two weeks to
//! egress, 30 days of dwell) settles it; otherwise the side with more signals wins, and
//! a tie or no signal is `undetermined`. Every signal found is listed in the reasons.

use std::collections::BTreeMap;
use std::net::IpAddr;

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

/// The operating model and its reasons, from timing alone (see [`classify`] for the
/// shape-aware call).
pub fn classify_tempo(dwell_s: f64, time_to_exfil_s: Option<f64>) -> (TempoModel, Vec<String>) {
    classify(dwell_s, time_to_exfil_s, &[], Timestamp(0))
}

/// Signals of the operating model found in the findings of an incident.
fn signals(g: &[&Finding], first: Timestamp) -> (Vec<String>, Vec<String>) {
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    let num = |f: &Finding, k: &str| f.evidence.get(k).and_then(serde_json::Value::as_f64);
    for f in g {
        match f.detector.as_str() {
            "beaconing" => {
                if let Some(p) = num(f, "period_s") {
                    if p <= 600.0 {
                        fast.push(format!(
                            "beacon every {}: a hands-on operator's cadence",
                            human_duration(p)
                        ));
                    } else if p >= 3600.0 {
                        slow.push(format!(
                            "beacon every {}: a patient implant's cadence",
                            human_duration(p)
                        ));
                    }
                }
            }
            "data_egress" => {
                let peak = num(f, "peak_day_bytes").unwrap_or(0.0);
                let days = num(f, "active_days").unwrap_or(0.0);
                if peak >= 5e8 && days <= 2.0 {
                    fast.push(format!("egress in one burst ({:.1} GB in a day)", peak / 1e9));
                } else if days >= 2.0 && peak < 0.75 * num(f, "bytes_out").unwrap_or(0.0) {
                    // No single day carries most of it: the data left a piece at a time.
                    slow.push(format!(
                        "egress spread over {days:.0} days, at most {:.0} MB a day",
                        peak / 1e6
                    ));
                }
            }
            "dns_tunnel" => slow.push("data tunnelled through DNS at a low rate".into()),
            // Movement that is itself the first evidence says nothing about the pace.
            "lateral_movement"
                if f.score >= ALERT_SCORE && f.time > first && f.time.secs_since(first) <= DAY =>
            {
                fast.push(format!(
                    "lateral movement {} after the first evidence",
                    human_duration(f.time.secs_since(first))
                ));
            }
            _ => {}
        }
    }
    fast.sort();
    fast.dedup();
    slow.sort();
    slow.dedup();
    (fast, slow)
}

/// The operating model and its reasons, from timing and the shape signals.
fn classify(
    dwell_s: f64,
    time_to_exfil_s: Option<f64>,
    shape: &[&Finding],
    first: Timestamp,
) -> (TempoModel, Vec<String>) {
    let (mut fast, slow) = signals(shape, first);
    match time_to_exfil_s {
        Some(t) if t >= 14.0 * DAY => {
            let mut r = vec![format!(
                "exfiltration {:.1} days after the first evidence (low-and-slow mean: 35 days)",
                t / DAY
            )];
            r.extend(slow);
            return (TempoModel::LowAndSlow, r);
        }
        // Egress that is itself the first evidence says nothing about the pace.
        Some(t) if t > 0.0 && t <= 7.0 * DAY => fast.push(format!(
            "exfiltration {:.1} h after the first evidence (smash-and-grab median: 48 h)",
            t / 3600.0
        )),
        _ => {}
    }
    if time_to_exfil_s.is_none() && dwell_s >= 30.0 * DAY {
        let mut r = vec![format!(
            "evidence spans {:.1} days without exfiltration seen (low-and-slow persistence: months to ~2 years)",
            dwell_s / DAY
        )];
        r.extend(slow);
        return (TempoModel::LowAndSlow, r);
    }
    let model = match fast.len().cmp(&slow.len()) {
        std::cmp::Ordering::Greater => TempoModel::SmashAndGrab,
        std::cmp::Ordering::Less => TempoModel::LowAndSlow,
        std::cmp::Ordering::Equal => TempoModel::Undetermined,
    };
    let mut reasons: Vec<String> = Vec::new();
    match model {
        TempoModel::SmashAndGrab => {
            reasons.extend(fast);
            reasons.extend(slow.into_iter().map(|s| format!("but: {s}")));
        }
        TempoModel::LowAndSlow => {
            reasons.extend(slow);
            reasons.extend(fast.into_iter().map(|s| format!("but: {s}")));
        }
        TempoModel::Undetermined => {
            if fast.is_empty() {
                reasons.push(format!(
                    "no exfiltration and no tempo signal seen; evidence spans {}: too little to tell the operating model",
                    human_duration(dwell_s)
                ));
            } else {
                reasons.push("as many signs of a fast operation as of a slow one".into());
                reasons.extend(fast);
                reasons.extend(slow);
            }
        }
    }
    (model, reasons)
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

/// Groups findings into incidents, highest score first (no sector priority).
pub fn correlate(findings: &[Finding]) -> Vec<Incident> {
    correlate_with(findings, DEFAULT_HORIZON_S, &Scoring::default())
}

/// Sectors the public reporting on state-aligned (Chinese-nexus) intrusions names as
/// targets — the critical-infrastructure sectors of the Volt Typhoon and Salt Typhoon
/// advisories (communications, energy, transportation, water) and the government,
/// defence, maritime and semiconductor targets of the others. Matched as words of the
/// profile's `sector` (`water and wastewater` is `water`).
pub const PRIORITY_SECTORS: &[&str] = &[
    "communications",
    "telecommunications",
    "telecom",
    "energy",
    "electricity",
    "utilities",
    "transportation",
    "water",
    "wastewater",
    "government",
    "defense",
    "defence",
    "maritime",
    "semiconductors",
];

/// What the incident score weighs besides the findings themselves.
#[derive(Clone, Debug, Default)]
pub struct Scoring {
    /// The org profile's sector, when it is one of [`PRIORITY_SECTORS`].
    pub priority_sector: Option<String>,
    /// Roles of internal hosts findings name only as peers (a DC reached by lateral
    /// movement), from the baselines; hosts with findings carry their own role.
    pub peer_roles: BTreeMap<IpAddr, String>,
}

impl Scoring {
    /// The scoring for an org profile's `sector`.
    pub fn for_sector(sector: Option<&str>) -> Scoring {
        let priority_sector = sector
            .filter(|s| {
                s.to_ascii_lowercase()
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| PRIORITY_SECTORS.contains(&w))
            })
            .map(str::to_string);
        Scoring { priority_sector, peer_roles: BTreeMap::new() }
    }
}

/// Score added for the most critical role among an incident's hosts: a domain
/// controller holds the keys to every account; an internet-facing host is the way in
/// of most intrusions (63 % in the public reporting); servers, resolvers and admin jump
/// hosts hold data or reach many hosts. Workstations add nothing.
pub fn role_weight(role: &str) -> f64 {
    match role {
        "dc" => 10.0,
        "edge" | "server" | "resolver" | "admin" => 5.0,
        _ => 0.0,
    }
}

/// Score added per life-cycle stage or ATT&CK tactic beyond the first (risk-based
/// alerting: evidence across the kill chain is worth more than more of one kind).
pub const PER_TACTIC: f64 = 5.0;
/// Score added in a priority sector.
pub const SECTOR_WEIGHT: f64 = 5.0;

/// How far apart two findings of one group may be and still belong to one incident:
/// long enough for a low-and-slow operation (the public mean is 35 days to egress).
pub const DEFAULT_HORIZON_S: f64 = 90.0 * DAY;

/// [`correlate`] with a time horizon: a group whose findings, in time order, leave a gap
/// longer than `horizon_s` is split there (the same host compromised twice, a year
/// apart, is two incidents).
pub fn correlate_within(findings: &[Finding], horizon_s: f64) -> Vec<Incident> {
    correlate_with(findings, horizon_s, &Scoring::default())
}

/// [`correlate_within`] with the org profile's weights for the incident score.
pub fn correlate_with(findings: &[Finding], horizon_s: f64, scoring: &Scoring) -> Vec<Incident> {
    // Union–find over entity keys.
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for f in findings {
        let n = index.len();
        index.entry(f.entity.key()).or_insert(n);
    }
    let mut parent: Vec<usize> = (0..index.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for f in findings {
        if !is_edge_finding(f) && !is_relay_finding(f) {
            continue;
        }
        let Some(peer) = f.peer.as_ref().and_then(|p| p.ip).map(|ip| ip.to_string()) else {
            continue;
        };
        if let (Some(&a), Some(&b)) = (index.get(&f.entity.key()), index.get(&peer)) {
            let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut groups: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if let Some(&i) = index.get(&f.entity.key()) {
            let r = root(&mut parent, i);
            groups.entry(r).or_default().push(f);
        }
    }
    let mut out: Vec<Incident> = Vec::new();
    for mut g in groups.into_values() {
        g.sort_by_key(|f| f.time);
        let mut start = 0;
        for i in 1..=g.len() {
            let split = i == g.len() || {
                let prev_end =
                    g[start..i].iter().map(|f| f.end.max(f.time)).max().unwrap_or(g[i - 1].time);
                g[i].time.secs_since(prev_end) > horizon_s
            };
            if split {
                if let Some(inc) = incident(&g[start..i], scoring) {
                    out.push(inc);
                }
                start = i;
            }
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.first_seen.cmp(&b.first_seen)));
    out
}

fn incident(g: &[&Finding], scoring: &Scoring) -> Option<Incident> {
    let max = g.iter().map(|f| f.score).fold(0.0, f64::max);
    let mut stages: Vec<Stage> = g.iter().map(|f| f.stage).collect();
    stages.sort();
    stages.dedup();
    // Without an alert-level finding, weak findings make an incident only when they
    // span two life-cycle stages and add up to twice the alert score (risk-based
    // alerting): two faint signals of routine traffic on a busy server are not one.
    let total: f64 = g.iter().map(|f| f.score).sum();
    if max < ALERT_SCORE && (stages.len() < 2 || total < 2.0 * ALERT_SCORE) {
        return None;
    }
    // The timeline is anchored on alert-level evidence: a weak finding on the same host
    // before the first alert (an administrator's routine remoting, a long backup
    // connection) is context, not the start of the intrusion. Groups of weak findings
    // only (multi-stage, below the alert score) use all of them.
    let anchors: Vec<&Finding> = if max >= ALERT_SCORE {
        g.iter().copied().filter(|f| f.score >= ALERT_SCORE).collect()
    } else {
        g.to_vec()
    };
    let first_seen = anchors.iter().map(|f| f.time).min().unwrap_or(Timestamp(0));
    let last_seen = anchors.iter().map(|f| f.end.max(f.time)).max().unwrap_or(first_seen);
    let mut attack: Vec<Technique> = g.iter().flat_map(|f| f.attack.iter().copied()).collect();
    attack.sort();
    attack.dedup();
    let dwell_s = last_seen.secs_since(first_seen).max(0.0);
    let time_to_exfil_s = anchors
        .iter()
        .filter(|f| f.stage == Stage::Exfiltration)
        .map(|f| f.time)
        .min()
        .map(|t| t.secs_since(first_seen).max(0.0));
    let (model, model_reasons) = classify(dwell_s, time_to_exfil_s, g, first_seen);
    let mut entities = entities(g);
    for e in entities.iter_mut().filter(|e| e.role.is_none()) {
        e.role = e.ip.and_then(|ip| scoring.peer_roles.get(&ip)).cloned();
    }
    let (score, score_reasons) = score(max, &stages, &attack, &entities, scoring);
    let lead = entities.first().cloned().unwrap_or_default();
    let more_hosts = match entities.len() {
        0 | 1 => String::new(),
        2 => " (+1 host)".to_string(),
        n => format!(" (+{} hosts)", n - 1),
    };
    let top = g.iter().max_by(|a, b| a.score.total_cmp(&b.score))?;
    let title = if g.len() == 1 {
        format!("{lead}{more_hosts}: {}", top.title)
    } else {
        format!(
            "{lead}{more_hosts}: {} and {} more finding{}",
            top.title,
            g.len() - 1,
            if g.len() == 2 { "" } else { "s" }
        )
    };
    let stage_names: Vec<&str> = stages.iter().map(|s| s.title()).collect();
    let summary = format!(
        "{} finding{} on {} from {} to {} ({}), stages: {}. Strongest: {}. Score {}: {}.",
        g.len(),
        if g.len() == 1 { "" } else { "s" },
        entities.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", "),
        first_seen,
        last_seen,
        human_duration(dwell_s),
        stage_names.join(", "),
        top.summary.trim_end_matches('.'),
        score.round(),
        score_reasons.join(", ")
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
        entities,
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

/// The entities of a group, first evidence first (patient zero leads), each with the
/// host name and role any of its findings knew.
/// The incident score and how it was reached: the strongest finding, plus
/// [`PER_TACTIC`] for each life-cycle stage or ATT&CK tactic (of the techniques named)
/// beyond the first, plus the weight of the most critical host role
/// ([`role_weight`]), plus [`SECTOR_WEIGHT`] in a priority sector; at most 100.
fn score(
    max: f64,
    stages: &[Stage],
    attack: &[Technique],
    entities: &[Entity],
    scoring: &Scoring,
) -> (f64, Vec<String>) {
    let mut reasons = vec![format!("strongest finding {}", max.round())];
    let mut tactics: Vec<Stage> = stages.to_vec();
    tactics.extend(attack.iter().flat_map(|t| t.tactics().iter().copied()));
    tactics.sort();
    tactics.dedup();
    let breadth = tactics.len().saturating_sub(1) as f64 * PER_TACTIC;
    if breadth > 0.0 {
        let names: Vec<&str> = tactics.iter().map(|t| t.as_str()).collect();
        reasons.push(format!("+{breadth} for {} tactics ({})", tactics.len(), names.join(", ")));
    }
    let role = entities
        .iter()
        .filter_map(|e| e.role.as_deref())
        .map(|r| (role_weight(r), r))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(w, _)| *w > 0.0);
    if let Some((w, r)) = role {
        reasons.push(format!("+{w} for {} involved", role_name(r)));
    }
    let sector = match &scoring.priority_sector {
        Some(s) => {
            reasons.push(format!("+{SECTOR_WEIGHT} for a priority sector ({s})"));
            SECTOR_WEIGHT
        }
        None => 0.0,
    };
    let total = max + breadth + role.map_or(0.0, |(w, _)| w) + sector;
    (clamp_score(total), reasons)
}

/// A role with its article, for the score's reasons.
fn role_name(role: &str) -> String {
    match role {
        "dc" => "a domain controller".into(),
        "edge" => "an internet-facing host".into(),
        "resolver" => "a DNS resolver".into(),
        "admin" => "an admin jump host".into(),
        other => format!("a {other}"),
    }
}

fn entities(g: &[&Finding]) -> Vec<Entity> {
    // Ordered by first alert-level evidence (patient zero first); hosts with weak
    // findings only (context: routine admin work, a backup server's long upload) after.
    let mut order: Vec<((bool, Timestamp), String)> = Vec::new();
    let mut by_key: BTreeMap<String, Entity> = BTreeMap::new();
    for f in g {
        let k = f.entity.key();
        match by_key.get_mut(&k) {
            Some(e) => {
                if e.host.is_none() {
                    e.host.clone_from(&f.entity.host);
                }
                if e.role.is_none() {
                    e.role.clone_from(&f.entity.role);
                }
                if let Some(o) = order.iter_mut().find(|(_, key)| *key == k) {
                    o.0 = o.0.min((f.score < ALERT_SCORE, f.time));
                }
            }
            None => {
                by_key.insert(k.clone(), f.entity.clone());
                order.push(((f.score < ALERT_SCORE, f.time), k));
            }
        }
    }
    // Hosts the intruder reached (the peers of lateral-movement and credential-access
    // findings worth a look) are involved even when nothing of their own was seen.
    for f in g {
        if !is_edge_finding(f) {
            continue;
        }
        let Some(ip) = f.peer.as_ref().and_then(|p| p.ip) else { continue };
        let e = Entity { ip: Some(ip), ..Entity::default() };
        let k = e.key();
        match order.iter_mut().find(|(_, key)| *key == k) {
            Some(o) => o.0 = o.0.min((false, f.time)),
            None => {
                by_key.insert(k.clone(), e);
                order.push(((false, f.time), k));
            }
        }
    }
    // Stable: at equal times a host with findings of its own precedes one it reached.
    order.sort_by_key(|(t, _)| *t);
    order.into_iter().filter_map(|(_, k)| by_key.remove(&k)).collect()
}

/// A lateral-movement or credential-access finding worth a look: an edge between hosts.
fn is_edge_finding(f: &Finding) -> bool {
    matches!(f.stage, Stage::LateralMovement | Stage::CredentialAccess) && f.score >= ALERT_SCORE
}

/// A command-and-control finding worth a look whose peer may be an internal relay (an
/// implant talking to another compromised host that forwards its traffic). It joins
/// the two hosts only when the peer has findings of its own; queries through a DNS
/// resolver (port 53) are recursion, not a relay, and never join.
fn is_relay_finding(f: &Finding) -> bool {
    f.stage == Stage::CommandAndControl
        && f.score >= ALERT_SCORE
        && f.peer.as_ref().is_some_and(|p| p.port != Some(53))
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
    fn score_weighs_tactics_roles_and_sector() {
        let mut a = finding("a", "10.0.0.1", 0, Stage::CommandAndControl, 60.0);
        let plain = correlate(&[a.clone()]);
        assert_eq!(plain[0].score, 60.0, "one tactic, no role, no sector");
        // A technique of another tactic widens the incident.
        a.attack.push(Technique::must("T1048.003"));
        assert_eq!(correlate(&[a.clone()])[0].score, 65.0);
        // A domain controller weighs more than a server, a workstation nothing.
        for (role, want) in [("dc", 75.0), ("server", 70.0), ("edge", 70.0), ("workstation", 65.0)]
        {
            let mut x = a.clone();
            x.entity.role = Some(role.into());
            assert_eq!(correlate(&[x])[0].score, want, "{role}");
        }
        // A host reached only as a peer brings its role from the baselines.
        let mut lat = finding("l", "10.0.0.1", 0, Stage::LateralMovement, 60.0);
        lat.attack = vec![Technique::must("T1021.002")];
        lat.peer = Some(dwell_model::Peer { ip: "10.0.0.9".parse().ok(), ..Default::default() });
        let mut scoring = Scoring::default();
        assert_eq!(correlate_with(&[lat.clone()], DEFAULT_HORIZON_S, &scoring)[0].score, 60.0);
        scoring.peer_roles.insert("10.0.0.9".parse().unwrap(), "dc".into());
        let inc = correlate_with(&[lat.clone()], DEFAULT_HORIZON_S, &scoring);
        assert_eq!(inc[0].score, 70.0);
        assert!(
            inc[0].summary.contains("+10 for a domain controller involved"),
            "{}",
            inc[0].summary
        );
        // Sector priority: only the sectors the reporting names, matched as words.
        for (sector, prio) in [
            ("Water and Wastewater", true),
            ("energy", true),
            ("telecommunications", true),
            ("retail", false),
            ("powerwater", false),
        ] {
            let s = Scoring::for_sector(Some(sector));
            assert_eq!(s.priority_sector.is_some(), prio, "{sector}");
        }
        let s = Scoring::for_sector(Some("transportation"));
        assert_eq!(correlate_with(&[lat], DEFAULT_HORIZON_S, &s)[0].score, 65.0);
        // Weak findings stay below the incident bar whatever the weights.
        let mut weak = finding("w", "10.0.0.1", 0, Stage::CommandAndControl, 30.0);
        weak.entity.role = Some("dc".into());
        assert!(correlate_with(&[weak], DEFAULT_HORIZON_S, &s).is_empty());
    }

    #[test]
    fn internal_c2_relays_join_but_resolvers_do_not() {
        let mut a = finding("a", "10.0.0.1", 0, Stage::CommandAndControl, 70.0);
        a.peer = Some(dwell_model::Peer {
            ip: "10.0.0.2".parse().ok(),
            port: Some(8443),
            ..Default::default()
        });
        let b = finding("b", "10.0.0.2", 100, Stage::CommandAndControl, 80.0);
        let inc = correlate(&[a.clone(), b.clone()]);
        assert_eq!(inc.len(), 1, "the implant and its relay are one incident");
        assert_eq!(inc[0].entities.len(), 2);
        // The same finding to a relay with no findings of its own: nothing to join.
        assert_eq!(correlate(&[a.clone()]).len(), 1);
        assert_eq!(correlate(&[a.clone()])[0].entities.len(), 1);
        // DNS tunnelling through the corporate resolver does not tie the tunnelling host
        // to whatever else happens on the resolver.
        let mut t = a.clone();
        t.peer = Some(dwell_model::Peer {
            ip: "10.0.0.2".parse().ok(),
            port: Some(53),
            ..Default::default()
        });
        assert_eq!(correlate(&[t, b]).len(), 2);
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
            finding("d", "10.0.0.3", 0, Stage::CommandAndControl, 45.0),
            finding("e", "10.0.0.3", 40 * day, Stage::Discovery, 45.0),
            finding("f", "10.0.0.3", 20 * day, Stage::Persistence, 15.0),
        ];
        let inc = correlate(&f);
        assert_eq!(inc.len(), 3);
        // The same weak findings with less weight: no incident.
        let mut weak = f.clone();
        for x in weak.iter_mut().filter(|x| x.entity.ip == Some("10.0.0.3".parse().unwrap())) {
            x.score = 20.0;
        }
        assert_eq!(correlate(&weak).len(), 2);
        let a = inc.iter().find(|i| i.findings.contains(&"a".to_string())).unwrap();
        assert_eq!(a.findings, ["a", "b"]);
        assert_eq!(a.model, TempoModel::SmashAndGrab);
        assert_eq!(a.time_to_exfil_s, Some(day as f64));
        // 70, +10 for three tactics: the two stages and command and control, the tactic
        // of the T1071 every finding of this helper names.
        assert_eq!(a.score, 80.0);
        assert_eq!(a.stages, [Stage::InitialAccess, Stage::Exfiltration]);
        let slow = inc.iter().find(|i| i.findings.contains(&"e".to_string())).unwrap();
        assert_eq!(slow.model, TempoModel::LowAndSlow);
        assert!(slow.time_to_exfil_s.is_none());
        assert_eq!(inc[0].id, correlate(&f)[0].id, "stable ids");
    }

    #[test]
    fn lateral_edges_join_hosts() {
        let mut a = finding("a", "10.0.0.1", 0, Stage::LateralMovement, 70.0);
        a.peer = Some(dwell_model::Peer {
            ip: Some("10.0.0.2".parse().unwrap()),
            domain: None,
            port: Some(445),
        });
        let b = finding("b", "10.0.0.2", 100, Stage::CommandAndControl, 80.0);
        let c = finding("c", "10.0.0.3", 100, Stage::CommandAndControl, 80.0);
        // DCSync against a DC that has no finding of its own: it is involved all the same.
        let mut d = finding("d", "10.0.0.1", 50, Stage::CredentialAccess, 85.0);
        d.peer = Some(dwell_model::Peer {
            ip: Some("10.0.0.10".parse().unwrap()),
            domain: None,
            port: None,
        });
        let inc = correlate(&[a, b, c, d]);
        assert_eq!(inc.len(), 2);
        let joined = inc.iter().find(|i| i.findings.len() == 3).unwrap();
        let ips: Vec<String> = joined.entities.iter().map(|e| e.ip.unwrap().to_string()).collect();
        assert_eq!(
            ips,
            ["10.0.0.1", "10.0.0.2", "10.0.0.10"],
            "patient zero first, then as reached"
        );
        assert!(joined.title.contains("(+2 hosts)"), "{}", joined.title);
    }

    #[test]
    fn shape_decides_the_model() {
        let mut beacon = finding("b", "10.0.0.1", 0, Stage::CommandAndControl, 70.0);
        beacon.detector = "beaconing".into();
        beacon.evidence.insert("period_s".into(), serde_json::json!(14_400.0));
        let mut egress = finding("e", "10.0.0.1", 2 * 86_400, Stage::Exfiltration, 70.0);
        egress.detector = "data_egress".into();
        egress.evidence.insert("active_days".into(), serde_json::json!(3));
        egress.evidence.insert("peak_day_bytes".into(), serde_json::json!(40_000_000));
        egress.evidence.insert("bytes_out".into(), serde_json::json!(100_000_000));
        let mut tunnel = finding("t", "10.0.0.1", 3600, Stage::CommandAndControl, 70.0);
        tunnel.detector = "dns_tunnel".into();
        // Egress two days in counts for the fast model; three slow signals outweigh it.
        let inc = correlate(&[beacon.clone(), egress.clone(), tunnel]);
        assert_eq!(inc[0].model, TempoModel::LowAndSlow, "{:?}", inc[0].model_reasons);
        assert!(
            inc[0].model_reasons.iter().any(|r| r.contains("spread over 3 days")),
            "{:?}",
            inc[0].model_reasons
        );
        assert!(
            inc[0].model_reasons.iter().any(|r| r.starts_with("but: exfiltration")),
            "{:?}",
            inc[0].model_reasons
        );

        // The same egress in one day's burst, after a fast beacon: smash and grab.
        let mut burst = egress;
        burst.evidence.insert("active_days".into(), serde_json::json!(1));
        burst.evidence.insert("peak_day_bytes".into(), serde_json::json!(4_000_000_000_u64));
        burst.evidence.insert("bytes_out".into(), serde_json::json!(4_000_000_000_u64));
        beacon.evidence.insert("period_s".into(), serde_json::json!(60.0));
        let inc = correlate(&[beacon, burst]);
        assert_eq!(inc[0].model, TempoModel::SmashAndGrab, "{:?}", inc[0].model_reasons);

        // Egress as the first evidence says nothing about pace.
        let mut alone = finding("x", "10.0.0.9", 0, Stage::Exfiltration, 60.0);
        alone.detector = "data_egress".into();
        assert_eq!(correlate(&[alone])[0].model, TempoModel::Undetermined);
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
