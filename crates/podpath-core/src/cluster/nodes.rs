//! Nodes: read from Node objects, or generated as `kind create cluster`
//! would make them, and given pod CIDRs the way kube-controller-manager's
//! range allocator hands them out.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use k8s_openapi::api::core::v1 as core;

use super::Node;
use crate::diag::Diagnostic;
use crate::labels::{Labels, NodeSelectorTerm, Selector, NODE_NAME_FIELD};
use crate::load::{Manifests, Object};
use crate::settings::Settings;

/// The kubelet's default `maxPods`.
pub const DEFAULT_MAX_PODS: u32 = 110;

/// The taint kubeadm puts on control-plane nodes.
pub const CONTROL_PLANE_TAINT: &str = "node-role.kubernetes.io/control-plane";

/// kube-controller-manager's default `--node-cidr-mask-size` for IPv4.
const NODE_CIDR_MASK: u8 = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    fn parse(s: &str) -> Option<TaintEffect> {
        match s {
            "NoSchedule" => Some(TaintEffect::NoSchedule),
            "PreferNoSchedule" => Some(TaintEffect::PreferNoSchedule),
            "NoExecute" => Some(TaintEffect::NoExecute),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: TaintEffect,
}

impl Taint {
    /// Whether a pod's toleration list tolerates this taint, per
    /// `v1.Toleration.ToleratesTaint`.
    pub fn tolerated_by(&self, tolerations: &[core::Toleration]) -> bool {
        tolerations.iter().any(|t| {
            let effect_ok = t.effect.as_deref().is_none_or(|e| e.is_empty() || e == self.effect.as_str());
            let key = t.key.as_deref().unwrap_or("");
            let key_ok = key.is_empty() || key == self.key;
            let value_ok = match t.operator.as_deref().unwrap_or("Equal") {
                "Exists" => true,
                "Equal" | "" => t.value.as_deref().unwrap_or("") == self.value,
                _ => false,
            };
            // An empty key with operator Exists tolerates everything; an empty
            // key with Equal tolerates nothing.
            let exists = t.operator.as_deref() == Some("Exists");
            effect_ok && key_ok && value_ok && (!key.is_empty() || exists)
        })
    }
}

pub(crate) fn build(manifests: &Manifests, settings: &Settings, diags: &mut Vec<Diagnostic>) -> Vec<Node> {
    let given: Vec<Node> = manifests
        .objects
        .iter()
        .filter_map(|l| match &l.object {
            Object::Node(n) => from_object(n, l, diags),
            _ => None,
        })
        .collect();
    let mut given = dedup(given, diags);
    referenced(manifests, &mut given, diags);
    let mut nodes = if given.is_empty() { generate(settings) } else { given };
    allocate_pod_cidrs(&mut nodes, settings, diags);
    nodes
}

/// Nodes a dump's pods run on (`spec.nodeName`) that the dump does not
/// list: they existed, so they are made from what the pods say of them
/// (`status.hostIP` is the node's InternalIP), with the labels the kubelet
/// registers, and a note says so.
fn referenced(manifests: &Manifests, nodes: &mut Vec<Node>, diags: &mut Vec<Diagnostic>) {
    for located in &manifests.objects {
        let Object::Pod(p) = &located.object else { continue };
        let Some(name) = p.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()) else {
            continue;
        };
        if nodes.iter().any(|n| n.name == name) {
            continue;
        }
        let host_ip = p.status.as_ref().and_then(|s| s.host_ip.as_deref()).and_then(|ip| ip.trim().parse().ok());
        let Some(internal_ip) = host_ip else { continue };
        let labels = kubelet_labels(&name, Labels::new());
        diags.push(Diagnostic::note(
            located.origin.clone(),
            format!("node {name} is not in the input; made from pod {}'s spec.nodeName and status.hostIP ({internal_ip})", p.metadata.name.as_deref().unwrap_or("")),
        ).at_field("spec.nodeName"));
        nodes.push(Node {
            name,
            internal_ip: Some(internal_ip),
            external_ip: None,
            other_ips: Vec::new(),
            pod_cidr: None,
            labels,
            taints: Vec::new(),
            unschedulable: false,
            max_pods: DEFAULT_MAX_PODS,
            origin: None,
            network: Default::default(),
        });
    }
}

