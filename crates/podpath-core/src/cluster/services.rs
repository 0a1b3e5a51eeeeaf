//! Services as the API server stores them: types, ClusterIPs from the
//! service CIDR, NodePorts from 30000–32767, load-balancer addresses.
//!
//! Dynamic allocation follows the API server's allocators: a random free
//! address (port) in the upper band of the range, leaving the lower band
//! for values users pick (KEP-3070/3668). The randomness is seeded by the
//! Service's namespace and name, so a Service keeps its address when other
//! objects change.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::diag::{Diagnostic, Origin};
use crate::labels::Labels;
use crate::load::{Manifests, Object};
use crate::names::Rng;
use crate::settings::Settings;

/// The API server's default `--service-node-port-range`.
pub const NODE_PORT_RANGE: (u16, u16) = (30000, 32767);

/// Where load-balancer addresses come from when a Service's status has none:
/// the pool MetalLB's kind guide configures on kind's Docker network.
pub const LB_POOL_START: Ipv4Addr = Ipv4Addr::new(172, 18, 255, 200);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
    ExternalName,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
            ServiceType::ExternalName => "ExternalName",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
    /// Never in an API object (Services and policies take the three
    /// above): the echo request `ping` sends, in a trace.
    Icmp,
}

impl Protocol {
    /// The API's spelling (`protocol: TCP`), absent meaning TCP; ICMP is
    /// not one of the API's protocols.
    pub fn parse(s: Option<&str>) -> Option<Protocol> {
        match s.unwrap_or("TCP") {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// The name tools write in lower case (`-p tcp`, `meta l4proto tcp`,
    /// `--protocol icmp`).
    pub fn from_name(s: &str) -> Option<Protocol> {
        match s {
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            "sctp" => Some(Protocol::Sctp),
            "icmp" => Some(Protocol::Icmp),
            _ => None,
        }
    }

    /// The API's spelling: `TCP`, `UDP`, `SCTP` (and `ICMP`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
            Protocol::Icmp => "ICMP",
        }
    }

    /// The lower-case name, as [`Protocol::from_name`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
            Protocol::Icmp => "icmp",
        }
    }

    /// The IP header's protocol number.
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
            Protocol::Icmp => 1,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Service port's `targetPort`: a number, or the name of a container port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetPort {
    Number(u16),
    Name(String),
}

impl fmt::Display for TargetPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetPort::Number(n) => write!(f, "{n}"),
            TargetPort::Name(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub name: String,
    pub protocol: Protocol,
    pub port: u16,
    pub target_port: TargetPort,
    pub node_port: Option<u16>,
    pub app_protocol: Option<String>,
    /// Its place in `spec.ports`, for messages about it.
    pub index: usize,
}

/// `spec.clusterIP`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterIp {
    Ip(IpAddr),
    /// `None`: a headless Service (DNS only, no proxying).
    Headless,
    /// ExternalName Services have none.
    Unset,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrafficPolicy {
    Cluster,
    Local,
}

impl TrafficPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            TrafficPolicy::Cluster => "Cluster",
            TrafficPolicy::Local => "Local",
        }
    }
}

/// A Service of the cluster, with every address the API server allocated.
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub type_: ServiceType,
    pub cluster_ip: ClusterIp,
    /// `None` for a Service without selector (its EndpointSlices are written by hand).
    pub selector: Option<BTreeMap<String, String>>,
    pub ports: Vec<ServicePort>,
    pub external_ips: Vec<IpAddr>,
    /// `status.loadBalancer.ingress` IPs (given, or from the simulated pool).
    pub load_balancer_ips: Vec<IpAddr>,
    pub external_name: Option<String>,
    /// `sessionAffinity: ClientIP` and its timeout in seconds.
    pub session_affinity: Option<u32>,
    pub external_traffic_policy: TrafficPolicy,
    pub internal_traffic_policy: TrafficPolicy,
    pub health_check_node_port: Option<u16>,
    pub publish_not_ready_addresses: bool,
    pub load_balancer_source_ranges: Vec<String>,
    pub origin: Origin,
}

