//! Windows event logs: EVTX files and JSON lines in the shapes analysts have.
//!
//! * **EVTX** through the `evtx` crate, one chunk at a time (a chunk is 64 KiB and holds
//!   a few hundred records): a file on disk is read where the crate seeks, so memory
//!   stays flat however large the file; a compressed one, or bytes handed over in
//!   memory, is held whole. A chunk or a record the crate cannot parse is skipped and
//!   counted; decoding goes on. A sound chunk's records are read straight from their
//!   BinXML (`binxml`), without the crate rendering XML; any other chunk goes through
//!   the crate's XML, with the same result where both read it.
//! * **JSON lines**, one record per line, sniffed per record:
//!   - evtx_dump / EVTX-as-JSON: `{"Event": {"System": {...}, "EventData": {...}}}`;
//!   - Winlogbeat / Elastic Common Schema: `{"winlog": {"event_id", "channel",
//!     "computer_name", "event_data": {...}}, "@timestamp": ...}`;
//!   - flat objects as NXLog, OTRF (Mordor) datasets and many SIEM exports write them:
//!     `{"EventID": 1, "Channel": ..., "Hostname": ..., "Image": ..., ...}`.
//!
//! Every shape goes through one field-mapping layer ([`map_fields`]) that gives the
//! record its [`WinKind`] and Sysmon's field names (see `dwell_model::win`). Event time
//! is Sysmon's `UtcTime` when present (the moment of the action), else the record's
//! creation time; a record with neither is counted and skipped.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dwell_model::{
    Body, Event, Fields, FileId, Header, SourceRef, Text, Timestamp, WinEvent, WinKind,
};
use serde_json::{Map, Value};

use crate::error::{AnomalyKind, FileStats};
use crate::input::LineReader;

mod binxml;

/// Top-level keys of flat records that describe the record, not the event; they are
/// not kept as fields (the message text alone is often larger than all the data).
const FLAT_META: &[&str] = &[
    "Message",
    "message",
    "Keywords",
    "Level",
    "Task",
    "Opcode",
    "Version",
    "Severity",
    "SeverityValue",
    "EventType",
    "EventReceivedTime",
    "SourceModuleName",
    "SourceModuleType",
    "ExecutionProcessID",
    "ThreadID",
    "ProviderGuid",
    "RecordNumber",
    "EventRecordID",
    "EventID",
    "Channel",
    "Hostname",
    "Computer",
    "SourceName",
    "ProviderName",
    "TimeCreated",
    "EventTime",
    "@timestamp",
    "@version",
    "port",
    "host",
    "tags",
    "OpcodeValue",
    "Category",
];

/// Parses one record in any of the JSON shapes; `Ok(None)` for a JSON object that is
/// not a Windows record at all.
pub fn from_json(v: &Value) -> Result<Option<(Timestamp, WinEvent)>, String> {
    let Some(obj) = v.as_object() else {
        return Err("not a JSON object".into());
    };
    if let Some(ev) = obj.get("Event").and_then(Value::as_object) {
        return from_evtx_json(ev).map(Some);
    }
    if let Some(w) = obj.get("winlog").and_then(Value::as_object) {
        return from_winlogbeat(obj, w).map(Some);
    }
    if obj.contains_key("EventID") {
        return from_flat(obj).map(Some);
    }
    // Syslog exports of Sysmon for Linux (and any collector that forwards the rendered
    // XML): the event is the XML in the message.
    for key in ["SyslogMessage", "message", "Message", "xml"] {
        if let Some(Value::String(x)) = obj.get(key) {
            if x.trim_start().starts_with("<Event") {
                return from_xml(x).map(Some);
            }
        }
    }
    Ok(None)
}

/// Where `<tag` starts an element (`<tag>`, `<tag ...>` or `<tag/>`) in `b`. Walks the
/// `<` bytes (memchr) and compares in place: a substring searcher's set-up would cost
/// more than the search on texts this short.
fn open_tag_at(b: &[u8], tag: &[u8]) -> Option<usize> {
    let first = tag.first().copied();
    memchr::memchr_iter(b'<', b).find(|&i| {
        b.get(i + 1).copied() == first
            && b.get(i + 1..).is_some_and(|r| r.starts_with(tag))
            && matches!(b.get(i + 1 + tag.len()), Some(b'>' | b' ' | b'/'))
    })
}

/// Where `</tag>` starts in `b`.
fn close_tag_at(b: &[u8], tag: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'<', b).find(|&i| {
        b.get(i + 1) == Some(&b'/')
            && b.get(i + 2).copied() == tag.first().copied()
            && b.get(i + 2..).is_some_and(|r| r.starts_with(tag))
            && b.get(i + 2 + tag.len()) == Some(&b'>')
    })
}

/// The text between `<tag ...>` and `</tag>` (first occurrence), and the opening tag.
/// No allocation: this runs several times per record.
fn xml_element<'a>(x: &'a str, tag: &str) -> Option<(&'a str, &'a str)> {
    let b = x.as_bytes();
    let i = open_tag_at(b, tag.as_bytes())?;
    let after = &x[i + 1 + tag.len()..];
    let open_end = memchr::memchr(b'>', after.as_bytes())?;
    let open = &after[..open_end];
    if open.ends_with('/') {
        return Some((open, ""));
    }
    let body = &after[open_end + 1..];
    let close = close_tag_at(body.as_bytes(), tag.as_bytes())?;
    Some((open, &body[..close]))
}

