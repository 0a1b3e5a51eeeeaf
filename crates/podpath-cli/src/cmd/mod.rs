//! One module per subcommand: its flags (a clap `Args`) and its `run`.

pub mod convert;
pub mod dns;
pub mod exec;
pub mod get;
pub mod lesson;
pub mod lint;
pub mod matrix;
pub mod net;
pub mod rules;
pub mod trace;
