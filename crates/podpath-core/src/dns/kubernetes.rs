//! The `kubernetes` plugin's answers, per the Kubernetes DNS specification
//! (kubernetes/dns `docs/specification.md`) and CoreDNS's plugin:
//!
//! - `SVC.NS.svc.ZONE`: A for a ClusterIP Service; one A per ready
//!   endpoint for a headless one; a CNAME for an ExternalName one;
//! - `HOST.SVC.NS.svc.ZONE`: a headless endpoint by its hostname (or its
//!   dashed address);
//! - `_PORT._PROTO.SVC.NS.svc.ZONE`: SRV per named port, with the targets'
//!   A records in the additional section;
//! - `A-B-C-D.NS.pod.ZONE`: pod records, as `pods` says;
//! - PTR under `in-addr.arpa` for ClusterIPs and headless endpoints;
//! - `dns-version.ZONE` TXT, the apex's SOA and NS.
//!
//! A name that exists without records of the asked type answers NOERROR
//! with no answers (NODATA); a name that does not exist answers NXDOMAIN;
//! both carry the zone's SOA in the authority section.

use std::net::IpAddr;

use super::corefile::{Kubernetes, PodMode};
use super::{RType, Rcode, Record, Response};
use crate::cluster::{Cluster, ClusterIp, Protocol, Service, ServiceType};

/// The serial CoreDNS puts in the SOA is the time the cluster's objects
/// last changed; podpath has no clock, so it is fixed.
const SERIAL: u32 = 1_764_201_600;

/// The zone's SOA record, as the plugin writes it.
/// Its own TTL is the plugin's, capped at 300; its minimum is the plugin's.
pub fn soa(zone: &str, ttl: u32) -> Record {
    Record::new(
        zone,
        ttl.min(300),
        RType::Soa,
        format!("ns.dns.{zone} hostmaster.{zone} {SERIAL} 7200 1800 86400 {ttl}"),
    )
}

fn reply(rcode: Rcode, k: &Kubernetes, zone: &str, by: impl Into<String>) -> Response {
    let mut r = Response::new(rcode, by);
    r.authoritative = true;
    if rcode != Rcode::NoError {
        r.authority.push(soa(zone, k.ttl));
    }
    r
}

fn nxdomain(k: &Kubernetes, zone: &str, why: impl Into<String>) -> Response {
    reply(Rcode::NxDomain, k, zone, format!("kubernetes: {}", why.into()))
}

/// NOERROR with no records of the asked type, the SOA in authority.
fn nodata(k: &Kubernetes, zone: &str, why: impl Into<String>) -> Response {
    let mut r = reply(Rcode::NoError, k, zone, format!("kubernetes: {}", why.into()));
    r.authority.push(soa(zone, k.ttl));
    r
}

fn with_answers(k: &Kubernetes, zone: &str, why: impl Into<String>, answers: Vec<Record>) -> Response {
    if answers.is_empty() {
        return nodata(k, zone, why);
    }
    let mut r = reply(Rcode::NoError, k, zone, format!("kubernetes: {}", why.into()));
    r.answers = answers;
    r
}

fn address_type(ip: IpAddr) -> RType {
    if ip.is_ipv4() {
        RType::A
    } else {
        RType::Aaaa
    }
}

/// An endpoint's name under its Service: its hostname, else its pod's name
/// with `endpoint_pod_names`, else its address with dashes.
fn endpoint_name(k: &Kubernetes, hostname: Option<&str>, pod: Option<&str>, ip: IpAddr) -> String {
    if let Some(h) = hostname {
        return h.to_ascii_lowercase();
    }
    if let (true, Some(p)) = (k.endpoint_pod_names, pod) {
        return p.rsplit('/').next().unwrap_or(p).to_ascii_lowercase();
    }
    ip.to_string().replace(['.', ':'], "-")
}

/// An endpoint as DNS publishes it: its name, its address, and the
/// slice's ports (name, number, protocol).
type Published<'a> = (String, IpAddr, Vec<(&'a str, u16, Protocol)>);

