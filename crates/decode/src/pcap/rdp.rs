//! RDP connection negotiation (MS-RDPBCGR 2.2.1.1 and 2.2.1.2): the X.224 Connection
//! Request a client sends in a TPKT — its routing cookie (`Cookie: mstshash=USER`) and the
//! security protocols it asks for — and the server's Connection Confirm with the protocol
//! it chose or why it refused. Everything after is TLS or CredSSP (or RDP's own
//! encryption), so this is what Zeek's `rdp.log` can say of a modern session: who, and
//! which protocol — and it is what names the service when RDP runs on another port.
//!
//! Pure and bounded: one TPKT of at most 64 KB, no allocation but the cookie.

/// A client's Connection Request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The routing cookie's user name (`mstshash=`), or the routing token's text.
    pub cookie: Option<String>,
    /// Requested protocols (`PROTOCOL_SSL` 1, `PROTOCOL_HYBRID` 2, ...), if negotiated.
    pub requested: Option<u32>,
}

/// A server's Connection Confirm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// The protocol the server selected.
    Selected(u32),
    /// Negotiation failed with this code (e.g. 2 `SSL_NOT_ALLOWED_BY_SERVER`).
    Failure(u32),
    /// No negotiation data: standard RDP security.
    Legacy,
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The X.224 TPDU of a TPKT that holds exactly `data`: (code, variable part).
fn x224(data: &[u8]) -> Option<(u8, &[u8])> {
    if data.len() < 11 || data[0] != 3 || data[1] != 0 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    // The length indicator counts the TPDU header after itself.
    let li = usize::from(data[4]);
    if len != data.len() || li + 5 != len || li < 6 {
        return None;
    }
    Some((data[5] & 0xf0, &data[11..]))
}

/// Parses a Connection Request (`None` when `data` is not exactly one).
pub fn request(data: &[u8]) -> Option<Request> {
    let (code, mut rest) = x224(data)?;
    if code != 0xe0 {
        return None;
    }
    let mut r = Request::default();
    if let Some(line) = rest.strip_prefix(b"Cookie: ") {
        let end = line.windows(2).position(|w| w == b"\r\n")?;
        let value = &line[..end];
        let value = value.strip_prefix(b"mstshash=").unwrap_or(value);
        r.cookie = Some(String::from_utf8_lossy(&value[..value.len().min(256)]).into_owned());
        rest = &line[end + 2..];
    }
    // RDP_NEG_REQ: type 1, flags, length 8, requested protocols.
    if rest.len() >= 8 && rest[0] == 1 && rest[2] == 8 {
        r.requested = le32(rest, 4);
    }
    Some(r)
}

/// Parses a Connection Confirm (`None` when `data` is not exactly one).
pub fn confirm(data: &[u8]) -> Option<Confirm> {
    let (code, rest) = x224(data)?;
    if code != 0xd0 {
        return None;
    }
    Some(match rest.first() {
        Some(2) if rest.len() >= 8 => Confirm::Selected(le32(rest, 4)?),
        Some(3) if rest.len() >= 8 => Confirm::Failure(le32(rest, 4)?),
        _ => Confirm::Legacy,
    })
}

/// Zeek's name of a selected security protocol.
pub fn protocol_name(p: u32) -> &'static str {
    match p {
        0 => "RDP",
        1 => "SSL",
        2 | 3 => "HYBRID",
        4 => "RDSTLS",
        8..=11 => "HYBRID_EX",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tpkt(x224: &[u8]) -> Vec<u8> {
        let mut v = vec![3, 0];
        v.extend(((x224.len() + 4) as u16).to_be_bytes());
        v.extend(x224);
        v
    }

    fn cr(cookie: &[u8], neg: Option<u32>) -> Vec<u8> {
        let mut x = vec![0, 0xe0, 0, 0, 0, 0, 0];
        x.extend(cookie);
        if let Some(p) = neg {
            x.extend([1, 0, 8, 0]);
            x.extend(p.to_le_bytes());
        }
        x[0] = (x.len() - 1) as u8;
        tpkt(&x)
    }

    #[test]
    fn request_with_cookie_and_negotiation() {
        let r = request(&cr(b"Cookie: mstshash=administrator\r\n", Some(3))).unwrap();
        assert_eq!(r.cookie.as_deref(), Some("administrator"));
        assert_eq!(r.requested, Some(3));
        let r = request(&cr(b"", None)).unwrap();
        assert_eq!(r, Request::default());
        // A routing token instead of a user name is kept as it is.
        let r = request(&cr(b"Cookie: msts=3640205228.15629.0000\r\n", Some(1))).unwrap();
        assert_eq!(r.cookie.as_deref(), Some("msts=3640205228.15629.0000"));
    }

    #[test]
    fn confirm_selected_failed_or_legacy() {
        let cc = |tail: &[u8]| {
            let mut x = vec![0, 0xd0, 0, 0, 0x12, 0x34, 0];
            x.extend(tail);
            x[0] = (x.len() - 1) as u8;
            tpkt(&x)
        };
        assert_eq!(confirm(&cc(&[2, 0, 8, 0, 2, 0, 0, 0])), Some(Confirm::Selected(2)));
        assert_eq!(confirm(&cc(&[3, 0, 8, 0, 2, 0, 0, 0])), Some(Confirm::Failure(2)));
        assert_eq!(confirm(&cc(&[])), Some(Confirm::Legacy));
        assert_eq!(protocol_name(2), "HYBRID");
    }

    #[test]
    fn not_rdp_and_every_truncation() {
        let good = cr(b"Cookie: mstshash=bob\r\n", Some(1));
        for cut in 0..good.len() {
            assert!(request(&good[..cut]).is_none(), "cut at {cut}");
        }
        assert!(request(b"\x16\x03\x01\x00\x05hello").is_none());
        assert!(confirm(&good).is_none(), "a request is no confirm");
        // Cookie without its line end.
        let mut bad = vec![0, 0xe0, 0, 0, 0, 0, 0];
        bad.extend(b"Cookie: mstshash=bob");
        bad[0] = (bad.len() - 1) as u8;
        assert!(request(&tpkt(&bad)).is_none());
    }
}
