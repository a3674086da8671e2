//! Suricata EVE JSON: one event per line, mapped onto the Zeek-named model.
//!
//! Mapping (the field-mapping layer): `flow`/`netflow` → [`Conn`] (EVE byte counts
//! are packet bytes, so they land in `orig_ip_bytes`/`resp_ip_bytes`; payload bytes are
//! unknown), `dns` → [`Dns`] (all three layouts: v1 one record per answer, v2 with an
//! `answers` array or `grouped` map, v3 with `queries`/`answers` arrays and the
//! responder as `src_ip`), `tls` → [`Tls`] with the certificate inline, `http` →
//! [`Http`], `alert` → [`Alert`], `anomaly` → [`Anomaly`], `fileinfo` → [`FileSeen`],
//! `smb`, `rdp`, `krb5`, `dcerpc`, `dhcp` → their kinds. Other event types
//! (`stats`, `ssh`, `quic`, ...) are counted as skipped.
//!
//! The event time of a flow is `flow.start` (as Zeek's `ts`), not the time the flow
//! record was written; for everything else it is `timestamp`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use dwell_model::{
    dns as dnsnames, Alert, AlertSource, Anomaly, AnomalySource, Body, Certificate, Conn, DceRpc,
    Dhcp, Dns, DnsMsg, Event, FileId, FileSeen, Flow, Header, Http, Kerberos, Proto, Rdp, Smb,
    SmbKind, SourceRef, Text, Timestamp, Tls, Uid,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{AnomalyKind, FileStats};
use crate::input::LineReader;
use crate::value::{parse_addr, parse_u64};
use crate::zeek::logs::normalise_hex;

type S<'a> = Option<Cow<'a, str>>;

#[derive(Deserialize)]
struct Rec<'a> {
    #[serde(borrow)]
    timestamp: S<'a>,
    #[serde(borrow)]
    event_type: S<'a>,
    flow_id: Option<u64>,
    #[serde(borrow)]
    src_ip: S<'a>,
    src_port: Option<u16>,
    #[serde(borrow)]
    dest_ip: S<'a>,
    dest_port: Option<u16>,
    #[serde(borrow)]
    proto: Option<&'a RawValue>,
    icmp_type: Option<u16>,
    icmp_code: Option<u16>,
    #[serde(borrow)]
    app_proto: S<'a>,
    #[serde(borrow)]
    community_id: S<'a>,
    #[serde(borrow)]
    flow: Option<EveFlow<'a>>,
    #[serde(borrow)]
    netflow: Option<EveFlow<'a>>,
    #[serde(borrow)]
    dns: Option<EveDns<'a>>,
    #[serde(borrow)]
    tls: Option<EveTls<'a>>,
    #[serde(borrow)]
    http: Option<EveHttp<'a>>,
    #[serde(borrow)]
    alert: Option<EveAlert<'a>>,
    #[serde(borrow)]
    anomaly: Option<EveAnomaly<'a>>,
    #[serde(borrow)]
    fileinfo: Option<EveFileinfo<'a>>,
    #[serde(borrow)]
    smb: Option<EveSmb<'a>>,
    #[serde(borrow)]
    rdp: Option<EveRdp<'a>>,
    #[serde(borrow)]
    krb5: Option<EveKrb5<'a>>,
    #[serde(borrow)]
    dcerpc: Option<EveDcerpc<'a>>,
    #[serde(borrow)]
    dhcp: Option<EveDhcp<'a>>,
}

#[derive(Deserialize)]
struct EveFlow<'a> {
    pkts_toserver: Option<u64>,
    pkts_toclient: Option<u64>,
    bytes_toserver: Option<u64>,
    bytes_toclient: Option<u64>,
    // netflow: one direction
    pkts: Option<u64>,
    bytes: Option<u64>,
    #[serde(borrow)]
    start: S<'a>,
    #[serde(borrow)]
    end: S<'a>,
}

