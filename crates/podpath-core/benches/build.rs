//! Loading and building a 10,000-object input: 5,000 Deployments with one
//! replica each and their 5,000 Services, on 60 generated nodes.

use criterion::{criterion_group, criterion_main, Criterion};
use podpath_core::{simulate, Source};

fn scenario(apps: usize) -> String {
    let mut text = String::from("apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nspec: {nodes: 60}\n");
    for i in 0..apps {
        text.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i}, namespace: ns-{ns}}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: app-{i}}}}}\n  template:\n    metadata: {{labels: {{app: app-{i}}}}}\n    spec: {{containers: [{{name: c, image: nginx, ports: [{{name: http, containerPort: 8080}}]}}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: app-{i}, namespace: ns-{ns}}}\nspec:\n  selector: {{app: app-{i}}}\n  ports: [{{port: 80, targetPort: http}}]\n",
            ns = i % 20
        ));
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = scenario(5_000);
    let source = [Source::new("big.yaml", text)];
    let (cluster, diags) = simulate(&source);
    assert!(diags.iter().all(|d| !d.is_error()), "{:?}", diags.first());
    assert!(cluster.pods.len() >= 5_000);
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.bench_function("10k objects", |b| b.iter(|| simulate(&source)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
