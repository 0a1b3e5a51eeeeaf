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

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};
use std::net::IpAddr;

use data_encoding::BASE32;
use ipnet::IpNet;
use sha2::{Digest, Sha256};

use super::{service_ports, Hook, ProxyConfig, ProxyEndpoint, ServicePortView};
use crate::cluster::Cluster;
use crate::netfilter::eval::{Context, Verdict};
use crate::packet::Packet;
use crate::step::{Action as Did, Place, Step};

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

/// The table kube-proxy writes on `node`.
pub fn build(cluster: &Cluster, node: &str) -> Ruleset {
    let cfg = ProxyConfig::for_mode(&cluster.settings, crate::settings::ProxyMode::Nftables);
    let mark = cfg.masquerade_mark();
    let node_ip = cluster.node(node).and_then(|n| n.internal_ip);
    let mut t = Ruleset::default();

    // Sets and maps, in the order a first sync creates them.
    t.sets.push(Set {
        name: CLUSTER_IPS.into(),
        comment: Some("Active ClusterIPs".into()),
        timeout: None,
        elements: vec![],
    });
    t.sets.push(Set {
        name: NODEPORT_IPS.into(),
        comment: Some("IPs that accept NodePort traffic".into()),
        timeout: None,
        elements: vec![],
    });
    for (name, with_addr, comment) in [
        (NO_ENDPOINT_SERVICES, true, "vmap to drop or reject packets to services with no endpoints"),
        (NO_ENDPOINT_NODEPORTS, false, "vmap to drop or reject packets to service nodeports with no endpoints"),
        (FIREWALL_IPS, true, "destinations that are subject to LoadBalancerSourceRanges"),
        (SERVICE_IPS, true, "ClusterIP, ExternalIP and LoadBalancer IP traffic"),
        (SERVICE_NODEPORTS, false, "NodePort traffic"),
    ] {
        t.maps.push(Map { name: name.into(), with_addr, comment: comment.into(), elements: vec![] });
    }

    // Base chains, then the fixed chains and their jumps.
    let bases = [
        ("filter-prerouting-pre-dnat", "filter", Hook::Prerouting, -110),
        ("filter-output-pre-dnat", "filter", Hook::Output, -110),
        ("filter-input", "filter", Hook::Input, 0),
        ("filter-forward", "filter", Hook::Forward, 0),
        ("filter-output", "filter", Hook::Output, 0),
        ("nat-prerouting", "nat", Hook::Prerouting, -100),
        ("nat-output", "nat", Hook::Output, -100),
        ("nat-postrouting", "nat", Hook::Postrouting, 100),
    ];
    for (name, kind, hook, priority) in bases {
        t.chains.push(Chain {
            name: name.into(),
            base: Some(Base { kind, hook, priority }),
            comment: None,
            rules: vec![],
        });
    }
    t.reindex();
    let new = || vec![Match::CtStateNew];
    let jump = |c: &str| Action::Jump(c.into());
    t.rule("filter-input", new(), jump("nodeport-endpoints-check"));
    t.rule("filter-input", new(), jump("service-endpoints-check"));
    t.rule("filter-forward", new(), jump("service-endpoints-check"));
    t.rule("filter-output", new(), jump("service-endpoints-check"));
    t.rule("filter-prerouting-pre-dnat", new(), jump("firewall-check"));
    t.rule("filter-output-pre-dnat", new(), jump("firewall-check"));
    t.rule("nat-output", vec![], jump("services"));
    t.rule("nat-prerouting", vec![], jump("services"));
    t.rule("nat-postrouting", vec![], jump("masquerading"));
    t.rule("filter-forward", new(), jump("cluster-ips-check"));
    t.rule("filter-output", new(), jump("cluster-ips-check"));
    t.rule("masquerading", vec![Match::MarkClear(mark)], Action::Return);
    t.rule("masquerading", vec![], Action::MarkXor(mark));
    t.rule("masquerading", vec![], Action::Masquerade);
    t.commented(
        "cluster-ips-check",
        vec![Match::DaddrInSet(CLUSTER_IPS.into())],
        Action::Reject,
        "Reject traffic to invalid ports of ClusterIPs",
    );
    t.commented(
        "cluster-ips-check",
        vec![Match::Daddr { nets: vec![cluster.settings.service_cidr], negated: false }],
        Action::Drop,
        "Drop traffic to unallocated ClusterIPs",
    );
    t.rule(MARK_MASQ, vec![], Action::MarkOr(mark));
    t.chain_mut(REJECT_CHAIN).comment = Some("helper for @no-endpoint-services / @no-endpoint-nodeports".into());
    t.rule(REJECT_CHAIN, vec![], Action::Reject);
    t.rule("service-endpoints-check", vec![], Action::VmapAddrProtoPort(NO_ENDPOINT_SERVICES.into()));
    t.rule(
        "nodeport-endpoints-check",
        vec![Match::DaddrInSet(NODEPORT_IPS.into())],
        Action::VmapProtoPort(NO_ENDPOINT_NODEPORTS.into()),
    );
    t.rule("firewall-check", vec![], Action::VmapAddrProtoPort(FIREWALL_IPS.into()));
    t.rule("services", vec![], Action::VmapAddrProtoPort(SERVICE_IPS.into()));
    t.rule("services", vec![Match::DaddrInSet(NODEPORT_IPS.into())], Action::VmapProtoPort(SERVICE_NODEPORTS.into()));
    // Reorder the fixed chains as a first sync creates them.
    let order = [
        "nodeport-endpoints-check",
        "service-endpoints-check",
        "firewall-check",
        "services",
        "masquerading",
        "cluster-ips-check",
        MARK_MASQ,
        REJECT_CHAIN,
    ];
    let (mut fixed, base): (Vec<Chain>, Vec<Chain>) =
        std::mem::take(&mut t.chains).into_iter().partition(|c| c.base.is_none());
    fixed.sort_by_key(|c| order.iter().position(|o| *o == c.name));
    t.chains = base;
    t.chains.extend(fixed);
    t.reindex();

    // nftables mode takes NodePorts on the node's primary address (its
    // default `--nodeport-addresses primary`), or on the configured CIDRs;
    // never on loopback.
    let nodeport_ips: Vec<IpAddr> = node_ip
        .into_iter()
        .filter(|ip| cfg.node_port_addresses.is_empty() || cfg.node_port_addresses.iter().any(|n| n.contains(ip)))
        .filter(|ip| !ip.is_loopback())
        .collect();
    t.set_mut(NODEPORT_IPS).elements = nodeport_ips;

    for view in service_ports(cluster, node) {
        write_service(&mut t, &view, &cfg, node_ip);
    }
    t
}

