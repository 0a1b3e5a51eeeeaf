//! The Gateway API layer: each Gateway with its class, address and
//! listeners, and the routes that name it with their rules — the route and
//! rule that took the request on screen marked active, so the hop of the
//! data plane and the drawing say the same thing.

use yew::prelude::*;

use podpath_core::gateway::view::{GatewaySummary, RouteSummary};

use crate::palette::namespace_hue;
use crate::state::ModelHandle;

#[component]
pub fn Gateways() -> Html {
    let model = use_context::<ModelHandle>().expect("Gateways is rendered inside the model's provider");
    let scene = model.scene.clone();
    if scene.gateways.is_empty() {
        return html! {};
    }
    // The trace's Gateway, route and rule index (`NS/NAME rules[N]…`).
    let http = model.trace.as_ref().and_then(|t| t.result.as_ref().ok()).and_then(|t| t.http.as_deref());
    let active_gateway = http.and_then(|h| h.gateway.clone());
    let active_route = http.and_then(|h| h.route.clone());
    let active_rule = http.and_then(|h| h.rule.as_deref()).and_then(rule_index);
    html! {
        <section class="gateways" aria-label="Gateways">
            <h2>{ "Gateways" }</h2>
            <div class="gateway-list">
                { for scene.gateways.iter().map(|g| view_gateway(g, active_gateway.as_deref(), active_route.as_deref(), active_rule)) }
            </div>
        </section>
    }
}

/// `rules[N]` in the data plane's rule text.
fn rule_index(rule: &str) -> Option<usize> {
    let at = rule.find("rules[")? + "rules[".len();
    rule[at..].split(']').next()?.parse().ok()
}

fn view_gateway(g: &GatewaySummary, gateway: Option<&str>, route: Option<&str>, rule: Option<usize>) -> Html {
    let key = format!("{}/{}", g.namespace, g.name);
    let active = gateway == Some(key.as_str());
    let by =
        if g.implementation.is_empty() { "no controller takes its class".to_owned() } else { g.implementation.clone() };
    html! {
        <article class={classes!("gateway", active.then_some("active"))} data-testid="gateway" data-gateway={key.clone()}
                 data-active={active.to_string()} style={format!("--hue: {}", namespace_hue(&g.namespace))}>
            <header>
                <span class="gw-name">{ key.clone() }</span>
                <span class="gw-class">{ format!("{} · {by}", g.class) }</span>
            </header>
            <div class="gw-addr">
                { g.address.clone().unwrap_or_else(|| "no address".to_owned()) }
                { if g.programmed { "  ·  Programmed" } else { "  ·  not Programmed" } }
            </div>
            <div class="gw-listeners">{ g.listeners.join("  ·  ") }</div>
            <ul class="gw-routes">
                { for g.routes.iter().map(|r| view_route(r, route, rule)) }
            </ul>
        </article>
    }
}

fn view_route(r: &RouteSummary, route: Option<&str>, rule: Option<usize>) -> Html {
    let key = format!("{}/{}", r.namespace, r.name);
    let active = route == Some(key.as_str());
    html! {
        <li class={classes!("gw-route", active.then_some("active"), (!r.problem.is_empty()).then_some("detached"))}
            data-testid="route" data-route={key.clone()} data-active={active.to_string()}>
            <div class="gw-route-head">
                <span class="gw-route-kind">{ r.kind.clone() }</span>{ " " }
                <span class="gw-route-name">{ key.clone() }</span>
                if !r.hostnames.is_empty() {
                    <span class="gw-route-hosts">{ format!("  {}", r.hostnames.join(", ")) }</span>
                }
            </div>
            if !r.problem.is_empty() {
                <div class="gw-route-problem" data-testid="route-problem">{ r.problem.clone() }</div>
            }
            <ol class="gw-route-rules" start="0">
                { for r.rules.iter().enumerate().map(|(i, text)| {
                    let on = active && rule == Some(i);
                    html! { <li class={classes!("gw-route-rule", on.then_some("active"))} data-testid="route-rule" data-active={on.to_string()}>{ text.clone() }</li> }
                }) }
            </ol>
        </li>
    }
}
