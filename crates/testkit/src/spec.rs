//! A validator of `dwell analyze` output against `spec/findings.md`, written from the
//! spec's tables (field by field, type by type), independent of the model crate, so a
//! serialisation slip in the model is caught.

use std::collections::HashSet;
use std::path::Path;

use serde_json::{Map, Value};

const STAGES: &[&str] = &[
    "initial_access",
    "execution",
    "persistence",
    "privilege_escalation",
    "defense_evasion",
    "credential_access",
    "discovery",
    "lateral_movement",
    "collection",
    "command_and_control",
    "exfiltration",
    "impact",
];

fn is_rfc3339(s: &str) -> bool {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (s.ends_with('Z') || s[19..].contains('+') || s[19..].contains('-'))
        && b[..4].iter().all(u8::is_ascii_digit)
}

fn is_technique(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() == 5 || (b.len() == 9 && b[5] == b'.'))
        && b[0] == b'T'
        && b[1..5].iter().all(u8::is_ascii_digit)
        && (b.len() == 5 || b[6..].iter().all(u8::is_ascii_digit))
}

fn is_snake(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

fn string<'a>(o: &'a Map<String, Value>, k: &str, ctx: &str) -> Result<&'a str, String> {
    o.get(k).and_then(Value::as_str).ok_or_else(|| format!("{ctx}: `{k}` must be a string"))
}

fn time(o: &Map<String, Value>, k: &str, ctx: &str) -> Result<String, String> {
    let s = string(o, k, ctx)?;
    if !is_rfc3339(s) {
        return Err(format!("{ctx}: `{k}` = {s:?} is not RFC 3339"));
    }
    Ok(s.to_string())
}

fn entity(v: &Value, ctx: &str) -> Result<String, String> {
    let o = v.as_object().ok_or(format!("{ctx}: entity must be an object"))?;
    for k in o.keys() {
        if !["ip", "host", "role"].contains(&k.as_str()) {
            // Fields may be added, but flag unexpected ones so the spec is updated too.
            return Err(format!("{ctx}: entity has an unspecified key `{k}`"));
        }
    }
    let ip = o.get("ip");
    let host = o.get("host");
    if let Some(ip) = ip {
        let s = ip.as_str().ok_or(format!("{ctx}: entity.ip must be a string"))?;
        s.parse::<std::net::IpAddr>()
            .map_err(|_| format!("{ctx}: entity.ip {s:?} is not an address"))?;
    }
    if let Some(h) = host {
        h.as_str().ok_or(format!("{ctx}: entity.host must be a string"))?;
    }
    if let Some(r) = o.get("role") {
        r.as_str().ok_or(format!("{ctx}: entity.role must be a string"))?;
    }
    if ip.is_none() && host.is_none() {
        return Err(format!("{ctx}: entity needs ip or host"));
    }
    Ok(ip.or(host).and_then(Value::as_str).unwrap_or("").to_string())
}

/// Validates one `findings.jsonl` object; returns (time, detector, entity) for ordering.
pub fn finding(v: &Value, ctx: &str) -> Result<(String, String, String, String), String> {
    let o = v.as_object().ok_or(format!("{ctx}: not a JSON object"))?;
    let id = string(o, "id", ctx)?.to_string();
    let t = time(o, "time", ctx)?;
    let end = time(o, "end", ctx)?;
    if end < t {
        return Err(format!("{ctx}: end {end} before time {t}"));
    }
    let det = string(o, "detector", ctx)?;
    if !is_snake(det) {
        return Err(format!("{ctx}: detector {det:?} is not snake_case"));
    }
    string(o, "title", ctx)?;
    let stage = string(o, "stage", ctx)?;
    if !STAGES.contains(&stage) {
        return Err(format!("{ctx}: stage {stage:?} is not a life-cycle stage"));
    }
    let attack = o
        .get("attack")
        .and_then(Value::as_array)
        .ok_or(format!("{ctx}: attack must be an array"))?;
    for a in attack {
        let s = a.as_str().ok_or(format!("{ctx}: attack entries must be strings"))?;
        if !is_technique(s) {
            return Err(format!("{ctx}: {s:?} is not an ATT&CK technique id"));
        }
    }
    let score =
        o.get("score").and_then(Value::as_f64).ok_or(format!("{ctx}: score must be a number"))?;
    if !(0.0..=100.0).contains(&score) {
        return Err(format!("{ctx}: score {score} outside 0-100"));
    }
    let ent = entity(o.get("entity").ok_or(format!("{ctx}: no entity"))?, ctx)?;
    match o.get("peer") {
        Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            if let Some(ip) = p.get("ip") {
                let s = ip.as_str().ok_or(format!("{ctx}: peer.ip must be a string"))?;
                s.parse::<std::net::IpAddr>().map_err(|_| format!("{ctx}: peer.ip {s:?}"))?;
            }
            if let Some(d) = p.get("domain") {
                d.as_str().ok_or(format!("{ctx}: peer.domain must be a string"))?;
            }
            if let Some(port) = p.get("port") {
                let n = port.as_u64().ok_or(format!("{ctx}: peer.port must be an integer"))?;
                if n > 65535 {
                    return Err(format!("{ctx}: peer.port {n}"));
                }
            }
        }
        _ => return Err(format!("{ctx}: peer must be an object or null")),
    }
    string(o, "summary", ctx)?;
    o.get("evidence")
        .and_then(Value::as_object)
        .ok_or(format!("{ctx}: evidence must be an object"))?;
    let sources = o
        .get("sources")
        .and_then(Value::as_array)
        .ok_or(format!("{ctx}: sources must be an array"))?;
    for s in sources {
        let so = s.as_object().ok_or(format!("{ctx}: source must be an object"))?;
        string(so, "file", ctx)?;
        so.get("record")
            .and_then(Value::as_u64)
            .ok_or(format!("{ctx}: source.record must be an integer"))?;
    }
    Ok((t, det.to_string(), ent, id))
}

