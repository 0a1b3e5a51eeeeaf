//! The data planes the implementations deploy for the Gateways they take,
//! as their controllers create them (written as manifests, then built like
//! any other object):
//!
//! - NGINX Gateway Fabric 2.x (`internal/controller/provisioner`): its
//!   control plane in `nginx-gateway`, and per Gateway a Deployment and a
//!   Service named `<gateway>-<class>` in the Gateway's namespace — the
//!   Service a LoadBalancer with `externalTrafficPolicy: Local`, one port
//!   `port-<N>` per listener port, port = targetPort = the listener's.
//! - Traefik: nothing per Gateway; its own pods serve the listeners on the
//!   entryPoints whose port is the listener's, when it runs with
//!   `--providers.kubernetesgateway`.
//! - Cilium: a LoadBalancer Service `cilium-gateway-<gateway>` without a
//!   selector, labelled `io.cilium.gateway/owning-gateway`, with the
//!   operator's placeholder endpoint 192.192.192.192:9999; the agent makes
//!   its frontends L7 load balancers, which the node's Envoy answers (when
//!   the cluster runs Cilium).

use std::fmt::Write as _;

use super::{name, namespace, GatewayApi, Implementation};
use crate::settings::Settings;

/// Where the provisioned objects say they come from (a platform file, so
/// they are the platform's, as system components are).
pub const FILE: &str = "<system>/gateway-data-planes.yaml";

/// The image of NGF's nginx data plane and of its control plane.
const NGF_VERSION: &str = "2.3.0";

/// The manifests of the data planes for the Gateways of `api`.
pub fn manifests(api: &GatewayApi, settings: &Settings) -> String {
    let mut out = String::new();
    let uses =
        |i: Implementation| api.classes.iter().any(|c| Implementation::of(&c.object.spec.controller_name) == Some(i));
    if uses(Implementation::NginxGatewayFabric) {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: nginx-gateway}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx-gateway\n  namespace: nginx-gateway\n  labels: {{app.kubernetes.io/name: nginx-gateway, app.kubernetes.io/instance: nginx-gateway}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app.kubernetes.io/name: nginx-gateway, app.kubernetes.io/instance: nginx-gateway}}}}\n  template:\n    metadata: {{labels: {{app.kubernetes.io/name: nginx-gateway, app.kubernetes.io/instance: nginx-gateway}}}}\n    spec:\n      containers:\n      - name: nginx-gateway\n        image: ghcr.io/nginx/nginx-gateway-fabric:{NGF_VERSION}\n        args: [controller, --gateway-ctlr-name=gateway.nginx.org/nginx-gateway-controller, --gatewayclass=nginx]\n        ports: [{{name: agent-grpc, containerPort: 8443}}]\n"
        );
    }
    for held in &api.gateways {
        let gw = &held.object;
        // Which controller takes it: the class's (whether it runs is the
        // match below: NGF's always, Cilium's with its plugin).
        let Some(i) = api.class(&gw.spec.gateway_class_name).and_then(|c| Implementation::of(&c.spec.controller_name))
        else {
            continue;
        };
        let (ns, gw_name, class) = (namespace(&gw.metadata), name(&gw.metadata), gw.spec.gateway_class_name.clone());
        let mut ports: Vec<i32> =
            gw.spec.listeners.iter().map(|l| l.port).filter(|p| (1..=65535).contains(p)).collect();
        crate::order::sort(&mut ports);
        ports.dedup();
        let service_ports: String = ports
            .iter()
            .map(|p| format!("  - {{name: port-{p}, port: {p}, targetPort: {p}, protocol: TCP}}\n"))
            .collect();
        match i {
            Implementation::NginxGatewayFabric => {
                let resource = format!("{gw_name}-{class}");
                let labels = format!("{{app.kubernetes.io/name: {resource}, app.kubernetes.io/instance: nginx-gateway, app.kubernetes.io/managed-by: nginx-gateway-{class}, gateway.networking.k8s.io/gateway-name: {gw_name}}}");
                let container_ports: String =
                    ports.iter().map(|p| format!("          - {{name: port-{p}, containerPort: {p}}}\n")).collect();
                let _ = write!(
                    out,
                    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {resource}\n  namespace: {ns}\n  labels: {labels}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {labels}}}\n  template:\n    metadata: {{labels: {labels}}}\n    spec:\n      containers:\n      - name: nginx\n        image: ghcr.io/nginx/nginx-gateway-fabric/nginx:{NGF_VERSION}\n        ports:\n{container_ports}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {resource}\n  namespace: {ns}\n  labels: {labels}\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n  selector: {labels}\n  ports:\n{service_ports}"
                );
            }
            Implementation::Cilium if settings.cni.gateway_controller() == Some(i.controller_name()) => {
                let _ = write!(
                    out,
                    "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: cilium-gateway-{gw_name}\n  namespace: {ns}\n  labels: {{io.cilium.gateway/owning-gateway: {gw_name}, gateway.networking.k8s.io/gateway-name: {gw_name}}}\nspec:\n  type: LoadBalancer\n  ports:\n{service_ports}"
                );
                // The operator's placeholder endpoint (192.192.192.192:9999),
                // so the Service is not one without endpoints; the
                // EndpointSlice mirroring controller copies it into a slice.
                // The node's Envoy answers, not this address.
                let _ = write!(
                    out,
                    "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: cilium-gateway-{gw_name}-mirror\n  namespace: {ns}\n  labels: {{kubernetes.io/service-name: cilium-gateway-{gw_name}, endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io}}\naddressType: IPv4\nendpoints:\n- addresses: [192.192.192.192]\n  conditions: {{ready: true}}\nports:\n- {{name: \"\", port: 9999, protocol: TCP}}\n"
                );
            }
            _ => {}
        }
    }
    out
}
