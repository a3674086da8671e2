//! The org profile: what the organisation tells dwell about itself.
//!
//! Parsed from TOML by the engine (`--config dwell.toml`; keys in
//! `spec/findings.md`). Every key is optional; an unknown key is an error that names it
//! (`deny_unknown_fields` at every level). Detector overrides under `[detectors.ID]`
//! are kept as JSON values here and validated by each detector's own config struct when
//! the registry builds it, so a misspelt threshold is also an error naming it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use crate::netset::NetSet;

/// The org profile as written in `dwell.toml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// Sector (`transportation`, `energy`, ...): raises priorities for the sectors the
    /// threat reports name.
    pub sector: Option<String>,
    /// Time zone for hour-of-day rules: `UTC` or a fixed offset (`+08:00`, `UTC-5`).
    pub timezone: Option<String>,
    /// Internal networks (CIDR). Default: RFC 1918, RFC 6598, ULA, link-local.
    pub internal_networks: Option<Vec<String>>,
    /// The sanctioned DNS resolvers.
    #[serde(default)]
    pub dns_resolvers: Vec<String>,
    /// Internet-facing hosts (addresses or CIDRs).
    #[serde(default)]
    pub edge_hosts: Vec<String>,
    /// Jump hosts from which admin protocols are normal (addresses or CIDRs).
    #[serde(default)]
    pub admin_hosts: Vec<String>,
    /// The host inventory: computer name → its address (`[hosts]`, `WS12 = "10.0.3.12"`).
    /// Declared names link endpoint records (which name a computer) to network records
    /// (which give addresses) where no DHCP, NTLM or Sysmon record links them, and win
    /// over what telemetry suggests.
    #[serde(default)]
    pub hosts: BTreeMap<String, String>,
    /// The remote-management ledger.
    #[serde(default)]
    pub rmm: RmmLedger,
    /// Per-detector overrides of documented thresholds.
    #[serde(default)]
    pub detectors: BTreeMap<String, serde_json::Value>,
}

/// `[rmm]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmmLedger {
    /// `[[rmm.approved]]` entries.
    #[serde(default)]
    pub approved: Vec<RmmApprovalFile>,
}

/// One `[[rmm.approved]]` entry as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmmApprovalFile {
    /// Tool id as `dwell detectors` lists them.
    pub tool: String,
    /// Where it may run (CIDRs, addresses or host names); omitted = anywhere.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Allowed hours, `HH:MM-HH:MM` in the profile's time zone.
    pub hours: Option<String>,
}

/// An error in the org profile, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct ProfileError {
    /// Dotted key path (`internal_networks[2]`, `rmm.approved[0].hours`).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

/// Hours of the day, `[start, end)` in minutes since local midnight; may wrap midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourRange {
    /// Start, minutes after midnight.
    pub start_min: u16,
    /// End, minutes after midnight.
    pub end_min: u16,
}

impl HourRange {
    /// Parses `07:00-19:00`.
    pub fn parse(s: &str) -> Option<HourRange> {
        let (a, b) = s.split_once('-')?;
        let hm = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
        };
        Some(HourRange { start_min: hm(a)?, end_min: hm(b)? })
    }

    /// Whether a minute of the day falls in the range.
    pub fn contains(&self, minute_of_day: u16) -> bool {
        if self.start_min <= self.end_min {
            (self.start_min..self.end_min).contains(&minute_of_day)
        } else {
            minute_of_day >= self.start_min || minute_of_day < self.end_min
        }
    }
}

/// Where an approved tool may run.
#[derive(Clone, Debug)]
pub enum HostSpec {
    /// A network (an address is a /32 or /128).
    Net(IpNet),
    /// A host name (case-insensitive).
    Name(String),
}

/// One approved remote-management tool.
#[derive(Clone, Debug)]
pub struct RmmApproval {
    /// Tool id.
    pub tool: String,
    /// Where it may run; empty = anywhere.
    pub hosts: Vec<HostSpec>,
    /// When it may run; `None` = any time.
    pub hours: Option<HourRange>,
}

