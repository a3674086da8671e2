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

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

use dwell_decode::{AnomalyKind, DecodeOptions, FileDecoder, FileStats};
use dwell_model::{Event, Timestamp};

use crate::inputs::Inputs;

/// An event in a heap, ordered by (time, arrival).
struct Item {
    ts: Timestamp,
    seq: u64,
    ev: Event,
}

impl PartialEq for Item {
    fn eq(&self, o: &Self) -> bool {
        (self.ts, self.seq) == (o.ts, o.seq)
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.ts, self.seq).cmp(&(o.ts, o.seq))
    }
}

struct Stream {
    dec: Option<FileDecoder>,
    buf: BinaryHeap<Reverse<Item>>,
    max_seen: Timestamp,
}

/// The merged stream.
pub struct Merge<'a> {
    inputs: &'a Inputs,
    opts: DecodeOptions,
    window_us: i64,
    streams: BTreeMap<usize, Stream>,
    /// Stream heads: (time, seq, stream id).
    heads: BinaryHeap<Reverse<(Timestamp, u64, usize)>>,
    /// Files not opened yet, latest first (popped from the end).
    pending: Vec<usize>,
    seq: u64,
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
            seq: 0,
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
            + self.streams.values().filter_map(|s| s.dec.as_ref()).map(FileDecoder::progress).sum::<u64>()
    }

    fn open(&mut self, id: usize) {
        match self.inputs.open(id, &self.opts) {
            Ok(dec) => {
                self.streams.insert(
                    id,
                    Stream { dec: Some(dec), buf: BinaryHeap::new(), max_seen: Timestamp::MIN },
                );
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
        while let Some(dec) = s.dec.as_mut() {
            let ready = match s.buf.peek() {
                Some(Reverse(min)) => s.max_seen.0.saturating_sub(min.ts.0) >= self.window_us,
                None => false,
            };
            if ready {
                break;
            }
            match dec.next_event() {
                Some(ev) => {
                    self.seq += 1;
                    s.max_seen = s.max_seen.max(ev.ts());
                    s.buf.push(Reverse(Item { ts: ev.ts(), seq: self.seq, ev }));
                }
                None => {
                    if let Some(d) = s.dec.take() {
                        self.closed_bytes += d.progress();
                        self.finished.insert(id, d.stats().clone());
                    }
                }
            }
        }
        match s.buf.peek() {
            Some(Reverse(head)) => self.heads.push(Reverse((head.ts, head.seq, id))),
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
        let Reverse(item) = self.streams.get_mut(&id)?.buf.pop()?;
        self.refill(id);
        if item.ts < self.watermark {
            self.late += 1;
        } else {
            self.watermark = item.ts;
        }
        Some(item.ev)
    }
}
