//! `http_anomaly`: plain-HTTP requests that are tools at work, not people browsing.
//!
//! **Finds.** Tool transfer over HTTP (scripts and executables fetched by command-line
//! clients from raw addresses or rare hosts), C2 over HTTP with malformed requests (no
//! `Host` header, made-up user agents), and POST-heavy sessions to rare hosts.
//!
//! **ATT&CK.** T1105 Ingress Tool Transfer, T1071.001 Web Protocols; stages
//! `execution` and `command_and_control`.
//!
//! **Inputs.** `http` events from internal clients to external servers (Zeek `http.log`,
//! EVE `http`). Downloads by internet-facing hosts are `edge_device`'s.
//!
//! **Method.**
//! * **tool download** — a GET of an executable or script path (`.exe`, `.dll`, `.ps1`,
//!   `.sh`, `.hta`, ... — not `.js`, which every web page loads) or by a command-line client (`curl`, `Wget`, PowerShell,
//!   `certutil`, `python-requests`, BITS) from a raw address or a domain no other
//!   internal host uses: 60 (70 when both);
//! * **no Host header** — `max(empty_host_min, ...)` or more requests to one server with
//!   an empty or missing `Host` (HTTP/1.1 requires it; browsers always send it): 50, +5
//!   when the user agent is not a browser's;
//! * **POST-heavy** — `post_min` or more requests to one rare host, at least
//!   `post_share` of them POSTs: 45 (a lead; APIs do this too). OCSP and CRL responders
//!   (POSTs by design) and well-known vendors are left out.
//!
//! **Thresholds and why.** Browsers send `Host` and a `Mozilla/5.0 ...` agent, fetch
//! scripts from the sites they render, and mostly GET; implants and download cradles do
//! not.
//!
//! **Known false positives.** Package managers and updaters over plain HTTP from a
//! mirror only one host uses; IoT devices with sloppy HTTP stacks.
//!
//! **References.** RITA's "missing host header" modifier; LOLBAS download cradles.

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
    /// Thresholds of `http_anomaly`.
    pub struct Config {
        /// Requests without a Host header to one server that are reported.
        pub empty_host_min: u64 = 5,
        /// Requests to one rare host needed for the POST-heavy rule.
        pub post_min: u64 = 10,
        /// Share of POSTs for the POST-heavy rule.
        pub post_share: f64 = 0.8,
        /// Most (client, server) pairs tracked.
        pub max_pairs: usize = 200_000,
    }
}

const T_TOOL: Technique = Technique::must("T1105");
const T_WEB: Technique = Technique::must("T1071.001");

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "http_anomaly",
    title: "HTTP that is a tool at work",
    stage: Stage::CommandAndControl,
    attack: &[T_TOOL, T_WEB],
    inputs: &[Kind::Http],
    doc: "Executables and scripts fetched by command-line clients from raw addresses or \
          rare hosts, requests without a Host header (with non-browser agents), and \
          POST-heavy sessions to rare hosts.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(HttpAnomaly { pairs: Keyed::new(cfg.max_pairs), cfg }))
}

const CLI: &[&str] = &[
    "wget",
    "curl",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "powershell",
    "certutil",
    "microsoft bits",
    "bitsadmin",
    "libwww-perl",
    "winhttp",
    "java/",
];
const TOOLS: &[&str] = &[
    ".exe", ".dll", ".ps1", ".psm1", ".bat", ".cmd", ".vbs", ".hta", ".sh", ".elf", ".jar", ".msi",
    ".scr",
];

#[derive(Debug, Default)]
struct Pair {
    requests: u64,
    posts: u64,
    empty_host: u64,
    agents: Vec<String>,
    first: Timestamp,
    stated: [bool; 2],
}

/// The detector.
pub struct HttpAnomaly {
    cfg: Config,
    pairs: Keyed<(IpAddr, IpAddr), Pair, false>,
}

