//! iptables rules as data, and their `iptables-save` rendering.
//!
//! A [`Table`] holds chains and, per chain, an ordered list of [`Rule`]s.
//! Rules keep their matches as values, not text, so the same list can be
//! rendered exactly as `iptables-save` prints it (and a real
//! `iptables-restore` loads it) and evaluated against a packet, with the
//! evaluator naming the very line that acted.

pub mod eval;
pub mod ipset;
pub mod list;
pub mod nft;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use ipnet::IpNet;

/// A match on one side of an address, possibly negated (`! -s 10.0.0.0/8`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrMatch {
    pub net: IpNet,
    pub negated: bool,
}

/// The `-m` matches kube-proxy and the CNI plugins use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    Comment(String),
    /// `-m tcp|udp|sctp --dport N` (the protocol itself is `Rule::protocol`).
    DPort(u16),
    /// A bare `-m tcp|udp|sctp`, as kube-proxy writes before a DNAT.
    ProtoModule,
    /// `-m addrtype --src-type|--dst-type LOCAL`.
    AddrType {
        src: bool,
        kind: String,
        negated: bool,
    },
    /// `-m mark [!] --mark VALUE/MASK`.
    Mark {
        value: u32,
        mask: u32,
        negated: bool,
    },
    /// `-m conntrack [!] --ctstate STATES`.
    CtState {
        states: Vec<String>,
        negated: bool,
    },
    /// `-m statistic --mode random --probability P`; kept as the kernel
    /// keeps it, a fraction of 2^31.
    Probability(u32),
    /// `-m recent --rcheck --seconds N --reap --name NAME`.
    RecentCheck {
        name: String,
        seconds: u32,
    },
    /// `-m recent --set --name NAME`.
    RecentSet {
        name: String,
    },
    /// `-m set [!] --match-set NAME FLAGS` (`dst,dst`, `dst,dst,src`, …).
    Set {
        name: String,
        flags: String,
        negated: bool,
    },
    /// `-m physdev ! --physdev-is-in`: the packet did not come in through
    /// a bridge port.
    PhysdevNotIn,
    /// `-m ipvs --vproto N --vaddr IP --vport N`: IPVS handled the packet
    /// for that virtual server.
    Ipvs {
        proto: u8,
        vaddr: std::net::IpAddr,
        vport: u16,
    },
    /// `-m multiport --dports 80,8000:8080`: destination ports and ranges.
    Multiport(Vec<(u16, u16)>),
}

impl Match {
    /// The statistic match for probability `p`, rounded as
    /// libxt_statistic rounds it (`lround(0x80000000 * p)`).
    pub fn probability(p: f64) -> Match {
        Match::Probability((p * f64::from(0x8000_0000u32)).round() as u32)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Jump(String),
    /// `-g CHAIN`: when that chain ends, the chain that jumped here ends too.
    Goto(String),
    Accept,
    Drop,
    Return,
    /// `-j REJECT --reject-with icmp-port-unreachable`, iptables' default.
    Reject,
    Dnat(String),
    Masquerade {
        random_fully: bool,
    },
    /// `-j MARK --set-xmark VALUE/MASK` (`--or-mark X` is `X/X`, `--xor-mark X` is `X/0`).
    SetXMark {
        value: u32,
        mask: u32,
    },
}

/// One rule of a chain, in the order `iptables-save` prints its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub chain: String,
    pub source: Option<AddrMatch>,
    pub destination: Option<AddrMatch>,
    pub in_interface: Option<String>,
    pub out_interface: Option<String>,
    /// `-p tcp|udp|sctp`, lower case.
    pub protocol: Option<String>,
    pub matches: Vec<Match>,
    /// `None` for a rule that only counts (kube-proxy writes one at the end
    /// of a firewall chain).
    pub target: Option<Target>,
}

impl Rule {
    pub fn new(chain: impl Into<String>) -> Rule {
        Rule {
            chain: chain.into(),
            source: None,
            destination: None,
            in_interface: None,
            out_interface: None,
            protocol: None,
            matches: Vec::new(),
            target: None,
        }
    }

    pub fn comment(mut self, text: impl Into<String>) -> Rule {
        self.matches.push(Match::Comment(text.into()));
        self
    }

    pub fn src(mut self, net: IpNet, negated: bool) -> Rule {
        self.source = Some(AddrMatch { net, negated });
        self
    }

    pub fn dst(mut self, net: IpNet) -> Rule {
        self.destination = Some(AddrMatch { net, negated: false });
        self
    }

