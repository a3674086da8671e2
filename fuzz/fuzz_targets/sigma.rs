//! Fuzz target: compiling any text as a Sigma rule never panics; a rule that compiles
//! can be evaluated against a Windows record without panicking.
#![no_main]

use dwell_detect::sigma::{compile_text, RuleSet};
use dwell_model::{Body, Event, FileId, Header, SourceRef, Timestamp, WinEvent, WinKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(rules) = compile_text(text, std::path::Path::new("fuzz.yml")) else { return };
    let mut set = RuleSet::default();
    for r in rules {
        set.push(r);
    }
    let ev = Event {
        header: Header { ts: Timestamp(0), src: SourceRef { file: FileId(0), record: 1 }, uid: None, community_id: None },
        body: Body::Win(Box::new(WinEvent {
            kind: WinKind::Process,
            computer: "WS1".into(),
            channel: "Microsoft-Windows-Sysmon/Operational".into(),
            provider: None,
            event_id: 1,
            record_id: None,
            fields: [("Image", "C:\\Windows\\System32\\cmd.exe"), ("CommandLine", text)].into_iter().collect(),
        })),
    };
    let _ = set.matches(&ev).count();
});
