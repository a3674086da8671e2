//! Zeek TSV writers: the logs Zeek would write for the simulated sessions.
//!
//! Header lines and field names as Zeek writes them (`#separator \x09`, `#fields`,
//! `#types`, `#open`/`#close` stamped with simulated time so output is reproducible);
//! values escaped as Zeek escapes them (backslash doubled, tab and newline as `\xNN`).

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;

use dwell_decode::zeek::out::{header, stamp, CONN, DNS, HTTP, SSL, X509};

use crate::out::OutFile;
use crate::rng::mix;
use crate::session::{App, Proto, Session};
use crate::world::World;

/// One log file. Lines are built straight into its buffer (not in a line buffer copied
/// again into a `BufWriter`) and the buffer goes to the file a megabyte at a time.
struct Log {
    file: OutFile,
    buf: Vec<u8>,
    lines: u64,
}

/// Bytes a log buffers before writing them to its file.
const LOG_FLUSH: usize = 1 << 20;

const DCE: (&str, &str) = (
    "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\trtt\tnamed_pipe\tendpoint\toperation",
    "time\tstring\taddr\tport\taddr\tport\tinterval\tstring\tstring\tstring",
);
const SMB_MAP: (&str, &str) = ("ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tpath\tservice\tnative_file_system\tshare_type",
    "time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring");
const SMB_FILES: (&str, &str) = ("ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tfuid\taction\tpath\tname\tsize\tprev_name\ttimes.modified\ttimes.accessed\ttimes.created\ttimes.changed",
    "time\tstring\taddr\tport\taddr\tport\tstring\tenum\tstring\tstring\tcount\tstring\ttime\ttime\ttime\ttime");

impl Log {
    fn create(dir: &Path, path: &str, schema: (&str, &str), open_us: i64) -> io::Result<Log> {
        let mut buf = Vec::with_capacity(LOG_FLUSH + 64 * 1024);
        header(&mut buf, path, schema, open_us)?;
        Ok(Log { file: OutFile::create(&dir.join(format!("{path}.log")))?, buf, lines: 0 })
    }

    /// Ends the line built at the end of the buffer; writes the buffer out when full.
    fn end_line(&mut self) -> io::Result<()> {
        self.lines += 1;
        self.buf.push(b'\n');
        if self.buf.len() >= LOG_FLUSH {
            self.file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn close(mut self, close_us: i64) -> io::Result<u64> {
        writeln!(self.buf, "#close\t{}", stamp(close_us))?;
        self.file.write_all(&self.buf)?;
        self.file.flush()?;
        Ok(self.lines)
    }
}

/// Zeek's escaping of a string value.
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.bytes().any(|b| b == b'\\' || b < 0x20) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\x{:02x}", c as u32)),
            c => o.push(c),
        }
    }
    std::borrow::Cow::Owned(o)
}

/// Two-digit decimal pairs, 00 to 99.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869\
707172737475767778798081828384858687888990919293949596979899";

/// Appends a decimal integer (two digits per division).
fn push_u64(b: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    while n >= 100 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        tmp[i] = PAIRS[d];
        tmp[i + 1] = PAIRS[d + 1];
    }
    if n >= 10 {
        let d = n as usize * 2;
        i -= 2;
        tmp[i] = PAIRS[d];
        tmp[i + 1] = PAIRS[d + 1];
    } else {
        i -= 1;
        tmp[i] = b'0' + n as u8;
    }
    push_bytes(b, &tmp[i..]);
}

/// Appends bytes.
#[inline]
fn push_bytes(b: &mut Vec<u8>, s: &[u8]) {
    b.extend_from_slice(s);
}

/// Appends epoch seconds with six decimals from µs.
fn push_ts(b: &mut Vec<u8>, t_us: i64) {
    if t_us < 0 {
        b.push(b'-');
    }
    let u = t_us.unsigned_abs();
    push_u64(b, u / 1_000_000);
    let frac = u % 1_000_000;
    let mut tmp = *b".000000";
    let mut f = frac;
    for i in (1..7).rev() {
        tmp[i] = b'0' + (f % 10) as u8;
        f /= 10;
    }
    b.extend_from_slice(&tmp);
}

