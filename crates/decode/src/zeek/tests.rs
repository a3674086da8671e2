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

/// Decodes `bytes` as Zeek TSV twice: with the direct paths and through the general
/// reader alone; both must give the same events and the same accounting.
///
/// Returns how many records the direct path took, and how many records there were.
fn assert_direct_equals_general(name: &str, direct: LineReader, general: LineReader) -> (u64, u64) {
    let run = |d: &mut ZeekDecoder| {
        let mut st = FileStats::default();
        let mut out = vec![];
        while let Some(e) = d.next_event(&mut st) {
            out.push(e);
        }
        (out, st)
    };
    let mut d = ZeekDecoder::new(direct, Encoding::Tsv, FileId(1), None);
    let (a, sa) = run(&mut d);
    let mut g = ZeekDecoder::new(general, Encoding::Tsv, FileId(1), None).general_only();
    let (b, sb) = run(&mut g);
    assert_eq!(g.direct_records(), 0);
    assert_eq!(a.len(), b.len(), "{name}: event counts differ");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "{name}: record {}", y.header.src.record);
    }
    assert_eq!(sa.records, sb.records, "{name}");
    assert_eq!(sa.events, sb.events, "{name}");
    assert_eq!(sa.skipped, sb.skipped, "{name}");
    assert_eq!(sa.anomalies, sb.anomalies, "{name}");
    assert_eq!(sa.samples, sb.samples, "{name}");
    (d.direct_records(), sa.records)
}

fn direct_equals_general(name: &str, text: &[u8]) -> (u64, u64) {
    assert_direct_equals_general(
        name,
        LineReader::from_vec(text.to_vec(), 1 << 16),
        LineReader::new(Box::new(Cursor::new(text.to_vec())), 1 << 16),
    )
}

/// The conn.log columns Zeek writes, with the community id plugin's.
const CONN_COLS: [&str; 22] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
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
    "tunnel_parents",
    "community_id",
];

/// A value a real conn.log holds in column `col`, varied by `k`.
fn usual(col: &str, k: u32) -> String {
    let k = u64::from(k);
    let pick = |opts: &[&str]| opts[k as usize % opts.len()].to_string();
    match col {
        "ts" => format!("{}.{:06}", 1_700_000_000 + k, k * 7919 % 1_000_000),
        "uid" => format!("C{:016x}", k * 2_654_435_761),
        "id.orig_h" => format!("10.{}.{}.{}", k % 4, k * 7 % 256, k * 13 % 254 + 1),
        "id.resp_h" => format!("{}.{}.{}.{}", k % 200 + 20, k * 3 % 256, k % 256, k % 254 + 1),
        "id.orig_p" | "id.resp_p" => (k * 7 % 65536).to_string(),
        "proto" => pick(&["tcp", "udp", "icmp"]),
        "service" => pick(&["ssl", "dns", "http", "-", "ssl,http"]),
        "duration" => format!("{}.{:06}", k % 100, k * 31 % 1_000_000),
        "conn_state" => pick(&["SF", "S0", "REJ", "RSTO", "OTH"]),
        "local_orig" | "local_resp" => pick(&["T", "F"]),
        "history" => pick(&["ShADadFf", "S", "Dd", "(empty)"]),
        "tunnel_parents" => "(empty)".into(),
        "community_id" => format!("1:{k:x}="),
        _ => (k * 104_729 % [10, 1000, 100_000_000, 1 << 40][k as usize % 4]).to_string(),
    }
}

/// Values that are unusual in some column: markers, escapes, non-ASCII, IPv6, numbers
/// out of range or in other spellings, times as text.
const ODD: &[&str] = &[
    "-",
    "(empty)",
    "",
    "a\\x09b",
    "\\\\",
    "é",
    "fe80::1",
    "fe80::1%eth0",
    "2001:db8::1",
    "::ffff:10.0.0.1",
    "99999999999999999999",
    "18446744073709551616",
    "123456789",
    "70000",
    "65535",
    "-1",
    "1e5",
    "1.5",
    " 1",
    "T",
    "true",
    "x",
    "1700000000.1234567",
    "2024-01-01T00:00:00Z",
    "10.0.0.01",
    "256.1.1.1",
    "1.2.3",
    "00012345",
    "UDP",
    "NA",
    "E",
];