/// The value of attribute `name` in an opening tag's text (`Name="value"`).
fn xml_attr<'a>(open: &'a str, name: &str) -> Option<&'a str> {
    let b = open.as_bytes();
    for eq in memchr::memchr_iter(b'=', b) {
        let Some(start) = eq.checked_sub(name.len()) else { continue };
        if &b[start..eq] == name.as_bytes()
            && (start == 0 || b[start - 1] == b' ')
            && b.get(eq + 1) == Some(&b'"')
        {
            let rest = &open[eq + 2..];
            return Some(&rest[..memchr::memchr(b'"', rest.as_bytes())?]);
        }
    }
    None
}

fn xml_unescape(s: &str) -> Cow<'_, str> {
    if memchr::memchr(b'&', s.as_bytes()).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let ch = match ent {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A rendered event in Windows' event XML (`<Event><System>...<EventData><Data
/// Name="...">`), as Sysmon for Linux writes to syslog and `wevtutil qe /f:xml` prints.
pub fn from_xml(x: &str) -> Result<(Timestamp, WinEvent), String> {
    let (_, system) = xml_element(x, "System").ok_or("event XML without System")?;
    let text =
        |tag: &str| xml_element(system, tag).map(|(_, t)| xml_unescape(t.trim()).into_owned());
    let event_id =
        text("EventID").and_then(|t| t.parse().ok()).ok_or("event XML without EventID")?;
    let channel = text("Channel").unwrap_or_default();
    let computer = text("Computer").unwrap_or_default();
    let provider = xml_element(system, "Provider")
        .and_then(|(open, _)| xml_attr(open, "Name"))
        .map(|n| xml_unescape(n).into_owned());
    let created = xml_element(system, "TimeCreated")
        .and_then(|(open, _)| xml_attr(open, "SystemTime"))
        .and_then(Timestamp::parse_rfc3339);
    let record_id = text("EventRecordID").and_then(|t| t.parse().ok());
    let mut raw = Vec::new();
    // Syslog transports cut long messages: a record whose EventData never closes keeps
    // every complete Data element before the cut.
    let data = xml_element(x, "EventData").map(|(_, d)| d).or_else(|| {
        let i = x.find("<EventData>")?;
        Some(&x[i + "<EventData>".len()..])
    });
    if let Some(data) = data {
        let mut rest = data;
        while let Some(i) = open_tag_at(rest.as_bytes(), b"Data") {
            let after = &rest[i + 5..];
            let Some(gt) = memchr::memchr(b'>', after.as_bytes()) else { break };
            let open = &after[..gt];
            if !(open.is_empty() || open.starts_with(' ') || open.starts_with('/')) {
                rest = after;
                continue;
            }
            let (value, next) = if open.ends_with('/') {
                ("", &after[gt + 1..])
            } else {
                let body = &after[gt + 1..];
                let Some(close) = close_tag_at(body.as_bytes(), b"Data") else { break };
                (&body[..close], &body[close + 7..])
            };
            match xml_attr(open, "Name") {
                Some(name) => raw.push((xml_unescape(name), xml_unescape(value))),
                None if !value.is_empty() => raw.push(("Data".into(), xml_unescape(value))),
                None => {}
            }
            rest = next;
        }
    } else if let Some((_, user)) = xml_element(x, "UserData") {
        user_data(user, &mut raw);
    }
    if let Some(uid) =
        xml_element(system, "Security").and_then(|(open, _)| xml_attr(open, "UserID"))
    {
        raw.push(("UserID".into(), xml_unescape(uid)));
    }
    finish(created, channel, computer, provider, event_id, record_id, raw)
}

/// `<UserData><LogFileCleared xmlns="..."><SubjectUserName>u</SubjectUserName>...`: the
/// children of UserData's one element, as fields.
fn user_data<'a>(user: &'a str, raw: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>) {
    let Some(start) = user.find('<') else { return };
    let Some(open_end) = user[start..].find('>').map(|e| start + e) else { return };
    let mut rest = &user[open_end + 1..];
    while let Some(lt) = rest.find('<') {
        let after = &rest[lt + 1..];
        if after.starts_with('/') {
            break;
        }
        let Some(name_end) = after.find(['>', ' ', '/']) else { break };
        let tag = &after[..name_end];
        let Some(gt) = after.find('>') else { break };
        if after[..gt].ends_with('/') {
            raw.push((Cow::Borrowed(tag), Cow::Borrowed("")));
            rest = &after[gt + 1..];
            continue;
        }
        let body = &after[gt + 1..];
        let close = format!("</{tag}>");
        let Some(c) = body.find(&close) else { break };
        raw.push((Cow::Borrowed(tag), xml_unescape(&body[..c])));
        rest = &body[c + close.len()..];
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().filter_map(text_of).collect();
            Some(parts.join(","))
        }
        Value::Object(o) => o.get("#text").and_then(text_of),
    }
}

fn u32_of(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        Value::Object(o) => o.get("#text").and_then(u32_of),
        _ => None,
    }
}

