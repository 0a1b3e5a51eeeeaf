//! Running a packet through the table the way the kernel runs it: the
//! base chains of a hook by priority, each rule's matches, jumps and gotos,
//! the verdict maps' lookups and `numgen`'s random pick, each rule that
//! acted recorded as a step; and every endpoint a packet can be sent to.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;

use super::{Action, Chain, Element, MapVerdict, Match, Ruleset, MARK_MASQ, TABLE};
use crate::netfilter::eval::{Context, Verdict};
use crate::packet::Packet;
use crate::proxy::Hook;
use crate::step::{Action as Did, Place, Step};

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

    /// A verdict map's lookup: the element for the packet, and what it
    /// says (drop, or go to a chain).
    fn vmap(&mut self, name: &str, line: String, map: &str, with_addr: bool, pkt: &mut Packet, depth: u32) -> Flow {
        let Some(el) = self.lookup(map, pkt, with_addr).cloned() else { return Flow::Continue };
        let key = el.addr.map_or_else(
            || format!("{} . {}", el.protocol, el.port),
            |a| format!("{a} . {} . {}", el.protocol, el.port),
        );
        self.step(here(name), Did::Lookup, line, pkt, format!("@{map} has {key}"));
        // The no-endpoint maps carry the service port's name; say what it
        // means, as iptables mode's comments do.
        let detail = match (&el.comment, &el.verdict) {
            (Some(c), MapVerdict::Drop) => format!("{c} has no local endpoints"),
            (Some(c), MapVerdict::Goto(_)) => format!("{c} has no endpoints"),
            (None, _) => String::new(),
        };
        let next = match &el.verdict {
            MapVerdict::Drop => {
                self.step(map_place(map), Did::Dropped, el.to_string(), pkt, detail);
                return Flow::End(Verdict::Drop);
            }
            MapVerdict::Goto(next) => next,
        };
        self.step(map_place(map), Did::Goto, el.to_string(), pkt, detail.clone());
        let flow = self.chain(next, pkt, depth + 1);
        if let (Flow::End(Verdict::Reject | Verdict::Drop), Some(last)) = (&flow, self.steps.last_mut()) {
            if last.detail.is_empty() {
                last.detail = detail;
            }
        }
        match flow {
            Flow::End(v) => Flow::End(v),
            _ => Flow::Return,
        }
    }

    /// `numgen random mod N vmap`: one endpoint chain at random, or, when
    /// exploring, every one of them.
    fn numgen(&mut self, name: &str, line: String, targets: &[String], pkt: &mut Packet, depth: u32) -> Flow {
        if targets.is_empty() {
            return Flow::Continue;
        }
        if self.explore.is_some() {
            for next in targets {
                let mut copy = pkt.clone();
                let _ = self.chain(next, &mut copy, depth + 1);
            }
            return Flow::End(Verdict::Accept);
        }
        let i = (self.random)(targets.len() as u64) as usize;
        self.step(here(name), Did::Goto, line, pkt, format!("numgen picked {i} of {}", targets.len()));
        match self.chain(&targets[i], pkt, depth + 1) {
            Flow::End(v) => Flow::End(v),
            _ => Flow::Return,
        }
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
                    self.vmap(name, line, map, with_addr, pkt, depth)
                }
                Action::Numgen(targets) => self.numgen(name, line, targets, pkt, depth),
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
        crate::order::sort_by_key(&mut v, |c| c.base.as_ref().map_or(0, |b| b.priority));
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
