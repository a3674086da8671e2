//! Sets of networks with fast membership, for the org profile (a handful of CIDRs)
//! and for threat intelligence (up to millions of them).
//!
//! Each prefix length present gets its own bucket of masked network addresses, longest
//! first, so a lookup costs one probe per distinct prefix length (at most 33 for IPv4,
//! 129 for IPv6, in practice a few), whatever the number of networks. A bucket of a few
//! networks (the org profile's case, consulted several times per event) is a short list
//! compared in registers; a larger one is a hash set.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

use foldhash::fast::RandomState;
use ipnet::IpNet;

/// Networks of one prefix length.
#[derive(Clone, Debug)]
enum Bucket<K, V> {
    Few(Vec<(K, V)>),
    Many(HashMap<K, V, RandomState>),
}

/// Beyond this many networks a bucket becomes a hash set.
const FEW: usize = 8;

impl<K: Hash + Eq + Copy, V> Bucket<K, V> {
    fn get(&self, k: K) -> Option<&V> {
        match self {
            Bucket::Few(v) => v.iter().find(|(x, _)| *x == k).map(|(_, v)| v),
            Bucket::Many(m) => m.get(&k),
        }
    }

    /// Inserts unless present; whether it was added.
    fn insert(&mut self, k: K, value: V) -> bool {
        if self.get(k).is_some() {
            return false;
        }
        match self {
            Bucket::Few(v) if v.len() < FEW => v.push((k, value)),
            Bucket::Few(v) => {
                let mut m: HashMap<K, V, RandomState> = v.drain(..).collect();
                m.insert(k, value);
                *self = Bucket::Many(m);
            }
            Bucket::Many(m) => {
                m.insert(k, value);
            }
        }
        true
    }
}

/// A set of IPv4 and IPv6 networks.
#[derive(Clone, Debug)]
pub struct NetSet<V = ()> {
    /// (prefix length, networks), longest prefix first.
    v4: Vec<(u8, Bucket<u32, V>)>,
    v6: Vec<(u8, Bucket<u128, V>)>,
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

/// The bucket for prefix length `len`, created in its place (longest first) if missing.
fn bucket<K, V>(v: &mut Vec<(u8, Bucket<K, V>)>, len: u8) -> &mut Bucket<K, V> {
    let pos = match v.iter().position(|(l, _)| *l <= len) {
        Some(p) if v[p].0 == len => p,
        Some(p) => {
            v.insert(p, (len, Bucket::Few(Vec::new())));
            p
        }
        None => {
            v.push((len, Bucket::Few(Vec::new())));
            v.len() - 1
        }
    };
    &mut v[pos].1
}

impl<V> Default for NetSet<V> {
    fn default() -> Self {
        NetSet::new()
    }
}

impl<V> NetSet<V> {
    /// An empty set.
    pub fn new() -> Self {
        NetSet { v4: Vec::new(), v6: Vec::new(), len: 0 }
    }

    /// Adds a network with a value; an existing equal network keeps its first value.
    pub fn insert(&mut self, net: IpNet, value: V) {
        let len = net.prefix_len();
        let added = match net {
            IpNet::V4(n) => {
                bucket(&mut self.v4, len).insert(mask4(u32::from(n.network()), len), value)
            }
            IpNet::V6(n) => {
                bucket(&mut self.v6, len).insert(mask6(u128::from(n.network()), len), value)
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
                self.v4.iter().find_map(|(l, b)| b.get(mask4(a, *l)))
            }
            IpAddr::V6(a) => {
                // IPv4-mapped IPv6 addresses match IPv4 networks too.
                if let Some(v4) = a.to_ipv4_mapped() {
                    if let Some(v) = self.get(IpAddr::V4(v4)) {
                        return Some(v);
                    }
                }
                let a = u128::from(a);
                self.v6.iter().find_map(|(l, b)| b.get(mask6(a, *l)))
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
    fn many_networks_of_one_length() {
        let mut s = NetSet::new();
        for i in 0..1000u32 {
            s.insert(format!("10.{}.{}.0/24", i / 256, i % 256).parse().unwrap(), i);
            s.insert(format!("10.{}.{}.0/24", i / 256, i % 256).parse().unwrap(), 0);
        }
        s.insert("10.0.0.0/8".parse().unwrap(), 5000);
        assert_eq!(s.len(), 1001);
        assert_eq!(s.get("10.3.231.9".parse().unwrap()), Some(&999));
        assert_eq!(s.get("10.0.7.1".parse().unwrap()), Some(&7), "first value kept");
        assert_eq!(s.get("10.200.0.1".parse().unwrap()), Some(&5000));
        assert_eq!(s.get("11.0.0.1".parse().unwrap()), None);
    }

    #[test]
    fn host_routes() {
        let mut s = NetSet::new();
        s.insert("192.0.2.7/32".parse().unwrap(), ());
        assert!(s.contains("192.0.2.7".parse().unwrap()));
        assert!(!s.contains("192.0.2.8".parse().unwrap()));
    }
}
