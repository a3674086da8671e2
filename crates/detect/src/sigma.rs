//! Sigma rules: loaded from the user's directory (`--sigma DIR`), compiled once, matched
//! against every event through the same field vocabulary the detectors use.
//!
//! Supported: detection selections (maps: all fields must match; lists of maps: any;
//! lists of strings: keywords anywhere in the record), values with `*`/`?` wildcards,
//! `null` (field absent) and numbers; the modifiers `contains`, `startswith`,
//! `endswith`, `all`, `re`, `cidr`, `base64`, `base64offset`, `windash`, `exists`,
//! `cased`; conditions with `and`, `or`, `not`, parentheses, `1 of`/`all of` with
//! wildcards and `them`, and several conditions (any). Log sources: Windows categories
//! (`process_creation`, `image_load`, `process_access`, `network_connection`,
//! `file_event`, `registry_*`, `dns_query`, `pipe_created`, `ps_script`), Windows
//! services (`security`, `system`, `application`, `sysmon`, `powershell`), Linux and
//! macOS `process_creation`, network `dns` and Zeek services (`dns`, `http`, `conn`,
//! `ssl`, `x509`, `smb_files`, `dce_rpc`, `kerberos`, `rdp`, `ntlm`).
//!
//! A rule using anything else (aggregations such as `| count()`, `near`, the `utf16`
//! family of modifiers, unknown log sources) is *not* compiled and comes back with the
//! reason; nothing is skipped silently.
//!
//! **Matching many rules.** Most rules cannot match a record that lacks some literal
//! text: `Image|endswith: '\\certutil.exe'` needs `\\certutil.exe` in a value. When
//! rules join a set, each gets the literals one of which must occur in some value of a
//! record it matches (derived from its condition: any branch of an `and`, every branch
//! of an `or`, nothing under `not`, nothing from regexes, CIDRs, `null` or `exists`);
//! a record's values, lower-cased, are scanned once for all those literals together
//! (Aho-Corasick), and a rule none of whose literals occurs is not evaluated. A rule
//! without such literals is always evaluated. The answer is the same as evaluating
//! every rule (tested over all shared SigmaHQ rules and Windows and Zeek logs).

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use dwell_model::{Body, Event, Kind, Stage, Technique, WinEvent};
use yaml_rust2::{Yaml, YamlLoader};

/// How serious a rule says a match is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `informational`.
    Informational,
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "informational" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    /// The finding score of a match.
    pub fn score(self) -> f64 {
        match self {
            Level::Informational => 15.0,
            Level::Low => 35.0,
            Level::Medium => 50.0,
            Level::High => 70.0,
            Level::Critical => 90.0,
        }
    }

    /// Sigma's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// A string test, on lower-cased text unless `cased`.
#[derive(Debug, Clone)]
enum Glob {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// Literal pieces between `*`; `?` kept as a one-character wildcard inside pieces.
    Parts {
        parts: Vec<String>,
        anchored_start: bool,
        anchored_end: bool,
    },
}

#[derive(Debug, Clone)]
enum Pattern {
    Text {
        glob: Glob,
        cased: bool,
    },
    Re(regex_lite::Regex),
    Cidr(ipnet::IpNet),
    /// `null`: the field is absent or empty.
    Null,
}

#[derive(Debug, Clone)]
struct FieldTest {
    field: String,
    /// The field's number in its rule set (every test of one name shares it), under
    /// which a record's value is looked up once for all rules.
    slot: usize,
    patterns: Vec<Pattern>,
    /// `|all`: every pattern must match (else any).
    all: bool,
    /// `|exists`: Some(want).
    exists: Option<bool>,
}

#[derive(Debug, Clone)]
enum Selection {
    /// A map: every test holds.
    All(Vec<FieldTest>),
    /// A list of maps: one holds.
    Any(Vec<Vec<FieldTest>>),
    /// A list of values: one occurs in any field.
    Keywords(Vec<Pattern>),
}

