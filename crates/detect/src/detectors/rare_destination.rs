//! `rare_destination`: sessions straight to an address nobody looked up.
//!
//! **Finds.** Operational relay boxes (ORBs) and hard-coded C2 addresses: TLS or HTTP to
//! an external address the host never resolved, that no name (DNS answer, SNI, `Host`)
//! was ever seen for, and that hardly any other internal host uses — the direct-to-IP sessions
//! the reporting describes for traffic relayed through compromised residential and VPS
//! devices.
//!
//! **ATT&CK.** T1090.002 External Proxy, T1071 Application Layer Protocol; stage
//! `command_and_control`.
//!
//! **Inputs.** `conn` events the sensor recognised as TLS or HTTP (`service` `ssl`,
//! `tls` or `http`, on any port); the baselines' DNS resolutions and names.
//!
//! **Method.** Per (internal host, external address): sessions, days, duration. Judged
//! every hour of event time and at the end, when every name the data holds for the
//! address is known: a pair is reported when the host does use DNS (at least
//! `min_host_queries` queries in the data — so a capture without DNS does not make
//! everything direct), never resolved the address, no name is known for it, and at most
//! two internal hosts (or 2 % of a large organisation) deal with it — an ORB that
//! attacked the web server and is dialled by a workstation is still rare. Score 50; 60 when it persists (sessions on two or more
//! days, or an hour or more in all). In a capture of fewer than `min_org_hosts` hosts
//! rarity cannot be measured, and applications that dial hard-coded addresses are common
//! there: such pairs are leads at 35.
//!
//! A second pattern is the implant that cannot get through: *refused callbacks*. Per
//! (internal host, external address, port), TCP connection attempts that were refused or
//! never answered (UDP is left out: many UDP protocols never answer by design); a pair is reported when at least `min_refused` attempts spread over
//! `min_refused_span_s` or more all failed, the address has no name anywhere in the data
//! and at most two internal hosts try it, and the attempts do not back off (the median
//! gap of the latest attempts is less than twice that of the first few). Score 55 (50 in a
//! capture too small to measure rarity: the retry loop is the signal, not the rarity),
//! T1071 and, off the common service ports, T1571 Non-Standard Port.
//!
//! **Thresholds and why.** A browser or an updater resolves names; a session to an
//! address with no name anywhere in the data, from a host that otherwise resolves names,
//! is what an implant with a hard-coded relay does.
//!
//! Benign software that cannot reach its server backs off (exponential retry) or gives up;
//! a RAT's reconnect loop retries on a fixed timer for as long as it runs.
//!
//! **Known false positives.** Software with hard-coded addresses (some VoIP, gaming and
//! telemetry clients), DNS resolved before the data starts for long-lived sessions, DoH
//! clients (their lookups are invisible). For refused callbacks: a client with a
//! hard-coded address and a fixed retry timer whose server is gone. The evidence lists
//! sessions, days, attempts and gaps.
//!
//! **References.** Public reporting on ORB networks (KV-botnet, "SPACEHOP").

use std::collections::VecDeque;
use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Proto, Stage, Technique, Timestamp};
use serde_json::json;
use tinyvec::{ArrayVec, TinyVec};

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{probe, Keyed, Probe, Sources};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `rare_destination`.
    pub struct Config {
        /// DNS queries a host must have made for its direct sessions to count.
        pub min_host_queries: u64 = 10,
        /// Internal hosts needed before rarity means anything.
        pub min_org_hosts: usize = 10,
        /// Seconds of event time between evaluations.
        pub eval_every_s: f64 = 3600.0,
        /// Most (host, address) pairs tracked.
        pub max_pairs: usize = 500_000,
        /// Failed attempts to one address and port for a refused-callback finding.
        pub min_refused: u64 = 30,
        /// Seconds the failed attempts must span.
        pub min_refused_span_s: f64 = 300.0,
    }
}

const T_PROXY: Technique = Technique::must("T1090.002");
const T_APP: Technique = Technique::must("T1071");
const T_PORT: Technique = Technique::must("T1571");

/// Ports whose services are everywhere; a callback to any other is off the beaten track.
const COMMON_PORTS: &[u16] =
    &[21, 22, 25, 53, 80, 110, 143, 443, 465, 587, 853, 993, 995, 8080, 8443];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "rare_destination",
    title: "Direct-to-IP session to a rare address",
    stage: Stage::CommandAndControl,
    attack: &[T_PROXY, T_APP],
    inputs: &[Kind::Conn],
    doc: "TLS/HTTP sessions to an external address the host never resolved, that no name \
          was ever seen for and no other internal host uses (ORB relays, hard-coded C2); \
          leads only in captures too small to measure rarity.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(RareDestination::new(cfg)))
}

#[derive(Debug, Default)]
struct Pair {
    first: Timestamp,
    last: Timestamp,
    sessions: u64,
    duration_s: f64,
    /// Days of activity (most pairs: one, kept inline).
    days: TinyVec<[i64; 2]>,
    ports: ArrayVec<[u16; 4]>,
    sources: Sources,
    last_eval: Timestamp,
    reported: bool,
}

