//! The reply: the conntrack entry a connection's first packet creates on
//! the node that handled it, and the first reply's way back — sent by the
//! destination to the addresses the request arrived with, through the
//! plugin's datapath to the node whose entry rewrote the request,
//! un-NATed there (or by Cilium's reverse-NAT map), then on to the client.

use std::fmt;
use std::net::IpAddr;

use super::engine::{endpoint, Flight};
use super::{Headers, Hop};
use crate::cluster::Protocol;
use crate::datapath::{Arrival, Ingress};
use crate::packet::{Outer, Packet};
use crate::step::{Action, Place, Step};

/// The conntrack entry a connection's first packet creates on the node
/// that handled it: the tuple as sent, and the tuple the reply will carry
/// (after the DNAT and SNAT, reversed). The reply is matched against the
/// second and un-NATed back to the first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Conntrack {
    pub protocol: Protocol,
    pub original: (IpAddr, u16, IpAddr, u16),
    pub reply: (IpAddr, u16, IpAddr, u16),
}

impl Conntrack {
    pub(super) fn new(sent: &Packet, now: &Packet) -> Conntrack {
        Conntrack {
            protocol: sent.protocol,
            original: (sent.src, sent.sport, sent.dst, sent.dport),
            reply: (now.dst, now.dport, now.src, now.sport),
        }
    }

    /// Whether the connection's addresses were rewritten at all.
    pub fn nat(&self) -> bool {
        let (s, sp, d, dp) = self.original;
        self.reply != (d, dp, s, sp)
    }

    /// The entry as `conntrack -L` shows it: right after the first packet
    /// (the [`Display`](fmt::Display)), or once the exchange is over and
    /// answered — a TCP connection that closed waits in TIME_WAIT (120 s)
    /// and is ASSURED, any other flow is no longer UNREPLIED.
    pub fn listing(&self, answered: bool) -> String {
        let (timeout, state) = match (self.protocol, answered) {
            (Protocol::Tcp, false) => (120, "SYN_SENT "),
            (Protocol::Tcp, true) => (120, "TIME_WAIT "),
            (Protocol::Udp | Protocol::Icmp, _) => (30, ""),
            (Protocol::Sctp, _) => (3, "COOKIE_WAIT "),
        };
        let tuple = |(s, sp, d, dp): (IpAddr, u16, IpAddr, u16), ty: u8| {
            if self.protocol == Protocol::Icmp {
                format!("src={s} dst={d} type={ty} code=0 id={sp}")
            } else {
                format!("src={s} dst={d} sport={sp} dport={dp}")
            }
        };
        let unreplied = if answered { "" } else { " [UNREPLIED]" };
        let assured = if answered && self.protocol == Protocol::Tcp { " [ASSURED]" } else { "" };
        format!(
            "{:<8} {} {timeout} {state}{}{unreplied} {}{assured} mark=0 use=1",
            self.protocol.name(),
            self.protocol.number(),
            tuple(self.original, 8),
            tuple(self.reply, 0)
        )
    }
}

/// As `conntrack -L` prints the entry right after the first packet: TCP in
/// SYN_SENT for 120 s, UDP and ICMP unreplied for 30 s, SCTP in
/// COOKIE_WAIT for 3 s (the kernel's default timeouts).
impl fmt::Display for Conntrack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.listing(false))
    }
}

/// The reply on its way: its hops so far, its headers and TTL now.
struct Back {
    hops: Vec<Hop>,
    headers: Headers,
    ttl: u8,
}

impl Back {
    /// Appends the plugin's steps as hops for the reply's headers,
    /// decrementing the TTL at router hops and tracking the tunnel.
    fn push(&mut self, steps: Vec<Step>) {
        let mut outer: Option<Outer> = None;
        for s in steps {
            if s.routed {
                self.ttl = self.ttl.saturating_sub(1);
            }
            if s.at.is_forwarding() && !s.routed {
                if let Some(n) = &s.node {
                    super::engine::into_a_port(&mut self.hops, n);
                }
            }
            outer = s.tunnel.apply(outer);
            let packet = Headers { ttl: self.ttl, outer: outer.clone(), ..self.headers.clone() };
            self.hops.push(Hop { node: s.node, at: s.at, action: s.action, detail: s.detail, rule: s.rule, packet });
        }
    }
}

