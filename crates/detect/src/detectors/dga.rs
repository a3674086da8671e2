//! `dga`: a host resolving many domains that do not exist, each its own registered domain.
//!
//! **Finds.** Malware with a domain-generation algorithm hunting for its controller
//! (Simda, Conficker, Necurs, many loaders): it asks for dozens to thousands of freshly
//! generated registered domains, and almost all of them do not exist, because the
//! operator registers only a few.
//!
//! **ATT&CK.** T1568.002 Dynamic Resolution: Domain Generation Algorithms; stage
//! `command_and_control`.
//!
//! **Inputs.** `dns` events with a response code (Zeek `dns.log`, EVE `dns` answers).
//!
//! **Method.** Per internal client, the distinct *registered domains* (the label under
//! the public suffix) whose lookup returned NXDOMAIN, over a clock hour and over a day
//! (both tumbling). Counting registered domains, not names, is what separates a DGA from
//! the non-existent names every network resolves: a DNS search suffix appended to short
//! names (`wpad.corp.example.com`, `printer.corp.example.com`: one registered domain),
//! hash-like reputation lookups under one vendor domain, reverse lookups. Single-label
//! names (the browser's random intranet probes), local and reverse zones are skipped, as
//! are resolvers (their upstream queries forward their clients'). Domains that several
//! internal hosts look up are not the host's own: a dead domain in a shared config is
//! a misconfiguration, not a DGA, so only names at most `max_prevalence` hosts asked for
//! count. A client is reported at `hour_domains` distinct non-existent registered domains
//! in an hour or `day_domains` in a day: 55, 70 at three times the threshold. The
//! evidence lists examples and how many generated-looking domains did resolve.
//!
//! **Thresholds and why.** People mistype a domain or follow a dead link a few times a
//! day; a DGA walks through its candidate list in minutes (Simda asks for dozens in its
//! first minute, Conficker.C for 50 000 a day).
//!
//! **Known false positives.** Software that looks up many dead domains on purpose
//! (some anti-phishing or typo-squatting scanners, security research); a resolver not
//! recognised as one (declare it in `dns_resolvers`). **Known misses.** DGAs that try a
//! few domains an hour and stop when one resolves; DGAs over DNS-over-HTTPS.
//!
//! **References.** Antonakakis et al., "From Throw-Away Traffic to Bots: Detecting the
//! Rise of DGA-Based Malware" (NXDOMAIN clustering); Plohmann et al., "A Comprehensive
//! Measurement Study of Domain Generating Malware".

use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Stage, Technique, Timestamp};
use foldhash::fast::RandomState;
use serde_json::json;
use std::hash::BuildHasher;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{Distinct, Keyed, Sources};
use crate::meta::DetectorMeta;
use crate::names::registered_domain;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `dga`.
    pub struct Config {
        /// Distinct non-existent registered domains in a clock hour.
        pub hour_domains: u64 = 12,
        /// Distinct non-existent registered domains in a day.
        pub day_domains: u64 = 40,
        /// Most internal hosts that may have asked for a domain for it to count.
        pub max_prevalence: usize = 2,
        /// Most clients tracked.
        pub max_clients: usize = 200_000,
    }
}

const T_DGA: Technique = Technique::must("T1568.002");

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "dga",
    title: "Domain-generation algorithm",
    stage: Stage::CommandAndControl,
    attack: &[T_DGA],
    inputs: &[Kind::Dns],
    doc: "A client asking for many registered domains that do not exist (NXDOMAIN) within an \
          hour or a day, each looked up by hardly any other host; search-suffix appends, \
          reputation lookups, browser probes and resolvers' forwards are not counted.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(Dga::new(cfg)))
}

/// Zones whose names never belong to the internet's registries.
const LOCAL_SUFFIXES: &[&str] =
    &[".arpa", ".local", ".lan", ".home", ".internal", ".localdomain", ".corp", ".intranet"];

/// A tumbling count of distinct domains.
#[derive(Debug, Default)]
struct Bucket {
    /// Start of the bucket (seconds since the epoch, aligned).
    start: i64,
    first: Timestamp,
    last: Timestamp,
    domains: Distinct,
    examples: Vec<String>,
    sources: Sources,
    reported: u64,
    /// Day bucket: an hour of it was already reported (the day adds nothing then).
    hour_hit: bool,
}

impl Bucket {
    fn roll(&mut self, start: i64, ts: Timestamp) {
        if self.start != start {
            *self = Bucket { start, first: ts, last: ts, ..Bucket::default() };
        }
    }
}

