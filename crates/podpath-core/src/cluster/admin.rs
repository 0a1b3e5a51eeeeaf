//! The cluster-wide policies of `policy.networking.k8s.io` as objects of
//! the cluster: ClusterNetworkPolicy (v1alpha2) and the v1alpha1
//! AdminNetworkPolicy and BaselineAdminNetworkPolicy, each with its tier
//! (a v1alpha1 policy's from its kind). `policy::admin` shows and checks
//! them.

use crate::diag::Origin;
use crate::load::npa;
use crate::load::{Manifests, Object};

/// Which kind an object was written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    ClusterNetworkPolicy,
    AdminNetworkPolicy,
    BaselineAdminNetworkPolicy,
}

impl Source {
    pub fn kind(self) -> &'static str {
        match self {
            Source::ClusterNetworkPolicy => "ClusterNetworkPolicy",
            Source::AdminNetworkPolicy => "AdminNetworkPolicy",
            Source::BaselineAdminNetworkPolicy => "BaselineAdminNetworkPolicy",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Source::ClusterNetworkPolicy => "clusternetworkpolicies",
            Source::AdminNetworkPolicy => "adminnetworkpolicies",
            Source::BaselineAdminNetworkPolicy => "baselineadminnetworkpolicies",
        }
    }

    pub fn version(self) -> &'static str {
        if self == Source::ClusterNetworkPolicy {
            "v1alpha2"
        } else {
            "v1alpha1"
        }
    }
}

/// One cluster-wide policy.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterWide {
    pub source: Source,
    pub name: String,
    /// `Admin` or `Baseline` (a v1alpha1 policy's from its kind).
    pub tier: String,
    pub priority: Option<i32>,
    pub object: npa::ClusterPolicy,
    pub origin: Origin,
}

/// The cluster-wide policies of the input, in input order.
pub fn from_manifests(m: &Manifests) -> Vec<ClusterWide> {
    m.objects
        .iter()
        .filter_map(|l| {
            let (source, o) = match &l.object {
                Object::ClusterNetworkPolicy(o) => (Source::ClusterNetworkPolicy, o),
                Object::AdminNetworkPolicy(o) => (Source::AdminNetworkPolicy, o),
                Object::BaselineAdminNetworkPolicy(o) => (Source::BaselineAdminNetworkPolicy, o),
                _ => return None,
            };
            let tier = match source {
                Source::ClusterNetworkPolicy => o.spec.tier.clone().unwrap_or_default(),
                Source::AdminNetworkPolicy => "Admin".into(),
                Source::BaselineAdminNetworkPolicy => "Baseline".into(),
            };
            Some(ClusterWide {
                source,
                name: o.metadata.name.clone().unwrap_or_default(),
                tier,
                priority: o.spec.priority,
                object: (**o).clone(),
                origin: l.origin.clone(),
            })
        })
        .collect()
}
