//! `dwell analyze`.

use anyhow::Result;
use dwell_detect::OrgProfile;
use dwell_engine::{config, output, Inputs, RunOptions};

use crate::cli::{AnalyzeArgs, Format};
use crate::progress;

pub fn run(a: AnalyzeArgs) -> Result<()> {
    let profile = match &a.config {
        Some(p) => config::load_profile(p)?,
        None => OrgProfile::default(),
    };
    let (intel, reports, sigma) = config::load_rules(&a.intel, &a.sigma)?;
    let opts = RunOptions {
        reorder_window_s: a.reorder_window,
        baseline_in: a.baseline.clone(),
        baseline_out: a.save_baseline.clone(),
        // The process ends after the report.
        leave_state_to_exit: true,
        ..RunOptions::default()
    };
    let inputs = Inputs::resolve(&a.paths, &opts.decode)?;
    let pb = progress::bar(inputs.total_bytes(), a.quiet);
    let analysis =
        dwell_engine::analyze(inputs, profile, intel, &opts, |p| progress::update(&pb, p))?;
    if let Some(pb) = &pb {
        pb.finish_and_clear();
    }
    let written = output::write_all(&a.out, &analysis)?;
    match a.format {
        Format::Json => {
            use std::io::Write;
            writeln!(
                std::io::stdout().lock(),
                "{}",
                serde_json::to_string_pretty(&analysis.incidents)?
            )?
        }
        Format::Table => print!(
            "{}",
            dwell_report::table::incidents(&analysis.incidents.incidents, &analysis.findings)
        ),
    }
    if !a.quiet {
        let mut extra = Vec::new();
        for (name, r) in &reports {
            let mut line = format!("intel {name}: {} indicators", r.loaded);
            if r.unsupported > 0 {
                let samples: Vec<String> =
                    r.samples.iter().map(|(l, t)| format!("line {l}: {t:?}")).collect();
                line.push_str(&format!(
                    ", {} lines not understood ({})",
                    r.unsupported,
                    samples.join("; ")
                ));
            }
            extra.push(line);
        }
        for (dir, r) in &sigma {
            let fired: std::collections::BTreeSet<&str> = analysis
                .findings
                .iter()
                .filter(|f| f.detector == "sigma")
                .filter_map(|f| f.evidence.get("rule_title").and_then(|t| t.as_str()))
                .collect();
            extra.push(format!(
                "sigma {dir}: {} of {} rule files compiled, {} rules fired{}",
                r.compiled,
                r.files,
                fired.len(),
                if r.unsupported.is_empty() { String::new() } else { "; not compiled:".into() }
            ));
            for (f, why) in &r.unsupported {
                extra.push(format!("  {}: {why}", f.display()));
            }
        }
        let strong = analysis.findings.iter().filter(|f| f.score >= 50.0).count();
        extra.push(format!(
            "{} findings ({} with score ≥ 50), {} incidents; report: {}",
            analysis.findings.len(),
            strong,
            analysis.incidents.incidents.len(),
            written.report.display()
        ));
        eprint!("{}", progress::summary(&analysis.inputs, &analysis.stats, &extra));
    }
    Ok(())
}
