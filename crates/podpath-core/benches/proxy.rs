//! Every service-proxy mode on 1,000 Services with 10 endpoints each
//! across 100 nodes: building one node's state, printing it as the real
//! tool does, and one trace through it once the cluster is built (its
//! nodes' state is built on first use and kept with the cluster, as the
//! CLI, the shell and the page share it); in iptables mode also a trace by
//! name, its DNS lookup traced first, and one CoreDNS answer.

use criterion::{criterion_group, criterion_main, Criterion};
use podpath_core::proxy::Dataplane;
use podpath_core::trace::{trace, From, Request, To};
use podpath_core::{simulate_with, Cni, Overrides, ProxyMode, Source};

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
    let text = scenario();
    for mode in [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs, ProxyMode::Ebpf] {
        let cni = (mode == ProxyMode::Ebpf).then_some(Cni::Cilium);
        let overrides = Overrides { proxy_mode: Some(mode), cni, ..Overrides::default() };
        let (cluster, diags) = simulate_with(&[Source::new("bench.yaml", text.clone())], &overrides);
        assert!(diags.iter().all(|d| !d.is_error()), "{:?}", diags.first());
        let node = cluster.nodes[1].name.clone();
        let dataplane = Dataplane::build(&cluster, &node, mode);
        assert!(dataplane.render().lines().count() > 10_000, "{mode}: a full dump");
        let from =
            cluster.pods.iter().find(|p| p.namespace == "bench" && p.node.as_deref() == Some(node.as_str())).unwrap();
        let svc = cluster.service("bench", "app-500").unwrap();
        let podpath_core::cluster::ClusterIp::Ip(ip) = svc.cluster_ip else { unreachable!() };
        let req = Request {
            from: From::Pod { namespace: from.namespace.clone(), name: from.name.clone() },
            to: To::Ip(ip),
            port: 80,
            protocol: podpath_core::cluster::Protocol::Tcp,
            node: None,
            seed: 1,
        };
        assert_eq!(trace(&cluster, &req).unwrap().service.candidates.len(), 10, "{mode}");
        let mut group = c.benchmark_group(mode.as_str());
        group.sample_size(10);
        group.bench_function("build, 1000 services x 10 endpoints", |b| {
            b.iter(|| Dataplane::build(&cluster, &node, mode))
        });
        group.bench_function("render", |b| b.iter(|| dataplane.render()));
        group.bench_function("one trace", |b| b.iter(|| trace(&cluster, &req).unwrap()));
        if mode == ProxyMode::Iptables {
            // By name: the DNS query traced to CoreDNS first, then the
            // connection; and CoreDNS's answer alone, among 1,000 Services.
            let by_name = Request { to: To::Name("app-500".into()), ..req.clone() };
            assert!(trace(&cluster, &by_name).unwrap().dns.is_some());
            group.bench_function("dns: a trace by name (lookup on the wire included)", |b| {
                b.iter(|| trace(&cluster, &by_name).unwrap())
            });
            group.bench_function("dns: one answer", |b| {
                let dns = podpath_core::dns::Dns::of(&cluster);
                b.iter(|| dns.answer(&cluster, "app-500.bench.svc.cluster.local.", podpath_core::dns::RType::A))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
