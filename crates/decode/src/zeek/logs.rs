//! Zeek log types dwell models, their fields, and the builders that turn one record
//! into one [`Body`].
//!
//! Each log type has a field list that begins with the same eight names ([`COMMON`]), so
//! the header fields sit in the same slots everywhere. Builders are generic over
//! [`Rec`], so TSV and JSON records share them. Slot numbers come from
//! [`slot`](crate::value::slot) at compile time.

use std::sync::Arc;

use dwell_model::{
    dns, Alert, AlertSource, Anomaly, AnomalySource, Body, Certificate, Conn, DceRpc, Dhcp, Dns,
    DnsMsg, FileSeen, Flow, Http, Kerberos, Ntlm, Proto, Rdp, Smb, SmbKind, Text, Tls,
};

use crate::certs::CertStore;
use crate::value::{slot, FlowSlots, Get, Missing, Rec};

/// Log types dwell decodes into events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum LogType {
    Conn,
    Dns,
    Ssl,
    X509,
    Http,
    Files,
    SmbFiles,
    SmbMapping,
    DceRpc,
    Rdp,
    Ntlm,
    Kerberos,
    Notice,
    Weird,
    Dhcp,
}

/// Fields every list starts with, in these slots.
pub const COMMON: [&str; 8] =
    ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "community_id"];
const TS: usize = 0;
const UID: usize = 1;
const COMMUNITY_ID: usize = 7;
const FLOW: FlowSlots = FlowSlots { orig_h: 2, orig_p: 3, resp_h: 4, resp_p: 5, proto: Some(6) };

/// Slot of a field of the enclosing function's list `F`, computed at compile time
/// (a misspelt name fails the build).
macro_rules! f {
    ($name:literal) => {
        const { slot(F, $name) }
    };
}

macro_rules! field_list {
    ($name:ident = [$($f:literal),* $(,)?]) => {
        const $name: &[&str] = &[
            "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
            "community_id", $($f),*
        ];
    };
}

field_list!(
    CONN = [
        "service",
        "duration",
        "orig_bytes",
        "resp_bytes",
        "conn_state",
        "local_orig",
        "local_resp",
        "missed_bytes",
        "history",
        "orig_pkts",
        "orig_ip_bytes",
        "resp_pkts",
        "resp_ip_bytes",
    ]
);
field_list!(
    DNS = [
        "trans_id",
        "rtt",
        "query",
        "qclass",
        "qtype",
        "qtype_name",
        "rcode",
        "rcode_name",
        "AA",
        "TC",
        "RD",
        "RA",
        "answers",
        "TTLs",
        "rejected",
    ]
);
field_list!(
    SSL = [
        "version",
        "cipher",
        "curve",
        "server_name",
        "resumed",
        "next_protocol",
        "established",
        "ssl_history",
        "cert_chain_fps",
        "cert_chain_fuids",
        "subject",
        "issuer",
        "validation_status",
        "ja3",
        "ja3s",
        "ja4",
        "ja4s",
    ]
);
field_list!(
    X509 = [
        "id",
        "fingerprint",
        "certificate.version",
        "certificate.serial",
        "certificate.subject",
        "certificate.issuer",
        "certificate.not_valid_before",
        "certificate.not_valid_after",
        "certificate.key_alg",
        "certificate.sig_alg",
        "certificate.key_type",
        "certificate.key_length",
        "certificate.exponent",
        "certificate.curve",
        "san.dns",
        "san.uri",
        "san.email",
        "san.ip",
        "basic_constraints.ca",
        "basic_constraints.path_len",
    ]
);
field_list!(
    HTTP = [
        "trans_depth",
        "method",
        "host",
        "uri",
        "referrer",
        "version",
        "user_agent",
        "origin",
        "request_body_len",
        "response_body_len",
        "status_code",
        "status_msg",
        "username",
        "orig_mime_types",
        "resp_mime_types",
    ]
);
field_list!(
    FILES = [
        "fuid",
        "tx_hosts",
        "rx_hosts",
        "source",
        "mime_type",
        "filename",
        "seen_bytes",
        "total_bytes",
        "md5",
        "sha1",
        "sha256",
    ]
);
field_list!(SMB_FILES = ["action", "path", "name", "size"]);
field_list!(SMB_MAPPING = ["path", "service", "native_file_system", "share_type"]);
field_list!(DCE_RPC = ["rtt", "named_pipe", "endpoint", "operation"]);
field_list!(
    RDP = [
        "cookie",
        "result",
        "security_protocol",
        "client_name",
        "client_build",
        "cert_type",
        "encryption_level",
        "encryption_method",
    ]
);
field_list!(
    NTLM = [
        "username",
        "hostname",
        "domainname",
        "server_nb_computer_name",
        "server_dns_computer_name",
        "server_tree_name",
        "success",
    ]
);
field_list!(
    KERBEROS = [
        "request_type",
        "client",
        "service",
        "success",
        "error_msg",
        "cipher",
        "forwardable",
        "renewable",
    ]
);
field_list!(NOTICE = ["note", "msg", "sub", "src", "dst", "actions"]);
field_list!(WEIRD = ["name", "addl", "source"]);
field_list!(
    DHCP = [
        "mac",
        "assigned_addr",
        "requested_addr",
        "host_name",
        "client_fqdn",
        "domain",
        "lease_time",
        "client_addr",
        "server_addr",
    ]
);

