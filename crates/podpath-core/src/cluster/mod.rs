//! The simulated cluster: what a control plane builds from the manifests,
//! and the controllers that build it.
//!
//! [`Cluster::build`](crate::build) settles a cluster in the order a real
//! one would; the part here, [`assemble`], runs the controllers once the
//! settings, the nodes and the platform's own objects are known: workloads
//! expanded into pods with controller-made names, the scheduler placing
//! each pod, the CNI's IPAM giving it an address, Services, their
//! EndpointSlices, policies and Ingresses. Everything is a pure function of
//! the manifests: the same input gives the same cluster. The model reads
//! no DNS, ingress or platform code; those read it.

pub mod admin;
pub mod endpoints;
pub mod ingress;
mod ipam;
pub(crate) mod nodes;
pub mod policy;
mod schedule;
pub mod services;
mod workloads;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::diag::{Diagnostic, Origin};
use crate::labels::Labels;
use crate::load::{Manifests, Object, Skipped};
use crate::settings::Settings;

pub use endpoints::{Endpoint, EndpointPort, EndpointSlice};
pub use ingress::{Ingress, IngressClass};
pub use ipam::{IpamScheme, NodeNetwork};
pub use nodes::{Taint, TaintEffect};
pub use policy::NetworkPolicy;
pub use services::{ClusterIp, Protocol, Service, ServicePort, ServiceType, TargetPort, TrafficPolicy};
pub use workloads::{READY_ANNOTATION, TERMINATING_ANNOTATION};

/// Most pods one input may produce; past this replicas are almost certainly
/// a typo, and the page would stop being interactive.
pub const MAX_PODS: u32 = 20_000;

/// Namespaces every cluster has.
pub(crate) const SYSTEM_NAMESPACES: [&str; 4] = ["default", "kube-node-lease", "kube-public", "kube-system"];

/// A node of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// `status.addresses` of type InternalIP. A node named only by an
    /// EndpointSlice may have none.
    pub internal_ip: Option<IpAddr>,
    pub external_ip: Option<IpAddr>,
    /// The node's further addresses (a second InternalIP, a second
    /// NIC's): local to it like the first, so `--dst-type LOCAL` and a
    /// NodePort answer on them too.
    pub other_ips: Vec<IpAddr>,
    /// The range the node's pods take addresses from (`spec.podCIDR`).
    pub pod_cidr: Option<IpNet>,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    /// `status.allocatable.pods`; the kubelet's default is 110.
    pub max_pods: u32,
    /// Where the Node object was written; `None` for a generated node.
    pub origin: Option<Origin>,
    /// What the CNI plugin gave this node: its pod ranges and the address of
    /// its own device (cni0, tunl0, weave, cilium_host).
    pub network: NodeNetwork,
}

impl Node {
    /// Every address of the node's own: InternalIP, ExternalIP, the others.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.internal_ip.into_iter().chain(self.external_ip).chain(self.other_ips.iter().copied())
    }

    pub fn is_control_plane(&self) -> bool {
        self.labels.contains_key("node-role.kubernetes.io/control-plane")
    }

    /// The ROLES column of `kubectl get nodes`.
    pub fn roles(&self) -> String {
        let roles: Vec<&str> = self
            .labels
            .keys()
            .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
            .filter(|r| !r.is_empty())
            .collect();
        if roles.is_empty() {
            "<none>".to_owned()
        } else {
            roles.join(",")
        }
    }
}

/// Where a pod is in its life, as far as networking cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodPhase {
    Running,
    /// Not running: `reason` is the STATUS kubectl shows (`Pending`,
    /// `ContainerCreating`) and `message` what `kubectl describe` explains.
    Pending {
        reason: String,
        message: String,
    },
    /// Its containers have ended and will not restart (a live cluster's
    /// dump has `status.phase` Succeeded or Failed, a Job's pods most
    /// often): its sandbox and its address are gone, though its status
    /// still shows the address it had (`ip`). `reason` is the STATUS kubectl
    /// shows: the last container's termination reason (`Completed`,
    /// `Error`).
    Finished {
        succeeded: bool,
        reason: String,
        ip: Option<std::net::IpAddr>,
    },
}

/// Which controller made a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub kind: String,
    pub name: String,
}

impl Owner {
    /// The workload as people name it: for a ReplicaSet
    /// (`<deployment>-<pod-template-hash>`), its Deployment.
    pub fn workload(&self) -> &str {
        match self.name.rsplit_once('-') {
            Some((deployment, _)) if self.kind == "ReplicaSet" => deployment,
            _ => &self.name,
        }
    }
}

