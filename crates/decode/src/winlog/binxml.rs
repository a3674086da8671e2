//! EVTX records read straight from their BinXML: the fields dwell keeps, without
//! rendering XML and reading it back.
//!
//! A record is (almost always) a *template instance*: a reference to a template
//! definition stored once in its chunk — the event's XML shape with numbered
//! substitutions — and an array of typed values. Having the `evtx` crate render each
//! record as XML and scanning the text ([`super::from_xml`]) cost two thirds of an EVTX
//! run. Here each template is compiled once per chunk into a list of operations; each
//! record replays it over its values into a small element tree (reused buffers, names
//! interned), and the fields are taken from the tree by the rules `from_xml` applies to
//! the rendered text. What the XML would show is reproduced where it matters: an
//! element whose DependencyId names a NULL value is left out (MS-EVEN6 2.2.12), an
//! attribute with an empty value is not written, values are formatted as the crate
//! formats them (GUIDs in braces, SIDs, `0x` hex, FILETIMEs with seven fractional
//! digits), and characters XML cannot carry become `_`.
//!
//! The chunk's records are walked as the crate walks a sound chunk (from the chunk
//! header to the free space or the last record id). Anything else — a record that needs
//! the crate's resynchronisation, array values (which repeat their element), ANSI
//! strings, floats, character or entity references, CDATA, processing instructions — is
//! [`Unsupported`], and the caller hands the whole chunk to the crate instead, so the
//! answer never depends on this module's coverage. Where it answers, it equals the
//! crate path field for field (test: `the_fast_path_equals_the_crate_path`).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use dwell_model::{Text, Timestamp, WinEvent};
use foldhash::fast::RandomState;

/// Why a chunk is left to the `evtx` crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsupported(pub(crate) &'static str);

type R<T> = Result<T, Unsupported>;

/// Bytes of the chunk header; the first record follows.
const CHUNK_HEADER: usize = 512;
/// Bytes of a record header (magic, size, id, time); its BinXML follows.
const RECORD_HEADER: usize = 24;
/// A record's size counts its header and the copy of the size that ends it.
const RECORD_OVERHEAD: usize = RECORD_HEADER + 4;
/// Substitutions nest (a BinXML value holding a template instance) at most this deep.
const MAX_DEPTH: usize = 8;
/// Operations replayed per chunk before it is left to the crate (a hostile chunk can
/// make every record replay a 64 KiB template).
const CHUNK_BUDGET: usize = 4 << 20;
/// The latest record time the crate accepts (9999-01-01, with margin), in FILETIME ticks.
const MAX_FILETIME: u64 = (253_370_764_800 + 11_644_473_600) * 10_000_000;
/// DependencyId of an element that depends on no value.
const NO_DEPENDENCY: u16 = 0xffff;

/// Value types of MS-EVEN6 2.2.18 that are read here.
mod ty {
    pub const NULL: u8 = 0x00;
    pub const STRING: u8 = 0x01;
    pub const INT8: u8 = 0x03;
    pub const UINT8: u8 = 0x04;
    pub const INT16: u8 = 0x05;
    pub const UINT16: u8 = 0x06;
    pub const INT32: u8 = 0x07;
    pub const UINT32: u8 = 0x08;
    pub const INT64: u8 = 0x09;
    pub const UINT64: u8 = 0x0a;
    pub const BOOL: u8 = 0x0d;
    pub const BINARY: u8 = 0x0e;
    pub const GUID: u8 = 0x0f;
    pub const SIZE_T: u8 = 0x10;
    pub const FILETIME: u8 = 0x11;
    pub const SID: u8 = 0x13;
    pub const HEX_INT32: u8 = 0x14;
    pub const HEX_INT64: u8 = 0x15;
    pub const BINXML: u8 = 0x21;
}

/// A reader over chunk bytes; every read is bounds-checked.
struct Cur<'a> {
    d: &'a [u8],
    pos: usize,
}

impl<'a> Cur<'a> {
    fn bytes(&mut self, n: usize) -> R<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(Unsupported("offset overflow"))?;
        let b = self.d.get(self.pos..end).ok_or(Unsupported("truncated BinXML"))?;
        self.pos = end;
        Ok(b)
    }
    fn arr<const N: usize>(&mut self) -> R<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> R<u8> {
        Ok(self.arr::<1>()?[0])
    }
    fn u16(&mut self) -> R<u16> {
        Ok(u16::from_le_bytes(self.arr()?))
    }
    fn u32(&mut self) -> R<u32> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> R<u64> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
}

fn le_u16(d: &[u8], at: usize) -> R<u16> {
    Cur { d, pos: at }.u16()
}

/// Element and attribute names, interned for the decoder's life: id → text.
struct Names {
    ids: HashMap<Box<str>, u32, RandomState>,
    texts: Vec<Text>,
}

impl Names {
    /// The names the field rules look for, at fixed ids.
    const KNOWN: [&'static str; 14] = [
        "System",
        "EventID",
        "Channel",
        "Computer",
        "Provider",
        "TimeCreated",
        "EventRecordID",
        "Security",
        "EventData",
        "Data",
        "UserData",
        "Name",
        "SystemTime",
        "UserID",
    ];

    /// Distinct names kept at most (hostile files could mint a new one per record);
    /// past it, chunks with new names are left to the crate.
    const MAX: usize = 1 << 16;

    /// The table with the known names at their ids.
    fn new() -> Self {
        let mut n = Names { ids: HashMap::default(), texts: Vec::new() };
        for k in Self::KNOWN {
            let _ = n.id(k);
        }
        n
    }

    /// No table yet (nothing allocated): a reader made only to be replaced costs nothing.
    fn empty() -> Self {
        Names { ids: HashMap::default(), texts: Vec::new() }
    }

    fn id(&mut self, s: &str) -> R<u32> {
        if let Some(&id) = self.ids.get(s) {
            return Ok(id);
        }
        if self.texts.len() >= Self::MAX {
            return Err(Unsupported("too many distinct names"));
        }
        let id = self.texts.len() as u32;
        self.texts.push(Text::from(s));
        self.ids.insert(s.into(), id);
        Ok(id)
    }
}

const SYSTEM: u32 = 0;
const EVENT_ID: u32 = 1;
const CHANNEL: u32 = 2;
const COMPUTER: u32 = 3;
const PROVIDER: u32 = 4;
const TIME_CREATED: u32 = 5;
const EVENT_RECORD_ID: u32 = 6;
const SECURITY: u32 = 7;
const EVENT_DATA: u32 = 8;
const DATA: u32 = 9;
const USER_DATA: u32 = 10;
const NAME: u32 = 11;
const SYSTEM_TIME: u32 = 12;
const USER_ID: u32 = 13;

/// One step of a compiled template (or of a BinXML stream without one).
#[derive(Clone, Copy, Debug)]
enum Op {
    /// An element starts; `end` is the op that ends it (for leaving it out).
    Open { name: u32, dependency: u16, end: u32 },
    /// An attribute of the element being opened; the text ops that follow are its value.
    Attr { name: u32 },
    /// The element's attributes end; its content follows.
    CloseStart,
    /// The element ends with no content.
    CloseEmpty,
    /// The element ends.
    End,
    /// Literal text, `lits[from..to]`.
    Lit { from: u32, to: u32 },
    /// Substitution value `index`.
    Sub { index: u16 },
    /// `<name>%index</name>`: `Open`, `CloseStart`, `Sub`, `End` in one step.
    Leaf { name: u32, dependency: u16, index: u16 },
    /// `<name attr="lit">%index</name>`, Sysmon's `<Data Name="Image">%4</Data>`: six
    /// steps in one; `lit` is the literal's name id (it names a field).
    Named { name: u32, dependency: u16, attr: u32, lit: u32, index: u16 },
}

