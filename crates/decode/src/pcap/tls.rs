//! TLS handshakes: records reassembled per direction (a handshake message may span
//! records and segments), ClientHello and ServerHello fields, JA3, JA3S, JA4 and JA4S
//! fingerprints, the server's certificate chain (TLS 1.2 and earlier send it in the
//! clear), the key-exchange curve, and whether the handshake completed.
//!
//! Bounded: at most [`MAX_BUFFER`] bytes buffered per direction, at most eight
//! certificates kept, parsing stops in a direction at its first encrypted record.

use std::sync::Arc;

use dwell_model::{Certificate, Text, Timestamp};
use md5::{Digest, Md5};
use sha2::Sha256;

/// Most bytes buffered per direction while the handshake is in progress.
pub const MAX_BUFFER: usize = 96 * 1024;

/// The client's hello, with what the fingerprints need.
#[derive(Clone, Debug, Default)]
pub struct ClientHello {
    /// `legacy_version`.
    pub version: u16,
    /// Cipher suites offered.
    pub ciphers: Vec<u16>,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// Supported groups.
    pub groups: Vec<u16>,
    /// EC point formats.
    pub point_formats: Vec<u8>,
    /// Server name.
    pub sni: Option<String>,
    /// ALPN protocols offered.
    pub alpn: Vec<String>,
    /// Supported versions offered.
    pub versions: Vec<u16>,
    /// Signature algorithms.
    pub sig_algs: Vec<u16>,
    /// A non-empty legacy session id (resumption attempt).
    pub session_id: Vec<u8>,
}

/// The server's hello.
#[derive(Clone, Debug, Default)]
pub struct ServerHello {
    /// `legacy_version`.
    pub version: u16,
    /// Chosen version (supported_versions), if any.
    pub selected: Option<u16>,
    /// Chosen cipher suite.
    pub cipher: u16,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// Chosen ALPN protocol.
    pub alpn: Option<String>,
    /// Key-share group (TLS 1.3).
    pub group: Option<u16>,
    /// A pre-shared key was accepted (TLS 1.3 resumption).
    pub psk: bool,
    /// Session id.
    pub session_id: Vec<u8>,
}

#[derive(Debug, Default)]
struct Dir {
    buf: Vec<u8>,
    hs: Vec<u8>,
    stopped: bool,
    encrypted: bool,
    ccs: bool,
    app: bool,
}

/// One connection's handshake.
#[derive(Debug, Default)]
pub struct Handshake {
    dirs: [Dir; 2],
    /// Client hello, once seen.
    pub client: Option<ClientHello>,
    /// Server hello, once seen.
    pub server: Option<ServerHello>,
    /// Server certificates (DER), leaf first.
    pub certs: Vec<Vec<u8>>,
    /// Curve from a ServerKeyExchange.
    pub ske_curve: Option<u16>,
    /// An alert was seen.
    pub alert: bool,
    /// Letters of the handshake as Zeek's `ssl_history` writes them (client upper case).
    pub history: String,
    /// The stream did not look like TLS.
    pub failed: bool,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be24(b: &[u8], at: usize) -> Option<usize> {
    Some(
        (usize::from(*b.get(at)?) << 16)
            | (usize::from(*b.get(at + 1)?) << 8)
            | usize::from(*b.get(at + 2)?),
    )
}

/// GREASE values (RFC 8701) are left out of every fingerprint.
fn grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// Whether `b` starts like a TLS record carrying a handshake (a hello).
pub fn looks_like_tls(b: &[u8]) -> bool {
    matches!(b, [0x16, 0x03, 0..=4, ..])
}

impl Handshake {
    /// Feeds in-order bytes of one direction (0 = client, 1 = server).
    ///
    /// Whole records are read where they lie — in `data` when nothing is buffered, as
    /// almost always — and only a record cut by the segment's end is kept for the next.
    pub fn feed(&mut self, dir: usize, data: &[u8]) {
        let Some(d) = self.dirs.get_mut(dir) else { return };
        if d.stopped {
            return;
        }
        if d.buf.len() + data.len() > MAX_BUFFER {
            d.stopped = true;
            return;
        }
        if d.buf.is_empty() {
            let at = self.records(dir, data);
            let d = &mut self.dirs[dir];
            if !d.stopped {
                d.buf.extend_from_slice(data.get(at..).unwrap_or_default());
            }
        } else {
            let mut buf = std::mem::take(&mut d.buf);
            buf.extend_from_slice(data);
            let at = self.records(dir, &buf);
            if at >= buf.len() || self.dirs[dir].stopped {
                buf.clear();
            } else if at > 0 {
                buf.drain(..at);
            }
            self.dirs[dir].buf = buf;
        }
        // TLS 1.3: everything after the server hello is encrypted both ways.
        if self.server.as_ref().is_some_and(|s| s.selected == Some(0x0304)) {
            self.dirs[1].encrypted = true;
        }
    }

