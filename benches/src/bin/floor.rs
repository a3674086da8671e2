//! The floor for decode figures on real files: memchr line and field split.
//!
//! `floor FILE...` reads each file (gunzip if needed, outside the timed part), splits
//! it into lines and fields (tab for Zeek TSV, comma for JSON), and prints lines and MB
//! per CPU-second. Compare with `dwell decode --stats FILE...` on the same files.

use std::io::Read;
use std::time::Instant;

fn main() {
    let mut data = Vec::new();
    for p in std::env::args().skip(1) {
        let raw = std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
        if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            let mut d = gunzip(&raw);
            d.read_to_end(&mut out).unwrap_or_default();
            data.push(out);
        } else {
            data.push(raw);
        }
    }
    let cpu0 = dwell_bench::cpu_seconds();
    let t0 = Instant::now();
    let (mut lines, mut field_bytes, mut bytes) = (0u64, 0u64, 0u64);
    for d in &data {
        let sep = if d.first() == Some(&b'{') { b',' } else { b'\t' };
        let (l, f) = dwell_bench::floor_split(d, sep);
        lines += l;
        field_bytes += f;
        bytes += d.len() as u64;
    }
    let cpu = (dwell_bench::cpu_seconds() - cpu0).max(t0.elapsed().as_secs_f64().min(1e-3));
    println!(
        "floor: {lines} lines ({field_bytes} field bytes), {:.1} MB in {cpu:.3} CPU-s: {:.0} lines per CPU-second, {:.1} MB per CPU-second",
        bytes as f64 / 1e6,
        lines as f64 / cpu,
        bytes as f64 / cpu / 1e6
    );
}

/// Gunzip through dwell-decode's input layer.
fn gunzip(raw: &[u8]) -> Box<dyn Read + Send> {
    let opened = dwell_decode::input::from_reader(
        Box::new(std::io::Cursor::new(raw.to_vec())),
        raw.len() as u64,
        &dwell_decode::DecodeOptions::default(),
    )
    .unwrap_or_else(|e| panic!("gunzip: {e}"));
    opened.into_reader()
}
