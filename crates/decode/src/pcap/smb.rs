//! SMB and DCE/RPC, as much as lateral-movement detection needs: SMB2 tree connects
//! (which share), creates, writes and closes (which file was written, how much), and the
//! DCE/RPC binds and requests carried in named pipes over SMB2 and SMB1 or straight over
//! TCP (which interface, which operation) — what Zeek writes to `smb_mapping.log`,
//! `smb_files.log` and `dce_rpc.log` — and the NTLM authentication inside SMB session
//! setups (who logged on from which workstation to which server, and whether it
//! worked) — what Zeek writes to `ntlm.log`.
//!
//! Bounded: at most [`MAX_BUFFER`] bytes buffered per direction, at most 64 open files
//! and 64 trees per connection, names of at most 512 characters. Whatever does not
//! parse stops that direction; nothing panics.

use std::collections::HashMap;

/// Most bytes buffered per direction.
pub const MAX_BUFFER: usize = 256 * 1024;

/// What the parser saw, for the flow meter to turn into events.
#[derive(Clone, Debug, PartialEq)]
pub enum Seen {
    /// A tree connect to a share (`\\host\share`).
    Mapping {
        /// The share path.
        path: String,
    },
    /// A file written (or created for writing) on a share, with the bytes written.
    File {
        /// The share path.
        path: String,
        /// The file name.
        name: String,
        /// Bytes written.
        size: u64,
        /// Zeek-style action (`SMB::FILE_WRITE`, `SMB::FILE_OPEN`).
        action: &'static str,
    },
    /// An NTLM authentication (session setup), once its outcome is known.
    Ntlm {
        /// User name of the AUTHENTICATE message.
        username: Option<String>,
        /// Domain of the AUTHENTICATE message.
        domain: Option<String>,
        /// Client workstation of the AUTHENTICATE message.
        hostname: Option<String>,
        /// Server NetBIOS computer name (CHALLENGE target info).
        server_nb: Option<String>,
        /// Server DNS computer name.
        server_dns: Option<String>,
        /// Server DNS tree (forest) name.
        server_tree: Option<String>,
        /// Whether the session setup succeeded; `None` when no response was seen.
        success: Option<bool>,
    },
    /// A DCE/RPC request.
    Rpc {
        /// The named pipe, if over SMB.
        pipe: Option<String>,
        /// Interface name (Zeek's) or UUID.
        endpoint: String,
        /// Operation name or `opnum N`.
        operation: String,
    },
}

#[derive(Debug, Default)]
struct OpenFile {
    name: String,
    pipe: bool,
    tree: u32,
    written: u64,
    write_access: bool,
    /// DCE/RPC presentation contexts bound on this pipe: context id → interface.
    contexts: HashMap<u16, String>,
    rpc: Vec<u8>,
}

/// One connection's SMB state.
#[derive(Debug, Default)]
pub struct Smb {
    buf: [Vec<u8>; 2],
    stopped: [bool; 2],
    /// Bytes of a message whose start was read but whose rest the capture left out.
    skip: [u64; 2],
    trees: HashMap<u32, String>,
    /// Tree connects awaiting their response: message id → path.
    pending_trees: HashMap<u64, String>,
    /// Creates awaiting their response: message id → (tree, name, write access).
    pending_creates: HashMap<u64, (u32, String, bool)>,
    files: HashMap<[u8; 16], OpenFile>,
    /// SMB1 and unframed DCE/RPC: contexts bound on the connection.
    contexts: HashMap<u16, String>,
    /// NTLM in progress: the server's names from its CHALLENGE and the client's
    /// AUTHENTICATE, until the session-setup response tells the outcome.
    ntlm: Option<NtlmAuth>,
    /// What was seen, for the caller to drain.
    pub seen: Vec<Seen>,
}

#[derive(Debug, Default, Clone)]
struct NtlmAuth {
    server: (Option<String>, Option<String>, Option<String>),
    client: Option<(Option<String>, Option<String>, Option<String>)>,
}

/// The NTLMSSP message inside a security blob (SPNEGO or raw): (type, message bytes).
fn ntlmssp(blob: &[u8]) -> Option<(u32, &[u8])> {
    let at = memchr::memmem::find(blob, b"NTLMSSP\0")?;
    let m = &blob[at..];
    Some((le32(m, 8)?, m))
}

/// A (length, allocated, offset) string field of an NTLMSSP message.
fn ntlm_field(m: &[u8], at: usize, unicode: bool) -> Option<String> {
    let (len, off) = (usize::from(le16(m, at)?), le32(m, at + 4)? as usize);
    if len == 0 || len > 512 {
        return None;
    }
    let b = m.get(off..off + len)?;
    let s = if unicode { utf16(b) } else { String::from_utf8_lossy(b).into_owned() };
    Some(s).filter(|s| !s.is_empty())
}

/// Server names from a CHALLENGE's target info (AV pairs).
fn ntlm_challenge(m: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    let (mut nb, mut dns, mut tree) = (None, None, None);
    let (Some(len), Some(off)) = (le16(m, 40), le32(m, 44)) else { return (nb, dns, tree) };
    let Some(info) = m.get(off as usize..off as usize + usize::from(len)) else {
        return (nb, dns, tree);
    };
    let mut at = 0;
    for _ in 0..32 {
        let (Some(id), Some(l)) = (le16(info, at), le16(info, at + 2)) else { break };
        let Some(v) = info.get(at + 4..at + 4 + usize::from(l)) else { break };
        match id {
            0 => break,
            1 => nb = Some(utf16(v)),
            3 => dns = Some(utf16(v)),
            5 => tree = Some(utf16(v)),
            _ => {}
        }
        at += 4 + usize::from(l);
    }
    (nb, dns, tree)
}