#[derive(Debug, Clone)]
enum Cond {
    Sel(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

/// Which events a rule reads.
#[derive(Debug, Clone)]
struct Source {
    kinds: Vec<Kind>,
    /// A Windows channel the record must come from (lower case substring).
    channel: Option<&'static str>,
    /// A Sysmon event id for categories dwell keeps as `win_other`.
    event_id: Option<u32>,
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `title`.
    pub title: String,
    /// `id` (or the file name when absent).
    pub id: String,
    /// `level`.
    pub level: Level,
    /// Techniques from `attack.tNNNN` tags.
    pub attack: Vec<Technique>,
    /// Stage from the first tactic tag.
    pub stage: Option<Stage>,
    /// The file.
    pub path: PathBuf,
    source: Source,
    selections: Vec<Selection>,
    cond: Cond,
}

/// A set of compiled rules, indexed by event kind.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    by_kind: HashMap<Kind, Vec<usize>>,
    /// The field names the rules test, numbered.
    slots: HashMap<String, usize>,
    /// Built on first match, after every rule has joined.
    prefilter: OnceLock<Prefilter>,
}

/// The literals of every rule (see the module text) and one automaton over all of them.
#[derive(Clone, Debug)]
struct Prefilter {
    /// Per rule: literal numbers one of which a matching record holds; `None`: no such
    /// literals (the rule is always evaluated).
    needs: Vec<Option<Vec<usize>>>,
    /// `None` when no rule has literals (or the automaton could not be built).
    scan: Option<AhoCorasick>,
    literals: usize,
    /// Per event kind, the fields whose values are scanned: those the kind's rules test
    /// (a literal comes from a field test, or from a keyword list, which reads every
    /// value: then `None`, all of them).
    fields: HashMap<Kind, Option<Vec<String>>>,
}

impl Prefilter {
    fn build(rules: &[Rule], by_kind: &HashMap<Kind, Vec<usize>>) -> Prefilter {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut literals: Vec<String> = Vec::new();
        let needs = rules
            .iter()
            .map(|r| {
                let lits = cond_needs(r, &r.cond)?;
                Some(
                    lits.into_iter()
                        .map(|l| {
                            *ids.entry(l.clone()).or_insert_with(|| {
                                literals.push(l);
                                literals.len() - 1
                            })
                        })
                        .collect(),
                )
            })
            .collect();
        // A DFA: the fastest scan (the 1,094 literals of the 383 shared SigmaHQ rules
        // take ~6 MB; a contiguous NFA 0.2 MB, and the runs ~10 % longer).
        let scan = if literals.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&literals)
                .ok()
        };
        let fields = by_kind
            .iter()
            .map(|(k, idx)| {
                let mut names: Vec<String> = Vec::new();
                for r in idx.iter().filter_map(|&i| rules.get(i)) {
                    for sel in &r.selections {
                        let tests: Vec<&FieldTest> = match sel {
                            Selection::All(ts) => ts.iter().collect(),
                            Selection::Any(groups) => groups.iter().flatten().collect(),
                            Selection::Keywords(_) => return (*k, None),
                        };
                        for t in tests {
                            if !names.iter().any(|n| n.eq_ignore_ascii_case(&t.field)) {
                                names.push(t.field.clone());
                            }
                        }
                    }
                }
                (*k, Some(names))
            })
            .collect();
        Prefilter { needs, scan, literals: literals.len(), fields }
    }

    /// Which literals occur in the record's lower-case values.
    fn present(&self, v: &View<'_>, kind: Kind) -> Option<Vec<bool>> {
        let ac = self.scan.as_ref()?;
        let mut seen = vec![false; self.literals];
        let fields = self.fields.get(&kind).and_then(Option::as_deref);
        for text in v.lower_values(fields) {
            for m in ac.find_overlapping_iter(text.as_str()) {
                if let Some(s) = seen.get_mut(m.pattern().as_usize()) {
                    *s = true;
                }
            }
        }
        Some(seen)
    }
}

/// The literals one of which any record matching `c` holds in some lower-case value;
/// `None` when there is no such set.
fn cond_needs(r: &Rule, c: &Cond) -> Option<Vec<String>> {
    match c {
        Cond::Sel(i) => sel_needs(r.selections.get(*i)?),
        Cond::Not(_) => None,
        // Any branch must hold: the sharpest will do.
        Cond::And(xs) => sharpest(xs.iter().filter_map(|x| cond_needs(r, x))),
        // Whichever branch holds: every branch needs literals.
        Cond::Or(xs) => union(xs.iter().map(|x| cond_needs(r, x))),
    }
}

fn sel_needs(s: &Selection) -> Option<Vec<String>> {
    match s {
        Selection::All(ts) => sharpest(ts.iter().filter_map(test_needs)),
        Selection::Any(groups) => {
            union(groups.iter().map(|g| sharpest(g.iter().filter_map(test_needs))))
        }
        Selection::Keywords(pats) => union(pats.iter().map(|p| pattern_needs(p).map(|l| vec![l]))),
    }
}

fn test_needs(t: &FieldTest) -> Option<Vec<String>> {
    if t.exists.is_some() {
        return None;
    }
    if t.all {
        // Every pattern holds: any one's literal is needed.
        t.patterns.iter().find_map(pattern_needs).map(|l| vec![l])
    } else {
        union(t.patterns.iter().map(|p| pattern_needs(p).map(|l| vec![l])))
    }
}

/// A literal in the lower-case form of any value `p` matches.
fn pattern_needs(p: &Pattern) -> Option<String> {
    let Pattern::Text { glob, cased } = p else { return None };
    let lit = match glob {
        Glob::Exact(x) | Glob::Prefix(x) | Glob::Suffix(x) | Glob::Contains(x) => x.clone(),
        // The longest run of a piece without a one-character wildcard.
        Glob::Parts { parts, .. } => parts
            .iter()
            .flat_map(|p| p.split('\u{0}'))
            .max_by_key(|x| x.len())
            .unwrap_or_default()
            .to_string(),
    };
    // A literal of a character or two occurs in nearly every record: it would pass the
    // rule anyway, and costs the scan a match at every occurrence.
    if lit.len() < MIN_LITERAL {
        return None;
    }
    if *cased {
        // A case-sensitive match of ASCII text leaves that text, lower-cased, in the
        // value's lower-case form; other characters may lower-case by context.
        return lit.is_ascii().then(|| lit.to_ascii_lowercase());
    }
    // Case-insensitive globs are lower case already and match the lower-case value.
    Some(lit)
}

/// Bytes a literal needs to be worth scanning for.
const MIN_LITERAL: usize = 3;

/// Of several literal sets each of which is needed, the one that passes fewest records:
/// the longest shortest literal, then the fewest literals.
fn sharpest(sets: impl Iterator<Item = Vec<String>>) -> Option<Vec<String>> {
    let shortest = |s: &Vec<String>| s.iter().map(String::len).min().unwrap_or(0);
    sets.max_by(|a, b| shortest(a).cmp(&shortest(b)).then(b.len().cmp(&a.len())))
}

/// All alternatives together; `None` if any has none.
fn union(sets: impl Iterator<Item = Option<Vec<String>>>) -> Option<Vec<String>> {
    let mut all = Vec::new();
    for s in sets {
        all.extend(s?);
    }
    (!all.is_empty()).then_some(all)
}

