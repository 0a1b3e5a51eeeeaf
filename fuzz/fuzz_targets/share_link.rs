//! Any text as a share link's fragment: decoding must refuse what is
//! damaged with a message, and what decodes must load as a scenario.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podpath_core::{share, simulate_with, Source};

fuzz_target!(|data: &[u8]| {
    let fragment = String::from_utf8_lossy(data);
    if let Ok((text, overrides)) = share::decode(&fragment) {
        let _ = simulate_with(&[Source::new("shared", text.as_str())], &overrides);
    }
});
