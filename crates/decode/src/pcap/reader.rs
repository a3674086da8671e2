//! Capture containers: classic pcap (µs and ns, either byte order) and pcapng (sections
//! with their own byte order, interfaces with their own link type and timestamp
//! resolution; EPB, SPB and the obsolete packet block; other blocks skipped).
//!
//! A streaming reader over any `Read` (the input layer has already undone gzip): one
//! record at a time into a reused buffer, nothing else held. A capture cut off in the
//! middle of a record keeps every record before the cut and says where it stopped
//! ([`Reader::truncated`]). Lengths are checked before anything is allocated: a record
//! claiming more than [`MAX_RECORD`] bytes ends reading with an error, it does not
//! allocate.

use std::io::{self, Read};

use dwell_model::Timestamp;

/// Longest record accepted (pcapng blocks and pcap packets): 256 KiB, above any real
/// snap length (262 144 is tcpdump's maximum).
pub const MAX_RECORD: usize = 256 * 1024 + 64;

/// Link types dwell decodes (tcpdump's LINKTYPE_ values).
pub mod link {
    /// BSD loopback: a 4-byte address family in host byte order.
    pub const NULL: u32 = 0;
    /// Ethernet II.
    pub const ETHERNET: u32 = 1;
    /// Raw IP (as written by some tools under the DLT value 12 or 14).
    pub const RAW_12: u32 = 12;
    /// Raw IP (DLT 14 on OpenBSD).
    pub const RAW_14: u32 = 14;
    /// Raw IP.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u32 = 276;
}

/// One captured packet.
#[derive(Debug)]
pub struct Packet<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// Link type of its interface.
    pub linktype: u32,
    /// Captured bytes (possibly fewer than were on the wire).
    pub data: &'a [u8],
    /// Length on the wire.
    pub orig_len: u32,
    /// 1-based ordinal of the packet in the file.
    pub record: u64,
}

/// Why reading stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The container is malformed beyond recovery.
    #[error("{0}")]
    Malformed(String),
    /// The underlying reader failed.
    #[error("read error: {0}")]
    Io(#[from] io::Error),
}

#[derive(Clone, Copy, Debug)]
struct Iface {
    linktype: u32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_s: i64,
}

#[derive(Debug)]
enum Kind {
    Pcap { big: bool, nanos: bool, linktype: u32 },
    PcapNg { big: bool, ifaces: Vec<Iface> },
}

/// A read buffer records are taken from in place (no copy per record).
struct Buf {
    data: Vec<u8>,
    pos: usize,
    end: usize,
}

/// Bytes read from the stream at a time.
const CHUNK: usize = 1 << 20;

