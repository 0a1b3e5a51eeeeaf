//! One step of a packet's way, as every part of the datapath reports it:
//! netfilter's rules, the service proxies and the CNI plugins' plumbing
//! all return [`Step`]s, and a trace turns them into hops. Where the step
//! happened ([`Place`]), what it did ([`Action`]) and what became of a
//! tunnel ([`Tunnel`]) are values; their text is only how they print.

use std::fmt;
use std::net::IpAddr;

use crate::packet::{Outer, Packet};

/// What a step did to the packet. Printed as the trace's JSON has always
/// named it (`"DNAT"`, `"policy denied"`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum Action {
    /// The sender put it on its interface.
    Sent,
    /// An interface took it in.
    Received,
    /// A routing decision sent it on.
    Routed,
    /// A bridge forwarded the frame.
    Bridged,
    /// Handed to a pod's interface without a bridge.
    Forwarded,
    Encapsulated,
    Decapsulated,
    /// The destination has it.
    Delivered,
    /// A rule sent it to another chain.
    Jump,
    /// A rule sent it to another chain, not to come back.
    Goto,
    /// A rule returned it to the calling chain.
    Return,
    /// A rule marked it (for masquerade, say).
    Mark,
    /// Session affinity recorded the client.
    Remember,
    /// A service table was looked up.
    Lookup,
    Dnat,
    Snat,
    Accepted,
    Dropped,
    Rejected,
    PolicyAllowed,
    PolicyDenied,
    /// A policy would apply, but the plugin enforces none.
    PolicyNotEnforced,
    /// Conntrack restored the reply's addresses.
    UnNat,
    /// A proxy in the way answered the request itself.
    Answered,
    /// A proxy in the way opened its own connection onwards.
    Proxied,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Sent => "sent",
            Action::Received => "received",
            Action::Routed => "routed",
            Action::Bridged => "bridged",
            Action::Forwarded => "forwarded",
            Action::Encapsulated => "encapsulated",
            Action::Decapsulated => "decapsulated",
            Action::Delivered => "delivered",
            Action::Jump => "jump",
            Action::Goto => "goto",
            Action::Return => "return",
            Action::Mark => "mark",
            Action::Remember => "remember",
            Action::Lookup => "lookup",
            Action::Dnat => "DNAT",
            Action::Snat => "SNAT",
            Action::Accepted => "accepted",
            Action::Dropped => "dropped",
            Action::Rejected => "rejected",
            Action::PolicyAllowed => "policy allowed",
            Action::PolicyDenied => "policy denied",
            Action::PolicyNotEnforced => "policy not enforced",
            Action::UnNat => "un-NAT",
            Action::Answered => "answered",
            Action::Proxied => "proxied",
        }
    }

    /// Whether the packet goes no further after this step.
    pub fn stops(self) -> bool {
        matches!(self, Action::Dropped | Action::Rejected | Action::PolicyDenied)
    }

    /// Whether the step only walked the rules (a jump, a return, a mark)
    /// and the packet did not move or change where anyone could see it.
    pub fn is_bookkeeping(self) -> bool {
        matches!(self, Action::Jump | Action::Return | Action::Mark)
    }

    /// Whether the packet moved from one device to the next here: what a
    /// capture sees even when the headers did not change.
    pub fn moves(self) -> bool {
        matches!(self, Action::Sent | Action::Received | Action::Delivered)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a step happened: a device, a hook's chain, a program, a decision.
/// Printed as the trace's JSON `at` has always named it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum Place {
    /// An interface in a pod's own network namespace: `NS/POD eth0`.
    PodDev { pod: String, dev: String },
    /// A program in a pod that handles the connection itself (an ingress
    /// controller): `NS/POD nginx`.
    PodApp { pod: String, app: String },
    /// The node's own network stack, sending or receiving: `node/NAME`.
    Host(String),
    /// The client outside the cluster: `external client`.
    Outside,
    /// A sender known only by its address.
    Address(IpAddr),
    /// A device of the node: `eth0`, `flannel.1`, `cali…`.
    Dev(String),
    /// A frame entering a bridge by one of its ports: `cni0 (port veth…)`.
    BridgeIn { bridge: String, port: String },
    /// A bridge sending a frame out of one of its ports: `cni0 → veth…`.
    BridgeOut { bridge: String, port: String },
    /// A frame crossing a bridge's port that the bridge switches from
    /// port to port, never up its own stack: `cni0 port veth…`.
    BridgePort { bridge: String, port: String },
    /// A bridge switching a frame by its destination MAC: `weave (bridge)`.
    Bridge(String),
    /// The node's routing decision: `host routing`.
    Routing,
    /// A chain of a netfilter table: `nat PREROUTING`, `ip kube-proxy
    /// services`; `note` says whose it is where it is not the service
    /// proxy's: `filter cali-fw (from the workload)`.
    Chain { table: String, chain: String, note: Option<String> },
    /// An element of an nftables verdict map: `ip kube-proxy map service-ips`.
    Map { table: String, map: String },
    /// An eBPF program at its attach point: `bpf cgroup/connect4`,
    /// `bpf cil_to_container (ingress policy)`.
    Bpf(String),
    /// The IPVS virtual servers: `IPVS`.
    Ipvs,
    /// The connection tracking table: `conntrack`.
    Conntrack,
    /// A plugin's agent that has a say but does nothing there:
    /// `flannel (no policy enforcement)`.
    Agent { name: String, note: String },
}

