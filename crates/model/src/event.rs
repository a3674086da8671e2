//! Normalised events: the one vocabulary every decoder produces and every detector reads.
//!
//! An [`Event`] is a [`Header`] (event time, where it came from, the flow it belongs to)
//! plus a [`Body`], a closed set of record kinds. Field names follow Zeek wherever Zeek
//! has the field, so that an analyst who knows `conn.log` knows these structs, and the
//! Suricata EVE decoder maps its vocabulary onto the same names (the field-mapping layer
//! STYLE asks for: EVE `tls` and Zeek `ssl.log` both become [`Tls`]).
//!
//! Large or rare variants are boxed so that an `Event` stays small: the batch pipeline
//! holds thousands of them in reorder buffers.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::time::Timestamp;
use crate::win::{WinEvent, WinKind};

/// Owned, immutable, shareable text. `Arc<str>` is two words (as `Box<str>`, where
/// `String` is three), and decoders share one allocation among the many records that
/// carry the same low-cardinality value (`service`, `conn_state`, `qtype_name`, ...).
pub type Text = Arc<str>;

/// Index of an input file in the run's file table (see the engine's `Inputs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FileId(pub u32);

/// Where a record came from: file and 1-based record number (the line for text formats,
/// the packet or record ordinal for binary ones).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceRef {
    /// The input file.
    pub file: FileId,
    /// 1-based record number within the file.
    pub record: u64,
}

/// Fields every event carries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Header {
    /// Event time (for flows: the first packet, as Zeek's `ts`).
    pub ts: Timestamp,
    /// Where in the input the record was.
    pub src: SourceRef,
    /// Flow identifier given by the source: Zeek `uid`, Suricata `flow_id`.
    pub uid: Option<Uid>,
    /// Community ID v1 (`1:...`) when the source computed it.
    pub community_id: Option<Text>,
}

/// Bytes a [`Uid`] holds without allocating: Zeek uids (18), Suricata flow ids (≤ 20
/// digits) and the flow meter's uids all fit.
const UID_INLINE: usize = 23;

/// A record or flow identifier (Zeek `uid`, Suricata `flow_id`), kept inside the event
/// when short, so that decoding one does not allocate (almost every record has one and
/// almost none is ever read again).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Uid(UidRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum UidRepr {
    Inline(Inline),
    Heap(Text),
}

/// Up to [`UID_INLINE`] bytes of text: `0[..len]` is the text, zeros follow, and the
/// last byte is `len`, so equal texts are equal values. Built from two fixed-size
/// pieces (16 + 8 bytes) and aligned, so the copies an event goes through read back
/// whole what was written whole (a byte-wise build read back with wide loads stalls
/// the CPU on every record).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, align(8))]
struct Inline([u8; 24]);

impl Inline {
    /// `None` when `s` is longer than [`UID_INLINE`].
    #[inline]
    fn new(s: &[u8]) -> Option<Self> {
        let n = s.len();
        if n > UID_INLINE {
            return None;
        }
        let mut b = [0u8; 24];
        if n >= 16 {
            // Bytes 16..n are the top of the last eight, shifted down.
            let mut lo = [0u8; 16];
            lo.copy_from_slice(s.get(..16)?);
            let mut last = [0u8; 8];
            last.copy_from_slice(s.get(n - 8..)?);
            let hi = u64::from_le_bytes(last).checked_shr(8 * (24 - n) as u32).unwrap_or(0)
                | (n as u64) << 56;
            b[..16].copy_from_slice(&lo);
            b[16..].copy_from_slice(&hi.to_le_bytes());
        } else {
            for (d, c) in b.iter_mut().zip(s) {
                *d = *c;
            }
            b[23] = n as u8;
        }
        Some(Inline(b))
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.get(..usize::from(self.0[23])).unwrap_or_default()
    }
}

impl Uid {
    /// The identifier in `b`, or `None` when `b` is not UTF-8. ASCII up to the inline
    /// length (every real uid) is taken without a UTF-8 check.
    #[inline]
    pub fn from_utf8(b: &[u8]) -> Option<Uid> {
        if b.is_ascii() {
            if let Some(i) = Inline::new(b) {
                return Some(Uid(UidRepr::Inline(i)));
            }
        }
        std::str::from_utf8(b).ok().map(Uid::from)
    }

