//! Decode throughput per format and full analysis, each beside the floor (memchr line
//! and field split) over the same bytes. Run: `cargo bench -p dwell-bench`.

use std::sync::{Arc, OnceLock};

use divan::counter::{BytesCount, ItemsCount};
use divan::{black_box, Bencher};
use dwell_bench::{floor_split, synthetic};
use dwell_decode::{DecodeOptions, FileDecoder, Format};

const N: usize = 100_000;

fn conn_tsv() -> &'static [u8] {
    static D: OnceLock<Vec<u8>> = OnceLock::new();
    D.get_or_init(|| synthetic::conn_tsv(N))
}
fn conn_json() -> &'static [u8] {
    static D: OnceLock<Vec<u8>> = OnceLock::new();
    D.get_or_init(|| synthetic::conn_json(N))
}
fn eve() -> &'static [u8] {
    static D: OnceLock<Vec<u8>> = OnceLock::new();
    D.get_or_init(|| synthetic::eve(N))
}

/// Decodes bytes the decoder owns (copied outside the timed part: the floor reads the
/// same bytes in place).
fn decode(bytes: Vec<u8>, format: Format) -> u64 {
    let mut d = FileDecoder::from_bytes("bench", bytes, Some(format), &DecodeOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut n = 0;
    while let Some(ev) = d.next_event() {
        black_box(&ev);
        n += 1;
    }
    n
}

#[divan::bench]
fn floor_conn_tsv(b: Bencher) {
    let d = conn_tsv();
    b.counter(BytesCount::new(d.len()))
        .counter(ItemsCount::new(N))
        .bench(|| floor_split(black_box(d), b'\t'));
}

#[divan::bench]
fn zeek_tsv_conn(b: Bencher) {
    let d = conn_tsv();
    b.counter(BytesCount::new(d.len()))
        .counter(ItemsCount::new(N))
        .with_inputs(|| d.to_vec())
        .bench_local_values(|v| decode(v, Format::ZeekTsv));
}

#[divan::bench]
fn floor_conn_json(b: Bencher) {
    let d = conn_json();
    b.counter(BytesCount::new(d.len()))
        .counter(ItemsCount::new(N))
        .bench(|| floor_split(black_box(d), b','));
}

#[divan::bench]
fn zeek_json_conn(b: Bencher) {
    let d = conn_json();
    b.counter(BytesCount::new(d.len()))
        .counter(ItemsCount::new(N))
        .with_inputs(|| d.to_vec())
        .bench_local_values(|v| decode(v, Format::ZeekJson));
}

#[divan::bench]
fn floor_eve(b: Bencher) {
    let d = eve();
    b.counter(BytesCount::new(d.len()))
        .counter(ItemsCount::new(N))
        .bench(|| floor_split(black_box(d), b','));
}

#[divan::bench]
fn eve_mixed(b: Bencher) {
    let d = eve();
    b.counter(BytesCount::new(d.len()))
        .counter(ItemsCount::new(N))
        .with_inputs(|| d.to_vec())
        .bench_local_values(|v| decode(v, Format::Eve));
}

/// Decode + baselines + every detector over the conn.log, through the engine.
#[divan::bench(sample_count = 10)]
fn analyze_conn_tsv(b: Bencher) {
    let d = conn_tsv();
    b.counter(BytesCount::new(d.len())).counter(ItemsCount::new(N)).bench(|| {
        let profile = dwell_detect::OrgProfile::default();
        let mut engine = dwell_engine::pipeline::Engine::new(
            profile,
            Arc::new(dwell_detect::IntelSet::new()),
            60.0,
        )
        .unwrap();
        let dec = FileDecoder::from_bytes(
            "bench",
            d.to_vec(),
            Some(Format::ZeekTsv),
            &DecodeOptions::default(),
        )
        .unwrap();
        for ev in dec {
            engine.push(&ev);
        }
        black_box(engine.finish(&dwell_engine::Inputs::default()))
    });
}

/// The field parsers alone, over 100 000 distinct values each: what one field of a
/// record costs before any record plumbing.
#[divan::bench]
fn parse_ipv4(b: Bencher) {
    let ips: Vec<String> = (0..100_000u32)
        .map(|i| format!("10.{}.{}.{}", i % 4, (i * 7) % 256, (i * 13) % 254 + 1))
        .collect();
    b.counter(ItemsCount::new(ips.len())).bench(|| {
        let mut n = 0u32;
        for s in &ips {
            if let Some(std::net::IpAddr::V4(a)) = dwell_decode::value::parse_addr(black_box(s)) {
                n = n.wrapping_add(u32::from(a));
            }
        }
        n
    });
}

#[divan::bench]
fn parse_count(b: Bencher) {
    let v: Vec<String> = (0..100_000u64).map(|i| format!("{}", (i * 7919) % 100_000)).collect();
    b.counter(ItemsCount::new(v.len())).bench(|| {
        let mut n = 0u64;
        for s in &v {
            n = n.wrapping_add(dwell_decode::value::parse_u64(black_box(s)).unwrap_or(0));
        }
        n
    });
}

#[divan::bench]
fn parse_epoch_time(b: Bencher) {
    let v: Vec<String> =
        (0..100_000u64).map(|i| format!("17172{:05}.{:06}", i, (i * 7919) % 1_000_000)).collect();
    b.counter(ItemsCount::new(v.len())).bench(|| {
        let mut n = 0i64;
        for s in &v {
            n = n.wrapping_add(
                dwell_model::Timestamp::parse_epoch(black_box(s)).map(|t| t.0).unwrap_or(0),
            );
        }
        n
    });
}

fn main() {
    divan::main();
}
