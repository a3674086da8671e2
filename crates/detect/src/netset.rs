//! Sets of networks with fast membership, for the org profile (a handful of CIDRs)
//! and for threat intelligence (up to millions of them).
//!
//! Each prefix length present gets its own bucket of masked network addresses, longest
//! first, so a lookup costs one probe per distinct prefix length (at most 33 for IPv4,
//! 129 for IPv6, in practice a few), whatever the number of networks. A bucket of a few
//! networks is a short list; a larger one is a hash set.
//!
//! A set of a few networks — the org profile's internal ranges, resolvers, edge hosts,
//! consulted dozens of times per event by the detectors — is also kept as one flat list
//! of (mask, network) pairs, most specific first: a lookup is then a handful of
//! and-compare steps over one cache line instead of a walk through the buckets.

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

/// Up to this many networks of one family, lookups go through the flat list.
const FLAT: usize = 16;

/// A set of IPv4 and IPv6 networks.
#[derive(Clone, Debug)]
pub struct NetSet<V = ()> {
    /// (prefix length, networks), longest prefix first.
    v4: Vec<(u8, Bucket<u32, V>)>,
    v6: Vec<(u8, Bucket<u128, V>)>,
    /// While a family has at most [`FLAT`] networks: (mask, network, value), longest
    /// prefix first (equal lengths never overlap, so the first match is the answer).
    flat4: Option<Vec<(u32, u32, V)>>,
    flat6: Option<Vec<(u128, u128, V)>>,
    /// For each value of an address's first byte, the flat-list entries that can
    /// contain it (bit i = entry i): most addresses are then ruled out in one load.
    first4: Box<[u16; 256]>,
    first6: Box<[u16; 256]>,
    len: usize,
}

/// The entries of a flat list each first byte can fall into. `top` is the first byte
/// of a mask or network (the top 8 bits of the integer).
fn first_byte_index<K: Copy>(flat: &[(K, K, impl Sized)], top: impl Fn(K) -> u8) -> [u16; 256] {
    let mut idx = [0u16; 256];
    for (i, (m, n, _)) in flat.iter().enumerate() {
        let (m, n) = (top(*m), top(*n));
        for (b, slot) in idx.iter_mut().enumerate() {
            if (b as u8 ^ n) & m == 0 {
                *slot |= 1 << i;
            }
        }
    }
    idx
}

/// The first entry among `cands` (a bit set over `flat`) that `hit` accepts.
#[inline]
fn flat_get<K: Copy, V>(
    flat: &[(K, K, V)],
    mut cands: u16,
    hit: impl Fn(K, K) -> bool,
) -> Option<&V> {
    while cands != 0 {
        let i = cands.trailing_zeros() as usize;
        if let Some((m, n, v)) = flat.get(i) {
            if hit(*m, *n) {
                return Some(v);
            }
        }
        cands &= cands - 1;
    }
    None
}

/// Adds (mask, net, value) to a flat list in most-specific-first order, or gives the
/// list up once it would grow past [`FLAT`].
fn flat_insert<K: Copy + Eq + std::ops::Not<Output = K>, V>(
    flat: &mut Option<Vec<(K, K, V)>>,
    mask: K,
    net: K,
    len: u8,
    value: V,
    len_of: impl Fn(K) -> u32,
) {
    let Some(list) = flat else { return };
    if list.len() >= FLAT {
        *flat = None;
        return;
    }
    let at = list.iter().position(|(m, _, _)| len_of(*m) < u32::from(len)).unwrap_or(list.len());
    list.insert(at, (mask, net, value));
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
        NetSet {
            v4: Vec::new(),
            v6: Vec::new(),
            flat4: Some(Vec::new()),
            flat6: Some(Vec::new()),
            first4: Box::new([0; 256]),
            first6: Box::new([0; 256]),
            len: 0,
        }
    }
}