impl LogType {
    /// Every modelled log type.
    pub const ALL: &'static [LogType] = &[
        LogType::Conn,
        LogType::Dns,
        LogType::Ssl,
        LogType::X509,
        LogType::Http,
        LogType::Files,
        LogType::SmbFiles,
        LogType::SmbMapping,
        LogType::DceRpc,
        LogType::Rdp,
        LogType::Ntlm,
        LogType::Kerberos,
        LogType::Notice,
        LogType::Weird,
        LogType::Dhcp,
    ];

    /// The log's `#path` name.
    pub fn path(self) -> &'static str {
        match self {
            LogType::Conn => "conn",
            LogType::Dns => "dns",
            LogType::Ssl => "ssl",
            LogType::X509 => "x509",
            LogType::Http => "http",
            LogType::Files => "files",
            LogType::SmbFiles => "smb_files",
            LogType::SmbMapping => "smb_mapping",
            LogType::DceRpc => "dce_rpc",
            LogType::Rdp => "rdp",
            LogType::Ntlm => "ntlm",
            LogType::Kerberos => "kerberos",
            LogType::Notice => "notice",
            LogType::Weird => "weird",
            LogType::Dhcp => "dhcp",
        }
    }

    /// The log type of a `#path` (or `_path`/`@stream`) value; `conn_long` (Corelight's
    /// interim records of long connections) reads as `conn`.
    pub fn from_path(p: &str) -> Option<LogType> {
        if p == "conn_long" || p == "conn-long" {
            return Some(LogType::Conn);
        }
        LogType::ALL.iter().copied().find(|t| t.path() == p)
    }

    /// The field list (slot order).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            LogType::Conn => CONN,
            LogType::Dns => DNS,
            LogType::Ssl => SSL,
            LogType::X509 => X509,
            LogType::Http => HTTP,
            LogType::Files => FILES,
            LogType::SmbFiles => SMB_FILES,
            LogType::SmbMapping => SMB_MAPPING,
            LogType::DceRpc => DCE_RPC,
            LogType::Rdp => RDP,
            LogType::Ntlm => NTLM,
            LogType::Kerberos => KERBEROS,
            LogType::Notice => NOTICE,
            LogType::Weird => WEIRD,
            LogType::Dhcp => DHCP,
        }
    }

    /// Guesses the log type of a JSON record from its keys, for Zeek JSON written without
    /// `_path`. Each rule names keys only that log has; `keys` holds the normalised names
    /// (`id_orig_h` spelled `id.orig_h`).
    pub fn infer(has: impl Fn(&str) -> bool) -> Option<LogType> {
        let t = if has("conn_state") || (has("orig_ip_bytes") && has("history")) {
            LogType::Conn
        } else if has("qtype_name") || has("rcode_name") || (has("trans_id") && has("query")) {
            LogType::Dns
        } else if has("certificate.subject") || has("certificate.serial") {
            LogType::X509
        } else if has("cipher") || has("server_name") || has("ssl_history") || has("ja3") {
            LogType::Ssl
        } else if has("trans_depth") || (has("method") && has("uri")) {
            LogType::Http
        } else if has("fuid") && (has("mime_type") || has("seen_bytes") || has("analyzers")) {
            LogType::Files
        } else if has("share_type") || has("native_file_system") {
            LogType::SmbMapping
        } else if has("action") && has("path") && has("name") {
            LogType::SmbFiles
        } else if has("named_pipe") || (has("endpoint") && has("operation")) {
            LogType::DceRpc
        } else if has("security_protocol") || (has("cookie") && has("result")) {
            LogType::Rdp
        } else if has("server_nb_computer_name") || has("domainname") {
            LogType::Ntlm
        } else if has("request_type") && (has("client") || has("service")) {
            LogType::Kerberos
        } else if has("note") {
            LogType::Notice
        } else if has("name") && (has("addl") || has("notice") || has("peer")) {
            LogType::Weird
        } else if has("assigned_addr") || has("msg_types") || has("lease_time") {
            LogType::Dhcp
        } else {
            return None;
        };
        Some(t)
    }

    /// Builds the body of one record. `certs` joins `ssl` records to `x509` ones.
    pub fn build<R: Rec + ?Sized>(
        self,
        g: &mut Get<'_, R>,
        certs: Option<&CertStore>,
    ) -> Result<Body, Missing> {
        Ok(match self {
            LogType::Conn => Body::Conn(Box::new(conn(g)?)),
            LogType::Dns => Body::Dns(Box::new(dns(g)?)),
            LogType::Ssl => Body::Tls(Box::new(ssl(g, certs)?)),
            LogType::X509 => Body::X509(Arc::new(x509(g))),
            LogType::Http => Body::Http(Box::new(http(g)?)),
            LogType::Files => Body::File(Box::new(files(g))),
            LogType::SmbFiles => Body::Smb(Box::new(smb_files(g)?)),
            LogType::SmbMapping => Body::Smb(Box::new(smb_mapping(g)?)),
            LogType::DceRpc => Body::DceRpc(Box::new(dce_rpc(g)?)),
            LogType::Rdp => Body::Rdp(Box::new(rdp(g)?)),
            LogType::Ntlm => Body::Ntlm(Box::new(ntlm(g)?)),
            LogType::Kerberos => Body::Kerberos(Box::new(kerberos(g)?)),
            LogType::Notice => Body::Alert(Box::new(notice(g)?)),
            LogType::Weird => Body::Anomaly(Box::new(weird(g)?)),
            LogType::Dhcp => Body::Dhcp(Box::new(dhcp(g))),
        })
    }
}

