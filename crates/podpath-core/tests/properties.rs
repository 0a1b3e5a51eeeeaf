//! Properties that hold for every input: loading and building never panic,
//! and the same input always gives the same cluster.

use podpath_core::{simulate, Source};
use proptest::prelude::*;

/// Lines that real manifests are made of, including wrong ones, so that the
/// generator reaches deep into the loader and the controllers rather than
/// stopping at the first syntax error.
const LINES: &[&str] = &[
    "---",
    "apiVersion: v1",
    "apiVersion: apps/v1",
    "apiVersion: discovery.k8s.io/v1",
    "apiVersion: podpath.dev/v1alpha1",
    "kind: Pod",
    "kind: Service",
    "kind: Deployment",
    "kind: StatefulSet",
    "kind: DaemonSet",
    "kind: Node",
    "kind: Cluster",
    "kind: List",
    "kind: EndpointSlice",
    "metadata: {name: a, labels: {app: a}}",
    "metadata: {name: b, namespace: x}",
    "metadata:",
    "  name: c",
    "spec:",
    "  replicas: 3",
    "  replicas: -1",
    "  selector: {matchLabels: {app: a}}",
    "  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 80}]}]}}",
    "  containers: [{name: c, image: i}]",
    "  nodeName: kind-worker",
    "  nodes: 2",
    "  cni: calico",
    "  cni: weave",
    "  cni: cilium",
    "  proxyMode: ebpf",
    "  clusterCIDR: 10.9.0.0/30",
    "  type: LoadBalancer",
    "  clusterIP: None",
    "  ports: [{port: 80, targetPort: http}]",
    "  selector: {app: a}",
    "  podCIDR: 10.244.9.0/24",
    "items:",
    "- apiVersion: v1",
    "  kind: Namespace",
    "addressType: IPv4",
    "endpoints: [{addresses: [1.2.3.4]}]",
    "  tolerations: [{operator: Exists}]",
    "a: &x [1, 2]",
    "b: *x",
    "\t- tab",
    "[unclosed",
    "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"j\"}}",
];

fn manifest() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        8 => prop::sample::select(LINES).prop_map(str::to_owned),
        1 => "\\PC{0,40}",
    ];
    prop::collection::vec(line, 0..40).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_input_gives_a_cluster_and_the_same_one_twice(text in manifest()) {
        let a = simulate(&[Source::new("p.yaml", text.clone())]);
        let b = simulate(&[Source::new("p.yaml", text)]);
        prop_assert_eq!(a, b);
    }
}
