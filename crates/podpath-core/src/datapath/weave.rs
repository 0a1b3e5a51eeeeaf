//! Weave Net 2.8: one L2 network over the whole range (10.32.0.0/12) on
//! the `weave` bridge (MTU 1376), the host's address on it from `weave
//! expose`, the range split between peers as they join. Other nodes' pods
//! are reached through the `datapath` device (Open vSwitch, "fastdp"),
//! which encapsulates in VXLAN on UDP 6784 with the two peers' short ids
//! as the VNI, destination above source (`router/fastdp.go`,
//! `extractPeers`); without it ("sleeve") the router process captures on
//! `vethwe-pcap` and sends frames in its own UDP format on 6783: the
//! sender's peer name, then per frame the capturing and destination peers
//! and the length (`router/sleeve.go`), DF off. weave-npc enforces policy
//! in iptables; it predates `endPort` and cannot program named ports.

use std::net::IpAddr;

use ipnet::IpNet;

use super::netns::{hex, Kind, Link, Netns, Route, Scope};
use super::{Enforcement, Network, Plugin, PodNet, Tunneled, Wiring};
use crate::cluster::{Cluster, IpamScheme, Node, Pod};
use crate::names::fnv64a;
use crate::packet::{Encap, Mac};
use crate::settings::{Cni, Encapsulation};
use crate::step::{Action, Place, Step};

#[derive(Debug)]
pub(super) struct Weave;

/// A Weave peer's name: the MAC address of its `weave` bridge.
fn peer_name(node: &str) -> Mac {
    Mac::from_name(&format!("weave {node}"))
}

/// A Weave peer's 12-bit short id. Real peers pick one at random and
/// resolve clashes through gossip; here a hash of the node's name, the next
/// free one on a clash, in node order.
fn short_id(cluster: &Cluster, node: &str) -> u32 {
    let mut taken = Vec::new();
    for n in &cluster.nodes {
        let mut id = (fnv64a(format!("weave peer {}", n.name).as_bytes()) % 4096) as u32;
        while taken.contains(&id) {
            id = (id + 1) % 4096;
        }
        if n.name == node {
            return id;
        }
        taken.push(id);
    }
    0
}

fn sleeve(cluster: &Cluster) -> bool {
    cluster.settings.encapsulation == Encapsulation::Sleeve
}

/// Whether `dst` is on the pods' one L2 network: the weave bridge's range.
fn on_the_l2(net: &Network, dst: IpAddr) -> bool {
    net.nodes
        .first()
        .and_then(|n| n.host.link("weave"))
        .is_some_and(|l| l.addrs.iter().any(|a| a.trunc().contains(&dst)))
}

impl Plugin for Weave {
    fn cni(&self) -> Cni {
        Cni::Weave
    }

    fn ipam(&self) -> IpamScheme {
        IpamScheme::Split
    }

