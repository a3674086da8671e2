//! `intel_match`: telemetry that mentions a threat-intelligence indicator.
//!
//! **Finds.** Contact with infrastructure a trusted list already names: C2 addresses
//! and domains, ORB/anonymiser relays, tool-download hosts, known-bad JA3/JA4
//! fingerprints and certificates, file hashes.
//!
//! **ATT&CK.** T1071 Application Layer Protocol (contact), T1071.004 DNS (a lookup of
//! a listed domain), T1105 Ingress Tool Transfer (a listed file seen in transit);
//! stage `command_and_control`, or `initial_access` with no technique for a listed
//! address that only reached *in*.
//!
//! **Inputs.** Every kind that carries a matchable field: addresses of any flow
//! (`conn`, `dns`, `tls`, `http`, `smb`, `dce_rpc`, `rdp`, `ntlm`, `kerberos`, `alert`,
//! `anomaly`, `file`), DNS queries and answers, TLS SNI, JA3/JA3S/JA4/JA4S and
//! certificate fingerprints and SAN names, HTTP `Host`, file MD5/SHA-1/SHA-256.
//!
//! **Method.** Exact lookups: addresses and networks (most specific wins), a domain and
//! all its parents (a listed `example.com` matches `a.b.example.com`), digests
//! case-insensitively. One finding per (internal host, indicator), restated as hits
//! accumulate (count, first/last, fields that matched).
//!
//! **Scores and why.** Direction decides confidence: an internal host that *reaches*
//! a listed address or domain scores 75, a DNS lookup alone 70 (resolving a C2 name is
//! the first step of contacting it), a listed file hash 75; a fingerprint (JA3/JA4,
//! certificate) 60, because common TLS libraries share fingerprints with malware; a
//! listed address that only connects *inbound* is the scanning every internet-facing
//! host receives from blocklisted sources (the CINS/ET lists): 30, or 45 if the
//! internal host answered with data.
//!
//! **Known false positives.** Lists that include shared hosting, CDN or sinkhole
//! addresses; JA3 values of common libraries; stale indicators. The finding carries the
//! list and the description so the analyst can judge the source.
//!
//! **References.** RITA's threat-intel feeds (one IP or domain per line); Zeek's Intel
//! framework (indicator types, subdomain matching).

use std::net::IpAddr;
use std::sync::Arc;

use dwell_model::{Body, Event, Kind, Peer, Stage, Technique, Timestamp};
use serde_json::json;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{Keyed, Sources};
use crate::intel::{Indicator, IntelSet};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Scores of `intel_match`.
    pub struct Config {
        /// Score of an internal host contacting a listed address or domain.
        pub contact_score: f64 = 75.0,
        /// Score of a DNS lookup of a listed domain without a seen connection.
        pub lookup_score: f64 = 70.0,
        /// Score of a listed file hash seen in transit.
        pub file_score: f64 = 75.0,
        /// Score of a listed TLS fingerprint or certificate.
        pub fingerprint_score: f64 = 60.0,
        /// Score of a listed address that only connected inbound.
        pub inbound_score: f64 = 30.0,
        /// Score of a listed address that connected inbound and got data back.
        pub inbound_answered_score: f64 = 45.0,
        /// Most (host, indicator) pairs tracked; beyond it a new one displaces an idle one
        /// and is counted.
        pub max_tracked: usize = 100_000,
    }
}

const T_APP: Technique = Technique::must("T1071");
const T_DNS: Technique = Technique::must("T1071.004");
const T_TOOL: Technique = Technique::must("T1105");
static ATTACK: &[Technique] = &[T_APP, T_DNS, T_TOOL];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "intel_match",
    title: "Threat-intelligence indicator seen",
    stage: Stage::CommandAndControl,
    attack: ATTACK,
    inputs: &[
        Kind::Conn,
        Kind::Dns,
        Kind::Tls,
        Kind::Http,
        Kind::File,
        Kind::Smb,
        Kind::DceRpc,
        Kind::Rdp,
        Kind::Ntlm,
        Kind::Kerberos,
        Kind::Alert,
        Kind::Anomaly,
    ],
    doc: "Matches addresses, networks, domains (with subdomains), JA3/JA4, certificate and \
          file hashes from --intel lists against every event that carries them; one finding \
          per internal host and indicator, scored by direction (outbound contact high, \
          inbound-only scanning low).",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(IntelMatch::new(cfg, cx.intel.clone())))
}

/// How a hit relates the internal host to the indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum How {
    Inbound,
    InboundAnswered,
    Fingerprint,
    Lookup,
    Contact,
    File,
}

#[derive(Debug)]
struct Hit {
    indicator: Indicator,
    peer: Peer,
    first: Timestamp,
    last: Timestamp,
    count: u64,
    how: How,
    fields: Vec<&'static str>,
    sources: Sources,
}

/// The detector.
pub struct IntelMatch {
    cfg: Config,
    intel: Arc<IntelSet>,
    hits: Keyed<(IpAddr, String), Hit>,
}