#[derive(Deserialize)]
struct EveDns<'a> {
    version: Option<u8>,
    #[serde(rename = "type", borrow)]
    typ: S<'a>,
    id: Option<u16>,
    aa: Option<bool>,
    tc: Option<bool>,
    rd: Option<bool>,
    ra: Option<bool>,
    #[serde(borrow)]
    rrname: S<'a>,
    #[serde(borrow)]
    rrtype: S<'a>,
    #[serde(borrow)]
    rcode: S<'a>,
    ttl: Option<u64>,
    #[serde(borrow)]
    rdata: Option<&'a RawValue>,
    #[serde(borrow)]
    answers: Option<Vec<EveDnsRr<'a>>>,
    #[serde(borrow)]
    grouped: Option<BTreeMap<Cow<'a, str>, Vec<&'a RawValue>>>,
    #[serde(borrow)]
    queries: Option<Vec<EveDnsRr<'a>>>,
}

#[derive(Deserialize)]
struct EveDnsRr<'a> {
    #[serde(borrow)]
    rrname: S<'a>,
    #[serde(borrow)]
    rrtype: S<'a>,
    ttl: Option<u64>,
    #[serde(borrow)]
    rdata: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct EveJa<'a> {
    #[serde(borrow)]
    hash: S<'a>,
}

#[derive(Deserialize)]
struct EveTls<'a> {
    #[serde(borrow)]
    subject: S<'a>,
    #[serde(borrow)]
    issuerdn: S<'a>,
    #[serde(borrow)]
    serial: S<'a>,
    #[serde(borrow)]
    fingerprint: S<'a>,
    #[serde(borrow)]
    sni: S<'a>,
    #[serde(borrow)]
    version: S<'a>,
    #[serde(borrow)]
    notbefore: S<'a>,
    #[serde(borrow)]
    notafter: S<'a>,
    #[serde(borrow)]
    ja3: Option<EveJa<'a>>,
    #[serde(borrow)]
    ja3s: Option<EveJa<'a>>,
    #[serde(borrow)]
    ja4: Option<&'a RawValue>,
    session_resumed: Option<bool>,
    #[serde(borrow)]
    server_alpns: Option<Vec<Cow<'a, str>>>,
}

#[derive(Deserialize)]
struct EveHttp<'a> {
    #[serde(borrow)]
    hostname: S<'a>,
    #[serde(borrow)]
    url: S<'a>,
    #[serde(borrow)]
    http_user_agent: S<'a>,
    #[serde(borrow)]
    http_method: S<'a>,
    #[serde(borrow)]
    protocol: S<'a>,
    #[serde(borrow)]
    status: Option<&'a RawValue>,
    length: Option<u64>,
    #[serde(borrow)]
    http_content_type: S<'a>,
    #[serde(borrow)]
    http_refer: S<'a>,
    #[serde(borrow)]
    origin: S<'a>,
}

#[derive(Deserialize)]
struct EveAlert<'a> {
    #[serde(borrow)]
    signature: S<'a>,
    signature_id: Option<u64>,
    #[serde(borrow)]
    category: S<'a>,
    severity: Option<u8>,
    #[serde(borrow)]
    action: S<'a>,
}

#[derive(Deserialize)]
struct EveAnomaly<'a> {
    #[serde(rename = "type", borrow)]
    typ: S<'a>,
    #[serde(borrow)]
    event: S<'a>,
    #[serde(borrow)]
    layer: S<'a>,
    #[serde(borrow)]
    app_proto: S<'a>,
}

#[derive(Deserialize)]
struct EveFileinfo<'a> {
    #[serde(borrow)]
    filename: S<'a>,
    #[serde(borrow)]
    magic: S<'a>,
    #[serde(borrow)]
    md5: S<'a>,
    #[serde(borrow)]
    sha1: S<'a>,
    #[serde(borrow)]
    sha256: S<'a>,
    size: Option<u64>,
}