impl Service {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn is_headless(&self) -> bool {
        self.cluster_ip == ClusterIp::Headless
    }
}

/// Reads every Service and allocates what the API server would.
pub(super) fn build(manifests: &Manifests, settings: &Settings, diags: &mut Vec<Diagnostic>) -> Vec<Service> {
    let mut services = Vec::new();
    let mut seen = BTreeSet::new();
    for located in &manifests.objects {
        let Object::Service(svc) = &located.object else { continue };
        let origin = &located.origin;
        let Some((ns, name)) = super::ident(&svc.metadata, "Service", origin, diags) else { continue };
        if !seen.insert((ns.clone(), name.clone())) {
            diags.push(
                Diagnostic::error(origin.clone(), format!("services \"{name}\" already exists in namespace {ns}"))
                    .at_field("metadata.name"),
            );
            continue;
        }
        if let Some(s) = read(svc, ns, name, origin, diags) {
            services.push(s);
        }
    }
    allocate(&mut services, settings, diags);
    services
}

/// Reads one Service as the API server validates it, saying what it
/// refuses at the Service.
struct Reader<'d> {
    ns: String,
    name: String,
    origin: Origin,
    diags: &'d mut Vec<Diagnostic>,
}

impl Reader<'_> {
    fn err(&mut self, msg: String) {
        let (ns, name) = (&self.ns, &self.name);
        self.diags.push(Diagnostic::error(self.origin.clone(), format!("service {ns}/{name}: {msg}")));
    }

    fn service_type(&mut self, spec: &core::ServiceSpec) -> Option<ServiceType> {
        Some(match spec.type_.as_deref().unwrap_or("ClusterIP") {
            "ClusterIP" => ServiceType::ClusterIP,
            "NodePort" => ServiceType::NodePort,
            "LoadBalancer" => ServiceType::LoadBalancer,
            "ExternalName" => ServiceType::ExternalName,
            other => {
                self.err(format!("spec.type: Unsupported value: \"{other}\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""));
                return None;
            }
        })
    }

    /// `spec.clusterIP`, and what the type allows of it.
    fn cluster_ip(&mut self, type_: ServiceType, spec: &core::ServiceSpec) -> Option<ClusterIp> {
        let cluster_ip = match (type_, spec.cluster_ip.as_deref().map(str::trim)) {
            (ServiceType::ExternalName, _) => ClusterIp::Unset,
            (_, Some("None")) => ClusterIp::Headless,
            (_, None | Some("")) => ClusterIp::Unset,
            (_, Some(text)) => match text.parse::<IpAddr>() {
                Ok(ip) => ClusterIp::Ip(ip),
                Err(_) => {
                    self.err(format!(
                        "spec.clusterIP: Invalid value: \"{text}\": must be a valid IP address or \"None\""
                    ));
                    return None;
                }
            },
        };
        if type_ == ServiceType::ExternalName && spec.external_name.as_deref().unwrap_or("").is_empty() {
            self.err("spec.externalName: Required value".into());
            return None;
        }
        if cluster_ip == ClusterIp::Headless && matches!(type_, ServiceType::NodePort | ServiceType::LoadBalancer) {
            let kind = type_.as_str();
            self.err(format!("spec.clusterIP: Invalid value: \"None\": may not be set to 'None' for {kind} services"));
            return None;
        }
        Some(cluster_ip)
    }

    /// `spec.ports[i]`, or nothing when the API server would refuse it.
    fn port(&mut self, i: usize, p: &core::ServicePort, multi: bool) -> Option<ServicePort> {
        let Some(protocol) = Protocol::parse(p.protocol.as_deref()) else {
            let given = p.protocol.as_deref().unwrap_or("");
            self.err(format!("spec.ports[{i}].protocol: Unsupported value: \"{given}\": supported values: \"SCTP\", \"TCP\", \"UDP\""));
            return None;
        };
        let Some(port) = u16::try_from(p.port).ok().filter(|v| *v != 0) else {
            self.err(format!(
                "spec.ports[{i}].port: Invalid value: {}: must be between 1 and 65535, inclusive",
                p.port
            ));
            return None;
        };
        let name = p.name.clone().unwrap_or_default();
        if multi && name.is_empty() {
            self.err(format!("spec.ports[{i}].name: Required value"));
        }
        // An absent targetPort defaults to the port itself.
        let target_port = match &p.target_port {
            None => TargetPort::Number(port),
            Some(IntOrString::Int(n)) => match u16::try_from(*n) {
                Ok(n) if n > 0 => TargetPort::Number(n),
                _ => {
                    self.err(format!(
                        "spec.ports[{i}].targetPort: Invalid value: {n}: must be between 1 and 65535, inclusive"
                    ));
                    return None;
                }
            },
            Some(IntOrString::String(s)) => match s.parse::<u16>() {
                Ok(n) if n > 0 => TargetPort::Number(n),
                _ => TargetPort::Name(s.clone()),
            },
        };
        let node_port = match p.node_port {
            None | Some(0) => None,
            Some(n) => u16::try_from(n).ok().or_else(|| {
                self.err(format!(
                    "spec.ports[{i}].nodePort: Invalid value: {n}: must be between 1 and 65535, inclusive"
                ));
                None
            }),
        };
        Some(ServicePort {
            name,
            protocol,
            port,
            target_port,
            node_port,
            app_protocol: p.app_protocol.clone(),
            index: i,
        })
    }

    /// Addresses the Service lists in `field`, each a valid IP.
    fn ips(&mut self, list: &Option<Vec<String>>, field: &str) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for s in list.iter().flatten() {
            match s.trim().parse::<IpAddr>() {
                Ok(ip) => out.push(ip),
                Err(_) => self.err(format!("{field}: Invalid value: \"{s}\": must be a valid IP address")),
            }
        }
        out
    }
}

