//! Link, network and transport layers of one captured frame, by hand: Ethernet with any
//! number of 802.1Q / QinQ tags, MPLS and PPPoE; Linux cooked captures v1 and v2; BSD
//! loopback; raw IP; IPv4 with options and fragments; IPv6 with extension headers; TCP,
//! UDP, ICMP and ICMPv6; GRE and VXLAN decapsulated (a bounded number of times).
//!
//! Every length is checked against the captured bytes; nothing here indexes past a
//! slice. A frame that is not IP says what it is (`arp`, `lldp`, an ethertype); a frame
//! that breaks a header says which.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::reader::link;

/// IP protocol numbers dwell follows.
pub mod proto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// GRE.
    pub const GRE: u8 = 47;
    /// ICMPv6.
    pub const ICMP6: u8 = 58;
}

/// TCP flag bits.
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// TCP header fields the flow meter needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tcp {
    /// Flag bits.
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
}

/// Where an IP packet sits in a fragmented datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frag {
    /// Not fragmented.
    None,
    /// The first fragment (carries the transport header).
    First {
        /// Datagram id.
        id: u32,
    },
    /// A later fragment (no transport header).
    Later {
        /// Datagram id.
        id: u32,
        /// Where its bytes go in the datagram's payload (bytes after the IP header).
        offset: u32,
        /// More fragments follow.
        more: bool,
    },
}

/// One IP packet, parsed.
#[derive(Clone, Debug)]
pub struct Ip<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol (after extension headers).
    pub proto: u8,
    /// Source port (ICMP: type).
    pub sport: u16,
    /// Destination port (ICMP: code).
    pub dport: u16,
    /// TCP fields.
    pub tcp: Option<Tcp>,
    /// Transport payload as captured.
    pub payload: &'a [u8],
    /// Transport payload length on the wire (may exceed the captured bytes).
    pub payload_len: u32,
    /// IP datagram length on the wire (header included).
    pub ip_len: u32,
    /// Fragmentation.
    pub frag: Frag,
    /// TTL / hop limit.
    pub ttl: u8,
    /// ICMP identifier (echo), for pairing requests and replies.
    pub icmp_id: Option<u16>,
}

/// What a frame was.
#[derive(Debug)]
pub enum Parsed<'a> {
    /// An IP packet.
    Ip(Ip<'a>),
    /// Not IP: its kind (`arp`, `lldp`, `ethertype 0x88cc`, ...).
    Other(&'static str),
    /// A header that does not hold together.
    Malformed(&'static str),
    /// A link type dwell does not decode.
    UnknownLink,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

/// Most encapsulations followed in one frame (GRE in VXLAN in GRE ...).
const MAX_DEPTH: u8 = 4;

/// Parses a frame of the given link type.
pub fn parse(linktype: u32, data: &[u8]) -> Parsed<'_> {
    match linktype {
        link::ETHERNET => ethernet(data, 0),
        link::RAW | link::RAW_12 | link::RAW_14 => raw(data, 0),
        link::IPV4 | link::IPV6 => raw(data, 0),
        link::NULL | link::LOOP => {
            let Some(fam) = data.get(..4) else { return Parsed::Malformed("loopback header") };
            let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let be = u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let is = |f: u32| matches!(f, 2 | 10 | 24 | 28 | 30);
            if is(le) || is(be) {
                raw(&data[4..], 0)
            } else {
                Parsed::Other("loopback (not IP)")
            }
        }
        link::LINUX_SLL => match be16(data, 14) {
            Some(et) => ethertype(et, data.get(16..).unwrap_or(&[]), 0),
            None => Parsed::Malformed("linux cooked header"),
        },
        link::LINUX_SLL2 => match be16(data, 0) {
            Some(et) => ethertype(et, data.get(20..).unwrap_or(&[]), 0),
            None => Parsed::Malformed("linux cooked v2 header"),
        },
        _ => Parsed::UnknownLink,
    }
}

fn raw(data: &[u8], depth: u8) -> Parsed<'_> {
    match data.first().map(|b| b >> 4) {
        Some(4) => ipv4(data, depth),
        Some(6) => ipv6(data, depth),
        _ => Parsed::Malformed("raw IP with a bad version"),
    }
}

fn ethernet(data: &[u8], depth: u8) -> Parsed<'_> {
    let Some(mut et) = be16(data, 12) else { return Parsed::Malformed("ethernet header") };
    let mut at = 14;
    // 802.1Q, 802.1ad and the old QinQ type: as many tags as the frame holds.
    while matches!(et, 0x8100 | 0x88a8 | 0x9100) {
        match be16(data, at + 2) {
            Some(next) => et = next,
            None => return Parsed::Malformed("vlan tag"),
        }
        at += 4;
    }
    if et < 0x0600 {
        return Parsed::Other("802.3/llc");
    }
    ethertype(et, data.get(at..).unwrap_or(&[]), depth)
}

