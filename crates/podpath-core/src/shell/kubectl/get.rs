//! `kubectl get`: the kinds as tables, `-o wide`, `-o json|yaml` (one
//! named object as itself, not in a List), `-o name`, and kubectl's words
//! when nothing matches.

use super::{filtered, resource, scope, Flags};
use crate::kubectl::{self as k, Scope};
use crate::labels::Selector;
use crate::shell::Output;
use crate::Cluster;

pub(super) fn get(cluster: &Cluster, f: &Flags) -> Output {
    let (kind, slash_name) = match resource(f, "get", "\n\nerror: Required resource not specified.\nUse \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples") {
        Ok(r) => r,
        Err(o) => return o,
    };
    let name = slash_name.or_else(|| f.args.get(1).cloned());
    let sel = match f.selector.as_deref().map(Selector::parse).transpose() {
        Ok(s) => s,
        Err(e) => return Output::fail(1, format!("error: {e}\n")),
    };
    let output = f.output.as_deref().unwrap_or("");
    if !["", "wide", "json", "yaml", "name"].contains(&output) {
        return Output::fail(1, format!("error: unable to match a printer suitable for the output format \"{output}\", allowed formats are: json,name,wide,yaml\n"));
    }
    let c = filtered(cluster, name.as_deref(), sel.as_ref());
    let admin_kind = crate::policy::admin::is_kind(kind);
    let scope =
        if ["nodes", "namespaces", "gatewayclasses"].contains(&kind) || admin_kind { Scope::All } else { scope(f) };
    let gateway_kind = crate::gateway::view::KINDS.iter().any(|(k, _)| *k == kind);
    let count = match kind {
        "pods" => k::pods(&c, &scope).len(),
        "services" => k::services(&c, &scope).len(),
        "endpoints" | "endpointslices" => k::endpoint_slices(&c, &scope).len(),
        "networkpolicies" => c.network_policies.iter().filter(|p| scope_has(&scope, &p.namespace)).count(),
        "ingresses" => c.ingresses.iter().filter(|i| scope_has(&scope, &i.namespace)).count(),
        "nodes" => c.nodes.len(),
        _ if gateway_kind => crate::gateway::view::names(&cluster.gateway_api, kind, &scope, name.as_deref()).len(),
        _ if admin_kind => crate::policy::admin::names(cluster, kind, name.as_deref()).len(),
        _ => c.namespaces.iter().filter(|n| name.as_deref().is_none_or(|x| x == n.as_str())).count(),
    };
    if count == 0 {
        return match (&name, kind) {
            (Some(n), _) => Output::fail(1, format!("Error from server (NotFound): {kind} \"{n}\" not found\n")),
            (None, "nodes" | "namespaces" | "gatewayclasses") => Output::ok("No resources found\n"),
            (None, _) if admin_kind => Output::ok("No resources found\n"),
            (None, _) => Output::ok(format!("{}\n", k::no_resources(&scope))),
        };
    }
    let wide = output == "wide";
    let value = || match kind {
        "pods" => k::pods_list(&c, &scope),
        "services" => k::services_list(&c, &scope),
        "endpoints" | "endpointslices" => k::endpoint_slices_list(&c, &scope),
        "networkpolicies" => k::network_policies_list(&c, &scope),
        "ingresses" => k::ingresses_list(&c, &scope),
        "nodes" => k::nodes_list(&c),
        _ if gateway_kind => crate::gateway::view::list(cluster, kind, &scope, name.as_deref()),
        _ if admin_kind => crate::policy::admin::list(cluster, kind, name.as_deref()),
        _ => k::list(Vec::new()),
    };
    // One named object prints as itself, not in a List.
    let single = |v: serde_json::Value| match (&name, v.get("items").and_then(|i| i.as_array())) {
        (Some(_), Some(items)) if items.len() == 1 => items[0].clone(),
        _ => v,
    };
    let text = match output {
        "json" => serde_json::to_string_pretty(&single(value())).unwrap_or_default() + "\n",
        "yaml" => k::to_yaml(&single(value())),
        "name" => names(&c, kind, &scope, name.as_deref()),
        _ => match kind {
            "pods" => k::pods_table(&c, &scope, wide),
            "services" => k::services_table(&c, &scope, wide),
            "endpoints" => endpoints_table(&c, &scope),
            "endpointslices" => k::endpoint_slices_table(&c, &scope),
            "networkpolicies" => k::network_policies_table(&c, &scope),
            "ingresses" => k::ingresses_table(&c, &scope),
            "nodes" => k::nodes_table(&c, wide),
            _ if gateway_kind => crate::gateway::view::table_of(cluster, kind, &scope, wide, name.as_deref()),
            _ if admin_kind => crate::policy::admin::table_of(cluster, kind, name.as_deref()),
            _ => namespaces_table(&c, name.as_deref()),
        },
    };
    Output::ok(text)
}

