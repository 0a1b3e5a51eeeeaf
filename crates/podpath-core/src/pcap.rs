//! A trace's packets as a pcap file (link type Ethernet): the connection's
//! packets — TCP's handshake, the request and response when the trace
//! carries them, and the close; one datagram each way for UDP and ICMP —
//! each at every point of its way where its headers changed, with valid
//! IPv4, TCP/UDP/ICMP checksums, lengths and sequence numbers, and the
//! tunnel's outer headers (VXLAN, Geneve, IP-in-IP, Weave's sleeve) while
//! it is encapsulated. MAC addresses are derived from the node and the
//! interface, so a device has the same address in every frame.

use std::net::IpAddr;

use crate::cluster::Protocol;
use crate::packet::{Encap, Mac, Outer};
use crate::step::Place;
use crate::trace::{Headers, Hop, Trace};

const ETH_IPV4: u16 = 0x0800;

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn v4(ip: IpAddr) -> [u8; 4] {
    match ip {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(_) => [0; 4],
    }
}

fn ipv4(src: IpAddr, dst: IpAddr, proto: u8, ttl: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut h = vec![0x45, 0];
    h.extend((total as u16).to_be_bytes());
    h.extend(id.to_be_bytes());
    h.extend([0x40, 0]); // don't fragment
    h.extend([ttl, proto, 0, 0]);
    h.extend(v4(src));
    h.extend(v4(dst));
    let c = checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend(payload);
    h
}

/// The TCP/UDP checksum over the IPv4 pseudo-header.
fn l4_checksum(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> u16 {
    let mut p = Vec::with_capacity(12 + segment.len());
    p.extend(v4(src));
    p.extend(v4(dst));
    p.extend([0, proto]);
    p.extend((segment.len() as u16).to_be_bytes());
    p.extend(segment);
    checksum(&p)
}

/// One packet of the conversation, as the transport sees it.
#[derive(Clone, Copy, Debug)]
struct Segment<'a> {
    /// The reply direction (server to client).
    reply: bool,
    /// TCP flags, sequence and acknowledgment numbers.
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &'a [u8],
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// The packets of a connection, in order: for TCP the handshake, the
/// request and response when the payload is known, and the close, as curl
/// and a server exchange them; for UDP and ICMP one datagram each way.
fn conversation(t: &Trace) -> Vec<Segment<'_>> {
    let (request, response) =
        t.payload.as_ref().map_or((&b""[..], &b""[..]), |p| (p.request.as_slice(), p.response.as_slice()));
    let tcp = t.hops.first().is_some_and(|h| h.packet.protocol == Protocol::Tcp);
    let answered = !t.reply.is_empty();
    if !tcp {
        let udp_request = if request.is_empty() { &b"podpath"[..] } else { request };
        let udp_response = if response.is_empty() { udp_request } else { response };
        let mut v = vec![Segment { reply: false, flags: 0, seq: 0, ack: 0, payload: udp_request }];
        if answered {
            v.push(Segment { reply: true, flags: 0, seq: 0, ack: 0, payload: udp_response });
        }
        return v;
    }
    // The initial sequence numbers, fixed: no randomness without a seed.
    let (c, s) = (CLIENT_ISN, SERVER_ISN);
    let seg = |reply, flags, seq, ack, payload| Segment { reply, flags, seq, ack, payload };
    let mut v = vec![seg(false, SYN, c, 0, &[][..])];
    if !answered {
        return v;
    }
    v.push(seg(true, SYN | ACK, s, c + 1, &[]));
    v.push(seg(false, ACK, c + 1, s + 1, &[]));
    let (rq, rs) = (request.len() as u32, response.len() as u32);
    if rq > 0 {
        v.push(seg(false, PSH | ACK, c + 1, s + 1, request));
        if rs > 0 {
            v.push(seg(true, PSH | ACK, s + 1, c + 1 + rq, response));
        }
        v.push(seg(false, ACK, c + 1 + rq, s + 1 + rs, &[]));
        v.push(seg(false, FIN | ACK, c + 1 + rq, s + 1 + rs, &[]));
        v.push(seg(true, FIN | ACK, s + 1 + rs, c + 2 + rq, &[]));
        v.push(seg(false, ACK, c + 2 + rq, s + 2 + rs, &[]));
    }
    v
}

/// The transport header and payload of `seg` as it is at a hop.
fn transport(h: &Headers, seg: &Segment<'_>) -> (u8, Vec<u8>) {
    match h.protocol {
        Protocol::Udp => (17, udp(h.src, h.dst, h.sport, h.dport, seg.payload)),
        Protocol::Icmp => {
            let mut m = vec![if seg.reply { 0 } else { 8 }, 0, 0, 0];
            // The identifier rides in the source "port" of the request,
            // and so in the destination one of the reply.
            m.extend(if seg.reply { h.dport } else { h.sport }.to_be_bytes());
            m.extend(1u16.to_be_bytes()); // sequence
            m.extend(b"podpath-ping");
            let c = checksum(&m);
            m[2..4].copy_from_slice(&c.to_be_bytes());
            (1, m)
        }
        _ => {
            let mut t = Vec::with_capacity(20 + seg.payload.len());
            t.extend(h.sport.to_be_bytes());
            t.extend(h.dport.to_be_bytes());
            t.extend(seg.seq.to_be_bytes());
            t.extend(seg.ack.to_be_bytes());
            t.extend([0x50, seg.flags]); // header length 20
            t.extend(64240u16.to_be_bytes()); // window
            t.extend([0, 0, 0, 0]);
            t.extend(seg.payload);
            let c = l4_checksum(h.src, h.dst, 6, &t);
            t[16..18].copy_from_slice(&c.to_be_bytes());
            (6, t)
        }
    }
}

