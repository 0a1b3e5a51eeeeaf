//! NetworkPolicy judged in user space: where the plugin's nftables table
//! queues a connection's first packet to its agent (kindnetd's embedded
//! kube-network-policies), the hop names the table's chain and the rule
//! that queued the packet, on the node that queued it, with the agent's
//! verdict. A packet no rule queues is accepted unjudged (`meta skuid 0`
//! for the node's own root processes, or no local pod that a policy
//! selects at either end).

use super::engine::{Flight, Outcome, Phase};
use super::{Hop, Verdict};
use crate::cluster::Protocol;
use crate::datapath;
use crate::netfilter::nft::{NftTable, NftVerdict, Probe};
use crate::policy::{End, Engine};
use crate::proxy::Origin;
use crate::step::Place;

impl Flight<'_> {
    /// At a hook of the first node whose chain in the plugin's table may
    /// queue the packet (prerouting after the proxy's DNAT, postrouting
    /// before its SNAT): once queued, the agent judges the client's side,
    /// and the server's too where the plugin judges both. The server's
    /// side shows here where it is decided here: a denial (the packet
    /// never leaves this node) or a server on this node (one pass through
    /// the table).
    pub(super) fn plugin_queue(&mut self, chain: &str) -> Phase<()> {
        let Some(table) = self.plugin_rules.and_then(|r| r.nft.as_ref()) else { return Ok(()) };
        let probe = self.probe(self.pkt.src, self.origin == Origin::Host);
        let Some(line) = queue_rule(table, chain, &probe) else { return Ok(()) };
        self.decide();
        let Some(d) = self.decision.clone() else { return Ok(()) };
        let both = self.network.plugin().judges_both_sides();
        let server_here = match Engine::new(self.cluster).end_of(self.pkt.dst) {
            End::Pod(p) => p.node.as_deref() == Some(self.node.as_str()),
            End::Ip(_) => false,
        };
        let seen = self.pkt.clone();
        for egress in [true, false] {
            let side = if egress { &d.egress } else { &d.ingress };
            if !egress && (!both || (side.verdict.passes() && !server_here)) {
                continue;
            }
            let hop = self.policy_hop(egress, Some(self.node.clone()), &d, &seen, self.ttl());
            let hop = hop.map(|h| self.queued_hop(h, chain, &line));
            let why = side.explanation.clone();
            self.judged(hop, || Outcome::new(Verdict::Dropped, format!("NetworkPolicy: {why}")))?;
        }
        Ok(())
    }

    /// On the node of the destination pod, another than the first: the
    /// packet is new to this node's conntrack and queued again where a
    /// policy selects the pod; the agent judges the server's side, on the
    /// source as it arrives. Its verdict goes before the hop into the pod.
    pub(super) fn queued_in(&mut self, node: &str, pod: &str) -> Phase<()> {
        if node == self.node {
            return Ok(());
        }
        let Some(d) = self.decision.clone() else { return Ok(()) };
        let Some(table) = self.cluster.plugin_rules(node).and_then(|r| r.nft.as_ref()) else { return Ok(()) };
        let probe = self.probe(self.pkt.src, false);
        let Some((chain, line)) = ["prerouting", "postrouting"]
            .into_iter()
            .find_map(|chain| Some((chain, queue_rule(table, chain, &probe)?)))
        else {
            return Ok(());
        };
        let Some(hop) = self.policy_hop(false, Some(node.to_owned()), &d, &self.pkt.clone(), self.ttl()) else {
            return Ok(());
        };
        let hop = self.queued_hop(hop, chain, &line);
        let into_pod = self.hops.pop();
        let why = d.ingress.explanation.clone();
        let (n, p) = (node.to_owned(), pod.to_owned());
        self.judged(Some(hop), || Outcome {
            pod: Some(p),
            node: Some(n),
            ..Outcome::new(Verdict::Dropped, format!("NetworkPolicy: {why}"))
        })?;
        self.hops.extend(into_pod);
        Ok(())
    }

    /// What the table sees of the packet, from `src`.
    fn probe(&self, src: std::net::IpAddr, root_socket: bool) -> Probe {
        let udp = self.req.protocol == Protocol::Udp;
        Probe { src, dst: self.pkt.dst, udp_dport: udp.then_some(self.pkt.dport), root_socket, established: false }
    }

    /// A policy hop as the queue shows it: at the chain that queued the
    /// packet, that rule's line, the agent's verdict and the policy rule
    /// behind it.
    fn queued_hop(&self, mut hop: Hop, chain: &str, line: &str) -> Hop {
        let agent = match datapath::policy_place(&self.cluster.settings, true) {
            Place::Chain { table, note, .. } => {
                hop.at = Place::Chain { table, chain: chain.to_owned(), note: note.clone() };
                note.unwrap_or_default()
            }
            _ => String::new(),
        };
        let behind = hop.rule.take().map(|r| format!(" ({r})")).unwrap_or_default();
        hop.detail = format!("queued to {agent}, which judges it: {}{behind}", hop.detail);
        hop.rule = Some(line.to_owned());
        hop
    }
}

/// The line of the rule of `chain` that queues the packet, if one does
/// (an accept ends only that chain).
fn queue_rule(table: &NftTable, chain: &str, p: &Probe) -> Option<String> {
    table.decide(chain, p).filter(|r| matches!(r.verdict, NftVerdict::Queue { .. })).map(ToString::to_string)
}
