//! HTTP/1.x on any port: requests and responses paired in order (pipelining and
//! keep-alive), bodies skipped by `Content-Length`, chunked encoding or connection close
//! and counted, headers read with `httparse`. Bounded: header blocks over
//! [`MAX_HEADER`] bytes, more than [`MAX_PENDING`] unanswered requests, or a gap in
//! the stream where headers were expected stop parsing that direction.

use std::collections::VecDeque;

use dwell_model::Timestamp;

/// Longest header block accepted.
pub const MAX_HEADER: usize = 64 * 1024;
/// Most requests waiting for their response.
pub const MAX_PENDING: usize = 64;

/// One request and its response.
#[derive(Clone, Debug, Default)]
pub struct Tx {
    /// When the request began.
    pub ts: Timestamp,
    /// Position in the connection (1-based).
    pub depth: u32,
    /// Method.
    pub method: Option<String>,
    /// `Host` header.
    pub host: Option<String>,
    /// Request target.
    pub uri: Option<String>,
    /// `Referer`.
    pub referrer: Option<String>,
    /// Request version (`1.1`).
    pub version: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// `Origin`.
    pub origin: Option<String>,
    /// Request body bytes.
    pub request_body_len: u64,
    /// Response body bytes.
    pub response_body_len: u64,
    /// Status code.
    pub status_code: Option<u16>,
    /// Reason phrase.
    pub status_msg: Option<String>,
    /// Request `Content-Type`.
    pub orig_mime: Option<String>,
    /// Response `Content-Type`.
    pub resp_mime: Option<String>,
    /// Client names (user, domain, workstation) of an NTLM AUTHENTICATE message sent
    /// in the request's `Authorization: NTLM …` or `Negotiate …` header.
    pub ntlm: Option<(Option<String>, Option<String>, Option<String>)>,
    head: bool,
}

/// The NTLM AUTHENTICATE message carried in an `Authorization` header (`NTLM <base64>`,
/// or `Negotiate <base64>` when the token is raw NTLMSSP rather than SPNEGO/Kerberos).
fn ntlm_auth(
    h: &[httparse::Header<'_>],
) -> Option<(Option<String>, Option<String>, Option<String>)> {
    let v = header(h, "authorization")?.trim();
    let (scheme, token) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("ntlm") && !scheme.eq_ignore_ascii_case("negotiate") {
        return None;
    }
    let blob = base64_decode(token.trim())?;
    crate::pcap::smb::ntlm_authenticate_blob(&blob)
}

/// Standard base64 (padding optional); `None` on any other byte. Bounded by the header.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Headers,
    Body(u64),
    Chunked(Chunk),
    UntilClose,
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailer,
}

/// One connection's HTTP state.
#[derive(Debug)]
pub struct Conversation {
    buf: [Vec<u8>; 2],
    mode: [Mode; 2],
    pending: VecDeque<Tx>,
    /// The transaction whose response is being read.
    current: Option<Tx>,
    /// Finished transactions, for the flow meter to emit.
    pub done: Vec<Tx>,
    depth: u32,
    /// Header blocks that did not parse.
    pub errors: u32,
    /// A `CONNECT` was accepted: the connection now carries a tunnel.
    pub tunnel: bool,
}

impl Default for Conversation {
    fn default() -> Self {
        Conversation {
            buf: [Vec::new(), Vec::new()],
            mode: [Mode::Headers, Mode::Headers],
            pending: VecDeque::new(),
            current: None,
            done: Vec::new(),
            depth: 0,
            errors: 0,
            tunnel: false,
        }
    }
}

const METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"CONNECT ",
    b"PATCH ",
    b"TRACE ",
    b"PROPFIND ",
];

/// Whether `b` starts like an HTTP request.
pub fn looks_like_request(b: &[u8]) -> bool {
    METHODS.iter().any(|m| b.starts_with(m))
}

fn header<'a>(h: &'a [httparse::Header<'a>], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|x| x.name.eq_ignore_ascii_case(name))
        .and_then(|x| std::str::from_utf8(x.value).ok())
}

