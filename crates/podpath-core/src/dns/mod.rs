//! DNS as a cluster answers it: CoreDNS configured by its real Corefile
//! (the `coredns` ConfigMap in kube-system, kubeadm's when the input has
//! none), the `kubernetes` plugin's records per the Kubernetes DNS
//! specification, and the pod's resolver (`/etc/resolv.conf` per
//! `dnsPolicy`, the search list with `ndots`).
//!
//! - [`corefile`] reads the Corefile;
//! - [`server`](Server::answer) runs one query through a server block's
//!   plugins in CoreDNS's order (rewrite, hosts, kubernetes, forward);
//! - [`kubernetes`] holds the plugin's answers;
//! - [`resolver`] writes a pod's resolv.conf and expands a name into the
//!   queries a glibc resolver sends.
//!
//! Names outside the cluster go to `forward`, whose upstream is the
//! node's resolver. podpath has no internet: that upstream is simulated
//! (see [`upstream`]) and says so in every answer it gives.

pub mod corefile;
pub mod kubernetes;
pub mod resolver;
pub mod show;
pub mod wire;

use std::fmt;
use std::net::IpAddr;

use crate::cluster::Cluster;
use crate::diag::Diagnostic;
use crate::names::fnv64a;

pub use corefile::{PodMode, Server};

/// A record type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum RType {
    A,
    Aaaa,
    Cname,
    Ns,
    Ptr,
    Soa,
    Srv,
    Txt,
    /// A type no plugin podpath models makes records of (HINFO, MX, CAA…),
    /// by its number: CoreDNS answers it NODATA where the name exists and
    /// NXDOMAIN where it does not (see [`Dns::answer`]).
    Other(u16),
}

/// Types asked by name that no modelled plugin has records of (IANA's
/// registry numbers); others are written `TYPEn` (RFC 3597).
const OTHER_TYPES: &[(&str, u16)] = &[
    ("HINFO", 13),
    ("MX", 15),
    ("RP", 17),
    ("AFSDB", 18),
    ("LOC", 29),
    ("NAPTR", 35),
    ("CERT", 37),
    ("DNAME", 39),
    ("DS", 43),
    ("SSHFP", 44),
    ("RRSIG", 46),
    ("NSEC", 47),
    ("DNSKEY", 48),
    ("NSEC3", 50),
    ("TLSA", 52),
    ("SVCB", 64),
    ("HTTPS", 65),
    ("SPF", 99),
    ("URI", 256),
    ("CAA", 257),
];

impl RType {
    pub fn parse(s: &str) -> Option<RType> {
        let upper = s.to_ascii_uppercase();
        Some(match upper.as_str() {
            "A" => RType::A,
            "AAAA" => RType::Aaaa,
            "CNAME" => RType::Cname,
            "NS" => RType::Ns,
            "PTR" => RType::Ptr,
            "SOA" => RType::Soa,
            "SRV" => RType::Srv,
            "TXT" => RType::Txt,
            other => {
                let n = OTHER_TYPES
                    .iter()
                    .find(|(name, _)| *name == other)
                    .map(|(_, n)| *n)
                    .or_else(|| other.strip_prefix("TYPE").and_then(|n| n.parse().ok()))?;
                // Zone transfers, the meta types and the modelled types by
                // number are not asked this way.
                if matches!(n, 0 | 1 | 2 | 5 | 6 | 12 | 16 | 28 | 33 | 41 | 249..=255) {
                    return None;
                }
                RType::Other(n)
            }
        })
    }

    /// Its name as dig prints it.
    pub fn name(self) -> String {
        match self {
            RType::A => "A".into(),
            RType::Aaaa => "AAAA".into(),
            RType::Cname => "CNAME".into(),
            RType::Ns => "NS".into(),
            RType::Ptr => "PTR".into(),
            RType::Soa => "SOA".into(),
            RType::Srv => "SRV".into(),
            RType::Txt => "TXT".into(),
            RType::Other(n) => {
                OTHER_TYPES.iter().find(|(_, m)| *m == n).map_or_else(|| format!("TYPE{n}"), |(name, _)| (*name).into())
            }
        }
    }
}

