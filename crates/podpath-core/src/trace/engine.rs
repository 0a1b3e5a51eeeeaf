//! The IP engine: one packet's walk, as a [`Flight`] whose methods are the
//! phases of the walk in the order the kernel takes them — sent, the
//! netfilter hooks of the first node (with the service proxy's rules at
//! each) and its routing decision here; policy on the way out, the way
//! across, policy on the way in and arrival in `deliver.rs`; the reply in
//! `reply.rs`. The engine asks the node's [`Dataplane`] and the plugin's
//! [`Network`] what they do and never which mode or plugin runs.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use super::{pod, Hop, Request, ServiceHit, To, Trace, TraceError, Verdict, OUTSIDE_CLIENT};
use super::{From, Headers};
use crate::cluster::{Cluster, ClusterIp, Protocol, ServiceType, TrafficPolicy};
use crate::datapath::{self, Network};
use crate::names::Rng;
use crate::netfilter::eval::{Context, Verdict as NfVerdict};
use crate::packet::Packet;
use crate::policy::Decision;
use crate::proxy::{Dataplane, Hook, Origin};
use crate::step::{Action, Place, Step};

/// How a walk ended: its verdict and why, and where it got to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Outcome {
    pub(super) verdict: Verdict,
    pub(super) reason: String,
    pub(super) pod: Option<String>,
    pub(super) node: Option<String>,
}

impl Outcome {
    pub(super) fn new(verdict: Verdict, reason: String) -> Outcome {
        Outcome { verdict, reason, pod: None, node: None }
    }
}

/// A phase either lets the packet go on or ends the walk.
pub(super) type Phase<T> = Result<T, Outcome>;

/// One packet on its way, and what has happened to it so far.
pub(super) struct Flight<'c> {
    pub(super) cluster: &'c Cluster,
    pub(super) req: &'c Request,
    /// The node whose network stack handles the packet first.
    pub(super) node: String,
    pub(super) origin: Origin,
    pub(super) dataplane: &'c Dataplane,
    /// The plugin's plumbing, built once for the request and its reply.
    pub(super) network: &'c Network,
    /// The first node's own addresses (what `addrtype LOCAL` matches).
    pub(super) local: Vec<IpNet>,
    pub(super) rng: Rng,
    pub(super) pkt: Packet,
    /// The packet as the client's socket sent it (after a translation at
    /// `connect()`, before any on the wire).
    pub(super) sent: Packet,
    pub(super) hops: Vec<Hop>,
    /// The Service frontend the destination is, if any: `(kind, NS/NAME)`.
    pub(super) frontend: Option<(String, String)>,
    pub(super) hit: ServiceHit,
    /// The service proxy balanced at `connect()` (Cilium's socket LB): the
    /// application is shown the Service's address on the way back.
    pub(super) socket_lb: bool,
    pub(super) decision: Option<Decision>,
    /// The bridge and port a pod's packet entered its node by, for a
    /// plugin whose pods are ports of a bridge.
    pub(super) ingress: Option<(String, String)>,
    /// The plugin's own rules on the first node: Calico's Felix chains,
    /// which then enforce NetworkPolicy in place of a policy hop;
    /// kindnet's masquerade and NetworkPolicy queue.
    pub(super) plugin_rules: Option<&'c crate::datapath::PluginRules>,
}

/// Traces a packet to an address or a pod.
pub fn trace_ip(cluster: &Cluster, req: &Request) -> Result<Trace, TraceError> {
    let (src, node, at, host) = source(cluster, req)?;
    if cluster.node(&node).is_none() {
        return Err(TraceError::NoNode(node));
    }
    let dst = match &req.to {
        To::Ip(ip) => *ip,
        To::Pod { namespace, name } => {
            let p = pod(cluster, namespace, name)?;
            p.ip.ok_or_else(|| TraceError::PodNotRunning(p.key()))?
        }
        // Names are looked up first, by the entry point.
        To::Name(_) => return super::trace(cluster, req),
    };
    let network = cluster.network();
    // A socket on the node itself gets the address of the way out to the
    // destination (the VXLAN device's towards a pod on another node).
    let src = match &req.from {
        From::Node(_) | From::Pod { .. } if host => {
            network.node(&node).and_then(|n| n.host.source_for(dst)).unwrap_or(src)
        }
        _ => src,
    };
    let dataplane = cluster.dataplane(&node).ok_or_else(|| TraceError::NoNode(node.clone()))?;
    let mut flight = Flight::new(cluster, req, (src, dst), (node, at, host), network, dataplane);
    let outcome = flight.walk();
    Ok(flight.finish(outcome))
}

