//! The normalised JSON form of an event: what `dwell decode` prints and what the golden
//! tests snapshot.
//!
//! One flat object per event with a `kind` field and Zeek's field names wherever Zeek
//! has the field (`ts`, `uid`, `id.orig_h`, ..., `query`, `server_name`, `ja3`, ...),
//! so that the output reads like a Zeek JSON log whatever the input was. `ts` is epoch
//! seconds with microseconds, as Zeek writes it; certificate times likewise. Unset
//! fields and empty lists are left out. Keys come out sorted (a `BTreeMap`), so the
//! same event always prints the same bytes.

use std::net::IpAddr;

use dwell_model::{Body, Certificate, Event, Flow, SourceRef, Text, Timestamp};
use serde_json::{Map, Number, Value};

/// Epoch seconds as a JSON number with exactly the microseconds of `t`.
pub fn epoch(t: Timestamp) -> Value {
    let us = t.micros();
    let text = format!(
        "{}{}.{:06}",
        if us < 0 { "-" } else { "" },
        us.unsigned_abs() / 1_000_000,
        us.unsigned_abs() % 1_000_000
    );
    text.parse::<Number>().map(Value::Number).unwrap_or(Value::Null)
}

struct Obj(Map<String, Value>);

impl Obj {
    fn v(&mut self, k: &str, v: impl Into<Value>) {
        self.0.insert(k.to_string(), v.into());
    }
    fn o<T: Into<Value>>(&mut self, k: &str, v: Option<T>) {
        if let Some(v) = v {
            self.v(k, v);
        }
    }
    fn s(&mut self, k: &str, v: &Option<Text>) {
        if let Some(v) = v {
            self.v(k, &**v);
        }
    }
    fn l(&mut self, k: &str, v: &[Text]) {
        if !v.is_empty() {
            self.v(k, v.iter().map(|s| Value::from(&**s)).collect::<Vec<_>>());
        }
    }
    fn f(&mut self, k: &str, v: Option<f64>) {
        if let Some(n) = v.and_then(Number::from_f64) {
            self.v(k, Value::Number(n));
        }
    }
    fn t(&mut self, k: &str, v: Option<Timestamp>) {
        if let Some(t) = v {
            self.v(k, epoch(t));
        }
    }
    fn ip(&mut self, k: &str, v: Option<IpAddr>) {
        if let Some(ip) = v {
            self.v(k, ip.to_string());
        }
    }
    fn flow(&mut self, f: &Flow) {
        self.v("id.orig_h", f.orig_h.to_string());
        self.v("id.orig_p", f.orig_p);
        self.v("id.resp_h", f.resp_h.to_string());
        self.v("id.resp_p", f.resp_p);
        self.v("proto", f.proto.as_str());
    }
}

fn cert_fields(o: &mut Obj, c: &Certificate) {
    o.s("id", &c.id);
    o.s("fingerprint", &c.fingerprint_sha256);
    o.s("fingerprint_sha1", &c.fingerprint_sha1);
    o.o("certificate.version", c.version);
    o.s("certificate.serial", &c.serial);
    o.s("certificate.subject", &c.subject);
    o.s("certificate.issuer", &c.issuer);
    o.t("certificate.not_valid_before", c.not_valid_before);
    o.t("certificate.not_valid_after", c.not_valid_after);
    o.s("certificate.key_alg", &c.key_alg);
    o.s("certificate.sig_alg", &c.sig_alg);
    o.s("certificate.key_type", &c.key_type);
    o.o("certificate.key_length", c.key_length);
    o.s("certificate.exponent", &c.exponent);
    o.s("certificate.curve", &c.curve);
    o.l("san.dns", &c.san_dns);
    o.l("san.uri", &c.san_uri);
    o.l("san.email", &c.san_email);
    if !c.san_ip.is_empty() {
        o.v("san.ip", c.san_ip.iter().map(|a| Value::from(a.to_string())).collect::<Vec<_>>());
    }
    o.o("basic_constraints.ca", c.basic_constraints_ca);
    o.o("basic_constraints.path_len", c.basic_constraints_path_len);
}