#[derive(Deserialize)]
struct EveSmb<'a> {
    #[serde(borrow)]
    command: S<'a>,
    #[serde(borrow)]
    status: S<'a>,
    #[serde(borrow)]
    filename: S<'a>,
    #[serde(borrow)]
    share: S<'a>,
    #[serde(borrow)]
    share_type: S<'a>,
}

#[derive(Deserialize)]
struct EveRdpClient<'a> {
    #[serde(borrow)]
    client_name: S<'a>,
    #[serde(borrow)]
    build: S<'a>,
}

#[derive(Deserialize)]
struct EveRdp<'a> {
    #[serde(borrow)]
    event_type: S<'a>,
    #[serde(borrow)]
    cookie: S<'a>,
    #[serde(borrow)]
    protocol: S<'a>,
    #[serde(borrow)]
    client: Option<EveRdpClient<'a>>,
}

#[derive(Deserialize)]
struct EveKrb5<'a> {
    #[serde(borrow)]
    msg_type: S<'a>,
    #[serde(borrow)]
    failed_request: S<'a>,
    #[serde(borrow)]
    error_code: S<'a>,
    #[serde(borrow)]
    cname: S<'a>,
    #[serde(borrow)]
    realm: S<'a>,
    #[serde(borrow)]
    sname: S<'a>,
    #[serde(borrow)]
    encryption: S<'a>,
}

#[derive(Deserialize)]
struct EveDcerpcIface<'a> {
    #[serde(borrow)]
    uuid: S<'a>,
}

#[derive(Deserialize)]
struct EveDcerpcReq {
    opnum: Option<u64>,
}

#[derive(Deserialize)]
struct EveDcerpc<'a> {
    #[serde(borrow)]
    interfaces: Option<Vec<EveDcerpcIface<'a>>>,
    req: Option<EveDcerpcReq>,
    #[serde(borrow)]
    request: S<'a>,
}

#[derive(Deserialize)]
struct EveDhcp<'a> {
    #[serde(borrow)]
    client_mac: S<'a>,
    #[serde(borrow)]
    assigned_ip: S<'a>,
    #[serde(borrow)]
    requested_ip: S<'a>,
    #[serde(borrow)]
    hostname: S<'a>,
    lease_time: Option<f64>,
}

fn t(s: &S<'_>) -> Option<Text> {
    s.as_deref().filter(|s| !s.is_empty()).map(Text::from)
}

fn raw_text(r: Option<&RawValue>) -> Option<Text> {
    let r = r?;
    let s = r.get();
    if s.starts_with('"') {
        serde_json::from_str::<String>(s).ok().filter(|s| !s.is_empty()).map(Text::from)
    } else if s == "null" || s.starts_with('{') || s.starts_with('[') {
        None
    } else {
        Some(Text::from(s))
    }
}

/// Zeek's spelling of a TLS version (`TLS 1.2` → `TLSv12`), for one vocabulary.
fn tls_version(v: &str) -> Text {
    match v {
        "TLS 1.0" | "TLSv1" => "TLSv10".into(),
        "TLS 1.1" => "TLSv11".into(),
        "TLS 1.2" => "TLSv12".into(),
        "TLS 1.3" => "TLSv13".into(),
        "SSLv3" | "SSL 3.0" => "SSLv3".into(),
        "SSLv2" | "SSL 2.0" => "SSLv2".into(),
        other => other.into(),
    }
}

/// Streaming decoder of one EVE file.
pub struct EveDecoder {
    lines: LineReader,
    file: FileId,
}

impl EveDecoder {
    /// A decoder over `lines`.
    pub fn new(lines: LineReader, file: FileId) -> Self {
        EveDecoder { lines, file }
    }

