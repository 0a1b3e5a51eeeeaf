//! NetworkPolicies as objects of the cluster: which pods each one selects.
//! (Evaluating their rules against connections comes with the policy
//! engine; this module reads them, validates the selectors and warns about
//! policies that select nothing.)

use k8s_openapi::api::networking::v1 as networking;

use super::Pod;
use crate::diag::{Diagnostic, Origin};
use crate::labels::Selector;
use crate::load::{Manifests, Object};

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkPolicy {
    pub namespace: String,
    pub name: String,
    pub pod_selector: Selector,
    /// `policyTypes` as written, or as the API server defaults them.
    pub policy_types: Vec<String>,
    /// The rules as written, for the policy engine.
    pub spec: networking::NetworkPolicySpec,
    pub origin: Origin,
}

impl NetworkPolicy {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Whether this policy selects `pod` (same namespace, selector matches).
    pub fn selects(&self, pod: &Pod) -> bool {
        pod.namespace == self.namespace && self.pod_selector.matches(&pod.labels)
    }
}

pub(super) fn build(manifests: &Manifests, pods: &[Pod], diags: &mut Vec<Diagnostic>) -> Vec<NetworkPolicy> {
    let mut out = Vec::new();
    for located in &manifests.objects {
        let Object::NetworkPolicy(np) = &located.object else { continue };
        let origin = &located.origin;
        let Some((ns, name)) = super::ident(&np.metadata, "NetworkPolicy", origin, diags) else { continue };
        let spec = np.spec.clone().unwrap_or_default();
        let pod_selector = match Selector::from_label_selector(&spec.pod_selector.clone().unwrap_or_default()) {
            Ok(s) => s,
            Err(e) => {
                diags.push(Diagnostic::error(
                    origin.clone(),
                    format!("networkpolicy {ns}/{name}: spec.podSelector.{e}"),
                ));
                continue;
            }
        };
        // The API server's default: Ingress always, Egress when egress rules exist.
        let policy_types = spec.policy_types.clone().unwrap_or_else(|| {
            let mut t = vec!["Ingress".to_owned()];
            if spec.egress.is_some() {
                t.push("Egress".to_owned());
            }
            t
        });
        let policy = NetworkPolicy { namespace: ns, name, pod_selector, policy_types, spec, origin: origin.clone() };
        if !policy.pod_selector.is_empty() && !pods.iter().any(|p| policy.selects(p)) {
            diags.push(Diagnostic::warning(
                origin.clone(),
                format!(
                    "networkpolicy {}: podSelector {} matches no pod in namespace {}; the policy has no effect",
                    policy.key(),
                    policy.pod_selector,
                    policy.namespace
                ),
            ));
        }
        out.push(policy);
    }
    out
}
