//! The packet-capture decoder against tshark, on every pcap and pcapng under
//! `../shared/data` (issue 4's oracle):
//!
//! * DNS query names (queries to or from port 53) equal tshark's `dns.qry.name` of
//!   queries, as multisets (bytes outside printable ASCII compared as absent: dwell
//!   writes them `\xNN` as Zeek does, tshark as U+FFFD);
//! * TLS SNI and JA3 of ClientHellos over TCP: every one tshark finds (with its TLS
//!   heuristic on), dwell finds; dwell may find more where tshark does not dissect TLS
//!   (after an RDP or SOCKS preamble, on an odd port) — those are listed;
//! * HTTP host and request target (first word) of requests over TCP, as multisets;
//! * RDP routing cookies (`mstshash=` user names) of X.224 Connection Requests, as
//!   multisets;
//! * TCP 5-tuples: the same set (tshark's TCP headers quoted inside ICMP errors left out).
//!
//! QUIC and DTLS handshakes are not decoded by dwell and not compared.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use dwell_decode::{DecodeOptions, FileDecoder};
use dwell_model::{Body, Event, FileId};
use dwell_testkit::{capture_files, shared_or_skip, tshark};

type Bag = BTreeMap<String, i64>;

fn add(b: &mut Bag, k: String) {
    *b.entry(k).or_default() += 1;
}

/// What is in `a` and not in `b` (multiset difference, positive counts only).
fn minus(a: &Bag, b: &Bag) -> Bag {
    a.iter()
        .filter_map(|(k, n)| {
            let d = n - b.get(k).copied().unwrap_or(0);
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

fn norm(name: &str) -> String {
    let mut out = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'x') {
            chars.next();
            chars.next();
            chars.next();
            continue;
        }
        if ('\x21'..='\x7e').contains(&c) {
            out.push(c);
        }
    }
    out
}

struct Seen {
    dns: Bag,
    sni: Bag,
    ja3: Bag,
    http: Bag,
    rdp: Bag,
    tcp: std::collections::BTreeSet<String>,
}

fn tuple(a: &str, pa: &str, b: &str, pb: &str) -> String {
    let (x, y) = (format!("{a}:{pa}"), format!("{b}:{pb}"));
    if x <= y {
        format!("{x}-{y}")
    } else {
        format!("{y}-{x}")
    }
}

fn from_tshark(bin: &Path, file: &Path) -> Result<Seen, String> {
    let fields = [
        "dns.flags.response",
        "dns.qry.name",
        "udp.port",
        "tcp.port",
        "tls.handshake.type",
        "tls.handshake.extensions_server_name",
        "tls.handshake.ja3",
        "http.request",
        "http.host",
        "http.request.uri",
        "ip.src",
        "ip.dst",
        "ipv6.src",
        "ipv6.dst",
        "tcp.srcport",
        "tcp.dstport",
        "icmp.type",
        "icmpv6.type",
        "rdp.rt_cookie",
    ];
    let mut cmd = Command::new(bin);
    cmd.arg("-r").arg(file).args(["--enable-heuristic", "tls_tcp", "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    cmd.args(["-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]);
    let o = cmd.output().map_err(|e| e.to_string())?;
    let why = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| !l.contains("could be dangerous"))
        .collect::<Vec<_>>()
        .join(" ");
    if !o.status.success() {
        // A capture cut off mid-packet: tshark prints every packet before the cut, then
        // fails; what it printed is still the reference.
        if o.stdout.is_empty() || !why.contains("cut short") {
            return Err(why);
        }
        println!("{}: tshark: {why}", file.display());
    }
    let text = String::from_utf8_lossy(&o.stdout);
    let mut s = Seen {
        dns: Bag::new(),
        sni: Bag::new(),
        ja3: Bag::new(),
        http: Bag::new(),
        rdp: Bag::new(),
        tcp: Default::default(),
    };
    for line in text.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        let col = |i: usize| c.get(i).copied().unwrap_or("");
        let last = |i: usize| col(i).rsplit('|').next().unwrap_or("").to_string();
        let quoted = !col(16).is_empty() || !col(17).is_empty();
        let on53 = col(2).split('|').chain(col(3).split('|')).any(|p| p == "53");
        // Query names of queries (a frame may hold several DNS messages over TCP).
        for (resp, name) in col(0).split('|').zip(col(1).split('|')) {
            if on53 && !quoted && (resp == "0" || resp == "False") && !name.is_empty() {
                add(&mut s.dns, norm(name));
            }
        }
        let tcp = !col(3).is_empty() && !quoted;
        if tcp {
            // A frame holds at most one ClientHello in these captures; its SNI and JA3.
            if col(4).split('|').any(|t| t == "1") {
                if let Some(n) = col(5).split('|').next().filter(|n| !n.is_empty()) {
                    add(&mut s.sni, n.to_string());
                }
                if let Some(j) = col(6).split('|').next().filter(|j| !j.is_empty()) {
                    add(&mut s.ja3, j.to_string());
                }
            }
            if !col(7).is_empty() {
                let uri = col(9).split(' ').next().unwrap_or("").to_string();
                add(&mut s.http, format!("{} {uri}", col(8)));
            }
            let (src, dst) =
                if col(10).is_empty() { (last(12), last(13)) } else { (last(10), last(11)) };
            s.tcp.insert(tuple(&src, &last(14), &dst, &last(15)));
            if let Some(c) = col(18).split('|').next().filter(|c| !c.is_empty()) {
                let c = c.strip_prefix("Cookie: ").unwrap_or(c);
                add(&mut s.rdp, c.strip_prefix("mstshash=").unwrap_or(c).trim_end().to_string());
            }
        }
    }
    Ok(s)
}

