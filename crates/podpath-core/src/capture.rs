//! The capture as Wireshark shows it: the packet list's columns, the
//! details tree layer by layer, and the hex dump — read from the very
//! bytes [`crate::pcap`] writes, so the view and the downloaded file never
//! disagree. tcpdump's one-line form comes from the same reading.
//!
//! What is decoded: Ethernet II, IPv4 (and IP-in-IP), UDP, TCP, ICMP echo,
//! VXLAN (4789 and Linux's 8472), Geneve, DNS, HTTP/1.1. Column texts follow
//! Wireshark's (`42956 → 80 [SYN] Seq=0 Win=64240 Len=0`, `Standard query
//! 0x1a2b A web.shop.svc.cluster.local`), with TCP sequence numbers
//! relative to the connection's start as Wireshark shows them by default.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::pcap::{CLIENT_ISN, SERVER_ISN};

/// One layer of the details tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub title: String,
    pub fields: Vec<String>,
}

/// A frame read layer by layer, and its packet-list columns.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Dissection {
    pub source: String,
    pub destination: String,
    pub protocol: String,
    pub info: String,
    pub layers: Vec<Layer>,
    /// tcpdump's line for the frame (without the timestamp).
    pub tcpdump: String,
}

fn be16(b: &[u8], i: usize) -> u16 {
    b.get(i..i + 2).map_or(0, |x| u16::from_be_bytes([x[0], x[1]]))
}

fn be32(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4).map_or(0, |x| u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
}

fn mac(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":")
}

/// Reads one frame (`number` from 1, `length` its size on the wire).
pub fn dissect(frame: &[u8], number: usize) -> Dissection {
    let mut d = Dissection::default();
    d.layers.push(Layer {
        title: format!(
            "Frame {number}: {} bytes on wire ({} bits), {} bytes captured",
            frame.len(),
            frame.len() * 8,
            frame.len()
        ),
        fields: vec!["Encapsulation type: Ethernet (1)".into()],
    });
    ethernet(&mut d, frame);
    d
}

fn ethernet(d: &mut Dissection, f: &[u8]) {
    if f.len() < 14 {
        d.protocol = "Ethernet".into();
        d.info = "[Malformed Packet]".into();
        return;
    }
    let (dst, src, ty) = (mac(&f[0..6]), mac(&f[6..12]), be16(f, 12));
    d.source = src.clone();
    d.destination = dst.clone();
    d.layers.push(Layer {
        title: format!("Ethernet II, Src: {src}, Dst: {dst}"),
        fields: vec![format!("Destination: {dst}"), format!("Source: {src}"), format!("Type: IPv4 (0x{ty:04x})")],
    });
    if ty == 0x0800 {
        ipv4(d, &f[14..]);
    }
}

