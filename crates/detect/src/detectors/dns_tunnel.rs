//! `dns_tunnel`: a host moving data through DNS names.
//!
//! **Finds.** Tunnels and covert channels that encode data in the labels of queries to
//! a domain the attacker's name server answers (iodine, dnscat2, DNSExfiltrator,
//! Cobalt Strike's DNS beacon), whether a fast burst or a low-rate trickle over days
//! through the corporate resolvers.
//!
//! **ATT&CK.** T1071.004 DNS, T1572 Protocol Tunneling, T1048 Exfiltration Over
//! Alternative Protocol; stage `command_and_control`.
//!
//! **Inputs.** `dns` events (Zeek `dns.log`, EVE `dns` queries).
//!
//! **Method.** Per (client host, registered domain): queries, distinct names (counted
//! exactly up to 64, so the `min_distinct` decision is exact, then by a 256-byte
//! HyperLogLog, never above the number of queries), the information their subdomains carry (length ×
//! character entropy, bits, for distinct names), label lengths, the share of TXT/NULL
//! queries (the record types tunnels use to bring data back), NXDOMAIN share and
//! queries per hour. Queries a resolver forwards upstream are not the resolver's own
//! (it is learned from traffic or declared in the org profile). Every hour of event
//! time and at the end, a key that has sent at least `min_distinct` distinct names and
//! either `budget_bits` of subdomain information (a low-rate budget over the whole
//! window, days if need be) or `burst_per_hour` queries in one hour is reported; the
//! score starts at 50 at the budget and rises 10 per doubling, plus 5 each for mostly
//! TXT/NULL queries and for long labels.
//!
//! **Short tunnels.** A capture of a tunnel may hold a dozen queries, too few for the
//! budgets above. What still gives it away is the names themselves: subdomains that are
//! encoded data — 16 or more characters of hex, base32 or base64 mixing letters and
//! digits at 3 or more bits per character, or raw bytes — each used once, or TXT
//! answers of 64 or more characters of such data. `min_encoded` of those to one domain,
//! at `min_encoded` an hour or faster, score 55 (65 from three times as many; +5 when
//! most queries ask for TXT, NULL, MX or CNAME records, the types tunnels return data in).
//!
//! **Rarity.** What keeps it quiet on benign high-entropy names: CDN hashed host names
//! and antivirus reputation lookups are made by many hosts to one vendor domain. A
//! registered domain that `common_share` of the organisation's hosts (and at least
//! `common_hosts`) use, or a well-known vendor's (reputation services, block lists:
//! [`crate::known::VENDOR_DOMAINS`]), scores × `common_weight`; a domain only this host
//! uses, in an organisation of ten hosts or more, +10 %.
//!
//! **Thresholds and why.** 50 distinct names for the volume rules (fewer is browsing); a budget of 16 kbit,
//! ~2 KB of payload — roughly 80 queries carrying 40-character hex labels — over the
//! window, so a tunnel that moves 50 bytes an hour still crosses it in two days; bursts
//! of 300 queries an hour to one domain from one host.
//!
//! **Known false positives.** Software that puts long hashed tokens in per-request names
//! to its own rare domain (some telemetry kits); security products with per-customer reputation domains
//! not in the vendor list; service discovery with hashed names (DNS-SD); a single host
//! that is the only user of a CDN. The evidence carries sample names.
//!
//! **References.** Farnham & Atlasis, "Detecting DNS tunneling" (SANS); the entropy and
//! length features used by Zeek's and Slips' DNS heuristics.

use std::hash::BuildHasher;
use std::net::IpAddr;

