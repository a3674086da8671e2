//! Windows endpoint events: Sysmon, Security, System and PowerShell records.
//!
//! One struct, [`WinEvent`], carries every Windows record dwell reads, whatever the
//! source shape (EVTX, evtx_dump JSON, Winlogbeat/ECS, NXLog/OTRF flat JSON). Its
//! [`WinKind`] says what the record *is* (a process start, an image load, a logon...),
//! independent of whether Sysmon or the Security log reported it, and its fields carry
//! **Sysmon's names** whichever log the record came from: Security 4688's
//! `NewProcessName` becomes `Image`, `ParentProcessName` becomes `ParentImage`, and so
//! on. Detectors and Sigma rules (whose `process_creation` category uses the same
//! names) therefore read one vocabulary. Fields the mapping does not rename keep the
//! name the log gave them, so every field of every record (also of kinds dwell does not
//! model) stays available to Sigma.

use serde::Serialize;

use crate::event::Text;

/// What a Windows record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WinKind {
    /// A process started (Sysmon 1, Security 4688).
    Process,
    /// A module loaded into a process (Sysmon 7).
    ImageLoad,
    /// A network connection made by a process (Sysmon 3).
    NetConnect,
    /// A process opened another (Sysmon 10).
    ProcessAccess,
    /// A file created (Sysmon 11).
    FileCreate,
    /// A registry key or value created, set or renamed (Sysmon 12, 13, 14).
    RegistrySet,
    /// A named pipe created or connected (Sysmon 17, 18).
    Pipe,
    /// A DNS query made by a process (Sysmon 22).
    DnsQuery,
    /// A logon: success 4624, failure 4625, explicit credentials 4648, special
    /// privileges 4672.
    Logon,
    /// A service installed (System 7045, Security 4697).
    ServiceInstall,
    /// A scheduled task created (Security 4698).
    TaskCreate,
    /// A PowerShell script block logged (4104).
    ScriptBlock,
    /// An event log cleared (Security 1102, System 104).
    LogCleared,
    /// A network share or a file on it accessed (Security 5140, 5145).
    ShareAccess,
    /// An Active Directory object accessed (Security 4662).
    DirectoryAccess,
    /// Any other record (kept for Sigma rules and counted).
    Other,
}

impl WinKind {
    /// snake_case name (also the event kind's name).
    pub fn as_str(self) -> &'static str {
        match self {
            WinKind::Process => "process",
            WinKind::ImageLoad => "image_load",
            WinKind::NetConnect => "net_connect",
            WinKind::ProcessAccess => "process_access",
            WinKind::FileCreate => "file_create",
            WinKind::RegistrySet => "registry_set",
            WinKind::Pipe => "pipe",
            WinKind::DnsQuery => "dns_query",
            WinKind::Logon => "logon",
            WinKind::ServiceInstall => "service_install",
            WinKind::TaskCreate => "task_create",
            WinKind::ScriptBlock => "script_block",
            WinKind::LogCleared => "log_cleared",
            WinKind::ShareAccess => "share_access",
            WinKind::DirectoryAccess => "directory_access",
            WinKind::Other => "win_other",
        }
    }

    /// The kind of a record from its channel (or provider) and event id.
    pub fn classify(channel: &str, provider: &str, id: u32) -> WinKind {
        let sysmon = contains_ci(channel, "sysmon") || contains_ci(provider, "sysmon");
        if sysmon {
            return match id {
                1 => WinKind::Process,
                3 => WinKind::NetConnect,
                7 => WinKind::ImageLoad,
                10 => WinKind::ProcessAccess,
                11 => WinKind::FileCreate,
                12..=14 => WinKind::RegistrySet,
                17 | 18 => WinKind::Pipe,
                22 => WinKind::DnsQuery,
                _ => WinKind::Other,
            };
        }
        let security =
            channel.eq_ignore_ascii_case("security") || contains_ci(provider, "security-auditing");
        let system = channel.eq_ignore_ascii_case("system");
        let powershell = contains_ci(channel, "powershell") || contains_ci(provider, "powershell");
        match id {
            4688 if security => WinKind::Process,
            4624 | 4625 | 4648 | 4672 if security => WinKind::Logon,
            4697 if security => WinKind::ServiceInstall,
            4698 if security => WinKind::TaskCreate,
            1102 if security || contains_ci(provider, "eventlog") => WinKind::LogCleared,
            5140 | 5145 if security => WinKind::ShareAccess,
            4662 if security => WinKind::DirectoryAccess,
            7045 if system || contains_ci(provider, "service control manager") => {
                WinKind::ServiceInstall
            }
            104 if system || contains_ci(provider, "eventlog") => WinKind::LogCleared,
            4104 if powershell => WinKind::ScriptBlock,
            _ => WinKind::Other,
        }
    }
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.as_bytes().windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// One Windows event record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WinEvent {
    /// What it is.
    pub kind: WinKind,
    /// The computer that logged it (`Computer`, `Hostname`, `host.name`), as logged.
    pub computer: Text,
    /// Log channel (`Security`, `Microsoft-Windows-Sysmon/Operational`).
    pub channel: Text,
    /// Provider (`Microsoft-Windows-Sysmon`), when given.
    pub provider: Option<Text>,
    /// Event id.
    pub event_id: u32,
    /// The log's own record number, when given.
    pub record_id: Option<u64>,
    /// Every data field, names as the module header says (Sysmon's where mapped).
    pub fields: Fields,
}

