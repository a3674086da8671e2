//! Hostile captures: nothing panics, bounds hold, what was dropped is counted.

use dwell_decode::pcap::flow::Config;
use dwell_decode::{AnomalyKind, DecodeOptions, FileDecoder, Format};

/// A classic little-endian pcap (Ethernet) of the given frames.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    v.extend([0u8; 8]);
    v.extend(65_535u32.to_le_bytes());
    v.extend(1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        v.extend((1_700_000_000u32 + (i / 1000) as u32).to_le_bytes());
        v.extend(((i % 1000) as u32 * 1000).to_le_bytes());
        v.extend((f.len() as u32).to_le_bytes());
        v.extend((f.len() as u32).to_le_bytes());
        v.extend(f);
    }
    v
}

/// An Ethernet/IPv4/TCP SYN from `src` to 10.0.0.1:80.
fn syn(src: [u8; 4], sport: u16) -> Vec<u8> {
    let mut v = vec![0u8; 12];
    v.extend([0x08, 0x00]);
    v.extend([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0]);
    v.extend(src);
    v.extend([10, 0, 0, 1]);
    v.extend(sport.to_be_bytes());
    v.extend(80u16.to_be_bytes());
    v.extend([0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    v
}

fn decode(bytes: Vec<u8>, max_flows: usize) -> (u64, dwell_decode::FileStats) {
    let opts = DecodeOptions {
        flows: Config { max_flows, ..Config::default() },
        ..DecodeOptions::default()
    };
    let mut d = FileDecoder::from_bytes("hostile.pcap", bytes, Some(Format::Pcap), &opts).unwrap();
    let mut n = 0;
    while d.next_event().is_some() {
        n += 1;
    }
    (n, d.stats().clone())
}

#[test]
fn a_syn_flood_from_random_sources_is_bounded_and_counted() {
    let mut x: u32 = 0x1234_5678;
    let frames: Vec<Vec<u8>> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            syn(x.to_be_bytes(), (x >> 16) as u16)
        })
        .collect();
    // All in one second of capture time: no flow can time out, so the cap must hold.
    let (events, stats) = decode(pcap(&frames), 1_000);
    assert_eq!(stats.records, 20_000);
    assert_eq!(events, 1_000, "one conn record per tracked flow");
    assert_eq!(stats.anomalies.get(&AnomalyKind::Dropped), Some(&1));
    let sample = stats.samples.iter().find(|s| s.kind == AnomalyKind::Dropped).unwrap();
    assert!(sample.detail.starts_with("19000 packets"), "{}", sample.detail);
}

#[test]
fn empty_zero_length_and_garbage_frames() {
    let frames = vec![vec![], vec![0u8; 1], vec![0xffu8; 14], syn([1, 2, 3, 4], 5), vec![0u8; 60]];
    let (events, stats) = decode(pcap(&frames), 100);
    assert_eq!(stats.records, 5);
    assert_eq!(events, 1);
    assert!(stats.anomaly_total() >= 2, "{:?}", stats.anomalies);
}

#[test]
fn wrong_magic_is_a_named_error() {
    let mut bytes = pcap(&[syn([1, 2, 3, 4], 5)]);
    bytes[0] = 0;
    let e =
        FileDecoder::from_bytes("bad.pcap", bytes, Some(Format::Pcap), &DecodeOptions::default());
    let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("bad.pcap") && msg.contains("not a pcap"), "{msg}");
}
