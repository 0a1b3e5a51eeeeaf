//! NetworkPolicy semantics, table-driven in the style of the upstream e2e
//! netpol suite: namespaces x, y and z with pods a, b and c each, serving
//! 80 and 81 over TCP, UDP and SCTP. Each case applies policies and states
//! the expected truth table as the blocked pairs; every other pair
//! connects (a pod always reaches itself).

use std::collections::BTreeSet;

use podpath_core::cluster::Protocol;
use podpath_core::policy::matrix::matrix;
use podpath_core::policy::{End, Engine, SideVerdict};
use podpath_core::{simulate_with, Cluster, Cni, Overrides, Source};

const PODS: [&str; 9] = ["x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c"];

/// The upstream layout, plus `extra` (policies, label changes).
fn cluster_with(extra: &str, cni: Cni) -> Cluster {
    let mut text = String::new();
    for ns in ["x", "y", "z"] {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{ns: {ns}}}}}\n"
        ));
        for pod in ["a", "b", "c"] {
            let mut ports = String::new();
            for proto in ["TCP", "UDP", "SCTP"] {
                for port in [80, 81] {
                    ports.push_str(&format!(
                        "      - {{name: serve-{port}-{}, containerPort: {port}, protocol: {proto}}}\n",
                        proto.to_lowercase()
                    ));
                }
            }
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {pod}, namespace: {ns}, labels: {{pod: {pod}}}}}\nspec:\n  containers:\n  - name: cont\n    image: registry.k8s.io/e2e-test-images/agnhost:2.53\n    ports:\n{ports}"
            ));
        }
    }
    text.push_str(extra);
    let overrides = Overrides { cni: Some(cni), ..Overrides::default() };
    let (c, diags) = simulate_with(&[Source::new("netpol.yaml", text)], &overrides);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    c
}

/// The blocked pairs of the matrix, as `src->dst`.
fn blocked(c: &Cluster, port: u16, protocol: Protocol) -> BTreeSet<String> {
    let engine = Engine::new(c);
    let m = matrix(&engine, port, protocol, None);
    let mut out = BTreeSet::new();
    for (i, src) in m.pods.iter().enumerate() {
        for (j, dst) in m.pods.iter().enumerate() {
            if PODS.contains(&src.as_str()) && PODS.contains(&dst.as_str()) && !m.allowed[i][j] {
                out.insert(format!("{src}->{dst}"));
            }
        }
    }
    out
}

/// Every pair from `srcs` to `dsts`, but a pod to itself.
fn pairs(srcs: &[&str], dsts: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in srcs {
        for d in dsts {
            if s != d {
                out.insert(format!("{s}->{d}"));
            }
        }
    }
    out
}

fn minus(a: BTreeSet<String>, b: BTreeSet<String>) -> BTreeSet<String> {
    a.difference(&b).cloned().collect()
}

fn policy(ns: &str, name: &str, spec: &str) -> String {
    format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{spec}")
}

#[test]
fn without_policies_everything_connects() {
    let c = cluster_with("", Cni::Calico);
    assert!(blocked(&c, 80, Protocol::Tcp).is_empty());
}

#[test]
fn default_deny_ingress() {
    let c = cluster_with(&policy("x", "deny-ingress", "  podSelector: {}\n  policyTypes: [Ingress]\n"), Cni::Calico);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), pairs(&PODS, &["x/a", "x/b", "x/c"]));
}

#[test]
fn default_deny_all_blocks_both_ways() {
    let c =
        cluster_with(&policy("x", "deny-all", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"), Cni::Calico);
    let x = ["x/a", "x/b", "x/c"];
    let want: BTreeSet<String> = pairs(&PODS, &x).union(&pairs(&x, &PODS)).cloned().collect();
    assert_eq!(blocked(&c, 80, Protocol::Tcp), want);
}

#[test]
fn allow_from_pods_of_the_server_namespace_by_pod_selector() {
    // x/a takes ingress only from x/b.
    let spec =
        "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {pod: b}}\n";
    let c = cluster_with(&policy("x", "allow-b", spec), Cni::Calico);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), minus(pairs(&PODS, &["x/a"]), pairs(&["x/b"], &["x/a"])));
}

