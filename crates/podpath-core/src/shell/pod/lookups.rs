//! The DNS tools: BIND 9.18's `nslookup` and `dig`, each query a traced
//! UDP packet to the name server, the answers as the core renders them in
//! each tool's layout.

use std::net::IpAddr;

use super::{request, traced, Client, Ran};
use crate::cluster::Protocol;
use crate::dns::show::{Dig, Nslookup};
use crate::dns::{self, resolver::ResolvConf, RType};
use crate::shell::{Output, Traced};
use crate::trace::{self, To};
use crate::Cluster;

pub(super) fn resolv(cluster: &Cluster, client: &Client) -> ResolvConf {
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

/// BIND's nslookup: `nslookup NAME [SERVER]`, an address asks for its name.
pub(super) fn nslookup(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
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
    let out = Nslookup { name, server: conf.nameservers.first().copied(), lookup: &res.lookup };
    Ok(Output { text: out.to_string(), status: out.status(), traced: shown, clear: false })
}

/// dig's version line names the build Debian 12 ships.
const DIG_VERSION: &str = "9.18.33-1~deb12u2-Debian";

/// dig's options, as far as podpath reads them.
#[derive(Debug, Default)]
struct DigArgs {
    short: bool,
    search: bool,
    qtype: Option<RType>,
    name: Option<String>,
    server: Option<IpAddr>,
}

impl DigArgs {
    fn parse(args: &[String]) -> Result<DigArgs, Output> {
        let mut o = DigArgs::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "+short" => o.short = true,
                "+search" => o.search = true,
                "+nosearch" => o.search = false,
                s if s.starts_with('+') => {}
                "-x" => {
                    let v = it.next().ok_or_else(|| Output::fail(1, "dig: option requires an argument: -x\n"))?;
                    let ip: IpAddr = v
                        .parse()
                        .map_err(|_| Output::fail(1, format!("dig: '{v}' is not a legal IPv4 or IPv6 address\n")))?;
                    o.name = Some(dns::kubernetes::to_reverse(ip));
                    o.qtype = Some(RType::Ptr);
                }
                "-t" => {
                    let v = it.next().ok_or_else(|| Output::fail(1, "dig: option requires an argument: -t\n"))?;
                    let t = RType::parse(&v.to_ascii_uppercase());
                    o.qtype = Some(t.ok_or_else(|| Output::fail(1, format!("dig: invalid type: {v}\n")))?);
                }
                s if s.starts_with('@') => {
                    let bad = || Output::fail(10, format!("dig: couldn't get address for '{}': not found\n", &s[1..]));
                    o.server = Some(s[1..].parse().map_err(|_| bad())?);
                }
                s if RType::parse(&s.to_ascii_uppercase()).is_some() && o.name.is_some() => {
                    o.qtype = RType::parse(&s.to_ascii_uppercase());
                }
                s => o.name = Some(s.to_owned()),
            }
        }
        Ok(o)
    }
}

/// BIND 9.18's dig: its banner, the response's sections in dig's columns
/// and its statistics; `+short` the data alone; without `+search` the name
/// as written, from the root.
pub(super) fn dig(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let o = DigArgs::parse(args)?;
    let qtype = o.qtype.unwrap_or(RType::A);
    let shown_args = args.join(" ");
    let name = o.name.clone().unwrap_or_else(|| ".".into());
    let mut conf = resolv(cluster, client);
    if let Some(s) = o.server {
        conf.nameservers = vec![s];
    }
    let asked = if o.search || name.ends_with('.') { name.clone() } else { format!("{name}.") };
    let res = lookup(cluster, client, conf.clone(), &asked, qtype, seed)?;
    let shown = dns_traced(client, &res, seed);
    let server = res.lookup.attempts.last().and_then(|a| a.server).or(conf.nameservers.first().copied());
    let server_text = server.map(|s| s.to_string()).unwrap_or_default();
    let banner = format!("\n; <<>> DiG {DIG_VERSION} <<>> {shown_args}\n;; global options: +cmd\n");
    let Some(r) = res.lookup.last() else {
        let mut text = format!(";; communications error to {server_text}#53: timed out\n").repeat(3);
        if !o.short {
            text.push_str(&banner);
        }
        text.push_str(";; no servers could be reached\n");
        if !o.short {
            text.push('\n');
        }
        return Ok(Output { text, status: 9, traced: shown, clear: false });
    };
    if o.short {
        let text: String = r.answers.iter().map(|a| format!("{}\n", a.data)).collect();
        return Ok(Output { text, status: 0, traced: shown, clear: false });
    }
    let qname =
        res.lookup.attempts.iter().rev().find(|a| a.response.is_some()).map_or(asked.clone(), |a| a.name.clone());
    let id = dns::wire::query_id(&qname, seed);
    let size = dns::wire::response(id, &qname, qtype, r).len() + 11;
    let answer = Dig { response: r, qname: &qname, qtype, id };
    let text = format!(
        "{banner};; Got answer:\n{answer}\n;; Query time: 0 msec\n;; SERVER: {server_text}#53({server_text}) (UDP)\n;; MSG SIZE  rcvd: {size}\n\n"
    );
    Ok(Output { text, status: 0, traced: shown, clear: false })
}

