//! A plugin agent's own nftables table, as data: its sets, its base chains
//! and their rules, rendered as `nft list table` prints them and walked for
//! one packet to find the rule that decided. kube-proxy's much larger table
//! has its own model (`proxy/nftables`); this one holds what the CNI agents
//! write (kindnetd's NetworkPolicy queue).

use std::fmt::{self, Write as _};
use std::net::IpAddr;

/// `table FAMILY NAME { … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NftTable {
    pub family: &'static str,
    pub name: String,
    pub comment: Option<String>,
    pub sets: Vec<NftSet>,
    pub chains: Vec<NftChain>,
}

/// A named set of addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NftSet {
    pub name: String,
    /// `ipv4_addr` or `ipv6_addr`.
    pub kind: &'static str,
    pub comment: Option<String>,
    pub elements: Vec<IpAddr>,
}

/// A base chain: `type filter hook postrouting priority srcnat - 5; policy accept;`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NftChain {
    pub name: String,
    pub hook: &'static str,
    /// As nft prints it: `srcnat - 5`, `dstnat + 5`.
    pub priority: &'static str,
    pub rules: Vec<NftRule>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NftRule {
    pub matches: Vec<NftMatch>,
    pub verdict: NftVerdict,
    pub comment: Option<String>,
}

/// What a rule matches on, in the order nft prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NftMatch {
    /// `ip saddr @SET`, `ip6 daddr @SET`.
    AddrInSet { v6: bool, source: bool, set: String },
    /// `udp dport N`.
    UdpDport(u16),
    /// `icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert }`.
    NeighbourDiscovery,
    /// `meta skuid 0`: sent by a root process of the node itself.
    RootSocket,
    /// `ct state established,related`.
    Established,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NftVerdict {
    Accept,
    /// `queue flags bypass to N`: to the user-space program reading queue
    /// N; with `bypass`, accepted when none reads it.
    Queue {
        num: u16,
        bypass: bool,
    },
}

/// What the table's rules can see of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The UDP destination port, for a UDP packet.
    pub udp_dport: Option<u16>,
    /// Sent by a root process on this node (kubelet's probes, `node/…`).
    pub root_socket: bool,
    /// Part of a connection conntrack already saw both ways.
    pub established: bool,
}

impl NftTable {
    /// The rule of `chain` that ends the packet's walk there, and its
    /// verdict; `None` when no rule matches (the chain's policy, accept).
    pub fn decide(&self, chain: &str, p: &Probe) -> Option<&NftRule> {
        let chain = self.chains.iter().find(|c| c.name == chain)?;
        chain.rules.iter().find(|r| r.matches.iter().all(|m| self.matches(m, p)))
    }

    fn matches(&self, m: &NftMatch, p: &Probe) -> bool {
        match m {
            NftMatch::AddrInSet { v6, source, set } => {
                let ip = if *source { p.src } else { p.dst };
                ip.is_ipv6() == *v6 && self.sets.iter().any(|s| s.name == *set && s.elements.contains(&ip))
            }
            NftMatch::UdpDport(port) => p.udp_dport == Some(*port),
            // Neighbour discovery is ICMPv6; podpath's packets are not.
            NftMatch::NeighbourDiscovery => false,
            NftMatch::RootSocket => p.root_socket,
            NftMatch::Established => p.established,
        }
    }
}

impl fmt::Display for NftMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NftMatch::AddrInSet { v6, source, set } => {
                write!(f, "{} {} @{set}", if *v6 { "ip6" } else { "ip" }, if *source { "saddr" } else { "daddr" })
            }
            NftMatch::UdpDport(p) => write!(f, "udp dport {p}"),
            NftMatch::NeighbourDiscovery => f.write_str("icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert }"),
            NftMatch::RootSocket => f.write_str("meta skuid 0"),
            NftMatch::Established => f.write_str("ct state established,related"),
        }
    }
}

/// One rule as `nft list` prints it (nft 1.0: `queue flags bypass to N`).
impl fmt::Display for NftRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.matches {
            write!(f, "{m} ")?;
        }
        match self.verdict {
            NftVerdict::Accept => f.write_str("accept")?,
            NftVerdict::Queue { num, bypass: true } => write!(f, "queue flags bypass to {num}")?,
            NftVerdict::Queue { num, bypass: false } => write!(f, "queue to {num}")?,
        }
        if let Some(c) = &self.comment {
            write!(f, " comment \"{c}\"")?;
        }
        Ok(())
    }
}

/// The table as `nft list table FAMILY NAME` prints it: tabs, sets before
/// chains, a blank line between blocks, set elements in address order.
impl fmt::Display for NftTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = format!("table {} {} {{\n", self.family, self.name);
        if let Some(c) = &self.comment {
            let _ = writeln!(out, "\tcomment \"{c}\"");
        }
        let mut blocks: Vec<String> = Vec::new();
        for s in &self.sets {
            let mut b = format!("\tset {} {{\n\t\ttype {}\n", s.name, s.kind);
            if let Some(c) = &s.comment {
                let _ = writeln!(b, "\t\tcomment \"{c}\"");
            }
            if !s.elements.is_empty() {
                let mut e = s.elements.clone();
                crate::order::sort(&mut e);
                let list: Vec<String> = e.iter().map(ToString::to_string).collect();
                let _ = writeln!(b, "\t\telements = {{ {} }}", list.join(", "));
            }
            b.push_str("\t}\n");
            blocks.push(b);
        }
        for c in &self.chains {
            let mut b = format!(
                "\tchain {} {{\n\t\ttype filter hook {} priority {}; policy accept;\n",
                c.name, c.hook, c.priority
            );
            for r in &c.rules {
                let _ = writeln!(b, "\t\t{r}");
            }
            b.push_str("\t}\n");
            blocks.push(b);
        }
        out.push_str(&blocks.join("\n"));
        out.push_str("}\n");
        f.write_str(&out)
    }
}
