//! Zeek logs: ASCII TSV (header-driven) and JSON, one decoder each, sharing the
//! per-log builders of [`logs`].
//!
//! TSV is read the way Zeek writes it: `#separator` (with `\xNN` escapes),
//! `#set_separator`, `#empty_field`, `#unset_field`, `#path` and `#fields` set the
//! meaning of every data line; fields may come in any order and extra trailing columns
//! (Stratosphere `.labeled` files) are ignored. Headers may repeat mid-file (logs
//! concatenated with `cat`) and each new `#fields` re-maps the columns.
//!
//! JSON is one object per line; keys in both `id.orig_h` and `id_orig_h` spellings;
//! `ts` as epoch seconds or ISO 8601 text. The log type comes from `_path` or `@stream`
//! when present, otherwise it is inferred from the first record's keys.

mod conn_tsv;
pub mod logs;
pub mod out;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use dwell_model::{Event, FileId, Header, SourceRef, Timestamp};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::certs::CertStore;
use crate::error::{AnomalyKind, FileStats};
use crate::input::{Line, LineReader};
use crate::value::{parse_f64, zeek_unescape, Get, Interner, Malformed, Missing, Rec};
use logs::LogType;

/// Upper bound on fields a log type's list may have.
pub const MAX_SLOTS: usize = 32;

/// Zeek TSV header state.
#[derive(Clone, Debug)]
struct TsvHeader {
    sep: u8,
    set_sep: u8,
    empty: String,
    unset: String,
    path: Option<String>,
    fields: Vec<String>,
}

impl Default for TsvHeader {
    fn default() -> Self {
        TsvHeader {
            sep: b'\t',
            set_sep: b',',
            empty: "(empty)".into(),
            unset: "-".into(),
            path: None,
            fields: Vec::new(),
        }
    }
}

/// Parses a `#separator` value (`\x09`) into one byte.
fn parse_sep(v: &str) -> Option<u8> {
    let u = zeek_unescape(v);
    match u.as_bytes() {
        [b] => Some(*b),
        _ => None,
    }
}

/// Checks, from the first bytes of a TSV file, that a `#fields` line comes before the
/// first data line, and returns the `#path` if one is given.
pub fn check_tsv_prefix(prefix: &[u8]) -> Result<Option<String>, String> {
    let mut hdr = TsvHeader::default();
    for line in prefix.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if let Some(h) = header_line(line) {
            let text = String::from_utf8_lossy(h);
            apply_directive(&mut hdr, &text)?;
            continue;
        }
        if hdr.fields.is_empty() {
            return Err("no #fields line before the first record".into());
        }
        break;
    }
    if hdr.fields.is_empty() && prefix.len() < crate::input::SNIFF_BYTES {
        // The whole file was read: a header without records is fine only with #fields.
        return Err("no #fields line".into());
    }
    Ok(hdr.path)
}

/// The directive of a header line: `#...` after optional leading whitespace (some
/// hand-edited logs indent `#separator`); `None` for data lines.
fn header_line(line: &[u8]) -> Option<&[u8]> {
    let skip = line.iter().take_while(|c| **c == b' ' || **c == b'\t').count();
    let rest = line.get(skip..)?;
    (rest.first() == Some(&b'#')).then_some(rest)
}

/// Applies one `#` line to the header state.
fn apply_directive(hdr: &mut TsvHeader, line: &str) -> Result<(), String> {
    // `#separator` is always followed by a space; the others by the separator.
    if let Some(v) = line.strip_prefix("#separator ") {
        hdr.sep = parse_sep(v.trim_end()).ok_or_else(|| format!("bad #separator {v:?}"))?;
        return Ok(());
    }
    let sep = hdr.sep as char;
    let (name, value) = match line.split_once(sep) {
        Some((n, v)) => (n, v),
        None => (line, ""),
    };
    match name {
        "#set_separator" => {
            hdr.set_sep =
                parse_sep(value).ok_or_else(|| format!("bad #set_separator {value:?}"))?;
        }
        "#empty_field" => hdr.empty = value.to_string(),
        "#unset_field" => hdr.unset = value.to_string(),
        "#path" => hdr.path = Some(value.to_string()),
        "#fields" => hdr.fields = value.split(sep).map(str::to_string).collect(),
        // #open, #close, #types and comments carry nothing we need.
        _ => {}
    }
    Ok(())
}