fn attr<'a>(v: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    v?.as_object()?.get("#attributes")?.as_object()?.get(name)
}

/// `{"Event": {"System": ..., "EventData" | "UserData": ...}}` as the `evtx` crate and
/// `evtx_dump -o json` write it.
fn from_evtx_json(ev: &Map<String, Value>) -> Result<(Timestamp, WinEvent), String> {
    let sys = ev.get("System").and_then(Value::as_object).ok_or("Event without System")?;
    let event_id = sys.get("EventID").and_then(u32_of).ok_or("System without EventID")?;
    let channel = sys.get("Channel").and_then(text_of).unwrap_or_default();
    let computer = sys.get("Computer").and_then(text_of).unwrap_or_default();
    let provider = attr(sys.get("Provider"), "Name").and_then(text_of);
    let created = attr(sys.get("TimeCreated"), "SystemTime")
        .and_then(text_of)
        .and_then(|t| Timestamp::parse_rfc3339(&t));
    let record_id = sys.get("EventRecordID").and_then(|v| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    });
    let mut raw: Vec<(String, String)> = Vec::new();
    for key in ["EventData", "UserData"] {
        match ev.get(key) {
            Some(Value::Object(data)) => flatten_data(data, &mut raw),
            Some(other) => {
                if let Some(t) = text_of(other) {
                    raw.push(("Data".into(), t));
                }
            }
            None => {}
        }
    }
    // The user that logged the record (System/Security/@UserID) helps where the data
    // has no subject.
    if let Some(sid) = attr(sys.get("Security"), "UserID").and_then(text_of) {
        raw.push(("UserID".into(), sid));
    }
    finish(created, channel, computer, provider, event_id, record_id, raw)
}

/// EventData is `{"Name": value, ...}`; UserData nests one more level
/// (`{"LogFileCleared": {"SubjectUserName": ...}}`); unnamed data is `{"Data": [..]}`.
fn flatten_data(data: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (k, v) in data {
        if k == "#attributes" {
            continue;
        }
        match v {
            Value::Object(inner) if !inner.contains_key("#text") => {
                for (k2, v2) in inner {
                    if k2 == "#attributes" {
                        continue;
                    }
                    if let Some(t) = text_of(v2) {
                        out.push((k2.clone(), t));
                    }
                }
            }
            _ => {
                if let Some(t) = text_of(v) {
                    out.push((k.clone(), t));
                }
            }
        }
    }
}

fn from_winlogbeat(
    top: &Map<String, Value>,
    w: &Map<String, Value>,
) -> Result<(Timestamp, WinEvent), String> {
    let event_id = w
        .get("event_id")
        .and_then(u32_of)
        .or_else(|| top.get("event").and_then(|e| e.get("code")).and_then(u32_of))
        .ok_or("winlog without event_id")?;
    let channel = w.get("channel").and_then(text_of).unwrap_or_default();
    let computer = w
        .get("computer_name")
        .and_then(text_of)
        .or_else(|| top.get("host").and_then(|h| h.get("name")).and_then(text_of))
        .unwrap_or_default();
    let provider = w.get("provider_name").and_then(text_of);
    let record_id = w.get("record_id").and_then(|v| text_of(v)?.parse().ok());
    let created =
        top.get("@timestamp").and_then(text_of).and_then(|t| Timestamp::parse_rfc3339(&t));
    let mut raw = Vec::new();
    for key in ["event_data", "user_data"] {
        if let Some(Value::Object(data)) = w.get(key) {
            flatten_data(data, &mut raw);
        }
    }
    finish(created, channel, computer, provider, event_id, record_id, raw)
}

fn from_flat(obj: &Map<String, Value>) -> Result<(Timestamp, WinEvent), String> {
    let event_id = obj.get("EventID").and_then(u32_of).ok_or("EventID is not a number")?;
    let channel = obj.get("Channel").and_then(text_of).unwrap_or_default();
    let computer = ["Hostname", "Computer", "host"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(text_of))
        .unwrap_or_default();
    let provider =
        ["SourceName", "ProviderName"].iter().find_map(|k| obj.get(*k).and_then(text_of));
    let record_id = ["EventRecordID", "RecordNumber"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(|v| text_of(v)?.parse().ok()));
    // `TimeCreated` and `@timestamp` are UTC with a zone; NXLog's `EventTime` is the
    // collector's local time without one, so it is used last.
    let created = ["TimeCreated", "@timestamp", "EventTime"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(text_of).and_then(|t| Timestamp::parse_rfc3339(&t)));
    let raw: Vec<(String, String)> = obj
        .iter()
        .filter(|(k, _)| !FLAT_META.contains(&k.as_str()))
        .filter_map(|(k, v)| Some((k.clone(), text_of(v)?)))
        .collect();
    finish(created, channel, computer, provider, event_id, record_id, raw)
}

