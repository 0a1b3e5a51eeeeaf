//! Cilium's kube-proxy replacement: the BPF service map one agent programs
//! on its node, as `cilium-dbg bpf lb list` prints it, and the two places
//! the datapath consults it — the cgroup `connect()` hook of every socket
//! (pods and host alike), and the native device's ingress program for
//! traffic from outside the cluster.
//!
//! Follows Cilium 1.17: one map entry per frontend address, port, protocol
//! and scope; slot 0 holds the frontend's flags and slots 1..N its active
//! backends; every frontend has its own reverse-NAT id. A NodePort gets a
//! `0.0.0.0` surrogate (for wildcard lookups) and an entry per node
//! address. When exactly one of the two traffic policies is Local, external
//! frontends come twice: the external scope and the internal one (`/i`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::{service_ports, Hook, Origin, ProxyEndpoint, ServicePortView};
use crate::cluster::{Cluster, Protocol};
use crate::netfilter::eval::{Context, Verdict};
use crate::packet::Packet;
use crate::step::{Action, Place, Step};

/// What kind of address a frontend is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ClusterIp,
    NodePort,
    LoadBalancer,
    ExternalIps,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::ClusterIp => "ClusterIP",
            Kind::NodePort => "NodePort",
            Kind::LoadBalancer => "LoadBalancer",
            Kind::ExternalIps => "ExternalIPs",
        }
    }
}

/// One frontend of the service map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frontend {
    pub address: IpAddr,
    pub port: u16,
    pub protocol: Protocol,
    /// The internal scope (`/i`) of a two-scope frontend.
    pub internal: bool,
    pub rev_nat: u16,
    pub kind: Kind,
    pub flags: Vec<&'static str>,
    /// `ns/name:port`, for explanations.
    pub service: String,
    /// The active backends, slots 1..N.
    pub backends: Vec<ProxyEndpoint>,
    /// `loadBalancerSourceRanges`, checked on LoadBalancer frontends.
    pub source_ranges: Vec<IpNet>,
    /// The node's Envoy takes this frontend's connections (a Service
    /// Cilium's Gateway API or Ingress made): the proxy port it listens on.
    pub l7_proxy_port: Option<u16>,
}

impl Frontend {
    fn key(&self, slot: usize) -> String {
        format!(
            "{}/{}{} ({slot})",
            hostport(self.address, self.port),
            self.protocol.as_str(),
            if self.internal { "/i" } else { "" }
        )
    }

    /// The value column of `slot`: the frontend itself at 0, a backend after.
    fn value(&self, slot: usize) -> String {
        match slot {
            0 => format!("0.0.0.0:0 ({}) (0) [{}] ", self.rev_nat, self.flags.join(", ")),
            n => {
                let b = &self.backends[n - 1];
                format!("{}/{} ({}) ({n})", b.addr(), self.protocol.as_str(), self.rev_nat)
            }
        }
    }

    fn routable(&self) -> bool {
        !self.flags.contains(&"non-routable")
    }
}

fn hostport(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// The first column's header.
const HEADER: &str = "SERVICE ADDRESS";

/// The service map of one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LbMap {
    pub node: String,
    pub node_ip: Option<IpAddr>,
    /// Every node's address: a wildcard NodePort lookup from inside the
    /// cluster matches them all.
    pub node_ips: Vec<IpAddr>,
    pub frontends: Vec<Frontend>,
    /// The dump's first column width (`key_width`), worked out once: a
    /// trace quotes a line of the dump, and measuring every key of a
    /// thousand Services for each line made a trace cost 12 ms.
    width: usize,
}

/// The label Cilium's operator puts on a Gateway's Service.
pub const GATEWAY_LABEL: &str = "io.cilium.gateway/owning-gateway";

/// The port the agent opens for the Envoy listener of an L7 load-balanced
/// Service: allocated at run time from its proxy range (10000–20000);
/// here the same for a given Service, so traces repeat.
fn l7_proxy_port(service: &str) -> u16 {
    10000 + (crate::names::fnv64a(service.as_bytes()) % 10000) as u16
}

