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