fn ipv4(d: &mut Dissection, p: &[u8]) {
    if p.len() < 20 {
        return;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let (src, dst) = (Ipv4Addr::new(p[12], p[13], p[14], p[15]), Ipv4Addr::new(p[16], p[17], p[18], p[19]));
    let (ttl, proto, id, total) = (p[8], p[9], be16(p, 4), be16(p, 2));
    let df = p[6] & 0x40 != 0;
    let proto_name = match proto {
        1 => "ICMP",
        4 => "IPIP",
        6 => "TCP",
        17 => "UDP",
        _ => "Unknown",
    };
    d.source = src.to_string();
    d.destination = dst.to_string();
    d.protocol = "IPv4".into();
    d.layers.push(Layer {
        title: format!("Internet Protocol Version 4, Src: {src}, Dst: {dst}"),
        fields: vec![
            "0100 .... = Version: 4".into(),
            format!(".... {:04b} = Header Length: {ihl} bytes ({})", ihl / 4, ihl / 4),
            format!("Total Length: {total}"),
            format!("Identification: 0x{id:04x} ({id})"),
            if df { "Flags: 0x2, Don't fragment".into() } else { "Flags: 0x0".into() },
            format!("Time to Live: {ttl}"),
            format!("Protocol: {proto_name} ({proto})"),
            format!("Header Checksum: 0x{:04x}", be16(p, 10)),
            format!("Source Address: {src}"),
            format!("Destination Address: {dst}"),
        ],
    });
    let end = usize::from(total).min(p.len()).max(ihl.min(p.len()));
    let body = &p[ihl.min(p.len())..end];
    let ip = (src.to_string(), dst.to_string(), ttl);
    match proto {
        // tcpdump: the outer addresses, then the inner packet.
        4 => {
            ipv4(d, body);
            d.tcpdump = format!("IP {src} > {dst}: {} (ipip-proto-4)", d.tcpdump);
        }
        6 => tcp(d, body, &ip),
        17 => udp(d, body, &ip),
        1 => icmp(d, body, &ip),
        _ => {}
    }
}

fn udp(d: &mut Dissection, u: &[u8], ip: &(String, String, u8)) {
    if u.len() < 8 {
        return;
    }
    let (sport, dport, len) = (be16(u, 0), be16(u, 2), be16(u, 4));
    d.protocol = "UDP".into();
    d.info = format!("{sport} → {dport} Len={}", u.len() - 8);
    d.tcpdump = format!("IP {}.{sport} > {}.{dport}: UDP, length {}", ip.0, ip.1, u.len() - 8);
    d.layers.push(Layer {
        title: format!("User Datagram Protocol, Src Port: {sport}, Dst Port: {dport}"),
        fields: vec![
            format!("Source Port: {sport}"),
            format!("Destination Port: {dport}"),
            format!("Length: {len}"),
            format!("Checksum: 0x{:04x} [unverified]", be16(u, 6)),
            format!("UDP payload ({} bytes)", u.len() - 8),
        ],
    });
    let body = &u[8..];
    match (sport, dport) {
        (4789 | 8472, _) | (_, 4789 | 8472) if body.len() >= 8 => {
            let vni = be32(body, 4) >> 8;
            d.layers.push(Layer {
                title: "Virtual eXtensible Local Area Network".into(),
                fields: vec![
                    format!("Flags: 0x{:04x}, VXLAN Network ID (VNI)", be16(body, 0)),
                    "Group Policy ID: 0".into(),
                    format!("VXLAN Network Identifier (VNI): {vni}"),
                    "Reserved: 0".into(),
                ],
            });
            let outer = std::mem::take(&mut d.tcpdump);
            ethernet(d, &body[8..]);
            // tcpdump reads 4789 as VXLAN and Linux's 8472 as OTV, then
            // the inner packet on a line of its own.
            d.tcpdump = if sport == 8472 || dport == 8472 {
                format!("{outer}: OTV, flags [I] (0x08), overlay 0, instance {vni}\n{}", d.tcpdump)
            } else {
                format!("{outer}: VXLAN, flags [I] (0x08), vni {vni}\n{}", d.tcpdump)
            };
        }
        (_, 6081) | (6081, _) if body.len() >= 8 => {
            let vni = be32(body, 4) >> 8;
            d.layers.push(Layer {
                title: format!(
                    "Generic Network Virtualization Encapsulation, VNI: 0x{vni:06x}, Transparent Ethernet bridging"
                ),
                fields: vec![
                    "Version: 0".into(),
                    "Options Length: 0 bytes".into(),
                    "Protocol Type: Transparent Ethernet bridging (0x6558)".into(),
                    format!("Virtual Network Identifier (VNI): 0x{vni:06x}"),
                ],
            });
            let outer = std::mem::take(&mut d.tcpdump);
            ethernet(d, &body[8..]);
            d.tcpdump = format!("{outer}: Geneve, Flags [none], vni 0x{vni:x}, proto TEB (0x6558)\n{}", d.tcpdump);
        }
        (53, _) | (_, 53) => dns(d, body, ip, (sport, dport)),
        _ => {
            if !body.is_empty() {
                d.layers.push(Layer { title: format!("Data ({} bytes)", body.len()), fields: Vec::new() });
            }
        }
    }
}

fn tcp(d: &mut Dissection, t: &[u8], ip: &(String, String, u8)) {
    if t.len() < 20 {
        return;
    }
    let (sport, dport, seq, ack, flags) = (be16(t, 0), be16(t, 2), be32(t, 4), be32(t, 8), t[13]);
    let off = usize::from(t[12] >> 4) * 4;
    let payload = &t[off.min(t.len())..];
    // Relative numbers, as Wireshark shows them: from the side's ISN.
    let isn = |n: u32| if n >= SERVER_ISN { SERVER_ISN } else { CLIENT_ISN };
    let rseq = seq.wrapping_sub(isn(seq));
    let rack = if flags & 0x10 != 0 { ack.wrapping_sub(isn(ack)) } else { 0 };
    let names: Vec<&str> = [(0x01, "FIN"), (0x02, "SYN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK")]
        .iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, n)| *n)
        .collect();
    let win = be16(t, 14);
    d.protocol = "TCP".into();
    let mut info = format!("{sport} → {dport} [{}] Seq={rseq}", names.join(", "));
    if flags & 0x10 != 0 {
        let _ = write!(info, " Ack={rack}");
    }
    let _ = write!(info, " Win={win} Len={}", payload.len());
    d.info = info;
    // tcpdump's flags: S, F, P, R and "." for ACK.
    let td: String = [(0x02, 'S'), (0x01, 'F'), (0x08, 'P'), (0x04, 'R'), (0x10, '.')]
        .iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, c)| *c)
        .collect();
    // tcpdump prints a SYN's numbers as they are, later ones relative.
    let syn = flags & 0x02 != 0;
    let seq_text = match (syn, payload.is_empty()) {
        (true, _) => seq.to_string(),
        (false, true) => rseq.to_string(),
        (false, false) => format!("{rseq}:{}", rseq + payload.len() as u32),
    };
    // The sequence is shown when the segment carries data or SYN/FIN/RST.
    let mut line = format!("IP {}.{sport} > {}.{dport}: Flags [{td}]", ip.0, ip.1);
    if !payload.is_empty() || flags & 0x07 != 0 {
        let _ = write!(line, ", seq {seq_text}");
    }
    if flags & 0x10 != 0 {
        let _ = write!(line, ", ack {}", if syn { ack } else { rack });
    }
    let _ = write!(line, ", win {win}, length {}", payload.len());
    d.tcpdump = line;
    d.layers.push(Layer {
        title: format!(
            "Transmission Control Protocol, Src Port: {sport}, Dst Port: {dport}, Seq: {rseq}, Ack: {rack}, Len: {}",
            payload.len()
        ),
        fields: vec![
            format!("Source Port: {sport}"),
            format!("Destination Port: {dport}"),
            format!("Sequence Number: {rseq}    (relative sequence number)"),
            format!("Sequence Number (raw): {seq}"),
            format!("Acknowledgment Number: {rack}    (relative ack number)"),
            format!("Header Length: {off} bytes ({})", off / 4),
            format!("Flags: 0x{flags:03x} ({})", names.join(", ")),
            format!("Window: {win}"),
            format!("Checksum: 0x{:04x} [unverified]", be16(t, 16)),
            format!("TCP payload ({} bytes)", payload.len()),
        ],
    });
    if !payload.is_empty() {
        http(d, payload);
    }
}

