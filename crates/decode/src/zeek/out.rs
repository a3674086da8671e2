//! Zeek logs out: conn, dns, ssl, x509 and http events written as Zeek writes its ASCII
//! logs, so a capture dwell decoded feeds every tool that reads Zeek logs
//! (`dwell decode capture.pcap --zeek-out DIR`).
//!
//! Header lines and field names are Zeek's (`#separator \x09`, `#set_separator ,`,
//! `#empty_field (empty)`, `#unset_field -`, `#path`, `#open`, `#fields`, `#types`,
//! `#close`); times are epoch seconds with microseconds, intervals seconds with
//! microseconds; strings are escaped as Zeek escapes them (backslash doubled, control
//! characters and the separators inside values as `\xNN`). The simulator writes its logs
//! with the same headers.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use dwell_model::{Body, Certificate, Event, Flow, Text, Timestamp};

/// `conn.log` columns and types.
pub const CONN: (&str, &str) = ("ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents",
    "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]");
/// `dns.log` columns and types.
pub const DNS: (&str, &str) = ("ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected",
    "time\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool");
/// `ssl.log` columns and types (with the JA3/JA4 package columns).
pub const SSL: (&str, &str) = ("ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tcurve\tserver_name\tresumed\tlast_alert\tnext_protocol\testablished\tssl_history\tcert_chain_fps\tclient_cert_chain_fps\tsni_matches_cert\tvalidation_status\tja3\tja3s\tja4",
    "time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tbool\tstring\tstring\tbool\tstring\tvector[string]\tvector[string]\tbool\tstring\tstring\tstring\tstring");
/// `x509.log` columns and types.
pub const X509: (&str, &str) = ("ts\tfingerprint\tcertificate.version\tcertificate.serial\tcertificate.subject\tcertificate.issuer\tcertificate.not_valid_before\tcertificate.not_valid_after\tcertificate.key_alg\tcertificate.sig_alg\tcertificate.key_type\tcertificate.key_length\tcertificate.exponent\tcertificate.curve\tsan.dns\tsan.uri\tsan.email\tsan.ip\tbasic_constraints.ca\tbasic_constraints.path_len\thost_cert\tclient_cert",
    "time\tstring\tcount\tstring\tstring\tstring\ttime\ttime\tstring\tstring\tstring\tcount\tstring\tstring\tvector[string]\tvector[string]\tvector[string]\tvector[addr]\tbool\tcount\tbool\tbool");
/// `http.log` columns and types.
pub const HTTP: (&str, &str) = ("ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\treferrer\tversion\tuser_agent\torigin\trequest_body_len\tresponse_body_len\tstatus_code\tstatus_msg\tinfo_code\tinfo_msg\ttags\tusername\tpassword\tproxied\torig_fuids\torig_filenames\torig_mime_types\tresp_fuids\tresp_filenames\tresp_mime_types",
    "time\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\tstring\tstring\tstring\tcount\tcount\tcount\tstring\tcount\tstring\tset[enum]\tstring\tstring\tset[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]");

/// `YYYY-MM-DD-HH-MM-SS`, as in `#open` and `#close`.
pub fn stamp(t_us: i64) -> String {
    let c = Timestamp(t_us).to_civil();
    format!(
        "{:04}-{:02}-{:02}-{:02}-{:02}-{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// Writes the header lines of a Zeek ASCII log: separators, `#path`, `#open`, `#fields`,
/// `#types`.
pub fn header(
    w: &mut impl Write,
    path: &str,
    schema: (&str, &str),
    open_us: i64,
) -> io::Result<()> {
    write!(
        w,
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#open\t{}\n#fields\t{}\n#types\t{}\n",
        stamp(open_us),
        schema.0,
        schema.1
    )
}

/// Zeek's escaping of a string value (also of `,` inside set and vector elements).
pub fn esc(s: &str, in_set: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            ',' if in_set => o.push_str("\\x2c"),
            c if (c as u32) < 0x20 || c == '\x7f' => o.push_str(&format!("\\x{:02x}", c as u32)),
            c => o.push(c),
        }
    }
    if o.is_empty() {
        o.push_str("(empty)");
    } else if o == "-" {
        o = "\\x2d".into();
    }
    o
}

