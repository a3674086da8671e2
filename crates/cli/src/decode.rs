//! `dwell decode`: normalised events as JSON lines, or counts (`--stats`).

use std::io::Write;
use std::time::Instant;

use anyhow::{bail, Result};
use dwell_engine::pipeline::{events, RunStats};
use dwell_engine::{Inputs, RunOptions};
use dwell_model::Kind;

use crate::cli::DecodeArgs;
use crate::progress;

pub fn run(a: DecodeArgs) -> Result<()> {
    let mut kinds = Vec::new();
    for k in &a.kind {
        match Kind::parse(k.trim()) {
            Some(k) => kinds.push(k),
            None => {
                let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                bail!(dwell_engine::EngineError::Usage(format!(
                    "--kind {k}: no such kind (known: {})",
                    known.join(", ")
                )));
            }
        }
    }
    let opts = RunOptions { reorder_window_s: a.reorder_window, ..RunOptions::default() };
    let inputs = Inputs::resolve(&a.paths, &opts.decode)?;
    let started = Instant::now();
    if a.stats {
        return stats_only(&inputs, &opts, started);
    }
    let (mut merge, certs) = events(&inputs, &opts);
    if let Some(dir) = &a.zeek_out {
        let open_us = inputs.files.iter().filter_map(|f| f.first_ts).min().map_or(0, |t| t.0);
        let out_err = |e: std::io::Error| {
            dwell_engine::EngineError::Output(format!("{}: {e}", dir.display()))
        };
        let mut w = dwell_decode::zeek::out::ZeekWriter::create(dir, open_us).map_err(out_err)?;
        let (mut n, mut last) = (0u64, open_us);
        for ev in merge.by_ref() {
            n += 1;
            last = last.max(ev.ts().0);
            if !kinds.is_empty() && !kinds.contains(&ev.kind()) {
                continue;
            }
            w.write(&ev).map_err(out_err)?;
        }
        let counts = w.close(last).map_err(out_err)?;
        let lines: Vec<String> = counts.iter().map(|(p, k)| format!("{p}.log {k}")).collect();
        eprintln!("{n} events decoded; wrote {} into {}", lines.join(", "), dir.display());
        return Ok(());
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut n = 0u64;
    let mut span = None;
    for ev in merge.by_ref() {
        n += 1;
        let ts = ev.ts();
        span = Some(match span {
            None => (ts, ts),
            Some((x, y)) => (ts.min(x), ts.max(y)),
        });
        if !kinds.is_empty() && !kinds.contains(&ev.kind()) {
            continue;
        }
        let name = inputs.name(ev.header.src.file);
        serde_json::to_writer(&mut out, &dwell_decode::normal::to_json(&ev, &name))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let mut files = vec![Default::default(); inputs.files.len()];
    for (id, st) in std::mem::take(&mut merge.finished) {
        files[id] = st;
    }
    let stats = RunStats {
        files,
        events: n,
        late: merge.late,
        certs,
        elapsed: started.elapsed(),
        span,
        ..Default::default()
    };
    let t = stats.totals();
    if t.anomaly_total() > 0 || !inputs.skipped.is_empty() {
        eprint!("{}", progress::summary(&inputs, &stats, &[]));
    }
    Ok(())
}

/// `--stats`: decode every file straight through (no time ordering is needed to
/// count), then print counts, anomalies and throughput per CPU-second.
fn stats_only(inputs: &Inputs, opts: &RunOptions, started: Instant) -> Result<()> {
    let cpu0 = cpu_seconds().unwrap_or(0.0);
    let mut decode = opts.decode.clone();
    let certs = dwell_engine::pipeline::load_certs(inputs, &decode);
    let ncerts = certs.len();
    decode.certs = Some(std::sync::Arc::new(certs));
    let mut files = Vec::with_capacity(inputs.files.len());
    let mut n = 0u64;
    for id in 0..inputs.files.len() {
        let mut d = inputs.open(id, &decode)?;
        while let Some(ev) = d.next_event() {
            std::hint::black_box(&ev);
            n += 1;
        }
        files.push(d.stats().clone());
    }
    let stats = RunStats {
        files,
        events: n,
        certs: ncerts,
        elapsed: started.elapsed(),
        ..Default::default()
    };
    print!("{}", progress::summary(inputs, &stats, &[]));
    if let Some(cpu) = cpu_seconds() {
        let cpu = cpu - cpu0;
        let t = stats.totals();
        if cpu < 0.05 {
            println!("cpu {cpu:.2} s: too short to give a rate per CPU-second (the clock ticks every 10 ms)");
            return Ok(());
        }
        println!(
            "cpu {:.2} s: {:.0} records per CPU-second, {:.1} MB per CPU-second",
            cpu,
            t.records as f64 / cpu,
            t.bytes as f64 / cpu / 1e6
        );
    }
    Ok(())
}

/// CPU time of this process (user + system), from /proc on Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
