//! The plumbing as data, whichever plugin made it: network namespaces
//! (the host's and one per pod), their links, addresses, routes, VXLAN
//! forwarding entries and neighbours, rendered as `ip addr`, `ip route`,
//! `ip neigh` and `bridge fdb` print them, and the kernel's route lookup
//! (longest prefix wins).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::cluster::Pod;
use crate::packet::Mac;

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
    /// A bridge port that may send a frame back out of itself
    /// (`bridge link set dev … hairpin on`).
    pub hairpin: bool,
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
    pub scope: Scope,
    pub src: Option<IpAddr>,
    pub onlink: bool,
    pub blackhole: bool,
    pub mtu: Option<u16>,
}

/// How far a route's destination is, as `ip route` prints it (`universe`,
/// the default, is not printed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    Universe,
    /// On the link itself: no gateway.
    Link,
    /// This host: the ptp plugin's route to a pod by its veth
    /// (`ip.AddHostRoute`).
    Host,
}

impl Route {
    /// The route the kernel adds for an address on a device: `NET dev DEV
    /// proto kernel scope link src ADDR`.
    pub(super) fn connected(net: IpNet, dev: &str, src: IpAddr) -> Route {
        Route { proto: Some("kernel"), scope: Scope::Link, src: Some(src), ..Route::to(Some(net.trunc()), dev) }
    }

    /// A route to `dst` (the default route for `None`) by `dev`, nothing more.
    pub(super) fn to(dst: Option<IpNet>, dev: &str) -> Route {
        Route {
            dst,
            via: None,
            dev: dev.to_owned(),
            proto: None,
            scope: Scope::Universe,
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
        match self.scope {
            Scope::Universe => {}
            Scope::Link => f.write_str(" scope link")?,
            Scope::Host => f.write_str(" scope host")?,
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

/// One line of `bridge fdb show`.
impl fmt::Display for Fdb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} dev {} dst {} self permanent", self.mac, self.dev, self.dst)
    }
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
    /// The kernel settings the plumbing depends on, as `sysctl` names
    /// them: forwarding on a node, proxy ARP on Calico's veths.
    pub sysctls: Vec<(String, String)>,
}

impl Netns {
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    /// The index the next link made here gets: links are numbered in the
    /// order they were made.
    pub(super) fn next_index(&self) -> u32 {
        self.links.len() as u32 + 1
    }

    /// Makes a link here, numbering it.
    pub(super) fn add(&mut self, mut link: Link) {
        link.index = self.next_index();
        self.links.push(link);
    }

