//! The service proxy of each node: what kube-proxy (or Cilium) programs for
//! the cluster's Services, built as data per node and mode.
//!
//! This module gathers, for one node, the per-Service-port view every mode
//! shares ([`ServicePortView`]: addresses, endpoints categorised the way
//! kube-proxy's `CategorizeEndpoints` does), and the kube-proxy settings in
//! force. Each mode turns that into its own artefact, and [`Dataplane`] is
//! the one interface the trace engine sees: render the artefact as the real
//! tool prints it, and run a packet through it at a netfilter hook.

pub mod ebpf;
pub mod iptables;
pub mod ipvs;
pub mod nftables;

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::cluster::{Cluster, ClusterIp, Protocol, Service, ServicePort, TrafficPolicy};
use crate::netfilter::eval::{Context, Verdict};
use crate::packet::Packet;
use crate::settings::{ProxyMode, Settings};
use crate::step::{Place, Step};

/// Where in a node's network stack the service proxy gets the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// A local socket's `connect()` (Cilium's socket-level load balancing).
    Connect,
    /// A packet that arrived on an interface, before routing.
    Prerouting,
    /// Routed to the node itself.
    Input,
    /// Routed through the node.
    Forward,
    /// Sent by the node itself (its processes, host-network pods).
    Output,
    /// About to leave, after routing.
    Postrouting,
}

/// Who sent the packet, as the proxy tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A pod with its own network namespace.
    Pod,
    /// The node itself: a process or a host-network pod.
    Host,
    /// Anything that arrived on one of the node's interfaces from elsewhere.
    Outside,
}

/// One node's service proxy in one mode, as data.
#[derive(Clone, Debug)]
pub enum Dataplane {
    Iptables(iptables::Ruleset),
    Nftables(nftables::Ruleset),
    Ipvs(ipvs::State),
    Ebpf(ebpf::LbMap),
}

impl Dataplane {
    /// What `mode` programs on `node`.
    pub fn build(cluster: &Cluster, node: &str, mode: ProxyMode) -> Dataplane {
        match mode {
            ProxyMode::Ebpf => Dataplane::Ebpf(ebpf::build(cluster, node)),
            ProxyMode::Nftables => Dataplane::Nftables(nftables::build(cluster, node)),
            ProxyMode::Ipvs => Dataplane::Ipvs(ipvs::build(cluster, node)),
            ProxyMode::Iptables => Dataplane::Iptables(iptables::build(cluster, node)),
        }
    }

