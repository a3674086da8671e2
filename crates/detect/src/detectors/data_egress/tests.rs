use super::*;
use crate::testing::{decode_all, ev, run};
use crate::OrgProfile;

fn det() -> DataEgress {
    DataEgress::new(Config::default())
}

const DAY: f64 = 86_400.0;

fn sorted(mut v: Vec<Event>) -> Vec<Event> {
    v.sort_by_key(|e| e.ts());
    v
}

/// 20 workstations and a backup server: browsing uploads, a company sync service three
/// hosts use, and a nightly 4 GB upload from the backup server to its cloud vault.
fn org(days: u32) -> Vec<Event> {
    let mut v = vec![];
    for d in 0..days {
        let base = f64::from(d) * DAY;
        v.push(ev::dns(
            base + 7200.0 - 1.0,
            "10.0.0.30",
            "10.0.0.10",
            "vault.backupcloud-storage.com",
            1,
            0,
            &["198.51.100.30"],
        ));
        v.push(ev::conn(
            base + 7200.0,
            "10.0.0.30",
            "198.51.100.30",
            443,
            4_000_000_000,
            400_000,
            Some("ssl"),
        ));
        for h in 0..20u32 {
            let host = format!("10.0.1.{}", h + 10);
            for k in 0..30u32 {
                v.push(ev::conn(
                    base + 30_000.0 + f64::from(k * 900 + h),
                    &host,
                    "93.184.216.34",
                    443,
                    2_000 + u64::from(k),
                    60_000,
                    Some("ssl"),
                ));
            }
            if h < 3 {
                for k in 0..10u32 {
                    let t = base + 32_000.0 + f64::from(k * 2000 + h);
                    v.push(ev::dns(
                        t - 1.0,
                        &host,
                        "10.0.0.10",
                        "sync.sharepoint.com",
                        1,
                        0,
                        &["203.0.113.40"],
                    ));
                    v.push(ev::conn(t, &host, "203.0.113.40", 443, 8_000_000, 20_000, Some("ssl")));
                }
            }
        }
    }
    v
}

#[test]
fn bulk_upload_to_cloud_storage_is_found_and_routine_jobs_are_not() {
    let mut v = org(4);
    let t0 = 2.0 * DAY + 50_000.0;
    v.push(ev::dns(
        t0 - 1.0,
        "10.0.0.20",
        "10.0.0.10",
        "gfs270n122.userstorage.mega.co.nz",
        1,
        0,
        &["203.0.113.99"],
    ));
    for k in 0..40u32 {
        v.push(ev::conn(
            t0 + f64::from(k) * 180.0,
            "10.0.0.20",
            "203.0.113.99",
            443,
            100_000_000,
            60_000,
            Some("ssl"),
        ));
    }
    let f = run(&mut det(), &sorted(v), &OrgProfile::default());
    let strong: Vec<_> = f.iter().filter(|p| p.draft.score >= 50.0).collect();
    assert_eq!(
        strong.len(),
        1,
        "{:?}",
        f.iter().map(|p| (&p.draft.summary, p.draft.score)).collect::<Vec<_>>()
    );
    let d = &strong[0].draft;
    assert_eq!(d.entity.ip, Some("10.0.0.20".parse().unwrap()));
    assert_eq!(d.peer.as_ref().unwrap().domain.as_deref(), Some("mega.co.nz"));
    assert!(d.score >= 90.0, "{}", d.score);
    assert!(d.attack.as_ref().unwrap().contains(&T_CLOUD));
    let backup =
        f.iter().find(|p| p.draft.entity.ip == Some("10.0.0.30".parse().unwrap())).unwrap();
    assert_eq!(backup.draft.evidence["routine"], true);
}

