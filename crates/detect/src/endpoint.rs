//! Shared helpers of the endpoint detectors: Windows paths, command lines, a bounded
//! process table, and the finding builder that puts the computer on the entity.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use dwell_model::{Event, WinEvent};
use foldhash::fast::RandomState;

use crate::ctx::{Ctx, Draft};

/// Lower-case file name of a Windows (or POSIX) path: `C:\Windows\System32\cmd.exe` →
/// `cmd.exe`.
pub fn base(path: &str) -> Cow<'_, str> {
    let p = path.trim().trim_matches('"');
    let b = p.rsplit(['\\', '/']).next().unwrap_or(p);
    // Most names are lower case already: borrowed then, not copied.
    if b.bytes().any(|c| c.is_ascii_uppercase()) {
        Cow::Owned(b.to_ascii_lowercase())
    } else {
        Cow::Borrowed(b)
    }
}

/// Lower-case directory of a path, with a trailing backslash (`c:\windows\system32\`).
pub fn dir(path: &str) -> String {
    let p = path.trim().trim_matches('"').to_ascii_lowercase();
    match p.rfind(['\\', '/']) {
        Some(i) => p[..=i].to_string(),
        None => String::new(),
    }
}

/// Whether a (lower-case) path lies where any user can write: profiles, ProgramData,
/// temp folders, the public profile, `PerfLogs`, removable or network locations.
pub fn user_writable(p: &str) -> bool {
    const MARKS: &[&str] = &[
        "\\users\\",
        "\\programdata\\",
        "\\temp\\",
        "\\tmp\\",
        "\\appdata\\",
        "\\downloads\\",
        "\\desktop\\",
        "\\perflogs\\",
        "\\windows\\tasks\\",
        "\\recycle",
    ];
    p.starts_with("\\\\") || MARKS.iter().any(|m| p.contains(m))
}

/// Whether a (lower-case) path is in the Windows system directories that hold the
/// system's own libraries.
pub fn system_dir(p: &str) -> bool {
    let p = p.trim_start_matches("\\\\?\\");
    let rest = p.get(2..).unwrap_or("");
    rest.starts_with("\\windows\\system32\\")
        || rest.starts_with("\\windows\\syswow64\\")
        || rest.starts_with("\\windows\\winsxs\\")
        || rest.starts_with("\\windows\\sysnative\\")
}

/// A path through a look-alike of the Windows directory (`C:\Windows \System32`, with a
/// trailing space): a UAC-bypass trick, never legitimate.
pub fn mocked_windir(p: &str) -> bool {
    p.contains("\\windows \\") || p.contains("\\windows\\ \\") || p.contains("\\system32 \\")
}

/// A command line normalised for matching: lower case, every Windows option dash
/// (`-`, `/`, en dash, em dash, horizontal bar) made `/`, runs of spaces folded,
/// caret escapes (`c^e^r^t^u^t^i^l`) removed.
///
/// Several detectors read the same record's command line; the last one normalised is
/// kept (per thread), so that a record's is normalised once.
pub fn norm_cmdline(c: &str) -> Rc<str> {
    thread_local! {
        static LAST: RefCell<(String, Rc<str>)> = RefCell::new((String::new(), Rc::from("")));
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != c {
            let n =
                if c.is_ascii() { norm_cmdline_ascii(c.as_bytes()) } else { norm_cmdline_chars(c) };
            last.0.clear();
            last.0.push_str(c);
            last.1 = Rc::from(n);
        }
        Rc::clone(&last.1)
    })
}

/// [`norm_cmdline`] byte by byte for ASCII text (almost every command line): the same
/// rules without decoding characters or case-mapping through Unicode tables.
fn norm_cmdline_ascii(c: &[u8]) -> String {
    let mut out = Vec::with_capacity(c.len());
    let mut prev_space = false;
    let mut prev = b' ';
    let mut dash_opt = false;
    for &b in c {
        if b == b'^' {
            continue;
        }
        if b == b'-' && dash_opt {
            dash_opt = false;
            continue;
        }
        dash_opt = b == b'-' && (prev == b' ' || prev == b'"');
        let b = if dash_opt { b'/' } else { b };
        // `char::is_whitespace` over ASCII: space, \t, \n, vertical tab, form feed, \r.
        if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            if !prev_space {
                out.push(b' ');
            }
            prev_space = true;
        } else {
            out.push(b.to_ascii_lowercase());
            prev_space = false;
        }
        prev = b;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn norm_cmdline_chars(c: &str) -> String {
    let mut out = String::with_capacity(c.len());
    let mut prev_space = false;
    let mut prev = ' ';
    let mut dash_opt = false;
    for ch in c.chars() {
        let ch = match ch {
            '^' => continue,
            '\u{2013}' | '\u{2014}' | '\u{2015}' => '-',
            c => c,
        };
        // `--long` options fold to `/long` as `-short` ones do.
        if ch == '-' && dash_opt {
            dash_opt = false;
            continue;
        }
        dash_opt = ch == '-' && (prev == ' ' || prev == '"');
        let ch = if dash_opt { '/' } else { ch };
        if ch.is_whitespace() {
            if !prev_space {
                out.push(' ');
            }
            prev_space = true;
        } else {
            out.extend(ch.to_lowercase());
            prev_space = false;
        }
        prev = ch;
    }
    out
}

/// Whether any of `words` occurs in `hay`.
pub fn any(hay: &str, words: &[&str]) -> bool {
    words.iter().any(|w| hay.contains(w))
}

/// A finding draft about the computer that logged `w`.
pub fn draft(cx: &Ctx<'_>, ev: &Event, w: &WinEvent, score: f64, summary: String) -> Draft {
    let mut d = Draft::new(cx.host_entity(&w.computer), ev.ts(), score, summary);
    d.sources.push(ev.header.src);
    d
}

/// A finding's evidence from a JSON object, leaving out the fields the record lacked.
pub fn evidence(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => serde_json::Map::new(),
    }
}

