//! A live cluster's dump read for what it runs: `kubectl get … -A -o yaml`
//! of a kind, kubeadm, k3s or managed cluster carries its CNI plugin's
//! agent, kube-proxy's configuration, its ingress controller and its
//! address ranges. Settings nobody gave are taken from there, each said in
//! a note naming the object it came from; what podpath cannot simulate
//! (kindnet, a cloud's CNI) falls back to the closest plugin with a
//! warning. Input that is not a dump (no running pod with `status.podIP`
//! in kube-system) is left alone: scenarios keep podpath's defaults.
//!
//! The signals, from the projects' own manifests: the agents' DaemonSets
//! (`calico-node`, `cilium`, `kube-flannel-ds`, `weave-net`, kind's
//! `kindnet`); kube-proxy's ConfigMap `kube-system/kube-proxy`, whose
//! `config.conf` is a KubeProxyConfiguration (`mode: ""` is iptables on
//! Linux); no kube-proxy with Cilium is its kube-proxy replacement; k3s
//! embeds flannel (VXLAN), kube-proxy (iptables) and kube-router's policy
//! controller in its binary, so they show only on the nodes (`k3s://`
//! providerID, `node.kubernetes.io/instance-type: k3s`).

use std::net::IpAddr;

use ipnet::IpNet;

use crate::diag::{Diagnostic, Origin};
use crate::load::{Manifests, Object};
use crate::settings::{Cni, IngressController, KubeProxyConfig, ProxyMode, CNI_AGENTS};

/// What the dump says of the settings; `None` where it says nothing.
#[derive(Debug, Default)]
pub(crate) struct Detected {
    /// The input is a live cluster's dump.
    pub snapshot: bool,
    pub cni: Option<Cni>,
    /// `spec.encapsulation` in the plugin's words (kindnet's plain routes
    /// are Calico's `None`).
    pub encapsulation: Option<&'static str>,
    pub proxy_mode: Option<ProxyMode>,
    pub ingress_controller: Option<IngressController>,
    /// The controller's Deployment's namespace and name, which its Service
    /// shares.
    pub ingress_service: Option<(String, String)>,
    pub cluster_cidr: Option<IpNet>,
    pub service_cidr: Option<IpNet>,
    /// Notes for what was inferred, warnings for what falls back.
    pub said: Vec<Diagnostic>,
    /// k3s's kube-router enforces NetworkPolicy (with the plugin detected).
    pub kube_router: bool,
    /// What was said of the CNI plugin: moot when one is given.
    pub cni_said: Vec<Diagnostic>,
}

/// The pod networks the plugins and distributions use by default, tried
/// before a range made up from the addresses themselves.
const POD_RANGES: &[&str] = &["10.244.0.0/16", "10.42.0.0/16", "192.168.0.0/16", "10.32.0.0/12", "10.0.0.0/8"];

/// Service ranges by default: kind's /16, k3s's, kubeadm's /12.
const SERVICE_RANGES: &[&str] = &["10.96.0.0/16", "10.43.0.0/16", "10.96.0.0/12", "172.20.0.0/16", "10.100.0.0/16"];

/// Reads `manifests` for what the cluster they were dumped from runs.
pub(crate) fn detect(manifests: &Manifests) -> Detected {
    let mut d = Detected { snapshot: is_snapshot(manifests), ..Detected::default() };
    if !d.snapshot {
        return d;
    }
    let k3s = k3s_node(manifests);
    if let Some(origin) = &k3s {
        d.said.push(Diagnostic::note(origin.clone(), "a k3s cluster (a Node's spec.providerID is k3s://…): flannel (VXLAN), kube-proxy (iptables) and kube-router's NetworkPolicy controller run inside k3s, not as pods"));
    }
    let sets = daemonsets(manifests);
    cni(&sets, k3s.as_ref(), &mut d);
    proxy(manifests, &sets, k3s.is_some(), &mut d);
    ingress(manifests, &mut d);
    ranges(manifests, &mut d);
    d
}

/// A dump has pods the platform runs, running, with their addresses.
fn is_snapshot(manifests: &Manifests) -> bool {
    manifests.objects.iter().any(|o| match &o.object {
        Object::Pod(p) => {
            p.metadata.namespace.as_deref() == Some("kube-system")
                && p.status.as_ref().and_then(|s| s.pod_ip.as_deref()).is_some_and(|ip| !ip.is_empty())
        }
        _ => false,
    })
}

