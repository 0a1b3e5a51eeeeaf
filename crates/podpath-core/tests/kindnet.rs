//! kindnet, kind's own CNI plugin, as kind v0.25–v0.27 ship it. Each test
//! quotes the upstream source it follows:
//! - containernetworking/plugins `plugins/main/ptp/ptp.go` (v1.6.1), the
//!   plugin kindnet's CNI configuration chains (kind
//!   `images/kindnetd/cmd/kindnetd/cni.go`);
//! - kind `images/kindnetd/cmd/kindnetd/routes.go` and `masq.go`;
//! - kubernetes-sigs/kube-network-policies `pkg/networkpolicy`, embedded in
//!   kindnetd with `QueueID: 101`, `FailOpen: true`, `NetfilterBug1766Fix:
//!   true` and `NFTableName: "kindnet-network-policies"` (kind `main.go`).

use std::path::Path;

use podpath_core::cluster::{ClusterIp, Protocol};
use podpath_core::shell::Shell;
use podpath_core::step::Action;
use podpath_core::trace::{trace, From, Request, To, Trace, Verdict};
use podpath_core::{simulate_with, Cluster, Cni, Overrides, Pod, Source};

fn shop(extra: &str) -> Cluster {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/scenarios/shop.yaml");
    let text = std::fs::read_to_string(file).unwrap() + extra;
    let (c, diags) = simulate_with(
        &[Source::new("shop.yaml", text)],
        &Overrides { cni: Some(Cni::Kindnet), ..Overrides::default() },
    );
    assert!(!diags.iter().any(|d| d.is_error()), "{diags:?}");
    c
}

fn pod<'a>(c: &'a Cluster, prefix: &str, node: Option<&str>, not_node: Option<&str>) -> &'a Pod {
    c.pods
        .iter()
        .find(|p| {
            p.name.starts_with(prefix)
                && node.is_none_or(|n| p.node.as_deref() == Some(n))
                && not_node.is_none_or(|n| p.node.as_deref() != Some(n))
        })
        .unwrap_or_else(|| panic!("no pod {prefix}"))
}

fn from(p: &Pod) -> From {
    From::Pod { namespace: p.namespace.clone(), name: p.name.clone() }
}

fn to(p: &Pod) -> To {
    To::Pod { namespace: p.namespace.clone(), name: p.name.clone() }
}

fn run(c: &Cluster, from: From, to: To, port: u16, protocol: Protocol) -> Trace {
    trace(c, &Request { from, to, port, protocol, node: None, seed: 1 }).unwrap()
}

fn on_node(c: &Cluster, node: &str, cmd: &str) -> String {
    let mut shell = Shell::new();
    assert_eq!(shell.run(c, &format!("kubectl debug node/{node} -it --image=busybox")).status, 0);
    shell.run(c, cmd).text
}

/// ptp's `setupContainerVeth`: the kernel's subnet route is replaced by
/// a /32 to the gateway (`SCOPE_LINK`, the pod's address as `src`) and the
/// subnet via the gateway; host-local's default route via the gateway.
/// `setupHostVeth`: the gateway as a /32 on the host end, and
/// `ip.AddHostRoute` to the pod (`SCOPE_HOST`). No bridge: each pod is its
/// own link. routes.go: each other node's podCIDR via its InternalIP.
#[test]
fn each_pod_has_a_point_to_point_veth_with_its_gateway_on_the_host_end() {
    let c = shop("");
    let net = c.network();
    let db = pod(&c, "db-0", None, None);
    let node = db.node.clone().unwrap();
    let n = net.node(&node).unwrap();
    let ip = db.ip.unwrap();
    let gw = c.node(&node).unwrap().network.gateway.unwrap();
    let range = c.node(&node).unwrap().network.pod_ranges[0];
    assert_eq!(gw.to_string(), format!("{}", range.hosts().next().unwrap()), "host-local claims .1");

    let inside = n.pods[&db.key()].ip_route();
    assert_eq!(
        inside,
        format!(
            "default via {gw} dev eth0 \n{range} via {gw} dev eth0 src {ip} \n{gw} dev eth0 scope link src {ip} \n"
        )
        .replace(" \n", "\n")
    );

    let veth = &n.pod_veth[&db.key()];
    let host_end = n.host.link(veth).unwrap();
    assert!(veth.starts_with("veth") && veth.len() == 12, "{veth}");
    assert_eq!(host_end.addrs.iter().map(ToString::to_string).collect::<Vec<_>>(), [format!("{gw}/32")]);
    assert!(host_end.master.is_none(), "no bridge");
    let routes = n.host.ip_route();
    assert!(routes.contains(&format!("{ip} dev {veth} scope host\n")), "{routes}");
    for other in c.nodes.iter().filter(|o| o.name != node) {
        let line = format!("{} via {} dev eth0\n", other.network.pod_ranges[0], other.internal_ip.unwrap());
        assert!(routes.contains(&line), "{routes}");
    }
    let kinds: Vec<&str> = n.host.links.iter().map(|l| l.name.as_str()).filter(|l| !l.starts_with("veth")).collect();
    assert_eq!(kinds, ["lo", "eth0"], "no bridge, no tunnel device");
}