impl Flight<'_> {
    /// The first reply's way back, from the server (`pod` on `server`, or
    /// the node itself) to the client; `Err` when it never meets the
    /// conntrack entry that would undo the NAT, and the client, seeing an
    /// address it never sent to, discards it (the hops then end there).
    pub(super) fn reply(&self, ct: &Conntrack, pod: Option<&str>, server: Option<&str>) -> Result<Vec<Hop>, Vec<Hop>> {
        let (rs, rsp, rd, rdp) = ct.reply;
        let (os, osp, od, odp) = ct.original;
        let nat_node = self.node.as_str();
        let server_node = server.unwrap_or(nat_node).to_owned();
        let headers = Headers { src: rs, sport: rsp, dst: rd, dport: rdp, protocol: ct.protocol, ttl: 64, outer: None };
        let mut back = Back { hops: Vec::new(), headers, ttl: 64 };
        // Over the pod's own loopback, as the request came.
        if self.hops.iter().any(|h| matches!(&h.at, Place::PodDev { dev, .. } if dev == "lo")) {
            let at = self.hops[0].at.clone();
            let lo = self.hops.last().map(|h| h.at.clone()).unwrap_or(at.clone());
            let hop = |at: Place, action, detail: &str| Hop {
                node: Some(server_node.clone()),
                at,
                action,
                detail: detail.into(),
                rule: None,
                packet: back.headers.clone(),
            };
            return Ok(vec![
                hop(at, Action::Sent, "the reply, to its own address"),
                hop(lo, Action::Delivered, "back over the loopback"),
            ]);
        }
        let at = pod.map_or_else(|| Place::Host(server_node.clone()), Place::pod_eth0);
        back.hops.push(Hop {
            node: Some(server_node.clone()),
            at,
            action: Action::Sent,
            detail: "the reply, addressed to where the request came from".into(),
            rule: None,
            packet: back.headers.clone(),
        });
        if let Some(key) = pod {
            back.push(self.network.leave_pod(&server_node, key, rd));
        }
        // A pod on a bridge answers by its port of the bridge.
        let port = pod.and_then(|key| self.network.ingress_of(&server_node, key));
        let ingress = port.as_ref().map(|(bridge, port)| Ingress { bridge, port, nat: false });
        // To the NAT node (or, without NAT, straight to the client).
        let (mut steps, mut arrival) = if server_node == nat_node && ct.nat() {
            (Vec::new(), Arrival::Node(nat_node.to_owned()))
        } else {
            self.network.carry(self.cluster, (&server_node, ingress), rs, rd, (rsp, rdp))
        };
        if ct.nat() {
            // The reply is routed by its own addresses: only if that way
            // enters the NAT node does its entry see it. (kube-proxy's
            // IPVS mode sends a Local service's traffic without a local
            // endpoint to every endpoint, unSNATed: the reply leaves the
            // endpoint's node by its own route, and the client discards
            // it — upstream's proxier.go says as much.)
            let meets_entry = steps.iter().any(|s| s.node.as_deref() == Some(nat_node))
                || matches!(&arrival, Arrival::Node(n) | Arrival::Pod { node: n, .. } if n == nat_node);
            if !meets_entry {
                back.push(steps);
                back.hops.push(self.discarded(arrival, &back.headers, back.ttl, ct));
                return Err(back.hops);
            }
            // Conntrack acts as the reply enters the NAT node's stack: after
            // the tunnel is taken off, before that node routes it (again,
            // for the client's address).
            let cut = steps
                .iter()
                .position(|s| {
                    s.node.as_deref() == Some(nat_node)
                        && (s.at == Place::Routing
                            || matches!(s.action, Action::Sent | Action::Bridged | Action::Forwarded))
                })
                .unwrap_or(steps.len());
            steps.truncate(cut);
            back.push(steps);
            back.hops.push(self.un_nat(ct, back.ttl));
            back.headers =
                Headers { src: od, sport: odp, dst: os, dport: osp, protocol: ct.protocol, ttl: back.ttl, outer: None };
            // Undone as the frame came into the bridge (bridge-nf-call-iptables),
            // the reply is still a frame the bridge took in.
            let ingress = ingress.filter(|_| server_node == nat_node).map(|i| Ingress { nat: true, ..i });
            (steps, arrival) = self.network.carry(self.cluster, (nat_node, ingress), od, os, (odp, osp));
        }
        back.push(steps);
        back.hops.push(self.back_at_client(arrival, &back.headers, back.ttl));
        Ok(back.hops)
    }

    /// The reply at the client, still carrying the endpoint's address: no
    /// connection of the client's is to that address, so none takes it.
    fn discarded(&self, arrival: Arrival, headers: &Headers, ttl: u8, ct: &Conntrack) -> Hop {
        let at_client = self.back_at_client(arrival, headers, ttl);
        let (_, _, od, odp) = ct.original;
        let (rs, rsp, ..) = ct.reply;
        Hop {
            action: Action::Dropped,
            detail: format!(
                "the reply comes from {}, not {} that the client sent to: no connection of the client's takes it, \
                 and the client never hears back",
                endpoint(rs, rsp),
                endpoint(od, odp)
            ),
            ..at_client
        }
    }

    /// Conntrack (or Cilium's reverse-NAT map) restores the addresses the
    /// client sent to and from.
    fn un_nat(&self, ct: &Conntrack, ttl: u8) -> Hop {
        let (rs, rsp, rd, rdp) = ct.reply;
        let (os, osp, od, odp) = ct.original;
        let mut what = Vec::new();
        if (rs, rsp) != (od, odp) {
            what.push(format!("source {} back to {}", endpoint(rs, rsp), endpoint(od, odp)));
        }
        if (rd, rdp) != (os, osp) {
            what.push(format!("destination {} back to {}", endpoint(rd, rdp), endpoint(os, osp)));
        }
        let (at, line) =
            self.dataplane.reverse_nat(od, odp, ct.protocol).unwrap_or_else(|| (Place::Conntrack, ct.to_string()));
        Hop {
            node: Some(self.node.clone()),
            at,
            action: Action::UnNat,
            detail: format!("the reply matches the connection's entry: {}", what.join(", ")),
            rule: Some(line),
            packet: Headers { src: od, sport: odp, dst: os, dport: osp, protocol: ct.protocol, ttl, outer: None },
        }
    }

    /// The reply at the client: the pod it arrived at, or where the
    /// request started.
    fn back_at_client(&self, arrival: Arrival, headers: &Headers, ttl: u8) -> Hop {
        let first = self.hops.iter().find(|x| x.action == Action::Sent).unwrap_or(&self.hops[0]);
        let (node, at) = match arrival {
            Arrival::Pod { key, node } => (Some(node), Place::pod_eth0(&key)),
            _ => (first.node.clone(), first.at.clone()),
        };
        let detail = if self.socket_lb {
            "the packet comes from the backend; the socket layer reports the Service's address to the application \
             (Cilium's reverse translation at recvmsg/getpeername)"
        } else {
            "the client sees the reply come from the address it sent to"
        };
        // Back to a client beyond the nodes' network: the router between
        // (kind's docker host) takes a hop off, as it did on the way in.
        let beyond = at == Place::Outside
            && !node
                .as_deref()
                .and_then(|n| self.network.node(n))
                .and_then(|n| n.host.link("eth0"))
                .is_some_and(|l| l.addrs.iter().any(|a| a.trunc().contains(&headers.dst)));
        let ttl = if beyond { ttl.saturating_sub(1) } else { ttl };
        Hop {
            node,
            at,
            action: Action::Delivered,
            detail: detail.into(),
            rule: None,
            packet: Headers { ttl, ..headers.clone() },
        }
    }
}
