//! An HTTP request as a trace: the connection to where the URL leads (DNS
//! first for a name; for an outside client, a host an Ingress names leads
//! to the controller's external address, as public DNS would), then, when
//! that is an ingress controller, its routing decision and its own
//! connection to the backend — the legs chained into one trace. The
//! backend answers as [`crate::http`] describes.

use super::engine::trace_ip;
use super::{dns::trace_name, trace, From, Headers, Hop, Payload, Request, To, Trace, TraceError, Verdict};
use crate::cluster::{Cluster, Protocol};
use crate::dns;
use crate::ingress::Routed;
use crate::settings::IngressController;
use crate::step::{Action, Place};

/// An HTTP request as curl would make it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSpec {
    /// `http` or `https`.
    pub scheme: String,
    /// The URL's host (and port, when it names one), for the Host header.
    pub host_header: String,
    /// The path and query.
    pub path: String,
    pub method: String,
    /// `-H` headers.
    pub headers: Vec<(String, String)>,
    /// The program asking, for its default headers.
    pub client: crate::http::Client,
}

/// What came of an HTTP request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Http {
    pub status: u16,
    /// `NS/SERVICE:PORT` of the backend that answered.
    pub backend: Option<String>,
    /// `NS/NAME` of the Ingress (or IngressRoute) whose rule matched.
    pub ingress: Option<String>,
    /// `nginx` or `traefik`, when a controller handled it.
    pub controller: Option<String>,
    /// The controller's location or router rule that matched.
    pub rule: Option<String>,
    /// A redirect's target.
    pub location: Option<String>,
    /// Through a Gateway: `NS/NAME` of the Gateway, and of the route whose
    /// rule matched.
    pub gateway: Option<String>,
    pub route: Option<String>,
    pub reason: String,
    /// The request as the client sent it, and the response it got.
    pub request: String,
    pub response: String,
    /// The request as the controller forwarded it to the backend.
    pub upstream_request: Option<String>,
    /// The same request the other way, when both an Ingress and a Gateway
    /// route name its host (a migration half done): where the Gateway
    /// would send what the Ingress took, or the reverse.
    pub also: Option<String>,
}

/// An HTTP request: its connections, and what it came to.
pub fn trace_http(cluster: &Cluster, req: &Request, spec: &HttpSpec) -> Result<Trace, TraceError> {
    let mut t = legs(cluster, req, spec)?;
    if let Some(h) = t.http.as_mut() {
        h.also = other_way(cluster, spec, h, req.seed);
    }
    // Over HTTPS the client's bytes are encrypted: the capture shows the
    // TCP connection, not the request (podpath does not model TLS records).
    if spec.scheme == "https" {
        t.payload = None;
        if let Some(first) = t.legs.first_mut() {
            first.payload = None;
        }
    }
    Ok(t)
}

fn legs(cluster: &Cluster, req: &Request, spec: &HttpSpec) -> Result<Trace, TraceError> {
    let first = match public_dns(cluster, req)? {
        Ok(first) => first,
        Err(unresolved) => return Ok(unresolved),
    };
    let leg1 = trace(cluster, &first)?;
    if leg1.verdict != Verdict::Delivered {
        return Ok(leg1);
    }
    let request = crate::http::request(spec.client, &spec.method, &spec.host_header, &spec.path, &spec.headers);
    let arrived = leg1.hops.last().map(|h| h.packet.clone()).expect("a delivered trace has hops");
    // NGINX Gateway Fabric and Traefik: the data plane's pod. Cilium: the
    // node's Envoy, which the service map redirected the connection to.
    let by_pod = leg1
        .destination_pod
        .as_deref()
        .and_then(|p| crate::gateway::gateway_of_pod(cluster, p, arrived.dport))
        .map(|gw| (gw, leg1.destination_pod.clone().unwrap_or_default(), arrived.dport));
    let by_envoy = || {
        let node = leg1.destination_node.as_deref().filter(|_| leg1.destination_pod.is_none())?;
        let gw = crate::gateway::gateway_of_service(cluster, leg1.service.name.as_deref()?)?;
        let envoy = crate::gateway::envoy_of_node(cluster, node)?;
        Some((gw, envoy, req.port))
    };
    if let Some((gw, pod, listener_port)) = by_pod.or_else(by_envoy) {
        let http_req = crate::ingress::HttpRequest {
            scheme: spec.scheme.clone(),
            host: host(spec).to_owned(),
            port: listener_port,
            path: spec.path.clone(),
            method: spec.method.clone(),
            headers: spec.headers.clone(),
            client: arrived.src,
        };
        if let Some(g) = crate::gateway::route::route(cluster, &cluster.gateway_api, gw, &http_req, req.seed) {
            let name = g.implementation.data_plane();
            let (gateway, route) = (Some(g.gateway.clone()), g.route.clone());
            let routed = through_gateway(g, &http_req, spec);
            let at = AtController { cluster, req, spec, leg1, pod, name, routed, request, arrived, gateway, route };
            return match at.routed.upstream.filter(|_| at.routed.status == 200) {
                Some(upstream) => at.proxied(upstream),
                None => Ok(at.answered()),
            };
        }
    }
    let controller = leg1.destination_pod.clone().filter(|p| crate::ingress::is_controller_pod(cluster, p));
    let Some(pod) = controller else { return Ok(answered_by_the_backend(leg1, req, request, &arrived)) };
    let http_req = crate::ingress::HttpRequest {
        scheme: spec.scheme.clone(),
        host: host(spec).to_owned(),
        port: req.port,
        path: spec.path.clone(),
        method: spec.method.clone(),
        headers: spec.headers.clone(),
        client: arrived.src,
    };
    let routed = crate::ingress::route(cluster, &http_req, req.seed);
    let name = if routed.controller == IngressController::Traefik { "traefik" } else { "nginx" };
    let at = AtController { cluster, req, spec, leg1, pod, name, routed, request, arrived, gateway: None, route: None };
    match at.routed.upstream.filter(|_| at.routed.status == 200) {
        Some(upstream) => at.proxied(upstream),
        None => Ok(at.answered()),
    }
}