/// Fuses the element shapes that make up nearly every template into single steps
/// (each step of the replay is an unpredictable branch), then sets each `Open`'s end.
fn fuse(ops: &mut Vec<Op>, lits: &str, names: &mut Names) -> R<()> {
    let mut out = Vec::with_capacity(ops.len());
    let mut i = 0;
    while i < ops.len() {
        match ops[i..] {
            [Op::Open { name, dependency, .. }, Op::CloseStart, Op::Sub { index }, Op::End, ..] => {
                out.push(Op::Leaf { name, dependency, index });
                i += 4;
            }
            [Op::Open { name, dependency, .. }, Op::Attr { name: attr }, Op::Lit { from, to }, Op::CloseStart, Op::Sub { index }, Op::End, ..] =>
            {
                let text = lits.get(from as usize..to as usize).unwrap_or("");
                // An empty attribute is not written: keep the general steps for it.
                if text.is_empty() {
                    out.extend_from_slice(&ops[i..i + 6]);
                } else {
                    let lit = names.id(text)?;
                    out.push(Op::Named { name, dependency, attr, lit, index });
                }
                i += 6;
            }
            _ => {
                out.push(ops[i]);
                i += 1;
            }
        }
    }
    let mut open = Vec::new();
    for k in 0..out.len() {
        match out[k] {
            Op::Open { .. } => open.push(k),
            Op::CloseEmpty | Op::End => {
                let at = open.pop().ok_or(Unsupported("unbalanced element end"))?;
                if let Some(Op::Open { end, .. }) = out.get_mut(at) {
                    *end = k as u32;
                }
            }
            _ => {}
        }
    }
    *ops = out;
    Ok(())
}

#[derive(Default, Debug)]
struct Program {
    ops: Vec<Op>,
    lits: String,
}

/// A substitution value: its type and where its bytes lie in the chunk.
#[derive(Clone, Copy)]
struct Val {
    ty: u8,
    at: u32,
    len: u16,
}

#[derive(Clone, Copy)]
struct Node {
    name: u32,
    /// One past the last descendant, once closed.
    end: u32,
    /// Direct parent, `u32::MAX` for a root.
    parent: u32,
    text: (u32, u32),
    attrs: (u32, u32),
    /// Has element children (its XML content is markup, not text).
    children: bool,
}

#[derive(Clone, Copy)]
struct Attr {
    name: u32,
    value: (u32, u32),
    /// The value's name id when it is one literal (a field name), else `NO_LIT`.
    lit: u32,
}

const NO_LIT: u32 = u32::MAX;

/// The record's elements in document order.
#[derive(Default)]
struct Tree {
    nodes: Vec<Node>,
    attrs: Vec<Attr>,
    text: String,
    stack: Vec<u32>,
    /// In the open element's start tag (before `CloseStart`/`CloseEmpty`).
    in_start: bool,
    /// Filling the value of the last attribute.
    in_attr: bool,
}

impl Tree {
    fn clear(&mut self) {
        self.nodes.clear();
        self.attrs.clear();
        self.text.clear();
        self.stack.clear();
        self.in_start = false;
        self.in_attr = false;
    }

    fn open(&mut self, name: u32) {
        let idx = self.nodes.len() as u32;
        let parent = self.stack.last().copied().unwrap_or(u32::MAX);
        if let Some(p) = self.nodes.get_mut(parent as usize) {
            p.children = true;
        }
        let a = self.attrs.len() as u32;
        self.nodes.push(Node {
            name,
            end: 0,
            parent,
            text: (0, 0),
            attrs: (a, a),
            children: false,
        });
        self.stack.push(idx);
        self.in_start = true;
        self.in_attr = false;
    }

    fn attr(&mut self, name: u32) -> R<()> {
        if !self.in_start {
            return Err(Unsupported("attribute outside a start tag"));
        }
        let top = *self.stack.last().ok_or(Unsupported("attribute outside an element"))?;
        let at = self.text.len() as u32;
        self.attrs.push(Attr { name, value: (at, at), lit: NO_LIT });
        if let Some(n) = self.nodes.get_mut(top as usize) {
            n.attrs.1 = self.attrs.len() as u32;
        }
        self.in_attr = true;
        Ok(())
    }

    /// The start tag ends (`CloseStart`).
    fn content(&mut self) -> R<()> {
        if !self.in_start {
            return Err(Unsupported("start tag closed twice"));
        }
        self.in_start = false;
        self.in_attr = false;
        Ok(())
    }

    /// The element ends: `empty` in its start tag (`CloseEmpty`), else after its content.
    fn close(&mut self, empty: bool) -> R<()> {
        if self.in_start != empty {
            return Err(Unsupported("element end in the wrong place"));
        }
        self.in_start = false;
        let top = self.stack.pop().ok_or(Unsupported("unbalanced element end"))?;
        let end = self.nodes.len() as u32;
        if let Some(n) = self.nodes.get_mut(top as usize) {
            n.end = end;
        }
        self.in_attr = false;
        Ok(())
    }

    /// Text written at `from..` (by a render into `self.text`) goes to the attribute
    /// being filled or to the open element.
    fn took(&mut self, from: usize) -> R<()> {
        let to = self.text.len() as u32;
        let from = from as u32;
        if from == to {
            return Ok(());
        }
        if self.in_start && !self.in_attr {
            // In a start tag but no attribute's value: the crate drops it.
            self.text.truncate(from as usize);
            return Ok(());
        }
        if self.in_attr {
            if let Some(a) = self.attrs.last_mut() {
                a.value.1 = to;
            }
            return Ok(());
        }
        let top = *self.stack.last().ok_or(Unsupported("text outside an element"))?;
        if let Some(n) = self.nodes.get_mut(top as usize) {
            if n.text.0 == n.text.1 {
                n.text = (from, to);
            } else if n.text.1 == from {
                n.text.1 = to;
            } else {
                // Text on both sides of a child element: markup in the XML.
                n.children = true;
            }
        }
        Ok(())
    }

    fn str(&self, (a, b): (u32, u32)) -> &str {
        self.text.get(a as usize..b as usize).unwrap_or("")
    }

    /// The first element named `name` among nodes `from..to`.
    fn find(&self, name: u32, from: usize, to: usize) -> Option<usize> {
        (from..to.min(self.nodes.len())).find(|&i| self.nodes[i].name == name)
    }

    /// An element's text; one with element children has markup for text in the XML.
    fn text_of(&self, i: usize) -> R<&str> {
        let n = &self.nodes[i];
        if n.children {
            return Err(Unsupported("text with element children"));
        }
        Ok(self.str(n.text))
    }

    /// A non-empty attribute (an empty one is not written).
    fn attr_of(&self, i: usize, name: u32) -> Option<&str> {
        self.attr_at(i, name).map(|x| self.str(x.value))
    }

    fn attr_at(&self, i: usize, name: u32) -> Option<&Attr> {
        let (a, b) = self.nodes[i].attrs;
        self.attrs
            .get(a as usize..b as usize)?
            .iter()
            .find(|x| x.name == name && x.value.0 != x.value.1)
    }
}

/// Whether an element whose DependencyId is `dependency` is left out: the value it
/// names is NULL (MS-EVEN6 2.2.12); an empty BinXML value counts as NULL, as the crate
/// has it.
fn left_out(dependency: u16, vals: &[Val]) -> bool {
    dependency != NO_DEPENDENCY
        && vals
            .get(usize::from(dependency))
            .is_some_and(|v| v.ty == ty::NULL || (v.ty == ty::BINXML && v.len == 0))
}

/// A template's identity across chunks: GUID, size, a hash of its bytes, and where it
/// is defined (its bytes name strings by offset in the chunk).
type TemplateKey = ([u8; 16], u32, u64, u32);

/// A stored template program and the names it read from outside its own bytes,
/// `(offset, name id)`.
type Stored = (Arc<Program>, Vec<(u32, u32)>);

/// Templates kept across chunks at most (a log has a few hundred; a hostile file could
/// mint one per record).
const MAX_STORED: usize = 1024;

/// A record's event, or the reason `from_xml` would give for having none.
pub(crate) type Decoded = Result<(Timestamp, WinEvent), String>;

/// Reads the records of sound chunks; keeps its names across chunks.
pub(crate) struct Reader {
    names: Names,
    /// Name id per string-table offset, for the current chunk.
    chunk_names: HashMap<u32, u32, RandomState>,
    /// Compiled programs of the current chunk, by the offset of what they compile and
    /// whether it is a template definition (a stream of elements is not).
    compiled: HashMap<(u32, bool), usize, RandomState>,
    programs: Vec<Arc<Program>>,
    /// Template programs across chunks, by content (see [`TemplateKey`]), with the
    /// names the template uses from outside its own bytes and what they were.
    store: HashMap<TemplateKey, Stored, RandomState>,
    /// Names from outside the bytes being compiled, `(offset, id)`.
    external: Vec<(u32, u32)>,
    /// The bytes being compiled.
    body: std::ops::Range<usize>,
    /// Programs compiled so far.
    compiles: u64,
    tree: Tree,
    /// Value tables, one per nesting depth.
    vals: Vec<Vec<Val>>,
    budget: usize,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            names: Names::empty(),
            chunk_names: HashMap::default(),
            compiled: HashMap::default(),
            programs: Vec::new(),
            store: HashMap::default(),
            external: Vec::new(),
            body: 0..0,
            compiles: 0,
            tree: Tree::default(),
            vals: Vec::new(),
            budget: 0,
        }
    }
}

