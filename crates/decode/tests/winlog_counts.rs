//! Every Windows event log under `../shared/data` decodes completely: for EVTX files the
//! records dwell reads equal the `evtx` crate's own count (its record iterator, the
//! count `evtx_dump` prints), every record becomes an event or a counted anomaly, and
//! JSON-line files give one event per line.

use std::io::Read;

use dwell_decode::{DecodeOptions, FileDecoder, Format};
use dwell_model::{Body, FileId};
use dwell_testkit::{shared_or_skip, winlog_files};

fn lines(path: &std::path::Path) -> u64 {
    let mut raw = std::fs::read(path).unwrap();
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
        raw = out;
    }
    raw.split(|&b| b == b'\n').filter(|l| !l.trim_ascii().is_empty()).count() as u64
}

#[test]
fn every_windows_log_decodes_completely() {
    let data = shared_or_skip!();
    let files = winlog_files(&data);
    assert!(files.len() >= 50, "expected the manifest's Windows logs, found {}", files.len());
    let mut total = 0u64;
    for row in &files {
        let mut d = FileDecoder::open(&row.path, FileId(0), &DecodeOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut events = 0u64;
        let mut computers = std::collections::BTreeSet::new();
        for ev in d.by_ref() {
            let Body::Win(w) = &ev.body else { panic!("{}: non-Windows event", row.rel) };
            computers.insert(w.computer.to_string());
            events += 1;
        }
        let st = d.stats();
        assert_eq!(st.records, events + st.anomaly_total(), "{}: {:?}", row.rel, st.anomalies);
        match d.format() {
            Format::Evtx => {
                let mut p = evtx::EvtxParser::from_path(&row.path).unwrap();
                let crate_count = p.records_json_value().count() as u64;
                assert_eq!(st.records, crate_count, "{}", row.rel);
                assert_eq!(events, crate_count, "{}: {:?}", row.rel, st.anomalies);
            }
            Format::WinJson => {
                assert_eq!(events, lines(&row.path), "{}: {:?}", row.rel, st.anomalies);
            }
            other => panic!("{}: sniffed as {other:?}", row.rel),
        }
        assert!(!computers.contains(""), "{}: a record without a computer name", row.rel);
        total += events;
    }
    eprintln!("{} Windows logs, {total} events", files.len());
}
