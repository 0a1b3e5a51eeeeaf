//! The top bar: the product's name, the CNI and proxy-mode switches, and a
//! one-line summary of the cluster.

use podpath_core::{Cni, ProxyMode};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::app::ModelHandle;
use crate::state::Action;

#[component]
pub fn Toolbar() -> Html {
    let model = use_context::<ModelHandle>().expect("Toolbar is rendered inside the model's provider");
    let settings = &model.cluster.settings;
    let on_cni = {
        let model = model.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            model.dispatch(Action::SetCni(Cni::parse(&value)));
        })
    };
    let on_proxy = {
        let model = model.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            model.dispatch(Action::SetProxyMode(ProxyMode::parse(&value)));
        })
    };
    let on_system = {
        let model = model.clone();
        Callback::from(move |e: Event| {
            let checked = e.target_unchecked_into::<web_sys::HtmlInputElement>().checked();
            model.dispatch(Action::ShowSystem(checked));
        })
    };
    let cni_value = model.overrides.cni.map(Cni::as_str).unwrap_or("");
    let proxy_value = model.overrides.proxy_mode.map(ProxyMode::as_str).unwrap_or("");
    let running = model.cluster.pods.iter().filter(|p| p.is_running()).count();
    html! {
        <header class="toolbar">
            <h1 class="brand">{ "podpath" }<span class="tagline">{ "Kubernetes networking, packet by packet" }</span></h1>
            <label>
                { "CNI " }
                <select data-testid="cni-select" onchange={on_cni}>
                    <option value="" selected={cni_value.is_empty()}>{ format!("as written ({})", settings.cni) }</option>
                    { for Cni::ALL.iter().map(|c| html! {
                        <option value={c.as_str()} selected={cni_value == c.as_str()}>{ c.as_str() }</option>
                    }) }
                </select>
            </label>
            <label>
                { "Proxy " }
                <select data-testid="proxy-select" onchange={on_proxy}>
                    <option value="" selected={proxy_value.is_empty()}>{ format!("as written ({})", settings.proxy_mode) }</option>
                    { for ProxyMode::ALL.iter().map(|m| html! {
                        <option value={m.as_str()} selected={proxy_value == m.as_str()}>{ m.as_str() }</option>
                    }) }
                </select>
            </label>
            <label>
                <input type="checkbox" data-testid="system-toggle" checked={model.show_system} onchange={on_system} />
                { " system pods" }
            </label>
            <span class="summary" data-testid="summary">
                { format!("{} nodes · {} pods ({} running) · pod CIDR {}", model.cluster.nodes.len(), model.cluster.pods.len(), running, settings.cluster_cidr) }
            </span>
        </header>
    }
}
