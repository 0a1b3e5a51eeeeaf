//! The four service-proxy modes side by side: each node's dump per mode
//! as snapshots (`scenarios/proxy.MODE.NODE.out`; `UPDATE_EXPECT=1`
//! rewrites them; the traces per mode are fixtures in `traces/proxy-*`),
//! and the property that every mode's
//! trace candidates are exactly the endpoints its own dump can reach, and
//! the same in every kube-proxy mode except where upstream differs.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use podpath_core::cluster::{ClusterIp, TrafficPolicy};
use podpath_core::proxy::Dataplane;
use podpath_core::trace::{trace, From, Request, To, Verdict};
use podpath_core::{simulate_with, Cluster, Cni, Overrides, ProxyMode, Source};

const MODES: [ProxyMode; 4] = [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs, ProxyMode::Ebpf];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

fn load(file: &Path, mode: ProxyMode) -> Cluster {
    let text = std::fs::read_to_string(file).unwrap();
    // eBPF mode needs Cilium.
    let cni = (mode == ProxyMode::Ebpf).then_some(Cni::Cilium);
    let overrides = Overrides { proxy_mode: Some(mode), cni, ..Overrides::default() };
    simulate_with(&[Source::new(file.display().to_string(), text)], &overrides).0
}

fn fixtures() -> Vec<PathBuf> {
    vec![
        dir().join("proxy.yaml"),
        dir().join("platform.yaml"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/scenarios/shop.yaml"),
    ]
}

fn check_snapshot(path: &Path, got: &str, failures: &mut Vec<String>) {
    common::check_file(path, got, failures);
}

#[test]
fn dumps_per_mode_and_node() {
    let mut failures = Vec::new();
    for mode in [ProxyMode::Nftables, ProxyMode::Ipvs, ProxyMode::Ebpf] {
        let c = load(&dir().join("proxy.yaml"), mode);
        for node in &c.nodes {
            let dp = Dataplane::build(&c, &node.name, mode);
            let text = dp.render_view("all").unwrap();
            check_snapshot(&dir().join(format!("proxy.{mode}.{}.out", node.name)), &text, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn cluster_ip(c: &Cluster, name: &str) -> IpAddr {
    match c.service("demo", name).unwrap().cluster_ip {
        ClusterIp::Ip(ip) => ip,
        _ => panic!("{name} has a cluster IP"),
    }
}

fn web_pod_on(c: &Cluster, node: &str) -> From {
    let p = c
        .pods
        .iter()
        .find(|p| p.namespace == "demo" && p.name.starts_with("web-") && p.node.as_deref() == Some(node))
        .unwrap();
    From::Pod { namespace: p.namespace.clone(), name: p.name.clone() }
}

/// The endpoints a dump says a frontend can reach, read from the text the
/// real tool would print (not from the trace engine).
fn reachable_in_dump(dump: &str, mode: ProxyMode, addr: IpAddr, port: u16, proto: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match mode {
        ProxyMode::Nftables => {
            // @service-ips: ADDR . proto . PORT : goto CHAIN; the chain's
            // numgen (or the external chain's goto) leads to endpoint chains.
            let key = format!("{addr} . {proto} . {port} : goto ");
            let Some(start) = dump.find(&key) else { return out };
            let chain: String =
                dump[start + key.len()..].chars().take_while(|c| *c != ',' && *c != ' ' && *c != '\n').collect();
            let mut todo = vec![chain];
            let mut seen = BTreeSet::new();
            while let Some(ch) = todo.pop() {
                if !seen.insert(ch.clone()) {
                    continue;
                }
                let Some(body) = dump.split(&format!("\tchain {ch} {{\n")).nth(1) else { continue };
                let body = body.split("\n\t}").next().unwrap_or("");
                for line in body.lines() {
                    if let Some(to) = line.split("dnat to ").nth(1) {
                        out.insert(to.trim().to_owned());
                    }
                    for part in line.split("goto ").skip(1) {
                        let next: String = part.chars().take_while(|c| *c != ',' && *c != ' ' && *c != '}').collect();
                        todo.push(next);
                    }
                }
            }
        }
        ProxyMode::Ipvs => {
            let head = format!("{}  {addr}:{port} ", proto.to_ascii_uppercase());
            let mut inside = false;
            for line in dump.lines() {
                if let Some(rest) = line.strip_prefix("  -> ") {
                    if inside {
                        out.insert(rest.split_whitespace().next().unwrap().to_owned());
                    }
                } else {
                    inside = line.starts_with(&head);
                }
            }
        }
        ProxyMode::Ebpf => {
            for scope in ["/i (", " ("] {
                let key = format!("{addr}:{port}/{}{scope}", proto.to_ascii_uppercase());
                let rows: Vec<&str> = dump.lines().filter(|l| l.starts_with(&key) && !l.contains(" (0)  ")).collect();
                if rows.is_empty() {
                    continue;
                }
                for row in rows {
                    let backend = row.split_whitespace().nth(2).unwrap();
                    out.insert(backend.split('/').next().unwrap().to_owned());
                }
                break;
            }
        }
        ProxyMode::Iptables => unreachable!("iptables candidates are checked against its rules in traces.rs"),
    }
    out
}

#[test]
fn candidates_are_what_each_dump_reaches_and_agree_across_modes() {
    let mut compared = 0;
    for file in fixtures() {
        let per_mode: Vec<(ProxyMode, Cluster)> = MODES.iter().map(|m| (*m, load(&file, *m))).collect();
        let base = &per_mode[0].1;
        for node in &base.nodes {
            let Some(client) = base.pods.iter().find(|p| p.node.as_deref() == Some(&node.name) && !p.host_network)
            else {
                continue;
            };
            for svc in &base.services {
                let ClusterIp::Ip(ip) = svc.cluster_ip else { continue };
                for port in &svc.ports {
                    let proto = port.protocol.as_str().to_ascii_lowercase();
                    let mut results = Vec::new();
                    for (mode, c) in &per_mode {
                        // Same names in every mode; pod IPs differ under Cilium.
                        let r = Request {
                            from: From::Pod { namespace: client.namespace.clone(), name: client.name.clone() },
                            to: To::Ip(ip),
                            port: port.port,
                            protocol: port.protocol,
                            node: None,
                            seed: 1,
                        };
                        let t = trace(c, &r).unwrap();
                        let got: BTreeSet<String> = t.service.candidates.iter().cloned().collect();
                        if *mode != ProxyMode::Iptables {
                            // Cilium's own pods change where the scheduler
                            // puts the others: ask the client's node there.
                            let on = c.pod(&client.namespace, &client.name).and_then(|p| p.node.clone()).unwrap();
                            let dump = Dataplane::build(c, &on, *mode).render();
                            let want = reachable_in_dump(&dump, *mode, ip, port.port, &proto);
                            assert_eq!(
                                got,
                                want,
                                "{} {mode} {}:{} on {}",
                                file.display(),
                                svc.key(),
                                port.port,
                                node.name
                            );
                        }
                        if let Some(chosen) = &t.service.chosen {
                            assert!(got.contains(chosen), "{mode}: chose {chosen} outside {got:?}");
                        }
                        // Endpoints by pod, so that Cilium's addresses compare.
                        let pods: BTreeSet<String> = got
                            .iter()
                            .map(|ep| {
                                let ip: IpAddr = ep.rsplit_once(':').unwrap().0.parse().unwrap();
                                c.pods
                                    .iter()
                                    .find(|p| p.ip == Some(ip) && !p.host_network)
                                    .map_or(ep.clone(), |p| p.key())
                            })
                            .collect();
                        results.push((*mode, pods));
                    }
                    // iptables, nftables and IPVS run on the same placement;
                    // Cilium's is its own, so it is checked against its dump only.
                    for (mode, pods) in results[1..].iter().filter(|(m, _)| *m != ProxyMode::Ebpf) {
                        // IPVS differs from iptables for internalTrafficPolicy
                        // Local without local endpoints only when the port is
                        // also reachable from outside: it then falls back to
                        // the cluster's endpoints (kubernetes#97081).
                        let ipvs_fallback = *mode == ProxyMode::Ipvs
                            && svc.internal_traffic_policy == TrafficPolicy::Local
                            && results[0].1.is_empty();
                        if !ipvs_fallback {
                            assert_eq!(
                                pods,
                                &results[0].1,
                                "{} {}:{} from {} in {mode}",
                                file.display(),
                                svc.key(),
                                port.port,
                                node.name
                            );
                        }
                    }
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 40, "compared {compared}");
}

#[test]
fn every_mode_rejects_a_service_without_endpoints_in_its_own_way() {
    let want = [
        (ProxyMode::Iptables, "-j REJECT"),
        (ProxyMode::Nftables, "reject"),
        (ProxyMode::Ipvs, "TCP  "),
        (ProxyMode::Ebpf, "[ClusterIP, non-routable]"),
    ];
    for (mode, line) in want {
        let c = load(&dir().join("proxy.yaml"), mode);
        let r = Request {
            from: web_pod_on(&c, "kind-worker"),
            to: To::Ip(cluster_ip(&c, "empty")),
            port: 80,
            protocol: podpath_core::cluster::Protocol::Tcp,
            node: None,
            seed: 0,
        };
        let t = trace(&c, &r).unwrap();
        assert_eq!(t.verdict, Verdict::Rejected, "{mode}: {}", t.reason);
        let rejecting = t.hops.iter().rev().find(|h| h.action == podpath_core::step::Action::Rejected).unwrap();
        assert!(rejecting.rule.as_deref().unwrap().contains(line), "{mode}: {:?}", rejecting.rule);
        // What rejected it is in the node's dump, word for word.
        let dump = Dataplane::build(&c, "kind-worker", mode).render();
        assert!(dump.lines().any(|l| l.trim_end().trim() == rejecting.rule.as_deref().unwrap().trim()), "{mode}");
    }
}

#[test]
fn cilium_balances_at_connect_so_the_first_packet_is_already_addressed_to_the_backend() {
    let c = load(&dir().join("proxy.yaml"), ProxyMode::Ebpf);
    let vip = cluster_ip(&c, "sticky");
    let r = Request {
        from: web_pod_on(&c, "kind-worker"),
        to: To::Ip(vip),
        port: 80,
        protocol: podpath_core::cluster::Protocol::Tcp,
        node: None,
        seed: 3,
    };
    let t = trace(&c, &r).unwrap();
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    assert_eq!(t.hops[0].at.to_string(), "bpf cgroup/connect4");
    let sent = t.hops.iter().find(|h| h.action == podpath_core::step::Action::Sent).unwrap();
    assert_ne!(sent.packet.dst, vip, "no packet carries the ClusterIP");
    assert_eq!(format!("{}:{}", sent.packet.dst, sent.packet.dport), t.service.chosen.clone().unwrap());
    assert!(!t.conntrack.unwrap().nat(), "nothing to un-NAT on the way back");
}

#[test]
fn every_mode_masquerades_a_pod_that_reaches_itself() {
    for mode in [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs] {
        let c = load(&dir().join("proxy.yaml"), mode);
        let from = web_pod_on(&c, "kind-worker");
        let From::Pod { namespace, name } = &from else { unreachable!() };
        let me = c.pod(namespace, name).unwrap().ip.unwrap();
        let hairpin = (0..60)
            .map(|seed| {
                let r = Request {
                    from: from.clone(),
                    to: To::Ip(cluster_ip(&c, "sticky")),
                    port: 80,
                    protocol: podpath_core::cluster::Protocol::Tcp,
                    node: None,
                    seed,
                };
                trace(&c, &r).unwrap()
            })
            .find(|t| t.destination_ip == me)
            .expect("some seed picks the pod itself");
        assert!(hairpin.service.snat, "{mode}");
    }
}

/// IPVS mode and `externalTrafficPolicy: Local` on a node with no local
/// endpoint: kube-proxy's `syncEndpoint` gives the virtual server every
/// endpoint then, "Allow access from local PODs even if no local endpoints
/// exist. Traffic from an external source will be routed but the reply
/// will have the POD address and will be discarded" (pkg/proxy/ipvs/
/// proxier.go, after kubernetes#97081). So from outside the request
/// reaches a pod on another node unSNATed, its reply leaves that node by
/// its own default route, never meets the first node's conntrack entry,
/// and the client drops it; from a pod on the node it works.
#[test]
fn ipvs_local_without_a_local_endpoint_loses_an_outside_clients_reply() {
    let c = load(&dir().join("proxy.yaml"), ProxyMode::Ipvs);
    let cp = c.node("kind-control-plane").unwrap().internal_ip.unwrap();
    let t = trace(&c, &Request { from: From::External, to: To::Ip(cp), port: 30080, ..req_ipvs() }).unwrap();
    assert!(!t.service.snat);
    assert!(t.destination_pod.is_some(), "the request itself arrives: {}", t.reason);
    assert_eq!(t.verdict, Verdict::Dropped, "{}", t.reason);
    assert!(t.lost(), "the client waits for its timeout");
    let last = t.reply.last().unwrap();
    assert_eq!(last.action.as_str(), "dropped");
    let endpoint = t.service.chosen.clone().unwrap();
    assert_eq!(format!("{}:{}", last.packet.src, last.packet.sport), endpoint, "the reply still has the pod's address");
    assert!(t.reply.iter().all(|h| h.action.as_str() != "un-NAT"), "nothing un-NATs it");
    assert!(t
        .reply
        .iter()
        .all(|h| h.node.as_deref() != Some("kind-control-plane") || h.at.to_string() == "external client"));

    // From the node itself the same NodePort works: the reply comes back
    // to the node's own address, where the entry is, and is un-NATed.
    let from = From::Node("kind-control-plane".into());
    let t = trace(&c, &Request { from, to: To::Ip(cp), port: 30080, ..req_ipvs() }).unwrap();
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    assert!(t.reply.iter().any(|h| h.action.as_str() == "un-NAT"));
}

fn req_ipvs() -> Request {
    Request {
        from: From::External,
        to: To::Ip(IpAddr::from([0, 0, 0, 0])),
        port: 0,
        protocol: podpath_core::cluster::Protocol::Tcp,
        node: None,
        seed: 7,
    }
}