impl IntelMatch {
    /// A detector over `intel`.
    pub fn new(cfg: Config, intel: Arc<IntelSet>) -> Self {
        IntelMatch { hits: Keyed::new(cfg.max_tracked), cfg, intel }
    }

    /// Records one match of an indicator in `ev`.
    fn hit(&mut self, ev: &Event, m: Match<'_>, cx: &mut Ctx<'_>) {
        let Match { host, ind, peer, how, field } = m;
        let key = (host, format!("{}:{}", ind.kind.as_str(), ind.value));
        let ts = ev.ts();
        let Some(h) = self.hits.upsert(
            &key,
            ts,
            || Hit {
                indicator: ind.clone(),
                peer: peer.clone(),
                first: ts,
                last: ts,
                count: 0,
                how,
                fields: Vec::new(),
                sources: Sources::default(),
            },
            |_, _| cx.count("displaced.tracked", 1),
        ) else {
            return;
        };
        let first_hit = h.count == 0;
        h.count += 1;
        h.first = h.first.min(ts);
        h.last = h.last.max(ts);
        if how > h.how {
            h.how = how;
            h.peer = peer;
        }
        if !h.fields.contains(&field) && h.fields.len() < 8 {
            h.fields.push(field);
        }
        h.sources.push(ev.header.src);
        if first_hit {
            // State it at once; later hits are restated at watermarks.
            let d = draft(&self.cfg, host, h, cx);
            cx.emit(d);
        }
    }
}

/// One indicator found in one event.
struct Match<'i> {
    host: IpAddr,
    ind: &'i Indicator,
    peer: Peer,
    how: How,
    field: &'static str,
}

fn score(cfg: &Config, how: How) -> f64 {
    match how {
        How::Inbound => cfg.inbound_score,
        How::InboundAnswered => cfg.inbound_answered_score,
        How::Fingerprint => cfg.fingerprint_score,
        How::Lookup => cfg.lookup_score,
        How::Contact => cfg.contact_score,
        How::File => cfg.file_score,
    }
}

fn draft(cfg: &Config, host: IpAddr, h: &Hit, cx: &Ctx<'_>) -> Draft {
    let score = score(cfg, h.how);
    let ind = &h.indicator;
    let what = match h.how {
        How::Inbound | How::InboundAnswered => "received connections from",
        How::Lookup => "looked up",
        How::Fingerprint => "used a TLS fingerprint or certificate listed as",
        How::File => "transferred a file listed as",
        How::Contact => "contacted",
    };
    let desc = ind.description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
    let summary = format!(
        "{host} {what} {} {}{desc}, listed in {}; {} record{} between {} and {}",
        ind.kind.as_str(),
        ind.value,
        ind.source,
        h.count,
        if h.count == 1 { "" } else { "s" },
        h.first,
        h.last
    );
    let mut d = Draft::new(cx.entity(host), h.first, score, summary);
    d.end = h.last;
    d.discriminator = format!("{}:{}", ind.kind.as_str(), ind.value);
    d.peer = Some(h.peer.clone());
    match h.how {
        How::Inbound | How::InboundAnswered => {
            d.stage = Some(Stage::InitialAccess);
            d.attack = Some(Vec::new());
        }
        How::Lookup => d.attack = Some(vec![T_DNS]),
        How::File => d.attack = Some(vec![T_TOOL]),
        How::Contact | How::Fingerprint => d.attack = Some(vec![T_APP]),
    }
    d.sources = h.sources.to_vec();
    if let serde_json::Value::Object(m) = json!({
        "indicator": ind.value,
        "indicator_type": ind.kind.as_str(),
        "description": ind.description,
        "list": ind.source,
        "matched_fields": h.fields,
        "records": h.count,
        "direction": match h.how { How::Inbound | How::InboundAnswered => "inbound", _ => "outbound" },
    }) {
        d.evidence = m;
    }
    d
}