/// Epoch seconds with microseconds.
pub fn time(t: Timestamp) -> String {
    let (s, us) = (t.0.div_euclid(1_000_000), t.0.rem_euclid(1_000_000));
    format!("{s}.{us:06}")
}

struct Row(Vec<String>);

impl Row {
    fn new() -> Row {
        Row(Vec::with_capacity(32))
    }
    fn s(&mut self, v: Option<&str>) -> &mut Self {
        self.0.push(v.map_or_else(|| "-".into(), |v| esc(v, false)));
        self
    }
    fn t(&mut self, v: &Option<Text>) -> &mut Self {
        self.s(v.as_deref())
    }
    fn n<T: std::fmt::Display>(&mut self, v: Option<T>) -> &mut Self {
        self.0.push(v.map_or_else(|| "-".into(), |v| v.to_string()));
        self
    }
    fn b(&mut self, v: Option<bool>) -> &mut Self {
        self.0.push(match v {
            Some(true) => "T".into(),
            Some(false) => "F".into(),
            None => "-".into(),
        });
        self
    }
    fn f(&mut self, v: Option<f64>) -> &mut Self {
        self.0.push(v.map_or_else(|| "-".into(), |v| format!("{v:.6}")));
        self
    }
    fn ts(&mut self, v: Option<Timestamp>) -> &mut Self {
        self.0.push(v.map_or_else(|| "-".into(), time));
        self
    }
    fn set<S: AsRef<str>>(&mut self, v: &[S]) -> &mut Self {
        self.0.push(if v.is_empty() {
            "(empty)".into()
        } else {
            v.iter().map(|x| esc(x.as_ref(), true)).collect::<Vec<_>>().join(",")
        });
        self
    }
    fn unset(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            self.0.push("-".into());
        }
        self
    }
    fn flow(&mut self, f: &Flow) -> &mut Self {
        self.0.push(f.orig_h.to_string());
        self.0.push(f.orig_p.to_string());
        self.0.push(f.resp_h.to_string());
        self.0.push(f.resp_p.to_string());
        self
    }
}

struct Log {
    w: BufWriter<File>,
    lines: u64,
}

/// Writes Zeek logs into a directory, one file per log type, created on first use.
pub struct ZeekWriter {
    dir: PathBuf,
    open_us: i64,
    logs: Vec<(&'static str, Log)>,
}

fn qclass_name(c: u16) -> &'static str {
    match c {
        1 => "C_INTERNET",
        3 => "C_CHAOS",
        4 => "C_HESIOD",
        254 => "C_NONE",
        255 => "C_ANY",
        _ => "-",
    }
}

impl ZeekWriter {
    /// A writer into `dir` (created); `open_us` stamps the `#open` lines.
    pub fn create(dir: &Path, open_us: i64) -> io::Result<ZeekWriter> {
        std::fs::create_dir_all(dir)?;
        Ok(ZeekWriter { dir: dir.to_path_buf(), open_us, logs: Vec::new() })
    }

    fn log(&mut self, path: &'static str, schema: (&str, &str)) -> io::Result<&mut Log> {
        let i = match self.logs.iter().position(|(p, _)| *p == path) {
            Some(i) => i,
            None => {
                let mut w = BufWriter::with_capacity(
                    1 << 18,
                    File::create(self.dir.join(format!("{path}.log")))?,
                );
                header(&mut w, path, schema, self.open_us)?;
                self.logs.push((path, Log { w, lines: 0 }));
                self.logs.len() - 1
            }
        };
        Ok(&mut self.logs[i].1)
    }

    fn put(&mut self, path: &'static str, schema: (&str, &str), row: Row) -> io::Result<()> {
        let log = self.log(path, schema)?;
        log.lines += 1;
        log.w.write_all(row.0.join("\t").as_bytes())?;
        log.w.write_all(b"\n")
    }