use dwell_model::{Body, DnsMsg, Event, Kind, Peer, Stage, Technique, Text, Timestamp};
use foldhash::fast::RandomState;
use serde_json::json;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{Distinct, Keyed, Sources};
use crate::meta::DetectorMeta;
use crate::names::{entropy, registered_domain, subdomain};
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `dns_tunnel`.
    pub struct Config {
        /// Distinct names needed before a (host, domain) pair is judged.
        pub min_distinct: f64 = 50.0,
        /// Subdomain information (bits, distinct names) that reaches score 50.
        pub budget_bits: f64 = 16_000.0,
        /// Queries in one hour to one domain from one host that count as a burst.
        pub burst_per_hour: u64 = 300,
        /// Share of internal hosts at or above which a domain is shared infrastructure.
        pub common_share: f64 = 0.2,
        /// Hosts needed (as well as the share) for a domain to be shared infrastructure.
        pub common_hosts: usize = 3,
        /// Score multiplier for shared domains and well-known vendors.
        pub common_weight: f64 = 0.3,
        /// Lowest score reported (0-100).
        pub report_score: f64 = 30.0,
        /// Names or answers carrying encoded data that make a short tunnel.
        pub min_encoded: u64 = 10,
        /// Seconds of event time between evaluations of a pair.
        pub eval_every_s: f64 = 3600.0,
        /// Seconds without a query after which a pair is judged a last time and forgotten.
        pub idle_s: f64 = 604_800.0,
        /// Most (host, domain) pairs tracked; beyond it a new pair displaces an idle one
        /// (judged first) and is counted.
        pub max_pairs: usize = 200_000,
    }
}

const T_DNS: Technique = Technique::must("T1071.004");
const T_TUN: Technique = Technique::must("T1572");
const T_EXF: Technique = Technique::must("T1048");
static ATTACK: &[Technique] = &[T_DNS, T_TUN, T_EXF];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "dns_tunnel",
    title: "Data tunnelled through DNS",
    stage: Stage::CommandAndControl,
    attack: ATTACK,
    inputs: &[Kind::Dns],
    doc: "Per (client, registered domain): distinct names, information in the subdomains \
          (length × entropy), TXT/NULL share, label lengths, queries per hour; low-rate \
          budgets over days and bursts; domains many hosts use (CDN hashed names, AV \
          reputation lookups) and well-known vendors are weighted down.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(DnsTunnel {
        pairs: Keyed::new(cfg.max_pairs),
        cfg,
        hasher: RandomState::default(),
    }))
}

#[derive(Debug, Default)]
struct Pair {
    /// Whether a finding was stated (later statements update it, even downwards).
    reported: bool,
    first: Timestamp,
    last: Timestamp,
    queries: u64,
    /// Distinct names: exact up to 64 (the `min_distinct` decision is made on an exact
    /// count), estimated above.
    distinct: Distinct,
    bits_sum: f64,
    label_len_sum: u64,
    max_label: usize,
    txt_null: u64,
    nxdomain: u64,
    /// Distinct names whose subdomain is encoded data.
    encoded: Distinct,
    /// TXT answers that are encoded data.
    encoded_answers: u64,
    hour: i64,
    in_hour: u64,
    max_hour: u64,
    samples: Vec<Text>,
    sources: Sources,
    last_eval: Timestamp,
}

/// The detector.
pub struct DnsTunnel {
    cfg: Config,
    pairs: Keyed<(IpAddr, Text), Pair>,
    hasher: RandomState,
}