    /// The identifier's text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always whole UTF-8: it was copied from a `&str` in `From`.
            UidRepr::Inline(b) => std::str::from_utf8(b.as_bytes()).unwrap_or_default(),
            UidRepr::Heap(t) => t,
        }
    }
}

impl From<&str> for Uid {
    #[inline]
    fn from(s: &str) -> Self {
        match Inline::new(s.as_bytes()) {
            Some(b) => Uid(UidRepr::Inline(b)),
            None => Uid(UidRepr::Heap(Text::from(s))),
        }
    }
}

impl From<u64> for Uid {
    /// Decimal digits (Suricata's `flow_id`), written without allocating.
    fn from(mut v: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        // ASCII digits: always text, and at most 20 bytes, so always inline.
        Uid::from(std::str::from_utf8(&digits[i..]).unwrap_or_default())
    }
}

impl From<String> for Uid {
    fn from(s: String) -> Self {
        Uid::from(s.as_str())
    }
}

impl std::ops::Deref for Uid {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Uid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Uid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Transport protocol of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6 (ports carry type and code, as in Zeek).
    Icmp,
    /// Anything else (Zeek's `unknown_transport`, SCTP, GRE...).
    Other,
}

impl Proto {
    /// Zeek's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Other => "unknown_transport",
        }
    }

    /// Parses Zeek (`tcp`) and Suricata (`TCP`, `IPv6-ICMP`) spellings.
    pub fn parse(s: &str) -> Proto {
        Proto::parse_bytes(s.as_bytes())
    }

    /// [`parse`](Self::parse) of bytes.
    pub fn parse_bytes(s: &[u8]) -> Proto {
        // Zeek's own spellings first, compared whole.
        match s {
            b"tcp" => return Proto::Tcp,
            b"udp" => return Proto::Udp,
            b"icmp" => return Proto::Icmp,
            _ => {}
        }
        if s.eq_ignore_ascii_case(b"tcp") {
            Proto::Tcp
        } else if s.eq_ignore_ascii_case(b"udp") {
            Proto::Udp
        } else if s.eq_ignore_ascii_case(b"icmp")
            || s.eq_ignore_ascii_case(b"ipv6-icmp")
            || s.eq_ignore_ascii_case(b"icmpv6")
            || s.eq_ignore_ascii_case(b"icmp6")
        {
            Proto::Icmp
        } else {
            Proto::Other
        }
    }
}

/// The five-tuple of a flow, oriented originator → responder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Flow {
    /// Originator address (`id.orig_h`).
    pub orig_h: IpAddr,
    /// Originator port (`id.orig_p`; ICMP type for ICMP).
    pub orig_p: u16,
    /// Responder address (`id.resp_h`).
    pub resp_h: IpAddr,
    /// Responder port (`id.resp_p`; ICMP code for ICMP).
    pub resp_p: u16,
    /// Transport protocol.
    pub proto: Proto,
}

/// One event: header plus body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Time, source and flow identifiers.
    pub header: Header,
    /// The record itself.
    pub body: Body,
}

/// Record kinds (a closed set; see DESIGN §2).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs)]
// each variant is documented on its struct
// Every variant is boxed (certificates shared), so an event stays small as it moves
// through the merge and the detectors.
pub enum Body {
    Conn(Box<Conn>),
    Dns(Box<Dns>),
    Tls(Box<Tls>),
    X509(Arc<Certificate>),
    Http(Box<Http>),
    File(Box<FileSeen>),
    Smb(Box<Smb>),
    DceRpc(Box<DceRpc>),
    Rdp(Box<Rdp>),
    Ntlm(Box<Ntlm>),
    Kerberos(Box<Kerberos>),
    Dhcp(Box<Dhcp>),
    Alert(Box<Alert>),
    Anomaly(Box<Anomaly>),
    /// A Windows event record (its kind is the record's [`WinKind`]).
    Win(Box<WinEvent>),
}

