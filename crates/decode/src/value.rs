//! Typed access to the fields of one record, whatever the text format.
//!
//! Zeek TSV, Zeek JSON and (partly) EVE give the same values in different spellings:
//! unset is `-` or `null`, a set is `a,b` or `["a","b"]`, a bool is `T` or `true`, a
//! time is `1588316522.186129` or `"2020-05-01T07:02:02.186129Z"`. [`Rec`] hides the
//! spelling behind one trait; [`Get`] builds typed values on top of it and remembers
//! the first field that did not parse, so a builder can write
//! `g.u64(ORIG_BYTES)` and the caller counts one `bad_value` anomaly per record
//! while the record itself is kept.

use std::borrow::Cow;
use std::net::IpAddr;

use dwell_model::{Flow, Proto, Text, Timestamp, Uid};

/// A field value that is present but not of the expected shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// Field access by slot index. Slots are positions in a log type's field list.
pub trait Rec {
    /// String semantics: unescaped text; `None` when unset.
    fn text(&self, slot: usize) -> Result<Option<Cow<'_, str>>, Malformed>;
    /// Scalar token text (a number or a bool as written); `None` when unset.
    fn scalar(&self, slot: usize) -> Result<Option<Cow<'_, str>>, Malformed>;
    /// A set or vector; empty when unset.
    fn list(&self, slot: usize) -> Result<Vec<Cow<'_, str>>, Malformed>;
    /// A time value.
    fn time(&self, slot: usize) -> Result<Option<Timestamp>, Malformed>;

    /// A scalar token handed to `parse` without building a `Cow`; `parse` returning
    /// `None` means malformed. Formats whose tokens are borrowed slices override it.
    fn parse_scalar<T>(
        &self,
        slot: usize,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, Malformed> {
        match self.scalar(slot)? {
            None => Ok(None),
            Some(t) => parse(&t).map(Some).ok_or(Malformed),
        }
    }

    /// Text (unescaped) handed to `f`; `None` when unset.
    fn with_text<T>(&self, slot: usize, f: impl FnOnce(&str) -> T) -> Result<Option<T>, Malformed> {
        Ok(self.text(slot)?.map(|t| f(&t)))
    }
}

/// Shares one allocation among records that repeat a value (`SF`, `ssl`, `TLSv13`).
///
/// Bounded: once `cap` distinct values are held, new values are allocated as usual and
/// not kept, so a hostile high-cardinality field cannot grow it. Hashing uses a
/// per-process random seed.
#[derive(Debug)]
pub struct Interner {
    /// A direct-mapped cache in front of the set, indexed by a cheap fingerprint
    /// (length, first and last byte): most lookups end here without hashing.
    recent: Vec<Option<Text>>,
    set: std::collections::HashSet<Text, foldhash::fast::RandomState>,
    cap: usize,
}

impl Default for Interner {
    fn default() -> Self {
        Interner { recent: vec![None; 256], set: Default::default(), cap: 4096 }
    }
}

/// Slot of a text in the interner's direct-mapped cache: length, first and last byte.
#[inline(always)]
fn fingerprint(b: &[u8]) -> usize {
    (b.len() * 31
        + usize::from(b.first().copied().unwrap_or(0)) * 7
        + usize::from(b.last().copied().unwrap_or(0)))
        & 255
}

impl Interner {
    /// The shared text equal to the bytes `b`; `None` when they are not UTF-8. A
    /// recently seen value is found without checking the bytes for UTF-8.
    #[inline(always)]
    pub fn get_bytes(&mut self, b: &[u8]) -> Option<Text> {
        match self.recent(b) {
            Some(t) => Some(t),
            None => self.get_utf8(b),
        }
    }

    #[inline(never)]
    fn get_utf8(&mut self, b: &[u8]) -> Option<Text> {
        std::str::from_utf8(b).ok().map(|s| self.insert(s))
    }

    /// The shared text equal to `s`.
    pub fn get(&mut self, s: &str) -> Text {
        match self.recent(s.as_bytes()) {
            Some(t) => t,
            None => self.insert(s),
        }
    }

