//! The components every real cluster runs before anyone applies anything:
//! the `kubernetes` Service, CoreDNS, kube-proxy (unless Cilium replaces
//! it), the CNI plugin's own pods and the ingress controller.
//!
//! They are written as the manifests their projects ship (trimmed to what
//! networking needs) and go through the same loader and controllers as the
//! user's objects. An object the user provides with the same kind,
//! namespace and name replaces the built-in one, so a dump of a real
//! cluster's kube-system wins over podpath's idea of it.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::cluster::Node;
use crate::load::{load, Manifests, Source};
use crate::settings::{IngressController, Settings};

/// Diagnostics and origins of built-in objects name files under this prefix.
pub const FILE_PREFIX: &str = "<system>/";

const KUBERNETES: &str = include_str!("kubernetes.yaml");
const COREDNS: &str = include_str!("coredns.yaml");
const KUBE_PROXY: &str = include_str!("kube-proxy.yaml");
const INGRESS_NGINX: &str = include_str!("ingress-nginx.yaml");
const TRAEFIK: &str = include_str!("traefik.yaml");

/// The `n`-th address of a range (`GetIndexedIP`): kubeadm gives the API
/// server's Service the 1st and kube-dns the 10th.
pub fn indexed_ip(net: IpNet, n: u32) -> IpAddr {
    match net {
        IpNet::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4.network()).wrapping_add(n))),
        IpNet::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6.network()).wrapping_add(u128::from(n)))),
    }
}

/// The built-in objects for these settings and nodes.
pub fn manifests(settings: &Settings, nodes: &[Node]) -> Manifests {
    let control_plane_ip = nodes
        .iter()
        .find(|n| n.is_control_plane())
        .or(nodes.first())
        .and_then(|n| n.internal_ip)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    let fill = |text: &str| {
        text.replace("{{API_IP}}", &indexed_ip(settings.service_cidr, 1).to_string())
            .replace("{{DNS_IP}}", &indexed_ip(settings.service_cidr, 10).to_string())
            .replace("{{DNS_DOMAIN}}", &settings.dns_domain)
            .replace("{{CLUSTER_CIDR}}", &settings.cluster_cidr.to_string())
            .replace("{{CONTROL_PLANE_IP}}", &control_plane_ip)
    };
    let mut files: Vec<(String, &str)> = vec![("kubernetes.yaml".into(), KUBERNETES)];
    // A live cluster's dump has its own node agents (or, on k3s, none: they
    // run inside k3s); podpath adds its own only to a scenario.
    if settings.proxy_mode.is_kube_proxy() && !settings.snapshot {
        files.push(("kube-proxy.yaml".into(), KUBE_PROXY));
    }
    if !settings.snapshot {
        files.push((format!("{}.yaml", settings.cni), crate::datapath::plugin(settings.cni).manifest()));
    }
    files.push(("coredns.yaml".into(), COREDNS));
    // The dump's own controller, where it has one.
    let controller = if settings.snapshot && settings.ingress_service.is_some() {
        IngressController::None
    } else {
        settings.ingress_controller
    };
    match controller {
        IngressController::Nginx => files.push(("ingress-nginx.yaml".into(), INGRESS_NGINX)),
        IngressController::Traefik => files.push(("traefik.yaml".into(), TRAEFIK)),
        IngressController::None => {}
    }
    let sources: Vec<Source> =
        files.iter().map(|(name, text)| Source::new(format!("{FILE_PREFIX}{name}"), fill(text))).collect();
    let (m, diags) = load(&sources);
    debug_assert!(diags.is_empty(), "built-in manifests load cleanly: {diags:?}");
    m
}

/// The built-in objects the user did not replace, then the user's own.
pub fn merge(system: Manifests, user: &Manifests) -> Manifests {
    let taken: BTreeSet<(&str, String, String)> = user.objects.iter().filter_map(|o| o.object.identity()).collect();
    let mut objects: Vec<_> = system
        .objects
        .into_iter()
        .filter(|o| o.object.identity().is_none_or(|(k, ns, n)| !taken.contains(&(k, ns, n))))
        .collect();
    objects.extend(user.objects.iter().cloned());
    Manifests { objects, skipped: user.skipped.clone() }
}

/// Namespaces that belong to the platform rather than to applications:
/// hidden from the page's default view, as `kubectl get pods` hides them.
pub fn is_system_namespace(ns: &str) -> bool {
    ns.starts_with("kube-")
        || matches!(ns, "ingress-nginx" | "traefik" | "calico-system" | "tigera-operator" | "cilium")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Cni;

    #[test]
    fn every_combination_loads_cleanly() {
        for cni in Cni::ALL {
            for ingress in [IngressController::Nginx, IngressController::Traefik, IngressController::None] {
                let mut s = Settings::for_cni(cni);
                s.ingress_controller = ingress;
                let plugins = Cni::ALL.map(|c| crate::datapath::plugin(c).manifest());
                let sources: Vec<Source> = [KUBERNETES, COREDNS, KUBE_PROXY, INGRESS_NGINX, TRAEFIK]
                    .iter()
                    .chain(plugins.iter())
                    .map(|t| {
                        Source::new(
                            "x",
                            t.replace("{{API_IP}}", "10.96.0.1")
                                .replace("{{DNS_IP}}", "10.96.0.10")
                                .replace("{{DNS_DOMAIN}}", "cluster.local")
                                .replace("{{CLUSTER_CIDR}}", "10.244.0.0/16")
                                .replace("{{CONTROL_PLANE_IP}}", "172.18.0.2"),
                        )
                    })
                    .collect();
                let (_, diags) = load(&sources);
                assert!(diags.is_empty(), "{diags:?}");
                assert!(!manifests(&s, &[]).objects.is_empty());
            }
        }
    }

    #[test]
    fn kubeadm_addresses() {
        let net: IpNet = "10.96.0.0/12".parse().unwrap();
        assert_eq!(indexed_ip(net, 1).to_string(), "10.96.0.1");
        assert_eq!(indexed_ip(net, 10).to_string(), "10.96.0.10");
    }
}
