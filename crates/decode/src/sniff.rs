//! Format detection from content.
//!
//! The file name never decides: a Zeek log may be called `conn.log`, `conn.00:00:00-01:00:00.log.gz`,
//! `otrf_apt29_day2_UTICA-ONE-DRIVE_conn.log` or `eve.json.1`. The first bytes
//! (decompressed) do: a `#separator` or `#fields` line is Zeek TSV; a JSON object with
//! `event_type` and `timestamp` is Suricata EVE; one with `ts` plus a Zeek key (`uid`,
//! `id.orig_h`/`id_orig_h`, `fuid`, `_path`, `@stream`, ...) is Zeek JSON; one with
//! `EventID`, `winlog` or `Event` is a Windows record (Sysmon/Winlogbeat/evtx_dump). pcap,
//! pcapng and EVTX are known by their magic numbers; archives, executables and
//! databases are named as such in the error.

use crate::error::DecodeErrorKind;

/// Input formats dwell decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Zeek ASCII logs (TSV with `#` headers).
    ZeekTsv,
    /// Zeek JSON logs (one object per line).
    ZeekJson,
    /// Suricata EVE JSON.
    Eve,
    /// A packet capture (pcap or pcapng).
    Pcap,
    /// Windows EVTX file.
    Evtx,
    /// Windows event records as JSON lines (evtx_dump, Winlogbeat, NXLog/OTRF flat).
    WinJson,
}

impl Format {
    /// Short name for summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::ZeekTsv => "zeek-tsv",
            Format::ZeekJson => "zeek-json",
            Format::Eve => "eve",
            Format::Pcap => "pcap",
            Format::Evtx => "evtx",
            Format::WinJson => "winlog-json",
        }
    }
}

/// Keys that only Zeek JSON records carry.
const ZEEK_KEYS: &[&str] = &[
    "uid",
    "id.orig_h",
    "id_orig_h",
    "fuid",
    "_path",
    "@stream",
    "_system_name",
    "fingerprint",
    "certificate.subject",
    "certificate_subject",
];

/// Detects the format of a file from its first bytes (decompressed).
pub fn sniff(prefix: &[u8]) -> Result<Format, DecodeErrorKind> {
    let trimmed = trim_start(prefix);
    if trimmed.is_empty() {
        return Err(if prefix.is_empty() {
            DecodeErrorKind::Empty
        } else {
            DecodeErrorKind::UnknownFormat("only whitespace".into())
        });
    }
    if crate::pcap::reader::is_capture(prefix) {
        return Ok(Format::Pcap);
    }
    if prefix.starts_with(crate::input::EVTX_MAGIC) {
        return Ok(Format::Evtx);
    }
    if let Some(what) = binary_magic(prefix) {
        return Err(DecodeErrorKind::Unsupported(what));
    }
    if trimmed.starts_with(b"#separator") || trimmed.starts_with(b"#fields") {
        return Ok(Format::ZeekTsv);
    }
    if trimmed.starts_with(b"{") {
        return sniff_json(trimmed);
    }
    Err(DecodeErrorKind::UnknownFormat(describe(prefix)))
}

fn trim_start(b: &[u8]) -> &[u8] {
    let skip = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    // A UTF-8 byte-order mark is not content either.
    let b = &b[skip..];
    b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b)
}

fn binary_magic(b: &[u8]) -> Option<&'static str> {
    match b {
        [b'P', b'K', 3, 4, ..] => Some("a ZIP archive (unpack it and give dwell its files)"),
        [b'7', b'z', 0xbc, 0xaf, ..] => {
            Some("a 7-Zip archive (unpack it and give dwell its files)")
        }
        [0x7f, b'E', b'L', b'F', ..] => Some("an ELF executable, not telemetry"),
        [b'M', b'Z', ..] => Some("a Windows executable, not telemetry"),
        _ if b.starts_with(b"SQLite format 3") => Some("an SQLite database"),
        _ => None,
    }
}

