//! A trace and what the kernel did, put in the same terms and compared:
//! how the attempt ended, which endpoint took it, the interfaces the first
//! packet and the first reply crossed (in order), the addresses and TTL
//! the destination saw, and the tunnel headers on the wire.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use podpath_core::step::Place;
use podpath_core::trace::{Hop, Trace, Verdict};
use podpath_core::Cluster;

use super::capture::Frame;
use super::sockets::{Outcome, Proto, ANSWER, ASK};

/// What one attempt looked like, in the terms both sides can give.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Seen {
    /// `answered`, `refused`, `unreachable`, `timed out`.
    pub outcome: String,
    /// `place dev` for each interface the first packet crossed.
    pub request: Vec<String>,
    pub reply: Vec<String>,
    /// Where the request ended, and with what headers: `place SRC -> DST:PORT ttl N`.
    pub delivered: Option<String>,
    /// The outer headers on the nodes' uplinks.
    pub tunnels: Vec<String>,
    /// What the server's socket says: where it took the connection, from
    /// which address, to which (`place SRC -> DST:PORT`).
    pub served: Option<String>,
    /// The connection's entry in the first node's conntrack table, without
    /// the ports the client's kernel and MASQUERADE pick at random.
    pub conntrack: Option<String>,
}

impl Seen {
    /// The place the request ended in (the endpoint that took it).
    pub fn endpoint(&self) -> Option<&str> {
        self.delivered.as_deref().and_then(|d| d.split_whitespace().next())
    }
}

/// The same for a trace: the verdict as the client would see it.
pub fn expected(t: &Trace, proto: Proto) -> Seen {
    let outcome = match t.verdict {
        Verdict::Delivered => "answered",
        Verdict::Rejected => "refused",
        Verdict::Unreachable if !t.lost() => "unreachable",
        _ => "timed out",
    };
    let delivered = (t.verdict == Verdict::Delivered)
        .then(|| t.hops.last())
        .flatten()
        .map(|h| delivery(&place_of(h, &t.hops), h.packet.src, h.packet.dst, h.packet.dport, h.packet.ttl, proto));
    Seen {
        outcome: outcome.to_owned(),
        request: path(&t.hops),
        reply: if t.verdict == Verdict::Delivered { path(&t.reply) } else { Vec::new() },
        delivered,
        served: (t.verdict == Verdict::Delivered && proto != Proto::Icmp)
            .then(|| t.hops.last())
            .flatten()
            .map(|h| format!("{} {} -> {}:{}", place_of(h, &t.hops), h.packet.src, h.packet.dst, h.packet.dport)),
        conntrack: t.conntrack.as_ref().filter(|_| t.verdict == Verdict::Delivered).map(|c| {
            let (os, _, od, odp) = c.original;
            let (rs, rsp, rd, _) = c.reply;
            entry(c.protocol.name(), (os, od, odp), (rs, rsp, rd))
        }),
        tunnels: t
            .hops
            .iter()
            .filter(|h| h.at == Place::Dev("eth0".into()))
            .filter_map(|h| {
                let o = h.packet.outer.as_ref()?;
                let vni = match o.encap {
                    podpath_core::datapath::Encap::Vxlan { vni, .. } => vni,
                    _ => 0,
                };
                Some(format!("node:{} eth0 {} -> {} vni {vni}", h.node.as_deref().unwrap_or("?"), o.src, o.dst))
            })
            .collect(),
    }
}

/// A conntrack entry as both sides can give it: the original direction's
/// addresses and destination port, the reply direction's addresses and
/// source port.
pub fn entry(proto: &str, (os, od, odp): (IpAddr, IpAddr, u16), (rs, rsp, rd): (IpAddr, u16, IpAddr)) -> String {
    if proto == "icmp" {
        return format!("icmp src={os} dst={od} | src={rs} dst={rd}");
    }
    format!("{proto} src={os} dst={od} dport={odp} | src={rs} sport={rsp} dst={rd}")
}

