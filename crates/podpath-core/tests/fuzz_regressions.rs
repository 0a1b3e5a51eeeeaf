//! The fuzz targets' inputs, replayed natively on every test run: the seed
//! corpus (`fuzz/corpus/TARGET/`) and every input that once made a target
//! fail (`fuzz/regressions/TARGET/`). Each goes through the same calls as
//! its target in `fuzz/fuzz_targets/`; none may panic, and each must get an
//! answer that says what it is.

use std::path::{Path, PathBuf};

use podpath_core::{lesson, proxy::Dataplane, share, shell::Shell, simulate, simulate_with, trace::target, Source};

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
    files.sort();
    assert!(!files.is_empty(), "fuzz/corpus/{target} has seeds");
    files
}

#[test]
fn manifests() {
    for (path, text) in inputs("manifests") {
        let (cluster, diagnostics) = simulate(&[Source::new("fuzz.yaml", &text)]);
        assert!(
            !cluster.pods.is_empty() || !diagnostics.is_empty() || text.trim().is_empty(),
            "{}: neither a cluster nor a message",
            path.display()
        );
        if let Some(node) = cluster.nodes.first() {
            assert!(!Dataplane::build(&cluster, &node.name, cluster.settings.proxy_mode).render().is_empty());
        }
        let mut pods = cluster.pods.iter().filter(|p| p.is_running());
        if let (Some(a), Some(b)) = (pods.next(), pods.next()) {
            target::trace_words(&cluster, &a.key(), &b.key(), 80, podpath_core::cluster::Protocol::Tcp, 0)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
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
