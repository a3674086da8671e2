//! Decoders: every input format dwell reads becomes a stream of [`Event`]s.
//!
//! * [`sniff`]: the format from content (never the file name);
//! * [`zeek`]: Zeek logs, TSV and JSON, every log type dwell models;
//! * [`eve`]: Suricata EVE JSON;
//! * [`pcap`]: packet captures (pcap, pcapng) through a flow meter;
//! * [`winlog`]: Windows event logs (EVTX, Sysmon/Winlogbeat/NXLog JSON lines);
//! * [`normal`]: the normalised JSON form of an event (`dwell decode`, golden tests).
//!
//! [`FileDecoder`] opens one file (plain or gzip), sniffs it and streams its events.
//! A file that cannot be decoded is a [`DecodeError`] naming the file and the reason; a
//! malformed record is a counted anomaly in [`FileStats`] and decoding goes on. Nothing
//! here panics on any input: the fuzz targets under `fuzz/` and the property tests hold
//! that line.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod certs;
pub mod error;
pub mod eve;
pub mod input;
pub mod normal;
pub mod pcap;
pub mod sniff;
pub mod value;
pub mod winlog;
pub mod zeek;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dwell_model::{Event, FileId};

pub use certs::CertStore;
pub use error::{AnomalyKind, AnomalySample, DecodeError, DecodeErrorKind, FileStats};
pub use sniff::{sniff, Format};
pub use zeek::logs::LogType;

/// Knobs of decoding. The defaults suit every input seen so far.
#[derive(Clone, Debug)]
pub struct DecodeOptions {
    /// Most decompressed bytes read from one gzip file (default 64 GiB).
    pub max_decompressed: u64,
    /// Longest line accepted, in bytes (default 1 MiB); longer lines are skipped and counted.
    pub max_line: usize,
    /// Certificates to join to Zeek `ssl` records.
    pub certs: Option<Arc<CertStore>>,
    /// Flow-meter settings for packet captures.
    pub flows: pcap::flow::Config,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_decompressed: 64 << 30,
            max_line: 1 << 20,
            certs: None,
            flows: pcap::flow::Config::default(),
        }
    }
}

// One per open file; the size difference does not matter.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Zeek(zeek::ZeekDecoder),
    Eve(eve::EveDecoder),
    Pcap(Box<pcap::PcapDecoder>),
    Evtx(Box<winlog::EvtxDecoder>),
    WinJson(winlog::WinJsonDecoder),
}

/// A streaming decoder of one input file.
pub struct FileDecoder {
    path: PathBuf,
    format: Format,
    log_hint: Option<String>,
    gzip: bool,
    file_size: u64,
    raw_read: Arc<AtomicU64>,
    inner: Inner,
    stats: FileStats,
    done: bool,
}

impl FileDecoder {
    /// Opens `path`, sniffs its format and prepares to stream its events as `file`.
    pub fn open(path: &Path, file: FileId, opts: &DecodeOptions) -> Result<Self, DecodeError> {
        let mut opened = input::open(path, opts)
            .map_err(|e| DecodeError { path: path.to_path_buf(), kind: DecodeErrorKind::Io(e) })?;
        let disk = opened.disk.take();
        let mut d = Self::from_opened(path, opened, file, opts, None)?;
        // A plain EVTX file is read where the crate seeks, a chunk at a time.
        if let (Inner::Evtx(e), false, Some(f)) = (&mut d.inner, d.gzip, disk) {
            e.read_from_disk(f, d.raw_read.clone());
        }
        Ok(d)
    }

    /// Decodes bytes in memory (plain or gzip) named `name`; `force` skips sniffing.
    /// For tests and fuzzing.
    pub fn from_bytes(
        name: &str,
        bytes: Vec<u8>,
        force: Option<Format>,
        opts: &DecodeOptions,
    ) -> Result<Self, DecodeError> {
        let path = Path::new(name);
        let opened = input::from_memory(bytes, opts)
            .map_err(|e| DecodeError { path: path.to_path_buf(), kind: DecodeErrorKind::Io(e) })?;
        Self::from_opened(path, opened, FileId(0), opts, force)
    }

