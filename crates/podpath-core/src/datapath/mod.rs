//! The CNI plugins and the plumbing they build, as data: one module per
//! plugin behind the [`Plugin`] interface, as `proxy/` has one per service
//! proxy mode.
//!
//! - `netns.rs` — the model every plugin builds: network namespaces, links,
//!   routes, FDB and neighbour entries, rendered as `ip` and `bridge` print
//!   them, and the kernel's route lookup;
//! - `forward.rs` — generic forwarding over that model: out of a pod onto
//!   its node, and from a node to the destination, across the tunnel or the
//!   wire, asking the plugin only where it differs;
//! - `flannel.rs`, `calico/`, `cilium.rs`, `weave.rs`, `kindnet.rs` — each plugin's
//!   devices, routes and veths, its encapsulation and what the tunnel header
//!   carries, its IPAM scheme, its NetworkPolicy enforcement and where it
//!   happens, and its own components as its project ships them.
//!
//! [`plugin`] is the one place that lists the plugins: a new one is a new
//! file here and a line there.

mod calico;
pub(crate) mod cilium;
mod flannel;
mod forward;
pub(crate) mod kindnet;
mod netns;
mod weave;

use std::net::IpAddr;

pub use crate::packet::{Encap, Mac, Outer};
pub use cilium::identity as cilium_identity;
pub use forward::{Arrival, Ingress};
pub use netns::{Fdb, Kind, Link, Neigh, Netns, NodeNet, Route, Scope};

use crate::cluster::{Cluster, IpamScheme, Node, Pod};
use crate::settings::{Cni, Encapsulation};
use crate::step::{Place, Step};

/// A CNI plugin: everything podpath knows that differs from one plugin to
/// the next. Facts come from each plugin's stock manifest on a kind node.
pub trait Plugin: Sync {
    fn cni(&self) -> Cni;

    /// How it hands out pod addresses.
    fn ipam(&self) -> IpamScheme;

    /// Its own components (agents, ConfigMaps) as its project's manifest
    /// ships them, templated with the cluster's ranges.
    fn manifest(&self) -> &'static str;

    /// What it enforces of NetworkPolicy.
    fn enforcement(&self) -> Enforcement;

    /// Where it enforces one direction of policy, as a trace hop names it.
    fn policy_place(&self, egress: bool) -> Place;

    /// Its own devices and routes in a node's host namespace, and how its
    /// pods' veths are made there.
    fn plumb_host(&self, cluster: &Cluster, node: &Node, host: &mut Netns) -> Wiring;

    /// The host-side name of a pod's veth.
    fn veth_name(&self, pod: &Pod) -> String;

    /// The host side's MAC (the kernel's random one, fixed per name here).
    fn veth_mac(&self, veth: &str) -> Mac {
        Mac::from_name(&format!("{veth} host"))
    }

    /// A pod's addresses and routes, and the host routes that lead to it;
    /// `None` when the node cannot wire pods at all.
    fn plumb_pod(&self, cluster: &Cluster, node: &Node, ip: IpAddr, veth: &str, host: &mut Netns) -> Option<PodNet>;

    /// What the host side of a pod's veth does with a frame for `dst`.
    fn veth_detail(&self, net: &Network, dst: IpAddr) -> String;

    /// The step where the node switches a packet for `dst` as a bridge
    /// (by MAC, no router hop) instead of routing it by `route`, if it does.
    fn bridge_step(&self, _net: &Network, _route: &Route, _dst: IpAddr) -> Option<Step> {
        None
    }

    /// Whether `route` sends a packet for `dst` into the plugin's tunnel.
    fn tunnels(&self, cluster: &Cluster, route: &Route, dst: IpAddr) -> bool;

    /// How a packet from `src` crosses from node `from` to node `to`.
    fn encap(&self, cluster: &Cluster, from: &str, to: &str, src: IpAddr) -> Encap;

    /// The step that puts the packet in the tunnel on `host`, towards the
    /// node `remote` at `remote_ip`: the device, the line that decided, why.
    fn encapsulate(&self, cluster: &Cluster, host: &Netns, route: &Route, remote: &str, encap: Encap) -> Tunneled;

    /// The plugin's own iptables rules and ipsets on a node (Calico's
    /// Felix chains), if it writes any.
    fn rules(&self, _cluster: &Cluster, _node: &NodeNet) -> Option<PluginRules> {
        None
    }

