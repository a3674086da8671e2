use super::*;
use crate::testing::{decode_all, ev, profile_with_internal, run};
use crate::OrgProfile;

fn det() -> HttpAnomaly {
    let cfg = Config::default();
    HttpAnomaly { pairs: Keyed::new(cfg.max_pairs), cfg }
}

#[test]
fn download_cradle_from_a_raw_address() {
    let v = vec![ev::http(
        10.0,
        "10.0.0.5",
        "198.51.100.9",
        "GET",
        "198.51.100.9",
        "/stage2.ps1",
        "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1",
        40_000,
    )];
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].draft.score, 70.0);
    assert_eq!(f[0].draft.attack, Some(vec![T_TOOL]));
}

#[test]
fn browsing_is_quiet() {
    let mut v = vec![];
    for k in 0..50 {
        v.push(ev::http(
            f64::from(k),
            "10.0.0.5",
            "93.184.216.34",
            "GET",
            "www.example.com",
            &format!("/news/{k}.html"),
            "Mozilla/5.0 (Windows NT 10.0)",
            30_000,
        ));
    }
    assert!(run(&mut det(), &v, &OrgProfile::default()).is_empty());
}

#[test]
fn rita_sample_beacon_without_host_header() {
    // RITA's sample: 73.54.23.243 polls 64.225.56.201 with an empty Host header and the
    // agent "Modzilla/0.0001 (Atari 7800)".
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("beacon/rita_missing_host_2024-04-21")]);
    let f = run(&mut det(), &evs, &profile_with_internal(&["73.54.23.243/32"]));
    let d = &f.iter().find(|p| p.draft.discriminator == "no-host").expect("found").draft;
    assert_eq!(d.score, 55.0);
    assert_eq!(d.peer.as_ref().unwrap().ip, Some("64.225.56.201".parse().unwrap()));
    assert!(d.summary.contains("Modzilla"));
}

#[test]
fn real_benign_http_is_quiet() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("benign/rita_proxy_rolling")]);
    let f = run(&mut det(), &evs, &OrgProfile::default());
    assert!(
        f.iter().all(|p| p.draft.score < 50.0),
        "{:?}",
        f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>()
    );
}

#[test]
fn slips_test9_shell_script_fetch_from_a_raw_address() {
    // Slips' mixed capture: 10.0.2.15 fetches /bin.sh from 112.255.161.10 with no user
    // agent (a Mirai-style dropper); the Chrome installer it gets over BITS from Google's
    // download servers is a vendor's and stays quiet.
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("mixed/slips_test9-mixed-zeek-dir")]);
    let f = run(&mut det(), &evs, &OrgProfile::default());
    assert_eq!(f.len(), 1, "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
    assert_eq!(f[0].draft.peer.as_ref().unwrap().ip, Some("112.255.161.10".parse().unwrap()));
    assert!(f[0].draft.score >= 60.0);
}
