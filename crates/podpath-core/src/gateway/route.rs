//! A request through a Gateway's data plane, as the API specifies it: the
//! listener by port, protocol and hostname (exact before wildcard before
//! none), the rules of the HTTPRoutes attached to it whose hostnames take
//! the request's host, the match that wins by the API's precedence (Exact
//! path; the longest PathPrefix; method; most headers; most query
//! parameters; then the oldest route, its `namespace/name`, the rule's
//! order), then the rule's filters in order (request and response header
//! modifiers, a redirect, a rewrite, a mirror) and a backend by weight — a
//! backend that does not resolve answers 500, a rule with nothing to
//! forward to 404, no match 404.

use std::net::IpAddr;

use super::status::{backend_problem, hostnames_intersect, on_listener, takes, under_wildcard, RouteView};
use super::{name, namespace, GatewayApi, Held, Implementation};
use crate::cluster::Cluster;
use crate::ingress::{endpoints, Backend, HttpRequest};
use crate::load::gateway as crd;
use crate::names::Rng;

/// What the data plane did with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayRouted {
    pub implementation: Implementation,
    pub status: u16,
    /// `NS/NAME` of the Gateway, and its listener that took the request.
    pub gateway: String,
    pub listener: Option<String>,
    /// `NS/NAME` of the route whose rule matched, and which rule and match.
    pub route: Option<String>,
    pub rule: String,
    /// The matched rule in a line (`PathPrefix /api → api:8080`).
    pub summary: String,
    pub reason: String,
    pub backend: Option<Backend>,
    pub upstream: Option<(IpAddr, u16)>,
    pub candidates: Vec<(IpAddr, u16)>,
    /// The request as forwarded: its path, its Host, its headers.
    pub upstream_path: String,
    pub upstream_host: String,
    pub upstream_headers: Vec<(String, String)>,
    /// Headers the response gets on its way back (ResponseHeaderModifier).
    pub response_headers: Vec<(String, String)>,
    pub location: Option<String>,
    pub body: Option<String>,
    /// The backend a RequestMirror filter copies the request to.
    pub mirrored: Option<Backend>,
}

/// How well a match fits, best first when sorted in reverse: exact path,
/// prefix length, method, headers, query parameters.
type Fit = (bool, usize, bool, usize, usize);

fn path_matches(m: &crd::PathMatch, path: &str) -> Option<(bool, usize)> {
    let value = m.value.as_deref().unwrap_or("/");
    match m.type_.as_deref().unwrap_or("PathPrefix") {
        "Exact" => (path == value).then_some((true, value.len())),
        "PathPrefix" => {
            let p = value.trim_end_matches('/');
            (p.is_empty() || path == p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
                .then_some((false, value.len()))
        }
        "RegularExpression" => {
            let re = regex_lite::Regex::new(&format!("^(?:{value})$")).ok()?;
            re.is_match(path).then_some((false, value.len()))
        }
        _ => None,
    }
}

pub(super) fn value_matches(m: &crd::ValueMatch, value: Option<&str>) -> bool {
    let Some(v) = value else { return false };
    match m.type_.as_deref().unwrap_or("Exact") {
        "RegularExpression" => regex_lite::Regex::new(&m.value).is_ok_and(|r| r.is_match(v)),
        _ => v == m.value,
    }
}

fn query_value<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    let query = req.path.split_once('?').map_or("", |(_, q)| q);
    query.split('&').filter_map(|kv| kv.split_once('=').or(Some((kv, "")))).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// How a match fits the request, if it does.
fn fit(m: &crd::HttpRouteMatch, req: &HttpRequest) -> Option<Fit> {
    let default = crd::PathMatch::default();
    let (exact, len) = path_matches(m.path.as_ref().unwrap_or(&default), req.path_only())?;
    if m.method.as_deref().is_some_and(|x| x != req.method) {
        return None;
    }
    if !m.headers.iter().all(|h| value_matches(h, req.header(&h.name))) {
        return None;
    }
    if !m.query_params.iter().all(|q| value_matches(q, query_value(req, &q.name))) {
        return None;
    }
    Some((exact, len, m.method.is_some(), m.headers.len(), m.query_params.len()))
}

/// The hostname of the route that takes `host` on a listener, and how
/// precise it is (non-wildcard characters, all characters); `None` when
/// the route does not take that host there.
pub(super) fn host_fit(hostnames: &[String], listener: Option<&str>, host: &str) -> Option<(usize, usize)> {
    let takes = |pattern: &str| takes(pattern, host);
    if hostnames.is_empty() {
        return listener.is_none_or(takes).then_some((0, 0));
    }
    hostnames
        .iter()
        .filter(|h| listener.is_none_or(|l| hostnames_intersect(l, h)))
        .filter(|h| takes(h) && listener.is_none_or(takes))
        .map(|h| (if h.starts_with('*') { 0 } else { h.len() }, h.len()))
        .max()
}

/// The listener of `gw` that takes a request to `port` with `host`: exact
/// hostnames first, then wildcards (more labels after the `*` first),
/// then listeners without one.
fn listener<'g>(gw: &'g crd::Gateway, port: u16, scheme: &str, host: &str) -> Option<&'g crd::Listener> {
    let protocol = if scheme == "https" { "HTTPS" } else { "HTTP" };
    gw.spec
        .listeners
        .iter()
        .filter(|l| l.port == i32::from(port) && l.protocol == protocol)
        .filter_map(|l| match l.hostname.as_deref().filter(|h| !h.is_empty()) {
            None => Some((0usize, 0usize, l)),
            Some(h) if h == host => Some((2, 0, l)),
            Some(h) => under_wildcard(h, host).map(|s| (1, s.matches('.').count(), l)),
        })
        .max_by_key(|(rank, dots, _)| (*rank, *dots))
        .map(|(_, _, l)| l)
}