fn base_name(view: &ServicePortView<'_>) -> String {
    format!(
        "{}/{}/{}/{}",
        view.service.namespace,
        view.service.name,
        view.protocol().as_str().to_ascii_lowercase(),
        view.port.name
    )
}

fn endpoint_base(view: &ServicePortView<'_>, ep: &ProxyEndpoint) -> String {
    let ip = ep.ip.to_string().replace(':', ".");
    format!("{}__{ip}/{}", base_name(view), ep.port)
}

fn write_service(t: &mut Ruleset, view: &ServicePortView<'_>, cfg: &ProxyConfig, node_ip: Option<IpAddr>) {
    let svc = view.service;
    let base = base_name(view);
    let proto = view.protocol().as_str().to_ascii_lowercase();
    let port = view.port.port;
    let spn = view.name.as_str();
    let cluster_chain = hashed("service-", &base);
    let local_chain = hashed("local-", &base);
    let external_chain = hashed("external-", &base);
    let firewall_chain = hashed("firewall-", &base);

    let has_endpoints = view.has_endpoints;
    let pick = |local: bool| if local { &local_chain } else { &cluster_chain };
    let (internal_chain, has_internal) = (pick(view.internal_policy_local()), view.has_internal_endpoints());
    let (external_policy_chain, has_external) = (pick(view.external_policy_local()), view.has_external_endpoints());
    let (internal_verdict, external_verdict) = if !has_endpoints {
        (MapVerdict::Goto(REJECT_CHAIN.into()), MapVerdict::Goto(REJECT_CHAIN.into()))
    } else {
        (MapVerdict::Drop, MapVerdict::Drop)
    };
    let uses_cluster_chain = !view.cluster_endpoints.is_empty() && view.uses_cluster_endpoints();
    let uses_local_chain = !view.local_endpoints.is_empty() && view.uses_local_endpoints();
    let uses_external_chain = has_endpoints && view.externally_accessible();
    let ranges: Vec<IpNet> = svc.load_balancer_source_ranges.iter().filter_map(|r| r.trim().parse().ok()).collect();
    let uses_firewall = !svc.load_balancer_ips.is_empty() && !ranges.is_empty();

    // Affinity sets, one per reachable endpoint.
    let reachable = view.reachable_endpoints();
    if let Some(timeout) = svc.session_affinity {
        for ep in &reachable {
            t.sets.push(Set {
                name: hashed("affinity-", &endpoint_base(view, ep)),
                comment: None,
                timeout: Some(timeout),
                elements: vec![],
            });
        }
    }
    // Endpoint chains.
    for ep in &reachable {
        let eb = endpoint_base(view, ep);
        let chain = hashed("endpoint-", &eb);
        let affinity = svc.session_affinity.map(|_| hashed("affinity-", &eb));
        t.rule(
            &chain,
            vec![Match::Saddr { nets: vec![IpNet::from(ep.ip)], negated: false }],
            Action::Jump(MARK_MASQ.into()),
        );
        if let Some(set) = affinity {
            t.rule(&chain, vec![], Action::Update(set));
        }
        t.rule(&chain, vec![], Action::Dnat { protocol: proto.clone(), ip: ep.ip, port: ep.port });
    }
    // The policy chains: the internal one marks traffic that does not come
    // from a pod, then affinity, then the random pick.
    for (chain, used, endpoints) in [
        (&cluster_chain, uses_cluster_chain, &view.cluster_endpoints),
        (&local_chain, uses_local_chain, &view.local_endpoints),
    ] {
        if !used {
            continue;
        }
        if chain == internal_chain && has_internal {
            let vip = Match::Daddr { nets: vec![IpNet::from(view.cluster_ip)], negated: false };
            if cfg.masquerade_all {
                t.rule(chain, vec![vip], Action::Jump(MARK_MASQ.into()));
            } else if let Some(cidr) = cfg.cluster_cidr {
                t.rule(
                    chain,
                    vec![vip, Match::Saddr { nets: vec![cidr], negated: true }],
                    Action::Jump(MARK_MASQ.into()),
                );
            }
        }
        let targets: Vec<String> = endpoints.iter().map(|e| hashed("endpoint-", &endpoint_base(view, e))).collect();
        if svc.session_affinity.is_some() {
            for e in endpoints {
                let eb = endpoint_base(view, e);
                t.rule(
                    chain,
                    vec![Match::SaddrInSet(hashed("affinity-", &eb))],
                    Action::Goto(hashed("endpoint-", &eb)),
                );
            }
        }
        t.rule(chain, vec![], Action::Numgen(targets));
    }
    // The external chain.
    if uses_external_chain {
        if !view.external_policy_local() {
            t.rule(&external_chain, vec![], Action::Jump(MARK_MASQ.into()));
            t.rule(&external_chain, vec![], Action::Goto(cluster_chain.clone()));
        } else {
            if let Some(cidr) = cfg.cluster_cidr {
                t.commented(
                    &external_chain,
                    vec![Match::Saddr { nets: vec![cidr], negated: false }],
                    Action::Goto(cluster_chain.clone()),
                    "short-circuit pod traffic",
                );
            }
            t.commented(
                &external_chain,
                vec![Match::FibSaddrLocal],
                Action::Jump(MARK_MASQ.into()),
                "masquerade local traffic",
            );
            t.commented(
                &external_chain,
                vec![Match::FibSaddrLocal],
                Action::Goto(cluster_chain.clone()),
                "short-circuit local traffic",
            );
            if has_external {
                t.rule(&external_chain, vec![], Action::Goto(external_policy_chain.clone()));
            }
        }
    }
    // The firewall chain: drop what the source ranges do not allow.
    if uses_firewall {
        let mut allowed = ranges.clone();
        if node_ip.is_some_and(|ip| ranges.iter().any(|r| r.contains(&ip))) {
            allowed.extend(svc.load_balancer_ips.iter().map(|ip| IpNet::from(*ip)));
        }
        allowed.sort();
        t.rule(&firewall_chain, vec![Match::Saddr { nets: allowed, negated: true }], Action::Drop);
    }

    // The elements.
    let cluster_ips = &mut t.set_mut(CLUSTER_IPS).elements;
    if !cluster_ips.contains(&view.cluster_ip) {
        cluster_ips.push(view.cluster_ip);
        cluster_ips.sort();
    }
    if has_internal {
        t.element(SERVICE_IPS, Some(view.cluster_ip), &proto, port, MapVerdict::Goto(internal_chain.clone()), None);
    } else {
        t.element(NO_ENDPOINT_SERVICES, Some(view.cluster_ip), &proto, port, internal_verdict, Some(spn));
    }
    for ip in &svc.external_ips {
        if has_endpoints {
            t.element(SERVICE_IPS, Some(*ip), &proto, port, MapVerdict::Goto(external_chain.clone()), None);
        }
        if !has_external {
            t.element(NO_ENDPOINT_SERVICES, Some(*ip), &proto, port, external_verdict.clone(), Some(spn));
        }
    }
    for ip in &svc.load_balancer_ips {
        if has_endpoints {
            t.element(SERVICE_IPS, Some(*ip), &proto, port, MapVerdict::Goto(external_chain.clone()), None);
        }
        if uses_firewall {
            t.element(FIREWALL_IPS, Some(*ip), &proto, port, MapVerdict::Goto(firewall_chain.clone()), None);
        }
        if !has_external {
            t.element(NO_ENDPOINT_SERVICES, Some(*ip), &proto, port, external_verdict.clone(), Some(spn));
        }
    }
    if let Some(np) = view.port.node_port {
        if has_endpoints {
            t.element(SERVICE_NODEPORTS, None, &proto, np, MapVerdict::Goto(external_chain.clone()), None);
        }
        if !has_external {
            t.element(NO_ENDPOINT_NODEPORTS, None, &proto, np, external_verdict, Some(spn));
        }
    }
}

