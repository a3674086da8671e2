//! The batch pipeline: inputs → merged events → baselines → detectors → findings.
//!
//! Detectors are called only for the event kinds their metadata lists, in registry
//! order. Watermarks fire every `tick_s` of event time (default 60 s) so detectors can
//! close windows and evict state; `on_finish` runs once at the end. Findings come out
//! sorted by (time, detector, entity) with their sources resolved to file names.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dwell_decode::{CertStore, DecodeOptions, FileStats};
use dwell_detect::{
    build_all, Baselines, BuildCx, Ctx, Detector, FindingSink, IntelSet, Metrics, OrgProfile,
};
use dwell_model::{Body, Event, Finding, Kind, Source, Timestamp};

use crate::inputs::Inputs;
use crate::merge::Merge;
use crate::EngineError;

/// Knobs of a run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Decoding knobs.
    pub decode: DecodeOptions,
    /// Reorder window of each input, seconds of event time.
    pub reorder_window_s: f64,
    /// Event time between watermarks, seconds.
    pub tick_s: f64,
    /// Saved baselines to start from (`--baseline`), merged in order.
    pub baseline_in: Vec<std::path::PathBuf>,
    /// Where to save the baselines at the end (`--save-baseline`).
    pub baseline_out: Option<std::path::PathBuf>,
    /// Leave the detectors' and baselines' state to the operating system instead of
    /// freeing it at the end of the run. A one-shot process (the CLI) exits right after
    /// the report; freeing millions of per-pair allocations one by one took a fifth of
    /// a run's time, the kernel reclaims the pages at once. Off for library callers,
    /// which may run many times in one process.
    pub leave_state_to_exit: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            decode: DecodeOptions::default(),
            reorder_window_s: 600.0,
            tick_s: 60.0,
            baseline_in: Vec::new(),
            baseline_out: None,
            leave_state_to_exit: false,
        }
    }
}

/// Progress of a run, for progress bars.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Bytes read from disk.
    pub bytes: u64,
    /// Bytes on disk in all.
    pub total: u64,
    /// Events so far.
    pub events: u64,
}

/// What a run produced, besides the findings.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Per-file counts, indexed like `Inputs::files`.
    pub files: Vec<FileStats>,
    /// Events delivered.
    pub events: u64,
    /// Events delivered late (after a later one).
    pub late: u64,
    /// Certificates loaded for the ssl↔x509 join.
    pub certs: usize,
    /// Detector counters (drops by reason, ...), plus the baselines' and sink's drops.
    pub metrics: Metrics,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// First and last event time.
    pub span: Option<(Timestamp, Timestamp)>,
    /// Role of each internal host a finding names as its peer (the hosts an intruder
    /// reached), as the baselines know it at the end of the run: the incident score
    /// weighs the roles of every host involved.
    pub peer_roles: BTreeMap<IpAddr, String>,
}

impl RunStats {
    /// Totals over all files.
    pub fn totals(&self) -> FileStats {
        let mut t = FileStats::default();
        for f in &self.files {
            t.merge_counts(f);
        }
        t
    }
}

/// Reads every x509 log of the run into a certificate store.
pub fn load_certs(inputs: &Inputs, opts: &DecodeOptions) -> CertStore {
    let mut store = CertStore::new();
    for (i, f) in inputs.files.iter().enumerate() {
        if f.log_hint.as_deref() != Some("x509") {
            continue;
        }
        let Ok(dec) = inputs.open(i, opts) else { continue };
        for ev in dec {
            if let Body::X509(c) = ev.body {
                store.insert(c);
            }
        }
    }
    store
}

/// The events of a run in time order (for `dwell decode` and for analysis).
pub fn events<'a>(inputs: &'a Inputs, opts: &RunOptions) -> (Merge<'a>, usize) {
    let mut decode = opts.decode.clone();
    let certs = load_certs(inputs, &decode);
    let n = certs.len();
    if !certs.is_empty() {
        decode.certs = Some(Arc::new(certs));
    }
    (Merge::new(inputs, decode, opts.reorder_window_s), n)
}