/// `sessionAffinity: ClientIP` and its timeout: the API server's default
/// is three hours.
fn session_affinity(spec: &core::ServiceSpec) -> Option<u32> {
    (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
        spec.session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .and_then(|c| c.timeout_seconds)
            .and_then(|t| u32::try_from(t).ok())
            .unwrap_or(10800)
    })
}

fn read(
    svc: &core::Service,
    ns: String,
    name: String,
    origin: &Origin,
    diags: &mut Vec<Diagnostic>,
) -> Option<Service> {
    let spec = svc.spec.clone().unwrap_or_default();
    let mut r = Reader { ns, name, origin: origin.clone(), diags };
    let type_ = r.service_type(&spec)?;
    let cluster_ip = r.cluster_ip(type_, &spec)?;
    let multi = spec.ports.as_ref().is_some_and(|p| p.len() > 1);
    let ports: Vec<ServicePort> =
        spec.ports.iter().flatten().enumerate().filter_map(|(i, p)| r.port(i, p, multi)).collect();
    // ValidateService (pkg/apis/core/validation): a ClusterIP Service
    // allocates no node port, so one given is refused.
    if type_ == ServiceType::ClusterIP {
        if let Some(i) = ports.iter().position(|p| p.node_port.is_some()) {
            r.err(format!("spec.ports[{i}].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"));
            return None;
        }
    }
    if spec.ports.as_ref().is_none_or(Vec::is_empty)
        && type_ != ServiceType::ExternalName
        && cluster_ip != ClusterIp::Headless
    {
        r.err("spec.ports: Required value".into());
    }
    let external_ips = r.ips(&spec.external_ips, "spec.externalIPs");
    let lb_status: Option<Vec<String>> = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .map(|ing| ing.iter().filter_map(|i| i.ip.clone()).collect());
    let load_balancer_ips = r.ips(&lb_status, "status.loadBalancer.ingress");
    let policy = |v: Option<&str>| match v {
        Some("Local") => TrafficPolicy::Local,
        _ => TrafficPolicy::Cluster,
    };
    let external = matches!(type_, ServiceType::NodePort | ServiceType::LoadBalancer);
    Some(Service {
        namespace: r.ns,
        name: r.name,
        labels: svc.metadata.labels.clone().unwrap_or_default(),
        type_,
        cluster_ip,
        selector: if type_ == ServiceType::ExternalName { None } else { spec.selector.clone() },
        ports,
        external_ips,
        load_balancer_ips,
        external_name: spec.external_name.clone().filter(|_| type_ == ServiceType::ExternalName),
        session_affinity: session_affinity(&spec),
        external_traffic_policy: if external {
            policy(spec.external_traffic_policy.as_deref())
        } else {
            TrafficPolicy::Cluster
        },
        internal_traffic_policy: policy(spec.internal_traffic_policy.as_deref()),
        health_check_node_port: spec.health_check_node_port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0),
        publish_not_ready_addresses: spec.publish_not_ready_addresses.unwrap_or(false),
        load_balancer_source_ranges: spec.load_balancer_source_ranges.clone().unwrap_or_default(),
        origin: origin.clone(),
    })
}

