//! kube-proxy's IPVS mode (pkg/proxy/ipvs/proxier.go): the virtual
//! servers it programs, the `kube-ipvs0` dummy device that makes Service
//! addresses local, the ipsets, and the iptables rules IPVS mode still
//! writes for masquerading and filtering. Rendered as `ipvsadm -Ln`, `ip
//! addr show kube-ipvs0`, `ipset save` and `iptables-save` print them.
//!
//! The packet path: nat PREROUTING only marks; the Service address is
//! local (it sits on kube-ipvs0), so the packet is routed to INPUT, where
//! filter runs and then IPVS picks a real server and rewrites the
//! destination; it leaves through POSTROUTING, where the mark (or the
//! hairpin set) masquerades it. A virtual server without real servers
//! answers ICMP port unreachable (the kernel's `ip_vs_leave`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use ipnet::IpNet;

use super::iptables::{
    forward_rules, localnet_guard, masquerade_rules, run_tables, KUBE_FORWARD, KUBE_MARK_MASQ, KUBE_POSTROUTING,
    KUBE_SERVICES,
};
use super::{service_ports, Hook, ProxyConfig, ProxyEndpoint, ServicePortView};
use crate::cluster::{Cluster, ServiceType};
use crate::netfilter::eval::{Context, Verdict};
use crate::netfilter::ipset::{IpSet, IpSets, Member};
use crate::netfilter::{Match, Rule, Table, Target};
use crate::packet::Packet;
use crate::step::{Action, Place, Step};

const KUBE_NODE_PORT: &str = "KUBE-NODE-PORT";
const KUBE_LOAD_BALANCER: &str = "KUBE-LOAD-BALANCER";
const KUBE_PROXY_FIREWALL: &str = "KUBE-PROXY-FIREWALL";
const KUBE_SOURCE_RANGES_FIREWALL: &str = "KUBE-SOURCE-RANGES-FIREWALL";
const KUBE_IPVS_FILTER: &str = "KUBE-IPVS-FILTER";
const KUBE_IPVS_OUT_FILTER: &str = "KUBE-IPVS-OUT-FILTER";

/// The sets kube-proxy creates, with their types and purposes.
const SETS: [(&str, &str, &str); 17] = [
    ("KUBE-LOOP-BACK", "hash:ip,port,ip", "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"),
    ("KUBE-CLUSTER-IP", "hash:ip,port", "Kubernetes service cluster ip + port for masquerade purpose"),
    ("KUBE-EXTERNAL-IP", "hash:ip,port", "Kubernetes service external ip + port for masquerade and filter purpose"),
    (
        "KUBE-EXTERNAL-IP-LOCAL",
        "hash:ip,port",
        "Kubernetes service external ip + port with externalTrafficPolicy=local",
    ),
    ("KUBE-LOAD-BALANCER", "hash:ip,port", "Kubernetes service lb portal"),
    (
        "KUBE-LOAD-BALANCER-FW",
        "hash:ip,port",
        "Kubernetes service load balancer ip + port for load balancer with sourceRange",
    ),
    (
        "KUBE-LOAD-BALANCER-LOCAL",
        "hash:ip,port",
        "Kubernetes service load balancer ip + port with externalTrafficPolicy=local",
    ),
    (
        "KUBE-LOAD-BALANCER-SOURCE-IP",
        "hash:ip,port,ip",
        "Kubernetes service load balancer ip + port + source IP for packet filter purpose",
    ),
    (
        "KUBE-LOAD-BALANCER-SOURCE-CIDR",
        "hash:ip,port,net",
        "Kubernetes service load balancer ip + port + source cidr for packet filter purpose",
    ),
    ("KUBE-NODE-PORT-TCP", "bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose"),
    ("KUBE-NODE-PORT-LOCAL-TCP", "bitmap:port", "Kubernetes nodeport TCP port with externalTrafficPolicy=local"),
    ("KUBE-NODE-PORT-UDP", "bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose"),
    ("KUBE-NODE-PORT-LOCAL-UDP", "bitmap:port", "Kubernetes nodeport UDP port with externalTrafficPolicy=local"),
    (
        "KUBE-NODE-PORT-SCTP-HASH",
        "hash:ip,port",
        "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'",
    ),
    (
        "KUBE-NODE-PORT-LOCAL-SCTP-HASH",
        "hash:ip,port",
        "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
    ),
    ("KUBE-HEALTH-CHECK-NODE-PORT", "bitmap:port", "Kubernetes health check node port"),
    ("KUBE-IPVS-IPS", "hash:ip", "Addresses on the ipvs interface"),
];