/// Where the request would go the other way: through the Gateway whose
/// route names the host when an Ingress took it, through the ingress
/// controller when a Gateway did and an Ingress names the host too.
fn other_way(cluster: &Cluster, spec: &HttpSpec, h: &Http, seed: u64) -> Option<String> {
    let host = host(spec).to_owned();
    let req = crate::ingress::HttpRequest {
        scheme: spec.scheme.clone(),
        host: host.clone(),
        port: if spec.scheme == "https" { 443 } else { 80 },
        path: spec.path.clone(),
        method: spec.method.clone(),
        headers: spec.headers.clone(),
        client: super::OUTSIDE_CLIENT,
    };
    let said = |status: u16, backend: Option<String>, why: &str| {
        let to = backend
            .map_or_else(|| format!("{status} {}", crate::http::reason(status)), |b| format!("{status} from {b}"));
        format!("{to} ({why})")
    };
    if h.ingress.is_some() && crate::gateway::published_address(cluster, &host).is_some() {
        let g = crate::gateway::convert::both_ways(cluster, cluster, &req, seed).gateway?;
        let why = if g.summary.is_empty() { g.reason.clone() } else { format!("{}: {}", g.rule, g.summary) };
        return Some(format!("through Gateway {}: {}", g.gateway, said(g.status, g.backend.map(|b| b.key()), &why)));
    }
    if h.gateway.is_some() && crate::ingress::published_address(cluster, &host).is_some() {
        let r = crate::ingress::route(cluster, &req, seed);
        let by = r.ingress.clone().map_or_else(String::new, |i| format!(" (Ingress {i})"));
        return Some(format!(
            "through the ingress controller{by}: {}",
            said(r.status, r.backend.map(|b| b.key()), &r.rule)
        ));
    }
    None
}

/// For an outside client, a host an Ingress names leads to the
/// controller's address, as public DNS would point it; `Err` is the trace
/// of a host public DNS does not know.
fn public_dns(cluster: &Cluster, req: &Request) -> Result<Result<Request, Trace>, TraceError> {
    let (From::External, To::Name(host)) = (&req.from, &req.to) else { return Ok(Ok(req.clone())) };
    match dns::upstream(cluster, host, dns::RType::A).answers.first().and_then(|a| a.data.parse().ok()) {
        Some(ip) => Ok(Ok(Request { to: To::Ip(ip), ..req.clone() })),
        None => {
            let mut t = trace_name(cluster, req, host)?;
            t.verdict = Verdict::Nxdomain;
            t.reason = format!("{host} does not resolve in public DNS (no Ingress names it)");
            Ok(Err(t))
        }
    }
}

/// The Host header (a -H Host replaces the URL's), without its port.
fn host(spec: &HttpSpec) -> &str {
    let header = spec
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or(spec.host_header.as_str(), |(_, v)| v.as_str());
    header.rsplit_once(':').filter(|(_, p)| p.parse::<u16>().is_ok()).map_or(header, |(h, _)| h)
}

