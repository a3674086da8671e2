//! The pcap writer: the simulated sessions as packets (`capture.pcap`).
//!
//! Classic pcap (µs timestamps, Ethernet link type), one file for the whole run, packets
//! in time order. Each [`Session`] becomes what a tap would have seen: a TCP three-way
//! handshake (with an MSS option), the application's messages from [`crate::wire`] cut
//! into segments with correct sequence and acknowledgement numbers, and a FIN or RST
//! teardown as its `conn_state` says (`SF`, `S0` with a retransmitted SYN, `REJ`,
//! `RSTO`); UDP sessions become their datagrams. Packets spread over the session's
//! logged duration, with keep-alives so that no quiet stretch exceeds a flow meter's
//! inactivity timeout; IPv4 header, TCP and UDP checksums are correct (over the payload
//! as zeros where the capture leaves it out).
//!
//! Payload a protocol does not need captured (ciphertext, file content, bodies) is cut
//! by a snap length: the record keeps the headers and the original length says how long
//! the packet was. Segments that only carry such bytes are up to 65,000 bytes long, as a
//! capture on a host with segmentation offload shows them, so a 40 GB backup costs
//! ~600,000 packet headers. The packet counts therefore differ from `conn.log`'s (which
//! assumes a 1448-byte MSS); payload bytes per direction, states, durations and the
//! application records agree.
//!
//! Sessions arrive in start order; their packets wait in a heap until no later session
//! can precede them, so memory holds the packets of the sessions still in progress.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::out::OutFile;
use crate::rng::mix;
use crate::session::{Proto, Session, State};
use crate::wire::{self, Chunk, Script};
use crate::world::World;

/// Largest captured payload per segment (Ethernet MSS with timestamps off).
const MSS: usize = 1448;
/// Largest segment of uncaptured payload (an offloaded send; fits IPv4's 65,535).
const BIG: u64 = 65_000;
/// Longest quiet stretch inside a TCP session before a keep-alive (Zeek and dwell
/// time TCP flows out after 5 minutes of silence).
const TCP_KEEPALIVE_US: i64 = 100_000_000;
/// The same for UDP (1-minute timeout): a NAT keep-alive.
const UDP_KEEPALIVE_US: i64 = 25_000_000;

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Queued {
    ts: i64,
    seq: u64,
    wire_len: u32,
    frame: Box<[u8]>,
}

/// Writes sessions as packets, in time order.
pub struct Writer {
    out: BufWriter<OutFile>,
    heap: BinaryHeap<Reverse<Queued>>,
    seq: u64,
    ip_id: u16,
    /// Packets written.
    pub packets: u64,
}

/// Is this one of the simulated organisation's (private) addresses?
fn private(ip: u32) -> bool {
    let o = ip.to_be_bytes();
    o[0] == 10
        || (o[0] == 172 && (16..32).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 100 && (64..128).contains(&o[1]))
}

/// Station address of `ip` on the capture's segment: internal hosts have their own,
/// everything outside is behind the gateway.
fn mac(ip: u32) -> [u8; 6] {
    if private(ip) {
        let o = ip.to_be_bytes();
        [0x02, 0x00, o[0], o[1], o[2], o[3]]
    } else {
        [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01]
    }
}

