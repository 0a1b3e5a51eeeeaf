//! `kubectl get` as kubectl prints it: tables (default and `-o wide`) and
//! Kubernetes `List` objects carrying the simulated state (`-o json|yaml`).
//!
//! Shared by the CLI (`podpath get`) and, later, the page's terminal.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{json, Value};

use std::collections::BTreeMap;

use k8s_openapi::api::discovery::v1 as discovery;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::cluster::endpoints::{CONTROLLER, SERVICE_NAME_LABEL};
use crate::cluster::{
    Cluster, ClusterIp, EndpointSlice, Node, Pod, PodPhase, Service, ServiceType, TargetPort, TrafficPolicy,
};
use crate::cluster::{Ingress, NetworkPolicy};

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
        // kubectl shows a pod being deleted as Terminating, and counts the
        // containers of a pod that fails its readiness checks as not ready.
        let (ready, status) = match &p.phase {
            PodPhase::Running if p.terminating => (usize::from(p.ready) * containers, "Terminating".to_owned()),
            PodPhase::Running => (usize::from(p.ready) * containers, "Running".to_owned()),
            PodPhase::Pending { reason, .. } | PodPhase::Finished { reason, .. } => (0, reason.clone()),
        };
        let mut row = vec![p.name.clone(), format!("{ready}/{containers}"), status, "0".into(), "<unknown>".into()];
        if wide {
            row.push(p.shown_ip().map_or("<none>".into(), |ip| ip.to_string()));
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
    let mut spec = (*p.spec).clone();
    spec.node_name = p.node.clone().or(spec.node_name);
    let owner_references = p.owner.as_ref().map(|o| {
        vec![OwnerReference {
            api_version: if o.kind == "Job" { "batch/v1" } else { "apps/v1" }.into(),
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
        PodPhase::Finished { succeeded: true, .. } => "Succeeded",
        PodPhase::Finished { succeeded: false, .. } => "Failed",
    };
    let host_ip = p.node.as_deref().and_then(|n| cluster.node(n)).and_then(|n| n.internal_ip).map(|ip| ip.to_string());
    let status = core::PodStatus {
        phase: Some(phase.into()),
        pod_ip: p.shown_ip().map(|ip| ip.to_string()),
        pod_ips: p.shown_ip().map(|ip| vec![core::PodIP { ip: ip.to_string() }]),
        host_ips: host_ip.clone().map(|ip| vec![core::HostIP { ip }]),
        host_ip,
        message: match &p.phase {
            PodPhase::Pending { message, .. } => Some(message.clone()),
            PodPhase::Running | PodPhase::Finished { .. } => None,
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
    // Through JSON text rather than `serde_json::to_value`: the pod-template
    // hash already serializes templates as text, and one serializer means
    // one copy of each k8s-openapi type's Serialize code in the Wasm, not
    // two. The value is the same (an object's keys are sorted either way).
    // k8s-openapi objects always serialize: they hold no maps with
    // non-string keys.
    serde_json::to_vec(t).ok().and_then(|text| serde_json::from_slice(&text).ok()).unwrap_or(Value::Null)
}

/// `-o yaml`: the same object as YAML, as kubectl's go-yaml writes it.
pub fn to_yaml(value: &Value) -> String {
    crate::yaml::emit::to_string(value)
}

/// Services in `scope`, sorted as kubectl sorts them.
pub fn services<'a>(cluster: &'a Cluster, scope: &Scope) -> Vec<&'a Service> {
    let mut v: Vec<&Service> = cluster.services.iter().filter(|s| scope.includes(&s.namespace)).collect();
    crate::order::sort_by(&mut v, |a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    v
}

/// The CLUSTER-IP column.
fn cluster_ip_text(s: &Service) -> String {
    match &s.cluster_ip {
        ClusterIp::Ip(ip) => ip.to_string(),
        ClusterIp::Headless => "None".into(),
        ClusterIp::Unset => "<none>".into(),
    }
}

/// The EXTERNAL-IP column, as kubectl's service printer fills it.
fn external_ip_text(s: &Service) -> String {
    let mut ips: Vec<String> = s.external_ips.iter().map(ToString::to_string).collect();
    match s.type_ {
        ServiceType::ExternalName => s.external_name.clone().unwrap_or_default(),
        ServiceType::LoadBalancer => {
            ips.extend(s.load_balancer_ips.iter().map(ToString::to_string));
            if ips.is_empty() {
                "<pending>".into()
            } else {
                ips.join(",")
            }
        }
        _ if ips.is_empty() => "<none>".into(),
        _ => ips.join(","),
    }
}

/// The PORT(S) column: `80/TCP`, `80:30080/TCP`, comma-separated.
fn ports_text(s: &Service) -> String {
    if s.ports.is_empty() {
        return "<none>".into();
    }
    let parts: Vec<String> = s
        .ports
        .iter()
        .map(|p| match p.node_port {
            Some(n) => format!("{}:{}/{}", p.port, n, p.protocol),
            None => format!("{}/{}", p.port, p.protocol),
        })
        .collect();
    parts.join(",")
}

/// `kubectl get services [-A] [-o wide]`.
pub fn services_table(cluster: &Cluster, scope: &Scope, wide: bool) -> String {
    let mut header = vec!["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"];
    if wide {
        header.push("SELECTOR");
    }
    let mut rows = vec![with_ns(scope, "NAMESPACE", header.iter().map(|s| s.to_string()).collect())];
    for s in services(cluster, scope) {
        let mut row = vec![
            s.name.clone(),
            s.type_.as_str().into(),
            cluster_ip_text(s),
            external_ip_text(s),
            ports_text(s),
            "<unknown>".into(),
        ];
        if wide {
            let sel: Vec<String> = s.selector.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
            row.push(if sel.is_empty() { "<none>".into() } else { sel.join(",") });
        }
        rows.push(with_ns(scope, &s.namespace, row));
    }
    table(&rows)
}

/// EndpointSlices in `scope`, sorted as kubectl sorts them.
pub fn endpoint_slices<'a>(cluster: &'a Cluster, scope: &Scope) -> Vec<&'a EndpointSlice> {
    let mut v: Vec<&EndpointSlice> = cluster.endpoint_slices.iter().filter(|s| scope.includes(&s.namespace)).collect();
    crate::order::sort_by(&mut v, |a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    v
}

/// `kubectl get endpointslices [-A]`: at most three endpoints are shown,
/// then `+ N more...`, as kubectl's printer abbreviates them.
pub fn endpoint_slices_table(cluster: &Cluster, scope: &Scope) -> String {
    let header = ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"];
    let mut rows = vec![with_ns(scope, "NAMESPACE", header.iter().map(|s| s.to_string()).collect())];
    for es in endpoint_slices(cluster, scope) {
        let ports = if es.ports.is_empty() {
            "<unset>".to_owned()
        } else {
            es.ports.iter().map(|p| p.port.map_or("<unset>".into(), |n| n.to_string())).collect::<Vec<_>>().join(",")
        };
        let addrs: Vec<String> =
            es.endpoints.iter().flat_map(|e| e.addresses.iter().map(ToString::to_string)).collect();
        let endpoints = match addrs.len() {
            0 => "<unset>".to_owned(),
            n if n <= 3 => addrs.join(","),
            n => format!("{} + {} more...", addrs[..3].join(","), n - 3),
        };
        let row = vec![es.name.clone(), es.address_type.clone(), ports, endpoints, "<unknown>".into()];
        rows.push(with_ns(scope, &es.namespace, row));
    }
    table(&rows)
}

/// A Service as the API server returns it: spec with the allocated
/// ClusterIP and node ports, status with the load balancer's address.
pub fn service_object(s: &Service) -> core::Service {
    let cluster_ip = match &s.cluster_ip {
        ClusterIp::Ip(ip) => Some(ip.to_string()),
        ClusterIp::Headless => Some("None".into()),
        ClusterIp::Unset => None,
    };
    let ports: Vec<core::ServicePort> = s
        .ports
        .iter()
        .map(|p| core::ServicePort {
            name: (!p.name.is_empty()).then(|| p.name.clone()),
            protocol: Some(p.protocol.as_str().into()),
            port: i32::from(p.port),
            target_port: Some(match &p.target_port {
                TargetPort::Number(n) => IntOrString::Int(i32::from(*n)),
                TargetPort::Name(n) => IntOrString::String(n.clone()),
            }),
            node_port: p.node_port.map(i32::from),
            app_protocol: p.app_protocol.clone(),
        })
        .collect();
    let external = matches!(s.type_, ServiceType::NodePort | ServiceType::LoadBalancer);
    let policy = |p: TrafficPolicy| Some(p.as_str().to_owned());
    let lb = (s.type_ == ServiceType::LoadBalancer).then(|| core::LoadBalancerStatus {
        ingress: Some(
            s.load_balancer_ips
                .iter()
                .map(|ip| core::LoadBalancerIngress {
                    ip: Some(ip.to_string()),
                    ip_mode: Some("VIP".into()),
                    ..Default::default()
                })
                .collect(),
        ),
    });
    core::Service {
        metadata: ObjectMeta {
            name: Some(s.name.clone()),
            namespace: Some(s.namespace.clone()),
            labels: (!s.labels.is_empty()).then(|| s.labels.clone()),
            ..Default::default()
        },
        spec: Some(core::ServiceSpec {
            type_: Some(s.type_.as_str().into()),
            cluster_ips: cluster_ip.clone().map(|ip| vec![ip]),
            cluster_ip,
            selector: s.selector.clone(),
            ports: (!ports.is_empty()).then_some(ports),
            external_ips: (!s.external_ips.is_empty())
                .then(|| s.external_ips.iter().map(ToString::to_string).collect()),
            external_name: s.external_name.clone(),
            session_affinity: Some(if s.session_affinity.is_some() { "ClientIP" } else { "None" }.into()),
            session_affinity_config: s.session_affinity.map(|t| core::SessionAffinityConfig {
                client_ip: Some(core::ClientIPConfig { timeout_seconds: Some(t as i32) }),
            }),
            external_traffic_policy: if external { policy(s.external_traffic_policy) } else { None },
            internal_traffic_policy: (s.type_ != ServiceType::ExternalName)
                .then(|| s.internal_traffic_policy.as_str().into()),
            health_check_node_port: s.health_check_node_port.map(i32::from),
            publish_not_ready_addresses: s.publish_not_ready_addresses.then_some(true),
            load_balancer_source_ranges: (!s.load_balancer_source_ranges.is_empty())
                .then(|| s.load_balancer_source_ranges.clone()),
            ip_families: matches!(s.cluster_ip, ClusterIp::Ip(_)).then(|| vec!["IPv4".into()]),
            ip_family_policy: matches!(s.cluster_ip, ClusterIp::Ip(_) | ClusterIp::Headless)
                .then(|| "SingleStack".into()),
            ..Default::default()
        }),
        status: Some(core::ServiceStatus {
            load_balancer: lb.or_else(|| Some(Default::default())),
            ..Default::default()
        }),
    }
}

/// An EndpointSlice as the API server returns it.
pub fn endpoint_slice_object(es: &EndpointSlice) -> discovery::EndpointSlice {
    let mut labels = BTreeMap::new();
    if let Some(svc) = &es.service {
        labels.insert(SERVICE_NAME_LABEL.to_owned(), svc.clone());
    }
    if !es.managed_by.is_empty() {
        labels.insert("endpointslice.kubernetes.io/managed-by".to_owned(), es.managed_by.clone());
    }
    let owner = (es.managed_by == CONTROLLER).then(|| {
        vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Service".into(),
            name: es.service.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
            uid: String::new(),
        }]
    });
    discovery::EndpointSlice {
        metadata: ObjectMeta {
            name: Some(es.name.clone()),
            namespace: Some(es.namespace.clone()),
            labels: (!labels.is_empty()).then_some(labels),
            owner_references: owner,
            ..Default::default()
        },
        address_type: es.address_type.clone(),
        ports: (!es.ports.is_empty()).then(|| {
            es.ports
                .iter()
                .map(|p| discovery::EndpointPort {
                    name: Some(p.name.clone()),
                    port: p.port.map(i32::from),
                    protocol: Some(p.protocol.as_str().into()),
                    app_protocol: None,
                })
                .collect()
        }),
        endpoints: (!es.endpoints.is_empty()).then(|| {
            es.endpoints
                .iter()
                .map(|e| discovery::Endpoint {
                    addresses: e.addresses.iter().map(ToString::to_string).collect(),
                    conditions: Some(discovery::EndpointConditions {
                        ready: e.ready,
                        serving: e.serving,
                        terminating: e.terminating,
                    }),
                    node_name: e.node_name.clone(),
                    zone: e.zone.clone(),
                    hostname: e.hostname.clone(),
                    target_ref: e.pod.as_ref().map(|key| {
                        let (ns, name) = key.split_once('/').unwrap_or(("", key));
                        core::ObjectReference {
                            kind: Some("Pod".into()),
                            namespace: Some(ns.into()),
                            name: Some(name.into()),
                            ..Default::default()
                        }
                    }),
                    ..Default::default()
                })
                .collect()
        }),
    }
}

/// `kubectl get services -o json`.
pub fn services_list(cluster: &Cluster, scope: &Scope) -> Value {
    list(services(cluster, scope).into_iter().map(|s| to_value(&service_object(s))).collect())
}

/// `kubectl get endpointslices -o json`.
pub fn endpoint_slices_list(cluster: &Cluster, scope: &Scope) -> Value {
    list(endpoint_slices(cluster, scope).into_iter().map(|s| to_value(&endpoint_slice_object(s))).collect())
}

fn sorted<'a, T>(items: &'a [T], scope: &Scope, key: impl Fn(&T) -> (&str, &str)) -> Vec<&'a T> {
    let mut v: Vec<&T> = items.iter().filter(|x| scope.includes(key(x).0)).collect();
    crate::order::sort_by(&mut v, |a, b| key(a).cmp(&key(b)));
    v
}