/// What loading a directory gave.
#[derive(Debug, Default)]
pub struct SigmaReport {
    /// Rule files read.
    pub files: usize,
    /// Rules compiled.
    pub compiled: usize,
    /// Rules not compiled: (file, reason).
    pub unsupported: Vec<(PathBuf, String)>,
}

impl RuleSet {
    /// Adds a compiled rule.
    pub fn push(&mut self, mut r: Rule) {
        self.prefilter = OnceLock::new();
        let i = self.rules.len();
        for sel in &mut r.selections {
            let tests: Vec<&mut FieldTest> = match sel {
                Selection::All(ts) => ts.iter_mut().collect(),
                Selection::Any(groups) => groups.iter_mut().flatten().collect(),
                Selection::Keywords(_) => Vec::new(),
            };
            for t in tests {
                let n = self.slots.len();
                t.slot = *self.slots.entry(t.field.clone()).or_insert(n);
            }
        }
        for k in &r.source.kinds {
            self.by_kind.entry(*k).or_default().push(i);
        }
        self.rules.push(r);
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every event kind some rule reads.
    pub fn kinds(&self) -> Vec<Kind> {
        let mut k: Vec<Kind> = self.by_kind.keys().copied().collect();
        k.sort();
        k
    }

    /// The rules an event matches.
    pub fn matches<'a>(&'a self, ev: &Event) -> impl Iterator<Item = &'a Rule> + 'a {
        let idx = self.by_kind.get(&ev.kind()).map(Vec::as_slice).unwrap_or(&[]);
        let mut hits = Vec::new();
        if !idx.is_empty() {
            let view = View::of(ev);
            let pf = self.prefilter.get_or_init(|| Prefilter::build(&self.rules, &self.by_kind));
            let present = pf.present(&view, ev.kind());
            for &i in idx {
                let r = &self.rules[i];
                if let (Some(present), Some(Some(needs))) = (&present, pf.needs.get(i)) {
                    if !needs.iter().any(|&l| present.get(l).copied().unwrap_or(true)) {
                        continue;
                    }
                }
                if r.source_ok(&view) && r.eval(&r.cond, &view) {
                    hits.push(r);
                }
            }
        }
        hits.into_iter()
    }

    /// The rules an event matches, every rule of its kind evaluated (no prefilter): what
    /// [`matches`](Self::matches) must equal.
    #[cfg(test)]
    fn matches_every_rule(&self, ev: &Event) -> Vec<&Rule> {
        let idx = self.by_kind.get(&ev.kind()).map(Vec::as_slice).unwrap_or(&[]);
        let view = View::of(ev);
        idx.iter()
            .map(|&i| &self.rules[i])
            .filter(|r| r.source_ok(&view) && r.eval(&r.cond, &view))
            .collect()
    }

    /// Loads every `.yml`/`.yaml` file under `dir` (recursively).
    pub fn load_dir(&mut self, dir: &Path) -> Result<SigmaReport, String> {
        let mut files = Vec::new();
        collect(dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
        files.sort();
        let mut rep = SigmaReport::default();
        for f in files {
            rep.files += 1;
            let text = match std::fs::read_to_string(&f) {
                Ok(t) => t,
                Err(e) => {
                    rep.unsupported.push((f, format!("cannot read: {e}")));
                    continue;
                }
            };
            match compile_text(&text, &f) {
                Ok(rules) => {
                    rep.compiled += rules.len();
                    for r in rules {
                        self.push(r);
                    }
                }
                Err(why) => rep.unsupported.push((f, why)),
            }
        }
        Ok(rep)
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
    Ok(())
}

/// Compiles the rule(s) of one file; an error names the reason.
pub fn compile_text(text: &str, path: &Path) -> Result<Vec<Rule>, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    let mut out = Vec::new();
    for d in &docs {
        if matches!(d, Yaml::Null | Yaml::BadValue) {
            continue;
        }
        out.push(compile(d, path)?);
    }
    if out.is_empty() {
        return Err("no rule in the file".into());
    }
    Ok(out)
}

fn s(y: &Yaml) -> Option<&str> {
    match y {
        Yaml::String(s) => Some(s),
        _ => None,
    }
}

fn key<'a>(y: &'a Yaml, k: &str) -> &'a Yaml {
    match y {
        Yaml::Hash(h) => h.get(&Yaml::String(k.to_string())).unwrap_or(&Yaml::BadValue),
        _ => &Yaml::BadValue,
    }
}

fn tactic_stage(t: &str) -> Option<Stage> {
    Some(match t.replace('_', "-").as_str() {
        "initial-access" => Stage::InitialAccess,
        "execution" => Stage::Execution,
        "persistence" => Stage::Persistence,
        "privilege-escalation" => Stage::PrivilegeEscalation,
        "defense-evasion" | "stealth" | "defense-impairment" => Stage::DefenseEvasion,
        "credential-access" => Stage::CredentialAccess,
        "discovery" => Stage::Discovery,
        "lateral-movement" => Stage::LateralMovement,
        "collection" => Stage::Collection,
        "command-and-control" => Stage::CommandAndControl,
        "exfiltration" => Stage::Exfiltration,
        "impact" => Stage::Impact,
        _ => return None,
    })
}

