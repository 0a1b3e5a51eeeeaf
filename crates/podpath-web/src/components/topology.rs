//! The cluster as boxes: each node with its address and pod CIDR, its pods
//! inside, coloured by namespace; pods no node took are shown apart with the
//! scheduler's reason.

use podpath_core::system::is_system_namespace;
use podpath_core::topology::Place;
use yew::prelude::*;

use crate::hooks::{use_packet_motion, use_scene_memo};
use crate::palette::namespace_hue;
use crate::scene::{NodeView, PodView, Scene};
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

fn marker(model: &crate::state::Model) -> Option<Marker> {
    use podpath_core::trace::walk::{Change, Walk};
    let view = model.trace.as_ref()?;
    let t = view.result.as_ref().ok()?;
    let step = model.step?;
    let f = Walk::new(t).frame(step)?;
    let (hop, p) = (f.hop, &f.hop.packet);
    Some(Marker {
        selector: selector(model, view.places.get(step)?.as_ref()?),
        label: format!("{}:{} → {}:{}", p.src, p.sport, p.dst, p.dport),
        encap: p.outer.is_some(),
        dropped: hop.action.stops(),
        // A NAT rewrite at this hop: the marker flashes.
        rewritten: f.changes.iter().any(|c| matches!(c, Change::Source { .. } | Change::Destination { .. })),
    })
}

