//! The time-ordered event stream of a run: a k-way merge of per-file streams, each
//! with a bounded reorder buffer.
//!
//! Sensors write records slightly out of order: Zeek logs a connection when it ends
//! with `ts` = its start, Suricata logs flows at timeout, rotated files overlap at their
//! edges. Each file gets a reorder buffer that holds events until the newest event read
//! from that file is `window` seconds past them; the merge then always hands out the
//! earliest buffered event across files. Events later than that (a connection that
//! lasted longer than the window) are still delivered, counted as *late*, never dropped.
//!
//! Files are opened lazily in order of their first event, so a month of hourly rotated
//! logs does not hold thousands of files open at once.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use dwell_decode::{AnomalyKind, DecodeOptions, FileDecoder, FileStats};
use dwell_model::{Event, Timestamp};

use crate::inputs::Inputs;

/// Most keys an out-of-order arrival moves in the run; one that belongs further from
/// its end goes to the heap.
const NEAR: usize = 1024;

/// One file's decoder and its reorder buffer over a slab of events: a sorted run of
/// (time, arrival, slot) keys, and a min-heap for the few keys that belong far from its
/// end. The head is the lesser of the two fronts. Sensors write nearly sorted records
/// (Zeek's conn.log is sorted by connection end, not start): half the records of a busy
/// log arrive out of order, but almost all within a few hundred records of where they
/// belong, so they are inserted into the run there (a short move of 24-byte keys, never
/// the events); only a key that would move more than [`NEAR`] others goes to the heap,
/// which bounds the cost of any arrival order.
struct Stream {
    dec: Option<FileDecoder>,
    /// Sorted by (time, arrival).
    run: VecDeque<(Timestamp, u64, u32)>,
    heap: BinaryHeap<Reverse<(Timestamp, u64, u32)>>,
    slab: Vec<Option<Event>>,
    free: Vec<u32>,
    max_seen: Timestamp,
    seq: u64,
}

impl Stream {
    fn new(dec: FileDecoder) -> Self {
        Stream {
            dec: Some(dec),
            run: VecDeque::new(),
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            max_seen: Timestamp::MIN,
            seq: 0,
        }
    }

    fn insert(&mut self, ev: Event) {
        let ts = ev.ts();
        self.max_seen = self.max_seen.max(ts);
        self.seq += 1;
        let slot = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slab.get_mut(i as usize) {
                    *s = Some(ev);
                }
                i
            }
            None => {
                self.slab.push(Some(ev));
                (self.slab.len() - 1) as u32
            }
        };
        let key = (ts, self.seq, slot);
        match self.run.back() {
            Some((last, _, _)) if ts < *last => {
                // After every key of the same time: arrival order breaks ties.
                let at = self.run.partition_point(|(t, _, _)| *t <= ts);
                if self.run.len() - at <= NEAR {
                    self.run.insert(at, key);
                } else {
                    self.heap.push(Reverse(key));
                }
            }
            _ => self.run.push_back(key),
        }
    }

    /// The earliest buffered key, and whether it is the run's.
    fn head(&self) -> Option<((Timestamp, u64, u32), bool)> {
        match (self.run.front(), self.heap.peek()) {
            (Some(r), Some(Reverse(h))) if h < r => Some((*h, false)),
            (Some(r), _) => Some((*r, true)),
            (None, Some(Reverse(h))) => Some((*h, false)),
            (None, None) => None,
        }
    }

    fn head_ts(&self) -> Option<Timestamp> {
        self.head().map(|((t, _, _), _)| t)
    }

    fn is_empty(&self) -> bool {
        self.run.is_empty() && self.heap.is_empty()
    }

    fn pop(&mut self) -> Option<Event> {
        let ((_, _, slot), from_run) = self.head()?;
        if from_run {
            self.run.pop_front();
        } else {
            self.heap.pop();
        }
        self.free.push(slot);
        self.slab.get_mut(slot as usize)?.take()
    }

    /// Span of event time in the buffer, µs.
    fn span_us(&self) -> i64 {
        self.head_ts().map_or(0, |h| self.max_seen.0.saturating_sub(h.0))
    }
}

