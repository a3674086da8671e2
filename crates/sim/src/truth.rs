//! `truth.json`: every malicious host, every stage (technique, source, destination,
//! start, end), the true dwell time and time to exfiltration, and the benign traps the
//! simulation planted (traffic that looks suspicious and is not).

use serde::{Deserialize, Serialize};

use dwell_model::{Stage, TempoModel, Timestamp};

use crate::attack::Plan;
use crate::session::Session;
use crate::world::{ip_str, Kind, Role, World};
use crate::SimConfig;

/// One stage as it happened in the data.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageTruth {
    /// Short name.
    pub name: String,
    /// Life-cycle stage.
    pub stage: Stage,
    /// ATT&CK technique ids.
    pub attack: Vec<String>,
    /// Internal hosts involved (the entities findings should name).
    pub hosts: Vec<String>,
    /// External or other-side addresses and names involved.
    pub peers: Vec<String>,
    /// First session.
    pub start: Timestamp,
    /// End of the last session.
    pub end: Timestamp,
    /// Sessions written for it.
    pub sessions: u64,
    /// What happens.
    pub description: String,
}

/// One intrusion.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioTruth {
    /// `smash_and_grab` or `low_and_slow`.
    pub name: String,
    /// Its operating model.
    pub model: TempoModel,
    /// Every internal host it touched.
    pub hosts: Vec<String>,
    /// First evidence.
    pub first_seen: Timestamp,
    /// Last evidence.
    pub last_seen: Timestamp,
    /// Seconds from first to last evidence.
    pub dwell_s: f64,
    /// Seconds from first evidence to the first exfiltration.
    pub time_to_exfil_s: Option<f64>,
    /// The stages.
    pub stages: Vec<StageTruth>,
}

/// Benign traffic built to look suspicious.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Trap {
    /// Short name.
    pub name: String,
    /// What it is and which naive detector it fools.
    pub description: String,
    /// Internal hosts doing it (empty: every host).
    pub hosts: Vec<String>,
    /// Peers (addresses or domains; a domain also covers its subdomains).
    pub peers: Vec<String>,
}

/// The whole truth of a simulation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Truth {
    /// Format version.
    pub schema: u32,
    /// Seed.
    pub seed: u64,
    /// Internal hosts.
    pub hosts: usize,
    /// Start of the data.
    pub start: Timestamp,
    /// End of the data.
    pub end: Timestamp,
    /// Internal networks.
    pub internal_networks: Vec<String>,
    /// Intrusions.
    pub scenarios: Vec<ScenarioTruth>,
    /// Benign traps.
    pub traps: Vec<Trap>,
}

fn is_internal(ip: u32) -> bool {
    ip >> 24 == 10
}

