//! The cluster as boxes: each node with its address and pod CIDR, its pods
//! inside, coloured by namespace; pods no node took are shown apart with the
//! scheduler's reason.

use podpath_core::system::is_system_namespace;
use podpath_core::topology::Place;
use podpath_core::{Node, Pod, PodPhase};
use yew::prelude::*;

use crate::hooks::{use_cluster_memo, use_packet_motion};
use crate::palette::namespace_hue;
use crate::state::Action;
use crate::state::ModelHandle;

/// What the packet marker shows for the current hop: where it sits, its
/// label, and whether it is tunnelled, dropped, or rewritten there.
struct Marker {
    selector: String,
    label: String,
    encap: bool,
    dropped: bool,
    rewritten: bool,
}

fn marker(model: &crate::state::Model, places: &Places) -> Option<Marker> {
    use podpath_core::trace::walk::{Change, Walk};
    let t = model.trace.as_ref()?.result.as_ref().ok()?;
    let f = Walk::new(t).frame(model.step?)?;
    let (hop, p) = (f.hop, &f.hop.packet);
    Some(Marker {
        selector: selector(model, places.place_of(hop).as_ref()?),
        label: format!("{}:{} → {}:{}", p.src, p.sport, p.dst, p.dport),
        encap: p.outer.is_some(),
        dropped: hop.action.stops(),
        // A NAT rewrite at this hop: the marker flashes.
        rewritten: f.changes.iter().any(|c| matches!(c, Change::Source { .. } | Change::Destination { .. })),
    })
}

type Places = podpath_core::topology::Topology;

/// The element a place is drawn as, as a CSS selector: a pod that is
/// hidden (the platform's own, unless shown) is drawn as its node.
fn selector(model: &crate::state::Model, place: &Place) -> String {
    match place {
        Place::Pod(key) if model.show_system || !key.split('/').next().is_some_and(is_system_namespace) => {
            format!("[data-testid=pod][data-pod=\"{key}\"]")
        }
        Place::Pod(key) => {
            let node = model.cluster.pods.iter().find(|p| p.key() == *key).and_then(|p| p.node.clone());
            format!("[data-testid=node][data-node=\"{}\"]", node.unwrap_or_default())
        }
        Place::Outside => "[data-testid=outside]".to_owned(),
        Place::Node(n) => format!("[data-testid=node][data-node=\"{n}\"]"),
        Place::Service(s) => format!("[data-testid=service][data-service=\"{s}\"]"),
    }
}

/// The places the request passes, as the selectors the path overlay draws
/// its line through (no repeats in a row).
fn route(model: &crate::state::Model, passed: &[Place]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for place in passed {
        let s = selector(model, place);
        if out.last() != Some(&s) {
            out.push(s);
        }
    }
    out
}

/// With more nodes than this, the nodes the current trace or pick does not
/// touch fold to their header, so a big cluster stays legible.
const FOLD_NODES_ABOVE: usize = 12;

/// The nodes to keep open: all of them in a small cluster; in a big one
/// those the trace passes or ends on and the picked pod's.
fn open_nodes(
    model: &crate::state::Model,
    places: &Places,
    passed: &[Place],
) -> Option<std::collections::BTreeSet<String>> {
    if model.cluster.nodes.len() <= FOLD_NODES_ABOVE {
        return None;
    }
    let mut near: Vec<Place> = passed.to_vec();
    near.extend(model.pick.iter().map(|p| Place::Pod(p.clone())));
    if let Some(t) = &model.trace {
        near.extend([&t.from, &t.to].into_iter().filter(|k| k.contains('/')).map(|k| Place::Pod(k.clone())));
    }
    Some(places.nodes_near(&near))
}

