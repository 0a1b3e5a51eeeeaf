//! The cluster-wide tiers around NetworkPolicy, as network-policy-api
//! specifies them: the Admin tier first (policies by ascending priority,
//! rules in the order written, the first rule that matches decides:
//! Accept and Deny are final, Pass skips the rest of the tier), then
//! NetworkPolicy (final for the pods it selects), then the Baseline tier
//! for pods no NetworkPolicy selects (Pass there leaves the default,
//! allow). Only the kinds the cluster's plugin enforces take part
//! (`Enforcement::cluster_policies`: Calico v3.30 the v1alpha1
//! AdminNetworkPolicy and BaselineAdminNetworkPolicy, whose `Allow` is
//! `Accept`). Two policies of one tier at the same priority decide in an
//! order the API leaves to the implementation; here, by name.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{named_port, End, Engine};
use crate::cluster::admin::ClusterWide;
use crate::cluster::{Pod, Protocol};
use crate::labels::Selector;
use crate::load::npa;

/// What a tier's rule said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Deny,
    Pass,
}

/// The rule that decided in a tier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub verdict: Verdict,
    /// `AdminNetworkPolicy NAME`.
    pub by: String,
    /// `AdminNetworkPolicy NAME ingress[0] (rule name)`.
    pub rule: String,
}

/// Whether a selector of the policy matches; one the API server would
/// refuse matches nothing.
fn matches(s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector, labels: &crate::labels::Labels) -> bool {
    Selector::from_label_selector(s).is_ok_and(|sel| sel.matches(labels))
}

