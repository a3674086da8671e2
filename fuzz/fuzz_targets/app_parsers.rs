//! Fuzz target: the DNS, TLS, HTTP, SMB and DCE/RPC parsers never panic on any byte stream, however it
//! is cut into segments.
#![no_main]

use dwell_decode::pcap::{dns, http, smb, tls};
use dwell_model::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dns::parse(data);
    let cut = data.first().map_or(1, |b| usize::from(*b).max(1));
    let mut h = tls::Handshake::default();
    let mut c = http::Conversation::default();
    let mut m = smb::Smb::default();
    let mut r = smb::RpcStream::default();
    for (i, chunk) in data.chunks(cut).enumerate() {
        h.feed(i % 2, chunk);
        m.feed(i % 2, chunk);
        r.feed(chunk);
        c.feed(i % 2, chunk, Timestamp::from_secs(1));
        if i % 7 == 6 {
            c.gap(i % 2, 10);
        }
    }
    c.close();
    m.close();
    let _ = (h.established(), h.version(), h.cipher(), h.curve(), h.resumed());
    if let Some(ch) = &h.client {
        let _ = (tls::ja3(ch), tls::ja4(ch));
    }
    for der in &h.certs {
        let _ = tls::certificate(der);
    }
});
