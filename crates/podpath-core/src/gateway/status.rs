//! What the controllers write back: each GatewayClass's `Accepted`, each
//! Gateway's `Accepted`/`Programmed`, addresses and listeners (their
//! supported kinds, attached routes and conditions), each route's
//! `status.parents[]` with `Accepted` and `ResolvedRefs` and the reasons
//! the API defines (NotAllowedByListeners, NoMatchingListenerHostname,
//! NoMatchingParent; RefNotPermitted, BackendNotFound, InvalidKind).
//!
//! Attachment follows ParentReference and AllowedRoutes as the API types
//! document them: a parentRef's sectionName and port narrow the listeners;
//! a listener takes a route when its `allowedRoutes.namespaces` (Same by
//! default, All, Selector) and kinds allow it; a route and a listener that
//! both name hostnames must share one. `attachedRoutes` counts routes by
//! AllowedRoutes and ParentRefs alone (v1.4).

use super::{name, namespace, GatewayApi, Implementation, GROUP};
use crate::cluster::Cluster;
use crate::load::gateway as crd;

/// One condition as a controller sets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub type_: &'static str,
    pub status: bool,
    pub reason: &'static str,
    pub message: String,
}

impl Condition {
    fn new(type_: &'static str, status: bool, reason: &'static str, message: impl Into<String>) -> Condition {
        Condition { type_, status, reason, message: message.into() }
    }
}

/// A listener as its Gateway's status shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerStatus {
    pub name: String,
    pub supported_kinds: Vec<&'static str>,
    pub attached_routes: u32,
    pub conditions: Vec<Condition>,
}

/// A Gateway's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayStatus {
    pub implementation: Implementation,
    pub addresses: Vec<std::net::IpAddr>,
    pub conditions: Vec<Condition>,
    pub listeners: Vec<ListenerStatus>,
}

/// One entry of a route's `status.parents[]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentStatus {
    pub gateway: (String, String),
    pub section_name: Option<String>,
    pub port: Option<i32>,
    pub controller: &'static str,
    pub conditions: Vec<Condition>,
}

/// The route kinds a listener of this protocol takes when it names none.
fn kinds_for(protocol: &str) -> Vec<&'static str> {
    match protocol {
        "HTTP" | "HTTPS" => vec!["HTTPRoute", "GRPCRoute"],
        _ => Vec::new(),
    }
}

/// The kinds a listener supports, and whether it named one it cannot.
pub fn supported_kinds(l: &crd::Listener) -> (Vec<&'static str>, bool) {
    let by_protocol = kinds_for(&l.protocol);
    let named = l.allowed_routes.as_ref().map(|a| a.kinds.as_slice()).unwrap_or_default();
    if named.is_empty() {
        return (by_protocol, false);
    }
    let mut out = Vec::new();
    let mut invalid = false;
    for k in named {
        let group = k.group.as_deref().unwrap_or(GROUP);
        match by_protocol.iter().find(|s| **s == k.kind && group == GROUP) {
            Some(s) if !out.contains(s) => out.push(*s),
            Some(_) => {}
            None => invalid = true,
        }
    }
    (out, invalid)
}

/// Whether a listener's `allowedRoutes.namespaces` lets a route of `route_ns` in.
fn namespace_allowed(cluster: &Cluster, l: &crd::Listener, gw_ns: &str, route_ns: &str) -> bool {
    let ns = l.allowed_routes.as_ref().and_then(|a| a.namespaces.as_ref());
    match ns.and_then(|n| n.from.as_deref()).unwrap_or("Same") {
        "All" => true,
        "Selector" => {
            let selector = ns.and_then(|n| n.selector.as_ref());
            let labels = cluster.namespace_labels.get(route_ns).cloned().unwrap_or_default();
            let mut labels = labels;
            labels.entry("kubernetes.io/metadata.name".into()).or_insert_with(|| route_ns.to_owned());
            selector
                .and_then(|s| crate::labels::Selector::from_label_selector(s).ok())
                .is_some_and(|s| s.matches(&labels))
        }
        _ => route_ns == gw_ns,
    }
}

