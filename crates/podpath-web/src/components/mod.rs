//! One component per file; each reads the model from context.

pub mod capture;
pub mod editor;
pub mod gateways;
pub mod lesson;
pub mod matrix;
pub mod services;
pub mod tabs;
pub mod terminal;
pub mod toolbar;
pub mod topology;
pub mod trace;
