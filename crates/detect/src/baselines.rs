//! Pattern of life: what the organisation's hosts and their peers usually look like.
//!
//! The engine feeds every event to [`Baselines::observe`] before the detectors see it,
//! so at any instant a detector reads the pattern of life up to that instant:
//!
//! * per **external address**: how many distinct internal hosts talk to it
//!   (*prevalence*), since when, and the name it goes by (from DNS answers, TLS SNI,
//!   HTTP `Host`);
//! * per **registered domain**: how many internal hosts look it up or connect to it,
//!   and since when;
//! * per **internal host**: first and last seen, DHCP host name, and the roles its
//!   traffic reveals — a DNS server (answers port 53 for several internal clients), a
//!   domain controller (answers Kerberos for several clients), an internet-facing host
//!   (receives connections from many external addresses);
//! * which (host, address) pairs the host resolved by DNS, so a connection straight to
//!   an address nobody looked up can be told apart.
//!
//! Bounded by construction: prevalence is counted exactly up to [`PREVALENCE_CAP`]
//! hosts and saturates there (rarity only matters at small counts), role evidence is
//! counted up to a few distinct clients, and each map has a size cap beyond which new
//! keys are dropped and counted. Hash maps use a per-process random seed (foldhash),
//! never a fixed one: addresses and names are attacker-controlled.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::IpAddr;

use dwell_model::{Body, DnsMsg, Event, Proto, Text, Timestamp};
use foldhash::fast::RandomState;

use crate::names::registered_domain;

/// Most computer names linked to addresses.
const MAX_HOST_NAMES: usize = 200_000;
use crate::profile::OrgProfile;

/// Distinct internal hosts counted exactly per peer; prevalence saturates here.
pub const PREVALENCE_CAP: usize = 64;

/// Whether a prevalence reached [`PREVALENCE_CAP`] (the true count may be any larger
/// number): such a destination is never rare.
pub fn is_saturated(hosts: usize) -> bool {
    hosts >= PREVALENCE_CAP
}

/// A prevalence as a summary states it: "at least 64" at the cap, else the count.
pub fn hosts_text(hosts: usize) -> String {
    if is_saturated(hosts) {
        format!("at least {PREVALENCE_CAP}")
    } else {
        hosts.to_string()
    }
}

/// Most external peers tracked.
pub const MAX_PEERS: usize = 2_000_000;
/// Most internal hosts tracked.
pub const MAX_HOSTS: usize = 1_000_000;
/// Most registered domains tracked.
pub const MAX_DOMAINS: usize = 1_000_000;
/// Most address → name entries kept.
pub const MAX_NAMES: usize = 1_000_000;
/// Most (host, resolved address) pairs kept.
pub const MAX_RESOLVED: usize = 4_000_000;
/// Distinct clients at which a host's role (resolver, DC) is established.
pub const ROLE_CLIENTS: usize = 3;
/// Distinct external sources at which a host counts as internet-facing.
pub const EDGE_SOURCES: usize = 10;
/// Distinct internal clients of its TCP services at which a host counts as a server: a
/// workstation is reached by a few management and admin hosts, a server by its users.
pub const SERVER_CLIENTS: usize = 10;

/// Distinct values up to a small cap.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
struct Few {
    items: Vec<IpAddr>,
}

impl Few {
    fn merge(&mut self, other: &Few, cap: usize) {
        for ip in &other.items {
            self.add(*ip, cap);
        }
    }
    fn add(&mut self, ip: IpAddr, cap: usize) {
        if self.items.len() < cap && !self.items.contains(&ip) {
            self.items.push(ip);
        }
    }
    fn len(&self) -> usize {
        self.items.len()
    }
}

/// What is known about one external address.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PeerStats {
    /// First contact by any internal host.
    pub first_seen: Timestamp,
    /// Latest contact.
    pub last_seen: Timestamp,
    hosts: Few,
    /// Flows seen.
    pub flows: u64,
}

