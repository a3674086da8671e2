//! `lateral_movement`: an internal host using administration protocols against
//! another the way an intruder does.
//!
//! **Finds.** Remote service creation (PsExec and its clones), remote scheduled tasks,
//! WMI remote execution, directory replication requested by a machine that is not a
//! domain controller (DCSync), executables written to administrative shares, WinRM and
//! RDP from hosts that do not administer anything, admin-protocol connections from
//! internet-facing hosts into the network, and fan-out across many hosts at once.
//!
//! **ATT&CK.** T1021.001 RDP, T1021.002 SMB/Admin shares, T1021.006 WinRM, T1569.002
//! Service Execution, T1053.005 Scheduled Task, T1047 WMI, T1003.006 DCSync, T1570
//! Lateral Tool Transfer, T1210 Exploitation of Remote Services (Zerologon); stage
//! `lateral_movement` (DCSync: `credential_access`; Zerologon: `privilege_escalation`).
//!
//! **Inputs.** `dce_rpc` (Zeek names, or Suricata's interface UUIDs and operation
//! numbers), `smb` file actions and mappings, `conn` for admin protocols (by port —
//! 3389, 5985/5986, 22, 445/139, 135 — or by the service the sensor recognised from
//! content, so RDP moved to 443 counts as RDP).
//!
//! **Method.** Rules with the host's roles from the baselines (a DC answers Kerberos for
//! several clients; an edge host is reached by many external addresses or declared; an
//! admin host is declared in `admin_hosts` or seen reaching `admin_targets` hosts on
//! admin ports in the first `learn_s` of the data):
//! * DRSUAPI `DRSGetNCChanges`/`DRSReplicaSync` from a non-DC: 85 (DCSync);
//! * 20 or more Netlogon `NetrServerAuthenticate` calls from one host to another within
//!   five minutes: 85, 95 once `NetrServerPasswordSet2` follows (Zerologon, CVE-2020-1472;
//!   a machine sets up its secure channel a few times a day, not twenty times a minute);
//! * `svcctl` service creation or start: 70 (35 from an admin host);
//! * `atsvc`/`ITaskSchedulerService` task registration, WMI `ExecMethod`/`Win32_Process`
//!   creation: 65 (35 from an admin host);
//! * an executable or script written to `ADMIN$`/`C$`/`IPC$`-adjacent admin shares: 75;
//! * from an internet-facing host, any RDP/SMB/WinRM/SSH/RPC connection inside: 70;
//! * WinRM from a non-admin host: 55 (+10 to a DC);
//! * RDP or SSH between internal hosts, from a non-admin host, first seen after the
//!   learning window: 45;
//! * one host reaching `fanout_targets` distinct hosts on admin ports within
//!   `fanout_window_s`: 65.
//!
//! **Thresholds and why.** Service creation, task registration and WMI process creation
//! over the network are what PsExec, Impacket and ransomware affiliates do; admins do it
//! too, from their jump hosts — hence the discount for admin hosts rather than silence.
//! DCSync from a non-DC has no benign explanation short of a misconfigured backup tool.
//!
//! **Known false positives.** Software deployment tools (SCCM, PDQ) that create services
//! remotely from a server not declared as an admin host; a DC not yet recognised (too
//! few clients in the data); helpdesk RDP from workstations. Declare such hosts in
//! `admin_hosts`.
//!
//! **References.** Zeek `dce_rpc.log` operation names; the ATT&CK lateral-movement
//! techniques; Impacket's psexec/wmiexec/atexec/secretsdump network behaviour.

use std::collections::HashMap;
use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Stage, Technique, Timestamp};
use foldhash::fast::RandomState;
use serde_json::json;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::helpers::{probe, Probe};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `lateral_movement`.
    pub struct Config {
        /// Seconds from the start of the data during which admin hosts are learned.
        pub learn_s: f64 = 86_400.0,
        /// Distinct targets on admin ports that make a host an admin host while learning.
        pub admin_targets: usize = 3,
        /// Distinct targets on admin ports that make a fan-out.
        pub fanout_targets: usize = 5,
        /// Window of a fan-out, seconds.
        pub fanout_window_s: f64 = 600.0,
        /// Most sources tracked; beyond it new sources are dropped and counted.
        pub max_sources: usize = 200_000,
    }
}

