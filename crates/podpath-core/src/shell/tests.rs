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

use expect_test::{expect, Expect};

use super::*;
use crate::{simulate, Source};

const SHOP: &str = "\
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

const DENY: &str = "
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
";

fn cluster(extra: &str) -> Cluster {
    let (c, diags) = simulate(&[Source::new("shop.yaml", format!("{SHOP}{extra}"))]);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    c
}

/// Runs the lines in one session; the output of each, after its prompt.
fn session(c: &Cluster, lines: &[&str]) -> String {
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

fn check(extra: &str, lines: &[&str], expect: Expect) {
    expect.assert_eq(&session(&cluster(extra), lines));
}

#[test]
fn kubectl_get() {
    check(
        "",
        &[
            "kubectl get pods -n shop -o wide",
            "kubectl get svc -n shop",
            "kubectl get pods -n shop -l app=client -o name",
            "kubectl get pod nope -n shop",
            "kubectl get ep -n shop",
            "kubectl get frobs",
        ],
        expect![[r#"
            $ kubectl get pods -n shop -o wide
            NAME                   READY   STATUS    RESTARTS   AGE         IP                NODE        NOMINATED NODE   READINESS GATES
            big                    0/1     Pending   0          <unknown>   <none>            <none>      <none>           <none>
            client                 1/1     Running   0          <unknown>   192.168.223.194   t-worker2   <none>           <none>
            web-589ccc5944-59b9c   1/1     Running   0          <unknown>   192.168.223.193   t-worker2   <none>           <none>
            web-589ccc5944-hzslc   1/1     Running   0          <unknown>   192.168.247.2     t-worker    <none>           <none>
            $ kubectl get svc -n shop
            NAME    TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)   AGE
            empty   ClusterIP   10.109.154.10   <none>        80/TCP    <unknown>
            web     ClusterIP   10.105.26.172   <none>        80/TCP    <unknown>
            $ kubectl get pods -n shop -l app=client -o name
            pod/client
            $ kubectl get pod nope -n shop
            Error from server (NotFound): pods "nope" not found
            [exit 1]
            $ kubectl get ep -n shop
            Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice
            NAME    ENDPOINTS                             AGE
            empty   <none>                                <unknown>
            web     192.168.223.193:80,192.168.247.2:80   <unknown>
            $ kubectl get frobs
            error: the server doesn't have a resource type "frobs"
            [exit 1]
        "#]],
    );
}

#[test]
fn kubectl_describe() {
    check(
        DENY,
        &[
            "kubectl describe pod client -n shop",
            "kubectl describe pod big -n shop",
            "kubectl describe svc web -n shop",
            "kubectl describe endpoints web -n shop",
            "kubectl describe netpol default-deny -n shop",
        ],
        expect![[r#"
            $ kubectl describe pod client -n shop
            Name:             client
            Namespace:        shop
            Priority:         0
            Service Account:  default
            Node:             t-worker2/172.18.0.4
            Labels:           app=client
            Annotations:      <none>
            Status:           Running
            IP:               192.168.223.194
            IPs:
              IP:  192.168.223.194
            Containers:
              tools:
                Image:          nicolaka/netshoot
                Port:           <none>
                Host Port:      <none>
                State:          Running
                Ready:          True
                Restart Count:  0
                Environment:    <none>
                Mounts:         <none>
            Conditions:
              Type                       Status
              PodReadyToStartContainers  True 
              Initialized                True 
              Ready                      True 
              ContainersReady            True 
              PodScheduled               True 
            QoS Class:                   BestEffort
            Node-Selectors:              <none>
            Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                                         node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
            Events:                      <none>
            $ kubectl describe pod big -n shop
            Name:             big
            Namespace:        shop
            Priority:         0
            Service Account:  default
            Node:             <none>
            Labels:           <none>
            Annotations:      <none>
            Status:           Pending
            IP:               
            IPs:              <none>
            Containers:
              c:
                Image:          busybox
                Port:           <none>
                Host Port:      <none>
                Ready:          False
                Restart Count:  0
                Environment:    <none>
                Mounts:         <none>
            Conditions:
              Type           Status
              PodScheduled   False 
            QoS Class:       BestEffort
            Node-Selectors:  disktype=ssd
            Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
            Events:
              Type     Reason            Age        From               Message
              ----     ------            ----       ----               -------
              Warning  FailedScheduling  <unknown>  default-scheduler  0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
            $ kubectl describe svc web -n shop
            Name:                     web
            Namespace:                shop
            Labels:                   <none>
            Annotations:              <none>
            Selector:                 app=web
            Type:                     ClusterIP
            IP Family Policy:         SingleStack
            IP Families:              IPv4
            IP:                       10.105.26.172
            IPs:                      10.105.26.172
            Port:                     <unset>  80/TCP
            TargetPort:               http/TCP
            Endpoints:                192.168.223.193:80,192.168.247.2:80
            Session Affinity:         None
            Internal Traffic Policy:  Cluster
            Events:                   <none>
            $ kubectl describe endpoints web -n shop
            Name:         web
            Namespace:    shop
            Labels:       <none>
            Annotations:  <none>
            Subsets:
              Addresses:          192.168.223.193,192.168.247.2
              NotReadyAddresses:  <none>
              Ports:
                Name     Port  Protocol
                ----     ----  --------
                <unset>  80    TCP

            Events:  <none>
            $ kubectl describe netpol default-deny -n shop
            Name:         default-deny
            Namespace:    shop
            Labels:       <none>
            Annotations:  <none>
            Spec:
              PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)
              Allowing ingress traffic:
                <none> (Selected pods are isolated for ingress connectivity)
              Allowing egress traffic:
                <none> (Selected pods are isolated for egress connectivity)
              Policy Types: Ingress, Egress
            Events:  <none>

            podpath: selects 4 pod(s) in shop: big, client, web-589ccc5944-59b9c, web-589ccc5944-hzslc
            podpath: their ingress is denied: the policy has no ingress rule (unless another policy allows it)
            podpath: their egress is denied: the policy has no egress rule (unless another policy allows it)
        "#]],
    );
}

#[test]
fn curl_in_a_pod() {
    check(
        "",
        &[
            "kubectl exec -n shop client -- curl -s http://web",
            "kubectl logs -n shop -l app=web",
            "kubectl exec -n shop client -- curl -sI web.shop",
            "kubectl exec -it -n shop client -- sh",
            "curl -v -H 'X-Trace: 1' http://web.shop.svc.cluster.local/a",
            "curl http://empty",
            "curl -m 3 http://nope",
            "exit",
            "kubectl logs -n shop -l app=web",
        ],
        expect![[r#"
            $ kubectl exec -n shop client -- curl -s http://web
            Hostname: web-589ccc5944-59b9c
            IP: 127.0.0.1
            IP: 192.168.223.193
            RemoteAddr: 192.168.223.194:42956
            GET / HTTP/1.1
            Host: web
            User-Agent: curl/8.5.0
            Accept: */*
            $ kubectl logs -n shop -l app=web
            192.168.223.194 - - [01/Jan/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 159 "-" "curl/8.5.0"
            $ kubectl exec -n shop client -- curl -sI web.shop
            HTTP/1.1 200 OK
            Content-Type: text/plain; charset=utf-8
            Content-Length: 163

            $ kubectl exec -it -n shop client -- sh
            root@client:/# curl -v -H 'X-Trace: 1' http://web.shop.svc.cluster.local/a
            * Host web.shop.svc.cluster.local:80 was resolved.
            * IPv6: (none)
            * IPv4: 10.105.26.172
            *   Trying 10.105.26.172:80...
            * Connected to web.shop.svc.cluster.local (10.105.26.172) port 80
            > GET /a HTTP/1.1
            > Host: web.shop.svc.cluster.local
            > User-Agent: curl/8.5.0
            > Accept: */*
            > X-Trace: 1
            > 
            < HTTP/1.1 200 OK
            < Content-Type: text/plain; charset=utf-8
            < Content-Length: 194
            < 
            Hostname: web-589ccc5944-59b9c
            IP: 127.0.0.1
            IP: 192.168.223.193
            RemoteAddr: 192.168.223.194:42418
            GET /a HTTP/1.1
            Host: web.shop.svc.cluster.local
            User-Agent: curl/8.5.0
            Accept: */*
            X-Trace: 1
            * Connection #0 to host web.shop.svc.cluster.local left intact
            root@client:/# curl http://empty
            curl: (7) Failed to connect to empty port 80 after 0 ms: Couldn't connect to server
            [exit 7]
            root@client:/# curl -m 3 http://nope
            curl: (6) Could not resolve host: nope
            [exit 6]
            root@client:/# exit
            $ kubectl logs -n shop -l app=web
            192.168.223.194 - - [01/Jan/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 159 "-" "curl/8.5.0"
            192.168.223.194 - - [01/Jan/2026:00:00:05 +0000] "GET /a HTTP/1.1" 200 194 "-" "curl/8.5.0"
            192.168.223.194 - - [01/Jan/2026:00:00:03 +0000] "HEAD / HTTP/1.1" 200 0 "-" "curl/8.5.0"
        "#]],
    );
}

#[test]
fn dns_tools() {
    check(
        "",
        &[
            "kubectl exec -n shop client -- nslookup web",
            "kubectl exec -n shop client -- nslookup nope",
            "kubectl exec -n shop client -- dig +short web.shop.svc.cluster.local",
            "kubectl exec -n shop client -- dig web",
            "kubectl exec -n shop client -- dig +search web SRV",
            "kubectl exec -n shop client -- dig -x WEBIP",
            "kubectl exec -n shop client -- cat /etc/resolv.conf /etc/hosts",
        ],
        expect![[r#"
            $ kubectl exec -n shop client -- nslookup web
            Server:		10.96.0.10
            Address:	10.96.0.10#53

            Name:	web.shop.svc.cluster.local
            Address: 10.105.26.172

            $ kubectl exec -n shop client -- nslookup nope
            Server:		10.96.0.10
            Address:	10.96.0.10#53

            ** server can't find nope: NXDOMAIN

            command terminated with exit code 1
            [exit 1]
            $ kubectl exec -n shop client -- dig +short web.shop.svc.cluster.local
            10.105.26.172
            $ kubectl exec -n shop client -- dig web

            ; <<>> DiG 9.18.33-1~deb12u2-Debian <<>> web
            ;; global options: +cmd
            ;; Got answer:
            ;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 36921
            ;; flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1

            ;; OPT PSEUDOSECTION:
            ; EDNS: version: 0, flags:; udp: 1232
            ;; QUESTION SECTION:
            ;web.				IN	A

            ;; AUTHORITY SECTION:
            .			86400	IN	SOA	a.root-servers.net. nstld.verisign-grs.com. 2026112700 1800 900 604800 86400

            ;; Query time: 0 msec
            ;; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)
            ;; MSG SIZE  rcvd: 107

            $ kubectl exec -n shop client -- dig +search web SRV

            ; <<>> DiG 9.18.33-1~deb12u2-Debian <<>> +search web SRV
            ;; global options: +cmd
            ;; Got answer:
            ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 12129
            ;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 2
            ;; WARNING: recursion requested but not available

            ;; OPT PSEUDOSECTION:
            ; EDNS: version: 0, flags:; udp: 1232
            ;; QUESTION SECTION:
            ;web.shop.svc.cluster.local.	IN	SRV

            ;; ANSWER SECTION:
            web.shop.svc.cluster.local. 30	IN	SRV	0 100 80 web.shop.svc.cluster.local.

            ;; ADDITIONAL SECTION:
            web.shop.svc.cluster.local. 30	IN	A	10.105.26.172

            ;; Query time: 0 msec
            ;; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)
            ;; MSG SIZE  rcvd: 169

            $ kubectl exec -n shop client -- dig -x 10.105.26.172

            ; <<>> DiG 9.18.33-1~deb12u2-Debian <<>> -x 10.105.26.172
            ;; global options: +cmd
            ;; Got answer:
            ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 55363
            ;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1
            ;; WARNING: recursion requested but not available

            ;; OPT PSEUDOSECTION:
            ; EDNS: version: 0, flags:; udp: 1232
            ;; QUESTION SECTION:
            ;172.26.105.10.in-addr.arpa.	IN	PTR

            ;; ANSWER SECTION:
            172.26.105.10.in-addr.arpa. 30	IN	PTR	web.shop.svc.cluster.local.

            ;; Query time: 0 msec
            ;; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)
            ;; MSG SIZE  rcvd: 121

            $ kubectl exec -n shop client -- cat /etc/resolv.conf /etc/hosts
            search shop.svc.cluster.local svc.cluster.local cluster.local
            nameserver 10.96.0.10
            options ndots:5
            # Kubernetes-managed hosts file.
            127.0.0.1	localhost
            ::1	localhost ip6-localhost ip6-loopback
            fe00::0	ip6-localnet
            fe00::0	ip6-mcastprefix
            fe00::1	ip6-allnodes
            fe00::2	ip6-allrouters
            192.168.223.194	client
        "#]],
    );
}

#[test]
fn ping_nc_wget() {
    check(
        "",
        &[
            "kubectl exec -it -n shop client -- bash",
            "ping -c 2 web",
            "ping -c 2 WEBPOD",
            "traceroute WEBPOD",
            "traceroute -n -m 4 web",
            "nc -zv web 80",
            "nc -zv empty 80",
            "wget -qO- http://web/",
            "wget http://empty/",
            "ip route",
            "hostname -i",
        ],
        expect![[r#"
            $ kubectl exec -it -n shop client -- bash
            root@client:/# ping -c 2 web
            PING web.shop.svc.cluster.local (10.105.26.172) 56(84) bytes of data.

            --- web.shop.svc.cluster.local ping statistics ---
            2 packets transmitted, 0 received, 100% packet loss, time 1002ms
            [exit 1]
            root@client:/# ping -c 2 192.168.247.2
            PING 192.168.247.2 (192.168.247.2) 56(84) bytes of data.
            64 bytes from 192.168.247.2: icmp_seq=1 ttl=62 time=1.22 ms
            64 bytes from 192.168.247.2: icmp_seq=2 ttl=62 time=1.23 ms

            --- 192.168.247.2 ping statistics ---
            2 packets transmitted, 2 received, 0% packet loss, time 1002ms
            rtt min/avg/max/mdev = 1.219/1.223/1.226/0.003 ms
            root@client:/# traceroute 192.168.247.2
            traceroute to 192.168.247.2 (192.168.247.2), 30 hops max, 60 byte packets
             1  172.18.0.4 (172.18.0.4)  0.436 ms  0.469 ms  0.458 ms
             2  192.168.247.0 (192.168.247.0)  1.33 ms  1.32 ms  1.34 ms
             3  192-168-247-2.web.shop.svc.cluster.local (192.168.247.2)  1.49 ms  1.50 ms  1.47 ms
            root@client:/# traceroute -n -m 4 web
            traceroute to web (10.105.26.172), 4 hops max, 60 byte packets
             1  172.18.0.4  0.439 ms  0.450 ms  0.461 ms
             2  * * *
             3  * * *
             4  * * *
            root@client:/# nc -zv web 80
            Connection to web (10.105.26.172) 80 port [tcp/http] succeeded!
            root@client:/# nc -zv empty 80
            nc: connect to empty (10.109.154.10) port 80 (tcp) failed: Connection refused
            [exit 1]
            root@client:/# wget -qO- http://web/
            Hostname: web-589ccc5944-hzslc
            IP: 127.0.0.1
            IP: 192.168.247.2
            RemoteAddr: 192.168.223.194:54041
            GET / HTTP/1.1
            Host: web
            User-Agent: Wget
            Connection: close
            root@client:/# wget http://empty/
            Connecting to empty (10.109.154.10:80)
            wget: can't connect to remote host (10.109.154.10): Connection refused
            [exit 1]
            root@client:/# ip route
            default via 169.254.1.1 dev eth0
            169.254.1.1 dev eth0 scope link
            root@client:/# hostname -i
            192.168.223.194
        "#]],
    );
}

#[test]
fn a_default_deny_without_dns() {
    check(
        DENY,
        &[
            "kubectl exec -n shop client -- nslookup web",
            "kubectl exec -n shop client -- dig web.shop.svc.cluster.local",
            "kubectl exec -n shop client -- curl -m 5 WEBIP",
            "kubectl exec -n shop client -- nc -zv -w 2 WEBIP 80",
        ],
        expect![[r#"
            $ kubectl exec -n shop client -- nslookup web
            ;; connection timed out; no servers could be reached

            command terminated with exit code 1
            [exit 1]
            $ kubectl exec -n shop client -- dig web.shop.svc.cluster.local
            ;; communications error to 10.96.0.10#53: timed out
            ;; communications error to 10.96.0.10#53: timed out
            ;; communications error to 10.96.0.10#53: timed out

            ; <<>> DiG 9.18.33-1~deb12u2-Debian <<>> web.shop.svc.cluster.local
            ;; global options: +cmd
            ;; no servers could be reached

            command terminated with exit code 9
            [exit 9]
            $ kubectl exec -n shop client -- curl -m 5 10.105.26.172
            curl: (28) Connection timed out after 5001 milliseconds
            command terminated with exit code 28
            [exit 28]
            $ kubectl exec -n shop client -- nc -zv -w 2 10.105.26.172 80
            nc: connect to 10.105.26.172 port 80 (tcp) timed out: Operation now in progress
            command terminated with exit code 1
            [exit 1]
        "#]],
    );
}

#[test]
fn a_node_shell() {
    check(
        "",
        &[
            "kubectl debug node/t-worker -it --image=busybox",
            "hostname",
            "ip route",
            "ipvsadm -Ln",
            "conntrack -L",
            "exit",
            "kubectl exec -n shop client -- curl -s -o /dev/null web",
            "kubectl debug node/t-worker -it --image=busybox",
            "conntrack -L",
            "tcpdump -i eth0 -c 4",
            "tcpdump -i cni0",
            "iptables -t nat -L KUBE-SERVICES -n",
            "iptables -t nat -L NOPE -n",
        ],
        expect![[r#"
            $ kubectl debug node/t-worker -it --image=busybox
            Creating debugging pod node-debugger-t-worker-5289b with container debugger on node t-worker.
            If you don't see a command prompt, try pressing enter.
            root@t-worker:/# hostname
            t-worker
            root@t-worker:/# ip route
            default via 172.18.0.1 dev eth0
            172.18.0.0/16 dev eth0 proto kernel scope link src 172.18.0.3
            192.168.70.64/26 via 172.18.0.2 dev tunl0 proto bird onlink
            192.168.223.192/26 via 172.18.0.4 dev tunl0 proto bird onlink
            blackhole 192.168.247.0/26 proto bird
            192.168.247.1 dev calieaaae2a7fed scope link
            192.168.247.2 dev cali655e599427b scope link
            root@t-worker:/# ipvsadm -Ln
            Can't initialize ipvs: Protocol not available
            Are you sure that IP Virtual Server is built in the kernel or as module?
            [exit 2]
            root@t-worker:/# conntrack -L
            conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.
            root@t-worker:/# exit
            $ kubectl exec -n shop client -- curl -s -o /dev/null web
            $ kubectl debug node/t-worker -it --image=busybox
            Creating debugging pod node-debugger-t-worker-5289b with container debugger on node t-worker.
            If you don't see a command prompt, try pressing enter.
            root@t-worker:/# conntrack -L
            tcp      6 120 TIME_WAIT src=192.168.223.194 dst=192.168.247.2 sport=59922 dport=80 src=192.168.247.2 dst=192.168.223.194 sport=80 dport=59922 [ASSURED] mark=0 use=1
            conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.
            root@t-worker:/# tcpdump -i eth0 -c 4
            tcpdump: verbose output suppressed, use -v[v]... for full protocol decode
            listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes
            00:00:00.027000 IP 172.18.0.4 > 172.18.0.3: IP 192.168.223.194.59922 > 192.168.247.2.http: Flags [S], seq 16777216, win 64240, length 0 (ipip-proto-4)
            00:00:00.035000 IP 172.18.0.3 > 172.18.0.4: IP 192.168.247.2.http > 192.168.223.194.59922: Flags [S.], seq 268435456, ack 16777217, win 64240, length 0 (ipip-proto-4)
            00:00:00.047000 IP 172.18.0.4 > 172.18.0.3: IP 192.168.223.194.59922 > 192.168.247.2.http: Flags [.], ack 1, win 64240, length 0 (ipip-proto-4)
            00:00:00.057000 IP 172.18.0.4 > 172.18.0.3: IP 192.168.223.194.59922 > 192.168.247.2.http: Flags [P.], seq 1:67, ack 1, win 64240, length 66: HTTP: GET / HTTP/1.1 (ipip-proto-4)
            4 packets captured
            4 packets received by filter
            0 packets dropped by kernel
            root@t-worker:/# tcpdump -i cni0
            tcpdump: cni0: No such device exists
            (SIOCGIFHWADDR: No such device)
            [exit 1]
            root@t-worker:/# iptables -t nat -L KUBE-SERVICES -n
            Chain KUBE-SERVICES (2 references)
            target     prot opt source               destination         
            KUBE-SVC-NPX46M4PTMTKRN6Y  6    --  0.0.0.0/0            10.96.0.1            /* default/kubernetes:https cluster IP */ tcp dpt:443
            KUBE-SVC-EZYNCFY2F7N6OQA2  6    --  0.0.0.0/0            10.110.148.166       /* ingress-nginx/ingress-nginx-controller-admission:https-webhook cluster IP */ tcp dpt:443
            KUBE-SVC-CG5I4G2RS3ZVWGLK  6    --  0.0.0.0/0            10.103.253.140       /* ingress-nginx/ingress-nginx-controller:http cluster IP */ tcp dpt:80
            KUBE-EXT-CG5I4G2RS3ZVWGLK  6    --  0.0.0.0/0            172.18.255.200       /* ingress-nginx/ingress-nginx-controller:http loadbalancer IP */ tcp dpt:80
            KUBE-SVC-EDNDUDH2C75GIR6O  6    --  0.0.0.0/0            10.103.253.140       /* ingress-nginx/ingress-nginx-controller:https cluster IP */ tcp dpt:443
            KUBE-EXT-EDNDUDH2C75GIR6O  6    --  0.0.0.0/0            172.18.255.200       /* ingress-nginx/ingress-nginx-controller:https loadbalancer IP */ tcp dpt:443
            KUBE-SVC-TCOU7JCQXEZGVUNU  17   --  0.0.0.0/0            10.96.0.10           /* kube-system/kube-dns:dns cluster IP */ udp dpt:53
            KUBE-SVC-ERIFXISQEP7F7OF4  6    --  0.0.0.0/0            10.96.0.10           /* kube-system/kube-dns:dns-tcp cluster IP */ tcp dpt:53
            KUBE-SVC-JD5MR3NA4I4DYORP  6    --  0.0.0.0/0            10.96.0.10           /* kube-system/kube-dns:metrics cluster IP */ tcp dpt:9153
            KUBE-SVC-E3PXEPMWAWIUT6ZV  6    --  0.0.0.0/0            10.105.26.172        /* shop/web cluster IP */ tcp dpt:80
            KUBE-NODEPORTS  0    --  0.0.0.0/0            0.0.0.0/0            /* kubernetes service nodeports; NOTE: this must be the last rule in this chain */ ADDRTYPE match dst-type LOCAL
            root@t-worker:/# iptables -t nat -L NOPE -n
            iptables: No chain/target/match by that name.
            [exit 1]
        "#]],
    );
}

#[test]
fn errors_as_the_real_tools_word_them() {
    check(
        "",
        &[
            "kubectl gte pods",
            "kubectl get pods --bogus",
            "kubectl get pods -x",
            "kubectl exec -n shop client -- tracepath web",
            "frob",
            "echo 'open",
            "kubectl exec -n shop big -- curl web",
            "curl",
            "kubectl exec -n shop client -- curl --nope web",
        ],
        expect![[r#"
            $ kubectl gte pods
            error: unknown command "gte" for "kubectl"

            Did you mean this?
            	get

            Run 'kubectl --help' for usage.
            [exit 1]
            $ kubectl get pods --bogus
            error: unknown flag: --bogus
            See 'kubectl get --help' for usage.
            [exit 1]
            $ kubectl get pods -x
            error: unknown shorthand flag: 'x' in -x
            See 'kubectl get --help' for usage.
            [exit 1]
            $ kubectl exec -n shop client -- tracepath web
            error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "3fed847bd50d19513fdb709bdc6a59aa99b058be8fbf1eeff732bd23e215ddf8": OCI runtime exec failed: exec failed: unable to start container process: exec: "tracepath": executable file not found in $PATH: unknown
            [exit 1]
            $ frob
            bash: frob: command not found
            [exit 127]
            $ echo 'open
            bash: unexpected EOF while looking for matching `''
            bash: syntax error: unexpected end of file
            [exit 2]
            $ kubectl exec -n shop big -- curl web
            Error from server (BadRequest): pod big does not have a host assigned
            [exit 1]
            $ curl
            curl: no URL specified
            curl: try 'curl --help' or 'curl --manual' for more information
            [exit 2]
            $ kubectl exec -n shop client -- curl --nope web
            curl: option --nope: is unknown
            curl: try 'curl --help' or 'curl --manual' for more information
            command terminated with exit code 2
            [exit 2]
        "#]],
    );
}

#[test]
fn history_and_completion() {
    let c = cluster("");
    let mut sh = Shell::new();
    sh.run(&c, "kubectl get pods -n shop");
    sh.run(&c, "kubectl get pods -n shop");
    sh.run(&c, "kubectl get svc -A");
    assert_eq!(sh.history(), ["kubectl get pods -n shop", "kubectl get svc -A"], "a repeated line is kept once");
    assert_eq!(sh.complete(&c, "kub"), ["kubectl"]);
    assert_eq!(sh.complete(&c, "kubectl d"), ["debug", "describe"]);
    assert_eq!(sh.complete(&c, "kubectl get se"), ["services"]);
    assert_eq!(sh.complete(&c, "kubectl -n shop get svc "), ["empty", "web"]);
    assert_eq!(sh.complete(&c, "kubectl exec -n shop c"), ["client"]);
    assert_eq!(sh.complete(&c, "kubectl debug "), ["node/t-control-plane", "node/t-worker", "node/t-worker2"]);
    assert_eq!(sh.complete(&c, "kubectl get pods -n s"), ["shop"]);
    sh.run(&c, "kubectl exec -it -n shop client -- sh");
    assert_eq!(sh.prompt(), "root@client:/# ");
    assert_eq!(sh.complete(&c, "ns"), ["nslookup"]);
}

#[test]
fn commands_hand_their_trace_to_the_page() {
    let c = cluster("");
    let mut sh = Shell::new();
    let o = sh.run(&c, "kubectl exec -n shop client -- curl -s http://web");
    let t = o.traced.expect("curl runs a trace");
    assert_eq!(
        (t.from.as_str(), t.to.as_str(), t.port, t.protocol),
        ("shop/client", "http://web", 80, crate::cluster::Protocol::Tcp)
    );
    assert_eq!(t.trace.verdict, crate::trace::Verdict::Delivered);
    // The page traces the same words and gets the same hops.
    let again = crate::trace::target::trace_words(&c, &t.from, &t.to, t.port, t.protocol, t.seed).unwrap();
    assert_eq!(again.hops, t.trace.hops);
    let o = sh.run(&c, "kubectl exec -n shop client -- nslookup web");
    let t = o.traced.expect("nslookup sends queries");
    assert_eq!((t.to.as_str(), t.port, t.protocol), ("10.96.0.10", 53, crate::cluster::Protocol::Udp));
}

#[test]
fn coredns_logs_queries_when_its_corefile_says_log() {
    const LOG: &str = "
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        log
        errors
        kubernetes cluster.local in-addr.arpa ip6.arpa {
           pods insecure
           fallthrough in-addr.arpa ip6.arpa
           ttl 30
        }
        forward . /etc/resolv.conf
        cache 30
    }
";
    // The log plugin's default format, as CoreDNS prints it:
    // [INFO] 10.244.0.5:54321 - 26193 "A IN web.shop.svc.cluster.local. udp 56 false 512" NOERROR qr,aa,rd 110 0.000155s
    check(
        LOG,
        &["kubectl exec -n shop client -- nslookup web.shop", "kubectl logs -n kube-system -l k8s-app=kube-dns"],
        expect![[r#"
            $ kubectl exec -n shop client -- nslookup web.shop
            Server:		10.96.0.10
            Address:	10.96.0.10#53

            Name:	web.shop.svc.cluster.local
            Address: 10.105.26.172

            $ kubectl logs -n kube-system -l k8s-app=kube-dns
            [INFO] 192.168.223.194:42956 - 6669 "A IN web.shop.shop.svc.cluster.local. udp 49 false 512" NXDOMAIN qr,aa,rd 142 0.000250s
            [INFO] 192.168.223.194:59659 - 12564 "A IN web.shop.svc.cluster.local. udp 44 false 512" NOERROR qr,aa,rd 86 0.000250s
        "#]],
    );
    // kubeadm's Corefile has no `log`: CoreDNS logs nothing per query.
    let c = cluster("");
    let mut sh = Shell::new();
    sh.run(&c, "kubectl exec -n shop client -- nslookup web");
    assert_eq!(sh.run(&c, "kubectl logs -n kube-system -l k8s-app=kube-dns").text, "");
}

#[test]
fn ping_to_a_cluster_ip_is_refused_in_ipvs_mode() {
    // kube-proxy's KUBE-IPVS-FILTER rejects what no virtual server takes:
    // iputils prints the ICMP error and counts it.
    let text = SHOP.replace("spec: {cni: calico, nodes: 3}", "spec: {cni: calico, nodes: 3, proxyMode: ipvs}");
    let (c, _) = simulate(&[Source::new("shop.yaml", text)]);
    let mut sh = Shell::new();
    let o = sh.run(&c, "kubectl exec -n shop client -- ping -c 2 web");
    assert!(o.text.contains(" icmp_seq=1 Destination Port Unreachable\n"), "{}", o.text);
    assert!(o.text.contains("2 packets transmitted, 0 received, +2 errors, 100% packet loss"), "{}", o.text);
}