/// Appends seconds (≥ 0) with six decimals.
fn push_secs(b: &mut Vec<u8>, s: f64) {
    push_ts(b, (s.max(0.0) * 1e6).round() as i64);
}

/// Appends a dotted IPv4 address.
fn push_ip(b: &mut Vec<u8>, ip: u32) {
    for (i, o) in ip.to_be_bytes().iter().enumerate() {
        if i > 0 {
            b.push(b'.');
        }
        push_u64(b, u64::from(*o));
    }
}

/// Appends text.
fn push(b: &mut Vec<u8>, s: &str) {
    push_bytes(b, s.as_bytes());
}

fn ts(t_us: i64) -> String {
    format!("{}.{:06}", t_us.div_euclid(1_000_000), t_us.rem_euclid(1_000_000))
}

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A Zeek-style connection uid (`C` + 17 base-62 characters).
pub fn uid(seed: u64, n: u64) -> String {
    String::from_utf8_lossy(&uid_bytes(seed, n)).into_owned()
}

fn uid_bytes(seed: u64, n: u64) -> [u8; 18] {
    let mut h = mix(&[seed, n, 0x55]);
    let mut s = [b'C'; 18];
    for (i, c) in s[1..].iter_mut().enumerate() {
        if i == 10 {
            h = mix(&[h]);
        }
        *c = B62[(h % 62) as usize];
        h /= 62;
    }
    s
}

/// All logs of a simulation.
pub struct Writer {
    conn: Log,
    dns: Log,
    ssl: Log,
    x509: Log,
    http: Log,
    dce: Log,
    smb_map: Log,
    smb_files: Log,
    seen_certs: HashSet<(i64, usize)>,
    seed: u64,
    n: u64,
    idb: Vec<u8>,
}