fn compile(doc: &Yaml, path: &Path) -> Result<Rule, String> {
    let title = s(key(doc, "title")).ok_or("no title")?.to_string();
    let id = s(key(doc, "id")).map(str::to_string).unwrap_or_else(|| {
        path.file_stem().map(|x| x.to_string_lossy().into_owned()).unwrap_or_default()
    });
    let level = match s(key(doc, "level")) {
        Some(l) => Level::parse(l).ok_or_else(|| format!("unknown level {l}"))?,
        None => Level::Medium,
    };
    let mut attack = Vec::new();
    let mut stage = None;
    if let Yaml::Array(tags) = key(doc, "tags") {
        for t in tags.iter().filter_map(s) {
            let Some(rest) = t.strip_prefix("attack.") else { continue };
            if let Some(tid) = Technique::parse(&rest.to_ascii_uppercase()) {
                if !attack.contains(&tid) {
                    attack.push(tid);
                }
            } else if stage.is_none() {
                stage = tactic_stage(rest);
            }
        }
    }
    let source = logsource(key(doc, "logsource"))?;
    let det = key(doc, "detection");
    let Yaml::Hash(h) = det else { return Err("no detection".into()) };
    let mut names = Vec::new();
    let mut selections = Vec::new();
    for (k, v) in h {
        let Some(name) = s(k) else { return Err("a detection key that is not a string".into()) };
        if name == "condition" || name == "timeframe" {
            continue;
        }
        names.push(name.to_string());
        selections.push(selection(v).map_err(|e| format!("selection {name}: {e}"))?);
    }
    let conds: Vec<String> = match key(det, "condition") {
        Yaml::String(c) => vec![c.clone()],
        Yaml::Array(a) => a.iter().filter_map(s).map(str::to_string).collect(),
        _ => return Err("no condition".into()),
    };
    if conds.is_empty() {
        return Err("no condition".into());
    }
    let mut parsed = Vec::new();
    for c in &conds {
        parsed.push(parse_condition(c, &names)?);
    }
    let cond = if parsed.len() == 1 { parsed.remove(0) } else { Cond::Or(parsed) };
    Ok(Rule { title, id, level, attack, stage, path: path.to_path_buf(), source, selections, cond })
}

fn logsource(ls: &Yaml) -> Result<Source, String> {
    let cat = s(key(ls, "category")).unwrap_or("");
    let product = s(key(ls, "product")).unwrap_or("");
    let service = s(key(ls, "service")).unwrap_or("");
    let src = |kinds: Vec<Kind>| Source { kinds, channel: None, event_id: None };
    let win_all = || Kind::ALL.iter().copied().filter(|k| k.is_endpoint()).collect::<Vec<_>>();
    Ok(match (product, cat, service) {
        ("windows" | "linux" | "macos", "process_creation", _) => src(vec![Kind::Process]),
        ("windows", "image_load", _) => src(vec![Kind::ImageLoad]),
        ("windows", "process_access", _) => src(vec![Kind::ProcessAccess]),
        ("windows" | "linux", "network_connection", _) => src(vec![Kind::NetConnect]),
        ("windows" | "linux", "file_event", _) => src(vec![Kind::FileCreate]),
        ("windows", "registry_set" | "registry_event" | "registry_add" | "registry_delete", _) => {
            src(vec![Kind::RegistrySet])
        }
        ("windows", "dns_query", _) => src(vec![Kind::DnsQuery]),
        ("windows", "pipe_created", _) => src(vec![Kind::Pipe]),
        ("windows", "ps_script", _) => src(vec![Kind::ScriptBlock]),
        ("windows", "driver_load", _) => Source { kinds: vec![Kind::WinOther], channel: Some("sysmon"), event_id: Some(6) },
        ("windows", "create_remote_thread", _) => Source { kinds: vec![Kind::WinOther], channel: Some("sysmon"), event_id: Some(8) },
        ("windows", "", "security") => Source { kinds: win_all(), channel: Some("security"), event_id: None },
        ("windows", "", "system") => Source { kinds: win_all(), channel: Some("system"), event_id: None },
        ("windows", "", "application") => Source { kinds: win_all(), channel: Some("application"), event_id: None },
        ("windows", "", "sysmon") => Source { kinds: win_all(), channel: Some("sysmon"), event_id: None },
        ("windows", "", "powershell") => Source { kinds: win_all(), channel: Some("powershell"), event_id: None },
        (_, "dns", _) | ("zeek", "", "dns") => src(vec![Kind::Dns]),
        ("zeek", "", "http") | (_, "proxy", _) => src(vec![Kind::Http]),
        ("zeek", "", "conn") | (_, "firewall", _) => src(vec![Kind::Conn]),
        ("zeek", "", "ssl") => src(vec![Kind::Tls]),
        ("zeek", "", "x509") => src(vec![Kind::X509]),
        ("zeek", "", "smb_files") => src(vec![Kind::Smb]),
        ("zeek", "", "dce_rpc") => src(vec![Kind::DceRpc]),
        ("zeek", "", "kerberos") => src(vec![Kind::Kerberos]),
        ("zeek", "", "rdp") => src(vec![Kind::Rdp]),
        ("zeek", "", "ntlm") => src(vec![Kind::Ntlm]),
        _ => return Err(format!("log source product={product:?} category={cat:?} service={service:?} has no dwell events")),
    })
}

fn selection(v: &Yaml) -> Result<Selection, String> {
    match v {
        Yaml::Hash(_) => Ok(Selection::All(tests(v)?)),
        Yaml::Array(items) if items.iter().all(|i| matches!(i, Yaml::Hash(_))) => {
            Ok(Selection::Any(items.iter().map(tests).collect::<Result<_, _>>()?))
        }
        Yaml::Array(items) => {
            // Keywords are a full-text search: each occurs anywhere in a value.
            let mut pats = Vec::new();
            for i in items {
                pats.extend(values(i, &["contains"])?);
            }
            Ok(Selection::Keywords(pats))
        }
        Yaml::String(_) | Yaml::Integer(_) => Ok(Selection::Keywords(values(v, &["contains"])?)),
        _ => Err("neither a map, a list of maps nor keywords".into()),
    }
}