/// No overlay: two router hops (the client's node, the server's), so a
/// pod on another node sees TTL 62, and no outer header anywhere.
#[test]
fn across_nodes_the_packet_is_routed_as_it_is() {
    let c = shop("");
    let client = pod(&c, "frontend-", None, None);
    let server = pod(&c, "api-", None, client.node.as_deref());
    let t = run(&c, from(client), to(server), 8080, Protocol::Tcp);
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    assert_eq!(t.hops.last().unwrap().packet.ttl, 62);
    assert!(t.hops.iter().chain(&t.reply).all(|h| h.packet.outer.is_none()));
    let via = format!("{} via ", c.node(server.node.as_deref().unwrap()).unwrap().network.pod_ranges[0]);
    assert!(t.hops.iter().any(|h| h.rule.as_deref().is_some_and(|r| r.starts_with(&via))), "{t}");
}

/// masq.go: `-A POSTROUTING -m addrtype ! --dst-type LOCAL … -j
/// KIND-MASQ-AGENT`, `-A KIND-MASQ-AGENT -d POD_SUBNET … -j RETURN`, then
/// `-j MASQUERADE`, with its comments; appended after kube-proxy's jump.
#[test]
fn traffic_leaving_the_pod_subnet_is_masqueraded_by_the_masq_agent() {
    let c = shop("");
    let client = pod(&c, "frontend-", None, None);
    let node = client.node.clone().unwrap();
    let node_ip = c.node(&node).unwrap().internal_ip.unwrap();
    let t = run(&c, from(client), To::Ip("93.184.216.34".parse().unwrap()), 443, Protocol::Tcp);
    assert_eq!(t.verdict, Verdict::Delivered);
    let snat = t.hops.iter().find(|h| h.action == Action::Snat).expect("a masquerade hop");
    assert_eq!(snat.at.to_string(), "nat KIND-MASQ-AGENT");
    assert_eq!(snat.packet.src, node_ip);
    assert_eq!(
        snat.rule.as_deref(),
        Some("-A KIND-MASQ-AGENT -m comment --comment \"kind-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)\" -j MASQUERADE")
    );
    assert!(!t.service.snat, "the service proxy did not mark it");
    // Pod to pod stays inside the pod subnet: RETURN, no masquerade.
    let server = pod(&c, "api-", None, Some(&node));
    let t = run(&c, from(client), to(server), 8080, Protocol::Tcp);
    assert!(t.hops.iter().all(|h| h.action != Action::Snat), "{t}");
    assert_eq!(t.hops.last().unwrap().packet.src, client.ip.unwrap());

    let nat = on_node(&c, &node, "iptables-save -t nat");
    let lines: Vec<&str> = nat.lines().collect();
    let kube = lines
        .iter()
        .position(|l| l.starts_with("-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\""));
    let masq = lines.iter().position(|l| l.starts_with("-A POSTROUTING -m addrtype ! --dst-type LOCAL"));
    assert!(kube.unwrap() < masq.unwrap(), "{nat}");
    assert!(nat.contains(":KIND-MASQ-AGENT - [0:0]\n"), "{nat}");
    assert!(nat.contains("-A KIND-MASQ-AGENT -d 10.244.0.0/16 -m comment --comment \"kind-masq-agent: local traffic is not subject to MASQUERADE\" -j RETURN\n"), "{nat}");
}

const DB_ONLY_API: &str = "---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-only-api, namespace: shop}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app.kubernetes.io/name: api}}}]
";

