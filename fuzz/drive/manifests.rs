// What the `manifests` fuzz target does with one input, shared by the
// target (fuzz/fuzz_targets/manifests.rs) and its native replay
// (crates/podpath-core/tests/fuzz_regressions.rs), both of which
// `include!` this file: load and build the cluster, render the first
// node's rules, then trace what the input itself declares — from one of
// its pods to another, to one of its Services, and from outside to one of
// its NodePorts — choosing among them by a hash of the input, so the
// fuzzer steers the traces as it steers the text.

use podpath_core::cluster::{ClusterIp, Protocol};
use podpath_core::proxy::Dataplane;
use podpath_core::trace::{self, From, Request, To, Trace};
use podpath_core::{simulate, Cluster, Diagnostic, Source};

/// One input, put through the core.
pub struct Driven {
    pub cluster: Cluster,
    pub diagnostics: Vec<Diagnostic>,
    /// The first node's proxy dump.
    pub rules: Option<String>,
    /// Each trace asked for: what it was, and what came of it.
    pub traces: Vec<(Request, Result<Trace, String>)>,
}

/// The input's own objects: what is not the platform's.
fn theirs(namespace: &str) -> bool {
    !podpath_core::system::is_system_namespace(namespace)
}

pub fn drive(text: &str) -> Driven {
    let (cluster, diagnostics) = simulate(&[Source::new("fuzz.yaml", text)]);
    let rules = cluster
        .nodes
        .first()
        .map(|node| Dataplane::build(&cluster, &node.name, cluster.settings.proxy_mode).render());
    let seed = podpath_core::names::fnv64a(text.as_bytes());
    let pick = |n: usize, salt: u64| (seed.rotate_left(salt as u32 * 13) % n.max(1) as u64) as usize;
    let pods: Vec<_> = cluster.pods.iter().filter(|p| p.is_running() && theirs(&p.namespace)).collect();
    let services: Vec<_> = cluster
        .services
        .iter()
        .filter(|s| theirs(&s.namespace) && matches!(s.cluster_ip, ClusterIp::Ip(_)) && !s.ports.is_empty())
        .collect();
    let mut asks = Vec::new();
    let ask = |from, to, port, protocol| Request { from, to, port, protocol, node: None, seed };
    if !pods.is_empty() {
        let (a, b) = (pods[pick(pods.len(), 1)], pods[pick(pods.len(), 2)]);
        let from = || From::Pod { namespace: a.namespace.clone(), name: a.name.clone() };
        let to = To::Pod { namespace: b.namespace.clone(), name: b.name.clone() };
        asks.push(ask(from(), to, 80, Protocol::Tcp));
        if let Some(s) = services.get(pick(services.len(), 3)) {
            let (ClusterIp::Ip(ip), Some(p)) = (&s.cluster_ip, s.ports.get(pick(s.ports.len(), 4))) else {
                unreachable!("kept above")
            };
            asks.push(ask(from(), To::Ip(*ip), p.port, p.protocol));
        }
    }
    let node_ports: Vec<_> = services.iter().flat_map(|s| &s.ports).filter_map(|p| p.node_port.map(|n| (n, p.protocol))).collect();
    if let (Some(&(port, protocol)), Some(ip)) =
        (node_ports.get(pick(node_ports.len(), 5)), cluster.nodes.first().and_then(|n| n.internal_ip))
    {
        asks.push(ask(From::External, To::Ip(ip), port, protocol));
    }
    let traces = asks
        .into_iter()
        .map(|r| {
            let t = trace::trace(&cluster, &r).map_err(|e| e.to_string());
            (r, t)
        })
        .collect();
    Driven { cluster, diagnostics, rules, traces }
}