impl PeerStats {
    /// Distinct internal hosts (saturating at [`PREVALENCE_CAP`]).
    pub fn prevalence(&self) -> usize {
        self.hosts.len()
    }
}

/// What is known about one registered domain.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DomainStats {
    /// First time any internal host used it.
    pub first_seen: Timestamp,
    hosts: Few,
}

impl DomainStats {
    /// Distinct internal hosts (saturating at [`PREVALENCE_CAP`]).
    pub fn prevalence(&self) -> usize {
        self.hosts.len()
    }
}

/// What is known about one internal host.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct HostStats {
    /// First event involving it.
    pub first_seen: Timestamp,
    /// Latest event involving it.
    pub last_seen: Timestamp,
    /// Host name from DHCP, if any.
    pub name: Option<String>,
    /// DNS queries it made.
    pub dns_queries: u64,
    dns_clients: Few,
    krb_clients: Few,
    external_sources: Few,
    /// Internal clients of its TCP services (baseline files written before it lack it).
    #[serde(default)]
    server_clients: Few,
}

/// The baselines.
#[derive(Debug, Default)]
pub struct Baselines {
    peers: HashMap<IpAddr, PeerStats, RandomState>,
    hosts: HashMap<IpAddr, HostStats, RandomState>,
    domains: HashMap<Text, DomainStats, RandomState>,
    names: HashMap<IpAddr, Text, RandomState>,
    /// Computer short name (lower case) → its address, from DHCP, NTLM, Sysmon network
    /// events and remote logons: how endpoint findings find their network identity.
    host_ips: HashMap<String, IpAddr, RandomState>,
    /// Address → the computer name as logged (the reverse of `host_ips`).
    ip_hosts: HashMap<IpAddr, String, RandomState>,
    resolved: HashMap<(IpAddr, IpAddr), Timestamp, RandomState>,
    first: Option<Timestamp>,
    /// Peers not tracked because the map was full.
    pub dropped_peers: u64,
    /// Hosts not tracked because the map was full.
    pub dropped_hosts: u64,
    /// Domains, names and resolutions not tracked because a map was full.
    pub dropped_other: u64,
}

fn few_cap(f: &mut Few, ip: IpAddr, cap: usize) {
    f.add(ip, cap);
}

impl Baselines {
    /// Learns that the computer `name` has the internal address `ip`.
    fn learn_host_ip(&mut self, name: &str, ip: IpAddr, profile: &OrgProfile) {
        if ip.is_loopback() || ip.is_unspecified() || !profile.is_internal(ip) {
            return;
        }
        if let IpAddr::V6(v6) = ip {
            if (v6.segments()[0] & 0xffc0) == 0xfe80 {
                return;
            }
        }
        let key = dwell_model::win::short_host(name);
        if key.is_empty() || key == "-" || key.parse::<IpAddr>().is_ok() {
            return;
        }
        if self.host_ips.len() >= MAX_HOST_NAMES && !self.host_ips.contains_key(&key) {
            self.dropped_other += 1;
            return;
        }
        self.host_ips.insert(key, ip);
        if self.ip_hosts.len() < MAX_HOST_NAMES || self.ip_hosts.contains_key(&ip) {
            self.ip_hosts.insert(ip, name.trim().to_string());
        }
    }

    /// The computer name telemetry gave for an internal address (DHCP, NTLM, Windows
    /// records), if any.
    pub fn host_of_ip(&self, ip: IpAddr) -> Option<&str> {
        self.ip_hosts.get(&ip).map(String::as_str)
    }

