//! `beaconing`: an internal host that checks in with an external destination on a
//! schedule.
//!
//! **Finds.** Implants calling home: fixed or jittered intervals (seconds to a day and
//! more), gaps where the implant slept or a cycle was skipped, constant-ish request
//! sizes. Both tempos the reports describe: a smash-and-grab operator's minute-by-minute
//! beacon and a low-and-slow implant that calls every few hours.
//!
//! **ATT&CK.** T1071.001 Web Protocols (HTTP/TLS), T1071.004 DNS (port 53), T1573
//! Encrypted Channel; stage `command_and_control`.
//!
//! **Inputs.** `conn` events (Zeek `conn.log`, EVE `flow`); the destination's name
//! comes from the baselines (DNS answers, TLS SNI, HTTP `Host`).
//!
//! **Method.** Per (internal host, external address, port) pair, the start times of the
//! last `history` check-ins (connections closer than `merge_s` are one check-in) and
//! their upload sizes. Every hour of event time, and at the end, pairs with at least
//! `min_connections` check-ins are judged on three properties:
//! * *regularity* of the intervals: their median is the period, their median absolute
//!   deviation relative to it the jitter (±50 % uniform jitter gives 0.25; Poisson
//!   arrivals, i.e. people, give ~0.7); regularity falls linearly to zero at
//!   `max_interval_mad`. Median and MAD are robust to the gaps of sleeping implants;
//! * *persistence*: check-ins seen over the check-ins a steady beacon would have made
//!   over the same span (skipped cycles lower it a little, bursts of activity a lot);
//! * *size consistency* of the uploads (relative MAD, zero at `max_size_mad`).
//!
//! A schedule whose median upload exceeds `max_checkin_bytes` is a bulk job — the
//! nightly backup — not a check-in: C2 check-ins carry bytes to kilobytes, and large
//! scheduled transfers are `data_egress`'s to judge.
//!
//! The beacon score is regularity × (0.6 + 0.25·persistence + 0.15·size consistency),
//! scaled by confidence in the count (full from 20 check-ins): regularity is the beacon,
//! the other two only confirm it (people are persistent too — a day of browsing has no
//! long gaps). It is then weighed by rarity, which
//! is what keeps the periodic traffic every network is full of quiet: a destination that
//! `common_share` of the organisation's hosts (and at least `common_hosts` of them)
//! reach is shared infrastructure — update checks, antivirus, SaaS keep-alives — and
//! scores × `common_weight`; a destination only this host reaches, in an organisation of
//! ten hosts or more, scores +15 %. The same down-weighting applies to the registered
//! domains of the big vendors whose agents call home by design (Microsoft, Apple,
//! Google, antivirus vendors, CAs: [`crate::known::VENDOR_DOMAINS`]): in a capture of one
//! host, rarity cannot be measured, and their telemetry every 5 or 15 minutes is the
//! most common beacon there is. NTP (UDP 123 with small payloads) is periodic by
//! specification and not judged here.
//!
//! Rarity is the destination's address prevalence or its registered domain's,
//! whichever is higher (services behind CDNs rotate addresses; the domain is what many
//! hosts share). In a capture of fewer than `min_org_hosts` internal hosts rarity
//! cannot be measured, and periodicity alone does not separate C2 from the password
//! manager, grammar checker and sync client every laptop runs (the CTU-50 normal-PC
//! captures hold a dozen such channels): those findings are scaled by
//! `unknown_rarity_weight` and stay below 50, as leads.
//!
//! **Thresholds and why.** `min_connections` 6 (below that any three points look
//! regular); periods from 1 s (a new connection every second or two is a script, not a
//! person) to 2 days;
//! findings from score 30, so a regular beacon to a rare destination (score 70–100) is
//! above the analyst's 50 line and a jittered one with few check-ins is a lead.
//!
//! **Known false positives.** C2 over a vendor's own infrastructure (cloud APIs) is
//! weighted down with the vendor. Software polling a vendor that only one host runs
//! (licence checks, a lone monitoring agent, a stock ticker); scripted jobs to a unique
//! destination. They are regular by design: the finding's period and sizes let the
//! analyst recognise them, and the org profile can raise the thresholds.
//!
//! **References.** RITA's beacon analysis (timestamp and data-size regularity, Bowley
//! skew and MAD); Hu et al., "BAYWATCH" (robust periodicity with gaps).