/// Where the packet starts: its address, the node that handles it first,
/// where the first hop is, and whether the node itself sends it.
fn source(cluster: &Cluster, req: &Request) -> Result<(IpAddr, String, Place, bool), TraceError> {
    Ok(match &req.from {
        From::Pod { namespace, name } => {
            let p = pod(cluster, namespace, name)?;
            let ip = p.ip.ok_or_else(|| TraceError::PodNotRunning(p.key()))?;
            let node = p.node.clone().ok_or_else(|| TraceError::PodNotRunning(p.key()))?;
            (ip, node, Place::pod_eth0(&p.key()), p.host_network)
        }
        From::Node(name) => {
            let n = cluster.node(name).ok_or_else(|| TraceError::NoNode(name.clone()))?;
            let ip = n.internal_ip.unwrap_or(IpAddr::from([127, 0, 0, 1]));
            (ip, name.clone(), Place::Host(name.clone()), true)
        }
        From::External => {
            let node = match req.node.clone() {
                Some(n) => n,
                None => entry_node(cluster, &req.to).ok_or_else(|| TraceError::NeedsNode("external".into()))?,
            };
            (OUTSIDE_CLIENT, node, Place::Outside, false)
        }
        From::Ip(ip) => {
            let node = req.node.clone().ok_or_else(|| TraceError::NeedsNode(ip.to_string()))?;
            let n = cluster.node(&node).ok_or_else(|| TraceError::NoNode(node.clone()))?;
            let own = n.internal_ip == Some(*ip) || ip.is_loopback();
            (*ip, node, Place::Address(*ip), own)
        }
    })
}

