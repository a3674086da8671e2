//! `edge_device`: the internet-facing host that was broken into, and what it did next.
//!
//! **Finds.** The report's most common way in (about 63 % of cases): exploitation of
//! VPN appliances, firewalls, web and mail servers, then the device fetching tools,
//! calling out to new places, and web shells answering commands.
//!
//! **ATT&CK.** T1190 Exploit Public-Facing Application, T1505.003 Web Shell, T1105
//! Ingress Tool Transfer, T1133 External Remote Services, T1071 Application Layer
//! Protocol; stages `initial_access`, `execution`, `command_and_control`.
//!
//! **Inputs.** `http` (inbound requests to, and downloads by, edge hosts), `conn`
//! (outbound destinations of edge hosts).
//!
//! **Method.** Edge hosts are those the org profile declares (`edge_hosts`) or the
//! baselines learn (reached by ten or more external addresses). Then:
//! * **exploit requests** — an inbound HTTP request from outside whose URI carries path
//!   traversal (`../`, `%2e%2e`), command injection (`;`, `|`, `` ` ``, `$(`, encoded
//!   forms), shell and recon commands (`whoami`, `/bin/sh`, `cmd.exe`, `wget`, `curl`)
//!   JNDI lookups or SQL injection (matched after percent-decoding, twice): 40, 45 when
//!   one source sends three or more different ones — every internet-facing host
//!   receives these from scanners all day, so an attempt alone is
//!   a lead; **75** when the device then downloads or calls out to a new destination
//!   within `followup_s` (the attempt worked);
//! * **web shells** — a script page (`.aspx`, `.php`, `.jsp`, ...) receiving a shell
//!   command in its query (`whoami`, `ipconfig`, `net group`, `cmd /c`): 70;
//! * **downloads** — the edge host fetching over HTTP with a command-line client
//!   (`Wget`, `curl`, `python-requests`, ...), an executable or script path, or a
//!   response of 1 MB or more from a raw address: 75;
//! * **exploitation inside** — the same exploit-like requests between two internal
//!   hosts: a compromised host attacking a service in the network (T1210, stage
//!   lateral movement): 45, 60 from three distinct requests, 70 driving a web shell; 30
//!   from a declared admin host (where vulnerability scanners live);
//! * **new destinations** — after the first `learn_s` of the data, which teaches each
//!   edge host's usual outbound destinations, a connection out to a destination it never
//!   used that no other internal host uses: 50 — only for hosts whose learned set is
//!   small (`max_settled`): a PC exposed to the internet browses hundreds of sites, and
//!   a new one says nothing.
//!
//! **Thresholds and why.** An appliance's outbound set is small and stable (updates,
//! licensing, NTP, DNS), so anything new stands out; command-line downloads over plain
//! HTTP are what exploitation scripts do, not what firmware updaters do (they use TLS).
//!
//! **Known false positives.** Vulnerability scanners sending exploit-looking requests
//! (inbound only: they stay leads at 40–45 unless the device acts on them);
//! administrators fetching files onto a server with curl; a new update mirror.
//!
//! **References.** CISA advisories on Ivanti Connect Secure (CVE-2023-46805,
//! CVE-2024-21887), Citrix and Fortinet exploitation; the public reporting's 63 %.

use std::collections::HashMap;
use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Stage, Technique, Text, Timestamp};
use foldhash::fast::RandomState;
use serde_json::json;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::meta::DetectorMeta;
use crate::names::registered_domain;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `edge_device`.
    pub struct Config {
        /// Seconds from the start of the data during which edge hosts' usual destinations are learned.
        pub learn_s: f64 = 86_400.0,
        /// Response bytes from a raw address that make a download.
        pub download_bytes: u64 = 1_000_000,
        /// Seconds after an exploitation attempt within which what the device does next confirms it.
        pub followup_s: f64 = 3600.0,
        /// Destinations remembered per edge host.
        pub max_known: usize = 512,
        /// Most destinations an edge host may use while learning for new ones to count
        /// (beyond it the host is a client exposed to the internet, not an appliance).
        pub max_settled: usize = 64,
        /// Most edge hosts tracked.
        pub max_hosts: usize = 10_000,
    }
}

