//! Any bytes as a manifest file: loading, building the cluster, rendering
//! the first node's proxy rules and tracing what the input declares (see
//! fuzz/drive/manifests.rs) must not panic, whatever the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../drive/manifests.rs");

fuzz_target!(|data: &[u8]| {
    let _ = drive(&String::from_utf8_lossy(data));
});