use std::collections::VecDeque;
use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Proto, Stage, Technique, Timestamp};
use serde_json::json;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{Keyed, Sources};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `beaconing`.
    pub struct Config {
        /// Check-ins needed before a pair is judged.
        pub min_connections: usize = 6,
        /// Connections starting within this many seconds of the previous one are one check-in.
        pub merge_s: f64 = 0.5,
        /// Check-ins kept per pair (the most recent).
        pub history: usize = 128,
        /// Shortest period judged, seconds.
        pub min_period_s: f64 = 1.0,
        /// Longest period judged, seconds.
        pub max_period_s: f64 = 172_800.0,
        /// Relative median absolute deviation of intervals at which regularity is zero.
        pub max_interval_mad: f64 = 0.6,
        /// Median upload per check-in (bytes) above which a schedule is a bulk job (a
        /// nightly backup), not a check-in; `data_egress` judges those.
        pub max_checkin_bytes: f64 = 1_000_000.0,
        /// Relative median absolute deviation of upload sizes at which size consistency is zero.
        pub max_size_mad: f64 = 0.5,
        /// Share of internal hosts at or above which a destination is shared infrastructure.
        pub common_share: f64 = 0.2,
        /// Hosts needed (as well as the share) for a destination to be shared infrastructure.
        pub common_hosts: usize = 3,
        /// Score multiplier for shared infrastructure and well-known vendors.
        pub common_weight: f64 = 0.3,
        /// Internal hosts needed before rarity means anything (a capture of one or two
        /// hosts cannot tell a rare destination from a common one).
        pub min_org_hosts: usize = 10,
        /// Score multiplier when rarity cannot be measured; such findings also stay below 50.
        pub unknown_rarity_weight: f64 = 0.5,
        /// Lowest score reported (0-100).
        pub report_score: f64 = 30.0,
        /// Seconds of event time between evaluations of a pair.
        pub eval_every_s: f64 = 3600.0,
        /// Seconds without a check-in after which a pair is judged a last time and forgotten.
        pub idle_s: f64 = 259_200.0,
        /// Most pairs tracked; beyond it a new pair displaces an idle one (judged first) and
        /// is counted.
        pub max_pairs: usize = 500_000,
    }
}

const T_WEB: Technique = Technique::must("T1071.001");
const T_DNS: Technique = Technique::must("T1071.004");
const T_ENC: Technique = Technique::must("T1573");
static ATTACK: &[Technique] = &[T_WEB, T_DNS, T_ENC];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "beaconing",
    title: "Beaconing to an external destination",
    stage: Stage::CommandAndControl,
    attack: ATTACK,
    inputs: &[Kind::Conn],
    doc: "Judges the check-ins of each (internal host, external address, port) pair on \
          interval regularity (median/MAD, robust to skipped cycles), persistence and \
          upload-size consistency; periods from seconds to days, jitter up to ±50 %; \
          destinations many hosts share (updates, AV, SaaS keep-alives) are weighted down.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(Beaconing { pairs: Keyed::new(cfg.max_pairs), cfg, scratch: Scratch::default() }))
}

#[derive(Debug, Default)]
struct Pair {
    /// Whether a finding was stated (later statements update it, even downwards).
    reported: bool,
    /// Check-ins, sorted by time: start time in centiseconds after `base` (497 days of
    /// range) and upload bytes (saturating) — 8 bytes a check-in, one allocation.
    checkins: VecDeque<(u32, u32)>,
    /// Origin of `times`, µs: a day before the first check-in, so late arrivals fit.
    base: i64,
    first: Timestamp,
    total: u64,
    tls: bool,
    last_eval: Timestamp,
    sources: Sources,
}

/// What a pair's check-ins look like.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// Median interval, seconds.
    pub period_s: f64,
    /// Median absolute deviation of intervals over the period.
    pub jitter: f64,
    /// 0..1.
    pub regularity: f64,
    /// 0..1.
    pub persistence: f64,
    /// 0..1.
    pub size_consistency: f64,
    /// Median upload, bytes.
    pub size_median: f64,
    /// 0..1, before rarity.
    pub score: f64,
    /// Interval histogram on half-octave bins: (lower bound s, count).
    pub histogram: Vec<(f64, u32)>,
}

