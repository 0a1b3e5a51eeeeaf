//! The CNI plugin's plumbing on each node, as data: network namespaces
//! (the host's and one per pod), their links, addresses and routes, the
//! VXLAN forwarding entries — rendered as `ip addr`, `ip route` and `bridge
//! fdb` print them, and used to forward packets by looking routes up the
//! way the kernel does (longest prefix wins), so a trace hop quotes the
//! route line that sent the packet on.
//!
//! Per plugin (defaults of its stock manifest on a kind node):
//! - Flannel, VXLAN backend: pods on the `cni0` bridge (veths `veth…`),
//!   `flannel.1` (VNI 1, UDP 8472) with a `/24 via 10.244.N.0 onlink` route
//!   per other node and an FDB entry naming that node's address.
//! - Calico, IP-in-IP: no bridge; `cali…` veths with the 169.254.1.1
//!   gateway answered by proxy ARP, a `/32 dev cali… scope link` route per
//!   local pod, a blackhole for the node's own block and `via NODE dev
//!   tunl0 onlink` (BGP-learned, `proto bird`) for the others' blocks.
//! - Cilium, VXLAN tunnel: `lxc…` veths, `cilium_host`/`cilium_net`,
//!   `cilium_vxlan` (UDP 8472); the node's routes point pod CIDRs at
//!   `cilium_host` and eBPF does the forwarding and encapsulation.
//! - Weave Net, fastdp: one L2 network over the whole range on the `weave`
//!   bridge; other nodes' pods are reached through the `datapath` device
//!   (Open vSwitch), which encapsulates in VXLAN on UDP 6784 with the two
//!   peers' short ids as the VNI. Sleeve: no datapath; the router process
//!   captures on `vethwe-pcap` and sends frames in its own UDP format on
//!   6783.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::cluster::{Cluster, Pod};
use crate::names::fnv64a;
pub use crate::packet::{Encap, Mac, Outer};
use crate::settings::{Cni, Encapsulation};
use crate::step::{Action, Place, Step, Tunnel};

/// What kind of link, with what `ip -d link` would add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Loopback,
    /// The node's uplink.
    Ether,
    /// One end of a veth pair; the other end's namespace (empty when it
    /// is in this one) and index.
    Veth {
        peer_netns: String,
        peer_index: u32,
    },
    Bridge,
    Vxlan {
        vni: u32,
        port: u16,
    },
    Ipip,
    /// Weave's Open vSwitch datapath, or another virtual device.
    Other(&'static str),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub kind: Kind,
    pub mtu: u32,
    pub mac: Mac,
    /// Addresses with their prefix as configured.
    pub addrs: Vec<IpNet>,
    pub master: Option<String>,
}

/// One line of `ip route`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// `None` is the default route.
    pub dst: Option<IpNet>,
    pub via: Option<IpAddr>,
    /// Empty for a blackhole.
    pub dev: String,
    pub proto: Option<&'static str>,
    pub scope_link: bool,
    pub src: Option<IpAddr>,
    pub onlink: bool,
    pub blackhole: bool,
    pub mtu: Option<u16>,
}

impl Route {
    /// The route the kernel adds for an address on a device: `NET dev DEV
    /// proto kernel scope link src ADDR`.
    fn connected(net: IpNet, dev: &str, src: IpAddr) -> Route {
        Route { proto: Some("kernel"), scope_link: true, src: Some(src), ..Route::to(Some(net.trunc()), dev) }
    }

    fn to(dst: Option<IpNet>, dev: &str) -> Route {
        Route {
            dst,
            via: None,
            dev: dev.to_owned(),
            proto: None,
            scope_link: false,
            src: None,
            onlink: false,
            blackhole: false,
            mtu: None,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.blackhole {
            f.write_str("blackhole ")?;
        }
        match self.dst {
            None => f.write_str("default")?,
            Some(n) if n.prefix_len() == n.max_prefix_len() => write!(f, "{}", n.addr())?,
            Some(n) => write!(f, "{n}")?,
        }
        if let Some(v) = self.via {
            write!(f, " via {v}")?;
        }
        if !self.dev.is_empty() {
            write!(f, " dev {}", self.dev)?;
        }
        if let Some(p) = self.proto {
            write!(f, " proto {p}")?;
        }
        if self.scope_link {
            f.write_str(" scope link")?;
        }
        if let Some(s) = self.src {
            write!(f, " src {s}")?;
        }
        if let Some(m) = self.mtu {
            write!(f, " mtu {m}")?;
        }
        if self.onlink {
            f.write_str(" onlink")?;
        }
        Ok(())
    }
}

/// A VXLAN forwarding entry: the remote VTEP behind a MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fdb {
    pub mac: Mac,
    pub dev: String,
    pub dst: IpAddr,
}

/// A neighbour (ARP) entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neigh {
    pub ip: IpAddr,
    pub dev: String,
    pub mac: Mac,
    /// `PERMANENT` for what a plugin programs, `REACHABLE` for what ARP
    /// learned on the way.
    pub state: &'static str,
}

/// A network namespace: the host's, or a pod's.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Netns {
    pub links: Vec<Link>,
    pub routes: Vec<Route>,
    pub fdb: Vec<Fdb>,
    pub neigh: Vec<Neigh>,
}

