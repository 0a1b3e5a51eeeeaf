//! What breaks when a component the platform runs cannot be scheduled: a
//! real cluster says nothing (the pods sit Pending), and a learner sees
//! every lookup time out without knowing why. Each warning names the
//! component, why it is not running, and what fails because of it.

use std::collections::BTreeSet;

use crate::cluster::{Node, Pod, PodPhase};
use crate::diag::{Diagnostic, Origin};
use crate::load::Manifests;
use crate::system::FILE_PREFIX;

/// What a node without the DaemonSet's pod lacks.
fn daemon_role(name: &str) -> &'static str {
    if name == "kube-proxy" {
        "Services (ClusterIPs, NodePorts) do not work from pods on it"
    } else {
        "pods on it get no network"
    }
}

/// Warnings for the platform's pods that are not running: CoreDNS, the
/// ingress controller, and the node agents (the CNI plugin's, kube-proxy)
/// missing from a node.
pub(crate) fn warnings(manifests: &Manifests, pods: &[Pod], nodes: &[Node], diags: &mut Vec<Diagnostic>) {
    let platform = |p: &&Pod| p.origin.file.starts_with(FILE_PREFIX);
    // The nodes given in the input are why the platform cannot place its
    // pods: the warning points at the first of them when there is one.
    let at = |fallback: &Origin| nodes.iter().find_map(|n| n.origin.clone()).unwrap_or_else(|| fallback.clone());
    let why = |p: &Pod| match &p.phase {
        PodPhase::Pending { message, .. } => message.clone(),
        PodPhase::Running | PodPhase::Finished { .. } => String::new(),
    };
    let deployments: [(&str, &str, &str); 3] = [
        ("kube-system", "k8s-app=kube-dns", "CoreDNS cannot run, so every DNS lookup in the cluster times out"),
        ("ingress-nginx", "", "the ingress controller cannot run, so no Ingress is served"),
        ("traefik", "", "the ingress controller cannot run, so no Ingress is served"),
    ];
    for (ns, label, breaks) in deployments {
        let chosen: Vec<&Pod> = pods
            .iter()
            .filter(platform)
            .filter(|p| p.namespace == ns && p.owner.as_ref().is_some_and(|o| o.kind == "ReplicaSet"))
            .filter(|p| label.split_once('=').is_none_or(|(k, v)| p.labels.get(k).map(String::as_str) == Some(v)))
            .collect();
        if let Some(first) = chosen.first().filter(|_| chosen.iter().all(|p| !p.is_running())) {
            diags.push(Diagnostic::warning(
                at(&first.origin),
                format!("{breaks}: pod {}/{} is Pending ({})", first.namespace, first.name, why(first)),
            ));
        }
    }
    // Each platform DaemonSet, and the nodes its pods run on.
    for located in manifests.objects.iter().filter(|o| o.origin.file.starts_with(FILE_PREFIX)) {
        let Some(("DaemonSet", ns, name)) = located.object.identity() else { continue };
        let on: BTreeSet<&str> = pods
            .iter()
            .filter(|p| p.namespace == ns && p.is_running())
            .filter(|p| p.owner.as_ref().is_some_and(|o| o.kind == "DaemonSet" && o.name == name))
            .filter_map(|p| p.node.as_deref())
            .collect();
        for node in nodes.iter().filter(|n| !on.contains(n.name.as_str())) {
            diags.push(Diagnostic::warning(
                node.origin.clone().unwrap_or_else(|| located.origin.clone()),
                format!("node {} runs no pod of DaemonSet {ns}/{name}: {}", node.name, daemon_role(&name)),
            ));
        }
    }
    shared_addresses(pods, diags);
}