/// Client names of an NTLMSSP blob if it is an AUTHENTICATE message (type 3): (user,
/// domain, workstation). For NTLM carried outside SMB (HTTP `Authorization`).
pub(crate) fn ntlm_authenticate_blob(
    blob: &[u8],
) -> Option<(Option<String>, Option<String>, Option<String>)> {
    let (kind, m) = ntlmssp(blob)?;
    (kind == 3).then(|| ntlm_authenticate(m))
}

/// Client names from an AUTHENTICATE message: (user, domain, workstation).
fn ntlm_authenticate(m: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    let flags = le32(m, 60).unwrap_or(1);
    let unicode = flags & 1 != 0;
    (ntlm_field(m, 36, unicode), ntlm_field(m, 28, unicode), ntlm_field(m, 44, unicode))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    let mut a = [0u8; 8];
    a.copy_from_slice(b.get(at..at + 8)?);
    Some(u64::from_le_bytes(a))
}

fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> =
        b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take(512).collect();
    String::from_utf16_lossy(&units).trim_end_matches('\0').to_string()
}

/// Whether `b` starts like an SMB session (NetBIOS framing, SMB1 or SMB2 header).
pub fn looks_like_smb(b: &[u8]) -> bool {
    b.len() >= 8 && b[0] == 0 && (b[4..8] == *b"\xffSMB" || b[4..8] == *b"\xfeSMB")
}

/// Whether `b` starts like a connection-oriented DCE/RPC PDU (version 5.0 or 5.1, a
/// bind, alter-context or request, little-endian ASCII data representation).
pub fn looks_like_dcerpc(b: &[u8]) -> bool {
    b.len() >= 16 && b[0] == 5 && b[1] <= 1 && matches!(b[2], 0 | 11 | 14) && b[4] == 0x10
}

impl Smb {
    /// Feeds in-order bytes of one direction (0 = client, 1 = server) of an SMB
    /// session on TCP 445/139.
    pub fn feed(&mut self, dir: usize, data: &[u8]) {
        self.feed_cut(dir, data, 0);
    }

    /// Feeds in-order bytes of one direction followed by `missing` bytes the capture
    /// left out (a snap length): a message whose headers were captured is read from
    /// them (a write's length is in its header), and the stream stays in step as long as
    /// what is missing lies inside that message.
    pub fn feed_cut(&mut self, dir: usize, mut data: &[u8], missing: u64) {
        if dir > 1 || self.stopped[dir] {
            return;
        }
        if self.skip[dir] > 0 {
            let k = self.skip[dir].min(data.len() as u64) as usize;
            data = &data[k..];
            self.skip[dir] -= k as u64;
            if self.skip[dir] > 0 {
                self.skip_missing(dir, missing);
                return;
            }
        }
        if self.buf[dir].len() + data.len() > MAX_BUFFER {
            self.stopped[dir] = true;
            self.buf[dir].clear();
            return;
        }
        self.buf[dir].extend_from_slice(data);
        let buf = std::mem::take(&mut self.buf[dir]);
        let mut at = 0;
        while let Some(hdr) = buf.get(at..at + 4) {
            let len =
                (usize::from(hdr[1]) << 16) | (usize::from(hdr[2]) << 8) | usize::from(hdr[3]);
            if hdr[0] != 0 {
                // Session request and keep-alive messages of NetBIOS.
                if matches!(hdr[0], 0x81 | 0x82 | 0x85) && buf.len() >= at + 4 + len {
                    at += 4 + len;
                    continue;
                }
                self.stopped[dir] = true;
                break;
            }
            if buf.len() < at + 4 + len {
                if missing > 0 {
                    // The rest of this message is not in the capture: read what is.
                    let msg = &buf[at + 4..];
                    match msg.get(..4) {
                        Some(b"\xfeSMB") => self.smb2(dir, msg),
                        Some(b"\xffSMB") => self.smb1(dir, msg),
                        _ => {}
                    }
                    self.skip[dir] = (at + 4 + len - buf.len()) as u64;
                    self.skip_missing(dir, missing);
                    return;
                }
                break;
            }
            let msg = &buf[at + 4..at + 4 + len];
            match msg.get(..4) {
                Some(b"\xfeSMB") => self.smb2(dir, msg),
                Some(b"\xffSMB") => self.smb1(dir, msg),
                _ => {}
            }
            at += 4 + len;
        }
        if at < buf.len() && !self.stopped[dir] {
            self.buf[dir] = buf[at..].to_vec();
        }
        if missing > 0 {
            // Bytes lost between messages: where the next one starts is unknown.
            self.stopped[dir] = true;
            self.buf[dir].clear();
        }
    }

    fn skip_missing(&mut self, dir: usize, missing: u64) {
        if missing > self.skip[dir] {
            self.stopped[dir] = true;
            self.skip[dir] = 0;
        } else {
            self.skip[dir] -= missing;
        }
    }