/// The header fields: time (required), uid, community id.
pub fn header<R: Rec + ?Sized>(
    g: &mut Get<'_, R>,
) -> Result<(dwell_model::Timestamp, Option<dwell_model::Uid>, Option<Text>), Missing> {
    let ts = g.req_time(TS)?;
    Ok((ts, g.uid(UID), g.s_nonempty(COMMUNITY_ID)))
}

fn conn<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<Conn, Missing> {
    const F: &[&str] = CONN;
    Ok(Conn {
        flow: g.flow(FLOW, Proto::Other)?,
        service: g.sym(f!("service")),
        duration: g.f64(f!("duration")),
        orig_bytes: g.u64(f!("orig_bytes")),
        resp_bytes: g.u64(f!("resp_bytes")),
        conn_state: g.sym(f!("conn_state")),
        local_orig: g.bool(f!("local_orig")),
        local_resp: g.bool(f!("local_resp")),
        missed_bytes: g.u64(f!("missed_bytes")),
        history: g.sym(f!("history")),
        orig_pkts: g.u64(f!("orig_pkts")),
        orig_ip_bytes: g.u64(f!("orig_ip_bytes")),
        resp_pkts: g.u64(f!("resp_pkts")),
        resp_ip_bytes: g.u64(f!("resp_ip_bytes")),
    })
}

