//! Unit tests of the Zeek decoders on hand-written records.

use std::io::Cursor;

use dwell_model::{Body, DnsMsg, Event, FileId, Proto};

use super::*;
use crate::input::LineReader;

fn decode(text: &str, enc: Encoding) -> (Vec<Event>, FileStats) {
    let lines = LineReader::new(Box::new(Cursor::new(text.as_bytes().to_vec())), 1 << 16);
    let mut d = ZeekDecoder::new(lines, enc, FileId(3), None);
    let mut st = FileStats::default();
    let mut out = vec![];
    while let Some(e) = d.next_event(&mut st) {
        out.push(e);
    }
    (out, st)
}

const CONN_HDR: &str =
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n";

#[test]
fn tsv_conn_any_field_order() {
    let text = format!(
        "{CONN_HDR}#fields\tid.resp_p\tts\tid.orig_h\tid.orig_p\tid.resp_h\tproto\tduration\torig_bytes\tconn_state\tuid\n\
         443\t1700000000.000001\t10.0.0.5\t50000\t93.184.216.34\ttcp\t12.5\t1234\tSF\tCabc\n"
    );
    let (evs, st) = decode(&text, Encoding::Tsv);
    assert_eq!(evs.len(), 1, "{st:?}");
    let e = &evs[0];
    assert_eq!(e.header.ts.micros(), 1_700_000_000_000_001);
    assert_eq!(e.header.uid.as_deref(), Some("Cabc"));
    assert_eq!(e.header.src.record, 7);
    let Body::Conn(c) = &e.body else { panic!() };
    assert_eq!(c.flow.resp_p, 443);
    assert_eq!(c.flow.proto, Proto::Tcp);
    assert_eq!(c.duration, Some(12.5));
    assert_eq!(c.orig_bytes, Some(1234));
    assert_eq!(c.resp_bytes, None);
    assert_eq!(st.records, 1);
    assert_eq!(st.anomaly_total(), 0);
}

#[test]
fn tsv_unset_empty_sets_and_escapes() {
    let text = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
        #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype\trcode\tanswers\tTTLs\n\
        1.0\tC1\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\ta\\x09b.example\t16\t-\t(empty)\t(empty)\n\
        2.0\tC2\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\tc.example\t1\t0\t1.2.3.4,5.6.7.8\t60.0,30.0\n";
    let (evs, st) = decode(text, Encoding::Tsv);
    assert_eq!(evs.len(), 2, "{st:?}");
    let Body::Dns(d) = &evs[0].body else { panic!() };
    assert_eq!(d.query.as_deref(), Some("a\tb.example"));
    assert_eq!(d.qtype_name.as_deref(), Some("TXT"));
    assert_eq!(d.rcode, None);
    assert!(d.answers.is_empty());
    assert_eq!(d.msg, DnsMsg::Transaction);
    let Body::Dns(d) = &evs[1].body else { panic!() };
    assert_eq!(d.answers.len(), 2);
    assert_eq!(d.ttls, vec![60.0, 30.0]);
    assert_eq!(d.rcode_name.as_deref(), Some("NOERROR"));
}

#[test]
fn tsv_extra_trailing_columns_and_short_records() {
    let text = format!(
        "{CONN_HDR}#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
         1.0\tC1\t10.0.0.5\t1\t10.0.0.6\t2\ttcp\tMalicious\tC&C\n\
         2.0\tC2\t10.0.0.5\t1\t10.0.0.6\n"
    );
    let (evs, st) = decode(&text, Encoding::Tsv);
    assert_eq!(evs.len(), 2);
    assert_eq!(st.anomalies.get(&AnomalyKind::ShortRecord), Some(&1));
}

#[test]
fn tsv_bad_value_keeps_record_missing_ts_drops_it() {
    let text = format!(
        "{CONN_HDR}#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\torig_bytes\n\
         1.0\t10.0.0.5\t1\t10.0.0.6\t2\ttcp\tlots\n\
         xx\t10.0.0.5\t1\t10.0.0.6\t2\ttcp\t5\n\
         3.0\tnot-an-ip\t1\t10.0.0.6\t2\ttcp\t5\n"
    );
    let (evs, st) = decode(&text, Encoding::Tsv);
    assert_eq!(evs.len(), 1);
    assert_eq!(st.records, 3);
    assert_eq!(st.anomalies.get(&AnomalyKind::BadValue), Some(&1));
    assert_eq!(st.anomalies.get(&AnomalyKind::MissingField), Some(&2));
    assert!(st.samples.iter().any(|s| s.detail.contains("orig_bytes")));
}