    fn observe_win(&mut self, w: &dwell_model::WinEvent, profile: &OrgProfile) {
        use dwell_model::WinKind;
        match w.kind {
            WinKind::NetConnect => {
                // The computer's own end: the source of what it initiated, the
                // destination of what it accepted.
                let initiated = w.get("Initiated").is_some_and(|v| v.eq_ignore_ascii_case("true"));
                let own = if initiated { "SourceIp" } else { "DestinationIp" };
                if let Some(ip) = w.get(own).and_then(|v| v.parse().ok()) {
                    let computer = w.computer.clone();
                    self.learn_host_ip(&computer, ip, profile);
                }
            }
            WinKind::Logon if w.event_id == 4624 => {
                if let (Some(name), Some(ip)) = (
                    w.get("WorkstationName"),
                    w.get("IpAddress").and_then(|v| v.parse::<IpAddr>().ok()),
                ) {
                    let name = name.to_string();
                    self.learn_host_ip(&name, ip, profile);
                }
            }
            _ => {}
        }
    }

    /// The address of a computer known by name (`WS5`, `ws5.corp.local`), if telemetry
    /// linked the two.
    pub fn ip_of_host(&self, name: &str) -> Option<IpAddr> {
        self.host_ips.get(&dwell_model::win::short_host(name)).copied()
    }

    /// Empty baselines.
    pub fn new() -> Self {
        Baselines::default()
    }

    /// Time of the first event seen (the start of the data).
    pub fn start(&self) -> Option<Timestamp> {
        self.first
    }

    /// Learns from one event.
    pub fn observe(&mut self, ev: &Event, profile: &OrgProfile) {
        let ts = ev.ts();
        self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
        match &ev.body {
            Body::Dhcp(d) => {
                if let (Some(ip), Some(name)) = (d.assigned_addr, d.host_name.as_deref()) {
                    if profile.is_internal(ip) {
                        if let Some(h) = self.host_mut(ip, ts) {
                            h.name = Some(name.to_string());
                        }
                        self.learn_host_ip(name, ip, profile);
                    }
                }
            }
            Body::Dns(d) => self.observe_dns(ts, d, profile),
            // A computer asking the KDC as its machine account (`WS01$/CORP.LOCAL`) names
            // the address it asks from.
            Body::Kerberos(k) => {
                let account = k.client.as_deref().map(|c| c.split('/').next().unwrap_or(c));
                if let Some(name) = account.and_then(|a| a.strip_suffix('$')) {
                    if !name.is_empty() {
                        let name = name.to_string();
                        self.learn_host_ip(&name, k.flow.orig_h, profile);
                    }
                }
            }
            Body::Tls(t) => {
                if let Some(sni) = t.server_name.as_deref() {
                    self.learn_name(t.flow.resp_h, sni, profile);
                    if profile.is_internal(t.flow.orig_h) && profile.is_external(t.flow.resp_h) {
                        self.domain_use(sni, t.flow.orig_h, ts);
                    }
                }
            }
            Body::Http(h) => {
                if let Some(host) = h.host.as_deref() {
                    let name = host.rsplit_once(':').map_or(host, |(n, p)| {
                        if p.bytes().all(|b| b.is_ascii_digit()) {
                            n
                        } else {
                            host
                        }
                    });
                    if name.parse::<IpAddr>().is_err() {
                        self.learn_name(h.flow.resp_h, name, profile);
                        if profile.is_internal(h.flow.orig_h) && profile.is_external(h.flow.resp_h)
                        {
                            self.domain_use(name, h.flow.orig_h, ts);
                        }
                    }
                }
            }
            Body::Ntlm(n) => {
                if let Some(name) = n.hostname.as_deref() {
                    self.learn_host_ip(name, n.flow.orig_h, profile);
                }
            }
            Body::Win(w) => self.observe_win(w, profile),
            _ => {}
        }
        let Some(f) = ev.body.flow() else { return };
        let (oi, ri) = (profile.is_internal(f.orig_h), profile.is_internal(f.resp_h));
        if oi {
            self.host_mut(f.orig_h, ts);
        }
        let conn = matches!(ev.body, Body::Conn(_));
        // An address that never answered is not (yet) a host: a sweep of a subnet must not
        // grow the organisation by every address it tried.
        let answered = match &ev.body {
            Body::Conn(c) => answered(c),
            _ => true,
        };
        // Internet sources of connections to it (answered or not) make a host an edge.
        let edge_source = conn && ri && profile.is_external(f.orig_h) && f.proto != Proto::Icmp;
        if ri && (answered || edge_source) {
            if let Some(h) = self.host_mut(f.resp_h, ts) {
                // Roles from who serves whom.
                if conn && oi && answered {
                    match f.resp_p {
                        53 => few_cap(&mut h.dns_clients, f.orig_h, ROLE_CLIENTS),
                        88 => few_cap(&mut h.krb_clients, f.orig_h, ROLE_CLIENTS),
                        _ => {}
                    }
                    if f.proto == Proto::Tcp && f.orig_h != f.resp_h {
                        few_cap(&mut h.server_clients, f.orig_h, SERVER_CLIENTS);
                    }
                }
                if edge_source {
                    few_cap(&mut h.external_sources, f.orig_h, EDGE_SOURCES);
                }
            }
        }
        if !conn {
            return;
        }
        // Prevalence counts flows between an internal host and an external unicast peer.
        let (host, peer) = match (oi, ri) {
            (true, false) if profile.is_external(f.resp_h) => (f.orig_h, f.resp_h),
            (false, true) if profile.is_external(f.orig_h) => (f.resp_h, f.orig_h),
            _ => return,
        };
        let full = self.peers.len() >= MAX_PEERS;
        match self.peers.get_mut(&peer) {
            Some(p) => {
                p.last_seen = p.last_seen.max(ts);
                p.first_seen = p.first_seen.min(ts);
                p.flows += 1;
                p.hosts.add(host, PREVALENCE_CAP);
            }
            None if full => self.dropped_peers += 1,
            None => {
                let mut hosts = Few::default();
                hosts.add(host, PREVALENCE_CAP);
                self.peers
                    .insert(peer, PeerStats { first_seen: ts, last_seen: ts, hosts, flows: 1 });
            }
        }
    }

