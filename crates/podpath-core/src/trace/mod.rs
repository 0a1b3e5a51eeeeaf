//! Traces: one packet's walk through the cluster, hop by hop, and the
//! verdict at the end.
//!
//! The engine follows a connection's first packet from its source: out of
//! the pod through the plugin's plumbing (`datapath`), through the node's
//! service proxy at each netfilter hook in the kernel's order (the very
//! lines `podpath rules` prints), the routing decision, NetworkPolicy on
//! both ends, the tunnel to another node, and delivery; then the reply's
//! way back through conntrack. [`walk`] steps through a finished trace.

mod render;
pub mod target;
pub mod walk;

use std::net::IpAddr;

use ipnet::IpNet;

use crate::cluster::Protocol;
use crate::cluster::{Cluster, ClusterIp, Pod, ServiceType};
use crate::datapath;
use crate::dns;
use crate::names::Rng;
use crate::netfilter::eval::{Context, Verdict as NfVerdict};
pub use crate::packet::Headers;
use crate::packet::Packet;
use crate::policy::{Decision, End, Engine, SideVerdict};
use crate::proxy::{Dataplane, Hook, Origin};
use crate::step::{Action, Place, Step};

/// Where a packet starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum From {
    Pod {
        namespace: String,
        name: String,
    },
    /// The node itself (host network).
    Node(String),
    /// A client outside the cluster, reaching the given node.
    External,
    /// An address, first handled by `node`.
    Ip(IpAddr),
}

/// What the packet is addressed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum To {
    Ip(IpAddr),
    Pod {
        namespace: String,
        name: String,
    },
    /// A DNS name, resolved as the source resolves it first.
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub from: From,
    pub to: To,
    pub port: u16,
    pub protocol: Protocol,
    /// The node that first handles the packet, for IP and external sources.
    pub node: Option<String>,
    pub seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Dropped,
    Rejected,
    Unreachable,
    /// The name did not resolve (NXDOMAIN, or no address of that name).
    Nxdomain,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Delivered => "delivered",
            Verdict::Dropped => "dropped",
            Verdict::Rejected => "rejected",
            Verdict::Unreachable => "unreachable",
            Verdict::Nxdomain => "nxdomain",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    pub node: Option<String>,
    /// `ns/pod eth0`, `nat PREROUTING`, `filter FORWARD`…
    pub at: Place,
    pub action: Action,
    pub detail: String,
    /// The rule line that acted, as the node's dump prints it.
    pub rule: Option<String>,
    pub packet: Headers,
}

