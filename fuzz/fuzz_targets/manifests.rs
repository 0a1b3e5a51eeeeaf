//! Any bytes as a manifest file: loading, building the cluster, rendering
//! the first node's proxy rules and tracing between two pods must not
//! panic, whatever the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podpath_core::{proxy::Dataplane, simulate, trace::target, Source};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (cluster, _diagnostics) = simulate(&[Source::new("fuzz.yaml", text.as_ref())]);
    if let Some(node) = cluster.nodes.first() {
        let _ = Dataplane::build(&cluster, &node.name, cluster.settings.proxy_mode).render();
    }
    let mut pods = cluster.pods.iter().filter(|p| p.is_running());
    if let (Some(a), Some(b)) = (pods.next(), pods.next()) {
        let _ = target::trace_words(&cluster, &a.key(), &b.key(), 80, podpath_core::cluster::Protocol::Tcp, 0);
    }
});
