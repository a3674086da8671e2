use super::*;

#[test]
fn tamper_commands() {
    assert_eq!(tamper_command("fltMC.exe unload SysmonDrv").unwrap().0, "sysmon_tamper");
    assert_eq!(
        tamper_command("powershell Set-MpPreference -DisableRealtimeMonitoring $true").unwrap().0,
        "defender_tamper"
    );
    assert_eq!(
        tamper_command("netsh advfirewall set allprofiles state off").unwrap().0,
        "firewall_off"
    );
    assert!(tamper_command("netsh advfirewall show allprofiles").is_none());
    assert!(tamper_command("sc query sysmon").is_none());
    assert!(tamper_command("powershell Get-MpPreference").is_none());
}

use crate::testing::{ev, profile_with_internal, run};

#[test]
fn a_cleared_security_log_is_found() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![ev::win(100.0, "DC1", "Security", 1102, &[("SubjectUserName", "mallory")])];
    let f = run(&mut DefenseEvasion { cfg: Config::default() }, &evs, &p);
    assert_eq!(f.len(), 1);
    assert!(f[0].draft.summary.contains("mallory"));
}

#[test]
fn ordinary_records_are_silent() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![
        ev::proc(
            100.0,
            "WS1",
            "C:\\Windows\\explorer.exe",
            "C:\\Windows\\System32\\sc.exe",
            "sc query sysmon",
        ),
        ev::win(
            101.0,
            "WS1",
            "Sysmon",
            2,
            &[("Image", "C:\\Program Files\\7-Zip\\7z.exe"), ("TargetFilename", "C:\\x\\a.exe")],
        ),
        ev::win(
            102.0,
            "WS1",
            "Sysmon",
            13,
            &[
                (
                    "TargetObject",
                    "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\DisableAntiSpyware",
                ),
                ("Details", "DWORD (0x00000000)"),
            ],
        ),
    ];
    assert!(run(&mut DefenseEvasion { cfg: Config::default() }, &evs, &p).is_empty());
}
