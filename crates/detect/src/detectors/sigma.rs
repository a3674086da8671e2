//! `sigma`: the user's Sigma rules, evaluated on every event.
//!
//! **Finds.** Whatever the rules given with `--sigma DIR` describe: SigmaHQ's process
//! creation, image load, LSASS access, service install, remote-access tool and network
//! rules, or an organisation's own. dwell adds what a rule engine alone lacks: the match
//! lands on the same entity as the network findings, and joins their incident.
//!
//! **ATT&CK.** The rule's `attack.tNNNN` tags; stage from its first tactic tag
//! (`execution` when it has none).
//!
//! **Inputs.** Every event kind a loaded rule's log source maps to (see
//! `dwell_detect::sigma` for the mapping): Windows records under Sysmon's field names,
//! network records under Zeek's.
//!
//! **Method.** Rules are compiled once at start (selections, modifiers and conditions
//! into matchers) and indexed by event kind; each event is tested against the rules of
//! its kind only. A match emits a finding per (rule, computer or host) that later
//! matches extend.
//!
//! **Thresholds and why.** The rule's level sets the score: informational 15, low 35,
//! medium 50, high 70, critical 90 — the rule author's judgement, unchanged.
//!
//! **Known false positives.** Those of the rules (SigmaHQ lists them per rule under
//! `falsepositives`). **Known misses.** Rules that do not compile (aggregations,
//! `utf16` modifiers, log sources dwell has no events for) — listed at the end of the
//! run with the reason.
//!
//! **References.** Sigma specification (sigmahq.io); SigmaHQ rule repository.

use std::sync::Arc;

use dwell_model::{Body, Event, Kind, Stage, Technique};
use serde_json::json;

use crate::ctx::{Ctx, Draft};
use crate::detector_config;
use crate::intel::IntelSet;
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Settings of `sigma`.
    pub struct Config {
        /// Lowest rule level reported (`informational`, `low`, `medium`, `high`, `critical`).
        pub min_level: String = "low".to_string(),
    }
}

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "sigma",
    title: "Sigma rule",
    stage: Stage::Execution,
    attack: &[Technique::must("T1059")],
    inputs: Kind::ALL,
    doc: "The Sigma rules given with --sigma, compiled once and evaluated on every event of \
          the kinds their log sources map to; score from the rule's level, ATT&CK ids and stage \
          from its tags.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    let min = match cfg.min_level.as_str() {
        "informational" => 0.0,
        "low" => 35.0,
        "medium" => 50.0,
        "high" => 70.0,
        "critical" => 90.0,
        other => {
            return Err(ConfigError {
                detector: META.id.into(),
                reason: format!(
                    "min_level {other:?}: expected informational, low, medium, high or critical"
                ),
            })
        }
    };
    Ok(Box::new(Sigma { intel: Arc::clone(cx.intel), min }))
}

/// The detector.
pub struct Sigma {
    /// The run's indicator set, whose `sigma` rules this evaluates (shared, not copied:
    /// the rules and their prefilter are built once per set, not once per run).
    intel: Arc<IntelSet>,
    min: f64,
}

impl Detector for Sigma {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn inputs(&self) -> Vec<Kind> {
        self.intel.sigma.kinds()
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        for r in self.intel.sigma.matches(ev) {
            let score = r.level.score();
            if score < self.min {
                continue;
            }
            let (entity, what) = match &ev.body {
                Body::Win(w) => (
                    cx.host_entity(&w.computer),
                    format!(
                        "{}: {} (event {} in {})",
                        w.computer,
                        w.get("CommandLine")
                            .or(w.get("ImageLoaded"))
                            .or(w.get("Image"))
                            .or(w.get("ImagePath"))
                            .unwrap_or(""),
                        w.event_id,
                        w.channel
                    ),
                ),
                other => match other.flow() {
                    Some(f) => {
                        (cx.entity(f.orig_h), format!("{} → {}:{}", f.orig_h, f.resp_h, f.resp_p))
                    }
                    None => continue,
                },
            };
            let summary =
                format!("Sigma rule \"{}\" ({}) matched on {what}", r.title, r.level.as_str());
            let mut d = Draft::new(entity, ev.ts(), score, summary);
            d.sources.push(ev.header.src);
            d.discriminator = r.id.clone();
            d.title = Some(format!("Sigma: {}", r.title));
            d.stage = Some(r.stage.unwrap_or(Stage::Execution));
            d.attack = Some(r.attack.clone());
            if let serde_json::Value::Object(m) = json!({
                "rule_id": r.id,
                "rule_title": r.title,
                "level": r.level.as_str(),
                "rule_file": r.path.display().to_string(),
            }) {
                d.evidence = m;
            }
            cx.emit(d);
        }
    }
}

#[cfg(test)]
mod tests;
