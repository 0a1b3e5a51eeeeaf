//! kube-proxy's iptables mode: the `filter` and `nat` rules it writes for
//! one node, following `syncProxyRules` in pkg/proxy/iptables/proxier.go.
//!
//! Chain names are kube-proxy's: `KUBE-SVC-`, `KUBE-SVL-`, `KUBE-EXT-`,
//! `KUBE-FW-` + the first 16 base32 characters of SHA-256 over the
//! ServicePortName and the lower-case protocol, and `KUBE-SEP-` over the
//! same plus the endpoint's `IP:PORT`. Rules are written in kube-proxy's
//! order; Services are taken in name order (kube-proxy walks a Go map, so a
//! real node's order varies from sync to sync).

use std::collections::BTreeSet;
use std::net::IpAddr;

use data_encoding::BASE32;
use ipnet::IpNet;
use sha2::{Digest, Sha256};

use super::{service_ports, Hook, ProxyConfig, ProxyEndpoint, ServicePortView};
use crate::cluster::Cluster;
use crate::netfilter::eval::{self, Context, Verdict};
use crate::netfilter::{Match, Rule, Table, Target};
use crate::packet::Packet;
use crate::step::Step;

pub const KUBE_SERVICES: &str = "KUBE-SERVICES";
pub const KUBE_EXTERNAL_SERVICES: &str = "KUBE-EXTERNAL-SERVICES";
pub const KUBE_NODEPORTS: &str = "KUBE-NODEPORTS";
pub const KUBE_FORWARD: &str = "KUBE-FORWARD";
pub const KUBE_PROXY_FIREWALL: &str = "KUBE-PROXY-FIREWALL";
pub const KUBE_POSTROUTING: &str = "KUBE-POSTROUTING";
pub const KUBE_MARK_MASQ: &str = "KUBE-MARK-MASQ";
pub const KUBE_FIREWALL: &str = "KUBE-FIREWALL";

/// Above this many endpoints kube-proxy stops writing comments on the
/// per-endpoint rules (`largeClusterEndpointsThreshold`).
pub const LARGE_CLUSTER_ENDPOINTS: usize = 1000;

/// The two tables kube-proxy programs on a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ruleset {
    pub filter: Table,
    pub nat: Table,
}

impl Ruleset {
    /// `iptables-save` output for these tables.
    pub fn save(&self) -> String {
        crate::netfilter::save(&[&self.filter, &self.nat])
    }

    /// The tables netfilter runs at `hook`, in priority order: nat's DNAT
    /// before filter, nat's SNAT last.
    pub fn run(&self, hook: Hook, pkt: &mut Packet, ctx: &mut Context<'_>, steps: &mut Vec<Step>) -> Verdict {
        let chains: &[(&Table, &str)] = match hook {
            Hook::Connect => &[],
            Hook::Prerouting => &[(&self.nat, "PREROUTING")],
            Hook::Input => &[(&self.filter, "INPUT")],
            Hook::Forward => &[(&self.filter, "FORWARD")],
            Hook::Output => &[(&self.nat, "OUTPUT"), (&self.filter, "OUTPUT")],
            Hook::Postrouting => &[(&self.nat, "POSTROUTING")],
        };
        run_tables(chains, pkt, ctx, steps)
    }

    /// The DNAT targets the nat table can reach for this packet.
    pub fn candidates(&self, pkt: &Packet, from_host: bool, local: &[IpNet]) -> BTreeSet<(IpAddr, u16)> {
        eval::reachable_dnats(&self.nat, if from_host { "OUTPUT" } else { "PREROUTING" }, pkt, local)
    }
}

/// Runs the chains in order, as netfilter runs a hook's tables, and turns
/// the rules that applied into steps. A DNAT in one table lets the packet
/// go on to the next; any other ending verdict stops it.
pub(crate) fn run_tables(
    chains: &[(&Table, &str)],
    pkt: &mut Packet,
    ctx: &mut Context<'_>,
    steps: &mut Vec<Step>,
) -> Verdict {
    let mut result = Verdict::Accept;
    for (table, chain) in chains {
        let v = eval::run(table, chain, pkt, ctx, steps);
        match v {
            Verdict::Accept => {}
            Verdict::Dnat(..) => result = v,
            other => return other,
        }
    }
    result
}

/// The text of a rule's `--comment`.
pub fn comment_of(line: &str) -> Option<String> {
    let start = line.find("--comment \"")? + "--comment \"".len();
    let end = line[start..].find('"')?;
    Some(line[start..start + end].to_owned())
}

fn hash16(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    BASE32.encode(&digest)[..16].to_owned()
}

