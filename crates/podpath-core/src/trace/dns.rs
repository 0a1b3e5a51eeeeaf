//! The name lookup a trace to a name starts with: the source's resolver
//! (its resolv.conf, glibc's search order), each query a UDP packet traced
//! to the name server through the cluster — so the service proxy picks a
//! CoreDNS pod and NetworkPolicy may drop the query — and the answer
//! CoreDNS's configuration gives.

use std::net::IpAddr;

use super::{pod, trace, From, Payload, Request, ServiceHit, To, Trace, TraceError, Verdict};
use crate::cluster::{Cluster, Protocol};
use crate::dns;

/// A name resolved by the source the way its resolver does it, each query
/// a UDP exchange with the name server through the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Resolution {
    pub name: String,
    pub conf: dns::resolver::ResolvConf,
    pub lookup: dns::resolver::Lookup,
    /// The way of each query, in the order of `lookup.attempts`.
    pub wires: Vec<Trace>,
}

impl Resolution {
    /// What a ClusterFirst pod of `namespace` would be told: its
    /// resolv.conf, each query answered by the cluster's CoreDNS (not
    /// carried over the network, so no wire to show).
    pub fn cluster_first(cluster: &Cluster, namespace: &str, name: &str, qtype: dns::RType) -> Resolution {
        let conf = dns::resolver::cluster_first(cluster, namespace);
        let server = dns::Dns::of(cluster);
        let lookup = dns::resolver::lookup(&conf, name, qtype, |_, q| Some(server.answer(cluster, q, qtype)));
        Resolution { name: name.to_owned(), conf, lookup, wires: Vec::new() }
    }

    /// The lookup as people read it: each query, then dig's answer.
    pub fn report(&self, seed: u64) -> dns::show::Report<'_> {
        dns::show::Report { lookup: &self.lookup, why: self.wires.iter().map(|w| w.reason.clone()).collect(), seed }
    }

    /// The first address the answer gives.
    pub fn address(&self) -> Option<IpAddr> {
        let r = self.lookup.answer()?;
        r.answers.iter().find(|a| matches!(a.rtype, dns::RType::A | dns::RType::Aaaa)).and_then(|a| a.data.parse().ok())
    }
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
        let id = dns::wire::query_id(qname, q.seed);
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

/// A name destination: the lookup, then the connection to its address.
pub(super) fn trace_name(cluster: &Cluster, req: &Request, name: &str) -> Result<Trace, TraceError> {
    let res = resolve(cluster, req, name, dns::RType::A)?;
    if let Some(ip) = res.address() {
        let mut t = super::engine::trace_ip(cluster, &Request { to: To::Ip(ip), ..req.clone() })?;
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
