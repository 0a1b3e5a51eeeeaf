//! The cluster-wide policies of `policy.networking.k8s.io` as the cluster
//! holds them: ClusterNetworkPolicy (v1alpha2) and the v1alpha1
//! AdminNetworkPolicy and BaselineAdminNetworkPolicy, read as their
//! ClusterNetworkPolicy equivalents (tier Admin or Baseline, `Allow` as
//! `Accept`); `kubectl get` of each kind with the CRDs' printer columns;
//! what the API server refuses in them; and which plugin of this cluster
//! enforces which kind.
//!
//! podpath does not evaluate them yet: a connection's verdict leaves them
//! out, and each object says so, with whether the cluster's plugin would
//! enforce it (Calico v3.30 enforces the v1alpha1 kinds; ClusterNetworkPolicy
//! from Calico v3.32 and kube-network-policies v0.9; Cilium, Flannel, Weave
//! and kind's kindnetd none).

use serde_json::{json, Value};

pub use crate::cluster::admin::{ClusterWide, Source};
use crate::cluster::Cluster;
use crate::diag::Diagnostic;
use crate::kubectl::table;

/// The kinds, with kubectl's names for them (the CRDs' short names).
pub const KINDS: &[(&str, &[&str])] = &[
    ("clusternetworkpolicies", &["clusternetworkpolicies", "clusternetworkpolicy", "cnp"]),
    ("adminnetworkpolicies", &["adminnetworkpolicies", "adminnetworkpolicy", "anp"]),
    ("baselineadminnetworkpolicies", &["baselineadminnetworkpolicies", "baselineadminnetworkpolicy", "banp"]),
];

/// The API group.
pub const GROUP: &str = "policy.networking.k8s.io";

/// Whether the cluster's plugin enforces this kind, and what to say.
fn enforcement(cluster: &Cluster, source: Source) -> (bool, String) {
    let e = crate::policy::Enforcement::of_settings(&cluster.settings);
    let (version, kinds) = e.cluster_policies;
    if kinds.contains(&source.kind()) {
        return (true, format!("{version} enforces {}", source.kind()));
    }
    let others =
        if kinds.is_empty() { String::new() } else { format!(" ({version} enforces {})", kinds.join(" and ")) };
    let who = if version.is_empty() { e.cni.as_str().to_owned() } else { version.to_owned() };
    let later = if source == Source::ClusterNetworkPolicy {
        "; Calico enforces it from v3.32, kube-network-policies from v0.9"
    } else {
        ""
    };
    (false, format!("{who} does not enforce {}{others}{later}", source.kind()))
}

/// What the API server refuses in them, and what each one does here.
pub fn diagnostics(cluster: &Cluster, policies: &[ClusterWide]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in policies {
        let who = format!("{} {}", p.source.kind().to_ascii_lowercase(), p.name);
        let reject = |field: &str, what: String| {
            Diagnostic::rejected(p.origin.clone(), format!("{who}: {field}: {what}")).at_field(field)
        };
        let spec = &p.object.spec;
        if p.source == Source::ClusterNetworkPolicy && !matches!(p.tier.as_str(), "Admin" | "Baseline") {
            let what = if p.tier.is_empty() {
                "Required value".to_owned()
            } else {
                format!("Unsupported value: \"{}\": supported values: \"Admin\", \"Baseline\"", p.tier)
            };
            out.push(reject("spec.tier", what));
        }
        match (p.source, spec.priority) {
            (Source::BaselineAdminNetworkPolicy, _) => {}
            (_, None) => out.push(reject("spec.priority", "Required value".into())),
            (_, Some(n)) if !(0..=1000).contains(&n) => {
                let bound = if n < 0 { "greater than or equal to 0" } else { "less than or equal to 1000" };
                out.push(reject(
                    "spec.priority",
                    format!("Invalid value: {n}: spec.priority in body should be {bound}"),
                ));
            }
            _ => {}
        }
        // The CRD's minProperties and maxProperties of 1.
        match (spec.subject.namespaces.is_some(), spec.subject.pods.is_some()) {
            (true, true) => out.push(reject(
                "spec.subject",
                "Invalid value: \"object\": spec.subject in body should have at most 1 properties".into(),
            )),
            (false, false) => out.push(reject(
                "spec.subject",
                "Invalid value: \"object\": spec.subject in body should have at least 1 properties".into(),
            )),
            _ => {}
        }
        if p.source == Source::BaselineAdminNetworkPolicy && p.name != "default" {
            out.push(reject(
                "metadata.name",
                "Invalid value: \"object\": Only one baseline admin network policy with metadata.name=\"default\" can be created in the cluster".into(),
            ));
        }
        let actions: &[&str] = match p.source {
            Source::ClusterNetworkPolicy => &["Accept", "Deny", "Pass"],
            Source::AdminNetworkPolicy => &["Allow", "Deny", "Pass"],
            Source::BaselineAdminNetworkPolicy => &["Allow", "Deny"],
        };
        for (dir, rules) in [("ingress", &spec.ingress), ("egress", &spec.egress)] {
            for (i, r) in rules.iter().enumerate() {
                if !actions.contains(&r.action.as_str()) {
                    let list = actions.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
                    out.push(reject(
                        &format!("spec.{dir}[{i}].action"),
                        format!("Unsupported value: \"{}\": supported values: {list}", r.action),
                    ));
                }
            }
        }
        let (enforced, why) = enforcement(cluster, p.source);
        let message = if enforced {
            let when = if p.tier == "Baseline" {
                "after the NetworkPolicies, for the pods none of them selects"
            } else {
                "before any NetworkPolicy"
            };
            format!("{who}: {why}, {when}; podpath does not evaluate it yet, so the verdicts shown here leave it out")
        } else {
            format!("{who}: {why}: it has no effect on this cluster")
        };
        out.push(Diagnostic::warning(p.origin.clone(), message));
    }
    out
}

