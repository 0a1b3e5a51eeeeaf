//! NetworkPolicy evaluation: whether a connection is allowed, which
//! policies decided it, and why — as a conformant plugin enforces the
//! `networking.k8s.io/v1` API, adjusted for what each CNI plugin really
//! does ([`Enforcement`]).
//!
//! A connection is allowed when the egress side of the client allows it
//! and the ingress side of the server does. A side is isolated when any
//! policy of that direction selects the pod; it then allows exactly what
//! the union of those policies' rules admits. Connections are judged as
//! the plugin sees them: after the Service's DNAT, on the pod's address and
//! container port. Replies of an allowed connection pass (conntrack).

pub mod admin;
pub mod lint;
pub mod matrix;

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::cluster::policy::{IpBlock, NetworkPolicy, Peer, PolicyPort, PortMatch, Rule};
use crate::cluster::{Cluster, Pod, Protocol};
pub use crate::datapath::Enforcement;
use crate::labels::{Labels, Selector};

/// One end of a connection as policies see it.
#[derive(Clone, Copy, Debug)]
pub enum End<'a> {
    Pod(&'a Pod),
    /// Anything that is not a pod with its own network: outside clients,
    /// nodes, host-network pods.
    Ip(IpAddr),
}

impl End<'_> {
    fn ip(&self) -> Option<IpAddr> {
        match self {
            End::Pod(p) => p.ip,
            End::Ip(ip) => Some(*ip),
        }
    }

    fn describe(&self) -> String {
        match self {
            End::Pod(p) => p.key(),
            End::Ip(ip) => ip.to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum SideVerdict {
    Allow,
    Deny,
    NotIsolated,
    NotEnforced,
}

impl SideVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            SideVerdict::Allow => "allow",
            SideVerdict::Deny => "deny",
            SideVerdict::NotIsolated => "not-isolated",
            SideVerdict::NotEnforced => "not-enforced",
        }
    }

    pub fn passes(self) -> bool {
        self != SideVerdict::Deny
    }
}

/// The verdict of one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Side {
    pub verdict: SideVerdict,
    /// For `allow`, the policies with a rule that admits the connection;
    /// for `deny`, the policies that isolate the pod.
    pub by: Vec<String>,
    /// The first rule that admitted it: `ns/policy ingress[0]`.
    pub rule: Option<String>,
    /// One sentence saying why.
    pub explanation: String,
    /// For `deny`: why each rule of each isolating policy did not match.
    pub reasons: Vec<String>,
}

