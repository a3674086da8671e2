//! Kerberos 5 (RFC 4120) exchanges with a KDC on port 88, over UDP or TCP (where each
//! message follows a 4-byte record mark): the request (AS-REQ, TGS-REQ) gives the
//! client principal and realm, the service principal and the ticket flags asked for;
//! the reply (AS-REP, TGS-REP) success and the ticket's cipher; KRB-ERROR failure and
//! its error name. One `kerberos` record per request and answer, as Zeek logs it.
//!
//! A bounded DER reader: definite lengths only, at most four length bytes, no recursion
//! beyond the fixed shape of these messages; names are the only allocation.

/// A decoded Kerberos message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Msg {
    /// What it is.
    pub kind: Kind,
    /// Client principal name (`name-string` parts joined with `/`).
    pub cname: Option<String>,
    /// Realm of the request, or the client realm of a reply.
    pub realm: Option<String>,
    /// Service principal name (`krbtgt/CORP.LOCAL`, `cifs/fs01.corp.local`).
    pub sname: Option<String>,
    /// KDC options asked for: forwardable.
    pub forwardable: Option<bool>,
    /// KDC options asked for: renewable.
    pub renewable: Option<bool>,
    /// A reply's ticket encryption type.
    pub etype: Option<i64>,
    /// A KRB-ERROR's code.
    pub error: Option<i64>,
}

/// The kind of a Kerberos message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// AS-REQ.
    #[default]
    AsReq,
    /// TGS-REQ.
    TgsReq,
    /// AS-REP.
    AsRep,
    /// TGS-REP.
    TgsRep,
    /// KRB-ERROR.
    Error,
}

impl Kind {
    /// Whether it is a request.
    pub fn is_request(self) -> bool {
        matches!(self, Kind::AsReq | Kind::TgsReq)
    }
}

/// One DER element: its identifier byte and content.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
}

/// Reads one element from the front of `b`; returns it and the rest.
fn tlv(b: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = b.split_first()?;
    // Multi-byte tags (low five bits all set) do not occur in these messages.
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = if l0 < 0x80 {
        (usize::from(l0), rest)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (lb, rest) = (rest.get(..n)?, rest.get(n..)?);
        (lb.iter().fold(0usize, |a, &x| a << 8 | usize::from(x)), rest)
    };
    let content = rest.get(..len)?;
    Some((Tlv { tag, content }, rest.get(len..)?))
}

/// The elements of a constructed value's content, in order (stops at the first
/// malformed one).
fn children(mut b: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    std::iter::from_fn(move || {
        let (t, rest) = tlv(b)?;
        b = rest;
        Some(t)
    })
}

/// The content of context tag `[n]` inside a SEQUENCE's content.
fn field(seq: &[u8], n: u8) -> Option<&[u8]> {
    children(seq).find(|t| t.tag == 0xa0 | n).map(|t| t.content)
}

/// A SEQUENCE's content from a `[n]` field's content (which holds one SEQUENCE).
fn seq_of(b: &[u8]) -> Option<&[u8]> {
    let (t, _) = tlv(b)?;
    (t.tag == 0x30).then_some(t.content)
}

/// An INTEGER inside a field's content.
fn int(b: &[u8]) -> Option<i64> {
    let (t, _) = tlv(b)?;
    if t.tag != 0x02 || t.content.is_empty() || t.content.len() > 8 {
        return None;
    }
    let neg = t.content[0] & 0x80 != 0;
    let init: i64 = if neg { -1 } else { 0 };
    Some(t.content.iter().fold(init, |a, &x| a << 8 | i64::from(x)))
}

/// Whether an element is a KerberosString (GeneralString; the other string types are
/// accepted too).
fn is_string(t: &Tlv<'_>) -> bool {
    matches!(t.tag, 0x1b | 0x0c | 0x16 | 0x13)
}

/// A KerberosString inside a field's content.
fn string(b: &[u8]) -> Option<String> {
    let (t, _) = tlv(b)?;
    is_string(&t).then(|| String::from_utf8_lossy(t.content).into())
}

