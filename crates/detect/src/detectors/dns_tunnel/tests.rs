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
