//! Cilium (its Helm chart's defaults): cluster-pool IPAM with a /24 per
//! node, `lxc…` veths, `cilium_host`/`cilium_net` with the router address
//! anywhere in the node's range, the node's routes pointing pod CIDRs at
//! `cilium_host` and eBPF doing the forwarding. Tunnel mode is VXLAN on
//! UDP 8472 (`cilium_vxlan`) or Geneve on 6081 (`cilium_geneve`); the
//! tunnel's VNI carries the sender's security identity. Native routing
//! routes each node's range via its address. Policy is enforced by the
//! bpf programs at the pod's veth, by identity: an `ipBlock` does not
//! match pods (they have identities of their own) nor nodes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use super::netns::{hex, Kind, Link, Netns, Route, Scope};
use super::{Enforcement, Network, Plugin, PodNet, Tunneled, Wiring};
use crate::cluster::{Cluster, IpamScheme, Node, Pod};
use crate::names::fnv64a;
use crate::packet::{Encap, Mac};
use crate::settings::{Cni, Encapsulation};
use crate::step::Place;

#[derive(Debug)]
pub(super) struct Cilium;

/// The cluster-pool's default `clusterPoolIPv4MaskSize`.
const NODE_MASK: u8 = 24;

/// Labels Cilium leaves out of a pod's identity (its default label filter):
/// ones that differ from pod to pod of one workload.
fn ignores(key: &str) -> bool {
    matches!(
        key,
        "pod-template-hash" | "controller-revision-hash" | "pod-template-generation" | "controller-uid" | "job-name"
    ) || (key.contains("kubernetes.io") && !key.starts_with("app.kubernetes.io/"))
}

/// The security identity Cilium gives the sender of `ip`: 1 for a node
/// itself (`reserved:host`), 2 for anything outside the cluster
/// (`reserved:world`), and for a pod the identity of its label set
/// (its labels, its namespace's, the namespace name), shared by every pod
/// with the same set. Real identities are allocated from 256 up in the order
/// label sets appear; here each set's id comes from a hash of it, the next
/// free one on a clash, in the sets' sorted order, so ids are stable.
pub fn identity(cluster: &Cluster, ip: IpAddr) -> u32 {
    if cluster.nodes.iter().any(|n| n.internal_ip == Some(ip) || n.network.gateway == Some(ip)) {
        return 1;
    }
    cluster.cilium_identities().get(&ip).copied().unwrap_or(2)
}

/// Every pod address's identity (the first pod with an address names it),
/// worked out once per cluster: the label sets of every pod are needed to
/// number any one of them.
pub(crate) fn identities(cluster: &Cluster) -> BTreeMap<IpAddr, u32> {
    let set = |p: &Pod| -> String {
        let mut labels: Vec<String> =
            p.labels.iter().filter(|(k, _)| !ignores(k)).map(|(k, v)| format!("k8s:{k}={v}")).collect();
        if let Some(ns) = cluster.namespace_labels.get(&p.namespace) {
            labels.extend(ns.iter().map(|(k, v)| format!("k8s:io.cilium.k8s.namespace.labels.{k}={v}")));
        }
        labels.push(format!("k8s:io.kubernetes.pod.namespace={}", p.namespace));
        crate::order::sort(&mut labels);
        labels.join(",")
    };
    let pods: Vec<(IpAddr, String)> =
        cluster.pods.iter().filter(|p| !p.host_network).filter_map(|p| Some((p.ip?, set(p)))).collect();
    let sets: BTreeSet<&str> = pods.iter().map(|(_, s)| s.as_str()).collect();
    let mut taken = BTreeSet::new();
    let mut ids: BTreeMap<&str, u32> = BTreeMap::new();
    for s in sets {
        let mut id = 256 + (fnv64a(s.as_bytes()) % (65536 - 256)) as u32;
        while !taken.insert(id) {
            id = if id == 65535 { 256 } else { id + 1 };
        }
        ids.insert(s, id);
    }
    let mut out = BTreeMap::new();
    for (ip, s) in &pods {
        out.entry(*ip).or_insert(ids[s.as_str()]);
    }
    out
}

/// `cilium_net` and `cilium_host`, a veth pair in the host's namespace,
/// the router address on `cilium_host`.
fn host_pair(node: &Node, host: &mut Netns) {
    let pair = |peer_index| Kind::Veth { peer_netns: String::new(), peer_index };
    let first = host.next_index();
    host.add(Link {
        index: 0,
        name: "cilium_net".into(),
        kind: pair(first + 1),
        mtu: 1500,
        mac: Mac::from_name(&format!("cilium_net {}", node.name)),
        addrs: vec![],
        master: None,
        hairpin: false,
    });
    host.add(Link {
        index: 0,
        name: "cilium_host".into(),
        kind: pair(first),
        mtu: 1500,
        mac: Mac::from_name(&format!("cilium_host {}", node.name)),
        addrs: node.network.gateway.map(|g| IpNet::new(g, 32).expect("valid")).into_iter().collect(),
        master: None,
        hairpin: false,
    });
}

impl Plugin for Cilium {
    fn cni(&self) -> Cni {
        Cni::Cilium
    }

    fn ipam(&self) -> IpamScheme {
        IpamScheme::Pool { prefix: NODE_MASK }
    }

