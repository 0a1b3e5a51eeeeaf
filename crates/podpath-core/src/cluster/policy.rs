//! NetworkPolicies as objects of the cluster: which pods each one selects,
//! and their rules turned into small domain types ([`Rule`], [`Peer`],
//! [`PolicyPort`]) with what the API server would refuse reported where it
//! is written. Evaluating them against connections is `crate::policy`.

use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::api::networking::v1 as networking;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Pod, Protocol};
use crate::diag::{Diagnostic, Origin};
use crate::labels::Selector;
use crate::load::{Manifests, Object};

/// `ipBlock`: a CIDR minus its exceptions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpBlock {
    pub cidr: IpNet,
    pub except: Vec<IpNet>,
}

impl IpBlock {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.cidr.contains(&ip) && !self.except.iter().any(|e| e.contains(&ip))
    }
}

/// One `from`/`to` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// `podSelector` and/or `namespaceSelector`; a missing namespace
    /// selector means the policy's own namespace.
    Pods {
        pods: Option<Selector>,
        namespaces: Option<Selector>,
    },
    IpBlock(IpBlock),
}

/// The port of a rule: a number (with `endPort`, a range), a container
/// port's name, or every port of the protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortMatch {
    All,
    Number { port: u16, end: Option<u16> },
    Named(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyPort {
    pub protocol: Protocol,
    pub port: PortMatch,
}

impl std::fmt::Display for PolicyPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.port {
            PortMatch::All => write!(f, "any/{}", self.protocol.as_str()),
            PortMatch::Number { port, end: Some(end) } => write!(f, "{port}-{end}/{}", self.protocol.as_str()),
            PortMatch::Number { port, end: None } => write!(f, "{port}/{}", self.protocol.as_str()),
            PortMatch::Named(n) => write!(f, "{n}/{}", self.protocol.as_str()),
        }
    }
}

/// One ingress or egress rule. Empty `peers` means every peer, empty
/// `ports` every port (absent and empty lists mean the same).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Rule {
    pub peers: Vec<Peer>,
    pub ports: Vec<PolicyPort>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkPolicy {
    pub namespace: String,
    pub name: String,
    pub pod_selector: Selector,
    /// `policyTypes` as written, or as the API server defaults them.
    pub policy_types: Vec<String>,
    /// The rules as written (for output).
    pub spec: networking::NetworkPolicySpec,
    /// The rules, typed; the direction applies when `policy_types` names it.
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    pub origin: Origin,
}

impl NetworkPolicy {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Whether this policy selects `pod` (same namespace, selector matches).
    /// Host-network pods are never selected: they are the node.
    pub fn selects(&self, pod: &Pod) -> bool {
        !pod.host_network && pod.namespace == self.namespace && self.pod_selector.matches(&pod.labels)
    }

    pub fn isolates_ingress(&self) -> bool {
        self.policy_types.iter().any(|t| t == "Ingress")
    }

    pub fn isolates_egress(&self) -> bool {
        self.policy_types.iter().any(|t| t == "Egress")
    }
}

/// A rule as written: its peers and its ports.
type RawRule = (Option<Vec<networking::NetworkPolicyPeer>>, Option<Vec<networking::NetworkPolicyPort>>);

/// Types the rules of one direction, reporting what the API server's
/// validation would refuse (the rule is then kept without the bad part,
/// as far as that makes sense).
fn rules(key: &str, dir: &str, list: Vec<RawRule>, origin: &Origin, diags: &mut Vec<Diagnostic>) -> Vec<Rule> {
    let peer_field = if dir == "ingress" { "from" } else { "to" };
    let mut out = Vec::new();
    for (i, (peers, ports)) in list.into_iter().enumerate() {
        let mut rule = Rule::default();
        for (j, p) in peers.into_iter().flatten().enumerate() {
            let at = format!("networkpolicy {key}: spec.{dir}[{i}].{peer_field}[{j}]");
            rule.peers.extend(peer(&at, &p, origin, diags));
        }
        for (j, p) in ports.into_iter().flatten().enumerate() {
            let at = format!("networkpolicy {key}: spec.{dir}[{i}].ports[{j}]");
            rule.ports.extend(port(&at, &p, origin, diags));
        }
        out.push(rule);
    }
    out
}

/// One peer of a rule, at `at`; `None` when it is ignored.
fn peer(at: &str, p: &networking::NetworkPolicyPeer, origin: &Origin, diags: &mut Vec<Diagnostic>) -> Option<Peer> {
    let selectors = p.pod_selector.is_some() || p.namespace_selector.is_some();
    match (&p.ip_block, selectors) {
        (Some(_), true) => diags.push(Diagnostic::rejected(
            origin.clone(),
            format!("{at}: may not specify more than 1 peer type (ipBlock with a selector); the selectors are ignored"),
        )),
        (None, false) => {
            diags.push(Diagnostic::rejected(origin.clone(), format!("{at}: must specify a peer")));
            return None;
        }
        _ => {}
    }
    if let Some(b) = &p.ip_block {
        return ip_block(at, b, origin, diags).map(Peer::IpBlock);
    }
    let mut sel = |s: &Option<LabelSelector>, what: &str| -> Result<Option<Selector>, ()> {
        let Some(s) = s else { return Ok(None) };
        Selector::from_label_selector(s).map(Some).map_err(|e| {
            diags.push(Diagnostic::error(origin.clone(), format!("{at}.{what}.{e}; the peer is ignored")));
        })
    };
    let pods = sel(&p.pod_selector, "podSelector").ok()?;
    let namespaces = sel(&p.namespace_selector, "namespaceSelector").ok()?;
    Some(Peer::Pods { pods, namespaces })
}

