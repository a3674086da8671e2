use super::*;
use crate::testing::ev;

fn rule(yaml: &str) -> Rule {
    let mut v = compile_text(yaml, Path::new("t.yml")).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    v.remove(0)
}

fn set(yaml: &str) -> RuleSet {
    let mut s = RuleSet::default();
    s.push(rule(yaml));
    s
}

fn hits(s: &RuleSet, e: &Event) -> usize {
    s.matches(e).count()
}

fn proc_rule(detection: &str) -> String {
    format!(
        "title: T\nid: x\nlevel: high\ntags: [attack.execution, attack.t1218.011]\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n{detection}"
    )
}

fn p(image: &str, cmd: &str) -> Event {
    ev::proc(1.0, "WS1", "C:\\Windows\\explorer.exe", image, cmd)
}

#[test]
fn every_modifier_matches_and_misses() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "  sel:\n    CommandLine|contains: 'urlcache'\n  condition: sel",
            "certutil -URLCACHE -f x",
            "certutil -store",
        ),
        ("  sel:\n    Image|endswith: '\\certutil.exe'\n  condition: sel", "x", "x"),
        (
            "  sel:\n    CommandLine|startswith: 'certutil'\n  condition: sel",
            "CertUtil -f",
            "x certutil",
        ),
        (
            "  sel:\n    CommandLine|contains|all: ['-f', 'http']\n  condition: sel",
            "a -f http://x",
            "a -f ftp://x",
        ),
        (
            "  sel:\n    CommandLine|re: '^cert.*-f$'\n  condition: sel",
            "certutil -f",
            "Certutil -f",
        ),
        (
            "  sel:\n    CommandLine|re|i: '^cert.*-F$'\n  condition: sel",
            "Certutil -f",
            "certutil -g",
        ),
        (
            "  sel:\n    CommandLine|contains|windash: ' -urlcache '\n  condition: sel",
            "certutil /urlcache /f",
            "certutil urlcache",
        ),
        (
            "  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel",
            "powershell -enc aHR0cDovL2V4YW1wbGU=",
            "powershell -enc ZXhhbXBsZQ==",
        ),
        ("  sel:\n    CommandLine|base64: 'whoami'\n  condition: sel", "d2hvYW1p", "whoami"),
        (
            "  sel:\n    CommandLine: 'cert*-f ?ttp*'\n  condition: sel",
            "certutil -f http://x",
            "certutil -f  http://x",
        ),
        ("  sel:\n    CommandLine|cased: 'certutil'\n  condition: sel", "certutil", "CERTUTIL"),
    ];
    for (det, yes, no) in cases {
        let s = set(&proc_rule(det));
        let img = if det.contains("endswith") {
            "C:\\Windows\\System32\\certutil.exe"
        } else {
            "C:\\x\\a.exe"
        };
        assert_eq!(hits(&s, &p(img, yes)), 1, "{det} should match {yes}");
        let img_no = if det.contains("endswith") { "C:\\Windows\\System32\\cmd.exe" } else { img };
        assert_eq!(hits(&s, &p(img_no, no)), 0, "{det} should not match {no}");
    }
}

#[test]
fn exists_null_cidr_and_keywords() {
    let s = set(&proc_rule("  sel:\n    ParentImage|exists: true\n  condition: sel"));
    assert_eq!(hits(&s, &p("a", "b")), 1);
    let s = set(&proc_rule("  sel:\n    OriginalFileName: null\n  condition: sel"));
    assert_eq!(hits(&s, &p("a", "b")), 1);
    let net = "title: N\nlogsource:\n  category: network_connection\n  product: windows\ndetection:\n  sel:\n    DestinationIp|cidr: '10.0.0.0/8'\n  condition: sel";
    let s = set(net);
    let e = |ip: &str| ev::win(1.0, "WS1", "Sysmon", 3, &[("DestinationIp", ip)]);
    assert_eq!(hits(&s, &e("10.1.2.3")), 1);
    assert_eq!(hits(&s, &e("192.168.1.1")), 0);
    let s =
        set(&proc_rule("  keywords:\n    - 'mimikatz'\n    - 'sekurlsa'\n  condition: keywords"));
    assert_eq!(hits(&s, &p("a", "x sekurlsa::logonpasswords")), 1);
    assert_eq!(hits(&s, &p("a", "x")), 0);
}