impl<V: Clone> NetSet<V> {
    /// Adds a network with a value; an existing equal network keeps its first value.
    pub fn insert(&mut self, net: IpNet, value: V) {
        let len = net.prefix_len();
        let added = match net {
            IpNet::V4(n) => {
                let a = mask4(u32::from(n.network()), len);
                let added = bucket(&mut self.v4, len).insert(a, value.clone());
                if added {
                    let m = mask4(u32::MAX, len);
                    flat_insert(&mut self.flat4, m, a, len, value, u32::count_ones);
                    if let Some(f) = &self.flat4 {
                        *self.first4 = first_byte_index(f, |k| (k >> 24) as u8);
                    }
                }
                added
            }
            IpNet::V6(n) => {
                let a = mask6(u128::from(n.network()), len);
                let added = bucket(&mut self.v6, len).insert(a, value.clone());
                if added {
                    let m = mask6(u128::MAX, len);
                    flat_insert(&mut self.flat6, m, a, len, value, u128::count_ones);
                    if let Some(f) = &self.flat6 {
                        *self.first6 = first_byte_index(f, |k| (k >> 120) as u8);
                    }
                }
                added
            }
        };
        if added {
            self.len += 1;
        }
    }
}

impl<V> NetSet<V> {
    /// The value of the most specific network containing `ip`.
    pub fn get(&self, ip: IpAddr) -> Option<&V> {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                if let Some(flat) = &self.flat4 {
                    return flat_get(flat, self.first4[(a >> 24) as usize], |m, n| a & m == n);
                }
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
                if let Some(flat) = &self.flat6 {
                    return flat_get(flat, self.first6[(a >> 120) as usize], |m, n| a & m == n);
                }
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

    /// The flat list (few networks) and the buckets (many) answer alike: the same
    /// networks, inserted in a scrambled order, looked up in a set small enough to stay
    /// flat and in one that has been pushed past the flat limit by far-away networks.
    #[test]
    fn flat_list_agrees_with_buckets() {
        let nets: Vec<(IpNet, u32)> = [
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.1.2.0/24",
            "10.1.2.3/32",
            "0.0.0.0/0",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "fd00::/8",
            "fd00:1::/32",
            "::/0",
        ]
        .iter()
        .enumerate()
        .map(|(i, n)| (n.parse().unwrap(), i as u32))
        .collect();
        let mut small = NetSet::new();
        let mut big = NetSet::new();
        for k in 0..nets.len() {
            let (n, v) = nets[(k * 7) % nets.len()];
            small.insert(n, v);
            big.insert(n, v);
        }
        let mut all = nets.clone();
        for i in 0..40u32 {
            all.push((format!("203.0.{i}.0/24").parse().unwrap(), 1000 + i));
            all.push((format!("2001:db8:{i:x}::/48").parse().unwrap(), 2000 + i));
        }
        for (n, v) in &all[nets.len()..] {
            big.insert(*n, *v);
        }
        assert!(small.flat4.is_some() && small.flat6.is_some());
        assert!(big.flat4.is_none() && big.flat6.is_none());
        // Longest-prefix match by brute force.
        let want = |set: &[(IpNet, u32)], ip: IpAddr| {
            set.iter()
                .filter(|(n, _)| n.contains(&ip))
                .max_by_key(|(n, _)| n.prefix_len())
                .map(|(_, v)| *v)
        };
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ip: IpAddr = match x % 4 {
                0 => std::net::Ipv4Addr::from(0x0a01_0200 | (x >> 40) as u32 & 0x1ff).into(),
                1 => std::net::Ipv4Addr::from((x >> 16) as u32).into(),
                2 => std::net::Ipv6Addr::from(0xfd00_0001u128 << 96 | u128::from(x)).into(),
                _ => std::net::Ipv6Addr::from(u128::from(x) << 64 | u128::from(x >> 3)).into(),
            };
            assert_eq!(small.get(ip).copied(), want(&nets, ip), "{ip}");
            assert_eq!(big.get(ip).copied(), want(&all, ip), "{ip}");
        }
    }
}
