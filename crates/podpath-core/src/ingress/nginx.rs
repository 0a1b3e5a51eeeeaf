//! ingress-nginx: the nginx configuration the controller generates from
//! the Ingresses it serves, and nginx's own way of picking a server and a
//! location (internal/ingress/controller: `getBackendServers`,
//! `createServers`, `updateServerLocations`; the template's
//! `buildLocation`, `buildServerName`).
//!
//! - Class: `ingressClassName` naming a class whose controller is
//!   `k8s.io/ingress-nginx`, or the `kubernetes.io/ingress.class: nginx`
//!   annotation; Ingresses with neither are ignored
//!   (`--watch-ingress-without-class` is off).
//! - Servers: one per host; `*.example.com` matches one label and loses to
//!   an exact host; rules without a host, and hosts nobody named, land on
//!   the default server `_`.
//! - Locations: Exact `/p` is `location = /p`; Prefix `/p` is `location =
//!   /p` plus `location /p/` (element-wise); ImplementationSpecific is
//!   Prefix. nginx takes an exact match, else the longest prefix. Once any
//!   Ingress on a host uses `use-regex` or `rewrite-target`, every location
//!   of the host becomes `location ~* "^/p"`, tried longest first.
//! - The first Ingress (in creation order; input order here) wins a host
//!   and path that two define.
//! - A path that is a prefix location without its final slash gets nginx's
//!   301 to the slashed path (`auto_redirect` of proxied locations).
//! - Nothing matched: the default backend, nginx's 404 page.
//! - TLS hosts redirect plain HTTP with 308 (`ssl-redirect`, default on).

use std::collections::BTreeMap;

use super::{allowed, endpoints, pick, Backend, HttpRequest, Routed};
use crate::cluster::{Cluster, Ingress};
use crate::settings::IngressController;

const CONTROLLER: &str = "k8s.io/ingress-nginx";
const ANNOTATION: &str = "nginx.ingress.kubernetes.io/";