    /// The text equal to `b` in the direct-mapped cache, if it is there.
    #[inline(always)]
    fn recent(&self, b: &[u8]) -> Option<Text> {
        let t = self.recent.get(fingerprint(b))?.as_ref()?;
        same_short(t.as_bytes(), b).then(|| t.clone())
    }

    /// The shared text equal to `s` from the set (added while there is room), put in
    /// the cache.
    fn insert(&mut self, s: &str) -> Text {
        let t = match self.set.get(s) {
            Some(t) => t.clone(),
            None => {
                let t = Text::from(s);
                if self.set.len() < self.cap {
                    self.set.insert(t.clone());
                }
                t
            }
        };
        if let Some(slot) = self.recent.get_mut(fingerprint(s.as_bytes())) {
            *slot = Some(t.clone());
        }
        t
    }
}

/// Byte equality for the short texts an [`Interner`] holds, compared in a loop whose
/// length is the text's (no early exit on the first difference, no `memcmp` call).
#[inline(always)]
fn same_short(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Calls `f` with the position of every `sep` byte in `bytes`, in order.
///
/// Sixty-four bytes at a time, without a branch per word: each 8-byte word gives the
/// zero bytes of `word ^ sep` as high bits (`!(((v & 0x7f..) + 0x7f..) | v) & 0x80..`
/// marks exactly the zero bytes — no borrow crosses bytes), a multiply gathers those
/// eight bits into one byte, and eight such bytes make a 64-bit mask whose set bits
/// are then walked. A Zeek line of ~130 bytes takes three masks (the last from the
/// tail's whole words), so the only branch the CPU cannot predict is the end of each
/// mask, not one per word (a plain word-at-a-time scan) nor one call per field (a
/// restarted `memchr`). Measured: line finding, UTF-8 check and this split together
/// run at twice the memchr floor's rate on the benchmark conn.log.
pub fn for_each_sep(bytes: &[u8], sep: u8, f: impl FnMut(usize)) {
    scan::<false>(bytes, sep, f);
}

/// [`for_each_sep`] that also tells whether `bytes` are plain: ASCII, with no `\\`
/// (so neither a UTF-8 check nor an unescape is needed for any field). The test rides
/// on the words the split loads anyway: their bits OR-ed together, and a zero-byte
/// test of each word XOR-ed with backslashes.
pub fn for_each_sep_plain(bytes: &[u8], sep: u8, f: impl FnMut(usize)) -> bool {
    scan::<true>(bytes, sep, f)
}

#[inline(always)]
fn scan<const PLAIN: bool>(bytes: &[u8], sep: u8, mut f: impl FnMut(usize)) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const BACKSLASH: u64 = LO * b'\\' as u64;
    let pattern = LO * u64::from(sep);
    // High bits seen, and zero bytes of `word ^ BACKSLASH` seen (exact as a yes/no:
    // `(x - LO) & !x & HI` is non-zero exactly when some byte of `x` is zero).
    let (mut high, mut escape) = (0u64, 0u64);
    let note = |v: u64, high: &mut u64, escape: &mut u64| {
        if PLAIN {
            *high |= v;
            let x = v ^ BACKSLASH;
            *escape |= x.wrapping_sub(LO) & !x & HI;
        }
    };
    let mut chunks = bytes.chunks_exact(64);
    let mut base = 0;
    for c in &mut chunks {
        let mut m = 0u64;
        for (w, c) in c.chunks_exact(8).enumerate() {
            let v = load(c);
            note(v, &mut high, &mut escape);
            m |= word_mask(v, pattern) << (8 * w);
        }
        while m != 0 {
            f(base + m.trailing_zeros() as usize);
            m &= m - 1;
        }
        base += 64;
    }
    // The tail: whole words into one mask, then the last few bytes one by one.
    let rest = chunks.remainder();
    let mut words = rest.chunks_exact(8);
    let mut m = 0u64;
    for (w, c) in (&mut words).enumerate() {
        let v = load(c);
        note(v, &mut high, &mut escape);
        m |= word_mask(v, pattern) << (8 * w);
    }
    while m != 0 {
        f(base + m.trailing_zeros() as usize);
        m &= m - 1;
    }
    base += rest.len() - words.remainder().len();
    for (i, b) in words.remainder().iter().enumerate() {
        if PLAIN {
            high |= u64::from(*b);
            escape |= u64::from(*b == b'\\');
        }
        if *b == sep {
            f(base + i);
        }
    }
    high & HI == 0 && escape == 0
}

/// An 8-byte chunk as a little-endian word.
#[inline(always)]
fn load(c: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(c);
    u64::from_le_bytes(word)
}

/// Bit `k` set when byte `k` of the word `w` equals the byte repeated in `pattern`.
#[inline(always)]
fn word_mask(w: u64, pattern: u64) -> u64 {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HI: u64 = 0x8080_8080_8080_8080;
    // Moves bit 7 of byte k (after `>> 7`: bit 8k) to bit 56 + k; no two partial
    // products share a bit, so nothing carries into the top byte.
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let v = w ^ pattern;
    let z = !(((v & LO7).wrapping_add(LO7)) | v) & HI;
    (z >> 7).wrapping_mul(GATHER) >> 56
}

/// A builder's view of a record: typed getters that note the first malformed field.
pub struct Get<'r, R: Rec + ?Sized> {
    rec: &'r R,
    names: &'static [&'static str],
    intern: &'r mut Interner,
    /// Slot of the first malformed field, if any.
    pub bad: Option<usize>,
}

