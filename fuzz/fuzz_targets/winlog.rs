//! Fuzz target: Windows event decoding (JSON lines in every shape, event XML, EVTX)
//! never panics and accounts for every event.
#![no_main]

use dwell_decode::{DecodeOptions, FileDecoder, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = DecodeOptions { max_line: 1 << 16, max_decompressed: 1 << 24, ..DecodeOptions::default() };
    for format in [Format::WinJson, Format::Evtx] {
        if let Ok(mut d) = FileDecoder::from_bytes("fuzz", data.to_vec(), Some(format), &opts) {
            let mut n = 0u64;
            while d.next_event().is_some() {
                n += 1;
            }
            assert_eq!(d.stats().event_total(), n);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = dwell_decode::winlog::from_xml(text);
    }
});