/// nginx's own error pages, as it writes them (server tokens off).
fn page(status: u16, text: &str) -> String {
    format!("<html>\r\n<head><title>{status} {text}</title></head>\r\n<body>\r\n<center><h1>{status} {text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
}

/// Whether ingress-nginx serves this Ingress.
pub fn serves(cluster: &Cluster, ing: &Ingress) -> bool {
    match &ing.class {
        Some(class) => cluster.ingress_classes.iter().any(|c| &c.name == class && c.controller == CONTROLLER),
        None => ing.annotation(crate::cluster::ingress::LEGACY_CLASS_ANNOTATION) == Some("nginx"),
    }
}

fn ann<'a>(ing: &'a Ingress, key: &str) -> Option<&'a str> {
    ing.annotation(&format!("{ANNOTATION}{key}"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Exact,
    Prefix,
}

#[derive(Clone, Debug)]
struct Location<'a> {
    /// The path as nginx writes the location (`/p/` for a Prefix `/p`).
    path: String,
    kind: Kind,
    /// The Ingress and backend; `None` is the default backend.
    target: Option<(&'a Ingress, Backend)>,
    /// The path as the Ingress wrote it, for rewrite-target's regex.
    written: String,
    /// The `= /p` made for a Prefix `/p`, dropped when an Exact `/p` exists.
    generated: bool,
}

impl Location<'_> {
    fn line(&self, regex: bool) -> String {
        match (regex, self.kind) {
            (true, _) => format!("location ~* \"^{}\"", self.written),
            (false, Kind::Exact) => format!("location = {}", self.path),
            (false, Kind::Prefix) => format!("location {}", self.path),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Server<'a> {
    locations: Vec<Location<'a>>,
    tls: bool,
    regex: bool,
    /// Canary Ingresses by (path, pathType) of the location they shadow.
    canaries: Vec<(&'a Ingress, String, Backend)>,
}

fn backend_of(ing: &Ingress, b: &k8s_openapi::api::networking::v1::IngressBackend) -> Option<Backend> {
    let s = b.service.as_ref()?;
    let port = s.port.as_ref().and_then(|p| p.number.map(|n| n.to_string()).or_else(|| p.name.clone()))?;
    Some(Backend { namespace: ing.namespace.clone(), service: s.name.clone(), port })
}

/// The servers ingress-nginx generates, by host (`_` the default server).
fn servers(cluster: &Cluster) -> BTreeMap<String, Server<'_>> {
    let mut out: BTreeMap<String, Server<'_>> = BTreeMap::new();
    out.entry("_".into()).or_default();
    let served: Vec<&Ingress> = cluster.ingresses.iter().filter(|i| serves(cluster, i)).collect();
    let canary = |i: &Ingress| ann(i, "canary") == Some("true");
    let mut taken: Vec<(String, String, &'static str)> = Vec::new();
    for ing in served.iter().filter(|i| !canary(i)) {
        let regex = ann(ing, "use-regex") == Some("true") || ann(ing, "rewrite-target").is_some();
        for rule in ing.spec.rules.iter().flatten() {
            let host = host_of(rule);
            let server = out.entry(host.clone()).or_default();
            server.regex |= regex;
            for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
                let path = p.path.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "/".into());
                let kind = if p.path_type == "Exact" { Kind::Exact } else { Kind::Prefix };
                let type_name = if kind == Kind::Exact { "Exact" } else { "Prefix" };
                // The first Ingress to claim a host, path and type keeps it.
                if taken.iter().any(|(h, q, t)| *h == host && *q == path && *t == type_name) {
                    continue;
                }
                taken.push((host.clone(), path.clone(), type_name));
                let target = backend_of(ing, &p.backend).map(|b| (*ing, b));
                let loc = |path: String, kind| Location {
                    path,
                    kind,
                    target: target.clone(),
                    written: p.path.clone().unwrap_or_else(|| "/".into()),
                    generated: false,
                };
                if kind == Kind::Prefix && !path.ends_with('/') && !regex {
                    // Element-wise Prefix: the path itself, and below it.
                    server.locations.push(Location { generated: true, ..loc(path.clone(), Kind::Exact) });
                    server.locations.push(loc(format!("{path}/"), Kind::Prefix));
                } else {
                    server.locations.push(loc(path, kind));
                }
            }
        }
        default_backend(&mut out, ing);
        for t in ing.spec.tls.iter().flatten() {
            for h in t.hosts.iter().flatten() {
                out.entry(h.to_ascii_lowercase()).or_default().tls = true;
            }
        }
    }
    // Canaries shadow a location another Ingress defines.
    for ing in served.iter().filter(|i| canary(i)) {
        for rule in ing.spec.rules.iter().flatten() {
            let host = host_of(rule);
            for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
                if let (Some(server), Some(b)) = (out.get_mut(&host), backend_of(ing, &p.backend)) {
                    server.canaries.push((*ing, p.path.clone().unwrap_or_else(|| "/".into()), b));
                }
            }
        }
    }
    for server in out.values_mut() {
        // An Exact path keeps its location; the copy a Prefix path of the
        // same name would add is not made (`updateServerLocations`).
        let exact: Vec<String> =
            server.locations.iter().filter(|l| l.kind == Kind::Exact && !l.generated).map(|l| l.path.clone()).collect();
        server.locations.retain(|l| !(l.generated && exact.contains(&l.path)));
        // Every server answers `/` with the default backend unless told
        // otherwise.
        if !server.locations.iter().any(|l| l.path == "/" && l.kind == Kind::Prefix) {
            server.locations.push(root(None));
        }
    }
    out
}

/// A rule's host as a server name: `_` for none.
fn host_of(rule: &k8s_openapi::api::networking::v1::IngressRule) -> String {
    rule.host.clone().filter(|h| !h.is_empty()).unwrap_or_else(|| "_".into()).to_ascii_lowercase()
}

/// The `/` location, to `target` (the default backend for none).
fn root<'a>(target: Option<(&'a Ingress, Backend)>) -> Location<'a> {
    Location { path: "/".into(), kind: Kind::Prefix, target, written: "/".into(), generated: false }
}

/// An Ingress's default backend answers `/` on its hosts (on the default
/// server when it has no rules) where no path claims it.
fn default_backend<'a>(out: &mut BTreeMap<String, Server<'a>>, ing: &'a Ingress) {
    let Some(db) = ing.spec.default_backend.as_ref().and_then(|b| backend_of(ing, b)) else { return };
    let hosts: Vec<String> = if ing.spec.rules.as_ref().is_none_or(|r| r.is_empty()) {
        vec!["_".into()]
    } else {
        ing.spec.rules.iter().flatten().map(host_of).collect()
    };
    for h in hosts {
        let server = out.entry(h).or_default();
        if !server.locations.iter().any(|l| l.path == "/" && l.kind == Kind::Prefix) {
            server.locations.push(root(Some((ing, db.clone()))));
        }
    }
}

/// nginx's server choice: the exact name, else a wildcard, else `_`.
fn server_for<'a, 'b>(servers: &'b BTreeMap<String, Server<'a>>, host: &str) -> (&'b str, &'b Server<'a>) {
    let host = host.to_ascii_lowercase();
    if let Some((name, s)) = servers.get_key_value(&host) {
        return (name, s);
    }
    servers
        .iter()
        .find(|(name, _)| name.starts_with("*.") && super::host_matches(name, &host))
        .map(|(n, s)| (n.as_str(), s))
        .unwrap_or_else(|| {
            let (n, s) = servers.get_key_value("_").expect("the default server is always there");
            (n.as_str(), s)
        })
}

