//! `kubectl get` as kubectl prints it: tables (default and `-o wide`) and
//! Kubernetes `List` objects carrying the simulated state (`-o json|yaml`).
//!
//! Shared by the CLI (`podpath get`) and, later, the page's terminal.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{json, Value};

use crate::cluster::{Cluster, Node, Pod, PodPhase};

/// The Kubernetes version the simulated kubelets report: the API version
/// podpath types its input with.
pub const KUBELET_VERSION: &str = "v1.37.0";

/// Which objects to list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One namespace (`-n NS`, or `default`).
    Namespace(String),
    /// `-A`: all namespaces, with a NAMESPACE column.
    All,
}

impl Scope {
    fn includes(&self, ns: &str) -> bool {
        match self {
            Scope::Namespace(n) => n == ns,
            Scope::All => true,
        }
    }
}

/// Aligns cells into columns as kubectl's tabwriter does: each column as
/// wide as its widest cell plus three spaces, the last one unpadded.
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 3));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// What kubectl prints on stderr when nothing matched.
pub fn no_resources(scope: &Scope) -> String {
    match scope {
        Scope::Namespace(ns) => format!("No resources found in {ns} namespace."),
        Scope::All => "No resources found".to_owned(),
    }
}

/// Pods in `scope`, sorted as kubectl sorts them.
pub fn pods<'a>(cluster: &'a Cluster, scope: &Scope) -> Vec<&'a Pod> {
    cluster.pods_sorted().into_iter().filter(|p| scope.includes(&p.namespace)).collect()
}

/// `kubectl get pods [-A] [-o wide]`.
pub fn pods_table(cluster: &Cluster, scope: &Scope, wide: bool) -> String {
    let mut header = vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
    if wide {
        header.extend(["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
    }
    let mut rows = vec![with_ns(scope, "NAMESPACE", header.iter().map(|s| s.to_string()).collect())];
    for p in pods(cluster, scope) {
        let containers = p.spec.containers.len();
        let (ready, status) = match &p.phase {
            PodPhase::Running => (containers, "Running".to_owned()),
            PodPhase::Pending { reason, .. } => (0, reason.clone()),
        };
        let mut row = vec![p.name.clone(), format!("{ready}/{containers}"), status, "0".into(), "<unknown>".into()];
        if wide {
            row.push(p.ip.map_or("<none>".into(), |ip| ip.to_string()));
            row.push(p.node.clone().unwrap_or_else(|| "<none>".into()));
            row.push("<none>".into());
            row.push("<none>".into());
        }
        rows.push(with_ns(scope, &p.namespace, row));
    }
    table(&rows)
}

fn with_ns(scope: &Scope, ns: &str, mut row: Vec<String>) -> Vec<String> {
    if *scope == Scope::All {
        row.insert(0, ns.to_owned());
    }
    row
}

/// `kubectl get nodes [-o wide]`.
pub fn nodes_table(cluster: &Cluster, wide: bool) -> String {
    let mut header = vec!["NAME", "STATUS", "ROLES", "AGE", "VERSION"];
    if wide {
        header.extend(["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]);
    }
    let mut rows = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    for n in &cluster.nodes {
        let status = if n.unschedulable { "Ready,SchedulingDisabled" } else { "Ready" };
        let mut row = vec![n.name.clone(), status.into(), n.roles(), "<unknown>".into(), KUBELET_VERSION.into()];
        if wide {
            row.push(n.internal_ip.map_or("<none>".into(), |ip| ip.to_string()));
            row.push(n.external_ip.map_or("<none>".into(), |ip| ip.to_string()));
            row.extend(["<unknown>".to_owned(), "<unknown>".to_owned(), "<unknown>".to_owned()]);
        }
        rows.push(row);
    }
    table(&rows)
}

/// A pod as the API server would return it, with the simulated state in
/// `spec.nodeName` and `status`.
pub fn pod_object(cluster: &Cluster, p: &Pod) -> core::Pod {
    let mut spec = p.spec.clone();
    spec.node_name = p.node.clone().or(spec.node_name);
    let owner_references = p.owner.as_ref().map(|o| {
        vec![OwnerReference {
            api_version: "apps/v1".into(),
            kind: o.kind.clone(),
            name: o.name.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
            uid: String::new(),
        }]
    });
    let phase = match p.phase {
        PodPhase::Running => "Running",
        PodPhase::Pending { .. } => "Pending",
    };
    let host_ip = p.node.as_deref().and_then(|n| cluster.node(n)).and_then(|n| n.internal_ip).map(|ip| ip.to_string());
    let status = core::PodStatus {
        phase: Some(phase.into()),
        pod_ip: p.ip.map(|ip| ip.to_string()),
        pod_ips: p.ip.map(|ip| vec![core::PodIP { ip: ip.to_string() }]),
        host_ips: host_ip.clone().map(|ip| vec![core::HostIP { ip }]),
        host_ip,
        message: match &p.phase {
            PodPhase::Pending { message, .. } => Some(message.clone()),
            PodPhase::Running => None,
        },
        ..Default::default()
    };
    core::Pod {
        metadata: ObjectMeta {
            name: Some(p.name.clone()),
            namespace: Some(p.namespace.clone()),
            labels: (!p.labels.is_empty()).then(|| p.labels.clone()),
            owner_references,
            ..Default::default()
        },
        spec: Some(spec),
        status: Some(status),
    }
}

/// A node as the API server would return it.
pub fn node_object(n: &Node) -> core::Node {
    let mut addresses = Vec::new();
    if let Some(ip) = n.internal_ip {
        addresses.push(core::NodeAddress { type_: "InternalIP".into(), address: ip.to_string() });
    }
    if let Some(ip) = n.external_ip {
        addresses.push(core::NodeAddress { type_: "ExternalIP".into(), address: ip.to_string() });
    }
    addresses.push(core::NodeAddress { type_: "Hostname".into(), address: n.name.clone() });
    let taints: Vec<core::Taint> = n
        .taints
        .iter()
        .map(|t| core::Taint {
            key: t.key.clone(),
            value: (!t.value.is_empty()).then(|| t.value.clone()),
            effect: t.effect.as_str().into(),
            ..Default::default()
        })
        .collect();
    core::Node {
        metadata: ObjectMeta { name: Some(n.name.clone()), labels: Some(n.labels.clone()), ..Default::default() },
        spec: Some(core::NodeSpec {
            pod_cidr: n.pod_cidr.map(|c| c.to_string()),
            pod_cidrs: n.pod_cidr.map(|c| vec![c.to_string()]),
            taints: (!taints.is_empty()).then_some(taints),
            unschedulable: n.unschedulable.then_some(true),
            ..Default::default()
        }),
        status: Some(core::NodeStatus { addresses: Some(addresses), ..Default::default() }),
    }
}

/// A `kind: List` of `items`, as `kubectl get -o json` prints several objects.
pub fn list(items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}})
}

/// `kubectl get pods -o json`.
pub fn pods_list(cluster: &Cluster, scope: &Scope) -> Value {
    list(pods(cluster, scope).into_iter().map(|p| to_value(&pod_object(cluster, p))).collect())
}

/// `kubectl get nodes -o json`.
pub fn nodes_list(cluster: &Cluster) -> Value {
    list(cluster.nodes.iter().map(|n| to_value(&node_object(n))).collect())
}

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    // k8s-openapi objects always serialize: they hold no maps with non-string keys.
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// `-o yaml`: the same object as YAML.
pub fn to_yaml(value: &Value) -> String {
    serde_yaml::to_string(value).unwrap_or_default()
}