    /// Reads the whole records at the start of `buf`; returns the bytes used.
    fn records(&mut self, dir: usize, buf: &[u8]) -> usize {
        let mut at = 0;
        while let Some(hdr) = buf.get(at..at + 5) {
            let (ctype, major, len) =
                (hdr[0], hdr[1], usize::from(u16::from_be_bytes([hdr[3], hdr[4]])));
            let d = &mut self.dirs[dir];
            if !(20..=24).contains(&ctype) || major != 3 || len > 18_432 {
                d.stopped = true;
                if self.client.is_none() && self.server.is_none() {
                    self.failed = true;
                }
                break;
            }
            let Some(body) = buf.get(at + 5..at + 5 + len) else { break };
            at += 5 + len;
            match ctype {
                22 if !d.encrypted => self.handshake_bytes(dir, body),
                22 => {}
                20 => {
                    d.ccs = true;
                    d.encrypted = true;
                    self.history.push(if dir == 0 { 'C' } else { 'c' });
                }
                21 => {
                    self.alert = true;
                    self.history.push(if dir == 0 { 'L' } else { 'l' });
                }
                23 => {
                    d.app = true;
                    d.encrypted = true;
                    // Nothing readable follows in this direction.
                    d.stopped = true;
                    break;
                }
                _ => {}
            }
        }
        at
    }

    /// Stops reading one direction (a gap in the stream).
    pub fn stop(&mut self, dir: usize) {
        if let Some(d) = self.dirs.get_mut(dir) {
            d.stopped = true;
            d.buf.clear();
        }
    }

    /// Whether the handshake completed: both sides moved to encrypted records.
    pub fn established(&self) -> bool {
        let [c, s] = &self.dirs;
        self.server.is_some() && (c.ccs || c.app) && (s.ccs || s.app)
    }

    /// Whether there is nothing more to learn from this connection.
    pub fn finished(&self) -> bool {
        self.failed || (self.dirs[0].stopped && self.dirs[1].stopped)
    }

    /// Handshake bytes of one record: whole messages are read where they lie when
    /// nothing is pending, and only a message the record cut is kept for the next.
    fn handshake_bytes(&mut self, dir: usize, body: &[u8]) {
        let mut at = 0;
        if self.dirs[dir].hs.is_empty() {
            self.messages(dir, body, &mut at);
            let rest = body.get(at..).unwrap_or_default();
            self.dirs[dir].hs.extend_from_slice(rest);
            return;
        }
        let mut hs = std::mem::take(&mut self.dirs[dir].hs);
        hs.extend_from_slice(body);
        self.messages(dir, &hs, &mut at);
        if at >= hs.len() {
            hs.clear();
        } else {
            hs.drain(..at);
        }
        self.dirs[dir].hs = hs;
    }

    fn messages(&mut self, dir: usize, hs: &[u8], at: &mut usize) {
        loop {
            let (Some(&mtype), Some(len)) = (hs.get(*at), be24(hs, *at + 1)) else { return };
            if len > MAX_BUFFER {
                self.dirs[dir].stopped = true;
                *at = hs.len();
                return;
            }
            if hs.len() < *at + 4 + len {
                return;
            }
            let body = &hs[*at + 4..*at + 4 + len];
            *at += 4 + len;
            let letter = match mtype {
                1 => 'H',
                2 => 'H',
                11 => 'X',
                12 => 'K',
                13 => 'R',
                14 => 'D',
                15 => 'V',
                16 => 'K',
                20 => 'F',
                4 => 'T',
                _ => 'O',
            };
            if self.history.len() < 64 {
                self.history.push(if dir == 0 { letter } else { letter.to_ascii_lowercase() });
            }
            match (dir, mtype) {
                (0, 1) => self.client = client_hello(body),
                (1, 2) => self.server = server_hello(body),
                (1, 11) => self.certificates(body),
                // An ECDHE key exchange names its curve (curve type 3: named curve).
                (1, 12) if body.first() == Some(&3) => self.ske_curve = be16(body, 1),
                _ => {}
            }
        }
    }

