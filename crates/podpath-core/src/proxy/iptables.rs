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
        // Every address of the node's that the CIDRs hold, a second
        // InternalIP too.
        let addresses = cluster.node(node).map(|n| n.addresses().collect::<Vec<_>>()).unwrap_or_default();
        let local: Vec<IpAddr> = node_ip
            .into_iter()
            .chain(addresses)
            .filter(|ip| cfg.node_port_addresses.iter().any(|n| n.contains(ip)))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for ip in local {
            nat.push(Rule::new(KUBE_SERVICES).comment(last).dst(host(ip)).jump(Target::Jump(KUBE_NODEPORTS.into())));
        }
    }
    Ruleset { filter, nat }
}

/// What kube-proxy decides for one Service port before writing its rules
/// (the per-port variables of `syncProxyRules`).
struct PortPlan<'v, 'c> {
    view: &'v ServicePortView<'c>,
    name: &'v str,
    proto: String,
    cluster_chain: String,
    local_chain: String,
    ext_chain: String,
    fw_chain: String,
    uses_cluster_chain: bool,
    uses_local_chain: bool,
    has_endpoints: bool,
    has_internal: bool,
    has_external: bool,
    /// The chain internal traffic goes to, and external traffic after its
    /// own chain: the Local one under a Local policy.
    internal_chain: String,
    external_policy_chain: String,
    uses_ext_chain: bool,
    uses_fw_chain: bool,
    /// What the filter table does where the policy leaves no endpoint:
    /// reject without any, drop without a local one.
    no_endpoint: (Target, String),
}

impl<'v, 'c> PortPlan<'v, 'c> {
    fn new(view: &'v ServicePortView<'c>) -> PortPlan<'v, 'c> {
        let svc = view.service;
        let proto = view.protocol().as_str().to_ascii_lowercase();
        let name = view.name.as_str();
        let chain = |prefix: &str| port_chain(prefix, name, &proto);
        let (cluster_chain, local_chain) = (chain("KUBE-SVC-"), chain("KUBE-SVL-"));
        let pick = |local: bool| if local { local_chain.clone() } else { cluster_chain.clone() };
        let has_endpoints = view.has_endpoints;
        let no_endpoint = if has_endpoints {
            (Target::Drop, format!("{name} has no local endpoints"))
        } else {
            (Target::Reject, format!("{name} has no endpoints"))
        };
        PortPlan {
            view,
            name,
            ext_chain: chain("KUBE-EXT-"),
            fw_chain: chain("KUBE-FW-"),
            uses_cluster_chain: !view.cluster_endpoints.is_empty() && view.uses_cluster_endpoints(),
            uses_local_chain: !view.local_endpoints.is_empty() && view.uses_local_endpoints(),
            has_endpoints,
            has_internal: view.has_internal_endpoints(),
            has_external: view.has_external_endpoints(),
            internal_chain: pick(view.internal_policy_local()),
            external_policy_chain: pick(view.external_policy_local()),
            uses_ext_chain: has_endpoints && view.externally_accessible(),
            uses_fw_chain: has_endpoints
                && !svc.load_balancer_ips.is_empty()
                && !svc.load_balancer_source_ranges.is_empty(),
            no_endpoint,
            proto,
            cluster_chain,
            local_chain,
        }
    }

    /// A rule for one of the port's addresses.
    fn vip(&self, r: Rule, ip: IpAddr) -> Rule {
        r.dst(host(ip)).proto(&self.proto).with(Match::DPort(self.view.port.port))
    }
}

fn to(chain: &str) -> Target {
    Target::Jump(chain.to_owned())
}