fn comment_of(set: &str) -> &'static str {
    SETS.iter().find(|(n, _, _)| *n == set).map_or("", |(_, _, c)| c)
}

/// One IPVS virtual server and its real servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualServer {
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: &'static str,
    pub address: IpAddr,
    pub port: u16,
    pub scheduler: String,
    /// Session affinity: `persistent N`.
    pub persistent: Option<u32>,
    pub real_servers: Vec<ProxyEndpoint>,
    /// `ns/name:port`, for explanations.
    pub service: String,
    /// A Local-policy frontend that fell back to other nodes' endpoints.
    pub local_fallback: bool,
}

impl VirtualServer {
    fn line(&self) -> String {
        let mut l = format!("{}  {}:{} {}", self.protocol, self.address, self.port, self.scheduler);
        if let Some(t) = self.persistent {
            let _ = write!(l, " persistent {t}");
        }
        l
    }
}

fn real_server_line(rs: &ProxyEndpoint) -> String {
    format!("  -> {:<28} {:<7} {:<6} {:<10} {:<10}", rs.addr(), "Masq", 1, 0, 0)
}

/// What IPVS mode programs on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub virtual_servers: Vec<VirtualServer>,
    /// The addresses bound to kube-ipvs0, in the order they were bound.
    pub bound: Vec<IpAddr>,
    pub sets: IpSets,
    pub filter: Table,
    pub nat: Table,
    /// For `ip addr`: the dummy device's index and address.
    pub ifindex: u32,
    pub mac: String,
}

fn proto_num(p: &str) -> u32 {
    match p {
        "TCP" => 6,
        "UDP" => 17,
        _ => 132,
    }
}

fn v4(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(_) => 0,
    }
}

/// ipvsadm's order for addresses: it subtracts them as unsigned 32-bit
/// numbers into a signed int, so the order runs round the circle. When
/// all addresses fit in half of it (they do on a real node) the list
/// starts after the widest gap; ties and the rest compare numerically.
fn circular_order(addrs: &[IpAddr]) -> Vec<IpAddr> {
    let mut sorted: Vec<IpAddr> = addrs.to_vec();
    crate::order::sort_by_key(&mut sorted, |a| v4(*a));
    sorted.dedup();
    if sorted.len() < 2 {
        return sorted;
    }
    let n = sorted.len();
    let (mut widest, mut start) = (0u64, 0usize);
    for i in 0..n {
        let a = u64::from(v4(sorted[i]));
        let b = u64::from(v4(sorted[(i + 1) % n]));
        let gap = if i + 1 == n { b + (1u64 << 32) - a } else { b - a };
        if gap > widest {
            widest = gap;
            start = (i + 1) % n;
        }
    }
    let span = (1u64 << 32) - widest;
    if span >= 1 << 31 {
        return sorted;
    }
    sorted.rotate_left(start);
    sorted
}

fn sort_like_ipvsadm<T>(items: &mut [T], key: impl Fn(&T) -> (u32, IpAddr, u16)) {
    let addrs: Vec<IpAddr> = items.iter().map(|i| key(i).1).collect();
    let order = circular_order(&addrs);
    let rank = |ip: IpAddr| order.iter().position(|a| *a == ip).unwrap_or(usize::MAX);
    crate::order::sort_by(items, |a, b| {
        let (pa, aa, ta) = key(a);
        let (pb, ab, tb) = key(b);
        pa.cmp(&pb).then(rank(aa).cmp(&rank(ab))).then(ta.cmp(&tb))
    });
}

