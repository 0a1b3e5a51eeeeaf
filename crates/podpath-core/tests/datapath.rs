//! Each plugin's datapath in traces: the routes a trace quotes are the
//! lines `ip route` prints for that node, the TTL drops where a router hop
//! happens (as a cross-node ping shows on real clusters: 62 through
//! Flannel and Calico, 63 through Cilium's eBPF, 64 across Weave's L2),
//! tunnels add and remove outer headers, replies come back through the
//! datapath and are un-NATed where the request was rewritten. The traces
//! themselves are fixtures per plugin (`traces/CNI-*.trace`).

use std::path::Path;

use podpath_core::cluster::ClusterIp;
use podpath_core::datapath;
use podpath_core::trace::{trace, From, Request, To, Trace};
use podpath_core::{simulate_with, Cluster, Cni, Overrides, Source};

const CNIS: [Cni; 4] = [Cni::Flannel, Cni::Calico, Cni::Cilium, Cni::Weave];

fn shop(cni: Cni, extra: &str) -> Cluster {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/scenarios/shop.yaml");
    let text = std::fs::read_to_string(file).unwrap() + extra;
    simulate_with(&[Source::new("shop.yaml", text)], &Overrides { cni: Some(cni), ..Overrides::default() }).0
}

fn pod<'a>(c: &'a Cluster, prefix: &str, other_than_node: Option<&str>) -> &'a podpath_core::Pod {
    c.pods
        .iter()
        .find(|p| p.namespace == "shop" && p.name.starts_with(prefix) && p.node.as_deref() != other_than_node)
        .unwrap()
}

fn req(from: &podpath_core::Pod, to: To, port: u16) -> Request {
    Request {
        from: From::Pod { namespace: from.namespace.clone(), name: from.name.clone() },
        to,
        port,
        protocol: podpath_core::cluster::Protocol::Tcp,
        node: None,
        seed: 1,
    }
}

fn cross_node(c: &Cluster) -> Trace {
    let client = pod(c, "frontend-", None);
    let server = pod(c, "api-", client.node.as_deref());
    trace(c, &req(client, To::Pod { namespace: "shop".into(), name: server.name.clone() }, 8080)).unwrap()
}

#[test]
fn a_cross_node_trace_drops_the_ttl_as_each_plugin_does_and_tunnels_when_it_must() {
    for (cni, ttl, encap) in [
        (Cni::Flannel, 62, Some("vxlan")),
        (Cni::Calico, 62, Some("ipip")),
        (Cni::Cilium, 63, Some("vxlan")),
        (Cni::Weave, 64, Some("vxlan")),
    ] {
        let c = shop(cni, "");
        let t = cross_node(&c);
        assert_eq!(t.verdict.as_str(), "delivered", "{cni}: {}", t.reason);
        assert_eq!(t.hops.last().unwrap().packet.ttl, ttl, "{cni}");
        let tunneled: Vec<_> = t.hops.iter().filter_map(|h| h.packet.outer.as_ref()).collect();
        assert_eq!(tunneled.first().map(|o| o.encap.name()), encap, "{cni}");
        let o = tunneled[0];
        let (a, b) = (t.hops[0].node.clone().unwrap(), t.destination_node.clone().unwrap());
        assert_eq!(Some(o.src), c.node(&a).unwrap().internal_ip, "{cni}: outer source is the sending node");
        assert_eq!(Some(o.dst), c.node(&b).unwrap().internal_ip, "{cni}: outer destination is the receiving node");
        assert!(t.hops.last().unwrap().packet.outer.is_none(), "{cni}: decapsulated before delivery");
    }
}

#[test]
fn on_one_node_nothing_is_encapsulated() {
    for cni in CNIS {
        let c = shop(cni, "");
        let client = pod(&c, "frontend-", None);
        let server =
            c.pods.iter().find(|p| p.namespace == "shop" && p.name != client.name && p.node == client.node).unwrap();
        let t = trace(&c, &req(client, To::Pod { namespace: "shop".into(), name: server.name.clone() }, 8080)).unwrap();
        assert_eq!(t.verdict.as_str(), "delivered", "{cni}: {}", t.reason);
        assert!(t.hops.iter().all(|h| h.packet.outer.is_none()), "{cni}");
        assert!(t.hops.iter().all(|h| h.node == client.node), "{cni}");
    }
}

