//! Felix, Calico's agent, as it programs a node's `filter` table with the
//! iptables dataplane (Calico v3.30, the stock manifest's settings): its
//! hooks at the top and the end of FORWARD, INPUT and OUTPUT, `cali-FORWARD`
//! dispatching by interface to each local workload's `cali-fw-`/`cali-tw-`
//! chain, the Kubernetes NetworkPolicies as `cali-pi-`/`cali-po-` chains of
//! the default tier, the namespace and service-account profiles, and the
//! ipsets of the selectors — each rule with the `cali:` hash comment Felix
//! gives it.
//!
//! Sources: projectcalico/calico `felix/rules/static.go` (cali-FORWARD,
//! cali-INPUT, cali-OUTPUT), `dispatch.go` (the interface prefix tree),
//! `endpoints.go` (the endpoint chains), `policy.go` (rules and chain
//! names), `felix/markbits` and `dataplane/driver.go` (v3.30's marks:
//! accept 0x10000, pass 0x20000, drop 0x40000, scratch 0x80000 and
//! 0x100000), `felix/generictables/rules.go` (the hash: SHA-224 of the
//! chain's name, then of each rule as Felix renders it with `HASH` in place
//! of its comment, chained), `felix/hashutils/id.go` (names over 28
//! characters hashed), libcalico-go's NetworkPolicy conversion
//! (`knp.default.NAME`, selectors with `projectcalico.org/…` labels).
//!
//! Not modelled: policy groups (`cali-gi-`, for consecutive policies with
//! the same selector), host endpoints (their chains are there, empty), the
//! encapsulation checks at the top of `cali-INPUT`, flow-log NFLOG rules.

use std::collections::BTreeMap;

use data_encoding::BASE64URL_NOPAD;
use ipnet::IpNet;
use sha2::{Digest, Sha224, Sha256};

use super::policies::{applying, policy_chain};
use super::selectors::{service_account, workloads};
use crate::cluster::{Cluster, Pod, Protocol};
use crate::datapath::PluginRules;
use crate::netfilter::ipset::IpSets;
use crate::netfilter::{Additions, AddrMatch, Match, Rule, Table, Target};

/// Felix's mark bits (v3.30, the default mask 0xffff0000).
pub const ACCEPT: u32 = 0x10000;
pub const PASS: u32 = 0x20000;
const SCRATCH0: u32 = 0x80000;
const SCRATCH1: u32 = 0x10_0000;
/// accept | pass | scratch0 | scratch1.
const ALL_CALICO: u32 = ACCEPT | PASS | SCRATCH0 | SCRATCH1;

/// The longest chain name Felix writes before it hashes one.
const MAX_CHAIN: usize = 28;

/// What Felix adds to a node's `filter` table, while it is being built.
pub(super) struct Felix {
    pub(super) table: Table,
    pub(super) head: Vec<Rule>,
    pub(super) tail: Vec<Rule>,
    pub(super) sets: IpSets,
}

/// One rule as Felix builds it: its comments, its match and action as
/// Felix renders them (for the hash), and the same as data.
pub(super) struct FelixRule {
    pub(super) comments: Vec<String>,
    text: Vec<String>,
    rule: Rule,
}

impl FelixRule {
    pub(super) fn new() -> FelixRule {
        FelixRule { comments: Vec::new(), text: Vec::new(), rule: Rule::new("") }
    }

    pub(super) fn comment(mut self, c: &str) -> FelixRule {
        // Felix keeps `[\w @%+=:,./-]` and writes `_` for anything else.
        let clean: String =
            c.chars().map(|ch| if ch.is_alphanumeric() || "_ @%+=:,./-".contains(ch) { ch } else { '_' }).collect();
        self.comments.push(clean);
        self
    }

    fn frag(mut self, text: String, m: Match) -> FelixRule {
        self.text.push(text);
        self.rule.matches.push(m);
        self
    }

