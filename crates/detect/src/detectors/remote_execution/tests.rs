use super::*;

#[test]
fn services_that_run_commands() {
    assert_eq!(
        service_command("hello", "%COMSPEC% /b /c start /b /min powershell.exe -nop").unwrap().rule,
        "command_service"
    );
    assert_eq!(
        service_command("PSEXESVC", "%SystemRoot%\\PSEXESVC.exe").unwrap().rule,
        "exec_tool_service"
    );
    assert_eq!(service_command("spoolfool", "cmd.exe").unwrap().rule, "program_as_service");
    assert!(service_command("Spooler", "C:\\Windows\\System32\\spoolsv.exe").is_none());
    assert!(service_command(
        "edgeupdate",
        "\"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe\" /svc"
    )
    .is_none());
}

use crate::testing::{ev, profile_with_internal, run};

fn det() -> RemoteExecution {
    RemoteExecution {
        cfg: Config::default(),
        procs: ProcTable::default(),
        task_loads: HashMap::default(),
        remote_registry: Default::default(),
        logons: HashMap::default(),
        rdp_in: HashMap::default(),
        rdp_runs: HashMap::default(),
    }
}

/// An inbound RDP connection (Sysmon 3 on port 3389) and a Run-dialog entry Explorer
/// writes `after` seconds later.
fn rdp_then_run(at: f64, after: f64, command: &str) -> Vec<Event> {
    vec![
        ev::win(
            at,
            "WS1",
            "Sysmon",
            3,
            &[
                ("Image", "C:\\Windows\\System32\\svchost.exe"),
                ("Initiated", "false"),
                ("SourceIp", "10.0.5.9"),
                ("DestinationPort", "3389"),
            ],
        ),
        ev::win(
            at + after,
            "WS1",
            "Sysmon",
            13,
            &[
                ("Image", "C:\\Windows\\Explorer.EXE"),
                (
                    "TargetObject",
                    "HKU\\S-1-5-21-1\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RunMRU\\a",
                ),
                ("Details", command),
            ],
        ),
    ]
}

#[test]
fn run_dialog_commands_seconds_after_rdp_connections_are_remote_execution() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    // Once: suspicious, below alerting (an administrator reconnecting can be that quick).
    let once = run(&mut det(), &rdp_then_run(100.0, 7.0, "notepad.exe\\1"), &p);
    assert_eq!(once.len(), 1);
    assert_eq!(once[0].draft.score, 45.0);
    assert_eq!(once[0].draft.attack.as_deref(), Some(&[t("T1021.001")][..]));
    assert_eq!(once[0].draft.peer.as_ref().and_then(|p| p.ip), Some("10.0.5.9".parse().unwrap()));
    // Connect-then-command again from the same source within the hour: SharpRDP's rhythm;
    // an interpreter on top.
    let mut evs = rdp_then_run(100.0, 7.0, "notepad.exe\\1");
    evs.extend(rdp_then_run(200.0, 6.0, "powershell.exe -nop\\1"));
    let twice = run(&mut det(), &evs, &p);
    assert!(
        twice.iter().any(|f| f.draft.score == 75.0),
        "{:?}",
        twice.iter().map(|f| f.draft.score).collect::<Vec<_>>()
    );
}

#[test]
fn run_dialog_use_long_after_a_logon_or_without_rdp_is_silent() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    // A person: connected, the desktop loaded, a minute later typed a command.
    assert!(run(&mut det(), &rdp_then_run(100.0, 60.0, "cmd.exe\\1"), &p).is_empty());
    // No RDP connection at all: the console user.
    let local = rdp_then_run(100.0, 5.0, "cmd.exe\\1").split_off(1);
    assert!(run(&mut det(), &local, &p).is_empty());
    // The list-order value, not a command.
    let mut mru = rdp_then_run(100.0, 5.0, "a");
    if let Body::Win(w) = &mut mru[1].body {
        let mru_list = "HKU\\S-1-5-21-1\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RunMRU\\MRUList";
        w.fields = w
            .fields
            .iter()
            .map(|(k, v)| (k, if k == "TargetObject" { mru_list } else { v }))
            .collect();
    }
    assert!(run(&mut det(), &mru, &p).is_empty());
}

