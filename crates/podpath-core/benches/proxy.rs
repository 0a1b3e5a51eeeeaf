//! kube-proxy's iptables rules for 1,000 Services with 10 endpoints each,
//! and one trace through them.

use criterion::{criterion_group, criterion_main, Criterion};
use podpath_core::trace::{trace, From, Request, To};
use podpath_core::{proxy, simulate, Source};

fn scenario() -> String {
    let mut text = String::from("apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nspec: {nodes: 100}\n");
    for i in 0..1_000 {
        text.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i}, namespace: bench}}\nspec:\n  replicas: 10\n  selector: {{matchLabels: {{app: app-{i}}}}}\n  template:\n    metadata: {{labels: {{app: app-{i}}}}}\n    spec: {{containers: [{{name: c, image: nginx}}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: app-{i}, namespace: bench}}\nspec:\n  selector: {{app: app-{i}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n"
        ));
    }
    text
}

fn bench(c: &mut Criterion) {
    let (cluster, diags) = simulate(&[Source::new("bench.yaml", scenario())]);
    assert!(diags.iter().all(|d| !d.is_error()), "{:?}", diags.first());
    let node = cluster.nodes[1].name.clone();
    let rules = proxy::iptables::build(&cluster, &node);
    assert!(rules.nat.rules().len() > 30_000, "{} nat rules", rules.nat.rules().len());
    let from =
        cluster.pods.iter().find(|p| p.namespace == "bench" && p.node.as_deref() == Some(node.as_str())).unwrap();
    let svc = cluster.service("bench", "app-500").unwrap();
    let podpath_core::cluster::ClusterIp::Ip(ip) = svc.cluster_ip else { unreachable!() };
    let req = Request {
        from: From::Pod { namespace: from.namespace.clone(), name: from.name.clone() },
        to: To::Ip(ip),
        port: 80,
        protocol: "tcp".into(),
        node: None,
        seed: 1,
    };
    assert_eq!(trace(&cluster, &req).unwrap().service.candidates.len(), 10);
    let mut group = c.benchmark_group("iptables");
    group.sample_size(10);
    group.bench_function("rules for 1000 services x 10 endpoints", |b| {
        b.iter(|| proxy::iptables::build(&cluster, &node))
    });
    group.bench_function("iptables-save of them", |b| b.iter(|| rules.save()));
    group.bench_function("one trace (rules included)", |b| b.iter(|| trace(&cluster, &req).unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