fn dns<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<Dns, Missing> {
    const F: &[&str] = DNS;
    let qtype = g.u16(f!("qtype"));
    let mut qtype_name = g.sym(f!("qtype_name"));
    if qtype_name.is_none() {
        qtype_name = qtype.and_then(dns::qtype_name).map(Text::from);
    }
    let rcode = g.u16(f!("rcode"));
    let mut rcode_name = g.sym(f!("rcode_name"));
    if rcode_name.is_none() {
        rcode_name = rcode.and_then(dns::rcode_name).map(Text::from);
    }
    Ok(Dns {
        flow: g.flow(FLOW, Proto::Udp)?,
        msg: DnsMsg::Transaction,
        trans_id: g.u16(f!("trans_id")),
        rtt: g.f64(f!("rtt")),
        query: g.s(f!("query")),
        qclass: g.u16(f!("qclass")),
        qtype,
        qtype_name,
        rcode,
        rcode_name,
        aa: g.bool(f!("AA")),
        tc: g.bool(f!("TC")),
        rd: g.bool(f!("RD")),
        ra: g.bool(f!("RA")),
        answers: g.list(f!("answers")),
        ttls: g.f64_list(f!("TTLs")),
        rejected: g.bool(f!("rejected")),
    })
}

fn ssl<R: Rec + ?Sized>(g: &mut Get<'_, R>, certs: Option<&CertStore>) -> Result<Tls, Missing> {
    const F: &[&str] = SSL;
    let cert_chain_fps = g.list(f!("cert_chain_fps"));
    let cert_chain_fuids = g.list(f!("cert_chain_fuids"));
    // The leaf is the first element of the chain.
    let cert = certs.and_then(|c| {
        cert_chain_fps
            .first()
            .and_then(|k| c.get(k))
            .or_else(|| cert_chain_fuids.first().and_then(|k| c.get(k)))
    });
    Ok(Tls {
        flow: g.flow(FLOW, Proto::Tcp)?,
        version: g.sym(f!("version")),
        cipher: g.sym(f!("cipher")),
        curve: g.sym(f!("curve")),
        server_name: g.s_nonempty(f!("server_name")),
        resumed: g.bool(f!("resumed")),
        established: g.bool(f!("established")),
        next_protocol: g.sym(f!("next_protocol")),
        ssl_history: g.sym(f!("ssl_history")),
        ja3: g.sym(f!("ja3")),
        ja3s: g.sym(f!("ja3s")),
        ja4: g.sym(f!("ja4")),
        ja4s: g.sym(f!("ja4s")),
        validation_status: g.sym(f!("validation_status")),
        // Zeek 5+ logs subject and issuer only in x509.log: take them from the
        // joined leaf certificate when ssl.log has none.
        subject: g
            .s_nonempty(f!("subject"))
            .or_else(|| cert.as_ref().and_then(|c| c.subject.clone())),
        issuer: g.s_nonempty(f!("issuer")).or_else(|| cert.as_ref().and_then(|c| c.issuer.clone())),
        cert_chain_fps,
        cert_chain_fuids,
        cert,
    })
}

fn x509<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Certificate {
    const F: &[&str] = X509;
    let fingerprint = g.s_nonempty(f!("fingerprint")).map(|f| normalise_hex(&f));
    // Zeek's `fingerprint` is SHA-256 by default but configurable; tell by length.
    let (fingerprint_sha256, fingerprint_sha1) = match fingerprint {
        Some(f) if f.len() == 40 => (None, Some(f)),
        other => (other, None),
    };
    Certificate {
        id: g.s_nonempty(f!("id")),
        fingerprint_sha256,
        fingerprint_sha1,
        version: g.u32(f!("certificate.version")),
        serial: g.s_nonempty(f!("certificate.serial")),
        subject: g.s_nonempty(f!("certificate.subject")),
        issuer: g.sym(f!("certificate.issuer")),
        not_valid_before: g.time(f!("certificate.not_valid_before")),
        not_valid_after: g.time(f!("certificate.not_valid_after")),
        key_alg: g.sym(f!("certificate.key_alg")),
        sig_alg: g.sym(f!("certificate.sig_alg")),
        key_type: g.sym(f!("certificate.key_type")),
        key_length: g.u32(f!("certificate.key_length")),
        exponent: g.sym(f!("certificate.exponent")),
        curve: g.sym(f!("certificate.curve")),
        san_dns: g.list(f!("san.dns")),
        san_uri: g.list(f!("san.uri")),
        san_email: g.list(f!("san.email")),
        san_ip: g.addr_list(f!("san.ip")),
        basic_constraints_ca: g.bool(f!("basic_constraints.ca")),
        basic_constraints_path_len: g.u32(f!("basic_constraints.path_len")),
    }
}