    /// The command that prints its state on a node, as [`Dataplane::render`]
    /// renders it.
    pub fn dump_command(&self) -> &'static str {
        match self {
            Dataplane::Iptables(_) => "iptables-save",
            Dataplane::Nftables(_) => "nft list table ip kube-proxy",
            Dataplane::Ipvs(_) => "ipvsadm -Ln",
            Dataplane::Ebpf(_) => "cilium-dbg bpf lb list",
        }
    }

    /// `nft list ruleset`, where the mode writes nftables (nftables mode).
    pub fn nft_ruleset(&self) -> Option<String> {
        matches!(self, Dataplane::Nftables(_)).then(|| self.render())
    }

    /// `ipvsadm -Ln`, where the mode programs IPVS.
    pub fn ipvsadm(&self) -> Option<String> {
        matches!(self, Dataplane::Ipvs(_)).then(|| self.render())
    }

    /// Who programs it: kube-proxy, or Cilium's agent replacing it.
    pub fn implementer(&self) -> &'static str {
        match self {
            Dataplane::Ebpf(_) => "Cilium",
            Dataplane::Iptables(_) | Dataplane::Nftables(_) | Dataplane::Ipvs(_) => "kube-proxy",
        }
    }

    /// The state as the real tool prints it: `iptables-save`, `nft list
    /// ruleset`, `ipvsadm -Ln`, `cilium bpf lb list`.
    pub fn render(&self) -> String {
        match self {
            Dataplane::Iptables(r) => r.save(),
            Dataplane::Nftables(t) => t.render(),
            Dataplane::Ipvs(s) => s.ipvsadm(),
            Dataplane::Ebpf(m) => m.render(),
        }
    }

    /// The views a mode has besides its main one: IPVS mode's
    /// `ip addr show kube-ipvs0`, `ipset save` and `iptables-save`.
    pub const VIEWS: [&'static str; 4] = ["addr", "ipset", "iptables", "all"];

    /// One of [`Dataplane::VIEWS`], where the mode has it.
    pub fn render_view(&self, view: &str) -> Option<String> {
        match (self, view) {
            (Dataplane::Ipvs(s), "addr") => Some(s.kube_ipvs0()),
            (Dataplane::Ipvs(s), "ipset") => Some(s.sets.save()),
            (Dataplane::Ipvs(s), "iptables") => Some(s.iptables_save()),
            (Dataplane::Ipvs(s), "all") => Some(s.render()),
            (Dataplane::Iptables(r), "iptables") => Some(r.save()),
            (_, "all") => Some(self.render()),
            _ => None,
        }
    }

    /// The iptables tables the mode writes (`filter`, `nat`): iptables
    /// mode's, and the ones IPVS mode keeps; none for the others.
    pub fn iptables_table(&self, name: &str) -> Option<&crate::netfilter::Table> {
        match (self, name) {
            (Dataplane::Iptables(r), "filter") => Some(&r.filter),
            (Dataplane::Iptables(r), "nat") => Some(&r.nat),
            (Dataplane::Ipvs(s), "filter") => Some(&s.filter),
            (Dataplane::Ipvs(s), "nat") => Some(&s.nat),
            _ => None,
        }
    }

    /// The ipsets the proxy keeps (IPVS mode's), if any.
    pub fn ipsets(&self) -> Option<&crate::netfilter::ipset::IpSets> {
        match self {
            Dataplane::Ipvs(s) => Some(&s.sets),
            _ => None,
        }
    }

    /// Addresses the proxy makes local to the node (IPVS binds every
    /// Service address to the `kube-ipvs0` dummy device).
    pub fn bound_addresses(&self) -> Vec<IpAddr> {
        match self {
            Dataplane::Ipvs(s) => s.bound.clone(),
            Dataplane::Iptables(_) | Dataplane::Nftables(_) | Dataplane::Ebpf(_) => Vec::new(),
        }
    }

    /// Runs the packet through what the proxy hooks at `hook`. A DNAT is
    /// reported as [`Verdict::Dnat`] with the packet rewritten; the packet
    /// then goes on, as it does after any accepting verdict.
    pub fn run(&self, hook: Hook, pkt: &mut Packet, ctx: &mut Context<'_>, steps: &mut Vec<Step>) -> Verdict {
        match self {
            Dataplane::Iptables(r) => r.run(hook, pkt, ctx, steps),
            Dataplane::Nftables(t) => t.run(hook, pkt, ctx, steps),
            Dataplane::Ipvs(s) => s.run(hook, pkt, ctx, steps),
            Dataplane::Ebpf(m) => m.run(hook, pkt, ctx, steps),
        }
    }

    /// Where a reply's addresses are restored, and the entry that does it:
    /// netfilter's conntrack for kube-proxy, Cilium's reverse-NAT map.
    pub fn reverse_nat(&self, frontend: IpAddr, port: u16, protocol: Protocol) -> Option<(Place, String)> {
        match self {
            Dataplane::Ebpf(m) => m.rev_nat(frontend, port, protocol).map(|l| (Place::Bpf("rev-NAT".to_owned()), l)),
            _ => None,
        }
    }

    /// Every endpoint the proxy may send this packet to: all branches of
    /// its load balancing, not one draw.
    pub fn candidates(&self, pkt: &Packet, origin: Origin, local: &[IpNet]) -> BTreeSet<(IpAddr, u16)> {
        match self {
            Dataplane::Iptables(r) => r.candidates(pkt, origin == Origin::Host, local),
            Dataplane::Nftables(t) => t.candidates(pkt, origin == Origin::Host, local),
            Dataplane::Ipvs(s) => s.candidates(pkt),
            Dataplane::Ebpf(m) => m.candidates(pkt, origin, local),
        }
    }
}

/// What balances Services on the nodes, in a few words.
pub fn label(mode: ProxyMode) -> String {
    match mode {
        ProxyMode::Ebpf => "Cilium eBPF service LB".to_owned(),
        m => format!("kube-proxy ({m})"),
    }
}

