//! Fuzz target: threat-intel list parsing and lookups never panic.
#![no_main]

use dwell_detect::IntelSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut set = IntelSet::new();
    set.load("fuzz", &text);
    for line in text.lines().take(16) {
        let _ = set.domain(line);
        let _ = set.digest(line);
        if let Ok(ip) = line.trim().parse() {
            let _ = set.ip(ip);
        }
    }
});
