//! `long_connection`: an internal host that stays connected to one external address for
//! hours.
//!
//! **Finds.** Command-and-control channels and tunnels that hold a session open
//! (reverse shells, SOCKS/ORB relays, RDP/SSH over the internet, a VPN an intruder set
//! up), the "low and slow" operator's persistent line out.
//!
//! **ATT&CK.** T1071 Application Layer Protocol (when the sensor named the protocol),
//! T1095 Non-Application Layer Protocol (when it did not); stage `command_and_control`.
//!
//! **Inputs.** `conn` events (Zeek `conn.log`, EVE `flow`).
//!
//! **Method.** RITA's long-connection analysis: per (internal host, external address)
//! pair, sum the durations of the pair's flows; a pair whose sum reaches a tier
//! threshold is reported with that tier's score, and the finding is restated as the sum
//! grows. The score is then weighed by the peer's prevalence (RITA's modifier: +15 %
//! when at most 2 % of internal hosts use it or only this host does, −15 % when half or
//! more of them do, with at least three hosts) and by the longest single flow: a sum
//! made of one unbroken session is the stronger signal, many short flows summing up is
//! what beacons and busy clients do (the `beaconing` detector's ground). Only pairs
//! whose flow the internal host originated are considered unless `include_inbound`:
//! long inbound sessions are usually the services the edge exists for. A DNS resolver's
//! flows to port 53 are not summed: forwarding the organisation's lookups upstream is
//! its job, and a million 40 ms forwards add up to hours without any session being held
//! (tunnels through the resolvers are `dns_tunnel`'s, judged per client).
//!
//! **Thresholds and why.** RITA's defaults: 1 h (base), 4 h, 8 h, 12 h of summed
//! connection time. Scores 15/30/40/48: a long connection alone is a lead, not an
//! alarm (push channels, VPNs and IoT cloud links hold sessions for days), so no tier
//! reaches the analyst's 50 line by itself; 12 hours to a peer that is rare in a real
//! organisation (+15 %) or in one unbroken session (+10 %) does (55, 53, 61 with both),
//! and a rare single 8-hour session reaches 50.6. Correlation with other findings on
//! the same host is what raises it further.
//! A pair idle for `idle_s` (24 h) is closed, reported if it reached a tier, and
//! forgotten, which bounds state to the pairs active in the last day (`max_pairs`).
//!
//! **Known false positives.** Persistent vendor channels (push notification services,
//! Microsoft/Apple/Google device management, IM and VoIP clients, remote support
//! sessions), VPN clients and long downloads. Their peers are usually common across
//! the organisation, which the prevalence modifier lowers; in captures of one or two
//! hosts it cannot, so expect these at the base tiers.
//!
//! **References.** RITA v5 `long_connection_score_thresholds`; Zeek `conn.log` duration.

use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Stage, Technique, Text, Timestamp};
use serde_json::json;
use tinyvec::TinyVec;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{prevalence_multiplier, Keyed, PrevalenceWeights, Sources, Tiers};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `long_connection`.
    pub struct Config {
        /// Summed connection time per pair that earns the base tier, in seconds (RITA: 1 h).
        pub base_s: f64 = 3600.0,
        /// Summed seconds for the low tier (RITA: 4 h).
        pub low_s: f64 = 14_400.0,
        /// Summed seconds for the medium tier (RITA: 8 h).
        pub medium_s: f64 = 28_800.0,
        /// Summed seconds for the high tier (RITA: 12 h).
        pub high_s: f64 = 43_200.0,
        /// Scores of the base, low, medium and high tiers (0-100).
        pub tier_scores: [f64; 4] = [15.0, 30.0, 40.0, 48.0],
        /// Relative score bonus when one flow alone holds at least half the sum (0.1 = +10 %).
        pub single_session_bonus: f64 = 0.1,
        /// Also consider flows an external host originated towards an internal one.
        pub include_inbound: bool = false,
        /// Seconds without a flow after which a pair is closed and forgotten.
        pub idle_s: f64 = 86_400.0,
        /// Most pairs tracked at once; beyond it a new pair displaces an idle one (closed as
        /// an idle pair is) and is counted.
        pub max_pairs: usize = 1_000_000,
    }
}