const T_RDP: Technique = Technique::must("T1021.001");
const T_SMB: Technique = Technique::must("T1021.002");
const T_WINRM: Technique = Technique::must("T1021.006");
const T_SVC: Technique = Technique::must("T1569.002");
const T_TASK: Technique = Technique::must("T1053.005");
const T_WMI: Technique = Technique::must("T1047");
const T_DCSYNC: Technique = Technique::must("T1003.006");
const T_TOOL: Technique = Technique::must("T1570");
const T_SSH: Technique = Technique::must("T1021.004");
const T_REMOTE: Technique = Technique::must("T1021");
const T_EXPLOIT_REMOTE: Technique = Technique::must("T1210");
const T_DISC: Technique = Technique::must("T1018");
static ATTACK: &[Technique] =
    &[T_RDP, T_SMB, T_WINRM, T_SVC, T_TASK, T_WMI, T_DCSYNC, T_TOOL, T_EXPLOIT_REMOTE];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "lateral_movement",
    title: "Lateral movement over administration protocols",
    stage: Stage::LateralMovement,
    attack: ATTACK,
    inputs: &[Kind::Conn, Kind::DceRpc, Kind::Smb],
    doc: "Remote service creation, scheduled tasks and WMI execution over DCE/RPC, DCSync \
          from a non-DC, Zerologon-style Netlogon floods, executables written to admin shares, admin protocols from \
          internet-facing hosts, WinRM/RDP from hosts that administer nothing, and \
          fan-out; discounted from declared or learned admin hosts.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(LateralMovement {
        cfg,
        sources: HashMap::default(),
        edges: HashMap::default(),
        netlogon: HashMap::default(),
    }))
}

/// What an RPC call does, from Zeek's names or Suricata's interface UUID and opnum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RpcAct {
    /// Directory replication (DCSync when not between DCs).
    Replicate,
    /// Remote service creation or start.
    Service,
    /// Remote scheduled task.
    Task,
    /// WMI method execution.
    Wmi,
    /// A Netlogon secure-channel authentication (counted: Zerologon tries thousands).
    NetlogonAuth,
    /// A Netlogon machine-password change.
    NetlogonPasswordSet,
}

