//! EndpointSlices: what the EndpointSlice controller writes for each
//! Service with a selector, and the hand-written slices of Services without
//! one, kept as given.
//!
//! Like the controller, endpoints are grouped by their resolved ports (a
//! named `targetPort` may resolve to different numbers in different pods, or
//! not at all), at most 100 per slice; pods without an address are left out;
//! terminating pods stay, marked `terminating` and not `ready`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::discovery::v1 as discovery;

use super::services::{Protocol, Service, ServiceType, TargetPort};
use super::{Node, Pod};
use crate::diag::{Diagnostic, Origin};
use crate::load::{Manifests, Object};
use crate::names::Rng;

/// The controller's `--max-endpoints-per-slice` default.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// The label that ties a slice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// `endpointslice.kubernetes.io/managed-by` of the controller's slices.
pub const CONTROLLER: &str = "endpointslice-controller.k8s.io";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointPort {
    pub name: String,
    /// `None` in a slice written without ports: "all ports".
    pub port: Option<u16>,
    pub protocol: Protocol,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub addresses: Vec<IpAddr>,
    /// Conditions as written; an unset `ready` or `serving` means yes, as
    /// consumers of the API must read it.
    pub ready: Option<bool>,
    pub serving: Option<bool>,
    pub terminating: Option<bool>,
    pub node_name: Option<String>,
    pub zone: Option<String>,
    pub hostname: Option<String>,
    /// The pod behind the endpoint (`targetRef`), as `NAMESPACE/NAME`.
    pub pod: Option<String>,
}

impl Endpoint {
    pub fn is_ready(&self) -> bool {
        self.ready.unwrap_or(true)
    }

    pub fn is_serving(&self) -> bool {
        self.serving.unwrap_or(self.is_ready())
    }

