//! Sets of networks with fast membership, for the org profile (a handful of CIDRs)
//! and for threat intelligence (up to millions of them).
//!
//! Each prefix length present gets its own hash set of masked network addresses, so a
//! lookup costs one hash probe per distinct prefix length (at most 33 for IPv4, 129 for
//! IPv6, in practice a few), whatever the number of networks.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

/// A set of IPv4 and IPv6 networks.
#[derive(Clone, Debug)]
pub struct NetSet<V = ()> {
    v4: HashMap<u8, HashMap<u32, V>>,
    v6: HashMap<u8, HashMap<u128, V>>,
    lens4: BTreeSet<u8>,
    lens6: BTreeSet<u8>,
    len: usize,
}

fn mask4(a: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        a & (u32::MAX << (32 - u32::from(len)))
    }
}

fn mask6(a: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        a & (u128::MAX << (128 - u32::from(len)))
    }
}

impl<V> Default for NetSet<V> {
    fn default() -> Self {
        NetSet::new()
    }
}

impl<V> NetSet<V> {
    /// An empty set.
    pub fn new() -> Self {
        NetSet {
            v4: HashMap::new(),
            v6: HashMap::new(),
            lens4: BTreeSet::new(),
            lens6: BTreeSet::new(),
            len: 0,
        }
    }

    /// Adds a network with a value; an existing equal network keeps its first value.
    pub fn insert(&mut self, net: IpNet, value: V) {
        let len = net.prefix_len();
        let added = match net {
            IpNet::V4(n) => {
                self.lens4.insert(len);
                let key = mask4(u32::from(n.network()), len);
                let m = self.v4.entry(len).or_default();
                !m.contains_key(&key) && m.insert(key, value).is_none()
            }
            IpNet::V6(n) => {
                self.lens6.insert(len);
                let key = mask6(u128::from(n.network()), len);
                let m = self.v6.entry(len).or_default();
                !m.contains_key(&key) && m.insert(key, value).is_none()
            }
        };
        if added {
            self.len += 1;
        }
    }

    /// The value of the most specific network containing `ip`.
    pub fn get(&self, ip: IpAddr) -> Option<&V> {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.lens4.iter().rev().find_map(|l| self.v4.get(l)?.get(&mask4(a, *l)))
            }
            IpAddr::V6(a) => {
                // IPv4-mapped IPv6 addresses match IPv4 networks too.
                if let Some(v4) = a.to_ipv4_mapped() {
                    if let Some(v) = self.get(IpAddr::V4(v4)) {
                        return Some(v);
                    }
                }
                let a = u128::from(a);
                self.lens6.iter().rev().find_map(|l| self.v6.get(l)?.get(&mask6(a, *l)))
            }
        }
    }

    /// Whether any network contains `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.get(ip).is_some()
    }

    /// Number of networks.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl NetSet<()> {
    /// A set of the given networks.
    pub fn from_nets<'a>(nets: impl IntoIterator<Item = &'a IpNet>) -> Self {
        let mut s = NetSet::new();
        for n in nets {
            s.insert(*n, ());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_v6_works() {
        let mut s = NetSet::new();
        s.insert("10.0.0.0/8".parse().unwrap(), "wide");
        s.insert("10.1.0.0/16".parse().unwrap(), "narrow");
        s.insert("2001:db8::/32".parse().unwrap(), "v6");
        s.insert("0.0.0.0/0".parse().unwrap(), "all");
        assert_eq!(s.get("10.1.2.3".parse().unwrap()), Some(&"narrow"));
        assert_eq!(s.get("10.2.2.3".parse().unwrap()), Some(&"wide"));
        assert_eq!(s.get("8.8.8.8".parse().unwrap()), Some(&"all"));
        assert_eq!(s.get("2001:db8::1".parse().unwrap()), Some(&"v6"));
        assert_eq!(s.get("2001:db9::1".parse().unwrap()), None);
        assert_eq!(s.get("::ffff:10.1.0.1".parse().unwrap()), Some(&"narrow"));
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn host_routes() {
        let mut s = NetSet::new();
        s.insert("192.0.2.7/32".parse().unwrap(), ());
        assert!(s.contains("192.0.2.7".parse().unwrap()));
        assert!(!s.contains("192.0.2.8".parse().unwrap()));
    }
}
