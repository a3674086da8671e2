use super::*;
use crate::testing::{decode_all, ev, run};
use crate::OrgProfile;

fn det() -> LateralMovement {
    LateralMovement {
        cfg: Config::default(),
        sources: HashMap::default(),
        edges: HashMap::default(),
        netlogon: HashMap::default(),
    }
}

/// Three clients use the DC (Kerberos and DNS), so it is recognised as one.
fn domain() -> Vec<Event> {
    let mut v = vec![];
    for c in ["10.0.1.21", "10.0.1.22", "10.0.1.23"] {
        v.push(ev::conn(1.0, c, "10.0.0.10", 88, 1500, 1800, Some("krb")));
    }
    v
}

#[test]
fn dcsync_from_a_non_dc_and_service_creation_are_found() {
    let mut v = domain();
    v.push(ev::dce(100.0, "10.0.1.50", "10.0.0.10", "drsuapi", "DRSBind"));
    v.push(ev::dce(101.0, "10.0.1.50", "10.0.0.10", "drsuapi", "DRSGetNCChanges"));
    v.push(ev::dce(200.0, "10.0.1.50", "10.0.0.20", "svcctl", "CreateServiceW"));
    // Suricata spells the same call by UUID and opnum.
    v.push(ev::dce(
        300.0,
        "10.0.1.51",
        "10.0.0.20",
        "367abb81-9844-35f1-ad32-98f038001003",
        "opnum 12",
    ));
    let f = run(&mut det(), &v, &OrgProfile::default());
    let dcsync = f.iter().find(|p| p.draft.discriminator == "dcsync").expect("dcsync");
    assert_eq!(dcsync.draft.score, 85.0);
    assert_eq!(dcsync.draft.stage, Some(Stage::CredentialAccess));
    assert_eq!(f.iter().filter(|p| p.draft.discriminator == "svcctl").count(), 2);
}

#[test]
fn admins_and_replication_between_dcs_are_discounted_or_quiet() {
    let mut v = domain();
    for c in ["10.0.1.21", "10.0.1.22", "10.0.1.23"] {
        v.push(ev::conn(2.0, c, "10.0.0.11", 88, 1500, 1800, Some("krb")));
    }
    // DC to DC replication.
    v.push(ev::dce(10.0, "10.0.0.11", "10.0.0.10", "drsuapi", "DRSGetNCChanges"));
    // The declared jump host creates a service and RDPs around.
    v.push(ev::dce(20.0, "10.0.0.50", "10.0.0.20", "svcctl", "CreateServiceW"));
    for d in 20..30 {
        v.push(ev::conn(
            200_000.0 + f64::from(d),
            "10.0.0.50",
            &format!("10.0.0.{d}"),
            3389,
            5000,
            90_000,
            Some("rdp"),
        ));
    }
    let profile =
        crate::ProfileFile { admin_hosts: vec!["10.0.0.50".into()], ..Default::default() };
    let profile = OrgProfile::from_file(profile).unwrap();
    let f = run(&mut det(), &v, &profile);
    assert!(
        f.iter().all(|p| p.draft.score < 50.0),
        "{:?}",
        f.iter().map(|p| (&p.draft.summary, p.draft.score)).collect::<Vec<_>>()
    );
}

/// Scanners reach the web server 10.100.0.10 from many addresses: it is internet-facing.
fn scanned_web_server() -> Vec<Event> {
    (0..12u8)
        .map(|i| {
            ev::conn(
                f64::from(i),
                &format!("198.51.100.{i}"),
                "10.100.0.10",
                80,
                300,
                900,
                Some("http"),
            )
        })
        .collect()
}