fn sum16(mut acc: u32, b: &[u8]) -> u32 {
    let mut it = b.chunks_exact(2);
    for c in &mut it {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [x] = it.remainder() {
        acc += u32::from(*x) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;

/// One packet of a session before it is framed.
struct Pkt {
    ts: i64,
    dir: usize,
    flags: u8,
    seq: u32,
    ack: u32,
    cap: Vec<u8>,
    len: u64,
}

impl Writer {
    /// Creates `path` and writes the pcap file header.
    pub fn create(path: &Path) -> io::Result<Writer> {
        let mut out = BufWriter::with_capacity(1 << 20, OutFile::create(path)?);
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&262_144u32.to_le_bytes())?;
        out.write_all(&1u32.to_le_bytes())?;
        Ok(Writer { out, heap: BinaryHeap::new(), seq: 0, ip_id: 0, packets: 0 })
    }

    /// Adds a session; sessions must come in start order.
    pub fn write(&mut self, s: &Session, w: &World) -> io::Result<()> {
        self.drain(Some(s.ts))?;
        let sc = wire::script(s, w);
        let pkts = match s.proto {
            Proto::Tcp => tcp(s, &sc),
            Proto::Udp => udp(s, &sc),
        };
        for p in pkts {
            let frame = self.frame(s, &p);
            let wire_len = (frame.len() as u64 + p.len - p.cap.len() as u64) as u32;
            self.seq += 1;
            self.heap.push(Reverse(Queued { ts: p.ts, seq: self.seq, wire_len, frame }));
        }
        Ok(())
    }

    /// Writes every queued packet older than `before` (all with `None`).
    fn drain(&mut self, before: Option<i64>) -> io::Result<()> {
        while let Some(Reverse(q)) = self.heap.peek() {
            if before.is_some_and(|b| q.ts >= b) {
                break;
            }
            let Some(Reverse(q)) = self.heap.pop() else { break };
            let secs = q.ts.div_euclid(1_000_000) as u32;
            let us = q.ts.rem_euclid(1_000_000) as u32;
            self.out.write_all(&secs.to_le_bytes())?;
            self.out.write_all(&us.to_le_bytes())?;
            self.out.write_all(&(q.frame.len() as u32).to_le_bytes())?;
            self.out.write_all(&q.wire_len.to_le_bytes())?;
            self.out.write_all(&q.frame)?;
            self.packets += 1;
        }
        Ok(())
    }

    /// Writes what is left and flushes; returns the packet count.
    pub fn close(mut self) -> io::Result<u64> {
        self.drain(None)?;
        self.out.flush()?;
        Ok(self.packets)
    }

    fn frame(&mut self, s: &Session, p: &Pkt) -> Box<[u8]> {
        let (src, dst, sport, dport) = if p.dir == 0 {
            (s.orig, s.resp, s.orig_p, s.resp_p)
        } else {
            (s.resp, s.orig, s.resp_p, s.orig_p)
        };
        let tcp = s.proto == Proto::Tcp;
        let l4_hdr = if !tcp {
            8
        } else if p.flags & SYN != 0 {
            24
        } else {
            20
        };
        let l4_len = l4_hdr as u64 + p.len;
        let ip_len = (20 + l4_len).min(65_535) as u16;
        let mut f = Vec::with_capacity(14 + 20 + l4_hdr + p.cap.len());
        f.extend(mac(dst));
        f.extend(mac(src));
        f.extend([0x08, 0x00]);
        self.ip_id = self.ip_id.wrapping_add(1);
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
        ip[4..6].copy_from_slice(&self.ip_id.to_be_bytes());
        ip[6] = 0x40;
        ip[8] = if private(src) { 128 } else { 52 };
        ip[9] = if tcp { 6 } else { 17 };
        ip[12..16].copy_from_slice(&src.to_be_bytes());
        ip[16..20].copy_from_slice(&dst.to_be_bytes());
        let c = fold(sum16(0, &ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend(ip);
        let l4_at = f.len();
        f.extend(sport.to_be_bytes());
        f.extend(dport.to_be_bytes());
        if tcp {
            f.extend(p.seq.to_be_bytes());
            f.extend(p.ack.to_be_bytes());
            f.push(((l4_hdr / 4) as u8) << 4);
            f.push(p.flags);
            f.extend(64_240u16.to_be_bytes());
            f.extend([0, 0, 0, 0]);
            if l4_hdr == 24 {
                f.extend([2, 4, 0x05, 0xb4]);
            }
        } else {
            f.extend((l4_len as u16).to_be_bytes());
            f.extend([0, 0]);
        }
        f.extend_from_slice(&p.cap);
        let mut pseudo = [0u8; 12];
        pseudo[0..4].copy_from_slice(&src.to_be_bytes());
        pseudo[4..8].copy_from_slice(&dst.to_be_bytes());
        pseudo[9] = if tcp { 6 } else { 17 };
        pseudo[10..12].copy_from_slice(&(l4_len as u16).to_be_bytes());
        let mut c = fold(sum16(sum16(0, &pseudo), &f[l4_at..]));
        if !tcp && c == 0 {
            c = 0xffff;
        }
        let at = l4_at + if tcp { 16 } else { 6 };
        f[at..at + 2].copy_from_slice(&c.to_be_bytes());
        f.into_boxed_slice()
    }
}

/// A TCP segment: the captured bytes and the payload length on the wire.
type Segment = (Vec<u8>, u64);

/// The segments of one turn.
fn segments(t: &wire::Turn) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut cur: Segment = (Vec::new(), 0);
    for c in &t.chunks {
        match c {
            Chunk::Cap(b) => {
                // Captured bytes cannot follow uncaptured ones in a segment.
                if cur.1 > cur.0.len() as u64 {
                    out.push(std::mem::take(&mut cur));
                }
                let mut b: &[u8] = b;
                while !b.is_empty() {
                    let room = MSS - cur.0.len();
                    let (now, rest) = b.split_at(room.min(b.len()));
                    cur.0.extend_from_slice(now);
                    cur.1 += now.len() as u64;
                    b = rest;
                    if cur.0.len() == MSS {
                        out.push(std::mem::take(&mut cur));
                    }
                }
            }
            Chunk::Gap(n) => {
                let mut n = *n;
                while n > 0 {
                    let room = BIG.saturating_sub(cur.1);
                    if room == 0 {
                        out.push(std::mem::take(&mut cur));
                        continue;
                    }
                    let k = room.min(n);
                    cur.1 += k;
                    n -= k;
                }
            }
        }
    }
    if cur.1 > 0 {
        out.push(cur);
    }
    out
}

fn us(secs: f64) -> i64 {
    (secs * 1e6).round() as i64
}

fn tcp(s: &Session, sc: &Script) -> Vec<Pkt> {
    let dur = us(s.duration).max(1);
    let isn = [mix(&[s.ts as u64, u64::from(s.orig_p), 1]) as u32, mix(&[s.ts as u64, 2]) as u32];
    let rtt = (dur / 20).clamp(1, 40_000);
    let pkt = |ts, dir, flags, seq, ack| Pkt { ts, dir, flags, seq, ack, cap: Vec::new(), len: 0 };
    let mut v = Vec::new();
    let t0 = s.ts;
    v.push(pkt(t0, 0, SYN, isn[0], 0));
    match s.state {
        State::S0 => {
            v.push(pkt(t0 + dur, 0, SYN, isn[0], 0));
            return v;
        }
        State::Rej => {
            v.push(pkt(t0 + dur, 1, RST | ACK, 0, isn[0].wrapping_add(1)));
            return v;
        }
        _ => {}
    }
    let mut next = [isn[0].wrapping_add(1), isn[1].wrapping_add(1)];
    v.push(pkt(t0 + rtt, 1, SYN | ACK, isn[1], next[0]));
    if s.state == State::Rsto && sc.turns.is_empty() {
        v.push(pkt(t0 + dur.max(2 * rtt), 0, RST, next[0], 0));
        return v;
    }
    v.push(pkt(t0 + rtt + rtt / 4 + 1, 0, ACK, next[0], next[1]));
    let segs: Vec<(usize, Vec<Segment>)> = sc.turns.iter().map(|t| (t.dir, segments(t))).collect();
    let n: usize = segs.iter().map(|(_, s)| s.len()).sum();
    let t1 = t0 + 2 * rtt;
    let t2 = (t0 + dur - 2 * rtt).max(t1 + n as i64 + 1);
    let mut k = 0i64;
    for (dir, ss) in segs {
        let last = ss.len().saturating_sub(1);
        for (i, (cap, len)) in ss.into_iter().enumerate() {
            let ts = t1 + (t2 - t1) * k / (n as i64).max(1);
            let flags = if i == last { ACK | PSH } else { ACK };
            v.push(Pkt { ts, dir, flags, seq: next[dir], ack: next[dir ^ 1], cap, len });
            next[dir] = next[dir].wrapping_add(len as u32);
            k += 1;
        }
    }
    let end = (t0 + dur).max(t2 + 2);
    if s.state == State::Rsto {
        v.push(pkt(end, 0, RST | ACK, next[0], next[1]));
    } else {
        v.push(pkt(t2 + 1, 0, FIN | ACK, next[0], next[1]));
        next[0] = next[0].wrapping_add(1);
        v.push(pkt((t2 + end) / 2 + 1, 1, FIN | ACK, next[1], next[0]));
        next[1] = next[1].wrapping_add(1);
        v.push(pkt(end, 0, ACK, next[0], next[1]));
    }
    keepalives(v, TCP_KEEPALIVE_US, |ts, prev: &Pkt| {
        // A keep-alive: one byte below the next sequence number, no data.
        let (dir, seq, ack) = if prev.dir == 0 {
            (0, prev.seq.wrapping_add(prev.len as u32).wrapping_sub(1), prev.ack)
        } else {
            (0, prev.ack.wrapping_sub(1), prev.seq.wrapping_add(prev.len as u32))
        };
        Pkt { ts, dir, flags: ACK, seq, ack, cap: Vec::new(), len: 0 }
    })
}

/// Inserts `make(ts, previous packet)` wherever packets are more than `every` apart.
fn keepalives(v: Vec<Pkt>, every: i64, make: impl Fn(i64, &Pkt) -> Pkt) -> Vec<Pkt> {
    let mut out: Vec<Pkt> = Vec::with_capacity(v.len());
    for p in v {
        if let Some(prev) = out.last() {
            let mut t = prev.ts + every;
            if p.ts - prev.ts > every {
                let mut ka = Vec::new();
                while p.ts - t > 0 {
                    ka.push(make(t, out.last().unwrap_or(&p)));
                    t += every;
                }
                out.extend(ka);
            }
        }
        out.push(p);
    }
    out
}

fn udp(s: &Session, sc: &Script) -> Vec<Pkt> {
    let dur = us(s.duration).max(1);
    let n = sc.turns.len() as i64;
    let mut v: Vec<Pkt> = sc
        .turns
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let ts = if n <= 1 { s.ts } else { s.ts + dur * i as i64 / (n - 1) };
            let mut cap = Vec::new();
            let mut len = 0;
            for c in &t.chunks {
                if let Chunk::Cap(b) = c {
                    if len == cap.len() as u64 {
                        cap.extend_from_slice(b);
                    }
                }
                len += c.len();
            }
            Pkt { ts, dir: t.dir, flags: 0, seq: 0, ack: 0, cap, len }
        })
        .collect();
    if v.is_empty() {
        v.push(Pkt { ts: s.ts, dir: 0, flags: 0, seq: 0, ack: 0, cap: Vec::new(), len: 0 });
    }
    keepalives(v, UDP_KEEPALIVE_US, |ts, _| Pkt {
        ts,
        dir: 0,
        flags: 0,
        seq: 0,
        ack: 0,
        cap: vec![0xff],
        len: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{App, DceRpc, Dns, Http, Smb, Tls};
    use crate::world::CLIENTS;
    use dwell_decode::pcap::{flow::Config, PcapDecoder};
    use dwell_decode::FileStats;
    use dwell_model::{Body, Event, FileId};

    const T0: i64 = 1_772_409_600 * 1_000_000;

    fn tls(w: &World, client: usize, v13: bool, d: usize) -> Tls {
        let dom = &w.domains[d];
        crate::benign::client_tls(client, v13, Some(&dom.name), Some(dom.cert))
    }

    /// One session of every kind the simulator writes, as packets and back through
    /// dwell's own flow meter: the events say what the sessions say.
    #[test]
    fn every_kind_of_session_decodes_as_written() {
        let w = World::new(3, 16);
        let ws = w.hosts[w.workstations[0]].ip;
        let dc = w.hosts[w.dcs[0]].ip;
        let (d0, d1) = (0, 1);
        let ip0 = w.domains[d0].ips[0];
        let mut v = Vec::new();
        let mut s = Session::udp(T0, ws, 50_000, dc, 53).sized(0, 0, 0.004);
        s.service = Some("dns");
        s.app = App::Dns(Dns {
            query: w.domains[d0].name.clone(),
            qtype: 1,
            rcode: 0,
            answers: w.domains[d0].answers.clone(),
            ttl: 300,
        });
        v.push(s);
        for (i, (client, v13, d)) in
            [(0, false, d0), (0, false, d1), (2, false, d0), (0, true, d1)].into_iter().enumerate()
        {
            let dst = w.domains[d].ips[0];
            let mut s =
                Session::tcp(T0 + (i as i64 + 1) * 1_000_000, ws, 50_001 + i as u16, dst, 443)
                    .sized(5_000, 250_000, 3.0);
            s.service = Some("ssl");
            s.app = App::Tls(tls(&w, client, v13, d));
            v.push(s);
        }
        // Two hours, little traffic: keep-alives hold it together as one connection.
        let mut s =
            Session::tcp(T0 + 10_000_000, ws, 50_010, ip0, 443).sized(20_000, 40_000, 7_200.0);
        s.service = Some("ssl");
        s.app = App::Tls(tls(&w, 1, false, d0));
        v.push(s);
        let mut s = Session::tcp(T0 + 11_000_000, ws, 50_011, ip0, 80).sized(0, 0, 0.3);
        s.service = Some("http");
        s.app = App::Http(Http {
            method: "GET",
            host: w.domains[d0].name.clone(),
            uri: "/static/app.js".into(),
            ua: CLIENTS[0].ua.into(),
            status: 200,
            req_len: 0,
            resp_len: 123_456,
            mime: "text/javascript",
        });
        v.push(s);
        let mut s =
            Session::tcp(T0 + 12_000_000, ws, 50_012, dc, 49_667).sized(3_000, 500_000, 0.8);
        s.service = Some("dce_rpc");
        s.app = App::DceRpc(DceRpc {
            endpoint: "drsuapi",
            operation: "DRSGetNCChanges",
            pipe: "49667",
        });
        v.push(s);
        let mut s = Session::tcp(T0 + 13_000_000, ws, 50_013, dc, 445).sized(350_000, 9_000, 3.0);
        s.service = Some("smb");
        s.app = App::Smb(Smb {
            path: "\\\\DC01\\ADMIN$".into(),
            share_type: "DISK",
            file: Some(("SMB::FILE_WRITE", "tool.exe".into(), 341_504)),
        });
        v.push(s);
        let mut s = Session::tcp(T0 + 14_000_000, ws, 50_014, dc, 445).sized(900, 500, 0.2);
        s.service = Some("smb,dce_rpc");
        s.app = App::DceRpc(DceRpc {
            endpoint: "svcctl",
            operation: "CreateServiceW",
            pipe: "\\pipe\\svcctl",
        });
        v.push(s);
        let mut s = Session::tcp(T0 + 15_000_000, ws, 50_015, dc, 3389).sized(0, 0, 2.0);
        s.state = State::S0;
        v.push(s);
        let mut s = Session::tcp(T0 + 16_000_000, ws, 50_016, dc, 23).sized(0, 0, 0.001);
        s.state = State::Rej;
        v.push(s);
        let mut s = Session::udp(T0 + 17_000_000, ws, 123, dc, 123).sized(48, 48, 0.01);
        s.service = Some("ntp");
        v.push(s);
        // RDP on a port that is not RDP's: the content names it.
        let mut s = Session::tcp(T0 + 18_000_000, ws, 50_018, dc, 3390).sized(20_000, 90_000, 60.0);
        s.service = Some("rdp");
        v.push(s);
        let mut fitter = crate::wire::Fitter::default();
        for s in &mut v {
            fitter.fit(s, &w);
        }
        let path = std::env::temp_dir().join(format!("dwell-sim-pcap-{}.pcap", std::process::id()));
        let mut wr = Writer::create(&path).unwrap();
        for s in &v {
            wr.write(s, &w).unwrap();
        }
        wr.close().unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let mut dec = PcapDecoder::new(Box::new(file), FileId(0), Config::default()).unwrap();
        let mut stats = FileStats::default();
        let mut evs: Vec<Event> = Vec::new();
        while let Some(e) = dec.next_event(&mut stats) {
            evs.push(e);
        }
        if std::env::var_os("KEEP").is_none() {
            std::fs::remove_file(&path).ok();
        }

        let conns: Vec<_> = evs
            .iter()
            .filter_map(|e| match &e.body {
                Body::Conn(c) => Some(c),
                _ => None,
            })
            .collect();
        assert_eq!(conns.len(), v.len(), "one connection per session");
        for s in &v {
            let c = conns.iter().find(|c| c.flow.orig_p == s.orig_p).unwrap();
            let ctx = format!("{}:{} {:?}", s.resp_p, s.orig_p, c);
            assert_eq!(c.conn_state.as_deref(), Some(s.conn_state()), "{ctx}");
            // SMB tops up in whole requests and responses: a few bytes may stay over.
            let slack = if s.resp_p == 445 { 120 } else { 0 };
            assert!(c.orig_bytes.unwrap().abs_diff(s.orig_bytes) <= slack, "{ctx}");
            assert!(c.resp_bytes.unwrap().abs_diff(s.resp_bytes) <= slack, "{ctx}");
            let dur = c.duration.unwrap_or(0.0);
            assert!((dur - s.duration).abs() < 0.01, "{ctx}: duration {dur} vs {}", s.duration);
        }
        let ntp = conns.iter().find(|c| c.flow.orig_p == 123).unwrap();
        assert_eq!(ntp.service.as_deref(), Some("ntp"));
        let rdp = conns.iter().find(|c| c.flow.orig_p == 50_018).unwrap();
        assert_eq!(rdp.service.as_deref(), Some("rdp"));
        let rdp = evs
            .iter()
            .find_map(|e| match &e.body {
                Body::Rdp(r) => Some(r),
                _ => None,
            })
            .unwrap();
        assert_eq!(rdp.cookie.as_deref(), Some("admin"));
        assert_eq!(rdp.security_protocol.as_deref(), Some("SSL"));
        assert_eq!(rdp.result.as_deref(), Some("encrypted"));

        let dns: Vec<_> = evs
            .iter()
            .filter_map(|e| match &e.body {
                Body::Dns(d) => Some(d),
                _ => None,
            })
            .collect();
        assert_eq!(dns.len(), 1);
        assert_eq!(dns[0].query.as_deref(), Some(w.domains[d0].name.as_str()));
        let answers: Vec<&str> = dns[0].answers.iter().map(|a| &**a).collect();
        let want: Vec<&str> = w.domains[d0].answers.iter().map(String::as_str).collect();
        assert_eq!(answers, want);

        let tls: Vec<_> = evs
            .iter()
            .filter_map(|e| match &e.body {
                Body::Tls(t) => Some(t),
                _ => None,
            })
            .collect();
        // Four HTTPS sessions, the long one, and RDP's TLS.
        assert_eq!(tls.len(), 6);
        let by_port = |p: u16| tls.iter().find(|t| t.flow.orig_p == p).unwrap();
        let (a, b, c, d13) = (by_port(50_001), by_port(50_002), by_port(50_003), by_port(50_004));
        assert_eq!(a.server_name.as_deref(), Some(w.domains[d0].name.as_str()));
        assert_eq!(a.ja3, b.ja3, "one client, one JA3 whatever the server");
        assert_ne!(a.ja3, c.ja3, "another client, another JA3");
        assert_eq!(d13.version.as_deref(), Some("TLSv13"));
        assert_eq!(a.version.as_deref(), Some("TLSv12"));
        let cert = a.cert.as_ref().expect("the server's certificate");
        let wc = &w.certs[w.domains[d0].cert];
        assert_eq!(cert.subject.as_deref(), Some(wc.subject.as_str()));
        assert_eq!(cert.issuer.as_deref(), Some(wc.issuer.as_str()));
        let san: Vec<&str> = cert.san_dns.iter().map(|x| &**x).collect();
        assert_eq!(san, wc.san.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(cert.not_valid_before.map(|t| t.0.div_euclid(1_000_000)), Some(wc.not_before));
        assert_eq!(cert.not_valid_after.map(|t| t.0.div_euclid(1_000_000)), Some(wc.not_after));
        assert_eq!(cert.key_length, Some(2048));

        let http = evs
            .iter()
            .find_map(|e| match &e.body {
                Body::Http(h) => Some(h),
                _ => None,
            })
            .unwrap();
        assert_eq!(http.uri.as_deref(), Some("/static/app.js"));
        assert_eq!(http.status_code, Some(200));
        assert_eq!(http.response_body_len, Some(123_456));

        let ops: Vec<&str> = evs
            .iter()
            .filter_map(|e| match &e.body {
                Body::DceRpc(d) => d.operation.as_deref(),
                _ => None,
            })
            .collect();
        assert_eq!(ops, ["DRSGetNCChanges", "CreateServiceW"]);
        let file = evs
            .iter()
            .find_map(|e| match &e.body {
                Body::Smb(s) if s.name.is_some() => Some(s),
                _ => None,
            })
            .unwrap();
        assert_eq!(file.name.as_deref(), Some("tool.exe"));
        assert_eq!(file.size, Some(341_504));
        assert_eq!(file.path.as_deref(), Some("\\\\DC01\\ADMIN$"));
    }

    #[test]
    fn dns_sizes_without_building_the_message() {
        let w = World::new(5, 16);
        let long = format!("{}.{}.example.com", "a".repeat(70), "b".repeat(20));
        let cases = [
            (w.domains[0].name.clone(), 1, w.domains[0].answers.to_vec()),
            (long, 16, vec![format!("\"{}\"", "c".repeat(300)), "\"\"".into()]),
            ("x.example.org.".into(), 5, vec!["y.example.net".into()]),
            ("v6.example.org".into(), 28, vec!["2001:db8::1".into()]),
            ("nx.example.org".into(), 1, vec![]),
        ];
        for (query, qtype, answers) in cases {
            let d = Dns { query, qtype, rcode: 0, answers: answers.into(), ttl: 60 };
            for resp in [false, true] {
                let built = wire::dns_message(7, &d, resp).len() as u64;
                assert_eq!(wire::dns_len(&d, resp), built, "{d:?} response {resp}");
            }
        }
    }

    #[test]
    fn segments_keep_captured_bytes_in_front() {
        let t = wire::Turn {
            dir: 0,
            chunks: vec![
                Chunk::Cap(vec![1; 3000]),
                Chunk::Gap(100_000),
                Chunk::Cap(vec![2; 10]),
                Chunk::Gap(5),
            ],
        };
        let s = segments(&t);
        let lens: Vec<(usize, u64)> = s.iter().map(|(c, l)| (c.len(), *l)).collect();
        assert_eq!(lens, [(1448, 1448), (1448, 1448), (104, 65_000), (0, 35_104), (10, 15)]);
        assert_eq!(s.iter().map(|x| x.1).sum::<u64>(), 3000 + 100_000 + 10 + 5);
    }
}