/// The first Node that says it is a k3s node.
fn k3s_node(manifests: &Manifests) -> Option<Origin> {
    manifests.objects.iter().find_map(|o| match &o.object {
        Object::Node(n) => {
            let provider = n.spec.as_ref().and_then(|s| s.provider_id.as_deref()).unwrap_or("");
            let instance = n.metadata.labels.as_ref().and_then(|l| l.get("node.kubernetes.io/instance-type"));
            (provider.starts_with("k3s://") || instance.is_some_and(|t| t == "k3s")).then(|| o.origin.clone())
        }
        _ => None,
    })
}

/// The DaemonSets in the dump, by `(namespace, name)`: their own objects,
/// and those their pods name as owner.
fn daemonsets(manifests: &Manifests) -> Vec<(String, String, Origin)> {
    let mut out: Vec<(String, String, Origin)> = Vec::new();
    for o in &manifests.objects {
        let found = match &o.object {
            Object::DaemonSet(ds) => {
                ds.metadata.name.clone().map(|n| (ds.metadata.namespace.clone().unwrap_or_default(), n))
            }
            Object::Pod(p) => p
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|r| r.kind == "DaemonSet")
                .map(|r| (p.metadata.namespace.clone().unwrap_or_default(), r.name.clone())),
            _ => None,
        };
        if let Some((ns, name)) = found {
            if !out.iter().any(|(n, m, _)| *n == ns && *m == name) {
                out.push((ns, name, o.origin.clone()));
            }
        }
    }
    out
}

fn cni(sets: &[(String, String, Origin)], k3s: Option<&Origin>, d: &mut Detected) {
    let found = sets.iter().find_map(|(ns, name, origin)| {
        CNI_AGENTS
            .iter()
            .find(|a| if a.prefix { name.starts_with(a.name) } else { name == a.name })
            .map(|a| (a, format!("DaemonSet {ns}/{name}"), origin))
    });
    match found {
        Some((agent, object, origin)) => {
            d.cni = Some(agent.cni);
            d.encapsulation = agent.encapsulation;
            match agent.fallback {
                None => d.cni_said.push(Diagnostic::note(
                    origin.clone(),
                    format!("the cluster's CNI plugin is {} ({object}): simulated as cni {}", agent.plugin, agent.cni),
                )),
                Some(closest) => d.cni_said.push(Diagnostic::warning(
                    origin.clone(),
                    format!(
                        "the cluster's CNI plugin is {} ({object}), which podpath does not simulate; it simulates the closest, {closest}",
                        agent.plugin
                    ),
                )),
            }
        }
        None => {
            if let Some(origin) = k3s {
                d.cni = Some(Cni::K3S_EMBEDDED);
                d.kube_router = true;
                d.cni_said.push(Diagnostic::note(
                    origin.clone(),
                    "k3s's embedded flannel (VXLAN) is simulated as cni flannel, with NetworkPolicy enforced by its embedded kube-router controller",
                ));
            }
        }
    }
}