/// A required field is missing or malformed; the record cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missing(pub &'static str);

impl<'r, R: Rec + ?Sized> Get<'r, R> {
    /// A view of `rec` whose slots are named by `names`.
    pub fn new(rec: &'r R, names: &'static [&'static str], intern: &'r mut Interner) -> Self {
        Get { rec, names, intern, bad: None }
    }

    /// Text field of low cardinality (a protocol name, a state): shared, not copied.
    pub fn sym(&mut self, slot: usize) -> Option<Text> {
        let intern = &mut *self.intern;
        let r = self.rec.with_text(slot, |c| (!c.is_empty()).then(|| intern.get(c)));
        match r {
            Ok(v) => v.flatten(),
            Err(Malformed) => {
                self.bad.get_or_insert(slot);
                None
            }
        }
    }

    /// The name of a slot.
    pub fn name(&self, slot: usize) -> &'static str {
        self.names.get(slot).copied().unwrap_or("?")
    }

    fn note<T>(&mut self, slot: usize, r: Result<Option<T>, Malformed>) -> Option<T> {
        match r {
            Ok(v) => v,
            Err(Malformed) => {
                self.bad.get_or_insert(slot);
                None
            }
        }
    }

    /// Text field.
    pub fn s(&mut self, slot: usize) -> Option<Text> {
        let r = self.rec.with_text(slot, |t| Text::from(t));
        self.note(slot, r)
    }

    /// An identifier (Zeek `uid`): stored inline, not allocated; `None` when empty.
    pub fn uid(&mut self, slot: usize) -> Option<Uid> {
        let r = self.rec.with_text(slot, |t| (!t.is_empty()).then(|| Uid::from(t)));
        self.note(slot, r).flatten()
    }

    /// Text field that must be non-empty to count.
    pub fn s_nonempty(&mut self, slot: usize) -> Option<Text> {
        self.s(slot).filter(|s| !s.is_empty())
    }

    /// Unsigned count.
    pub fn u64(&mut self, slot: usize) -> Option<u64> {
        let r = self.rec.parse_scalar(slot, parse_u64);
        self.note(slot, r)
    }

    /// Unsigned count that must fit `u32`.
    pub fn u32(&mut self, slot: usize) -> Option<u32> {
        let v = self.u64(slot)?;
        match u32::try_from(v) {
            Ok(v) => Some(v),
            Err(_) => {
                self.bad.get_or_insert(slot);
                None
            }
        }
    }

    /// Unsigned count that must fit `u16` (ports, DNS numbers).
    pub fn u16(&mut self, slot: usize) -> Option<u16> {
        let v = self.u64(slot)?;
        match u16::try_from(v) {
            Ok(v) => Some(v),
            Err(_) => {
                self.bad.get_or_insert(slot);
                None
            }
        }
    }

