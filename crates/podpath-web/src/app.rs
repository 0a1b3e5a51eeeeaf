//! The page: toolbar on top; the editor, the topology with the tabs below
//! it, and the inspector, side by side.

use web_sys::UrlSearchParams;
use yew::prelude::*;
use yew::Reducible;

use crate::components::editor::Editor;
use crate::components::tabs::Tabs;
use crate::components::toolbar::Toolbar;
use crate::components::topology::Topology;
use crate::components::trace::{TraceBox, TracePanel};
use crate::hooks::{saved_text, use_autosave, use_debounced_simulate, use_player, use_player_keys, use_session};
use crate::scenarios;
use crate::state::{Action, Model, ModelHandle};

/// The model the page opens with: a shared scenario from `#s=…`, else
/// `?scenario=NAME` if it names a bundled scenario, else the default one;
/// the user's saved text for a bundled scenario wins over the bundled text,
/// so a reload loses nothing. `&trace=SRC,DST` opens a trace, ready to play.
pub fn initial_model() -> Model {
    initial_model_after(None)
}

/// [`initial_model`], told why the file `?scenario=` names could not be
/// fetched, if it could not.
fn initial_model_after(fetch_error: Option<String>) -> Model {
    let (default_name, _) = scenarios::default_scenario();
    let location = web_sys::window().map(|w| w.location());
    let query = location.as_ref().and_then(|l| l.search().ok()).unwrap_or_default();
    let hash = location.as_ref().and_then(|l| l.hash().ok()).unwrap_or_default();
    let params = UrlSearchParams::new_with_str(&query).ok();
    let asked = params.as_ref().and_then(|p| p.get("scenario"));
    let mut notices: Vec<String> = fetch_error.into_iter().collect();
    let shared = (hash.len() > 1).then(|| podpath_core::share::decode(&hash));
    let mut model = match shared {
        Some(Ok((text, overrides))) => {
            let mut m = Model::new(SHARED, text, None);
            // A learner's link: their text, with the lesson's goals.
            m.attach_lesson(asked.as_deref().and_then(scenarios::lesson));
            if overrides != m.overrides {
                m = std::rc::Rc::unwrap_or_clone(
                    std::rc::Rc::new(m)
                        .reduce(Action::SetCni(overrides.cni))
                        .reduce(Action::SetProxyMode(overrides.proxy_mode)),
                );
            }
            m
        }
        shared => {
            if let Some(Err(e)) = shared {
                notices.push(format!("{e}; showing \"{default_name}\""));
            }
            let name = match asked.as_deref() {
                None | Some("") => default_name.to_owned(),
                Some(n) if scenarios::find(n).is_some() => n.to_owned(),
                // Known, but its file did not come (the notice says why):
                // the learner's own text for it, if they have one (without
                // a lesson's goals, which are in that file), else the default.
                Some(n) if scenarios::entry(n).is_some() => {
                    if saved_text(n).is_some() {
                        notices.push("your saved text for it is shown".to_owned());
                        n.to_owned()
                    } else {
                        notices.push(format!("showing \"{default_name}\""));
                        default_name.to_owned()
                    }
                }
                Some(n) => {
                    let known = scenarios::scenario_names();
                    notices.push(format!(
                        "there is no scenario \"{n}\" (bundled: {}); showing \"{default_name}\"",
                        known.join(", ")
                    ));
                    default_name.to_owned()
                }
            };
            let text = saved_text(&name).or_else(|| scenarios::find(&name)).unwrap_or_default();
            Model::new(&name, text, None)
        }
    };
    if let Some(trace) = params.as_ref().and_then(|p| p.get("trace")) {
        match trace.split_once(',') {
            Some((from, to)) => {
                model = std::rc::Rc::unwrap_or_clone(std::rc::Rc::new(model).reduce(Action::Trace {
                    from: from.to_owned(),
                    to: to.to_owned(),
                    port: 80,
                }));
            }
            None => notices.push(format!("trace={trace}: expected SOURCE,DESTINATION")),
        }
    }
    model.notice = (!notices.is_empty()).then(|| notices.join("; "));
    model
}