/// BusyBox's usage text for nslookup (networking/nslookup.c, `FEATURE_NSLOOKUP_BIG`).
const BUSYBOX_NSLOOKUP_USAGE: &str = "BusyBox v1.36.1 (2023-11-07 18:53:09 UTC) multi-call binary.\n\nUsage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n\nQuery DNS about HOST\n\nQUERY_TYPE: soa,ns,a,aaaa,cname,mx,txt,ptr,srv,any\n";

/// BusyBox's nslookup (networking/nslookup.c, its own resolver): an
/// address asks for its PTR, a name for A and AAAA; a name without a dot
/// is asked once per search domain of resolv.conf and never as written
/// (`add_query_with_search`: ndots is not read), a name with a dot or a
/// server on the command line as written. The header once, then per reply
/// `** server can't find NAME: RCODE` or the answers (`parse_reply`:
/// `Name:\tNAME\nAddress: ADDR`, `NAME\tname = TARGET`, …), each followed
/// by a blank line — so an empty AAAA answer is only a blank line. It
/// exits 1 when any reply was an error, so `nslookup web` in a pod
/// exits 1 even when it found the Service.
pub(super) fn busybox_nslookup(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let usage = || Output::fail(1, BUSYBOX_NSLOOKUP_USAGE.to_owned());
    let mut types: Vec<RType> = Vec::new();
    let mut words = args.iter().peekable();
    while let Some(opt) = words.next_if(|w| w.starts_with('-')) {
        let (key, value) = opt[1..].split_once('=').unwrap_or((&opt[1..], ""));
        match key {
            "type" | "querytype" => {
                let t = ["soa", "ns", "a", "aaaa", "cname", "mx", "txt", "ptr", "srv"]
                    .iter()
                    .find(|t| t.eq_ignore_ascii_case(value))
                    .and_then(|t| RType::parse(t))
                    .ok_or_else(|| Output::fail(1, format!("nslookup: invalid query type \"{value}\"\n")))?;
                types.push(t);
            }
            "port" | "retry" | "debug" | "t" | "timeout" => {}
            _ => return Err(usage()),
        }
    }
    let rest: Vec<&String> = words.collect();
    let (name, server) = match rest.as_slice() {
        [name] => (name.as_str(), None),
        [name, server] => (name.as_str(), Some(server.as_str())),
        _ => return Err(usage()),
    };
    let mut conf = resolv(cluster, client);
    if let Some(s) = server {
        let ip = s.parse().map_err(|_| Output::fail(1, format!("nslookup: bad address '{s}'\n")))?;
        conf = ResolvConf { nameservers: vec![ip], search: Vec::new(), options: Vec::new() };
    }
    let mut queries: Vec<(String, RType)> = Vec::new();
    let ptr = name.parse::<IpAddr>().ok().filter(|_| types.is_empty());
    if let Some(ip) = ptr {
        queries.push((dns::kubernetes::to_reverse(ip).trim_end_matches('.').to_owned(), RType::Ptr));
    } else {
        if types.is_empty() {
            types = vec![RType::A, RType::Aaaa];
        }
        for t in types {
            if t == RType::Ptr || conf.search.is_empty() || name.contains('.') {
                queries.push((name.to_owned(), t));
            } else {
                queries.extend(conf.search.iter().map(|d| (format!("{name}.{d}"), t)));
            }
        }
    }
    // Each query exactly as built: no search list, from the root.
    let exact = ResolvConf { search: Vec::new(), ..conf.clone() };
    let mut replies = Vec::new();
    for (i, (qname, qtype)) in queries.iter().enumerate() {
        let res =
            lookup(cluster, client, exact.clone(), &format!("{qname}."), *qtype, seed.wrapping_add(8 * i as u64))?;
        replies.push((qname.clone(), res));
    }
    let shown = replies
        .iter()
        .find(|(_, r)| r.lookup.last().is_some_and(dns::Response::has_answer))
        .or(replies.first())
        .and_then(|(_, r)| dns_traced(client, r, seed));
    let server = conf.nameservers.first().map(ToString::to_string).unwrap_or_else(|| "127.0.0.1".into());
    if replies.iter().all(|(_, r)| r.lookup.last().is_none()) {
        let text = ";; connection timed out; no servers could be reached\n\n".to_owned();
        return Ok(Output { text, status: 1, traced: shown, clear: false });
    }
    let mut text = format!("Server:\t\t{server}\nAddress:\t{server}:53\n\n");
    let mut failed = false;
    for (qname, res) in &replies {
        let Some(r) = res.lookup.last() else { continue };
        if r.rcode != dns::Rcode::NoError {
            text.push_str(&format!("** server can't find {qname}: {}\n", r.rcode.as_str()));
            failed = true;
        } else {
            if !r.authoritative {
                text.push_str("Non-authoritative answer:\n");
            }
            text.push_str(&busybox_answers(r));
        }
        text.push('\n');
    }
    for (qname, _) in replies.iter().filter(|(_, r)| r.lookup.last().is_none()) {
        text.push_str(&format!("*** Can't find {qname}: No answer\n"));
        failed = true;
    }
    Ok(Output { text, status: u8::from(failed), traced: shown, clear: false })
}

