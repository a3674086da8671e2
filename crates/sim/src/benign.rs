//! The benign enterprise: what every hour of every host looks like.
//!
//! Generators are stateless per (host, task, hour): each draws from its own stream
//! ([`Rng::new`] keyed by seed, host, task and hour), and periodic tasks place their
//! k-th occurrence at `phase + k·period + jitter(k)`, so any hour can be produced alone
//! and the result does not depend on the order of generation.
//!
//! Besides users browsing on a weekday rhythm (DNS lookups before TLS or HTTP, Zipf
//! popularity, stable addresses per domain, one browser fingerprint per host), the
//! traffic every real network carries and that naive detectors mistake for intrusions:
//! NTP every 1024 s, hourly OS update checks, antivirus updates and reputation lookups
//! with hash-like DNS labels under one vendor domain, 5-minute SaaS keep-alives from
//! every host, monitoring polls every 60 s, nightly backups (internal and to a cloud
//! vault), cloud-sync uploads from a few hosts, CDN hashed host names, admins on RDP and
//! SSH from the jump host, the approved RMM tool used by the helpdesk, VPN users, mail,
//! and internet scanning noise against the DMZ.

use crate::rng::{key, mix, Rng};
use crate::session::{App, DceRpc, Dns, Http, Proto, Session, Smb, State, Tls};
use crate::world::{Kind, Role, World, CLIENTS};

/// Microseconds per second.
pub const US: i64 = 1_000_000;
/// Seconds per hour.
pub const HOUR: i64 = 3600;

/// Hour of day (UTC) and whether it is a weekday, for a time in µs.
pub fn clock(t_us: i64) -> (u32, bool) {
    let s = t_us.div_euclid(US);
    let hour = (s.rem_euclid(86_400) / 3600) as u32;
    let day = s.div_euclid(86_400);
    let weekday = (day + 3).rem_euclid(7) < 5; // 1970-01-01 was a Thursday
    (hour, weekday)
}

/// Working hours (07:00–17:00 UTC on weekdays) weight in [0, 1].
pub fn work_weight(t_us: i64) -> f64 {
    let (h, weekday) = clock(t_us);
    match (weekday, h) {
        (true, 8..=11) | (true, 13..=16) => 1.0,
        (true, 7) | (true, 12) | (true, 17) => 0.6,
        (true, 18..=21) => 0.12,
        (false, 9..=20) => 0.08,
        _ => 0.015,
    }
}

/// A TLS session to generate: when, between whom, with what, how much.
#[derive(Clone, Copy, Debug)]
pub struct TlsFlow<'a> {
    /// Start, µs.
    pub t: i64,
    /// Client address.
    pub src: u32,
    /// Server address.
    pub dst: u32,
    /// SNI.
    pub sni: Option<&'a str>,
    /// Server certificate (index into the world's certificates).
    pub cert: Option<usize>,
    /// Index of the client fingerprint in [`CLIENTS`].
    pub client: usize,
    /// Application bytes up.
    pub up: u64,
    /// Application bytes down.
    pub down: u64,
    /// Seconds.
    pub dur: f64,
}

/// The generator of one hour.
pub struct Hour<'w> {
    /// The organisation.
    pub w: &'w World,
    /// Start of the hour, µs.
    pub t0: i64,
    /// Sessions produced.
    pub out: Vec<Session>,
}

const EPHEMERAL: u64 = 16_384;

/// An ephemeral source port.
pub fn eport(r: &mut Rng) -> u16 {
    (49_152 + r.below(EPHEMERAL)) as u16
}

/// The TLS record of one of the fleet's clients ([`CLIENTS`]) talking TLS 1.3 or 1.2 to
/// `sni` (the server's certificate shows only under TLS 1.2).
pub fn client_tls(client: usize, v13: bool, sni: Option<&str>, cert: Option<usize>) -> Tls {
    let c = &CLIENTS[client % CLIENTS.len()];
    Tls {
        sni: sni.map(str::to_string),
        version: if v13 { "TLSv13" } else { "TLSv12" },
        cipher: if v13 {
            "TLS_AES_128_GCM_SHA256"
        } else {
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        },
        ja3: c.ja3,
        ja4: c.ja4,
        ja3s: if v13 {
            "f4febc55ea12b31ae17cfb7e614afda8"
        } else {
            "ec74a5c51106f0419184d0dd08fb05bc"
        },
        cert: if v13 { None } else { cert },
    }
}