/// A headless Service's endpoints DNS publishes: ready ones, or all when
/// the Service publishes not-ready addresses. Each is (name, address, ports).
fn endpoints<'a>(k: &Kubernetes, cluster: &'a Cluster, svc: &Service) -> Vec<Published<'a>> {
    let mut out = Vec::new();
    for slice in cluster
        .endpoint_slices
        .iter()
        .filter(|s| s.namespace == svc.namespace && s.service.as_deref() == Some(svc.name.as_str()))
    {
        let ports: Vec<(&str, u16, Protocol)> =
            slice.ports.iter().filter_map(|p| p.port.map(|n| (p.name.as_str(), n, p.protocol))).collect();
        for e in &slice.endpoints {
            if !(e.ready.unwrap_or(true) || svc.publish_not_ready_addresses) {
                continue;
            }
            for ip in &e.addresses {
                let name = endpoint_name(k, e.hostname.as_deref(), e.pod.as_deref(), *ip);
                if !out.iter().any(|(n, i, _): &(String, IpAddr, _)| n == &name && i == ip) {
                    out.push((name, *ip, ports.clone()));
                }
            }
        }
    }
    out
}

fn exposed(k: &Kubernetes, ns: &str) -> bool {
    k.namespaces.is_empty() || k.namespaces.iter().any(|n| n == ns)
}

/// The plugin's answer for `name` (lower-case, absolute) in `zone`.
pub fn answer(cluster: &Cluster, k: &Kubernetes, zone: &str, name: &str, qtype: RType) -> Response {
    if zone.ends_with("in-addr.arpa.") || zone.ends_with("ip6.arpa.") {
        return reverse(cluster, k, zone, name, qtype);
    }
    let ttl = k.ttl;
    if name == zone {
        return match qtype {
            RType::Soa => with_answers(k, zone, "the zone's apex", vec![soa(zone, ttl)]),
            RType::Ns => {
                // The Service in front of CoreDNS names the zone's server.
                let (target, additional) = match dns_service(cluster) {
                    Some((svc, ip)) => (
                        format!("{}.{}.svc.{zone}", svc.name, svc.namespace),
                        vec![Record::new(
                            &format!("{}.{}.svc.{zone}", svc.name, svc.namespace),
                            ttl,
                            address_type(ip),
                            ip.to_string(),
                        )],
                    ),
                    None => (format!("ns.dns.{zone}"), Vec::new()),
                };
                let mut r = with_answers(k, zone, "the zone's apex", vec![Record::new(zone, ttl, RType::Ns, target)]);
                r.additional = additional;
                r
            }
            _ => nodata(k, zone, "the zone's apex has only SOA and NS records"),
        };
    }
    if name == format!("dns-version.{zone}") {
        return match qtype {
            RType::Txt => {
                with_answers(k, zone, "the schema version", vec![Record::new(name, 28800, RType::Txt, "\"1.1.0\"")])
            }
            _ => nodata(k, zone, "dns-version has a TXT record only"),
        };
    }
    if name == format!("ns.dns.{zone}") {
        let recs: Vec<Record> = dns_service(cluster)
            .filter(|(_, ip)| address_type(*ip) == qtype)
            .map(|(_, ip)| Record::new(name, ttl, qtype, ip.to_string()))
            .into_iter()
            .collect();
        return with_answers(k, zone, "the name server's own name", recs);
    }
    let rest = &name[..name.len() - zone.len() - 1];
    let labels: Vec<&str> = rest.split('.').collect();
    match labels.as_slice() {
        [.., "svc"] => service_names(cluster, k, zone, name, &labels[..labels.len() - 1], qtype),
        [ip, ns, "pod"] => pod(cluster, k, zone, name, ip, ns, qtype),
        ["pod"] => nodata(k, zone, "a name on the way to pod records"),
        [_, "pod"] if k.pods == PodMode::Disabled => nxdomain(k, zone, "pod records are disabled"),
        [_, "pod"] => nodata(k, zone, "a name on the way to pod records"),
        _ => nxdomain(k, zone, format!("{name} is neither a service nor a pod name")),
    }
}

