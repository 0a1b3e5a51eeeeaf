//! The tools inside a pod: curl, nslookup and dig, ping, nc and wget,
//! what a default deny does to them, and the trace each hands the page.

use expect_test::expect;

use super::*;

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
#[allow(clippy::too_many_lines)] // a transcript: the expected output is the data
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
            64 bytes from 192.168.247.2: icmp_seq=1 ttl=62 time=0.779 ms
            64 bytes from 192.168.247.2: icmp_seq=2 ttl=62 time=0.786 ms

            --- 192.168.247.2 ping statistics ---
            2 packets transmitted, 2 received, 0% packet loss, time 1002ms
            rtt min/avg/max/mdev = 0.779/0.782/0.786/0.004 ms
            root@client:/# traceroute 192.168.247.2
            traceroute to 192.168.247.2 (192.168.247.2), 30 hops max, 60 byte packets
             1  172.18.0.4 (172.18.0.4)  0.276 ms  0.309 ms  0.298 ms
             2  192.168.247.0 (192.168.247.0)  0.611 ms  0.600 ms  0.617 ms
             3  192-168-247-2.web.shop.svc.cluster.local (192.168.247.2)  0.766 ms  0.782 ms  0.753 ms
            root@client:/# traceroute -n -m 4 web
            traceroute to web (10.105.26.172), 4 hops max, 60 byte packets
             1  172.18.0.4  0.279 ms  0.290 ms  0.301 ms
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

/// iputils reads `-c` as a number from 1 to i64's largest, attached or
/// not; a count no one would wait for is sent as far as a user would
/// before pressing ^C (the fuzzer once asked for 981,374,926 pings).
#[test]
fn ping_counts_as_iputils_reads_them_and_long_runs_are_interrupted() {
    let c = cluster("");
    let mut sh = Shell::new();
    let client = "kubectl exec -n shop client -- ping";
    for (args, says) in [
        ("-c0 web", "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n"),
        ("-c 0 web", "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n"),
        ("-cx web", "ping: invalid argument: 'x'\n"),
        ("-c x web", "ping: invalid argument: 'x'\n"),
    ] {
        let out = sh.run(&c, &format!("{client} {args}"));
        let said = format!("{says}command terminated with exit code 1\n");
        assert_eq!((out.text.as_str(), out.status), (said.as_str(), 1), "{args}");
    }
    let pod = c.pods.iter().find(|p| p.name.starts_with("web-")).unwrap().ip.unwrap();
    let out = sh.run(&c, &format!("{client} -c 981374926 {pod}"));
    let replies = out.text.lines().filter(|l| l.starts_with("64 bytes from")).count();
    assert_eq!(replies, 100, "{}", out.text);
    assert!(out.text.contains("icmp_seq=100 ttl=") && out.text.contains("\n^C\n--- "), "{}", out.text);
    assert!(out.text.contains("100 packets transmitted, 100 received, 0% packet loss, time 99100ms"), "{}", out.text);
}

/// An Alpine pod, as the network-policy recipes start one
/// (ahmetb/kubernetes-network-policy-recipes, 01-deny-all-traffic-to-an-
/// application.md): BusyBox's wget and nc, read by musl's getopt_long
/// (`-qO-`, `--timeout=2`, `-T2`), with BusyBox's messages — `bad address`
/// with the host as typed (recipe 11 shows `wget: bad address 'web:80'`),
/// nc's `HOST (ADDR:PORT) open`, a refused connection silent under one -v
/// (networking/nc_bloaty.c) — and ash's `not found` for a tool the image
/// lacks, the runtime's "executable file not found" when exec'd directly.
const ALPINE: &str = "
---
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: shop, labels: {app: probe}}
spec:
  containers: [{name: probe, image: alpine:3.20, command: [sleep, infinity]}]
";

