//! One simulated connection and what the application layer said on it.
//!
//! A [`Session`] becomes one `conn.log` line plus, depending on its [`App`], a line in
//! `dns.log`, `ssl.log` (and `x509.log` the first time a certificate is seen that day),
//! `http.log`, `dce_rpc.log`, `smb_mapping.log`/`smb_files.log`. Packet and IP-byte
//! counts follow from payload bytes with a 1448-byte MSS and 40/28-byte headers, so the
//! logs are consistent with themselves.

/// Transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// How a connection ended (a subset of Zeek's states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Established and closed normally.
    Sf,
    /// Attempt, no answer.
    S0,
    /// Attempt, rejected.
    Rej,
    /// Established, originator reset.
    Rsto,
}

/// Application-layer record of a session.
#[derive(Clone, Debug)]
pub enum App {
    /// Nothing beyond the flow.
    None,
    /// A DNS query and its answer.
    Dns(Dns),
    /// A TLS session.
    Tls(Tls),
    /// One HTTP request and response.
    Http(Http),
    /// A DCE/RPC call.
    DceRpc(DceRpc),
    /// An SMB tree connect (and optionally a file action).
    Smb(Smb),
}

/// DNS.
#[derive(Clone, Debug)]
pub struct Dns {
    /// Query name.
    pub query: String,
    /// Query type number.
    pub qtype: u16,
    /// Response code (0 NOERROR, 3 NXDOMAIN).
    pub rcode: u16,
    /// Answers (shared: a domain's answer list is built once).
    pub answers: std::sync::Arc<[String]>,
    /// TTL of the answers.
    pub ttl: u32,
}

/// TLS.
#[derive(Clone, Debug)]
pub struct Tls {
    /// SNI, if the client sent one.
    pub sni: Option<String>,
    /// Version (`TLSv13`).
    pub version: &'static str,
    /// Cipher.
    pub cipher: &'static str,
    /// JA3.
    pub ja3: &'static str,
    /// JA4.
    pub ja4: &'static str,
    /// JA3S.
    pub ja3s: &'static str,
    /// Server certificate index into the world's certificates (TLS ≤ 1.2 shows it).
    pub cert: Option<usize>,
}

/// HTTP.
#[derive(Clone, Debug)]
pub struct Http {
    /// Method.
    pub method: &'static str,
    /// Host header.
    pub host: String,
    /// URI.
    pub uri: String,
    /// User agent.
    pub ua: String,
    /// Status code.
    pub status: u16,
    /// Request body bytes.
    pub req_len: u64,
    /// Response body bytes.
    pub resp_len: u64,
    /// Response MIME type.
    pub mime: &'static str,
}

/// DCE/RPC.
#[derive(Clone, Debug)]
pub struct DceRpc {
    /// Interface.
    pub endpoint: &'static str,
    /// Operation.
    pub operation: &'static str,
    /// Named pipe.
    pub pipe: &'static str,
}

/// SMB.
#[derive(Clone, Debug)]
pub struct Smb {
    /// Share path (`\\\\FS01\\SHARE`).
    pub path: String,
    /// `DISK` or `PIPE`.
    pub share_type: &'static str,
    /// A file action and name, if any.
    pub file: Option<(&'static str, String, u64)>,
}

/// One connection.
#[derive(Clone, Debug)]
pub struct Session {
    /// Start, µs since the epoch.
    pub ts: i64,
    /// Originator.
    pub orig: u32,
    /// Originator port.
    pub orig_p: u16,
    /// Responder.
    pub resp: u32,
    /// Responder port.
    pub resp_p: u16,
    /// Transport.
    pub proto: Proto,
    /// Zeek service name.
    pub service: Option<&'static str>,
    /// Seconds.
    pub duration: f64,
    /// Payload bytes from the originator.
    pub orig_bytes: u64,
    /// Payload bytes from the responder.
    pub resp_bytes: u64,
    /// End state.
    pub state: State,
    /// Application layer.
    pub app: App,
    /// Which scenario stage produced it (`None`: benign), for the ground truth.
    pub label: Option<(u8, u8)>,
}

impl Session {
    /// A TCP session that completed.
    pub fn tcp(ts: i64, orig: u32, orig_p: u16, resp: u32, resp_p: u16) -> Session {
        Session {
            ts,
            orig,
            orig_p,
            resp,
            resp_p,
            proto: Proto::Tcp,
            service: None,
            duration: 0.05,
            orig_bytes: 0,
            resp_bytes: 0,
            state: State::Sf,
            app: App::None,
            label: None,
        }
    }

    /// A UDP exchange.
    pub fn udp(ts: i64, orig: u32, orig_p: u16, resp: u32, resp_p: u16) -> Session {
        Session { proto: Proto::Udp, ..Session::tcp(ts, orig, orig_p, resp, resp_p) }
    }

    /// Sets payload sizes and duration.
    pub fn sized(mut self, orig_bytes: u64, resp_bytes: u64, duration: f64) -> Session {
        self.orig_bytes = orig_bytes;
        self.resp_bytes = resp_bytes;
        self.duration = duration;
        self
    }

    /// Zeek `conn_state`.
    pub fn conn_state(&self) -> &'static str {
        match (self.proto, self.state) {
            (_, State::Sf) => "SF",
            (_, State::S0) => "S0",
            (_, State::Rej) => "REJ",
            (_, State::Rsto) => "RSTO",
        }
    }

    /// Zeek `history`.
    pub fn history(&self) -> &'static str {
        match (self.proto, self.state) {
            (Proto::Tcp, State::Sf) => "ShADadFf",
            (Proto::Tcp, State::S0) => "S",
            (Proto::Tcp, State::Rej) => "Sr",
            // A half-open (SYN) scan of an open port: SYN, SYN-ACK, reset.
            (Proto::Tcp, State::Rsto) if self.orig_bytes == 0 && self.resp_bytes == 0 => "ShR",
            (Proto::Tcp, State::Rsto) => "ShADadR",
            (Proto::Udp, State::Sf) => "Dd",
            (Proto::Udp, _) => "D",
        }
    }

    /// (orig_pkts, orig_ip_bytes, resp_pkts, resp_ip_bytes).
    pub fn packets(&self) -> (u64, u64, u64, u64) {
        let seg = |b: u64| b.div_ceil(1448);
        match (self.proto, self.state) {
            (Proto::Tcp, State::S0) => (2, 88, 0, 0),
            (Proto::Tcp, State::Rej) => (1, 44, 1, 40),
            (Proto::Tcp, State::Rsto) if self.orig_bytes == 0 && self.resp_bytes == 0 => {
                (2, 84, 1, 44)
            }
            (Proto::Tcp, _) => {
                // Handshake and teardown, data segments, and one ACK per two segments.
                let (od, rd) = (seg(self.orig_bytes), seg(self.resp_bytes));
                let op = 3 + od + rd / 2;
                let rp = 2 + rd + od / 2;
                (op, self.orig_bytes + 40 * op + 4, rp, self.resp_bytes + 40 * rp + 4)
            }
            (Proto::Udp, State::Sf) => {
                let (op, rp) = (seg(self.orig_bytes).max(1), seg(self.resp_bytes).max(1));
                (op, self.orig_bytes + 28 * op, rp, self.resp_bytes + 28 * rp)
            }
            (Proto::Udp, _) => {
                let op = seg(self.orig_bytes).max(1);
                (op, self.orig_bytes + 28 * op, 0, 0)
            }
        }
    }
}