impl Truth {
    /// The truth of a simulation from its plans.
    pub fn build(cfg: &SimConfig, w: &World, plans: &[Plan], start: i64, end: i64) -> Truth {
        let mut scenarios = Vec::new();
        for p in plans {
            let mut stages = Vec::new();
            for (i, sp) in p.stages.iter().enumerate() {
                let ss: Vec<&Session> =
                    p.sessions.iter().filter(|s| s.label.map(|l| l.1) == Some(i as u8)).collect();
                if ss.is_empty() {
                    continue;
                }
                let mut hosts: Vec<String> = Vec::new();
                let mut peers: Vec<String> = Vec::new();
                // A scan touches every address of a subnet; only the scanner is involved.
                let scan = sp.stage == Stage::Discovery;
                for s in &ss {
                    for ip in [s.orig, s.resp] {
                        // A DNS query goes to the resolver (a DC): the host that matters
                        // is the client.
                        let lookup = matches!(s.app, crate::session::App::Dns(_)) || s.resp_p == 53;
                        if (scan || lookup) && ip == s.resp {
                            continue;
                        }
                        // ... and a resolver forwarding it only relays it.
                        if lookup && ip == s.orig && w.dcs.iter().any(|d| w.hosts[*d].ip == ip) {
                            continue;
                        }
                        let text = ip_str(ip);
                        let list = if is_internal(ip) { &mut hosts } else { &mut peers };
                        if !list.contains(&text) {
                            list.push(text);
                        }
                    }
                    let name = match &s.app {
                        crate::session::App::Tls(t) => t.sni.clone(),
                        crate::session::App::Dns(d) => Some(d.query.clone()),
                        crate::session::App::Http(h) => Some(h.host.clone()),
                        _ => None,
                    };
                    if let Some(n) = name {
                        // Drop encoded leading labels (the tunnel's payload, sequence).
                        let n: Vec<&str> = n
                            .split('.')
                            .skip_while(|l| {
                                l.len() > 20 || l.chars().all(|c| c.is_ascii_hexdigit())
                            })
                            .collect();
                        let n = n.join(".");
                        let is_ip = n.parse::<std::net::IpAddr>().is_ok();
                        if !n.is_empty() && !is_ip && !peers.contains(&n) {
                            peers.push(n);
                        }
                    }
                }
                stages.push(StageTruth {
                    name: sp.name.to_string(),
                    stage: sp.stage,
                    attack: sp.attack.iter().map(|s| s.to_string()).collect(),
                    hosts,
                    peers,
                    start: Timestamp(ss.iter().map(|s| s.ts).min().unwrap_or(start)),
                    end: Timestamp(
                        ss.iter().map(|s| s.ts + (s.duration * 1e6) as i64).max().unwrap_or(start),
                    ),
                    sessions: ss.len() as u64,
                    description: sp.description.clone(),
                });
            }
            let first = stages.iter().map(|s| s.start).min().unwrap_or(Timestamp(start));
            let last = stages.iter().map(|s| s.end).max().unwrap_or(first);
            let exfil =
                stages.iter().filter(|s| s.stage == Stage::Exfiltration).map(|s| s.start).min();
            let mut hosts: Vec<String> =
                stages.iter().flat_map(|s| s.hosts.iter().cloned()).collect();
            hosts.sort();
            hosts.dedup();
            scenarios.push(ScenarioTruth {
                name: p.name.to_string(),
                model: p.model,
                hosts,
                first_seen: first,
                last_seen: last,
                dwell_s: last.secs_since(first),
                time_to_exfil_s: exfil.map(|e| e.secs_since(first)),
                stages,
            });
        }
        let name = |k: Kind| w.domains[w.service(k)].name.clone();
        let ip_of = |r: Role| ip_str(w.hosts[w.by_role(r)].ip);
        let first3: Vec<String> =
            w.workstations.iter().take(3).map(|h| ip_str(w.hosts[*h].ip)).collect();
        let traps = vec![
            Trap { name: "ntp".into(), description: "every host syncs time every 1024 s (members with their DC, DCs with time.windows.com): perfectly periodic".into(), hosts: vec![], peers: vec![name(Kind::Ntp)] },
            Trap { name: "os_update".into(), description: "hourly update checks from every host".into(), hosts: vec![], peers: vec!["update.microsoft.com".into(), "download.windowsupdate.com".into()] },
            Trap { name: "av_update".into(), description: "antivirus signature downloads every two hours".into(), hosts: vec![], peers: vec![name(Kind::AvUpdate)] },
            Trap { name: "av_reputation_dns".into(), description: "hash-like DNS labels under one vendor domain from every workstation (high entropy, many unique names)".into(), hosts: vec![], peers: vec![name(Kind::AvReputation)] },
            Trap { name: "saas_keepalive".into(), description: "5-minute TLS keep-alives from every host to one SaaS domain".into(), hosts: vec![], peers: vec![name(Kind::Saas)] },
            Trap { name: "monitoring".into(), description: "the monitoring server polls every server and edge host every 60 s".into(), hosts: vec![ip_of(Role::Monitoring)], peers: vec![] },
            Trap { name: "nightly_backup".into(), description: "30-40 GB from the file server to the backup server at 01:00, 3-5 GB uploaded to a cloud vault at 02:00".into(), hosts: vec![ip_of(Role::BackupServer)], peers: vec![name(Kind::CloudBackup)] },
            Trap { name: "cloud_sync".into(), description: "three workstations upload several MB to a cloud-sync service during working hours".into(), hosts: first3, peers: vec![name(Kind::CloudSync)] },
            Trap { name: "cdn_hashed_names".into(), description: "pages pull from a CDN under hashed host names".into(), hosts: vec![], peers: vec![name(Kind::Cdn)] },
            Trap { name: "admin_rdp_ssh".into(), description: "admins use RDP and SSH from the jump host".into(), hosts: vec![ip_of(Role::JumpHost)], peers: vec![] },
            Trap { name: "approved_rmm".into(), description: "the helpdesk supports users with the approved RMM tool (ScreenConnect)".into(), hosts: vec![], peers: vec![name(Kind::RmmApproved)] },
            Trap { name: "vpn_users".into(), description: "remote workers hold long IPsec sessions to the VPN appliance".into(), hosts: vec![ip_of(Role::Vpn)], peers: vec![] },
            Trap { name: "internet_scanning".into(), description: "scanners probe the DMZ from all over the internet (inbound, unanswered or rejected)".into(), hosts: w.edges.iter().map(|e| ip_str(w.hosts[*e].ip)).collect(), peers: vec![] },
        ];
        Truth {
            schema: 1,
            seed: cfg.seed,
            hosts: cfg.hosts,
            start: Timestamp(start),
            end: Timestamp(end),
            internal_networks: vec!["10.0.0.0/8".into()],
            scenarios,
            traps,
        }
    }
}
