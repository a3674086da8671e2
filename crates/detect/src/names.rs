//! Domain names: the registered domain of a name, and the information in its labels.
//!
//! **Registered domain.** The label under the public suffix: `a.b.example.co.uk` →
//! `example.co.uk`. dwell carries its own list of the multi-label public suffixes that
//! matter in practice (`co.uk`, `com.au`, `co.nz`, `co.jp`, ...) rather than the whole
//! Public Suffix List, and deliberately does **not** treat the list's *private* suffixes
//! (`blogspot.com`, `duckdns.org`, `cloudfront.net`) as suffixes: every customer of such a
//! service then shares one registered domain, which makes the service look common —
//! the right call for prevalence (a CDN shared by the whole organisation is common) and
//! harmless for the per-host detectors (tunnels and beacons are judged per host).

/// Second-level labels that form public suffixes under a country code
/// (`co.uk`, `com.au`, `ne.jp`, ...).
const SECOND_LEVEL: &[&str] = &[
    "ac", "co", "com", "edu", "gov", "net", "org", "ne", "or", "go", "gv", "mil", "nic", "gob",
    "gouv", "ltd", "plc", "sch", "nhs", "police", "biz", "info", "id", "web", "gen", "firm",
];

/// The registered domain of `name` (lowercase, no trailing dot); the name itself when it
/// has fewer than two labels. IP literals are returned unchanged.
pub fn registered_domain(name: &str) -> String {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if n.parse::<std::net::IpAddr>().is_ok() {
        return n;
    }
    let labels: Vec<&str> = n.split('.').filter(|l| !l.is_empty()).collect();
    let k = labels.len();
    if k <= 2 {
        return labels.join(".");
    }
    let (sld, tld) = (labels[k - 2], labels[k - 1]);
    let take = if tld.len() == 2 && SECOND_LEVEL.contains(&sld) { 3 } else { 2 };
    labels[k - take..].join(".")
}

/// The part of `name` left of its registered domain (`""` when there is none).
pub fn subdomain<'a>(name: &'a str, registered: &str) -> &'a str {
    let n = name.trim_end_matches('.');
    if n.len() > registered.len() + 1 {
        let cut = n.len() - registered.len() - 1;
        n.get(..cut).unwrap_or("")
    } else {
        ""
    }
}

/// Shannon entropy of the characters of `s`, bits per character.
pub fn entropy(s: &str) -> f64 {
    let b = s.as_bytes();
    if b.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for c in b {
        counts[usize::from(c.to_ascii_lowercase())] += 1;
    }
    let n = b.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_domains() {
        assert_eq!(registered_domain("a.b.example.com"), "example.com");
        assert_eq!(registered_domain("Example.COM."), "example.com");
        assert_eq!(registered_domain("gfs270n122.userstorage.mega.co.nz"), "mega.co.nz");
        assert_eq!(registered_domain("www.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(registered_domain("relay-4a1f9c.net.anydesk.com"), "anydesk.com");
        assert_eq!(registered_domain("x.co"), "x.co");
        assert_eq!(registered_domain("localhost"), "localhost");
        assert_eq!(registered_domain("10.0.0.1"), "10.0.0.1");
        // Private suffixes are not suffixes here: customers share the provider's domain.
        assert_eq!(registered_domain("foo.duckdns.org"), "duckdns.org");
        assert_eq!(subdomain("a.b.example.com", "example.com"), "a.b");
        assert_eq!(subdomain("example.com", "example.com"), "");
    }

    #[test]
    fn entropies() {
        assert_eq!(entropy(""), 0.0);
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
        assert!(entropy("3f9a0c1be27d4f58") > 3.5);
        assert!(entropy("mail") < 2.1);
    }
}