    fn observe_dns(&mut self, ts: Timestamp, d: &dwell_model::Dns, profile: &OrgProfile) {
        let client = d.flow.orig_h;
        if !profile.is_internal(client) || d.msg == DnsMsg::Response && d.answers.is_empty() {
            return;
        }
        let forwarded = self.is_resolver(client, profile) && profile.is_external(d.flow.resp_h);
        if let Some(h) = self.host_mut(client, ts) {
            h.dns_queries += 1;
        }
        if profile.is_internal(d.flow.resp_h) {
            if let Some(h) = self.host_mut(d.flow.resp_h, ts) {
                few_cap(&mut h.dns_clients, client, ROLE_CLIENTS);
            }
        }
        let Some(q) = d.query.as_deref() else { return };
        if !forwarded {
            self.domain_use(q, client, ts);
        }
        for a in &d.answers {
            if let Ok(ip) = a.parse::<IpAddr>() {
                self.learn_name(ip, q, profile);
                if !forwarded {
                    if self.resolved.len() < MAX_RESOLVED
                        || self.resolved.contains_key(&(client, ip))
                    {
                        self.resolved.insert((client, ip), ts);
                    } else {
                        self.dropped_other += 1;
                    }
                }
            }
        }
    }

    fn learn_name(&mut self, ip: IpAddr, name: &str, profile: &OrgProfile) {
        if !profile.is_external(ip) {
            return;
        }
        if let Some(n) = self.names.get_mut(&ip) {
            if &**n != name {
                *n = Text::from(name);
            }
        } else if self.names.len() < MAX_NAMES {
            self.names.insert(ip, Text::from(name));
        } else {
            self.dropped_other += 1;
        }
    }

    fn domain_use(&mut self, name: &str, host: IpAddr, ts: Timestamp) {
        let reg = registered_domain(name);
        if let Some(d) = self.domains.get_mut(reg.as_str()) {
            d.hosts.add(host, PREVALENCE_CAP);
            d.first_seen = d.first_seen.min(ts);
        } else if self.domains.len() < MAX_DOMAINS {
            let mut hosts = Few::default();
            hosts.add(host, PREVALENCE_CAP);
            self.domains.insert(Text::from(reg), DomainStats { first_seen: ts, hosts });
        } else {
            self.dropped_other += 1;
        }
    }