    /// One step of a session setup: the security blob of a request or response and,
    /// for a response, its NT status.
    fn session_setup(&mut self, response: bool, status: u32, blob: &[u8]) {
        match ntlmssp(blob) {
            Some((2, m)) => {
                self.ntlm.get_or_insert_with(NtlmAuth::default).server = ntlm_challenge(m);
            }
            Some((3, m)) => {
                self.ntlm.get_or_insert_with(NtlmAuth::default).client = Some(ntlm_authenticate(m));
            }
            _ => {}
        }
        // STATUS_MORE_PROCESSING_REQUIRED continues the exchange; anything else ends it.
        if response && status != 0xC000_0016 {
            self.end_ntlm(Some(status == 0));
        }
    }

    /// One SMB2 message and the ones compounded after it.
    fn smb2(&mut self, dir: usize, mut msg: &[u8]) {
        for _ in 0..16 {
            let (Some(cmd), Some(flags), Some(next), Some(mid), Some(tree)) =
                (le16(msg, 12), le32(msg, 16), le32(msg, 20), le64(msg, 24), le32(msg, 36))
            else {
                return;
            };
            let response = flags & 1 != 0;
            let end = if next == 0 { msg.len() } else { (next as usize).min(msg.len()) };
            let one = &msg[..end];
            let body = one.get(64..).unwrap_or(&[]);
            if cmd == 1 {
                let status = le32(one, 8).unwrap_or(0);
                let blob = match (
                    le16(body, if response { 4 } else { 12 }),
                    le16(body, if response { 6 } else { 14 }),
                ) {
                    (Some(off), Some(len)) => one
                        .get(usize::from(off)..usize::from(off) + usize::from(len))
                        .unwrap_or(&[]),
                    _ => &[],
                };
                self.session_setup(response, status, blob);
            }
            match (cmd, response) {
                // TREE_CONNECT.
                (3, false) => {
                    if let (Some(off), Some(len)) = (le16(body, 4), le16(body, 6)) {
                        if let Some(p) =
                            one.get(usize::from(off)..usize::from(off) + usize::from(len))
                        {
                            let path = utf16(p);
                            self.seen.push(Seen::Mapping { path: path.clone() });
                            if self.pending_trees.len() < 64 {
                                self.pending_trees.insert(mid, path);
                            }
                        }
                    }
                }
                (3, true) => {
                    if let Some(path) = self.pending_trees.remove(&mid) {
                        if self.trees.len() < 64 {
                            self.trees.insert(tree, path);
                        }
                    }
                }
                // CREATE.
                (5, false) => {
                    let access = le32(body, 24).unwrap_or(0);
                    // FILE_WRITE_DATA, FILE_APPEND_DATA, GENERIC_WRITE, GENERIC_ALL, MAXIMUM_ALLOWED.
                    let write = access & (0x2 | 0x4 | 0x4000_0000 | 0x1000_0000 | 0x0200_0000) != 0;
                    if let (Some(off), Some(len)) = (le16(body, 44), le16(body, 46)) {
                        if let Some(n) =
                            one.get(usize::from(off)..usize::from(off) + usize::from(len))
                        {
                            if self.pending_creates.len() < 64 {
                                self.pending_creates.insert(mid, (tree, utf16(n), write));
                            }
                        }
                    }
                }
                (5, true) => {
                    if let (Some((tree, name, write)), Some(fid)) =
                        (self.pending_creates.remove(&mid), body.get(64..80))
                    {
                        if self.files.len() < 64 {
                            let mut id = [0u8; 16];
                            id.copy_from_slice(fid);
                            self.files.insert(
                                id,
                                OpenFile { name, tree, write_access: write, ..OpenFile::default() },
                            );
                        }
                    }
                }
                // WRITE: data to a file or a pipe.
                (9, false) => {
                    let (Some(off), Some(len)) = (le16(body, 2), le32(body, 4)) else { break };
                    let Some(fid) = body.get(16..32) else { break };
                    let mut id = [0u8; 16];
                    id.copy_from_slice(fid);
                    let data = one
                        .get(usize::from(off)..)
                        .map(|d| &d[..d.len().min(len as usize)])
                        .unwrap_or(&[]);
                    self.file_data(&id, data, u64::from(len));
                }
                // IOCTL: FSCTL_PIPE_TRANSCEIVE carries a DCE/RPC request.
                (11, false) => {
                    let (Some(code), Some(off), Some(len)) =
                        (le32(body, 4), le32(body, 24), le32(body, 28))
                    else {
                        break;
                    };
                    if code == 0x0011_c017 {
                        let mut id = [0u8; 16];
                        if let Some(fid) = body.get(8..24) {
                            id.copy_from_slice(fid);
                        }
                        let data = one
                            .get(off as usize..)
                            .map(|d| &d[..d.len().min(len as usize)])
                            .unwrap_or(&[]);
                        self.file_data(&id, data, 0);
                    }
                }
                // CLOSE: a file written is reported with its size.
                (6, false) => {
                    if let Some(fid) = body.get(8..24) {
                        let mut id = [0u8; 16];
                        id.copy_from_slice(fid);
                        if let Some(f) = self.files.remove(&id) {
                            self.report_file(f);
                        }
                    }
                }
                _ => {}
            }
            let _ = dir;
            if next == 0 || next as usize >= msg.len() {
                break;
            }
            msg = &msg[next as usize..];
        }
    }

