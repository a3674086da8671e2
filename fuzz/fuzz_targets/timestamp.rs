//! Fuzz target: time parsing never panics and round-trips what it accepts.
#![no_main]

use dwell_model::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        let back = Timestamp::parse_rfc3339(&t.to_rfc3339());
        assert_eq!(back, Some(t));
    }
    let _ = Timestamp::parse_epoch(s);
});