/// The kind of a [`Body`], for counting, filtering (`--kind`) and dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Kind {
    Conn,
    Dns,
    Tls,
    X509,
    Http,
    File,
    Smb,
    DceRpc,
    Rdp,
    Ntlm,
    Kerberos,
    Dhcp,
    Alert,
    Anomaly,
    Process,
    ImageLoad,
    NetConnect,
    ProcessAccess,
    FileCreate,
    RegistrySet,
    Pipe,
    DnsQuery,
    Logon,
    ServiceInstall,
    TaskCreate,
    ScriptBlock,
    LogCleared,
    ShareAccess,
    DirectoryAccess,
    WinOther,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [Kind] = &[
        Kind::Conn,
        Kind::Dns,
        Kind::Tls,
        Kind::X509,
        Kind::Http,
        Kind::File,
        Kind::Smb,
        Kind::DceRpc,
        Kind::Rdp,
        Kind::Ntlm,
        Kind::Kerberos,
        Kind::Dhcp,
        Kind::Alert,
        Kind::Anomaly,
        Kind::Process,
        Kind::ImageLoad,
        Kind::NetConnect,
        Kind::ProcessAccess,
        Kind::FileCreate,
        Kind::RegistrySet,
        Kind::Pipe,
        Kind::DnsQuery,
        Kind::Logon,
        Kind::ServiceInstall,
        Kind::TaskCreate,
        Kind::ScriptBlock,
        Kind::LogCleared,
        Kind::ShareAccess,
        Kind::DirectoryAccess,
        Kind::WinOther,
    ];

    /// snake_case name as used in output and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Conn => "conn",
            Kind::Dns => "dns",
            Kind::Tls => "tls",
            Kind::X509 => "x509",
            Kind::Http => "http",
            Kind::File => "file",
            Kind::Smb => "smb",
            Kind::DceRpc => "dce_rpc",
            Kind::Rdp => "rdp",
            Kind::Ntlm => "ntlm",
            Kind::Kerberos => "kerberos",
            Kind::Dhcp => "dhcp",
            Kind::Alert => "alert",
            Kind::Anomaly => "anomaly",
            Kind::Process => "process",
            Kind::ImageLoad => "image_load",
            Kind::NetConnect => "net_connect",
            Kind::ProcessAccess => "process_access",
            Kind::FileCreate => "file_create",
            Kind::RegistrySet => "registry_set",
            Kind::Pipe => "pipe",
            Kind::DnsQuery => "dns_query",
            Kind::Logon => "logon",
            Kind::ServiceInstall => "service_install",
            Kind::TaskCreate => "task_create",
            Kind::ScriptBlock => "script_block",
            Kind::LogCleared => "log_cleared",
            Kind::ShareAccess => "share_access",
            Kind::DirectoryAccess => "directory_access",
            Kind::WinOther => "win_other",
        }
    }

    /// The event kind of a Windows record kind.
    pub fn of_win(k: WinKind) -> Kind {
        match k {
            WinKind::Process => Kind::Process,
            WinKind::ImageLoad => Kind::ImageLoad,
            WinKind::NetConnect => Kind::NetConnect,
            WinKind::ProcessAccess => Kind::ProcessAccess,
            WinKind::FileCreate => Kind::FileCreate,
            WinKind::RegistrySet => Kind::RegistrySet,
            WinKind::Pipe => Kind::Pipe,
            WinKind::DnsQuery => Kind::DnsQuery,
            WinKind::Logon => Kind::Logon,
            WinKind::ServiceInstall => Kind::ServiceInstall,
            WinKind::TaskCreate => Kind::TaskCreate,
            WinKind::ScriptBlock => Kind::ScriptBlock,
            WinKind::LogCleared => Kind::LogCleared,
            WinKind::ShareAccess => Kind::ShareAccess,
            WinKind::DirectoryAccess => Kind::DirectoryAccess,
            WinKind::Other => Kind::WinOther,
        }
    }

    /// Whether the kind is a Windows endpoint record.
    pub fn is_endpoint(self) -> bool {
        self >= Kind::Process
    }

    /// Parses a kind name (`dce_rpc`, `ssl` as an alias of `tls`, `notice`/`weird` as aliases).
    pub fn parse(s: &str) -> Option<Kind> {
        let k = match s {
            "ssl" => Kind::Tls,
            "files" | "fileinfo" => Kind::File,
            "notice" => Kind::Alert,
            "weird" => Kind::Anomaly,
            "dcerpc" => Kind::DceRpc,
            "krb5" => Kind::Kerberos,
            _ => return Kind::ALL.iter().copied().find(|k| k.as_str() == s),
        };
        Some(k)
    }
}