fn report(cfg: &Config, key: &(IpAddr, Text), p: &mut Pair, cx: &mut Ctx<'_>) {
    if p.queries == 0 {
        return;
    }
    // An estimate above the number of queries is the estimate's error: there cannot be
    // more distinct names than queries.
    let distinct = (p.distinct.count() as f64).min(p.queries as f64);
    let bits = p.bits_sum / p.queries as f64 * distinct;
    let burst = p.max_hour >= cfg.burst_per_hour;
    let encoded = p.encoded.count() + p.encoded_answers;
    let enc_hours = (p.last.secs_since(p.first) / 3600.0).max(1.0);
    let short = encoded >= cfg.min_encoded && encoded as f64 / enc_hours >= cfg.min_encoded as f64;
    let txt_share = p.txt_null as f64 / p.queries as f64;
    let volume = distinct >= cfg.min_distinct && (bits >= cfg.budget_bits || burst);
    if !volume && !short {
        return;
    }
    let mut score =
        if volume { 50.0 + 10.0 * (bits / cfg.budget_bits).max(1.0).log2() } else { 0.0 };
    if burst {
        score = score.max(65.0);
    }
    if short {
        score = score.max(if encoded >= 3 * cfg.min_encoded { 65.0 } else { 55.0 });
    }
    let mean_label = p.label_len_sum as f64 / p.queries as f64;
    if txt_share >= 0.5 {
        score += 5.0;
    }
    if mean_label >= 30.0 {
        score += 5.0;
    }
    let (host, domain) = key;
    let b = cx.baselines();
    let prevalence = b.domain_prevalence(domain);
    let org = b.internal_hosts();
    let vendor = crate::known::vendor(domain);
    let (weight, note) = if vendor.is_some() {
        (cfg.common_weight, "well-known vendor")
    } else if b.is_common(prevalence, cfg.common_hosts, cfg.common_share) {
        (cfg.common_weight, "shared by many hosts")
    } else if org >= 10 && prevalence <= 1 {
        (1.1, "only this host")
    } else {
        (1.0, "few hosts")
    };
    let score = (score.min(95.0) * weight).clamp(0.0, 100.0);
    if score < cfg.report_score && !p.reported {
        return;
    }
    p.reported = true;
    let hours = (p.last.secs_since(p.first) / 3600.0).max(1.0);
    let summary = format!(
        "{host} sent {} queries with ~{:.0} distinct names under {domain}, carrying ~{:.1} kbit in subdomains ({:.0} bit/h; labels {:.0} chars on average, {:.0} % TXT/NULL){}; {} internal host{} use{} this domain",
        p.queries,
        distinct,
        bits / 1000.0,
        bits / hours,
        mean_label,
        txt_share * 100.0,
        if burst { format!(", up to {} queries in one hour", p.max_hour) } else { String::new() },
        crate::baselines::hosts_text(prevalence),
        if prevalence == 1 { "" } else { "s" },
        if prevalence == 1 { "s" } else { "" },
    );
    let mut d = Draft::new(cx.entity(*host), p.first, score, summary);
    d.end = p.last;
    d.peer = Some(Peer { ip: None, domain: Some(domain.to_string()), port: Some(53) });
    d.attack = Some(if txt_share >= 0.5 || bits >= 4.0 * cfg.budget_bits {
        vec![T_DNS, T_TUN, T_EXF]
    } else {
        vec![T_DNS, T_TUN]
    });
    d.sources = p.sources.to_vec();
    if let serde_json::Value::Object(m) = json!({
        "queries": p.queries,
        "distinct_names": distinct.round(),
        "subdomain_bits": bits.round(),
        "bits_per_hour": (bits / hours).round(),
        "mean_label_length": (mean_label * 10.0).round() / 10.0,
        "max_label_length": p.max_label,
        "txt_null_share": (txt_share * 1000.0).round() / 1000.0,
        "nxdomain_share": (p.nxdomain as f64 / p.queries as f64 * 1000.0).round() / 1000.0,
        "max_queries_per_hour": p.max_hour,
        "encoded_names_and_answers": encoded,
        "domain_prevalence": prevalence,
        "internal_hosts_seen": org,
        "rarity": note,
        "sample_names": p.samples,
    }) {
        d.evidence = m;
    }
    cx.emit(d);
}

/// Whether a subdomain is encoded data: raw bytes, or 16+ characters of an encoding
/// alphabet mixing letters and digits at 3+ bits per character.
fn encoded_name(sub: &str) -> bool {
    if sub.matches("\\x").count() >= 4 {
        return true;
    }
    let joined: String = sub.chars().filter(|c| *c != '.').collect();
    let alphabet = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-');
    joined.len() >= 16
        && joined.chars().all(alphabet)
        && joined.chars().filter(char::is_ascii_digit).count() >= 2
        && joined.chars().any(|c| c.is_ascii_alphabetic())
        && entropy(&joined) >= 3.0
}

