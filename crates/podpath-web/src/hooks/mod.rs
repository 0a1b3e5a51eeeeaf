//! Effects of the playground: the debounce between typing and simulating,
//! the autosave of every edit, the player's clock and keys, and the packet
//! marker's glide, kept out of the reducer so it stays pure; the session's
//! messages (`use_session`); and the memos views keep what they derive
//! from the scene or the trace in.

use gloo::storage::{LocalStorage, Storage};
use gloo::timers::callback::Timeout;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use std::rc::Rc;

use podpath_core::trace::Trace;

use crate::bridge::Bridge;
use crate::scene::Scene;

use crate::state::{Action, Model, ModelHandle};

/// How long typing must pause before the cluster is recomputed.
pub const DEBOUNCE_MS: u32 = 250;

/// The localStorage key a scenario's text is saved under.
pub fn storage_key(scenario: &str) -> String {
    format!("podpath.v1.text.{scenario}")
}

/// The saved text of a scenario, if any. The autosave writes JSON; a value
/// that is not (written by hand, or by an older version) is still the
/// user's text, and is taken as it is rather than dropped.
pub fn saved_text(scenario: &str) -> Option<String> {
    let key = storage_key(scenario);
    LocalStorage::get::<String>(&key).ok().or_else(|| LocalStorage::raw().get_item(&key).ok().flatten())
}

/// What a view derives from the cluster on screen and `deps`, computed
/// again only when either changes — not at every tick of the player,
/// which renders the views around it again.
#[hook]
pub fn use_scene_memo<D, T, F>(model: &ModelHandle, deps: D, f: F) -> Rc<T>
where
    D: PartialEq + 'static,
    T: 'static,
    F: FnOnce(&Scene, &D) -> T,
{
    let scene = model.scene.clone();
    use_memo((model.generation(), deps), move |(_, deps)| f(&scene, deps))
}

/// Sends the model's requests to the session (in the worker) as they
/// appear in its outbox; the session's replies come back as actions.
#[hook]
pub fn use_session(model: &ModelHandle) {
    let dispatcher = model.dispatcher();
    let to_model = dispatcher.clone();
    let bridge = use_memo((), move |_| Bridge::start(Callback::from(move |a| to_model.dispatch(a))));
    let outbox = model.outbox.clone();
    use_effect_with(outbox.last().map(|(id, _)| *id), move |last| {
        let taken = bridge.borrow().taken;
        for (id, request) in outbox.iter().filter(|(id, _)| *id > taken) {
            Bridge::submit(&bridge, *id, request.clone());
        }
        // Sent: the model lets them go (a simulation holds its whole text).
        if let Some(last) = *last {
            dispatcher.dispatch(Action::Sent(last));
        }
    });
}

/// What a view derives from the open trace (none, or one that failed,
/// gives `None`), computed again only for another trace.
#[hook]
pub fn use_trace_memo<T, F>(model: &ModelHandle, f: F) -> Rc<T>
where
    T: 'static,
    F: FnOnce(Option<&Trace>) -> T,
{
    let view = model.trace.clone();
    use_memo(view.as_ref().map(|v| v.id), move |_| f(view.as_ref().and_then(|v| v.result.as_ref().ok())))
}

/// Recomputes the cluster once the text has stopped changing for
/// [`DEBOUNCE_MS`]; a new edit cancels the pending timer.
#[hook]
pub fn use_debounced_simulate(model: UseReducerHandle<Model>) {
    let text = model.text.clone();
    use_effect_with(text, move |_| {
        let timer = model.unasked().then(|| {
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
            crate::crash::remember_save_key(storage_key(scenario));
            let result = LocalStorage::set(storage_key(scenario), text.as_str());
            let message = result.err().map(|e| save_failure(&e.to_string()));
            if *error != message {
                error.set(message);
            }
        });
    }
    (*error).clone()
}

/// What to tell the user when saving failed; the browser's own words
/// (`QuotaExceededError`) become plain ones.
fn save_failure(error: &str) -> String {
    if error.contains("Quota") || error.contains("quota") {
        "your edits could not be saved: this site's storage in the browser is full. Your text is still in the editor; copy it somewhere safe (Share copies a link with it), or clear this site's data in the browser's settings".to_owned()
    } else {
        format!("your edits could not be saved in this browser ({error}). Your text is still in the editor; copy it somewhere safe")
    }
}

/// While the player plays, one hop per `1000 / speed` ms.
#[hook]
pub fn use_player(model: UseReducerHandle<Model>) {
    let (playing, speed) = (model.playing, model.speed);
    use_effect_with((playing, speed), move |(playing, speed)| {
        let interval = playing.then(|| {
            let model = model.clone();
            gloo::timers::callback::Interval::new(1000 / speed.max(&1), move || model.dispatch(Action::Tick))
        });
        move || drop(interval)
    });
}

/// Keys for the player, except while typing: space plays and pauses,
/// the arrows step.
#[hook]
pub fn use_player_keys(model: UseReducerHandle<Model>) {
    let handle = use_mut_ref(|| model.clone());
    *handle.borrow_mut() = model;
    use_effect_with((), move |_| {
        let document = gloo::utils::document();
        let listener = gloo::events::EventListener::new(&document, "keydown", move |e| {
            let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else { return };
            let typing = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| matches!(el.tag_name().as_str(), "TEXTAREA" | "INPUT" | "SELECT" | "BUTTON"));
            let model = handle.borrow().clone();
            if typing || model.trace.is_none() {
                return;
            }
            let action = match e.key().as_str() {
                " " if model.playing => Action::Pause,
                " " => Action::Play,
                "ArrowRight" => Action::StepForward,
                "ArrowLeft" => Action::StepBack,
                _ => return,
            };
            e.prevent_default();
            model.dispatch(action);
        });
        move || drop(listener)
    });
}

