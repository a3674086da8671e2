//! `anonymizer`: traffic leaving through Tor, a VPN tunnel or a commercial anonymising
//! service.
//!
//! **Finds.** Intruders relay their command and control and their exfiltration through
//! anonymising infrastructure — Tor, commercial VPNs, circumvention proxies — and
//! implants on compromised hosts open VPN tunnels out. Inside an enterprise, none of
//! those is ordinary from an office network.
//!
//! **ATT&CK.** T1090.003 Multi-hop Proxy; T1572 Protocol Tunneling for VPN tunnels;
//! stage `command_and_control`.
//!
//! **Inputs.** `tls` (server name, certificate), `dns` and `http` names, `conn` (the
//! `wireguard` and `openvpn` services the flow meter recognises from the handshake).
//!
//! **Method.** Per (internal host, kind of anonymiser), from the strongest evidence:
//! * **Tor link certificates**: a server certificate whose subject is `CN=www.<random>.net`
//!   and issuer `CN=www.<random>.com` with nothing else in either — how Tor relays
//!   generate theirs: 75;
//! * **Tor-style server names**: TLS with a server name `www.<8-32 random
//!   characters>.com` to an address the host never resolved (Tor clients invent the
//!   name; browsers resolve what they connect to): 60;
//! * **VPN tunnels out**: a WireGuard or OpenVPN handshake from an internal host to an
//!   external one: 60, 70 from an internet-facing host (a compromised edge device
//!   building a relay);
//! * **anonymising services by name**: DNS, TLS or HTTP names of commercial VPN,
//!   proxy and circumvention services (dwell's own list, [`crate::known::ANONYMIZERS`]):
//!   55.
//!
//! Tor relay addresses from the consensus are an indicator list: give them with
//! `--intel` and `intel_match` reports contact with them.
//!
//! **Thresholds and why.** Each pattern is specific on its own; the scores rank how
//! sure the evidence is, not how often it was seen.
//!
//! **Known false positives.** A sanctioned commercial VPN or WARP client (raise
//! `service_score` in the profile, or exempt it); researchers running Tor; site-to-site
//! WireGuard between the organisation's own sites when their addresses are not in
//! `internal_networks`. **Known misses.** Tor over pluggable transports (obfs4, meek,
//! Snowflake) and TLS 1.3 relays whose certificates are encrypted, when their names do
//! not follow the pattern; proxies hidden behind a CDN (domain fronting).
//!
//! **References.** Tor's link-protocol specification (certificate generation); the
//! WireGuard and OpenVPN protocol documents.

use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Stage, Technique, Timestamp};
use serde_json::json;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{Keyed, Sources};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Scores of `anonymizer`.
    pub struct Config {
        /// Score of a Tor link certificate.
        pub tor_cert_score: f64 = 75.0,
        /// Score of a Tor-style server name to an unresolved address.
        pub tor_name_score: f64 = 60.0,
        /// Score of a VPN tunnel from an internal host.
        pub tunnel_score: f64 = 60.0,
        /// Score of a VPN tunnel from an internet-facing host.
        pub edge_tunnel_score: f64 = 70.0,
        /// Score of a commercial anonymising service named in DNS, TLS or HTTP.
        pub service_score: f64 = 55.0,
        /// Most (host, kind) pairs tracked.
        pub max_pairs: usize = 100_000,
    }
}

const T_MULTIHOP: Technique = Technique::must("T1090.003");
const T_TUNNEL: Technique = Technique::must("T1572");

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "anonymizer",
    title: "Traffic through an anonymiser",
    stage: Stage::CommandAndControl,
    attack: &[T_MULTIHOP, T_TUNNEL],
    inputs: &[Kind::Tls, Kind::Dns, Kind::Http, Kind::Conn],
    doc: "Tor (link-certificate and server-name patterns), WireGuard and OpenVPN tunnels out \
          of the network (more from internet-facing hosts), and commercial VPN, proxy and \
          circumvention services by name.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(Anonymizer { pairs: Keyed::new(cfg.max_pairs), cfg }))
}

