use super::*;
use crate::testing::{decode_all, ev, run};
use crate::OrgProfile;

fn det() -> DnsTunnel {
    let cfg = Config::default();
    DnsTunnel { pairs: Keyed::new(cfg.max_pairs), cfg, hasher: RandomState::default() }
}

fn hex(k: u64, n: usize) -> String {
    let mut s = String::new();
    let mut x = k.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    while s.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(&format!("{x:016x}"));
    }
    s.truncate(n);
    s
}

/// An organisation whose 30 workstations browse, pull CDN hashed names and make
/// antivirus reputation lookups (TXT, 32-hex labels) through the resolver.
fn org(days: u64) -> Vec<Event> {
    let mut v = vec![];
    for h in 0..30u64 {
        let host = format!("10.0.1.{}", h + 10);
        for k in 0..(60 * days) {
            let t = (k * 1440 + h * 17) as f64;
            v.push(ev::dns(
                t,
                &host,
                "10.0.0.10",
                &format!("{}.rep.avvendor-security.com", hex(h * 100_000 + k, 32)),
                16,
                0,
                &["\"clean\""],
            ));
            v.push(ev::dns(
                t + 3.0,
                &host,
                "10.0.0.10",
                &format!("{}.cdn.edgecast-media.net", hex(h * 7 + k, 12)),
                1,
                0,
                &["93.184.216.34"],
            ));
            v.push(ev::dns(
                t + 9.0,
                &host,
                "10.0.0.10",
                &format!("www.site{}.com", k % 40),
                1,
                0,
                &["93.184.216.35"],
            ));
        }
    }
    v
}

fn sorted(mut v: Vec<Event>) -> Vec<Event> {
    v.sort_by_key(|e| e.ts());
    v
}

#[test]
fn low_rate_txt_tunnel_over_days_is_found_and_the_organisation_is_quiet() {
    let mut v = org(3);
    for k in 0..600u64 {
        let t = (k * 400) as f64;
        let name = format!("{}.{k:x}.t.cloud-metrics-sync.com", hex(k + 5, 52));
        v.push(ev::dns(t, "10.0.0.77", "10.0.0.10", &name, 16, 0, &["\"ok\""]));
    }
    let f = run(&mut det(), &sorted(v), &OrgProfile::default());
    let hits: Vec<_> = f.iter().filter(|p| p.draft.score >= 50.0).collect();
    assert_eq!(
        hits.len(),
        1,
        "{:?}",
        f.iter().map(|p| (&p.draft.summary, p.draft.score)).collect::<Vec<_>>()
    );
    let d = &hits[0].draft;
    assert_eq!(d.entity.ip, Some("10.0.0.77".parse().unwrap()));
    assert_eq!(d.peer.as_ref().unwrap().domain.as_deref(), Some("cloud-metrics-sync.com"));
    assert!(d.score >= 80.0, "{}", d.score);
    assert!(d.evidence["subdomain_bits"].as_f64().unwrap() > 100_000.0);
    assert_eq!(d.attack, Some(vec![T_DNS, T_TUN, T_EXF]));
}

#[test]
fn a_burst_is_found() {
    let mut v = vec![];
    for k in 0..500u64 {
        v.push(ev::dns(
            k as f64 * 5.0,
            "10.0.0.5",
            "10.0.0.10",
            &format!("{}.x.tun.example.org", hex(k, 20)),
            1,
            3,
            &[],
        ));
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1);
    assert!(f[0].draft.score >= 65.0, "{}", f[0].draft.summary);
}