    pub fn proto(mut self, p: &str) -> Rule {
        self.protocol = Some(p.to_owned());
        self
    }

    pub fn with(mut self, m: Match) -> Rule {
        self.matches.push(m);
        self
    }

    pub fn jump(mut self, t: Target) -> Rule {
        self.target = Some(t);
        self
    }
}

/// A chain: built-in ones carry a policy, user chains `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    pub policy: Option<&'static str>,
}

/// One table (`filter`, `nat`…): its chains in order and all their rules.
/// Rules are added with [`Table::push`], which keeps a per-chain index so
/// rendering and evaluation stay linear in the number of rules.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Table {
    pub name: String,
    pub chains: Vec<Chain>,
    rules: Vec<Rule>,
    by_chain: BTreeMap<String, Vec<usize>>,
    declared: BTreeSet<String>,
}

impl Table {
    pub fn new(name: &str, builtin: &[&str]) -> Table {
        let mut t = Table { name: name.to_owned(), ..Table::default() };
        for c in builtin {
            t.chains.push(Chain { name: (*c).to_owned(), policy: Some("ACCEPT") });
            t.declared.insert((*c).to_owned());
        }
        t
    }

    /// Declares a user chain (once; later declarations are ignored).
    pub fn chain(&mut self, name: &str) {
        if self.declared.insert(name.to_owned()) {
            self.chains.push(Chain { name: name.to_owned(), policy: None });
        }
    }

    pub fn push(&mut self, rule: Rule) {
        self.by_chain.entry(rule.chain.clone()).or_default().push(self.rules.len());
        self.rules.push(rule);
    }

    /// Every rule, in the order they were added.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules of one chain, in order, with their index in [`Table::rules`].
    pub fn rules_of<'a>(&'a self, chain: &str) -> impl Iterator<Item = (usize, &'a Rule)> + 'a {
        self.by_chain.get(chain).into_iter().flatten().map(move |i| (*i, &self.rules[*i]))
    }
}

/// Rules another agent (a CNI plugin's) adds to a table: its own chains,
/// and what it inserts at the top of the built-in chains and appends at
/// their end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Additions {
    pub table: Table,
    pub head: Vec<Rule>,
    pub tail: Vec<Rule>,
}

impl Additions {
    /// The table as the node holds it with `base`'s rules too (the service
    /// proxy's): each built-in chain the additions' head, then `base`'s
    /// rules, then the additions' tail; every other chain of both.
    pub fn merged(&self, base: Option<&Table>) -> Table {
        let builtin: Vec<&str> =
            self.table.chains.iter().filter(|c| c.policy.is_some()).map(|c| c.name.as_str()).collect();
        let mut t = Table::new(&self.table.name, &builtin);
        for chain in &builtin {
            for r in self.head.iter().filter(|r| r.chain == *chain) {
                t.push(r.clone());
            }
            for (_, r) in base.into_iter().flat_map(|b| b.rules_of(chain)) {
                t.push(r.clone());
            }
            for r in self.tail.iter().filter(|r| r.chain == *chain) {
                t.push(r.clone());
            }
        }
        for source in base.into_iter().chain(std::iter::once(&self.table)) {
            for c in source.chains.iter().filter(|c| c.policy.is_none()) {
                t.chain(&c.name);
                for (_, r) in source.rules_of(&c.name) {
                    t.push(r.clone());
                }
            }
        }
        t
    }

    /// The additions alone, ready to evaluate: their chains, and the head
    /// of each built-in chain (the tail only ever accepts what the
    /// built-in chain's policy would).
    pub fn evaluable(&self) -> Table {
        let mut t = self.table.clone();
        for r in &self.head {
            t.push(r.clone());
        }
        t
    }

    /// The additions alone with the tail too: where the tail is what acts
    /// (a nat chain jumped to after the service proxy's rules).
    pub fn evaluable_all(&self) -> Table {
        let mut t = self.evaluable();
        for r in &self.tail {
            t.push(r.clone());
        }
        t
    }
}

