//! Packet captures: pcap and pcapng into the events Zeek would give (`conn`, `dns`,
//! `ssl`, `x509`, `http`), so every detector works on a capture as on Zeek logs.
//!
//! * [`reader`]: the containers (pcap in both byte orders and resolutions, pcapng with
//!   per-interface link types and resolutions), streaming, truncation kept;
//! * [`packet`]: link, network and transport layers by hand;
//! * [`flow`]: the flow meter (Zeek's connection semantics, Community ID) and the
//!   dispatch to the application parsers;
//! * [`dns`], [`tls`], [`http`], [`smb`] (SMB2 shares and files, DCE/RPC over pipes
//!   and TCP), [`krb`], [`rdp`] (connection negotiation): bounded application-layer
//!   parsers.
//!
//! Events leave in the order flows and transactions end, as Zeek writes its logs: a
//! connection's record comes when it closes or times out, its DNS, TLS and HTTP records
//! as soon as they are complete. The pipeline's reorder window puts them in time order.

pub mod dns;
pub mod flow;
pub mod http;
pub mod krb;
pub mod packet;
pub mod rdp;
pub mod reader;
pub mod smb;
pub mod tls;

use std::io::Read;

use dwell_model::{Event, FileId};

use crate::error::{AnomalyKind, FileStats};
use packet::Parsed;

/// Decodes one capture into events.
pub struct PcapDecoder {
    reader: reader::Reader,
    meter: flow::Meter,
    done: bool,
    unknown_link: u64,
    malformed: u64,
}

impl PcapDecoder {
    /// Reads the capture header; an error when the stream is not a capture.
    pub fn new(
        r: Box<dyn Read + Send>,
        file: FileId,
        cfg: flow::Config,
    ) -> Result<Self, reader::ReadError> {
        let reader = reader::Reader::new(r)?;
        let salt = u64::from(file.0).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5157_3ad1;
        Ok(PcapDecoder {
            reader,
            meter: flow::Meter::new(cfg, file, salt),
            done: false,
            unknown_link: 0,
            malformed: 0,
        })
    }

    /// Flows being tracked right now.
    pub fn active_flows(&self) -> usize {
        self.meter.active()
    }

    /// The next event; `None` at the end of the capture.
    pub fn next_event(&mut self, stats: &mut FileStats) -> Option<Event> {
        loop {
            if let Some(ev) = self.meter.out.pop_front() {
                *stats.events.entry(ev.body.kind()).or_default() += 1;
                return Some(ev);
            }
            if self.done {
                if self.meter.finish_next() {
                    continue;
                }
                return None;
            }
            match self.reader.next_packet() {
                Ok(Some(p)) => {
                    let record = p.record;
                    stats.records = record;
                    match packet::parse(p.linktype, p.data) {
                        Parsed::Ip(ip) => self.meter.packet(&ip, p.ts, record),
                        Parsed::Other(what) => stats.skip(what),
                        Parsed::Malformed(what) => {
                            self.malformed += 1;
                            stats.anomaly(record, AnomalyKind::BadPacket, what);
                        }
                        Parsed::UnknownLink => {
                            if self.unknown_link == 0 {
                                stats.anomaly(
                                    record,
                                    AnomalyKind::BadPacket,
                                    format!("link type {} is not decoded", p.linktype),
                                );
                            }
                            self.unknown_link += 1;
                            stats.skip("unknown link type");
                        }
                    }
                }
                Ok(None) => {
                    if let Some(why) = self.reader.truncated() {
                        stats.anomaly(self.reader.records + 1, AnomalyKind::Truncated, why);
                    }
                    self.finish(stats);
                }
                Err(e) => {
                    let kind = match &e {
                        reader::ReadError::Io(io) => crate::io_anomaly_kind(io),
                        reader::ReadError::Malformed(_) => AnomalyKind::Truncated,
                    };
                    stats.anomaly(self.reader.records + 1, kind, e);
                    self.finish(stats);
                }
            }
        }
    }

    fn finish(&mut self, stats: &mut FileStats) {
        self.meter.flush();
        self.done = true;
        stats.bytes = self.reader.bytes;
        let c = &self.meter.counters;
        let records = self.reader.records;
        if c.dropped_table_full > 0 {
            stats.anomaly(
                records,
                AnomalyKind::Dropped,
                format!(
                    "{} packets of flows not tracked: the flow table was full",
                    c.dropped_table_full
                ),
            );
        }
        if c.orphan_fragments > 0 {
            stats.anomaly(
                records,
                AnomalyKind::Dropped,
                format!("{} fragments whose first fragment was not seen", c.orphan_fragments),
            );
        }
        if c.reassembly_dropped > 0 {
            stats.anomaly(
                records,
                AnomalyKind::Dropped,
                format!(
                    "{} fragmented DNS/Kerberos datagrams not put back together (a piece missing or cut by the snap length): counted, not read",
                    c.reassembly_dropped
                ),
            );
        }
        if c.bad_dns > 0 {
            stats.anomaly(
                records,
                AnomalyKind::BadValue,
                format!("{} DNS messages that do not parse", c.bad_dns),
            );
        }
        if c.bad_krb > 0 {
            stats.anomaly(
                records,
                AnomalyKind::BadValue,
                format!("{} Kerberos messages that do not parse", c.bad_krb),
            );
        }
        if c.bad_http > 0 {
            stats.anomaly(
                records,
                AnomalyKind::BadValue,
                format!("{} HTTP header blocks that do not parse", c.bad_http),
            );
        }
        if self.reader.skipped_blocks > 0 {
            stats.skip_n("pcapng block (not a packet)", self.reader.skipped_blocks);
        }
    }
}
