//! The CNI plugin's own netfilter rules (Calico's Felix chains), evaluated
//! where the kernel meets them: in FORWARD and INPUT of the first node,
//! before the service proxy's rules there (Felix inserts its jump at the
//! top), and in FORWARD of the node a packet reaches a pod on. The rules
//! are the ones the node's `iptables-save` prints; a drop there is the
//! plugin enforcing NetworkPolicy.

use super::engine::Flight;
use super::engine::Phase;
use super::Hop;
use crate::netfilter::eval::{self, Context, Devices, Verdict as NfVerdict};
use crate::proxy::{Hook, Origin};
use crate::step::{Place, Step};

impl Flight<'_> {
    /// The plugin's rules at a filter hook of the first node, if it has any.
    pub(super) fn plugin_filter(&mut self, hook: Hook) -> Phase<()> {
        let chain = match hook {
            Hook::Forward => "FORWARD",
            Hook::Input => "INPUT",
            _ => return Ok(()),
        };
        let Some((rules, filter)) = self.plugin_rules.and_then(|r| Some((r, r.filter.as_ref()?))) else {
            return Ok(());
        };
        let input = self.came_by();
        let output = match hook {
            Hook::Forward => {
                self.network.node(&self.node).and_then(|n| n.host.lookup(self.pkt.dst)).map(|r| r.dev.clone())
            }
            _ => None,
        };
        let table = filter.evaluable();
        let mut steps: Vec<Step> = Vec::new();
        let mut ctx = Context {
            local: &self.local,
            rng: &mut self.rng,
            sets: Some(&rules.sets),
            devs: Devices { input: input.as_deref(), output: output.as_deref() },
        };
        let verdict = eval::run(&table, chain, &mut self.pkt, &mut ctx, &mut steps);
        self.push_steps(&steps);
        match verdict {
            NfVerdict::Drop | NfVerdict::Reject => Err(self.denied(verdict == NfVerdict::Reject, &steps)),
            _ => Ok(()),
        }
    }

    /// The plugin's rules dropped the packet: NetworkPolicy's say, with
    /// the rule that acted on it.
    fn denied(&mut self, rejected: bool, steps: &[Step]) -> super::engine::Outcome {
        let mut outcome = self.refused(rejected, steps);
        self.decide();
        let why = self.decision.as_ref().and_then(|d| {
            [&d.egress, &d.ingress].into_iter().find(|s| !s.verdict.passes()).map(|s| s.explanation.clone())
        });
        if let Some(why) = why {
            outcome.reason = format!("NetworkPolicy: {why} ({})", outcome.reason);
            // The rule that dropped it is the plugin enforcing the policy.
            if let Some(last) = self.hops.last_mut().filter(|h| h.action == crate::step::Action::Dropped) {
                last.action = crate::step::Action::PolicyDenied;
            }
        }
        outcome
    }

    /// The device the packet entered the first node by: a pod's host-side
    /// veth, the uplink for a packet from outside; none for the node's own.
    fn came_by(&self) -> Option<String> {
        match (&self.req.from, self.origin) {
            (super::From::Pod { namespace, name }, Origin::Pod) => {
                self.network.node(&self.node).and_then(|n| n.pod_veth.get(&format!("{namespace}/{name}")).cloned())
            }
            (_, Origin::Outside) => Some("eth0".into()),
            _ => None,
        }
    }

    /// The plugin's FORWARD rules on `node`, another node than the first,
    /// for the packet that reached it and is about to go into `pod`: their
    /// steps go before the hop into the pod; a drop takes that hop away.
    pub(super) fn plugin_filter_at(&mut self, node: &str, pod: &str) -> Phase<()> {
        if node == self.node || self.plugin_rules.is_none_or(|r| r.filter.is_none()) {
            return Ok(());
        }
        let Some((rules, filter)) = self.cluster.plugin_rules(node).and_then(|r| Some((r, r.filter.as_ref()?))) else {
            return Ok(());
        };
        let into_pod = self.hops.pop();
        // In by the last device the packet crossed on this node (the
        // tunnel, or the uplink); out by the pod's veth.
        let input = self.hops.iter().rev().take_while(|h| h.node.as_deref() == Some(node)).find_map(|h| match &h.at {
            Place::Dev(d) => Some(d.clone()),
            _ => None,
        });
        let output = self.network.node(node).and_then(|n| n.pod_veth.get(pod).cloned());
        let table = filter.evaluable();
        let local = local_of(self, node);
        let mut steps: Vec<Step> = Vec::new();
        let mut ctx = Context {
            local: &local,
            rng: &mut self.rng,
            sets: Some(&rules.sets),
            devs: Devices { input: input.as_deref(), output: output.as_deref() },
        };
        let verdict = eval::run(&table, "FORWARD", &mut self.pkt.clone(), &mut ctx, &mut steps);
        let ttl = self.ttl();
        for s in &steps {
            let packet = s.packet.as_ref().map_or_else(|| super::Headers::of(&self.pkt), super::Headers::of);
            self.hops.push(Hop {
                node: Some(node.to_owned()),
                at: s.at.clone(),
                action: s.action,
                detail: s.detail.clone(),
                rule: s.rule.clone(),
                packet: super::Headers { ttl, ..packet },
            });
        }
        match verdict {
            NfVerdict::Drop | NfVerdict::Reject => Err(self.denied(verdict == NfVerdict::Reject, &steps)),
            _ => {
                self.hops.extend(into_pod);
                Ok(())
            }
        }
    }
}

