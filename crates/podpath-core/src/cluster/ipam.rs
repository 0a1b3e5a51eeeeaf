//! IPAM: the address each running pod gets, from the allocator its CNI
//! plugin uses ([`IpamScheme`]; each plugin's module says which, with its
//! parameters). Host-network pods share their node's address.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};

use super::schedule::Placed;
use super::{Node, Pod, PodPhase};
use crate::names::{fnv32a, Rng};
use crate::settings::Settings;

/// The allocators CNI plugins use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpamScheme {
    /// host-local over the node's `spec.podCIDR` (Flannel): the first
    /// address is the plugin's bridge, pods count up from the second.
    HostLocal,
    /// Blocks of the pool (Calico), claimed per node starting at a random
    /// block seeded by the node's name (as `randomBlockGenerator` seeds
    /// with an FNV hash of the hostname); the first address of a node's
    /// first block goes to its tunnel device, pods take the next ones in
    /// order, a full block makes the node claim another.
    Blocks { prefix: u8 },
    /// The range split between peers as they join (Weave Net), each
    /// newcomer receiving the upper half of the largest free range; the
    /// bridge takes a node's first address, pods the next ones.
    Split,
    /// A range of this prefix per node from the pool in node order
    /// (Cilium's cluster-pool); the node's device and its pods take random
    /// free addresses of it.
    Pool { prefix: u8 },
}

/// One node's allocator.
#[derive(Debug)]
enum Allocator {
    /// Sequential offsets in a range, `next` the next one to hand out.
    Sequential {
        net: Ipv4Net,
        next: u32,
    },
    Calico {
        blocks: Vec<Ipv4Net>,
        next: u32,
    },
    Weave {
        end: u32,
        next: u32,
    },
    Random {
        net: Ipv4Net,
        used: BTreeSet<u32>,
        rng: Rng,
    },
    /// The plugin could not give this node any range.
    None(String),
}

/// Per-node allocators and what they reserve for the plugin's own devices.
pub(super) struct Ipam {
    nodes: Vec<Allocator>,
    /// Blocks already claimed by some node, and their prefix.
    claimed: BTreeSet<u32>,
    block: u8,
    pool: Option<Ipv4Net>,
}

/// What a node's devices hold: the ranges its pods come from and the
/// address the plugin's own interface took (cni0, tunl0, weave, cilium_host).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NodeNetwork {
    pub pod_ranges: Vec<IpNet>,
    pub gateway: Option<IpAddr>,
}

impl Ipam {
    fn new(nodes: &[Node], settings: &Settings, scheme: IpamScheme) -> (Ipam, Vec<NodeNetwork>) {
        let pool = match settings.cluster_cidr {
            IpNet::V4(v4) => Some(v4),
            IpNet::V6(_) => None,
        };
        let block = match scheme {
            IpamScheme::Blocks { prefix } => prefix,
            _ => 32,
        };
        let mut ipam = Ipam { nodes: Vec::new(), claimed: BTreeSet::new(), block, pool };
        let mut networks = Vec::new();
        let weave = pool.map(|p| weave_ranges(p, nodes.len()));
        for (i, node) in nodes.iter().enumerate() {
            let (alloc, net) = match (scheme, pool) {
                (_, None) => (Allocator::None("IPv6 pod networks are not simulated yet".into()), NodeNetwork::default()),
                (IpamScheme::HostLocal, _) => match node.pod_cidr {
                    Some(IpNet::V4(net)) => {
                        let gw = offset(net, 1);
                        (Allocator::Sequential { net, next: 2 }, NodeNetwork { pod_ranges: vec![IpNet::V4(net)], gateway: Some(gw) })
                    }
                    _ => (Allocator::None("network plugin is not ready: the node has no pod CIDR (flanneld: failed to get the node's pod CIDR)".into()), NodeNetwork::default()),
                },
                (IpamScheme::Blocks { .. }, Some(_)) => match ipam.claim_block(&node.name) {
                    Some(block) => {
                        let tunnel = offset(block, 0);
                        (Allocator::Calico { blocks: vec![block], next: 1 }, NodeNetwork { pod_ranges: vec![IpNet::V4(block)], gateway: Some(tunnel) })
                    }
                    None => (Allocator::None("Calico IPAM: no free blocks in the IP pool".into()), NodeNetwork::default()),
                },
                (IpamScheme::Split, Some(p)) => {
                    let (start, end) = weave.as_ref().expect("computed for IPv4")[i];
                    // The subnet's own network address is never handed out.
                    let first = if start == u32::from(p.network()) { start + 1 } else { start };
                    let bridge = IpAddr::V4(Ipv4Addr::from(first));
                    let range = range_to_net(start, end);
                    (Allocator::Weave { end, next: first + 1 }, NodeNetwork { pod_ranges: range.into_iter().collect(), gateway: Some(bridge) })
                }
                (IpamScheme::Pool { prefix }, Some(p)) => match p.subnets(prefix.max(p.prefix_len())).ok().and_then(|mut s| s.nth(i)) {
                    Some(net) => {
                        let mut rng = Rng::for_name(&format!("cilium/{}", node.name));
                        let mut used = BTreeSet::new();
                        let router = random_host(net, &mut used, &mut rng);
                        (
                            Allocator::Random { net, used, rng },
                            NodeNetwork { pod_ranges: vec![IpNet::V4(net)], gateway: router.map(IpAddr::V4) },
                        )
                    }
                    None => (Allocator::None("cilium-operator: no pod CIDR left in the cluster pool".into()), NodeNetwork::default()),
                },
            };
            ipam.nodes.push(alloc);
            networks.push(net);
        }
        (ipam, networks)
    }

