//! `dwell detectors`: what each detector finds, its ATT&CK ids, inputs and thresholds.

use std::io::Write;

use anyhow::Result;
use dwell_detect::ALL;

use crate::cli::{DetectorsArgs, ListFormat};

pub fn run(a: DetectorsArgs) -> Result<()> {
    // Written through a locked handle so that a closed pipe is an error we can hand back
    // (and treat as success), not a panic inside `println!`.
    let mut out = std::io::stdout().lock();
    match a.format {
        ListFormat::Json => {
            let list: Vec<serde_json::Value> = ALL
                .iter()
                .map(|r| {
                    let m = r.meta;
                    serde_json::json!({
                        "id": m.id,
                        "title": m.title,
                        "stage": m.stage,
                        "attack": m.attack,
                        "inputs": m.inputs,
                        "doc": m.doc,
                        "thresholds": (m.params)(),
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        }
        ListFormat::Text => {
            for r in ALL {
                let m = r.meta;
                let attack: Vec<String> = m.attack.iter().map(|t| t.to_string()).collect();
                let inputs: Vec<&str> = m.inputs.iter().map(|k| k.as_str()).collect();
                writeln!(out, "{}  {}", m.id, m.title)?;
                writeln!(out, "  stage: {}   ATT&CK: {}", m.stage, attack.join(", "))?;
                writeln!(out, "  inputs: {}", inputs.join(", "))?;
                writeln!(out, "  {}", m.doc)?;
                writeln!(out, "  thresholds ([detectors.{}] in the org profile):", m.id)?;
                for p in (m.params)() {
                    writeln!(out, "    {} = {}  # {}", p.name, p.default, p.doc)?;
                }
                writeln!(out)?;
            }
        }
    }
    Ok(())
}
