use super::*;
use crate::testing::{decode_all, ev, profile_with_internal, run};
use crate::OrgProfile;

fn det() -> RareDestination {
    let cfg = Config::default();
    RareDestination { pairs: Keyed::new(cfg.max_pairs), cfg }
}

/// 12 hosts that resolve names and browse named sites.
fn org() -> Vec<Event> {
    let mut v = vec![];
    for h in 0..12u32 {
        let host = format!("10.0.1.{}", h + 10);
        for k in 0..12u32 {
            let t = f64::from(k * 600 + h);
            v.push(ev::dns(t, &host, "10.0.0.10", "www.example.com", 1, 0, &["93.184.216.34"]));
            v.push(ev::conn(t + 0.1, &host, "93.184.216.34", 443, 900, 9000, Some("ssl")));
        }
    }
    v
}

#[test]
fn orb_sessions_without_dns_are_found() {
    let mut v = org();
    for d in 0..3 {
        let mut c = ev::conn(
            10_000.0 + f64::from(d) * 86_400.0,
            "10.0.1.15",
            "73.12.34.56",
            443,
            90_000,
            150_000,
            Some("ssl"),
        );
        if let Body::Conn(x) = &mut c.body {
            x.duration = Some(5400.0);
        }
        v.push(c);
    }
    v.sort_by_key(|e| e.ts());
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1, "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
    assert_eq!(f[0].draft.score, 60.0);
    assert_eq!(f[0].draft.peer.as_ref().unwrap().ip, Some("73.12.34.56".parse().unwrap()));
}

#[test]
fn named_addresses_are_quiet_even_when_named_later() {
    let mut v = org();
    v.push(ev::conn(20_000.0, "10.0.1.15", "198.51.100.8", 443, 900, 9000, Some("ssl")));
    // The SNI arrives in the TLS record after the connection's own record.
    v.push(ev::tls(20_000.01, "10.0.1.15", "198.51.100.8", Some("api.example.net"), None));
    v.sort_by_key(|e| e.ts());
    assert!(run(&mut det(), &v, &OrgProfile::default()).is_empty());
}

#[test]
fn one_host_captures_give_leads_only() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    for dir in ["mixed/ctu50_008-zeek-mixed", "mixed/ctu50_010-zeek-mixed"] {
        let evs = decode_all(&[&data.join(dir)]);
        let f = run(&mut det(), &evs, &profile_with_internal(&["147.32.0.0/16"]));
        assert!(f.iter().all(|p| p.draft.score < 50.0), "{dir}");
    }
    let evs = decode_all(&[&data.join("benign/rita_proxy_rolling")]);
    let f = run(&mut det(), &evs, &OrgProfile::default());
    assert!(
        f.iter().all(|p| p.draft.score < 50.0),
        "{:?}",
        f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>()
    );
}
