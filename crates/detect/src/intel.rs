//! Threat-intelligence indicators: parsing lists and looking values up.
//!
//! Input (read by the engine from `--intel FILE`, parsed here without I/O): one
//! indicator per line, `#` comments allowed, or CSV with a description column. A CSV
//! header names its columns (`indicator`/`ioc`/`value`, `description`/`desc`/
//! `comment`/`threat`); without a header the first column is the indicator and the
//! second its description. Defanged forms (`example[.]com`, `hxxp://`) are refanged.
//!
//! The type of each indicator is read from its shape: an address, a CIDR, a 32/40/64
//! hex digest (MD5 — JA3/JA3S or a file — SHA-1, SHA-256; colons allowed), a JA4
//! fingerprint, or a domain (which also covers its subdomains). URLs contribute their
//! host as a domain indicator. Lines that fit none are counted as unsupported and a few
//! are kept to report.

use std::collections::HashMap;
use std::net::IpAddr;

use foldhash::fast::RandomState;

use crate::netset::NetSet;
use crate::profile::parse_net;

/// What an indicator is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndicatorKind {
    /// One address.
    Ip,
    /// A network.
    Cidr,
    /// A domain and its subdomains.
    Domain,
    /// MD5 hex (JA3, JA3S, file MD5).
    Md5,
    /// SHA-1 hex (certificate or file).
    Sha1,
    /// SHA-256 hex (certificate or file).
    Sha256,
    /// JA4 / JA4S fingerprint.
    Ja4,
}

impl IndicatorKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ip => "ip",
            IndicatorKind::Cidr => "cidr",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::Ja4 => "ja4",
        }
    }
}

/// An indicator and what the list says of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    /// Normalised value (lowercase, refanged, no trailing dot, hex without colons).
    pub value: String,
    /// Kind.
    pub kind: IndicatorKind,
    /// Description from the list, if any.
    pub description: Option<String>,
    /// The list it came from (as given on the command line).
    pub source: String,
}

/// Counts from parsing one list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Indicators added.
    pub loaded: usize,
    /// Lines that were no indicator of a supported kind.
    pub unsupported: usize,
    /// A few of those lines with their line numbers.
    pub samples: Vec<(usize, String)>,
}

/// All indicators of a run.
#[derive(Clone, Debug, Default)]
pub struct IntelSet {
    ips: HashMap<IpAddr, Indicator, RandomState>,
    nets: NetSet<Indicator>,
    domains: HashMap<String, Indicator, RandomState>,
    digests: HashMap<String, Indicator, RandomState>,
    /// Sigma rules given with `--sigma` (user-supplied detection content travels with
    /// the indicators; the `sigma` detector evaluates them).
    pub sigma: crate::sigma::RuleSet,
}

fn refang(s: &str) -> String {
    let mut t =
        s.trim().trim_matches('"').replace("[.]", ".").replace("(.)", ".").replace("[:]", ":");
    for (from, to) in [("hxxps://", "https://"), ("hxxp://", "http://")] {
        if t.to_ascii_lowercase().starts_with(from) {
            t = format!("{to}{}", &t[from.len()..]);
        }
    }
    t
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_ja4(s: &str) -> bool {
    // t13d1516h2_8daaf6152771_02713d6af862: 10-char prefix, two 12-hex parts.
    let parts: Vec<&str> = s.split('_').collect();
    parts.len() == 3
        && parts[0].len() == 10
        && matches!(parts[0].as_bytes().first(), Some(b't' | b'q' | b'd'))
        && parts[0].bytes().all(|b| b.is_ascii_alphanumeric())
        && parts[1].len() == 12
        && is_hex(parts[1])
        && parts[2].len() == 12
        && is_hex(parts[2])
}

/// A domain name in normalised form, if `s` looks like one.
pub fn normalise_domain(s: &str) -> Option<String> {
    let d = s.trim().trim_end_matches('.').trim_start_matches("*.").trim_start_matches('.');
    let d = d.to_ascii_lowercase();
    let ok = d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && d.bytes().any(|b| b.is_ascii_alphabetic());
    ok.then_some(d)
}

/// Classifies one indicator text.
pub fn classify(raw: &str) -> Option<(String, IndicatorKind)> {
    let s = refang(raw);
    if s.is_empty() {
        return None;
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some((ip.to_string(), IndicatorKind::Ip));
    }
    if s.contains('/') && !s.contains("://") {
        if let Some(n) = parse_net(&s) {
            return Some((n.to_string(), IndicatorKind::Cidr));
        }
    }
    if let Some(rest) = s.split_once("://").map(|(_, r)| r) {
        // A URL: its host.
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let host = host.trim_start_matches('[').split(']').next().unwrap_or(host);
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some((ip.to_string(), IndicatorKind::Ip));
        }
        let host = host.split(':').next().unwrap_or(host);
        return normalise_domain(host).map(|d| (d, IndicatorKind::Domain));
    }
    let hex = s.replace(':', "").to_ascii_lowercase();
    if is_hex(&hex) {
        let kind = match hex.len() {
            32 => Some(IndicatorKind::Md5),
            40 => Some(IndicatorKind::Sha1),
            64 => Some(IndicatorKind::Sha256),
            _ => None,
        };
        if let Some(k) = kind {
            return Some((hex, k));
        }
    }
    let lower = s.to_ascii_lowercase();
    if is_ja4(&lower) {
        return Some((lower, IndicatorKind::Ja4));
    }
    normalise_domain(&s).map(|d| (d, IndicatorKind::Domain))
}

