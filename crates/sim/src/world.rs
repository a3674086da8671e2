//! The simulated enterprise: hosts and their roles, the internet they talk to.
//!
//! Everything derives from the seed. Internal addressing: servers in 10.10.0.0/24,
//! the DMZ in 10.100.0.0/24, workstations in 10.20.0.0/16. Two domain controllers are
//! also the DNS resolvers. External destinations are a Zipf-ranked set of believable
//! domains (word + brand + TLD), each with one to three stable addresses in public
//! ranges, plus the services every real network talks to (update, antivirus, time,
//! SaaS telemetry, cloud sync, a CDN, the approved RMM vendor).

use std::net::Ipv4Addr;

use crate::rng::{mix, Rng, Zipf};

/// What a host is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Domain controller and DNS resolver.
    Dc,
    /// File server.
    FileServer,
    /// Mail server.
    MailServer,
    /// Backup server.
    BackupServer,
    /// Monitoring server (polls everything every minute).
    Monitoring,
    /// Admin jump host.
    JumpHost,
    /// Helpdesk machine running the approved RMM console.
    Helpdesk,
    /// Internet-facing VPN appliance.
    Vpn,
    /// Internet-facing web server.
    WebServer,
    /// Internet-facing mail gateway.
    MailGateway,
    /// A user's workstation.
    Workstation,
}

impl Role {
    /// The role name findings use.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Dc => "dc",
            Role::Vpn | Role::WebServer | Role::MailGateway => "edge",
            Role::Workstation | Role::Helpdesk => "workstation",
            _ => "server",
        }
    }
}

/// One internal host.
#[derive(Clone, Debug)]
pub struct Host {
    /// Address.
    pub ip: u32,
    /// Host name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// What an external domain is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A website in the browsing set.
    Web,
    /// Operating-system updates.
    Update,
    /// Antivirus signature updates.
    AvUpdate,
    /// Antivirus reputation lookups (hash-like labels under it).
    AvReputation,
    /// SaaS telemetry every host keeps alive every five minutes.
    Saas,
    /// Cloud file sync.
    CloudSync,
    /// A CDN with hashed host names.
    Cdn,
    /// Public time service.
    Ntp,
    /// The approved RMM vendor's relay.
    RmmApproved,
    /// Cloud backup target of the backup server.
    CloudBackup,
}

/// An external domain and where it lives.
#[derive(Clone, Debug)]
pub struct Domain {
    /// Fully qualified name.
    pub name: String,
    /// Its addresses.
    pub ips: Vec<u32>,
    /// What it is.
    pub kind: Kind,
    /// Index of its certificate in [`World::certs`].
    pub cert: usize,
    /// Its addresses as DNS answers.
    pub answers: std::sync::Arc<[String]>,
}

/// A server certificate.
#[derive(Clone, Debug)]
pub struct Cert {
    /// SHA-256 fingerprint (hex).
    pub fingerprint: String,
    /// Serial (hex).
    pub serial: String,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Validity start, epoch seconds.
    pub not_before: i64,
    /// Validity end, epoch seconds.
    pub not_after: i64,
    /// DNS SANs.
    pub san: Vec<String>,
}

/// A TLS client fingerprint.
#[derive(Clone, Debug)]
pub struct Client {
    /// Name of the software (not logged; for reading the code).
    pub name: &'static str,
    /// JA3.
    pub ja3: &'static str,
    /// JA4.
    pub ja4: &'static str,
    /// User agent when it speaks HTTP.
    pub ua: &'static str,
}

