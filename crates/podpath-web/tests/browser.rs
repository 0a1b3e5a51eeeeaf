//! The app mounted in a real (headless) Chromium: what it draws for the
//! default scenario, and how it answers an edit.

use std::time::Duration;

use gloo::storage::{LocalStorage, Storage};
use podpath_core::system::is_system_namespace;
use podpath_core::{simulate, Source};
use podpath_web::scenarios::default_scenario;
use podpath_web::App;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts a fresh app in its own element.
fn mount() -> Element {
    LocalStorage::clear();
    let document = gloo::utils::document();
    let root = document.create_element("div").unwrap();
    gloo::utils::body().append_child(&root).unwrap();
    yew::Renderer::<App>::with_root(root.clone()).render();
    root
}

fn count(root: &Element, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

/// Lets Yew's scheduler and timers run until `done` holds, for at most
/// `limit`; returns whether it did.
async fn settle(limit: Duration, done: impl Fn() -> bool) -> bool {
    let step = Duration::from_millis(20);
    let mut waited = Duration::ZERO;
    while !done() {
        if waited >= limit {
            return false;
        }
        yew::platform::time::sleep(step).await;
        waited += step;
    }
    true
}

#[wasm_bindgen_test]
async fn draws_every_node_and_pod_of_the_default_scenario() {
    let root = mount();
    let (cluster, _) = simulate(&[Source::new("s", default_scenario().1)]);
    let user: Vec<_> = cluster.pods.iter().filter(|p| !is_system_namespace(&p.namespace)).collect();
    assert!(!user.is_empty() && user.len() < cluster.pods.len());
    let want = user.len() as u32;
    assert!(settle(Duration::from_secs(5), || count(&root, "[data-testid=pod]") == want).await);
    assert_eq!(count(&root, "[data-testid=node]"), cluster.nodes.len() as u32);

    // The platform's pods appear when asked for.
    let toggle: HtmlInputElement =
        root.query_selector("[data-testid=system-toggle]").unwrap().unwrap().dyn_into().unwrap();
    toggle.click();
    let all = cluster.pods.len() as u32;
    assert!(settle(Duration::from_secs(5), || count(&root, "[data-testid=pod]") == all).await);
    for p in &cluster.pods {
        let selector = format!("[data-testid=pod][data-pod=\"{}\"]", p.key());
        let el = root.query_selector(&selector).unwrap().unwrap_or_else(|| panic!("{selector} is drawn"));
        assert_eq!(el.get_attribute("data-ip"), p.ip.map(|ip| ip.to_string()));
        let node = el.closest("[data-testid=node]").unwrap().unwrap();
        assert_eq!(node.get_attribute("data-node"), p.node.clone());
    }
    root.remove();
}

#[wasm_bindgen_test]
async fn an_edit_with_an_error_is_located_and_keeps_the_topology() {
    let root = mount();
    assert!(settle(Duration::from_secs(5), || count(&root, "[data-testid=pod]") > 0).await);
    let pods = count(&root, "[data-testid=pod]");
    let textarea: HtmlTextAreaElement =
        root.query_selector("[data-testid=editor]").unwrap().unwrap().dyn_into().unwrap();
    let text = format!(
        "{}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports: [{{port: eighty}}]\n",
        textarea.value()
    );
    let line = text.lines().count();
    textarea.set_value(&text);
    let event = web_sys::InputEvent::new("input").unwrap();
    textarea.dispatch_event(&event).unwrap();
    let found = settle(Duration::from_secs(5), || count(&root, "[data-testid=diagnostic]") > 0).await;
    assert!(found, "a diagnostic appears after the debounce");
    let d = root.query_selector("[data-testid=diagnostic]").unwrap().unwrap();
    assert_eq!(d.get_attribute("data-line"), Some(line.to_string()));
    assert!(d.text_content().unwrap().contains("invalid type: string \"eighty\", expected i32"));
    assert_eq!(count(&root, "[data-testid=pod]"), pods, "the last good cluster stays on screen");
    assert_eq!(LocalStorage::get::<String>("podpath.v1.text.shop").ok(), Some(text), "the edit was saved");
    root.remove();
}
