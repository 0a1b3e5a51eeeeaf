//! SIG Network's cluster-wide policies (`policy.networking.k8s.io`):
//! ClusterNetworkPolicy (v1alpha2, `tier: Admin|Baseline`, actions
//! Accept/Deny/Pass, `protocols`) and the AdminNetworkPolicy and
//! BaselineAdminNetworkPolicy it replaced (v1alpha1, actions
//! Allow/Deny/Pass, `ports`), typed as far as their subjects, rules, peers
//! and ports go. Facts from kubernetes-sigs/network-policy-api
//! (apis/v1alpha2 at v0.2.0, apis/v1alpha1 at v0.1.7).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Deserialize;

/// A ClusterNetworkPolicy, or a v1alpha1 policy in the same shape (its
/// `tier` then comes from its kind).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ClusterPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The object as written, for the views that print it whole.
    #[serde(skip)]
    pub raw: serde_json::Value,
    #[serde(default)]
    pub spec: ClusterPolicySpec,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct ClusterPolicySpec {
    /// v1alpha2: `Admin` or `Baseline`.
    pub tier: Option<String>,
    /// 0..1000, lower first; absent in a BaselineAdminNetworkPolicy.
    pub priority: Option<i32>,
    #[serde(default)]
    pub subject: Subject,
    #[serde(default)]
    pub ingress: Vec<PolicyRule>,
    #[serde(default)]
    pub egress: Vec<PolicyRule>,
}

/// Exactly one of the two: every pod of the selected namespaces, or the
/// selected pods of the selected namespaces.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Subject {
    pub namespaces: Option<LabelSelector>,
    pub pods: Option<NamespacedPod>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedPod {
    #[serde(default)]
    pub namespace_selector: LabelSelector,
    #[serde(default)]
    pub pod_selector: LabelSelector,
}

/// An ingress rule (`from`) or an egress rule (`to`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PolicyRule {
    pub name: Option<String>,
    /// Accept, Deny or Pass (v1alpha1: Allow, Deny or Pass).
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: Vec<Peer>,
    #[serde(default)]
    pub to: Vec<Peer>,
    /// v1alpha2's ports.
    #[serde(default)]
    pub protocols: Vec<ProtocolPort>,
    /// v1alpha1's ports.
    #[serde(default)]
    pub ports: Vec<LegacyPort>,
}

/// A peer: exactly one field set.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    pub namespaces: Option<LabelSelector>,
    pub pods: Option<NamespacedPod>,
    /// CIDRs (egress).
    #[serde(default)]
    pub networks: Vec<String>,
    /// Nodes by label (egress, experimental channel).
    pub nodes: Option<LabelSelector>,
    /// FQDNs (egress, experimental channel).
    #[serde(default)]
    pub domain_names: Vec<String>,
}

/// v1alpha2: exactly one of `tcp`, `udp`, `sctp`, `destinationNamedPort`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolPort {
    pub tcp: Option<ProtocolDestination>,
    pub udp: Option<ProtocolDestination>,
    pub sctp: Option<ProtocolDestination>,
    pub destination_named_port: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolDestination {
    pub destination_port: Option<PortOrRange>,
}

/// Exactly one of a number and a range.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PortOrRange {
    pub number: Option<i32>,
    pub range: Option<PortRange>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PortRange {
    #[serde(default)]
    pub start: i32,
    #[serde(default)]
    pub end: i32,
}

/// v1alpha1: exactly one of `portNumber`, `namedPort`, `portRange`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyPort {
    pub port_number: Option<LegacyNumber>,
    pub named_port: Option<String>,
    pub port_range: Option<LegacyRange>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct LegacyNumber {
    /// Defaults to TCP.
    pub protocol: Option<String>,
    #[serde(default)]
    pub port: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct LegacyRange {
    pub protocol: Option<String>,
    #[serde(default)]
    pub start: i32,
    #[serde(default)]
    pub end: i32,
}
