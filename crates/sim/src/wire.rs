//! What the simulated sessions say on the wire: the application-layer bytes of each
//! [`Session`] for the pcap writer ([`crate::pcap`]).
//!
//! Every message is built field by field as its protocol specifies (DNS, TLS 1.2 and
//! 1.3 with DER X.509 certificates, HTTP/1.1, SMTP, SSH, NTP, ESP in UDP, RDP's X.224
//! negotiation, SMB2 over NetBIOS, DCE/RPC, Kerberos, LDAP), so that tshark and dwell's
//! own flow meter decode the capture as they would a real one. Bulk payload — what is
//! encrypted or just file content — is a [`Chunk::Gap`]: its length counts on the wire
//! but its bytes are not captured (as a capture with a snap length keeps only each
//! packet's headers), so a simulated 40 GB backup costs megabytes, not gigabytes.
//!
//! Client TLS handshakes follow from the session's JA3/JA4 *names*: each distinct
//! client gets its own cipher and extension lists, so one client's hellos all hash alike
//! and different clients differ — but the hashes a decoder computes are real MD5s of
//! these hellos, not the made-up strings the Zeek writer copies into `ssl.log`. Likewise
//! certificate fingerprints are the SHA-256 of the DER written here.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::rng::{key, mix};
use crate::session::{App, DceRpc, Dns, Http, Proto, Session, Smb, State, Tls};
use crate::world::{Cert, World};

/// A piece of one direction's byte stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chunk {
    /// Bytes that are captured.
    Cap(Vec<u8>),
    /// This many bytes on the wire that the capture leaves out (zeros, for checksums).
    Gap(u64),
}

impl Chunk {
    /// Length on the wire.
    pub fn len(&self) -> u64 {
        match self {
            Chunk::Cap(b) => b.len() as u64,
            Chunk::Gap(n) => *n,
        }
    }

    /// Whether the chunk is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What one side sends before the other answers (TCP), or one datagram (UDP).
#[derive(Clone, Debug, Default)]
pub struct Turn {
    /// 0: originator, 1: responder.
    pub dir: usize,
    /// The bytes, in order.
    pub chunks: Vec<Chunk>,
}

impl Turn {
    /// Bytes on the wire.
    pub fn len(&self) -> u64 {
        self.chunks.iter().map(Chunk::len).sum()
    }

    /// Whether nothing is sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The conversation of a session, turn by turn.
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// Turns in order.
    pub turns: Vec<Turn>,
}

impl Script {
    /// Appends captured bytes from `dir` (to its last turn if it spoke last).
    pub fn say(&mut self, dir: usize, bytes: Vec<u8>) {
        self.push(dir, Chunk::Cap(bytes));
    }

    /// Appends `n` uncaptured bytes from `dir`.
    pub fn gap(&mut self, dir: usize, n: u64) {
        if n > 0 {
            self.push(dir, Chunk::Gap(n));
        }
    }

    fn push(&mut self, dir: usize, c: Chunk) {
        match self.turns.last_mut() {
            Some(t) if t.dir == dir => t.chunks.push(c),
            _ => self.turns.push(Turn { dir, chunks: vec![c] }),
        }
    }

    /// Bytes sent by `dir` so far.
    pub fn sent(&self, dir: usize) -> u64 {
        self.turns.iter().filter(|t| t.dir == dir).map(Turn::len).sum()
    }

    /// Starts a new turn even if `dir` spoke last (a new datagram).
    pub fn datagram(&mut self, dir: usize, chunks: Vec<Chunk>) {
        self.turns.push(Turn { dir, chunks });
    }
}

/// Deterministic bytes for random-looking fields (nonces, keys, signatures).
fn fill(seed: u64, n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n + 8);
    let mut i = 0u64;
    while v.len() < n {
        v.extend_from_slice(&mix(&[seed, i]).to_le_bytes());
        i += 1;
    }
    v.truncate(n);
    v
}

fn u16b(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_be_bytes());
}

fn u24b(v: &mut Vec<u8>, x: usize) {
    v.extend_from_slice(&(x as u32).to_be_bytes()[1..]);
}

fn u32b(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_be_bytes());
}

/// The session's script: what each side says. Sessions without an application
/// protocol this module speaks carry their bytes as uncaptured payload.
pub fn script(s: &Session, w: &World) -> Script {
    let mut sc = conversation(s, w);
    // Whatever the protocol did not account for: more of the same, uncaptured.
    if s.proto == Proto::Tcp {
        bulk(s, &mut sc);
    }
    sc
}

/// The protocol's own messages, before the bulk that tops a TCP session up.
fn conversation(s: &Session, w: &World) -> Script {
    let mut sc = Script::default();
    let seed = mix(&[s.ts as u64, u64::from(s.orig), u64::from(s.orig_p), u64::from(s.resp)]);
    if s.proto == Proto::Udp {
        udp(s, seed, &mut sc);
        return sc;
    }
    // Attempts carry nothing; other sessions without sizes carry nothing either, unless
    // their content sets the sizes (`fit`).
    let content_sized = matches!(s.app, App::Http(_));
    if matches!(s.state, State::S0 | State::Rej)
        || (s.orig_bytes == 0 && s.resp_bytes == 0 && !content_sized)
    {
        return sc;
    }
    match (&s.app, s.service) {
        (App::Tls(t), _) => tls(t, &w.certs, seed, s, &mut sc),
        (App::Http(h), _) => http(h, &mut sc),
        (App::Smb(m), _) => smb(m, seed, &mut sc),
        (App::DceRpc(d), _) if s.resp_p == 445 => smb_rpc(d, s, seed, &mut sc),
        (App::DceRpc(d), _) => rpc_tcp(d, s, &mut sc),
        (_, Some("ssl")) => tls(&anonymous_tls(), &w.certs, seed, s, &mut sc),
        (_, Some("smtp")) => smtp(s, &mut sc),
        (_, Some("ssh")) => ssh(seed, &mut sc),
        (_, Some("rdp")) => rdp(seed, s, w, &mut sc),
        (_, Some("krb_tcp")) => krb(seed, s, w, &mut sc),
        (_, Some("ldap")) => ldap(&mut sc),
        _ => {}
    }
    sc
}

/// Makes sessions' payload sizes agree with their messages: DNS and HTTP sessions
/// carry exactly the bytes of their messages (their sizes follow from the content), and
/// every other session at least what its handshakes take (a TLS 1.2 server flight
/// with a certificate is ~1.3 KB whatever the application then says).
///
/// Sizing must not cost what writing does (the Zeek writer needs no bytes), so DNS
/// messages are measured without being built and TLS handshakes, whose sizes depend
/// only on the client, the version, the server's name and its certificate, are built
/// once per combination.
#[derive(Debug, Default)]
pub struct Fitter {
    tls: std::collections::HashMap<TlsKey, (u64, u64)>,
}

/// What a TLS handshake's size depends on: client (JA3 and JA4 names), version, cipher
/// (the addresses of those static names), SNI length, certificate, whether the server
/// answered.
type TlsKey = [usize; 7];

fn addr(s: &'static str) -> usize {
    s.as_ptr() as usize
}