impl Side {
    fn plain(verdict: SideVerdict, explanation: String) -> Side {
        Side { verdict, by: Vec::new(), rule: None, explanation, reasons: Vec::new() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Decision {
    pub egress: Side,
    pub ingress: Side,
    /// A pod talking to itself: the packet never leaves its namespace.
    pub loopback: bool,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.egress.verdict.passes() && self.ingress.verdict.passes()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    Ingress,
    Egress,
}

impl Dir {
    fn as_str(self) -> &'static str {
        match self {
            Dir::Ingress => "ingress",
            Dir::Egress => "egress",
        }
    }
}

/// Evaluates connections against the cluster's policies.
#[derive(Debug)]
pub struct Engine<'a> {
    pub cluster: &'a Cluster,
    pub enforcement: Enforcement,
    empty: Labels,
}

fn peer_text(peer: &Peer) -> String {
    let sel = |s: &Selector| if s.is_empty() { "{}".to_owned() } else { s.to_string() };
    match peer {
        Peer::Pods { pods: Some(p), namespaces: None } => format!("podSelector {}", sel(p)),
        Peer::Pods { pods: None, namespaces: Some(n) } => format!("namespaceSelector {}", sel(n)),
        Peer::Pods { pods: Some(p), namespaces: Some(n) } => {
            format!("podSelector {} in namespaceSelector {}", sel(p), sel(n))
        }
        Peer::Pods { pods: None, namespaces: None } => "every pod of the namespace".into(),
        Peer::IpBlock(b) => ip_block_text(b),
    }
}

fn ip_block_text(b: &IpBlock) -> String {
    if b.except.is_empty() {
        format!("ipBlock {}", b.cidr)
    } else {
        let ex: Vec<String> = b.except.iter().map(ToString::to_string).collect();
        format!("ipBlock {} except [{}]", b.cidr, ex.join(", "))
    }
}

impl<'a> Engine<'a> {
    pub fn new(cluster: &'a Cluster) -> Engine<'a> {
        Engine { cluster, enforcement: Enforcement::of_settings(&cluster.settings), empty: Labels::new() }
    }

    /// Whether `ip` is one of the nodes' own addresses.
    fn is_node(&self, ip: IpAddr) -> bool {
        self.cluster
            .nodes
            .iter()
            .any(|n| n.internal_ip == Some(ip) || n.external_ip == Some(ip) || n.network.gateway == Some(ip))
    }

    /// Whether the plugin applies this policy at all.
    pub fn applies(&self, np: &NetworkPolicy) -> bool {
        self.enforcement.named_ports || !has_named_port(np)
    }

    fn ns_labels(&self, ns: &str) -> &Labels {
        self.cluster.namespace_labels.get(ns).unwrap_or(&self.empty)
    }

    /// The end a packet's address stands for: a pod with its own network,
    /// or a bare address (host-network pods are their node).
    pub fn end_of(&self, ip: IpAddr) -> End<'a> {
        match self.cluster.pods.iter().find(|p| p.ip == Some(ip) && !p.host_network && p.is_running()) {
            Some(p) => End::Pod(p),
            None => End::Ip(ip),
        }
    }

