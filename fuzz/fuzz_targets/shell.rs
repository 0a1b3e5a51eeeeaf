//! Any text typed into the terminal, a line at a time, in one session on
//! the bundled shop scenario: the shell must answer every line without
//! panicking (kubectl, the tools in pods and on nodes, completion).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use podpath_core::{shell::Shell, simulate, Cluster, Source};

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| simulate(&[Source::new("shop.yaml", include_str!("../../web/scenarios/shop.yaml"))]).0)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut shell = Shell::new();
    for line in text.lines().take(8) {
        let _ = shell.complete(cluster(), line);
        let _ = shell.run(cluster(), line);
    }
});