fn sniff_json(b: &[u8]) -> Result<Format, DecodeErrorKind> {
    if !b.contains(&b'\n') && b.len() >= crate::input::SNIFF_BYTES / 2 {
        // Zeek and EVE records are short; a first line this long is something else.
        return Err(DecodeErrorKind::UnknownFormat(format!(
            "starts like JSON but its first record is longer than {} KiB",
            b.len() / 1024
        )));
    }
    if b.split(|&c| c == b'\n')
        .next()
        .is_some_and(|l| trim_start(l) == b"{" || l.trim_ascii() == b"{")
    {
        return Err(DecodeErrorKind::UnknownFormat(
            "a JSON document spread over lines, not one JSON record per line".into(),
        ));
    }
    let mut first_err = None;
    for line in b.split(|&c| c == b'\n').filter(|l| !trim_start(l).is_empty()).take(8) {
        let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(line) {
            Ok(o) => o,
            Err(e) => {
                first_err.get_or_insert_with(|| e.to_string());
                continue;
            }
        };
        if obj.contains_key("event_type") && obj.contains_key("timestamp") {
            return Ok(Format::Eve);
        }
        if obj.contains_key("ts") && ZEEK_KEYS.iter().any(|k| obj.contains_key(*k)) {
            return Ok(Format::ZeekJson);
        }
        // Zeek logs without a uid (notice, software, known_*): every Zeek record has a
        // `ts` in epoch seconds or ISO 8601, and no other field named like EVE's.
        let ts_like = match obj.get("ts") {
            Some(serde_json::Value::Number(_)) => true,
            Some(serde_json::Value::String(s)) => {
                dwell_model::Timestamp::parse_rfc3339(s).is_some()
            }
            _ => false,
        };
        if ts_like && !obj.contains_key("event_type") && !obj.contains_key("EventID") {
            return Ok(Format::ZeekJson);
        }
        let event_xml = obj
            .get("SyslogMessage")
            .and_then(|v| v.as_str())
            .is_some_and(|m| m.trim_start().starts_with("<Event"));
        if obj.contains_key("EventID")
            || obj.contains_key("winlog")
            || obj.contains_key("Event")
            || event_xml
        {
            return Ok(Format::WinJson);
        }
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).take(8).collect();
        keys.sort_unstable();
        return Err(DecodeErrorKind::UnknownFormat(format!(
            "JSON lines, but neither Zeek, Suricata EVE nor Windows events (first record's keys: {})",
            keys.join(", ")
        )));
    }
    Err(DecodeErrorKind::UnknownFormat(match first_err {
        Some(e) => format!("starts like JSON but does not parse: {e}"),
        None => "starts like JSON but has no complete record".into(),
    }))
}

fn describe(b: &[u8]) -> String {
    let head: Vec<String> = b.iter().take(8).map(|c| format!("{c:02x}")).collect();
    let printable = b.iter().take(512).filter(|c| c.is_ascii_graphic() || **c == b' ').count();
    let kind = if printable * 10 >= b.len().min(512) * 9 { "text" } else { "binary data" };
    format!("{kind} that is not Zeek TSV/JSON or Suricata EVE (first bytes {})", head.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"#separator \\x09\n#fields\tts\n").unwrap(), Format::ZeekTsv);
        assert_eq!(
            sniff(br#"{"timestamp":"2021-06-06T15:59:46+0200","event_type":"flow"}"#).unwrap(),
            Format::Eve
        );
        assert_eq!(sniff(br#"{"ts":1.5,"uid":"C1"}"#).unwrap(), Format::ZeekJson);
        assert_eq!(sniff(br#"{"ts":1.5,"id_orig_h":"1.2.3.4"}"#).unwrap(), Format::ZeekJson);
        assert_eq!(sniff(b"\n\n{\"ts\":1.5,\"fuid\":\"F\"}\n").unwrap(), Format::ZeekJson);
    }

    #[test]
    fn names_what_it_cannot_read() {
        assert!(matches!(sniff(b""), Err(DecodeErrorKind::Empty)));
        assert_eq!(sniff(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]).unwrap(), Format::Pcap);
        assert_eq!(sniff(&[0x0a, 0x0d, 0x0d, 0x0a, 28, 0]).unwrap(), Format::Pcap);
        assert_eq!(sniff(b"ElfFile\0xxxx").unwrap(), Format::Evtx);
        assert_eq!(sniff(br#"{"EventID":1,"Channel":"Security"}"#).unwrap(), Format::WinJson);
        assert_eq!(sniff(br#"{"winlog":{"event_id":1}}"#).unwrap(), Format::WinJson);
        let e = sniff(b"PK\x03\x04rest").unwrap_err().to_string();
        assert!(e.contains("ZIP"), "{e}");
        let e = sniff(b"MZ\x90\0").unwrap_err().to_string();
        assert!(e.contains("executable"), "{e}");
        let e = sniff(&[0u8, 1, 2, 3, 250, 251]).unwrap_err().to_string();
        assert!(e.contains("binary data"), "{e}");
        let e = sniff(br#"{"a":1}"#).unwrap_err().to_string();
        assert!(e.contains("neither Zeek, Suricata EVE nor Windows"), "{e}");
        let e = sniff(b"{not json").unwrap_err().to_string();
        assert!(e.contains("does not parse"), "{e}");
    }
}