impl Body {
    /// This body's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Body::Conn(_) => Kind::Conn,
            Body::Dns(_) => Kind::Dns,
            Body::Tls(_) => Kind::Tls,
            Body::X509(_) => Kind::X509,
            Body::Http(_) => Kind::Http,
            Body::File(_) => Kind::File,
            Body::Smb(_) => Kind::Smb,
            Body::DceRpc(_) => Kind::DceRpc,
            Body::Rdp(_) => Kind::Rdp,
            Body::Ntlm(_) => Kind::Ntlm,
            Body::Kerberos(_) => Kind::Kerberos,
            Body::Dhcp(_) => Kind::Dhcp,
            Body::Alert(_) => Kind::Alert,
            Body::Anomaly(_) => Kind::Anomaly,
            Body::Win(w) => Kind::of_win(w.kind),
        }
    }

    /// The flow the record belongs to, when it has one.
    pub fn flow(&self) -> Option<&Flow> {
        match self {
            Body::Conn(c) => Some(&c.flow),
            Body::Dns(d) => Some(&d.flow),
            Body::Tls(t) => Some(&t.flow),
            Body::Http(h) => Some(&h.flow),
            Body::Smb(s) => Some(&s.flow),
            Body::DceRpc(d) => Some(&d.flow),
            Body::Rdp(r) => Some(&r.flow),
            Body::Ntlm(n) => Some(&n.flow),
            Body::Kerberos(k) => Some(&k.flow),
            Body::File(f) => f.flow.as_ref(),
            Body::Dhcp(d) => d.flow.as_ref(),
            Body::Alert(a) => a.flow.as_ref(),
            Body::Anomaly(a) => a.flow.as_ref(),
            Body::X509(_) | Body::Win(_) => None,
        }
    }
}

impl Event {
    /// Shorthand for `self.body.kind()`.
    pub fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// Event time.
    pub fn ts(&self) -> Timestamp {
        self.header.ts
    }
}

/// A flow summary (Zeek `conn.log`, Suricata `flow`/`netflow`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conn {
    /// Five-tuple.
    pub flow: Flow,
    /// Application protocols detected, comma separated (`ssl,http`; EVE `app_proto`).
    pub service: Option<Text>,
    /// Seconds from first to last packet.
    pub duration: Option<f64>,
    /// Payload bytes sent by the originator.
    pub orig_bytes: Option<u64>,
    /// Payload bytes sent by the responder.
    pub resp_bytes: Option<u64>,
    /// Zeek connection state (`SF`, `S0`, `REJ`, ...).
    pub conn_state: Option<Text>,
    /// Whether the originator is local according to the sensor.
    pub local_orig: Option<bool>,
    /// Whether the responder is local according to the sensor.
    pub local_resp: Option<bool>,
    /// Bytes missed in content gaps.
    pub missed_bytes: Option<u64>,
    /// Zeek state history (`ShADadFf`).
    pub history: Option<Text>,
    /// Packets sent by the originator.
    pub orig_pkts: Option<u64>,
    /// IP-level bytes sent by the originator.
    pub orig_ip_bytes: Option<u64>,
    /// Packets sent by the responder.
    pub resp_pkts: Option<u64>,
    /// IP-level bytes sent by the responder.
    pub resp_ip_bytes: Option<u64>,
}

