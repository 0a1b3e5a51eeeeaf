//! `podpath trace` and `podpath pcap`: one connection's first packet, hop
//! by hop, printed or written as a capture.

use clap::Args;
use podpath_core::cluster::Protocol;
use podpath_core::trace::{self, target, HttpSpec, Request, Trace};

use crate::common::{json, out, report, Failure, Format, InputArgs, Ran};

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// NS/POD, node/NAME, external, or an IP address
    #[arg(long)]
    from: String,
    /// An IP address, NS/POD, a DNS name, or a URL http://HOST[:PORT]/PATH
    #[arg(long)]
    to: String,
    /// Destination port
    #[arg(long, default_value_t = 80)]
    port: u16,
    /// tcp, udp, sctp, or icmp (an echo request, as ping sends)
    #[arg(long, default_value = "tcp", value_parser = ["tcp", "udp", "sctp", "icmp"])]
    protocol: String,
    /// For IP and external sources: the node whose network stack handles the packet first
    #[arg(long)]
    node: Option<String>,
    /// Seed for the random choices (kube-proxy's endpoint pick)
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// For URL destinations: an extra request header, as curl takes it ("Name: value")
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// For URL destinations: the request method
    #[arg(short = 'X', long = "request", default_value = "GET")]
    method: String,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    output: Format,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args, Debug)]
pub struct PcapArgs {
    /// The file to write
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    file: String,
    #[command(flatten)]
    trace: TraceArgs,
}

pub fn run(args: &TraceArgs) -> Ran {
    let (t, code) = traced(args)?;
    match args.output {
        Format::Json => json(&crate::json::trace(&t))?,
        Format::Text => out(&t.to_string()),
    }
    Ok(code)
}

pub fn pcap(args: &PcapArgs) -> Ran {
    let (t, code) = traced(&args.trace)?;
    let bytes = podpath_core::pcap::write(&t);
    std::fs::write(&args.file, bytes).map_err(|e| format!("{}: {e}", args.file))?;
    eprintln!("{}: {} — {}", args.file, t.verdict.as_str(), t.reason);
    Ok(code)
}

/// `--from` as the trace takes it; a word it cannot read is bad usage.
pub fn parse_from(s: &str) -> Result<trace::From, Failure> {
    target::parse_from(s).map_err(|e| Failure::usage(format!("--from {e}")))
}

/// Simulates the input and traces what the flags ask for.
fn traced(args: &TraceArgs) -> Result<(Trace, u8), Failure> {
    let from = parse_from(&args.from)?;
    let to = target::parse_to(&args.to).map_err(|e| Failure::usage(format!("--to {e}")))?;
    let mut headers = Vec::new();
    for h in &args.headers {
        let (k, v) = h.split_once(':').ok_or_else(|| Failure::usage(format!("-H {h}: expected \"Name: value\"")))?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    if to.http.is_none() && (!headers.is_empty() || args.method != "GET") {
        return Err(Failure::usage("-H and -X need a URL destination (http://HOST/PATH)"));
    }
    let (cluster, diags) = args.input.simulate()?;
    let code = report(&diags);
    let req = Request {
        from,
        to: to.to,
        port: to.port.unwrap_or(args.port),
        protocol: Protocol::from_name(&args.protocol)
            .ok_or_else(|| Failure::usage(format!("--protocol {}", args.protocol)))?,
        node: args.node.clone(),
        seed: args.seed,
    };
    let t = match to.http {
        Some(spec) => {
            let spec = HttpSpec { method: args.method.clone(), headers, ..spec };
            trace::trace_http(&cluster, &req, &spec)
        }
        None => trace::trace(&cluster, &req),
    };
    Ok((t.map_err(|e| e.to_string())?, code))
}