fn scope_has(scope: &Scope, ns: &str) -> bool {
    match scope {
        Scope::All => true,
        Scope::Namespace(n) => n == ns,
    }
}

/// `-o name`: `pod/web-1`, one per line.
fn names(c: &Cluster, kind: &str, scope: &Scope, only: Option<&str>) -> String {
    let (prefix, list): (&str, Vec<String>) = match kind {
        "pods" => ("pod", k::pods(c, scope).iter().map(|p| p.name.clone()).collect()),
        "services" => ("service", k::services(c, scope).iter().map(|s| s.name.clone()).collect()),
        "nodes" => ("node", c.nodes.iter().map(|n| n.name.clone()).collect()),
        "endpointslices" => {
            ("endpointslice.discovery.k8s.io", k::endpoint_slices(c, scope).iter().map(|e| e.name.clone()).collect())
        }
        "networkpolicies" => (
            "networkpolicy.networking.k8s.io",
            c.network_policies.iter().filter(|p| scope_has(scope, &p.namespace)).map(|p| p.name.clone()).collect(),
        ),
        "ingresses" => (
            "ingress.networking.k8s.io",
            c.ingresses.iter().filter(|i| scope_has(scope, &i.namespace)).map(|i| i.name.clone()).collect(),
        ),
        "gatewayclasses" | "gateways" | "httproutes" | "grpcroutes" | "referencegrants" => {
            let singular = match kind {
                "gatewayclasses" => "gatewayclass",
                "gateways" => "gateway",
                "httproutes" => "httproute",
                "grpcroutes" => "grpcroute",
                _ => "referencegrant",
            };
            let names =
                crate::gateway::view::names(&c.gateway_api, kind, scope, only).into_iter().map(|(_, n)| n).collect();
            return names_with(&format!("{singular}.gateway.networking.k8s.io"), names);
        }
        _ if crate::policy::admin::is_kind(kind) => {
            let singular = kind.trim_end_matches("ies").to_owned() + "y";
            let names = crate::policy::admin::names(c, kind, only).into_iter().map(|p| p.name.clone()).collect();
            return names_with(&format!("{singular}.{}", crate::policy::admin::GROUP), names);
        }
        _ => ("namespace", c.namespaces.iter().cloned().collect()),
    };
    names_with(prefix, list)
}

fn names_with(prefix: &str, list: Vec<String>) -> String {
    list.iter().map(|n| format!("{prefix}/{n}\n")).collect()
}

/// `kubectl get namespaces`.
fn namespaces_table(c: &Cluster, name: Option<&str>) -> String {
    let mut rows = vec![vec!["NAME".to_owned(), "STATUS".to_owned(), "AGE".to_owned()]];
    for ns in c.namespaces.iter().filter(|n| name.is_none_or(|x| x == n.as_str())) {
        rows.push(vec![ns.clone(), "Active".into(), "<unknown>".into()]);
    }
    k::table(&rows)
}

/// `kubectl get endpoints`: the v1 Endpoints the mirroring controller
/// keeps for each Service with a selector, from its ready addresses.
fn endpoints_table(c: &Cluster, scope: &Scope) -> String {
    let mut rows = vec![with_ns(scope, "NAMESPACE", vec!["NAME".into(), "ENDPOINTS".into(), "AGE".into()])];
    for s in k::services(c, scope) {
        if s.selector.is_none() && c.slices_of(s).next().is_none() {
            continue;
        }
        rows.push(with_ns(scope, &s.namespace, vec![s.name.clone(), endpoints_text(c, s), "<unknown>".into()]));
    }
    let mut out = "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n".to_owned();
    out.push_str(&k::table(&rows));
    out
}

fn with_ns(scope: &Scope, ns: &str, mut row: Vec<String>) -> Vec<String> {
    if *scope == Scope::All {
        row.insert(0, ns.to_owned());
    }
    row
}

/// A Service's ready endpoints as `IP:PORT`, at most three then `+ N
/// more...`, `<none>` without any (kubectl's printer).
fn endpoints_text(c: &Cluster, s: &crate::cluster::Service) -> String {
    let mut addrs = Vec::new();
    for es in c.slices_of(s) {
        for e in es.endpoints.iter().filter(|e| e.is_ready()) {
            for a in &e.addresses {
                for p in &es.ports {
                    if let Some(port) = p.port {
                        addrs.push(format!("{a}:{port}"));
                    }
                }
            }
        }
    }
    match addrs.len() {
        0 => "<none>".into(),
        n if n <= 3 => addrs.join(","),
        n => format!("{} + {} more...", addrs[..3].join(","), n - 3),
    }
}
