//! The tools inside a pod, each sending its packets through a real trace
//! and printing what the real tool prints for the outcome: iputils
//! `ping`, BIND 9.18's `nslookup` and `dig`, `curl` 8, BusyBox `wget`,
//! OpenBSD `nc`, iproute2 `ip`, `cat` of the files the kubelet writes,
//! `hostname`.
//!
//! podpath has no clock: times that a real tool measures (ping's round
//! trips) are modelled from the number of hops, and the waits a timeout
//! implies are reported, not spent.

use std::net::IpAddr;

use crate::cluster::Protocol;
use crate::dns::{self, resolver::ResolvConf, RType, Rcode};
use crate::shell::{Output, Traced};
use crate::trace::{self, From, Request, To, Trace, Verdict};
use crate::{Cluster, Pod};

pub(crate) const TOOLS: &[&str] =
    &["ping", "traceroute", "nslookup", "dig", "curl", "wget", "nc", "ip", "cat", "hostname"];

/// Who runs the tool.
#[derive(Clone, Debug)]
pub(crate) enum Client {
    /// The learner's machine, outside the cluster.
    Outside,
    Pod {
        key: String,
    },
}

impl Client {
    fn from(&self) -> From {
        match self {
            Client::Outside => From::External,
            Client::Pod { key, .. } => {
                let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
                From::Pod { namespace: namespace.into(), name: name.into() }
            }
        }
    }

    /// The source in `podpath trace`'s words.
    fn words(&self) -> String {
        match self {
            Client::Outside => "external".into(),
            Client::Pod { key, .. } => key.clone(),
        }
    }

    fn pod<'a>(&self, cluster: &'a Cluster) -> Option<&'a Pod> {
        match self {
            Client::Outside => None,
            Client::Pod { key, .. } => {
                let (ns, name) = key.split_once('/')?;
                cluster.pod(ns, name)
            }
        }
    }
}

pub(crate) fn run(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Output {
    let Some((cmd, rest)) = args.split_first() else { return Output::default() };
    let result = match cmd.as_str() {
        "curl" => curl(cluster, client, rest, seed),
        "ping" => ping(cluster, client, rest, seed),
        "traceroute" => traceroute(cluster, client, rest, seed),
        "nslookup" => nslookup(cluster, client, rest, seed),
        "dig" => dig(cluster, client, rest, seed),
        "wget" => wget(cluster, client, rest, seed),
        "nc" => nc(cluster, client, rest, seed),
        "ip" => ip(cluster, client, rest),
        "cat" => cat(cluster, client, rest),
        "hostname" => hostname(cluster, client, rest),
        _ => Err(Output::fail(127, format!("bash: {cmd}: command not found\n"))),
    };
    result.unwrap_or_else(|o| o)
}

type Ran = Result<Output, Output>;

fn request(client: &Client, to: To, port: u16, protocol: Protocol, seed: u64) -> Request {
    Request { from: client.from(), to, port, protocol, node: None, seed }
}

fn traced(client: &Client, to: &str, port: u16, protocol: Protocol, seed: u64, trace: Trace) -> Option<Box<Traced>> {
    Some(Box::new(Traced { from: client.words(), to: to.to_owned(), port, protocol, seed, trace, lookup: None }))
}

/// A host as the tool names it: an address, or a name to resolve.
fn target(host: &str) -> To {
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) => To::Ip(ip),
        Err(_) => To::Name(host.to_owned()),
    }
}

/// Whether a name lookup on the way timed out (no DNS answer came back).
fn dns_timed_out(t: &Trace) -> bool {
    t.dns.as_ref().is_some_and(|d| d.lookup.timed_out())
}

/// The address a trace went to, as the client resolved it.
fn resolved(t: &Trace, to: &To) -> Option<IpAddr> {
    match to {
        To::Ip(ip) => Some(*ip),
        _ => t.dns.as_ref().and_then(|d| d.address()).or(Some(t.destination_ip)),
    }
}

// ---------------------------------------------------------------- curl

