use super::*;
use crate::testing::{decode_all, ev, run};

fn det() -> RmmTool {
    let cfg = Config::default();
    RmmTool { pairs: Keyed::new(cfg.max_pairs), cfg }
}

fn ledger() -> OrgProfile {
    let f: crate::ProfileFile = serde_json::from_value(serde_json::json!({
        "rmm": { "approved": [ { "tool": "screenconnect", "hosts": ["10.20.0.0/24"], "hours": "07:00-19:00" } ] }
    }))
    .unwrap();
    OrgProfile::from_file(f).unwrap()
}

#[test]
fn unapproved_tool_is_found_approved_use_is_quiet() {
    let v = vec![
        // Helpdesk on ScreenConnect at 10:00 from the approved subnet.
        ev::dns(
            10.0 * 3600.0,
            "10.20.0.60",
            "10.10.0.10",
            "relay.screenconnect.com",
            1,
            0,
            &["192.0.2.5"],
        ),
        ev::tls(
            10.0 * 3600.0 + 1.0,
            "10.20.0.60",
            "192.0.2.5",
            Some("relay.screenconnect.com"),
            None,
        ),
        // ScreenConnect at 03:00: outside the approved hours.
        ev::tls(3.0 * 3600.0, "10.20.0.61", "192.0.2.5", Some("relay.screenconnect.com"), None),
        // AnyDesk on a workstation.
        ev::dns(
            11.0 * 3600.0,
            "10.20.1.16",
            "10.10.0.10",
            "relay-4a1f9c.net.anydesk.com",
            1,
            0,
            &["198.51.100.7"],
        ),
        ev::tls(
            11.0 * 3600.0 + 1.0,
            "10.20.1.16",
            "198.51.100.7",
            Some("relay-4a1f9c.net.anydesk.com"),
            None,
        ),
    ];
    let mut v = v;
    v.sort_by_key(|e| e.ts());
    let f = run(&mut det(), &v, &ledger());
    assert_eq!(f.len(), 2, "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
    let any = f.iter().find(|p| p.draft.discriminator == "anydesk").unwrap();
    assert_eq!(any.draft.score, 65.0);
    assert_eq!(any.draft.evidence["uses"], 2);
    let sc = f.iter().find(|p| p.draft.discriminator == "screenconnect").unwrap();
    assert_eq!(sc.draft.score, 55.0);
    assert_eq!(sc.draft.entity.ip, Some("10.20.0.61".parse().unwrap()));
}

#[test]
fn without_a_ledger_uses_are_leads() {
    let v = vec![ev::tls(100.0, "10.0.0.5", "192.0.2.9", Some("router15.teamviewer.com"), None)];
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].draft.score, 45.0);
}

#[test]
fn real_data_without_rmm_is_quiet() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    for dir in [
        "benign/rita_proxy_rolling",
        "mixed/ctu50_008-zeek-mixed",
        "mixed/slips_test9-mixed-zeek-dir",
    ] {
        let evs = decode_all(&[&data.join(dir)]);
        let f = run(&mut det(), &evs, &ledger());
        assert!(
            f.is_empty(),
            "{dir}: {:?}",
            f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>()
        );
    }
}

#[test]
fn tools_known_by_port_banner_and_alpn() {
    let mut tv = ev::conn(100.0, "10.20.1.7", "162.250.2.170", 5938, 40_000, 90_000, None);
    let mut probe = ev::conn(101.0, "10.20.1.8", "162.250.2.170", 5938, 0, 0, None);
    if let Body::Conn(c) = &mut probe.body {
        c.conn_state = Some("S0".into());
    }
    // VNC into an internal host from the internet, on an odd port, known by its banner.
    let mut vnc =
        ev::conn(102.0, "95.237.48.208", "10.20.2.110", 6900, 60_000, 400_000, Some("rfb"));
    if let Body::Conn(c) = &mut vnc.body {
        c.service = Some("rfb".into());
    }
    let mut any = ev::tls(103.0, "10.20.1.9", "51.83.238.219", None, None);
    if let Body::Tls(t) = &mut any.body {
        t.next_protocol = Some("anydesk".into());
    }
    let f = run(&mut det(), &[tv.clone(), probe, vnc, any], &ledger());
    let by: Vec<(String, f64)> =
        f.iter().map(|p| (p.draft.discriminator.clone(), p.draft.score)).collect();
    assert!(by.contains(&("teamviewer".into(), 65.0)), "{by:?}");
    assert!(by.contains(&("vnc".into(), 70.0)), "inbound from the internet: {by:?}");
    assert!(by.contains(&("anydesk".into(), 65.0)), "{by:?}");
    assert_eq!(f.len(), 3, "an unanswered probe of 5938 is not a use: {by:?}");
    // The same port, approved: quiet.
    if let Body::Conn(c) = &mut tv.body {
        c.flow.orig_h = "10.20.0.60".parse().unwrap();
    }
    let f: crate::ProfileFile = serde_json::from_value(serde_json::json!({
        "rmm": { "approved": [ { "tool": "teamviewer" } ] }
    }))
    .unwrap();
    assert!(run(&mut det(), &[tv], &OrgProfile::from_file(f).unwrap()).is_empty());
}

#[test]
fn rmm_captures() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    for (file, host, tool) in [
        ("rmm/anydesk.pcapng", "192.168.1.187", "anydesk"),
        ("rmm/teamviewer.pcap", "10.0.2.15", "teamviewer"),
        ("rmm/vnc.pcap", "192.168.2.110", "vnc"),
    ] {
        let evs = decode_all(&[&data.join(file)]);
        let f = run(&mut det(), &evs, &ledger());
        assert!(
            f.iter().any(|p| p.draft.score >= 50.0
                && p.draft.discriminator == tool
                && p.draft.entity.ip == Some(host.parse().unwrap())),
            "{file}: {:?}",
            f.iter().map(|p| (p.draft.score, &p.draft.summary)).collect::<Vec<_>>()
        );
    }
}
