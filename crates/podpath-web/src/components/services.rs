//! The Services layer: each Service with its addresses and the endpoints
//! its EndpointSlices list, below the nodes.

use yew::prelude::*;

use crate::scene::ServiceView;

use crate::palette::namespace_hue;
use crate::state::Action;
use crate::state::ModelHandle;

/// Endpoints listed per Service; the rest are counted.
const SHOWN_ENDPOINTS: usize = 8;

#[component]
pub fn Services() -> Html {
    let model = use_context::<ModelHandle>().expect("Services is rendered inside the model's provider");
    let scene = model.scene.clone();
    let services: Vec<&ServiceView> = scene.services.iter().filter(|s| model.show_system || !s.is_system()).collect();
    if services.is_empty() {
        return html! {};
    }
    html! {
        <section class="services" aria-label="Services">
            <h2>{ "Services" }</h2>
            <div class="service-list">
                { for services.iter().map(|s| view_service(s, &model)) }
            </div>
            if !model.show_system {
                <div class="platform" data-testid="platform">
                    { for scene.platform.iter().map(|t| html! { <span class="platform-item">{ t }</span> }) }
                </div>
            }
        </section>
    }
}

fn view_service(s: &ServiceView, model: &ModelHandle) -> Html {
    let endpoints = &s.endpoints;
    // With a source pod picked, a click traces to the Service by its name.
    let onclick = model.pick.clone().map(|from| {
        let model = model.clone();
        let to = format!("{}.{}", s.name, s.namespace);
        let port = s.first_port;
        Callback::from(move |_: MouseEvent| model.dispatch(Action::Trace { from: from.clone(), to: to.clone(), port }))
    });
    let pickable = onclick.is_some();
    html! {
        <article class={classes!("service", pickable.then_some("pickable"))} data-testid="service" data-service={s.key()} style={format!("--hue: {}", namespace_hue(&s.namespace))}>
            <header>
                if let Some(onclick) = onclick {
                    <button class="svc-name link-like" onclick={onclick} data-testid="service-target">{ s.key() }</button>
                } else {
                    <span class="svc-name">{ s.key() }</span>
                }
                <span class="svc-type">{ s.type_.clone() }</span>
            </header>
            <div class="svc-addr">{ s.address.clone() }{ if s.external.is_empty() { String::new() } else { format!("  ·  {}", s.external.join(", ")) } }</div>
            <div class="svc-ports">{ s.ports.join(", ") }</div>
            <div class="svc-endpoints">
                if endpoints.is_empty() {
                    <span class="none">{ "no endpoints" }</span>
                } else {
                    { for endpoints.iter().take(SHOWN_ENDPOINTS).map(|e| html! { <span class="ep">{ e.clone() }</span> }) }
                    if endpoints.len() > SHOWN_ENDPOINTS {
                        // As kubectl's ENDPOINTS column does, past a few.
                        <span class="ep more">{ format!("+ {} more…", endpoints.len() - SHOWN_ENDPOINTS) }</span>
                    }
                }
            </div>
        </article>
    }
}
