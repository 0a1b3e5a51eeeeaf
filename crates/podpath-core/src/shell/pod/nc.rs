//! OpenBSD netcat's `nc -z`: whether a port takes connections, in its
//! words (`Connection to HOST PORT port [tcp/SERVICE] succeeded!`).

use super::{dns_timed_out, request, resolved, target, traced, Client, Ran};
use crate::cluster::Protocol;
use crate::shell::Output;
use crate::trace::{self, To, Verdict};
use crate::Cluster;

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

/// One connection as nc makes it: its trace, what the page plays, the
/// destination as typed, and the address the name resolved to (`None`
/// when it did not resolve).
struct Attempt {
    t: trace::Trace,
    shown: Option<Box<crate::shell::Traced>>,
    to: To,
    addr: Option<std::net::IpAddr>,
}

fn connect(
    cluster: &Cluster,
    client: &Client,
    host: &str,
    port: u16,
    protocol: Protocol,
    seed: u64,
) -> Result<Attempt, Output> {
    let to = target(host);
    let t = trace::trace(cluster, &request(client, to.clone(), port, protocol, seed))
        .map_err(|e| Output::fail(1, format!("podpath: {e}\n")))?;
    let shown = traced(client, host, port, protocol, seed, t.clone());
    let unresolved = t.verdict == Verdict::Nxdomain || dns_timed_out(&t);
    let addr = (!unresolved).then(|| resolved(&t, &to).unwrap_or(t.destination_ip));
    Ok(Attempt { t, shown, to, addr })
}

pub(super) fn nc(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
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
    let Attempt { t, shown, to, addr } = connect(cluster, client, host, port, protocol, seed)?;
    let done = |text: String, status: u8| Ok(Output { text, status, traced: shown.clone(), clear: false });
    let Some(addr) = addr else {
        return done(format!("nc: getaddrinfo for host \"{host}\" port {port}: Name or service not known\n"), 1);
    };
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

/// BusyBox's usage text for nc, printed after an option it does not know.
const BUSYBOX_USAGE: &str = "BusyBox v1.36.1 (2023-11-07 18:53:09 UTC) multi-call binary.\n\nUsage: nc [OPTIONS] HOST PORT  - connect\nnc [OPTIONS] -l -p PORT [HOST] [PORT]  - listen\n\n\t-e PROG\tRun PROG after connect (must be last)\n\t-l\tListen mode, for inbound connects\n\t-lk\tWith -e, provides persistent server\n\t-p PORT\tLocal port\n\t-s ADDR\tLocal address\n\t-w SEC\tTimeout for connects and final net reads\n\t-i SEC\tDelay interval for lines sent\n\t-n\tDon't do DNS resolution\n\t-u\tUDP mode\n\t-b\tAllow broadcasts\n\t-v\tVerbose\n\t-o FILE\tHex dump traffic\n\t-z\tZero-I/O mode (scanning)\n";

/// BusyBox's nc as Alpine builds it (`CONFIG_NC_110_COMPAT`: the netcat
/// 1.10 port in networking/nc_bloaty.c). Once connected, `-v` prints
/// `HOST (ADDR:PORT) open` with the host as typed; a refused connection is
/// silent unless `-vv` (`o_verbose > 1 || (o_verbose && errno !=
/// ECONNREFUSED)`), and other failures print `nc: HOST (ADDR:PORT): ERROR`
/// in musl's words ("Operation timed out", "Host is unreachable"); a name
/// that does not resolve is `nc: bad address 'HOST'`.
pub(super) fn busybox(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let parsed = super::getopt::parse("np:s:ubvw:i:o:zlke:", &[], args)
        .map_err(|e| Output::fail(1, format!("nc: {e}\n{BUSYBOX_USAGE}")))?;
    if parsed.has("l") {
        return Err(Output::fail(
            1,
            "podpath: nc -l (listening) is not simulated; run nc against a pod that listens\n",
        ));
    }
    if let Some(w) = parsed.value("w").filter(|w| w.parse::<u32>().is_err()) {
        return Err(Output::fail(1, format!("nc: invalid number '{w}'\n")));
    }
    let verbose = parsed.count("v");
    let udp = parsed.has("u");
    let (Some(host), Some(port), None) = (parsed.operands.first(), parsed.operands.get(1), parsed.operands.get(2))
    else {
        return Err(Output::fail(1, BUSYBOX_USAGE.to_owned()));
    };
    let Some(port) = port.parse::<u16>().ok().filter(|p| *p != 0) else {
        return Err(Output::fail(1, BUSYBOX_USAGE.to_owned()));
    };
    let protocol = if udp { Protocol::Udp } else { Protocol::Tcp };
    let Attempt { t, shown, addr, .. } = connect(cluster, client, host, port, protocol, seed)?;
    let done = |text: String, status: u8| Ok(Output { text, status, traced: shown.clone(), clear: false });
    let Some(addr) = addr else { return done(format!("nc: bad address '{host}'\n"), 1) };
    let dotted = match addr {
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
        std::net::IpAddr::V4(a) => format!("{a}:{port}"),
    };
    // UDP has no handshake: connect() always succeeds.
    if t.verdict == Verdict::Delivered || udp {
        return done(if verbose > 0 { format!("{host} ({dotted}) open\n") } else { String::new() }, 0);
    }
    let (error, refused) = match t.verdict {
        _ if t.lost() => ("Operation timed out", false),
        Verdict::Rejected => ("Connection refused", true),
        _ => ("Host is unreachable", false),
    };
    let says = verbose > 1 || (verbose > 0 && !refused);
    done(if says { format!("nc: {host} ({dotted}): {error}\n") } else { String::new() }, 1)
}
