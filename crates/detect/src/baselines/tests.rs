use super::*;
use dwell_model::{Conn, Dns, FileId, Flow, Header, SourceRef};

fn hdr(t: i64) -> Header {
    Header {
        ts: Timestamp::from_secs(t),
        src: SourceRef { file: FileId(0), record: 1 },
        uid: None,
        community_id: None,
    }
}

fn flow(o: &str, r: &str, port: u16) -> Flow {
    Flow {
        orig_h: o.parse().unwrap(),
        orig_p: 40000,
        resp_h: r.parse().unwrap(),
        resp_p: port,
        proto: Proto::Tcp,
    }
}

pub(crate) fn conn(t: i64, o: &str, r: &str, port: u16) -> Event {
    Event { header: hdr(t), body: Body::Conn(Box::new(Conn::new(flow(o, r, port)))) }
}

fn dns(t: i64, client: &str, server: &str, q: &str, answers: &[&str]) -> Event {
    let mut f = flow(client, server, 53);
    f.proto = Proto::Udp;
    Event {
        header: hdr(t),
        body: Body::Dns(Box::new(Dns {
            flow: f,
            msg: DnsMsg::Transaction,
            trans_id: None,
            rtt: None,
            query: Some(q.into()),
            qclass: None,
            qtype: Some(1),
            qtype_name: None,
            rcode: Some(0),
            rcode_name: None,
            aa: None,
            tc: None,
            rd: None,
            ra: None,
            answers: answers.iter().map(|a| Text::from(*a)).collect(),
            ttls: vec![],
            rejected: None,
        })),
    }
}

#[test]
fn prevalence_counts_distinct_internal_hosts() {
    let p = OrgProfile::default();
    let mut b = Baselines::new();
    b.observe(&conn(1, "10.0.0.1", "93.184.216.34", 443), &p);
    b.observe(&conn(2, "10.0.0.1", "93.184.216.34", 443), &p);
    b.observe(&conn(3, "10.0.0.2", "93.184.216.34", 443), &p);
    b.observe(&conn(4, "93.184.216.34", "10.0.0.3", 443), &p);
    b.observe(&conn(5, "10.0.0.1", "10.0.0.9", 443), &p);
    b.observe(&conn(6, "10.0.0.1", "224.0.0.251", 5353), &p);
    let s = b.peer("93.184.216.34".parse().unwrap()).unwrap();
    assert_eq!(s.prevalence(), 3);
    assert_eq!(s.flows, 4);
    assert_eq!(s.first_seen, Timestamp::from_secs(1));
    assert_eq!(b.prevalence("10.0.0.9".parse().unwrap()), 0);
    assert_eq!(b.prevalence("224.0.0.251".parse().unwrap()), 0);
    assert_eq!(b.internal_hosts(), 4);
    assert_eq!(b.start(), Some(Timestamp::from_secs(1)));
}

#[test]
fn prevalence_saturates() {
    let p = OrgProfile::default();
    let mut b = Baselines::new();
    for i in 0..200u32 {
        let host = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
        b.observe(&conn(i64::from(i), &host, "1.1.1.1", 443), &p);
    }
    assert_eq!(b.prevalence("1.1.1.1".parse().unwrap()), PREVALENCE_CAP);
    // At the cap the count says "at least": as common as can be told, not 64 of 200.
    assert_eq!(b.prevalence_share("1.1.1.1".parse().unwrap()), 1.0);
    for i in 0..10u32 {
        let host = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
        b.observe(&conn(300, &host, "2.2.2.2", 443), &p);
    }
    assert_eq!(b.prevalence_share("2.2.2.2".parse().unwrap()), 10.0 / 200.0);
    assert_eq!(b.share(PREVALENCE_CAP - 1), 63.0 / 200.0);
    // And a summary says so.
    assert_eq!((hosts_text(PREVALENCE_CAP), hosts_text(10)), ("at least 64".into(), "10".into()));
}