fn curl(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let mut verbose = false;
    let mut head = false;
    let mut insecure = false;
    let mut silent = false;
    let mut show_error = false;
    let mut method: Option<String> = None;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut resolve: Vec<(String, u16, IpAddr)> = Vec::new();
    let mut max_time: Option<f64> = None;
    let mut url: Option<String> = None;
    let mut discard = false;
    let mut it = args.iter();
    let usage = |m: String| {
        Output::fail(2, format!("curl: {m}\ncurl: try 'curl --help' or 'curl --manual' for more information\n"))
    };
    while let Some(a) = it.next() {
        let mut value =
            |name: &str| it.next().cloned().ok_or_else(|| usage(format!("option {name}: requires parameter")));
        match a.as_str() {
            "-v" | "--verbose" => verbose = true,
            "-I" | "--head" => head = true,
            "-k" | "--insecure" => insecure = true,
            "-s" | "--silent" => silent = true,
            "-S" | "--show-error" => show_error = true,
            "-sS" | "-Ss" => (silent, show_error) = (true, true),
            "-sv" | "-vs" => (silent, verbose) = (true, true),
            "-sI" | "-Is" => (silent, head) = (true, true),
            "-kv" | "-vk" => (insecure, verbose) = (true, true),
            "-L" | "--location" | "-f" | "--fail" | "-4" | "-N" => {}
            "-X" | "--request" => method = Some(value(a)?),
            "-H" | "--header" => {
                let h = value(a)?;
                match h.split_once(':') {
                    Some((k, v)) => headers.push((k.trim().to_owned(), v.trim().to_owned())),
                    None => return Err(usage(format!("option {a}: bad header: {h}"))),
                }
            }
            "-o" | "--output" => discard = value(a)? == "/dev/null",
            "-m" | "--max-time" | "--connect-timeout" => {
                let v = value(a)?;
                max_time =
                    Some(v.parse().map_err(|_| usage(format!("option {a}: expected a proper numerical parameter")))?);
            }
            "--resolve" => {
                let v = value(a)?;
                let mut parts = v.splitn(3, ':');
                let (h, p, addr) = (parts.next(), parts.next(), parts.next());
                match (h, p.and_then(|p| p.parse().ok()), addr.and_then(|a| a.trim_matches(['[', ']']).parse().ok())) {
                    (Some(h), Some(p), Some(addr)) => resolve.push((h.to_owned(), p, addr)),
                    _ => return Err(usage(format!("option --resolve: bad argument: {v}"))),
                }
            }
            s if s.starts_with('-') && s.len() > 1 => return Err(usage(format!("option {s}: is unknown"))),
            s => url = Some(s.to_owned()),
        }
    }
    let Some(raw) = url else { return Err(usage("no URL specified".into())) };
    // curl guesses http:// for a URL without a scheme.
    let full = if raw.contains("://") { raw.clone() } else { format!("http://{raw}") };
    let dest = trace::target::parse_to(&full)
        .map_err(|_| Output::fail(3, "curl: (3) URL using bad/illegal format or missing URL\n"))?;
    let mut spec = dest.http.ok_or_else(|| {
        Output::fail(1, format!("curl: (1) Protocol \"{}\" not supported\n", full.split("://").next().unwrap_or("")))
    })?;
    let port = dest.port.unwrap_or(if spec.scheme == "https" { 443 } else { 80 });
    spec.method = method.unwrap_or_else(|| if head { "HEAD".into() } else { "GET".into() });
    spec.headers = headers;
    let host = spec
        .host_header
        .rsplit_once(':')
        .filter(|(_, p)| p.parse::<u16>().is_ok())
        .map_or(spec.host_header.clone(), |(h, _)| h.to_owned());
    let mut to = dest.to;
    if let Some((_, _, addr)) = resolve.iter().find(|(h, p, _)| *h == host && *p == port) {
        to = To::Ip(*addr);
    }
    let req = request(client, to.clone(), port, Protocol::Tcp, seed);
    let t = trace::trace_http(cluster, &req, &spec).map_err(|e| Output::fail(1, format!("podpath: {e}\n")))?;
    let shown = traced(client, &full, port, Protocol::Tcp, seed, t.clone());
    let quiet_errors = silent && !show_error;
    let fail = |code: u8, msg: String, v: &str| {
        let mut text = String::new();
        if verbose {
            text.push_str(v);
        }
        if !quiet_errors {
            text.push_str(&format!("curl: ({code}) {msg}\n"));
        }
        Output { text, status: code, traced: shown.clone(), clear: false }
    };
    let addr = match (&to, client) {
        (To::Ip(ip), _) => Some(*ip),
        (_, Client::Outside) => {
            dns::upstream(cluster, &host, RType::A).answers.first().and_then(|a| a.data.parse().ok())
        }
        _ => resolved(&t, &to),
    };
    if t.verdict == Verdict::Nxdomain || dns_timed_out(&t) || addr.is_none() {
        return Ok(fail(
            6,
            format!("Could not resolve host: {host}"),
            &format!("* Could not resolve host: {host}\n* Closing connection\n"),
        ));
    }
    let addr = addr.expect("checked");
    let mut v = String::new();
    if !matches!(to, To::Ip(_)) {
        v.push_str(&format!("* Host {host}:{port} was resolved.\n* IPv6: (none)\n* IPv4: {addr}\n"));
    }
    v.push_str(&format!("*   Trying {addr}:{port}...\n"));
    // The connection as far as it got: the first leg is the client's own.
    let first = t.legs.first().unwrap_or(&t);
    let src = first.hops.first().map(|h| (h.packet.src, h.packet.sport));
    match first.verdict {
        Verdict::Delivered => {}
        _ if first.lost() => {
            let (ms, msg) = match max_time {
                Some(s) => ((s * 1000.0) as u64 + 1, None),
                // The kernel gives up after tcp_syn_retries (6): 127 s.
                None => (127_000, Some(())),
            };
            let text = match msg {
                None => format!("Connection timed out after {ms} milliseconds"),
                Some(()) => {
                    format!("Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server")
                }
            };
            return Ok(fail(28, text, &v));
        }
        Verdict::Dropped | Verdict::Rejected | Verdict::Unreachable | Verdict::Nxdomain => {
            let why = if first.verdict == Verdict::Rejected { "Connection refused" } else { "No route to host" };
            if let Some((sip, sport)) = src {
                v.push_str(&format!("* connect to {addr} port {port} from {sip} port {sport} failed: {why}\n"));
            }
            v.push_str(&format!("* Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server\n* Closing connection\n"));
            return Ok(fail(
                7,
                format!("Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server"),
                &v,
            ));
        }
    }
    v.push_str(&format!("* Connected to {host} ({addr}) port {port}\n"));
    if spec.scheme == "https" && !insecure {
        v.push_str("* SSL certificate problem: self-signed certificate\n* Closing connection\n");
        let mut out = fail(60, "SSL certificate problem: self-signed certificate".into(), &v);
        if !quiet_errors {
            out.text.push_str("More details here: https://curl.se/docs/sslcerts.html\n\ncurl failed to verify the legitimacy of the server and therefore could not\nestablish a secure connection to it. To learn more about this situation and\nhow to fix it, please visit the web page mentioned above.\n");
        }
        return Ok(out);
    }
    let Some(http) = &t.http else {
        return Ok(fail(52, "Empty reply from server".into(), &v));
    };
    let (head_text, body) = http.response.split_once("\r\n\r\n").unwrap_or((http.response.as_str(), ""));
    let mut text = String::new();
    if verbose {
        text.push_str(&v);
        for line in http.request.split("\r\n") {
            if line.is_empty() {
                text.push_str("> \n");
                break;
            }
            text.push_str(&format!("> {line}\n"));
        }
        for line in head_text.split("\r\n") {
            text.push_str(&format!("< {line}\n"));
        }
        text.push_str("< \n");
    }
    if head {
        if !verbose {
            for line in head_text.split("\r\n") {
                text.push_str(&format!("{line}\n"));
            }
            text.push('\n');
        }
    } else if !discard {
        text.push_str(body);
    }
    if verbose {
        text.push_str(&format!("* Connection #0 to host {host} left intact\n"));
    }
    Ok(Output { text, status: 0, traced: shown, clear: false })
}