#[test]
fn slow_budget_over_days_is_found() {
    let mut v = org(5);
    for d in 1..5u32 {
        for k in 0..25u32 {
            let t = f64::from(d) * DAY + 30_000.0 + f64::from(k) * 1300.0;
            v.push(ev::dns(
                t - 1.0,
                "10.0.0.77",
                "10.0.0.10",
                "content.dropboxapi.com",
                1,
                0,
                &["198.51.100.77"],
            ));
            v.push(ev::conn(t, "10.0.0.77", "198.51.100.77", 443, 2_000_000, 4_000, Some("ssl")));
        }
    }
    let f = run(&mut det(), &sorted(v), &OrgProfile::default());
    let d = &f
        .iter()
        .find(|p| p.draft.entity.ip == Some("10.0.0.77".parse().unwrap()))
        .expect("found")
        .draft;
    assert!(d.score >= 65.0, "{} {}", d.score, d.summary);
    assert!(d.attack.as_ref().unwrap().contains(&T_LIMIT));
    assert!(d.attack.as_ref().unwrap().contains(&T_CLOUD));
    // The company sync service three hosts use stays quiet.
    assert!(f
        .iter()
        .filter(|p| p.draft.score >= 50.0)
        .all(|p| p.draft.entity.ip == Some("10.0.0.77".parse().unwrap())));
}

#[test]
fn real_data_without_large_uploads_is_quiet() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    for dir in [
        "benign/rita_proxy_rolling",
        "mixed/otrf_apt29_day2_UTICA-A",
        "mixed/slips_test9-mixed-zeek-dir",
    ] {
        let evs = decode_all(&[&data.join(dir)]);
        let f = run(&mut det(), &evs, &OrgProfile::default());
        assert!(
            f.iter().all(|p| p.draft.score < 50.0),
            "{dir}: {:?}",
            f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>()
        );
    }
}

/// `host` looks up Dropbox's upload name and sends 30 MB there, a megabyte a minute
/// from `t0`.
fn dropbox_uploads(host: &str, t0: f64) -> Vec<Event> {
    let mut v = vec![ev::dns(
        t0 - 1.0,
        host,
        "10.0.0.10",
        "content.dropboxapi.com",
        1,
        0,
        &["162.125.1.14"],
    )];
    for k in 0..30u32 {
        let t = t0 + f64::from(k) * 60.0;
        v.push(ev::conn(t, host, "162.125.1.14", 443, 1_000_000, 9_000, Some("ssl")));
    }
    v
}

/// An upload that starts after the table of pairs has filled is still judged: twenty
/// hosts send a few hundred kilobytes to ever-new addresses (50 an hour each, 48,000
/// pairs for a table of 2,000) and on day two one of them sends 30 MB to a file-sharing
/// service; its pair takes the place of stale ones. (A table that refuses new pairs
/// when full never sees it.)
#[test]
fn an_upload_that_starts_after_the_table_is_full_is_found() {
    let mut d = DataEgress::new(Config { max_pairs: 2000, ..Config::default() });
    let mut v = crate::testing::fresh_destinations(20, 50, 300_000);
    v.extend(dropbox_uploads("10.0.1.15", DAY + 40_000.0));
    let f = run(&mut d, &sorted(v), &OrgProfile::default());
    let hit = f.iter().find(|p| {
        p.draft.peer.as_ref().and_then(|p| p.domain.as_deref()) == Some("dropboxapi.com")
    });
    let hit = hit.expect("the upload that started after the table filled");
    assert_eq!(hit.draft.entity.ip, Some("10.0.1.15".parse().unwrap()));
    assert!(hit.draft.score >= 55.0, "{}", hit.draft.summary);
    assert!(d.pairs.displaced > 40_000, "{}", d.pairs.displaced);
}

/// Uploads made after a host's last evaluation are judged even when their pair is
/// displaced before the host is evaluated again: 30 MB to a file-sharing service within
/// half an hour, then silence, while the organisation's browsing displaces every idle
/// pair of a 100-pair table. The statement counts all 30 MB (without displaced pairs
/// held for their host's next evaluation it said 12 MB: what had been judged before).
#[test]
fn uploads_of_a_displaced_pair_are_judged() {
    let mut d = DataEgress::new(Config { max_pairs: 100, ..Config::default() });
    let mut v = crate::testing::fresh_destinations(20, 50, 300_000);
    v.extend(dropbox_uploads("10.0.1.90", 3_000.0));
    let f = run(&mut d, &sorted(v), &OrgProfile::default());
    let hit = f.iter().find(|p| p.draft.entity.ip == Some("10.0.1.90".parse().unwrap()));
    let hit = hit.expect("the uploads of the displaced pair");
    assert_eq!(hit.draft.evidence["bytes_out"], 30_000_000, "{}", hit.draft.summary);
    assert!(d
        .pairs
        .get(&("10.0.1.90".parse().unwrap(), "162.125.1.14".parse().unwrap()))
        .is_none());
}
