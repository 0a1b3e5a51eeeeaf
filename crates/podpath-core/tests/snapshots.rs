//! Live clusters' dumps reproduced as they are: a kind and a k3s cluster as
//! `kubectl get … -A -o yaml` prints them (tests/scenarios/*-dump.yaml).
//! Pods keep their node and address, Services their cluster IP, the ranges
//! and the plugin, proxy mode and ingress controller come from the dump's
//! own objects, each said in a note, and podpath adds none of its own
//! components; traces go through what was detected.

use std::path::Path;

use podpath_core::kubectl::{self, Scope};
use podpath_core::trace::{self, From, Request, To, Verdict};
use podpath_core::{simulate, Cluster, Diagnostic, Severity, Source};

fn dump(name: &str) -> (Cluster, Vec<Diagnostic>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios").join(name);
    simulate(&[Source::new(name, std::fs::read_to_string(path).unwrap())])
}

fn said(diags: &[Diagnostic], severity: Severity) -> Vec<String> {
    diags.iter().filter(|d| d.severity == severity).map(|d| d.message.clone()).collect()
}

fn pod_row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    table.lines().find(|l| l.split_whitespace().nth(1) == Some(name)).unwrap_or("").split_whitespace().collect()
}

fn pod(ns: &str, name: &str) -> From {
    From::Pod { namespace: ns.into(), name: name.into() }
}

fn to_pod(ns: &str, name: &str) -> To {
    To::Pod { namespace: ns.into(), name: name.into() }
}

fn run(c: &Cluster, from: From, to: To, port: u16) -> trace::Trace {
    let req = Request { from, to, port, protocol: podpath_core::cluster::Protocol::Tcp, node: None, seed: 0 };
    trace::trace(c, &req).unwrap()
}

#[test]
fn a_kind_clusters_dump_is_reproduced() {
    let (c, diags) = dump("kind-dump.yaml");
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:#?}");
    // kind's default Service range is 10.96.0.0/16 (kind's
    // pkg/apis/config/v1alpha4/default.go), its kube-proxy runs iptables
    // (the kube-proxy ConfigMap's config.conf), kindnet is the plugin.
    assert_eq!(c.settings.service_cidr.to_string(), "10.96.0.0/16");
    assert_eq!(c.settings.cluster_cidr.to_string(), "10.244.0.0/16");
    assert_eq!(c.settings.proxy_mode.as_str(), "iptables");
    let notes = said(&diags, Severity::Note);
    assert!(
        notes.iter().any(|n| n == "kube-proxy's mode is iptables (ConfigMap kube-system/kube-proxy, config.conf)"),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n
                == "the cluster's CNI plugin is kindnet (DaemonSet kube-system/kindnet): simulated as cni kindnet"),
        "{notes:#?}"
    );
    assert_eq!(c.settings.cni.as_str(), "kindnet");
    // The dump's pods, where and as they were: no other pods.
    let table = kubectl::pods_table(&c, &Scope::All, true);
    assert_eq!(pod_row(&table, "web-7d4b9c8f6d-2kq9x")[6..8], ["10.244.1.15", "kind-worker"]);
    assert_eq!(pod_row(&table, "web-7d4b9c8f6d-vv7rt")[6..8], ["10.244.2.9", "kind-worker2"]);
    assert_eq!(pod_row(&table, "kindnet-d9kzt")[6..8], ["172.18.0.2", "kind-worker"]);
    // A Job's pod that has run to completion (status.phase Succeeded): kubectl
    // shows it Completed with the address it had, which the web pod now
    // holds; the Job, complete, starts no other.
    assert_eq!(pod_row(&table, "migrate-x7k2p")[2..4], ["0/1", "Completed"]);
    assert_eq!(pod_row(&table, "migrate-x7k2p")[6..8], ["10.244.2.9", "kind-worker2"]);
    assert_eq!(table.lines().count() - 1, 12, "{table}");
    let web = c.service("default", "web").unwrap();
    assert_eq!(format!("{:?}", web.cluster_ip), "Ip(10.96.183.27)");
    // Across nodes on plain routes (no tunnel), and the dump's policy
    // enforced: the client is let in, CoreDNS is not.
    let t = run(&c, pod("default", "client-5b9f6d7c48-zt6wd"), to_pod("default", "web-7d4b9c8f6d-vv7rt"), 80);
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    assert!(t.hops.iter().any(|h| h.rule.as_deref() == Some("10.244.2.0/24 via 172.18.0.4 dev eth0")), "{t:#?}");
    let t = run(&c, pod("default", "client-5b9f6d7c48-zt6wd"), To::Ip("10.244.2.9".parse().unwrap()), 80);
    assert_eq!(t.destination_pod.as_deref(), Some("default/web-7d4b9c8f6d-vv7rt"), "{}", t.reason);
    let t = run(&c, pod("default", "client-5b9f6d7c48-zt6wd"), To::Name("web".into()), 80);
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    // CoreDNS is selected by no policy, so its node does not queue the
    // packet; the web pod's node does, and kindnetd drops it there.
    let t = run(&c, pod("kube-system", "coredns-668d6bf9bc-5kxnq"), to_pod("default", "web-7d4b9c8f6d-vv7rt"), 80);
    assert_eq!(t.verdict, Verdict::Dropped, "{}", t.reason);
    let last = t.hops.last().unwrap();
    assert_eq!(
        (last.node.as_deref(), last.at.to_string().as_str()),
        (Some("kind-worker2"), "inet kindnet-network-policies postrouting (kindnetd)")
    );
}