fn tests(v: &Yaml) -> Result<Vec<FieldTest>, String> {
    let Yaml::Hash(h) = v else { return Err("expected a map".into()) };
    let mut out = Vec::new();
    for (k, val) in h {
        let Some(k) = s(k) else { return Err("a field name that is not a string".into()) };
        let mut parts = k.split('|');
        let field = parts.next().unwrap_or("").to_string();
        let mods: Vec<&str> = parts.collect();
        let mut all = false;
        let mut exists = None;
        for m in &mods {
            match *m {
                "all" => all = true,
                "exists" => {
                    exists = Some(match val {
                        Yaml::Boolean(b) => *b,
                        Yaml::String(t) => t.eq_ignore_ascii_case("true"),
                        _ => return Err("exists needs true or false".into()),
                    })
                }
                "contains" | "startswith" | "endswith" | "re" | "cidr" | "base64"
                | "base64offset" | "windash" | "cased" | "i" | "m" | "s" => {}
                other => return Err(format!("modifier {other} is not supported")),
            }
        }
        let patterns = if exists.is_some() { Vec::new() } else { values(val, &mods)? };
        out.push(FieldTest { field, slot: 0, patterns, all, exists });
    }
    Ok(out)
}

fn scalar(v: &Yaml) -> Result<Option<String>, String> {
    Ok(match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        Yaml::Boolean(b) => Some(b.to_string()),
        Yaml::Null => None,
        _ => return Err("a value that is not a scalar".into()),
    })
}

fn values(v: &Yaml, mods: &[&str]) -> Result<Vec<Pattern>, String> {
    let raw: Vec<Option<String>> = match v {
        Yaml::Array(a) => a.iter().map(scalar).collect::<Result<_, _>>()?,
        other => vec![scalar(other)?],
    };
    let has = |m: &str| mods.contains(&m);
    let mut out = Vec::new();
    for r in raw {
        let Some(text) = r else {
            out.push(Pattern::Null);
            continue;
        };
        if has("re") {
            let mut flags = String::new();
            for (m, f) in [("i", 'i'), ("m", 'm'), ("s", 's')] {
                if has(m) {
                    flags.push(f);
                }
            }
            let src = if flags.is_empty() { text.clone() } else { format!("(?{flags}){text}") };
            let re = regex_lite::Regex::new(&src)
                .map_err(|e| format!("regular expression {text:?}: {e}"))?;
            out.push(Pattern::Re(re));
            continue;
        }
        if has("cidr") {
            let net: ipnet::IpNet =
                text.parse().map_err(|_| format!("{text:?} is not a CIDR block"))?;
            out.push(Pattern::Cidr(net));
            continue;
        }
        let mut variants = vec![text];
        if has("windash") {
            variants = variants.iter().flat_map(|t| windash(t)).collect();
        }
        if has("base64offset") {
            variants = variants.iter().flat_map(|t| base64_offsets(t.as_bytes())).collect();
        } else if has("base64") {
            variants = variants.iter().map(|t| base64(t.as_bytes())).collect();
        }
        let cased = has("cased") || has("base64") || has("base64offset");
        for t in variants {
            let lead = has("contains") || has("base64offset") || has("endswith");
            let trail = has("contains") || has("base64offset") || has("startswith");
            out.push(Pattern::Text { glob: glob_wrapped(&t, cased, lead, trail), cased });
        }
    }
    Ok(out)
}

