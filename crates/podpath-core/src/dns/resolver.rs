//! The pod's resolver: the `/etc/resolv.conf` the kubelet writes for each
//! `dnsPolicy` (pkg/kubelet/network/dns), and the queries glibc's resolver
//! sends for a name — the search list, `ndots`, and when it stops.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::{RType, Rcode, Response};
use crate::cluster::{Cluster, Pod};

/// A resolv.conf.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct ResolvConf {
    pub nameservers: Vec<IpAddr>,
    pub search: Vec<String>,
    /// `ndots:5`, `timeout:2`…, in order.
    pub options: Vec<String>,
}

impl ResolvConf {
    /// `ndots` (glibc's default is 1).
    pub fn ndots(&self) -> usize {
        self.options.iter().rev().find_map(|o| o.strip_prefix("ndots:")).and_then(|n| n.parse().ok()).unwrap_or(1)
    }

    /// The file as the kubelet writes it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if !self.search.is_empty() {
            let _ = writeln!(out, "search {}", self.search.join(" "));
        }
        for n in &self.nameservers {
            let _ = writeln!(out, "nameserver {n}");
        }
        if !self.options.is_empty() {
            let _ = writeln!(out, "options {}", self.options.join(" "));
        }
        out
    }

    /// The names glibc asks for, in order: a name ending in a dot as it
    /// is; one with at least `ndots` dots as it is first, then with each
    /// search domain; a shorter one with each search domain first, then as
    /// it is.
    pub fn candidates(&self, name: &str) -> Vec<String> {
        if name.ends_with('.') {
            return vec![name.to_owned()];
        }
        let as_is = format!("{name}.");
        let searched = self.search.iter().map(|d| format!("{name}.{}.", d.trim_end_matches('.')));
        if name.matches('.').count() >= self.ndots() {
            std::iter::once(as_is).chain(searched).collect()
        } else {
            searched.chain(std::iter::once(as_is)).collect()
        }
    }
}

/// The node's own resolv.conf (a kind node's: the Docker network's
/// gateway as its name server, `ndots:0`), what `dnsPolicy: Default` and
/// host-network pods get, and what CoreDNS's `forward . /etc/resolv.conf`
/// sends to.
pub fn node_resolv_conf(cluster: &Cluster) -> ResolvConf {
    let gateway = cluster.nodes.iter().find_map(|n| n.internal_ip).and_then(|ip| match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(IpAddr::from([o[0], o[1], 0, 1]))
        }
        IpAddr::V6(_) => None,
    });
    ResolvConf { nameservers: gateway.into_iter().collect(), search: Vec::new(), options: vec!["ndots:0".into()] }
}

/// The kube-dns Service's address, the kubelet's `clusterDNS`.
pub fn cluster_dns(cluster: &Cluster) -> IpAddr {
    crate::system::indexed_ip(cluster.settings.service_cidr, 10)
}

/// What the kubelet writes for a `ClusterFirst` pod in `namespace`.
pub fn cluster_first(cluster: &Cluster, namespace: &str) -> ResolvConf {
    let domain = cluster.settings.dns_domain.trim_end_matches('.');
    let mut search = vec![format!("{namespace}.svc.{domain}"), format!("svc.{domain}"), domain.to_owned()];
    search.extend(node_resolv_conf(cluster).search);
    ResolvConf { nameservers: vec![cluster_dns(cluster)], search, options: vec!["ndots:5".into()] }
}

/// The pod's resolv.conf, as its `dnsPolicy` and `dnsConfig` make it.
pub fn resolv_conf(cluster: &Cluster, pod: &Pod) -> ResolvConf {
    let policy = pod.spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let mut conf = match policy {
        "ClusterFirstWithHostNet" => cluster_first(cluster, &pod.namespace),
        // A host-network pod with ClusterFirst uses the node's file.
        "ClusterFirst" if pod.host_network => node_resolv_conf(cluster),
        "ClusterFirst" => cluster_first(cluster, &pod.namespace),
        "None" => ResolvConf::default(),
        _ => node_resolv_conf(cluster),
    };
    if let Some(c) = &pod.spec.dns_config {
        for n in c.nameservers.iter().flatten() {
            if let Ok(ip) = n.parse::<IpAddr>() {
                if !conf.nameservers.contains(&ip) {
                    conf.nameservers.push(ip);
                }
            }
        }
        for s in c.searches.iter().flatten() {
            if !conf.search.contains(s) {
                conf.search.push(s.clone());
            }
        }
        // An option given again replaces the one of the same name.
        for o in c.options.iter().flatten() {
            let Some(name) = &o.name else { continue };
            let text = match &o.value {
                Some(v) => format!("{name}:{v}"),
                None => name.clone(),
            };
            conf.options.retain(|x| x.split(':').next() != Some(name.as_str()));
            conf.options.push(text);
        }
    }
    conf
}