/// kube-proxy's settings as a kubeadm cluster (or the input's
/// KubeProxyConfiguration) sets them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyConfig {
    /// Local-traffic detection by CIDR (`detectLocalMode: ClusterCIDR`);
    /// `None` when no clusterCIDR is configured, which turns it off.
    pub cluster_cidr: Option<IpNet>,
    pub masquerade_all: bool,
    /// `iptables.masqueradeBit`, 14 by default: the mark 0x4000.
    pub masquerade_bit: u32,
    pub localhost_node_ports: bool,
    /// `nodePortAddresses`; empty means every local address.
    pub node_port_addresses: Vec<IpNet>,
    /// `ipvs.scheduler`, `rr` unless set.
    pub ipvs_scheduler: String,
}

impl ProxyConfig {
    pub fn from_settings(settings: &Settings) -> ProxyConfig {
        match &settings.kube_proxy {
            None => ProxyConfig {
                cluster_cidr: Some(settings.cluster_cidr),
                masquerade_all: false,
                masquerade_bit: 14,
                localhost_node_ports: true,
                node_port_addresses: Vec::new(),
                ipvs_scheduler: "rr".into(),
            },
            Some(kp) => ProxyConfig {
                cluster_cidr: if kp.detect_local_mode.is_empty() || kp.detect_local_mode == "ClusterCIDR" {
                    kp.cluster_cidr.split(',').find_map(|c| c.trim().parse::<IpNet>().ok()).map(|n| n.trunc())
                } else {
                    None
                },
                masquerade_all: kp.iptables.masquerade_all.unwrap_or(false),
                masquerade_bit: kp
                    .iptables
                    .masquerade_bit
                    .and_then(|b| u32::try_from(b).ok())
                    .filter(|b| *b < 32)
                    .unwrap_or(14),
                localhost_node_ports: kp.iptables.localhost_node_ports.unwrap_or(true),
                node_port_addresses: kp
                    .node_port_addresses
                    .iter()
                    .filter_map(|c| c.trim().parse::<IpNet>().ok())
                    .collect(),
                ipvs_scheduler: if kp.ipvs.scheduler.is_empty() { "rr".into() } else { kp.ipvs.scheduler.clone() },
            },
        }
    }

    /// The settings a given mode reads: nftables mode has its own
    /// `masqueradeAll`.
    pub fn for_mode(settings: &Settings, mode: ProxyMode) -> ProxyConfig {
        let mut cfg = ProxyConfig::from_settings(settings);
        if let (ProxyMode::Nftables, Some(kp)) = (mode, &settings.kube_proxy) {
            cfg.masquerade_all = kp.nftables.masquerade_all.unwrap_or(false);
        }
        cfg
    }

    pub fn masquerade_mark(&self) -> u32 {
        1 << self.masquerade_bit
    }
}

/// One endpoint as the proxy sees it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProxyEndpoint {
    pub ip: IpAddr,
    pub port: u16,
    pub node: Option<String>,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
}

impl ProxyEndpoint {
    /// `IP:PORT`, the form kube-proxy hashes and prints.
    pub fn addr(&self) -> String {
        match self.ip {
            IpAddr::V4(v4) => format!("{v4}:{}", self.port),
            IpAddr::V6(v6) => format!("[{v6}]:{}", self.port),
        }
    }
}

/// A Service port as one node's proxy handles it.
#[derive(Clone, Debug)]
pub struct ServicePortView<'a> {
    pub service: &'a Service,
    pub port: &'a ServicePort,
    /// `ns/name:port` (or `ns/name` for an unnamed port): kube-proxy's
    /// ServicePortName, used in chain hashes and comments.
    pub name: String,
    pub cluster_ip: IpAddr,
    /// Endpoints usable under the Cluster policy, and this node's own.
    pub cluster_endpoints: Vec<ProxyEndpoint>,
    pub local_endpoints: Vec<ProxyEndpoint>,
    /// Whether the Service has any usable endpoint at all.
    pub has_endpoints: bool,
    /// Every endpoint in the Service's slices, whatever its conditions.
    pub all_endpoints: Vec<ProxyEndpoint>,
}