fn ip_block(at: &str, b: &networking::IPBlock, origin: &Origin, diags: &mut Vec<Diagnostic>) -> Option<IpBlock> {
    let Ok(cidr) = b.cidr.trim().parse::<IpNet>() else {
        let msg = format!("{at}.ipBlock.cidr: invalid CIDR \"{}\"; the peer is ignored", b.cidr);
        diags.push(Diagnostic::error(origin.clone(), msg));
        return None;
    };
    let mut except = Vec::new();
    for (k, e) in b.except.iter().flatten().enumerate() {
        match e.trim().parse::<IpNet>() {
            Ok(n) if cidr.contains(&n) && n != cidr => except.push(n),
            Ok(_) => diags.push(Diagnostic::rejected(
                origin.clone(),
                format!("{at}.ipBlock.except[{k}]: must be a strict subset of `cidr` {cidr}"),
            )),
            Err(_) => {
                diags.push(Diagnostic::error(origin.clone(), format!("{at}.ipBlock.except[{k}]: invalid CIDR \"{e}\"")))
            }
        }
    }
    if cidr.trunc() != cidr {
        diags.push(Diagnostic::warning(
            origin.clone(),
            format!("{at}.ipBlock.cidr: {cidr} has host bits set; it is read as {}", cidr.trunc()),
        ));
    }
    Some(IpBlock { cidr: cidr.trunc(), except })
}

/// One port of a rule, at `at`; `None` when it is ignored.
fn port(
    at: &str,
    p: &networking::NetworkPolicyPort,
    origin: &Origin,
    diags: &mut Vec<Diagnostic>,
) -> Option<PolicyPort> {
    let mut refuse = |msg: String| diags.push(Diagnostic::rejected(origin.clone(), msg));
    let Some(protocol) = Protocol::parse(p.protocol.as_deref()) else {
        let given = p.protocol.clone().unwrap_or_default();
        refuse(format!("{at}.protocol: Unsupported value: \"{given}\": supported values: \"SCTP\", \"TCP\", \"UDP\"; the port is ignored"));
        return None;
    };
    let port = match (&p.port, p.end_port) {
        (None, None) => PortMatch::All,
        (None, Some(_)) => {
            refuse(format!("{at}.endPort: may not be specified when `port` is not specified; it is ignored"));
            PortMatch::All
        }
        (Some(IntOrString::String(name)), end) => {
            if end.is_some() {
                refuse(format!("{at}.endPort: may not be specified when `port` is a named port; it is ignored"));
            }
            PortMatch::Named(name.clone())
        }
        (Some(IntOrString::Int(n)), end) => {
            let Some(port) = u16::try_from(*n).ok().filter(|p| *p != 0) else {
                refuse(format!(
                    "{at}.port: Invalid value: {n}: must be between 1 and 65535, inclusive; the port is ignored"
                ));
                return None;
            };
            let end = match end {
                None => None,
                Some(e) if e >= i32::from(port) && e <= 65535 => Some(e as u16),
                Some(e) => {
                    refuse(format!("{at}.endPort: Invalid value: {e}: must be greater than or equal to `port` and at most 65535; it is ignored"));
                    None
                }
            };
            PortMatch::Number { port, end }
        }
    };
    Some(PolicyPort { protocol, port })
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
        let key = format!("{ns}/{name}");
        let ingress = rules(
            &key,
            "ingress",
            spec.ingress.clone().unwrap_or_default().into_iter().map(|r| (r.from, r.ports)).collect(),
            origin,
            diags,
        );
        let egress = rules(
            &key,
            "egress",
            spec.egress.clone().unwrap_or_default().into_iter().map(|r| (r.to, r.ports)).collect(),
            origin,
            diags,
        );
        let policy = NetworkPolicy {
            namespace: ns,
            name,
            pod_selector,
            policy_types,
            spec,
            ingress,
            egress,
            origin: origin.clone(),
        };
        if !policy.pod_selector.is_empty() && !pods.iter().any(|p| policy.selects(p)) {
            diags.push(
                Diagnostic::warning(
                    origin.clone(),
                    format!(
                        "networkpolicy {}: podSelector {} matches no pod in namespace {}; the policy has no effect",
                        policy.key(),
                        policy.pod_selector,
                        policy.namespace
                    ),
                )
                .at_field("spec.podSelector"),
            );
        }
        out.push(policy);
    }
    out
}
