//! Walking a packet through the rules: the same [`Table`]s that are
//! rendered as `iptables-save`, evaluated the way netfilter evaluates them.
//!
//! Rules of a chain are tried in order; the first whose matches all hold
//! applies its target. A jump descends into the chain and comes back when
//! that chain ends or RETURNs; ACCEPT, DROP, REJECT, DNAT and MASQUERADE end
//! the table; MARK changes the packet and goes on. Every rule that applied
//! is recorded, so a trace can quote the exact line.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;

use super::ipset::IpSets;
use super::{Match, Rule, Table, Target};
use crate::names::Rng;
use crate::packet::Packet;
use crate::step::{Action, Place, Step};

/// How a table ended for the packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The built-in chain ended (its policy, ACCEPT here) or a rule accepted.
    Accept,
    Drop,
    Reject,
    Dnat(IpAddr, u16),
    Masquerade,
}

/// What the node knows while evaluating: its own addresses (for
/// `addrtype LOCAL`), the seeded generator for `statistic`, its ipsets, and
/// the devices the packet came in and goes out by where the hook has them
/// (for `-i`/`-o`).
#[derive(Debug)]
pub struct Context<'a> {
    pub local: &'a [IpNet],
    pub rng: &'a mut Rng,
    /// The node's ipsets, for `-m set`.
    pub sets: Option<&'a IpSets>,
    pub devs: Devices<'a>,
}

/// The devices a packet came in and goes out by, where known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Devices<'a> {
    pub input: Option<&'a str>,
    pub output: Option<&'a str>,
}

/// `-i cali+` matches any device whose name starts with `cali`; without a
/// `+` the name must be the same. A device not known does not match.
fn device_matches(pattern: &str, dev: Option<&str>) -> bool {
    match (pattern.strip_suffix('+'), dev) {
        (Some(prefix), Some(d)) => d.starts_with(prefix),
        (None, Some(d)) => d == pattern,
        (_, None) => false,
    }
}

fn is_local(ctx_local: &[IpNet], ip: IpAddr) -> bool {
    ctx_local.iter().any(|n| n.contains(&ip))
}

/// What a rule is checked against besides the packet.
#[derive(Clone, Copy)]
struct Env<'a> {
    local: &'a [IpNet],
    sets: Option<&'a IpSets>,
    devs: Devices<'a>,
}

/// Whether every match of `rule` holds; `random` decides statistic matches.
fn matches(rule: &Rule, pkt: &Packet, env: Env<'_>, random: &mut dyn FnMut(u32) -> bool) -> bool {
    let Env { local, sets, devs } = env;
    let addr_ok =
        |m: &Option<super::AddrMatch>, ip: IpAddr| m.as_ref().is_none_or(|a| a.net.contains(&ip) != a.negated);
    if !addr_ok(&rule.source, pkt.src) || !addr_ok(&rule.destination, pkt.dst) {
        return false;
    }
    if rule.protocol.as_deref().is_some_and(|p| p != pkt.protocol.name()) {
        return false;
    }
    if rule.in_interface.as_deref().is_some_and(|i| !device_matches(i, devs.input))
        || rule.out_interface.as_deref().is_some_and(|o| !device_matches(o, devs.output))
    {
        return false;
    }
    for m in &rule.matches {
        let ok = match m {
            Match::Comment(_) | Match::ProtoModule => true,
            Match::DPort(p) => pkt.dport == *p,
            Match::AddrType { src, kind, negated } => {
                let ip = if *src { pkt.src } else { pkt.dst };
                (kind == "LOCAL" && is_local(local, ip)) != *negated
            }
            Match::Mark { value, mask, negated } => ((pkt.mark & mask) == *value) != *negated,
            // The first packet of a connection.
            Match::CtState { states, negated } => states.iter().any(|s| s == "NEW") != *negated,
            Match::Probability(p) => random(*p),
            // No earlier connection from this client: nothing remembered.
            Match::RecentCheck { .. } => false,
            Match::RecentSet { .. } => true,
            Match::Set { name, flags, negated } => {
                sets.and_then(|s| s.get(name)).is_some_and(|s| s.matches(flags, pkt)) != *negated
            }
            Match::PhysdevNotIn => !pkt.bridged,
            Match::Ipvs { proto, vaddr, vport } => {
                pkt.ipvs == Some((*vaddr, *vport)) && pkt.protocol.number() == *proto
            }
            Match::Multiport(ports) => ports.iter().any(|(lo, hi)| (*lo..=*hi).contains(&pkt.dport)),
        };
        if !ok {
            return false;
        }
    }
    true
}

enum Flow {
    Continue,
    Return,
    End(Verdict),
}

/// Runs `chain` of `table` on the packet, recording every rule that applied.
pub fn run(table: &Table, chain: &str, pkt: &mut Packet, ctx: &mut Context<'_>, steps: &mut Vec<Step>) -> Verdict {
    let rng = &mut *ctx.rng;
    // The kernel's statistic match: a 31-bit random number below the
    // stored probability.
    let mut random = |p: u32| ((rng.next_u64() as u32) & 0x7fff_ffff) < p;
    let env = Env { local: ctx.local, sets: ctx.sets, devs: ctx.devs };
    match walk(table, chain, pkt, env, &mut random, steps, 0) {
        Flow::End(v) => v,
        Flow::Continue | Flow::Return => Verdict::Accept,
    }
}

