//! Each tool's output for a small shop, checked against the real tools'
//! formats. The real outputs modelled, as the tools print them:
//!
//! kubectl exec into a pod whose DNS egress is cut (BIND nslookup, then
//! kubectl's own line):
//!     ;; connection timed out; no servers could be reached
//!
//!     command terminated with exit code 1
//!
//! dig 9.18 against CoreDNS's own zone (authoritative, no recursion):
//!     ;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1
//!     ;; WARNING: recursion requested but not available
//!     kubernetes.default.svc.cluster.local. 30 IN A<TAB>10.96.0.1
//!
//! curl 8 -v, then a refused and a timed-out connection:
//!     *   Trying 10.96.0.1:443...
//!     * Connected to kubernetes (10.96.0.1) port 443
//!     curl: (7) Failed to connect to web port 80 after 0 ms: Couldn't connect to server
//!     curl: (28) Connection timed out after 5001 milliseconds
//!
//! iputils ping with every reply lost:
//!     4 packets transmitted, 0 received, 100% packet loss, time 3004ms
//!
//! kubectl describe networkpolicy (describe.go):
//!     Spec:
//!       PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)
//!       Allowing ingress traffic:
//!         <none> (Selected pods are isolated for ingress connectivity)
//!
//! conntrack -L after a finished HTTP exchange:
//!     tcp      6 118 TIME_WAIT src=… dst=… sport=… dport=80 src=… dst=… sport=80 dport=… [ASSURED] mark=0 use=1
//!
//! tcpdump over IP-in-IP and a pure ACK (no seq shown):
//!     IP 172.18.0.4 > 172.18.0.3: IP 192.168.1.4.42956 > 192.168.2.5.80: Flags [.], ack 1, win 64240, length 0 (ipip-proto-4)
//!
//! `iptables -L -n` is compared with the real iptables in
//! podpath-cli's real_tools.rs; the capture's columns with tshark's.

use expect_test::Expect;

use super::*;
use crate::{simulate, Source};

pub(super) const SHOP: &str = "\
apiVersion: podpath.dev/v1alpha1
kind: Cluster
metadata: {name: t}
spec: {cni: calico, nodes: 3}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx:1.27, ports: [{containerPort: 80, name: http}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: shop}
spec:
  selector: {app: nothing}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client}}
spec:
  containers: [{name: tools, image: nicolaka/netshoot}]
---
apiVersion: v1
kind: Pod
metadata: {name: big, namespace: shop}
spec:
  nodeSelector: {disktype: ssd}
  containers: [{name: c, image: busybox}]
";

pub(super) const DENY: &str = "
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
";

pub(super) fn cluster(extra: &str) -> Cluster {
    let (c, diags) = simulate(&[Source::new("shop.yaml", format!("{SHOP}{extra}"))]);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    c
}

/// Runs the lines in one session; the output of each, after its prompt.
pub(super) fn session(c: &Cluster, lines: &[&str]) -> String {
    let mut sh = Shell::new();
    let mut out = String::new();
    // Addresses the fixture allocates: the Service's, and a web pod's on
    // another node than the client's.
    let svc = c.service("shop", "web").map(|s| match s.cluster_ip {
        crate::cluster::ClusterIp::Ip(ip) => ip.to_string(),
        _ => String::new(),
    });
    let client_node = c.pod("shop", "client").and_then(|p| p.node.clone());
    let pod = c.pods.iter().find(|p| p.name.starts_with("web-") && p.node != client_node).and_then(|p| p.ip);
    for l in lines {
        let l = &l
            .replace("WEBIP", &svc.clone().unwrap_or_default())
            .replace("WEBPOD", &pod.map(|i| i.to_string()).unwrap_or_default());
        out.push_str(&sh.prompt());
        out.push_str(l);
        out.push('\n');
        let o = sh.run(c, l);
        out.push_str(&o.text);
        if o.status != 0 {
            out.push_str(&format!("[exit {}]\n", o.status));
        }
    }
    out
}

/// [`session`] on a cluster built again whenever the shell's own objects
/// change (`kubectl run`), as the page and `podpath exec` build it.
pub(super) fn live_session(extra: &str, lines: &[&str]) -> String {
    let text = format!("{SHOP}{extra}");
    let build = |sh: &Shell| {
        let mut sources = vec![Source::new("shop.yaml", text.clone())];
        sources.extend(sh.objects());
        simulate(&sources).0
    };
    let mut sh = Shell::new();
    let mut c = build(&sh);
    let mut out = String::new();
    for l in lines {
        out.push_str(&sh.prompt());
        out.push_str(l);
        out.push('\n');
        let mut o = sh.run(&c, l);
        if sh.take_rebuild() {
            c = build(&sh);
            let more = sh.resume(&c);
            o.text.push_str(&more.text);
            o.status = more.status;
            if sh.take_rebuild() {
                c = build(&sh);
            }
        }
        out.push_str(&o.text);
        if o.status != 0 {
            out.push_str(&format!("[exit {}]\n", o.status));
        }
    }
    out
}

pub(super) fn check(extra: &str, lines: &[&str], expect: Expect) {
    expect.assert_eq(&session(&cluster(extra), lines));
}

mod busybox;
mod kubectl;
mod node;
mod pod;
