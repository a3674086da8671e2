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
                // Where the file starts (for ordering inputs): seeking to each chunk's
                // first record header on disk gives what loading the whole file gives.
                let mut on_disk =
                    FileDecoder::open(&row.path, FileId(0), &DecodeOptions::default()).unwrap();
                let bytes = std::fs::read(&row.path).unwrap();
                let mut in_memory =
                    FileDecoder::from_bytes("mem.evtx", bytes, None, &DecodeOptions::default())
                        .unwrap();
                let first = on_disk.first_ts_hint();
                assert_eq!(first, in_memory.first_ts_hint(), "{}", row.rel);
                assert!(first.is_some(), "{}", row.rel);
                let mut p = evtx::EvtxParser::from_path(&row.path).unwrap();
                let crate_count = p.records_json_value().count() as u64;
                assert_eq!(st.records, crate_count, "{}", row.rel);
                assert_eq!(events, crate_count, "{}: {:?}", row.rel, st.anomalies);
                // Progress (bytes read, for the progress bar) reaches the end of the
                // last chunk: the file's size, for these files of whole chunks.
                let size = std::fs::metadata(&row.path).unwrap().len();
                assert_eq!((size - 4096) % 65_536, 0, "{}", row.rel);
                assert_eq!(d.progress(), size, "{}", row.rel);
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
            let clean = |f: &dwell_model::Fields| -> Vec<(String, String)> {
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

/// A damaged EVTX file: records after the damage in the same chunk may be lost, but the
/// decoder never panics, counts what it skipped, and a cut file keeps the chunks before
/// the cut.
#[test]
fn damaged_evtx_is_decoded_as_far_as_it_goes() {
    let data = shared_or_skip!();
    let path =
        data.join("sideload/sbousseaden_DE_timestomp_and_dll_sideloading_and_RunPersist.evtx");
    let bytes = std::fs::read(&path).unwrap();
    let whole = FileDecoder::from_bytes("x.evtx", bytes.clone(), None, &DecodeOptions::default())
        .unwrap()
        .count();
    assert_eq!(whole, 23);
    // Garbage over the middle of the first chunk's records.
    for (at, len) in [(4096 + 512 + 2000, 64), (4096 + 600, 4000), (4096 + 512, 16)] {
        let mut b = bytes.clone();
        for (i, x) in b.iter_mut().enumerate().skip(at).take(len) {
            *x = (i as u8).wrapping_mul(151).wrapping_add(7);
        }
        let mut d = FileDecoder::from_bytes("x.evtx", b, None, &DecodeOptions::default()).unwrap();
        let n = d.by_ref().count() as u64;
        let st = d.stats();
        eprintln!("damage at {at}+{len}: {n} events, {} anomalies", st.anomaly_total());
        assert!(n <= whole as u64);
        // Every record lost is accounted for: as a bad record, or inside a bad chunk.
        if n < whole as u64 {
            assert!(st.anomaly_total() >= 1, "{n} of {whole} events and no anomaly counted");
        }
        if len == 16 {
            // The first record's header is gone: that record alone is lost.
            assert_eq!((n, st.anomaly_total()), (whole as u64 - 1, 1));
        }
    }
    // Cut in the middle: the file header promises more than there is.
    let cut = bytes[..bytes.len() / 2].to_vec();
    let mut d = FileDecoder::from_bytes("x.evtx", cut, None, &DecodeOptions::default()).unwrap();
    let n = d.by_ref().count();
    assert!(n <= whole);
    // Not an EVTX file at all behind the magic.
    let mut junk = b"ElfFile\0".to_vec();
    junk.extend(std::iter::repeat_n(0xAAu8, 5000));
    match FileDecoder::from_bytes("junk.evtx", junk, None, &DecodeOptions::default()) {
        Ok(d) => assert_eq!(d.count(), 0),
        Err(e) => assert!(e.to_string().contains("junk.evtx"), "{e}"),
    }
}