    fn certificates(&mut self, body: &[u8]) {
        let Some(total) = be24(body, 0) else { return };
        let mut at = 3;
        let end = (3 + total).min(body.len());
        while at + 3 <= end && self.certs.len() < 8 {
            let Some(len) = be24(body, at) else { break };
            let Some(der) = body.get(at + 3..at + 3 + len) else { break };
            self.certs.push(der.to_vec());
            at += 3 + len;
        }
    }

    /// The negotiated version as Zeek names it.
    pub fn version(&self) -> Option<&'static str> {
        let s = self.server.as_ref()?;
        Some(version_name(s.selected.unwrap_or(s.version)))
    }

    /// The chosen cipher as IANA names it.
    pub fn cipher(&self) -> Option<String> {
        self.server.as_ref().map(|s| cipher_name(s.cipher))
    }

    /// The key-exchange curve.
    pub fn curve(&self) -> Option<&'static str> {
        self.server.as_ref().and_then(|s| s.group).or(self.ske_curve).map(group_name)
    }

    /// Whether the session was resumed (an accepted session id or pre-shared key).
    pub fn resumed(&self) -> bool {
        match (&self.client, &self.server) {
            (Some(c), Some(s)) => {
                s.psk
                    || (!c.session_id.is_empty()
                        && c.session_id == s.session_id
                        && self.certs.is_empty()
                        && s.selected != Some(0x0304))
            }
            _ => false,
        }
    }
}

fn extensions(b: &[u8], mut at: usize, mut f: impl FnMut(u16, &[u8])) {
    let Some(total) = be16(b, at) else { return };
    at += 2;
    let end = (at + usize::from(total)).min(b.len());
    while at + 4 <= end {
        let (Some(t), Some(l)) = (be16(b, at), be16(b, at + 2)) else { return };
        let Some(data) = b.get(at + 4..at + 4 + usize::from(l)) else { return };
        f(t, data);
        at += 4 + usize::from(l);
    }
}