fn http(d: &mut Dissection, payload: &[u8]) {
    let text = String::from_utf8_lossy(payload);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let first = head.lines().next().unwrap_or("");
    let is_http = first.starts_with("HTTP/1.") || first.split(' ').nth(2).is_some_and(|v| v.starts_with("HTTP/1."));
    if !is_http {
        d.layers.push(Layer { title: format!("Data ({} bytes)", payload.len()), fields: Vec::new() });
        return;
    }
    d.protocol = "HTTP".into();
    let mut fields: Vec<String> = head.split("\r\n").map(|l| format!("{l}\\r\\n")).collect();
    fields.push("\\r\\n".into());
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    if !body.is_empty() {
        fields.push(format!("File Data: {} bytes", body.len()));
    }
    d.info = if first.starts_with("HTTP/") {
        // Wireshark: the status line, two spaces, the media type.
        match head.lines().find_map(|l| l.strip_prefix("Content-Type: ")) {
            Some(c) => format!("{first}  ({})", c.split(';').next().unwrap_or(c)),
            None => first.to_owned(),
        }
    } else {
        first.to_owned()
    };
    d.tcpdump.push_str(&format!(": HTTP: {first}"));
    d.layers.push(Layer { title: "Hypertext Transfer Protocol".into(), fields });
    if !body.is_empty() {
        d.layers.push(Layer {
            title: "Line-based text data: text/plain".into(),
            fields: body.lines().map(|l| format!("{l}\\n")).collect(),
        });
    }
}