/// Most columns a TSV line is split into; later columns are counted, not kept.
const MAX_COLS: usize = 128;

/// One TSV record: the line, where its columns end, and which column holds each slot.
/// Columns are cut once per line; a field's text is sliced only when a builder asks.
struct TsvRec<'a> {
    line: &'a str,
    /// `cuts[i]` is the end of column `i` (a separator's position or the line's end).
    cuts: &'a [u32],
    /// Column of each slot, `u8::MAX` where the log has no such column.
    slot_col: &'a [u8; MAX_SLOTS],
    unset: &'a str,
    empty: &'a str,
    set_sep: u8,
}

impl TsvRec<'_> {
    fn raw(&self, slot: usize) -> Option<&str> {
        let col = usize::from(*self.slot_col.get(slot)?);
        let end = *self.cuts.get(col)? as usize;
        let start = match col.checked_sub(1) {
            Some(prev) => *self.cuts.get(prev)? as usize + 1,
            None => 0,
        };
        let v = self.line.get(start..end)?;
        (!is_marker(v.as_bytes(), self.unset.as_bytes())).then_some(v)
    }

    fn is_empty_marker(&self, v: &str) -> bool {
        is_marker(v.as_bytes(), self.empty.as_bytes())
    }
}

impl Rec for TsvRec<'_> {
    fn text(&self, slot: usize) -> Result<Option<Cow<'_, str>>, Malformed> {
        Ok(self.raw(slot).map(|v| {
            if self.is_empty_marker(v) {
                Cow::Borrowed("")
            } else {
                zeek_unescape(v)
            }
        }))
    }

    fn scalar(&self, slot: usize) -> Result<Option<Cow<'_, str>>, Malformed> {
        Ok(self.raw(slot).filter(|v| !self.is_empty_marker(v)).map(Cow::Borrowed))
    }

    fn parse_scalar<T>(
        &self,
        slot: usize,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, Malformed> {
        match self.raw(slot) {
            None => Ok(None),
            Some(v) if self.is_empty_marker(v) => Ok(None),
            Some(v) => parse(v).map(Some).ok_or(Malformed),
        }
    }

    fn with_text<T>(&self, slot: usize, f: impl FnOnce(&str) -> T) -> Result<Option<T>, Malformed> {
        Ok(self.raw(slot).map(|v| {
            if self.is_empty_marker(v) {
                f("")
            } else if v.bytes().any(|b| b == b'\\') {
                f(&zeek_unescape(v))
            } else {
                f(v)
            }
        }))
    }

    fn list(&self, slot: usize) -> Result<Vec<Cow<'_, str>>, Malformed> {
        match self.raw(slot) {
            None => Ok(Vec::new()),
            Some(v) if self.is_empty_marker(v) => Ok(Vec::new()),
            Some(v) => Ok(v.split(self.set_sep as char).map(zeek_unescape).collect()),
        }
    }

    fn time(&self, slot: usize) -> Result<Option<Timestamp>, Malformed> {
        match self.raw(slot) {
            None => Ok(None),
            Some(v) => Timestamp::parse_epoch(v)
                .or_else(|| Timestamp::parse_rfc3339(v))
                .map(Some)
                .ok_or(Malformed),
        }
    }
}

/// One JSON record: raw values by slot.
struct JsonRec<'a> {
    slots: [Option<&'a RawValue>; MAX_SLOTS],
}

fn json_str(raw: &RawValue) -> Result<Cow<'_, str>, Malformed> {
    let t = raw.get();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        let inner = &t[1..t.len() - 1];
        if !inner.contains('\\') {
            return Ok(Cow::Borrowed(inner));
        }
        return serde_json::from_str::<String>(t).map(Cow::Owned).map_err(|_| Malformed);
    }
    Err(Malformed)
}