fn windash(t: &str) -> Vec<String> {
    let mut out = vec![t.to_string()];
    let starts: Vec<usize> = t
        .char_indices()
        .filter(|(i, c)| *c == '-' && (*i == 0 || t[..*i].ends_with(' ')))
        .map(|(i, _)| i)
        .collect();
    if starts.is_empty() {
        return out;
    }
    for rep in ["/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        let mut s = String::new();
        let mut last = 0;
        for &i in &starts {
            s.push_str(&t[last..i]);
            s.push_str(rep);
            last = i + 1;
        }
        s.push_str(&t[last..]);
        out.push(s);
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(B64[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The three encodings of `b` at the three byte offsets it may start at inside a
/// longer base64 text, trimmed of the characters that depend on the neighbours.
fn base64_offsets(b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..3usize {
        let mut buf = vec![b' '; i];
        buf.extend_from_slice(b);
        let enc = base64(&buf);
        let enc = enc.trim_end_matches('=');
        let start = [0, 2, 3][i];
        let end_trim = [0, 2, 3][(b.len() + i) % 3];
        let end = enc.len().saturating_sub(end_trim);
        if start < end {
            out.push(enc[start..end].to_string());
        }
    }
    out
}

fn glob(t: &str, cased: bool) -> Glob {
    glob_wrapped(t, cased, false, false)
}

/// A value's test: `*`/`?` are wildcards, `\*`, `\?` and `\\` literals; `lead`/`trail`
/// add a wildcard before/after the value (the `contains`/`endswith`/`startswith`
/// modifiers), outside its escapes.
fn glob_wrapped(t: &str, cased: bool, lead: bool, trail: bool) -> Glob {
    let t = if cased { t.to_string() } else { t.to_lowercase() };
    // Unescape `\*` and `\?` into literals; remember which are wildcards.
    let mut parts: Vec<String> = vec![String::new()];
    if lead {
        parts.push(String::new());
    }
    let mut wild_q = false;
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*') | Some('?') | Some('\\')) => {
                if let (Some(n), Some(last)) = (chars.next(), parts.last_mut()) {
                    last.push(if n == '?' { '\u{1}' } else { n });
                }
            }
            '*' => parts.push(String::new()),
            '?' => {
                wild_q = true;
                if let Some(last) = parts.last_mut() {
                    last.push('\u{0}');
                }
            }
            c => {
                if let Some(last) = parts.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    if trail {
        parts.push(String::new());
    }
    // \u{1} marked a literal '?'.
    let fix = |s: &str| s.replace('\u{1}', "?");
    let n = parts.len();
    if !wild_q {
        let p: Vec<String> = parts.iter().map(|s| fix(s)).collect();
        match n {
            1 => return Glob::Exact(p[0].clone()),
            2 if p[1].is_empty() => return Glob::Prefix(p[0].clone()),
            2 if p[0].is_empty() => return Glob::Suffix(p[1].clone()),
            3 if p[0].is_empty() && p[2].is_empty() => return Glob::Contains(p[1].clone()),
            _ => {}
        }
    }
    let anchored_start = !parts[0].is_empty();
    let anchored_end = !parts[n - 1].is_empty();
    Glob::Parts {
        parts: parts.into_iter().map(|s| fix(&s)).filter(|s| !s.is_empty()).collect(),
        anchored_start,
        anchored_end,
    }
}

/// Whether `piece` (with `\0` as a one-character wildcard) matches `hay` at byte `at`.
fn piece_at(hay: &str, at: usize, piece: &str) -> Option<usize> {
    let mut h = hay.get(at..)?.chars();
    let mut used = 0;
    for pc in piece.chars() {
        let hc = h.next()?;
        if pc != '\u{0}' && pc != hc {
            return None;
        }
        used += hc.len_utf8();
    }
    Some(at + used)
}

fn find_piece(hay: &str, from: usize, piece: &str) -> Option<(usize, usize)> {
    if !piece.contains('\u{0}') {
        let i = hay.get(from..)?.find(piece)?;
        return Some((from + i, from + i + piece.len()));
    }
    let mut i = from;
    while i <= hay.len() {
        if hay.is_char_boundary(i) {
            if let Some(end) = piece_at(hay, i, piece) {
                return Some((i, end));
            }
        }
        i += 1;
    }
    None
}

impl Glob {
    fn test(&self, v: &str) -> bool {
        match self {
            Glob::Exact(p) => v == p,
            Glob::Prefix(p) => v.starts_with(p.as_str()),
            Glob::Suffix(p) => v.ends_with(p.as_str()),
            Glob::Contains(p) => v.contains(p.as_str()),
            Glob::Parts { parts, anchored_start, anchored_end } => {
                if parts.is_empty() {
                    return true;
                }
                let mut pos = 0;
                for (i, p) in parts.iter().enumerate() {
                    let last = i + 1 == parts.len();
                    if i == 0 && *anchored_start {
                        match piece_at(v, 0, p) {
                            Some(e) => pos = e,
                            None => return false,
                        }
                        if last && *anchored_end {
                            return pos == v.len();
                        }
                        continue;
                    }
                    if last && *anchored_end {
                        // The last piece must end the text.
                        let n = p.chars().count();
                        let start = v.char_indices().rev().nth(n.saturating_sub(1)).map(|(i, _)| i);
                        return match start {
                            Some(s) if s >= pos => piece_at(v, s, p) == Some(v.len()),
                            _ => n == 0,
                        };
                    }
                    match find_piece(v, pos, p) {
                        Some((_, e)) => pos = e,
                        None => return false,
                    }
                }
                true
            }
        }
    }
}

impl Pattern {
    /// Tests value `v`; `lower` gives its lower-case form (built once per record and
    /// field, shared by every rule).
    fn test(&self, v: Option<&str>, lower: &dyn Fn() -> Option<Rc<str>>) -> bool {
        match self {
            Pattern::Null => v.is_none_or(str::is_empty),
            Pattern::Text { glob, cased } => {
                let Some(v) = v else { return false };
                if *cased {
                    glob.test(v)
                } else {
                    lower().is_some_and(|l| glob.test(&l))
                }
            }
            Pattern::Re(re) => v.is_some_and(|v| re.is_match(v)),
            Pattern::Cidr(n) => {
                v.and_then(|v| v.trim().parse::<IpAddr>().ok()).is_some_and(|ip| n.contains(&ip))
            }
        }
    }
}

/// A field's value: borrowed from the record, or made for it (`EventID`, network
/// fields).
#[derive(Clone)]
enum Val<'a> {
    Of(&'a str),
    Made(Rc<str>),
}

impl std::ops::Deref for Val<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Val::Of(s) => s,
            Val::Made(s) => s,
        }
    }
}

/// A field of the record looked up by some rule: its value and, once a
/// case-insensitive pattern asked, its lower-case form.
struct Slot<'a> {
    slot: usize,
    val: Option<Val<'a>>,
    lower: Option<Option<Rc<str>>>,
}

/// The record as Sigma sees it: named fields, with what the rules of the record share
/// built once — each field they test (looked up by name once, lower-cased at most once),
/// the lower-case channel, and all values for keyword selections.
struct View<'a> {
    rec: Rec<'a>,
    /// The fields looked up so far (a handful per record).
    seen: RefCell<Vec<Slot<'a>>>,
    /// Every value and its lower-case form, on first use by a keyword selection.
    all: OnceCell<Vec<(String, Rc<str>)>>,
    /// The channel in lower case, for log sources.
    channel: String,
}