fn icmp(d: &mut Dissection, m: &[u8], ip: &(String, String, u8)) {
    if m.len() < 8 {
        return;
    }
    let (ty, id, seq) = (m[0], be16(m, 4), be16(m, 6));
    let what = match ty {
        8 => "Echo (ping) request",
        0 => "Echo (ping) reply",
        3 => "Destination unreachable",
        11 => "Time-to-live exceeded",
        _ => "ICMP",
    };
    d.protocol = "ICMP".into();
    let pad = if ty == 0 { "  " } else { "" };
    d.info = format!("{what}{pad}  id=0x{id:04x}, seq={seq}/{}, ttl={}", seq.swap_bytes(), ip.2);
    d.tcpdump = format!(
        "IP {} > {}: ICMP echo {}, id {id}, seq {seq}, length {}",
        ip.0,
        ip.1,
        if ty == 0 { "reply" } else { "request" },
        m.len()
    );
    d.layers.push(Layer {
        title: "Internet Control Message Protocol".into(),
        fields: vec![
            format!("Type: {ty} ({what})"),
            "Code: 0".into(),
            format!("Checksum: 0x{:04x}", be16(m, 2)),
            format!("Identifier (BE): {id} (0x{id:04x})"),
            format!("Sequence Number (BE): {seq} (0x{seq:04x})"),
            format!("Data ({} bytes)", m.len() - 8),
        ],
    });
}

/// A name at `at` in a DNS message (labels, or a pointer), and where the
/// name ends in place.
fn dns_name(m: &[u8], mut at: usize) -> (String, usize) {
    let mut labels = Vec::new();
    let mut end = None;
    for _ in 0..64 {
        let Some(&len) = m.get(at) else { break };
        if len == 0 {
            at += 1;
            break;
        }
        if len & 0xc0 == 0xc0 {
            end.get_or_insert(at + 2);
            at = usize::from(be16(m, at) & 0x3fff);
            continue;
        }
        let l = usize::from(len);
        labels.push(String::from_utf8_lossy(m.get(at + 1..at + 1 + l).unwrap_or(&[])).into_owned());
        at += 1 + l;
    }
    let name = if labels.is_empty() { "<Root>".to_owned() } else { labels.join(".") };
    (name, end.unwrap_or(at))
}

fn dns_type(t: u16) -> String {
    match t {
        1 => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        6 => "SOA".into(),
        12 => "PTR".into(),
        16 => "TXT".into(),
        28 => "AAAA".into(),
        33 => "SRV".into(),
        n => format!("Unknown ({n})"),
    }
}

/// A DNS message as the capture shows it.
struct DnsMessage {
    id: u16,
    flags: u16,
    counts: [u16; 4],
    qname: String,
    qtype: String,
    /// The answer section, `TYPE DATA` each.
    answers: Vec<String>,
    /// Every record after the question, with its section (0 answer, 1
    /// authority, 2 additional) as Wireshark lists it.
    records: Vec<(usize, String)>,
}

impl DnsMessage {
    fn parse(m: &[u8]) -> Option<DnsMessage> {
        if m.len() < 12 {
            return None;
        }
        let counts = [be16(m, 4), be16(m, 6), be16(m, 8), be16(m, 10)];
        let (qname, mut at) = dns_name(m, 12);
        let qtype = dns_type(be16(m, at));
        at += 4;
        let mut msg = DnsMessage {
            id: be16(m, 0),
            flags: be16(m, 2),
            counts,
            qname,
            qtype,
            answers: Vec::new(),
            records: Vec::new(),
        };
        for section in 0..3 {
            for _ in 0..counts[section + 1] {
                at = msg.record(m, at, section);
            }
        }
        Some(msg)
    }

    /// Reads the record at `at` of a section; where the next one starts.
    fn record(&mut self, m: &[u8], at: usize, section: usize) -> usize {
        let (name, next) = dns_name(m, at);
        let (ty, ttl, len) = (be16(m, next), be32(m, next + 4), usize::from(be16(m, next + 8)));
        let rdata = next + 10;
        let data = match ty {
            1 if len == 4 => Ipv4Addr::new(m[rdata], m[rdata + 1], m[rdata + 2], m[rdata + 3]).to_string(),
            2 | 5 | 6 | 12 => dns_name(m, rdata).0,
            33 => {
                let target = dns_name(m, rdata + 6).0;
                format!("{} {} {} {target}", be16(m, rdata), be16(m, rdata + 2), be16(m, rdata + 4))
            }
            _ => format!("{len} bytes"),
        };
        if section == 0 {
            self.answers.push(format!("{} {data}", dns_type(ty)));
        }
        if section < 2 && ty != 0 {
            self.records.push((section, format!("{name}: type {}, class IN, ttl {ttl}, {data}", dns_type(ty))));
        } else {
            self.records.push((section, format!("{name}: type {}, class IN", dns_type(ty))));
        }
        rdata + len
    }

