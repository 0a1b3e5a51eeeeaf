//! Traefik v3: routers built from the Ingresses it serves and from its
//! IngressRoutes, matched in priority order (pkg/provider/kubernetes/
//! ingress `loadRouter`, `buildHostRule`; pkg/muxer/http).
//!
//! - Class: `ingressClassName` naming a class whose controller is
//!   `traefik.io/ingress-controller`, the `kubernetes.io/ingress.class:
//!   traefik` annotation, or neither (Traefik takes unclassed Ingresses).
//! - Rule: ``Host(`h`) && PathPrefix(`/p`)``; Exact is `Path`, Prefix and
//!   ImplementationSpecific are `PathPrefix` — a plain string prefix, so
//!   `/foo` matches `/foobar`, unless the controller runs with v3.5's
//!   `strictPrefixMatching` (whole path elements); `*.example.com` is a
//!   one-label HostRegexp.
//! - Priority: the rule's length unless `router.priority` (or the route's
//!   `priority`) says otherwise; the longest rule wins.
//! - Nothing matched: 404 `404 page not found`. No redirect to HTTPS
//!   unless a middleware asks for one; TLS routers (`router.tls`, an
//!   IngressRoute with `tls`) serve only HTTPS, and the chart's websecure
//!   entrypoint terminates TLS for every router on it.

use super::{allowed, endpoints, pick, Backend, HttpRequest, Routed};
use crate::cluster::{Cluster, Ingress};
use crate::load::crd::{IngressRoute, Middleware};
use crate::settings::IngressController;

const CONTROLLER: &str = "traefik.io/ingress-controller";
const ANNOTATION: &str = "traefik.ingress.kubernetes.io/";

/// Whether Traefik serves this Ingress.
pub fn serves(cluster: &Cluster, ing: &Ingress) -> bool {
    match &ing.class {
        Some(class) => cluster.ingress_classes.iter().any(|c| &c.name == class && c.controller == CONTROLLER),
        None => ing.annotation(crate::cluster::ingress::LEGACY_CLASS_ANNOTATION).is_none_or(|a| a == "traefik"),
    }
}

/// A router: its rule, priority, where it listens, and what it serves.
#[derive(Clone, Debug)]
struct Router {
    /// `NS/NAME` of the Ingress or IngressRoute.
    source: String,
    rule: String,
    priority: i64,
    tls: bool,
    entry_points: Vec<String>,
    /// Middlewares as `namespace/name`.
    middlewares: Vec<String>,
    /// Weighted backends.
    services: Vec<(Backend, u32)>,
}

fn quote(s: &str) -> String {
    format!("`{s}`")
}

fn host_rule(host: &str) -> String {
    match host.strip_prefix("*.") {
        Some(rest) => format!("HostRegexp({})", quote(&format!("^[a-zA-Z0-9-]+\\.{}$", rest.replace('.', "\\.")))),
        None => format!("Host({})", quote(host)),
    }
}

fn routers(cluster: &Cluster) -> Vec<Router> {
    let mut out = Vec::new();
    let strict = strict_prefix_matching(cluster);
    for ing in cluster.ingresses.iter().filter(|i| serves(cluster, i)) {
        ingress_routers(cluster, ing, strict, &mut out);
    }
    for r in &cluster.ingress_routes {
        route_routers(r, &mut out);
    }
    // Highest priority first; among equals, the order they were made.
    crate::order::sort_by_key(&mut out, |r| std::cmp::Reverse(r.priority));
    out
}

/// Whether the controller runs with the Ingress provider's
/// `strictPrefixMatching` (Traefik v3.5, default false): its pods'
/// `--providers.kubernetesingress.strictprefixmatching[=true]` argument
/// (flag names are case-insensitive; a bare boolean flag is true).
fn strict_prefix_matching(cluster: &Cluster) -> bool {
    flag(&args(cluster), "--providers.kubernetesingress.strictprefixmatching")
}

