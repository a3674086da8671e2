//! The detectors, one file each. See each file's header for what it finds and why.

pub mod anonymizer;
pub mod beaconing;
pub mod credential_access;
pub mod data_egress;
pub mod defense_evasion;
pub mod dga;
pub mod dll_sideload;
pub mod dns_tunnel;
pub mod edge_device;
pub mod http_anomaly;
pub mod intel_match;
pub mod lateral_movement;
pub mod lolbin;
pub mod long_connection;
pub mod rare_destination;
pub mod remote_execution;
pub mod rmm_process;
pub mod rmm_tool;
pub mod scan;
pub mod sigma;
pub mod tls_anomaly;
