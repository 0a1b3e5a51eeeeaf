//! Ingress controllers: how ingress-nginx and Traefik route an HTTP
//! request to a backend, each by its own rules, from the same Ingress
//! objects (and Traefik's IngressRoutes).
//!
//! - [`nginx`]: the servers and locations ingress-nginx generates — exact
//!   and one-label wildcard hosts, `= /p` and `/p/` locations for Prefix
//!   paths (element-wise), regex locations once a host uses `use-regex` or
//!   `rewrite-target`, the default server's 404, the 308 to HTTPS for TLS
//!   hosts, allow-lists, canaries; upstreams are pod endpoints.
//! - [`traefik`]: routers with rules (`Host(…) && PathPrefix(…)`) ordered
//!   by priority, the length of the rule unless set; PathPrefix is a plain
//!   string prefix; no redirect unless a middleware says so.
//!
//! Both answer with a [`Routed`]: the status, the backend, and the rule
//! that decided, which the trace shows as the controller's hop.

pub mod nginx;
pub mod traefik;

use std::net::IpAddr;

use crate::cluster::{Cluster, ClusterIp, Service};
use crate::names::Rng;
use crate::settings::IngressController;

/// A request as the controller receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// `http` or `https`: which listener it arrived on.
    pub scheme: String,
    /// The Host header, without a port.
    pub host: String,
    pub port: u16,
    /// The path and query, as sent.
    pub path: String,
    pub method: String,
    /// Extra headers (`-H`), name and value.
    pub headers: Vec<(String, String)>,
    /// The client address the controller sees.
    pub client: IpAddr,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A cookie's value from the Cookie header.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.header("cookie")?
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// The path without its query.
    pub fn path_only(&self) -> &str {
        self.path.split(['?', '#']).next().unwrap_or("/")
    }
}

/// The Service (and port) a request goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    pub namespace: String,
    pub service: String,
    /// The Service port as the Ingress names it: a number or a name.
    pub port: String,
}

impl Backend {
    /// `NS/SERVICE:PORT`, as the trace's `http.backend` shows it.
    pub fn key(&self) -> String {
        format!("{}/{}:{}", self.namespace, self.service, self.port)
    }
}

/// What the controller did with the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    pub controller: IngressController,
    pub status: u16,
    /// `NS/NAME` of the Ingress (or IngressRoute) whose rule matched.
    pub ingress: Option<String>,
    pub backend: Option<Backend>,
    /// The location or router rule that matched, as the controller's
    /// configuration would show it.
    pub rule: String,
    /// Why, for people.
    pub reason: String,
    /// The endpoint the request is proxied to, and the path it asks there.
    pub upstream: Option<(IpAddr, u16)>,
    pub upstream_path: String,
    /// Every endpoint the controller could have picked.
    pub candidates: Vec<(IpAddr, u16)>,
    /// Headers the controller adds on the way to the backend.
    pub upstream_headers: Vec<(String, String)>,
    /// The `Location` of a redirect.
    pub location: Option<String>,
    /// The body of a response the controller writes itself (404, 403…).
    pub body: Option<String>,
}

impl Routed {
    fn answer(
        controller: IngressController,
        status: u16,
        rule: impl Into<String>,
        reason: impl Into<String>,
    ) -> Routed {
        Routed {
            controller,
            status,
            ingress: None,
            backend: None,
            rule: rule.into(),
            reason: reason.into(),
            upstream: None,
            upstream_path: String::new(),
            candidates: Vec::new(),
            upstream_headers: Vec::new(),
            location: None,
            body: None,
        }
    }
}

/// The request routed by the cluster's ingress controller.
pub fn route(cluster: &Cluster, req: &HttpRequest, seed: u64) -> Routed {
    match cluster.settings.ingress_controller {
        IngressController::Traefik => traefik::route(cluster, req, seed),
        IngressController::Nginx => nginx::route(cluster, req, seed),
        IngressController::None => {
            Routed::answer(IngressController::None, 0, "", "this cluster runs no ingress controller")
        }
    }
}

