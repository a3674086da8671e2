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
    // One command for each alternative of each rule: none may be lost to the
    // `TAMPER_WORDS` shortcut.
    for (cmd, rule) in [
        ("fltmc unload sysmondrv", "sysmon_tamper"),
        ("sysmon64 -u", "sysmon_tamper"),
        ("sc.exe stop Sysmon64", "sysmon_tamper"),
        ("net stop sysmon", "sysmon_tamper"),
        ("powershell Stop-Service Sysmon", "sysmon_tamper"),
        ("fltmc.exe unload SomeFilter", "sysmon_tamper"),
        ("powershell Set-MpPreference -DisableIOAVProtection 1", "defender_tamper"),
        ("powershell Add-MpPreference -ExclusionPath C:\\x", "defender_tamper"),
        ("sc config WinDefend start= disabled", "defender_tamper"),
        ("sc stop windefend", "defender_tamper"),
        ("netsh firewall set opmode disable", "firewall_off"),
        ("netsh firewall set opmode mode=disable", "firewall_off"),
        ("powershell Set-NetFirewallProfile -Enabled False", "firewall_off"),
        ("auditpol /clear /y", "audit_policy_cleared"),
        ("auditpol /set /category:* /success:disable", "audit_policy_cleared"),
    ] {
        assert_eq!(tamper_command(cmd).map(|t| t.0), Some(rule), "{cmd}");
    }
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
