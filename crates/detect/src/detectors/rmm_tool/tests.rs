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
