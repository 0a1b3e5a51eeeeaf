//! `podpath matrix`: who can reach whom under the NetworkPolicies.

use std::io::Write;

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

/// The JSON form, keys in the order the contract's output has always had.
#[derive(serde::Serialize)]
struct Table<'a> {
    allowed: &'a [Vec<bool>],
    pods: &'a [String],
    port: u16,
    protocol: &'a str,
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
        // One line: the contract keeps the matrix compact. Written as it
        // is serialized: a table of 5,000 pods is 25 million cells, which
        // as a JSON value tree would take gigabytes.
        Format::Json => {
            let table = Table { allowed: &m.allowed, pods: &m.pods, port: m.port, protocol: &args.protocol };
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let written = serde_json::to_writer(&mut stdout, &table)
                .map_err(std::io::Error::from)
                .and_then(|()| stdout.write_all(b"\n"))
                .and_then(|()| stdout.flush());
            // A closed pipe (`| head`) is not an error of ours.
            if let Err(e) = written {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(Failure::from(e.to_string()));
                }
            }
        }
        Format::Text => {
            let note = matrix::note(&engine).map(|n| n + "\n").unwrap_or_default();
            out(&format!("{note}{m}"));
        }
    }
    Ok(code)
}