/// `labels` with the ones the kubelet registers its Node with and keeps
/// where they are missing (pkg/kubelet/kubelet_node_status.go,
/// initialNode and updateDefaultLabels): its hostname, OS and architecture,
/// and their beta forms.
fn kubelet_labels(name: &str, mut labels: Labels) -> Labels {
    for (key, value) in [
        ("kubernetes.io/hostname", name),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("beta.kubernetes.io/arch", "amd64"),
    ] {
        labels.entry(key.into()).or_insert_with(|| value.into());
    }
    labels
}

fn dedup(nodes: Vec<Node>, diags: &mut Vec<Diagnostic>) -> Vec<Node> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for n in nodes {
        if seen.insert(n.name.clone()) {
            out.push(n);
        } else if let Some(origin) = &n.origin {
            diags.push(
                Diagnostic::error(origin.clone(), format!("nodes \"{}\" already exists", n.name))
                    .at_field("metadata.name"),
            );
        }
    }
    out
}

fn from_object(n: &core::Node, located: &crate::load::Located, diags: &mut Vec<Diagnostic>) -> Option<Node> {
    let origin = located.origin.clone();
    let Some(name) = n.metadata.name.clone().filter(|s| !s.is_empty()) else {
        diags.push(Diagnostic::error(origin, "Node has no metadata.name"));
        return None;
    };
    let mut internal_ip = None;
    let mut external_ip = None;
    let mut other_ips = Vec::new();
    for a in n.status.iter().flat_map(|s| s.addresses.iter().flatten()) {
        let slot = match a.type_.as_str() {
            "InternalIP" => &mut internal_ip,
            "ExternalIP" => &mut external_ip,
            _ => continue,
        };
        match a.address.trim().parse::<IpAddr>() {
            Ok(ip) => {
                if slot.is_some() {
                    other_ips.push(ip);
                }
                slot.get_or_insert(ip);
            }
            Err(_) => diags.push(Diagnostic::error(
                origin.clone(),
                format!("node {name}: status.addresses: \"{}\" is not an IP address", a.address),
            )),
        }
    }
    let spec = n.spec.clone().unwrap_or_default();
    let pod_cidr = match spec.pod_cidr.as_deref() {
        None | Some("") => None,
        Some(text) => match text.parse::<IpNet>() {
            Ok(net) => Some(net.trunc()),
            Err(_) => {
                diags.push(Diagnostic::error(
                    origin.clone(),
                    format!("node {name}: spec.podCIDR: \"{text}\" is not a CIDR"),
                ));
                None
            }
        },
    };
    let mut taints = Vec::new();
    for t in spec.taints.iter().flatten() {
        match TaintEffect::parse(&t.effect) {
            Some(effect) => taints.push(Taint { key: t.key.clone(), value: t.value.clone().unwrap_or_default(), effect }),
            None => diags.push(Diagnostic::error(
                origin.clone(),
                format!(
                    "node {name}: spec.taints: Unsupported value: \"{}\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
                    t.effect
                ),
            )),
        }
    }
    // A hand-written Node without the kubelet's labels would leave the
    // DaemonSets and CoreDNS that select `kubernetes.io/os: linux`
    // unscheduled, where a real node always has them.
    let labels = kubelet_labels(&name, n.metadata.labels.clone().unwrap_or_default());
    let max_pods = n
        .status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| a.get("pods"))
        .and_then(|q| q.0.parse::<u32>().ok())
        .unwrap_or(DEFAULT_MAX_PODS);
    Some(Node {
        name,
        internal_ip,
        external_ip,
        other_ips,
        pod_cidr,
        labels,
        taints,
        unschedulable: spec.unschedulable.unwrap_or(false),
        max_pods,
        origin: Some(origin),
        network: Default::default(),
    })
}

