//! The registry: the static list of detectors and how each is built from the org
//! profile. Adding a detector touches three places: its file, one line in [`ALL`],
//! its tests.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::detectors::{
    anonymizer, beaconing, credential_access, data_egress, defense_evasion, dga, dll_sideload,
    dns_tunnel, edge_device, http_anomaly, intel_match, lateral_movement, lolbin, long_connection,
    rare_destination, remote_execution, rmm_process, rmm_tool, scan, sigma, tls_anomaly,
};
use crate::intel::IntelSet;
use crate::meta::DetectorMeta;
use crate::profile::OrgProfile;
use crate::Detector;

/// A detector in the registry.
#[derive(Debug)]
pub struct Registration {
    /// Its metadata.
    pub meta: &'static DetectorMeta,
    /// Its constructor.
    pub build: fn(&BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError>,
}

/// Every detector, in the order they run.
pub static ALL: &[&Registration] = &[
    &long_connection::REGISTRATION,
    &intel_match::REGISTRATION,
    &beaconing::REGISTRATION,
    &dns_tunnel::REGISTRATION,
    &dga::REGISTRATION,
    &data_egress::REGISTRATION,
    &lateral_movement::REGISTRATION,
    &edge_device::REGISTRATION,
    &rmm_tool::REGISTRATION,
    &tls_anomaly::REGISTRATION,
    &rare_destination::REGISTRATION,
    &http_anomaly::REGISTRATION,
    &scan::REGISTRATION,
    &anonymizer::REGISTRATION,
    &lolbin::REGISTRATION,
    &dll_sideload::REGISTRATION,
    &rmm_process::REGISTRATION,
    &credential_access::REGISTRATION,
    &remote_execution::REGISTRATION,
    &defense_evasion::REGISTRATION,
    &sigma::REGISTRATION,
];

/// What constructors may read.
pub struct BuildCx<'a> {
    /// The org profile (with per-detector overrides).
    pub profile: &'a OrgProfile,
    /// Threat-intelligence indicators from `--intel`.
    pub intel: &'a Arc<IntelSet>,
}

impl BuildCx<'_> {
    /// The `[detectors.ID]` table of the profile, if any.
    pub fn settings(&self, id: &str) -> Option<&serde_json::Value> {
        self.profile.detectors.get(id)
    }
}

/// A detector configuration error, naming the detector and the key.
#[derive(Debug, thiserror::Error)]
#[error("detectors.{detector}: {reason}")]
pub struct ConfigError {
    /// Detector id.
    pub detector: String,
    /// What is wrong (serde names the unknown or mistyped key).
    pub reason: String,
}

/// Reads a detector's config from its override table (defaults for missing keys).
pub fn parse_config<C: DeserializeOwned + Default>(
    id: &str,
    v: Option<&serde_json::Value>,
) -> Result<C, ConfigError> {
    match v {
        None => Ok(C::default()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| ConfigError { detector: id.to_string(), reason: e.to_string() }),
    }
}

/// The registration of a detector id.
pub fn find(id: &str) -> Option<&'static Registration> {
    ALL.iter().copied().find(|r| r.meta.id == id)
}

