//! Calico with its stock `calico.yaml`: IP-in-IP `Always` by default
//! (`tunl0`, MTU 1480, taking the first address of the node's first /26
//! block), or VXLAN (`vxlan.calico`, VNI 4096, UDP 4789, MAC 66:…, `proto 80`
//! routes), or plain routes for CrossSubnet and None (kind's nodes share a
//! subnet). No bridge: `cali` + sha1(ns.pod)[:11] veths with
//! ee:ee:ee:ee:ee:ee, the pods' gateway 169.254.1.1 answered by proxy ARP,
//! a `/32 dev cali… scope link` route per local pod, the node's own block
//! blackholed and the others' learned by BIRD. Felix enforces policy in
//! the `cali-fw-`/`cali-tw-` chains of each workload's interface.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

pub mod felix;
mod policies;
mod selectors;

use super::netns::{hex, Fdb, Kind, Link, Neigh, Netns, Route, Scope};
use super::{sha1, Enforcement, Network, NodeNet, Plugin, PluginRules, PodNet, Tunneled, Wiring};
use crate::cluster::{Cluster, IpamScheme, Node, Pod};
use crate::packet::{Encap, Mac};
use crate::settings::{Cni, Encapsulation};
use crate::step::Place;

#[derive(Debug)]
pub(super) struct Calico;

/// Calico's default `blockSize`.
const BLOCK: u8 = 26;

/// What every workload's default route points at; no one has it.
const GATEWAY: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 1);

/// vxlan.calico's address: felix derives it from the host name, always
/// starting with 66.
fn vxlan_mac(node: &str) -> Mac {
    let mut m = Mac::from_name(&format!("vxlan.calico {node}"));
    m.0[0] = 0x66;
    m
}

/// The route BIRD (or felix, for VXLAN) programs to another node's block.
/// kind's nodes share one subnet: CrossSubnet and None route straight over
/// eth0.
fn block_route(enc: Encapsulation, block: IpNet, other: &Node, ip: IpAddr) -> Route {
    match enc {
        Encapsulation::Vxlan => {
            let mut rt = Route::to(Some(block), "vxlan.calico");
            rt.via = other.network.gateway;
            rt.proto = Some("80");
            rt.onlink = true;
            rt
        }
        Encapsulation::Default | Encapsulation::Ipip => {
            let mut rt = Route::to(Some(block), "tunl0");
            rt.via = Some(ip);
            rt.proto = Some("bird");
            rt.onlink = true;
            rt
        }
        _ => {
            let mut rt = Route::to(Some(block), "eth0");
            rt.via = Some(ip);
            rt.proto = Some(if enc == Encapsulation::VxlanCrossSubnet { "80" } else { "bird" });
            rt
        }
    }
}

impl Plugin for Calico {
    fn cni(&self) -> Cni {
        Cni::Calico
    }

    fn ipam(&self) -> IpamScheme {
        IpamScheme::Blocks { prefix: BLOCK }
    }