fn walk(
    table: &Table,
    chain: &str,
    pkt: &mut Packet,
    env: Env<'_>,
    random: &mut dyn FnMut(u32) -> bool,
    steps: &mut Vec<Step>,
    depth: u32,
) -> Flow {
    if depth > 32 {
        return Flow::End(Verdict::Drop);
    }
    for (_, rule) in table.rules_of(chain) {
        if !matches(rule, pkt, env, random) {
            continue;
        }
        let Some(target) = &rule.target else { continue };
        steps.push(step_of(&table.name, chain, rule, target, pkt));
        match target {
            Target::Jump(next) => match walk(table, next, pkt, env, random, steps, depth + 1) {
                Flow::End(v) => return Flow::End(v),
                Flow::Continue | Flow::Return => {}
            },
            // The chain gone to takes this chain's place: its end is ours.
            Target::Goto(next) => match walk(table, next, pkt, env, random, steps, depth + 1) {
                Flow::End(v) => return Flow::End(v),
                Flow::Continue | Flow::Return => return Flow::Return,
            },
            Target::Return => return Flow::Return,
            Target::Accept => return Flow::End(Verdict::Accept),
            Target::Drop => return Flow::End(Verdict::Drop),
            Target::Reject => return Flow::End(Verdict::Reject),
            Target::Masquerade { .. } => return Flow::End(Verdict::Masquerade),
            Target::SetXMark { value, mask } => {
                pkt.mark = (pkt.mark & !mask) ^ value;
                if let Some(s) = steps.last_mut() {
                    s.packet = Some(pkt.clone());
                }
            }
            Target::Dnat(to) => {
                let Some((ip, port)) = parse_hostport(to) else { return Flow::End(Verdict::Drop) };
                pkt.dst = ip;
                pkt.dport = port;
                if let Some(s) = steps.last_mut() {
                    s.packet = Some(pkt.clone());
                }
                return Flow::End(Verdict::Dnat(ip, port));
            }
        }
    }
    Flow::Continue
}

/// A rule that applied, as a step: what its target does, its comment as
/// the explanation, the line as `iptables-save` prints it.
fn step_of(table: &str, chain: &str, rule: &Rule, target: &Target, pkt: &Packet) -> Step {
    let action = match target {
        Target::Jump(next) if next == MARK_MASQ => Action::Mark,
        Target::Jump(_) | Target::Goto(_) => Action::Jump,
        Target::SetXMark { .. } => Action::Mark,
        Target::Return => Action::Return,
        Target::Dnat(_) => Action::Dnat,
        Target::Masquerade { .. } => Action::Snat,
        Target::Accept => Action::Accepted,
        Target::Drop => Action::Dropped,
        Target::Reject => Action::Rejected,
    };
    // The rule's own words: its last comment that is not Calico's rule
    // hash (`cali:…`, which names the rule, not what it is for); a hashed
    // rule without one is described by what it does.
    let comments: Vec<&str> = rule
        .matches
        .iter()
        .filter_map(|m| match m {
            Match::Comment(c) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    let words = comments.iter().rev().find(|c| !c.starts_with("cali:")).map(|c| (*c).to_owned());
    let detail = match words {
        Some(w) => w,
        None if comments.is_empty() => String::new(),
        None => match target {
            Target::Jump(c) => format!("to {c}"),
            Target::Goto(c) => format!("on to {c}, not back"),
            Target::SetXMark { value, mask } => format!("mark {value:#x}/{mask:#x}"),
            Target::Return => "back to the calling chain".into(),
            _ => String::new(),
        },
    };
    Step::new(Place::chain(table, chain), action, detail).rule(rule.to_string()).packet(pkt)
}

/// kube-proxy's chain that marks a packet for masquerade: jumping to it is
/// marking.
const MARK_MASQ: &str = "KUBE-MARK-MASQ";

fn parse_hostport(s: &str) -> Option<(IpAddr, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.parse().ok()?, port.parse().ok()?))
}

/// Every DNAT destination the chain can send this packet to, exploring both
/// outcomes of each random match: the candidates of a Service.
pub fn reachable_dnats(table: &Table, chain: &str, pkt: &Packet, local: &[IpNet]) -> BTreeSet<(IpAddr, u16)> {
    let mut out = BTreeSet::new();
    explore(table, chain, pkt, local, &mut out, 0);
    out
}

/// Returns whether the chain surely ends the table for this packet.
fn explore(
    table: &Table,
    chain: &str,
    pkt: &Packet,
    local: &[IpNet],
    out: &mut BTreeSet<(IpAddr, u16)>,
    depth: u32,
) -> bool {
    if depth > 32 {
        return true;
    }
    for (_, rule) in table.rules_of(chain) {
        let random = rule.matches.iter().any(|m| matches!(m, Match::Probability(_)));
        // A random rule may or may not match: follow the "matches" branch
        // here, and go on to the next rule for the "does not" branch.
        let env = Env { local, sets: None, devs: Devices::default() };
        if !matches(rule, pkt, env, &mut |_| true) {
            continue;
        }
        let Some(target) = &rule.target else { continue };
        let ends = match target {
            Target::Jump(next) | Target::Goto(next) => explore(table, next, pkt, local, out, depth + 1),
            Target::Return => return false,
            Target::Dnat(to) => {
                if let Some(hp) = parse_hostport(to) {
                    out.insert(hp);
                }
                true
            }
            Target::SetXMark { .. } => false,
            Target::Accept | Target::Drop | Target::Reject | Target::Masquerade { .. } => true,
        };
        if ends && !random {
            return true;
        }
    }
    false
}