    fn file_data(&mut self, id: &[u8; 16], data: &[u8], len: u64) {
        let on_ipc = self.files.get(id).is_some_and(|f| {
            f.pipe
                || self.trees.get(&f.tree).is_some_and(|t| t.to_ascii_uppercase().ends_with("IPC$"))
        });
        // A write that is a DCE/RPC PDU makes the file a pipe (its tree connect may have
        // come before the capture began).
        if on_ipc || looks_like_dcerpc(data) {
            let (name, mut contexts, mut rpc) = match self.files.get_mut(id) {
                Some(f) => {
                    f.pipe = true;
                    (
                        Some(f.name.clone()),
                        std::mem::take(&mut f.contexts),
                        std::mem::take(&mut f.rpc),
                    )
                }
                None => (None, std::mem::take(&mut self.contexts), Vec::new()),
            };
            if rpc.len() + data.len() <= MAX_BUFFER {
                rpc.extend_from_slice(data);
            }
            let used = dcerpc(&rpc, &mut contexts, name.as_deref(), &mut self.seen, false);
            rpc.drain(..used.min(rpc.len()));
            match self.files.get_mut(id) {
                Some(f) => {
                    f.contexts = contexts;
                    f.rpc = rpc;
                }
                None => self.contexts = contexts,
            }
            return;
        }
        if let Some(f) = self.files.get_mut(id) {
            f.written += len;
        }
    }

    fn report_file(&mut self, f: OpenFile) {
        let path = self.trees.get(&f.tree).cloned().unwrap_or_default();
        if f.pipe || path.to_ascii_uppercase().ends_with("IPC$") {
            return;
        }
        if f.written > 0 || f.write_access {
            self.seen.push(Seen::File {
                path,
                name: f.name,
                size: f.written,
                action: if f.written > 0 { "SMB::FILE_WRITE" } else { "SMB::FILE_OPEN" },
            });
        }
    }

    /// One SMB1 message: tree connects, creates, writes and closes (the AndX chain's first
    /// command), and any DCE/RPC PDU it carries (pipe transactions).
    fn smb1(&mut self, dir: usize, msg: &[u8]) {
        let (Some(&cmd), Some(flags), Some(flags2), Some(tid), Some(mid)) =
            (msg.get(4), msg.get(9), le16(msg, 10), le16(msg, 24), le16(msg, 30))
        else {
            return;
        };
        let response = flags & 0x80 != 0;
        let unicode = flags2 & 0x8000 != 0;
        if cmd == 0x73 {
            // SESSION_SETUP_ANDX with extended security: the blob carries NTLMSSP.
            let status = le32(msg, 5).unwrap_or(0);
            self.session_setup(response, status, msg.get(32..).unwrap_or(&[]));
        }
        let wc = usize::from(*msg.get(32).unwrap_or(&0));
        let words = msg.get(33..33 + 2 * wc).unwrap_or(&[]);
        let bytes_at = 33 + 2 * wc + 2;
        let text = |at: usize| -> String {
            let raw = msg.get(at..).unwrap_or(&[]);
            if unicode {
                // Unicode strings are aligned on two bytes from the header.
                let raw = if at % 2 == 1 { raw.get(1..).unwrap_or(&[]) } else { raw };
                let end =
                    raw.chunks_exact(2).position(|c| c == [0, 0]).map_or(raw.len(), |i| i * 2);
                utf16(&raw[..end])
            } else {
                let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
                String::from_utf8_lossy(&raw[..end.min(512)]).into_owned()
            }
        };
        let fid = |w: &[u8], at: usize| -> Option<[u8; 16]> {
            let f = le16(w, at)?;
            let mut id = [0xffu8; 16];
            id[..2].copy_from_slice(&f.to_le_bytes());
            Some(id)
        };
        let key = u64::from(mid) | (u64::from(tid) << 16) | (1 << 40);
        match (cmd, response) {
            // TREE_CONNECT_ANDX: password, then the path.
            (0x75, false) => {
                let pw = usize::from(le16(words, 6).unwrap_or(0));
                let path = text(bytes_at + pw);
                if !path.is_empty() {
                    self.seen.push(Seen::Mapping { path: path.clone() });
                    if self.pending_trees.len() < 64 {
                        self.pending_trees.insert(u64::from(mid) | (1 << 40), path);
                    }
                }
            }
            (0x75, true) => {
                if let Some(path) = self.pending_trees.remove(&(u64::from(mid) | (1 << 40))) {
                    if self.trees.len() < 64 {
                        self.trees.insert(u32::from(tid), path);
                    }
                }
            }
            // NT_CREATE_ANDX: desired access and the name.
            (0xa2, false) => {
                let access = le32(words, 15).unwrap_or(0);
                let write = access & (0x2 | 0x4 | 0x4000_0000 | 0x1000_0000 | 0x0200_0000) != 0;
                let name = text(bytes_at).trim_start_matches('\\').to_string();
                if self.pending_creates.len() < 64 {
                    self.pending_creates.insert(key, (u32::from(tid), name, write));
                }
            }
            (0xa2, true) => {
                if let (Some((tree, name, write)), Some(id)) =
                    (self.pending_creates.remove(&key), fid(words, 5))
                {
                    if self.files.len() < 64 {
                        self.files.insert(
                            id,
                            OpenFile { name, tree, write_access: write, ..OpenFile::default() },
                        );
                    }
                }
            }
            // WRITE_ANDX: data at its offset from the header.
            (0x2f, false) => {
                let (Some(id), Some(len), Some(off)) =
                    (fid(words, 4), le16(words, 20), le16(words, 22))
                else {
                    return;
                };
                let data = msg
                    .get(usize::from(off)..)
                    .map(|d| &d[..d.len().min(usize::from(len))])
                    .unwrap_or(&[]);
                self.file_data(&id, data, u64::from(len));
            }
            // CLOSE.
            (0x04, false) => {
                if let Some(id) = fid(words, 0) {
                    if let Some(f) = self.files.remove(&id) {
                        self.report_file(f);
                    }
                }
            }
            // TRANSACTION (named-pipe transact) and anything else: DCE/RPC inside.
            _ if !response => self.scan_rpc(dir, msg, None),
            _ => {}
        }
    }