// ---------------------------------------------------------------- ping

/// A round trip as ping reports it, modelled: 40 µs per hop each way plus
/// a little per packet, so a longer path shows a longer time.
fn rtt(hops: usize, seq: u32, seed: u64) -> f64 {
    let jitter = (crate::names::fnv64a(format!("{seed} {seq}").as_bytes()) % 40) as f64;
    (hops as f64 * 40.0 + 30.0 + jitter) / 1000.0
}

fn ping(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let mut count: u32 = 4;
    let mut host = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" => {
                let v = it.next().ok_or_else(|| Output::fail(2, "ping: option requires an argument -- 'c'\n"))?;
                count = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    Output::fail(
                        1,
                        format!("ping: invalid argument: '{v}': out of range: 1 <= value <= 9223372036854775807\n"),
                    )
                })?;
            }
            s if s.starts_with("-c") && s.len() > 2 => {
                count =
                    s[2..].parse().map_err(|_| Output::fail(1, format!("ping: invalid argument: '{}'\n", &s[2..])))?
            }
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
    let Some(host) = host else {
        return Err(Output::fail(2, "ping: usage error: Destination address required\n"));
    };
    let to = target(&host);
    let t = trace::trace(cluster, &request(client, to.clone(), 0, Protocol::Icmp, seed))
        .map_err(|e| Output::fail(2, format!("ping: {e}\n")))?;
    let shown = traced(client, &host, 0, Protocol::Icmp, seed, t.clone());
    if t.verdict == Verdict::Nxdomain {
        return Ok(Output {
            text: format!("ping: {host}: Name or service not known\n"),
            status: 2,
            traced: shown,
            clear: false,
        });
    }
    if dns_timed_out(&t) {
        return Ok(Output {
            text: format!("ping: {host}: Temporary failure in name resolution\n"),
            status: 2,
            traced: shown,
            clear: false,
        });
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
    let hops = t.hops.len() + t.reply.len();
    let mut times = Vec::new();
    if answered {
        for seq in 1..=count {
            let ms = rtt(hops, seq, seed);
            times.push(ms);
            let from = match &reply_name {
                Some(n) => format!("{n} ({addr})"),
                None => addr.to_string(),
            };
            text.push_str(&format!("64 bytes from {from}: icmp_seq={seq} ttl={ttl} time={}\n", fmt_ms(ms)));
        }
    }
    // A REJECT answers each echo with "port unreachable" from the address
    // pinged: iputils prints it and counts errors.
    let refused = t.verdict == Verdict::Rejected;
    if refused {
        for seq in 1..=count {
            text.push_str(&format!("From {addr} icmp_seq={seq} Destination Port Unreachable\n"));
        }
    }
    let received = times.len() as u32;
    let loss = 100 * (count - received) / count;
    let elapsed = (count - 1) * 1000 + count;
    let errors = if refused { format!(", +{count} errors") } else { String::new() };
    text.push_str(&format!(
        "\n--- {shown_name} ping statistics ---\n{count} packets transmitted, {received} received{errors}, {loss}% packet loss, time {elapsed}ms\n"
    ));
    if !times.is_empty() {
        let min = times.iter().copied().fold(f64::MAX, f64::min);
        let max = times.iter().copied().fold(0.0, f64::max);
        let avg = times.iter().sum::<f64>() / times.len() as f64;
        let mdev = (times.iter().map(|t| (t - avg).powi(2)).sum::<f64>() / times.len() as f64).sqrt();
        text.push_str(&format!("rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms\n"));
    }
    Ok(Output { text, status: if answered { 0 } else { 1 }, traced: shown, clear: false })
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

// ---------------------------------------------------------------- traceroute

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
fn traceroute(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
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
    let network = crate::datapath::build(cluster);
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
        let Some(router) = reply_source(&network, cluster, node, back) else { continue };
        n += 1;
        text.push_str(&format!("{n:>2}  {}  {}\n", name(router), times(f.index + 1, n)));
    }
    if t.verdict == Verdict::Delivered {
        n += 1;
        text.push_str(&format!("{n:>2}  {}  {}\n", name(addr), times(t.hops.len(), n)));
    } else {
        while n < max {
            n += 1;
            text.push_str(&format!("{n:>2}  * * *\n"));
        }
    }
    Ok(Output { text, status: 0, traced: shown, clear: false })
}

