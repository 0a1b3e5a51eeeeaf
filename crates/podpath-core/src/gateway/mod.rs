//! The Gateway API (`gateway.networking.k8s.io`, standard channel v1.4):
//! the objects as the cluster holds them, which of them the three
//! implementations podpath knows take (by `GatewayClass.spec.controllerName`),
//! how routes attach to listeners and the status each controller writes
//! (`status.rs`), and how a data plane routes a request (`route.rs`).
//!
//! Facts come from the API's own types and CRDs (apis/v1/*.go and
//! config/crd/standard at v1.4.1) and its conformance suite.

pub mod convert;
pub mod grpc;
pub mod provision;
pub mod route;
pub mod status;
pub mod validate;
pub mod view;

use std::net::IpAddr;

use crate::cluster::Cluster;
use crate::diag::Origin;
use crate::load::gateway as crd;

/// The API group.
pub const GROUP: &str = "gateway.networking.k8s.io";

/// A Gateway API implementation podpath simulates, by the controller name
/// its GatewayClass carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Implementation {
    /// NGINX Gateway Fabric: an nginx data plane per Gateway.
    NginxGatewayFabric,
    /// Traefik's kubernetesGateway provider: its own pods.
    Traefik,
    /// Cilium's Gateway API: the node's cilium-envoy.
    Cilium,
}

impl Implementation {
    pub const ALL: [Implementation; 3] =
        [Implementation::NginxGatewayFabric, Implementation::Traefik, Implementation::Cilium];

    /// `spec.controllerName` as each project's manifests write it.
    pub fn controller_name(self) -> &'static str {
        match self {
            Implementation::NginxGatewayFabric => "gateway.nginx.org/nginx-gateway-controller",
            Implementation::Traefik => "traefik.io/gateway-controller",
            Implementation::Cilium => "io.cilium/gateway-controller",
        }
    }

    pub fn of(controller: &str) -> Option<Implementation> {
        Implementation::ALL.into_iter().find(|i| i.controller_name() == controller)
    }

    /// The proxy that routes the requests.
    pub fn data_plane(self) -> &'static str {
        match self {
            Implementation::NginxGatewayFabric => "nginx",
            Implementation::Traefik => "traefik",
            Implementation::Cilium => "envoy",
        }
    }

    /// The body of the 404 its proxy answers when no route matches: nginx's
    /// error page (NGF turns server tokens off), Go's NotFound handler,
    /// Envoy's empty body.
    pub fn not_found_body(self) -> &'static str {
        match self {
            Implementation::NginxGatewayFabric => {
                "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            }
            Implementation::Traefik => "404 page not found\n",
            Implementation::Cilium => "",
        }
    }
}

/// An object of the API with where it was written and its place in the
/// input (the creation order, where no creationTimestamp says otherwise).
#[derive(Clone, Debug, PartialEq)]
pub struct Held<T> {
    pub object: T,
    pub origin: Origin,
    pub index: usize,
}

/// The Gateway API objects of the cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GatewayApi {
    pub classes: Vec<Held<crd::GatewayClass>>,
    pub gateways: Vec<Held<crd::Gateway>>,
    pub http_routes: Vec<Held<crd::HttpRoute>>,
    pub grpc_routes: Vec<Held<crd::GrpcRoute>>,
    pub grants: Vec<Held<crd::ReferenceGrant>>,
    /// The implementations whose controller runs in the cluster: NGINX
    /// Gateway Fabric once a class names it (its install is the class's),
    /// Cilium's with the Cilium plugin, Traefik's when its pods run the
    /// kubernetesGateway provider.
    pub running: Vec<Implementation>,
    /// Traefik's entryPoints (name, port, whether it terminates TLS), which
    /// its Gateway listeners must use.
    pub traefik_entry_points: Vec<(String, i32, bool)>,
    /// The Secrets of the input, `(namespace, name)`: what a listener's
    /// certificateRefs can find (their contents are not read).
    pub secrets: Vec<(String, String)>,
}

/// `metadata.namespace`, `default` when absent.
pub fn namespace(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into())
}

