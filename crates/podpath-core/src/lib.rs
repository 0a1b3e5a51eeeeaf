//! podpath-core: Kubernetes manifests in, a simulated cluster out.
//!
//! This crate is the whole of podpath's behaviour. It does no IO, reads no
//! clock and draws no OS randomness: the browser app and the CLI hand it text
//! and settings, and render what it returns. The pipeline is
//! [`load`](load::load) (text → typed objects + diagnostics) then
//! [`Cluster::build`] (objects → nodes, pods and addresses + diagnostics), and
//! [`kubectl`] renders the result the way `kubectl get` prints it.

// No function of the core over 100 lines (clippy.toml sets the
// threshold); a data table that must be long says so where it is.
#![warn(clippy::too_many_lines)]

mod build;
pub mod capture;
pub mod cluster;
pub mod datapath;
mod detect;
pub mod diag;
pub mod dns;
pub mod gateway;
mod health;
pub mod http;
pub mod ingress;
pub mod kubectl;
pub mod labels;
pub mod lesson;
pub mod load;
pub mod names;
pub mod netfilter;
pub mod order;
pub mod packet;
pub mod pcap;
pub mod policy;
pub mod prepared;
pub mod proxy;
pub mod settings;
pub mod share;
pub mod shell;
pub mod step;
pub mod system;
pub mod topology;
pub mod trace;
pub mod yaml;

pub use cluster::{Cluster, Node, Pod, PodPhase};
pub use diag::{Diagnostic, Severity};
pub use load::{load, Manifests, Source};
pub use settings::{Cni, IngressController, Overrides, ProxyMode, Settings};

/// Loads `sources` and builds the cluster they describe, returning every
/// diagnostic found along the way (loading first, then building).
///
/// ```
/// let src = podpath_core::Source::new("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: nginx}]\n");
/// let (cluster, diags) = podpath_core::simulate(&[src]);
/// assert!(diags.is_empty());
/// let pod = cluster.pod("default", "a").unwrap();
/// // Not on the control plane: kind taints it when workers exist.
/// assert!(pod.node.as_deref().unwrap().starts_with("kind-worker"));
/// assert!(pod.ip.is_some());
/// // A cluster runs its own components too: CoreDNS behind kube-dns.
/// assert!(cluster.service("kube-system", "kube-dns").is_some());
/// ```
pub fn simulate(sources: &[Source]) -> (Cluster, Vec<Diagnostic>) {
    simulate_with(sources, &Overrides::default())
}

/// [`simulate`] with settings from outside the scenario.
pub fn simulate_with(sources: &[Source], overrides: &Overrides) -> (Cluster, Vec<Diagnostic>) {
    let (manifests, mut diags) = load(sources);
    let (cluster, more) = Cluster::build_with(&manifests, overrides);
    diags.extend(more);
    diags.extend(policy::lint::lint(&policy::Engine::new(&cluster)));
    load::place(sources, &mut diags);
    (cluster, diags)
}
