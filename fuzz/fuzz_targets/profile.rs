//! Fuzz target: org-profile parsing returns a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = dwell_engine::config::parse_profile(s);
    }
});