/// Whether `label` looks like the random part Tor generates: 8 to 32 characters of
/// lower-case base32 (letters and the digits 2-7); with `digit`, at least one digit
/// (a server name alone must not match an ordinary word).
fn random_label(label: &str, digit: bool) -> bool {
    (8..=32).contains(&label.len())
        && label.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        && (!digit || label.bytes().any(|b| b.is_ascii_digit()))
}

/// `www.<random>.<tld>`.
fn tor_name(name: &str, tld: &str, digit: bool) -> bool {
    name.strip_prefix("www.")
        .and_then(|r| r.strip_suffix(tld))
        .and_then(|r| r.strip_suffix('.'))
        .is_some_and(|l| random_label(l, digit))
}

/// Tor's link certificates: subject `CN=www.<random>.net`, issuer `CN=www.<random>.com`.
fn tor_certificate(subject: &str, issuer: &str) -> bool {
    let cn = |dn: &str, tld| {
        dn.strip_prefix("CN=").is_some_and(|n| !n.contains(',') && tor_name(n, tld, false))
    };
    cn(subject, "net") && cn(issuer, "com")
}

#[derive(Debug)]
struct Seen {
    score: f64,
    what: String,
    attack: Vec<Technique>,
    peer: Peer,
    first: Timestamp,
    last: Timestamp,
    events: u64,
    sources: Sources,
}

