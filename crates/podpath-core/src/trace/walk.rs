//! Walking a trace hop by hop, as the page's animation does: one hop at a
//! time forward or back, or straight to any hop, with the packet as it was
//! before the hop and what the hop changed in it (a NAT rewrite, a tunnel's
//! headers put on or taken off, the TTL).
//!
//! The walk reads a finished [`Trace`]; the engine is deterministic for a
//! seed, so walking the trace of a request is walking the request itself,
//! and the whole trace (what the CLI prints) and the walk never disagree.

use std::fmt;

use super::{Headers, Hop, Trace};

/// Which way the packet goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    Request,
    Reply,
}

/// One thing a hop changed in the packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The source address or port was rewritten (SNAT, masquerade, or the
    /// reply's un-DNAT).
    Source { from: String, to: String },
    /// The destination was rewritten (DNAT, or the reply's un-SNAT).
    Destination { from: String, to: String },
    /// A tunnel's headers were put around the packet.
    Encapsulated { encap: &'static str, src: String, dst: String },
    /// They came off.
    Decapsulated { encap: &'static str },
    /// A router hop.
    Ttl { from: u8, to: u8 },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Source { from, to } => write!(f, "source {from} → {to}"),
            Change::Destination { from, to } => write!(f, "destination {from} → {to}"),
            Change::Encapsulated { encap, src, dst } => write!(f, "{encap} headers on: {src} → {dst}"),
            Change::Decapsulated { encap } => write!(f, "{encap} headers off"),
            Change::Ttl { from, to } => write!(f, "TTL {from} → {to}"),
        }
    }
}

/// What changed between two views of the packet.
pub fn changes(before: &Headers, after: &Headers) -> Vec<Change> {
    let mut out = Vec::new();
    let addr = |ip, port| format!("{ip}:{port}");
    if (before.src, before.sport) != (after.src, after.sport) {
        out.push(Change::Source { from: addr(before.src, before.sport), to: addr(after.src, after.sport) });
    }
    if (before.dst, before.dport) != (after.dst, after.dport) {
        out.push(Change::Destination { from: addr(before.dst, before.dport), to: addr(after.dst, after.dport) });
    }
    match (&before.outer, &after.outer) {
        (None, Some(o)) => {
            out.push(Change::Encapsulated { encap: o.encap.name(), src: o.src.to_string(), dst: o.dst.to_string() })
        }
        (Some(o), None) => out.push(Change::Decapsulated { encap: o.encap.name() }),
        _ => {}
    }
    if before.ttl != after.ttl {
        out.push(Change::Ttl { from: before.ttl, to: after.ttl });
    }
    out
}

/// The walk's view of one hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The hop's place in the whole walk, request then reply.
    pub index: usize,
    pub leg: Leg,
    pub hop: &'a Hop,
    /// The packet as the previous hop of the same leg left it.
    pub before: Option<&'a Headers>,
    pub changes: Vec<Change>,
}

/// A cursor over a trace's hops: the request's, then the reply's.
#[derive(Clone, Debug)]
pub struct Walk<'a> {
    trace: &'a Trace,
    /// The hop shown; `None` before the first step.
    at: Option<usize>,
}

impl<'a> Walk<'a> {
    pub fn new(trace: &'a Trace) -> Walk<'a> {
        Walk { trace, at: None }
    }

    /// How many hops, request and reply.
    pub fn len(&self) -> usize {
        self.trace.hops.len() + self.trace.reply.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hop shown, if the walk has started.
    pub fn position(&self) -> Option<usize> {
        self.at
    }

    /// Whether the last hop is shown.
    pub fn finished(&self) -> bool {
        self.at.is_some_and(|i| i + 1 >= self.len())
    }

    /// The hop at `index` of the whole walk.
    pub fn frame(&self, index: usize) -> Option<Frame<'a>> {
        let t = self.trace;
        let (leg, hops, i) = if index < t.hops.len() {
            (Leg::Request, &t.hops, index)
        } else {
            (Leg::Reply, &t.reply, index - t.hops.len())
        };
        let hop = hops.get(i)?;
        let before = i.checked_sub(1).map(|j| &hops[j].packet);
        let changes = before.map(|b| changes(b, &hop.packet)).unwrap_or_default();
        Some(Frame { index, leg, hop, before, changes })
    }

    /// The hop shown.
    pub fn current(&self) -> Option<Frame<'a>> {
        self.at.and_then(|i| self.frame(i))
    }

    /// One hop forward; `None` (and no move) at the end.
    pub fn step(&mut self) -> Option<Frame<'a>> {
        let next = self.at.map_or(0, |i| i + 1);
        let f = self.frame(next)?;
        self.at = Some(next);
        Some(f)
    }

    /// One hop back; `None` (and no move) at the first hop.
    pub fn back(&mut self) -> Option<Frame<'a>> {
        let prev = self.at?.checked_sub(1)?;
        self.at = Some(prev);
        self.frame(prev)
    }

    /// Straight to a hop (clamped to the last).
    pub fn seek(&mut self, index: usize) -> Option<Frame<'a>> {
        if self.is_empty() {
            return None;
        }
        let i = index.min(self.len() - 1);
        self.at = Some(i);
        self.frame(i)
    }

    /// Every hop from here to the end: the whole trace, when the walk has
    /// not started.
    pub fn run(&mut self) -> Vec<Frame<'a>> {
        std::iter::from_fn(|| self.step()).collect()
    }
}