impl Conn {
    /// A flow summary of `flow` with nothing else known yet.
    pub fn new(flow: Flow) -> Conn {
        Conn {
            flow,
            service: None,
            duration: None,
            orig_bytes: None,
            resp_bytes: None,
            conn_state: None,
            local_orig: None,
            local_resp: None,
            missed_bytes: None,
            history: None,
            orig_pkts: None,
            orig_ip_bytes: None,
            resp_pkts: None,
            resp_ip_bytes: None,
        }
    }
}

/// What part of a DNS exchange a [`Dns`] record describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsMsg {
    /// Query and response in one record (Zeek `dns.log`).
    Transaction,
    /// The query alone (EVE `query`/`request`).
    Query,
    /// The response alone (EVE `answer`/`response`).
    Response,
}

/// A DNS query and/or response (Zeek `dns.log`, EVE `dns`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dns {
    /// Five-tuple, client → server.
    pub flow: Flow,
    /// Which part of the exchange this is.
    pub msg: DnsMsg,
    /// DNS transaction id.
    pub trans_id: Option<u16>,
    /// Round-trip time in seconds.
    pub rtt: Option<f64>,
    /// Queried name.
    pub query: Option<Text>,
    /// Query class number.
    pub qclass: Option<u16>,
    /// Query type number.
    pub qtype: Option<u16>,
    /// Query type name (`A`, `TXT`, ...).
    pub qtype_name: Option<Text>,
    /// Response code number.
    pub rcode: Option<u16>,
    /// Response code name (`NOERROR`, `NXDOMAIN`, ...).
    pub rcode_name: Option<Text>,
    /// Authoritative answer flag.
    pub aa: Option<bool>,
    /// Truncation flag.
    pub tc: Option<bool>,
    /// Recursion desired flag.
    pub rd: Option<bool>,
    /// Recursion available flag.
    pub ra: Option<bool>,
    /// Answer data (addresses, names, TXT strings).
    pub answers: Vec<Text>,
    /// TTLs of the answers, in seconds, parallel to `answers`.
    pub ttls: Vec<f64>,
    /// Whether the server rejected the query.
    pub rejected: Option<bool>,
}

/// A TLS session (Zeek `ssl.log`, EVE `tls`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tls {
    /// Five-tuple, client → server.
    pub flow: Flow,
    /// Negotiated version (`TLSv12`, `TLS 1.3`).
    pub version: Option<Text>,
    /// Negotiated cipher suite.
    pub cipher: Option<Text>,
    /// Elliptic curve of the key exchange.
    pub curve: Option<Text>,
    /// Server Name Indication sent by the client.
    pub server_name: Option<Text>,
    /// Whether the session was resumed.
    pub resumed: Option<bool>,
    /// Whether the handshake completed.
    pub established: Option<bool>,
    /// ALPN protocol chosen (`h2`).
    pub next_protocol: Option<Text>,
    /// Zeek's TLS message history.
    pub ssl_history: Option<Text>,
    /// JA3 client fingerprint (MD5 hex).
    pub ja3: Option<Text>,
    /// JA3S server fingerprint (MD5 hex).
    pub ja3s: Option<Text>,
    /// JA4 client fingerprint.
    pub ja4: Option<Text>,
    /// JA4S server fingerprint.
    pub ja4s: Option<Text>,
    /// Certificate validation result as the sensor saw it.
    pub validation_status: Option<Text>,
    /// Leaf certificate subject (as logged inline by the sensor).
    pub subject: Option<Text>,
    /// Leaf certificate issuer (as logged inline by the sensor).
    pub issuer: Option<Text>,
    /// Server certificate chain fingerprints (Zeek `cert_chain_fps`, leaf first).
    pub cert_chain_fps: Vec<Text>,
    /// Server certificate chain file ids (older Zeek `cert_chain_fuids`, leaf first).
    pub cert_chain_fuids: Vec<Text>,
    /// The leaf certificate, when the sensor logged it inline or it was joined from x509.
    pub cert: Option<Arc<Certificate>>,
}