#[test]
fn namespace_selector_with_match_expressions() {
    // x/a takes ingress from namespaces with ns in (y).
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [y]}]}\n";
    let c = cluster_with(&policy("x", "allow-ns-y", spec), Cni::Calico);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), minus(pairs(&PODS, &["x/a"]), pairs(&["y/a", "y/b", "y/c"], &["x/a"])));
}

#[test]
fn the_automatic_namespace_name_label() {
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}\n";
    let c = cluster_with(&policy("x", "allow-z", spec), Cni::Calico);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), minus(pairs(&PODS, &["x/a"]), pairs(&["z/a", "z/b", "z/c"], &["x/a"])));
}

#[test]
fn pod_and_namespace_selector_in_one_peer_is_an_and() {
    // Only pods b of namespace y.
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {ns: y}}\n      podSelector: {matchLabels: {pod: b}}\n";
    let c = cluster_with(&policy("x", "and", spec), Cni::Calico);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), minus(pairs(&PODS, &["x/a"]), pairs(&["y/b"], &["x/a"])));
}

#[test]
fn pod_and_namespace_selector_in_two_peers_is_an_or() {
    // Pods b of x, or anything of y.
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {ns: y}}\n    - podSelector: {matchLabels: {pod: b}}\n";
    let c = cluster_with(&policy("x", "or", spec), Cni::Calico);
    let allowed: BTreeSet<String> = pairs(&["y/a", "y/b", "y/c", "x/b"], &["x/a"]);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), minus(pairs(&PODS, &["x/a"]), allowed));
}

#[test]
fn an_empty_pod_selector_peer_means_every_pod_of_the_namespace() {
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - podSelector: {}\n";
    let c = cluster_with(&policy("x", "same-ns", spec), Cni::Calico);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), pairs(&["y/a", "y/b", "y/c", "z/a", "z/b", "z/c"], &["x/a"]));
}

#[test]
fn ports_by_number_name_and_range() {
    // 81 only: 80 is blocked into x/a, 81 is open.
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - ports: [{port: 81}]\n";
    let c = cluster_with(&policy("x", "port-81", spec), Cni::Calico);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), pairs(&PODS, &["x/a"]));
    assert!(blocked(&c, 81, Protocol::Tcp).is_empty());
    // A named port resolves on the server.
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - ports: [{port: serve-80-tcp}]\n";
    let c = cluster_with(&policy("x", "named", spec), Cni::Calico);
    assert!(blocked(&c, 80, Protocol::Tcp).is_empty());
    assert_eq!(blocked(&c, 81, Protocol::Tcp), pairs(&PODS, &["x/a"]));
    // endPort: 80-81 open, 82 closed.
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - ports: [{port: 80, endPort: 81}]\n";
    let c = cluster_with(&policy("x", "range", spec), Cni::Calico);
    assert!(blocked(&c, 81, Protocol::Tcp).is_empty());
    assert_eq!(blocked(&c, 82, Protocol::Tcp), pairs(&PODS, &["x/a"]));
}

#[test]
fn a_udp_only_rule_does_not_admit_tcp_or_sctp() {
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - ports: [{port: 80, protocol: UDP}]\n";
    let c = cluster_with(&policy("x", "udp", spec), Cni::Calico);
    assert!(blocked(&c, 80, Protocol::Udp).is_empty());
    assert_eq!(blocked(&c, 80, Protocol::Tcp), pairs(&PODS, &["x/a"]));
    assert_eq!(blocked(&c, 80, Protocol::Sctp), pairs(&PODS, &["x/a"]));
}

#[test]
fn stacked_policies_are_a_union() {
    let one =
        "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: b}}}]\n";
    let two =
        "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: c}}}]\n";
    let c = cluster_with(&(policy("x", "one", one) + &policy("x", "two", two)), Cni::Calico);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), minus(pairs(&PODS, &["x/a"]), pairs(&["x/b", "x/c"], &["x/a"])));
}

#[test]
fn egress_of_the_client_must_allow_too() {
    // x/a may only talk to y; the server side allows everything.
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{namespaceSelector: {matchLabels: {ns: y}}}]\n";
    let allow_all = "  podSelector: {}\n  ingress: [{}]\n";
    let c = cluster_with(&(policy("x", "egress-y", spec) + &policy("z", "allow-all", allow_all)), Cni::Calico);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), pairs(&["x/a"], &["x/b", "x/c", "z/a", "z/b", "z/c"]));
}