/// A reply's answers as BusyBox's `parse_reply` prints them: names without
/// their final dot; the format of a name-valued record is the first such
/// record's (it is set once per reply).
fn busybox_answers(r: &dns::Response) -> String {
    let bare = |s: &str| s.trim_end_matches('.').to_owned();
    let mut format: Option<&str> = None;
    let mut out = String::new();
    for a in &r.answers {
        let name = bare(&a.name);
        match a.rtype {
            RType::A | RType::Aaaa => out.push_str(&format!("Name:\t{name}\nAddress: {}\n", a.data)),
            RType::Ns | RType::Cname | RType::Ptr => {
                let f = *format.get_or_insert(match a.rtype {
                    RType::Ns => "nameserver",
                    RType::Cname => "canonical name",
                    _ => "name",
                });
                out.push_str(&format!("{name}\t{f} = {}\n", bare(&a.data)));
            }
            RType::Txt => out.push_str(&format!("{name}\ttext = {}\n", a.data)),
            RType::Srv => {
                let f: Vec<&str> = a.data.split_whitespace().collect();
                if let [p, w, port, target] = f.as_slice() {
                    out.push_str(&format!("{name}\tservice = {p} {w} {port} {}\n", bare(target)));
                }
            }
            RType::Soa => {
                let f: Vec<&str> = a.data.split_whitespace().collect();
                if let [origin, mail, serial, refresh, retry, expire, minimum] = f.as_slice() {
                    out.push_str(&format!(
                        "{name}\n\torigin = {}\n\tmail addr = {}\n\tserial = {serial}\n\trefresh = {refresh}\n\tretry = {retry}\n\texpire = {expire}\n\tminimum = {minimum}\n",
                        bare(origin),
                        bare(mail)
                    ));
                }
            }
            RType::Other(_) => {}
        }
    }
    out
}
