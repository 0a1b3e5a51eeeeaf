//! A corpus of broken manifests, each with the exact located diagnostics
//! podpath must print for it (`broken/NAME.yaml` → `broken/NAME.out`), and
//! proof that the rest of the input still loads: every case is followed by
//! a good Pod, which must be in the cluster. The corpus covers syntax
//! (tabs, unclosed flows), types and shapes, ranges, conflicts between
//! objects, binary garbage, alias bombs and deep nesting.
//! Run with `UPDATE_EXPECT=1` to rewrite the `.out` files after a deliberate
//! change, and read the diff.

mod common;

use std::path::Path;

use podpath_core::{simulate, Source};

/// A good document after each broken one.
const SURVIVOR: &str =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: survivor, labels: {podpath-test: survivor}}\nspec: {containers: [{name: c, image: nginx}]}\n";

#[test]
fn every_broken_manifest_gets_its_exact_messages() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    podpath_core::order::sort(&mut cases);
    assert!(cases.len() >= 10, "the corpus is there");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(case).unwrap();
        let text = format!("{text}\n---\n{SURVIVOR}");
        let (cluster, diags) = simulate(&[Source::new(name.clone(), text)]);
        if cluster.pod("default", "survivor").is_none() {
            failures.push(format!("{name}: the good Pod after the broken input did not load"));
        }
        let got: String = diags.iter().map(|d| format!("{d}\n")).collect();
        assert!(!got.is_empty(), "{name}: a broken manifest must produce a diagnostic");
        common::check_file(&case.with_extension("out"), &got, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