#[derive(Debug, Default)]
struct Client {
    hour: Bucket,
    day: Bucket,
    /// Distinct registered domains that did resolve, for the evidence.
    resolved: Distinct,
}

/// The detector.
pub struct Dga {
    cfg: Config,
    clients: Keyed<IpAddr, Client>,
    hasher: RandomState,
}

impl Dga {
    fn new(cfg: Config) -> Dga {
        Dga { clients: Keyed::new(cfg.max_clients), cfg, hasher: RandomState::default() }
    }
}

fn report(cfg: &Config, host: IpAddr, c: &mut Client, cx: &mut Ctx<'_>) {
    let resolved = c.resolved.count();
    if c.hour.domains.count() >= cfg.hour_domains {
        c.day.hour_hit = true;
    }
    for (b, threshold, span) in
        [(&mut c.hour, cfg.hour_domains, "hour"), (&mut c.day, cfg.day_domains, "day")]
    {
        let n = b.domains.count();
        if n < threshold || n == b.reported || (span == "day" && b.hour_hit) {
            continue;
        }
        b.reported = n;
        let score = if n >= 3 * threshold { 70.0 } else { 55.0 };
        let summary = format!(
            "{host} looked up {n} registered domains that do not exist within {} min (e.g. {}); hardly any other host asked for them — a domain-generation algorithm searching for its controller",
            (b.last.secs_since(b.first) / 60.0).ceil().max(1.0),
            b.examples.join(", "),
        );
        let mut d = Draft::new(cx.entity(host), b.first, score, summary);
        d.end = b.last;
        d.discriminator = span.to_string();
        d.peer = Some(Peer { ip: None, domain: b.examples.first().cloned(), port: Some(53) });
        d.sources = b.sources.to_vec();
        if let serde_json::Value::Object(m) = json!({
            "nxdomain_registered_domains": n,
            "window": span,
            "threshold": threshold,
            "examples": b.examples,
            "resolved_registered_domains": resolved,
        }) {
            d.evidence = m;
        }
        cx.emit(d);
    }
}

impl Detector for Dga {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Dns(d) = &ev.body else { return };
        let client = d.flow.orig_h;
        let p = cx.profile();
        if !p.is_internal(client) || cx.baselines().is_resolver(client, p) {
            return;
        }
        let (Some(q), Some(rcode)) = (d.query.as_deref(), d.rcode) else { return };
        let q = q.trim_end_matches('.');
        let lower = q.to_ascii_lowercase();
        if !q.contains('.') || LOCAL_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
            return;
        }
        let reg = registered_domain(q);
        let ts = ev.ts();
        let h = self.hasher.hash_one(&reg);
        if rcode == 0 && !d.answers.is_empty() {
            if let Some(c) = self.clients.get_mut(&client, ts) {
                c.resolved.add_hash(h);
            }
            return;
        }
        if rcode != 3 || cx.baselines().domain_prevalence(&reg) > self.cfg.max_prevalence {
            return;
        }
        let cfg = &self.cfg;
        // A client displaced to make room states its open windows first.
        let displaced = |k: IpAddr, mut c: Client| {
            cx.count("displaced.clients", 1);
            report(cfg, k, &mut c, cx);
        };
        let Some(c) = self.clients.upsert(&client, ts, Client::default, displaced) else {
            return;
        };
        let secs = ts.secs();
        let (hour, day) = (secs - secs.rem_euclid(3600), secs - secs.rem_euclid(86_400));
        if c.hour.start != hour || c.day.start != day {
            // State the closing window before it rolls.
            report(cfg, client, c, cx);
        }
        c.hour.roll(hour, ts);
        c.day.roll(day, ts);
        for b in [&mut c.hour, &mut c.day] {
            b.last = b.last.max(ts);
            if b.domains.add_hash(h) {
                if b.examples.len() < 6 {
                    b.examples.push(reg.clone());
                }
                b.sources.push(ev.header.src);
            }
        }
    }

    fn on_watermark(&mut self, _now: Timestamp, cx: &mut Ctx<'_>) {
        let cfg = &self.cfg;
        self.clients.drain_dirty(|k, c| report(cfg, *k, c, cx));
    }

    fn on_finish(&mut self, cx: &mut Ctx<'_>) {
        let cfg = &self.cfg;
        self.clients.for_each(|k, c| report(cfg, *k, c, cx));
    }
}

#[cfg(test)]
mod tests;