const T_EXPLOIT: Technique = Technique::must("T1190");
const T_SHELL: Technique = Technique::must("T1505.003");
const T_TOOL: Technique = Technique::must("T1105");
const T_APP: Technique = Technique::must("T1071");
const T_REMOTE: Technique = Technique::must("T1210");
static ATTACK: &[Technique] =
    &[T_EXPLOIT, T_SHELL, T_TOOL, T_APP, Technique::must("T1133"), T_REMOTE];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "edge_device",
    title: "Internet-facing device exploited or acting out of character",
    stage: Stage::InitialAccess,
    attack: ATTACK,
    inputs: &[Kind::Http, Kind::Conn],
    doc: "Edge hosts (declared or learned from inbound traffic): exploit-like and web-shell \
          requests from outside, command-line downloads of tools, and outbound connections \
          to destinations the device never used before.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(EdgeDevice {
        cfg,
        last_exploit: HashMap::default(),
        known: HashMap::default(),
        exploits: HashMap::default(),
    }))
}

/// URI fragments of exploitation and post-exploitation, matched on the lower-cased URI
/// after percent-decoding (and `+` read as a space), so one spelling covers the encoded
/// ones: path traversal, command injection, shell commands, JNDI lookups, SQL injection.
const EXPLOIT_MARKS: &[&str] = &[
    "../",
    "..\\",
    ";curl",
    "; curl",
    ";wget",
    "; wget",
    "|sh",
    "| sh",
    "$(",
    "`",
    "/bin/sh",
    "/bin/bash",
    "cmd.exe",
    "powershell",
    "whoami",
    "/etc/passwd",
    "${jndi:",
    "ipconfig",
    "net group",
    "nc -e",
    "certutil",
    "union select",
    "union all select",
    "' or '",
    "' or 1=1",
    "\" or \"",
    "' and 1=1",
    "' and '1'='1",
    "or 1=1--",
    "sleep(",
    "benchmark(",
    "waitfor delay",
    "information_schema",
    "xp_cmdshell",
    "load_file(",
    "into outfile",
];

/// A URI percent-decoded (invalid escapes kept), `+` read as a space, lower-cased;
/// decoded twice, as double encoding is a classic evasion.
pub fn decode_uri(uri: &str) -> String {
    fn once(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            match b[i] {
                b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                },
                b'+' => out.push(b' '),
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    once(&once(uri)).to_ascii_lowercase()
}

/// Commands web shells are driven with (in the query of a script page).
const SHELL_COMMANDS: &[&str] = &[
    "whoami",
    "ipconfig",
    "ifconfig",
    "systeminfo",
    "tasklist",
    "net%20user",
    "net+user",
    "net%20group",
    "net+group",
    "uname",
    "cmd.exe",
    "cmd%20/c",
    "cmd+/c",
    "powershell",
    "/bin/sh",
    "/bin/bash",
    "cat%20/etc",
    "cat+/etc",
    "nltest",
    "quser",
];

const CLI_AGENTS: &[&str] = &[
    "wget",
    "curl",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "libwww-perl",
    "powershell",
    "certutil",
    "bitsadmin",
    "microsoft bits",
    "java/",
];

const TOOL_EXTENSIONS: &[&str] =
    &[".sh", ".elf", ".bin", ".exe", ".dll", ".ps1", ".bat", ".py", ".pl", ".jar", ".so", ".hta"];

/// Whether a URI looks like exploitation; returns the first mark found.
pub fn exploit_mark(uri: &str) -> Option<&'static str> {
    let u = decode_uri(uri);
    EXPLOIT_MARKS.iter().copied().find(|m| u.contains(m))
}

/// Whether a URI drives a web shell: a script page with a shell command in its query.
pub fn shell_drive(uri: &str) -> bool {
    let u = uri.to_ascii_lowercase();
    let Some((path, query)) = u.split_once('?') else { return false };
    let script = [".aspx", ".asp", ".php", ".jsp", ".jspx", ".cgi", ".ashx"]
        .iter()
        .any(|x| path.ends_with(x));
    script && SHELL_COMMANDS.iter().any(|c| query.contains(c))
}