impl<'w> Hour<'w> {
    /// A generator for the hour starting at `t0` (µs).
    pub fn new(w: &'w World, t0: i64) -> Self {
        Hour { w, t0, out: Vec::with_capacity(64 * w.hosts.len() + 1024) }
    }

    fn rng(&self, keys: &[u64]) -> Rng {
        let mut k = vec![self.w.seed, self.t0 as u64];
        k.extend_from_slice(keys);
        Rng::new(&k)
    }

    /// Occurrences of a periodic task of `host` in this hour: `phase + k·period +
    /// jitter`, jitter uniform in ±`jitter_frac`·period.
    fn periodic(&self, host: u64, task: u64, period_s: f64, jitter_frac: f64) -> Vec<(i64, u64)> {
        let period = (period_s * US as f64) as i64;
        let phase = (mix(&[self.w.seed, host, task, 1]) % period as u64) as i64;
        let (t0, t1) = (self.t0, self.t0 + HOUR * US);
        let slack = (period as f64 * jitter_frac) as i64 + 1;
        let kmin = ((t0 - phase - slack) as f64 / period as f64).floor() as i64;
        let kmax = ((t1 - phase + slack) as f64 / period as f64).ceil() as i64;
        let mut v = Vec::new();
        for k in kmin.max(0)..=kmax {
            let j = mix(&[self.w.seed, host, task, k as u64 + 7]);
            let u = (j >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            let t = phase + k * period + (u * jitter_frac * period as f64) as i64;
            if t >= t0 && t < t1 {
                v.push((t, k as u64));
            }
        }
        v
    }

    /// A DNS lookup by `host` through its resolver; forwarded upstream on a cache miss.
    pub fn lookup(
        &mut self,
        t: i64,
        host: usize,
        name: &str,
        qtype: u16,
        answers: std::sync::Arc<[String]>,
        r: &mut Rng,
    ) {
        self.lookup_rcode(t, host, name, qtype, answers, 0, r);
    }

    /// A lookup of a name that does not exist (NXDOMAIN).
    fn lookup_nx(&mut self, t: i64, host: usize, name: &str, r: &mut Rng) {
        self.lookup_rcode(t, host, name, 1, std::sync::Arc::from(Vec::new()), 3, r);
    }

    #[allow(clippy::too_many_arguments)]
    fn lookup_rcode(
        &mut self,
        t: i64,
        host: usize,
        name: &str,
        qtype: u16,
        answers: std::sync::Arc<[String]>,
        rcode: u16,
        r: &mut Rng,
    ) {
        let w = self.w;
        let client = w.hosts[host].ip;
        let dc = w.resolver_of(host);
        let ttl = if qtype == 16 { 0 } else { 300 };
        let dns = Dns { query: name.to_string(), qtype, rcode, answers, ttl };
        // Sizes follow from the messages (`exact`).
        let mut s =
            Session::udp(t, client, eport(r), w.hosts[dc].ip, 53).sized(0, 0, 0.002 + r.exp(0.01));
        s.service = Some("dns");
        s.app = App::Dns(dns.clone());
        self.out.push(s);
        // Cache misses go out to the upstream resolver (and are what the sensor sees
        // leaving the network).
        if r.chance(0.35) {
            let mut f = Session::udp(t + 800, w.hosts[dc].ip, eport(r), w.upstream_dns, 53).sized(
                0,
                0,
                0.015 + r.exp(0.02),
            );
            f.service = Some("dns");
            f.app = App::Dns(dns);
            self.out.push(f);
        }
    }

    /// A TLS session.
    pub fn tls(&mut self, f: TlsFlow<'_>, r: &mut Rng) -> &mut Session {
        let TlsFlow { t, src, dst, sni, cert, client, up, down, dur } = f;
        let v13 = client != 3 && r.chance(0.85);
        let tls = client_tls(client, v13, sni, cert);
        let mut s = Session::tcp(t, src, eport(r), dst, 443).sized(up + 500, down + 3000, dur);
        s.service = Some("ssl");
        s.app = App::Tls(tls);
        self.out.push(s);
        let n = self.out.len() - 1;
        &mut self.out[n]
    }

    /// Every benign activity of the hour.
    pub fn benign(&mut self) {
        let w = self.w;
        for h in 0..w.hosts.len() {
            self.host_hour(h);
        }
        self.servers_hour();
        self.internet_hour();
    }

    fn host_hour(&mut self, h: usize) {
        let w = self.w;
        let host = &w.hosts[h];
        let hk = u64::from(host.ip);
        let mut r = self.rng(&[hk, 1]);
        let client = (mix(&[w.seed, hk, 3]) % 3) as usize;
        let is_ws = matches!(host.role, Role::Workstation | Role::Helpdesk);
        let dc_ip = w.hosts[w.resolver_of(h)].ip;
        // NTP every 1024 s: members to their DC, DCs to a public time server.
        for (t, _) in self.periodic(hk, key("ntp"), 1024.0, 0.002) {
            let dst =
                if host.role == Role::Dc { w.domains[w.service(Kind::Ntp)].ips[0] } else { dc_ip };
            let mut s = Session::udp(t, host.ip, 123, dst, 123).sized(48, 48, 0.01 + r.exp(0.01));
            s.service = Some("ntp");
            self.out.push(s);
        }
        // Hourly OS update check.
        for (t, _) in self.periodic(hk, key("update"), 3600.0, 0.05) {
            let d = &w.domains[w.service(Kind::Update)];
            if r.chance(0.3) {
                self.lookup(t, h, &d.name, 1, d.answers.clone(), &mut r);
            }
            let ip = d.ips[r.below(d.ips.len() as u64) as usize];
            self.tls(
                TlsFlow {
                    t: t + 20_000,
                    src: host.ip,
                    dst: ip,
                    sni: Some(&d.name),
                    cert: Some(d.cert),
                    client: 3,
                    up: 1200 + r.below(800),
                    down: 4000 + r.below(9000),
                    dur: 0.4 + r.exp(0.5),
                },
                &mut r,
            );
        }
        // Antivirus signature updates every two hours.
        for (t, _) in self.periodic(hk, key("av"), 7200.0, 0.1) {
            let d = &w.domains[w.service(Kind::AvUpdate)];
            let ip = d.ips[r.below(d.ips.len() as u64) as usize];
            self.tls(
                TlsFlow {
                    t,
                    src: host.ip,
                    dst: ip,
                    sni: Some(&d.name),
                    cert: Some(d.cert),
                    client: 3,
                    up: 900,
                    down: 20_000 + r.below(400_000),
                    dur: 1.0 + r.exp(2.0),
                },
                &mut r,
            );
        }
        // SaaS telemetry keep-alive every 5 minutes from every host.
        for (t, _) in self.periodic(hk, key("saas"), 300.0, 0.02) {
            let d = &w.domains[w.service(Kind::Saas)];
            let ip = d.ips[(hk % d.ips.len() as u64) as usize];
            self.tls(
                TlsFlow {
                    t,
                    src: host.ip,
                    dst: ip,
                    sni: Some(&d.name),
                    cert: Some(d.cert),
                    client: 3,
                    up: 350 + r.below(100),
                    down: 200 + r.below(60),
                    dur: 0.2 + r.exp(0.1),
                },
                &mut r,
            );
        }
        if !is_ws {
            return;
        }
        let weight = work_weight(self.t0 + HOUR * US / 2);
        // Logons in the morning: Kerberos, LDAP, SMB to the DC.
        if clock(self.t0).0 == 7 && clock(self.t0).1 {
            for (port, svc) in
                [(88u16, "krb_tcp"), (389, "ldap"), (445, "smb,krb,gssapi"), (135, "dce_rpc")]
            {
                let t = self.t0 + r.below((HOUR * US) as u64) as i64;
                let mut s = Session::tcp(t, host.ip, eport(&mut r), dc_ip, port).sized(
                    1500 + r.below(3000),
                    2000 + r.below(5000),
                    0.05 + r.exp(0.2),
                );
                s.service = Some(svc);
                // Group policy comes from the DC's SYSVOL share; the RPC endpoint mapper
                // says where the DC's services listen.
                if port == 445 {
                    let dc_name = w.hosts.iter().find(|h| h.ip == dc_ip).map_or("DC", |h| &h.name);
                    s.app = App::Smb(Smb {
                        path: format!("\\\\{}\\SYSVOL", dc_name.to_uppercase()),
                        share_type: "DISK",
                        file: None,
                    });
                } else if port == 135 {
                    s.app = App::DceRpc(DceRpc {
                        endpoint: "epmapper",
                        operation: "ept_map",
                        pipe: "135",
                    });
                }
                self.out.push(s);
            }
        }
        // The names that do not exist, which every network resolves all day: the browser's
        // three random single-label probes when it starts (Chromium's intranet-redirect
        // check), the DNS suffix appended to a short name, and mistyped or dead domains.
        if clock(self.t0).0 == 8 && clock(self.t0).1 {
            let t = self.t0 + r.below((HOUR * US) as u64) as i64;
            for k in 0..3 {
                let len = 7 + r.below(9) as usize;
                let probe: String = (0..len).map(|_| (b'a' + r.below(26) as u8) as char).collect();
                self.lookup_nx(t + k * 1000, h, &probe, &mut r);
            }
        }
        if r.chance(0.2 * weight) {
            let t = self.t0 + r.below((HOUR * US) as u64) as i64;
            let short = *r.pick(&["wpad", "printer", "intranet", "fileserver", "isatap"]);
            self.lookup_nx(t, h, &format!("{short}.corp.example-org.com"), &mut r);
        }
        for _ in 0..r.poisson(0.3 * weight) {
            let t = self.t0 + r.below((HOUR * US) as u64) as i64;
            let syl = ["ba", "ko", "mi", "tu", "re", "sa", "lo", "ne", "vi", "da", "po", "ge"];
            let n = 2 + r.below(3) as usize;
            let name: String = (0..n).map(|_| *r.pick(&syl)).collect();
            let tld = *r.pick(&["com", "net", "org", "io", "de"]);
            self.lookup_nx(t, h, &format!("www.{name}{}.{tld}", r.below(100)), &mut r);
        }
        // Browsing.
        let visits = r.poisson(22.0 * weight);
        for _ in 0..visits {
            let t = self.t0 + r.below((HOUR * US) as u64) as i64;
            let di = w.zipf.sample(&mut r);
            let d = &w.domains[di];
            let ip = d.ips[r.below(d.ips.len() as u64) as usize];
            if r.chance(0.6) {
                self.lookup(t, h, &d.name, 1, d.answers.clone(), &mut r);
            }
            let conns = 1 + r.below(3);
            for c in 0..conns {
                let tt = t + 30_000 + c as i64 * 200_000;
                if r.chance(0.06) {
                    let mut s = Session::tcp(tt, host.ip, eport(&mut r), ip, 80).sized(
                        400 + r.below(300),
                        2000 + r.below(60_000),
                        0.1 + r.exp(0.5),
                    );
                    s.service = Some("http");
                    s.app = App::Http(Http {
                        method: "GET",
                        host: d.name.clone(),
                        uri: format!(
                            "/{}/{}",
                            r.pick(&["news", "img", "static", "page", "api"]),
                            r.below(100_000)
                        ),
                        ua: CLIENTS[client].ua.to_string(),
                        status: 200,
                        req_len: 0,
                        resp_len: 1500 + r.below(60_000),
                        mime: "text/html",
                    });
                    self.out.push(s);
                } else {
                    let up = 800 + r.below(4000);
                    let down = (r.lognormal(40_000.0, 1.5) as u64).min(50_000_000);
                    self.tls(
                        TlsFlow {
                            t: tt,
                            src: host.ip,
                            dst: ip,
                            sni: Some(&d.name),
                            cert: Some(d.cert),
                            client,
                            up,
                            down,
                            dur: 0.2 + r.exp(8.0),
                        },
                        &mut r,
                    );
                }
            }
            // Pages pull from the CDN under hashed host names.
            if r.chance(0.3) {
                let cdn = &w.domains[w.service(Kind::Cdn)];
                let name = format!(
                    "{:012x}.{}",
                    mix(&[di as u64, r.below(8)]) & 0xffff_ffff_ffff,
                    cdn.name
                );
                let ip = cdn.ips[r.below(cdn.ips.len() as u64) as usize];
                self.lookup(t + 50_000, h, &name, 1, vec![crate::world::ip_str(ip)].into(), &mut r);
                self.tls(
                    TlsFlow {
                        t: t + 90_000,
                        src: host.ip,
                        dst: ip,
                        sni: Some(&name),
                        cert: Some(cdn.cert),
                        client,
                        up: 900,
                        down: (r.lognormal(150_000.0, 1.2) as u64).min(20_000_000),
                        dur: 0.3 + r.exp(2.0),
                    },
                    &mut r,
                );
            }
        }
        // Antivirus reputation lookups: hash labels under one vendor domain, from everyone.
        let rep = r.poisson(6.0 * weight + 0.3);
        let clean: std::sync::Arc<[String]> = vec!["\"clean\"".to_string()].into();
        for _ in 0..rep {
            let t = self.t0 + r.below((HOUR * US) as u64) as i64;
            let d = &w.domains[w.service(Kind::AvReputation)];
            let name = format!("{:016x}{:016x}.{}", r.next_u64(), r.next_u64(), d.name);
            self.lookup(t, h, &name, 16, clean.clone(), &mut r);
        }
        // Cloud sync uploads from a few hosts (the first three workstations).
        let ws_rank = w.workstations.iter().position(|x| *x == h).unwrap_or(usize::MAX);
        if ws_rank < 3 {
            let n = r.poisson(2.0 * weight);
            for _ in 0..n {
                let t = self.t0 + r.below((HOUR * US) as u64) as i64;
                let d = &w.domains[w.service(Kind::CloudSync)];
                let ip = d.ips[r.below(d.ips.len() as u64) as usize];
                let up = (r.lognormal(8_000_000.0, 1.0) as u64).min(200_000_000);
                self.tls(
                    TlsFlow {
                        t,
                        src: host.ip,
                        dst: ip,
                        sni: Some(&d.name),
                        cert: Some(d.cert),
                        client: 3,
                        up,
                        down: 20_000,
                        dur: 5.0 + up as f64 / 2_000_000.0,
                    },
                    &mut r,
                );
            }
        }
        // Helpdesk sessions with the approved RMM tool.
        if host.role == Role::Helpdesk || (ws_rank % 17 == 5 && r.chance(0.25 * weight)) {
            let d = &w.domains[w.service(Kind::RmmApproved)];
            let t = self.t0 + r.below((HOUR * US) as u64) as i64;
            if host.role != Role::Helpdesk || r.chance(0.5 * weight) {
                self.lookup(t, h, &d.name, 1, vec![crate::world::ip_str(d.ips[0])].into(), &mut r);
                let dur = 600.0 + r.exp(1200.0);
                self.tls(
                    TlsFlow {
                        t: t + 40_000,
                        src: host.ip,
                        dst: d.ips[0],
                        sni: Some(&d.name),
                        cert: Some(d.cert),
                        client: 3,
                        up: (dur * 900.0) as u64,
                        down: (dur * 9000.0) as u64,
                        dur,
                    },
                    &mut r,
                );
            }
        }
    }

    fn servers_hour(&mut self) {
        let w = self.w;
        let mon = w.hosts[w.by_role(Role::Monitoring)].ip;
        // Monitoring polls every server and edge host every 60 s.
        for &s in w.servers.iter().chain(&w.edges) {
            let target = w.hosts[s].ip;
            if target == mon {
                continue;
            }
            let hk = u64::from(target);
            let mut r = self.rng(&[hk, 2]);
            for (t, _) in self.periodic(hk, key("monitor"), 60.0, 0.01) {
                // A TLS handshake (anonymous DH), then one NRPE v2 packet (1,036
                // bytes) each way in an AES-GCM record.
                let (ho, hr) = crate::wire::anonymous_handshake_bytes();
                let mut x = Session::tcp(t, mon, eport(&mut r), target, 5666).sized(
                    ho + 1_065,
                    hr + 1_065,
                    0.01 + r.exp(0.01),
                );
                x.service = Some("ssl");
                self.out.push(x);
            }
        }
        let (h, _) = clock(self.t0);
        let mut r = self.rng(&[3]);
        let backup = w.hosts[w.by_role(Role::BackupServer)].ip;
        let fs = w.hosts[w.by_role(Role::FileServer)].ip;
        // Nightly backups: the file server to the backup server at 01:00, the backup
        // server to its cloud vault at 02:00 (a large, expected upload).
        if h == 1 {
            let t = self.t0 + r.below(600 * US as u64) as i64;
            let bytes = 30_000_000_000 + r.below(10_000_000_000);
            let mut s = Session::tcp(t, backup, eport(&mut r), fs, 445).sized(
                2_000_000,
                bytes,
                2400.0 + r.exp(300.0),
            );
            s.service = Some("smb");
            s.app = App::Smb(Smb { path: "\\\\FS01\\DATA".into(), share_type: "DISK", file: None });
            self.out.push(s);
        }
        if h == 2 {
            let d = &w.domains[w.service(Kind::CloudBackup)];
            let t = self.t0 + r.below(600 * US as u64) as i64;
            let bi = w.by_role(Role::BackupServer);
            self.lookup(t - 2000, bi, &d.name, 1, d.answers.clone(), &mut r);
            let up = 3_000_000_000 + r.below(2_000_000_000);
            self.tls(
                TlsFlow {
                    t,
                    src: backup,
                    dst: d.ips[0],
                    sni: Some(&d.name),
                    cert: Some(d.cert),
                    client: 3,
                    up,
                    down: 400_000,
                    dur: 1800.0 + r.exp(300.0),
                },
                &mut r,
            );
        }
        // Admins work from the jump host: RDP to Windows servers, SSH to the edge.
        let weight = work_weight(self.t0 + HOUR * US / 2);
        let jump = w.hosts[w.by_role(Role::JumpHost)].ip;
        for _ in 0..r.poisson(0.6 * weight) {
            let t = self.t0 + r.below((HOUR * US) as u64) as i64;
            let (dst, port, svc) = if r.chance(0.6) {
                (w.hosts[*r.pick(&w.servers)].ip, 3389u16, "rdp")
            } else {
                (w.hosts[*r.pick(&w.edges)].ip, 22, "ssh")
            };
            let dur = 300.0 + r.exp(1500.0);
            let mut s = Session::tcp(t, jump, eport(&mut r), dst, port).sized(
                (dur * 200.0) as u64,
                (dur * 3000.0) as u64,
                dur,
            );
            s.service = Some(svc);
            self.out.push(s);
        }
        // Workstations map file shares; Windows clients call the DC's RPC services.
        for _ in 0..r.poisson(4.0 * weight * (w.workstations.len() as f64 / 40.0)) {
            let t = self.t0 + r.below((HOUR * US) as u64) as i64;
            let ws = w.hosts[*r.pick(&w.workstations)].ip;
            let mut s = Session::tcp(t, ws, eport(&mut r), fs, 445).sized(
                3000 + r.below(50_000),
                10_000 + r.below(5_000_000),
                1.0 + r.exp(30.0),
            );
            s.service = Some("smb,krb,gssapi");
            s.app =
                App::Smb(Smb { path: "\\\\FS01\\SHARED".into(), share_type: "DISK", file: None });
            self.out.push(s);
            let dc = w.hosts[w.dcs[0]].ip;
            let mut d = Session::tcp(t + 1000, ws, eport(&mut r), dc, 135).sized(400, 300, 0.01);
            d.service = Some("dce_rpc");
            d.app = App::DceRpc(DceRpc { endpoint: "epmapper", operation: "ept_map", pipe: "135" });
            self.out.push(d);
        }
    }

    fn internet_hour(&mut self) {
        let w = self.w;
        let mut r = self.rng(&[4]);
        // Scanning noise against the DMZ from all over the internet.
        for _ in 0..r.poisson(120.0) {
            let t = self.t0 + r.below((HOUR * US) as u64) as i64;
            let src = crate::world::public_ip(&[w.seed, self.t0 as u64, r.next_u64()]);
            let dst = w.hosts[*r.pick(&w.edges)].ip;
            let port = *r.pick(&[22u16, 23, 80, 443, 445, 3389, 8080, 8443, 5900, 1433]);
            let mut s = Session::tcp(t, src, eport(&mut r), dst, port).sized(0, 0, 0.0);
            s.state = if r.chance(0.7) { State::S0 } else { State::Rej };
            self.out.push(s);
        }
        // Inbound mail.
        let mailgw = w.hosts[w.by_role(Role::MailGateway)].ip;
        let mail = w.hosts[w.by_role(Role::MailServer)].ip;
        for _ in 0..r.poisson(15.0 * (0.3 + work_weight(self.t0))) {
            let t = self.t0 + r.below((HOUR * US) as u64) as i64;
            let src = crate::world::public_ip(&[w.seed, key("mta"), r.below(200)]);
            let size = r.lognormal(30_000.0, 1.3) as u64;
            let mut s =
                Session::tcp(t, src, eport(&mut r), mailgw, 25).sized(size, 800, 1.0 + r.exp(2.0));
            s.service = Some("smtp");
            self.out.push(s);
            let mut i =
                Session::tcp(t + 2 * US, mailgw, eport(&mut r), mail, 25).sized(size, 600, 0.5);
            i.service = Some("smtp");
            self.out.push(i);
        }
        // Remote workers on the VPN.
        let vpn = w.hosts[w.by_role(Role::Vpn)].ip;
        let users = (w.workstations.len() / 10).max(1);
        for u in 0..users {
            let mut ur = self.rng(&[5, u as u64]);
            if !ur.chance(0.5 * work_weight(self.t0)) {
                continue;
            }
            let t = self.t0 + ur.below((HOUR * US) as u64) as i64;
            let home = crate::world::public_ip(&[w.seed, key("home"), u as u64]);
            let dur = 1800.0 + ur.exp(3600.0);
            // The home router maps the client's port 4500 to one of its own, so each
            // tunnel is its own flow.
            let mut s = Session::udp(t, home, eport(&mut ur), vpn, 4500).sized(
                (dur * 3000.0) as u64,
                (dur * 20_000.0) as u64,
                dur,
            );
            s.service = Some("ipsec");
            self.out.push(s);
        }
        let _ = Proto::Tcp;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_tasks_keep_their_period_across_hours() {
        let w = World::new(1, 20);
        let mut all = vec![];
        for hour in 0..6 {
            let g = Hour::new(&w, 1_767_225_600 * US + hour * HOUR * US);
            all.extend(g.periodic(42, key("ntp"), 1024.0, 0.0).into_iter().map(|(t, _)| t));
        }
        let gaps: Vec<i64> = all.windows(2).map(|p| p[1] - p[0]).collect();
        assert!(gaps.iter().all(|g| *g == 1024 * US), "{gaps:?}");
        assert!(all.len() >= 20);
    }

    #[test]
    fn clock_and_weights() {
        // 2026-03-02 is a Monday.
        let monday_9 = (1_772_409_600 + 9 * 3600) * US;
        assert_eq!(clock(monday_9), (9, true));
        assert_eq!(work_weight(monday_9), 1.0);
        let sunday_3 = (1_772_409_600 - 86_400 + 3 * 3600) * US;
        assert!(!clock(sunday_3).1);
    }
}
