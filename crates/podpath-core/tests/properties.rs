//! Properties that hold for every input: loading and building never panic,
//! the same input always gives the same cluster, and nothing the input
//! declares is lost without a word.
//!
//! The generator writes whole documents — namespaces, pods, workloads,
//! Services, slices, policies, nodes, the Cluster object — with fields
//! drawn from small sets (so selectors meet labels and Services find
//! endpoints), then mutates some of them (a field removed, a value of the
//! wrong type, a name the API server refuses, broken indentation), so the
//! loader, the controllers and the diagnostics are all reached.

use podpath_core::system::is_system_namespace;
use podpath_core::{simulate, Source};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

const NAMES: &[&str] = &["a", "b", "web", "db-0", "api"];
const NAMESPACES: &[&str] = &["default", "x", "shop"];
const APPS: &[&str] = &["a", "web"];

/// One well-formed document.
fn document() -> impl Strategy<Value = String> {
    let name = || prop::sample::select(NAMES);
    let ns = || prop::sample::select(NAMESPACES);
    let app = || prop::sample::select(APPS);
    let port = || prop::sample::select(&[80u16, 8080, 53, 443][..]);
    let pod = (name(), ns(), app(), port(), any::<bool>()).prop_map(|(n, ns, app, port, pinned)| {
        let node = if pinned { "\n  nodeName: kind-worker" } else { "" };
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {n}\n  namespace: {ns}\n  labels: {{app: {app}}}\nspec:{node}\n  containers:\n  - name: c\n    image: nginx\n    ports: [{{name: http, containerPort: {port}}}]"
        )
    });
    let workload = (prop::sample::select(&["Deployment", "StatefulSet", "DaemonSet"][..]), name(), ns(), app(), 0..5i32)
        .prop_map(|(kind, n, ns, app, replicas)| {
            let replicas = if kind == "DaemonSet" { String::new() } else { format!("\n  replicas: {replicas}") };
            let service = if kind == "StatefulSet" { format!("\n  serviceName: {n}") } else { String::new() };
            format!(
                "apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {n}, namespace: {ns}}}\nspec:{replicas}{service}\n  selector: {{matchLabels: {{app: {app}}}}}\n  template:\n    metadata: {{labels: {{app: {app}}}}}\n    spec:\n      containers: [{{name: c, image: nginx, ports: [{{name: http, containerPort: 8080}}]}}]"
            )
        });
    let service =
        (name(), ns(), app(), prop::sample::select(&["ClusterIP", "NodePort", "LoadBalancer", "None"][..]), port()).prop_map(
            |(n, ns, app, ty, port)| {
                let ty = if ty == "None" { "clusterIP: None".to_owned() } else { format!("type: {ty}") };
                format!(
                    "apiVersion: v1\nkind: Service\nmetadata: {{name: {n}, namespace: {ns}}}\nspec:\n  {ty}\n  selector: {{app: {app}}}\n  ports: [{{port: {port}, targetPort: http}}]"
                )
            },
        );
    let namespace = ns().prop_map(|ns| format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}"));
    let policy = (name(), ns(), app()).prop_map(|(n, ns, app)| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {n}, namespace: {ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: {app}}}}}\n  ingress: [{{from: [{{podSelector: {{}}}}], ports: [{{port: http}}]}}]"
        )
    });
    let slice = (name(), ns()).prop_map(|(n, ns)| {
        format!(
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: {n}-manual, namespace: {ns}, labels: {{kubernetes.io/service-name: {n}}}}}\naddressType: IPv4\nendpoints: [{{addresses: [10.9.9.9]}}]\nports: [{{port: 80}}]"
        )
    });
    let cluster = (
        prop::sample::select(&["calico", "flannel", "weave", "cilium"][..]),
        prop::sample::select(&["iptables", "ipvs", "nftables"][..]),
        1..4u32,
    )
        .prop_map(|(cni, mode, nodes)| {
            format!("apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {{name: p}}\nspec: {{cni: {cni}, proxyMode: {mode}, nodes: {nodes}}}")
        });
    prop_oneof![4 => pod, 4 => workload, 4 => service, 1 => namespace, 1 => policy, 1 => slice, 1 => cluster]
}