/// Most processes remembered per run.
pub const MAX_PROCS: usize = 500_000;

/// Images of running processes by (computer, process id), so that a record naming only
/// a parent id (Security 4688 before Windows 10, Sysmon 10's source) finds the parent's
/// image. Bounded: when full, it is cleared (the newest processes matter most).
#[derive(Debug, Default)]
pub struct ProcTable {
    /// Computer (short name, lower case) → process id → image.
    by_host: HashMap<String, HashMap<u64, String, RandomState>, RandomState>,
    len: usize,
    /// The computer of the record at hand, built without allocating.
    key: String,
}

impl ProcTable {
    /// Records a process start (or any record that names a process and its image: a
    /// process already known with the same image is left as it is, without allocating).
    pub fn start(&mut self, w: &WinEvent) {
        let (Some(pid), Some(image)) = (w.get_u64("ProcessId"), w.get("Image")) else {
            return;
        };
        dwell_model::win::short_host_into(&w.computer, &mut self.key);
        if let Some(known) = self.by_host.get(self.key.as_str()).and_then(|m| m.get(&pid)) {
            if known == image {
                return;
            }
        }
        if self.len >= MAX_PROCS {
            self.by_host.clear();
            self.len = 0;
        }
        let procs = match self.by_host.get_mut(self.key.as_str()) {
            Some(m) => m,
            None => self.by_host.entry(self.key.clone()).or_default(),
        };
        if procs.insert(pid, image.to_string()).is_none() {
            self.len += 1;
        }
    }

    /// The parent image of a process record: `ParentImage` when logged, else the image
    /// last started with the parent's id on the same computer.
    pub fn parent_image<'a>(&'a self, w: &'a WinEvent) -> Option<&'a str> {
        if let Some(p) = w.get("ParentImage") {
            return Some(p);
        }
        let ppid = w.get_u64("ParentProcessId")?;
        self.by_host.get(w.host_key().as_str())?.get(&ppid).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(base("C:\\Windows\\System32\\CMD.exe"), "cmd.exe");
        assert_eq!(base("\"C:\\x y\\a.exe\""), "a.exe");
        assert_eq!(dir("C:\\Windows\\System32\\cmd.exe"), "c:\\windows\\system32\\");
        assert!(system_dir("c:\\windows\\system32\\version.dll"));
        assert!(!system_dir("c:\\windows \\system32\\winmm.dll"));
        assert!(mocked_windir("c:\\windows \\system32\\winmm.dll"));
        assert!(user_writable("c:\\users\\bob\\appdata\\roaming\\x.exe"));
        assert!(user_writable("\\\\vboxsrv\\tools\\x.exe"));
        assert!(!user_writable("c:\\program files\\x\\x.exe"));
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            &*norm_cmdline("CertUtil  -urlcache  -f http://x"),
            "certutil /urlcache /f http://x"
        );
        assert_eq!(&*norm_cmdline("c^e^r^t^u^t^i^l \u{2013}decode a b"), "certutil /decode a b");
        assert_eq!(&*norm_cmdline("a-b"), "a-b");
        assert_eq!(&*norm_cmdline("x --install --silent a--b"), "x /install /silent a--b");
        // The ASCII path and the character path agree on every ASCII text: all
        // strings of length 4 over the characters the rules treat specially.
        let alphabet = [b'-', b'^', b' ', b'\t', 0x0b, b'"', b'A', b'z', b'/'];
        for n in 0..alphabet.len().pow(4) {
            let mut k = n;
            let s: String = (0..4)
                .map(|_| {
                    let c = alphabet[k % alphabet.len()];
                    k /= alphabet.len();
                    c as char
                })
                .collect();
            assert_eq!(norm_cmdline_ascii(s.as_bytes()), norm_cmdline_chars(&s), "{s:?}");
        }
    }
}