fn ethernet(dst: Mac, src: Mac, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend(dst.0);
    f.extend(src.0);
    f.extend(ETH_IPV4.to_be_bytes());
    f.extend(payload);
    f
}

/// The frame of one hop: the inner packet, wrapped in the tunnel's
/// headers when it is encapsulated there.
fn frame(hop: &Hop, seg: &Segment<'_>, id: u16) -> Vec<u8> {
    let h = &hop.packet;
    let node = hop.node.clone().unwrap_or_default();
    let (proto, segment) = transport(h, seg);
    let inner_ip = ipv4(h.src, h.dst, proto, h.ttl, id, &segment);
    let here = Mac::from_name(&format!("{node} {}", hop.at));
    let next = Mac::from_name(&format!("{node} {} next", hop.at));
    let Some(outer) = &h.outer else { return ethernet(next, here, &inner_ip) };
    let node_mac = |ip: IpAddr| Mac::from_name(&format!("eth0 {ip}"));
    match outer.encap {
        // VXLAN: flags with the VNI-present bit; Geneve: version 0, no
        // options, protocol Transparent Ethernet Bridging. Both carry the
        // inner Ethernet frame over UDP with the tunnel's own TTL (64).
        Encap::Vxlan { vni, port } => udp_tunnel(outer, port, [0x08, 0, 0, 0], vni, &inner_ip, id),
        Encap::Geneve { vni, port } => udp_tunnel(outer, port, [0, 0, 0x65, 0x58], vni, &inner_ip, id),
        // IP-in-IP copies the inner TTL to the outer header.
        Encap::Ipip => {
            ethernet(node_mac(outer.dst), node_mac(outer.src), &ipv4(outer.src, outer.dst, 4, h.ttl, id, &inner_ip))
        }
        // Weave's router captured the whole frame on the bridge and writes
        // it after the peers' names and its length, from a socket that
        // never sets Don't Fragment.
        Encap::Sleeve { port, src_peer, dst_peer } => {
            let inner = ethernet(next, here, &inner_ip);
            let mut body = Vec::with_capacity(20 + inner.len());
            body.extend(src_peer.0); // the sending peer
            body.extend(src_peer.0); // the frame's capturing peer
            body.extend(dst_peer.0);
            body.extend((inner.len() as u16).to_be_bytes());
            body.extend(inner);
            let u = udp(outer.src, outer.dst, outer.sport, port, &body);
            let mut ip = ipv4(outer.src, outer.dst, 17, 64, id, &u);
            allow_fragments(&mut ip);
            ethernet(node_mac(outer.dst), node_mac(outer.src), &ip)
        }
    }
}

/// A UDP datagram with its checksum.
fn udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend(sport.to_be_bytes());
    u.extend(dport.to_be_bytes());
    u.extend(((8 + payload.len()) as u16).to_be_bytes());
    u.extend([0, 0]);
    u.extend(payload);
    let c = l4_checksum(src, dst, 17, &u);
    u[6..8].copy_from_slice(&(if c == 0 { 0xffff } else { c }).to_be_bytes());
    u
}

/// Clears Don't Fragment in an IPv4 header and fixes its checksum.
fn allow_fragments(ip: &mut [u8]) {
    ip[6] = 0;
    ip[10..12].copy_from_slice(&[0, 0]);
    let c = checksum(&ip[..20]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
}

/// An Ethernet frame carrying `inner_ip` in a UDP tunnel (VXLAN, Geneve)
/// whose 8-byte header starts with `first` and ends with the VNI.
fn udp_tunnel(outer: &Outer, port: u16, first: [u8; 4], vni: u32, inner_ip: &[u8], id: u16) -> Vec<u8> {
    let vtep = |ip: IpAddr| Mac::from_name(&format!("{ip} vtep"));
    let node_mac = |ip: IpAddr| Mac::from_name(&format!("eth0 {ip}"));
    let mut t = first.to_vec();
    t.extend(&vni.to_be_bytes()[1..]);
    t.push(0);
    t.extend(ethernet(vtep(outer.dst), vtep(outer.src), inner_ip));
    let u = udp(outer.src, outer.dst, outer.sport, port, &t);
    ethernet(node_mac(outer.dst), node_mac(outer.src), &ipv4(outer.src, outer.dst, 17, 64, id, &u))
}

/// The hops worth a frame: where the packet's headers changed, or it
/// crossed onto another device.
fn framed(hops: &[Hop]) -> Vec<&Hop> {
    let mut out = Vec::new();
    let mut last: Option<&Headers> = None;
    for hop in hops {
        if hop.action.is_bookkeeping() {
            continue;
        }
        if last == Some(&hop.packet) && !hop.action.moves() {
            continue;
        }
        out.push(hop);
        last = Some(&hop.packet);
    }
    out
}

/// One captured frame: where it was seen and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub node: Option<String>,
    /// The hop's place: an interface (`cni0`, `flannel.1`, `ns/pod eth0`)
    /// or the netfilter hook that rewrote it.
    pub at: Place,
    /// Microseconds from the capture's start.
    pub usec: u32,
    pub data: Vec<u8>,
}