/// The virtual server of one of a Service port's addresses: its real
/// servers under the policy that applies there. A Local policy uses the
/// local endpoints when there are any and falls back to the cluster's
/// (IPVS's own rule, so pods on other nodes still reach the Service).
fn virtual_server(
    view: &ServicePortView<'_>,
    cfg: &ProxyConfig,
    address: IpAddr,
    port: u16,
    local: bool,
) -> VirtualServer {
    let real_servers = if local && !view.local_endpoints.is_empty() {
        view.local_endpoints.clone()
    } else {
        view.cluster_endpoints.clone()
    };
    VirtualServer {
        protocol: view.protocol().as_str(),
        address,
        port,
        scheduler: cfg.ipvs_scheduler.clone(),
        persistent: view.service.session_affinity,
        real_servers,
        service: view.name.clone(),
        local_fallback: local && view.local_endpoints.is_empty() && !view.cluster_endpoints.is_empty(),
    }
}

/// A node's IPVS state as kube-proxy builds it, Service port by port.
struct Builder<'a> {
    cfg: ProxyConfig,
    node: &'a str,
    node_ip: Option<IpAddr>,
    /// Where NodePorts listen: every address of every interface but
    /// kube-ipvs0 and loopback (or those in the configured CIDRs).
    node_ips: Vec<IpAddr>,
    sets: IpSets,
    vss: Vec<VirtualServer>,
    /// The addresses bound to kube-ipvs0.
    bound: Vec<IpAddr>,
    /// Load-balancer addresses whose source ranges leave out the node.
    lb_out_filter: Vec<(IpAddr, u16, &'static str)>,
}

impl Builder<'_> {
    fn add(&mut self, set: &str, m: Member) {
        if let Some(s) = self.sets.get_mut(set) {
            s.add(m);
        }
    }

    /// Binds a Service address to kube-ipvs0, unless the node has it.
    fn bind(&mut self, ip: IpAddr) {
        if !self.node_ips.contains(&ip) && !self.bound.contains(&ip) {
            self.bound.push(ip);
        }
    }

    fn port(&mut self, view: &ServicePortView<'_>) {
        let svc = view.service;
        let proto = view.protocol().as_str().to_ascii_lowercase();
        let port = view.port.port;
        for e in view.all_endpoints.iter().filter(|e| e.node.as_deref() == Some(self.node)) {
            self.add("KUBE-LOOP-BACK", Member::IpPortIp(e.ip, proto.clone(), e.port, e.ip));
        }
        self.add("KUBE-CLUSTER-IP", Member::IpPort(view.cluster_ip, proto.clone(), port));
        let vs = virtual_server(view, &self.cfg, view.cluster_ip, port, view.internal_policy_local());
        self.vss.push(vs);
        if !self.bound.contains(&view.cluster_ip) {
            self.bound.push(view.cluster_ip);
        }
        let ext_local = svc.external_traffic_policy == crate::cluster::TrafficPolicy::Local;
        for ip in &svc.external_ips {
            let set = if ext_local { "KUBE-EXTERNAL-IP-LOCAL" } else { "KUBE-EXTERNAL-IP" };
            self.add(set, Member::IpPort(*ip, proto.clone(), port));
            self.vss.push(virtual_server(view, &self.cfg, *ip, port, ext_local));
            self.bind(*ip);
        }
        if svc.type_ == ServiceType::LoadBalancer {
            self.load_balancer(view, &proto, ext_local);
        }
        if let Some(np) = view.port.node_port {
            self.node_port(view, &proto, np, ext_local);
        }
        if let Some(hc) = svc.health_check_node_port {
            self.add("KUBE-HEALTH-CHECK-NODE-PORT", Member::Port(hc));
        }
    }

    fn load_balancer(&mut self, view: &ServicePortView<'_>, proto: &str, ext_local: bool) {
        let (svc, port) = (view.service, view.port.port);
        let ranges: Vec<IpNet> = svc.load_balancer_source_ranges.iter().filter_map(|r| r.trim().parse().ok()).collect();
        for ip in &svc.load_balancer_ips {
            let member = || Member::IpPort(*ip, proto.to_owned(), port);
            self.add("KUBE-LOAD-BALANCER", member());
            if ext_local {
                self.add("KUBE-LOAD-BALANCER-LOCAL", member());
            }
            if !ranges.is_empty() {
                self.add("KUBE-LOAD-BALANCER-FW", member());
                for r in &ranges {
                    self.add("KUBE-LOAD-BALANCER-SOURCE-CIDR", Member::IpPortNet(*ip, proto.to_owned(), port, *r));
                }
                if self.node_ip.is_some_and(|n| ranges.iter().any(|r| r.contains(&n))) {
                    self.add("KUBE-LOAD-BALANCER-SOURCE-IP", Member::IpPortIp(*ip, proto.to_owned(), port, *ip));
                } else {
                    self.lb_out_filter.push((*ip, port, if proto == "udp" { "17" } else { "6" }));
                }
            }
            self.vss.push(virtual_server(view, &self.cfg, *ip, port, ext_local));
            self.bind(*ip);
        }
    }

    fn node_port(&mut self, view: &ServicePortView<'_>, proto: &str, np: u16, ext_local: bool) {
        if proto == "sctp" {
            for ip in self.node_ips.clone() {
                self.add("KUBE-NODE-PORT-SCTP-HASH", Member::IpPort(ip, proto.to_owned(), np));
                if ext_local {
                    self.add("KUBE-NODE-PORT-LOCAL-SCTP-HASH", Member::IpPort(ip, proto.to_owned(), np));
                }
            }
        } else {
            let up = proto.to_ascii_uppercase();
            self.add(&format!("KUBE-NODE-PORT-{up}"), Member::Port(np));
            if ext_local {
                self.add(&format!("KUBE-NODE-PORT-LOCAL-{up}"), Member::Port(np));
            }
        }
        for ip in self.node_ips.clone() {
            self.vss.push(virtual_server(view, &self.cfg, ip, np, ext_local));
        }
    }
}

