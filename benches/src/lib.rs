//! Inputs and floors for dwell's benchmarks.
//!
//! The floor of every decode benchmark is the least any text decoder must do: find each
//! line and each field separator in it ([`floor_split`], memchr-based). A decoder's
//! figure is reported next to the floor's over the same bytes in the same run.
//!
//! [`synthetic`] writes deterministic Zeek TSV, Zeek JSON and EVE text in memory, so the
//! benches run anywhere; for the published figures, point `DWELL_BENCH_CORPUS` at the
//! output of `../shared/bench/gen_corpus.py logs` and use the `floor` binary and
//! `dwell decode --stats` on the same files.

/// Splits every line into its fields, as any text decoder must before it can read a
/// field: one memchr pass for newlines, then the separator positions of each line are
/// found with memchr and each field's slice is stored in a fixed array (the columns a
/// decoder would index). Returns (lines, total field bytes) so nothing is optimised away.
pub fn floor_split(bytes: &[u8], sep: u8) -> (u64, u64) {
    let (mut lines, mut sum) = (0u64, 0u64);
    let mut fields: [&[u8]; 64] = [&[]; 64];
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', bytes) {
        let line = &bytes[start..end];
        start = end + 1;
        if line.first() == Some(&b'#') {
            continue;
        }
        lines += 1;
        let mut n = 0;
        let mut from = 0;
        for cut in memchr::memchr_iter(sep, line).chain(std::iter::once(line.len())) {
            if n < fields.len() {
                fields[n] = &line[from..cut];
                n += 1;
            }
            from = cut + 1;
        }
        for f in &fields[..n] {
            sum += f.len() as u64;
        }
        std::hint::black_box(&fields);
    }
    (lines, sum)
}

/// Deterministic synthetic inputs (a small LCG; no external data).
pub mod synthetic {
    use std::fmt::Write;

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    const SERVICES: &[&str] = &["ssl", "dns", "http", "-", "ssl", "ssl"];
    const STATES: &[&str] = &["SF", "SF", "S0", "REJ", "RSTO", "SF", "OTH"];

    /// A Zeek conn.log (TSV) of `n` records.
    pub fn conn_tsv(n: usize) -> Vec<u8> {
        let mut r = Lcg(1);
        let mut s = String::from(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
             #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n\
             #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
        );
        let mut ts = 1_700_000_000_000_000u64;
        for i in 0..n {
            ts += r.below(20_000);
            let svc = SERVICES[r.below(SERVICES.len() as u64) as usize];
            let st = STATES[r.below(STATES.len() as u64) as usize];
            let _ = writeln!(
                s,
                "{}.{:06}\tC{:016x}\t10.{}.{}.{}\t{}\t{}.{}.{}.{}\t{}\ttcp\t{svc}\t{}.{:06}\t{}\t{}\t{st}\tT\tF\t0\tShADadFf\t{}\t{}\t{}\t{}\t-",
                ts / 1_000_000,
                ts % 1_000_000,
                i as u64 * 2654435761,
                r.below(4),
                r.below(256),
                r.below(254) + 1,
                1024 + r.below(60000),
                r.below(200) + 20,
                r.below(256),
                r.below(256),
                r.below(254) + 1,
                [443, 80, 53, 22, 8443][r.below(5) as usize],
                r.below(30),
                r.below(1_000_000),
                r.below(5000),
                r.below(500_000),
                r.below(40),
                r.below(60_000),
                r.below(400),
                r.below(600_000),
            );
        }
        s.into_bytes()
    }

