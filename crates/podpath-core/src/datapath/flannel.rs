//! Flannel with its stock `kube-flannel.yml`, VXLAN backend (or host-gw):
//! pods on the `cni0` bridge (the bridge CNI plugin: veths `veth…`, cni0
//! takes the node's first pod address), host-local IPAM over the node's
//! podCIDR, `flannel.1` (VNI 1, UDP 8472, MTU 1450) with a `/24 via
//! 10.244.N.0 onlink` route per other node and the FDB and ARP entries
//! flanneld programs for it; host-gw routes each node's subnet via its
//! address instead. Flannel enforces no NetworkPolicy.

use std::net::IpAddr;

use ipnet::IpNet;

use super::netns::{hex, Fdb, Kind, Link, Neigh, Netns, Route, Scope};
use super::{Enforcement, Network, Plugin, PodNet, Tunneled, Wiring};
use crate::cluster::{Cluster, IpamScheme, Node, Pod};
use crate::names::fnv64a;
use crate::packet::{Encap, Mac};
use crate::settings::{Cni, Encapsulation};
use crate::step::Place;

#[derive(Debug)]
pub(super) struct Flannel;

/// flannel.1's address: the kernel's random one, fixed per node here.
fn vtep_mac(node: &str) -> Mac {
    Mac::from_name(&format!("flannel.1 {node}"))
}

fn host_gw(cluster: &Cluster) -> bool {
    cluster.settings.encapsulation == Encapsulation::Direct
}

impl Plugin for Flannel {
    fn cni(&self) -> Cni {
        Cni::Flannel
    }

    fn ipam(&self) -> IpamScheme {
        IpamScheme::HostLocal
    }

    fn manifest(&self) -> &'static str {
        include_str!("flannel.yaml")
    }

    fn enforcement(&self) -> Enforcement {
        Enforcement { enforced: false, ..Enforcement::full(Cni::Flannel) }
    }

    fn policy_place(&self, _egress: bool) -> Place {
        Place::Agent { name: "flannel".into(), note: "no policy enforcement".into() }
    }

    fn plumb_host(&self, cluster: &Cluster, node: &Node, host: &mut Netns) -> Wiring {
        let host_gw = host_gw(cluster);
        let (gw, range) = (node.network.gateway, node.network.pod_ranges.first().copied());
        let mtu = if host_gw { 1500 } else { 1450 };
        if !host_gw {
            host.add(Link {
                index: 0,
                name: "flannel.1".into(),
                kind: Kind::Vxlan { vni: 1, port: 8472 },
                mtu,
                mac: vtep_mac(&node.name),
                addrs: range.map(|r| IpNet::new(r.network(), 32).expect("valid")).into_iter().collect(),
                master: None,
                hairpin: false,
            });
        }
        host.add(Link {
            index: 0,
            name: "cni0".into(),
            kind: Kind::Bridge,
            mtu,
            mac: Mac::from_name(&format!("cni0 {}", node.name)),
            addrs: gw.zip(range).map(|(g, r)| IpNet::new(g, r.prefix_len()).expect("valid")).into_iter().collect(),
            master: None,
            hairpin: false,
        });
        if let (Some(g), Some(r)) = (gw, range) {
            host.routes.push(Route::connected(r, "cni0", g));
        }
        for other in cluster.nodes.iter().filter(|o| o.name != node.name) {
            let (Some(r), Some(ip)) = (other.network.pod_ranges.first(), other.internal_ip) else { continue };
            if host_gw {
                // host-gw: plain routes to each node's subnet.
                let mut rt = Route::to(Some(*r), "eth0");
                rt.via = Some(ip);
                host.routes.push(rt);
                continue;
            }
            let mut rt = Route::to(Some(*r), "flannel.1");
            rt.via = Some(r.network());
            rt.onlink = true;
            host.routes.push(rt);
            host.fdb.push(Fdb { mac: vtep_mac(&other.name), dev: "flannel.1".into(), dst: ip });
            // flanneld programs the ARP entry of the other end too.
            host.neigh.push(Neigh {
                ip: r.network(),
                dev: "flannel.1".into(),
                mac: vtep_mac(&other.name),
                state: "PERMANENT",
            });
        }
        // kube-flannel's CNI configuration delegates to the bridge plugin
        // with hairpinMode: true (flannel.yaml).
        Wiring { mtu, bridge: Some("cni0"), proxy_arp: false, hairpin: true }
    }

    fn veth_name(&self, pod: &Pod) -> String {
        format!("veth{}", &hex(&fnv64a(pod.key().as_bytes()).to_be_bytes())[..8])
    }

    /// The bridge plugin's routes: the node's subnet on eth0, the default
    /// and the whole cluster range via cni0's address.
    fn plumb_pod(&self, cluster: &Cluster, node: &Node, ip: IpAddr, _veth: &str, _host: &mut Netns) -> Option<PodNet> {
        let gw = node.network.gateway;
        let subnet = node.network.pod_ranges.first().copied().unwrap_or(cluster.settings.cluster_cidr);
        let mut d = Route::to(None, "eth0");
        d.via = gw;
        let mut own = Route::to(Some(subnet.trunc()), "eth0");
        own.proto = Some("kernel");
        own.scope = Scope::Link;
        own.src = Some(ip);
        let mut all = Route::to(Some(cluster.settings.cluster_cidr.trunc()), "eth0");
        all.via = gw;
        Some(PodNet { prefix: subnet.prefix_len(), routes: vec![d, own, all], neigh: Vec::new() })
    }

    fn veth_detail(&self, _net: &Network, _dst: IpAddr) -> String {
        "the frame crosses the veth onto the bridge, addressed to the bridge's own MAC".to_owned()
    }

    fn tunnels(&self, _cluster: &Cluster, route: &Route, _dst: IpAddr) -> bool {
        route.dev == "flannel.1"
    }

    fn encap(&self, _cluster: &Cluster, _from: &str, _to: &str, _src: IpAddr) -> Encap {
        Encap::Vxlan { vni: 1, port: 8472 }
    }

    fn encapsulate(&self, cluster: &Cluster, host: &Netns, _route: &Route, remote: &str, _encap: Encap) -> Tunneled {
        let rip = cluster.node(remote).and_then(|n| n.internal_ip);
        Tunneled {
            dev: "flannel.1".into(),
            rule: host.fdb.iter().find(|e| Some(e.dst) == rip).map(Fdb::to_string),
            detail: "VXLAN (VNI 1, UDP 8472): the FDB names the node behind the next hop's MAC".into(),
        }
    }
}
