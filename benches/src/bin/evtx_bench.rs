//! Windows event logs through dwell against the `evtx` crate's own JSON rendering, in
//! one run.
//!
//! `evtx_bench [ROUNDS] PATH...` (files or directories of `.evtx`): the floor renders
//! every record of every file to JSON text with the `evtx` crate — what `evtx_dump -o
//! json` does before writing — and dwell runs `analyze`'s whole pipeline on the same
//! files: decoding, the field mapping, every detector (and the Sigma rules when
//! `DWELL_SIGMA` names a directory), correlation. Each does ROUNDS rounds, in
//! alternating blocks. It prints records per CPU-second (user and system time apart)
//! for both and their ratio. With `DWELL_BENCH_NO_FLOOR` set only dwell runs (to
//! profile it alone).
//!
//! `--copies N` measures one large log instead of many small ones: the chunks of every
//! file, N times over, are written under one file header into a temporary `.evtx`
//! (chunks are self-contained: each carries its own string and template tables), so
//! per-file and per-run costs (opening, engine set-up, correlation) are paid once, as
//! on a real Security.evtx of hundreds of MB. The file is removed afterwards.

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

/// CRC-32 (IEEE), bit by bit: the file header's checksum covers 120 bytes.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// One EVTX file holding every chunk of `files`, `copies` times over, with a file
/// header whose chunk count, last chunk number and checksum say so.
fn concatenate(files: &[PathBuf], copies: usize, out: &Path) -> std::io::Result<(u64, usize)> {
    const HEADER: usize = 4096;
    const CHUNK: usize = 65_536;
    let mut header: Option<Vec<u8>> = None;
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    for f in files {
        let data = std::fs::read(f)?;
        if data.len() < HEADER || !data.starts_with(b"ElfFile\0") {
            continue;
        }
        if header.is_none() {
            header = Some(data[..HEADER].to_vec());
        }
        let mut off = HEADER;
        while let Some(c) = data.get(off..off + CHUNK) {
            if c.starts_with(b"ElfChnk\0") {
                chunks.push(c.to_vec());
            }
            off += CHUNK;
        }
    }
    let Some(mut header) = header else {
        return Err(std::io::Error::other("no EVTX file with a header"));
    };
    let total = chunks.len() * copies;
    header[16..24].copy_from_slice(&(total as u64).saturating_sub(1).to_le_bytes());
    header[42..44].copy_from_slice(&u16::try_from(total).unwrap_or(u16::MAX).to_le_bytes());
    let crc = crc32(&header[..120]);
    header[124..128].copy_from_slice(&crc.to_le_bytes());
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    std::io::Write::write_all(&mut w, &header)?;
    for _ in 0..copies {
        for c in &chunks {
            std::io::Write::write_all(&mut w, c)?;
        }
    }
    std::io::Write::flush(&mut w)?;
    Ok(((HEADER + total * CHUNK) as u64, total))
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let copies: Option<usize> = match args.iter().position(|a| a == "--copies") {
        Some(i) => {
            let n = args.get(i + 1).and_then(|v| v.parse().ok());
            args.drain(i..(i + 2).min(args.len()));
            match n {
                Some(n) if n > 0 => Some(n),
                _ => {
                    eprintln!("--copies takes a positive number");
                    std::process::exit(2);
                }
            }
        }
        None => None,
    };
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
        eprintln!("usage: evtx_bench [ROUNDS] [--copies N] PATH... (EVTX files or directories)");
        std::process::exit(2);
    }
    let big = std::env::temp_dir().join(format!("dwell-evtx-bench-{}.evtx", std::process::id()));
    if let Some(n) = copies {
        match concatenate(&files, n, &big) {
            Ok((bytes, chunks)) => {
                println!(
                    "one file of {chunks} chunks ({:.1} MB): every chunk of {} files, {n} times",
                    bytes as f64 / 1e6,
                    files.len()
                );
                files = vec![big.clone()];
            }
            Err(e) => {
                eprintln!("{}: {e}", big.display());
                std::process::exit(2);
            }
        }
    }
    let sigma: Vec<PathBuf> =
        std::env::var_os("DWELL_SIGMA").map(PathBuf::from).into_iter().collect();
    let (intel, _, _) = match config::load_rules(&[] as &[&Path], &sigma) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            let _ = std::fs::remove_file(&big);
            std::process::exit(2);
        }
    };
    let opts = RunOptions::default();
    // The floor: every record rendered to JSON text by the evtx crate.
    let floor_round = |records: &mut u64, bytes: &mut u64| {
        for f in &files {
            let Ok(mut p) = evtx::EvtxParser::from_path(f) else { continue };
            for r in p.records_json().flatten() {
                *records += 1;
                *bytes += r.data.len() as u64;
            }
        }
    };
    // dwell: the whole analyze pipeline on the same files.
    let dwell_round = |records: &mut u64, findings: &mut usize| -> Result<(), (i32, String)> {
        let inputs = Inputs::resolve(&files, &opts.decode).map_err(|e| (2, e.to_string()))?;
        let a =
            dwell_engine::analyze(inputs, Default::default(), Arc::clone(&intel), &opts, |_| {})
                .map_err(|e| (1, e.to_string()))?;
        *records += a.stats.events;
        *findings = a.findings.len();
        Ok(())
    };
    // The two run in alternating blocks of rounds, each block starting with the one
    // the last block ended with, so that drift in the machine's speed (other load,
    // clock changes) falls on both alike. A block spans many 10 ms ticks of the CPU
    // clock the kernel reports.
    let blocks = rounds.clamp(1, 20);
    let no_floor = std::env::var_os("DWELL_BENCH_NO_FLOOR").is_some();
    let (mut floor_records, mut json_bytes, mut dwell_records, mut findings) =
        (0u64, 0u64, 0u64, 0);
    let (mut floor_cpu, mut dwell_cpu) = ((0.0f64, 0.0f64), (0.0f64, 0.0f64));
    for b in 0..blocks {
        let n = rounds / blocks + usize::from(b < rounds % blocks);
        for floor_now in if no_floor {
            vec![false]
        } else if b % 2 == 0 {
            vec![true, false]
        } else {
            vec![false, true]
        } {
            let c0 = dwell_bench::cpu_split();
            for _ in 0..n {
                if floor_now {
                    floor_round(&mut floor_records, &mut json_bytes);
                } else if let Err((code, e)) = dwell_round(&mut dwell_records, &mut findings) {
                    eprintln!("{e}");
                    let _ = std::fs::remove_file(&big);
                    std::process::exit(code);
                }
            }
            let c1 = dwell_bench::cpu_split();
            let acc = if floor_now { &mut floor_cpu } else { &mut dwell_cpu };
            acc.0 += c1.0 - c0.0;
            acc.1 += c1.1 - c0.1;
        }
    }
    let ((floor_user, floor_sys), (dwell_user, dwell_sys)) = (floor_cpu, dwell_cpu);
    let (floor_s, dwell_s) = (floor_user + floor_sys, dwell_user + dwell_sys);
    let _ = std::fs::remove_file(&big);
    let rate = |n: u64, s: f64| n as f64 / s.max(1e-9);
    println!(
        "{} files x {rounds} rounds; sigma rules: {}",
        files.len(),
        if sigma.is_empty() { "none".to_string() } else { intel.sigma.len().to_string() }
    );
    println!(
        "evtx crate JSON rendering: {floor_records} records ({:.1} MB JSON) in {floor_s:.2} CPU-s ({floor_user:.2} user, {floor_sys:.2} system) = {:.0} records/CPU-s",
        json_bytes as f64 / 1e6,
        rate(floor_records, floor_s)
    );
    println!(
        "dwell analyze (decode + all detectors + correlation): {dwell_records} events in {dwell_s:.2} CPU-s ({dwell_user:.2} user, {dwell_sys:.2} system) = {:.0} records/CPU-s ({findings} findings per round)",
        rate(dwell_records, dwell_s)
    );
    if !no_floor {
        println!(
            "ratio dwell/floor: {:.2}",
            rate(dwell_records, dwell_s) / rate(floor_records, floor_s)
        );
    }
}