/// `(name)` of each object of `kind`, in kubectl's order.
pub fn names<'c>(cluster: &'c Cluster, kind: &str, only: Option<&str>) -> Vec<&'c ClusterWide> {
    let mut v: Vec<&ClusterWide> = cluster
        .cluster_policies
        .iter()
        .filter(|p| p.source.plural() == kind && only.is_none_or(|o| o == p.name))
        .collect();
    crate::order::sort_by(&mut v, |a, b| a.name.cmp(&b.name));
    v
}

/// The table `kubectl get KIND` prints: the CRDs' printer columns
/// (ClusterNetworkPolicy TIER, PRIORITY, AGE; AdminNetworkPolicy PRIORITY,
/// AGE; BaselineAdminNetworkPolicy AGE).
pub fn table_of(cluster: &Cluster, kind: &str, only: Option<&str>) -> String {
    let header: Vec<&str> = match kind {
        "clusternetworkpolicies" => vec!["NAME", "TIER", "PRIORITY", "AGE"],
        "adminnetworkpolicies" => vec!["NAME", "PRIORITY", "AGE"],
        _ => vec!["NAME", "AGE"],
    };
    let mut rows = vec![header.into_iter().map(str::to_owned).collect::<Vec<_>>()];
    for p in names(cluster, kind, only) {
        let priority = p.priority.map_or_else(String::new, |n| n.to_string());
        rows.push(match kind {
            "clusternetworkpolicies" => vec![p.name.clone(), p.tier.clone(), priority, "<unknown>".into()],
            "adminnetworkpolicies" => vec![p.name.clone(), priority, "<unknown>".into()],
            _ => vec![p.name.clone(), "<unknown>".into()],
        });
    }
    table(&rows)
}

/// The objects of `kind` as a `List`.
pub fn list(cluster: &Cluster, kind: &str, only: Option<&str>) -> Value {
    let items = names(cluster, kind, only)
        .into_iter()
        .map(|p| {
            let mut meta = json!({"name": p.name, "generation": 1});
            for key in ["labels", "annotations"] {
                if let Some(v) = p.object.raw["metadata"].get(key).filter(|v| v.is_object()) {
                    meta[key] = v.clone();
                }
            }
            json!({"apiVersion": format!("{GROUP}/{}", p.source.version()), "kind": p.source.kind(),
                   "metadata": meta, "spec": p.object.raw["spec"].clone()})
        })
        .collect();
    crate::kubectl::list(items)
}

/// Whether `kind` is one of these kinds.
pub fn is_kind(kind: &str) -> bool {
    KINDS.iter().any(|(k, _)| *k == kind)
}