fn finish<K: FieldName, V: AsRef<str>, T: AsRef<str> + Into<Text>>(
    created: Option<Timestamp>,
    channel: T,
    computer: T,
    provider: Option<T>,
    event_id: u32,
    record_id: Option<u64>,
    raw: Vec<(K, V)>,
) -> Result<(Timestamp, WinEvent), String> {
    let kind =
        WinKind::classify(channel.as_ref(), provider.as_ref().map_or("", |p| p.as_ref()), event_id);
    let fields = map_fields(kind, event_id, raw);
    // Sysmon's UtcTime is when the action happened; the record is written a moment later.
    let utc =
        fields.iter().find(|(k, _)| *k == "UtcTime").and_then(|(_, v)| Timestamp::parse_rfc3339(v));
    let ts = utc.or(created).ok_or("no event time (TimeCreated, UtcTime, @timestamp)")?;
    Ok((
        ts,
        WinEvent {
            kind,
            computer: computer.into(),
            channel: channel.into(),
            provider: provider.map(Into::into),
            event_id,
            record_id,
            fields,
        },
    ))
}

/// Renames per record kind so that every source speaks Sysmon's vocabulary; names not
/// listed stay as logged. Security 4688's `ProcessId` is the *creator*: it becomes
/// `ParentProcessId` and `NewProcessId` becomes `ProcessId`.
pub fn map_fields<K: FieldName, V: AsRef<str>>(
    kind: WinKind,
    event_id: u32,
    raw: Vec<(K, V)>,
) -> Fields {
    let rename = |k: &str| -> Option<&'static str> {
        match (kind, event_id, k) {
            (WinKind::Process, 4688, "NewProcessName") => Some("Image"),
            (WinKind::Process, 4688, "ParentProcessName") => Some("ParentImage"),
            (WinKind::Process, 4688, "ProcessId") => Some("ParentProcessId"),
            (WinKind::Process, 4688, "NewProcessId") => Some("ProcessId"),
            (WinKind::Process, 4688, "MandatoryLabel") => Some("IntegrityLevel"),
            (WinKind::ServiceInstall, 4697, "ServiceFileName") => Some("ImagePath"),
            (WinKind::ServiceInstall, 4697, "ServiceAccount") => Some("AccountName"),
            (WinKind::TaskCreate, _, "TaskContent") => Some("TaskContent"),
            (WinKind::ShareAccess, _, "IpAddress") => Some("IpAddress"),
            _ => None,
        }
    };
    let bytes = raw.iter().map(|(_, v)| v.as_ref().len()).sum();
    let mut out = Fields::with_capacity(raw.len() + 1, bytes);
    let mut subject: (Option<String>, Option<String>) = (None, None);
    for (key, v) in raw {
        let (k, v) = (key.as_ref(), v.as_ref());
        if kind == WinKind::Process && event_id == 4688 {
            match k {
                "SubjectUserName" => subject.0 = Some(v.to_string()),
                "SubjectDomainName" => subject.1 = Some(v.to_string()),
                _ => {}
            }
        }
        let name: Text = match rename(k) {
            Some(n) => intern(n),
            None => key.into_text(),
        };
        let coded =
            memchr::memchr_iter(b'%', v.as_bytes()).any(|i| v.as_bytes().get(i + 1) == Some(&b'%'));
        if coded {
            out.push(name, &render_message_codes(v));
        } else {
            out.push(name, v);
        }
    }
    // 4688 has no `User`; Sysmon writes `DOMAIN\name`.
    if let (WinKind::Process, 4688, (Some(user), dom)) = (kind, event_id, subject) {
        if !out.iter().any(|(k, _)| k == "User") {
            let u = match dom {
                Some(d) if !d.is_empty() && d != "-" => format!("{d}\\{user}"),
                _ => user,
            };
            out.push(intern("User"), &u);
        }
    }
    out
}

/// A field's name as a decoder has it: text to intern, or a name already shared.
pub trait FieldName: AsRef<str> + Sized {
    /// The shared name.
    fn into_text(self) -> Text {
        intern(self.as_ref())
    }
}

impl FieldName for &str {}
impl FieldName for String {}
impl FieldName for Cow<'_, str> {}
impl FieldName for Text {
    fn into_text(self) -> Text {
        self
    }
}

thread_local! {
    static NAMES: std::cell::RefCell<
        std::collections::HashMap<String, Text, foldhash::fast::RandomState>,
    > = std::cell::RefCell::new(std::collections::HashMap::default());
}

/// One shared allocation per field name, and per channel, computer and provider of EVTX
/// records (a few hundred distinct names in practice; the cache stops growing at 4096
/// so hostile input cannot make it grow without bound).
fn intern(name: &str) -> Text {
    NAMES.with(|m| {
        let mut m = m.borrow_mut();
        if let Some(t) = m.get(name) {
            return t.clone();
        }
        let t: Text = name.into();
        if m.len() < 4096 {
            m.insert(name.to_string(), t.clone());
        }
        t
    })
}

/// Security-log access codes as Windows' event viewer renders them (`%%4417` →
/// `WriteData (or AddFile)`): EVTX keeps the codes, rules and analysts read the names.
const MESSAGE_CODES: &[(&str, &str)] = &[
    ("%%1537", "DELETE"),
    ("%%1538", "READ_CONTROL"),
    ("%%1539", "WRITE_DAC"),
    ("%%1540", "WRITE_OWNER"),
    ("%%1541", "SYNCHRONIZE"),
    ("%%1542", "ACCESS_SYS_SEC"),
    ("%%4416", "ReadData (or ListDirectory)"),
    ("%%4417", "WriteData (or AddFile)"),
    ("%%4418", "AppendData (or AddSubdirectory or CreatePipeInstance)"),
    ("%%4419", "ReadEA"),
    ("%%4420", "WriteEA"),
    ("%%4421", "Execute/Traverse"),
    ("%%4422", "DeleteChild"),
    ("%%4423", "ReadAttributes"),
    ("%%4424", "WriteAttributes"),
    ("%%7688", "Control Access"),
];