impl Rec for JsonRec<'_> {
    fn text(&self, slot: usize) -> Result<Option<Cow<'_, str>>, Malformed> {
        let Some(raw) = self.slots.get(slot).copied().flatten() else { return Ok(None) };
        let t = raw.get();
        match t.as_bytes().first() {
            Some(b'"') => json_str(raw).map(Some),
            Some(b'n') => Ok(None),
            Some(b'[' | b'{') | None => Err(Malformed),
            // Numbers and bools as their text.
            Some(_) => Ok(Some(Cow::Borrowed(t))),
        }
    }

    fn scalar(&self, slot: usize) -> Result<Option<Cow<'_, str>>, Malformed> {
        let Some(raw) = self.slots.get(slot).copied().flatten() else { return Ok(None) };
        let t = raw.get();
        match t.as_bytes().first() {
            Some(b'"') => json_str(raw).map(Some),
            Some(b'n') => Ok(None),
            Some(b'[' | b'{') | None => Err(Malformed),
            Some(_) => Ok(Some(Cow::Borrowed(t))),
        }
    }

    fn list(&self, slot: usize) -> Result<Vec<Cow<'_, str>>, Malformed> {
        let Some(raw) = self.slots.get(slot).copied().flatten() else { return Ok(Vec::new()) };
        let t = raw.get();
        match t.as_bytes().first() {
            Some(b'[') => {
                let items: Vec<&RawValue> = serde_json::from_str(t).map_err(|_| Malformed)?;
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    let s = it.get();
                    match s.as_bytes().first() {
                        Some(b'"') => out.push(json_str(it)?),
                        Some(b'[' | b'{') | None => return Err(Malformed),
                        Some(_) => out.push(Cow::Borrowed(s)),
                    }
                }
                Ok(out)
            }
            Some(b'n') => Ok(Vec::new()),
            // A lone string where a set was expected: one element.
            Some(b'"') => Ok(vec![json_str(raw)?]),
            _ => Err(Malformed),
        }
    }

    fn time(&self, slot: usize) -> Result<Option<Timestamp>, Malformed> {
        let Some(raw) = self.slots.get(slot).copied().flatten() else { return Ok(None) };
        let t = raw.get();
        match t.as_bytes().first() {
            Some(b'"') => {
                let s = json_str(raw)?;
                Timestamp::parse_rfc3339(&s)
                    .or_else(|| Timestamp::parse_epoch(&s))
                    .map(Some)
                    .ok_or(Malformed)
            }
            Some(b'n') => Ok(None),
            Some(_) => Timestamp::parse_epoch(t)
                .or_else(|| parse_f64(t).map(|f| Timestamp(0).add_secs_f64(f)))
                .map(Some)
                .ok_or(Malformed),
            None => Err(Malformed),
        }
    }
}

/// Key → slot maps for every log type, accepting `a.b` and `a_b` spellings, with a
/// cache of the last record's key order: Zeek writes every record of a log with the
/// same keys in the same order, so most keys are matched by one string comparison.
struct KeyMaps {
    maps: HashMap<LogType, HashMap<String, u8, foldhash::fast::RandomState>>,
    order: Vec<(LogType, String, Option<u8>)>,
}

impl KeyMaps {
    fn new() -> Self {
        let mut maps = HashMap::new();
        for t in LogType::ALL {
            let mut m: HashMap<String, u8, foldhash::fast::RandomState> = HashMap::default();
            for (i, name) in t.fields().iter().enumerate() {
                m.insert((*name).to_string(), i as u8);
                m.insert(name.replace('.', "_"), i as u8);
            }
            maps.insert(*t, m);
        }
        KeyMaps { maps, order: Vec::new() }
    }

    /// Slot of the `pos`-th key of a record of type `t`.
    fn slot(&mut self, t: LogType, pos: usize, key: &str) -> Option<usize> {
        if let Some((ct, ck, slot)) = self.order.get(pos) {
            if *ct == t && ck == key {
                return slot.map(usize::from);
            }
        }
        let slot = self.maps.get(&t)?.get(key).copied();
        if pos < 64 {
            if self.order.len() <= pos {
                self.order.resize(pos + 1, (t, String::new(), None));
            }
            if let Some(e) = self.order.get_mut(pos) {
                *e = (t, key.to_string(), slot);
            }
        }
        slot.map(usize::from)
    }
}

/// Normalises an underscore-style key to Zeek's dotted spelling, for type inference.
fn dotted(key: &str) -> Cow<'_, str> {
    for p in ["id_", "certificate_", "san_", "basic_constraints_", "times_"] {
        if let Some(rest) = key.strip_prefix(p) {
            return Cow::Owned(format!("{}.{}", &p[..p.len() - 1], rest));
        }
    }
    Cow::Borrowed(key)
}

