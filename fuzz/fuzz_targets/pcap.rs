//! Fuzz target: a packet capture (reader, layers, flow meter, application parsers) never
//! panics and accounts for every event.
#![no_main]

use dwell_decode::{DecodeOptions, FileDecoder, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = DecodeOptions { max_decompressed: 1 << 24, ..DecodeOptions::default() };
    if let Ok(mut d) = FileDecoder::from_bytes("fuzz.pcap", data.to_vec(), Some(Format::Pcap), &opts) {
        let mut n = 0u64;
        while d.next_event().is_some() {
            n += 1;
        }
        assert_eq!(d.stats().event_total(), n);
    }
});