    /// Floating-point value (intervals, in seconds).
    pub fn f64(&mut self, slot: usize) -> Option<f64> {
        let r = self.rec.parse_scalar(slot, parse_f64);
        self.note(slot, r)
    }

    /// Boolean (`T`/`F`, `true`/`false`).
    pub fn bool(&mut self, slot: usize) -> Option<bool> {
        let r = self.rec.parse_scalar(slot, parse_bool);
        self.note(slot, r)
    }

    /// IP address.
    pub fn addr(&mut self, slot: usize) -> Option<IpAddr> {
        // Zeek never escapes an address, so the raw token is the address.
        let r = self.rec.parse_scalar(slot, |t| match t {
            "" => Some(None),
            t => parse_addr(t).map(Some),
        });
        let r = r.map(Option::flatten);
        self.note(slot, r)
    }

    /// Time value.
    pub fn time(&mut self, slot: usize) -> Option<Timestamp> {
        let r = self.rec.time(slot);
        self.note(slot, r)
    }

    /// List of texts.
    pub fn list(&mut self, slot: usize) -> Vec<Text> {
        match self.rec.list(slot) {
            Ok(v) => v.into_iter().map(|c| Text::from(c.as_ref())).collect(),
            Err(Malformed) => {
                self.bad.get_or_insert(slot);
                Vec::new()
            }
        }
    }

    /// List of floats (Zeek `TTLs`).
    pub fn f64_list(&mut self, slot: usize) -> Vec<f64> {
        match self.rec.list(slot) {
            Ok(v) => {
                let mut out = Vec::with_capacity(v.len());
                for t in v {
                    match parse_f64(&t) {
                        Some(x) => out.push(x),
                        None => {
                            self.bad.get_or_insert(slot);
                        }
                    }
                }
                out
            }
            Err(Malformed) => {
                self.bad.get_or_insert(slot);
                Vec::new()
            }
        }
    }

    /// List of addresses.
    pub fn addr_list(&mut self, slot: usize) -> Vec<IpAddr> {
        let texts = self.list(slot);
        let mut out = Vec::with_capacity(texts.len());
        for t in texts {
            match parse_addr(&t) {
                Some(a) => out.push(a),
                None => {
                    self.bad.get_or_insert(slot);
                }
            }
        }
        out
    }

    /// Required time: missing or malformed rejects the record.
    pub fn req_time(&mut self, slot: usize) -> Result<Timestamp, Missing> {
        self.time(slot).ok_or(Missing(self.name(slot)))
    }

    /// Required address.
    pub fn req_addr(&mut self, slot: usize) -> Result<IpAddr, Missing> {
        self.addr(slot).ok_or(Missing(self.name(slot)))
    }

    /// The transport protocol from its slot, without copying the text.
    fn proto(&mut self, slot: Option<usize>, default_proto: Proto) -> Proto {
        let Some(p) = slot else { return default_proto };
        let r = self.rec.with_text(p, Proto::parse);
        self.note(p, r).unwrap_or(default_proto)
    }

    /// The five-tuple from the conventional slots; addresses are required.
    pub fn flow(&mut self, s: FlowSlots, default_proto: Proto) -> Result<Flow, Missing> {
        let orig_h = self.req_addr(s.orig_h)?;
        let resp_h = self.req_addr(s.resp_h)?;
        let orig_p = self.u16(s.orig_p).unwrap_or(0);
        let resp_p = self.u16(s.resp_p).unwrap_or(0);
        let proto = self.proto(s.proto, default_proto);
        Ok(Flow { orig_h, orig_p, resp_h, resp_p, proto })
    }

    /// The five-tuple if both addresses are present, else `None` (no error).
    pub fn opt_flow(&mut self, s: FlowSlots, default_proto: Proto) -> Option<Flow> {
        let orig_h = self.addr(s.orig_h)?;
        let resp_h = self.addr(s.resp_h)?;
        let orig_p = self.u16(s.orig_p).unwrap_or(0);
        let resp_p = self.u16(s.resp_p).unwrap_or(0);
        let proto = self.proto(s.proto, default_proto);
        Some(Flow { orig_h, orig_p, resp_h, resp_p, proto })
    }
}