thread_local! {
    /// A reader a finished file left behind: the next file on this thread starts with
    /// its names and compiled templates (a collection of small logs from one fleet
    /// shares its templates).
    static KEPT: std::cell::RefCell<Option<Reader>> = const { std::cell::RefCell::new(None) };
}

impl Reader {
    /// The reader the last file on this thread left ([`Reader::keep`]), or a new one.
    pub(crate) fn take() -> Reader {
        KEPT.with(|k| k.borrow_mut().take()).unwrap_or_default()
    }

    /// Leaves this reader for the next file on this thread.
    pub(crate) fn keep(self) {
        KEPT.with(|k| *k.borrow_mut() = Some(self));
    }

    /// Every record of a chunk (its 64 KiB and its parsed header's `free_space_offset` and
    /// `last_event_record_id`), as `(record id, event)`, appended to `out`; `Err` if
    /// the chunk needs the `evtx` crate (then `out` is as it was).
    pub(crate) fn chunk(
        &mut self,
        data: &[u8],
        free_space_offset: u32,
        last_record_id: u64,
        out: &mut Vec<(u64, Decoded)>,
    ) -> R<()> {
        let before = out.len();
        if self.names.texts.is_empty() {
            self.names = Names::new();
        }
        self.chunk_names.clear();
        self.compiled.clear();
        self.programs.clear();
        self.budget = CHUNK_BUDGET;
        let r = self.records(data, free_space_offset, last_record_id, out);
        if r.is_err() {
            out.truncate(before);
        }
        r
    }

    fn records(
        &mut self,
        data: &[u8],
        free_space_offset: u32,
        last_record_id: u64,
        out: &mut Vec<(u64, Decoded)>,
    ) -> R<()> {
        let live_end = (free_space_offset as usize).min(data.len());
        let mut off = CHUNK_HEADER;
        while off < live_end {
            let mut c = Cur { d: data, pos: off };
            if c.arr::<4>()? != [0x2a, 0x2a, 0, 0] {
                return Err(Unsupported("no record magic"));
            }
            let size = c.u32()? as usize;
            let id = c.u64()?;
            if c.u64()? > MAX_FILETIME {
                return Err(Unsupported("record time out of range"));
            }
            let bin_len = size.checked_sub(RECORD_OVERHEAD).ok_or(Unsupported("record size"))?;
            let bin_start = off + RECORD_HEADER;
            let bin_end = bin_start + bin_len;
            if bin_end > data.len() {
                return Err(Unsupported("record past the chunk"));
            }
            self.tree.clear();
            self.stream(data, bin_start, bin_end, 0)?;
            if !self.tree.stack.is_empty() {
                return Err(Unsupported("unclosed element"));
            }
            out.push((id, self.event()?));
            if id == last_record_id {
                break;
            }
            off += size;
        }
        Ok(())
    }

    /// A BinXML stream `start..end`: fragment headers, template instances, or elements.
    fn stream(&mut self, data: &[u8], start: usize, end: usize, depth: usize) -> R<()> {
        if depth > MAX_DEPTH {
            return Err(Unsupported("BinXML nested too deep"));
        }
        let mut c = Cur { d: data, pos: start };
        while c.pos < end {
            match data.get(c.pos).copied().ok_or(Unsupported("truncated BinXML"))? {
                0x00 => break,
                0x0f => c.pos += 4,
                0x0c => {
                    c.pos += 1;
                    self.instance(data, &mut c, depth)?;
                }
                _ => {
                    let key = (c.pos as u32, false);
                    let p = match self.compiled.get(&key) {
                        Some(&p) => p,
                        None => {
                            let p = self.compile(data, c.pos, end, false)?;
                            self.compiled.insert(key, p);
                            p
                        }
                    };
                    return self.run(data, p, depth, &[]);
                }
            }
        }
        Ok(())
    }

    /// A template instance (after its token): the definition, compiled once per chunk,
    /// replayed over the instance's values.
    fn instance(&mut self, data: &[u8], c: &mut Cur<'_>, depth: usize) -> R<()> {
        c.bytes(1)?;
        let _template_id = c.u32()?;
        let def = c.u32()? as usize;
        if c.pos == def {
            // The definition is written here, the first time the chunk uses it.
            c.bytes(20)?;
            let size = c.u32()? as usize;
            c.bytes(size)?;
        }
        let p = match self.compiled.get(&(def as u32, true)) {
            Some(&p) => p,
            None => self.template(data, def)?,
        };
        let n = c.u32()? as usize;
        let desc = c.bytes(n.checked_mul(4).ok_or(Unsupported("value count"))?)?;
        if self.vals.len() <= depth {
            self.vals.resize_with(depth + 1, Vec::new);
        }
        let mut vals = std::mem::take(&mut self.vals[depth]);
        vals.clear();
        for d in desc.chunks_exact(4) {
            let len = u16::from_le_bytes([d[0], d[1]]);
            let at = c.pos as u32;
            let bytes = c.bytes(usize::from(len))?;
            // Every value, used or not: the crate reads them all in turn, and one read
            // another way would move where the next one starts.
            if !fits(d[2], bytes) {
                return Err(Unsupported("value type or size without a fast path"));
            }
            vals.push(Val { ty: d[2], at, len });
        }
        let r = self.run(data, p, depth, &vals);
        self.vals[depth] = vals;
        r
    }

    /// The program of the template defined at `def`, for this chunk: from the store
    /// when a chunk before held the same template (the same bytes at the same offset,
    /// reading the same names from outside them, as Windows writes each chunk), else
    /// compiled and stored.
    fn template(&mut self, data: &[u8], def: usize) -> R<usize> {
        let mut h = Cur { d: data, pos: def };
        h.bytes(4)?;
        let guid = h.arr::<16>()?;
        let size = h.u32()?;
        let body = h.bytes(size as usize)?;
        let key: TemplateKey = (guid, size, self.store.hasher().hash_one(body), def as u32);
        if let Some((prog, external)) = self.store.get(&key) {
            let (prog, external) = (Arc::clone(prog), external.clone());
            let same = external.iter().all(|&(off, id)| self.name_at(data, off) == Ok(id));
            if same {
                self.programs.push(prog);
                self.compiled.insert((def as u32, true), self.programs.len() - 1);
                return Ok(self.programs.len() - 1);
            }
        }
        let start = def + 24;
        let p = self.compile(data, start, start + size as usize, true)?;
        if self.store.len() >= MAX_STORED {
            self.store.clear();
        }
        let stored = (Arc::clone(&self.programs[p]), self.external.clone());
        self.store.insert(key, stored);
        self.compiled.insert((def as u32, true), p);
        Ok(p)
    }

    /// Compiles the BinXML at `start..end` (to its end-of-stream token) into a program;
    /// template definitions (`definition`) carry a DependencyId on each element start.
    fn compile(&mut self, data: &[u8], start: usize, end: usize, definition: bool) -> R<usize> {
        let mut p = Program::default();
        self.compiles += 1;
        self.external.clear();
        self.body = start..end;
        self.compile_into(&mut p, data, start, end, definition)?;
        self.programs.push(Arc::new(p));
        Ok(self.programs.len() - 1)
    }

    fn compile_into(
        &mut self,
        p: &mut Program,
        data: &[u8],
        start: usize,
        end: usize,
        definition: bool,
    ) -> R<()> {
        let mut c = Cur { d: data, pos: start };
        let mut open: Vec<usize> = Vec::new();
        while c.pos < end {
            let token = c.u8()?;
            match token {
                0x00 => break,
                0x0f => {
                    c.bytes(3)?;
                }
                0x01 | 0x41 => {
                    let dependency = if definition { c.u16()? } else { NO_DEPENDENCY };
                    let _data_size = c.u32()?;
                    let name = self.name_ref(data, &mut c)?;
                    if token & 0x40 != 0 {
                        let _attr_size = c.u32()?;
                    }
                    open.push(p.ops.len());
                    p.ops.push(Op::Open { name, dependency, end: 0 });
                }
                0x02 => p.ops.push(Op::CloseStart),
                0x03 | 0x04 => {
                    let at = open.pop().ok_or(Unsupported("unbalanced element end"))?;
                    let end = p.ops.len() as u32;
                    if let Some(Op::Open { end: e, .. }) = p.ops.get_mut(at) {
                        *e = end;
                    }
                    p.ops.push(if token == 0x03 { Op::CloseEmpty } else { Op::End });
                }
                0x05 | 0x45 => {
                    if c.u8()? != ty::STRING {
                        return Err(Unsupported("literal value that is not a string"));
                    }
                    let units = usize::from(c.u16()?);
                    let from = p.lits.len() as u32;
                    utf16_xml(c.bytes(units * 2)?, &mut p.lits);
                    p.ops.push(Op::Lit { from, to: p.lits.len() as u32 });
                }
                0x06 | 0x46 => {
                    let name = self.name_ref(data, &mut c)?;
                    p.ops.push(Op::Attr { name });
                }
                0x0d | 0x0e => {
                    let index = c.u16()?;
                    let _ty = c.u8()?;
                    p.ops.push(Op::Sub { index });
                }
                _ => return Err(Unsupported("BinXML token without a fast path")),
            }
        }
        if !open.is_empty() {
            return Err(Unsupported("unclosed element in template"));
        }
        fuse(&mut p.ops, &p.lits, &mut self.names)
    }

