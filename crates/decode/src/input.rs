//! Opening inputs: plain or gzip, with a decompression cap, and a line reader.
//!
//! Compression is recognised by its magic bytes (`1f 8b`), never by the file name, and
//! multi-member gzip (what `cat a.gz b.gz` and some rotators produce) is read whole.
//! The decompressed size of one file is capped ([`DecodeOptions::max_decompressed`]):
//! deflate can expand ~1000:1, so a small hostile file could otherwise keep the
//! pipeline busy for hours.
//!
//! [`LineReader`] is a lending line iterator over any `Read`: it hands out slices of
//! its own buffer (no allocation per line), strips `\r\n`, and skips lines longer than
//! a cap instead of growing without bound.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::DecodeOptions;

/// Bytes read from the start of a file to sniff its format.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Bytes of an EVTX file header: the prefix read of an EVTX file.
const EVTX_HEADER: usize = 4096;

/// How an EVTX file starts.
pub(crate) const EVTX_MAGIC: &[u8] = b"ElfFile\0";

/// A readable input with its first bytes already read (for sniffing).
pub struct Opened {
    /// The sniffed prefix (decompressed), at most [`SNIFF_BYTES`].
    pub prefix: Vec<u8>,
    /// The rest of the stream, starting right after `prefix`.
    pub rest: Box<dyn Read + Send>,
    /// Whether the file was gzip-compressed.
    pub gzip: bool,
    /// Size of the file on disk.
    pub file_size: u64,
    /// Bytes read from disk so far (compressed bytes for gzip), for progress bars.
    pub raw_read: Arc<AtomicU64>,
    /// The whole input when it was handed over in memory uncompressed; `prefix` is then
    /// a copy of its start and `rest` is empty.
    pub whole: Option<Vec<u8>>,
    /// A second handle on the file on disk (shares its read position), for decoders
    /// that seek (EVTX) instead of streaming; `None` for input from memory or a reader.
    pub disk: Option<File>,
}

/// Opens a file, detects gzip by magic, and reads the sniffing prefix.
pub fn open(path: &Path, opts: &DecodeOptions) -> io::Result<Opened> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::other("is a directory"));
    }
    let head = read_head(&mut file)?;
    // Only an EVTX file is read by seeking, through a second handle.
    let disk = if head.starts_with(EVTX_MAGIC) { file.try_clone().ok() } else { None };
    let mut opened = from_head(head, Box::new(file), meta.len(), opts)?;
    opened.disk = disk;
    Ok(opened)
}

/// Like [`open`], over any reader (`size` is only reported, e.g. for progress).
pub fn from_reader(
    mut raw: Box<dyn Read + Send>,
    size: u64,
    opts: &DecodeOptions,
) -> io::Result<Opened> {
    let head = read_head(&mut raw)?;
    from_head(head, raw, size, opts)
}

/// The first block of a stream, read in one call where the source allows: an EVTX
/// file's header (4 KiB) is all the prefix it needs, not the 64 KiB text formats are
/// sniffed on.
fn read_head(raw: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; EVTX_HEADER];
    let n = read_full(raw, &mut head)?;
    head.truncate(n);
    Ok(head)
}

/// [`from_reader`] once the first block (`head`) has been read from `raw`.
fn from_head(
    head: Vec<u8>,
    raw: Box<dyn Read + Send>,
    size: u64,
    opts: &DecodeOptions,
) -> io::Result<Opened> {
    let n = head.len();
    let raw_read = Arc::new(AtomicU64::new(n as u64));
    let counted = Counting { inner: raw, count: raw_read.clone() };
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let (mut rest, mut prefix, mut got): (Box<dyn Read + Send>, _, _) = if gzip {
        let inflated = MultiGzDecoder::new(io::Cursor::new(head).chain(counted));
        let mut rest = Box::new(Capped::new(inflated, opts.max_decompressed));
        let mut prefix = vec![0u8; EVTX_HEADER];
        let got = read_full(&mut rest, &mut prefix)?;
        (rest, prefix, got)
    } else {
        (Box::new(counted), head, n)
    };
    if got == EVTX_HEADER && !prefix.starts_with(EVTX_MAGIC) {
        prefix.resize(SNIFF_BYTES, 0);
        got += read_full(&mut rest, &mut prefix[EVTX_HEADER..])?;
    }
    prefix.truncate(got);
    Ok(Opened { prefix, rest, gzip, file_size: size, raw_read, whole: None, disk: None })
}