/// Builds every detector; an override table for an unknown detector is an error.
pub fn build_all(cx: &BuildCx<'_>) -> Result<Vec<Box<dyn Detector>>, ConfigError> {
    for id in cx.profile.detectors.keys() {
        if find(id).is_none() {
            let known: Vec<&str> = ALL.iter().map(|r| r.meta.id).collect();
            return Err(ConfigError {
                detector: id.clone(),
                reason: format!("no such detector (known: {})", known.join(", ")),
            });
        }
    }
    ALL.iter().map(|r| (r.build)(cx)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each detector's source, to check its header and tests.
    const SOURCES: &[(&str, &str, &str)] = &[
        ("scan", include_str!("detectors/scan.rs"), include_str!("detectors/scan/tests.rs")),
        ("dga", include_str!("detectors/dga.rs"), include_str!("detectors/dga/tests.rs")),
        (
            "anonymizer",
            include_str!("detectors/anonymizer.rs"),
            include_str!("detectors/anonymizer/tests.rs"),
        ),
        (
            "long_connection",
            include_str!("detectors/long_connection.rs"),
            include_str!("detectors/long_connection/tests.rs"),
        ),
        (
            "beaconing",
            include_str!("detectors/beaconing.rs"),
            include_str!("detectors/beaconing/tests.rs"),
        ),
        (
            "data_egress",
            include_str!("detectors/data_egress.rs"),
            include_str!("detectors/data_egress/tests.rs"),
        ),
        (
            "dns_tunnel",
            include_str!("detectors/dns_tunnel.rs"),
            include_str!("detectors/dns_tunnel/tests.rs"),
        ),
        (
            "lateral_movement",
            include_str!("detectors/lateral_movement.rs"),
            include_str!("detectors/lateral_movement/tests.rs"),
        ),
        (
            "edge_device",
            include_str!("detectors/edge_device.rs"),
            include_str!("detectors/edge_device/tests.rs"),
        ),
        (
            "rmm_tool",
            include_str!("detectors/rmm_tool.rs"),
            include_str!("detectors/rmm_tool/tests.rs"),
        ),
        (
            "tls_anomaly",
            include_str!("detectors/tls_anomaly.rs"),
            include_str!("detectors/tls_anomaly/tests.rs"),
        ),
        (
            "rare_destination",
            include_str!("detectors/rare_destination.rs"),
            include_str!("detectors/rare_destination/tests.rs"),
        ),
        (
            "http_anomaly",
            include_str!("detectors/http_anomaly.rs"),
            include_str!("detectors/http_anomaly/tests.rs"),
        ),
        (
            "intel_match",
            include_str!("detectors/intel_match.rs"),
            include_str!("detectors/intel_match/tests.rs"),
        ),
        ("lolbin", include_str!("detectors/lolbin.rs"), include_str!("detectors/lolbin/tests.rs")),
        (
            "dll_sideload",
            include_str!("detectors/dll_sideload.rs"),
            include_str!("detectors/dll_sideload/tests.rs"),
        ),
        (
            "rmm_process",
            include_str!("detectors/rmm_process.rs"),
            include_str!("detectors/rmm_process/tests.rs"),
        ),
        (
            "credential_access",
            include_str!("detectors/credential_access.rs"),
            include_str!("detectors/credential_access/tests.rs"),
        ),
        (
            "remote_execution",
            include_str!("detectors/remote_execution.rs"),
            include_str!("detectors/remote_execution/tests.rs"),
        ),
        (
            "defense_evasion",
            include_str!("detectors/defense_evasion.rs"),
            include_str!("detectors/defense_evasion/tests.rs"),
        ),
        ("sigma", include_str!("detectors/sigma.rs"), include_str!("detectors/sigma/tests.rs")),
    ];

    #[test]
    fn ids_unique_snake_case_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for r in ALL {
            let m = r.meta;
            assert!(seen.insert(m.id), "duplicate id {}", m.id);
            assert!(
                m.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') && !m.id.starts_with('_'),
                "{} is not snake_case",
                m.id
            );
            assert!(!m.title.is_empty() && m.doc.len() > 40, "{} lacks a title or doc", m.id);
            assert!(!m.attack.is_empty(), "{} lists no ATT&CK technique", m.id);
            for t in m.attack {
                assert!(dwell_model::Technique::parse(&t.to_string()).is_some());
            }
            assert!(!m.inputs.is_empty(), "{} reads nothing", m.id);
            for p in (m.params)() {
                assert!(!p.doc.is_empty(), "{}.{} has no doc", m.id, p.name);
            }
        }
    }

    #[test]
    fn every_detector_has_header_and_tests() {
        assert_eq!(SOURCES.len(), ALL.len(), "add the new detector's files to SOURCES");
        for r in ALL {
            let (_, src, tests) = SOURCES
                .iter()
                .find(|(id, _, _)| *id == r.meta.id)
                .unwrap_or_else(|| panic!("{} missing from SOURCES", r.meta.id));
            let header: String = src.lines().take_while(|l| l.starts_with("//!")).collect();
            for part in [
                "**Finds.**",
                "**ATT&CK.**",
                "**Inputs.**",
                "**Method.**",
                "**Known false positives.**",
            ] {
                assert!(header.contains(part), "{}: header lacks {part}", r.meta.id);
            }
            assert!(tests.matches("#[test]").count() >= 2, "{}: needs TP and TN tests", r.meta.id);
        }
    }

    #[test]
    fn unknown_override_is_named() {
        let mut profile = OrgProfile::default();
        profile.detectors.insert("long_conection".into(), serde_json::json!({}));
        let intel = Arc::new(IntelSet::new());
        let err = build_all(&BuildCx { profile: &profile, intel: &intel }).err().unwrap();
        assert!(err.to_string().contains("long_conection"), "{err}");

        let mut profile = OrgProfile::default();
        profile.detectors.insert("long_connection".into(), serde_json::json!({"base_z": 1}));
        let err = build_all(&BuildCx { profile: &profile, intel: &intel }).err().unwrap();
        assert!(err.to_string().contains("base_z"), "{err}");

        let mut profile = OrgProfile::default();
        profile.detectors.insert("long_connection".into(), serde_json::json!({"base_s": 60.0}));
        assert_eq!(
            build_all(&BuildCx { profile: &profile, intel: &intel }).unwrap().len(),
            ALL.len()
        );
    }
}
