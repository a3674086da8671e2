//! Shared helpers that keep detectors small (Zeek's SumStats and Notice frameworks in
//! spirit): bounded keyed state with idle and least-recently-used eviction,
//! sliding-window counters, score tiers, suppression, and the prevalence modifier.
//!
//! Every structure here is bounded: a cap on keys with a counter of keys displaced, or a
//! fixed number of bins. Detectors compose them; none of them reads a clock — time is
//! passed in.

use std::hash::{BuildHasher, Hash};

use dwell_model::{Conn, FileId, Proto, SourceRef, Timestamp};
use foldhash::fast::RandomState;
use tinyvec::TinyVec;

/// Ascending thresholds with the score each one earns: a value at or above
/// `thresholds[i]` (and below `thresholds[i + 1]`) scores `scores[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Tiers {
    thresholds: Vec<f64>,
    scores: Vec<f64>,
}

impl Tiers {
    /// Builds tiers; `None` unless thresholds ascend strictly and lengths match.
    pub fn new(thresholds: &[f64], scores: &[f64]) -> Option<Tiers> {
        let ascending = thresholds.windows(2).all(|w| w[0] < w[1]);
        (thresholds.len() == scores.len() && !thresholds.is_empty() && ascending)
            .then(|| Tiers { thresholds: thresholds.to_vec(), scores: scores.to_vec() })
    }

    /// The (tier index, score) a value reaches; `None` below the first threshold.
    pub fn tier(&self, value: f64) -> Option<(usize, f64)> {
        let i = self.thresholds.iter().rposition(|t| value >= *t)?;
        Some((i, self.scores[i]))
    }
}

/// RITA's prevalence modifier, as a multiplier. `share` is the fraction of the
/// organisation's internal hosts that talk to the peer, `hosts` their number and
/// `org_hosts` the number of internal hosts seen at all.
///
/// Common peers (a `common_share` or more of hosts, and at least `min_common_hosts` of
/// them) score −15 %. Rare peers (at most `rare_share` of hosts, or this host alone)
/// score +15 %, but only in an organisation of at least `min_org_hosts` hosts: in a
/// capture of one or two machines every peer is "used by one host" and rarity says
/// nothing.
pub fn prevalence_multiplier(
    share: f64,
    hosts: usize,
    org_hosts: usize,
    cfg: PrevalenceWeights,
) -> f64 {
    if hosts >= cfg.min_common_hosts && share >= cfg.common_share {
        1.0 - cfg.adjust
    } else if org_hosts >= cfg.min_org_hosts && (share <= cfg.rare_share || hosts <= 1) {
        1.0 + cfg.adjust
    } else {
        1.0
    }
}

/// Parameters of [`prevalence_multiplier`].
#[derive(Clone, Copy, Debug)]
pub struct PrevalenceWeights {
    /// Share at or below which a peer is rare.
    pub rare_share: f64,
    /// Share at or above which a peer is common.
    pub common_share: f64,
    /// Hosts needed before "common" applies.
    pub min_common_hosts: usize,
    /// Internal hosts the organisation must have before "rare" means anything.
    pub min_org_hosts: usize,
    /// Relative adjustment (0.15 = ±15 %).
    pub adjust: f64,
}

impl Default for PrevalenceWeights {
    fn default() -> Self {
        PrevalenceWeights {
            rare_share: 0.02,
            common_share: 0.5,
            min_common_hosts: 3,
            min_org_hosts: 10,
            adjust: 0.15,
        }
    }
}

/// The first few input records behind a piece of per-pair state, in 48 bytes instead of
/// 88: each reference is packed into one word — the file id in the top 20 bits, the
/// record number in the low 44 (a million files in a run, 17 × 10^12 records in a
/// file). A reference beyond those bounds is not kept: findings cite a few of their
/// records, never all, and pair tables hold hundreds of thousands of these.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sources {
    refs: [u64; Sources::MAX],
    len: u8,
}

impl Sources {
    /// References kept.
    pub const MAX: usize = 5;
    const RECORD_BITS: u32 = 44;