/// Counts bytes read from the underlying file.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Opened {
    /// The whole stream again: prefix followed by the rest.
    pub fn into_reader(self) -> Box<dyn Read + Send> {
        match self.whole {
            Some(w) => Box::new(io::Cursor::new(w)),
            None => Box::new(io::Cursor::new(self.prefix).chain(self.rest)),
        }
    }

    /// The whole stream as lines; bytes in memory are read in place, not copied.
    pub fn into_lines(self, max_line: usize) -> LineReader {
        match self.whole {
            Some(w) => LineReader::from_vec(w, max_line),
            None => LineReader::new(self.into_reader(), max_line),
        }
    }
}

/// Input handed over in memory: gzip is decompressed through the same capped reader
/// as a file; plain bytes are kept as they are and read in place.
pub fn from_memory(bytes: Vec<u8>, opts: &DecodeOptions) -> io::Result<Opened> {
    let len = bytes.len() as u64;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return from_reader(Box::new(io::Cursor::new(bytes)), len, opts);
    }
    Ok(Opened {
        prefix: bytes.get(..SNIFF_BYTES).unwrap_or(&bytes).to_vec(),
        rest: Box::new(io::empty()),
        gzip: false,
        file_size: len,
        raw_read: Arc::new(AtomicU64::new(len)),
        disk: None,
        whole: Some(bytes),
    })
}

/// Reads until `buf` is full or the stream ends; returns bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Marker error text for a hit of the decompression cap.
pub const SIZE_CAP_MSG: &str = "decompressed size cap reached";

/// A reader that fails once more than `cap` bytes have passed through it.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R> Capped<R> {
    fn new(inner: R, cap: u64) -> Self {
        Capped { inner, left: cap }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Distinguish "exactly at the cap and done" from "more to come".
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(SIZE_CAP_MSG)),
            };
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// What [`LineReader::next_line`] yields.
pub enum Line<'a> {
    /// A line without its terminator.
    Data(&'a [u8]),
    /// A line longer than the cap was skipped; its length so far.
    TooLong(usize),
    /// The stream failed; decoding of this file stops.
    Error(io::Error),
    /// End of input.
    Eof,
}

/// Read chunk size. Large enough that the per-read cost vanishes.
const CHUNK: usize = 256 * 1024;

/// A line reader that lends slices of its buffer.
pub struct LineReader {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    max_line: usize,
    /// 1-based number of the line last returned.
    pub line_no: u64,
    /// Bytes consumed so far.
    pub bytes: u64,
    /// Range in `buf` of the last data line returned.
    cur: (usize, usize),
}

impl LineReader {
    /// Reads lines straight out of bytes already in memory: no copy into a buffer of
    /// its own. Lines longer than `max_line` bytes are skipped.
    pub fn from_vec(bytes: Vec<u8>, max_line: usize) -> Self {
        let len = bytes.len();
        LineReader {
            inner: Box::new(io::empty()),
            buf: bytes,
            start: 0,
            end: len,
            eof: true,
            max_line: max_line.max(16),
            line_no: 0,
            bytes: len as u64,
            cur: (0, 0),
        }
    }

    /// Wraps a reader; lines longer than `max_line` bytes are skipped.
    pub fn new(inner: Box<dyn Read + Send>, max_line: usize) -> Self {
        LineReader {
            inner,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            max_line: max_line.max(16),
            line_no: 0,
            bytes: 0,
            cur: (0, 0),
        }
    }