    fn manifest(&self) -> &'static str {
        include_str!("weave.yaml")
    }

    /// weave-npc predates endPort and matches `port` alone, and it cannot
    /// program a named port: upstream it exits on one (weave#3032), the
    /// maintained fork rejects the policy.
    fn enforcement(&self) -> Enforcement {
        Enforcement { end_port: false, named_ports: false, ..Enforcement::full(Cni::Weave) }
    }

    fn policy_place(&self, egress: bool) -> Place {
        let chain = if egress { "WEAVE-NPC-EGRESS" } else { "WEAVE-NPC-INGRESS" };
        Place::Chain { table: "filter".into(), chain: chain.into(), note: None }
    }

    /// fastdp: the Open vSwitch datapath, the bridge, a veth pair between
    /// them, and the datapath's VXLAN port. Sleeve: the bridge and a veth
    /// pair whose far end the router captures on.
    fn plumb_host(&self, cluster: &Cluster, node: &Node, host: &mut Netns) -> Wiring {
        let whole = cluster.settings.cluster_cidr;
        let sleeve = sleeve(cluster);
        let dev = |name: &str, kind: Kind, master: Option<&str>| Link {
            index: 0,
            name: name.into(),
            kind,
            mtu: 1376,
            mac: Mac::from_name(&format!("{name} {}", node.name)),
            addrs: vec![],
            master: master.map(str::to_owned),
            hairpin: false,
        };
        if !sleeve {
            host.add(dev("datapath", Kind::Other("openvswitch"), None));
        }
        let mut bridge = dev("weave", Kind::Bridge, None);
        let gw = node.network.gateway;
        bridge.addrs = gw.map(|g| IpNet::new(g, whole.prefix_len()).expect("valid")).into_iter().collect();
        host.add(bridge);
        let far = if sleeve { "vethwe-pcap" } else { "vethwe-datapath" };
        let first = host.next_index();
        let same_ns = |peer_index| Kind::Veth { peer_netns: String::new(), peer_index };
        host.add(dev(far, same_ns(first + 1), (!sleeve).then_some("datapath")));
        host.add(dev("vethwe-bridge", same_ns(first), Some("weave")));
        if !sleeve {
            let mut vx = dev("vxlan-6784", Kind::Vxlan { vni: 0, port: 6784 }, Some("datapath"));
            vx.mtu = 65535;
            host.add(vx);
        }
        if let Some(g) = gw {
            host.routes.push(Route::connected(whole, "weave", g));
        }
        Wiring { mtu: 1376, bridge: Some("weave"), proxy_arp: false, hairpin: false }
    }

    fn veth_name(&self, pod: &Pod) -> String {
        format!("vethwepl{}", &hex(&fnv64a(pod.key().as_bytes()).to_be_bytes())[..7])
    }

    /// The whole range on eth0 and the default route via the bridge.
    fn plumb_pod(&self, cluster: &Cluster, node: &Node, ip: IpAddr, _veth: &str, _host: &mut Netns) -> Option<PodNet> {
        let whole = cluster.settings.cluster_cidr;
        let mut d = Route::to(None, "eth0");
        d.via = node.network.gateway;
        let mut own = Route::to(Some(whole.trunc()), "eth0");
        own.proto = Some("kernel");
        own.scope = Scope::Link;
        own.src = Some(ip);
        Some(PodNet { prefix: whole.prefix_len(), routes: vec![d, own], neigh: Vec::new() })
    }

    /// Weave's pods share one L2 network: a frame for another pod carries
    /// that pod's MAC, one for elsewhere the bridge's.
    fn veth_detail(&self, net: &Network, dst: IpAddr) -> String {
        if on_the_l2(net, dst) {
            "the frame crosses the veth onto the bridge, addressed to the destination pod's MAC (one L2 network)"
        } else {
            "the frame crosses the veth onto the bridge, addressed to the bridge's own MAC"
        }
        .to_owned()
    }

    /// The route only says the range is on the bridge: the bridge forwards
    /// the frame by the destination pod's MAC, on this node or over the
    /// overlay; no router hop, the TTL stays.
    fn bridge_step(&self, net: &Network, route: &Route, dst: IpAddr) -> Option<Step> {
        (route.dev == "weave" && on_the_l2(net, dst)).then(|| {
            Step::new(
                Place::Bridge("weave".into()),
                Action::Bridged,
                format!("one L2 network: the weave bridge forwards the frame to {dst}'s MAC, on this node or over the overlay"),
            )
        })
    }

    fn tunnels(&self, cluster: &Cluster, route: &Route, dst: IpAddr) -> bool {
        route.dev == "weave" && cluster.settings.cluster_cidr.contains(&dst)
    }

    /// fastdp's VNI names both ends: the destination peer's short id above
    /// the source's, 12 bits each.
    fn encap(&self, cluster: &Cluster, from: &str, to: &str, _src: IpAddr) -> Encap {
        if sleeve(cluster) {
            return Encap::Sleeve { port: 6783, src_peer: peer_name(from), dst_peer: peer_name(to) };
        }
        Encap::Vxlan { vni: (short_id(cluster, to) << 12) | short_id(cluster, from), port: 6784 }
    }

    fn encapsulate(&self, cluster: &Cluster, _host: &Netns, _route: &Route, remote: &str, encap: Encap) -> Tunneled {
        if sleeve(cluster) {
            return Tunneled {
                dev: "vethwe-pcap".into(),
                rule: None,
                detail: format!(
                    "sleeve: the weave router (a user-space process) captures the frame from the bridge and sends it to the peer on {remote} in its own UDP encapsulation, port 6783"
                ),
            };
        }
        let detail = match encap {
            Encap::Vxlan { vni, .. } => format!(
                "fastdp: the Open vSwitch datapath sends it to the peer in VXLAN on UDP 6784, VNI {vni} (the peers' short ids: {} to, {} from)",
                vni >> 12,
                vni & 0xfff
            ),
            _ => String::new(),
        };
        Tunneled { dev: "vxlan-6784".into(), rule: None, detail }
    }
}