    /// Decompressed bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.lines.bytes
    }

    /// Decodes up to the next event; `None` at end of input.
    pub fn next_event(&mut self, stats: &mut FileStats) -> Option<Event> {
        loop {
            let (line_no, line) = self.lines.next_record(stats)?;
            // Validate UTF-8 once for the line so the parser need not per string.
            let text: std::borrow::Cow<'_, str> = match std::str::from_utf8(line) {
                Ok(t) => std::borrow::Cow::Borrowed(t),
                Err(_) => {
                    stats.anomaly(line_no, AnomalyKind::BadUtf8, "invalid UTF-8 replaced");
                    String::from_utf8_lossy(line)
                }
            };
            let rec: Rec<'_> = match serde_json::from_str(&text) {
                Ok(r) => r,
                Err(e) => {
                    stats.anomaly(line_no, AnomalyKind::BadJson, e);
                    continue;
                }
            };
            let file = self.file;
            match convert(&rec, stats, line_no) {
                Ok(Some((ts, body))) => {
                    *stats.events.entry(body.kind()).or_default() += 1;
                    let header = Header {
                        ts,
                        src: SourceRef { file, record: line_no },
                        uid: rec.flow_id.map(Uid::from),
                        community_id: t(&rec.community_id),
                    };
                    return Some(Event { header, body });
                }
                Ok(None) => {}
                Err(why) => stats.anomaly(line_no, AnomalyKind::MissingField, why),
            }
        }
    }
}

/// The five-tuple of a record, `src → dest`; `None` when addresses are missing.
fn flow_of(r: &Rec<'_>) -> Result<Option<Flow>, String> {
    let (Some(src), Some(dst)) = (r.src_ip.as_deref(), r.dest_ip.as_deref()) else {
        return Ok(None);
    };
    let orig_h = parse_addr(src).ok_or_else(|| format!("bad src_ip {src:?}"))?;
    let resp_h = parse_addr(dst).ok_or_else(|| format!("bad dest_ip {dst:?}"))?;
    let proto = match r.proto.map(RawValue::get) {
        Some(p) if p.starts_with('"') => Proto::parse(p.trim_matches('"')),
        Some(n) => match parse_u64(n) {
            Some(6) => Proto::Tcp,
            Some(17) => Proto::Udp,
            Some(1 | 58) => Proto::Icmp,
            _ => Proto::Other,
        },
        None => Proto::Other,
    };
    let (orig_p, resp_p) = if proto == Proto::Icmp {
        (r.icmp_type.or(r.src_port).unwrap_or(0), r.icmp_code.or(r.dest_port).unwrap_or(0))
    } else {
        (r.src_port.unwrap_or(0), r.dest_port.unwrap_or(0))
    };
    Ok(Some(Flow { orig_h, orig_p, resp_h, resp_p, proto }))
}

fn swap(f: Flow) -> Flow {
    Flow { orig_h: f.resp_h, orig_p: f.resp_p, resp_h: f.orig_h, resp_p: f.orig_p, proto: f.proto }
}

fn time(s: &S<'_>) -> Option<Timestamp> {
    s.as_deref().and_then(Timestamp::parse_rfc3339)
}

type Converted = Option<(Timestamp, Body)>;

