//! What the page draws of a cluster, as plain data: the nodes with their
//! plumbing, the pods, the Services and the platform's front doors, and
//! the few settings the toolbar and the tabs name.
//!
//! The worker builds a [`Scene`] from each cluster it simulates and sends
//! it to the page, which renders it and never holds the cluster itself.
//! Everything here is already in the words the page shows (addresses as
//! text, a pod's `NAMESPACE/NAME`), so drawing needs no core call.

use podpath_core::cluster::{ClusterIp, Service, ServiceType};
use podpath_core::system::is_system_namespace;
use podpath_core::{Cluster, Cni, PodPhase, ProxyMode};
use serde::{Deserialize, Serialize};

/// One simulated cluster, as the page draws it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    /// Counts the clusters the session built: what the page keeps views
    /// derived from the cluster by.
    pub generation: u64,
    /// The plugin and mode in effect (after the switches).
    pub cni: Cni,
    pub proxy_mode: ProxyMode,
    pub cluster_cidr: String,
    /// Whether the plugin enforces NetworkPolicy, and how many there are.
    pub enforced: bool,
    pub policies: usize,
    pub nodes: Vec<NodeView>,
    /// Every pod, sorted by namespace and name.
    pub pods: Vec<PodView>,
    /// Every Service, sorted by namespace and name.
    pub services: Vec<ServiceView>,
    /// CoreDNS behind kube-dns, the ingress controller's address: shown
    /// even while the platform's pods are hidden.
    pub platform: Vec<String>,
    /// The Gateways with the routes that name them.
    pub gateways: Vec<podpath_core::gateway::view::GatewaySummary>,
    /// What the terminal completes (pods, Services, nodes, namespaces…),
    /// so Tab answers at once, on the page.
    pub names: podpath_core::shell::Names,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    pub name: String,
    pub roles: String,
    pub control_plane: bool,
    /// The InternalIP, if the node has one.
    pub ip: Option<String>,
    /// The ranges the CNI plugin really allocates pod addresses from on
    /// this node (Calico's blocks, Weave's share, Cilium's pool CIDR).
    pub ranges: Vec<String>,
    /// The plugin's devices and what balances Services, a few words each.
    pub plumbing: Vec<String>,
    /// The platform's workloads running here (a Deployment's name, not
    /// its ReplicaSet's), for the header while system pods are hidden.
    pub system: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PodView {
    pub name: String,
    pub namespace: String,
    pub node: Option<String>,
    pub ip: Option<String>,
    /// Why the pod is not running (`Unschedulable`…) and the scheduler's
    /// message; `None` when it runs.
    pub pending: Option<(String, String)>,
    pub host_network: bool,
}

