//! Zeek TSV `conn.log` records read column by column, in file order.
//!
//! conn.log is the bulk of what a Zeek sensor writes (one record per connection, most
//! of all records on any network), so its well-formed records skip the general reader
//! (slot look-ups behind [`Get`](crate::value::Get)): when the `#fields` line is read,
//! each column gets the role it plays in a [`Conn`], and every data line is then one
//! split and one pass over its columns, calling the byte-level forms of the parsers
//! the general reader calls. In Zeek's own column order the pass is written out per
//! column, so no role is chosen at run time; other orders take a loop over the roles.
//!
//! Only records that need nothing special are taken here. A byte that is not ASCII or
//! an escape (`\x..`) anywhere in the line, a malformed field, a required field that is
//! unset, a short record: [`ConnPlan::decode`] returns `None` and the caller decodes the
//! line through the general path, which is the reference and does the anomaly
//! accounting. The tests `fast_conn_equals_general_path` (generated logs) and
//! `fast_conn_equals_general_path_on_shared_logs` hold the two to the same events.

use dwell_model::{Body, Conn, Event, Flow, Header, Proto, SourceRef, Text, Timestamp, Uid};

use super::{cut_columns, is_marker, MAX_COLS};
use crate::value::{
    parse_addr_bytes, parse_bool_bytes, parse_f64_bytes, parse_u64_bytes, parse_u64_in, Interner,
};

/// What a column of a conn.log is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Ts,
    Uid,
    OrigH,
    OrigP,
    RespH,
    RespP,
    Proto,
    CommunityId,
    Service,
    Duration,
    OrigBytes,
    RespBytes,
    ConnState,
    LocalOrig,
    LocalResp,
    MissedBytes,
    History,
    OrigPkts,
    OrigIpBytes,
    RespPkts,
    RespIpBytes,
    /// A column dwell does not model (`tunnel_parents`, a label) or a repeated name.
    Skip,
}

impl Role {
    fn of(name: &str) -> Role {
        match name {
            "ts" => Role::Ts,
            "uid" => Role::Uid,
            "id.orig_h" => Role::OrigH,
            "id.orig_p" => Role::OrigP,
            "id.resp_h" => Role::RespH,
            "id.resp_p" => Role::RespP,
            "proto" => Role::Proto,
            "community_id" => Role::CommunityId,
            "service" => Role::Service,
            "duration" => Role::Duration,
            "orig_bytes" => Role::OrigBytes,
            "resp_bytes" => Role::RespBytes,
            "conn_state" => Role::ConnState,
            "local_orig" => Role::LocalOrig,
            "local_resp" => Role::LocalResp,
            "missed_bytes" => Role::MissedBytes,
            "history" => Role::History,
            "orig_pkts" => Role::OrigPkts,
            "orig_ip_bytes" => Role::OrigIpBytes,
            "resp_pkts" => Role::RespPkts,
            "resp_ip_bytes" => Role::RespIpBytes,
            _ => Role::Skip,
        }
    }
}

/// The columns of a conn.log as Zeek writes them (up to `resp_ip_bytes`; the columns
/// after it are not read).
const STANDARD: [Role; 20] = [
    Role::Ts,
    Role::Uid,
    Role::OrigH,
    Role::OrigP,
    Role::RespH,
    Role::RespP,
    Role::Proto,
    Role::Service,
    Role::Duration,
    Role::OrigBytes,
    Role::RespBytes,
    Role::ConnState,
    Role::LocalOrig,
    Role::LocalResp,
    Role::MissedBytes,
    Role::History,
    Role::OrigPkts,
    Role::OrigIpBytes,
    Role::RespPkts,
    Role::RespIpBytes,
];

/// The roles of a conn.log's columns, fixed by its `#fields` line, and its markers.
#[derive(Clone, Debug)]
pub(super) struct ConnPlan {
    roles: Vec<Role>,
    /// The roles are [`STANDARD`].
    standard: bool,
    /// Columns `#fields` names: a record with fewer is short.
    columns: usize,
    sep: u8,
    unset: Box<[u8]>,
    empty: Box<[u8]>,
}

/// The header fields of one record and whether its required addresses were seen; the
/// body is filled in place, in the box the event will carry.
#[derive(Default)]
struct Head {
    ts: Option<Timestamp>,
    uid: Option<Uid>,
    community_id: Option<Text>,
    orig_h: bool,
    resp_h: bool,
}

