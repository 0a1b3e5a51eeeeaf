//! From Ingress to the Gateway API: the Gateways and HTTPRoutes that route
//! as the cluster's Ingresses (and Traefik's IngressRoutes) do, for one
//! implementation, and what has no equivalent.
//!
//! The shape follows kubernetes-sigs/ingress2gateway (v1.1), so what it
//! prints is what the community's tool would: one Gateway per namespace and
//! ingress class, named after the class; a listener per host
//! (`<host>-http`, `<host>-https` with the TLS secret, `http` for no host);
//! an HTTPRoute per host (`<ingress>-<host>`) whose rules merge the paths
//! of every Ingress for that host; `Prefix` → `PathPrefix`, `Exact` →
//! `Exact`, `ImplementationSpecific` → `PathPrefix`; named ports resolved
//! through the Services. ingress-nginx's annotations that have an
//! equivalent are converted as that tool converts them (canary weights and
//! headers, the 308 to HTTPS for TLS hosts, rewrite-target as a full-path
//! rewrite, use-regex as case-insensitive regular expressions), plus the
//! documented `/p(/|$)(.*)` → `/$2` rewrite, which is a prefix rewrite.
//! Traefik's `router.entrypoints`, `router.tls` and `router.middlewares`
//! (StripPrefix, RedirectScheme) and IngressRoute rules made of `Host`,
//! `Path`, `PathPrefix`, `Header(s)` and `Method` joined by `&&` convert
//! too. Everything else is a warning at the object that says so.

mod nginx;
mod traefik;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{Implementation, GROUP};
use crate::cluster::{Cluster, Ingress};
use crate::diag::{Diagnostic, Origin};

/// What to convert for.
#[derive(Clone, Debug)]
pub struct Options {
    pub implementation: Implementation,
    /// `gatewayClassName`; the implementation's usual class when absent.
    pub class: Option<String>,
    /// Only the objects of this namespace.
    pub namespace: Option<String>,
    /// Only the Ingresses of these ingress classes (and IngressRoutes when
    /// `traefik` is one), as ingress2gateway's providers read them.
    pub ingress_classes: Option<Vec<String>>,
}

impl Options {
    pub fn new(implementation: Implementation) -> Options {
        Options { implementation, class: None, namespace: None, ingress_classes: None }
    }

    fn takes_namespace(&self, ns: &str) -> bool {
        self.namespace.as_deref().is_none_or(|n| n == ns)
    }

    fn takes_class(&self, class: Option<&str>) -> bool {
        self.ingress_classes.as_ref().is_none_or(|cs| class.is_some_and(|c| cs.iter().any(|x| x == c)))
    }
}

/// The Gateway API objects, and what could not be converted.
#[derive(Clone, Debug, Default)]
pub struct Converted {
    pub objects: Vec<Value>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Converted {
    /// The objects as YAML documents, as `kubectl apply -f` takes them.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        for o in &self.objects {
            out.push_str("---\n");
            out.push_str(&crate::yaml::emit::to_string(o));
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }
}

/// The GatewayClass each implementation's install creates.
pub fn default_class(i: Implementation) -> &'static str {
    match i {
        Implementation::NginxGatewayFabric => "nginx",
        Implementation::Traefik => "traefik",
        Implementation::Cilium => "cilium",
    }
}

/// ingress2gateway's `NameFromHost`: runs of other characters become `-`,
/// no leading `-`; no host (or `*`) is `all-hosts`.
fn name_from_host(host: &str) -> String {
    let mut out = String::new();
    for c in host.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_start_matches('-').to_owned();
    if out.is_empty() {
        "all-hosts".into()
    } else {
        out
    }
}

fn listener_name(host: &str, tls: bool) -> String {
    let suffix = if tls { "https" } else { "http" };
    if host.is_empty() {
        suffix.into()
    } else {
        format!("{}-{suffix}", name_from_host(host))
    }
}

/// A listener to create: its host and, for HTTPS, the secrets.
#[derive(Default)]
struct Host {
    http: bool,
    secrets: Vec<String>,
}

/// One Gateway to write.
struct GatewayOut {
    hosts: BTreeMap<String, Host>,
}

