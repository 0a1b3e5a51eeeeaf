//! `ingress2gateway print`, the Gateway API project's migration tool, at
//! the workstation: it reads the cluster's Ingresses the way its providers
//! do (`--providers=ingress-nginx` takes class nginx, `traefik` class
//! traefik and IngressRoutes) and prints Gateway API objects, through the
//! same conversion as `podpath convert ingress-to-gateway`. The Gateways
//! are written for the implementation whose GatewayClass the cluster has
//! (NGINX Gateway Fabric when none), so the output applies as it is.

use crate::gateway::convert::{default_class, ingress_to_gateway, Options};
use crate::gateway::Implementation;
use crate::shell::Output;
use crate::Cluster;

const USAGE: &str = "Usage:\n  ingress2gateway print [flags]\n\nFlags:\n  -A, --all-namespaces      convert the Ingresses of every namespace\n  -n, --namespace string    the namespace to read (default \"default\")\n      --providers strings   the providers to read: ingress-nginx, traefik\n";

pub(super) fn run(cluster: &Cluster, args: &[String]) -> Output {
    let Some(("print", rest)) = args.split_first().map(|(a, r)| (a.as_str(), r)) else {
        return Output::fail(1, format!("Error: unknown command; ingress2gateway has print\n{USAGE}"));
    };
    let mut namespace = Some("default".to_owned());
    let mut providers: Vec<String> = Vec::new();
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f, Some(v.to_owned())),
            None => (a.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next().cloned());
        match flag {
            "-A" | "--all-namespaces" => namespace = None,
            "-n" | "--namespace" => namespace = value(),
            "--providers" => providers.extend(value().unwrap_or_default().split(',').map(str::to_owned)),
            "-h" | "--help" => return Output::ok(USAGE),
            _ => return Output::fail(1, format!("Error: unknown flag: {flag}\n{USAGE}")),
        }
    }
    if providers.is_empty() {
        return Output::fail(1, format!("Error: required flag(s) \"providers\" not set\n{USAGE}"));
    }
    let mut classes = Vec::new();
    for p in &providers {
        match p.as_str() {
            "ingress-nginx" => classes.push("nginx".to_owned()),
            "traefik" => classes.push("traefik".to_owned()),
            other => {
                return Output::fail(1, format!("Error: {other} is not a provider here (ingress-nginx, traefik)\n"))
            }
        }
    }
    // The implementation whose class the cluster has, or NGF's.
    let api = &cluster.gateway_api;
    let (implementation, class) = api
        .classes
        .iter()
        .find_map(|c| {
            Implementation::of(&c.object.spec.controller_name)
                .filter(|i| api.running.contains(i))
                .map(|i| (i, crate::gateway::name(&c.object.metadata)))
        })
        .unwrap_or((Implementation::NginxGatewayFabric, default_class(Implementation::NginxGatewayFabric).to_owned()));
    let opts =
        Options { class: Some(class), namespace, ingress_classes: Some(classes), ..Options::new(implementation) };
    let converted = ingress_to_gateway(cluster, &opts);
    if converted.objects.is_empty() {
        return Output::fail(1, "Error: no Ingresses found for the providers given\n");
    }
    let mut out = Output::ok(converted.to_yaml());
    for d in &converted.diagnostics {
        out.text.push_str(&format!("# {}: {}\n", d.severity, d.message));
    }
    out
}