fn render_message_codes(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 32);
    let mut rest = v;
    while let Some(i) = rest.find("%%") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        match MESSAGE_CODES.iter().find(|(code, _)| rest.starts_with(code)) {
            Some((code, name)) => {
                out.push_str(name);
                rest = &rest[code.len()..];
            }
            None => {
                out.push('%');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn event(ts: Timestamp, file: FileId, record: u64, w: WinEvent) -> Event {
    Event {
        header: Header { ts, src: SourceRef { file, record }, uid: None, community_id: None },
        body: Body::Win(Box::new(w)),
    }
}

/// Streaming decoder of Windows JSON lines.
pub struct WinJsonDecoder {
    lines: LineReader,
    file: FileId,
}

impl WinJsonDecoder {
    /// A decoder over `lines`.
    pub fn new(lines: LineReader, file: FileId) -> Self {
        WinJsonDecoder { lines, file }
    }

    /// Decodes up to the next event; `None` at end of input.
    pub fn next_event(&mut self, stats: &mut FileStats) -> Option<Event> {
        loop {
            let (line_no, line) = self.lines.next_record(stats)?;
            let v: Value = match serde_json::from_slice(line) {
                Ok(v) => v,
                Err(_) => {
                    let text = String::from_utf8_lossy(line);
                    match serde_json::from_str(&text) {
                        Ok(v) => {
                            stats.anomaly(line_no, AnomalyKind::BadUtf8, "invalid UTF-8 replaced");
                            v
                        }
                        Err(e) => {
                            stats.anomaly(line_no, AnomalyKind::BadJson, e);
                            continue;
                        }
                    }
                }
            };
            match from_json(&v) {
                Ok(Some((ts, w))) => {
                    let ev = event(ts, self.file, line_no, w);
                    *stats.events.entry(ev.kind()).or_default() += 1;
                    return Some(ev);
                }
                Ok(None) => stats.skip("non-windows-record"),
                Err(why) => stats.anomaly(line_no, AnomalyKind::MissingField, why),
            }
        }
    }
}

/// Streaming decoder of an EVTX file, one chunk at a time.
///
/// Opening reads nothing past what sniffing read: the file is loaded on the first
/// event (or the first [`first_ts`](Self::first_ts) call), so listing and ordering many
/// inputs does not load each of them twice.
pub struct EvtxDecoder {
    src: EvtxSource,
    settings: Arc<evtx::ParserSettings>,
    file: FileId,
    queue: VecDeque<Event>,
    /// Records seen, for the record number of an event (EVTX has its own ids, but a
    /// corrupt record may not).
    ordinal: u64,
    /// The earliest first-record time over the chunks, read from record headers.
    first_ts: Option<Timestamp>,
    /// Why the file could not be opened for reading, until the next event call
    /// counts it (the file may be loaded by [`first_ts`](Self::first_ts), which has
    /// no statistics to count into).
    load_error: Option<String>,
    /// Reads sound chunks straight from their BinXML (see [`binxml`]).
    fast: binxml::Reader,
    /// The fast reader's records of the current chunk.
    decoded: Vec<(u64, binxml::Decoded)>,
}

enum EvtxSource {
    /// Not read yet: the stream and the file's size (to read it in one allocation).
    Pending(Box<dyn Read + Send>, u64),
    /// Not read yet: a plain file on disk, read a chunk at a time where the crate seeks
    /// (no copy of the whole file in memory); the end of each chunk read goes to the
    /// progress counter; the file's size.
    PendingFile(std::fs::File, Arc<AtomicU64>, u64),
    Ready(evtx::IntoIterChunks<std::io::Cursor<Vec<u8>>>),
    /// The crate reads the `File` itself: `std` reads a file into a vector's spare
    /// capacity as it is, where a wrapper's `read` would have each 64 KiB chunk buffer
    /// zeroed first.
    ReadyFile(evtx::IntoIterChunks<std::fs::File>, Arc<AtomicU64>),
    /// Unreadable, already counted.
    Done,
}

/// Bytes of an EVTX file header, where the first chunk starts.
const EVTX_HEADER: u64 = 4096;
/// Bytes of an EVTX chunk.
const EVTX_CHUNK: u64 = 65_536;

/// Bytes of a chunk's start that hold its first record's header.
const CHUNK_PREFIX: usize = 512 + 24;

/// The time in the header of a chunk's first record, from the chunk's first
/// [`CHUNK_PREFIX`] bytes (FILETIME, 100 ns since 1601); `None` if it is no chunk.
fn chunk_first_ts(chunk: &[u8]) -> Option<i64> {
    const EPOCH_DIFF_S: i64 = 11_644_473_600;
    if !chunk.starts_with(b"ElfChnk\0") {
        return None;
    }
    let rec = chunk.get(512..CHUNK_PREFIX)?;
    if !rec.starts_with(&[0x2a, 0x2a, 0, 0]) {
        return None;
    }
    let mut ft = [0u8; 8];
    ft.copy_from_slice(&rec[16..24]);
    let us = u64::from_le_bytes(ft) as i64 / 10 - EPOCH_DIFF_S * 1_000_000;
    (us > 0).then_some(us)
}

/// The earliest time over each chunk's first record header (FILETIME, 100 ns since
/// 1601): where a file starts, without rendering a record. `prefix_at(offset)` gives the
/// [`CHUNK_PREFIX`] bytes at a chunk's offset, `None` past the end.
fn earliest_chunk_ts(
    mut prefix_at: impl FnMut(u64) -> Option<[u8; CHUNK_PREFIX]>,
) -> Option<Timestamp> {
    let mut best: Option<i64> = None;
    let mut off = EVTX_HEADER;
    while let Some(chunk) = prefix_at(off) {
        if !chunk.starts_with(b"ElfChnk\0") {
            break;
        }
        if let Some(us) = chunk_first_ts(&chunk) {
            best = Some(best.map_or(us, |b| b.min(us)));
        }
        off += EVTX_CHUNK;
    }
    best.map(Timestamp)
}

/// Where an EVTX file held in memory starts.
fn header_first_ts(buf: &[u8]) -> Option<Timestamp> {
    earliest_chunk_ts(|off| {
        let at = usize::try_from(off).ok()?;
        buf.get(at..at + CHUNK_PREFIX)?.try_into().ok()
    })
}

/// Where an EVTX file on disk of `size` bytes starts, reading only the first record
/// header of each chunk (536 bytes per 64 KiB, one positioned read each), for ordering
/// inputs before any is decoded; `None` if it has no readable chunk. The file header
/// was read when the file was sniffed as EVTX.
fn evtx_first_ts(f: &std::fs::File, size: u64) -> Option<Timestamp> {
    earliest_chunk_ts(|off| {
        if off.checked_add(CHUNK_PREFIX as u64)? > size {
            return None;
        }
        let mut buf = [0u8; CHUNK_PREFIX];
        read_exact_at(f, &mut buf, off).ok()?;
        Some(buf)
    })
}

/// Fills `buf` from `f` at `off`: one `pread` where there is one.
fn read_exact_at(f: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(f, buf, off)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom};
        let mut f = f;
        f.seek(SeekFrom::Start(off))?;
        f.read_exact(buf)
    }
}

