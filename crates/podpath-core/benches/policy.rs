//! The full NetworkPolicy matrix of 5,000 pods under 1,000 policies.

use criterion::{criterion_group, criterion_main, Criterion};
use podpath_core::cluster::Protocol;
use podpath_core::policy::matrix::matrix;
use podpath_core::policy::Engine;
use podpath_core::{simulate, Source};

#[path = "policy_scenario.rs"]
mod policy_scenario;

fn bench(c: &mut Criterion) {
    let (cluster, diags) = simulate(&[Source::new("policy-bench.yaml", policy_scenario::scenario())]);
    assert!(diags.iter().all(|d| !d.is_error()), "{:?}", diags.iter().find(|d| d.is_error()));
    let user = cluster.pods.iter().filter(|p| p.namespace.starts_with("ns-")).count();
    assert_eq!(user, 5_000);
    assert_eq!(cluster.network_policies.len(), 1_000);
    let engine = Engine::new(&cluster);
    let m = matrix(&engine, 80, Protocol::Tcp, None);
    let blocked = m.allowed.iter().flatten().filter(|a| !**a).count();
    assert!(blocked > 1_000_000, "the policies block something: {blocked}");
    eprintln!("{} pods in {} classes, {blocked} blocked pairs", m.pods.len(), m.classes);
    let mut group = c.benchmark_group("policy");
    group.sample_size(10);
    group.bench_function("matrix 5000 pods x 1000 policies", |b| b.iter(|| matrix(&engine, 80, Protocol::Tcp, None)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