/// Why a record is left to the general path; the value carries nothing.
struct General;

impl ConnPlan {
    /// The plan for a conn.log with these `#fields`, separator and markers. A name
    /// repeated in `#fields` counts at its first column, as in the general reader.
    ///
    /// `None` when the empty marker reads as a value (`#empty_field 0`): then
    /// every record of the log goes the general way.
    pub(super) fn new(fields: &[String], sep: u8, unset: &str, empty: &str) -> Option<Self> {
        let e = empty.as_bytes();
        if parse_u64_bytes(e).is_some()
            || parse_f64_bytes(e).is_some()
            || parse_bool_bytes(e).is_some()
            || parse_addr_bytes(e).is_some()
        {
            return None;
        }
        let mut roles: Vec<Role> = Vec::with_capacity(fields.len());
        for name in fields.iter().take(MAX_COLS) {
            let r = Role::of(name);
            roles.push(if r != Role::Skip && roles.contains(&r) { Role::Skip } else { r });
        }
        // Trailing columns nobody reads need not be visited.
        while roles.last() == Some(&Role::Skip) {
            roles.pop();
        }
        Some(ConnPlan {
            standard: roles == STANDARD,
            roles,
            columns: fields.len(),
            sep,
            unset: unset.as_bytes().into(),
            empty: e.into(),
        })
    }

    /// The event of the conn record `line` (a data line, not a header), or `None` when
    /// the record needs the general path. `cuts` is scratch space for column ends.
    pub(super) fn decode(
        &self,
        line: &[u8],
        cuts: &mut [u32; MAX_COLS],
        header: (dwell_model::FileId, u64),
        intern: &mut Interner,
    ) -> Option<Event> {
        // The split also tells whether the line is plain: a record that is not ASCII or
        // has an escape anywhere (rare in conn.log: Zeek escapes only odd bytes) goes
        // the general way, so no field below needs a UTF-8 check or an unescape.
        let (ncols, plain) = cut_columns::<true>(line, self.sep, cuts);
        if !plain {
            return None;
        }
        // A short record is an anomaly the general path reports.
        if ncols < self.columns {
            return None;
        }
        let unspecified = std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        let mut c = Box::new(Conn::new(Flow {
            orig_h: unspecified,
            orig_p: 0,
            resp_h: unspecified,
            resp_p: 0,
            proto: Proto::Other,
        }));
        let mut h = Head::default();
        self.fill(line, cuts.get(..ncols.min(MAX_COLS))?, &mut h, &mut c, intern).ok()?;
        if !(h.orig_h && h.resp_h) {
            return None;
        }
        let (file, record) = header;
        Some(Event {
            header: Header {
                ts: h.ts?,
                src: SourceRef { file, record },
                uid: h.uid,
                community_id: h.community_id,
            },
            body: Body::Conn(c),
        })
    }

    /// Parses the columns of an ASCII line without escapes.
    fn fill(
        &self,
        line: &[u8],
        cuts: &[u32],
        h: &mut Head,
        c: &mut Conn,
        intern: &mut Interner,
    ) -> Result<(), General> {
        if self.standard {
            if let Some(cuts) = cuts.first_chunk::<{ STANDARD.len() }>() {
                return self.fill_standard(line, cuts, h, c, intern);
            }
        }
        let mut next = 0usize;
        for (&role, &end) in self.roles.iter().zip(cuts) {
            let (start, end) = (next, end as usize);
            next = end + 1;
            self.field(role, line, start, end, h, c, intern)?;
        }
        Ok(())
    }