impl fmt::Display for RType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A resource record, its data as dig prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Record {
    pub name: String,
    pub ttl: u32,
    pub rtype: RType,
    pub data: String,
}

impl Record {
    pub fn new(name: &str, ttl: u32, rtype: RType, data: impl Into<String>) -> Record {
        Record { name: name.to_owned(), ttl, rtype, data: data.into() }
    }
}

impl fmt::Display for Record {
    /// dig's layout: name, TTL, class, type, data, tab-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\t{}\tIN\t{}\t{}", self.name, self.ttl, self.rtype, self.data)
    }
}

/// A response code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum Rcode {
    NoError,
    NxDomain,
    ServFail,
    Refused,
}

impl Rcode {
    pub fn as_str(self) -> &'static str {
        match self {
            Rcode::NoError => "NOERROR",
            Rcode::NxDomain => "NXDOMAIN",
            Rcode::ServFail => "SERVFAIL",
            Rcode::Refused => "REFUSED",
        }
    }
}

/// One response, its sections as dig shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Response {
    pub rcode: Rcode,
    /// Authoritative answer (the `aa` flag): set by the kubernetes plugin.
    pub authoritative: bool,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
    /// The plugin that answered, and why, for people.
    pub by: String,
}

impl Response {
    fn new(rcode: Rcode, by: impl Into<String>) -> Response {
        Response {
            rcode,
            authoritative: false,
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            by: by.into(),
        }
    }

    /// NOERROR with records in the answer section.
    pub fn has_answer(&self) -> bool {
        self.rcode == Rcode::NoError && !self.answers.is_empty()
    }
}

/// The cluster's DNS server: CoreDNS's server blocks from its Corefile.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Dns {
    pub servers: Vec<Server>,
}

/// kubeadm's Corefile, what a cluster runs when the input has none.
pub fn kubeadm_corefile(domain: &str) -> String {
    format!(
        ".:53 {{\n    errors\n    health {{\n       lameduck 5s\n    }}\n    ready\n    kubernetes {domain} in-addr.arpa ip6.arpa {{\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }}\n    prometheus :9153\n    forward . /etc/resolv.conf {{\n       max_concurrent 1000\n    }}\n    cache 30\n    loop\n    reload\n    loadbalance\n}}\n"
    )
}

/// Whether `name` is `zone` or below it (both lower-case, ending in a dot).
pub fn in_zone(name: &str, zone: &str) -> bool {
    zone == "." || name == zone || name.ends_with(&format!(".{zone}"))
}