const TIER_NAMES: [&str; 4] = ["base", "low", "medium", "high"];

static ATTACK: &[Technique] = &[Technique::must("T1071"), Technique::must("T1095")];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "long_connection",
    title: "Long-lived connection to an external address",
    stage: Stage::CommandAndControl,
    attack: ATTACK,
    inputs: &[Kind::Conn],
    doc: "Sums connection time per (internal host, external address) pair and reports pairs \
          that stay connected for hours (RITA tiers 1/4/8/12 h), weighed by how many \
          internal hosts use the peer and by the longest single session.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn crate::Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    LongConnection::new(cfg).map(|d| Box::new(d) as Box<dyn Detector>)
}

/// Running totals of one pair.
#[derive(Debug, Default)]
struct Pair {
    first: Timestamp,
    last_end: Timestamp,
    total_s: f64,
    longest_s: f64,
    flows: u64,
    bytes_out: u64,
    bytes_in: u64,
    /// Ports and services (most pairs use one of each: kept inline).
    ports: TinyVec<[(u16, &'static str); 1]>,
    services: TinyVec<[Text; 1]>,
    sources: Sources,
    reported_tier: Option<usize>,
}

/// The detector.
pub struct LongConnection {
    cfg: Config,
    tiers: Tiers,
    pairs: Keyed<(IpAddr, IpAddr), Pair, false>,
}

impl LongConnection {
    /// Builds the detector; thresholds must ascend.
    pub fn new(cfg: Config) -> Result<Self, ConfigError> {
        let tiers =
            Tiers::new(&[cfg.base_s, cfg.low_s, cfg.medium_s, cfg.high_s], &cfg.tier_scores)
                .ok_or_else(|| ConfigError {
                    detector: META.id.into(),
                    reason: "base_s < low_s < medium_s < high_s must hold".into(),
                })?;
        Ok(LongConnection { pairs: Keyed::new(cfg.max_pairs), tiers, cfg })
    }
}

/// States (or restates) the finding of a pair; returns the tier reached.
fn report(
    tiers: &Tiers,
    cfg: &Config,
    (host, peer): (IpAddr, IpAddr),
    p: &Pair,
    cx: &mut Ctx<'_>,
) -> Option<usize> {
    let (tier, base_score) = tiers.tier(p.total_s)?;
    let b = cx.baselines();
    let prevalence = b.prevalence(peer);
    let mult = prevalence_multiplier(
        b.prevalence_share(peer),
        prevalence,
        b.internal_hosts(),
        PrevalenceWeights::default(),
    );
    let single = p.longest_s >= p.total_s / 2.0;
    let bonus = if single { 1.0 + cfg.single_session_bonus } else { 1.0 };
    let score = (base_score * mult * bonus).clamp(0.0, 100.0);
    let attack = if p.services.is_empty() { ATTACK[1] } else { ATTACK[0] };
    let ports: Vec<String> =
        p.ports.iter().map(|(port, proto)| format!("{port}/{proto}")).collect();
    let summary = format!(
        "{host} was connected to {peer} for {:.1} h in total ({} flow{}, longest {:.1} h) on {}; \
             {} internal host{} talk{} to this address",
        p.total_s / 3600.0,
        p.flows,
        if p.flows == 1 { "" } else { "s" },
        p.longest_s / 3600.0,
        ports.join(", "),
        crate::baselines::hosts_text(prevalence),
        if prevalence == 1 { "" } else { "s" },
        if prevalence == 1 { "s" } else { "" },
    );
    let mut d = Draft::new(cx.entity(host), p.first, score, summary);
    d.end = p.last_end;
    d.attack = Some(vec![attack]);
    d.peer =
        Some(Peer { ip: Some(peer), domain: None, port: p.ports.first().map(|(port, _)| *port) });
    d.sources = p.sources.to_vec();
    let ev = json!({
        "total_duration_s": (p.total_s * 1000.0).round() / 1000.0,
        "longest_s": (p.longest_s * 1000.0).round() / 1000.0,
        "flows": p.flows,
        "tier": TIER_NAMES.get(tier).copied().unwrap_or("high"),
        "bytes_out": p.bytes_out,
        "bytes_in": p.bytes_in,
        "ports": ports,
        "services": p.services.iter().map(|s| &**s).collect::<Vec<&str>>(),
        "peer_prevalence": prevalence,
        "internal_hosts_seen": b.internal_hosts(),
    });
    if let serde_json::Value::Object(m) = ev {
        d.evidence = m;
    }
    cx.emit(d);
    Some(tier)
}

impl Detector for LongConnection {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Conn(c) = &ev.body else { return };
        let Some(dur) = c.duration.filter(|d| *d > 0.0 && d.is_finite()) else { return };
        let f = &c.flow;
        let p = cx.profile();
        let (host, peer, outbound) = if p.is_internal(f.orig_h) && p.is_external(f.resp_h) {
            (f.orig_h, f.resp_h, true)
        } else if self.cfg.include_inbound && p.is_internal(f.resp_h) && p.is_external(f.orig_h) {
            (f.resp_h, f.orig_h, false)
        } else {
            return;
        };
        if f.resp_p == 53 && cx.baselines().is_resolver(host, p) {
            return;
        }
        let end = ev.ts().add_secs_f64(dur);
        let (tiers, cfg) = (&self.tiers, &self.cfg);
        // A pair displaced to make room is closed as an idle one is.
        let displaced = |k: (IpAddr, IpAddr), p: Pair| {
            cx.count("displaced.pairs", 1);
            if p.reported_tier.is_some() {
                report(tiers, cfg, k, &p, cx);
            }
        };
        let init = || Pair { first: ev.ts(), ..Pair::default() };
        let Some(pair) = self.pairs.upsert(&(host, peer), end, init, displaced) else {
            return;
        };
        pair.first = pair.first.min(ev.ts());
        pair.last_end = pair.last_end.max(end);
        pair.total_s += dur;
        pair.longest_s = pair.longest_s.max(dur);
        pair.flows += 1;
        let (out, inb) =
            if outbound { (c.orig_bytes, c.resp_bytes) } else { (c.resp_bytes, c.orig_bytes) };
        pair.bytes_out += out.unwrap_or(0);
        pair.bytes_in += inb.unwrap_or(0);
        let port = (f.resp_p, f.proto.as_str());
        if pair.ports.len() < 5 && !pair.ports.contains(&port) {
            pair.ports.push(port);
        }
        if let Some(s) = &c.service {
            if pair.services.len() < 5 && !pair.services.iter().any(|x| x == s) {
                pair.services.push(s.clone());
            }
        }
        // The first flows of the pair are the sources shown.
        pair.sources.push(ev.header.src);
        let reached = self.tiers.tier(pair.total_s).map(|(t, _)| t);
        if reached > pair.reported_tier {
            pair.reported_tier = report(&self.tiers, &self.cfg, (host, peer), pair, cx);
        }
    }

    fn on_watermark(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        let mut closed = Vec::new();
        self.pairs.evict_idle(now, self.cfg.idle_s, |k, v| closed.push((*k, v)));
        for ((host, peer), p) in closed {
            if p.reported_tier.is_some() {
                // Restate with the final prevalence.
                report(&self.tiers, &self.cfg, (host, peer), &p, cx);
            }
        }
    }

    fn on_finish(&mut self, cx: &mut Ctx<'_>) {
        let (tiers, cfg) = (&self.tiers, &self.cfg);
        self.pairs.for_each(|k, v| {
            if v.reported_tier.is_some() {
                report(tiers, cfg, *k, v, cx);
            }
        });
    }
}

#[cfg(test)]
mod tests;