/// A JSON object key, borrowed from the line unless it had to be unescaped.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// The (key, value) pairs of one JSON object, borrowed from the line.
struct Pairs<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Pairs<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(32);
                while let Some(Key(k)) = m.next_key::<Key<'de>>()? {
                    let val: &'de RawValue = m.next_value()?;
                    v.push((k, val));
                }
                Ok(Pairs(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// Infers the log type of a JSON object from its keys.
fn infer_json(pairs: &[(Cow<'_, str>, &RawValue)]) -> Option<LogType> {
    let keys: Vec<Cow<'_, str>> = pairs.iter().map(|(k, _)| dotted(k)).collect();
    LogType::infer(|name| keys.iter().any(|k| k == name))
}

/// The explicit log type name of a JSON object (`_path`, `@stream`), if any.
fn explicit_path<'a>(pairs: &'a [(Cow<'a, str>, &'a RawValue)]) -> Option<Cow<'a, str>> {
    pairs
        .iter()
        .find(|(k, _)| k == "_path" || k == "@stream" || k == "_log")
        .and_then(|(_, v)| json_str(v).ok())
}

/// Guesses the Zeek log type of a JSON file from its first parsable line.
pub fn json_prefix_log_type(prefix: &[u8]) -> Option<String> {
    for line in prefix.split(|&b| b == b'\n').take(16) {
        let Ok(p) = serde_json::from_slice::<Pairs<'_>>(line) else { continue };
        if let Some(path) = explicit_path(&p.0) {
            return Some(path.into_owned());
        }
        return infer_json(&p.0).map(|t| t.path().to_string());
    }
    None
}

/// Text encodings of Zeek logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// ASCII TSV with `#` headers.
    Tsv,
    /// One JSON object per line.
    Json,
}

/// Streaming decoder of one Zeek log file (TSV or JSON).
pub struct ZeekDecoder {
    lines: LineReader,
    enc: Encoding,
    file: FileId,
    certs: Option<Arc<CertStore>>,
    // TSV state
    hdr: TsvHeader,
    log: Option<LogType>,
    slot_col: [u8; MAX_SLOTS],
    cuts: Box<[u32; MAX_COLS]>,
    /// Column roles of a conn.log, for its records' direct path.
    conn_plan: Option<conn_tsv::ConnPlan>,
    /// Whether direct paths may be used (tests turn them off to compare).
    direct: bool,
    /// Records the direct paths decoded.
    direct_records: u64,
    // JSON state
    keymaps: Option<KeyMaps>,
    inferred: Option<Option<LogType>>,
    intern: Interner,
}

impl ZeekDecoder {
    /// A decoder over `lines` in encoding `enc`.
    pub fn new(
        lines: LineReader,
        enc: Encoding,
        file: FileId,
        certs: Option<Arc<CertStore>>,
    ) -> Self {
        ZeekDecoder {
            lines,
            enc,
            file,
            certs,
            hdr: TsvHeader::default(),
            log: None,
            slot_col: [u8::MAX; MAX_SLOTS],
            cuts: Box::new([0; MAX_COLS]),
            conn_plan: None,
            direct: true,
            direct_records: 0,
            keymaps: (enc == Encoding::Json).then(KeyMaps::new),
            inferred: None,
            intern: Interner::default(),
        }
    }

    /// The same decoder with every record going through the general reader: the
    /// reference the direct paths are tested against.
    #[cfg(test)]
    pub(crate) fn general_only(mut self) -> Self {
        self.direct = false;
        self
    }

    /// Records decoded by a direct path rather than the general reader.
    pub fn direct_records(&self) -> u64 {
        self.direct_records
    }

    /// Decompressed bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.lines.bytes
    }

    /// Decodes up to the next event; `None` at end of input.
    pub fn next_event(&mut self, stats: &mut FileStats) -> Option<Event> {
        loop {
            let line_no = self.lines.line_no + 1;
            match self.lines.next_line() {
                Line::Data(_) => {}
                Line::TooLong(n) => {
                    stats.records += 1;
                    stats.anomaly(line_no, AnomalyKind::LineTooLong, format!("{n} bytes"));
                    continue;
                }
                Line::Error(e) => {
                    stats.anomaly(line_no, crate::io_anomaly_kind(&e), e);
                    stats.bytes = self.lines.bytes;
                    return None;
                }
                Line::Eof => {
                    stats.bytes = self.lines.bytes;
                    return None;
                }
            };
            let ev = match self.enc {
                Encoding::Tsv => decode_tsv_line(self, line_no, stats),
                Encoding::Json => decode_json_line(self, line_no, stats),
            };
            if let Some(ev) = ev {
                return Some(ev);
            }
        }
    }
}