fn u16_list(b: &[u8], len_bytes: usize) -> Vec<u16> {
    let n = match len_bytes {
        1 => b.first().map_or(0, |v| usize::from(*v)),
        _ => be16(b, 0).map_or(0, usize::from),
    };
    b.get(len_bytes..len_bytes + n)
        .unwrap_or(&[])
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

fn alpn_list(b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = b.get(2..).unwrap_or(&[]);
    while let Some((&l, r)) = rest.split_first() {
        let Some(p) = r.get(..usize::from(l)) else { break };
        out.push(String::from_utf8_lossy(p).into_owned());
        rest = &r[usize::from(l)..];
    }
    out
}

fn client_hello(b: &[u8]) -> Option<ClientHello> {
    let mut c = ClientHello { version: be16(b, 0)?, ..ClientHello::default() };
    let sid_len = usize::from(*b.get(34)?);
    c.session_id = b.get(35..35 + sid_len)?.to_vec();
    let mut at = 35 + sid_len;
    let cs_len = usize::from(be16(b, at)?);
    c.ciphers = b
        .get(at + 2..at + 2 + cs_len)?
        .chunks_exact(2)
        .map(|x| u16::from_be_bytes([x[0], x[1]]))
        .collect();
    at += 2 + cs_len;
    let comp_len = usize::from(*b.get(at)?);
    at += 1 + comp_len;
    extensions(b, at, |t, data| {
        c.extensions.push(t);
        match t {
            0 => {
                // server_name list: type 0 (host_name) entries.
                let mut rest = data.get(2..).unwrap_or(&[]);
                while rest.len() >= 3 {
                    let l = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
                    let Some(name) = rest.get(3..3 + l) else { break };
                    if rest[0] == 0 && c.sni.is_none() {
                        c.sni = Some(String::from_utf8_lossy(name).into_owned());
                    }
                    rest = &rest[3 + l..];
                }
            }
            10 => c.groups = u16_list(data, 2),
            11 => {
                c.point_formats = data
                    .get(1..1 + usize::from(*data.first().unwrap_or(&0)))
                    .unwrap_or(&[])
                    .to_vec()
            }
            13 => c.sig_algs = u16_list(data, 2),
            16 => c.alpn = alpn_list(data),
            43 => c.versions = u16_list(data, 1),
            _ => {}
        }
    });
    Some(c)
}

fn server_hello(b: &[u8]) -> Option<ServerHello> {
    let mut s = ServerHello { version: be16(b, 0)?, ..ServerHello::default() };
    let sid_len = usize::from(*b.get(34)?);
    s.session_id = b.get(35..35 + sid_len)?.to_vec();
    let at = 35 + sid_len;
    s.cipher = be16(b, at)?;
    extensions(b, at + 3, |t, data| {
        s.extensions.push(t);
        match t {
            16 => s.alpn = alpn_list(data).into_iter().next(),
            43 => s.selected = be16(data, 0),
            51 => s.group = be16(data, 0),
            41 => s.psk = true,
            _ => {}
        }
    });
    Some(s)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// Appends `v` in decimal.
fn push_dec(s: &mut String, mut v: u32) {
    let mut d = [0u8; 10];
    let mut i = d.len();
    loop {
        i -= 1;
        d[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for c in &d[i..] {
        s.push(char::from(*c));
    }
}

/// Appends values in decimal joined by `-`.
fn push_list(s: &mut String, v: impl Iterator<Item = u32>) {
    for (i, x) in v.enumerate() {
        if i > 0 {
            s.push('-');
        }
        push_dec(s, x);
    }
}

/// Appends `v` as four lowercase hex digits.
fn push_hex4(s: &mut String, v: u16) {
    for shift in [12, 8, 4, 0] {
        s.push(char::from(HEX[usize::from((v >> shift) & 15)]));
    }
}

/// Appends values as four-digit hex joined by `,`.
fn push_hex_list(s: &mut String, v: &[u16]) {
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_hex4(s, *x);
    }
}

/// JA3 of a client hello (MD5 of its canonical string).
pub fn ja3(c: &ClientHello) -> String {
    let mut s = String::with_capacity(256);
    push_dec(&mut s, u32::from(c.version));
    s.push(',');
    push_list(&mut s, c.ciphers.iter().filter(|v| !grease(**v)).map(|v| u32::from(*v)));
    s.push(',');
    push_list(&mut s, c.extensions.iter().filter(|v| !grease(**v)).map(|v| u32::from(*v)));
    s.push(',');
    push_list(&mut s, c.groups.iter().filter(|v| !grease(**v)).map(|v| u32::from(*v)));
    s.push(',');
    push_list(&mut s, c.point_formats.iter().map(|v| u32::from(*v)));
    hex(&Md5::digest(s.as_bytes()))
}

/// JA3S of a server hello.
pub fn ja3s(sh: &ServerHello) -> String {
    let mut s = String::with_capacity(64);
    push_dec(&mut s, u32::from(sh.version));
    s.push(',');
    push_dec(&mut s, u32::from(sh.cipher));
    s.push(',');
    push_list(&mut s, sh.extensions.iter().filter(|v| !grease(**v)).map(|v| u32::from(*v)));
    hex(&Md5::digest(s.as_bytes()))
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn alpn_chars(a: Option<&str>) -> String {
    match a.map(str::as_bytes) {
        Some([]) | None => "00".into(),
        Some(b) => {
            let (f, l) = (b[0], b[b.len() - 1]);
            if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
                format!("{}{}", char::from(f), char::from(l))
            } else {
                format!(
                    "{}{}",
                    hex(&[f]).chars().next().unwrap_or('0'),
                    hex(&[l]).chars().last().unwrap_or('0')
                )
            }
        }
    }
}

fn sha12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".into();
    }
    hex(&Sha256::digest(s.as_bytes()))[..12].to_string()
}

/// JA4 of a client hello over TCP.
pub fn ja4(c: &ClientHello) -> String {
    let version = c.versions.iter().copied().filter(|v| !grease(*v)).max().unwrap_or(c.version);
    let mut ciphers: Vec<u16> = c.ciphers.iter().copied().filter(|v| !grease(*v)).collect();
    let n_ext = c.extensions.iter().filter(|v| !grease(**v)).count();
    // Four-digit hex sorts as the numbers do.
    ciphers.sort_unstable();
    let mut exts: Vec<u16> =
        c.extensions.iter().copied().filter(|v| !grease(*v) && *v != 0 && *v != 16).collect();
    exts.sort_unstable();
    let sigs: Vec<u16> = c.sig_algs.iter().copied().filter(|v| !grease(*v)).collect();
    let mut cs = String::with_capacity(ciphers.len() * 5);
    push_hex_list(&mut cs, &ciphers);
    let mut es = String::with_capacity((exts.len() + sigs.len()) * 5 + 1);
    push_hex_list(&mut es, &exts);
    if !sigs.is_empty() && !exts.is_empty() {
        es.push('_');
        push_hex_list(&mut es, &sigs);
    }
    let mut out = String::with_capacity(40);
    out.push('t');
    out.push_str(ja4_version(version));
    out.push(if c.sni.is_some() { 'd' } else { 'i' });
    push_two(&mut out, ciphers.len());
    push_two(&mut out, n_ext);
    out.push_str(&alpn_chars(c.alpn.first().map(String::as_str)));
    out.push('_');
    out.push_str(&sha12(&cs));
    out.push('_');
    out.push_str(&sha12(&es));
    out
}

/// Two decimal digits (capped at 99).
fn push_two(s: &mut String, n: usize) {
    let n = n.min(99) as u8;
    s.push(char::from(b'0' + n / 10));
    s.push(char::from(b'0' + n % 10));
}

/// JA4S of a server hello over TCP.
pub fn ja4s(sh: &ServerHello) -> String {
    let mut exts = String::with_capacity(sh.extensions.len() * 5);
    push_hex_list(&mut exts, &sh.extensions);
    let mut out = String::with_capacity(32);
    out.push('t');
    out.push_str(ja4_version(sh.selected.unwrap_or(sh.version)));
    push_two(&mut out, sh.extensions.len());
    out.push_str(&alpn_chars(sh.alpn.as_deref()));
    out.push('_');
    push_hex4(&mut out, sh.cipher);
    out.push('_');
    out.push_str(&sha12(&exts));
    out
}

/// Zeek's spelling of a protocol version.
pub fn version_name(v: u16) -> &'static str {
    match v {
        0x0300 => "SSLv3",
        0x0301 => "TLSv10",
        0x0302 => "TLSv11",
        0x0303 => "TLSv12",
        0x0304 => "TLSv13",
        0x0002 => "SSLv2",
        0xfeff => "DTLSv10",
        0xfefd => "DTLSv12",
        _ => "unknown",
    }
}