#[test]
fn a_reply_crosses_back_and_is_un_natted_on_the_clients_node() {
    let modes = CNIS.iter().map(|c| (*c, None)).chain([(Cni::Cilium, Some(podpath_core::ProxyMode::Ebpf))]);
    for (cni, mode) in modes {
        let c = match mode {
            None => shop(cni, ""),
            Some(m) => {
                let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/scenarios/shop.yaml");
                let o = Overrides { cni: Some(cni), proxy_mode: Some(m), ..Overrides::default() };
                simulate_with(&[Source::new("shop.yaml", std::fs::read_to_string(file).unwrap())], &o).0
            }
        };
        let client = pod(&c, "frontend-", None);
        let ClusterIp::Ip(api) = c.service("shop", "api").unwrap().cluster_ip else { panic!() };
        let t = (0..8)
            .map(|seed| trace(&c, &Request { seed, ..req(client, To::Ip(api), 80) }).unwrap())
            .find(|t| t.destination_node != client.node)
            .expect("some seed picks an endpoint on another node");
        let last = t.reply.last().unwrap();
        assert_eq!(last.action, podpath_core::step::Action::Delivered, "{cni}");
        assert_eq!(last.node, client.node, "{cni}");
        if c.settings.proxy_mode == podpath_core::ProxyMode::Ebpf {
            // Balanced at connect(): nothing to un-NAT on the wire; the
            // socket layer shows the application the Service's address.
            assert!(t.reply.iter().all(|h| h.action != podpath_core::step::Action::UnNat), "{cni}");
            assert_eq!((last.packet.src, last.packet.sport), (t.destination_ip, t.destination_port), "{cni}");
            assert!(last.detail.contains("socket layer"), "{}", last.detail);
        } else {
            assert_eq!((last.packet.src, last.packet.sport), (api, 80), "{cni}: from the ClusterIP");
            let un = t.reply.iter().find(|h| h.action == podpath_core::step::Action::UnNat).unwrap();
            assert_eq!(un.node, client.node, "{cni}");
        }
        assert!(t.reply.iter().any(|h| h.packet.outer.is_some()), "{cni}: the reply is tunneled back too");
    }
}

#[test]
fn flannels_fdb_and_arp_entries_name_the_other_nodes_vtep() {
    let c = shop(Cni::Flannel, "");
    let net = datapath::build(&c);
    for n in &net.nodes {
        for other in net.nodes.iter().filter(|o| o.node != n.node) {
            let vtep = other.host.link("flannel.1").unwrap();
            let ip = c.node(&other.node).unwrap().internal_ip.unwrap();
            // `bridge fdb`: the other node's VTEP MAC is behind its address.
            assert!(n.host.fdb.iter().any(|e| e.mac == vtep.mac && e.dst == ip), "{} -> {}", n.node, other.node);
            // `ip neigh`: flannel.1's address on the other node has that MAC.
            let addr = vtep.addrs[0].addr();
            assert!(n.host.ip_neigh().contains(&format!("{addr} dev flannel.1 lladdr {} PERMANENT", vtep.mac)));
        }
    }
}

fn with_encapsulation(cni: Cni, encapsulation: &str) -> Cluster {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/scenarios/shop.yaml");
    let text = std::fs::read_to_string(file).unwrap();
    let o = Overrides { cni: Some(cni), encapsulation: Some(encapsulation.into()), ..Overrides::default() };
    simulate_with(&[Source::new("shop.yaml", text)], &o).0
}

fn tunnel(t: &Trace) -> datapath::Encap {
    t.hops.iter().find_map(|h| h.packet.outer.as_ref()).expect("an encapsulated hop").encap
}