impl Netns {
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    /// The route the kernel picks for `dst`: the longest prefix that
    /// contains it.
    pub fn lookup(&self, dst: IpAddr) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| r.dst.is_none_or(|n| n.contains(&dst)))
            .max_by_key(|r| r.dst.map_or(0, |n| n.prefix_len() + 1))
    }

    /// `ip addr`.
    pub fn ip_addr(&self) -> String {
        let mut out = String::new();
        for l in &self.links {
            let (flags, state, qdisc) = match l.kind {
                Kind::Loopback => ("LOOPBACK,UP,LOWER_UP", "UNKNOWN", "noqueue"),
                Kind::Ipip => ("NOARP,UP,LOWER_UP", "UNKNOWN", "noqueue"),
                Kind::Vxlan { .. } | Kind::Other(_) => ("BROADCAST,MULTICAST,UP,LOWER_UP", "UNKNOWN", "noqueue"),
                Kind::Ether => ("BROADCAST,MULTICAST,UP,LOWER_UP", "UP", "noqueue"),
                Kind::Veth { .. } | Kind::Bridge => ("BROADCAST,MULTICAST,UP,LOWER_UP", "UP", "noqueue"),
            };
            let name = match &l.kind {
                Kind::Veth { peer_netns, peer_index } if peer_netns.is_empty() => {
                    let peer = self.links.iter().find(|p| p.index == *peer_index);
                    format!("{}@{}", l.name, peer.map_or("NONE", |p| p.name.as_str()))
                }
                Kind::Veth { peer_index, .. } => format!("{}@if{peer_index}", l.name),
                _ => l.name.clone(),
            };
            let master = l.master.as_ref().map(|m| format!(" master {m}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{}: {name}: <{flags}> mtu {} qdisc {qdisc}{master} state {state} group default",
                l.index, l.mtu
            );
            match l.kind {
                Kind::Loopback => out.push_str("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"),
                Kind::Ipip => out.push_str("    link/ipip 0.0.0.0 brd 0.0.0.0\n"),
                _ => {
                    let _ = writeln!(out, "    link/ether {} brd ff:ff:ff:ff:ff:ff", l.mac);
                }
            }
            for a in &l.addrs {
                let scope = if a.addr().is_loopback() { "host" } else { "global" };
                let brd = match a {
                    IpNet::V4(v4) if v4.prefix_len() < 31 && !v4.addr().is_loopback() => {
                        format!(" brd {}", v4.broadcast())
                    }
                    _ => String::new(),
                };
                let _ = writeln!(out, "    inet {a}{brd} scope {scope} {}", l.name);
                out.push_str("       valid_lft forever preferred_lft forever\n");
            }
        }
        out
    }

    /// `ip route`: the default route first, then by destination.
    pub fn ip_route(&self) -> String {
        let mut routes: Vec<&Route> = self.routes.iter().collect();
        routes.sort_by_key(|r| r.dst.map(|n| (1, n.network(), n.prefix_len())).unwrap_or((0, n0(), 0)));
        routes.iter().map(|r| format!("{r}\n")).collect()
    }

    /// `ip neigh`.
    pub fn ip_neigh(&self) -> String {
        self.neigh.iter().map(|n| format!("{} dev {} lladdr {} {}\n", n.ip, n.dev, n.mac, n.state)).collect()
    }

    /// `bridge fdb show` for the VXLAN devices.
    pub fn bridge_fdb(&self) -> String {
        self.fdb.iter().map(|e| format!("{} dev {} dst {} self permanent\n", e.mac, e.dev, e.dst)).collect()
    }
}

fn n0() -> IpAddr {
    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
}

/// One node's namespaces.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NodeNet {
    pub node: String,
    pub host: Netns,
    /// By `ns/name`.
    pub pods: BTreeMap<String, Netns>,
    /// The host-side veth of each pod.
    pub pod_veth: BTreeMap<String, String>,
}

/// The cluster's plumbing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    pub cni: Cni,
    pub encapsulation: Encapsulation,
    pub nodes: Vec<NodeNet>,
}

/// `lo`, first in every namespace.
fn loopback() -> Link {
    Link {
        index: 1,
        name: "lo".into(),
        kind: Kind::Loopback,
        mtu: 65536,
        mac: Mac([0; 6]),
        addrs: vec!["127.0.0.1/8".parse().expect("literal")],
        master: None,
    }
}

/// The uplink and the routes every kind node has.
fn host_base(node_ip: Option<IpAddr>) -> Netns {
    let mut ns = Netns::default();
    ns.links.push(loopback());
    if let Some(ip) = node_ip {
        let net = IpNet::new(ip, 16).expect("valid prefix");
        ns.links.push(Link {
            index: 2,
            name: "eth0".into(),
            kind: Kind::Ether,
            mtu: 1500,
            mac: Mac::from_name(&format!("eth0 {ip}")),
            addrs: vec![net],
            master: None,
        });
        // The docker network's gateway, its first address, as kind has it.
        if let IpNet::V4(v4) = net {
            let mut d = Route::to(None, "eth0");
            d.via = Some(IpAddr::V4(Ipv4Addr::from(u32::from(v4.network()) + 1)));
            ns.routes.push(d);
        }
        ns.routes.push(Route::connected(net, "eth0", ip));
    }
    ns
}