    /// [`fill`](Self::fill) for Zeek's own column order: the same code per column,
    /// written out once per column so that each column's role is a constant and the
    /// choice among roles disappears from the compiled code.
    fn fill_standard(
        &self,
        line: &[u8],
        cuts: &[u32; STANDARD.len()],
        h: &mut Head,
        c: &mut Conn,
        intern: &mut Interner,
    ) -> Result<(), General> {
        macro_rules! columns {
            ($($i:literal)*) => {$(
                let start = match $i { 0 => 0, _ => cuts[$i - 1] as usize + 1 };
                self.field(STANDARD[$i], line, start, cuts[$i] as usize, h, c, intern)?;
            )*};
        }
        columns!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19);
        Ok(())
    }

    /// Parses the column `line[start..end]` whose role is `role` into `h` or `c`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn field(
        &self,
        role: Role,
        line: &[u8],
        start: usize,
        end: usize,
        h: &mut Head,
        c: &mut Conn,
        intern: &mut Interner,
    ) -> Result<(), General> {
        let v = line.get(start..end).ok_or(General)?;
        if role == Role::Skip || is_marker(v, &self.unset) {
            // Unset: the field stays `None` (a required one sends the record to the
            // general path when the event is built).
            return Ok(());
        }
        // The empty marker is looked for only where it can matter: in texts, and
        // in scalars that do not parse (the plan exists only for markers that no
        // scalar parser accepts).
        let m = &*self.empty;
        match role {
            Role::Ts => h.ts = Some(Timestamp::parse_epoch_bytes(v).ok_or(General)?),
            Role::Uid => {
                h.uid = text(v, m).map(|t| Uid::from_utf8(t).ok_or(General)).transpose()?
            }
            Role::CommunityId => {
                h.community_id = text(v, m)
                    .map(|t| std::str::from_utf8(t).map(Text::from).map_err(|_| General))
                    .transpose()?
            }
            Role::OrigH => {
                c.flow.orig_h = parse_addr_bytes(v).ok_or(General)?;
                h.orig_h = true;
            }
            Role::RespH => {
                c.flow.resp_h = parse_addr_bytes(v).ok_or(General)?;
                h.resp_h = true;
            }
            Role::OrigP => c.flow.orig_p = port(line, start, end, m)?.unwrap_or(0),
            Role::RespP => c.flow.resp_p = port(line, start, end, m)?.unwrap_or(0),
            Role::Proto => c.flow.proto = Proto::parse_bytes(text(v, m).unwrap_or_default()),
            Role::Service => c.service = sym(v, m, intern)?,
            Role::ConnState => c.conn_state = sym(v, m, intern)?,
            Role::History => c.history = sym(v, m, intern)?,
            Role::Duration => c.duration = scalar(parse_f64_bytes(v), v, m)?,
            Role::OrigBytes => c.orig_bytes = count(line, start, end, m)?,
            Role::RespBytes => c.resp_bytes = count(line, start, end, m)?,
            Role::MissedBytes => c.missed_bytes = count(line, start, end, m)?,
            Role::OrigPkts => c.orig_pkts = count(line, start, end, m)?,
            Role::OrigIpBytes => c.orig_ip_bytes = count(line, start, end, m)?,
            Role::RespPkts => c.resp_pkts = count(line, start, end, m)?,
            Role::RespIpBytes => c.resp_ip_bytes = count(line, start, end, m)?,
            Role::LocalOrig => c.local_orig = scalar(parse_bool_bytes(v), v, m)?,
            Role::LocalResp => c.local_resp = scalar(parse_bool_bytes(v), v, m)?,
            Role::Skip => {}
        }
        Ok(())
    }
}

/// A text field: `None` when empty (the empty marker `m`, or nothing).
#[inline(always)]
fn text<'a>(v: &'a [u8], m: &[u8]) -> Option<&'a [u8]> {
    (!v.is_empty() && !is_marker(v, m)).then_some(v)
}

/// A low-cardinality text, shared through the interner.
#[inline(always)]
fn sym(v: &[u8], m: &[u8], intern: &mut Interner) -> Result<Option<Text>, General> {
    text(v, m).map(|t| intern.get_bytes(t).ok_or(General)).transpose()
}

/// A scalar `v` parsed as `parsed`: the value; `None` when `v` is the empty marker `m`;
/// otherwise malformed, for the general path.
#[inline(always)]
fn scalar<T>(parsed: Option<T>, v: &[u8], m: &[u8]) -> Result<Option<T>, General> {
    match parsed {
        Some(x) => Ok(Some(x)),
        None if is_marker(v, m) => Ok(None),
        None => Err(General),
    }
}

/// A count (see [`scalar`]).
#[inline(always)]
fn count(line: &[u8], start: usize, end: usize, m: &[u8]) -> Result<Option<u64>, General> {
    scalar(parse_u64_in(line, start, end), line.get(start..end).unwrap_or_default(), m)
}

#[inline(always)]
fn port(line: &[u8], start: usize, end: usize, m: &[u8]) -> Result<Option<u16>, General> {
    match count(line, start, end, m)? {
        None => Ok(None),
        Some(p) => u16::try_from(p).map(Some).map_err(|_| General),
    }
}