#[test]
fn an_empty_ingress_list_allows_nothing_and_an_empty_rule_allows_everything() {
    let deny = "  podSelector: {matchLabels: {pod: a}}\n  ingress: []\n";
    let c = cluster_with(&policy("x", "none", deny), Cni::Calico);
    assert_eq!(blocked(&c, 80, Protocol::Tcp), pairs(&PODS, &["x/a"]));
    let allow = "  podSelector: {matchLabels: {pod: a}}\n  ingress: [{}]\n";
    let c = cluster_with(&policy("x", "all", allow), Cni::Calico);
    assert!(blocked(&c, 80, Protocol::Tcp).is_empty());
}

#[test]
fn ip_blocks_match_pod_addresses_and_except_carves_out() {
    let c = cluster_with("", Cni::Calico);
    let ip = |k: &str| {
        let (ns, n) = k.split_once('/').unwrap();
        c.pod(ns, n).unwrap().ip.unwrap()
    };
    // x/a may only send to y/b's address; then to a /16 around it except
    // y/b itself.
    let spec = format!(
        "  podSelector: {{matchLabels: {{pod: a}}}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{ipBlock: {{cidr: {}/32}}}}]\n",
        ip("y/b")
    );
    let c2 = cluster_with(&policy("x", "to-yb", &spec), Cni::Calico);
    assert_eq!(blocked(&c2, 80, Protocol::Tcp), minus(pairs(&["x/a"], &PODS), pairs(&["x/a"], &["y/b"])));
    let net = ipnet::IpNet::new(ip("y/b"), 16).unwrap().trunc();
    let spec = format!(
        "  podSelector: {{matchLabels: {{pod: a}}}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{ipBlock: {{cidr: {net}, except: [{}/32]}}}}]\n",
        ip("y/b")
    );
    let c3 = cluster_with(&policy("x", "except-yb", &spec), Cni::Calico);
    assert_eq!(blocked(&c3, 80, Protocol::Tcp), pairs(&["x/a"], &["y/b"]));
    // Cilium's ipBlocks do not select pods: everything from x/a is blocked.
    let c4 = cluster_with(&policy("x", "except-yb", &spec), Cni::Cilium);
    assert_eq!(blocked(&c4, 80, Protocol::Tcp), pairs(&["x/a"], &PODS));
}

#[test]
fn a_label_added_to_a_pod_or_a_namespace_changes_the_matrix() {
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: blue}}\n      podSelector: {matchLabels: {role: client}}\n";
    let before = cluster_with(&policy("x", "blue-clients", spec), Cni::Calico);
    assert_eq!(blocked(&before, 80, Protocol::Tcp), pairs(&PODS, &["x/a"]));
    // Namespace z becomes blue and z/b a client: z/b gets in.
    let relabel = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: z, labels: {ns: z, team: blue}}\n";
    let after_ns = cluster_with(&(policy("x", "blue-clients", spec) + relabel), Cni::Calico);
    assert_eq!(blocked(&after_ns, 80, Protocol::Tcp), pairs(&PODS, &["x/a"]), "no client pod yet");
    let client = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: d, namespace: z, labels: {pod: b, role: client}}\nspec: {containers: [{name: c, image: agnhost}]}\n";
    let after_pod = cluster_with(&(policy("x", "blue-clients", spec) + relabel + client), Cni::Calico);
    let engine = Engine::new(&after_pod);
    let m = matrix(&engine, 80, Protocol::Tcp, None);
    let i = m.pods.iter().position(|p| p == "z/d").unwrap();
    let j = m.pods.iter().position(|p| p == "x/a").unwrap();
    assert!(m.allowed[i][j], "the new blue client reaches x/a");
}

