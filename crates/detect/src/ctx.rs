//! `Ctx`: a detector's only door out, and the deduplicating store of findings.
//!
//! Detectors never do I/O and never read the wall clock. Through [`Ctx`] they read the
//! event time, the org profile and the baselines, count metrics, and emit findings.
//! Emitting is idempotent by key: the same (detector, entity, peer, discriminator) emitted
//! again *updates* the finding (first time kept, last time extended, score, summary and
//! evidence replaced by the newer, sources added up to a cap). A detector can therefore
//! emit early and refine later (at a watermark or at the end) without producing
//! duplicates, and the finding id is stable: a hash of the key, not a counter.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use dwell_model::{Entity, Peer, SourceRef, Stage, Technique, Timestamp};

use crate::baselines::Baselines;
use crate::meta::DetectorMeta;
use crate::profile::OrgProfile;

/// Most sources kept per finding.
pub const MAX_SOURCES: usize = 5;
/// Most distinct findings held; beyond it new keys are dropped and counted. A hostile
/// input that makes a detector fire per random address cannot exhaust memory.
pub const MAX_FINDINGS: usize = 200_000;

/// A finding as a detector states it.
#[derive(Clone, Debug)]
pub struct Draft {
    /// Distinguishes findings of one detector on the same entity and peer (e.g. the
    /// matched indicator); empty when entity and peer suffice.
    pub discriminator: String,
    /// First evidence.
    pub time: Timestamp,
    /// Last evidence.
    pub end: Timestamp,
    /// Title; `None` uses the detector's.
    pub title: Option<String>,
    /// Stage; `None` uses the detector's.
    pub stage: Option<Stage>,
    /// Techniques; `None` uses the detector's.
    pub attack: Option<Vec<Technique>>,
    /// 0–100.
    pub score: f64,
    /// The internal host.
    pub entity: Entity,
    /// The other side.
    pub peer: Option<Peer>,
    /// One sentence.
    pub summary: String,
    /// Figures (a JSON object).
    pub evidence: serde_json::Map<String, serde_json::Value>,
    /// Where in the input.
    pub sources: Vec<SourceRef>,
}

impl Draft {
    /// A draft at `time` with everything else empty.
    pub fn new(entity: Entity, time: Timestamp, score: f64, summary: String) -> Draft {
        Draft {
            discriminator: String::new(),
            time,
            end: time,
            title: None,
            stage: None,
            attack: None,
            score,
            entity,
            peer: None,
            summary,
            evidence: serde_json::Map::new(),
            sources: Vec::new(),
        }
    }
}

/// A finding held by the sink, before the engine resolves its sources to file names.
#[derive(Clone, Debug)]
pub struct Pending {
    /// Stable id.
    pub id: String,
    /// Detector metadata.
    pub meta: &'static DetectorMeta,
    /// The latest draft (with time = earliest, end = latest across emits).
    pub draft: Draft,
    /// How many times it was emitted.
    pub emits: u64,
}

/// FNV-1a, 64 bit: a stable hash for ids (never used for hash maps).
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.as_bytes().iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The deduplicating store of findings.
#[derive(Debug, Default)]
pub struct FindingSink {
    by_id: HashMap<String, Pending, foldhash::fast::RandomState>,
    /// Findings not kept because the store was full.
    pub dropped: u64,
}

impl FindingSink {
    /// An empty sink.
    pub fn new() -> Self {
        FindingSink::default()
    }

    /// Adds or updates a finding. A statement with a score of zero (or less) withdraws
    /// the finding: later data cleared it (a name appeared for an address, a volume
    /// turned out to be routine).
    pub fn emit(&mut self, meta: &'static DetectorMeta, d: Draft) {
        let peer_key = d.peer.as_ref().map(|p| p.to_string()).unwrap_or_default();
        let entity_key = d.entity.key();
        let h = stable_hash(&[meta.id, &entity_key, &peer_key, &d.discriminator]);
        let id = format!("{}-{h:016x}", meta.id);
        if d.score <= 0.0 {
            self.by_id.remove(&id);
            return;
        }
        if let Some(p) = self.by_id.get_mut(&id) {
            let time = p.draft.time.min(d.time);
            let end = p.draft.end.max(d.end);
            let mut sources = std::mem::take(&mut p.draft.sources);
            for s in d.sources.iter() {
                if sources.len() < MAX_SOURCES && !sources.contains(s) {
                    sources.push(*s);
                }
            }
            p.draft = d;
            p.draft.time = time;
            p.draft.end = end;
            p.draft.sources = sources;
            p.emits += 1;
            return;
        }
        if self.by_id.len() >= MAX_FINDINGS {
            self.dropped += 1;
            return;
        }
        let mut d = d;
        d.sources.truncate(MAX_SOURCES);
        self.by_id.insert(id.clone(), Pending { id, meta, draft: d, emits: 1 });
    }

    /// Number of findings held.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no finding is held.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// All findings, sorted by (time, detector, entity) as the spec orders them.
    pub fn into_sorted(self) -> Vec<Pending> {
        // Each entity's key is built once, not at every comparison.
        let mut v: Vec<(String, Pending)> =
            self.by_id.into_values().map(|p| (p.draft.entity.key(), p)).collect();
        v.sort_by(|(ka, a), (kb, b)| {
            (a.draft.time, a.meta.id, ka, &a.id).cmp(&(b.draft.time, b.meta.id, kb, &b.id))
        });
        v.into_iter().map(|(_, p)| p).collect()
    }
}