/// The flags Cilium prints for a frontend, in its order.
fn flags(view: &ServicePortView<'_>, kind: Kind, two_scopes: bool, routable: bool) -> Vec<&'static str> {
    let mut f = vec![kind.as_str()];
    if view.service.labels.contains_key(GATEWAY_LABEL) {
        f.push("l7-load-balancer");
    }
    if view.service.external_traffic_policy == crate::cluster::TrafficPolicy::Local && view.externally_accessible() {
        f.push("Local");
    }
    if view.internal_policy_local() {
        f.push("InternalLocal");
    }
    if two_scopes {
        f.push("two-scopes");
    }
    if view.service.session_affinity.is_some() {
        f.push("sessionAffinity");
    }
    if !routable {
        f.push("non-routable");
    }
    if kind == Kind::LoadBalancer && !view.service.load_balancer_source_ranges.is_empty() {
        f.push("check source-range");
    }
    f
}

/// What the agent on `node` programs.
pub fn build(cluster: &Cluster, node: &str) -> LbMap {
    let node_ip = cluster.node(node).and_then(|n| n.internal_ip);
    let mut map = LbMap {
        node: node.to_owned(),
        node_ip,
        node_ips: cluster
            .nodes
            .iter()
            .flat_map(|n| n.internal_ip.into_iter().chain(n.other_ips.iter().copied()))
            .collect(),
        frontends: Vec::new(),
        width: 0,
    };
    let mut next_id: u16 = 1;
    for view in service_ports(cluster, node) {
        let internal_backends =
            if view.internal_policy_local() { view.local_endpoints.clone() } else { view.cluster_endpoints.clone() };
        let external_backends =
            if view.external_policy_local() { view.local_endpoints.clone() } else { view.cluster_endpoints.clone() };
        let two_scopes = view.externally_accessible() && view.external_policy_local() != view.internal_policy_local();
        let ranges: Vec<IpNet> =
            view.service.load_balancer_source_ranges.iter().filter_map(|r| r.trim().parse().ok()).collect();
        let mut add = |address: IpAddr, kind: Kind, routable: bool| {
            let scopes: &[bool] = if two_scopes && kind != Kind::ClusterIp { &[false, true] } else { &[false] };
            for &internal in scopes {
                let backends = if kind == Kind::ClusterIp || internal {
                    internal_backends.clone()
                } else {
                    external_backends.clone()
                };
                map.frontends.push(Frontend {
                    address,
                    port: if kind == Kind::NodePort { view.port.node_port.unwrap_or(0) } else { view.port.port },
                    protocol: view.protocol(),
                    internal,
                    rev_nat: next_id,
                    kind,
                    flags: flags(&view, kind, two_scopes && kind != Kind::ClusterIp, routable),
                    service: view.name.clone(),
                    backends,
                    source_ranges: if kind == Kind::LoadBalancer { ranges.clone() } else { Vec::new() },
                    l7_proxy_port: view
                        .service
                        .labels
                        .contains_key(GATEWAY_LABEL)
                        .then(|| l7_proxy_port(&view.service.key())),
                });
                next_id = next_id.wrapping_add(1).max(1);
            }
        };
        add(view.cluster_ip, Kind::ClusterIp, false);
        if view.port.node_port.is_some() {
            add(IpAddr::V4(Ipv4Addr::UNSPECIFIED), Kind::NodePort, false);
            if let Some(ip) = node_ip {
                add(ip, Kind::NodePort, true);
            }
        }
        for ip in &view.service.load_balancer_ips {
            add(*ip, Kind::LoadBalancer, true);
        }
        for ip in &view.service.external_ips {
            add(*ip, Kind::ExternalIps, true);
        }
    }
    map.width = map.measure_key_width();
    map
}

impl LbMap {
    /// Every row of the map, as `(key, value)`, frontend by frontend: its
    /// slot 0, then its backends. (The real command walks a hash map, so
    /// its order varies; this one is stable.)
    fn rows(&self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        for f in &self.frontends {
            for slot in 0..=f.backends.len() {
                rows.push((f.key(slot), f.value(slot)));
            }
        }
        rows
    }

    /// `cilium-dbg bpf lb list`: Go's tabwriter with a minimum width of 5
    /// and a padding of 3; data rows end in a tab, so their second column
    /// is padded too.
    /// The first column's width: the widest key or the header, at least
    /// tabwriter's minimum of 5, plus its padding of 3. Keys alone decide
    /// it, so a trace's line needs no values rendered.
    fn measure_key_width(&self) -> usize {
        let widest = self.frontends.iter().flat_map(|f| (0..=f.backends.len()).map(|slot| f.key(slot).len())).max();
        widest.unwrap_or(0).max(HEADER.len()).max(5) + 3
    }

    pub fn render(&self) -> String {
        let rows = self.rows();
        let first = HEADER;
        let w1 = self.width;
        let w2 = rows.iter().map(|(_, v)| v.len()).max().unwrap_or(0).max(5) + 3;
        let mut out = format!("{first:<w1$}BACKEND ADDRESS (REVNAT_ID) (SLOT)\n");
        for (k, v) in &rows {
            let _ = writeln!(out, "{k:<w1$}{v:<w2$}");
        }
        out
    }

    /// The row of `slot` of a frontend, as the dump prints it (without the
    /// padding at its end).
    fn line(&self, f: &Frontend, slot: usize) -> String {
        let w1 = self.width;
        format!("{:<w1$}{}", f.key(slot), f.value(slot)).trim_end().to_owned()
    }

    /// The frontend a lookup finds: the exact address first, then the
    /// NodePort surrogate for a node's address; from inside the cluster a
    /// two-scope frontend answers with its internal scope.
    fn lookup(&self, pkt: &Packet, east_west: bool, local: &[IpNet]) -> Option<&Frontend> {
        let matching = |addr: IpAddr, internal: bool| {
            self.frontends.iter().find(|f| {
                f.address == addr && f.port == pkt.dport && f.protocol == pkt.protocol && f.internal == internal
            })
        };
        let node_addr = local.iter().any(|n| n.contains(&pkt.dst)) || (east_west && self.node_ips.contains(&pkt.dst));
        let external = matching(pkt.dst, false)
            .or_else(|| node_addr.then(|| matching(IpAddr::V4(Ipv4Addr::UNSPECIFIED), false)).flatten())?;
        if east_west && external.flags.contains(&"two-scopes") {
            let internal = self.frontends.iter().find(|f| {
                f.internal
                    && f.address == external.address
                    && f.port == external.port
                    && f.protocol == external.protocol
            });
            return internal.or(Some(external));
        }
        Some(external)
    }

    /// Runs what the agent attached at `hook`: `cil_sock4_connect` for
    /// local sockets, `cil_from_netdev` for packets from outside, and at
    /// the way out the NodePort SNAT it decided on the way in.
    pub fn run(&self, hook: Hook, pkt: &mut Packet, ctx: &mut Context<'_>, steps: &mut Vec<Step>) -> Verdict {
        match hook {
            Hook::Connect => self.balance(pkt, ctx, steps, true, SOCKET_LB),
            Hook::Prerouting => self.balance(pkt, ctx, steps, false, "tc ingress (from-netdev)"),
            Hook::Postrouting if pkt.mark & NODEPORT_SNAT != 0 => {
                pkt.mark &= !NODEPORT_SNAT;
                steps.push(
                    Step::new(
                        Place::Bpf("tc egress (to-netdev)".to_owned()),
                        Action::Snat,
                        "NodePort SNAT (bpf-lb-mode snat): the backend is on another node, so the reply must come \
                         back through this one",
                    )
                    .packet(pkt),
                );
                Verdict::Masquerade
            }
            _ => Verdict::Accept,
        }
    }

    fn balance(
        &self,
        pkt: &mut Packet,
        ctx: &mut Context<'_>,
        steps: &mut Vec<Step>,
        socket: bool,
        program: &str,
    ) -> Verdict {
        let at = || Place::Bpf(program.to_owned());
        let Some(f) = self.lookup(pkt, socket, ctx.local) else { return Verdict::Accept };
        // From outside, a ClusterIP is not routable.
        if !socket && !f.routable() && f.kind == Kind::ClusterIp {
            steps.push(
                Step::new(
                    at(),
                    Action::Dropped,
                    format!("{} is a ClusterIP, not reachable from outside the cluster", f.service),
                )
                .rule(self.line(f, 0))
                .packet(pkt),
            );
            return Verdict::Drop;
        }
        steps.push(
            Step::new(
                at(),
                Action::Lookup,
                format!("service map: frontend of {}, {} backends", f.service, f.backends.len()),
            )
            .rule(self.line(f, 0))
            .packet(pkt),
        );
        // An L7 load balancer: no backend is picked here; the node's Envoy
        // takes the connection (TPROXY to its proxy port) and routes it.
        if let (Some(proxy), Some(node_ip)) = (f.l7_proxy_port, self.node_ip) {
            pkt.dst = node_ip;
            pkt.dport = proxy;
            if let Some(s) = steps.last_mut() {
                s.action = Action::Dnat;
                s.detail = format!(
                    "{} is an L7 load balancer (l7-load-balancer): redirected to the node's Envoy on proxy port {proxy}",
                    f.service
                );
                s.packet = Some(pkt.clone());
            }
            return Verdict::Dnat(node_ip, proxy);
        }
        if !socket && !f.source_ranges.is_empty() && !f.source_ranges.iter().any(|r| r.contains(&pkt.src)) {
            if let Some(s) = steps.last_mut() {
                s.action = Action::Dropped;
                s.detail = format!("{}: source {} is not in loadBalancerSourceRanges", f.service, pkt.src);
            }
            return Verdict::Drop;
        }
        if f.backends.is_empty() {
            if let Some(s) = steps.last_mut() {
                s.action = Action::Rejected;
                s.detail = if socket {
                    format!("{} has no backends: connect() fails with EHOSTUNREACH", f.service)
                } else {
                    format!("{} has no backends: Service backend not found", f.service)
                };
            }
            return Verdict::Reject;
        }
        // `bpf-lb-algorithm=random`: slot (random % count) + 1.
        let slot = (ctx.rng.next_u64() % f.backends.len() as u64) as usize + 1;
        let b = &f.backends[slot - 1];
        pkt.dst = b.ip;
        pkt.dport = b.port;
        let remote = b.node.as_deref() != Some(self.node.as_str());
        if !socket && remote {
            pkt.mark |= NODEPORT_SNAT;
        }
        let detail = if socket {
            format!(
                "socket-level load balancing: connect() to {} is connected to backend {} instead; the packet leaves \
                     already addressed to it",
                f.service,
                b.addr()
            )
        } else {
            format!("{}: backend {}", f.service, b.addr())
        };
        steps.push(Step::new(at(), Action::Dnat, detail).rule(self.line(f, slot)).packet(pkt));
        Verdict::Dnat(b.ip, b.port)
    }

    /// The reverse-NAT entry that turns a reply's source back into the
    /// frontend, as `cilium-dbg bpf lb list --revnat` prints it.
    pub fn rev_nat(&self, frontend: IpAddr, port: u16, protocol: Protocol) -> Option<String> {
        let f = self
            .frontends
            .iter()
            .filter(|f| f.port == port && f.protocol == protocol && !f.internal)
            .find(|f| f.address == frontend)
            .or_else(|| {
                self.frontends.iter().find(|f| {
                    f.address == IpAddr::V4(Ipv4Addr::UNSPECIFIED) && f.port == port && f.protocol == protocol
                })
            })?;
        Some(format!("{:<5}{}", f.rev_nat, hostport(f.address, f.port)))
    }

    /// The backends a lookup can pick.
    pub fn candidates(&self, pkt: &Packet, origin: Origin, local: &[IpNet]) -> BTreeSet<(IpAddr, u16)> {
        let east_west = origin != Origin::Outside;
        match self.lookup(pkt, east_west, local) {
            Some(f) if east_west || f.kind != Kind::ClusterIp => f.backends.iter().map(|b| (b.ip, b.port)).collect(),
            _ => BTreeSet::new(),
        }
    }
}

/// Where Cilium balances a local socket's connections: the cgroup hook of
/// `connect()`, before any packet exists.
pub const SOCKET_LB: &str = "cgroup/connect4";

/// Stands for the ingress program's tail call into the NodePort NAT egress
/// path: the reply of a connection to a remote backend must come back
/// through this node. Our marker, not a value Cilium writes.
const NODEPORT_SNAT: u32 = 0x0001_0000;
