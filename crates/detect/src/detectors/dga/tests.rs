use super::*;
use crate::testing::{decode_all, ev, profile_with_internal, run};
use crate::OrgProfile;

fn det() -> Dga {
    Dga::new(Config::default())
}

fn nx(t: f64, client: &str, q: &str) -> Event {
    ev::dns(t, client, "10.0.0.10", q, 1, 3, &[])
}

fn summaries(f: &[crate::Pending]) -> Vec<String> {
    f.iter().map(|p| format!("{} {}", p.draft.score, p.draft.summary)).collect()
}

/// Pronounceable generated names, as Simda's.
fn generated(k: u32) -> String {
    let c = ["v", "k", "z", "p", "m", "t", "j", "g"];
    let v = ["o", "y", "u", "e", "a", "i"];
    let mut s = String::new();
    let mut x = k.wrapping_mul(2_654_435_761);
    for _ in 0..3 {
        s.push_str(c[(x % 8) as usize]);
        x /= 8;
        s.push_str(v[(x % 6) as usize]);
        x /= 6;
    }
    s.push_str(c[(x % 8) as usize]);
    format!("{s}.com")
}

#[test]
fn a_generated_domain_walk_is_found() {
    let mut v = vec![];
    for k in 0..40u32 {
        let t = 100.0 + f64::from(k) * 1.5;
        if k % 10 == 3 {
            v.push(ev::dns(t, "10.0.1.16", "10.0.0.10", &generated(k), 1, 0, &["198.51.100.9"]));
        } else {
            v.push(nx(t, "10.0.1.16", &generated(k)));
        }
    }
    let f = run(&mut det(), &v, &OrgProfile::default());
    let hour: Vec<_> = f.iter().filter(|p| p.draft.discriminator == "hour").collect();
    assert_eq!(hour.len(), 1, "{:?}", summaries(&f));
    assert_eq!(hour[0].draft.score, 70.0, "36 domains: three times the hourly threshold");
    assert_eq!(hour[0].draft.evidence["resolved_registered_domains"], 4);
    assert_eq!(hour[0].draft.entity.ip, Some("10.0.1.16".parse().unwrap()));
}

#[test]
fn the_nonexistent_names_of_a_normal_day_are_quiet() {
    let mut v = vec![];
    for h in 0..24u32 {
        let t0 = f64::from(h) * 3600.0;
        for host in 1..=20u32 {
            let c = format!("10.0.1.{host}");
            let t = t0 + f64::from(host) * 10.0;
            // Search-suffix appends, reverse lookups, browser probes, local names.
            for short in ["wpad", "printer", "intranet", "isatap", "fs1", "fs2", "fs3"] {
                v.push(nx(t, &c, &format!("{short}.corp.example-org.com")));
            }
            v.push(nx(t + 1.0, &c, "7.2.0.10.in-addr.arpa"));
            v.push(nx(t + 2.0, &c, "qzxkvbmwp"));
            v.push(nx(t + 3.0, &c, "nas.local"));
            // A few typos a day, each its own registered domain.
            if h % 8 == host % 8 {
                v.push(nx(t + 4.0, &c, &format!("www.examlpe{host}{h}.com")));
            }
            // Reputation lookups under one vendor domain, hash-like and often NX.
            for k in 0..20u32 {
                v.push(nx(
                    t + 5.0 + f64::from(k),
                    &c,
                    &format!("{:032x}.rep.av-vendor.com", (host, h, k).0 * 7919 + k),
                ));
            }
        }
        // The resolver forwards everybody's lookups, including a burst of dead domains.
        for k in 0..50u32 {
            v.push(ev::dns(
                t0 + 600.0 + f64::from(k),
                "10.0.0.10",
                "8.8.8.8",
                &generated(k + 1000 * h),
                1,
                3,
                &[],
            ));
        }
    }
    // A dead domain in a shared configuration, asked for by every host.
    for host in 1..=20u32 {
        for k in 0..15u32 {
            v.push(nx(
                f64::from(k) * 60.0 + 0.5,
                &format!("10.0.1.{host}"),
                &format!("old-svc{k}.example.net"),
            ));
        }
    }
    v.sort_by_key(|e| e.ts());
    let profile = OrgProfile::from_file(crate::ProfileFile {
        dns_resolvers: vec!["10.0.0.10".into()],
        ..Default::default()
    })
    .unwrap();
    let f = run(&mut det(), &v, &profile);
    assert!(f.is_empty(), "{:?}", summaries(&f));
}

#[test]
fn real_captures() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    // Simda (CTU-Malware-Capture-Botnet-355-1): pronounceable .com names, most NXDOMAIN.
    let evs = decode_all(&[&data.join("beacon/ctu355_simda")]);
    let f = run(&mut det(), &evs, &OrgProfile::default());
    assert!(
        f.iter().any(|p| p.draft.score >= 50.0
            && p.draft.entity.ip == Some("192.168.1.116".parse().unwrap())),
        "{:?}",
        summaries(&f)
    );
    for dir in ["mixed/ctu50_008-zeek-mixed", "mixed/ctu50_010-zeek-mixed"] {
        let evs = decode_all(&[&data.join(dir)]);
        let f = run(&mut det(), &evs, &profile_with_internal(&["147.32.0.0/16"]));
        assert!(f.iter().all(|p| p.draft.score < 50.0), "{dir}: {:?}", summaries(&f));
    }
    for dir in ["benign/rita_proxy_rolling", "mixed/slips_test9-mixed-zeek-dir"] {
        let evs = decode_all(&[&data.join(dir)]);
        let f = run(&mut det(), &evs, &OrgProfile::default());
        assert!(f.iter().all(|p| p.draft.score < 50.0), "{dir}: {:?}", summaries(&f));
    }
}
