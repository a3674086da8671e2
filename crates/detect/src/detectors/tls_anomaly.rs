//! `tls_anomaly`: TLS to a rare destination with a certificate no legitimate public
//! service would present.
//!
//! **Finds.** C2 servers and relays set up quickly: self-signed certificates, expired or
//! not-yet-valid ones, certificates valid for only a few days — on destinations few
//! internal hosts use.
//!
//! **ATT&CK.** T1573.002 Asymmetric Cryptography, T1587.003 Digital Certificates;
//! stage `command_and_control`.
//!
//! **Inputs.** `tls` events with the server certificate (Zeek `ssl.log` joined to
//! `x509.log`, or EVE `tls` which carries it inline). TLS 1.3 hides the certificate
//! from a passive sensor: those sessions are not judged here.
//!
//! **Method.** For a session from an internal host to an external address, the leaf
//! certificate's anomalies at the time of the session: self-signed (subject equals
//! issuer) 55, expired or not yet valid 45, valid for fewer than `short_validity_days`
//! days 40; two or more anomalies +10. Weighed by rarity: a destination (registered
//! domain of the SNI, else the address) that `common_share` of the hosts (and at least
//! `common_hosts`) use, or a well-known vendor's, × `common_weight`. One finding per
//! (host, destination address).
//!
//! **Thresholds and why.** Public CAs do not issue self-signed leaves, and since 2020
//! certificates last 90–398 days; ten days or fewer is an operator's throwaway. Internal
//! destinations are left out: printers, iLO/iDRAC and appliances present self-signed
//! certificates by the hundred.
//!
//! **Known false positives.** Self-hosted services on the internet (a partner's VPN
//! portal, a home NAS); clocks far off on the sensor (expiry). The certificate's
//! subject and issuer are in the evidence.
//!
//! **References.** JA3/certificate hunting for Cobalt Strike and Sliver default
//! certificates; Zeek `x509.log` validity fields.

use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Stage, Technique, Timestamp};
use serde_json::json;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::Keyed;
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `tls_anomaly`.
    pub struct Config {
        /// Validity (days) at or below which a certificate is throwaway.
        pub short_validity_days: f64 = 10.0,
        /// Share of internal hosts at or above which a destination is shared infrastructure.
        pub common_share: f64 = 0.2,
        /// Hosts needed (as well as the share) for a destination to be shared infrastructure.
        pub common_hosts: usize = 3,
        /// Score multiplier for shared destinations and well-known vendors.
        pub common_weight: f64 = 0.3,
        /// Lowest score reported (0-100).
        pub report_score: f64 = 30.0,
        /// Most (host, destination) pairs tracked.
        pub max_pairs: usize = 200_000,
    }
}

const T_ASYM: Technique = Technique::must("T1573.002");
const T_CERT: Technique = Technique::must("T1587.003");

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "tls_anomaly",
    title: "Suspicious TLS certificate on a rare destination",
    stage: Stage::CommandAndControl,
    attack: &[T_ASYM, T_CERT],
    inputs: &[Kind::Tls],
    doc: "Self-signed, expired, not-yet-valid or very short-lived server certificates on \
          external destinations few internal hosts use (internal destinations are left \
          out); weighted down for shared destinations and well-known vendors.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(TlsAnomaly { pairs: Keyed::new(cfg.max_pairs), cfg }))
}

/// The detector.
pub struct TlsAnomaly {
    cfg: Config,
    pairs: Keyed<(IpAddr, IpAddr), (Timestamp, u64), false>,
}

impl Detector for TlsAnomaly {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Tls(t) = &ev.body else { return };
        let Some(cert) = &t.cert else { return };
        let f = &t.flow;
        let p = cx.profile();
        if !(p.is_internal(f.orig_h) && p.is_external(f.resp_h)) {
            return;
        }
        let ts = ev.ts();
        let mut found: Vec<(&str, f64)> = Vec::new();
        if cert.self_signed() == Some(true) {
            found.push(("self-signed", 55.0));
        }
        if cert.not_valid_after.is_some_and(|a| a < ts) {
            found.push(("expired", 45.0));
        }
        if cert.not_valid_before.is_some_and(|b| b.secs_since(ts) > 86_400.0) {
            found.push(("not yet valid", 45.0));
        }
        if cert
            .validity_s()
            .is_some_and(|v| v >= 0.0 && v <= self.cfg.short_validity_days * 86_400.0)
        {
            found.push(("valid for only a few days", 40.0));
        }
        if found.is_empty() {
            return;
        }
        let key = (f.orig_h, f.resp_h);
        let Some(seen) =
            self.pairs.upsert(&key, ts, || (ts, 0), |_, _| cx.count("displaced.pairs", 1))
        else {
            return;
        };
        seen.1 += 1;
        let (first, sessions) = *seen;
        if sessions > 1 && sessions % 100 != 0 {
            // Stated on first sight; restated every hundred sessions.
            return;
        }
        let mut score = found.iter().map(|(_, s)| *s).fold(0.0, f64::max);
        if found.len() >= 2 {
            score += 10.0;
        }
        let b = cx.baselines();
        let sni = t.server_name.as_deref();
        let prevalence = b.prevalence(f.resp_h).max(sni.map_or(0, |n| b.domain_prevalence(n)));
        let vendor = sni.and_then(crate::known::vendor);
        if vendor.is_some() || b.is_common(prevalence, self.cfg.common_hosts, self.cfg.common_share)
        {
            score *= self.cfg.common_weight;
        }
        if score < self.cfg.report_score {
            return;
        }
        let what: Vec<&str> = found.iter().map(|(w, _)| *w).collect();
        let hosts = crate::baselines::hosts_text(prevalence);
        let summary = format!(
            "{} reached {}{} over TLS with a {} certificate (subject {:?}, issuer {:?}); {hosts} internal host{} use{} this destination",
            f.orig_h,
            sni.map(|s| format!("{s} ")).unwrap_or_default(),
            f.resp_h,
            what.join(", "),
            cert.subject.as_deref().unwrap_or("?"),
            cert.issuer.as_deref().unwrap_or("?"),
            if prevalence == 1 { "" } else { "s" },
            if prevalence == 1 { "s" } else { "" },
        );
        let mut d = Draft::new(cx.entity(f.orig_h), first, score, summary);
        d.end = ts;
        d.peer = Some(Peer {
            ip: Some(f.resp_h),
            domain: sni.map(str::to_string),
            port: Some(f.resp_p),
        });
        d.sources = vec![ev.header.src];
        if let serde_json::Value::Object(m) = json!({
            "anomalies": what,
            "subject": cert.subject,
            "issuer": cert.issuer,
            "not_valid_before": cert.not_valid_before,
            "not_valid_after": cert.not_valid_after,
            "fingerprint_sha1": cert.fingerprint_sha1,
            "fingerprint_sha256": cert.fingerprint_sha256,
            "sessions": sessions,
            "destination_prevalence": prevalence,
            "ja3": t.ja3,
        }) {
            d.evidence = m;
        }
        cx.emit(d);
    }
}

#[cfg(test)]
mod tests;