fn from_dwell(file: &Path) -> Seen {
    let d = FileDecoder::open(file, FileId(0), &DecodeOptions::default()).unwrap();
    let evs: Vec<Event> = d.collect();
    let mut s = Seen {
        dns: Bag::new(),
        sni: Bag::new(),
        ja3: Bag::new(),
        http: Bag::new(),
        rdp: Bag::new(),
        tcp: Default::default(),
    };
    for e in &evs {
        match &e.body {
            // A response whose query was not captured carries no round trip.
            Body::Dns(d)
                if (d.flow.orig_p == 53 || d.flow.resp_p == 53)
                    && (d.rtt.is_some() || d.rcode.is_none()) =>
            {
                if let Some(q) = &d.query {
                    add(&mut s.dns, norm(q));
                }
            }
            Body::Tls(t) => {
                if let Some(n) = &t.server_name {
                    add(&mut s.sni, n.to_string());
                }
                if let Some(j) = &t.ja3 {
                    add(&mut s.ja3, j.to_string());
                }
            }
            Body::Http(h) if h.method.is_some() => {
                let uri =
                    h.uri.as_deref().unwrap_or("").split(' ').next().unwrap_or("").to_string();
                add(&mut s.http, format!("{} {uri}", h.host.as_deref().unwrap_or("")));
            }
            Body::Rdp(r) => {
                if let Some(c) = &r.cookie {
                    add(&mut s.rdp, c.to_string());
                }
            }
            Body::Conn(c) if c.flow.proto == dwell_model::Proto::Tcp => {
                let f = &c.flow;
                s.tcp.insert(tuple(
                    &f.orig_h.to_string(),
                    &f.orig_p.to_string(),
                    &f.resp_h.to_string(),
                    &f.resp_p.to_string(),
                ));
            }
            _ => {}
        }
    }
    s
}

#[test]
fn captures_agree_with_tshark() {
    let data = shared_or_skip!();
    let Some(bin) = tshark() else { return };
    let files = capture_files(&data);
    assert!(files.len() >= 50, "{} captures", files.len());
    let mut failures = Vec::new();
    let mut compared = 0;
    for f in &files {
        let name = &f.rel;
        let t = match from_tshark(&bin, &f.path) {
            Ok(t) => t,
            Err(e) => {
                println!("{name}: tshark cannot read it: {e}");
                continue;
            }
        };
        compared += 1;
        let d = from_dwell(&f.path);
        for (what, a, b) in
            [("dns", &t.dns, &d.dns), ("http", &t.http, &d.http), ("rdp", &t.rdp, &d.rdp)]
        {
            if a != b {
                failures.push(format!(
                    "{name}: {what}: tshark only {:?}, dwell only {:?}",
                    minus(a, b),
                    minus(b, a)
                ));
            }
        }
        for (what, a, b) in [("sni", &t.sni, &d.sni), ("ja3", &t.ja3, &d.ja3)] {
            let missing = minus(a, b);
            if !missing.is_empty() {
                failures.push(format!("{name}: {what}: dwell misses {missing:?}"));
            }
            let extra = minus(b, a);
            if !extra.is_empty() {
                println!("{name}: {what}: dwell also finds {extra:?} (tshark does not dissect TLS there)");
            }
        }
        if t.tcp != d.tcp {
            let only_t: Vec<_> = t.tcp.difference(&d.tcp).take(3).collect();
            let only_d: Vec<_> = d.tcp.difference(&t.tcp).take(3).collect();
            failures.push(format!(
                "{name}: tcp 5-tuples {} vs {}: tshark only {only_t:?}, dwell only {only_d:?}",
                t.tcp.len(),
                d.tcp.len()
            ));
        }
    }
    println!("{compared} captures compared with tshark");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
