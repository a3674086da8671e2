//! `scan`: one host probing many ports of a target, or one service across many hosts.
//!
//! **Finds.** Reconnaissance from inside: a vertical scan (many ports of one host — what
//! an intruder runs against a server it wants), a horizontal sweep (one service — SMB,
//! RDP, WinRM, SSH — across a subnet), a ping sweep; from workstations and above all from
//! internet-facing devices, where most footholds are. Also a compromised host sweeping
//! the internet on one port (worm or proxy-botnet recruitment).
//!
//! **ATT&CK.** T1046 Network Service Discovery; T1018 Remote System Discovery for ping
//! sweeps; stage `discovery`.
//!
//! **Inputs.** `conn` events (Zeek `conn.log`, Suricata `flow`/`netflow`): state, bytes,
//! packets.
//!
//! **Method.** A connection is a *probe* when it carried no payload. With a Zeek state:
//! `S0`, `REJ`, `RSTOS0`, `RSTRH`, `SH`, `SHR` are hard failures (no answer, refused);
//! any other state with no bytes either way is a soft probe (an open port touched and
//! dropped, as a SYN scan does). Without a state (Suricata): no packet back is a hard
//! failure; a TCP exchange of at most two packets each way a soft probe. Answers are not
//! probes: a flow from a well-known service port (below 1024, or SSDP, mDNS, LLMNR,
//! WS-Discovery) to an ephemeral port is a device answering someone's multicast query —
//! one UPnP device answering M-SEARCHes from many ephemeral ports looks like a port scan
//! to a port counter, and is not one. Broadcast and multicast targets are skipped. ICMP
//! echo requests count whatever the answer (live hosts answer a sweep). Per (source,
//! target) the distinct ports probed, and per (source, protocol, port) the distinct
//! targets, are counted over an *episode*: probes no more than `gap_s` apart. A
//! vertical scan is `vertical_ports` or more ports of one target; a sweep is
//! `horizontal_hosts` or more internal targets, or `internet_hosts` or more external
//! targets that failed hard (browsers open many connections they never use, so soft
//! probes to the internet do not count).
//!
//! **Scores.** 55; 65 at five times the threshold; +10 from an internet-facing device;
//! -10 for a vertical scan of an external target. Sources in the profile's `admin_hosts`
//! (where vulnerability scanners live) and scans of the same kind seen on
//! `routine_days` or more days (monitoring, inventory) are leads at 30. Scans of our
//! hosts from the internet are the background noise of every exposed address: counted
//! (`inbound_probes`), never reported.
//!
//! **Thresholds and why.** Benign software fails on a handful of ports or hosts (a
//! printer that is off, a stale mapped drive), not on twenty within the hour; nmap's
//! default scan touches 1000 ports, a subnet sweep 254 hosts.
//!
//! **Known false positives.** Vulnerability scanners and inventory tools not declared as
//! admin hosts (until routine); NetBIOS name queries from a host browsing many shares;
//! peer-to-peer clients. **Known misses.** Scans slower than one probe per `gap_s`;
//! scans from a fixed well-known source port to ephemeral ports (`nmap -g 53`); Suricata
//! flows refused with a reset (counted soft, so they miss the internet sweep).
//!
//! **References.** Zeek `conn.log` `conn_state` semantics; nmap's scan types.

use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Proto, Stage, Technique, Timestamp};
use foldhash::fast::RandomState;
use serde_json::json;
use std::hash::BuildHasher;
use tinyvec::ArrayVec;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{probe, Distinct, Keyed, Probe, Sources};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `scan`.
    pub struct Config {
        /// Distinct ports of one target probed in an episode for a vertical scan.
        pub vertical_ports: u64 = 20,
        /// Distinct internal targets of one service probed in an episode for a sweep.
        pub horizontal_hosts: u64 = 20,
        /// Distinct external targets failing on one service in an episode.
        pub internet_hosts: u64 = 100,
        /// Seconds without a probe that end an episode.
        pub gap_s: f64 = 3600.0,
        /// Days with the same scan after which it is routine (a lead).
        pub routine_days: usize = 3,
        /// Most episodes tracked at once.
        pub max_episodes: usize = 200_000,
    }
}

const T_SERVICE: Technique = Technique::must("T1046");
const T_SYSTEM: Technique = Technique::must("T1018");

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "scan",
    title: "Network scan",
    stage: Stage::Discovery,
    attack: &[T_SERVICE, T_SYSTEM],
    inputs: &[Kind::Conn],
    doc: "An internal host probing many ports of one target (vertical), one service across \
          many hosts (horizontal, ping sweeps), or one port across the internet; answers to \
          multicast queries and inbound internet scanning are not scans.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(Scan::new(cfg)))
}