impl Place {
    /// `TABLE CHAIN`.
    pub fn chain(table: &str, chain: &str) -> Place {
        Place::Chain { table: table.to_owned(), chain: chain.to_owned(), note: None }
    }

    /// `NS/POD eth0`.
    pub fn pod_eth0(pod: &str) -> Place {
        Place::PodDev { pod: pod.to_owned(), dev: "eth0".to_owned() }
    }

    /// The pod (`NS/NAME`) the step happened in, if any.
    pub fn pod(&self) -> Option<&str> {
        match self {
            Place::PodDev { pod, .. } | Place::PodApp { pod, .. } => Some(pod),
            _ => None,
        }
    }

    /// Whether the packet is somewhere here — a device, a pod, a node's
    /// stack, the client outside — rather than in a rule or a decision.
    pub fn is_somewhere(&self) -> bool {
        matches!(
            self,
            Place::PodDev { .. }
                | Place::PodApp { .. }
                | Place::Host(_)
                | Place::Outside
                | Place::Address(_)
                | Place::Dev(_)
                | Place::BridgeIn { .. }
                | Place::BridgeOut { .. }
                | Place::BridgePort { .. }
        )
    }

    /// Whether this is the node's forwarding decision: its routing, or a
    /// bridge switching between its ports.
    pub fn is_forwarding(&self) -> bool {
        matches!(self, Place::Routing | Place::Bridge(_))
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::PodDev { pod, dev } => write!(f, "{pod} {dev}"),
            Place::PodApp { pod, app } => write!(f, "{pod} {app}"),
            Place::Host(node) => write!(f, "node/{node}"),
            Place::Outside => f.write_str("external client"),
            Place::Address(ip) => write!(f, "{ip}"),
            Place::Dev(dev) => f.write_str(dev),
            Place::BridgeIn { bridge, port } => write!(f, "{bridge} (port {port})"),
            Place::BridgeOut { bridge, port } => write!(f, "{bridge} → {port}"),
            Place::BridgePort { bridge, port } => write!(f, "{bridge} port {port}"),
            Place::Bridge(bridge) => write!(f, "{bridge} (bridge)"),
            Place::Routing => f.write_str("host routing"),
            Place::Chain { table, chain, note: None } => write!(f, "{table} {chain}"),
            Place::Chain { table, chain, note: Some(note) } => write!(f, "{table} {chain} ({note})"),
            Place::Map { table, map } => write!(f, "{table} map {map}"),
            Place::Bpf(program) => write!(f, "bpf {program}"),
            Place::Ipvs => f.write_str("IPVS"),
            Place::Conntrack => f.write_str("conntrack"),
            Place::Agent { name, note } => write!(f, "{name} ({note})"),
        }
    }
}

/// What a step did to the tunnel around the packet.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Tunnel {
    /// Encapsulated or not, as before.
    #[default]
    Keep,
    /// From here on inside these outer headers.
    On(Outer),
    /// The outer headers came off.
    Off,
}

impl Tunnel {
    /// The outer headers after this step, given those before it.
    pub fn apply(&self, before: Option<Outer>) -> Option<Outer> {
        match self {
            Tunnel::Keep => before,
            Tunnel::On(o) => Some(o.clone()),
            Tunnel::Off => None,
        }
    }
}

/// One step of a packet's way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The node it happened on, where the reporter knows it (a node's rules
    /// do not name their node; the trace does).
    pub node: Option<String>,
    pub at: Place,
    pub action: Action,
    /// For people: why, in a sentence or a rule's comment.
    pub detail: String,
    /// The line that acted, as its dump prints it (a rule, a route, an
    /// FDB entry, a service map entry).
    pub rule: Option<String>,
    /// The packet as it leaves this step, where the step can change it.
    pub packet: Option<Packet>,
    pub tunnel: Tunnel,
    /// A router hop: the kernel decrements the TTL.
    pub routed: bool,
}

impl Step {
    /// A step with nothing more to say than where, what and why.
    pub fn new(at: Place, action: Action, detail: impl Into<String>) -> Step {
        Step {
            node: None,
            at,
            action,
            detail: detail.into(),
            rule: None,
            packet: None,
            tunnel: Tunnel::Keep,
            routed: false,
        }
    }

    /// The same step on `node`.
    pub fn on(mut self, node: &str) -> Step {
        self.node = Some(node.to_owned());
        self
    }

    /// The same step, quoting the line that acted (none for an empty one).
    pub fn rule(mut self, line: impl Into<String>) -> Step {
        self.rule = Some(line.into()).filter(|l| !l.is_empty());
        self
    }

    /// The same step, with the packet as it leaves it.
    pub fn packet(mut self, p: &Packet) -> Step {
        self.packet = Some(p.clone());
        self
    }
}