/// What the service proxy did with the packet.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ServiceHit {
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalIP` or `none`.
    pub frontend: String,
    pub name: Option<String>,
    /// Every endpoint the node's rules may pick, `IP:PORT`, sorted.
    pub candidates: Vec<String>,
    pub chosen: Option<String>,
    pub snat: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    pub verdict: Verdict,
    pub reason: String,
    pub service: ServiceHit,
    pub destination_pod: Option<String>,
    pub destination_node: Option<String>,
    pub destination_ip: IpAddr,
    pub destination_port: u16,
    pub hops: Vec<Hop>,
    /// The NetworkPolicy verdict, when a pod is at either end.
    pub policy: Option<Decision>,
    /// The conntrack entry of a delivered connection.
    pub conntrack: Option<Conntrack>,
    /// The first reply's way back.
    pub reply: Vec<Hop>,
    /// What the connection carries once open, when the caller knows it
    /// (curl's HTTP exchange, a DNS query and its answer).
    pub payload: Option<Payload>,
    /// The name lookup that came first, for a name destination.
    pub dns: Option<Box<Resolution>>,
    /// What an HTTP request came to, for a URL destination.
    pub http: Option<Box<Http>>,
    /// The connections a proxy joined (client to ingress controller, then
    /// controller to backend); `hops` and `reply` show them end to end.
    pub legs: Vec<Trace>,
}

impl Trace {
    /// Whether the sender hears nothing back: the packet was dropped, or
    /// left the cluster for an address no host has (a ClusterIP's port
    /// the proxy does not rewrite). A client then waits for its timeout,
    /// where a rejection or an unreachable route fails at once.
    pub fn lost(&self) -> bool {
        self.verdict == Verdict::Dropped
            || (self.verdict == Verdict::Unreachable && self.hops.last().is_some_and(|h| h.action == Action::Sent))
    }
}

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
    pub reason: String,
    /// The request as the client sent it, and the response it got.
    pub request: String,
    pub response: String,
    /// The request as the controller forwarded it to the backend.
    pub upstream_request: Option<String>,
}

/// A name resolved by the source the way its resolver does it, each query
/// a UDP exchange with the name server through the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub name: String,
    pub conf: dns::resolver::ResolvConf,
    pub lookup: dns::resolver::Lookup,
    /// The way of each query, in the order of `lookup.attempts`.
    pub wires: Vec<Trace>,
}

impl Resolution {
    /// The first address the answer gives.
    pub fn address(&self) -> Option<IpAddr> {
        let r = self.lookup.answer()?;
        r.answers.iter().find(|a| matches!(a.rtype, dns::RType::A | dns::RType::Aaaa)).and_then(|a| a.data.parse().ok())
    }
}

/// The application's bytes, each way.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Payload {
    pub request: Vec<u8>,
    pub response: Vec<u8>,
}

/// Why a trace could not even start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("pods \"{0}\" not found")]
    NoPod(String),
    #[error("pod {0} has no IP address (it is not running)")]
    PodNotRunning(String),
    #[error("nodes \"{0}\" not found")]
    NoNode(String),
    #[error("{0} needs --node: which node's network stack handles the packet first?")]
    NeedsNode(String),
}

fn pod<'a>(cluster: &'a Cluster, ns: &str, name: &str) -> Result<&'a Pod, TraceError> {
    cluster.pod(ns, name).ok_or_else(|| TraceError::NoPod(format!("{ns}/{name}")))
}

/// The node's own addresses: what `addrtype LOCAL` matches.
fn local_addresses(cluster: &Cluster, node: &str) -> Vec<IpNet> {
    let mut v: Vec<IpNet> = vec!["127.0.0.0/8".parse().expect("literal")];
    if let Some(n) = cluster.node(node) {
        v.extend(n.internal_ip.map(IpNet::from));
        v.extend(n.external_ip.map(IpNet::from));
        v.extend(n.network.gateway.map(IpNet::from));
    }
    v
}

/// Resolves `name` as `from` would: its resolv.conf, each query traced as
/// UDP to the name server on port 53 (so kube-proxy picks a CoreDNS pod and
/// NetworkPolicy may drop the query), the answer CoreDNS's configuration
/// gives.
pub fn resolve(cluster: &Cluster, req: &Request, name: &str, qtype: dns::RType) -> Result<Resolution, TraceError> {
    let conf = match &req.from {
        From::Pod { namespace, name } => dns::resolver::resolv_conf(cluster, pod(cluster, namespace, name)?),
        _ => dns::resolver::node_resolv_conf(cluster),
    };
    resolve_with(cluster, req, conf, name, qtype)
}

/// [`resolve`] with a resolver configuration of the caller's (a tool's
/// own server, or no search list).
pub fn resolve_with(
    cluster: &Cluster,
    req: &Request,
    conf: dns::resolver::ResolvConf,
    name: &str,
    qtype: dns::RType,
) -> Result<Resolution, TraceError> {
    let dns_ip = dns::resolver::cluster_dns(cluster);
    let coredns = dns::Dns::of(cluster);
    let mut wires = Vec::new();
    let mut failure = None;
    let mut i = 0u64;
    let lookup = dns::resolver::lookup(&conf, name, qtype, |server, qname| {
        let q = Request {
            to: To::Ip(server),
            port: 53,
            protocol: Protocol::Udp,
            seed: req.seed.wrapping_add(i),
            ..req.clone()
        };
        i += 1;
        let t = match trace(cluster, &q) {
            Ok(t) => t,
            Err(e) => {
                failure = Some(e);
                return None;
            }
        };
        let answered = t.verdict == Verdict::Delivered;
        let by_coredns = t
            .destination_pod
            .as_deref()
            .and_then(|p| p.split_once('/'))
            .and_then(|(ns, n)| cluster.pod(ns, n))
            .is_some_and(|p| p.labels.get("k8s-app").map(String::as_str) == Some("kube-dns"));
        let response = match (answered, server == dns_ip || by_coredns) {
            (false, _) => None,
            (true, true) => Some(coredns.answer(cluster, qname, qtype)),
            // Another name server: the node's, outside the cluster.
            (true, false) => Some(dns::upstream(cluster, &qname.to_ascii_lowercase(), qtype)),
        };
        // The messages themselves, for the capture.
        let id = (crate::names::fnv64a(format!("{qname} {}", q.seed).as_bytes()) & 0xffff) as u16;
        let mut t = t;
        t.payload = Some(Payload {
            request: dns::wire::query(id, qname, qtype),
            response: response.as_ref().map(|r| dns::wire::response(id, qname, qtype, r)).unwrap_or_default(),
        });
        wires.push(t);
        response
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(Resolution { name: name.to_owned(), conf, lookup, wires })
}

/// An HTTP request: the connection to where the URL leads (DNS first for a
/// name; for an outside client, a host an Ingress names leads to the
/// controller's external address, as public DNS would), then, when that is
/// an ingress controller, its routing decision and its own connection to
/// the backend. The backend answers as `http` describes.
pub fn trace_http(cluster: &Cluster, req: &Request, spec: &HttpSpec) -> Result<Trace, TraceError> {
    let mut t = http_legs(cluster, req, spec)?;
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

fn http_legs(cluster: &Cluster, req: &Request, spec: &HttpSpec) -> Result<Trace, TraceError> {
    let mut first = req.clone();
    if let (From::External, To::Name(host)) = (&req.from, &req.to) {
        match dns::upstream(cluster, host, dns::RType::A).answers.first().and_then(|a| a.data.parse().ok()) {
            Some(ip) => first.to = To::Ip(ip),
            None => {
                let mut t = trace_name(cluster, req, host)?;
                t.verdict = Verdict::Nxdomain;
                t.reason = format!("{host} does not resolve in public DNS (no Ingress names it)");
                return Ok(t);
            }
        }
    }
    let mut leg1 = trace(cluster, &first)?;
    if leg1.verdict != Verdict::Delivered {
        return Ok(leg1);
    }
    let request = crate::http::request(spec.client, &spec.method, &spec.host_header, &spec.path, &spec.headers);
    let arrived = leg1.hops.last().map(|h| h.packet.clone()).expect("a delivered trace has hops");
    // The Host header (a -H Host replaces the URL's), without its port.
    let host_header = spec
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or(spec.host_header.as_str(), |(_, v)| v.as_str());
    let host = host_header.rsplit_once(':').filter(|(_, p)| p.parse::<u16>().is_ok()).map_or(host_header, |(h, _)| h);
    let controller_pod = leg1.destination_pod.clone().filter(|p| crate::ingress::is_controller_pod(cluster, p));
    let Some(ctl_pod) = controller_pod else {
        // A backend reached directly answers for itself.
        let pod_name = leg1.destination_pod.clone().unwrap_or_default();
        let hostname = pod_name.rsplit('/').next().unwrap_or_default().to_owned();
        let response = crate::http::whoami(&hostname, arrived.dst, (arrived.src, arrived.sport), &request);
        let backend = leg1.service.name.as_ref().map(|n| format!("{n}:{}", req.port));
        leg1.payload = Some(Payload { request: request.clone().into_bytes(), response: response.clone().into_bytes() });
        leg1.http = Some(Box::new(Http {
            status: 200,
            backend,
            ingress: None,
            controller: None,
            rule: None,
            location: None,
            reason: format!("{pod_name} answered"),
            request,
            response,
            upstream_request: None,
        }));
        return Ok(leg1);
    };
    let http_req = crate::ingress::HttpRequest {
        scheme: spec.scheme.clone(),
        host: host.to_owned(),
        port: req.port,
        path: spec.path.clone(),
        method: spec.method.clone(),
        headers: spec.headers.clone(),
        client: arrived.src,
    };
    let routed = crate::ingress::route(cluster, &http_req, req.seed);
    let ctl_name = match routed.controller {
        crate::settings::IngressController::Traefik => "traefik",
        _ => "nginx",
    };
    let ctl_node = leg1.destination_node.clone();
    let html = ctl_name == "nginx";
    let own_answer = |status: u16, body: &str, location: Option<&String>| {
        let mut headers: Vec<(&str, String)> =
            vec![("Content-Type", if html { "text/html".to_owned() } else { "text/plain; charset=utf-8".to_owned() })];
        if let Some(l) = location {
            headers.push(("Location", l.clone()));
        }
        crate::http::response(status, &headers, body)
    };
    let mut hop = Hop {
        node: ctl_node.clone(),
        at: Place::PodApp { pod: ctl_pod.clone(), app: ctl_name.to_owned() },
        action: Action::Answered,
        detail: routed.reason.clone(),
        rule: Some(routed.rule.clone()),
        packet: arrived.clone(),
    };
    let mut http = Http {
        status: routed.status,
        backend: routed.backend.as_ref().map(|b| b.key()),
        ingress: routed.ingress.clone(),
        controller: Some(ctl_name.to_owned()),
        rule: Some(routed.rule.clone()),
        location: routed.location.clone(),
        reason: routed.reason.clone(),
        request: request.clone(),
        response: String::new(),
        upstream_request: None,
    };
    let Some((up_ip, up_port)) = routed.upstream.filter(|_| routed.status == 200) else {
        // The controller answers itself: 404, a redirect, 403, 503.
        http.response = own_answer(routed.status, routed.body.as_deref().unwrap_or(""), routed.location.as_ref());
        leg1.payload = Some(Payload { request: request.into_bytes(), response: http.response.clone().into_bytes() });
        leg1.hops.push(hop);
        leg1.reason = format!(
            "{} answered {} {}: {}",
            ctl_name,
            routed.status,
            crate::http::reason(routed.status),
            routed.reason
        );
        leg1.http = Some(Box::new(http));
        return Ok(leg1);
    };
    // The controller opens its own connection to the endpoint it picked.
    let (ns, name) = ctl_pod.split_once('/').unwrap_or_default();
    let up_req = Request {
        from: From::Pod { namespace: ns.to_owned(), name: name.to_owned() },
        to: To::Ip(up_ip),
        port: up_port,
        protocol: Protocol::Tcp,
        node: None,
        // Its own connection: another source port.
        seed: req.seed.wrapping_add(1),
    };
    let mut leg2 = trace_ip(cluster, &up_req)?;
    let upstream_request =
        crate::http::forwarded(&spec.method, &routed.upstream_path, &request, &routed.upstream_headers);
    hop.action = Action::Proxied;
    let backend_answer = if leg2.verdict == Verdict::Delivered {
        let seen = leg2.hops.last().map(|h| h.packet.clone()).expect("a delivered trace has hops");
        let hostname =
            leg2.destination_pod.as_deref().and_then(|p| p.rsplit('/').next()).unwrap_or_default().to_owned();
        Some(crate::http::whoami(&hostname, seen.dst, (seen.src, seen.sport), &upstream_request))
    } else {
        None
    };
    leg2.payload = Some(Payload {
        request: upstream_request.clone().into_bytes(),
        response: backend_answer.clone().unwrap_or_default().into_bytes(),
    });
    let (status, response) = match (&backend_answer, leg2.verdict) {
        (Some(a), _) => (200, a.clone()),
        // Refused: the controller says 502; dropped: it waits, then 504.
        (None, Verdict::Rejected) => (502, own_answer(502, &gateway_page(html, 502), None)),
        (None, _) => (504, own_answer(504, &gateway_page(html, 504), None)),
    };
    http.status = status;
    http.response = response.clone();
    http.upstream_request = Some(upstream_request);
    leg1.payload = Some(Payload { request: request.into_bytes(), response: response.into_bytes() });
    let mut t = leg1.clone();
    t.hops.push(hop.clone());
    t.hops.extend(leg2.hops.iter().cloned());
    t.verdict = leg2.verdict;
    t.reason = format!("{}; then {}", routed.reason, leg2.reason);
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
    Ok(t)
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

/// Traces the first packet of a connection.
pub fn trace(cluster: &Cluster, req: &Request) -> Result<Trace, TraceError> {
    if let To::Name(name) = &req.to {
        return trace_name(cluster, req, name);
    }
    trace_ip(cluster, req)
}

/// A name destination: the lookup, then the connection to its address.
fn trace_name(cluster: &Cluster, req: &Request, name: &str) -> Result<Trace, TraceError> {
    let res = resolve(cluster, req, name, dns::RType::A)?;
    if let Some(ip) = res.address() {
        let mut t = trace_ip(cluster, &Request { to: To::Ip(ip), ..req.clone() })?;
        t.dns = Some(Box::new(res));
        return Ok(t);
    }
    // No address: the trace ends at the lookup, its last query's way shown.
    let last = res.wires.last().cloned();
    let (verdict, reason) = if res.lookup.timed_out() {
        let why = last.as_ref().map(|t| t.reason.clone()).unwrap_or_default();
        (Verdict::Dropped, format!("the DNS query for {name} got no answer: {why}"))
    } else {
        let rcode = res.lookup.last().map_or("no response", |r| r.rcode.as_str());
        let tried = res.lookup.attempts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ");
        (Verdict::Nxdomain, format!("{name} does not resolve ({rcode}); tried {tried}"))
    };
    let hops = last.as_ref().map(|t| t.hops.clone()).unwrap_or_default();
    let destination_ip = last.as_ref().map_or(dns::resolver::cluster_dns(cluster), |t| t.destination_ip);
    Ok(Trace {
        verdict,
        reason,
        service: ServiceHit { frontend: "none".into(), ..ServiceHit::default() },
        destination_pod: None,
        destination_node: None,
        destination_ip,
        destination_port: 53,
        hops,
        policy: None,
        conntrack: None,
        reply: Vec::new(),
        payload: None,
        dns: Some(Box::new(res)),
        http: None,
        legs: Vec::new(),
    })
}

fn trace_ip(cluster: &Cluster, req: &Request) -> Result<Trace, TraceError> {
    // Where the packet starts, and on which node.
    let (src_ip, node, src_at, host_originated) = match &req.from {
        From::Pod { namespace, name } => {
            let p = pod(cluster, namespace, name)?;
            let ip = p.ip.ok_or_else(|| TraceError::PodNotRunning(p.key()))?;
            let node = p.node.clone().ok_or_else(|| TraceError::PodNotRunning(p.key()))?;
            (ip, node, Place::pod_eth0(&p.key()), p.host_network)
        }
        From::Node(name) => {
            let n = cluster.node(name).ok_or_else(|| TraceError::NoNode(name.clone()))?;
            let ip = n.internal_ip.unwrap_or(IpAddr::from([127, 0, 0, 1]));
            (ip, name.clone(), Place::Host(name.clone()), true)
        }
        From::External => {
            let node = match req.node.clone() {
                Some(n) => n,
                None => entry_node(cluster, &req.to).ok_or_else(|| TraceError::NeedsNode("external".into()))?,
            };
            // A documentation address stands for the outside client.
            (IpAddr::from([198, 51, 100, 7]), node, Place::Outside, false)
        }
        From::Ip(ip) => {
            let node = req.node.clone().ok_or_else(|| TraceError::NeedsNode(ip.to_string()))?;
            let n = cluster.node(&node).ok_or_else(|| TraceError::NoNode(node.clone()))?;
            let own = n.internal_ip == Some(*ip) || ip.is_loopback();
            (*ip, node, Place::Address(*ip), own)
        }
    };
    if cluster.node(&node).is_none() {
        return Err(TraceError::NoNode(node));
    }
    let dst_ip = match &req.to {
        To::Ip(ip) => *ip,
        To::Pod { namespace, name } => {
            let p = pod(cluster, namespace, name)?;
            p.ip.ok_or_else(|| TraceError::PodNotRunning(p.key()))?
        }
        To::Name(name) => return trace_name(cluster, req, name),
    };
    let dataplane = Dataplane::build(cluster, &node, cluster.settings.proxy_mode);
    // The plugin's plumbing, built once for the request and its reply.
    let network = datapath::build(cluster);
    let mut local = local_addresses(cluster, &node);
    local.extend(dataplane.bound_addresses().into_iter().map(IpNet::from));
    let mut rng = Rng::new(req.seed);
    let mut pkt = Packet {
        src: src_ip,
        dst: dst_ip,
        protocol: req.protocol,
        sport: 40000 + (Rng::new(req.seed ^ 0x5eed).below(20000) as u16),
        // ICMP has no ports: the echo identifier stands in the source.
        dport: if req.protocol == Protocol::Icmp { 0 } else { req.port },
        mark: 0,
        // Pods on a bridge plugin reach the node through a bridge port.
        bridged: match &req.from {
            From::Pod { namespace, name } if !host_originated => {
                network.node(&node).is_some_and(|n| n.pod_bridge(&format!("{namespace}/{name}")).is_some())
            }
            _ => false,
        },
        ipvs: None,
    };
    let mut hops = vec![Hop {
        node: Some(node.clone()),
        at: src_at,
        action: Action::Sent,
        detail: format!("first packet of a new {} connection", req.protocol.as_str()),
        rule: None,
        packet: Headers::of(&pkt),
    }];

    let mut sent = pkt.clone();
    let service = find_service(cluster, dst_ip, req.port, req.protocol, &local);
    let origin = match (&req.from, host_originated) {
        (_, true) => Origin::Host,
        (From::Pod { .. }, false) => Origin::Pod,
        _ => Origin::Outside,
    };
    let candidates = dataplane.candidates(&pkt, origin, &local);
    let mut svc_hit = ServiceHit {
        frontend: service.as_ref().map_or("none".into(), |(f, _)| f.clone()),
        name: service.as_ref().map(|(_, n)| n.clone()),
        candidates: candidates.iter().map(|(ip, port)| endpoint(*ip, *port)).collect(),
        chosen: None,
        snat: false,
    };
    let finish = |verdict: Verdict, reason: String, hops: Vec<Hop>, svc: ServiceHit, p: &Packet| Trace {
        verdict,
        reason,
        service: svc,
        destination_pod: None,
        destination_node: None,
        destination_ip: p.dst,
        destination_port: p.dport,
        hops,
        policy: None,
        conntrack: None,
        reply: Vec::new(),
        payload: None,
        dns: None,
        http: None,
        legs: Vec::new(),
    };

    // The hooks the packet meets on this node, in the kernel's order. The
    // forward/input choice is a routing decision made after the first hook,
    // on the address that hook may have rewritten.
    let mut hooks: Vec<Hook> = Vec::new();
    if origin != Origin::Outside {
        hooks.push(Hook::Connect);
    }
    hooks.push(if host_originated { Hook::Output } else { Hook::Prerouting });
    let mut steps: Vec<Step> = Vec::new();
    let mut i = 0;
    while i < hooks.len() {
        let hook = hooks[i];
        i += 1;
        steps.clear();
        if hook == Hook::Prerouting && origin == Origin::Pod {
            // Out of the pod's namespace onto its node.
            if let From::Pod { namespace, name } = &req.from {
                let key = format!("{namespace}/{name}");
                for st in network.leave_pod(&node, &key, pkt.dst) {
                    hops.push(Hop {
                        node: st.node,
                        at: st.at,
                        action: st.action,
                        detail: st.detail,
                        rule: st.rule,
                        packet: Headers::of(&pkt),
                    });
                }
            }
        }
        let before = (pkt.dst, pkt.dport);
        let verdict =
            dataplane.run(hook, &mut pkt, &mut Context { local: &local, rng: &mut rng, sets: None }, &mut steps);
        if hook == Hook::Connect && !steps.is_empty() {
            // Balanced at connect(): the first packet already carries the
            // endpoint's address; a refused connect() sends nothing at all.
            let sent_hop = hops.remove(0);
            push_steps(&mut hops, &node, &steps);
            if matches!(verdict, NfVerdict::Accept | NfVerdict::Dnat(..)) {
                hops.push(Hop { packet: Headers::of(&pkt), ..sent_hop });
            }
            sent = pkt.clone();
        } else {
            push_steps(&mut hops, &node, &steps);
        }
        match verdict {
            NfVerdict::Dnat(ip, port) if (ip, port) != before => {
                svc_hit.chosen = Some(endpoint(ip, port));
                if let Some(h) = hops.iter_mut().rev().find(|h| h.action == Action::Dnat) {
                    let picked = format!(
                        "{}: picked endpoint {} of {}",
                        dataplane.implementer(),
                        endpoint(ip, port),
                        candidates.len()
                    );
                    h.detail = if h.detail.is_empty() { picked } else { format!("{picked} — {}", h.detail) };
                }
            }
            NfVerdict::Reject | NfVerdict::Drop => {
                let rejected = verdict == NfVerdict::Reject;
                let last = steps.last().cloned();
                let place = last.as_ref().map(|s| s.at.to_string()).unwrap_or_default();
                let why = last
                    .as_ref()
                    .map(|s| if s.detail.is_empty() { s.rule.clone().unwrap_or_default() } else { s.detail.clone() })
                    .unwrap_or_default();
                if let Some(h) = hops.last_mut().filter(|h| h.action != Action::Rejected && h.action != Action::Dropped)
                {
                    h.action = if rejected { Action::Rejected } else { Action::Dropped };
                    h.detail = if rejected {
                        format!("{why}: ICMP port unreachable goes back to the client")
                    } else {
                        format!("{why}: dropped without an answer")
                    };
                }
                let v = if rejected { Verdict::Rejected } else { Verdict::Dropped };
                let what = if rejected { "rejected it" } else { "dropped it" };
                let reason = if matches!(last.as_ref().map(|s| &s.at), Some(Place::Bpf(_) | Place::Ipvs)) {
                    format!("{place}: {why}")
                } else {
                    format!("{place} rule \"{why}\" {what}")
                };
                return Ok(finish(v, reason, hops, svc_hit, &pkt));
            }
            NfVerdict::Masquerade => {
                svc_hit.snat = true;
                let dst_pod_node =
                    cluster.pods.iter().find(|p| !p.host_network && p.ip == Some(pkt.dst)).and_then(|p| p.node.clone());
                // MASQUERADE takes the address of the interface the packet
                // leaves by: the pod bridge for a pod on this node, the
                // node's address otherwise.
                let n = cluster.node(&node);
                let new_src = match dst_pod_node.as_deref() == Some(node.as_str()) {
                    true => n.and_then(|n| n.network.gateway),
                    false => n.and_then(|n| n.internal_ip),
                };
                if let Some(ip) = new_src {
                    pkt.src = ip;
                }
                if let Some(h) = hops.last_mut() {
                    h.action = Action::Snat;
                    h.detail = format!("masqueraded: the source becomes {}", pkt.src);
                    h.packet.src = pkt.src;
                }
            }
            _ => {}
        }
        // The routing decision after the first hook: the host's route for
        // the (maybe rewritten) destination.
        if matches!(hook, Hook::Prerouting | Hook::Output) && !local.iter().any(|n| n.contains(&pkt.dst)) {
            if let Some(r) = network.node(&node).and_then(|n| n.host.lookup(pkt.dst)) {
                let ttl = hops.last().map_or(64, |h| h.packet.ttl);
                let step = network.forwarding_step(&node, r, pkt.dst);
                let routed = origin != Origin::Host && step.routed;
                let ttl = if routed { ttl.saturating_sub(1) } else { ttl };
                let detail = if r.blackhole { format!("to {} via blackhole", pkt.dst) } else { step.detail };
                hops.push(Hop {
                    node: Some(node.clone()),
                    at: step.at,
                    action: step.action,
                    detail,
                    rule: step.rule,
                    packet: Headers { ttl, ..Headers::of(&pkt) },
                });
            }
        }
        if matches!(hook, Hook::Prerouting | Hook::Output) {
            let to_local = local.iter().any(|n| n.contains(&pkt.dst));
            match (host_originated, to_local) {
                (true, _) => hooks.push(Hook::Postrouting),
                (false, true) => hooks.push(Hook::Input),
                (false, false) => hooks.extend([Hook::Forward, Hook::Postrouting]),
            }
        }
        // Input may hand the packet on (IPVS rewrites it there); it then
        // leaves through the node's output path.
        if hook == Hook::Input && !local.iter().any(|n| n.contains(&pkt.dst)) {
            hooks.push(Hook::Postrouting);
        }
    }
    // Delivery: the policy on the client's side, the plugin's datapath
    // from this node to the destination, the policy on the server's side.
    let mut t = finish(Verdict::Delivered, String::new(), hops, svc_hit, &pkt);
    let engine = Engine::new(cluster);
    let client = if origin == Origin::Pod { engine.end_of(sent.src) } else { End::Ip(sent.src) };
    let server = engine.end_of(pkt.dst);
    let cni = cluster.settings.cni;
    let decision = (matches!(client, End::Pod(_)) || matches!(server, End::Pod(_))).then(|| {
        engine.check_as(
            client,
            engine.end_of(pkt.src),
            server,
            pkt.dport,
            Some(req.protocol).filter(|p| *p != Protocol::Icmp),
        )
    });
    let policy_hop = |egress: bool, on: Option<String>, d: &Decision, at_pkt: &Packet, ttl: u8| -> Option<Hop> {
        let side = if egress { &d.egress } else { &d.ingress };
        if side.verdict == SideVerdict::NotIsolated || d.loopback {
            return None;
        }
        let selecting = match (egress, client, server) {
            (true, End::Pod(p), _) | (false, _, End::Pod(p)) => cluster.network_policies.iter().any(|np| np.selects(p)),
            _ => false,
        };
        if side.verdict == SideVerdict::NotEnforced && !selecting {
            return None;
        }
        let mut detail = side.explanation.clone();
        if !side.reasons.is_empty() {
            detail = format!("{detail}: {}", side.reasons.join(" | "));
        }
        Some(Hop {
            node: on,
            at: crate::datapath::plugin(cni).policy_place(egress),
            action: match side.verdict {
                SideVerdict::Deny => Action::PolicyDenied,
                SideVerdict::Allow => Action::PolicyAllowed,
                _ => Action::PolicyNotEnforced,
            },
            detail,
            rule: side.rule.clone(),
            packet: Headers { ttl, ..Headers::of(at_pkt) },
        })
    };
    let mut ttl = t.hops.last().map_or(64, |h| h.packet.ttl);
    if let Some(d) = &decision {
        if let Some(h) = policy_hop(true, Some(node.clone()), d, &sent_after_nat(&sent, &pkt), ttl) {
            let denied = h.action == Action::PolicyDenied;
            t.hops.push(h);
            if denied {
                t.verdict = Verdict::Dropped;
                t.reason = format!("NetworkPolicy: {}", d.egress.explanation);
                t.policy = decision.clone();
                return Ok(t);
            }
        }
    }
    let (steps, arrival) = network.carry(cluster, &node, pkt.src, pkt.dst, (pkt.sport, pkt.dport));
    let mut outer: Option<crate::packet::Outer> = None;
    // The routing decision was shown where the kernel makes it.
    let already_routed = t.hops.iter().any(|h| h.at.is_forwarding() && h.node.as_deref() == Some(node.as_str()));
    for s in steps {
        if already_routed
            && s.at.is_forwarding()
            && s.node.as_deref() == Some(node.as_str())
            && matches!(s.action, Action::Routed | Action::Bridged)
        {
            continue;
        }
        if s.routed {
            ttl = ttl.saturating_sub(1);
        }
        outer = s.tunnel.apply(outer);
        t.hops.push(Hop {
            node: s.node.clone(),
            at: s.at.clone(),
            action: s.action,
            detail: s.detail.clone(),
            rule: s.rule.clone(),
            packet: Headers { ttl, outer: outer.clone(), ..Headers::of(&pkt) },
        });
    }
    t.policy = decision.clone();
    match arrival {
        datapath::Arrival::Pod { key, node: on } => {
            if let Some(d) = &decision {
                if let Some(h) = policy_hop(false, Some(on.clone()), d, &pkt, ttl) {
                    let denied = h.action == Action::PolicyDenied;
                    t.hops.push(h);
                    if denied {
                        t.verdict = Verdict::Dropped;
                        t.reason = format!("NetworkPolicy: {}", d.ingress.explanation);
                        t.destination_pod = Some(key);
                        t.destination_node = Some(on);
                        return Ok(t);
                    }
                }
            }
            t.reason = match &t.service.name {
                Some(s) => {
                    format!("{s} sent it to endpoint {}, pod {key}", t.service.chosen.clone().unwrap_or_default())
                }
                None => format!("delivered to pod {key}"),
            };
            t.hops.push(Hop {
                node: Some(on.clone()),
                at: Place::pod_eth0(&key),
                action: Action::Delivered,
                detail: format!("{} receives it", key),
                rule: None,
                packet: Headers { ttl, ..Headers::of(&pkt) },
            });
            t.destination_pod = Some(key);
            t.destination_node = Some(on);
        }
        datapath::Arrival::Node(n) => {
            t.reason = match (&t.service.name, &t.service.chosen) {
                (Some(s), Some(ep)) => format!("{s} sent it to endpoint {ep}, on node {n} itself"),
                _ => format!("delivered to node {n}"),
            };
            t.hops.push(Hop {
                node: Some(n.clone()),
                at: Place::Host(n.clone()),
                action: Action::Delivered,
                detail: "addressed to the node itself".into(),
                rule: None,
                packet: Headers { ttl, ..Headers::of(&pkt) },
            });
            t.destination_node = Some(n);
        }
        datapath::Arrival::NoRoute(n) => {
            t.verdict = Verdict::Unreachable;
            t.reason = match &service {
                Some((frontend, name)) if t.service.chosen.is_none() => {
                    format!("{frontend} {name}: no rule on {node} handles this address and port")
                }
                _ => format!("{n} has no route to {}", pkt.dst),
            };
            return Ok(t);
        }
        datapath::Arrival::Outside(n) => {
            // A ClusterIP is only a rule: what the proxy did not rewrite
            // (another protocol, another port) goes nowhere.
            if cluster.settings.service_cidr.contains(&pkt.dst) && t.service.chosen.is_none() {
                t.verdict = Verdict::Unreachable;
                t.reason = format!(
                    "{} is a Service address: the proxy rewrites only the Service's own ports and protocols, so this {} packet has nowhere to go (no host has that address)",
                    pkt.dst,
                    req.protocol.as_str()
                );
                return Ok(t);
            }
            if let Some((frontend, name)) = &service {
                if t.service.chosen.is_none() {
                    t.verdict = Verdict::Unreachable;
                    t.reason = format!("{frontend} {name}: no rule on {node} handles this address and port");
                    return Ok(t);
                }
            }
            // Pod traffic leaving the cluster is masqueraded by the plugin.
            if origin == Origin::Pod && !cluster.settings.cluster_cidr.contains(&pkt.dst) {
                if let Some(ip) = cluster.node(&n).and_then(|nd| nd.internal_ip) {
                    pkt.src = ip;
                    // Rewritten in POSTROUTING, before the packet leaves.
                    let at = t.hops.len().saturating_sub(1);
                    t.hops.insert(
                        at,
                        Hop {
                            node: Some(n.clone()),
                            at: Place::Chain {
                                table: "nat".into(),
                                chain: "POSTROUTING".into(),
                                note: Some("the CNI's masquerade".into()),
                            },
                            action: Action::Snat,
                            detail: format!(
                                "{cni} masquerades pod traffic leaving the cluster: the source becomes {ip}"
                            ),
                            rule: None,
                            packet: Headers { ttl, ..Headers::of(&pkt) },
                        },
                    );
                    if let Some(last) = t.hops.last_mut() {
                        last.packet.src = ip;
                    }
                }
            }
            t.reason = format!("left the cluster from node {n} towards {}", pkt.dst);
            t.destination_node = None;
        }
    }
    if t.verdict == Verdict::Delivered {
        let entry = Conntrack::new(&sent, &pkt);
        let (_, _, vip, vport) = entry.original;
        let place =
            dataplane.reverse_nat(vip, vport, entry.protocol).unwrap_or_else(|| (Place::Conntrack, entry.to_string()));
        t.reply = reply_hops(cluster, &network, &t, &entry, &node, place);
        t.conntrack = Some(entry);
    }
    Ok(t)
}

/// The conntrack entry a connection's first packet creates on the node
/// that handled it: the tuple as sent, and the tuple the reply will carry
/// (after the DNAT and SNAT, reversed). The reply is matched against the
/// second and un-NATed back to the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conntrack {
    pub protocol: Protocol,
    pub original: (IpAddr, u16, IpAddr, u16),
    pub reply: (IpAddr, u16, IpAddr, u16),
}

impl Conntrack {
    fn new(sent: &Packet, now: &Packet) -> Conntrack {
        Conntrack {
            protocol: sent.protocol,
            original: (sent.src, sent.sport, sent.dst, sent.dport),
            reply: (now.dst, now.dport, now.src, now.sport),
        }
    }

    /// Whether the connection's addresses were rewritten at all.
    pub fn nat(&self) -> bool {
        let (s, sp, d, dp) = self.original;
        self.reply != (d, dp, s, sp)
    }
}

/// As `conntrack -L` prints the entry right after the first packet: TCP in
/// SYN_SENT for 120 s, UDP and ICMP unreplied for 30 s, SCTP in
/// COOKIE_WAIT for 3 s (the kernel's default timeouts).
impl std::fmt::Display for Conntrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (timeout, state) = match self.protocol {
            Protocol::Tcp => (120, "SYN_SENT "),
            Protocol::Udp => (30, ""),
            Protocol::Sctp => (3, "COOKIE_WAIT "),
            Protocol::Icmp => (30, ""),
        };
        let num = self.protocol.number();
        let tuple = |(s, sp, d, dp): (IpAddr, u16, IpAddr, u16)| {
            if self.protocol == Protocol::Icmp {
                format!("src={s} dst={d} type=8 code=0 id={sp}")
            } else {
                format!("src={s} dst={d} sport={sp} dport={dp}")
            }
        };
        let mut reply = tuple(self.reply);
        if self.protocol == Protocol::Icmp {
            reply = reply.replace("type=8", "type=0");
        }
        write!(
            f,
            "{:<8} {num} {timeout} {state}{} [UNREPLIED] {} mark=0 use=1",
            self.protocol.name(),
            tuple(self.original),
            reply
        )
    }
}

/// The first reply, back to the client: sent by the destination with the
/// addresses the request arrived with, un-NATed by conntrack on the node
/// that rewrote the request.
/// Appends datapath steps as hops for a packet with these headers,
/// decrementing the TTL at router hops and tracking the tunnel.
fn push_datapath(hops: &mut Vec<Hop>, steps: Vec<Step>, h: &Headers, ttl: &mut u8) {
    let mut outer: Option<crate::packet::Outer> = None;
    for s in steps {
        if s.routed {
            *ttl = ttl.saturating_sub(1);
        }
        outer = s.tunnel.apply(outer);
        hops.push(Hop {
            node: s.node.clone(),
            at: s.at.clone(),
            action: s.action,
            detail: s.detail.clone(),
            rule: s.rule.clone(),
            packet: Headers { ttl: *ttl, outer: outer.clone(), ..h.clone() },
        });
    }
}

/// The first reply's way back, through the datapath: from the server to
/// the node whose conntrack entry rewrote the request, un-NATed there,
/// then on to the client.
fn reply_hops(
    cluster: &Cluster,
    network: &datapath::Network,
    t: &Trace,
    ct: &Conntrack,
    nat_node: &str,
    (at, line): (Place, String),
) -> Vec<Hop> {
    let (rs, rsp, rd, rdp) = ct.reply;
    let (os, osp, od, odp) = ct.original;
    let proto = ct.protocol;
    let mut h = Headers { src: rs, sport: rsp, dst: rd, dport: rdp, protocol: proto, ttl: 64, outer: None };
    let mut ttl = 64u8;
    let server_node = t.destination_node.clone().unwrap_or_else(|| nat_node.to_owned());
    let mut hops = Vec::new();
    match &t.destination_pod {
        Some(key) => {
            hops.push(Hop {
                node: Some(server_node.clone()),
                at: Place::pod_eth0(key),
                action: Action::Sent,
                detail: "the reply, addressed to where the request came from".into(),
                rule: None,
                packet: h.clone(),
            });
            let steps = network.leave_pod(&server_node, key, rd);
            push_datapath(&mut hops, steps, &h, &mut ttl);
        }
        None => hops.push(Hop {
            node: Some(server_node.clone()),
            at: Place::Host(server_node.clone()),
            action: Action::Sent,
            detail: "the reply, addressed to where the request came from".into(),
            rule: None,
            packet: h.clone(),
        }),
    }
    let un_nat = |ttl: u8| {
        let mut what = Vec::new();
        if (rs, rsp) != (od, odp) {
            what.push(format!("source {} back to {}", endpoint(rs, rsp), endpoint(od, odp)));
        }
        if (rd, rdp) != (os, osp) {
            what.push(format!("destination {} back to {}", endpoint(rd, rdp), endpoint(os, osp)));
        }
        Hop {
            node: Some(nat_node.to_owned()),
            at: at.clone(),
            action: Action::UnNat,
            detail: format!("the reply matches the connection's entry: {}", what.join(", ")),
            rule: Some(line.clone()),
            packet: Headers { src: od, sport: odp, dst: os, dport: osp, protocol: proto, ttl, outer: None },
        }
    };
    // To the NAT node (or, without NAT, straight to the client).
    let (mut steps, mut arrival) = if server_node == nat_node && ct.nat() {
        (Vec::new(), datapath::Arrival::Node(nat_node.to_owned()))
    } else {
        network.carry(cluster, &server_node, rs, rd, (rsp, rdp))
    };
    if ct.nat() {
        // Conntrack acts as the reply enters the NAT node's stack: after
        // the tunnel is taken off, before that node routes it (again, for
        // the client's address).
        let cut = steps
            .iter()
            .position(|s| {
                s.node.as_deref() == Some(nat_node)
                    && (s.at == Place::Routing
                        || matches!(s.action, Action::Sent | Action::Bridged | Action::Forwarded))
            })
            .unwrap_or(steps.len());
        steps.truncate(cut);
        push_datapath(&mut hops, steps, &h, &mut ttl);
        hops.push(un_nat(ttl));
        h = Headers { src: od, sport: odp, dst: os, dport: osp, protocol: proto, ttl, outer: None };
        (steps, arrival) = network.carry(cluster, nat_node, od, os, (odp, osp));
    }
    push_datapath(&mut hops, steps, &h, &mut ttl);
    let first = t.hops.iter().find(|x| x.action == Action::Sent).unwrap_or(&t.hops[0]);
    let (node, place) = match arrival {
        datapath::Arrival::Pod { key, node } => (Some(node), Place::pod_eth0(&key)),
        _ => (first.node.clone(), first.at.clone()),
    };
    let socket_lb =
        t.hops.iter().any(|x| x.at == Place::Bpf(crate::proxy::ebpf::SOCKET_LB.into()) && x.action == Action::Dnat);
    hops.push(Hop {
        node,
        at: place,
        action: Action::Delivered,
        detail: if socket_lb {
            "the packet comes from the backend; the socket layer reports the Service's address to the application \
             (Cilium's reverse translation at recvmsg/getpeername)"
                .into()
        } else {
            "the client sees the reply come from the address it sent to".into()
        },
        rule: None,
        packet: Headers { src: od, sport: odp, dst: os, dport: osp, protocol: proto, ttl, outer: None },
    });
    hops
}

/// The node an outside packet reaches: the one that owns the address; for
/// a load-balancer address, the node announcing it (MetalLB in L2 mode
/// announces from a node with a local endpoint when the policy is Local);
/// otherwise the first worker.
fn entry_node(cluster: &Cluster, to: &To) -> Option<String> {
    let first_worker =
        || cluster.nodes.iter().find(|n| !n.is_control_plane()).or(cluster.nodes.first()).map(|n| n.name.clone());
    let To::Ip(ip) = to else { return first_worker() };
    if let Some(n) = cluster.nodes.iter().find(|n| n.internal_ip == Some(*ip) || n.external_ip == Some(*ip)) {
        return Some(n.name.clone());
    }
    let lb = cluster.services.iter().find(|s| s.load_balancer_ips.contains(ip));
    if let Some(svc) = lb.filter(|s| s.external_traffic_policy == crate::cluster::TrafficPolicy::Local) {
        let local = cluster
            .slices_of(svc)
            .flat_map(|s| s.endpoints.iter())
            .find(|e| e.is_ready())
            .and_then(|e| e.node_name.clone());
        if local.is_some() {
            return local;
        }
    }
    first_worker()
}

fn endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// The packet as the client's node sends it on: the proxy's DNAT done, its
/// SNAT not yet (egress policy sees the client's own address).
fn sent_after_nat(sent: &Packet, now: &Packet) -> Packet {
    Packet { src: sent.src, sport: sent.sport, ..now.clone() }
}

fn push_steps(hops: &mut Vec<Hop>, node: &str, steps: &[Step]) {
    let ttl = hops.last().map_or(64, |h| h.packet.ttl);
    for s in steps {
        let p = s.packet.as_ref().expect("a service proxy's step carries the packet");
        hops.push(Hop {
            node: Some(node.to_owned()),
            at: s.at.clone(),
            action: s.action,
            detail: s.detail.clone(),
            rule: s.rule.clone(),
            packet: Headers { ttl, ..Headers::of(p) },
        });
    }
}

/// Which Service frontend an address and port is, if any.
fn find_service(
    cluster: &Cluster,
    ip: IpAddr,
    port: u16,
    protocol: Protocol,
    local: &[IpNet],
) -> Option<(String, String)> {
    for s in &cluster.services {
        for p in &s.ports {
            if p.protocol != protocol {
                continue;
            }
            if s.cluster_ip == ClusterIp::Ip(ip) && p.port == port {
                return Some(("ClusterIP".into(), s.key()));
            }
            if s.external_ips.contains(&ip) && p.port == port {
                return Some(("ExternalIP".into(), s.key()));
            }
            if s.load_balancer_ips.contains(&ip) && p.port == port && s.type_ == ServiceType::LoadBalancer {
                return Some(("LoadBalancer".into(), s.key()));
            }
            if p.node_port == Some(port) && local.iter().any(|n| n.contains(&ip)) {
                return Some(("NodePort".into(), s.key()));
            }
        }
    }
    None
}
