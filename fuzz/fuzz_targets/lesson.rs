//! Any text as a lesson file: parsing must say where it is wrong, and a
//! lesson that parses must check its own starting scenario without
//! panicking (every goal's check runs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use podpath_core::lesson;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(l) = lesson::parse("fuzz.yaml", &text) {
        let _ = lesson::check_text(&l, "scenario.yaml", &l.spec.scenario);
    }
});