    fn host_mut(&mut self, ip: IpAddr, ts: Timestamp) -> Option<&mut HostStats> {
        let full = self.hosts.len() >= MAX_HOSTS;
        let h = match self.hosts.entry(ip) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(_) if full => {
                self.dropped_hosts += 1;
                return None;
            }
            Entry::Vacant(v) => v.insert(HostStats {
                first_seen: ts,
                last_seen: ts,
                name: None,
                dns_queries: 0,
                dns_clients: Few::default(),
                krb_clients: Few::default(),
                external_sources: Few::default(),
                server_clients: Few::default(),
            }),
        };
        h.first_seen = h.first_seen.min(ts);
        h.last_seen = h.last_seen.max(ts);
        Some(h)
    }

    /// Stats of an external peer.
    pub fn peer(&self, ip: IpAddr) -> Option<&PeerStats> {
        self.peers.get(&ip)
    }

    /// Distinct internal hosts that talked to `ip` (0 if never seen).
    pub fn prevalence(&self, ip: IpAddr) -> usize {
        self.peers.get(&ip).map_or(0, PeerStats::prevalence)
    }

    /// Stats of a registered domain (give any name under it).
    pub fn domain(&self, name: &str) -> Option<&DomainStats> {
        self.domains.get(registered_domain(name).as_str())
    }

    /// Distinct internal hosts that used the registered domain of `name`.
    pub fn domain_prevalence(&self, name: &str) -> usize {
        self.domain(name).map_or(0, DomainStats::prevalence)
    }

    /// Internal hosts seen so far.
    pub fn internal_hosts(&self) -> usize {
        self.hosts.len()
    }

    /// Share of internal hosts that talked to `ip`, in [0, 1] (see [`Baselines::share`]).
    pub fn prevalence_share(&self, ip: IpAddr) -> f64 {
        self.share(self.prevalence(ip))
    }

    /// Share of the organisation's internal hosts that a prevalence of `hosts` stands
    /// for, in [0, 1]. Prevalence is counted exactly up to [`PREVALENCE_CAP`] and stops
    /// there, so a count at the cap says only "at least that many hosts": in an
    /// organisation of thousands it would read as a small share — and every SaaS
    /// keep-alive, update check and reputation lookup the whole company makes as *rare*.
    /// A destination that many hosts use is as common as rarity can tell: share 1.
    pub fn share(&self, hosts: usize) -> f64 {
        if is_saturated(hosts) {
            1.0
        } else {
            (hosts as f64 / self.internal_hosts().max(1) as f64).min(1.0)
        }
    }

    /// Whether a destination `hosts` internal hosts use is common: at least `min_hosts`
    /// of them, standing for at least `min_share` of the organisation ([`Baselines::share`]).
    pub fn is_common(&self, hosts: usize, min_hosts: usize, min_share: f64) -> bool {
        hosts >= min_hosts && self.share(hosts) >= min_share
    }

    /// Host name of an internal address, if known.
    pub fn host_name(&self, ip: IpAddr) -> Option<&str> {
        self.hosts.get(&ip)?.name.as_deref()
    }

    /// Stats of an internal host.
    pub fn host(&self, ip: IpAddr) -> Option<&HostStats> {
        self.hosts.get(&ip)
    }

    /// The name an external address goes by, if any was seen.
    pub fn name_of(&self, ip: IpAddr) -> Option<&str> {
        self.names.get(&ip).map(|t| &**t)
    }

    /// When `host` last resolved `ip` through DNS, if it did.
    pub fn resolved(&self, host: IpAddr, ip: IpAddr) -> Option<Timestamp> {
        self.resolved.get(&(host, ip)).copied()
    }

    /// Whether `ip` is a DNS resolver (declared, or answering several internal clients).
    pub fn is_resolver(&self, ip: IpAddr, profile: &OrgProfile) -> bool {
        profile.dns_resolvers.contains(ip)
            || self.hosts.get(&ip).is_some_and(|h| h.dns_clients.len() >= ROLE_CLIENTS)
    }

    /// Whether `ip` is a domain controller (answering Kerberos for several clients).
    pub fn is_dc(&self, ip: IpAddr) -> bool {
        self.hosts.get(&ip).is_some_and(|h| h.krb_clients.len() >= ROLE_CLIENTS)
    }

    /// Whether `ip` is internet-facing (declared, or reached by many external addresses).
    pub fn is_edge(&self, ip: IpAddr, profile: &OrgProfile) -> bool {
        profile.edge_hosts.contains(ip)
            || self.hosts.get(&ip).is_some_and(|h| h.external_sources.len() >= EDGE_SOURCES)
    }

    /// Whether `ip` serves TCP to many internal clients (file, mail, web, database...).
    pub fn is_server(&self, ip: IpAddr) -> bool {
        self.hosts.get(&ip).is_some_and(|h| h.server_clients.len() >= SERVER_CLIENTS)
    }

    /// The role of an internal host: as the org profile declares it (`edge`, `resolver`,
    /// `admin`), else as its traffic shows it — `dc` (answers Kerberos for several
    /// clients), `edge` (reached by many internet addresses), `resolver` (answers DNS
    /// for several clients), `server` (serves TCP to many internal clients).
    pub fn role(&self, ip: IpAddr, profile: &OrgProfile) -> Option<&'static str> {
        if let Some(r) = profile.role(ip) {
            // A declared resolver that answers Kerberos is a domain controller.
            return Some(if r == "resolver" && self.is_dc(ip) { "dc" } else { r });
        }
        if self.is_dc(ip) {
            Some("dc")
        } else if self.is_edge(ip, profile) {
            Some("edge")
        } else if self.is_resolver(ip, profile) {
            Some("resolver")
        } else if self.is_server(ip) {
            Some("server")
        } else {
            None
        }
    }

    /// External peers tracked.
    pub fn peers_tracked(&self) -> usize {
        self.peers.len()
    }
}

