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
    for (n, answer) in answers(cluster, &t, addr, max) {
        match answer {
            Some((ip, crossed)) => text.push_str(&format!("{n:>2}  {}  {}\n", name(ip), times(crossed, n))),
            None => text.push_str(&format!("{n:>2}  * * *\n")),
        }
    }
    Ok(Output { text, status: 0, traced: shown, clear: false })
}

/// What answers each TTL a traceroute sends, in order: each router on the
/// way (the source Linux picks for the way back, and how many places the
/// probe crossed to get there), then the destination once delivered; or
/// nothing, to the hop limit, when the probes are lost.
fn answers(cluster: &Cluster, t: &trace::Trace, addr: IpAddr, max: u8) -> Vec<(u8, Option<(IpAddr, usize)>)> {
    let mut out = Vec::new();
    let client_ip = t.hops.first().map(|h| h.packet.src);
    let network = cluster.network();
    let frames = crate::trace::walk::Walk::new(t).run();
    for f in frames.iter().filter(|f| f.index < t.hops.len()) {
        let n = out.len() as u8;
        if !f.changes.iter().any(|c| matches!(c, crate::trace::walk::Change::Ttl { .. })) || n + 1 >= max {
            continue;
        }
        let (Some(node), Some(back)) = (f.hop.node.as_deref(), client_ip) else { continue };
        let Some(router) = reply_source(network, cluster, node, back) else { continue };
        let crossed = t.hops[..=f.index].iter().filter(|h| h.at.is_somewhere()).count();
        out.push((n + 1, Some((router, crossed))));
    }
    if t.verdict == Verdict::Delivered {
        let crossed = t.hops.iter().filter(|h| h.at.is_somewhere()).count();
        out.push((out.len() as u8 + 1, Some((addr, crossed))));
    } else {
        while (out.len() as u8) < max {
            out.push((out.len() as u8 + 1, None));
        }
    }
    out
}

/// BusyBox's usage text for ping (networking/ping.c, the fancy build), as
/// `bb_show_usage` prints it after a bad option.
const BUSYBOX_PING_USAGE: &str = "BusyBox v1.36.1 (2023-11-07 18:53:09 UTC) multi-call binary.\n\nUsage: ping [OPTIONS] HOST\n\nSend ICMP ECHO_REQUESTs to HOST\n\n\t-4,-6\t\tForce IP or IPv6 name resolution\n\t-c CNT\t\tSend only CNT pings\n\t-s SIZE\t\tSend SIZE data bytes in packets (default 56)\n\t-i SECS\t\tInterval\n\t-A\t\tPing as soon as reply is received\n\t-t TTL\t\tSet TTL\n\t-I IFACE/IP\tSource interface or IP address\n\t-W SEC\t\tSeconds to wait for the first response (default 10)\n\t\t\t(after all -c CNT packets are sent)\n\t-w SEC\t\tSeconds until ping exits (default:infinite)\n\t\t\t(can exit earlier with -c CNT)\n\t-q\t\tQuiet, only display output at start/finish\n\t-p HEXBYTE\tPayload pattern\n";