/// The org profile, validated and ready for detectors.
#[derive(Clone, Debug)]
pub struct OrgProfile {
    /// Sector, lowercase.
    pub sector: Option<String>,
    /// Offset of local time from UTC, in seconds.
    pub utc_offset_s: i32,
    /// Internal networks.
    pub internal: NetSet,
    /// The internal networks as given (for display).
    pub internal_networks: Vec<IpNet>,
    /// Sanctioned resolvers.
    pub dns_resolvers: NetSet,
    /// Internet-facing hosts.
    pub edge_hosts: NetSet,
    /// Admin jump hosts.
    pub admin_hosts: NetSet,
    /// Approved RMM tools.
    pub rmm_approved: Vec<RmmApproval>,
    /// Declared computers: short lower-case name → address.
    pub hosts: BTreeMap<String, IpAddr>,
    /// Declared computers: address → the name as written.
    pub host_names: BTreeMap<IpAddr, String>,
    /// Detector overrides by detector id.
    pub detectors: BTreeMap<String, serde_json::Value>,
}

impl Default for OrgProfile {
    fn default() -> Self {
        // Built from constants that parse; an empty file cannot fail.
        Self::from_file(ProfileFile::default()).unwrap_or_else(|_| OrgProfile {
            sector: None,
            utc_offset_s: 0,
            internal: NetSet::new(),
            internal_networks: Vec::new(),
            dns_resolvers: NetSet::new(),
            edge_hosts: NetSet::new(),
            admin_hosts: NetSet::new(),
            rmm_approved: Vec::new(),
            hosts: BTreeMap::new(),
            host_names: BTreeMap::new(),
            detectors: BTreeMap::new(),
        })
    }
}

/// Parses an address or CIDR into a network.
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n.trunc());
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

fn nets(key: &str, list: &[String]) -> Result<(NetSet, Vec<IpNet>), ProfileError> {
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let n = parse_net(s).ok_or_else(|| ProfileError {
            key: format!("{key}[{i}]"),
            reason: format!("{s:?} is not an address or CIDR"),
        })?;
        out.push(n);
    }
    Ok((NetSet::from_nets(&out), out))
}

/// Parses `UTC`, `Z`, `+08:00`, `-0500`, `UTC+8`, `UTC-05:30` into seconds east of UTC.
pub fn parse_utc_offset(s: &str) -> Option<i32> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("gmt") || t == "Z" {
        return Some(0);
    }
    let t = t.strip_prefix("UTC").or_else(|| t.strip_prefix("GMT")).unwrap_or(t);
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let (h, m) = if let Some((h, m)) = rest.split_once(':') {
        (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?)
    } else if rest.len() == 4 {
        (rest.get(..2)?.parse().ok()?, rest.get(2..)?.parse().ok()?)
    } else {
        (rest.parse().ok()?, 0)
    };
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

impl OrgProfile {
    /// Validates a parsed file.
    pub fn from_file(f: ProfileFile) -> Result<OrgProfile, ProfileError> {
        let internal_list: Vec<String> = match &f.internal_networks {
            Some(l) => l.clone(),
            None => dwell_model::net::DEFAULT_INTERNAL.iter().map(|s| s.to_string()).collect(),
        };
        let (internal, internal_networks) = nets("internal_networks", &internal_list)?;
        let utc_offset_s = match &f.timezone {
            None => 0,
            Some(tz) => parse_utc_offset(tz).ok_or_else(|| ProfileError {
                key: "timezone".into(),
                reason: format!(
                    "{tz:?} is not understood; use UTC or a fixed offset such as +08:00 or UTC-5"
                ),
            })?,
        };
        let mut rmm_approved = Vec::new();
        for (i, a) in f.rmm.approved.iter().enumerate() {
            let hours = match &a.hours {
                None => None,
                Some(h) => Some(HourRange::parse(h).ok_or_else(|| ProfileError {
                    key: format!("rmm.approved[{i}].hours"),
                    reason: format!("{h:?} is not HH:MM-HH:MM"),
                })?),
            };
            let hosts = a
                .hosts
                .iter()
                .map(|h| match parse_net(h) {
                    Some(n) => HostSpec::Net(n),
                    None => HostSpec::Name(h.to_ascii_lowercase()),
                })
                .collect();
            rmm_approved.push(RmmApproval { tool: a.tool.to_ascii_lowercase(), hosts, hours });
        }
        let (mut hosts, mut host_names) = (BTreeMap::new(), BTreeMap::new());
        for (name, addr) in &f.hosts {
            let ip: IpAddr = addr.trim().parse().map_err(|_| ProfileError {
                key: format!("hosts.{name}"),
                reason: format!("{addr:?} is not an address"),
            })?;
            let key = dwell_model::win::short_host(name);
            if key.is_empty() {
                return Err(ProfileError {
                    key: format!("hosts.{name}"),
                    reason: "empty name".into(),
                });
            }
            hosts.insert(key, ip);
            host_names.insert(ip, name.trim().to_string());
        }
        Ok(OrgProfile {
            sector: f.sector.map(|s| s.to_ascii_lowercase()),
            utc_offset_s,
            internal,
            internal_networks,
            dns_resolvers: nets("dns_resolvers", &f.dns_resolvers)?.0,
            edge_hosts: nets("edge_hosts", &f.edge_hosts)?.0,
            admin_hosts: nets("admin_hosts", &f.admin_hosts)?.0,
            rmm_approved,
            hosts,
            host_names,
            detectors: f.detectors,
        })
    }

