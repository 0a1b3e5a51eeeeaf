//! Writes the NetworkPolicy benchmark's manifests to standard output, for
//! scripts/bench-policy.sh to hand the same cluster to other analyzers.

#[path = "../benches/policy_scenario.rs"]
mod policy_scenario;

fn main() {
    print!("{}", policy_scenario::scenario());
}