#[test]
fn a_k3s_clusters_dump_is_reproduced() {
    let (c, diags) = dump("k3s-dump.yaml");
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:#?}");
    // k3s's defaults: --cluster-cidr 10.42.0.0/16, --service-cidr
    // 10.43.0.0/16 (k3s docs, cli/server.md); flannel VXLAN and kube-proxy
    // in iptables mode run inside k3s.
    assert_eq!(c.settings.cluster_cidr.to_string(), "10.42.0.0/16");
    assert_eq!(c.settings.service_cidr.to_string(), "10.43.0.0/16");
    assert_eq!((c.settings.cni.as_str(), c.settings.proxy_mode.as_str()), ("flannel", "iptables"));
    let notes = said(&diags, Severity::Note);
    assert!(notes.iter().any(|n| n.starts_with("a k3s cluster")), "{notes:#?}");
    assert!(
        notes.iter().any(|n| n == "the ingress controller is Traefik (Deployment kube-system/traefik)"),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n
                == "the Service range is 10.43.0.0/16 (Service default/kubernetes is 10.43.0.1, its first address)"),
        "{notes:#?}"
    );
    // No warning that a Service's address is out of range, no kube-proxy
    // or flannel pods k3s does not run, no second Traefik.
    let table = kubectl::pods_table(&c, &Scope::All, true);
    assert_eq!(table.lines().count() - 1, 6, "{table}");
    assert_eq!(pod_row(&table, "web-7d4b9c8f6d-2kq9x")[6..8], ["10.42.7.15", "worker-7"]);
    assert_eq!(pod_row(&table, "coredns-5688667fd4-x7tqz")[6..8], ["10.42.0.4", "server-0"]);
    assert_eq!(c.services.iter().filter(|s| s.name == "traefik").count(), 1);
    let t = run(&c, pod("default", "client-5b9f6d7c48-zt6wd"), To::Name("web.default.svc.cluster.local".into()), 80);
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    assert!(t.dns.as_ref().and_then(|d| d.address()).is_some_and(|a| a.to_string() == "10.43.183.27"));
    // Across nodes through flannel's VXLAN device; and k3s's embedded
    // kube-router enforces the dump's policy (k3s docs,
    // networking-services.md: "an embedded network policy controller"),
    // where flannel alone would let everything in.
    let t = run(&c, pod("kube-system", "coredns-5688667fd4-x7tqz"), to_pod("default", "client-5b9f6d7c48-zt6wd"), 80);
    assert_eq!(t.verdict, Verdict::Delivered, "flannel VXLAN from server-0 to worker-7: {}", t.reason);
    assert!(t.hops.iter().any(|h| h.at.to_string().contains("flannel.1")), "{t:#?}");
    let t = run(&c, pod("kube-system", "coredns-5688667fd4-x7tqz"), to_pod("default", "web-7d4b9c8f6d-2kq9x"), 80);
    assert_eq!(t.verdict, Verdict::Dropped, "{}", t.reason);
    assert!(t.hops.iter().any(|h| h.at.to_string().starts_with("kube-router")), "{t:#?}");
}

/// A pod's node that the dump does not list is made from the pod
/// (`spec.nodeName`, `status.hostIP`), with a note; the pod keeps its
/// address.
#[test]
fn a_node_only_its_pods_name_is_made_from_them() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: default}\nspec:\n  nodeName: worker-7\n  containers: [{name: c, image: nginx}]\nstatus: {phase: Running, hostIP: 192.168.56.17, podIP: 10.244.7.15}\n";
    let (c, diags) = simulate(&[Source::new("pods.yaml", text)]);
    let notes: Vec<String> = diags.iter().map(ToString::to_string).collect();
    assert_eq!(notes, ["pods.yaml:5:3: note: node worker-7 is not in the input; made from pod a's spec.nodeName and status.hostIP (192.168.56.17)"]);
    let n = c.node("worker-7").unwrap();
    assert_eq!(n.internal_ip.unwrap().to_string(), "192.168.56.17");
    let p = c.pod("default", "a").unwrap();
    assert_eq!((p.node.as_deref(), p.ip.unwrap().to_string().as_str()), (Some("worker-7"), "10.244.7.15"));
}
