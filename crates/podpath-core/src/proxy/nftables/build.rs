//! Writing the `ip kube-proxy` table for one node: the sets, maps, base
//! and fixed chains a first sync creates, then each Service port's chains
//! and map elements in the order `syncProxyRules` writes them.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{hashed, Action, Base, Chain, Map, MapVerdict, Match, Ruleset, Set};
use super::{CLUSTER_IPS, FIREWALL_IPS, MARK_MASQ, NODEPORT_IPS, NO_ENDPOINT_NODEPORTS, NO_ENDPOINT_SERVICES};
use super::{REJECT_CHAIN, SERVICE_IPS, SERVICE_NODEPORTS};
use crate::cluster::Cluster;
use crate::proxy::{service_ports, Hook, ProxyConfig, ProxyEndpoint, ServicePortView};

/// What kube-proxy in nftables mode programs on `node`.
pub fn build(cluster: &Cluster, node: &str) -> Ruleset {
    let cfg = ProxyConfig::for_mode(&cluster.settings, crate::settings::ProxyMode::Nftables);
    let node_ip = cluster.node(node).and_then(|n| n.internal_ip);
    let mut t = skeleton(cluster, cfg.masquerade_mark());
    // nftables mode takes NodePorts on the node's primary address (its
    // default `--nodeport-addresses primary`), or on the configured CIDRs;
    // never on loopback.
    let addresses: Vec<IpAddr> = if cfg.node_port_addresses.is_empty() {
        node_ip.into_iter().collect()
    } else {
        cluster.node(node).map(|n| n.addresses().collect()).unwrap_or_default()
    };
    let nodeport_ips: Vec<IpAddr> = addresses
        .into_iter()
        .filter(|ip| cfg.node_port_addresses.is_empty() || cfg.node_port_addresses.iter().any(|n| n.contains(ip)))
        .filter(|ip| !ip.is_loopback())
        .collect();
    t.set_mut(NODEPORT_IPS).elements = nodeport_ips;
    for view in service_ports(cluster, node) {
        write_service(&mut t, &view, &cfg, node_ip);
    }
    t
}

/// The table before any Service: its sets and maps, the base chains, the
/// fixed chains and their rules, in the order a first sync creates them.
fn skeleton(cluster: &Cluster, mark: u32) -> Ruleset {
    let mut t = Ruleset::default();
    for (name, comment) in [(CLUSTER_IPS, "Active ClusterIPs"), (NODEPORT_IPS, "IPs that accept NodePort traffic")] {
        t.sets.push(Set { name: name.into(), comment: Some(comment.into()), timeout: None, elements: vec![] });
    }
    for (name, with_addr, comment) in [
        (NO_ENDPOINT_SERVICES, true, "vmap to drop or reject packets to services with no endpoints"),
        (NO_ENDPOINT_NODEPORTS, false, "vmap to drop or reject packets to service nodeports with no endpoints"),
        (FIREWALL_IPS, true, "destinations that are subject to LoadBalancerSourceRanges"),
        (SERVICE_IPS, true, "ClusterIP, ExternalIP and LoadBalancer IP traffic"),
        (SERVICE_NODEPORTS, false, "NodePort traffic"),
    ] {
        t.maps.push(Map { name: name.into(), with_addr, comment: comment.into(), elements: vec![] });
    }
    let bases = [
        ("filter-prerouting-pre-dnat", "filter", Hook::Prerouting, -110),
        ("filter-output-pre-dnat", "filter", Hook::Output, -110),
        ("filter-input", "filter", Hook::Input, 0),
        ("filter-forward", "filter", Hook::Forward, 0),
        ("filter-output", "filter", Hook::Output, 0),
        ("nat-prerouting", "nat", Hook::Prerouting, -100),
        ("nat-output", "nat", Hook::Output, -100),
        ("nat-postrouting", "nat", Hook::Postrouting, 100),
    ];
    for (name, kind, hook, priority) in bases {
        let base = Some(Base { kind, hook, priority });
        t.chains.push(Chain { name: name.into(), base, comment: None, rules: vec![] });
    }
    t.reindex();
    fixed_rules(&mut t, cluster, mark);
    // Reorder the fixed chains as a first sync creates them.
    let order = [
        "nodeport-endpoints-check",
        "service-endpoints-check",
        "firewall-check",
        "services",
        "masquerading",
        "cluster-ips-check",
        MARK_MASQ,
        REJECT_CHAIN,
    ];
    let (mut fixed, base): (Vec<Chain>, Vec<Chain>) =
        std::mem::take(&mut t.chains).into_iter().partition(|c| c.base.is_none());
    crate::order::sort_by_key(&mut fixed, |c| order.iter().position(|o| *o == c.name));
    t.chains = base;
    t.chains.extend(fixed);
    t.reindex();
    t
}