impl PodView {
    /// `NAMESPACE/NAME`, the words traces take.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn is_system(&self) -> bool {
        is_system_namespace(&self.namespace)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceView {
    pub namespace: String,
    pub name: String,
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`.
    pub type_: String,
    /// The ClusterIP, `headless`, or `→ NAME` for an ExternalName.
    pub address: String,
    /// Load-balancer and external addresses.
    pub external: Vec<String>,
    pub ports: Vec<String>,
    /// `IP:PORT` per endpoint of its EndpointSlices, with its state.
    pub endpoints: Vec<String>,
    /// The port a trace to the Service uses.
    pub first_port: u16,
}

impl ServiceView {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The platform's own (kube-system's, and the API server's
    /// `default/kubernetes`), hidden with the system pods.
    pub fn is_system(&self) -> bool {
        is_system_namespace(&self.namespace) || (self.namespace == "default" && self.name == "kubernetes")
    }
}

impl Scene {
    /// The scene of `cluster`, numbered `generation`.
    pub fn of(cluster: &Cluster, generation: u64) -> Scene {
        let settings = &cluster.settings;
        let enforcement = podpath_core::policy::Enforcement::of_settings(settings);
        let network = cluster.network();
        let label = podpath_core::proxy::label(settings.proxy_mode);
        let mut system: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
        for p in cluster.pods.iter().filter(|p| is_system_namespace(&p.namespace)) {
            let Some(node) = p.node.as_deref() else { continue };
            let name = p.owner.as_ref().map_or(p.name.clone(), |o| o.workload().to_owned());
            system.entry(node).or_default().push(name);
        }
        let nodes = cluster
            .nodes
            .iter()
            .map(|n| {
                let mut plumbing =
                    network.node(&n.name).map(podpath_core::datapath::NodeNet::summary).unwrap_or_default();
                plumbing.push(label.clone());
                let mut system = system.remove(n.name.as_str()).unwrap_or_default();
                podpath_core::order::sort(&mut system);
                system.dedup();
                NodeView {
                    name: n.name.clone(),
                    roles: n.roles(),
                    control_plane: n.is_control_plane(),
                    ip: n.internal_ip.map(|ip| ip.to_string()),
                    ranges: n.network.pod_ranges.iter().map(ToString::to_string).collect(),
                    plumbing,
                    system,
                }
            })
            .collect();
        let pods = cluster
            .pods_sorted()
            .into_iter()
            .map(|p| PodView {
                name: p.name.clone(),
                namespace: p.namespace.clone(),
                node: p.node.clone(),
                ip: p.ip.map(|ip| ip.to_string()),
                pending: match &p.phase {
                    PodPhase::Running => None,
                    PodPhase::Pending { reason, message } => Some((reason.clone(), message.clone())),
                    PodPhase::Finished { reason, .. } => {
                        Some((reason.clone(), "its containers have ended: it has no network any more".to_owned()))
                    }
                },
                host_network: p.host_network,
            })
            .collect();
        let mut services: Vec<ServiceView> = cluster.services.iter().map(|s| service(cluster, s)).collect();
        podpath_core::order::sort_by(&mut services, |a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Scene {
            generation,
            cni: settings.cni,
            proxy_mode: settings.proxy_mode,
            cluster_cidr: settings.cluster_cidr.to_string(),
            enforced: enforcement.enforced,
            policies: cluster.network_policies.len(),
            nodes,
            pods,
            services,
            platform: platform(cluster),
            gateways: podpath_core::gateway::view::summaries(cluster),
            names: podpath_core::shell::Names::of(cluster),
        }
    }

    /// The pod of that `NAMESPACE/NAME`.
    pub fn pod(&self, key: &str) -> Option<&PodView> {
        let (ns, name) = key.split_once('/')?;
        let i = self.pods.binary_search_by(|p| (p.namespace.as_str(), p.name.as_str()).cmp(&(ns, name))).ok()?;
        self.pods.get(i)
    }

    pub fn running(&self) -> usize {
        self.pods.iter().filter(|p| p.pending.is_none()).count()
    }
}

fn service(cluster: &Cluster, s: &Service) -> ServiceView {
    let address = match (&s.cluster_ip, s.type_) {
        (_, ServiceType::ExternalName) => format!("→ {}", s.external_name.clone().unwrap_or_default()),
        (ClusterIp::Ip(ip), _) => ip.to_string(),
        (ClusterIp::Headless, _) => "headless".to_owned(),
        (ClusterIp::Unset, _) => String::new(),
    };
    let ports = s
        .ports
        .iter()
        .map(|p| match p.node_port {
            Some(np) => format!("{}:{}/{}", p.port, np, p.protocol),
            None => format!("{}/{} → {}", p.port, p.protocol, p.target_port),
        })
        .collect();
    let endpoints = cluster
        .slices_of(s)
        .flat_map(|es| {
            let port = es.ports.first().and_then(|p| p.port);
            es.endpoints.iter().map(move |e| {
                let ip = e.addresses.first().map(|a| a.to_string()).unwrap_or_default();
                let state = if e.is_ready() {
                    ""
                } else if e.is_terminating() {
                    " (terminating)"
                } else {
                    " (not ready)"
                };
                match port {
                    Some(p) => format!("{ip}:{p}{state}"),
                    None => format!("{ip}{state}"),
                }
            })
        })
        .collect();
    ServiceView {
        namespace: s.namespace.clone(),
        name: s.name.clone(),
        type_: s.type_.as_str().to_owned(),
        address,
        external: s.load_balancer_ips.iter().chain(&s.external_ips).map(ToString::to_string).collect(),
        ports,
        endpoints,
        first_port: s.ports.first().map_or(80, |p| p.port),
    }
}

/// CoreDNS behind kube-dns, and the ingress controller's address.
fn platform(cluster: &Cluster) -> Vec<String> {
    let running = |ns: &str, prefix: &str| {
        cluster.pods.iter().filter(|p| p.namespace == ns && p.name.starts_with(prefix) && p.is_running()).count()
    };
    let dns = cluster.service("kube-system", "kube-dns").map(|s| {
        let ip = match s.cluster_ip {
            ClusterIp::Ip(ip) => ip.to_string(),
            _ => String::new(),
        };
        format!("CoreDNS · kube-dns {ip} · {} pods", running("kube-system", "coredns-"))
    });
    let ingress = podpath_core::ingress::controller_service(cluster).map(|s| {
        let lb = s.load_balancer_ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        format!(
            "{} · {} · {}",
            s.namespace,
            s.type_.as_str(),
            if lb.is_empty() { "no external address".into() } else { lb }
        )
    });
    dns.into_iter().chain(ingress).collect()
}