fn write_service(
    filter: &mut Table,
    nat: &mut Table,
    view: &ServicePortView<'_>,
    cfg: &ProxyConfig,
    node_ip: Option<IpAddr>,
    large: bool,
) {
    let plan = PortPlan::new(view);
    addresses(filter, nat, &plan);
    node_ports(filter, nat, &plan);
    // Internal traffic: masquerade what does not come from a pod.
    if plan.has_internal {
        let comment = format!("{} cluster IP", plan.name);
        let r = plan.vip(Rule::new(plan.internal_chain.as_str()).comment(comment), view.cluster_ip);
        if cfg.masquerade_all {
            nat.push(r.jump(to(KUBE_MARK_MASQ)));
        } else if let Some(cidr) = cfg.cluster_cidr {
            nat.push(r.src(cidr, true).jump(to(KUBE_MARK_MASQ)));
        }
    }
    if plan.uses_ext_chain {
        external_chain(nat, &plan, cfg);
    }
    if plan.uses_fw_chain {
        firewall_chain(nat, &plan, node_ip);
    }
    if plan.uses_cluster_chain {
        nat.chain(&plan.cluster_chain);
        endpoint_rules(nat, view, &plan.cluster_chain, &view.cluster_endpoints, &plan.proto, large);
    }
    if plan.uses_local_chain {
        nat.chain(&plan.local_chain);
        endpoint_rules(nat, view, &plan.local_chain, &view.local_endpoints, &plan.proto, large);
    }
    endpoint_chains(nat, &plan, large);
}

/// The port's cluster IP, external IPs and load-balancer addresses: a jump
/// to its chains where it has endpoints, the filter's verdict where not.
fn addresses(filter: &mut Table, nat: &mut Table, plan: &PortPlan<'_, '_>) {
    let (svc, name) = (plan.view.service, plan.name);
    if plan.has_internal {
        let r = Rule::new(KUBE_SERVICES).comment(format!("{name} cluster IP"));
        nat.push(plan.vip(r, plan.view.cluster_ip).jump(to(&plan.internal_chain)));
    } else {
        let (t, c) = plan.no_endpoint.clone();
        filter.push(plan.vip(Rule::new(KUBE_SERVICES).comment(c), plan.view.cluster_ip).jump(t));
    }
    for ip in &svc.external_ips {
        if plan.has_endpoints {
            let r = Rule::new(KUBE_SERVICES).comment(format!("{name} external IP"));
            nat.push(plan.vip(r, *ip).jump(to(&plan.ext_chain)));
        }
        if !plan.has_external {
            let (t, c) = plan.no_endpoint.clone();
            filter.push(plan.vip(Rule::new(KUBE_EXTERNAL_SERVICES).comment(c), *ip).jump(t));
        }
    }
    let lb_chain = if plan.uses_fw_chain { &plan.fw_chain } else { &plan.ext_chain };
    for ip in &svc.load_balancer_ips {
        if plan.has_endpoints {
            let r = Rule::new(KUBE_SERVICES).comment(format!("{name} loadbalancer IP"));
            nat.push(plan.vip(r, *ip).jump(to(lb_chain)));
        }
        if plan.uses_fw_chain {
            let c = format!("{name} traffic not accepted by {}", plan.fw_chain);
            filter.push(plan.vip(Rule::new(KUBE_PROXY_FIREWALL).comment(c), *ip).jump(Target::Drop));
        }
    }
    if !plan.has_external {
        for ip in &svc.load_balancer_ips {
            let (t, c) = plan.no_endpoint.clone();
            filter.push(plan.vip(Rule::new(KUBE_EXTERNAL_SERVICES).comment(c), *ip).jump(t));
        }
    }
}

/// The port's NodePort, and the health-check NodePort (always accepted).
fn node_ports(filter: &mut Table, nat: &mut Table, plan: &PortPlan<'_, '_>) {
    let (proto, name) = (plan.proto.as_str(), plan.name);
    if let Some(np) = plan.view.port.node_port {
        if plan.has_endpoints {
            nat.push(
                Rule::new(KUBE_NODEPORTS).proto(proto).comment(name).with(Match::DPort(np)).jump(to(&plan.ext_chain)),
            );
        }
        if !plan.has_external {
            let (t, c) = plan.no_endpoint.clone();
            filter.push(
                Rule::new(KUBE_EXTERNAL_SERVICES)
                    .proto(proto)
                    .comment(c)
                    .with(Match::AddrType { src: false, kind: "LOCAL".into(), negated: false })
                    .with(Match::DPort(np))
                    .jump(t),
            );
        }
    }
    if let Some(hc) = plan.view.service.health_check_node_port {
        filter.push(
            Rule::new(KUBE_NODEPORTS)
                .proto("tcp")
                .comment(format!("{name} health check node port"))
                .with(Match::DPort(hc))
                .jump(Target::Accept),
        );
    }
}