/// What kube-proxy in IPVS mode programs on `node`.
pub fn build(cluster: &Cluster, node: &str) -> State {
    let cfg = ProxyConfig::from_settings(&cluster.settings);
    let n = cluster.node(node);
    let mut node_ips: Vec<IpAddr> = n.map(|n| n.addresses().chain(n.network.gateway).collect()).unwrap_or_default();
    node_ips.retain(|ip| !ip.is_loopback());
    if !cfg.node_port_addresses.is_empty() {
        node_ips.retain(|ip| cfg.node_port_addresses.iter().any(|c| c.contains(ip)));
    }
    node_ips.dedup();
    let sets = IpSets {
        sets: SETS
            .iter()
            .map(|(name, kind, comment)| IpSet {
                name: (*name).into(),
                kind,
                comment,
                members: Vec::new(),
                maxelem: 65536,
            })
            .collect(),
    };
    let node_ip = n.and_then(|n| n.internal_ip);
    let mut b =
        Builder { cfg, node, node_ip, node_ips, sets, vss: Vec::new(), bound: Vec::new(), lb_out_filter: Vec::new() };
    for view in service_ports(cluster, node) {
        b.port(&view);
    }
    for ip in b.bound.clone() {
        b.add("KUBE-IPVS-IPS", Member::Ip(ip));
    }
    sort_like_ipvsadm(&mut b.vss, |v| (proto_num(v.protocol), v.address, v.port));
    for v in &mut b.vss {
        sort_like_ipvsadm(&mut v.real_servers, |r| (0, r.ip, r.port));
    }
    let (filter, nat) = rules(&b.cfg, &b.sets, &b.lb_out_filter);
    let h = crate::names::fnv64a(node.as_bytes());
    State {
        virtual_servers: b.vss,
        bound: b.bound,
        sets: b.sets,
        filter,
        nat,
        ifindex: 5 + (h % 7) as u32,
        // A dummy device gets a random, locally administered address.
        mac: format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            ((h >> 40) as u8 & 0xfe) | 0x02,
            (h >> 32) as u8,
            (h >> 24) as u8,
            (h >> 16) as u8,
            (h >> 8) as u8,
            h as u8
        ),
    }
}

