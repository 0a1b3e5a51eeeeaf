//! The packet as values: what the rules look at ([`Packet`]), what a trace
//! shows at each hop ([`Headers`]), and the tunnel headers around it
//! ([`Outer`], [`Encap`], [`Mac`]). Bytes are made from these only where
//! bytes matter (`pcap`).

use std::fmt;
use std::net::IpAddr;

use crate::cluster::Protocol;
use crate::names::fnv64a;

/// A MAC address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// A locally administered address derived from a name (as the kernel
    /// randomises veth and bridge addresses, but reproducible).
    pub fn from_name(name: &str) -> Mac {
        let h = fnv64a(name.as_bytes()).to_be_bytes();
        Mac([(h[2] & 0xfe) | 0x02, h[3], h[4], h[5], h[6], h[7]])
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
    }
}

/// A plugin's encapsulation between nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum Encap {
    Vxlan {
        vni: u32,
        port: u16,
    },
    Geneve {
        vni: u32,
        port: u16,
    },
    Ipip,
    /// Weave's own encapsulation, from the router process: UDP to the
    /// peer's port, the sending peer's name, then per frame the names of
    /// the capturing and destination peers and the frame's length.
    Sleeve {
        port: u16,
        src_peer: Mac,
        dst_peer: Mac,
    },
}

impl Encap {
    pub fn name(self) -> &'static str {
        match self {
            Encap::Vxlan { .. } => "vxlan",
            Encap::Geneve { .. } => "geneve",
            Encap::Ipip => "ipip",
            Encap::Sleeve { .. } => "sleeve",
        }
    }
}

/// The outer headers of an encapsulated packet.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Outer {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub encap: Encap,
    /// The outer UDP source port: for the kernel's tunnels a hash of the
    /// inner flow (so one flow keeps one outer port), for Weave's sleeve its
    /// router's own port.
    pub sport: u16,
}

/// What the rules look at: the addresses and ports, and what the kernel
/// keeps beside the headers (the mark, how the packet came in, the IPVS
/// virtual server that took it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: Protocol,
    /// For ICMP, the echo identifier.
    pub sport: u16,
    pub dport: u16,
    pub mark: u32,
    /// It came in through a bridge port (a pod on a bridge plugin).
    pub bridged: bool,
    /// The IPVS virtual server that took it, once IPVS has.
    pub ipvs: Option<(IpAddr, u16)>,
}

/// The packet as a trace shows it at a hop.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Headers {
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
    pub protocol: Protocol,
    pub ttl: u8,
    /// The tunnel's headers while the packet is encapsulated.
    pub outer: Option<Outer>,
}

impl Headers {
    /// The headers of `p` as its sender writes them: TTL 64, no tunnel.
    pub fn of(p: &Packet) -> Headers {
        Headers { src: p.src, sport: p.sport, dst: p.dst, dport: p.dport, protocol: p.protocol, ttl: 64, outer: None }
    }
}
