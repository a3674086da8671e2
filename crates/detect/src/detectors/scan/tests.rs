use super::*;
use crate::testing::{decode_all, ev, profile_with_internal, run};
use crate::OrgProfile;

fn det() -> Scan {
    Scan::new(Config::default())
}

/// A connection with a Zeek state and no payload unless `bytes` is given.
fn attempt(t: f64, o: &str, r: &str, port: u16, state: &str, bytes: u64) -> Event {
    let mut e = ev::conn(t, o, r, port, bytes, bytes, None);
    if let Body::Conn(c) = &mut e.body {
        c.conn_state = Some(state.into());
    }
    e
}

fn summaries(f: &[crate::Pending]) -> Vec<String> {
    f.iter().map(|p| format!("{} {}", p.draft.score, p.draft.summary)).collect()
}

#[test]
fn vertical_scan_of_a_server() {
    let mut v = vec![];
    for p in 1..=120u16 {
        let state = if p % 10 == 0 { "RSTO" } else { "REJ" };
        v.push(attempt(100.0 + f64::from(p) * 0.5, "10.0.1.5", "10.0.1.20", p, state, 0));
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1, "{:?}", summaries(&f));
    let d = &f[0].draft;
    assert_eq!(d.score, 65.0, "120 ports is five times the threshold");
    assert_eq!(d.title.as_deref(), Some("Vertical port scan"));
    assert_eq!(d.peer.as_ref().unwrap().ip, Some("10.0.1.20".parse().unwrap()));
    // Beyond 64 distinct ports the count is a HyperLogLog estimate.
    let n = d.evidence["distinct"].as_u64().unwrap();
    assert!((100..=140).contains(&n), "{n}");
    assert_eq!(d.evidence["unanswered_or_refused"], 108);
}

#[test]
fn answers_to_multicast_queries_are_not_scans() {
    // A UPnP device answering M-SEARCHes from 400 ephemeral ports: Suricata-style flows
    // with no state, from source port 1900.
    let mut v = vec![];
    for k in 0..400u16 {
        let mut e = ev::udp(f64::from(k), "10.0.1.7", "10.0.1.5", 40_000 + k, 4000, 0);
        if let Body::Conn(c) = &mut e.body {
            c.flow.orig_p = 1900;
            c.conn_state = None;
            c.orig_pkts = Some(12);
            c.resp_pkts = Some(0);
        }
        v.push(e);
    }
    assert!(run(&mut det(), &v, &OrgProfile::default()).is_empty());
}

