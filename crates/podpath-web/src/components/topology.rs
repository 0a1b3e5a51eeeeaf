//! The cluster as boxes: each node with its address and pod CIDR, its pods
//! inside, coloured by namespace; pods no node took are shown apart with the
//! scheduler's reason.

use podpath_core::names::fnv32a;
use podpath_core::system::is_system_namespace;
use podpath_core::{Node, Pod, PodPhase};
use yew::prelude::*;

use crate::app::ModelHandle;

/// A stable hue for a namespace, so its pods keep their colour across edits.
pub fn namespace_hue(ns: &str) -> u32 {
    // Golden-angle steps spread neighbouring hashes around the wheel.
    (fnv32a(ns.as_bytes()) % 64) * 137 % 360
}

#[component]
pub fn Topology() -> Html {
    let model = use_context::<ModelHandle>().expect("Topology is rendered inside the model's provider");
    let cluster = model.cluster.clone();
    let shown = |p: &&Pod| model.show_system || !is_system_namespace(&p.namespace);
    let mut per_node = cluster.pods_per_node();
    for pods in per_node.values_mut() {
        pods.retain(shown);
    }
    let unscheduled: Vec<&Pod> = cluster.pods_sorted().into_iter().filter(shown).filter(|p| p.node.is_none()).collect();
    let mut namespaces: Vec<&str> = cluster.pods.iter().filter(shown).map(|p| p.namespace.as_str()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    html! {
        <section class={classes!("topology", model.stale.then_some("stale"))} aria-label="Cluster topology" data-testid="topology">
            <div class="legend">
                { for namespaces.iter().map(|ns| html! {
                    <span class="ns" style={format!("--hue: {}", namespace_hue(ns))}>{ *ns }</span>
                }) }
            </div>
            <div class="nodes">
                { for cluster.nodes.iter().map(|n| view_node(n, per_node.get(n.name.as_str()).map(Vec::as_slice).unwrap_or(&[]))) }
            </div>
            <crate::components::services::Services />
            <crate::components::trace::TracePanel />
            <crate::components::matrix::PolicyMatrix />
            if !unscheduled.is_empty() {
                <div class="unscheduled">
                    <h2>{ "Not scheduled" }</h2>
                    { for unscheduled.iter().map(|p| view_pod(p)) }
                </div>
            }
        </section>
    }
}

fn view_node(node: &Node, pods: &[&Pod]) -> Html {
    let ip = node.internal_ip.map(|ip| ip.to_string()).unwrap_or_else(|| "no address".into());
    // The ranges the CNI plugin really allocates from on this node (Calico's
    // blocks, Weave's share, Cilium's pool CIDR), not only spec.podCIDR.
    let ranges: Vec<String> = node.network.pod_ranges.iter().map(ToString::to_string).collect();
    let cidr = if ranges.is_empty() { "no pod range".to_owned() } else { ranges.join(", ") };
    html! {
        <article class={classes!("node", node.is_control_plane().then_some("control-plane"))} data-testid="node" data-node={node.name.clone()}>
            <header>
                <h2>{ node.name.clone() }</h2>
                <span class="role">{ node.roles() }</span>
                <span class="addr" title="InternalIP">{ ip }</span>
                <span class="cidr" title="pod addresses come from">{ cidr }</span>
            </header>
            <div class="pods">
                if pods.is_empty() {
                    <p class="empty">{ "no pods" }</p>
                }
                { for pods.iter().map(|p| view_pod(p)) }
            </div>
        </article>
    }
}

fn view_pod(pod: &Pod) -> Html {
    let ip = pod.ip.map(|ip| ip.to_string()).unwrap_or_default();
    let (state, title) = match &pod.phase {
        PodPhase::Running => (None, format!("{} on {}", pod.key(), pod.node.as_deref().unwrap_or("?"))),
        PodPhase::Pending { reason, message } => (Some(reason.clone()), format!("{}: {message}", pod.key())),
    };
    html! {
        <div class={classes!("pod", state.is_some().then_some("pending"), pod.host_network.then_some("host-network"))}
             data-testid="pod" data-pod={pod.key()} data-ip={ip.clone()}
             style={format!("--hue: {}", namespace_hue(&pod.namespace))} title={title}>
            <span class="pod-name">{ pod.name.clone() }</span>
            <span class="pod-ip">{ if ip.is_empty() { state.unwrap_or_default() } else { ip } }</span>
            <span class="pod-ns">{ pod.namespace.clone() }</span>
        </div>
    }
}