    /// Keeps `s` unless the list is full (or `s` cannot be packed).
    pub fn push(&mut self, s: SourceRef) {
        let len = usize::from(self.len);
        if len >= Self::MAX
            || u64::from(s.file.0) >> (64 - Self::RECORD_BITS) != 0
            || s.record >> Self::RECORD_BITS != 0
        {
            return;
        }
        self.refs[len] = u64::from(s.file.0) << Self::RECORD_BITS | s.record;
        self.len += 1;
    }

    /// The references, in the order kept.
    pub fn iter(&self) -> impl Iterator<Item = SourceRef> + '_ {
        self.refs[..usize::from(self.len)].iter().map(|r| SourceRef {
            file: FileId((r >> Self::RECORD_BITS) as u32),
            record: r & ((1 << Self::RECORD_BITS) - 1),
        })
    }

    /// The references as a finding carries them.
    pub fn to_vec(&self) -> Vec<SourceRef> {
        self.iter().collect()
    }
}

/// Keyed state with a size cap, idle eviction and a "changed since last drain" mark.
///
/// Costs are per change, not per key: changed keys are queued once until drained, and
/// idle eviction scans the map at most four times per idle period, so calling both at
/// every watermark stays cheap however many keys there are. A detector that never
/// drains (it judges each key as it changes) uses `Keyed<K, V, false>`, which keeps no
/// queue: a queue nobody drains would grow with every key ever seen.
///
/// A full map makes room rather than refusing: a new key displaces an old one, handed to
/// the caller first so the detector can state what it concluded. Refusing instead would
/// keep stale state forever and leave every intrusion that starts after the map fills
/// unseen. Which key goes is decided by the CLOCK approximation of least-recently-used:
/// a hand walks the slab; a key touched since the hand last passed it gets a second
/// chance (its mark is cleared and the hand moves on), an unmarked key is displaced; a
/// new key starts unmarked, so keys used once go before keys used again. A key touched
/// at least once per turn of the hand is never displaced, whatever floods the map; the
/// walk is sequential through memory and moves about one slot per eviction when most
/// keys are idle. (Sampling eight random keys for the stalest, as Redis does, cost eight
/// cache misses per eviction: 155 k against CLOCK's 195 k events/CPU-s under a flood of
/// new keys.)
///
/// Keys and values live in a slab (a vector with a free list) and the hash index holds
/// only slot numbers, 4 bytes a key: the index of a few hundred thousand keys is a few
/// megabytes and mostly stays in the processor's cache, so a lookup's trip to memory is
/// the slot itself; growing the index moves no values; the queue of changed keys holds
/// slot numbers (draining it costs no lookup); eviction walks the slab in order. The
/// slab keeps its peak length; freed slots are reused first.
#[derive(Debug)]
pub struct Keyed<K, V, const CHANGES: bool = true> {
    index: hashbrown::HashTable<u32>,
    hasher: RandomState,
    slots: Vec<Option<Slot<K, V>>>,
    free: Vec<u32>,
    dirty: Vec<u32>,
    cap: usize,
    next_evict: Timestamp,
    /// The CLOCK hand: the next slot considered for displacement.
    hand: usize,
    /// Keys displaced to make room for new ones.
    pub displaced: u64,
    /// Keys removed by idle eviction.
    pub evicted: u64,
}

#[derive(Debug)]
struct Slot<K, V> {
    key: K,
    value: V,
    last: Timestamp,
    dirty: bool,
    /// Touched since the CLOCK hand last passed.
    marked: bool,
}

/// The key in slot `at`, if the slot is in use.
fn slot_key<K, V>(slots: &[Option<Slot<K, V>>], at: u32) -> Option<&K> {
    slots.get(at as usize)?.as_ref().map(|s| &s.key)
}

impl<K: Hash + Eq, V, const CHANGES: bool> Keyed<K, V, CHANGES> {
    /// An empty map holding at most `cap` keys (at least one).
    pub fn new(cap: usize) -> Self {
        Keyed {
            index: hashbrown::HashTable::new(),
            hasher: RandomState::default(),
            slots: Vec::new(),
            free: Vec::new(),
            dirty: Vec::new(),
            cap: cap.clamp(1, u32::MAX as usize),
            next_evict: Timestamp::MIN,
            hand: 0,
            displaced: 0,
            evicted: 0,
        }
    }

    /// The slot of `key`, if present.
    fn find(&self, key: &K) -> Option<u32> {
        self.find_hashed(self.hasher.hash_one(key), key)
    }