/// Whether `name` falls under a wildcard hostname (`*.example.com` takes
/// `a.example.com` and `a.b.example.com`, not `example.com`); the suffix
/// the wildcard matched by, if it does.
pub fn under_wildcard<'w>(wild: &'w str, name: &str) -> Option<&'w str> {
    wild.strip_prefix('*').filter(|suffix| name.ends_with(suffix) && name.len() > suffix.len())
}

/// Whether a hostname pattern takes a host: equal, or a wildcard it falls under.
pub fn takes(pattern: &str, host: &str) -> bool {
    pattern == host || under_wildcard(pattern, host).is_some()
}

/// Whether a listener hostname and a route hostname intersect: equal, or
/// one a wildcard (`*.example.com`) that the other falls under.
pub fn hostnames_intersect(listener: &str, route: &str) -> bool {
    takes(listener, route) || under_wildcard(route, listener).is_some()
}

/// A route as status needs it: its kind, namespace, parents, hostnames
/// and backends.
#[derive(Debug)]
pub struct RouteView<'a> {
    pub kind: &'static str,
    pub namespace: String,
    pub parents: &'a [crd::ParentRef],
    pub hostnames: &'a [String],
    pub backends: Vec<&'a crd::BackendRef>,
}

impl<'a> RouteView<'a> {
    pub fn http(r: &'a crd::HttpRoute) -> RouteView<'a> {
        let backends = r.spec.rules.iter().flatten().flat_map(|rule| {
            rule.backend_refs
                .iter()
                .chain(rule.filters.iter().filter_map(|f| f.request_mirror.as_ref().map(|m| &m.backend_ref)))
        });
        RouteView {
            kind: "HTTPRoute",
            namespace: namespace(&r.metadata),
            parents: &r.spec.parent_refs,
            hostnames: &r.spec.hostnames,
            backends: backends.collect(),
        }
    }

    pub fn grpc(r: &'a crd::GrpcRoute) -> RouteView<'a> {
        RouteView {
            kind: "GRPCRoute",
            namespace: namespace(&r.metadata),
            parents: &r.spec.parent_refs,
            hostnames: &r.spec.hostnames,
            backends: r.spec.rules.iter().flat_map(|rule| rule.backend_refs.iter()).collect(),
        }
    }
}

/// The Gateway a parentRef names, `(namespace, name)`, when it names one.
pub fn parent_gateway(p: &crd::ParentRef, route_ns: &str) -> Option<(String, String)> {
    let group = p.group.as_deref().unwrap_or(GROUP);
    let kind = p.kind.as_deref().unwrap_or("Gateway");
    (group == GROUP && kind == "Gateway")
        .then(|| (p.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| route_ns.to_owned()), p.name.clone()))
}

/// The listeners of `gw` a parentRef selects (by sectionName and port).
pub fn selected<'g>(gw: &'g crd::Gateway, p: &crd::ParentRef) -> Vec<&'g crd::Listener> {
    gw.spec
        .listeners
        .iter()
        .filter(|l| p.section_name.as_deref().is_none_or(|s| s == l.name))
        .filter(|l| p.port.is_none_or(|port| port == l.port))
        .collect()
}

/// The listeners of `gw` that take the route by this parentRef: selected,
/// and allowing its namespace and kind.
pub fn attached<'g>(
    cluster: &Cluster,
    gw: &'g crd::Gateway,
    p: &crd::ParentRef,
    route: &RouteView<'_>,
) -> Vec<&'g crd::Listener> {
    let gw_ns = namespace(&gw.metadata);
    selected(gw, p)
        .into_iter()
        .filter(|l| namespace_allowed(cluster, l, &gw_ns, &route.namespace))
        .filter(|l| supported_kinds(l).0.contains(&route.kind))
        .collect()
}