/// A pod's own namespace: lo and eth0, and its routes.
fn pod_netns(pod: &Pod, ip: IpAddr, prefix: u8, mtu: u32, host_index: u32, routes: Vec<Route>) -> Netns {
    let mut ns = Netns::default();
    ns.links.push(loopback());
    ns.links.push(Link {
        index: 2,
        name: "eth0".into(),
        kind: Kind::Veth { peer_netns: "host".into(), peer_index: host_index },
        mtu,
        mac: Mac::from_name(&format!("eth0 {}", pod.key())),
        addrs: vec![IpNet::new(ip, prefix).expect("valid prefix")],
        master: None,
    });
    ns.routes = routes;
    ns
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The host-side veth name each plugin gives a pod.
fn veth_name(cni: Cni, pod: &Pod) -> String {
    let h = fnv64a(pod.key().as_bytes()).to_be_bytes();
    match cni {
        Cni::Calico => format!("cali{}", &hex(&crate_sha1(&format!("{}.{}", pod.namespace, pod.name)))[..11]),
        Cni::Cilium => format!("lxc{}", &hex(&h)[..12]),
        Cni::Weave => format!("vethwepl{}", &hex(&h)[..7]),
        Cni::Flannel => format!("veth{}", &hex(&h)[..8]),
    }
}

fn crate_sha1(s: &str) -> Vec<u8> {
    use sha1::{Digest, Sha1};
    Sha1::digest(s.as_bytes()).to_vec()
}

/// Builds every node's plumbing for the cluster's plugin.
pub fn build(cluster: &Cluster) -> Network {
    let cni = cluster.settings.cni;
    let enc = cluster.settings.encapsulation;
    let mut nodes = Vec::new();
    for node in &cluster.nodes {
        let mut net = NodeNet { node: node.name.clone(), host: host_base(node.internal_ip), ..NodeNet::default() };
        let gw = node.network.gateway;
        let range = node.network.pod_ranges.first().copied();
        let host = &mut net.host;
        // Links are numbered in the order they were made.
        let next = |host: &Netns| host.links.len() as u32 + 1;
        let add = |host: &mut Netns, mut l: Link| {
            l.index = next(host);
            host.links.push(l);
        };
        // The plugin's own devices and routes on the host.
        let (pod_mtu, bridge) = match cni {
            Cni::Flannel => {
                let host_gw = enc == Encapsulation::Direct;
                let mtu = if host_gw { 1500 } else { 1450 };
                if !host_gw {
                    add(
                        host,
                        Link {
                            index: 0,
                            name: "flannel.1".into(),
                            kind: Kind::Vxlan { vni: 1, port: 8472 },
                            mtu,
                            mac: flannel_mac(&node.name),
                            addrs: range.map(|r| IpNet::new(r.network(), 32).expect("valid")).into_iter().collect(),
                            master: None,
                        },
                    );
                }
                add(
                    host,
                    Link {
                        index: 0,
                        name: "cni0".into(),
                        kind: Kind::Bridge,
                        mtu,
                        mac: Mac::from_name(&format!("cni0 {}", node.name)),
                        addrs: gw
                            .zip(range)
                            .map(|(g, r)| IpNet::new(g, r.prefix_len()).expect("valid"))
                            .into_iter()
                            .collect(),
                        master: None,
                    },
                );
                if let (Some(g), Some(r)) = (gw, range) {
                    host.routes.push(Route::connected(r, "cni0", g));
                }
                for other in cluster.nodes.iter().filter(|o| o.name != node.name) {
                    let (Some(r), Some(ip)) = (other.network.pod_ranges.first(), other.internal_ip) else { continue };
                    if host_gw {
                        // host-gw: plain routes to each node's subnet.
                        let mut rt = Route::to(Some(*r), "eth0");
                        rt.via = Some(ip);
                        host.routes.push(rt);
                    } else {
                        let mut rt = Route::to(Some(*r), "flannel.1");
                        rt.via = Some(r.network());
                        rt.onlink = true;
                        host.routes.push(rt);
                        host.fdb.push(Fdb { mac: flannel_mac(&other.name), dev: "flannel.1".into(), dst: ip });
                        // flanneld programs the ARP entry of the other end too.
                        host.neigh.push(Neigh {
                            ip: r.network(),
                            dev: "flannel.1".into(),
                            mac: flannel_mac(&other.name),
                            state: "PERMANENT",
                        });
                    }
                }
                (mtu, Some("cni0"))
            }
            Cni::Calico => {
                let vxlan = matches!(enc, Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet);
                if vxlan {
                    add(
                        host,
                        Link {
                            index: 0,
                            name: "vxlan.calico".into(),
                            kind: Kind::Vxlan { vni: 4096, port: 4789 },
                            mtu: 1450,
                            mac: calico_vxlan_mac(&node.name),
                            addrs: gw.map(|g| IpNet::new(g, 32).expect("valid")).into_iter().collect(),
                            master: None,
                        },
                    );
                } else if enc != Encapsulation::Direct {
                    add(
                        host,
                        Link {
                            index: 0,
                            name: "tunl0".into(),
                            kind: Kind::Ipip,
                            mtu: 1480,
                            mac: Mac([0; 6]),
                            addrs: gw.map(|g| IpNet::new(g, 32).expect("valid")).into_iter().collect(),
                            master: None,
                        },
                    );
                }
                for block in &node.network.pod_ranges {
                    let mut rt = Route::to(Some(*block), "");
                    rt.blackhole = true;
                    rt.proto = Some("bird");
                    host.routes.push(rt);
                }
                for other in cluster.nodes.iter().filter(|o| o.name != node.name) {
                    let Some(ip) = other.internal_ip else { continue };
                    for block in &other.network.pod_ranges {
                        // kind's nodes share one subnet: CrossSubnet and None
                        // route straight over eth0.
                        let mut rt = match enc {
                            Encapsulation::Vxlan => {
                                let mut rt = Route::to(Some(*block), "vxlan.calico");
                                rt.via = other.network.gateway;
                                rt.proto = Some("80");
                                rt.onlink = true;
                                rt
                            }
                            Encapsulation::Default | Encapsulation::Ipip => {
                                let mut rt = Route::to(Some(*block), "tunl0");
                                rt.via = Some(ip);
                                rt.proto = Some("bird");
                                rt.onlink = true;
                                rt
                            }
                            _ => {
                                let mut rt = Route::to(Some(*block), "eth0");
                                rt.via = Some(ip);
                                rt.proto = Some(if vxlan { "80" } else { "bird" });
                                rt
                            }
                        };
                        rt.dst = Some(*block);
                        host.routes.push(rt);
                    }
                    if enc == Encapsulation::Vxlan {
                        host.fdb.push(Fdb { mac: calico_vxlan_mac(&other.name), dev: "vxlan.calico".into(), dst: ip });
                        if let Some(remote) = other.network.gateway {
                            host.neigh.push(Neigh {
                                ip: remote,
                                dev: "vxlan.calico".into(),
                                mac: calico_vxlan_mac(&other.name),
                                state: "PERMANENT",
                            });
                        }
                    }
                }
                let veth_mtu = match enc {
                    Encapsulation::Default | Encapsulation::Ipip | Encapsulation::IpipCrossSubnet => 1480,
                    Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet => 1450,
                    _ => 1500,
                };
                (veth_mtu, None)
            }
            Cni::Cilium => {
                let host_mac = Mac::from_name(&format!("cilium_host {}", node.name));
                add(
                    host,
                    Link {
                        index: 0,
                        name: "cilium_net".into(),
                        kind: Kind::Veth { peer_netns: String::new(), peer_index: next(host) + 1 },
                        mtu: 1500,
                        mac: Mac::from_name(&format!("cilium_net {}", node.name)),
                        addrs: vec![],
                        master: None,
                    },
                );
                add(
                    host,
                    Link {
                        index: 0,
                        name: "cilium_host".into(),
                        kind: Kind::Veth { peer_netns: String::new(), peer_index: next(host) - 1 },
                        mtu: 1500,
                        mac: host_mac,
                        addrs: gw.map(|g| IpNet::new(g, 32).expect("valid")).into_iter().collect(),
                        master: None,
                    },
                );
                if enc != Encapsulation::Direct {
                    let (name, port) =
                        if enc == Encapsulation::Geneve { ("cilium_geneve", 6081) } else { ("cilium_vxlan", 8472) };
                    add(
                        host,
                        Link {
                            index: 0,
                            name: name.into(),
                            kind: Kind::Vxlan { vni: 0, port },
                            mtu: 1500,
                            mac: Mac::from_name(&format!("{name} {}", node.name)),
                            addrs: vec![],
                            master: None,
                        },
                    );
                }
                for n in &cluster.nodes {
                    let (Some(r), Some(g)) = (n.network.pod_ranges.first(), gw) else { continue };
                    if enc == Encapsulation::Direct && n.name != node.name {
                        // Native routing with direct routes to each node.
                        let mut rt = Route::to(Some(*r), "eth0");
                        rt.via = n.internal_ip;
                        host.routes.push(rt);
                        continue;
                    }
                    let mut rt = Route::to(Some(*r), "cilium_host");
                    rt.via = Some(g);
                    rt.proto = Some("kernel");
                    rt.src = Some(g);
                    if n.name != node.name {
                        // VXLAN and Geneve both take 50 bytes of the 1500.
                        rt.mtu = Some(1450);
                    }
                    host.routes.push(rt);
                }
                if let Some(g) = gw {
                    let mut rt = Route::to(Some(IpNet::new(g, 32).expect("valid")), "cilium_host");
                    rt.proto = Some("kernel");
                    rt.scope_link = true;
                    host.routes.push(rt);
                }
                (1500, None)
            }
            Cni::Weave => {
                let whole = cluster.settings.cluster_cidr;
                let sleeve = enc == Encapsulation::Sleeve;
                let dev = |name: &str, kind: Kind, master: Option<&str>| Link {
                    index: 0,
                    name: name.into(),
                    kind,
                    mtu: 1376,
                    mac: Mac::from_name(&format!("{name} {}", node.name)),
                    addrs: vec![],
                    master: master.map(str::to_owned),
                };
                // fastdp: the Open vSwitch datapath, the bridge, a veth pair
                // between them, and the datapath's VXLAN port. Sleeve: the
                // bridge and a veth pair whose far end the router captures on.
                if !sleeve {
                    add(host, dev("datapath", Kind::Other("openvswitch"), None));
                }
                let mut bridge = dev("weave", Kind::Bridge, None);
                bridge.addrs = gw.map(|g| IpNet::new(g, whole.prefix_len()).expect("valid")).into_iter().collect();
                add(host, bridge);
                let far = if sleeve { "vethwe-pcap" } else { "vethwe-datapath" };
                let first = next(host);
                let same_ns = |peer_index| Kind::Veth { peer_netns: String::new(), peer_index };
                add(host, dev(far, same_ns(first + 1), (!sleeve).then_some("datapath")));
                add(host, dev("vethwe-bridge", same_ns(first), Some("weave")));
                if !sleeve {
                    let mut vx = dev("vxlan-6784", Kind::Vxlan { vni: 0, port: 6784 }, Some("datapath"));
                    vx.mtu = 65535;
                    add(host, vx);
                }
                if let Some(g) = gw {
                    host.routes.push(Route::connected(whole, "weave", g));
                }
                (1376, Some("weave"))
            }
        };
        // One veth pair per pod with its own network.
        let mut pods: Vec<&Pod> =
            cluster.pods.iter().filter(|p| p.node.as_deref() == Some(node.name.as_str()) && !p.host_network).collect();
        pods.sort_by_key(|p| p.key());
        for pod in pods {
            let Some(ip) = pod.ip else { continue };
            let veth = veth_name(cni, pod);
            let host_index = next(host);
            let host_mac = if cni == Cni::Calico { Mac([0xee; 6]) } else { Mac::from_name(&format!("{veth} host")) };
            add(
                host,
                Link {
                    index: 0,
                    name: veth.clone(),
                    kind: Kind::Veth { peer_netns: pod.key(), peer_index: 2 },
                    mtu: pod_mtu,
                    mac: host_mac,
                    addrs: vec![],
                    master: bridge.map(str::to_owned),
                },
            );
            let (prefix, routes) = match cni {
                Cni::Calico => {
                    let mut rt = Route::to(Some(IpNet::new(ip, 32).expect("valid")), &veth);
                    rt.scope_link = true;
                    host.routes.push(rt);
                    let gateway: IpAddr = IpAddr::V4(Ipv4Addr::new(169, 254, 1, 1));
                    let mut d = Route::to(None, "eth0");
                    d.via = Some(gateway);
                    let mut g = Route::to(Some(IpNet::new(gateway, 32).expect("valid")), "eth0");
                    g.scope_link = true;
                    (32, vec![d, g])
                }
                Cni::Cilium => {
                    let Some(g) = gw else { continue };
                    let mut d = Route::to(None, "eth0");
                    d.via = Some(g);
                    // Room for the tunnel's headers, unless routing natively.
                    d.mtu = (enc != Encapsulation::Direct).then_some(1450);
                    let mut r = Route::to(Some(IpNet::new(g, 32).expect("valid")), "eth0");
                    r.scope_link = true;
                    (32, vec![d, r])
                }
                Cni::Flannel | Cni::Weave => {
                    let subnet = if cni == Cni::Weave {
                        cluster.settings.cluster_cidr
                    } else {
                        range.unwrap_or(cluster.settings.cluster_cidr)
                    };
                    let mut d = Route::to(None, "eth0");
                    d.via = gw;
                    let mut own = Route::to(Some(subnet.trunc()), "eth0");
                    own.proto = Some("kernel");
                    own.scope_link = true;
                    own.src = Some(ip);
                    let mut routes = vec![d, own];
                    if cni == Cni::Flannel {
                        // The bridge plugin adds the cluster range too.
                        let mut c = Route::to(Some(cluster.settings.cluster_cidr.trunc()), "eth0");
                        c.via = gw;
                        routes.push(c);
                    }
                    (subnet.prefix_len(), routes)
                }
            };
            let pod_mtu_eff = if cni == Cni::Cilium { 1500 } else { pod_mtu };
            let mut ns = pod_netns(pod, ip, prefix, pod_mtu_eff, host_index, routes);
            if cni == Cni::Calico {
                // 169.254.1.1 is no one's address: the host side of the
                // veth answers its ARP request (proxy ARP) with its own MAC.
                ns.neigh.push(Neigh {
                    ip: IpAddr::V4(Ipv4Addr::new(169, 254, 1, 1)),
                    dev: "eth0".into(),
                    mac: Mac([0xee; 6]),
                    state: "REACHABLE",
                });
            }
            net.pods.insert(pod.key(), ns);
            net.pod_veth.insert(pod.key(), veth);
        }
        nodes.push(net);
    }
    Network { cni, encapsulation: enc, nodes }
}

/// vxlan.calico's address: felix derives it from the host name, always
/// starting with 66.
fn calico_vxlan_mac(node: &str) -> Mac {
    let mut m = Mac::from_name(&format!("vxlan.calico {node}"));
    m.0[0] = 0x66;
    m
}

/// flannel.1's address: the kernel's random one, fixed per node here.
fn flannel_mac(node: &str) -> Mac {
    Mac::from_name(&format!("flannel.1 {node}"))
}

impl Network {
    pub fn node(&self, name: &str) -> Option<&NodeNet> {
        self.nodes.iter().find(|n| n.node == name)
    }

    /// How the plugin carries a packet from `src` between two nodes: the
    /// tunnel and what its header carries.
    pub fn encap(&self, cluster: &Cluster, from: &str, to: &str, src: IpAddr) -> Encap {
        match (self.cni, self.encapsulation) {
            (Cni::Cilium, Encapsulation::Geneve) => Encap::Geneve { vni: cilium_identity(cluster, src), port: 6081 },
            (Cni::Cilium, _) => Encap::Vxlan { vni: cilium_identity(cluster, src), port: 8472 },
            (Cni::Flannel, _) => Encap::Vxlan { vni: 1, port: 8472 },
            (Cni::Weave, Encapsulation::Sleeve) => {
                Encap::Sleeve { port: 6783, src_peer: weave_peer_name(from), dst_peer: weave_peer_name(to) }
            }
            // fastdp's VNI names both ends: the destination peer's short
            // id above the source's, 12 bits each.
            (Cni::Weave, _) => {
                Encap::Vxlan { vni: (weave_short_id(cluster, to) << 12) | weave_short_id(cluster, from), port: 6784 }
            }
            (Cni::Calico, Encapsulation::Vxlan) => Encap::Vxlan { vni: 4096, port: 4789 },
            (Cni::Calico, _) => Encap::Ipip,
        }
    }
}

/// A Weave peer's name: the MAC address of its `weave` bridge.
fn weave_peer_name(node: &str) -> Mac {
    Mac::from_name(&format!("weave {node}"))
}

/// A Weave peer's 12-bit short id. Real peers pick one at random and
/// resolve clashes through gossip; here a hash of the node's name, the next
/// free one on a clash, in node order.
fn weave_short_id(cluster: &Cluster, node: &str) -> u32 {
    let mut taken = Vec::new();
    for n in &cluster.nodes {
        let mut id = (fnv64a(format!("weave peer {}", n.name).as_bytes()) % 4096) as u32;
        while taken.contains(&id) {
            id = (id + 1) % 4096;
        }
        if n.name == node {
            return id;
        }
        taken.push(id);
    }
    0
}

/// Labels Cilium leaves out of a pod's identity (its default label filter):
/// ones that differ from pod to pod of one workload.
fn cilium_ignores(key: &str) -> bool {
    matches!(
        key,
        "pod-template-hash" | "controller-revision-hash" | "pod-template-generation" | "controller-uid" | "job-name"
    ) || (key.contains("kubernetes.io") && !key.starts_with("app.kubernetes.io/"))
}

/// The security identity Cilium gives the sender of `ip`: 1 for a node
/// itself (`reserved:host`), 2 for anything outside the cluster
/// (`reserved:world`), and for a pod the identity of its label set
/// (its labels, its namespace's, the namespace name), shared by every pod
/// with the same set. Real identities are allocated from 256 up in the order
/// label sets appear; here each set's id comes from a hash of it, the next
/// free one on a clash, in the sets' sorted order, so ids are stable.
pub fn cilium_identity(cluster: &Cluster, ip: IpAddr) -> u32 {
    if cluster.nodes.iter().any(|n| n.internal_ip == Some(ip) || n.network.gateway == Some(ip)) {
        return 1;
    }
    let set = |p: &Pod| -> String {
        let mut labels: Vec<String> =
            p.labels.iter().filter(|(k, _)| !cilium_ignores(k)).map(|(k, v)| format!("k8s:{k}={v}")).collect();
        if let Some(ns) = cluster.namespace_labels.get(&p.namespace) {
            labels.extend(ns.iter().map(|(k, v)| format!("k8s:io.cilium.k8s.namespace.labels.{k}={v}")));
        }
        labels.push(format!("k8s:io.kubernetes.pod.namespace={}", p.namespace));
        labels.sort();
        labels.join(",")
    };
    let Some(me) = cluster.pods.iter().find(|p| p.ip == Some(ip) && !p.host_network) else { return 2 };
    let mine = set(me);
    let sets: std::collections::BTreeSet<String> =
        cluster.pods.iter().filter(|p| p.ip.is_some() && !p.host_network).map(set).collect();
    let mut taken = std::collections::BTreeSet::new();
    for s in sets {
        let mut id = 256 + (fnv64a(s.as_bytes()) % (65536 - 256)) as u32;
        while !taken.insert(id) {
            id = if id == 65535 { 256 } else { id + 1 };
        }
        if s == mine {
            return id;
        }
    }
    2
}

/// Where the packet ends up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// At a pod's eth0 (before its node's ingress policy).
    Pod { key: String, node: String },
    /// At a node's own stack.
    Node(String),
    /// Out of the cluster's network, from this node.
    Outside(String),
    /// No route: dropped on this node.
    NoRoute(String),
}

