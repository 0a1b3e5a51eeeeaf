//! `podpath matrix`: who can reach whom under the NetworkPolicies.

use clap::Args;
use podpath_core::cluster::Protocol;
use podpath_core::policy::{matrix, Engine};

use crate::common::{out, report, Failure, Format, InputArgs, Ran};

#[derive(Args, Debug)]
pub struct MatrixArgs {
    /// The servers' port
    #[arg(long, default_value_t = 80)]
    port: u16,
    /// tcp, udp or sctp
    #[arg(long, default_value = "tcp", value_parser = ["tcp", "udp", "sctp"])]
    protocol: String,
    /// Only the pods of this namespace
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    output: Format,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: &MatrixArgs) -> Ran {
    let (cluster, diags) = args.input.simulate()?;
    let code = report(&diags);
    let protocol = Protocol::from_name(&args.protocol)
        .ok_or_else(|| Failure::usage(format!("--protocol {}: expected tcp, udp or sctp", args.protocol)))?;
    matrix::check_size(&cluster, args.namespace.as_deref()).map_err(Failure::from)?;
    let engine = Engine::new(&cluster);
    let m = matrix::matrix(&engine, args.port, protocol, args.namespace.as_deref());
    match args.output {
        // One line: the contract keeps the matrix compact.
        Format::Json => {
            let value = serde_json::json!({
                "port": m.port,
                "protocol": args.protocol,
                "pods": m.pods,
                "allowed": m.allowed,
            });
            out(&(serde_json::to_string(&value).map_err(|e| e.to_string())? + "\n"));
        }
        Format::Text => {
            let note = matrix::note(&engine).map(|n| n + "\n").unwrap_or_default();
            out(&format!("{note}{m}"));
        }
    }
    Ok(code)
}