/// The normalised object of one event. `file` names the source file in `_src`
/// (`file:record`), so every line of `dwell decode` points back into its input.
pub fn to_json(ev: &Event, file: &str) -> Value {
    let mut o = Obj(Map::new());
    let h = &ev.header;
    o.v("kind", ev.kind().as_str());
    o.v("ts", epoch(h.ts));
    if let Some(u) = &h.uid {
        o.v("uid", u.as_str());
    }
    o.s("community_id", &h.community_id);
    o.v("_src", src_text(file, h.src));
    if let Some(f) = ev.body.flow() {
        o.flow(f);
    }
    match &ev.body {
        Body::Conn(c) => {
            o.s("service", &c.service);
            o.f("duration", c.duration);
            o.o("orig_bytes", c.orig_bytes);
            o.o("resp_bytes", c.resp_bytes);
            o.s("conn_state", &c.conn_state);
            o.o("local_orig", c.local_orig);
            o.o("local_resp", c.local_resp);
            o.o("missed_bytes", c.missed_bytes);
            o.s("history", &c.history);
            o.o("orig_pkts", c.orig_pkts);
            o.o("orig_ip_bytes", c.orig_ip_bytes);
            o.o("resp_pkts", c.resp_pkts);
            o.o("resp_ip_bytes", c.resp_ip_bytes);
        }
        Body::Dns(d) => {
            o.v("msg", serde_json::to_value(d.msg).unwrap_or(Value::Null));
            o.o("trans_id", d.trans_id);
            o.f("rtt", d.rtt);
            o.s("query", &d.query);
            o.o("qclass", d.qclass);
            o.o("qtype", d.qtype);
            o.s("qtype_name", &d.qtype_name);
            o.o("rcode", d.rcode);
            o.s("rcode_name", &d.rcode_name);
            o.o("AA", d.aa);
            o.o("TC", d.tc);
            o.o("RD", d.rd);
            o.o("RA", d.ra);
            o.l("answers", &d.answers);
            if !d.ttls.is_empty() {
                o.v(
                    "TTLs",
                    d.ttls
                        .iter()
                        .filter_map(|t| Number::from_f64(*t))
                        .map(Value::Number)
                        .collect::<Vec<_>>(),
                );
            }
            o.o("rejected", d.rejected);
        }
        Body::Tls(t) => {
            o.s("version", &t.version);
            o.s("cipher", &t.cipher);
            o.s("curve", &t.curve);
            o.s("server_name", &t.server_name);
            o.o("resumed", t.resumed);
            o.o("established", t.established);
            o.s("next_protocol", &t.next_protocol);
            o.s("ssl_history", &t.ssl_history);
            o.s("ja3", &t.ja3);
            o.s("ja3s", &t.ja3s);
            o.s("ja4", &t.ja4);
            o.s("ja4s", &t.ja4s);
            o.s("validation_status", &t.validation_status);
            o.s("subject", &t.subject);
            o.s("issuer", &t.issuer);
            o.l("cert_chain_fps", &t.cert_chain_fps);
            o.l("cert_chain_fuids", &t.cert_chain_fuids);
            if let Some(c) = &t.cert {
                let mut co = Obj(Map::new());
                cert_fields(&mut co, c);
                o.v("cert", Value::Object(co.0));
            }
        }
        Body::X509(c) => cert_fields(&mut o, c),
        Body::Http(x) => {
            o.o("trans_depth", x.trans_depth);
            o.s("method", &x.method);
            o.s("host", &x.host);
            o.s("uri", &x.uri);
            o.s("referrer", &x.referrer);
            o.s("version", &x.version);
            o.s("user_agent", &x.user_agent);
            o.s("origin", &x.origin);
            o.o("request_body_len", x.request_body_len);
            o.o("response_body_len", x.response_body_len);
            o.o("status_code", x.status_code);
            o.s("status_msg", &x.status_msg);
            o.s("username", &x.username);
            o.l("orig_mime_types", &x.orig_mime_types);
            o.l("resp_mime_types", &x.resp_mime_types);
        }
        Body::File(f) => {
            o.s("fuid", &f.fuid);
            o.ip("tx_hosts", f.tx_host);
            o.ip("rx_hosts", f.rx_host);
            o.s("source", &f.source);
            o.s("mime_type", &f.mime_type);
            o.s("filename", &f.filename);
            o.o("seen_bytes", f.seen_bytes);
            o.o("total_bytes", f.total_bytes);
            o.s("md5", &f.md5);
            o.s("sha1", &f.sha1);
            o.s("sha256", &f.sha256);
        }
        Body::Smb(s) => {
            o.v("record", serde_json::to_value(s.record).unwrap_or(Value::Null));
            o.s("action", &s.action);
            o.s("path", &s.path);
            o.s("name", &s.name);
            o.o("size", s.size);
            o.s("share_type", &s.share_type);
            o.s("service", &s.service);
            o.s("status", &s.status);
        }
        Body::DceRpc(d) => {
            o.f("rtt", d.rtt);
            o.s("named_pipe", &d.named_pipe);
            o.s("endpoint", &d.endpoint);
            o.s("operation", &d.operation);
        }
        Body::Rdp(r) => {
            o.s("cookie", &r.cookie);
            o.s("result", &r.result);
            o.s("security_protocol", &r.security_protocol);
            o.s("client_name", &r.client_name);
            o.s("client_build", &r.client_build);
            o.s("cert_type", &r.cert_type);
            o.s("encryption_level", &r.encryption_level);
            o.s("encryption_method", &r.encryption_method);
        }
        Body::Ntlm(n) => {
            o.s("username", &n.username);
            o.s("hostname", &n.hostname);
            o.s("domainname", &n.domainname);
            o.s("server_nb_computer_name", &n.server_nb_computer_name);
            o.s("server_dns_computer_name", &n.server_dns_computer_name);
            o.s("server_tree_name", &n.server_tree_name);
            o.o("success", n.success);
        }
        Body::Kerberos(k) => {
            o.s("request_type", &k.request_type);
            o.s("client", &k.client);
            o.s("service", &k.service);
            o.o("success", k.success);
            o.s("error_msg", &k.error_msg);
            o.s("cipher", &k.cipher);
            o.o("forwardable", k.forwardable);
            o.o("renewable", k.renewable);
        }
        Body::Dhcp(d) => {
            o.s("mac", &d.mac);
            o.ip("assigned_addr", d.assigned_addr);
            o.ip("requested_addr", d.requested_addr);
            o.s("host_name", &d.host_name);
            o.s("client_fqdn", &d.client_fqdn);
            o.s("domain", &d.domain);
            o.f("lease_time", d.lease_time);
        }
        Body::Alert(a) => {
            o.v("source", serde_json::to_value(a.source).unwrap_or(Value::Null));
            o.v("note", &*a.signature);
            o.o("signature_id", a.signature_id);
            o.s("category", &a.category);
            o.o("severity", a.severity);
            o.s("msg", &a.msg);
            o.s("sub", &a.sub);
            o.ip("src", a.src);
            o.ip("dst", a.dst);
            o.s("actions", &a.action);
        }
        Body::Anomaly(a) => {
            o.v("source", serde_json::to_value(a.source).unwrap_or(Value::Null));
            o.v("name", &*a.name);
            o.s("addl", &a.addl);
            o.s("layer", &a.layer);
        }
        Body::Win(w) => {
            o.v("computer", &*w.computer);
            o.v("channel", &*w.channel);
            o.s("provider", &w.provider);
            o.v("event_id", w.event_id);
            o.o("record_id", w.record_id);
            let data: Map<String, Value> =
                w.fields.iter().map(|(k, v)| (k.to_string(), Value::from(v))).collect();
            o.v("data", Value::Object(data));
        }
    }
    Value::Object(o.0)
}

fn src_text(file: &str, src: SourceRef) -> String {
    format!("{file}:{}", src.record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_keeps_microseconds() {
        assert_eq!(epoch(Timestamp(1588316522186129)).to_string(), "1588316522.186129");
        assert_eq!(epoch(Timestamp(22_000_001)).to_string(), "22.000001");
        assert_eq!(epoch(Timestamp(-1_500_000)).to_string(), "-1.5");
    }
}
