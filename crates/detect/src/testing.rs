//! Test harness: decode files from `../shared/data` and drive detectors over them in
//! event-time order, the way the engine does (minus its streaming merge).

use std::path::Path;
use std::sync::Arc;

use dwell_decode::{DecodeOptions, FileDecoder};
use dwell_model::{Event, FileId, Timestamp};

use crate::{Baselines, Ctx, Detector, FindingSink, IntelSet, Metrics, OrgProfile, Pending};

/// Decodes every file (or every file in a directory) into one time-sorted list.
pub fn decode_all(paths: &[&Path]) -> Vec<Event> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<_> =
                std::fs::read_dir(p).unwrap().map(|e| e.unwrap().path()).collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(p.to_path_buf());
        }
    }
    // Certificates first, as the engine does, so ssl records carry them.
    let mut certs = dwell_decode::CertStore::new();
    for f in &files {
        if let Ok(d) = FileDecoder::open(f, FileId(0), &DecodeOptions::default()) {
            if d.log_hint() == Some("x509") {
                for ev in d {
                    if let dwell_model::Body::X509(c) = ev.body {
                        certs.insert(c);
                    }
                }
            }
        }
    }
    let opts = DecodeOptions { certs: Some(Arc::new(certs)), ..DecodeOptions::default() };
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let Ok(d) = FileDecoder::open(f, FileId(i as u32), &opts) else {
            continue;
        };
        out.extend(d);
    }
    out.sort_by_key(|e| e.ts());
    out
}

/// Runs one detector over events; returns its findings.
pub fn run(det: &mut dyn Detector, events: &[Event], profile: &OrgProfile) -> Vec<Pending> {
    let mut baselines = Baselines::new();
    let mut sink = FindingSink::new();
    let mut metrics = Metrics::default();
    let meta = det.meta();
    let mut last_mark = Timestamp::MIN;
    for ev in events {
        baselines.observe(ev, profile);
        let mut cx = Ctx::new(ev.ts(), meta, profile, &baselines, &mut sink, &mut metrics);
        det.on_event(ev, &mut cx);
        if ev.ts().secs_since(last_mark) >= 60.0 || last_mark == Timestamp::MIN {
            last_mark = ev.ts();
            let mut cx = Ctx::new(ev.ts(), meta, profile, &baselines, &mut sink, &mut metrics);
            det.on_watermark(ev.ts(), &mut cx);
        }
    }
    let end = events.last().map_or(Timestamp(0), Event::ts);
    let mut cx = Ctx::new(end, meta, profile, &baselines, &mut sink, &mut metrics);
    det.on_finish(&mut cx);
    sink.into_sorted()
}