/// Maps one record; `Ok(None)` for skipped types, `Err` for unusable records.
fn convert(r: &Rec<'_>, stats: &mut FileStats, line_no: u64) -> Result<Converted, String> {
    let etype = r.event_type.as_deref().ok_or("no event_type")?;
    let ts = time(&r.timestamp).ok_or("no or bad timestamp")?;
    let flow = flow_of(r)?;
    let need_flow = || flow.ok_or_else(|| format!("{etype} record without src_ip/dest_ip"));
    let body = match etype {
        "flow" | "netflow" => {
            let f = r.flow.as_ref().or(r.netflow.as_ref()).ok_or("flow record without flow")?;
            let start = time(&f.start).unwrap_or(ts);
            let end = time(&f.end);
            let conn = Conn {
                service: t(&r.app_proto).filter(|s| &**s != "failed"),
                duration: end.map(|e| e.secs_since(start).max(0.0)),
                orig_pkts: f.pkts_toserver.or(f.pkts),
                orig_ip_bytes: f.bytes_toserver.or(f.bytes),
                resp_pkts: f.pkts_toclient.or(if etype == "netflow" { Some(0) } else { None }),
                resp_ip_bytes: f.bytes_toclient.or(if etype == "netflow" { Some(0) } else { None }),
                ..Conn::new(need_flow()?)
            };
            return Ok(Some((start, Body::Conn(Box::new(conn)))));
        }
        "dns" => {
            let d = r.dns.as_ref().ok_or("dns record without dns object")?;
            Body::Dns(Box::new(dns(d, need_flow()?, stats, line_no)))
        }
        "tls" => {
            let x = r.tls.as_ref().ok_or("tls record without tls object")?;
            Body::Tls(Box::new(tls(x, need_flow()?)))
        }
        "http" => {
            let h = r.http.as_ref().ok_or("http record without http object")?;
            Body::Http(Box::new(http(h, need_flow()?)))
        }
        "alert" => {
            let a = r.alert.as_ref().ok_or("alert record without alert object")?;
            Body::Alert(Box::new(Alert {
                flow,
                source: AlertSource::Suricata,
                signature: t(&a.signature).unwrap_or_else(|| "(no signature)".into()),
                signature_id: a.signature_id,
                category: t(&a.category),
                severity: a.severity,
                msg: None,
                sub: None,
                src: None,
                dst: None,
                action: t(&a.action),
            }))
        }
        "anomaly" => {
            let a = r.anomaly.as_ref().ok_or("anomaly record without anomaly object")?;
            let name = t(&a.event).or_else(|| t(&a.typ)).unwrap_or_else(|| "(unnamed)".into());
            Body::Anomaly(Box::new(Anomaly {
                flow,
                source: AnomalySource::Suricata,
                name,
                addl: t(&a.app_proto),
                layer: t(&a.layer).or_else(|| t(&a.typ)),
            }))
        }
        "fileinfo" => {
            let f = r.fileinfo.as_ref().ok_or("fileinfo record without fileinfo object")?;
            Body::File(Box::new(FileSeen {
                flow,
                fuid: None,
                tx_host: None,
                rx_host: None,
                source: t(&r.app_proto).map(|s| s.to_ascii_uppercase().into()),
                mime_type: t(&f.magic),
                filename: t(&f.filename),
                seen_bytes: f.size,
                total_bytes: None,
                md5: t(&f.md5),
                sha1: t(&f.sha1),
                sha256: t(&f.sha256),
            }))
        }
        "smb" => {
            let s = r.smb.as_ref().ok_or("smb record without smb object")?;
            Body::Smb(Box::new(Smb {
                flow: need_flow()?,
                record: SmbKind::Command,
                action: t(&s.command),
                path: t(&s.share),
                name: t(&s.filename),
                size: None,
                share_type: t(&s.share_type),
                service: None,
                status: t(&s.status),
            }))
        }
        "rdp" => {
            let x = r.rdp.as_ref().ok_or("rdp record without rdp object")?;
            Body::Rdp(Box::new(Rdp {
                flow: need_flow()?,
                cookie: t(&x.cookie),
                result: t(&x.event_type),
                security_protocol: t(&x.protocol),
                client_name: x.client.as_ref().and_then(|c| t(&c.client_name)),
                client_build: x.client.as_ref().and_then(|c| t(&c.build)),
                cert_type: None,
                encryption_level: None,
                encryption_method: None,
            }))
        }
        "krb5" => {
            let k = r.krb5.as_ref().ok_or("krb5 record without krb5 object")?;
            let client = match (t(&k.cname), t(&k.realm)) {
                (Some(c), Some(realm)) => Some(format!("{c}@{realm}").into()),
                (c, _) => c,
            };
            let failed = t(&k.failed_request);
            Body::Kerberos(Box::new(Kerberos {
                flow: need_flow()?,
                request_type: t(&k.msg_type),
                client,
                service: t(&k.sname),
                success: Some(failed.is_none()),
                error_msg: t(&k.error_code).or(failed),
                cipher: t(&k.encryption),
                forwardable: None,
                renewable: None,
            }))
        }
        "dcerpc" => {
            let d = r.dcerpc.as_ref().ok_or("dcerpc record without dcerpc object")?;
            let endpoint = d.interfaces.as_ref().and_then(|i| i.first()).and_then(|i| t(&i.uuid));
            Body::DceRpc(Box::new(DceRpc {
                flow: need_flow()?,
                rtt: None,
                named_pipe: None,
                endpoint,
                operation: d
                    .req
                    .as_ref()
                    .and_then(|q| q.opnum)
                    .map(|n| Text::from(format!("opnum {n}")))
                    .or_else(|| t(&d.request)),
            }))
        }
        "dhcp" => {
            let d = r.dhcp.as_ref().ok_or("dhcp record without dhcp object")?;
            let addr =
                |s: &S<'_>| s.as_deref().and_then(parse_addr).filter(|a| !a.is_unspecified());
            Body::Dhcp(Box::new(Dhcp {
                flow,
                mac: t(&d.client_mac),
                assigned_addr: addr(&d.assigned_ip),
                requested_addr: addr(&d.requested_ip),
                host_name: t(&d.hostname),
                client_fqdn: None,
                domain: None,
                lease_time: d.lease_time,
            }))
        }
        other => {
            stats.skip(other);
            return Ok(None);
        }
    };
    Ok(Some((ts, body)))
}

