//! `dwell simulate --format pcap|both`: the capture is one tshark reads without a
//! complaint, says what the simulated Zeek logs say (tshark as the oracle), is the same
//! bytes for the same seed, and dwell finds the same intruders in it as in the logs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory, removed when dropped — on every way out of a test, an early
/// return without tshark or a failed assertion too (a day's capture is 120 MB).
struct Tmp(PathBuf);

impl Drop for Tmp {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

impl std::ops::Deref for Tmp {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

fn tmp(name: &str) -> Tmp {
    let d = std::env::temp_dir().join(format!("dwell-simpcap-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    Tmp(d)
}

fn dwell(args: &[&str], out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_dwell")).args(args).arg(out).output().unwrap();
    assert!(o.status.success(), "dwell {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// A column of a Zeek TSV log, one value per record.
fn column(log: &Path, field: &str) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut at = None;
    let mut v = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            at = f.split('\t').position(|x| x == field);
        } else if !line.starts_with('#') {
            v.push(line.split('\t').nth(at.unwrap()).unwrap().to_string());
        }
    }
    v
}

fn counts<I: IntoIterator<Item = String>>(it: I) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for x in it {
        *m.entry(x).or_default() += 1;
    }
    m
}

#[test]
fn capture_reads_clean_in_tshark_and_says_what_the_logs_say() {
    let dir = tmp("day");
    let base = ["simulate", "--seed", "2", "--hosts", "16", "--days", "1"];
    dwell(&[&base[..], &["--format", "both", "--out"]].concat(), &dir);
    let pcap = dir.join("capture.pcap");
    // The same seed writes the same capture, and writing it changes no log.
    let again = tmp("again");
    dwell(&[&base[..], &["--format", "pcap", "--out"]].concat(), &again);
    assert!(std::fs::read(&pcap).unwrap() == std::fs::read(again.join("capture.pcap")).unwrap());
    assert!(!again.join("conn.log").exists(), "--format pcap writes no logs");
    let logs = tmp("logs");
    dwell(&[&base[..], &["--format", "zeek", "--out"]].concat(), &logs);
    assert!(!logs.join("capture.pcap").exists());
    for log in ["conn.log", "dns.log", "ssl.log", "http.log", "smb_files.log", "dce_rpc.log"] {
        assert!(
            std::fs::read(dir.join(log)).unwrap() == std::fs::read(logs.join(log)).unwrap(),
            "{log} differs between --format zeek and --format both"
        );
    }

    let Some(tshark) = dwell_testkit::tshark() else { return };
    // NRPE's TLS on 5666 is on no port tshark knows: tell it, as an analyst would.
    let decode_as = ["-d", "tcp.port==5666,tls"];
    let bad = dwell_testkit::tshark_lines(
        &tshark,
        &pcap,
        &[&decode_as[..], &["-Y", "_ws.malformed || _ws.expert.severity >= error"]].concat(),
        &["frame.number", "_ws.col.Protocol", "_ws.expert.message", "_ws.col.Info"],
    );
    assert!(
        bad.is_empty(),
        "{} packets tshark finds malformed: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );

    // One pass for the rest: DNS queries, client hellos, HTTP requests, TCP openings.
    let filter = "dns.flags.response == 0 || tls.handshake.type == 1 || http.request \
                  || (tcp.flags.syn == 1 && tcp.flags.ack == 0)";
    let rows = dwell_testkit::tshark_lines(
        &tshark,
        &pcap,
        &[&decode_as[..], &["-Y", filter]].concat(),
        &[
            "dns.qry.name",
            "tls.handshake.extensions_server_name",
            "http.host",
            "http.request.uri",
            "tcp.stream",
            "tcp.flags.syn",
            "tcp.flags.ack",
        ],
    );
    let (mut queries, mut sni, mut http) = (Vec::new(), Vec::new(), Vec::new());
    let mut streams = BTreeSet::new();
    for r in &rows {
        let f: Vec<&str> = r.split('\t').chain(std::iter::repeat("")).take(7).collect();
        if !f[0].is_empty() {
            queries.push(f[0].to_string());
        }
        if !f[1].is_empty() {
            sni.push(f[1].to_string());
        }
        if !f[2].is_empty() {
            http.push(format!("{}\t{}", f[2], f[3]));
        }
        if matches!(f[5], "1" | "True") && matches!(f[6], "0" | "False") {
            streams.insert(f[4].to_string());
        }
    }
    assert!(queries.len() > 1000, "{} DNS queries", queries.len());
    assert_eq!(counts(queries), counts(column(&dir.join("dns.log"), "query")));
    let logged = column(&dir.join("ssl.log"), "server_name").into_iter().filter(|s| s != "-");
    assert_eq!(counts(sni), counts(logged));
    let host = column(&dir.join("http.log"), "host");
    let uri = column(&dir.join("http.log"), "uri");
    let logged = host.into_iter().zip(uri).map(|(h, u)| format!("{h}\t{u}"));
    assert_eq!(counts(http), counts(logged));
    // Every TCP connection of the logs is a TCP conversation of the capture.
    let tcp = column(&dir.join("conn.log"), "proto").iter().filter(|p| *p == "tcp").count();
    assert_eq!(streams.len(), tcp);
}

/// Hosts with a finding at the alert score (≥ 50) in a results directory.
fn alerted_hosts(results: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(results.join("findings.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|f| f["score"].as_f64().unwrap() >= 50.0)
        .map(|f| f["entity"]["ip"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_same_intruders_are_found_in_the_capture_and_in_the_logs() {
    let dir = tmp("three");
    dwell(
        &["simulate", "--seed", "4", "--hosts", "16", "--days", "3", "--format", "both", "--out"],
        &dir,
    );
    let (from_pcap, from_logs) = (tmp("res-pcap"), tmp("res-logs"));
    let o = Command::new(env!("CARGO_BIN_EXE_dwell"))
        .args(["analyze", "-q"])
        .arg(dir.join("capture.pcap"))
        .arg("--out")
        .arg(&*from_pcap)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let logs: Vec<PathBuf> = std::fs::read_dir(&*dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    let o = Command::new(env!("CARGO_BIN_EXE_dwell"))
        .args(["analyze", "-q"])
        .args(&logs)
        .arg("--out")
        .arg(&*from_logs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (p, l) = (alerted_hosts(&from_pcap), alerted_hosts(&from_logs));
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    let malicious: BTreeSet<String> = truth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["hosts"].as_array().unwrap().iter())
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert!(!l.is_empty() && l.is_subset(&malicious), "logs: {l:?} vs truth {malicious:?}");
    assert_eq!(p, l, "hosts alerted from the capture and from the logs");
}