#[test]
fn resolver_forwards_are_not_the_resolvers_own() {
    let mut v = vec![];
    for c in ["10.0.0.21", "10.0.0.22", "10.0.0.23"] {
        v.push(ev::dns(0.0, c, "10.0.0.10", "www.example.com", 1, 0, &["93.184.216.34"]));
    }
    for k in 0..500u64 {
        v.push(ev::dns(
            10.0 + k as f64,
            "10.0.0.10",
            "9.9.9.9",
            &format!("{}.t.example.org", hex(k, 40)),
            16,
            0,
            &[],
        ));
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert!(f.is_empty(), "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
}

#[test]
fn real_benign_dns_is_quiet() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    for dir in ["benign/rita_proxy_rolling", "mixed/otrf_apt29_day2_UTICA-A"] {
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
fn a_short_tunnel_is_found_by_its_encoded_names() {
    // A dozen hex-encoded MX and TXT queries in ten seconds (dnscat2's shape).
    let mut v = vec![];
    for k in 0..12u64 {
        let q = format!("{}.tun.example-c2.com", hex(k, 18));
        v.push(ev::dns(
            k as f64,
            "10.0.1.5",
            "10.0.0.10",
            &q,
            if k % 2 == 0 { 15 } else { 16 },
            0,
            &[],
        ));
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1, "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
    assert_eq!(f[0].draft.score, 60.0, "55, +5 for TXT/MX");
    // A random 18-hex label can happen to hold fewer than two digits: most, not all.
    assert!(f[0].draft.evidence["encoded_names_and_answers"].as_u64().unwrap() >= 10);
}

#[test]
fn long_names_that_are_not_data_stay_quiet() {
    let mut v = vec![];
    for k in 0..20u64 {
        // Long dictionary words (no digits), short hashed CDN labels, and one repeated
        // long token: none is a stream of encoded data.
        let word = ["configuration-service", "authentication-portal", "documentation-mirror"]
            [(k % 3) as usize];
        v.push(ev::dns(
            k as f64,
            "10.0.1.5",
            "10.0.0.10",
            &format!("{word}-{}.corp-apps.com", ["east", "west"][(k % 2) as usize]),
            1,
            0,
            &[],
        ));
        v.push(ev::dns(
            k as f64 + 0.1,
            "10.0.1.5",
            "10.0.0.10",
            &format!("{}.cdn-host.net", hex(k, 10)),
            1,
            0,
            &[],
        ));
        v.push(ev::dns(
            k as f64 + 0.2,
            "10.0.1.5",
            "10.0.0.10",
            &format!("{}.api.svc-sync.io", hex(7, 24)),
            1,
            0,
            &[],
        ));
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert!(f.is_empty(), "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
}

#[test]
fn real_tunnels_in_captures() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    // dnscat2 (12 queries), DNSExfiltrator (14 TXT queries of base32/base64), commands
    // delivered in base64 TXT answers, iodine's handshake in raw bytes.
    for (file, host) in [
        ("dns_tunnel/dmachard_dnscat2.pcap", "192.168.1.17"),
        ("dns_tunnel/dmachard_dnsexfiltrator.pcap", "192.168.1.102"),
        ("dns_tunnel/sbousseaden_cmds_over_dns_txt.pcap", "192.168.100.121"),
        ("dns_tunnel/elastic_dns-tunnel-iodine.pcap", "10.0.2.30"),
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
    for file in [
        "benign/zeek_wikipedia.pcap",
        "benign/instagram.pcap",
        "benign/teams.pcap",
        "benign/netflix.pcap",
    ] {
        let evs = decode_all(&[&data.join(file)]);
        let f = run(&mut det(), &evs, &OrgProfile::default());
        assert!(
            f.iter().all(|p| p.draft.score < 50.0),
            "{file}: {:?}",
            f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>()
        );
    }
}

/// The `min_distinct` line is drawn on an exact count: a burst cycling over 49 names
/// stays quiet, over 50 names it is stated with exactly 50 (an estimate would put
/// either on either side of the line), and the count never exceeds the queries.
#[test]
fn the_distinct_name_threshold_is_exact() {
    let burst = |names: u64| {
        let v: Vec<Event> = (0..400u64)
            .map(|k| {
                let q = format!("mail{}.relay.example-cdn.org", k % names);
                ev::dns(k as f64 * 5.0, "10.0.0.5", "10.0.0.10", &q, 1, 0, &[])
            })
            .collect();
        run(&mut det(), &v, &OrgProfile::default())
    };
    let quiet = burst(49);
    assert!(quiet.is_empty(), "{:?}", quiet.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
    let found = burst(50);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].draft.evidence["distinct_names"].as_f64(), Some(50.0));
}