/// `name` as `dig` would send it: lower-case comparisons happen later; the
/// question keeps its case.
fn absolute(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

impl Dns {
    pub fn new(servers: Vec<Server>) -> Dns {
        Dns { servers }
    }

    /// The server CoreDNS runs in `cluster`, as its Corefile says.
    pub fn of(cluster: &Cluster) -> Dns {
        Dns::read(cluster).0
    }

    /// CoreDNS's configuration: the `Corefile` key of ConfigMap
    /// kube-system/coredns (the user's, or kubeadm's the platform brings),
    /// and what is wrong with it, located at the ConfigMap.
    pub fn read(cluster: &Cluster) -> (Dns, Vec<Diagnostic>) {
        let Some(cm) = cluster.config_map("kube-system", "coredns") else {
            let default = corefile::parse(&kubeadm_corefile(&cluster.settings.dns_domain)).0;
            return (Dns::new(default), Vec::new());
        };
        let Some(text) = cm.data.get("Corefile") else {
            let missing = Diagnostic::error(
                cm.origin.clone(),
                "ConfigMap kube-system/coredns has no Corefile key: CoreDNS would not start, and no name would resolve",
            );
            return (Dns::default(), vec![missing]);
        };
        let (servers, problems) = corefile::parse(text);
        let diags = problems
            .into_iter()
            .map(|p| Diagnostic::warning(cm.origin.clone(), format!("Corefile line {}: {}", p.line, p.message)))
            .collect();
        (Dns::new(servers), diags)
    }

    /// The server block CoreDNS hands a query on port 53 to: the one with
    /// the most specific zone that contains the name.
    fn server_for(&self, name: &str) -> Option<&Server> {
        self.servers
            .iter()
            .filter(|s| s.port == 53)
            .flat_map(|s| s.zones.iter().map(move |z| (z, s)))
            .filter(|(z, _)| in_zone(name, z))
            .max_by_key(|(z, _)| if z.as_str() == "." { 0 } else { z.len() })
            .map(|(_, s)| s)
    }

    /// Answers one query as CoreDNS would. The question's case is kept in
    /// the answer's names; matching ignores it.
    /// Whether the server block that answers `qname` has the `log`
    /// plugin: CoreDNS then logs each query it answers.
    pub fn logs_queries(&self, qname: &str) -> bool {
        self.server_for(qname).is_some_and(|s| s.directives.iter().any(|d| d.name == "log"))
    }

    pub fn answer(&self, cluster: &Cluster, qname: &str, qtype: RType) -> Response {
        self.answer_depth(cluster, qname, qtype, 0)
    }

    fn answer_depth(&self, cluster: &Cluster, qname: &str, qtype: RType, depth: u8) -> Response {
        let asked = absolute(qname);
        let lower = asked.to_ascii_lowercase();
        let Some(server) = self.server_for(&lower) else {
            return Response::new(Rcode::Refused, "no server block of the Corefile serves this zone");
        };
        // rewrite: the plugins below see the rewritten name.
        let mut name = lower.clone();
        let mut note = String::new();
        for r in &server.rewrites {
            let to = match r.how.as_str() {
                "exact" if name == corefile::fqdn(&r.from) => Some(corefile::fqdn(&r.to)),
                "prefix" if name.starts_with(&r.from) => Some(format!("{}{}", r.to, &name[r.from.len()..])),
                "suffix" if name.ends_with(&r.from) => Some(format!("{}{}", &name[..name.len() - r.from.len()], r.to)),
                "substring" if name.contains(&r.from) => Some(name.replacen(&r.from, &r.to, 1)),
                _ => None,
            };
            if let Some(to) = to {
                note = format!(" (rewritten from {name})");
                name = to;
                break;
            }
        }
        // hosts, then kubernetes, then forward: CoreDNS's plugin order.
        if let Some(h) = &server.hosts {
            if let Some(ips) = h.entries.get(&name) {
                let mut r = Response::new(Rcode::NoError, format!("hosts{note}"));
                r.authoritative = true;
                r.answers = ips
                    .iter()
                    .filter(|ip| matches!((ip, qtype), (IpAddr::V4(_), RType::A) | (IpAddr::V6(_), RType::Aaaa)))
                    .map(|ip| Record::new(&name, h.ttl, qtype, ip.to_string()))
                    .collect();
                return r;
            }
            if !h.fallthrough && server.zones.iter().any(|z| in_zone(&name, z)) {
                let mut r = Response::new(Rcode::NxDomain, "hosts (no fallthrough)");
                r.authoritative = true;
                return r;
            }
        }
        if let Some(k) = &server.kubernetes {
            if let Some(zone) = k.zones.iter().filter(|z| in_zone(&name, z)).max_by_key(|z| z.len()) {
                // A type the plugin makes no records of is answered after
                // a fake A lookup, which tells NODATA from NXDOMAIN
                // (plugin/kubernetes/handler.go, its `default:` case).
                let mut r = match qtype {
                    RType::Other(_) => {
                        let mut r = kubernetes::answer(cluster, k, zone, &name, RType::A);
                        if r.rcode == Rcode::NoError {
                            r.answers.clear();
                            r.additional.clear();
                            r.authority = vec![kubernetes::soa(zone, k.ttl)];
                            r.by = format!(
                                "kubernetes: no {qtype} records; the name exists (a fake A lookup found it): NODATA"
                            );
                        }
                        r
                    }
                    _ => kubernetes::answer(cluster, k, zone, &name, qtype),
                };
                let through = r.rcode == Rcode::NxDomain
                    && k.fallthrough.as_ref().is_some_and(|f| f.is_empty() || f.iter().any(|z| in_zone(&name, z)));
                if !through {
                    // An ExternalName's CNAME: the plugin resolves the
                    // target through the server's own plugins and adds it.
                    let cname = r.answers.first().filter(|c| c.rtype == RType::Cname && qtype != RType::Cname).cloned();
                    if let (Some(c), true) = (cname, depth < 8) {
                        let t = self.answer_depth(cluster, &c.data, qtype, depth + 1);
                        if t.rcode == Rcode::NoError {
                            r.answers.extend(t.answers);
                        }
                    }
                    r.by.push_str(&note);
                    rename(&mut r, &name, &asked);
                    return r;
                }
            }
        }
        if let Some((from, _)) = &server.forward {
            if in_zone(&name, from) {
                let mut r = upstream(cluster, &name, qtype);
                rename(&mut r, &name, &asked);
                return r;
            }
        }
        Response::new(Rcode::ServFail, "no plugin of the server block answers this name")
    }
}

/// Records owned by the (lower-case) query name take the question's case.
fn rename(r: &mut Response, lower: &str, asked: &str) {
    for rec in r.answers.iter_mut() {
        if rec.name == lower {
            rec.name = asked.to_owned();
        }
    }
}

/// The node's upstream resolver, which podpath cannot ask: a host an
/// Ingress serves answers with its controller's external address; names that no
/// public resolver answers (one label, the special-use `.local`,
/// `.localhost`, `.invalid`, `.test`, `.internal`, `.cluster.local`-like
/// names that fell through, reverse lookups) are NXDOMAIN; any other name
/// gets an address from TEST-NET-3 (203.0.113.0/24) derived from it, so a
/// trace to it can leave the cluster. Every such answer says it is made up.
pub fn upstream(cluster: &Cluster, name: &str, qtype: RType) -> Response {
    // A host an Ingress names: public DNS would point it at the
    // controller's external address.
    let host = name.trim_end_matches('.');
    let published = crate::ingress::published_address(cluster, host)
        .map(|ip| (ip, "an Ingress names this host, so public DNS points it at the controller's address"))
        .or_else(|| {
            crate::gateway::published_address(cluster, host).map(|ip| {
                (ip, "a Gateway's route or listener names this host, so public DNS points it at the Gateway's address")
            })
        });
    if let Some((ip, why)) = published {
        let mut r = Response::new(Rcode::NoError, format!("forward: the upstream resolver (simulated: {why})"));
        if qtype == RType::A && ip.is_ipv4() {
            r.answers.push(Record::new(name, 300, RType::A, ip.to_string()));
        }
        return r;
    }
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    let tld = labels.last().copied().unwrap_or("");
    let unknown = labels.len() < 2
        || matches!(tld, "local" | "localhost" | "invalid" | "test" | "internal" | "arpa" | "cluster" | "svc");
    // The root zone's SOA stands in for whichever zone would deny it.
    let soa = Record::new(
        ".",
        86400,
        RType::Soa,
        "a.root-servers.net. nstld.verisign-grs.com. 2026112700 1800 900 604800 86400",
    );
    if unknown {
        let mut r = Response::new(Rcode::NxDomain, "forward: the upstream resolver knows no such name");
        r.authority.push(soa);
        return r;
    }
    let mut r = Response::new(
        Rcode::NoError,
        "forward: the upstream resolver (outside the cluster; podpath simulates it with a TEST-NET-3 address)",
    );
    if qtype == RType::A {
        let host = 1 + fnv64a(name.as_bytes()) % 254;
        r.answers.push(Record::new(name, 300, RType::A, format!("203.0.113.{host}")));
    } else {
        r.authority.push(soa);
    }
    r
}