/// A document, maybe damaged in one of the ways people damage them.
fn maybe_mutated() -> impl Strategy<Value = (String, bool)> {
    (document(), 0..10u8, any::<prop::sample::Index>()).prop_map(|(doc, roll, at)| {
        let lines: Vec<&str> = doc.lines().collect();
        let i = at.index(lines.len());
        let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        match roll {
            // A line gone (a required field, a key's value).
            0 => drop(out.remove(i)),
            // A value of the wrong type.
            1 => out[i] = out[i].replacen(": ", ": [", 1),
            // Indentation broken.
            2 => out[i] = format!("   {}", out[i]),
            // A name the API server refuses.
            3 => out = out.into_iter().map(|l| l.replace("name: ", "name: Not_A_Name")).collect(),
            _ => return (doc, false),
        }
        (out.join("\n"), true)
    })
}

/// Documents after the namespaces they live in, as a real manifest set
/// has them (and sometimes not: a namespace may itself be damaged).
fn manifest() -> impl Strategy<Value = Vec<(String, bool)>> {
    (prop::collection::vec(maybe_mutated(), 0..12), any::<bool>()).prop_map(|(docs, with_namespaces)| {
        let namespaces =
            ["x", "shop"].map(|ns| (format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}"), false));
        let head = if with_namespaces { namespaces.to_vec() } else { Vec::new() };
        head.into_iter().chain(docs).collect()
    })
}

fn text(docs: &[(String, bool)]) -> String {
    docs.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>().join("\n---\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_input_gives_a_cluster_and_the_same_one_twice(docs in manifest()) {
        let text = text(&docs);
        let a = simulate(&[Source::new("p.yaml", text.clone())]);
        let b = simulate(&[Source::new("p.yaml", text)]);
        prop_assert_eq!(a, b);
    }

    /// An undamaged Pod is in the cluster, or a diagnostic says why not
    /// (a duplicate name, a namespace that does not exist…).
    #[test]
    fn no_pod_is_lost_without_a_word(docs in manifest()) {
        let (cluster, diags) = simulate(&[Source::new("p.yaml", text(&docs))]);
        for (doc, mutated) in &docs {
            if *mutated || !doc.contains("\nkind: Pod\n") {
                continue;
            }
            let field = |key: &str| doc.lines().find_map(|l| l.trim().strip_prefix(key)).unwrap_or_default().to_owned();
            let (name, ns) = (field("name: "), field("namespace: "));
            let said = diags.iter().map(ToString::to_string).any(|d| d.contains(&name) || d.contains(&ns));
            prop_assert!(
                cluster.pod(&ns, &name).is_some() || said,
                "pod {}/{} is neither in the cluster nor in a diagnostic", ns, name
            );
        }
    }
}

/// The generator reaches the controllers: most inputs give pods of their
/// own, and many a Service with endpoints (with joined random lines, as
/// before, none ever did).
#[test]
fn the_generator_writes_working_clusters() {
    let mut runner =
        TestRunner::new(Config { rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..Config::default() });
    let (mut with_pods, mut with_endpoints) = (0, 0);
    let n = 200;
    for _ in 0..n {
        let docs = manifest().new_tree(&mut runner).expect("a value").current();
        let (cluster, _) = simulate(&[Source::new("p.yaml", text(&docs))]);
        with_pods += usize::from(cluster.pods.iter().any(|p| !is_system_namespace(&p.namespace)));
        with_endpoints += usize::from(
            cluster
                .endpoint_slices
                .iter()
                .filter(|s| !is_system_namespace(&s.namespace) && s.service.as_deref() != Some("kubernetes"))
                .any(|s| s.managed_by == "endpointslice-controller.k8s.io" && s.endpoints.iter().any(|e| e.is_ready())),
        );
    }
    eprintln!("{with_pods} of {n} inputs gave pods of their own, {with_endpoints} a Service endpoints");
    assert!(with_pods * 2 > n, "{with_pods} of {n} inputs gave pods of their own");
    assert!(with_endpoints * 5 > n, "{with_endpoints} of {n} inputs gave a Service endpoints");
}
