use super::*;
use crate::testing::{decode_all, ev, run};
use crate::OrgProfile;
use dwell_model::Certificate;

fn det() -> TlsAnomaly {
    let cfg = Config::default();
    TlsAnomaly { pairs: Keyed::new(cfg.max_pairs), cfg }
}

fn cert(subject: &str, issuer: &str, nb: i64, na: i64) -> Certificate {
    Certificate {
        subject: Some(subject.into()),
        issuer: Some(issuer.into()),
        not_valid_before: Some(Timestamp::from_secs(nb)),
        not_valid_after: Some(Timestamp::from_secs(na)),
        ..Certificate::default()
    }
}

#[test]
fn self_signed_short_lived_c2_certificate() {
    let now = 1_772_409_600;
    let c = cert(
        "CN=*.cdn-update-check.net",
        "CN=*.cdn-update-check.net",
        now - 3 * 86_400,
        now + 5 * 86_400,
    );
    let v = vec![
        ev::tls(
            now as f64,
            "10.10.0.20",
            "203.0.113.5",
            Some("api.cdn-update-check.net"),
            Some(c.clone()),
        ),
        ev::tls(
            now as f64 + 60.0,
            "10.10.0.20",
            "203.0.113.5",
            Some("api.cdn-update-check.net"),
            Some(c),
        ),
    ];
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].draft.score, 65.0, "{}", f[0].draft.summary);
}

#[test]
fn ordinary_and_internal_certificates_are_quiet() {
    let now = 1_772_409_600;
    let good = cert(
        "CN=www.example.com",
        "CN=R11,O=Let's Encrypt,C=US",
        now - 30 * 86_400,
        now + 60 * 86_400,
    );
    let printer = cert("CN=printer", "CN=printer", now - 3000 * 86_400, now - 10 * 86_400);
    let v = vec![
        ev::tls(now as f64, "10.0.0.5", "93.184.216.34", Some("www.example.com"), Some(good)),
        ev::tls(now as f64, "10.0.0.5", "10.0.0.99", None, Some(printer)),
    ];
    assert!(run(&mut det(), &v, &OrgProfile::default()).is_empty());
}

#[test]
fn real_certificates_are_quiet() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    for dir in [
        "benign/rita_proxy_rolling",
        "mixed/slips_test9-mixed-zeek-dir",
        "mixed/slips_test10-mixed-zeek-dir",
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