#[test]
fn condition_forms() {
    let det = "  selection_img:\n    Image|endswith: '\\rundll32.exe'\n  selection_cli_1:\n    CommandLine|contains: 'javascript:'\n  selection_cli_2:\n    CommandLine|contains: 'mshtml'\n  filter_main:\n    CommandLine|contains: 'benign'\n";
    let r = "C:\\Windows\\System32\\rundll32.exe";
    for (cond, yes, no) in [
        ("selection_img and all of selection_cli_*", "javascript: mshtml", "javascript:"),
        ("selection_img and 1 of selection_cli_*", "javascript:", "shell32"),
        ("selection_img and not 1 of filter_*", "x", "benign"),
        ("(selection_cli_1 or selection_cli_2) and not filter_main", "mshtml", "mshtml benign"),
        ("all of them", "javascript: mshtml benign", "javascript: mshtml"),
        ("1 of them and not selection_img", "", ""),
    ] {
        let s = set(&proc_rule(&format!("{det}  condition: {cond}")));
        if cond.ends_with("not selection_img") {
            assert_eq!(hits(&s, &p(r, "javascript:")), 0, "{cond}");
            assert_eq!(hits(&s, &p("C:\\x\\a.exe", "javascript:")), 1, "{cond}");
            continue;
        }
        assert_eq!(hits(&s, &p(r, yes)), 1, "{cond} / {yes}");
        assert_eq!(hits(&s, &p(r, no)), 0, "{cond} / {no}");
    }
    // A list of conditions: any.
    let s = set(&proc_rule("  a:\n    CommandLine|contains: 'x1'\n  b:\n    CommandLine|contains: 'x2'\n  condition:\n    - a\n    - b"));
    assert_eq!(hits(&s, &p(r, "x2")), 1);
    // A list of maps: any map.
    let s = set(&proc_rule(
        "  sel:\n    - CommandLine|contains: 'x1'\n    - Image|endswith: 'b.exe'\n  condition: sel",
    ));
    assert_eq!(hits(&s, &p("C:\\b.exe", "y")), 1);
    assert_eq!(hits(&s, &p("C:\\c.exe", "y")), 0);
}

#[test]
fn rule_metadata_and_log_sources() {
    let r = rule(&proc_rule("  sel:\n    Image: x\n  condition: sel"));
    assert_eq!(r.level, Level::High);
    assert_eq!(r.stage, Some(Stage::Execution));
    assert_eq!(r.attack[0].to_string(), "T1218.011");
    // A Security-log rule only sees the Security channel.
    let sec = "title: S\nlogsource:\n  product: windows\n  service: system\ndetection:\n  sel:\n    EventID: 7045\n    ImagePath|contains: 'COMSPEC'\n  condition: sel";
    let s = set(sec);
    let svc = |ch: &str| ev::win(1.0, "DC1", ch, 7045, &[("ImagePath", "%COMSPEC% /c x")]);
    assert_eq!(hits(&s, &svc("System")), 1);
    assert_eq!(hits(&s, &svc("Security")), 0);
}

#[test]
fn malformed_and_unsupported_rules_say_why() {
    let bad = [
        ("title: x\ndetection: [", "not YAML"),
        ("title: x\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    a: b\n  condition: sel | count() > 5", "aggregation"),
        ("title: x\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    a|utf16le|base64offset|contains: b\n  condition: sel", "utf16le"),
        ("title: x\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    a: b\n  condition: sel", "log source"),
        ("title: x\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    a: b\n  condition: sel and nothere", "nothere"),
        ("title: x\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    a|re: '('\n  condition: sel", "regular expression"),
    ];
    for (text, want) in bad {
        let e = compile_text(text, Path::new("bad.yml"))
            .err()
            .unwrap_or_else(|| panic!("{text} compiled"));
        assert!(e.contains(want), "{e} lacks {want}");
    }
}

#[test]
fn shared_sigma_rules_compile() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    let mut s = RuleSet::default();
    let rep = s.load_dir(&data.join("sigma")).unwrap();
    for (f, why) in &rep.unsupported {
        println!("unsupported: {}: {why}", f.display());
    }
    println!("{} of {} rules compiled", rep.compiled, rep.files);
    assert!(rep.files >= 380, "{}", rep.files);
    assert!(rep.compiled * 100 >= rep.files * 95, "{} of {}", rep.compiled, rep.files);
}

#[test]
fn escapes_and_a_trailing_backslash_under_contains() {
    let s = set(&proc_rule("  sel:\n    CurrentDirectory|contains: 'C:\\'\n  condition: sel"));
    let e = |d: &str| ev::win(1.0, "WS1", "Sysmon", 1, &[("CurrentDirectory", d)]);
    assert_eq!(hits(&s, &e("c:\\ProgramData\\")), 1);
    assert_eq!(hits(&s, &e("D:\\x\\")), 0);
    let s = set(&proc_rule("  sel:\n    CommandLine: 'a\\*b'\n  condition: sel"));
    assert_eq!(hits(&s, &p("x", "a*b")), 1);
    assert_eq!(hits(&s, &p("x", "axxb")), 0);
}

