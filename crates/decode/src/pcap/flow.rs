//! The flow meter: packets into bidirectional flows with Zeek's connection semantics,
//! and the application layers into DNS, TLS, X.509 and HTTP events.
//!
//! **Flows.** Keyed by the unordered 5-tuple (ICMP: the address pair, and the echo
//! identifier or the message type). The originator is the sender of a TCP SYN; when the
//! first packet seen is a SYN-ACK, or comes from a well-known service port to an
//! ephemeral one, the other side is (Zeek's `^` in the history). A flow ends at FIN from
//! both sides or a reset (then it is reported after a short linger), after
//! [`Config::tcp_timeout_s`] / [`Config::udp_timeout_s`] of inactivity, or at the end of
//! the capture. A new SYN on a flow that has closed starts a new flow.
//!
//! **Counts as Zeek gives them.** `conn_state` (S0, S1, SF, REJ, S2, S3, RSTO, RSTR,
//! RSTOS0, RSTRH, SH, SHR, OTH), `history` (each letter once per direction), bytes per
//! direction from the TCP sequence space (retransmissions not counted twice; UDP and
//! ICMP: payload sums), packets and IP bytes per direction, `missed_bytes` from
//! sequence gaps, duration first to last packet, a Zeek-style `uid`, and Community ID v1.
//!
//! **Application layers.** Content decides, ports are hints: TLS by its record header
//! in the first payload, HTTP by a request method, DNS on the DNS ports (53, 5353, 5355;
//! over TCP with the length prefix). TCP payload is fed to them in sequence order; a
//! segment beyond a gap reports the gap (HTTP skips it inside a body, TLS stops).
//!
//! **Bounds.** At most [`Config::max_flows`] flows; beyond it new flows are not tracked
//! and their packets are counted as dropped. Fragments: the first fragment's flow
//! collects the later ones (at most 65 536 datagrams remembered).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use dwell_model::{
    Body, Conn, DceRpc, Dns, DnsMsg, Event, FileId, Flow as Tuple, Header, Http, Proto, Rdp, Smb,
    SmbKind, SourceRef, Text, Timestamp, Tls, Uid,
};
use foldhash::fast::RandomState;
use sha1::{Digest, Sha1};

use super::packet::{flags, proto, Frag, Ip};
use super::{dns, http, krb, rdp, smb, tls};

/// Flow-meter settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// TCP inactivity timeout, seconds (Zeek: 5 min).
    pub tcp_timeout_s: i64,
    /// UDP and ICMP inactivity timeout, seconds (Zeek: 1 min).
    pub udp_timeout_s: i64,
    /// Most flows tracked at once.
    pub max_flows: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { tcp_timeout_s: 300, udp_timeout_s: 60, max_flows: 500_000 }
    }
}

/// Data segments of a flow searched for a protocol it carries.
const PROBES: u8 = 8;
/// Seconds a closed TCP flow lingers for its last ACKs.
const LINGER_S: i64 = 5;
/// Seconds of packet time between sweeps of the table.
const SWEEP_S: i64 = 10;
/// Ports answered from (so a first packet from them is a reply).
const SERVICE_PORTS: &[u16] = &[
    53, 67, 68, 69, 80, 88, 123, 137, 138, 161, 162, 389, 443, 445, 500, 514, 1900, 3389, 4500,
    5353, 5355, 8080, 8443,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    a: IpAddr,
    b: IpAddr,
    pa: u16,
    pb: u16,
    proto: u8,
}

fn key_of(p: &Ip<'_>) -> Key {
    let (pa, pb) = match p.proto {
        proto::ICMP | proto::ICMP6 => {
            // Echo requests and replies share the identifier; other messages their type.
            let class = match (p.proto, p.sport) {
                (proto::ICMP, 0 | 8) => 8,
                (proto::ICMP6, 128 | 129) => 128,
                (_, t) => t,
            };
            (class, p.icmp_id.unwrap_or(0))
        }
        _ => (p.sport, p.dport),
    };
    let (x, y) = ((p.src, pa), (p.dst, pb));
    if p.proto == proto::ICMP || p.proto == proto::ICMP6 {
        let (a, b) = if p.src <= p.dst { (p.src, p.dst) } else { (p.dst, p.src) };
        return Key { a, b, pa, pb, proto: p.proto };
    }
    let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
    Key { a: lo.0, b: hi.0, pa: lo.1, pb: hi.1, proto: p.proto }
}

/// History letters in Zeek's order of meaning; one bit each per direction.
const LETTERS: &[u8] = b"SHADFRTG";

/// "Not yet" for offsets.
const NONE: u64 = u64::MAX;

#[derive(Debug)]
struct Side {
    pkts: u64,
    ip_bytes: u64,
    payload: u64,
    /// First sequence number seen (the ISN when `syn`).
    base: Option<u32>,
    syn: bool,
    fin: bool,
    rst: bool,
    /// Highest sequence offset carrying data (end of it).
    max_end: u64,
    /// Offset of the first data byte (1 after a SYN).
    data_start: u64,
    /// Next expected offset (reassembly).
    next: u64,
    last_off: u64,
    missed: u64,
    letters: u8,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            pkts: 0,
            ip_bytes: 0,
            payload: 0,
            base: None,
            syn: false,
            fin: false,
            rst: false,
            max_end: 0,
            data_start: 0,
            next: NONE,
            last_off: 0,
            missed: 0,
            letters: 0,
        }
    }
}

impl Side {
    /// Offset of `seq` relative to the base, unwrapped near the last one seen.
    fn offset(&mut self, seq: u32) -> u64 {
        let base = *self.base.get_or_insert(seq);
        let rel = seq.wrapping_sub(base);
        let d = rel.wrapping_sub(self.last_off as u32) as i32;
        let off = (self.last_off as i64 + i64::from(d)).max(0) as u64;
        self.last_off = off;
        off
    }

    fn bytes(&self, tcp: bool) -> u64 {
        if tcp && self.base.is_some() && self.max_end > self.data_start {
            self.max_end - self.data_start
        } else if tcp {
            0
        } else {
            self.payload
        }
    }
}

#[derive(Debug)]
struct DnsState {
    pending: VecDeque<(Timestamp, u64, dns::Message)>,
    tcp: [Vec<u8>; 2],
}

/// A Kerberos exchange in progress: the request awaiting its answer, and TCP bytes
/// not yet forming a whole record.
#[derive(Debug, Default)]
struct KrbState {
    pending: Option<(Timestamp, u64, krb::Msg)>,
    tcp: [Vec<u8>; 2],
}

/// Most bytes of one Kerberos TCP record kept while it arrives.
const KRB_MAX_RECORD: usize = 64 * 1024;

#[derive(Debug)]
enum App {
    Unknown,
    Off,
    Dns(Box<DnsState>),
    Krb(Box<KrbState>),
    Tls(Box<(tls::Handshake, bool)>),
    Http(Box<http::Conversation>),
    Smb(Box<smb::Smb>),
    Rpc(Box<smb::RpcStream>),
    /// An RDP Connection Request waiting for the server's Confirm.
    Rdp(Box<rdp::Request>),
}

#[derive(Debug)]
struct FlowState {
    orig: (IpAddr, u16),
    resp: (IpAddr, u16),
    proto: u8,
    first: Timestamp,
    last: Timestamp,
    first_record: u64,
    seq: u64,
    s: [Side; 2],
    /// Zeek's history letters (each at most once per direction, and `^`).
    history: [u8; 18],
    hist_len: u8,
    app: App,
    service: Option<&'static str>,
    closed: Option<Timestamp>,
    synack: bool,
    /// Data segments left in which an application protocol may still be recognised
    /// (a SOCKS or proxy preamble comes before the TLS it carries).
    probes: u8,
    /// OpenVPN-over-UDP evidence: 1 a hard reset, 2 a control or ack packet.
    vpn_hint: u8,
}

/// What events of a flow name it by.
#[derive(Clone, Debug)]
struct Ident {
    tuple: Tuple,
    first: Timestamp,
    first_record: u64,
    seq: u64,
    salt: u64,
    /// Made when the first record needs it (most packets emit none).
    uid: std::cell::OnceCell<Uid>,
}

impl Ident {
    fn uid(&self) -> Uid {
        self.uid.get_or_init(|| uid(self.salt, self.seq)).clone()
    }
}

impl FlowState {
    fn ident(&self, salt: u64) -> Ident {
        Ident {
            tuple: self.tuple(),
            first: self.first,
            first_record: self.first_record,
            seq: self.seq,
            salt,
            uid: std::cell::OnceCell::new(),
        }
    }

    fn tuple(&self) -> Tuple {
        Tuple {
            orig_h: self.orig.0,
            orig_p: self.orig.1,
            resp_h: self.resp.0,
            resp_p: self.resp.1,
            proto: match self.proto {
                proto::TCP => Proto::Tcp,
                proto::UDP => Proto::Udp,
                proto::ICMP | proto::ICMP6 => Proto::Icmp,
                _ => Proto::Other,
            },
        }
    }

    fn letter(&mut self, dir: usize, l: u8) {
        let Some(bit) = LETTERS.iter().position(|x| *x == l) else { return };
        let side = &mut self.s[dir];
        if side.letters & (1 << bit) == 0 && usize::from(self.hist_len) < self.history.len() {
            side.letters |= 1 << bit;
            self.history[usize::from(self.hist_len)] =
                if dir == 0 { l } else { l.to_ascii_lowercase() };
            self.hist_len += 1;
        }
    }