#[test]
fn tsv_headers_repeat_midfile_and_unknown_paths_are_skipped() {
    let text = format!(
        "{CONN_HDR}#fields\tts\tid.orig_h\tid.resp_h\n1.0\t10.0.0.1\t10.0.0.2\n#close\t2024\n\
         #separator \\x09\n#path\tsoftware\n#fields\tts\thost\n2.0\t10.0.0.1\n\
         #path\tconn\n#fields\tid.resp_h\tid.orig_h\tts\n10.0.0.9\t10.0.0.8\t3.0\n"
    );
    let (evs, st) = decode(&text, Encoding::Tsv);
    assert_eq!(evs.len(), 2);
    let Body::Conn(c) = &evs[1].body else { panic!() };
    assert_eq!(c.flow.orig_h.to_string(), "10.0.0.8");
    assert_eq!(st.skipped.get("software"), Some(&1));
}

#[test]
fn tsv_custom_separator() {
    let text =
        "#separator \\x7c\n#set_separator|;\n#empty_field|(empty)\n#unset_field|-\n#path|conn\n\
        #fields|ts|id.orig_h|id.resp_h|service\n5.5|10.0.0.1|10.0.0.2|ssl\n";
    let (evs, _) = decode(text, Encoding::Tsv);
    let Body::Conn(c) = &evs[0].body else { panic!() };
    assert_eq!(c.service.as_deref(), Some("ssl"));
}

#[test]
fn json_both_key_styles_and_iso_ts() {
    let text = r#"{"_path":"conn","ts":"2020-05-01T07:02:02.186129Z","uid":"C1","id.orig_h":"10.0.1.5","id.orig_p":1,"id.resp_h":"10.0.0.4","id.resp_p":445,"proto":"tcp","orig_bytes":4000}
{"@stream":"conn","ts":1588316522.186129,"uid":"C2","id_orig_h":"10.0.1.5","id_orig_p":2,"id_resp_h":"10.0.0.4","id_resp_p":445,"proto":"tcp","resp_bytes":7}
"#;
    let (evs, st) = decode(text, Encoding::Json);
    assert_eq!(evs.len(), 2, "{st:?}");
    assert_eq!(evs[0].header.ts, evs[1].header.ts);
    let Body::Conn(c) = &evs[1].body else { panic!() };
    assert_eq!(c.flow.orig_p, 2);
    assert_eq!(c.resp_bytes, Some(7));
}

#[test]
fn json_infers_log_type_without_path() {
    let text = r#"{"ts":95.0,"id":"F1","certificate.version":3,"certificate.subject":"CN=a","certificate.issuer":"CN=a","certificate.not_valid_before":1500565628.0,"san.dns":["a","b"]}
{"ts":96.0,"id":"F2","certificate_version":3,"certificate_subject":"CN=b","certificate_issuer":"CN=c"}
"#;
    let (evs, _) = decode(text, Encoding::Json);
    assert_eq!(evs.len(), 2);
    let Body::X509(c) = &evs[0].body else { panic!() };
    assert_eq!(c.san_dns.len(), 2);
    assert_eq!(c.self_signed(), Some(true));
    let Body::X509(c) = &evs[1].body else { panic!() };
    assert_eq!(c.subject.as_deref(), Some("CN=b"));
    assert_eq!(c.self_signed(), Some(false));
}

#[test]
fn json_wrong_type_in_one_field_is_counted() {
    let text = r#"{"_path":"conn","ts":1.0,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","orig_bytes":"many","duration":[1]}
not json at all
{"_path":"conn","ts":{"nested":1},"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2"}
"#;
    let (evs, st) = decode(text, Encoding::Json);
    assert_eq!(evs.len(), 1);
    assert_eq!(st.records, 3);
    assert_eq!(st.anomalies.get(&AnomalyKind::BadValue), Some(&1));
    assert_eq!(st.anomalies.get(&AnomalyKind::BadJson), Some(&1));
    assert_eq!(st.anomalies.get(&AnomalyKind::MissingField), Some(&1));
}

#[test]
fn tsv_prefix_check() {
    assert!(check_tsv_prefix(b"#separator \\x09\n#path\tconn\n1.0\t2\n").is_err());
    assert_eq!(
        check_tsv_prefix(b"#separator \\x09\n#path\tconn\n#fields\tts\n1.0\n").unwrap().as_deref(),
        Some("conn")
    );
}