/// Browser and agent fingerprints seen in the simulated fleet (made-up values in the
/// formats of JA3/JA4).
pub const CLIENTS: &[Client] = &[
    Client { name: "chrome", ja3: "cd08e31494f9531f560d64c695473da9", ja4: "t13d1516h2_8daaf6152771_02713d6af862", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36" },
    Client { name: "edge", ja3: "773906b0efdefa24a7f2b8eb6985bf37", ja4: "t13d1516h2_8daaf6152771_e5627efa2ab1", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0" },
    Client { name: "firefox", ja3: "579ccef312d18482fc42e2b822ca2430", ja4: "t13d1715h2_5b57614c22b0_3d5424432f57", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0" },
    Client { name: "windows", ja3: "28a2c9bd18a11de089ef85a160da29e4", ja4: "t12d190900_d83cc789557e_7af1ed941c26", ua: "Microsoft-CryptoAPI/10.0" },
];

const WORDS: &[&str] = &[
    "cloud", "news", "shop", "media", "portal", "docs", "travel", "bank", "weather", "sports",
    "maps", "learn", "health", "market", "jobs", "photo", "video", "music", "games", "blog",
    "forum", "wiki", "mail", "food", "auto", "home", "energy", "rail", "port", "freight",
];
const BRANDS: &[&str] = &[
    "northwind",
    "contoso",
    "fabrikam",
    "tailspin",
    "litware",
    "proseware",
    "wingtip",
    "lucerne",
    "adatum",
    "fourthcoffee",
    "woodgrove",
    "margie",
    "coho",
    "alpine",
    "blueyonder",
    "humongous",
    "relecloud",
    "southridge",
    "treyresearch",
    "wideworld",
    "datum",
    "graphic",
    "nod",
    "cronus",
];
const TLDS: &[&str] = &["com", "com", "com", "net", "org", "io", "de", "co.uk", "eu", "info"];
const CAS: &[&str] = &[
    "CN=R11,O=Let's Encrypt,C=US",
    "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1,O=DigiCert Inc,C=US",
    "CN=GTS CA 1C3,O=Google Trust Services LLC,C=US",
    "CN=Sectigo RSA Domain Validation Secure Server CA,O=Sectigo Limited,L=Salford,ST=Greater Manchester,C=GB",
];

/// Public first octets addresses are drawn from (no private, reserved or multicast).
const PUBLIC_8: &[u32] = &[
    3, 13, 18, 20, 23, 34, 35, 40, 44, 52, 54, 64, 66, 69, 72, 74, 91, 93, 104, 107, 108, 128, 130,
    140, 141, 142, 143, 151, 157, 162, 173, 176, 185, 199, 205, 208, 209, 216,
];

/// The whole simulated organisation and its internet.
#[derive(Clone, Debug)]
pub struct World {
    /// Internal hosts.
    pub hosts: Vec<Host>,
    /// Indexes of hosts by role.
    pub dcs: Vec<usize>,
    /// Workstations (including the helpdesk machine).
    pub workstations: Vec<usize>,
    /// Servers (file, mail, backup, monitoring, jump, DCs).
    pub servers: Vec<usize>,
    /// Internet-facing hosts.
    pub edges: Vec<usize>,
    /// External domains: browsing set first (Zipf rank order), then services.
    pub domains: Vec<Domain>,
    /// How many of `domains` form the browsing set.
    pub web_count: usize,
    /// Browsing popularity.
    pub zipf: Zipf,
    /// Certificates.
    pub certs: Vec<Cert>,
    /// Upstream resolver the DCs forward to.
    pub upstream_dns: u32,
    /// Seed.
    pub seed: u64,
}

/// Dotted text of an address.
pub fn ip_str(ip: u32) -> String {
    Ipv4Addr::from(ip).to_string()
}

fn v4(a: u32, b: u32, c: u32, d: u32) -> u32 {
    (a << 24) | (b << 16) | (c << 8) | d
}

/// A public address derived from keys.
pub fn public_ip(keys: &[u64]) -> u32 {
    let h = mix(keys);
    let a = PUBLIC_8[(h % PUBLIC_8.len() as u64) as usize];
    v4(a, (h >> 8) as u32 & 255, (h >> 16) as u32 & 255, 1 + ((h >> 24) as u32 % 253))
}

fn hex(h: u64, len: usize) -> String {
    let mut s = String::new();
    let mut x = h;
    while s.len() < len {
        s.push_str(&format!("{:016x}", x));
        x = mix(&[x]);
    }
    s.truncate(len);
    s
}

impl World {
    /// Builds the organisation of `hosts` internal hosts (at least 16).
    pub fn new(seed: u64, hosts: usize) -> World {
        let mut r = Rng::new(&[seed, 1]);
        let mut w = World {
            hosts: Vec::new(),
            dcs: Vec::new(),
            workstations: Vec::new(),
            servers: Vec::new(),
            edges: Vec::new(),
            domains: Vec::new(),
            web_count: 0,
            zipf: Zipf::new(1, 1.0),
            certs: Vec::new(),
            upstream_dns: v4(9, 9, 9, 9),
            seed,
        };
        let fixed: &[(u32, &str, Role)] = &[
            (v4(10, 10, 0, 10), "dc01", Role::Dc),
            (v4(10, 10, 0, 11), "dc02", Role::Dc),
            (v4(10, 10, 0, 20), "fs01", Role::FileServer),
            (v4(10, 10, 0, 25), "mail01", Role::MailServer),
            (v4(10, 10, 0, 30), "backup01", Role::BackupServer),
            (v4(10, 10, 0, 40), "mon01", Role::Monitoring),
            (v4(10, 10, 0, 50), "jump01", Role::JumpHost),
            (v4(10, 100, 0, 5), "vpn01", Role::Vpn),
            (v4(10, 100, 0, 10), "www01", Role::WebServer),
            (v4(10, 100, 0, 15), "mailgw01", Role::MailGateway),
            (v4(10, 20, 0, 60), "helpdesk01", Role::Helpdesk),
        ];
        for (ip, name, role) in fixed {
            w.push_host(*ip, (*name).to_string(), *role);
        }
        let n_ws = hosts.max(16) - fixed.len();
        for i in 0..n_ws {
            let ip = v4(10, 20, 1 + (i / 250) as u32, 10 + (i % 250) as u32);
            w.push_host(ip, format!("ws{:04}", i + 1), Role::Workstation);
        }
        // The browsing set: believable names, Zipf popularity.
        let n_web = 300.min(40 + hosts * 4);
        let mut seen = std::collections::HashSet::new();
        while w.domains.len() < n_web {
            let name = format!(
                "{}.{}{}.{}",
                r.pick(&["www", "www", "app", "static", "api", "my", "cdn"]),
                r.pick(WORDS),
                r.pick(BRANDS),
                r.pick(TLDS)
            );
            if seen.insert(name.clone()) {
                w.add_domain(name, Kind::Web, 1 + r.below(3) as usize);
            }
        }
        w.web_count = w.domains.len();
        w.zipf = Zipf::new(w.web_count, 1.05);
        for (name, kind, n) in [
            ("update.microsoft.com", Kind::Update, 2),
            ("download.windowsupdate.com", Kind::Update, 2),
            ("update.avvendor-security.com", Kind::AvUpdate, 2),
            ("rep.avvendor-security.com", Kind::AvReputation, 2),
            ("telemetry.saasworks.io", Kind::Saas, 2),
            ("sync.sharepoint.com", Kind::CloudSync, 2),
            ("cdn.edgecast-media.net", Kind::Cdn, 3),
            ("time.windows.com", Kind::Ntp, 1),
            ("relay.screenconnect.com", Kind::RmmApproved, 1),
            ("vault.backupcloud-storage.com", Kind::CloudBackup, 1),
        ] {
            w.add_domain(name.to_string(), kind, n);
        }
        w
    }

    /// The organisation profile a SOC would hold for this network (dwell's TOML): its
    /// address space, resolvers (the DCs), internet-facing hosts, the jump host admins
    /// work from, and the ledger of sanctioned remote-management tools (ScreenConnect,
    /// which the helpdesk uses). The intrusions are nowhere in it.
    pub fn profile_toml(&self) -> String {
        let list = |ix: &mut dyn Iterator<Item = usize>| {
            let v: Vec<String> = ix.map(|i| format!("\"{}\"", ip_str(self.hosts[i].ip))).collect();
            format!("[{}]", v.join(", "))
        };
        let admins = (0..self.hosts.len()).filter(|&i| self.hosts[i].role == Role::JumpHost);
        format!(
            "# The simulated organisation, as its SOC would describe it to dwell.\n\
             internal_networks = [\"10.0.0.0/8\"]\n\
             dns_resolvers = {}\n\
             edge_hosts = {}\n\
             admin_hosts = {}\n\
             \n\
             [[rmm.approved]]\n\
             tool = \"screenconnect\"\n",
            list(&mut self.dcs.iter().copied()),
            list(&mut self.edges.iter().copied()),
            list(&mut admins.into_iter()),
        )
    }

    fn push_host(&mut self, ip: u32, name: String, role: Role) {
        let i = self.hosts.len();
        match role {
            Role::Dc => {
                self.dcs.push(i);
                self.servers.push(i);
            }
            Role::Workstation | Role::Helpdesk => self.workstations.push(i),
            Role::Vpn | Role::WebServer | Role::MailGateway => self.edges.push(i),
            _ => self.servers.push(i),
        }
        self.hosts.push(Host { ip, name, role });
    }

    /// Adds a domain with `n` addresses and a certificate; returns its index.
    pub fn add_domain(&mut self, name: String, kind: Kind, n: usize) -> usize {
        let k = crate::rng::key(&name);
        let ips: Vec<u32> = (0..n.max(1)).map(|i| public_ip(&[self.seed, k, i as u64])).collect();
        let answers = ips.iter().map(|i| ip_str(*i)).collect::<Vec<_>>().into();
        let cert = self.add_cert(&name, None);
        self.domains.push(Domain { name, ips, kind, cert, answers });
        self.domains.len() - 1
    }

    /// Adds a certificate for `name`; `self_signed` makes subject and issuer equal and
    /// the validity short, as quick attacker infrastructure often has.
    pub fn add_cert(&mut self, name: &str, self_signed: Option<bool>) -> usize {
        let k = crate::rng::key(name);
        let h = mix(&[self.seed, k, 77]);
        let registered = name
            .split('.')
            .rev()
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(".");
        let subject = format!("CN=*.{registered}");
        let (issuer, nb, na) = if self_signed == Some(true) {
            (subject.clone(), 1_767_225_600 - 86_400 * 3, 1_767_225_600 + 86_400 * 27)
        } else {
            (
                CAS[(h % CAS.len() as u64) as usize].to_string(),
                1_760_000_000 + (h % 5_000_000) as i64,
                1_790_000_000 + (h % 20_000_000) as i64,
            )
        };
        self.certs.push(Cert {
            fingerprint: hex(h, 64),
            serial: hex(h >> 3, 32).to_uppercase(),
            subject,
            issuer,
            not_before: nb,
            not_after: na,
            san: vec![format!("*.{registered}"), registered],
        });
        self.certs.len() - 1
    }

    /// Index of the first domain of a kind.
    pub fn service(&self, kind: Kind) -> usize {
        self.domains.iter().position(|d| d.kind == kind).unwrap_or(0)
    }

    /// Host index by role (first one).
    pub fn by_role(&self, role: Role) -> usize {
        self.hosts.iter().position(|h| h.role == role).unwrap_or(0)
    }

    /// The DC a host uses as resolver.
    pub fn resolver_of(&self, host: usize) -> usize {
        let dcs = &self.dcs;
        dcs[host % dcs.len().max(1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_deterministic_and_sized() {
        let a = World::new(7, 50);
        let b = World::new(7, 50);
        assert_eq!(a.hosts.len(), 50);
        assert_eq!(a.domains.len(), b.domains.len());
        assert_eq!(a.domains[3].name, b.domains[3].name);
        assert_eq!(a.dcs.len(), 2);
        assert_eq!(a.edges.len(), 3);
        let c = World::new(8, 50);
        assert_ne!(a.domains[0].name, c.domains[0].name);
        for d in &a.domains {
            for ip in &d.ips {
                let o = Ipv4Addr::from(*ip).octets();
                assert!(o[0] != 10 && o[0] != 127 && o[0] < 224, "{}", ip_str(*ip));
            }
        }
    }

    /// The profile names the hosts by their roles in this world — the DCs as resolvers,
    /// the internet-facing hosts, the jump host — and sanctions the helpdesk's RMM tool,
    /// whose relay is one of the world's domains.
    #[test]
    fn profile_describes_the_world() {
        let w = World::new(7, 50);
        let p = w.profile_toml();
        let ips = |ix: &[usize]| {
            ix.iter()
                .map(|&i| format!("\"{}\"", ip_str(w.hosts[i].ip)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        assert!(p.contains(&format!("dns_resolvers = [{}]\n", ips(&w.dcs))), "{p}");
        assert!(p.contains(&format!("edge_hosts = [{}]\n", ips(&w.edges))), "{p}");
        let jump = w.hosts.iter().position(|h| h.role == Role::JumpHost).unwrap();
        assert!(p.contains(&format!("admin_hosts = [{}]\n", ips(&[jump]))), "{p}");
        assert!(p.contains("[[rmm.approved]]\ntool = \"screenconnect\"\n"), "{p}");
        let relay = w.domains.iter().find(|d| d.name == "relay.screenconnect.com").unwrap();
        assert!(matches!(relay.kind, Kind::RmmApproved));
    }
}