// ---------------------------------------------------------------- DNS tools

fn resolv(cluster: &Cluster, client: &Client) -> ResolvConf {
    match client.pod(cluster) {
        Some(p) => dns::resolver::resolv_conf(cluster, p),
        None => dns::resolver::node_resolv_conf(cluster),
    }
}

/// A lookup made by a tool: the resolver's queries, each a traced UDP
/// exchange; `conf` decides the names tried and the server.
fn lookup(cluster: &Cluster, client: &Client, conf: ResolvConf, name: &str, qtype: RType, seed: u64) -> Ran2 {
    let req = request(client, To::Name(name.to_owned()), 53, Protocol::Udp, seed);
    trace::resolve_with(cluster, &req, conf, name, qtype).map_err(|e| Output::fail(1, format!("podpath: {e}\n")))
}

type Ran2 = Result<trace::Resolution, Output>;

fn dns_traced(client: &Client, res: &trace::Resolution, seed: u64) -> Option<Box<Traced>> {
    let t = res.wires.last()?.clone();
    let server = res.lookup.attempts.last().and_then(|a| a.server).map(|s| s.to_string()).unwrap_or_default();
    // The last query went with the lookup's seed plus its index.
    let mut shown = traced(client, &server, 53, Protocol::Udp, seed.wrapping_add(res.wires.len() as u64 - 1), t)?;
    shown.lookup = Some(Box::new(res.clone()));
    Some(shown)
}

