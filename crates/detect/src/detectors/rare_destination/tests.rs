use super::*;
use crate::testing::{decode_all, ev, profile_with_internal, run};
use crate::OrgProfile;

fn det() -> RareDestination {
    RareDestination::new(Config::default())
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
fn one_host_captures_give_leads_only_but_a_refused_loop_counts() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    for dir in ["mixed/ctu50_008-zeek-mixed", "mixed/ctu50_010-zeek-mixed"] {
        let evs = decode_all(&[&data.join(dir)]);
        let f = run(&mut det(), &evs, &profile_with_internal(&["147.32.0.0/16"]));
        assert!(f.iter().all(|p| p.draft.score < 50.0), "{dir}");
    }
    // RemcosRAT (CTU-SME-11): its exfiltration channel to 66.63.168.35:5888 is refused
    // 719 times in 8 minutes, on a fixed timer, and no name for the address exists.
    let evs = decode_all(&[&data.join("beacon/slips_ctu-sme-11_remcos")]);
    let f = run(&mut det(), &evs, &OrgProfile::default());
    let hit: Vec<_> = f.iter().filter(|p| p.draft.score >= 50.0).collect();
    assert_eq!(hit.len(), 1, "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
    assert_eq!(hit[0].draft.peer.as_ref().unwrap().ip, Some("66.63.168.35".parse().unwrap()));
    assert_eq!(hit[0].draft.entity.ip, Some("192.168.1.107".parse().unwrap()));
    let evs = decode_all(&[&data.join("benign/rita_proxy_rolling")]);
    let f = run(&mut det(), &evs, &OrgProfile::default());
    assert!(
        f.iter().all(|p| p.draft.score < 50.0),
        "{:?}",
        f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>()
    );
}

fn refused(t: f64, o: &str, r: &str, port: u16) -> Event {
    let mut e = ev::conn(t, o, r, port, 0, 0, None);
    if let Body::Conn(c) = &mut e.body {
        c.conn_state = Some("REJ".into());
    }
    e
}

#[test]
fn a_reconnect_loop_to_a_nameless_address_is_found() {
    let mut v = org();
    // Every 5 s (±1 s) for 20 minutes, all refused.
    for k in 0..240u32 {
        let t = 1000.0 + f64::from(k) * 5.0 + f64::from(k % 3) * 0.5;
        v.push(refused(t, "10.0.1.15", "66.1.2.3", 5888));
    }
    v.sort_by_key(|e| e.ts());
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1, "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
    let d = &f[0].draft;
    assert_eq!(d.score, 55.0);
    assert_eq!(d.attack.as_deref(), Some(&[T_APP, T_PORT][..]));
    assert_eq!(d.peer.as_ref().unwrap().port, Some(5888));
}

#[test]
fn backing_off_answered_or_named_retries_are_quiet() {
    // Exponential back-off: gaps of 2, 4, 8, ... capped at 600 s.
    let mut v = org();
    let mut t = 1000.0;
    let mut gap = 2.0;
    for _ in 0..40 {
        v.push(refused(t, "10.0.1.15", "66.1.2.3", 5888));
        t += gap;
        gap = (gap * 2.0_f64).min(600.0);
    }
    // A fixed-timer retry that got through once.
    for k in 0..60u32 {
        v.push(refused(1000.0 + f64::from(k) * 10.0, "10.0.1.16", "66.1.2.4", 8443));
    }
    v.push(ev::conn(1300.5, "10.0.1.16", "66.1.2.4", 8443, 500, 900, None));
    // A fixed-timer retry to an address the host resolved.
    for k in 0..60u32 {
        v.push(refused(1000.0 + f64::from(k) * 10.0, "10.0.1.17", "93.184.216.34", 443));
    }
    v.sort_by_key(|e| e.ts());
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert!(f.is_empty(), "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
}
