//! A gRPC call through a Gateway: a request with a `content-type` of
//! `application/grpc` is routed by the GRPCRoutes attached to the listener
//! (never merged with HTTPRoutes), by the API's precedence — the longest
//! matching non-wildcard hostname, the longest hostname, the most
//! characters of a matching service, then of a matching method, the most
//! header matches; then the oldest route, its `namespace/name`, the rule's
//! order. A rule without matches takes every call.
//!
//! gRPC answers in trailers, over HTTP status 200: no matching rule is
//! `grpc-status: 12` (UNIMPLEMENTED, as the conformance suite expects), a
//! backend that does not resolve `14` (UNAVAILABLE).

use super::route::{backend, host_fit, value_matches, GatewayRouted};
use super::status::{on_listener, RouteView};
use super::{name, GatewayApi, Held};
use crate::cluster::Cluster;
use crate::ingress::HttpRequest;
use crate::load::gateway as crd;

/// Whether a request is a gRPC call (gRPC over HTTP/2 sends this
/// content-type, `application/grpc` or `application/grpc+proto`…).
pub fn is_grpc(req: &HttpRequest) -> bool {
    req.header("content-type").is_some_and(|c| c.starts_with("application/grpc"))
}

/// `/package.Service/Method` as (service, method).
fn service_method(path: &str) -> (&str, &str) {
    let path = path.split('?').next().unwrap_or("").trim_start_matches('/');
    path.split_once('/').unwrap_or((path, ""))
}

/// How a match fits: service characters, method characters, headers.
type Fit = (usize, usize, usize);

fn fit(m: &crd::GrpcRouteMatch, req: &HttpRequest) -> Option<Fit> {
    let (service, method) = service_method(&req.path);
    let (mut s_len, mut m_len) = (0, 0);
    if let Some(mm) = &m.method {
        let regex = mm.type_.as_deref() == Some("RegularExpression");
        let matches = |pattern: &Option<String>, value: &str| match pattern.as_deref() {
            None => true,
            Some(p) if regex => regex_lite::Regex::new(&format!("^(?:{p})$")).is_ok_and(|r| r.is_match(value)),
            Some(p) => p == value,
        };
        if !matches(&mm.service, service) || !matches(&mm.method, method) {
            return None;
        }
        s_len = mm.service.as_deref().map_or(0, str::len);
        m_len = mm.method.as_deref().map_or(0, str::len);
    }
    m.headers.iter().all(|h| value_matches(h, req.header(&h.name))).then_some((s_len, m_len, m.headers.len()))
}

/// Routes a gRPC call that a listener of `gw` took.
pub(super) fn route(
    cluster: &Cluster,
    api: &GatewayApi,
    gw: &Held<crd::Gateway>,
    l: &crd::Listener,
    req: &HttpRequest,
    seed: u64,
    out: &mut GatewayRouted,
) {
    let listener_host = l.hostname.as_deref().filter(|h| !h.is_empty());
    // (host fit, match fit), (created, input order), namespace/name, rule, match, route, rule.
    type Found<'a> = (((usize, usize), Fit), (String, usize), String, usize, usize, &'a crd::GrpcRouteRule);
    let mut found: Vec<Found<'_>> = Vec::new();
    for held in &api.grpc_routes {
        let r = &held.object;
        let view = RouteView::grpc(r);
        if !on_listener(cluster, &gw.object, &view, &l.name) {
            continue;
        }
        let Some(host_key) = host_fit(&r.spec.hostnames, listener_host, &req.host) else { continue };
        let created = r.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()).unwrap_or_default();
        let full = format!("{}/{}", view.namespace, name(&r.metadata));
        for (ri, rule) in r.spec.rules.iter().enumerate() {
            let every = [crd::GrpcRouteMatch::default()];
            let matches = if rule.matches.is_empty() { &every[..] } else { &rule.matches[..] };
            let best = matches
                .iter()
                .enumerate()
                .filter_map(|(i, m)| fit(m, req).map(|f| (f, i)))
                .max_by_key(|(f, i)| (*f, std::cmp::Reverse(*i)));
            if let Some((f, mi)) = best {
                found.push(((host_key, f), (created.clone(), held.index), full.clone(), ri, mi, rule));
            }
        }
    }
    crate::order::sort_by(&mut found, |a, b| {
        b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)).then_with(|| a.2.cmp(&b.2)).then_with(|| a.3.cmp(&b.3))
    });
    let (service, method) = service_method(&req.path);
    out.body = None;
    out.status = 200;
    let Some((_, _, full, ri, mi, rule)) = found.first() else {
        out.response_headers.push(("grpc-status".into(), "12".into()));
        out.reason = format!(
            "no rule of a GRPCRoute attached to listener {} matches {service}/{method}: grpc-status 12 (UNIMPLEMENTED)",
            l.name
        );
        return;
    };
    out.route = Some(full.clone());
    out.rule = format!("{full} rules[{ri}].matches[{mi}]");
    out.summary = super::view::grpc_rule_summary(rule);
    let route_ns = full.split('/').next().unwrap_or_default().to_owned();
    if rule.backend_refs.is_empty() {
        out.response_headers.push(("grpc-status".into(), "12".into()));
        out.reason = format!("{} has no backendRefs: grpc-status 12 (UNIMPLEMENTED)", out.rule);
        return;
    }
    backend(cluster, api, (&rule.backend_refs, "GRPCRoute"), &route_ns, seed, out);
    // gRPC says in its status what HTTP says in its code.
    if out.status != 200 {
        out.reason = format!("{}: grpc-status 14 (UNAVAILABLE)", out.reason);
        out.response_headers.push(("grpc-status".into(), "14".into()));
        out.status = 200;
        out.body = None;
    }
}
