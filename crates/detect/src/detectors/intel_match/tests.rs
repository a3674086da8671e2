use super::*;
use crate::testing::{decode_all, intel, run};
use crate::OrgProfile;

fn detector(list: &str) -> IntelMatch {
    IntelMatch::new(Config::default(), intel(list))
}

#[test]
fn remcos_exfil_address_from_the_manifest_is_found() {
    // Ground truth: 192.168.1.107 (RemcosRAT) tries 66.63.168.35:5888, the exfiltration
    // server, 719 times (all rejected in this first slice of the capture).
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("beacon/slips_ctu-sme-11_remcos")]);
    let f = run(&mut detector("66.63.168.35 # RemcosRAT exfil\n"), &evs, &OrgProfile::default());
    assert_eq!(f.len(), 1, "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
    let d = &f[0].draft;
    assert_eq!(d.entity.ip, Some("192.168.1.107".parse().unwrap()));
    assert_eq!(d.score, 75.0);
    assert_eq!(d.evidence["direction"], "outbound");
    assert_eq!(d.evidence["records"].as_u64().unwrap(), 719);
    assert!(d.summary.contains("66.63.168.35"));
}

#[test]
fn tor_client_ja3_in_slips_test9_is_found() {
    // Ground truth: the "Standard tor client" JA3 e7d705a3286e19ea42f587b344ee6865 (the
    // Slips developers wrote it into the ssl.log's `ja3s` column).
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("mixed/slips_test9-mixed-zeek-dir")]);
    let list = "indicator,description\ne7d705a3286e19ea42f587b344ee6865,Standard tor client\n";
    let f = run(&mut detector(list), &evs, &OrgProfile::default());
    assert!(!f.is_empty());
    for p in &f {
        assert_eq!(p.draft.evidence["indicator_type"], "md5");
        assert_eq!(p.draft.evidence["matched_fields"][0], "ja3s");
        assert_eq!(p.draft.score, 60.0);
        assert!(p.draft.summary.contains("Standard tor client"));
    }
}

#[test]
fn domain_indicator_matches_subdomain_lookups_in_simda_dns() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("beacon/ctu355_simda/dns.log")]);
    // Pick a real queried name's parent domain from the data itself.
    let q = evs
        .iter()
        .find_map(|e| match &e.body {
            Body::Dns(d) => {
                d.query.as_deref().filter(|q| q.matches('.').count() >= 2).map(str::to_string)
            }
            _ => None,
        })
        .unwrap();
    let parent = q.split_once('.').unwrap().1.to_string();
    let f = run(&mut detector(&parent), &evs, &OrgProfile::default());
    assert!(f
        .iter()
        .any(|p| p.draft.evidence["matched_fields"][0] == "query" && p.draft.score == 70.0));
}

#[test]
fn benign_proxy_logs_with_unrelated_intel_are_quiet() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("benign/rita_proxy_rolling")]);
    assert!(evs.len() > 10_000);
    let list =
        "178.237.33.50\nevil.example.com\ne7d705a3286e19ea42f587b344ee6865\n198.51.100.0/24\n";
    let f = run(&mut detector(list), &evs, &OrgProfile::default());
    assert!(f.is_empty(), "{:?}", f.iter().map(|p| &p.draft.summary).collect::<Vec<_>>());
}

#[test]
fn inbound_scanners_score_low() {
    // The EVE capture is full of blocklisted scanners hitting 192.168.1.129.
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("mixed/slips_test6-malicious.suricata.json")]);
    let scanner = evs
        .iter()
        .find_map(|e| match &e.body {
            Body::Alert(a) if a.signature.contains("CINS") => a.flow.map(|f| f.orig_h),
            _ => None,
        })
        .unwrap();
    let f = run(&mut detector(&scanner.to_string()), &evs, &OrgProfile::default());
    assert!(!f.is_empty());
    for p in &f {
        assert_eq!(p.draft.evidence["direction"], "inbound");
        assert!(p.draft.score < 50.0);
        assert_eq!(p.draft.stage, Some(Stage::InitialAccess));
    }
}

#[test]
fn empty_intel_is_a_no_op() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    let evs = decode_all(&[&data.join("beacon/slips_ctu-sme-11_remcos")]);
    assert!(run(&mut detector(""), &evs, &OrgProfile::default()).is_empty());
}
