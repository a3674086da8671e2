//! The self-contained HTML report: no script, font or style is fetched from anywhere.
//!
//! Sections: the run; incidents by score; per incident its timeline (SVG, one lane per
//! entity, one mark per finding coloured by life-cycle stage, an arrow per hop between
//! hosts) and its attack path in words, the stages in life-cycle order, ATT&CK techniques, dwell time and time to exfiltration against the public
//! benchmarks, and every finding with its evidence; then the findings that are not in
//! an incident.

use std::fmt::Write;

use dwell_model::{Entity, Finding, Incident, IncidentsFile, Stage, Timestamp};

use crate::{human_duration, FindingIndex, RunInfo};

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

fn stage_color(s: Stage) -> &'static str {
    match s {
        Stage::InitialAccess => "#b91c1c",
        Stage::Execution => "#c2410c",
        Stage::DefenseEvasion => "#a16207",
        Stage::Persistence => "#4d7c0f",
        Stage::PrivilegeEscalation => "#15803d",
        Stage::CredentialAccess => "#0f766e",
        Stage::Discovery => "#0369a1",
        Stage::LateralMovement => "#1d4ed8",
        Stage::Collection => "#6d28d9",
        Stage::CommandAndControl => "#a21caf",
        Stage::Exfiltration => "#be123c",
        Stage::Impact => "#3f3f46",
    }
}