/// `KUBE-SVC-…`, `KUBE-SVL-…`, `KUBE-EXT-…`, `KUBE-FW-…` for a port.
pub fn port_chain(prefix: &str, port_name: &str, protocol: &str) -> String {
    format!("{prefix}{}", hash16(&format!("{port_name}{protocol}")))
}

/// `KUBE-SEP-…` for an endpoint of a port.
pub fn endpoint_chain(port_name: &str, protocol: &str, endpoint: &str) -> String {
    format!("KUBE-SEP-{}", hash16(&format!("{port_name}{protocol}{endpoint}")))
}

fn host(ip: IpAddr) -> IpNet {
    IpNet::from(ip)
}

/// The rules kube-proxy writes on `node`.
pub fn build(cluster: &Cluster, node: &str) -> Ruleset {
    let cfg = ProxyConfig::from_settings(&cluster.settings);
    let node_ip = cluster.node(node).and_then(|n| n.internal_ip);
    let mark = cfg.masquerade_mark();
    let mut filter = Table::new("filter", &["INPUT", "FORWARD", "OUTPUT"]);
    let mut nat = Table::new("nat", &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]);
    for c in [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL] {
        filter.chain(c);
    }
    for c in [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ] {
        nat.chain(c);
    }

    // The jumps from the built-in chains. kube-proxy prepends each one, so
    // on a node they stand in the reverse of the order it ensures them.
    let new_conn = || Match::CtState { states: vec!["NEW".into()], negated: false };
    let jumps: [(&str, &str, Option<Match>, &str); 9] = [
        ("INPUT", KUBE_PROXY_FIREWALL, Some(new_conn()), "kubernetes load balancer firewall"),
        ("INPUT", KUBE_NODEPORTS, None, "kubernetes health check service ports"),
        ("INPUT", KUBE_EXTERNAL_SERVICES, Some(new_conn()), "kubernetes externally-visible service portals"),
        ("FORWARD", KUBE_PROXY_FIREWALL, Some(new_conn()), "kubernetes load balancer firewall"),
        ("FORWARD", KUBE_FORWARD, None, "kubernetes forwarding rules"),
        ("FORWARD", KUBE_SERVICES, Some(new_conn()), "kubernetes service portals"),
        ("FORWARD", KUBE_EXTERNAL_SERVICES, Some(new_conn()), "kubernetes externally-visible service portals"),
        ("OUTPUT", KUBE_PROXY_FIREWALL, Some(new_conn()), "kubernetes load balancer firewall"),
        ("OUTPUT", KUBE_SERVICES, Some(new_conn()), "kubernetes service portals"),
    ];
    for (from, to, ct, comment) in jumps {
        let mut r = Rule::new(from);
        if let Some(m) = ct {
            r = r.with(m);
        }
        filter.push(r.comment(comment).jump(Target::Jump(to.into())));
    }
    for (from, to, comment) in [
        ("PREROUTING", KUBE_SERVICES, "kubernetes service portals"),
        ("OUTPUT", KUBE_SERVICES, "kubernetes service portals"),
        ("POSTROUTING", KUBE_POSTROUTING, "kubernetes postrouting rules"),
    ] {
        nat.push(Rule::new(from).comment(comment).jump(Target::Jump(to.into())));
    }

    // Fixed rules of kube-proxy's own chains.
    // With localhost NodePorts, kube-proxy keeps other hosts from reaching
    // the node's loopback addresses (route_localnet is on).
    let guard_localnet = cfg.localhost_node_ports && node_ip.is_none_or(|ip| ip.is_ipv4());
    if guard_localnet {
        localnet_guard(&mut filter);
    }
    // The INVALID drop; kube-proxy adds an nfacct counter where the kernel
    // has nfacct, which this simulation does not assume.
    filter.push(
        Rule::new(KUBE_FORWARD)
            .with(Match::CtState { states: vec!["INVALID".into()], negated: false })
            .jump(Target::Drop),
    );
    forward_rules(&mut filter, mark);
    masquerade_rules(&mut nat, mark);

    let views = service_ports(cluster, node);
    let total_endpoints: usize = views.iter().map(|v| v.reachable_endpoints().len()).sum();
    let large = total_endpoints > LARGE_CLUSTER_ENDPOINTS;
    for view in &views {
        write_service(&mut filter, &mut nat, view, &cfg, node_ip, large);
    }

    // Last rule of KUBE-SERVICES: anything addressed to the node itself
    // goes on to the NodePorts.
    let last = "kubernetes service nodeports; NOTE: this must be the last rule in this chain";
    if cfg.node_port_addresses.is_empty() {
        let mut r = Rule::new(KUBE_SERVICES).comment(last);
        if !cfg.localhost_node_ports {
            r.destination =
                Some(crate::netfilter::AddrMatch { net: "127.0.0.0/8".parse().expect("literal"), negated: true });
        }
        nat.push(
            r.with(Match::AddrType { src: false, kind: "LOCAL".into(), negated: false })
                .jump(Target::Jump(KUBE_NODEPORTS.into())),
        );
    } else {
        let local: Vec<IpAddr> =
            node_ip.into_iter().filter(|ip| cfg.node_port_addresses.iter().any(|n| n.contains(ip))).collect();
        for ip in local {
            nat.push(Rule::new(KUBE_SERVICES).comment(last).dst(host(ip)).jump(Target::Jump(KUBE_NODEPORTS.into())));
        }
    }
    Ruleset { filter, nat }
}