/// nginx's location choice.
fn location_for<'a, 'b>(server: &'b Server<'a>, path: &str) -> Option<&'b Location<'a>> {
    if server.regex {
        // Regex locations in the controller's order: longest path first.
        let mut locs: Vec<&Location<'a>> = server.locations.iter().collect();
        crate::order::sort_by(&mut locs, |a, b| b.written.len().cmp(&a.written.len()).then(b.written.cmp(&a.written)));
        return locs
            .into_iter()
            .find(|l| regex_lite::Regex::new(&format!("(?i)^{}", l.written)).is_ok_and(|re| re.is_match(path)));
    }
    if let Some(l) = server.locations.iter().find(|l| l.kind == Kind::Exact && l.path == path) {
        return Some(l);
    }
    server.locations.iter().filter(|l| l.kind == Kind::Prefix && path.starts_with(&l.path)).max_by_key(|l| l.path.len())
}

/// Routes one request as ingress-nginx would.
pub fn route(cluster: &Cluster, req: &HttpRequest, seed: u64) -> Routed {
    let ctl = IngressController::Nginx;
    let servers = servers(cluster);
    let (name, server) = server_for(&servers, &req.host);
    let path = req.path_only();
    let Some(loc) = location_for(server, path) else {
        let mut r = Routed::answer(ctl, 404, format!("server_name {name}"), "no location matches");
        r.body = Some(page(404, "Not Found"));
        return r;
    };
    if let Some(r) = auto_redirect(server, name, req) {
        return r;
    }
    let rule = format!("server_name {name}; {}", loc.line(server.regex));
    let Some((ing, backend)) = loc.target.clone() else {
        let why = if name == "_" {
            format!("no Ingress rule for host {}: the default server answers with the default backend", req.host)
        } else {
            format!("no path of host {} matches {path}: the default backend answers", req.host)
        };
        let mut r = Routed::answer(ctl, 404, rule, why);
        r.body = Some(page(404, "Not Found"));
        return r;
    };
    let mut r = Routed::answer(ctl, 0, rule, "");
    r.ingress = Some(ing.key());
    if let Some(refused) = ingress_refuses(r.clone(), ing, server, req) {
        return refused;
    }
    let backend = match canary(server, loc, req, seed) {
        Some((c, b)) => {
            r.ingress = Some(c.key());
            r.rule.push_str(" (canary)");
            b
        }
        None => backend,
    };
    proxy(cluster, r, ing, loc, backend, req, seed)
}

/// nginx's auto_redirect: a URI that is a proxied prefix location without
/// its trailing slash gets a 301 to the slashed form.
fn auto_redirect(server: &Server<'_>, name: &str, req: &HttpRequest) -> Option<Routed> {
    let path = req.path_only();
    let exact = server.locations.iter().any(|l| l.kind == Kind::Exact && l.path == path);
    if server.regex || exact {
        return None;
    }
    let slashed = format!("{path}/");
    let l = server.locations.iter().find(|l| l.kind == Kind::Prefix && l.path == slashed && l.target.is_some())?;
    let query = req.path.strip_prefix(path).unwrap_or("");
    let mut r = Routed::answer(
        IngressController::Nginx,
        301,
        format!("server_name {name}; {}", l.line(false)),
        format!("{path} names the prefix location {slashed} without its slash: nginx redirects"),
    );
    r.ingress = l.target.as_ref().map(|(i, _)| i.key());
    r.location = Some(format!("{}://{}{slashed}{query}", req.scheme, req.host));
    r.body = Some(page(301, "Moved Permanently"));
    Some(r)
}

/// What the Ingress's annotations answer before any backend: a 403 for a
/// client outside the source allow-list, a 308 to HTTPS for plain HTTP to
/// a TLS host.
fn ingress_refuses(mut r: Routed, ing: &Ingress, server: &Server<'_>, req: &HttpRequest) -> Option<Routed> {
    if let Some(list) = ann(ing, "allowlist-source-range").or_else(|| ann(ing, "whitelist-source-range")) {
        if !allowed(list, req.client) {
            r.status = 403;
            r.reason = format!("{} is not in {}'s allowlist-source-range {list}", req.client, ing.key());
            r.body = Some(page(403, "Forbidden"));
            return Some(r);
        }
    }
    let force = ann(ing, "force-ssl-redirect") == Some("true");
    let ssl_redirect = ann(ing, "ssl-redirect") != Some("false");
    if req.scheme == "http" && (force || (server.tls && ssl_redirect)) {
        r.status = 308;
        r.location = Some(format!("https://{}{}", req.host, req.path));
        r.reason = format!("{} has TLS: plain HTTP is redirected to HTTPS (ssl-redirect)", req.host);
        r.body = Some(page(308, "Permanent Redirect"));
        return Some(r);
    }
    None
}