/// Failed attempts of one (host, address, port).
#[derive(Debug, Default)]
struct Refused {
    first: Timestamp,
    last: Timestamp,
    attempts: u64,
    /// Attempts that got through: the pair is then not a refused callback.
    answered: u64,
    /// Start times of the first attempts (µs).
    early: Vec<i64>,
    /// Start times of the latest attempts (µs), a ring.
    late: VecDeque<i64>,
    sources: Sources,
    last_eval: Timestamp,
}

/// Attempt times kept at each end of a refused pair.
const KEEP: usize = 24;

/// The detector.
pub struct RareDestination {
    cfg: Config,
    pairs: Keyed<(IpAddr, IpAddr), Pair>,
    refused: Keyed<(IpAddr, IpAddr, u16), Refused>,
}

impl RareDestination {
    fn new(cfg: Config) -> Self {
        RareDestination {
            pairs: Keyed::new(cfg.max_pairs),
            refused: Keyed::new(cfg.max_pairs),
            cfg,
        }
    }
}

fn median_gap(times: &[i64]) -> Option<f64> {
    let mut gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    Some(gaps[gaps.len() / 2] as f64 / 1e6)
}

fn report_refused(
    cfg: &Config,
    (host, ip, port): (IpAddr, IpAddr, u16),
    r: &Refused,
    cx: &mut Ctx<'_>,
) {
    let span = r.last.secs_since(r.first);
    if r.attempts < cfg.min_refused || span < cfg.min_refused_span_s {
        return;
    }
    let b = cx.baselines();
    let nameless = b.resolved(host, ip).is_none() && b.name_of(ip).is_none();
    let prevalence = b.prevalence(ip);
    let org = b.internal_hosts();
    let rare = is_rare(prevalence, org);
    let late: Vec<i64> = r.late.iter().copied().collect();
    // The first few gaps against the latest: a back-off grows from the start, even when
    // it settles at a cap later.
    let head = &r.early[..r.early.len().min(8)];
    let (early_gap, late_gap) = (median_gap(head), median_gap(&late));
    let backs_off = matches!((early_gap, late_gap), (Some(e), Some(l)) if l >= 2.0 * e.max(0.001));
    let ok = r.answered == 0 && nameless && rare && !backs_off;
    let score = match (ok, org < cfg.min_org_hosts) {
        (false, _) => 0.0,
        (true, true) => 50.0,
        (true, false) => 55.0,
    };
    let hosts = crate::baselines::hosts_text(prevalence);
    let summary = format!(
        "{host} tried {ip} port {port} {} times over {:.0} min and every attempt was refused or unanswered; it keeps retrying every {:.1} s without backing off, the address has no name anywhere in the data and {hosts} internal host{} tr{} it: an implant that cannot reach its server",
        r.attempts,
        span / 60.0,
        late_gap.unwrap_or(0.0),
        if prevalence == 1 { "" } else { "s" },
        if prevalence == 1 { "ies" } else { "y" },
    );
    let mut d = Draft::new(cx.entity(host), r.first, score, summary);
    d.end = r.last;
    d.peer = Some(Peer { ip: Some(ip), domain: None, port: Some(port) });
    d.discriminator = "refused".into();
    d.title = Some("Repeated refused callbacks to a nameless address".into());
    let mut attack = vec![T_APP];
    if !COMMON_PORTS.contains(&port) {
        attack.push(T_PORT);
    }
    d.attack = Some(attack);
    d.sources = r.sources.to_vec();
    if let serde_json::Value::Object(m) = json!({
        "attempts": r.attempts,
        "span_s": span.round(),
        "median_gap_first_s": early_gap,
        "median_gap_last_s": late_gap,
        "peer_prevalence": prevalence,
        "internal_hosts_seen": org,
    }) {
        d.evidence = m;
    }
    cx.emit(d);
}