/// Named groups (curves).
pub fn group_name(g: u16) -> &'static str {
    match g {
        23 => "secp256r1",
        24 => "secp384r1",
        25 => "secp521r1",
        29 => "x25519",
        30 => "x448",
        256 => "ffdhe2048",
        257 => "ffdhe3072",
        258 => "ffdhe4096",
        0x11ec => "X25519MLKEM768",
        0x6399 => "X25519Kyber768Draft00",
        _ => "unknown",
    }
}

/// IANA names of the cipher suites seen in practice; others as `0x....`.
pub fn cipher_name(c: u16) -> String {
    let n = match c {
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        0xc024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        0xc027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0xc028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x009e => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x009f => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x003c => "TLS_RSA_WITH_AES_128_CBC_SHA256",
        0x003d => "TLS_RSA_WITH_AES_256_CBC_SHA256",
        0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0x0067 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        0x006b => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        0x000a => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        0xc012 => "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        0x0005 => "TLS_RSA_WITH_RC4_128_SHA",
        0x0004 => "TLS_RSA_WITH_RC4_128_MD5",
        0xc011 => "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
        0xccaa => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        _ => return format!("0x{c:04x}"),
    };
    n.to_string()
}

/// A certificate from DER, with its fingerprints; `None` when it does not parse.
pub fn certificate(der: &[u8]) -> Option<Certificate> {
    use x509_parser::prelude::*;
    let sha256 = hex(&Sha256::digest(der));
    let sha1 = hex(&sha1::Sha1::digest(der));
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let reg = x509_parser::objects::oid_registry();
    let dn = |name: &X509Name<'_>| {
        let mut parts: Vec<String> = Vec::new();
        for attr in name.iter_attributes() {
            let key = x509_parser::objects::oid2abbrev(attr.attr_type(), reg)
                .map(str::to_string)
                .unwrap_or_else(|_| attr.attr_type().to_id_string());
            let key = match key.as_str() {
                "emailAddress" => "emailAddress".to_string(),
                _ => key,
            };
            let value = match attr.as_str() {
                Ok(s) => s.to_string(),
                Err(_) => String::from_utf8_lossy(attr.as_slice()).into_owned(),
            };
            parts.push(format!("{key}={}", value.replace(',', "\\,")));
        }
        parts.reverse();
        parts.join(",")
    };
    let spki = cert.public_key();
    let key_alg =
        x509_parser::objects::oid2sn(&spki.algorithm.algorithm, reg).ok().map(str::to_string);
    let sig_alg = x509_parser::objects::oid2sn(&cert.signature_algorithm.algorithm, reg)
        .ok()
        .map(str::to_string);
    let (mut key_type, mut key_length, mut exponent, mut curve) = (None, None, None, None);
    match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(k)) => {
            key_type = Some("rsa");
            let m: &[u8] = k.modulus;
            let m = &m[m.iter().take_while(|b| **b == 0).count()..];
            if let Some(first) = m.first() {
                key_length = Some(((m.len() - 1) * 8) as u32 + (8 - first.leading_zeros()));
            }
            exponent = k.try_exponent().ok().map(|e| e.to_string());
        }
        Ok(x509_parser::public_key::PublicKey::EC(p)) => {
            key_type = Some("ecdsa");
            key_length = Some(p.key_size() as u32);
            curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|a| a.as_oid().ok())
                .and_then(|o| x509_parser::objects::oid2sn(&o, reg).ok().map(str::to_string));
        }
        Ok(x509_parser::public_key::PublicKey::DSA(_)) => key_type = Some("dsa"),
        _ => {}
    }
    let mut c = Certificate {
        id: Some(Text::from(format!("F{}", &sha1[..17]))),
        fingerprint_sha256: Some(Text::from(sha256)),
        fingerprint_sha1: Some(Text::from(sha1)),
        version: Some(cert.version().0 + 1),
        serial: Some(Text::from(hex(cert.raw_serial()).to_ascii_uppercase())),
        subject: Some(Text::from(dn(cert.subject()))),
        issuer: Some(Text::from(dn(cert.issuer()))),
        not_valid_before: Some(Timestamp::from_secs(cert.validity().not_before.timestamp())),
        not_valid_after: Some(Timestamp::from_secs(cert.validity().not_after.timestamp())),
        key_alg: key_alg.map(Text::from),
        sig_alg: sig_alg.map(Text::from),
        key_type: key_type.map(Text::from),
        key_length,
        exponent: exponent.map(Text::from),
        curve: curve.map(Text::from),
        ..Certificate::default()
    };
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(s) => c.san_dns.push(Text::from(*s)),
                GeneralName::URI(s) => c.san_uri.push(Text::from(*s)),
                GeneralName::RFC822Name(s) => c.san_email.push(Text::from(*s)),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => c.san_ip.push(std::net::IpAddr::from([b[0], b[1], b[2], b[3]])),
                    16 => {
                        let mut a = [0u8; 16];
                        a.copy_from_slice(b);
                        c.san_ip.push(std::net::IpAddr::from(a));
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    if let Ok(Some(bc)) = cert.basic_constraints() {
        c.basic_constraints_ca = Some(bc.value.ca);
        c.basic_constraints_path_len = bc.value.path_len_constraint;
    }
    Some(c)
}

