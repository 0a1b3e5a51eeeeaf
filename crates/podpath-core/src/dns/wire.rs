//! DNS messages as bytes (RFC 1035), for the pcap: a query as glibc sends
//! it (recursion desired) and the response with its three sections. Names
//! are written out in full, without compression, which every decoder reads.

use std::net::IpAddr;

use super::{RType, Rcode, Record, Response};

fn type_code(t: RType) -> u16 {
    match t {
        RType::A => 1,
        RType::Ns => 2,
        RType::Cname => 5,
        RType::Soa => 6,
        RType::Ptr => 12,
        RType::Txt => 16,
        RType::Aaaa => 28,
        RType::Srv => 33,
        RType::Other(n) => n,
    }
}

fn name(out: &mut Vec<u8>, n: &str) {
    for label in n.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        let bytes = &label.as_bytes()[..label.len().min(63)];
        out.push(bytes.len() as u8);
        out.extend(bytes);
    }
    out.push(0);
}

fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut h = Vec::with_capacity(12);
    h.extend(id.to_be_bytes());
    h.extend(flags.to_be_bytes());
    for c in counts {
        h.extend(c.to_be_bytes());
    }
    h
}

fn question(out: &mut Vec<u8>, qname: &str, qtype: RType) {
    name(out, qname);
    out.extend(type_code(qtype).to_be_bytes());
    out.extend(1u16.to_be_bytes()); // IN
}

/// The record's data as bytes, from the text dig prints.
fn rdata(r: &Record) -> Vec<u8> {
    let mut d = Vec::new();
    let words: Vec<&str> = r.data.split_whitespace().collect();
    match r.rtype {
        RType::A | RType::Aaaa => match r.data.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => d.extend(v4.octets()),
            Ok(IpAddr::V6(v6)) => d.extend(v6.octets()),
            Err(_) => {}
        },
        RType::Cname | RType::Ptr | RType::Ns => name(&mut d, &r.data),
        RType::Srv => {
            let n = |i: usize| words.get(i).and_then(|w| w.parse::<u16>().ok()).unwrap_or(0);
            d.extend(n(0).to_be_bytes());
            d.extend(n(1).to_be_bytes());
            d.extend(n(2).to_be_bytes());
            name(&mut d, words.get(3).copied().unwrap_or("."));
        }
        RType::Txt => {
            let text = r.data.trim_matches('"').as_bytes();
            d.push(text.len().min(255) as u8);
            d.extend(&text[..text.len().min(255)]);
        }
        // Never in an answer: no plugin podpath models makes them.
        RType::Other(_) => {}
        RType::Soa => {
            name(&mut d, words.first().copied().unwrap_or("."));
            name(&mut d, words.get(1).copied().unwrap_or("."));
            for i in 2..7 {
                d.extend(words.get(i).and_then(|w| w.parse::<u32>().ok()).unwrap_or(0).to_be_bytes());
            }
        }
    }
    d
}

fn record(out: &mut Vec<u8>, r: &Record) {
    name(out, &r.name);
    out.extend(type_code(r.rtype).to_be_bytes());
    out.extend(1u16.to_be_bytes());
    out.extend(r.ttl.to_be_bytes());
    let d = rdata(r);
    out.extend((d.len() as u16).to_be_bytes());
    out.extend(d);
}

/// A query: recursion desired, one question.
/// The transaction id of a query for `qname`: random on a real resolver,
/// derived from the name and the seed here, so a trace is reproducible.
pub fn query_id(qname: &str, seed: u64) -> u16 {
    (crate::names::fnv64a(format!("{qname} {seed}").as_bytes()) & 0xffff) as u16
}

pub fn query(id: u16, qname: &str, qtype: RType) -> Vec<u8> {
    let mut m = header(id, 0x0100, [1, 0, 0, 0]);
    question(&mut m, qname, qtype);
    m
}

/// The response to [`query`]: QR, the server's AA and RA, the rcode, and
/// the sections.
pub fn response(id: u16, qname: &str, qtype: RType, r: &Response) -> Vec<u8> {
    let rcode: u16 = match r.rcode {
        Rcode::NoError => 0,
        Rcode::ServFail => 2,
        Rcode::NxDomain => 3,
        Rcode::Refused => 5,
    };
    // CoreDNS's own zones answer authoritatively without recursion
    // available (dig warns about it); forwarded answers carry RA.
    let flags = 0x8000 | 0x0100 | if r.authoritative { 0x0400 } else { 0x0080 } | rcode;
    let counts = [1, r.answers.len() as u16, r.authority.len() as u16, r.additional.len() as u16];
    let mut m = header(id, flags, counts);
    question(&mut m, qname, qtype);
    for rec in r.answers.iter().chain(&r.authority).chain(&r.additional) {
        record(&mut m, rec);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_the_bytes_dig_sends() {
        let q = query(0x1234, "web.shop.svc.cluster.local.", RType::A);
        let mut want = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in ["web", "shop", "svc", "cluster", "local"] {
            want.push(l.len() as u8);
            want.extend(l.as_bytes());
        }
        want.extend([0, 0, 1, 0, 1]);
        assert_eq!(q, want);
    }

    #[test]
    fn a_response_carries_its_sections() {
        let mut r = Response::new(Rcode::NxDomain, "test");
        r.authoritative = true;
        r.authority.push(Record::new(
            "cluster.local.",
            30,
            RType::Soa,
            "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30",
        ));
        let m = response(7, "nope.cluster.local.", RType::A, &r);
        assert_eq!(&m[2..4], &[0x85, 0x03], "QR AA RD, no RA (authoritative), NXDOMAIN");
        assert_eq!(&m[4..12], &[0, 1, 0, 0, 0, 1, 0, 0]);
        // The SOA's data: two names and five numbers.
        let soa_rdata = ("ns.dns.cluster.local".len() + 2) + ("hostmaster.cluster.local".len() + 2) + 20;
        assert_eq!(u16::from_be_bytes([m[m.len() - soa_rdata - 2], m[m.len() - soa_rdata - 1]]) as usize, soa_rdata);
    }
}