    /// The same records as Zeek JSON (`id.orig_h` style keys, epoch `ts`).
    pub fn conn_json(n: usize) -> Vec<u8> {
        let tsv = String::from_utf8(conn_tsv(n)).unwrap_or_default();
        let mut fields: Vec<&str> = Vec::new();
        let mut s = String::new();
        for line in tsv.lines() {
            if let Some(f) = line.strip_prefix("#fields\t") {
                fields = f.split('\t').collect();
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            s.push('{');
            let mut first = true;
            for (k, v) in fields.iter().zip(line.split('\t')) {
                if v == "-" {
                    continue;
                }
                if !first {
                    s.push(',');
                }
                first = false;
                let numeric = v.bytes().all(|b| b.is_ascii_digit() || b == b'.');
                let is_bool = v == "T" || v == "F";
                if is_bool {
                    let _ = write!(s, "\"{k}\":{}", v == "T");
                } else if numeric && !k.ends_with("_h") && *k != "uid" {
                    let _ = write!(s, "\"{k}\":{v}");
                } else {
                    let _ = write!(s, "\"{k}\":\"{v}\"");
                }
            }
            s.push_str("}\n");
        }
        s.into_bytes()
    }

    /// An EVE file of `n` records: flows, DNS, TLS and HTTP in Suricata's layout.
    pub fn eve(n: usize) -> Vec<u8> {
        let mut r = Lcg(7);
        let mut s = String::new();
        let mut us = 0u64;
        for i in 0..n {
            us += r.below(20_000);
            let t = format!(
                "2024-05-01T{:02}:{:02}:{:02}.{:06}+0000",
                us / 3_600_000_000 % 24,
                us / 60_000_000 % 60,
                us / 1_000_000 % 60,
                us % 1_000_000
            );
            let src = format!("10.0.{}.{}", r.below(256), r.below(254) + 1);
            let dst = format!(
                "{}.{}.{}.{}",
                r.below(200) + 20,
                r.below(256),
                r.below(256),
                r.below(254) + 1
            );
            let common = format!("\"timestamp\":\"{t}\",\"flow_id\":{},\"src_ip\":\"{src}\",\"src_port\":{},\"dest_ip\":\"{dst}\"", 1_000_000 + i, 1024 + r.below(60000));
            let line = match r.below(4) {
                0 => format!("{{{common},\"dest_port\":443,\"proto\":\"TCP\",\"event_type\":\"flow\",\"app_proto\":\"tls\",\"flow\":{{\"pkts_toserver\":{},\"pkts_toclient\":{},\"bytes_toserver\":{},\"bytes_toclient\":{},\"start\":\"{t}\",\"end\":\"{t}\",\"age\":0,\"state\":\"closed\",\"reason\":\"timeout\",\"alerted\":false}}}}", r.below(40), r.below(40), r.below(60000), r.below(600000)),
                1 => format!("{{{common},\"dest_port\":53,\"proto\":\"UDP\",\"event_type\":\"dns\",\"dns\":{{\"version\":2,\"type\":\"answer\",\"id\":{},\"flags\":\"8180\",\"qr\":true,\"rd\":true,\"ra\":true,\"rrname\":\"h{}.example.com\",\"rrtype\":\"A\",\"rcode\":\"NOERROR\",\"answers\":[{{\"rrname\":\"h.example.com\",\"rrtype\":\"A\",\"ttl\":300,\"rdata\":\"{dst}\"}}]}}}}", r.below(65535), r.below(5000)),
                2 => format!("{{{common},\"dest_port\":443,\"proto\":\"TCP\",\"event_type\":\"tls\",\"tls\":{{\"subject\":\"CN=h{}.example.com\",\"issuerdn\":\"CN=Example CA\",\"serial\":\"0A:1B\",\"fingerprint\":\"2d:d1:9f:80:99:86:fc:ac:5f:2a:2a:fd:a3:f3:7e:96:7c:dd:24:37\",\"sni\":\"h{}.example.com\",\"version\":\"TLS 1.2\",\"notbefore\":\"2024-01-01T00:00:00\",\"notafter\":\"2025-01-01T00:00:00\",\"ja3\":{{\"hash\":\"b7202231ff2db28363c109cedc6d1642\",\"string\":\"771,4865-4866,0-23,29-23,0\"}},\"ja3s\":{{\"hash\":\"ad90cab724fafab2660fbf61673c91a9\",\"string\":\"771,4865,43\"}}}}}}", r.below(5000), r.below(5000)),
                _ => format!("{{{common},\"dest_port\":80,\"proto\":\"TCP\",\"event_type\":\"http\",\"tx_id\":0,\"http\":{{\"hostname\":\"h{}.example.com\",\"url\":\"/p/{}\",\"http_user_agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\",\"http_content_type\":\"text/html\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":{}}}}}", r.below(5000), r.below(100000), r.below(100000)),
            };
            s.push_str(&line);
            s.push('\n');
        }
        s.into_bytes()
    }
}

/// CPU seconds (user + system) this process has used so far, from `/proc/self/stat`.
pub fn cpu_seconds() -> f64 {
    let (user, sys) = cpu_split();
    user + sys
}

/// CPU seconds this process has used so far in user and in system (kernel) mode, from
/// `/proc/self/stat` (clock ticks of 10 ms).
pub fn cpu_split() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) / 100.0, t(12) / 100.0)
}