fn report(cfg: &Config, (host, ip): (IpAddr, IpAddr), p: &mut Pair, cx: &mut Ctx<'_>) {
    let b = cx.baselines();
    let queries = b.host(host).map_or(0, |h| h.dns_queries);
    let direct = queries >= cfg.min_host_queries
        && b.resolved(host, ip).is_none()
        && b.name_of(ip).is_none();
    let prevalence = b.prevalence(ip);
    let org = b.internal_hosts();
    let rare = is_rare(prevalence, org);
    if (!direct || !rare) && !p.reported {
        return;
    }
    let persistent = p.days.len() >= 2 || p.duration_s >= 3600.0;
    let mut score = if persistent { 60.0 } else { 50.0 };
    if org < cfg.min_org_hosts {
        score = 35.0;
    }
    if !direct || !rare {
        // Later data named or shared the address: restate as cleared.
        score = 0.0;
    }
    p.reported = true;
    let ports: Vec<String> = p.ports.iter().map(u16::to_string).collect();
    let hosts = crate::baselines::hosts_text(prevalence);
    let summary = format!(
        "{host} held {} session{} with {ip} (port {}) over {} day{}, {:.1} h in all, without resolving it; no name for this address appears anywhere in the data and {hosts} internal host{} use{} it",
        p.sessions,
        if p.sessions == 1 { "" } else { "s" },
        ports.join(", "),
        p.days.len(),
        if p.days.len() == 1 { "" } else { "s" },
        p.duration_s / 3600.0,
        if prevalence == 1 { "" } else { "s" },
        if prevalence == 1 { "s" } else { "" },
    );
    let mut d = Draft::new(cx.entity(host), p.first, score, summary);
    d.end = p.last;
    d.peer = Some(Peer { ip: Some(ip), domain: None, port: p.ports.first().copied() });
    d.sources = p.sources.to_vec();
    if let serde_json::Value::Object(m) = json!({
        "sessions": p.sessions,
        "days": p.days.len(),
        "duration_s": p.duration_s.round(),
        "host_dns_queries": queries,
        "peer_prevalence": prevalence,
        "internal_hosts_seen": org,
    }) {
        d.evidence = m;
    }
    cx.emit(d);
}

/// Rare: two hosts at most (an ORB that attacked one host and is dialled by another is
/// still rare), or 2 % of a large organisation — never a count at the prevalence cap.
fn is_rare(prevalence: usize, org: usize) -> bool {
    prevalence <= 2.max(org / 50) && !crate::baselines::is_saturated(prevalence)
}

impl Detector for RareDestination {
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
        let ts = ev.ts();
        // TCP only: a TCP attempt refused or unanswered failed for sure, while many UDP
        // protocols (syslog, telemetry, flow export) never answer by design.
        if f.proto == Proto::Tcp {
            let hard = probe(c) == Probe::Hard;
            let key = (f.orig_h, f.resp_h, f.resp_p);
            if hard {
                let cfg = &self.cfg;
                // A pair displaced to make room is judged first.
                let displaced = |k, r: Refused| {
                    cx.count("displaced.refused", 1);
                    report_refused(cfg, k, &r, cx);
                };
                let init = || Refused { first: ts, last: ts, last_eval: ts, ..Refused::default() };
                if let Some(r) = self.refused.upsert(&key, ts, init, displaced) {
                    r.attempts += 1;
                    r.first = r.first.min(ts);
                    r.last = r.last.max(ts);
                    if r.early.len() < KEEP {
                        r.early.push(ts.0);
                    } else {
                        r.late.push_back(ts.0);
                        if r.late.len() > KEEP {
                            r.late.pop_front();
                        }
                    }
                    r.sources.push(ev.header.src);
                }
            } else if let Some(r) = self.refused.get_mut(&key, ts) {
                r.answered += 1;
            }
        }
        // The sensor must have recognised TLS or HTTP: an unrecognised session on 443
        // could be anything, and its name may simply not have been logged.
        let web = c
            .service
            .as_deref()
            .is_some_and(|s| s.contains("ssl") || s.contains("tls") || s.contains("http"));
        if !web || matches!(c.conn_state.as_deref(), Some("S0" | "REJ" | "OTH")) {
            return;
        }
        let cfg = &self.cfg;
        let displaced = |k, mut p: Pair| {
            cx.count("displaced.pairs", 1);
            report(cfg, k, &mut p, cx);
        };
        let init = || Pair { first: ts, last: ts, last_eval: ts, ..Pair::default() };
        let Some(pair) = self.pairs.upsert(&(f.orig_h, f.resp_h), ts, init, displaced) else {
            return;
        };
        pair.sessions += 1;
        pair.first = pair.first.min(ts);
        pair.last = pair.last.max(ts);
        pair.duration_s += c.duration.unwrap_or(0.0);
        let day = ts.secs().div_euclid(86_400);
        if !pair.days.contains(&day) && pair.days.len() < 64 {
            pair.days.push(day);
        }
        if !pair.ports.contains(&f.resp_p) && pair.ports.len() < pair.ports.capacity() {
            pair.ports.push(f.resp_p);
        }
        pair.sources.push(ev.header.src);
    }

    fn on_watermark(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        let cfg = &self.cfg;
        self.pairs.drain_dirty(|k, p| {
            if now.secs_since(p.last_eval) >= cfg.eval_every_s {
                p.last_eval = now;
                report(cfg, *k, p, cx);
            }
        });
        self.refused.drain_dirty(|k, r| {
            if now.secs_since(r.last_eval) >= cfg.eval_every_s {
                r.last_eval = now;
                report_refused(cfg, *k, r, cx);
            }
        });
    }

    fn on_finish(&mut self, cx: &mut Ctx<'_>) {
        let cfg = &self.cfg;
        self.pairs.for_each(|k, p| report(cfg, *k, p, cx));
        self.refused.for_each(|k, r| report_refused(cfg, *k, r, cx));
    }
}

#[cfg(test)]
mod tests;