/// Lowercase hex without `:` separators (EVE writes `2d:d1:...`).
pub fn normalise_hex(s: &str) -> Text {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c != ':' {
            out.push(c.to_ascii_lowercase());
        }
    }
    out.into()
}

fn http<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<Http, Missing> {
    const F: &[&str] = HTTP;
    Ok(Http {
        flow: g.flow(FLOW, Proto::Tcp)?,
        trans_depth: g.u32(f!("trans_depth")),
        method: g.sym(f!("method")),
        host: g.s_nonempty(f!("host")),
        uri: g.s(f!("uri")),
        referrer: g.s_nonempty(f!("referrer")),
        version: g.sym(f!("version")),
        user_agent: g.sym(f!("user_agent")),
        origin: g.s_nonempty(f!("origin")),
        request_body_len: g.u64(f!("request_body_len")),
        response_body_len: g.u64(f!("response_body_len")),
        status_code: g.u16(f!("status_code")),
        status_msg: g.sym(f!("status_msg")),
        username: g.s_nonempty(f!("username")),
        orig_mime_types: g.list(f!("orig_mime_types")),
        resp_mime_types: g.list(f!("resp_mime_types")),
    })
}

fn files<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> FileSeen {
    const F: &[&str] = FILES;
    let flow = g.opt_flow(FLOW, Proto::Tcp);
    FileSeen {
        flow,
        fuid: g.s_nonempty(f!("fuid")),
        tx_host: g.addr_list(f!("tx_hosts")).first().copied(),
        rx_host: g.addr_list(f!("rx_hosts")).first().copied(),
        source: g.sym(f!("source")),
        mime_type: g.sym(f!("mime_type")),
        filename: g.s_nonempty(f!("filename")),
        seen_bytes: g.u64(f!("seen_bytes")),
        total_bytes: g.u64(f!("total_bytes")),
        md5: g.s_nonempty(f!("md5")),
        sha1: g.s_nonempty(f!("sha1")),
        sha256: g.s_nonempty(f!("sha256")),
    }
}

fn smb_files<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<Smb, Missing> {
    const F: &[&str] = SMB_FILES;
    Ok(Smb {
        flow: g.flow(FLOW, Proto::Tcp)?,
        record: SmbKind::File,
        action: g.sym(f!("action")),
        path: g.s_nonempty(f!("path")),
        name: g.s_nonempty(f!("name")),
        size: g.u64(f!("size")),
        share_type: None,
        service: None,
        status: None,
    })
}

fn smb_mapping<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<Smb, Missing> {
    const F: &[&str] = SMB_MAPPING;
    Ok(Smb {
        flow: g.flow(FLOW, Proto::Tcp)?,
        record: SmbKind::Mapping,
        action: None,
        path: g.s_nonempty(f!("path")),
        name: None,
        size: None,
        share_type: g.sym(f!("share_type")),
        service: g.sym(f!("service")),
        status: None,
    })
}

fn dce_rpc<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<DceRpc, Missing> {
    const F: &[&str] = DCE_RPC;
    Ok(DceRpc {
        flow: g.flow(FLOW, Proto::Tcp)?,
        rtt: g.f64(f!("rtt")),
        named_pipe: g.sym(f!("named_pipe")),
        endpoint: g.sym(f!("endpoint")),
        operation: g.sym(f!("operation")),
    })
}

fn rdp<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<Rdp, Missing> {
    const F: &[&str] = RDP;
    Ok(Rdp {
        flow: g.flow(FLOW, Proto::Tcp)?,
        cookie: g.s_nonempty(f!("cookie")),
        result: g.sym(f!("result")),
        security_protocol: g.sym(f!("security_protocol")),
        client_name: g.s_nonempty(f!("client_name")),
        client_build: g.s_nonempty(f!("client_build")),
        cert_type: g.sym(f!("cert_type")),
        encryption_level: g.sym(f!("encryption_level")),
        encryption_method: g.sym(f!("encryption_method")),
    })
}

