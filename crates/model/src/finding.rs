//! Findings and incidents: the output contract (`../shared/spec/findings.md`).
//!
//! Field names and JSON shapes here are read by other tools and by our own evaluation;
//! they may be extended but never renamed. The serde attributes are the contract, and
//! the engine's spec test validates the written files against it.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// Life-cycle stage of an intrusion, in the order DESIGN §2 gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Stage {
    InitialAccess,
    Execution,
    DefenseEvasion,
    Persistence,
    PrivilegeEscalation,
    CredentialAccess,
    Discovery,
    LateralMovement,
    Collection,
    CommandAndControl,
    Exfiltration,
    Impact,
}

impl Stage {
    /// Every stage in life-cycle order.
    pub const ALL: &'static [Stage] = &[
        Stage::InitialAccess,
        Stage::Execution,
        Stage::DefenseEvasion,
        Stage::Persistence,
        Stage::PrivilegeEscalation,
        Stage::CredentialAccess,
        Stage::Discovery,
        Stage::LateralMovement,
        Stage::Collection,
        Stage::CommandAndControl,
        Stage::Exfiltration,
        Stage::Impact,
    ];

    /// snake_case name as in the spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::InitialAccess => "initial_access",
            Stage::Execution => "execution",
            Stage::DefenseEvasion => "defense_evasion",
            Stage::Persistence => "persistence",
            Stage::PrivilegeEscalation => "privilege_escalation",
            Stage::CredentialAccess => "credential_access",
            Stage::Discovery => "discovery",
            Stage::LateralMovement => "lateral_movement",
            Stage::Collection => "collection",
            Stage::CommandAndControl => "command_and_control",
            Stage::Exfiltration => "exfiltration",
            Stage::Impact => "impact",
        }
    }

    /// Human name for reports.
    pub fn title(self) -> &'static str {
        match self {
            Stage::InitialAccess => "Initial access",
            Stage::Execution => "Execution",
            Stage::DefenseEvasion => "Defense evasion",
            Stage::Persistence => "Persistence",
            Stage::PrivilegeEscalation => "Privilege escalation",
            Stage::CredentialAccess => "Credential access",
            Stage::Discovery => "Discovery",
            Stage::LateralMovement => "Lateral movement",
            Stage::Collection => "Collection",
            Stage::CommandAndControl => "Command and control",
            Stage::Exfiltration => "Exfiltration",
            Stage::Impact => "Impact",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A MITRE ATT&CK technique id: `T1234` or `T1234.001`.
///
/// Construction validates the form, so every id in the output is well formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Technique {
    /// Technique number (the `1234` of `T1234`).
    pub id: u16,
    /// Sub-technique number (the `001` of `T1234.001`), if any.
    pub sub: Option<u16>,
}

impl Technique {
    /// Parses `T1234` / `T1234.001`.
    pub const fn parse(s: &str) -> Option<Technique> {
        let b = s.as_bytes();
        if !(b.len() == 5 || b.len() == 9) || b[0] != b'T' {
            return None;
        }
        let mut id = 0u16;
        let mut i = 1;
        while i < 5 {
            if !b[i].is_ascii_digit() {
                return None;
            }
            id = id * 10 + (b[i] - b'0') as u16;
            i += 1;
        }
        if b.len() == 5 {
            return Some(Technique { id, sub: None });
        }
        if b[5] != b'.' {
            return None;
        }
        let mut sub = 0u16;
        i = 6;
        while i < 9 {
            if !b[i].is_ascii_digit() {
                return None;
            }
            sub = sub * 10 + (b[i] - b'0') as u16;
            i += 1;
        }
        Some(Technique { id, sub: Some(sub) })
    }

    /// Parses at compile time; a malformed literal fails the build.
    pub const fn must(s: &str) -> Technique {
        match Technique::parse(s) {
            Some(t) => t,
            None => panic!("malformed ATT&CK technique id"),
        }
    }

    /// The parent technique (`T1071` for `T1071.004`).
    pub const fn parent(self) -> Technique {
        Technique { id: self.id, sub: None }
    }