fn write_service(
    filter: &mut Table,
    nat: &mut Table,
    view: &ServicePortView<'_>,
    cfg: &ProxyConfig,
    node_ip: Option<IpAddr>,
    large: bool,
) {
    let svc = view.service;
    let proto = view.protocol().as_str().to_ascii_lowercase();
    let name = view.name.as_str();
    let port = view.port.port;
    let cluster_chain = port_chain("KUBE-SVC-", name, &proto);
    let local_chain = port_chain("KUBE-SVL-", name, &proto);
    let ext_chain = port_chain("KUBE-EXT-", name, &proto);
    let fw_chain = port_chain("KUBE-FW-", name, &proto);

    let uses_cluster_chain = !view.cluster_endpoints.is_empty() && view.uses_cluster_endpoints();
    let uses_local_chain = !view.local_endpoints.is_empty() && view.uses_local_endpoints();
    let has_endpoints = view.has_endpoints;
    let pick = |local: bool| if local { &local_chain } else { &cluster_chain };
    let (internal_chain, has_internal) = (pick(view.internal_policy_local()), view.has_internal_endpoints());
    let (external_policy_chain, has_external) = (pick(view.external_policy_local()), view.has_external_endpoints());
    let uses_ext_chain = has_endpoints && view.externally_accessible();
    let uses_fw_chain =
        has_endpoints && !svc.load_balancer_ips.is_empty() && !svc.load_balancer_source_ranges.is_empty();
    let lb_chain = if uses_fw_chain { &fw_chain } else { &ext_chain };

    let (internal_filter, external_filter) = if !has_endpoints {
        let c = format!("{name} has no endpoints");
        ((Target::Reject, c.clone()), (Target::Reject, c))
    } else {
        let c = format!("{name} has no local endpoints");
        ((Target::Drop, c.clone()), (Target::Drop, c))
    };

    let to = |chain: &str| Target::Jump(chain.to_owned());
    let vip = |r: Rule, ip: IpAddr| r.dst(host(ip)).proto(&proto).with(Match::DPort(port));

    // The cluster IP.
    if has_internal {
        nat.push(
            vip(Rule::new(super::iptables::KUBE_SERVICES).comment(format!("{name} cluster IP")), view.cluster_ip)
                .jump(to(internal_chain)),
        );
    } else {
        let (t, c) = internal_filter.clone();
        filter.push(vip(Rule::new(KUBE_SERVICES).comment(c), view.cluster_ip).jump(t));
    }
    // External IPs.
    for ip in &svc.external_ips {
        if has_endpoints {
            nat.push(vip(Rule::new(KUBE_SERVICES).comment(format!("{name} external IP")), *ip).jump(to(&ext_chain)));
        }
        if !has_external {
            let (t, c) = external_filter.clone();
            filter.push(vip(Rule::new(KUBE_EXTERNAL_SERVICES).comment(c), *ip).jump(t));
        }
    }
    // Load-balancer ingress.
    for ip in &svc.load_balancer_ips {
        if has_endpoints {
            nat.push(vip(Rule::new(KUBE_SERVICES).comment(format!("{name} loadbalancer IP")), *ip).jump(to(lb_chain)));
        }
        if uses_fw_chain {
            let c = format!("{name} traffic not accepted by {fw_chain}");
            filter.push(vip(Rule::new(KUBE_PROXY_FIREWALL).comment(c), *ip).jump(Target::Drop));
        }
    }
    if !has_external {
        for ip in &svc.load_balancer_ips {
            let (t, c) = external_filter.clone();
            filter.push(vip(Rule::new(KUBE_EXTERNAL_SERVICES).comment(c), *ip).jump(t));
        }
    }
    // NodePort.
    if let Some(np) = view.port.node_port {
        if has_endpoints {
            nat.push(Rule::new(KUBE_NODEPORTS).proto(&proto).comment(name).with(Match::DPort(np)).jump(to(&ext_chain)));
        }
        if !has_external {
            let (t, c) = external_filter.clone();
            filter.push(
                Rule::new(KUBE_EXTERNAL_SERVICES)
                    .proto(&proto)
                    .comment(c)
                    .with(Match::AddrType { src: false, kind: "LOCAL".into(), negated: false })
                    .with(Match::DPort(np))
                    .jump(t),
            );
        }
    }
    // The health-check NodePort is always accepted.
    if let Some(hc) = svc.health_check_node_port {
        filter.push(
            Rule::new(KUBE_NODEPORTS)
                .proto("tcp")
                .comment(format!("{name} health check node port"))
                .with(Match::DPort(hc))
                .jump(Target::Accept),
        );
    }

    // Internal traffic: masquerade what does not come from a pod.
    if has_internal {
        let r = vip(Rule::new(internal_chain.as_str()).comment(format!("{name} cluster IP")), view.cluster_ip);
        if cfg.masquerade_all {
            nat.push(r.jump(to(KUBE_MARK_MASQ)));
        } else if let Some(cidr) = cfg.cluster_cidr {
            nat.push(r.src(cidr, true).jump(to(KUBE_MARK_MASQ)));
        }
    }
    // External traffic.
    if uses_ext_chain {
        nat.chain(&ext_chain);
        if !view.external_policy_local() {
            nat.push(
                Rule::new(&ext_chain)
                    .comment(format!("masquerade traffic for {name} external destinations"))
                    .jump(to(KUBE_MARK_MASQ)),
            );
        } else {
            if let Some(cidr) = cfg.cluster_cidr {
                nat.push(
                    Rule::new(&ext_chain)
                        .src(cidr, false)
                        .comment(format!("pod traffic for {name} external destinations"))
                        .jump(to(&cluster_chain)),
                );
            }
            let local_src = Match::AddrType { src: true, kind: "LOCAL".into(), negated: false };
            nat.push(
                Rule::new(&ext_chain)
                    .comment(format!("masquerade LOCAL traffic for {name} external destinations"))
                    .with(local_src.clone())
                    .jump(to(KUBE_MARK_MASQ)),
            );
            nat.push(
                Rule::new(&ext_chain)
                    .comment(format!("route LOCAL traffic for {name} external destinations"))
                    .with(local_src)
                    .jump(to(&cluster_chain)),
            );
        }
        if has_external {
            nat.push(Rule::new(&ext_chain).jump(to(external_policy_chain)));
        }
    }
    // The load balancer's source ranges.
    if uses_fw_chain {
        nat.chain(&fw_chain);
        let mut allow_from_node = false;
        for range in &svc.load_balancer_source_ranges {
            // kube-proxy trims what it is fed; the API server would have
            // refused the untrimmed text.
            let Ok(cidr) = range.trim().parse::<IpNet>() else { continue };
            nat.push(
                Rule::new(&fw_chain).src(cidr, false).comment(format!("{name} loadbalancer IP")).jump(to(&ext_chain)),
            );
            allow_from_node |= node_ip.is_some_and(|ip| cidr.contains(&ip));
        }
        if allow_from_node {
            for ip in &svc.load_balancer_ips {
                nat.push(
                    Rule::new(&fw_chain)
                        .src(host(*ip), false)
                        .comment(format!("{name} loadbalancer IP"))
                        .jump(to(&ext_chain)),
                );
            }
        }
        nat.push(
            Rule::new(&fw_chain).comment(format!("other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL")),
        );
    }
    if uses_cluster_chain {
        nat.chain(&cluster_chain);
        endpoint_rules(nat, view, &cluster_chain, &view.cluster_endpoints, &proto, large);
    }
    if uses_local_chain {
        nat.chain(&local_chain);
        endpoint_rules(nat, view, &local_chain, &view.local_endpoints, &proto, large);
    }
    // One chain per endpoint: mark hairpin traffic for SNAT, then DNAT.
    let mut reachable: Vec<&ProxyEndpoint> = Vec::new();
    if uses_cluster_chain {
        reachable.extend(view.cluster_endpoints.iter());
    }
    if uses_local_chain {
        reachable.extend(view.local_endpoints.iter().filter(|e| !reachable.contains(e)).collect::<Vec<_>>());
    }
    for ep in reachable {
        let chain = endpoint_chain(name, &proto, &ep.addr());
        nat.chain(&chain);
        nat.push(commented(Rule::new(&chain).src(host(ep.ip), false), name, large).jump(to(KUBE_MARK_MASQ)));
        let mut dnat = commented(Rule::new(&chain).proto(&proto), name, large);
        if svc.session_affinity.is_some() {
            dnat = dnat.with(Match::RecentSet { name: chain.clone() });
        }
        nat.push(dnat.with(Match::ProtoModule).jump(Target::Dnat(ep.addr())));
    }
}