fn ntlm<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<Ntlm, Missing> {
    const F: &[&str] = NTLM;
    Ok(Ntlm {
        flow: g.flow(FLOW, Proto::Tcp)?,
        username: g.s_nonempty(f!("username")),
        hostname: g.s_nonempty(f!("hostname")),
        domainname: g.sym(f!("domainname")),
        server_nb_computer_name: g.sym(f!("server_nb_computer_name")),
        server_dns_computer_name: g.sym(f!("server_dns_computer_name")),
        server_tree_name: g.s_nonempty(f!("server_tree_name")),
        success: g.bool(f!("success")),
    })
}

fn kerberos<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<Kerberos, Missing> {
    const F: &[&str] = KERBEROS;
    // kerberos.log has no `proto`; Kerberos runs over UDP and TCP 88 alike.
    Ok(Kerberos {
        flow: g.flow(FLOW, Proto::Other)?,
        request_type: g.sym(f!("request_type")),
        client: g.s_nonempty(f!("client")),
        service: g.sym(f!("service")),
        success: g.bool(f!("success")),
        error_msg: g.sym(f!("error_msg")),
        cipher: g.sym(f!("cipher")),
        forwardable: g.bool(f!("forwardable")),
        renewable: g.bool(f!("renewable")),
    })
}

fn notice<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<Alert, Missing> {
    const F: &[&str] = NOTICE;
    let note = g.s_nonempty(f!("note")).ok_or(Missing("note"))?;
    Ok(Alert {
        flow: g.opt_flow(FLOW, Proto::Other),
        source: AlertSource::ZeekNotice,
        signature: note,
        signature_id: None,
        category: None,
        severity: None,
        msg: g.s_nonempty(f!("msg")),
        sub: g.s_nonempty(f!("sub")),
        src: g.addr(f!("src")),
        dst: g.addr(f!("dst")),
        action: {
            let a = g.list(f!("actions"));
            (!a.is_empty()).then(|| a.join(",").into())
        },
    })
}

fn weird<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Result<Anomaly, Missing> {
    const F: &[&str] = WEIRD;
    let name = g.s_nonempty(f!("name")).ok_or(Missing("name"))?;
    Ok(Anomaly {
        flow: g.opt_flow(FLOW, Proto::Other),
        source: AnomalySource::ZeekWeird,
        name,
        addl: g.s_nonempty(f!("addl")),
        layer: g.sym(f!("source")),
    })
}

fn dhcp<R: Rec + ?Sized>(g: &mut Get<'_, R>) -> Dhcp {
    const F: &[&str] = DHCP;
    // Zeek ≥ 2.6 logs client_addr/server_addr instead of a five-tuple.
    let flow = g.opt_flow(FLOW, Proto::Udp).or_else(|| {
        let c = g.addr(f!("client_addr"))?;
        let s = g.addr(f!("server_addr"))?;
        Some(Flow { orig_h: c, orig_p: 68, resp_h: s, resp_p: 67, proto: Proto::Udp })
    });
    Dhcp {
        flow,
        mac: g.s_nonempty(f!("mac")),
        assigned_addr: g.addr(f!("assigned_addr")),
        requested_addr: g.addr(f!("requested_addr")),
        host_name: g.s_nonempty(f!("host_name")),
        client_fqdn: g.s_nonempty(f!("client_fqdn")),
        domain: g.sym(f!("domain")),
        lease_time: g.f64(f!("lease_time")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_start_with_common_and_have_no_duplicates() {
        for t in LogType::ALL {
            let f = t.fields();
            assert_eq!(&f[..8], &COMMON[..], "{t:?}");
            let mut seen = std::collections::HashSet::new();
            for n in f {
                assert!(seen.insert(*n), "{t:?} lists {n} twice");
            }
            assert!(f.len() <= crate::zeek::MAX_SLOTS, "{t:?} has too many fields");
            assert_eq!(LogType::from_path(t.path()), Some(*t));
        }
    }
}