/// Two running pods with one address: a pod network never hands it out
/// twice, so a dump that says so was taken while one of them was being
/// replaced. Traffic to it reaches the first; the second is said.
fn shared_addresses(pods: &[Pod], diags: &mut Vec<Diagnostic>) {
    let mut seen: std::collections::BTreeMap<std::net::IpAddr, &Pod> = std::collections::BTreeMap::new();
    for p in pods.iter().filter(|p| p.is_running() && !p.host_network) {
        let Some(ip) = p.ip else { continue };
        match seen.get(&ip) {
            Some(first) => diags.push(Diagnostic::warning(
                p.origin.clone(),
                format!(
                    "pod {}: status.podIP {ip} is also running pod {}'s; a pod network gives an address to one pod at a time, so traffic to {ip} reaches {} only",
                    p.key(),
                    first.key(),
                    first.key()
                ),
            )),
            None => {
                seen.insert(ip, p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{simulate, Source};

    fn warnings(text: &str) -> Vec<String> {
        let (_, diags) = simulate(&[Source::new("nodes.yaml", text)]);
        diags.iter().map(ToString::to_string).collect()
    }

    /// Nodes written by hand, as often in tutorials: without the labels
    /// the kubelet registers (kubernetes.io/os…), which podpath adds as the
    /// kubelet would, CoreDNS and the node agents still run and nothing
    /// is said.
    #[test]
    fn hand_written_nodes_get_the_kubelets_labels() {
        let text = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.11}]}\n";
        let (cluster, diags) = simulate(&[Source::new("nodes.yaml", text)]);
        assert!(diags.is_empty(), "{diags:?}");
        let n1 = cluster.node("n1").unwrap();
        assert_eq!(n1.labels.get("kubernetes.io/os").map(String::as_str), Some("linux"));
        assert!(cluster
            .pods
            .iter()
            .filter(|p| p.labels.get("k8s-app").is_some_and(|v| v == "kube-dns"))
            .all(|p| p.is_running()));
    }

    /// Two running pods claiming one address in a dump: said at the
    /// second; a Completed pod's old address is not a clash.
    #[test]
    fn two_running_pods_with_one_address_are_said() {
        let pod = |name: &str, phase: &str| {
            format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec: {{nodeName: kind-worker, containers: [{{name: c, image: nginx}}]}}\nstatus: {{phase: {phase}, podIP: 10.244.1.7, hostIP: 172.18.0.3}}\n")
        };
        let text = format!("{}{}{}", pod("a", "Running"), pod("b", "Running"), pod("done", "Succeeded"));
        let got = warnings(&text);
        let clash: Vec<&String> = got.iter().filter(|w| w.contains("status.podIP")).collect();
        assert_eq!(clash.len(), 1, "{got:#?}");
        assert!(clash[0].ends_with("warning: pod default/b: status.podIP 10.244.1.7 is also running pod default/a's; a pod network gives an address to one pod at a time, so traffic to 10.244.1.7 reaches default/a only"), "{clash:?}");
    }

    /// A node the platform's DaemonSets do not select (a Windows node:
    /// they select kubernetes.io/os=linux) and nodes CoreDNS does not
    /// tolerate: each said with what breaks.
    #[test]
    fn what_breaks_is_said() {
        let text = "apiVersion: v1\nkind: Node\nmetadata: {name: win, labels: {kubernetes.io/os: windows}}\nspec: {taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.11}]}\n";
        let got = warnings(text);
        assert!(
            got.iter().any(|w| w.starts_with("nodes.yaml:1:1: warning: CoreDNS cannot run, so every DNS lookup in the cluster times out: pod kube-system/coredns-")
                && w.contains("untolerated taint {dedicated: gpu}")),
            "{got:#?}"
        );
        assert!(got.contains(&"nodes.yaml:1:1: warning: node win runs no pod of DaemonSet kube-system/kube-proxy: Services (ClusterIPs, NodePorts) do not work from pods on it".to_owned()), "{got:#?}");
        assert!(
            got.iter()
                .any(|w| w.contains("node win runs no pod of DaemonSet") && w.ends_with("pods on it get no network")),
            "{got:#?}"
        );
    }
}
