//! Writes the NetworkPolicy benchmark's manifests to standard output, for
//! scripts/bench-policy.sh to hand the same cluster to other analyzers.
//! An argument sets the number of namespaces (100, the benchmark's, when
//! absent; each holds 50 pods and 10 policies).

#[path = "../benches/policy_scenario.rs"]
mod policy_scenario;

fn main() {
    match std::env::args().nth(1).and_then(|n| n.parse().ok()) {
        Some(namespaces) => print!("{}", policy_scenario::scenario_with(namespaces)),
        None => print!("{}", policy_scenario::scenario()),
    }
}
