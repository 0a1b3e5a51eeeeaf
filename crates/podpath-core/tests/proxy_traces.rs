//! Traces through kube-proxy's iptables rules: the verdicts, the endpoint
//! pick, masquerading, and that the candidates a trace reports are exactly
//! the endpoints the node's rules can DNAT to.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

use podpath_core::cluster::ClusterIp;
use podpath_core::netfilter::Target;
use podpath_core::trace::{trace, From, Request, To, Verdict};
use podpath_core::{proxy, simulate, Cluster, Source};

fn proxy_fixture() -> Cluster {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/proxy.yaml")).unwrap();
    simulate(&[Source::new("proxy.yaml", text)]).0
}

fn pod_on(cluster: &Cluster, node: &str) -> From {
    let p = cluster
        .pods
        .iter()
        .find(|p| {
            p.namespace == "demo"
                && p.labels.get("app").map(String::as_str) == Some("web")
                && p.node.as_deref() == Some(node)
        })
        .unwrap();
    From::Pod { namespace: p.namespace.clone(), name: p.name.clone() }
}

fn cluster_ip(cluster: &Cluster, name: &str) -> IpAddr {
    match cluster.service("demo", name).unwrap().cluster_ip {
        ClusterIp::Ip(ip) => ip,
        _ => panic!("{name} has a cluster IP"),
    }
}

fn req(from: From, to: IpAddr, port: u16, seed: u64) -> Request {
    Request { from, to: To::Ip(to), port, protocol: podpath_core::cluster::Protocol::Tcp, node: None, seed }
}

#[test]
fn cluster_ip_is_dnated_to_one_of_its_endpoints_and_every_one_gets_picked() {
    let c = proxy_fixture();
    let ip = cluster_ip(&c, "sticky");
    let mut seen = BTreeSet::new();
    for seed in 0..60 {
        let t = trace(&c, &req(pod_on(&c, "kind-worker"), ip, 80, seed)).unwrap();
        assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
        assert_eq!(t.service.frontend, "ClusterIP");
        assert_eq!(t.service.candidates.len(), 3);
        let chosen = t.service.chosen.clone().unwrap();
        assert!(t.service.candidates.contains(&chosen));
        assert_eq!(format!("{}:{}", t.destination_ip, t.destination_port), chosen);
        assert_eq!(trace(&c, &req(pod_on(&c, "kind-worker"), ip, 80, seed)).unwrap(), t, "deterministic");
        seen.insert(chosen);
    }
    assert_eq!(seen.len(), 3, "the random cascade reaches every endpoint: {seen:?}");
}

#[test]
fn a_service_without_endpoints_rejects() {
    let c = proxy_fixture();
    let t = trace(&c, &req(pod_on(&c, "kind-worker"), cluster_ip(&c, "empty"), 80, 0)).unwrap();
    assert_eq!(t.verdict, Verdict::Rejected);
    assert_eq!(t.reason, "filter KUBE-SERVICES rule \"demo/empty:http has no endpoints\" rejected it");
    assert!(t.hops.last().unwrap().rule.as_deref().unwrap().ends_with("-j REJECT --reject-with icmp-port-unreachable"));
}

#[test]
fn external_traffic_policy_local_keeps_the_client_ip_or_drops() {
    let c = proxy_fixture();
    // kind-worker2 runs two web pods: delivered there, source kept.
    let worker2 = c.node("kind-worker2").unwrap().internal_ip.unwrap();
    let t = trace(&c, &Request { node: None, ..req(From::External, worker2, 30080, 1) }).unwrap();
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    assert!(!t.service.snat);
    assert_eq!(t.hops.last().unwrap().packet.src.to_string(), "198.51.100.7");
    assert!(t.service.candidates.iter().all(|e| e.starts_with("10.244.2.")), "{:?}", t.service.candidates);
    // The control plane runs none: the NodePort drops there.
    let cp = c.node("kind-control-plane").unwrap().internal_ip.unwrap();
    let t = trace(&c, &req(From::External, cp, 30080, 1)).unwrap();
    assert_eq!(t.verdict, Verdict::Dropped);
    assert_eq!(t.reason, "filter KUBE-EXTERNAL-SERVICES rule \"demo/local:http has no local endpoints\" dropped it");
}

