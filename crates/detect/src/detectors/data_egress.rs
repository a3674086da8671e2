//! `data_egress`: data leaving for one destination in a way the host does not usually
//! send it.
//!
//! **Finds.** Exfiltration in both tempos: the smash-and-grab bulk upload (gigabytes to
//! cloud storage within hours) and the low-and-slow trickle (tens of megabytes a day in
//! small pieces, for weeks), and uploads to file-sharing services.
//!
//! **ATT&CK.** T1048 Exfiltration Over Alternative Protocol, T1041 Exfiltration Over C2
//! Channel, T1567.002 Exfiltration to Cloud Storage, T1030 Data Transfer Size Limits;
//! stage `exfiltration`.
//!
//! **Inputs.** `conn` events (bytes sent by the originating internal host); the
//! destination's name from the baselines (DNS answers, SNI, HTTP `Host`), so uploads to
//! the several addresses of one service add up under its registered domain.
//!
//! **Method.** Per (internal host, destination address): bytes uploaded per UTC day,
//! flows, and uploads of a megabyte or more. Judged every hour of event time (hosts
//! that uploaded since) and at the end, grouped by destination — the registered domain
//! the address goes by when known by then (so a service's several addresses, and the
//! connections made before its name was seen, add up), else the address:
//! * **bulk** — a day with `bulk_bytes` or more: score 60, +10 per doubling; but if
//!   the host sent a comparable volume (a quarter or more of the peak) there on another
//!   day, it is a routine job (nightly backups) and scores × `routine_weight`;
//! * **file sharing** — `share_bytes` or more to a service on dwell's list of cloud
//!   storage and file-sharing services ([`crate::known::FILE_SHARING`]): score 55, +10
//!   per doubling, +10 when the host first used it more than a day into the data (not
//!   used before);
//! * **slow budget** — `slow_bytes` or more over at least `slow_days` active days in at
//!   least `slow_uploads` pieces to a destination this host alone uses: score 55, +10 if
//!   it is a file-sharing service (T1030: staying under size limits).
//!
//! A destination many hosts use (`common_share` and `common_hosts`) scores ×
//! `common_weight`: company-wide sync and update services are not exfiltration.
//!
//! **Thresholds and why.** 500 MB in a day to one place is more than any user's browsing
//! uploads; 10 MB to a file-sharing service is a document set, not a form post; 100 MB
//! over two days in twenty pieces is the trickle the low-and-slow model describes
//! (~50 MB a day in the reporting) and well above what mail or web forms send to a
//! destination nobody else uses.
//!
//! **Known false positives.** A first backup or migration to a new cloud target; a user
//! sharing large files legitimately; video conferencing to a self-hosted server.
//!
//! **References.** MITRE ATT&CK TA0010; the public reporting's 35-day mean and 48-hour
//! median time to exfiltration.

use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Stage, Technique, Text, Timestamp};
use serde_json::json;
use tinyvec::TinyVec;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{Keyed, Sources};
use crate::meta::DetectorMeta;
use crate::names::registered_domain;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `data_egress`.
    pub struct Config {
        /// Bytes in one UTC day to one destination that make a bulk upload.
        pub bulk_bytes: u64 = 500_000_000,
        /// Bytes to a file-sharing service that are reported.
        pub share_bytes: u64 = 10_000_000,
        /// Bytes over several days that make a slow budget.
        pub slow_bytes: u64 = 100_000_000,
        /// Active days needed for a slow budget.
        pub slow_days: usize = 2,
        /// Uploads of a megabyte or more needed for a slow budget.
        pub slow_uploads: u64 = 20,
        /// Multiplier when the same volume went there on another day (a routine job).
        pub routine_weight: f64 = 0.3,
        /// Share of internal hosts at or above which a destination is shared infrastructure.
        pub common_share: f64 = 0.2,
        /// Hosts needed (as well as the share) for a destination to be shared infrastructure.
        pub common_hosts: usize = 3,
        /// Score multiplier for shared destinations.
        pub common_weight: f64 = 0.3,
        /// Lowest score reported (0-100).
        pub report_score: f64 = 30.0,
        /// Seconds of event time between evaluations of a pair.
        pub eval_every_s: f64 = 3600.0,
        /// Most (host, destination address) pairs tracked; beyond it a new pair displaces
        /// an idle one (judged with its host at its last change) and is counted.
        pub max_pairs: usize = 500_000,
    }
}