#[component]
pub fn Topology() -> Html {
    let model = use_context::<ModelHandle>().expect("Topology is rendered inside the model's provider");
    let cluster = model.cluster.clone();
    let shown = |p: &&Pod| model.show_system || !is_system_namespace(&p.namespace);
    let unscheduled: Vec<&Pod> = cluster.pods_sorted().into_iter().filter(shown).filter(|p| p.node.is_none()).collect();
    let mut namespaces: Vec<&str> = cluster.pods.iter().filter(shown).map(|p| p.namespace.as_str()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let (stage, packet) = (use_node_ref(), use_node_ref());
    // The graph of places changes with the cluster only.
    let places = use_cluster_memo(&model, (), |cluster, _| Places::build(cluster));
    let mark = marker(&model, &places);
    use_packet_motion(packet.clone(), stage.clone(), mark.as_ref().map(|m| m.selector.clone()), model.speed);
    let path = use_node_ref();
    // The places the request passes, read once for the route line and
    // for which nodes stay open.
    let passed: Vec<Place> = match model.trace.as_ref().map(|v| &v.result) {
        Some(Ok(t)) => places.route(t),
        _ => Vec::new(),
    };
    crate::hooks::use_route_path(path.clone(), stage.clone(), route(&model, &passed), model.show_system);
    let open = open_nodes(&model, &places, &passed);
    let ends: Vec<String> = model.trace.as_ref().map(|t| vec![t.from.clone(), t.to.clone()]).unwrap_or_default();
    // Stable across renders, so the nodes' props stay equal while a trace plays.
    let on_pod = {
        let dispatcher = model.dispatcher();
        use_callback((), move |key: String, _| dispatcher.dispatch(Action::PickPod(key)))
    };
    let marks = Marks {
        pick: model.pick.clone(),
        ends: ends.clone(),
        on_pod: on_pod.clone(),
        opened: Default::default(),
        on_toggle: Callback::noop(),
    };
    // The plumbing changes with the cluster only, not with each hop the
    // player shows: built once per cluster.
    let plumbing = use_cluster_memo(&model, (), |cluster, _| {
        let network = cluster.network();
        cluster
            .nodes
            .iter()
            .map(|n| (n.name.clone(), plumbing_of(network, &n.name, cluster)))
            .collect::<std::collections::BTreeMap<_, _>>()
    });
    let outside = model.trace.as_ref().is_some_and(|t| t.from == "external");
    html! {
        <section class={classes!("topology", model.stale.then_some("stale"))} aria-label="Cluster topology" data-testid="topology" ref={stage}>
            <div class="legend">
                { for namespaces.iter().map(|ns| html! {
                    <span class="ns" style={format!("--hue: {}", namespace_hue(ns))}>{ *ns }</span>
                }) }
            </div>
            if outside {
                <div class="outside" data-testid="outside">{ format!("external client {}", podpath_core::trace::OUTSIDE_CLIENT) }</div>
            }
            <Nodes cluster={Shared(model.cluster.clone())} show_system={model.show_system} pick={model.pick.clone()}
                   ends={ends} open={open} plumbing={plumbing} on_pod={on_pod} />
            <crate::components::services::Services />
            if !unscheduled.is_empty() {
                <div class="unscheduled">
                    <h2>{ "Not scheduled" }</h2>
                    { for unscheduled.iter().map(|p| view_pod(p, &marks)) }
                </div>
            }
            <svg class="route" aria-hidden="true"><polyline ref={path} points="" /></svg>
            <div ref={packet} class={classes!("packet", mark.as_ref().filter(|m| m.encap).map(|_| "encap"),
                                      mark.as_ref().filter(|m| m.dropped).map(|_| "dropped"), mark.as_ref().filter(|m| m.rewritten).map(|_| "rewrite"))}
                 data-testid="packet" aria-hidden="true" style="visibility: hidden">
                <span class="packet-label">{ mark.map(|m| m.label).unwrap_or_default() }</span>
            </div>
        </section>
    }
}

/// The cluster, compared by identity: a new simulation is a new cluster.
#[derive(Clone, Debug)]
pub struct Shared(pub std::rc::Rc<podpath_core::Cluster>);

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Properties, PartialEq)]
struct NodesProps {
    cluster: Shared,
    show_system: bool,
    pick: Option<String>,
    ends: Vec<String>,
    open: Option<std::collections::BTreeSet<String>>,
    plumbing: std::rc::Rc<std::collections::BTreeMap<String, Vec<String>>>,
    on_pod: Callback<String>,
}