fn decode_tsv_line(d: &mut ZeekDecoder, line_no: u64, stats: &mut FileStats) -> Option<Event> {
    // `d.lines` is borrowed by the line; re-borrow fields separately.
    let ZeekDecoder {
        lines,
        hdr,
        log,
        slot_col,
        cuts,
        conn_plan,
        direct,
        direct_records,
        file,
        certs,
        intern,
        ..
    } = d;
    let line = lines.current()?;
    if line.is_empty() {
        return None;
    }
    if let Some(plan) = conn_plan {
        if header_line(line).is_none() {
            if let Some(ev) = plan.decode(line, cuts, (*file, line_no), intern) {
                *direct_records += 1;
                stats.records += 1;
                *stats.events.entry(dwell_model::Kind::Conn).or_default() += 1;
                return Some(ev);
            }
        }
    }
    // SIMD validation first (Zeek logs are ASCII, so it almost always passes); the
    // standard library's slower check only runs to repair a bad line.
    let text: Cow<'_, str> = match simdutf8::basic::from_utf8(line) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => {
            stats.anomaly(line_no, AnomalyKind::BadUtf8, "invalid UTF-8 replaced");
            String::from_utf8_lossy(line)
        }
    };
    if let Some(h) = header_line(text.as_bytes()) {
        // Only ASCII whitespace was cut off the front, so this stays on a char boundary.
        let text = String::from_utf8_lossy(h);
        if let Err(e) = apply_directive(hdr, &text) {
            stats.anomaly(line_no, AnomalyKind::BadHeader, e);
        }
        if text.starts_with("#fields") || text.starts_with("#path") || text.starts_with("#sep") {
            *log = hdr.path.as_deref().and_then(LogType::from_path);
            *slot_col = match log {
                Some(t) => map_columns(&hdr.fields, t.fields()),
                None => [u8::MAX; MAX_SLOTS],
            };
        }
        // Any directive may change the markers the plan compares with.
        *conn_plan = (*direct && *log == Some(LogType::Conn) && !hdr.fields.is_empty())
            .then(|| conn_tsv::ConnPlan::new(&hdr.fields, hdr.sep, &hdr.unset, &hdr.empty))
            .flatten();
        return None;
    }
    stats.records += 1;
    let Some(t) = *log else {
        stats.skip(hdr.path.as_deref().unwrap_or("(no #path)"));
        return None;
    };
    if hdr.fields.is_empty() {
        stats.anomaly(line_no, AnomalyKind::BadHeader, "record before any #fields line");
        return None;
    }
    // Cut at separator bytes. The separator is one byte and a UTF-8 lead or
    // continuation byte is never ASCII, so with an ASCII separator every cut is a char
    // boundary; with any other byte `str::get` refuses the slice and the field is unset.
    let (ncols, _) = cut_columns::<false>(text.as_bytes(), hdr.sep, cuts);
    if ncols < hdr.fields.len() {
        stats.anomaly(
            line_no,
            AnomalyKind::ShortRecord,
            format!("{ncols} of {} columns", hdr.fields.len()),
        );
    }
    let cuts = cuts.get(..ncols.min(MAX_COLS)).unwrap_or(&[]);
    let rec = TsvRec {
        line: &text,
        cuts,
        slot_col,
        unset: &hdr.unset,
        empty: &hdr.empty,
        set_sep: hdr.set_sep,
    };
    build(t, &rec, *file, line_no, certs.as_deref(), stats, intern)
}

