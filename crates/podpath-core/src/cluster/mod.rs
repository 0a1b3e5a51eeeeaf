//! The simulated cluster: what a control plane builds from the manifests.
//!
//! [`Cluster::build`] runs the controllers in the order a real cluster would
//! settle: settings, nodes (given or generated, each with a pod CIDR),
//! workloads expanded into pods with controller-made names, the scheduler
//! placing each pod, and the CNI's IPAM giving it an address. Everything is a
//! pure function of the manifests: the same input gives the same cluster.

pub mod endpoints;
pub mod ingress;
mod ipam;
mod nodes;
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
use crate::settings::{ClusterObject, Overrides, Settings, MAX_NODES};

pub use endpoints::{Endpoint, EndpointPort, EndpointSlice};
pub use ingress::{Ingress, IngressClass};
pub use ipam::NodeNetwork;
pub use nodes::{Taint, TaintEffect};
pub use policy::NetworkPolicy;
pub use services::{ClusterIp, Protocol, Service, ServicePort, ServiceType, TargetPort, TrafficPolicy};
pub use workloads::{READY_ANNOTATION, TERMINATING_ANNOTATION};

/// Most pods one input may produce; past this replicas are almost certainly
/// a typo, and the page would stop being interactive.
pub const MAX_PODS: u32 = 20_000;

/// Namespaces every cluster has.
const SYSTEM_NAMESPACES: [&str; 4] = ["default", "kube-node-lease", "kube-public", "kube-system"];

/// A node of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// `status.addresses` of type InternalIP. A node named only by an
    /// EndpointSlice may have none.
    pub internal_ip: Option<IpAddr>,
    pub external_ip: Option<IpAddr>,
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
    /// the container ports later stages read).
    pub spec: PodSpec,
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
    /// CoreDNS's server blocks, from its Corefile.
    pub dns: crate::dns::Dns,
    /// Traefik's IngressRoutes and Middlewares.
    pub ingress_routes: Vec<ingress::Named<crate::ingress::crd::IngressRoute>>,
    pub middlewares: Vec<ingress::Named<crate::ingress::crd::Middleware>>,
    /// Objects of kinds podpath does not model, listed for the user.
    pub skipped: Vec<Skipped>,
}

impl Cluster {
    /// Builds the cluster the manifests describe. Never fails: problems come
    /// back as diagnostics and the rest is still built.
    pub fn build(manifests: &Manifests) -> (Cluster, Vec<Diagnostic>) {
        Cluster::build_with(manifests, &Overrides::default())
    }

    /// [`Cluster::build`] with settings from outside the scenario applied.
    pub fn build_with(manifests: &Manifests, overrides: &Overrides) -> (Cluster, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let settings = settings_of(manifests, overrides, &mut diags);
        let mut nodes = nodes::build(manifests, &settings, &mut diags);
        let merged = crate::system::merge(crate::system::manifests(&settings, &nodes), manifests);
        let manifests = &merged;
        let mut namespaces: BTreeSet<String> = SYSTEM_NAMESPACES.iter().map(|s| s.to_string()).collect();
        for located in &manifests.objects {
            if let Object::Namespace(ns) = &located.object {
                namespaces.extend(ns.metadata.name.clone());
            }
        }
        check_namespaces(manifests, &mut namespaces, &mut diags);
        let mut namespace_labels: BTreeMap<String, Labels> = BTreeMap::new();
        for located in &manifests.objects {
            if let Object::Namespace(ns) = &located.object {
                if let Some(name) = &ns.metadata.name {
                    namespace_labels.insert(name.clone(), ns.metadata.labels.clone().unwrap_or_default());
                }
            }
        }
        for ns in &namespaces {
            // The API server overwrites whatever the manifest says here.
            namespace_labels.entry(ns.clone()).or_default().insert("kubernetes.io/metadata.name".into(), ns.clone());
        }
        let drafts = workloads::expand(manifests, &nodes, &mut diags);
        let placed = schedule::schedule(drafts, &nodes);
        let (pods, networks) = ipam::assign(placed, &nodes, &settings);
        for (node, network) in nodes.iter_mut().zip(networks) {
            node.network = network;
        }
        let services = services::build(manifests, &settings, &mut diags);
        let endpoint_slices = endpoints::build(manifests, &services, &pods, &nodes, &mut diags);
        let network_policies = policy::build(manifests, &pods, &mut diags);
        let (ingress_classes, ingresses) = ingress::build(manifests, &services, &mut diags);
        let dns = corefile(manifests, &settings, &mut diags);
        let (ingress_routes, middlewares) = ingress::traefik_objects(manifests, &mut diags);
        let cluster = Cluster {
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
            dns,
            ingress_routes,
            middlewares,
            skipped: manifests.skipped.clone(),
        };
        (cluster, diags)
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn pod(&self, namespace: &str, name: &str) -> Option<&Pod> {
        self.pods.iter().find(|p| p.namespace == namespace && p.name == name)
    }

    /// Pods sorted by namespace, then name: the order kubectl lists them in.
    pub fn pods_sorted(&self) -> Vec<&Pod> {
        let mut pods: Vec<&Pod> = self.pods.iter().collect();
        pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        pods
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
        ));
        namespaces.insert(ns);
    }
}