fn proxy(manifests: &Manifests, sets: &[(String, String, Origin)], k3s: bool, d: &mut Detected) {
    let config = manifests.objects.iter().find_map(|o| match &o.object {
        Object::ConfigMap(cm)
            if cm.metadata.namespace.as_deref() == Some("kube-system")
                && cm.metadata.name.as_deref() == Some("kube-proxy") =>
        {
            cm.data.as_ref().and_then(|data| data.get("config.conf")).map(|text| (text.clone(), o.origin.clone()))
        }
        _ => None,
    });
    if let Some((text, origin)) = config {
        // config.conf is a KubeProxyConfiguration: its `mode` line, and
        // its `clusterCIDR`.
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key).map(|v| v.trim().trim_matches('"').trim_matches('\'').to_owned()))
        };
        let mode = field("mode:").unwrap_or_default();
        let parsed = KubeProxyConfig { mode: mode.clone(), ..KubeProxyConfig::default() }.proxy_mode().ok();
        if let Some(m) = parsed {
            d.proxy_mode = Some(m);
            let shown = if mode.is_empty() { "\"\" (iptables on Linux)".to_owned() } else { mode.clone() };
            d.said.push(Diagnostic::note(
                origin.clone(),
                format!("kube-proxy's mode is {shown} (ConfigMap kube-system/kube-proxy, config.conf)"),
            ));
        }
        if let Some(cidr) = field("clusterCIDR:").and_then(|c| c.parse::<IpNet>().ok()) {
            d.cluster_cidr = Some(cidr.trunc());
            d.said.push(Diagnostic::note(
                origin,
                format!(
                    "the pod network is {} (ConfigMap kube-system/kube-proxy, config.conf clusterCIDR)",
                    cidr.trunc()
                ),
            ));
        }
        return;
    }
    let kube_proxy = sets.iter().any(|(ns, name, _)| ns == "kube-system" && name == "kube-proxy");
    let replacement = d.cni.and_then(ProxyMode::replacing_kube_proxy);
    if let Some(mode) = replacement.filter(|_| !kube_proxy && !k3s) {
        d.proxy_mode = Some(mode);
        if let Some(origin) = manifests.objects.first().map(|o| o.origin.clone()) {
            d.said.push(Diagnostic::note(
                origin,
                "no kube-proxy in the dump and Cilium runs: Services are Cilium's kube-proxy replacement (eBPF)",
            ));
        }
    } else if kube_proxy || k3s {
        d.proxy_mode = Some(ProxyMode::default());
    }
}

fn ingress(manifests: &Manifests, d: &mut Detected) {
    let found = manifests.objects.iter().find_map(|o| match &o.object {
        Object::Deployment(dep) => {
            let name = dep.metadata.name.as_deref().unwrap_or("");
            let ns = dep.metadata.namespace.as_deref().unwrap_or("default");
            let which = if name == "ingress-nginx-controller" {
                Some(IngressController::Nginx)
            } else if name == "traefik" {
                Some(IngressController::Traefik)
            } else {
                None
            };
            which.map(|w| (w, (ns.to_owned(), name.to_owned()), o.origin.clone()))
        }
        _ => None,
    });
    match found {
        Some((which, (ns, name), origin)) => {
            let object = format!("Deployment {ns}/{name}");
            d.ingress_controller = Some(which);
            d.ingress_service = Some((ns, name));
            let named = if which == IngressController::Nginx { "ingress-nginx" } else { "Traefik" };
            d.said.push(Diagnostic::note(origin, format!("the ingress controller is {named} ({object})")));
        }
        None => d.ingress_controller = Some(IngressController::None),
    }
}

/// The pod and Service ranges: from the nodes' `spec.podCIDR` (or the pods'
/// addresses) and the Services' cluster IPs, as the smallest default range
/// that holds them all, or one made to hold them.
fn ranges(manifests: &Manifests, d: &mut Detected) {
    let mut pod_nets: Vec<IpNet> = Vec::new();
    let mut pod_ips: Vec<IpAddr> = Vec::new();
    let mut cluster_ips: Vec<(IpAddr, bool)> = Vec::new();
    let mut first = None;
    for o in &manifests.objects {
        match &o.object {
            Object::Node(n) => {
                if let Some(net) =
                    n.spec.as_ref().and_then(|s| s.pod_cidr.as_deref()).and_then(|c| c.parse::<IpNet>().ok())
                {
                    pod_nets.push(net);
                    first.get_or_insert(o.origin.clone());
                }
            }
            Object::Pod(p) if !p.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false) => {
                if let Some(ip) = p.status.as_ref().and_then(|s| s.pod_ip.as_deref()).and_then(|i| i.parse().ok()) {
                    pod_ips.push(ip);
                }
            }
            Object::Service(s) => {
                let api = s.metadata.name.as_deref() == Some("kubernetes")
                    && s.metadata.namespace.as_deref() == Some("default");
                if let Some(ip) = s.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()).and_then(|i| i.parse().ok()) {
                    cluster_ips.push((ip, api));
                }
            }
            _ => {}
        }
    }
    let origin = first.or_else(|| manifests.objects.first().map(|o| o.origin.clone())).unwrap_or_default();
    if d.cluster_cidr.is_none() {
        let mut addrs: Vec<IpAddr> = pod_nets.iter().flat_map(|n| [n.network(), n.broadcast()]).collect();
        let from = if addrs.is_empty() { "the pods' status.podIP" } else { "the nodes' spec.podCIDR" };
        addrs.extend(&pod_ips);
        if let Some(net) = range_for(&addrs, POD_RANGES) {
            d.cluster_cidr = Some(net);
            d.said.push(Diagnostic::note(origin.clone(), format!("the pod network is {net} (from {from})")));
        }
    }
    let ips: Vec<IpAddr> = cluster_ips.iter().map(|(ip, _)| *ip).collect();
    // The API server's own Service takes the range's first address.
    let api = cluster_ips.iter().find(|(_, api)| *api).map(|(ip, _)| *ip);
    let fitting: Vec<&str> = SERVICE_RANGES
        .iter()
        .copied()
        .filter(|r| api.is_none_or(|ip| r.parse::<IpNet>().is_ok_and(|n| crate::system::indexed_ip(n, 1) == ip)))
        .collect();
    if let Some(net) = range_for(&ips, &fitting).or_else(|| range_for(&ips, &[])) {
        d.service_cidr = Some(net);
        let why = match api {
            Some(ip) => format!("Service default/kubernetes is {ip}, its first address"),
            None => "from the Services' cluster IPs".to_owned(),
        };
        d.said.push(Diagnostic::note(origin, format!("the Service range is {net} ({why})")));
    }
}

