//! kube-proxy's nftables mode: the `ip kube-proxy` table it writes for one
//! node (pkg/proxy/nftables/proxier.go, the v1.34 chain layout), rendered
//! as `nft list table ip kube-proxy` prints it, and evaluated the way the
//! kernel runs it.
//!
//! Service traffic is dispatched by verdict maps keyed on `address .
//! protocol . port` (`service-ips`, `service-nodeports`), endpoints are
//! picked by `numgen random mod N vmap`, and services without (local)
//! endpoints are caught by the `no-endpoint-*` maps before or after DNAT.
//! Per-service chains are named `service-`, `local-`, `external-`,
//! `firewall-` and `endpoint-` + the first 8 base32 characters of SHA-256
//! over `ns/name/proto/port[__ip/port]`, then that string.

use std::fmt::{self, Write as _};
use std::net::IpAddr;

use data_encoding::BASE32;
use ipnet::IpNet;
use sha2::{Digest, Sha256};

use super::Hook;

mod build;
mod eval;

pub use build::build;

pub const TABLE: &str = "ip kube-proxy";

/// `hashAndTruncate`: 8 base32 characters of SHA-256, a dash, the name.
pub fn hashed(prefix: &str, base: &str) -> String {
    let digest = Sha256::digest(base.as_bytes());
    let mut name = format!("{}-{base}", &BASE32.encode(&digest)[..8]);
    if name.len() > 240 {
        let mut cut = 237;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
        name.push_str("...");
    }
    format!("{prefix}{name}")
}

/// What a rule matches on, in the order nft prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    CtStateNew,
    Daddr {
        nets: Vec<IpNet>,
        negated: bool,
    },
    Saddr {
        nets: Vec<IpNet>,
        negated: bool,
    },
    DaddrInSet(String),
    SaddrInSet(String),
    FibSaddrLocal,
    /// `meta mark & MASK == 0`.
    MarkClear(u32),
}

/// What a rule does once it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Jump(String),
    Goto(String),
    Return,
    Drop,
    Reject,
    MarkOr(u32),
    MarkXor(u32),
    Masquerade,
    /// `ip daddr . meta l4proto . th dport vmap @MAP`
    VmapAddrProtoPort(String),
    /// `meta l4proto . th dport vmap @MAP`
    VmapProtoPort(String),
    /// `numgen random mod N vmap { 0 : goto A, … }`
    Numgen(Vec<String>),
    /// `update @SET { ip saddr }`: remember the client for affinity.
    Update(String),
    /// `meta l4proto P dnat to IP:PORT`
    Dnat {
        protocol: String,
        ip: IpAddr,
        port: u16,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub matches: Vec<Match>,
    pub action: Action,
    pub comment: Option<String>,
}

fn nets(nets: &[IpNet]) -> String {
    let host = |n: &IpNet| if n.prefix_len() == n.max_prefix_len() { n.addr().to_string() } else { n.to_string() };
    match nets {
        [one] => host(one),
        many => format!("{{ {} }}", many.iter().map(host).collect::<Vec<_>>().join(", ")),
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        for m in &self.matches {
            parts.push(match m {
                Match::CtStateNew => "ct state new".into(),
                Match::Daddr { nets: n, negated } => {
                    format!("ip daddr {}{}", if *negated { "!= " } else { "" }, nets(n))
                }
                Match::Saddr { nets: n, negated } => {
                    format!("ip saddr {}{}", if *negated { "!= " } else { "" }, nets(n))
                }
                Match::DaddrInSet(s) => format!("ip daddr @{s}"),
                Match::SaddrInSet(s) => format!("ip saddr @{s}"),
                Match::FibSaddrLocal => "fib saddr type local".into(),
                Match::MarkClear(m) => format!("meta mark & {m:#010x} == 0x00000000"),
            });
        }
        parts.push(match &self.action {
            Action::Jump(c) => format!("jump {c}"),
            Action::Goto(c) => format!("goto {c}"),
            Action::Return => "return".into(),
            Action::Drop => "drop".into(),
            Action::Reject => "reject".into(),
            Action::MarkOr(m) => format!("meta mark set meta mark | {m:#010x}"),
            Action::MarkXor(m) => format!("meta mark set meta mark ^ {m:#010x}"),
            Action::Masquerade => "masquerade fully-random".into(),
            Action::VmapAddrProtoPort(m) => format!("ip daddr . meta l4proto . th dport vmap @{m}"),
            Action::VmapProtoPort(m) => format!("meta l4proto . th dport vmap @{m}"),
            Action::Numgen(targets) => format!(
                "numgen random mod {} vmap {{ {} }}",
                targets.len(),
                targets.iter().enumerate().map(|(i, t)| format!("{i} : goto {t}")).collect::<Vec<_>>().join(", ")
            ),
            Action::Update(set) => format!("update @{set} {{ ip saddr }}"),
            Action::Dnat { protocol, ip, port } => format!("meta l4proto {protocol} dnat to {ip}:{port}"),
        });
        if let Some(c) = &self.comment {
            parts.push(format!("comment {c:?}"));
        }
        f.write_str(&parts.join(" "))
    }
}