/// The entry `conntrack -L` lists for the connection from `client`
/// (address and source port), in [`entry`]'s terms.
pub fn listed(listing: &str, client: (IpAddr, u16)) -> Option<String> {
    listing.lines().find_map(|l| {
        let proto = l.split_whitespace().next()?;
        let kv: Vec<(&str, &str)> = l.split_whitespace().filter_map(|w| w.split_once('=')).collect();
        let get = |key: &str, nth: usize| kv.iter().filter(|(k, _)| *k == key).nth(nth).map(|(_, v)| *v);
        let ip = |key: &str, nth: usize| get(key, nth)?.parse::<IpAddr>().ok();
        let port = |key: &str, nth: usize| get(key, nth).and_then(|v| v.parse::<u16>().ok());
        let (os, od, rs, rd) = (ip("src", 0)?, ip("dst", 0)?, ip("src", 1)?, ip("dst", 1)?);
        let sport = if proto == "icmp" { get("id", 0)?.parse().ok()? } else { port("sport", 0)? };
        ((os, sport) == client)
            .then(|| entry(proto, (os, od, port("dport", 0).unwrap_or(0)), (rs, port("sport", 1).unwrap_or(0), rd)))
    })
}

/// The place a hop is in, as the lab names namespaces.
fn place_of(h: &Hop, _all: &[Hop]) -> String {
    match &h.at {
        Place::PodDev { pod, .. } | Place::PodApp { pod, .. } => format!("pod:{pod}"),
        Place::Outside => "outside".into(),
        _ => format!("node:{}", h.node.as_deref().unwrap_or("?")),
    }
}

/// `place SRC -> DST:PORT ttl N`; the port only where there is one.
fn delivery(place: &str, src: IpAddr, dst: IpAddr, dport: u16, ttl: u8, proto: Proto) -> String {
    match proto {
        Proto::Icmp => format!("{place} {src} -> {dst} ttl {ttl}"),
        _ => format!("{place} {src} -> {dst}:{dport} ttl {ttl}"),
    }
}

/// The interfaces a trace's hops cross, in order: a pod's eth0, the node's
/// devices, a bridge's port and the bridge itself where the frame goes up
/// its stack (a frame switched from port to port crosses only the ports),
/// the outside client's uplink.
fn path(hops: &[Hop]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in hops {
        let node = format!("node:{}", h.node.as_deref().unwrap_or("?"));
        let devs: Vec<String> = match &h.at {
            Place::PodDev { pod, dev } => vec![format!("pod:{pod} {dev}")],
            Place::Outside => vec!["outside eth0".into()],
            Place::Dev(dev) => vec![format!("{node} {dev}")],
            Place::BridgeIn { bridge, port } => vec![format!("{node} {port}"), format!("{node} {bridge}")],
            Place::BridgeOut { bridge, port } => vec![format!("{node} {bridge}"), format!("{node} {port}")],
            Place::BridgePort { port, .. } => vec![format!("{node} {port}")],
            _ => Vec::new(),
        };
        for d in devs {
            if out.last() != Some(&d) {
                out.push(d);
            }
        }
    }
    out
}

/// What the captures show of one attempt, simultaneous frames put in the
/// order `want` (the trace) gives them.
pub fn observed(frames: &[Frame], proto: Proto, outcome: &Outcome, want: &Seen) -> Seen {
    let is_request = |f: &Frame| match proto {
        Proto::Tcp => f.proto == 6 && f.flags & 0x12 == 0x02,
        Proto::Udp => f.proto == 17 && f.payload.starts_with(ASK),
        Proto::Icmp => f.proto == 1 && f.flags == 8,
    };
    let is_reply = |f: &Frame| match proto {
        Proto::Tcp => f.proto == 6 && f.flags & 0x12 == 0x12,
        Proto::Udp => f.proto == 17 && f.payload.starts_with(ANSWER),
        Proto::Icmp => f.proto == 1 && f.flags == 0,
    };
    // Frames with one timestamp are one pass of the same buffer through
    // stacked devices (a veth and the bridge it is a port of, the uplink
    // and the VXLAN device it feeds): the kernel stamps it once, so their
    // order is not in the data. They stay a group, ordered as the trace
    // orders them where the trace has the same interfaces.
    let crossed = |keep: &dyn Fn(&Frame) -> bool| {
        let mut groups: Vec<(u128, Vec<String>)> = Vec::new();
        for f in frames.iter().filter(|f| keep(f)) {
            let d = format!("{} {}", f.place, f.dev);
            match groups.last_mut() {
                Some((ts, g)) if *ts == f.ts => {
                    if !g.contains(&d) {
                        g.push(d);
                    }
                }
                _ => groups.push((f.ts, vec![d])),
            }
        }
        groups.into_iter().map(|(_, g)| g).collect::<Vec<_>>()
    };
    let requests: Vec<&Frame> = frames.iter().filter(|f| is_request(f)).collect();
    let answered = matches!(outcome, Outcome::Answered(_));
    Seen {
        outcome: outcome.word().to_owned(),
        request: align(&flatten(crossed(&is_request)), &want.request),
        reply: if answered { align(&flatten(crossed(&is_reply)), &want.reply) } else { Vec::new() },
        delivered: requests
            .last()
            .filter(|_| answered)
            .map(|f| delivery(&f.place, IpAddr::V4(f.src), IpAddr::V4(f.dst), f.dport, f.ttl, proto)),
        served: None,
        conntrack: None,
        tunnels: requests
            .iter()
            .filter(|f| f.dev == "eth0" && f.place.starts_with("node:"))
            .filter_map(|f| {
                let o = f.outer.as_ref()?;
                Some(format!("{} eth0 {} -> {} vni {}", f.place, o.src, o.dst, o.vni))
            })
            .fold(Vec::new(), |mut v, t| {
                if v.last() != Some(&t) {
                    v.push(t);
                }
                v
            }),
    }
}

