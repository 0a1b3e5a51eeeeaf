//! `podpath rules`: a node's service-proxy rules as the real tool dumps them.

use clap::Args;
use podpath_core::proxy::Dataplane;
use podpath_core::ProxyMode;

use crate::common::{out, parse_proxy_mode, report, Failure, InputArgs, Ran};

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// The node whose rules to print
    #[arg(long)]
    node: String,
    /// The proxy mode (default: the cluster's)
    #[arg(long, value_parser = parse_proxy_mode)]
    mode: Option<ProxyMode>,
    /// Another view of the same state: addr (ip addr show kube-ipvs0), ipset
    /// (ipset save), iptables (iptables-save), all
    #[arg(long, value_parser = ["addr", "ipset", "iptables", "all"])]
    show: Option<String>,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: &RulesArgs) -> Ran {
    let (cluster, diags) = args.input.simulate()?;
    let code = report(&diags);
    if cluster.node(&args.node).is_none() {
        let known: Vec<&str> = cluster.nodes.iter().map(|n| n.name.as_str()).collect();
        return Err(format!("nodes \"{}\" not found (nodes: {})", args.node, known.join(", ")).into());
    }
    let mode = args.mode.unwrap_or(cluster.settings.proxy_mode);
    let dataplane = Dataplane::build(&cluster, &args.node, mode);
    match &args.show {
        None => out(&dataplane.render()),
        Some(view) => match dataplane.render_view(view) {
            Some(text) => out(&text),
            None => return Err(Failure::usage(format!("--show {view}: {mode} mode has no such view"))),
        },
    }
    Ok(code)
}