    /// Whether the node behind the tunnel routes the decapsulated packet
    /// (a router hop) rather than handing it straight to the pod.
    fn routes_after_decap(&self) -> bool {
        true
    }

    /// Whether the first node that judges a connection judges both of its
    /// sides, the client's egress and the server's ingress together
    /// (kindnetd), rather than each side on its own pod's node.
    fn judges_both_sides(&self) -> bool {
        false
    }
}

/// The plugin of `cni`.
pub fn plugin(cni: Cni) -> &'static dyn Plugin {
    match cni {
        Cni::Flannel => &flannel::Flannel,
        Cni::Calico => &calico::Calico,
        Cni::Cilium => &cilium::Cilium,
        Cni::Weave => &weave::Weave,
        Cni::Kindnet => &kindnet::Kindnet,
    }
}

/// How a plugin makes its pods' veths on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wiring {
    /// The veths' MTU, both ends.
    pub mtu: u32,
    /// The bridge the host ends are ports of, if any.
    pub bridge: Option<&'static str>,
    /// Whether the host ends answer ARP for any address (Calico's pods
    /// route through 169.254.1.1, which no device has).
    pub proxy_arp: bool,
    /// Whether the bridge may send a frame back out of the port it came in
    /// by: a pod reaching itself through its Service.
    pub hairpin: bool,
}

/// A pod's own side of its plumbing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodNet {
    /// The prefix of the pod's address on its eth0.
    pub prefix: u8,
    pub routes: Vec<Route>,
    pub neigh: Vec<Neigh>,
}

/// The step into a tunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tunneled {
    pub dev: String,
    /// The FDB entry, route or tunnel map entry that named the far end.
    pub rule: Option<String>,
    pub detail: String,
}

/// What a plugin enforces of NetworkPolicy, where it differs from the
/// API's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enforcement {
    pub cni: Cni,
    /// Whether the plugin enforces NetworkPolicy at all.
    pub enforced: bool,
    /// Whether an `ipBlock` matches addresses of pods in the cluster.
    pub ip_block_matches_pods: bool,
    /// Whether an `ipBlock` matches the nodes' addresses (and so traffic
    /// from other nodes and host-network pods).
    pub ip_block_matches_nodes: bool,
    /// Whether `endPort` ranges are honoured (else only `port` matches).
    pub end_port: bool,
    /// Whether traffic from a pod's own node is let in whatever the
    /// policies say.
    pub host_always_allowed: bool,
    /// Whether rules may name container ports; where not, a policy that
    /// does is not applied at all.
    pub named_ports: bool,
    /// The plugin's release, and the cluster-wide policy kinds
    /// (`policy.networking.k8s.io`) that release enforces.
    pub cluster_policies: (&'static str, &'static [&'static str]),
}

impl Enforcement {
    /// The API as written: everything enforced.
    pub fn full(cni: Cni) -> Enforcement {
        Enforcement {
            cni,
            enforced: true,
            ip_block_matches_pods: true,
            ip_block_matches_nodes: true,
            end_port: true,
            host_always_allowed: true,
            named_ports: true,
            cluster_policies: ("", &[]),
        }
    }

    /// What the plugin of `cni` enforces.
    pub fn of(cni: Cni) -> Enforcement {
        plugin(cni).enforcement()
    }

    /// What the cluster enforces: its plugin's enforcement, or all of the
    /// API where k3s's kube-router controller does it.
    pub fn of_settings(settings: &crate::settings::Settings) -> Enforcement {
        if settings.kube_router_policy {
            Enforcement::full(settings.cni)
        } else {
            Enforcement::of(settings.cni)
        }
    }
}

/// Where the cluster enforces one direction of policy, as a trace hop
/// names it: the plugin's place, or kube-router's in k3s.
pub fn policy_place(settings: &crate::settings::Settings, egress: bool) -> Place {
    if settings.kube_router_policy {
        Place::Agent { name: "kube-router".into(), note: "k3s's embedded NetworkPolicy controller".into() }
    } else {
        plugin(settings.cni).policy_place(egress)
    }
}

/// A plugin's own netfilter state on a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginRules {
    /// What it adds to the `filter` table where its NetworkPolicy is
    /// iptables rules (Calico's Felix chains).
    pub filter: Option<crate::netfilter::Additions>,
    /// What it adds to the `nat` table (kindnet's masquerade).
    pub nat: Option<crate::netfilter::Additions>,
    pub sets: crate::netfilter::ipset::IpSets,
    /// Its own nftables table (kindnetd's NetworkPolicy queue).
    pub nft: Option<crate::netfilter::nft::NftTable>,
}