enum Rec<'a> {
    Win(&'a WinEvent),
    Net(Vec<(&'static str, String)>),
}

impl<'a> View<'a> {
    fn of(ev: &'a Event) -> View<'a> {
        let rec = match &ev.body {
            Body::Win(w) => Rec::Win(w),
            other => Rec::Net(net_fields(other)),
        };
        let channel = match &rec {
            Rec::Win(w) => w.channel.to_ascii_lowercase(),
            Rec::Net(_) => String::new(),
        };
        View { rec, seen: RefCell::new(Vec::new()), all: OnceCell::new(), channel }
    }

    /// The value of the field a test reads.
    fn get(&self, t: &FieldTest) -> Option<Val<'a>> {
        let mut seen = self.seen.borrow_mut();
        if let Some(s) = seen.iter().find(|s| s.slot == t.slot) {
            return s.val.clone();
        }
        let val = self.fetch(&t.field);
        seen.push(Slot { slot: t.slot, val: val.clone(), lower: None });
        val
    }

    /// The lower-case value of the field a test reads (after [`get`](Self::get)).
    fn lower(&self, t: &FieldTest) -> Option<Rc<str>> {
        let mut seen = self.seen.borrow_mut();
        let s = seen.iter_mut().find(|s| s.slot == t.slot)?;
        let val = &s.val;
        s.lower.get_or_insert_with(|| val.as_deref().map(|v| Rc::from(v.to_lowercase()))).clone()
    }

    fn fetch(&self, name: &str) -> Option<Val<'a>> {
        match &self.rec {
            Rec::Win(w) => {
                match name {
                    "EventID" | "EventId" => return Some(Val::Made(w.event_id.to_string().into())),
                    "Channel" => return Some(Val::Of(&w.channel)),
                    "Computer" | "ComputerName" | "Hostname" => return Some(Val::Of(&w.computer)),
                    "Provider_Name" | "Provider" => return w.provider.as_deref().map(Val::Of),
                    _ => {}
                }
                w.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| Val::Of(v))
            }
            Rec::Net(f) => f
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| Val::Made(Rc::from(v.as_str()))),
        }
    }

    /// The values of `fields` (every value when `None`), lower-cased one by one as fields
    /// are for patterns: the data fields whose names equal one of them regardless of case
    /// (the one a test reads is among them) and, for Windows, the event id, channel,
    /// computer and provider.
    fn lower_values(&self, fields: Option<&[String]>) -> Vec<String> {
        let wanted = |k: &str| fields.is_none_or(|f| f.iter().any(|n| n.eq_ignore_ascii_case(k)));
        match &self.rec {
            Rec::Win(w) => {
                let mut out: Vec<String> = w
                    .fields
                    .iter()
                    .filter(|(k, _)| wanted(k))
                    .map(|(_, v)| v.to_lowercase())
                    .collect();
                out.push(w.event_id.to_string());
                out.push(w.channel.to_lowercase());
                out.push(w.computer.to_lowercase());
                if let Some(p) = &w.provider {
                    out.push(p.to_lowercase());
                }
                out
            }
            Rec::Net(f) => {
                f.iter().filter(|(k, _)| wanted(k)).map(|(_, v)| v.to_lowercase()).collect()
            }
        }
    }

    fn all_values(&self) -> &[(String, Rc<str>)] {
        self.all.get_or_init(|| {
            let pair = |v: &str| (v.to_string(), Rc::from(v.to_lowercase()));
            match &self.rec {
                Rec::Win(w) => w.fields.iter().map(|(_, v)| pair(v)).collect(),
                Rec::Net(f) => f.iter().map(|(_, v)| pair(v)).collect(),
            }
        })
    }
}

/// Zeek field names of a network record (Sigma's Zeek rules use them).
fn net_fields(b: &Body) -> Vec<(&'static str, String)> {
    let mut f: Vec<(&'static str, String)> = Vec::new();
    if let Some(fl) = b.flow() {
        f.push(("id.orig_h", fl.orig_h.to_string()));
        f.push(("id.orig_p", fl.orig_p.to_string()));
        f.push(("id.resp_h", fl.resp_h.to_string()));
        f.push(("id.resp_p", fl.resp_p.to_string()));
        f.push(("src_ip", fl.orig_h.to_string()));
        f.push(("dst_ip", fl.resp_h.to_string()));
        f.push(("dst_port", fl.resp_p.to_string()));
        f.push(("proto", fl.proto.as_str().to_string()));
    }
    let mut o = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            f.push((k, v));
        }
    };
    match b {
        Body::Conn(c) => {
            o("service", c.service.as_deref().map(str::to_string));
            o("conn_state", c.conn_state.as_deref().map(str::to_string));
            o("history", c.history.as_deref().map(str::to_string));
            o("orig_bytes", c.orig_bytes.map(|x| x.to_string()));
            o("resp_bytes", c.resp_bytes.map(|x| x.to_string()));
            o("duration", c.duration.map(|x| x.to_string()));
        }
        Body::Dns(d) => {
            o("query", d.query.as_deref().map(str::to_string));
            o("qtype_name", d.qtype_name.as_deref().map(str::to_string));
            o("record_type", d.qtype_name.as_deref().map(str::to_string));
            o("rcode_name", d.rcode_name.as_deref().map(str::to_string));
            o(
                "answers",
                Some(d.answers.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(",")),
            );
        }
        Body::Http(h) => {
            o("method", h.method.as_deref().map(str::to_string));
            o("host", h.host.as_deref().map(str::to_string));
            o("uri", h.uri.as_deref().map(str::to_string));
            o("user_agent", h.user_agent.as_deref().map(str::to_string));
            o("status_code", h.status_code.map(|x| x.to_string()));
            o("referrer", h.referrer.as_deref().map(str::to_string));
        }
        Body::Tls(t) => {
            o("server_name", t.server_name.as_deref().map(str::to_string));
            o("version", t.version.as_deref().map(str::to_string));
            o("ja3", t.ja3.as_deref().map(str::to_string));
            o("ja3s", t.ja3s.as_deref().map(str::to_string));
            o("subject", t.subject.as_deref().map(str::to_string));
            o("issuer", t.issuer.as_deref().map(str::to_string));
        }
        Body::Smb(s) => {
            o("path", s.path.as_deref().map(str::to_string));
            o("name", s.name.as_deref().map(str::to_string));
        }
        Body::DceRpc(d) => {
            o("endpoint", d.endpoint.as_deref().map(str::to_string));
            o("operation", d.operation.as_deref().map(str::to_string));
            o("named_pipe", d.named_pipe.as_deref().map(str::to_string));
        }
        Body::Kerberos(k) => {
            o("request_type", k.request_type.as_deref().map(str::to_string));
            o("client", k.client.as_deref().map(str::to_string));
            o("service", k.service.as_deref().map(str::to_string));
            o("cipher", k.cipher.as_deref().map(str::to_string));
        }
        _ => {}
    }
    f
}

