//! The tools that send ICMP (and traceroute's probes): iputils `ping`, and
//! Debian's `traceroute`, whose routers answer from the source Linux picks
//! for the way back. podpath has no clock: round trips are modelled from
//! the number of hops.

use std::net::IpAddr;

use super::{dns_timed_out, request, resolved, target, traced, Client, Ran};
use crate::cluster::Protocol;
use crate::dns::{self, RType};
use crate::shell::Output;
use crate::trace::{self, To, Verdict};
use crate::Cluster;

/// A round trip as ping reports it, modelled: 40 µs per place the packet
/// crosses each way plus a little per packet, so a longer path shows a
/// longer time.
fn rtt(hops: usize, seq: u32, seed: u64) -> f64 {
    let jitter = (crate::names::fnv64a(format!("{seed} {seq}").as_bytes()) % 40) as f64;
    (hops as f64 * 40.0 + 30.0 + jitter) / 1000.0
}

/// The most echo requests a ping sends here before it is taken as
/// interrupted (^C): iputils sends one a second up to its count, and no one
/// waits minutes at a terminal for a count of millions (nor could the page
/// print them). Without `-c` it sends 4, as if stopped then.
const INTERRUPTED_AFTER: u64 = 100;

/// `-c`'s value as iputils reads it: a number from 1 to i64's largest.
fn count_arg(v: &str) -> Result<u64, Output> {
    match v.parse::<i128>() {
        Ok(n) if (1..=i128::from(i64::MAX)).contains(&n) => Ok(n as u64),
        Ok(_) => Err(Output::fail(
            1,
            format!("ping: invalid argument: '{v}': out of range: 1 <= value <= 9223372036854775807\n"),
        )),
        Err(_) => Err(Output::fail(1, format!("ping: invalid argument: '{v}'\n"))),
    }
}

/// ping's count and host from its arguments.
fn ping_args(args: &[String]) -> Result<(u64, String), Output> {
    let mut count: u64 = 4;
    let mut host = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" => {
                let v = it.next().ok_or_else(|| Output::fail(2, "ping: option requires an argument -- 'c'\n"))?;
                count = count_arg(v)?;
            }
            s if s.starts_with("-c") && s.len() > 2 => count = count_arg(&s[2..])?,
            "-W" | "-i" | "-w" | "-s" | "-t" => {
                it.next();
            }
            "-n" | "-q" | "-4" => {}
            s if s.starts_with('-') => {
                return Err(Output::fail(2, format!("ping: invalid option -- '{}'\n", s.trim_start_matches('-'))))
            }
            s => host = Some(s.to_owned()),
        }
    }
    let host = host.ok_or_else(|| Output::fail(2, "ping: usage error: Destination address required\n"))?;
    Ok((count, host))
}

