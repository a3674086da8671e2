//! `attack-layer.json`: the techniques seen, as a MITRE ATT&CK Navigator layer (format
//! 4.5), scored by the strongest finding that named each and commented with the
//! detectors and how many findings.

use std::collections::BTreeMap;

use dwell_model::Finding;
use serde_json::{json, Value};

/// The layer for `findings` (findings below `min_score` are left out).
pub fn layer(findings: &[Finding], min_score: f64) -> Value {
    // technique → (best score, findings, detectors)
    let mut by: BTreeMap<String, (f64, usize, Vec<String>)> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.score >= min_score) {
        for t in &f.attack {
            let e = by.entry(t.to_string()).or_insert((0.0, 0, Vec::new()));
            e.0 = e.0.max(f.score);
            e.1 += 1;
            if !e.2.contains(&f.detector) {
                e.2.push(f.detector.clone());
            }
        }
    }
    let techniques: Vec<Value> = by
        .iter()
        .map(|(id, (score, n, dets))| {
            json!({
                "techniqueID": id,
                "score": (score * 10.0).round() / 10.0,
                "comment": format!("{n} finding{} by {}", if *n == 1 { "" } else { "s" }, dets.join(", ")),
                "enabled": true,
                "showSubtechniques": true,
            })
        })
        .collect();
    json!({
        "name": "dwell findings",
        "versions": {"attack": "16", "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "description": format!("Techniques named by dwell findings with a score of {min_score} or more"),
        "sorting": 3,
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {"colors": ["#fff7ec", "#fc8d59", "#7f0000"], "minValue": 0, "maxValue": 100},
        "legendItems": [],
        "metadata": [],
        "showTacticRowBackground": false,
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwell_model::{Entity, Stage, Technique, Timestamp};

    fn f(score: f64, t: &str, det: &str) -> Finding {
        Finding {
            id: format!("{det}-{t}"),
            time: Timestamp(0),
            end: Timestamp(0),
            detector: det.into(),
            title: "t".into(),
            stage: Stage::Execution,
            attack: vec![Technique::parse(t).unwrap()],
            score,
            entity: Entity::ip("10.0.0.1".parse().unwrap()),
            peer: None,
            summary: String::new(),
            evidence: Default::default(),
            sources: Vec::new(),
        }
    }

    #[test]
    fn techniques_scored_by_their_strongest_finding() {
        let l = layer(
            &[f(60.0, "T1105", "lolbin"), f(80.0, "T1105", "sigma"), f(30.0, "T1046", "scan")],
            50.0,
        );
        let ts = l["techniques"].as_array().unwrap();
        assert_eq!(ts.len(), 1, "below-threshold findings are left out");
        assert_eq!(ts[0]["techniqueID"], "T1105");
        assert_eq!(ts[0]["score"], 80.0);
        assert_eq!(ts[0]["comment"], "2 findings by lolbin, sigma");
        assert_eq!(l["domain"], "enterprise-attack");
    }
}
