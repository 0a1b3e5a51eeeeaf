//! What every command shares: the input flags, simulating them, printing
//! diagnostics and output, and the failures that decide the exit code.

use std::io::Write;

use clap::{Args, ValueEnum};
use podpath_core::{Cluster, Cni, Diagnostic, Overrides, ProxyMode};

use crate::input;

/// Why a command could not run: the input could not be used (exit 1), or
/// the command line asks for something that makes no sense (exit 2).
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub usage: bool,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), usage: true }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message, usage: false }
    }
}

/// A command's outcome: its exit code, or why it could not run.
pub type Ran = Result<u8, Failure>;

#[derive(Args, Debug)]
pub struct InputArgs {
    /// A YAML or JSON file, a directory of them, or - for standard input (repeatable)
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<String>,
    /// The CNI plugin, overriding the scenario's Cluster object
    #[arg(long, value_parser = parse_cni)]
    pub cni: Option<Cni>,
    /// The service proxy mode, overriding the scenario's Cluster object
    #[arg(long = "proxy-mode", value_parser = parse_proxy_mode)]
    pub proxy_mode: Option<ProxyMode>,
    /// How many nodes to generate when the input has no Node objects
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(podpath_core::settings::MAX_NODES)))]
    pub nodes: Option<u32>,
    /// The plugin's encapsulation (calico: IPIP, VXLAN, IPIPCrossSubnet, VXLANCrossSubnet, None;
    /// flannel: vxlan, host-gw; cilium: vxlan, geneve, native; weave: fastdp, sleeve)
    #[arg(long)]
    pub encapsulation: Option<String>,
}

/// `-o text|json` for the commands that print one or the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn parse_cni(s: &str) -> Result<Cni, String> {
    let names: Vec<&str> = Cni::ALL.iter().map(|c| c.as_str()).collect();
    Cni::parse(s).ok_or_else(|| format!("unknown CNI plugin \"{s}\" (one of: {})", names.join(", ")))
}

pub fn parse_proxy_mode(s: &str) -> Result<ProxyMode, String> {
    let names: Vec<&str> = ProxyMode::ALL.iter().map(|m| m.as_str()).collect();
    ProxyMode::parse(s).ok_or_else(|| format!("unknown proxy mode \"{s}\" (one of: {})", names.join(", ")))
}

impl InputArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            cni: self.cni,
            proxy_mode: self.proxy_mode,
            nodes: self.nodes,
            encapsulation: self.encapsulation.clone(),
        }
    }

    /// Reads the inputs and builds the cluster they describe.
    pub fn simulate(&self) -> Result<(Cluster, Vec<Diagnostic>), Failure> {
        self.simulate_sources().map(|(_, c, d)| (c, d))
    }

    /// [`InputArgs::simulate`], keeping the texts read (to place further
    /// diagnostics at their fields).
    pub fn simulate_sources(&self) -> Result<(Vec<podpath_core::Source>, Cluster, Vec<Diagnostic>), Failure> {
        let sources = input::read_all(&self.files)?;
        let (cluster, diags) = podpath_core::simulate_with(&sources, &self.overrides());
        // The flag's value is checked against the plugin the cluster ended
        // up with: the Cluster object or --cni decides which words are valid.
        if let Some(e) = &self.encapsulation {
            podpath_core::settings::Encapsulation::parse(cluster.settings.cni, e).map_err(|m| {
                Failure::usage(format!("--encapsulation {e}: {}", m.trim_start_matches("spec.encapsulation: ")))
            })?;
        }
        Ok((sources, cluster, diags))
    }
}

/// Prints diagnostics on stderr; returns 1 when any is an error.
pub fn report(diags: &[Diagnostic]) -> u8 {
    let mut err = std::io::stderr().lock();
    for d in diags {
        let _ = writeln!(err, "{d}");
    }
    u8::from(diags.iter().any(Diagnostic::is_error))
}

/// Writes to standard output. A reader that went away (`podpath … | head`)
/// ends the output quietly, as other tools do, instead of a panic.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

/// Pretty JSON on standard output.
pub fn json(value: &serde_json::Value) -> Result<(), Failure> {
    out(&(serde_json::to_string_pretty(value).map_err(|e| e.to_string())? + "\n"));
    Ok(())
}