/// A route's status for one parentRef, when that parent is a Gateway of an
/// implementation podpath simulates (a controller writes only its own).
pub fn parent_status(
    cluster: &Cluster,
    api: &GatewayApi,
    p: &crd::ParentRef,
    route: &RouteView<'_>,
) -> Option<ParentStatus> {
    let (gw_ns, gw_name) = parent_gateway(p, &route.namespace)?;
    let gw = &api.gateway(&gw_ns, &gw_name)?.object;
    let implementation = api.implementation(gw)?;
    let mut conditions = Vec::new();
    let accepted = if selected(gw, p).is_empty() {
        Condition::new(
            "Accepted",
            false,
            "NoMatchingParent",
            "no listener of the Gateway matches the parentRef's sectionName or port",
        )
    } else {
        let listeners = attached(cluster, gw, p, route);
        if listeners.is_empty() {
            Condition::new(
                "Accepted",
                false,
                "NotAllowedByListeners",
                "no listener's allowedRoutes lets this route in (its namespace or kind)",
            )
        } else if !route.hostnames.is_empty()
            && !listeners.iter().any(|l| {
                l.hostname.as_deref().is_none_or(|lh| route.hostnames.iter().any(|rh| hostnames_intersect(lh, rh)))
            })
        {
            Condition::new(
                "Accepted",
                false,
                "NoMatchingListenerHostname",
                "no listener hostname intersects the route's hostnames",
            )
        } else {
            Condition::new("Accepted", true, "Accepted", "the route is accepted")
        }
    };
    conditions.push(accepted);
    conditions.push(resolved_refs(cluster, api, route));
    Some(ParentStatus {
        gateway: (gw_ns, gw_name),
        section_name: p.section_name.clone(),
        port: p.port,
        controller: implementation.controller_name(),
        conditions,
    })
}

/// Why a backend reference does not resolve, if it does not.
pub fn backend_problem(
    cluster: &Cluster,
    api: &GatewayApi,
    route_kind: &str,
    route_ns: &str,
    b: &crd::BackendRef,
) -> Option<(&'static str, String)> {
    let group = b.group.as_deref().unwrap_or("");
    let kind = b.kind.as_deref().unwrap_or("Service");
    if !group.is_empty() || kind != "Service" {
        return Some((
            "InvalidKind",
            format!("backendRef {}: kind {kind} of group \"{group}\" is not supported", b.name),
        ));
    }
    let ns = b.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| route_ns.to_owned());
    if ns != route_ns && !api.grants_service(route_kind, route_ns, &ns, &b.name) {
        return Some((
            "RefNotPermitted",
            format!(
                "backendRef {ns}/{}: no ReferenceGrant in namespace {ns} lets a {route_kind} of {route_ns} refer to it",
                b.name
            ),
        ));
    }
    if cluster.service(&ns, &b.name).is_none() {
        return Some(("BackendNotFound", format!("backendRef {ns}/{}: service not found", b.name)));
    }
    None
}

fn resolved_refs(cluster: &Cluster, api: &GatewayApi, route: &RouteView<'_>) -> Condition {
    for b in &route.backends {
        if let Some((reason, message)) = backend_problem(cluster, api, route.kind, &route.namespace, b) {
            return Condition::new("ResolvedRefs", false, reason, message);
        }
    }
    Condition::new("ResolvedRefs", true, "ResolvedRefs", "all references are resolved")
}

/// Every route of the API as a [`RouteView`], with its name.
pub fn routes(api: &GatewayApi) -> Vec<(String, RouteView<'_>)> {
    let http = api.http_routes.iter().map(|r| (name(&r.object.metadata), RouteView::http(&r.object)));
    let grpc = api.grpc_routes.iter().map(|r| (name(&r.object.metadata), RouteView::grpc(&r.object)));
    http.chain(grpc).collect()
}

/// Whether a route attaches to listener `listener` of `gw` by one of its
/// parentRefs.
pub fn on_listener(cluster: &Cluster, gw: &crd::Gateway, view: &RouteView<'_>, listener: &str) -> bool {
    let id = (namespace(&gw.metadata), name(&gw.metadata));
    view.parents.iter().any(|p| {
        parent_gateway(p, &view.namespace).as_ref() == Some(&id)
            && attached(cluster, gw, p, view).iter().any(|a| a.name == listener)
    })
}