/// A record's data fields in order: names shared between records, the values of one
/// record in one buffer (one allocation for all of them, not one each: a Sysmon record
/// has twenty). Serialised as a list of `[name, value]` pairs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields {
    /// Each name with where its value ends in `values`.
    names: Vec<(Text, u32)>,
    values: String,
}

impl Fields {
    /// Room for `n` fields whose values take `bytes` bytes.
    pub fn with_capacity(n: usize, bytes: usize) -> Self {
        Fields { names: Vec::with_capacity(n), values: String::with_capacity(bytes) }
    }

    /// Appends a field.
    pub fn push(&mut self, name: Text, value: &str) {
        self.values.push_str(value);
        self.names.push((name, self.values.len() as u32));
    }

    /// The fields in order, `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let mut start = 0usize;
        self.names.iter().map(move |(name, end)| {
            let end = *end as usize;
            let v = self.values.get(start..end).unwrap_or("");
            start = end;
            (&**name, v)
        })
    }

    /// The value of the field named `name`, else of the first whose name equals it in
    /// ASCII case-insensitively: one pass, names of another length skipped unread.
    pub fn named(&self, name: &str) -> Option<&str> {
        let mut loose = None;
        for (i, (n, _)) in self.names.iter().enumerate() {
            if n.len() != name.len() {
                continue;
            }
            if **n == *name {
                return self.value(i);
            }
            if loose.is_none() && n.eq_ignore_ascii_case(name) {
                loose = Some(i);
            }
        }
        self.value(loose?)
    }

    /// The value of field `i`.
    fn value(&self, i: usize) -> Option<&str> {
        let start = i.checked_sub(1).map_or(0, |p| self.names[p].1 as usize);
        self.values.get(start..self.names.get(i)?.1 as usize)
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl<K: Into<Text>, V: AsRef<str>> FromIterator<(K, V)> for Fields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut f = Fields::default();
        for (k, v) in iter {
            f.push(k.into(), v.as_ref());
        }
        f
    }
}

impl Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl WinEvent {
    /// A field's value by name (exact, then ASCII case-insensitive); empty values and
    /// Windows' `-` placeholder count as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        let v = self.fields.named(name)?;
        if v.is_empty() || v == "-" {
            None
        } else {
            Some(v)
        }
    }

    /// A field parsed as an unsigned number, decimal or `0x` hexadecimal.
    pub fn get_u64(&self, name: &str) -> Option<u64> {
        let v = self.get(name)?.trim();
        match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => v.parse().ok(),
        }
    }

    /// The computer's short name, lower case (`ws5.corp.example` → `ws5`): the key that
    /// joins a machine's records from different logs and its network identity.
    pub fn host_key(&self) -> String {
        short_host(&self.computer)
    }
}

/// A host name's first label, lower case (`WORKSTATION5.theshire.local` → `workstation5`).
pub fn short_host(name: &str) -> String {
    let mut out = String::new();
    short_host_into(name, &mut out);
    out
}

/// [`short_host`] written into `out` (cleared first), for callers that look keys up
/// per record without allocating.
pub fn short_host_into(name: &str, out: &mut String) {
    out.clear();
    let label = name.split('.').next().unwrap_or(name).trim();
    out.extend(label.chars().map(|c| c.to_ascii_lowercase()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_by_channel_and_id() {
        let sysmon = "Microsoft-Windows-Sysmon/Operational";
        assert_eq!(WinKind::classify(sysmon, "", 1), WinKind::Process);
        assert_eq!(WinKind::classify(sysmon, "", 13), WinKind::RegistrySet);
        assert_eq!(WinKind::classify("Security", "", 4688), WinKind::Process);
        assert_eq!(WinKind::classify("Security", "", 1), WinKind::Other);
        assert_eq!(
            WinKind::classify("System", "Service Control Manager", 7045),
            WinKind::ServiceInstall
        );
        assert_eq!(
            WinKind::classify("Microsoft-Windows-PowerShell/Operational", "", 4104),
            WinKind::ScriptBlock
        );
        assert_eq!(WinKind::classify("Application", "", 4688), WinKind::Other);
    }

    #[test]
    fn get_skips_placeholders_and_ignores_case() {
        let e = WinEvent {
            kind: WinKind::Other,
            computer: "WS5.corp".into(),
            channel: "Security".into(),
            provider: None,
            event_id: 1,
            record_id: None,
            fields: [("IpAddress", "-"), ("Mask", "0x1F")].into_iter().collect(),
        };
        assert_eq!(e.get("IpAddress"), None);
        assert_eq!(e.fields.named("IpAddress"), Some("-"));
        assert_eq!(e.fields.named("Nope"), None);
        let f: Fields = [("a", ""), ("b", "xy"), ("c", "z")].into_iter().collect();
        assert_eq!(f.iter().collect::<Vec<_>>(), [("a", ""), ("b", "xy"), ("c", "z")]);
        assert_eq!((f.named("a"), f.named("c")), (Some(""), Some("z")));
        // An exact name wins over an earlier one that differs only in case.
        let g: Fields = [("image", "1"), ("Image", "2"), ("IMAGE", "3")].into_iter().collect();
        assert_eq!(
            (g.named("Image"), g.named("iMAGE"), g.named("Imag")),
            (Some("2"), Some("1"), None)
        );
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"[["a",""],["b","xy"],["c","z"]]"#);
        assert_eq!(e.get_u64("mask"), Some(31));
        assert_eq!(e.host_key(), "ws5");
    }
}
