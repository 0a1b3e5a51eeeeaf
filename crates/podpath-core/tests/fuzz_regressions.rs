//! The fuzz targets' inputs, replayed natively on every test run: the seed
//! corpus (`fuzz/corpus/TARGET/`) and every input that once made a target
//! fail (`fuzz/regressions/TARGET/`). Each goes through the same calls as
//! its target in `fuzz/fuzz_targets/`; none may panic, and each must get an
//! answer that says what it is.

use std::path::{Path, PathBuf};

use podpath_core::{lesson, share, shell::Shell, simulate, simulate_with, Source};

fn inputs(target: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for e in entries {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            files.push((path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    podpath_core::order::sort(&mut files);
    assert!(!files.is_empty(), "fuzz/corpus/{target} has seeds");
    files
}

mod drive {
    include!("../../../fuzz/drive/manifests.rs");
}

/// Each input goes through what the fuzz target does; the replay asks
/// more of it: what the input declares is in the cluster or said to be
/// missing, every rule dump is one, and every trace the input steers
/// starts where it was asked to and ends with a verdict and a reason.
#[test]
fn manifests() {
    let mut traced = 0;
    for (path, text) in inputs("manifests") {
        let d = drive::drive(&text);
        let declared =
            text.lines().filter(|l| l.trim_start().starts_with("kind: Pod") || l.contains("kind: Deployment")).count();
        let theirs = d.cluster.pods.iter().filter(|p| !podpath_core::system::is_system_namespace(&p.namespace)).count();
        assert!(
            declared == 0 || theirs > 0 || !d.diagnostics.is_empty(),
            "{}: it declares pods, and the cluster has none of them and says nothing",
            path.display()
        );
        if let Some(rules) = &d.rules {
            assert!(
                rules.lines().any(|l| l.starts_with('*') || l.starts_with("table ") || l.contains("->")),
                "{}: {rules}",
                path.display()
            );
        }
        for (req, t) in &d.traces {
            let t = t.as_ref().unwrap_or_else(|e| panic!("{}: {req:?}: {e}", path.display()));
            let first = t.hops.first().unwrap_or_else(|| panic!("{}: {req:?}: no hops", path.display()));
            match &req.from {
                podpath_core::trace::From::Pod { namespace, name } => {
                    assert_eq!(first.at.pod(), Some(format!("{namespace}/{name}").as_str()), "{}", path.display())
                }
                _ => assert_eq!(first.at.to_string(), "external client", "{}", path.display()),
            }
            assert!(!t.reason.is_empty() && t.to_string().contains("verdict: "), "{}", path.display());
            traced += 1;
        }
    }
    assert!(traced >= 10, "the corpus steers traces into the inputs' own objects: {traced}");
}

#[test]
fn shell() {
    let (cluster, _) = simulate(&[Source::new("shop.yaml", include_str!("../../../web/scenarios/shop.yaml"))]);
    for (path, text) in inputs("shell") {
        let mut shell = Shell::new();
        for line in text.lines().take(8) {
            let _ = shell.complete(&cluster, line);
            let out = shell.run(&cluster, line);
            assert!(out.status == 0 || !out.text.is_empty(), "{}: `{line}` failed without a word", path.display());
        }
    }
}

#[test]
fn share_links() {
    for (path, fragment) in inputs("share_link") {
        match share::decode(&fragment) {
            Ok((text, overrides)) => {
                simulate_with(&[Source::new("shared", &text)], &overrides);
            }
            Err(e) => assert!(e.starts_with("the link"), "{}: {e}", path.display()),
        }
    }
}

#[test]
fn lessons() {
    for (path, text) in inputs("lesson") {
        match lesson::parse("fuzz.yaml", &text) {
            Ok(l) => {
                let outcomes = lesson::check_text(&l, "scenario.yaml", &l.spec.scenario);
                assert_eq!(outcomes.len(), l.spec.goals.len(), "{}", path.display());
            }
            Err(e) => assert!(e.to_string().starts_with("fuzz.yaml"), "{}: {e}", path.display()),
        }
    }
}