/// The API server's `calculateRangeOffset`: the size of the lower band kept
/// for static allocation, `min(max(min, size/step), max)`.
fn static_band(size: u64, min: u64, step: u64, max: u64) -> u64 {
    (size / step).max(min).min(max)
}

/// Allocates ClusterIPs, NodePorts, health-check ports and load-balancer
/// addresses, honouring what the Services ask for first, as the API server
/// sees them: user-chosen values are claimed before any dynamic one.
fn allocate(services: &mut [Service], settings: &Settings, diags: &mut Vec<Diagnostic>) {
    let IpNet::V4(cidr) = settings.service_cidr else { return };
    let (mut used_ips, mut used_ports) = claim_requested(services, settings, diags);
    let mut lb_next = u32::from(LB_POOL_START);
    for s in services.iter_mut() {
        let mut rng = Rng::for_name(&format!("service/{}", s.key()));
        if s.cluster_ip == ClusterIp::Unset && s.type_ != ServiceType::ExternalName {
            match free_cluster_ip(&mut rng, cidr, &used_ips) {
                Some(ip) => {
                    used_ips.insert(ip);
                    s.cluster_ip = ClusterIp::Ip(ip);
                }
                None => diags.push(Diagnostic::error(
                    s.origin.clone(),
                    format!("service {}: failed to allocate a serviceIP: range is full", s.key()),
                )),
            }
        }
        if matches!(s.type_, ServiceType::NodePort | ServiceType::LoadBalancer) {
            for p in s.ports.iter_mut().filter(|p| p.node_port.is_none()) {
                p.node_port = free_node_port(&mut rng, &mut used_ports);
            }
            if s.type_ == ServiceType::LoadBalancer
                && s.external_traffic_policy == TrafficPolicy::Local
                && s.health_check_node_port.is_none()
            {
                s.health_check_node_port = free_node_port(&mut rng, &mut used_ports);
            }
        }
        if s.type_ == ServiceType::LoadBalancer && s.load_balancer_ips.is_empty() {
            s.load_balancer_ips.push(IpAddr::V4(Ipv4Addr::from(lb_next)));
            lb_next += 1;
        }
    }
}