/// The detector.
pub struct EdgeDevice {
    cfg: Config,
    /// Per edge host: the latest exploitation attempt (time, source, URI), so a
    /// download or new destination soon after can confirm it.
    last_exploit: HashMap<IpAddr, (Timestamp, IpAddr, Text), RandomState>,
    /// Per edge host: destinations used while learning.
    known: HashMap<IpAddr, Vec<Text>, RandomState>,
    /// Per (edge host, source): distinct exploit URIs seen.
    exploits: HashMap<(IpAddr, IpAddr), Vec<Text>, RandomState>,
}

impl EdgeDevice {
    fn inbound_http(&mut self, ev: &Event, h: &dwell_model::Http, cx: &mut Ctx<'_>) {
        let f = &h.flow;
        let uri = h.uri.as_deref().unwrap_or("");
        let shell = shell_drive(uri);
        let mark = exploit_mark(uri);
        if mark.is_none() && !shell {
            return;
        }
        let key = (f.resp_h, f.orig_h);
        if self.exploits.len() >= 100_000 && !self.exploits.contains_key(&key) {
            cx.count("dropped.exploit_pairs_full", 1);
            return;
        }
        let seen = self.exploits.entry(key).or_default();
        if seen.len() < 16 && !seen.iter().any(|s| &**s == uri) {
            seen.push(Text::from(uri));
        }
        let distinct = seen.len();
        let (score, attack, what) = if shell {
            (70.0, vec![T_SHELL, T_EXPLOIT], "a web shell being driven")
        } else if distinct >= 3 {
            (45.0, vec![T_EXPLOIT], "exploitation attempts")
        } else {
            (40.0, vec![T_EXPLOIT], "an exploitation attempt")
        };
        if !shell
            && (self.last_exploit.len() < 100_000 || self.last_exploit.contains_key(&f.resp_h))
        {
            self.last_exploit.insert(f.resp_h, (ev.ts(), f.orig_h, Text::from(uri)));
        }
        let summary = format!(
            "{} sent {what} to {} ({} {} …{}); {distinct} distinct such request{} from this source",
            f.orig_h,
            f.resp_h,
            h.method.as_deref().unwrap_or("?"),
            &uri.chars().take(100).collect::<String>(),
            mark.map(|m| format!(", contains {m:?}")).unwrap_or_default(),
            if distinct == 1 { "" } else { "s" },
        );
        let mut d = Draft::new(cx.entity(f.resp_h), ev.ts(), score, summary);
        d.discriminator = if shell { "webshell".into() } else { "exploit".into() };
        d.peer = Some(Peer { ip: Some(f.orig_h), domain: None, port: None });
        d.stage = Some(Stage::InitialAccess);
        d.attack = Some(attack);
        d.sources = vec![ev.header.src];
        if let serde_json::Value::Object(m) = json!({
            "uris": self.exploits.get(&key).map(|v| v.iter().take(5).map(|s| s.to_string()).collect::<Vec<_>>()),
            "user_agent": h.user_agent,
            "status_code": h.status_code,
            "mark": mark,
        }) {
            d.evidence = m;
        }
        cx.emit(d);
    }

    /// Exploit-like requests from one internal host to another: a compromised host
    /// attacking a service inside the network (exploitation of remote services).
    fn internal_exploit(&mut self, ev: &Event, h: &dwell_model::Http, cx: &mut Ctx<'_>) {
        let f = &h.flow;
        let uri = h.uri.as_deref().unwrap_or("");
        let shell = shell_drive(uri);
        let Some(mark) = exploit_mark(uri).or(shell.then_some("web shell command")) else {
            return;
        };
        let key = (f.resp_h, f.orig_h);
        if self.exploits.len() >= 100_000 && !self.exploits.contains_key(&key) {
            cx.count("dropped.exploit_pairs_full", 1);
            return;
        }
        let seen = self.exploits.entry(key).or_default();
        if seen.len() < 16 && !seen.iter().any(|s| &**s == uri) {
            seen.push(Text::from(uri));
        }
        let distinct = seen.len();
        let admin = cx.profile().admin_hosts.contains(f.orig_h);
        let score = match (admin, shell, distinct) {
            (true, _, _) => 30.0,
            (false, true, _) => 70.0,
            (false, false, n) if n >= 3 => 60.0,
            _ => 45.0,
        };
        let summary = format!(
            "{} sent {distinct} exploit-like request{} to internal {} ({} {} …, contains {mark:?}){}",
            f.orig_h,
            if distinct == 1 { "" } else { "s" },
            f.resp_h,
            h.method.as_deref().unwrap_or("?"),
            &uri.chars().take(100).collect::<String>(),
            if admin { "; the source is a declared admin host (a scanner?), so this is a lead" } else { "" },
        );
        let mut d = Draft::new(cx.entity(f.orig_h), ev.ts(), score, summary);
        d.discriminator = "internal-exploit".into();
        d.peer = Some(Peer {
            ip: Some(f.resp_h),
            domain: h.host.as_deref().map(str::to_string),
            port: Some(f.resp_p),
        });
        d.stage = Some(Stage::LateralMovement);
        d.attack = Some(if shell { vec![T_REMOTE, T_SHELL] } else { vec![T_REMOTE] });
        d.title = Some("Exploitation of an internal service".into());
        d.sources = vec![ev.header.src];
        if let serde_json::Value::Object(m) = json!({
            "uris": self.exploits.get(&key).map(|v| v.iter().take(5).map(|s| s.to_string()).collect::<Vec<_>>()),
            "user_agent": h.user_agent,
            "status_code": h.status_code,
            "mark": mark,
        }) {
            d.evidence = m;
        }
        cx.emit(d);
    }