/// A Gateway's status as its controller writes it; `None` when no
/// simulated controller takes it. `address` is where its data plane is
/// reachable (its LoadBalancer Service's address).
pub fn gateway_status(
    cluster: &Cluster,
    api: &GatewayApi,
    gw: &crd::Gateway,
    address: Option<std::net::IpAddr>,
) -> Option<GatewayStatus> {
    let implementation = api.implementation(gw)?;
    let gw_ns = namespace(&gw.metadata);
    let gw_name = name(&gw.metadata);
    let all_routes = routes(api);
    let mut listeners = Vec::new();
    let mut valid = 0;
    for l in &gw.spec.listeners {
        let (kinds, invalid_kinds) = supported_kinds(l);
        let attached_routes = all_routes
            .iter()
            .filter(|(_, r)| {
                r.parents.iter().any(|p| {
                    parent_gateway(p, &r.namespace) == Some((gw_ns.clone(), gw_name.clone()))
                        && attached(cluster, gw, p, r).iter().any(|a| a.name == l.name)
                })
            })
            .count() as u32;
        let conflicted =
            gw.spec.listeners.iter().any(|o| o.name != l.name && o.port == l.port && o.protocol != l.protocol);
        let mut conditions = Vec::new();
        // Traefik serves a listener on the entryPoint with its port (one
        // without TLS for HTTP): `entryPointName` in its provider.
        let entry_point = (implementation == Implementation::Traefik).then(|| {
            api.traefik_entry_points.iter().find(|(_, port, tls)| *port == l.port && !(l.protocol == "HTTP" && *tls))
        });
        let port_ok = entry_point.is_none_or(|e| e.is_some());
        if kinds_for(&l.protocol).is_empty() {
            conditions.push(Condition::new(
                "Accepted",
                false,
                "UnsupportedProtocol",
                format!("protocol {} is not supported", l.protocol),
            ));
        } else if !port_ok {
            conditions.push(Condition::new(
                "Accepted",
                false,
                "PortUnavailable",
                format!(
                    "Cannot find entryPoint for Gateway: no matching entryPoint for port {} and protocol \"{}\"",
                    l.port, l.protocol
                ),
            ));
        } else {
            conditions.push(Condition::new("Accepted", true, "Accepted", "the listener is accepted"));
        }
        conditions.push(if conflicted {
            Condition::new(
                "Conflicted",
                true,
                "ProtocolConflict",
                "another listener uses this port with another protocol",
            )
        } else {
            Condition::new("Conflicted", false, "NoConflicts", "no conflicts")
        });
        let certificate = certificate_problem(api, &gw_ns, l);
        conditions.push(match (&certificate, invalid_kinds) {
            (Some((reason, message)), _) => Condition::new("ResolvedRefs", false, reason, message.clone()),
            (None, true) => Condition::new(
                "ResolvedRefs",
                false,
                "InvalidRouteKinds",
                "a route kind of allowedRoutes.kinds is not supported",
            ),
            (None, false) => Condition::new("ResolvedRefs", true, "ResolvedRefs", "all references are resolved"),
        });
        let ok = !kinds_for(&l.protocol).is_empty() && !conflicted && port_ok && certificate.is_none();
        conditions.push(if ok {
            Condition::new("Programmed", true, "Programmed", "the listener is programmed")
        } else {
            Condition::new("Programmed", false, "Invalid", "the listener is not valid")
        });
        valid += usize::from(ok);
        listeners.push(ListenerStatus { name: l.name.clone(), supported_kinds: kinds, attached_routes, conditions });
    }
    let all_valid = valid == gw.spec.listeners.len();
    // Traefik refuses a Gateway with any invalid listener; the others
    // accept the valid part.
    let strict = implementation == Implementation::Traefik;
    let accepted = match (valid, all_valid) {
        (0, _) => Condition::new("Accepted", false, "ListenersNotValid", "no listener is valid"),
        (_, false) if strict => Condition::new("Accepted", false, "ListenersNotValid", "All Listeners must be valid"),
        (_, false) => Condition::new("Accepted", true, "ListenersNotValid", "some listeners are not valid"),
        _ => Condition::new("Accepted", true, "Accepted", "the Gateway is accepted"),
    };
    // NGF reports Programmed once nginx has its configuration, address or
    // not; Cilium and Traefik wait for the address.
    let programmed = match address {
        _ if valid == 0 => Condition::new("Programmed", false, "Invalid", "no listener is valid"),
        None if implementation != Implementation::NginxGatewayFabric => {
            Condition::new("Programmed", false, "AddressNotAssigned", "no address is assigned to the Gateway")
        }
        _ => Condition::new("Programmed", true, "Programmed", "the Gateway is programmed"),
    };
    Some(GatewayStatus {
        implementation,
        addresses: address.into_iter().collect(),
        conditions: vec![accepted, programmed],
        listeners,
    })
}