impl Detector for IntelMatch {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        if self.intel.is_empty() {
            return;
        }
        let intel = self.intel.clone();
        let p = cx.profile();
        // Addresses of the flow.
        if let Some(f) = ev.body.flow() {
            let (oi, ri) = (p.is_internal(f.orig_h), p.is_internal(f.resp_h));
            if oi {
                if let Some(ind) = intel.ip(f.resp_h) {
                    let peer = Peer { ip: Some(f.resp_h), domain: None, port: Some(f.resp_p) };
                    self.hit(
                        ev,
                        Match { host: f.orig_h, ind, peer, how: How::Contact, field: "id.resp_h" },
                        cx,
                    );
                }
            }
            if ri {
                if let Some(ind) = intel.ip(f.orig_h) {
                    let answered = match &ev.body {
                        Body::Conn(c) => c.resp_bytes.unwrap_or(0) > 0,
                        _ => false,
                    };
                    let how = if answered { How::InboundAnswered } else { How::Inbound };
                    let peer = Peer { ip: Some(f.orig_h), domain: None, port: None };
                    self.hit(ev, Match { host: f.resp_h, ind, peer, how, field: "id.orig_h" }, cx);
                }
            }
            if !oi && !ri && (intel.ip(f.orig_h).is_some() || intel.ip(f.resp_h).is_some()) {
                cx.count("no_internal_side", 1);
            }
        }
        let client = ev.body.flow().map(|f| (f.orig_h, f.resp_h, f.resp_p));
        let Some((host, server, port)) = client.filter(|(h, _, _)| cx.profile().is_internal(*h))
        else {
            return;
        };
        let contact = |domain: &str| Peer {
            ip: Some(server),
            domain: Some(domain.to_string()),
            port: Some(port),
        };
        match &ev.body {
            Body::Dns(d) => {
                if let Some(q) = d.query.as_deref() {
                    if let Some(ind) = intel.domain(q) {
                        let peer = Peer { ip: None, domain: Some(q.to_string()), port: None };
                        self.hit(
                            ev,
                            Match { host, ind, peer, how: How::Lookup, field: "query" },
                            cx,
                        );
                    }
                }
                for a in &d.answers {
                    let found = match a.parse::<IpAddr>() {
                        Ok(ip) => intel.ip(ip),
                        Err(_) => intel.domain(a),
                    };
                    if let Some(ind) = found {
                        let peer = Peer {
                            ip: a.parse().ok(),
                            domain: d.query.as_deref().map(str::to_string),
                            port: None,
                        };
                        self.hit(
                            ev,
                            Match { host, ind, peer, how: How::Lookup, field: "answers" },
                            cx,
                        );
                    }
                }
            }
            Body::Tls(t) => {
                if let Some(sni) = t.server_name.as_deref() {
                    if let Some(ind) = intel.domain(sni) {
                        self.hit(
                            ev,
                            Match {
                                host,
                                ind,
                                peer: contact(sni),
                                how: How::Contact,
                                field: "server_name",
                            },
                            cx,
                        );
                    }
                }
                let fps = [("ja3", &t.ja3), ("ja3s", &t.ja3s), ("ja4", &t.ja4), ("ja4s", &t.ja4s)];
                for (field, v) in fps {
                    if let Some(ind) = v.as_deref().and_then(|v| intel.digest(v)) {
                        let peer = Peer {
                            ip: Some(server),
                            domain: t.server_name.as_deref().map(str::to_string),
                            port: Some(port),
                        };
                        self.hit(ev, Match { host, ind, peer, how: How::Fingerprint, field }, cx);
                    }
                }
                if let Some(c) = &t.cert {
                    let digests = [
                        ("cert.sha1", &c.fingerprint_sha1),
                        ("cert.sha256", &c.fingerprint_sha256),
                    ];
                    for (field, v) in digests {
                        if let Some(ind) = v.as_deref().and_then(|v| intel.digest(v)) {
                            let peer = Peer {
                                ip: Some(server),
                                domain: t.server_name.as_deref().map(str::to_string),
                                port: Some(port),
                            };
                            self.hit(
                                ev,
                                Match { host, ind, peer, how: How::Fingerprint, field },
                                cx,
                            );
                        }
                    }
                    for san in &c.san_dns {
                        if let Some(ind) = intel.domain(san) {
                            self.hit(
                                ev,
                                Match {
                                    host,
                                    ind,
                                    peer: contact(san),
                                    how: How::Contact,
                                    field: "san.dns",
                                },
                                cx,
                            );
                        }
                    }
                }
            }
            Body::Http(h) => {
                if let Some(hostname) = h.host.as_deref() {
                    let name = hostname.rsplit_once(':').map_or(hostname, |(n, p)| {
                        if p.bytes().all(|b| b.is_ascii_digit()) {
                            n
                        } else {
                            hostname
                        }
                    });
                    if name.parse::<IpAddr>().is_err() {
                        if let Some(ind) = intel.domain(name) {
                            self.hit(
                                ev,
                                Match {
                                    host,
                                    ind,
                                    peer: contact(name),
                                    how: How::Contact,
                                    field: "host",
                                },
                                cx,
                            );
                        }
                    }
                }
            }
            Body::File(f) => {
                for (field, v) in [("md5", &f.md5), ("sha1", &f.sha1), ("sha256", &f.sha256)] {
                    if let Some(ind) = v.as_deref().and_then(|v| intel.digest(v)) {
                        let peer = Peer { ip: Some(server), domain: None, port: Some(port) };
                        self.hit(ev, Match { host, ind, peer, how: How::File, field }, cx);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_watermark(&mut self, _now: Timestamp, cx: &mut Ctx<'_>) {
        let mut out = Vec::new();
        let cfg = &self.cfg;
        self.hits.drain_dirty(|(host, _), h| out.push(draft(cfg, *host, h, cx)));
        for d in out {
            cx.emit(d);
        }
    }

    fn on_finish(&mut self, cx: &mut Ctx<'_>) {
        self.on_watermark(cx.now(), cx);
    }
}

#[cfg(test)]
mod tests;
