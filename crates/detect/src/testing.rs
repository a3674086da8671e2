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
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let Ok(d) = FileDecoder::open(f, FileId(i as u32), &DecodeOptions::default()) else {
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