use proptest::strategy::Strategy as _;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

    /// conn.log records taken by the direct path decode exactly as the general reader
    /// decodes them, and records it leaves alone are accounted for the same way:
    /// columns in any order, some missing, one repeated, trailing extras, other
    /// separators and markers, short rows, and odd values in any column.
    #[test]
    fn fast_conn_equals_general_path(
        cols in proptest::sample::subsequence(CONN_COLS.to_vec(), 3..=22).prop_shuffle(),
        zeek_order in proptest::bool::ANY,
        repeat in proptest::option::of(0usize..22),
        extra in proptest::bool::ANY,
        sep in proptest::sample::select(vec![b'\t', b',', b'|']),
        markers in proptest::sample::select(vec![("-", "(empty)"), ("NA", "E"), ("-", "0")]),
        rows in proptest::collection::vec(
            (0u32..1_000_000, proptest::collection::vec((0usize..24, 0usize..ODD.len()), 0..3), 0usize..30),
            1..12,
        ),
    ) {
        // Half the logs in Zeek's own column order (which has its own code path).
        let mut cols: Vec<&str> = if zeek_order { CONN_COLS[..21].to_vec() } else { cols };
        if let Some(r) = repeat {
            let c = cols[r % cols.len()];
            cols.push(c);
        }
        if extra {
            cols.push("label");
        }
        let s = char::from(sep).to_string();
        let mut text = format!(
            "#separator \\x{sep:02x}\n#set_separator{s};\n#empty_field{s}{}\n#unset_field{s}{}\n#path{s}conn\n#fields{s}{}\n",
            markers.1,
            markers.0,
            cols.join(&s),
        );
        for (k, odd, cut) in rows {
            let mut cells: Vec<String> = cols.iter().map(|c| usual(c, k)).collect();
            for (at, which) in odd {
                if let Some(c) = cells.get_mut(at) {
                    *c = ODD[which].to_string();
                }
            }
            // Now and then a row cut short.
            if cut < cells.len() && cut < 3 {
                cells.truncate(cells.len() - cut - 1);
            }
            text.push_str(&cells.join(&s));
            text.push('\n');
        }
        let _ = direct_equals_general("generated", text.as_bytes());
    }
}

/// Every Zeek TSV conn log in the shared data decodes the same through the direct
/// path as through the general reader.
#[test]
fn fast_conn_equals_general_path_on_shared_logs() {
    let data = dwell_testkit::shared_or_skip!();
    let (mut n, mut direct, mut records) = (0, 0, 0);
    for row in dwell_testkit::zeek_files(&data) {
        let name = row.path.file_name().and_then(|f| f.to_str()).unwrap_or_default();
        if !name.starts_with("conn") || row.format.contains("json") {
            continue;
        }
        let opts = crate::DecodeOptions::default();
        let open = |p: &std::path::Path| {
            crate::input::open(p, &opts).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        let (d, r) = assert_direct_equals_general(
            &row.rel,
            open(&row.path).into_lines(1 << 20),
            open(&row.path).into_lines(1 << 20),
        );
        direct += d;
        records += r;
        n += 1;
    }
    eprintln!("{n} shared conn logs decode the same through both paths ({direct} of {records} records direct)");
    assert!(n > 0, "no Zeek TSV conn log found in the shared data");
    assert!(direct > 0, "the direct path took no record of the shared conn logs");
}

/// Usual records take the direct path; a record with an odd field, a short one, a
/// non-ASCII or escaped one goes to the general reader, which reports its anomaly.
#[test]
fn direct_path_takes_usual_records_only() {
    let cols = CONN_COLS.join("\t");
    let mut text = format!("{CONN_HDR}#fields\t{cols}\n");
    for k in 0..10 {
        let cells: Vec<String> = CONN_COLS.iter().map(|c| usual(c, k)).collect();
        text.push_str(&cells.join("\t"));
        text.push('\n');
    }
    let odd = |at: usize, v: &str| {
        let mut cells: Vec<String> = CONN_COLS.iter().map(|c| usual(c, 99)).collect();
        cells[at] = v.to_string();
        cells.join("\t") + "\n"
    };
    text.push_str(&odd(3, "70000")); // port out of range: bad value, record kept
    text.push_str(&odd(7, "s\\x09l")); // escaped service
    text.push_str(&odd(15, "Sé")); // non-ASCII history
    text.push_str(&odd(2, "fe80::1")); // IPv6 is direct too
    text.push_str(&odd(0, "-")); // no time: missing field
    text.push_str("1.0\tCx\t10.0.0.1\n"); // short
    assert_eq!(direct_equals_general("usual", text.as_bytes()), (11, 16));
    let (evs, st) = decode(&text, Encoding::Tsv);
    assert_eq!(evs.len(), 14);
    assert_eq!(st.anomalies.get(&AnomalyKind::BadValue), Some(&1));
    assert_eq!(st.anomalies.get(&AnomalyKind::ShortRecord), Some(&1));
    assert_eq!(st.anomalies.get(&AnomalyKind::MissingField), Some(&2));
}