/// kube-network-policies' table: the set `podips-v4` holds the node's own
/// pods that a NetworkPolicy selects ("Local V4 Pod IPs with Network
/// Policies"); postrouting at `srcnat - 5` accepts DNS (handled in
/// prerouting at `dstnat + 5`), the node's root processes and established
/// connections, then queues to 101 with `bypass` (FailOpen).
#[test]
fn kindnetd_queues_the_connections_of_local_pods_that_a_policy_selects() {
    let c = shop(DB_ONLY_API);
    let db = pod(&c, "db-0", None, None);
    let node = db.node.clone().unwrap();
    let ruleset = on_node(&c, &node, "nft list ruleset");
    let table = ruleset.split("table inet kindnet-network-policies {").nth(1).expect("kindnetd's table");
    assert!(table.contains(&format!("\t\telements = {{ {} }}\n", db.ip.unwrap())), "{table}");
    assert!(table.contains("\t\ttype filter hook postrouting priority srcnat - 5; policy accept;\n"));
    assert!(table.contains("\t\ttype filter hook prerouting priority dstnat + 5; policy accept;\n"));
    assert!(table.contains("\t\tmeta skuid 0 accept\n\t\tct state established,related accept\n"));
    assert!(table.contains(
        "\t\tip saddr @podips-v4 queue flags bypass to 101 comment \"process IPv4 traffic with network policy enforcement\"\n"
    ));
    assert_eq!(
        on_node(&c, &node, "nft list table inet kindnet-network-policies"),
        format!("table inet kindnet-network-policies {{{table}")
    );
    // Another node has no selected pod: an empty set.
    let other = c.nodes.iter().find(|n| n.name != node).unwrap();
    let elsewhere = on_node(&c, &other.name, "nft list ruleset");
    assert!(!elsewhere.contains("elements"), "{elsewhere}");
}

/// `evaluatePacket` judges the source pod's egress and the destination
/// pod's ingress wherever the packet is queued: a client that a policy
/// selects is queued on its own node, so a connection the server's
/// ingress refuses is dropped there, before it crosses to the server's
/// node; a client no policy selects is queued only on the server's node.
#[test]
fn a_refused_connection_is_dropped_on_the_first_node_that_queues_it() {
    let frontend_egress = "---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: frontend-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: frontend}}
  policyTypes: [Egress]
  egress: [{}]
";
    for (extra, dropped_on_client) in
        [(DB_ONLY_API.to_owned(), false), (format!("{DB_ONLY_API}{frontend_egress}"), true)]
    {
        let c = shop(&extra);
        let db = pod(&c, "db-0", None, None);
        let client = pod(&c, "frontend-", None, db.node.as_deref());
        let t = run(&c, from(client), to(db), 5432, Protocol::Tcp);
        assert_eq!(t.verdict, Verdict::Dropped, "{}", t.reason);
        let last = t.hops.last().unwrap();
        assert_eq!(last.action, Action::PolicyDenied);
        assert_eq!(last.at.to_string(), "inet kindnet-network-policies postrouting (kindnetd)");
        let expected = if dropped_on_client { &client.node } else { &db.node };
        assert_eq!(&last.node, expected, "{t}");
        assert!(last.detail.starts_with("queued to kindnetd, which judges it: shop/db-0 is isolated for ingress"));
        let queued_by = if dropped_on_client { "saddr" } else { "daddr" };
        assert!(last.rule.as_deref().unwrap().starts_with(&format!("ip {queued_by} @podips-v4 queue")), "{last:?}");
    }
}

/// "Don't process traffic generated from the root user in the Node, it
/// can block kubelet probes" (`meta skuid 0 accept`): the node reaches its
/// own pods whatever their policies say.
#[test]
fn the_nodes_own_traffic_is_never_queued() {
    let deny_all = "---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
";
    let c = shop(deny_all);
    let db = pod(&c, "db-0", None, None);
    let node = db.node.clone().unwrap();
    let t = run(&c, From::Node(node), to(db), 5432, Protocol::Tcp);
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    assert!(t.hops.iter().all(|h| !h.at.to_string().starts_with("inet kindnet")), "{t}");
}

/// DNS over UDP is queued in prerouting, after kube-proxy's DNAT has
/// turned the kube-dns ClusterIP into a CoreDNS pod ("process IPv4 traffic
/// destined to a DNS server with network policy enforcement"); a
/// default-deny egress policy that forgets DNS drops it there.
#[test]
fn dns_is_judged_in_prerouting_after_the_service_dnat() {
    let deny_egress = "---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: shop}
spec: {podSelector: {}, policyTypes: [Egress]}
";
    let c = shop(deny_egress);
    let client = pod(&c, "frontend-", None, None);
    let ClusterIp::Ip(dns) = c.service("kube-system", "kube-dns").unwrap().cluster_ip else { panic!() };
    let t = run(&c, from(client), To::Ip(dns), 53, Protocol::Udp);
    assert_eq!(t.verdict, Verdict::Dropped, "{}", t.reason);
    let last = t.hops.last().unwrap();
    assert_eq!(last.at.to_string(), "inet kindnet-network-policies prerouting (kindnetd)");
    assert_eq!(
        last.rule.as_deref(),
        Some("ip saddr @podips-v4 udp dport 53 queue flags bypass to 101 comment \"process IPv4 traffic destined to a DNS server with network policy enforcement\"")
    );
    let dnat = t.hops.iter().position(|h| h.action == Action::Dnat).expect("kube-proxy's DNAT");
    assert!(dnat < t.hops.len() - 1, "judged after the DNAT");
}
