//! The contract's JSON shapes (`-o json`) of a trace and of a lookup: the
//! core's types, named as the CLI contract (`cli.md`) names them.

use std::net::{IpAddr, SocketAddr};

use podpath_core::dns::{Record, Response};
use podpath_core::policy::Side;
use podpath_core::trace::{Hop, Resolution, Trace};
use serde_json::{json, Value};

/// A trace: verdict, service, destination, policy, hops, conntrack, the
/// reply, and the DNS and HTTP legs where there were any.
pub fn trace(t: &Trace) -> Value {
    json!({
        "verdict": t.verdict.as_str(),
        "reason": t.reason,
        "service": {
            "frontend": t.service.frontend,
            "name": t.service.name,
            "candidates": t.service.candidates,
            "chosen": t.service.chosen,
            "snat": t.service.snat,
        },
        "destination": {
            "pod": t.destination_pod,
            "node": t.destination_node,
            "ip": t.destination_ip.to_string(),
            "port": t.destination_port,
        },
        "policy": policy(t),
        "hops": t.hops.iter().map(hop).collect::<Vec<_>>(),
        "conntrack": t.conntrack.as_ref().map(ToString::to_string),
        "reply": t.reply.iter().map(hop).collect::<Vec<_>>(),
        "dns": t.dns.as_deref().map(resolution),
        "http": t.http.as_ref().map(|h| json!({
            "status": h.status,
            "backend": h.backend,
            "ingress": h.ingress,
            "controller": h.controller,
            "rule": h.rule,
            "location": h.location,
            "gateway": h.gateway,
            "route": h.route,
            "also": h.also,
            "reason": h.reason,
            "request": h.request,
            "response": h.response,
            "upstream_request": h.upstream_request,
        })),
    })
}

fn hop(h: &Hop) -> Value {
    let p = &h.packet;
    json!({
        "node": h.node,
        "at": h.at.to_string(),
        "action": h.action.as_str(),
        "detail": h.detail,
        "rule": h.rule,
        "packet": {
            "src": hostport(p.src, p.sport),
            "dst": hostport(p.dst, p.dport),
            "protocol": p.protocol.name(),
            "ttl": p.ttl,
            "outer": p.outer.as_ref().map(|o| json!({
                "src": o.src.to_string(),
                "dst": o.dst.to_string(),
                "encap": o.encap.name(),
            })),
        },
    })
}

/// `10.0.0.1:80`, `[fd00::1]:80`.
fn hostport(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string()
}

/// Each side's verdict and the policies behind it (`not-isolated` where
/// no pod is involved).
fn policy(t: &Trace) -> Value {
    let side = |s: Option<&Side>| match s {
        Some(s) => json!({
            "verdict": s.verdict.as_str(),
            "by": s.by,
            "rule": s.rule,
            "explanation": s.explanation,
            "reasons": s.reasons,
        }),
        None => json!({"verdict": "not-isolated", "by": []}),
    };
    json!({
        "egress": side(t.policy.as_ref().map(|d| &d.egress)),
        "ingress": side(t.policy.as_ref().map(|d| &d.ingress)),
    })
}

/// A lookup as `podpath dns -o json` prints it, plus each query's fate on
/// the wire.
pub fn resolution(r: &Resolution) -> Value {
    let last = r.lookup.last();
    let section = |f: fn(&Response) -> &Vec<Record>| {
        last.map(|l| f(l).iter().map(record).collect::<Vec<_>>()).unwrap_or_default()
    };
    let wires = r.wires.iter().map(Some).chain(std::iter::repeat(None));
    let queries: Vec<Value> = r
        .lookup
        .attempts
        .iter()
        .zip(wires)
        .map(|(a, w)| {
            json!({
                "name": a.name,
                "server": a.server.map(|s| s.to_string()),
                "rcode": a.response.as_ref().map(|x| x.rcode.as_str()),
                "answered_by": a.response.as_ref().map(|x| x.by.clone()),
                "verdict": w.map(|w| w.verdict.as_str()),
                "server_pod": w.and_then(|w| w.destination_pod.clone()),
            })
        })
        .collect();
    json!({
        "name": r.name,
        "tried": r.lookup.attempts.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
        "rcode": if r.lookup.timed_out() { "TIMEOUT" } else { last.map_or("SERVFAIL", |l| l.rcode.as_str()) },
        "answers": section(|l| &l.answers),
        "authority": section(|l| &l.authority),
        "additional": section(|l| &l.additional),
        "resolv_conf": r.conf.render(),
        "queries": queries,
    })
}

fn record(r: &Record) -> Value {
    json!({"name": r.name, "type": r.rtype.name(), "ttl": r.ttl, "data": r.data})
}
