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

fn decode(bytes: &[u8], format: Format) -> u64 {
    let mut d =
        FileDecoder::from_bytes("bench", bytes.to_vec(), Some(format), &DecodeOptions::default())
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
        .bench(|| decode(d, Format::ZeekTsv));
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
        .bench(|| decode(d, Format::ZeekJson));
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
        .bench(|| decode(d, Format::Eve));
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

fn main() {
    divan::main();
}