/// The settings of the first `Cluster` object, or the defaults. A second
/// one is an error: which of the two would the user mean?
fn settings_of(manifests: &Manifests, overrides: &Overrides, diags: &mut Vec<Diagnostic>) -> Settings {
    let mut found: Option<(&Origin, Settings)> = None;
    for located in &manifests.objects {
        let Object::Cluster(obj) = &located.object else { continue };
        if let Some((first, _)) = &found {
            diags.push(Diagnostic::error(
                located.origin.clone(),
                format!("a second Cluster settings object; only one is allowed (the first is at {first})"),
            ));
            continue;
        }
        let mut s = obj.settings_with(overrides);
        if s.nodes == 0 || s.nodes > MAX_NODES {
            diags.push(Diagnostic::error(
                located.origin.clone(),
                format!("spec.nodes: {} is out of range; podpath simulates 1 to {MAX_NODES} nodes", s.nodes),
            ));
            s.nodes = s.nodes.clamp(1, MAX_NODES);
        }
        if s.proxy_mode == crate::settings::ProxyMode::Ebpf && s.cni != crate::settings::Cni::Cilium {
            diags.push(Diagnostic::error(
                located.origin.clone(),
                format!("spec.proxyMode: ebpf is Cilium's kube-proxy replacement and needs cni: cilium (this cluster runs {})", s.cni),
            ));
            s.proxy_mode = crate::settings::ProxyMode::Iptables;
        }
        // The object's own value, unless one given from outside replaces it
        // (the shell checks its own flag) or the plugin was switched from
        // outside, which makes a value written for another plugin moot.
        if let (Some(e), None, None) = (obj.spec.encapsulation.as_deref(), &overrides.encapsulation, overrides.cni) {
            if let Err(msg) = crate::settings::Encapsulation::parse(s.cni, e) {
                diags.push(Diagnostic::error(located.origin.clone(), msg));
            }
        }
        found = Some((&located.origin, s));
    }
    let mut settings = match found {
        Some((_, s)) => s,
        None => {
            let mut s = ClusterObject::default().settings_with(overrides);
            s.nodes = s.nodes.clamp(1, MAX_NODES);
            s
        }
    };
    // kube-proxy's own configuration decides its mode, unless a flag or the
    // page's switch overrides it.
    for located in &manifests.objects {
        let Object::KubeProxyConfiguration(kpc) = &located.object else { continue };
        if settings.kube_proxy.is_some() {
            diags.push(Diagnostic::error(
                located.origin.clone(),
                "a second KubeProxyConfiguration; kube-proxy reads one",
            ));
            continue;
        }
        match kpc.proxy_mode() {
            Ok(mode) if overrides.proxy_mode.is_none() => {
                if settings.proxy_mode == crate::settings::ProxyMode::Ebpf {
                    diags.push(Diagnostic::warning(
                        located.origin.clone(),
                        "the Cluster object asks for Cilium's kube-proxy replacement; this KubeProxyConfiguration is not used",
                    ));
                } else {
                    settings.proxy_mode = mode;
                }
            }
            Ok(_) => {}
            Err(e) => diags.push(Diagnostic::error(located.origin.clone(), format!("KubeProxyConfiguration: {e}"))),
        }
        settings.kube_proxy = Some((**kpc).clone());
    }
    settings
}

/// CoreDNS's configuration: the `Corefile` key of ConfigMap
/// kube-system/coredns (the user's, or kubeadm's built in).
fn corefile(manifests: &Manifests, settings: &Settings, diags: &mut Vec<Diagnostic>) -> crate::dns::Dns {
    let cm = manifests.objects.iter().find_map(|o| match &o.object {
        Object::ConfigMap(cm)
            if cm.metadata.namespace.as_deref() == Some("kube-system")
                && cm.metadata.name.as_deref() == Some("coredns") =>
        {
            Some((cm, &o.origin))
        }
        _ => None,
    });
    let Some((cm, origin)) = cm else {
        return crate::dns::Dns::new(
            crate::dns::corefile::parse(&crate::dns::kubeadm_corefile(&settings.dns_domain)).0,
        );
    };
    let Some(text) = cm.data.as_ref().and_then(|d| d.get("Corefile")) else {
        diags.push(Diagnostic::error(
            origin.clone(),
            "ConfigMap kube-system/coredns has no Corefile key: CoreDNS would not start, and no name would resolve",
        ));
        return crate::dns::Dns::default();
    };
    let (servers, problems) = crate::dns::corefile::parse(text);
    for p in problems {
        diags.push(Diagnostic::warning(origin.clone(), format!("Corefile line {}: {}", p.line, p.message)));
    }
    crate::dns::Dns::new(servers)
}

#[cfg(test)]
mod tests;
