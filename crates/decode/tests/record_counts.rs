//! Record counts are exact: every data line of every Zeek log under `../shared/data`
//! is read, and conn/dns/ssl/http lines each become one event; EVE events per type
//! equal an independent count of the file (what `jq -r .event_type | sort | uniq -c`
//! prints).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use dwell_decode::{DecodeOptions, FileDecoder, Format};
use dwell_model::{FileId, Kind};
use dwell_testkit::{eve_files, shared_or_skip, zeek_files};

/// Reads a file, gunzipping if it starts with the gzip magic.
fn reader(path: &Path) -> Box<dyn BufRead> {
    let mut raw = std::fs::read(path).unwrap();
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
        raw = out;
    }
    Box::new(BufReader::new(std::io::Cursor::new(raw)))
}

/// Data lines: not blank, not a `#` header (which may be indented).
fn data_lines(path: &Path) -> u64 {
    reader(path)
        .split(b'\n')
        .map(Result::unwrap)
        .filter(|l| {
            let t: Vec<u8> = l.iter().copied().skip_while(u8::is_ascii_whitespace).collect();
            !t.is_empty() && !t.starts_with(b"#")
        })
        .count() as u64
}

fn kind_of_log(hint: &str) -> Option<Kind> {
    Some(match hint {
        "conn" => Kind::Conn,
        "dns" => Kind::Dns,
        "ssl" => Kind::Tls,
        "http" => Kind::Http,
        _ => return None,
    })
}

#[test]
fn zeek_records_equal_data_lines() {
    let data = shared_or_skip!();
    let files = zeek_files(&data);
    assert!(files.len() > 100, "expected the shared Zeek logs, found {}", files.len());
    let mut checked_kinds = 0;
    for row in files {
        let mut d = FileDecoder::open(&row.path, FileId(0), &DecodeOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(d.format(), Format::ZeekTsv | Format::ZeekJson), "{}", row.rel);
        let hint = d.log_hint().map(str::to_string);
        let mut n = 0u64;
        while d.next_event().is_some() {
            n += 1;
        }
        let st = d.stats();
        let lines = data_lines(&row.path);
        assert_eq!(st.records, lines, "{}: records read vs data lines", row.rel);
        if let Some(kind) = hint.as_deref().and_then(kind_of_log) {
            assert_eq!(
                st.events.get(&kind).copied().unwrap_or(0),
                lines,
                "{}: {kind:?} events",
                row.rel
            );
            assert_eq!(n, lines, "{}", row.rel);
            checked_kinds += 1;
        }
        // The Slips developers hand-edited this file: one notice line has spaces where
        // tabs belong (23 of 26 columns). Decoding keeps the record and counts it.
        let expected_anomalies =
            if row.rel.ends_with("slips_test10-mixed-zeek-dir/notice.log") { 2 } else { 0 };
        assert_eq!(st.anomaly_total(), expected_anomalies, "{}: {:?}", row.rel, st.samples);
    }
    assert!(checked_kinds >= 80, "only {checked_kinds} conn/dns/ssl/http files checked");
}

#[test]
fn eve_event_counts_per_type() {
    let data = shared_or_skip!();
    let files = eve_files(&data);
    assert!(!files.is_empty());
    for row in files {
        // Independent count, as jq would do it.
        let mut want = BTreeMap::<String, u64>::new();
        for line in reader(&row.path).lines() {
            let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            *want.entry(v["event_type"].as_str().unwrap().to_string()).or_default() += 1;
        }
        let mut d = FileDecoder::open(&row.path, FileId(0), &DecodeOptions::default()).unwrap();
        while d.next_event().is_some() {}
        let st = d.stats();
        let mut got = BTreeMap::<String, u64>::new();
        for (k, v) in &st.events {
            let name = match k {
                Kind::Conn => "flow",
                Kind::Tls => "tls",
                Kind::File => "fileinfo",
                Kind::Kerberos => "krb5",
                Kind::DceRpc => "dcerpc",
                other => other.as_str(),
            };
            *got.entry(name.to_string()).or_default() += v;
        }
        for (k, v) in &st.skipped {
            *got.entry(k.clone()).or_default() += v;
        }
        assert_eq!(got, want, "{}", row.rel);
        assert_eq!(st.records, want.values().sum::<u64>());
        assert_eq!(st.anomaly_total(), 0, "{}: {:?}", row.rel, st.samples);
    }
}