/// The VXLAN source port Linux derives from the inner flow.
fn flow_port(src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> u16 {
    let h = fnv64a(format!("{src} {dst} {sport} {dport}").as_bytes());
    32768 + (h % (61000 - 32768)) as u16
}

impl Network {
    /// The decision that sends a packet on from a node: the host's route,
    /// or, on Weave's one L2 network, the `weave` bridge forwarding the
    /// frame by the destination pod's MAC (the route only says the range is
    /// on the bridge; no router hop, the TTL stays).
    pub fn forwarding_step(&self, node: &str, route: &Route, dst: IpAddr) -> Step {
        let s = if self.cni == Cni::Weave && route.dev == "weave" && self.cni_range_holds(dst) {
            Step::new(
                Place::Bridge("weave".into()),
                Action::Bridged,
                format!("one L2 network: the weave bridge forwards the frame to {dst}'s MAC, on this node or over the overlay"),
            )
        } else {
            let mut s = Step::new(Place::Routing, Action::Routed, format!("to {dst} via {}", route.dev));
            s.routed = true;
            s
        };
        s.on(node).rule(route.to_string())
    }

    /// Whether `dst` is on the pods' own L2 range (Weave's whole range).
    fn cni_range_holds(&self, dst: IpAddr) -> bool {
        self.nodes
            .first()
            .and_then(|n| n.host.link("weave"))
            .is_some_and(|l| l.addrs.iter().any(|a| a.trunc().contains(&dst)))
    }

    /// From a pod's eth0 to its node's stack: the pod's route, then the
    /// host side of its veth (and the bridge it is a port of).
    pub fn leave_pod(&self, node: &str, pod: &str, dst: IpAddr) -> Vec<Step> {
        let Some(n) = self.node(node) else { return Vec::new() };
        let (Some(ns), Some(veth)) = (n.pods.get(pod), n.pod_veth.get(pod)) else { return Vec::new() };
        let mut steps = Vec::new();
        if let Some(r) = ns.lookup(dst) {
            let s = Step::new(Place::pod_eth0(pod), Action::Routed, "the pod's route sends it to its gateway");
            steps.push(s.on(node).rule(r.to_string()));
        }
        let host = n.host.link(veth);
        let at = match host.and_then(|l| l.master.clone()) {
            Some(bridge) => Place::BridgeIn { bridge, port: veth.clone() },
            None => Place::Dev(veth.clone()),
        };
        let detail = match self.cni {
            Cni::Calico => "the host side of the pod's veth answers ARP for 169.254.1.1 (proxy ARP)".to_owned(),
            Cni::Cilium => "the host side of the pod's veth, where Cilium's bpf_lxc program runs".to_owned(),
            // Weave's pods share one L2 network: a frame for another pod
            // carries that pod's MAC, one for elsewhere the bridge's.
            Cni::Weave if self.cni_range_holds(dst) => {
                "the frame crosses the veth onto the bridge, addressed to the destination pod's MAC (one L2 network)"
                    .to_owned()
            }
            _ => "the frame crosses the veth onto the bridge, addressed to the bridge's own MAC".to_owned(),
        };
        steps.push(Step::new(at, Action::Received, detail).on(node));
        steps
    }

    /// From `from`'s host stack to the destination, across nodes if it
    /// must be.
    pub fn carry(
        &self,
        cluster: &Cluster,
        from: &str,
        src: IpAddr,
        dst: IpAddr,
        ports: (u16, u16),
    ) -> (Vec<Step>, Arrival) {
        let mut steps = Vec::new();
        let Some(n) = self.node(from) else { return (steps, Arrival::NoRoute(from.to_owned())) };
        // Addressed to this node itself.
        let own = n.host.links.iter().any(|l| l.addrs.iter().any(|a| a.addr() == dst));
        if own {
            return (steps, Arrival::Node(from.to_owned()));
        }
        let Some(route) = n.host.lookup(dst) else {
            let mut s = Step::new(Place::Routing, Action::Dropped, format!("no route to {dst}")).on(from);
            s.routed = true;
            steps.push(s);
            return (steps, Arrival::NoRoute(from.to_owned()));
        };
        if route.blackhole {
            let s =
                Step::new(Place::Routing, Action::Dropped, format!("{dst} is in this node's block but no pod has it"));
            steps.push(s.on(from).rule(route.to_string()));
            return (steps, Arrival::NoRoute(from.to_owned()));
        }
        steps.push(self.forwarding_step(from, route, dst));
        let target = cluster.pods.iter().find(|p| p.ip == Some(dst) && !p.host_network && p.is_running());
        let target_node = target.and_then(|p| p.node.clone());
        // Delivered on this node.
        if let (Some(p), Some(tn)) = (target, &target_node) {
            if tn == from {
                let veth = n.pod_veth.get(&p.key()).cloned().unwrap_or_default();
                let at = match n.host.link(&veth).and_then(|l| l.master.clone()) {
                    Some(bridge) => Place::BridgeOut { bridge, port: veth },
                    None => Place::Dev(veth),
                };
                let action =
                    if route.dev == "cni0" || route.dev == "weave" { Action::Bridged } else { Action::Forwarded };
                steps.push(Step::new(at, action, format!("into {}'s network namespace", p.key())).on(from));
                return (steps, Arrival::Pod { key: p.key(), node: from.to_owned() });
            }
        }
        // Another node's pod, or another node: through the tunnel or the wire.
        let remote_node = target_node.clone().or_else(|| {
            cluster
                .nodes
                .iter()
                .find(|nd| nd.network.pod_ranges.iter().any(|r| r.contains(&dst)) || nd.internal_ip == Some(dst))
                .map(|nd| nd.name.clone())
        });
        let in_cluster_range = cluster.settings.cluster_cidr.contains(&dst);
        let tunnel = route.dev == "flannel.1"
            || route.dev == "tunl0"
            || route.dev == "vxlan.calico"
            || (self.cni == Cni::Cilium && route.dev == "cilium_host")
            || (self.cni == Cni::Weave && route.dev == "weave" && in_cluster_range);
        let Some(remote) = remote_node.filter(|r| r != from) else {
            // Out of the cluster by the node's uplink.
            let mut s =
                Step::new(Place::Dev("eth0".into()), Action::Sent, format!("out of the node towards {dst}")).on(from);
            s.rule = n.host.lookup(dst).map(ToString::to_string);
            steps.push(s);
            return (steps, Arrival::Outside(from.to_owned()));
        };
        let remote_net = self.node(&remote);
        let remote_ip = cluster.node(&remote).and_then(|nd| nd.internal_ip);
        let local_ip = cluster.node(from).and_then(|nd| nd.internal_ip);
        if tunnel {
            let (Some(rip), Some(lip)) = (remote_ip, local_ip) else {
                return (steps, Arrival::NoRoute(from.to_owned()));
            };
            let encap = self.encap(cluster, from, &remote, src);
            let (dev, rule, how) = match self.cni {
                Cni::Flannel => (
                    "flannel.1".to_owned(),
                    n.host
                        .fdb
                        .iter()
                        .find(|e| e.dst == rip)
                        .map(|e| format!("{} dev {} dst {} self permanent", e.mac, e.dev, e.dst)),
                    "VXLAN (VNI 1, UDP 8472): the FDB names the node behind the next hop's MAC".to_owned(),
                ),
                Cni::Calico if route.dev == "vxlan.calico" => (
                    "vxlan.calico".to_owned(),
                    n.host
                        .fdb
                        .iter()
                        .find(|e| e.dst == rip)
                        .map(|e| format!("{} dev {} dst {} self permanent", e.mac, e.dev, e.dst)),
                    "VXLAN (VNI 4096, UDP 4789): the FDB names the node behind the next hop's MAC".to_owned(),
                ),
                Cni::Calico => {
                    ("tunl0".to_owned(), Some(route.to_string()), format!("IP-in-IP to {rip}, the route's next hop"))
                }
                Cni::Cilium => {
                    // The VNI the encapsulation carries is the sender's identity.
                    let (dev, how, vni) = match encap {
                        Encap::Geneve { vni, port } => ("cilium_geneve", format!("Geneve (UDP {port})"), vni),
                        Encap::Vxlan { vni, port } => ("cilium_vxlan", format!("VXLAN (UDP {port})"), vni),
                        _ => ("cilium_vxlan", String::new(), 0),
                    };
                    (
                        dev.to_owned(),
                        cluster
                            .node(&remote)
                            .and_then(|nd| nd.network.pod_ranges.first())
                            .map(|r| format!("{r}  encap {rip}")),
                        format!(
                            "{how} by bpf: the tunnel map names the node that owns the pod CIDR; the VNI carries the sender's security identity, {vni}"
                        ),
                    )
                }
                Cni::Weave if self.encapsulation == Encapsulation::Sleeve => (
                    "vethwe-pcap".to_owned(),
                    None,
                    format!(
                        "sleeve: the weave router (a user-space process) captures the frame from the bridge and sends it to the peer on {remote} in its own UDP encapsulation, port 6783"
                    ),
                ),
                Cni::Weave => (
                    "vxlan-6784".to_owned(),
                    None,
                    match encap {
                        Encap::Vxlan { vni, .. } => format!(
                            "fastdp: the Open vSwitch datapath sends it to the peer in VXLAN on UDP 6784, VNI {vni} (the peers' short ids: {} to, {} from)",
                            vni >> 12,
                            vni & 0xfff
                        ),
                        _ => String::new(),
                    },
                ),
            };
            let mut e = Step::new(Place::Dev(dev.clone()), Action::Encapsulated, how).on(from);
            e.rule = rule;
            // The kernel's tunnels pick the outer source port from a hash
            // of the inner flow; Weave's router sends from its own port.
            let sport = match encap {
                Encap::Sleeve { port, .. } => port,
                _ => flow_port(src, dst, ports.0, ports.1),
            };
            e.tunnel = Tunnel::On(Outer { src: lip, dst: rip, encap, sport });
            steps.push(e);
            let eth0 = || Place::Dev("eth0".into());
            let mut w = Step::new(eth0(), Action::Sent, format!("on the wire to {remote} ({rip})")).on(from);
            w.rule = n.host.lookup(rip).map(ToString::to_string);
            steps.push(w);
            steps.push(Step::new(eth0(), Action::Received, format!("from {from} ({lip})")).on(&remote));
            let mut d = Step::new(Place::Dev(dev), Action::Decapsulated, "the outer headers come off").on(&remote);
            d.tunnel = Tunnel::Off;
            steps.push(d);
        } else {
            let eth0 = || Place::Dev("eth0".into());
            let mut w = Step::new(eth0(), Action::Sent, format!("on the wire to {remote}")).on(from);
            w.rule = n.host.lookup(dst).map(ToString::to_string);
            steps.push(w);
            steps.push(Step::new(eth0(), Action::Received, format!("from {from}")).on(&remote));
        }
        let Some(rn) = remote_net else { return (steps, Arrival::NoRoute(remote)) };
        match target {
            Some(p) => {
                let veth = rn.pod_veth.get(&p.key()).cloned().unwrap_or_default();
                if let Some(r) = rn.host.lookup(dst) {
                    let mut s = self.forwarding_step(&remote, r, dst);
                    // Cilium's bpf redirects the decapsulated packet straight
                    // to the pod's device: no router hop either.
                    s.routed &= self.cni != Cni::Cilium;
                    steps.push(s);
                }
                let at = match rn.host.link(&veth).and_then(|l| l.master.clone()) {
                    Some(bridge) => Place::BridgeOut { bridge, port: veth },
                    None => Place::Dev(veth),
                };
                let action =
                    if matches!(self.cni, Cni::Flannel | Cni::Weave) { Action::Bridged } else { Action::Forwarded };
                steps.push(Step::new(at, action, format!("into {}'s network namespace", p.key())).on(&remote));
                (steps, Arrival::Pod { key: p.key(), node: remote })
            }
            None => (steps, Arrival::Node(remote)),
        }
    }
}
