//! SIG Network's cluster-wide policies as objects: ClusterNetworkPolicy
//! (v1alpha2) and the v1alpha1 AdminNetworkPolicy and
//! BaselineAdminNetworkPolicy, with examples from network-policy-api's
//! site (user-story-2, user-story-5). They load, list with the CRDs'
//! printer columns, are refused where the CRDs refuse them, and each says
//! whether the cluster's plugin enforces it — Calico v3.30 the v1alpha1
//! kinds (from v3.29), ClusterNetworkPolicy no plugin podpath runs.

use podpath_core::{simulate, Source};

const POLICIES: &str = "\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: cluster-wide-allow-example
spec:
  tier: Admin
  priority: 30
  subject:
    namespaces: {}
  ingress:
    - action: Accept
      name: allow-monitoring-ns-ingress
      from:
      - namespaces:
          matchLabels:
            kubernetes.io/metadata.name: monitoring-ns
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: default
spec:
  tier: Baseline
  priority: 10
  subject:
    namespaces: {}
  ingress:
    - action: Deny
      from:
      - namespaces: {}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: cluster-wide-deny}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {app: web}}}
  ingress:
  - {name: deny-all, action: Deny, from: [{namespaces: {}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: baseline}
spec:
  subject: {namespaces: {}}
  egress:
  - {action: Accept, to: [{namespaces: {}}]}
";

fn lines(cni: &str) -> (podpath_core::Cluster, Vec<String>) {
    let text = format!(
        "apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {{name: t}}\nspec: {{cni: {cni}}}\n---\n{POLICIES}"
    );
    let (c, diags) = simulate(&[Source::new("p.yaml", text)]);
    (c, diags.iter().map(ToString::to_string).collect())
}

#[test]
fn cluster_wide_policies_load_list_and_say_who_enforces_them() {
    let (c, said) = lines("calico");
    assert_eq!(c.cluster_policies.len(), 4);
    let table = podpath_core::policy::admin::table_of(&c, "clusternetworkpolicies", None);
    assert_eq!(table, "NAME                         TIER       PRIORITY   AGE\ncluster-wide-allow-example   Admin      30         <unknown>\ndefault                      Baseline   10         <unknown>\n");
    for want in [
        "p.yaml:6:1: warning: clusternetworkpolicy cluster-wide-allow-example: calico v3.30 does not enforce ClusterNetworkPolicy (calico v3.30 enforces AdminNetworkPolicy and BaselineAdminNetworkPolicy); Calico enforces it from v3.32, kube-network-policies from v0.9: it has no effect on this cluster",
        "p.yaml:37:1: warning: adminnetworkpolicy cluster-wide-deny: calico v3.30 enforces AdminNetworkPolicy, before any NetworkPolicy; podpath does not evaluate it yet, so the verdicts shown here leave it out",
        // The CRD's rule: one BaselineAdminNetworkPolicy, named default.
        "p.yaml:48:12: warning: baselineadminnetworkpolicy baseline: metadata.name: Invalid value: \"object\": Only one baseline admin network policy with metadata.name=\"default\" can be created in the cluster",
        // v1alpha1 says Allow, not Accept.
        "p.yaml:52:6: warning: baselineadminnetworkpolicy baseline: spec.egress[0].action: Unsupported value: \"Accept\": supported values: \"Allow\", \"Deny\"",
    ] {
        assert!(said.iter().any(|s| s == want), "missing\n{want}\nin\n{said:#?}");
    }
    let (_, said) = lines("flannel");
    assert!(said.iter().any(|s| s.ends_with("adminnetworkpolicy cluster-wide-deny: flannel does not enforce AdminNetworkPolicy: it has no effect on this cluster")), "{said:#?}");
}