    /// A name reference (string-table offset); a name defined in place is skipped.
    fn name_ref(&mut self, data: &[u8], c: &mut Cur<'_>) -> R<u32> {
        let off = c.u32()?;
        if c.pos == off as usize {
            c.bytes(6)?;
            let len = usize::from(c.u16()?);
            c.bytes(len * 2 + 2)?;
        }
        let id = self.name_at(data, off)?;
        if !self.body.contains(&(off as usize)) {
            self.external.push((off, id));
        }
        Ok(id)
    }

    /// The name at string-table offset `off`.
    fn name_at(&mut self, data: &[u8], off: u32) -> R<u32> {
        if let Some(&id) = self.chunk_names.get(&off) {
            return Ok(id);
        }
        let at = off as usize;
        let len = usize::from(le_u16(data, at + 6)?);
        // The units and the NUL after them, read up to the first NUL (as the crate reads).
        let units =
            data.get(at + 8..at + 10 + len * 2).ok_or(Unsupported("name past the chunk"))?;
        let units = units[..len * 2].chunks_exact(2).map(|u| u16::from_le_bytes([u[0], u[1]]));
        let mut s = String::with_capacity(len);
        for ch in char::decode_utf16(units.take_while(|&u| u != 0)) {
            s.push(ch.map_err(|_| Unsupported("name is not UTF-16"))?);
        }
        // A name that is no XML name makes text that `from_xml` reads its own way.
        if s.is_empty()
            || !s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        {
            return Err(Unsupported("name that is no XML name"));
        }
        let id = self.names.id(&s)?;
        self.chunk_names.insert(off, id);
        Ok(id)
    }

    /// Replays program `p` over `vals` into the tree.
    fn run(&mut self, data: &[u8], p: usize, depth: usize, vals: &[Val]) -> R<()> {
        let prog = Arc::clone(self.programs.get(p).ok_or(Unsupported("no such program"))?);
        let n_ops = prog.ops.len();
        self.budget = self.budget.checked_sub(n_ops).ok_or(Unsupported("chunk render budget"))?;
        let mut i = 0;
        // Elements opened by this program: its root is never left out.
        let mut level = 0usize;
        while i < n_ops {
            let op = prog.ops[i];
            i += 1;
            match op {
                Op::Open { name, dependency, end } => {
                    if level > 0 && left_out(dependency, vals) {
                        i = end as usize + 1;
                        continue;
                    }
                    level += 1;
                    self.tree.open(name);
                }
                Op::Attr { name } => self.tree.attr(name)?,
                Op::CloseStart => self.tree.content()?,
                Op::CloseEmpty | Op::End => {
                    level = level.saturating_sub(1);
                    self.tree.close(matches!(op, Op::CloseEmpty))?;
                }
                Op::Lit { from, to } => {
                    let at = self.tree.text.len();
                    let lit = prog.lits.get(from as usize..to as usize).unwrap_or("");
                    self.tree.text.push_str(lit);
                    self.tree.took(at)?;
                }
                Op::Sub { index } => self.value(data, vals, index, depth)?,
                Op::Leaf { name, dependency, index } => {
                    if level > 0 && left_out(dependency, vals) {
                        continue;
                    }
                    self.tree.open(name);
                    self.tree.content()?;
                    self.value(data, vals, index, depth)?;
                    self.tree.close(false)?;
                }
                Op::Named { name, dependency, attr, lit, index } => {
                    if level > 0 && left_out(dependency, vals) {
                        continue;
                    }
                    self.tree.open(name);
                    self.tree.attr(attr)?;
                    let at = self.tree.text.len();
                    self.tree.text.push_str(&self.names.texts[lit as usize]);
                    self.tree.took(at)?;
                    if let Some(a) = self.tree.attrs.last_mut() {
                        a.lit = lit;
                    }
                    self.tree.content()?;
                    self.value(data, vals, index, depth)?;
                    self.tree.close(false)?;
                }
            }
        }
        Ok(())
    }

    /// Substitution value `index` into the tree: text, or the elements of a BinXML value.
    fn value(&mut self, data: &[u8], vals: &[Val], index: u16, depth: usize) -> R<()> {
        let Some(&v) = vals.get(usize::from(index)) else { return Ok(()) };
        if self.tree.in_start && !self.tree.in_attr {
            // In a start tag but no attribute's value: the crate drops it.
            return Ok(());
        }
        if v.ty == ty::BINXML {
            if v.len == 0 {
                return Ok(());
            }
            if self.tree.in_attr {
                return Err(Unsupported("BinXML in an attribute"));
            }
            let at = v.at as usize;
            return self.stream(data, at, at + usize::from(v.len), depth + 1);
        }
        let bytes = data
            .get(v.at as usize..v.at as usize + usize::from(v.len))
            .ok_or(Unsupported("value past the chunk"))?;
        let at = self.tree.text.len();
        render(v.ty, bytes, &mut self.tree.text)?;
        self.tree.took(at)
    }

    /// The event from the tree, by `from_xml`'s rules.
    fn event(&self) -> R<Decoded> {
        let t = &self.tree;
        let n = t.nodes.len();
        let sys = t.find(SYSTEM, 0, n).ok_or(Unsupported("no System element"))?;
        let (s0, s1) = (sys + 1, t.nodes[sys].end as usize);
        let text = |name: u32| -> R<Option<&str>> {
            match t.find(name, s0, s1) {
                Some(i) => t.text_of(i).map(|s| Some(s.trim())),
                None => Ok(None),
            }
        };
        let attr = |el: u32, name: u32| t.find(el, s0, s1).and_then(|i| t.attr_of(i, name));
        let Some(event_id) = text(EVENT_ID)?.and_then(|s| s.parse::<u32>().ok()) else {
            return Err(Unsupported("no EventID"));
        };
        let channel = super::intern(text(CHANNEL)?.unwrap_or(""));
        let computer = super::intern(text(COMPUTER)?.unwrap_or(""));
        let provider = attr(PROVIDER, NAME).map(super::intern);
        let created = attr(TIME_CREATED, SYSTEM_TIME).and_then(Timestamp::parse_rfc3339);
        let record_id = text(EVENT_RECORD_ID)?.and_then(|s| s.parse().ok());
        let name_of = |id: u32| self.names.texts[id as usize].clone();
        let mut raw: Vec<(Text, &str)> = Vec::with_capacity(n);
        if let Some(ed) = t.find(EVENT_DATA, 0, n) {
            for i in ed + 1..t.nodes[ed].end as usize {
                if t.nodes[i].name != DATA {
                    continue;
                }
                let value = t.text_of(i)?;
                match t.attr_at(i, NAME) {
                    Some(a) if a.lit != NO_LIT => raw.push((name_of(a.lit), value)),
                    Some(a) => raw.push((super::intern(t.str(a.value)), value)),
                    None if !value.is_empty() => raw.push((name_of(DATA), value)),
                    None => {}
                }
            }
        } else if let Some(ud) = t.find(USER_DATA, 0, n) {
            let e = ud + 1;
            if e < t.nodes[ud].end as usize {
                for i in e + 1..t.nodes[e].end as usize {
                    if t.nodes[i].parent == e as u32 {
                        raw.push((name_of(t.nodes[i].name), t.text_of(i)?));
                    }
                }
            }
        }
        if let Some(uid) = attr(SECURITY, USER_ID) {
            raw.push((name_of(USER_ID), uid));
        }
        Ok(super::finish(created, channel, computer, provider, event_id, record_id, raw))
    }
}

