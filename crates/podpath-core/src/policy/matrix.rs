//! The cluster's connectivity truth table for one port and protocol.
//!
//! Pods that no policy can tell apart — same namespace, same labels, on
//! the same side of every ipBlock, the same container port behind every
//! named port — get the same verdicts, so the table is computed per class
//! of such pods and then spread over their members.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use super::{named_port, Engine};
use crate::cluster::policy::{Peer, PortMatch};
use crate::cluster::{Cluster, Pod, Protocol};

/// Rows are sources, columns destinations, in the order of `pods`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub port: u16,
    pub protocol: Protocol,
    /// `ns/name`, sorted by namespace then name.
    pub pods: Vec<String>,
    pub allowed: Vec<Vec<bool>>,
    /// How many classes of indistinguishable pods were evaluated.
    pub classes: usize,
}

/// The table as the upstream netpol tests print reachability: `.` for a
/// connection that passes, `X` for one that is blocked; a count below.
impl fmt::Display for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.pods.iter().map(String::len).max().unwrap_or(0);
        write!(f, "{:width$}", "")?;
        for j in 1..=self.pods.len() {
            write!(f, " {j:>2}")?;
        }
        writeln!(f)?;
        for (i, src) in self.pods.iter().enumerate() {
            write!(f, "{src:width$}")?;
            for ok in &self.allowed[i] {
                f.write_str(if *ok { "  ." } else { "  X" })?;
            }
            writeln!(f, "  {}", i + 1)?;
        }
        let blocked = self.allowed.iter().flatten().filter(|a| !**a).count();
        let (n, port, proto) = (self.pods.len(), self.port, self.protocol.as_str());
        writeln!(f, "{n} pods, {blocked} blocked of {} pairs, port {port}/{proto}", n * n)
    }
}

/// What the matrix means under a plugin that enforces no policy, if that
/// is the case and there are policies to ignore.
pub fn note(engine: &Engine<'_>) -> Option<String> {
    (!engine.enforcement.enforced && !engine.cluster.network_policies.is_empty()).then(|| {
        format!(
            "note: {} does not enforce NetworkPolicy; every connection passes whatever the policies say",
            engine.enforcement.cni
        )
    })
}

/// What a policy can see of a pod.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Signature {
    namespace: String,
    labels: Vec<(String, String)>,
    running: bool,
    blocks: Vec<bool>,
    named: Vec<Option<u16>>,
}

/// The most pods a table is computed for: 10,000 × 10,000 cells take
/// 100 MB, past which a browser tab runs out of memory.
pub const MAX_PODS: usize = 10_000;

/// The pods a table for `namespace` would have.
pub fn size(cluster: &Cluster, namespace: Option<&str>) -> usize {
    cluster.pods.iter().filter(|p| !p.host_network && namespace.is_none_or(|ns| p.namespace == ns)).count()
}

/// `Err` with a message that says how to stay under [`MAX_PODS`] when the
/// table for `namespace` would be larger.
pub fn check_size(cluster: &Cluster, namespace: Option<&str>) -> Result<(), String> {
    let n = size(cluster, namespace);
    if n <= MAX_PODS {
        return Ok(());
    }
    let scope = namespace.map_or_else(|| "the cluster".to_owned(), |ns| format!("namespace {ns}"));
    Err(format!(
        "{scope} has {n} pods; podpath computes the policy matrix for at most {MAX_PODS} (pick a namespace with -n, or lower the replicas)"
    ))
}

/// Computes the table for the pods of `namespace` (all pods when `None`).
/// Check its size first ([`check_size`]): it holds a cell per pair.
pub fn matrix(engine: &Engine<'_>, port: u16, protocol: Protocol, namespace: Option<&str>) -> Matrix {
    let cluster = engine.cluster;
    let mut pods: Vec<&Pod> = cluster
        .pods
        .iter()
        .filter(|p| !p.host_network)
        .filter(|p| namespace.is_none_or(|ns| p.namespace == ns))
        .collect();
    crate::order::sort_by(&mut pods, |a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

    // Everything in the policies that looks at more than labels.
    let mut blocks = Vec::new();
    let mut names = Vec::new();
    for np in &cluster.network_policies {
        for rule in np.ingress.iter().chain(np.egress.iter()) {
            for peer in &rule.peers {
                if let Peer::IpBlock(b) = peer {
                    if !blocks.contains(b) {
                        blocks.push(b.clone());
                    }
                }
            }
            for p in &rule.ports {
                if let PortMatch::Named(n) = &p.port {
                    if !names.contains(&(n.clone(), p.protocol)) {
                        names.push((n.clone(), p.protocol));
                    }
                }
            }
        }
    }
    let signature = |p: &Pod| Signature {
        namespace: p.namespace.clone(),
        labels: p.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        running: p.ip.is_some() && p.is_running(),
        blocks: blocks.iter().map(|b| p.ip.is_some_and(|ip: IpAddr| b.contains(ip))).collect(),
        named: names.iter().map(|(n, pr)| named_port(p, n, *pr)).collect(),
    };
    let mut classes: BTreeMap<Signature, Vec<usize>> = BTreeMap::new();
    for (i, p) in pods.iter().enumerate() {
        classes.entry(signature(p)).or_default().push(i);
    }
    let classes: Vec<(bool, Vec<usize>)> = classes.into_iter().map(|(s, m)| (s.running, m)).collect();
    let mut class_of = vec![0usize; pods.len()];
    for (c, (_, members)) in classes.iter().enumerate() {
        for m in members {
            class_of[*m] = c;
        }
    }
    // Verdicts between classes; within a class, between two of its members.
    let n = classes.len();
    let isolation: Vec<_> = classes
        .iter()
        .map(|(_, m)| (engine.isolating(pods[m[0]], true), engine.isolating(pods[m[0]], false)))
        .collect();
    let mut table = vec![vec![false; n]; n];
    for (a, (run_a, ma)) in classes.iter().enumerate() {
        for (b, (run_b, mb)) in classes.iter().enumerate() {
            if !run_a || !run_b {
                continue;
            }
            let src = pods[ma[0]];
            let dst = if a == b {
                match mb.get(1) {
                    Some(i) => pods[*i],
                    None => continue,
                }
            } else {
                pods[mb[0]]
            };
            table[a][b] = engine.allows(src, &isolation[a].0, dst, &isolation[b].1, port, protocol);
        }
    }
    let allowed: Vec<Vec<bool>> = (0..pods.len())
        .map(|i| {
            (0..pods.len())
                .map(|j| if i == j { classes[class_of[i]].0 } else { table[class_of[i]][class_of[j]] })
                .collect()
        })
        .collect();
    Matrix { port, protocol, pods: pods.iter().map(|p| p.key()).collect(), allowed, classes: n }
}