/// A pod of the cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub owner: Option<Owner>,
    /// The node it was bound to; `None` while Pending unscheduled.
    pub node: Option<String>,
    pub ip: Option<IpAddr>,
    pub host_network: bool,
    pub phase: PodPhase,
    /// Running and passing its readiness checks: an EndpointSlice lists it
    /// as ready.
    pub ready: bool,
    /// Being deleted: listed as terminating, no longer ready.
    pub terminating: bool,
    /// The pod's spec as the API server stores it (kept for output and for
    /// the container ports later stages read); a workload's replicas share
    /// their template's.
    pub spec: std::sync::Arc<PodSpec>,
    /// The manifest the pod (or its workload) came from.
    pub origin: Origin,
}

impl Pod {
    /// `NAMESPACE/NAME`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn is_running(&self) -> bool {
        self.phase == PodPhase::Running
    }

    /// The address its status shows: the one it has, or the one a pod
    /// whose containers have ended had.
    pub fn shown_ip(&self) -> Option<std::net::IpAddr> {
        match &self.phase {
            PodPhase::Finished { ip, .. } => *ip,
            _ => self.ip,
        }
    }

    /// `podutil.FindPort`: the first container port with this name and
    /// protocol (Services' target ports and policies' named ports).
    pub fn named_port(&self, name: &str, protocol: Protocol) -> Option<u16> {
        self.spec
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| p.name.as_deref() == Some(name) && Protocol::parse(p.protocol.as_deref()) == Some(protocol))
            .and_then(|p| u16::try_from(p.container_port).ok())
    }
}

/// A ConfigMap's data, and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigMap {
    pub namespace: String,
    pub name: String,
    pub data: BTreeMap<String, String>,
    pub origin: Origin,
}

/// The whole simulated cluster.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Cluster {
    pub settings: Settings,
    pub namespaces: BTreeSet<String>,
    /// Each namespace's labels, with the `kubernetes.io/metadata.name` label
    /// the API server sets on every namespace.
    pub namespace_labels: BTreeMap<String, Labels>,
    pub nodes: Vec<Node>,
    /// In creation order (the order the input describes them).
    pub pods: Vec<Pod>,
    /// In input order.
    pub services: Vec<Service>,
    /// The controller's slices (in Service order), then hand-written ones.
    pub endpoint_slices: Vec<EndpointSlice>,
    pub network_policies: Vec<NetworkPolicy>,
    pub ingress_classes: Vec<IngressClass>,
    pub ingresses: Vec<Ingress>,
    /// ConfigMaps (CoreDNS reads its Corefile from one).
    pub config_maps: Vec<ConfigMap>,
    /// Traefik's IngressRoutes and Middlewares.
    pub ingress_routes: Vec<ingress::Named<crate::load::crd::IngressRoute>>,
    pub middlewares: Vec<ingress::Named<crate::load::crd::Middleware>>,
    /// The Gateway API's objects.
    pub gateway_api: crate::gateway::GatewayApi,
    /// ClusterNetworkPolicies, AdminNetworkPolicies and
    /// BaselineAdminNetworkPolicies.
    pub cluster_policies: Vec<admin::ClusterWide>,
    /// Objects of kinds podpath does not model, listed for the user.
    pub skipped: Vec<Skipped>,
    /// What traces and the shell derive from the cluster, built on first
    /// use (`Cluster::network`, `dataplane`, `plugin_rules`). A cluster is
    /// not changed once built: change a clone, whose cache starts empty.
    pub prepared: crate::prepared::Prepared,
}

impl Cluster {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn pod(&self, namespace: &str, name: &str) -> Option<&Pod> {
        self.pods.iter().find(|p| p.namespace == namespace && p.name == name)
    }

    /// Pods sorted by namespace, then name: the order kubectl lists them in.
    pub fn pods_sorted(&self) -> Vec<&Pod> {
        let mut pods: Vec<&Pod> = self.pods.iter().collect();
        crate::order::sort_by(&mut pods, |a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        pods
    }

    pub fn config_map(&self, namespace: &str, name: &str) -> Option<&ConfigMap> {
        self.config_maps.iter().find(|c| c.namespace == namespace && c.name == name)
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.namespace == namespace && s.name == name)
    }

    /// The slices of a Service, by their `kubernetes.io/service-name` label.
    pub fn slices_of<'a>(&'a self, svc: &'a Service) -> impl Iterator<Item = &'a EndpointSlice> + 'a {
        self.endpoint_slices
            .iter()
            .filter(move |s| s.namespace == svc.namespace && s.service.as_deref() == Some(&svc.name))
    }

    /// How many pods each node runs, for views.
    pub fn pods_per_node(&self) -> BTreeMap<&str, Vec<&Pod>> {
        let mut map: BTreeMap<&str, Vec<&Pod>> = self.nodes.iter().map(|n| (n.name.as_str(), Vec::new())).collect();
        for p in self.pods_sorted() {
            if let Some(n) = p.node.as_deref() {
                map.entry(n).or_default().push(p);
            }
        }
        map
    }
}