/// Moves the packet marker to the element `target` selects inside `stage`,
/// gliding there frame by frame (requestAnimationFrame). Layout is read
/// once per move; each frame only writes a transform.
#[hook]
pub fn use_packet_motion(packet: NodeRef, stage: NodeRef, target: Option<String>, speed: u32) {
    let at = use_mut_ref(|| None::<(f64, f64)>);
    let frame = use_mut_ref(Vec::<gloo::render::AnimationFrame>::new);
    use_effect_with(target, move |target| {
        let (Some(el), Some(stage)) = (packet.cast::<web_sys::HtmlElement>(), stage.cast::<web_sys::Element>()) else {
            return;
        };
        let dest = target.as_deref().and_then(|sel| stage.query_selector(sel).ok().flatten());
        let Some(dest) = dest else {
            let _ = el.style().set_property("visibility", "hidden");
            *at.borrow_mut() = None;
            return;
        };
        let (s, d) = (stage.get_bounding_client_rect(), shown_rect(&dest));
        let to = (
            d.left() - s.left() + f64::from(stage.scroll_left()) + d.width() / 2.0,
            d.top() - s.top() + f64::from(stage.scroll_top()) + d.height() / 2.0,
        );
        let from = at.borrow().unwrap_or(to);
        *at.borrow_mut() = Some(to);
        let _ = el.style().set_property("visibility", "visible");
        let duration = 600.0 / f64::from(speed.max(1)).sqrt();
        glide(el, from, to, duration, frame.clone());
    });
}

fn place(el: &web_sys::HtmlElement, (x, y): (f64, f64)) {
    let _ = el.style().set_property("transform", &format!("translate({x:.1}px, {y:.1}px) translate(-50%, -50%)"));
}

type Frames = std::rc::Rc<std::cell::RefCell<Vec<gloo::render::AnimationFrame>>>;

/// The glide: a frame at a time until it arrives. A new glide cancels the
/// frames of the last one.
fn glide(el: web_sys::HtmlElement, from: (f64, f64), to: (f64, f64), duration: f64, frames: Frames) {
    frames.borrow_mut().clear();
    tick(el, from, to, duration, None, frames);
}

fn tick(el: web_sys::HtmlElement, from: (f64, f64), to: (f64, f64), duration: f64, start: Option<f64>, frames: Frames) {
    let next = frames.clone();
    let handle = gloo::render::request_animation_frame(move |now| {
        let t0 = start.unwrap_or(now);
        let k = ((now - t0) / duration).clamp(0.0, 1.0);
        // Ease in and out.
        let e = k * k * (3.0 - 2.0 * k);
        place(&el, (from.0 + (to.0 - from.0) * e, from.1 + (to.1 - from.1) * e));
        if k < 1.0 {
            tick(el, from, to, duration, Some(t0), next);
        }
    });
    let mut f = frames.borrow_mut();
    // Keep the running frame's handle (dropping it would drop the closure
    // that is running) and the new one; older ones have finished.
    let keep = f.len().saturating_sub(1);
    f.drain(..keep);
    f.push(handle);
}

/// Draws the request's route through `stops` (selectors inside `stage`) as
/// the points of an SVG polyline, read from the layout once per route.
#[hook]
pub fn use_route_path(line: NodeRef, stage: NodeRef, stops: Vec<String>, show_system: bool) {
    use_effect_with((stops, show_system), move |(stops, _)| {
        let (Some(line), Some(stage)) = (line.cast::<web_sys::Element>(), stage.cast::<web_sys::Element>()) else {
            return;
        };
        let s = stage.get_bounding_client_rect();
        let points: Vec<String> = stops
            .iter()
            .filter_map(|sel| stage.query_selector(sel).ok().flatten())
            .map(|el| {
                let d = shown_rect(&el);
                let x = d.left() - s.left() + f64::from(stage.scroll_left()) + d.width() / 2.0;
                let y = d.top() - s.top() + f64::from(stage.scroll_top()) + d.height() / 2.0;
                format!("{x:.0},{y:.0}")
            })
            .collect();
        let _ = line.set_attribute("points", &points.join(" "));
        if let Some(svg) = line.parent_element() {
            let _ = svg.set_attribute("width", &stage.scroll_width().to_string());
            let _ = svg.set_attribute("height", &stage.scroll_height().to_string());
        }
    });
}

/// An element's box, or its node's when it is folded away (a pod in a
/// closed namespace group).
fn shown_rect(el: &web_sys::Element) -> web_sys::DomRect {
    let r = el.get_bounding_client_rect();
    if r.width() > 0.0 {
        return r;
    }
    el.closest("[data-testid=node]").ok().flatten().map_or(r, |n| n.get_bounding_client_rect())
}