#[test]
fn the_tunnel_header_carries_what_each_plugin_puts_there() {
    // Cilium: the sender's security identity, the same for every pod with
    // the same labels in the same namespace, from 256 up.
    let c = shop(Cni::Cilium, "");
    let t = cross_node(&c);
    let datapath::Encap::Vxlan { vni, port: 8472 } = tunnel(&t) else { panic!("{:?}", tunnel(&t)) };
    let client = pod(&c, "frontend-", None);
    let twin = c.pods.iter().find(|p| p.name.starts_with("frontend-") && p.name != client.name).unwrap();
    let api = pod(&c, "api-", None);
    assert!((256..65536).contains(&vni), "{vni}");
    assert_eq!(vni, datapath::cilium_identity(&c, client.ip.unwrap()));
    assert_eq!(vni, datapath::cilium_identity(&c, twin.ip.unwrap()), "replicas share an identity");
    assert_ne!(vni, datapath::cilium_identity(&c, api.ip.unwrap()));
    assert_eq!(datapath::cilium_identity(&c, c.nodes[0].internal_ip.unwrap()), 1, "reserved:host");
    assert_eq!(datapath::cilium_identity(&c, "203.0.113.9".parse().unwrap()), 2, "reserved:world");
    let c = with_encapsulation(Cni::Cilium, "geneve");
    assert!(matches!(tunnel(&cross_node(&c)), datapath::Encap::Geneve { vni, port: 6081 } if vni >= 256));

    // Weave fastdp: the two peers' 12-bit short ids; the reply swaps them.
    let c = shop(Cni::Weave, "");
    let t = cross_node(&c);
    let datapath::Encap::Vxlan { vni, port: 6784 } = tunnel(&t) else { panic!() };
    let back = t.reply.iter().find_map(|h| h.packet.outer.as_ref()).unwrap().encap;
    let datapath::Encap::Vxlan { vni: back, .. } = back else { panic!() };
    assert_eq!((vni >> 12, vni & 0xfff), (back & 0xfff, back >> 12));
    assert_ne!(vni >> 12, vni & 0xfff);

    // Weave sleeve: the router's own UDP port both ways, no VXLAN device.
    let c = with_encapsulation(Cni::Weave, "sleeve");
    let t = cross_node(&c);
    let outer = t.hops.iter().find_map(|h| h.packet.outer.clone()).unwrap();
    assert!(matches!(outer.encap, datapath::Encap::Sleeve { port: 6783, .. }));
    assert_eq!(outer.sport, 6783);
    let net = datapath::build(&c);
    let links: Vec<&str> = net.nodes[1].host.links.iter().map(|l| l.name.as_str()).collect();
    assert!(
        links.contains(&"vethwe-pcap") && !links.contains(&"vxlan-6784") && !links.contains(&"datapath"),
        "{links:?}"
    );
}

#[test]
fn a_walk_steps_through_request_and_reply_and_shows_each_rewrite() {
    use podpath_core::trace::walk::{Change, Leg, Walk};
    let c = shop(Cni::Flannel, "");
    let client = pod(&c, "frontend-", None);
    let ClusterIp::Ip(api) = c.service("shop", "api").unwrap().cluster_ip else { panic!() };
    // A seed whose pick lives on the other node, so the walk crosses the tunnel.
    let t = (0..40)
        .map(|seed| trace(&c, &Request { seed, ..req(client, To::Ip(api), 80) }).unwrap())
        .find(|t| t.destination_node.is_some() && t.destination_node != client.node)
        .expect("some seed picks the other node's api pod");
    let same = trace(&c, &Request { seed: 0, ..req(client, To::Ip(api), 80) }).unwrap();
    assert_eq!(same, trace(&c, &Request { seed: 0, ..req(client, To::Ip(api), 80) }).unwrap(), "deterministic");

    let mut w = Walk::new(&t);
    assert_eq!((w.position(), w.back()), (None, None));
    let whole = w.clone().run();
    assert_eq!(whole.len(), t.hops.len() + t.reply.len());
    assert!(whole.iter().zip(t.hops.iter().chain(&t.reply)).all(|(f, h)| f.hop == h), "the walk is the trace");
    assert_eq!(whole.iter().filter(|f| f.leg == Leg::Reply).count(), t.reply.len());

    let changes: Vec<(Leg, Change)> = whole.iter().flat_map(|f| f.changes.iter().map(|c| (f.leg, c.clone()))).collect();
    let chosen = t.service.chosen.clone().unwrap();
    let service = format!("{api}:80");
    assert!(
        changes.contains(&(Leg::Request, Change::Destination { from: service.clone(), to: chosen.clone() })),
        "DNAT: {changes:?}"
    );
    assert!(changes
        .iter()
        .any(|(l, c)| *l == Leg::Request && matches!(c, Change::Encapsulated { encap: "vxlan", .. })));
    assert!(changes.iter().any(|(l, c)| *l == Leg::Request && matches!(c, Change::Decapsulated { encap: "vxlan" })));
    assert!(
        changes.contains(&(Leg::Reply, Change::Source { from: chosen, to: service })),
        "un-DNAT on the way back: {changes:?}"
    );

    // Forward, back, and straight to a hop.
    let first = w.step().unwrap();
    assert_eq!((first.index, first.before), (0, None));
    let second = w.step().unwrap();
    assert_eq!(second.before, Some(&t.hops[0].packet));
    assert_eq!(w.back().unwrap().index, 0);
    assert_eq!(w.back(), None, "no hop before the first");
    let last = w.seek(usize::MAX).unwrap();
    assert_eq!(last.index, whole.len() - 1);
    assert!(w.finished() && w.step().is_none());
    let reply_start = w.seek(t.hops.len()).unwrap();
    assert_eq!((reply_start.leg, reply_start.before), (Leg::Reply, None));
}