// Evaluation.

/// A chain of kube-proxy's table, as a trace names it.
fn here(chain: &str) -> Place {
    Place::chain(TABLE, chain)
}

/// An element of one of its verdict maps.
fn map_place(map: &str) -> Place {
    Place::Map { table: TABLE.to_owned(), map: map.to_owned() }
}

enum Flow {
    Continue,
    Return,
    End(Verdict),
}

struct Walk<'a, 'c> {
    table: &'a Ruleset,
    local: &'a [IpNet],
    random: &'a mut dyn FnMut(u64) -> u64,
    steps: &'c mut Vec<Step>,
    /// Every branch instead of one draw, for candidates.
    explore: Option<&'c mut BTreeSet<(IpAddr, u16)>>,
}

impl Walk<'_, '_> {
    fn holds(&self, m: &Match, pkt: &Packet) -> bool {
        let in_set =
            |name: &str, ip: IpAddr| self.table.sets.iter().any(|s| s.name == name && s.elements.contains(&ip));
        match m {
            Match::CtStateNew => true,
            Match::Daddr { nets, negated } => nets.iter().any(|n| n.contains(&pkt.dst)) != *negated,
            Match::Saddr { nets, negated } => nets.iter().any(|n| n.contains(&pkt.src)) != *negated,
            Match::DaddrInSet(s) => in_set(s, pkt.dst),
            // Affinity sets start empty: no earlier connection is remembered.
            Match::SaddrInSet(s) => in_set(s, pkt.src),
            Match::FibSaddrLocal => self.local.iter().any(|n| n.contains(&pkt.src)),
            Match::MarkClear(m) => pkt.mark & m == 0,
        }
    }