/// The Service in front of CoreDNS (kube-dns) and its address.
fn dns_service(cluster: &Cluster) -> Option<(&Service, IpAddr)> {
    cluster.services.iter().find_map(|s| {
        let dns = s.namespace == "kube-system"
            && s.selector.as_ref().and_then(|m| m.get("k8s-app")).map(String::as_str) == Some("kube-dns");
        match s.cluster_ip {
            ClusterIp::Ip(ip) if dns => Some((s, ip)),
            _ => None,
        }
    })
}

/// Names under `svc.ZONE`; `labels` are the ones before `svc`.
/// `_port._proto.`: the port's name and protocol, `_`-prefixed.
fn port_matches(asked: Option<(&str, &str)>, pname: &str, proto: Protocol) -> bool {
    match asked {
        None => true,
        Some(_) if pname.is_empty() => false,
        Some((p, pr)) => {
            p.strip_prefix('_').is_some_and(|p| p == pname)
                && pr.strip_prefix('_').is_some_and(|pr| pr.eq_ignore_ascii_case(proto.as_str()))
        }
    }
}

/// An ExternalName Service: a CNAME to the target (the server resolves
/// the target through its plugins and adds what it finds).
fn external_name(k: &Kubernetes, zone: &str, name: &str, svc: &Service, qtype: RType) -> Response {
    let (ns, svc_name) = (&svc.namespace, &svc.name);
    let target = super::corefile::fqdn(svc.external_name.as_deref().unwrap_or(""));
    if target.trim_end_matches('.').parse::<IpAddr>().is_ok() {
        return nxdomain(k, zone, format!("{ns}/{svc_name}'s externalName is an address, which DNS cannot alias"));
    }
    if qtype == RType::Srv {
        return nodata(k, zone, format!("{ns}/{svc_name} is an ExternalName service: no SRV records"));
    }
    let cname = vec![Record::new(name, k.ttl, RType::Cname, target)];
    with_answers(k, zone, format!("{ns}/{svc_name} is an ExternalName service"), cname)
}