/// Splits one CSV line, honouring double quotes.
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|f| f.trim().to_string()).collect()
}

const INDICATOR_HEADERS: &[&str] =
    &["indicator", "ioc", "value", "ip", "domain", "hash", "observable", "ja3", "ja4"];
const DESCRIPTION_HEADERS: &[&str] =
    &["description", "desc", "comment", "threat", "malware", "name", "tags", "note"];

impl IntelSet {
    /// An empty set.
    pub fn new() -> Self {
        IntelSet::default()
    }

    /// Total indicators.
    pub fn len(&self) -> usize {
        self.ips.len() + self.nets.len() + self.domains.len() + self.digests.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds one indicator (first description wins on duplicates).
    pub fn add(&mut self, ind: Indicator) {
        match ind.kind {
            IndicatorKind::Ip => {
                if let Ok(ip) = ind.value.parse() {
                    self.ips.entry(ip).or_insert(ind);
                }
            }
            IndicatorKind::Cidr => {
                if let Some(n) = parse_net(&ind.value) {
                    self.nets.insert(n, ind);
                }
            }
            IndicatorKind::Domain => {
                self.domains.entry(ind.value.clone()).or_insert(ind);
            }
            _ => {
                self.digests.entry(ind.value.clone()).or_insert(ind);
            }
        }
    }

    /// Parses one list (plain lines or CSV) named `source`.
    pub fn load(&mut self, source: &str, text: &str) -> LoadReport {
        let mut rep = LoadReport::default();
        let mut cols: Option<(usize, Option<usize>)> = None;
        let mut first = true;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
                continue;
            }
            let is_csv = line.contains(',');
            let fields = if is_csv { csv_fields(line) } else { vec![line.to_string()] };
            if first {
                first = false;
                let lower: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
                let ind = lower.iter().position(|f| INDICATOR_HEADERS.contains(&f.as_str()));
                if let (true, Some(ind)) = (is_csv, ind) {
                    let desc = lower.iter().position(|f| DESCRIPTION_HEADERS.contains(&f.as_str()));
                    cols = Some((ind, desc));
                    continue;
                }
            }
            let (ind_col, desc_col) = cols.unwrap_or((0, if is_csv { Some(1) } else { None }));
            let raw = fields.get(ind_col).map(String::as_str).unwrap_or("");
            // Plain lines may carry a trailing comment after whitespace.
            let raw = if is_csv { raw } else { raw.split_whitespace().next().unwrap_or("") };
            match classify(raw) {
                Some((value, kind)) => {
                    let description =
                        desc_col.and_then(|c| fields.get(c)).filter(|d| !d.is_empty()).cloned();
                    self.add(Indicator { value, kind, description, source: source.to_string() });
                    rep.loaded += 1;
                }
                None => {
                    rep.unsupported += 1;
                    if rep.samples.len() < 5 {
                        rep.samples.push((i + 1, line.chars().take(80).collect()));
                    }
                }
            }
        }
        rep
    }

    /// The indicator matching an address (exact, else the most specific network).
    pub fn ip(&self, ip: IpAddr) -> Option<&Indicator> {
        if self.ips.is_empty() && self.nets.is_empty() {
            return None;
        }
        self.ips.get(&ip).or_else(|| self.nets.get(ip))
    }

    /// The indicator matching a domain or any of its parent domains.
    pub fn domain(&self, name: &str) -> Option<&Indicator> {
        if self.domains.is_empty() {
            return None;
        }
        let n = name.trim_end_matches('.');
        let lower;
        let n = if n.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = n.to_ascii_lowercase();
            lower.as_str()
        } else {
            n
        };
        let mut rest = n;
        loop {
            if let Some(i) = self.domains.get(rest) {
                return Some(i);
            }
            rest = rest.split_once('.')?.1;
        }
    }

    /// The indicator matching a digest or fingerprint (case-insensitive, colons ignored).
    pub fn digest(&self, value: &str) -> Option<&Indicator> {
        if self.digests.is_empty() {
            return None;
        }
        if let Some(i) = self.digests.get(value) {
            return Some(i);
        }
        let norm = value.replace(':', "").to_ascii_lowercase();
        self.digests.get(&norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_shapes() {
        let k = |s: &str| classify(s).map(|(_, k)| k);
        assert_eq!(k("203.0.113.7"), Some(IndicatorKind::Ip));
        assert_eq!(k("203.0.113.0/24"), Some(IndicatorKind::Cidr));
        assert_eq!(k("2001:db8::/32"), Some(IndicatorKind::Cidr));
        assert_eq!(k("evil[.]example.com"), Some(IndicatorKind::Domain));
        assert_eq!(k("hxxp://bad.example.net/x.exe"), Some(IndicatorKind::Domain));
        assert_eq!(k("e7d705a3286e19ea42f587b344ee6865"), Some(IndicatorKind::Md5));
        assert_eq!(
            k("2d:d1:9f:80:99:86:fc:ac:5f:2a:2a:fd:a3:f3:7e:96:7c:dd:24:37"),
            Some(IndicatorKind::Sha1)
        );
        let sha256 = "a".repeat(64);
        assert_eq!(k(&sha256), Some(IndicatorKind::Sha256));
        assert_eq!(k("t13d1516h2_8daaf6152771_02713d6af862"), Some(IndicatorKind::Ja4));
        assert_eq!(k("not an indicator"), None);
        assert_eq!(k("localhost"), None);
        assert_eq!(classify("Evil.Example.COM.").unwrap().0, "evil.example.com");
    }

    #[test]
    fn plain_and_csv_lists() {
        let mut s = IntelSet::new();
        let r = s.load("a.txt", "# comment\n203.0.113.7 # C2\nevil.example.com\n\n??\n");
        assert_eq!(r.loaded, 2);
        assert_eq!(r.unsupported, 1);
        assert_eq!(r.samples[0].0, 5);
        let r = s.load(
            "b.csv",
            "type,indicator,description\nip,198.51.100.0/24,\"ORB relay, residential\"\ndomain,c2.example.org,Beacon C2\n",
        );
        assert_eq!(r.loaded, 2, "{r:?}");
        let r = s.load("c.csv", "e7d705a3286e19ea42f587b344ee6865,Cobalt Strike JA3\n");
        assert_eq!(r.loaded, 1);
        let i = s.ip("198.51.100.9".parse().unwrap()).unwrap();
        assert_eq!(i.description.as_deref(), Some("ORB relay, residential"));
        assert_eq!(i.source, "b.csv");
        assert!(s.ip("203.0.113.7".parse().unwrap()).is_some());
        assert!(s.ip("203.0.113.8".parse().unwrap()).is_none());
        assert!(s.domain("x.y.C2.example.org.").is_some());
        assert!(s.domain("example.org").is_none());
        assert!(s.domain("notc2.example.org").is_none());
        assert_eq!(
            s.digest("E7D705A3286E19EA42F587B344EE6865").unwrap().description.as_deref(),
            Some("Cobalt Strike JA3")
        );
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn top_level_domain_indicators_match_children() {
        let mut s = IntelSet::new();
        s.add(Indicator {
            value: "zip".into(),
            kind: IndicatorKind::Domain,
            description: None,
            source: "t".into(),
        });
        assert!(s.domain("update.zip").is_some());
    }
}