/// iputils' ping: an echo request traced as ICMP; a reply per request when
/// it is delivered (the TTL the reply arrived with), "Destination Port
/// Unreachable" when a rule rejects it, nothing when it is lost.
pub(super) fn ping(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let (count, host) = ping_args(args)?;
    let sent = count.min(INTERRUPTED_AFTER) as u32;
    let to = target(&host);
    let t = trace::trace(cluster, &request(client, to.clone(), 0, Protocol::Icmp, seed))
        .map_err(|e| Output::fail(2, format!("ping: {e}\n")))?;
    let shown = traced(client, &host, 0, Protocol::Icmp, seed, t.clone());
    let unresolved = |why: &str| {
        Ok(Output { text: format!("ping: {host}: {why}\n"), status: 2, traced: shown.clone(), clear: false })
    };
    if t.verdict == Verdict::Nxdomain {
        return unresolved("Name or service not known");
    }
    if dns_timed_out(&t) {
        return unresolved("Temporary failure in name resolution");
    }
    let addr = resolved(&t, &to).unwrap_or(t.destination_ip);
    // For a name, the canonical name the lookup ended on; replies are
    // named by a reverse lookup.
    let (shown_name, reply_name) = match &to {
        To::Ip(_) => (addr.to_string(), None),
        _ => {
            let canonical = t
                .dns
                .as_ref()
                .and_then(|d| d.lookup.attempts.last())
                .map_or(host.clone(), |a| a.name.trim_end_matches('.').to_owned());
            let ptr = dns::Dns::of(cluster).answer(cluster, &dns::kubernetes::to_reverse(addr), RType::Ptr);
            let name = ptr.answers.first().map_or(addr.to_string(), |r| r.data.trim_end_matches('.').to_owned());
            (canonical, Some(name))
        }
    };
    let mut text = format!("PING {shown_name} ({addr}) 56(84) bytes of data.\n");
    let answered = t.verdict == Verdict::Delivered;
    let ttl = t.reply.last().map_or(64, |h| h.packet.ttl);
    // The time is the way's, not the rules': count where the packet is.
    let hops = t.hops.iter().chain(&t.reply).filter(|h| h.at.is_somewhere()).count();
    let mut times = Vec::new();
    if answered {
        let from = reply_name.map_or_else(|| addr.to_string(), |n| format!("{n} ({addr})"));
        for seq in 1..=sent {
            let ms = rtt(hops, seq, seed);
            times.push(ms);
            text.push_str(&format!("64 bytes from {from}: icmp_seq={seq} ttl={ttl} time={}\n", fmt_ms(ms)));
        }
    }
    // A REJECT answers each echo with "port unreachable" from the address
    // pinged: iputils prints it and counts errors.
    let refused = t.verdict == Verdict::Rejected;
    if refused {
        for seq in 1..=sent {
            text.push_str(&format!("From {addr} icmp_seq={seq} Destination Port Unreachable\n"));
        }
    }
    if count > u64::from(sent) {
        // The terminal echoes the interrupt where the blank line would be.
        text.push_str("^C");
    }
    text.push_str(&statistics(&shown_name, sent, &times, refused));
    Ok(Output { text, status: if answered { 0 } else { 1 }, traced: shown, clear: false })
}

/// ping's summary: packets sent, received, errors, loss, and the round
/// trips' spread.
fn statistics(name: &str, count: u32, times: &[f64], refused: bool) -> String {
    let received = times.len() as u32;
    let loss = 100 * (count - received) / count;
    let elapsed = u64::from(count - 1) * 1000 + u64::from(count);
    let errors = if refused { format!(", +{count} errors") } else { String::new() };
    let mut text = format!(
        "\n--- {name} ping statistics ---\n{count} packets transmitted, {received} received{errors}, {loss}% packet loss, time {elapsed}ms\n"
    );
    if !times.is_empty() {
        let min = times.iter().copied().fold(f64::MAX, f64::min);
        let max = times.iter().copied().fold(0.0, f64::max);
        let avg = times.iter().sum::<f64>() / times.len() as f64;
        let mdev = (times.iter().map(|t| (t - avg).powi(2)).sum::<f64>() / times.len() as f64).sqrt();
        text.push_str(&format!("rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms\n"));
    }
    text
}

/// ping's time: three decimals under 1 ms… as iputils prints it.
fn fmt_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.3} ms")
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Where a router's "time exceeded" comes from: the source address Linux
/// picks for the route back to the sender (the route's `src`, else the
/// outgoing device's address, else the node's own address).
fn reply_source(network: &crate::datapath::Network, cluster: &Cluster, node: &str, to: IpAddr) -> Option<IpAddr> {
    let n = network.node(node)?;
    let route = n.host.lookup(to);
    route
        .and_then(|r| r.src)
        .or_else(|| {
            let dev = route.map(|r| r.dev.as_str())?;
            n.host.link(dev)?.addrs.iter().map(|a| a.addr()).find(|a| a.is_ipv4())
        })
        .or_else(|| cluster.node(node).and_then(|n| n.internal_ip))
}