    /// An exploitation attempt on `edge` followed, within `followup_s`, by what the
    /// device did next: the attempt is restated as a successful exploitation.
    fn confirm(&self, edge: IpAddr, now: Timestamp, next: &str, cx: &mut Ctx<'_>) {
        let Some((t, src, uri)) = self.last_exploit.get(&edge) else { return };
        if now.secs_since(*t) > self.cfg.followup_s || now < *t {
            return;
        }
        let n = self.exploits.get(&(edge, *src)).map_or(1, Vec::len);
        let summary = format!(
            "{src} exploited internet-facing {edge} ({} …): {n} exploitation request{} followed {:.0} min later by {next}",
            uri.chars().take(80).collect::<String>(),
            if n == 1 { "" } else { "s" },
            now.secs_since(*t) / 60.0
        );
        let mut d = Draft::new(cx.entity(edge), *t, 75.0, summary);
        d.end = now;
        d.discriminator = "exploit".into();
        d.peer = Some(Peer { ip: Some(*src), domain: None, port: None });
        d.stage = Some(Stage::InitialAccess);
        d.attack = Some(vec![T_EXPLOIT]);
        if let serde_json::Value::Object(m) = json!({
            "uris": self.exploits.get(&(edge, *src)).map(|v| v.iter().take(5).map(|s| s.to_string()).collect::<Vec<_>>()),
            "confirmed_by": next,
        }) {
            d.evidence = m;
        }
        cx.emit(d);
    }

