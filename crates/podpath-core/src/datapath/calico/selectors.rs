//! Calico's selectors for Kubernetes peers, as Felix turns them into
//! ipsets: the selector libcalico-go makes of a `podSelector` and a
//! `namespaceSelector` (`projectcalico.org/orchestrator == 'k8s'`,
//! `pcns.` before a namespace's labels, `has(projectcalico.org/namespace)`
//! for any namespace), its canonical text and the set named after its hash
//! (`cali40s:…`), with the addresses of the workloads whose labels match;
//! an ipBlock's exceptions and a named port as sets too.

use std::fmt::Write as _;

use data_encoding::BASE64URL_NOPAD;
use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use sha2::{Digest, Sha224};

use crate::cluster::{Cluster, NetworkPolicy, Pod, Protocol};
use crate::labels::Labels;
use crate::netfilter::ipset::{IpSet, IpSets, Member};

/// A Calico selector, as the canonical text its hash is taken over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Sel {
    And(Vec<Sel>),
    Eq(String, String),
    Has(String),
    Not(Box<Sel>),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl Sel {
    fn canonical(&self) -> String {
        let set = |vs: &[String]| vs.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ");
        match self {
            Sel::And(ops) => format!("({})", ops.iter().map(Sel::canonical).collect::<Vec<_>>().join(" && ")),
            Sel::Eq(k, v) => format!("{k} == \"{v}\""),
            Sel::Has(k) => format!("has({k})"),
            Sel::Not(s) => format!("!{}", s.canonical()),
            Sel::In(k, vs) => format!("{k} in {{{}}}", set(vs)),
            Sel::NotIn(k, vs) => format!("{k} not in {{{}}}", set(vs)),
        }
    }

    fn matches(&self, labels: &Labels) -> bool {
        match self {
            Sel::And(ops) => ops.iter().all(|s| s.matches(labels)),
            Sel::Eq(k, v) => labels.get(k) == Some(v),
            Sel::Has(k) => labels.contains_key(k),
            Sel::Not(s) => !s.matches(labels),
            Sel::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Sel::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
        }
    }

    /// The ipset of the endpoints this selector picks: `cali40` and the
    /// selector's ID, `s:` and the URL-safe base64 of SHA-224 of `s:` and
    /// the canonical text, cut to 31 characters.
    fn set_name(&self) -> String {
        let id = format!("s:{}", BASE64URL_NOPAD.encode(&Sha224::digest(format!("s:{}", self.canonical()).as_bytes())));
        format!("cali40{id}").chars().take(31).collect()
    }
}

/// A Kubernetes label selector as Calico converts it: the orchestrator
/// label first, then each label and expression, `pcns.` before a
/// namespace's labels.
fn k8s_selector(sel: Option<&LabelSelector>, prefix: &str, orchestrator: bool) -> Vec<Sel> {
    let mut out = Vec::new();
    if orchestrator {
        out.push(Sel::Eq("projectcalico.org/orchestrator".into(), "k8s".into()));
    }
    let Some(sel) = sel else { return out };
    for (k, v) in sel.match_labels.iter().flatten() {
        out.push(Sel::Eq(format!("{prefix}{k}"), v.clone()));
    }
    for e in sel.match_expressions.iter().flatten() {
        let key = format!("{prefix}{}", e.key);
        let values = e.values.clone().unwrap_or_default();
        out.push(match e.operator.as_str() {
            "In" => Sel::In(key, values),
            "NotIn" => Sel::NotIn(key, values),
            "Exists" => Sel::Has(key),
            _ => Sel::Not(Box::new(Sel::Has(key))),
        });
    }
    out
}

/// A peer's endpoint selector (`getEndpointSelector`): its namespaces
/// (the policy's own when not said; `all()` becomes "has a namespace"),
/// then its pods.
pub(super) fn peer_selector(ns: &str, pods: Option<&LabelSelector>, namespaces: Option<&LabelSelector>) -> Sel {
    let ns_part = match namespaces {
        None => Sel::Eq("projectcalico.org/namespace".into(), ns.to_owned()),
        Some(s)
            if s.match_labels.as_ref().is_none_or(|m| m.is_empty())
                && s.match_expressions.as_ref().is_none_or(|m| m.is_empty()) =>
        {
            Sel::Has("projectcalico.org/namespace".into())
        }
        Some(s) => single(k8s_selector(Some(s), "pcns.", false)),
    };
    Sel::And(vec![ns_part, single(k8s_selector(pods, "", true))])
}

fn single(mut ops: Vec<Sel>) -> Sel {
    if ops.len() == 1 {
        ops.remove(0)
    } else {
        Sel::And(ops)
    }
}