/// A PrincipalName (`SEQUENCE { [0] name-type, [1] SEQUENCE OF KerberosString }`)
/// inside a field's content, its parts joined with `/`.
fn principal(b: &[u8]) -> Option<String> {
    let names = seq_of(field(seq_of(b)?, 1)?)?;
    let parts: Vec<String> = children(names)
        .filter(is_string)
        .map(|t| String::from_utf8_lossy(t.content).into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Parses one Kerberos message (without a TCP record mark).
pub fn parse(data: &[u8]) -> Option<Msg> {
    let (app, _) = tlv(data)?;
    let kind = match app.tag {
        0x6a => Kind::AsReq,
        0x6c => Kind::TgsReq,
        0x6b => Kind::AsRep,
        0x6d => Kind::TgsRep,
        0x7e => Kind::Error,
        _ => return None,
    };
    let seq = seq_of(app.content)?;
    let mut m = Msg { kind, ..Msg::default() };
    match kind {
        Kind::AsReq | Kind::TgsReq => {
            // pvno [1] must be 5; msg-type [2] must agree with the application tag.
            if int(field(seq, 1)?)? != 5 {
                return None;
            }
            let body = seq_of(field(seq, 4)?)?;
            if let Some(opts) = field(body, 0).and_then(|b| tlv(b)).map(|(t, _)| t) {
                // BIT STRING: unused-bits byte, then flags; bit 1 forwardable (0x40 of the
                // first octet), bit 8 renewable (0x80 of the second).
                if opts.tag == 0x03 {
                    let f = opts.content.get(1..).unwrap_or_default();
                    m.forwardable = f.first().map(|b| b & 0x40 != 0);
                    m.renewable = f.get(1).map(|b| b & 0x80 != 0);
                }
            }
            m.cname = field(body, 1).and_then(principal);
            m.realm = field(body, 2).and_then(string);
            m.sname = field(body, 3).and_then(principal);
        }
        Kind::AsRep | Kind::TgsRep => {
            if int(field(seq, 0)?)? != 5 {
                return None;
            }
            m.realm = field(seq, 3).and_then(string);
            m.cname = field(seq, 4).and_then(principal);
            // ticket [5]: APPLICATION 1 { SEQUENCE { [1] realm, [2] sname, [3] enc-part } }
            if let Some(ticket) = field(seq, 5).and_then(|b| tlv(b)).map(|(t, _)| t) {
                if let Some(t) = (ticket.tag == 0x61).then(|| seq_of(ticket.content)).flatten() {
                    m.sname = field(t, 2).and_then(principal);
                    m.etype = field(t, 3).and_then(seq_of).and_then(|e| field(e, 0)).and_then(int);
                }
            }
        }
        Kind::Error => {
            if int(field(seq, 0)?)? != 5 {
                return None;
            }
            m.error = Some(int(field(seq, 6)?)?);
            m.realm = field(seq, 9).and_then(string);
            m.cname = field(seq, 8).and_then(principal);
            m.sname = field(seq, 10).and_then(principal);
        }
    }
    Some(m)
}

/// Whether a TCP payload starts like a Kerberos message behind a record mark.
pub fn looks_like_tcp(data: &[u8]) -> bool {
    match (data.get(..4), data.get(4)) {
        (Some(mark), Some(app)) => {
            let len = u32::from_be_bytes([mark[0], mark[1], mark[2], mark[3]]);
            len > 0 && len < 1 << 20 && matches!(app, 0x6a | 0x6b | 0x6c | 0x6d | 0x7e)
        }
        _ => false,
    }
}

/// Zeek's name of an encryption type (`cipher` in `kerberos.log`).
pub fn etype_name(e: i64) -> Option<&'static str> {
    Some(match e {
        1 => "des-cbc-crc",
        2 => "des-cbc-md4",
        3 => "des-cbc-md5",
        16 => "des3-cbc-sha1",
        17 => "aes128-cts-hmac-sha1-96",
        18 => "aes256-cts-hmac-sha1-96",
        19 => "aes128-cts-hmac-sha256-128",
        20 => "aes256-cts-hmac-sha384-192",
        23 => "rc4-hmac",
        24 => "rc4-hmac-exp",
        _ => return None,
    })
}

/// The RFC 4120 name of an error code, as Zeek logs it (`KDC_ERR_PREAUTH_REQUIRED`).
pub fn error_name(code: i64) -> Option<&'static str> {
    Some(match code {
        1 => "KDC_ERR_NAME_EXP",
        2 => "KDC_ERR_SERVICE_EXP",
        3 => "KDC_ERR_BAD_PVNO",
        6 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        7 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        8 => "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
        9 => "KDC_ERR_NULL_KEY",
        12 => "KDC_ERR_POLICY",
        13 => "KDC_ERR_BADOPTION",
        14 => "KDC_ERR_ETYPE_NOSUPP",
        16 => "KDC_ERR_PADATA_TYPE_NOSUPP",
        18 => "KDC_ERR_CLIENT_REVOKED",
        23 => "KDC_ERR_KEY_EXPIRED",
        24 => "KDC_ERR_PREAUTH_FAILED",
        25 => "KDC_ERR_PREAUTH_REQUIRED",
        31 => "KRB_AP_ERR_BAD_INTEGRITY",
        32 => "KRB_AP_ERR_TKT_EXPIRED",
        34 => "KRB_AP_ERR_REPEAT",
        37 => "KRB_AP_ERR_SKEW",
        41 => "KRB_AP_ERR_MODIFIED",
        52 => "KRB_ERR_RESPONSE_TOO_BIG",
        60 => "KRB_ERR_GENERIC",
        68 => "KDC_ERR_WRONG_REALM",
        _ => return None,
    })
}