    fn response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// Wireshark's words for the response code.
    fn rcode_text(&self) -> &'static str {
        match self.flags & 0x000f {
            3 => " No such name",
            2 => " Server failure",
            5 => " Refused",
            _ => "",
        }
    }

    /// The packet list's Info column.
    fn info(&self) -> String {
        let (id, qtype, qname) = (self.id, &self.qtype, &self.qname);
        if !self.response() {
            return format!("Standard query 0x{id:04x} {qtype} {qname}");
        }
        let mut s = format!("Standard query response 0x{id:04x}{} {qtype} {qname}", self.rcode_text());
        for a in &self.answers {
            let _ = write!(s, " {a}");
        }
        if self.answers.is_empty() && self.counts[2] > 0 {
            let soa = self.records.iter().find(|(s, _)| *s == 1).map(|(_, r)| r.split(", ").last().unwrap_or(""));
            let _ = write!(s, " SOA {}", soa.unwrap_or_default());
        }
        s
    }

    /// tcpdump: `ID+ A? NAME. (LEN)`; a response `ID*- AN/NS/AR A 1.2.3.4
    /// (LEN)` (`*` authoritative, `-` no recursion available).
    fn tcpdump(&self, from_to: &str, len: usize) -> String {
        let (id, counts) = (self.id, self.counts);
        if !self.response() {
            return format!("{from_to}: {id}+ {}? {}. ({len})", self.qtype, self.qname);
        }
        let aa = if self.flags & 0x0400 != 0 { "*" } else { "" };
        let ra = if self.flags & 0x0080 == 0 { "-" } else { "" };
        let rc = match self.flags & 0x000f {
            3 => " NXDomain",
            2 => " ServFail",
            5 => " Refused",
            _ => "",
        };
        let mut line = format!("{from_to}: {id}{aa}{ra}{rc} {}/{}/{}", counts[1], counts[2], counts[3]);
        if !self.answers.is_empty() {
            let _ = write!(line, " {}", self.answers.join(", "));
        }
        let _ = write!(line, " ({len})");
        line
    }

    /// The layer tree's fields.
    fn fields(self) -> Vec<String> {
        let kind = if self.response() {
            let rtext = self.rcode_text();
            format!("Standard query response,{}", if rtext.is_empty() { " No error" } else { rtext })
        } else {
            "Standard query".to_owned()
        };
        let mut fields = vec![
            format!("Transaction ID: 0x{:04x}", self.id),
            format!("Flags: 0x{:04x} {kind}", self.flags),
            format!("Questions: {}", self.counts[0]),
            format!("Answer RRs: {}", self.counts[1]),
            format!("Authority RRs: {}", self.counts[2]),
            format!("Additional RRs: {}", self.counts[3]),
            format!("Queries: {}: type {}, class IN", self.qname, self.qtype),
        ];
        for (section, r) in self.records {
            let title = ["Answers", "Authoritative nameservers", "Additional records"][section];
            fields.push(format!("{title}: {r}"));
        }
        fields
    }
}

fn dns(d: &mut Dissection, m: &[u8], ip: &(String, String, u8), (sport, dport): (u16, u16)) {
    let Some(msg) = DnsMessage::parse(m) else { return };
    d.protocol = "DNS".into();
    d.info = msg.info();
    d.tcpdump = msg.tcpdump(&format!("IP {}.{sport} > {}.{dport}", ip.0, ip.1), m.len());
    let title = format!("Domain Name System ({})", if msg.response() { "response" } else { "query" });
    d.layers.push(Layer { title, fields: msg.fields() });
}

/// Wireshark's bytes pane: offset, sixteen bytes in two groups of eight,
/// and their printable characters.
pub fn hexdump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, row) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:04x}  ", i * 16);
        for j in 0..16 {
            match row.get(j) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if j == 7 {
                out.push(' ');
            }
        }
        out.push_str("  ");
        out.extend(row.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }));
        out.push('\n');
    }
    out
}

/// A capture time as Wireshark's "seconds since the first packet".
pub fn seconds(usec: u32) -> String {
    format!("{}.{:06}", usec / 1_000_000, usec % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hexdump_as_wireshark_lays_it_out() {
        let b: Vec<u8> = (0x41..0x41 + 18).collect();
        assert_eq!(
            hexdump(&b),
            "0000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50   ABCDEFGHIJKLMNOP\n0010  51 52                                              QR\n"
        );
    }
}
