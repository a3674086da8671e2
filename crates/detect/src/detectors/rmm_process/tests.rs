use super::*;

#[test]
fn tools_by_name_original_name_or_company() {
    assert_eq!(tool_of("C:\\Users\\a\\Downloads\\AnyDesk.exe", "", ""), Some("anydesk"));
    assert_eq!(
        tool_of("C:\\x\\svc.exe", "ScreenConnect.ClientService.exe", ""),
        Some("screenconnect")
    );
    assert_eq!(tool_of("C:\\x\\y.exe", "", "TeamViewer Germany GmbH"), Some("teamviewer"));
    assert_eq!(
        tool_of("C:\\Windows\\System32\\mstsc.exe", "MSTSC.EXE", "Microsoft Corporation"),
        None
    );
}

use crate::testing::{ev, profile_with_internal, run};

#[test]
fn a_portable_copy_started_from_a_shell_is_found_and_an_approved_tool_is_not() {
    let mut p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![ev::proc(
        100.0,
        "WS1",
        "C:\\Windows\\System32\\cmd.exe",
        "C:\\Users\\Public\\AnyDesk.exe",
        "AnyDesk.exe --install C:\\x --silent",
    )];
    let f = run(&mut RmmProcess { cfg: Config::default() }, &evs, &p);
    assert_eq!(f.len(), 1);
    assert!(f[0].draft.score >= 75.0, "{}", f[0].draft.score);
    p.rmm_approved.push(crate::profile::RmmApproval {
        tool: "anydesk".into(),
        hosts: vec![],
        hours: None,
    });
    assert!(run(&mut RmmProcess { cfg: Config::default() }, &evs, &p).is_empty());
}

#[test]
fn other_programs_are_silent() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![ev::proc(
        100.0,
        "WS1",
        "C:\\Windows\\explorer.exe",
        "C:\\Windows\\System32\\mstsc.exe",
        "mstsc /v:jump01",
    )];
    assert!(run(&mut RmmProcess { cfg: Config::default() }, &evs, &p).is_empty());
}
