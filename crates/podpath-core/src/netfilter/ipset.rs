//! ipsets as data: what `ipset save` prints (and `ipset restore` loads),
//! and the lookups `-m set --match-set NAME FLAGS` makes on a packet.

use std::fmt::{self, Write as _};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::packet::Packet;

/// One member, in the shape of its set's type.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Member {
    /// `hash:ip`
    Ip(IpAddr),
    /// `hash:ip,port`: `10.96.0.1,tcp:443`
    IpPort(IpAddr, String, u16),
    /// `hash:ip,port,ip`: `10.244.1.5,tcp:80,10.244.1.5`
    IpPortIp(IpAddr, String, u16, IpAddr),
    /// `hash:ip,port,net`: `192.0.2.50,tcp:443,203.0.113.0/24`
    IpPortNet(IpAddr, String, u16, IpNet),
    /// `bitmap:port`
    Port(u16),
    /// `hash:net`: an address or a network (a /32 is printed as its address).
    Net(IpNet),
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Member::Ip(ip) => write!(f, "{ip}"),
            Member::IpPort(ip, p, port) => write!(f, "{ip},{p}:{port}"),
            Member::IpPortIp(ip, p, port, ip2) => write!(f, "{ip},{p}:{port},{ip2}"),
            Member::IpPortNet(ip, p, port, net) => write!(f, "{ip},{p}:{port},{net}"),
            Member::Port(port) => write!(f, "{port}"),
            Member::Net(n) if n.prefix_len() == n.max_prefix_len() => write!(f, "{}", n.addr()),
            Member::Net(n) => write!(f, "{n}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSet {
    pub name: String,
    /// `hash:ip,port`, `bitmap:port`, …
    pub kind: &'static str,
    /// What the set is for (kube-proxy puts it in the rules' comments).
    pub comment: &'static str,
    pub members: Vec<Member>,
    /// The most members it may hold (`maxelem`): 65536 for kube-proxy's,
    /// 1048576 for Felix's.
    pub maxelem: u32,
}

impl IpSet {
    pub fn add(&mut self, m: Member) {
        if let Err(i) = self.members.binary_search(&m) {
            self.members.insert(i, m);
        }
    }

    /// `-m set --match-set NAME FLAGS`: each flag picks the packet's
    /// source or destination for one dimension of the member.
    pub fn matches(&self, flags: &str, pkt: &Packet) -> bool {
        let f: Vec<&str> = flags.split(',').collect();
        let addr = |i: usize| if f.get(i) == Some(&"src") { pkt.src } else { pkt.dst };
        let port = |i: usize| if f.get(i) == Some(&"src") { pkt.sport } else { pkt.dport };
        self.members.iter().any(|m| match m {
            Member::Ip(ip) => *ip == addr(0),
            Member::Port(p) => *p == port(0),
            Member::IpPort(ip, proto, p) => *ip == addr(0) && *proto == pkt.protocol.name() && *p == port(1),
            Member::IpPortIp(ip, proto, p, ip2) => {
                *ip == addr(0) && *proto == pkt.protocol.name() && *p == port(1) && *ip2 == addr(2)
            }
            Member::IpPortNet(ip, proto, p, net) => {
                *ip == addr(0) && *proto == pkt.protocol.name() && *p == port(1) && net.contains(&addr(2))
            }
            Member::Net(n) => n.contains(&addr(0)),
        })
    }
}

/// The sets of one node.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct IpSets {
    pub sets: Vec<IpSet>,
}

impl IpSets {
    pub fn get(&self, name: &str) -> Option<&IpSet> {
        self.sets.iter().find(|s| s.name == name)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut IpSet> {
        self.sets.iter_mut().find(|s| s.name == name)
    }

    /// `ipset save`: a `create` line per set, with the options kube-proxy
    /// creates it with, then its members (sorted; the kernel's hash order
    /// is its own).
    pub fn save(&self) -> String {
        let mut out = String::new();
        for s in &self.sets {
            let opts = if s.kind.starts_with("bitmap:") {
                "range 0-65535".to_owned()
            } else {
                format!("family inet hashsize 1024 maxelem {}", s.maxelem)
            };
            let _ = writeln!(out, "create {} {} {opts}", s.name, s.kind);
            for m in &s.members {
                let _ = writeln!(out, "add {} {m}", s.name);
            }
        }
        out
    }
}
