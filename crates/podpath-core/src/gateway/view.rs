//! `kubectl get` of the Gateway API's kinds: the CRDs' printer columns
//! (v1.4.1 `additionalPrinterColumns`: GatewayClass CONTROLLER, ACCEPTED,
//! AGE and, wide, DESCRIPTION; Gateway CLASS, ADDRESS, PROGRAMMED, AGE;
//! HTTPRoute and GRPCRoute HOSTNAMES, AGE; ReferenceGrant AGE), and each
//! object as JSON with the status its controller writes.

use serde_json::{json, Value};

use super::status::{self, Condition, RouteView};
use super::{name, namespace, GatewayApi};
use crate::cluster::Cluster;
use crate::kubectl::{table, Scope};

/// The kinds, with kubectl's names for them.
pub const KINDS: &[(&str, &[&str])] = &[
    ("gatewayclasses", &["gatewayclasses", "gatewayclass", "gc"]),
    ("gateways", &["gateways", "gateway", "gtw"]),
    ("httproutes", &["httproutes", "httproute"]),
    ("grpcroutes", &["grpcroutes", "grpcroute"]),
    ("referencegrants", &["referencegrants", "referencegrant", "refgrant"]),
];

fn in_scope(scope: &Scope, ns: &str) -> bool {
    match scope {
        Scope::All => true,
        Scope::Namespace(n) => n == ns,
    }
}

/// `(namespace, name)` of each object of `kind` in scope, in kubectl's
/// order (namespace, then name).
pub fn names(api: &GatewayApi, kind: &str, scope: &Scope, only: Option<&str>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = match kind {
        "gatewayclasses" => api.classes.iter().map(|c| (String::new(), name(&c.object.metadata))).collect(),
        "gateways" => api.gateways.iter().map(|g| (namespace(&g.object.metadata), name(&g.object.metadata))).collect(),
        "httproutes" => {
            api.http_routes.iter().map(|r| (namespace(&r.object.metadata), name(&r.object.metadata))).collect()
        }
        "grpcroutes" => {
            api.grpc_routes.iter().map(|r| (namespace(&r.object.metadata), name(&r.object.metadata))).collect()
        }
        "referencegrants" => {
            api.grants.iter().map(|g| (namespace(&g.object.metadata), name(&g.object.metadata))).collect()
        }
        _ => Vec::new(),
    };
    v.retain(|(ns, n)| (kind == "gatewayclasses" || in_scope(scope, ns)) && only.is_none_or(|o| o == n));
    crate::order::sort(&mut v);
    v
}

fn cond_value(c: &Condition) -> Value {
    json!({"type": c.type_, "status": if c.status { "True" } else { "False" }, "reason": c.reason, "message": c.message,
           "lastTransitionTime": "1970-01-01T00:00:00Z", "observedGeneration": 1})
}

/// The table `kubectl get KIND` prints.
pub fn table_of(cluster: &Cluster, kind: &str, scope: &Scope, wide: bool, only: Option<&str>) -> String {
    let api = &cluster.gateway_api;
    let with_ns = *scope == Scope::All && kind != "gatewayclasses";
    let mut header: Vec<String> = match kind {
        "gatewayclasses" => vec!["NAME", "CONTROLLER", "ACCEPTED", "AGE"],
        "gateways" => vec!["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"],
        "httproutes" | "grpcroutes" => vec!["NAME", "HOSTNAMES", "AGE"],
        _ => vec!["NAME", "AGE"],
    }
    .into_iter()
    .map(str::to_owned)
    .collect();
    if wide && kind == "gatewayclasses" {
        header.push("DESCRIPTION".into());
    }
    if with_ns {
        header.insert(0, "NAMESPACE".into());
    }
    let mut rows = vec![header];
    for (ns, n) in names(api, kind, scope, only) {
        let mut row: Vec<String> = match kind {
            "gatewayclasses" => {
                let c = api.class(&n).expect("listed");
                let accepted =
                    status::class_accepted(api, c).map_or("Unknown", |c| if c.status { "True" } else { "False" });
                let mut r = vec![n.clone(), c.spec.controller_name.clone(), accepted.into(), "<unknown>".into()];
                if wide {
                    r.push(c.spec.description.clone().unwrap_or_else(|| "<none>".into()));
                }
                r
            }
            "gateways" => {
                let g = &api.gateway(&ns, &n).expect("listed").object;
                let s = status::gateway_status(cluster, api, g, super::address(cluster, g));
                let addr = s.as_ref().and_then(|s| s.addresses.first()).map_or(String::new(), ToString::to_string);
                let programmed = s
                    .as_ref()
                    .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Programmed"))
                    .map_or("Unknown", |c| if c.status { "True" } else { "False" });
                vec![n.clone(), g.spec.gateway_class_name.clone(), addr, programmed.into(), "<unknown>".into()]
            }
            "httproutes" | "grpcroutes" => {
                let hosts = if kind == "httproutes" {
                    api.http_routes
                        .iter()
                        .find(|r| namespace(&r.object.metadata) == ns && name(&r.object.metadata) == n)
                        .map(|r| r.object.spec.hostnames.clone())
                } else {
                    api.grpc_routes
                        .iter()
                        .find(|r| namespace(&r.object.metadata) == ns && name(&r.object.metadata) == n)
                        .map(|r| r.object.spec.hostnames.clone())
                }
                .unwrap_or_default();
                let shown = if hosts.is_empty() { String::new() } else { format!("[\"{}\"]", hosts.join("\",\"")) };
                vec![n.clone(), shown, "<unknown>".into()]
            }
            _ => vec![n.clone(), "<unknown>".into()],
        };
        if with_ns {
            row.insert(0, ns.clone());
        }
        rows.push(row);
    }
    table(&rows)
}