impl Fitter {
    /// Sets `s`'s sizes from its messages (see [`Fitter`]).
    pub fn fit(&mut self, s: &mut Session, w: &World) {
        let (o, r) = match (&s.app, s.service) {
            (App::Dns(d), _) if s.proto == Proto::Udp => {
                let answered = s.state == State::Sf;
                (dns_len(d, false), if answered { dns_len(d, true) } else { 0 })
            }
            (App::Tls(t), _) => {
                let key = [
                    addr(t.ja3),
                    addr(t.ja4),
                    addr(t.version),
                    addr(t.cipher),
                    t.sni.as_ref().map_or(0, String::len),
                    t.cert.map_or(usize::MAX, |c| c),
                    usize::from(s.resp_bytes == 0),
                ];
                *self.tls.entry(key).or_insert_with(|| {
                    let sc = conversation(s, w);
                    (sc.sent(0), sc.sent(1))
                })
            }
            (App::None, Some("ssl")) if !matches!(s.state, State::S0 | State::Rej) => {
                let key = [0, 0, 0, 0, 0, usize::MAX, usize::from(s.resp_bytes == 0)];
                *self.tls.entry(key).or_insert_with(|| {
                    let sc = conversation(s, w);
                    (sc.sent(0), sc.sent(1))
                })
            }
            // NTP: 48 bytes each way; other datagrams carry what the session says.
            (_, _) if s.proto == Proto::Udp => match s.resp_p {
                123 => (48, if s.state == State::Sf { 48 } else { 0 }),
                _ => (s.orig_bytes, s.resp_bytes),
            },
            _ => {
                let sc = conversation(s, w);
                (sc.sent(0), sc.sent(1))
            }
        };
        if matches!(s.app, App::Dns(_) | App::Http(_)) {
            s.orig_bytes = o;
            s.resp_bytes = r;
        } else if s.orig_bytes > 0 || s.resp_bytes > 0 {
            s.orig_bytes = s.orig_bytes.max(o);
            s.resp_bytes = s.resp_bytes.max(r);
        }
    }
}

/// The length of [`dns_message`] without building it.
pub fn dns_len(d: &Dns, response: bool) -> u64 {
    // Each non-empty label (cut at 63 bytes) and its length byte, then the root: what
    // `dns_name` writes, counted in one pass over the bytes.
    let name = |n: &str| -> u64 {
        let (mut total, mut label) = (1u64, 0u64);
        for &c in n.as_bytes() {
            if c == b'.' {
                if label > 0 {
                    total += label.min(63) + 1;
                }
                label = 0;
            } else {
                label += 1;
            }
        }
        if label > 0 {
            total += label.min(63) + 1;
        }
        total
    };
    let mut n = 12 + name(&d.query) + 4;
    if response {
        for a in d.answers.iter() {
            let rdata = if a.parse::<Ipv4Addr>().is_ok() {
                4
            } else if a.parse::<Ipv6Addr>().is_ok() {
                16
            } else if d.qtype == 16 {
                let t = a.trim_matches('"').len() as u64;
                if t == 0 {
                    1
                } else {
                    t + t.div_ceil(255)
                }
            } else {
                name(a)
            };
            n += 2 + 2 + 2 + 4 + 2 + rdata;
        }
    }
    n
}

/// Tops each direction up to the session's logged payload bytes.
fn bulk(s: &Session, sc: &mut Script) {
    let tls = matches!(s.app, App::Tls(_)) || s.service == Some("ssl") || s.service == Some("rdp");
    if s.resp_p == 445 && !sc.turns.is_empty() {
        let o = s.orig_bytes.saturating_sub(sc.sent(0));
        let r = s.resp_bytes.saturating_sub(sc.sent(1));
        smb_bulk(o, r, sc);
        return;
    }
    for dir in [0, 1] {
        let want = if dir == 0 { s.orig_bytes } else { s.resp_bytes };
        let more = want.saturating_sub(sc.sent(dir));
        if more == 0 {
            continue;
        }
        if tls && !sc.turns.is_empty() {
            // TLS application data: one record header captured per record.
            let mut t = Turn { dir, chunks: Vec::new() };
            let mut left = more;
            while left > 0 {
                let n = left.min(16_384 + 5 + 24);
                let body = n.saturating_sub(5);
                let mut h = vec![23, 3, 3];
                u16b(&mut h, body as u16);
                h.truncate(n.min(5) as usize);
                t.chunks.push(Chunk::Cap(h));
                if body > 0 {
                    t.chunks.push(Chunk::Gap(body));
                }
                left -= n;
            }
            sc.turns.push(t);
        } else {
            sc.turns.push(Turn { dir, chunks: vec![Chunk::Gap(more)] });
        }
    }
}

// ---------------------------------------------------------------- UDP

fn udp(s: &Session, seed: u64, sc: &mut Script) {
    match (&s.app, s.resp_p) {
        (App::Dns(d), _) => {
            let id = (seed & 0xffff) as u16;
            sc.datagram(0, vec![Chunk::Cap(dns_message(id, d, false))]);
            if s.state == State::Sf {
                sc.datagram(1, vec![Chunk::Cap(dns_message(id, d, true))]);
            }
        }
        (_, 123) => {
            sc.datagram(0, vec![Chunk::Cap(ntp(seed, s.ts, false))]);
            if s.state == State::Sf {
                sc.datagram(1, vec![Chunk::Cap(ntp(seed, s.ts, true))]);
            }
        }
        (_, 4500) => {
            // ESP in UDP (RFC 3948): SPI and sequence number captured, the rest
            // ciphertext; datagrams of at most 1400 bytes, alternating.
            let spi = [(seed as u32) | 0x100, ((seed >> 32) as u32) | 0x100];
            let mut left = [s.orig_bytes, s.resp_bytes];
            let mut seq = [1u32, 1u32];
            let mut dir = 0;
            while left[0] + left[1] > 0 {
                if left[dir] == 0 {
                    dir ^= 1;
                }
                let n = left[dir].min(1400);
                let mut h = Vec::with_capacity(8);
                u32b(&mut h, spi[dir]);
                u32b(&mut h, seq[dir]);
                h.truncate(n.min(8) as usize);
                let mut chunks = vec![Chunk::Cap(h)];
                if n > 8 {
                    chunks.push(Chunk::Gap(n - 8));
                }
                sc.datagram(dir, chunks);
                left[dir] -= n;
                seq[dir] += 1;
                dir ^= 1;
            }
        }
        _ => {
            for (dir, n) in [(0, s.orig_bytes), (1, s.resp_bytes)] {
                let mut left = n;
                while left > 0 {
                    let k = left.min(1400);
                    sc.datagram(dir, vec![Chunk::Gap(k)]);
                    left -= k;
                }
            }
        }
    }
}

/// A DNS query or its response (RFC 1035), names compressed against the question.
pub fn dns_message(id: u16, d: &Dns, response: bool) -> Vec<u8> {
    let mut m = Vec::with_capacity(64 + d.query.len());
    u16b(&mut m, id);
    let flags = if response { 0x8180 | (d.rcode & 0xf) } else { 0x0100 };
    u16b(&mut m, flags);
    u16b(&mut m, 1);
    let answers: &[String] = if response { &d.answers } else { &[] };
    u16b(&mut m, answers.len() as u16);
    u16b(&mut m, 0);
    u16b(&mut m, 0);
    dns_name(&mut m, &d.query);
    u16b(&mut m, d.qtype);
    u16b(&mut m, 1);
    for a in answers {
        u16b(&mut m, 0xc00c);
        let mut rdata = Vec::new();
        let ty = if let Ok(ip) = a.parse::<Ipv4Addr>() {
            rdata.extend(ip.octets());
            1
        } else if let Ok(ip) = a.parse::<Ipv6Addr>() {
            rdata.extend(ip.octets());
            28
        } else if d.qtype == 16 {
            let text = a.trim_matches('"').as_bytes();
            for piece in text.chunks(255) {
                rdata.push(piece.len() as u8);
                rdata.extend_from_slice(piece);
            }
            if text.is_empty() {
                rdata.push(0);
            }
            16
        } else {
            dns_name(&mut rdata, a);
            5
        };
        u16b(&mut m, ty);
        u16b(&mut m, 1);
        u32b(&mut m, d.ttl);
        u16b(&mut m, rdata.len() as u16);
        m.extend(rdata);
    }
    m
}

