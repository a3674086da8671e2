//! What a detector says about itself: id, title, stage, ATT&CK ids, inputs, thresholds.
//!
//! `dwell detectors` prints this, the registry test checks it, and the finding builder
//! takes the detector id, default title, stage and techniques from it.

use dwell_model::{Kind, Stage, Technique};

/// Static description of a detector.
#[derive(Debug)]
pub struct DetectorMeta {
    /// snake_case id (`long_connection`); the `detector` field of its findings.
    pub id: &'static str,
    /// Short human title.
    pub title: &'static str,
    /// Default life-cycle stage of its findings.
    pub stage: Stage,
    /// ATT&CK techniques its findings map to.
    pub attack: &'static [Technique],
    /// Event kinds it reads.
    pub inputs: &'static [Kind],
    /// One paragraph: what it finds and how.
    pub doc: &'static str,
    /// Its thresholds with defaults and docs.
    pub params: fn() -> Vec<ParamDoc>,
}

/// One documented, overridable threshold.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ParamDoc {
    /// Key under `[detectors.ID]`.
    pub name: &'static str,
    /// Default value.
    pub default: serde_json::Value,
    /// What it means, units and why the default.
    pub doc: String,
}

/// Declares a detector's config struct: every field documented, with a default, and
/// `deny_unknown_fields` so a misspelt override in the org profile is an error.
///
/// ```
/// dwell_detect::detector_config! {
///     /// Thresholds of an example detector.
///     pub struct Config {
///         /// Connections needed before judging (count).
///         pub min_connections: u64 = 6,
///     }
/// }
/// assert_eq!(Config::default().min_connections, 6);
/// assert_eq!(Config::params()[0].name, "min_connections");
/// ```
#[macro_export]
macro_rules! detector_config {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident : $ty:ty = $default:expr
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $($field: $default),* }
            }
        }

        impl $name {
            /// The documented parameters with their defaults.
            pub fn params() -> Vec<$crate::meta::ParamDoc> {
                let d = Self::default();
                vec![$(
                    $crate::meta::ParamDoc {
                        name: stringify!($field),
                        default: serde_json::to_value(&d.$field).unwrap_or_default(),
                        doc: [$($doc),*].iter().map(|s| s.trim()).collect::<Vec<_>>().join(" "),
                    }
                ),*]
            }
        }
    };
}
