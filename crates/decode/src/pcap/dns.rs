//! DNS messages on the wire (RFC 1035 and its record types), bounded: at most 64
//! answers read, names of at most 255 bytes, at most 32 compression jumps, nothing read
//! past the message. Names are written as Zeek writes them: labels joined by dots,
//! bytes outside printable ASCII as `\xNN`.

use std::fmt::Write;
use std::net::Ipv6Addr;

/// One parsed DNS message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Message {
    /// Transaction id.
    pub id: u16,
    /// A response (QR bit).
    pub response: bool,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated.
    pub tc: bool,
    /// Recursion desired.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// Response code (4 bits).
    pub rcode: u16,
    /// The first question's name.
    pub qname: Option<String>,
    /// Its type.
    pub qtype: Option<u16>,
    /// Its class.
    pub qclass: Option<u16>,
    /// Answers as Zeek writes them (addresses, names, `TXT n text`).
    pub answers: Vec<String>,
    /// Their TTLs.
    pub ttls: Vec<u32>,
}

/// Most answers kept per message.
const MAX_ANSWERS: usize = 64;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

/// Reads a (possibly compressed) name at `at`; returns it and the offset after it in the
/// original position.
fn name(msg: &[u8], at: usize) -> Option<(String, usize)> {
    let mut out = String::with_capacity(64);
    let end = walk(msg, at, |label| {
        if !out.is_empty() {
            out.push('.');
        }
        match std::str::from_utf8(label) {
            Ok(text) if label.iter().all(|c| (0x21..=0x7e).contains(c)) => out.push_str(text),
            _ => {
                for &c in label {
                    if (0x21..=0x7e).contains(&c) {
                        out.push(char::from(c));
                    } else {
                        let _ = write!(out, "\\x{c:02x}");
                    }
                }
            }
        }
    })?;
    Some((out, end))
}

/// Walks a possibly compressed name from `at`, handing each label to `label`; returns
/// where the name ends in the message (after the first pointer, if any), or `None` when
/// it runs out of the message, loops, or is longer than 255 bytes.
fn walk(msg: &[u8], mut at: usize, mut label: impl FnMut(&[u8])) -> Option<usize> {
    let mut end = None;
    let mut jumps = 0;
    let mut len = 0usize;
    loop {
        let l = *msg.get(at)?;
        match l & 0xc0 {
            0x00 => {
                if l == 0 {
                    return Some(end.unwrap_or(at + 1));
                }
                let text = msg.get(at + 1..at + 1 + usize::from(l))?;
                len += text.len() + 1;
                if len > 255 {
                    return None;
                }
                label(text);
                at += 1 + usize::from(l);
            }
            0xc0 => {
                let ptr = usize::from(be16(msg, at)? & 0x3fff);
                if end.is_none() {
                    end = Some(at + 2);
                }
                jumps += 1;
                if jumps > 32 || ptr >= msg.len() {
                    return None;
                }
                at = ptr;
            }
            _ => return None,
        }
    }
}

/// Parses one DNS message; `None` when its header or question does not hold together.
pub fn parse(msg: &[u8]) -> Option<Message> {
    let id = be16(msg, 0)?;
    let fl = be16(msg, 2)?;
    let qd = be16(msg, 4)?;
    let an = be16(msg, 6)?;
    let mut m = Message {
        id,
        response: fl & 0x8000 != 0,
        aa: fl & 0x0400 != 0,
        tc: fl & 0x0200 != 0,
        rd: fl & 0x0100 != 0,
        ra: fl & 0x0080 != 0,
        rcode: fl & 0x000f,
        ..Message::default()
    };
    // Opcode other than QUERY/IQUERY/STATUS/NOTIFY/UPDATE: not DNS as we know it.
    if (fl >> 11) & 0xf > 5 {
        return None;
    }
    let mut at = 12;
    for i in 0..qd.min(16) {
        let (n, next) = name(msg, at)?;
        let qtype = be16(msg, next)?;
        let qclass = be16(msg, next + 2)?;
        if i == 0 {
            m.qname = Some(n);
            m.qtype = Some(qtype);
            m.qclass = Some(qclass);
        }
        at = next + 4;
    }
    for _ in 0..an.min(MAX_ANSWERS as u16) {
        // The owner name is not kept: walk it without building it.
        let Some(next) = walk(msg, at, |_| {}) else { break };
        let (Some(rtype), Some(ttl), Some(rdlen)) =
            (be16(msg, next), be32(msg, next + 4), be16(msg, next + 8))
        else {
            break;
        };
        let start = next + 10;
        let Some(rdata) = msg.get(start..start + usize::from(rdlen)) else { break };
        let text = match rtype {
            1 if rdata.len() == 4 => Some(dotted(rdata)),
            28 if rdata.len() == 16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(rdata);
                Some(Ipv6Addr::from(a).to_string())
            }
            // CNAME, NS, PTR, DNAME: a name.
            5 | 2 | 12 | 39 => name(msg, start).map(|(n, _)| n),
            // MX: preference, then a name.
            15 => name(msg, start + 2).map(|(n, _)| n),
            // SRV: priority, weight, port, target.
            33 => name(msg, start + 6).map(|(n, _)| n),
            16 => Some(txt(rdata)),
            // SOA: the primary name server.
            6 => name(msg, start).map(|(n, _)| n),
            _ => Some(format!("<{}>", crate::pcap::dns::type_name(rtype))),
        };
        if let Some(t) = text {
            m.answers.push(t);
            m.ttls.push(ttl);
        }
        at = start + usize::from(rdlen);
    }
    Some(m)
}