fn decode_json_line(d: &mut ZeekDecoder, line_no: u64, stats: &mut FileStats) -> Option<Event> {
    let ZeekDecoder { lines, keymaps, inferred, file, certs, intern, .. } = d;
    let line = lines.current()?;
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    stats.records += 1;
    // Validate UTF-8 once for the line (SIMD-fast) so the parser need not per string.
    let text: Cow<'_, str> = match std::str::from_utf8(line) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => {
            stats.anomaly(line_no, AnomalyKind::BadUtf8, "invalid UTF-8 replaced");
            String::from_utf8_lossy(line)
        }
    };
    let pairs = match serde_json::from_str::<Pairs<'_>>(&text) {
        Ok(p) => p.0,
        Err(e) => {
            stats.anomaly(line_no, AnomalyKind::BadJson, e);
            return None;
        }
    };
    let t = match explicit_path(&pairs) {
        Some(p) => match LogType::from_path(&p) {
            Some(t) => t,
            None => {
                stats.skip(&p);
                return None;
            }
        },
        None => {
            let t = *inferred.get_or_insert_with(|| infer_json(&pairs));
            match t {
                Some(t) => t,
                None => {
                    stats.skip("(unrecognised JSON log)");
                    return None;
                }
            }
        }
    };
    let maps = keymaps.as_mut()?;
    let mut rec = JsonRec { slots: [None; MAX_SLOTS] };
    for (pos, (k, v)) in pairs.iter().enumerate() {
        if let Some(s) = maps.slot(t, pos, k) {
            if let Some(c) = rec.slots.get_mut(s) {
                *c = Some(*v);
            }
        }
    }
    build(t, &rec, *file, line_no, certs.as_deref(), stats, intern)
}

/// Cuts `line` into columns: `cuts[i]` becomes the end of column `i` (a separator's
/// position, the line's end for the last). Returns the number of columns (which may
/// exceed `cuts`; later ends are not kept) and, when `PLAIN`, whether the line is ASCII
/// without a backslash (always `true` otherwise).
fn cut_columns<const PLAIN: bool>(
    line: &[u8],
    sep: u8,
    cuts: &mut [u32; MAX_COLS],
) -> (usize, bool) {
    let mut ncols = 0;
    let mut cut = |pos: usize| {
        if let Some(c) = cuts.get_mut(ncols) {
            *c = pos as u32;
        }
        ncols += 1;
    };
    let plain = if PLAIN {
        crate::value::for_each_sep_plain(line, sep, &mut cut)
    } else {
        crate::value::for_each_sep(line, sep, &mut cut);
        true
    };
    cut(line.len());
    (ncols, plain)
}

/// `v` equals the marker `m` (`-`, `(empty)`): lengths and first bytes first, since
/// almost no field is a marker, and a one-byte marker needs nothing more.
#[inline(always)]
fn is_marker(v: &[u8], m: &[u8]) -> bool {
    v.len() == m.len() && v.first() == m.first() && (v.len() == 1 || v == m)
}

/// Slot → column index, for a `#fields` list against a log type's list (`u8::MAX`:
/// not in the file). A field repeated in `#fields` maps to its first column; columns
/// past [`MAX_COLS`] are not read.
fn map_columns(fields: &[String], wanted: &[&str]) -> [u8; MAX_SLOTS] {
    let mut map = [u8::MAX; MAX_SLOTS];
    for (slot, w) in wanted.iter().enumerate().take(MAX_SLOTS) {
        if let Some(col) = fields.iter().take(MAX_COLS).position(|f| f == w) {
            map[slot] = col as u8;
        }
    }
    map
}

/// Builds the event of one record and does the counting.
fn build<R: Rec>(
    t: LogType,
    rec: &R,
    file: FileId,
    line_no: u64,
    certs: Option<&CertStore>,
    stats: &mut FileStats,
    intern: &mut Interner,
) -> Option<Event> {
    let mut g = Get::new(rec, t.fields(), intern);
    let result = logs::header(&mut g).and_then(|h| Ok((h, t.build(&mut g, certs)?)));
    let bad = g.bad.map(|s| g.name(s));
    match result {
        Ok(((ts, uid, community_id), body)) => {
            if let Some(name) = bad {
                stats.anomaly(line_no, AnomalyKind::BadValue, format!("field {name}"));
            }
            *stats.events.entry(body.kind()).or_default() += 1;
            Some(Event {
                header: Header { ts, src: SourceRef { file, record: line_no }, uid, community_id },
                body,
            })
        }
        Err(Missing(name)) => {
            let why = match bad {
                Some(b) if b == name => format!("field {name} malformed"),
                _ => format!("field {name} missing"),
            };
            stats.anomaly(
                line_no,
                AnomalyKind::MissingField,
                format!("{} record: {why}", t.path()),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests;
