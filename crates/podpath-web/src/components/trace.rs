//! The inspector: a box to ask for a trace, then the trace — its verdict,
//! the player (play, pause, step, back, speed), every hop with where it
//! happened and what it did (the current one highlighted, a click jumps to
//! it), and the current hop's packet layer by layer, before and after, with
//! the rule or route line that acted.

use std::rc::Rc;

use podpath_core::cluster::Protocol;
use podpath_core::trace::walk::{Frame, Leg, Walk};
use podpath_core::trace::{Headers, Trace};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::scene::Scene;
use crate::state::Action;
use crate::state::ModelHandle;

/// The most pods the trace inputs suggest at once.
const SUGGESTIONS: usize = 200;

/// What the suggestions are drawn from: the scene (compared by identity:
/// a new simulation is a new scene) and the text being typed.
#[derive(Properties, Clone, Debug)]
pub struct SourcesProps {
    pub scene: Rc<Scene>,
    pub typed: String,
}

impl PartialEq for SourcesProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.scene, &other.scene) && self.typed == other.typed
    }
}

/// The suggestions both trace inputs share: `external`, every node, and
/// the pods with an address whose name contains what is typed — the first
/// [`SUGGESTIONS`] of them: a list of 20,000 pods took a long task to
/// build, and no one scrolls it.
#[component]
fn TraceSources(props: &SourcesProps) -> Html {
    let scene = &props.scene;
    // Sorted already, by namespace and name.
    let pods = scene
        .pods
        .iter()
        .filter(|p| p.ip.is_some())
        .map(|p| p.key())
        .filter(|k| k.contains(props.typed.trim()))
        .take(SUGGESTIONS);
    html! {
        <datalist id="trace-sources">
            <option value="external" />
            { for scene.nodes.iter().map(|n| html! { <option value={format!("node/{}", n.name)} /> }) }
            { for pods.map(|p| html! { <option value={p} /> }) }
        </datalist>
    }
}

/// The form that starts a trace: from, to (a pod, a name, a URL), port.
#[component]
pub fn TraceBox() -> Html {
    let model = use_context::<ModelHandle>().expect("TraceBox is rendered inside the model's provider");
    let (from_ref, to_ref, port_ref) = (use_node_ref(), use_node_ref(), use_node_ref());
    let current = model.trace.clone();
    let from = model.pick.clone().or_else(|| current.as_ref().map(|t| t.from.clone())).unwrap_or_default();
    let to = current.as_ref().map(|t| t.to.clone()).unwrap_or_default();
    let port = current.as_ref().map_or(80, |t| t.port);
    // The inputs are not bound to the model: a render (a tick of the
    // player, an answer from the worker) would put back the model's value
    // over what the user is typing. They are set when what they show
    // changes: a pod picked, a trace opened.
    {
        let (from_ref, to_ref, port_ref) = (from_ref.clone(), to_ref.clone(), port_ref.clone());
        use_effect_with((from.clone(), to.clone(), port), move |(from, to, port)| {
            for (input, value) in [(&from_ref, from.clone()), (&to_ref, to.clone()), (&port_ref, port.to_string())] {
                if let Some(el) = input.cast::<HtmlInputElement>() {
                    el.set_value(&value);
                }
            }
        });
    }
    // What is being typed in either input: the suggestions follow it.
    let typed = use_state(String::new);
    let oninput = {
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| typed.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let onsubmit = {
        let (model, from_ref, to_ref, port_ref) = (model.clone(), from_ref.clone(), to_ref.clone(), port_ref.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let port = value(&port_ref).parse().unwrap_or(80);
            model.dispatch(Action::Trace { from: value(&from_ref), to: value(&to_ref), port });
        })
    };
    let on_protocol = {
        let model = model.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            if let Some(p) = Protocol::from_name(&v) {
                model.dispatch(Action::SetProtocol(p));
            }
        })
    };
    html! {
        <form class="trace-box" onsubmit={onsubmit} aria-label="Trace a packet" data-testid="trace-form">
            <label>{ "From" }
                <input ref={from_ref} list="trace-sources" oninput={oninput.clone()} placeholder="ns/pod, node/NAME or external"
                       data-testid="trace-from" aria-describedby="trace-hint" />
            </label>
            <label>{ "To" }
                <input ref={to_ref} list="trace-sources" {oninput} placeholder="ns/pod, a name, or http://host/path"
                       data-testid="trace-to" />
            </label>
            <div class="row">
                <label class="port">{ "Port" }
                    <input ref={port_ref} type="number" min="1" max="65535" data-testid="trace-port" />
                </label>
                <label>{ "Protocol" }
                    <select onchange={on_protocol} data-testid="trace-protocol">
                        { for [(Protocol::Tcp, "TCP"), (Protocol::Udp, "UDP"), (Protocol::Icmp, "ICMP (ping)")].iter().map(|(p, l)| html! {
                            <option value={p.name()} selected={model.protocol == *p}>{ *l }</option>
                        }) }
                    </select>
                </label>
            </div>
            <button type="submit" data-testid="trace-go">{ "Trace" }</button>
            <TraceSources scene={model.scene.clone()} typed={(*typed).clone()} />
            <p id="trace-hint" class="hint">
                if let Some(p) = &model.pick {
                    { format!("from {p}: now click the pod or Service to reach") }
                } else {
                    { "or click a pod, then another" }
                }
            </p>
        </form>
    }
}