/// A canary for this location takes the request when its rules say so:
/// by header, then by cookie, then by weight.
fn canary<'a>(server: &Server<'a>, loc: &Location<'_>, req: &HttpRequest, seed: u64) -> Option<(&'a Ingress, Backend)> {
    let (c, _, b) = server.canaries.iter().find(|(_, p, _)| loc.written == *p)?;
    let by_header =
        ann(c, "canary-by-header").and_then(|h| req.header(h).map(|v| (v, ann(c, "canary-by-header-value"))));
    let header_says = match by_header {
        Some((v, Some(want))) => (v == want).then_some(true),
        Some(("always", None)) => Some(true),
        Some(("never", None)) => Some(false),
        _ => None,
    };
    let cookie_says = ann(c, "canary-by-cookie").and_then(|k| req.cookie(k)).and_then(|v| match v {
        "always" => Some(true),
        "never" => Some(false),
        _ => None,
    });
    let weight = ann(c, "canary-weight").and_then(|w| w.parse::<u64>().ok()).unwrap_or(0);
    let total = ann(c, "canary-weight-total").and_then(|w| w.parse::<u64>().ok()).unwrap_or(100).max(1);
    let by_weight = crate::names::Rng::new(seed ^ 0xca4a).below(total) < weight;
    header_says.or(cookie_says).unwrap_or(by_weight).then(|| (*c, b.clone()))
}

/// The backend's endpoints (its cluster IP under service-upstream), one
/// picked, the path as rewrite-target makes it, and the headers nginx adds;
/// 503 when there is nothing to proxy to.
fn proxy(
    cluster: &Cluster,
    mut r: Routed,
    ing: &Ingress,
    loc: &Location<'_>,
    backend: Backend,
    req: &HttpRequest,
    seed: u64,
) -> Routed {
    let unavailable = |mut r: Routed, reason: String, backend: Backend| {
        r.status = 503;
        r.reason = reason;
        r.body = Some(page(503, "Service Temporarily Unavailable"));
        r.backend = Some(backend);
        r
    };
    let Some(svc) = cluster.service(&backend.namespace, &backend.service) else {
        let reason = format!("backend service {} does not exist", backend.key());
        return unavailable(r, reason, backend);
    };
    r.candidates = if ann(ing, "service-upstream") == Some("true") {
        super::cluster_ip_of(svc, &backend.port).into_iter().collect()
    } else {
        endpoints(cluster, svc, &backend.port)
    };
    r.upstream = pick(&r.candidates, seed);
    if r.upstream.is_none() {
        let reason = format!("{} has no ready endpoints", backend.key());
        return unavailable(r, reason, backend);
    }
    // rewrite-target: the path is rewritten with the location's captures.
    r.upstream_path = match ann(ing, "rewrite-target") {
        Some(target) => regex_lite::Regex::new(&format!("(?i){}", loc.written))
            .map(|re| re.replacen(&req.path, 1, target).into_owned())
            .unwrap_or_else(|_| req.path.clone()),
        None => req.path.clone(),
    };
    r.upstream_headers = upstream_headers(req, seed);
    r.status = 200;
    r.reason = format!("{} matched: proxied to {} (endpoint {})", r.rule, backend.key(), fmt_ep(r.upstream));
    r.backend = Some(backend);
    r
}

/// The headers nginx sends the backend.
fn upstream_headers(req: &HttpRequest, seed: u64) -> Vec<(String, String)> {
    let client = req.client.to_string();
    let h = |salt: &str| crate::names::fnv64a(format!("{salt} {seed} {} {}", req.host, req.path).as_bytes());
    vec![
        ("Host".into(), req.host.clone()),
        ("X-Request-ID".into(), format!("{:016x}{:016x}", h("a"), h("b"))),
        ("X-Real-IP".into(), client.clone()),
        ("X-Forwarded-For".into(), client),
        ("X-Forwarded-Host".into(), req.host.clone()),
        ("X-Forwarded-Port".into(), req.port.to_string()),
        ("X-Forwarded-Proto".into(), req.scheme.clone()),
        ("X-Forwarded-Scheme".into(), req.scheme.clone()),
        ("X-Scheme".into(), req.scheme.clone()),
    ]
}

fn fmt_ep(e: Option<(std::net::IpAddr, u16)>) -> String {
    e.map(|(ip, p)| format!("{ip}:{p}")).unwrap_or_default()
}
