//! kindnet, kind's own CNI plugin, as kind v0.25–v0.27 ship it (kindnetd
//! from kind's `images/kindnetd`). Its CNI configuration chains the `ptp`
//! and `host-local` plugins (`cni.go`): each pod gets a veth pair, no
//! bridge — the host end `veth` + 8 hex digits holds the range's first
//! address as a /32 (`setupHostVeth`), with a `scope host` route to the
//! pod; inside, ptp replaces the kernel's subnet route with a /32 to that
//! gateway and the subnet via it (`setupContainerVeth`). kindnetd adds a
//! route to each other node's podCIDR via that node's InternalIP
//! (`routes.go`: no overlay, TTL 62 across nodes), masquerades traffic
//! leaving the pod subnet in iptables' `KIND-MASQ-AGENT` chain
//! (`masq.go`), and judges NetworkPolicy in user space: the embedded
//! kube-network-policies queues the first packet of each connection of a
//! local pod that a policy selects (nftables table `inet
//! kindnet-network-policies`, queue 101, fail-open) and evaluates the
//! client's egress and the server's ingress together.

use std::net::IpAddr;

use ipnet::IpNet;

use super::netns::{hex, Netns, Route, Scope};
use super::{Enforcement, Network, NodeNet, Plugin, PluginRules, PodNet, Tunneled, Wiring};
use crate::cluster::{Cluster, IpamScheme, Node, Pod};
use crate::names::fnv64a;
use crate::netfilter::nft::{NftChain, NftMatch, NftRule, NftSet, NftTable, NftVerdict};
use crate::netfilter::{Additions, Match, Rule, Table, Target};
use crate::packet::Encap;
use crate::settings::Cni;
use crate::step::Place;

#[derive(Debug)]
pub(super) struct Kindnet;

/// kindnetd's table (kind v0.25 renamed it from `kube-network-policies`
/// so that both can run: "kindnet: don't collide with kube-network-policies").
pub const TABLE: &str = "kindnet-network-policies";

/// The nfqueue kindnetd reads (`QueueID: 101`).
const QUEUE: u16 = 101;

/// The masquerade agent's chain (`masqChainName`).
pub const MASQ_CHAIN: &str = "KIND-MASQ-AGENT";

impl Plugin for Kindnet {
    fn cni(&self) -> Cni {
        Cni::Kindnet
    }

    fn ipam(&self) -> IpamScheme {
        IpamScheme::HostLocal
    }

    fn manifest(&self) -> &'static str {
        include_str!("kindnet.yaml")
    }

    /// kube-network-policies implements the whole API: named ports and
    /// `endPort` too; root processes of the node are never queued (`meta
    /// skuid 0 accept`, so kubelet's probes pass).
    fn enforcement(&self) -> Enforcement {
        Enforcement::full(Cni::Kindnet)
    }

    fn policy_place(&self, _egress: bool) -> Place {
        Place::Chain { table: format!("inet {TABLE}"), chain: "postrouting".into(), note: Some("kindnetd".into()) }
    }

    /// No device of its own: a route per other node's pod range, via that
    /// node on the shared network.
    fn plumb_host(&self, cluster: &Cluster, node: &Node, host: &mut Netns) -> Wiring {
        for other in cluster.nodes.iter().filter(|o| o.name != node.name) {
            let Some(ip) = other.internal_ip else { continue };
            for range in &other.network.pod_ranges {
                let mut rt = Route::to(Some(*range), "eth0");
                rt.via = Some(ip);
                host.routes.push(rt);
            }
        }
        // kindnetd writes eth0's MTU into the CNI configuration.
        Wiring { mtu: 1500, bridge: None, proxy_arp: false, hairpin: false }
    }

    fn veth_name(&self, pod: &Pod) -> String {
        format!("veth{}", &hex(&fnv64a(format!("ptp {}", pod.key()).as_bytes()).to_be_bytes())[..8])
    }

    /// The gateway's /32 on the host end and a `scope host` route to the
    /// pod; in the pod, the /32 to the gateway and the subnet and default
    /// routes via it.
    fn plumb_pod(&self, cluster: &Cluster, node: &Node, ip: IpAddr, veth: &str, host: &mut Netns) -> Option<PodNet> {
        let gw = node.network.gateway?;
        let subnet = node.network.pod_ranges.first().copied().unwrap_or(cluster.settings.cluster_cidr);
        let host_bits = if gw.is_ipv4() { 32 } else { 128 };
        if let Some(link) = host.links.iter_mut().find(|l| l.name == veth) {
            link.addrs.push(IpNet::new(gw, host_bits).expect("valid"));
        }
        let mut to_pod = Route::to(Some(IpNet::new(ip, host_bits).expect("valid")), veth);
        to_pod.scope = Scope::Host;
        host.routes.push(to_pod);
        let mut default = Route::to(None, "eth0");
        default.via = Some(gw);
        let mut own = Route::to(Some(subnet.trunc()), "eth0");
        own.via = Some(gw);
        own.src = Some(ip);
        let mut to_gw = Route::to(Some(IpNet::new(gw, host_bits).expect("valid")), "eth0");
        to_gw.scope = Scope::Link;
        to_gw.src = Some(ip);
        Some(PodNet { prefix: subnet.prefix_len(), routes: vec![default, own, to_gw], neigh: Vec::new() })
    }

    fn veth_detail(&self, _net: &Network, _dst: IpAddr) -> String {
        "the host end of the veth holds the pod's gateway address (a /32, the ptp plugin's): the node answers the pod's ARP and routes the packet".to_owned()
    }

    fn tunnels(&self, _cluster: &Cluster, _route: &Route, _dst: IpAddr) -> bool {
        false
    }

    /// Never asked: nothing is tunnelled.
    fn encap(&self, _cluster: &Cluster, _from: &str, _to: &str, _src: IpAddr) -> Encap {
        Encap::Ipip
    }

    fn encapsulate(&self, _cluster: &Cluster, _host: &Netns, route: &Route, _remote: &str, _encap: Encap) -> Tunneled {
        Tunneled { dev: route.dev.clone(), rule: Some(route.to_string()), detail: "kindnet has no tunnel".into() }
    }

    fn rules(&self, cluster: &Cluster, node: &NodeNet) -> Option<PluginRules> {
        Some(PluginRules {
            filter: None,
            nat: Some(masquerade(cluster)),
            sets: Default::default(),
            nft: Some(policy_table(cluster, node)),
        })
    }

    fn judges_both_sides(&self) -> bool {
        true
    }
}