fn nslookup(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let words: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let Some(name) = words.first() else {
        return Err(Output::fail(
            1,
            "nslookup: interactive mode is not available here; give a name: nslookup NAME [SERVER]\n",
        ));
    };
    let mut conf = resolv(cluster, client);
    if let Some(server) = words.get(1) {
        let ip = server
            .parse()
            .map_err(|_| Output::fail(1, format!("nslookup: couldn't get address for '{server}': not found\n")))?;
        conf.nameservers = vec![ip];
    }
    let (qname, qtype) = match name.parse::<IpAddr>() {
        Ok(ip) => (dns::kubernetes::to_reverse(ip), RType::Ptr),
        Err(_) => (name.to_string(), RType::A),
    };
    let res = lookup(cluster, client, conf.clone(), &qname, qtype, seed)?;
    let shown = dns_traced(client, &res, seed);
    if res.lookup.timed_out() {
        return Ok(Output {
            text: ";; connection timed out; no servers could be reached\n\n".into(),
            status: 1,
            traced: shown,
            clear: false,
        });
    }
    let server = conf.nameservers.first().map(|s| s.to_string()).unwrap_or_default();
    let mut text = format!("Server:\t\t{server}\nAddress:\t{server}#53\n\n");
    let Some(r) = res.lookup.answer() else {
        let rcode = res.lookup.last().map_or(Rcode::ServFail, |r| r.rcode);
        let why = if rcode == Rcode::NoError { "NXDOMAIN".to_owned() } else { rcode.as_str().to_owned() };
        text.push_str(&format!("** server can't find {name}: {why}\n\n"));
        return Ok(Output { text, status: 1, traced: shown, clear: false });
    };
    if !r.authoritative {
        text.push_str("Non-authoritative answer:\n");
    }
    for a in &r.answers {
        match a.rtype {
            RType::Cname => text.push_str(&format!("{}\tcanonical name = {}\n", a.name.trim_end_matches('.'), a.data)),
            RType::Ptr => text.push_str(&format!("{}\tname = {}\n", a.name.trim_end_matches('.'), a.data)),
            _ => text.push_str(&format!("Name:\t{}\nAddress: {}\n", a.name.trim_end_matches('.'), a.data)),
        }
    }
    text.push('\n');
    Ok(Output { text, status: 0, traced: shown, clear: false })
}

/// dig's version line names the build Debian 12 ships.
const DIG_VERSION: &str = "9.18.33-1~deb12u2-Debian";

fn dig(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let (mut short, mut search) = (false, false);
    let mut qtype = RType::A;
    let mut name: Option<String> = None;
    let mut server: Option<IpAddr> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "+short" => short = true,
            "+search" => search = true,
            "+nosearch" => search = false,
            s if s.starts_with('+') => {}
            "-x" => {
                let v = it.next().ok_or_else(|| Output::fail(1, "dig: option requires an argument: -x\n"))?;
                let ip: IpAddr = v
                    .parse()
                    .map_err(|_| Output::fail(1, format!("dig: '{v}' is not a legal IPv4 or IPv6 address\n")))?;
                name = Some(dns::kubernetes::to_reverse(ip));
                qtype = RType::Ptr;
            }
            "-t" => {
                let v = it.next().ok_or_else(|| Output::fail(1, "dig: option requires an argument: -t\n"))?;
                qtype = RType::parse(&v.to_ascii_uppercase())
                    .ok_or_else(|| Output::fail(1, format!("dig: invalid type: {v}\n")))?;
            }
            s if s.starts_with('@') => {
                server = Some(s[1..].parse().map_err(|_| {
                    Output::fail(10, format!("dig: couldn't get address for '{}': not found\n", &s[1..]))
                })?)
            }
            s if RType::parse(&s.to_ascii_uppercase()).is_some() && name.is_some() => {
                qtype = RType::parse(&s.to_ascii_uppercase()).expect("checked");
            }
            s => name = Some(s.to_owned()),
        }
    }
    let shown_args = args.join(" ");
    let name = name.unwrap_or_else(|| ".".into());
    let mut conf = resolv(cluster, client);
    if let Some(s) = server {
        conf.nameservers = vec![s];
    }
    // Without +search dig asks for the name as written, from the root.
    let asked = if search || name.ends_with('.') { name.clone() } else { format!("{name}.") };
    let res = lookup(cluster, client, conf.clone(), &asked, qtype, seed)?;
    let shown = dns_traced(client, &res, seed);
    let server = res.lookup.attempts.last().and_then(|a| a.server).or(conf.nameservers.first().copied());
    let server_text = server.map(|s| s.to_string()).unwrap_or_default();
    let Some(r) = res.lookup.last() else {
        let mut text = String::new();
        for _ in 0..3 {
            text.push_str(&format!(";; communications error to {server_text}#53: timed out\n"));
        }
        if !short {
            text.push_str(&format!("\n; <<>> DiG {DIG_VERSION} <<>> {shown_args}\n;; global options: +cmd\n"));
        }
        text.push_str(";; no servers could be reached\n");
        if !short {
            text.push('\n');
        }
        return Ok(Output { text, status: 9, traced: shown, clear: false });
    };
    if short {
        let text: String = r.answers.iter().map(|a| format!("{}\n", a.data)).collect();
        return Ok(Output { text, status: 0, traced: shown, clear: false });
    }
    let qname =
        res.lookup.attempts.iter().rev().find(|a| a.response.is_some()).map_or(asked.clone(), |a| a.name.clone());
    let id = (crate::names::fnv64a(format!("{qname} {seed}").as_bytes()) & 0xffff) as u16;
    let flags = if r.authoritative { "qr aa rd" } else { "qr rd ra" };
    let mut text = format!(
        "\n; <<>> DiG {DIG_VERSION} <<>> {shown_args}\n;; global options: +cmd\n;; Got answer:\n;; ->>HEADER<<- opcode: QUERY, status: {}, id: {id}\n;; flags: {flags}; QUERY: 1, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}\n",
        r.rcode.as_str(),
        r.answers.len(),
        r.authority.len(),
        r.additional.len() + 1
    );
    if r.authoritative {
        text.push_str(";; WARNING: recursion requested but not available\n");
    }
    text.push_str("\n;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n");
    text.push_str(";; QUESTION SECTION:\n");
    text.push_str(&columns(&[(&format!(";{qname}"), 32), ("IN", 40), (qtype.as_str(), 0)]));
    text.push('\n');
    section(&mut text, "ANSWER", &r.answers);
    section(&mut text, "AUTHORITY", &r.authority);
    section(&mut text, "ADDITIONAL", &r.additional);
    let size = dns::wire::response(id, &qname, qtype, r).len() + 11;
    text.push_str(&format!(
        "\n;; Query time: 0 msec\n;; SERVER: {server_text}#53({server_text}) (UDP)\n;; MSG SIZE  rcvd: {size}\n\n"
    ));
    Ok(Output { text, status: 0, traced: shown, clear: false })
}

