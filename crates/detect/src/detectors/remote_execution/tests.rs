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
    }
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
