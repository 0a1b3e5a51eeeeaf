//! Scenarios bundled with the page, by the name `?scenario=NAME` uses.

/// `(name, title, YAML)` of every bundled scenario; the first is the default.
pub const BUNDLED: &[(&str, &str, &str)] = &[
    ("shop", "A small shop across three nodes", include_str!("../../../web/scenarios/shop.yaml")),
    ("policies", "The shop locked down with NetworkPolicies", include_str!("../../../web/scenarios/policies.yaml")),
];

/// The scenario a page opens with when nothing else is asked for.
pub fn default_scenario() -> (&'static str, &'static str) {
    (BUNDLED[0].0, BUNDLED[0].2)
}

pub fn find(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _, _)| *n == name).map(|(_, _, text)| *text)
}