const T_ALT: Technique = Technique::must("T1048");
const T_C2: Technique = Technique::must("T1041");
const T_CLOUD: Technique = Technique::must("T1567.002");
const T_LIMIT: Technique = Technique::must("T1030");
static ATTACK: &[Technique] = &[T_ALT, T_C2, T_CLOUD, T_LIMIT];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "data_egress",
    title: "Data leaving the network",
    stage: Stage::Exfiltration,
    attack: ATTACK,
    inputs: &[Kind::Conn],
    doc: "Bytes uploaded per (host, destination) per day: bulk uploads that are not a \
          routine job, uploads to cloud storage and file-sharing services (dwell's own \
          list), and slow budgets — many small uploads adding up over days to a \
          destination no other host uses.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(DataEgress::new(cfg)))
}

#[derive(Clone, Debug, Default)]
struct Pair {
    first: Timestamp,
    last: Timestamp,
    /// (UTC day number, bytes), at most 62 most recent days (one inline: most
    /// destinations of a host are used on one day of a capture).
    days: TinyVec<[(i64, u64); 1]>,
    bytes: u64,
    flows: u64,
    big: u64,
    /// The addresses of a group (per-address pairs leave it empty: the key says it).
    ips: Vec<IpAddr>,
    /// The generation of the host entry that lists this address for judging (0: none).
    listed: u64,
    sources: Sources,
}

/// A host's destination addresses worth judging, and when it was last judged.
#[derive(Debug, Default)]
struct HostUploads {
    /// Addresses that received `GROUP_MIN_BYTES` or more (at most `MAX_JUDGED`).
    judged: Vec<IpAddr>,
    last_eval: Timestamp,
    /// Which entry of this host this is (a displaced host comes back as a new one).
    generation: u64,
}

/// Addresses that received less than this from a host are not grouped when judging
/// (browsing sends kilobytes to thousands of addresses).
const GROUP_MIN_BYTES: u64 = 64 * 1024;
/// Most addresses per host judged (a backup server's thousands of vault addresses are
/// one destination by name); past it an address is counted (`dropped.judged_full`),
/// not judged.
const MAX_JUDGED: usize = 4096;

/// The detector.
pub struct DataEgress {
    cfg: Config,
    /// Per (host, destination address); grouped by destination name when judged.
    pairs: Keyed<(IpAddr, IpAddr), Pair, false>,
    /// Per host: which of its addresses are judged, and which hosts uploaded since the
    /// last evaluation.
    hosts: Keyed<IpAddr, HostUploads>,
    /// Statements made, per (host, destination), so later ones can update them.
    reported: Reported,
    /// Host entries created so far: each entry's generation.
    hosts_made: u64,
    /// Judged pairs displaced since the last evaluation: their hosts are judged with
    /// them at the next (a pair's last uploads may not have been judged yet).
    orphans: Vec<((IpAddr, IpAddr), Pair)>,
}

type Reported = std::collections::HashSet<(IpAddr, Text), foldhash::fast::RandomState>;

fn mb(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else {
        format!("{:.1} MB", b / 1e6)
    }
}

/// Adds `q`, the uploads to address `ip`, into `p` (grouping the addresses of one
/// destination).
fn merge(p: &mut Pair, ip: IpAddr, q: &Pair) {
    if p.flows == 0 {
        *p = q.clone();
        p.ips = vec![ip];
        return;
    }
    p.first = p.first.min(q.first);
    p.last = p.last.max(q.last);
    p.bytes += q.bytes;
    p.flows += q.flows;
    p.big += q.big;
    for (day, v) in &q.days {
        match p.days.iter_mut().find(|(d, _)| d == day) {
            Some((_, x)) => *x += v,
            None => p.days.push((*day, *v)),
        }
    }
    p.days.sort_unstable();
    if p.ips.len() < 4 && !p.ips.contains(&ip) {
        p.ips.push(ip);
    }
    for s in q.sources.iter() {
        p.sources.push(s);
    }
}