impl Flight<'_> {
    /// The plugin's own nat rules at POSTROUTING of the first node, after
    /// the service proxy's (kindnet's masquerade agent appends its jump):
    /// shown where they rewrite the source, as MASQUERADE does, to the
    /// address of the device the packet leaves by.
    pub(super) fn plugin_nat(&mut self) {
        let Some(nat) = self.plugin_rules.and_then(|r| r.nat.as_ref()) else { return };
        let table = nat.evaluable_all();
        let host = self.network.node(&self.node).map(|n| &n.host);
        let output = host.and_then(|h| h.lookup(self.pkt.dst)).map(|r| r.dev.clone());
        let mut steps: Vec<Step> = Vec::new();
        let mut pkt = self.pkt.clone();
        let mut ctx = Context {
            local: &self.local,
            rng: &mut self.rng,
            sets: None,
            devs: Devices { input: None, output: output.as_deref() },
        };
        if eval::run(&table, "POSTROUTING", &mut pkt, &mut ctx, &mut steps) != NfVerdict::Masquerade {
            return;
        }
        let out = output.as_deref().and_then(|dev| host?.address_on(dev));
        let Some(src) = out.or_else(|| self.cluster.node(&self.node).and_then(|n| n.internal_ip)) else { return };
        if src == self.pkt.src {
            return;
        }
        self.push_steps(&steps);
        self.pkt.src = src;
        if let Some(h) = self.hops.last_mut() {
            h.action = crate::step::Action::Snat;
            h.detail = format!("masqueraded: the source becomes {src}");
            h.packet.src = src;
        }
    }

    /// Whether the plugin's own nat rules decide the masquerade of pod
    /// traffic leaving the cluster (kindnet's), rather than podpath's
    /// summary of the plugin's.
    pub(super) fn plugin_masquerades(&self) -> bool {
        self.plugin_rules.is_some_and(|r| r.nat.is_some())
    }
}

/// A node's own addresses, for `addrtype LOCAL`.
fn local_of(f: &Flight<'_>, node: &str) -> Vec<ipnet::IpNet> {
    let host = f.network.node(node).map(|n| &n.host);
    host.into_iter().flat_map(|h| &h.links).flat_map(|l| &l.addrs).map(|a| ipnet::IpNet::from(a.addr())).collect()
}
