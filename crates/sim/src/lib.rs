//! The scenario simulator: an enterprise with an intrusion in it, written as Zeek logs
//! with the ground truth, and the evaluation of dwell's results against that truth.
//!
//! * [`world`]: the organisation (hosts, roles, the internet it uses);
//! * [`benign`]: what every hour looks like without an intruder, including the periodic,
//!   bulky and high-entropy traffic real networks carry;
//! * [`attack`]: the smash-and-grab and low-and-slow scenarios, stage by stage;
//! * [`zeek`]: the Zeek TSV writers; [`pcap`] and [`wire`]: the same sessions as
//!   packets (`capture.pcap`); [`endpoint`]: Windows records (`--endpoint`);
//! * [`truth`]: `truth.json` and [`eval`]: scoring findings and incidents against it;
//! * [`out`]: output files that hand what they wrote to the disk instead of the cache.
//!
//! Generation streams hour by hour (memory is bounded by one hour of sessions) and is
//! deterministic: the same seed writes the same bytes.

pub mod attack;
pub mod benign;
pub mod endpoint;
pub mod eval;
pub mod out;
pub mod pcap;
pub mod rng;
pub mod session;
pub mod truth;
pub mod wire;
pub mod world;
pub mod zeek;

use std::path::{Path, PathBuf};
use std::time::Instant;

use benign::{Hour, HOUR, US};
use session::Session;

/// Which intrusions to put in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Benign only.
    None,
    /// The fast one.
    SmashAndGrab,
    /// The patient one.
    LowAndSlow,
    /// Both, on different hosts.
    Both,
}

impl Scenario {
    /// Parses `none|smash_and_grab|low_and_slow|both`.
    pub fn parse(s: &str) -> Option<Scenario> {
        Some(match s {
            "none" => Scenario::None,
            "smash_and_grab" => Scenario::SmashAndGrab,
            "low_and_slow" => Scenario::LowAndSlow,
            "both" => Scenario::Both,
            _ => return None,
        })
    }
}

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of everything.
    pub seed: u64,
    /// Internal hosts (at least 16).
    pub hosts: usize,
    /// Days of traffic.
    pub days: f64,
    /// Intrusions.
    pub scenario: Scenario,
    /// Start, µs since the epoch (default Monday 2026-03-02 00:00 UTC).
    pub start_us: i64,
    /// Also write Windows endpoint records (`endpoint/winlogbeat.jsonl`).
    pub endpoint: bool,
    /// What to write the network traffic as.
    pub format: Format,
}

/// What the network traffic is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Zeek TSV logs (`conn.log`, `dns.log`, ...).
    Zeek,
    /// One packet capture (`capture.pcap`).
    Pcap,
    /// Both, of the same sessions.
    Both,
}

impl Format {
    /// Parses `zeek|pcap|both`.
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "zeek" => Format::Zeek,
            "pcap" => Format::Pcap,
            "both" => Format::Both,
            _ => return None,
        })
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            hosts: 50,
            days: 4.0,
            scenario: Scenario::Both,
            start_us: 1_772_409_600 * US,
            endpoint: false,
            format: Format::Zeek,
        }
    }
}

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Writing output failed.
    #[error("{path}: {source}")]
    Io {
        /// File or directory.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Bad parameters.
    #[error("{0}")]
    Usage(String),
}

/// What a simulation wrote.
#[derive(Clone, Debug)]
pub struct SimSummary {
    /// Lines per log.
    pub counts: zeek::Counts,
    /// Path of `truth.json`.
    pub truth: PathBuf,
    /// Path of `profile.toml`, the organisation profile to analyse with.
    pub profile: PathBuf,
    /// Seconds it took.
    pub elapsed_s: f64,
}