/// Debian's traceroute (2.1): UDP probes from port 33434 (`-I` ICMP echo,
/// `-T` TCP SYN to 80), three per hop; each router on the way answers
/// "time exceeded", the destination "port unreachable" (or the echo, or
/// the SYN-ACK); where nothing answers, `* * *` to the hop limit.
pub(super) fn traceroute(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let (mut numeric, mut protocol, mut port, mut max) = (false, Protocol::Udp, 33434u16, 30u8);
    let mut host = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" => numeric = true,
            "-I" | "--icmp" => protocol = Protocol::Icmp,
            "-T" | "--tcp" => (protocol, port) = (Protocol::Tcp, 80),
            "-p" | "--port" => port = it.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "-m" | "--max-hops" => max = it.next().and_then(|m| m.parse().ok()).unwrap_or(max),
            "-q" | "-w" | "-N" => {
                it.next();
            }
            s if s.starts_with('-') => return Err(Output::fail(2, format!("Bad option `{s}' (argc 1)\n"))),
            s => host = Some(s.to_owned()),
        }
    }
    let Some(host) = host else {
        return Err(Output::fail(2, "Usage:\n  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] [ -i device ] [ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] [ -l flow_label ] [ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] [ -z sendwait ] [ --fwmark=num ] host [ packetlen ]\n"));
    };
    let to = target(&host);
    let t = trace::trace(cluster, &request(client, to.clone(), port, protocol, seed))
        .map_err(|e| Output::fail(2, format!("traceroute: {e}\n")))?;
    let shown = traced(client, &host, port, protocol, seed, t.clone());
    if t.verdict == Verdict::Nxdomain || dns_timed_out(&t) {
        let text = format!(
            "{host}: Name or service not known\nCannot handle \"host\" cmdline arg `{host}' on position 1 (argc 1)\n"
        );
        return Ok(Output { text, status: 2, traced: shown, clear: false });
    }
    let addr = resolved(&t, &to).unwrap_or(t.destination_ip);
    let client_ip = t.hops.first().map(|h| h.packet.src);
    let network = cluster.network();
    let name = |ip: IpAddr| -> String {
        if numeric {
            return ip.to_string();
        }
        let ptr = dns::Dns::of(cluster).answer(cluster, &dns::kubernetes::to_reverse(ip), RType::Ptr);
        let n = ptr.answers.first().map_or(ip.to_string(), |r| r.data.trim_end_matches('.').to_owned());
        format!("{n} ({ip})")
    };
    let times = |hops: usize, n: u8| -> String {
        (0..3u32).map(|q| fmt_ms(rtt(hops * 2, u32::from(n) * 3 + q, seed))).collect::<Vec<_>>().join("  ")
    };
    let mut text = format!("traceroute to {host} ({addr}), {max} hops max, 60 byte packets\n");
    let mut n = 0u8;
    let frames = crate::trace::walk::Walk::new(&t).run();
    for f in frames.iter().filter(|f| f.index < t.hops.len()) {
        if !f.changes.iter().any(|c| matches!(c, crate::trace::walk::Change::Ttl { .. })) || n + 1 >= max {
            continue;
        }
        let (Some(node), Some(back)) = (f.hop.node.as_deref(), client_ip) else { continue };
        let Some(router) = reply_source(network, cluster, node, back) else { continue };
        n += 1;
        let crossed = t.hops[..=f.index].iter().filter(|h| h.at.is_somewhere()).count();
        text.push_str(&format!("{n:>2}  {}  {}\n", name(router), times(crossed, n)));
    }
    if t.verdict == Verdict::Delivered {
        n += 1;
        let crossed = t.hops.iter().filter(|h| h.at.is_somewhere()).count();
        text.push_str(&format!("{n:>2}  {}  {}\n", name(addr), times(crossed, n)));
    } else {
        while n < max {
            n += 1;
            text.push_str(&format!("{n:>2}  * * *\n"));
        }
    }
    Ok(Output { text, status: 0, traced: shown, clear: false })
}