fn ethertype(et: u16, data: &[u8], depth: u8) -> Parsed<'_> {
    match et {
        0x0800 => ipv4(data, depth),
        0x86dd => ipv6(data, depth),
        0x0806 => Parsed::Other("arp"),
        0x88cc => Parsed::Other("lldp"),
        0x8035 => Parsed::Other("rarp"),
        0x888e => Parsed::Other("eapol"),
        0x8100 | 0x88a8 | 0x9100 => {
            // A tag inside a cooked capture.
            match be16(data, 2) {
                Some(next) => ethertype(next, data.get(4..).unwrap_or(&[]), depth),
                None => Parsed::Malformed("vlan tag"),
            }
        }
        0x8847 | 0x8848 => {
            // MPLS: pop labels to the bottom of the stack, then guess by the version.
            let mut at = 0;
            loop {
                let Some(l) = be32(data, at) else { return Parsed::Malformed("mpls label") };
                at += 4;
                if l & 0x100 != 0 {
                    break;
                }
            }
            raw(data.get(at..).unwrap_or(&[]), depth)
        }
        0x8864 => match be16(data, 6) {
            Some(0x0021) => ipv4(data.get(8..).unwrap_or(&[]), depth),
            Some(0x0057) => ipv6(data.get(8..).unwrap_or(&[]), depth),
            Some(_) => Parsed::Other("pppoe (not IP)"),
            None => Parsed::Malformed("pppoe header"),
        },
        0x8863 => Parsed::Other("pppoe discovery"),
        0x88e5 => Parsed::Other("macsec"),
        0x8809 => Parsed::Other("slow protocols"),
        0x0842 => Parsed::Other("wake-on-lan"),
        0x88f7 => Parsed::Other("ptp"),
        _ => Parsed::Other("other ethertype"),
    }
}