impl<'c> Flight<'c> {
    /// The packet about to be sent from `at`: the first hop.
    fn new(
        cluster: &'c Cluster,
        req: &'c Request,
        (src, dst): (IpAddr, IpAddr),
        (node, at, host_originated): (String, Place, bool),
        network: &'c Network,
        dataplane: &'c Dataplane,
    ) -> Flight<'c> {
        let mut local = local_addresses(cluster, &node);
        local.extend(dataplane.bound_addresses().into_iter().map(IpNet::from));
        let origin = match (&req.from, host_originated) {
            (_, true) => Origin::Host,
            (From::Pod { .. }, false) => Origin::Pod,
            _ => Origin::Outside,
        };
        // Pods on a bridge plugin reach the node through a bridge port.
        let ingress = match &req.from {
            From::Pod { namespace, name } if origin == Origin::Pod => network.node(&node).and_then(|n| {
                let key = format!("{namespace}/{name}");
                Some((n.pod_bridge(&key)?.to_owned(), n.pod_veth.get(&key)?.clone()))
            }),
            _ => None,
        };
        let bridged = ingress.is_some();
        let pkt = Packet {
            src,
            dst,
            protocol: req.protocol,
            sport: 40000 + (Rng::new(req.seed ^ 0x5eed).below(20000) as u16),
            // ICMP has no ports: the echo identifier stands in the source.
            dport: if req.protocol == Protocol::Icmp { 0 } else { req.port },
            mark: 0,
            bridged,
            ipvs: None,
        };
        let sent_hop = Hop {
            node: Some(node.clone()),
            at,
            action: Action::Sent,
            detail: format!("first packet of a new {} connection", req.protocol.as_str()),
            rule: None,
            packet: Headers::of(&pkt),
        };
        let mut hops = vec![sent_hop];
        if origin == Origin::Outside {
            hops.push(arrives_from_outside(network, &node, &pkt));
        }
        let plugin_rules = cluster.plugin_rules(&node);
        let frontend = find_service(cluster, dst, req.port, req.protocol, &local);
        let candidates = dataplane.candidates(&pkt, origin, &local);
        let hit = ServiceHit {
            frontend: frontend.as_ref().map_or("none".into(), |(f, _)| f.clone()),
            name: frontend.as_ref().map(|(_, n)| n.clone()),
            candidates: candidates.iter().map(|(ip, port)| endpoint(*ip, *port)).collect(),
            chosen: None,
            snat: false,
        };
        Flight {
            cluster,
            req,
            node,
            origin,
            dataplane,
            network,
            local,
            rng: Rng::new(req.seed),
            sent: pkt.clone(),
            pkt,
            hops,
            frontend,
            hit,
            socket_lb: false,
            decision: None,
            ingress,
            plugin_rules,
        }
    }

    /// The whole walk, phase by phase, to where it ends.
    fn walk(&mut self) -> Outcome {
        let mut phases = || -> Phase<Outcome> {
            self.over_its_loopback()?;
            self.through_the_hooks()?;
            self.policy_out()?;
            let arrival = self.across();
            self.arrive(arrival)
        };
        match phases() {
            Ok(done) | Err(done) => done,
        }
    }

    /// A pod's packet to its own address never leaves it: the kernel
    /// delivers it over the pod's loopback, with no node, rule or policy
    /// on the way (the reply likewise).
    fn over_its_loopback(&mut self) -> Phase<()> {
        let From::Pod { namespace, name } = &self.req.from else { return Ok(()) };
        if self.origin != Origin::Pod || self.pkt.dst != self.pkt.src {
            return Ok(());
        }
        let key = format!("{namespace}/{name}");
        self.hops.push(Hop {
            node: Some(self.node.clone()),
            at: Place::PodDev { pod: key.clone(), dev: "lo".into() },
            action: Action::Delivered,
            detail: "its own address: the kernel loops it back inside the pod, never out of eth0".into(),
            rule: None,
            packet: Headers::of(&self.pkt),
        });
        let reason = format!("{key} reached its own address over its loopback");
        Err(Outcome { pod: Some(key), node: Some(self.node.clone()), ..Outcome::new(Verdict::Delivered, reason) })
    }

    /// The trace of the walk, with the reply's way back once delivered.
    fn finish(self, outcome: Outcome) -> Trace {
        let mut t = Trace {
            verdict: outcome.verdict,
            reason: outcome.reason,
            service: self.hit.clone(),
            destination_pod: outcome.pod,
            destination_node: outcome.node,
            destination_ip: self.pkt.dst,
            destination_port: self.pkt.dport,
            hops: Vec::new(),
            policy: self.decision.clone(),
            conntrack: None,
            reply: Vec::new(),
            payload: None,
            dns: None,
            http: None,
            legs: Vec::new(),
        };
        if t.verdict == Verdict::Delivered {
            let entry = super::Conntrack::new(&self.sent, &self.pkt);
            t.reply = match self.reply(&entry, t.destination_pod.as_deref(), t.destination_node.as_deref()) {
                Ok(hops) => hops,
                Err(hops) => {
                    let nat = endpoint(entry.original.2, entry.original.3);
                    t.verdict = Verdict::Dropped;
                    t.reason = format!(
                        "{}; the reply leaves by the endpoint's own route, never meets {}'s conntrack entry for {nat}, \
                         and the client discards it",
                        t.reason, self.node
                    );
                    hops
                }
            };
            t.conntrack = Some(entry);
        }
        t.hops = self.hops;
        t
    }

    /// How the packet entered the first node, where that matters: by a
    /// bridge port, its destination maybe rewritten since.
    pub(super) fn came_in(&self) -> Option<datapath::Ingress<'_>> {
        let (bridge, port) = self.ingress.as_ref()?;
        Some(datapath::Ingress { bridge, port, nat: self.pkt.dst != self.sent.dst })
    }

    /// The TTL the packet has now.
    pub(super) fn ttl(&self) -> u8 {
        self.hops.last().map_or(64, |h| h.packet.ttl)
    }

    fn is_local(&self, ip: IpAddr) -> bool {
        self.local.iter().any(|n| n.contains(&ip))
    }

    /// The hooks the packet meets on the first node, in the kernel's
    /// order. The forward/input choice is a routing decision made after the
    /// first hook, on the address that hook may have rewritten.
    fn through_the_hooks(&mut self) -> Phase<()> {
        let mut hooks: Vec<Hook> = Vec::new();
        if self.origin != Origin::Outside {
            hooks.push(Hook::Connect);
        }
        hooks.push(if self.origin == Origin::Host { Hook::Output } else { Hook::Prerouting });
        let mut i = 0;
        while i < hooks.len() {
            let hook = hooks[i];
            i += 1;
            self.at_hook(hook)?;
            let to_local = self.is_local(self.pkt.dst);
            if matches!(hook, Hook::Prerouting | Hook::Output) {
                if !to_local {
                    self.routing_decision()?;
                }
                match (self.origin == Origin::Host, to_local) {
                    (true, _) => hooks.push(Hook::Postrouting),
                    (false, true) => hooks.push(Hook::Input),
                    (false, false) => hooks.extend([Hook::Forward, Hook::Postrouting]),
                }
            }
            // Input may hand the packet on (IPVS rewrites it there); it
            // then leaves through the node's output path.
            if hook == Hook::Input && !to_local {
                hooks.push(Hook::Postrouting);
            }
        }
        Ok(())
    }

    /// What the service proxy does at one hook.
    fn at_hook(&mut self, hook: Hook) -> Phase<()> {
        if hook == Hook::Prerouting && self.origin == Origin::Pod {
            self.out_of_the_pod();
        }
        self.plugin_filter(hook)?;
        // kindnetd's postrouting chain runs before the nat hook's SNAT.
        if hook == Hook::Postrouting {
            self.plugin_queue("postrouting")?;
        }
        let before = (self.pkt.dst, self.pkt.dport);
        let mut steps: Vec<Step> = Vec::new();
        let mut ctx = Context { local: &self.local, rng: &mut self.rng, sets: None, devs: Default::default() };
        let verdict = self.dataplane.run(hook, &mut self.pkt, &mut ctx, &mut steps);
        if hook == Hook::Connect && !steps.is_empty() {
            // Balanced at connect(): the first packet already carries the
            // endpoint's address; a refused connect() sends nothing at all.
            self.socket_lb = steps.iter().any(|s| s.action == Action::Dnat);
            let sent_hop = self.hops.remove(0);
            self.push_steps(&steps);
            if matches!(verdict, NfVerdict::Accept | NfVerdict::Dnat(..)) {
                self.hops.push(Hop { packet: Headers::of(&self.pkt), ..sent_hop });
            }
            self.sent = self.pkt.clone();
        } else {
            self.push_steps(&steps);
        }
        match verdict {
            NfVerdict::Dnat(ip, port) if (ip, port) != before => self.picked(ip, port),
            NfVerdict::Reject | NfVerdict::Drop => return Err(self.refused(verdict == NfVerdict::Reject, &steps)),
            NfVerdict::Masquerade => self.masqueraded(),
            // The plugin's own nat rules come after the proxy's: a
            // connection the proxy masqueraded is bound already.
            _ if hook == Hook::Postrouting => self.plugin_nat(),
            _ => {}
        }
        // kindnetd's prerouting chain runs after the nat hook's DNAT.
        if hook == Hook::Prerouting {
            self.plugin_queue("prerouting")?;
        }
        Ok(())
    }

    /// Out of the pod's namespace onto its node.
    fn out_of_the_pod(&mut self) {
        let From::Pod { namespace, name } = &self.req.from else { return };
        let key = format!("{namespace}/{name}");
        for st in self.network.leave_pod(&self.node, &key, self.pkt.dst) {
            let packet = Headers::of(&self.pkt);
            self.hops.push(Hop {
                node: st.node,
                at: st.at,
                action: st.action,
                detail: st.detail,
                rule: st.rule,
                packet,
            });
        }
    }

    /// The service proxy's steps as hops, with the packet each left.
    pub(super) fn push_steps(&mut self, steps: &[Step]) {
        let ttl = self.ttl();
        for s in steps {
            let p = s.packet.as_ref().expect("a service proxy's step carries the packet");
            self.hops.push(Hop {
                node: Some(self.node.clone()),
                at: s.at.clone(),
                action: s.action,
                detail: s.detail.clone(),
                rule: s.rule.clone(),
                packet: Headers { ttl, ..Headers::of(p) },
            });
        }
    }

    /// The proxy picked an endpoint: said on its DNAT hop.
    fn picked(&mut self, ip: IpAddr, port: u16) {
        // Rewritten with no endpoint to pick from: Cilium's L7 load
        // balancer handing the connection to the node's Envoy, which picks.
        if self.hit.candidates.is_empty() {
            return;
        }
        self.hit.chosen = Some(endpoint(ip, port));
        let picked = format!(
            "{}: picked endpoint {} of {}",
            self.dataplane.implementer(),
            endpoint(ip, port),
            self.hit.candidates.len()
        );
        if let Some(h) = self.hops.iter_mut().rev().find(|h| h.action == Action::Dnat) {
            h.detail = if h.detail.is_empty() { picked } else { format!("{picked} — {}", h.detail) };
        }
    }

    /// A rule rejected or dropped the packet: the walk ends at its line.
    pub(super) fn refused(&mut self, rejected: bool, steps: &[Step]) -> Outcome {
        let last = steps.last();
        let place = last.map(|s| s.at.to_string()).unwrap_or_default();
        let why = last
            .map(|s| if s.detail.is_empty() { s.rule.clone().unwrap_or_default() } else { s.detail.clone() })
            .unwrap_or_default();
        if let Some(h) = self.hops.last_mut().filter(|h| h.action != Action::Rejected && h.action != Action::Dropped) {
            h.action = if rejected { Action::Rejected } else { Action::Dropped };
            h.detail = if rejected {
                format!("{why}: ICMP port unreachable goes back to the client")
            } else {
                format!("{why}: dropped without an answer")
            };
        }
        let verdict = if rejected { Verdict::Rejected } else { Verdict::Dropped };
        let what = if rejected { "rejected it" } else { "dropped it" };
        let reason = if matches!(last.map(|s| &s.at), Some(Place::Bpf(_) | Place::Ipvs)) {
            format!("{place}: {why}")
        } else {
            format!("{place} rule \"{why}\" {what}")
        };
        Outcome::new(verdict, reason)
    }

    /// The proxy masqueraded the packet. MASQUERADE takes the address of
    /// the device the packet leaves by (`inet_select_addr`): the pod
    /// bridge's for a pod on this node, the VXLAN or IP-in-IP device's for
    /// a pod behind the tunnel, the uplink's for an address on the wire.
    fn masqueraded(&mut self) {
        self.hit.snat = true;
        let host = self.network.node(&self.node).map(|n| &n.host);
        let out = host.and_then(|h| h.lookup(self.pkt.dst)).and_then(|r| host?.address_on(&r.dev));
        if let Some(ip) = out.or_else(|| self.cluster.node(&self.node).and_then(|n| n.internal_ip)) {
            self.pkt.src = ip;
        }
        let src = self.pkt.src;
        if let Some(h) = self.hops.last_mut() {
            h.action = Action::Snat;
            h.detail = format!("masqueraded: the source becomes {src}");
            h.packet.src = src;
        }
    }

    /// The routing decision after the first hook: the host's route for the
    /// (maybe rewritten) destination.
    fn routing_decision(&mut self) -> Phase<()> {
        let dst = self.pkt.dst;
        let Some(r) = self.network.node(&self.node).and_then(|n| n.host.lookup(dst)) else { return Ok(()) };
        let step = self.network.decide(&self.node, r, dst, self.came_in());
        if step.at.is_forwarding() && !step.routed {
            into_a_port(&mut self.hops, &self.node);
        }
        let routed = self.origin != Origin::Host && step.routed;
        let ttl = if routed { self.ttl().saturating_sub(1) } else { self.ttl() };
        let detail = if r.blackhole { format!("to {dst} via blackhole") } else { step.detail };
        let dropped = step.action == Action::Dropped;
        self.hops.push(Hop {
            node: Some(self.node.clone()),
            at: step.at,
            action: step.action,
            detail: detail.clone(),
            rule: step.rule,
            packet: Headers { ttl, ..Headers::of(&self.pkt) },
        });
        if dropped {
            return Err(Outcome::new(Verdict::Dropped, detail));
        }
        Ok(())
    }
}

