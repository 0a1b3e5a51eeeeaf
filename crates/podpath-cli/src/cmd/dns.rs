//! `podpath dns`: a name resolved as a pod's resolver and CoreDNS would.

use clap::Args;
use podpath_core::cluster::Protocol;
use podpath_core::dns::{kubernetes::to_reverse, RType};
use podpath_core::trace::{self, Request, Resolution, To};

use crate::cmd::trace::parse_from;
use crate::common::{json, out, report, Failure, Format, InputArgs, Ran};

#[derive(Args, Debug)]
pub struct DnsArgs {
    /// The name to resolve (an IP address asks for its PTR record)
    name: String,
    /// The record type: A, AAAA, SRV, PTR, CNAME, TXT, NS, SOA, or any
    /// other by name or as TYPEn (HINFO, MX, CAA…: no plugin has records of
    /// those, and CoreDNS answers NODATA or NXDOMAIN)
    #[arg(long = "type", default_value = "A", value_parser = rtype)]
    rtype: String,
    /// Resolve from this pod (its resolv.conf, its queries through the cluster's network and policies)
    #[arg(long, conflicts_with = "namespace")]
    from: Option<String>,
    /// Resolve as a ClusterFirst pod in this namespace would (default: "default")
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Seed for the random choices (which CoreDNS pod kube-proxy picks)
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    output: Format,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: &DnsArgs) -> Ran {
    let (cluster, diags) = args.input.simulate()?;
    let code = report(&diags);
    let mut qtype = RType::parse(&args.rtype).ok_or_else(|| Failure::usage(format!("--type {}", args.rtype)))?;
    // An address asks for its name, as `dig -x` does.
    let name = match args.name.parse::<std::net::IpAddr>() {
        Ok(ip) => {
            qtype = RType::Ptr;
            to_reverse(ip)
        }
        Err(_) => args.name.clone(),
    };
    let res = match &args.from {
        Some(from) => {
            let req = Request {
                from: parse_from(from)?,
                to: To::Name(name.clone()),
                port: 53,
                protocol: Protocol::Udp,
                node: None,
                seed: args.seed,
            };
            trace::resolve(&cluster, &req, &name, qtype).map_err(|e| e.to_string())?
        }
        None => Resolution::cluster_first(&cluster, args.namespace.as_deref().unwrap_or("default"), &name, qtype),
    };
    match args.output {
        Format::Json => json(&crate::json::resolution(&res))?,
        Format::Text => out(&res.report(args.seed).to_string()),
    }
    Ok(code)
}

/// A record type dig would take.
fn rtype(text: &str) -> Result<String, String> {
    podpath_core::dns::RType::parse(text).map(|t| t.to_string()).ok_or_else(|| {
        "not a record type podpath can ask for (A, AAAA, SRV, PTR, CNAME, TXT, NS, SOA, HINFO, MX, CAA, TYPEn…)"
            .to_owned()
    })
}
