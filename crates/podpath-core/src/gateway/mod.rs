//! The Gateway API (`gateway.networking.k8s.io`, standard channel v1.4):
//! the objects as the cluster holds them, which of them the three
//! implementations podpath knows take (by `GatewayClass.spec.controllerName`),
//! how routes attach to listeners and the status each controller writes
//! (`status.rs`), and how a data plane routes a request (`route.rs`).
//!
//! Facts come from the API's own types and CRDs (apis/v1/*.go and
//! config/crd/standard at v1.4.1) and its conformance suite.

pub mod route;
pub mod status;
pub mod view;

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
        self.class(&gw.spec.gateway_class_name).and_then(|c| Implementation::of(&c.spec.controller_name))
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
