//! Bounded state under hostile volume: `state_bench [EVENTS]` (default 10 000 000) streams
//! DNS lookups and TLS-less connections from internal hosts (`HOSTS=N`, default 5 000;
//! 1 000 000 is a spoofed-source flood) to ever-new random names and addresses — the
//! worst case for per-pair state (every event a new pair) — through every detector and
//! the baselines (`DNS_SHARE=N`: N % lookups, default 50), and prints resident memory
//! every million events, the throughput, and the counters of state refused or displaced
//! at the caps. Memory must level off at the caps instead of growing with the input.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use dwell_detect::IntelSet;
use dwell_engine::pipeline::Engine;
use dwell_engine::Inputs;
use dwell_model::{
    Body, Conn, Dns, DnsMsg, Event, FileId, Flow, Header, Proto, SourceRef, Text, Timestamp,
};

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let profile = match dwell_engine::config::parse_profile(
        "internal_networks = [\"10.0.0.0/8\"]\ndns_resolvers = [\"10.0.0.53\"]\n",
    ) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut engine = match Engine::new(profile, Arc::new(IntelSet::new()), 60.0) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let t0 = 1_772_409_600_000_000i64;
    let resolver = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 53));
    let nxd: Text = "NXDOMAIN".into();
    let a: Text = "A".into();
    // Percent of events that are DNS lookups (the rest are connections).
    let dns_share: u64 = std::env::var("DNS_SHARE").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    // Internal source addresses (10.1.0.1 upwards): 1 000 000 is a spoofed-source flood.
    let hosts: u64 =
        std::env::var("HOSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000).clamp(1, 1 << 23);
    let c0 = dwell_bench::cpu_seconds();
    println!("events  rss_mb");
    for i in 0..n {
        let host = r.next() % hosts;
        let client = IpAddr::V4(Ipv4Addr::from(0x0a01_0001 + host as u32));
        // Two events per millisecond of event time: ~1.4 days for 10 M events.
        let ts = Timestamp(t0 + (i as i64) * 500);
        let header = Header {
            ts,
            src: SourceRef { file: FileId(0), record: i + 1 },
            uid: None,
            community_id: None,
        };
        let body = if (i * 7919) % 100 < dns_share {
            let q = format!("{:x}.{:x}{}.com", r.next(), r.next() % 1_000_000, "x");
            Body::Dns(Box::new(Dns {
                flow: Flow {
                    orig_h: client,
                    orig_p: 50_000,
                    resp_h: resolver,
                    resp_p: 53,
                    proto: Proto::Udp,
                },
                msg: DnsMsg::Transaction,
                trans_id: None,
                rtt: None,
                query: Some(q.into()),
                qclass: Some(1),
                qtype: Some(1),
                qtype_name: Some(a.clone()),
                rcode: Some(3),
                rcode_name: Some(nxd.clone()),
                aa: None,
                tc: None,
                rd: None,
                ra: None,
                answers: Vec::new(),
                ttls: Vec::new(),
                rejected: None,
            }))
        } else {
            let ext = IpAddr::V4(Ipv4Addr::from(
                0x2d00_0000u32.wrapping_add((r.next() % 0x4000_0000) as u32),
            ));
            Body::Conn(Box::new(Conn {
                flow: Flow {
                    orig_h: client,
                    orig_p: 50_001,
                    resp_h: ext,
                    resp_p: 443,
                    proto: Proto::Tcp,
                },
                service: None,
                duration: Some(1.0),
                orig_bytes: Some(500),
                resp_bytes: Some(3000),
                conn_state: Some("SF".into()),
                local_orig: None,
                local_resp: None,
                missed_bytes: None,
                history: None,
                orig_pkts: Some(5),
                orig_ip_bytes: None,
                resp_pkts: Some(5),
                resp_ip_bytes: None,
            }))
        };
        engine.push(&Event { header, body });
        if (i + 1) % 1_000_000 == 0 {
            println!("{:>7}M  {:.0}", (i + 1) / 1_000_000, rss_mb());
        }
    }
    let cpu = dwell_bench::cpu_seconds() - c0;
    let (findings, metrics) = engine.finish(&Inputs::default());
    println!(
        "{n} events in {cpu:.1} CPU-s ({:.0} events/CPU-s); {} findings",
        n as f64 / cpu.max(1e-9),
        findings.len()
    );
    for (k, v) in &metrics.counters {
        if k.contains("dropped") || k.contains("evicted") || k.contains("displaced") {
            println!("  {k}: {v}");
        }
    }
    println!("final rss {:.0} MB", rss_mb());
}