fn route_parents(cluster: &Cluster, api: &GatewayApi, view: &RouteView<'_>) -> Vec<Value> {
    view.parents
        .iter()
        .filter_map(|p| status::parent_status(cluster, api, p, view))
        .map(|s| {
            let mut parent = json!({"group": super::GROUP, "kind": "Gateway", "name": s.gateway.1, "namespace": s.gateway.0});
            if let Some(section) = &s.section_name {
                parent["sectionName"] = json!(section);
            }
            if let Some(port) = s.port {
                parent["port"] = json!(port);
            }
            json!({"parentRef": parent, "controllerName": s.controller, "conditions": s.conditions.iter().map(cond_value).collect::<Vec<_>>()})
        })
        .collect()
}

/// The objects of `kind` in scope as a `List`, each with its status.
pub fn list(cluster: &Cluster, kind: &str, scope: &Scope, only: Option<&str>) -> Value {
    let api = &cluster.gateway_api;
    let mut items = Vec::new();
    for (ns, n) in names(api, kind, scope, only) {
        // The object as written (its spec whole, its labels), with the
        // metadata the API server adds and the status its controller writes.
        let meta = |kind_name: &str, version: &str, raw: &Value| {
            let mut m = json!({"name": n, "generation": 1});
            if !ns.is_empty() {
                m["namespace"] = json!(ns);
            }
            for key in ["labels", "annotations"] {
                if let Some(v) = raw["metadata"].get(key).filter(|v| v.is_object()) {
                    m[key] = v.clone();
                }
            }
            let mut v = json!({"apiVersion": format!("{}/{version}", super::GROUP), "kind": kind_name, "metadata": m});
            if raw["spec"].is_object() {
                v["spec"] = raw["spec"].clone();
            }
            v
        };
        let item = match kind {
            "gatewayclasses" => {
                let c = api.class(&n).expect("listed");
                let mut v = meta("GatewayClass", "v1", &c.raw);
                let accepted = status::class_accepted(api, c).map_or_else(
                    || json!({"type": "Accepted", "status": "Unknown", "reason": "Pending", "message": "Waiting for controller", "lastTransitionTime": "1970-01-01T00:00:00Z"}),
                    |c| cond_value(&c),
                );
                v["status"] = json!({"conditions": [accepted]});
                v
            }
            "gateways" => {
                let g = &api.gateway(&ns, &n).expect("listed").object;
                let mut v = meta("Gateway", "v1", &g.raw);
                let listeners: Vec<Value> = g
                    .spec
                    .listeners
                    .iter()
                    .map(|l| {
                        let mut x = json!({"name": l.name, "port": l.port, "protocol": l.protocol});
                        if let Some(h) = &l.hostname {
                            x["hostname"] = json!(h);
                        }
                        x
                    })
                    .collect();
                if !v["spec"].is_object() {
                    v["spec"] = json!({"gatewayClassName": g.spec.gateway_class_name, "listeners": listeners});
                }
                if let Some(s) = status::gateway_status(cluster, api, g, super::address(cluster, g)) {
                    v["status"] = json!({
                        "addresses": s.addresses.iter().map(|a| json!({"type": "IPAddress", "value": a.to_string()})).collect::<Vec<_>>(),
                        "conditions": s.conditions.iter().map(cond_value).collect::<Vec<_>>(),
                        "listeners": s.listeners.iter().map(|l| json!({
                            "name": l.name,
                            "supportedKinds": l.supported_kinds.iter().map(|k| json!({"group": super::GROUP, "kind": k})).collect::<Vec<_>>(),
                            "attachedRoutes": l.attached_routes,
                            "conditions": l.conditions.iter().map(cond_value).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    });
                }
                v
            }
            "httproutes" => {
                let r = &api
                    .http_routes
                    .iter()
                    .find(|r| namespace(&r.object.metadata) == ns && name(&r.object.metadata) == n)
                    .expect("listed")
                    .object;
                let mut v = meta("HTTPRoute", "v1", &r.raw);
                v["status"] = json!({"parents": route_parents(cluster, api, &RouteView::http(r))});
                v
            }
            "grpcroutes" => {
                let r = &api
                    .grpc_routes
                    .iter()
                    .find(|r| namespace(&r.object.metadata) == ns && name(&r.object.metadata) == n)
                    .expect("listed")
                    .object;
                let mut v = meta("GRPCRoute", "v1", &r.raw);
                v["status"] = json!({"parents": route_parents(cluster, api, &RouteView::grpc(r))});
                v
            }
            _ => {
                let g =
                    api.grants.iter().find(|g| namespace(&g.object.metadata) == ns && name(&g.object.metadata) == n);
                meta("ReferenceGrant", "v1beta1", g.map_or(&Value::Null, |g| &g.object.raw))
            }
        };
        items.push(item);
    }
    crate::kubectl::list(items)
}

/// A rule in a line, for the page and the data plane's hop:
/// `PathPrefix /api → api:8080 ×90, api-canary:8080 ×10`.
pub fn rule_summary(rule: &crate::load::gateway::HttpRouteRule) -> String {
    let matches: Vec<String> = rule
        .matches
        .iter()
        .flatten()
        .map(|m| {
            let mut parts = Vec::new();
            if let Some(p) = &m.path {
                parts.push(format!(
                    "{} {}",
                    p.type_.as_deref().unwrap_or("PathPrefix"),
                    p.value.as_deref().unwrap_or("/")
                ));
            }
            if let Some(method) = &m.method {
                parts.push(method.clone());
            }
            parts.extend(m.headers.iter().map(|h| format!("{}: {}", h.name, h.value)));
            parts.extend(m.query_params.iter().map(|q| format!("?{}={}", q.name, q.value)));
            parts.join(" ")
        })
        .collect();
    let matches = if matches.is_empty() { "PathPrefix /".to_owned() } else { matches.join(" | ") };
    let mut out = matches;
    for f in &rule.filters {
        let what = match (&f.request_redirect, &f.url_rewrite, &f.request_mirror) {
            (Some(r), _, _) => format!(
                "redirect{}{} {}",
                r.scheme.as_deref().map(|s| format!(" {s}://")).unwrap_or_default(),
                r.hostname.as_deref().unwrap_or(""),
                r.status_code.unwrap_or(302)
            ),
            (_, Some(r), _) => {
                let path = r.path.as_ref().map(|p| {
                    format!(
                        " {} {}",
                        p.type_,
                        p.replace_prefix_match.as_deref().or(p.replace_full_path.as_deref()).unwrap_or("")
                    )
                });
                format!(
                    "rewrite{}{}",
                    r.hostname.as_deref().map(|h| format!(" host {h}")).unwrap_or_default(),
                    path.unwrap_or_default()
                )
            }
            (_, _, Some(m)) => format!("mirror {}:{}", m.backend_ref.name, m.backend_ref.port.unwrap_or_default()),
            _ => f.type_.clone(),
        };
        out.push_str(&format!(" → {what}"));
    }
    let weighted = rule.backend_refs.iter().any(|b| b.weight.is_some());
    let backends: Vec<String> = rule
        .backend_refs
        .iter()
        .map(|b| {
            let ns = b.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default();
            let w = if weighted { format!(" ×{}", b.weight.unwrap_or(1)) } else { String::new() };
            format!("{ns}{}:{}{w}", b.name, b.port.unwrap_or_default())
        })
        .collect();
    if !backends.is_empty() {
        out.push_str(&format!(" → {}", backends.join(", ")));
    }
    out
}

/// A GRPCRoute rule in a line: `echo.Echo/Echo → echo:8080`.
pub fn grpc_rule_summary(rule: &crate::load::gateway::GrpcRouteRule) -> String {
    let m: Vec<String> = rule
        .matches
        .iter()
        .map(|m| {
            m.method.as_ref().map_or_else(
                || "every method".to_owned(),
                |mm| format!("{}/{}", mm.service.as_deref().unwrap_or("*"), mm.method.as_deref().unwrap_or("*")),
            )
        })
        .collect();
    let b: Vec<String> =
        rule.backend_refs.iter().map(|b| format!("{}:{}", b.name, b.port.unwrap_or_default())).collect();
    format!("{} → {}", if m.is_empty() { "every call".to_owned() } else { m.join(" | ") }, b.join(", "))
}

/// A Gateway as the page draws it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct GatewaySummary {
    pub namespace: String,
    pub name: String,
    pub class: String,
    /// `NGINX Gateway Fabric`, `Traefik`, `Cilium`, or empty when no
    /// controller podpath simulates takes it.
    pub implementation: String,
    pub address: Option<String>,
    pub programmed: bool,
    /// `http :80 *.example.com`.
    pub listeners: Vec<String>,
    pub routes: Vec<RouteSummary>,
}

/// A route attached (or trying to attach) to a Gateway.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct RouteSummary {
    /// `HTTPRoute` or `GRPCRoute`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub hostnames: Vec<String>,
    /// Empty when accepted; else the reason the Gateway gives.
    pub problem: String,
    pub rules: Vec<String>,
}

/// Every Gateway with the routes whose parentRefs name it.
pub fn summaries(cluster: &Cluster) -> Vec<GatewaySummary> {
    let api = &cluster.gateway_api;
    // Every route with its rules in a line each, summed up once.
    let all_routes: Vec<_> = api
        .http_routes
        .iter()
        .map(|r| {
            let rules = r
                .object
                .spec
                .rules
                .as_ref()
                .map_or_else(|| vec!["PathPrefix /".to_owned()], |rs| rs.iter().map(rule_summary).collect());
            ("HTTPRoute", RouteView::http(&r.object), rules, &r.object.metadata)
        })
        .chain(api.grpc_routes.iter().map(|r| {
            let rules = r.object.spec.rules.iter().map(grpc_rule_summary).collect();
            ("GRPCRoute", RouteView::grpc(&r.object), rules, &r.object.metadata)
        }))
        .collect();
    let mut out = Vec::new();
    for (ns, n) in names(api, "gateways", &Scope::All, None) {
        let g = &api.gateway(&ns, &n).expect("listed").object;
        let status = status::gateway_status(cluster, api, g, super::address(cluster, g));
        let programmed =
            status.as_ref().is_some_and(|s| s.conditions.iter().any(|c| c.type_ == "Programmed" && c.status));
        let implementation = match api.implementation(g) {
            Some(super::Implementation::NginxGatewayFabric) => "NGINX Gateway Fabric",
            Some(super::Implementation::Traefik) => "Traefik",
            Some(super::Implementation::Cilium) => "Cilium",
            None => "",
        };
        let listeners = g
            .spec
            .listeners
            .iter()
            .map(|l| {
                let host = l.hostname.as_deref().map(|h| format!(" {h}")).unwrap_or_default();
                format!("{} :{} {}{host}", l.name, l.port, l.protocol)
            })
            .collect();
        let mut routes = Vec::new();
        for (kind, view, rules, meta) in &all_routes {
            for p in view.parents {
                if status::parent_gateway(p, &view.namespace).as_ref() != Some(&(ns.clone(), n.clone())) {
                    continue;
                }
                let problem = status::parent_status(cluster, api, p, view)
                    .and_then(|s| s.conditions.into_iter().find(|c| !c.status))
                    .map(|c| format!("{} {}: {}", c.type_, c.reason, c.message))
                    .unwrap_or_default();
                routes.push(RouteSummary {
                    kind: (*kind).to_owned(),
                    namespace: view.namespace.clone(),
                    name: name(meta),
                    hostnames: view.hostnames.to_vec(),
                    problem,
                    rules: rules.clone(),
                });
                break;
            }
        }
        out.push(GatewaySummary {
            namespace: ns.clone(),
            name: n.clone(),
            class: g.spec.gateway_class_name.clone(),
            implementation: implementation.to_owned(),
            address: status.as_ref().and_then(|s| s.addresses.first()).map(ToString::to_string),
            programmed,
            listeners,
            routes,
        });
    }
    out
}