/// Simulates and writes Zeek logs and `truth.json` into `out`.
pub fn simulate(
    cfg: &SimConfig,
    out: &Path,
    mut progress: impl FnMut(f64),
) -> Result<SimSummary, SimError> {
    if cfg.hosts < 16 {
        return Err(SimError::Usage(format!(
            "--hosts {}: at least 16 hosts are needed (servers, DMZ and a few workstations)",
            cfg.hosts
        )));
    }
    if !(cfg.days > 0.0 && cfg.days <= 400.0) {
        return Err(SimError::Usage(format!(
            "--days {}: between a fraction of a day and 400 days",
            cfg.days
        )));
    }
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SimError::Io { path: p, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let started = Instant::now();
    let mut world = world::World::new(cfg.seed, cfg.hosts);
    let start = cfg.start_us;
    let end = start + (cfg.days * 24.0 * HOUR as f64 * US as f64) as i64;
    let total = end - start;
    let mut plans = Vec::new();
    if matches!(cfg.scenario, Scenario::SmashAndGrab | Scenario::Both) {
        // The break-in comes on a Tuesday morning when there is room for ~2 days after.
        let t0 = start + (33 * HOUR + 12 * 60) * US;
        let t0 = if t0 + 44 * HOUR * US <= end { t0 } else { start + total / 8 };
        plans.push(attack::smash_and_grab(&mut world, plans.len() as u8, t0, end));
    }
    if matches!(cfg.scenario, Scenario::LowAndSlow | Scenario::Both) {
        let t0 = start + (6 * HOUR + 40 * 60) * US;
        plans.push(attack::low_and_slow(&mut world, plans.len() as u8, t0, end));
    }
    let mut attacks: Vec<Session> = plans.iter().flat_map(|p| p.sessions.iter().cloned()).collect();
    attacks.sort_by_key(|s| s.ts);
    let mut writer = match cfg.format {
        Format::Zeek | Format::Both => {
            Some(zeek::Writer::create(out, cfg.seed, start).map_err(io(out))?)
        }
        Format::Pcap => None,
    };
    let pcap_path = out.join("capture.pcap");
    let mut packets = match cfg.format {
        Format::Pcap | Format::Both => {
            Some(pcap::Writer::create(&pcap_path).map_err(io(&pcap_path))?)
        }
        Format::Zeek => None,
    };
    let mut fitter = wire::Fitter::default();
    let mut next_attack = 0;
    let mut hour_start = start;
    while hour_start < end {
        let mut h = Hour::new(&world, hour_start);
        h.benign();
        let hour_end = (hour_start + HOUR * US).min(end);
        let mut sessions = h.out;
        sessions.retain(|s| s.ts < hour_end);
        while next_attack < attacks.len() && attacks[next_attack].ts < hour_end {
            sessions
                .push(std::mem::replace(&mut attacks[next_attack], Session::tcp(0, 0, 0, 0, 0)));
            next_attack += 1;
        }
        for s in &mut sessions {
            fitter.fit(s, &world);
        }
        // Sort keys, not the (large) sessions; stable, so equal times keep their order.
        let mut order: Vec<(i64, u32)> =
            sessions.iter().enumerate().map(|(i, s)| (s.ts, i as u32)).collect();
        order.sort_unstable();
        // Sessions sit scattered over an hour's worth of memory and are read in time
        // order: each read waited for memory on its own. Every 32 sessions, the next 32
        // are touched together, so their reads overlap instead of queueing.
        let mut touched = 0u64;
        for (k, &(_, i)) in order.iter().enumerate() {
            if k % 32 == 0 {
                for &(_, j) in order.iter().skip(k + 32).take(32) {
                    if let Some(t) = sessions.get(j as usize) {
                        touched = touched.wrapping_add(u64::from(t.orig) ^ t.orig_bytes);
                    }
                }
            }
            let s = &sessions[i as usize];
            if let Some(w) = writer.as_mut() {
                w.write(s, &world).map_err(io(out))?;
            }
            if let Some(p) = packets.as_mut() {
                p.write(s, &world).map_err(io(&pcap_path))?;
            }
        }
        std::hint::black_box(touched);
        hour_start += HOUR * US;
        progress((hour_start - start) as f64 / total as f64);
    }
    let mut counts = match writer {
        Some(w) => w.close(end).map_err(io(out))?,
        None => Vec::new(),
    };
    if let Some(p) = packets {
        counts.push(("packets", p.close().map_err(io(&pcap_path))?));
    }
    let mut truth = truth::Truth::build(cfg, &world, &plans, start, end);
    if cfg.endpoint {
        let (n, extra) = endpoint::write(&world, &plans, start, end, out).map_err(io(out))?;
        counts.push(("winlog", n));
        for (i, st) in extra {
            if let Some(sc) = truth.scenarios.get_mut(i) {
                sc.stages.push(st);
                sc.stages.sort_by_key(|s| s.start);
            }
        }
    }
    let tpath = out.join("truth.json");
    let text = serde_json::to_string_pretty(&truth)
        .map_err(|e| SimError::Io { path: tpath.clone(), source: e.into() })?;
    std::fs::write(&tpath, text + "\n").map_err(io(&tpath))?;
    let ppath = out.join("profile.toml");
    std::fs::write(&ppath, world.profile_toml()).map_err(io(&ppath))?;
    Ok(SimSummary {
        counts,
        truth: tpath,
        profile: ppath,
        elapsed_s: started.elapsed().as_secs_f64(),
    })
}