#[component]
pub fn TracePanel() -> Html {
    let model = use_context::<ModelHandle>().expect("TracePanel is rendered inside the model's provider");
    // The capture changes with the trace, not with each hop the player shows.
    let pcap = crate::hooks::use_trace_memo(&model, |t| {
        t.map(|t| data_encoding::BASE64.encode(&podpath_core::pcap::write(t))).unwrap_or_default()
    });
    let Some(view) = model.trace.clone() else { return html! {} };
    let dispatch = |a: fn() -> Action| {
        let model = model.clone();
        Callback::from(move |_: MouseEvent| model.dispatch(a()))
    };
    let on_speed = {
        let model = model.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlInputElement>().value();
            model.dispatch(Action::SetSpeed(v.parse().unwrap_or(2)));
        })
    };
    let step = model.step;
    html! {
        <section class="trace-panel" aria-label="Trace" data-testid="trace">
            <h2>
                { format!("{} → {}", view.from, view.to) }
                <button class="close" onclick={dispatch(|| Action::CloseTrace)} aria-label="close the trace">{ "×" }</button>
            </h2>
            { match &view.result {
                Err(e) => html! { <p class="verdict error" data-testid="verdict" data-verdict="error">{ e.clone() }</p> },
                Ok(t) => html! {
                    <>
                        <p class={classes!("verdict", t.verdict.as_str())} data-testid="verdict" data-verdict={t.verdict.as_str()}>
                            <strong>{ t.verdict.as_str() }</strong>{ " — " }{ t.reason.clone() }
                        </p>
                        if let Some(h) = &t.http {
                            <p class="http" data-testid="http-status">{ format!("HTTP {} {}", h.status, podpath_core::http::reason(h.status)) }
                                { h.backend.as_ref().map(|b| format!(" from {b}")).unwrap_or_default() }
                                { h.ingress.as_ref().map(|i| format!(" via Ingress {i}")).unwrap_or_default() }
                                { h.gateway.as_ref().map(|g| format!(" via Gateway {g}")).unwrap_or_default() }
                            </p>
                            // Both an Ingress and a Gateway route name the host:
                            // the same request the other way, side by side.
                            if let Some(also) = &h.also {
                                <p class="http also" data-testid="http-also">{ format!("The other way: {also}") }</p>
                            }
                        }
                        <div class="player" role="group" aria-label="Packet player">
                            <button onclick={dispatch(|| Action::StepBack)} title="one hop back (←)" data-testid="step-back" disabled={step.is_none_or(|i| i == 0)}>{ "‹ back" }</button>
                            if model.playing {
                                <button onclick={dispatch(|| Action::Pause)} title="pause (space)" data-testid="pause">{ "pause" }</button>
                            } else {
                                <button onclick={dispatch(|| Action::Play)} title="play (space)" data-testid="play">{ "play ▸" }</button>
                            }
                            <button onclick={dispatch(|| Action::StepForward)} title="one hop forward (→)" data-testid="step-forward"
                                    disabled={step.is_some_and(|i| i + 1 >= view.len())}>{ "next ›" }</button>
                            <label class="speed">{ "speed " }
                                <input type="range" min="1" max="8" value={model.speed.to_string()} onchange={on_speed} aria-label="hops per second" />
                            </label>
                            <span class="position" data-testid="position" aria-live="polite">
                                { step.map(|i| format!("hop {} of {}", i + 1, view.len())).unwrap_or_default() }
                            </span>
                            <a class="pcap" data-testid="pcap-download" download="podpath-trace.pcap"
                               href={format!("data:application/vnd.tcpdump.pcap;base64,{pcap}")}>
                                { "pcap" }
                            </a>
                        </div>
                        { hop_detail(&model, t, step) }
                        { hop_lists(&model, t, step) }
                    </>
                },
            } }
        </section>
    }
}

/// The request's hops, then the reply's, from one walk of the trace.
fn hop_lists(model: &ModelHandle, t: &Trace, step: Option<usize>) -> Html {
    let (request, reply): (Vec<Frame<'_>>, Vec<Frame<'_>>) =
        Walk::new(t).run().into_iter().partition(|f| f.leg == Leg::Request);
    html! {
        <>
            <ol class="hops">{ for request.into_iter().map(|f| hop(model, f, step)) }</ol>
            if !reply.is_empty() {
                <h3 class="reply-title">{ "the reply, back through conntrack" }</h3>
                <ol class="hops reply" start={(t.hops.len() + 1).to_string()}>
                    { for reply.into_iter().map(|f| hop(model, f, step)) }
                </ol>
            }
        </>
    }
}