/// Judges one (host, destination); returns whether it stated a finding.
fn report(cfg: &Config, key: &(IpAddr, Text), p: &Pair, reported: bool, cx: &mut Ctx<'_>) -> bool {
    let (host, dest) = key;
    let b = cx.baselines();
    let start = b.start().unwrap_or(p.first);
    let service = crate::known::file_sharing(dest);
    let peak = p.days.iter().map(|(_, v)| *v).max().unwrap_or(0);
    let active_days = p.days.iter().filter(|(_, v)| *v > 0).count();
    let routine =
        p.days.iter().filter(|(_, v)| *v as f64 >= peak as f64 / 4.0 && *v > 0).count() >= 2;
    let new_use = p.first.secs_since(start) > 86_400.0;
    let ip_dest = dest.parse::<IpAddr>().ok();
    let prevalence = match ip_dest {
        Some(ip) => b.prevalence(ip),
        None => b.domain_prevalence(dest),
    };
    let common = b.is_common(prevalence, cfg.common_hosts, cfg.common_share);
    let mut score: f64 = 0.0;
    let mut why = Vec::new();
    let mut attack = vec![T_ALT];
    if peak >= cfg.bulk_bytes {
        let mut s = 60.0 + 10.0 * (peak as f64 / cfg.bulk_bytes as f64).log2();
        if routine {
            s *= cfg.routine_weight;
            why.push(format!(
                "{} in one day, but a comparable volume went there on {} days (a routine job)",
                mb(peak as f64),
                p.days.len()
            ));
        } else {
            why.push(format!("{} in one day", mb(peak as f64)));
        }
        score = score.max(s);
    }
    if let Some(name) = service {
        if p.bytes >= cfg.share_bytes {
            let mut s = 55.0 + 10.0 * (p.bytes as f64 / cfg.share_bytes as f64).log2();
            if new_use {
                s += 10.0;
                why.push(format!(
                    "to {name}, first used {:.1} days into the data",
                    p.first.secs_since(start) / 86_400.0
                ));
            } else {
                why.push(format!("to {name}"));
            }
            // A daily trickle to a file-sharing service is the threat itself, not a
            // routine job: no routine discount here.
            score = score.max(s);
            attack.push(T_CLOUD);
        }
    }
    if p.bytes >= cfg.slow_bytes
        && active_days >= cfg.slow_days
        && p.big >= cfg.slow_uploads
        && prevalence <= 1
    {
        let s = 55.0 + if service.is_some() { 10.0 } else { 0.0 };
        why.push(format!("{} pieces of a megabyte or more over {active_days} days to a destination no other host uses", p.big));
        score = score.max(s);
        attack.push(T_LIMIT);
    }
    if score <= 0.0 && !reported {
        return false;
    }
    let mut score = score.min(95.0);
    if common {
        score *= cfg.common_weight;
        let n = crate::baselines::hosts_text(prevalence);
        why.push(format!("{n} hosts use this destination"));
    }
    if score < cfg.report_score && !reported {
        return false;
    }
    let summary = format!(
        "{host} uploaded {} to {dest} in {} flows over {active_days} day{}: {}",
        mb(p.bytes as f64),
        p.flows,
        if active_days == 1 { "" } else { "s" },
        why.join("; ")
    );
    let mut d = Draft::new(cx.entity(*host), p.first, score, summary);
    d.end = p.last;
    d.peer = Some(Peer {
        ip: ip_dest.or_else(|| p.ips.first().copied()),
        domain: if ip_dest.is_some() { None } else { Some(dest.to_string()) },
        port: None,
    });
    attack.sort();
    attack.dedup();
    d.attack = Some(attack);
    d.sources = p.sources.to_vec();
    let days: Vec<serde_json::Value> = p
        .days
        .iter()
        .map(|(day, v)| {
            json!([Timestamp::from_secs(day * 86_400).to_string()[..10].to_string(), v])
        })
        .collect();
    if let serde_json::Value::Object(m) = json!({
        "bytes_out": p.bytes,
        "flows": p.flows,
        "uploads_over_1mb": p.big,
        "peak_day_bytes": peak,
        "active_days": active_days,
        "routine": routine,
        "service": service,
        "first_use_days_into_data": (p.first.secs_since(start) / 86_400.0 * 100.0).round() / 100.0,
        "destination_prevalence": prevalence,
        "addresses": p.ips,
        "bytes_per_day": days,
    }) {
        d.evidence = m;
    }
    cx.emit(d);
    true
}

impl DataEgress {
    fn new(cfg: Config) -> Self {
        DataEgress {
            pairs: Keyed::new(cfg.max_pairs),
            // A host holds at least one pair: never more hosts than pairs.
            hosts: Keyed::new(cfg.max_pairs),
            cfg,
            reported: Default::default(),
            hosts_made: 0,
            orphans: Vec::new(),
        }
    }

    /// Judges each of `hosts` (see [`judge`]), with the displaced pairs held for them,
    /// and lets those go.
    fn judge_hosts(&mut self, mut hosts: Vec<IpAddr>, cx: &mut Ctx<'_>) {
        let mut orphans = std::mem::take(&mut self.orphans);
        // By host, so each host finds its own in one slice (not a scan of all).
        orphans.sort_by_key(|((host, _), _)| *host);
        hosts.extend(orphans.iter().map(|((host, _), _)| *host));
        hosts.sort_unstable();
        hosts.dedup();
        let none = HostUploads::default();
        for host in hosts {
            let h = self.hosts.get(&host).unwrap_or(&none);
            let from = orphans.partition_point(|((o, _), _)| *o < host);
            let to = orphans.partition_point(|((o, _), _)| *o <= host);
            let extra = orphans[from..to].iter().map(|((_, ip), p)| (ip, p));
            judge(&self.cfg, &self.pairs, &mut self.reported, host, h, extra, cx);
        }
    }
}

