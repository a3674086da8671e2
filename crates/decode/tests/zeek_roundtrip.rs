//! Zeek logs out and back in: every packet capture of the shared data is decoded by the
//! flow meter, written as Zeek TSV logs (`dwell decode --zeek-out`), and those logs are
//! decoded by the Zeek decoder; the events must be the same, field for field (but for
//! what Zeek's logs do not carry: Community ID, JA4S, the source reference, and in
//! x509.log — Zeek 6's layout — the connection uid, file id and SHA-1 fingerprint).

use std::collections::BTreeMap;

use dwell_decode::zeek::out::ZeekWriter;
use dwell_decode::{normal, DecodeOptions, FileDecoder};
use dwell_model::{FileId, Kind};
use dwell_testkit::{capture_files, shared_or_skip};
use serde_json::Value;

fn norm(ev: &dwell_model::Event) -> Value {
    let mut v = normal::to_json(ev, "x");
    if let Value::Object(m) = &mut v {
        for k in ["_src", "community_id", "ja4s"] {
            m.remove(k);
        }
        if ev.kind() == Kind::X509 {
            for k in ["uid", "id", "fingerprint_sha1"] {
                m.remove(k);
            }
        }
        // Zeek 6's ssl.log names the chain by fingerprints only (no file ids); the
        // joined certificate lacks what x509.log lacks.
        if ev.kind() == Kind::Tls {
            m.remove("cert_chain_fuids");
            if let Some(Value::Object(c)) = m.get_mut("cert") {
                for k in ["id", "fingerprint_sha1"] {
                    c.remove(k);
                }
            }
        }
        // An ssl record read back from ssl.log carries no certificate of its own (the
        // x509 log does, and is compared by itself).
        m.retain(|k, _| {
            !k.starts_with("certificate")
                && !k.starts_with("san.")
                && !k.starts_with("basic_constraints")
                && k != "fingerprint"
                && k != "fingerprint_sha1"
                && k != "id"
                || ev.kind() == Kind::X509
        });
    }
    v
}

#[test]
fn capture_to_zeek_logs_and_back() {
    let data = shared_or_skip!();
    let mut checked = 0usize;
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for row in capture_files(&data).iter().take(40) {
        let opts = DecodeOptions::default();
        let first: Vec<_> = FileDecoder::open(&row.path, FileId(0), &opts).unwrap().collect();
        let wanted: Vec<_> = first
            .iter()
            .filter(|e| {
                matches!(e.kind(), Kind::Conn | Kind::Dns | Kind::Tls | Kind::X509 | Kind::Http)
            })
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let dir = std::env::temp_dir().join(format!("dwell-zrt-{}-{checked}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let mut w = ZeekWriter::create(&dir, first[0].ts().0).unwrap();
        for e in &wanted {
            assert!(w.write(e).unwrap());
        }
        let counts = w.close(first.last().unwrap().ts().0).unwrap();
        // As `dwell analyze` does: certificates from x509.log joined to ssl records.
        let mut store = dwell_decode::CertStore::new();
        if counts.iter().any(|(l, _)| *l == "x509") {
            for e in FileDecoder::open(&dir.join("x509.log"), FileId(0), &opts).unwrap() {
                if let dwell_model::Body::X509(c) = e.body {
                    store.insert(c);
                }
            }
        }
        let opts =
            DecodeOptions { certs: Some(std::sync::Arc::new(store)), ..DecodeOptions::default() };
        for (log, n) in counts {
            let back: Vec<_> = FileDecoder::open(&dir.join(format!("{log}.log")), FileId(0), &opts)
                .unwrap()
                .collect();
            let kind = Kind::parse(log).unwrap();
            let orig: Vec<Value> =
                wanted.iter().filter(|e| e.kind() == kind).map(|e| norm(e)).collect();
            let got: Vec<Value> = back.iter().map(norm).collect();
            assert_eq!(got.len() as u64, n, "{} {log}", row.rel);
            assert_eq!(orig.len(), got.len(), "{} {log}", row.rel);
            for (a, b) in orig.iter().zip(&got) {
                if a != b {
                    let (ma, mb) = (a.as_object().unwrap(), b.as_object().unwrap());
                    let diff: Vec<String> = ma
                        .iter()
                        .filter(|(k, v)| mb.get(*k) != Some(*v))
                        .map(|(k, v)| format!("{k}: {v} vs {:?}", mb.get(k)))
                        .chain(
                            mb.keys()
                                .filter(|k| !ma.contains_key(*k))
                                .map(|k| format!("{k}: only read back")),
                        )
                        .collect();
                    panic!("{} {log}: {}", row.rel, diff.join("; "));
                }
            }
            *per_kind.entry(log).or_default() += got.len();
        }
        std::fs::remove_dir_all(&dir).ok();
        checked += 1;
    }
    eprintln!("{checked} captures round-tripped: {per_kind:?}");
    assert!(checked >= 10, "{checked}");
}
