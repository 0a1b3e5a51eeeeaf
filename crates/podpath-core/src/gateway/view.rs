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
