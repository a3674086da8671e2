//! Fuzz target: link, network and transport parsing of one frame never panics.
#![no_main]

use dwell_decode::pcap::packet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&sel, frame)) = data.split_first() {
        let linktype = [0u32, 1, 12, 101, 108, 113, 228, 229, 276][usize::from(sel) % 9];
        let _ = packet::parse(linktype, frame);
    }
});