/// Lines written per log.
pub type Counts = Vec<(&'static str, u64)>;

impl Writer {
    /// Creates the logs in `dir`.
    pub fn create(dir: &Path, seed: u64, open_us: i64) -> io::Result<Writer> {
        Ok(Writer {
            conn: Log::create(dir, "conn", CONN, open_us)?,
            dns: Log::create(dir, "dns", DNS, open_us)?,
            ssl: Log::create(dir, "ssl", SSL, open_us)?,
            x509: Log::create(dir, "x509", X509, open_us)?,
            http: Log::create(dir, "http", HTTP, open_us)?,
            dce: Log::create(dir, "dce_rpc", DCE, open_us)?,
            smb_map: Log::create(dir, "smb_mapping", SMB_MAP, open_us)?,
            smb_files: Log::create(dir, "smb_files", SMB_FILES, open_us)?,
            seen_certs: HashSet::new(),
            seed,
            n: 0,
            idb: Vec::with_capacity(64),
        })
    }

    /// Writes one session to every log it belongs in.
    pub fn write(&mut self, s: &Session, world: &World) -> io::Result<()> {
        self.n += 1;
        // The `uid id.orig_h id.orig_p id.resp_h id.resp_p` columns every log shares.
        // Reused between sessions (a buffer per session had cost an allocation each).
        let idb = &mut self.idb;
        idb.clear();
        push_bytes(idb, &uid_bytes(self.seed, self.n));
        idb.push(b'\t');
        push_ip(idb, s.orig);
        idb.push(b'\t');
        push_u64(idb, u64::from(s.orig_p));
        idb.push(b'\t');
        push_ip(idb, s.resp);
        idb.push(b'\t');
        push_u64(idb, u64::from(s.resp_p));
        let idb: &[u8] = idb;
        let id = std::str::from_utf8(idb).unwrap_or("-");
        let (op, oib, rp, rib) = s.packets();
        let local = |ip: u32| if ip >> 24 == 10 { "T" } else { "F" };
        let b = &mut self.conn.buf;
        push_ts(b, s.ts);
        b.push(b'\t');
        b.extend_from_slice(idb);
        push(b, if s.proto == Proto::Tcp { "\ttcp\t" } else { "\tudp\t" });
        push(b, s.service.unwrap_or("-"));
        b.push(b'\t');
        push_secs(b, s.duration);
        for v in [s.orig_bytes, s.resp_bytes] {
            b.push(b'\t');
            push_u64(b, v);
        }
        b.push(b'\t');
        push(b, s.conn_state());
        b.push(b'\t');
        push(b, local(s.orig));
        b.push(b'\t');
        push(b, local(s.resp));
        push(b, "\t0\t");
        push(b, s.history());
        for v in [op, oib, rp, rib] {
            b.push(b'\t');
            push_u64(b, v);
        }
        push(b, "\t-");
        self.conn.end_line()?;
        match &s.app {
            App::None => {}
            App::Dns(d) => {
                let b = &mut self.dns.buf;
                push_ts(b, s.ts);
                b.push(b'\t');
                b.extend_from_slice(idb);
                push(b, "\tudp\t");
                push_u64(b, (self.n * 7919) % 65_536);
                b.push(b'\t');
                push_secs(b, s.duration);
                b.push(b'\t');
                // Simulated names never hold a backslash, a comma or a control byte.
                debug_assert!(!d.query.bytes().any(|c| c == b'\\' || c < 0x20));
                push(b, &d.query);
                push(b, "\t1\tC_INTERNET\t");
                push_u64(b, u64::from(d.qtype));
                b.push(b'\t');
                push(b, dwell_model::dns::qtype_name(d.qtype).unwrap_or("-"));
                b.push(b'\t');
                push_u64(b, u64::from(d.rcode));
                b.push(b'\t');
                push(b, dwell_model::dns::rcode_name(d.rcode).unwrap_or("-"));
                push(b, "\tF\tF\tT\tT\t0\t");
                if d.answers.is_empty() {
                    push(b, "-\t-");
                } else {
                    for (i, a) in d.answers.iter().enumerate() {
                        if i > 0 {
                            b.push(b',');
                        }
                        // The set separator inside a value is escaped too.
                        if a.bytes().any(|c| c == b',' || c == b'\\' || c < 0x20) {
                            push(b, &esc(a).replace(',', "\\x2c"));
                        } else {
                            push(b, a);
                        }
                    }
                    b.push(b'\t');
                    for i in 0..d.answers.len() {
                        if i > 0 {
                            b.push(b',');
                        }
                        push_u64(b, u64::from(d.ttl));
                        push(b, ".000000");
                    }
                }
                push(b, "\tF");
                self.dns.end_line()?;
            }
            App::Tls(t) => {
                let fp = t.cert.and_then(|c| world.certs.get(c)).map(|c| c.fingerprint.as_str());
                let b = &mut self.ssl.buf;
                push_ts(b, s.ts);
                b.push(b'\t');
                b.extend_from_slice(idb);
                b.push(b'\t');
                push(b, t.version);
                b.push(b'\t');
                push(b, t.cipher);
                push(b, "\tx25519\t");
                push(b, t.sni.as_deref().unwrap_or("-"));
                push(b, "\tF\t-\th2\tT\tCsiI\t");
                push(b, fp.unwrap_or("-"));
                push(b, "\t-\t");
                push(b, if t.sni.is_some() && fp.is_some() { "T" } else { "-" });
                push(b, "\t-\t");
                push(b, t.ja3);
                b.push(b'\t');
                push(b, t.ja3s);
                b.push(b'\t');
                push(b, t.ja4);
                self.ssl.end_line()?;
                if let Some(ci) = t.cert {
                    let day = s.ts.div_euclid(86_400_000_000);
                    if self.seen_certs.insert((day, ci)) {
                        if let Some(c) = world.certs.get(ci) {
                            let b = &mut self.x509.buf;
                            let _ = write!(
                                b,
                                "{}\t{}\t3\t{}\t{}\t{}\t{}.000000\t{}.000000\trsaEncryption\tsha256WithRSAEncryption\trsa\t2048\t65537\t-\t{}\t-\t-\t-\tF\t-\tT\tF",
                                ts(s.ts + 1000),
                                c.fingerprint,
                                c.serial,
                                esc(&c.subject),
                                esc(&c.issuer),
                                c.not_before,
                                c.not_after,
                                c.san.join(",")
                            );
                            self.x509.end_line()?;
                        }
                    }
                }
            }
            App::Http(h) => {
                let b = &mut self.http.buf;
                let _ = write!(
                    b,
                    "{}\t{}\t1\t{}\t{}\t{}\t-\t1.1\t{}\t-\t{}\t{}\t{}\t{}\t-\t-\t(empty)\t-\t-\t-\t-\t-\t-\t-\t-\t{}",
                    ts(s.ts),
                    id,
                    h.method,
                    esc(&h.host),
                    esc(&h.uri),
                    esc(&h.ua),
                    h.req_len,
                    h.resp_len,
                    h.status,
                    if h.status == 200 { "OK" } else { "-" },
                    h.mime
                );
                self.http.end_line()?;
            }
            App::DceRpc(d) => {
                let b = &mut self.dce.buf;
                let _ = write!(
                    b,
                    "{}\t{}\t{:.6}\t{}\t{}\t{}",
                    ts(s.ts),
                    id,
                    s.duration.min(0.5),
                    esc(d.pipe),
                    d.endpoint,
                    d.operation
                );
                self.dce.end_line()?;
            }
            App::Smb(m) => {
                let b = &mut self.smb_map.buf;
                let _ = write!(
                    b,
                    "{}\t{}\t{}\t{}\tNTFS\t{}",
                    ts(s.ts),
                    id,
                    esc(&m.path),
                    if m.share_type == "PIPE" { "IPC" } else { "A:" },
                    m.share_type
                );
                self.smb_map.end_line()?;
                if let Some((action, name, size)) = &m.file {
                    let b = &mut self.smb_files.buf;
                    let _ = write!(
                        b,
                        "{}\t{}\tF{}\t{action}\t{}\t{}\t{size}\t-\t{}\t{}\t{}\t{}",
                        ts(s.ts + 50_000),
                        id,
                        &uid(self.seed, self.n + (1 << 40))[1..],
                        esc(&m.path),
                        esc(name),
                        ts(s.ts),
                        ts(s.ts),
                        ts(s.ts),
                        ts(s.ts)
                    );
                    self.smb_files.end_line()?;
                }
            }
        }
        Ok(())
    }

    /// Closes every log; returns lines per log.
    pub fn close(self, close_us: i64) -> io::Result<Counts> {
        Ok(vec![
            ("conn", self.conn.close(close_us)?),
            ("dns", self.dns.close(close_us)?),
            ("ssl", self.ssl.close(close_us)?),
            ("x509", self.x509.close(close_us)?),
            ("http", self.http.close(close_us)?),
            ("dce_rpc", self.dce.close(close_us)?),
            ("smb_mapping", self.smb_map.close(close_us)?),
            ("smb_files", self.smb_files.close(close_us)?),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_look_like_zeek() {
        let u = uid(1, 1);
        assert_eq!(u.len(), 18);
        assert!(u.starts_with('C'));
        assert_ne!(uid(1, 1), uid(1, 2));
        assert_eq!(uid(1, 1), uid(1, 1));
    }

    #[test]
    fn escaping() {
        assert_eq!(esc("plain"), "plain");
        assert_eq!(esc("\\\\FS01\\DATA"), "\\\\\\\\FS01\\\\DATA");
        assert_eq!(esc("a\tb"), "a\\x09b");
    }

    /// Numbers and addresses read as `std` formats them, appended after what was there,
    /// at every digit count's edges and over many random values.
    #[test]
    fn numbers_and_addresses_as_std_writes_them() {
        let mut values = vec![0, u64::MAX, u64::MAX - 1];
        for k in 0..20 {
            let p = 10u64.pow(k);
            values.extend([p - 1, p, p + 1]);
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 64));
        }
        for v in values {
            let mut b = b"x\t".to_vec();
            push_u64(&mut b, v);
            assert_eq!(b, format!("x\t{v}").as_bytes());
            let ip = (v ^ (v >> 32)) as u32;
            let mut b = b"y".to_vec();
            push_ip(&mut b, ip);
            assert_eq!(b, format!("y{}", std::net::Ipv4Addr::from(ip)).as_bytes());
        }
        for ip in [0u32, u32::MAX, 0x0a00_0001, 0x6464_6464, 0x0909_0909, 0x0a63_640a] {
            let mut b = Vec::new();
            push_ip(&mut b, ip);
            assert_eq!(b, std::net::Ipv4Addr::from(ip).to_string().as_bytes());
        }
    }
}