/// Whether a TXT answer (`TXT <n> <text>`) is 64+ characters of encoded data.
fn encoded_answer(a: &str) -> bool {
    let Some(rest) = a.strip_prefix("TXT ") else { return false };
    let text = rest.split_once(' ').map_or("", |x| x.1);
    let data =
        text.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')).count();
    text.len() >= 64 && data * 10 >= text.len() * 9 && entropy(text) >= 4.0
}

impl Detector for DnsTunnel {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Dns(d) = &ev.body else { return };
        if d.msg == DnsMsg::Response {
            return;
        }
        let Some(q) = d.query.as_deref() else { return };
        let client = d.flow.orig_h;
        let p = cx.profile();
        if !p.is_internal(client) {
            return;
        }
        // A resolver's upstream queries are forwards of its clients' queries.
        if cx.baselines().is_resolver(client, p) && p.is_external(d.flow.resp_h) {
            return;
        }
        let q = q.trim_end_matches('.');
        let reg = registered_domain(q);
        let sub = subdomain(q, &reg);
        if sub.is_empty() || q.ends_with(".arpa") || q.ends_with(".local") {
            return;
        }
        let ts = ev.ts();
        let key = (client, Text::from(reg.as_str()));
        let h = self.hasher.hash_one(q);
        let cfg = &self.cfg;
        // A pair displaced to make room is judged as an idle one is.
        let displaced = |k: (IpAddr, Text), mut p: Pair| {
            cx.count("displaced.pairs", 1);
            report(cfg, &k, &mut p, cx);
        };
        let init = || Pair { first: ts, last: ts, last_eval: ts, ..Pair::default() };
        let Some(pair) = self.pairs.upsert(&key, ts, init, displaced) else {
            return;
        };
        pair.queries += 1;
        pair.first = pair.first.min(ts);
        pair.last = pair.last.max(ts);
        pair.distinct.add_hash(h);
        let labels = sub.replace('.', "");
        pair.bits_sum += labels.len() as f64 * entropy(&labels);
        pair.label_len_sum += sub.len() as u64;
        pair.max_label = pair.max_label.max(sub.split('.').map(str::len).max().unwrap_or(0));
        // TXT, NULL, MX and CNAME: the record types tunnels bring data back in.
        if matches!(d.qtype, Some(16 | 10 | 15 | 5)) {
            pair.txt_null += 1;
        }
        if encoded_name(sub) {
            pair.encoded.add_hash(h);
        }
        pair.encoded_answers += d.answers.iter().filter(|a| encoded_answer(a)).count() as u64;
        if d.rcode == Some(3) {
            pair.nxdomain += 1;
        }
        let hour = ts.secs().div_euclid(3600);
        if hour != pair.hour {
            pair.hour = hour;
            pair.in_hour = 0;
        }
        pair.in_hour += 1;
        pair.max_hour = pair.max_hour.max(pair.in_hour);
        if pair.samples.len() < 3 {
            pair.samples.push(Text::from(q));
        }
        pair.sources.push(ev.header.src);
    }

    fn on_watermark(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        let cfg = &self.cfg;
        self.pairs.drain_dirty(|k, p| {
            if now.secs_since(p.last_eval) >= cfg.eval_every_s {
                p.last_eval = now;
                report(cfg, k, p, cx);
            }
        });
        let mut closed = Vec::new();
        self.pairs.evict_idle(now, cfg.idle_s, |k, p| closed.push((k.clone(), p)));
        for (k, mut p) in closed {
            report(cfg, &k, &mut p, cx);
        }
    }

    fn on_finish(&mut self, cx: &mut Ctx<'_>) {
        let cfg = &self.cfg;
        self.pairs.for_each(|k, p| report(cfg, k, p, cx));
    }
}

#[cfg(test)]
mod tests;