/// The external address of the controller that serves `host`, when an
/// Ingress (or IngressRoute) of the running controller names it.
pub fn published_address(cluster: &Cluster, host: &str) -> Option<IpAddr> {
    let controller = cluster.settings.ingress_controller;
    let served = |i: &crate::cluster::Ingress| match controller {
        IngressController::Nginx => nginx::serves(cluster, i),
        IngressController::Traefik => traefik::serves(cluster, i),
        IngressController::None => false,
    };
    let by_ingress = cluster
        .ingresses
        .iter()
        .filter(|i| served(i))
        .find(|i| i.hosts.iter().any(|h| host_matches(h, host)))
        .map(|_| ());
    let by_route = (controller == IngressController::Traefik)
        .then(|| {
            cluster
                .ingress_routes
                .iter()
                .find(|r| r.object.spec.routes.iter().any(|x| x.rule.contains(&format!("Host(`{host}`)"))))
        })
        .flatten()
        .map(|_| ());
    by_ingress.or(by_route)?;
    controller_service(cluster).and_then(|s| s.load_balancer_ips.first().copied())
}

/// The controller's own Service (LoadBalancer) in front of its pods.
pub fn controller_service(cluster: &Cluster) -> Option<&Service> {
    if let Some((ns, name)) = &cluster.settings.ingress_service {
        return cluster.service(ns, name);
    }
    let (ns, name) = match cluster.settings.ingress_controller {
        IngressController::Nginx => ("ingress-nginx", "ingress-nginx-controller"),
        IngressController::Traefik => ("traefik", "traefik"),
        IngressController::None => return None,
    };
    cluster.service(ns, name)
}

/// Whether a pod is one of the running controller's.
pub fn is_controller_pod(cluster: &Cluster, key: &str) -> bool {
    let Some(svc) = controller_service(cluster) else { return false };
    cluster.slices_of(svc).flat_map(|s| s.endpoints.iter()).any(|e| e.pod.as_deref() == Some(key))
}

/// The ready endpoints behind a Service port (by number or name): pod
/// address and target port, in slice order.
pub fn endpoints(cluster: &Cluster, svc: &Service, port: &str) -> Vec<(IpAddr, u16)> {
    let Some(sp) = service_port(svc, port) else { return Vec::new() };
    let mut out = Vec::new();
    for slice in cluster.slices_of(svc) {
        let Some(target) =
            slice.ports.iter().find(|p| p.name == sp.name && p.protocol == sp.protocol).and_then(|p| p.port)
        else {
            continue;
        };
        for e in slice.endpoints.iter().filter(|e| e.is_ready()) {
            out.extend(e.addresses.iter().map(|a| (*a, target)));
        }
    }
    out
}

/// The Service port a backend names, by number or by name.
pub fn service_port<'a>(svc: &'a Service, port: &str) -> Option<&'a crate::cluster::ServicePort> {
    svc.ports.iter().find(|p| p.port.to_string() == port || (!p.name.is_empty() && p.name == port))
}

/// The cluster IP and port of a backend, for controllers told to use it.
pub fn cluster_ip_of(svc: &Service, port: &str) -> Option<(IpAddr, u16)> {
    match svc.cluster_ip {
        ClusterIp::Ip(ip) => service_port(svc, port).map(|p| (ip, p.port)),
        _ => None,
    }
}

/// Picks one of `candidates` with the seed: the controller's balancer.
fn pick(candidates: &[(IpAddr, u16)], seed: u64) -> Option<(IpAddr, u16)> {
    if candidates.is_empty() {
        return None;
    }
    let i = Rng::new(seed ^ 0x1e55).below(candidates.len() as u64) as usize;
    Some(candidates[i])
}

/// Whether a host matches a rule's host: exact (case-insensitive), or a
/// `*.` wildcard standing for exactly one label.
pub fn host_matches(rule: &str, host: &str) -> bool {
    let (rule, host) = (rule.to_ascii_lowercase(), host.to_ascii_lowercase());
    match rule.strip_prefix("*.") {
        Some(suffix) => host.strip_suffix(&format!(".{suffix}")).is_some_and(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }),
        None => rule == host,
    }
}

/// Whether `ip` is in one of the comma-separated CIDRs (or addresses).
fn allowed(list: &str, ip: IpAddr) -> bool {
    list.split(',').map(str::trim).filter(|c| !c.is_empty()).any(|c| match c.parse::<ipnet::IpNet>() {
        Ok(net) => net.contains(&ip),
        Err(_) => c.parse::<IpAddr>().is_ok_and(|a| a == ip),
    })
}