fn rr_text(r: Option<&RawValue>) -> Option<Text> {
    raw_text(r)
}

fn dns(d: &EveDns<'_>, flow: Flow, stats: &mut FileStats, line_no: u64) -> Dns {
    let typ = d.typ.as_deref().unwrap_or("");
    let msg = match typ {
        "query" | "request" => DnsMsg::Query,
        _ => DnsMsg::Response,
    };
    // v3 responses carry the responder as src_ip; orient client → server as everywhere.
    let flow = if d.version == Some(3) && msg == DnsMsg::Response { swap(flow) } else { flow };
    let first_q = d.queries.as_ref().and_then(|q| q.first());
    let query = first_q.and_then(|q| t(&q.rrname)).or_else(|| t(&d.rrname));
    let qtype_name = first_q.and_then(|q| t(&q.rrtype)).or_else(|| t(&d.rrtype));
    let rcode_name = if msg == DnsMsg::Response { t(&d.rcode) } else { None };
    let mut answers = Vec::new();
    let mut ttls = Vec::new();
    if let Some(list) = &d.answers {
        for a in list {
            if let Some(x) = rr_text(a.rdata) {
                answers.push(x);
                ttls.push(a.ttl.unwrap_or(0) as f64);
            }
        }
    } else if let Some(g) = &d.grouped {
        for vals in g.values() {
            for v in vals {
                if let Some(x) = raw_text(Some(v)) {
                    answers.push(x);
                }
            }
        }
    } else if typ == "answer" {
        // v1: one record per answer RR.
        if let Some(x) = rr_text(d.rdata) {
            answers.push(x);
            ttls.push(d.ttl.unwrap_or(0) as f64);
        }
    }
    if d.queries.as_ref().is_some_and(|q| q.len() > 1) {
        // Multi-question messages are legal but rare (and a tunnelling trick); keep the first.
        stats.anomaly(line_no, AnomalyKind::BadValue, "dns message with several questions");
    }
    Dns {
        flow,
        msg,
        trans_id: d.id,
        rtt: None,
        qclass: Some(1),
        qtype: qtype_name.as_deref().and_then(dnsnames::qtype_number),
        qtype_name,
        rcode: rcode_name.as_deref().and_then(dnsnames::rcode_number),
        rcode_name,
        query,
        aa: d.aa,
        tc: d.tc,
        rd: d.rd,
        ra: d.ra,
        answers,
        ttls,
        rejected: None,
    }
}

