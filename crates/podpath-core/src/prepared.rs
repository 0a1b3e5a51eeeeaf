//! What a built cluster's readers derive from it, built once and shared.
//!
//! A cluster does not change once built, and every trace, the node shell
//! and the page read the same derived state from it: the nodes' plumbing
//! (`datapath::build`), each node's service-proxy rules in the cluster's
//! mode (`Dataplane::build`) and the plugin's own rules on each node. Each
//! is built the first time it is asked for, one node at a time, and kept
//! beside the cluster, so a trace on a big cluster costs its walk, not a
//! rebuild of every node (1,000 Services × 10 endpoints on 100 nodes: a
//! whole iptables ruleset per node).
//!
//! The cache never outlives what it was built from: a clone of a cluster
//! (which callers may then change, as `kubectl get` filters its copy)
//! starts empty, and the rules kept are the cluster's own mode's.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::OnceLock;

use crate::cluster::Cluster;
use crate::datapath::{self, Network, PluginRules};
use crate::proxy::Dataplane;

/// The lazily built state; empty until read.
#[derive(Default)]
pub struct Prepared {
    network: OnceLock<Network>,
    /// By node index, in the cluster's own proxy mode.
    planes: OnceLock<Vec<OnceLock<Dataplane>>>,
    rules: OnceLock<Vec<OnceLock<Option<PluginRules>>>>,
    /// Cilium's security identity of each pod address.
    identities: OnceLock<BTreeMap<IpAddr, u32>>,
}

/// A copy starts empty: it may be changed, and is derived again if read.
impl Clone for Prepared {
    fn clone(&self) -> Self {
        Prepared::default()
    }
}

/// Derived state says nothing of its own: two clusters are equal by what
/// they hold.
impl PartialEq for Prepared {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Prepared { .. }")
    }
}

impl Cluster {
    /// Every node's plumbing (devices, routes, the plugin's datapath).
    pub fn network(&self) -> &Network {
        self.prepared.network.get_or_init(|| datapath::build(self))
    }

    /// The node's service-proxy state in the cluster's own mode, `None`
    /// for a node the cluster does not have. Another mode is built with
    /// `Dataplane::build`.
    pub fn dataplane(&self, node: &str) -> Option<&Dataplane> {
        let index = self.nodes.iter().position(|n| n.name == node)?;
        let slots = self.prepared.planes.get_or_init(|| self.nodes.iter().map(|_| OnceLock::new()).collect());
        Some(slots[index].get_or_init(|| Dataplane::build(self, node, self.settings.proxy_mode)))
    }

    /// The plugin's own filter rules on the node (Calico's Felix chains),
    /// if it programs any there.
    pub fn plugin_rules(&self, node: &str) -> Option<&PluginRules> {
        let index = self.nodes.iter().position(|n| n.name == node)?;
        let slots = self.prepared.rules.get_or_init(|| self.nodes.iter().map(|_| OnceLock::new()).collect());
        slots[index].get_or_init(|| self.network().rules(self, node)).as_ref()
    }

    /// Cilium's numeric identity of each pod address (`datapath::cilium`).
    pub(crate) fn cilium_identities(&self) -> &BTreeMap<IpAddr, u32> {
        self.prepared.identities.get_or_init(|| datapath::cilium::identities(self))
    }
}