impl Detector for HttpAnomaly {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Http(h) = &ev.body else { return };
        let f = &h.flow;
        let p = cx.profile();
        if !(p.is_internal(f.orig_h) && p.is_external(f.resp_h))
            || cx.baselines().is_edge(f.orig_h, p)
        {
            return;
        }
        let ts = ev.ts();
        let host = h.host.as_deref().unwrap_or("").trim();
        let name = host.rsplit_once(':').map_or(host, |(n, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                n
            } else {
                host
            }
        });
        let raw = name.is_empty() || name.parse::<IpAddr>().is_ok();
        let b = cx.baselines();
        let rare = raw || (b.domain_prevalence(name) <= 1 && crate::known::vendor(name).is_none());
        let ua = h.user_agent.as_deref().unwrap_or("");
        let ua_l = ua.to_ascii_lowercase();
        let browser = ua.starts_with("Mozilla/5.0");
        let uri = h.uri.as_deref().unwrap_or("");
        let path = uri.split('?').next().unwrap_or("").to_ascii_lowercase();
        let method = h.method.as_deref().unwrap_or("");
        // Tool download.
        let cli = CLI.iter().find(|c| ua_l.contains(*c));
        let tool = TOOLS.iter().find(|x| path.ends_with(*x));
        if method == "GET"
            && rare
            && (cli.is_some() || tool.is_some())
            && h.status_code.is_none_or(|s| s < 400)
        {
            let score = if cli.is_some() && tool.is_some() { 70.0 } else { 60.0 };
            let summary = format!(
                "{} fetched http://{}{uri} with {:?} from a {} ({} bytes)",
                f.orig_h,
                if name.is_empty() { f.resp_h.to_string() } else { name.to_string() },
                ua,
                if raw { "raw address" } else { "host no other internal host uses" },
                h.response_body_len.unwrap_or(0)
            );
            let mut d = Draft::new(cx.entity(f.orig_h), ts, score, summary);
            d.discriminator = format!("download:{path}");
            // Through a proxy the Host is the real destination.
            let target = name.parse::<IpAddr>().unwrap_or(f.resp_h);
            d.peer = Some(Peer {
                ip: Some(target),
                domain: (!raw).then(|| name.to_string()),
                port: Some(f.resp_p),
            });
            d.stage = Some(Stage::Execution);
            d.attack = Some(vec![T_TOOL]);
            d.sources = vec![ev.header.src];
            if let serde_json::Value::Object(m) = json!({"uri": uri, "user_agent": ua, "response_bytes": h.response_body_len, "cli_client": cli, "tool_extension": tool})
            {
                d.evidence = m;
            }
            cx.emit(d);
        }
        let cfg = &self.cfg;
        let Some(pair) = self.pairs.upsert(
            &(f.orig_h, f.resp_h),
            ts,
            || Pair { first: ts, ..Pair::default() },
            |_, _| cx.count("displaced.pairs", 1),
        ) else {
            return;
        };
        pair.requests += 1;
        if method == "POST" {
            pair.posts += 1;
        }
        if name.is_empty() {
            pair.empty_host += 1;
        }
        if pair.agents.len() < 3 && !pair.agents.iter().any(|a| a == ua) {
            pair.agents.push(ua.to_string());
        }
        if pair.empty_host >= cfg.empty_host_min && (!pair.stated[0] || pair.empty_host % 100 == 0)
        {
            pair.stated[0] = true;
            let score = if browser { 50.0 } else { 55.0 };
            let summary = format!(
                "{} sent {} HTTP requests without a Host header to {} (user agent {:?})",
                f.orig_h, pair.empty_host, f.resp_h, ua
            );
            let mut d = Draft::new(cx.entity(f.orig_h), pair.first, score, summary);
            d.end = ts;
            d.discriminator = "no-host".into();
            d.peer = Some(Peer { ip: Some(f.resp_h), domain: None, port: Some(f.resp_p) });
            d.attack = Some(vec![T_WEB]);
            d.sources = vec![ev.header.src];
            if let serde_json::Value::Object(m) = json!({"requests": pair.requests, "without_host": pair.empty_host, "user_agents": pair.agents})
            {
                d.evidence = m;
            }
            cx.emit(d);
        }
        let share = pair.posts as f64 / pair.requests as f64;
        // Certificate status checks are POSTs by design (OCSP, RFC 6960).
        let revocation = name.starts_with("ocsp.")
            || name.starts_with("crl.")
            || crate::known::vendor(name).is_some();
        if rare
            && !revocation
            && pair.requests >= cfg.post_min
            && share >= cfg.post_share
            && !pair.stated[1]
        {
            pair.stated[1] = true;
            let summary = format!(
                "{} made {} requests to {}, {:.0} % of them POSTs, to a host no other internal host uses",
                f.orig_h,
                pair.requests,
                if name.is_empty() { f.resp_h.to_string() } else { name.to_string() },
                share * 100.0
            );
            let mut d = Draft::new(cx.entity(f.orig_h), pair.first, 45.0, summary);
            d.end = ts;
            d.discriminator = "post-heavy".into();
            d.peer = Some(Peer {
                ip: Some(f.resp_h),
                domain: (!raw).then(|| name.to_string()),
                port: Some(f.resp_p),
            });
            d.attack = Some(vec![T_WEB]);
            cx.emit(d);
        }
    }
}

#[cfg(test)]
mod tests;