/// Drives detectors over events.
pub struct Engine {
    profile: OrgProfile,
    detectors: Vec<Box<dyn Detector>>,
    by_kind: Vec<Vec<usize>>,
    baselines: Baselines,
    sink: FindingSink,
    metrics: Metrics,
    next_tick: Timestamp,
    tick_us: i64,
    last: Timestamp,
}

impl Engine {
    /// Builds every registered detector from the profile and intel.
    pub fn new(
        profile: OrgProfile,
        intel: Arc<IntelSet>,
        tick_s: f64,
    ) -> Result<Engine, EngineError> {
        let detectors = build_all(&BuildCx { profile: &profile, intel: &intel })
            .map_err(|e| EngineError::Config(e.to_string()))?;
        let mut by_kind = vec![Vec::new(); Kind::ALL.len()];
        for (i, d) in detectors.iter().enumerate() {
            for k in d.inputs() {
                if let Some(v) = by_kind.get_mut(k as usize) {
                    v.push(i);
                }
            }
        }
        Ok(Engine {
            profile,
            detectors,
            by_kind,
            baselines: Baselines::new(),
            sink: FindingSink::new(),
            metrics: Metrics::default(),
            next_tick: Timestamp::MIN,
            tick_us: (tick_s.max(1.0) * 1e6) as i64,
            last: Timestamp::MIN,
        })
    }

    /// Feeds one event.
    pub fn push(&mut self, ev: &Event) {
        let ts = ev.ts();
        if self.next_tick == Timestamp::MIN {
            self.next_tick = Timestamp(ts.0.saturating_add(self.tick_us));
        }
        if ts >= self.next_tick {
            self.watermark(ts);
            self.next_tick = Timestamp(ts.0.saturating_add(self.tick_us));
        }
        self.last = self.last.max(ts);
        self.baselines.observe(ev, &self.profile);
        let Engine { detectors, by_kind, profile, baselines, sink, metrics, .. } = self;
        if let Some(list) = by_kind.get(ev.kind() as usize) {
            for &i in list {
                if let Some(d) = detectors.get_mut(i) {
                    let mut cx = Ctx::new(ts, d.meta(), profile, baselines, sink, metrics);
                    d.on_event(ev, &mut cx);
                }
            }
        }
    }

    fn watermark(&mut self, now: Timestamp) {
        let Engine { detectors, profile, baselines, sink, metrics, .. } = self;
        for d in detectors.iter_mut() {
            let mut cx = Ctx::new(now, d.meta(), profile, baselines, sink, metrics);
            d.on_watermark(now, &mut cx);
        }
    }

    /// Ends the input: final watermark, `on_finish`, findings with sources resolved.
    pub fn finish(self, inputs: &Inputs) -> (Vec<Finding>, Metrics) {
        let (findings, metrics, _) = self.finish_with_roles(inputs);
        (findings, metrics)
    }

    /// [`finish`](Self::finish), plus the role of every internal peer the findings name.
    pub fn finish_with_roles(
        self,
        inputs: &Inputs,
    ) -> (Vec<Finding>, Metrics, BTreeMap<IpAddr, String>) {
        self.finish_inner(inputs, false)
    }