    /// Claims the first unclaimed block, walking the pool from a start seeded
    /// by the node's name.
    fn claim_block(&mut self, node: &str) -> Option<Ipv4Net> {
        let pool = self.pool?;
        let block_len = self.block.max(pool.prefix_len());
        let count = 1u32 << (block_len - pool.prefix_len());
        let mut rng = Rng::new(u64::from(fnv32a(node.as_bytes())));
        let start = rng.below(u64::from(count)) as u32;
        let i = (0..count).map(|k| (start + k) % count).find(|i| !self.claimed.contains(i))?;
        self.claimed.insert(i);
        let size = 1u32 << (32 - block_len);
        Ipv4Net::new(Ipv4Addr::from(u32::from(pool.network()) + i * size), block_len).ok()
    }

    /// The next address for a pod on node `i`, or the error the CNI plugin
    /// would put in the pod's events.
    fn allocate(&mut self, i: usize, node: &str, networks: &mut [NodeNetwork]) -> Result<IpAddr, String> {
        match &mut self.nodes[i] {
            Allocator::None(msg) => return Err(msg.clone()),
            Allocator::Sequential { net, next } => {
                let size = 1u64 << (32 - net.prefix_len());
                if u64::from(*next) >= size.saturating_sub(1) {
                    return Err(format!(
                        "failed to allocate for range 0: no IP addresses available in range set: {}-{}",
                        offset(*net, 1),
                        Ipv4Addr::from(u32::from(net.broadcast()) - 1)
                    ));
                }
                *next += 1;
                return Ok(offset(*net, *next - 1));
            }
            Allocator::Weave { end, next, .. } => {
                if *next >= *end {
                    return Err("weave: no free addresses left in this peer's range".into());
                }
                *next += 1;
                return Ok(IpAddr::V4(Ipv4Addr::from(*next - 1)));
            }
            Allocator::Random { net, used, rng } => {
                return random_host(*net, used, rng)
                    .map(IpAddr::V4)
                    .ok_or_else(|| "cilium: no more IPs available in this node's pod CIDR".into());
            }
            Allocator::Calico { blocks, next } => {
                let block = *blocks.last().expect("a node's allocator starts with one block");
                let size = 1u32 << (32 - block.prefix_len());
                if *next < size {
                    *next += 1;
                    return Ok(offset(block, *next - 1));
                }
            }
        }
        // Only a full Calico block gets here: the node claims another one
        // and takes its first address.
        let Some(block) = self.claim_block(node) else {
            return Err("Calico IPAM: no free blocks in the IP pool".into());
        };
        if let Allocator::Calico { blocks, next } = &mut self.nodes[i] {
            blocks.push(block);
            *next = 1;
        }
        networks[i].pod_ranges.push(IpNet::V4(block));
        Ok(offset(block, 0))
    }
}

fn offset(net: Ipv4Net, n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from(net.network()) + n))
}

/// A random free host address of `net` (not the network or broadcast
/// address): a random start, then a scan, as a bitmap allocator does.
fn random_host(net: Ipv4Net, used: &mut BTreeSet<u32>, rng: &mut Rng) -> Option<Ipv4Addr> {
    let size = 1u64 << (32 - net.prefix_len());
    let hosts = size.saturating_sub(2);
    if hosts == 0 {
        return None;
    }
    let start = rng.below(hosts);
    let off = (0..hosts).map(|k| 1 + (start + k) % hosts).find(|o| !used.contains(&(*o as u32)))? as u32;
    used.insert(off);
    Some(Ipv4Addr::from(u32::from(net.network()) + off))
}

/// Weave Net's split of the range among `n` peers joining in order: each
/// newcomer asks the peer with the largest free range (the earliest on a
/// tie), which donates the upper half of it. `(start, end)` per peer.
fn weave_ranges(pool: Ipv4Net, n: usize) -> Vec<(u32, u32)> {
    let start = u32::from(pool.network());
    let end = start.wrapping_add((1u64 << (32 - pool.prefix_len())) as u32 - 1); // the broadcast address stays out
    let mut ranges: Vec<(u32, u32)> = Vec::with_capacity(n);
    if n == 0 {
        return ranges;
    }
    ranges.push((start, end));
    for _ in 1..n {
        let donor = (0..ranges.len())
            .max_by_key(|&i| (ranges[i].1 - ranges[i].0, std::cmp::Reverse(i)))
            .expect("one peer at least");
        let (s, e) = ranges[donor];
        let mid = s + (e - s) / 2;
        let mid = if (e - s) % 2 == 1 { mid + 1 } else { mid };
        ranges[donor] = (s, mid);
        ranges.push((mid, e));
    }
    ranges
}

