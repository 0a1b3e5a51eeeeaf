//! Kubernetes NetworkPolicies as Felix writes them: `NS/knp.default.NAME`
//! in the default tier, one `cali-pi-`/`cali-po-` chain each (named after
//! the hash of `default/NS/knp.default.NAME`), a rule per peer and
//! protocol of each of its rules, each setting the accept mark, the first
//! carrying the policy's name; a policy without rules one comment-only
//! rule (so it allows nothing).

use std::collections::BTreeMap;

use super::felix::{chain_name, push_chain, Felix, FelixRule, ACCEPT};
use super::selectors::{named_port_set, net_set, peer_selector, selector_set};
use crate::cluster::policy::{Peer, PortMatch, Rule as PolicyRule};
use crate::cluster::{Cluster, NetworkPolicy, Pod, Protocol};

/// The NetworkPolicies that select `p` in a direction, in the order of
/// the default tier (all of order 1000, then by name).
pub(super) fn applying<'a>(cluster: &'a Cluster, p: &Pod, egress: bool) -> Vec<&'a NetworkPolicy> {
    let dir = if egress { "Egress" } else { "Ingress" };
    let mut v: Vec<&NetworkPolicy> = cluster
        .network_policies
        .iter()
        .filter(|np| np.namespace == p.namespace && np.policy_types.iter().any(|t| t == dir))
        .filter(|np| np.pod_selector.matches(&p.labels))
        .collect();
    crate::order::sort_by_key(&mut v, |np| felix_name(np));
    v
}

/// The policy's name in Felix: `NS/knp.default.NAME`.
fn felix_name(np: &NetworkPolicy) -> String {
    format!("{}/knp.default.{}", np.namespace, np.name)
}

/// A policy's `cali-pi-`/`cali-po-` chain (written once), and its name.
pub(super) fn policy_chain(cluster: &Cluster, f: &mut Felix, np: &NetworkPolicy, egress: bool) -> String {
    let (pre, dir) = if egress { ("cali-po-", "egress") } else { ("cali-pi-", "ingress") };
    let name = felix_name(np);
    let chain = chain_name(pre, &format!("default/{name}"));
    if f.table.chains.iter().any(|c| c.name == chain) {
        return chain;
    }
    let rules = if egress { &np.egress } else { &np.ingress };
    let specs = if egress {
        np.spec.egress.as_deref().unwrap_or_default().iter().map(|r| r.to.as_deref()).collect::<Vec<_>>()
    } else {
        np.spec.ingress.as_deref().unwrap_or_default().iter().map(|r| r.from.as_deref()).collect()
    };
    let mut out: Vec<FelixRule> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let raw = specs.get(i).copied().flatten().unwrap_or_default();
        for r in calico_rules(cluster, f, np, rule, raw, egress) {
            if !out.is_empty() {
                out.push(FelixRule::new().mark_set(ACCEPT).ret());
            }
            out.push(r);
        }
    }
    let first = format!("Policy {name} {dir}");
    match out.first_mut() {
        Some(r) => r.comments.insert(0, first),
        None => out.push(FelixRule::new().comment(&first)),
    }
    push_chain(&mut f.table, &chain, out);
    chain
}

/// A rule's ports of one protocol: numbers and ranges, names, or all.
struct Ports {
    protocol: Protocol,
    numbers: Vec<(u16, u16)>,
    named: Vec<String>,
    all: bool,
}

/// One NetworkPolicy rule as Felix's rules: one per peer (or one for any
/// peer) and per protocol of its ports, each setting the accept mark.
fn calico_rules(
    cluster: &Cluster,
    f: &mut Felix,
    np: &NetworkPolicy,
    rule: &PolicyRule,
    raw: &[k8s_openapi::api::networking::v1::NetworkPolicyPeer],
    egress: bool,
) -> Vec<FelixRule> {
    let side = if egress { "dst" } else { "src" };
    let peers: Vec<Option<(usize, &Peer)>> =
        if rule.peers.is_empty() { vec![None] } else { rule.peers.iter().enumerate().map(Some).collect() };
    let mut by_proto: BTreeMap<&str, Ports> = BTreeMap::new();
    for p in &rule.ports {
        let e = by_proto.entry(p.protocol.name()).or_insert(Ports {
            protocol: p.protocol,
            numbers: Vec::new(),
            named: Vec::new(),
            all: false,
        });
        match &p.port {
            PortMatch::All => e.all = true,
            PortMatch::Number { port, end } => e.numbers.push((*port, end.unwrap_or(*port))),
            PortMatch::Named(n) => e.named.push(n.clone()),
        }
    }
    let mut out = Vec::new();
    for peer in peers {
        // The peer as matches: a selector's set, or a CIDR and its exceptions' set.
        let (selector, cidr, except) = match peer {
            None => (None, None, None),
            Some((i, Peer::Pods { .. })) => {
                let raw_peer = raw.get(i);
                let sel = peer_selector(
                    &np.namespace,
                    raw_peer.and_then(|p| p.pod_selector.as_ref()),
                    raw_peer.and_then(|p| p.namespace_selector.as_ref()),
                );
                (Some(selector_set(cluster, &mut f.sets, &sel)), None, None)
            }
            Some((_, Peer::IpBlock(b))) => {
                let except = (!b.except.is_empty()).then(|| net_set(&mut f.sets, &b.except));
                (None, Some(b.cidr), except)
            }
        };
        let base = || {
            let mut r = FelixRule::new();
            if let Some(net) = cidr {
                r = r.net(net, !egress);
            }
            if let Some(set) = &selector {
                r = r.set(set, side, false);
            }
            if let Some(set) = &except {
                r = r.set(set, side, true);
            }
            r
        };
        if by_proto.is_empty() {
            out.push(base().set_mark(ACCEPT));
            continue;
        }
        for Ports { protocol: proto, numbers, named, all } in by_proto.values() {
            let with_proto = |r: FelixRule| r.proto(*proto);
            if *all {
                out.push(with_proto(base()).set_mark(ACCEPT));
                continue;
            }
            if !numbers.is_empty() {
                out.push(with_proto(base()).dports(numbers.clone()).set_mark(ACCEPT));
            }
            for n in named {
                let set = named_port_set(cluster, &mut f.sets, np, n, *proto, egress);
                out.push(with_proto(base()).set(&set, "dst,dst", false).set_mark(ACCEPT));
            }
        }
    }
    out
}