    fn finish_inner(
        mut self,
        inputs: &Inputs,
        leave_state: bool,
    ) -> (Vec<Finding>, Metrics, BTreeMap<IpAddr, String>) {
        let end = if self.last == Timestamp::MIN { Timestamp(0) } else { self.last };
        self.watermark(end);
        let Engine { mut detectors, profile, baselines, mut sink, mut metrics, .. } = self;
        for d in detectors.iter_mut() {
            let mut cx = Ctx::new(end, d.meta(), &profile, &baselines, &mut sink, &mut metrics);
            d.on_finish(&mut cx);
        }
        metrics.add("dropped.baselines.peers_full", baselines.dropped_peers);
        metrics.add("dropped.baselines.hosts_full", baselines.dropped_hosts);
        metrics.add("dropped.baselines.domains_names_full", baselines.dropped_other);
        metrics.add("dropped.findings_full", sink.dropped);
        metrics.counters.retain(|_, v| *v > 0);
        let findings = sink
            .into_sorted()
            .into_iter()
            .map(|p| {
                let d = p.draft;
                Finding {
                    id: p.id,
                    time: d.time,
                    end: d.end,
                    detector: p.meta.id.to_string(),
                    title: d.title.unwrap_or_else(|| p.meta.title.to_string()),
                    stage: d.stage.unwrap_or(p.meta.stage),
                    attack: d.attack.unwrap_or_else(|| p.meta.attack.to_vec()),
                    score: dwell_model::clamp_score(d.score),
                    entity: link_entity(d.entity, &baselines, &profile),
                    peer: d.peer,
                    summary: d.summary,
                    evidence: d.evidence,
                    sources: d
                        .sources
                        .iter()
                        .map(|s| Source { file: inputs.name(s.file), record: s.record })
                        .collect(),
                }
            })
            .collect::<Vec<Finding>>();
        let peer_roles = findings
            .iter()
            .filter_map(|f| f.peer.as_ref()?.ip)
            .filter(|ip| profile.is_internal(*ip))
            .filter_map(|ip| Some((ip, baselines.role(ip, &profile)?.to_string())))
            .collect();
        if leave_state {
            std::mem::forget(detectors);
            std::mem::forget(baselines);
        }
        (findings, metrics, peer_roles)
    }
}

/// An endpoint finding emitted before the telemetry linked its computer to an address
/// gets the address learnt by the end of the run; a network finding gets the computer's
/// name; and every entity without a declared role gets the one its traffic showed by
/// the end of the run (a DC, an internet-facing host, a server).
fn link_entity(
    mut e: dwell_model::Entity,
    b: &Baselines,
    profile: &OrgProfile,
) -> dwell_model::Entity {
    if e.ip.is_none() {
        if let Some(ip) =
            e.host.as_deref().and_then(|h| profile.host_ip(h).or_else(|| b.ip_of_host(h)))
        {
            e.ip = Some(ip);
        }
    }
    if let Some(role) = e.ip.and_then(|ip| b.role(ip, profile)) {
        e.role = Some(role.to_string());
    }
    // ... and a network finding gets the name the endpoint records gave its address.
    if e.host.is_none() {
        if let Some(name) = e.ip.and_then(|ip| profile.host_name(ip).or_else(|| b.host_of_ip(ip))) {
            e.host = Some(name.to_string());
        }
    }
    e
}

/// Runs the whole batch pipeline over `inputs`.
pub fn run(
    inputs: &Inputs,
    profile: OrgProfile,
    intel: Arc<IntelSet>,
    opts: &RunOptions,
    mut progress: impl FnMut(Progress),
) -> Result<(Vec<Finding>, RunStats), EngineError> {
    let started = Instant::now();
    let mut engine = Engine::new(profile, intel, opts.tick_s)?;
    for p in &opts.baseline_in {
        let b = crate::config::load_baseline(p)?;
        engine.baselines.merge(&b);
    }
    let (mut merge, certs) = events(inputs, opts);
    let total = inputs.total_bytes();
    let mut n: u64 = 0;
    let mut span: Option<(Timestamp, Timestamp)> = None;
    while let Some(ev) = merge.next() {
        n += 1;
        let ts = ev.ts();
        span = Some(match span {
            None => (ts, ts),
            Some((a, b)) => (a.min(ts), b.max(ts)),
        });
        engine.push(&ev);
        if n.is_multiple_of(65_536) {
            progress(Progress { bytes: merge.bytes_read(), total, events: n });
        }
    }
    progress(Progress { bytes: total, total, events: n });
    let late = merge.late;
    let mut files = vec![FileStats::default(); inputs.files.len()];
    for (id, st) in std::mem::take(&mut merge.finished) {
        if let Some(slot) = files.get_mut(id) {
            *slot = st;
        }
    }
    if let Some(p) = &opts.baseline_out {
        crate::config::save_baseline(&engine.baselines, p)?;
    }
    let (findings, metrics, peer_roles) = engine.finish_inner(inputs, opts.leave_state_to_exit);
    let stats = RunStats {
        files,
        events: n,
        late,
        certs,
        metrics,
        elapsed: started.elapsed(),
        span,
        peer_roles,
    };
    Ok((findings, stats))
}