#[test]
fn wmiexec_and_psexec_pipes_are_found() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![
        ev::proc(
            100.0,
            "SRV1",
            "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
            "C:\\Windows\\System32\\cmd.exe",
            "cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__1556656369.7 2>&1",
        ),
        ev::win(
            101.0,
            "SRV1",
            "Security",
            5145,
            &[
                ("ShareName", "\\\\*\\IPC$"),
                ("RelativeTargetName", "PSEXESVC-WS7-1234-stdin"),
                ("IpAddress", "10.0.1.7"),
                ("AccessMask", "0x12019f"),
            ],
        ),
    ];
    let f = run(&mut det(), &evs, &p);
    assert_eq!(f.len(), 2);
    assert!(f.iter().all(|x| x.draft.score >= 80.0));
    assert!(f
        .iter()
        .any(|x| x.draft.peer.as_ref().and_then(|p| p.ip) == Some("10.0.1.7".parse().unwrap())));
}

#[test]
fn ordinary_services_and_local_share_access_are_silent() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![
        ev::win(100.0, "SRV1", "System", 7045, &[("ServiceName", "edgeupdate"), ("ImagePath", "\"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe\" /svc")]),
        ev::win(101.0, "SRV1", "Security", 5145, &[("ShareName", "\\\\*\\IPC$"), ("RelativeTargetName", "svcctl"), ("IpAddress", "::1"), ("AccessMask", "0x12019f")]),
        ev::proc(102.0, "SRV1", "C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "wmiprvse.exe -Embedding"),
        ev::proc(103.0, "SRV1", "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "C:\\Windows\\System32\\wbem\\WMIADAP.exe", "wmiadap.exe /F /T /R"),
    ];
    assert!(run(&mut det(), &evs, &p).is_empty());
}

#[test]
fn remoting_from_the_admin_jump_host_is_discounted_below_alerting() {
    let mut p = profile_with_internal(&["10.0.0.0/8"]);
    let nets: Vec<ipnet::IpNet> = vec!["10.10.0.50/32".parse().unwrap()];
    p.admin_hosts = crate::netset::NetSet::from_nets(&nets);
    let evs = vec![
        ev::win(
            100.0,
            "FS01",
            "Security",
            4624,
            &[("LogonType", "3"), ("IpAddress", "10.10.0.50"), ("TargetUserName", "adm_ops")],
        ),
        ev::proc(
            103.0,
            "FS01",
            "C:\\Windows\\System32\\wsmprovhost.exe",
            "C:\\Windows\\System32\\HOSTNAME.EXE",
            "hostname",
        ),
        ev::win(
            500.0,
            "FS02",
            "Security",
            4624,
            &[("LogonType", "3"), ("IpAddress", "10.100.0.5"), ("TargetUserName", "svc_vpn")],
        ),
        ev::proc(
            501.0,
            "FS02",
            "C:\\Windows\\System32\\wsmprovhost.exe",
            "C:\\Windows\\System32\\cmd.exe",
            "cmd /c whoami",
        ),
    ];
    let f = run(&mut det(), &evs, &p);
    assert_eq!(f.len(), 2);
    let admin = f.iter().find(|x| x.draft.summary.contains("FS01")).unwrap();
    assert!(admin.draft.score < 50.0, "{}", admin.draft.summary);
    let other = f.iter().find(|x| x.draft.summary.contains("FS02")).unwrap();
    assert!(
        other.draft.score >= 70.0 && other.draft.summary.contains("10.100.0.5"),
        "{}",
        other.draft.summary
    );
}

#[test]
fn winrm_from_a_program_in_a_user_folder_is_a_tool_remoting() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let conn = |image: &str| {
        ev::win(
            100.0,
            "WS5",
            "Sysmon",
            3,
            &[
                ("Image", image),
                ("Initiated", "true"),
                ("SourceIp", "10.0.1.5"),
                ("DestinationIp", "10.0.1.6"),
                ("DestinationPort", "5985"),
            ],
        )
    };
    let f = run(&mut det(), &[conn("C:\\Users\\bob\\Desktop\\GruntHTTP.exe")], &p);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].draft.score, 65.0);
    assert_eq!(f[0].draft.attack.as_deref(), Some(&[t("T1021.006")][..]));
    assert_eq!(f[0].draft.peer.as_ref().and_then(|p| p.ip), Some("10.0.1.6".parse().unwrap()));
    // PowerShell itself, and an installed management program, are how admins remote.
    for image in [
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "C:\\Program Files\\Contoso\\agent.exe",
    ] {
        assert!(run(&mut det(), &[conn(image)], &p).is_empty(), "{image}");
    }
    // From a declared admin host: below alerting.
    let mut admin = profile_with_internal(&["10.0.0.0/8"]);
    let nets: Vec<ipnet::IpNet> = vec!["10.0.1.5/32".parse().unwrap()];
    admin.admin_hosts = crate::netset::NetSet::from_nets(&nets);
    let f = run(&mut det(), &[conn("C:\\Users\\bob\\Desktop\\GruntHTTP.exe")], &admin);
    assert!(f.iter().all(|x| x.draft.score < 50.0));
}
