//! `rmm_tool`: remote-management software the organisation did not approve, or used
//! where or when it should not be.
//!
//! **Finds.** Intruders' favourite persistence and lateral-movement channel that is not
//! malware: AnyDesk, ScreenConnect, TeamViewer, Atera, Splashtop, RustDesk, ngrok-style
//! tunnels and thirty-odd more, installed by the intruder or abused where already
//! present.
//!
//! **ATT&CK.** T1219 Remote Access Software; stage `command_and_control`.
//!
//! **Inputs.** `dns` queries, `tls` SNI, `http` Host — whichever names the tool's relay.
//!
//! **Method.** A name under one of the tools' relay domains (dwell's own list,
//! [`crate::known::RMM_TOOLS`], 38 tools) identifies the tool on the internal client;
//! so do the TLS ALPN a tool announces (`anydesk`), the RFB banner of VNC, and — for
//! sessions that carried data both ways — a tool's own port
//! ([`crate::known::RMM_PORTS`]: TeamViewer 5938, AnyDesk 7070, RustDesk 21115-21119,
//! NetSupport 5405, Radmin 4899, VNC 5900-5906, ...). A session into an internal host
//! from the internet names that host, and is external remote access (T1133): +5.
//! The org profile's ledger (`[[rmm.approved]]`: tool, hosts, hours) decides:
//! * approved tool, on an allowed host, within allowed hours: nothing;
//! * approved tool outside its hosts or hours: 55;
//! * a tool not in the ledger: 65, 75 on a server or domain controller (RMM belongs on
//!   workstations and the helpdesk);
//! * no ledger at all: 45 — the tool is seen, but whether it is sanctioned is unknown.
//!
//! One finding per (host, tool), with the first and last use and the relay names.
//!
//! **Thresholds and why.** Public reporting has intruders bring their own RMM tool in a
//! large share of intrusions precisely because it blends in; a ledger is the only way to
//! tell sanctioned use from abuse, so the score follows what the ledger says.
//!
//! **Known false positives.** Staff using a personal remote-access tool; a vendor's
//! support session on a server. Add them to the ledger with hosts and hours.
//!
//! **References.** CISA AA23-025A (RMM abuse); the tools' published relay domains.

use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Stage, Technique, Text, Timestamp};
use serde_json::json;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{Keyed, Sources};
use crate::meta::DetectorMeta;
use crate::profile::{HostSpec, OrgProfile};
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Scores of `rmm_tool`.
    pub struct Config {
        /// Score of a tool not in the ledger.
        pub unapproved_score: f64 = 65.0,
        /// Score of a tool not in the ledger on a server or domain controller.
        pub server_score: f64 = 75.0,
        /// Score of an approved tool used outside its hosts or hours.
        pub out_of_bounds_score: f64 = 55.0,
        /// Score of any tool when the profile has no ledger.
        pub no_ledger_score: f64 = 45.0,
        /// Most (host, tool) pairs tracked.
        pub max_pairs: usize = 100_000,
    }
}

const T_RMM: Technique = Technique::must("T1219");

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "rmm_tool",
    title: "Remote-management tool outside the approved ledger",
    stage: Stage::CommandAndControl,
    attack: &[T_RMM],
    inputs: &[Kind::Dns, Kind::Tls, Kind::Http, Kind::Conn],
    doc: "Identifies 38 remote-management tools by their relay domains (anydesk, \
          screenconnect, teamviewer, atera, splashtop, netsupport, rustdesk, meshcentral, \
          tacticalrmm, logmein, zoho_assist, simplehelp, level, action1, ngrok, cloudflared, \
          remote_utilities, supremo, beyondtrust, kaseya, n_able, pulseway, ninjaone, \
          dameware, goto, showmypc, isl_online, getscreen, dwservice, remotepc, parsec, \
          chrome_remote_desktop, ammyy, radmin, fixme_it, xeox, zerotier, vnc), by ALPN, by \
          the RFB banner and by the tools' own ports, and checks each use against the org \
          profile's [[rmm.approved]] ledger (tool, hosts, hours).",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(RmmTool { pairs: Keyed::new(cfg.max_pairs), cfg }))
}