    /// Whether `peer` of a policy in `ns` matches the other end; `Err`
    /// says why not.
    fn peer_matches(&self, peer: &Peer, ns: &str, other: End<'_>) -> Result<(), String> {
        match (peer, other) {
            (Peer::IpBlock(_), End::Pod(p)) if !self.enforcement.ip_block_matches_pods => {
                Err(format!("{} is a pod, and {} ipBlocks do not match pods' addresses", p.key(), self.enforcement.cni))
            }
            (Peer::IpBlock(_), End::Ip(ip)) if !self.enforcement.ip_block_matches_nodes && self.is_node(ip) => {
                Err(format!("{ip} is a node's address, and {} ipBlocks do not match nodes", self.enforcement.cni))
            }
            (Peer::IpBlock(b), end) => match end.ip() {
                Some(ip) if b.contains(ip) => Ok(()),
                Some(ip) if b.cidr.contains(&ip) => {
                    let e = b.except.iter().find(|e| e.contains(&ip)).expect("in the cidr, not contained");
                    Err(format!("{ip} is in except {e} of ipBlock {}", b.cidr))
                }
                Some(ip) => Err(format!("{ip} is not in ipBlock {}", b.cidr)),
                None => Err(format!("{} has no address", end.describe())),
            },
            (Peer::Pods { .. }, End::Ip(ip)) => Err(format!("{ip} is not a pod; only ipBlock peers match it")),
            (Peer::Pods { pods, namespaces }, End::Pod(p)) => {
                match namespaces {
                    None if p.namespace != ns => return Err(format!("{} is not in namespace {ns}", p.key())),
                    Some(n) if !n.matches(self.ns_labels(&p.namespace)) => {
                        return Err(format!("{} is not in a namespace matching {}", p.key(), selector_text(n)))
                    }
                    _ => {}
                }
                match pods {
                    Some(s) if !s.matches(&p.labels) => {
                        Err(format!("{} does not match podSelector {}", p.key(), selector_text(s)))
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// Whether a rule's ports admit `port`/`protocol` on the server `dst`.
    fn port_matches(
        &self,
        ports: &[PolicyPort],
        dst: End<'_>,
        port: u16,
        protocol: Option<Protocol>,
    ) -> Result<(), String> {
        if ports.is_empty() {
            return Ok(());
        }
        let Some(protocol) = protocol else {
            return Err("the rule names ports, and this protocol has none".into());
        };
        let mut notes = Vec::new();
        for p in ports {
            if p.protocol != protocol {
                continue;
            }
            match &p.port {
                PortMatch::All => return Ok(()),
                PortMatch::Number { port: n, end } => {
                    let end = if self.enforcement.end_port { end.unwrap_or(*n) } else { *n };
                    if (*n..=end).contains(&port) {
                        return Ok(());
                    }
                }
                PortMatch::Named(name) => match dst {
                    End::Pod(pod) => match named_port(pod, name, protocol) {
                        Some(n) if n == port => return Ok(()),
                        Some(_) => {}
                        None => notes.push(format!("{} has no container port named {name}", pod.key())),
                    },
                    End::Ip(_) => notes.push(format!("a named port ({name}) only matches pods")),
                },
            }
        }
        let list: Vec<String> = ports.iter().map(ToString::to_string).collect();
        let mut why = format!("port {port}/{} not in [{}]", protocol.as_str(), list.join(", "));
        for n in notes {
            let _ = write!(why, " ({n})");
        }
        Err(why)
    }

    /// One direction of the connection for the pod `me`, with `other` the
    /// far end and `server` the end that owns the port.
    fn side(
        &self,
        dir: Dir,
        me: End<'_>,
        other: End<'_>,
        server: End<'_>,
        port: u16,
        protocol: Option<Protocol>,
    ) -> Side {
        if !self.enforcement.enforced {
            return Side::plain(
                SideVerdict::NotEnforced,
                format!("{} does not enforce NetworkPolicy", self.enforcement.cni),
            );
        }
        let End::Pod(pod) = me else {
            return Side::plain(
                SideVerdict::NotIsolated,
                format!("{} is not a pod; no policy selects it", me.describe()),
            );
        };
        let isolating = self.isolating(pod, dir == Dir::Egress);
        self.side_with(dir, pod, &isolating, other, server, port, protocol)
    }

    /// The policies that isolate `pod` for egress (or ingress).
    pub fn isolating(&self, pod: &Pod, egress: bool) -> Vec<&'a NetworkPolicy> {
        self.cluster
            .network_policies
            .iter()
            .filter(|np| np.selects(pod) && self.applies(np))
            .filter(|np| if egress { np.isolates_egress() } else { np.isolates_ingress() })
            .collect()
    }

    /// Whether `other` is `pod`'s own node (one of its addresses).
    fn is_own_node(&self, pod: &Pod, other: End<'_>) -> bool {
        let End::Ip(ip) = other else { return false };
        let node = pod.node.as_deref().and_then(|n| self.cluster.node(n));
        node.is_some_and(|n| n.internal_ip == Some(ip) || n.external_ip == Some(ip) || n.network.gateway == Some(ip))
    }

    /// Whether a rule's peers admit `other` (a rule without peers admits
    /// everyone), or why none does.
    fn peers_admit(&self, rule: &Rule, namespace: &str, other: End<'_>) -> Result<(), String> {
        if rule.peers.is_empty() {
            return Ok(());
        }
        let mut why = Vec::new();
        for peer in &rule.peers {
            match self.peer_matches(peer, namespace, other) {
                Ok(()) => return Ok(()),
                Err(w) => why.push(w),
            }
        }
        why.dedup();
        Err(why.join("; "))
    }

    #[allow(clippy::too_many_arguments)]
    fn side_with(
        &self,
        dir: Dir,
        pod: &Pod,
        isolating: &[&NetworkPolicy],
        other: End<'_>,
        server: End<'_>,
        port: u16,
        protocol: Option<Protocol>,
    ) -> Side {
        if isolating.is_empty() {
            return Side::plain(
                SideVerdict::NotIsolated,
                format!("no policy selects {} for {}", pod.key(), dir.as_str()),
            );
        }
        // The pod's own node always reaches it.
        if dir == Dir::Ingress && self.enforcement.host_always_allowed && self.is_own_node(pod, other) {
            return Side {
                verdict: SideVerdict::Allow,
                by: Vec::new(),
                rule: None,
                explanation: format!("traffic from {}'s own node is always allowed", pod.key()),
                reasons: Vec::new(),
            };
        }
        let mut by = Vec::new();
        let mut first: Option<String> = None;
        let mut reasons = Vec::new();
        for np in isolating {
            let rules: &[Rule] = match dir {
                Dir::Ingress => &np.ingress,
                Dir::Egress => &np.egress,
            };
            if rules.is_empty() {
                reasons.push(format!("{} has no {} rules: it allows nothing", np.key(), dir.as_str()));
            }
            let mut admitted = false;
            for (i, rule) in rules.iter().enumerate() {
                let here = format!("{} {}[{i}]", np.key(), dir.as_str());
                let peers = self.peers_admit(rule, &np.namespace, other);
                let ports = self.port_matches(&rule.ports, server, port, protocol);
                match (peers, ports) {
                    (Ok(()), Ok(())) => {
                        admitted = true;
                        if first.is_none() {
                            first = Some(here);
                        }
                        break;
                    }
                    (Err(a), Ok(())) => reasons.push(format!("{here}: {a}")),
                    (Ok(()), Err(b)) => reasons.push(format!("{here}: {b}")),
                    (Err(a), Err(b)) => reasons.push(format!("{here}: {a}; and {b}")),
                }
            }
            if admitted {
                by.push(np.key());
            }
        }
        if let Some(rule) = first {
            return Side {
                verdict: SideVerdict::Allow,
                explanation: format!("{rule} allows it"),
                by,
                rule: Some(rule),
                reasons: Vec::new(),
            };
        }
        let names: Vec<String> = isolating.iter().map(|np| np.key()).collect();
        Side {
            verdict: SideVerdict::Deny,
            explanation: format!(
                "{} is isolated for {} by {} and no rule admits {} on {}",
                pod.key(),
                dir.as_str(),
                names.join(", "),
                other.describe(),
                protocol.map_or_else(|| "this protocol".to_owned(), |p| format!("port {port}/{}", p.as_str()))
            ),
            by: names,
            rule: None,
            reasons,
        }
    }

    /// The verdict for a connection from `src` to `dst` on the server's
    /// `port` (after DNAT).
    pub fn check(&self, src: End<'_>, dst: End<'_>, port: u16, protocol: Protocol) -> Decision {
        self.check_as(src, src, dst, port, Some(protocol))
    }

    /// [`Engine::check`] where the server sees another source than the
    /// client sent from (the proxy masqueraded it), for a protocol that may
    /// have no ports (`None`: ICMP).
    pub fn check_as(
        &self,
        src: End<'_>,
        seen: End<'_>,
        dst: End<'_>,
        port: u16,
        protocol: Option<Protocol>,
    ) -> Decision {
        if let (End::Pod(a), End::Pod(b), End::Pod(c)) = (src, dst, seen) {
            if a.key() == b.key() && b.key() == c.key() {
                let side = || Side {
                    verdict: SideVerdict::Allow,
                    by: Vec::new(),
                    rule: None,
                    explanation: "a pod's traffic to itself never leaves its network namespace".into(),
                    reasons: Vec::new(),
                };
                return Decision { egress: side(), ingress: side(), loopback: true };
            }
        }
        Decision {
            egress: self.side(Dir::Egress, src, dst, dst, port, protocol),
            ingress: self.side(Dir::Ingress, dst, seen, dst, port, protocol),
            loopback: false,
        }
    }
}

impl Engine<'_> {
    /// Whether a connection between two distinct pods passes, given the
    /// policies isolating the client for egress and the server for
    /// ingress (computed once per class by the matrix).
    pub fn allows(
        &self,
        src: &Pod,
        src_egress: &[&NetworkPolicy],
        dst: &Pod,
        dst_ingress: &[&NetworkPolicy],
        port: u16,
        protocol: Protocol,
    ) -> bool {
        if !self.enforcement.enforced {
            return true;
        }
        let (s, d) = (End::Pod(src), End::Pod(dst));
        let admits = |isolating: &[&NetworkPolicy], dir: Dir, other: End<'_>| {
            isolating.iter().any(|np| {
                let rules = if dir == Dir::Ingress { &np.ingress } else { &np.egress };
                rules.iter().any(|r| {
                    (r.peers.is_empty() || r.peers.iter().any(|p| self.peer_admits(p, &np.namespace, other)))
                        && self.port_admits(&r.ports, d, port, protocol)
                })
            })
        };
        (src_egress.is_empty() || admits(src_egress, Dir::Egress, d))
            && (dst_ingress.is_empty() || admits(dst_ingress, Dir::Ingress, s))
    }

    /// [`Engine::peer_matches`] without the explanation.
    fn peer_admits(&self, peer: &Peer, ns: &str, other: End<'_>) -> bool {
        match (peer, other) {
            (Peer::IpBlock(_), End::Pod(_)) if !self.enforcement.ip_block_matches_pods => false,
            (Peer::IpBlock(_), End::Ip(ip)) if !self.enforcement.ip_block_matches_nodes && self.is_node(ip) => false,
            (Peer::IpBlock(b), end) => end.ip().is_some_and(|ip| b.contains(ip)),
            (Peer::Pods { .. }, End::Ip(_)) => false,
            (Peer::Pods { pods, namespaces }, End::Pod(p)) => {
                let ns_ok = match namespaces {
                    None => p.namespace == ns,
                    Some(n) => n.matches(self.ns_labels(&p.namespace)),
                };
                ns_ok && pods.as_ref().is_none_or(|s| s.matches(&p.labels))
            }
        }
    }

    /// [`Engine::port_matches`] without the explanation.
    fn port_admits(&self, ports: &[PolicyPort], dst: End<'_>, port: u16, protocol: Protocol) -> bool {
        ports.is_empty()
            || ports.iter().any(|p| {
                p.protocol == protocol
                    && match &p.port {
                        PortMatch::All => true,
                        PortMatch::Number { port: n, end } => {
                            let end = if self.enforcement.end_port { end.unwrap_or(*n) } else { *n };
                            (*n..=end).contains(&port)
                        }
                        PortMatch::Named(name) => match dst {
                            End::Pod(pod) => named_port(pod, name, protocol) == Some(port),
                            End::Ip(_) => false,
                        },
                    }
            })
    }
}

/// Whether any rule of the policy names a container port.
pub fn has_named_port(np: &NetworkPolicy) -> bool {
    np.ingress
        .iter()
        .chain(np.egress.iter())
        .flat_map(|r| r.ports.iter())
        .any(|p| matches!(p.port, PortMatch::Named(_)))
}

fn selector_text(s: &Selector) -> String {
    if s.is_empty() {
        "{}".into()
    } else {
        s.to_string()
    }
}

/// The container port of `pod` named `name` for `protocol`.
pub fn named_port(pod: &Pod, name: &str, protocol: Protocol) -> Option<u16> {
    pod.named_port(name, protocol)
}

/// A rule as people read it: `from [podSelector app=a] ports [80/TCP]`.
pub fn rule_text(dir: &str, rule: &Rule) -> String {
    let peers: Vec<String> = rule.peers.iter().map(peer_text).collect();
    let ports: Vec<String> = rule.ports.iter().map(ToString::to_string).collect();
    let word = if dir == "ingress" { "from" } else { "to" };
    format!(
        "{word} [{}] ports [{}]",
        if peers.is_empty() { "anywhere".to_owned() } else { peers.join(", ") },
        if ports.is_empty() { "any".to_owned() } else { ports.join(", ") }
    )
}