fn ipv4(data: &[u8], depth: u8) -> Parsed<'_> {
    let Some(&vihl) = data.first() else { return Parsed::Malformed("ipv4 header") };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || data.len() < ihl {
        return Parsed::Malformed("ipv4 header");
    }
    let total = usize::from(be16(data, 2).unwrap_or(0));
    // TSO captures carry a total length of zero; trust the capture then.
    let total = if total == 0 { data.len() } else { total };
    if total < ihl {
        return Parsed::Malformed("ipv4 total length");
    }
    let id = u32::from(be16(data, 4).unwrap_or(0));
    let ff = be16(data, 6).unwrap_or(0);
    let (more, offset) = (ff & 0x2000 != 0, ff & 0x1fff);
    let frag = match (more, offset) {
        (false, 0) => Frag::None,
        (true, 0) => Frag::First { id },
        _ => Frag::Later { id, offset: u32::from(offset) * 8, more },
    };
    let src = IpAddr::V4(Ipv4Addr::new(data[12], data[13], data[14], data[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(data[16], data[17], data[18], data[19]));
    let end = total.min(data.len());
    let body = data.get(ihl..end).unwrap_or(&[]);
    let ip = IpBase {
        src,
        dst,
        proto: data[9],
        ttl: data[8],
        ip_len: total as u32,
        payload_len: (total - ihl) as u32,
        frag,
    };
    transport(ip, body, depth)
}

fn ipv6(data: &[u8], depth: u8) -> Parsed<'_> {
    if data.len() < 40 || data[0] >> 4 != 6 {
        return Parsed::Malformed("ipv6 header");
    }
    let plen = usize::from(be16(data, 4).unwrap_or(0));
    let mut a = [0u8; 16];
    a.copy_from_slice(&data[8..24]);
    let src = IpAddr::V6(Ipv6Addr::from(a));
    a.copy_from_slice(&data[24..40]);
    let dst = IpAddr::V6(Ipv6Addr::from(a));
    // Jumbograms (payload length 0 with a hop-by-hop option): trust the capture.
    let plen = if plen == 0 { data.len() - 40 } else { plen };
    let end = (40 + plen).min(data.len());
    let mut body = data.get(40..end).unwrap_or(&[]);
    let mut next = data[6];
    let mut payload_len = plen as u32;
    let mut frag = Frag::None;
    for _ in 0..16 {
        match next {
            0 | 43 | 60 | 135 | 139 | 140 => {
                let (Some(&nh), Some(&len)) = (body.first(), body.get(1)) else {
                    return Parsed::Malformed("ipv6 extension header");
                };
                let skip = (usize::from(len) + 1) * 8;
                let Some(rest) = body.get(skip..) else {
                    return Parsed::Malformed("ipv6 extension header");
                };
                next = nh;
                body = rest;
                payload_len = payload_len.saturating_sub(skip as u32);
            }
            44 => {
                let Some(h) = body.get(..8) else {
                    return Parsed::Malformed("ipv6 fragment header");
                };
                let off = u16::from_be_bytes([h[2], h[3]]) >> 3;
                let more = h[3] & 1 != 0;
                let id = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
                frag = match (more, off) {
                    (false, 0) => Frag::None,
                    (true, 0) => Frag::First { id },
                    _ => Frag::Later { id, offset: u32::from(off) * 8, more },
                };
                next = h[0];
                body = &body[8..];
                payload_len = payload_len.saturating_sub(8);
            }
            51 => {
                let (Some(&nh), Some(&len)) = (body.first(), body.get(1)) else {
                    return Parsed::Malformed("ipv6 authentication header");
                };
                let skip = (usize::from(len) + 2) * 4;
                let Some(rest) = body.get(skip..) else {
                    return Parsed::Malformed("ipv6 authentication header");
                };
                next = nh;
                body = rest;
                payload_len = payload_len.saturating_sub(skip as u32);
            }
            _ => break,
        }
    }
    let ip = IpBase {
        src,
        dst,
        proto: next,
        ttl: data[7],
        ip_len: (40 + plen) as u32,
        payload_len,
        frag,
    };
    transport(ip, body, depth)
}

struct IpBase {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ttl: u8,
    ip_len: u32,
    payload_len: u32,
    frag: Frag,
}

