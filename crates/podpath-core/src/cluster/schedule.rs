//! The scheduler: binds each pod to a node, or leaves it Pending with the
//! message kube-scheduler would give.
//!
//! Filters run per node in the default profile's order (NodeUnschedulable,
//! TaintToleration, NodeAffinity, NodeResourcesFit on pod count), and a node
//! fails on the first filter it does not pass, as in the real framework.
//! Among feasible nodes the score favours the one with the fewest pods of the
//! same owner, then the fewest pods (the effect of the default topology
//! spreading and least-allocated scoring), then node order: deterministic.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;

use super::nodes::NodeAffinity;
use super::workloads::Draft;
use super::{Node, PodPhase, TaintEffect};

/// A pod after scheduling: bound to a node index, or Pending with a message.
#[derive(Clone, Debug)]
pub(super) struct Placed {
    pub draft: Draft,
    pub node: Option<usize>,
    pub phase: PodPhase,
}

pub(super) fn schedule(drafts: Vec<Draft>, nodes: &[Node]) -> Vec<Placed> {
    let mut load: Vec<u32> = vec![0; nodes.len()];
    // Per owner (namespace, kind/name): how many of its pods each node has,
    // looked up once per pod rather than once per pod and node.
    let mut by_owner: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
    drafts
        .into_iter()
        .map(|draft| {
            let owner = draft.owner.as_ref().map(|o| format!("{}/{}", o.kind, o.name)).unwrap_or_default();
            let key = (draft.namespace.clone(), owner);
            let result = match draft.spec.node_name.as_deref().filter(|n| !n.is_empty()) {
                Some(name) => match nodes.iter().position(|n| n.name == name) {
                    Some(i) => Ok(i),
                    None => {
                        Err(format!("spec.nodeName is \"{name}\", but there is no such node; the pod will never start"))
                    }
                },
                None => {
                    let counts = by_owner.get(&key);
                    let same_owner = |i: usize| counts.map_or(0, |c| c[i]);
                    let control_plane =
                        draft.bootstrap.then(|| pick(&draft, nodes, &load, same_owner, |n| n.is_control_plane()).ok());
                    match control_plane.flatten() {
                        Some(i) => Ok(i),
                        None => pick(&draft, nodes, &load, same_owner, |_| true),
                    }
                }
            };
            match result {
                Ok(i) => {
                    load[i] += 1;
                    by_owner.entry(key).or_insert_with(|| vec![0; nodes.len()])[i] += 1;
                    Placed { draft, node: Some(i), phase: PodPhase::Running }
                }
                Err(message) => {
                    Placed { draft, node: None, phase: PodPhase::Pending { reason: "Pending".into(), message } }
                }
            }
        })
        .collect()
}

fn filter(spec: &core::PodSpec, affinity: &NodeAffinity, node: &Node, load: u32) -> Result<(), (String, bool)> {
    let tolerations = spec.tolerations.as_deref().unwrap_or(&[]);
    if node.unschedulable {
        let t = super::Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
        };
        if !t.tolerated_by(tolerations) {
            return Err(("node(s) were unschedulable".into(), true));
        }
    }
    if let Some(t) =
        node.taints.iter().filter(|t| t.effect != TaintEffect::PreferNoSchedule).find(|t| !t.tolerated_by(tolerations))
    {
        return Err((format!("node(s) had untolerated taint {{{}: {}}}", t.key, t.value), true));
    }
    if !affinity.matches(node) {
        return Err(("node(s) didn't match Pod's node affinity/selector".into(), true));
    }
    if load >= node.max_pods {
        return Err(("Too many pods".into(), false));
    }
    Ok(())
}

fn pick(
    draft: &Draft,
    nodes: &[Node],
    load: &[u32],
    same_owner: impl Fn(usize) -> u32,
    consider: impl Fn(&Node) -> bool,
) -> Result<usize, String> {
    let mut reasons: BTreeMap<String, (u32, bool)> = BTreeMap::new();
    let mut best: Option<(u32, u32, usize)> = None;
    // Read once for all nodes, not once per node.
    let affinity = NodeAffinity::of(&draft.spec);
    for (i, node) in nodes.iter().enumerate().filter(|(_, n)| consider(n)) {
        match filter(&draft.spec, &affinity, node, load[i]) {
            Ok(()) => {
                let score = (same_owner(i), load[i], i);
                if best.is_none_or(|b| score < b) {
                    best = Some(score);
                }
            }
            Err((reason, unresolvable)) => {
                let e = reasons.entry(reason).or_insert((0, unresolvable));
                e.0 += 1;
            }
        }
    }
    if let Some((_, _, i)) = best {
        return Ok(i);
    }
    Err(fit_error(nodes.len(), &reasons))
}

/// `FitError.Error()` followed by the preemption post-filter's verdict.
fn fit_error(total: usize, reasons: &BTreeMap<String, (u32, bool)>) -> String {
    let mut parts: Vec<String> = reasons.iter().map(|(r, (n, _))| format!("{n} {r}")).collect();
    crate::order::sort(&mut parts);
    let hopeless: u32 = reasons.values().filter(|(_, u)| *u).map(|(n, _)| n).sum();
    let victims: u32 = reasons.values().filter(|(_, u)| !*u).map(|(n, _)| n).sum();
    let mut preemption = Vec::new();
    if victims > 0 {
        preemption.push(format!("{victims} No preemption victims found for incoming pod"));
    }
    if hopeless > 0 {
        preemption.push(format!("{hopeless} Preemption is not helpful for scheduling"));
    }
    if total == 0 {
        return "no nodes available to schedule pods".into();
    }
    format!(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {}.",
        parts.join(", "),
        preemption.join(", ")
    )
}
