//! podpath-web: the playground, a Yew app over podpath-core.
//!
//! A thin shell: the editor's text and the switches go into
//! [`state::Model`], which asks the [`session::Session`] — the core, in a
//! Web Worker — for the cluster, traces and the rest; components turn its
//! answers ([`scene::Scene`], traces) into HTML. Timers, storage and the
//! worker's messages live in hooks, never in the reducer.

pub mod app;
pub mod bridge;
pub mod components;
pub mod crash;
pub mod hooks;
pub mod palette;
pub mod scenarios;
pub mod scene;
pub mod session;
pub mod state;
pub mod worker;

pub use app::{App, Root};

/// Mounts the playground on `<body>`, with panics reported to the console
/// and on the page, the user's text kept (see [`crash`]).
///
/// In the simulation worker (the same Wasm, loaded there by its script,
/// which then calls [`worker::worker_start`]) there is no page: nothing.
pub fn start() {
    if web_sys::window().is_none() {
        return;
    }
    crash::install();
    yew::Renderer::<Root>::new().render();
}
