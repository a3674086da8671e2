use super::*;
use crate::testing::{decode_all, ev, run};
use crate::OrgProfile;
use dwell_model::Certificate;

fn det() -> Anonymizer {
    let cfg = Config::default();
    Anonymizer { pairs: Keyed::new(cfg.max_pairs), cfg }
}

fn cert(subject: &str, issuer: &str) -> Certificate {
    Certificate {
        subject: Some(subject.into()),
        issuer: Some(issuer.into()),
        ..Certificate::default()
    }
}

fn summaries(f: &[crate::Pending]) -> Vec<String> {
    f.iter().map(|p| format!("{} {}", p.draft.score, p.draft.summary)).collect()
}

#[test]
fn tor_vpn_tunnels_and_services_are_found() {
    let tor = ev::tls(
        1.0,
        "10.0.1.5",
        "91.143.93.242",
        Some("www.ct7ctrgb6cr7.com"),
        Some(cert("CN=www.gqghvisevfsibuub.net", "CN=www.zxq4ltwmrz.com")),
    );
    let tor_name =
        ev::tls(2.0, "10.0.1.6", "38.229.70.53", Some("www.q4cyamnc6mtokjurvdclt.com"), None);
    let mut wg = ev::udp(3.0, "10.0.1.7", "198.54.131.98", 5060, 576, 928);
    if let Body::Conn(c) = &mut wg.body {
        c.service = Some("wireguard".into());
    }
    let warp =
        ev::dns(4.0, "10.0.1.8", "10.0.0.10", "api.cloudflareclient.com", 1, 0, &["104.18.47.234"]);
    let f = run(&mut det(), &[tor, tor_name, wg, warp], &OrgProfile::default());
    let by: Vec<(String, f64)> =
        f.iter().map(|p| (p.draft.discriminator.clone(), p.draft.score)).collect();
    assert_eq!(by.len(), 4, "{:?}", summaries(&f));
    assert!(by.contains(&("tor".into(), 75.0)));
    assert!(by.contains(&("tor".into(), 60.0)));
    assert!(by.contains(&("wireguard".into(), 60.0)));
    assert!(by.contains(&("Cloudflare WARP".into(), 55.0)));
}

#[test]
fn ordinary_names_and_inbound_tunnels_are_quiet() {
    let mut v = vec![
        // A real site the host resolved, and an unresolved site named with a word.
        ev::dns(1.0, "10.0.1.5", "10.0.0.10", "www.a2b3c4d5e6f7.com", 1, 0, &["93.184.216.34"]),
        ev::tls(1.5, "10.0.1.5", "93.184.216.34", Some("www.a2b3c4d5e6f7.com"), None),
        ev::tls(2.0, "10.0.1.5", "203.0.113.9", Some("www.examplecompany.com"), None),
        // An ordinary certificate.
        ev::tls(
            3.0,
            "10.0.1.5",
            "203.0.113.10",
            Some("mail.example.org"),
            Some(cert("CN=mail.example.org", "CN=R11,O=Let's Encrypt,C=US")),
        ),
    ];
    // Road warriors connecting in to the organisation's WireGuard server.
    let mut wg = ev::udp(4.0, "198.51.100.7", "10.0.0.2", 51820, 148, 92);
    if let Body::Conn(c) = &mut wg.body {
        c.service = Some("wireguard".into());
    }
    v.push(wg);
    let f = run(&mut det(), &v, &OrgProfile::default());
    assert!(f.is_empty(), "{:?}", summaries(&f));
}

#[test]
fn anonymizer_captures() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    for (file, host) in [
        ("anonymizer/tor.pcap", "192.168.1.252"),
        ("anonymizer/mullvad_wireguard.pcap", "192.168.122.11"),
        ("anonymizer/opera-vpn.pcapng", "192.168.1.29"),
        ("anonymizer/protonvpn.pcap", "10.0.2.15"),
    ] {
        let evs = decode_all(&[&data.join(file)]);
        let f = run(&mut det(), &evs, &OrgProfile::default());
        assert!(
            f.iter()
                .any(|p| p.draft.score >= 50.0 && p.draft.entity.ip == Some(host.parse().unwrap())),
            "{file}: {:?}",
            summaries(&f)
        );
    }
    for file in [
        "benign/zeek_wikipedia.pcap",
        "benign/instagram.pcap",
        "benign/teams.pcap",
        "benign/zoom.pcap",
        "benign/netflix.pcap",
    ] {
        let evs = decode_all(&[&data.join(file)]);
        let f = run(&mut det(), &evs, &OrgProfile::default());
        assert!(f.iter().all(|p| p.draft.score < 50.0), "{file}: {:?}", summaries(&f));
    }
}
