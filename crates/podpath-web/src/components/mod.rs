//! One component per file; each reads the model from context.

pub mod editor;
pub mod services;
pub mod toolbar;
pub mod topology;
