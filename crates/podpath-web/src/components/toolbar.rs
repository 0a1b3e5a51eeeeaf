//! The top bar: the product's name, the CNI and proxy-mode switches, and a
//! one-line summary of the cluster.

use podpath_core::{Cni, ProxyMode};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::state::Action;
use crate::state::ModelHandle;

use gloo::storage::Storage;

/// Where the chosen theme is kept (absent: follow the system).
const THEME_KEY: &str = "podpath.v1.theme";

/// The switch's first choice: what the YAML says, once the first cluster
/// has told it.
fn as_written(generation: u64, value: impl std::fmt::Display) -> String {
    if generation == 0 {
        "as written".to_owned()
    } else {
        format!("as written ({value})")
    }
}

#[component]
pub fn Toolbar() -> Html {
    let model = use_context::<ModelHandle>().expect("Toolbar is rendered inside the model's provider");
    let scene = &model.scene;
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
    let share = use_state(|| None::<String>);
    let on_share = {
        let (model, share) = (model.clone(), share.clone());
        Callback::from(move |_: MouseEvent| {
            let fragment = podpath_core::share::encode(&model.text, &model.overrides);
            let Some(window) = web_sys::window() else { return };
            let location = window.location();
            let base = format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default());
            // A lesson's link names the lesson, so the learner's state opens
            // with its goals (for the instructor to look at).
            let link = match &model.lesson {
                Some(l) => format!("{base}?scenario={}#{fragment}", l.metadata.name),
                None => format!("{base}#{fragment}"),
            };
            // The address bar shows the link too; nothing reloads.
            if let Ok(history) = window.history() {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&link));
            }
            let _ = window.navigator().clipboard().write_text(&link);
            share.set(Some(link));
        })
    };
    let theme = use_state(|| gloo::storage::LocalStorage::get::<String>(THEME_KEY).ok());
    {
        let theme = (*theme).clone();
        use_effect_with(theme, |theme| {
            if let Some(root) = gloo::utils::document().document_element() {
                let _ = match theme {
                    Some(t) => root.set_attribute("data-theme", t),
                    None => root.remove_attribute("data-theme"),
                };
            }
        });
    }
    let on_theme = {
        let theme = theme.clone();
        Callback::from(move |_: MouseEvent| {
            let dark_now = match theme.as_deref() {
                Some(t) => t == "dark",
                None => web_sys::window()
                    .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
                    .is_some_and(|m| m.matches()),
            };
            let next = if dark_now { "light" } else { "dark" };
            let _ = gloo::storage::LocalStorage::set(THEME_KEY, next);
            theme.set(Some(next.to_owned()));
        })
    };
    let cni_value = model.overrides.cni.map(Cni::as_str).unwrap_or("");
    let proxy_value = model.overrides.proxy_mode.map(ProxyMode::as_str).unwrap_or("");
    let summary = if model.generation() == 0 {
        "building the cluster…".to_owned()
    } else {
        format!(
            "{} nodes · {} pods ({} running) · pod CIDR {}",
            scene.nodes.len(),
            scene.pods.len(),
            scene.running(),
            scene.cluster_cidr
        )
    };
    // The worker is simulating a newer text than the one shown.
    let busy = model.busy() && model.generation() > 0;
    html! {
        <header class="toolbar">
            <h1 class="brand">{ "podpath" }<span class="tagline">{ "Kubernetes networking, packet by packet" }</span></h1>
            <label>
                { "CNI " }
                <select data-testid="cni-select" onchange={on_cni}>
                    <option value="" selected={cni_value.is_empty()}>{ as_written(model.generation(), scene.cni) }</option>
                    { for Cni::ALL.iter().map(|c| html! {
                        <option value={c.as_str()} selected={cni_value == c.as_str()}>{ c.as_str() }</option>
                    }) }
                </select>
            </label>
            <label>
                { "Proxy " }
                <select data-testid="proxy-select" onchange={on_proxy}>
                    <option value="" selected={proxy_value.is_empty()}>{ as_written(model.generation(), scene.proxy_mode) }</option>
                    { for ProxyMode::ALL.iter().map(|m| html! {
                        <option value={m.as_str()} selected={proxy_value == m.as_str()}>{ m.as_str() }</option>
                    }) }
                </select>
            </label>
            <crate::components::lesson::LessonMenu />
            <label>
                <input type="checkbox" data-testid="system-toggle" checked={model.show_system} onchange={on_system} />
                { " system pods" }
            </label>
            <button class="tool" onclick={on_share} data-testid="share" title="a link that carries this scenario and the switches">{ "Share" }</button>
            <button class="tool" onclick={on_theme} data-testid="theme" aria-label="switch between light and dark">{ "◐" }</button>
            if let Some(link) = &*share {
                <input class="share-link" readonly=true value={link.clone()} data-testid="share-link" aria-label="the share link (copied)" />
            }
            <span class="summary" data-testid="summary" title={summary.clone()}>{ summary }</span>
            <span class={classes!("progress", busy.then_some("busy"))} role="status" data-testid="progress" aria-live="polite">
                { if busy { "simulating…" } else { "" } }
            </span>
        </header>
    }
}
