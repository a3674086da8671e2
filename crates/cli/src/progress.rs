//! Progress bar on stderr for long runs (only when stderr is a terminal and the inputs
//! are over a few MB), and the closing summary.

use std::io::IsTerminal;

use dwell_engine::{Inputs, Progress, RunStats};
use indicatif::{ProgressBar, ProgressStyle};

/// Inputs smaller than this finish before a bar would help.
const BAR_MIN_BYTES: u64 = 4 << 20;

/// A progress bar, or nothing.
pub fn bar(total: u64, quiet: bool) -> Option<ProgressBar> {
    if quiet || total < BAR_MIN_BYTES || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {wide_bar} {msg} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(pb)
}

/// A bar over a fraction (0..1000 per mille) for work measured in time, not bytes.
pub fn fraction_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = ProgressBar::new(1000);
    pb.set_style(
        ProgressStyle::with_template("{spinner} {wide_bar} {percent}% ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(pb)
}

/// Updates a bar from the engine's progress callback.
pub fn update(pb: &Option<ProgressBar>, p: Progress) {
    if let Some(pb) = pb {
        pb.set_position(p.bytes.min(p.total));
        pb.set_message(format!("{} events", p.events));
    }
}

/// The closing summary: records per kind, anomalies with their first samples, skipped
/// files, drops, time and rate.
pub fn summary(inputs: &Inputs, stats: &RunStats, extra: &[String]) -> String {
    let mut out = String::new();
    let totals = stats.totals();
    let kinds: Vec<String> =
        totals.events.iter().map(|(k, n)| format!("{} {n}", k.as_str())).collect();
    let secs = stats.elapsed.as_secs_f64().max(1e-9);
    out.push_str(&format!(
        "decoded {} records from {} file{} in {:.2} s ({:.0} records/s, {:.1} MB/s): {}\n",
        totals.records,
        inputs.files.len(),
        if inputs.files.len() == 1 { "" } else { "s" },
        secs,
        totals.records as f64 / secs,
        totals.bytes as f64 / secs / 1e6,
        if kinds.is_empty() { "no events".to_string() } else { kinds.join(", ") }
    ));
    if !totals.skipped.is_empty() {
        let s: Vec<String> = totals.skipped.iter().map(|(k, n)| format!("{k} {n}")).collect();
        out.push_str(&format!("records of types not modelled (skipped): {}\n", s.join(", ")));
    }
    let anomalies = totals.anomaly_total();
    if anomalies > 0 {
        let a: Vec<String> = totals.anomalies.iter().map(|(k, n)| format!("{k} {n}")).collect();
        out.push_str(&format!("malformed records: {anomalies} ({})\n", a.join(", ")));
        let mut shown = 0;
        for (i, f) in stats.files.iter().enumerate() {
            for s in &f.samples {
                if shown < 5 {
                    out.push_str(&format!(
                        "  {}:{}: {}: {}\n",
                        inputs.files[i].path.display(),
                        s.record,
                        s.kind,
                        s.detail
                    ));
                    shown += 1;
                }
            }
        }
    }
    if stats.late > 0 {
        out.push_str(&format!(
            "{} events arrived later than the reorder window (delivered, out of order)\n",
            stats.late
        ));
    }
    if stats.certs > 0 {
        out.push_str(&format!("{} certificates joined from x509 logs\n", stats.certs));
    }
    if !inputs.skipped.is_empty() {
        out.push_str(&format!(
            "skipped {} file{} that are not telemetry dwell reads:\n",
            inputs.skipped.len(),
            if inputs.skipped.len() == 1 { "" } else { "s" }
        ));
        for s in inputs.skipped.iter().take(8) {
            out.push_str(&format!("  {}: {}\n", s.path.display(), s.reason));
        }
        if inputs.skipped.len() > 8 {
            out.push_str(&format!("  ... and {} more\n", inputs.skipped.len() - 8));
        }
    }
    let drops: Vec<String> =
        stats.metrics.counters.iter().map(|(k, v)| format!("{k} {v}")).collect();
    if !drops.is_empty() {
        out.push_str(&format!("counters: {}\n", drops.join(", ")));
    }
    for e in extra {
        out.push_str(e);
        out.push('\n');
    }
    out
}