/// The element a place is drawn as, as a CSS selector: a pod that is
/// hidden (the platform's own, unless shown) is drawn as its node.
fn selector(model: &crate::state::Model, place: &Place) -> String {
    match place {
        Place::Pod(key) if model.show_system || !key.split('/').next().is_some_and(is_system_namespace) => {
            format!("[data-testid=pod][data-pod=\"{key}\"]")
        }
        Place::Pod(key) => {
            let node = model.scene.pod(key).and_then(|p| p.node.clone());
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
fn open_nodes(model: &crate::state::Model) -> Option<std::collections::BTreeSet<String>> {
    if model.scene.nodes.len() <= FOLD_NODES_ABOVE {
        return None;
    }
    let mut near: std::collections::BTreeSet<String> =
        model.trace.iter().flat_map(|t| t.near.iter().cloned()).collect();
    near.extend(model.pick.as_deref().and_then(|p| model.scene.pod(p)).and_then(|p| p.node.clone()));
    Some(near)
}

#[component]
pub fn Topology() -> Html {
    let model = use_context::<ModelHandle>().expect("Topology is rendered inside the model's provider");
    let scene = model.scene.clone();
    let shown = |p: &&PodView| model.show_system || !p.is_system();
    let unscheduled: Vec<&PodView> = scene.pods.iter().filter(shown).filter(|p| p.node.is_none()).collect();
    // The legend changes with the cluster and the system switch only.
    let namespaces = use_scene_memo(&model, model.show_system, |scene, system| {
        let mut namespaces: Vec<String> =
            scene.pods.iter().filter(|p| *system || !p.is_system()).map(|p| p.namespace.clone()).collect();
        namespaces.dedup();
        namespaces
    });
    let (stage, packet) = (use_node_ref(), use_node_ref());
    let mark = marker(&model);
    use_packet_motion(packet.clone(), stage.clone(), mark.as_ref().map(|m| m.selector.clone()), model.speed);
    let path = use_node_ref();
    let passed: &[Place] = model.trace.as_ref().map_or(&[], |t| t.route.as_slice());
    crate::hooks::use_route_path(path.clone(), stage.clone(), route(&model, passed), model.show_system);
    let open = open_nodes(&model);
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
    let outside = model.trace.as_ref().is_some_and(|t| t.from == "external");
    html! {
        <section class={classes!("topology", model.stale.then_some("stale"))} aria-label="Cluster topology" data-testid="topology" ref={stage}>
            <div class="legend">
                { for namespaces.iter().map(|ns| html! {
                    <span class="ns" style={format!("--hue: {}", namespace_hue(ns))}>{ ns.clone() }</span>
                }) }
            </div>
            if outside {
                <div class="outside" data-testid="outside">{ format!("external client {}", podpath_core::trace::OUTSIDE_CLIENT) }</div>
            }
            // North-south: the way in from outside, above the nodes.
            <crate::components::gateways::Gateways />
            <Nodes scene={Shared(scene.clone())} show_system={model.show_system} pick={model.pick.clone()}
                   ends={ends} open={open} on_pod={on_pod} />
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

/// The scene, compared by identity: a new simulation is a new scene.
#[derive(Clone, Debug)]
pub struct Shared(pub std::rc::Rc<Scene>);

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Properties, PartialEq)]
struct NodesProps {
    scene: Shared,
    show_system: bool,
    pick: Option<String>,
    ends: Vec<String>,
    open: Option<std::collections::BTreeSet<String>>,
    on_pod: Callback<String>,
}

/// The node boxes. Their props do not change while a trace plays, so the
/// player's ticks do not render (or diff) the hundreds of pods again.
#[component]
fn Nodes(props: &NodesProps) -> Html {
    let scene = &props.scene.0;
    // Pods by node, in the scene's order (namespace, then name).
    let mut per_node: std::collections::BTreeMap<&str, Vec<&PodView>> = std::collections::BTreeMap::new();
    for p in scene.pods.iter().filter(|p| props.show_system || !p.is_system()) {
        if let Some(n) = p.node.as_deref() {
            per_node.entry(n).or_default().push(p);
        }
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
    html! {
        <div class="nodes">
            { for scene.nodes.iter().map(|n| {
                let folded = props.open.as_ref().is_some_and(|o| !o.contains(&n.name));
                let system: &[String] = if props.show_system { &[] } else { &n.system };
                view_node(n, per_node.get(n.name.as_str()).map(Vec::as_slice).unwrap_or(&[]), &marks, system, folded)
            }) }
        </div>
    }
}

/// A node with more pods than this shows them folded by namespace.
const COLLAPSE_ABOVE: usize = 12;

/// Pods grouped by namespace, in order.
fn by_namespace<'a>(pods: &[&'a PodView]) -> Vec<(&'a str, Vec<&'a PodView>)> {
    let mut groups: Vec<(&str, Vec<&PodView>)> = Vec::new();
    for p in pods {
        match groups.iter_mut().find(|(ns, _)| *ns == p.namespace) {
            Some((_, g)) => g.push(p),
            None => groups.push((p.namespace.as_str(), vec![p])),
        }
    }
    podpath_core::order::sort_by_key(&mut groups, |(ns, _)| *ns);
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

fn view_node(node: &NodeView, pods: &[&PodView], marks: &Marks, system: &[String], folded: bool) -> Html {
    let ip = node.ip.clone().unwrap_or_else(|| "no address".into());
    // The ranges the CNI plugin really allocates from on this node (Calico's
    // blocks, Weave's share, Cilium's pool CIDR), not only spec.podCIDR.
    let cidr = if node.ranges.is_empty() { "no pod range".to_owned() } else { node.ranges.join(", ") };
    let plumbing = &node.plumbing;
    html! {
        <article class={classes!("node", node.control_plane.then_some("control-plane"), folded.then_some("folded"))} data-testid="node" data-node={node.name.clone()}>
            <header>
                <h2>{ node.name.clone() }</h2>
                <span class="role">{ node.roles.clone() }</span>
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

fn view_pods(node: &str, pods: &[&PodView], marks: &Marks) -> Html {
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

fn view_pod(pod: &PodView, marks: &Marks) -> Html {
    let ip = pod.ip.clone().unwrap_or_default();
    let (state, title) = match &pod.pending {
        None => (
            None,
            format!(
                "{} on {}: click to trace from it, then click another",
                pod.key(),
                pod.node.as_deref().unwrap_or("?")
            ),
        ),
        Some((reason, message)) => (Some(reason.clone()), format!("{}: {message}", pod.key())),
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