#[derive(Debug)]
struct Use {
    /// A session came in from the internet.
    inbound: bool,
    first: Timestamp,
    last: Timestamp,
    events: u64,
    names: Vec<Text>,
    verdict: Verdict,
    sources: Sources,
}

/// What the ledger says of one use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Approved here and now.
    Approved,
    /// Approved, but not on this host or not at this hour.
    OutOfBounds,
    /// Not in the ledger.
    Unapproved,
    /// No ledger configured.
    NoLedger,
}

/// The ledger's verdict on `tool` used by `ip` (host name `name`) at `ts`.
pub fn verdict(
    profile: &OrgProfile,
    tool: &str,
    ip: Option<IpAddr>,
    name: Option<&str>,
    ts: Timestamp,
) -> Verdict {
    if profile.rmm_approved.is_empty() {
        return Verdict::NoLedger;
    }
    let entries: Vec<_> = profile.rmm_approved.iter().filter(|a| a.tool == tool).collect();
    if entries.is_empty() {
        return Verdict::Unapproved;
    }
    let local = ts.secs() + i64::from(profile.utc_offset_s);
    let minute = (local.rem_euclid(86_400) / 60) as u16;
    let ok = entries.iter().any(|a| {
        let host_ok = a.hosts.is_empty()
            || a.hosts.iter().any(|h| match h {
                HostSpec::Net(n) => ip.is_some_and(|ip| n.contains(&ip)),
                HostSpec::Name(n) => name.is_some_and(|x| {
                    x.eq_ignore_ascii_case(n)
                        || dwell_model::win::short_host(x) == dwell_model::win::short_host(n)
                }),
            });
        let hour_ok = a.hours.is_none_or(|r| r.contains(minute));
        host_ok && hour_ok
    });
    if ok {
        Verdict::Approved
    } else {
        Verdict::OutOfBounds
    }
}

/// The detector.
pub struct RmmTool {
    cfg: Config,
    pairs: Keyed<(IpAddr, &'static str), Use>,
}

impl Detector for RmmTool {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let p = cx.profile();
        let mut inbound = false;
        let (client, tool, name): (IpAddr, &'static str, String) = match &ev.body {
            Body::Dns(d) => {
                let Some(n) = d.query.as_deref() else { return };
                let Some(t) = crate::known::rmm_tool(n) else { return };
                (d.flow.orig_h, t, n.to_string())
            }
            Body::Tls(t) => {
                let by_name = t
                    .server_name
                    .as_deref()
                    .and_then(|n| crate::known::rmm_tool(n).map(|x| (x, n.to_string())));
                let by_alpn = (t.next_protocol.as_deref() == Some("anydesk"))
                    .then(|| ("anydesk", "ALPN anydesk".to_string()));
                let Some((tool, name)) = by_name.or(by_alpn) else { return };
                (t.flow.orig_h, tool, name)
            }
            Body::Http(h) => {
                let Some(n) = h.host.as_deref() else { return };
                let Some(t) = crate::known::rmm_tool(n) else { return };
                (h.flow.orig_h, t, n.to_string())
            }
            Body::Conn(c) => {
                let f = &c.flow;
                let by_banner = (c.service.as_deref() == Some("rfb")).then_some("vnc");
                let both_ways = c.orig_bytes.unwrap_or(0) > 0 && c.resp_bytes.unwrap_or(0) > 0;
                let by_port = if both_ways { crate::known::rmm_port(f.resp_p) } else { None };
                let Some(tool) = by_banner.or(by_port) else { return };
                let how = if by_banner.is_some() {
                    "RFB banner".to_string()
                } else {
                    format!("port {}", f.resp_p)
                };
                if p.is_internal(f.orig_h) {
                    (f.orig_h, tool, how)
                } else if p.is_internal(f.resp_h) {
                    inbound = true;
                    (f.resp_h, tool, format!("{how}, from {}", f.orig_h))
                } else {
                    return;
                }
            }
            _ => return,
        };
        let name = name.as_str();
        if !p.is_internal(client)
            || cx.baselines().is_resolver(client, p) && matches!(ev.body, Body::Dns(_))
        {
            return;
        }
        let ts = ev.ts();
        let host_name = cx.baselines().host_name(client).map(str::to_string);
        let v = verdict(p, tool, Some(client), host_name.as_deref(), ts);
        if v == Verdict::Approved {
            cx.count("approved_uses", 1);
            return;
        }
        let Some(u) = self.pairs.upsert(
            &(client, tool),
            ts,
            || Use {
                inbound,
                first: ts,
                last: ts,
                events: 0,
                names: Vec::new(),
                verdict: v,
                sources: Sources::default(),
            },
            |_, _| cx.count("displaced.pairs", 1),
        ) else {
            return;
        };
        u.events += 1;
        u.inbound |= inbound;
        u.first = u.first.min(ts);
        u.last = u.last.max(ts);
        if u.names.len() < 4 && !u.names.iter().any(|n| &**n == name) {
            u.names.push(Text::from(name));
        }
        u.sources.push(ev.header.src);
        if u.events == 1 {
            let d = draft(&self.cfg, client, tool, u, cx);
            cx.emit(d);
        }
    }