    /// The value of `key`, created with `init` if absent. A new key in a full map first
    /// displaces an idle key (see the type's documentation), handed to `displaced`. Marks the
    /// key changed and touched at `now`. (`None` is never returned: the key was just
    /// found or placed; the lint that forbids panics here asks for the `Option`.)
    pub fn upsert(
        &mut self,
        key: &K,
        now: Timestamp,
        init: impl FnOnce() -> V,
        displaced: impl FnOnce(K, V),
    ) -> Option<&mut V>
    where
        K: Clone,
    {
        let h = self.hasher.hash_one(key);
        let (at, created) = match self.find_hashed(h, key) {
            Some(at) => (at, false),
            None => {
                if self.index.len() >= self.cap {
                    if let Some((k, v)) = self.displace() {
                        displaced(k, v);
                    }
                }
                let slot = Slot {
                    key: key.clone(),
                    value: init(),
                    last: now,
                    dirty: false,
                    marked: false,
                };
                let at = match self.free.pop() {
                    Some(at) => at,
                    None => {
                        self.slots.push(None);
                        (self.slots.len() - 1) as u32
                    }
                };
                if let Some(s) = self.slots.get_mut(at as usize) {
                    *s = Some(slot);
                }
                let Keyed { index, hasher, slots, .. } = self;
                index.insert_unique(h, at, |&i| {
                    slot_key(slots, i).map_or(0, |k| hasher.hash_one(k))
                });
                (at, true)
            }
        };
        self.touch(at, now, created)
    }

    /// The slot of `key`, whose hash is `h`, if present.
    fn find_hashed(&self, h: u64, key: &K) -> Option<u32> {
        let slots = &self.slots;
        self.index.find(h, |&at| slot_key(slots, at) == Some(key)).copied()
    }

    /// Removes the first key the CLOCK hand finds unmarked, clearing the marks it
    /// passes: at most two turns (the first clears every mark).
    fn displace(&mut self) -> Option<(K, V)> {
        let n = self.slots.len();
        for _ in 0..2 * n {
            let at = self.hand % n;
            self.hand = at + 1;
            match self.slots.get_mut(at) {
                Some(Some(s)) if s.marked => s.marked = false,
                Some(Some(_)) => {
                    let out = self.remove_slot(at as u32)?;
                    self.displaced += 1;
                    return Some(out);
                }
                _ => {}
            }
        }
        None
    }

    /// Empties slot `at`, unindexes its key and frees the slot. A queued slot number
    /// left behind is skipped by the drain: the slot is empty, or reused and not yet
    /// marked.
    fn remove_slot(&mut self, at: u32) -> Option<(K, V)> {
        let s = self.slots.get_mut(at as usize)?.take()?;
        if let Ok(e) = self.index.find_entry(self.hasher.hash_one(&s.key), |&i| i == at) {
            e.remove();
        }
        self.free.push(at);
        Some((s.key, s.value))
    }

    /// Marks slot `at` touched at `now` (and changed), returning its value. A key's
    /// first touch, its creation, leaves it unmarked for the CLOCK hand: a key used once
    /// (browsing's one-off destinations, a flood's fresh keys) goes before one used again.
    fn touch(&mut self, at: u32, now: Timestamp, created: bool) -> Option<&mut V> {
        let slot = self.slots.get_mut(at as usize)?.as_mut()?;
        slot.marked = !created;
        slot.last = slot.last.max(now);
        if CHANGES && !slot.dirty {
            slot.dirty = true;
            self.dirty.push(at);
        }
        Some(&mut slot.value)
    }

    /// The value of `key` if present, marked changed and touched at `now` (never creates).
    pub fn get_mut(&mut self, key: &K, now: Timestamp) -> Option<&mut V> {
        let at = self.find(key)?;
        self.touch(at, now, false)
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &K) -> Option<&V> {
        let at = self.find(key)?;
        self.slots.get(at as usize)?.as_ref().map(|s| &s.value)
    }

    /// Calls `f` on every key.
    pub fn for_each(&mut self, mut f: impl FnMut(&K, &mut V)) {
        for s in self.slots.iter_mut().flatten() {
            f(&s.key, &mut s.value);
        }
    }