/// How `iptables-save` prints a comment: quoted, with `"` and `\` escaped.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn addr(net: &IpNet) -> String {
    // iptables-save always prints the prefix length.
    net.to_string()
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "-A {}", self.chain)?;
        if let Some(s) = &self.source {
            write!(f, "{} -s {}", if s.negated { " !" } else { "" }, addr(&s.net))?;
        }
        if let Some(d) = &self.destination {
            write!(f, "{} -d {}", if d.negated { " !" } else { "" }, addr(&d.net))?;
        }
        if let Some(i) = &self.in_interface {
            write!(f, " -i {i}")?;
        }
        if let Some(o) = &self.out_interface {
            write!(f, " -o {o}")?;
        }
        if let Some(p) = &self.protocol {
            write!(f, " -p {p}")?;
        }
        for m in &self.matches {
            match m {
                Match::Comment(c) => write!(f, " -m comment --comment {}", quoted(c))?,
                Match::DPort(port) => write!(f, " -m {} --dport {port}", self.protocol.as_deref().unwrap_or("tcp"))?,
                Match::ProtoModule => write!(f, " -m {}", self.protocol.as_deref().unwrap_or("tcp"))?,
                Match::AddrType { src, kind, negated } => {
                    let side = if *src { "--src-type" } else { "--dst-type" };
                    let neg = if *negated { "! " } else { "" };
                    write!(f, " -m addrtype {neg}{side} {kind}")?
                }
                Match::Mark { value, mask, negated } => {
                    let neg = if *negated { "! " } else { "" };
                    write!(f, " -m mark {neg}--mark {value:#x}/{mask:#x}")?
                }
                Match::CtState { states, negated } => {
                    write!(f, " -m conntrack {}--ctstate {}", if *negated { "! " } else { "" }, states.join(","))?
                }
                Match::Probability(p) => write!(
                    f,
                    " -m statistic --mode random --probability {:.11}",
                    f64::from(*p) / f64::from(0x8000_0000u32)
                )?,
                Match::RecentCheck { name, seconds } => write!(
                    f,
                    " -m recent --rcheck --seconds {seconds} --reap --name {name} --mask 255.255.255.255 --rsource"
                )?,
                Match::RecentSet { name } => {
                    write!(f, " -m recent --set --name {name} --mask 255.255.255.255 --rsource")?
                }
                Match::Set { name, flags, negated } => {
                    write!(f, " -m set {}--match-set {name} {flags}", if *negated { "! " } else { "" })?
                }
                Match::PhysdevNotIn => f.write_str(" -m physdev ! --physdev-is-in")?,
                Match::Ipvs { proto, vaddr, vport } => {
                    write!(f, " -m ipvs --vproto {proto} --vaddr {vaddr} --vport {vport}")?
                }
                Match::Multiport(ports) => {
                    let list: Vec<String> = ports
                        .iter()
                        .map(|(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}:{hi}") })
                        .collect();
                    write!(f, " -m multiport --dports {}", list.join(","))?
                }
            }
        }
        match &self.target {
            None => Ok(()),
            Some(Target::Jump(c)) => write!(f, " -j {c}"),
            Some(Target::Goto(c)) => write!(f, " -g {c}"),
            Some(Target::Accept) => f.write_str(" -j ACCEPT"),
            Some(Target::Drop) => f.write_str(" -j DROP"),
            Some(Target::Return) => f.write_str(" -j RETURN"),
            Some(Target::Reject) => f.write_str(" -j REJECT --reject-with icmp-port-unreachable"),
            Some(Target::Dnat(to)) => write!(f, " -j DNAT --to-destination {to}"),
            Some(Target::Masquerade { random_fully }) => {
                write!(f, " -j MASQUERADE{}", if *random_fully { " --random-fully" } else { "" })
            }
            Some(Target::SetXMark { value, mask }) => write!(f, " -j MARK --set-xmark {value:#x}/{mask:#x}"),
        }
    }
}

/// The tables as `iptables-save` prints them (without its timestamp
/// comments, which would make the output depend on the clock).
pub fn save(tables: &[&Table]) -> String {
    let mut out = String::new();
    for t in tables {
        let _ = writeln!(out, "*{}", t.name);
        // Built-in chains first, in the kernel's order, then user chains by
        // name; rules follow chain by chain in that same order.
        let mut chains: Vec<&Chain> = t.chains.iter().filter(|c| c.policy.is_some()).collect();
        let mut user: Vec<&Chain> = t.chains.iter().filter(|c| c.policy.is_none()).collect();
        crate::order::sort_by(&mut user, |a, b| a.name.cmp(&b.name));
        chains.extend(user);
        for c in &chains {
            let _ = writeln!(out, ":{} {} [0:0]", c.name, c.policy.unwrap_or("-"));
        }
        for c in &chains {
            for (_, r) in t.rules_of(&c.name) {
                let _ = writeln!(out, "{r}");
            }
        }
        out.push_str("COMMIT\n");
    }
    out
}