impl EvtxDecoder {
    /// A decoder over an EVTX stream of about `size` bytes; nothing is read yet.
    pub fn new(reader: Box<dyn Read + Send>, size: u64, file: FileId) -> Self {
        let settings = evtx::ParserSettings::new()
            .num_threads(1)
            .separate_json_attributes(false)
            .validate_checksums(false);
        EvtxDecoder {
            src: EvtxSource::Pending(reader, size),
            settings: Arc::new(settings),
            file,
            queue: VecDeque::new(),
            ordinal: 0,
            first_ts: None,
            load_error: None,
            fast: binxml::Reader::take(),
            decoded: Vec::new(),
        }
    }

    /// Reads a plain file on disk (`file`, a handle on it) a chunk at a time instead of
    /// from the stream it was opened with; `progress` receives how far reading has got.
    pub(crate) fn read_from_disk(&mut self, file: std::fs::File, progress: Arc<AtomicU64>) {
        if let EvtxSource::Pending(_, size) = self.src {
            self.src = EvtxSource::PendingFile(file, progress, size);
        }
    }

    /// Prepares to walk the chunks: a file on disk through seeks, a stream by reading it
    /// whole (EVTX needs random access; the input layer caps decompressed size).
    fn load(&mut self) {
        let src = std::mem::replace(&mut self.src, EvtxSource::Done);
        if let EvtxSource::PendingFile(mut f, furthest, _) = src {
            use std::io::{Seek, SeekFrom};
            let parsed = f.seek(SeekFrom::Start(0)).map_err(|e| e.to_string()).and_then(|_| {
                evtx::EvtxParser::from_read_seek(f)
                    .map_err(|e| format!("not a readable EVTX file: {e}"))
            });
            match parsed {
                Ok(p) => {
                    let p = p.with_configuration((*self.settings).clone());
                    self.src = EvtxSource::ReadyFile(p.into_chunks(), furthest);
                }
                Err(e) => self.load_error = Some(e),
            }
            return;
        }
        let EvtxSource::Pending(reader, size) = src else {
            self.src = src;
            return;
        };
        let mut reader = reader;
        // One allocation of the expected size (the size on disk; more for gzip).
        let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 30));
        let read = reader.read_to_end(&mut buf).map_err(|e| e.to_string());
        let parsed = read.and_then(|_| {
            self.first_ts = header_first_ts(&buf);
            evtx::EvtxParser::from_buffer(buf)
                .map_err(|e| format!("not a readable EVTX file: {e}"))
                .map(|p| p.with_configuration((*self.settings).clone()))
        });
        match parsed {
            Ok(p) => self.src = EvtxSource::Ready(p.into_chunks()),
            Err(e) => self.load_error = Some(e),
        }
    }

    /// When the file starts, from record headers (no record rendered): for a file on
    /// disk by seeking to each chunk's first record, for a stream by loading it.
    pub fn first_ts(&mut self) -> Option<Timestamp> {
        if self.first_ts.is_none() {
            match &self.src {
                EvtxSource::PendingFile(f, _, size) => self.first_ts = evtx_first_ts(f, *size),
                _ => self.load(),
            }
        }
        self.first_ts
    }

    /// Decodes up to the next event; `None` at end of input.
    pub fn next_event(&mut self, stats: &mut FileStats) -> Option<Event> {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return Some(ev);
            }
            if matches!(self.src, EvtxSource::Pending(..) | EvtxSource::PendingFile(..)) {
                self.load();
            }
            if let Some(e) = self.load_error.take() {
                stats.anomaly(0, AnomalyKind::BadHeader, e);
            }
            let chunk = match &mut self.src {
                EvtxSource::Ready(chunks) => chunks.next()?,
                EvtxSource::ReadyFile(chunks, furthest) => {
                    let chunk = chunks.next()?;
                    if let Ok(evtx::EvtxChunkData { number: Some(n), .. }) = &chunk {
                        let end = EVTX_HEADER + (n + 1) * EVTX_CHUNK;
                        furthest.fetch_max(end, Ordering::Relaxed);
                    }
                    chunk
                }
                _ => return None,
            };
            let mut data = match chunk {
                Ok(d) => d,
                Err(e) => {
                    stats.anomaly(self.ordinal + 1, AnomalyKind::Truncated, format!("chunk: {e}"));
                    continue;
                }
            };
            let h = &data.header;
            let (free, last) = (h.free_space_offset, h.last_event_record_id);
            // A chunk the fast reader leaves (see `binxml`) goes through the crate below.
            if self.fast.chunk(&data.data, free, last, &mut self.decoded).is_ok() {
                for (record, decoded) in self.decoded.drain(..) {
                    self.ordinal += 1;
                    stats.records += 1;
                    match decoded {
                        Ok((ts, w)) => {
                            let ev = event(ts, self.file, record, w);
                            *stats.events.entry(ev.kind()).or_default() += 1;
                            self.queue.push_back(ev);
                        }
                        Err(why) => stats.anomaly(record, AnomalyKind::MissingField, why),
                    }
                }
                continue;
            }
            let mut parsed = match data.parse(self.settings.clone()) {
                Ok(p) => p,
                Err(e) => {
                    stats.anomaly(self.ordinal + 1, AnomalyKind::Truncated, format!("chunk: {e}"));
                    continue;
                }
            };
            for rec in parsed.iter() {
                self.ordinal += 1;
                stats.records += 1;
                // XML is the crate's native rendering; scanning it is several times
                // cheaper than rendering JSON and parsing that back into a tree (and
                // `binxml` reads the same fields without rendering, where it can).
                let rec = match rec.and_then(|r| r.into_xml()) {
                    Ok(r) => r,
                    Err(e) => {
                        stats.anomaly(self.ordinal, AnomalyKind::BadValue, format!("record: {e}"));
                        continue;
                    }
                };
                let record = rec.event_record_id;
                match from_xml(&rec.data) {
                    Ok((ts, w)) => {
                        let ev = event(ts, self.file, record, w);
                        *stats.events.entry(ev.kind()).or_default() += 1;
                        self.queue.push_back(ev);
                    }
                    Err(why) => stats.anomaly(record, AnomalyKind::MissingField, why),
                }
            }
        }
    }
}

