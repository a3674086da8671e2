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

/// dwell reads EVTX through the crate's XML rendering (the cheaper path); the same
/// records rendered as JSON (what `evtx_dump -o json` writes, and what dwell reads as
/// JSON lines) map to the same events, field for field.
#[test]
fn evtx_xml_and_json_renderings_agree() {
    let data = shared_or_skip!();
    let mut compared = 0;
    for row in winlog_files(&data).iter().filter(|r| r.format.starts_with("evtx")) {
        let via_xml: Vec<_> =
            FileDecoder::open(&row.path, FileId(0), &DecodeOptions::default()).unwrap().collect();
        let mut p = evtx::EvtxParser::from_path(&row.path).unwrap();
        let via_json: Vec<_> = p
            .records_json_value()
            .map(|r| dwell_decode::winlog::from_json(&r.unwrap().data).unwrap().unwrap())
            .collect();
        assert_eq!(via_xml.len(), via_json.len(), "{}", row.rel);
        for (x, (ts, j)) in via_xml.iter().zip(&via_json) {
            let Body::Win(w) = &x.body else { panic!() };
            assert_eq!(x.ts(), *ts, "{}", row.rel);
            assert_eq!(
                (w.kind, w.event_id, &w.computer, &w.channel),
                (j.kind, j.event_id, &j.computer, &j.channel)
            );
            // XML cannot carry control characters: the crate writes `_` for them there.
            let clean = |f: &[(dwell_model::Text, dwell_model::Text)]| -> Vec<(String, String)> {
                f.iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| {
                        let v: String = v
                            .chars()
                            .map(|c| if c.is_control() && !"\r\n\t".contains(c) { '_' } else { c })
                            .collect();
                        (k.to_string(), v)
                    })
                    .collect()
            };
            let (mut a, mut b) = (clean(&w.fields), clean(&j.fields));
            a.sort();
            b.sort();
            assert_eq!(a, b, "{} record {:?}", row.rel, w.record_id);
            compared += 1;
        }
    }
    assert!(compared > 300, "{compared}");
}