/// The cluster's plumbing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    pub cni: Cni,
    pub encapsulation: Encapsulation,
    pub nodes: Vec<NodeNet>,
}

impl Network {
    pub fn node(&self, name: &str) -> Option<&NodeNet> {
        self.nodes.iter().find(|n| n.node == name)
    }

    /// The plugin that built it.
    pub fn plugin(&self) -> &'static dyn Plugin {
        plugin(self.cni)
    }

    /// The plugin's own iptables rules and ipsets on `node`, if it writes any.
    pub fn rules(&self, cluster: &Cluster, node: &str) -> Option<PluginRules> {
        self.plugin().rules(cluster, self.node(node)?)
    }

    /// How the plugin carries a packet from `src` between two nodes: the
    /// tunnel and what its header carries.
    pub fn encap(&self, cluster: &Cluster, from: &str, to: &str, src: IpAddr) -> Encap {
        self.plugin().encap(cluster, from, to, src)
    }
}

/// Builds every node's plumbing for the cluster's plugin: the host's
/// uplink, the plugin's own devices and routes, then one veth pair and
/// namespace per pod with its own network, in name order.
pub fn build(cluster: &Cluster) -> Network {
    let plugin = plugin(cluster.settings.cni);
    // Each node's pods, found in one pass (20,000 pods on 200 nodes made a
    // filter per node 4 million comparisons).
    let mut by_node: std::collections::BTreeMap<&str, Vec<&Pod>> = std::collections::BTreeMap::new();
    for p in cluster.pods.iter().filter(|p| !p.host_network) {
        if let Some(node) = p.node.as_deref() {
            by_node.entry(node).or_default().push(p);
        }
    }
    let mut nodes = Vec::new();
    for node in &cluster.nodes {
        let mut net =
            NodeNet { node: node.name.clone(), host: netns::host_base(node.internal_ip), ..NodeNet::default() };
        // A node's further addresses sit on its NIC beside the first.
        if let Some(eth0) = net.host.links.iter_mut().find(|l| l.name == "eth0") {
            eth0.addrs.extend(node.other_ips.iter().map(|ip| ipnet::IpNet::from(*ip)));
        }
        let wiring = plugin.plumb_host(cluster, node, &mut net.host);
        let mut pods: Vec<&Pod> = by_node.remove(node.name.as_str()).unwrap_or_default();
        crate::order::sort_by_cached_key(&mut pods, |p| p.key());
        for pod in pods {
            let Some(ip) = pod.ip else { continue };
            let veth = plugin.veth_name(pod);
            let host_index = net.host.next_index();
            net.host.add(Link {
                index: 0,
                name: veth.clone(),
                kind: Kind::Veth { peer_netns: pod.key(), peer_index: 2 },
                mtu: wiring.mtu,
                mac: plugin.veth_mac(&veth),
                addrs: vec![],
                master: wiring.bridge.map(str::to_owned),
                hairpin: wiring.hairpin,
            });
            if wiring.proxy_arp {
                // As Calico's CNI plugin sets them on the host end
                // (configureSysctls), and Felix after it (rp_filter,
                // route_localnet: configureInterface).
                for (key, value) in [
                    ("conf", "proxy_arp", "1"),
                    ("neigh", "proxy_delay", "0"),
                    ("conf", "forwarding", "1"),
                    ("conf", "rp_filter", "1"),
                    ("conf", "route_localnet", "1"),
                ]
                .map(|(group, name, value)| (format!("net.ipv4.{group}.{veth}.{name}"), value))
                {
                    net.host.sysctls.push((key, value.to_owned()));
                }
            }
            let Some(pod_net) = plugin.plumb_pod(cluster, node, ip, &veth, &mut net.host) else { continue };
            let mut ns = netns::pod_netns(pod, ip, pod_net.prefix, wiring.mtu, host_index, pod_net.routes);
            ns.neigh = pod_net.neigh;
            net.pods.insert(pod.key(), ns);
            net.pod_veth.insert(pod.key(), veth);
        }
        nodes.push(net);
    }
    Network { cni: cluster.settings.cni, encapsulation: cluster.settings.encapsulation, nodes }
}

/// SHA-1 of a text (Calico names veths after it).
fn sha1(s: &str) -> Vec<u8> {
    use sha1::{Digest, Sha1};
    Sha1::digest(s.as_bytes()).to_vec()
}