fn skipped_target(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            v.is_broadcast() || v.is_multicast() || v.is_unspecified() || v.octets()[3] == 255
        }
        IpAddr::V6(v) => v.is_multicast() || v.is_unspecified(),
    }
}

/// What an episode counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// Ports of one target.
    Vertical(IpAddr, IpAddr),
    /// Targets of one service (ICMP echo: port 8 / 128).
    Sweep(IpAddr, Proto, u16),
}

impl Key {
    fn source(&self) -> IpAddr {
        match *self {
            Key::Vertical(s, _) | Key::Sweep(s, _, _) => s,
        }
    }
}

#[derive(Debug, Default)]
struct Episode {
    first: Timestamp,
    last: Timestamp,
    probes: u64,
    hard: u64,
    /// Vertical: distinct ports; sweep: distinct internal targets.
    targets: Distinct,
    /// Sweep: distinct external targets that failed hard.
    internet: Distinct,
    ports: ArrayVec<[u16; 12]>,
    hosts: Vec<IpAddr>,
    sources: Sources,
    reported: u64,
}

/// The detector.
pub struct Scan {
    cfg: Config,
    episodes: Keyed<Key, Episode>,
    /// Days on which each kind of scan crossed its threshold.
    days: Keyed<Key, Vec<i64>, false>,
    hasher: RandomState,
    inbound: u64,
}

impl Scan {
    fn new(cfg: Config) -> Scan {
        Scan {
            episodes: Keyed::new(cfg.max_episodes),
            days: Keyed::new(cfg.max_episodes),
            cfg,
            hasher: RandomState::default(),
            inbound: 0,
        }
    }

    /// Adds a probe to `key`'s episode; an episode idle for longer than `gap_s` is
    /// stated and started afresh, and so is one displaced to make room.
    fn add(&mut self, key: Key, ev: &Event, cx: &mut Ctx<'_>, what: impl FnOnce(&mut Episode)) {
        let ts = ev.ts();
        let fresh = || Episode { first: ts, last: ts, ..Episode::default() };
        let (cfg, days) = (&self.cfg, &mut self.days);
        let displaced = |k, mut e: Episode| {
            cx.count("displaced.episodes", 1);
            report(cfg, k, &mut e, days, cx);
        };
        let Some(e) = self.episodes.upsert(&key, ts, fresh, displaced) else {
            return;
        };
        if ts.secs_since(e.last) > self.cfg.gap_s {
            report(&self.cfg, key, e, &mut self.days, cx);
            *e = fresh();
        }
        e.first = e.first.min(ts);
        e.last = e.last.max(ts);
        e.probes += 1;
        e.sources.push(ev.header.src);
        what(e);
    }
}

/// The number that decides an episode and its threshold.
fn measure(cfg: &Config, key: &Key, e: &Episode, cx: &Ctx<'_>) -> (u64, u64, bool) {
    match key {
        Key::Vertical(_, dst) => {
            let external = cx.profile().is_external(*dst);
            (e.targets.count(), cfg.vertical_ports, external)
        }
        Key::Sweep(..) => {
            let (i, x) = (e.targets.count(), e.internet.count());
            if i >= cfg.horizontal_hosts || x < cfg.internet_hosts {
                (i, cfg.horizontal_hosts, false)
            } else {
                (x, cfg.internet_hosts, true)
            }
        }
    }
}

