//! Pattern of life: what the organisation's hosts and their peers usually look like.
//!
//! This first layer is what every detector needs to weigh a behaviour by how common it
//! is: for each **external peer address**, how many distinct internal hosts talk to it
//! (its *prevalence*) and since when; for each **internal host**, when it was first
//! and last seen and its host name when DHCP said it. The engine feeds every event to
//! [`Baselines::observe`] before the detectors see it, so at any instant a detector reads
//! the pattern of life up to that instant.
//!
//! Bounded by construction: prevalence is counted exactly up to [`PREVALENCE_CAP`]
//! hosts and saturates there (rarity only matters at small counts: a peer 64 hosts use
//! is common), and each map has a size cap beyond which new keys are dropped and
//! counted in `dropped_*`. Hash maps use a per-process random seed (foldhash), never a
//! fixed one: peer addresses are attacker-controlled.

use std::collections::HashMap;
use std::net::IpAddr;

use dwell_model::{Body, Event, Timestamp};
use foldhash::fast::RandomState;

use crate::profile::OrgProfile;

/// Distinct internal hosts counted exactly per peer; prevalence saturates here.
pub const PREVALENCE_CAP: usize = 64;
/// Most external peers tracked.
pub const MAX_PEERS: usize = 2_000_000;
/// Most internal hosts tracked.
pub const MAX_HOSTS: usize = 1_000_000;

/// What is known about one external address.
#[derive(Clone, Debug)]
pub struct PeerStats {
    /// First contact by any internal host.
    pub first_seen: Timestamp,
    /// Latest contact.
    pub last_seen: Timestamp,
    /// Distinct internal hosts that talked to it (at most [`PREVALENCE_CAP`]).
    hosts: Vec<IpAddr>,
    /// Flows seen.
    pub flows: u64,
}

impl PeerStats {
    /// Distinct internal hosts (saturating at [`PREVALENCE_CAP`]).
    pub fn prevalence(&self) -> usize {
        self.hosts.len()
    }
}

/// What is known about one internal host.
#[derive(Clone, Debug)]
pub struct HostStats {
    /// First event involving it.
    pub first_seen: Timestamp,
    /// Latest event involving it.
    pub last_seen: Timestamp,
    /// Host name from DHCP, if any.
    pub name: Option<String>,
}

/// The baselines.
#[derive(Debug, Default)]
pub struct Baselines {
    peers: HashMap<IpAddr, PeerStats, RandomState>,
    hosts: HashMap<IpAddr, HostStats, RandomState>,
    /// Peers not tracked because the map was full.
    pub dropped_peers: u64,
    /// Hosts not tracked because the map was full.
    pub dropped_hosts: u64,
}

impl Baselines {
    /// Empty baselines.
    pub fn new() -> Self {
        Baselines::default()
    }

    /// Learns from one event.
    pub fn observe(&mut self, ev: &Event, profile: &OrgProfile) {
        let ts = ev.ts();
        if let Body::Dhcp(d) = &ev.body {
            if let (Some(ip), Some(name)) = (d.assigned_addr, d.host_name.as_deref()) {
                if profile.is_internal(ip) {
                    if let Some(h) = self.host_mut(ip, ts) {
                        h.name = Some(name.to_string());
                    }
                }
            }
        }
        let Some(f) = ev.body.flow() else { return };
        let (oi, ri) = (profile.is_internal(f.orig_h), profile.is_internal(f.resp_h));
        if oi {
            self.host_mut(f.orig_h, ts);
        }
        if ri {
            self.host_mut(f.resp_h, ts);
        }
        // Prevalence counts flows between an internal host and an external unicast peer.
        if !matches!(ev.body, Body::Conn(_)) {
            return;
        }
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
                if p.hosts.len() < PREVALENCE_CAP && !p.hosts.contains(&host) {
                    p.hosts.push(host);
                }
            }
            None if full => self.dropped_peers += 1,
            None => {
                self.peers.insert(
                    peer,
                    PeerStats { first_seen: ts, last_seen: ts, hosts: vec![host], flows: 1 },
                );
            }
        }
    }

    fn host_mut(&mut self, ip: IpAddr, ts: Timestamp) -> Option<&mut HostStats> {
        if !self.hosts.contains_key(&ip) {
            if self.hosts.len() >= MAX_HOSTS {
                self.dropped_hosts += 1;
                return None;
            }
            self.hosts.insert(ip, HostStats { first_seen: ts, last_seen: ts, name: None });
        }
        let h = self.hosts.get_mut(&ip)?;
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

    /// Internal hosts seen so far.
    pub fn internal_hosts(&self) -> usize {
        self.hosts.len()
    }

    /// Share of internal hosts that talked to `ip`, in [0, 1].
    pub fn prevalence_share(&self, ip: IpAddr) -> f64 {
        let n = self.internal_hosts().max(1);
        self.prevalence(ip) as f64 / n as f64
    }

    /// Host name of an internal address, if known.
    pub fn host_name(&self, ip: IpAddr) -> Option<&str> {
        self.hosts.get(&ip)?.name.as_deref()
    }

    /// External peers tracked.
    pub fn peers_tracked(&self) -> usize {
        self.peers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwell_model::{Conn, FileId, Flow, Header, Proto, SourceRef};

    fn conn(t: i64, o: &str, r: &str) -> Event {
        Event {
            header: Header {
                ts: Timestamp::from_secs(t),
                src: SourceRef { file: FileId(0), record: 1 },
                uid: None,
                community_id: None,
            },
            body: Body::Conn(Conn {
                flow: Flow {
                    orig_h: o.parse().unwrap(),
                    orig_p: 1,
                    resp_h: r.parse().unwrap(),
                    resp_p: 443,
                    proto: Proto::Tcp,
                },
                service: None,
                duration: None,
                orig_bytes: None,
                resp_bytes: None,
                conn_state: None,
                local_orig: None,
                local_resp: None,
                missed_bytes: None,
                history: None,
                orig_pkts: None,
                orig_ip_bytes: None,
                resp_pkts: None,
                resp_ip_bytes: None,
            }),
        }
    }

    #[test]
    fn prevalence_counts_distinct_internal_hosts() {
        let p = OrgProfile::default();
        let mut b = Baselines::new();
        b.observe(&conn(1, "10.0.0.1", "93.184.216.34"), &p);
        b.observe(&conn(2, "10.0.0.1", "93.184.216.34"), &p);
        b.observe(&conn(3, "10.0.0.2", "93.184.216.34"), &p);
        b.observe(&conn(4, "93.184.216.34", "10.0.0.3"), &p);
        b.observe(&conn(5, "10.0.0.1", "10.0.0.9"), &p);
        b.observe(&conn(6, "10.0.0.1", "224.0.0.251"), &p);
        let s = b.peer("93.184.216.34".parse().unwrap()).unwrap();
        assert_eq!(s.prevalence(), 3);
        assert_eq!(s.flows, 4);
        assert_eq!(s.first_seen, Timestamp::from_secs(1));
        assert_eq!(b.prevalence("10.0.0.9".parse().unwrap()), 0);
        assert_eq!(b.prevalence("224.0.0.251".parse().unwrap()), 0);
        assert_eq!(b.internal_hosts(), 4);
    }

    #[test]
    fn prevalence_saturates() {
        let p = OrgProfile::default();
        let mut b = Baselines::new();
        for i in 0..200u32 {
            let host = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            b.observe(&conn(i64::from(i), &host, "1.1.1.1"), &p);
        }
        assert_eq!(b.prevalence("1.1.1.1".parse().unwrap()), PREVALENCE_CAP);
    }
}