fn section(out: &mut String, title: &str, records: &[dns::Record]) {
    if records.is_empty() {
        return;
    }
    out.push_str(&format!("\n;; {title} SECTION:\n"));
    for r in records {
        out.push_str(&columns(&[
            (&r.name, 24),
            (&r.ttl.to_string(), 32),
            ("IN", 40),
            (r.rtype.as_str(), 48),
            (&r.data, 0),
        ]));
        out.push('\n');
    }
}

/// dig's master-file layout: each field starts at its tab stop (tabs of
/// eight), or one space after the last when that is already past it. Each
/// pair is a field and the column the next one starts at.
fn columns(fields: &[(&str, usize)]) -> String {
    let mut out = String::new();
    let mut col = 0;
    for (text, next) in fields {
        out.push_str(text);
        col += text.chars().count();
        if *next == 0 {
            break;
        }
        if col >= *next {
            out.push(' ');
            col += 1;
        } else {
            while col < *next {
                out.push('\t');
                col = (col / 8 + 1) * 8;
            }
        }
    }
    out
}

// ---------------------------------------------------------------- wget, nc

fn wget(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let (mut quiet, mut to_stdout, mut spider) = (false, false, false);
    let mut url = None;
    let mut headers = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-q" => quiet = true,
            "-qO-" | "-qO" => {
                quiet = true;
                to_stdout = a == "-qO-" || it.next().is_some_and(|v| v == "-");
            }
            "-O-" => to_stdout = true,
            "-O" => to_stdout = it.next().is_some_and(|v| v == "-"),
            "--spider" => spider = true,
            "-T" | "--timeout" => {
                it.next();
            }
            "-U" | "--user-agent" => {
                if let Some(v) = it.next() {
                    headers.push(("User-Agent".to_owned(), v.clone()));
                }
            }
            "--header" => {
                if let Some((k, v)) = it.next().and_then(|h| h.split_once(':')) {
                    headers.push((k.trim().to_owned(), v.trim().to_owned()));
                }
            }
            s if s.starts_with('-') => {
                return Err(Output::fail(1, format!("wget: unrecognized option '{s}'\nBusyBox v1.36.1 (2023-11-07 18:53:09 UTC) multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n")))
            }
            s => url = Some(s.to_owned()),
        }
    }
    let Some(raw) = url else { return Err(Output::fail(1, "wget: missing URL\n")) };
    let full = if raw.contains("://") { raw.clone() } else { format!("http://{raw}") };
    let dest = trace::target::parse_to(&full)
        .map_err(|_| Output::fail(1, format!("wget: not an http or ftp url: {raw}\n")))?;
    let mut spec = dest.http.ok_or_else(|| Output::fail(1, format!("wget: not an http or ftp url: {raw}\n")))?;
    // BusyBox's --spider asks with GET too, and reads only the headers.
    spec.client = crate::http::Client::BusyboxWget;
    spec.headers = headers;
    let port = dest.port.unwrap_or(if spec.scheme == "https" { 443 } else { 80 });
    let host = spec.host_header.split(':').next().unwrap_or("").to_owned();
    let to = dest.to;
    let t = trace::trace_http(cluster, &request(client, to.clone(), port, Protocol::Tcp, seed), &spec)
        .map_err(|e| Output::fail(1, format!("podpath: {e}\n")))?;
    let shown = traced(client, &full, port, Protocol::Tcp, seed, t.clone());
    let done = |text: String, status: u8| Ok(Output { text, status, traced: shown.clone(), clear: false });
    if t.verdict == Verdict::Nxdomain || dns_timed_out(&t) {
        return done(format!("wget: bad address '{host}'\n"), 1);
    }
    let addr = resolved(&t, &to).unwrap_or(t.destination_ip);
    let mut text = if quiet { String::new() } else { format!("Connecting to {host} ({addr}:{port})\n") };
    let first = t.legs.first().unwrap_or(&t);
    match first.verdict {
        Verdict::Delivered => {}
        _ if first.lost() => return done(text + "wget: download timed out\n", 1),
        Verdict::Rejected => {
            return done(text + &format!("wget: can't connect to remote host ({addr}): Connection refused\n"), 1)
        }
        _ => return done(text + &format!("wget: can't connect to remote host ({addr}): No route to host\n"), 1),
    }
    let Some(http) = &t.http else { return done(text, 1) };
    let status_line = http.response.split("\r\n").next().unwrap_or("");
    if http.status >= 400 {
        return done(text + &format!("wget: server returned error: {status_line}\n"), 1);
    }
    if spider {
        return done(text + "remote file exists\n", 0);
    }
    let body = http.response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let (file, saved) =
        if to_stdout { ("-", "written to stdout".to_owned()) } else { ("index.html", "'index.html' saved".to_owned()) };
    if !quiet {
        text.push_str(if to_stdout { "writing to stdout\n" } else { "saving to 'index.html'\n" });
    }
    if to_stdout {
        text.push_str(body);
    }
    if !quiet {
        text.push_str(&format!("{file:<20} 100% |{}| {:>5}  0:00:00 ETA\n{saved}\n", "*".repeat(32), body.len()));
    }
    done(text, 0)
}