/// The jumps from the base chains, and the fixed chains' own rules.
fn fixed_rules(t: &mut Ruleset, cluster: &Cluster, mark: u32) {
    let new = || vec![Match::CtStateNew];
    let jump = |c: &str| Action::Jump(c.into());
    t.rule("filter-input", new(), jump("nodeport-endpoints-check"));
    t.rule("filter-input", new(), jump("service-endpoints-check"));
    t.rule("filter-forward", new(), jump("service-endpoints-check"));
    t.rule("filter-output", new(), jump("service-endpoints-check"));
    t.rule("filter-prerouting-pre-dnat", new(), jump("firewall-check"));
    t.rule("filter-output-pre-dnat", new(), jump("firewall-check"));
    t.rule("nat-output", vec![], jump("services"));
    t.rule("nat-prerouting", vec![], jump("services"));
    t.rule("nat-postrouting", vec![], jump("masquerading"));
    t.rule("filter-forward", new(), jump("cluster-ips-check"));
    t.rule("filter-output", new(), jump("cluster-ips-check"));
    t.rule("masquerading", vec![Match::MarkClear(mark)], Action::Return);
    t.rule("masquerading", vec![], Action::MarkXor(mark));
    t.rule("masquerading", vec![], Action::Masquerade);
    let invalid_port = vec![Match::DaddrInSet(CLUSTER_IPS.into())];
    t.commented("cluster-ips-check", invalid_port, Action::Reject, "Reject traffic to invalid ports of ClusterIPs");
    let unallocated = vec![Match::Daddr { nets: vec![cluster.settings.service_cidr], negated: false }];
    t.commented("cluster-ips-check", unallocated, Action::Drop, "Drop traffic to unallocated ClusterIPs");
    t.rule(MARK_MASQ, vec![], Action::MarkOr(mark));
    t.chain_mut(REJECT_CHAIN).comment = Some("helper for @no-endpoint-services / @no-endpoint-nodeports".into());
    t.rule(REJECT_CHAIN, vec![], Action::Reject);
    t.rule("service-endpoints-check", vec![], Action::VmapAddrProtoPort(NO_ENDPOINT_SERVICES.into()));
    let nodeport_ips = vec![Match::DaddrInSet(NODEPORT_IPS.into())];
    t.rule("nodeport-endpoints-check", nodeport_ips, Action::VmapProtoPort(NO_ENDPOINT_NODEPORTS.into()));
    t.rule("firewall-check", vec![], Action::VmapAddrProtoPort(FIREWALL_IPS.into()));
    t.rule("services", vec![], Action::VmapAddrProtoPort(SERVICE_IPS.into()));
    t.rule("services", vec![Match::DaddrInSet(NODEPORT_IPS.into())], Action::VmapProtoPort(SERVICE_NODEPORTS.into()));
}

fn base_name(view: &ServicePortView<'_>) -> String {
    format!(
        "{}/{}/{}/{}",
        view.service.namespace,
        view.service.name,
        view.protocol().as_str().to_ascii_lowercase(),
        view.port.name
    )
}

fn endpoint_base(view: &ServicePortView<'_>, ep: &ProxyEndpoint) -> String {
    let ip = ep.ip.to_string().replace(':', ".");
    format!("{}__{ip}/{}", base_name(view), ep.port)
}

/// What kube-proxy decides for one Service port before writing it.
struct PortPlan<'v, 'c> {
    view: &'v ServicePortView<'c>,
    proto: String,
    cluster_chain: String,
    local_chain: String,
    external_chain: String,
    firewall_chain: String,
    has_internal: bool,
    has_external: bool,
    /// The chain internal traffic and external traffic (after its own
    /// chain) go to: the Local one under a Local policy.
    internal_chain: String,
    external_policy_chain: String,
    /// What the no-endpoint maps do: reject without any endpoint, drop
    /// without a local one.
    no_endpoint: MapVerdict,
    ranges: Vec<IpNet>,
    uses_firewall: bool,
}