/// The ClusterIPs and NodePorts Services ask for, claimed first, with what
/// the API server refuses of them.
fn claim_requested(
    services: &[Service],
    settings: &Settings,
    diags: &mut Vec<Diagnostic>,
) -> (BTreeSet<IpAddr>, BTreeSet<u16>) {
    let mut used_ips: BTreeSet<IpAddr> = BTreeSet::new();
    let mut used_ports: BTreeSet<u16> = BTreeSet::new();
    for s in services {
        if let ClusterIp::Ip(ip) = s.cluster_ip {
            if !settings.service_cidr.contains(&ip) {
                diags.push(Diagnostic::rejected(
                    s.origin.clone(),
                    format!("service {}: spec.clusterIP: Invalid value: \"{ip}\": provided IP is not in the valid range. The range of valid IPs is {}", s.key(), settings.service_cidr),
                ));
            } else if !used_ips.insert(ip) {
                diags.push(Diagnostic::error(
                    s.origin.clone(),
                    format!(
                        "service {}: spec.clusterIP: Invalid value: \"{ip}\": provided IP is already allocated",
                        s.key()
                    ),
                ));
            }
        }
        let mut own: BTreeSet<u16> = BTreeSet::new();
        for p in &s.ports {
            let Some(n) = p.node_port else { continue };
            if !(NODE_PORT_RANGE.0..=NODE_PORT_RANGE.1).contains(&n) {
                diags.push(Diagnostic::rejected(
                    s.origin.clone(),
                    // The API server names the item (`spec.ports[0].nodePort`), as
                    // its Status cause's `field` shows.
                    format!("service {}: spec.ports[{}].nodePort: Invalid value: {n}: provided port is not in the valid range. The range of valid ports is {}-{}", s.key(), p.index, NODE_PORT_RANGE.0, NODE_PORT_RANGE.1),
                ));
            } else if !own.insert(n) {
                diags.push(Diagnostic::error(
                    s.origin.clone(),
                    format!("service {}: spec.ports[{}].nodePort: Duplicate value: {n}", s.key(), p.index),
                ));
            } else if used_ports.contains(&n) {
                // The API server's allocator refuses a port another Service
                // holds; the later Service is not created.
                diags.push(Diagnostic::error(
                    s.origin.clone(),
                    format!(
                        "service {}: spec.ports[{}].nodePort: Invalid value: {n}: provided port is already allocated",
                        s.key(),
                        p.index
                    ),
                ));
            }
            used_ports.insert(n);
        }
    }
    (used_ips, used_ports)
}

/// A free ClusterIP: the upper band first, then the lower one kept for
/// static allocation, as `randomScanStrategyWithOffset` does. Usable
/// offsets are 1 ..= size-2 (not the network or broadcast address).
fn free_cluster_ip(rng: &mut Rng, cidr: ipnet::Ipv4Net, used: &BTreeSet<IpAddr>) -> Option<IpAddr> {
    let base = u32::from(cidr.network());
    let size = 1u64 << (32 - cidr.prefix_len());
    let usable = size.saturating_sub(2);
    let band = static_band(size, 16, 16, 256).min(usable);
    let at = |off: u64| IpAddr::V4(Ipv4Addr::from(base + 1 + off as u32));
    let off = random_free(rng, band, usable, |off| !used.contains(&at(off)))
        .or_else(|| random_free(rng, 0, band, |off| !used.contains(&at(off))))?;
    Some(at(off))
}

/// A free NodePort, by the same strategy over the NodePort range.
fn free_node_port(rng: &mut Rng, used: &mut BTreeSet<u16>) -> Option<u16> {
    let size = u64::from(NODE_PORT_RANGE.1 - NODE_PORT_RANGE.0 + 1);
    let band = static_band(size, 16, 32, 128);
    let at = |off: u64| NODE_PORT_RANGE.0 + off as u16;
    let off = random_free(rng, band, size, |o| !used.contains(&at(o)))
        .or_else(|| random_free(rng, 0, band, |o| !used.contains(&at(o))))?;
    used.insert(at(off));
    Some(at(off))
}

/// A random offset in `lo..hi` that `free` accepts: a random start, then a
/// linear scan with wrap-around, as the bitmap allocator scans.
fn random_free(rng: &mut Rng, lo: u64, hi: u64, free: impl Fn(u64) -> bool) -> Option<u64> {
    if hi <= lo {
        return None;
    }
    let span = hi - lo;
    let start = rng.below(span);
    (0..span).map(|i| lo + (start + i) % span).find(|o| free(*o))
}