/// A profile with the given internal networks.
pub fn profile_with_internal(nets: &[&str]) -> OrgProfile {
    let f = crate::ProfileFile {
        internal_networks: Some(nets.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    OrgProfile::from_file(f).unwrap()
}

/// An intel set from list text.
pub fn intel(text: &str) -> Arc<IntelSet> {
    let mut s = IntelSet::new();
    s.load("test-intel.txt", text);
    Arc::new(s)
}

/// Browsing to ever-new addresses, the traffic that fills a table of pairs: for 48
/// hours, each of `hosts` hosts (10.0.1.10 upwards) opens a TLS connection to
/// `per_hour` addresses (198.18.0.0/15) it never used before, sending `up` bytes.
pub fn fresh_destinations(hosts: u32, per_hour: u32, up: u64) -> Vec<Event> {
    let mut v = Vec::new();
    let spacing = 3600.0 / f64::from(hosts * per_hour);
    for h in 0..48u32 {
        for i in 0..hosts {
            for j in 0..per_hour {
                let k = i * per_hour + j;
                let t = f64::from(h) * 3600.0 + f64::from(k) * spacing;
                let n = h * hosts * per_hour + k;
                let dst = format!("198.18.{}.{}", n / 250, n % 250 + 1);
                let src = format!("10.0.1.{}", i + 10);
                v.push(ev::conn(t, &src, &dst, 443, up, 9_000, Some("ssl")));
            }
        }
    }
    v
}

/// Builders of synthetic events for unit tests.
pub mod ev {
    use dwell_model::*;

    fn hdr(t_s: f64) -> Header {
        Header {
            ts: Timestamp((t_s * 1e6) as i64),
            src: SourceRef { file: FileId(0), record: 1 },
            uid: None,
            community_id: None,
        }
    }

    fn flow(o: &str, r: &str, port: u16, proto: Proto) -> Flow {
        Flow {
            orig_h: o.parse().unwrap(),
            orig_p: 50000,
            resp_h: r.parse().unwrap(),
            resp_p: port,
            proto,
        }
    }

    /// A TCP connection at `t_s` seconds.
    pub fn conn(
        t_s: f64,
        o: &str,
        r: &str,
        port: u16,
        up: u64,
        down: u64,
        service: Option<&str>,
    ) -> Event {
        Event {
            header: hdr(t_s),
            body: Body::Conn(Box::new(Conn {
                service: service.map(Text::from),
                duration: Some(0.5),
                orig_bytes: Some(up),
                resp_bytes: Some(down),
                conn_state: Some("SF".into()),
                ..Conn::new(flow(o, r, port, Proto::Tcp))
            })),
        }
    }

    /// A UDP exchange.
    pub fn udp(t_s: f64, o: &str, r: &str, port: u16, up: u64, down: u64) -> Event {
        let mut e = conn(t_s, o, r, port, up, down, None);
        if let Body::Conn(c) = &mut e.body {
            c.flow.proto = Proto::Udp;
        }
        e
    }

    /// A DNS query and answer.
    pub fn dns(
        t_s: f64,
        client: &str,
        server: &str,
        q: &str,
        qtype: u16,
        rcode: u16,
        answers: &[&str],
    ) -> Event {
        Event {
            header: hdr(t_s),
            body: Body::Dns(Box::new(Dns {
                flow: flow(client, server, 53, Proto::Udp),
                msg: DnsMsg::Transaction,
                trans_id: None,
                rtt: None,
                query: Some(q.into()),
                qclass: Some(1),
                qtype: Some(qtype),
                qtype_name: dns::qtype_name(qtype).map(Text::from),
                rcode: Some(rcode),
                rcode_name: dns::rcode_name(rcode).map(Text::from),
                aa: None,
                tc: None,
                rd: None,
                ra: None,
                answers: answers.iter().map(|a| Text::from(*a)).collect(),
                ttls: vec![],
                rejected: None,
            })),
        }
    }

    /// A TLS session.
    pub fn tls(t_s: f64, o: &str, r: &str, sni: Option<&str>, cert: Option<Certificate>) -> Event {
        Event {
            header: hdr(t_s),
            body: Body::Tls(Box::new(Tls {
                flow: flow(o, r, 443, Proto::Tcp),
                version: Some("TLSv12".into()),
                cipher: None,
                curve: None,
                server_name: sni.map(Text::from),
                resumed: Some(false),
                established: Some(true),
                next_protocol: None,
                ssl_history: None,
                ja3: Some("72a589da586844d7f0818ce684948eea".into()),
                ja3s: None,
                ja4: None,
                ja4s: None,
                validation_status: None,
                subject: None,
                issuer: None,
                cert_chain_fps: vec![],
                cert_chain_fuids: vec![],
                cert: cert.map(std::sync::Arc::new),
            })),
        }
    }

    /// An HTTP request (`resp_len` bytes in the response).
    #[allow(clippy::too_many_arguments)] // a test builder mirroring http.log's columns
    pub fn http(
        t_s: f64,
        o: &str,
        r: &str,
        method: &str,
        host: &str,
        uri: &str,
        ua: &str,
        resp_len: u64,
    ) -> Event {
        Event {
            header: hdr(t_s),
            body: Body::Http(Box::new(Http {
                flow: flow(o, r, 80, Proto::Tcp),
                trans_depth: Some(1),
                method: Some(method.into()),
                host: Some(host.into()),
                uri: Some(uri.into()),
                referrer: None,
                version: Some("1.1".into()),
                user_agent: Some(ua.into()),
                origin: None,
                request_body_len: Some(0),
                response_body_len: Some(resp_len),
                status_code: Some(200),
                status_msg: None,
                username: None,
                orig_mime_types: vec![],
                resp_mime_types: vec![],
            })),
        }
    }

    /// A DCE/RPC call.
    pub fn dce(t_s: f64, o: &str, r: &str, endpoint: &str, operation: &str) -> Event {
        Event {
            header: hdr(t_s),
            body: Body::DceRpc(Box::new(DceRpc {
                flow: flow(o, r, 445, Proto::Tcp),
                rtt: None,
                named_pipe: None,
                endpoint: Some(endpoint.into()),
                operation: Some(operation.into()),
            })),
        }
    }

    /// A Windows record at `t_s` seconds on `computer`: `channel` `Sysmon` stands for
    /// Sysmon's operational log; fields as (name, value), Sysmon's names.
    pub fn win(t_s: f64, computer: &str, channel: &str, id: u32, fields: &[(&str, &str)]) -> Event {
        let channel =
            if channel == "Sysmon" { "Microsoft-Windows-Sysmon/Operational" } else { channel };
        let kind = dwell_model::WinKind::classify(channel, "", id);
        Event {
            header: hdr(t_s),
            body: Body::Win(Box::new(dwell_model::WinEvent {
                kind,
                computer: computer.into(),
                channel: channel.into(),
                provider: None,
                event_id: id,
                record_id: None,
                fields: fields.iter().copied().collect(),
            })),
        }
    }

    /// A Sysmon process start.
    pub fn proc(t_s: f64, computer: &str, parent: &str, image: &str, cmd: &str) -> Event {
        win(
            t_s,
            computer,
            "Sysmon",
            1,
            &[
                ("Image", image),
                ("CommandLine", cmd),
                ("ParentImage", parent),
                ("User", "CORP\\user"),
            ],
        )
    }
}