fn dns_name(m: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        let l = &label.as_bytes()[..label.len().min(63)];
        m.push(l.len() as u8);
        m.extend_from_slice(l);
    }
    m.push(0);
}

/// An NTPv4 client request (mode 3) or server reply (mode 4), 48 bytes.
fn ntp(seed: u64, ts_us: i64, reply: bool) -> Vec<u8> {
    let mut m = vec![0u8; 48];
    let secs = (ts_us.div_euclid(1_000_000) + 2_208_988_800) as u32;
    let frac = ((ts_us.rem_euclid(1_000_000) as u64) << 32) / 1_000_000;
    let stamp = |m: &mut [u8], at: usize, s: u32| {
        m[at..at + 4].copy_from_slice(&s.to_be_bytes());
        m[at + 4..at + 8].copy_from_slice(&(frac as u32).to_be_bytes());
    };
    if reply {
        m[0] = 0x24; // LI 0, version 4, mode 4
        m[1] = 2; // stratum
        m[2] = 6;
        m[3] = 0xe9;
        m[12..16].copy_from_slice(&fill(seed, 4));
        stamp(&mut m, 16, secs.wrapping_sub(600));
        stamp(&mut m, 24, secs);
        stamp(&mut m, 32, secs);
        stamp(&mut m, 40, secs);
    } else {
        m[0] = 0x23; // LI 0, version 4, mode 3
        m[2] = 6;
        m[3] = 0xe9;
        stamp(&mut m, 40, secs);
    }
    m
}

// ---------------------------------------------------------------- TLS

/// A TLS record (TLS 1.2 on the record layer).
fn record(ctype: u8, body: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(5 + body.len());
    r.extend([ctype, 3, 3]);
    u16b(&mut r, body.len() as u16);
    r.extend_from_slice(body);
    r
}

fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + body.len());
    v.push(t);
    u24b(&mut v, body.len());
    v.extend_from_slice(body);
    v
}

fn ext(v: &mut Vec<u8>, ty: u16, data: &[u8]) {
    u16b(v, ty);
    u16b(v, data.len() as u16);
    v.extend_from_slice(data);
}

const SUITES: &[u16] = &[
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
    0x009d, 0x002f, 0x0035, 0xc009, 0xc00a,
];

/// The session layer of the NRPE-style monitoring agents on tcp/5666: TLS 1.2 with
/// anonymous Diffie-Hellman, no SNI and no certificate.
fn anonymous_tls() -> Tls {
    Tls {
        sni: None,
        version: "TLSv12",
        cipher: "TLS_DH_anon_WITH_AES_256_GCM_SHA384",
        ja3: "nrpe-agent",
        ja4: "t12d0300h1_nrpe",
        ja3s: "",
        cert: None,
    }
}

/// Payload bytes (client, server) of the anonymous TLS 1.2 handshake of
/// [`anonymous_tls`], from the ClientHello to the server's Finished.
pub fn anonymous_handshake_bytes() -> (u64, u64) {
    // The same for every session (the sizes depend on no per-session value): built once.
    static SIZES: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    *SIZES.get_or_init(|| {
        let mut sc = Script::default();
        let s = Session { resp_bytes: 1, ..Session::tcp(0, 0, 0, 0, 0) };
        tls(&anonymous_tls(), &[], 0, &s, &mut sc);
        (sc.sent(0), sc.sent(1))
    })
}

fn cipher_code(name: &str) -> u16 {
    match name {
        "TLS_AES_128_GCM_SHA256" => 0x1301,
        "TLS_AES_256_GCM_SHA384" => 0x1302,
        "TLS_CHACHA20_POLY1305_SHA256" => 0x1303,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => 0xc02f,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => 0xc030,
        "TLS_DH_anon_WITH_AES_256_GCM_SHA384" => 0x00a7,
        _ => 0xc030,
    }
}

