//! Windows event logs through dwell against the `evtx` crate's own JSON rendering, in
//! one run.
//!
//! `evtx_bench [ROUNDS] PATH...` (files or directories of `.evtx`): each round first
//! renders every record of every file to JSON text with the `evtx` crate — what
//! `evtx_dump -o json` does before writing — then runs `dwell analyze`'s whole pipeline
//! on the same files: decoding, the field mapping, every detector (and the Sigma rules
//! when `DWELL_SIGMA` names a directory), correlation. It prints records per CPU-second
//! for both and their ratio.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dwell_engine::{config, Inputs, RunOptions};

fn collect(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        if let Ok(rd) = std::fs::read_dir(p) {
            for e in rd.flatten() {
                collect(&e.path(), out);
            }
        }
    } else if p.extension().is_some_and(|x| x == "evtx") {
        out.push(p.to_path_buf());
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = match args.first().and_then(|a| a.parse().ok()) {
        Some(r) => {
            args.remove(0);
            r
        }
        None => 100,
    };
    let mut files = Vec::new();
    for a in &args {
        collect(Path::new(a), &mut files);
    }
    files.sort();
    if files.is_empty() {
        eprintln!("usage: evtx_bench [ROUNDS] PATH... (EVTX files or directories)");
        std::process::exit(2);
    }
    // The floor: every record rendered to JSON text by the evtx crate.
    let c0 = dwell_bench::cpu_seconds();
    let mut floor_records = 0u64;
    let mut json_bytes = 0u64;
    for _ in 0..rounds {
        for f in &files {
            let Ok(mut p) = evtx::EvtxParser::from_path(f) else { continue };
            for r in p.records_json().flatten() {
                floor_records += 1;
                json_bytes += r.data.len() as u64;
            }
        }
    }
    let floor_s = dwell_bench::cpu_seconds() - c0;
    // dwell: the whole analyze pipeline on the same files.
    let sigma: Vec<PathBuf> =
        std::env::var_os("DWELL_SIGMA").map(PathBuf::from).into_iter().collect();
    let (intel, _, _) = match config::load_rules(&[] as &[&Path], &sigma) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let opts = RunOptions::default();
    let c1 = dwell_bench::cpu_seconds();
    let mut dwell_records = 0u64;
    let mut findings = 0usize;
    for _ in 0..rounds {
        let inputs = match Inputs::resolve(&files, &opts.decode) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
        match dwell_engine::analyze(inputs, Default::default(), Arc::clone(&intel), &opts, |_| {}) {
            Ok(a) => {
                dwell_records += a.stats.events;
                findings = a.findings.len();
            }
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
    let dwell_s = dwell_bench::cpu_seconds() - c1;
    let rate = |n: u64, s: f64| n as f64 / s.max(1e-9);
    println!(
        "{} files x {rounds} rounds; sigma rules: {}",
        files.len(),
        if sigma.is_empty() { "none".to_string() } else { intel.sigma.len().to_string() }
    );
    println!(
        "evtx crate JSON rendering: {floor_records} records ({:.1} MB JSON) in {floor_s:.2} CPU-s = {:.0} records/CPU-s",
        json_bytes as f64 / 1e6,
        rate(floor_records, floor_s)
    );
    println!(
        "dwell analyze (decode + all detectors + correlation): {dwell_records} events in {dwell_s:.2} CPU-s = {:.0} records/CPU-s ({findings} findings per round)",
        rate(dwell_records, dwell_s)
    );
    println!(
        "ratio dwell/floor: {:.2}",
        rate(dwell_records, dwell_s) / rate(floor_records, floor_s)
    );
}
