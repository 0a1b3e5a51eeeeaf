//! Colours the views share.

use podpath_core::names::fnv32a;

/// A stable hue for a namespace, so its pods keep their colour across edits.
pub fn namespace_hue(ns: &str) -> u32 {
    // Golden-angle steps spread neighbouring hashes around the wheel.
    (fnv32a(ns.as_bytes()) % 64) * 137 % 360
}