/// A rule of an HTTPRoute.
#[derive(Clone, Default)]
struct Rule {
    /// `(type, value)` of the path match; headers and method.
    path: Option<(String, String)>,
    headers: Vec<(String, String, String)>,
    method: Option<String>,
    filters: Vec<Value>,
    backends: Vec<(String, i64, Option<i64>)>,
}

impl Rule {
    fn to_value(&self) -> Value {
        let mut m = json!({});
        if let Some((t, v)) = &self.path {
            m["path"] = json!({"type": t, "value": v});
        }
        if !self.headers.is_empty() {
            m["headers"] = self
                .headers
                .iter()
                .map(|(t, n, v)| json!({"type": t, "name": n, "value": v}))
                .collect::<Vec<_>>()
                .into();
        }
        if let Some(method) = &self.method {
            m["method"] = json!(method);
        }
        let mut r = json!({});
        if m.as_object().is_some_and(|o| !o.is_empty()) {
            r["matches"] = json!([m]);
        }
        if !self.filters.is_empty() {
            r["filters"] = json!(self.filters);
        }
        if !self.backends.is_empty() {
            r["backendRefs"] = self
                .backends
                .iter()
                .map(|(name, port, weight)| {
                    let mut b = json!({"name": name, "port": port});
                    if let Some(w) = weight {
                        b["weight"] = json!(w);
                    }
                    b
                })
                .collect::<Vec<_>>()
                .into();
        }
        r
    }
}

/// One HTTPRoute to write.
struct RouteOut {
    namespace: String,
    name: String,
    gateway: String,
    host: String,
    /// The listeners it attaches to by sectionName (none: every listener).
    sections: Vec<String>,
    rules: Vec<Rule>,
}

impl RouteOut {
    fn to_value(&self) -> Value {
        let parents: Vec<Value> = if self.sections.is_empty() {
            vec![json!({"name": self.gateway})]
        } else {
            self.sections.iter().map(|s| json!({"name": self.gateway, "sectionName": s})).collect()
        };
        let mut spec = json!({"parentRefs": parents});
        if !self.host.is_empty() {
            spec["hostnames"] = json!([self.host]);
        }
        spec["rules"] = self.rules.iter().map(Rule::to_value).collect::<Vec<_>>().into();
        json!({"apiVersion": format!("{GROUP}/v1"), "kind": "HTTPRoute",
               "metadata": {"name": self.name, "namespace": self.namespace}, "spec": spec})
    }
}

/// The work in progress: Gateways by (namespace, name), routes by
/// (namespace, gateway, host), in the order they were first seen.
struct Work<'c> {
    cluster: &'c Cluster,
    gateways: BTreeMap<(String, String), GatewayOut>,
    routes: Vec<RouteOut>,
    diags: Vec<Diagnostic>,
}