/// Slot numbers of the five-tuple fields in a log type's field list.
#[derive(Clone, Copy, Debug)]
pub struct FlowSlots {
    /// `id.orig_h`.
    pub orig_h: usize,
    /// `id.orig_p`.
    pub orig_p: usize,
    /// `id.resp_h`.
    pub resp_h: usize,
    /// `id.resp_p`.
    pub resp_p: usize,
    /// `proto`, when the log has it.
    pub proto: Option<usize>,
}

/// Parses a non-negative decimal integer (no sign, no exponent).
#[inline]
pub fn parse_u64(t: &str) -> Option<u64> {
    parse_u64_bytes(t.as_bytes())
}

/// [`parse_u64`] of bytes.
pub fn parse_u64_bytes(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    if b.len() < 20 {
        // Up to 19 digits cannot overflow: no checks in the loop.
        for &c in b {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + u64::from(d);
        }
        return Some(v);
    }
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// [`parse_u64`] of the field `line[start..end]`, for a field inside a longer line:
/// a count of up to eight digits is read as the eight bytes that end where it ends
/// (the bytes before it, part of an earlier field, are replaced by `'0'`s) and
/// converted all at once, with no loop whose exit depends on the number's length.
#[inline(always)]
pub fn parse_u64_in(line: &[u8], start: usize, end: usize) -> Option<u64> {
    let n = end.wrapping_sub(start);
    if (1..=8).contains(&n) {
        if let Some(w) = end.checked_sub(8).and_then(|s| line.get(s..end)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            // The field is the top `n` bytes; the `8 - n` below it become '0'.
            let below = u64::MAX.checked_shr(8 * n as u32).unwrap_or(0);
            let v = (u64::from_le_bytes(b) & !below) | (0x3030_3030_3030_3030 & below);
            return dwell_model::time::eight_digits(&v.to_le_bytes()).map(u64::from);
        }
    }
    line.get(start..end).and_then(parse_u64_bytes)
}

/// Parses a boolean as Zeek (`T`/`F`) and JSON writers (`true`, `1`, ...) spell it.
pub fn parse_bool(t: &str) -> Option<bool> {
    parse_bool_bytes(t.as_bytes())
}

/// [`parse_bool`] of bytes.
pub fn parse_bool_bytes(t: &[u8]) -> Option<bool> {
    match t {
        b"T" | b"true" | b"1" | b"t" => Some(true),
        b"F" | b"false" | b"0" | b"f" => Some(false),
        _ => None,
    }
}

/// Parses a decimal float. Plain `digits.digits` takes an exact fixed-point fast path
/// (Zeek writes intervals with six decimals); anything else goes to `str::parse`.
pub fn parse_f64(t: &str) -> Option<f64> {
    parse_f64_bytes(t.as_bytes())
}

/// [`parse_f64`] of bytes; `None` when they are not UTF-8.
pub fn parse_f64_bytes(b: &[u8]) -> Option<f64> {
    if let Some(ts) = Timestamp::parse_epoch_bytes(b) {
        return Some(ts.micros() as f64 / 1e6);
    }
    let v: f64 = std::str::from_utf8(b).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// Parses dotted-quad IPv4 strictly (no leading zeros beyond a lone `0`, as std), an
/// octet at a time with no loop inside an octet.
#[inline]
fn parse_v4(t: &[u8]) -> Option<std::net::Ipv4Addr> {
    #[inline(always)]
    fn digit(c: Option<&u8>) -> Option<u32> {
        let d = u32::from(c?.wrapping_sub(b'0'));
        (d < 10).then_some(d)
    }
    if !(7..=15).contains(&t.len()) {
        return None;
    }
    let mut oct = [0u8; 4];
    let mut i = 0;
    for (k, o) in oct.iter_mut().enumerate() {
        if k > 0 {
            if t.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let mut v = digit(t.get(i))?;
        i += 1;
        if let Some(d) = digit(t.get(i)) {
            if v == 0 {
                return None;
            }
            v = v * 10 + d;
            i += 1;
            if let Some(d) = digit(t.get(i)) {
                v = v * 10 + d;
                i += 1;
            }
        }
        *o = u8::try_from(v).ok()?;
    }
    (i == t.len()).then(|| std::net::Ipv4Addr::from(oct))
}

/// [`parse_addr`] of bytes; `None` when they are not UTF-8.
#[inline]
pub fn parse_addr_bytes(b: &[u8]) -> Option<IpAddr> {
    match parse_v4(b) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => parse_not_v4(std::str::from_utf8(b).ok()?),
    }
}

/// Parses an IPv4 or IPv6 address; tolerates an IPv6 zone suffix (`fe80::1%eth0`).
pub fn parse_addr(t: &str) -> Option<IpAddr> {
    match parse_v4(t.as_bytes()) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => parse_not_v4(t),
    }
}

/// An address the dotted-quad parser did not take: IPv6, with or without a zone.
fn parse_not_v4(t: &str) -> Option<IpAddr> {
    if let Ok(a) = t.parse() {
        return Some(a);
    }
    let (base, _zone) = t.split_once('%')?;
    base.parse().ok()
}

/// Undoes Zeek's ASCII escaping: `\xNN` → byte, `\\` → `\`.
///
/// Zeek escapes non-printable bytes, the separators and the backslash itself, so its
/// logs are ASCII; unescaped bytes that do not form UTF-8 become U+FFFD.
#[inline]
pub fn zeek_unescape(s: &str) -> Cow<'_, str> {
    // Fields are short: a plain byte scan beats a memchr call here.
    if !s.bytes().any(|b| b == b'\\') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(unescape_slow(s.as_bytes()))
}