    /// Whether `ip` is an internal host (inside `internal_networks` and unicast).
    pub fn is_internal(&self, ip: IpAddr) -> bool {
        self.internal.contains(ip) && !dwell_model::net::is_non_unicast(ip)
    }

    /// Whether `ip` is an external unicast address (a real remote party).
    pub fn is_external(&self, ip: IpAddr) -> bool {
        !self.internal.contains(ip) && !dwell_model::net::is_non_unicast(ip)
    }

    /// The declared address of a computer (any spelling: `WS12`, `ws12.corp.local`).
    pub fn host_ip(&self, computer: &str) -> Option<IpAddr> {
        if self.hosts.is_empty() {
            return None;
        }
        self.hosts.get(&dwell_model::win::short_host(computer)).copied()
    }

    /// The declared name of the computer at `ip`.
    pub fn host_name(&self, ip: IpAddr) -> Option<&str> {
        self.host_names.get(&ip).map(String::as_str)
    }

    /// The role the profile gives `ip`, if any.
    pub fn role(&self, ip: IpAddr) -> Option<&'static str> {
        if self.edge_hosts.contains(ip) {
            Some("edge")
        } else if self.dns_resolvers.contains(ip) {
            Some("resolver")
        } else if self.admin_hosts.contains(ip) {
            Some("admin")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_rfc1918_and_friends() {
        let p = OrgProfile::default();
        assert!(p.is_internal("10.0.0.1".parse().unwrap()));
        assert!(p.is_internal("fd12::1".parse().unwrap()));
        assert!(!p.is_internal("8.8.8.8".parse().unwrap()));
        assert!(!p.is_external("224.0.0.251".parse().unwrap()));
        assert!(p.is_external("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn offsets_and_hours() {
        assert_eq!(parse_utc_offset("UTC"), Some(0));
        assert_eq!(parse_utc_offset("+08:00"), Some(8 * 3600));
        assert_eq!(parse_utc_offset("UTC-5"), Some(-5 * 3600));
        assert_eq!(parse_utc_offset("-0530"), Some(-(5 * 3600 + 30 * 60)));
        assert_eq!(parse_utc_offset("Europe/Berlin"), None);
        let h = HourRange::parse("07:00-19:00").unwrap();
        assert!(h.contains(7 * 60) && !h.contains(19 * 60));
        let night = HourRange::parse("22:00-06:00").unwrap();
        assert!(night.contains(23 * 60) && night.contains(60) && !night.contains(12 * 60));
        assert!(HourRange::parse("25:00-26:00").is_none());
    }

    #[test]
    fn bad_values_name_their_key() {
        let f = ProfileFile {
            edge_hosts: vec!["10.0.0.1".into(), "nonsense".into()],
            ..Default::default()
        };
        let e = OrgProfile::from_file(f).unwrap_err();
        assert_eq!(e.key, "edge_hosts[1]");
        let f = ProfileFile {
            hosts: [("WS1".to_string(), "10.0.0.300".to_string())].into_iter().collect(),
            ..Default::default()
        };
        assert_eq!(OrgProfile::from_file(f).unwrap_err().key, "hosts.WS1");
    }

    #[test]
    fn the_host_inventory_answers_in_any_spelling() {
        let f = ProfileFile {
            hosts: [("WS12", "10.0.3.12"), ("dc1.corp.local", "10.0.0.10")]
                .into_iter()
                .map(|(n, a)| (n.to_string(), a.to_string()))
                .collect(),
            ..Default::default()
        };
        let p = OrgProfile::from_file(f).unwrap();
        assert_eq!(p.host_ip("ws12.corp.local"), "10.0.3.12".parse().ok());
        assert_eq!(p.host_ip("DC1"), "10.0.0.10".parse().ok());
        assert_eq!(p.host_ip("WS13"), None);
        assert_eq!(p.host_name("10.0.0.10".parse().unwrap()), Some("dc1.corp.local"));
    }
}