/// An X.509 certificate (fields as in Zeek `x509.log`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Certificate {
    /// Zeek file id of the certificate (older Zeek versions key x509 records by it).
    pub id: Option<Text>,
    /// SHA-256 fingerprint, lowercase hex without separators.
    pub fingerprint_sha256: Option<Text>,
    /// SHA-1 fingerprint, lowercase hex without separators.
    pub fingerprint_sha1: Option<Text>,
    /// X.509 version.
    pub version: Option<u32>,
    /// Serial number (hex).
    pub serial: Option<Text>,
    /// Subject distinguished name.
    pub subject: Option<Text>,
    /// Issuer distinguished name.
    pub issuer: Option<Text>,
    /// Start of validity.
    pub not_valid_before: Option<Timestamp>,
    /// End of validity.
    pub not_valid_after: Option<Timestamp>,
    /// Public key algorithm.
    pub key_alg: Option<Text>,
    /// Signature algorithm.
    pub sig_alg: Option<Text>,
    /// Key type (`rsa`, `ecdsa`).
    pub key_type: Option<Text>,
    /// Key length in bits.
    pub key_length: Option<u32>,
    /// RSA exponent.
    pub exponent: Option<Text>,
    /// Curve of an EC key.
    pub curve: Option<Text>,
    /// Subject alternative names: DNS.
    pub san_dns: Vec<Text>,
    /// Subject alternative names: URI.
    pub san_uri: Vec<Text>,
    /// Subject alternative names: e-mail.
    pub san_email: Vec<Text>,
    /// Subject alternative names: IP.
    pub san_ip: Vec<IpAddr>,
    /// Basic constraints: CA flag.
    pub basic_constraints_ca: Option<bool>,
    /// Basic constraints: path length.
    pub basic_constraints_path_len: Option<u32>,
}

impl Certificate {
    /// Subject equals issuer. A self-issued certificate is self-signed in practice for
    /// the purposes of detection (a sensor log does not carry the signature check).
    pub fn self_signed(&self) -> Option<bool> {
        match (&self.subject, &self.issuer) {
            (Some(s), Some(i)) => Some(s == i),
            _ => None,
        }
    }

    /// Validity period in seconds.
    pub fn validity_s(&self) -> Option<f64> {
        Some(self.not_valid_after?.secs_since(self.not_valid_before?))
    }
}

/// One HTTP request/response pair (Zeek `http.log`, EVE `http`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Http {
    /// Five-tuple, client → server.
    pub flow: Flow,
    /// Position of the transaction in its connection (1-based).
    pub trans_depth: Option<u32>,
    /// Request method.
    pub method: Option<Text>,
    /// `Host` header.
    pub host: Option<Text>,
    /// Request URI.
    pub uri: Option<Text>,
    /// `Referer` header.
    pub referrer: Option<Text>,
    /// HTTP version.
    pub version: Option<Text>,
    /// `User-Agent` header.
    pub user_agent: Option<Text>,
    /// `Origin` header.
    pub origin: Option<Text>,
    /// Request body bytes.
    pub request_body_len: Option<u64>,
    /// Response body bytes.
    pub response_body_len: Option<u64>,
    /// Response status code.
    pub status_code: Option<u16>,
    /// Response status message.
    pub status_msg: Option<Text>,
    /// Basic-auth user name.
    pub username: Option<Text>,
    /// MIME types of request bodies.
    pub orig_mime_types: Vec<Text>,
    /// MIME types of response bodies.
    pub resp_mime_types: Vec<Text>,
}

/// A file seen in transit (Zeek `files.log`, EVE `fileinfo`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileSeen {
    /// Five-tuple, when the source logs it (newer Zeek, EVE).
    pub flow: Option<Flow>,
    /// Zeek file id.
    pub fuid: Option<Text>,
    /// Host that sent the file (older Zeek `tx_hosts`).
    pub tx_host: Option<IpAddr>,
    /// Host that received the file (older Zeek `rx_hosts`).
    pub rx_host: Option<IpAddr>,
    /// Protocol that carried it (`HTTP`, `SMB`, `SSL`).
    pub source: Option<Text>,
    /// Sniffed MIME type.
    pub mime_type: Option<Text>,
    /// File name when the protocol gave one.
    pub filename: Option<Text>,
    /// Bytes seen.
    pub seen_bytes: Option<u64>,
    /// Total size when known.
    pub total_bytes: Option<u64>,
    /// MD5 hex.
    pub md5: Option<Text>,
    /// SHA-1 hex.
    pub sha1: Option<Text>,
    /// SHA-256 hex.
    pub sha256: Option<Text>,
}