    fn step(&mut self, at: Place, action: Did, line: String, pkt: &Packet, detail: String) {
        if self.explore.is_none() {
            self.steps.push(Step::new(at, action, detail).rule(line).packet(pkt));
        }
    }

    fn lookup(&self, map: &str, pkt: &Packet, with_addr: bool) -> Option<&Element> {
        let m = self.table.maps.iter().find(|m| m.name == map)?;
        m.elements.iter().find(|e| {
            (!with_addr || e.addr == Some(pkt.dst)) && e.protocol == pkt.protocol.name() && e.port == pkt.dport
        })
    }

    /// Runs a chain; `depth` guards against loops in hand-made tables.
    fn chain(&mut self, name: &str, pkt: &mut Packet, depth: u32) -> Flow {
        if depth > 32 {
            return Flow::End(Verdict::Drop);
        }
        let Some(chain) = self.table.chain(name) else { return Flow::Continue };
        for rule in &chain.rules {
            if !rule.matches.iter().all(|m| self.holds(m, pkt)) {
                continue;
            }
            let line = rule.to_string();
            let detail = rule.comment.clone().unwrap_or_default();
            let flow = match &rule.action {
                Action::Jump(next) => {
                    self.step(here(name), if next == MARK_MASQ { Did::Mark } else { Did::Jump }, line, pkt, detail);
                    self.chain(next, pkt, depth + 1)
                }
                Action::Goto(next) => {
                    self.step(here(name), Did::Goto, line, pkt, detail);
                    match self.chain(next, pkt, depth + 1) {
                        Flow::End(v) => Flow::End(v),
                        _ => Flow::Return,
                    }
                }
                Action::Return => {
                    self.step(here(name), Did::Return, line, pkt, detail);
                    Flow::Return
                }
                Action::Drop => {
                    self.step(here(name), Did::Dropped, line, pkt, detail);
                    Flow::End(Verdict::Drop)
                }
                Action::Reject => {
                    self.step(here(name), Did::Rejected, line, pkt, detail);
                    Flow::End(Verdict::Reject)
                }
                Action::MarkOr(m) => {
                    pkt.mark |= m;
                    self.step(here(name), Did::Mark, line, pkt, detail);
                    Flow::Continue
                }
                Action::MarkXor(m) => {
                    pkt.mark ^= m;
                    self.step(here(name), Did::Mark, line, pkt, detail);
                    Flow::Continue
                }
                Action::Masquerade => {
                    self.step(here(name), Did::Snat, line, pkt, detail);
                    Flow::End(Verdict::Masquerade)
                }
                Action::VmapAddrProtoPort(map) | Action::VmapProtoPort(map) => {
                    let with_addr = matches!(rule.action, Action::VmapAddrProtoPort(_));
                    match self.lookup(map, pkt, with_addr).cloned() {
                        None => Flow::Continue,
                        Some(el) => {
                            self.step(
                                here(name),
                                Did::Lookup,
                                line,
                                pkt,
                                format!(
                                    "@{map} has {}",
                                    el.addr.map_or_else(
                                        || format!("{} . {}", el.protocol, el.port),
                                        |a| format!("{a} . {} . {}", el.protocol, el.port)
                                    )
                                ),
                            );
                            // The no-endpoint maps carry the service port's
                            // name; say what it means, as iptables mode's
                            // comments do.
                            let detail = match (&el.comment, &el.verdict) {
                                (Some(c), MapVerdict::Drop) => format!("{c} has no local endpoints"),
                                (Some(c), MapVerdict::Goto(_)) => format!("{c} has no endpoints"),
                                (None, _) => String::new(),
                            };
                            match &el.verdict {
                                MapVerdict::Drop => {
                                    self.step(map_place(map), Did::Dropped, el.to_string(), pkt, detail);
                                    Flow::End(Verdict::Drop)
                                }
                                MapVerdict::Goto(next) => {
                                    self.step(map_place(map), Did::Goto, el.to_string(), pkt, detail.clone());
                                    let flow = self.chain(next, pkt, depth + 1);
                                    if let (Flow::End(Verdict::Reject | Verdict::Drop), Some(last)) =
                                        (&flow, self.steps.last_mut())
                                    {
                                        if last.detail.is_empty() {
                                            last.detail = detail;
                                        }
                                    }
                                    match flow {
                                        Flow::End(v) => Flow::End(v),
                                        _ => Flow::Return,
                                    }
                                }
                            }
                        }
                    }
                }
                Action::Numgen(targets) => {
                    if targets.is_empty() {
                        Flow::Continue
                    } else if self.explore.is_some() {
                        for next in targets {
                            let mut copy = pkt.clone();
                            let _ = self.chain(next, &mut copy, depth + 1);
                        }
                        Flow::End(Verdict::Accept)
                    } else {
                        let i = (self.random)(targets.len() as u64) as usize;
                        self.step(here(name), Did::Goto, line, pkt, format!("numgen picked {i} of {}", targets.len()));
                        match self.chain(&targets[i], pkt, depth + 1) {
                            Flow::End(v) => Flow::End(v),
                            _ => Flow::Return,
                        }
                    }
                }
                Action::Update(_) => {
                    self.step(
                        here(name),
                        Did::Remember,
                        line,
                        pkt,
                        "session affinity: the client is remembered".into(),
                    );
                    Flow::Continue
                }
                Action::Dnat { ip, port, .. } => {
                    pkt.dst = *ip;
                    pkt.dport = *port;
                    if let Some(out) = self.explore.as_deref_mut() {
                        out.insert((*ip, *port));
                    }
                    self.step(here(name), Did::Dnat, line, pkt, detail);
                    Flow::End(Verdict::Dnat(*ip, *port))
                }
            };
            match flow {
                Flow::Continue => {}
                other => return other,
            }
        }
        Flow::Continue
    }
}