impl Rule {
    fn source_ok(&self, v: &View<'_>) -> bool {
        let Rec::Win(w) = &v.rec else { return self.source.channel.is_none() };
        if let Some(c) = self.source.channel {
            if !v.channel.contains(c) {
                return false;
            }
        }
        self.source.event_id.is_none_or(|id| id == w.event_id)
    }

    fn eval(&self, c: &Cond, v: &View<'_>) -> bool {
        match c {
            Cond::Sel(i) => self.selections.get(*i).is_some_and(|s| sel_test(s, v)),
            Cond::Not(x) => !self.eval(x, v),
            Cond::And(xs) => xs.iter().all(|x| self.eval(x, v)),
            Cond::Or(xs) => xs.iter().any(|x| self.eval(x, v)),
        }
    }
}

fn field_test(t: &FieldTest, v: &View<'_>) -> bool {
    let val = v.get(t);
    if let Some(want) = t.exists {
        return val.as_deref().is_some_and(|x| !x.is_empty()) == want;
    }
    let lower = || v.lower(t);
    if t.all {
        t.patterns.iter().all(|p| p.test(val.as_deref(), &lower))
    } else {
        t.patterns.iter().any(|p| p.test(val.as_deref(), &lower))
    }
}

fn sel_test(s: &Selection, v: &View<'_>) -> bool {
    match s {
        Selection::All(ts) => ts.iter().all(|t| field_test(t, v)),
        Selection::Any(groups) => groups.iter().any(|g| g.iter().all(|t| field_test(t, v))),
        Selection::Keywords(pats) => {
            let vals = v.all_values();
            pats.iter().any(|p| vals.iter().any(|(x, l)| p.test(Some(x), &|| Some(l.clone()))))
        }
    }
}

/// Parses a condition over the selection `names`.
fn parse_condition(text: &str, names: &[String]) -> Result<Cond, String> {
    if text.contains('|') {
        return Err(format!("condition {text:?}: aggregations (| count(), ...) are not supported"));
    }
    let toks = tokenize(text);
    let mut p = Parser { toks, pos: 0, names };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("condition {text:?}: unexpected {:?}", p.toks[p.pos]));
    }
    Ok(c)
}

fn tokenize(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in t.chars() {
        match c {
            '(' | ')' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

struct Parser<'a> {
    toks: Vec<String>,
    pos: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut xs = vec![self.and()?];
        while self.peek() == Some("or") {
            self.pos += 1;
            xs.push(self.and()?);
        }
        Ok(if xs.len() == 1 { xs.remove(0) } else { Cond::Or(xs) })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut xs = vec![self.not()?];
        while self.peek() == Some("and") {
            self.pos += 1;
            xs.push(self.not()?);
        }
        Ok(if xs.len() == 1 { xs.remove(0) } else { Cond::And(xs) })
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek() == Some("not") {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Cond, String> {
        let Some(t) = self.peek().map(str::to_string) else {
            return Err("condition ends early".into());
        };
        self.pos += 1;
        if t == "(" {
            let c = self.or()?;
            if self.peek() != Some(")") {
                return Err("unbalanced parentheses".into());
            }
            self.pos += 1;
            return Ok(c);
        }
        if (t == "1" || t == "all" || t == "any") && self.peek() == Some("of") {
            self.pos += 1;
            let Some(target) = self.peek().map(str::to_string) else {
                return Err(format!("{t} of: what?"));
            };
            self.pos += 1;
            let idx: Vec<usize> = if target == "them" {
                (0..self.names.len()).filter(|i| !self.names[*i].starts_with('_')).collect()
            } else {
                let g = glob(&target, true);
                (0..self.names.len()).filter(|i| g.test(&self.names[*i])).collect()
            };
            if idx.is_empty() {
                return Err(format!("{t} of {target}: no selection matches"));
            }
            let xs: Vec<Cond> = idx.into_iter().map(Cond::Sel).collect();
            return Ok(if t == "all" { Cond::And(xs) } else { Cond::Or(xs) });
        }
        if matches!(t.as_str(), "and" | "or" | ")" | "of") {
            return Err(format!("unexpected {t:?}"));
        }
        match self.names.iter().position(|n| *n == t) {
            Some(i) => Ok(Cond::Sel(i)),
            None => Err(format!("condition names {t:?}, which is no selection")),
        }
    }
}

#[cfg(test)]
mod tests;