/// The detector.
pub struct Anonymizer {
    cfg: Config,
    pairs: Keyed<(IpAddr, &'static str), Seen>,
}

impl Anonymizer {
    #[allow(clippy::too_many_arguments)]
    fn note(
        &mut self,
        cx: &mut Ctx<'_>,
        ev: &Event,
        host: IpAddr,
        kind: &'static str,
        score: f64,
        what: String,
        attack: Vec<Technique>,
        peer: Peer,
    ) {
        let ts = ev.ts();
        let Some(s) = self.pairs.upsert(
            &(host, kind),
            ts,
            || Seen {
                score: 0.0,
                what: String::new(),
                attack: Vec::new(),
                peer: peer.clone(),
                first: ts,
                last: ts,
                events: 0,
                sources: Sources::default(),
            },
            |_, _| cx.count("displaced.pairs", 1),
        ) else {
            return;
        };
        s.events += 1;
        s.first = s.first.min(ts);
        s.last = s.last.max(ts);
        if score > s.score {
            s.score = score;
            s.what = what;
            s.attack = attack;
            s.peer = peer;
        }
        s.sources.push(ev.header.src);
    }
}

fn report(host: IpAddr, kind: &str, s: &Seen, cx: &mut Ctx<'_>) {
    let summary = format!(
        "{host}: {} ({} time{} between {} and {})",
        s.what,
        s.events,
        if s.events == 1 { "" } else { "s" },
        s.first,
        s.last
    );
    let mut d = Draft::new(cx.entity(host), s.first, s.score, summary);
    d.end = s.last;
    d.discriminator = kind.to_string();
    d.peer = Some(s.peer.clone());
    d.attack = Some(s.attack.clone());
    d.sources = s.sources.to_vec();
    if let serde_json::Value::Object(m) = json!({ "kind": kind, "events": s.events }) {
        d.evidence = m;
    }
    cx.emit(d);
}

impl Detector for Anonymizer {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let p = cx.profile();
        match &ev.body {
            Body::Tls(t) => {
                let f = &t.flow;
                if !(p.is_internal(f.orig_h) && p.is_external(f.resp_h)) {
                    return;
                }
                let peer = Peer {
                    ip: Some(f.resp_h),
                    domain: t.server_name.as_deref().map(str::to_string),
                    port: Some(f.resp_p),
                };
                let (subject, issuer) = match &t.cert {
                    Some(c) => (c.subject.as_deref(), c.issuer.as_deref()),
                    None => (t.subject.as_deref(), t.issuer.as_deref()),
                };
                if let (Some(s), Some(i)) = (subject, issuer) {
                    if tor_certificate(s, i) {
                        let what = format!("TLS to {} with a Tor link certificate ({s}, issued by {i}): a Tor relay", f.resp_h);
                        let score = self.cfg.tor_cert_score;
                        self.note(cx, ev, f.orig_h, "tor", score, what, vec![T_MULTIHOP], peer);
                        return;
                    }
                }
                let Some(sni) = t.server_name.as_deref() else { return };
                if tor_name(sni, "com", true)
                    && cx.baselines().resolved(f.orig_h, f.resp_h).is_none()
                {
                    let what = format!("TLS to {} naming the random server {sni}, never resolved: a Tor client's handshake", f.resp_h);
                    let score = self.cfg.tor_name_score;
                    self.note(cx, ev, f.orig_h, "tor", score, what, vec![T_MULTIHOP], peer);
                } else if let Some(service) = crate::known::anonymizer(sni) {
                    let what = format!("TLS to {service} ({sni})");
                    let score = self.cfg.service_score;
                    self.note(cx, ev, f.orig_h, service, score, what, vec![T_MULTIHOP], peer);
                }
            }
            Body::Dns(d) => {
                let client = d.flow.orig_h;
                if !p.is_internal(client) || cx.baselines().is_resolver(client, p) {
                    return;
                }
                let Some(q) = d.query.as_deref() else { return };
                let Some(service) = crate::known::anonymizer(q) else { return };
                let what = format!("looked up {q}, a name of {service}");
                let peer = Peer { ip: None, domain: Some(q.to_string()), port: None };
                let score = self.cfg.service_score;
                self.note(cx, ev, client, service, score, what, vec![T_MULTIHOP], peer);
            }
            Body::Http(h) => {
                let f = &h.flow;
                let Some(host) = h.host.as_deref() else { return };
                let Some(service) = crate::known::anonymizer(host) else { return };
                if !p.is_internal(f.orig_h) {
                    return;
                }
                let what = format!("HTTP to {host}, a name of {service}");
                let peer = Peer {
                    ip: Some(f.resp_h),
                    domain: Some(host.to_string()),
                    port: Some(f.resp_p),
                };
                let score = self.cfg.service_score;
                self.note(cx, ev, f.orig_h, service, score, what, vec![T_MULTIHOP], peer);
            }
            Body::Conn(c) => {
                let f = &c.flow;
                let Some(vpn) =
                    c.service.as_deref().filter(|s| matches!(*s, "wireguard" | "openvpn"))
                else {
                    return;
                };
                if !(p.is_internal(f.orig_h) && p.is_external(f.resp_h)) {
                    return;
                }
                let edge = cx.baselines().is_edge(f.orig_h, p);
                let kind: &'static str = if vpn == "wireguard" { "wireguard" } else { "openvpn" };
                let what = format!(
                    "{vpn} tunnel to {}:{}{} ({} bytes out, {} back)",
                    f.resp_h,
                    f.resp_p,
                    if edge { " from an internet-facing host" } else { "" },
                    c.orig_bytes.unwrap_or(0),
                    c.resp_bytes.unwrap_or(0)
                );
                let score = if edge { self.cfg.edge_tunnel_score } else { self.cfg.tunnel_score };
                let peer = Peer { ip: Some(f.resp_h), domain: None, port: Some(f.resp_p) };
                self.note(cx, ev, f.orig_h, kind, score, what, vec![T_TUNNEL, T_MULTIHOP], peer);
            }
            _ => {}
        }
    }

    fn on_watermark(&mut self, _now: Timestamp, cx: &mut Ctx<'_>) {
        self.pairs.drain_dirty(|(host, kind), s| report(*host, kind, s, cx));
    }

    fn on_finish(&mut self, cx: &mut Ctx<'_>) {
        self.pairs.for_each(|(host, kind), s| report(*host, kind, s, cx));
    }
}

#[cfg(test)]
mod tests;