/// kubelet's guard of the loopback addresses (with route_localnet on, other
/// hosts must not reach 127.0.0.0/8); its jumps stand after kube-proxy's
/// own on real nodes (kubelet made the chain first), without a comment.
pub(crate) fn localnet_guard(filter: &mut Table) {
    filter.chain(KUBE_FIREWALL);
    filter.push(
        Rule::new(KUBE_FIREWALL)
            .src("127.0.0.0/8".parse().expect("literal"), true)
            .dst("127.0.0.0/8".parse().expect("literal"))
            .comment("block incoming localnet connections")
            .with(Match::CtState { states: vec!["RELATED".into(), "ESTABLISHED".into(), "DNAT".into()], negated: true })
            .jump(Target::Drop),
    );
    for from in ["INPUT", "OUTPUT"] {
        filter.push(Rule::new(from).jump(Target::Jump(KUBE_FIREWALL.into())));
    }
}

/// KUBE-FORWARD's acceptance of marked and established traffic.
pub(crate) fn forward_rules(filter: &mut Table, mark: u32) {
    filter.push(
        Rule::new(KUBE_FORWARD)
            .comment("kubernetes forwarding rules")
            .with(Match::Mark { value: mark, mask: mark, negated: false })
            .jump(Target::Accept),
    );
    filter.push(
        Rule::new(KUBE_FORWARD)
            .comment("kubernetes forwarding conntrack rule")
            .with(Match::CtState { states: vec!["RELATED".into(), "ESTABLISHED".into()], negated: false })
            .jump(Target::Accept),
    );
}