/// `kubectl get networkpolicies [-A]`.
pub fn network_policies_table(cluster: &Cluster, scope: &Scope) -> String {
    let mut rows =
        vec![with_ns(scope, "NAMESPACE", ["NAME", "POD-SELECTOR", "AGE"].iter().map(|s| s.to_string()).collect())];
    for np in sorted(&cluster.network_policies, scope, |n: &NetworkPolicy| (n.namespace.as_str(), n.name.as_str())) {
        let sel = if np.pod_selector.is_empty() { "<none>".to_owned() } else { np.pod_selector.to_string() };
        rows.push(with_ns(scope, &np.namespace, vec![np.name.clone(), sel, "<unknown>".into()]));
    }
    table(&rows)
}

/// `kubectl get ingresses [-A]`.
pub fn ingresses_table(cluster: &Cluster, scope: &Scope) -> String {
    let header = ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"];
    let mut rows = vec![with_ns(scope, "NAMESPACE", header.iter().map(|s| s.to_string()).collect())];
    for ing in sorted(&cluster.ingresses, scope, |i: &Ingress| (i.namespace.as_str(), i.name.as_str())) {
        let hosts = if ing.hosts.is_empty() { "*".to_owned() } else { ing.hosts.join(",") };
        let address = ing.address.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        let ports = if ing.tls { "80, 443" } else { "80" };
        let class = ing.class.clone().unwrap_or_else(|| "<none>".into());
        rows.push(with_ns(
            scope,
            &ing.namespace,
            vec![ing.name.clone(), class, hosts, address, ports.into(), "<unknown>".into()],
        ));
    }
    table(&rows)
}