impl Buf {
    /// The next `n` bytes as a range of `data`; `Err(got)` when the stream ends first
    /// (the bytes there were are consumed).
    fn take(
        &mut self,
        r: &mut dyn Read,
        n: usize,
    ) -> io::Result<Result<std::ops::Range<usize>, usize>> {
        if self.end - self.pos < n {
            self.data.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            if self.data.len() < n.max(CHUNK) {
                self.data.resize(n.max(CHUNK), 0);
            }
            while self.end < n {
                match r.read(&mut self.data[self.end..]) {
                    Ok(0) => break,
                    Ok(k) => self.end += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if self.end < n {
                let got = self.end;
                self.pos = self.end;
                return Ok(Err(got));
            }
        }
        let range = self.pos..self.pos + n;
        self.pos += n;
        Ok(Ok(range))
    }
}

/// A streaming reader of pcap and pcapng.
pub struct Reader {
    r: Box<dyn Read + Send>,
    kind: Kind,
    b: Buf,
    /// The current record's bytes in `b.data`.
    cur: std::ops::Range<usize>,
    /// Records read.
    pub records: u64,
    /// Bytes read from the (decompressed) stream.
    pub bytes: u64,
    truncated: Option<String>,
    /// pcapng blocks of types not decoded, skipped.
    pub skipped_blocks: u64,
}

fn u16_of(b: &[u8], big: bool) -> u16 {
    let a = [b[0], b[1]];
    if big {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

fn u32_of(b: &[u8], big: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if big {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

/// Reads exactly `buf.len()` bytes; `Ok(n)` with `n < len` at the end of the stream.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Whether `prefix` starts like a capture this reader decodes.
pub fn is_capture(prefix: &[u8]) -> bool {
    matches!(
        prefix,
        [0xd4, 0xc3, 0xb2, 0xa1, ..]
            | [0xa1, 0xb2, 0xc3, 0xd4, ..]
            | [0x4d, 0x3c, 0xb2, 0xa1, ..]
            | [0xa1, 0xb2, 0x3c, 0x4d, ..]
            | [0x0a, 0x0d, 0x0d, 0x0a, ..]
    )
}

impl Reader {
    /// Reads the file header; an error when the stream is not a capture.
    pub fn new(mut r: Box<dyn Read + Send>) -> Result<Reader, ReadError> {
        let mut head = [0u8; 24];
        let n = read_full(&mut r, &mut head[..4])?;
        if n < 4 {
            return Err(ReadError::Malformed("shorter than a capture header".into()));
        }
        let magic = [head[0], head[1], head[2], head[3]];
        let mut reader = Reader {
            r,
            kind: Kind::PcapNg { big: false, ifaces: Vec::new() },
            b: Buf { data: Vec::new(), pos: 0, end: 0 },
            cur: 0..0,
            records: 0,
            bytes: 4,
            truncated: None,
            skipped_blocks: 0,
        };
        let (big, nanos) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                reader.section_header_rest()?;
                return Ok(reader);
            }
            _ => return Err(ReadError::Malformed("not a pcap or pcapng file".into())),
        };
        let n = read_full(&mut reader.r, &mut head[4..24])?;
        reader.bytes += n as u64;
        if n < 20 {
            return Err(ReadError::Malformed("pcap file header cut short".into()));
        }
        // The low 28 bits are the link type; the upper bits may carry FCS information.
        let linktype = u32_of(&head[20..24], big) & 0x0fff_ffff;
        reader.kind = Kind::Pcap { big, nanos, linktype };
        Ok(reader)
    }

    /// Where and why the capture ended early, if it did.
    pub fn truncated(&self) -> Option<&str> {
        self.truncated.as_deref()
    }

    /// The link type of a classic pcap file (the first interface of a pcapng one).
    pub fn linktype(&self) -> Option<u32> {
        match &self.kind {
            Kind::Pcap { linktype, .. } => Some(*linktype),
            Kind::PcapNg { ifaces, .. } => ifaces.first().map(|i| i.linktype),
        }
    }

    /// Reads the rest of a section header block whose type (4 bytes) was consumed.
    fn section_header_rest(&mut self) -> Result<(), ReadError> {
        let mut lenbom = [0u8; 8];
        let n = read_full(&mut self.r, &mut lenbom)?;
        self.bytes += n as u64;
        if n < 8 {
            return Err(ReadError::Malformed("pcapng section header cut short".into()));
        }
        let big = match [lenbom[4], lenbom[5], lenbom[6], lenbom[7]] {
            [0x1a, 0x2b, 0x3c, 0x4d] => true,
            [0x4d, 0x3c, 0x2b, 0x1a] => false,
            _ => return Err(ReadError::Malformed("pcapng byte-order magic is wrong".into())),
        };
        let len = u32_of(&lenbom[..4], big) as usize;
        if !(28..=MAX_RECORD).contains(&len) || !len.is_multiple_of(4) {
            return Err(ReadError::Malformed(format!("pcapng section header length {len}")));
        }
        // Skip the rest of the block (version, section length, options, trailing length).
        if self.fill(len - 12)?.is_err() {
            return Err(ReadError::Malformed("pcapng section header cut short".into()));
        }
        self.kind = Kind::PcapNg { big, ifaces: Vec::new() };
        Ok(())
    }

    /// Makes the next `n` bytes the current record; `Err(got)` when the stream ends first.
    fn fill(&mut self, n: usize) -> Result<Result<(), usize>, ReadError> {
        match self.b.take(&mut self.r, n)? {
            Ok(range) => {
                self.bytes += n as u64;
                self.cur = range;
                Ok(Ok(()))
            }
            Err(got) => {
                self.bytes += got as u64;
                self.cur = 0..0;
                Ok(Err(got))
            }
        }
    }

    /// The current record.
    fn rec(&self) -> &[u8] {
        &self.b.data[self.cur.clone()]
    }

    /// Reads a fixed-size header; the bytes and how many there were.
    fn head<const N: usize>(&mut self) -> Result<([u8; N], usize), ReadError> {
        let mut h = [0u8; N];
        match self.fill(N)? {
            Ok(()) => {
                h.copy_from_slice(self.rec());
                Ok((h, N))
            }
            Err(got) => Ok((h, got)),
        }
    }

    fn cut(&mut self, what: &str, got: usize, want: usize) {
        self.truncated = Some(format!(
            "capture cut off inside {what} {} (byte {} of it, of {want})",
            self.records + 1,
            got
        ));
    }

    /// The next packet; `Ok(None)` at the end (or at a cut, see [`Reader::truncated`]).
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, ReadError> {
        loop {
            match self.kind {
                Kind::Pcap { big, nanos, linktype } => {
                    let (h, got) = self.head::<16>()?;
                    if got == 0 {
                        return Ok(None);
                    }
                    if got < 16 {
                        self.cut("the header of packet", got, 16);
                        return Ok(None);
                    }
                    let secs = i64::from(u32_of(&h[0..4], big));
                    let frac = i64::from(u32_of(&h[4..8], big));
                    let caplen = u32_of(&h[8..12], big) as usize;
                    let orig_len = u32_of(&h[12..16], big);
                    if caplen > MAX_RECORD {
                        return Err(ReadError::Malformed(format!(
                            "packet {} claims {caplen} captured bytes",
                            self.records + 1
                        )));
                    }
                    if let Err(got) = self.fill(caplen)? {
                        self.cut("packet", got, caplen);
                        return Ok(None);
                    }
                    self.records += 1;
                    let us = if nanos { frac / 1000 } else { frac };
                    let ts = Timestamp(secs * 1_000_000 + us);
                    return Ok(Some(Packet {
                        ts,
                        linktype,
                        data: self.rec(),
                        orig_len,
                        record: self.records,
                    }));
                }
                Kind::PcapNg { big, .. } => {
                    let (h, got) = self.head::<8>()?;
                    if got == 0 {
                        return Ok(None);
                    }
                    if got < 8 {
                        self.cut("the header of block", got, 8);
                        return Ok(None);
                    }
                    if h[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
                        // A new section: its byte order decides the length's.
                        let (lenbom, got) = self.head::<4>()?;
                        if got < 4 {
                            self.cut("section header", got, 4);
                            return Ok(None);
                        }
                        let big = match lenbom {
                            [0x1a, 0x2b, 0x3c, 0x4d] => true,
                            [0x4d, 0x3c, 0x2b, 0x1a] => false,
                            _ => {
                                return Err(ReadError::Malformed(
                                    "pcapng byte-order magic is wrong".into(),
                                ))
                            }
                        };
                        let len = u32_of(&h[4..8], big) as usize;
                        if !(28..=MAX_RECORD).contains(&len) || !len.is_multiple_of(4) {
                            return Err(ReadError::Malformed(format!(
                                "pcapng section header length {len}"
                            )));
                        }
                        if let Err(got) = self.fill(len - 12)? {
                            self.cut("section header", got, len - 12);
                            return Ok(None);
                        }
                        self.kind = Kind::PcapNg { big, ifaces: Vec::new() };
                        continue;
                    }
                    let btype = u32_of(&h[..4], big);
                    let len = u32_of(&h[4..8], big) as usize;
                    if !(12..=MAX_RECORD).contains(&len) || !len.is_multiple_of(4) {
                        return Err(ReadError::Malformed(format!(
                            "pcapng block {} of type {btype:#x} claims {len} bytes",
                            self.records + 1
                        )));
                    }
                    let body = len - 8;
                    if let Err(got) = self.fill(body)? {
                        self.cut("block", got, body);
                        return Ok(None);
                    }
                    // `body` includes the trailing length copy (4 bytes).
                    let content = body - 4;
                    match btype {
                        // Interface description.
                        1 => {
                            if content < 8 {
                                return Err(ReadError::Malformed(
                                    "pcapng interface block too short".into(),
                                ));
                            }
                            let linktype = u32::from(u16_of(&self.rec()[0..2], big));
                            let (units, offset_s) = if_options(&self.rec()[8..content], big);
                            if let Kind::PcapNg { ifaces, .. } = &mut self.kind {
                                if ifaces.len() < 4096 {
                                    ifaces.push(Iface { linktype, units, offset_s });
                                }
                            }
                        }
                        // Enhanced packet.
                        6 => {
                            if content < 20 {
                                return Err(ReadError::Malformed(format!(
                                    "pcapng packet block {} too short",
                                    self.records + 1
                                )));
                            }
                            let ifid = u32_of(&self.rec()[0..4], big) as usize;
                            let hi = u64::from(u32_of(&self.rec()[4..8], big));
                            let lo = u64::from(u32_of(&self.rec()[8..12], big));
                            let caplen = u32_of(&self.rec()[12..16], big) as usize;
                            let orig_len = u32_of(&self.rec()[16..20], big);
                            let Some(iface) = self.iface(ifid) else {
                                return Err(ReadError::Malformed(format!(
                                    "packet {} names interface {ifid}, which was not described",
                                    self.records + 1
                                )));
                            };
                            let end = 20usize.saturating_add(caplen).min(content);
                            self.records += 1;
                            let ts = iface_time(iface, (hi << 32) | lo);
                            return Ok(Some(Packet {
                                ts,
                                linktype: iface.linktype,
                                data: &self.rec()[20..end],
                                orig_len,
                                record: self.records,
                            }));
                        }
                        // Simple packet (interface 0, no timestamp).
                        3 => {
                            if content < 4 {
                                return Err(ReadError::Malformed(
                                    "pcapng simple packet block too short".into(),
                                ));
                            }
                            let orig_len = u32_of(&self.rec()[0..4], big);
                            let Some(iface) = self.iface(0) else {
                                return Err(ReadError::Malformed(
                                    "simple packet before any interface".into(),
                                ));
                            };
                            let end = (4 + orig_len as usize).min(content);
                            self.records += 1;
                            return Ok(Some(Packet {
                                ts: Timestamp(0),
                                linktype: iface.linktype,
                                data: &self.rec()[4..end],
                                orig_len,
                                record: self.records,
                            }));
                        }
                        // Obsolete packet block.
                        2 => {
                            if content < 20 {
                                return Err(ReadError::Malformed(
                                    "pcapng packet block too short".into(),
                                ));
                            }
                            let ifid = usize::from(u16_of(&self.rec()[0..2], big));
                            let hi = u64::from(u32_of(&self.rec()[4..8], big));
                            let lo = u64::from(u32_of(&self.rec()[8..12], big));
                            let caplen = u32_of(&self.rec()[12..16], big) as usize;
                            let orig_len = u32_of(&self.rec()[16..20], big);
                            let Some(iface) = self.iface(ifid) else {
                                return Err(ReadError::Malformed(format!(
                                    "packet {} names interface {ifid}, which was not described",
                                    self.records + 1
                                )));
                            };
                            let end = 20usize.saturating_add(caplen).min(content);
                            self.records += 1;
                            return Ok(Some(Packet {
                                ts: iface_time(iface, (hi << 32) | lo),
                                linktype: iface.linktype,
                                data: &self.rec()[20..end],
                                orig_len,
                                record: self.records,
                            }));
                        }
                        _ => self.skipped_blocks += 1,
                    }
                }
            }
        }
    }

    fn iface(&self, id: usize) -> Option<Iface> {
        match &self.kind {
            Kind::PcapNg { ifaces, .. } => ifaces.get(id).copied(),
            Kind::Pcap { .. } => None,
        }
    }
}

/// `if_tsresol` and `if_tsoffset` from an interface block's options.
fn if_options(mut opts: &[u8], big: bool) -> (u64, i64) {
    let (mut units, mut offset) = (1_000_000u64, 0i64);
    while opts.len() >= 4 {
        let code = u16_of(&opts[0..2], big);
        let len = usize::from(u16_of(&opts[2..4], big));
        let padded = (len + 3) & !3;
        let Some(value) = opts.get(4..4 + len) else { break };
        match (code, value) {
            (0, _) => break,
            (9, [r]) => {
                units = if r & 0x80 == 0 {
                    10u64.checked_pow(u32::from(*r)).unwrap_or(1_000_000)
                } else {
                    1u64.checked_shl(u32::from(r & 0x7f)).unwrap_or(1_000_000)
                };
                if units == 0 {
                    units = 1_000_000;
                }
            }
            (14, v) if v.len() == 8 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(v);
                offset = if big { i64::from_be_bytes(a) } else { i64::from_le_bytes(a) };
            }
            _ => {}
        }
        opts = opts.get(4 + padded..).unwrap_or(&[]);
    }
    (units, offset)
}

fn iface_time(i: Iface, raw: u64) -> Timestamp {
    let secs = raw / i.units;
    let rem = raw % i.units;
    let us = (u128::from(rem) * 1_000_000 / u128::from(i.units)) as i64;
    Timestamp((secs as i64).saturating_add(i.offset_s).saturating_mul(1_000_000).saturating_add(us))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A classic pcap with the given packets (little-endian, µs).
    pub fn pcap(linktype: u32, packets: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        v.extend([0u8; 8]);
        v.extend(65_535u32.to_le_bytes());
        v.extend(linktype.to_le_bytes());
        for (s, us, data) in packets {
            v.extend(s.to_le_bytes());
            v.extend(us.to_le_bytes());
            v.extend((data.len() as u32).to_le_bytes());
            v.extend((data.len() as u32).to_le_bytes());
            v.extend(*data);
        }
        v
    }

    type Packets = Vec<(i64, u32, Vec<u8>)>;

    fn read_all(bytes: Vec<u8>) -> (Packets, Option<String>) {
        let mut r = Reader::new(Box::new(std::io::Cursor::new(bytes))).unwrap();
        let mut out = vec![];
        while let Some(p) = r.next_packet().unwrap() {
            out.push((p.ts.0, p.linktype, p.data.to_vec()));
        }
        (out, r.truncated().map(str::to_string))
    }

    #[test]
    fn pcap_both_byte_orders_and_resolutions() {
        let le = pcap(1, &[(10, 5, b"abc"), (11, 0, b"de")]);
        let (p, t) = read_all(le.clone());
        assert_eq!(p, vec![(10_000_005, 1, b"abc".to_vec()), (11_000_000, 1, b"de".to_vec())]);
        assert!(t.is_none());
        // The same file big-endian with nanosecond stamps.
        let mut be = vec![0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4];
        be.extend([0u8; 8]);
        be.extend(65_535u32.to_be_bytes());
        be.extend(101u32.to_be_bytes());
        be.extend(10u32.to_be_bytes());
        be.extend(5_000u32.to_be_bytes());
        be.extend(3u32.to_be_bytes());
        be.extend(3u32.to_be_bytes());
        be.extend(b"abc");
        let (p, _) = read_all(be);
        assert_eq!(p, vec![(10_000_005, 101, b"abc".to_vec())]);
    }

    #[test]
    fn a_cut_keeps_what_came_before() {
        let mut v = pcap(1, &[(10, 5, b"abcdef"), (11, 0, b"ghijkl")]);
        v.truncate(v.len() - 3);
        let (p, t) = read_all(v);
        assert_eq!(p.len(), 1);
        assert!(t.unwrap().contains("packet 2"));
    }

    #[test]
    fn absurd_lengths_are_errors_not_allocations() {
        let mut v = pcap(1, &[]);
        v.extend(1u32.to_le_bytes());
        v.extend(0u32.to_le_bytes());
        v.extend(u32::MAX.to_le_bytes());
        v.extend(u32::MAX.to_le_bytes());
        let mut r = Reader::new(Box::new(std::io::Cursor::new(v))).unwrap();
        assert!(matches!(r.next_packet(), Err(ReadError::Malformed(_))));
    }

    fn block(btype: u32, body: &[u8]) -> Vec<u8> {
        let len = (12 + body.len()) as u32;
        let mut v = btype.to_le_bytes().to_vec();
        v.extend(len.to_le_bytes());
        v.extend(body);
        v.extend(len.to_le_bytes());
        v
    }

    #[test]
    fn pcapng_interfaces_with_their_own_resolution() {
        let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
        shb.extend([1, 0, 0, 0]);
        shb.extend([0xff; 8]);
        let mut v = block(0x0a0d_0d0a, &shb);
        // Interface 0: Ethernet, µs. Interface 1: raw IP, ns (if_tsresol = 9).
        let mut idb0 = vec![1, 0, 0, 0];
        idb0.extend(0u32.to_le_bytes());
        v.extend(block(1, &idb0));
        let mut idb1 = vec![101, 0, 0, 0];
        idb1.extend(0u32.to_le_bytes());
        idb1.extend([9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        v.extend(block(1, &idb1));
        let epb = |ifid: u32, t: u64, data: &[u8]| {
            let mut b = ifid.to_le_bytes().to_vec();
            b.extend(((t >> 32) as u32).to_le_bytes());
            b.extend((t as u32).to_le_bytes());
            b.extend((data.len() as u32).to_le_bytes());
            b.extend((data.len() as u32).to_le_bytes());
            b.extend(data);
            while !b.len().is_multiple_of(4) {
                b.push(0);
            }
            b
        };
        v.extend(block(6, &epb(0, 7_000_001, b"xyz")));
        v.extend(block(5, &[0; 8])); // an interface statistics block: skipped
        v.extend(block(6, &epb(1, 7_000_001_000, b"12345")));
        let (p, t) = read_all(v);
        assert_eq!(p, vec![(7_000_001, 1, b"xyz".to_vec()), (7_000_001, 101, b"12345".to_vec())]);
        assert!(t.is_none());
    }
}