/// A ClientHello whose cipher and extension lists follow from the client's name.
pub fn client_hello(t: &Tls, seed: u64) -> Vec<u8> {
    let h = key(t.ja3);
    let v13 = t.version == "TLSv13";
    let mut b = vec![3, 3];
    b.extend(fill(seed ^ 1, 32));
    b.push(32);
    b.extend(fill(seed ^ 2, 32));
    let mut suites: Vec<u16> = if t.cipher.contains("anon") {
        vec![0x00a7, 0x00a6, 0x006d, 0x003a]
    } else {
        let n = 6 + (h % 10) as usize;
        let rot = ((h >> 8) % SUITES.len() as u64) as usize;
        let mut v: Vec<u16> = SUITES.iter().cycle().skip(rot).take(n).copied().collect();
        let want = cipher_code(t.cipher);
        if !v.contains(&want) {
            v.push(want);
        }
        v
    };
    if !v13 {
        suites.retain(|c| c >> 8 != 0x13);
    }
    u16b(&mut b, (suites.len() * 2) as u16);
    for c in &suites {
        u16b(&mut b, *c);
    }
    b.extend([1, 0]);
    let mut e = Vec::new();
    if let Some(sni) = &t.sni {
        let mut d = Vec::new();
        u16b(&mut d, (sni.len() + 3) as u16);
        d.push(0);
        u16b(&mut d, sni.len() as u16);
        d.extend_from_slice(sni.as_bytes());
        ext(&mut e, 0, &d);
    }
    let bits = h >> 20;
    if bits & 1 == 0 {
        ext(&mut e, 0x17, &[]);
    }
    ext(&mut e, 0xff01, &[0]);
    let groups: &[u16] = match (bits >> 1) % 3 {
        0 => &[0x1d, 0x17, 0x18],
        1 => &[0x1d, 0x17, 0x18, 0x19],
        _ => &[0x17, 0x18, 0x1d],
    };
    let mut d = Vec::new();
    u16b(&mut d, (groups.len() * 2) as u16);
    for g in groups {
        u16b(&mut d, *g);
    }
    ext(&mut e, 0x0a, &d);
    ext(&mut e, 0x0b, &[1, 0]);
    if bits & 8 == 0 {
        ext(&mut e, 0x23, &[]);
    }
    let alpn: &[&str] = match t.ja4.get(8..10) {
        Some("h2") => &["h2", "http/1.1"],
        Some("h1") => &["http/1.1"],
        _ => &[],
    };
    if !alpn.is_empty() {
        let mut d = vec![0, 0];
        for p in alpn {
            d.push(p.len() as u8);
            d.extend_from_slice(p.as_bytes());
        }
        let n = (d.len() - 2) as u16;
        d[..2].copy_from_slice(&n.to_be_bytes());
        ext(&mut e, 0x10, &d);
    }
    if bits & 16 == 0 {
        ext(&mut e, 5, &[1, 0, 0, 0, 0]);
    }
    let sigs: &[u16] = &[0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
    let mut d = Vec::new();
    u16b(&mut d, (sigs.len() * 2) as u16);
    for s in sigs {
        u16b(&mut d, *s);
    }
    ext(&mut e, 0x0d, &d);
    if v13 {
        let mut d = Vec::new();
        u16b(&mut d, 36);
        u16b(&mut d, 0x1d);
        u16b(&mut d, 32);
        d.extend(fill(seed ^ 3, 32));
        ext(&mut e, 0x33, &d);
        ext(&mut e, 0x2d, &[1, 1]);
        ext(&mut e, 0x2b, &[4, 3, 4, 3, 3]);
    }
    u16b(&mut b, e.len() as u16);
    b.extend(e);
    // Clients put TLS 1.0 on the record layer of their hello, for old middleboxes.
    let mut r = record(22, &handshake(1, &b));
    r[2] = 1;
    r
}

fn server_hello(t: &Tls, seed: u64, alpn: bool) -> Vec<u8> {
    let v13 = t.version == "TLSv13";
    let mut b = vec![3, 3];
    b.extend(fill(seed ^ 4, 32));
    b.push(32);
    b.extend(fill(seed ^ 2, 32));
    u16b(&mut b, cipher_code(t.cipher));
    b.push(0);
    let mut e = Vec::new();
    if v13 {
        ext(&mut e, 0x2b, &[3, 4]);
        let mut d = Vec::new();
        u16b(&mut d, 0x1d);
        u16b(&mut d, 32);
        d.extend(fill(seed ^ 5, 32));
        ext(&mut e, 0x33, &d);
    } else {
        ext(&mut e, 0xff01, &[0]);
        if !t.cipher.contains("anon") {
            ext(&mut e, 0x0b, &[1, 0]);
        }
        if alpn {
            ext(&mut e, 0x10, &[0, 3, 2, b'h', b'2']);
        }
    }
    u16b(&mut b, e.len() as u16);
    b.extend(e);
    handshake(2, &b)
}

fn tls(t: &Tls, certs: &[Cert], seed: u64, s: &Session, sc: &mut Script) {
    let ch = client_hello(t, seed);
    let alpn = t.ja4.get(8..10) == Some("h2");
    sc.say(0, ch);
    if s.resp_bytes == 0 {
        return;
    }
    if t.version == "TLSv13" {
        let mut f = record(22, &server_hello(t, seed, alpn));
        f.extend(record(20, &[1]));
        // EncryptedExtensions, Certificate, CertificateVerify, Finished: one opaque record.
        f.extend([23, 3, 3]);
        u16b(&mut f, 2_600);
        sc.say(1, f);
        sc.gap(1, 2_600);
        let mut c = record(20, &[1]);
        c.extend(record(23, &fill(seed ^ 6, 53)));
        sc.say(0, c);
        return;
    }
    let mut f = record(22, &server_hello(t, seed, alpn));
    if let Some(cert) = t.cert.and_then(|i| certs.get(i)) {
        let der = certificate(cert, key(&cert.fingerprint));
        let mut body = Vec::new();
        u24b(&mut body, der.len() + 3);
        u24b(&mut body, der.len());
        body.extend(der);
        f.extend(record(22, &handshake(11, &body)));
    }
    let anon = t.cipher.contains("anon");
    // ServerKeyExchange: ECDHE on x25519 signed with RSA, or anonymous DH.
    let mut ske = Vec::new();
    if anon {
        for (n, k) in [(256usize, 7u64), (1, 8), (256, 9)] {
            u16b(&mut ske, n as u16);
            let mut v = fill(seed ^ k, n);
            if n == 1 {
                v[0] = 2;
            }
            ske.extend(v);
        }
    } else {
        ske.extend([3, 0, 0x1d, 32]);
        ske.extend(fill(seed ^ 7, 32));
        u16b(&mut ske, 0x0401);
        u16b(&mut ske, 256);
        ske.extend(fill(seed ^ 8, 256));
    }
    f.extend(record(22, &handshake(12, &ske)));
    f.extend(record(22, &handshake(14, &[])));
    sc.say(1, f);
    let mut c = Vec::new();
    if anon {
        u16b(&mut c, 256);
        c.extend(fill(seed ^ 9, 256));
    } else {
        c.push(32);
        c.extend(fill(seed ^ 9, 32));
    }
    let mut c = record(22, &handshake(16, &c));
    c.extend(record(20, &[1]));
    c.extend(record(22, &fill(seed ^ 10, 40)));
    sc.say(0, c);
    let mut f = record(20, &[1]);
    f.extend(record(22, &fill(seed ^ 11, 40)));
    sc.say(1, f);
}

// ---------------------------------------------------------------- X.509

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend([0x81, n as u8]);
    } else if n < 0x10000 {
        v.push(0x82);
        v.extend((n as u16).to_be_bytes());
    } else {
        v.push(0x83);
        v.extend(&(n as u32).to_be_bytes()[1..]);
    }
    v.extend_from_slice(content);
    v
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

fn integer(bytes: &[u8]) -> Vec<u8> {
    let mut b: &[u8] = bytes;
    while b.len() > 1 && b[0] == 0 && b[1] < 0x80 {
        b = &b[1..];
    }
    let mut c = Vec::with_capacity(b.len() + 1);
    if b.first().is_none_or(|x| *x >= 0x80) {
        c.push(0);
    }
    c.extend_from_slice(b);
    der(2, &c)
}

/// An X.500 name from its RFC 2253 text (`CN=a,O=b,C=US`): the text lists the most
/// specific part first, the encoding the least specific.
fn name(dn: &str) -> Vec<u8> {
    let mut rdns = Vec::new();
    for part in dn.split(',').rev() {
        let Some((k, v)) = part.split_once('=') else { continue };
        let (oid, tag): (&[u8], u8) = match k.trim() {
            "CN" => (&[0x55, 4, 3], 0x0c),
            "C" => (&[0x55, 4, 6], 0x13),
            "L" => (&[0x55, 4, 7], 0x0c),
            "ST" => (&[0x55, 4, 8], 0x0c),
            "O" => (&[0x55, 4, 10], 0x0c),
            "OU" => (&[0x55, 4, 11], 0x0c),
            _ => continue,
        };
        rdns.push(der(0x31, &seq(&[der(6, oid), der(tag, v.as_bytes())])));
    }
    seq(&rdns)
}

fn time(epoch_s: i64) -> Vec<u8> {
    let (y, mo, d) = dwell_model::time::civil_from_days(epoch_s.div_euclid(86_400));
    let sod = epoch_s.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    if (1950..2050).contains(&y) {
        der(0x17, format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100).as_bytes())
    } else {
        der(0x18, format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z").as_bytes())
    }
}

