//! Cluster-wide settings: the CNI plugin, the proxy mode, node count and
//! address ranges, read from the `podpath.dev/v1alpha1 Cluster` object.
//!
//! Defaults are what a kubeadm (or kind) cluster with the chosen CNI plugin
//! would have; the pod CIDR in particular follows each plugin's documented
//! default so that addresses look like the real thing.

use std::fmt;

use ipnet::IpNet;
use serde::Deserialize;

/// The CNI plugin that wires pods to the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "wire", derive(serde::Serialize))]
pub enum Cni {
    Calico,
    /// The default: kubeadm's own tutorials pair `--pod-network-cidr=10.244.0.0/16`
    /// with Flannel, and its per-node /24 is the simplest model to start from.
    #[default]
    Flannel,
    Weave,
    Cilium,
    /// kind's own plugin: a point-to-point veth per pod, plain routes
    /// between the nodes, NetworkPolicy judged by kindnetd.
    Kindnet,
}

impl Cni {
    pub const ALL: [Cni; 5] = [Cni::Calico, Cni::Flannel, Cni::Weave, Cni::Cilium, Cni::Kindnet];

    /// What k3s runs inside its own binary: flannel with VXLAN.
    pub const K3S_EMBEDDED: Cni = Cni::Flannel;

    pub fn as_str(self) -> &'static str {
        match self {
            Cni::Calico => "calico",
            Cni::Flannel => "flannel",
            Cni::Weave => "weave",
            Cni::Cilium => "cilium",
            Cni::Kindnet => "kindnet",
        }
    }

    /// The pod network each plugin uses when nobody sets one: Calico's default
    /// IP pool, Flannel's `net-conf.json` Network, Weave Net's IPALLOC_RANGE,
    /// Cilium's cluster-pool `clusterPoolIPv4PodCIDRList` and kind's
    /// `podSubnet` for kindnet (kind `pkg/apis/config/v1alpha4/default.go`).
    pub fn default_cluster_cidr(self) -> IpNet {
        let text = match self {
            Cni::Calico => "192.168.0.0/16",
            Cni::Flannel | Cni::Kindnet => "10.244.0.0/16",
            Cni::Weave => "10.32.0.0/12",
            Cni::Cilium => "10.0.0.0/8",
        };
        text.parse().expect("valid literal CIDR")
    }

    /// The Service range nobody sets: kubeadm's `--service-cluster-ip-range`
    /// default, 10.96.0.0/12, except where the plugin is kind's own: kind
    /// gives its clusters `serviceSubnet: 10.96.0.0/16`
    /// (`pkg/apis/config/v1alpha4/default.go`).
    pub fn default_service_cidr(self) -> IpNet {
        let text = if self == Cni::Kindnet { "10.96.0.0/16" } else { "10.96.0.0/12" };
        text.parse().expect("valid literal CIDR")
    }

    pub fn parse(text: &str) -> Option<Cni> {
        Cni::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The Gateway API controller the plugin's own components run, by its
    /// `controllerName`: Cilium's operator implements it.
    pub fn gateway_controller(self) -> Option<&'static str> {
        (self == Cni::Cilium).then_some("io.cilium/gateway-controller")
    }
}

impl fmt::Display for Cni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How Services are implemented on each node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "wire", derive(serde::Serialize))]
pub enum ProxyMode {
    /// kube-proxy's default mode on Linux.
    #[default]
    Iptables,
    Ipvs,
    Nftables,
    /// Cilium's kube-proxy replacement; only with `cni: cilium`.
    Ebpf,
}

impl ProxyMode {
    pub const ALL: [ProxyMode; 4] = [ProxyMode::Iptables, ProxyMode::Ipvs, ProxyMode::Nftables, ProxyMode::Ebpf];

    pub fn as_str(self) -> &'static str {
        match self {
            ProxyMode::Iptables => "iptables",
            ProxyMode::Ipvs => "ipvs",
            ProxyMode::Nftables => "nftables",
            ProxyMode::Ebpf => "ebpf",
        }
    }

    pub fn parse(text: &str) -> Option<ProxyMode> {
        ProxyMode::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// Whether kube-proxy runs in this mode (Cilium's eBPF replaces it).
    pub fn is_kube_proxy(self) -> bool {
        self != ProxyMode::Ebpf
    }

    /// The mode that serves Services where `cni` runs without kube-proxy
    /// (Cilium's kube-proxy replacement).
    pub fn replacing_kube_proxy(cni: Cni) -> Option<ProxyMode> {
        (cni == Cni::Cilium).then_some(ProxyMode::Ebpf)
    }
}