/// Classifies a DCE/RPC call.
pub fn rpc_act(endpoint: &str, operation: &str) -> Option<RpcAct> {
    let e = endpoint.to_ascii_lowercase();
    let op = operation;
    let opnum = op.strip_prefix("opnum ").and_then(|n| n.parse::<u32>().ok());
    match e.as_str() {
        "drsuapi" | "e3514235-4b06-11d1-ab04-00c04fc2dcd2" => {
            (matches!(op, "DRSGetNCChanges" | "DRSReplicaSync")
                || matches!(opnum, Some(3) | Some(2)))
            .then_some(RpcAct::Replicate)
        }
        "svcctl" | "367abb81-9844-35f1-ad32-98f038001003" => (op.starts_with("CreateService")
            || op.starts_with("StartService")
            || matches!(opnum, Some(12) | Some(24) | Some(19) | Some(31)))
        .then_some(RpcAct::Service),
        "atsvc" | "1ff70682-0a51-30e8-076d-740be8cee98b" => {
            (op == "NetrJobAdd" || opnum == Some(0)).then_some(RpcAct::Task)
        }
        "itaskschedulerservice" | "86d35949-83c9-4044-b424-db363231fd0c" => {
            (op == "SchRpcRegisterTask" || op == "SchRpcRun" || matches!(opnum, Some(1) | Some(12)))
                .then_some(RpcAct::Task)
        }
        "iwbemservices" | "9556dc99-828c-11cf-a37e-00aa003240c7" => (op.starts_with("ExecMethod")
            || matches!(opnum, Some(24) | Some(25)))
        .then_some(RpcAct::Wmi),
        "netlogon" | "12345678-1234-abcd-ef00-01234567cffb" => {
            if op.starts_with("NetrServerAuthenticate") || matches!(opnum, Some(15 | 26)) {
                Some(RpcAct::NetlogonAuth)
            } else if op == "NetrServerPasswordSet2" || opnum == Some(30) {
                Some(RpcAct::NetlogonPasswordSet)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The admin protocol the sensor recognised from content (Zeek's or the flow meter's
/// service names), whatever the port: RDP moved to 443 or SSH on 2222 is still RDP or
/// SSH — and moving it is how an intruder hides it.
fn admin_service(service: Option<&str>) -> Option<(&'static str, Technique)> {
    let service = service?;
    service.split(',').find_map(|s| {
        Some(match s {
            "rdp" => ("RDP", T_RDP),
            "ssh" => ("SSH", T_SSH),
            "smb" => ("SMB", T_SMB),
            "dce_rpc" => ("RPC", T_REMOTE),
            _ => return None,
        })
    })
}

/// Admin ports and the technique of each.
fn admin_port(port: u16) -> Option<(&'static str, Technique)> {
    Some(match port {
        3389 => ("RDP", T_RDP),
        5985 | 5986 => ("WinRM", T_WINRM),
        22 => ("SSH", T_SSH),
        445 | 139 => ("SMB", T_SMB),
        135 => ("RPC", T_REMOTE),
        _ => return None,
    })
}

#[derive(Debug, Default)]
struct Source {
    /// Distinct admin-port targets seen while learning.
    learned_targets: Vec<IpAddr>,
    /// Recent (time, target) admin-port contacts, for fan-out.
    recent: Vec<(Timestamp, IpAddr)>,
}

/// The detector.
pub struct LateralMovement {
    cfg: Config,
    sources: HashMap<IpAddr, Source, RandomState>,
    /// (src, dst, port) edges seen on interactive admin ports.
    edges: HashMap<(IpAddr, IpAddr, u16), Timestamp, RandomState>,
    /// (src, dst): Netlogon authentications in the current five minutes (start, count).
    netlogon: HashMap<(IpAddr, IpAddr), (Timestamp, u32), RandomState>,
}

struct Hit<'a> {
    src: IpAddr,
    dst: IpAddr,
    port: Option<u16>,
    what: &'a str,
    score: f64,
    attack: Vec<Technique>,
    stage: Stage,
    key: String,
}

impl LateralMovement {
    fn is_admin(&self, ip: IpAddr, cx: &Ctx<'_>) -> bool {
        cx.profile().admin_hosts.contains(ip)
            || self
                .sources
                .get(&ip)
                .is_some_and(|s| s.learned_targets.len() >= self.cfg.admin_targets)
    }

    fn learning(&self, ts: Timestamp, cx: &Ctx<'_>) -> bool {
        cx.baselines().start().is_some_and(|s| ts.secs_since(s) < self.cfg.learn_s)
    }

    fn emit(&self, ev: &Event, h: Hit<'_>, cx: &mut Ctx<'_>) {
        let summary = format!("{} → {}: {}", h.src, h.dst, h.what);
        let mut d = Draft::new(cx.entity(h.src), ev.ts(), h.score, summary);
        d.discriminator = h.key.clone();
        // A fan-out is about the source, not one target: one finding per source.
        d.peer = (h.key != "fanout").then(|| Peer {
            ip: Some(h.dst),
            domain: cx.baselines().host_name(h.dst).map(str::to_string),
            port: h.port,
        });
        d.stage = Some(h.stage);
        d.attack = Some(h.attack);
        d.sources = vec![ev.header.src];
        if let serde_json::Value::Object(m) = json!({
            "what": h.what,
            "source_is_admin_host": self.is_admin(h.src, cx),
            "source_is_edge": cx.baselines().is_edge(h.src, cx.profile()),
            "target_is_dc": cx.baselines().is_dc(h.dst),
        }) {
            d.evidence = m;
        }
        cx.emit(d);
    }
}

impl Detector for LateralMovement {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Some(f) = ev.body.flow().copied() else { return };
        let p = cx.profile();
        if !(p.is_internal(f.orig_h) && p.is_internal(f.resp_h)) || f.orig_h == f.resp_h {
            return;
        }
        let (src, dst) = (f.orig_h, f.resp_h);
        // Who the source is, asked only of the few events that can make a finding.
        let faces_internet = |cx: &Ctx<'_>| cx.baselines().is_edge(src, cx.profile());
        match &ev.body {
            Body::DceRpc(d) => {
                let (Some(e), Some(op)) = (d.endpoint.as_deref(), d.operation.as_deref()) else {
                    return;
                };
                let Some(act) = rpc_act(e, op) else { return };
                let (admin, edge) = (self.is_admin(src, cx), faces_internet(cx));
                let ts = ev.ts();
                let flood = if act == RpcAct::NetlogonAuth {
                    if self.netlogon.len() >= 100_000 && !self.netlogon.contains_key(&(src, dst)) {
                        cx.count("dropped.netlogon_full", 1);
                        return;
                    }
                    let w = self.netlogon.entry((src, dst)).or_insert((ts, 0));
                    if ts.secs_since(w.0) > 300.0 {
                        *w = (ts, 0);
                    }
                    w.1 += 1;
                    if w.1 < 20 {
                        return;
                    }
                    w.1
                } else {
                    self.netlogon.get(&(src, dst)).map_or(0, |w| w.1)
                };
                let what_flood = format!(
                    "{flood} Netlogon authentication attempts within five minutes: Zerologon (CVE-2020-1472) exploitation"
                );
                let what_reset = format!(
                    "the Netlogon machine password was changed after {flood} authentication attempts: Zerologon's domain-controller takeover"
                );
                let hit = match act {
                    RpcAct::NetlogonAuth => Hit {
                        src,
                        dst,
                        port: Some(f.resp_p),
                        what: &what_flood,
                        score: 85.0,
                        attack: vec![T_EXPLOIT_REMOTE],
                        stage: Stage::PrivilegeEscalation,
                        key: "zerologon".into(),
                    },
                    RpcAct::NetlogonPasswordSet if flood >= 20 => Hit {
                        src,
                        dst,
                        port: Some(f.resp_p),
                        what: &what_reset,
                        score: 95.0,
                        attack: vec![T_EXPLOIT_REMOTE],
                        stage: Stage::PrivilegeEscalation,
                        key: "zerologon".into(),
                    },
                    RpcAct::NetlogonPasswordSet => return,
                    RpcAct::Replicate if !cx.baselines().is_dc(src) => Hit {
                        src,
                        dst,
                        port: Some(f.resp_p),
                        what: "directory replication (DRSUAPI DRSGetNCChanges) requested by a host that is not a domain controller: DCSync",
                        score: 85.0,
                        attack: vec![T_DCSYNC],
                        stage: Stage::CredentialAccess,
                        key: "dcsync".into(),
                    },
                    RpcAct::Replicate => return,
                    RpcAct::Service => Hit {
                        src,
                        dst,
                        port: Some(f.resp_p),
                        what: "remote service creation/start over svcctl (PsExec-style execution)",
                        score: if admin { 35.0 } else if edge { 80.0 } else { 70.0 },
                        attack: vec![T_SVC, T_SMB],
                        stage: Stage::LateralMovement,
                        key: "svcctl".into(),
                    },
                    RpcAct::Task => Hit {
                        src,
                        dst,
                        port: Some(f.resp_p),
                        what: "remote scheduled task registration",
                        score: if admin { 35.0 } else { 65.0 },
                        attack: vec![T_TASK],
                        stage: Stage::LateralMovement,
                        key: "task".into(),
                    },
                    RpcAct::Wmi => Hit {
                        src,
                        dst,
                        port: Some(f.resp_p),
                        what: "remote WMI method execution",
                        score: if admin { 35.0 } else { 65.0 },
                        attack: vec![T_WMI],
                        stage: Stage::LateralMovement,
                        key: "wmi".into(),
                    },
                };
                self.emit(ev, hit, cx);
            }
            Body::Smb(s) => {
                let (Some(path), Some(name)) = (s.path.as_deref(), s.name.as_deref()) else {
                    return;
                };
                let share = path.rsplit('\\').next().unwrap_or("").to_ascii_uppercase();
                let write = s.action.as_deref().is_some_and(|a| {
                    a.contains("WRITE") || a.contains("CREATE") || a.contains("OPEN")
                });
                let exe = [".exe", ".dll", ".bat", ".ps1", ".vbs", ".cmd", ".sys", ".scr"]
                    .iter()
                    .any(|x| name.to_ascii_lowercase().ends_with(x));
                let admin_share = share == "ADMIN$" || (share.len() == 2 && share.ends_with('$'));
                if admin_share && write && exe {
                    let admin = self.is_admin(src, cx);
                    let what = format!("executable {name} written to {path}");
                    self.emit(
                        ev,
                        Hit {
                            src,
                            dst,
                            port: Some(445),
                            what: &what,
                            score: if admin { 40.0 } else { 75.0 },
                            attack: vec![T_SMB, T_TOOL],
                            stage: Stage::LateralMovement,
                            key: format!("admin-share:{name}"),
                        },
                        cx,
                    );
                }
            }
            Body::Conn(c) => {
                let Some((proto, tech)) =
                    admin_port(f.resp_p).or_else(|| admin_service(c.service.as_deref()))
                else {
                    return;
                };
                // A probe that carried nothing is the scan detector's; a half-open touch
                // of port 445 is not a session on it.
                if c.conn_state.as_deref() == Some("OTH") || probe(c) != Probe::No {
                    return;
                }
                let ts = ev.ts();
                let learning = self.learning(ts, cx);
                let cfg = &self.cfg;
                let full = self.sources.len() >= cfg.max_sources;
                if full && !self.sources.contains_key(&src) {
                    cx.count("dropped.sources_full", 1);
                    return;
                }
                let s = self.sources.entry(src).or_default();
                if learning && s.learned_targets.len() < 16 && !s.learned_targets.contains(&dst) {
                    s.learned_targets.push(dst);
                }
                let window = cfg.fanout_window_s;
                s.recent.retain(|(t, _)| ts.secs_since(*t) <= window);
                if !s.recent.iter().any(|(_, d)| *d == dst) {
                    s.recent.push((ts, dst));
                }
                let fanout = s.recent.len();
                let admin = self.is_admin(src, cx);
                let to_dc = cx.baselines().is_dc(dst);
                if faces_internet(cx) && !admin {
                    let what = format!("{proto} from an internet-facing host into the network");
                    self.emit(
                        ev,
                        Hit {
                            src,
                            dst,
                            port: Some(f.resp_p),
                            what: &what,
                            score: 70.0,
                            attack: vec![tech],
                            stage: Stage::LateralMovement,
                            key: format!("edge:{proto}"),
                        },
                        cx,
                    );
                } else if proto == "WinRM" && !admin {
                    let what = format!(
                        "WinRM from a host that administers nothing{}",
                        if to_dc { " to a domain controller" } else { "" }
                    );
                    self.emit(
                        ev,
                        Hit {
                            src,
                            dst,
                            port: Some(f.resp_p),
                            what: &what,
                            score: if to_dc { 65.0 } else { 55.0 },
                            attack: vec![T_WINRM],
                            stage: Stage::LateralMovement,
                            key: "winrm".into(),
                        },
                        cx,
                    );
                } else if matches!(proto, "RDP" | "SSH") && !admin && !learning {
                    let new = self.edges.len() < 1_000_000
                        && self.edges.insert((src, dst, f.resp_p), ts).is_none();
                    if new {
                        let what = format!("first {proto} from {src} to {dst}, from a host that administers nothing");
                        self.emit(
                            ev,
                            Hit {
                                src,
                                dst,
                                port: Some(f.resp_p),
                                what: &what,
                                score: 45.0,
                                attack: vec![tech],
                                stage: Stage::LateralMovement,
                                key: format!("new:{proto}"),
                            },
                            cx,
                        );
                    }
                }
                if fanout >= self.cfg.fanout_targets && !admin {
                    let what = format!(
                        "reached {fanout} hosts on admin ports within {:.0} min",
                        window / 60.0
                    );
                    self.emit(
                        ev,
                        Hit {
                            src,
                            dst,
                            port: None,
                            what: &what,
                            score: 65.0,
                            attack: vec![T_REMOTE, T_DISC],
                            stage: Stage::LateralMovement,
                            key: "fanout".into(),
                        },
                        cx,
                    );
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