impl ServicePortView<'_> {
    pub fn protocol(&self) -> Protocol {
        self.port.protocol
    }

    pub fn externally_accessible(&self) -> bool {
        self.port.node_port.is_some()
            || !self.service.load_balancer_ips.is_empty()
            || !self.service.external_ips.is_empty()
    }

    pub fn internal_policy_local(&self) -> bool {
        self.service.internal_traffic_policy == TrafficPolicy::Local
    }

    pub fn external_policy_local(&self) -> bool {
        self.externally_accessible() && self.service.external_traffic_policy == TrafficPolicy::Local
    }

    /// kube-proxy needs the Cluster endpoints when internal traffic uses
    /// them, or when the port is reachable from outside at all (pod traffic
    /// to an external IP short-circuits to the Cluster policy).
    pub fn uses_cluster_endpoints(&self) -> bool {
        !self.internal_policy_local() || self.externally_accessible()
    }

    /// Whether internal traffic has somewhere to go under its policy.
    pub fn has_internal_endpoints(&self) -> bool {
        self.has_endpoints && (!self.internal_policy_local() || !self.local_endpoints.is_empty())
    }

    /// Whether external traffic has somewhere to go under its policy.
    pub fn has_external_endpoints(&self) -> bool {
        self.has_endpoints && (!self.external_policy_local() || !self.local_endpoints.is_empty())
    }

    pub fn uses_local_endpoints(&self) -> bool {
        self.internal_policy_local() || self.external_policy_local()
    }

    /// Every endpoint the node's rules can send this port's traffic to.
    pub fn reachable_endpoints(&self) -> Vec<ProxyEndpoint> {
        let mut all: Vec<ProxyEndpoint> = self.cluster_endpoints.clone();
        for e in &self.local_endpoints {
            if !all.contains(e) {
                all.push(e.clone());
            }
        }
        crate::order::sort_by_cached_key(&mut all, ProxyEndpoint::addr);
        all
    }
}

/// Ready endpoints, or, when none is ready, the serving terminating ones
/// (kube-proxy's fallback so connections drain during a rollout).
fn usable(eps: &[ProxyEndpoint]) -> Vec<ProxyEndpoint> {
    let ready: Vec<ProxyEndpoint> = eps.iter().filter(|e| e.ready).cloned().collect();
    if !ready.is_empty() {
        return ready;
    }
    eps.iter().filter(|e| e.serving && e.terminating).cloned().collect()
}

/// Every proxied Service port for `node`, sorted by name: headless and
/// ExternalName Services get no rules.
pub fn service_ports<'a>(cluster: &'a Cluster, node: &str) -> Vec<ServicePortView<'a>> {
    let mut out = Vec::new();
    for svc in &cluster.services {
        let ClusterIp::Ip(cluster_ip) = svc.cluster_ip else { continue };
        for port in &svc.ports {
            let name = if port.name.is_empty() { svc.key() } else { format!("{}:{}", svc.key(), port.name) };
            let mut all: Vec<ProxyEndpoint> = Vec::new();
            for slice in cluster.slices_of(svc) {
                let Some(ep_port) = slice
                    .ports
                    .iter()
                    .find(|p| p.name == port.name && p.protocol == port.protocol)
                    .and_then(|p| p.port)
                else {
                    continue;
                };
                for e in &slice.endpoints {
                    let Some(ip) = e.addresses.first() else { continue };
                    let ep = ProxyEndpoint {
                        ip: *ip,
                        port: ep_port,
                        node: e.node_name.clone(),
                        ready: e.is_ready(),
                        serving: e.is_serving(),
                        terminating: e.is_terminating(),
                    };
                    if !all.iter().any(|x| (x.ip, x.port) == (ep.ip, ep.port)) {
                        all.push(ep);
                    }
                }
            }
            crate::order::sort_by_cached_key(&mut all, ProxyEndpoint::addr);
            let local: Vec<ProxyEndpoint> = all.iter().filter(|e| e.node.as_deref() == Some(node)).cloned().collect();
            let mut view = ServicePortView {
                service: svc,
                port,
                name,
                cluster_ip,
                cluster_endpoints: Vec::new(),
                local_endpoints: Vec::new(),
                has_endpoints: false,
                all_endpoints: Vec::new(),
            };
            if view.uses_cluster_endpoints() {
                view.cluster_endpoints = usable(&all);
            }
            if view.uses_local_endpoints() {
                view.local_endpoints = usable(&local);
            }
            // Any ready (or serving, terminating) endpoint anywhere.
            view.has_endpoints = !usable(&all).is_empty();
            view.all_endpoints = all;
            out.push(view);
        }
    }
    crate::order::sort_by(&mut out, |a, b| (&a.name, a.port.protocol).cmp(&(&b.name, b.port.protocol)));
    out
}
