//! Traces: one packet's walk through the cluster, hop by hop, and the
//! verdict at the end.
//!
//! A trace is made in phases, each in its own module:
//! - [`engine`] walks a connection's first packet from its source through
//!   the first node: out of the pod through the plugin's plumbing, the
//!   service proxy at each netfilter hook in the kernel's order (the very
//!   lines `podpath rules` prints), the routing decision;
//! - `deliver` takes it on: NetworkPolicy on the client's side, the
//!   plugin's way to the destination (the tunnel to another node), policy
//!   on the server's side, and where it arrives;
//! - `reply` makes the conntrack entry and the first reply's way back;
//! - [`dns`] runs a name lookup first, each query a traced UDP packet;
//! - [`http`] chains the legs of an HTTP request through an ingress
//!   controller;
//! - `render` prints a trace for people; [`walk`] steps through a finished
//!   trace for the page; [`target`] reads the words users type.

mod deliver;
pub mod dns;
pub mod engine;
mod firewall;
pub mod http;
mod queue;
mod render;
mod reply;
pub mod target;
pub mod walk;

use std::net::IpAddr;

use crate::cluster::{Cluster, Pod, Protocol};
use crate::policy::Decision;
use crate::step::{Action, Place};

pub use crate::packet::Headers;
pub use dns::{resolve, resolve_with, Resolution};
pub use http::{trace_http, Http, HttpSpec};
pub use reply::Conntrack;

/// The address that stands for a client outside the cluster: one of the
/// documentation ranges (RFC 5737 TEST-NET-2), which no real host has.
pub const OUTSIDE_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

/// Where a packet starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum From {
    Pod {
        namespace: String,
        name: String,
    },
    /// The node itself (host network).
    Node(String),
    /// A client outside the cluster, reaching the given node.
    External,
    /// An address, first handled by `node`.
    Ip(IpAddr),
}

/// What the packet is addressed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum To {
    Ip(IpAddr),
    Pod {
        namespace: String,
        name: String,
    },
    /// A DNS name, resolved as the source resolves it first.
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub from: From,
    pub to: To,
    pub port: u16,
    pub protocol: Protocol,
    /// The node that first handles the packet, for IP and external sources.
    pub node: Option<String>,
    pub seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum Verdict {
    Delivered,
    Dropped,
    Rejected,
    Unreachable,
    /// The name did not resolve (NXDOMAIN, or no address of that name).
    Nxdomain,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Delivered => "delivered",
            Verdict::Dropped => "dropped",
            Verdict::Rejected => "rejected",
            Verdict::Unreachable => "unreachable",
            Verdict::Nxdomain => "nxdomain",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Hop {
    pub node: Option<String>,
    /// `ns/pod eth0`, `nat PREROUTING`, `filter FORWARD`…
    pub at: Place,
    pub action: Action,
    pub detail: String,
    /// The rule line that acted, as the node's dump prints it.
    pub rule: Option<String>,
    pub packet: Headers,
}

/// What the service proxy did with the packet.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct ServiceHit {
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalIP` or `none`.
    pub frontend: String,
    pub name: Option<String>,
    /// Every endpoint the node's rules may pick, `IP:PORT`, sorted.
    pub candidates: Vec<String>,
    pub chosen: Option<String>,
    pub snat: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Trace {
    pub verdict: Verdict,
    pub reason: String,
    pub service: ServiceHit,
    pub destination_pod: Option<String>,
    pub destination_node: Option<String>,
    pub destination_ip: IpAddr,
    pub destination_port: u16,
    pub hops: Vec<Hop>,
    /// The NetworkPolicy verdict, when a pod is at either end.
    pub policy: Option<Decision>,
    /// The conntrack entry of a delivered connection.
    pub conntrack: Option<Conntrack>,
    /// The first reply's way back.
    pub reply: Vec<Hop>,
    /// What the connection carries once open, when the caller knows it
    /// (curl's HTTP exchange, a DNS query and its answer).
    pub payload: Option<Payload>,
    /// The name lookup that came first, for a name destination.
    pub dns: Option<Box<Resolution>>,
    /// What an HTTP request came to, for a URL destination.
    pub http: Option<Box<Http>>,
    /// The connections a proxy joined (client to ingress controller, then
    /// controller to backend); `hops` and `reply` show them end to end.
    pub legs: Vec<Trace>,
}

impl Trace {
    /// Whether the sender hears nothing back: the packet was dropped, or
    /// left the cluster for an address no host has (a ClusterIP's port
    /// the proxy does not rewrite). A client then waits for its timeout,
    /// where a rejection or an unreachable route fails at once.
    pub fn lost(&self) -> bool {
        self.verdict == Verdict::Dropped
            || (self.verdict == Verdict::Unreachable && self.hops.last().is_some_and(|h| h.action == Action::Sent))
    }
}

/// The application's bytes, each way.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Payload {
    pub request: Vec<u8>,
    pub response: Vec<u8>,
}

/// Why a trace could not even start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("pods \"{0}\" not found")]
    NoPod(String),
    #[error("pod {0} has no IP address (it is not running)")]
    PodNotRunning(String),
    #[error("nodes \"{0}\" not found")]
    NoNode(String),
    #[error("{0} needs --node: which node's network stack handles the packet first?")]
    NeedsNode(String),
}

/// Traces the first packet of a connection: a name is looked up first, as
/// the source would look it up.
pub fn trace(cluster: &Cluster, req: &Request) -> Result<Trace, TraceError> {
    if let To::Name(name) = &req.to {
        return dns::trace_name(cluster, req, name);
    }
    engine::trace_ip(cluster, req)
}

fn pod<'a>(cluster: &'a Cluster, ns: &str, name: &str) -> Result<&'a Pod, TraceError> {
    cluster.pod(ns, name).ok_or_else(|| TraceError::NoPod(format!("{ns}/{name}")))
}
