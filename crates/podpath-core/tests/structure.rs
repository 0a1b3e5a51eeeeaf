//! The shape ARCHITECTURE.md promises, read from the sources: which modules
//! may name a CNI plugin or a proxy mode, which may import which, and how
//! large a file may grow. (Function length is clippy's `too_many_lines`,
//! on for the core at 100 lines in `clippy.toml`.)

use std::fs;
use std::path::{Path, PathBuf};

/// The workspace's `crates/` folder.
fn crates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the core lives in crates/").to_path_buf()
}

/// Every `.rs` file under `dir`, as (path relative to `dir`, text).
fn sources(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<PathBuf> =
            fs::read_dir(dir).expect("a source folder").map(|e| e.unwrap().path()).collect();
        podpath_core::order::sort(&mut entries);
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.push((rel, fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// A file's code without its tests and comments: test-only files are
/// empty, a trailing `#[cfg(test)] mod tests` is cut off, comment lines
/// are blanked (so line numbers still point into the file).
fn code(rel: &str, text: &str) -> String {
    if rel.ends_with("/tests.rs") || rel.contains("/tests/") {
        return String::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].starts_with("mod tests"))
        .unwrap_or(lines.len());
    let code = lines[..end].iter().map(|l| if l.trim_start().starts_with("//") { "" } else { l });
    code.collect::<Vec<_>>().join("\n")
}

const VARIANTS: &[&str] = &[
    "Cni::Flannel",
    "Cni::Calico",
    "Cni::Cilium",
    "Cni::Weave",
    "Cni::Kindnet",
    "ProxyMode::Iptables",
    "ProxyMode::Ipvs",
    "ProxyMode::Nftables",
    "ProxyMode::Ebpf",
];

/// Where a plugin or a mode may be named: the settings that define them,
/// the proxy modes' own folder, the plugin registry and each plugin's
/// module (a file, or a folder of them).
fn home(path: &str) -> bool {
    let plugins = ["flannel", "calico", "cilium", "weave", "kindnet"];
    path == "podpath-core/src/settings.rs"
        || path == "podpath-core/src/datapath/mod.rs"
        || path.starts_with("podpath-core/src/proxy/")
        || plugins.iter().any(|m| {
            path == format!("podpath-core/src/datapath/{m}.rs")
                || path.starts_with(&format!("podpath-core/src/datapath/{m}/"))
        })
}

#[test]
fn plugins_and_proxy_modes_are_named_only_at_home() {
    let mut found = Vec::new();
    for (rel, text) in sources(&crates()) {
        if !rel.contains("/src/") || home(&rel) {
            continue;
        }
        for (n, line) in code(&rel, &text).lines().enumerate() {
            if VARIANTS.iter().any(|v| line.contains(v)) {
                found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a plugin or mode named outside its module (ask the registry instead):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_registry_is_the_only_match_on_a_plugin_in_the_shared_datapath() {
    let registry = fs::read_to_string(crates().join("podpath-core/src/datapath/mod.rs")).unwrap();
    let code = code("podpath-core/src/datapath/mod.rs", &registry);
    let named: Vec<&str> = code.lines().filter(|l| VARIANTS.iter().any(|v| l.contains(v))).collect();
    let plugins = VARIANTS.iter().filter(|v| v.starts_with("Cni::")).count();
    assert_eq!(named.len(), plugins, "one arm per plugin in `plugin()`, nothing else: {named:#?}");
    assert!(named.iter().all(|l| l.trim_start().starts_with("Cni::") && l.contains("=> &")), "{named:#?}");
}

/// The core's files stay small enough to read in one sitting.
#[test]
fn no_core_file_is_over_700_lines() {
    let long: Vec<String> = sources(&crates().join("podpath-core/src"))
        .into_iter()
        .map(|(rel, text)| (rel, text.lines().count()))
        .filter(|(_, n)| *n > 700)
        .map(|(rel, n)| format!("{rel}: {n} lines"))
        .collect();
    assert!(long.is_empty(), "split these by what they do:\n{}", long.join("\n"));
}

/// The CLI's main is its command table; each command is a module of `cmd/`.
#[test]
fn the_cli_main_is_a_command_table() {
    let main = fs::read_to_string(crates().join("podpath-cli/src/main.rs")).unwrap();
    assert!(main.lines().count() < 250, "main.rs has {} lines", main.lines().count());
    let commands = sources(&crates().join("podpath-cli/src/cmd"));
    assert!(commands.len() >= 9, "{commands:?}");
}

/// Which module's code may not name which: the cluster model is read by
/// DNS, Ingress, the system manifests and everything after it, never the
/// other way round; the scheduler reads the workloads' drafts, not the
/// reverse; the netfilter evaluator reads ipsets, not the reverse.
#[test]
fn lower_layers_do_not_import_higher_ones() {
    let rules: &[(&str, &[&str])] = &[
        (
            "podpath-core/src/cluster/",
            &[
                "crate::dns",
                "crate::ingress",
                "crate::system",
                "crate::datapath",
                "crate::proxy",
                "crate::trace",
                "crate::policy",
                "crate::shell",
                "crate::kubectl",
            ],
        ),
        ("podpath-core/src/cluster/workloads.rs", &["schedule::"]),
        ("podpath-core/src/netfilter/ipset.rs", &["eval::"]),
        ("podpath-core/src/datapath/", &["crate::trace"]),
        ("podpath-core/src/proxy/", &["crate::trace", "crate::datapath"]),
    ];
    let mut found = Vec::new();
    for (rel, text) in sources(&crates()) {
        for (prefix, banned) in rules {
            if !rel.starts_with(prefix) {
                continue;
            }
            for (n, line) in code(&rel, &text).lines().enumerate() {
                if let Some(b) = banned.iter().find(|b| line.contains(*b)) {
                    found.push(format!("{rel}:{}: names {b}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    // The page's components reach the model through the state module.
    let web = sources(&crates().join("podpath-web/src"));
    let through_app: Vec<&String> =
        web.iter().filter(|(_, t)| t.contains("app::ModelHandle")).map(|(rel, _)| rel).collect();
    assert!(through_app.is_empty(), "ModelHandle lives in state.rs: {through_app:?}");
}

/// The core is pure: no browser crate among its dependencies, and no
/// clock, environment, file system or OS randomness in its code, so the
/// same input gives the same output natively and in Wasm.
#[test]
fn the_core_is_pure() {
    let manifest = fs::read_to_string(crates().join("podpath-core/Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
    for browser in ["wasm-bindgen", "web-sys", "js-sys", "gloo", "yew", "getrandom", "rand"] {
        assert!(!deps.lines().any(|l| l.starts_with(browser)), "podpath-core depends on {browser}");
    }
    let mut found = Vec::new();
    for (rel, text) in sources(&crates().join("podpath-core/src")) {
        for (n, line) in code(&rel, &text).lines().enumerate() {
            for io in ["std::fs", "std::env", "std::time", "Instant::", "SystemTime", "std::process", "std::net::Tcp"] {
                if line.contains(io) {
                    found.push(format!("{rel}:{}: {io}", n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