/// A rule that matched, with everything that orders it.
struct Candidate<'a> {
    key: ((usize, usize), Fit),
    created: (String, usize),
    full_name: String,
    rule_index: usize,
    match_index: usize,
    route: &'a Held<crd::HttpRoute>,
    rule: &'a crd::HttpRouteRule,
}

/// Routes a request that reached Gateway `gw` on `port`.
pub fn route(
    cluster: &Cluster,
    api: &GatewayApi,
    gw: &Held<crd::Gateway>,
    req: &HttpRequest,
    seed: u64,
) -> Option<GatewayRouted> {
    let implementation = api.implementation(&gw.object)?;
    let gw_key = format!("{}/{}", namespace(&gw.object.metadata), name(&gw.object.metadata));
    let mut out = GatewayRouted {
        implementation,
        status: 404,
        gateway: gw_key.clone(),
        listener: None,
        route: None,
        rule: String::new(),
        summary: String::new(),
        reason: String::new(),
        backend: None,
        upstream: None,
        candidates: Vec::new(),
        upstream_path: req.path.clone(),
        upstream_host: req.host.clone(),
        upstream_headers: Vec::new(),
        response_headers: Vec::new(),
        location: None,
        body: Some(implementation.not_found_body().to_owned()),
        mirrored: None,
    };
    let Some(l) = listener(&gw.object, req.port, &req.scheme, &req.host) else {
        out.reason = format!("no listener of Gateway {gw_key} takes {} on port {}", req.host, req.port);
        return Some(out);
    };
    out.listener = Some(l.name.clone());
    if super::grpc::is_grpc(req) {
        super::grpc::route(cluster, api, gw, l, req, seed, &mut out);
        return Some(out);
    }
    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    for held in &api.http_routes {
        let r = &held.object;
        let view = RouteView::http(r);
        if !on_listener(cluster, &gw.object, &view, &l.name) {
            continue;
        }
        let Some(host_key) = host_fit(&r.spec.hostnames, l.hostname.as_deref().filter(|h| !h.is_empty()), &req.host)
        else {
            continue;
        };
        let created = r.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()).unwrap_or_default();
        let rules: Vec<&crd::HttpRouteRule> =
            r.spec.rules.as_ref().map_or_else(|| vec![&DEFAULT_RULE], |rs| rs.iter().collect());
        for (rule_index, rule) in rules.into_iter().enumerate() {
            let default_match = [crd::HttpRouteMatch::default()];
            let matches = rule.matches.as_deref().unwrap_or(&default_match);
            let best = matches
                .iter()
                .enumerate()
                .filter_map(|(i, m)| fit(m, req).map(|f| (f, i)))
                .max_by_key(|(f, i)| (*f, std::cmp::Reverse(*i)));
            let Some((f, match_index)) = best else { continue };
            candidates.push(Candidate {
                key: (host_key, f),
                created: (created.clone(), held.index),
                full_name: format!("{}/{}", view.namespace, name(&r.metadata)),
                rule_index,
                match_index,
                route: held,
                rule,
            });
        }
    }
    // Best fit first; then the oldest route, then by namespace/name, then
    // the rule's order.
    crate::order::sort_by(&mut candidates, |a, b| {
        b.key
            .cmp(&a.key)
            .then_with(|| a.created.cmp(&b.created))
            .then_with(|| a.full_name.cmp(&b.full_name))
            .then_with(|| a.rule_index.cmp(&b.rule_index))
    });
    let Some(c) = candidates.first() else {
        out.reason = format!("no rule of a route attached to listener {} matches {}{}", l.name, req.host, req.path);
        return Some(out);
    };
    out.route = Some(c.full_name.clone());
    out.rule = format!("{} rules[{}].matches[{}]", c.full_name, c.rule_index, c.match_index);
    out.summary = super::view::rule_summary(c.rule);
    out.body = None;
    apply(cluster, api, c, l, req, seed, &mut out);
    Some(out)
}

