//! Address classification that does not depend on configuration.
//!
//! Which addresses are *internal* is the org profile's call (default: RFC 1918,
//! RFC 6598, IPv6 ULA and link-local); the defaults live here so that every crate
//! agrees on them.

use std::net::IpAddr;

/// The default internal networks as CIDR text (org profile `internal_networks` default).
pub const DEFAULT_INTERNAL: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
];

/// Whether an address is inside [`DEFAULT_INTERNAL`].
pub fn is_default_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            o[0] == 10
                || (o[0] == 172 && (16..=31).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
                || (o[0] == 100 && (64..=127).contains(&o[1]))
                || (o[0] == 169 && o[1] == 254)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Addresses that never identify a remote party: multicast, broadcast, unspecified,
/// loopback. Flows to them are local plumbing (mDNS, SSDP, LLMNR, DHCP).
pub fn is_non_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified() || v4.is_loopback()
        }
        IpAddr::V6(v6) => v6.is_multicast() || v6.is_unspecified() || v6.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        for a in ["10.1.2.3", "172.31.0.1", "192.168.1.1", "100.64.0.1", "fd00::1", "fe80::1"] {
            assert!(is_default_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1"] {
            assert!(!is_default_internal(a.parse().unwrap()), "{a}");
        }
        assert!(is_non_unicast("239.255.255.250".parse().unwrap()));
        assert!(is_non_unicast("ff02::1:3".parse().unwrap()));
        assert!(!is_non_unicast("8.8.8.8".parse().unwrap()));
    }
}