/// Runs the controllers on `manifests` (the user's objects and the
/// platform's, merged) for `nodes`, giving pods their addresses by the
/// plugin's IPAM `scheme`.
pub(crate) fn assemble(
    manifests: &Manifests,
    settings: Settings,
    mut nodes: Vec<Node>,
    scheme: IpamScheme,
    diags: &mut Vec<Diagnostic>,
) -> Cluster {
    let (namespaces, namespace_labels) = namespaces(manifests, diags);
    let drafts = workloads::expand(manifests, &nodes, diags);
    let placed = schedule::schedule(drafts, &nodes);
    let (pods, networks) = ipam::assign(placed, &nodes, &settings, scheme);
    for (node, network) in nodes.iter_mut().zip(networks) {
        node.network = network;
    }
    let services = services::build(manifests, &settings, diags);
    let endpoint_slices = endpoints::build(manifests, &services, &pods, &nodes, diags);
    let network_policies = policy::build(manifests, &pods, diags);
    let (ingress_classes, ingresses) = ingress::build(manifests, &services, diags);
    Cluster {
        settings,
        namespaces,
        namespace_labels,
        nodes,
        pods,
        services,
        endpoint_slices,
        network_policies,
        ingress_classes,
        ingresses,
        config_maps: config_maps(manifests),
        // Traefik's own objects come last, once the rest is known.
        ingress_routes: Vec::new(),
        middlewares: Vec::new(),
        gateway_api: crate::gateway::GatewayApi::default(),
        cluster_policies: Vec::new(),
        skipped: manifests.skipped.clone(),
        prepared: Default::default(),
    }
}

/// Every namespace (the built-in ones, those created, and those objects
/// name) and its labels, with the `kubernetes.io/metadata.name` label the
/// API server sets on each.
fn namespaces(manifests: &Manifests, diags: &mut Vec<Diagnostic>) -> (BTreeSet<String>, BTreeMap<String, Labels>) {
    let mut namespaces: BTreeSet<String> = SYSTEM_NAMESPACES.iter().map(|s| s.to_string()).collect();
    let mut labels: BTreeMap<String, Labels> = BTreeMap::new();
    for located in &manifests.objects {
        if let Object::Namespace(ns) = &located.object {
            if let Some(name) = &ns.metadata.name {
                namespaces.insert(name.clone());
                labels.insert(name.clone(), ns.metadata.labels.clone().unwrap_or_default());
            }
        }
    }
    check_namespaces(manifests, &mut namespaces, diags);
    for ns in &namespaces {
        // The API server overwrites whatever the manifest says here.
        labels.entry(ns.clone()).or_default().insert("kubernetes.io/metadata.name".into(), ns.clone());
    }
    (namespaces, labels)
}

/// Objects in a namespace nobody created: the API server refuses them
/// (`namespaces "x" not found`), so it is said once per namespace, and the
/// namespace is simulated as if `kubectl create namespace` had run.
fn check_namespaces(manifests: &Manifests, namespaces: &mut BTreeSet<String>, diags: &mut Vec<Diagnostic>) {
    for located in &manifests.objects {
        let Some((_, ns, _)) = located.object.identity() else { continue };
        if ns.is_empty() || namespaces.contains(&ns) {
            continue;
        }
        diags.push(Diagnostic::rejected(
            located.origin.clone(),
            format!("namespaces \"{ns}\" not found: the API server refuses objects in it until it exists (kubectl create namespace {ns}, or add a Namespace object)"),
        ).at_field("metadata.namespace"));
        namespaces.insert(ns);
    }
}

/// The ConfigMaps, with their data.
fn config_maps(manifests: &Manifests) -> Vec<ConfigMap> {
    let mut out = Vec::new();
    for located in &manifests.objects {
        let Object::ConfigMap(cm) = &located.object else { continue };
        let Some(name) = cm.metadata.name.clone() else { continue };
        out.push(ConfigMap {
            namespace: cm.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
            name,
            data: cm.data.clone().unwrap_or_default(),
            origin: located.origin.clone(),
        });
    }
    out
}

/// `(namespace, name)` of an object; namespace `default` when unset, as
/// `kubectl apply` without `-n` does.
pub(super) fn ident(
    meta: &ObjectMeta,
    kind: &str,
    origin: &Origin,
    diags: &mut Vec<Diagnostic>,
) -> Option<(String, String)> {
    let ns = meta.namespace.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "default".into());
    match meta.name.as_deref() {
        Some(name) if !name.is_empty() => Some((ns, name.to_owned())),
        _ => {
            let hint =
                if meta.generate_name.is_some() { " (generateName needs `kubectl create`, not apply)" } else { "" };
            diags.push(Diagnostic::error(origin.clone(), format!("{kind} has no metadata.name{hint}")));
            None
        }
    }
}

#[cfg(test)]
mod tests;