/// A frame the bridge switched from port to port never reached the
/// bridge's own stack: the hop that took it in is its port's.
pub(super) fn into_a_port(hops: &mut [Hop], node: &str) {
    let taken_in = hops
        .iter_mut()
        .rev()
        .find(|h| h.node.as_deref() == Some(node) && matches!(h.at, Place::BridgeIn { .. } | Place::BridgePort { .. }));
    if let Some(h) = taken_in {
        if let Place::BridgeIn { bridge, port } = &h.at {
            h.at = Place::BridgePort { bridge: bridge.clone(), port: port.clone() };
        }
    }
}

/// A packet from outside the nodes' network arrives on the node's uplink:
/// from an address on that network directly, from anywhere else through
/// the router that joins them (kind's docker host), one hop down.
fn arrives_from_outside(network: &Network, node: &str, pkt: &Packet) -> Hop {
    let uplink = network.node(node).and_then(|n| n.host.link("eth0"));
    let on_link = uplink.is_some_and(|l| l.addrs.iter().any(|a| a.trunc().contains(&pkt.src)));
    let (ttl, detail) = if on_link {
        (64, format!("from {}, on the nodes' own network", pkt.src))
    } else {
        (
            63,
            format!(
                "from {}, routed onto the nodes' network by the host that joins them (kind's docker host)",
                pkt.src
            ),
        )
    };
    Hop {
        node: Some(node.to_owned()),
        at: Place::Dev("eth0".into()),
        action: Action::Received,
        detail,
        rule: None,
        packet: Headers { ttl, ..Headers::of(pkt) },
    }
}