/// A or AAAA: a headless Service's ready endpoints, another's cluster IP.
fn addresses(k: &Kubernetes, zone: &str, name: &str, svc: &Service, eps: &[Published<'_>], qtype: RType) -> Response {
    let (ns, svc_name, ttl) = (&svc.namespace, &svc.name, k.ttl);
    let headless = svc.cluster_ip == ClusterIp::Headless;
    let recs: Vec<Record> = if headless {
        eps.iter()
            .filter(|(_, ip, _)| address_type(*ip) == qtype)
            .map(|(_, ip, _)| Record::new(name, ttl, qtype, ip.to_string()))
            .collect()
    } else {
        match svc.cluster_ip {
            ClusterIp::Ip(ip) if address_type(ip) == qtype => vec![Record::new(name, ttl, qtype, ip.to_string())],
            _ => Vec::new(),
        }
    };
    let why = if headless {
        format!("headless {ns}/{svc_name}: one record per ready endpoint")
    } else {
        format!("{ns}/{svc_name}'s cluster IP")
    };
    with_answers(k, zone, why, recs)
}

/// SRV for the named ports: one record per endpoint and port of a
/// headless Service (its address in the additional section), one per port
/// of another; weights share 100.
fn srv(
    k: &Kubernetes,
    zone: &str,
    name: &str,
    svc: &Service,
    eps: &[Published<'_>],
    port_matches: &dyn Fn(&str, Protocol) -> bool,
) -> Response {
    let (ns, svc_name, ttl) = (&svc.namespace, &svc.name, k.ttl);
    let svc_fqdn = format!("{}.{}.svc.{zone}", svc.name, svc.namespace);
    let mut answers = Vec::new();
    let mut additional = Vec::new();
    if svc.cluster_ip == ClusterIp::Headless {
        let targets: Vec<(String, IpAddr, u16)> = eps
            .iter()
            .flat_map(|(n, ip, ports)| {
                ports
                    .iter()
                    .filter(|(pn, _, pr)| port_matches(pn, *pr))
                    .map(move |(_, port, _)| (n.clone(), *ip, *port))
            })
            .collect();
        let weight = (100 / targets.len().max(1)).max(1);
        for (n, ip, port) in &targets {
            let target = format!("{n}.{svc_fqdn}");
            answers.push(Record::new(name, ttl, RType::Srv, format!("0 {weight} {port} {target}")));
            additional.push(Record::new(&target, ttl, address_type(*ip), ip.to_string()));
        }
    } else if let ClusterIp::Ip(ip) = svc.cluster_ip {
        let ports: Vec<&crate::cluster::ServicePort> =
            svc.ports.iter().filter(|p| port_matches(&p.name, p.protocol)).collect();
        let weight = (100 / ports.len().max(1)).max(1);
        for p in ports {
            answers.push(Record::new(name, ttl, RType::Srv, format!("0 {weight} {} {svc_fqdn}", p.port)));
        }
        if !answers.is_empty() {
            additional.push(Record::new(&svc_fqdn, ttl, address_type(ip), ip.to_string()));
        }
    }
    let mut r = with_answers(k, zone, format!("{ns}/{svc_name}'s named ports"), answers);
    r.additional = additional;
    r
}

fn service_names(cluster: &Cluster, k: &Kubernetes, zone: &str, name: &str, labels: &[&str], qtype: RType) -> Response {
    let ttl = k.ttl;
    let (port_proto, endpoint, svc_name, ns) = match labels {
        [] => return nodata(k, zone, "svc is a name on the way to services"),
        [ns] => {
            return if exposed(k, ns) && cluster.namespaces.contains(*ns) {
                nodata(k, zone, format!("namespace {ns} exists; names below it are services"))
            } else {
                nxdomain(k, zone, format!("no namespace {ns}"))
            };
        }
        [svc, ns] => (None, None, *svc, *ns),
        [ep, svc, ns] => (None, Some(*ep), *svc, *ns),
        [port, proto, svc, ns] => (Some((*port, *proto)), None, *svc, *ns),
        _ => return nxdomain(k, zone, format!("{name} has too many labels for a service name")),
    };
    if !exposed(k, ns) {
        return nxdomain(k, zone, format!("namespace {ns} is not among the plugin's namespaces"));
    }
    let Some(svc) = cluster.services.iter().find(|s| s.namespace == ns && s.name == svc_name) else {
        return nxdomain(k, zone, format!("no service {svc_name} in namespace {ns}"));
    };
    if svc.type_ == ServiceType::ExternalName {
        if endpoint.is_some() || port_proto.is_some() {
            return nxdomain(k, zone, "an ExternalName service has no endpoints or ports");
        }
        return external_name(k, zone, name, svc, qtype);
    }
    let eps = endpoints(k, cluster, svc);
    let headless = svc.cluster_ip == ClusterIp::Headless;
    if eps.is_empty() && headless {
        return nxdomain(k, zone, format!("headless {ns}/{svc_name} has no ready endpoints"));
    }
    if eps.is_empty() && k.ignore_empty_service {
        return nxdomain(k, zone, format!("{ns}/{svc_name} has no ready endpoints (ignore empty_service)"));
    }
    let port_matches = |pname: &str, proto: Protocol| port_matches(port_proto, pname, proto);
    if let Some(ep) = endpoint {
        let found: Vec<&(String, IpAddr, _)> = eps.iter().filter(|(n, _, _)| n == ep).collect();
        if found.is_empty() {
            return nxdomain(k, zone, format!("no endpoint named {ep} behind {ns}/{svc_name}"));
        }
        let recs = found
            .iter()
            .filter(|(_, ip, _)| address_type(*ip) == qtype)
            .map(|(_, ip, _)| Record::new(name, ttl, qtype, ip.to_string()))
            .collect();
        return with_answers(k, zone, format!("endpoint {ep} of {ns}/{svc_name}"), recs);
    }
    let any_port = svc.ports.iter().any(|p| port_matches(&p.name, p.protocol));
    if port_proto.is_some() && !any_port {
        return nxdomain(k, zone, format!("{ns}/{svc_name} has no such named port"));
    }
    match qtype {
        RType::A | RType::Aaaa => addresses(k, zone, name, svc, &eps, qtype),
        RType::Srv => srv(k, zone, name, svc, &eps, &port_matches),
        _ => nodata(k, zone, format!("{ns}/{svc_name} has no {qtype} records")),
    }
}

/// `A-B-C-D.NS.pod.ZONE`.
fn pod(cluster: &Cluster, k: &Kubernetes, zone: &str, name: &str, dashed: &str, ns: &str, qtype: RType) -> Response {
    if k.pods == PodMode::Disabled {
        return nxdomain(k, zone, "pod records are disabled (`pods disabled`, the plugin's default)");
    }
    let ip: Option<IpAddr> = dashed.replace('-', ".").parse().ok().or_else(|| dashed.replace('-', ":").parse().ok());
    let Some(ip) = ip else { return nxdomain(k, zone, format!("{dashed} is not an address with dashes")) };
    if !exposed(k, ns) || !cluster.namespaces.contains(ns) {
        return nxdomain(k, zone, format!("no namespace {ns} (or not among the plugin's namespaces)"));
    }
    // CoreDNS's pod index leaves out a pod being deleted (object/pod.go
    // returns errPodTerminating for it), so `pods verified` no longer
    // answers for it.
    if k.pods == PodMode::Verified
        && !cluster.pods.iter().any(|p| p.namespace == ns && p.ip == Some(ip) && !p.terminating)
    {
        return nxdomain(
            k,
            zone,
            format!("no pod in {ns} has {ip} (`pods verified`; a terminating pod is not indexed)"),
        );
    }
    let why = if k.pods == PodMode::Insecure {
        "pod record: the address in the name, unchecked (`pods insecure`)"
    } else {
        "pod record of a pod in that namespace (`pods verified`)"
    };
    let recs =
        if address_type(ip) == qtype { vec![Record::new(name, k.ttl, qtype, ip.to_string())] } else { Vec::new() };
    with_answers(k, zone, why, recs)
}

/// PTR for an address: a ClusterIP names its Service, a headless endpoint
/// its name under the Service.
fn reverse(cluster: &Cluster, k: &Kubernetes, zone: &str, name: &str, qtype: RType) -> Response {
    let Some(ip) = from_reverse(name) else { return nxdomain(k, zone, "not a full reverse address") };
    let domain = cluster_zone(cluster);
    let exposed_services = cluster.services.iter().filter(|s| exposed(k, &s.namespace));
    // A ClusterIP names its Service, once; otherwise every endpoint with
    // the address, under each Service it backs.
    let mut targets: Vec<String> = exposed_services
        .clone()
        .find(|s| s.cluster_ip == ClusterIp::Ip(ip))
        .map(|s| format!("{}.{}.svc.{domain}", s.name, s.namespace))
        .into_iter()
        .collect();
    if targets.is_empty() {
        for svc in exposed_services {
            for (n, eip, _) in endpoints(k, cluster, svc) {
                if eip == ip {
                    targets.push(format!("{n}.{}.{}.svc.{domain}", svc.name, svc.namespace));
                }
            }
        }
    }
    if targets.is_empty() {
        return nxdomain(k, zone, format!("{ip} is no service's or headless endpoint's address"));
    }
    if qtype != RType::Ptr {
        return nodata(k, zone, "reverse names have PTR records only");
    }
    let recs = targets.into_iter().map(|t| Record::new(name, k.ttl, RType::Ptr, t)).collect();
    with_answers(k, zone, format!("{ip} belongs to a service"), recs)
}

fn cluster_zone(cluster: &Cluster) -> String {
    format!("{}.", cluster.settings.dns_domain.trim_end_matches('.').to_ascii_lowercase())
}

/// `4.3.2.1.in-addr.arpa.` → 1.2.3.4 (IPv4 only).
pub fn from_reverse(name: &str) -> Option<IpAddr> {
    let rest = name.strip_suffix(".in-addr.arpa.")?;
    let mut parts: Vec<&str> = rest.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    parts.reverse();
    parts.join(".").parse().ok()
}

/// 1.2.3.4 → `4.3.2.1.in-addr.arpa.`
pub fn to_reverse(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
            let mut s: Vec<String> = hex.chars().rev().map(|c| c.to_string()).collect();
            s.push("ip6.arpa.".into());
            s.join(".")
        }
    }
}
