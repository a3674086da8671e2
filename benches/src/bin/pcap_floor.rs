//! Packet-capture throughput against its floor, in one run.
//!
//! `pcap_floor FILE.pcap` first walks every record of the capture (streamed from disk in
//! 1 MiB reads, as dwell reads it), parses Ethernet/VLAN, IPv4/IPv6 and the ports, and
//! counts packets and bytes per 5-tuple in a hash table — the floor any flow meter
//! must pay. Then it decodes the same file with dwell's full flow meter (flows, DNS,
//! TLS with fingerprints and certificates, HTTP) and drains every event. It prints
//! packets per CPU-second for both and their ratio.

use std::collections::HashMap;
use std::io::Read;
use std::time::Instant;

use dwell_decode::{DecodeOptions, FileDecoder};
use dwell_model::FileId;

type Tuple = ([u8; 16], [u8; 16], u16, u16, u8);

/// The 5-tuple of an Ethernet frame, if it is IP.
fn tuple(f: &[u8]) -> Option<Tuple> {
    let mut et = u16::from_be_bytes([*f.get(12)?, *f.get(13)?]);
    let mut at = 14;
    while et == 0x8100 || et == 0x88a8 {
        et = u16::from_be_bytes([*f.get(at + 2)?, *f.get(at + 3)?]);
        at += 4;
    }
    let ip = f.get(at..)?;
    let (mut s, mut d) = ([0u8; 16], [0u8; 16]);
    let (proto, l4) = match et {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 15) * 4;
            s[..4].copy_from_slice(ip.get(12..16)?);
            d[..4].copy_from_slice(ip.get(16..20)?);
            (*ip.get(9)?, ip.get(ihl..)?)
        }
        0x86dd => {
            s.copy_from_slice(ip.get(8..24)?);
            d.copy_from_slice(ip.get(24..40)?);
            (*ip.get(6)?, ip.get(40..)?)
        }
        _ => return None,
    };
    let (sp, dp) = match proto {
        6 | 17 => (
            u16::from_be_bytes([*l4.first()?, *l4.get(1)?]),
            u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]),
        ),
        _ => (0, 0),
    };
    Some(if (s, sp) <= (d, dp) { (s, d, sp, dp, proto) } else { (d, s, dp, sp, proto) })
}

fn floor(path: &str) -> (u64, u64, f64) {
    let mut f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut head = [0u8; 24];
    f.read_exact(&mut head).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(head[..4], [0xd4, 0xc3, 0xb2, 0xa1], "the floor reads classic little-endian pcap");
    let mut buf = vec![0u8; 1 << 20];
    let (mut pos, mut end) = (0usize, 0usize);
    let mut table: HashMap<Tuple, (u64, u64), foldhash::fast::RandomState> = HashMap::default();
    let (mut packets, mut bytes) = (0u64, 0u64);
    let cpu0 = dwell_bench::cpu_seconds();
    let t0 = Instant::now();
    loop {
        let need = if end - pos < 16 {
            16
        } else {
            16 + u32::from_le_bytes([buf[pos + 8], buf[pos + 9], buf[pos + 10], buf[pos + 11]])
                as usize
        };
        if end - pos < need {
            buf.copy_within(pos..end, 0);
            end -= pos;
            pos = 0;
            if buf.len() < need {
                buf.resize(need, 0);
            }
            let n = f.read(&mut buf[end..]).unwrap_or(0);
            if n == 0 {
                break;
            }
            end += n;
            continue;
        }
        let cap = need - 16;
        let frame = &buf[pos + 16..pos + need];
        if let Some(t) = tuple(frame) {
            let e = table.entry(t).or_default();
            e.0 += 1;
            e.1 += cap as u64;
        }
        packets += 1;
        bytes += cap as u64;
        pos += need;
    }
    let cpu = (dwell_bench::cpu_seconds() - cpu0).max(t0.elapsed().as_secs_f64().min(1e-3));
    eprintln!("floor: {} 5-tuples", table.len());
    (packets, bytes, cpu)
}

fn main() {
    let path =
        std::env::args().nth(1).expect("usage: pcap_floor FILE.pcap (classic little-endian pcap)");
    let (p0, b0, c0) = floor(&path);
    let cpu0 = dwell_bench::cpu_seconds();
    let t0 = Instant::now();
    let mut dec =
        FileDecoder::open(std::path::Path::new(&path), FileId(0), &DecodeOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
    let mut events = 0u64;
    while dec.next_event().is_some() {
        events += 1;
    }
    let c1 = (dwell_bench::cpu_seconds() - cpu0).max(t0.elapsed().as_secs_f64().min(1e-3));
    let p1 = dec.stats().records;
    println!(
        "floor (record walk + 5-tuple table): {p0} packets, {:.1} MB in {c0:.2} CPU-s: {:.2} M packets/CPU-s, {:.2} Gbit/s per CPU",
        b0 as f64 / 1e6,
        p0 as f64 / c0 / 1e6,
        b0 as f64 * 8.0 / c0 / 1e9
    );
    println!(
        "dwell (flow meter + DNS/TLS/HTTP, {events} events): {p1} packets in {c1:.2} CPU-s: {:.2} M packets/CPU-s, {:.2} Gbit/s per CPU",
        p1 as f64 / c1 / 1e6,
        b0 as f64 * 8.0 / c1 / 1e9
    );
    println!("ratio: {:.0} % of the floor", 100.0 * (p1 as f64 / c1) / (p0 as f64 / c0));
}