static DEFAULT_RULE: crd::HttpRouteRule =
    crd::HttpRouteRule { name: None, matches: None, filters: Vec::new(), backend_refs: Vec::new() };

fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value.to_owned()));
}

/// The filters of the matched rule, in order, then its backend.
fn apply(
    cluster: &Cluster,
    api: &GatewayApi,
    c: &Candidate<'_>,
    l: &crd::Listener,
    req: &HttpRequest,
    seed: u64,
    out: &mut GatewayRouted,
) {
    let route_ns = namespace(&c.route.object.metadata);
    let mut headers: Vec<(String, String)> =
        req.headers.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("host")).cloned().collect();
    let prefix = c
        .rule
        .matches
        .as_ref()
        .and_then(|m| m.get(c.match_index))
        .and_then(|m| m.path.as_ref())
        .filter(|p| p.type_.as_deref().unwrap_or("PathPrefix") == "PathPrefix")
        .and_then(|p| p.value.clone())
        .unwrap_or_else(|| "/".into());
    let (path, query) = match req.path.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (req.path.clone(), None),
    };
    let modified = |m: &crd::PathModifier| -> String {
        let p = match m.type_.as_str() {
            "ReplaceFullPath" => m.replace_full_path.clone().unwrap_or_default(),
            _ => {
                let rest = path.get(prefix.trim_end_matches('/').len()..).unwrap_or("");
                let replaced =
                    format!("{}{rest}", m.replace_prefix_match.as_deref().unwrap_or("").trim_end_matches('/'));
                if replaced.is_empty() {
                    "/".to_owned()
                } else {
                    replaced
                }
            }
        };
        match &query {
            Some(q) => format!("{p}?{q}"),
            None => p,
        }
    };
    for f in &c.rule.filters {
        match f.type_.as_str() {
            "RequestHeaderModifier" => {
                let Some(m) = &f.request_header_modifier else { continue };
                for h in &m.set {
                    set_header(&mut headers, &h.name, &h.value);
                }
                for h in &m.add {
                    match headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&h.name)) {
                        Some((_, v)) => *v = format!("{v},{}", h.value),
                        None => headers.push((h.name.clone(), h.value.clone())),
                    }
                }
                headers.retain(|(n, _)| !m.remove.iter().any(|r| r.eq_ignore_ascii_case(n)));
            }
            "ResponseHeaderModifier" => {
                let Some(m) = &f.response_header_modifier else { continue };
                for h in m.set.iter().chain(&m.add) {
                    out.response_headers.push((h.name.clone(), h.value.clone()));
                }
            }
            "RequestRedirect" => {
                let Some(r) = &f.request_redirect else { continue };
                let scheme = r.scheme.clone().unwrap_or_else(|| req.scheme.clone());
                let host = r.hostname.clone().unwrap_or_else(|| req.host.clone());
                // No port given: the scheme's own when the redirect names a
                // scheme, else the listener's; left out where it is the
                // scheme's well-known one.
                let port = r.port.unwrap_or(match (&r.scheme, scheme.as_str()) {
                    (Some(_), "https") => 443,
                    (Some(_), "http") => 80,
                    _ => l.port,
                });
                let shown = match (scheme.as_str(), port) {
                    ("http", 80) | ("https", 443) => String::new(),
                    _ => format!(":{port}"),
                };
                let target = r.path.as_ref().map_or_else(|| req.path.clone(), &modified);
                out.status = u16::try_from(r.status_code.unwrap_or(302)).unwrap_or(302);
                out.location = Some(format!("{scheme}://{host}{shown}{target}"));
                out.reason = format!("{} redirects it", out.rule);
                return;
            }
            "URLRewrite" => {
                let Some(w) = &f.url_rewrite else { continue };
                if let Some(h) = &w.hostname {
                    out.upstream_host = h.clone();
                }
                if let Some(p) = &w.path {
                    out.upstream_path = modified(p);
                }
            }
            "RequestMirror" => {
                if let Some(m) = &f.request_mirror {
                    let b = &m.backend_ref;
                    let ns = b.namespace.clone().unwrap_or_else(|| route_ns.clone());
                    let port = b.port.map(|p| p.to_string()).unwrap_or_default();
                    out.mirrored = Some(Backend { namespace: ns, service: b.name.clone(), port });
                }
            }
            _ => {}
        }
    }
    out.upstream_headers = headers;
    backend(cluster, api, (&c.rule.backend_refs, "HTTPRoute"), &route_ns, seed, out);
}