/// One hop of the list: `hop` for the request's, `reply-hop` for the reply's.
fn hop(model: &ModelHandle, f: Frame<'_>, step: Option<usize>) -> Html {
    let h = f.hop;
    let testid = if f.leg == Leg::Request { "hop" } else { "reply-hop" };
    let current = step == Some(f.index);
    let onclick = {
        let (model, i) = (model.clone(), f.index);
        Callback::from(move |_: MouseEvent| model.dispatch(Action::StepTo(i)))
    };
    html! {
        <li class={classes!("hop", current.then_some("current"), h.action.stops().then_some("bad"))}
            data-testid={testid} data-action={h.action.as_str()} data-index={f.index.to_string()}
            aria-current={current.then_some("step")}>
            <button class="hop-head" onclick={onclick}>
                <span class="hop-node">{ h.node.clone().unwrap_or_default() }</span>
                <span class="hop-at">{ h.at.to_string() }</span>
                <span class="hop-action">{ h.action.as_str() }</span>
            </button>
            <span class="hop-packet">{ format!("{}:{} → {}:{} ttl {}", h.packet.src, h.packet.sport, h.packet.dst, h.packet.dport, h.packet.ttl) }</span>
            if let Some(o) = &h.packet.outer {
                <span class="hop-outer" data-testid="hop-outer">{ format!("in {} {} → {}", o.encap.name(), o.src, o.dst) }</span>
            }
            { for f.changes.iter().map(|c| html! { <span class="hop-change" data-testid="hop-change">{ c.to_string() }</span> }) }
        </li>
    }
}

/// The current hop, opened: what happened and why, the packet's layers
/// before and after, and the line that acted.
fn hop_detail(model: &ModelHandle, t: &Trace, step: Option<usize>) -> Html {
    let Some(f) = step.and_then(|i| Walk::new(t).frame(i)) else { return html! {} };
    let h = f.hop;
    // Every line a hop quotes is in its node's dumps (the proxy's rules, or
    // the routes): the rules tab can show it in place.
    let show_rule = match (&h.node, &h.rule) {
        // A proxy's rule (nginx's location, a route's rule) is its own
        // configuration, not the node's.
        _ if matches!(h.at, podpath_core::step::Place::PodApp { .. }) => None,
        (Some(node), Some(rule)) => {
            let (model, node, rule) = (model.clone(), node.clone(), rule.clone());
            Some(Callback::from(move |_: MouseEvent| {
                model.dispatch(Action::ShowRule { node: node.clone(), rule: rule.clone() })
            }))
        }
        _ => None,
    };
    html! {
        <section class="hop-detail-box" data-testid="hop-detail" aria-label="The current hop">
            <h3>{ format!("{} · {} · {}", h.node.clone().unwrap_or_default(), h.at, h.action) }</h3>
            if !h.detail.is_empty() { <p>{ h.detail.clone() }</p> }
            if let Some(rule) = &h.rule {
                <pre class="rule-line" data-testid="hop-rule">{ rule.clone() }</pre>
                if let Some(cb) = show_rule {
                    <button class="link" onclick={cb} data-testid="show-rule">{ "show it in the node's rules" }</button>
                }
            }
            <div class="layers">
                if let Some(before) = f.before {
                    <div><h4>{ "before" }</h4>{ layers(before) }</div>
                }
                <div><h4>{ if f.before.is_some() { "after" } else { "packet" } }</h4>{ layers(&h.packet) }</div>
            </div>
            { for f.changes.iter().map(|c| html! { <p class="hop-change">{ c.to_string() }</p> }) }
        </section>
    }
}

/// The packet's headers, outermost first, as Wireshark lists layers.
fn layers(p: &Headers) -> Html {
    let proto = p.protocol.as_str();
    let l4 = match p.protocol {
        Protocol::Icmp => format!("ICMP echo, id {}", p.sport),
        _ => format!("{proto}, Src Port: {}, Dst Port: {}", p.sport, p.dport),
    };
    html! {
        <ul class="layer-list">
            if let Some(o) = &p.outer {
                <li class="outer">{ format!("Internet Protocol Version 4, Src: {}, Dst: {} (outer)", o.src, o.dst) }</li>
                <li class="outer">{ match o.encap {
                    podpath_core::datapath::Encap::Vxlan { vni, port } => format!("UDP {} → {port}, Virtual eXtensible Local Area Network, VNI: {vni}", o.sport),
                    podpath_core::datapath::Encap::Geneve { vni, port } => format!("UDP {} → {port}, Generic Network Virtualization Encapsulation, VNI: {vni}", o.sport),
                    podpath_core::datapath::Encap::Ipip => "IP in IP (protocol 4)".to_owned(),
                    podpath_core::datapath::Encap::Sleeve { port, .. } => format!("UDP {port} → {port}, Weave sleeve"),
                } }</li>
            }
            <li>{ format!("Internet Protocol Version 4, Src: {}, Dst: {}, TTL: {}", p.src, p.dst, p.ttl) }</li>
            <li>{ l4 }</li>
        </ul>
    }
}