/// The node's own addresses: what `addrtype LOCAL` matches.
fn local_addresses(cluster: &Cluster, node: &str) -> Vec<IpNet> {
    let mut v: Vec<IpNet> = vec!["127.0.0.0/8".parse().expect("literal")];
    if let Some(n) = cluster.node(node) {
        v.extend(n.addresses().map(IpNet::from));
        v.extend(n.network.gateway.map(IpNet::from));
    }
    v
}

/// The node an outside packet reaches: the one that owns the address; for
/// a load-balancer address, the node announcing it (MetalLB in L2 mode
/// announces from a node with a local endpoint when the policy is Local);
/// otherwise the first worker.
fn entry_node(cluster: &Cluster, to: &To) -> Option<String> {
    let first_worker =
        || cluster.nodes.iter().find(|n| !n.is_control_plane()).or(cluster.nodes.first()).map(|n| n.name.clone());
    let To::Ip(ip) = to else { return first_worker() };
    if let Some(n) = cluster.nodes.iter().find(|n| n.addresses().any(|a| a == *ip)) {
        return Some(n.name.clone());
    }
    let lb = cluster.services.iter().find(|s| s.load_balancer_ips.contains(ip));
    if let Some(svc) = lb.filter(|s| s.external_traffic_policy == TrafficPolicy::Local) {
        let local = cluster
            .slices_of(svc)
            .flat_map(|s| s.endpoints.iter())
            .find(|e| e.is_ready())
            .and_then(|e| e.node_name.clone());
        if local.is_some() {
            return local;
        }
    }
    first_worker()
}

/// `IP:PORT`, `[IPv6]:PORT`.
pub(super) fn endpoint(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string()
}

/// Which Service frontend an address and port is, if any.
fn find_service(
    cluster: &Cluster,
    ip: IpAddr,
    port: u16,
    protocol: Protocol,
    local: &[IpNet],
) -> Option<(String, String)> {
    for s in &cluster.services {
        for p in &s.ports {
            if p.protocol != protocol {
                continue;
            }
            if s.cluster_ip == ClusterIp::Ip(ip) && p.port == port {
                return Some(("ClusterIP".into(), s.key()));
            }
            if s.external_ips.contains(&ip) && p.port == port {
                return Some(("ExternalIP".into(), s.key()));
            }
            if s.load_balancer_ips.contains(&ip) && p.port == port && s.type_ == ServiceType::LoadBalancer {
                return Some(("LoadBalancer".into(), s.key()));
            }
            if p.node_port == Some(port) && local.iter().any(|n| n.contains(&ip)) {
                return Some(("NodePort".into(), s.key()));
            }
        }
    }
    None
}