    fn manifest(&self) -> &'static str {
        include_str!("calico.yaml")
    }

    fn enforcement(&self) -> Enforcement {
        // v3.29 added the v1alpha1 admin policies; ClusterNetworkPolicy
        // (v1alpha2) comes with v3.32.
        Enforcement {
            cluster_policies: ("calico v3.30", &["AdminNetworkPolicy", "BaselineAdminNetworkPolicy"]),
            ..Enforcement::full(Cni::Calico)
        }
    }

    fn policy_place(&self, egress: bool) -> Place {
        let (chain, note) = if egress { ("cali-fw", "from the workload") } else { ("cali-tw", "to the workload") };
        Place::Chain { table: "filter".into(), chain: chain.into(), note: Some(note.into()) }
    }

    fn plumb_host(&self, cluster: &Cluster, node: &Node, host: &mut Netns) -> Wiring {
        let enc = cluster.settings.encapsulation;
        let vxlan = matches!(enc, Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet);
        let own_addr = || node.network.gateway.map(|g| IpNet::new(g, 32).expect("valid")).into_iter().collect();
        if vxlan {
            host.add(Link {
                index: 0,
                name: "vxlan.calico".into(),
                kind: Kind::Vxlan { vni: 4096, port: 4789 },
                mtu: 1450,
                mac: vxlan_mac(&node.name),
                addrs: own_addr(),
                master: None,
                hairpin: false,
            });
        } else if enc != Encapsulation::Direct {
            let addrs = own_addr();
            host.add(Link {
                index: 0,
                name: "tunl0".into(),
                kind: Kind::Ipip,
                mtu: 1480,
                mac: Mac([0; 6]),
                addrs,
                master: None,
                hairpin: false,
            });
        }
        for block in &node.network.pod_ranges {
            let mut rt = Route::to(Some(*block), "");
            rt.blackhole = true;
            rt.proto = Some("bird");
            host.routes.push(rt);
        }
        for other in cluster.nodes.iter().filter(|o| o.name != node.name) {
            let Some(ip) = other.internal_ip else { continue };
            host.routes.extend(other.network.pod_ranges.iter().map(|b| block_route(enc, *b, other, ip)));
            if enc == Encapsulation::Vxlan {
                host.fdb.push(Fdb { mac: vxlan_mac(&other.name), dev: "vxlan.calico".into(), dst: ip });
                if let Some(remote) = other.network.gateway {
                    let mac = vxlan_mac(&other.name);
                    host.neigh.push(Neigh { ip: remote, dev: "vxlan.calico".into(), mac, state: "PERMANENT" });
                }
            }
        }
        let mtu = match enc {
            Encapsulation::Default | Encapsulation::Ipip | Encapsulation::IpipCrossSubnet => 1480,
            Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet => 1450,
            _ => 1500,
        };
        Wiring { mtu, bridge: None, proxy_arp: true, hairpin: false }
    }

    fn veth_name(&self, pod: &Pod) -> String {
        format!("cali{}", &hex(&sha1(&format!("{}.{}", pod.namespace, pod.name)))[..11])
    }

    fn veth_mac(&self, _veth: &str) -> Mac {
        Mac([0xee; 6])
    }

    /// A /32 on eth0, the default route via 169.254.1.1 (no one's address:
    /// the host side of the veth answers its ARP request with its own MAC),
    /// and on the host a /32 route to the pod by its veth.
    fn plumb_pod(&self, _cluster: &Cluster, _node: &Node, ip: IpAddr, veth: &str, host: &mut Netns) -> Option<PodNet> {
        let mut rt = Route::to(Some(IpNet::new(ip, 32).expect("valid")), veth);
        rt.scope = Scope::Link;
        host.routes.push(rt);
        let gateway = IpAddr::V4(GATEWAY);
        let mut d = Route::to(None, "eth0");
        d.via = Some(gateway);
        let mut g = Route::to(Some(IpNet::new(gateway, 32).expect("valid")), "eth0");
        g.scope = Scope::Link;
        let neigh = vec![Neigh { ip: gateway, dev: "eth0".into(), mac: Mac([0xee; 6]), state: "REACHABLE" }];
        Some(PodNet { prefix: 32, routes: vec![d, g], neigh })
    }

    /// Felix's chains, policies, profiles and ipsets for the node's workloads.
    fn rules(&self, cluster: &Cluster, node: &NodeNet) -> Option<PluginRules> {
        Some(felix::build(cluster, &node.node, &node.pod_veth))
    }

    fn veth_detail(&self, _net: &Network, _dst: IpAddr) -> String {
        "the host side of the pod's veth answers ARP for 169.254.1.1 (proxy ARP)".to_owned()
    }

    fn tunnels(&self, _cluster: &Cluster, route: &Route, _dst: IpAddr) -> bool {
        route.dev == "tunl0" || route.dev == "vxlan.calico"
    }

    fn encap(&self, cluster: &Cluster, _from: &str, _to: &str, _src: IpAddr) -> Encap {
        match cluster.settings.encapsulation {
            Encapsulation::Vxlan => Encap::Vxlan { vni: 4096, port: 4789 },
            _ => Encap::Ipip,
        }
    }

    fn encapsulate(&self, cluster: &Cluster, host: &Netns, route: &Route, remote: &str, _encap: Encap) -> Tunneled {
        let rip = cluster.node(remote).and_then(|n| n.internal_ip);
        if route.dev == "vxlan.calico" {
            return Tunneled {
                dev: "vxlan.calico".into(),
                rule: host.fdb.iter().find(|e| Some(e.dst) == rip).map(Fdb::to_string),
                detail: "VXLAN (VNI 4096, UDP 4789): the FDB names the node behind the next hop's MAC".into(),
            };
        }
        let next = rip.map(|ip| ip.to_string()).unwrap_or_default();
        Tunneled {
            dev: "tunl0".into(),
            rule: Some(route.to_string()),
            detail: format!("IP-in-IP to {next}, the route's next hop"),
        }
    }
}