/// A DER certificate and what it parsed to.
type CachedCert = (Box<[u8]>, Option<Arc<Certificate>>);

/// Certificates already parsed, by their DER: servers present the same chain to every
/// client, and parsing X.509 costs more than everything else in a handshake.
#[derive(Default)]
pub struct CertCache {
    map: std::collections::HashMap<u64, Vec<CachedCert>, foldhash::fast::RandomState>,
    bytes: usize,
    hasher: foldhash::fast::RandomState,
}

/// Most DER bytes the cache holds before it starts afresh.
const CACHE_BYTES: usize = 32 << 20;

impl CertCache {
    /// The parsed certificate of `der` (`None` when it does not parse).
    pub fn get(&mut self, der: &[u8]) -> Option<Arc<Certificate>> {
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(der);
        if let Some(v) = self.map.get(&h) {
            if let Some((_, c)) = v.iter().find(|(d, _)| &**d == der) {
                return c.clone();
            }
        }
        let parsed = certificate(der).map(Arc::new);
        if self.bytes + der.len() > CACHE_BYTES {
            self.map.clear();
            self.bytes = 0;
        }
        self.bytes += der.len();
        self.map.entry(h).or_default().push((der.into(), parsed.clone()));
        parsed
    }
}

/// The certificates of a handshake, parsed (unparseable ones left out).
pub fn chain(h: &Handshake, cache: &mut CertCache) -> Vec<Arc<Certificate>> {
    h.certs.iter().filter_map(|d| cache.get(d)).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ClientHello record with the given SNI, ciphers and ALPN.
    pub fn client_hello_record(sni: &str, ciphers: &[u16], alpn: &[&str]) -> Vec<u8> {
        let mut exts = Vec::new();
        // GREASE extension first, as browsers send it.
        exts.extend([0x0a, 0x0a, 0, 0]);
        let mut sn = vec![0u8];
        sn.extend((sni.len() as u16).to_be_bytes());
        sn.extend(sni.as_bytes());
        let mut sn_list = (sn.len() as u16).to_be_bytes().to_vec();
        sn_list.extend(sn);
        exts.extend([0, 0]);
        exts.extend((sn_list.len() as u16).to_be_bytes());
        exts.extend(sn_list);
        // supported_groups: x25519, secp256r1.
        exts.extend([0, 10, 0, 6, 0, 4, 0, 29, 0, 23]);
        // ec_point_formats: uncompressed.
        exts.extend([0, 11, 0, 2, 1, 0]);
        // signature_algorithms.
        exts.extend([0, 13, 0, 6, 0, 4, 0x04, 0x03, 0x08, 0x04]);
        if !alpn.is_empty() {
            let mut l = Vec::new();
            for p in alpn {
                l.push(p.len() as u8);
                l.extend(p.as_bytes());
            }
            exts.extend([0, 16]);
            exts.extend(((l.len() + 2) as u16).to_be_bytes());
            exts.extend((l.len() as u16).to_be_bytes());
            exts.extend(l);
        }
        let mut body = vec![0x03, 0x03];
        body.extend([7u8; 32]);
        body.push(0);
        body.extend(((ciphers.len() * 2) as u16).to_be_bytes());
        for c in ciphers {
            body.extend(c.to_be_bytes());
        }
        body.extend([1, 0]);
        body.extend((exts.len() as u16).to_be_bytes());
        body.extend(exts);
        let mut hs = vec![1u8];
        hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend(body);
        let mut rec = vec![0x16, 0x03, 0x01];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    /// A ServerHello record choosing `cipher`.
    pub fn server_hello_record(cipher: u16) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend([9u8; 32]);
        body.push(0);
        body.extend(cipher.to_be_bytes());
        body.push(0);
        body.extend([0, 4, 0xff, 0x01, 0, 0]);
        let mut hs = vec![2u8];
        hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend(body);
        let mut rec = vec![0x16, 0x03, 0x03];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    /// However a direction's bytes are cut into segments — records whole, cut, or many
    /// in one segment; a handshake message spread over two records — the handshake
    /// ends in the same state as when the bytes come at once.
    #[test]
    fn any_segmentation_gives_the_same_handshake() {
        let ch = client_hello_record("a.example", &[0x1301, 0xc02f], &["h2"]);
        let msg = &ch[5..];
        let k = msg.len() / 3;
        let rec = |ctype: u8, body: &[u8]| {
            let mut r = vec![ctype, 3, 1];
            r.extend((body.len() as u16).to_be_bytes());
            r.extend(body);
            r
        };
        let mut client = rec(22, &msg[..k]);
        client.extend(rec(22, &msg[k..]));
        client.extend([20, 3, 3, 0, 1, 1]);
        client.extend(rec(23, &[0xaa; 40]));
        let mut server = server_hello_record(0xc02f);
        server.extend(rec(22, &[11, 0, 0, 9, 0, 0, 6, 0, 0, 3, 0x30, 0x01, 0x00]));
        server.extend([20, 3, 3, 0, 1, 1]);
        let whole = |cuts: &[usize], dir: usize, bytes: &[u8], h: &mut Handshake| {
            let mut from = 0;
            for &c in cuts.iter().chain([bytes.len()].iter()) {
                h.feed(dir, &bytes[from..c.max(from)]);
                from = c.max(from);
            }
        };
        let mut once = Handshake::default();
        once.feed(0, &client);
        once.feed(1, &server);
        assert!(once.client.is_some() && once.established() && once.certs.len() == 1);
        let want = format!("{once:?}");
        for (dir, len) in [(0, client.len()), (1, server.len())] {
            for p in 0..=len {
                let mut g = Handshake::default();
                if dir == 0 {
                    whole(&[p], 0, &client, &mut g);
                    whole(&[], 1, &server, &mut g);
                } else {
                    whole(&[], 0, &client, &mut g);
                    whole(&[p], 1, &server, &mut g);
                }
                assert_eq!(format!("{g:?}"), want, "dir {dir} cut at {p}");
            }
        }
        let mut x = 0x1234_5678_9abc_def1u64;
        for _ in 0..300 {
            let mut cuts: Vec<usize> = (0..4)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % (client.len() as u64 + 1)) as usize
                })
                .collect();
            cuts.sort_unstable();
            let mut h = Handshake::default();
            whole(&cuts, 0, &client, &mut h);
            let scuts: Vec<usize> = cuts.iter().map(|c| c * server.len() / client.len()).collect();
            whole(&scuts, 1, &server, &mut h);
            assert_eq!(format!("{h:?}"), want, "cuts {cuts:?}");
        }
    }

    #[test]
    fn hello_fields_and_fingerprints() {
        let rec =
            client_hello_record("www.example.com", &[0x1a1a, 0x1301, 0xc02f], &["h2", "http/1.1"]);
        let mut h = Handshake::default();
        // Split across three segments, as a slow sender would.
        h.feed(0, &rec[..3]);
        h.feed(0, &rec[3..40]);
        h.feed(0, &rec[40..]);
        let c = h.client.clone().unwrap();
        assert_eq!(c.sni.as_deref(), Some("www.example.com"));
        assert_eq!(c.alpn, ["h2", "http/1.1"]);
        // JA3 string: GREASE left out everywhere.
        let expect = format!("{:x}", Md5::digest(b"771,4865-49199,0-10-11-13-16,29-23,0"));
        assert_eq!(ja3(&c), expect);
        let j4 = ja4(&c);
        assert!(j4.starts_with("t12d0205h2_"), "{j4}");
        h.feed(1, &server_hello_record(0xc02f));
        assert_eq!(h.cipher().as_deref(), Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
        assert_eq!(h.version(), Some("TLSv12"));
        assert!(!h.established());
        h.feed(0, &[20, 3, 3, 0, 1, 1]);
        h.feed(1, &[20, 3, 3, 0, 1, 1]);
        assert!(h.established());
    }

    #[test]
    fn not_tls_and_garbage() {
        let mut h = Handshake::default();
        h.feed(0, b"GET / HTTP/1.1\r\n\r\n");
        assert!(h.failed);
        let rec = client_hello_record("a.example", &[0x1301], &[]);
        for cut in 0..rec.len() {
            let mut h = Handshake::default();
            h.feed(0, &rec[..cut]);
            let mut bad = rec.clone();
            bad[cut] ^= 0xff;
            h.feed(0, &bad);
        }
    }
}