impl Engine<'_> {
    /// The cluster-wide policies of `tier` the plugin enforces, in the
    /// order they are evaluated.
    fn tier_policies(&self, tier: &str) -> Vec<&ClusterWide> {
        let kinds = self.enforcement.cluster_policies.1;
        let mut v: Vec<&ClusterWide> = self
            .cluster
            .cluster_policies
            .iter()
            .filter(|p| p.tier == tier && kinds.contains(&p.source.kind()))
            .collect();
        crate::order::sort_by(&mut v, |a, b| {
            (a.priority.unwrap_or(0), &a.name).cmp(&(b.priority.unwrap_or(0), &b.name))
        });
        v
    }

    /// Whether any cluster-wide policy takes part in verdicts here.
    pub fn has_tiers(&self) -> bool {
        let kinds = self.enforcement.cluster_policies.1;
        self.enforcement.enforced && self.cluster.cluster_policies.iter().any(|p| kinds.contains(&p.source.kind()))
    }

    /// The CIDRs and named ports the enforced cluster-wide policies look
    /// at, for the matrix's classes of pods.
    pub fn tier_blocks_and_names(&self) -> (Vec<IpNet>, Vec<String>) {
        let (mut blocks, mut names) = (Vec::new(), Vec::new());
        for p in self.tier_policies("Admin").into_iter().chain(self.tier_policies("Baseline")) {
            for r in p.object.spec.ingress.iter().chain(&p.object.spec.egress) {
                for peer in r.from.iter().chain(&r.to) {
                    blocks.extend(peer.networks.iter().filter_map(|n| n.trim().parse::<IpNet>().ok()));
                }
                names.extend(r.protocols.iter().filter_map(|x| x.destination_named_port.clone()));
                names.extend(r.ports.iter().filter_map(|x| x.named_port.clone()));
            }
        }
        (blocks, names)
    }

    /// The first rule of `tier` that matches a connection of `pod` (the
    /// subject) with `other`, `server` owning the port; `None` when no
    /// rule of the tier matches.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn tier_hit(
        &self,
        tier: &str,
        egress: bool,
        pod: &Pod,
        other: End<'_>,
        server: End<'_>,
        port: u16,
        protocol: Option<Protocol>,
    ) -> Option<Hit> {
        if pod.host_network {
            return None;
        }
        for p in self.tier_policies(tier) {
            if !self.subject_selects(&p.object.spec.subject, pod) {
                continue;
            }
            let (dir, rules) =
                if egress { ("egress", &p.object.spec.egress) } else { ("ingress", &p.object.spec.ingress) };
            for (i, r) in rules.iter().enumerate() {
                let peers = if egress { &r.to } else { &r.from };
                let matched =
                    peers.iter().any(|peer| self.tier_peer(peer, other)) && self.tier_ports(r, server, port, protocol);
                if !matched {
                    continue;
                }
                let verdict = match r.action.as_str() {
                    "Accept" | "Allow" => Verdict::Accept,
                    "Deny" => Verdict::Deny,
                    "Pass" => Verdict::Pass,
                    _ => continue,
                };
                let by = format!("{} {}", p.source.kind(), p.name);
                let named = r.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
                return Some(Hit { verdict, rule: format!("{by} {dir}[{i}]{named}"), by });
            }
        }
        None
    }

    fn subject_selects(&self, s: &npa::Subject, pod: &Pod) -> bool {
        match (&s.namespaces, &s.pods) {
            (Some(ns), None) => matches(ns, self.ns_labels(&pod.namespace)),
            (None, Some(p)) => {
                matches(&p.namespace_selector, self.ns_labels(&pod.namespace)) && matches(&p.pod_selector, &pod.labels)
            }
            _ => false,
        }
    }

    fn tier_peer(&self, peer: &npa::Peer, other: End<'_>) -> bool {
        let ip: Option<IpAddr> = match other {
            End::Pod(p) => p.ip,
            End::Ip(ip) => Some(ip),
        };
        if let Some(ns) = &peer.namespaces {
            return matches!(other, End::Pod(p) if matches(ns, self.ns_labels(&p.namespace)));
        }
        if let Some(pods) = &peer.pods {
            return matches!(other, End::Pod(p) if matches(&pods.namespace_selector, self.ns_labels(&p.namespace))
                && matches(&pods.pod_selector, &p.labels));
        }
        if !peer.networks.is_empty() {
            return ip.is_some_and(|ip| {
                peer.networks.iter().filter_map(|n| n.trim().parse::<IpNet>().ok()).any(|n| n.contains(&ip))
            });
        }
        if let Some(nodes) = &peer.nodes {
            return ip.is_some_and(|ip| {
                self.cluster
                    .nodes
                    .iter()
                    .any(|n| (n.internal_ip == Some(ip) || n.external_ip == Some(ip)) && matches(nodes, &n.labels))
            });
        }
        // domainNames need the DNS answers the plugin saw: not modelled.
        false
    }

    fn tier_ports(&self, r: &npa::PolicyRule, server: End<'_>, port: u16, protocol: Option<Protocol>) -> bool {
        if r.protocols.is_empty() && r.ports.is_empty() {
            return true;
        }
        let Some(protocol) = protocol else { return false };
        let in_range = |number: Option<i32>, range: Option<(i32, i32)>| match (number, range) {
            (Some(n), _) => i32::from(port) == n,
            (None, Some((a, b))) => (a..=b).contains(&i32::from(port)),
            _ => false,
        };
        let named = |name: &str| matches!(server, End::Pod(pod) if named_port(pod, name, protocol) == Some(port));
        let v2 = r.protocols.iter().any(|x| {
            let dest = match protocol {
                Protocol::Tcp => &x.tcp,
                Protocol::Udp => &x.udp,
                Protocol::Sctp => &x.sctp,
                Protocol::Icmp => return false,
            };
            match (dest, &x.destination_named_port) {
                (Some(d), _) => d
                    .destination_port
                    .as_ref()
                    .is_none_or(|p| in_range(p.number, p.range.as_ref().map(|r| (r.start, r.end)))),
                (None, Some(n)) => named(n),
                (None, None) => false,
            }
        });
        let v1 = r.ports.iter().any(|x| {
            let proto_is = |p: &Option<String>| p.as_deref().unwrap_or("TCP") == protocol.as_str().to_ascii_uppercase();
            match (&x.port_number, &x.named_port, &x.port_range) {
                (Some(n), _, _) => proto_is(&n.protocol) && in_range(Some(n.port), None),
                (None, Some(name), _) => named(name),
                (None, None, Some(r)) => proto_is(&r.protocol) && in_range(None, Some((r.start, r.end))),
                _ => false,
            }
        });
        v2 || v1
    }
}