/// Whether the responder of a connection answered at all (a reset counts: something
/// is there).
fn answered(c: &dwell_model::Conn) -> bool {
    if c.resp_pkts == Some(0) {
        return false;
    }
    !matches!(c.conn_state.as_deref(), Some("S0" | "RSTOS0" | "SH"))
}

#[cfg(test)]
mod tests;

/// Version of the saved-baseline layout.
pub const BASELINE_SCHEMA: u32 = 1;

/// The pattern of life as saved (`--save-baseline`) and loaded (`--baseline`): maps as
/// lists of entries, so the file is plain JSON whatever the key types.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct BaselineFile {
    /// [`BASELINE_SCHEMA`].
    pub schema: u32,
    /// Earliest event of the runs merged into it.
    pub first: Option<Timestamp>,
    peers: Vec<(IpAddr, PeerStats)>,
    hosts: Vec<(IpAddr, HostStats)>,
    domains: Vec<(Text, DomainStats)>,
    names: Vec<(IpAddr, Text)>,
    host_ips: Vec<(String, IpAddr)>,
    resolved: Vec<(IpAddr, IpAddr, Timestamp)>,
}

impl Baselines {
    /// The saveable form (entries sorted, so the same baselines give the same bytes).
    pub fn to_file(&self) -> BaselineFile {
        let mut f = BaselineFile {
            schema: BASELINE_SCHEMA,
            first: self.first,
            peers: self.peers.iter().map(|(k, v)| (*k, v.clone())).collect(),
            hosts: self.hosts.iter().map(|(k, v)| (*k, v.clone())).collect(),
            domains: self.domains.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            names: self.names.iter().map(|(k, v)| (*k, v.clone())).collect(),
            host_ips: self.host_ips.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            resolved: self.resolved.iter().map(|((a, b), t)| (*a, *b, *t)).collect(),
        };
        f.peers.sort_by_key(|e| e.0);
        f.hosts.sort_by_key(|e| e.0);
        f.domains.sort_by(|a, b| a.0.cmp(&b.0));
        f.names.sort_by_key(|e| e.0);
        f.host_ips.sort();
        f.resolved.sort();
        f
    }