/// A backend reached directly answers for itself.
fn answered_by_the_backend(mut leg: Trace, req: &Request, request: String, arrived: &Headers) -> Trace {
    let pod_name = leg.destination_pod.clone().unwrap_or_default();
    let hostname = pod_name.rsplit('/').next().unwrap_or_default().to_owned();
    let response = crate::http::whoami(&hostname, arrived.dst, (arrived.src, arrived.sport), &request);
    let backend = leg.service.name.as_ref().map(|n| format!("{n}:{}", req.port));
    leg.payload = Some(Payload { request: request.clone().into_bytes(), response: response.clone().into_bytes() });
    leg.http = Some(Box::new(Http {
        status: 200,
        backend,
        ingress: None,
        controller: None,
        rule: None,
        location: None,
        gateway: None,
        route: None,
        reason: format!("{pod_name} answered"),
        request,
        response,
        upstream_request: None,
        also: None,
    }));
    leg
}

/// A request that reached an ingress controller, and its routing decision.
struct AtController<'c> {
    cluster: &'c Cluster,
    req: &'c Request,
    spec: &'c HttpSpec,
    /// The client's connection to the controller.
    leg1: Trace,
    /// The controller's pod, and `nginx` or `traefik`.
    pod: String,
    name: &'static str,
    routed: Routed,
    /// The request as the client sent it, and its headers at the controller.
    request: String,
    arrived: Headers,
    /// Through a Gateway: the Gateway and the route that matched.
    gateway: Option<String>,
    route: Option<String>,
}

impl AtController<'_> {
    /// A response the controller writes itself: nginx's HTML pages,
    /// Traefik's plain text.
    fn own_answer(&self, status: u16, body: &str, location: Option<&String>) -> String {
        let html = self.name == "nginx";
        let kind = if html { "text/html" } else { "text/plain; charset=utf-8" };
        let mut headers: Vec<(&str, String)> = vec![("Content-Type", kind.to_owned())];
        if let Some(l) = location {
            headers.push(("Location", l.clone()));
        }
        crate::http::response(status, &headers, body)
    }

    /// The controller's hop, as it answers or proxies.
    fn hop(&self, action: Action) -> Hop {
        Hop {
            node: self.leg1.destination_node.clone(),
            at: Place::PodApp { pod: self.pod.clone(), app: self.name.to_owned() },
            action,
            detail: self.routed.reason.clone(),
            rule: Some(self.routed.rule.clone()),
            packet: self.arrived.clone(),
        }
    }

    fn http(&self, status: u16, response: String) -> Http {
        let r = &self.routed;
        Http {
            status,
            backend: r.backend.as_ref().map(|b| b.key()),
            ingress: r.ingress.clone(),
            controller: Some(self.name.to_owned()),
            rule: Some(r.rule.clone()),
            location: r.location.clone(),
            gateway: self.gateway.clone(),
            route: self.route.clone(),
            reason: r.reason.clone(),
            request: self.request.clone(),
            response,
            upstream_request: None,
            also: None,
        }
    }

    /// The controller answers itself: 404, a redirect, 403, 503.
    fn answered(self) -> Trace {
        let r = &self.routed;
        let response = self.own_answer(r.status, r.body.as_deref().unwrap_or(""), r.location.as_ref());
        let hop = self.hop(Action::Answered);
        let http = self.http(r.status, response.clone());
        let mut leg = self.leg1;
        leg.payload = Some(Payload { request: self.request.into_bytes(), response: response.into_bytes() });
        leg.hops.push(hop);
        leg.reason = format!("{} answered {} {}: {}", self.name, r.status, crate::http::reason(r.status), r.reason);
        leg.http = Some(Box::new(http));
        leg
    }

    /// The controller opens its own connection to the endpoint it picked,
    /// forwards the request, and passes the answer back (or its own 502
    /// when the backend refuses, 504 when nothing comes back).
    fn proxied(self, (ip, port): (std::net::IpAddr, u16)) -> Result<Trace, TraceError> {
        let (ns, name) = self.pod.split_once('/').unwrap_or_default();
        let up_req = Request {
            from: From::Pod { namespace: ns.to_owned(), name: name.to_owned() },
            to: To::Ip(ip),
            port,
            protocol: Protocol::Tcp,
            node: None,
            // Its own connection: another source port.
            seed: self.req.seed.wrapping_add(1),
        };
        let mut leg2 = trace_ip(self.cluster, &up_req)?;
        let r = &self.routed;
        let upstream_request =
            crate::http::forwarded(&self.spec.method, &r.upstream_path, &self.request, &r.upstream_headers);
        let backend_answer = (leg2.verdict == Verdict::Delivered).then(|| {
            let seen = leg2.hops.last().map(|h| h.packet.clone()).expect("a delivered trace has hops");
            let hostname = leg2.destination_pod.as_deref().and_then(|p| p.rsplit('/').next()).unwrap_or_default();
            crate::http::whoami(hostname, seen.dst, (seen.src, seen.sport), &upstream_request)
        });
        leg2.payload = Some(Payload {
            request: upstream_request.clone().into_bytes(),
            response: backend_answer.clone().unwrap_or_default().into_bytes(),
        });
        let html = self.name == "nginx";
        let (status, response) = match (backend_answer, leg2.verdict) {
            (Some(a), _) => (200, a),
            // Refused: the controller says 502; dropped: it waits, then 504.
            (None, Verdict::Rejected) => (502, self.own_answer(502, &gateway_page(html, 502), None)),
            (None, _) => (504, self.own_answer(504, &gateway_page(html, 504), None)),
        };
        let mut http = self.http(status, response.clone());
        http.upstream_request = Some(upstream_request);
        let hop = self.hop(Action::Proxied);
        let mut leg1 = self.leg1;
        leg1.payload = Some(Payload { request: self.request.into_bytes(), response: response.into_bytes() });
        Ok(joined(leg1, leg2, hop, http, &r.reason))
    }
}