#[test]
fn cluster_policy_node_ports_masquerade() {
    let c = proxy_fixture();
    let svc = c.service("demo", "guarded").unwrap();
    let np = svc.ports[0].node_port.unwrap();
    let cp = c.node("kind-control-plane").unwrap().internal_ip.unwrap();
    let t = trace(&c, &req(From::External, cp, np, 2)).unwrap();
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    assert_eq!(t.service.frontend, "NodePort");
    assert!(t.service.snat, "Cluster policy masquerades external traffic");
    // MASQUERADE takes the address of the device the packet leaves by
    // (nf_nat_masquerade_ipv4: inet_select_addr of the output device):
    // towards a pod behind the tunnel that is flannel.1's 10.244.0.0/32,
    // not the node's own address — as the kernel lab shows it.
    let endpoint: IpAddr = t.service.chosen.as_deref().unwrap().rsplit_once(':').unwrap().0.parse().unwrap();
    let on_cp = c.pods.iter().any(|p| p.ip == Some(endpoint) && p.node.as_deref() == Some("kind-control-plane"));
    assert!(!on_cp, "the endpoint is on another node");
    assert_eq!(t.hops.last().unwrap().packet.src.to_string(), "10.244.0.0");
}

#[test]
fn load_balancer_source_ranges_drop_other_clients() {
    let c = proxy_fixture();
    let lb: IpAddr = "192.0.2.50".parse().unwrap();
    let allowed = trace(&c, &req(From::External, lb, 443, 0)).unwrap();
    assert_eq!(allowed.verdict, Verdict::Delivered, "{}", allowed.reason);
    let stranger: IpAddr = "192.0.2.99".parse().unwrap();
    let denied =
        trace(&c, &Request { node: Some("kind-worker".into()), ..req(From::Ip(stranger), lb, 443, 0) }).unwrap();
    assert_eq!(denied.verdict, Verdict::Dropped);
    assert!(denied.reason.contains("traffic not accepted by KUBE-FW-"), "{}", denied.reason);
}

#[test]
fn a_pod_reaching_itself_through_its_service_is_masqueraded() {
    let c = proxy_fixture();
    let ip = cluster_ip(&c, "sticky");
    let from = pod_on(&c, "kind-worker");
    let From::Pod { namespace, name } = &from else { unreachable!() };
    let me = c.pod(namespace, name).unwrap().ip.unwrap();
    let hairpin = (0..60)
        .map(|seed| trace(&c, &req(from.clone(), ip, 80, seed)).unwrap())
        .find(|t| t.destination_ip == me)
        .expect("some seed picks the pod itself");
    assert!(hairpin.service.snat);
    let gateway = c.node("kind-worker").unwrap().network.gateway.unwrap();
    assert_eq!(hairpin.hops.last().unwrap().packet.src, gateway, "the bridge's address");
}

#[test]
fn trace_candidates_are_exactly_what_the_rules_dnat_to() {
    for (file, from_node) in
        [("tests/scenarios/proxy.yaml", "kind-worker2"), ("../../web/scenarios/shop.yaml", "kind-worker")]
    {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
        let (c, _) = simulate(&[Source::new(file, text)]);
        let from = c.pods.iter().find(|p| p.node.as_deref() == Some(from_node) && !p.host_network).unwrap();
        let rules = proxy::iptables::build(&c, from_node);
        for svc in &c.services {
            let ClusterIp::Ip(ip) = svc.cluster_ip else { continue };
            for port in &svc.ports {
                let protocol = port.protocol.as_str().to_ascii_lowercase();
                let r = Request {
                    from: From::Pod { namespace: from.namespace.clone(), name: from.name.clone() },
                    to: To::Ip(ip),
                    port: port.port,
                    protocol: port.protocol,
                    node: None,
                    seed: 0,
                };
                let t = trace(&c, &r).unwrap();
                let name = if port.name.is_empty() { svc.key() } else { format!("{}:{}", svc.key(), port.name) };
                // DNAT targets of this port's endpoint chains that its
                // internal chain (SVC or SVL) can reach.
                let mut dnats: BTreeSet<String> = BTreeSet::new();
                let internal = if svc.internal_traffic_policy == podpath_core::cluster::TrafficPolicy::Local {
                    "KUBE-SVL-"
                } else {
                    "KUBE-SVC-"
                };
                let chain = proxy::iptables::port_chain(internal, &name, &protocol);
                for (_, rule) in rules.nat.rules_of(&chain) {
                    if let Some(Target::Jump(sep)) = &rule.target {
                        for (_, r2) in rules.nat.rules_of(sep) {
                            if let Some(Target::Dnat(to)) = &r2.target {
                                dnats.insert(to.clone());
                            }
                        }
                    }
                }
                let got: BTreeSet<String> = t.service.candidates.iter().cloned().collect();
                assert_eq!(got, dnats, "{file}: {name}");
            }
        }
    }
}