    pub(super) fn input(mut self, dev: &str) -> FelixRule {
        self.text.push(format!("--in-interface {dev}"));
        self.rule.in_interface = Some(dev.to_owned());
        self
    }

    pub(super) fn output(mut self, dev: &str) -> FelixRule {
        self.text.push(format!("--out-interface {dev}"));
        self.rule.out_interface = Some(dev.to_owned());
        self
    }

    /// `-p N` by number, as Felix writes the encapsulation drops.
    fn proto_number(mut self, number: u8, name: &str) -> FelixRule {
        self.text.push(format!("-p {number}"));
        self.rule.protocol = Some(name.to_owned());
        self
    }

    pub(super) fn proto(mut self, p: Protocol) -> FelixRule {
        self.text.push(format!("-p {}", p.name()));
        self.rule.protocol = Some(p.name().to_owned());
        self
    }

    pub(super) fn ctstate(self, states: &str) -> FelixRule {
        let m = Match::CtState { states: states.split(',').map(str::to_owned).collect(), negated: false };
        self.frag(format!("-m conntrack --ctstate {states}"), m)
    }

    pub(super) fn mark_clear(self, mask: u32) -> FelixRule {
        self.frag(format!("-m mark --mark 0/{mask:#x}"), Match::Mark { value: 0, mask, negated: false })
    }

    pub(super) fn mark_set(self, mark: u32) -> FelixRule {
        self.frag(
            format!("-m mark --mark {mark:#x}/{mark:#x}"),
            Match::Mark { value: mark, mask: mark, negated: false },
        )
    }