/// A base chain's hook and priority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base {
    pub kind: &'static str,
    pub hook: Hook,
    pub priority: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    pub base: Option<Base>,
    pub comment: Option<String>,
    pub rules: Vec<Rule>,
}

/// A verdict in a map element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapVerdict {
    Goto(String),
    Drop,
}

/// One element of a verdict map: `[ADDR . ]PROTO . PORT [comment] : VERDICT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub addr: Option<IpAddr>,
    pub protocol: String,
    pub port: u16,
    pub comment: Option<String>,
    pub verdict: MapVerdict,
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(a) = self.addr {
            write!(f, "{a} . ")?;
        }
        write!(f, "{} . {}", self.protocol, self.port)?;
        if let Some(c) = &self.comment {
            write!(f, " comment {c:?}")?;
        }
        match &self.verdict {
            MapVerdict::Goto(c) => write!(f, " : goto {c}"),
            MapVerdict::Drop => f.write_str(" : drop"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Map {
    pub name: String,
    /// Keyed on the address too, or on protocol and port only.
    pub with_addr: bool,
    pub comment: String,
    pub elements: Vec<Element>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set {
    pub name: String,
    pub comment: Option<String>,
    /// An affinity set: dynamic, with this timeout in seconds.
    pub timeout: Option<u32>,
    pub elements: Vec<IpAddr>,
}

/// The `ip kube-proxy` table of one node.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Ruleset {
    pub sets: Vec<Set>,
    pub maps: Vec<Map>,
    pub chains: Vec<Chain>,
    /// Chain name to its index in `chains`.
    index: std::collections::BTreeMap<String, usize>,
}

/// How nft prints a duration: `3h`, `1h30m`, `10s`.
fn duration(mut s: u32) -> String {
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if s >= len {
            let _ = write!(out, "{}{unit}", s / len);
            s %= len;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

const SERVICE_IPS: &str = "service-ips";
const SERVICE_NODEPORTS: &str = "service-nodeports";
const NO_ENDPOINT_SERVICES: &str = "no-endpoint-services";
const NO_ENDPOINT_NODEPORTS: &str = "no-endpoint-nodeports";
const FIREWALL_IPS: &str = "firewall-ips";
const CLUSTER_IPS: &str = "cluster-ips";
const NODEPORT_IPS: &str = "nodeport-ips";
const MARK_MASQ: &str = "mark-for-masquerade";
const REJECT_CHAIN: &str = "reject-chain";

impl Ruleset {
    fn chain_mut(&mut self, name: &str) -> &mut Chain {
        let i = match self.index.get(name) {
            Some(i) => *i,
            None => {
                self.chains.push(Chain { name: name.to_owned(), base: None, comment: None, rules: Vec::new() });
                self.index.insert(name.to_owned(), self.chains.len() - 1);
                self.chains.len() - 1
            }
        };
        &mut self.chains[i]
    }

    fn reindex(&mut self) {
        self.index = self.chains.iter().enumerate().map(|(i, c)| (c.name.clone(), i)).collect();
    }

    fn rule(&mut self, chain: &str, matches: Vec<Match>, action: Action) {
        self.chain_mut(chain).rules.push(Rule { matches, action, comment: None });
    }

    fn commented(&mut self, chain: &str, matches: Vec<Match>, action: Action, comment: &str) {
        self.chain_mut(chain).rules.push(Rule { matches, action, comment: Some(comment.to_owned()) });
    }

    fn map_mut(&mut self, name: &str) -> &mut Map {
        let i = self.maps.iter().position(|m| m.name == name).expect("maps are declared first");
        &mut self.maps[i]
    }

    fn set_mut(&mut self, name: &str) -> &mut Set {
        let i = self.sets.iter().position(|m| m.name == name).expect("sets are declared first");
        &mut self.sets[i]
    }

    fn element(
        &mut self,
        map: &str,
        addr: Option<IpAddr>,
        protocol: &str,
        port: u16,
        verdict: MapVerdict,
        c: Option<&str>,
    ) {
        self.map_mut(map).elements.push(Element {
            addr,
            protocol: protocol.to_owned(),
            port,
            comment: c.map(str::to_owned),
            verdict,
        });
    }

    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.index.get(name).map(|i| &self.chains[*i])
    }

    /// `nft list table ip kube-proxy`: sets and maps in the order they
    /// were created, then chains; elements one per line.
    pub fn render(&self) -> String {
        let mut out = format!("table {TABLE} {{\n\tcomment \"rules for kube-proxy\"\n");
        let mut blocks: Vec<String> = Vec::new();
        for s in &self.sets {
            let mut b = format!("\tset {} {{\n\t\ttype ipv4_addr\n", s.name);
            if let Some(t) = s.timeout {
                let _ = write!(b, "\t\tsize 65535\n\t\tflags dynamic,timeout\n\t\ttimeout {}\n", duration(t));
            }
            if let Some(c) = &s.comment {
                let _ = writeln!(b, "\t\tcomment {c:?}");
            }
            elements(&mut b, s.elements.iter().map(ToString::to_string));
            b.push_str("\t}\n");
            blocks.push(b);
        }
        for m in &self.maps {
            let key = if m.with_addr { "ipv4_addr . inet_proto . inet_service" } else { "inet_proto . inet_service" };
            let mut b = format!("\tmap {} {{\n\t\ttype {key} : verdict\n\t\tcomment {:?}\n", m.name, m.comment);
            elements(&mut b, m.elements.iter().map(ToString::to_string));
            b.push_str("\t}\n");
            blocks.push(b);
        }
        for c in &self.chains {
            let mut b = format!("\tchain {} {{\n", c.name);
            if let Some(base) = &c.base {
                let _ = writeln!(
                    b,
                    "\t\ttype {} hook {} priority {}; policy accept;",
                    base.kind,
                    hook_name(base.hook),
                    priority(base.hook, base.priority)
                );
            }
            if let Some(comment) = &c.comment {
                let _ = writeln!(b, "\t\tcomment {comment:?}");
            }
            for r in &c.rules {
                let _ = writeln!(b, "\t\t{r}");
            }
            b.push_str("\t}\n");
            blocks.push(b);
        }
        out.push_str(&blocks.join("\n"));
        out.push_str("}\n");
        out
    }
}

fn elements(b: &mut String, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    if !items.is_empty() {
        let _ = writeln!(b, "\t\telements = {{ {} }}", items.join(",\n\t\t\t     "));
    }
}

fn hook_name(h: Hook) -> &'static str {
    match h {
        Hook::Prerouting => "prerouting",
        Hook::Input => "input",
        Hook::Forward => "forward",
        Hook::Output => "output",
        Hook::Postrouting => "postrouting",
        Hook::Connect => "connect",
    }
}

/// nft names the standard priorities where the hook has them: `dstnat`
/// at prerouting, `srcnat` at postrouting, `filter` everywhere.
fn priority(hook: Hook, p: i32) -> String {
    let (name, base) = match hook {
        Hook::Prerouting if (-110..=-90).contains(&p) => ("dstnat", -100),
        Hook::Postrouting if (90..=110).contains(&p) => ("srcnat", 100),
        _ if (-10..=10).contains(&p) => ("filter", 0),
        _ => return p.to_string(),
    };
    match p - base {
        0 => name.to_owned(),
        d if d < 0 => format!("{name} - {}", -d),
        d => format!("{name} + {d}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hash_like_kube_proxy() {
        // Upstream's test names, and one from a real cluster.
        assert_eq!(hashed("service-", "ns1/svc1/tcp/p80"), "service-ULMVA6XW-ns1/svc1/tcp/p80");
        assert_eq!(
            hashed("endpoint-", "ns1/svc1/tcp/p80__10.180.0.1/80"),
            "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
        );
        assert_eq!(
            hashed("affinity-", "ns5/svc5/tcp/p80__10.180.0.3/80"),
            "affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80"
        );
        assert_eq!(hashed("service-", "default/kubernetes/tcp/https"), "service-2QRHZV4L-default/kubernetes/tcp/https");
    }

    #[test]
    fn durations_print_as_nft_prints_them() {
        assert_eq!(duration(10800), "3h");
        assert_eq!(duration(5400), "1h30m");
        assert_eq!(duration(10), "10s");
        assert_eq!(duration(86_401), "1d1s");
    }

    #[test]
    fn priorities_print_as_nft_prints_them() {
        assert_eq!(priority(Hook::Prerouting, -110), "dstnat - 10");
        assert_eq!(priority(Hook::Output, -110), "-110");
        assert_eq!(priority(Hook::Output, -100), "-100");
        assert_eq!(priority(Hook::Postrouting, 100), "srcnat");
        assert_eq!(priority(Hook::Forward, 0), "filter");
    }
}