/// The labels Calico gives a workload endpoint: the pod's, its
/// namespace's under `pcns.`, and its own namespace, orchestrator and
/// service account.
fn endpoint_labels(cluster: &Cluster, p: &Pod) -> Labels {
    let mut l = p.labels.clone();
    for (k, v) in cluster.namespace_labels.get(&p.namespace).into_iter().flatten() {
        l.insert(format!("pcns.{k}"), v.clone());
    }
    l.insert("projectcalico.org/namespace".into(), p.namespace.clone());
    l.insert("projectcalico.org/orchestrator".into(), "k8s".into());
    l.insert("projectcalico.org/serviceaccount".into(), service_account(p));
    l
}

pub(super) fn service_account(p: &Pod) -> String {
    p.spec.service_account_name.clone().unwrap_or_else(|| "default".into())
}

/// The workloads Calico knows: running pods with their own address.
pub(super) fn workloads(cluster: &Cluster) -> impl Iterator<Item = &Pod> {
    cluster.pods.iter().filter(|p| !p.host_network && p.ip.is_some() && p.is_running())
}

/// The ipset of a selector's endpoints (`hash:net`, one address each),
/// made once per node.
pub(super) fn selector_set(cluster: &Cluster, sets: &mut IpSets, sel: &Sel) -> String {
    let name = sel.set_name();
    if sets.get(&name).is_none() {
        let mut set =
            IpSet { name: name.clone(), kind: "hash:net", comment: "", members: Vec::new(), maxelem: 1_048_576 };
        for p in workloads(cluster).filter(|p| sel.matches(&endpoint_labels(cluster, p))) {
            if let Some(ip) = p.ip {
                set.add(Member::Net(IpNet::from(ip)));
            }
        }
        sets.sets.push(set);
    }
    name
}

/// The ipset of an ipBlock's exceptions.
pub(super) fn net_set(sets: &mut IpSets, nets: &[IpNet]) -> String {
    let mut text = String::from("n:");
    for n in nets {
        let _ = write!(text, "{n},");
    }
    let name: String =
        format!("cali40s:{}", BASE64URL_NOPAD.encode(&Sha224::digest(text.as_bytes()))).chars().take(31).collect();
    if sets.get(&name).is_none() {
        let mut set =
            IpSet { name: name.clone(), kind: "hash:net", comment: "", members: Vec::new(), maxelem: 1_048_576 };
        for n in nets {
            set.add(Member::Net(*n));
        }
        sets.sets.push(set);
    }
    name
}

/// The ipset of a named port: the address, protocol and number of that
/// port on every workload the rule's far side is (the policy's own pods
/// for ingress, any pod for egress).
pub(super) fn named_port_set(
    cluster: &Cluster,
    sets: &mut IpSets,
    np: &NetworkPolicy,
    port: &str,
    proto: Protocol,
    egress: bool,
) -> String {
    // The two directions hold different workloads (ingress the policy's
    // own, egress any): one set each, even for the same policy and port.
    let mut id = format!("{},{},{},{port}", np.namespace, np.name, proto.name());
    if egress {
        id.push_str(",egress");
    }
    let name: String = format!("cali40n:{}", BASE64URL_NOPAD.encode(&Sha224::digest(format!("n:{id}").as_bytes())))
        .chars()
        .take(31)
        .collect();
    if sets.get(&name).is_none() {
        let mut set =
            IpSet { name: name.clone(), kind: "hash:ip,port", comment: "", members: Vec::new(), maxelem: 1_048_576 };
        for p in workloads(cluster) {
            let own = p.namespace == np.namespace && np.pod_selector.matches(&p.labels);
            if !egress && !own {
                continue;
            }
            if let (Some(ip), Some(n)) = (p.ip, p.named_port(port, proto)) {
                set.add(Member::IpPort(ip, proto.name().to_owned(), n));
            }
        }
        sets.sets.push(set);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peers_ipset_is_named_by_its_selectors_hash() {
        let sel = Sel::And(vec![
            Sel::Has("projectcalico.org/namespace".into()),
            Sel::And(vec![
                Sel::Eq("projectcalico.org/orchestrator".into(), "k8s".into()),
                Sel::Eq("role".into(), "friend".into()),
            ]),
        ]);
        assert_eq!(
            sel.canonical(),
            r#"(has(projectcalico.org/namespace) && (projectcalico.org/orchestrator == "k8s" && role == "friend"))"#
        );
        assert_eq!(sel.set_name(), "cali40s:F7Hh3pXbBur18RjnU97dpjz");
    }
}