#[test]
fn roles_names_and_resolutions() {
    let p = OrgProfile::default();
    let mut b = Baselines::new();
    for c in ["10.0.0.21", "10.0.0.22", "10.0.0.23"] {
        b.observe(&dns(1, c, "10.0.0.10", "www.example.com", &["93.184.216.34"]), &p);
        b.observe(&conn(2, c, "10.0.0.10", 88), &p);
    }
    let dc: IpAddr = "10.0.0.10".parse().unwrap();
    assert!(b.is_resolver(dc, &p));
    assert!(b.is_dc(dc));
    assert!(!b.is_dc("10.0.0.21".parse().unwrap()));
    let ip: IpAddr = "93.184.216.34".parse().unwrap();
    assert_eq!(b.name_of(ip), Some("www.example.com"));
    assert_eq!(b.resolved("10.0.0.21".parse().unwrap(), ip), Some(Timestamp::from_secs(1)));
    assert_eq!(b.resolved("10.0.0.99".parse().unwrap(), ip), None);
    assert_eq!(b.domain_prevalence("other.example.com"), 3);
    // The resolver forwarding upstream is not a user of the domain.
    b.observe(&dns(3, "10.0.0.10", "9.9.9.9", "rare.example.org", &["198.51.100.1"]), &p);
    assert_eq!(b.domain_prevalence("rare.example.org"), 0);
    for i in 0..12u8 {
        b.observe(&conn(4, &format!("203.0.113.{i}"), "10.0.0.5", 443), &p);
    }
    assert!(b.is_edge("10.0.0.5".parse().unwrap(), &p));
    assert!(!b.is_edge("10.0.0.21".parse().unwrap(), &p));
    // A file server answers its users; a workstation answers a few admin hosts.
    for i in 0..SERVER_CLIENTS as u8 {
        b.observe(&conn(5, &format!("10.0.1.{i}"), "10.0.0.30", 445), &p);
    }
    for a in ["10.0.9.1", "10.0.9.2"] {
        b.observe(&conn(5, a, "10.0.0.21", 3389), &p);
    }
    let role = |ip: &str| b.role(ip.parse().unwrap(), &p);
    assert_eq!(role("10.0.0.10"), Some("dc"), "Kerberos for several clients");
    assert_eq!(role("10.0.0.5"), Some("edge"));
    assert_eq!(role("10.0.0.30"), Some("server"));
    assert_eq!(role("10.0.0.21"), None);
    // The profile's word comes first, but a declared resolver answering Kerberos is a DC.
    let declared = OrgProfile::from_file(crate::ProfileFile {
        dns_resolvers: vec!["10.0.0.10".into()],
        admin_hosts: vec!["10.0.0.30".into()],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(b.role("10.0.0.10".parse().unwrap(), &declared), Some("dc"));
    assert_eq!(b.role("10.0.0.30".parse().unwrap(), &declared), Some("admin"));
}

#[test]
fn addresses_that_never_answer_are_not_hosts() {
    let p = OrgProfile::default();
    let mut b = Baselines::new();
    for a in 1..=200u32 {
        let mut e = conn(i64::from(a), "10.0.0.5", &format!("10.0.9.{a}"), 445);
        if let Body::Conn(c) = &mut e.body {
            c.conn_state = Some(if a <= 3 { "REJ".into() } else { "S0".into() });
        }
        b.observe(&e, &p);
    }
    // The scanner and the three addresses that refused.
    assert_eq!(b.internal_hosts(), 4);
}

fn day(b: &mut Baselines, p: &OrgProfile, d: i64, hosts: &[&str], peer: &str) {
    for (i, h) in hosts.iter().enumerate() {
        let t = d * 86_400 + i as i64;
        b.observe(&dns(t, h, "10.0.0.53", "www.example.com", &[peer]), p);
        b.observe(&conn(t + 1, h, peer, 443), p);
    }
}

fn json(b: &Baselines) -> String {
    serde_json::to_string(&b.to_file()).unwrap()
}

#[test]
fn saved_baselines_load_back_the_same() {
    let p = crate::testing::profile_with_internal(&["10.0.0.0/8"]);
    let mut b = Baselines::new();
    day(&mut b, &p, 0, &["10.0.0.1", "10.0.0.2", "10.0.0.3"], "93.184.216.34");
    let text = json(&b);
    let back = Baselines::from_file(serde_json::from_str(&text).unwrap()).unwrap();
    assert_eq!(json(&back), text);
    let ip: IpAddr = "93.184.216.34".parse().unwrap();
    assert_eq!(back.prevalence(ip), 3);
    assert_eq!(back.domain_prevalence("example.com"), 3);
    assert_eq!(back.start(), b.start());
    let mut wrong: BaselineFile = serde_json::from_str(&text).unwrap();
    wrong.schema = 99;
    assert!(Baselines::from_file(wrong).unwrap_err().contains("schema 99"));
}

#[test]
fn merged_baselines_are_what_one_run_over_both_gives() {
    let p = crate::testing::profile_with_internal(&["10.0.0.0/8"]);
    let (mut a, mut b, mut both) = (Baselines::new(), Baselines::new(), Baselines::new());
    day(&mut a, &p, 0, &["10.0.0.1", "10.0.0.2"], "93.184.216.34");
    day(&mut b, &p, 5, &["10.0.0.2", "10.0.0.3"], "93.184.216.34");
    day(&mut both, &p, 0, &["10.0.0.1", "10.0.0.2"], "93.184.216.34");
    day(&mut both, &p, 5, &["10.0.0.2", "10.0.0.3"], "93.184.216.34");
    let mut ab = Baselines::new();
    ab.merge(&a);
    ab.merge(&b);
    let mut ba = Baselines::new();
    ba.merge(&b);
    ba.merge(&a);
    let ip: IpAddr = "93.184.216.34".parse().unwrap();
    for m in [&ab, &ba] {
        assert_eq!(m.prevalence(ip), 3, "host sets unite");
        assert_eq!(m.peer(ip).unwrap().first_seen, both.peer(ip).unwrap().first_seen);
        assert_eq!(m.peer(ip).unwrap().last_seen, both.peer(ip).unwrap().last_seen);
        assert_eq!(m.peer(ip).unwrap().flows, both.peer(ip).unwrap().flows);
        assert_eq!(m.start(), both.start());
    }
    // Host order inside a set may differ; prevalence and times do not.
    assert_eq!(ab.to_file().peers.len(), ba.to_file().peers.len());
}

/// Real data (OTRF APT29 day 2, Zeek): the workstation's machine account asks the KDC
/// for tickets (`UTICA$/DMEVALS.LOCAL`), which names the address it asks from; a user
/// principal (`dschrute/DMEVALS`) names no computer.
#[test]
fn kerberos_machine_accounts_name_their_address() {
    let data = dwell_testkit::shared_or_skip!();
    let evs =
        crate::testing::decode_all(&[&data.join("mixed/otrf_apt29_day2_UTICA-A/kerberos.log")]);
    assert!(evs.iter().any(|e| matches!(e.body, Body::Kerberos(_))));
    let p = OrgProfile::default();
    let mut b = Baselines::new();
    for e in &evs {
        b.observe(e, &p);
    }
    assert_eq!(b.ip_of_host("UTICA"), "10.0.1.5".parse().ok());
    assert_eq!(b.ip_of_host("utica.dmevals.local"), "10.0.1.5".parse().ok());
    assert_eq!(b.ip_of_host("dschrute"), None);
}