impl Work<'_> {
    fn warn(&mut self, origin: &Origin, field: &str, message: String) {
        self.diags.push(Diagnostic::warning(origin.clone(), message).at_field(field));
    }

    fn add_host(&mut self, ns: &str, gateway: &str, host: &str, http: bool, secret: Option<&str>) {
        let h = self.gateway(ns, gateway).hosts.entry(host.to_owned()).or_default();
        h.http |= http;
        if let Some(s) = secret {
            if !h.secrets.iter().any(|x| x == s) {
                h.secrets.push(s.to_owned());
            }
        }
    }

    fn has_https(&self, ns: &str, gateway: &str, host: &str) -> bool {
        self.gateways
            .get(&(ns.to_owned(), gateway.to_owned()))
            .and_then(|g| g.hosts.get(host))
            .is_some_and(|h| !h.secrets.is_empty())
    }

    /// The rules of the route for (namespace, gateway, host), made when
    /// first asked for with the name `name` gives.
    fn rules(&mut self, ns: &str, gateway: &str, host: &str, name: impl FnOnce() -> String) -> &mut Vec<Rule> {
        &mut self.route(ns, gateway, host, name).rules
    }

    fn route_exists(&self, ns: &str, gateway: &str, host: &str) -> bool {
        self.routes.iter().any(|r| r.namespace == ns && r.gateway == gateway && r.host == host)
    }

    /// Attaches the route for the host to these listeners only; a further
    /// route `<name>-http` takes the HTTP listener with `filter`.
    fn split_http(&mut self, ns: &str, gateway: &str, host: &str, filter: Value) {
        let Some(i) = self.routes.iter().position(|r| r.namespace == ns && r.gateway == gateway && r.host == host)
        else {
            return;
        };
        let name = format!("{}-http", self.routes[i].name);
        if self.routes.iter().any(|r| r.name == name && r.namespace == ns) {
            return;
        }
        self.routes[i].sections = vec![listener_name(host, true)];
        self.routes.push(RouteOut {
            namespace: ns.to_owned(),
            name,
            gateway: gateway.to_owned(),
            host: host.to_owned(),
            sections: vec![listener_name(host, false)],
            rules: vec![Rule { filters: vec![filter], ..Rule::default() }],
        });
    }

    /// Pins the route for the host to one listener.
    fn only_on(&mut self, ns: &str, gateway: &str, host: &str, tls: bool) {
        if let Some(r) = self.routes.iter_mut().find(|r| r.namespace == ns && r.gateway == gateway && r.host == host) {
            r.sections = vec![listener_name(host, tls)];
        }
    }

    fn gateway(&mut self, ns: &str, name: &str) -> &mut GatewayOut {
        self.gateways.entry((ns.to_owned(), name.to_owned())).or_insert_with(|| GatewayOut { hosts: BTreeMap::new() })
    }

    fn route(&mut self, ns: &str, gateway: &str, host: &str, name: impl FnOnce() -> String) -> &mut RouteOut {
        let found = self.routes.iter().position(|r| r.namespace == ns && r.gateway == gateway && r.host == host);
        let i = found.unwrap_or_else(|| {
            self.routes.push(RouteOut {
                namespace: ns.to_owned(),
                name: name(),
                gateway: gateway.to_owned(),
                host: host.to_owned(),
                sections: Vec::new(),
                rules: Vec::new(),
            });
            self.routes.len() - 1
        });
        &mut self.routes[i]
    }

    /// A Service port as the route must name it: its number.
    fn port(&mut self, ns: &str, service: &str, port: &str, origin: &Origin) -> Option<i64> {
        if let Ok(n) = port.parse::<i64>() {
            return Some(n);
        }
        let found = self
            .cluster
            .service(ns, service)
            .and_then(|s| crate::ingress::service_port(s, port))
            .map(|p| i64::from(p.port));
        if found.is_none() {
            self.warn(
                origin,
                "spec",
                format!("cannot find port with name {port} in service {ns}/{service}: the backend is left out"),
            );
        }
        found
    }
}