/// Traefik's own Service: the ingress controller's when that is Traefik,
/// else the Helm chart's `traefik/traefik`.
pub fn service(cluster: &Cluster) -> Option<&crate::cluster::Service> {
    match cluster.settings.ingress_controller {
        IngressController::Traefik => super::controller_service(cluster),
        _ => cluster.service("traefik", "traefik"),
    }
}

/// The arguments Traefik's pods run with (command and args).
pub fn args(cluster: &Cluster) -> Vec<String> {
    let Some(svc) = service(cluster) else { return Vec::new() };
    let pod = cluster
        .slices_of(svc)
        .flat_map(|s| s.endpoints.iter())
        .find_map(|e| e.pod.as_deref())
        .and_then(|key| key.split_once('/'))
        .and_then(|(ns, name)| cluster.pod(ns, name));
    pod.into_iter()
        .flat_map(|p| p.spec.containers.iter())
        .flat_map(|c| c.command.iter().flatten().chain(c.args.iter().flatten()))
        .cloned()
        .collect()
}

/// Whether a boolean flag is on, as Traefik reads it: names are
/// case-insensitive, a bare flag is true, the last one given wins.
pub fn flag(args: &[String], key: &str) -> bool {
    args.iter()
        .rev()
        .filter_map(|a| {
            let (k, v) = a.split_once('=').unwrap_or((a, "true"));
            k.eq_ignore_ascii_case(key).then(|| v.eq_ignore_ascii_case("true"))
        })
        .next()
        .unwrap_or(false)
}

/// A Prefix path as the Ingress provider writes its rule: a plain string
/// prefix, or with `strictPrefixMatching` one that matches whole path
/// elements (`buildStrictPrefixMatchingRule`: ``(Path(`/foo`) ||
/// PathPrefix(`/foo/`))``, `/` alone staying ``PathPrefix(`/`)``).
fn prefix_rule(path: &str, strict: bool) -> String {
    if !strict || path == "/" {
        return format!("PathPrefix({})", quote(path));
    }
    let p = path.trim_end_matches('/');
    format!("(Path({}) || PathPrefix({}))", quote(p), quote(&format!("{p}/")))
}

/// The routers Traefik's Ingress provider makes of one Ingress: one per
/// host and path, and the default backend's on an Ingress without rules.
fn ingress_routers(cluster: &Cluster, ing: &Ingress, strict: bool, out: &mut Vec<Router>) {
    let a = |k: &str| ing.annotation(&format!("{ANNOTATION}{k}"));
    let entry_points: Vec<String> =
        a("router.entrypoints").map(|e| e.split(',').map(|s| s.trim().to_owned()).collect()).unwrap_or_default();
    let tls = a("router.tls") == Some("true");
    // `ns-name@kubernetescrd` names a Middleware in ns.
    let middlewares: Vec<String> = a("router.middlewares")
        .map(|m| {
            m.split(',')
                .filter_map(|x| x.trim().strip_suffix("@kubernetescrd"))
                .map(|x| match cluster.middlewares.iter().find(|mw| format!("{}-{}", mw.namespace, mw.name) == x) {
                    Some(mw) => format!("{}/{}", mw.namespace, mw.name),
                    None => format!("?/{x}"),
                })
                .collect()
        })
        .unwrap_or_default();
    let priority = a("router.priority").and_then(|p| p.parse::<i64>().ok());
    let matcher = a("router.pathmatcher");
    let backend = |b: &k8s_openapi::api::networking::v1::IngressBackend| {
        let s = b.service.as_ref()?;
        let port = s.port.as_ref().and_then(|p| p.number.map(|n| n.to_string()).or_else(|| p.name.clone()))?;
        Some(Backend { namespace: ing.namespace.clone(), service: s.name.clone(), port })
    };
    for rule in ing.spec.rules.iter().flatten() {
        let host = rule.host.clone().filter(|h| !h.is_empty());
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            let mut parts = Vec::new();
            if let Some(h) = &host {
                parts.push(host_rule(h));
            }
            if let Some(path) = p.path.clone().filter(|s| !s.is_empty()) {
                parts.push(match (p.path_type.as_str(), matcher) {
                    ("Exact", _) => format!("Path({})", quote(&path)),
                    (_, Some(m)) => format!("{m}({})", quote(&path)),
                    _ => prefix_rule(&path, strict),
                });
            }
            let rule = parts.join(" && ");
            let Some(b) = backend(&p.backend) else { continue };
            out.push(Router {
                source: ing.key(),
                priority: priority.unwrap_or(rule.len() as i64),
                rule,
                tls,
                entry_points: entry_points.clone(),
                middlewares: middlewares.clone(),
                services: vec![(b, 1)],
            });
        }
    }
    // A default backend counts only on an Ingress without rules.
    if ing.spec.rules.as_ref().is_none_or(|r| r.is_empty()) {
        if let Some(b) = ing.spec.default_backend.as_ref().and_then(backend) {
            out.push(Router {
                source: ing.key(),
                rule: "PathPrefix(`/`)".into(),
                priority: i64::from(i32::MIN),
                tls,
                entry_points: entry_points.clone(),
                middlewares: middlewares.clone(),
                services: vec![(b, 1)],
            });
        }
    }
}