fn tls(x: &EveTls<'_>, flow: Flow) -> Tls {
    let has_cert = x.subject.is_some() || x.fingerprint.is_some();
    let cert = has_cert.then(|| {
        Arc::new(Certificate {
            fingerprint_sha1: x.fingerprint.as_deref().map(normalise_hex),
            serial: x.serial.as_deref().map(|s| s.replace(':', "").into()),
            subject: t(&x.subject),
            issuer: t(&x.issuerdn),
            not_valid_before: time(&x.notbefore),
            not_valid_after: time(&x.notafter),
            ..Certificate::default()
        })
    });
    Tls {
        flow,
        version: x.version.as_deref().map(tls_version),
        cipher: None,
        curve: None,
        server_name: t(&x.sni),
        resumed: x.session_resumed,
        established: None,
        next_protocol: x.server_alpns.as_ref().and_then(|a| a.first()).map(|s| Text::from(&**s)),
        ssl_history: None,
        ja3: x.ja3.as_ref().and_then(|j| t(&j.hash)),
        ja3s: x.ja3s.as_ref().and_then(|j| t(&j.hash)),
        ja4: raw_text(x.ja4),
        ja4s: None,
        validation_status: None,
        subject: t(&x.subject),
        issuer: t(&x.issuerdn),
        cert_chain_fps: cert
            .as_ref()
            .and_then(|c| c.fingerprint_sha1.clone())
            .into_iter()
            .collect(),
        cert_chain_fuids: Vec::new(),
        cert,
    }
}

fn http(h: &EveHttp<'_>, flow: Flow) -> Http {
    let status_code = h.status.and_then(|s| {
        let s = s.get().trim_matches('"');
        parse_u64(s).and_then(|v| u16::try_from(v).ok())
    });
    Http {
        flow,
        trans_depth: None,
        method: t(&h.http_method),
        host: t(&h.hostname),
        uri: t(&h.url),
        referrer: t(&h.http_refer),
        version: t(&h.protocol),
        user_agent: t(&h.http_user_agent),
        origin: t(&h.origin),
        request_body_len: None,
        response_body_len: h.length,
        status_code,
        status_msg: None,
        username: None,
        orig_mime_types: Vec::new(),
        resp_mime_types: t(&h.http_content_type).into_iter().collect(),
    }
}

