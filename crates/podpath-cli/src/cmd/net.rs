//! `podpath net`: a node's or a pod's network namespace as iproute2 prints it.

use clap::Args;

use crate::common::{out, report, Failure, InputArgs, Ran};

#[derive(Args, Debug)]
pub struct NetArgs {
    /// What to print
    #[arg(value_parser = ["addr", "route", "neigh", "fdb"], default_value = "route")]
    what: String,
    /// The node whose host network namespace to show
    #[arg(long, required_unless_present = "pod")]
    node: Option<String>,
    /// A pod (NS/NAME) whose network namespace to show instead
    #[arg(long)]
    pod: Option<String>,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: &NetArgs) -> Ran {
    let (cluster, diags) = args.input.simulate()?;
    let code = report(&diags);
    let network = cluster.network();
    let ns = match (&args.pod, &args.node) {
        (Some(pod), _) => network
            .nodes
            .iter()
            .find_map(|n| n.pods.get(pod))
            .ok_or_else(|| format!("pods \"{pod}\" not found, or it has no network of its own"))?,
        (None, Some(node)) => &network.node(node).ok_or_else(|| format!("nodes \"{node}\" not found"))?.host,
        (None, None) => return Err(Failure::usage("--node or --pod is needed")),
    };
    out(&match args.what.as_str() {
        "addr" => ns.ip_addr(),
        "fdb" => ns.bridge_fdb(),
        "neigh" => ns.ip_neigh(),
        _ => ns.ip_route(),
    });
    Ok(code)
}