/// What an [`Smb`] record describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmbKind {
    /// A file action (Zeek `smb_files.log`).
    File,
    /// A tree connect to a share (Zeek `smb_mapping.log`).
    Mapping,
    /// A command transaction (EVE `smb`).
    Command,
}

/// SMB activity (Zeek `smb_files.log`/`smb_mapping.log`, EVE `smb`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Smb {
    /// Five-tuple, client → server.
    pub flow: Flow,
    /// Which record this is.
    pub record: SmbKind,
    /// Action or command (`SMB::FILE_OPEN`, `SMB2/CREATE`).
    pub action: Option<Text>,
    /// Share path (`\\\\DC01\\ADMIN$`).
    pub path: Option<Text>,
    /// File name.
    pub name: Option<Text>,
    /// File size.
    pub size: Option<u64>,
    /// Share type (`DISK`, `PIPE`).
    pub share_type: Option<Text>,
    /// Service of a tree connect.
    pub service: Option<Text>,
    /// Status of the command (EVE).
    pub status: Option<Text>,
}

/// A DCE/RPC call (Zeek `dce_rpc.log`, EVE `dcerpc`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DceRpc {
    /// Five-tuple, client → server.
    pub flow: Flow,
    /// Round-trip time in seconds.
    pub rtt: Option<f64>,
    /// Named pipe the call went over.
    pub named_pipe: Option<Text>,
    /// RPC endpoint (interface name, `svcctl`, `drsuapi`).
    pub endpoint: Option<Text>,
    /// Operation (`CreateServiceW`, `DRSGetNCChanges`).
    pub operation: Option<Text>,
}

/// An RDP connection (Zeek `rdp.log`, EVE `rdp`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rdp {
    /// Five-tuple, client → server.
    pub flow: Flow,
    /// Cookie (often the user name).
    pub cookie: Option<Text>,
    /// Connection result.
    pub result: Option<Text>,
    /// Security protocol chosen.
    pub security_protocol: Option<Text>,
    /// Client machine name.
    pub client_name: Option<Text>,
    /// Client build.
    pub client_build: Option<Text>,
    /// Certificate type.
    pub cert_type: Option<Text>,
    /// Encryption level.
    pub encryption_level: Option<Text>,
    /// Encryption method.
    pub encryption_method: Option<Text>,
}

/// An NTLM authentication (Zeek `ntlm.log`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ntlm {
    /// Five-tuple, client → server.
    pub flow: Flow,
    /// User name.
    pub username: Option<Text>,
    /// Client host name.
    pub hostname: Option<Text>,
    /// Domain name.
    pub domainname: Option<Text>,
    /// Server NetBIOS name.
    pub server_nb_computer_name: Option<Text>,
    /// Server DNS name.
    pub server_dns_computer_name: Option<Text>,
    /// Server tree name.
    pub server_tree_name: Option<Text>,
    /// Whether authentication succeeded.
    pub success: Option<bool>,
}

/// A Kerberos exchange (Zeek `kerberos.log`, EVE `krb5`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Kerberos {
    /// Five-tuple, client → server.
    pub flow: Flow,
    /// Request type (`AS`, `TGS`).
    pub request_type: Option<Text>,
    /// Client principal.
    pub client: Option<Text>,
    /// Service principal.
    pub service: Option<Text>,
    /// Whether the request succeeded.
    pub success: Option<bool>,
    /// Error message when it did not.
    pub error_msg: Option<Text>,
    /// Ticket cipher (`rc4-hmac` matters: Kerberoasting).
    pub cipher: Option<Text>,
    /// Forwardable flag.
    pub forwardable: Option<bool>,
    /// Renewable flag.
    pub renewable: Option<bool>,
}