/// A time as BusyBox prints it: `%u.%03u` of microseconds.
fn busybox_ms(ms: f64) -> String {
    let us = (ms * 1000.0).round() as u64;
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// BusyBox's ping (networking/ping.c, `FEATURE_FANCY_PING`), in busybox
/// and Alpine images. Options by getopt (`qvAc:+s:t:+w:+W:+I:np:i:4`, a
/// `+` value a plain number or `invalid number`); the header names the host
/// as typed (`PING web (10.96.0.12): 56 data bytes`); replies count `seq`
/// from 0 and show the address, never a name (`unpack_tail`); the summary
/// says "packets received" and `round-trip min/avg/max` (`print_stats_and_exit`);
/// a name that does not resolve is `ping: bad address 'HOST'`; an ICMP
/// error comes back as `ping: warning: got ICMP 3 (Destination
/// Unreachable)`. It exits 1 when nothing came back.
pub(super) fn busybox_ping(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let parsed = super::getopt::parse("qvAc:s:t:w:W:I:np:i:46", &[], args)
        .map_err(|e| Output::fail(1, format!("ping: {e}\n{BUSYBOX_PING_USAGE}")))?;
    for key in ["c", "t", "w", "W", "s"] {
        if let Some(v) = parsed.value(key).filter(|v| v.parse::<u32>().is_err()) {
            return Err(Output::fail(1, format!("ping: invalid number '{v}'\n")));
        }
    }
    let [host] = parsed.operands.as_slice() else { return Err(Output::fail(1, BUSYBOX_PING_USAGE.to_owned())) };
    let count = parsed.value("c").and_then(|c| c.parse::<u64>().ok()).filter(|c| *c > 0);
    let sent = count.unwrap_or(4).min(INTERRUPTED_AFTER) as u32;
    let size: u32 = parsed.value("s").and_then(|s| s.parse().ok()).unwrap_or(56);
    let quiet = parsed.has("q");
    let to = target(host);
    let t = trace::trace(cluster, &request(client, to.clone(), 0, Protocol::Icmp, seed))
        .map_err(|e| Output::fail(1, format!("ping: {e}\n")))?;
    let shown = traced(client, host, 0, Protocol::Icmp, seed, t.clone());
    if t.verdict == Verdict::Nxdomain || dns_timed_out(&t) {
        return Ok(Output { text: format!("ping: bad address '{host}'\n"), status: 1, traced: shown, clear: false });
    }
    let addr = resolved(&t, &to).unwrap_or(t.destination_ip);
    let mut text = format!("PING {host} ({addr}): {size} data bytes\n");
    let answered = t.verdict == Verdict::Delivered;
    let ttl = t.reply.last().map_or(64, |h| h.packet.ttl);
    let hops = t.hops.iter().chain(&t.reply).filter(|h| h.at.is_somewhere()).count();
    let mut times = Vec::new();
    for seq in 0..sent {
        if answered {
            let ms = rtt(hops, seq + 1, seed);
            times.push(ms);
            if !quiet {
                text.push_str(&format!(
                    "{} bytes from {addr}: seq={seq} ttl={ttl} time={} ms\n",
                    size + 8,
                    busybox_ms(ms)
                ));
            }
        } else if t.verdict == Verdict::Rejected {
            text.push_str("ping: warning: got ICMP 3 (Destination Unreachable)\n");
        }
    }
    if count.is_none_or(|c| c > u64::from(sent)) {
        text.push_str("^C");
    }
    let received = times.len() as u32;
    text.push_str(&format!(
        "\n--- {host} ping statistics ---\n{sent} packets transmitted, {received} packets received, {}% packet loss\n",
        100 * (sent - received) / sent
    ));
    if !times.is_empty() {
        let min = times.iter().copied().fold(f64::MAX, f64::min);
        let max = times.iter().copied().fold(0.0, f64::max);
        let avg = times.iter().sum::<f64>() / times.len() as f64;
        text.push_str(&format!(
            "round-trip min/avg/max = {}/{}/{} ms\n",
            busybox_ms(min),
            busybox_ms(avg),
            busybox_ms(max)
        ));
    }
    Ok(Output { text, status: u8::from(received == 0), traced: shown, clear: false })
}

/// BusyBox's usage text for traceroute (networking/traceroute.c).
const BUSYBOX_TRACEROUTE_USAGE: &str = "BusyBox v1.36.1 (2023-11-07 18:53:09 UTC) multi-call binary.\n\nUsage: traceroute [-46IFlnrv] [-f 1ST_TTL] [-m MAXTTL] [-q PROBES] [-p PORT]\n\t[-t TOS] [-w WAIT_SEC] [-s SRC_IP] [-i IFACE]\n\t[-z PAUSE_MSEC] HOST [BYTES]\n\nTrace the route to HOST\n\n\t-4,-6\tForce IP or IPv6 name resolution\n\t-F\tSet don't fragment bit\n\t-I\tUse ICMP ECHO instead of UDP datagrams\n\t-l\tDisplay TTL value of the returned packet\n\t-n\tPrint numeric addresses\n\t-r\tBypass routing tables, send directly to HOST\n\t-v\tVerbose\n\t-f N\tFirst number of hops (default 1)\n\t-m N\tMax number of hops\n\t-q N\tNumber of probes per hop (default 3)\n\t-p N\tBase UDP port number used in probes\n\t\t(default 33434)\n\t-s IP\tSource address\n\t-i IFACE Source interface\n\t-t N\tType-of-service in probe packets (default 0)\n\t-w SEC\tWait for a response (default 3)\n\t-z MSEC\tWait before each send\n";

/// BusyBox's traceroute (networking/traceroute.c): UDP probes from port
/// 33434 (`-I` ICMP echo), 46-byte packets (IP, UDP or ICMP header and
/// its 18-byte `outdata_t`), 30 hops, three probes; each hop `%2d`, the
/// responder `  NAME (ADDR)` (`-n`: `  ADDR`; a name falls back to the
/// address), each time `  %u.%03u ms`, a silent probe `  *`.
pub(super) fn busybox_traceroute(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let parsed = super::getopt::parse("FIlnrdvt:i:m:p:q:s:w:z:f:46", &[], args)
        .map_err(|e| Output::fail(1, format!("traceroute: {e}\n{BUSYBOX_TRACEROUTE_USAGE}")))?;
    let Some(host) = parsed.operands.first() else { return Err(Output::fail(1, BUSYBOX_TRACEROUTE_USAGE.to_owned())) };
    let number = |key: &str, default: u32| -> Result<u32, Output> {
        parsed.value(key).map_or(Ok(default), |v| {
            v.parse::<u32>().map_err(|_| Output::fail(1, format!("traceroute: invalid number '{v}'\n")))
        })
    };
    let max = number("m", 30)?.clamp(1, 255) as u8;
    let probes = number("q", 3)?.clamp(1, 10);
    let icmp = parsed.has("I");
    let (protocol, port) = if icmp { (Protocol::Icmp, 0) } else { (Protocol::Udp, number("p", 33434)? as u16) };
    let to = target(host);
    let t = trace::trace(cluster, &request(client, to.clone(), port, protocol, seed))
        .map_err(|e| Output::fail(1, format!("traceroute: {e}\n")))?;
    let shown = traced(client, host, port, protocol, seed, t.clone());
    if t.verdict == Verdict::Nxdomain || dns_timed_out(&t) {
        return Ok(Output {
            text: format!("traceroute: bad address '{host}'\n"),
            status: 1,
            traced: shown,
            clear: false,
        });
    }
    let addr = resolved(&t, &to).unwrap_or(t.destination_ip);
    let numeric = parsed.has("n");
    let name = |ip: IpAddr| -> String {
        if numeric {
            return format!("  {ip}");
        }
        let ptr = dns::Dns::of(cluster).answer(cluster, &dns::kubernetes::to_reverse(ip), RType::Ptr);
        let n = ptr.answers.first().map_or(ip.to_string(), |r| r.data.trim_end_matches('.').to_owned());
        format!("  {n} ({ip})")
    };
    let times = |hops: usize, n: u8| -> String {
        (0..probes).map(|q| format!("  {} ms", busybox_ms(rtt(hops * 2, u32::from(n) * 3 + q, seed)))).collect()
    };
    let mut text = format!("traceroute to {host} ({addr}), {max} hops max, 46 byte packets\n");
    for (n, answer) in answers(cluster, &t, addr, max) {
        match answer {
            Some((ip, crossed)) => text.push_str(&format!("{n:>2}{}{}\n", name(ip), times(crossed, n))),
            None => text.push_str(&format!("{n:>2}{}\n", "  *".repeat(probes as usize))),
        }
    }
    Ok(Output { text, status: 0, traced: shown, clear: false })
}