/// Median of `v`, which it reorders (a selection, not a sort).
fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    let (lower, upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        // The lower middle is the largest of the half below.
        let below = lower.iter().copied().max_by(f64::total_cmp).unwrap_or(upper);
        (below + upper) / 2.0
    }
}

/// Median and median absolute deviation of `v`, which it overwrites.
fn median_mad(v: &mut [f64]) -> (f64, f64) {
    let m = median(v);
    for x in v.iter_mut() {
        *x = (*x - m).abs();
    }
    (m, median(v))
}

/// Working memory of [`judge_in`], kept between pairs so judging allocates nothing.
#[derive(Debug, Default)]
struct Scratch {
    times: Vec<i64>,
    sizes: Vec<f64>,
    deltas: Vec<f64>,
    work: Vec<f64>,
}

/// Judges check-ins (times in µs, sorted) and their sizes. `None` when there are too
/// few or the period is out of range.
pub fn judge(times: &[i64], sizes: &[u64], cfg: &Config) -> Option<Judgement> {
    let mut s = Scratch {
        times: times.to_vec(),
        sizes: sizes.iter().map(|s| *s as f64).collect(),
        ..Scratch::default()
    };
    let mut j = judge_in(&mut s, cfg)?;
    j.histogram = histogram(&s.deltas);
    Some(j)
}

/// [`judge`] over the check-ins in `s.times` and `s.sizes`, leaving the intervals in
/// `s.deltas`; the histogram is left empty (see [`histogram`]).
fn judge_in(s: &mut Scratch, cfg: &Config) -> Option<Judgement> {
    let times = &s.times;
    if times.len() < cfg.min_connections.max(3) {
        return None;
    }
    s.deltas.clear();
    s.deltas.extend(times.windows(2).map(|w| (w[1] - w[0]) as f64 / 1e6));
    s.work.clear();
    s.work.extend_from_slice(&s.deltas);
    let (period, mad) = median_mad(&mut s.work);
    if !(cfg.min_period_s..=cfg.max_period_s).contains(&period) {
        return None;
    }
    let jitter = mad / period;
    let regularity = (1.0 - jitter / cfg.max_interval_mad).clamp(0.0, 1.0);
    let span = (times[times.len() - 1] - times[0]) as f64 / 1e6;
    let expected = span / period + 1.0;
    let persistence = (times.len() as f64 / expected).min(1.0);
    s.work.clear();
    s.work.extend_from_slice(&s.sizes);
    let (size_median, size_mad) = median_mad(&mut s.work);
    let size_consistency = if size_median > 0.0 {
        (1.0 - (size_mad / size_median) / cfg.max_size_mad).clamp(0.0, 1.0)
    } else {
        // Nothing uploaded each time is as constant as it gets.
        1.0
    };
    let confidence = 0.7 + 0.3 * ((times.len() as f64 - 3.0) / 17.0).clamp(0.0, 1.0);
    // Regularity is the beacon; persistence and constant sizes only confirm it. People are
    // persistent too (a day of browsing has no long gaps), so they must not add up alone.
    let score = regularity * (0.6 + 0.25 * persistence + 0.15 * size_consistency) * confidence;
    Some(Judgement {
        period_s: period,
        jitter,
        regularity,
        persistence,
        size_consistency,
        size_median,
        score,
        histogram: Vec::new(),
    })
}

/// Interval histogram on half-octave bins: (lower bound s, count), ascending.
fn histogram(deltas: &[f64]) -> Vec<(f64, u32)> {
    let mut hist: Vec<(f64, u32)> = Vec::new();
    for d in deltas {
        let bin = (2.0 * d.max(1.0).log2()).floor();
        let lower = 2f64.powf(bin / 2.0);
        match hist.iter_mut().find(|(l, _)| (*l - lower).abs() < 1e-9) {
            Some((_, n)) => *n += 1,
            None => hist.push((lower, 1)),
        }
    }
    hist.sort_by(|a, b| a.0.total_cmp(&b.0));
    hist
}