impl fmt::Display for ProxyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which ingress controller the cluster runs (`spec.ingressController`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum IngressController {
    /// The NGINX Ingress Controller (ingress-nginx), the default.
    #[default]
    Nginx,
    Traefik,
    None,
}

/// Most generated nodes a scenario may ask for; beyond this the page could
/// not draw them and the model would only be slow.
pub const MAX_NODES: u32 = 1000;

/// The effective settings of a simulated cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The cluster's name; generated nodes are named after it as kind names
    /// them (`kind-control-plane`, `kind-worker`, `kind-worker2`, …).
    pub name: String,
    pub cni: Cni,
    pub proxy_mode: ProxyMode,
    /// How many nodes to generate when the input has no Node objects.
    pub nodes: u32,
    pub cluster_cidr: IpNet,
    pub service_cidr: IpNet,
    pub dns_domain: String,
    pub ingress_controller: IngressController,
    /// How the plugin carries pod traffic between nodes.
    pub encapsulation: Encapsulation,
    /// The input's KubeProxyConfiguration, if it had one; kube-proxy's
    /// settings otherwise follow kubeadm's defaults.
    pub kube_proxy: Option<KubeProxyConfig>,
    /// The input is a live cluster's dump: its own components (CNI agent,
    /// kube-proxy, ingress controller) are what runs, and podpath adds none
    /// of its own.
    pub snapshot: bool,
    /// Where the ingress controller's Service is, when a dump puts it
    /// elsewhere than its project's manifest does (k3s runs Traefik in
    /// kube-system).
    pub ingress_service: Option<(String, String)>,
    /// k3s's embedded kube-router NetworkPolicy controller enforces policy
    /// on every node, whatever the plugin (flannel alone enforces none).
    pub kube_router_policy: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::for_cni(Cni::default())
    }
}

impl Settings {
    /// Falls back to kube-proxy's iptables mode where the mode asked for
    /// cannot run with the plugin (eBPF is Cilium's kube-proxy
    /// replacement), and says why.
    pub fn fix_proxy_mode(&mut self) -> Option<String> {
        if self.proxy_mode == ProxyMode::Ebpf && self.cni != Cni::Cilium {
            self.proxy_mode = ProxyMode::Iptables;
            return Some(format!(
                "spec.proxyMode: ebpf is Cilium's kube-proxy replacement and needs cni: cilium (this cluster runs {})",
                self.cni
            ));
        }
        None
    }

    pub fn for_cni(cni: Cni) -> Self {
        Settings {
            name: "kind".to_owned(),
            cni,
            proxy_mode: ProxyMode::default(),
            nodes: 3,
            cluster_cidr: cni.default_cluster_cidr(),
            service_cidr: cni.default_service_cidr(),
            dns_domain: "cluster.local".to_owned(),
            ingress_controller: IngressController::default(),
            encapsulation: Encapsulation::default(),
            kube_proxy: None,
            snapshot: false,
            ingress_service: None,
            kube_router_policy: false,
        }
    }
}

/// The `podpath.dev/v1alpha1 Cluster` object as written in a scenario.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterObject {
    #[serde(default)]
    pub metadata: ClusterMeta,
    #[serde(default)]
    pub spec: ClusterSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ClusterMeta {
    pub name: Option<String>,
}

/// Every field is optional; absent ones take the defaults of the chosen CNI.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    pub cni: Option<Cni>,
    pub proxy_mode: Option<ProxyMode>,
    pub nodes: Option<u32>,
    #[serde(rename = "clusterCIDR")]
    pub cluster_cidr: Option<IpNet>,
    #[serde(rename = "serviceCIDR")]
    pub service_cidr: Option<IpNet>,
    pub dns_domain: Option<String>,
    pub ingress_controller: Option<IngressController>,
    /// Read now so dual-stack scenarios load; IPv6 is not modelled yet.
    pub ip_families: Option<Vec<String>>,
    /// The plugin's encapsulation: calico `IPIP` (its manifest's default),
    /// `VXLAN`, `IPIPCrossSubnet`, `VXLANCrossSubnet`, `None`; flannel
    /// `vxlan` (default) or `host-gw`; cilium `vxlan` (default), `geneve`
    /// or `native`; weave `fastdp` (default) or `sleeve`; kindnet has none.
    pub encapsulation: Option<String>,
}