impl Drop for EvtxDecoder {
    /// The fast reader (its names and compiled templates) serves the next file.
    fn drop(&mut self) {
        std::mem::take(&mut self.fast).keep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that is no EVTX file is counted as such when decoding starts, even if
    /// its start time was asked for first (which loads it, with nowhere to count).
    #[test]
    fn an_unreadable_evtx_stream_is_counted_after_first_ts() {
        let bytes = b"ElfFile\0 and then nothing an EVTX parser can read".to_vec();
        let n = bytes.len() as u64;
        let mut d = EvtxDecoder::new(Box::new(std::io::Cursor::new(bytes)), n, FileId(0));
        assert_eq!(d.first_ts(), None);
        let mut st = FileStats::default();
        assert!(d.next_event(&mut st).is_none());
        assert_eq!(st.anomalies.get(&AnomalyKind::BadHeader), Some(&1), "{st:?}");
    }
    use serde_json::json;

    fn one(v: Value) -> (Timestamp, WinEvent) {
        from_json(&v).unwrap().unwrap()
    }

    #[test]
    fn evtx_dump_shape() {
        let (ts, w) = one(json!({"Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Computer": "WS5.corp.local", "EventRecordID": 42,
                "TimeCreated": {"#attributes": {"SystemTime": "2019-03-19T23:34:26.472000Z"}}
            },
            "EventData": {"UtcTime": "2019-03-19 23:34:26.450", "Image": "C:\\x\\a.exe",
                          "CommandLine": "a.exe /q"}
        }}));
        assert_eq!(w.kind, WinKind::Process);
        assert_eq!(w.record_id, Some(42));
        assert_eq!(w.get("Image"), Some("C:\\x\\a.exe"));
        assert_eq!(ts, Timestamp::parse_rfc3339("2019-03-19T23:34:26.450Z").unwrap());
        assert_eq!(w.host_key(), "ws5");
    }

    #[test]
    fn evtx_user_data_and_qualified_event_id() {
        let (_, w) = one(json!({"Event": {
            "System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045},
                       "Channel": "System", "Computer": "DC1",
                       "Provider": {"#attributes": {"Name": "Service Control Manager"}},
                       "TimeCreated": {"#attributes": {"SystemTime": "2019-03-19T23:34:26Z"}}},
            "EventData": {"ServiceName": "PSEXESVC", "ImagePath": "%SystemRoot%\\PSEXESVC.exe"}
        }}));
        assert_eq!(w.kind, WinKind::ServiceInstall);
        assert_eq!(w.get("ServiceName"), Some("PSEXESVC"));
        let (_, w) = one(json!({"Event": {
            "System": {"EventID": 1102, "Channel": "Security", "Computer": "DC1",
                       "TimeCreated": {"#attributes": {"SystemTime": "2019-03-19T23:34:26Z"}}},
            "UserData": {"LogFileCleared": {"SubjectUserName": "admin"}}
        }}));
        assert_eq!(w.kind, WinKind::LogCleared);
        assert_eq!(w.get("SubjectUserName"), Some("admin"));
    }

    #[test]
    fn security_4688_speaks_sysmon() {
        let (_, w) = one(json!({"EventID": 4688, "Channel": "Security", "Hostname": "WS1",
            "TimeCreated": "2020-10-23T02:36:43.128Z", "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
            "ParentProcessName": "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "ProcessId": "0x10",
            "NewProcessId": "0x20", "SubjectUserName": "bob", "SubjectDomainName": "CORP",
            "Message": "A new process has been created."}));
        assert_eq!(w.kind, WinKind::Process);
        assert_eq!(w.get("Image"), Some("C:\\Windows\\System32\\cmd.exe"));
        assert_eq!(w.get("ParentImage"), Some("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"));
        assert_eq!(w.get_u64("ProcessId"), Some(0x20));
        assert_eq!(w.get_u64("ParentProcessId"), Some(0x10));
        assert_eq!(w.get("User"), Some("CORP\\bob"));
        assert_eq!(w.get("Message"), None);
    }

    #[test]
    fn access_codes_are_rendered() {
        let (_, w) = one(json!({"EventID": 5145, "Channel": "Security", "Hostname": "H",
            "TimeCreated": "2020-10-23T02:36:43Z", "AccessList": "%%1538\n\t\t\t\t%%4417\n"}));
        assert!(w.get("AccessList").unwrap().contains("READ_CONTROL"));
        assert!(w.get("AccessList").unwrap().contains("WriteData (or AddFile)"));
        // Codes anywhere, unknown ones and stray percent signs kept as written.
        assert_eq!(
            render_message_codes("a%%1537b %%9999 %%%4417%% %%44170"),
            "aDELETEb %%9999 %WriteData (or AddFile)%% WriteData (or AddFile)0"
        );
    }

    #[test]
    fn winlogbeat_shape() {
        let (_, w) = one(json!({"@timestamp": "2021-01-01T00:00:00Z",
            "winlog": {"event_id": "3", "channel": "Microsoft-Windows-Sysmon/Operational",
                       "computer_name": "ws2", "record_id": 9,
                       "event_data": {"DestinationIp": "10.0.0.1", "Image": "x.exe"}}}));
        assert_eq!(w.kind, WinKind::NetConnect);
        assert_eq!(w.get("DestinationIp"), Some("10.0.0.1"));
        assert_eq!(w.record_id, Some(9));
    }

    #[test]
    fn syslog_event_xml() {
        let x = r#"<Event><System><Provider Name="Linux-Sysmon" Guid="{ff}"/><EventID>1</EventID><TimeCreated SystemTime="2022-05-11T18:10:20.399931000Z"/><EventRecordID>7</EventRecordID><Channel>Linux-Sysmon/Operational</Channel><Computer>UBUNTU5</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="Image">/usr/bin/bash</Data><Data Name="CommandLine">bash -c &quot;id &amp;&amp; ls&quot;</Data><Data Name="Empty"/><Data Name="User">root</Data></EventData></Event>"#;
        let (ts, w) = one(json!({"Computer": "UBUNTU5", "SyslogMessage": x}));
        assert_eq!(w.kind, WinKind::Process);
        assert_eq!(w.event_id, 1);
        assert_eq!(w.record_id, Some(7));
        assert_eq!(w.provider.as_deref(), Some("Linux-Sysmon"));
        assert_eq!(w.get("CommandLine"), Some("bash -c \"id && ls\""));
        assert_eq!(w.get("User"), Some("root"));
        assert_eq!(ts, Timestamp::parse_rfc3339("2022-05-11T18:10:20.399931Z").unwrap());
        assert_eq!(xml_unescape("a &#x41;&#66; &bogus; &"), "a AB &bogus; &");
    }

    #[test]
    fn records_without_time_or_id_are_errors() {
        assert!(from_json(&json!({"EventID": 1, "Channel": "Security"})).is_err());
        assert!(from_json(&json!({"EventID": "x", "TimeCreated": "2020-01-01T00:00:00Z"})).is_err());
        assert!(from_json(&json!({"foo": 1})).unwrap().is_none());
        assert!(from_json(&json!([1])).is_err());
    }
}