/// The first of `candidates` that holds every address, or the /16 (or
/// wider) prefix they share.
fn range_for(addrs: &[IpAddr], candidates: &[&str]) -> Option<IpNet> {
    let first = *addrs.first()?;
    for c in candidates {
        let Ok(net) = c.parse::<IpNet>() else { continue };
        if addrs.iter().all(|a| net.contains(a)) {
            return Some(net);
        }
    }
    let mut len = match first {
        IpAddr::V4(_) => 16,
        IpAddr::V6(_) => 64,
    };
    loop {
        let net = IpNet::new(first, len).ok()?.trunc();
        if addrs.iter().all(|a| net.contains(a)) {
            return Some(net);
        }
        len = len.checked_sub(1)?;
    }
}

#[cfg(test)]
mod tests {
    use crate::{simulate, Source};

    /// A kube-system pod that is running with an address (what makes the
    /// input a dump) and a DaemonSet of the given name there.
    fn cluster_with(daemonset: &str) -> crate::Cluster {
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: coredns-a, namespace: kube-system, labels: {{k8s-app: kube-dns}}}}\nspec: {{containers: [{{name: coredns, image: coredns}}]}}\nstatus: {{phase: Running, podIP: 10.244.0.3}}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: {daemonset}, namespace: kube-system}}\nspec:\n  selector: {{matchLabels: {{app: a}}}}\n  template:\n    metadata: {{labels: {{app: a}}}}\n    spec: {{hostNetwork: true, containers: [{{name: a, image: a}}]}}\n"
        );
        simulate(&[Source::new("dump.yaml", text)]).0
    }

    /// Each plugin's agent as its project's manifest names it: calico-node,
    /// cilium (without kube-proxy: its kube-proxy replacement), flannel's
    /// kube-flannel-ds (and the per-architecture kube-flannel-ds-amd64 of
    /// old manifests), weave-net.
    #[test]
    fn the_agent_names_the_plugin() {
        for (ds, cni, mode) in [
            ("calico-node", "calico", "iptables"),
            ("cilium", "cilium", "ebpf"),
            ("kube-flannel-ds-amd64", "flannel", "iptables"),
            ("weave-net", "weave", "iptables"),
            ("kindnet", "kindnet", "iptables"),
        ] {
            let c = cluster_with(ds);
            assert_eq!((c.settings.cni.as_str(), c.settings.proxy_mode.as_str()), (cni, mode), "{ds}");
            assert!(c.settings.snapshot);
        }
    }

    /// Input that is not a dump keeps podpath's defaults.
    #[test]
    fn a_scenario_is_not_a_dump() {
        let text = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: calico-node, namespace: kube-system}\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec: {containers: [{name: a, image: a}]}\n";
        let c = simulate(&[Source::new("s.yaml", text)]).0;
        assert!(!c.settings.snapshot);
        assert_eq!(c.settings.cni.as_str(), "flannel");
    }
}
