//! `dwell demo`: simulate a small enterprise with both intrusions, analyse it, write
//! the report, evaluate against the ground truth.

use std::sync::Arc;

use anyhow::Result;
use dwell_detect::IntelSet;
use dwell_engine::{config, output, Inputs, RunOptions};
use dwell_sim::{eval, Scenario, SimConfig};

use crate::cli::DemoArgs;
use crate::progress;

pub fn run(a: DemoArgs) -> Result<()> {
    let sim_dir = a.out.join("sim");
    let cfg = SimConfig {
        seed: a.seed,
        hosts: 50,
        days: 4.0,
        scenario: Scenario::Both,
        endpoint: true,
        ..SimConfig::default()
    };
    eprintln!(
        "simulating {} hosts for {} days with a smash-and-grab and a low-and-slow intrusion (seed {}) ...",
        cfg.hosts, cfg.days, cfg.seed
    );
    let pb = progress::fraction_bar();
    let sim = dwell_sim::simulate(&cfg, &sim_dir, |f| {
        if let Some(b) = &pb {
            b.set_position((f * 1000.0) as u64);
        }
    })?;
    if let Some(b) = &pb {
        b.finish_and_clear();
    }
    let conn = sim.counts.iter().find(|(k, _)| *k == "conn").map_or(0, |(_, n)| *n);
    eprintln!(
        "  {} conn records and their dns/ssl/x509/http/dce_rpc/smb logs, {} Windows records, in {:.1} s",
        conn,
        sim.counts.iter().find(|(k, _)| *k == "winlog").map_or(0, |(_, n)| *n),
        sim.elapsed_s
    );
    // The organisation's profile as the simulator wrote it (what its SOC would hold).
    let text = std::fs::read_to_string(&sim.profile)
        .map_err(|e| anyhow::anyhow!("{}: {e}", sim.profile.display()))?;
    let profile = config::parse_profile(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", sim.profile.display()))?;
    let opts = RunOptions { leave_state_to_exit: true, ..RunOptions::default() };
    let inputs = Inputs::resolve(std::slice::from_ref(&sim_dir), &opts.decode)?;
    let pb = progress::bar(inputs.total_bytes(), false);
    let analysis = dwell_engine::analyze(inputs, profile, Arc::new(IntelSet::new()), &opts, |p| {
        progress::update(&pb, p)
    })?;
    if let Some(b) = &pb {
        b.finish_and_clear();
    }
    let written = output::write_all(&a.out, &analysis)?;
    print!("{}", dwell_report::table::incidents(&analysis.incidents.incidents, &analysis.findings));
    let truth = crate::sim::read_truth(&sim.truth)?;
    let report = eval::evaluate(&truth, &analysis.findings, &analysis.incidents);
    std::fs::write(a.out.join("eval.json"), serde_json::to_string_pretty(&report)? + "\n")?;
    println!("\nEvaluation against the simulation's ground truth ({}):", sim.truth.display());
    print!("{}", eval::table(&report));
    eprintln!("\n{}", progress::summary(&analysis.inputs, &analysis.stats, &[]).trim_end());
    println!("\nreport: {}", written.report.display());
    Ok(())
}