    /// DCE/RPC PDUs found anywhere in a message.
    fn scan_rpc(&mut self, _dir: usize, msg: &[u8], pipe: Option<&str>) {
        let mut contexts = std::mem::take(&mut self.contexts);
        let mut at = 0;
        while let Some(i) = find_pdu(&msg[at..]) {
            let start = at + i;
            let used = dcerpc(&msg[start..], &mut contexts, pipe, &mut self.seen, true);
            at = (start + used.max(1)).min(msg.len());
        }
        self.contexts = contexts;
    }

    /// Ends the NTLM exchange in progress: a logon is reported if the client
    /// authenticated, with `success` as the server answered (`None`: no answer).
    fn end_ntlm(&mut self, success: Option<bool>) {
        let Some(a) = self.ntlm.take() else { return };
        if let Some((username, domain, hostname)) = a.client {
            self.seen.push(Seen::Ntlm {
                username,
                domain,
                hostname,
                server_nb: a.server.0,
                server_dns: a.server.1,
                server_tree: a.server.2,
                success,
            });
        }
    }

    /// The connection ended: files still open are reported.
    pub fn close(&mut self) {
        // An AUTHENTICATE whose response never came: the outcome is unknown.
        self.end_ntlm(None);
        let files: Vec<OpenFile> = self.files.drain().map(|(_, f)| f).collect();
        for f in files {
            self.report_file(f);
        }
    }
}

/// Where a DCE/RPC PDU starts in `b`, if anywhere.
fn find_pdu(b: &[u8]) -> Option<usize> {
    (0..b.len().saturating_sub(15)).find(|&i| {
        looks_like_dcerpc(&b[i..]) && le16(b, i + 8).is_some_and(|l| usize::from(l) >= 16)
    })
}

/// DCE/RPC over TCP (port 135 and the dynamic endpoints): binds and requests in a
/// client's stream.
#[derive(Debug, Default)]
pub struct RpcStream {
    buf: Vec<u8>,
    contexts: HashMap<u16, String>,
    stopped: bool,
    /// Bytes of a request whose header was read but whose body the capture left out.
    skip: u64,
    /// What was seen.
    pub seen: Vec<Seen>,
}

impl RpcStream {
    /// Feeds in-order bytes from the client.
    pub fn feed(&mut self, data: &[u8]) {
        self.feed_cut(data, 0);
    }

    /// Feeds in-order bytes from the client followed by `missing` bytes the capture
    /// left out (a snap length): a request whose header was captured still names its
    /// operation, and the stream stays in step as long as what is missing lies inside
    /// that request.
    pub fn feed_cut(&mut self, mut data: &[u8], missing: u64) {
        if self.stopped {
            return;
        }
        if self.skip > 0 {
            let k = self.skip.min(data.len() as u64) as usize;
            data = &data[k..];
            self.skip -= k as u64;
            if self.skip > 0 {
                self.after_missing(missing);
                return;
            }
        }
        if self.buf.len() + data.len() > MAX_BUFFER {
            self.stopped = true;
            return;
        }
        self.buf.extend_from_slice(data);
        let used = dcerpc(&self.buf, &mut self.contexts, None, &mut self.seen, missing > 0);
        if used > self.buf.len() {
            self.skip = (used - self.buf.len()) as u64;
            self.buf.clear();
            self.after_missing(missing);
            return;
        }
        self.buf.drain(..used);
        if missing > 0 {
            // Bytes lost where no request was in progress: the PDU boundaries are gone.
            self.stopped = true;
            self.buf.clear();
            return;
        }
        // Whatever follows must be another PDU.
        if self.buf.len() >= 2 && (self.buf[0] != 5 || self.buf[1] > 1) {
            self.stopped = true;
            self.buf.clear();
        }
    }
}

impl RpcStream {
    fn after_missing(&mut self, missing: u64) {
        if missing > self.skip {
            self.stopped = true;
            self.skip = 0;
        } else {
            self.skip -= missing;
        }
    }
}