/// The merged stream.
pub struct Merge<'a> {
    inputs: &'a Inputs,
    opts: DecodeOptions,
    window_us: i64,
    streams: BTreeMap<usize, Stream>,
    /// Stream heads: (time, file id as tie-break, stream id).
    heads: BinaryHeap<Reverse<(Timestamp, u64, usize)>>,
    /// Files not opened yet, latest first (popped from the end).
    pending: Vec<usize>,
    watermark: Timestamp,
    /// Events delivered after a later one had been delivered.
    pub late: u64,
    /// Per-file counts of finished files.
    pub finished: BTreeMap<usize, FileStats>,
    /// Bytes read from disk by closed files.
    closed_bytes: u64,
}

impl<'a> Merge<'a> {
    /// A merge over every file of `inputs`.
    pub fn new(inputs: &'a Inputs, opts: DecodeOptions, window_s: f64) -> Self {
        let mut pending: Vec<usize> = (0..inputs.files.len()).collect();
        // Latest first; files without events last in line (opened first, finish at once).
        pending.sort_by_key(|&i| Reverse(inputs.files[i].first_ts.unwrap_or(Timestamp::MIN)));
        Merge {
            inputs,
            opts,
            window_us: (window_s.max(0.0) * 1e6) as i64,
            streams: BTreeMap::new(),
            heads: BinaryHeap::new(),
            pending,
            watermark: Timestamp::MIN,
            late: 0,
            finished: BTreeMap::new(),
            closed_bytes: 0,
        }
    }

    /// The latest event time handed out.
    pub fn watermark(&self) -> Timestamp {
        self.watermark
    }

    /// Bytes read from disk so far, over all files.
    pub fn bytes_read(&self) -> u64 {
        self.closed_bytes
            + self
                .streams
                .values()
                .filter_map(|s| s.dec.as_ref())
                .map(FileDecoder::progress)
                .sum::<u64>()
    }

    fn open(&mut self, id: usize) {
        match self.inputs.open(id, &self.opts) {
            Ok(dec) => {
                self.streams.insert(id, Stream::new(dec));
                self.refill(id);
            }
            Err(e) => {
                // The file was readable when sniffed; record what changed.
                let mut st = FileStats::default();
                st.anomaly(0, AnomalyKind::Io, e);
                self.finished.insert(id, st);
            }
        }
    }

    /// Reads stream `id` until its buffer spans the window (or it ends), then pushes its
    /// head; closes it when it is empty and exhausted.
    fn refill(&mut self, id: usize) {
        let Some(s) = self.streams.get_mut(&id) else { return };
        loop {
            if !s.is_empty() && s.span_us() >= self.window_us {
                break;
            }
            let Some(dec) = s.dec.as_mut() else { break };
            match dec.next_event() {
                Some(ev) => s.insert(ev),
                None => {
                    if let Some(d) = s.dec.take() {
                        self.closed_bytes += d.progress();
                        self.finished.insert(id, d.stats().clone());
                    }
                }
            }
        }
        match s.head_ts() {
            Some(head) => {
                // Ties between files go to the lower file id, deterministically.
                self.heads.push(Reverse((head, id as u64, id)));
            }
            None => {
                self.streams.remove(&id);
            }
        }
    }

    /// Opens the files whose first event is within reach of the merge front.
    fn open_due(&mut self) {
        while let Some(&id) = self.pending.last() {
            let first = self.inputs.files[id].first_ts.unwrap_or(Timestamp::MIN);
            let due = match self.heads.peek() {
                None => true,
                Some(Reverse((front, _, _))) => first.0 <= front.0.saturating_add(self.window_us),
            };
            if !due {
                break;
            }
            self.pending.pop();
            self.open(id);
        }
    }
}