/// One query of a lookup and what came of it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Attempt {
    pub name: String,
    pub server: Option<IpAddr>,
    /// `None`: no answer came back (the query was dropped on the way).
    pub response: Option<Response>,
}

/// A name resolved the way glibc resolves it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Lookup {
    pub qtype: RType,
    pub attempts: Vec<Attempt>,
}

impl Lookup {
    /// The response that ended the lookup: the first with an answer, else
    /// the last one.
    pub fn last(&self) -> Option<&Response> {
        self.attempts.iter().rev().find_map(|a| a.response.as_ref())
    }

    /// The addresses (or other data) of the answer, if there is one.
    pub fn answer(&self) -> Option<&Response> {
        self.attempts.last().and_then(|a| a.response.as_ref()).filter(|r| r.has_answer())
    }

    /// Whether a query went unanswered: the lookup timed out.
    pub fn timed_out(&self) -> bool {
        self.attempts.last().is_some_and(|a| a.response.is_none())
    }
}

/// Resolves `name` with `conf`, asking `ask(server, name)` for each query
/// (`None` when no response comes back). Like glibc: the candidates in
/// order, the first answer wins, NXDOMAIN, NODATA and SERVFAIL move on to
/// the next candidate, and a query that gets no response at all ends the
/// lookup (after the resolver's retries, "connection timed out").
pub fn lookup(
    conf: &ResolvConf,
    name: &str,
    qtype: RType,
    mut ask: impl FnMut(IpAddr, &str) -> Option<Response>,
) -> Lookup {
    let mut attempts = Vec::new();
    for candidate in conf.candidates(name) {
        let Some(&server) = conf.nameservers.first() else {
            attempts.push(Attempt { name: candidate, server: None, response: None });
            break;
        };
        // The next name server is asked only when one does not answer.
        let mut got = None;
        let mut asked = server;
        for &ns in &conf.nameservers {
            asked = ns;
            got = ask(ns, &candidate);
            if got.is_some() {
                break;
            }
        }
        let done = match &got {
            None => true,
            Some(r) => r.has_answer() || !matches!(r.rcode, Rcode::NxDomain | Rcode::NoError | Rcode::ServFail),
        };
        attempts.push(Attempt { name: candidate, server: Some(asked), response: got });
        if done {
            break;
        }
    }
    Lookup { qtype, attempts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf() -> ResolvConf {
        ResolvConf {
            nameservers: vec!["10.96.0.10".parse().unwrap()],
            search: vec!["shop.svc.cluster.local".into(), "svc.cluster.local".into(), "cluster.local".into()],
            options: vec!["ndots:5".into()],
        }
    }

    #[test]
    fn ndots_decides_whether_the_name_goes_first_or_last() {
        let c = conf();
        assert_eq!(
            c.candidates("web"),
            ["web.shop.svc.cluster.local.", "web.svc.cluster.local.", "web.cluster.local.", "web."]
        );
        assert_eq!(c.candidates("api.example.com").first().unwrap(), "api.example.com.shop.svc.cluster.local.");
        assert_eq!(c.candidates("api.example.com").last().unwrap(), "api.example.com.");
        assert_eq!(c.candidates("a.b.c.d.e.f")[0], "a.b.c.d.e.f.");
        assert_eq!(c.candidates("web.shop.svc.cluster.local."), ["web.shop.svc.cluster.local."]);
        assert_eq!(
            c.render(),
            "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
        );
    }
}