/// The masquerade agent's rules (`masq.go`): traffic to anything but the
/// node's own addresses goes through KIND-MASQ-AGENT, which lets the pod
/// subnet through and masquerades the rest. Appended to POSTROUTING,
/// after kube-proxy's jump (which kube-proxy inserts at the top).
fn masquerade(cluster: &Cluster) -> Additions {
    let mut table = Table::new("nat", &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]);
    table.chain(MASQ_CHAIN);
    table.push(
        Rule::new(MASQ_CHAIN)
            .dst(cluster.settings.cluster_cidr)
            .comment("kind-masq-agent: local traffic is not subject to MASQUERADE")
            .jump(Target::Return),
    );
    table.push(
        Rule::new(MASQ_CHAIN)
            .comment("kind-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)")
            .jump(Target::Masquerade { random_fully: false }),
    );
    let jump = Rule::new("POSTROUTING")
        .with(Match::AddrType { src: false, kind: "LOCAL".into(), negated: true })
        .comment("kind-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom KIND-MASQ-AGENT chain")
        .jump(Target::Jump(MASQ_CHAIN.into()));
    Additions { table, head: Vec::new(), tail: vec![jump] }
}

/// kube-network-policies' table on one node (its `syncNFTablesRules`,
/// with kind's `NetfilterBug1766Fix`): the node's pods that some
/// NetworkPolicy selects, and the rules that queue their connections'
/// first packets to kindnetd — DNS over UDP in prerouting, after the
/// service proxy's DNAT, the rest in postrouting, before its SNAT.
fn policy_table(cluster: &Cluster, node: &NodeNet) -> NftTable {
    let selected: Vec<IpAddr> = cluster
        .pods
        .iter()
        .filter(|p| p.node.as_deref() == Some(node.node.as_str()) && !p.host_network && p.is_running())
        .filter(|p| cluster.network_policies.iter().any(|np| np.selects(p)))
        .filter_map(|p| p.ip)
        .collect();
    let queue = NftVerdict::Queue { num: QUEUE, bypass: true };
    let in_set = |v6: bool, source: bool| NftMatch::AddrInSet {
        v6,
        source,
        set: if v6 { "podips-v6" } else { "podips-v4" }.into(),
    };
    let rule = |matches: Vec<NftMatch>, verdict, comment: Option<&str>| NftRule {
        matches,
        verdict,
        comment: comment.map(str::to_owned),
    };
    let family = |v6: bool| if v6 { "IPv6" } else { "IPv4" };
    let mut post = vec![
        rule(
            vec![NftMatch::UdpDport(53)],
            NftVerdict::Accept,
            Some("process DNS traffic on PREROUTING hook with network policy enforcement to avoid netfilter race condition bug"),
        ),
        rule(vec![NftMatch::NeighbourDiscovery], NftVerdict::Accept, None),
        rule(vec![NftMatch::RootSocket], NftVerdict::Accept, None),
        rule(vec![NftMatch::Established], NftVerdict::Accept, None),
    ];
    let mut pre = Vec::new();
    for v6 in [false, true] {
        for source in [true, false] {
            let what = format!("process {} traffic with network policy enforcement", family(v6));
            post.push(rule(vec![in_set(v6, source)], queue, Some(&what)));
        }
    }
    for v6 in [false, true] {
        for source in [true, false] {
            let what =
                format!("process {} traffic destined to a DNS server with network policy enforcement", family(v6));
            pre.push(rule(vec![in_set(v6, source), NftMatch::UdpDport(53)], queue, Some(&what)));
        }
    }
    let set = |v6: bool| NftSet {
        name: if v6 { "podips-v6" } else { "podips-v4" }.into(),
        kind: if v6 { "ipv6_addr" } else { "ipv4_addr" },
        comment: Some(format!("Local V{} Pod IPs with Network Policies", if v6 { 6 } else { 4 })),
        elements: selected.iter().copied().filter(|ip| ip.is_ipv6() == v6).collect(),
    };
    NftTable {
        family: "inet",
        name: TABLE.into(),
        comment: Some("rules for kubernetes NetworkPolicy".into()),
        sets: vec![set(false), set(true)],
        chains: vec![
            NftChain { name: "postrouting".into(), hook: "postrouting", priority: "srcnat - 5", rules: post },
            NftChain { name: "prerouting".into(), hook: "prerouting", priority: "dstnat + 5", rules: pre },
        ],
    }
}