impl Iterator for Merge<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.open_due();
        let Reverse((_, _, id)) = self.heads.pop()?;
        let ev = self.streams.get_mut(&id)?.pop()?;
        self.refill(id);
        let ts = ev.ts();
        if ts < self.watermark {
            self.late += 1;
        } else {
            self.watermark = ts;
        }
        Some(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Writes a Zeek JSON conn log of (ts, resp_p) records, in the order given.
    fn conn_log(dir: &std::path::Path, name: &str, recs: &[(f64, u16)]) -> PathBuf {
        let body: String = recs
            .iter()
            .map(|(ts, p)| {
                format!(
                    "{{\"_path\":\"conn\",\"ts\":{ts},\"uid\":\"C{p}\",\"conn_state\":\"SF\",\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":1,\
                     \"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":{p},\"proto\":\"tcp\"}}\n"
                )
            })
            .collect();
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        path
    }

    fn order(files: &[PathBuf], window_s: f64) -> (Vec<(i64, u16)>, u64) {
        let opts = DecodeOptions::default();
        let inputs = Inputs::resolve(files, &opts).unwrap();
        let mut m = Merge::new(&inputs, opts, window_s);
        let mut out = Vec::new();
        for ev in m.by_ref() {
            let port = match &ev.body {
                dwell_model::Body::Conn(c) => c.flow.resp_p,
                _ => 0,
            };
            out.push((ev.ts().0 / 1_000_000, port));
        }
        (out, m.late)
    }

    /// Out-of-order records within the window come out sorted, equal times in the
    /// order they were read (run and heap alike), files interleave by time, and a
    /// record later than the window is delivered and counted late.
    #[test]
    fn reorders_within_the_window_and_counts_late_records() {
        let dir = std::env::temp_dir().join(format!("dwell-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = conn_log(
            &dir,
            "a.log",
            &[
                (100.0, 1),
                (105.0, 2),
                (103.0, 3),
                (105.0, 4),
                (103.0, 5),
                (110.0, 6),
                (2000.0, 7),
                (50.0, 8),
            ],
        );
        let b = conn_log(&dir, "b.log", &[(101.0, 11), (104.0, 12), (109.0, 13)]);
        let (out, late) = order(&[a, b], 60.0);
        let want = vec![
            (100, 1),
            (101, 11),
            (103, 3),
            (103, 5),
            (104, 12),
            (105, 2),
            (105, 4),
            (109, 13),
            (110, 6),
            (50, 8),
            (2000, 7),
        ];
        assert_eq!(out, want);
        assert_eq!(late, 1, "the record 1950 s behind the newest one is late");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// The merge hands out exactly what a plain model of the rule gives — after each
    /// record read, release the earliest buffered record (ties in read order) while the
    /// newest is a window past it — on logs with in-order runs, short and long
    /// displacements (inserted into the run or sent to the heap), ties, and records too
    /// late for the window.
    #[test]
    fn order_equals_a_model_of_the_window_rule() {
        let dir = std::env::temp_dir().join(format!("dwell-merge-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for case in 0..6u64 {
            // 10 records a second; delays of up to 2 s (most), 400 s (thousands of
            // records: the heap) and 2000 s (later than the 600 s window).
            let n = 6000usize;
            let ts: Vec<i64> = (0..n as i64)
                .map(|i| {
                    let delay = match rnd(100) {
                        0..=39 => 0,
                        40..=94 => rnd(2_000),
                        95..=98 => rnd(400_000),
                        _ => rnd(2_000_000) * (case % 2),
                    } as i64;
                    // Whole milliseconds, and every third case whole seconds (many ties).
                    let t = 1_000_000 + i * 100 - delay;
                    if case % 3 == 2 {
                        t / 1000 * 1000
                    } else {
                        t
                    }
                })
                .collect();
            let recs: Vec<(f64, u16)> =
                ts.iter().enumerate().map(|(i, t)| (*t as f64 / 1000.0, i as u16)).collect();
            let path = conn_log(&dir, &format!("m{case}.log"), &recs);
            let opts = DecodeOptions::default();
            let inputs = Inputs::resolve(&[path], &opts).unwrap();
            let mut m = Merge::new(&inputs, opts, 600.0);
            let got: Vec<u16> = m
                .by_ref()
                .map(|ev| match &ev.body {
                    dwell_model::Body::Conn(c) => c.flow.resp_p,
                    _ => u16::MAX,
                })
                .collect();
            // The model.
            let window = 600_000i64;
            let mut buf = std::collections::BTreeSet::<(i64, usize)>::new();
            let (mut want, mut max_seen) = (Vec::new(), i64::MIN);
            let (mut late, mut mark) = (0u64, i64::MIN);
            let mut release = |buf: &mut std::collections::BTreeSet<(i64, usize)>,
                               want: &mut Vec<u16>| {
                let (t, i) = buf.pop_first().unwrap();
                if t < mark {
                    late += 1;
                } else {
                    mark = t;
                }
                want.push(i as u16);
            };
            for (i, t) in ts.iter().enumerate() {
                buf.insert((*t, i));
                max_seen = max_seen.max(*t);
                while buf.first().is_some_and(|(h, _)| max_seen - h >= window) {
                    release(&mut buf, &mut want);
                }
            }
            while !buf.is_empty() {
                release(&mut buf, &mut want);
            }
            assert_eq!(got, want, "case {case}");
            assert_eq!(m.late, late, "case {case}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