/// Nodes as `kind create cluster` makes them: one control plane and
/// `nodes - 1` workers on the 172.18.0.0/16 Docker network. A single-node
/// cluster's control plane is untainted, as kind leaves it, so pods can run.
fn generate(settings: &Settings) -> Vec<Node> {
    let n = settings.nodes.max(1);
    (0..n)
        .map(|i| {
            let name = match i {
                0 => format!("{}-control-plane", settings.name),
                1 => format!("{}-worker", settings.name),
                _ => format!("{}-worker{}", settings.name, i),
            };
            let mut labels = kubelet_labels(&name, Labels::new());
            let mut taints = Vec::new();
            if i == 0 {
                labels.insert(CONTROL_PLANE_TAINT.into(), String::new());
                labels.insert("node.kubernetes.io/exclude-from-external-load-balancers".into(), String::new());
                if n > 1 {
                    taints.push(Taint {
                        key: CONTROL_PLANE_TAINT.into(),
                        value: String::new(),
                        effect: TaintEffect::NoSchedule,
                    });
                }
            }
            // .1 is the Docker bridge's gateway; containers count up from .2.
            let host = 2 + i;
            let ip = Ipv4Addr::new(172, 18, (host >> 8) as u8, (host & 0xff) as u8);
            Node {
                name,
                internal_ip: Some(IpAddr::V4(ip)),
                external_ip: None,
                other_ips: Vec::new(),
                pod_cidr: None,
                labels,
                taints,
                unschedulable: false,
                max_pods: DEFAULT_MAX_PODS,
                origin: None,
                network: Default::default(),
            }
        })
        .collect()
}

/// Gives every node without a `spec.podCIDR` the next free /24 of the
/// cluster CIDR, in node order, skipping ranges other nodes already hold —
/// what the range allocator does as nodes register.
fn allocate_pod_cidrs(nodes: &mut [Node], settings: &Settings, diags: &mut Vec<Diagnostic>) {
    let IpNet::V4(cluster) = settings.cluster_cidr else {
        return; // IPv6 pod networks come with dual-stack support.
    };
    if cluster.prefix_len() > NODE_CIDR_MASK {
        diags.push(Diagnostic::error(
            Default::default(),
            format!(
                "clusterCIDR {cluster} is smaller than one node's /{NODE_CIDR_MASK}; kube-controller-manager would refuse to start (use a prefix of /{NODE_CIDR_MASK} or shorter)"
            ),
        ));
        return;
    }
    let taken: BTreeSet<IpNet> = nodes.iter().filter_map(|n| n.pod_cidr).collect();
    let mut free = cluster
        .subnets(NODE_CIDR_MASK)
        .expect("mask checked above")
        .map(IpNet::V4)
        .filter(move |net: &IpNet| !taken.contains(net));
    for node in nodes.iter_mut().filter(|n| n.pod_cidr.is_none()) {
        node.pod_cidr = free.next();
        if node.pod_cidr.is_none() {
            let at = node.origin.clone().unwrap_or_default();
            diags.push(Diagnostic::warning(
                at,
                format!(
                    "node {}: no /{NODE_CIDR_MASK} left in clusterCIDR {cluster}; its pods get no address",
                    node.name
                ),
            ));
        }
    }
}

/// A pod's `nodeSelector` and `requiredDuringSchedulingIgnoredDuringExecution`,
/// read once and matched against each node: all of the selector, and any
/// one of the terms.
pub(super) struct NodeAffinity {
    selector: Option<Selector>,
    /// `None` when nothing is required; an unparsable term (`None` inside)
    /// matches nothing, as the API machinery treats it.
    terms: Option<Vec<Option<Selector>>>,
}

impl NodeAffinity {
    pub(super) fn of(spec: &core::PodSpec) -> NodeAffinity {
        let required = spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref());
        NodeAffinity {
            selector: spec.node_selector.as_ref().map(Selector::from_map),
            terms: required.map(|r| {
                r.node_selector_terms.iter().map(|t| NodeSelectorTerm::from_term(t).ok().map(|t| t.0)).collect()
            }),
        }
    }

    pub(super) fn matches(&self, node: &Node) -> bool {
        let labels = |k: &str| node.labels.get(k).map(String::as_str);
        if self.selector.as_ref().is_some_and(|s| !s.matches_by(labels)) {
            return false;
        }
        let Some(terms) = &self.terms else { return true };
        // Terms read the node's labels and its name (`matchFields`).
        let fields = |k: &str| if k == NODE_NAME_FIELD { Some(node.name.as_str()) } else { labels(k) };
        terms.iter().flatten().any(|t| !t.is_empty() && t.matches_by(fields))
    }
}
