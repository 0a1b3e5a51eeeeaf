//! The last resort when podpath itself fails. A panic in the Wasm stops
//! the app for good (Wasm has no unwinding here), so the hook works with
//! the page directly: it saves the editor's text under the scenario's
//! autosave key, and puts a banner above everything that says what
//! happened, keeps the text in view for copying, and offers a reload. The
//! editor stays on the page with its text.

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use web_sys::HtmlTextAreaElement;

thread_local! {
    /// The localStorage key the current scenario's text is saved under.
    static SAVE_KEY: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Tells the hook where the current text is saved.
pub fn remember_save_key(key: String) {
    SAVE_KEY.with(|k| *k.borrow_mut() = key);
}

/// Installs the panic hook: the panic is logged to the console, and shown.
/// Through Yew, which otherwise replaces any hook with its own when the
/// app is rendered.
pub fn install() {
    yew::set_custom_panic_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let _ = show(&info.to_string());
    }));
}

fn show(message: &str) -> Option<()> {
    let document = web_sys::window()?.document()?;
    let text = document
        .query_selector("[data-testid=editor]")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlTextAreaElement>().ok())
        .map(|t| t.value());
    let key = SAVE_KEY.with(|k| k.borrow().clone());
    let saved = match &text {
        Some(t) if !key.is_empty() => web_sys::window()?
            .local_storage()
            .ok()
            .flatten()
            // JSON, as the autosave writes it (gloo's storage).
            .is_some_and(|s| {
                js_sys::JSON::stringify(&t.into()).is_ok_and(|json| s.set_item(&key, &String::from(json)).is_ok())
            }),
        _ => false,
    };
    let el = |tag: &str, content: &str| -> Option<web_sys::Element> {
        let e = document.create_element(tag).ok()?;
        // Text only: whatever the message holds is never read as markup.
        e.set_text_content(Some(content));
        Some(e)
    };
    let banner = document.create_element("div").ok()?;
    banner.set_class_name("crash");
    banner.set_attribute("role", "alert").ok()?;
    banner.set_attribute("data-testid", "crash").ok()?;
    let heading = el("h2", "podpath stopped: this is a bug in podpath, not in your YAML")?;
    banner.append_child(&heading).ok()?;
    let said = el("p", message)?;
    banner.append_child(&said).ok()?;
    let kept = if saved {
        "Your text is kept: it is in the editor and saved in this browser. "
    } else {
        "Your text is in the editor and below; saving it in this browser failed, so copy it before you reload. "
    };
    let p = el("p", kept)?;
    let reload = el("a", "Reload the page")?;
    reload.set_attribute("href", "").ok()?;
    p.append_child(&reload).ok()?;
    p.append_child(&document.create_text_node(" to go on. If it happens again, the text below helps a bug report."))
        .ok()?;
    banner.append_child(&p).ok()?;
    if let Some(t) = text {
        let copy = el("textarea", &t)?;
        copy.set_attribute("readonly", "").ok()?;
        copy.set_attribute("aria-label", "Your scenario's text").ok()?;
        copy.set_attribute("data-testid", "crash-text").ok()?;
        banner.append_child(&copy).ok()?;
    }
    document.body()?.prepend_with_node_1(&banner).ok()?;
    Some(())
}