/// An IPv4 address in dotted decimal, without the formatting machinery.
fn dotted(b: &[u8]) -> String {
    let mut s = String::with_capacity(15);
    for (i, &x) in b.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        if x >= 100 {
            s.push(char::from(b'0' + x / 100));
        }
        if x >= 10 {
            s.push(char::from(b'0' + (x / 10) % 10));
        }
        s.push(char::from(b'0' + x % 10));
    }
    s
}

/// A TXT record as Zeek writes it: `TXT <length> <text>` per character-string.
fn txt(mut rdata: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((&l, rest)) = rdata.split_first() {
        let Some(s) = rest.get(..usize::from(l)) else { break };
        let mut t = String::new();
        for &c in s {
            if (0x20..=0x7e).contains(&c) {
                t.push(char::from(c));
            } else {
                let _ = write!(t, "\\x{c:02x}");
            }
        }
        parts.push(format!("TXT {} {t}", s.len()));
        rdata = &rest[usize::from(l)..];
    }
    parts.join(" ")
}

/// The mnemonic of a record type (`A`, `AAAA`, ...), `TYPE<n>` for the rest.
pub fn type_name(t: u16) -> String {
    match dwell_model::dns::qtype_name(t) {
        Some(n) => n.to_string(),
        None => format!("TYPE{t}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A query for `name` of type `qtype`.
    pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut v = id.to_be_bytes().to_vec();
        v.extend([0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        for l in name.split('.') {
            v.push(l.len() as u8);
            v.extend(l.as_bytes());
        }
        v.push(0);
        v.extend(qtype.to_be_bytes());
        v.extend([0, 1]);
        v
    }

    /// The response to `query(id, name, 1)` with A answers (compressed names), or
    /// NXDOMAIN when `ips` is empty.
    pub fn answer(id: u16, name: &str, ips: &[[u8; 4]]) -> Vec<u8> {
        let mut v = query(id, name, 1);
        v[2] = 0x81;
        v[3] = if ips.is_empty() { 0x83 } else { 0x80 };
        v[7] = ips.len() as u8;
        for ip in ips {
            v.extend([0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
            v.extend(ip);
        }
        v
    }

    #[test]
    fn query_and_compressed_answers() {
        let q = parse(&query(7, "www.example.com", 1)).unwrap();
        assert_eq!(
            (q.id, q.response, q.qname.as_deref(), q.qtype),
            (7, false, Some("www.example.com"), Some(1))
        );
        let a = parse(&answer(7, "www.example.com", &[[93, 184, 216, 34], [1, 2, 3, 4]])).unwrap();
        assert!(a.response);
        assert_eq!(a.answers, ["93.184.216.34", "1.2.3.4"]);
        assert_eq!(a.ttls, [3600, 3600]);
        let nx = parse(&answer(8, "nope.example", &[])).unwrap();
        assert_eq!(nx.rcode, 3);
    }

    #[test]
    fn txt_and_odd_bytes() {
        let mut v = query(9, "t.example.com", 16);
        v[2] = 0x81;
        v[7] = 1;
        v.extend([0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 6, 5, b'h', b'e', 0x01, b'l', b'o']);
        let m = parse(&v).unwrap();
        assert_eq!(m.answers, ["TXT 5 he\\x01lo"]);
        let mut q = query(1, "a.b", 1);
        q[13] = 0xff; // a byte in the label "a" replaced
        assert_eq!(parse(&q).unwrap().qname.as_deref(), Some("\\xff.b"));
    }

    #[test]
    fn pointer_loops_and_cuts_do_not_hang_or_panic() {
        let mut v = query(1, "a.b", 1);
        v[12] = 0xc0;
        v[13] = 12; // points at itself
        assert!(parse(&v).is_none());
        let full = answer(7, "www.example.com", &[[1, 2, 3, 4]]);
        for cut in 0..full.len() {
            let _ = parse(&full[..cut]);
        }
    }
}