#[test]
fn flannel_enforces_nothing() {
    let c =
        cluster_with(&policy("x", "deny-all", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"), Cni::Flannel);
    assert!(blocked(&c, 80, Protocol::Tcp).is_empty());
    let e = Engine::new(&c);
    let (a, b) = (c.pod("x", "a").unwrap(), c.pod("x", "b").unwrap());
    let d = e.check(End::Pod(a), End::Pod(b), 80, Protocol::Tcp);
    assert_eq!(d.ingress.verdict, SideVerdict::NotEnforced);
}

#[test]
fn denials_say_why_no_rule_matched() {
    let spec = "  podSelector: {matchLabels: {pod: b}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {ns: y}}\n    ports: [{port: 80}]\n";
    let c = cluster_with(&policy("x", "only-y", spec), Cni::Calico);
    let e = Engine::new(&c);
    let server = c.pod("x", "b").unwrap();
    let d = e.check(End::Pod(c.pod("z", "a").unwrap()), End::Pod(server), 81, Protocol::Tcp);
    assert_eq!(d.ingress.verdict, SideVerdict::Deny);
    assert_eq!(d.ingress.by, ["x/only-y"]);
    assert_eq!(
        d.ingress.reasons,
        ["x/only-y ingress[0]: z/a is not in a namespace matching ns=y; and port 81/TCP not in [80/TCP]"]
    );
    let d = e.check(End::Pod(c.pod("y", "c").unwrap()), End::Pod(server), 80, Protocol::Tcp);
    assert_eq!(d.ingress.verdict, SideVerdict::Allow);
    assert_eq!(d.ingress.rule.as_deref(), Some("x/only-y ingress[0]"));
    assert_eq!(d.egress.verdict, SideVerdict::NotIsolated);
}

#[test]
fn the_pods_own_node_always_gets_in() {
    let c = cluster_with(&policy("x", "deny", "  podSelector: {}\n  policyTypes: [Ingress]\n"), Cni::Calico);
    let e = Engine::new(&c);
    let a = c.pod("x", "a").unwrap();
    let node = c.node(a.node.as_deref().unwrap()).unwrap().internal_ip.unwrap();
    assert_eq!(e.check(End::Ip(node), End::Pod(a), 80, Protocol::Tcp).ingress.verdict, SideVerdict::Allow);
    let other = c.nodes.iter().find(|n| Some(n.name.as_str()) != a.node.as_deref()).unwrap().internal_ip.unwrap();
    assert_eq!(e.check(End::Ip(other), End::Pod(a), 80, Protocol::Tcp).ingress.verdict, SideVerdict::Deny);
}

#[test]
fn weave_net_cannot_apply_a_policy_with_a_named_port() {
    let spec = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - ports: [{port: serve-80-tcp}]\n";
    let calico = cluster_with(&policy("x", "named", spec), Cni::Calico);
    assert_eq!(blocked(&calico, 81, Protocol::Tcp), pairs(&PODS, &["x/a"]));
    let weave = cluster_with(&policy("x", "named", spec), Cni::Weave);
    assert!(blocked(&weave, 81, Protocol::Tcp).is_empty(), "the policy is not applied");
    // And weave-npc matches `port` alone, without the endPort range.
    let range = "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - ports: [{port: 80, endPort: 81}]\n";
    let weave = cluster_with(&policy("x", "range", range), Cni::Weave);
    assert!(blocked(&weave, 80, Protocol::Tcp).is_empty());
    assert_eq!(blocked(&weave, 81, Protocol::Tcp), pairs(&PODS, &["x/a"]));
}

/// A web Service in x (port 80 → container port 8080) in front of x/a's
/// replicas, and `policies`.
fn service_cluster(policies: &str, etp: &str) -> Cluster {
    let extra = format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: x}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, image: nginx, ports: [{{containerPort: 8080}}]}}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: x}}\nspec:\n  type: NodePort\n  externalTrafficPolicy: {etp}\n  selector: {{app: web}}\n  ports: [{{port: 80, targetPort: 8080, nodePort: 30080}}]\n{policies}"
    );
    cluster_with(&extra, Cni::Calico)
}

#[test]
fn policies_judge_the_packet_after_the_services_dnat() {
    use podpath_core::cluster::ClusterIp;
    use podpath_core::trace::{trace, From, Request, To, Verdict};
    let only = |port: u16| {
        policy(
            "x",
            "web",
            &format!("  podSelector: {{matchLabels: {{app: web}}}}\n  ingress:\n  - ports: [{{port: {port}}}]\n"),
        )
    };
    for (port, delivered) in [(8080, true), (80, false)] {
        let c = service_cluster(&only(port), "Cluster");
        let ClusterIp::Ip(vip) = c.service("x", "web").unwrap().cluster_ip else { panic!() };
        let req = Request {
            from: From::Pod { namespace: "y".into(), name: "b".into() },
            to: To::Ip(vip),
            port: 80,
            protocol: podpath_core::cluster::Protocol::Tcp,
            node: None,
            seed: 0,
        };
        let t = trace(&c, &req).unwrap();
        assert_eq!(t.verdict == Verdict::Delivered, delivered, "policy on port {port}: {}", t.reason);
        assert_eq!(t.destination_port, 8080, "the container port");
        let policy = t.policy.unwrap();
        assert_eq!(policy.ingress.by, ["x/web"]);
        if !delivered {
            assert_eq!(t.hops.last().unwrap().action, podpath_core::step::Action::PolicyDenied);
            assert!(
                policy.ingress.reasons[0].contains("port 8080/TCP not in [80/TCP]"),
                "{:?}",
                policy.ingress.reasons
            );
        }
    }
}

