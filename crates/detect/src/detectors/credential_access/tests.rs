use super::*;

use crate::testing::{ev, profile_with_internal, run};

fn access(src: &str, dst: &str, mask: &str, trace: &str) -> dwell_model::Event {
    ev::win(
        100.0,
        "WS1",
        "Sysmon",
        10,
        &[
            ("SourceImage", src),
            ("TargetImage", dst),
            ("GrantedAccess", mask),
            ("CallTrace", trace),
        ],
    )
}

#[test]
fn lsass_dumps_and_dcsync_are_found() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![
        access(
            "C:\\Users\\u\\x.exe",
            "C:\\Windows\\system32\\lsass.exe",
            "0x1010",
            "C:\\Windows\\SYSTEM32\\ntdll.dll+9c534|C:\\Windows\\System32\\dbgcore.DLL+1f2c",
        ),
        ev::win(
            101.0,
            "DC1",
            "Security",
            4662,
            &[
                ("SubjectUserName", "mallory"),
                ("Properties", "%%7688 {1131f6ad-9c07-11d1-f79f-00c04fc2dcd2}"),
            ],
        ),
    ];
    let f = run(&mut CredentialAccess { cfg: Config::default() }, &evs, &p);
    assert_eq!(f.len(), 2, "{:?}", f.iter().map(|x| &x.draft.summary).collect::<Vec<_>>());
    assert!(f.iter().all(|x| x.draft.score >= 85.0));
}

#[test]
fn system_readers_and_dc_replication_are_silent() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![
        access(
            "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18\\MsMpEng.exe",
            "C:\\Windows\\system32\\lsass.exe",
            "0x1010",
            "",
        ),
        access("C:\\Users\\u\\x.exe", "C:\\Windows\\system32\\lsass.exe", "0x1000", ""),
        ev::win(
            101.0,
            "DC1",
            "Security",
            4662,
            &[
                ("SubjectUserName", "DC2$"),
                ("Properties", "{1131f6ad-9c07-11d1-f79f-00c04fc2dcd2}"),
            ],
        ),
    ];
    assert!(run(&mut CredentialAccess { cfg: Config::default() }, &evs, &p).is_empty());
}
