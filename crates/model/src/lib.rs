//! dwell's vocabulary.
//!
//! * [`time`]: event time ([`Timestamp`], µs since the epoch) and its text forms;
//! * [`event`]: the normalised [`Event`]s every decoder produces;
//! * [`finding`]: [`Finding`]s, [`Incident`]s, life-cycle [`Stage`]s and ATT&CK
//!   [`Technique`] ids, exactly as `spec/findings.md` lays them out;
//! * [`dns`]: DNS type and response-code names shared by decoders and detectors;
//! * [`net`]: address classification helpers;
//! * [`win`]: Windows endpoint records ([`WinEvent`]) under Sysmon's field names.
//!
//! This crate depends on serde only (and serde_json for the free-form `evidence`
//! object of a finding), so every other crate can share it.

pub mod dns;
pub mod event;
pub mod finding;
pub mod net;
pub mod time;
pub mod win;

pub use event::*;
pub use finding::*;
pub use time::Timestamp;
pub use win::{Fields, WinEvent, WinKind};
