//! `dwell simulate` and `dwell eval`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use dwell_engine::EngineError;
use dwell_model::{Finding, IncidentsFile};
use dwell_sim::{eval, truth::Truth, Scenario, SimConfig};

use crate::cli::{EvalArgs, SimulateArgs};

pub fn simulate(a: SimulateArgs) -> Result<()> {
    let Some(scenario) = Scenario::parse(&a.scenario) else {
        bail!(EngineError::Usage(format!(
            "--scenario {}: expected none, smash_and_grab, low_and_slow or both",
            a.scenario
        )));
    };
    let Some(format) = dwell_sim::Format::parse(&a.format) else {
        bail!(EngineError::Usage(format!("--format {}: expected zeek, pcap or both", a.format)));
    };
    let cfg = SimConfig {
        seed: a.seed,
        hosts: a.hosts,
        days: a.days,
        scenario,
        endpoint: a.endpoint,
        format,
        ..SimConfig::default()
    };
    let summary = dwell_sim::simulate(&cfg, &a.out, |_| {}).map_err(|e| match e {
        dwell_sim::SimError::Usage(m) => anyhow::Error::new(EngineError::Usage(m)),
        other => anyhow::Error::new(other),
    })?;
    let count = |k: &str| summary.counts.iter().find(|(n, _)| *n == k).map(|(_, n)| *n);
    let lines: Vec<String> = summary.counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let rate = match (count("conn"), count("packets")) {
        (Some(c), _) => format!("{:.0} conn records/s", c as f64 / summary.elapsed_s.max(1e-9)),
        (None, Some(p)) => format!("{:.0} packets/s", p as f64 / summary.elapsed_s.max(1e-9)),
        _ => String::new(),
    };
    eprintln!(
        "wrote {} in {:.2} s ({rate}): {}; ground truth: {}\nanalyse with the organisation's profile: dwell analyze {} --config {}",
        a.out.display(),
        summary.elapsed_s,
        lines.join(", "),
        summary.truth.display(),
        a.out.display(),
        summary.profile.display()
    );
    Ok(())
}

/// Reads findings.jsonl and incidents.json from a results directory.
pub fn read_results(dir: &Path) -> Result<(Vec<Finding>, IncidentsFile)> {
    let fpath = dir.join("findings.jsonl");
    let text = std::fs::read_to_string(&fpath)
        .map_err(|e| EngineError::Usage(format!("{}: cannot read: {e}", fpath.display())))?;
    let mut findings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        findings.push(
            serde_json::from_str(line).with_context(|| format!("{}:{}", fpath.display(), i + 1))?,
        );
    }
    let ipath = dir.join("incidents.json");
    let text = std::fs::read_to_string(&ipath)
        .map_err(|e| EngineError::Usage(format!("{}: cannot read: {e}", ipath.display())))?;
    let incidents = serde_json::from_str(&text).with_context(|| ipath.display().to_string())?;
    Ok((findings, incidents))
}

/// Reads a truth.json.
pub fn read_truth(path: &Path) -> Result<Truth> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EngineError::Usage(format!("{}: cannot read: {e}", path.display())))?;
    serde_json::from_str(&text).with_context(|| path.display().to_string())
}

pub fn eval(a: EvalArgs) -> Result<()> {
    let truth = read_truth(&a.truth)?;
    let Some(dir) = a.results.or(a.out) else {
        anyhow::bail!("name the results directory (RESULTS_DIR or --out DIR)");
    };
    let (findings, incidents) = read_results(&dir)?;
    let report = eval::evaluate(&truth, &findings, &incidents);
    let path = dir.join("eval.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
    if a.json {
        use std::io::Write;
        writeln!(std::io::stdout().lock(), "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print!("{}", eval::table(&report));
    }
    Ok(())
}