    /// Reads more input into the buffer; returns false at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grow = self.buf.len().min(self.max_line + 1);
            self.buf.resize(self.buf.len() + grow, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    self.bytes += n as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.eof = true;
                    return Err(e);
                }
            }
        }
    }

    /// The next line.
    pub fn next_line(&mut self) -> Line<'_> {
        let mut scanned = 0; // bytes of the current line already searched
        loop {
            let window = &self.buf[self.start + scanned..self.end];
            if let Some(i) = memchr::memchr(b'\n', window) {
                let line_end = self.start + scanned + i;
                let s = self.start;
                self.start = line_end + 1;
                self.line_no += 1;
                let len = line_end - s;
                if len > self.max_line {
                    return Line::TooLong(len);
                }
                return self.data(s, line_end);
            }
            scanned = self.end - self.start;
            if scanned > self.max_line {
                // Skip the rest of this line without keeping it.
                return self.skip_long_line(scanned);
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) => {
                    if self.start == self.end {
                        return Line::Eof;
                    }
                    // Last line without a terminator.
                    let (s, e) = (self.start, self.end);
                    self.start = self.end;
                    self.line_no += 1;
                    return self.data(s, e);
                }
                Err(e) => return Line::Error(e),
            }
        }
    }

    /// Records `buf[s..e]` (minus a trailing `\r`) as the current line and returns it.
    fn data(&mut self, s: usize, mut e: usize) -> Line<'_> {
        if e > s && self.buf[e - 1] == b'\r' {
            e -= 1;
        }
        self.cur = (s, e);
        Line::Data(&self.buf[s..e])
    }

    /// The last data line returned by [`next_line`](Self::next_line), until the next call.
    pub fn current(&self) -> Option<&[u8]> {
        self.buf.get(self.cur.0..self.cur.1)
    }

    /// The next non-blank line of a one-record-per-line format, with its line number,
    /// counted in `stats.records`; an over-long line is counted and skipped, a read error
    /// or the end of input ends it (`None`, with the anomaly and byte count recorded).
    pub fn next_record(&mut self, stats: &mut crate::FileStats) -> Option<(u64, &[u8])> {
        loop {
            let line_no = self.line_no + 1;
            match self.next_line() {
                Line::Data(_) => {}
                Line::TooLong(n) => {
                    stats.records += 1;
                    stats.anomaly(line_no, crate::AnomalyKind::LineTooLong, format!("{n} bytes"));
                    continue;
                }
                Line::Error(e) => {
                    stats.anomaly(line_no, crate::io_anomaly_kind(&e), e);
                    stats.bytes = self.bytes;
                    return None;
                }
                Line::Eof => {
                    stats.bytes = self.bytes;
                    return None;
                }
            }
            if self.current().unwrap_or_default().iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            stats.records += 1;
            return Some((line_no, self.current().unwrap_or_default()));
        }
    }

    fn skip_long_line(&mut self, mut len: usize) -> Line<'_> {
        self.start = self.end;
        loop {
            match self.fill() {
                Ok(true) => {
                    if let Some(i) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                        len += i;
                        self.start += i + 1;
                        self.line_no += 1;
                        return Line::TooLong(len);
                    }
                    len += self.end - self.start;
                    self.start = self.end;
                }
                Ok(false) => {
                    self.line_no += 1;
                    return Line::TooLong(len);
                }
                Err(e) => return Line::Error(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of `data` read through a reader, checked equal (lines, line numbers,
    /// byte count) to the same bytes read in place from memory.
    fn lines(data: &[u8], max: usize) -> Vec<String> {
        let read = |mut r: LineReader| {
            let mut out = vec![];
            loop {
                match r.next_line() {
                    Line::Data(l) => out.push(String::from_utf8_lossy(l).into_owned()),
                    Line::TooLong(n) => out.push(format!("<too long {n}>")),
                    Line::Error(e) => out.push(format!("<error {e}>")),
                    Line::Eof => break,
                }
            }
            (out, r.line_no, r.bytes)
        };
        let streamed = read(LineReader::new(Box::new(io::Cursor::new(data.to_vec())), max));
        let in_place = read(LineReader::from_vec(data.to_vec(), max));
        assert_eq!(streamed, in_place);
        streamed.0
    }

    #[test]
    fn splits_lines() {
        assert_eq!(lines(b"a\nb\r\n\nc", 100), ["a", "b", "", "c"]);
        assert_eq!(lines(b"", 100), Vec::<String>::new());
        assert_eq!(lines(b"x\n", 100), ["x"]);
    }

    #[test]
    fn skips_long_lines_and_goes_on() {
        let mut data = vec![b'a'; 1000];
        data.extend_from_slice(b"\nok\n");
        assert_eq!(lines(&data, 100), ["<too long 1000>", "ok"]);
        let data = vec![b'z'; 3 * CHUNK + 7];
        assert_eq!(lines(&data, 100), [format!("<too long {}>", 3 * CHUNK + 7)]);
    }

    #[test]
    fn long_lines_under_the_cap_cross_chunks() {
        let mut data = vec![b'q'; CHUNK * 2 + 5];
        data.push(b'\n');
        data.extend_from_slice(b"tail");
        let out = lines(&data, CHUNK * 4);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].len(), CHUNK * 2 + 5);
        assert_eq!(out[1], "tail");
    }

    #[test]
    fn capped_reader() {
        let mut r = Capped::new(io::Cursor::new(vec![1u8; 10]), 4);
        let mut buf = [0u8; 16];
        assert_eq!(r.read(&mut buf).unwrap(), 4);
        assert!(r.read(&mut buf).is_err());
        let mut r = Capped::new(io::Cursor::new(vec![1u8; 4]), 4);
        assert_eq!(r.read(&mut buf).unwrap(), 4);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
    }
}