pub fn name(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

impl GatewayApi {
    /// The objects of the input, in input order.
    pub fn from_manifests(m: &crate::load::Manifests) -> GatewayApi {
        use crate::load::Object;
        let mut api = GatewayApi::default();
        for (index, l) in m.objects.iter().enumerate() {
            let origin = l.origin.clone();
            match &l.object {
                Object::GatewayClass(o) => api.classes.push(Held { object: (**o).clone(), origin, index }),
                Object::Gateway(o) => api.gateways.push(Held { object: (**o).clone(), origin, index }),
                Object::HttpRoute(o) => api.http_routes.push(Held { object: (**o).clone(), origin, index }),
                Object::GrpcRoute(o) => api.grpc_routes.push(Held { object: (**o).clone(), origin, index }),
                Object::ReferenceGrant(o) => api.grants.push(Held { object: (**o).clone(), origin, index }),
                _ => {}
            }
        }
        for s in m.skipped.iter().filter(|s| s.api_version == "v1" && s.kind == "Secret") {
            let (ns, name) = s.name.split_once('/').unwrap_or(("default", s.name.as_str()));
            api.secrets.push((ns.to_owned(), name.to_owned()));
        }
        api
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
            && self.gateways.is_empty()
            && self.http_routes.is_empty()
            && self.grpc_routes.is_empty()
            && self.grants.is_empty()
    }

    pub fn class(&self, name: &str) -> Option<&crd::GatewayClass> {
        self.classes.iter().map(|c| &c.object).find(|c| c.metadata.name.as_deref() == Some(name))
    }

    pub fn gateway(&self, ns: &str, name: &str) -> Option<&Held<crd::Gateway>> {
        self.gateways
            .iter()
            .find(|g| namespace(&g.object.metadata) == ns && g.object.metadata.name.as_deref() == Some(name))
    }

    /// The implementation that takes a Gateway: its class's controller,
    /// when that is one podpath simulates.
    pub fn implementation(&self, gw: &crd::Gateway) -> Option<Implementation> {
        self.class(&gw.spec.gateway_class_name)
            .and_then(|c| Implementation::of(&c.spec.controller_name))
            .filter(|i| self.running.contains(i))
    }

    /// Which controllers run, from the settings and the cluster's pods.
    pub fn find_running(&mut self, cluster: &crate::cluster::Cluster) {
        self.running = vec![Implementation::NginxGatewayFabric];
        if cluster.settings.cni.gateway_controller() == Some(Implementation::Cilium.controller_name()) {
            self.running.push(Implementation::Cilium);
        }
        let args = crate::ingress::traefik::args(cluster);
        let flag = |key: &str| crate::ingress::traefik::flag(&args, key);
        if flag("--providers.kubernetesgateway") {
            self.running.push(Implementation::Traefik);
        }
        // `--entryPoints.web.address=:8000/tcp`, `--entryPoints.websecure.http.tls=true`.
        let mut eps: Vec<(String, i32, bool)> = Vec::new();
        for a in &args {
            let Some(rest) = a.strip_prefix("--entryPoints.").or_else(|| a.strip_prefix("--entrypoints.")) else {
                continue;
            };
            let Some((ep, value)) = rest.split_once(".address=") else { continue };
            let port = value.rsplit(':').next().and_then(|p| p.split('/').next()).and_then(|p| p.parse().ok());
            if let Some(port) = port {
                let tls = flag(&format!("--entryPoints.{ep}.http.tls"));
                eps.push((ep.to_owned(), port, tls));
            }
        }
        self.traefik_entry_points = eps;
    }

    /// Whether a ReferenceGrant in `to_ns` lets Gateways of `from_ns` use
    /// the Secret `name` there.
    pub fn grants_secret(&self, from_ns: &str, to_ns: &str, name: &str) -> bool {
        self.grants.iter().filter(|g| namespace(&g.object.metadata) == to_ns).any(|g| {
            g.object.spec.from.iter().any(|f| f.group == GROUP && f.kind == "Gateway" && f.namespace == from_ns)
                && g.object.spec.to.iter().any(|t| {
                    t.group.is_empty()
                        && t.kind == "Secret"
                        && t.name.as_deref().is_none_or(|n| n.is_empty() || n == name)
                })
        })
    }

    /// Whether a ReferenceGrant in `to_ns` lets a `kind` (of the API's
    /// group) in `from_ns` refer to the core Service `name` there.
    pub fn grants_service(&self, from_kind: &str, from_ns: &str, to_ns: &str, name: &str) -> bool {
        self.grants.iter().filter(|g| namespace(&g.object.metadata) == to_ns).any(|g| {
            let from =
                g.object.spec.from.iter().any(|f| f.group == GROUP && f.kind == from_kind && f.namespace == from_ns);
            let to = g.object.spec.to.iter().any(|t| {
                t.group.is_empty() && t.kind == "Service" && t.name.as_deref().is_none_or(|n| n.is_empty() || n == name)
            });
            from && to
        })
    }
}

/// Where a Gateway's data plane is reachable: its LoadBalancer Service's
/// address (NGF's `<gateway>-<class>`, Cilium's `cilium-gateway-<gateway>`,
/// Traefik's own Service).
pub fn address(cluster: &Cluster, gw: &crd::Gateway) -> Option<IpAddr> {
    let api = &cluster.gateway_api;
    let (ns, gw_name) = (namespace(&gw.metadata), name(&gw.metadata));
    let svc = match api.implementation(gw)? {
        Implementation::NginxGatewayFabric => {
            cluster.service(&ns, &format!("{gw_name}-{}", gw.spec.gateway_class_name))
        }
        Implementation::Cilium => cluster.service(&ns, &format!("cilium-gateway-{gw_name}")),
        Implementation::Traefik => crate::ingress::traefik::service(cluster),
    }?;
    svc.load_balancer_ips.first().copied()
}

/// The Gateway whose data plane a pod is, and the port the request
/// arrived on is one of its listeners': an NGF nginx pod (by its
/// `gateway.networking.k8s.io/gateway-name` label), or Traefik's pod for
/// a Gateway of its class with a listener on that entryPoint port.
pub fn gateway_of_pod<'c>(cluster: &'c Cluster, pod: &str, port: u16) -> Option<&'c Held<crd::Gateway>> {
    let api = &cluster.gateway_api;
    let (ns, pod_name) = pod.split_once('/')?;
    let p = cluster.pod(ns, pod_name)?;
    let listens = |g: &crd::Gateway| g.spec.listeners.iter().any(|l| l.port == i32::from(port));
    if let Some(gw_name) = p.labels.get("gateway.networking.k8s.io/gateway-name") {
        let g = api.gateway(ns, gw_name)?;
        return (api.implementation(&g.object) == Some(Implementation::NginxGatewayFabric) && listens(&g.object))
            .then_some(g);
    }
    let traefik = crate::ingress::traefik::service(cluster)?;
    let is_traefik = cluster.slices_of(traefik).flat_map(|s| s.endpoints.iter()).any(|e| e.pod.as_deref() == Some(pod));
    if !is_traefik {
        return None;
    }
    api.gateways.iter().find(|g| api.implementation(&g.object) == Some(Implementation::Traefik) && listens(&g.object))
}

