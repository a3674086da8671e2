use super::*;
use crate::testing::{decode_all, ev, profile_with_internal, run};
use crate::OrgProfile;

fn det() -> Beaconing {
    let cfg = Config::default();
    Beaconing { pairs: Keyed::new(cfg.max_pairs), cfg, scratch: Scratch::default() }
}

/// `n` hosts that each talk to a shared destination now and then (an organisation).
fn org(n: u32, until_s: f64) -> Vec<Event> {
    let mut v = vec![];
    for i in 0..n {
        let mut t = f64::from(i) * 7.0;
        while t < until_s {
            v.push(ev::conn(
                t,
                &format!("10.0.1.{}", i + 10),
                "93.184.216.34",
                443,
                500,
                9000,
                Some("ssl"),
            ));
            t += 3000.0 + f64::from(i * 37 % 900);
        }
    }
    v
}

fn sorted(mut v: Vec<Event>) -> Vec<Event> {
    v.sort_by_key(|e| e.ts());
    v
}

/// Deterministic jitter in [-1, 1).
fn jit(k: u64) -> f64 {
    let h = k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11;
    (h as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
}

#[test]
fn minute_beacon_with_20_percent_jitter_scores_high() {
    let mut v = org(30, 2.0 * 86400.0);
    let mut t = 1000.0;
    for k in 0..2000u64 {
        v.push(ev::conn(t, "10.0.0.20", "203.0.113.9", 443, 300 + k % 120, 200, Some("ssl")));
        t += 60.0 * (1.0 + 0.2 * jit(k));
    }
    let f = run(&mut det(), &sorted(v), &OrgProfile::default());
    let hits: Vec<_> =
        f.iter().filter(|p| p.draft.entity.ip == Some("10.0.0.20".parse().unwrap())).collect();
    assert_eq!(hits.len(), 1, "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
    let d = &hits[0].draft;
    assert!(d.score >= 80.0, "{} {}", d.score, d.summary);
    let period = d.evidence["period_s"].as_f64().unwrap();
    assert!((period - 60.0).abs() < 3.0, "{period}");
    assert_eq!(d.attack, Some(vec![T_WEB, T_ENC]));
    for p in f.iter().filter(|p| p.draft.entity.ip != Some("10.0.0.20".parse().unwrap())) {
        // The organisation's own periodic traffic to a shared destination is a weak lead at most.
        assert!(p.draft.score < 50.0, "{}", p.draft.summary);
        assert_eq!(p.draft.evidence["rarity"], "shared by many hosts");
    }
}

#[test]
fn four_hour_beacon_with_30_percent_jitter_and_skipped_cycles() {
    let mut v = org(30, 6.0 * 86400.0);
    let mut t = 500.0;
    for k in 0..36u64 {
        if k % 10 != 7 {
            v.push(ev::conn(
                t,
                "10.0.0.77",
                "198.51.100.4",
                443,
                1000 + k % 200,
                1500,
                Some("ssl"),
            ));
        }
        t += 4.0 * 3600.0 * (1.0 + 0.3 * jit(k + 99));
    }
    let f = run(&mut det(), &sorted(v), &OrgProfile::default());
    let d = &f
        .iter()
        .find(|p| p.draft.entity.ip == Some("10.0.0.77".parse().unwrap()))
        .expect("found")
        .draft;
    assert!(d.score >= 50.0, "{} {}", d.score, d.summary);
    let period = d.evidence["period_s"].as_f64().unwrap();
    assert!((period / 3600.0 - 4.0).abs() < 0.8, "{period}");
}

#[test]
fn shared_keepalives_people_and_ntp_stay_quiet() {
    let mut v = org(30, 86400.0);
    // Every host keeps a SaaS session alive every 5 minutes: shared infrastructure.
    for i in 0..30u32 {
        let mut t = f64::from(i);
        while t < 86400.0 {
            v.push(ev::conn(
                t,
                &format!("10.0.1.{}", i + 10),
                "192.0.2.80",
                443,
                400,
                250,
                Some("ssl"),
            ));
            t += 300.0 * (1.0 + 0.02 * jit(u64::from(i) * 1000 + t as u64));
        }
    }
    // NTP every 1024 s from a server.
    for k in 0..80 {
        v.push(ev::udp(f64::from(k) * 1024.0, "10.0.0.10", "192.0.2.123", 123, 48, 48));
    }
    // A person browsing one site at random times.
    let mut t = 0.0;
    for k in 0..200u64 {
        t += 300.0 * (1.0 + jit(k)).max(0.01) * (1.0 + 3.0 * (jit(k + 7) + 1.0));
        v.push(ev::conn(t, "10.0.0.55", "198.51.100.200", 443, 2000 + 37 * k, 50_000, Some("ssl")));
    }
    let f = run(&mut det(), &sorted(v), &OrgProfile::default());
    assert!(
        f.iter().all(|p| p.draft.score < 50.0),
        "{:?}",
        f.iter().map(|p| (&p.draft.summary, p.draft.score)).collect::<Vec<_>>()
    );
}

/// In an organisation larger than the prevalence cap, a keep-alive every host makes is
/// shared infrastructure, not a rare destination: counted prevalence stops at the cap
/// (64 of 400 hosts would read as 16 %, under the 20 % "common" line).
#[test]
fn keepalives_of_an_organisation_beyond_the_prevalence_cap_stay_quiet() {
    let mut v = vec![];
    for i in 0..400u32 {
        let host = format!("10.0.{}.{}", i / 200 + 1, i % 200 + 10);
        let mut t = f64::from(i);
        while t < 43_200.0 {
            v.push(ev::conn(t, &host, "192.0.2.80", 443, 400, 250, Some("ssl")));
            t += 300.0 * (1.0 + 0.02 * jit(u64::from(i) * 1000 + t as u64));
        }
    }
    let f = run(&mut det(), &sorted(v), &OrgProfile::default());
    let loud: Vec<_> = f.iter().filter(|p| p.draft.score >= 50.0).collect();
    assert!(loud.is_empty(), "{} of {}: {}", loud.len(), f.len(), loud[0].draft.summary);
}

#[test]
fn judge_measures_period_jitter_and_gaps() {
    let cfg = Config::default();
    let times: Vec<i64> = (0..40)
        .map(|k| k * 600 * 1_000_000)
        .filter(|t| t % (6000 * 1_000_000) != 0 || *t == 0)
        .collect();
    let sizes = vec![500u64; times.len()];
    let j = judge(&times, &sizes, &cfg).unwrap();
    assert!((j.period_s - 600.0).abs() < 1e-6);
    assert_eq!(j.jitter, 0.0);
    assert!(j.persistence > 0.85 && j.persistence < 1.0, "{}", j.persistence);
    assert_eq!(j.size_consistency, 1.0);
    assert!(judge(&times[..4], &sizes[..4], &cfg).is_none());
}

#[test]
fn vendor_telemetry_in_a_one_host_capture_stays_below_alert() {
    // CTU-50 normal PCs: Microsoft, ESET, Dropbox, Grammarly, LastPass... perfectly
    // periodic, in captures of one host (rarity cannot be measured), labelled benign.
    let Some(data) = dwell_testkit::shared_data() else { return };
    for dir in ["mixed/ctu50_008-zeek-mixed", "mixed/ctu50_010-zeek-mixed"] {
        let evs = decode_all(&[&data.join(dir)]);
        let profile = profile_with_internal(&["147.32.0.0/16"]);
        let f = run(&mut det(), &evs, &profile);
        assert!(!f.is_empty(), "{dir}: the periodic channels are seen");
        for p in &f {
            assert!(p.draft.score < 50.0, "{dir}: {} {}", p.draft.score, p.draft.summary);
            assert!(p.draft.evidence["rarity"].as_str().unwrap().starts_with("unknown"));
        }
    }
}

#[test]
fn rita_sample_http_beacon_is_found_as_a_lead() {
    // RITA's sample: 73.54.23.243 polls the sensor 64.225.56.201 over HTTP every 200-350 s
    // all day (blank Host, odd UA). Seen from the polling host's side, a single host:
    // rarity cannot be measured, so it is a lead below 50 (other detectors carry the
    // rest: the blank Host and the UA are `http_anomaly`'s).
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("beacon/rita_missing_host_2024-04-21")]);
    let profile = profile_with_internal(&["73.54.23.243/32"]);
    let f = run(&mut det(), &evs, &profile);
    let d = &f
        .iter()
        .find(|p| {
            p.draft.peer.as_ref().and_then(|x| x.ip) == Some("64.225.56.201".parse().unwrap())
        })
        .expect("the beacon is found")
        .draft;
    assert!(d.score >= 30.0 && d.score < 50.0, "{} {}", d.score, d.summary);
    let period = d.evidence["period_s"].as_f64().unwrap();
    assert!((150.0..=400.0).contains(&period), "{period}");
}