/// The Ingresses and IngressRoutes of the cluster as Gateway API objects.
pub fn ingress_to_gateway(cluster: &Cluster, opts: &Options) -> Converted {
    let class = opts.class.clone().unwrap_or_else(|| default_class(opts.implementation).to_owned());
    let mut work = Work { cluster, gateways: BTreeMap::new(), routes: Vec::new(), diags: Vec::new() };
    let mut ingresses: Vec<&Ingress> = cluster
        .ingresses
        .iter()
        .filter(|i| opts.takes_namespace(&i.namespace) && opts.takes_class(nginx::ingress_class(i).as_deref()))
        .collect();
    crate::order::sort_by(&mut ingresses, |a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let canary = |i: &Ingress| i.annotation("nginx.ingress.kubernetes.io/canary") == Some("true");
    for ing in ingresses.iter().filter(|i| !canary(i)) {
        nginx::plain(&mut work, ing, &class);
    }
    for ing in ingresses.iter().filter(|i| canary(i)) {
        nginx::canary(&mut work, ing, &class);
    }
    for ing in &ingresses {
        nginx::ssl_redirect(&mut work, ing, &class);
    }
    let routes = cluster
        .ingress_routes
        .iter()
        .filter(|r| opts.takes_namespace(&r.namespace) && opts.takes_class(Some("traefik")));
    for r in routes {
        traefik::ingress_route(&mut work, r, &class);
    }
    let (http_port, https_port) = ports(cluster, opts.implementation);
    let mut objects = Vec::new();
    if cluster.gateway_api.class(&class).is_none() && !work.gateways.is_empty() {
        objects.push(json!({"apiVersion": format!("{GROUP}/v1"), "kind": "GatewayClass", "metadata": {"name": class},
                            "spec": {"controllerName": opts.implementation.controller_name()}}));
    }
    for ((ns, name), gw) in &work.gateways {
        let mut listeners = Vec::new();
        for (host, h) in &gw.hosts {
            let with_host = |mut l: Value| {
                if !host.is_empty() {
                    l["hostname"] = json!(host);
                }
                l
            };
            if h.http {
                listeners.push(with_host(
                    json!({"name": listener_name(host, false), "port": http_port, "protocol": "HTTP"}),
                ));
            }
            if !h.secrets.is_empty() {
                let refs: Vec<Value> =
                    h.secrets.iter().map(|s| json!({"group": "", "kind": "Secret", "name": s})).collect();
                listeners.push(with_host(json!({"name": listener_name(host, true), "port": https_port,
                    "protocol": "HTTPS", "tls": {"mode": "Terminate", "certificateRefs": refs}})));
            }
        }
        objects.push(json!({"apiVersion": format!("{GROUP}/v1"), "kind": "Gateway",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"gatewayClassName": class, "listeners": listeners}}));
    }
    let mut routes: Vec<&RouteOut> = work.routes.iter().collect();
    crate::order::sort_by(&mut routes, |a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    objects.extend(routes.into_iter().map(RouteOut::to_value));
    let mut diags = work.diags;
    let running = cluster.gateway_api.running.contains(&opts.implementation);
    // Said at the first object converted: the notes are about all of them.
    let first = cluster
        .ingresses
        .first()
        .map(|i| i.origin.clone())
        .or_else(|| cluster.ingress_routes.first().map(|r| r.origin.clone()));
    let Some(at) = first else { return Converted { objects, diagnostics: diags } };
    match opts.implementation {
        Implementation::Cilium if !running => {
            diags.push(Diagnostic::note(at, "Cilium's Gateway API runs with the Cilium plugin: set cni: cilium"));
        }
        Implementation::Traefik if !running => diags.push(Diagnostic::note(
            at,
            "Traefik takes Gateways once its kubernetesGateway provider is on: add --providers.kubernetesgateway to its arguments (Helm: providers.kubernetesGateway.enabled=true)",
        )),
        _ => {}
    }
    Converted { objects, diagnostics: diags }
}

/// The listener ports: 80 and 443, or Traefik's entryPoints (the Helm
/// chart's web :8000 and websecure :8443), which its listeners must use.
fn ports(cluster: &Cluster, i: Implementation) -> (i32, i32) {
    if i != Implementation::Traefik {
        return (80, 443);
    }
    let eps = &cluster.gateway_api.traefik_entry_points;
    let http = eps.iter().find(|e| !e.2 && e.0 == "web").or_else(|| eps.iter().find(|e| !e.2)).map_or(8000, |e| e.1);
    let https = eps.iter().find(|e| e.2).map_or(8443, |e| e.1);
    (http, https)
}

/// One request as the Ingress controller routes it before the migration
/// and as the Gateway that listens for its host routes it after.
#[derive(Clone, Debug)]
pub struct BothWays {
    pub ingress: crate::ingress::Routed,
    pub gateway: Option<super::route::GatewayRouted>,
}

/// `req` through the ingress controller of `before` and through the
/// Gateway of `after` whose listener takes it (the first, in input order).
pub fn both_ways(before: &Cluster, after: &Cluster, req: &crate::ingress::HttpRequest, seed: u64) -> BothWays {
    let ingress = crate::ingress::route(before, req, seed);
    let api = &after.gateway_api;
    // Traefik's listeners are on its entryPoints, where its Service sends
    // ports 80 and 443.
    let (http, https) = ports(after, Implementation::Traefik);
    let gateway = api
        .gateways
        .iter()
        .filter_map(|g| {
            let port = match (api.implementation(&g.object), req.port) {
                (Some(Implementation::Traefik), 80) => u16::try_from(http).unwrap_or(80),
                (Some(Implementation::Traefik), 443) => u16::try_from(https).unwrap_or(443),
                _ => req.port,
            };
            super::route::route(after, api, g, &crate::ingress::HttpRequest { port, ..req.clone() }, seed)
        })
        .find(|r| r.listener.is_some());
    BothWays { ingress, gateway }
}