    fn from_opened(
        path: &Path,
        opened: input::Opened,
        file: FileId,
        opts: &DecodeOptions,
        force: Option<Format>,
    ) -> Result<Self, DecodeError> {
        let err = |kind| DecodeError { path: path.to_path_buf(), kind };
        let format = match force {
            Some(f) => f,
            None => sniff(&opened.prefix).map_err(err)?,
        };
        let log_hint = match format {
            Format::ZeekTsv if force.is_none() => zeek::check_tsv_prefix(&opened.prefix)
                .map_err(|e| err(DecodeErrorKind::BadHeader(e)))?,
            Format::ZeekTsv => None,
            Format::ZeekJson => zeek::json_prefix_log_type(&opened.prefix),
            Format::Eve | Format::Pcap | Format::Evtx | Format::WinJson => None,
        };
        let (gzip, file_size, raw_read) = (opened.gzip, opened.file_size, opened.raw_read.clone());
        if format == Format::Pcap {
            let dec = pcap::PcapDecoder::new(opened.into_reader(), file, opts.flows.clone())
                .map_err(|e| err(DecodeErrorKind::BadHeader(e.to_string())))?;
            return Ok(FileDecoder {
                path: path.to_path_buf(),
                format,
                log_hint: None,
                gzip,
                file_size,
                raw_read,
                inner: Inner::Pcap(Box::new(dec)),
                stats: FileStats::default(),
                done: false,
            });
        }
        if format == Format::Evtx {
            let size = opened.file_size;
            let dec = winlog::EvtxDecoder::new(opened.into_reader(), size, file);
            return Ok(FileDecoder {
                path: path.to_path_buf(),
                format,
                log_hint: None,
                gzip,
                file_size,
                raw_read,
                inner: Inner::Evtx(Box::new(dec)),
                stats: FileStats::default(),
                done: false,
            });
        }
        let lines = opened.into_lines(opts.max_line);
        let inner = match format {
            Format::ZeekTsv => Inner::Zeek(zeek::ZeekDecoder::new(
                lines,
                zeek::Encoding::Tsv,
                file,
                opts.certs.clone(),
            )),
            Format::ZeekJson => Inner::Zeek(zeek::ZeekDecoder::new(
                lines,
                zeek::Encoding::Json,
                file,
                opts.certs.clone(),
            )),
            Format::Eve => Inner::Eve(eve::EveDecoder::new(lines, file)),
            Format::WinJson => Inner::WinJson(winlog::WinJsonDecoder::new(lines, file)),
            Format::Pcap | Format::Evtx => {
                return Err(err(DecodeErrorKind::UnknownFormat("binary".into())))
            }
        };
        Ok(FileDecoder {
            path: path.to_path_buf(),
            format,
            log_hint,
            gzip,
            file_size,
            raw_read,
            inner,
            stats: FileStats::default(),
            done: false,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sniffed format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The Zeek log type named by the header or inferred from the first record
    /// (`conn`, `x509`, ...); `None` for EVE.
    pub fn log_hint(&self) -> Option<&str> {
        self.log_hint.as_deref()
    }

    /// Whether the file is gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Size of the file on disk.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// Bytes read from disk so far.
    pub fn progress(&self) -> u64 {
        self.raw_read.load(Ordering::Relaxed)
    }

    /// Counts so far (final once the decoder is exhausted).
    pub fn stats(&self) -> &FileStats {
        &self.stats
    }

    /// The time the file starts, cheaply: for EVTX from record headers (of a plain file
    /// on disk without reading the rest of it), otherwise the first event's time
    /// (consuming it).
    pub fn first_ts_hint(&mut self) -> Option<dwell_model::Timestamp> {
        if let Inner::Evtx(d) = &mut self.inner {
            if let Some(t) = d.first_ts() {
                return Some(t);
            }
        }
        self.next_event().map(|e| e.ts())
    }

    /// The next event; `None` at the end of the file (or where it became unreadable).
    pub fn next_event(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        let ev = match &mut self.inner {
            Inner::Zeek(d) => d.next_event(&mut self.stats),
            Inner::Eve(d) => d.next_event(&mut self.stats),
            Inner::Pcap(d) => d.next_event(&mut self.stats),
            Inner::Evtx(d) => d.next_event(&mut self.stats),
            Inner::WinJson(d) => d.next_event(&mut self.stats),
        };
        if ev.is_none() {
            self.done = true;
        }
        ev
    }
}

impl Iterator for FileDecoder {
    type Item = Event;
    fn next(&mut self) -> Option<Event> {
        self.next_event()
    }
}

/// The anomaly kind of a read error in the middle of a file.
pub(crate) fn io_anomaly_kind(e: &std::io::Error) -> AnomalyKind {
    use std::io::ErrorKind as K;
    if e.to_string().contains(input::SIZE_CAP_MSG) {
        AnomalyKind::SizeCap
    } else if matches!(e.kind(), K::UnexpectedEof | K::InvalidInput | K::InvalidData) {
        AnomalyKind::Truncated
    } else {
        AnomalyKind::Io
    }
}