/// The client's address and source port (the echo identifier for ICMP),
/// from the first request frame.
pub fn client_of(frames: &[Frame], proto: Proto) -> Option<(IpAddr, u16)> {
    let f = frames.iter().find(|f| match proto {
        Proto::Tcp => f.proto == 6 && f.flags & 0x12 == 0x02,
        Proto::Udp => f.proto == 17 && f.payload.starts_with(ASK),
        Proto::Icmp => f.proto == 1 && f.flags == 8,
    })?;
    Some((IpAddr::V4(f.src), f.sport))
}

/// Groups of simultaneous frames as one sequence, consecutive repeats
/// dropped; each group sorted, to be put in the trace's order by
/// [`align`].
fn flatten(groups: Vec<Vec<String>>) -> Vec<Vec<String>> {
    groups
        .into_iter()
        .map(|mut g| {
            podpath_core::order::sort(&mut g);
            g
        })
        .collect()
}

/// Puts each group of simultaneous interfaces in the order the trace
/// names them, where the trace names the same ones at that point; then
/// drops consecutive repeats.
pub fn align(groups: &[Vec<String>], want: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut at = 0;
    for g in groups {
        let mut g = g.clone();
        // Skip what was already said (a repeat across groups).
        if g.len() > 1 {
            let slice: Vec<String> = want.iter().skip(at).take(g.len()).cloned().collect();
            let mut sorted = slice.clone();
            podpath_core::order::sort(&mut sorted);
            if sorted == g {
                g = slice;
            }
        }
        for d in g {
            if out.last() != Some(&d) {
                out.push(d);
                at = out.len();
            }
        }
    }
    out
}

/// The endpoints a trace says its Service could send the connection to,
/// as places.
pub fn candidates(t: &Trace, cluster: &Cluster) -> BTreeSet<String> {
    t.service
        .candidates
        .iter()
        .filter_map(|ep| {
            let ip: IpAddr = ep.rsplit_once(':')?.0.trim_matches(['[', ']']).parse().ok()?;
            cluster
                .pods
                .iter()
                .find(|p| p.ip == Some(ip) && !p.host_network)
                .map(|p| format!("pod:{}", p.key()))
                .or_else(|| {
                    cluster.nodes.iter().find(|n| n.internal_ip == Some(ip)).map(|n| format!("node:{}", n.name))
                })
        })
        .collect()
}

/// Both sides, line by line, the differing lines marked.
pub fn side_by_side(want: &Seen, got: &Seen) -> String {
    let mut out = String::new();
    let mut row = |what: &str, a: &str, b: &str| {
        let mark = if a == b { " " } else { "≠" };
        let _ = writeln!(out, "{mark} {what:<10} {a:<58} | {b}");
    };
    row("outcome", &want.outcome, &got.outcome);
    row("delivered", want.delivered.as_deref().unwrap_or("-"), got.delivered.as_deref().unwrap_or("-"));
    let rows = |out: &mut dyn FnMut(&str, &str, &str), what: &str, a: &[String], b: &[String]| {
        for i in 0..a.len().max(b.len()) {
            out(
                if i == 0 { what } else { "" },
                a.get(i).map_or("", String::as_str),
                b.get(i).map_or("", String::as_str),
            );
        }
    };
    rows(&mut row, "request", &want.request, &got.request);
    rows(&mut row, "reply", &want.reply, &got.reply);
    rows(&mut row, "tunnel", &want.tunnels, &got.tunnels);
    row("served", want.served.as_deref().unwrap_or("-"), got.served.as_deref().unwrap_or("-"));
    row("conntrack", want.conntrack.as_deref().unwrap_or("-"), got.conntrack.as_deref().unwrap_or("-"));
    out
}