impl Ruleset {
    /// The base chains registered at `hook`, by priority.
    fn bases(&self, hook: Hook) -> Vec<&Chain> {
        let mut v: Vec<&Chain> =
            self.chains.iter().filter(|c| c.base.as_ref().is_some_and(|b| b.hook == hook)).collect();
        v.sort_by_key(|c| c.base.as_ref().map_or(0, |b| b.priority));
        v
    }

    /// Runs the packet through every base chain of `hook`, lowest
    /// priority first; a DNAT lets it go on to the next.
    pub fn run(&self, hook: Hook, pkt: &mut Packet, ctx: &mut Context<'_>, steps: &mut Vec<Step>) -> Verdict {
        let rng = &mut *ctx.rng;
        let mut random = |n: u64| rng.next_u64() % n;
        let mut result = Verdict::Accept;
        for base in self.bases(hook) {
            let mut w = Walk { table: self, local: ctx.local, random: &mut random, steps: &mut *steps, explore: None };
            match w.chain(&base.name, pkt, 0) {
                Flow::End(Verdict::Accept) | Flow::Continue | Flow::Return => {}
                Flow::End(v @ Verdict::Dnat(..)) => result = v,
                Flow::End(v) => return v,
            }
        }
        result
    }

    /// Every DNAT the nat chain of the packet's first hook can reach.
    pub fn candidates(&self, pkt: &Packet, from_host: bool, local: &[IpNet]) -> BTreeSet<(IpAddr, u16)> {
        let mut out = BTreeSet::new();
        let mut random = |_: u64| 0;
        let mut steps = Vec::new();
        let chain = if from_host { "nat-output" } else { "nat-prerouting" };
        let mut w = Walk { table: self, local, random: &mut random, steps: &mut steps, explore: Some(&mut out) };
        let _ = w.chain(chain, &mut pkt.clone(), 0);
        out
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
