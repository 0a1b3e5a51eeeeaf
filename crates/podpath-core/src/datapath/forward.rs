//! Forwarding over the plumbing, whichever plugin built it: a packet out
//! of a pod onto its node, and from a node's stack to its destination —
//! this node's pod, another node's across the tunnel or the wire, or out
//! of the cluster — each step quoting the route, FDB entry or tunnel map
//! entry that decided. The plugin is asked only where plugins differ.

use std::net::IpAddr;

use super::{Network, NodeNet, Route, Tunneled};
use crate::cluster::Cluster;
use crate::names::fnv64a;
use crate::packet::{Encap, Outer};
use crate::step::{Action, Place, Step, Tunnel};

/// Where the packet ends up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// At a pod's eth0 (before its node's ingress policy).
    Pod { key: String, node: String },
    /// At a node's own stack.
    Node(String),
    /// Out of the cluster's network, from this node.
    Outside(String),
    /// No route: dropped on this node.
    NoRoute(String),
}

/// How a packet entered a node's stack where it matters: by a port of a
/// bridge, and whether NAT rewrote its destination as the bridge took it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ingress<'a> {
    pub bridge: &'a str,
    pub port: &'a str,
    pub nat: bool,
}

/// The VXLAN source port Linux derives from the inner flow.
fn flow_port(src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> u16 {
    let h = fnv64a(format!("{src} {dst} {sport} {dport}").as_bytes());
    32768 + (h % (61000 - 32768)) as u16
}

impl Network {
    /// The decision that sends a packet on from a node: the host's route
    /// (a router hop), or a plugin's bridge switching the frame by MAC
    /// where the route only says the range is on the bridge.
    pub fn forwarding_step(&self, node: &str, route: &Route, dst: IpAddr) -> Step {
        let s = self.plugin().bridge_step(self, route, dst).unwrap_or_else(|| {
            let mut s = Step::new(Place::Routing, Action::Routed, format!("to {dst} via {}", route.dev));
            s.routed = true;
            s
        });
        s.on(node).rule(route.to_string())
    }

    /// The decision that sends a packet on from a node, for a packet that
    /// came in by `ingress` (a bridge and its port) if it did: a bridge
    /// switches a frame it took in whose destination is on the same bridge
    /// — the pods' own link, or an address a NAT gave it as the bridge took
    /// the frame (bridge-nf-call-iptables has iptables see bridged frames)
    /// — with no router hop; anything else is the node's route.
    pub fn decide(&self, node: &str, route: &Route, dst: IpAddr, ingress: Option<Ingress<'_>>) -> Step {
        match ingress {
            Some(i) if route.dev == i.bridge => self.switching_step(node, i, dst),
            _ => self.forwarding_step(node, route, dst),
        }
    }

    /// A bridge switching a frame to the port of `dst`'s pod: back out of
    /// the port it came in by only where that port has hairpin on. A frame
    /// whose destination NAT rewrote goes out through the bridge's own
    /// device (br_netfilter's "bridged DNAT": a neighbour lookup, then the
    /// bridge transmits it), still with no router hop.
    fn switching_step(&self, node: &str, Ingress { bridge, port, nat }: Ingress<'_>, dst: IpAddr) -> Step {
        let n = self.node(node);
        let out = n.and_then(|n| {
            let pod =
                n.pods.iter().find(|(_, ns)| ns.link("eth0").is_some_and(|l| l.addrs.iter().any(|a| a.addr() == dst)));
            n.pod_veth.get(pod?.0)
        });
        let hairpin = n.and_then(|n| n.host.link(port)).is_some_and(|l| l.hairpin);
        let step = match out {
            Some(p) if p == port && !hairpin => Step::new(
                Place::Bridge(bridge.to_owned()),
                Action::Dropped,
                format!("{dst} is behind {port}, the port the frame came in by, and the bridge sends nothing back out of it without hairpin mode"),
            ),
            Some(p) if p == port => Step::new(
                Place::Bridge(bridge.to_owned()),
                Action::Bridged,
                format!("{dst} is behind {port}, the port the frame came in by: hairpin mode lets the bridge send it back out"),
            ),
            _ if nat => Step::new(
                Place::Bridge(bridge.to_owned()),
                Action::Bridged,
                format!("{dst}, as NAT made it while the bridge took the frame in (bridge-nf-call-iptables), is on this bridge: it goes back out through the bridge, no router hop"),
            ),
            _ => Step::new(
                Place::Bridge(bridge.to_owned()),
                Action::Bridged,
                format!("{dst} is on this bridge: it switches the frame to that address's port, no router hop"),
            ),
        };
        step.on(node)
    }

    /// From a pod's eth0 to its node's stack: the pod's route, then the
    /// host side of its veth (and the bridge it is a port of).
    pub fn leave_pod(&self, node: &str, pod: &str, dst: IpAddr) -> Vec<Step> {
        let Some(n) = self.node(node) else { return Vec::new() };
        let (Some(ns), Some(veth)) = (n.pods.get(pod), n.pod_veth.get(pod)) else { return Vec::new() };
        let mut steps = Vec::new();
        let on_link = ns.lookup(dst).is_some_and(|r| r.via.is_none());
        if let Some(r) = ns.lookup(dst) {
            let detail = if on_link {
                format!("{dst} is on the pod's own link: the frame goes to that address's MAC")
            } else {
                "the pod's route sends it to its gateway".to_owned()
            };
            steps.push(Step::new(Place::pod_eth0(pod), Action::Routed, detail).on(node).rule(r.to_string()));
        }
        let host = n.host.link(veth);
        let (at, detail) = match host.and_then(|l| l.master.clone()) {
            Some(bridge) if on_link => (
                Place::BridgeIn { bridge, port: veth.clone() },
                format!("the frame crosses the veth onto the bridge, addressed to {dst}'s own MAC"),
            ),
            Some(bridge) => (Place::BridgeIn { bridge, port: veth.clone() }, self.plugin().veth_detail(self, dst)),
            None => (Place::Dev(veth.clone()), self.plugin().veth_detail(self, dst)),
        };
        steps.push(Step::new(at, Action::Received, detail).on(node));
        steps
    }

    /// The bridge and port a pod's frames enter its node by, if the plugin
    /// makes its pods ports of a bridge.
    pub fn ingress_of(&self, node: &str, pod: &str) -> Option<(String, String)> {
        let n = self.node(node)?;
        Some((n.pod_bridge(pod)?.to_owned(), n.pod_veth.get(pod)?.clone()))
    }

    /// From `from`'s host stack to the destination, across nodes if it
    /// must be.
    pub fn carry(
        &self,
        cluster: &Cluster,
        (from, ingress): (&str, Option<Ingress<'_>>),
        src: IpAddr,
        dst: IpAddr,
        ports: (u16, u16),
    ) -> (Vec<Step>, Arrival) {
        let mut steps = Vec::new();
        let Some(n) = self.node(from) else { return (steps, Arrival::NoRoute(from.to_owned())) };
        // Addressed to this node itself.
        let own = n.host.links.iter().any(|l| l.addrs.iter().any(|a| a.addr() == dst));
        if own {
            return (steps, Arrival::Node(from.to_owned()));
        }
        let Some(route) = n.host.lookup(dst) else {
            let mut s = Step::new(Place::Routing, Action::Dropped, format!("no route to {dst}")).on(from);
            s.routed = true;
            steps.push(s);
            return (steps, Arrival::NoRoute(from.to_owned()));
        };
        if route.blackhole {
            let s =
                Step::new(Place::Routing, Action::Dropped, format!("{dst} is in this node's block but no pod has it"));
            steps.push(s.on(from).rule(route.to_string()));
            return (steps, Arrival::NoRoute(from.to_owned()));
        }
        let decided = self.decide(from, route, dst, ingress);
        // Switched from port to port, unless NAT had the bridge's own
        // device send it.
        let switched = decided.at.is_forwarding() && !decided.routed && !ingress.is_some_and(|i| i.nat);
        if decided.action == Action::Dropped {
            steps.push(decided);
            return (steps, Arrival::NoRoute(from.to_owned()));
        }
        steps.push(decided);
        let target = cluster.pods.iter().find(|p| p.ip == Some(dst) && !p.host_network && p.is_running());
        let target_node = target.and_then(|p| p.node.clone());
        // Delivered on this node.
        if let (Some(p), Some(tn)) = (target, &target_node) {
            if tn == from {
                steps.push(into_pod(n, &p.key(), switched).on(from));
                return (steps, Arrival::Pod { key: p.key(), node: from.to_owned() });
            }
        }
        // Another node's pod, or another node: through the tunnel or the wire.
        let remote_node = target_node.clone().or_else(|| {
            cluster
                .nodes
                .iter()
                .find(|nd| {
                    nd.network.pod_ranges.iter().any(|r| r.contains(&dst))
                        || nd.internal_ip == Some(dst)
                        || nd.other_ips.contains(&dst)
                })
                .map(|nd| nd.name.clone())
        });
        let Some(remote) = remote_node.filter(|r| r != from) else {
            // Out of the cluster by the node's uplink.
            let mut s =
                Step::new(Place::Dev("eth0".into()), Action::Sent, format!("out of the node towards {dst}")).on(from);
            s.rule = n.host.lookup(dst).map(ToString::to_string);
            steps.push(s);
            return (steps, Arrival::Outside(from.to_owned()));
        };
        if !self.cross(cluster, n, route, (from, &remote), (src, dst, ports), &mut steps) {
            return (steps, Arrival::NoRoute(from.to_owned()));
        }
        let Some(rn) = self.node(&remote) else { return (steps, Arrival::NoRoute(remote)) };
        let Some(p) = target else { return (steps, Arrival::Node(remote)) };
        if let Some(r) = rn.host.lookup(dst) {
            let mut s = self.forwarding_step(&remote, r, dst);
            // A plugin may hand the decapsulated packet straight to the
            // pod's device (Cilium's bpf redirect): no router hop then.
            s.routed &= self.plugin().routes_after_decap();
            steps.push(s);
        }
        steps.push(into_pod(rn, &p.key(), false).on(&remote));
        (steps, Arrival::Pod { key: p.key(), node: remote })
    }

    /// From node `from` to node `remote`: into the plugin's tunnel and over
    /// the wire when the route leads into it, else over the wire as it is.
    /// False when a node has no address to send to.
    fn cross(
        &self,
        cluster: &Cluster,
        n: &NodeNet,
        route: &Route,
        (from, remote): (&str, &str),
        (src, dst, ports): (IpAddr, IpAddr, (u16, u16)),
        steps: &mut Vec<Step>,
    ) -> bool {
        let tunnel = self.plugin().tunnels(cluster, route, dst);
        let remote_ip = cluster.node(remote).and_then(|nd| nd.internal_ip);
        let local_ip = cluster.node(from).and_then(|nd| nd.internal_ip);
        if tunnel {
            let (Some(rip), Some(lip)) = (remote_ip, local_ip) else { return false };
            let encap = self.encap(cluster, from, remote, src);
            let Tunneled { dev, rule, detail } = self.plugin().encapsulate(cluster, &n.host, route, remote, encap);
            let mut e = Step::new(Place::Dev(dev.clone()), Action::Encapsulated, detail).on(from);
            e.rule = rule;
            // The kernel's tunnels pick the outer source port from a hash
            // of the inner flow; Weave's router sends from its own port.
            let sport = match encap {
                Encap::Sleeve { port, .. } => port,
                _ => flow_port(src, dst, ports.0, ports.1),
            };
            e.tunnel = Tunnel::On(Outer { src: lip, dst: rip, encap, sport });
            steps.push(e);
            let eth0 = || Place::Dev("eth0".into());
            let mut w = Step::new(eth0(), Action::Sent, format!("on the wire to {remote} ({rip})")).on(from);
            w.rule = n.host.lookup(rip).map(ToString::to_string);
            steps.push(w);
            steps.push(Step::new(eth0(), Action::Received, format!("from {from} ({lip})")).on(remote));
            let mut d = Step::new(Place::Dev(dev), Action::Decapsulated, "the outer headers come off").on(remote);
            d.tunnel = Tunnel::Off;
            steps.push(d);
        } else {
            let eth0 = || Place::Dev("eth0".into());
            let mut w = Step::new(eth0(), Action::Sent, format!("on the wire to {remote}")).on(from);
            w.rule = n.host.lookup(dst).map(ToString::to_string);
            steps.push(w);
            steps.push(Step::new(eth0(), Action::Received, format!("from {from}")).on(remote));
        }
        true
    }
}

/// Into a pod's namespace by the host side of its veth on `n`: a bridge
/// sending the frame out of the veth's port (switched there from another
/// port, or sent by the node's stack), or the veth itself.
fn into_pod(n: &NodeNet, pod: &str, switched: bool) -> Step {
    let veth = n.pod_veth.get(pod).cloned().unwrap_or_default();
    let (at, action) = match n.host.link(&veth).and_then(|l| l.master.clone()) {
        Some(bridge) if switched => (Place::BridgePort { bridge, port: veth }, Action::Bridged),
        Some(bridge) => (Place::BridgeOut { bridge, port: veth }, Action::Bridged),
        None => (Place::Dev(veth), Action::Forwarded),
    };
    Step::new(at, action, format!("into {pod}'s network namespace"))
}