/// The node boxes. Their props do not change while a trace plays, so the
/// player's ticks do not render (or diff) the hundreds of pods again.
#[component]
fn Nodes(props: &NodesProps) -> Html {
    let cluster = &props.cluster.0;
    let shown = |p: &&Pod| props.show_system || !is_system_namespace(&p.namespace);
    let mut per_node = cluster.pods_per_node();
    for pods in per_node.values_mut() {
        pods.retain(shown);
    }
    // The folds the user opened (`node`, or `node/namespace`): a closed
    // fold's pods are not rendered at all, so 20,000 pods on folded nodes
    // cost a header each.
    let opened = use_state(std::collections::BTreeSet::<String>::new);
    let on_toggle = {
        let opened = opened.clone();
        Callback::from(move |(key, open): (String, bool)| {
            if opened.contains(&key) != open {
                let mut next = (*opened).clone();
                if open {
                    next.insert(key);
                } else {
                    next.remove(&key);
                }
                opened.set(next);
            }
        })
    };
    let marks = Marks {
        pick: props.pick.clone(),
        ends: props.ends.clone(),
        on_pod: props.on_pod.clone(),
        opened: std::rc::Rc::new((*opened).clone()),
        on_toggle,
    };
    // The platform's pods per node, named once for all nodes.
    let mut system_by_node: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
    if !props.show_system {
        for p in cluster.pods.iter().filter(|p| is_system_namespace(&p.namespace)) {
            let Some(node) = p.node.as_deref() else { continue };
            // A Deployment's pods: name the Deployment, not the ReplicaSet.
            let name = p.owner.as_ref().map_or(p.name.clone(), |o| o.workload().to_owned());
            system_by_node.entry(node).or_default().push(name);
        }
        for names in system_by_node.values_mut() {
            names.sort();
            names.dedup();
        }
    }
    let hidden_system = |node: &str| system_by_node.get(node).cloned().unwrap_or_default();
    html! {
        <div class="nodes">
            { for cluster.nodes.iter().map(|n| {
                let folded = props.open.as_ref().is_some_and(|o| !o.contains(&n.name));
                let plumbing = props.plumbing.get(&n.name).cloned().unwrap_or_default();
                view_node(n, per_node.get(n.name.as_str()).map(Vec::as_slice).unwrap_or(&[]), &marks, plumbing, hidden_system(&n.name), folded)
            }) }
        </div>
    }
}

/// A node with more pods than this shows them folded by namespace.
const COLLAPSE_ABOVE: usize = 12;

/// Pods grouped by namespace, in order.
fn by_namespace<'a>(pods: &[&'a Pod]) -> Vec<(&'a str, Vec<&'a Pod>)> {
    let mut groups: Vec<(&str, Vec<&Pod>)> = Vec::new();
    for p in pods {
        match groups.iter_mut().find(|(ns, _)| *ns == p.namespace) {
            Some((_, g)) => g.push(p),
            None => groups.push((p.namespace.as_str(), vec![p])),
        }
    }
    groups.sort_by_key(|(ns, _)| *ns);
    groups
}

/// What the pods show about the trace: the source waiting for a target,
/// the ends of the current trace; and what a click does.
struct Marks {
    pick: Option<String>,
    ends: Vec<String>,
    on_pod: Callback<String>,
    /// The folds the user opened, and how a fold reports a toggle.
    opened: std::rc::Rc<std::collections::BTreeSet<String>>,
    on_toggle: Callback<(String, bool)>,
}

/// `ontoggle` for a fold named `key`: tells the Nodes component whether
/// it is open now.
fn toggle(marks: &Marks, key: String) -> Callback<Event> {
    let on_toggle = marks.on_toggle.clone();
    Callback::from(move |e: Event| {
        let open = e.target_unchecked_into::<web_sys::HtmlDetailsElement>().open();
        on_toggle.emit((key.clone(), open));
    })
}

/// A node's plumbing in a line: the plugin's bridge and tunnel devices, and
/// what balances Services there.
fn plumbing_of(network: &podpath_core::datapath::Network, node: &str, cluster: &podpath_core::Cluster) -> Vec<String> {
    let mut out = network.node(node).map(podpath_core::datapath::NodeNet::summary).unwrap_or_default();
    out.push(podpath_core::proxy::label(cluster.settings.proxy_mode));
    out
}