    fn download(&self, ev: &Event, h: &dwell_model::Http, cx: &mut Ctx<'_>) {
        let f = &h.flow;
        let ua = h.user_agent.as_deref().unwrap_or("").to_ascii_lowercase();
        let uri = h.uri.as_deref().unwrap_or("").to_ascii_lowercase();
        let path = uri.split('?').next().unwrap_or("");
        let cli = CLI_AGENTS.iter().find(|a| ua.contains(*a));
        let tool = TOOL_EXTENSIONS.iter().find(|x| path.ends_with(*x));
        let host = h.host.as_deref().unwrap_or("");
        let raw_ip =
            host.split(':').next().unwrap_or("").parse::<IpAddr>().is_ok() || host.is_empty();
        let big = h.response_body_len.unwrap_or(0) >= self.cfg.download_bytes && raw_ip;
        if cli.is_none() && tool.is_none() && !big {
            return;
        }
        let why: Vec<String> = [
            cli.map(|a| format!("client {a}")),
            tool.map(|x| format!("a {x} file")),
            big.then(|| format!("{} bytes from a raw address", h.response_body_len.unwrap_or(0))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let summary = format!(
            "internet-facing {} downloaded http://{}{} ({})",
            f.orig_h,
            if host.is_empty() { f.resp_h.to_string() } else { host.to_string() },
            h.uri.as_deref().unwrap_or(""),
            why.join(", ")
        );
        let mut d = Draft::new(cx.entity(f.orig_h), ev.ts(), 75.0, summary);
        d.discriminator = "download".into();
        d.peer = Some(Peer {
            ip: Some(f.resp_h),
            domain: (!raw_ip).then(|| host.to_string()),
            port: Some(f.resp_p),
        });
        d.stage = Some(Stage::Execution);
        d.attack = Some(vec![T_TOOL, T_EXPLOIT]);
        d.sources = vec![ev.header.src];
        if let serde_json::Value::Object(m) = json!({
            "uri": h.uri, "user_agent": h.user_agent, "response_bytes": h.response_body_len, "reasons": why,
        }) {
            d.evidence = m;
        }
        cx.emit(d);
        self.confirm(f.orig_h, ev.ts(), &format!("a download from {}", f.resp_h), cx);
    }

    fn outbound(&mut self, ev: &Event, c: &dwell_model::Conn, cx: &mut Ctx<'_>) {
        let f = &c.flow;
        let b = cx.baselines();
        let dest = match b.name_of(f.resp_h) {
            Some(n) => Text::from(registered_domain(n).as_str()),
            None => Text::from(f.resp_h.to_string().as_str()),
        };
        let learning = b.start().is_some_and(|s| ev.ts().secs_since(s) < self.cfg.learn_s);
        if !self.known.contains_key(&f.orig_h) && self.known.len() >= self.cfg.max_hosts {
            cx.count("dropped.hosts_full", 1);
            return;
        }
        let known = self.known.entry(f.orig_h).or_default();
        if known.contains(&dest) {
            return;
        }
        if learning {
            if known.len() < self.cfg.max_known {
                known.push(dest);
            }
            return;
        }
        let prevalence = b.prevalence(f.resp_h);
        // A host that used many destinations while learning browses: it is a client that
        // happens to be reachable from outside, and a new destination says nothing.
        if prevalence > 1 || known.len() > self.cfg.max_settled {
            return;
        }
        let summary = format!(
            "internet-facing {} connected out to {dest} ({}:{}), a destination it had not used in the first {:.0} h and no other internal host uses",
            f.orig_h,
            f.resp_h,
            f.resp_p,
            self.cfg.learn_s / 3600.0
        );
        let mut d = Draft::new(cx.entity(f.orig_h), ev.ts(), 50.0, summary);
        d.discriminator = format!("new:{dest}");
        d.peer = Some(Peer {
            ip: Some(f.resp_h),
            domain: dest.parse::<IpAddr>().is_err().then(|| dest.to_string()),
            port: Some(f.resp_p),
        });
        d.stage = Some(Stage::CommandAndControl);
        d.attack = Some(vec![T_APP]);
        d.sources = vec![ev.header.src];
        if let serde_json::Value::Object(m) = json!({
            "destination": dest, "usual_destinations": known.len(), "service": c.service,
        }) {
            d.evidence = m;
        }
        if known.len() < self.cfg.max_known {
            known.push(dest.clone());
        }
        cx.emit(d);
        self.confirm(f.orig_h, ev.ts(), &format!("a connection out to new destination {dest}"), cx);
    }
}

impl Detector for EdgeDevice {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Some(f) = ev.body.flow().copied() else { return };
        let p = cx.profile();
        let (oi, ri) = (p.is_internal(f.orig_h), p.is_internal(f.resp_h));
        match &ev.body {
            Body::Http(h) if ri && p.is_external(f.orig_h) => self.inbound_http(ev, h, cx),
            Body::Http(h) if oi && ri && f.orig_h != f.resp_h && !f.orig_h.is_loopback() => {
                self.internal_exploit(ev, h, cx)
            }
            Body::Http(h)
                if oi
                    && p.is_external(f.resp_h)
                    && cx.baselines().is_edge(f.orig_h, cx.profile()) =>
            {
                self.download(ev, h, cx)
            }
            // ICMP "flows" out of an edge host are its answers to probes (unreachable).
            Body::Conn(c)
                if oi
                    && p.is_external(f.resp_h)
                    && cx.baselines().is_edge(f.orig_h, cx.profile())
                    && f.proto != dwell_model::Proto::Icmp
                    && !matches!(c.conn_state.as_deref(), Some("S0" | "REJ")) =>
            {
                self.outbound(ev, c, cx)
            }
            _ => {}
        }
    }

    fn on_watermark(&mut self, _now: Timestamp, _cx: &mut Ctx<'_>) {}
}

#[cfg(test)]
mod tests;