    pub fn is_terminating(&self) -> bool {
        self.terminating.unwrap_or(false)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointSlice {
    pub namespace: String,
    pub name: String,
    /// The Service it belongs to (its `kubernetes.io/service-name` label).
    pub service: Option<String>,
    pub address_type: String,
    pub ports: Vec<EndpointPort>,
    pub endpoints: Vec<Endpoint>,
    /// `endpointslice.kubernetes.io/managed-by`, empty when unset.
    pub managed_by: String,
    pub origin: Origin,
}

pub(super) fn build(
    manifests: &Manifests,
    services: &[Service],
    pods: &[Pod],
    nodes: &[Node],
    diags: &mut Vec<Diagnostic>,
) -> Vec<EndpointSlice> {
    // Pods by (namespace, label key, label value), in pod order, so each
    // Service looks only at the pods that carry one of its selector's pairs
    // instead of at every pod of the cluster.
    let mut by_label: BTreeMap<(&str, &str, &str), Vec<&Pod>> = BTreeMap::new();
    for p in pods {
        for (k, v) in &p.labels {
            by_label.entry((p.namespace.as_str(), k.as_str(), v.as_str())).or_default().push(p);
        }
    }
    let mut slices = Vec::new();
    for svc in services {
        let Some(selector) = &svc.selector else { continue };
        if svc.type_ == ServiceType::ExternalName {
            continue;
        }
        let candidates: &[&Pod] = selector
            .iter()
            .next()
            .and_then(|(k, v)| by_label.get(&(svc.namespace.as_str(), k.as_str(), v.as_str())))
            .map_or(&[], Vec::as_slice);
        slices.extend(controller_slices(svc, selector, candidates, nodes, diags));
    }
    for located in &manifests.objects {
        let Object::EndpointSlice(es) = &located.object else { continue };
        if let Some(s) = given(es, &located.origin, diags) {
            slices.push(s);
        }
    }
    slices
}

fn controller_slices(
    svc: &Service,
    selector: &BTreeMap<String, String>,
    pods: &[&Pod],
    nodes: &[Node],
    diags: &mut Vec<Diagnostic>,
) -> Vec<EndpointSlice> {
    let sel = crate::labels::Selector::from_map(selector);
    // An empty selector on a Service selects nothing, unlike elsewhere.
    let selected: Vec<&Pod> = if selector.is_empty() {
        Vec::new()
    } else {
        pods.iter().copied().filter(|p| p.namespace == svc.namespace && sel.matches(&p.labels)).collect()
    };
    if selected.is_empty() && !selector.is_empty() {
        diags.push(
            Diagnostic::warning(
                svc.origin.clone(),
                format!(
                    "service {}: selector {sel} matches no pod in namespace {}; it will have no endpoints",
                    svc.key(),
                    svc.namespace
                ),
            )
            .at_field("spec.selector"),
        );
    }
    port_warnings(svc, &selected, diags);
    // Group endpoints by the port list they resolve to, in pod order.
    let mut groups: Vec<(Vec<EndpointPort>, Vec<Endpoint>)> = Vec::new();
    for pod in selected {
        let Some(ip) = pod.ip else { continue };
        let ports: Vec<EndpointPort> = svc
            .ports
            .iter()
            .filter_map(|p| {
                let port = match &p.target_port {
                    TargetPort::Number(n) => *n,
                    TargetPort::Name(name) => named_port(pod, name, p.protocol)?,
                };
                Some(EndpointPort { name: p.name.clone(), port: Some(port), protocol: p.protocol })
            })
            .collect();
        let endpoint = endpoint(svc, pod, ip, nodes);
        match groups.iter_mut().find(|(ps, _)| *ps == ports) {
            Some((_, eps)) => eps.push(endpoint),
            None => groups.push((ports, vec![endpoint])),
        }
    }
    let mut rng = Rng::for_name(&format!("endpointslice/{}", svc.key()));
    let mut make = |ports: Vec<EndpointPort>, endpoints: Vec<Endpoint>| EndpointSlice {
        namespace: svc.namespace.clone(),
        name: format!("{}-{}", svc.name, rng.suffix(5)),
        service: Some(svc.name.clone()),
        address_type: "IPv4".into(),
        ports,
        endpoints,
        managed_by: CONTROLLER.into(),
        origin: svc.origin.clone(),
    };
    if groups.is_empty() {
        // The controller keeps one empty placeholder slice per Service.
        return vec![make(Vec::new(), Vec::new())];
    }
    let mut out = Vec::new();
    for (ports, endpoints) in groups {
        for chunk in endpoints.chunks(MAX_ENDPOINTS_PER_SLICE) {
            out.push(make(ports.clone(), chunk.to_vec()));
        }
    }
    out
}

/// A pod as the Service's endpoint: ready, serving and terminating as the
/// controller reports them (every endpoint ready when the Service
/// publishes not-ready addresses), its node and zone, and its hostname
/// when the Service is its subdomain.
fn endpoint(svc: &Service, pod: &Pod, ip: std::net::IpAddr, nodes: &[Node]) -> Endpoint {
    let serving = pod.ready || svc.publish_not_ready_addresses;
    Endpoint {
        addresses: vec![ip],
        ready: Some(if svc.publish_not_ready_addresses { true } else { serving && !pod.terminating }),
        serving: Some(serving),
        terminating: Some(pod.terminating),
        node_name: pod.node.clone(),
        zone: pod
            .node
            .as_deref()
            .and_then(|n| nodes.iter().find(|x| x.name == n))
            .and_then(|n| n.labels.get("topology.kubernetes.io/zone").cloned()),
        hostname: pod.spec.hostname.clone().filter(|_| pod.spec.subdomain.as_deref() == Some(svc.name.as_str())),
        pod: Some(pod.key()),
    }
}

/// What the selected pods' container ports say of the Service's target
/// ports: a name no pod has (no endpoints for that port), a number no pod
/// declares (traffic goes where nothing may listen).
fn port_warnings(svc: &Service, selected: &[&Pod], diags: &mut Vec<Diagnostic>) {
    for p in &svc.ports {
        if let TargetPort::Name(name) = &p.target_port {
            let anyone = selected.iter().any(|pod| named_port(pod, name, p.protocol).is_some());
            if !selected.is_empty() && !anyone {
                diags.push(Diagnostic::warning(
                    svc.origin.clone(),
                    format!("service {}: targetPort \"{name}\" is not the name of a {} container port in any selected pod; port {} will have no endpoints", svc.key(), p.protocol, p.port),
                ).at_field(format!("spec.ports[{}].targetPort", p.index)));
            }
        }
    }
    for p in &svc.ports {
        let TargetPort::Number(n) = p.target_port else { continue };
        let declared: Vec<u16> = selected
            .iter()
            .flat_map(|pod| pod.spec.containers.iter().flat_map(|c| c.ports.iter().flatten()))
            .filter(|cp| Protocol::parse(cp.protocol.as_deref()) == Some(p.protocol))
            .filter_map(|cp| u16::try_from(cp.container_port).ok())
            .collect();
        if !declared.is_empty() && !declared.contains(&n) {
            let mut shown: Vec<String> = declared.iter().map(ToString::to_string).collect();
            crate::order::sort(&mut shown);
            shown.dedup();
            diags.push(Diagnostic::warning(
                svc.origin.clone(),
                format!(
                    "service {}: targetPort {n} is not a declared {} port of the selected pods (they declare {}); traffic still goes to {n}, where nothing may listen",
                    svc.key(),
                    p.protocol,
                    shown.join(", ")
                ),
            )
            .at_field(format!("spec.ports[{}].targetPort", p.index)));
        }
    }
}

fn named_port(pod: &Pod, name: &str, protocol: Protocol) -> Option<u16> {
    pod.named_port(name, protocol)
}

fn given(es: &discovery::EndpointSlice, origin: &Origin, diags: &mut Vec<Diagnostic>) -> Option<EndpointSlice> {
    let (ns, name) = super::ident(&es.metadata, "EndpointSlice", origin, diags)?;
    let labels = es.metadata.labels.clone().unwrap_or_default();
    let mut ports = Vec::new();
    for p in es.ports.iter().flatten() {
        let Some(protocol) = Protocol::parse(p.protocol.as_deref()) else { continue };
        ports.push(EndpointPort {
            name: p.name.clone().unwrap_or_default(),
            port: p.port.and_then(|n| u16::try_from(n).ok()),
            protocol,
        });
    }
    let mut endpoints = Vec::new();
    for (i, e) in es.endpoints.iter().flatten().enumerate() {
        let mut addresses = Vec::new();
        for a in &e.addresses {
            // kube-proxy parses addresses leniently; the API server would
            // have refused a non-IP in an IPv4/IPv6 slice.
            match a.trim().parse::<IpAddr>() {
                Ok(ip) => addresses.push(ip),
                Err(_) => diags.push(Diagnostic::error(
                    origin.clone(),
                    format!("endpointslice {ns}/{name}: endpoints[{i}].addresses: Invalid value: \"{a}\": must be a valid IP address"),
                )),
            }
        }
        let c = e.conditions.clone().unwrap_or_default();
        endpoints.push(Endpoint {
            addresses,
            ready: c.ready,
            serving: c.serving,
            terminating: c.terminating,
            node_name: e.node_name.clone(),
            zone: e.zone.clone(),
            hostname: e.hostname.clone(),
            pod: e.target_ref.as_ref().filter(|r| r.kind.as_deref() == Some("Pod")).map(|r| {
                format!("{}/{}", r.namespace.clone().unwrap_or_else(|| ns.clone()), r.name.clone().unwrap_or_default())
            }),
        });
    }
    Some(EndpointSlice {
        namespace: ns,
        name,
        service: labels.get(SERVICE_NAME_LABEL).cloned(),
        address_type: es.address_type.clone(),
        ports,
        endpoints,
        managed_by: labels.get("endpointslice.kubernetes.io/managed-by").cloned().unwrap_or_default(),
        origin: origin.clone(),
    })
}