/// A backend of the rule by weight: one that does not resolve answers 500
/// for its share; no backend at all is a 404 (nothing to forward to).
pub(super) fn backend(
    cluster: &Cluster,
    api: &GatewayApi,
    (refs, route_kind): (&[crd::BackendRef], &str),
    route_ns: &str,
    seed: u64,
    out: &mut GatewayRouted,
) {
    if refs.is_empty() {
        out.status = 404;
        out.body = Some(out.implementation.not_found_body().to_owned());
        out.reason = format!("{} has no backendRefs: nothing to forward to", out.rule);
        return;
    }
    let weight = |b: &crd::BackendRef| u64::try_from(b.weight.unwrap_or(1)).unwrap_or(0);
    let total: u64 = refs.iter().map(weight).sum();
    if total == 0 {
        out.status = 500;
        out.reason = format!("{}: every backendRef has weight 0", out.rule);
        return;
    }
    let mut rng = Rng::new(seed ^ crate::names::fnv64a(out.rule.as_bytes()));
    let mut pick = rng.below(total);
    let chosen = refs.iter().find(|b| {
        let w = weight(b);
        if pick < w {
            true
        } else {
            pick -= w;
            false
        }
    });
    let Some(b) = chosen else { return };
    if let Some((reason, message)) = backend_problem(cluster, api, route_kind, route_ns, b) {
        out.status = 500;
        out.reason = format!("{}: {message} ({reason})", out.rule);
        return;
    }
    let ns = b.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| route_ns.to_owned());
    let port = b.port.unwrap_or_default().to_string();
    let chosen = Backend { namespace: ns.clone(), service: b.name.clone(), port: port.clone() };
    let Some(svc) = cluster.service(&ns, &b.name) else { return };
    let eps = endpoints(cluster, svc, &port);
    out.backend = Some(chosen);
    if eps.is_empty() {
        out.status = 503;
        out.reason = format!("{}: service {ns}/{} has no ready endpoints", out.rule, b.name);
        return;
    }
    let at = rng.below(eps.len() as u64) as usize;
    out.upstream = Some(eps[at]);
    out.candidates = eps;
    out.status = 200;
    out.reason = format!("{} sends it to {ns}/{}:{port}", out.rule, b.name);
}