fn transport<'a>(ip: IpBase, body: &'a [u8], depth: u8) -> Parsed<'a> {
    let mut out = Ip {
        src: ip.src,
        dst: ip.dst,
        proto: ip.proto,
        sport: 0,
        dport: 0,
        tcp: None,
        payload: &[],
        payload_len: 0,
        ip_len: ip.ip_len,
        frag: ip.frag,
        ttl: ip.ttl,
        icmp_id: None,
    };
    if let Frag::Later { .. } = ip.frag {
        // No transport header here: the flow meter joins it to its first fragment.
        out.payload = body;
        out.payload_len = ip.payload_len;
        return Parsed::Ip(out);
    }
    match ip.proto {
        proto::TCP => {
            let Some(h) = body.get(..20) else { return Parsed::Malformed("tcp header") };
            let off = usize::from(h[12] >> 4) * 4;
            if off < 20 {
                return Parsed::Malformed("tcp header length");
            }
            out.sport = u16::from_be_bytes([h[0], h[1]]);
            out.dport = u16::from_be_bytes([h[2], h[3]]);
            out.tcp = Some(Tcp {
                flags: h[13],
                seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
                ack: u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
            });
            out.payload = body.get(off..).unwrap_or(&[]);
            out.payload_len = ip.payload_len.saturating_sub(off as u32);
        }
        proto::UDP => {
            let Some(h) = body.get(..8) else { return Parsed::Malformed("udp header") };
            out.sport = u16::from_be_bytes([h[0], h[1]]);
            out.dport = u16::from_be_bytes([h[2], h[3]]);
            let ulen = usize::from(u16::from_be_bytes([h[4], h[5]]));
            let ulen = if ulen < 8 { ip.payload_len as usize } else { ulen };
            let end = ulen.min(body.len());
            out.payload = body.get(8..end).unwrap_or(&[]);
            out.payload_len = match ip.frag {
                // The first fragment carries its own share of the datagram (the UDP
                // length is the whole's): later fragments add theirs, as Zeek counts
                // the reassembled datagram once.
                Frag::First { .. } => ip.payload_len.saturating_sub(8),
                _ => (ulen.saturating_sub(8)) as u32,
            };
            if depth < MAX_DEPTH && out.dport == 4789 && out.payload.len() > 8 {
                // VXLAN: an 8-byte header with the I flag, then an Ethernet frame.
                if out.payload[0] & 0x08 != 0 {
                    if let Parsed::Ip(inner) = ethernet(&out.payload[8..], depth + 1) {
                        return Parsed::Ip(inner);
                    }
                }
            }
        }
        proto::ICMP | proto::ICMP6 => {
            let Some(h) = body.get(..4) else { return Parsed::Malformed("icmp header") };
            out.sport = u16::from(h[0]);
            out.dport = u16::from(h[1]);
            let echo = if ip.proto == proto::ICMP {
                matches!(h[0], 0 | 8)
            } else {
                matches!(h[0], 128 | 129)
            };
            if echo {
                out.icmp_id = be16(body, 4);
            }
            out.payload = body.get(4..).unwrap_or(&[]);
            out.payload_len = ip.payload_len.saturating_sub(4);
        }
        proto::GRE if depth < MAX_DEPTH => {
            let (Some(fl), Some(pt)) = (be16(body, 0), be16(body, 2)) else {
                return Parsed::Malformed("gre header");
            };
            // Version 0 only; C, K and S add four bytes each.
            if fl & 0x0007 == 0 {
                let at = 4
                    + 4 * usize::from(fl & 0x8000 != 0)
                    + 4 * usize::from(fl & 0x2000 != 0)
                    + 4 * usize::from(fl & 0x1000 != 0);
                let inner = body.get(at..).unwrap_or(&[]);
                let p = match pt {
                    0x6558 => ethernet(inner, depth + 1),
                    0x0800 | 0x86dd => ethertype(pt, inner, depth + 1),
                    _ => Parsed::Other("gre (not IP)"),
                };
                if let Parsed::Ip(_) = p {
                    return p;
                }
            }
            out.payload = body;
            out.payload_len = ip.payload_len;
        }
        _ => {
            out.payload = body;
            out.payload_len = ip.payload_len;
        }
    }
    Parsed::Ip(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builders of frames for tests elsewhere in the pcap module.
    #[allow(clippy::too_many_arguments)]
    pub fn ipv4_tcp(
        src: [u8; 4],
        dst: [u8; 4],
        sport: u16,
        dport: u16,
        flags: u8,
        seq: u32,
        ack: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let total = 20 + 20 + payload.len();
        let mut v = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0x40, 0, 64, 6, 0, 0];
        v.extend(src);
        v.extend(dst);
        v.extend(sport.to_be_bytes());
        v.extend(dport.to_be_bytes());
        v.extend(seq.to_be_bytes());
        v.extend(ack.to_be_bytes());
        v.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        v.extend(payload);
        v
    }

    /// An IPv4 UDP packet.
    pub fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let total = 20 + 8 + payload.len();
        let mut v = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0, 0, 64, 17, 0, 0];
        v.extend(src);
        v.extend(dst);
        v.extend(sport.to_be_bytes());
        v.extend(dport.to_be_bytes());
        v.extend(((8 + payload.len()) as u16).to_be_bytes());
        v.extend([0, 0]);
        v.extend(payload);
        v
    }

    /// An Ethernet frame around an IPv4 packet, with `tags` 802.1Q tags.
    pub fn eth(ip: &[u8], tags: usize) -> Vec<u8> {
        let mut v = vec![0u8; 12];
        for _ in 0..tags {
            v.extend([0x81, 0x00, 0x00, 0x07]);
        }
        v.extend([0x08, 0x00]);
        v.extend(ip);
        v
    }

    #[test]
    fn ethernet_vlans_tcp() {
        let ip = ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 443, flags::SYN, 7, 0, b"");
        for tags in [0, 1, 2, 10_000] {
            let frame = eth(&ip, tags);
            let Parsed::Ip(p) = parse(link::ETHERNET, &frame) else { panic!("{tags}") };
            assert_eq!((p.sport, p.dport, p.proto), (40000, 443, 6));
            assert_eq!(p.tcp.unwrap().flags, flags::SYN);
            assert_eq!(p.src.to_string(), "10.0.0.1");
        }
    }

    #[test]
    fn truncated_and_garbage_frames_are_named() {
        let ip = ipv4_udp([10, 0, 0, 1], [8, 8, 8, 8], 5353, 53, b"hello");
        for cut in 0..ip.len() {
            let _ = parse(link::RAW, &ip[..cut]);
            let _ = parse(link::ETHERNET, &eth(&ip[..cut], 1));
        }
        assert!(matches!(parse(link::RAW, &ip[..10]), Parsed::Malformed(_)));
        assert!(matches!(parse(link::ETHERNET, &[0u8; 5]), Parsed::Malformed(_)));
        let mut arp = vec![0u8; 12];
        arp.extend([0x08, 0x06]);
        assert!(matches!(parse(link::ETHERNET, &arp), Parsed::Other("arp")));
        assert!(matches!(parse(9999, &arp), Parsed::UnknownLink));
    }

    #[test]
    fn ipv6_extension_headers_and_fragments() {
        // IPv6, hop-by-hop (8 bytes) then a fragment header (first fragment) then UDP.
        let udp = [0x13, 0x88, 0x00, 0x35, 0x00, 0x0c, 0, 0, b'a', b'b', b'c', b'd'];
        let mut v = vec![0x60, 0, 0, 0, 0, (8 + 8 + udp.len()) as u8, 0, 64];
        v.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain([0u8; 11].iter()).chain([1u8].iter()));
        v.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain([0u8; 11].iter()).chain([2u8].iter()));
        v.extend([44, 0, 0, 0, 0, 0, 0, 0]);
        v.extend([17, 0, 0, 1, 0, 0, 0, 9]);
        v.extend(udp);
        let Parsed::Ip(p) = parse(link::RAW, &v) else { panic!() };
        assert_eq!((p.proto, p.sport, p.dport), (17, 5000, 53));
        assert_eq!(p.frag, Frag::First { id: 9 });
        assert_eq!(p.payload, b"abcd");
    }

    #[test]
    fn sll_and_loopback() {
        let ip = ipv4_udp([10, 0, 0, 1], [8, 8, 8, 8], 5353, 53, b"x");
        let mut sll = vec![0u8; 14];
        sll.extend([0x08, 0x00]);
        sll.extend(&ip);
        assert!(matches!(parse(link::LINUX_SLL, &sll), Parsed::Ip(_)));
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend([0u8; 18]);
        sll2.extend(&ip);
        assert!(matches!(parse(link::LINUX_SLL2, &sll2), Parsed::Ip(_)));
        let mut lo = 2u32.to_le_bytes().to_vec();
        lo.extend(&ip);
        assert!(matches!(parse(link::NULL, &lo), Parsed::Ip(_)));
    }
}