/// The service name /etc/services gives a port, as nc prints it.
fn service_name(port: u16, udp: bool) -> &'static str {
    match (port, udp) {
        (53, _) => "domain",
        (22, false) => "ssh",
        (80, false) => "http",
        (443, false) => "https",
        (8080, false) => "http-alt",
        (3306, false) => "mysql",
        (5432, false) => "postgresql",
        (6379, false) => "redis",
        (123, true) => "ntp",
        _ => "*",
    }
}

fn nc(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let (mut udp, mut verbose, mut wait) = (false, false, None::<u32>);
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-w" => wait = it.next().and_then(|v| v.parse().ok()),
            s if s.starts_with('-') => {
                for c in s[1..].chars() {
                    match c {
                        'z' | 'n' => {}
                        'v' => verbose = true,
                        'u' => udp = true,
                        _ => return Err(Output::fail(1, format!("nc: invalid option -- '{c}'\nusage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n\t  [destination] [port]\n"))),
                    }
                }
            }
            s => rest.push(s.to_owned()),
        }
    }
    let (Some(host), Some(port)) = (rest.first(), rest.get(1)) else {
        return Err(Output::fail(1, "usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n\t  [destination] [port]\n"));
    };
    let port: u16 = port.parse().map_err(|_| Output::fail(1, format!("nc: port number invalid: {port}\n")))?;
    let protocol = if udp { Protocol::Udp } else { Protocol::Tcp };
    let to = target(host);
    let t = trace::trace(cluster, &request(client, to.clone(), port, protocol, seed))
        .map_err(|e| Output::fail(1, format!("podpath: {e}\n")))?;
    let shown = traced(client, host, port, protocol, seed, t.clone());
    let done = |text: String, status: u8| Ok(Output { text, status, traced: shown.clone(), clear: false });
    if t.verdict == Verdict::Nxdomain || dns_timed_out(&t) {
        return done(format!("nc: getaddrinfo for host \"{host}\" port {port}: Name or service not known\n"), 1);
    }
    let addr = resolved(&t, &to).unwrap_or(t.destination_ip);
    let named = if matches!(to, To::Ip(_)) { host.clone() } else { format!("{host} ({addr})") };
    let svc = service_name(port, udp);
    // UDP has no handshake: connect() always succeeds.
    if t.verdict == Verdict::Delivered || udp {
        let text = if verbose {
            format!("Connection to {named} {port} port [{}/{svc}] succeeded!\n", protocol.name())
        } else {
            String::new()
        };
        return done(text, 0);
    }
    let why = match (t.verdict, wait) {
        (_, Some(_)) if t.lost() => "timed out: Operation now in progress",
        _ if t.lost() => "failed: Connection timed out",
        (Verdict::Rejected, _) => "failed: Connection refused",
        _ => "failed: No route to host",
    };
    done(
        if verbose {
            format!("nc: connect to {named} port {port} ({}) {why}\n", protocol.name())
        } else {
            String::new()
        },
        1,
    )
}