/// UTF-16LE to UTF-8 as the crate's XML writer has it (after unescaping): up to the
/// first NUL; a lone surrogate, a C0 control other than tab, LF and CR, and U+FFFE/FFFF
/// become `_`. Runs of printable ASCII (nearly all of any log) are copied in blocks.
fn utf16_xml(b: &[u8], out: &mut String) {
    // Eight units at a time while all are printable ASCII: each 16-bit lane below 0x80
    // (no high bits), and at least 0x20 (adding 0x60 sets its 0x80 bit, with no carry
    // out of the lane). A unit that ends a run of blocks is taken on its own: printable
    // ASCII (a string's last few characters) joins the block all the same; anything else
    // (a tab, a non-ASCII letter) is written after what the block holds, and the blocks
    // resume after it.
    const HIGH: u128 = 0xff80_ff80_ff80_ff80_ff80_ff80_ff80_ff80;
    const ADD: u128 = 0x0060_0060_0060_0060_0060_0060_0060_0060;
    const BIT: u128 = 0x0080_0080_0080_0080_0080_0080_0080_0080;
    let mut block = [0u8; 128];
    let mut n = 0;
    let mut i = 0;
    let unit = |i: usize| b.get(i..i + 2).map(|u| u16::from_le_bytes([u[0], u[1]]));
    let flush = |block: &[u8], out: &mut String| {
        if !block.is_empty() {
            out.push_str(std::str::from_utf8(block).unwrap_or_default());
        }
    };
    loop {
        while let Some(w) = b.get(i..i + 16) {
            let mut a = [0u8; 16];
            a.copy_from_slice(w);
            let x = u128::from_le_bytes(a);
            if x & HIGH != 0 || (x + ADD) & BIT != BIT {
                break;
            }
            if n + 8 > block.len() {
                flush(&block[..n], out);
                n = 0;
            }
            for k in 0..8 {
                block[n + k] = a[2 * k];
            }
            n += 8;
            i += 16;
        }
        // One character (a surrogate pair is one), or the end.
        let Some(u) = unit(i).filter(|&u| u != 0) else {
            flush(&block[..n], out);
            return;
        };
        i += 2;
        if (0x20..0x80).contains(&u) {
            if n == block.len() {
                flush(&block[..n], out);
                n = 0;
            }
            block[n] = u as u8;
            n += 1;
            continue;
        }
        flush(&block[..n], out);
        n = 0;
        let c = match u {
            0xd800..=0xdbff => match unit(i) {
                Some(lo @ 0xdc00..=0xdfff) => {
                    i += 2;
                    char::from_u32(
                        0x10000 + ((u32::from(u) - 0xd800) << 10) + (u32::from(lo) - 0xdc00),
                    )
                    .unwrap_or('_')
                }
                _ => '_',
            },
            0xdc00..=0xdfff | 0xfffe | 0xffff => '_',
            0x09 | 0x0a | 0x0d => char::from(u as u8),
            0..=0x1f => '_',
            _ => char::from_u32(u32::from(u)).unwrap_or('_'),
        };
        out.push(c);
    }
}

fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

fn push_i64(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_u64(out, v.unsigned_abs());
}

fn push_hex(out: &mut String, v: u64) {
    out.push_str("0x");
    let digits = (64 - v.leading_zeros()).div_ceil(4).max(1);
    for k in (0..digits).rev() {
        out.push(char::from(b"0123456789abcdef"[((v >> (k * 4)) & 0xf) as usize]));
    }
}

fn pad(out: &mut String, v: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut x = v;
    for d in digits.iter_mut().take(width).rev() {
        *d = b'0' + (x % 10) as u8;
        x /= 10;
    }
    for &b in &digits[..width] {
        out.push(char::from(b));
    }
}