fn human(s: f64) -> String {
    if s >= 5400.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 90.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

/// Microseconds in a centisecond, the unit check-in times are kept in.
const CS: i64 = 10_000;

/// The detector.
pub struct Beaconing {
    cfg: Config,
    pairs: Keyed<(IpAddr, IpAddr, u16), Pair>,
    scratch: Scratch,
}

fn report(
    cfg: &Config,
    key: &(IpAddr, IpAddr, u16),
    p: &mut Pair,
    s: &mut Scratch,
    cx: &mut Ctx<'_>,
) {
    s.times.clear();
    s.times.extend(p.checkins.iter().map(|(t, _)| p.base + i64::from(*t) * CS));
    s.sizes.clear();
    s.sizes.extend(p.checkins.iter().map(|(_, size)| f64::from(*size)));
    let Some(j) = judge_in(s, cfg) else { return };
    let times = &s.times;
    if j.size_median > cfg.max_checkin_bytes && !p.reported {
        return;
    }
    let (host, peer, port) = *key;
    let b = cx.baselines();
    let name = b.name_of(peer).map(str::to_string);
    // Rarity of the destination: its address, or its registered domain (services
    // behind CDNs rotate addresses; the domain is what many hosts share).
    let prevalence = b.prevalence(peer).max(name.as_deref().map_or(0, |n| b.domain_prevalence(n)));
    let org = b.internal_hosts();
    let vendor = name.as_deref().and_then(crate::known::vendor);
    let (rarity, rarity_note) = if vendor.is_some() {
        (cfg.common_weight, "well-known vendor")
    } else if b.is_common(prevalence, cfg.common_hosts, cfg.common_share) {
        (cfg.common_weight, "shared by many hosts")
    } else if org < cfg.min_org_hosts {
        (cfg.unknown_rarity_weight, "unknown: too few internal hosts to measure rarity")
    } else if prevalence <= 1 {
        (1.15, "only this host")
    } else {
        (1.0, "few hosts")
    };
    let mut score = (100.0 * j.score * rarity).clamp(0.0, 100.0);
    if j.size_median > cfg.max_checkin_bytes {
        // Grew into a bulk schedule after being stated: withdraw.
        score = 0.0;
    }
    if org < cfg.min_org_hosts && vendor.is_none() {
        // Periodicity alone, without rarity, is a lead: benign apps beacon too.
        score = score.min(49.0);
    }
    if score < cfg.report_score && !p.reported {
        return;
    }
    p.reported = true;
    let dest = match &name {
        Some(n) => format!("{n} ({peer}:{port})"),
        None => format!("{peer}:{port}"),
    };
    let summary = format!(
        "{host} checks in with {dest} every {} (jitter ±{:.0} %) — {} check-ins over {}, median upload {:.0} bytes; {} internal host{} reach{} this address",
        human(j.period_s),
        j.jitter * 100.0,
        p.total,
        human(times.last().map_or(0.0, |l| (l - times[0]) as f64 / 1e6)),
        j.size_median,
        crate::baselines::hosts_text(prevalence),
        if prevalence == 1 { "" } else { "s" },
        if prevalence == 1 { "es" } else { "" },
    );
    let mut d = Draft::new(cx.entity(host), p.first, score, summary);
    d.end = Timestamp(times.last().copied().unwrap_or(p.first.0));
    d.peer = Some(Peer { ip: Some(peer), domain: name, port: Some(port) });
    d.attack = Some(if port == 53 {
        vec![T_DNS]
    } else if p.tls {
        vec![T_WEB, T_ENC]
    } else {
        vec![T_WEB]
    });
    d.sources = p.sources.to_vec();
    let hist: Vec<serde_json::Value> =
        histogram(&s.deltas).iter().map(|(l, n)| json!([(l * 10.0).round() / 10.0, n])).collect();
    if let serde_json::Value::Object(m) = json!({
        "period_s": (j.period_s * 10.0).round() / 10.0,
        "jitter": (j.jitter * 1000.0).round() / 1000.0,
        "check_ins": p.total,
        "check_ins_judged": times.len(),
        "regularity": (j.regularity * 1000.0).round() / 1000.0,
        "persistence": (j.persistence * 1000.0).round() / 1000.0,
        "size_consistency": (j.size_consistency * 1000.0).round() / 1000.0,
        "upload_bytes_median": j.size_median,
        "beacon_score": (j.score * 1000.0).round() / 1000.0,
        "peer_prevalence": prevalence,
        "internal_hosts_seen": org,
        "rarity_weight": rarity,
        "rarity": rarity_note,
        "known_vendor": vendor,
        "interval_histogram": hist,
    }) {
        d.evidence = m;
    }
    cx.emit(d);
}

impl Detector for Beaconing {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Conn(c) = &ev.body else { return };
        let f = &c.flow;
        let p = cx.profile();
        if !(p.is_internal(f.orig_h) && p.is_external(f.resp_h)) {
            return;
        }
        // ICMP "flows" are mostly answers (unreachables) and echo; tunnels over ICMP are
        // not judged by interval here.
        if f.proto == Proto::Icmp {
            return;
        }
        // NTP is periodic by specification (RFC 5905 poll intervals).
        let small = c.orig_bytes.unwrap_or(0) <= 68 && c.resp_bytes.unwrap_or(0) <= 68;
        if f.proto == Proto::Udp && f.resp_p == 123 && small {
            return;
        }
        let ts = ev.ts();
        let key = (f.orig_h, f.resp_h, f.resp_p);
        let (cfg, s) = (&self.cfg, &mut self.scratch);
        // A pair displaced to make room is judged as an idle one is.
        let displaced = |k: (IpAddr, IpAddr, u16), mut p: Pair| {
            cx.count("displaced.pairs", 1);
            report(cfg, &k, &mut p, s, cx);
        };
        let init =
            || Pair { first: ts, last_eval: ts, base: ts.0 - 86_400_000_000, ..Pair::default() };
        let Some(pair) = self.pairs.upsert(&key, ts, init, displaced) else {
            return;
        };
        pair.total += 1;
        pair.first = pair.first.min(ts);
        pair.tls |= c.service.as_deref().is_some_and(|s| s.contains("ssl"));
        let up = u32::try_from(c.orig_bytes.or(c.orig_ip_bytes).unwrap_or(0)).unwrap_or(u32::MAX);
        let merge = (cfg.merge_s * 1e6 / CS as f64) as i64;
        let t = u32::try_from(((ts.0 - pair.base) / CS).max(0)).unwrap_or(u32::MAX);
        if let Some((last, size)) = pair.checkins.back_mut() {
            if (i64::from(t) - i64::from(*last)).abs() <= merge {
                // Same check-in: count the bytes, not a new interval.
                pair.total -= 1;
                *size = size.saturating_add(up);
                return;
            }
        }
        // Room first, so the deque never grows past the history (no doubling).
        let keep = cfg.history.max(8);
        while pair.checkins.len() >= keep {
            pair.checkins.pop_front();
        }
        match pair.checkins.back() {
            Some((last, _)) if t < *last => {
                let at = pair.checkins.partition_point(|(x, _)| *x <= t);
                pair.checkins.insert(at, (t, up));
            }
            _ => pair.checkins.push_back((t, up)),
        }
        pair.sources.push(ev.header.src);
    }

    fn on_watermark(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        let (cfg, s) = (&self.cfg, &mut self.scratch);
        let every = cfg.eval_every_s;
        self.pairs.drain_dirty(|k, p| {
            if p.checkins.len() >= cfg.min_connections && now.secs_since(p.last_eval) >= every {
                p.last_eval = now;
                report(cfg, k, p, s, cx);
            }
        });
        let mut closed = Vec::new();
        self.pairs.evict_idle(now, cfg.idle_s, |k, p| closed.push((*k, p)));
        for (k, mut p) in closed {
            report(cfg, &k, &mut p, s, cx);
        }
    }

    fn on_finish(&mut self, cx: &mut Ctx<'_>) {
        let (cfg, s) = (&self.cfg, &mut self.scratch);
        self.pairs.for_each(|k, p| report(cfg, k, p, s, cx));
    }
}

#[cfg(test)]
mod tests;