// ---------------------------------------------------------------- files, ip

fn ip(cluster: &Cluster, client: &Client, args: &[String]) -> Ran {
    let Client::Pod { key, .. } = client else { return Err(Output::fail(127, "bash: ip: command not found\n")) };
    let network = crate::datapath::build(cluster);
    let ns = network.nodes.iter().find_map(|n| n.pods.get(key));
    let ns = match ns {
        Some(ns) => ns,
        // A host-network pod sees its node's interfaces.
        None => {
            let node = client.pod(cluster).and_then(|p| p.node.clone()).unwrap_or_default();
            &network.node(&node).ok_or_else(|| Output::fail(1, "Cannot open netlink socket\n"))?.host
        }
    };
    let obj = args.iter().find(|a| !a.starts_with('-')).map(String::as_str).unwrap_or("");
    let text = match obj {
        "a" | "addr" | "address" => ns.ip_addr(),
        "r" | "ro" | "route" => ns.ip_route(),
        "n" | "neigh" | "neighbor" => ns.ip_neigh(),
        "" => return Err(Output::fail(255, "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\nwhere  OBJECT := { address | route | neigh | link | ... }\n")),
        other => return Err(Output::fail(255, format!("Object \"{other}\" is unknown, try \"ip help\".\n"))),
    };
    Ok(Output::ok(text))
}

/// The pod's /etc/hosts as the kubelet writes it
/// (`pkg/kubelet/kubelet_pods.go`: the managed header, the default
/// entries, the pod's own address and name, then hostAliases).
fn hosts_file(cluster: &Cluster, p: &Pod) -> String {
    let mut out = if p.host_network {
        "# Kubernetes-managed hosts file (host network).\n".to_owned()
    } else {
        "# Kubernetes-managed hosts file.\n".to_owned()
    };
    out.push_str("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n");
    if let Some(ip) = p.ip {
        let host = p.spec.hostname.clone().unwrap_or_else(|| p.name.clone());
        match &p.spec.subdomain {
            Some(sub) => {
                let domain = &cluster.settings.dns_domain;
                out.push_str(&format!("{ip}\t{host}.{sub}.{}.svc.{domain}\t{host}\n", p.namespace));
            }
            None => out.push_str(&format!("{ip}\t{host}\n")),
        }
    }
    let aliases: Vec<_> = p.spec.host_aliases.iter().flatten().collect();
    if !aliases.is_empty() {
        out.push_str("\n# Entries added by HostAliases.\n");
        for a in aliases {
            out.push_str(&format!("{}\t{}\n", a.ip, a.hostnames.clone().unwrap_or_default().join("\t")));
        }
    }
    out
}

fn cat(cluster: &Cluster, client: &Client, args: &[String]) -> Ran {
    let mut out = Output::default();
    let p = client.pod(cluster);
    for f in args {
        let text = match (f.as_str(), p) {
            ("/etc/resolv.conf", _) => Some(resolv(cluster, client).render()),
            ("/etc/hosts", Some(p)) => Some(hosts_file(cluster, p)),
            ("/etc/hostname", Some(p)) => {
                Some(format!("{}\n", p.spec.hostname.clone().unwrap_or_else(|| p.name.clone())))
            }
            _ => None,
        };
        match text {
            Some(t) => out.text.push_str(&t),
            None => {
                out.text.push_str(&format!("cat: {f}: No such file or directory\n"));
                out.status = 1;
            }
        }
    }
    Ok(out)
}

fn hostname(cluster: &Cluster, client: &Client, args: &[String]) -> Ran {
    let p = client.pod(cluster).ok_or_else(|| Output::fail(127, "bash: hostname: command not found\n"))?;
    let text = match args.first().map(String::as_str) {
        Some("-i" | "-I") => format!("{}\n", p.ip.map(|ip| ip.to_string()).unwrap_or_default()),
        _ => format!("{}\n", p.spec.hostname.clone().unwrap_or_else(|| p.name.clone())),
    };
    Ok(Output::ok(text))
}
