//! Snapshot files shared by the tests that keep them: what the code prints
//! now against the file, a unified diff when they differ (so a change is
//! read, not regenerated blind), and `UPDATE_EXPECT=1` to rewrite.

use std::path::Path;

use similar::TextDiff;

/// Whether the run rewrites the snapshots instead of checking them.
pub fn updating() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some()
}

/// The difference between what a snapshot holds and what the code prints
/// now, as `diff -u` shows it, under the file's name.
pub fn diff(path: &Path, want: &str, got: &str) -> String {
    let name = path.display().to_string();
    let unified = TextDiff::from_lines(want, got).unified_diff().context_radius(3).header(&name, "now").to_string();
    format!("{name} differs (UPDATE_EXPECT=1 rewrites it once the change is meant):\n{unified}")
}

/// Checks a whole-file snapshot, or rewrites it when updating.
#[allow(dead_code)] // not every test file keeps whole-file snapshots
pub fn check_file(path: &Path, got: &str, failures: &mut Vec<String>) {
    if updating() {
        std::fs::write(path, got).expect("the snapshot is writable");
        return;
    }
    let want = std::fs::read_to_string(path).unwrap_or_default();
    if want != got {
        failures.push(diff(path, &want, got));
    }
}