/// The iptables rules, in the order `writeIptablesRules` emits them.
fn rules(cfg: &ProxyConfig, sets: &IpSets, out_filter: &[(IpAddr, u16, &str)]) -> (Table, Table) {
    (filter_rules(cfg, sets, out_filter), nat_rules(cfg, sets))
}

fn jump(c: &str) -> Target {
    Target::Jump(c.to_owned())
}

fn set(name: &str, flags: &str) -> Match {
    Match::Set { name: name.into(), flags: flags.into(), negated: false }
}

fn nonempty(sets: &IpSets, name: &str) -> bool {
    sets.get(name).is_some_and(|s| !s.members.is_empty())
}

fn c(name: &str) -> String {
    comment_of(name).to_owned()
}

/// The nat table: the portals, masquerading loops and NodePorts, and what
/// the Service addresses may skip, keyed by the ipsets.
fn nat_rules(cfg: &ProxyConfig, sets: &IpSets) -> Table {
    let mut nat = Table::new("nat", &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]);
    for chain in [KUBE_SERVICES, KUBE_POSTROUTING, KUBE_NODE_PORT, KUBE_LOAD_BALANCER, KUBE_MARK_MASQ] {
        nat.chain(chain);
    }
    // The jumps, each prepended: they stand in reverse order per chain.
    nat.push(Rule::new("PREROUTING").comment("kubernetes service portals").jump(jump(KUBE_SERVICES)));
    nat.push(Rule::new("OUTPUT").comment("kubernetes service portals").jump(jump(KUBE_SERVICES)));
    nat.push(Rule::new("POSTROUTING").comment("kubernetes postrouting rules").jump(jump(KUBE_POSTROUTING)));
    let nonempty = |name: &str| nonempty(sets, name);
    nat.push(Rule::new(KUBE_SERVICES).src("127.0.0.0/8".parse().expect("literal"), false).jump(Target::Return));
    if nonempty("KUBE-LOOP-BACK") {
        let set = set("KUBE-LOOP-BACK", "dst,dst,src");
        let masq = Target::Masquerade { random_fully: false };
        nat.push(Rule::new(KUBE_POSTROUTING).comment(c("KUBE-LOOP-BACK")).with(set).jump(masq));
    }
    if nonempty("KUBE-LOAD-BALANCER") {
        let set = set("KUBE-LOAD-BALANCER", "dst,dst");
        nat.push(Rule::new(KUBE_SERVICES).comment(c("KUBE-LOAD-BALANCER")).with(set).jump(jump(KUBE_LOAD_BALANCER)));
    }
    if nonempty("KUBE-LOAD-BALANCER-LOCAL") {
        let set = set("KUBE-LOAD-BALANCER-LOCAL", "dst,dst");
        nat.push(Rule::new(KUBE_LOAD_BALANCER).comment(c("KUBE-LOAD-BALANCER-LOCAL")).with(set).jump(Target::Return));
    }
    for p in ["tcp", "udp"] {
        let up = p.to_ascii_uppercase();
        let (local, all) = (format!("KUBE-NODE-PORT-LOCAL-{up}"), format!("KUBE-NODE-PORT-{up}"));
        if nonempty(&local) {
            nat.push(
                Rule::new(KUBE_NODE_PORT).proto(p).comment(c(&local)).with(set(&local, "dst")).jump(Target::Return),
            );
        }
        if nonempty(&all) {
            nat.push(
                Rule::new(KUBE_NODE_PORT).proto(p).comment(c(&all)).with(set(&all, "dst")).jump(jump(KUBE_MARK_MASQ)),
            );
        }
    }
    for (name, target) in
        [("KUBE-NODE-PORT-LOCAL-SCTP-HASH", Target::Return), ("KUBE-NODE-PORT-SCTP-HASH", jump(KUBE_MARK_MASQ))]
    {
        if nonempty(name) {
            nat.push(Rule::new(KUBE_NODE_PORT).proto("sctp").comment(c(name)).with(set(name, "dst,dst")).jump(target));
        }
    }
    if nonempty("KUBE-CLUSTER-IP") {
        let r = Rule::new(KUBE_SERVICES).comment(c("KUBE-CLUSTER-IP"));
        let r = if cfg.masquerade_all {
            r.with(set("KUBE-CLUSTER-IP", "dst,dst"))
        } else if let Some(cidr) = cfg.cluster_cidr {
            r.src(cidr, true).with(set("KUBE-CLUSTER-IP", "dst,dst"))
        } else {
            r.with(set("KUBE-CLUSTER-IP", "src,dst"))
        };
        nat.push(r.jump(jump(KUBE_MARK_MASQ)));
    }
    external_ips(&mut nat, sets);
    let local_dst = Match::AddrType { src: false, kind: "LOCAL".into(), negated: false };
    nat.push(Rule::new(KUBE_SERVICES).with(local_dst).jump(jump(KUBE_NODE_PORT)));
    nat.push(Rule::new(KUBE_LOAD_BALANCER).jump(jump(KUBE_MARK_MASQ)));
    for name in ["KUBE-CLUSTER-IP", "KUBE-LOAD-BALANCER"] {
        if nonempty(name) {
            nat.push(Rule::new(KUBE_SERVICES).with(set(name, "dst,dst")).jump(Target::Accept));
        }
    }
    masquerade_rules(&mut nat, cfg.masquerade_mark());
    nat
}