impl<'v, 'c> PortPlan<'v, 'c> {
    fn new(view: &'v ServicePortView<'c>) -> PortPlan<'v, 'c> {
        let svc = view.service;
        let base = base_name(view);
        let (cluster_chain, local_chain) = (hashed("service-", &base), hashed("local-", &base));
        let pick = |local: bool| if local { local_chain.clone() } else { cluster_chain.clone() };
        let ranges: Vec<IpNet> = svc.load_balancer_source_ranges.iter().filter_map(|r| r.trim().parse().ok()).collect();
        PortPlan {
            view,
            proto: view.protocol().as_str().to_ascii_lowercase(),
            external_chain: hashed("external-", &base),
            firewall_chain: hashed("firewall-", &base),
            has_internal: view.has_internal_endpoints(),
            has_external: view.has_external_endpoints(),
            internal_chain: pick(view.internal_policy_local()),
            external_policy_chain: pick(view.external_policy_local()),
            no_endpoint: if view.has_endpoints { MapVerdict::Drop } else { MapVerdict::Goto(REJECT_CHAIN.into()) },
            uses_firewall: !svc.load_balancer_ips.is_empty() && !ranges.is_empty(),
            ranges,
            cluster_chain,
            local_chain,
        }
    }
}

fn write_service(t: &mut Ruleset, view: &ServicePortView<'_>, cfg: &ProxyConfig, node_ip: Option<IpAddr>) {
    let plan = PortPlan::new(view);
    endpoint_chains(t, &plan);
    policy_chains(t, &plan, cfg);
    if view.has_endpoints && view.externally_accessible() {
        external_chain(t, &plan, cfg);
    }
    // The firewall chain: drop what the source ranges do not allow.
    if plan.uses_firewall {
        let mut allowed = plan.ranges.clone();
        if node_ip.is_some_and(|ip| plan.ranges.iter().any(|r| r.contains(&ip))) {
            allowed.extend(view.service.load_balancer_ips.iter().map(|ip| IpNet::from(*ip)));
        }
        crate::order::sort(&mut allowed);
        t.rule(&plan.firewall_chain, vec![Match::Saddr { nets: allowed, negated: true }], Action::Drop);
    }
    elements(t, &plan);
}

/// The affinity sets and the endpoint chains of every reachable endpoint.
fn endpoint_chains(t: &mut Ruleset, plan: &PortPlan<'_, '_>) {
    let (view, svc) = (plan.view, plan.view.service);
    let reachable = view.reachable_endpoints();
    if let Some(timeout) = svc.session_affinity {
        for ep in &reachable {
            let name = hashed("affinity-", &endpoint_base(view, ep));
            t.sets.push(Set { name, comment: None, timeout: Some(timeout), elements: vec![] });
        }
    }
    for ep in &reachable {
        let eb = endpoint_base(view, ep);
        let chain = hashed("endpoint-", &eb);
        let own = vec![Match::Saddr { nets: vec![IpNet::from(ep.ip)], negated: false }];
        t.rule(&chain, own, Action::Jump(MARK_MASQ.into()));
        if svc.session_affinity.is_some() {
            t.rule(&chain, vec![], Action::Update(hashed("affinity-", &eb)));
        }
        t.rule(&chain, vec![], Action::Dnat { protocol: plan.proto.clone(), ip: ep.ip, port: ep.port });
    }
}

/// The policy chains: the internal one marks traffic that does not come
/// from a pod, then affinity, then the random pick.
fn policy_chains(t: &mut Ruleset, plan: &PortPlan<'_, '_>, cfg: &ProxyConfig) {
    let view = plan.view;
    let uses_cluster = !view.cluster_endpoints.is_empty() && view.uses_cluster_endpoints();
    let uses_local = !view.local_endpoints.is_empty() && view.uses_local_endpoints();
    for (chain, used, endpoints) in [
        (&plan.cluster_chain, uses_cluster, &view.cluster_endpoints),
        (&plan.local_chain, uses_local, &view.local_endpoints),
    ] {
        if !used {
            continue;
        }
        if *chain == plan.internal_chain && plan.has_internal {
            let vip = Match::Daddr { nets: vec![IpNet::from(view.cluster_ip)], negated: false };
            if cfg.masquerade_all {
                t.rule(chain, vec![vip], Action::Jump(MARK_MASQ.into()));
            } else if let Some(cidr) = cfg.cluster_cidr {
                let not_pods = Match::Saddr { nets: vec![cidr], negated: true };
                t.rule(chain, vec![vip, not_pods], Action::Jump(MARK_MASQ.into()));
            }
        }
        let targets: Vec<String> = endpoints.iter().map(|e| hashed("endpoint-", &endpoint_base(view, e))).collect();
        if view.service.session_affinity.is_some() {
            for e in endpoints {
                let eb = endpoint_base(view, e);
                let remembered = vec![Match::SaddrInSet(hashed("affinity-", &eb))];
                t.rule(chain, remembered, Action::Goto(hashed("endpoint-", &eb)));
            }
        }
        t.rule(chain, vec![], Action::Numgen(targets));
    }
}