/// The smallest CIDR covering `[start, end)`; a Weave peer's range is one.
fn range_to_net(start: u32, end: u32) -> Option<IpNet> {
    let size = u64::from(end - start).next_power_of_two();
    let prefix = 32 - size.trailing_zeros() as u8;
    Ipv4Net::new(Ipv4Addr::from(start), prefix).ok().map(|n| IpNet::V4(n.trunc()))
}

/// Addresses for every placed pod, from the plugin's allocator, and what
/// each node's network holds afterwards.
pub(crate) fn assign(
    placed: Vec<Placed>,
    nodes: &[Node],
    settings: &Settings,
    scheme: IpamScheme,
) -> (Vec<Pod>, Vec<NodeNetwork>) {
    let (mut ipam, mut networks) = Ipam::new(nodes, settings, scheme);
    // Addresses pods of a dumped cluster already hold: kept, and never
    // handed out again.
    let taken: BTreeSet<IpAddr> = placed
        .iter()
        .filter(|p| p.node.is_some() && !p.draft.spec.host_network.unwrap_or(false) && p.draft.finished.is_none())
        .filter_map(|p| p.draft.given_ip)
        .collect();
    let pods = placed
        .into_iter()
        .map(|p| {
            let host_network = p.draft.spec.host_network.unwrap_or(false);
            let mut phase = p.phase;
            if let Some((succeeded, reason)) = p.draft.finished.clone() {
                // Ended: no sandbox, no address in use (another pod may hold
                // it now); its status still shows the one it had.
                let ip = if host_network { p.node.and_then(|i| nodes[i].internal_ip) } else { p.draft.given_ip };
                phase = PodPhase::Finished { succeeded, reason, ip };
            }
            let ip = match (p.node, host_network) {
                _ if matches!(phase, PodPhase::Finished { .. }) => None,
                (None, _) => None,
                (Some(i), true) => nodes[i].internal_ip,
                (Some(i), false) if p.draft.given_ip.is_some() => {
                    // The node routes the address it gave: the range it
                    // holds it in (its spec.podCIDR), or the address alone.
                    let ip = p.draft.given_ip.expect("checked above");
                    let ranges = &mut networks[i].pod_ranges;
                    if !ranges.iter().any(|r| r.contains(&ip)) {
                        let range = nodes[i].pod_cidr.filter(|c| c.contains(&ip)).unwrap_or_else(|| IpNet::from(ip));
                        ranges.push(range);
                    }
                    Some(ip)
                }
                (Some(i), false) => loop {
                    match ipam.allocate(i, &nodes[i].name, &mut networks) {
                        Ok(ip) if taken.contains(&ip) => continue,
                        Ok(ip) => break Some(ip),
                        Err(message) => {
                            phase = PodPhase::Pending { reason: "ContainerCreating".into(), message };
                            break None;
                        }
                    }
                },
            };
            let d = p.draft;
            let running = phase == PodPhase::Running;
            Pod {
                ready: running && d.ready,
                terminating: d.terminating,
                namespace: d.namespace,
                name: d.name,
                labels: d.labels,
                owner: d.owner,
                node: p.node.map(|i| nodes[i].name.clone()),
                ip,
                host_network,
                phase,
                spec: d.spec,
                origin: d.origin,
            }
        })
        .collect();
    (pods, networks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weave_splits_like_peers_joining() {
        let pool: Ipv4Net = "10.32.0.0/12".parse().unwrap();
        let starts: Vec<String> = weave_ranges(pool, 4).iter().map(|(s, _)| Ipv4Addr::from(*s).to_string()).collect();
        assert_eq!(starts, ["10.32.0.0", "10.40.0.0", "10.36.0.0", "10.44.0.0"]);
    }

    #[test]
    fn random_hosts_avoid_network_and_broadcast() {
        let net: Ipv4Net = "10.0.1.0/30".parse().unwrap();
        let mut used = BTreeSet::new();
        let mut rng = Rng::new(1);
        let mut got: Vec<Ipv4Addr> = (0..3).filter_map(|_| random_host(net, &mut used, &mut rng)).collect();
        crate::order::sort(&mut got);
        assert_eq!(got, ["10.0.1.1".parse::<Ipv4Addr>().unwrap(), "10.0.1.2".parse().unwrap()]);
    }

    #[test]
    fn ranges_that_are_cidrs_are_shown_as_cidrs() {
        let s = u32::from("10.40.0.0".parse::<Ipv4Addr>().unwrap());
        let e = u32::from("10.48.0.0".parse::<Ipv4Addr>().unwrap());
        assert_eq!(range_to_net(s, e).unwrap().to_string(), "10.40.0.0/13");
    }
}