#[test]
fn conntrack_remembers_the_nat_and_the_reply_is_un_natted() {
    let c = proxy_fixture();
    let ip = cluster_ip(&c, "sticky");
    let t = trace(&c, &req(pod_on(&c, "kind-worker"), ip, 80, 3)).unwrap();
    let ct = t.conntrack.clone().unwrap();
    let first = &t.hops[0].packet;
    assert_eq!(ct.original, (first.src, first.sport, ip, 80));
    assert_eq!(ct.reply, (t.destination_ip, t.destination_port, first.src, first.sport));
    let line = ct.to_string();
    assert!(line.starts_with("tcp      6 120 SYN_SENT src="), "{line}");
    assert!(line.contains("[UNREPLIED]") && line.ends_with("mark=0 use=1"), "{line}");
    // The reply leaves the endpoint addressed to the client and reaches it
    // from the cluster IP.
    let back = &t.reply;
    assert_eq!(back[0].packet.src, t.destination_ip);
    let un_nat =
        back.iter().position(|h| h.action == podpath_core::step::Action::UnNat).expect("conntrack un-NATs the reply");
    // It happens on the client's node, where the request was rewritten.
    assert_eq!(back[un_nat].node, t.hops[0].node);
    let last = &back.last().unwrap().packet;
    assert_eq!((last.src, last.sport, last.dst, last.dport), (ip, 80, first.src, first.sport));
    // A rejected connection creates no entry to reply through.
    let t = trace(&c, &req(pod_on(&c, "kind-worker"), cluster_ip(&c, "empty"), 80, 0)).unwrap();
    assert!(t.conntrack.is_none() && t.reply.is_empty());
}

/// A node with two InternalIPs: both are its own, so a NodePort sent to
/// the second reaches KUBE-NODEPORTS in iptables mode (`-m addrtype
/// --dst-type LOCAL` matches every local address) and IPVS mode (it binds
/// NodePorts on every node address), while nftables mode takes NodePorts
/// on the primary address only (its `--nodeport-addresses primary`
/// default); `nodePortAddresses` picks the addresses by CIDR.
#[test]
fn a_nodeport_answers_on_a_nodes_second_address() {
    let text = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus:\n  addresses: [{type: InternalIP, address: 10.0.0.11}, {type: InternalIP, address: 10.1.0.11}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\nspec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: NodePort, selector: {app: web}, ports: [{port: 80, nodePort: 30080}]}\n";
    let to_second = |mode: &str, extra: &str| {
        let overrides =
            podpath_core::Overrides { proxy_mode: podpath_core::ProxyMode::parse(mode), ..Default::default() };
        let (c, _) =
            podpath_core::simulate_with(&[podpath_core::Source::new("np.yaml", format!("{text}{extra}"))], &overrides);
        let req = podpath_core::trace::Request {
            from: podpath_core::trace::From::External,
            to: podpath_core::trace::To::Ip("10.1.0.11".parse().unwrap()),
            port: 30080,
            protocol: podpath_core::cluster::Protocol::Tcp,
            node: None,
            seed: 0,
        };
        let t = podpath_core::trace::trace(&c, &req).unwrap();
        t.service.frontend == "NodePort" && t.service.chosen.is_some()
    };
    assert!(to_second("iptables", ""));
    assert!(to_second("ipvs", ""));
    assert!(!to_second("nftables", ""), "nftables: NodePorts on the primary address only");
    let only_first = "---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nnodePortAddresses: [10.0.0.0/24]\n";
    assert!(!to_second("iptables", only_first), "nodePortAddresses leaves the second address out");
    let both = "---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nnodePortAddresses: [10.0.0.0/8]\n";
    assert!(to_second("nftables", both));
}
