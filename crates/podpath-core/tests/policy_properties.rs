//! For random policies over a random cluster, the matrix (computed per
//! class of indistinguishable pods) says exactly what pairwise traces say:
//! a cell is true if and only if a trace from that pod to that pod, on
//! that port, is delivered.

use podpath_core::cluster::Protocol;
use podpath_core::policy::matrix::matrix;
use podpath_core::policy::Engine;
use podpath_core::trace::{trace, From, Request, To, Verdict};
use podpath_core::{simulate, Source};
use proptest::prelude::*;

const NAMESPACES: [&str; 3] = ["x", "y", "z"];

fn labels() -> impl Strategy<Value = String> {
    (prop::sample::select(vec!["", "app: a", "app: b"]), prop::sample::select(vec!["", "tier: web", "tier: db"]))
        .prop_map(|(a, b)| [a, b].iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(", "))
}

fn selector() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "{}",
        "{matchLabels: {app: a}}",
        "{matchLabels: {tier: db}}",
        "{matchExpressions: [{key: app, operator: In, values: [a, b]}]}",
        "{matchExpressions: [{key: tier, operator: DoesNotExist}]}",
        "{matchExpressions: [{key: app, operator: NotIn, values: [b]}]}",
    ])
    .prop_map(str::to_owned)
}

fn ns_selector() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "{}",
        "{matchLabels: {team: blue}}",
        "{matchLabels: {kubernetes.io/metadata.name: y}}",
        "{matchExpressions: [{key: team, operator: Exists}]}",
    ])
    .prop_map(str::to_owned)
}

fn peer() -> impl Strategy<Value = String> {
    prop_oneof![
        selector().prop_map(|s| format!("{{podSelector: {s}}}")),
        ns_selector().prop_map(|s| format!("{{namespaceSelector: {s}}}")),
        (selector(), ns_selector()).prop_map(|(p, n)| format!("{{podSelector: {p}, namespaceSelector: {n}}}")),
        prop::sample::select(vec![
            "{ipBlock: {cidr: 10.244.0.0/16}}",
            "{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.1.0/24]}}",
            "{ipBlock: {cidr: 192.168.0.0/16}}",
            "{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.1.0/24]}}",
        ])
        .prop_map(str::to_owned),
    ]
}

fn ports() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "[{port: 80}]",
        "[{port: 81}]",
        "[{port: 80, endPort: 81}]",
        "[{port: web}]",
        "[{port: 80, protocol: UDP}]",
        "[{protocol: TCP}]",
    ])
    .prop_map(str::to_owned)
}

fn rule(peer_key: &'static str) -> impl Strategy<Value = String> {
    (prop::option::of(prop::collection::vec(peer(), 0..3)), ports()).prop_map(move |(peers, ports)| {
        let mut parts = Vec::new();
        if let Some(p) = peers {
            parts.push(format!("{peer_key}: [{}]", p.join(", ")));
        }
        if !ports.is_empty() {
            parts.push(format!("ports: {ports}"));
        }
        format!("{{{}}}", parts.join(", "))
    })
}

fn policy(i: usize) -> impl Strategy<Value = String> {
    (
        prop::sample::select(NAMESPACES.to_vec()),
        selector(),
        prop::sample::select(vec!["", "[Ingress]", "[Egress]", "[Ingress, Egress]"]),
        prop::option::of(prop::collection::vec(rule("from"), 0..3)),
        prop::option::of(prop::collection::vec(rule("to"), 0..3)),
    )
        .prop_map(move |(ns, sel, types, ingress, egress)| {
            let mut spec = format!("  podSelector: {sel}\n");
            if !types.is_empty() {
                spec.push_str(&format!("  policyTypes: {types}\n"));
            }
            if let Some(rules) = ingress {
                spec.push_str(&format!("  ingress: [{}]\n", rules.join(", ")));
            }
            if let Some(rules) = egress {
                spec.push_str(&format!("  egress: [{}]\n", rules.join(", ")));
            }
            format!(
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: {ns}}}\nspec:\n{spec}"
            )
        })
}

fn scenario() -> impl Strategy<Value = (String, u16, &'static str)> {
    (
        prop::sample::select(vec!["calico", "cilium", "weave", "flannel"]),
        prop::collection::vec(prop::bool::ANY, 3),
        prop::collection::vec((prop::sample::select(NAMESPACES.to_vec()), labels()), 2..7),
        prop::collection::vec(0usize..1, 0..4).prop_flat_map(|v| {
            let n = v.len();
            (0..n).map(policy).collect::<Vec<_>>()
        }),
        prop::sample::select(vec![80u16, 81]),
        prop::sample::select(vec!["tcp", "udp"]),
    )
        .prop_map(|(cni, blue, pods, policies, port, proto)| {
            let mut text = format!("apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nspec: {{cni: {cni}, nodes: 2}}\n");
            for (ns, is_blue) in NAMESPACES.iter().zip(blue) {
                let team = if is_blue { "team: blue" } else { "team: red" };
                text.push_str(&format!("---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{{team}}}}}\n"));
            }
            for (i, (ns, labels)) in pods.iter().enumerate() {
                text.push_str(&format!(
                    "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: {ns}, labels: {{{labels}}}}}\nspec:\n  containers:\n  - name: c\n    image: agnhost\n    ports: [{{name: web, containerPort: {}}}]\n",
                    if i % 2 == 0 { 80 } else { 81 }
                ));
            }
            for p in policies {
                text.push_str(&p);
            }
            (text, port, proto)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_matrix_equals_pairwise_traces((text, port, proto) in scenario()) {
        let (cluster, _) = simulate(&[Source::new("random.yaml", text.clone())]);
        let engine = Engine::new(&cluster);
        let protocol = Protocol::parse(Some(&proto.to_ascii_uppercase())).unwrap();
        let m = matrix(&engine, port, protocol, None);
        let user: Vec<usize> = (0..m.pods.len())
            .filter(|i| NAMESPACES.iter().any(|ns| m.pods[*i].starts_with(&format!("{ns}/"))))
            .collect();
        for &i in &user {
            for &j in &user {
                let (sns, sname) = m.pods[i].split_once('/').unwrap();
                let (dns, dname) = m.pods[j].split_once('/').unwrap();
                let req = Request {
                    from: From::Pod { namespace: sns.into(), name: sname.into() },
                    to: To::Pod { namespace: dns.into(), name: dname.into() },
                    port,
                    protocol,
                    node: None,
                    seed: 0,
                };
                let t = trace(&cluster, &req).unwrap();
                prop_assert_eq!(
                    t.verdict == Verdict::Delivered,
                    m.allowed[i][j],
                    "{} -> {}: trace says {} ({}); matrix says {}\n{}",
                    m.pods[i], m.pods[j], t.verdict.as_str(), t.reason, m.allowed[i][j], text
                );
            }
        }
    }
}
