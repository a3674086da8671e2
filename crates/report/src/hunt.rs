//! Hunting windows: for each incident, how far back the hunt should look and what to
//! hunt for.
//!
//! The first evidence dwell saw is rarely the intruder's first step: detection lags
//! access. How far to look back depends on the operating model. A smash-and-grab
//! intrusion is fast (public median compromise ~10 days, median 48 h from access to
//! egress), so the hunt covers two weeks before the first evidence. A low-and-slow one
//! may have been inside for months (mean 35 days to egress, persistence up to ~2
//! years), so the hunt covers at least 90 days, and three times the dwell observed so
//! far when that is longer. Undetermined incidents get 30 days. The window always ends
//! at the last evidence.
//!
//! What to hunt: the incident's hosts (by address and name), the external peers its
//! findings name (addresses, domains), and its ATT&CK techniques.

use dwell_model::{Finding, Incident, TempoModel, Timestamp};

const DAY: f64 = 86_400.0;

/// The look-back window and the indicators of one incident.
#[derive(Clone, Debug, PartialEq)]
pub struct HuntWindow {
    /// Start of the window.
    pub from: Timestamp,
    /// End of the window (the last evidence).
    pub to: Timestamp,
    /// Days looked back before the first evidence.
    pub lookback_days: f64,
    /// Why that many.
    pub why: String,
    /// Hosts to hunt on (`ip (name)`).
    pub hosts: Vec<String>,
    /// External peers (addresses, domains) to hunt for.
    pub peers: Vec<String>,
    /// Techniques to hunt for.
    pub techniques: Vec<String>,
}

/// The hunting window of `inc`, given its findings.
pub fn window(inc: &Incident, findings: &[&Finding]) -> HuntWindow {
    let (days, why) = match inc.model {
        TempoModel::SmashAndGrab => (
            14.0,
            "smash-and-grab: the public median compromise lasts ~10 days, so two weeks before the first evidence covers the break-in".to_string(),
        ),
        TempoModel::LowAndSlow => {
            let d = (3.0 * inc.dwell_s / DAY).max(90.0);
            (
                d.ceil(),
                format!(
                    "low-and-slow: operators stay for months (mean 35 days to egress, up to ~2 years); at least 90 days and three times the {:.0} days seen",
                    inc.dwell_s / DAY
                ),
            )
        }
        TempoModel::Undetermined => (
            30.0,
            "tempo undetermined: a month before the first evidence".to_string(),
        ),
    };
    let from = Timestamp(inc.first_seen.0 - (days * DAY * 1e6) as i64);
    let hosts: Vec<String> = inc.entities.iter().map(|e| e.to_string()).collect();
    let mut peers: Vec<String> = Vec::new();
    for f in findings {
        let Some(p) = &f.peer else { continue };
        let internal = p.ip.is_some_and(|ip| inc.entities.iter().any(|e| e.ip == Some(ip)));
        if internal {
            continue;
        }
        for v in [p.domain.clone(), p.ip.map(|i| i.to_string())].into_iter().flatten() {
            if !peers.contains(&v) {
                peers.push(v);
            }
        }
    }
    peers.truncate(20);
    HuntWindow {
        from,
        to: inc.last_seen,
        lookback_days: days,
        why,
        hosts,
        peers,
        techniques: inc.attack.iter().map(|t| t.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwell_model::{Entity, Incident, Severity};

    fn inc(model: TempoModel, dwell_days: f64) -> Incident {
        Incident {
            id: "inc-1".into(),
            title: String::new(),
            summary: String::new(),
            score: 90.0,
            severity: Severity::from_score(90.0),
            entities: vec![Entity::ip("10.0.0.5".parse().unwrap())],
            first_seen: Timestamp(1_000_000_000_000_000),
            last_seen: Timestamp(1_000_000_000_000_000 + (dwell_days * DAY * 1e6) as i64),
            stages: Vec::new(),
            attack: Vec::new(),
            model,
            model_reasons: Vec::new(),
            dwell_s: dwell_days * DAY,
            time_to_exfil_s: None,
            findings: Vec::new(),
        }
    }

    #[test]
    fn look_back_follows_the_operating_model() {
        assert_eq!(window(&inc(TempoModel::SmashAndGrab, 2.0), &[]).lookback_days, 14.0);
        assert_eq!(window(&inc(TempoModel::LowAndSlow, 5.0), &[]).lookback_days, 90.0);
        assert_eq!(window(&inc(TempoModel::LowAndSlow, 60.0), &[]).lookback_days, 180.0);
        let w = window(&inc(TempoModel::Undetermined, 1.0), &[]);
        assert_eq!(w.lookback_days, 30.0);
        assert_eq!(w.to.0 - w.from.0, ((30.0 + 1.0) * DAY * 1e6) as i64);
        assert_eq!(w.hosts, vec!["10.0.0.5".to_string()]);
    }
}