fn view_node(
    node: &Node,
    pods: &[&Pod],
    marks: &Marks,
    plumbing: Vec<String>,
    system: Vec<String>,
    folded: bool,
) -> Html {
    let ip = node.internal_ip.map(|ip| ip.to_string()).unwrap_or_else(|| "no address".into());
    // The ranges the CNI plugin really allocates from on this node (Calico's
    // blocks, Weave's share, Cilium's pool CIDR), not only spec.podCIDR.
    let ranges: Vec<String> = node.network.pod_ranges.iter().map(ToString::to_string).collect();
    let cidr = if ranges.is_empty() { "no pod range".to_owned() } else { ranges.join(", ") };
    html! {
        <article class={classes!("node", node.is_control_plane().then_some("control-plane"), folded.then_some("folded"))} data-testid="node" data-node={node.name.clone()}>
            <header>
                <h2>{ node.name.clone() }</h2>
                <span class="role">{ node.roles() }</span>
                <span class="addr" title="InternalIP">{ ip }</span>
                <span class="cidr" title="pod addresses come from">{ cidr }</span>
                <span class="plumbing" data-testid="plumbing">{ plumbing.join(" · ") }</span>
                if !system.is_empty() {
                    <span class="system" title="the platform's own pods (shown with “system pods”)">{ format!("also runs: {}", system.join(", ")) }</span>
                }
            </header>
            if folded {
                // A big cluster folds the nodes the trace does not touch;
                // their pods are drawn once the user opens the fold.
                <details class="node-fold" open={marks.opened.contains(&node.name)} ontoggle={toggle(marks, node.name.clone())}>
                    <summary>{ format!("{} pod{}", pods.len(), if pods.len() == 1 { "" } else { "s" }) }</summary>
                    if marks.opened.contains(&node.name) {
                        { view_pods(&node.name, pods, marks) }
                    }
                </details>
            } else {
                { view_pods(&node.name, pods, marks) }
            }
        </article>
    }
}

fn view_pods(node: &str, pods: &[&Pod], marks: &Marks) -> Html {
    html! {
        <div class="pods">
            if pods.is_empty() {
                <p class="empty">{ "no pods" }</p>
            }
            if pods.len() <= COLLAPSE_ABOVE {
                { for pods.iter().map(|p| view_pod(p, marks)) }
            } else {
                { for by_namespace(pods).into_iter().map(|(ns, group)| {
                    // A namespace stays open when the trace or a pick is in it,
                    // or the user opened it; a closed one draws no pods.
                    let key = format!("{node}/{ns}");
                    let open = marks.opened.contains(&key)
                        || group.iter().any(|p| marks.ends.contains(&p.key()) || marks.pick.as_deref() == Some(p.key().as_str()));
                    html! {
                        <details class="ns-group" open={open} style={format!("--hue: {}", namespace_hue(ns))} ontoggle={toggle(marks, key)}>
                            <summary>{ format!("{ns} · {} pods", group.len()) }</summary>
                            if open {
                                { for group.iter().map(|p| view_pod(p, marks)) }
                            }
                        </details>
                    }
                }) }
            }
        </div>
    }
}

fn view_pod(pod: &Pod, marks: &Marks) -> Html {
    let ip = pod.ip.map(|ip| ip.to_string()).unwrap_or_default();
    let (state, title) = match &pod.phase {
        PodPhase::Running => (
            None,
            format!(
                "{} on {}: click to trace from it, then click another",
                pod.key(),
                pod.node.as_deref().unwrap_or("?")
            ),
        ),
        PodPhase::Pending { reason, message } => (Some(reason.clone()), format!("{}: {message}", pod.key())),
    };
    let key = pod.key();
    let picked = marks.pick.as_deref() == Some(key.as_str());
    let end = marks.ends.contains(&key);
    let onclick = {
        let (cb, key) = (marks.on_pod.clone(), key.clone());
        Callback::from(move |_: MouseEvent| cb.emit(key.clone()))
    };
    html! {
        <button class={classes!("pod", state.is_some().then_some("pending"), pod.host_network.then_some("host-network"), picked.then_some("picked"), end.then_some("trace-end"))}
             data-testid="pod" data-pod={key} data-ip={ip.clone()} aria-pressed={picked.to_string()}
             style={format!("--hue: {}", namespace_hue(&pod.namespace))} title={title} onclick={onclick} disabled={pod.ip.is_none()}>
            <span class="pod-name">{ pod.name.clone() }</span>
            <span class="pod-ip">{ if ip.is_empty() { state.unwrap_or_default() } else { ip } }</span>
            <span class="pod-ns">{ pod.namespace.clone() }</span>
        </button>
    }
}