/// Parses consecutive DCE/RPC PDUs from the start of `b`; returns the bytes used (more
/// than `b.len()` when `allow_partial` took a request whose end is still to come).
fn dcerpc(
    b: &[u8],
    contexts: &mut HashMap<u16, String>,
    pipe: Option<&str>,
    seen: &mut Vec<Seen>,
    allow_partial: bool,
) -> usize {
    let mut at = 0;
    while let Some(h) = b.get(at..at + 16) {
        if h[0] != 5 || h[1] > 1 {
            break;
        }
        let frag = usize::from(u16::from_le_bytes([h[8], h[9]]));
        if frag < 16 {
            break;
        }
        // A request's header says all we need: take it even when the rest of a large
        // fragment is in another message.
        let partial = b.len() < at + frag;
        if partial && !(allow_partial && h[2] == 0 && b.len() >= at + 24) {
            break;
        }
        let pdu = &b[at..(at + frag).min(b.len())];
        match h[2] {
            // Bind and alter-context: the interfaces of each presentation context.
            11 | 14 => {
                let n = pdu.get(24).copied().unwrap_or(0);
                let mut p = 28;
                for _ in 0..n.min(16) {
                    let (Some(ctx), Some(ntrans)) = (le16(pdu, p), pdu.get(p + 2)) else { break };
                    if let Some(uuid) = pdu.get(p + 4..p + 20) {
                        if contexts.len() < 64 {
                            contexts.insert(ctx, uuid_string(uuid));
                        }
                    }
                    p += 24 + 20 * usize::from(*ntrans);
                }
            }
            // Request: the interface of its context and the operation number.
            0 => {
                if let (Some(ctx), Some(opnum)) = (le16(pdu, 20), le16(pdu, 22)) {
                    let uuid = contexts.get(&ctx).cloned().unwrap_or_default();
                    let (endpoint, operation) = name_of(&uuid, opnum);
                    // Fragments after the first repeat the call: one request per call.
                    if h[3] & 0x01 != 0 && seen.len() < 4096 {
                        seen.push(Seen::Rpc {
                            pipe: pipe.map(str::to_string),
                            endpoint: endpoint
                                .unwrap_or(if uuid.is_empty() { "unknown" } else { &uuid })
                                .to_string(),
                            operation,
                        });
                    }
                }
            }
            _ => {}
        }
        if partial {
            // The rest of this PDU is still to come (or was not captured).
            return at + frag;
        }
        at += frag;
    }
    at
}

fn uuid_string(u: &[u8]) -> String {
    // The first three fields are little-endian in the PDU.
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]
    )
}

/// Interfaces by UUID (Zeek's names) with the operations lateral movement and
/// credential theft use.
/// An interface: UUID, Zeek's name, and (opnum, operation) pairs.
type Interface = (&'static str, &'static str, &'static [(u16, &'static str)]);

const INTERFACES: &[Interface] = &[
    (
        "367abb81-9844-35f1-ad32-98f038001003",
        "svcctl",
        &[
            (12, "CreateServiceW"),
            (15, "OpenSCManagerW"),
            (16, "OpenServiceW"),
            (19, "StartServiceW"),
            (24, "CreateServiceA"),
            (27, "OpenSCManagerA"),
            (31, "StartServiceA"),
            (2, "DeleteService"),
            (0, "CloseServiceHandle"),
        ],
    ),
    (
        "1ff70682-0a51-30e8-076d-740be8cee98b",
        "atsvc",
        &[(0, "NetrJobAdd"), (1, "NetrJobDel"), (2, "NetrJobEnum")],
    ),
    (
        "86d35949-83c9-4044-b424-db363231fd0c",
        "ITaskSchedulerService",
        &[(1, "SchRpcRegisterTask"), (12, "SchRpcRun")],
    ),
    (
        "e3514235-4b06-11d1-ab04-00c04fc2dcd2",
        "drsuapi",
        &[
            (0, "DRSBind"),
            (1, "DRSUnbind"),
            (2, "DRSReplicaSync"),
            (3, "DRSGetNCChanges"),
            (12, "DRSCrackNames"),
        ],
    ),
    ("12345778-1234-abcd-ef00-0123456789ac", "samr", &[]),
    ("12345778-1234-abcd-ef00-0123456789ab", "lsarpc", &[]),
    (
        "12345678-1234-abcd-ef00-01234567cffb",
        "netlogon",
        &[
            (4, "NetrServerReqChallenge"),
            (15, "NetrServerAuthenticate2"),
            (26, "NetrServerAuthenticate3"),
            (30, "NetrServerPasswordSet2"),
        ],
    ),
    ("e1af8308-5d1f-11c9-91a4-08002b14a0fa", "epmapper", &[(3, "ept_map")]),
    ("338cd001-2244-31f1-aaaa-900038001003", "winreg", &[]),
    ("4b324fc8-1670-01d3-1278-5a47bf6ee188", "srvsvc", &[]),
    ("6bffd098-a112-3610-9833-46c3f87e345a", "wkssvc", &[]),
    ("4d9f4ab8-7d1c-11cf-861e-0020af6e7c57", "IActivation", &[]),
    ("000001a0-0000-0000-c000-000000000046", "IRemoteSCMActivator", &[]),
    (
        "9556dc99-828c-11cf-a37e-00aa003240c7",
        "IWbemServices",
        &[(24, "ExecMethod"), (25, "ExecMethodAsync")],
    ),
    ("f6beaff7-1e19-4fbb-9f8f-b89e2018337c", "IEventService", &[]),
];

