//! The NetworkPolicy benchmark's cluster, shared by the criterion bench and
//! the `policy_scenario` example (which writes it out for other analyzers):
//! 100 namespaces of 5 Deployments x 10 replicas (5,000 pods) and 10
//! policies per namespace (1,000): default denies, pod and namespace
//! selectors, ipBlocks, named ports and ranges, egress with DNS.

pub const NAMESPACES: usize = 100;
pub const APPS: usize = 5;
pub const REPLICAS: usize = 10;

pub fn scenario() -> String {
    scenario_with(NAMESPACES)
}

/// The same shape with `namespaces` namespaces (50 pods and 10 policies each).
pub fn scenario_with(namespaces: usize) -> String {
    let mut t = String::from("apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nspec: {cni: calico, nodes: 60}\n");
    for n in 0..namespaces {
        let team = ["red", "blue", "green"][n % 3];
        t.push_str(&format!(
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: ns-{n}, labels: {{team: {team}, tier: t{}}}}}\n",
            n % 4
        ));
        for a in 0..APPS {
            t.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{a}, namespace: ns-{n}}}\nspec:\n  replicas: {REPLICAS}\n  selector: {{matchLabels: {{app: app-{a}}}}}\n  template:\n    metadata: {{labels: {{app: app-{a}, role: r{}}}}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n        ports: [{{name: http, containerPort: 80}}, {{name: metrics, containerPort: 9090}}]\n",
                a % 2
            ));
        }
        let policies = [
            "  podSelector: {matchLabels: {app: app-0}}\n  policyTypes: [Ingress]\n".to_owned(),
            "  podSelector: {matchLabels: {app: app-1}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: app-0}}}]\n    ports: [{port: 80}]\n".to_owned(),
            format!("  podSelector: {{matchLabels: {{app: app-2}}}}\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{team: {team}}}}}}}]\n"),
            "  podSelector: {matchLabels: {role: r1}}\n  ingress:\n  - from: [{namespaceSelector: {matchExpressions: [{key: tier, operator: In, values: [t0, t1]}]}, podSelector: {matchLabels: {role: r0}}}]\n    ports: [{port: http}]\n".to_owned(),
            "  podSelector: {matchLabels: {app: app-3}}\n  ingress:\n  - from: [{ipBlock: {cidr: 192.168.0.0/16, except: [192.168.10.0/24]}}]\n  - ports: [{port: 9000, endPort: 9100}]\n".to_owned(),
            "  podSelector: {matchLabels: {app: app-4}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n  - to: [{podSelector: {}}]\n".to_owned(),
            format!("  podSelector: {{}}\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns-{}}}}}}}]\n", (n + 1) % namespaces),
            "  podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [app-0, app-1]}]}\n  ingress:\n  - ports: [{port: metrics}]\n".to_owned(),
            "  podSelector: {matchLabels: {role: r0}}\n  policyTypes: [Ingress, Egress]\n  ingress: [{}]\n  egress:\n  - to: [{namespaceSelector: {}}]\n".to_owned(),
            "  podSelector: {matchLabels: {app: app-2}}\n  ingress:\n  - from: [{podSelector: {matchExpressions: [{key: role, operator: Exists}]}}]\n    ports: [{port: 80, protocol: TCP}]\n".to_owned(),
        ];
        for (i, spec) in policies.iter().enumerate() {
            t.push_str(&format!(
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: ns-{n}}}\nspec:\n{spec}"
            ));
        }
    }
    t
}