/// Used by tests: parse one EVE line alone.
#[cfg(test)]
pub(crate) fn decode_line(line: &str) -> (Option<Event>, FileStats) {
    let mut d = EveDecoder::new(
        LineReader::new(Box::new(std::io::Cursor::new(line.as_bytes().to_vec())), 1 << 20),
        FileId(0),
    );
    let mut st = FileStats::default();
    let ev = d.next_event(&mut st);
    (ev, st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_v3_response_is_reoriented() {
        let line = r#"{"timestamp":"2024-01-01T00:00:00.000000+0000","event_type":"dns","src_ip":"8.8.8.8","src_port":53,"dest_ip":"10.0.0.5","dest_port":5353,"proto":"UDP","dns":{"version":3,"type":"response","id":7,"rcode":"NXDOMAIN","queries":[{"rrname":"x.example.com","rrtype":"TXT"}]}}"#;
        let (ev, st) = decode_line(line);
        let ev = ev.unwrap();
        let Body::Dns(d) = &ev.body else { panic!() };
        assert_eq!(d.flow.orig_h.to_string(), "10.0.0.5");
        assert_eq!(d.flow.resp_p, 53);
        assert_eq!(d.msg, DnsMsg::Response);
        assert_eq!(d.query.as_deref(), Some("x.example.com"));
        assert_eq!(d.qtype, Some(16));
        assert_eq!(d.rcode, Some(3));
        assert_eq!(st.anomaly_total(), 0);
    }

    #[test]
    fn dns_v2_answers_and_grouped() {
        let v2 = r#"{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","src_ip":"10.0.0.5","src_port":1000,"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":{"version":2,"type":"answer","id":1,"rrname":"a.example","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"a.example","rrtype":"CNAME","ttl":30,"rdata":"b.example"},{"rrname":"b.example","rrtype":"A","ttl":60,"rdata":"1.2.3.4"}]}}"#;
        let (ev, _) = decode_line(v2);
        let Body::Dns(d) = &ev.unwrap().body else { panic!() };
        assert_eq!(d.answers.len(), 2);
        assert_eq!(d.ttls, vec![30.0, 60.0]);
        assert_eq!(d.flow.orig_h.to_string(), "10.0.0.5");
        let grouped = r#"{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","src_ip":"10.0.0.5","dest_ip":"10.0.0.1","proto":"UDP","dns":{"version":2,"type":"answer","rrname":"a.example","rrtype":"A","rcode":"NOERROR","grouped":{"A":["1.2.3.4","5.6.7.8"]}}}"#;
        let (ev, _) = decode_line(grouped);
        let Body::Dns(d) = &ev.unwrap().body else { panic!() };
        assert_eq!(d.answers.len(), 2);
    }

    #[test]
    fn flow_uses_start_time_and_ip_bytes() {
        let line = r#"{"timestamp":"2021-06-06T15:57:37.272281+0200","flow_id":44,"event_type":"flow","src_ip":"192.168.1.132","src_port":1900,"dest_ip":"192.168.1.129","dest_port":44232,"proto":"UDP","app_proto":"failed","flow":{"pkts_toserver":12,"pkts_toclient":0,"bytes_toserver":4056,"bytes_toclient":0,"start":"2021-06-06T16:38:55.855844+0200","end":"2021-06-06T16:38:56.963027+0200","state":"new"}}"#;
        let (ev, _) = decode_line(line);
        let ev = ev.unwrap();
        assert_eq!(ev.header.ts.to_string(), "2021-06-06T14:38:55.855844Z");
        assert_eq!(ev.header.uid.as_deref(), Some("44"));
        let Body::Conn(c) = &ev.body else { panic!() };
        assert_eq!(c.orig_ip_bytes, Some(4056));
        assert_eq!(c.service, None);
        assert!((c.duration.unwrap() - 1.107183).abs() < 1e-9);
    }

    #[test]
    fn wrong_type_is_a_counted_anomaly() {
        let line = r#"{"timestamp":"2021-06-06T15:57:37Z","event_type":"flow","src_ip":"1.2.3.4","src_port":"not a port","dest_ip":"5.6.7.8","dest_port":80,"proto":"TCP","flow":{}}"#;
        let (ev, st) = decode_line(line);
        assert!(ev.is_none());
        assert_eq!(st.anomalies.get(&AnomalyKind::BadJson), Some(&1));
        assert_eq!(st.records, 1);
    }

    #[test]
    fn tls_certificate_inline() {
        let line = r#"{"timestamp":"2021-06-06T16:54:00.074627+0200","flow_id":1,"event_type":"tls","src_ip":"192.168.1.129","src_port":60316,"dest_ip":"122.248.252.67","dest_port":55443,"proto":"TCP","tls":{"subject":"CN=www.myedimax.com","issuerdn":"CN=AlphaSSL CA","serial":"17:8E","fingerprint":"2d:d1:9f","sni":"www.myedimax.com","version":"TLS 1.1","notbefore":"2020-03-19T09:44:08","notafter":"2022-03-20T09:44:08","ja3":{"hash":"b720","string":"770"},"ja3s":{"hash":"ad90"}}}"#;
        let (ev, _) = decode_line(line);
        let Body::Tls(x) = &ev.unwrap().body else { panic!() };
        assert_eq!(x.version.as_deref(), Some("TLSv11"));
        assert_eq!(x.ja3.as_deref(), Some("b720"));
        let c = x.cert.as_ref().unwrap();
        assert_eq!(c.fingerprint_sha1.as_deref(), Some("2dd19f"));
        assert_eq!(c.serial.as_deref(), Some("178E"));
        assert_eq!(c.self_signed(), Some(false));
    }
}
