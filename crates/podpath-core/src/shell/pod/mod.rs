//! The tools inside a pod, each sending its packets through a real trace
//! and printing what the real tool prints for the outcome: iputils
//! `ping`, BIND 9.18's `nslookup` and `dig`, `curl` 8, BusyBox `wget`,
//! OpenBSD `nc`, iproute2 `ip`, `cat` of the files the kubelet writes,
//! `hostname`; in a BusyBox image (`image.rs`) BusyBox's own `ping`,
//! `traceroute`, `nslookup` and `nc`.
//!
//! podpath has no clock: times that a real tool measures (ping's round
//! trips) are modelled from the number of hops, and the waits a timeout
//! implies are reported, not spent.

mod getopt;
mod icmp;
mod image;
mod lookups;
mod nc;
mod web;

pub use image::Toolset;

use std::net::IpAddr;

use crate::cluster::Protocol;
use crate::shell::{Output, Traced};
use crate::trace::{From, Request, To, Trace};
use crate::{Cluster, Pod};

pub(crate) const TOOLS: &[&str] =
    &["ping", "traceroute", "nslookup", "dig", "curl", "wget", "nc", "ip", "cat", "hostname"];

/// Who runs the tool.
#[derive(Clone, Debug)]
pub(crate) enum Client {
    /// The learner's machine, outside the cluster.
    Outside,
    /// A pod's container, with the tools its image ships.
    Pod { key: String, tools: Toolset },
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
    let tools = match client {
        Client::Pod { tools, .. } => *tools,
        Client::Outside => Toolset::Full,
    };
    if !tools.has(cmd) {
        return Output::fail(127, tools.not_found(cmd));
    }
    let result = match cmd.as_str() {
        "curl" => web::curl(cluster, client, rest, seed),
        "ping" if tools == Toolset::BusyBox => icmp::busybox_ping(cluster, client, rest, seed),
        "ping" => icmp::ping(cluster, client, rest, seed),
        "traceroute" if tools == Toolset::BusyBox => icmp::busybox_traceroute(cluster, client, rest, seed),
        "traceroute" => icmp::traceroute(cluster, client, rest, seed),
        "nslookup" if tools == Toolset::BusyBox => lookups::busybox_nslookup(cluster, client, rest, seed),
        "nslookup" => lookups::nslookup(cluster, client, rest, seed),
        "dig" => lookups::dig(cluster, client, rest, seed),
        "wget" => web::wget(cluster, client, rest, seed),
        "nc" if tools == Toolset::BusyBox => nc::busybox(cluster, client, rest, seed),
        "nc" => nc::nc(cluster, client, rest, seed),
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

fn ip(cluster: &Cluster, client: &Client, args: &[String]) -> Ran {
    let Client::Pod { key, .. } = client else { return Err(Output::fail(127, "bash: ip: command not found\n")) };
    let network = cluster.network();
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
            ("/etc/resolv.conf", _) => Some(lookups::resolv(cluster, client).render()),
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