    fn conn_state(&self) -> &'static str {
        let [o, r] = &self.s;
        match self.proto {
            proto::TCP => {
                let established = o.syn && self.synack;
                if established {
                    if o.rst {
                        "RSTO"
                    } else if r.rst {
                        "RSTR"
                    } else if o.fin && r.fin {
                        "SF"
                    } else if o.fin {
                        "S2"
                    } else if r.fin {
                        "S3"
                    } else {
                        "S1"
                    }
                } else if o.syn {
                    if r.rst {
                        "REJ"
                    } else if o.rst {
                        "RSTOS0"
                    } else if o.fin {
                        "SH"
                    } else {
                        "S0"
                    }
                } else if self.synack {
                    if r.rst {
                        "RSTRH"
                    } else if r.fin {
                        "SHR"
                    } else {
                        "OTH"
                    }
                } else {
                    "OTH"
                }
            }
            proto::UDP => {
                if r.pkts > 0 {
                    "SF"
                } else {
                    "S0"
                }
            }
            _ => "OTH",
        }
    }
}

/// Base-62 digits of Zeek uids.
const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A Zeek-style uid (`C` and 17 base-62 digits) for flow `seq` of file `salt`.
fn uid(salt: u64, seq: u64) -> Uid {
    let (mut a, mut b) = (splitmix(salt ^ seq), splitmix(seq.wrapping_add(salt).rotate_left(17)));
    let mut s = [b'C'; 18];
    for (i, c) in s.iter_mut().skip(1).enumerate() {
        let x = if i < 10 { &mut a } else { &mut b };
        *c = B62[(*x % 62) as usize];
        *x /= 62;
    }
    Uid::from(std::str::from_utf8(&s).unwrap_or("C"))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An address's bytes (4 or 16 of them used).
fn ip_bytes(ip: IpAddr) -> ([u8; 16], usize) {
    match ip {
        IpAddr::V4(a) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&a.octets());
            (b, 4)
        }
        IpAddr::V6(a) => (a.octets(), 16),
    }
}

/// Community ID v1 (seed 0) of a flow.
pub fn community_id(proto_num: u8, src: IpAddr, sport: u16, dst: IpAddr, dport: u16) -> Text {
    let ((sb, sl), (db, dl)) = (ip_bytes(src), ip_bytes(dst));
    let (mut s, mut d) = (&sb[..sl], &db[..dl]);
    let (mut sp, mut dp) = (sport, dport);
    let mut one_way = false;
    if proto_num == proto::ICMP || proto_num == proto::ICMP6 {
        let counterpart = match (proto_num, sport) {
            (proto::ICMP, 8) => Some(0),
            (proto::ICMP, 0) => Some(8),
            (proto::ICMP, 13) => Some(14),
            (proto::ICMP, 14) => Some(13),
            (proto::ICMP, 15) => Some(16),
            (proto::ICMP, 16) => Some(15),
            (proto::ICMP, 10) => Some(9),
            (proto::ICMP, 9) => Some(10),
            (proto::ICMP, 17) => Some(18),
            (proto::ICMP, 18) => Some(17),
            (proto::ICMP6, 128) => Some(129),
            (proto::ICMP6, 129) => Some(128),
            (proto::ICMP6, 133) => Some(134),
            (proto::ICMP6, 134) => Some(133),
            (proto::ICMP6, 135) => Some(136),
            (proto::ICMP6, 136) => Some(135),
            (proto::ICMP6, 130) => Some(131),
            (proto::ICMP6, 131) => Some(130),
            (proto::ICMP6, 139) => Some(140),
            (proto::ICMP6, 140) => Some(139),
            (proto::ICMP6, 144) => Some(145),
            (proto::ICMP6, 145) => Some(144),
            _ => None,
        };
        match counterpart {
            Some(c) => dp = c,
            None => one_way = true,
        }
    }
    if !one_way && (s > d || (s == d && sp > dp)) {
        std::mem::swap(&mut s, &mut d);
        std::mem::swap(&mut sp, &mut dp);
    }
    let mut h = Sha1::new();
    h.update([0u8, 0]);
    h.update(s);
    h.update(d);
    h.update([proto_num, 0]);
    if matches!(proto_num, proto::TCP | proto::UDP | proto::ICMP | proto::ICMP6 | 132) {
        h.update(sp.to_be_bytes());
        h.update(dp.to_be_bytes());
    }
    // "1:" and the 28 base64 characters of the 20-byte digest, built on the stack.
    let mut out = [0u8; 30];
    out[..2].copy_from_slice(b"1:");
    base64_into(&h.finalize(), &mut out[2..]);
    Text::from(std::str::from_utf8(&out).unwrap_or("1:"))
}

/// Standard base64 (with `=` padding) of `b` into `out`, which holds four bytes for
/// every three of `b`, rounded up.
fn base64_into(b: &[u8], out: &mut [u8]) {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (c, o) in b.chunks(3).zip(out.chunks_exact_mut(4)) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        o[0] = T[(n >> 18) as usize & 63];
        o[1] = T[(n >> 12) as usize & 63];
        o[2] = if c.len() > 1 { T[(n >> 6) as usize & 63] } else { b'=' };
        o[3] = if c.len() > 2 { T[n as usize & 63] } else { b'=' };
    }
}

