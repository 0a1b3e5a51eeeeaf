//! Policy mistakes worth a warning: a policy that selects no pod, a rule
//! that can never match anything in the cluster, a default-deny egress
//! that also cuts the pods off from DNS, and policies that overlap.

use super::{End, Engine};
use crate::cluster::policy::{NetworkPolicy, Peer, PortMatch, Rule};
use crate::cluster::{ClusterIp, Pod, Protocol};
use crate::diag::Diagnostic;

/// The warnings for the cluster's policies.
pub fn lint(engine: &Engine<'_>) -> Vec<Diagnostic> {
    let cluster = engine.cluster;
    let mut out = Vec::new();
    if let (false, Some(first)) = (engine.enforcement.enforced, cluster.network_policies.first()) {
        out.push(Diagnostic::warning(
            first.origin.clone(),
            format!(
                "{} NetworkPolic{} in the input, and {} does not enforce NetworkPolicy: every connection is allowed whatever they say",
                cluster.network_policies.len(),
                if cluster.network_policies.len() == 1 { "y" } else { "ies" },
                engine.enforcement.cni
            ),
        ));
    }
    let mut seen: std::collections::BTreeMap<(Vec<String>, Vec<String>), String> = Default::default();
    for np in &cluster.network_policies {
        if !engine.applies(np) {
            out.push(Diagnostic::warning(
                np.origin.clone(),
                format!(
                    "networkpolicy {}: names a container port, which {} cannot program; the policy is not applied",
                    np.key(),
                    engine.enforcement.cni
                ),
            ));
        }
        let selected: Vec<&Pod> = cluster.pods.iter().filter(|p| np.selects(p)).collect();
        for (dir, rules) in [("ingress", &np.ingress), ("egress", &np.egress)] {
            for (r, rule) in rules.iter().enumerate() {
                empty_peers(engine, np, dir, r, rule, &mut out);
                missing_named_ports(engine, np, &selected, dir, r, rule, &mut out);
            }
        }
        forgotten_dns(engine, np, &selected, &mut out);
        // Overlap: another policy selecting the very same pods the same way.
        if !selected.is_empty() {
            let key = (np.policy_types.clone(), selected.iter().map(|p| p.key()).collect::<Vec<_>>());
            match seen.get(&key) {
                Some(other) => out.push(Diagnostic::warning(
                    np.origin.clone(),
                    format!(
                        "networkpolicy {}: selects the same pods as {other} for the same directions; their rules add up (policies are a union)",
                        np.key()
                    ),
                )
                .at_field("spec.podSelector")),
                None => {
                    seen.insert(key, np.key());
                }
            }
        }
    }
    out
}

/// Peers of a rule that match no pod: they admit nothing.
fn empty_peers(engine: &Engine<'_>, np: &NetworkPolicy, dir: &str, r: usize, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let cluster = engine.cluster;
    for (k, peer) in rule.peers.iter().enumerate() {
        let Peer::Pods { pods, namespaces } = peer else { continue };
        let any = cluster.pods.iter().filter(|p| !p.host_network).any(|p| {
            let ns_ok = match namespaces {
                None => p.namespace == np.namespace,
                Some(n) => n.matches(engine.ns_labels(&p.namespace)),
            };
            ns_ok && pods.as_ref().is_none_or(|s| s.matches(&p.labels))
        });
        if !any {
            let field = if dir == "ingress" { "from" } else { "to" };
            out.push(Diagnostic::warning(
                np.origin.clone(),
                format!(
                    "networkpolicy {}: spec.{dir}[{r}].{field}[{k}] ({}) matches no pod in the cluster; the peer admits nothing",
                    np.key(),
                    super::peer_text(peer)
                ),
            )
            .at_field(format!("spec.{dir}[{r}].{field}[{k}]")));
        }
    }
}

/// Named ports no pod has: ingress names the selected pods' ports, egress
/// the peers'.
fn missing_named_ports(
    engine: &Engine<'_>,
    np: &NetworkPolicy,
    selected: &[&Pod],
    dir: &str,
    r: usize,
    rule: &Rule,
    out: &mut Vec<Diagnostic>,
) {
    for (k, p) in rule.ports.iter().enumerate() {
        let PortMatch::Named(name) = &p.port else { continue };
        let holders: Vec<&Pod> = if dir == "ingress" {
            selected.to_vec()
        } else {
            engine.cluster.pods.iter().filter(|p| !p.host_network).collect()
        };
        if !selected.is_empty() && !holders.iter().any(|pod| super::named_port(pod, name, p.protocol).is_some()) {
            out.push(Diagnostic::warning(
                np.origin.clone(),
                format!(
                    "networkpolicy {}: spec.{dir}[{r}].ports[{k}]: no {} has a container port named {name} ({}); the port matches nothing",
                    np.key(),
                    if dir == "ingress" { "selected pod" } else { "pod" },
                    p.protocol.as_str()
                ),
            ));
        }
    }
}

/// The classic: egress isolation that forgets DNS.
fn forgotten_dns(engine: &Engine<'_>, np: &NetworkPolicy, selected: &[&Pod], out: &mut Vec<Diagnostic>) {
    let cluster = engine.cluster;
    let kube_dns = cluster.service("kube-system", "kube-dns");
    let dns_pods: Vec<_> = kube_dns
        .into_iter()
        .flat_map(|svc| cluster.slices_of(svc))
        .flat_map(|s| s.endpoints.iter())
        .filter_map(|e| e.addresses.first().copied())
        .collect();
    if !np.isolates_egress() || selected.is_empty() || dns_pods.is_empty() {
        return;
    }
    let pod = selected[0];
    let blocked = dns_pods.iter().all(|ip| {
        let d = engine.check(End::Pod(pod), engine.end_of(*ip), 53, Protocol::Udp);
        !d.egress.verdict.passes()
    });
    if blocked && engine.enforcement.enforced {
        let dns_ip = kube_dns.and_then(|s| match s.cluster_ip {
            ClusterIp::Ip(ip) => Some(ip),
            _ => None,
        });
        out.push(Diagnostic::warning(
            np.origin.clone(),
            format!(
                "networkpolicy {}: isolates egress of {} pod(s) and no policy lets them reach DNS (kube-dns{} on 53/UDP); name resolution will fail — add an egress rule to namespace kube-system, pods k8s-app=kube-dns, port 53 UDP and TCP",
                np.key(),
                selected.len(),
                dns_ip.map(|ip| format!(" {ip}")).unwrap_or_default()
            ),
        )
        .at_field("spec.egress"));
    }
}