/// What is wrong with a terminating listener's certificates, as the
/// API's listener reasons say it: a ref that is no core Secret, a Secret
/// the input does not have (`InvalidCertificateRef`), one in another
/// namespace that no ReferenceGrant there lets the Gateway use
/// (`RefNotPermitted`).
fn certificate_problem(api: &GatewayApi, gw_ns: &str, l: &crd::Listener) -> Option<(&'static str, String)> {
    let tls = l.tls.as_ref().filter(|t| t.mode.as_deref().unwrap_or("Terminate") == "Terminate")?;
    if !matches!(l.protocol.as_str(), "HTTPS" | "TLS") {
        return None;
    }
    for r in &tls.certificate_refs {
        let (group, kind) = (r.group.as_deref().unwrap_or(""), r.kind.as_deref().unwrap_or("Secret"));
        if !group.is_empty() || kind != "Secret" {
            return Some((
                "InvalidCertificateRef",
                format!("certificateRef {}: kind {kind} of group \"{group}\" is not a Secret", r.name),
            ));
        }
        let ns = r.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| gw_ns.to_owned());
        if ns != gw_ns && !api.grants_secret(gw_ns, &ns, &r.name) {
            return Some((
                "RefNotPermitted",
                format!(
                    "certificateRef {ns}/{}: no ReferenceGrant in namespace {ns} lets a Gateway of {gw_ns} refer to it",
                    r.name
                ),
            ));
        }
        if !api.secrets.iter().any(|(sns, sname)| *sns == ns && *sname == r.name) {
            return Some(("InvalidCertificateRef", format!("certificateRef {ns}/{}: secret not found", r.name)));
        }
    }
    None
}

/// A GatewayClass's `Accepted` condition, written by the controller it
/// names when podpath simulates that controller; `None` otherwise (the
/// class keeps the API server's default: Unknown, Pending, "Waiting for
/// controller").
pub fn class_accepted(api: &GatewayApi, class: &crd::GatewayClass) -> Option<Condition> {
    Implementation::of(&class.spec.controller_name)
        .filter(|i| api.running.contains(i))
        .map(|_| Condition::new("Accepted", true, "Accepted", "the GatewayClass is accepted"))
}

/// What a controller's status says is wrong with each route, as
/// warnings at the route: a parent that does not accept it (and why), a
/// reference that does not resolve.
pub fn route_warnings(cluster: &Cluster, api: &GatewayApi) -> Vec<crate::diag::Diagnostic> {
    let mut out = Vec::new();
    let http = api.http_routes.iter().map(|r| (&r.origin, name(&r.object.metadata), RouteView::http(&r.object)));
    let grpc = api.grpc_routes.iter().map(|r| (&r.origin, name(&r.object.metadata), RouteView::grpc(&r.object)));
    for (origin, route_name, view) in http.chain(grpc) {
        let key = format!("{} {}/{route_name}", view.kind.to_ascii_lowercase(), view.namespace);
        for (i, p) in view.parents.iter().enumerate() {
            let Some(s) = parent_status(cluster, api, p, &view) else { continue };
            for c in s.conditions.iter().filter(|c| !c.status) {
                out.push(
                    crate::diag::Diagnostic::warning(
                        origin.clone(),
                        format!(
                            "{key}: Gateway {}/{} says {} False ({}): {}",
                            s.gateway.0, s.gateway.1, c.type_, c.reason, c.message
                        ),
                    )
                    .at_field(format!("spec.parentRefs[{i}]")),
                );
            }
        }
    }
    out
}
