//! A root shell on a node (routes, the proxy's dumps, conntrack,
//! tcpdump), and CoreDNS's query log.

use expect_test::expect;

use super::*;

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
            [INFO] 192.168.223.194:42956 - 6669 "A IN web.shop.shop.svc.cluster.local. udp 49 false 512" NXDOMAIN qr,aa,rd 142 0.000130s
            [INFO] 192.168.223.194:59659 - 12564 "A IN web.shop.svc.cluster.local. udp 44 false 512" NOERROR qr,aa,rd 86 0.000130s
        "#]],
    );
    // kubeadm's Corefile has no `log`: CoreDNS logs nothing per query.
    let c = cluster("");
    let mut sh = Shell::new();
    sh.run(&c, "kubectl exec -n shop client -- nslookup web");
    assert_eq!(sh.run(&c, "kubectl logs -n kube-system -l k8s-app=kube-dns").text, "");
}
