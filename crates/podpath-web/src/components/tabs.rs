//! The tabs below the topology: the policy matrix, a node's rules and
//! routes (with the line a hop quoted picked out), DNS lookups as a pod
//! would make them, the capture of the current trace (`capture.rs`), and the terminal
//! (`terminal.rs`).

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::session::Request;
use crate::state::ModelHandle;
use crate::state::{Action, Tab};

#[component]
pub fn Tabs() -> Html {
    let model = use_context::<ModelHandle>().expect("Tabs is rendered inside the model's provider");
    let tab = model.tab;
    html! {
        <section class="tabs" aria-label="Tools">
            <div role="tablist" class="tab-list">
                { for Tab::ALL.iter().map(|t| {
                    let model = model.clone();
                    let t = *t;
                    let onclick = Callback::from(move |_: MouseEvent| model.dispatch(Action::SetTab(t)));
                    html! {
                        <button role="tab" id={format!("tab-{}", t.id())} aria-selected={(t == tab).to_string()}
                                aria-controls={format!("panel-{}", t.id())} data-testid={format!("tab-{}", t.id())}
                                class={classes!((t == tab).then_some("active"))} onclick={onclick}>
                            { t.label() }
                        </button>
                    }
                }) }
            </div>
            <div role="tabpanel" id={format!("panel-{}", tab.id())} aria-labelledby={format!("tab-{}", tab.id())} class="tab-panel">
                { match tab {
                    Tab::Matrix => html! { <crate::components::matrix::PolicyMatrix /> },
                    Tab::Rules => html! { <NodeRules /> },
                    Tab::Dns => html! { <DnsTab /> },
                    Tab::Capture => html! { <crate::components::capture::Capture /> },
                    Tab::Terminal => html! { <crate::components::terminal::Terminal /> },
                } }
            </div>
        </section>
    }
}

/// A node's service-proxy dump and its routes, the focused line marked and
/// scrolled to.
#[component]
fn NodeRules() -> Html {
    let model = use_context::<ModelHandle>().expect("NodeRules is rendered inside the model's provider");
    let scene = model.scene.clone();
    let focus = model.rule_focus.clone();
    let chosen = use_state(|| None::<String>);
    let node = focus
        .as_ref()
        .map(|(n, _)| n.clone())
        .filter(|n| chosen.is_none() || chosen.as_deref() == Some(n.as_str()))
        .or_else(|| (*chosen).clone())
        .or_else(|| scene.nodes.iter().find(|n| !n.control_plane).or(scene.nodes.first()).map(|n| n.name.clone()))
        .unwrap_or_default();
    let marked = use_node_ref();
    {
        let marked = marked.clone();
        use_effect_with(focus.clone(), move |_| {
            if let Some(el) = marked.cast::<web_sys::Element>() {
                el.scroll_into_view();
            }
        });
    }
    let on_node = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| chosen.set(Some(e.target_unchecked_into::<HtmlSelectElement>().value())))
    };
    let mode = scene.proxy_mode;
    // The node's dumps change with the cluster and the node shown, not with
    // each hop the player shows: asked for again only then.
    {
        let model = model.clone();
        use_effect_with((model.generation(), node.clone()), move |(generation, node)| {
            if *generation > 0 && !node.is_empty() {
                model.dispatch(Action::Ask(Request::Rules(node.clone())));
            }
        });
    }
    let dumps = model
        .rules
        .as_ref()
        .filter(|r| r.0 == model.generation() && r.1.node == node)
        .map(|r| r.1.clone())
        .unwrap_or_default();
    let (dump, command, routes) = (&dumps.dump, &dumps.command, &dumps.routes);
    let focus_line = focus.as_ref().filter(|(n, _)| *n == node).map(|(_, r)| r.clone());
    let mut marked_once = false;
    let mut line = |l: &str| {
        let hit = !marked_once && focus_line.as_deref().is_some_and(|f| l.trim() == f.trim() || l.contains(f.trim()));
        marked_once |= hit;
        if hit {
            html! { <span class="line marked" ref={marked.clone()} data-testid="rule-marked">{ l }{ "\n" }</span> }
        } else {
            html! { <span class="line">{ l }{ "\n" }</span> }
        }
    };
    let routes_html: Html = routes.lines().map(&mut line).collect();
    let dump_html: Html = dump.lines().map(&mut line).collect();
    html! {
        <div class="node-rules" data-testid="node-rules">
            <label>{ "Node " }
                <select onchange={on_node} aria-label="node">
                    { for scene.nodes.iter().map(|n| html! { <option value={n.name.clone()} selected={n.name == node}>{ n.name.clone() }</option> }) }
                </select>
            </label>
            <h3>{ "ip route" }</h3>
            <pre class="dump">{ routes_html }</pre>
            <h3>{ format!("{command} ({mode} mode)") }</h3>
            <pre class="dump">{ dump_html }</pre>
        </div>
    }
}

/// A name resolved as a ClusterFirst pod in a namespace would.
#[component]
fn DnsTab() -> Html {
    let model = use_context::<ModelHandle>().expect("DnsTab is rendered inside the model's provider");
    let query = use_state(|| ("".to_owned(), "default".to_owned()));
    let (name_ref, ns_ref) = (use_node_ref(), use_node_ref());
    let onsubmit = {
        let (query, name_ref, ns_ref) = (query.clone(), name_ref.clone(), ns_ref.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let v = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            query.set((v(&name_ref), v(&ns_ref)));
        })
    };
    let (name, ns) = (*query).clone();
    {
        let model = model.clone();
        use_effect_with((model.generation(), name.clone(), ns.clone()), move |(_, name, namespace)| {
            if model.generation() > 0 && !name.trim().is_empty() {
                model.dispatch(Action::Ask(Request::Resolve { name: name.clone(), namespace: namespace.clone() }));
            }
        });
    }
    let result =
        model.dns.as_ref().filter(|d| d.0 == name && d.1 == ns && !name.trim().is_empty()).map(|d| d.2.clone());
    html! {
        <div class="dns-tab" data-testid="dns-tab">
            <form onsubmit={onsubmit} class="inline-form">
                <label>{ "Name " }<input ref={name_ref} value={name.clone()} placeholder="web, api.shop, example.com" data-testid="dns-name" /></label>
                <label>{ " from a pod in namespace " }<input ref={ns_ref} value={ns.clone()} data-testid="dns-namespace" /></label>
                <button type="submit">{ "Resolve" }</button>
            </form>
            if let Some(text) = result {
                <pre class="dump" data-testid="dns-result">{ text }</pre>
            }
        </div>
    }
}