/// The Gateway whose Service Cilium's operator made (`NS/cilium-gateway-NAME`).
pub fn gateway_of_service<'c>(cluster: &'c Cluster, service: &str) -> Option<&'c Held<crd::Gateway>> {
    let (ns, name) = service.split_once('/')?;
    let gw = name.strip_prefix("cilium-gateway-")?;
    let held = cluster.gateway_api.gateway(ns, gw)?;
    (cluster.gateway_api.implementation(&held.object) == Some(Implementation::Cilium)).then_some(held)
}

/// The cilium-envoy pod of a node (host network: the node's address).
pub fn envoy_of_node(cluster: &Cluster, node: &str) -> Option<String> {
    cluster
        .pods
        .iter()
        .find(|p| {
            p.namespace == "kube-system" && p.name.starts_with("cilium-envoy-") && p.node.as_deref() == Some(node)
        })
        .map(crate::cluster::Pod::key)
}

/// The address public DNS would give `host`: a Gateway's, when a route
/// attached to it (or one of its listeners) names that host exactly.
pub fn published_address(cluster: &Cluster, host: &str) -> Option<IpAddr> {
    let api = &cluster.gateway_api;
    for held in &api.gateways {
        let gw = &held.object;
        let Some(addr) = address(cluster, gw) else { continue };
        let by_listener = gw.spec.listeners.iter().any(|l| l.hostname.as_deref() == Some(host));
        let id = (namespace(&gw.metadata), name(&gw.metadata));
        let names = |hostnames: &[String], parents: &[crd::ParentRef], ns: String| {
            hostnames.iter().any(|h| h == host)
                && parents.iter().any(|p| status::parent_gateway(p, &ns).as_ref() == Some(&id))
        };
        let by_route =
            api.http_routes
                .iter()
                .any(|r| names(&r.object.spec.hostnames, &r.object.spec.parent_refs, namespace(&r.object.metadata)))
                || api.grpc_routes.iter().any(|r| {
                    names(&r.object.spec.hostnames, &r.object.spec.parent_refs, namespace(&r.object.metadata))
                });
        if by_listener || by_route {
            return Some(addr);
        }
    }
    None
}
