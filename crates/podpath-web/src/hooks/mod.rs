//! Effects of the playground: the debounce between typing and simulating,
//! and the autosave of every edit. Kept out of the reducer so it stays pure.

use gloo::storage::{LocalStorage, Storage};
use gloo::timers::callback::Timeout;
use yew::prelude::*;

use crate::state::{Action, Model};

/// How long typing must pause before the cluster is recomputed.
pub const DEBOUNCE_MS: u32 = 250;

/// The localStorage key a scenario's text is saved under.
pub fn storage_key(scenario: &str) -> String {
    format!("podpath.v1.text.{scenario}")
}

/// The saved text of a scenario, if any.
pub fn saved_text(scenario: &str) -> Option<String> {
    LocalStorage::get::<String>(storage_key(scenario)).ok()
}

/// Recomputes the cluster once the text has stopped changing for
/// [`DEBOUNCE_MS`]; a new edit cancels the pending timer.
#[hook]
pub fn use_debounced_simulate(model: UseReducerHandle<Model>) {
    let text = model.text.clone();
    use_effect_with(text, move |_| {
        let timer = model.pending().then(|| {
            let model = model.clone();
            Timeout::new(DEBOUNCE_MS, move || model.dispatch(Action::Simulate))
        });
        move || drop(timer)
    });
}

/// Saves every edit to localStorage at once (not debounced: a crash or a
/// closed tab must not lose the last keystrokes). Returns the storage error,
/// if saving failed, for the page to show.
#[hook]
pub fn use_autosave(scenario: String, text: String) -> Option<String> {
    let error = use_state(|| None::<String>);
    {
        let error = error.clone();
        use_effect_with((scenario, text), move |(scenario, text)| {
            let result = LocalStorage::set(storage_key(scenario), text.as_str());
            let message = result.err().map(|e| format!("your edits could not be saved in this browser: {e}"));
            if *error != message {
                error.set(message);
            }
        });
    }
    (*error).clone()
}