    /// Baselines from a saved file; a file of another schema is an error naming both.
    pub fn from_file(f: BaselineFile) -> Result<Baselines, String> {
        if f.schema != BASELINE_SCHEMA {
            return Err(format!(
                "baseline schema {} (this dwell reads schema {BASELINE_SCHEMA})",
                f.schema
            ));
        }
        let mut b = Baselines::new();
        b.merge_file(f);
        Ok(b)
    }

    /// Merges another run's baselines into these: first-seen times take the earlier,
    /// last-seen the later, counts add up, host sets unite (each still capped), names
    /// already known stay. Merging is associative and commutative up to the caps, so
    /// runs over days or sensors can be combined in any order.
    pub fn merge(&mut self, other: &Baselines) {
        self.merge_file(other.to_file());
    }

    fn merge_file(&mut self, f: BaselineFile) {
        self.first = match (self.first, f.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for (ip, p) in f.peers {
            let room = self.peers.len() < MAX_PEERS;
            match self.peers.get_mut(&ip) {
                Some(x) => {
                    x.first_seen = x.first_seen.min(p.first_seen);
                    x.last_seen = x.last_seen.max(p.last_seen);
                    x.flows += p.flows;
                    x.hosts.merge(&p.hosts, PREVALENCE_CAP);
                }
                None if room => {
                    self.peers.insert(ip, p);
                }
                None => self.dropped_peers += 1,
            }
        }
        for (ip, h) in f.hosts {
            let room = self.hosts.len() < MAX_HOSTS;
            match self.hosts.get_mut(&ip) {
                Some(x) => {
                    x.first_seen = x.first_seen.min(h.first_seen);
                    x.last_seen = x.last_seen.max(h.last_seen);
                    if x.name.is_none() {
                        x.name = h.name;
                    }
                    x.dns_queries += h.dns_queries;
                    x.dns_clients.merge(&h.dns_clients, ROLE_CLIENTS);
                    x.krb_clients.merge(&h.krb_clients, ROLE_CLIENTS);
                    x.external_sources.merge(&h.external_sources, EDGE_SOURCES);
                    x.server_clients.merge(&h.server_clients, SERVER_CLIENTS);
                }
                None if room => {
                    self.hosts.insert(ip, h);
                }
                None => self.dropped_hosts += 1,
            }
        }
        for (name, d) in f.domains {
            let room = self.domains.len() < MAX_DOMAINS;
            match self.domains.get_mut(&name) {
                Some(x) => {
                    x.first_seen = x.first_seen.min(d.first_seen);
                    x.hosts.merge(&d.hosts, PREVALENCE_CAP);
                }
                None if room => {
                    self.domains.insert(name, d);
                }
                None => self.dropped_other += 1,
            }
        }
        for (ip, n) in f.names {
            if self.names.len() < MAX_NAMES || self.names.contains_key(&ip) {
                self.names.entry(ip).or_insert(n);
            }
        }
        for (name, ip) in f.host_ips {
            if self.host_ips.len() < MAX_HOST_NAMES || self.host_ips.contains_key(&name) {
                self.ip_hosts.entry(ip).or_insert_with(|| name.clone());
                self.host_ips.entry(name).or_insert(ip);
            }
        }
        for (a, b, t) in f.resolved {
            if self.resolved.len() < MAX_RESOLVED || self.resolved.contains_key(&(a, b)) {
                let e = self.resolved.entry((a, b)).or_insert(t);
                *e = (*e).min(t);
            }
        }
    }
}