fn report(
    cfg: &Config,
    key: Key,
    e: &mut Episode,
    days: &mut Keyed<Key, Vec<i64>, false>,
    cx: &mut Ctx<'_>,
) {
    let (n, threshold, external) = measure(cfg, &key, e, cx);
    if n < threshold || n == e.reported {
        return;
    }
    e.reported = n;
    let day = e.last.secs().div_euclid(86_400);
    let seen_days = match days.upsert(&key, e.last, Vec::new, |_, _| {}) {
        Some(d) => {
            if !d.contains(&day) && d.len() < 64 {
                d.push(day);
            }
            d.len()
        }
        None => 1,
    };
    let src = key.source();
    let edge = cx.baselines().is_edge(src, cx.profile());
    let admin = cx.profile().admin_hosts.contains(src);
    let routine = seen_days >= cfg.routine_days;
    let mut score = if n >= 5 * threshold { 65.0 } else { 55.0 };
    if edge {
        score += 10.0;
    }
    if external && matches!(key, Key::Vertical(..)) {
        score -= 10.0;
    }
    if admin || routine {
        score = 30.0;
    }
    let minutes = (e.last.secs_since(e.first) / 60.0).max(1.0);
    let from = if edge { " (an internet-facing host)" } else { "" };
    let why_lead = if admin {
        "; the source is a declared admin host, so this is a lead"
    } else if routine {
        "; the same scan recurs on several days (routine), so this is a lead"
    } else {
        ""
    };
    let (summary, peer, discriminator, attack, title) = match key {
        Key::Vertical(_, dst) => {
            let mut ports = e.ports;
            ports.sort_unstable();
            let shown: Vec<String> = ports.iter().map(u16::to_string).collect();
            (
                format!(
                    "{src}{from} probed {n} ports of {dst} in {minutes:.0} min ({} probes, {} unanswered or refused; e.g. {}){why_lead}",
                    e.probes,
                    e.hard,
                    shown.join(", ")
                ),
                Peer { ip: Some(dst), domain: None, port: None },
                "vertical".to_string(),
                vec![T_SERVICE],
                "Vertical port scan",
            )
        }
        Key::Sweep(_, proto, port) => {
            let icmp = proto == Proto::Icmp;
            let service =
                if icmp { "ICMP echo".to_string() } else { format!("{}/{port}", proto.as_str()) };
            let whose =
                if external { "internet hosts that never answered" } else { "internal hosts" };
            let shown: Vec<String> = e.hosts.iter().map(IpAddr::to_string).collect();
            (
                format!(
                    "{src}{from} probed {service} on {n} {whose} in {minutes:.0} min ({} probes; e.g. {}){why_lead}",
                    e.probes,
                    shown.join(", ")
                ),
                Peer { ip: None, domain: None, port: (!icmp).then_some(port) },
                format!("sweep/{}{}", proto.as_str(), if external { "/internet" } else { "" }),
                vec![if icmp { T_SYSTEM } else { T_SERVICE }],
                if icmp { "Ping sweep" } else { "Horizontal scan" },
            )
        }
    };
    let mut d = Draft::new(cx.entity(src), e.first, score, summary);
    d.end = e.last;
    d.peer = Some(peer);
    d.discriminator = discriminator;
    d.attack = Some(attack);
    d.title = Some(title.to_string());
    d.sources = e.sources.to_vec();
    if let serde_json::Value::Object(m) = json!({
        "distinct": n,
        "threshold": threshold,
        "probes": e.probes,
        "unanswered_or_refused": e.hard,
        "minutes": minutes.round(),
        "probes_per_minute": (e.probes as f64 / minutes * 10.0).round() / 10.0,
        "internet_targets": external,
        "source_edge": edge,
        "source_admin": admin,
        "days_seen": seen_days,
    }) {
        d.evidence = m;
    }
    cx.emit(d);
}

impl Detector for Scan {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Conn(c) = &ev.body else { return };
        let p = probe(c);
        if p == Probe::No {
            return;
        }
        let f = &c.flow;
        if skipped_target(f.resp_h) || f.orig_h == f.resp_h {
            return;
        }
        if !cx.profile().is_internal(f.orig_h) {
            if cx.profile().is_internal(f.resp_h) {
                self.inbound += 1;
            }
            return;
        }
        let hard = p == Probe::Hard;
        let internal_target = cx.profile().is_internal(f.resp_h);
        let icmp = f.proto == Proto::Icmp;
        let port_hash = self.hasher.hash_one((f.proto, f.resp_p));
        let host_hash = self.hasher.hash_one(f.resp_h);
        if !icmp {
            let port = f.resp_p;
            self.add(Key::Vertical(f.orig_h, f.resp_h), ev, cx, |e| {
                e.hard += u64::from(hard);
                if e.targets.add_hash(port_hash)
                    && e.ports.len() < e.ports.capacity()
                    && !e.ports.contains(&port)
                {
                    e.ports.push(port);
                }
            });
        }
        let port = f.resp_p;
        let target = f.resp_h;
        let counts = internal_target || hard;
        if counts {
            self.add(
                Key::Sweep(f.orig_h, f.proto, if icmp { f.orig_p } else { port }),
                ev,
                cx,
                |e| {
                    e.hard += u64::from(hard);
                    let new = if internal_target {
                        e.targets.add_hash(host_hash)
                    } else {
                        e.internet.add_hash(host_hash)
                    };
                    if new && e.hosts.len() < 8 {
                        e.hosts.push(target);
                    }
                },
            );
        }
    }

    fn on_watermark(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        let cfg = &self.cfg;
        let days = &mut self.days;
        self.episodes.drain_dirty(|k, e| report(cfg, *k, e, days, cx));
        self.episodes.evict_idle(now, cfg.gap_s, |_, _| {});
        self.days.evict_idle(now, 30.0 * 86_400.0, |_, _| {});
    }

    fn on_finish(&mut self, cx: &mut Ctx<'_>) {
        let cfg = &self.cfg;
        let days = &mut self.days;
        self.episodes.for_each(|k, e| report(cfg, *k, e, days, cx));
        cx.count("inbound_probes", self.inbound);
    }
}

#[cfg(test)]
mod tests;