/// A FILETIME (100 ns ticks since 1601) as `YYYY-MM-DDTHH:MM:SS.fffffffZ`; the year is
/// taken modulo 10,000 and a value beyond `i64::MAX` is all zeros, as the crate writes.
fn push_filetime(out: &mut String, ft: u64) {
    const TICKS_PER_SEC: u64 = 10_000_000;
    const TICKS_PER_DAY: u64 = 86_400 * TICKS_PER_SEC;
    let (y, m, d, secs, ticks) = if ft > i64::MAX as u64 {
        (0, 0, 0, 0, 0)
    } else {
        let (days, rest) = (ft / TICKS_PER_DAY, ft % TICKS_PER_DAY);
        // Days since 0000-03-01 in 400-year eras (146,097 days), each starting in March.
        let z = days + 584_694;
        let (era, doe) = (z / 146_097, z % 146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = era * 400 + yoe + u64::from(month <= 2);
        (year % 10_000, month, day, rest / TICKS_PER_SEC, rest % TICKS_PER_SEC)
    };
    pad(out, y, 4);
    out.push('-');
    pad(out, m, 2);
    out.push('-');
    pad(out, d, 2);
    out.push('T');
    pad(out, secs / 3_600, 2);
    out.push(':');
    pad(out, secs / 60 % 60, 2);
    out.push(':');
    pad(out, secs % 60, 2);
    out.push('.');
    pad(out, ticks, 7);
    out.push('Z');
}

/// Whether a value of type `t` is read here and takes exactly its bytes `b` (as the
/// crate reads it: fixed-size types at their size, a SID at its sub-authority count).
fn fits(t: u8, b: &[u8]) -> bool {
    match t {
        ty::NULL | ty::STRING | ty::BINARY | ty::BINXML => true,
        ty::INT8 | ty::UINT8 => b.len() == 1,
        ty::INT16 | ty::UINT16 => b.len() == 2,
        ty::INT32 | ty::UINT32 | ty::BOOL | ty::HEX_INT32 => b.len() == 4,
        ty::INT64 | ty::UINT64 | ty::HEX_INT64 | ty::FILETIME => b.len() == 8,
        ty::SIZE_T => matches!(b.len(), 4 | 8),
        ty::GUID => b.len() == 16,
        ty::SID => b.get(1).is_some_and(|&n| b.len() == 8 + usize::from(n) * 4),
        _ => false,
    }
}

/// A substitution value's text as the crate's XML has it (once unescaped).
fn render(t: u8, b: &[u8], out: &mut String) -> R<()> {
    let fixed = |n: usize| -> R<[u8; 8]> {
        if b.len() != n {
            return Err(Unsupported("value size does not match its type"));
        }
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(b);
        Ok(a)
    };
    match t {
        ty::NULL => {}
        ty::STRING => utf16_xml(b, out),
        ty::INT8 => push_i64(out, i64::from(fixed(1)?[0] as i8)),
        ty::UINT8 => push_u64(out, u64::from(fixed(1)?[0])),
        ty::INT16 => {
            let a = fixed(2)?;
            push_i64(out, i64::from(i16::from_le_bytes([a[0], a[1]])))
        }
        ty::UINT16 => {
            let a = fixed(2)?;
            push_u64(out, u64::from(u16::from_le_bytes([a[0], a[1]])))
        }
        ty::INT32 => {
            let a = fixed(4)?;
            push_i64(out, i64::from(i32::from_le_bytes([a[0], a[1], a[2], a[3]])))
        }
        ty::UINT32 => {
            let a = fixed(4)?;
            push_u64(out, u64::from(u32::from_le_bytes([a[0], a[1], a[2], a[3]])))
        }
        ty::INT64 => push_i64(out, i64::from_le_bytes(fixed(8)?)),
        ty::UINT64 => push_u64(out, u64::from_le_bytes(fixed(8)?)),
        ty::BOOL => {
            let a = fixed(4)?;
            match i32::from_le_bytes([a[0], a[1], a[2], a[3]]) {
                0 => out.push_str("false"),
                1 => out.push_str("true"),
                v => push_i64(out, i64::from(v)),
            }
        }
        ty::BINARY => {
            for &x in b {
                out.push(char::from(b"0123456789ABCDEF"[usize::from(x >> 4)]));
                out.push(char::from(b"0123456789ABCDEF"[usize::from(x & 0xf)]));
            }
        }
        ty::GUID => {
            if b.len() != 16 {
                return Err(Unsupported("GUID size"));
            }
            const ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
            out.push('{');
            for (i, &k) in ORDER.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push('-');
                }
                out.push(char::from(b"0123456789abcdef"[usize::from(b[k] >> 4)]));
                out.push(char::from(b"0123456789abcdef"[usize::from(b[k] & 0xf)]));
            }
            out.push('}');
        }
        ty::SIZE_T | ty::HEX_INT32 | ty::HEX_INT64 => {
            let v = match (t, b.len()) {
                (ty::SIZE_T | ty::HEX_INT32, 4) => u64::from_le_bytes(fixed(4)?),
                (ty::SIZE_T | ty::HEX_INT64, 8) => u64::from_le_bytes(fixed(8)?),
                _ => return Err(Unsupported("hex value size")),
            };
            push_hex(out, v);
        }
        ty::FILETIME => push_filetime(out, u64::from_le_bytes(fixed(8)?)),
        ty::SID => {
            let [rev, count] = *b.first_chunk::<2>().ok_or(Unsupported("SID size"))?;
            if b.len() != 8 + usize::from(count) * 4 {
                return Err(Unsupported("SID size"));
            }
            let rest = &b[2..];
            let mut auth = [0u8; 8];
            auth[2..].copy_from_slice(&rest[..6]);
            out.push_str("S-");
            push_u64(out, u64::from(rev));
            out.push('-');
            push_u64(out, u64::from_be_bytes(auth));
            for sub in rest[6..].chunks_exact(4) {
                out.push('-');
                push_u64(out, u64::from(u32::from_le_bytes([sub[0], sub[1], sub[2], sub[3]])));
            }
        }
        _ => return Err(Unsupported("value type without a fast path")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A chunk's records through the `evtx` crate: its XML, read by `from_xml`.
    fn via_crate(chunk: Vec<u8>) -> Vec<(u64, Decoded)> {
        let settings = Arc::new(evtx::ParserSettings::new().num_threads(1));
        let mut data = evtx::EvtxChunkData::new(chunk, false).unwrap();
        let mut parsed = data.parse(settings).unwrap();
        parsed
            .iter()
            .map(|r| {
                let r = r.unwrap().into_xml().unwrap();
                (r.event_record_id, super::super::from_xml(&r.data))
            })
            .collect()
    }

    fn via_reader(reader: &mut Reader, chunk: &[u8]) -> R<Vec<(u64, Decoded)>> {
        let h = evtx::EvtxChunkHeader::from_bytes(chunk).unwrap();
        let mut out = Vec::new();
        reader.chunk(chunk, h.free_space_offset, h.last_event_record_id, &mut out)?;
        Ok(out)
    }

    /// Every EVTX file under the shared data: each chunk the fast reader takes gives
    /// what the crate's XML gives, record for record, and it takes nearly all of them
    /// (the rest are named with their reason).
    #[test]
    fn the_fast_path_equals_the_crate_path() {
        let Some(data) = dwell_testkit::shared_data() else { return };
        let mut reader = Reader::default();
        let (mut fast, mut total) = (0usize, 0usize);
        let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
        fn evtx_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    evtx_files(&p, out);
                } else if p.extension().is_some_and(|x| x == "evtx") {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        evtx_files(&data, &mut files);
        files.sort();
        for path in &files {
            let rel = path.display();
            let mut p = evtx::EvtxParser::from_path(path).unwrap();
            for chunk in p.chunks() {
                let Ok(chunk) = chunk else { continue };
                let expect = via_crate(chunk.data.clone());
                total += expect.len();
                match via_reader(&mut reader, &chunk.data) {
                    Ok(got) => {
                        assert_eq!(got.len(), expect.len(), "{rel}");
                        for (g, e) in got.iter().zip(&expect) {
                            assert_eq!(g, e, "{rel}");
                        }
                        fast += got.len();
                    }
                    Err(Unsupported(why)) => *reasons.entry(why).or_default() += expect.len(),
                }
            }
        }
        eprintln!(
            "{} EVTX files; fast path: {fast} of {total} records; left to the crate: {reasons:?}",
            files.len()
        );
        assert!(total >= 300, "expected the shared EVTX files, found {total} records");
        assert!(fast * 10 >= total * 9, "fast path took {fast} of {total}: {reasons:?}");
    }

    /// BinXML written by hand: names defined in place, a template defined in the
    /// record that uses it first.
    #[derive(Default)]
    struct Bx {
        d: Vec<u8>,
        /// Where `d` starts in the chunk.
        base: usize,
    }

    impl Bx {
        fn u8(&mut self, v: u8) -> &mut Self {
            self.d.push(v);
            self
        }
        fn u16(&mut self, v: u16) -> &mut Self {
            self.d.extend_from_slice(&v.to_le_bytes());
            self
        }
        fn u32(&mut self, v: u32) -> &mut Self {
            self.d.extend_from_slice(&v.to_le_bytes());
            self
        }
        fn utf16(&mut self, s: &str) -> &mut Self {
            for u in s.encode_utf16() {
                self.u16(u);
            }
            self
        }
        /// A name reference whose name follows in place.
        fn name(&mut self, s: &str) -> &mut Self {
            let here = (self.base + self.d.len() + 4) as u32;
            self.u32(here).u32(0).u16(0).u16(s.encode_utf16().count() as u16).utf16(s).u16(0)
        }
        fn open(&mut self, s: &str, dep: Option<u16>, attrs: bool) -> &mut Self {
            self.u8(if attrs { 0x41 } else { 0x01 });
            if let Some(d) = dep {
                self.u16(d);
            }
            self.u32(0).name(s);
            if attrs {
                self.u32(0);
            }
            self
        }
        fn attr(&mut self, s: &str) -> &mut Self {
            self.u8(0x06).name(s)
        }
        fn lit(&mut self, s: &str) -> &mut Self {
            self.u8(0x05).u8(ty::STRING).u16(s.encode_utf16().count() as u16).utf16(s)
        }
        fn sub(&mut self, i: u16, optional: bool, t: u8) -> &mut Self {
            self.u8(if optional { 0x0e } else { 0x0d }).u16(i).u8(t)
        }
    }

    const FT_2024: u64 = 133_485_408_000_000_000 + 1_234_567; // 2024-01-01T00:00:00.1234567Z

    /// A template definition's BinXML, given where it starts in the chunk.
    type Def = fn(usize) -> Vec<u8>;
    /// Typed substitution values.
    type Values = Vec<(u8, Vec<u8>)>;

    /// A chunk of records, each `(id, template, values)`; a template is defined in the
    /// first record that uses it.
    fn chunk(records: &[(u64, Def, Values)]) -> Vec<u8> {
        let mut c = vec![0u8; 512];
        let mut defs: Vec<(usize, u32)> = Vec::new();
        let mut last_off = 0;
        for (n, (id, def, values)) in records.iter().enumerate() {
            let start = c.len();
            last_off = start;
            let mut r = Bx::default();
            r.d.extend_from_slice(&[0x2a, 0x2a, 0, 0]);
            r.u32(0); // size, patched below
            r.d.extend_from_slice(&id.to_le_bytes());
            r.d.extend_from_slice(&FT_2024.to_le_bytes());
            r.d.extend_from_slice(&[0x0f, 1, 1, 0, 0x0c, 1]);
            r.u32(n as u32);
            let key = *def as usize;
            match defs.iter().find(|(k, _)| *k == key) {
                Some(&(_, at)) => {
                    r.u32(at);
                }
                None => {
                    let at = (start + r.d.len() + 4) as u32;
                    defs.push((key, at));
                    r.u32(at);
                    let body = def(start + r.d.len() + 24);
                    r.u32(0).d.extend_from_slice(&[7u8; 16]);
                    r.u32(body.len() as u32);
                    r.d.extend_from_slice(&body);
                }
            }
            r.u32(values.len() as u32);
            for (t, v) in values {
                r.u16(v.len() as u16).u8(*t).u8(0);
            }
            for (_, v) in values {
                r.d.extend_from_slice(v);
            }
            r.u8(0);
            let size = (r.d.len() + 4) as u32;
            r.d[4..8].copy_from_slice(&size.to_le_bytes());
            r.u32(size);
            c.extend_from_slice(&r.d);
        }
        let free = c.len() as u32;
        c.resize(65_536, 0);
        c[..8].copy_from_slice(b"ElfChnk\0");
        c[8..16].copy_from_slice(&1u64.to_le_bytes());
        c[16..24].copy_from_slice(&(records.len() as u64).to_le_bytes());
        c[24..32].copy_from_slice(&records[0].0.to_le_bytes());
        c[32..40].copy_from_slice(&records[records.len() - 1].0.to_le_bytes());
        c[40..44].copy_from_slice(&128u32.to_le_bytes());
        c[44..48].copy_from_slice(&(last_off as u32).to_le_bytes());
        c[48..52].copy_from_slice(&free.to_le_bytes());
        c
    }

    fn utf16z(s: &str) -> Vec<u8> {
        s.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect()
    }

    /// Data elements of every kind the fast reader formats, an element left out by its
    /// DependencyId, empty optional values, an attribute left out for being empty, text
    /// around a value, characters XML cannot carry.
    fn sysmon_like(base: usize) -> Vec<u8> {
        let mut b = Bx { d: Vec::new(), base };
        b.d.extend_from_slice(&[0x0f, 1, 1, 0]);
        b.open("Event", Some(0xffff), true);
        b.attr("xmlns").lit("http://schemas.microsoft.com/win/2004/08/events/event");
        b.u8(0x02);
        b.open("System", Some(0xffff), false).u8(0x02);
        b.open("Provider", Some(0xffff), true);
        b.attr("Name").lit("Test-Provider").u8(0x03);
        b.open("EventID", Some(0xffff), false).u8(0x02).sub(0, false, ty::UINT16).u8(4);
        b.open("TimeCreated", Some(0xffff), true);
        b.attr("SystemTime").sub(1, false, ty::FILETIME).u8(0x03);
        b.open("EventRecordID", Some(0xffff), false).u8(0x02);
        b.sub(2, false, ty::UINT64).u8(4);
        b.open("Channel", Some(0xffff), false).u8(0x02).sub(3, false, ty::STRING).u8(4);
        b.open("Computer", Some(0xffff), false).u8(0x02).sub(4, false, ty::STRING).u8(4);
        b.open("Security", Some(0xffff), true);
        b.attr("UserID").sub(5, true, ty::SID).u8(0x03);
        b.u8(4); // </System>
        b.open("EventData", Some(0xffff), false).u8(0x02);
        let data = |b: &mut Bx, name: &str, i: u16, t: u8, dep: Option<u16>| {
            b.open("Data", Some(dep.unwrap_or(0xffff)), true);
            b.attr("Name").lit(name).u8(0x02).sub(i, true, t).u8(4);
        };
        data(&mut b, "Guid", 6, ty::GUID, None);
        data(&mut b, "Hex", 7, ty::HEX_INT64, None);
        data(&mut b, "Flag", 8, ty::BOOL, None);
        data(&mut b, "Bin", 9, ty::BINARY, None);
        data(&mut b, "Gone", 10, ty::STRING, Some(10));
        data(&mut b, "Empty", 11, ty::STRING, None);
        data(&mut b, "Ctl", 12, ty::STRING, None);
        data(&mut b, "Neg", 13, ty::INT32, None);
        // A name from a value, empty here: the attribute is not written.
        b.open("Data", Some(0xffff), true);
        b.attr("Name").sub(14, true, ty::STRING).u8(0x02).sub(15, false, ty::STRING);
        b.u8(4);
        b.open("Data", Some(0xffff), true);
        b.attr("Name").lit("Mixed").u8(0x02).lit("pre-").sub(16, false, ty::UINT8);
        b.lit("-post").u8(4);
        b.open("Data", Some(0xffff), true);
        b.attr("Name").lit("UtcTime").u8(0x02).sub(17, false, ty::STRING).u8(4);
        b.u8(4).u8(4).u8(0); // </EventData></Event> EOF
        b.d
    }

    /// A template's start at `base`: `<Event><System>` with `EventID` (value 0) and
    /// `TimeCreated` (value 1), System left open.
    fn system_start(base: usize) -> Bx {
        let mut b = Bx { d: Vec::new(), base };
        b.d.extend_from_slice(&[0x0f, 1, 1, 0]);
        b.open("Event", Some(0xffff), false).u8(0x02);
        b.open("System", Some(0xffff), false).u8(0x02);
        b.open("EventID", Some(0xffff), false).u8(0x02).sub(0, false, ty::UINT16).u8(4);
        b.open("TimeCreated", Some(0xffff), true);
        b.attr("SystemTime").sub(1, false, ty::FILETIME).u8(0x03);
        b
    }

    /// System values and a UserData whose content is a BinXML value: elements written
    /// in place (no template), names defined in place.
    fn user_data(base: usize) -> Vec<u8> {
        let mut b = system_start(base);
        b.open("Channel", Some(0xffff), false).u8(0x02).lit("Security").u8(4);
        b.u8(4);
        b.open("UserData", Some(0xffff), false).u8(0x02).sub(2, false, ty::BINXML);
        b.u8(4).u8(4).u8(0);
        b.d
    }

    /// The BinXML value of `user_data`'s record, at chunk offset `base`.
    fn log_cleared(base: usize) -> Vec<u8> {
        let mut b = Bx { d: Vec::new(), base };
        b.d.extend_from_slice(&[0x0f, 1, 1, 0]);
        b.open("LogFileCleared", None, true);
        b.attr("xmlns").lit("http://manifests.microsoft.com/win/2004/08/windows/eventlog");
        b.u8(0x02);
        b.open("SubjectUserName", None, false).u8(0x02).lit("admin").u8(4);
        b.open("SubjectDomainName", None, false).u8(0x03);
        b.u8(4).u8(0);
        b.d
    }

    #[test]
    fn hand_written_binxml_reads_as_the_crate_renders_it() {
        let sid = [1u8, 3, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xe8, 3, 0, 0, 0x10, 0x27, 0, 0];
        let guid: Vec<u8> = (1..=16).collect();
        let values = |sid: Option<&[u8]>, gone: Option<&str>| -> Vec<(u8, Vec<u8>)> {
            vec![
                (ty::UINT16, 1u16.to_le_bytes().to_vec()),
                (ty::FILETIME, FT_2024.to_le_bytes().to_vec()),
                (ty::UINT64, 42u64.to_le_bytes().to_vec()),
                (ty::STRING, utf16z("Microsoft-Windows-Sysmon/Operational")),
                (ty::STRING, utf16z("ws01.corp.example")),
                sid.map_or((ty::NULL, vec![]), |s| (ty::SID, s.to_vec())),
                (ty::GUID, guid.clone()),
                (ty::HEX_INT64, 0x1f40u64.to_le_bytes().to_vec()),
                (ty::BOOL, 7i32.to_le_bytes().to_vec()),
                (ty::BINARY, vec![0xde, 0xad, 0x01]),
                gone.map_or((ty::NULL, vec![]), |g| (ty::STRING, utf16z(g))),
                (ty::STRING, vec![]),
                (ty::STRING, utf16z("a&b<c>\u{1}\t\"q'\u{fffe}é")),
                (ty::INT32, (-5i32).to_le_bytes().to_vec()),
                (ty::STRING, vec![]),
                (ty::STRING, utf16z("unnamed")),
                (ty::UINT8, vec![9]),
                (ty::STRING, utf16z("2024-01-01 00:00:01.500")),
            ]
        };
        let c = chunk(&[
            (41, sysmon_like as Def, values(Some(&sid), None)),
            (42, sysmon_like, values(None, Some("here"))),
        ]);
        let mut reader = Reader::default();
        let got = via_reader(&mut reader, &c).unwrap();
        assert_eq!(got, via_crate(c.clone()));
        let (ts, first) = got[0].1.clone().unwrap();
        let (_, second) = got[1].1.clone().unwrap();
        let field = |w: &WinEvent, k: &str| {
            w.fields.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(first.event_id, 1);
        assert_eq!(first.record_id, Some(42));
        assert_eq!(first.provider.as_deref(), Some("Test-Provider"));
        assert_eq!(&*first.computer, "ws01.corp.example");
        assert_eq!(ts, Timestamp::parse_rfc3339("2024-01-01T00:00:01.5Z").unwrap());
        assert_eq!(field(&first, "Guid").unwrap(), "{04030201-0605-0807-090a-0b0c0d0e0f10}");
        assert_eq!(field(&first, "Hex").unwrap(), "0x1f40");
        assert_eq!(field(&first, "Flag").unwrap(), "7");
        assert_eq!(field(&first, "Bin").unwrap(), "DEAD01");
        assert_eq!(field(&first, "Ctl").unwrap(), "a&b<c>_\t\"q'_é");
        assert_eq!(field(&first, "Neg").unwrap(), "-5");
        assert_eq!(field(&first, "Empty").unwrap(), "");
        assert_eq!(field(&first, "Data").unwrap(), "unnamed");
        assert_eq!(field(&first, "Mixed").unwrap(), "pre-9-post");
        assert_eq!(field(&first, "UserID").unwrap(), "S-1-5-21-1000-10000");
        assert_eq!(field(&first, "Gone"), None, "left out: its DependencyId names a NULL");
        assert_eq!(field(&second, "Gone").unwrap(), "here");
        assert_eq!(field(&second, "UserID"), None, "an empty attribute is not written");

        // UserData from a BinXML value; the same template in a second chunk is read
        // afresh (offsets are per chunk).
        let nested = |base: usize| {
            vec![
                (ty::UINT16, 1102u16.to_le_bytes().to_vec()),
                (ty::FILETIME, FT_2024.to_le_bytes().to_vec()),
                (ty::BINXML, log_cleared(base)),
            ]
        };
        // The value's offset depends on where the record lays it out: lay out once with
        // a guess, then again at the offset found.
        let probe = chunk(&[(7, user_data, nested(0))]);
        let marker = b"L\0o\0g\0F\0i\0l\0e\0C\0";
        let pos = probe.windows(marker.len()).position(|w| w == marker).unwrap();
        // The name's text starts 8 bytes into its definition, which starts after the
        // fragment header (4), the element token (1), data size (4) and name offset (4).
        let base = pos - 8 - 13;
        let c = chunk(&[(7, user_data, nested(base))]);
        let got = via_reader(&mut reader, &c).unwrap();
        assert_eq!(got, via_crate(c));
        let (_, w) = got[0].1.clone().unwrap();
        assert_eq!(&*w.channel, "Security");
        assert_eq!(field(&w, "SubjectUserName").unwrap(), "admin");
        assert_eq!(field(&w, "SubjectDomainName").unwrap(), "");
    }

    /// Input the fast reader does not read is left to the crate, never misread: an
    /// array value, a record that is not where the header says, a truncated chunk.
    #[test]
    fn what_it_does_not_read_it_leaves_to_the_crate() {
        let strings = {
            let mut v = utf16z("a");
            v.extend(utf16z("b"));
            v
        };
        let mut vals: Vec<(u8, Vec<u8>)> = vec![(ty::UINT16, 1u16.to_le_bytes().to_vec())];
        vals.extend((1..17).map(|_| (ty::STRING, vec![])));
        vals.push((ty::STRING | 0x80, strings));
        let c = chunk(&[(1, sysmon_like, vals)]);
        let mut reader = Reader::default();
        // (index 17 is UtcTime's: an array there repeats the element in the XML)
        assert!(via_reader(&mut reader, &c).is_err());
        let mut bad = chunk(&[(1, sysmon_like, vec![(ty::UINT16, vec![1, 0])])]);
        bad[512] = 0;
        assert_eq!(via_reader(&mut reader, &bad).unwrap_err(), Unsupported("no record magic"));
        let short = &bad[..600];
        let mut out = Vec::new();
        assert!(reader.chunk(short, 4000, 1, &mut out).is_err());
        assert!(out.is_empty());
    }

    /// The crate's records for a chunk it can read whole, `None` if it reports any error.
    fn via_crate_if_clean(chunk: Vec<u8>) -> Option<Vec<(u64, Decoded)>> {
        let settings = Arc::new(evtx::ParserSettings::new().num_threads(1));
        let mut data = evtx::EvtxChunkData::new(chunk, false).ok()?;
        let mut parsed = data.parse(settings).ok()?;
        let mut out = Vec::new();
        for r in parsed.iter() {
            let r = r.ok()?.into_xml().ok()?;
            out.push((r.event_record_id, super::super::from_xml(&r.data)));
        }
        Some(out)
    }

    fn two_records() -> Vec<u8> {
        let sid = [1u8, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
        let mut vals: Values = vec![
            (ty::UINT16, 1u16.to_le_bytes().to_vec()),
            (ty::FILETIME, FT_2024.to_le_bytes().to_vec()),
            (ty::UINT64, 9u64.to_le_bytes().to_vec()),
            (ty::STRING, utf16z("Microsoft-Windows-Sysmon/Operational")),
            (ty::STRING, utf16z("dc01")),
            (ty::SID, sid.to_vec()),
        ];
        vals.extend((6..18).map(|i| (ty::STRING, utf16z(&format!("v{i}")))));
        vals[10] = (ty::NULL, vec![]);
        chunk(&[(1, sysmon_like as Def, vals.clone()), (2, sysmon_like, vals)])
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 3000, ..proptest::prelude::ProptestConfig::default()
        })]

        /// Damaged chunks (a few bytes changed anywhere in the records): the fast
        /// reader never panics, and when it reads a chunk that the crate reads without
        /// an error, both give the same events.
        #[test]
        fn damaged_chunks_never_panic_and_agree_with_the_crate(
            edits in proptest::collection::vec((0usize..2048, proptest::prelude::any::<u8>()), 1..4)
        ) {
            let mut c = two_records();
            let used = c.iter().rposition(|&b| b != 0).unwrap_or(512) + 1;
            for (at, b) in edits {
                let at = 512 + at % (used - 512);
                c[at] = b;
            }
            let mut reader = Reader::default();
            if let (Ok(got), Some(expect)) = (via_reader(&mut reader, &c), via_crate_if_clean(c.clone())) {
                proptest::prop_assert_eq!(got, expect);
            }
        }
    }

    /// `utf16_xml` unit by unit, for comparison.
    fn utf16_xml_plain(b: &[u8]) -> String {
        let units = b.chunks_exact(2).map(|u| u16::from_le_bytes([u[0], u[1]]));
        char::decode_utf16(units.take_while(|&u| u != 0))
            .map(|c| match c {
                Ok(c) if c < ' ' && !matches!(c, '\t' | '\n' | '\r') => '_',
                Ok('\u{fffe}' | '\u{ffff}') | Err(_) => '_',
                Ok(c) => c,
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2000, ..proptest::prelude::ProptestConfig::default()
        })]

        /// Eight units at a time over printable ASCII, one at a time past it: the same
        /// text as a plain walk, whatever the mix and wherever the runs break.
        #[test]
        fn utf16_in_blocks_equals_unit_by_unit(
            units in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => 0x20u16..0x7f,
                    1 => 0u16..0x20,
                    1 => 0x7fu16..0x800,
                    1 => 0xd800u16..0xe000,
                    1 => 0xfff0u16..=0xffff,
                ],
                0..400,
            ),
            odd in proptest::prelude::any::<bool>(),
        ) {
            let mut b: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
            if odd {
                b.push(b'x');
            }
            let mut out = String::from("pre:");
            utf16_xml(&b, &mut out);
            proptest::prop_assert_eq!(out, format!("pre:{}", utf16_xml_plain(&b)));
        }
    }

    /// Where `external_attr`'s attribute name lies: outside the template, in the chunk.
    const EXTERNAL_NAME: usize = 60_000;

    /// A template whose Data element's attribute name is read from the chunk's string
    /// area, not from the template's own bytes.
    fn external_attr(base: usize) -> Vec<u8> {
        let mut b = system_start(base);
        b.u8(4);
        b.open("EventData", Some(0xffff), false).u8(0x02);
        b.open("Data", Some(0xffff), true);
        b.u8(0x06).u32(EXTERNAL_NAME as u32);
        b.lit("Image").u8(0x02).sub(2, false, ty::STRING).u8(4);
        b.u8(4).u8(4).u8(0);
        b.d
    }

    /// The same template bytes at the same place in two chunks are compiled once, but
    /// only while the names they read from outside themselves are the same.
    #[test]
    fn a_template_is_reused_across_chunks_only_with_the_same_names() {
        let vals: Values = vec![
            (ty::UINT16, 1u16.to_le_bytes().to_vec()),
            (ty::FILETIME, FT_2024.to_le_bytes().to_vec()),
            (ty::STRING, utf16z("c:\\windows\\system32\\cmd.exe")),
        ];
        let with_name = |name: &str| {
            let mut c = chunk(&[(1, external_attr as Def, vals.clone())]);
            let mut n = Bx::default();
            n.u32(0).u16(0).u16(name.len() as u16).utf16(name).u16(0);
            c[EXTERNAL_NAME..EXTERNAL_NAME + n.d.len()].copy_from_slice(&n.d);
            c
        };
        let (named, other) = (with_name("Name"), with_name("Nome"));
        let mut reader = Reader::default();
        let mut compiled = Vec::new();
        for c in [&named, &named, &other, &named, &named] {
            assert_eq!(via_reader(&mut reader, c).unwrap(), via_crate(c.clone()));
            compiled.push(reader.compiles);
        }
        // Compiled for the first chunk, reused for its copy, compiled again when the
        // name outside changed (and when it changed back), then reused.
        assert_eq!(compiled, [1, 1, 2, 3, 3]);
        let field = |c: &[u8]| {
            let (_, w) = via_reader(&mut Reader::default(), c).unwrap()[0].1.clone().unwrap();
            w.fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>()
        };
        let image = "c:\\windows\\system32\\cmd.exe".to_string();
        assert_eq!(field(&named), vec![("Image".to_string(), image.clone())]);
        assert_eq!(field(&other), vec![("Data".to_string(), image)]);
    }
}