/// KUBE-POSTROUTING (masquerade what is marked, clearing the mark) and
/// KUBE-MARK-MASQ (set the mark).
pub(crate) fn masquerade_rules(nat: &mut Table, mark: u32) {
    nat.push(
        Rule::new(KUBE_POSTROUTING).with(Match::Mark { value: mark, mask: mark, negated: true }).jump(Target::Return),
    );
    nat.push(Rule::new(KUBE_POSTROUTING).jump(Target::SetXMark { value: mark, mask: 0 }));
    nat.push(
        Rule::new(KUBE_POSTROUTING)
            .comment("kubernetes service traffic requiring SNAT")
            .jump(Target::Masquerade { random_fully: true }),
    );
    nat.push(Rule::new(KUBE_MARK_MASQ).jump(Target::SetXMark { value: mark, mask: mark }));
}

/// `writeServiceToEndpointRules`: affinity checks first, then the random
/// cascade: rule i of n matches with probability 1/(n-i), the last always.
/// `appendServiceCommentLocked`: the comment, unless the cluster is large.
fn commented(rule: Rule, comment: impl Into<String>, large: bool) -> Rule {
    if large {
        rule
    } else {
        rule.comment(comment)
    }
}

fn endpoint_rules(
    nat: &mut Table,
    view: &ServicePortView<'_>,
    chain: &str,
    endpoints: &[ProxyEndpoint],
    proto: &str,
    large: bool,
) {
    let name = view.name.as_str();
    if let Some(seconds) = view.service.session_affinity {
        for ep in endpoints {
            let sep = endpoint_chain(name, proto, &ep.addr());
            nat.push(
                commented(Rule::new(chain), format!("{name} -> {}", ep.addr()), large)
                    .with(Match::RecentCheck { name: sep.clone(), seconds })
                    .jump(Target::Jump(sep)),
            );
        }
    }
    let n = endpoints.len();
    for (i, ep) in endpoints.iter().enumerate() {
        let sep = endpoint_chain(name, proto, &ep.addr());
        let mut r = commented(Rule::new(chain), format!("{name} -> {}", ep.addr()), large);
        if i + 1 < n {
            r = r.with(Match::probability(1.0 / (n - i) as f64));
        }
        nat.push(r.jump(Target::Jump(sep)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_names_hash_like_kube_proxy() {
        // Names and hashes as upstream kube-proxy's tests show them.
        assert_eq!(port_chain("KUBE-SVC-", "ns1/svc1:p80", "tcp"), "KUBE-SVC-XPGD46QRK7WJZT7O");
        assert_eq!(endpoint_chain("ns1/svc1:p80", "tcp", "10.180.0.1:80"), "KUBE-SEP-SXIVWICOYRO3J4NJ");
    }
}
