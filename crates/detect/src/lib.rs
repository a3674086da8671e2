//! Detection: the [`Detector`] trait, its door out ([`Ctx`]), the pattern-of-life
//! [`Baselines`], shared helpers, the org profile and the registry of detectors.
//!
//! Detectors are a push model: the engine calls [`Detector::on_event`] for every event
//! in event-time order, [`Detector::on_watermark`] as event time advances (to close
//! windows and evict state) and [`Detector::on_finish`] once at the end. They never do
//! I/O and never read the wall clock; this crate depends on no I/O crate and never on
//! the engine.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod baselines;
pub mod ctx;
pub mod detectors;
pub mod endpoint;
pub mod helpers;
pub mod intel;
pub mod known;
pub mod meta;
pub mod names;
pub mod netset;
pub mod profile;
pub mod registry;
pub mod sigma;
#[cfg(test)]
pub(crate) mod testing;

use dwell_model::{Event, Kind, Timestamp};

pub use baselines::Baselines;
pub use ctx::{Ctx, Draft, FindingSink, Metrics, Pending};
pub use intel::IntelSet;
pub use meta::{DetectorMeta, ParamDoc};
pub use profile::{OrgProfile, ProfileError, ProfileFile};
pub use registry::{build_all, BuildCx, ConfigError, Registration, ALL};

/// A detector: one idea plus its numbers.
pub trait Detector: Send {
    /// Its static description.
    fn meta(&self) -> &'static DetectorMeta;

    /// The event kinds this instance reads: the static ones unless what it was built
    /// with narrows them (the `sigma` detector reads only what its rules ask for).
    fn inputs(&self) -> Vec<Kind> {
        self.meta().inputs.to_vec()
    }

    /// Sees one event (in event-time order, within the pipeline's reorder bound).
    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>);

    /// Event time has advanced to `now`: close windows, evict idle state.
    fn on_watermark(&mut self, _now: Timestamp, _cx: &mut Ctx<'_>) {}

    /// The input has ended: state final conclusions.
    fn on_finish(&mut self, _cx: &mut Ctx<'_>) {}
}