#[cfg(test)]
fn base64(b: &[u8]) -> String {
    let mut out = vec![0u8; b.len().div_ceil(3) * 4];
    base64_into(b, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Strings the meter hands out again and again, allocated once.
#[derive(Default)]
pub struct Strings {
    statics: HashMap<&'static str, Text, RandomState>,
    dynamic: HashMap<String, Text, RandomState>,
    client_fps: HashMap<u64, (Text, Text), RandomState>,
    server_fps: HashMap<u64, (Text, Text), RandomState>,
    hasher: RandomState,
}

/// Most entries of each string table before it starts afresh.
const STRINGS_CAP: usize = 16_384;

impl Strings {
    /// A shared `Text` for a static string.
    fn st(&mut self, s: &'static str) -> Text {
        self.statics.entry(s).or_insert_with(|| Text::from(s)).clone()
    }

    /// A shared `Text` for a short string that repeats (histories, cipher codes).
    fn dy(&mut self, s: &str) -> Text {
        if let Some(t) = self.dynamic.get(s) {
            return t.clone();
        }
        if self.dynamic.len() >= STRINGS_CAP {
            self.dynamic.clear();
        }
        let t = Text::from(s);
        self.dynamic.insert(s.to_string(), t.clone());
        t
    }

    /// JA3 and JA4 of a client hello, computed once per distinct hello.
    fn client(&mut self, c: &tls::ClientHello) -> (Text, Text) {
        use std::hash::BuildHasher;
        let key = self.hasher.hash_one((
            c.version,
            &c.ciphers,
            &c.extensions,
            &c.groups,
            &c.point_formats,
            &c.sig_algs,
            &c.versions,
            c.alpn.first(),
            c.sni.is_some(),
        ));
        if let Some(v) = self.client_fps.get(&key) {
            return v.clone();
        }
        if self.client_fps.len() >= STRINGS_CAP {
            self.client_fps.clear();
        }
        let v = (Text::from(tls::ja3(c)), Text::from(tls::ja4(c)));
        self.client_fps.insert(key, v.clone());
        v
    }

    /// JA3S and JA4S of a server hello, computed once per distinct hello.
    fn server(&mut self, sh: &tls::ServerHello) -> (Text, Text) {
        use std::hash::BuildHasher;
        let key =
            self.hasher.hash_one((sh.version, sh.selected, sh.cipher, &sh.extensions, &sh.alpn));
        if let Some(v) = self.server_fps.get(&key) {
            return v.clone();
        }
        if self.server_fps.len() >= STRINGS_CAP {
            self.server_fps.clear();
        }
        let v = (Text::from(tls::ja3s(sh)), Text::from(tls::ja4s(sh)));
        self.server_fps.insert(key, v.clone());
        v
    }
}

/// State shared by all flows of a capture.
#[derive(Default)]
pub struct Shared {
    certs: tls::CertCache,
    strings: Strings,
}

/// What the meter counted that it could not use.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Packets of new flows not tracked because the table was full.
    pub dropped_table_full: u64,
    /// Later fragments whose first fragment was never seen.
    pub orphan_fragments: u64,
    /// DNS payloads on DNS ports that did not parse.
    pub bad_dns: u64,
    /// HTTP header blocks that did not parse.
    pub bad_http: u64,
    /// Kerberos messages on port 88 that did not parse.
    pub bad_krb: u64,
    /// Fragmented DNS/Kerberos datagrams put back together and read.
    pub reassembled: u64,
    /// Fragmented datagrams given up (a fragment missing for 30 s, or too many
    /// pending): their bytes count for the flow, their content is not read.
    pub reassembly_dropped: u64,
}

/// A fragmented UDP datagram being put back together, in IP-payload coordinates (the
/// UDP header is bytes 0..8; the first fragment's data starts at 8).
struct Reasm {
    /// Arrival of the first fragment, and its record number.
    ts: Timestamp,
    record: u64,
    /// (offset, bytes) of the pieces received.
    parts: Vec<(u32, Vec<u8>)>,
    /// The datagram's payload end, once the last fragment came.
    total: Option<u32>,
}

/// Most datagrams reassembled at once, most pieces one may come in (a datagram cut into
/// hundreds of tiny fragments is an attack on reassembly, not traffic), and how long a
/// missing piece is waited for.
const REASM_MAX: usize = 1024;
const REASM_MAX_PARTS: usize = 64;
const REASM_WAIT_S: i64 = 30;

impl Reasm {
    /// The UDP payload, once every byte from 8 to the end is there.
    fn complete(&mut self) -> Option<Vec<u8>> {
        let total = self.total?;
        self.parts.sort_unstable_by_key(|(o, _)| *o);
        let mut out = Vec::with_capacity(total.saturating_sub(8) as usize);
        let mut at = 8u32;
        for (o, b) in &self.parts {
            if *o > at {
                return None;
            }
            let end = o + b.len() as u32;
            if end > at {
                out.extend_from_slice(b.get((at - o) as usize..)?);
                at = end;
            }
        }
        (at >= total).then(|| {
            out.truncate(total.saturating_sub(8) as usize);
            out
        })
    }
}

/// A tracked flow and when the sweep is to report it, kept beside the key so that the
/// sweep reads the table alone instead of every flow's state behind its pointer.
struct Slot {
    f: Box<FlowState>,
    /// `closed` + linger for a closed flow, else `last` + the inactivity timeout.
    expires: Timestamp,
}

/// When a sweep at or after this time reports `f`.
fn expiry(f: &FlowState, cfg: &Config) -> Timestamp {
    match f.closed {
        Some(c) => c.add_secs(LINGER_S),
        None if f.proto == proto::TCP => f.last.add_secs(cfg.tcp_timeout_s),
        None => f.last.add_secs(cfg.udp_timeout_s),
    }
}

/// The flow meter of one capture.
pub struct Meter {
    cfg: Config,
    file: FileId,
    salt: u64,
    flows: HashMap<Key, Slot, RandomState>,
    frags: HashMap<(IpAddr, IpAddr, u32), Key, RandomState>,
    reasm: HashMap<(IpAddr, IpAddr, u32), Reasm, RandomState>,
    seq: u64,
    next_sweep: Timestamp,
    now: Timestamp,
    /// Events ready to hand out.
    pub out: VecDeque<Event>,
    /// What could not be used.
    pub counters: Counters,
    sh: Shared,
    /// Flows left to report at the end, newest first (popped from the back). Boxes
    /// straight out of the table: the states are not moved again.
    #[allow(clippy::vec_box)]
    closing: Vec<Box<FlowState>>,
    /// Boxes of reported flows, reused for new ones: a busy capture starts and ends
    /// hundreds of thousands of flows, and each would otherwise cost an allocation and
    /// a free of a few hundred bytes.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<FlowState>>,
}

/// Most flow boxes kept for reuse.
const SPARE_MAX: usize = 1024;

impl Meter {
    /// A meter for `file`; `salt` varies the uids between files.
    pub fn new(cfg: Config, file: FileId, salt: u64) -> Meter {
        Meter {
            cfg,
            file,
            salt,
            flows: HashMap::default(),
            frags: HashMap::default(),
            reasm: HashMap::default(),
            seq: 0,
            next_sweep: Timestamp::MIN,
            now: Timestamp::MIN,
            out: VecDeque::new(),
            counters: Counters::default(),
            sh: Shared::default(),
            closing: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// Flows currently tracked.
    pub fn active(&self) -> usize {
        self.flows.len()
    }

    /// One packet (`record`: its ordinal in the file).
    pub fn packet(&mut self, p: &Ip<'_>, ts: Timestamp, record: u64) {
        self.now = self.now.max(ts);
        if self.next_sweep == Timestamp::MIN {
            self.next_sweep = ts.add_secs(SWEEP_S);
        } else if ts >= self.next_sweep {
            self.sweep(ts);
            self.next_sweep = ts.add_secs(SWEEP_S);
        }
        let key = match p.frag {
            Frag::Later { id, .. } => match self.frags.get(&(p.src, p.dst, id)) {
                Some(k) => *k,
                None => {
                    self.counters.orphan_fragments += 1;
                    return;
                }
            },
            _ => key_of(p),
        };
        if let Frag::First { id } = p.frag {
            if self.frags.len() >= 65_536 {
                self.frags.clear();
            }
            self.frags.insert((p.src, p.dst, id), key);
        }
        // A new SYN on a closed flow: the old one is over.
        let syn_only = p.tcp.is_some_and(|t| t.flags & (flags::SYN | flags::ACK) == flags::SYN);
        if syn_only
            && self
                .flows
                .get(&key)
                .is_some_and(|s| s.f.closed.is_some() || s.f.s[0].syn && s.f.s[0].fin)
        {
            if let Some(s) = self.flows.remove(&key) {
                self.finish(s.f);
            }
        }
        let tracked = self.flows.len();
        let slot = match self.flows.entry(key) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                if tracked >= self.cfg.max_flows {
                    self.counters.dropped_table_full += 1;
                    return;
                }
                if let Frag::Later { .. } = p.frag {
                    return;
                }
                let flipped = match p.tcp {
                    Some(t) if t.flags & flags::SYN != 0 => t.flags & flags::ACK != 0,
                    _ if p.proto == proto::ICMP => p.sport == 0,
                    _ if p.proto == proto::ICMP6 => p.sport == 129,
                    _ => {
                        let server = |port: u16| port < 1024 || SERVICE_PORTS.contains(&port);
                        server(p.sport) && !server(p.dport)
                    }
                };
                let (orig, resp) = if flipped {
                    ((p.dst, p.dport), (p.src, p.sport))
                } else {
                    ((p.src, p.sport), (p.dst, p.dport))
                };
                self.seq += 1;
                let state = FlowState {
                    orig,
                    resp,
                    proto: p.proto,
                    first: ts,
                    last: ts,
                    first_record: record,
                    seq: self.seq,
                    s: [Side::default(), Side::default()],
                    history: [0; 18],
                    hist_len: 0,
                    app: App::Unknown,
                    service: None,
                    closed: None,
                    synack: false,
                    probes: PROBES,
                    vpn_hint: 0,
                };
                let mut f = match self.spare.pop() {
                    Some(mut b) => {
                        *b = state;
                        b
                    }
                    None => Box::new(state),
                };
                if flipped {
                    f.history[0] = b'^';
                    f.hist_len = 1;
                }
                if p.proto == proto::UDP && (is_dns_port(p.sport) || is_dns_port(p.dport)) {
                    f.app = App::Dns(Box::new(DnsState {
                        pending: VecDeque::new(),
                        tcp: [Vec::new(), Vec::new()],
                    }));
                } else if p.proto == proto::UDP && (p.sport == 88 || p.dport == 88) {
                    f.app = App::Krb(Box::default());
                }
                v.insert(Slot { f, expires: ts })
            }
        };
        let Slot { f, expires } = slot;
        let dir = usize::from(
            !(p.src == f.orig.0
                && (p.sport == f.orig.1 || p.proto == proto::ICMP || p.proto == proto::ICMP6)),
        );
        let dir = if (p.proto == proto::ICMP || p.proto == proto::ICMP6) && p.src != f.orig.0 {
            1
        } else {
            dir
        };
        f.last = f.last.max(ts);
        f.first = f.first.min(ts);
        *expires = expiry(f, &self.cfg);
        let side = &mut f.s[dir];
        side.pkts += 1;
        side.ip_bytes += u64::from(p.ip_len);
        side.payload += u64::from(p.payload_len);
        let events = &mut self.out;
        let file = self.file;
        let salt = self.salt;
        if let Frag::Later { id, offset, more } = p.frag {
            // The rest of a DNS or Kerberos datagram: read it once it is whole.
            let rk = (p.src, p.dst, id);
            let Some(r) = self.reasm.get_mut(&rk) else { return };
            if p.payload.len() as u32 != p.payload_len
                || r.parts.len() >= REASM_MAX_PARTS
                || offset + p.payload_len > 65_535
            {
                // Cut by the snap length (it can never be whole), too many pieces, or
                // past the largest datagram there is.
                self.reasm.remove(&rk);
                self.counters.reassembly_dropped += 1;
                return;
            }
            r.parts.push((offset, p.payload.to_vec()));
            if !more {
                r.total = Some(offset + p.payload_len);
            }
            if let Some(payload) = r.complete() {
                let (first_ts, first_record) = (r.ts, r.record);
                self.reasm.remove(&rk);
                self.counters.reassembled += 1;
                udp_app(
                    f,
                    &payload,
                    first_ts,
                    first_record,
                    events,
                    file,
                    salt,
                    &mut self.counters,
                    &mut self.sh,
                );
            }
            return;
        }
        match p.tcp {
            Some(t) => {
                tcp(f, dir, t, p, ts, events, file, salt, &mut self.counters, &mut self.sh);
                // A FIN pair or a reset closes the flow: it goes after the linger.
                *expires = expiry(f, &self.cfg);
            }
            None if p.proto == proto::UDP => {
                if p.payload_len > 0 {
                    f.letter(dir, b'D');
                }
                if f.service.is_none()
                    && matches!(f.app, App::Unknown)
                    && !p.payload.is_empty()
                    && f.probes > 0
                {
                    f.probes -= 1;
                    f.service = vpn_protocol(p.payload, false)
                        .or_else(|| is_ntp(p.payload, f.orig.1, f.resp.1).then_some("ntp"));
                    // OpenVPN over UDP: a hard reset, and a control or ack packet — whose
                    // first byte (0x20, 0x28) no QUIC packet can have.
                    match p.payload[0] {
                        0x38 | 0x50 | 0x40 if p.payload.len() >= 14 => f.vpn_hint |= 1,
                        0x20 | 0x28 if p.payload.len() >= 14 => f.vpn_hint |= 2,
                        _ => {}
                    }
                    if f.vpn_hint == 3 {
                        f.service = Some("openvpn");
                    }
                }
                if !matches!(f.app, App::Krb(_) | App::Dns(_)) {
                    return;
                }
                if let Frag::First { id } = p.frag {
                    // The message continues in later fragments: wait for them.
                    if p.payload.len() as u32 == p.payload_len && self.reasm.len() < REASM_MAX {
                        self.reasm.insert(
                            (p.src, p.dst, id),
                            Reasm { ts, record, parts: vec![(8, p.payload.to_vec())], total: None },
                        );
                    } else {
                        self.counters.reassembly_dropped += 1;
                    }
                    return;
                }
                udp_app(
                    f,
                    p.payload,
                    ts,
                    record,
                    events,
                    file,
                    salt,
                    &mut self.counters,
                    &mut self.sh,
                );
            }
            None => {}
        }
    }

    /// Reports flows that ended or went idle.
    fn sweep(&mut self, now: Timestamp) {
        let before = self.reasm.len();
        self.reasm.retain(|_, r| now.secs_since(r.ts) < REASM_WAIT_S as f64);
        self.counters.reassembly_dropped += (before - self.reasm.len()) as u64;
        let mut done: Vec<(Timestamp, u64, Key)> = self
            .flows
            .iter()
            .filter(|(_, s)| s.expires <= now)
            .map(|(k, s)| (s.f.first, s.f.seq, *k))
            .collect();
        done.sort_unstable_by_key(|(t, s, _)| (*t, *s));
        for (_, _, k) in done {
            if let Some(s) = self.flows.remove(&k) {
                self.finish(s.f);
            }
        }
    }

    /// The capture ended: every flow is reported, oldest first.
    pub fn flush(&mut self) {
        // Out of the table (whose memory goes back), oldest last so it pops first.
        let mut all: Vec<Box<FlowState>> = self.flows.drain().map(|(_, s)| s.f).collect();
        self.flows.shrink_to_fit();
        all.sort_unstable_by_key(|f| std::cmp::Reverse((f.first, f.seq)));
        self.closing = all;
        self.frags.clear();
        self.counters.reassembly_dropped += self.reasm.len() as u64;
        self.reasm.clear();
    }

    /// After [`Meter::flush`]: reports the next remaining flow (oldest first); `false`
    /// when none is left. One at a time, so the end of a large capture does not hold
    /// every flow's records at once.
    pub fn finish_next(&mut self) -> bool {
        match self.closing.pop() {
            Some(f) => {
                self.finish(f);
                true
            }
            None => false,
        }
    }

    fn finish(&mut self, mut f: Box<FlowState>) {
        let (file, salt) = (self.file, self.salt);
        let events = &mut self.out;
        let id = f.ident(salt);
        match std::mem::replace(&mut f.app, App::Off) {
            App::Dns(mut d) => {
                for (t, rec, m) in d.pending.drain(..) {
                    events.push_back(dns_event(
                        &id,
                        t,
                        rec,
                        &m,
                        None,
                        file,
                        salt,
                        &mut self.sh.strings,
                    ));
                }
            }
            App::Tls(h) => {
                let (hs, emitted) = *h;
                if !emitted && hs.client.is_some() {
                    tls_events(&id, &hs, events, file, salt, &mut self.sh);
                }
            }
            App::Http(mut c) => {
                c.close();
                self.counters.bad_http += u64::from(c.errors);
                for tx in c.done.drain(..) {
                    http_events(&id, tx, events, file, salt);
                }
            }
            App::Smb(mut m) => {
                m.close();
                smb_events(&id, &mut m.seen, f.last, events, file, salt);
            }
            App::Krb(mut k) => {
                if let Some((t, rec, m)) = k.pending.take() {
                    events.push_back(krb_event(&id, t, rec, &m, None, file, salt));
                }
            }
            // A request the server never confirmed (or the capture ended first).
            App::Rdp(r) => events.push_back(rdp_event(&id, f.last, &r, None, file, salt)),
            App::Rpc(_) | App::Unknown | App::Off => {}
        }
        let tcp = f.proto == proto::TCP;
        let conn = Conn {
            flow: f.tuple(),
            service: f.service.map(|x| self.sh.strings.st(x)),
            duration: Some(f.last.secs_since(f.first)),
            orig_bytes: Some(f.s[0].bytes(tcp)),
            resp_bytes: Some(f.s[1].bytes(tcp)),
            conn_state: Some(self.sh.strings.st(f.conn_state())),
            local_orig: None,
            local_resp: None,
            missed_bytes: Some(f.s[0].missed + f.s[1].missed),
            // Zeek logs an empty history as unset.
            history: std::str::from_utf8(&f.history[..usize::from(f.hist_len)])
                .ok()
                .filter(|h| !h.is_empty())
                .map(|h| self.sh.strings.dy(h)),
            orig_pkts: Some(f.s[0].pkts),
            orig_ip_bytes: Some(f.s[0].ip_bytes),
            resp_pkts: Some(f.s[1].pkts),
            resp_ip_bytes: Some(f.s[1].ip_bytes),
        };
        let community = community_id(f.proto, f.orig.0, f.orig.1, f.resp.0, f.resp.1);
        events.push_back(Event {
            header: Header {
                ts: f.first,
                src: SourceRef { file, record: f.first_record },
                uid: Some(id.uid()),
                community_id: Some(community),
            },
            body: Body::Conn(Box::new(conn)),
        });
        if self.spare.len() < SPARE_MAX {
            self.spare.push(f);
        }
    }
}

/// A VPN protocol recognised from a flow's first payload: WireGuard's messages (a type
/// byte and three zero bytes: initiation 148 bytes, response 92, cookie 64, transport
/// data 32 or more in steps of 16 — a capture may start in the middle of a tunnel) and
/// OpenVPN's hard reset (opcodes 7 and 10, behind a two-byte length over TCP).
fn vpn_protocol(data: &[u8], tcp: bool) -> Option<&'static str> {
    if !tcp && data.len() >= 32 && data[1..4] == [0, 0, 0] {
        let n = data.len();
        let wg = match data[0] {
            1 => n == 148,
            2 => n == 92,
            3 => n == 64,
            4 => (n - 16).is_multiple_of(16),
            _ => false,
        };
        if wg {
            return Some("wireguard");
        }
    }
    if !tcp {
        // OpenVPN over UDP needs more than one packet: see the caller.
        return None;
    }
    let len = data.get(..2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    // Opcode in the top five bits, key id in the low three; a session id follows.
    match data.get(2) {
        Some(b)
            if len == Some(data.len().saturating_sub(2))
                && matches!(b >> 3, 7 | 10)
                && b & 7 == 0
                && data.len() >= 16 =>
        {
            Some("openvpn")
        }
        _ => None,
    }
}

/// An NTP message (RFC 5905): 48 bytes or more (extension fields, a MAC), version 3
/// or 4, mode 1 to 5, between ports 123 — the port and the shape together, as a random
/// 48-byte datagram on port 123 could be anything.
fn is_ntp(data: &[u8], sport: u16, dport: u16) -> bool {
    let Some(&b) = data.first() else { return false };
    let (version, mode) = ((b >> 3) & 7, b & 7);
    data.len() >= 48
        && (sport == 123 || dport == 123)
        && matches!(version, 3 | 4)
        && (1..=5).contains(&mode)
}

fn is_dns_port(p: u16) -> bool {
    matches!(p, 53 | 5353 | 5355)
}

fn header(id: &Ident, ts: Timestamp, record: u64, file: FileId, salt: u64) -> Header {
    let _ = salt;
    Header { ts, src: SourceRef { file, record }, uid: Some(id.uid()), community_id: None }
}

/// Reads one whole UDP payload of a DNS or Kerberos flow.
#[allow(clippy::too_many_arguments)]
fn udp_app(
    f: &mut FlowState,
    payload: &[u8],
    ts: Timestamp,
    record: u64,
    events: &mut VecDeque<Event>,
    file: FileId,
    salt: u64,
    counters: &mut Counters,
    sh: &mut Shared,
) {
    let id = f.ident(salt);
    if let App::Krb(k) = &mut f.app {
        match krb::parse(payload) {
            Some(m) => {
                f.service = Some("krb");
                krb_message(k, &id, m, ts, record, events, file, salt);
            }
            None => counters.bad_krb += 1,
        }
    }
    if let App::Dns(d) = &mut f.app {
        match dns::parse(payload) {
            Some(m) => {
                f.service = Some("dns");
                dns_message(d, &id, m, ts, record, events, file, salt, &mut sh.strings);
            }
            None => counters.bad_dns += 1,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn tcp(
    f: &mut FlowState,
    dir: usize,
    t: super::packet::Tcp,
    p: &Ip<'_>,
    ts: Timestamp,
    events: &mut VecDeque<Event>,
    file: FileId,
    salt: u64,
    counters: &mut Counters,
    sh: &mut Shared,
) {
    let fl = t.flags;
    if fl & flags::SYN != 0 {
        let side = &mut f.s[dir];
        side.base = Some(t.seq);
        side.last_off = 0;
        side.data_start = 1;
        if fl & flags::ACK != 0 {
            if dir == 1 {
                f.synack = true;
            }
            f.letter(dir, b'H');
        } else {
            f.s[dir].syn = true;
            f.letter(dir, b'S');
        }
    }
    if fl & flags::FIN != 0 {
        f.s[dir].fin = true;
        f.letter(dir, b'F');
    }
    if fl & flags::RST != 0 {
        f.s[dir].rst = true;
        f.letter(dir, b'R');
        f.closed.get_or_insert(ts);
    }
    if f.s[0].fin && f.s[1].fin {
        f.closed.get_or_insert(ts);
    }
    let len = u64::from(p.payload_len);
    if len == 0 {
        if fl & (flags::SYN | flags::FIN | flags::RST) == 0 && fl & flags::ACK != 0 {
            f.letter(dir, b'A');
        }
        return;
    }
    f.letter(dir, b'D');
    let side = &mut f.s[dir];
    let mut off = side.offset(t.seq);
    if fl & flags::SYN != 0 {
        off += 1;
    }
    if side.base.is_some() && side.next == NONE && side.data_start == 0 {
        side.data_start = off;
    }
    let end = off + len;
    if side.next == NONE {
        side.next = off.max(side.data_start);
    }
    let next = side.next;
    side.max_end = side.max_end.max(end);
    if end <= next {
        f.letter(dir, b'T');
        return;
    }
    let mut data = p.payload;
    let mut gap = 0;
    if off > next {
        gap = off - next;
        f.s[dir].missed += gap;
    } else if off < next {
        let skip = (next - off) as usize;
        data = data.get(skip..).unwrap_or(&[]);
    }
    f.s[dir].next = end;
    // The capture may hold fewer bytes than the segment carried (snap length).
    let short = (end - off.max(next)).saturating_sub(data.len() as u64);
    if gap > 0 {
        f.letter(dir, b'G');
    }
    app_tcp(f, dir, data, gap, short, ts, events, file, salt, counters, sh);
}

#[allow(clippy::too_many_arguments)]
fn app_tcp(
    f: &mut FlowState,
    dir: usize,
    data: &[u8],
    gap: u64,
    short: u64,
    ts: Timestamp,
    events: &mut VecDeque<Event>,
    file: FileId,
    salt: u64,
    counters: &mut Counters,
    sh: &mut Shared,
) {
    if let App::Unknown = f.app {
        f.app = if gap > 0 {
            App::Off
        } else if tls::looks_like_tls(data) {
            App::Tls(Box::default())
        } else if dir == 0 && http::looks_like_request(data) {
            App::Http(Box::default())
        } else if is_dns_port(f.resp.1) {
            App::Dns(Box::new(DnsState { pending: VecDeque::new(), tcp: [Vec::new(), Vec::new()] }))
        } else if (f.resp.1 == 88 || f.orig.1 == 88) && krb::looks_like_tcp(data) {
            f.service = Some("krb_tcp");
            App::Krb(Box::default())
        } else if let Some(vpn) = vpn_protocol(data, true).filter(|_| dir == 0) {
            f.service = Some(vpn);
            App::Off
        } else if smb::looks_like_smb(data) {
            f.service = Some("smb");
            App::Smb(Box::default())
        } else if dir == 0 && smb::looks_like_dcerpc(data) {
            f.service = Some("dce_rpc");
            App::Rpc(Box::default())
        } else if let Some(r) = rdp::request(data).filter(|_| dir == 0) {
            // RDP on any port: the client's X.224 Connection Request.
            f.service = Some("rdp");
            App::Rdp(Box::new(r))
        } else if dir == 0 && (data.starts_with(b"EHLO ") || data.starts_with(b"HELO ")) {
            // The client's greeting, after the server's 220 banner (a probe earlier).
            f.service = Some("smtp");
            App::Off
        } else if data.starts_with(b"SSH-") {
            // Banners name the protocol; nothing more is parsed.
            f.service = Some("ssh");
            App::Off
        } else if dir == 1 && data.starts_with(b"RFB 0") {
            f.service = Some("rfb");
            App::Off
        } else if f.probes > 1 {
            // Perhaps a preamble (SOCKS, a banner): look again at the next segment.
            f.probes -= 1;
            return;
        } else {
            App::Off
        };
    }
    // An HTTP proxy tunnel: after `CONNECT` was accepted, TLS follows.
    if let App::Http(c) = &f.app {
        if c.tunnel && tls::looks_like_tls(data) {
            let id = f.ident(salt);
            let mut c = match std::mem::replace(&mut f.app, App::Tls(Box::default())) {
                App::Http(c) => c,
                _ => return,
            };
            c.close();
            for tx in c.done.drain(..) {
                http_events(&id, tx, events, file, salt);
            }
        }
    }
    if matches!(f.app, App::Unknown | App::Off) {
        return;
    }
    let id = f.ident(salt);
    let mut tls_done = false;
    let mut rdp_confirmed = false;
    match &mut f.app {
        App::Rdp(r) => {
            if dir == 1 && gap == 0 {
                if let Some(c) = rdp::confirm(data) {
                    events.push_back(rdp_event(&id, ts, r, Some(c), file, salt));
                    rdp_confirmed = true;
                }
            }
        }
        App::Tls(h) => {
            let (hs, emitted) = &mut **h;
            if gap > 0 {
                // A hole in the handshake: nothing after it can be trusted.
                hs.stop(dir);
                return;
            }
            hs.feed(dir, data);
            // RDP secured with TLS keeps its name (the TLS records still come).
            if hs.server.is_some() && f.service != Some("rdp") {
                f.service = Some("ssl");
            }
            if !*emitted && hs.client.is_some() && (hs.established() || hs.finished()) {
                *emitted = true;
                tls_events(&id, hs, events, file, salt, sh);
                // Nothing more is read from this connection: free the handshake.
                tls_done = true;
            }
        }
        App::Http(c) => {
            if gap > 0 {
                c.gap(dir, gap);
            }
            c.feed(dir, data, ts);
            if short > 0 {
                c.gap(dir, short);
            }
            if !c.done.is_empty() {
                f.service = Some("http");
            }
            counters.bad_http += u64::from(std::mem::take(&mut c.errors));
            for tx in c.done.drain(..) {
                http_events(&id, tx, events, file, salt);
            }
        }
        App::Dns(d) => {
            if gap > 0 || d.tcp[dir].len() + data.len() > 70_000 {
                f.app = App::Off;
                return;
            }
            // DNS over TCP: a two-byte length before each message.
            d.tcp[dir].extend_from_slice(data);
            loop {
                let buf = &d.tcp[dir];
                let Some(l) = buf.get(..2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                else {
                    break;
                };
                if buf.len() < 2 + l {
                    break;
                }
                let parsed = dns::parse(&buf[2..2 + l]);
                d.tcp[dir].drain(..2 + l);
                match parsed {
                    Some(m) => {
                        f.service = Some("dns");
                        dns_message(
                            d,
                            &id,
                            m,
                            ts,
                            id.first_record,
                            events,
                            file,
                            salt,
                            &mut sh.strings,
                        );
                    }
                    None => counters.bad_dns += 1,
                }
            }
        }
        App::Smb(m) => {
            if gap > 0 {
                m.feed(dir, &[]);
                return;
            }
            m.feed_cut(dir, data, short);
            smb_events(&id, &mut m.seen, ts, events, file, salt);
        }
        App::Rpc(r) => {
            if dir == 0 && gap == 0 {
                r.feed_cut(data, short);
                smb_events(&id, &mut r.seen, ts, events, file, salt);
            }
        }
        App::Krb(k) => {
            if gap > 0 {
                // A hole: the record boundaries are lost for this direction.
                k.tcp[dir].clear();
                return;
            }
            let mut buf = std::mem::take(&mut k.tcp[dir]);
            buf.extend_from_slice(data);
            let mut at = 0;
            while let Some(mark) = buf.get(at..at + 4) {
                let len = u32::from_be_bytes([mark[0], mark[1], mark[2], mark[3]]) as usize;
                if len > KRB_MAX_RECORD {
                    counters.bad_krb += 1;
                    at = buf.len();
                    break;
                }
                let Some(msg) = buf.get(at + 4..at + 4 + len) else { break };
                match krb::parse(msg) {
                    Some(m) => krb_message(k, &id, m, ts, f.first_record, events, file, salt),
                    None => counters.bad_krb += 1,
                }
                at += 4 + len;
            }
            buf.drain(..at.min(buf.len()));
            k.tcp[dir] = buf;
        }
        App::Unknown | App::Off => {}
    }
    if tls_done {
        f.app = App::Off;
    }
    if rdp_confirmed {
        // What follows is TLS or CredSSP (or RDP's own encryption): look again.
        f.app = App::Unknown;
        f.probes = PROBES;
    }
}

/// An RDP negotiation as Zeek's `rdp.log` records a session whose rest is encrypted.
fn rdp_event(
    id: &Ident,
    ts: Timestamp,
    r: &rdp::Request,
    c: Option<rdp::Confirm>,
    file: FileId,
    salt: u64,
) -> Event {
    let (result, security) = match c {
        Some(rdp::Confirm::Selected(0)) => (None, Some("RDP")),
        Some(rdp::Confirm::Selected(p)) => (Some("encrypted"), Some(rdp::protocol_name(p))),
        Some(rdp::Confirm::Legacy) => (None, Some("RDP")),
        Some(rdp::Confirm::Failure(code)) => (
            Some(match code {
                1 => "SSL_REQUIRED_BY_SERVER",
                2 => "SSL_NOT_ALLOWED_BY_SERVER",
                3 => "SSL_CERT_NOT_ON_SERVER",
                4 => "INCONSISTENT_FLAGS",
                5 => "HYBRID_REQUIRED_BY_SERVER",
                6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
                _ => "failure",
            }),
            None,
        ),
        None => (None, None),
    };
    let body = Rdp {
        flow: id.tuple,
        cookie: r.cookie.as_deref().map(Text::from),
        result: result.map(Text::from),
        security_protocol: security.map(Text::from),
        client_name: None,
        client_build: None,
        cert_type: None,
        encryption_level: None,
        encryption_method: None,
    };
    Event { header: header(id, ts, id.first_record, file, salt), body: Body::Rdp(Box::new(body)) }
}

/// SMB mappings, files, DCE/RPC requests and NTLM logons (from SMB, or from HTTP
/// `Authorization` headers) as Zeek's `smb_mapping`, `smb_files`, `dce_rpc` and `ntlm`
/// records.
fn smb_events(
    id: &Ident,
    seen: &mut Vec<smb::Seen>,
    ts: Timestamp,
    events: &mut VecDeque<Event>,
    file: FileId,
    salt: u64,
) {
    for s in seen.drain(..) {
        let body = match s {
            smb::Seen::Mapping { path } => Body::Smb(Box::new(Smb {
                flow: id.tuple,
                record: SmbKind::Mapping,
                action: None,
                path: Some(Text::from(path)),
                name: None,
                size: None,
                share_type: None,
                service: None,
                status: None,
            })),
            smb::Seen::File { path, name, size, action } => Body::Smb(Box::new(Smb {
                flow: id.tuple,
                record: SmbKind::File,
                action: Some(Text::from(action)),
                path: Some(Text::from(path)),
                name: Some(Text::from(name)),
                size: Some(size),
                share_type: None,
                service: None,
                status: None,
            })),
            smb::Seen::Ntlm {
                username,
                domain,
                hostname,
                server_nb,
                server_dns,
                server_tree,
                success,
            } => Body::Ntlm(Box::new(dwell_model::Ntlm {
                flow: id.tuple,
                username: username.map(Text::from),
                hostname: hostname.map(Text::from),
                domainname: domain.map(Text::from),
                server_nb_computer_name: server_nb.map(Text::from),
                server_dns_computer_name: server_dns.map(Text::from),
                server_tree_name: server_tree.map(Text::from),
                success,
            })),
            smb::Seen::Rpc { pipe, endpoint, operation } => Body::DceRpc(Box::new(DceRpc {
                flow: id.tuple,
                rtt: None,
                named_pipe: pipe.map(Text::from),
                endpoint: Some(Text::from(endpoint)),
                operation: Some(Text::from(operation)),
            })),
        };
        events.push_back(Event { header: header(id, ts, id.first_record, file, salt), body });
    }
}

/// A Kerberos message of a flow: a request waits for its answer (a second request
/// first logs the unanswered one); an answer completes the waiting request.
#[allow(clippy::too_many_arguments)]
fn krb_message(
    k: &mut KrbState,
    id: &Ident,
    m: krb::Msg,
    ts: Timestamp,
    record: u64,
    events: &mut VecDeque<Event>,
    file: FileId,
    salt: u64,
) {
    if m.kind.is_request() {
        if let Some((t, r, q)) = k.pending.replace((ts, record, m)) {
            events.push_back(krb_event(id, t, r, &q, None, file, salt));
        }
        return;
    }
    match k.pending.take() {
        Some((t, r, q)) => events.push_back(krb_event(id, t, r, &q, Some(&m), file, salt)),
        // An answer whose request was not seen: logged on its own.
        None => {
            let req = krb::Msg {
                kind: if m.kind == krb::Kind::TgsRep {
                    krb::Kind::TgsReq
                } else {
                    krb::Kind::AsReq
                },
                ..krb::Msg::default()
            };
            events.push_back(krb_event(id, ts, record, &req, Some(&m), file, salt));
        }
    }
}

/// One `kerberos` record, as Zeek writes it: `client` is `name/REALM` (from the
/// request, else the answer), `service` the service principal, `success` and
/// `error_msg` from the answer, `cipher` the ticket's encryption type.
fn krb_event(
    id: &Ident,
    ts: Timestamp,
    record: u64,
    q: &krb::Msg,
    a: Option<&krb::Msg>,
    file: FileId,
    salt: u64,
) -> Event {
    let principal = |m: &krb::Msg| match (&m.cname, &m.realm) {
        (Some(c), Some(r)) => Some(format!("{c}/{r}")),
        (Some(c), None) => Some(c.clone()),
        _ => None,
    };
    let client = principal(q).or_else(|| a.and_then(principal));
    let service = q.sname.clone().or_else(|| a.and_then(|a| a.sname.clone()));
    let k = dwell_model::Kerberos {
        flow: id.tuple,
        request_type: Some(Text::from(if q.kind == krb::Kind::TgsReq { "TGS" } else { "AS" })),
        client: client.map(Text::from),
        service: service.map(Text::from),
        success: a.map(|a| a.kind != krb::Kind::Error),
        error_msg: a.and_then(|a| a.error).map(|e| {
            Text::from(krb::error_name(e).map_or_else(|| format!("error {e}"), str::to_string))
        }),
        cipher: a.and_then(|a| a.etype).and_then(krb::etype_name).map(Text::from),
        forwardable: q.forwardable,
        renewable: q.renewable,
    };
    Event { header: header(id, ts, record, file, salt), body: Body::Kerberos(Box::new(k)) }
}

#[allow(clippy::too_many_arguments)]
fn dns_message(
    d: &mut DnsState,
    id: &Ident,
    m: dns::Message,
    ts: Timestamp,
    record: u64,
    events: &mut VecDeque<Event>,
    file: FileId,
    salt: u64,
    strings: &mut Strings,
) {
    if !m.response {
        if d.pending.len() >= 32 {
            if let Some((t, r, q)) = d.pending.pop_front() {
                events.push_back(dns_event(id, t, r, &q, None, file, salt, strings));
            }
        }
        d.pending.push_back((ts, record, m));
        return;
    }
    match d.pending.iter().position(|(_, _, q)| q.id == m.id) {
        Some(i) => {
            if let Some((t, r, q)) = d.pending.remove(i) {
                events.push_back(dns_event(id, t, r, &q, Some((&m, ts)), file, salt, strings));
            }
        }
        // A response whose query was not seen: logged on its own, without a round trip.
        None => {
            events.push_back(dns_event(id, ts, record, &m, Some((&m, ts)), file, salt, strings))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn dns_event(
    id: &Ident,
    ts: Timestamp,
    record: u64,
    q: &dns::Message,
    answer: Option<(&dns::Message, Timestamp)>,
    file: FileId,
    salt: u64,
    strings: &mut Strings,
) -> Event {
    let r = answer.map(|a| a.0);
    let d = Dns {
        flow: id.tuple,
        msg: DnsMsg::Transaction,
        trans_id: Some(q.id),
        rtt: answer.filter(|(m, _)| !std::ptr::eq(*m, q)).map(|(_, t)| t.secs_since(ts)),
        query: q.qname.as_deref().map(Text::from),
        qclass: q.qclass,
        qtype: q.qtype,
        qtype_name: q.qtype.and_then(dwell_model::dns::qtype_name).map(|n| strings.st(n)),
        rcode: r.map(|m| m.rcode),
        rcode_name: r.and_then(|m| dwell_model::dns::rcode_name(m.rcode)).map(|n| strings.st(n)),
        aa: r.map(|m| m.aa),
        tc: r.map(|m| m.tc),
        rd: Some(q.rd),
        ra: r.map(|m| m.ra),
        answers: r
            .map(|m| m.answers.iter().map(|a| Text::from(a.as_str())).collect())
            .unwrap_or_default(),
        ttls: r.map(|m| m.ttls.iter().map(|t| f64::from(*t)).collect()).unwrap_or_default(),
        rejected: r.map(|m| m.rcode == 5),
    };
    Event { header: header(id, ts, record, file, salt), body: Body::Dns(Box::new(d)) }
}

fn tls_events(
    id: &Ident,
    hs: &tls::Handshake,
    events: &mut VecDeque<Event>,
    file: FileId,
    salt: u64,
    sh: &mut Shared,
) {
    let chain = tls::chain(hs, &mut sh.certs);
    for c in &chain {
        events.push_back(Event {
            header: header(id, id.first, id.first_record, file, salt),
            body: Body::X509(c.clone()),
        });
    }
    let client = hs.client.as_ref();
    let server = hs.server.as_ref();
    let cfp = client.map(|c| sh.strings.client(c));
    let sfp = server.map(|s| sh.strings.server(s));
    let leaf = chain.first().cloned();
    let t = Tls {
        flow: id.tuple,
        version: hs.version().map(|v| sh.strings.st(v)),
        cipher: hs.cipher().map(|c| sh.strings.dy(&c)),
        curve: hs.curve().map(|c| sh.strings.st(c)),
        server_name: client.and_then(|c| c.sni.as_deref()).map(Text::from),
        resumed: Some(hs.resumed()),
        established: Some(hs.established()),
        next_protocol: server.and_then(|s| s.alpn.as_deref()).map(Text::from),
        ssl_history: Some(sh.strings.dy(&hs.history)),
        ja3: cfp.as_ref().map(|f| f.0.clone()),
        ja3s: sfp.as_ref().map(|f| f.0.clone()),
        ja4: cfp.map(|f| f.1),
        ja4s: sfp.map(|f| f.1),
        validation_status: None,
        subject: leaf.as_ref().and_then(|c| c.subject.clone()),
        issuer: leaf.as_ref().and_then(|c| c.issuer.clone()),
        cert_chain_fps: chain.iter().filter_map(|c| c.fingerprint_sha256.clone()).collect(),
        cert_chain_fuids: chain.iter().filter_map(|c| c.id.clone()).collect(),
        cert: leaf.map(|c: Arc<dwell_model::Certificate>| c),
    };
    events.push_back(Event {
        header: header(id, id.first, id.first_record, file, salt),
        body: Body::Tls(Box::new(t)),
    });
}

/// The `http` record of a transaction, and an `ntlm` record when its request
/// authenticated with NTLM (success unless the server answered 401; unknown without an
/// answer).
fn http_events(
    id: &Ident,
    mut tx: http::Tx,
    events: &mut VecDeque<Event>,
    file: FileId,
    salt: u64,
) {
    let mut ntlm: Vec<smb::Seen> = tx
        .ntlm
        .take()
        .map(|(username, domain, hostname)| smb::Seen::Ntlm {
            username,
            domain,
            hostname,
            server_nb: None,
            server_dns: None,
            server_tree: None,
            success: tx.status_code.map(|c| c != 401),
        })
        .into_iter()
        .collect();
    let ts = tx.ts;
    events.push_back(http_event(id, tx, file, salt));
    smb_events(id, &mut ntlm, ts, events, file, salt);
}

fn http_event(id: &Ident, tx: http::Tx, file: FileId, salt: u64) -> Event {
    let h = Http {
        flow: id.tuple,
        trans_depth: Some(tx.depth),
        method: tx.method.map(Text::from),
        host: tx.host.map(Text::from),
        uri: tx.uri.map(Text::from),
        referrer: tx.referrer.map(Text::from),
        version: tx.version.map(Text::from),
        user_agent: tx.user_agent.map(Text::from),
        origin: tx.origin.map(Text::from),
        request_body_len: Some(tx.request_body_len),
        response_body_len: Some(tx.response_body_len),
        status_code: tx.status_code,
        status_msg: tx.status_msg.map(Text::from),
        username: None,
        orig_mime_types: tx
            .orig_mime
            .filter(|_| tx.request_body_len > 0)
            .map(Text::from)
            .into_iter()
            .collect(),
        resp_mime_types: tx
            .resp_mime
            .filter(|_| tx.response_body_len > 0)
            .map(Text::from)
            .into_iter()
            .collect(),
    };
    Event { header: header(id, tx.ts, id.first_record, file, salt), body: Body::Http(Box::new(h)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn community_id_matches_the_spec_examples() {
        // From the Community ID spec's baseline (seed 0).
        let a: IpAddr = "128.232.110.120".parse().unwrap();
        let b: IpAddr = "66.35.250.204".parse().unwrap();
        assert_eq!(&*community_id(6, a, 34855, b, 80), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
        assert_eq!(&*community_id(6, b, 80, a, 34855), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
        let c: IpAddr = "192.168.0.89".parse().unwrap();
        let d: IpAddr = "192.168.0.1".parse().unwrap();
        assert_eq!(&*community_id(1, c, 8, d, 0), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
    }

    #[test]
    fn uids_look_like_zeek_and_differ() {
        let (a, b) = (uid(1, 1), uid(1, 2));
        assert_eq!(a.len(), 18);
        assert!(a.starts_with('C'));
        assert_ne!(a, b);
        assert_eq!(a, uid(1, 1));
    }

    /// A classic pcap (Ethernet) of the frames, one per millisecond.
    fn capture(frames: &[Vec<u8>]) -> Vec<u8> {
        let packets: Vec<(u32, u32, &[u8])> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| (1_588_316_991, i as u32 * 1000, f.as_slice()))
            .collect();
        crate::pcap::reader::tests::pcap(crate::pcap::reader::link::ETHERNET, &packets)
    }

    /// tshark's field lines for a capture held in memory (`None`: tshark is missing and
    /// the caller skips that part).
    fn tshark_on(bytes: &[u8], args: &[&str], fields: &[&str]) -> Option<Vec<String>> {
        let tshark = dwell_testkit::tshark()?;
        let path = std::env::temp_dir().join(format!(
            "dwell-flow-{}-{}.pcap",
            std::process::id(),
            fields.join("-")
        ));
        std::fs::write(&path, bytes).unwrap();
        let lines = dwell_testkit::tshark_lines(&tshark, &path, args, fields);
        let _ = std::fs::remove_file(&path);
        Some(lines)
    }

    /// A tracked flow within its memory budget (≤ 512 bytes per active flow): its boxed
    /// state (allocator header and rounding included) plus its table entry (key, slot,
    /// control byte) at the table's emptiest, just after it doubled (7/16 full). Measured:
    /// 500 k SYNs from random sources peak at 237 MB RSS against 6 MB for an empty
    /// capture, 462 bytes a flow. Application state (DNS queue, TLS handshake) comes on
    /// top while a flow has it.
    #[test]
    fn a_tracked_flow_fits_its_memory_budget() {
        use std::mem::size_of;
        let state = size_of::<FlowState>().next_multiple_of(16) + 16;
        let entry = (size_of::<Key>() + size_of::<Slot>() + 1) * 16 / 7;
        assert!(state + entry <= 512, "state {state} + table entry {entry} bytes");
    }

    /// IPv4 fragments of one UDP datagram (`udp` = UDP header + payload), `size` bytes
    /// of it per fragment, in the order given by `order`.
    fn fragments(
        src: [u8; 4],
        dst: [u8; 4],
        id: u16,
        udp: &[u8],
        size: usize,
        order: &[usize],
    ) -> Vec<Vec<u8>> {
        let pieces: Vec<&[u8]> = udp.chunks(size).collect();
        order
            .iter()
            .map(|&i| {
                let body = pieces[i];
                let total = 20 + body.len();
                let more = if i + 1 < pieces.len() { 0x2000u16 } else { 0 };
                let ff = more | (i * size / 8) as u16;
                let mut v = vec![0x45, 0, (total >> 8) as u8, total as u8];
                v.extend(id.to_be_bytes());
                v.extend(ff.to_be_bytes());
                v.extend([64, 17, 0, 0]);
                v.extend(src);
                v.extend(dst);
                v.extend(body);
                crate::pcap::packet::tests::eth(&v, 0)
            })
            .collect()
    }

    /// A DNS answer too large for one packet (ten 255-byte TXT strings) arrives in three
    /// IP fragments (the last two swapped): the flow meter puts the datagram back
    /// together and reads every answer, the last ones from the last fragment; a
    /// datagram whose middle piece never comes is counted, not read (nor misread).
    #[test]
    fn fragmented_dns_answers_are_reassembled() {
        use crate::pcap::dns::tests::query;
        use crate::pcap::packet::tests::{eth, ipv4_udp};
        let (ws, dns) = ([10, 0, 0, 21], [10, 0, 0, 53]);
        let txt_answer = |id: u16, name: &str| {
            let mut m = query(id, name, 16);
            m[2] = 0x81;
            m[3] = 0x80;
            m[7] = 10;
            for i in 0..10u8 {
                m.extend([0xc0, 12, 0, 16, 0, 1, 0, 0, 0x0e, 0x10, 1, 0, 255]);
                m.extend(vec![b'a' + i; 255]);
            }
            m
        };
        let datagram = |sport: u16, dport: u16, msg: &[u8]| {
            let mut u = sport.to_be_bytes().to_vec();
            u.extend(dport.to_be_bytes());
            u.extend(((8 + msg.len()) as u16).to_be_bytes());
            u.extend([0, 0]);
            u.extend(msg);
            u
        };
        let udp = datagram(53, 40_000, &txt_answer(0x4242, "big.example.com"));
        assert!(udp.len() > 2 * 1000);
        let mut frames =
            vec![eth(&ipv4_udp(ws, dns, 40_000, 53, &query(0x4242, "big.example.com", 16)), 0)];
        frames.extend(fragments(dns, ws, 77, &udp, 1000, &[0, 2, 1]));
        // A second answer loses its middle fragment.
        frames.push(eth(&ipv4_udp(ws, dns, 40_001, 53, &query(0x4343, "lost.example.com", 16)), 0));
        let udp2 = datagram(53, 40_001, &txt_answer(0x4343, "lost.example.com"));
        frames.extend(fragments(dns, ws, 78, &udp2, 1000, &[0, 2]));
        let bytes = capture(&frames);
        let mut d = crate::FileDecoder::from_bytes(
            "frag.pcap",
            bytes.clone(),
            None,
            &crate::DecodeOptions::default(),
        )
        .unwrap();
        let evs: Vec<Event> = d.by_ref().collect();
        let dns_recs: Vec<&Dns> = evs
            .iter()
            .filter_map(|e| match &e.body {
                Body::Dns(x) => Some(&**x),
                _ => None,
            })
            .collect();
        let whole =
            dns_recs.iter().find(|x| x.query.as_deref() == Some("big.example.com")).unwrap();
        assert_eq!(whole.answers.len(), 10);
        assert_eq!(&*whole.answers[9], format!("TXT 255 {}", "j".repeat(255)));
        // Counted once, as Zeek counts the reassembled datagram.
        let conn = evs
            .iter()
            .find_map(|e| match &e.body {
                Body::Conn(c) if c.flow.orig_p == 40_000 => Some(c),
                _ => None,
            })
            .unwrap();
        assert_eq!(conn.resp_bytes, Some(udp.len() as u64 - 8));
        let cut = dns_recs.iter().find(|x| x.query.as_deref() == Some("lost.example.com")).unwrap();
        assert!(cut.answers.is_empty(), "the cut answer was not read");
        let st = d.stats();
        assert!(
            st.samples.iter().any(|a| a.detail.contains("1 fragmented DNS/Kerberos datagrams")),
            "{:?}",
            st.samples
        );
        assert!(!st.samples.iter().any(|a| a.detail.contains("DNS messages that do not parse")));
        // tshark, reassembling the same bytes, reads the same 150 answers.
        if let Some(lines) =
            tshark_on(&bytes, &["-Y", "dns.flags.response == 1"], &["dns.count.answers"])
        {
            assert!(lines.iter().any(|l| l == "10"), "{lines:?}");
        }
    }

    /// Kerberos over UDP and TCP (a record split across two segments): each request
    /// and its answer make one `kerberos` record as Zeek writes it, and tshark
    /// dissects the same messages from the same bytes without a malformed packet.
    #[test]
    fn kerberos_exchanges_as_zeek_logs_them() {
        use crate::pcap::krb::build;
        use crate::pcap::packet::tests::{eth, ipv4_tcp, ipv4_udp};
        let (ws, dc) = ([10, 0, 0, 21], [10, 0, 0, 10]);
        let krbtgt = ["krbtgt", "CORP.LOCAL"];
        let udp = |src, dst, sp, dp, m: &[u8]| eth(&ipv4_udp(src, dst, sp, dp, m), 0);
        let mut frames = vec![
            udp(ws, dc, 50_000, 88, &build::req(false, Some(&["WS01$"]), "CORP.LOCAL", &krbtgt)),
            udp(dc, ws, 88, 50_000, &build::error(25, "CORP.LOCAL", &krbtgt)),
            udp(ws, dc, 50_001, 88, &build::req(false, Some(&["WS01$"]), "CORP.LOCAL", &krbtgt)),
            udp(dc, ws, 88, 50_001, &build::rep(false, "CORP.LOCAL", &["WS01$"], &krbtgt, 18)),
        ];
        // TGS over TCP: the request's record split in two segments; RC4 ticket.
        let req = build::req(true, None, "CORP.LOCAL", &["MSSQLSvc", "db01.corp.local"]);
        let mut rec = (req.len() as u32).to_be_bytes().to_vec();
        rec.extend(&req);
        let rep = build::rep(true, "CORP.LOCAL", &["alice"], &["MSSQLSvc", "db01.corp.local"], 23);
        let mut answer = (rep.len() as u32).to_be_bytes().to_vec();
        answer.extend(&rep);
        let (c, s) = (1000u32, 5000u32);
        let cut = 10;
        let n = rec.len() as u32;
        let a = answer.len() as u32;
        for ip in [
            ipv4_tcp(ws, dc, 50_002, 88, flags::SYN, c, 0, b""),
            ipv4_tcp(dc, ws, 88, 50_002, flags::SYN | flags::ACK, s, c + 1, b""),
            ipv4_tcp(ws, dc, 50_002, 88, flags::ACK, c + 1, s + 1, b""),
            ipv4_tcp(ws, dc, 50_002, 88, flags::ACK | flags::PSH, c + 1, s + 1, &rec[..cut]),
            ipv4_tcp(
                ws,
                dc,
                50_002,
                88,
                flags::ACK | flags::PSH,
                c + 1 + cut as u32,
                s + 1,
                &rec[cut..],
            ),
            ipv4_tcp(dc, ws, 88, 50_002, flags::ACK | flags::PSH, s + 1, c + 1 + n, &answer),
            ipv4_tcp(ws, dc, 50_002, 88, flags::ACK | flags::FIN, c + 1 + n, s + 1 + a, b""),
            ipv4_tcp(dc, ws, 88, 50_002, flags::ACK | flags::FIN, s + 1 + a, c + 2 + n, b""),
            ipv4_tcp(ws, dc, 50_002, 88, flags::ACK, c + 2 + n, s + 2 + a, b""),
        ] {
            frames.push(eth(&ip, 0));
        }
        let bytes = capture(&frames);
        let d = crate::FileDecoder::from_bytes(
            "krb.pcap",
            bytes.clone(),
            None,
            &crate::DecodeOptions::default(),
        )
        .unwrap();
        let mut got: Vec<dwell_model::Kerberos> = d
            .filter_map(|e| match e.body {
                Body::Kerberos(k) => Some(*k),
                _ => None,
            })
            .collect();
        got.sort_by_key(|k| k.flow.orig_p);
        let row = |k: &dwell_model::Kerberos| {
            (
                k.request_type.as_deref().map(str::to_string),
                k.client.as_deref().map(str::to_string),
                k.service.as_deref().map(str::to_string),
                k.success,
                k.error_msg.as_deref().map(str::to_string),
                k.cipher.as_deref().map(str::to_string),
            )
        };
        let s = |x: &str| Some(x.to_string());
        let rows: Vec<_> = got.iter().map(row).collect();
        assert_eq!(
            rows,
            [
                (
                    s("AS"),
                    s("WS01$/CORP.LOCAL"),
                    s("krbtgt/CORP.LOCAL"),
                    Some(false),
                    s("KDC_ERR_PREAUTH_REQUIRED"),
                    None
                ),
                (
                    s("AS"),
                    s("WS01$/CORP.LOCAL"),
                    s("krbtgt/CORP.LOCAL"),
                    Some(true),
                    None,
                    s("aes256-cts-hmac-sha1-96")
                ),
                // The TGS request names no client; the answer does (as in Zeek's log).
                (
                    s("TGS"),
                    s("alice/CORP.LOCAL"),
                    s("MSSQLSvc/db01.corp.local"),
                    Some(true),
                    None,
                    s("rc4-hmac")
                ),
            ]
        );
        assert_eq!(got[0].forwardable, Some(true));
        assert_eq!(got[0].renewable, Some(true));
        // tshark reads the same messages from the same bytes.
        let fields = ["kerberos.msg_type", "kerberos.CNameString", "kerberos.error_code"];
        let Some(lines) = tshark_on(
            &bytes,
            &["-Y", "kerberos || _ws.malformed"],
            &[&fields[..], &["_ws.malformed"]].concat(),
        ) else {
            return;
        };
        let text = lines.join("\n");
        assert_eq!(
            lines,
            [
                "10\tWS01$\t\t",
                "30\t\t25\t",
                "10\tWS01$\t\t",
                "11\tWS01$\t\t",
                "12\t\t\t",
                "13\talice\t\t"
            ],
            "{text}"
        );
    }

    /// NTLM over HTTP (an IIS or Exchange front end): the AUTHENTICATE message in the
    /// second request's `Authorization: NTLM` header is an `ntlm` record, refused when
    /// the server answers 401 and accepted otherwise; tshark reads the same names.
    #[test]
    fn ntlm_over_http() {
        use crate::pcap::packet::tests::{eth, ipv4_tcp};
        let (cl, srv) = ([10, 0, 0, 21], [10, 100, 0, 20]);
        // An AUTHENTICATE message with OEM (8-bit) names: with no CHALLENGE in the
        // capture, tshark takes the character set from the message's own flags only
        // when they say OEM.
        let auth = |user: &str| {
            let mut m = b"NTLMSSP\0".to_vec();
            m.extend(3u32.to_le_bytes());
            m.resize(64, 0);
            m[60..64].copy_from_slice(&2u32.to_le_bytes()); // NEGOTIATE_OEM
            for (text, at) in [("CORP", 28usize), (user, 36), ("WS01", 44)] {
                let off = m.len() as u32;
                m[at..at + 2].copy_from_slice(&(text.len() as u16).to_le_bytes());
                m[at + 2..at + 4].copy_from_slice(&(text.len() as u16).to_le_bytes());
                m[at + 4..at + 8].copy_from_slice(&off.to_le_bytes());
                m.extend(text.as_bytes());
            }
            base64(&m)
        };
        let req = |user: &str| {
            format!(
                "GET /owa/ HTTP/1.1\r\nHost: mail.corp.example\r\nAuthorization: NTLM {}\r\n\r\n",
                auth(user)
            )
        };
        let conv = [
            (0, req("mallory")),
            (1, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".to_string()),
            (0, req("alice")),
            (1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_string()),
        ];
        let (mut c, mut s) = (1000u32, 5000u32);
        let mut frames = vec![
            eth(&ipv4_tcp(cl, srv, 50_100, 443 + 37, flags::SYN, c, 0, b""), 0),
            eth(&ipv4_tcp(srv, cl, 443 + 37, 50_100, flags::SYN | flags::ACK, s, c + 1, b""), 0),
        ];
        c += 1;
        s += 1;
        frames.push(eth(&ipv4_tcp(cl, srv, 50_100, 480, flags::ACK, c, s, b""), 0));
        for (dir, text) in &conv {
            let b = text.as_bytes();
            if *dir == 0 {
                frames.push(eth(
                    &ipv4_tcp(cl, srv, 50_100, 480, flags::ACK | flags::PSH, c, s, b),
                    0,
                ));
                c += b.len() as u32;
            } else {
                frames.push(eth(
                    &ipv4_tcp(srv, cl, 480, 50_100, flags::ACK | flags::PSH, s, c, b),
                    0,
                ));
                s += b.len() as u32;
            }
        }
        frames.push(eth(&ipv4_tcp(cl, srv, 50_100, 480, flags::ACK | flags::FIN, c, s, b""), 0));
        frames
            .push(eth(&ipv4_tcp(srv, cl, 480, 50_100, flags::ACK | flags::FIN, s, c + 1, b""), 0));
        frames.push(eth(&ipv4_tcp(cl, srv, 50_100, 480, flags::ACK, c + 1, s + 1, b""), 0));
        let bytes = capture(&frames);
        let d = crate::FileDecoder::from_bytes(
            "ntlm.pcap",
            bytes.clone(),
            None,
            &crate::DecodeOptions::default(),
        )
        .unwrap();
        let evs: Vec<Event> = d.collect();
        let http = evs.iter().filter(|e| matches!(e.body, Body::Http(_))).count();
        assert_eq!(http, 2);
        let ntlm: Vec<(String, String, String, Option<bool>)> = evs
            .iter()
            .filter_map(|e| match &e.body {
                Body::Ntlm(n) => Some((
                    n.username.as_deref().unwrap_or("").to_string(),
                    n.domainname.as_deref().unwrap_or("").to_string(),
                    n.hostname.as_deref().unwrap_or("").to_string(),
                    n.success,
                )),
                _ => None,
            })
            .collect();
        let s = |x: &str| x.to_string();
        assert_eq!(
            ntlm,
            [
                (s("mallory"), s("CORP"), s("WS01"), Some(false)),
                (s("alice"), s("CORP"), s("WS01"), Some(true))
            ]
        );
        let args = ["-d", "tcp.port==480,http", "-Y", "ntlmssp.messagetype == 3 || _ws.malformed"];
        let fields = [
            "ntlmssp.auth.username",
            "ntlmssp.auth.domain",
            "ntlmssp.auth.hostname",
            "_ws.malformed",
        ];
        let Some(lines) = tshark_on(&bytes, &args, &fields) else { return };
        let text = lines.join("\n");
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            ["mallory\tCORP\tWS01\t", "alice\tCORP\tWS01\t"],
            "{text}"
        );
    }

    #[test]
    fn base64_padding() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }
}
