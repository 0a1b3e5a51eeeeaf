//! Ingresses and IngressClasses as objects of the cluster: which controller
//! takes each Ingress and the address it publishes. (Routing requests by
//! host and path comes with the ingress controllers.)

use std::net::IpAddr;

use k8s_openapi::api::networking::v1 as networking;

use super::services::Service;
use crate::diag::{Diagnostic, Origin};
use crate::load::{Manifests, Object};

/// The class annotation from before `ingressClassName`, still honoured.
pub const LEGACY_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// The annotation that makes an IngressClass the default one.
pub const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngressClass {
    pub name: String,
    pub controller: String,
    pub is_default: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ingress {
    pub namespace: String,
    pub name: String,
    /// `spec.ingressClassName`, or the default class the API server filled in.
    pub class: Option<String>,
    pub hosts: Vec<String>,
    pub tls: bool,
    /// The address the controller publishes in `status.loadBalancer`: its
    /// Service's load-balancer IP, once a controller has taken the Ingress.
    pub address: Vec<IpAddr>,
    pub annotations: std::collections::BTreeMap<String, String>,
    pub spec: networking::IngressSpec,
    pub origin: Origin,
}

impl Ingress {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }
}

/// A namespaced object of Traefik's kinds, with its place in the input.
#[derive(Clone, Debug, PartialEq)]
pub struct Named<T> {
    pub namespace: String,
    pub name: String,
    pub object: T,
    pub origin: Origin,
}

/// The Services ingress controllers publish their address from, by the
/// controller name their IngressClass carries.
const PUBLISHED: &[(&str, &str, &str)] = &[
    ("k8s.io/ingress-nginx", "ingress-nginx", "ingress-nginx-controller"),
    ("traefik.io/ingress-controller", "traefik", "traefik"),
];

pub(super) fn build(
    manifests: &Manifests,
    services: &[Service],
    diags: &mut Vec<Diagnostic>,
) -> (Vec<IngressClass>, Vec<Ingress>) {
    let mut classes = Vec::new();
    for located in &manifests.objects {
        let Object::IngressClass(ic) = &located.object else { continue };
        let Some(name) = ic.metadata.name.clone() else { continue };
        let is_default =
            ic.metadata.annotations.as_ref().and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION)).is_some_and(|v| v == "true");
        let controller = ic.spec.as_ref().map(|s| s.controller.clone().unwrap_or_default()).unwrap_or_default();
        classes.push(IngressClass { name, controller, is_default });
    }
    let default_class = classes.iter().find(|c| c.is_default).map(|c| c.name.clone());
    let mut ingresses = Vec::new();
    for located in &manifests.objects {
        let Object::Ingress(ing) = &located.object else { continue };
        let origin = &located.origin;
        let Some((ns, name)) = super::ident(&ing.metadata, "Ingress", origin, diags) else { continue };
        let spec = ing.spec.clone().unwrap_or_default();
        let annotations = ing.metadata.annotations.clone().unwrap_or_default();
        // The API server fills in the default class only for an Ingress
        // that names none, by field or by the legacy annotation.
        let legacy = annotations.contains_key(LEGACY_CLASS_ANNOTATION);
        let class = spec.ingress_class_name.clone().or_else(|| default_class.clone().filter(|_| !legacy));
        let controller = class.as_ref().and_then(|c| classes.iter().find(|k| &k.name == c));
        match (&class, controller) {
            (None, _) if legacy => {}
            (None, _) => diags.push(Diagnostic::warning(
                origin.clone(),
                format!(
                    "ingress {ns}/{name}: no ingressClassName and no default IngressClass; no controller will serve it"
                ),
            )),
            (Some(c), None) => diags.push(Diagnostic::warning(
                origin.clone(),
                format!("ingress {ns}/{name}: IngressClass \"{c}\" does not exist; no controller will serve it"),
            )),
            _ => {}
        }
        for backend in backends(&spec) {
            if !services.iter().any(|s| s.namespace == ns && s.name == backend) {
                diags.push(Diagnostic::warning(
                    origin.clone(),
                    format!("ingress {ns}/{name}: backend service \"{backend}\" does not exist in namespace {ns}; requests to it get 503"),
                ));
            }
        }
        let address = controller
            .and_then(|c| PUBLISHED.iter().find(|(ctl, _, _)| *ctl == c.controller))
            .and_then(|(_, sns, sname)| services.iter().find(|s| s.namespace == *sns && s.name == *sname))
            .map(|s| s.load_balancer_ips.clone())
            .unwrap_or_default();
        let mut hosts: Vec<String> = spec.rules.iter().flatten().filter_map(|r| r.host.clone()).collect();
        hosts.dedup();
        let tls = spec.tls.as_ref().is_some_and(|t| !t.is_empty());
        ingresses.push(Ingress {
            namespace: ns,
            name,
            class,
            hosts,
            tls,
            address,
            annotations,
            spec,
            origin: origin.clone(),
        });
    }
    (classes, ingresses)
}

/// Traefik's IngressRoutes and Middlewares, in input order.
pub(crate) fn traefik_objects(
    manifests: &Manifests,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Named<crate::load::crd::IngressRoute>>, Vec<Named<crate::load::crd::Middleware>>) {
    let mut routes = Vec::new();
    let mut middlewares = Vec::new();
    for located in &manifests.objects {
        match &located.object {
            Object::IngressRoute(r) => {
                if let Some((namespace, name)) = super::ident(&r.metadata, "IngressRoute", &located.origin, diags) {
                    routes.push(Named { namespace, name, object: (**r).clone(), origin: located.origin.clone() });
                }
            }
            Object::Middleware(m) => {
                if let Some((namespace, name)) = super::ident(&m.metadata, "Middleware", &located.origin, diags) {
                    middlewares.push(Named { namespace, name, object: (**m).clone(), origin: located.origin.clone() });
                }
            }
            _ => {}
        }
    }
    (routes, middlewares)
}

/// The Service names an Ingress routes to, in order, without repeats.
fn backends(spec: &networking::IngressSpec) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let default = spec.default_backend.iter();
    let paths =
        spec.rules.iter().flatten().filter_map(|r| r.http.as_ref()).flat_map(|h| h.paths.iter().map(|p| &p.backend));
    for b in default.chain(paths) {
        if let Some(s) = &b.service {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
    }
    names
}