    fn manifest(&self) -> &'static str {
        include_str!("cilium.yaml")
    }

    /// Cilium's CIDR rules select the "world" and node identities; pods it
    /// manages have their own identities and are not matched by an
    /// ipBlock, nor are nodes (the remote-node identity) unless
    /// policy-cidr-match-mode is `nodes`; it is unset by default.
    fn enforcement(&self) -> Enforcement {
        Enforcement { ip_block_matches_pods: false, ip_block_matches_nodes: false, ..Enforcement::full(Cni::Cilium) }
    }

    fn policy_place(&self, egress: bool) -> Place {
        Place::Bpf(
            if egress { "cil_from_container (egress policy)" } else { "cil_to_container (ingress policy)" }.into(),
        )
    }

    fn plumb_host(&self, cluster: &Cluster, node: &Node, host: &mut Netns) -> Wiring {
        let enc = cluster.settings.encapsulation;
        let gw = node.network.gateway;
        host_pair(node, host);
        if enc != Encapsulation::Direct {
            let (name, port) =
                if enc == Encapsulation::Geneve { ("cilium_geneve", 6081) } else { ("cilium_vxlan", 8472) };
            host.add(Link {
                index: 0,
                name: name.into(),
                kind: Kind::Vxlan { vni: 0, port },
                mtu: 1500,
                mac: Mac::from_name(&format!("{name} {}", node.name)),
                addrs: vec![],
                master: None,
                hairpin: false,
            });
        }
        for n in &cluster.nodes {
            let (Some(r), Some(g)) = (n.network.pod_ranges.first(), gw) else { continue };
            if enc == Encapsulation::Direct && n.name != node.name {
                // Native routing with direct routes to each node.
                let mut rt = Route::to(Some(*r), "eth0");
                rt.via = n.internal_ip;
                host.routes.push(rt);
                continue;
            }
            let mut rt = Route::to(Some(*r), "cilium_host");
            rt.via = Some(g);
            rt.proto = Some("kernel");
            rt.src = Some(g);
            if n.name != node.name {
                // VXLAN and Geneve both take 50 bytes of the 1500.
                rt.mtu = Some(1450);
            }
            host.routes.push(rt);
        }
        if let Some(g) = gw {
            let mut rt = Route::to(Some(IpNet::new(g, 32).expect("valid")), "cilium_host");
            rt.proto = Some("kernel");
            rt.scope = Scope::Link;
            host.routes.push(rt);
        }
        Wiring { mtu: 1500, bridge: None, proxy_arp: false, hairpin: false }
    }

    fn veth_name(&self, pod: &Pod) -> String {
        format!("lxc{}", &hex(&fnv64a(pod.key().as_bytes()).to_be_bytes())[..12])
    }

    /// A /32 on eth0 and the default route via the router address, with
    /// room for the tunnel's headers unless routing natively.
    fn plumb_pod(&self, cluster: &Cluster, node: &Node, _ip: IpAddr, _veth: &str, _host: &mut Netns) -> Option<PodNet> {
        let g = node.network.gateway?;
        let mut d = Route::to(None, "eth0");
        d.via = Some(g);
        d.mtu = (cluster.settings.encapsulation != Encapsulation::Direct).then_some(1450);
        let mut r = Route::to(Some(IpNet::new(g, 32).expect("valid")), "eth0");
        r.scope = Scope::Link;
        Some(PodNet { prefix: 32, routes: vec![d, r], neigh: Vec::new() })
    }

    fn veth_detail(&self, _net: &Network, _dst: IpAddr) -> String {
        "the host side of the pod's veth, where Cilium's bpf_lxc program runs".to_owned()
    }

    fn tunnels(&self, _cluster: &Cluster, route: &Route, _dst: IpAddr) -> bool {
        route.dev == "cilium_host"
    }

    fn encap(&self, cluster: &Cluster, _from: &str, _to: &str, src: IpAddr) -> Encap {
        match cluster.settings.encapsulation {
            Encapsulation::Geneve => Encap::Geneve { vni: identity(cluster, src), port: 6081 },
            _ => Encap::Vxlan { vni: identity(cluster, src), port: 8472 },
        }
    }

    fn encapsulate(&self, cluster: &Cluster, _host: &Netns, _route: &Route, remote: &str, encap: Encap) -> Tunneled {
        // The VNI the encapsulation carries is the sender's identity.
        let (dev, how, vni) = match encap {
            Encap::Geneve { vni, port } => ("cilium_geneve", format!("Geneve (UDP {port})"), vni),
            Encap::Vxlan { vni, port } => ("cilium_vxlan", format!("VXLAN (UDP {port})"), vni),
            _ => ("cilium_vxlan", String::new(), 0),
        };
        let far = cluster.node(remote);
        let rule =
            far.and_then(|n| n.network.pod_ranges.first().zip(n.internal_ip)).map(|(r, ip)| format!("{r}  encap {ip}"));
        Tunneled {
            dev: dev.into(),
            rule,
            detail: format!(
                "{how} by bpf: the tunnel map names the node that owns the pod CIDR; the VNI carries the sender's security identity, {vni}"
            ),
        }
    }

    /// bpf redirects the decapsulated packet straight to the pod's device.
    fn routes_after_decap(&self) -> bool {
        false
    }
}
