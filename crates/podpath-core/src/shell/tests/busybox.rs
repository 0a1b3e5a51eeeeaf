//! BusyBox's own ping, traceroute and nslookup in a busybox (or Alpine)
//! image, as BusyBox 1.36's source prints them:
//!
//! networking/ping.c (fancy ping): `PING %s (%s): %d data bytes`, `%d bytes
//! from %s: seq=%u ttl=%d time=%u.%03u ms`, `--- %s ping statistics ---`,
//! `%lu packets transmitted, %lu packets received, %u%% packet loss`,
//! `round-trip min/avg/max = %u.%03u/%u.%03u/%u.%03u ms`; a name that does
//! not resolve is libbb's `bad address '%s'`; exit 1 when nothing came back.
//!
//! networking/traceroute.c: `traceroute to %s (%s), %d hops max, %d byte
//! packets` (46 bytes: IP, UDP, the 18-byte outdata_t), `%2d`, then `  %s
//! (%s)` for the responder and `  %u.%03u ms` per probe, `  *` for silence.
//!
//! networking/nslookup.c: `Server:\t\t%s`, `Address:\t%s` (`ip:53`),
//! per reply `Name:\t%s\nAddress: %s` or `** server can't find %s: %s`
//! and a blank line; a name without a dot asked once per search domain
//! for A and for AAAA, never as written; exit 1 when any reply failed.

use expect_test::expect;

use super::*;

const BUSYBOX: &str = "
---
apiVersion: v1
kind: Pod
metadata: {name: bb, namespace: shop, labels: {app: bb}}
spec:
  containers: [{name: bb, image: busybox:1.36, command: [sleep, '3600']}]
";

#[test]
fn busybox_ping_traceroute_and_nslookup() {
    let c = cluster(BUSYBOX);
    let web = c.pods.iter().find(|p| p.name.starts_with("web-")).and_then(|p| p.ip).unwrap();
    let lines = [
        "kubectl exec -it -n shop bb -- sh".to_owned(),
        format!("ping -c 2 {web}"),
        "ping -c 1 web".to_owned(),
        "ping -c 1 nope".to_owned(),
        "ping -c x web".to_owned(),
        format!("traceroute -n {web}"),
        "nslookup web".to_owned(),
        "nslookup web.shop.svc.cluster.local".to_owned(),
        "nslookup 10.96.0.10".to_owned(),
        "nslookup web 10.96.0.10".to_owned(),
        "nslookup -type=bogus web".to_owned(),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    expect![[r#"
        $ kubectl exec -it -n shop bb -- sh
        / # ping -c 2 192.168.223.193
        PING 192.168.223.193 (192.168.223.193): 56 data bytes
        64 bytes from 192.168.223.193: seq=0 ttl=62 time=0.776 ms
        64 bytes from 192.168.223.193: seq=1 ttl=62 time=0.765 ms

        --- 192.168.223.193 ping statistics ---
        2 packets transmitted, 2 packets received, 0% packet loss
        round-trip min/avg/max = 0.765/0.771/0.776 ms
        / # ping -c 1 web
        PING web (10.105.26.172): 56 data bytes

        --- web ping statistics ---
        1 packets transmitted, 0 packets received, 100% packet loss
        [exit 1]
        / # ping -c 1 nope
        ping: bad address 'nope'
        [exit 1]
        / # ping -c x web
        ping: invalid number 'x'
        [exit 1]
        / # traceroute -n 192.168.223.193
        traceroute to 192.168.223.193 (192.168.223.193), 30 hops max, 46 byte packets
         1  172.18.0.3  0.270 ms  0.307 ms  0.296 ms
         2  192.168.223.192  0.605 ms  0.594 ms  0.615 ms
         3  192.168.223.193  0.764 ms  0.752 ms  0.763 ms
        / # nslookup web
        Server:		10.96.0.10
        Address:	10.96.0.10:53

        Name:	web.shop.svc.cluster.local
        Address: 10.105.26.172

        ** server can't find web.svc.cluster.local: NXDOMAIN

        ** server can't find web.cluster.local: NXDOMAIN


        ** server can't find web.svc.cluster.local: NXDOMAIN

        ** server can't find web.cluster.local: NXDOMAIN

        [exit 1]
        / # nslookup web.shop.svc.cluster.local
        Server:		10.96.0.10
        Address:	10.96.0.10:53

        Name:	web.shop.svc.cluster.local
        Address: 10.105.26.172


        / # nslookup 10.96.0.10
        Server:		10.96.0.10
        Address:	10.96.0.10:53

        10.0.96.10.in-addr.arpa	name = kube-dns.kube-system.svc.cluster.local

        / # nslookup web 10.96.0.10
        Server:		10.96.0.10
        Address:	10.96.0.10:53

        ** server can't find web: NXDOMAIN

        ** server can't find web: NXDOMAIN

        [exit 1]
        / # nslookup -type=bogus web
        nslookup: invalid query type "bogus"
        [exit 1]
    "#]]
    .assert_eq(&session(&c, &lines));
}

/// A default deny that forgets DNS: every query is lost, so BusyBox's
/// nslookup prints only its timeout line (no Server header: none
/// answered).
#[test]
fn busybox_nslookup_without_dns() {
    check(
        &format!("{BUSYBOX}{DENY}"),
        &["kubectl exec -n shop bb -- nslookup web"],
        expect![[r#"
            $ kubectl exec -n shop bb -- nslookup web
            ;; connection timed out; no servers could be reached

            command terminated with exit code 1
            [exit 1]
        "#]],
    );
}