    /// Removes keys untouched for more than `idle_s` seconds before `now`, handing each
    /// to `f` first (so a detector can state what it concluded). Scans at most four
    /// times per `idle_s` of event time; between scans it returns at once.
    pub fn evict_idle(&mut self, now: Timestamp, idle_s: f64, mut f: impl FnMut(&K, V)) {
        if now < self.next_evict {
            return;
        }
        self.next_evict = now.add_secs_f64(idle_s / 4.0);
        let cutoff = now.add_secs_f64(-idle_s);
        for at in 0..self.slots.len() {
            if self.slots.get(at).and_then(Option::as_ref).is_none_or(|s| s.last >= cutoff) {
                continue;
            }
            if let Some((k, v)) = self.remove_slot(at as u32) {
                self.evicted += 1;
                f(&k, v);
            }
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

impl<K: Hash + Eq, V> Keyed<K, V, true> {
    /// Calls `f` on every key changed since the last drain, and clears the marks.
    pub fn drain_dirty(&mut self, mut f: impl FnMut(&K, &mut V)) {
        // The queue keeps its memory: it fills to about the same length every time.
        let mut dirty = std::mem::take(&mut self.dirty);
        for at in dirty.drain(..) {
            if let Some(Some(s)) = self.slots.get_mut(at as usize) {
                if s.dirty {
                    s.dirty = false;
                    f(&s.key, &mut s.value);
                }
            }
        }
        self.dirty = dirty;
    }
}

/// A HyperLogLog distinct counter with 2^8 registers (256 bytes, ~6.5 % standard error),
/// for counting distinct names per key without keeping them. Hashes come from a
/// per-process random seed, so inputs cannot be crafted to skew the count.
#[derive(Clone, Debug)]
pub struct Hll {
    regs: [u8; 256],
}

impl Default for Hll {
    fn default() -> Self {
        Hll { regs: [0; 256] }
    }
}

impl Hll {
    /// Adds a 64-bit hash. It is run through a finaliser first: fast hashers do not
    /// promise well-mixed high bits, and the register index and rank come from them.
    pub fn add_hash(&mut self, h: u64) {
        let mut h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^= h >> 31;
        let idx = (h >> 56) as usize;
        let rank = ((h << 8) | 0x80).leading_zeros() as u8 + 1;
        if let Some(r) = self.regs.get_mut(idx) {
            *r = (*r).max(rank);
        }
    }

    /// Estimated number of distinct hashes added.
    pub fn count(&self) -> f64 {
        let m = 256.0;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self.regs.iter().map(|r| 2f64.powi(-i32::from(*r))).sum();
        let raw = alpha * m * m / sum;
        let zeros = self.regs.iter().filter(|r| **r == 0).count();
        if raw <= 2.5 * m && zeros > 0 {
            // Linear counting for small cardinalities.
            m * (m / zeros as f64).ln()
        } else {
            raw
        }
    }
}

/// What a connection attempt was: see [`probe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// Carried payload, or an answer: not a probe.
    No,
    /// Touched and dropped without payload.
    Soft,
    /// No answer, or refused.
    Hard,
}

/// Ports a device answers from (besides those below 1024) when it replies to a
/// multicast or broadcast query: SSDP, mDNS, LLMNR, WS-Discovery.
pub const ANSWER_PORTS: &[u16] = &[1900, 5353, 5355, 3702];

/// Classifies a connection: a *probe* carried no payload. With a Zeek state, `S0`,
/// `REJ`, `RSTOS0`, `RSTRH`, `SH`, `SHR` are hard failures and any other state (but
/// `OTH`) with no bytes either way is a soft probe; without a state (Suricata), no packet
/// back is a hard failure and a TCP exchange of at most two packets each way a soft
/// probe. A flow from a service port to an ephemeral port is an answer, never a probe;
/// an ICMP echo request is a soft probe.
pub fn probe(c: &Conn) -> Probe {
    let f = &c.flow;
    if f.proto == Proto::Icmp {
        // Zeek and Suricata put the ICMP type in the originator port.
        let echo = if f.orig_h.is_ipv4() { 8 } else { 128 };
        return if f.orig_p == echo { Probe::Soft } else { Probe::No };
    }
    if (f.orig_p < 1024 || ANSWER_PORTS.contains(&f.orig_p)) && f.resp_p >= 1024 {
        return Probe::No;
    }
    if let Some(state) = c.conn_state.as_deref() {
        if matches!(state, "S0" | "REJ" | "RSTOS0" | "RSTRH" | "SH" | "SHR") {
            return Probe::Hard;
        }
        if c.orig_bytes == Some(0) && c.resp_bytes == Some(0) && state != "OTH" {
            return Probe::Soft;
        }
        return Probe::No;
    }
    match (c.orig_pkts, c.resp_pkts) {
        (_, Some(0)) => Probe::Hard,
        (Some(o), Some(r)) if f.proto == Proto::Tcp && o <= 2 && r <= 2 => Probe::Soft,
        _ => Probe::No,
    }
}

/// Distinct values counted exactly up to [`Distinct::EXACT`], then estimated with an
/// [`Hll`]: small sets (the usual case, and most thresholds a detector decides on) cost
/// at most 512 bytes and count exactly, so the same input gives the same answer; larger
/// ones stay bounded with ~6.5 % error, which varies with the per-process hash seed.
#[derive(Clone, Debug, Default)]
pub struct Distinct {
    /// Most sets hold one or two values: those stay inline, with no allocation.
    exact: TinyVec<[u64; 2]>,
    hll: Option<Box<Hll>>,
}

impl Distinct {
    /// Values held exactly before switching to the estimate.
    pub const EXACT: usize = 64;

    /// Adds a hash; returns whether it was new (always `true` once estimating).
    pub fn add_hash(&mut self, h: u64) -> bool {
        if let Some(hll) = &mut self.hll {
            hll.add_hash(h);
            return true;
        }
        if self.exact.contains(&h) {
            return false;
        }
        if self.exact.len() < Self::EXACT {
            self.exact.push(h);
            return true;
        }
        let mut hll = Box::<Hll>::default();
        for x in self.exact.drain(..) {
            hll.add_hash(x);
        }
        hll.add_hash(h);
        self.hll = Some(hll);
        true
    }

    /// Distinct values added (exact below [`Distinct::EXACT`], estimated above, never
    /// reported below it once estimating).
    pub fn count(&self) -> u64 {
        match &self.hll {
            Some(h) => (h.count().round() as u64).max(Self::EXACT as u64 + 1),
            None => self.exact.len() as u64,
        }
    }
}

/// Events counted over a sliding window of `bins × bin_s` seconds, in fixed bins.
#[derive(Clone, Debug)]
pub struct WindowCounter {
    bin_s: i64,
    bins: Vec<u64>,
    /// Index of the bin holding `head_bin`.
    head: usize,
    /// Absolute bin number (time / bin_s) of the newest bin.
    head_bin: i64,
    total: u64,
}

impl WindowCounter {
    /// A window of `bins` bins of `bin_s` seconds each (both at least 1).
    pub fn new(bins: usize, bin_s: i64) -> Self {
        let bins = bins.max(1);
        WindowCounter {
            bin_s: bin_s.max(1),
            bins: vec![0; bins],
            head: 0,
            head_bin: i64::MIN,
            total: 0,
        }
    }

    fn advance(&mut self, t: Timestamp) {
        let b = t.secs().div_euclid(self.bin_s);
        if self.head_bin == i64::MIN {
            self.head_bin = b;
            return;
        }
        if b <= self.head_bin {
            return;
        }
        let steps = (b - self.head_bin).min(self.bins.len() as i64) as usize;
        for _ in 0..steps {
            self.head = (self.head + 1) % self.bins.len();
            self.total -= self.bins[self.head];
            self.bins[self.head] = 0;
        }
        self.head_bin = b;
    }

    /// Counts `n` at time `t`. Events older than the window are ignored; events in an
    /// earlier bin still inside the window land in their bin.
    pub fn add(&mut self, t: Timestamp, n: u64) {
        self.advance(t);
        let b = t.secs().div_euclid(self.bin_s);
        let age = self.head_bin - b;
        if age < 0 || age >= self.bins.len() as i64 {
            return;
        }
        let len = self.bins.len();
        let idx = (self.head + len - age as usize) % len;
        self.bins[idx] += n;
        self.total += n;
    }

    /// Total in the window ending at `t`.
    pub fn total_at(&mut self, t: Timestamp) -> u64 {
        self.advance(t);
        self.total
    }
}

/// Allows an action per key at most once per `interval_s` (notice suppression).
#[derive(Debug)]
pub struct Suppressor<K> {
    last: Keyed<K, Timestamp, false>,
    interval_s: f64,
}

impl<K: Hash + Eq + Clone> Suppressor<K> {
    /// At most once per `interval_s` per key, tracking at most `cap` keys.
    pub fn new(interval_s: f64, cap: usize) -> Self {
        Suppressor { last: Keyed::new(cap), interval_s }
    }

    /// Whether the action for `key` may happen at `now` (and records it if so).
    pub fn allow(&mut self, key: &K, now: Timestamp) -> bool {
        let interval = self.interval_s;
        let mut fresh = false;
        // A key displaced when full was idle: it had long been allowed.
        let last = self.last.upsert(
            key,
            now,
            || {
                fresh = true;
                now
            },
            |_, _| {},
        );
        let Some(last) = last else { return false };
        if fresh || now.secs_since(*last) >= interval {
            *last = now;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers() {
        let t = Tiers::new(&[3600.0, 14400.0, 28800.0], &[30.0, 50.0, 70.0]).unwrap();
        assert_eq!(t.tier(100.0), None);
        assert_eq!(t.tier(3600.0), Some((0, 30.0)));
        assert_eq!(t.tier(20000.0), Some((1, 50.0)));
        assert_eq!(t.tier(1e9), Some((2, 70.0)));
        assert!(Tiers::new(&[2.0, 1.0], &[1.0, 2.0]).is_none());
        assert!(Tiers::new(&[1.0], &[1.0, 2.0]).is_none());
    }

    #[test]
    fn prevalence() {
        let w = PrevalenceWeights::default();
        assert_eq!(prevalence_multiplier(0.01, 1, 100, w), 1.15);
        assert_eq!(prevalence_multiplier(0.6, 30, 50, w), 0.85);
        // Two hosts in a two-host capture is neither common nor rare.
        assert_eq!(prevalence_multiplier(1.0, 2, 2, w), 1.0);
        // One host of one says nothing about rarity.
        assert_eq!(prevalence_multiplier(1.0, 1, 1, w), 1.0);
        assert_eq!(prevalence_multiplier(0.2, 5, 25, w), 1.0);
    }

    #[test]
    fn keyed_caps_and_evicts() {
        let mut k: Keyed<u32, u32> = Keyed::new(2);
        let t = |s| Timestamp::from_secs(s);
        let mut out = vec![];
        *k.upsert(&1, t(0), || 0, |_, _| unreachable!()).unwrap() += 1;
        *k.upsert(&2, t(10), || 0, |_, _| unreachable!()).unwrap() += 1;
        *k.upsert(&3, t(10), || 0, |key, v| out.push((key, v))).unwrap() += 1;
        // Full: an idle key (the first the hand meets) made room, handed over with its value.
        assert_eq!((out, k.displaced, k.len(), k.get(&1)), (vec![(1, 1)], 1, 2, None));
        let mut seen = vec![];
        k.drain_dirty(|key, _| seen.push(*key));
        seen.sort();
        assert_eq!(seen, [2, 3]);
        let mut again = 0;
        k.drain_dirty(|_, _| again += 1);
        assert_eq!(again, 0);
        let mut gone = vec![];
        k.evict_idle(t(100), 50.0, |key, v| gone.push((*key, v)));
        assert_eq!(gone.len(), 2);
        assert!(k.is_empty());
    }

    /// Packed references read back as they were given, up to the cap; one that does
    /// not fit the packing is not kept.
    #[test]
    fn sources_round_trip_and_cap() {
        let r = |file: u32, record: u64| SourceRef { file: FileId(file), record };
        let mut s = Sources::default();
        let given =
            [r(0, 1), r(7, 123_456_789), r((1 << 20) - 1, (1 << 44) - 1), r(3, 0), r(1, 1 << 40)];
        s.push(r(1 << 20, 5)); // file id too large
        s.push(r(2, 1 << 44)); // record number too large
        for (n, g) in given.into_iter().enumerate() {
            assert_eq!(s.iter().count(), n);
            s.push(g);
        }
        s.push(r(9, 9)); // past the cap
        assert_eq!(s.to_vec(), given);
        assert_eq!(std::mem::size_of::<Sources>(), 48);
    }

    /// A table whose changes are never drained queues none: its memory is the map's.
    #[test]
    fn keyed_without_changes_keeps_no_queue() {
        let mut k: Keyed<u32, u32, false> = Keyed::new(1000);
        for i in 0..500u32 {
            *k.upsert(&i, Timestamp::from_secs(i64::from(i)), || 0, |_, _| {}).unwrap() += 1;
            *k.get_mut(&i, Timestamp::from_secs(i64::from(i))).unwrap() += 1;
        }
        assert_eq!((k.len(), k.dirty.len(), k.get(&7)), (500, 0, Some(&2)));
        let mut tracked: Keyed<u32, u32> = Keyed::new(1000);
        for i in 0..500u32 {
            tracked.upsert(&i, Timestamp::from_secs(0), || 0, |_, _| {});
        }
        assert_eq!(tracked.dirty.len(), 500);
    }

    /// Slots freed by eviction are reused while the queue of changed slots still names
    /// them: random upserts, lookups, drains and evictions over a few keys give what a
    /// plain map with a set of changed keys gives — every changed key drained exactly
    /// once, evicted keys with their values, nothing else.
    #[test]
    fn keyed_matches_a_plain_map_under_reuse() {
        use std::collections::{BTreeMap, BTreeSet};
        let mut k: Keyed<u8, u64> = Keyed::new(12);
        // Model: key -> (value, last touch), and the keys changed since the last drain.
        let mut model: BTreeMap<u8, (u64, i64)> = BTreeMap::new();
        let mut changed: BTreeSet<u8> = BTreeSet::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut now = 0i64;
        for step in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            now += (x % 3) as i64;
            let t = Timestamp::from_secs(now);
            let key = (x >> 8) as u8 % 16;
            match (x >> 16) % 10 {
                0..=4 => {
                    let mut out = None;
                    let got = k.upsert(&key, t, || 0, |key, v| out = Some((key, v))).map(|v| {
                        *v += step;
                        *v
                    });
                    // A new key in a full map displaced a held one, with its value.
                    let full = !model.contains_key(&key) && model.len() == 12;
                    assert_eq!(out.is_some(), full);
                    if let Some((gone, v)) = out {
                        assert_eq!(model.remove(&gone).map(|e| e.0), Some(v));
                        changed.remove(&gone);
                    }
                    let e = model.entry(key).or_insert((0, now));
                    e.0 += step;
                    e.1 = e.1.max(now);
                    changed.insert(key);
                    assert_eq!(got, Some(e.0));
                }
                5 | 6 => {
                    let got = k.get_mut(&key, t).map(|v| *v);
                    if let Some(e) = model.get_mut(&key) {
                        e.1 = e.1.max(now);
                        changed.insert(key);
                    }
                    assert_eq!(got, model.get(&key).map(|e| e.0));
                }
                7 => {
                    let mut seen = Vec::new();
                    k.drain_dirty(|key, v| seen.push((*key, *v)));
                    seen.sort();
                    let want: Vec<(u8, u64)> = std::mem::take(&mut changed)
                        .into_iter()
                        .map(|c| (c, model[&c].0))
                        .collect();
                    assert_eq!(seen, want);
                }
                _ => {
                    // Every call scans: idle periods of 0-9 s put the next scan at most 2.25 s later.
                    let idle = (x >> 24) % 10;
                    now += 3;
                    let t = Timestamp::from_secs(now);
                    let mut gone = Vec::new();
                    k.evict_idle(t, idle as f64, |key, v| gone.push((*key, v)));
                    gone.sort();
                    let cutoff = now - idle as i64;
                    let want: Vec<(u8, u64)> = model
                        .iter()
                        .filter(|(_, e)| e.1 < cutoff)
                        .map(|(c, e)| (*c, e.0))
                        .collect();
                    for (c, _) in &want {
                        model.remove(c);
                        changed.remove(c);
                    }
                    assert_eq!(gone, want);
                }
            }
            assert_eq!(k.len(), model.len());
        }
        assert!(k.evicted > 1000 && k.displaced > 0, "{} {}", k.evicted, k.displaced);
    }

    /// A full map makes room with idle keys, never with one in use: 1,024 keys, the
    /// even ones used again later; then a flood of 2,048 new keys, with the even keys
    /// still used once per 256 newcomers. The odd keys go first, oldest slot first, then
    /// the newcomers of the flood (each used once) — no even key is ever displaced.
    #[test]
    fn a_full_map_displaces_idle_keys_and_keeps_busy_ones() {
        let mut k: Keyed<u32, u32, false> = Keyed::new(1024);
        let t = Timestamp::from_secs;
        for i in 0..1024u32 {
            k.upsert(&i, t(i64::from(i)), || i, |_, _| unreachable!());
        }
        let reuse = |k: &mut Keyed<u32, u32, false>, now| {
            for i in (0..1024u32).step_by(2) {
                assert!(k.get_mut(&i, t(now)).is_some(), "key {i} was displaced");
            }
        };
        reuse(&mut k, 2_000);
        let mut gone = Vec::new();
        for i in 0..2048u32 {
            if i % 256 == 0 {
                reuse(&mut k, 3_000 + i64::from(i));
            }
            let key = 10_000 + i;
            k.upsert(&key, t(3_000 + i64::from(i)), || key, |key, v| gone.push((key, v)));
        }
        reuse(&mut k, 6_000);
        assert_eq!((gone.len(), k.len(), k.displaced), (2048, 1024, 2048));
        let busy = gone.iter().filter(|&&(key, _)| key < 1024 && key % 2 == 0).count();
        assert_eq!(busy, 0);
        assert!(gone.iter().all(|&(key, v)| key == v));
        let first: Vec<u32> = gone.iter().map(|&(key, _)| key).take(512).collect();
        assert!(first == (1..1024).step_by(2).collect::<Vec<u32>>(), "{:?}", &first[..8]);
    }

    #[test]
    fn window_counter_slides() {
        let t = |s| Timestamp::from_secs(s);
        let mut w = WindowCounter::new(4, 10); // 40 s window
        w.add(t(0), 1);
        w.add(t(15), 2);
        w.add(t(5), 1); // late but inside the window
        assert_eq!(w.total_at(t(19)), 4);
        assert_eq!(w.total_at(t(41)), 2);
        assert_eq!(w.total_at(t(1000)), 0);
        w.add(t(1), 5); // far too old
        assert_eq!(w.total_at(t(1000)), 0);
    }

    #[test]
    fn hll_counts_within_its_error() {
        // Deterministic inputs (FNV of the index); production hashes are seeded per process.
        let fnv = |i: usize| crate::ctx::stable_hash(&[&i.to_string()]);
        for n in [0usize, 10, 100, 1000, 20_000] {
            let mut h = Hll::default();
            for i in 0..n {
                h.add_hash(fnv(i));
                h.add_hash(fnv(i)); // duplicates do not count
            }
            let c = h.count();
            // ~6.5 % standard error; allow four of them, and a few counts at small n.
            let tol = (0.26 * n as f64).max(3.0);
            assert!((c - n as f64).abs() <= tol, "{n}: {c}");
        }
    }

    #[test]
    fn distinct_is_exact_then_estimates() {
        let fnv = |i: usize| crate::ctx::stable_hash(&[&i.to_string()]);
        let mut d = Distinct::default();
        for i in 0..Distinct::EXACT {
            assert!(d.add_hash(fnv(i)));
            assert!(!d.add_hash(fnv(i)));
        }
        assert_eq!(d.count(), Distinct::EXACT as u64);
        for i in 0..5000 {
            d.add_hash(fnv(i));
        }
        let c = d.count() as f64;
        assert!((c - 5000.0).abs() <= 0.26 * 5000.0, "{c}");
    }

    #[test]
    fn suppressor() {
        let t = |s| Timestamp::from_secs(s);
        let mut s = Suppressor::new(60.0, 10);
        assert!(s.allow(&"a", t(0)));
        assert!(!s.allow(&"a", t(30)));
        assert!(s.allow(&"b", t(30)));
        assert!(s.allow(&"a", t(61)));
    }
}
