//! `dwell detectors`: what each detector finds, its ATT&CK ids, inputs and thresholds.

use anyhow::Result;
use dwell_detect::ALL;

use crate::cli::{DetectorsArgs, ListFormat};

pub fn run(a: DetectorsArgs) -> Result<()> {
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
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        ListFormat::Text => {
            for r in ALL {
                let m = r.meta;
                let attack: Vec<String> = m.attack.iter().map(|t| t.to_string()).collect();
                let inputs: Vec<&str> = m.inputs.iter().map(|k| k.as_str()).collect();
                println!("{}  {}", m.id, m.title);
                println!("  stage: {}   ATT&CK: {}", m.stage, attack.join(", "));
                println!("  inputs: {}", inputs.join(", "));
                println!("  {}", m.doc);
                println!("  thresholds ([detectors.{}] in the org profile):", m.id);
                for p in (m.params)() {
                    println!("    {} = {}  # {}", p.name, p.default, p.doc);
                }
                println!();
            }
        }
    }
    Ok(())
}