    /// The ATT&CK enterprise tactics the technique belongs to, as life-cycle stages
    /// (our stages are ATT&CK's tactics; reconnaissance and resource development have no
    /// stage). Empty for a technique not in the table: the techniques dwell's detectors
    /// name and the common ones Sigma rules tag. Sub-techniques share their parent's.
    pub fn tactics(self) -> &'static [Stage] {
        use Stage::*;
        match self.id {
            1190 | 1566 | 1195 | 1189 | 1199 | 1200 => &[InitialAccess],
            1133 => &[InitialAccess, Persistence],
            1078 => &[InitialAccess, Persistence, PrivilegeEscalation, DefenseEvasion],
            1047 | 1059 | 1106 | 1203 | 1204 | 1569 | 1129 => &[Execution],
            1053 => &[Execution, Persistence, PrivilegeEscalation],
            1072 => &[Execution, LateralMovement],
            1136 | 1505 | 1037 | 1137 | 1176 => &[Persistence],
            1098 | 1543 | 1546 | 1547 => &[Persistence, PrivilegeEscalation],
            1574 => &[Persistence, PrivilegeEscalation, DefenseEvasion],
            1197 => &[DefenseEvasion, Persistence],
            1068 => &[PrivilegeEscalation],
            1055 | 1134 | 1548 => &[PrivilegeEscalation, DefenseEvasion],
            1027 | 1036 | 1070 | 1112 | 1140 | 1202 | 1218 | 1220 | 1562 | 1564 | 1222 | 1497
            | 1620 => &[DefenseEvasion],
            1550 => &[DefenseEvasion, LateralMovement],
            1003 | 1110 | 1552 | 1555 | 1558 | 1212 | 1606 => &[CredentialAccess],
            1040 => &[CredentialAccess, Discovery],
            1557 => &[CredentialAccess, Collection],
            1007 | 1012 | 1016 | 1018 | 1033 | 1046 | 1049 | 1057 | 1069 | 1082 | 1083 | 1087
            | 1135 | 1201 | 1482 | 1518 | 1615 | 1654 => &[Discovery],
            1021 | 1210 | 1534 | 1563 | 1570 => &[LateralMovement],
            1005 | 1039 | 1074 | 1113 | 1114 | 1119 | 1560 | 1213 => &[Collection],
            1001 | 1008 | 1071 | 1090 | 1095 | 1102 | 1104 | 1105 | 1132 | 1219 | 1568 | 1571
            | 1572 | 1573 => &[CommandAndControl],
            1011 | 1020 | 1029 | 1030 | 1041 | 1048 | 1052 | 1537 | 1567 => &[Exfiltration],
            1485 | 1486 | 1489 | 1490 | 1491 | 1498 | 1499 | 1529 | 1531 | 1561 => &[Impact],
            _ => &[],
        }
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub {
            Some(s) => write!(f, "T{:04}.{:03}", self.id, s),
            None => write!(f, "T{:04}", self.id),
        }
    }
}

impl Serialize for Technique {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Technique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Technique::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an ATT&CK technique id: {s:?}")))
    }
}

/// The internal host a finding is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entity {
    /// Address; absent only for endpoint findings with no known address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// Host name when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Role (`edge`, `server`, `dc`, `workstation`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl Entity {
    /// An entity known by its address only.
    pub fn ip(ip: IpAddr) -> Entity {
        Entity { ip: Some(ip), host: None, role: None }
    }

    /// A stable text key: the address, else the host name.
    pub fn key(&self) -> String {
        match (&self.ip, &self.host) {
            (Some(ip), _) => ip.to_string(),
            (None, Some(h)) => h.to_ascii_lowercase(),
            (None, None) => String::new(),
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.ip, &self.host) {
            (Some(ip), Some(h)) => write!(f, "{ip} ({h})"),
            (Some(ip), None) => write!(f, "{ip}"),
            (None, Some(h)) => f.write_str(h),
            (None, None) => f.write_str("?"),
        }
    }
}

/// The other side of a finding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Peer {
    /// Address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// Domain name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Port on the peer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(d) = &self.domain {
            f.write_str(d)?;
            wrote = true;
        }
        if let Some(ip) = &self.ip {
            if wrote {
                write!(f, " [{ip}]")?;
            } else {
                write!(f, "{ip}")?;
            }
            wrote = true;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
            wrote = true;
        }
        if !wrote {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// A pointer into the input: file path and 1-based record number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Source {
    /// File path as given on the command line (or found in a directory walk).
    pub file: String,
    /// 1-based record number (line for text formats).
    pub record: u64,
}

