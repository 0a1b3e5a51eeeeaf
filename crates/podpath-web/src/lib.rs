//! podpath-web: the playground, a Yew app over podpath-core.
//!
//! A thin shell: the editor's text and the switches go into
//! [`state::Model`], which calls the core; components turn the core's results
//! into HTML. Timers and storage live in hooks, never in the reducer.

pub mod app;
pub mod components;
pub mod crash;
pub mod hooks;
pub mod palette;
pub mod scenarios;
pub mod state;

pub use app::{App, Root};

/// Mounts the playground on `<body>`, with panics reported to the console
/// and on the page, the user's text kept (see [`crash`]).
pub fn start() {
    crash::install();
    yew::Renderer::<Root>::new().render();
}