/// Test helpers: DER encoders for building messages.
#[cfg(test)]
pub(crate) mod build {
    /// One element.
    pub fn el(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend([0x81, n as u8]);
        } else {
            v.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }
    /// `[n] content`.
    pub fn ctx(n: u8, content: &[u8]) -> Vec<u8> {
        el(0xa0 | n, content)
    }
    /// An INTEGER.
    pub fn int(v: u8) -> Vec<u8> {
        el(0x02, &[v])
    }
    /// A GeneralString.
    pub fn gs(s: &str) -> Vec<u8> {
        el(0x1b, s.as_bytes())
    }
    /// A PrincipalName.
    pub fn principal(parts: &[&str]) -> Vec<u8> {
        let names: Vec<u8> = parts.iter().flat_map(|p| gs(p)).collect();
        el(0x30, &[ctx(0, &int(1)), ctx(1, &el(0x30, &names))].concat())
    }
    /// An AS-REQ (`tgs` false) or TGS-REQ.
    pub fn req(tgs: bool, cname: Option<&[&str]>, realm: &str, sname: &[&str]) -> Vec<u8> {
        let mut body = ctx(0, &el(0x03, &[0, 0x40, 0x80, 0, 0x10]));
        if let Some(c) = cname {
            body.extend(ctx(1, &principal(c)));
        }
        body.extend(ctx(2, &gs(realm)));
        body.extend(ctx(3, &principal(sname)));
        let seq =
            [ctx(1, &int(5)), ctx(2, &int(if tgs { 12 } else { 10 })), ctx(4, &el(0x30, &body))]
                .concat();
        el(if tgs { 0x6c } else { 0x6a }, &el(0x30, &seq))
    }
    /// An AS-REP or TGS-REP whose ticket is encrypted with `etype`.
    pub fn rep(tgs: bool, realm: &str, cname: &[&str], sname: &[&str], etype: u8) -> Vec<u8> {
        let enc = el(0x30, &[ctx(0, &int(etype)), ctx(2, &el(0x04, &[1, 2, 3]))].concat());
        let ticket = el(
            0x61,
            &el(
                0x30,
                &[ctx(0, &int(5)), ctx(1, &gs(realm)), ctx(2, &principal(sname)), ctx(3, &enc)]
                    .concat(),
            ),
        );
        let seq = [
            ctx(0, &int(5)),
            ctx(1, &int(if tgs { 13 } else { 11 })),
            ctx(3, &gs(realm)),
            ctx(4, &principal(cname)),
            ctx(5, &ticket),
            ctx(6, &enc),
        ]
        .concat();
        el(if tgs { 0x6d } else { 0x6b }, &el(0x30, &seq))
    }
    /// A KRB-ERROR.
    pub fn error(code: u8, realm: &str, sname: &[&str]) -> Vec<u8> {
        let seq = [
            ctx(0, &int(5)),
            ctx(1, &int(30)),
            ctx(4, &el(0x18, b"20200501070000Z")),
            ctx(5, &int(0)),
            ctx(6, &int(code)),
            ctx(9, &gs(realm)),
            ctx(10, &principal(sname)),
        ]
        .concat();
        el(0x7e, &el(0x30, &seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_replies_and_errors() {
        let r =
            parse(&build::req(false, Some(&["WS01$"]), "CORP.LOCAL", &["krbtgt", "CORP.LOCAL"]))
                .unwrap();
        assert_eq!(r.kind, Kind::AsReq);
        assert_eq!(r.cname.as_deref(), Some("WS01$"));
        assert_eq!(r.realm.as_deref(), Some("CORP.LOCAL"));
        assert_eq!(r.sname.as_deref(), Some("krbtgt/CORP.LOCAL"));
        assert_eq!((r.forwardable, r.renewable), (Some(true), Some(true)));
        let t = parse(&build::req(true, None, "CORP.LOCAL", &["cifs", "fs01"])).unwrap();
        assert_eq!((t.kind, t.cname, t.sname.as_deref()), (Kind::TgsReq, None, Some("cifs/fs01")));
        let a =
            parse(&build::rep(true, "CORP.LOCAL", &["alice"], &["MSSQLSvc", "db01"], 23)).unwrap();
        assert_eq!(a.kind, Kind::TgsRep);
        assert_eq!(a.etype.and_then(etype_name), Some("rc4-hmac"));
        assert_eq!(a.sname.as_deref(), Some("MSSQLSvc/db01"));
        assert_eq!(a.cname.as_deref(), Some("alice"));
        let e = parse(&build::error(25, "CORP.LOCAL", &["krbtgt", "CORP.LOCAL"])).unwrap();
        assert_eq!(e.kind, Kind::Error);
        assert_eq!(e.error.and_then(error_name), Some("KDC_ERR_PREAUTH_REQUIRED"));
        let mut tcp = (build::req(false, Some(&["u"]), "R", &["krbtgt", "R"]).len() as u32)
            .to_be_bytes()
            .to_vec();
        tcp.extend(build::req(false, Some(&["u"]), "R", &["krbtgt", "R"]));
        assert!(looks_like_tcp(&tcp));
    }

    #[test]
    fn garbage_and_cut_messages_are_refused() {
        let good = build::req(false, Some(&["WS01$"]), "CORP.LOCAL", &["krbtgt", "CORP.LOCAL"]);
        for n in 0..good.len() {
            assert_eq!(parse(&good[..n]), None, "cut at {n}");
        }
        assert_eq!(parse(b"\x6a\x84\xff\xff\xff\xff"), None);
        assert_eq!(parse(b"\x1f\x01\x00"), None);
        assert_eq!(parse(&[]), None);
    }
}
