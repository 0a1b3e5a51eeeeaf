//! `podpath convert ingress-to-gateway`: the Gateway API objects that route
//! as the input's Ingresses do, on stdout; what has no equivalent, on stderr.

use clap::{Args, Subcommand, ValueEnum};
use podpath_core::gateway::convert::{ingress_to_gateway, Options};
use podpath_core::gateway::Implementation;

use crate::common::{out, report, InputArgs, Ran};

#[derive(Subcommand, Debug)]
pub enum ConvertCommand {
    /// Prints Gateways and HTTPRoutes equivalent to the Ingresses (and
    /// Traefik IngressRoutes); warns on stderr about what has no equivalent
    IngressToGateway(IngressToGatewayArgs),
}

/// The implementation the objects are written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Impl {
    /// NGINX Gateway Fabric (class nginx, listeners on 80 and 443)
    Nginx,
    /// Traefik's kubernetesGateway provider (class traefik, listeners on its entryPoints)
    Traefik,
    /// Cilium's Gateway API (class cilium; needs cni: cilium)
    Cilium,
}

#[derive(Args, Debug)]
pub struct IngressToGatewayArgs {
    /// The gatewayClassName to write (default: the implementation's usual class)
    #[arg(long = "gateway-class")]
    gateway_class: Option<String>,
    /// The implementation the Gateways are for
    #[arg(long, value_enum, default_value_t = Impl::Nginx)]
    implementation: Impl,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(command: &ConvertCommand) -> Ran {
    match command {
        ConvertCommand::IngressToGateway(args) => ingress(args),
    }
}

fn ingress(args: &IngressToGatewayArgs) -> Ran {
    let (sources, cluster, diags) = args.input.simulate_sources()?;
    let code = report(&diags);
    if code != 0 {
        return Ok(code);
    }
    let implementation = match args.implementation {
        Impl::Nginx => Implementation::NginxGatewayFabric,
        Impl::Traefik => Implementation::Traefik,
        Impl::Cilium => Implementation::Cilium,
    };
    let mut converted =
        ingress_to_gateway(&cluster, &Options { class: args.gateway_class.clone(), ..Options::new(implementation) });
    podpath_core::load::place(&sources, &mut converted.diagnostics);
    report(&converted.diagnostics);
    out(&converted.to_yaml());
    Ok(0)
}