/// The DER of a simulated certificate: X.509 v3, RSA 2048, SHA-256 with RSA, the
/// subject alternative names as DNS names.
pub fn certificate(c: &Cert, seed: u64) -> Vec<u8> {
    let sha256_rsa = seq(&[der(6, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 11]), der(5, &[])]);
    let serial: Vec<u8> = (0..c.serial.len() / 2)
        .filter_map(|i| u8::from_str_radix(c.serial.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    let mut modulus = fill(seed ^ 0x5eed, 256);
    modulus[0] |= 0x80;
    modulus[255] |= 1;
    let rsa_key = seq(&[integer(&modulus), integer(&[1, 0, 1])]);
    let mut bits = vec![0];
    bits.extend(rsa_key);
    let spki = seq(&[
        seq(&[der(6, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 1]), der(5, &[])]),
        der(3, &bits),
    ]);
    let sans: Vec<u8> = c.san.iter().flat_map(|n| der(0x82, n.as_bytes())).collect();
    let san_ext = seq(&[der(6, &[0x55, 0x1d, 0x11]), der(4, &der(0x30, &sans))]);
    let tbs = seq(&[
        der(0xa0, &integer(&[2])),
        integer(if serial.is_empty() { &[1] } else { &serial }),
        sha256_rsa.clone(),
        name(&c.issuer),
        seq(&[time(c.not_before), time(c.not_after)]),
        name(&c.subject),
        spki,
        der(0xa3, &seq(&[san_ext])),
    ]);
    let mut sig = vec![0];
    sig.extend(fill(seed ^ 0x51, 256));
    seq(&[tbs, sha256_rsa, der(3, &sig)])
}

// ---------------------------------------------------------------- HTTP

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

