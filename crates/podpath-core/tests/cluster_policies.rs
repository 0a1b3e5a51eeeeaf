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
        "p.yaml:37:1: warning: adminnetworkpolicy cluster-wide-deny: calico v3.30 enforces AdminNetworkPolicy, before any NetworkPolicy",
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

/// The conformance suite's houses (conformance/base): one pod per
/// namespace, serving TCP 80 and 8080.
fn house(ns: &str, pod: &str) -> String {
    format!("---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: network-policy-conformance-{ns}, labels: {{conformance-house: {ns}}}}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {pod}, namespace: network-policy-conformance-{ns}, labels: {{conformance-house: {ns}}}}}\nspec: {{containers: [{{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.43, ports: [{{containerPort: 80, name: web}}, {{containerPort: 8080, name: web-alt}}]}}]}}\n")
}

/// `from` → `to` on TCP `port`: allowed under Calico?
fn allowed(extra: &str, from: &str, to: &str, port: u16) -> bool {
    allowed_with("calico", extra, from, to, port)
}

fn allowed_with(cni: &str, extra: &str, from: &str, to: &str, port: u16) -> bool {
    let mut text =
        format!("apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {{name: t}}\nspec: {{cni: {cni}}}\n");
    for (ns, pod) in [
        ("gryffindor", "harry-potter"),
        ("ravenclaw", "luna-lovegood"),
        ("slytherin", "draco-malfoy"),
        ("hufflepuff", "cedric-diggory"),
    ] {
        text.push_str(&house(ns, pod));
    }
    text.push_str(extra);
    let (c, diags) = simulate(&[Source::new("h.yaml", text)]);
    assert!(!diags.iter().any(|d| d.is_error() || d.api_rejects), "{diags:#?}");
    let e = podpath_core::policy::Engine::new(&c);
    let pod = |k: &str| {
        let (ns, n) = k.split_once('/').unwrap();
        c.pod(&format!("network-policy-conformance-{ns}"), n).expect("the pod")
    };
    let d = e.check(
        podpath_core::policy::End::Pod(pod(from)),
        podpath_core::policy::End::Pod(pod(to)),
        port,
        podpath_core::cluster::Protocol::Tcp,
    );
    d.allowed()
}

fn anp(name: &str, priority: u32, rules: &[(&str, &str, Option<u16>)]) -> String {
    let mut s = format!("---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n  priority: {priority}\n  subject: {{namespaces: {{matchLabels: {{conformance-house: gryffindor}}}}}}\n  ingress:\n");
    for (action, from, port) in rules {
        s.push_str(&format!(
            "  - {{action: {action}, from: [{{namespaces: {{matchLabels: {{conformance-house: {from}}}}}}}]"
        ));
        if let Some(p) = port {
            s.push_str(&format!(", ports: [{{portNumber: {{protocol: TCP, port: {p}}}}}]"));
        }
        s.push_str("}\n");
    }
    s
}

/// CNPAdminTierIngressTCP, re-expressed with its v1alpha1 equivalent
/// (AdminNetworkPolicy, which Calico v3.30 enforces): the first rule that
/// matches decides — Allow, then Deny, then Pass to no NetworkPolicy (so
/// allowed) — and port-specific rules only match their port.
#[test]
fn admin_tier_first_matching_rule_decides() {
    let order = |a: &str, b: &str, c: &str| {
        anp("ingress-tcp", 3, &[(a, "ravenclaw", None), (b, "ravenclaw", None), (c, "ravenclaw", None)])
    };
    assert!(allowed(&order("Allow", "Deny", "Pass"), "ravenclaw/luna-lovegood", "gryffindor/harry-potter", 80));
    assert!(!allowed(&order("Deny", "Allow", "Pass"), "ravenclaw/luna-lovegood", "gryffindor/harry-potter", 8080));
    assert!(allowed(&order("Pass", "Deny", "Allow"), "ravenclaw/luna-lovegood", "gryffindor/harry-potter", 80));
    let ports = anp("ingress-tcp", 3, &[("Deny", "slytherin", Some(80)), ("Deny", "hufflepuff", Some(8080))]);
    assert!(!allowed(&ports, "slytherin/draco-malfoy", "gryffindor/harry-potter", 80));
    assert!(allowed(&ports, "slytherin/draco-malfoy", "gryffindor/harry-potter", 8080));
    assert!(allowed(&ports, "hufflepuff/cedric-diggory", "gryffindor/harry-potter", 80));
    assert!(!allowed(&ports, "hufflepuff/cedric-diggory", "gryffindor/harry-potter", 8080));
    // Cilium enforces NetworkPolicy but no AdminNetworkPolicy.
    assert!(allowed_with("cilium", &ports, "slytherin/draco-malfoy", "gryffindor/harry-potter", 80));
}

/// CNPAdminTierIntegration and CNPAdminTierPriorityField: an Admin Deny
/// overrides a NetworkPolicy that allows; a Pass hands the connection to
/// the NetworkPolicy; without it the Baseline Deny applies; of two Admin
/// policies the lower priority number decides.
#[test]
fn admin_then_networkpolicy_then_baseline() {
    let np = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-gress-from-to-slytherin-to-gryffindor, namespace: network-policy-conformance-gryffindor}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingress: [{from: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]}]\n";
    let banp = "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {matchLabels: {conformance-house: gryffindor}}}\n  ingress: [{action: Deny, from: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}]\n";
    let (s, g) = ("slytherin/draco-malfoy", "gryffindor/harry-potter");
    let deny = anp("pass-example", 10, &[("Deny", "slytherin", None)]);
    assert!(!allowed(&format!("{deny}{np}{banp}"), s, g, 80));
    let pass = anp("pass-example", 10, &[("Pass", "slytherin", None)]);
    assert!(allowed(&format!("{pass}{np}{banp}"), s, g, 80));
    assert!(!allowed(&format!("{pass}{banp}"), s, g, 80));
    // Without the baseline either: nothing isolates harry, allowed.
    assert!(allowed(&pass, s, g, 80));
    // Priority: 40 before 50.
    let p50 = anp("priority-50-example", 50, &[("Deny", "slytherin", None)]);
    let p40 = anp("old-priority-60-new-priority-40-example", 40, &[("Pass", "slytherin", None)]);
    let accept = "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {matchLabels: {conformance-house: gryffindor}}}\n  ingress: [{action: Allow, from: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}]\n";
    assert!(!allowed(&p50, s, g, 80));
    assert!(allowed(&format!("{p50}{p40}{accept}"), s, g, 80));
}