/// One behaviour on one entity (spec: `findings.jsonl`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: the same input gives the same id.
    pub id: String,
    /// First evidence.
    pub time: Timestamp,
    /// Last evidence.
    pub end: Timestamp,
    /// Detector id (snake_case).
    pub detector: String,
    /// Short human title.
    pub title: String,
    /// Life-cycle stage.
    pub stage: Stage,
    /// ATT&CK technique ids.
    pub attack: Vec<Technique>,
    /// Confidence × severity, 0–100; 50+ is worth an analyst's look.
    pub score: f64,
    /// The internal host.
    pub entity: Entity,
    /// The other side, if any.
    pub peer: Option<Peer>,
    /// One sentence an analyst can read.
    pub summary: String,
    /// Detector-specific figures (always a JSON object).
    pub evidence: serde_json::Map<String, serde_json::Value>,
    /// A few places in the input where the evidence is.
    pub sources: Vec<Source>,
}

/// Severity band of an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Band of a 0–100 score: <40 low, <60 medium, <80 high, else critical.
    pub fn from_score(score: f64) -> Severity {
        if score >= 80.0 {
            Severity::Critical
        } else if score >= 60.0 {
            Severity::High
        } else if score >= 40.0 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// The operating model an incident looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TempoModel {
    /// Fast: days from access to egress (public median ~48 h; compromise ~10 days).
    SmashAndGrab,
    /// Patient espionage: weeks to years inside (mean 35 days to egress).
    LowAndSlow,
    /// Not enough evidence to say.
    Undetermined,
}

impl TempoModel {
    /// snake_case name as in the spec.
    pub fn as_str(self) -> &'static str {
        match self {
            TempoModel::SmashAndGrab => "smash_and_grab",
            TempoModel::LowAndSlow => "low_and_slow",
            TempoModel::Undetermined => "undetermined",
        }
    }
}

/// Findings grouped into one intrusion (spec: `incidents.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable id.
    pub id: String,
    /// Short human title.
    pub title: String,
    /// A few sentences for the analyst.
    pub summary: String,
    /// 0–100.
    pub score: f64,
    /// Band of `score`.
    pub severity: Severity,
    /// Internal hosts involved.
    pub entities: Vec<Entity>,
    /// First evidence.
    pub first_seen: Timestamp,
    /// Last evidence.
    pub last_seen: Timestamp,
    /// Stages seen, in life-cycle order.
    pub stages: Vec<Stage>,
    /// Techniques seen, sorted.
    pub attack: Vec<Technique>,
    /// Operating model.
    pub model: TempoModel,
    /// Why that model.
    pub model_reasons: Vec<String>,
    /// Seconds from first to last evidence.
    pub dwell_s: f64,
    /// Seconds from first evidence to the first exfiltration finding, if any.
    pub time_to_exfil_s: Option<f64>,
    /// Ids of the findings in this incident.
    pub findings: Vec<String>,
}

/// The `incidents.json` document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentsFile {
    /// Schema version; bumped when a field is renamed or removed.
    pub schema: u32,
    /// When the file was written (wall clock, UTC).
    pub generated: Timestamp,
    /// Inputs analysed, as given.
    pub inputs: Vec<String>,
    /// Incidents, highest score first.
    pub incidents: Vec<Incident>,
}

/// Current `incidents.json` schema version.
pub const INCIDENTS_SCHEMA: u32 = 1;

/// Rounds a score to one decimal and clamps it to 0–100.
pub fn clamp_score(s: f64) -> f64 {
    if s.is_nan() {
        return 0.0;
    }
    (s.clamp(0.0, 100.0) * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_ids() {
        assert_eq!(Technique::parse("T1071.004").unwrap().to_string(), "T1071.004");
        assert_eq!(Technique::parse("T1048").unwrap().to_string(), "T1048");
        assert_eq!(Technique::must("T1071.004").parent(), Technique::must("T1071"));
        for bad in ["T107", "t1071", "T1071.4", "T1071.0040", "X1071", "T10a1", ""] {
            assert!(Technique::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn stage_serde_names() {
        for s in Stage::ALL {
            let j = serde_json::to_string(s).unwrap();
            assert_eq!(j, format!("\"{}\"", s.as_str()));
        }
        assert!(Stage::InitialAccess < Stage::Exfiltration);
    }

    #[test]
    fn severity_bands() {
        assert_eq!(Severity::from_score(10.0), Severity::Low);
        assert_eq!(Severity::from_score(50.0), Severity::Medium);
        assert_eq!(Severity::from_score(65.0), Severity::High);
        assert_eq!(Severity::from_score(95.0), Severity::Critical);
    }
}