fn http(h: &Http, sc: &mut Script) {
    let mut req = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: */*\r\nConnection: close\r\n",
        h.method, h.uri, h.host, h.ua
    );
    if h.req_len > 0 || h.method == "POST" || h.method == "PUT" {
        req.push_str(&format!(
            "Content-Type: application/octet-stream\r\nContent-Length: {}\r\n",
            h.req_len
        ));
    }
    req.push_str("\r\n");
    sc.say(0, req.into_bytes());
    sc.gap(0, h.req_len);
    let body = !matches!(h.status, 100..=199 | 204 | 304);
    let mut resp = format!("HTTP/1.1 {} {}\r\nServer: nginx\r\n", h.status, reason(h.status));
    if body {
        if h.mime != "-" && !h.mime.is_empty() {
            resp.push_str(&format!("Content-Type: {}\r\n", h.mime));
        }
        resp.push_str(&format!("Content-Length: {}\r\n", h.resp_len));
    }
    resp.push_str("Connection: close\r\n\r\n");
    sc.say(1, resp.into_bytes());
    if body {
        sc.gap(1, h.resp_len);
    }
}

// ---------------------------------------------------------------- text and banners

fn smtp(s: &Session, sc: &mut Script) {
    let lines: [(usize, &str); 9] = [
        (1, "220 mx.corp.example ESMTP ready\r\n"),
        (0, "EHLO relay.example.net\r\n"),
        (1, "250-mx.corp.example\r\n250-SIZE 52428800\r\n250 8BITMIME\r\n"),
        (0, "MAIL FROM:<newsletter@example.net>\r\n"),
        (1, "250 2.1.0 Ok\r\n"),
        (0, "RCPT TO:<staff@corp.example>\r\n"),
        (1, "250 2.1.5 Ok\r\n"),
        (0, "DATA\r\n"),
        (1, "354 End data with <CR><LF>.<CR><LF>\r\n"),
    ];
    for (dir, l) in lines {
        sc.say(dir, l.as_bytes().to_vec());
    }
    sc.say(0, b"Subject: update\r\nContent-Type: text/plain\r\n\r\n".to_vec());
    let end = b"\r\n.\r\n";
    let body = s.orig_bytes.saturating_sub(sc.sent(0) + (end.len() + 6) as u64);
    // The message body: lines of text, left out of the capture.
    sc.gap(0, body);
    sc.say(0, end.to_vec());
    sc.say(1, b"250 2.0.0 Ok: queued\r\n".to_vec());
    sc.say(0, b"QUIT\r\n".to_vec());
    sc.say(1, b"221 2.0.0 Bye\r\n".to_vec());
}

fn ssh_packet(payload: &[u8]) -> Vec<u8> {
    let mut pad = 8 - (payload.len() + 5) % 8;
    if pad < 4 {
        pad += 8;
    }
    let mut v = Vec::new();
    u32b(&mut v, (payload.len() + pad + 1) as u32);
    v.push(pad as u8);
    v.extend_from_slice(payload);
    v.extend(std::iter::repeat_n(0, pad));
    v
}

fn ssh_string(v: &mut Vec<u8>, s: &[u8]) {
    u32b(v, s.len() as u32);
    v.extend_from_slice(s);
}

fn kexinit(seed: u64) -> Vec<u8> {
    let mut p = vec![20];
    p.extend(fill(seed, 16));
    let lists: [&str; 10] = [
        "curve25519-sha256,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
        "ssh-ed25519,rsa-sha2-512,rsa-sha2-256",
        "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-ctr",
        "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-ctr",
        "hmac-sha2-256-etm@openssh.com,hmac-sha2-256",
        "hmac-sha2-256-etm@openssh.com,hmac-sha2-256",
        "none,zlib@openssh.com",
        "none,zlib@openssh.com",
        "",
        "",
    ];
    for l in lists {
        ssh_string(&mut p, l.as_bytes());
    }
    p.push(0);
    u32b(&mut p, 0);
    ssh_packet(&p)
}

fn ssh(seed: u64, sc: &mut Script) {
    sc.say(1, b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n".to_vec());
    sc.say(0, b"SSH-2.0-OpenSSH_for_Windows_9.5\r\n".to_vec());
    sc.say(0, kexinit(seed ^ 1));
    sc.say(1, kexinit(seed ^ 2));
    let mut init = vec![30];
    ssh_string(&mut init, &fill(seed ^ 3, 32));
    sc.say(0, ssh_packet(&init));
    let mut reply = vec![31];
    let mut hostkey = Vec::new();
    ssh_string(&mut hostkey, b"ssh-ed25519");
    ssh_string(&mut hostkey, &fill(seed ^ 4, 32));
    ssh_string(&mut reply, &hostkey);
    ssh_string(&mut reply, &fill(seed ^ 5, 32));
    let mut sig = Vec::new();
    ssh_string(&mut sig, b"ssh-ed25519");
    ssh_string(&mut sig, &fill(seed ^ 6, 64));
    ssh_string(&mut reply, &sig);
    let mut r = ssh_packet(&reply);
    r.extend(ssh_packet(&[21]));
    sc.say(1, r);
    sc.say(0, ssh_packet(&[21]));
}

// ---------------------------------------------------------------- RDP

fn tpkt(x224: &[u8]) -> Vec<u8> {
    let mut v = vec![3, 0];
    u16b(&mut v, (x224.len() + 4) as u16);
    v.extend_from_slice(x224);
    v
}

fn rdp(seed: u64, s: &Session, w: &World, sc: &mut Script) {
    // X.224 Connection Request with a routing cookie and an RDP negotiation request
    // (TLS | CredSSP), the Connection Confirm selecting TLS, then TLS.
    let cookie = b"Cookie: mstshash=admin\r\n";
    let mut cr = vec![0, 0xe0, 0, 0, 0, 0, 0];
    cr.extend_from_slice(cookie);
    cr.extend([1, 0, 8, 0, 3, 0, 0, 0]);
    cr[0] = (cr.len() - 1) as u8;
    sc.say(0, tpkt(&cr));
    let mut cc = vec![0, 0xd0, 0, 0, 0x12, 0x34, 0];
    cc.extend([2, 0, 8, 0, 1, 0, 0, 0]);
    cc[0] = (cc.len() - 1) as u8;
    sc.say(1, tpkt(&cc));
    let t = Tls {
        sni: None,
        version: "TLSv12",
        cipher: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        ja3: "mstsc",
        ja4: "t12d1009h1_mstsc",
        ja3s: "",
        cert: None,
    };
    tls(&t, &w.certs, seed, s, sc);
}

// ---------------------------------------------------------------- Kerberos and LDAP

fn krb(seed: u64, s: &Session, w: &World, sc: &mut Script) {
    // AS-REQ for the workstation's machine account; the KDC answers with
    // KRB-ERROR PREAUTH_REQUIRED (25), as the first round trip of a logon does.
    let host = w.hosts.iter().find(|h| h.ip == s.orig).map(|h| h.name.as_str()).unwrap_or("HOST");
    let realm = b"CORP.LOCAL";
    let kstr = |t: &[u8]| der(0x1b, t);
    let principal = |nt: u8, parts: &[&[u8]]| {
        seq(&[
            der(0xa0, &der(2, &[nt])),
            der(0xa1, &seq(&parts.iter().map(|p| kstr(p)).collect::<Vec<_>>())),
        ])
    };
    let client = format!("{host}$");
    let body = seq(&[
        der(0xa0, &der(3, &[0, 0x40, 0x81, 0, 0x10])),
        der(0xa1, &principal(1, &[client.as_bytes()])),
        der(0xa2, &kstr(realm)),
        der(0xa3, &principal(2, &[b"krbtgt", realm])),
        der(0xa5, &der(0x18, b"20370913024805Z")),
        der(0xa7, &integer(&fill(seed, 4).iter().map(|b| b & 0x7f).collect::<Vec<_>>())),
        der(0xa8, &seq(&[integer(&[18]), integer(&[17]), integer(&[23])])),
    ]);
    let req =
        der(0x6a, &seq(&[der(0xa1, &integer(&[5])), der(0xa2, &integer(&[10])), der(0xa4, &body)]));
    let mut m = Vec::new();
    u32b(&mut m, req.len() as u32);
    m.extend(req);
    sc.say(0, m);
    let stime = time_general(s.ts.div_euclid(1_000_000));
    let err = der(
        0x7e,
        &seq(&[
            der(0xa0, &integer(&[5])),
            der(0xa1, &integer(&[30])),
            der(0xa4, &stime),
            der(0xa5, &integer(&[0])),
            der(0xa6, &integer(&[25])),
            der(0xa9, &kstr(realm)),
            der(0xaa, &principal(2, &[b"krbtgt", realm])),
        ]),
    );
    let mut m = Vec::new();
    u32b(&mut m, err.len() as u32);
    m.extend(err);
    sc.say(1, m);
}

fn time_general(epoch_s: i64) -> Vec<u8> {
    let (y, mo, d) = dwell_model::time::civil_from_days(epoch_s.div_euclid(86_400));
    let sod = epoch_s.rem_euclid(86_400);
    der(
        0x18,
        format!("{y:04}{mo:02}{d:02}{:02}{:02}{:02}Z", sod / 3600, sod / 60 % 60, sod % 60)
            .as_bytes(),
    )
}

fn ldap(sc: &mut Script) {
    // A SASL bind (GSS-SPNEGO, credentials left out) and its success.
    let bind = der(
        0x60,
        &[
            integer(&[3]),
            der(4, b""),
            // The SPNEGO token is left out (credentials are optional in SaslCredentials).
            der(0xa3, &der(4, b"GSS-SPNEGO")),
        ]
        .concat(),
    );
    sc.say(0, der(0x30, &[integer(&[1]), bind].concat()));
    let resp = der(0x61, &[der(10, &[0]), der(4, b""), der(4, b"")].concat());
    sc.say(1, der(0x30, &[integer(&[1]), resp].concat()));
}

// ---------------------------------------------------------------- SMB2 and DCE/RPC

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

struct Smb2 {
    mid: u64,
    session: u64,
    tree: u32,
}

impl Smb2 {
    /// One SMB2 message framed for NetBIOS session service (`body_gap` uncaptured
    /// bytes follow the body).
    fn msg(&self, cmd: u16, response: bool, status: u32, body: &[u8], body_gap: u64) -> Vec<Chunk> {
        let mut h = Vec::with_capacity(68 + body.len());
        let total = 64 + body.len() as u64 + body_gap;
        h.extend(&(total as u32).to_be_bytes());
        h[0] = 0;
        h.extend(b"\xfeSMB");
        h.extend(64u16.to_le_bytes());
        h.extend(1u16.to_le_bytes()); // credit charge
        h.extend(status.to_le_bytes());
        h.extend(cmd.to_le_bytes());
        h.extend(1u16.to_le_bytes()); // credits
        h.extend(u32::from(response).to_le_bytes());
        h.extend(0u32.to_le_bytes()); // next command
        h.extend(self.mid.to_le_bytes());
        h.extend(0u32.to_le_bytes()); // process id
        h.extend(self.tree.to_le_bytes());
        h.extend(self.session.to_le_bytes());
        h.extend([0u8; 16]); // signature
        h.extend_from_slice(body);
        let mut v = vec![Chunk::Cap(h)];
        if body_gap > 0 {
            v.push(Chunk::Gap(body_gap));
        }
        v
    }

    /// A message whose fixed part `fixed` is followed by `data` (captured or not).
    fn msg_data(&self, cmd: u16, response: bool, mut fixed: Vec<u8>, data: Chunk) -> Vec<Chunk> {
        match data {
            Chunk::Cap(b) => {
                fixed.extend(b);
                self.msg(cmd, response, 0, &fixed, 0)
            }
            Chunk::Gap(n) => self.msg(cmd, response, 0, &fixed, n),
        }
    }
}

fn say_chunks(sc: &mut Script, dir: usize, chunks: Vec<Chunk>) {
    for c in chunks {
        match c {
            Chunk::Cap(b) => sc.say(dir, b),
            Chunk::Gap(n) => sc.gap(dir, n),
        }
    }
}

/// Negotiate, session setup (the security blobs left out), tree connect; returns the
/// state for further commands on the tree.
fn smb_connect(path: &str, pipe: bool, seed: u64, sc: &mut Script) -> Smb2 {
    let mut m = Smb2 { mid: 0, session: 0, tree: 0 };
    let mut neg = vec![36, 0, 2, 0, 1, 0, 0, 0, 0x7f, 0, 0, 0];
    neg.extend(fill(seed ^ 0x11, 16)); // client guid
    neg.extend([0u8; 8]);
    neg.extend(0x0210u16.to_le_bytes());
    neg.extend(0x0302u16.to_le_bytes());
    say_chunks(sc, 0, m.msg(0, false, 0, &neg, 0));
    let mut nr = vec![65, 0, 1, 0, 0x02, 0x03, 0, 0];
    nr.extend(fill(seed ^ 0x12, 16)); // server guid
    nr.extend(7u32.to_le_bytes()); // capabilities
    for _ in 0..3 {
        nr.extend(8_388_608u32.to_le_bytes());
    }
    nr.extend([0u8; 16]); // system time, start time
    nr.extend([0x80, 0, 0, 0]); // security buffer offset (128), length 0
    nr.extend([0u8; 4]);
    say_chunks(sc, 1, m.msg(0, true, 0, &nr, 0));
    m.mid = 1;
    let mut ss = vec![25, 0, 0, 1];
    ss.extend(1u32.to_le_bytes());
    ss.extend(0u32.to_le_bytes());
    ss.extend([88, 0, 0, 0]); // security buffer offset 88, length 0
    ss.extend([0u8; 8]);
    ss.push(0);
    say_chunks(sc, 0, m.msg(1, false, 0, &ss, 0));
    m.session = mix(&[seed, 0x5e55]) | 1;
    let sr = [9, 0, 0, 0, 72, 0, 0, 0, 0];
    say_chunks(sc, 1, m.msg(1, true, 0, &sr, 0));
    m.mid = 2;
    let p = utf16(path);
    let mut tc = vec![9, 0, 0, 0, 72, 0];
    tc.extend((p.len() as u16).to_le_bytes());
    tc.extend(&p);
    say_chunks(sc, 0, m.msg(3, false, 0, &tc, 0));
    m.tree = (seed as u32 & 0xffff) | 1;
    let mut tr = vec![16, 0, if pipe { 2 } else { 1 }, 0];
    tr.extend(0u32.to_le_bytes());
    tr.extend(0u32.to_le_bytes());
    tr.extend(0x001f_01ffu32.to_le_bytes());
    say_chunks(sc, 1, m.msg(3, true, 0, &tr, 0));
    m.mid = 3;
    m
}

/// CREATE of `name` (for writing when `write`), returning the file id.
fn smb_create(m: &mut Smb2, name: &str, write: bool, seed: u64, sc: &mut Script) -> [u8; 16] {
    let n = utf16(name);
    let mut cr = vec![57, 0, 0, 0];
    cr.extend(2u32.to_le_bytes()); // impersonation
    cr.extend([0u8; 8]); // create flags
    cr.extend([0u8; 8]); // reserved
    cr.extend(if write { 0x0012_019fu32 } else { 0x0012_0089u32 }.to_le_bytes());
    cr.extend(0x80u32.to_le_bytes()); // attributes
    cr.extend(7u32.to_le_bytes()); // share access
    cr.extend(if write { 5u32 } else { 1u32 }.to_le_bytes()); // overwrite-if / open
    cr.extend(0x40u32.to_le_bytes()); // non-directory
    cr.extend(120u16.to_le_bytes());
    cr.extend((n.len() as u16).to_le_bytes());
    cr.extend([0u8; 8]);
    cr.extend(&n);
    say_chunks(sc, 0, m.msg(5, false, 0, &cr, 0));
    let mut id = [0u8; 16];
    id.copy_from_slice(&fill(seed ^ key(name), 16));
    let mut r = vec![89, 0, 0, 0];
    r.extend(2u32.to_le_bytes()); // created
    r.extend([0u8; 32]); // times
    r.extend([0u8; 16]); // sizes
    r.extend(0x80u32.to_le_bytes());
    r.extend([0u8; 4]);
    r.extend(id);
    r.extend([0u8; 8]);
    say_chunks(sc, 1, m.msg(5, true, 0, &r, 0));
    m.mid += 1;
    id
}

fn smb_write(m: &mut Smb2, id: &[u8; 16], offset: u64, data: Chunk, sc: &mut Script) {
    let len = data.len();
    let mut wr = vec![49, 0, 112, 0];
    wr.extend((len as u32).to_le_bytes());
    wr.extend(offset.to_le_bytes());
    wr.extend(id);
    wr.extend([0u8; 16]);
    say_chunks(sc, 0, m.msg_data(9, false, wr, data));
    let mut r = vec![17, 0, 0, 0];
    r.extend((len as u32).to_le_bytes());
    r.extend([0u8; 8]);
    r.push(0);
    say_chunks(sc, 1, m.msg(9, true, 0, &r, 0));
    m.mid += 1;
}

fn smb_read(m: &mut Smb2, id: &[u8; 16], offset: u64, data: Chunk, sc: &mut Script) {
    let len = data.len();
    let mut rq = vec![49, 0, 0x50, 0];
    rq.extend((len as u32).to_le_bytes());
    rq.extend(offset.to_le_bytes());
    rq.extend(id);
    rq.extend(0u32.to_le_bytes()); // minimum count
    rq.extend([0u8; 12]);
    rq.push(0);
    say_chunks(sc, 0, m.msg(8, false, 0, &rq, 0));
    let mut r = vec![17, 0, 80, 0];
    r.extend((len as u32).to_le_bytes());
    r.extend([0u8; 8]);
    say_chunks(sc, 1, m.msg_data(8, true, r, data));
    m.mid += 1;
}

fn smb_close(m: &mut Smb2, id: &[u8; 16], sc: &mut Script) {
    let mut c = vec![24, 0, 0, 0, 0, 0, 0, 0];
    c.extend(id);
    say_chunks(sc, 0, m.msg(6, false, 0, &c, 0));
    let mut r = vec![60, 0, 0, 0, 0, 0, 0, 0];
    r.extend([0u8; 52]);
    say_chunks(sc, 1, m.msg(6, true, 0, &r, 0));
    m.mid += 1;
}

fn smb(x: &Smb, seed: u64, sc: &mut Script) {
    let mut m = smb_connect(&x.path, x.share_type == "PIPE", seed, sc);
    if let Some((action, name, size)) = &x.file {
        let write = action.contains("WRITE");
        let id = smb_create(&mut m, name, write, seed, sc);
        let mut off = 0;
        while off < *size {
            let n = (*size - off).min(65_536);
            if write {
                smb_write(&mut m, &id, off, Chunk::Gap(n), sc);
            } else {
                smb_read(&mut m, &id, off, Chunk::Gap(n), sc);
            }
            off += n;
        }
        smb_close(&mut m, &id, sc);
    }
}

/// Tops up an SMB session: reads carry the responder's bytes, writes the originator's.
/// A read also costs the client its request and a write the server its response, so
/// each is made only while the other side's budget pays for it; what stays over is
/// less than one request or response.
fn smb_bulk(mut o: u64, mut r: u64, sc: &mut Script) {
    let mut m = Smb2 { mid: 1000, session: 1, tree: 1 };
    let id = [7u8; 16];
    // NetBIOS, the SMB2 header and each command's fixed part.
    const READ_REQ: u64 = 4 + 64 + 49;
    const READ_RESP: u64 = 4 + 64 + 16;
    const WRITE_REQ: u64 = 4 + 64 + 48;
    const WRITE_RESP: u64 = 4 + 64 + 17;
    let mut off = 0;
    // The responses of the writes to come are kept out of the reads' budget.
    let writes = if o > WRITE_REQ + READ_REQ { (o - WRITE_REQ) / (8 << 20) + 1 } else { 0 };
    let reserved = (writes * WRITE_RESP).min(r);
    r -= reserved;
    while r > READ_RESP && o >= READ_REQ {
        let n = (r - READ_RESP).min(8 << 20);
        smb_read(&mut m, &id, off, Chunk::Gap(n), sc);
        off += n;
        r -= n + READ_RESP;
        o -= READ_REQ;
    }
    r += reserved;
    while o > WRITE_REQ && r >= WRITE_RESP {
        let n = (o - WRITE_REQ).min(8 << 20);
        smb_write(&mut m, &id, off, Chunk::Gap(n), sc);
        off += n;
        o -= n + WRITE_REQ;
        r -= WRITE_RESP;
    }
}

fn uuid_le(s: &str) -> Vec<u8> {
    let h: Vec<u8> = s
        .split('-')
        .flat_map(|p| (0..p.len()).step_by(2).filter_map(move |i| p.get(i..i + 2)))
        .filter_map(|x| u8::from_str_radix(x, 16).ok())
        .collect();
    if h.len() != 16 {
        return vec![0; 16];
    }
    let mut v = vec![h[3], h[2], h[1], h[0], h[5], h[4], h[7], h[6]];
    v.extend(&h[8..16]);
    v
}

/// Interface UUIDs and operation numbers of the calls the scenarios make.
fn rpc_ids(d: &DceRpc) -> (&'static str, u16) {
    let uuid = match d.endpoint {
        "svcctl" => "367abb81-9844-35f1-ad32-98f038001003",
        "drsuapi" => "e3514235-4b06-11d1-ab04-00c04fc2dcd2",
        "epmapper" => "e1af8308-5d1f-11c9-91a4-08002b14a0fa",
        "samr" => "12345778-1234-abcd-ef00-0123456789ac",
        "lsarpc" => "12345778-1234-abcd-ef00-0123456789ab",
        "srvsvc" => "4b324fc8-1670-01d3-1278-5a47bf6ee188",
        "atsvc" => "1ff70682-0a51-30e8-076d-740be8cee98b",
        "winreg" => "338cd001-2244-31f1-aaaa-900038001003",
        _ => "00000000-0000-0000-0000-000000000000",
    };
    let op = match (d.endpoint, d.operation) {
        ("svcctl", "CloseServiceHandle") => 0,
        ("svcctl", "CreateServiceW") => 12,
        ("svcctl", "OpenSCManagerW") => 15,
        ("svcctl", "OpenServiceW") => 16,
        ("svcctl", "StartServiceW") => 19,
        ("drsuapi", "DRSBind") => 0,
        ("drsuapi", "DRSUnbind") => 1,
        ("drsuapi", "DRSGetNCChanges") => 3,
        ("drsuapi", "DRSCrackNames") => 12,
        ("epmapper", "ept_map") => 3,
        ("epmapper", "ept_lookup") => 2,
        _ => 0,
    };
    (uuid, op)
}

/// A bind to `uuid` (NDR transfer syntax), its acknowledgement, a request of `opnum`
/// with `stub` bytes of arguments and the response.
fn rpc_pdus(uuid: &str, opnum: u16, stub: u64, resp_stub: u64) -> [Vec<Chunk>; 4] {
    let ndr = uuid_le("8a885d04-1ceb-11c9-9fe8-08002b104860");
    let pdu = |ptype: u8, call: u32, body: &[u8], gap: u64| {
        let mut v = vec![5, 0, ptype, 3, 0x10, 0, 0, 0];
        v.extend(((16 + body.len() as u64 + gap) as u16).to_le_bytes());
        v.extend(0u16.to_le_bytes());
        v.extend(call.to_le_bytes());
        v.extend_from_slice(body);
        let mut c = vec![Chunk::Cap(v)];
        if gap > 0 {
            c.push(Chunk::Gap(gap));
        }
        c
    };
    let mut bind = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0];
    bind.extend(uuid_le(uuid));
    bind.extend([2, 0, 0, 0]);
    bind.extend(&ndr);
    bind.extend([2, 0, 0, 0]);
    let mut ack = vec![0xb8, 0x10, 0xb8, 0x10, 0x11, 0x22, 0, 0];
    ack.extend([0, 0]); // secondary address: empty
    ack.extend([0, 0]); // pad to 4
    ack.extend([1, 0, 0, 0]);
    ack.extend([0, 0, 0, 0]);
    ack.extend(&ndr);
    ack.extend([2, 0, 0, 0]);
    let stub = stub.min(60_000);
    let resp_stub = resp_stub.min(60_000);
    let mut req = Vec::new();
    req.extend((stub as u32).to_le_bytes());
    req.extend(0u16.to_le_bytes());
    req.extend(opnum.to_le_bytes());
    // svcctl CreateServiceW's arguments must decode; other calls' zeros are null
    // pointers and zero counts, which decode too.
    let stub = if uuid.starts_with("367abb81") && opnum == 12 {
        let args = create_service_args("updsvc", "%SystemRoot%\\updsvc.exe");
        req[0..4].copy_from_slice(&(args.len() as u32).to_le_bytes());
        req.extend(args);
        0
    } else {
        stub
    };
    let mut resp = Vec::new();
    resp.extend((resp_stub as u32).to_le_bytes());
    resp.extend(0u16.to_le_bytes());
    resp.extend([0, 0]);
    [pdu(11, 2, &bind, 0), pdu(12, 2, &ack, 0), pdu(0, 3, &req, stub), pdu(2, 3, &resp, resp_stub)]
}

/// An NDR conformant varying UTF-16 string with its terminator, padded to 4.
fn ndr_string(v: &mut Vec<u8>, s: &str) {
    let n = s.encode_utf16().count() as u32 + 1;
    for x in [n, 0, n] {
        v.extend(x.to_le_bytes());
    }
    v.extend(utf16(s));
    v.extend([0, 0]);
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// The arguments of svcctl `RCreateServiceW` (MS-SCMR 3.1.4.12): a demand-start
/// own-process service running `path`.
fn create_service_args(name: &str, path: &str) -> Vec<u8> {
    let mut v = vec![0u8; 20]; // SC manager handle
    ndr_string(&mut v, name);
    v.extend(0x0002_0000u32.to_le_bytes()); // display name: referent
    ndr_string(&mut v, name);
    for x in [0x000f_01ffu32, 0x10, 3, 0] {
        v.extend(x.to_le_bytes());
    }
    ndr_string(&mut v, path);
    // load order group, tag id, dependencies (+ size), start name, password (+ size)
    v.extend([0u8; 4 * 7]);
    v
}

fn rpc_tcp(d: &DceRpc, s: &Session, sc: &mut Script) {
    let (uuid, op) = rpc_ids(d);
    let stub = s.orig_bytes.saturating_sub(72 + 24 + 200).max(8);
    let resp = s.resp_bytes.saturating_sub(60 + 24).max(8);
    let [b, a, q, r] = rpc_pdus(uuid, op, stub, resp);
    say_chunks(sc, 0, b);
    say_chunks(sc, 1, a);
    say_chunks(sc, 0, q);
    say_chunks(sc, 1, r);
}

fn smb_rpc(d: &DceRpc, s: &Session, seed: u64, sc: &mut Script) {
    // Tools that install services remotely connect by address.
    let ipc = format!("\\\\{}\\IPC$", crate::world::ip_str(s.resp));
    let mut m = smb_connect(&ipc, true, seed, sc);
    let pipe = d.pipe.trim_start_matches("\\pipe\\").trim_start_matches('\\');
    let id = smb_create(&mut m, pipe, true, seed, sc);
    let (uuid, op) = rpc_ids(d);
    let [b, a, q, r] = rpc_pdus(uuid, op, 64, 32);
    for (req, resp) in [(b, a), (q, r)] {
        let bytes = |c: Vec<Chunk>| -> Vec<u8> {
            c.into_iter()
                .flat_map(|c| match c {
                    Chunk::Cap(b) => b,
                    Chunk::Gap(n) => vec![0; n as usize],
                })
                .collect()
        };
        smb_write(&mut m, &id, 0, Chunk::Cap(bytes(req)), sc);
        smb_read(&mut m, &id, 0, Chunk::Cap(bytes(resp)), sc);
    }
    smb_close(&mut m, &id, sc);
}