#[test]
fn edge_host_rdp_inside_and_fanout() {
    let mut v = scanned_web_server();
    v.push(ev::conn(200_000.0, "10.100.0.10", "10.20.0.7", 3389, 90_000, 2_000_000, Some("rdp")));
    for d in 30..37 {
        v.push(ev::conn(
            300_000.0 + f64::from(d),
            "10.20.0.7",
            &format!("10.20.0.{d}"),
            445,
            900,
            900,
            Some("smb"),
        ));
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert!(f.iter().any(|p| p.draft.discriminator == "edge:RDP" && p.draft.score >= 70.0));
    let fan = f.iter().find(|p| p.draft.discriminator == "fanout").expect("fan-out");
    assert!(fan.draft.peer.is_none());
}

#[test]
fn admin_protocols_on_other_ports_are_known_by_their_content() {
    let mut v = scanned_web_server();
    // RDP moved to 443 and SSH on 2222, from the internet-facing host inward.
    v.push(ev::conn(200_000.0, "10.100.0.10", "10.20.0.7", 443, 90_000, 2_000_000, Some("rdp")));
    v.push(ev::conn(200_100.0, "10.100.0.10", "10.20.0.8", 2222, 9_000, 20_000, Some("ssh")));
    // TLS on 443 is not an admin protocol.
    v.push(ev::conn(200_200.0, "10.100.0.10", "10.20.0.9", 443, 900, 2_000, Some("ssl")));
    let f = run(&mut det(), &v, &OrgProfile::default());
    let edge: Vec<_> = f.iter().filter(|p| p.draft.discriminator.starts_with("edge:")).collect();
    assert_eq!(edge.len(), 2, "{:?}", f.iter().map(|p| &p.draft.discriminator).collect::<Vec<_>>());
    assert!(edge.iter().any(|p| p.draft.discriminator == "edge:RDP"));
    assert!(edge.iter().any(|p| p.draft.discriminator == "edge:SSH"));
}

#[test]
fn apt29_winrm_to_the_dc_is_found() {
    // OTRF APT29 day 2: 10.0.1.5 pushes ~1.3 MB over WinRM (5985) to the DC 10.0.0.4.
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("mixed/otrf_apt29_day2_UTICA-A")]);
    let f = run(&mut det(), &evs, &OrgProfile::default());
    let w = f.iter().find(|p| p.draft.discriminator == "winrm").expect("WinRM finding");
    assert_eq!(w.draft.entity.ip, Some("10.0.1.5".parse().unwrap()));
    assert_eq!(w.draft.peer.as_ref().unwrap().ip, Some("10.0.0.4".parse().unwrap()));
    assert!(w.draft.score >= 50.0);
    // DRSBind/DRSCrackNames are name lookups, not replication: no DCSync.
    assert!(f.iter().all(|p| p.draft.discriminator != "dcsync"));
}

#[test]
fn real_benign_data_is_quiet() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    for dir in ["benign/rita_proxy_rolling", "mixed/slips_test9-mixed-zeek-dir"] {
        let evs = decode_all(&[&data.join(dir)]);
        let f = run(&mut det(), &evs, &OrgProfile::default());
        assert!(
            f.iter().all(|p| p.draft.score < 50.0),
            "{dir}: {:?}",
            f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>()
        );
    }
}

#[test]
fn lateral_movement_in_captures() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    // DCE/RPC and SMB parsed from the packets by dwell's own decoder.
    for (file, src, what) in [
        ("lateral/20171220_smb_at_schedule.pcap", "192.168.10.31", "scheduled task"),
        ("lateral/20171220_smb_psexec_add_user.pcap", "192.168.10.31", "PSEXESVC.exe"),
        ("lateral/20171220_smb_metasploit_psexec_pth_download_meterpreter.pcap", "192.168.10.50", "svcctl"),
        ("lateral/otrf_empire_psexec_dcerpc_tcp_svcctl_net/empire_psexec_dcerpc_tcp_svcctl_WORKSTATION5_2020-09-20121608.cap", "172.18.39.5", "svcctl"),
        ("lateral/otrf_zerologon_net/mimikatz_CVE-2020-1472_Unauthenticated_NetrServerAuthenticate2_2020-09-16233923.cap", "", "Zerologon"),
    ] {
        let evs = decode_all(&[&data.join(file)]);
        let f = run(&mut det(), &evs, &OrgProfile::default());
        assert!(
            f.iter().any(|p| p.draft.score >= 50.0
                && p.draft.summary.contains(what)
                && (src.is_empty() || p.draft.entity.ip == Some(src.parse().unwrap()))),
            "{file}: {:?}",
            f.iter().map(|p| (p.draft.score, &p.draft.summary)).collect::<Vec<_>>()
        );
    }
}