#[test]
fn busybox_tools_in_an_alpine_pod() {
    check(
        ALPINE,
        &[
            "kubectl exec -it -n shop probe -- sh",
            "wget -qO- --timeout=2 http://web",
            "wget -T2 -O /tmp/page http://web:80/",
            "wget -qO- http://nope:80/",
            "wget --frobnicate http://web",
            "wget -T 2s http://web",
            "nc -v -w 2 web 80",
            "nc -vz -w2 empty 80",
            "nc -vvz -w2 empty 80",
            "nc -vz nope 80",
            "curl http://web",
            "exit",
            "kubectl exec -n shop probe -- curl -s http://web",
            "kubectl exec -it -n shop probe -- bash",
        ],
        expect![[r#"
            $ kubectl exec -it -n shop probe -- sh
            / # wget -qO- --timeout=2 http://web
            Hostname: web-589ccc5944-59b9c
            IP: 127.0.0.1
            IP: 192.168.223.193
            RemoteAddr: 192.168.247.3:59659
            GET / HTTP/1.1
            Host: web
            User-Agent: Wget
            Connection: close
            / # wget -T2 -O /tmp/page http://web:80/
            Connecting to web:80 (10.105.26.172:80)
            saving to '/tmp/page'
            page                 100% |********************************|   158  0:00:00 ETA
            '/tmp/page' saved
            / # wget -qO- http://nope:80/
            wget: bad address 'nope:80'
            [exit 1]
            / # wget --frobnicate http://web
            wget: unrecognized option: frobnicate
            BusyBox v1.36.1 (2023-11-07 18:53:09 UTC) multi-call binary.

            Usage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]
            	[--post-data STR | --post-file FILE] [-Y on/off]
            	[--no-check-certificate] [-P DIR] [-U AGENT] [-T SEC] URL...

            Retrieve files via HTTP or FTP

            	--spider	Only check URL existence: $? is 0 if exists
            	--header STR	Add STR (of form 'header: value') to headers
            	--post-data STR	Send STR using POST method
            	--post-file FILE	Send FILE using POST method
            	--no-check-certificate	Don't validate the server's certificate
            	-c		Continue retrieval of aborted transfer
            	-q		Quiet
            	-P DIR		Save to DIR (default .)
            	-S    		Show server response
            	-T SEC		Network read timeout is SEC seconds
            	-O FILE		Save to FILE ('-' for stdout)
            	-o LOGFILE	Log messages to FILE
            	-U STR		Use STR for User-Agent header
            	-Y on/off	Use proxy
            [exit 1]
            / # wget -T 2s http://web
            wget: invalid number '2s'
            [exit 1]
            / # nc -v -w 2 web 80
            web (10.105.26.172:80) open
            / # nc -vz -w2 empty 80
            [exit 1]
            / # nc -vvz -w2 empty 80
            nc: empty (10.109.154.10:80): Connection refused
            [exit 1]
            / # nc -vz nope 80
            nc: bad address 'nope'
            [exit 1]
            / # curl http://web
            sh: curl: not found
            [exit 127]
            / # exit
            $ kubectl exec -n shop probe -- curl -s http://web
            error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "e23abcf3880572296fe753aa667bd9b6898cd26d2be0ee53264a01382a94adf0": OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": executable file not found in $PATH: unknown
            [exit 1]
            $ kubectl exec -it -n shop probe -- bash
            error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "2a67bad08c5e2090c14bcea582e183f3d1c8c833b2cb1b365a85829a20a4e339": OCI runtime exec failed: exec failed: unable to start container process: exec: "bash": executable file not found in $PATH: unknown
            [exit 1]
        "#]],
    );
}

/// Recipe 01's policy (01-deny-all-traffic-to-an-application.md): no
/// ingress to app=web.
const DENY_WEB: &str = "
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-deny-all, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: []
";

/// Recipe 01's policy: no ingress to app=web. BusyBox wget waits out its
/// `--timeout` and says so, as the recipe shows.
#[test]
fn the_recipes_deny_all_times_out_busybox_wget() {
    check(
        &format!("{ALPINE}{DENY_WEB}"),
        &["kubectl exec -it -n shop probe -- sh", "wget -qO- --timeout=2 http://web"],
        expect![[r#"
            $ kubectl exec -it -n shop probe -- sh
            / # wget -qO- --timeout=2 http://web
            wget: download timed out
            [exit 1]
        "#]],
    );
}

/// The network-policy recipes' first step
/// (ahmetb/kubernetes-network-policy-recipes, 01-deny-all-traffic-to-an-
/// application.md): `kubectl run --rm -i -t --image=alpine test-$RANDOM --
/// sh`, then BusyBox wget; the pod is made as kubectl's generator makes it
/// (label run=NAME, or --labels), joins the cluster, and `--rm` deletes it
/// when the session ends. kubectl's own checks (pkg/cmd/run/run.go).
#[test]
fn kubectl_run_as_the_recipes_use_it() {
    let got = live_session(
        DENY_WEB,
        &[
            "kubectl run --rm -i -t --image=alpine test-4821 -- sh",
            "wget -qO- --timeout=2 http://web.shop",
            "exit",
            "kubectl get pods test-4821",
            "kubectl run --rm -i -t --image=alpine -n shop --labels=app=client probe -- nc -v -w 2 web 80",
            "kubectl run web2 --image=nginx -n shop",
            "kubectl get pods -n shop web2",
            "kubectl run web2 --image=nginx -n shop",
            "kubectl run x --rm --image=alpine",
            "kubectl run x",
        ],
    );
    expect![[r#"
        $ kubectl run --rm -i -t --image=alpine test-4821 -- sh
        If you don't see a command prompt, try pressing enter.
        / # wget -qO- --timeout=2 http://web.shop
        wget: download timed out
        [exit 1]
        / # exit
        pod "test-4821" deleted
        $ kubectl get pods test-4821
        Error from server (NotFound): pods "test-4821" not found
        [exit 1]
        $ kubectl run --rm -i -t --image=alpine -n shop --labels=app=client probe -- nc -v -w 2 web 80
        nc: web (10.105.26.172:80): Operation timed out
        pod shop/probe terminated (Error)
        pod "probe" deleted
        [exit 1]
        $ kubectl run web2 --image=nginx -n shop
        pod/web2 created
        $ kubectl get pods -n shop web2
        NAME   READY   STATUS    RESTARTS   AGE
        web2   1/1     Running   0          <unknown>
        $ kubectl run web2 --image=nginx -n shop
        Error from server (AlreadyExists): pods "web2" already exists
        [exit 1]
        $ kubectl run x --rm --image=alpine
        error: --rm should only be used for attached containers
        See 'kubectl run --help' for usage.
        [exit 1]
        $ kubectl run x
        error: required flag(s) "image" not set
        [exit 1]
    "#]]
    .assert_eq(&got);
}