/// External traffic: masqueraded under the Cluster policy; under Local,
/// pods and the node's own traffic short-circuit to the Cluster chain.
fn external_chain(nat: &mut Table, plan: &PortPlan<'_, '_>, cfg: &ProxyConfig) {
    let (ext, name) = (plan.ext_chain.as_str(), plan.name);
    nat.chain(ext);
    if !plan.view.external_policy_local() {
        let comment = format!("masquerade traffic for {name} external destinations");
        nat.push(Rule::new(ext).comment(comment).jump(to(KUBE_MARK_MASQ)));
    } else {
        if let Some(cidr) = cfg.cluster_cidr {
            let comment = format!("pod traffic for {name} external destinations");
            nat.push(Rule::new(ext).src(cidr, false).comment(comment).jump(to(&plan.cluster_chain)));
        }
        let local_src = Match::AddrType { src: true, kind: "LOCAL".into(), negated: false };
        let comment = format!("masquerade LOCAL traffic for {name} external destinations");
        nat.push(Rule::new(ext).comment(comment).with(local_src.clone()).jump(to(KUBE_MARK_MASQ)));
        let comment = format!("route LOCAL traffic for {name} external destinations");
        nat.push(Rule::new(ext).comment(comment).with(local_src).jump(to(&plan.cluster_chain)));
    }
    if plan.has_external {
        nat.push(Rule::new(ext).jump(to(&plan.external_policy_chain)));
    }
}

/// The load balancer's source ranges: what they admit goes on to the
/// external chain, the rest is left for KUBE-PROXY-FIREWALL to drop.
fn firewall_chain(nat: &mut Table, plan: &PortPlan<'_, '_>, node_ip: Option<IpAddr>) {
    let (svc, fw, name) = (plan.view.service, plan.fw_chain.as_str(), plan.name);
    nat.chain(fw);
    let mut allow_from_node = false;
    for range in &svc.load_balancer_source_ranges {
        // kube-proxy trims what it is fed; the API server would have
        // refused the untrimmed text.
        let Ok(cidr) = range.trim().parse::<IpNet>() else { continue };
        let comment = format!("{name} loadbalancer IP");
        nat.push(Rule::new(fw).src(cidr, false).comment(comment).jump(to(&plan.ext_chain)));
        allow_from_node |= node_ip.is_some_and(|ip| cidr.contains(&ip));
    }
    if allow_from_node {
        for ip in &svc.load_balancer_ips {
            let comment = format!("{name} loadbalancer IP");
            nat.push(Rule::new(fw).src(host(*ip), false).comment(comment).jump(to(&plan.ext_chain)));
        }
    }
    nat.push(Rule::new(fw).comment(format!("other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL")));
}

/// One chain per endpoint either chain can reach: mark hairpin traffic for
/// SNAT, then DNAT.
fn endpoint_chains(nat: &mut Table, plan: &PortPlan<'_, '_>, large: bool) {
    let (view, name, proto) = (plan.view, plan.name, plan.proto.as_str());
    let mut reachable: Vec<&ProxyEndpoint> = Vec::new();
    if plan.uses_cluster_chain {
        reachable.extend(view.cluster_endpoints.iter());
    }
    if plan.uses_local_chain {
        reachable.extend(view.local_endpoints.iter().filter(|e| !reachable.contains(e)).collect::<Vec<_>>());
    }
    for ep in reachable {
        let chain = endpoint_chain(name, proto, &ep.addr());
        nat.chain(&chain);
        nat.push(commented(Rule::new(&chain).src(host(ep.ip), false), name, large).jump(to(KUBE_MARK_MASQ)));
        let mut dnat = commented(Rule::new(&chain).proto(proto), name, large);
        if view.service.session_affinity.is_some() {
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
