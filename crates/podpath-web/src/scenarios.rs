//! Scenarios and lessons bundled with the page, by the name `?scenario=NAME`
//! uses.

/// `(name, title, YAML)` of every bundled scenario; the first is the default.
pub const BUNDLED: &[(&str, &str, &str)] = &[
    ("shop", "A small shop across three nodes", include_str!("../../../web/scenarios/shop.yaml")),
    ("policies", "The shop locked down with NetworkPolicies", include_str!("../../../web/scenarios/policies.yaml")),
];

/// The scenario a page opens with when nothing else is asked for.
pub fn default_scenario() -> (&'static str, &'static str) {
    (BUNDLED[0].0, BUNDLED[0].2)
}

/// The text a scenario or lesson starts from.
pub fn find(name: &str) -> Option<String> {
    BUNDLED
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, text)| (*text).to_owned())
        .or_else(|| lesson(name).map(|l| l.spec.scenario))
}

/// Every bundled lesson, as written (`web/lessons/`).
pub const LESSONS: &[&str] = &[
    include_str!("../../../web/lessons/01-pods-and-ips.yaml"),
    include_str!("../../../web/lessons/02-services-clusterip.yaml"),
    include_str!("../../../web/lessons/03-dns-externalname.yaml"),
    include_str!("../../../web/lessons/04-selector-typo.yaml"),
    include_str!("../../../web/lessons/05-default-deny-dns.yaml"),
    include_str!("../../../web/lessons/06-namespace-isolation.yaml"),
    include_str!("../../../web/lessons/07-flannel-ignores-policy.yaml"),
    include_str!("../../../web/lessons/08-ipvs-rejects-ping.yaml"),
    include_str!("../../../web/lessons/09-named-target-port.yaml"),
    include_str!("../../../web/lessons/10-ingress-nginx.yaml"),
    include_str!("../../../web/lessons/11-traefik-path-types.yaml"),
    include_str!("../../../web/lessons/12-nodeport-traffic-policy.yaml"),
    include_str!("../../../web/lessons/13-weave-endport.yaml"),
    include_str!("../../../web/lessons/14-headless-statefulset.yaml"),
    include_str!("../../../web/lessons/15-namespace-selector.yaml"),
    include_str!("../../../web/lessons/16-iptables-chains-affinity.yaml"),
    include_str!("../../../web/lessons/17-nftables-mode.yaml"),
    include_str!("../../../web/lessons/18-calico-vxlan.yaml"),
    include_str!("../../../web/lessons/19-cilium-socket-lb.yaml"),
    include_str!("../../../web/lessons/20-loadbalancer-client-ip.yaml"),
    include_str!("../../../web/lessons/21-policy-after-dnat.yaml"),
];

/// The bundled lessons, parsed once (the first time one is asked for).
fn lessons() -> &'static [podpath_core::lesson::Lesson] {
    static PARSED: std::sync::OnceLock<Vec<podpath_core::lesson::Lesson>> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| {
        LESSONS.iter().filter_map(|text| podpath_core::lesson::parse("lesson.yaml", text).ok()).collect()
    })
}

/// The bundled lesson of that name.
pub fn lesson(name: &str) -> Option<podpath_core::lesson::Lesson> {
    lessons().iter().find(|l| l.metadata.name == name).cloned()
}

/// `(name, title)` of every bundled lesson, in order.
pub fn lesson_titles() -> Vec<(String, String)> {
    lessons().iter().map(|l| (l.metadata.name.clone(), l.spec.title.clone())).collect()
}
