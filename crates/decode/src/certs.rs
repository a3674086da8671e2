//! Certificates from `x509.log`, for joining to `ssl.log`.
//!
//! Zeek logs a certificate once in `x509.log` (newer versions only once a day per
//! fingerprint) and refers to it from `ssl.log` by fingerprint (`cert_chain_fps`) or,
//! in older versions, by file id (`cert_chain_fuids`). The join is therefore a lookup
//! table, not a time window: the engine reads every x509 log of a run into a
//! [`CertStore`] first, and the `ssl` builder attaches the leaf certificate.

use std::collections::HashMap;
use std::sync::Arc;

use dwell_model::{Certificate, Text};

/// Most certificates kept; beyond this, new ones are counted as dropped. Real networks
/// see tens of thousands of distinct certificates a day; this leaves ample room.
pub const MAX_CERTS: usize = 1_000_000;

/// Certificates by fingerprint and by Zeek file id.
#[derive(Debug, Default)]
pub struct CertStore {
    by_key: HashMap<Text, Arc<Certificate>>,
    /// Certificates not kept because the store was full.
    pub dropped: u64,
}

impl CertStore {
    /// An empty store.
    pub fn new() -> Self {
        CertStore::default()
    }

    /// Adds a certificate under each key it has.
    pub fn insert(&mut self, cert: Arc<Certificate>) {
        let keys = [&cert.fingerprint_sha256, &cert.fingerprint_sha1, &cert.id];
        for k in keys.into_iter().flatten() {
            if self.by_key.len() >= MAX_CERTS && !self.by_key.contains_key(k) {
                self.dropped += 1;
                continue;
            }
            self.by_key.insert(k.clone(), cert.clone());
        }
    }

    /// Looks a certificate up by fingerprint (any case, with or without colons) or file id.
    pub fn get(&self, key: &str) -> Option<Arc<Certificate>> {
        if let Some(c) = self.by_key.get(key) {
            return Some(c.clone());
        }
        let norm = crate::zeek::logs::normalise_hex(key);
        self.by_key.get(&norm).cloned()
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}