fn mime(h: &[httparse::Header<'_>]) -> Option<String> {
    header(h, "content-type")
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
}

/// A header block read leniently: its length (0: incomplete), its first line, and its
/// `Name: value` lines (lines without a colon are ignored). `None` when it is too long.
#[allow(clippy::type_complexity)]
fn lenient_block(buf: &[u8]) -> Option<(usize, &[u8], impl Iterator<Item = httparse::Header<'_>>)> {
    let end = memchr::memmem::find(buf, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| memchr::memmem::find(buf, b"\n\n").map(|i| i + 2));
    let Some(end) = end else {
        return if buf.len() > MAX_HEADER {
            None
        } else {
            Some((0, &[][..], None.into_iter().flatten()))
        };
    };
    let block = &buf[..end];
    let mut lines = block.split(|b| *b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or(&[]);
    let headers = lines.filter_map(|l| {
        let colon = l.iter().position(|b| *b == b':')?;
        let name = std::str::from_utf8(&l[..colon]).ok()?.trim();
        let value = l[colon + 1..].trim_ascii();
        (!name.is_empty()).then_some(httparse::Header { name, value })
    });
    Some((end, first, Some(headers).into_iter().flatten()))
}

/// How a message's body is delimited.
fn body_mode(h: &[httparse::Header<'_>], until_close: bool) -> Mode {
    if header(h, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        return Mode::Chunked(Chunk::Size);
    }
    match header(h, "content-length").and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(0) => Mode::Headers,
        Some(n) => Mode::Body(n),
        None if until_close => Mode::UntilClose,
        None => Mode::Headers,
    }
}

impl Conversation {
    /// Feeds in-order bytes of one direction (0 = client, 1 = server) seen at `ts`.
    pub fn feed(&mut self, dir: usize, data: &[u8], ts: Timestamp) {
        if dir > 1 || self.mode[dir] == Mode::Stopped {
            return;
        }
        let mut data = data;
        // Fast path: body bytes with nothing buffered are only counted.
        if self.buf[dir].is_empty() {
            match self.mode[dir] {
                Mode::Body(left) => {
                    let take = (data.len() as u64).min(left);
                    self.count_body(dir, take);
                    data = &data[take as usize..];
                    if take == left {
                        self.mode[dir] = Mode::Headers;
                        self.body_done(dir);
                    } else {
                        self.mode[dir] = Mode::Body(left - take);
                        return;
                    }
                }
                Mode::UntilClose => {
                    self.count_body(dir, data.len() as u64);
                    return;
                }
                _ => {}
            }
        }
        if data.is_empty() && self.buf[dir].is_empty() {
            return;
        }
        self.buf[dir].extend_from_slice(data);
        let buf = std::mem::take(&mut self.buf[dir]);
        let mut at = 0;
        while at < buf.len() {
            let rest = &buf[at..];
            match self.mode[dir] {
                Mode::Stopped => {
                    at = buf.len();
                }
                Mode::Headers => {
                    let used = if dir == 0 { self.request(rest, ts) } else { self.response(rest) };
                    match used {
                        Some(0) => break,
                        Some(n) => at += n,
                        None => {
                            self.errors += 1;
                            self.mode[dir] = Mode::Stopped;
                            at = buf.len();
                        }
                    }
                }
                Mode::Body(left) => {
                    let take = (rest.len() as u64).min(left);
                    self.count_body(dir, take);
                    at += take as usize;
                    if take == left {
                        self.mode[dir] = Mode::Headers;
                        self.body_done(dir);
                    } else {
                        self.mode[dir] = Mode::Body(left - take);
                    }
                }
                Mode::UntilClose => {
                    self.count_body(dir, rest.len() as u64);
                    at = buf.len();
                }
                Mode::Chunked(Chunk::Size | Chunk::Trailer) => {
                    let Some(nl) = rest.iter().position(|b| *b == b'\n') else {
                        if rest.len() > 1024 {
                            self.mode[dir] = Mode::Stopped;
                            at = buf.len();
                        }
                        break;
                    };
                    let text = String::from_utf8_lossy(&rest[..nl]);
                    let text = text.trim();
                    at += nl + 1;
                    if self.mode[dir] == Mode::Chunked(Chunk::Trailer) {
                        if text.is_empty() {
                            self.mode[dir] = Mode::Headers;
                            self.body_done(dir);
                        }
                        continue;
                    }
                    let size = text.split(';').next().unwrap_or("").trim();
                    self.mode[dir] = match u64::from_str_radix(size, 16) {
                        Ok(0) => Mode::Chunked(Chunk::Trailer),
                        Ok(n) => Mode::Chunked(Chunk::Data(n)),
                        Err(_) => {
                            self.errors += 1;
                            at = buf.len();
                            Mode::Stopped
                        }
                    };
                }
                Mode::Chunked(Chunk::Data(left)) => {
                    let take = (rest.len() as u64).min(left);
                    self.count_body(dir, take);
                    at += take as usize;
                    self.mode[dir] = if take == left {
                        Mode::Chunked(Chunk::DataEnd)
                    } else {
                        Mode::Chunked(Chunk::Data(left - take))
                    };
                }
                Mode::Chunked(Chunk::DataEnd) => {
                    // The CRLF after a chunk's data.
                    if rest[0] == b'\r' {
                        if rest.len() < 2 {
                            break;
                        }
                        at += 1;
                    }
                    if buf.get(at) == Some(&b'\n') {
                        at += 1;
                    }
                    self.mode[dir] = Mode::Chunked(Chunk::Size);
                }
            }
        }
        if at < buf.len() && self.mode[dir] != Mode::Stopped {
            if buf.len() - at > MAX_HEADER {
                self.mode[dir] = Mode::Stopped;
            } else {
                self.buf[dir] = buf[at..].to_vec();
            }
        }
    }

    /// A gap of `len` bytes in one direction (the sensor missed them).
    pub fn gap(&mut self, dir: usize, len: u64) {
        if dir > 1 {
            return;
        }
        match self.mode[dir] {
            Mode::Body(left) if len < left => {
                self.count_body(dir, len);
                self.mode[dir] = Mode::Body(left - len);
            }
            Mode::Body(left) => {
                self.count_body(dir, left);
                self.mode[dir] = Mode::Stopped;
                self.body_done(dir);
            }
            Mode::UntilClose => self.count_body(dir, len),
            _ => self.mode[dir] = Mode::Stopped,
        }
    }

    fn count_body(&mut self, dir: usize, n: u64) {
        if dir == 0 {
            if let Some(tx) = self.pending.back_mut() {
                tx.request_body_len += n;
            }
        } else if let Some(tx) = &mut self.current {
            tx.response_body_len += n;
        }
    }

    fn body_done(&mut self, dir: usize) {
        if dir == 1 {
            if let Some(tx) = self.current.take() {
                self.done.push(tx);
            }
        }
    }

    /// Parses a request header block; `Some(0)` when incomplete, `None` when broken.
    /// Requests `httparse` refuses (spaces or control bytes in the target, as exploit
    /// attempts send them; HTTP/0.9) are read leniently, line by line, as Zeek does.
    fn request(&mut self, buf: &[u8], ts: Timestamp) -> Option<usize> {
        let mut headers = [httparse::EMPTY_HEADER; 96];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Partial) => Some(0),
            Ok(httparse::Status::Complete(n)) => {
                let (method, path, version) = (
                    req.method.map(str::to_string),
                    req.path.map(str::to_string),
                    req.version.map(|v| format!("1.{v}")),
                );
                self.add_request(ts, method, path, version, req.headers);
                Some(n)
            }
            Err(_) => {
                let (n, line, mut lines) = lenient_block(buf)?;
                if n == 0 {
                    return Some(0);
                }
                let line = String::from_utf8_lossy(line);
                let (method, rest) = line.split_once(' ').unwrap_or((&line, ""));
                if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
                    return None;
                }
                let (uri, version) = match rest.rfind(" HTTP/") {
                    Some(i) => (&rest[..i], Some(rest[i + 6..].trim().to_string())),
                    None => (rest.trim_end(), None),
                };
                let hs: Vec<httparse::Header<'_>> = lines.by_ref().take(96).collect();
                self.add_request(ts, Some(method.to_string()), Some(uri.to_string()), version, &hs);
                Some(n)
            }
        }
    }

    fn add_request(
        &mut self,
        ts: Timestamp,
        method: Option<String>,
        uri: Option<String>,
        version: Option<String>,
        h: &[httparse::Header<'_>],
    ) {
        if self.pending.len() >= MAX_PENDING {
            self.mode[0] = Mode::Stopped;
            return;
        }
        self.depth += 1;
        let tx = Tx {
            ts,
            depth: self.depth,
            head: method.as_deref() == Some("HEAD"),
            method,
            host: header(h, "host").map(str::to_string),
            uri,
            referrer: header(h, "referer").map(str::to_string),
            version,
            user_agent: header(h, "user-agent").map(str::to_string),
            origin: header(h, "origin").map(str::to_string),
            orig_mime: mime(h),
            ntlm: ntlm_auth(h),
            ..Tx::default()
        };
        self.mode[0] = body_mode(h, false);
        self.pending.push_back(tx);
    }

    /// Parses a response header block.
    fn response(&mut self, buf: &[u8]) -> Option<usize> {
        let mut headers = [httparse::EMPTY_HEADER; 96];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(buf) {
            Ok(httparse::Status::Partial) => Some(0),
            Ok(httparse::Status::Complete(n)) => {
                let code = resp.code.unwrap_or(0);
                if (100..200).contains(&code) {
                    // Interim response: the final one is still to come.
                    return Some(n);
                }
                if let Some(prev) = self.current.take() {
                    self.done.push(prev);
                }
                let mut tx = self.pending.pop_front().unwrap_or_default();
                tx.status_code = resp.code;
                tx.status_msg = resp.reason.filter(|r| !r.is_empty()).map(str::to_string);
                let h = &*resp.headers;
                tx.resp_mime = mime(h);
                if tx.method.as_deref() == Some("CONNECT") && (200..300).contains(&code) {
                    self.tunnel = true;
                    self.mode = [Mode::Stopped, Mode::Stopped];
                    self.done.push(tx);
                    return Some(n);
                }
                let no_body = tx.head || code == 204 || code == 304;
                self.mode[1] = if no_body { Mode::Headers } else { body_mode(h, true) };
                if self.mode[1] == Mode::Headers {
                    self.done.push(tx);
                } else {
                    self.current = Some(tx);
                }
                Some(n)
            }
            Err(_) => None,
        }
    }

    /// The connection ended: everything pending is finished as it stands.
    pub fn close(&mut self) {
        if let Some(tx) = self.current.take() {
            self.done.push(tx);
        }
        self.done.extend(self.pending.drain(..));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64_decode("Zm9vYg").unwrap(), b"foob");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("Zm9v!"), None);
    }

    #[test]
    fn keep_alive_with_lengths_and_chunks() {
        let mut c = Conversation::default();
        let t = Timestamp::from_secs(1);
        c.feed(0, b"GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\n\r\nPOST /b HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhel", t);
        c.feed(0, b"lo", t);
        c.feed(1, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/html; charset=utf-8\r\n\r\nabc", t);
        c.feed(1, b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n", t);
        c.feed(1, b"2;x=y\r\nab\r\n0\r\n\r\n", t);
        assert_eq!(c.done.len(), 2, "{:?}", c.done);
        let (a, b) = (&c.done[0], &c.done[1]);
        assert_eq!(
            (a.method.as_deref(), a.uri.as_deref(), a.status_code),
            (Some("GET"), Some("/a"), Some(200))
        );
        assert_eq!(a.user_agent.as_deref(), Some("curl/8.0"));
        assert_eq!(a.response_body_len, 3);
        assert_eq!(a.resp_mime.as_deref(), Some("text/html"));
        assert_eq!((b.request_body_len, b.response_body_len, b.status_code), (5, 6, Some(201)));
        assert_eq!(b.depth, 2);
    }

    #[test]
    fn until_close_and_unanswered() {
        let mut c = Conversation::default();
        let t = Timestamp::from_secs(1);
        c.feed(0, b"GET / HTTP/1.0\r\n\r\n", t);
        c.feed(1, b"HTTP/1.0 200 OK\r\n\r\n0123456789", t);
        c.gap(1, 100);
        c.feed(0, b"GET /next HTTP/1.0\r\n\r\n", t);
        c.close();
        assert_eq!(c.done.len(), 2);
        assert_eq!(c.done[0].response_body_len, 110);
        assert_eq!(c.done[1].status_code, None);
    }

    #[test]
    fn exploit_requests_are_read_leniently() {
        let mut c = Conversation::default();
        let t = Timestamp::from_secs(1);
        c.feed(0, b"GET /cgi-bin/handler/netsonar;cat /etc/passwd|?data=Download HTTP/1.0\r\nHost: 10.0.0.1\r\nUser-Agent: x\r\n\r\n", t);
        c.feed(0, b"GET /\r\n\r\n", t);
        c.close();
        assert_eq!(c.done.len(), 2, "{:?}", c.done);
        assert_eq!(
            c.done[0].uri.as_deref(),
            Some("/cgi-bin/handler/netsonar;cat /etc/passwd|?data=Download")
        );
        assert_eq!(c.done[0].host.as_deref(), Some("10.0.0.1"));
        assert_eq!(c.done[0].version.as_deref(), Some("1.0"));
        assert_eq!(c.done[1].uri.as_deref(), Some("/"));
    }

    #[test]
    fn connect_opens_a_tunnel() {
        let mut c = Conversation::default();
        let t = Timestamp::from_secs(1);
        c.feed(0, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", t);
        c.feed(1, b"HTTP/1.1 200 Connection established\r\n\r\n", t);
        assert!(c.tunnel);
        assert_eq!(c.done.len(), 1);
    }

    #[test]
    fn garbage_stops_quietly() {
        let mut c = Conversation::default();
        c.feed(0, b"\x00\x01\x02 not http\r\n\r\n", Timestamp::from_secs(1));
        c.feed(0, b"GET / HTTP/1.1\r\n\r\n", Timestamp::from_secs(1));
        c.close();
        assert!(c.done.is_empty());
        assert_eq!(c.errors, 1);
    }
}