fn unescape_slow(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'x') {
                if let (Some(h), Some(l)) =
                    (b.get(i + 2).and_then(|c| hex(*c)), b.get(i + 3).and_then(|c| hex(*c)))
                {
                    out.push(h << 4 | l);
                    i += 4;
                    continue;
                }
            } else if b.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Finds a name's slot in a field list. Meant for `const` contexts, where a name that is
/// not in the list fails the build (the panic never happens at run time).
#[allow(clippy::panic)]
pub const fn slot(names: &[&str], name: &str) -> usize {
    let mut i = 0;
    while i < names.len() {
        if const_eq(names[i], name) {
            return i;
        }
        i += 1;
    }
    panic!("field name not in the list");
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_f64("0.037629"), Some(0.037629));
        assert_eq!(parse_f64("1.5e-05"), Some(1.5e-05));
        assert_eq!(parse_f64("inf"), None);
        assert_eq!(parse_f64("x"), None);
    }

    #[test]
    fn sep_positions() {
        for text in
            ["", "a", "\t", "ab\tcd\t\te", "0123456\t89abcdef\t\t\t\t\tx\u{80}\t", "\u{89}\t\u{e9}"]
        {
            let want: Vec<usize> =
                text.bytes().enumerate().filter(|(_, b)| *b == b'\t').map(|(i, _)| i).collect();
            let mut got = vec![];
            for_each_sep(text.as_bytes(), b'\t', |p| got.push(p));
            assert_eq!(got, want, "{text:?}");
        }
        let mut got = vec![];
        for_each_sep(&[0u8, 1, 0, 0x81, 0x80, 0, 1, 1, 0], 0, |p| got.push(p));
        assert_eq!(got, [0, 2, 5, 8]);
    }

    #[test]
    fn interner_shares() {
        let mut i = Interner::default();
        let a = i.get("SF");
        let b = i.get("SF");
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        let c = i.get("S0");
        assert_eq!(&*c, "S0");
        assert!(std::sync::Arc::ptr_eq(&i.get("SF"), &a));
    }

    #[test]
    fn unescape() {
        assert_eq!(zeek_unescape("plain"), "plain");
        assert_eq!(zeek_unescape("a\\x09b"), "a\tb");
        assert_eq!(zeek_unescape("O=Nativo\\\\, Inc."), "O=Nativo\\, Inc.");
        assert_eq!(zeek_unescape("\\x2d"), "-");
        assert_eq!(zeek_unescape("bad\\xZZ"), "bad\\xZZ");
        assert_eq!(zeek_unescape("\\xff"), "\u{fffd}");
    }

    proptest::proptest! {
        /// The word-at-a-time splitter finds exactly the separators a byte scan finds,
        /// for every length (whole 64-byte blocks, whole words and a ragged tail).
        #[test]
        fn separators_match_a_byte_scan(
            bytes in proptest::collection::vec(proptest::sample::select(vec![b'\t', b'a', 0x80, 0xff, 0]), 0..300),
            sep in proptest::sample::select(vec![b'\t', b',', 0x80, 0]),
        ) {
            let want: Vec<usize> = bytes.iter().enumerate().filter(|(_, b)| **b == sep).map(|(i, _)| i).collect();
            let mut got = vec![];
            for_each_sep(&bytes, sep, |p| got.push(p));
            proptest::prop_assert_eq!(&got, &want);
            // The checking variant finds the same and tells plain lines exactly.
            let mut got = vec![];
            let plain = for_each_sep_plain(&bytes, sep, |p| got.push(p));
            proptest::prop_assert_eq!(got, want);
            proptest::prop_assert_eq!(plain, bytes.is_ascii() && !bytes.contains(&b'\\'));
        }

        /// Plainness over bytes that put a backslash or a high byte at every position
        /// of a word, with ASCII around it.
        #[test]
        fn plain_lines_are_told_exactly(
            bytes in proptest::collection::vec(proptest::sample::select(vec![b'\\', b'a', b'\t', 0x7f, 0x80, 0xdc, 0x5b, 0x5d]), 0..200),
        ) {
            let plain = for_each_sep_plain(&bytes, b'\t', |_| {});
            proptest::prop_assert_eq!(plain, bytes.is_ascii() && !bytes.contains(&b'\\'));
        }

        /// A count read in place from a line equals the count of the field alone,
        /// wherever the field sits and whatever precedes it.
        #[test]
        fn counts_in_a_line_agree(
            before in "[0-9a\t.]{0,12}",
            field in "[0-9]{0,10}|[0-9a+ -]{0,4}",
            after in "[0-9\t]{0,3}",
        ) {
            let line = format!("{before}{field}{after}");
            let (start, end) = (before.len(), before.len() + field.len());
            proptest::prop_assert_eq!(parse_u64_in(line.as_bytes(), start, end), parse_u64(&field));
        }

        /// The IPv4 fast path agrees with the standard library on dotted text.
        #[test]
        fn ipv4_agrees_with_std(t in "[0-9.]{0,17}") {
            proptest::prop_assert_eq!(parse_v4(t.as_bytes()), t.parse().ok());
        }

        /// Counts agree with the standard library (no sign, so `+1` is refused).
        #[test]
        fn counts_agree_with_std(t in "[0-9]{0,20}|[1-9][0-9]{19,21}|[0-9a+-]{0,4}") {
            let want = if t.starts_with('+') { None } else { t.parse::<u64>().ok() };
            proptest::prop_assert_eq!(parse_u64(&t), want);
        }

        /// Epoch text is exact to the microsecond (digits past the sixth truncated).
        #[test]
        fn epoch_is_exact(secs in 0i64..4_000_000_000, frac in "[0-9]{0,9}") {
            let text = if frac.is_empty() { secs.to_string() } else { format!("{secs}.{frac}") };
            let mut us: i64 = 0;
            for (i, c) in frac.bytes().chain(std::iter::repeat(b'0')).take(6).enumerate() {
                us += i64::from(c - b'0') * 10i64.pow(5 - i as u32);
            }
            proptest::prop_assert_eq!(Timestamp::parse_epoch(&text), Some(Timestamp(secs * 1_000_000 + us)));
        }
    }

    #[test]
    fn addresses() {
        for good in ["10.0.0.1", "0.0.0.0", "255.255.255.255", "1.2.3.4"] {
            assert_eq!(parse_addr(good), good.parse().ok(), "{good}");
        }
        for bad in ["1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1..2.3", "1.2.3.4 ", ""] {
            assert_eq!(parse_v4(bad.as_bytes()), None, "{bad}");
        }
        assert!(parse_addr("10.0.0.1").is_some());
        assert!(parse_addr("fe80::1%eth0").is_some());
        assert!(parse_addr("10.0.0.256").is_none());
    }
}
