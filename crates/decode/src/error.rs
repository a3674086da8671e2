//! Errors at the decoder boundary and the counted anomalies of a file.
//!
//! Two kinds of trouble, handled differently (Zeek's `weird.log` idea):
//! * a **file** that cannot be decoded at all (unreadable, unknown format, a Zeek TSV
//!   file with no `#fields` header) is a [`DecodeError`] naming the file and the
//!   reason; the CLI turns it into exit status 2;
//! * a **record** that is malformed (bad JSON, a field of the wrong type, a line over
//!   the length cap, a gzip stream cut short) is an *anomaly*: counted per file and
//!   kind in [`FileStats`], the first few kept with their line number, and decoding
//!   goes on.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use dwell_model::Kind;

/// A file that cannot be decoded.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct DecodeError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub kind: DecodeErrorKind,
}

/// Why a file cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeErrorKind {
    /// Opening or reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// Content matched no supported format.
    #[error("unknown format: {0}")]
    UnknownFormat(String),
    /// A recognised format dwell does not decode yet.
    #[error("{0} is not supported yet")]
    Unsupported(&'static str),
    /// The file is empty.
    #[error("file is empty")]
    Empty,
    /// The format was recognised but its header is unusable.
    #[error("bad header: {0}")]
    BadHeader(String),
}

/// Kinds of record-level anomaly. Stable names: they appear in summaries and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AnomalyKind {
    /// A JSON line that does not parse, or is not an object.
    BadJson,
    /// A field whose value does not parse as its type; the field is dropped, the record kept.
    BadValue,
    /// A record without a field it cannot do without (time, addresses); the record is dropped.
    MissingField,
    /// A line longer than the configured cap; skipped.
    LineTooLong,
    /// A TSV line with fewer columns than `#fields`.
    ShortRecord,
    /// Invalid UTF-8, replaced by U+FFFD.
    BadUtf8,
    /// A compressed stream that ends early or is corrupt; decoding stops there.
    Truncated,
    /// Decompressed output passed the size cap; decoding stops there.
    SizeCap,
    /// A read error in the middle of the file; decoding stops there.
    Io,
    /// A malformed header line in the middle of a file.
    BadHeader,
    /// A captured frame whose headers do not hold together (or an unknown link type).
    BadPacket,
    /// Data not tracked because a bound was reached.
    Dropped,
}

impl AnomalyKind {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::BadJson => "bad_json",
            AnomalyKind::BadValue => "bad_value",
            AnomalyKind::MissingField => "missing_field",
            AnomalyKind::LineTooLong => "line_too_long",
            AnomalyKind::ShortRecord => "short_record",
            AnomalyKind::BadUtf8 => "bad_utf8",
            AnomalyKind::Truncated => "truncated",
            AnomalyKind::SizeCap => "size_cap",
            AnomalyKind::Io => "io_error",
            AnomalyKind::BadHeader => "bad_header",
            AnomalyKind::BadPacket => "bad_packet",
            AnomalyKind::Dropped => "dropped",
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded anomaly: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnomalySample {
    /// 1-based line (record) number.
    pub record: u64,
    /// Kind.
    pub kind: AnomalyKind,
    /// Detail (field name, parser message), bounded in length.
    pub detail: String,
}

/// How many anomaly samples a file keeps (the rest are only counted).
pub const MAX_SAMPLES: usize = 5;
/// Longest detail text kept in a sample.
const MAX_DETAIL: usize = 200;

/// What decoding one file produced: counts per kind, records skipped, anomalies.
#[derive(Clone, Debug, Default)]
pub struct FileStats {
    /// Data records read (lines that are not headers or blank).
    pub records: u64,
    /// Events produced per kind.
    pub events: BTreeMap<Kind, u64>,
    /// Records of types dwell does not model, per type name (`software`, `stats`).
    pub skipped: BTreeMap<String, u64>,
    /// Anomalies per kind.
    pub anomalies: BTreeMap<AnomalyKind, u64>,
    /// The first [`MAX_SAMPLES`] anomalies.
    pub samples: Vec<AnomalySample>,
    /// Bytes of input read (after decompression).
    pub bytes: u64,
}

impl FileStats {
    /// Counts an anomaly and keeps a sample if there is room.
    pub fn anomaly(&mut self, record: u64, kind: AnomalyKind, detail: impl fmt::Display) {
        *self.anomalies.entry(kind).or_default() += 1;
        if self.samples.len() < MAX_SAMPLES {
            let mut detail = detail.to_string();
            if detail.len() > MAX_DETAIL {
                let mut cut = MAX_DETAIL;
                while !detail.is_char_boundary(cut) {
                    cut -= 1;
                }
                detail.truncate(cut);
                detail.push('…');
            }
            self.samples.push(AnomalySample { record, kind, detail });
        }
    }

    /// Counts a record of a type that is not modelled.
    pub fn skip(&mut self, type_name: &str) {
        if let Some(n) = self.skipped.get_mut(type_name) {
            *n += 1;
        } else {
            // Bound the map: a hostile file could invent many type names.
            let key = if self.skipped.len() < 64 { type_name } else { "(other)" };
            *self.skipped.entry(key.to_string()).or_default() += 1;
        }
    }

    /// Counts `n` records of a type that is not modelled.
    pub fn skip_n(&mut self, type_name: &str, n: u64) {
        let key = if self.skipped.len() < 64 || self.skipped.contains_key(type_name) {
            type_name
        } else {
            "(other)"
        };
        *self.skipped.entry(key.to_string()).or_default() += n;
    }

    /// Total anomalies.
    pub fn anomaly_total(&self) -> u64 {
        self.anomalies.values().sum()
    }

    /// Total events.
    pub fn event_total(&self) -> u64 {
        self.events.values().sum()
    }

    /// Adds another file's counts into this one (samples are not merged).
    pub fn merge_counts(&mut self, other: &FileStats) {
        self.records += other.records;
        self.bytes += other.bytes;
        for (k, v) in &other.events {
            *self.events.entry(*k).or_default() += v;
        }
        for (k, v) in &other.skipped {
            *self.skipped.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.anomalies {
            *self.anomalies.entry(*k).or_default() += v;
        }
    }
}