    fn on_watermark(&mut self, _now: Timestamp, cx: &mut Ctx<'_>) {
        let cfg = &self.cfg;
        let mut out = Vec::new();
        self.pairs.drain_dirty(|(host, tool), u| out.push(draft(cfg, *host, tool, u, cx)));
        for d in out {
            cx.emit(d);
        }
    }

    fn on_finish(&mut self, cx: &mut Ctx<'_>) {
        self.on_watermark(cx.now(), cx);
    }
}

fn draft(cfg: &Config, host: IpAddr, tool: &str, u: &Use, cx: &Ctx<'_>) -> Draft {
    let b = cx.baselines();
    let server =
        b.is_dc(host) || b.is_resolver(host, cx.profile()) || cx.profile().role(host).is_some();
    let (score, why) = match u.verdict {
        Verdict::NoLedger => (
            cfg.no_ledger_score,
            "no RMM ledger is configured, so whether it is sanctioned is unknown",
        ),
        Verdict::OutOfBounds => (
            cfg.out_of_bounds_score,
            "the tool is approved, but not on this host or not at this hour",
        ),
        Verdict::Unapproved if server => {
            (cfg.server_score, "the tool is not in the approved ledger, and this is a server")
        }
        Verdict::Unapproved => (cfg.unapproved_score, "the tool is not in the approved ledger"),
        Verdict::Approved => (0.0, "approved"),
    };
    let (score, why) = if u.inbound && score > 0.0 {
        (score + 5.0, format!("{why}; sessions came in from the internet (external remote access)"))
    } else {
        (score, why.to_string())
    };
    let summary = format!(
        "{host} used {tool} ({}) {} time{} between {} and {}: {why}",
        u.names.join(", "),
        u.events,
        if u.events == 1 { "" } else { "s" },
        u.first,
        u.last
    );
    let mut d = Draft::new(cx.entity(host), u.first, score, summary);
    d.end = u.last;
    d.discriminator = tool.to_string();
    d.peer = Some(Peer { ip: None, domain: u.names.first().map(|n| n.to_string()), port: None });
    d.sources = u.sources.to_vec();
    if u.inbound {
        d.attack = Some(vec![T_RMM, Technique::must("T1133")]);
    }
    if let serde_json::Value::Object(m) = json!({
        "inbound": u.inbound,
        "tool": tool,
        "relay_names": u.names,
        "uses": u.events,
        "verdict": format!("{:?}", u.verdict),
    }) {
        d.evidence = m;
    }
    d
}

#[cfg(test)]
mod tests;