/// Named counters (`dropped.long_connection.pairs_full`, ...), summed across detectors.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Counter values by name.
    pub counters: BTreeMap<String, u64>,
    /// The last scoped name built, reused: counters are bumped per event (a drop at a
    /// full table), and naming one must not allocate.
    scratch: String,
}

impl Metrics {
    /// Adds `n` to counter `name`.
    pub fn add(&mut self, name: &str, n: u64) {
        if let Some(v) = self.counters.get_mut(name) {
            *v += n;
        } else {
            self.counters.insert(name.to_string(), n);
        }
    }

    /// Adds `n` to counter `scope.name`.
    pub fn add_scoped(&mut self, scope: &str, name: &str, n: u64) {
        let mut key = std::mem::take(&mut self.scratch);
        key.clear();
        key.push_str(scope);
        key.push('.');
        key.push_str(name);
        self.add(&key, n);
        self.scratch = key;
    }
}

/// The door out of a detector.
pub struct Ctx<'a> {
    now: Timestamp,
    meta: &'static DetectorMeta,
    profile: &'a OrgProfile,
    baselines: &'a Baselines,
    sink: &'a mut FindingSink,
    metrics: &'a mut Metrics,
}

impl<'a> Ctx<'a> {
    /// A context for one call into one detector.
    pub fn new(
        now: Timestamp,
        meta: &'static DetectorMeta,
        profile: &'a OrgProfile,
        baselines: &'a Baselines,
        sink: &'a mut FindingSink,
        metrics: &'a mut Metrics,
    ) -> Self {
        Ctx { now, meta, profile, baselines, sink, metrics }
    }

    /// Current event time (the event's time in `on_event`, the watermark in `on_watermark`).
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The org profile.
    pub fn profile(&self) -> &OrgProfile {
        self.profile
    }

    /// The pattern-of-life baselines.
    pub fn baselines(&self) -> &Baselines {
        self.baselines
    }

    /// Emits (or updates) a finding.
    pub fn emit(&mut self, d: Draft) {
        self.sink.emit(self.meta, d);
    }

    /// Adds to a counter, namespaced by the detector id.
    pub fn count(&mut self, name: &str, n: u64) {
        self.metrics.add_scoped(self.meta.id, name, n);
    }

    /// The entity for an internal address: its role from the profile and its host name
    /// when the telemetry told it (DHCP).
    pub fn entity(&self, ip: IpAddr) -> Entity {
        Entity {
            ip: Some(ip),
            host: self
                .profile
                .host_name(ip)
                .or_else(|| self.baselines.host_name(ip))
                .map(str::to_string),
            role: self.profile.role(ip).map(str::to_string),
        }
    }
}

impl Ctx<'_> {
    /// The entity for a computer known by name (an endpoint record's `Computer`): its
    /// address when telemetry linked the two (DHCP, NTLM, Sysmon network events, remote
    /// logons), and that address's role.
    pub fn host_entity(&self, computer: &str) -> Entity {
        let ip = self.profile.host_ip(computer).or_else(|| self.baselines.ip_of_host(computer));
        Entity {
            ip,
            host: Some(computer.to_string()),
            role: ip.and_then(|ip| self.profile.role(ip)).map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static META: DetectorMeta = DetectorMeta {
        id: "test_detector",
        title: "Test",
        stage: Stage::CommandAndControl,
        attack: &[],
        inputs: &[],
        doc: "",
        params: Vec::new,
    };

    fn draft(t: i64, score: f64) -> Draft {
        let mut d = Draft::new(
            Entity::ip("10.0.0.1".parse().unwrap()),
            Timestamp::from_secs(t),
            score,
            format!("at {t}"),
        );
        d.sources.push(SourceRef { file: dwell_model::FileId(0), record: t as u64 });
        d
    }

    #[test]
    fn emits_merge_by_key() {
        let mut s = FindingSink::new();
        s.emit(&META, draft(10, 40.0));
        s.emit(&META, draft(5, 60.0));
        s.emit(&META, draft(20, 30.0));
        assert_eq!(s.len(), 1);
        let v = s.into_sorted();
        let p = &v[0];
        assert_eq!(p.draft.time, Timestamp::from_secs(5));
        assert_eq!(p.draft.end, Timestamp::from_secs(20));
        assert_eq!(p.draft.score, 30.0, "the latest statement wins");
        assert_eq!(p.draft.sources.len(), 3);
        assert_eq!(p.emits, 3);
    }

    #[test]
    fn zero_score_withdraws() {
        let mut s = FindingSink::new();
        s.emit(&META, draft(10, 40.0));
        s.emit(&META, draft(20, 0.0));
        assert!(s.is_empty());
        s.emit(&META, draft(30, 0.0));
        assert!(s.is_empty(), "withdrawing what was never stated adds nothing");
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let mut a = FindingSink::new();
        a.emit(&META, draft(1, 1.0));
        let mut other = draft(1, 1.0);
        other.discriminator = "x".into();
        a.emit(&META, other);
        let v = a.into_sorted();
        assert_eq!(v.len(), 2);
        assert_ne!(v[0].id, v[1].id);
        let mut b = FindingSink::new();
        b.emit(&META, draft(1, 1.0));
        let again = b.into_sorted();
        assert!(v.iter().any(|p| p.id == again[0].id));
        assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
    }
}