    /// Writes one event if it is of a kind Zeek logs here; returns whether it was.
    pub fn write(&mut self, ev: &Event) -> io::Result<bool> {
        let h = &ev.header;
        let mut r = Row::new();
        r.0.push(time(h.ts));
        match &ev.body {
            Body::Conn(c) => {
                r.s(h.uid.as_deref())
                    .flow(&c.flow)
                    .s(Some(c.flow.proto.as_str()))
                    .t(&c.service)
                    .f(c.duration);
                r.n(c.orig_bytes).n(c.resp_bytes).t(&c.conn_state).b(c.local_orig).b(c.local_resp);
                r.n(c.missed_bytes).t(&c.history).n(c.orig_pkts).n(c.orig_ip_bytes).n(c.resp_pkts);
                r.n(c.resp_ip_bytes).set::<&str>(&[]);
                self.put("conn", CONN, r)?;
            }
            Body::Dns(d) => {
                r.s(h.uid.as_deref())
                    .flow(&d.flow)
                    .s(Some(d.flow.proto.as_str()))
                    .n(d.trans_id)
                    .f(d.rtt);
                r.t(&d.query).n(d.qclass).s(d.qclass.map(qclass_name)).n(d.qtype).t(&d.qtype_name);
                r.n(d.rcode).t(&d.rcode_name).b(d.aa).b(d.tc).b(d.rd).b(d.ra).n(Some(0));
                r.set(&d.answers);
                let ttls: Vec<String> = d.ttls.iter().map(|t| format!("{t:.6}")).collect();
                r.set(&ttls).b(d.rejected);
                self.put("dns", DNS, r)?;
            }
            Body::Tls(t) => {
                r.s(h.uid.as_deref())
                    .flow(&t.flow)
                    .t(&t.version)
                    .t(&t.cipher)
                    .t(&t.curve)
                    .t(&t.server_name);
                r.b(t.resumed).unset(1).t(&t.next_protocol).b(t.established).t(&t.ssl_history);
                r.set(&t.cert_chain_fps).set::<&str>(&[]).unset(1).t(&t.validation_status);
                r.t(&t.ja3).t(&t.ja3s).t(&t.ja4);
                self.put("ssl", SSL, r)?;
            }
            Body::X509(c) => {
                cert_row(&mut r, c);
                self.put("x509", X509, r)?;
            }
            Body::Http(x) => {
                r.s(h.uid.as_deref())
                    .flow(&x.flow)
                    .n(x.trans_depth)
                    .t(&x.method)
                    .t(&x.host)
                    .t(&x.uri);
                r.t(&x.referrer).t(&x.version).t(&x.user_agent).t(&x.origin);
                r.n(x.request_body_len).n(x.response_body_len).n(x.status_code).t(&x.status_msg);
                r.unset(2).set::<&str>(&[]).t(&x.username).unset(1).set::<&str>(&[]);
                r.set::<&str>(&[]).set::<&str>(&[]).set(&x.orig_mime_types);
                r.set::<&str>(&[]).set::<&str>(&[]).set(&x.resp_mime_types);
                self.put("http", HTTP, r)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Writes the `#close` lines; returns lines per log.
    pub fn close(self, close_us: i64) -> io::Result<Vec<(&'static str, u64)>> {
        let mut out = Vec::new();
        for (p, mut l) in self.logs {
            writeln!(l.w, "#close\t{}", stamp(close_us))?;
            l.w.flush()?;
            out.push((p, l.lines));
        }
        Ok(out)
    }
}

fn cert_row(r: &mut Row, c: &Certificate) {
    r.t(&c.fingerprint_sha256).n(c.version).t(&c.serial).t(&c.subject).t(&c.issuer);
    r.ts(c.not_valid_before).ts(c.not_valid_after).t(&c.key_alg).t(&c.sig_alg).t(&c.key_type);
    r.n(c.key_length).t(&c.exponent).t(&c.curve).set(&c.san_dns).set(&c.san_uri).set(&c.san_email);
    let ips: Vec<String> = c.san_ip.iter().map(|i| i.to_string()).collect();
    r.set(&ips)
        .b(c.basic_constraints_ca)
        .n(c.basic_constraints_path_len)
        .b(Some(true))
        .b(Some(false));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_escape_as_zeek_does() {
        assert_eq!(esc("a\tb\\c", false), "a\\x09b\\\\c");
        assert_eq!(esc("a,b", true), "a\\x2cb");
        assert_eq!(esc("", false), "(empty)");
        assert_eq!(esc("-", false), "\\x2d");
        assert_eq!(time(Timestamp(1_588_316_522_186_129)), "1588316522.186129");
    }
}