/// The routers of one IngressRoute: one per route.
fn route_routers(r: &crate::cluster::ingress::Named<IngressRoute>, out: &mut Vec<Router>) {
    let IngressRoute { spec, .. } = &r.object;
    for route in &spec.routes {
        let services = route
            .services
            .iter()
            .filter(|s| s.kind.as_deref().is_none_or(|k| k == "Service"))
            .map(|s| {
                let port = match &s.port {
                    Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) => n.to_string(),
                    Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(n)) => n.clone(),
                    None => String::new(),
                };
                let ns = s.namespace.clone().unwrap_or_else(|| r.namespace.clone());
                (Backend { namespace: ns, service: s.name.clone(), port }, s.weight.unwrap_or(1))
            })
            .collect();
        out.push(Router {
            source: format!("{}/{}", r.namespace, r.name),
            priority: route.priority.filter(|p| *p != 0).unwrap_or(route.rule.len() as i64),
            rule: route.rule.clone(),
            tls: spec.tls.is_some(),
            entry_points: spec.entry_points.clone(),
            middlewares: route
                .middlewares
                .iter()
                .map(|m| format!("{}/{}", m.namespace.clone().unwrap_or_else(|| r.namespace.clone()), m.name))
                .collect(),
            services,
        });
    }
}

/// A rule expression: matchers joined by `&&`, `||`, `!` and parentheses.
#[derive(Clone, Debug)]
enum Expr {
    Matcher(String, Vec<String>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, t: &str) -> bool {
        self.ws();
        if self.s[self.i..].starts_with(t.as_bytes()) {
            self.i += t.len();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Option<Expr> {
        let mut e = self.and()?;
        while self.eat("||") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Some(e)
    }

    fn and(&mut self) -> Option<Expr> {
        let mut e = self.unary()?;
        while self.eat("&&") {
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Some(e)
    }

    fn unary(&mut self) -> Option<Expr> {
        if self.eat("!") {
            return Some(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat("(") {
            let e = self.or()?;
            return self.eat(")").then_some(e);
        }
        self.ws();
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_alphanumeric() {
            self.i += 1;
        }
        let name = std::str::from_utf8(&self.s[start..self.i]).ok()?.to_owned();
        if name.is_empty() || !self.eat("(") {
            return None;
        }
        let mut args = Vec::new();
        loop {
            self.ws();
            let q = *self.s.get(self.i)?;
            if q == b')' {
                self.i += 1;
                break;
            }
            if q != b'`' && q != b'"' {
                return None;
            }
            self.i += 1;
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != q {
                self.i += 1;
            }
            args.push(std::str::from_utf8(&self.s[start..self.i]).ok()?.to_owned());
            self.i += 1;
            self.eat(",");
        }
        Some(Expr::Matcher(name, args))
    }
}

/// Parses a router rule; `None` when Traefik would refuse it.
fn parse(rule: &str) -> Option<Expr> {
    let mut p = Parser { s: rule.as_bytes(), i: 0 };
    let e = p.or()?;
    p.ws();
    (p.i == p.s.len()).then_some(e)
}

fn matches(e: &Expr, req: &HttpRequest) -> bool {
    let path = req.path_only();
    match e {
        Expr::Not(x) => !matches(x, req),
        Expr::And(a, b) => matches(a, req) && matches(b, req),
        Expr::Or(a, b) => matches(a, req) || matches(b, req),
        Expr::Matcher(m, args) => {
            let re = |p: &str, s: &str| regex_lite::Regex::new(p).is_ok_and(|r| r.is_match(s));
            match m.as_str() {
                "Host" => args.iter().any(|h| h.eq_ignore_ascii_case(&req.host)),
                "HostRegexp" => args.iter().any(|p| re(p, &req.host)),
                "Path" => args.iter().any(|p| p == path),
                "PathPrefix" => args.iter().any(|p| path.starts_with(p.as_str())),
                "PathRegexp" => args.iter().any(|p| re(p, path)),
                "Method" => args.iter().any(|x| x.eq_ignore_ascii_case(&req.method)),
                "Header" => args.len() == 2 && req.header(&args[0]) == Some(args[1].as_str()),
                "HeaderRegexp" => args.len() == 2 && req.header(&args[0]).is_some_and(|v| re(&args[1], v)),
                "ClientIP" => args.iter().any(|c| allowed(c, req.client)),
                "Query" => args.first().is_some_and(|q| {
                    let query = req.path.split_once('?').map_or("", |(_, q)| q);
                    query.split('&').any(|kv| kv == q)
                }),
                _ => false,
            }
        }
    }
}

fn middleware<'a>(cluster: &'a Cluster, key: &str) -> Option<&'a Middleware> {
    let (ns, name) = key.split_once('/')?;
    cluster.middlewares.iter().find(|m| m.namespace == ns && m.name == name).map(|m| &m.object)
}

/// Routes one request as Traefik would.
pub fn route(cluster: &Cluster, req: &HttpRequest, seed: u64) -> Routed {
    let ctl = IngressController::Traefik;
    let entry = if req.scheme == "https" { "websecure" } else { "web" };
    let tls = req.scheme == "https";
    // The chart's websecure entrypoint terminates TLS itself
    // (`ports.websecure.tls.enabled: true`), so every router on it serves
    // HTTPS, TLS router or not; on web only routers without TLS match. An
    // Ingress's `spec.tls` only loads its certificate (the Ingress
    // provider's getCertificates): its routers stay on every entrypoint.
    let found = routers(cluster).into_iter().find(|r| {
        (r.entry_points.is_empty() || r.entry_points.iter().any(|e| e == entry))
            && (tls || !r.tls)
            && parse(&r.rule).is_some_and(|e| matches(&e, req))
    });
    let Some(router) = found else {
        let mut r = Routed::answer(
            ctl,
            404,
            format!("entrypoint {entry}"),
            format!("no router on {entry} matches host {} and path {}", req.host, req.path_only()),
        );
        r.body = Some("404 page not found\n".into());
        return r;
    };
    let mut r = Routed::answer(ctl, 0, format!("{} (priority {})", router.rule, router.priority), "");
    r.ingress = Some(router.source.clone());
    let (path, extra) = match middlewares(cluster, &router, req, r.clone()) {
        Ok(rewritten) => rewritten,
        Err(answered) => return *answered,
    };
    let not_found = |mut r: Routed, reason: String| {
        r.status = 404;
        r.reason = reason;
        r.body = Some("404 page not found\n".into());
        r
    };
    let Some(backend) = weighted(&router, seed) else {
        return not_found(r, "the route names no service".into());
    };
    r.backend = Some(backend.clone());
    let Some(svc) = cluster.service(&backend.namespace, &backend.service) else {
        return not_found(r, format!("service {} does not exist: Traefik skips the router", backend.key()));
    };
    r.candidates = endpoints(cluster, svc, &backend.port);
    r.upstream = pick(&r.candidates, seed);
    if r.upstream.is_none() {
        // Traefik skips a Service without endpoints, and the router with it.
        return not_found(r, format!("{} has no ready endpoints: Traefik skips the router", backend.key()));
    }
    let client = req.client.to_string();
    r.upstream_path = path;
    r.upstream_headers = vec![
        ("Host".into(), req.host.clone()),
        ("X-Forwarded-For".into(), client.clone()),
        ("X-Forwarded-Host".into(), req.host.clone()),
        ("X-Forwarded-Port".into(), req.port.to_string()),
        ("X-Forwarded-Proto".into(), req.scheme.clone()),
        ("X-Real-Ip".into(), client),
    ];
    r.upstream_headers.extend(extra);
    r.status = 200;
    r.reason = format!("router {} of {} matched: proxied to {}", r.rule, router.source, backend.key());
    r
}

/// The router's services, one picked by weight.
fn weighted(router: &Router, seed: u64) -> Option<Backend> {
    let total: u32 = router.services.iter().map(|(_, w)| *w).sum();
    let mut roll = if total == 0 { 0 } else { crate::names::Rng::new(seed ^ 0x7ea).below(u64::from(total)) as u32 };
    let chosen = router.services.iter().find(|(_, w)| {
        if roll < *w {
            true
        } else {
            roll -= w;
            false
        }
    });
    chosen.or(router.services.first()).map(|(b, _)| b.clone())
}

/// The path a request goes on with, and the headers added to it.
type Rewritten = (String, Vec<(String, String)>);

/// The router's middlewares in order: the path and headers they leave the
/// request with, or the answer one of them gives (a missing middleware
/// drops the router, an allow-list refuses, a scheme redirect answers).
fn middlewares(cluster: &Cluster, router: &Router, req: &HttpRequest, mut r: Routed) -> Result<Rewritten, Box<Routed>> {
    let mut path = req.path.clone();
    let mut extra = Vec::new();
    for key in &router.middlewares {
        let Some(m) = middleware(cluster, key) else {
            r.status = 404;
            r.reason = format!("middleware {key} does not exist: Traefik drops the router");
            r.body = Some("404 page not found\n".into());
            return Err(Box::new(r));
        };
        let s = &m.spec;
        if let Some(list) = s.ip_allow_list.as_ref().or(s.ip_white_list.as_ref()) {
            if !allowed(&list.source_range.join(","), req.client) {
                r.status = list.reject_status_code.unwrap_or(403);
                r.reason = format!("{} is not in middleware {key}'s ipAllowList", req.client);
                r.body = Some("Forbidden".into());
                return Err(Box::new(r));
            }
        }
        if let Some(rs) = &s.redirect_scheme {
            let scheme = rs.scheme.clone().unwrap_or_else(|| "https".into());
            if scheme != req.scheme {
                let permanent = rs.permanent.unwrap_or(false);
                return Err(Box::new(redirected(r, key, &scheme, permanent, rs.port.as_deref(), req)));
            }
        }
        if let Some(sp) = &s.strip_prefix {
            if let Some(prefix) = sp.prefixes.iter().find(|p| path.starts_with(p.as_str())) {
                let rest = &path[prefix.len()..];
                extra.push(("X-Forwarded-Prefix".to_owned(), prefix.clone()));
                path = if rest.starts_with('/') { rest.to_owned() } else { format!("/{rest}") };
            }
        }
    }
    Ok((path, extra))
}

/// A redirectScheme middleware's answer: 301/308 when permanent, 302/307
/// when not, the former for GET.
fn redirected(
    mut r: Routed,
    key: &str,
    scheme: &str,
    permanent: bool,
    port: Option<&str>,
    req: &HttpRequest,
) -> Routed {
    let get = req.method.eq_ignore_ascii_case("GET");
    r.status = match (permanent, get) {
        (true, true) => 301,
        (true, false) => 308,
        (false, true) => 302,
        (false, false) => 307,
    };
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    r.location = Some(format!("{scheme}://{}{port}{}", req.host, req.path));
    r.reason = format!("middleware {key} redirects to {scheme}");
    let text = match r.status {
        301 => "Moved Permanently",
        308 => "Permanent Redirect",
        302 => "Found",
        _ => "Temporary Redirect",
    };
    r.body = Some(text.to_owned());
    r
}
