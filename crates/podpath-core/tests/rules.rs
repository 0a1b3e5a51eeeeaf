//! The service-proxy rules each node gets, per mode, as snapshots beside
//! their scenario (`scenarios/NAME.MODE.NODE.out`; `UPDATE_EXPECT=1`
//! rewrites them). The same dumps are loaded into the real tools by the
//! CLI's real_tools test.

mod common;

use std::path::Path;

use podpath_core::{proxy, simulate, Source};

#[test]
fn iptables_dumps_per_node() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let text = std::fs::read_to_string(dir.join("proxy.yaml")).unwrap();
    let (cluster, _) = simulate(&[Source::new("proxy.yaml", text)]);
    let mut failures = Vec::new();
    for node in &cluster.nodes {
        let got = proxy::iptables::build(&cluster, &node.name).save();
        let out = dir.join(format!("proxy.iptables.{}.out", node.name));
        common::check_file(&out, &got, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn endpoints_the_rules_reach_are_the_services_endpoints() {
    // Every ready endpoint of a Cluster-policy Service has its DNAT rule on
    // every node, and nothing else is a DNAT target.
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/scenarios/shop.yaml")).unwrap();
    let (cluster, _) = simulate(&[Source::new("shop.yaml", text)]);
    let svc = cluster.service("shop", "api").unwrap();
    let want: Vec<String> =
        cluster.slices_of(svc).flat_map(|s| s.endpoints.iter().map(|e| format!("{}:8080", e.addresses[0]))).collect();
    assert_eq!(want.len(), 2);
    for node in &cluster.nodes {
        let rules = proxy::iptables::build(&cluster, &node.name);
        let mut got: Vec<String> = rules
            .nat
            .rules()
            .iter()
            .filter(|r| {
                r.matches
                    .iter()
                    .any(|m| matches!(m, podpath_core::netfilter::Match::Comment(c) if c == "shop/api:http"))
            })
            .filter_map(|r| match &r.target {
                Some(podpath_core::netfilter::Target::Dnat(to)) => Some(to.clone()),
                _ => None,
            })
            .collect();
        podpath_core::order::sort(&mut got);
        let mut want = want.clone();
        podpath_core::order::sort(&mut want);
        assert_eq!(got, want, "{}", node.name);
    }
}

#[test]
fn large_clusters_drop_the_per_endpoint_comments() {
    let text = "apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nspec: {nodes: 12}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: big}\nspec:\n  replicas: 1001\n  selector: {matchLabels: {app: big}}\n  template:\n    metadata: {labels: {app: big}}\n    spec: {containers: [{name: c, image: nginx}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: big}\nspec:\n  selector: {app: big}\n  ports: [{port: 80}]\n";
    let (cluster, diags) = simulate(&[Source::new("big.yaml", text)]);
    assert!(diags.is_empty(), "{diags:?}");
    let dump = proxy::iptables::build(&cluster, "kind-worker").save();
    let sep_lines: Vec<&str> = dump.lines().filter(|l| l.starts_with("-A KUBE-SEP-")).collect();
    assert!(sep_lines.len() > 2000);
    assert!(sep_lines.iter().all(|l| !l.contains("--comment")), "{}", sep_lines[0]);
    assert!(dump.contains("-m comment --comment \"default/big cluster IP\""), "the service rules keep theirs");
}