/// Validates `DIR/findings.jsonl`, `DIR/incidents.json` and `DIR/report.html`.
/// Returns (findings, incidents) counts.
pub fn validate_dir(dir: &Path) -> Result<(usize, usize), String> {
    let text = std::fs::read_to_string(dir.join("findings.jsonl"))
        .map_err(|e| format!("findings.jsonl: {e}"))?;
    let mut keys = Vec::new();
    let mut ids = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let ctx = format!("findings.jsonl:{}", i + 1);
        let v: Value = serde_json::from_str(line).map_err(|e| format!("{ctx}: {e}"))?;
        let k = finding(&v, &ctx)?;
        if !ids.insert(k.3.clone()) {
            return Err(format!("{ctx}: duplicate id {}", k.3));
        }
        keys.push((k.0, k.1, k.2));
    }
    if keys.windows(2).any(|w| w[0] > w[1]) {
        return Err("findings.jsonl is not sorted by (time, detector, entity)".into());
    }
    let text = std::fs::read_to_string(dir.join("incidents.json"))
        .map_err(|e| format!("incidents.json: {e}"))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("incidents.json: {e}"))?;
    let o = doc.as_object().ok_or("incidents.json: not an object")?;
    if o.get("schema").and_then(Value::as_u64) != Some(1) {
        return Err("incidents.json: schema must be 1".into());
    }
    time(o, "generated", "incidents.json")?;
    let inputs = o
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or("incidents.json: inputs must be an array")?;
    if inputs.iter().any(|v| !v.is_string()) {
        return Err("incidents.json: inputs must be strings".into());
    }
    let incidents = o
        .get("incidents")
        .and_then(Value::as_array)
        .ok_or("incidents.json: incidents must be an array")?;
    for (n, inc) in incidents.iter().enumerate() {
        let ctx = format!("incidents[{n}]");
        let io = inc.as_object().ok_or(format!("{ctx}: not an object"))?;
        for k in ["id", "title", "summary"] {
            string(io, k, &ctx)?;
        }
        let score = io.get("score").and_then(Value::as_f64).ok_or(format!("{ctx}: score"))?;
        if !(0.0..=100.0).contains(&score) {
            return Err(format!("{ctx}: score {score}"));
        }
        let sev = string(io, "severity", &ctx)?;
        if !["low", "medium", "high", "critical"].contains(&sev) {
            return Err(format!("{ctx}: severity {sev:?}"));
        }
        let ents =
            io.get("entities").and_then(Value::as_array).ok_or(format!("{ctx}: entities"))?;
        if ents.is_empty() {
            return Err(format!("{ctx}: no entities"));
        }
        for e in ents {
            entity(e, &ctx)?;
        }
        let first = time(io, "first_seen", &ctx)?;
        let last = time(io, "last_seen", &ctx)?;
        if last < first {
            return Err(format!("{ctx}: last_seen before first_seen"));
        }
        let stages = io.get("stages").and_then(Value::as_array).ok_or(format!("{ctx}: stages"))?;
        for s in stages {
            if !s.as_str().is_some_and(|s| STAGES.contains(&s)) {
                return Err(format!("{ctx}: stage {s}"));
            }
        }
        let attack = io.get("attack").and_then(Value::as_array).ok_or(format!("{ctx}: attack"))?;
        if attack.iter().any(|a| !a.as_str().is_some_and(is_technique)) {
            return Err(format!("{ctx}: attack ids"));
        }
        let model = string(io, "model", &ctx)?;
        if !["smash_and_grab", "low_and_slow", "undetermined"].contains(&model) {
            return Err(format!("{ctx}: model {model:?}"));
        }
        let reasons = io
            .get("model_reasons")
            .and_then(Value::as_array)
            .ok_or(format!("{ctx}: model_reasons"))?;
        if reasons.is_empty() || reasons.iter().any(|r| !r.is_string()) {
            return Err(format!("{ctx}: model_reasons must be non-empty strings"));
        }
        let dwell = io.get("dwell_s").and_then(Value::as_f64).ok_or(format!("{ctx}: dwell_s"))?;
        if dwell < 0.0 {
            return Err(format!("{ctx}: dwell_s < 0"));
        }
        match io.get("time_to_exfil_s") {
            Some(Value::Null) => {}
            Some(v) if v.as_f64().is_some_and(|x| x >= 0.0) => {}
            _ => return Err(format!("{ctx}: time_to_exfil_s must be a number ≥ 0 or null")),
        }
        let fs = io.get("findings").and_then(Value::as_array).ok_or(format!("{ctx}: findings"))?;
        for f in fs {
            let id = f.as_str().ok_or(format!("{ctx}: finding ids must be strings"))?;
            if !ids.contains(id) {
                return Err(format!("{ctx}: finding {id} not in findings.jsonl"));
            }
        }
    }
    let html = std::fs::read_to_string(dir.join("report.html"))
        .map_err(|e| format!("report.html: {e}"))?;
    if !html.starts_with("<!DOCTYPE html>") {
        return Err("report.html is not an HTML document".into());
    }
    for pat in ["src=\"http", "href=\"http", "url(http", "@import"] {
        if html.contains(pat) {
            return Err(format!("report.html fetches from the network ({pat})"));
        }
    }
    Ok((keys.len(), incidents.len()))
}