#[test]
fn a_masqueraded_node_port_hides_the_client_from_ip_blocks() {
    use podpath_core::trace::{trace, From, Request, To, Verdict};
    let allow_client = policy(
        "x",
        "from-clients",
        "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from: [{ipBlock: {cidr: 198.51.100.0/24}}]\n",
    );
    // externalTrafficPolicy Cluster: kube-proxy masquerades, so the pod sees
    // a node address, which the ipBlock does not name. A backend on the
    // node the client reached sees that node's own address, always allowed.
    let c = service_cluster(&allow_client, "Cluster");
    let mut outcomes = std::collections::BTreeSet::new();
    for seed in 0..16 {
        let entry = c.node("kind-worker").unwrap().internal_ip.unwrap();
        let req = Request {
            from: From::External,
            to: To::Ip(entry),
            port: 30080,
            protocol: podpath_core::cluster::Protocol::Tcp,
            node: None,
            seed,
        };
        let t = trace(&c, &req).unwrap();
        assert!(t.service.snat);
        let local = t.destination_node.as_deref() == Some("kind-worker");
        assert_eq!(t.verdict == Verdict::Delivered, local, "seed {seed}: {}", t.reason);
        outcomes.insert(local);
    }
    assert_eq!(outcomes.len(), 2, "both a local and a remote backend were picked");
    // externalTrafficPolicy Local keeps the client's address: allowed.
    let c = service_cluster(&allow_client, "Local");
    let web = c.pods.iter().find(|p| p.name.starts_with("web-")).unwrap();
    let entry = c.node(web.node.as_deref().unwrap()).unwrap().internal_ip.unwrap();
    let req = Request {
        from: From::External,
        to: To::Ip(entry),
        port: 30080,
        protocol: podpath_core::cluster::Protocol::Tcp,
        node: None,
        seed: 0,
    };
    let t = trace(&c, &req).unwrap();
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    assert_eq!(t.policy.unwrap().ingress.rule.as_deref(), Some("x/from-clients ingress[0]"));
}

#[test]
fn other_nodes_reach_an_isolated_pod_only_through_an_ip_block_and_not_under_cilium() {
    let allow_nodes = policy(
        "x",
        "from-nodes",
        "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{ipBlock: {cidr: 172.18.0.0/16}}]\n",
    );
    for (cni, allowed) in [(Cni::Calico, true), (Cni::Weave, true), (Cni::Cilium, false)] {
        let c = cluster_with(&allow_nodes, cni);
        let e = Engine::new(&c);
        let a = c.pod("x", "a").unwrap();
        let other = c.nodes.iter().find(|n| Some(n.name.as_str()) != a.node.as_deref()).unwrap();
        let d = e.check(End::Ip(other.internal_ip.unwrap()), End::Pod(a), 80, Protocol::Tcp);
        assert_eq!(d.ingress.verdict == SideVerdict::Allow, allowed, "{cni}: {:?}", d.ingress);
    }
}

#[test]
fn a_matrix_too_large_to_hold_says_how_to_stay_under_the_limit() {
    let yaml = "apiVersion: v1\nkind: Namespace\nmetadata: {name: big}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: big}\nspec:\n  replicas: 10001\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: nginx}]}\n";
    let (cluster, _) = podpath_core::simulate(&[podpath_core::Source::new("big.yaml", yaml)]);
    assert!(podpath_core::policy::matrix::size(&cluster, Some("big")) > podpath_core::policy::matrix::MAX_PODS);
    let e = podpath_core::policy::matrix::check_size(&cluster, Some("big")).unwrap_err();
    assert_eq!(e, "namespace big has 10001 pods; podpath computes the policy matrix for at most 10000 (pick a namespace with -n, or lower the replicas)");
    assert!(podpath_core::policy::matrix::check_size(&cluster, Some("kube-system")).is_ok());
}