/// Zeek's interface name and the operation of a request.
fn name_of(uuid: &str, opnum: u16) -> (Option<&'static str>, String) {
    match INTERFACES.iter().find(|(u, _, _)| *u == uuid) {
        Some((_, name, ops)) => {
            let op = ops
                .iter()
                .find(|(n, _)| *n == opnum)
                .map_or_else(|| format!("opnum {opnum}"), |(_, o)| o.to_string());
            (Some(name), op)
        }
        None => (None, format!("opnum {opnum}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uuid_bytes(s: &str) -> Vec<u8> {
        let h: Vec<u8> = s
            .split('-')
            .flat_map(|p| {
                (0..p.len()).step_by(2).map(move |i| u8::from_str_radix(&p[i..i + 2], 16).unwrap())
            })
            .collect();
        let mut v = vec![h[3], h[2], h[1], h[0], h[5], h[4], h[7], h[6]];
        v.extend(&h[8..16]);
        v
    }

    /// A bind of `uuid` as context 0, then a request of `opnum` on it.
    pub fn bind_and_request(uuid: &str, opnum: u16) -> Vec<u8> {
        let mut bind = vec![5, 0, 11, 3, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0];
        bind.extend([0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0]);
        bind.extend([0, 0, 1, 0]);
        bind.extend(uuid_bytes(uuid));
        bind.extend([2, 0, 0, 0]);
        bind.extend([
            0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10,
            0x48, 0x60, 2, 0, 0, 0,
        ]);
        let n = bind.len() as u16;
        bind[8..10].copy_from_slice(&n.to_le_bytes());
        let mut req = vec![5, 0, 0, 3, 0x10, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0];
        req.extend(opnum.to_le_bytes());
        req.extend([0u8; 8]);
        let n = req.len() as u16;
        req[8..10].copy_from_slice(&n.to_le_bytes());
        bind.extend(req);
        bind
    }

    #[test]
    fn rpc_over_tcp_names_interface_and_operation() {
        let mut s = RpcStream::default();
        let b = bind_and_request("367abb81-9844-35f1-ad32-98f038001003", 12);
        s.feed(&b[..30]);
        s.feed(&b[30..]);
        assert_eq!(
            s.seen,
            vec![Seen::Rpc {
                pipe: None,
                endpoint: "svcctl".into(),
                operation: "CreateServiceW".into()
            }]
        );
        let mut s = RpcStream::default();
        s.feed(&bind_and_request("e3514235-4b06-11d1-ab04-00c04fc2dcd2", 3));
        assert_eq!(
            s.seen,
            vec![Seen::Rpc {
                pipe: None,
                endpoint: "drsuapi".into(),
                operation: "DRSGetNCChanges".into()
            }]
        );
    }

    #[test]
    fn rpc_over_tcp_with_uncaptured_stubs() {
        // Two calls whose argument bytes a snap length left out: each request's header
        // names the operation, and the stream stays in step across the missing bytes.
        let b = bind_and_request("e3514235-4b06-11d1-ab04-00c04fc2dcd2", 3);
        let (bind, req) = b.split_at(usize::from(u16::from_le_bytes([b[8], b[9]])));
        let with_stub = |req: &[u8], stub: u16| {
            let mut r = req[..24].to_vec();
            r[8..10].copy_from_slice(&(24 + stub).to_le_bytes());
            r
        };
        let mut s = RpcStream::default();
        s.feed(bind);
        s.feed_cut(&with_stub(req, 3000), 1000);
        s.feed_cut(&[], 2000);
        let mut second = with_stub(req, 500);
        second[22..24].copy_from_slice(&12u16.to_le_bytes());
        s.feed_cut(&second, 500);
        let ops: Vec<_> = s
            .seen
            .iter()
            .map(|x| match x {
                Seen::Rpc { operation, .. } => operation.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(ops, ["DRSGetNCChanges", "DRSCrackNames"]);
        // Missing bytes beyond the request in progress: the boundaries are lost.
        s.feed_cut(&[], 10);
        s.feed(&with_stub(req, 0));
        assert_eq!(s.seen.len(), 2);
    }

    fn smb2(cmd: u16, response: bool, mid: u64, tree: u32, body: &[u8]) -> Vec<u8> {
        let mut h = b"\xfeSMB".to_vec();
        h.extend([64, 0, 0, 0, 0, 0, 0, 0]);
        h.extend(cmd.to_le_bytes());
        h.extend([1, 0]);
        h.extend(u32::from(response).to_le_bytes());
        h.extend(0u32.to_le_bytes());
        h.extend(mid.to_le_bytes());
        h.extend(0u32.to_le_bytes());
        h.extend(tree.to_le_bytes());
        h.extend([0u8; 24]);
        h.extend(body);
        let mut v = vec![0, 0, 0, 0];
        let n = h.len() as u32;
        v[1..4].copy_from_slice(&n.to_be_bytes()[1..]);
        v.extend(h);
        v
    }

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// A tree connect to `share` (tree 7) and a create of `name` for writing (file id
    /// `[9; 16]`), each with its response; returns the tree connect's body.
    fn open_for_write(s: &mut Smb, share: &str, name: &str) -> Vec<u8> {
        let path = utf16le(share);
        let mut tc = vec![9, 0, 0, 0];
        tc.extend(72u16.to_le_bytes());
        tc.extend((path.len() as u16).to_le_bytes());
        tc.extend(&path);
        s.feed(0, &smb2(3, false, 1, 0, &tc));
        s.feed(1, &smb2(3, true, 1, 7, &[16, 0, 1, 0, 0, 0, 0, 0]));
        let name = utf16le(name);
        let mut cr = vec![0u8; 56];
        cr[24..28].copy_from_slice(&0x0000_0002u32.to_le_bytes());
        cr[44..46].copy_from_slice(&120u16.to_le_bytes());
        cr[46..48].copy_from_slice(&(name.len() as u16).to_le_bytes());
        cr.extend(&name);
        s.feed(0, &smb2(5, false, 2, 7, &cr));
        let mut resp = vec![0u8; 88];
        resp[64..80].copy_from_slice(&[9u8; 16]);
        s.feed(1, &smb2(5, true, 2, 7, &resp));
        tc
    }

    #[test]
    fn smb2_admin_share_write_and_pipe_rpc() {
        let mut s = Smb::default();
        open_for_write(&mut s, "\\\\10.0.0.5\\ADMIN$", "payload.exe");
        let mut wr = vec![49, 0, 112, 0];
        wr.extend(4096u32.to_le_bytes());
        wr.extend([0u8; 8]);
        wr.extend([9u8; 16]);
        wr.extend([0u8; 16]);
        wr.extend(vec![0x4d; 64]);
        s.feed(0, &smb2(9, false, 3, 7, &wr));
        let mut close = vec![24, 0, 0, 0, 0, 0, 0, 0];
        close.extend([9u8; 16]);
        s.feed(0, &smb2(6, false, 4, 7, &close));
        assert_eq!(s.seen[0], Seen::Mapping { path: "\\\\10.0.0.5\\ADMIN$".into() });
        assert_eq!(
            s.seen[1],
            Seen::File {
                path: "\\\\10.0.0.5\\ADMIN$".into(),
                name: "payload.exe".into(),
                size: 4096,
                action: "SMB::FILE_WRITE"
            }
        );
    }

    #[test]
    fn smb2_write_whose_data_was_not_captured() {
        // A snap length kept each write's headers only: the size still comes from the
        // write's Length field, and the close after the missing bytes is still read.
        let mut s = Smb::default();
        let tc = open_for_write(&mut s, "\\\\10.0.0.5\\C$", "dump.dmp");
        for (i, n) in [(3u64, 70_000u32), (4, 70_000)] {
            let mut wr = vec![49, 0, 112, 0];
            wr.extend(n.to_le_bytes());
            wr.extend([0u8; 8]);
            wr.extend([9u8; 16]);
            wr.extend([0u8; 16]);
            wr.extend(vec![0x4d; n as usize]);
            let framed = smb2(9, false, i, 7, &wr);
            // Captured: NetBIOS, SMB2 header and the write's fixed part; the rest missing
            // in two pieces.
            s.feed_cut(0, &framed[..4 + 64 + 48], 1_000);
            s.feed_cut(0, &[], framed.len() as u64 - (4 + 64 + 48) - 1_000);
        }
        let mut close = vec![24, 0, 0, 0, 0, 0, 0, 0];
        close.extend([9u8; 16]);
        s.feed(0, &smb2(6, false, 5, 7, &close));
        assert!(
            s.seen
                .iter()
                .any(|x| matches!(x, Seen::File { name, size: 140_000, .. } if name == "dump.dmp")),
            "{:?}",
            s.seen
        );
        // Missing bytes where no message was in progress: that direction stops.
        s.feed_cut(0, &[], 10);
        s.feed(0, &smb2(3, false, 6, 0, &tc));
        assert_eq!(s.seen.iter().filter(|x| matches!(x, Seen::Mapping { .. })).count(), 1);
    }

    /// An AUTHENTICATE message with the given names (Unicode).
    fn ntlm_auth(user: &str, domain: &str, host: &str) -> Vec<u8> {
        let mut m = b"NTLMSSP\0".to_vec();
        m.extend(3u32.to_le_bytes());
        let fields = [(domain, 28usize), (user, 36), (host, 44)];
        m.resize(64, 0);
        m[60..64].copy_from_slice(&1u32.to_le_bytes()); // NEGOTIATE_UNICODE
        for (text, at) in fields {
            let b = utf16le(text);
            let off = m.len() as u32;
            m[at..at + 2].copy_from_slice(&(b.len() as u16).to_le_bytes());
            m[at + 2..at + 4].copy_from_slice(&(b.len() as u16).to_le_bytes());
            m[at + 4..at + 8].copy_from_slice(&off.to_le_bytes());
            m.extend(b);
        }
        m
    }

    fn session_setup(response: bool, status: u32, blob: &[u8]) -> Vec<u8> {
        let mut body = vec![0u8; 24];
        let (off_at, len_at) = if response { (4, 6) } else { (12, 14) };
        body[off_at..off_at + 2].copy_from_slice(&(64u16 + 24).to_le_bytes());
        body[len_at..len_at + 2].copy_from_slice(&(blob.len() as u16).to_le_bytes());
        body.extend(blob);
        let mut v = smb2(1, response, 2, 0, &body);
        v[4 + 8..4 + 12].copy_from_slice(&status.to_le_bytes());
        v
    }

    #[test]
    fn ntlm_logons_with_their_outcome() {
        let mut s = Smb::default();
        s.feed(0, &session_setup(false, 0, &ntlm_auth("alice", "CORP", "WS7")));
        assert!(s.seen.is_empty(), "no outcome yet");
        s.feed(1, &session_setup(true, 0xC000_006D, &[]));
        assert_eq!(
            s.seen,
            vec![Seen::Ntlm {
                username: Some("alice".into()),
                domain: Some("CORP".into()),
                hostname: Some("WS7".into()),
                server_nb: None,
                server_dns: None,
                server_tree: None,
                success: Some(false),
            }]
        );
        // Another attempt; the capture ends before the response.
        s.feed(0, &session_setup(false, 0, &ntlm_auth("bob", "CORP", "WS8")));
        s.close();
        assert!(
            matches!(&s.seen[1], Seen::Ntlm { success: None, username: Some(u), .. } if u == "bob")
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        let rpc = bind_and_request("367abb81-9844-35f1-ad32-98f038001003", 12);
        for cut in 0..rpc.len() {
            let mut s = RpcStream::default();
            s.feed(&rpc[..cut]);
            let mut m = Smb::default();
            let mut framed = vec![0, 0, 0, rpc.len() as u8];
            framed.extend(b"\xffSMB");
            framed.extend(&rpc[..cut]);
            m.feed(0, &framed);
            m.feed(1, &rpc[cut..]);
            m.close();
        }
    }
}