const CSS: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2937;background:#f8fafc}
header{background:#0f172a;color:#e2e8f0;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
main{padding:18px 28px;max-width:1200px}
section.incident{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:14px 18px;margin:18px 0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e2e8f0;vertical-align:top}
th{background:#f1f5f9;font-weight:600}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
.critical{background:#7f1d1d}.high{background:#b91c1c}.medium{background:#d97706}.low{background:#64748b}
.chip{display:inline-block;padding:1px 7px;margin:2px;border-radius:4px;font-size:12px;border:1px solid #cbd5e1;color:#94a3b8}
.chip.on{color:#fff;border-color:transparent}
.muted{color:#64748b}code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f1f5f9;padding:8px;border-radius:4px;overflow-x:auto;margin:4px 0}
.bench{margin:6px 0}.bar{height:10px;background:#e2e8f0;border-radius:5px;position:relative;width:420px;display:inline-block;vertical-align:middle}
.bar span{position:absolute;top:0;left:0;height:10px;border-radius:5px}
.bar i{position:absolute;top:-3px;width:2px;height:16px;background:#0f172a}
"#;

/// Renders the report.
pub fn render(doc: &IncidentsFile, findings: &[Finding], run: &RunInfo) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>dwell report</title><style>{CSS}</style></head><body>"
    );
    let _ = write!(h, "<header><h1>dwell report</h1><div>");
    let span = run
        .span
        .map(|(a, b)| format!("{} – {} ({})", a, b, human_duration(b.secs_since(a))))
        .unwrap_or_else(|| "no events".into());
    let _ = write!(
        h,
        "{} event{} from {} file{}{} · {} · {} finding{} · {} incident{} · generated {}",
        run.events,
        if run.events == 1 { "" } else { "s" },
        run.files,
        if run.files == 1 { "" } else { "s" },
        if run.skipped > 0 { format!(" ({} skipped)", run.skipped) } else { String::new() },
        esc(&span),
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        doc.incidents.len(),
        if doc.incidents.len() == 1 { "" } else { "s" },
        doc.generated
    );
    if run.anomalies > 0 {
        let _ = write!(
            h,
            " · {} malformed record{} counted",
            run.anomalies,
            if run.anomalies == 1 { "" } else { "s" }
        );
    }
    let _ = write!(
        h,
        "</div><div class=\"muted\">inputs: {}</div></header><main>",
        esc(&doc.inputs.join(", "))
    );

    h.push_str("<h2>Incidents</h2>");
    if doc.incidents.is_empty() {
        h.push_str("<p>No incidents: no finding reached a score of 50 and no host showed two life-cycle stages.</p>");
    } else {
        h.push_str("<table><tr><th>Score</th><th>Severity</th><th>Incident</th><th>Stages</th><th>Model</th><th>Dwell</th><th>To exfiltration</th></tr>");
        for i in &doc.incidents {
            let _ = write!(
                h,
                "<tr><td>{:.1}</td><td><span class=\"sev {}\">{}</span></td><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i.score,
                i.severity.as_str(),
                i.severity.as_str(),
                esc(&i.id),
                esc(&i.title),
                i.stages.len(),
                i.model.as_str(),
                human_duration(i.dwell_s),
                i.time_to_exfil_s.map(human_duration).unwrap_or_else(|| "–".into())
            );
        }
        h.push_str("</table>");
    }
    let index = FindingIndex::new(findings);
    for i in &doc.incidents {
        incident(&mut h, i, &index);
    }
    let in_incident: std::collections::HashSet<&str> =
        doc.incidents.iter().flat_map(|i| i.findings.iter().map(String::as_str)).collect();
    let loose: Vec<&Finding> =
        findings.iter().filter(|f| !in_incident.contains(f.id.as_str())).collect();
    let _ = write!(h, "<h2>Findings outside incidents ({})</h2>", loose.len());
    if loose.is_empty() {
        h.push_str("<p class=\"muted\">None.</p>");
    } else {
        findings_table(&mut h, &loose);
    }
    h.push_str("</main></body></html>\n");
    h
}

fn incident(h: &mut String, i: &Incident, index: &FindingIndex<'_>) {
    let fs = index.of(i);
    let _ = write!(
        h,
        "<section class=\"incident\" id=\"{}\"><h3><span class=\"sev {}\">{}</span> {} <span class=\"muted\">score {:.1}</span></h3><p>{}</p>",
        esc(&i.id),
        i.severity.as_str(),
        i.severity.as_str(),
        esc(&i.title),
        i.score,
        esc(&i.summary)
    );
    timeline(h, i, &fs);
    attack_path(h, i, &fs);
    h.push_str("<div>");
    for s in Stage::ALL {
        let on = i.stages.contains(s);
        if on {
            let _ = write!(
                h,
                "<span class=\"chip on\" style=\"background:{}\">{}</span>",
                stage_color(*s),
                s.title()
            );
        } else {
            let _ = write!(h, "<span class=\"chip\">{}</span>", s.title());
        }
    }
    h.push_str("</div>");
    let techniques: Vec<String> = i.attack.iter().map(|t| t.to_string()).collect();
    let _ = write!(
        h,
        "<p><b>ATT&amp;CK:</b> {}</p>",
        if techniques.is_empty() { "–".into() } else { esc(&techniques.join(", ")) }
    );
    let _ = write!(
        h,
        "<p><b>Operating model:</b> {} — {}</p>",
        i.model.as_str(),
        esc(&i.model_reasons.join("; "))
    );
    benchmark(
        h,
        "Dwell time",
        i.dwell_s,
        &[
            ("smash-and-grab median compromise, 10 days", 10.0 * 86_400.0),
            ("low-and-slow mean to egress, 35 days", 35.0 * 86_400.0),
        ],
    );
    match i.time_to_exfil_s {
        Some(t) => benchmark(
            h,
            "Time to exfiltration",
            t,
            &[
                ("smash-and-grab median, 48 h", 48.0 * 3600.0),
                ("low-and-slow mean, 35 days", 35.0 * 86_400.0),
            ],
        ),
        None => h.push_str("<p class=\"muted\">No exfiltration seen.</p>"),
    }
    let entities: Vec<String> = i.entities.iter().map(|e| e.to_string()).collect();
    let _ = write!(h, "<p><b>Entities:</b> {}</p>", esc(&entities.join(", ")));
    let hw = crate::hunt::window(i, &fs);
    let _ = write!(
        h,
        "<p><b>Hunt next:</b> {} to {} — {:.0} days before the first evidence ({}).<br>Hosts: {}{}<br>Techniques: {}</p>",
        esc(&hw.from.to_string()),
        esc(&hw.to.to_string()),
        hw.lookback_days,
        esc(&hw.why),
        esc(&hw.hosts.join(", ")),
        if hw.peers.is_empty() { String::new() } else { format!("<br>Peers: <code>{}</code>", esc(&hw.peers.join(", "))) },
        esc(&hw.techniques.join(", "))
    );
    findings_table(h, &fs);
    h.push_str("</section>");
}

/// A horizontal bar of `value` on a log-ish scale up to 60 days with benchmark ticks.
fn benchmark(h: &mut String, label: &str, value: f64, marks: &[(&str, f64)]) {
    let max = 60.0 * 86_400.0f64;
    let pos = |v: f64| ((v.max(1.0).ln() / max.ln()).clamp(0.0, 1.0) * 100.0).round();
    let _ = write!(h, "<div class=\"bench\"><b>{label}:</b> {} <span class=\"bar\"><span style=\"width:{}%;background:#334155\"></span>", human_duration(value), pos(value));
    for (name, v) in marks {
        let _ = write!(h, "<i style=\"left:{}%\" title=\"{}\"></i>", pos(*v), esc(name));
    }
    let names: Vec<&str> = marks.iter().map(|(n, _)| *n).collect();
    let _ =
        write!(h, "</span> <span class=\"muted\">(ticks: {})</span></div>", esc(&names.join("; ")));
}

/// The hops of an incident's attack path: findings whose peer is another of its
/// hosts (lateral movement, credential access against a DC, an internal relay), in
/// time order, as (finding, source lane key, target lane key). A hop points from the
/// host with the earlier first evidence to the later one — the way an intruder moves —
/// whichever side the finding was seen on (a service installed on the target names
/// its source as the peer).
fn hops<'a>(i: &Incident, fs: &[&'a Finding]) -> Vec<(&'a Finding, String, String)> {
    let keys: Vec<String> = i.entities.iter().map(|e| e.key()).collect();
    let rank = |k: &str| keys.iter().position(|x| x == k);
    let mut out: Vec<(&Finding, String, String)> = fs
        .iter()
        .filter_map(|f| {
            let peer = Entity::ip(f.peer.as_ref()?.ip?).key();
            let own = f.entity.key();
            let (a, b) = (rank(&own)?, rank(&peer)?);
            match a.cmp(&b) {
                std::cmp::Ordering::Less => Some((*f, own, peer)),
                std::cmp::Ordering::Greater => Some((*f, peer, own)),
                std::cmp::Ordering::Equal => None,
            }
        })
        .collect();
    out.sort_by_key(|(f, _, _)| f.time);
    out
}

/// The attack path as text: each hop once (its first time), host to host.
fn attack_path(h: &mut String, i: &Incident, fs: &[&Finding]) {
    let label = |k: &str| {
        i.entities.iter().find(|e| e.key() == k).map_or_else(|| k.to_string(), |e| e.to_string())
    };
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    for (f, from, to) in hops(i, fs) {
        if seen.contains(&(from.clone(), to.clone())) {
            continue;
        }
        parts.push(format!(
            "{} → {} <span class=\"muted\">({}, {})</span>",
            esc(&label(&from)),
            esc(&label(&to)),
            esc(&f.title),
            esc(&f.time.to_string())
        ));
        seen.push((from, to));
    }
    if !parts.is_empty() {
        let _ = write!(h, "<p><b>Attack path:</b> {}</p>", parts.join("; "));
    }
}

fn timeline(h: &mut String, i: &Incident, fs: &[&Finding]) {
    let (w, lane_h, left) = (1000.0, 34.0, 250.0);
    // One lane per machine (keyed by address, else name): the incident's hosts, patient
    // zero first (hosts reached without findings of their own included), labelled with
    // the fullest description any finding gives.
    let mut lanes: Vec<(String, String)> =
        i.entities.iter().map(|e| (e.key(), e.to_string())).collect();
    for f in fs {
        let (k, label) = (f.entity.key(), f.entity.to_string());
        match lanes.iter_mut().find(|(lk, _)| *lk == k) {
            Some(l) if label.len() > l.1.len() => l.1 = label,
            Some(_) => {}
            None => lanes.push((k, label)),
        }
    }
    let height = lanes.len() as f64 * lane_h + 40.0;
    let (t0, t1) = (i.first_seen, i.last_seen.max(Timestamp(i.first_seen.0 + 1)));
    let span = t1.secs_since(t0).max(1.0);
    let x = |t: Timestamp| left + (t.secs_since(t0) / span).clamp(0.0, 1.0) * (w - left - 20.0);
    let _ = write!(h, "<svg role=\"img\" aria-label=\"timeline\" viewBox=\"0 0 {w} {height}\" width=\"100%\" style=\"max-width:{w}px;background:#fff\">");
    for (li, (key, label)) in lanes.iter().enumerate() {
        let y = li as f64 * lane_h + 20.0;
        let _ = write!(h, "<text x=\"4\" y=\"{:.1}\" font-size=\"12\">{}</text><line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#cbd5e1\"/>", y + 4.0, esc(label), w - 20.0);
        for f in fs.iter().filter(|f| &f.entity.key() == key) {
            let (x0, x1) = (x(f.time), x(f.end.max(f.time)));
            let c = stage_color(f.stage);
            let _ = write!(
                h,
                "<g><title>{} — {} ({}, score {:.1})</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"10\" rx=\"3\" fill=\"{c}\" opacity=\"0.35\"/><circle cx=\"{x0:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"{c}\"/></g>",
                esc(&f.time.to_string()),
                esc(&f.title),
                f.stage.as_str(),
                f.score,
                x0,
                y - 5.0,
                (x1 - x0).max(1.0)
            );
        }
    }
    // The attack path: an arrow from the acting host's lane to the host it reached, at
    // the time of the hop.
    let lane_y =
        |k: &str| lanes.iter().position(|(lk, _)| lk == k).map(|p| p as f64 * lane_h + 20.0);
    for (f, from, to) in hops(i, fs) {
        let (Some(y0), Some(y1)) = (lane_y(&from), lane_y(&to)) else { continue };
        let xh = x(f.time);
        let (c, dir) = (stage_color(f.stage), if y1 > y0 { -1.0 } else { 1.0 });
        let _ = write!(
            h,
            "<g class=\"hop\"><title>{} → {}: {}</title><line x1=\"{xh:.1}\" y1=\"{y0:.1}\" x2=\"{xh:.1}\" y2=\"{y1:.1}\" stroke=\"{c}\" stroke-width=\"2\"/><path d=\"M{:.1},{:.1} L{xh:.1},{y1:.1} L{:.1},{:.1}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/></g>",
            esc(&from),
            esc(&to),
            esc(&f.title),
            xh - 4.0,
            y1 + 7.0 * dir,
            xh + 4.0,
            y1 + 7.0 * dir
        );
    }
    let _ = write!(
        h,
        "<text x=\"{left}\" y=\"{:.1}\" font-size=\"11\" fill=\"#64748b\">{}</text><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" fill=\"#64748b\" text-anchor=\"end\">{}</text></svg>",
        height - 6.0,
        esc(&t0.to_string()),
        w - 20.0,
        height - 6.0,
        esc(&t1.to_string())
    );
}

/// A beacon's inter-arrival histogram (`interval_histogram`: [lower bound s, count]
/// on half-octave bins) as an inline bar chart: one tall bar is a clock, a spread is
/// jitter, two humps are sleep cycles.
fn histogram_svg(f: &Finding) -> String {
    let Some(bins) = f.evidence.get("interval_histogram").and_then(|v| v.as_array()) else {
        return String::new();
    };
    let bins: Vec<(f64, f64)> =
        bins.iter().filter_map(|b| Some((b.get(0)?.as_f64()?, b.get(1)?.as_f64()?))).collect();
    let max = bins.iter().map(|b| b.1).fold(0.0, f64::max);
    if bins.is_empty() || max <= 0.0 {
        return String::new();
    }
    let (w, hgt, bw) = (16.0 * bins.len() as f64 + 10.0, 70.0, 14.0);
    let mut s = format!(
        "<svg role=\"img\" aria-label=\"interval histogram\" width=\"{w}\" height=\"{}\" style=\"display:block;margin:4px 0\">",
        hgt + 28.0
    );
    for (i, (lo, n)) in bins.iter().enumerate() {
        let bh = (n / max * hgt).max(1.0);
        let x = 5.0 + i as f64 * 16.0;
        let _ = write!(
            s,
            "<g><title>{} – {}: {n}</title><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw}\" height=\"{bh:.1}\" fill=\"#a21caf\"/></g>",
            human_duration(*lo),
            human_duration(lo * std::f64::consts::SQRT_2),
            hgt - bh + 4.0
        );
    }
    let (first, last) = (bins[0].0, bins[bins.len() - 1].0);
    let _ = write!(
        s,
        "<text x=\"5\" y=\"{:.1}\" font-size=\"10\" fill=\"#64748b\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#64748b\" text-anchor=\"end\">{}</text></svg>",
        hgt + 20.0,
        esc(&human_duration(first)),
        w - 5.0,
        hgt + 20.0,
        esc(&human_duration(last))
    );
    s
}

fn findings_table(h: &mut String, fs: &[&Finding]) {
    h.push_str("<table><tr><th>Time</th><th>Detector</th><th>Stage</th><th>Score</th><th>Entity → peer</th><th>Summary and evidence</th></tr>");
    for f in fs {
        let peer = f.peer.as_ref().map(|p| p.to_string()).unwrap_or_else(|| "–".into());
        let evidence = serde_json::to_string_pretty(&f.evidence).unwrap_or_default();
        let sources: Vec<String> =
            f.sources.iter().map(|s| format!("{}:{}", s.file, s.record)).collect();
        let _ = write!(
            h,
            "<tr><td>{}<br><span class=\"muted\">to {}</span></td><td><code>{}</code></td><td><span class=\"chip on\" style=\"background:{}\">{}</span></td><td>{:.1}</td><td>{} → {}</td><td>{}{}<details><summary>evidence</summary><pre>{}</pre><div class=\"muted\">{}</div></details></td></tr>",
            esc(&f.time.to_string()),
            esc(&f.end.to_string()),
            esc(&f.detector),
            stage_color(f.stage),
            f.stage.title(),
            f.score,
            esc(&f.entity.to_string()),
            esc(&peer),
            esc(&f.summary),
            histogram_svg(f),
            esc(&evidence),
            esc(&sources.join(" · "))
        );
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn empty_report_is_valid_and_self_contained() {
        let doc = IncidentsFile {
            schema: 1,
            generated: Timestamp(0),
            inputs: vec!["x<y".into()],
            incidents: vec![],
        };
        let s = render(&doc, &[], &RunInfo::default());
        assert!(s.starts_with("<!DOCTYPE html>"));
        assert!(s.contains("x&lt;y"));
        assert!(!s.contains("http://") && !s.contains("https://"));
    }

    #[test]
    fn attack_path_draws_each_hop_between_lanes() {
        let finding = |id: &str, ip: &str, t: i64, stage: Stage, peer: Option<&str>| Finding {
            id: id.into(),
            time: Timestamp::from_secs(t),
            end: Timestamp::from_secs(t),
            detector: "x".into(),
            title: format!("step {id}"),
            stage,
            attack: vec![],
            score: 80.0,
            entity: dwell_model::Entity::ip(ip.parse().unwrap()),
            peer: peer.map(|p| dwell_model::Peer { ip: p.parse().ok(), ..Default::default() }),
            summary: String::new(),
            evidence: Default::default(),
            sources: vec![],
        };
        let fs = vec![
            finding("a", "10.0.0.5", 0, Stage::InitialAccess, None),
            finding("b", "10.0.0.5", 60, Stage::LateralMovement, Some("10.0.0.20")),
            finding("c", "10.0.0.5", 90, Stage::LateralMovement, Some("10.0.0.20")),
            finding("d", "10.0.0.20", 120, Stage::CredentialAccess, Some("10.0.0.10")),
            // Seen on the target, naming its source: the same hop, not a way back.
            finding("f", "10.0.0.10", 125, Stage::LateralMovement, Some("10.0.0.20")),
            // An external peer is not a hop.
            finding("e", "10.0.0.20", 150, Stage::CommandAndControl, Some("203.0.113.9")),
        ];
        let i = &incident_of(&fs);
        let refs: Vec<&Finding> = fs.iter().collect();
        let mut h = String::new();
        timeline(&mut h, i, &refs);
        // Three hosts, the DC reached without findings of its own included.
        assert_eq!(h.matches("<line x1=\"250\"").count(), 3, "{h}");
        assert_eq!(h.matches("class=\"hop\"").count(), 4);
        let mut p = String::new();
        attack_path(&mut p, i, &refs);
        assert_eq!(p.matches(" → ").count(), 2, "each hop once: {p}");
        assert!(p.contains("10.0.0.5 → 10.0.0.20") && p.contains("10.0.0.20 → 10.0.0.10"), "{p}");
        assert!(!p.contains("10.0.0.10 → "), "{p}");
    }

    /// The incident of the attack-path test, written out (the report does not depend
    /// on the engine).
    fn incident_of(fs: &[Finding]) -> Incident {
        Incident {
            id: "inc".into(),
            title: "t".into(),
            summary: String::new(),
            score: 90.0,
            severity: dwell_model::Severity::Critical,
            entities: ["10.0.0.5", "10.0.0.20", "10.0.0.10"]
                .iter()
                .map(|ip| dwell_model::Entity::ip(ip.parse().unwrap()))
                .collect(),
            first_seen: fs[0].time,
            last_seen: fs[fs.len() - 1].time,
            stages: vec![],
            attack: vec![],
            model: dwell_model::TempoModel::Undetermined,
            model_reasons: vec![],
            dwell_s: 150.0,
            time_to_exfil_s: None,
            findings: fs.iter().map(|f| f.id.clone()).collect(),
        }
    }

    #[test]
    fn beacon_interval_histogram_is_drawn() {
        let mut f = Finding {
            id: "b".into(),
            time: Timestamp(0),
            end: Timestamp(0),
            detector: "beaconing".into(),
            title: "Beaconing".into(),
            stage: Stage::CommandAndControl,
            attack: vec![],
            score: 80.0,
            entity: dwell_model::Entity::ip("10.0.0.1".parse().unwrap()),
            peer: None,
            summary: String::new(),
            evidence: Default::default(),
            sources: vec![],
        };
        assert_eq!(histogram_svg(&f), "");
        f.evidence.insert(
            "interval_histogram".into(),
            serde_json::json!([[45.3, 2], [64.0, 30], [90.5, 3]]),
        );
        let svg = histogram_svg(&f);
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("1 min – 2 min: 30</title>"), "{svg}");
    }
}