/// External IPs: masqueraded (unless Local), accepted from elsewhere than
/// a bridge port or the node, and accepted to the node's own addresses.
fn external_ips(nat: &mut Table, sets: &IpSets) {
    let local_src = || Match::AddrType { src: true, kind: "LOCAL".into(), negated: true };
    let local_dst = || Match::AddrType { src: false, kind: "LOCAL".into(), negated: false };
    for (name, masq) in [("KUBE-EXTERNAL-IP", true), ("KUBE-EXTERNAL-IP-LOCAL", false)] {
        if !nonempty(sets, name) {
            continue;
        }
        let rule = || Rule::new(KUBE_SERVICES).comment(c(name)).with(set(name, "dst,dst"));
        if masq {
            nat.push(rule().jump(jump(KUBE_MARK_MASQ)));
        }
        nat.push(rule().with(Match::PhysdevNotIn).with(local_src()).jump(Target::Accept));
        nat.push(rule().with(local_dst()).jump(Target::Accept));
    }
}

/// The filter table: the firewall of load-balancer source ranges, the
/// forwarding rules, and IPVS's access filter that rejects what no virtual
/// server takes.
fn filter_rules(cfg: &ProxyConfig, sets: &IpSets, out_filter: &[(IpAddr, u16, &str)]) -> Table {
    let mut filter = Table::new("filter", &["INPUT", "FORWARD", "OUTPUT"]);
    let chains = [
        KUBE_FORWARD,
        KUBE_NODE_PORT,
        KUBE_PROXY_FIREWALL,
        KUBE_SOURCE_RANGES_FIREWALL,
        KUBE_IPVS_FILTER,
        KUBE_IPVS_OUT_FILTER,
    ];
    for chain in chains {
        filter.chain(chain);
    }
    filter.push(Rule::new("INPUT").comment("kubernetes ipvs access filter").jump(jump(KUBE_IPVS_FILTER)));
    filter.push(Rule::new("INPUT").comment("kube-proxy firewall rules").jump(jump(KUBE_PROXY_FIREWALL)));
    filter.push(Rule::new("INPUT").comment("kubernetes health check rules").jump(jump(KUBE_NODE_PORT)));
    filter.push(Rule::new("FORWARD").comment("kube-proxy firewall rules").jump(jump(KUBE_PROXY_FIREWALL)));
    filter.push(Rule::new("FORWARD").comment("kubernetes forwarding rules").jump(jump(KUBE_FORWARD)));
    filter.push(Rule::new("OUTPUT").comment("kubernetes ipvs access filter").jump(jump(KUBE_IPVS_OUT_FILTER)));
    // kubelet's guard of the loopback addresses, as on every node.
    localnet_guard(&mut filter);
    if nonempty(sets, "KUBE-LOAD-BALANCER-FW") {
        let set = set("KUBE-LOAD-BALANCER-FW", "dst,dst");
        let rule = Rule::new(KUBE_PROXY_FIREWALL).comment(c("KUBE-LOAD-BALANCER-FW")).with(set);
        filter.push(rule.jump(jump(KUBE_SOURCE_RANGES_FIREWALL)));
    }
    for name in ["KUBE-LOAD-BALANCER-SOURCE-CIDR", "KUBE-LOAD-BALANCER-SOURCE-IP"] {
        if nonempty(sets, name) {
            let rule = Rule::new(KUBE_SOURCE_RANGES_FIREWALL).comment(c(name)).with(set(name, "dst,dst,src"));
            filter.push(rule.jump(Target::Return));
        }
    }
    filter.push(Rule::new(KUBE_SOURCE_RANGES_FIREWALL).jump(Target::Drop));
    for (ip, port, proto) in out_filter {
        let ipvs = Match::Ipvs { proto: proto.parse().unwrap_or(6), vaddr: *ip, vport: *port };
        filter.push(Rule::new(KUBE_IPVS_OUT_FILTER).src(IpNet::from(*ip), false).with(ipvs).jump(Target::Drop));
    }
    forward_rules(&mut filter, cfg.masquerade_mark());
    let health = || set("KUBE-HEALTH-CHECK-NODE-PORT", "dst");
    filter.push(
        Rule::new(KUBE_NODE_PORT).comment("Kubernetes health check node port").with(health()).jump(Target::Accept),
    );
    for name in ["KUBE-LOAD-BALANCER", "KUBE-CLUSTER-IP", "KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL"] {
        filter.push(Rule::new(KUBE_IPVS_FILTER).with(set(name, "dst,dst")).jump(Target::Return));
    }
    filter.push(Rule::new(KUBE_IPVS_FILTER).with(health()).jump(Target::Return));
    let new = Match::CtState { states: vec!["NEW".into()], negated: false };
    filter.push(Rule::new(KUBE_IPVS_FILTER).with(new).with(set("KUBE-IPVS-IPS", "dst")).jump(Target::Reject));
    filter
}

