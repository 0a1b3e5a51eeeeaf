//! `podpath get`: objects of the simulated cluster as `kubectl get` lists them.

use clap::{Args, ValueEnum};
use podpath_core::kubectl::{self, Scope};

use crate::common::{out, report, Failure, InputArgs, Ran};

#[derive(Args, Debug)]
pub struct GetArgs {
    /// What to list
    kind: Kind,
    /// The namespace (default: "default")
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    namespace: Option<String>,
    /// List across all namespaces
    #[arg(short = 'A', long = "all-namespaces")]
    all_namespaces: bool,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum)]
    output: Option<Output>,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Kind {
    #[value(alias = "node", alias = "no")]
    Nodes,
    #[value(alias = "pod", alias = "po")]
    Pods,
    #[value(alias = "service", alias = "svc")]
    Services,
    #[value(alias = "endpointslice")]
    Endpointslices,
    #[value(alias = "networkpolicy", alias = "netpol")]
    Networkpolicies,
    #[value(alias = "ingress", alias = "ing")]
    Ingresses,
    #[value(alias = "gatewayclass", alias = "gc")]
    Gatewayclasses,
    #[value(alias = "gateway", alias = "gtw")]
    Gateways,
    #[value(alias = "httproute")]
    Httproutes,
    #[value(alias = "grpcroute")]
    Grpcroutes,
    #[value(alias = "referencegrant", alias = "refgrant")]
    Referencegrants,
    #[value(alias = "clusternetworkpolicy", alias = "cnp")]
    Clusternetworkpolicies,
    #[value(alias = "adminnetworkpolicy", alias = "anp")]
    Adminnetworkpolicies,
    #[value(alias = "baselineadminnetworkpolicy", alias = "banp")]
    Baselineadminnetworkpolicies,
}

impl Kind {
    /// The Gateway API kind's name, for the kinds that are one.
    fn gateway_kind(self) -> Option<&'static str> {
        match self {
            Kind::Gatewayclasses => Some("gatewayclasses"),
            Kind::Gateways => Some("gateways"),
            Kind::Httproutes => Some("httproutes"),
            Kind::Grpcroutes => Some("grpcroutes"),
            Kind::Referencegrants => Some("referencegrants"),
            _ => None,
        }
    }

    /// The cluster-wide policy kind's name, for the kinds that are one.
    fn admin_kind(self) -> Option<&'static str> {
        match self {
            Kind::Clusternetworkpolicies => Some("clusternetworkpolicies"),
            Kind::Adminnetworkpolicies => Some("adminnetworkpolicies"),
            Kind::Baselineadminnetworkpolicies => Some("baselineadminnetworkpolicies"),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Wide,
    Json,
    Yaml,
}

pub fn run(args: &GetArgs) -> Ran {
    let (cluster, diags) = args.input.simulate()?;
    let code = report(&diags);
    let scope = if args.all_namespaces {
        Scope::All
    } else {
        Scope::Namespace(args.namespace.clone().unwrap_or_else(|| "default".into()))
    };
    let gateway = args.kind.gateway_kind();
    let admin = args.kind.admin_kind();
    let value = match args.kind {
        Kind::Clusternetworkpolicies | Kind::Adminnetworkpolicies | Kind::Baselineadminnetworkpolicies => {
            podpath_core::policy::admin::list(&cluster, admin.unwrap_or_default(), None)
        }
        Kind::Gatewayclasses | Kind::Gateways | Kind::Httproutes | Kind::Grpcroutes | Kind::Referencegrants => {
            podpath_core::gateway::view::list(&cluster, gateway.unwrap_or_default(), &scope, None)
        }
        Kind::Pods => kubectl::pods_list(&cluster, &scope),
        Kind::Nodes => kubectl::nodes_list(&cluster),
        Kind::Services => kubectl::services_list(&cluster, &scope),
        Kind::Endpointslices => kubectl::endpoint_slices_list(&cluster, &scope),
        Kind::Networkpolicies => kubectl::network_policies_list(&cluster, &scope),
        Kind::Ingresses => kubectl::ingresses_list(&cluster, &scope),
    };
    let output = args.output.unwrap_or(Output::Text);
    let text = match output {
        Output::Json => serde_json::to_string_pretty(&value).map_err(|e| Failure::from(e.to_string()))? + "\n",
        Output::Yaml => kubectl::to_yaml(&value),
        Output::Text | Output::Wide if value["items"].as_array().is_none_or(Vec::is_empty) => {
            eprintln!("{}", kubectl::no_resources(&scope));
            String::new()
        }
        Output::Text | Output::Wide => {
            let wide = output == Output::Wide;
            match args.kind {
                Kind::Clusternetworkpolicies | Kind::Adminnetworkpolicies | Kind::Baselineadminnetworkpolicies => {
                    podpath_core::policy::admin::table_of(&cluster, admin.unwrap_or_default(), None)
                }
                Kind::Gatewayclasses | Kind::Gateways | Kind::Httproutes | Kind::Grpcroutes | Kind::Referencegrants => {
                    podpath_core::gateway::view::table_of(&cluster, gateway.unwrap_or_default(), &scope, wide, None)
                }
                Kind::Pods => kubectl::pods_table(&cluster, &scope, wide),
                Kind::Nodes => kubectl::nodes_table(&cluster, wide),
                Kind::Services => kubectl::services_table(&cluster, &scope, wide),
                Kind::Endpointslices => kubectl::endpoint_slices_table(&cluster, &scope),
                Kind::Networkpolicies => kubectl::network_policies_table(&cluster, &scope),
                Kind::Ingresses => kubectl::ingresses_table(&cluster, &scope),
            }
        }
    };
    out(&text);
    Ok(code)
}