#[test]
fn smb_sweep_from_an_edge_device_scores_higher() {
    let mut v = vec![];
    for h in 1..=40u32 {
        let state = if h % 3 == 0 { "RSTO" } else { "S0" };
        v.push(attempt(50.0 + f64::from(h), "10.9.0.2", &format!("10.0.2.{h}"), 445, state, 0));
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1, "{:?}", summaries(&f));
    assert_eq!(f[0].draft.score, 55.0);
    assert_eq!(f[0].draft.title.as_deref(), Some("Horizontal scan"));
    assert_eq!(f[0].draft.peer.as_ref().unwrap().port, Some(445));

    let edge = OrgProfile::from_file(crate::ProfileFile {
        edge_hosts: vec!["10.9.0.2".into()],
        ..Default::default()
    })
    .unwrap();
    let f = run(&mut det(), &v, &edge);
    assert_eq!(f[0].draft.score, 65.0);
    assert!(f[0].draft.summary.contains("internet-facing"));

    let admin = OrgProfile::from_file(crate::ProfileFile {
        admin_hosts: vec!["10.9.0.2".into()],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(run(&mut det(), &v, &admin)[0].draft.score, 30.0);
}

#[test]
fn ping_sweep_counts_answered_echoes() {
    let mut v = vec![];
    for h in 1..=30u32 {
        let mut e = ev::conn(f64::from(h), "10.0.1.5", &format!("10.0.3.{h}"), 0, 56, 56, None);
        if let Body::Conn(c) = &mut e.body {
            c.flow.proto = Proto::Icmp;
            c.flow.orig_p = 8;
            c.conn_state = Some("OTH".into());
        }
        v.push(e);
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1, "{:?}", summaries(&f));
    assert_eq!(f[0].draft.title.as_deref(), Some("Ping sweep"));
    assert_eq!(f[0].draft.attack.as_deref(), Some(&[T_SYSTEM][..]));
}

#[test]
fn a_sweep_every_day_becomes_routine() {
    let mut v = vec![];
    for day in 0..4 {
        for h in 1..=25u32 {
            let t = f64::from(day) * 86_400.0 + f64::from(h);
            v.push(attempt(t, "10.0.1.9", &format!("10.0.4.{h}"), 22, "REJ", 0));
        }
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].draft.score, 30.0, "{:?}", summaries(&f));
    assert!(f[0].draft.summary.contains("routine"));
}

#[test]
fn busy_benign_traffic_is_quiet() {
    let mut v = vec![];
    // A browser: 300 external sites with payload, 150 preconnects never used (soft),
    // a handful that fail; a monitoring server polling 40 servers every minute; a client
    // retrying a dead printer; the internet scanning an exposed host.
    for k in 0..300u32 {
        let ip = format!("93.184.{}.{}", k / 200, k % 200 + 1);
        v.push(attempt(f64::from(k), "10.0.1.5", &ip, 443, "SF", 5000));
    }
    for k in 0..150u32 {
        v.push(attempt(
            f64::from(k) + 0.5,
            "10.0.1.5",
            &format!("151.101.{}.{}", k / 200, k % 200 + 1),
            443,
            "SF",
            0,
        ));
    }
    for k in 0..6u32 {
        v.push(attempt(f64::from(k) + 0.7, "10.0.1.5", &format!("203.0.113.{k}"), 443, "S0", 0));
    }
    for m in 0..60u32 {
        for s in 1..=40u32 {
            v.push(attempt(
                f64::from(m * 60 + s),
                "10.0.0.50",
                &format!("10.0.5.{s}"),
                9100,
                "SF",
                300,
            ));
        }
        v.push(attempt(f64::from(m * 60) + 0.3, "10.0.1.6", "10.0.6.9", 9100, "S0", 0));
    }
    for p in 1..=1000u16 {
        v.push(attempt(f64::from(p) * 0.1, "45.143.200.10", "10.0.1.80", p, "REJ", 0));
    }
    v.sort_by_key(|e| e.ts());
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert!(f.is_empty(), "{:?}", summaries(&f));
}

#[test]
fn internet_sweep_counts_hard_failures_only() {
    let mut v = vec![];
    for k in 0..150u32 {
        v.push(attempt(
            f64::from(k),
            "10.0.1.5",
            &format!("{}.{}.7.9", 20 + k / 100, k % 100),
            23,
            "S0",
            0,
        ));
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1, "{:?}", summaries(&f));
    assert_eq!(f[0].draft.score, 55.0);
    assert!(f[0].draft.summary.contains("internet hosts that never answered"));
}

#[test]
fn real_captures() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    // Slips expects a "vertical port scan" from 192.168.1.132 in this file: every one of
    // those flows is from UDP port 1900 — a UPnP device answering M-SEARCH queries — and
    // the real scans come from the internet, which is noise, not a finding.
    let evs = decode_all(&[&data.join("mixed/slips_test6-malicious.suricata.json")]);
    let f = run(&mut det(), &evs, &OrgProfile::default());
    assert!(f.iter().all(|p| p.draft.score < 50.0), "{:?}", summaries(&f));
    for dir in ["mixed/ctu50_008-zeek-mixed", "mixed/ctu50_010-zeek-mixed"] {
        let evs = decode_all(&[&data.join(dir)]);
        let f = run(&mut det(), &evs, &profile_with_internal(&["147.32.0.0/16"]));
        assert!(f.iter().all(|p| p.draft.score < 50.0), "{dir}: {:?}", summaries(&f));
    }
    let evs = decode_all(&[&data.join("benign/rita_proxy_rolling")]);
    let f = run(&mut det(), &evs, &OrgProfile::default());
    assert!(f.iter().all(|p| p.draft.score < 50.0), "{:?}", summaries(&f));
}
