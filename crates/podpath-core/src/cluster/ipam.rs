//! IPAM: the address each running pod gets.
//!
//! Host-network pods share their node's address. Others take the next free
//! address of their node's pod CIDR the way the host-local plugin hands them
//! out under Flannel: the first address is the `cni0` bridge's gateway, so
//! pods start at the second, in the order they start on that node.
//! (Calico's /26 blocks, Weave Net's peer ranges and Cilium's cluster pool
//! come with per-CNI IPAM.)

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::schedule::Placed;
use super::{Node, Pod, PodPhase};
use crate::settings::Settings;

pub(super) fn assign(placed: Vec<Placed>, nodes: &[Node], _settings: &Settings) -> Vec<Pod> {
    let mut next: BTreeMap<usize, u32> = BTreeMap::new();
    placed
        .into_iter()
        .map(|p| {
            let host_network = p.draft.spec.host_network.unwrap_or(false);
            let mut phase = p.phase;
            let ip = match (p.node, host_network) {
                (None, _) => None,
                (Some(i), true) => nodes[i].internal_ip,
                (Some(i), false) => {
                    let offset = next.entry(i).or_insert(2);
                    match pod_address(nodes[i].pod_cidr, *offset) {
                        Ok(ip) => {
                            *offset += 1;
                            Some(ip)
                        }
                        Err(message) => {
                            phase = PodPhase::Pending { reason: "ContainerCreating".into(), message };
                            None
                        }
                    }
                }
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
        .collect()
}

/// The `offset`-th address of the node's range, or the error the CNI plugin
/// would report in the pod's events.
fn pod_address(cidr: Option<IpNet>, offset: u32) -> Result<IpAddr, String> {
    match cidr {
        None => Err("network plugin is not ready: the node has no pod CIDR".into()),
        Some(IpNet::V4(net)) => {
            let size = 1u64 << (32 - net.prefix_len());
            // The last address is the broadcast address.
            if u64::from(offset) >= size.saturating_sub(1) {
                return Err(format!(
                    "failed to allocate for range 0: no IP addresses available in range set: {}-{}",
                    Ipv4Addr::from(u32::from(net.network()) + 1),
                    Ipv4Addr::from(u32::from(net.broadcast()) - 1)
                ));
            }
            Ok(IpAddr::V4(Ipv4Addr::from(u32::from(net.network()) + offset)))
        }
        Some(IpNet::V6(_)) => Err("IPv6 pod ranges are not simulated yet".into()),
    }
}