/// How pod traffic crosses between nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encapsulation {
    /// The plugin's default: Calico IP-in-IP, Flannel/Cilium VXLAN, Weave fastdp.
    #[default]
    Default,
    Ipip,
    Vxlan,
    Geneve,
    /// Encapsulate only between subnets (kind's nodes share one: never).
    IpipCrossSubnet,
    VxlanCrossSubnet,
    /// Plain routes between the nodes (Flannel host-gw, Calico None,
    /// Cilium native routing).
    Direct,
    /// Weave Net's own UDP encapsulation, done by the router process in
    /// user space: what Weave falls back to without the kernel's Open
    /// vSwitch module (or with encryption on).
    Sleeve,
}

impl Encapsulation {
    /// Reads a `spec.encapsulation` value for `cni`, or says which are valid.
    pub fn parse(cni: Cni, value: &str) -> Result<Encapsulation, String> {
        let e = match (cni, value) {
            (Cni::Calico, "IPIP") | (Cni::Flannel, "vxlan") | (Cni::Cilium, "vxlan") | (Cni::Weave, "fastdp") => {
                Encapsulation::Default
            }
            (Cni::Calico, "VXLAN") => Encapsulation::Vxlan,
            (Cni::Calico, "IPIPCrossSubnet") => Encapsulation::IpipCrossSubnet,
            (Cni::Calico, "VXLANCrossSubnet") => Encapsulation::VxlanCrossSubnet,
            (Cni::Calico, "None") | (Cni::Flannel, "host-gw") | (Cni::Cilium, "native") => Encapsulation::Direct,
            (Cni::Cilium, "geneve") => Encapsulation::Geneve,
            (Cni::Weave, "sleeve") => Encapsulation::Sleeve,
            (Cni::Kindnet, _) => {
                return Err(format!(
                    "spec.encapsulation: kindnet has none to choose: it routes pod traffic between the nodes as it is (\"{value}\")"
                ))
            }
            _ => {
                let valid = match cni {
                    Cni::Calico => "IPIP, VXLAN, IPIPCrossSubnet, VXLANCrossSubnet, None",
                    Cni::Flannel => "vxlan, host-gw",
                    Cni::Cilium => "vxlan, geneve, native",
                    Cni::Weave => "fastdp, sleeve",
                    Cni::Kindnet => "",
                };
                return Err(format!("spec.encapsulation: \"{value}\" is not one of {cni}'s: {valid}"));
            }
        };
        Ok(e)
    }
}

/// Settings given outside the scenario (the CLI's `--cni`, `--proxy-mode`,
/// `--nodes`; the page's switches). They win over the `Cluster` object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Overrides {
    pub cni: Option<Cni>,
    pub proxy_mode: Option<ProxyMode>,
    pub nodes: Option<u32>,
    /// `spec.encapsulation`, in the plugin's own words.
    pub encapsulation: Option<String>,
}

impl ClusterObject {
    /// The settings this object asks for, with CNI-dependent defaults filled in.
    pub fn settings(&self) -> Settings {
        self.settings_with(&Overrides::default())
    }

    /// The settings with `overrides` applied first, so a CNI switched from
    /// outside still brings its own default pod CIDR.
    pub fn settings_with(&self, overrides: &Overrides) -> Settings {
        let mut spec = self.spec.clone();
        spec.cni = overrides.cni.or(spec.cni);
        spec.proxy_mode = overrides.proxy_mode.or(spec.proxy_mode);
        spec.nodes = overrides.nodes.or(spec.nodes);
        spec.encapsulation = overrides.encapsulation.clone().or(spec.encapsulation);
        let spec = &spec;
        let cni = spec.cni.unwrap_or_default();
        let mut s = Settings::for_cni(cni);
        if let Some(name) = self.metadata.name.as_deref().filter(|n| !n.is_empty()) {
            s.name = name.to_owned();
        }
        if let Some(mode) = spec.proxy_mode {
            s.proxy_mode = mode;
        }
        if let Some(n) = spec.nodes {
            s.nodes = n;
        }
        if let Some(cidr) = spec.cluster_cidr {
            s.cluster_cidr = cidr.trunc();
        }
        if let Some(cidr) = spec.service_cidr {
            s.service_cidr = cidr.trunc();
        }
        if let Some(ic) = spec.ingress_controller {
            s.ingress_controller = ic;
        }
        // A value for another plugin (the CNI switched from outside) falls
        // back to the plugin's default; settings_of reports bad values.
        if let Some(e) = spec.encapsulation.as_deref() {
            s.encapsulation = Encapsulation::parse(cni, e).unwrap_or_default();
        }
        if let Some(domain) = spec.dns_domain.as_deref().filter(|d| !d.is_empty()) {
            s.dns_domain = domain.trim_end_matches('.').to_owned();
        }
        s
    }
}