/// `kubectl get networkpolicies -o json`: the policies as written.
pub fn network_policies_list(cluster: &Cluster, scope: &Scope) -> Value {
    let items = sorted(&cluster.network_policies, scope, |n: &NetworkPolicy| (n.namespace.as_str(), n.name.as_str()))
        .into_iter()
        .map(|np| {
            to_value(&k8s_openapi::api::networking::v1::NetworkPolicy {
                metadata: ObjectMeta {
                    name: Some(np.name.clone()),
                    namespace: Some(np.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(np.spec.clone()),
            })
        })
        .collect();
    list(items)
}

/// `kubectl get ingresses -o json`: with the controller's address in status.
pub fn ingresses_list(cluster: &Cluster, scope: &Scope) -> Value {
    use k8s_openapi::api::networking::v1 as networking;
    let items = sorted(&cluster.ingresses, scope, |i: &Ingress| (i.namespace.as_str(), i.name.as_str()))
        .into_iter()
        .map(|ing| {
            let mut spec = ing.spec.clone();
            spec.ingress_class_name = ing.class.clone();
            let ingress = ing
                .address
                .iter()
                .map(|ip| networking::IngressLoadBalancerIngress { ip: Some(ip.to_string()), ..Default::default() })
                .collect::<Vec<_>>();
            to_value(&networking::Ingress {
                metadata: ObjectMeta {
                    name: Some(ing.name.clone()),
                    namespace: Some(ing.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(spec),
                status: Some(networking::IngressStatus {
                    load_balancer: Some(networking::IngressLoadBalancerStatus {
                        ingress: (!ingress.is_empty()).then_some(ingress),
                    }),
                }),
            })
        })
        .collect();
    list(items)
}