/// A DHCP lease exchange (Zeek `dhcp.log`): ties an address to a host name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dhcp {
    /// Five-tuple of the exchange when logged.
    pub flow: Option<Flow>,
    /// Client MAC address.
    pub mac: Option<Text>,
    /// Address assigned to the client.
    pub assigned_addr: Option<IpAddr>,
    /// Address the client asked for.
    pub requested_addr: Option<IpAddr>,
    /// Host name the client sent.
    pub host_name: Option<Text>,
    /// FQDN the client sent.
    pub client_fqdn: Option<Text>,
    /// Domain given by the server.
    pub domain: Option<Text>,
    /// Lease time in seconds.
    pub lease_time: Option<f64>,
}

/// Who raised an [`Alert`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSource {
    /// A Zeek notice.
    ZeekNotice,
    /// A Suricata alert.
    Suricata,
}

/// A sensor's own alert, kept as evidence (Zeek `notice.log`, EVE `alert`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    /// Five-tuple when the alert is about a flow.
    pub flow: Option<Flow>,
    /// Which sensor raised it.
    pub source: AlertSource,
    /// Zeek notice type (`Scan::Port_Scan`) or Suricata signature text.
    pub signature: Text,
    /// Suricata signature id.
    pub signature_id: Option<u64>,
    /// Suricata category.
    pub category: Option<Text>,
    /// Suricata severity (1 = high, 3 = low).
    pub severity: Option<u8>,
    /// Human message (Zeek `msg`).
    pub msg: Option<Text>,
    /// Sub-message (Zeek `sub`).
    pub sub: Option<Text>,
    /// Source address (Zeek `src`, when there is no flow).
    pub src: Option<IpAddr>,
    /// Destination address (Zeek `dst`, when there is no flow).
    pub dst: Option<IpAddr>,
    /// Action taken (`allowed`, `blocked`) or Zeek `actions`.
    pub action: Option<Text>,
}

/// Who reported an [`Anomaly`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalySource {
    /// Zeek `weird.log`.
    ZeekWeird,
    /// Suricata `anomaly`.
    Suricata,
}

/// A protocol anomaly seen by the sensor (Zeek `weird.log`, EVE `anomaly`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Anomaly {
    /// Five-tuple when the anomaly is about a flow.
    pub flow: Option<Flow>,
    /// Which sensor reported it.
    pub source: AnomalySource,
    /// Name (`bad_TCP_checksum`, `APPLAYER_DETECT_PROTOCOL_ONLY_ONE_DIRECTION`).
    pub name: Text,
    /// Additional information.
    pub addl: Option<Text>,
    /// Layer or type (`decode`, `stream`, `applayer`).
    pub layer: Option<Text>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_keep_their_text() {
        for t in ["", "C4J4Th3PJpwUYZZ6gc", "1234567890123456789012", "12345678901234567890123"] {
            let u = Uid::from(t);
            assert_eq!(u.as_str(), t);
            assert_eq!(u, Uid::from(t.to_string()));
            assert_eq!(serde_json::to_string(&u).unwrap(), format!("\"{t}\""));
        }
        for v in [0u64, 7, 1_000_000, u64::MAX] {
            assert_eq!(Uid::from(v).as_str(), v.to_string());
            assert_eq!(Uid::from(v), Uid::from(v.to_string()));
        }
        assert_ne!(Uid::from("a"), Uid::from("b"));
        // Every length, inline and on the heap, keeps its exact text; a prefix differs.
        let all: String = ('A'..='Z').chain('a'..='z').collect();
        for n in 0..=all.len() {
            let t = &all[..n];
            assert_eq!(Uid::from(t).as_str(), t, "length {n}");
            if n > 0 {
                assert_ne!(Uid::from(t), Uid::from(&all[..n - 1]), "length {n}");
            }
        }
    }

    #[test]
    fn event_stays_small() {
        // Reorder buffers hold many events and every stage moves them: every body is
        // boxed, so an event is a header and a pointer. Catch accidental growth.
        assert!(std::mem::size_of::<Event>() <= 96, "{}", std::mem::size_of::<Event>());
    }

    #[test]
    fn kind_names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(Kind::parse("ssl"), Some(Kind::Tls));
        assert_eq!(Kind::parse("nope"), None);
    }
}