/// The selection-based median and MAD equal the textbook ones (sort, take the middle or
/// the mean of the two middles) on odd and even lengths, ties and repeated values.
#[test]
fn median_by_selection_equals_median_by_sorting() {
    fn sorted_median(v: &[f64]) -> f64 {
        let mut a = v.to_vec();
        a.sort_by(f64::total_cmp);
        let n = a.len();
        if n % 2 == 1 {
            a[n / 2]
        } else {
            (a[n / 2 - 1] + a[n / 2]) / 2.0
        }
    }
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for len in 1..=140usize {
        let v: Vec<f64> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few distinct values on some lengths, so ties are common.
                (x % if len % 3 == 0 { 4 } else { 100_000 }) as f64 / 7.0
            })
            .collect();
        let m = sorted_median(&v);
        let dev: Vec<f64> = v.iter().map(|y| (y - m).abs()).collect();
        let mut w = v.clone();
        assert_eq!(median_mad(&mut w), (m, sorted_median(&dev)), "length {len}");
    }
    assert_eq!(median(&mut []), 0.0);
}

/// An implant that starts after the table of pairs has filled is still found: browsing
/// to ever-new addresses (30 hosts, 10 new addresses an hour each, 14,400 pairs for a
/// table of 2,000) fills the table within seven hours; the beacon starting on day two
/// takes the place of stale browsing pairs. (A table that refuses new pairs when full
/// never sees it.)
#[test]
fn a_beacon_that_starts_after_the_table_is_full_is_found() {
    let cfg = Config { max_pairs: 2000, ..Config::default() };
    let mut d = Beaconing { pairs: Keyed::new(cfg.max_pairs), cfg, scratch: Scratch::default() };
    let mut v = org(30, 2.0 * 86400.0);
    v.extend(crate::testing::fresh_destinations(30, 10, 900));
    let mut t = 86_400.0;
    for k in 0..280u64 {
        v.push(ev::conn(t, "10.0.0.20", "203.0.113.9", 443, 300 + k % 50, 200, Some("ssl")));
        t += 300.0 * (1.0 + 0.1 * jit(k));
    }
    let f = run(&mut d, &sorted(v), &OrgProfile::default());
    let hit = f.iter().find(|p| p.draft.entity.ip == Some("10.0.0.20".parse().unwrap()));
    let hit = hit.expect("the beacon that started after the table filled");
    assert!(hit.draft.score >= 60.0, "{}", hit.draft.summary);
    assert!(d.pairs.displaced > 10_000, "{}", d.pairs.displaced);
}