/// The initial sequence numbers of a captured TCP connection, client's
/// and server's: fixed, as nothing here is random without a seed.
pub const CLIENT_ISN: u32 = 0x0100_0000;
pub const SERVER_ISN: u32 = 0x1000_0000;

/// Every frame of a trace, in order: each packet of the conversation at
/// every hop of its way, the request's path for the client's packets and
/// the reply's for the server's (conntrack rewrites the later packets as
/// it did the first, so their headers at each hop are the first one's).
/// The name lookup's exchanges come first, as they happen first; a
/// proxied request is its connections one after the other. Frames are a
/// millisecond apart: no clock is read.
pub fn packets(t: &Trace) -> Vec<Packet> {
    let mut id = 0x1000u16;
    let mut out = Vec::new();
    let lookups = t.dns.iter().flat_map(|d| d.wires.iter());
    let connections: Vec<&Trace> = if t.legs.is_empty() { vec![t] } else { t.legs.iter().collect() };
    for t in lookups.chain(connections) {
        let (there, back) = (framed(&t.hops), framed(&t.reply));
        for seg in conversation(t) {
            for hop in if seg.reply { &back } else { &there } {
                id = id.wrapping_add(1);
                let usec = (out.len() as u32) * 1000;
                out.push(Packet { node: hop.node.clone(), at: hop.at.clone(), usec, data: frame(hop, &seg, id) });
            }
        }
    }
    out
}

/// The pcap file of a trace: [`packets`], link type Ethernet.
pub fn write(t: &Trace) -> Vec<u8> {
    write_packets(&packets(t))
}

/// A pcap file of the given frames.
pub fn write_packets(frames: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend(0i32.to_le_bytes());
    out.extend(0u32.to_le_bytes());
    out.extend(65535u32.to_le_bytes());
    out.extend(1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    for f in frames {
        out.extend((f.usec / 1_000_000).to_le_bytes());
        out.extend((f.usec % 1_000_000).to_le_bytes());
        out.extend((f.data.len() as u32).to_le_bytes());
        out.extend((f.data.len() as u32).to_le_bytes());
        out.extend(&f.data);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::Action;

    #[test]
    fn a_sleeve_frame_is_the_peers_names_then_the_frame_with_its_length() {
        let (a, b) = (Mac([2, 0, 0, 0, 0, 1]), Mac([2, 0, 0, 0, 0, 2]));
        let packet = Headers {
            src: "10.32.0.2".parse().unwrap(),
            sport: 40000,
            dst: "10.40.0.3".parse().unwrap(),
            dport: 8080,
            protocol: Protocol::Tcp,
            ttl: 64,
            outer: Some(Outer {
                src: "172.18.0.3".parse().unwrap(),
                dst: "172.18.0.4".parse().unwrap(),
                encap: Encap::Sleeve { port: 6783, src_peer: a, dst_peer: b },
                sport: 6783,
            }),
        };
        let hop = Hop {
            node: Some("n".into()),
            at: Place::Dev("vethwe-pcap".into()),
            action: Action::Encapsulated,
            detail: String::new(),
            rule: None,
            packet,
        };
        let seg = Segment { reply: false, flags: SYN, seq: 1, ack: 0, payload: &[] };
        let f = frame(&hop, &seg, 1);
        let ip = &f[14..];
        assert_eq!(ip[6] & 0x40, 0, "the router's socket never sets DF");
        assert_eq!(checksum(&ip[..20]), 0);
        let udp = &ip[20..];
        assert_eq!((u16::from_be_bytes([udp[0], udp[1]]), u16::from_be_bytes([udp[2], udp[3]])), (6783, 6783));
        let body = &udp[8..];
        assert_eq!(&body[..6], &a.0, "the sending peer");
        assert_eq!((&body[6..12], &body[12..18]), (&a.0[..], &b.0[..]), "capturing and destination peers");
        let len = usize::from(u16::from_be_bytes([body[18], body[19]]));
        assert_eq!(len, body.len() - 20, "one frame, nothing trailing");
        assert_eq!(&body[20 + 12..20 + 14], &[0x08, 0x00], "an Ethernet frame carrying IPv4");
    }

    #[test]
    fn checksums_verify_to_zero() {
        let ip = ipv4("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 6, 64, 1, &[0; 20]);
        assert_eq!(checksum(&ip[..20]), 0);
    }
}
