use super::*;
use crate::testing::{decode_all, profile_with_internal, run};
use crate::OrgProfile;
use dwell_model::{Conn, FileId, Flow, Header, Proto, SourceRef};

fn conn(t: i64, o: &str, r: &str, dur: f64) -> Event {
    Event {
        header: Header {
            ts: Timestamp::from_secs(t),
            src: SourceRef { file: FileId(0), record: t as u64 },
            uid: None,
            community_id: None,
        },
        body: Body::Conn(Box::new(Conn {
            service: Some("ssl".into()),
            duration: Some(dur),
            orig_bytes: Some(1000),
            resp_bytes: Some(2000),
            conn_state: Some("SF".into()),
            ..Conn::new(Flow {
                orig_h: o.parse().unwrap(),
                orig_p: 40000,
                resp_h: r.parse().unwrap(),
                resp_p: 443,
                proto: Proto::Tcp,
            })
        })),
    }
}

fn detector() -> LongConnection {
    LongConnection::new(Config::default()).unwrap()
}

/// An organisation of `n` workstations that each make a short flow somewhere.
fn background(n: u32) -> Vec<Event> {
    (0..n)
        .map(|i| conn(i64::from(i), &format!("10.0.1.{}", i + 10), "93.184.216.34", 1.0))
        .collect()
}

#[test]
fn single_twelve_hour_session_to_rare_peer_is_reported_high() {
    let mut evs = background(40);
    evs.push(conn(100, "10.0.0.5", "203.0.113.9", 13.0 * 3600.0));
    let f = run(&mut detector(), &evs, &OrgProfile::default());
    assert_eq!(f.len(), 1);
    let d = &f[0].draft;
    assert_eq!(d.entity.ip, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(d.evidence["tier"], "high");
    // 48 × 1.15 (rare in a 41-host org) × 1.1 (one unbroken session) = 60.7
    assert!((d.score - 60.72).abs() < 0.01, "{}", d.score);
    assert_eq!(d.attack, Some(vec![Technique::must("T1071")]));
    assert!(d.summary.contains("13.0 h"), "{}", d.summary);
}

#[test]
fn sums_many_flows_and_restates_tiers() {
    // 30 flows of 10 minutes = 5 h: the low tier, no single-session bonus.
    let evs: Vec<Event> =
        (0..30).map(|i| conn(i * 900, "10.0.0.5", "198.51.100.7", 600.0)).collect();
    let f = run(&mut detector(), &evs, &OrgProfile::default());
    assert_eq!(f.len(), 1);
    let d = &f[0].draft;
    assert_eq!(d.evidence["tier"], "low");
    assert_eq!(d.evidence["flows"], 30);
    assert!(f[0].emits >= 2, "restated as it crossed tiers");
    assert!(d.score < 50.0);
}

#[test]
fn short_flows_common_peers_and_inbound_are_quiet() {
    let mut evs = background(40);
    // Inbound long session to an edge host (not considered by default).
    evs.push(conn(50, "203.0.113.50", "10.0.0.7", 20.0 * 3600.0));
    // Internal-to-internal long session.
    evs.push(conn(60, "10.0.0.8", "10.0.0.9", 20.0 * 3600.0));
    // Short flows only.
    evs.push(conn(70, "10.0.0.5", "203.0.113.9", 30.0));
    let f = run(&mut detector(), &evs, &OrgProfile::default());
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn real_long_sessions_in_ctu50_are_found_and_kept_below_alert() {
    // CTU-50 normal PC (public 147.32.0.0/16 addresses): a benign host holding a TLS
    // session to an AWS address for ~26 h in four flows of up to 6.6 h.
    let Some(data) = dwell_testkit::shared_data() else { return };
    let dir = data.join("mixed/ctu50_010-zeek-mixed");
    let evs = decode_all(&[&dir.join("conn.log.labeled")]);
    let profile = profile_with_internal(&["147.32.0.0/16"]);
    let f = run(&mut detector(), &evs, &profile);
    let hit = f
        .iter()
        .find(|p| p.draft.peer.as_ref().and_then(|x| x.ip) == Some("3.65.102.105".parse().unwrap()))
        .expect("the 26-hour pair is reported");
    assert_eq!(hit.draft.entity.ip, Some("147.32.83.234".parse().unwrap()));
    assert_eq!(hit.draft.evidence["tier"], "high");
    let total = hit.draft.evidence["total_duration_s"].as_f64().unwrap();
    assert!((total / 3600.0 - 26.36).abs() < 0.01, "{total}");
    // Benign: one host, several sessions, no rarity evidence: below the alert line.
    assert!(
        f.iter().all(|p| p.draft.score < 50.0),
        "{:?}",
        f.iter().map(|p| p.draft.score).collect::<Vec<_>>()
    );
}

#[test]
fn real_remcos_capture_has_no_long_connection() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("beacon/slips_ctu-sme-11_remcos/conn.log.labeled")]);
    assert!(evs.len() > 700);
    let f = run(&mut detector(), &evs, &OrgProfile::default());
    assert!(f.is_empty(), "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
}

#[test]
fn thresholds_must_ascend() {
    let cfg = Config { low_s: 10.0, ..Config::default() };
    assert!(LongConnection::new(cfg).is_err());
}

/// A UDP DNS flow of `dur` seconds from `o` to `r`.
fn dns_flow(t: i64, o: &str, r: &str, dur: f64) -> Event {
    let mut e = conn(t, o, r, dur);
    if let Body::Conn(c) = &mut e.body {
        c.flow.resp_p = 53;
        c.flow.proto = Proto::Udp;
        c.service = Some("dns".into());
    }
    e
}

/// A resolver forwarding lookups upstream sums hours of 40 ms flows: its job, not a held
/// session. The same flows from a host that serves nobody still reach the base tier.
#[test]
fn a_resolvers_forwarding_is_not_a_long_connection() {
    let mut v = background(20);
    // Three clients make 10.0.0.53 a resolver.
    for (i, c) in ["10.0.1.10", "10.0.1.11", "10.0.1.12"].iter().enumerate() {
        v.push(dns_flow(30 + i as i64, c, "10.0.0.53", 0.01));
    }
    for k in 0..100_000i64 {
        v.push(dns_flow(40 + k / 10, "10.0.0.53", "9.9.9.9", 0.04));
        v.push(dns_flow(40 + k / 10, "10.0.1.20", "149.112.112.112", 0.04));
    }
    v.sort_by_key(|e| e.ts());
    let f = run(&mut detector(), &v, &OrgProfile::default());
    let hosts: Vec<String> = f.iter().map(|p| p.draft.entity.ip.unwrap().to_string()).collect();
    assert!(hosts.iter().all(|h| h == "10.0.1.20"), "{hosts:?}");
    assert!(!hosts.is_empty());
}