/// The external chain: masquerade and go to the Cluster chain, or under
/// the Local policy short-circuit pods' and the node's own traffic.
fn external_chain(t: &mut Ruleset, plan: &PortPlan<'_, '_>, cfg: &ProxyConfig) {
    let (ext, cluster) = (plan.external_chain.as_str(), &plan.cluster_chain);
    if !plan.view.external_policy_local() {
        t.rule(ext, vec![], Action::Jump(MARK_MASQ.into()));
        t.rule(ext, vec![], Action::Goto(cluster.clone()));
        return;
    }
    if let Some(cidr) = cfg.cluster_cidr {
        let pods = vec![Match::Saddr { nets: vec![cidr], negated: false }];
        t.commented(ext, pods, Action::Goto(cluster.clone()), "short-circuit pod traffic");
    }
    t.commented(ext, vec![Match::FibSaddrLocal], Action::Jump(MARK_MASQ.into()), "masquerade local traffic");
    t.commented(ext, vec![Match::FibSaddrLocal], Action::Goto(cluster.clone()), "short-circuit local traffic");
    if plan.has_external {
        t.rule(ext, vec![], Action::Goto(plan.external_policy_chain.clone()));
    }
}

/// The port's elements in the sets and maps.
fn elements(t: &mut Ruleset, plan: &PortPlan<'_, '_>) {
    let (view, svc) = (plan.view, plan.view.service);
    let (proto, port, spn) = (plan.proto.as_str(), view.port.port, Some(view.name.as_str()));
    let has_endpoints = view.has_endpoints;
    let to_external = || MapVerdict::Goto(plan.external_chain.clone());
    let cluster_ips = &mut t.set_mut(CLUSTER_IPS).elements;
    if !cluster_ips.contains(&view.cluster_ip) {
        cluster_ips.push(view.cluster_ip);
        crate::order::sort(cluster_ips);
    }
    if plan.has_internal {
        let verdict = MapVerdict::Goto(plan.internal_chain.clone());
        t.element(SERVICE_IPS, Some(view.cluster_ip), proto, port, verdict, None);
    } else {
        t.element(NO_ENDPOINT_SERVICES, Some(view.cluster_ip), proto, port, plan.no_endpoint.clone(), spn);
    }
    for ip in &svc.external_ips {
        if has_endpoints {
            t.element(SERVICE_IPS, Some(*ip), proto, port, to_external(), None);
        }
        if !plan.has_external {
            t.element(NO_ENDPOINT_SERVICES, Some(*ip), proto, port, plan.no_endpoint.clone(), spn);
        }
    }
    for ip in &svc.load_balancer_ips {
        if has_endpoints {
            t.element(SERVICE_IPS, Some(*ip), proto, port, to_external(), None);
        }
        if plan.uses_firewall {
            let verdict = MapVerdict::Goto(plan.firewall_chain.clone());
            t.element(FIREWALL_IPS, Some(*ip), proto, port, verdict, None);
        }
        if !plan.has_external {
            t.element(NO_ENDPOINT_SERVICES, Some(*ip), proto, port, plan.no_endpoint.clone(), spn);
        }
    }
    if let Some(np) = view.port.node_port {
        if has_endpoints {
            t.element(SERVICE_NODEPORTS, None, proto, np, to_external(), None);
        }
        if !plan.has_external {
            t.element(NO_ENDPOINT_NODEPORTS, None, proto, np, plan.no_endpoint.clone(), spn);
        }
    }
}