/// Rules in one set share each record's field lookups and lower-case forms: a set of
/// rules over the same fields — case-sensitive and not, names differing in case, a
/// field some records lack, `exists`, `null`, keywords — matches each record exactly
/// as every rule does alone.
#[test]
fn rules_sharing_fields_match_as_they_do_alone() {
    let detections = [
        "  sel:\n    CommandLine|contains: 'urlcache'\n  condition: sel",
        "  sel:\n    CommandLine|contains|cased: 'URLCACHE'\n  condition: sel",
        "  sel:\n    commandline|contains: 'URLcache'\n  condition: sel",
        "  sel:\n    CommandLine|endswith: '-f'\n    Image|endswith: '\\certutil.exe'\n  condition: sel",
        "  sel:\n    Image|endswith|cased: '\\CertUtil.exe'\n  condition: sel",
        "  sel:\n    OriginalFileName: 'CertUtil.exe'\n  condition: sel",
        "  sel:\n    OriginalFileName: null\n  condition: sel",
        "  sel:\n    OriginalFileName|exists: true\n  condition: sel",
        "  sel:\n    - 'urlcache'\n  condition: sel",
        "  a:\n    Image|endswith: '\\certutil.exe'\n  b:\n    CommandLine|contains: 'decode'\n  condition: a and not b",
    ];
    let mut all = RuleSet::default();
    let alone: Vec<RuleSet> = detections
        .iter()
        .map(|d| {
            all.push(rule(&proc_rule(d)));
            set(&proc_rule(d))
        })
        .collect();
    let mut with_original = p("C:\\Windows\\System32\\CertUtil.exe", "certutil -decode a b");
    if let Body::Win(w) = &mut with_original.body {
        w.fields.push("OriginalFileName".into(), "CertUtil.exe");
    }
    let records = [
        p("C:\\Windows\\System32\\certutil.exe", "certutil -URLCACHE -f"),
        p("C:\\Windows\\System32\\CertUtil.exe", "CertUtil -urlcache -split -f"),
        p("C:\\Tools\\x.exe", "x.exe urlcache"),
        with_original,
    ];
    let mut fired = 0;
    for (n, e) in records.iter().enumerate() {
        let want: Vec<usize> = (0..alone.len()).filter(|&i| hits(&alone[i], e) == 1).collect();
        let got: Vec<usize> = all
            .matches(e)
            .map(|r| all.rules.iter().position(|x| std::ptr::eq(x, r)).unwrap())
            .collect();
        assert_eq!(got, want, "record {n}");
        fired += got.len();
    }
    assert!(fired >= 12, "the rules must fire on these records: {fired}");
}

/// The literal prefilter changes no answer: over every shared SigmaHQ rule and every
/// record of the shared Windows logs and Zeek logs, the rules `matches` returns are
/// exactly those found by evaluating every rule of the record's kind; and it does skip
/// rules (or it would prove nothing).
#[test]
fn the_prefilter_changes_no_answer() {
    let Some(data) = dwell_testkit::shared_data() else { return };
    let mut s = RuleSet::default();
    s.load_dir(&data.join("sigma")).unwrap();
    let mut files: Vec<std::path::PathBuf> =
        dwell_testkit::winlog_files(&data).into_iter().map(|r| r.path).collect();
    files.extend(dwell_testkit::zeek_files(&data).into_iter().map(|r| r.path).take(40));
    let (mut records, mut fired, mut evaluated, mut skipped) = (0, 0, 0, 0);
    for f in &files {
        let Ok(d) = dwell_decode::FileDecoder::open(f, dwell_model::FileId(0), &Default::default())
        else {
            continue;
        };
        for e in d.take(20_000) {
            let all: Vec<&str> = s.matches_every_rule(&e).iter().map(|r| r.id.as_str()).collect();
            let got: Vec<&str> = s.matches(&e).map(|r| r.id.as_str()).collect();
            assert_eq!(got, all, "{} {:?}", f.display(), e.kind());
            records += 1;
            fired += got.len();
            let kind_rules = s.by_kind.get(&e.kind()).map_or(0, Vec::len);
            let pf = s.prefilter.get().unwrap();
            if let Some(present) = pf.present(&View::of(&e), e.kind()) {
                let idx = s.by_kind.get(&e.kind()).map(Vec::as_slice).unwrap_or(&[]);
                let passed = idx
                    .iter()
                    .filter(|&&i| match &pf.needs[i] {
                        Some(n) => n.iter().any(|&l| present[l]),
                        None => true,
                    })
                    .count();
                evaluated += passed;
                skipped += kind_rules - passed;
            }
        }
    }
    let pf = s.prefilter.get().unwrap();
    println!(
        "{records} records, {fired} rule hits; rules evaluated {evaluated}, skipped {skipped}; \
         {} literals for {} of {} rules, automaton {} bytes",
        pf.literals,
        pf.needs.iter().filter(|n| n.is_some()).count(),
        s.len(),
        pf.scan.as_ref().map_or(0, AhoCorasick::memory_usage)
    );
    assert!(records > 10_000 && fired > 100, "{records} records, {fired} hits");
    assert!(skipped > 10 * evaluated, "the prefilter skips little: {skipped} vs {evaluated}");
}