impl State {
    /// `ipvsadm -Ln`.
    pub fn ipvsadm(&self) -> String {
        let mut out = String::from(
            "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> \
             RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
        );
        for v in &self.virtual_servers {
            let _ = writeln!(out, "{}", v.line());
            for r in &v.real_servers {
                let _ = writeln!(out, "{}", real_server_line(r));
            }
        }
        out
    }

    /// `ip addr show kube-ipvs0`: a dummy device that is never brought up.
    pub fn kube_ipvs0(&self) -> String {
        let mut out = format!(
            "{}: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default \n    link/ether {} brd \
             ff:ff:ff:ff:ff:ff\n",
            self.ifindex, self.mac
        );
        for ip in &self.bound {
            let _ = write!(
                out,
                "    inet {ip}/32 scope global kube-ipvs0\n       valid_lft forever preferred_lft forever\n"
            );
        }
        out
    }

    /// `iptables-save` of the rules IPVS mode writes.
    pub fn iptables_save(&self) -> String {
        crate::netfilter::save(&[&self.filter, &self.nat])
    }

    /// Everything, as the four tools print it, one after the other.
    pub fn render(&self) -> String {
        format!(
            "# ipvsadm -Ln\n{}\n# ip addr show kube-ipvs0\n{}\n# ipset save\n{}\n# iptables-save\n{}",
            self.ipvsadm(),
            self.kube_ipvs0(),
            self.sets.save(),
            self.iptables_save()
        )
    }

    fn lookup(&self, pkt: &Packet) -> Option<&VirtualServer> {
        let proto = pkt.protocol.as_str();
        self.virtual_servers.iter().find(|v| v.address == pkt.dst && v.port == pkt.dport && v.protocol == proto)
    }