/// A `kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration`, the fields
/// that shape Service traffic. Everything else in a real file is accepted
/// and ignored. Fields are taken as written, as kube-proxy takes them: an
/// absent `clusterCIDR` means no local-traffic detection by CIDR.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxyConfig {
    #[serde(default)]
    pub mode: String,
    #[serde(rename = "clusterCIDR", default)]
    pub cluster_cidr: String,
    #[serde(default)]
    pub detect_local_mode: String,
    #[serde(default)]
    pub iptables: KubeProxyIptables,
    #[serde(default)]
    pub nftables: KubeProxyNftables,
    #[serde(default)]
    pub ipvs: KubeProxyIpvs,
    #[serde(default)]
    pub node_port_addresses: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxyIptables {
    pub masquerade_all: Option<bool>,
    pub masquerade_bit: Option<i32>,
    pub localhost_node_ports: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxyNftables {
    pub masquerade_all: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxyIpvs {
    #[serde(default)]
    pub scheduler: String,
}

impl KubeProxyConfig {
    /// The proxy mode this configuration selects; empty means kube-proxy's
    /// default on Linux, iptables.
    pub fn proxy_mode(&self) -> Result<ProxyMode, String> {
        match self.mode.as_str() {
            "" | "iptables" => Ok(ProxyMode::Iptables),
            "ipvs" => Ok(ProxyMode::Ipvs),
            "nftables" => Ok(ProxyMode::Nftables),
            other => Err(format!("mode: Invalid value: \"{other}\": must be iptables, ipvs or nftables")),
        }
    }
}

/// A CNI plugin's node agent as a live cluster's dump shows it (its
/// DaemonSet's name, from the project's own manifest), and the plugin
/// podpath simulates for it: itself, or the closest for plugins it does
/// not simulate (see `detect`).
#[derive(Debug)]
pub struct CniAgent {
    /// The DaemonSet's name (or its start, where `prefix`).
    pub name: &'static str,
    pub prefix: bool,
    /// The plugin's own name, for messages.
    pub plugin: &'static str,
    pub cni: Cni,
    /// `spec.encapsulation` in the plugin's words, where not its default.
    pub encapsulation: Option<&'static str>,
    /// Why the fallback is the closest, for plugins podpath does not simulate.
    pub fallback: Option<&'static str>,
}

pub const CNI_AGENTS: &[CniAgent] = &[
    CniAgent { name: "calico-node", prefix: false, plugin: "Calico", cni: Cni::Calico, encapsulation: None, fallback: None },
    CniAgent { name: "cilium", prefix: false, plugin: "Cilium", cni: Cni::Cilium, encapsulation: None, fallback: None },
    CniAgent { name: "kube-flannel-ds", prefix: true, plugin: "Flannel", cni: Cni::Flannel, encapsulation: None, fallback: None },
    CniAgent { name: "weave-net", prefix: false, plugin: "Weave Net", cni: Cni::Weave, encapsulation: None, fallback: None },
    CniAgent { name: "kindnet", prefix: false, plugin: "kindnet", cni: Cni::Kindnet, encapsulation: None, fallback: None },
    CniAgent {
        name: "aws-node",
        prefix: false,
        plugin: "the Amazon VPC CNI",
        cni: Cni::Calico,
        encapsulation: Some("None"),
        fallback: Some("Calico with plain routes between the nodes: pods have routable addresses and no overlay, as with VPC addresses"),
    },
    CniAgent {
        name: "azure-cns",
        prefix: false,
        plugin: "Azure CNI",
        cni: Cni::Calico,
        encapsulation: Some("None"),
        fallback: Some("Calico with plain routes between the nodes: pods have routable addresses and no overlay"),
    },
    CniAgent {
        name: "ovnkube-node",
        prefix: false,
        plugin: "OVN-Kubernetes",
        cni: Cni::Cilium,
        encapsulation: Some("geneve"),
        fallback: Some("Cilium with Geneve tunnels between the nodes, the overlay OVN-Kubernetes uses"),
    },
    CniAgent {
        name: "antrea-agent",
        prefix: false,
        plugin: "Antrea",
        cni: Cni::Cilium,
        encapsulation: Some("geneve"),
        fallback: Some("Cilium with Geneve tunnels between the nodes, Antrea's default overlay"),
    },
    CniAgent {
        name: "anetd",
        prefix: false,
        plugin: "GKE Dataplane V2",
        cni: Cni::Cilium,
        encapsulation: Some("native"),
        fallback: Some("Cilium with native routing: Dataplane V2 is built on Cilium"),
    },
];