    pub(super) fn dports(self, ports: Vec<(u16, u16)>) -> FelixRule {
        let list: Vec<String> =
            ports.iter().map(|(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}:{hi}") }).collect();
        self.frag(format!("-m multiport --destination-ports {}", list.join(",")), Match::Multiport(ports))
    }

    pub(super) fn set(self, name: &str, dir: &str, negated: bool) -> FelixRule {
        let neg = if negated { "! " } else { "" };
        let m = Match::Set { name: name.to_owned(), flags: dir.to_owned(), negated };
        self.frag(format!("-m set {neg}--match-set {name} {dir}"), m)
    }

    pub(super) fn net(mut self, net: IpNet, source: bool) -> FelixRule {
        let side = if source { "--source" } else { "--destination" };
        self.text.push(format!("{side} {net}"));
        let a = Some(AddrMatch { net, negated: false });
        if source {
            self.rule.source = a;
        } else {
            self.rule.destination = a;
        }
        self
    }

    fn act(mut self, text: &str, t: Target) -> FelixRule {
        self.text.push(text.to_owned());
        self.rule.target = Some(t);
        self
    }

    pub(super) fn jump(self, chain: &str) -> FelixRule {
        self.act(&format!("--jump {chain}"), Target::Jump(chain.to_owned()))
    }

    pub(super) fn goto(self, chain: &str) -> FelixRule {
        self.act(&format!("--goto {chain}"), Target::Goto(chain.to_owned()))
    }

    pub(super) fn accept(self) -> FelixRule {
        self.act("--jump ACCEPT", Target::Accept)
    }

    pub(super) fn drop_it(self) -> FelixRule {
        self.act("--jump DROP", Target::Drop)
    }

    pub(super) fn ret(self) -> FelixRule {
        self.act("--jump RETURN", Target::Return)
    }

    pub(super) fn set_mark(self, mark: u32) -> FelixRule {
        self.act(&format!("--jump MARK --set-mark {mark:#x}/{mark:#x}"), Target::SetXMark { value: mark, mask: mark })
    }

    pub(super) fn clear_mark(self, mask: u32) -> FelixRule {
        self.act(&format!("--jump MARK --set-mark 0/{mask:#x}"), Target::SetXMark { value: 0, mask })
    }

    /// The rule as Felix renders it to hash it: `-A CHAIN HASH`, its
    /// comments, its match and action, joined by spaces.
    fn for_hashing(&self, chain: &str) -> String {
        let mut parts = vec![format!("-A {chain}"), "HASH".to_owned()];
        parts.extend(self.comments.iter().map(|c| format!("-m comment --comment \"{c}\"")));
        parts.extend(self.text.iter().cloned());
        parts.join(" ")
    }
}

/// Felix's rule hashes for a chain: SHA-224 of the chain's name, then each
/// rule's hash over the previous one and the rule, 16 URL-safe base64
/// characters each.
fn hashes(hash_chain: &str, rules: &[FelixRule]) -> Vec<String> {
    let mut h = Sha224::digest(hash_chain.as_bytes()).to_vec();
    rules
        .iter()
        .map(|r| {
            let mut s = Sha224::new();
            s.update(&h);
            s.update(r.for_hashing(hash_chain).as_bytes());
            h = s.finalize().to_vec();
            BASE64URL_NOPAD.encode(&h)[..16].to_owned()
        })
        .collect()
}

/// The rules of `chain` as written: each with its `cali:` hash first.
/// `hash_chain` is the name they are hashed under (`FORWARD*appends*` for
/// what Felix appends to FORWARD).
fn written(chain: &str, hash_chain: &str, rules: Vec<FelixRule>) -> Vec<Rule> {
    let hs = hashes(hash_chain, &rules);
    rules
        .into_iter()
        .zip(hs)
        .map(|(r, h)| {
            let mut rule = r.rule;
            rule.chain = chain.to_owned();
            let mut matches = vec![Match::Comment(format!("cali:{h}"))];
            matches.extend(r.comments.into_iter().map(Match::Comment));
            matches.extend(rule.matches);
            rule.matches = matches;
            rule
        })
        .collect()
}

/// `GetLengthLimitedID`: the name as it is if prefix and name fit in 28
/// characters, else the prefix, `_` and the start of the name's SHA-256.
pub(super) fn chain_name(prefix: &str, name: &str) -> String {
    let len = prefix.len() + name.len();
    if len < MAX_CHAIN || (len == MAX_CHAIN && !name.starts_with('_')) {
        return format!("{prefix}{name}");
    }
    let hash = BASE64URL_NOPAD.encode(&Sha256::digest(name.as_bytes()));
    format!("{prefix}_{}", &hash[..MAX_CHAIN - 1 - prefix.len()])
}

/// What Felix programs on `node`, whose workloads' host-side interfaces
/// are `ifaces` (pod key → name): its chains, its rules at the top (FORWARD,
/// INPUT, OUTPUT) and end (FORWARD) of the built-in chains, its ipsets.
pub fn build(cluster: &Cluster, node: &str, ifaces: &BTreeMap<String, String>) -> PluginRules {
    let f = felix(cluster, node, ifaces);
    PluginRules {
        filter: Some(Additions { table: f.table, head: f.head, tail: f.tail }),
        nat: None,
        sets: f.sets,
        nft: None,
    }
}

fn felix(cluster: &Cluster, node: &str, ifaces: &BTreeMap<String, String>) -> Felix {
    let mut f = Felix {
        table: Table::new("filter", &["INPUT", "FORWARD", "OUTPUT"]),
        head: Vec::new(),
        tail: Vec::new(),
        sets: IpSets::default(),
    };
    for (builtin, chain) in [("INPUT", "cali-INPUT"), ("FORWARD", "cali-FORWARD"), ("OUTPUT", "cali-OUTPUT")] {
        f.head.extend(written(builtin, builtin, vec![FelixRule::new().jump(chain)]));
    }
    f.tail = written(
        "FORWARD",
        "FORWARD*appends*",
        vec![
            FelixRule::new().comment("Policy explicitly accepted packet.").mark_set(ACCEPT).accept(),
            FelixRule::new().set_mark(ACCEPT),
        ],
    );
    statics(&mut f.table);
    let local: Vec<(&Pod, &String)> = workloads(cluster)
        .filter_map(|p| Some((p, ifaces.get(&p.key())?)))
        .filter(|(p, _)| p.node.as_deref() == Some(node))
        .collect();
    let names: Vec<&str> = local.iter().map(|(_, i)| i.as_str()).collect();
    dispatch(&mut f.table, "cali-from-wl-dispatch", "cali-fw-", &names, true);
    dispatch(&mut f.table, "cali-to-wl-dispatch", "cali-tw-", &names, false);
    let mut profiles = BTreeMap::new();
    for (p, iface) in &local {
        for egress in [false, true] {
            endpoint_chain(cluster, &mut f, p, iface, egress, &mut profiles);
        }
    }
    for ((chain, profile, egress), allow) in profiles {
        let dir = if egress { "egress" } else { "ingress" };
        let r = FelixRule::new().comment(&format!("Profile {profile} {dir}"));
        let rules = if allow { vec![r.set_mark(ACCEPT)] } else { vec![r] };
        push_chain(&mut f.table, &chain, rules);
    }
    f
}

pub(super) fn push_chain(t: &mut Table, chain: &str, rules: Vec<FelixRule>) {
    t.chain(chain);
    for r in written(chain, chain, rules) {
        t.push(r);
    }
}

/// The chains every Calico node has, whatever runs on it.
fn statics(t: &mut Table) {
    push_chain(
        t,
        "cali-FORWARD",
        vec![
            FelixRule::new().clear_mark(ALL_CALICO & !ACCEPT),
            FelixRule::new().mark_clear(ACCEPT).jump("cali-from-hep-forward"),
            FelixRule::new().input("cali+").jump("cali-from-wl-dispatch"),
            FelixRule::new().output("cali+").jump("cali-to-wl-dispatch"),
            FelixRule::new().jump("cali-to-hep-forward"),
            FelixRule::new().jump("cali-cidr-block"),
        ],
    );
    push_chain(
        t,
        "cali-INPUT",
        vec![
            FelixRule::new().input("cali+").goto("cali-wl-to-host"),
            FelixRule::new().mark_set(ACCEPT).accept(),
            FelixRule::new().clear_mark(ALL_CALICO),
            FelixRule::new().jump("cali-from-host-endpoint"),
            FelixRule::new().comment("Host endpoint policy accepted packet.").mark_set(ACCEPT).accept(),
        ],
    );
    push_chain(
        t,
        "cali-wl-to-host",
        vec![
            FelixRule::new().jump("cali-from-wl-dispatch"),
            // calico.yaml sets FELIX_DEFAULTENDPOINTTOHOSTACTION=ACCEPT.
            FelixRule::new().comment("Configured DefaultEndpointToHostAction").accept(),
        ],
    );
    push_chain(
        t,
        "cali-OUTPUT",
        vec![
            FelixRule::new().mark_set(ACCEPT).accept(),
            FelixRule::new().output("cali+").ret(),
            FelixRule::new().clear_mark(ALL_CALICO),
            FelixRule::new()
                .frag(
                    "-m conntrack ! --ctstate DNAT".into(),
                    Match::CtState { states: vec!["DNAT".into()], negated: true },
                )
                .jump("cali-to-host-endpoint"),
            FelixRule::new().comment("Host endpoint policy accepted packet.").mark_set(ACCEPT).accept(),
        ],
    );
    for empty in [
        "cali-from-hep-forward",
        "cali-to-hep-forward",
        "cali-cidr-block",
        "cali-from-host-endpoint",
        "cali-to-host-endpoint",
    ] {
        t.chain(empty);
    }
}

/// A dispatch chain: one goto per interface, names sharing the character
/// after their common prefix gathered in a sub-chain (`…-dispatch-2`),
/// and a drop for any other interface.
fn dispatch(t: &mut Table, root: &str, prefix: &str, names: &[&str], from: bool) {
    let mut names: Vec<&str> = names.to_vec();
    crate::order::sort(&mut names);
    names.dedup();
    let end = || FelixRule::new().comment("Unknown interface").drop_it();
    let to = |name: &str| {
        let r = FelixRule::new();
        let r = if from { r.input(name) } else { r.output(name) };
        r.goto(&format!("{prefix}{name}"))
    };
    let common = common_prefix(&names);
    let mut bins: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for n in &names {
        let bin: String = n.chars().take(common.chars().count() + 1).collect();
        bins.entry(bin).or_default().push(n);
    }
    let mut rules = Vec::new();
    for (bin, members) in &bins {
        if members.len() == 1 {
            rules.push(to(members[0]));
            continue;
        }
        let next = bin.chars().last().unwrap_or('_');
        let child = format!("{root}-{next}");
        let r = FelixRule::new();
        let r = if from { r.input(&format!("{bin}+")) } else { r.output(&format!("{bin}+")) };
        rules.push(r.goto(&child));
        let mut sub: Vec<FelixRule> = members.iter().map(|m| to(m)).collect();
        sub.push(end());
        push_chain(t, &child, sub);
    }
    rules.push(end());
    push_chain(t, root, rules);
}

fn common_prefix(names: &[&str]) -> String {
    let Some(first) = names.first() else { return String::new() };
    let mut len = first.len();
    for n in &names[1..] {
        len = first.chars().zip(n.chars()).take(len).take_while(|(a, b)| a == b).count();
    }
    first.chars().take(len).collect()
}

/// A workload's `cali-tw-` (ingress) or `cali-fw-` (egress) chain, its
/// policies' chains and the profiles it refers to (chain, profile,
/// direction → whether the profile allows).
fn endpoint_chain(
    cluster: &Cluster,
    f: &mut Felix,
    p: &Pod,
    iface: &str,
    egress: bool,
    profiles: &mut BTreeMap<(String, String, bool), bool>,
) {
    let mut rules = vec![
        FelixRule::new().ctstate("RELATED,ESTABLISHED").accept(),
        FelixRule::new().ctstate("INVALID").drop_it(),
        FelixRule::new().clear_mark(ACCEPT | PASS),
    ];
    if egress {
        rules.push(
            FelixRule::new()
                .comment("Drop VXLAN encapped packets originating in workloads")
                .proto_number(17, "udp")
                .dports(vec![(4789, 4789)])
                .drop_it(),
        );
        rules.push(
            FelixRule::new()
                .comment("Drop IPinIP encapped packets originating in workloads")
                .proto_number(4, "ipencap")
                .drop_it(),
        );
    }
    let policies = applying(cluster, p, egress);
    if !policies.is_empty() {
        rules.push(FelixRule::new().comment("Start of tier default").clear_mark(PASS));
        for np in &policies {
            let chain = policy_chain(cluster, f, np, egress);
            rules.push(FelixRule::new().mark_clear(PASS).jump(&chain));
            rules.push(FelixRule::new().comment("Return if policy accepted").mark_set(ACCEPT).ret());
        }
        rules.push(
            FelixRule::new()
                .comment("End of tier default. Drop if no policies passed packet")
                .mark_clear(PASS)
                .drop_it(),
        );
    }
    let (pre, dir) = if egress { ("cali-pro-", true) } else { ("cali-pri-", false) };
    for (profile, allow) in
        [(format!("kns.{}", p.namespace), true), (format!("ksa.{}.{}", p.namespace, service_account(p)), false)]
    {
        let chain = chain_name(pre, &profile);
        rules.push(FelixRule::new().jump(&chain));
        rules.push(FelixRule::new().comment("Return if profile accepted").mark_set(ACCEPT).ret());
        profiles.insert((chain, profile, dir), allow);
    }
    rules.push(FelixRule::new().comment("Drop if no profiles matched").drop_it());
    let chain = format!("{}{iface}", if egress { "cali-fw-" } else { "cali-tw-" });
    push_chain(&mut f.table, &chain, rules);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes_of(chain: &str, rules: Vec<FelixRule>) -> Vec<String> {
        hashes(chain, &rules)
    }

    /// The hashes real Calico nodes show for these rules (v3.21–v3.29 dumps).
    #[test]
    fn rule_hashes_are_felixs() {
        assert_eq!(hashes_of("FORWARD", vec![FelixRule::new().jump("cali-FORWARD")]), ["wUHhoiAYhphO9Mso"]);
        assert_eq!(
            hashes_of(
                "FORWARD*appends*",
                vec![
                    FelixRule::new().comment("Policy explicitly accepted packet.").mark_set(ACCEPT).accept(),
                    FelixRule::new().set_mark(ACCEPT),
                ]
            ),
            ["S93hcgKJrXEqnTfs", "mp77cMpurHhyjLrM"]
        );
        // cali-FORWARD before v3.30 cleared 0xe0000.
        let old = hashes_of(
            "cali-FORWARD",
            vec![
                FelixRule::new().clear_mark(0xe0000),
                FelixRule::new().mark_clear(ACCEPT).jump("cali-from-hep-forward"),
                FelixRule::new().input("cali+").jump("cali-from-wl-dispatch"),
                FelixRule::new().output("cali+").jump("cali-to-wl-dispatch"),
                FelixRule::new().jump("cali-to-hep-forward"),
                FelixRule::new().jump("cali-cidr-block"),
            ],
        );
        assert_eq!(
            old,
            [
                "vjrMJCRpqwy5oRoX",
                "A_sPAO0mcxbT9mOV",
                "8ZoYfO5HKXWbB3pk",
                "jdEuaPBe14V2hutn",
                "12bc6HljsMKsmfr-",
                "NOSxoaGx8OIstr1z"
            ]
        );
        assert_eq!(
            hashes_of(
                "cali-pro-kns.default",
                vec![FelixRule::new().comment("Profile kns.default egress").set_mark(ACCEPT)]
            ),
            ["Vr81boRqq4V77Sg8"]
        );
        assert_eq!(
            hashes_of(
                "cali-pro-ksa.default.default",
                vec![FelixRule::new().comment("Profile ksa.default.default egress")]
            ),
            ["bUZzZcietq9v5Ybq"]
        );
    }

    #[test]
    fn long_names_are_hashed_as_felix_hashes_them() {
        assert_eq!(chain_name("cali-pi-", "default/knp.default.allow-db-access"), "cali-pi-_tTE-E7yY40ogArNVgKt");
        assert_eq!(chain_name("cali-pro-", "ksa.kube-system.coredns"), "cali-pro-_u2Tn2rSoAPffvE7JO6");
        assert_eq!(chain_name("cali-pri-", "ksa.default.default"), "cali-pri-ksa.default.default");
        assert_eq!(chain_name("cali-fw-", "cali1234abcd567"), "cali-fw-cali1234abcd567");
    }

    #[test]
    fn dispatch_gathers_names_that_share_the_next_character() {
        let mut t = Table::new("filter", &["FORWARD"]);
        dispatch(&mut t, "cali-from-wl-dispatch", "cali-fw-", &["cali1234", "cali2333", "cali2444"], true);
        let root: Vec<String> = t.rules_of("cali-from-wl-dispatch").map(|(_, r)| r.to_string()).collect();
        assert!(root[0].contains("-i cali1234 ") && root[0].ends_with("-g cali-fw-cali1234"), "{root:?}");
        assert!(root[1].contains("-i cali2+ ") && root[1].ends_with("-g cali-from-wl-dispatch-2"), "{root:?}");
        assert!(root[2].ends_with("-m comment --comment \"Unknown interface\" -j DROP"), "{root:?}");
        assert_eq!(t.rules_of("cali-from-wl-dispatch-2").count(), 3);
    }
}