/// `?debug=panic`: fail on purpose at the first edit, after its autosave,
/// to show what a bug in podpath looks like to the user — the error, the
/// text kept. The end-to-end tests use it; it harms nothing else.
#[hook]
fn use_forced_panic(text: String) {
    let edits = use_mut_ref(|| 0u32);
    use_effect_with(text, move |_| {
        *edits.borrow_mut() += 1;
        let asked = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|q| UrlSearchParams::new_with_str(&q).ok())
            .and_then(|p| p.get("debug"));
        if *edits.borrow() > 1 && asked.as_deref() == Some("panic") {
            panic!("a panic on purpose, asked for by ?debug=panic");
        }
    });
}

/// The scenario or lesson `?scenario=` names, if the page must fetch its
/// file before it can open.
fn asked_file() -> Option<&'static scenarios::Entry> {
    let query = web_sys::window()?.location().search().ok()?;
    let name = UrlSearchParams::new_with_str(&query).ok()?.get("scenario")?;
    scenarios::to_fetch(&name)
}

/// The page: the playground, once the file of the scenario or lesson the
/// address names has come (at once for the default and for a share link
/// without a lesson).
#[component]
pub fn Root() -> Html {
    // The file to fetch, read from the address once.
    let asked = *use_memo((), |_| asked_file());
    // `None` while fetching; then why it failed, if it did.
    let fetched = use_state(|| asked.is_none().then_some(None::<String>));
    {
        let fetched = fetched.clone();
        use_effect_with((), move |_| {
            if let Some(entry) = asked {
                wasm_bindgen_futures::spawn_local(async move {
                    fetched.set(Some(scenarios::fetch(entry).await.err()));
                });
            }
        });
    }
    match (&*fetched, asked) {
        (Some(error), _) => html! { <App fetch_error={error.clone()} /> },
        (None, entry) => {
            let what = entry.map_or("", |e| if e.is_lesson() { "lesson " } else { "scenario " });
            let title = entry.map_or("", |e| e.title);
            html! { <p class="loading" role="status" data-testid="loading">{ format!("Loading the {what}“{title}”…") }</p> }
        }
    }
}

/// The autosave key of a scenario opened from a share link.
pub const SHARED: &str = "shared";

#[derive(Properties, PartialEq, Default, Debug)]
pub struct AppProps {
    /// Why the file `?scenario=` names could not be fetched, if it could not.
    #[prop_or_default]
    pub fetch_error: Option<String>,
}

#[component]
pub fn App(props: &AppProps) -> Html {
    let error = props.fetch_error.clone();
    let model = use_reducer(move || initial_model_after(error));
    use_session(&model);
    use_debounced_simulate(model.clone());
    use_player(model.clone());
    use_player_keys(model.clone());
    let save_error = use_autosave(model.scenario.clone(), model.text.clone());
    use_forced_panic(model.text.clone());
    html! {
        <ContextProvider<ModelHandle> context={model.clone()}>
            <div class="app">
                <Toolbar />
                // Shown with the cluster it is about ("showing …"), once
                // the first one is in.
                if let Some(notice) = model.notice.as_ref().filter(|_| model.generation() > 0) {
                    <p class="notice" role="alert" data-testid="notice">
                        { notice }
                        <button class="dismiss" aria-label="Dismiss" onclick={
                            let model = model.clone();
                            move |_| model.dispatch(Action::Notify(None))
                        }>{ "×" }</button>
                    </p>
                }
                if let Some(error) = save_error {
                    <p class="notice" role="alert" data-testid="save-error">{ error }</p>
                }
                <main class="workspace">
                    <Editor />
                    <div class="center">
                        <Topology />
                        <Tabs />
                    </div>
                    <aside class="inspector" aria-label="Inspector">
                        // The goals are shown once they have been checked.
                        if model.generation() > 0 {
                            <crate::components::lesson::LessonPanel />
                        }
                        <TraceBox />
                        <TracePanel />
                    </aside>
                </main>
            </div>
        </ContextProvider<ModelHandle>>
    }
}
