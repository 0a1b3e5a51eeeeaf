//! Delivery, after the first node's hooks: NetworkPolicy on the client's
//! side (judged on the client's own address, after the proxy's DNAT), the
//! plugin's way from this node to the destination — the tunnel or the wire
//! to another node — NetworkPolicy on the server's side (on the source as
//! masqueraded), and where the packet arrives.

use super::engine::{Flight, Outcome, Phase};
use super::{Headers, Hop, Verdict};
use crate::cluster::Protocol;
use crate::datapath::{self, Arrival};
use crate::packet::{Outer, Packet};
use crate::policy::{Decision, End, Engine, SideVerdict};
use crate::proxy::Origin;
use crate::step::{Action, Place};

impl Flight<'_> {
    /// The policy on the client's side, where the client's plugin enforces
    /// it. Decides the connection for both sides while at it.
    pub(super) fn policy_out(&mut self) -> Phase<()> {
        self.decide();
        let Some(d) = self.decision.clone() else { return Ok(()) };
        // A plugin with rules of its own judged it in FORWARD already.
        if self.plugin_rules.is_some_and(|r| r.filter.is_some()) {
            return Ok(());
        }
        // A plugin that queues to its agent judged it at the hook that queued it.
        if self.plugin_rules.is_some_and(|r| r.nft.is_some()) {
            return Ok(());
        }
        // Egress is judged on the client's own address, after the DNAT.
        let seen = Packet { src: self.sent.src, sport: self.sent.sport, ..self.pkt.clone() };
        let hop = self.policy_hop(true, Some(self.node.clone()), &d, &seen, self.ttl());
        self.judged(hop, || Outcome::new(Verdict::Dropped, format!("NetworkPolicy: {}", d.egress.explanation)))
    }

    /// What NetworkPolicy says of the connection, for both sides, as the
    /// packet is now (after the DNAT; the source as it will be seen).
    pub(super) fn decide(&mut self) {
        let engine = Engine::new(self.cluster);
        let client = if self.origin == Origin::Pod { engine.end_of(self.sent.src) } else { End::Ip(self.sent.src) };
        let server = engine.end_of(self.pkt.dst);
        self.decision = (matches!(client, End::Pod(_)) || matches!(server, End::Pod(_))).then(|| {
            let protocol = Some(self.req.protocol).filter(|p| *p != Protocol::Icmp);
            engine.check_as(client, engine.end_of(self.pkt.src), server, self.pkt.dport, protocol)
        });
    }

    /// From the first node to the destination, as the plugin carries it;
    /// the routing decision already shown on this node is not repeated.
    pub(super) fn across(&mut self) -> Arrival {
        let pkt = &self.pkt;
        let (steps, arrival) =
            self.network.carry(self.cluster, (&self.node, self.came_in()), pkt.src, pkt.dst, (pkt.sport, pkt.dport));
        let here = Some(self.node.as_str());
        let already_routed = self.hops.iter().any(|h| h.at.is_forwarding() && h.node.as_deref() == here);
        let mut ttl = self.ttl();
        let mut outer: Option<Outer> = None;
        for s in steps {
            let again = s.at.is_forwarding() && s.node.as_deref() == here;
            if already_routed && again && matches!(s.action, Action::Routed | Action::Bridged) {
                continue;
            }
            if s.routed {
                ttl = ttl.saturating_sub(1);
            }
            outer = s.tunnel.apply(outer);
            let packet = Headers { ttl, outer: outer.clone(), ..Headers::of(&self.pkt) };
            self.hops.push(Hop { node: s.node, at: s.at, action: s.action, detail: s.detail, rule: s.rule, packet });
        }
        arrival
    }

    /// Where the packet arrived: a pod (after its side's policy), a node, no
    /// route, or out of the cluster.
    pub(super) fn arrive(&mut self, arrival: Arrival) -> Phase<Outcome> {
        match arrival {
            Arrival::Pod { key, node } => self.at_pod(key, node),
            Arrival::Node(n) => {
                let reason = match (&self.hit.name, &self.hit.chosen) {
                    (Some(s), Some(ep)) => format!("{s} sent it to endpoint {ep}, on node {n} itself"),
                    _ => format!("delivered to node {n}"),
                };
                let packet = Headers { ttl: self.ttl(), ..Headers::of(&self.pkt) };
                let detail = "addressed to the node itself".to_owned();
                let at = Place::Host(n.clone());
                self.hops.push(Hop {
                    node: Some(n.clone()),
                    at,
                    action: Action::Delivered,
                    detail,
                    rule: None,
                    packet,
                });
                Ok(Outcome { node: Some(n), ..Outcome::new(Verdict::Delivered, reason) })
            }
            Arrival::NoRoute(n) => {
                let reason = match &self.frontend {
                    Some((frontend, name)) if self.hit.chosen.is_none() => {
                        format!("{frontend} {name}: no rule on {} handles this address and port", self.node)
                    }
                    _ => format!("{n} has no route to {}", self.pkt.dst),
                };
                Err(Outcome::new(Verdict::Unreachable, reason))
            }
            Arrival::Outside(n) => self.outside(n),
        }
    }

    /// At the destination pod's eth0, once its side's policy lets it in.
    fn at_pod(&mut self, key: String, node: String) -> Phase<Outcome> {
        let ttl = self.ttl();
        let end_here = |o: Outcome| Outcome { pod: Some(key.clone()), node: Some(node.clone()), ..o };
        self.plugin_filter_at(&node, &key).map_err(end_here)?;
        if self.plugin_rules.is_some_and(|r| r.nft.is_some()) {
            self.queued_in(&node, &key)?;
        } else if let Some(d) = self.decision.clone().filter(|_| self.plugin_rules.is_none()) {
            let hop = self.policy_hop(false, Some(node.clone()), &d, &self.pkt.clone(), ttl);
            self.judged(hop, || Outcome {
                pod: Some(key.clone()),
                node: Some(node.clone()),
                ..Outcome::new(Verdict::Dropped, format!("NetworkPolicy: {}", d.ingress.explanation))
            })?;
        }
        let reason = match &self.hit.name {
            Some(s) => format!("{s} sent it to endpoint {}, pod {key}", self.hit.chosen.clone().unwrap_or_default()),
            None => format!("delivered to pod {key}"),
        };
        self.hops.push(Hop {
            node: Some(node.clone()),
            at: Place::pod_eth0(&key),
            action: Action::Delivered,
            detail: format!("{key} receives it"),
            rule: None,
            packet: Headers { ttl, ..Headers::of(&self.pkt) },
        });
        Ok(Outcome { pod: Some(key), node: Some(node), ..Outcome::new(Verdict::Delivered, reason) })
    }

    /// Out of the cluster by node `n`'s uplink: a ClusterIP's port the proxy
    /// did not rewrite goes nowhere; pod traffic is masqueraded by the
    /// plugin on its way out.
    fn outside(&mut self, n: String) -> Phase<Outcome> {
        let (cluster, dst) = (self.cluster, self.pkt.dst);
        // A ClusterIP is only a rule: what the proxy did not rewrite
        // (another protocol, another port) goes nowhere.
        if cluster.settings.service_cidr.contains(&dst) && self.hit.chosen.is_none() {
            let reason = format!(
                "{dst} is a Service address: the proxy rewrites only the Service's own ports and protocols, so this {} packet has nowhere to go (no host has that address)",
                self.req.protocol.as_str()
            );
            return Err(Outcome::new(Verdict::Unreachable, reason));
        }
        if let (Some((frontend, name)), None) = (&self.frontend, &self.hit.chosen) {
            let reason = format!("{frontend} {name}: no rule on {} handles this address and port", self.node);
            return Err(Outcome::new(Verdict::Unreachable, reason));
        }
        if self.origin == Origin::Pod && !cluster.settings.cluster_cidr.contains(&dst) && !self.plugin_masquerades() {
            if let Some(ip) = cluster.node(&n).and_then(|nd| nd.internal_ip) {
                self.masquerade_out(&n, ip);
            }
        }
        Ok(Outcome::new(Verdict::Delivered, format!("left the cluster from node {n} towards {dst}")))
    }

    /// The plugin's masquerade of pod traffic leaving the cluster,
    /// rewritten in POSTROUTING, before the packet leaves node `n`.
    fn masquerade_out(&mut self, n: &str, ip: std::net::IpAddr) {
        self.pkt.src = ip;
        let cni = self.cluster.settings.cni;
        let at = self.hops.len().saturating_sub(1);
        let hop = Hop {
            node: Some(n.to_owned()),
            at: Place::Chain {
                table: "nat".into(),
                chain: "POSTROUTING".into(),
                note: Some("the CNI's masquerade".into()),
            },
            action: Action::Snat,
            detail: format!("{cni} masquerades pod traffic leaving the cluster: the source becomes {ip}"),
            rule: None,
            packet: Headers { ttl: self.ttl(), ..Headers::of(&self.pkt) },
        };
        self.hops.insert(at, hop);
        if let Some(last) = self.hops.last_mut() {
            last.packet.src = ip;
        }
    }

    /// Records a policy hop; a denial ends the walk as `denied` says.
    pub(super) fn judged(&mut self, hop: Option<Hop>, denied: impl FnOnce() -> Outcome) -> Phase<()> {
        let Some(h) = hop else { return Ok(()) };
        let stops = h.action == Action::PolicyDenied;
        self.hops.push(h);
        if stops {
            return Err(denied());
        }
        Ok(())
    }

    /// The hop where the plugin judges one side of the connection, if that
    /// side is isolated (or would be, under a plugin that enforces policy).
    pub(super) fn policy_hop(
        &self,
        egress: bool,
        on: Option<String>,
        d: &Decision,
        at_pkt: &Packet,
        ttl: u8,
    ) -> Option<Hop> {
        let side = if egress { &d.egress } else { &d.ingress };
        if side.verdict == SideVerdict::NotIsolated || d.loopback {
            return None;
        }
        let engine = Engine::new(self.cluster);
        let end = if egress {
            if self.origin == Origin::Pod {
                engine.end_of(self.sent.src)
            } else {
                End::Ip(self.sent.src)
            }
        } else {
            engine.end_of(self.pkt.dst)
        };
        let selecting = match end {
            End::Pod(p) => self.cluster.network_policies.iter().any(|np| np.selects(p)),
            End::Ip(_) => false,
        };
        if side.verdict == SideVerdict::NotEnforced && !selecting {
            return None;
        }
        let mut detail = side.explanation.clone();
        if !side.reasons.is_empty() {
            detail = format!("{detail}: {}", side.reasons.join(" | "));
        }
        Some(Hop {
            node: on,
            at: datapath::policy_place(&self.cluster.settings, egress),
            action: match side.verdict {
                SideVerdict::Deny => Action::PolicyDenied,
                SideVerdict::Allow => Action::PolicyAllowed,
                _ => Action::PolicyNotEnforced,
            },
            detail,
            rule: side.rule.clone(),
            packet: Headers { ttl, ..Headers::of(at_pkt) },
        })
    }
}
