//! The page: toolbar on top, the editor beside the topology.

use web_sys::UrlSearchParams;
use yew::prelude::*;

use crate::components::editor::Editor;
use crate::components::toolbar::Toolbar;
use crate::components::topology::Topology;
use crate::hooks::{saved_text, use_autosave, use_debounced_simulate};
use crate::scenarios;
use crate::state::Model;

/// The shared handle every component reads the model through.
pub type ModelHandle = UseReducerHandle<Model>;

/// The model the page opens with: `?scenario=NAME` if it names a bundled
/// scenario, otherwise the default one; the user's saved text for that
/// scenario wins over the bundled text, so a reload loses nothing.
pub fn initial_model() -> Model {
    let (default_name, _) = scenarios::default_scenario();
    let query = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let asked = UrlSearchParams::new_with_str(&query).ok().and_then(|p| p.get("scenario"));
    let (name, notice) = match asked.as_deref() {
        None | Some("") => (default_name.to_owned(), None),
        Some(n) if scenarios::find(n).is_some() => (n.to_owned(), None),
        Some(n) => {
            let known: Vec<&str> = scenarios::BUNDLED.iter().map(|(n, _, _)| *n).collect();
            let notice =
                format!("there is no scenario \"{n}\" (bundled: {}); showing \"{default_name}\"", known.join(", "));
            (default_name.to_owned(), Some(notice))
        }
    };
    let text = saved_text(&name).unwrap_or_else(|| scenarios::find(&name).unwrap_or_default().to_owned());
    Model::new(&name, text, notice)
}

#[component]
pub fn App() -> Html {
    let model = use_reducer(initial_model);
    use_debounced_simulate(model.clone());
    let save_error = use_autosave(model.scenario.clone(), model.text.clone());
    html! {
        <ContextProvider<ModelHandle> context={model.clone()}>
            <div class="app">
                <Toolbar />
                if let Some(notice) = &model.notice {
                    <p class="notice" role="alert" data-testid="notice">{ notice }</p>
                }
                if let Some(error) = save_error {
                    <p class="notice" role="alert" data-testid="save-error">{ error }</p>
                }
                <main class="workspace">
                    <Editor />
                    <Topology />
                </main>
            </div>
        </ContextProvider<ModelHandle>>
    }
}