    /// IPVS itself: at LOCAL_IN for packets that arrived, at LOCAL_OUT for
    /// the node's own; it picks a real server and rewrites the destination.
    fn ipvs(&self, pkt: &mut Packet, ctx: &mut Context<'_>, steps: &mut Vec<Step>) -> Verdict {
        let Some(v) = self.lookup(pkt) else { return Verdict::Accept };
        if v.real_servers.is_empty() {
            steps.push(
                Step::new(
                    Place::Ipvs,
                    Action::Rejected,
                    format!("{} has no endpoints: no destination available, ICMP port unreachable", v.service),
                )
                .rule(v.line())
                .packet(pkt),
            );
            return Verdict::Reject;
        }
        steps.push(
            Step::new(
                Place::Ipvs,
                Action::Lookup,
                format!("virtual server of {}, {} real servers", v.service, v.real_servers.len()),
            )
            .rule(v.line())
            .packet(pkt),
        );
        // Round robin's position depends on the connections before this
        // one; the seed stands for that history.
        let i = (ctx.rng.next_u64() % v.real_servers.len() as u64) as usize;
        let r = &v.real_servers[i];
        pkt.ipvs = Some((v.address, v.port));
        pkt.dst = r.ip;
        pkt.dport = r.port;
        let detail = if v.local_fallback {
            format!(
                "{} ({}): real server {}; the Local policy has no endpoint on this node, so IPVS uses every \
                     endpoint, and without SNAT the reply does not come back through this node",
                v.service,
                v.scheduler,
                r.addr()
            )
        } else {
            format!("{} ({}): real server {}", v.service, v.scheduler, r.addr())
        };
        steps.push(Step::new(Place::Ipvs, Action::Dnat, detail).rule(real_server_line(r).trim_end()).packet(pkt));
        Verdict::Dnat(r.ip, r.port)
    }

    pub fn run(&self, hook: Hook, pkt: &mut Packet, ctx: &mut Context<'_>, steps: &mut Vec<Step>) -> Verdict {
        let mut with_sets = Context { local: ctx.local, rng: &mut *ctx.rng, sets: Some(&self.sets), devs: ctx.devs };
        let ctx = &mut with_sets;
        match hook {
            Hook::Connect => Verdict::Accept,
            Hook::Prerouting => run_tables(&[(&self.nat, "PREROUTING")], pkt, ctx, steps),
            Hook::Forward => run_tables(&[(&self.filter, "FORWARD")], pkt, ctx, steps),
            Hook::Postrouting => run_tables(&[(&self.nat, "POSTROUTING")], pkt, ctx, steps),
            Hook::Input => match run_tables(&[(&self.filter, "INPUT")], pkt, ctx, steps) {
                Verdict::Accept => self.ipvs(pkt, ctx, steps),
                other => other,
            },
            Hook::Output => match run_tables(&[(&self.nat, "OUTPUT")], pkt, ctx, steps) {
                Verdict::Accept => match self.ipvs(pkt, ctx, steps) {
                    v @ (Verdict::Accept | Verdict::Dnat(..)) => {
                        match run_tables(&[(&self.filter, "OUTPUT")], pkt, ctx, steps) {
                            Verdict::Accept => v,
                            other => other,
                        }
                    }
                    other => other,
                },
                other => other,
            },
        }
    }

    /// The real servers of the virtual server the packet is addressed to.
    pub fn candidates(&self, pkt: &Packet) -> BTreeSet<(IpAddr, u16)> {
        self.lookup(pkt).map(|v| v.real_servers.iter().map(|r| (r.ip, r.port)).collect()).unwrap_or_default()
    }
}

/// Sorting helpers are easy to get subtly wrong; check ipvsadm's order.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_addresses_sort_before_cluster_ips_as_in_ipvsadm() {
        let ips: Vec<IpAddr> =
            ["10.96.0.10", "192.168.49.2", "10.96.0.1", "10.244.0.1"].iter().map(|s| s.parse().unwrap()).collect();
        let order: Vec<String> = circular_order(&ips).iter().map(ToString::to_string).collect();
        assert_eq!(order, ["192.168.49.2", "10.96.0.1", "10.96.0.10", "10.244.0.1"]);
    }
}