    /// The route the kernel picks for `dst`: the longest prefix that
    /// contains it.
    pub fn lookup(&self, dst: IpAddr) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| r.dst.is_none_or(|n| n.contains(&dst)))
            .max_by_key(|r| r.dst.map_or(0, |n| n.prefix_len() + 1))
    }

    /// The address a packet leaving by `dev` is given when the kernel
    /// picks one (`inet_select_addr`, as MASQUERADE does): the device's
    /// first address.
    pub fn address_on(&self, dev: &str) -> Option<IpAddr> {
        self.link(dev).and_then(|l| l.addrs.iter().find(|a| !a.addr().is_loopback())).map(IpNet::addr)
    }

    /// The source address a socket in this namespace gets for `dst`: the
    /// route's `src`, else the address of the device the route leaves by.
    pub fn source_for(&self, dst: IpAddr) -> Option<IpAddr> {
        let route = self.lookup(dst)?;
        route.src.or_else(|| self.address_on(&route.dev))
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
            let name = self.shown_name(l);
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
        crate::order::sort_by_key(&mut routes, |r| {
            r.dst.map(|n| (1, n.network(), n.prefix_len())).unwrap_or((0, n0(), 0))
        });
        routes.iter().map(|r| format!("{r}\n")).collect()
    }

    /// `ip neigh`.
    pub fn ip_neigh(&self) -> String {
        self.neigh.iter().map(|n| format!("{} dev {} lladdr {} {}\n", n.ip, n.dev, n.mac, n.state)).collect()
    }

    /// A link's name as iproute2 shows it: a veth with its peer
    /// (`veth1@veth2`, or `eth0@if5` when the peer is in another namespace).
    fn shown_name(&self, l: &Link) -> String {
        match &l.kind {
            Kind::Veth { peer_netns, peer_index } if peer_netns.is_empty() => {
                let peer = self.links.iter().find(|p| p.index == *peer_index);
                format!("{}@{}", l.name, peer.map_or("NONE", |p| p.name.as_str()))
            }
            Kind::Veth { peer_index, .. } => format!("{}@if{peer_index}", l.name),
            _ => l.name.clone(),
        }
    }

    /// `bridge -d link show`: each bridge port, its state and its flags
    /// (iproute2 6.1 on a 6.x kernel; a veth's port cost is 2).
    pub fn bridge_link(&self) -> String {
        let mut out = String::new();
        for l in self.links.iter().filter(|l| l.master.is_some()) {
            let master = l.master.as_deref().unwrap_or_default();
            let _ = writeln!(
                out,
                "{}: {}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {} master {master} state forwarding priority 32 cost 2 ",
                l.index,
                self.shown_name(l),
                l.mtu
            );
            let hairpin = if l.hairpin { "on" } else { "off" };
            let _ = writeln!(
                out,
                "    hairpin {hairpin} guard off root_block off fastleave off learning on flood on mcast_flood on \
                 bcast_flood on mcast_router 1 mcast_to_unicast off neigh_suppress off vlan_tunnel off isolated off \
                 locked off "
            );
        }
        out
    }

    /// `sysctl KEY…` for the settings the plumbing depends on.
    pub fn sysctl(&self) -> String {
        self.sysctls.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
    }

    /// `bridge fdb show` for the VXLAN devices.
    pub fn bridge_fdb(&self) -> String {
        self.fdb.iter().map(|e| format!("{e}\n")).collect()
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

impl NodeNet {
    /// The plugin's devices in a few words each (its bridge, tunnel and
    /// other devices) and how many pod veths there are: a node's plumbing
    /// at a glance.
    pub fn summary(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .host
            .links
            .iter()
            .filter_map(|l| match &l.kind {
                Kind::Bridge => Some(format!("bridge {}", l.name)),
                Kind::Vxlan { port, .. } => Some(format!("{} (VXLAN :{port})", l.name)),
                Kind::Ipip => Some(format!("{} (IP-in-IP)", l.name)),
                Kind::Other(what) => Some(format!("{} ({what})", l.name)),
                _ => None,
            })
            .collect();
        let veths = self.pod_veth.len();
        if veths > 0 {
            out.push(format!("{veths} veth{}", if veths == 1 { "" } else { "s" }));
        }
        out
    }

    /// The bridge a pod's veth is a port of, if the plugin bridges its pods.
    pub fn pod_bridge(&self, pod: &str) -> Option<&str> {
        let veth = self.pod_veth.get(pod)?;
        self.host.link(veth)?.master.as_deref()
    }
}

/// `lo`, first in every namespace.
pub(super) fn loopback() -> Link {
    Link {
        index: 1,
        name: "lo".into(),
        kind: Kind::Loopback,
        mtu: 65536,
        mac: Mac([0; 6]),
        addrs: vec!["127.0.0.1/8".parse().expect("literal")],
        master: None,
        hairpin: false,
    }
}

/// The uplink and the routes every kind node has.
pub(super) fn host_base(node_ip: Option<IpAddr>) -> Netns {
    let mut ns = Netns::default();
    ns.links.push(loopback());
    // A node routes its pods' traffic (kubeadm's preflight requires it).
    ns.sysctls.push(("net.ipv4.ip_forward".into(), "1".into()));
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
            hairpin: false,
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
pub(super) fn pod_netns(pod: &Pod, ip: IpAddr, prefix: u8, mtu: u32, host_index: u32, routes: Vec<Route>) -> Netns {
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
        hairpin: false,
    });
    ns.routes = routes;
    ns
}

/// Bytes as lower-case hex, as interface names derived from hashes spell them.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