/// Groups one host's judged addresses by destination name and judges each group.
fn judge<'a>(
    cfg: &Config,
    pairs: &'a Keyed<(IpAddr, IpAddr), Pair, false>,
    reported: &mut Reported,
    host: IpAddr,
    h: &'a HostUploads,
    displaced: impl Iterator<Item = (&'a IpAddr, &'a Pair)>,
    cx: &mut Ctx<'_>,
) {
    let mut groups: std::collections::BTreeMap<Text, Pair> = Default::default();
    let b = cx.baselines();
    // In the order the addresses were first used, not the map's (seeded, so it differs
    // between runs): a group's first address names the finding, and a finding must keep
    // its name from one report to the next and from run to run. A pair displaced
    // since the last evaluation is given in `displaced`.
    let mut dests: Vec<(&IpAddr, &Pair)> =
        h.judged.iter().filter_map(|ip| Some((ip, pairs.get(&(host, *ip))?))).collect();
    dests.extend(displaced);
    dests.sort_by_key(|(ip, p)| (p.first, **ip));
    for (ip, p) in dests {
        let dest = match b.name_of(*ip) {
            Some(n) => Text::from(registered_domain(n).as_str()),
            None => Text::from(ip.to_string().as_str()),
        };
        merge(groups.entry(dest).or_default(), *ip, p);
    }
    let min = cfg.share_bytes.min(cfg.bulk_bytes);
    for (dest, p) in groups {
        let key = (host, dest);
        if reported.contains(&key) {
            report(cfg, &key, &p, true, cx);
        } else if p.bytes >= min && report(cfg, &key, &p, false, cx) {
            reported.insert(key);
        }
    }
}

impl Detector for DataEgress {
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
        let up = c.orig_bytes.or(c.orig_ip_bytes).unwrap_or(0);
        if up == 0 {
            return;
        }
        let ts = ev.ts();
        let DataEgress { cfg, pairs, hosts, reported, hosts_made, orphans } = self;
        // A host displaced to make room (an idle one) is judged first; a displaced pair
        // that was judged is held for its host's next evaluation.
        let init = || {
            *hosts_made += 1;
            HostUploads { generation: *hosts_made, ..HostUploads::default() }
        };
        let displaced = |host, h: HostUploads| {
            cx.count("displaced.hosts", 1);
            judge(cfg, pairs, reported, host, &h, std::iter::empty(), cx);
        };
        let Some(h) = hosts.upsert(&f.orig_h, ts, init, displaced) else {
            return;
        };
        let init = || Pair { first: ts, last: ts, ..Pair::default() };
        let displaced = |key, p: Pair| {
            cx.count("displaced.pairs", 1);
            if p.listed != 0 {
                orphans.push((key, p));
            }
        };
        let Some(pair) = pairs.upsert(&(f.orig_h, f.resp_h), ts, init, displaced) else {
            return;
        };
        pair.first = pair.first.min(ts);
        pair.last = pair.last.max(ts);
        pair.bytes += up;
        pair.flows += 1;
        if up >= 1_000_000 {
            pair.big += 1;
            pair.sources.push(ev.header.src);
        }
        let day = ts.secs().div_euclid(86_400);
        match pair.days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, v)) => *v += up,
            None => {
                pair.days.push((day, up));
                pair.days.sort_unstable();
                if pair.days.len() > 62 {
                    pair.days.remove(0);
                }
            }
        }
        let list = pair.bytes >= GROUP_MIN_BYTES && pair.listed != h.generation;
        if !list {
            return;
        }
        pair.listed = h.generation;
        let host = f.orig_h;
        if h.judged.len() >= MAX_JUDGED {
            // Addresses displaced since they were listed make room first.
            h.judged.retain(|ip| pairs.get(&(host, *ip)).is_some());
        }
        // A displaced address that came back may still be listed.
        if h.judged.contains(&f.resp_h) {
            return;
        }
        if h.judged.len() < MAX_JUDGED {
            h.judged.push(f.resp_h);
        } else {
            cx.count("dropped.judged_full", 1);
        }
    }

    fn on_watermark(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        let every = self.cfg.eval_every_s;
        let mut due = Vec::new();
        self.hosts.drain_dirty(|host, h| {
            if now.secs_since(h.last_eval) >= every {
                h.last_eval = now;
                due.push(*host);
            }
        });
        self.judge_hosts(due, cx);
    }

    fn on_finish(&mut self, cx: &mut Ctx<'_>) {
        let mut all = Vec::new();
        self.hosts.for_each(|host, _| all.push(*host));
        self.judge_hosts(all, cx);
    }
}

#[cfg(test)]
mod tests;