/// The two connections as one trace, end to end: the client's hops, the
/// controller's, the backend's; the reply back the same way.
fn joined(leg1: Trace, leg2: Trace, hop: Hop, http: Http, routed: &str) -> Trace {
    let mut t = leg1.clone();
    t.hops.push(hop.clone());
    t.hops.extend(leg2.hops.iter().cloned());
    t.verdict = leg2.verdict;
    t.reason = format!("{routed}; then {}", leg2.reason);
    t.destination_pod = leg2.destination_pod.clone();
    t.destination_node = leg2.destination_node.clone();
    t.destination_ip = leg2.destination_ip;
    t.destination_port = leg2.destination_port;
    t.policy = leg2.policy.clone().or(t.policy);
    t.conntrack = leg2.conntrack.clone();
    let mut back = hop;
    back.action = Action::Answered;
    back.packet = leg1.reply.first().map(|h| h.packet.clone()).unwrap_or(back.packet);
    t.reply = leg2.reply.iter().cloned().chain(std::iter::once(back)).chain(leg1.reply.iter().cloned()).collect();
    t.http = Some(Box::new(http));
    t.legs = vec![leg1, leg2];
    t
}

/// The page a controller writes when the backend cannot be reached.
fn gateway_page(html: bool, status: u16) -> String {
    let text = if status == 502 { "Bad Gateway" } else { "Gateway Time-out" };
    if html {
        format!("<html>\r\n<head><title>{status} {text}</title></head>\r\n<body>\r\n<center><h1>{status} {text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
    } else if status == 502 {
        "Bad Gateway".into()
    } else {
        "Gateway Timeout".into()
    }
}

/// A Gateway data plane's decision in the shape a proxy's hop takes: the
/// headers it sets on the way up — the route's modifiers, a rewritten
/// Host, and the X-Forwarded set nginx, Traefik and Envoy add.
fn through_gateway(
    g: crate::gateway::route::GatewayRouted,
    req: &crate::ingress::HttpRequest,
    spec: &HttpSpec,
) -> Routed {
    let mut headers = g.upstream_headers.clone();
    headers.push(("Host".to_owned(), g.upstream_host.clone()));
    headers.push(("X-Forwarded-For".to_owned(), req.client.to_string()));
    headers.push(("X-Forwarded-Proto".to_owned(), spec.scheme.clone()));
    headers.push(("X-Forwarded-Host".to_owned(), req.host.clone()));
    headers.push(("X-Forwarded-Port".to_owned(), req.port.to_string()));
    if g.implementation == crate::gateway::Implementation::NginxGatewayFabric {
        headers.push(("X-Real-IP".to_owned(), req.client.to_string()));
    }
    let listener =
        g.listener.clone().map(|l| format!("{} listener {l}", g.gateway)).unwrap_or_else(|| g.gateway.clone());
    Routed {
        controller: IngressController::None,
        status: g.status,
        ingress: None,
        backend: g.backend,
        rule: match (g.rule.is_empty(), g.summary.is_empty()) {
            (true, _) => listener,
            (false, true) => format!("{listener}: {}", g.rule),
            (false, false) => format!("{listener}: {} ({})", g.rule, g.summary),
        },
        reason: g.reason,
        upstream: g.upstream,
        upstream_path: g.upstream_path,
        candidates: g.candidates,
        upstream_headers: headers,
        location: g.location,
        body: g.body,
    }
}
