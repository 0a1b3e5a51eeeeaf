//! `kubectl describe` as kubectl's describers print it (`describe.go`):
//! `Key:\tvalue` lines aligned by a tab writer with padding 2, nested
//! blocks indented by two spaces a level, `<none>` for what is empty.
//! podpath has no clock, so creation times are left out and ages show as
//! `<unknown>`, as in `kubectl get`.

use k8s_openapi::api::networking::v1 as networking;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::cluster::{ClusterIp, Ingress, NetworkPolicy, Node, Pod, PodPhase, Service, ServiceType};
use crate::Cluster;

/// Aligns `\t`-separated cells as Go's text/tabwriter does with padding 2:
/// a column is as wide as its widest cell in a run of consecutive lines
/// that all have a cell there; a line's last cell is not aligned.
pub fn tabwrite(text: &str) -> String {
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<Vec<usize>> = lines.iter().map(|l| vec![0; l.len().saturating_sub(1)]).collect();
    fn block(lines: &[Vec<&str>], widths: &mut [Vec<usize>], col: usize, from: usize, to: usize) {
        let mut i = from;
        while i < to {
            if lines[i].len() > col + 1 {
                let start = i;
                let mut w = 0;
                while i < to && lines[i].len() > col + 1 {
                    w = w.max(lines[i][col].chars().count() + 2);
                    i += 1;
                }
                for row in widths.iter_mut().take(i).skip(start) {
                    row[col] = w;
                }
                block(lines, widths, col + 1, start, i);
            } else {
                i += 1;
            }
        }
    }
    block(&lines, &mut widths, 0, 0, lines.len());
    let mut out = String::new();
    for (i, cells) in lines.iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if c + 1 < cells.len() {
                out.push_str(&" ".repeat(widths[i][c] - cell.chars().count()));
            }
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
    out
}

/// `Title:\tk=v` then `\tk=v` per further label; `<none>` when empty.
pub(super) fn labels(title: &str, map: &std::collections::BTreeMap<String, String>, indent: &str) -> String {
    if map.is_empty() {
        return format!("{indent}{title}:\t<none>\n");
    }
    let mut out = String::new();
    for (i, (k, v)) in map.iter().enumerate() {
        if i == 0 {
            out.push_str(&format!("{indent}{title}:\t{k}={v}\n"));
        } else {
            out.push_str(&format!("{indent}\t{k}={v}\n"));
        }
    }
    out
}

fn none(s: String) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s
    }
}

/// metav1.FormatLabelSelector: matchLabels as `k=v`, expressions as
/// `k in (a,b)`, `k notin (a)`, `k`, `!k`; `<none>` when empty.
fn format_selector(sel: &LabelSelector) -> String {
    let mut parts: Vec<String> = sel.match_labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    for e in sel.match_expressions.iter().flatten() {
        let vals = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({vals})", e.key),
            "NotIn" => format!("{} notin ({vals})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            op => format!("{} {op} ({vals})", e.key),
        });
    }
    none(parts.join(","))
}

pub(super) fn pod(cluster: &Cluster, p: &Pod) -> String {
    let mut w = String::new();
    w.push_str(&format!("Name:\t{}\nNamespace:\t{}\nPriority:\t0\n", p.name, p.namespace));
    let sa = p.spec.service_account_name.clone().unwrap_or_else(|| "default".into());
    w.push_str(&format!("Service Account:\t{sa}\n"));
    let node = match &p.node {
        Some(n) => {
            let ip = cluster.node(n).and_then(|n| n.internal_ip).map(|ip| ip.to_string()).unwrap_or_default();
            format!("{n}/{ip}")
        }
        None => "<none>".into(),
    };
    w.push_str(&format!("Node:\t{node}\n"));
    w.push_str(&labels("Labels", &p.labels, ""));
    w.push_str("Annotations:\t<none>\n");
    let (status, running) = match &p.phase {
        PodPhase::Running if p.terminating => ("Terminating".to_owned(), true),
        PodPhase::Running => ("Running".to_owned(), true),
        PodPhase::Pending { .. } => ("Pending".to_owned(), false),
        PodPhase::Finished { succeeded, .. } => ((if *succeeded { "Succeeded" } else { "Failed" }).to_owned(), false),
    };
    w.push_str(&format!("Status:\t{status}\n"));
    match p.shown_ip() {
        Some(ip) => w.push_str(&format!("IP:\t{ip}\nIPs:\n  IP:\t{ip}\n")),
        None => w.push_str("IP:\t\nIPs:\t<none>\n"),
    }
    if let Some(o) = &p.owner {
        w.push_str(&format!("Controlled By:\t{}/{}\n", o.kind, o.name));
    }
    w.push_str("Containers:\n");
    for c in &p.spec.containers {
        w.push_str(&container(p, c, running));
    }
    w.push_str("Conditions:\n  Type\tStatus\n");
    let scheduled = p.node.is_some();
    let ready = if running && p.ready { "True" } else { "False" };
    let started = if running { "True" } else { "False" };
    for (t, s) in [
        ("PodReadyToStartContainers", started),
        ("Initialized", if scheduled { "True" } else { "False" }),
        ("Ready", ready),
        ("ContainersReady", ready),
        ("PodScheduled", if scheduled { "True" } else { "False" }),
    ] {
        if !scheduled && t != "PodScheduled" {
            continue;
        }
        w.push_str(&format!("  {t}\t{s} \n"));
    }
    w.push_str("QoS Class:\tBestEffort\n");
    let selectors: String =
        p.spec.node_selector.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    w.push_str(&format!("Node-Selectors:\t{}\n", none(selectors)));
    w.push_str("Tolerations:\tnode.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n\tnode.kubernetes.io/unreachable:NoExecute op=Exists for 300s\n");
    match &p.phase {
        PodPhase::Pending { message, .. } if !scheduled => {
            w.push_str("Events:\n  Type\tReason\tAge\tFrom\tMessage\n  ----\t------\t----\t----\t-------\n");
            w.push_str(&format!("  Warning\tFailedScheduling\t<unknown>\tdefault-scheduler\t{message}\n"));
        }
        _ => w.push_str("Events:\t<none>\n"),
    }
    tabwrite(&w)
}

/// One container of `kubectl describe pod`: image, ports, state, ready,
/// readiness probe.
fn container(p: &Pod, c: &k8s_openapi::api::core::v1::Container, running: bool) -> String {
    let mut w = String::new();
    w.push_str(&format!("  {}:\n", c.name));
    w.push_str(&format!("    Image:\t{}\n", c.image.clone().unwrap_or_default()));
    let ports: Vec<String> = c
        .ports
        .iter()
        .flatten()
        .map(|port| format!("{}/{}", port.container_port, port.protocol.clone().unwrap_or_else(|| "TCP".into())))
        .collect();
    match ports.len() {
        0 => w.push_str("    Port:\t<none>\n    Host Port:\t<none>\n"),
        1 => w.push_str(&format!(
            "    Port:\t{}\n    Host Port:\t0/{}\n",
            ports[0],
            ports[0].split('/').nth(1).unwrap_or("TCP")
        )),
        _ => w.push_str(&format!(
            "    Ports:\t{}\n    Host Ports:\t{}\n",
            ports.join(", "),
            ports.iter().map(|p| format!("0/{}", p.split('/').nth(1).unwrap_or("TCP"))).collect::<Vec<_>>().join(", ")
        )),
    }
    // An unscheduled pod's containers have no status yet.
    if running {
        w.push_str("    State:\tRunning\n");
    } else if p.node.is_some() {
        w.push_str("    State:\tWaiting\n      Reason:\tContainerCreating\n");
    }
    w.push_str(&format!("    Ready:\t{}\n    Restart Count:\t0\n", if running && p.ready { "True" } else { "False" }));
    if let Some(probe) = &c.readiness_probe {
        let how = if let Some(h) = &probe.http_get {
            format!("http-get http://:{}{}", int_or_string(&h.port), h.path.clone().unwrap_or_default())
        } else if let Some(t) = &probe.tcp_socket {
            format!("tcp-socket :{}", int_or_string(&t.port))
        } else {
            "exec".to_owned()
        };
        w.push_str(&format!(
            "    Readiness:\t{how} delay={}s timeout={}s period={}s #success={} #failure={}\n",
            probe.initial_delay_seconds.unwrap_or(0),
            probe.timeout_seconds.unwrap_or(1),
            probe.period_seconds.unwrap_or(10),
            probe.success_threshold.unwrap_or(1),
            probe.failure_threshold.unwrap_or(3)
        ));
    }
    w.push_str("    Environment:\t<none>\n    Mounts:\t<none>\n");
    w
}

fn int_or_string(v: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString) -> String {
    match v {
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
    }
}

/// A Service port's ready endpoints as `IP:PORT`, comma-separated.
fn port_endpoints(cluster: &Cluster, s: &Service, port_name: &str) -> String {
    let mut out = Vec::new();
    for es in cluster.slices_of(s) {
        for p in es.ports.iter().filter(|p| p.name == port_name) {
            for e in es.endpoints.iter().filter(|e| e.is_ready()) {
                for a in &e.addresses {
                    out.push(match p.port {
                        Some(n) => format!("{a}:{n}"),
                        None => a.to_string(),
                    });
                }
            }
        }
    }
    out.join(",")
}

pub(super) fn service(cluster: &Cluster, s: &Service) -> String {
    let mut w = format!("Name:\t{}\nNamespace:\t{}\n", s.name, s.namespace);
    w.push_str(&labels("Labels", &s.labels, ""));
    w.push_str("Annotations:\t<none>\n");
    let sel: String = s.selector.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    w.push_str(&format!("Selector:\t{}\n", none(sel)));
    w.push_str(&format!("Type:\t{}\n", s.type_.as_str()));
    if s.type_ == ServiceType::ExternalName {
        w.push_str(&format!("External Name:\t{}\n", s.external_name.clone().unwrap_or_default()));
    } else {
        let family = match &s.cluster_ip {
            ClusterIp::Ip(ip) if ip.is_ipv6() => "IPv6",
            _ => "IPv4",
        };
        w.push_str(&format!("IP Family Policy:\tSingleStack\nIP Families:\t{family}\n"));
        let ip = match &s.cluster_ip {
            ClusterIp::Ip(ip) => ip.to_string(),
            ClusterIp::Headless => "None".into(),
            ClusterIp::Unset => String::new(),
        };
        w.push_str(&format!("IP:\t{ip}\nIPs:\t{ip}\n"));
    }
    if !s.external_ips.is_empty() {
        let ips: Vec<String> = s.external_ips.iter().map(ToString::to_string).collect();
        w.push_str(&format!("External IPs:\t{}\n", ips.join(",")));
    }
    if !s.load_balancer_ips.is_empty() {
        let ips: Vec<String> = s.load_balancer_ips.iter().map(|ip| format!("{ip} (VIP)")).collect();
        w.push_str(&format!("LoadBalancer Ingress:\t{}\n", ips.join(", ")));
    }
    for p in &s.ports {
        let name = if p.name.is_empty() { "<unset>".to_owned() } else { p.name.clone() };
        w.push_str(&format!("Port:\t{name}\t{}/{}\n", p.port, p.protocol));
        w.push_str(&format!("TargetPort:\t{}/{}\n", p.target_port, p.protocol));
        if let Some(np) = p.node_port {
            w.push_str(&format!("NodePort:\t{name}\t{np}/{}\n", p.protocol));
        }
        if s.selector.is_some() || cluster.slices_of(s).next().is_some() {
            w.push_str(&format!("Endpoints:\t{}\n", port_endpoints(cluster, s, &p.name)));
        }
    }
    let affinity = if s.session_affinity.is_some() { "ClientIP" } else { "None" };
    w.push_str(&format!("Session Affinity:\t{affinity}\n"));
    if matches!(s.type_, ServiceType::NodePort | ServiceType::LoadBalancer) {
        w.push_str(&format!("External Traffic Policy:\t{}\n", traffic(&s.external_traffic_policy)));
    }
    if s.type_ != ServiceType::ExternalName {
        w.push_str(&format!("Internal Traffic Policy:\t{}\n", traffic(&s.internal_traffic_policy)));
    }
    if let Some(hc) = s.health_check_node_port {
        w.push_str(&format!("HealthCheck NodePort:\t{hc}\n"));
    }
    w.push_str("Events:\t<none>\n");
    tabwrite(&w)
}

fn traffic(t: &crate::cluster::TrafficPolicy) -> &'static str {
    match t {
        crate::cluster::TrafficPolicy::Local => "Local",
        _ => "Cluster",
    }
}

pub(super) fn endpoints(cluster: &Cluster, s: &Service) -> String {
    let mut w = format!("Name:\t{}\nNamespace:\t{}\n", s.name, s.namespace);
    w.push_str(&labels("Labels", &s.labels, ""));
    w.push_str("Annotations:\t<none>\nSubsets:\n");
    let (mut ready, mut not_ready) = (Vec::new(), Vec::new());
    let mut ports = Vec::new();
    for es in cluster.slices_of(s) {
        for e in &es.endpoints {
            let list = if e.is_ready() { &mut ready } else { &mut not_ready };
            list.extend(e.addresses.iter().map(ToString::to_string));
        }
        for p in &es.ports {
            let row = (p.name.clone(), p.port, p.protocol.to_string());
            if !ports.contains(&row) {
                ports.push(row);
            }
        }
    }
    w.push_str(&format!(
        "  Addresses:\t{}\n  NotReadyAddresses:\t{}\n",
        none(ready.join(",")),
        none(not_ready.join(","))
    ));
    w.push_str("  Ports:\n    Name\tPort\tProtocol\n    ----\t----\t--------\n");
    for (name, port, proto) in ports {
        let name = if name.is_empty() { "<unset>".into() } else { name };
        w.push_str(&format!("    {name}\t{}\t{proto}\n", port.map_or("<unset>".into(), |p| p.to_string())));
    }
    w.push_str("\nEvents:\t<none>\n");
    tabwrite(&w)
}

pub(super) fn network_policy(cluster: &Cluster, np: &NetworkPolicy) -> String {
    let mut w = format!("Name:\t{}\nNamespace:\t{}\n", np.name, np.namespace);
    w.push_str("Labels:\t<none>\nAnnotations:\t<none>\n");
    let spec = &np.spec;
    let mut body = String::from("Spec:\n");
    if spec.pod_selector.as_ref().is_none_or(|s| {
        s.match_labels.iter().flatten().next().is_none() && s.match_expressions.iter().flatten().next().is_none()
    }) {
        body.push_str("  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)\n");
    } else {
        body.push_str(&format!(
            "  PodSelector:     {}\n",
            format_selector(spec.pod_selector.as_ref().expect("checked"))
        ));
    }
    let types = &np.policy_types;
    if types.iter().any(|t| t == "Ingress") {
        body.push_str("  Allowing ingress traffic:\n");
        rules(
            &mut body,
            spec.ingress.iter().flatten().map(|r| (r.ports.as_deref(), r.from.as_deref())),
            "ingress",
            "From",
            "source",
        );
    } else {
        body.push_str("  Not affecting ingress traffic\n");
    }
    if types.iter().any(|t| t == "Egress") {
        body.push_str("  Allowing egress traffic:\n");
        rules(
            &mut body,
            spec.egress.iter().flatten().map(|r| (r.ports.as_deref(), r.to.as_deref())),
            "egress",
            "To",
            "destination",
        );
    } else {
        body.push_str("  Not affecting egress traffic\n");
    }
    body.push_str(&format!("  Policy Types: {}\n", types.join(", ")));
    // What the spec means in this cluster.
    let selected: Vec<String> =
        cluster.pods_sorted().into_iter().filter(|p| np.selects(p)).map(|p| p.name.clone()).collect();
    let mut explain = String::from("\npodpath: ");
    if selected.is_empty() {
        explain.push_str(&format!("selects no pod in {} now; it isolates nothing\n", np.namespace));
    } else {
        explain.push_str(&format!("selects {} pod(s) in {}: {}\n", selected.len(), np.namespace, selected.join(", ")));
        for (dir, rules, on) in
            [("ingress", &np.ingress, np.isolates_ingress()), ("egress", &np.egress, np.isolates_egress())]
        {
            if !on {
                continue;
            }
            if rules.is_empty() {
                explain.push_str(&format!(
                    "podpath: their {dir} is denied: the policy has no {dir} rule (unless another policy allows it)\n"
                ));
            } else {
                explain.push_str(&format!("podpath: their {dir} is isolated: only what the {} rule(s) above allow gets through, from this or another policy\n", rules.len()));
            }
        }
    }
    if !crate::policy::Enforcement::of_settings(&cluster.settings).enforced {
        explain.push_str(&format!(
            "podpath: {} does not enforce NetworkPolicy: this policy has no effect in this cluster\n",
            cluster.settings.cni
        ));
    }
    tabwrite(&w) + &body + "Events:  <none>\n" + &explain
}

/// The rules of one direction, as `printNetworkPolicySpecIngressFrom` and
/// `…EgressTo` print them.
fn rules<'a>(
    out: &mut String,
    rules: impl Iterator<Item = (Option<&'a [networking::NetworkPolicyPort]>, Option<&'a [networking::NetworkPolicyPeer]>)>,
    direction: &str,
    word: &str,
    end: &str,
) {
    let rules: Vec<_> = rules.collect();
    let indent = "    ";
    if rules.is_empty() {
        out.push_str(&format!("{indent}<none> (Selected pods are isolated for {direction} connectivity)\n"));
        return;
    }
    for (i, (ports, peers)) in rules.iter().enumerate() {
        match ports.filter(|p| !p.is_empty()) {
            None => out.push_str(&format!("{indent}To Port: <any> (traffic allowed to all ports)\n")),
            Some(ports) => {
                for p in ports {
                    let port = p.port.as_ref().map_or("<nil>".into(), int_or_string);
                    let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
                    match p.end_port {
                        Some(end) => out.push_str(&format!("{indent}To Port: {port}-{end}/{proto}\n")),
                        None => out.push_str(&format!("{indent}To Port: {port}/{proto}\n")),
                    }
                }
            }
        }
        match peers.filter(|p| !p.is_empty()) {
            None => out.push_str(&format!("{indent}{word}: <any> (traffic not restricted by {end})\n")),
            Some(peers) => {
                for peer in peers {
                    out.push_str(&format!("{indent}{word}:\n"));
                    let l1 = format!("  {indent}");
                    match (&peer.pod_selector, &peer.namespace_selector, &peer.ip_block) {
                        (Some(p), Some(n), _) => {
                            out.push_str(&format!("{l1}NamespaceSelector: {}\n", format_selector(n)));
                            out.push_str(&format!("{l1}PodSelector: {}\n", format_selector(p)));
                        }
                        (Some(p), None, _) => out.push_str(&format!("{l1}PodSelector: {}\n", format_selector(p))),
                        (None, Some(n), _) => out.push_str(&format!("{l1}NamespaceSelector: {}\n", format_selector(n))),
                        (None, None, Some(b)) => {
                            out.push_str(&format!("{l1}IPBlock:\n"));
                            out.push_str(&format!("    {indent}CIDR: {}\n", b.cidr));
                            out.push_str(&format!(
                                "    {indent}Except: {}\n",
                                b.except.clone().unwrap_or_default().join(", ")
                            ));
                        }
                        (None, None, None) => {}
                    }
                }
            }
        }
        if i + 1 != rules.len() {
            out.push_str(&format!("{indent}----------\n"));
        }
    }
}

pub(super) fn ingress(cluster: &Cluster, ing: &Ingress) -> String {
    let mut w = format!("Name:\t{}\n", ing.name);
    w.push_str("Labels:\t<none>\n");
    w.push_str(&format!("Namespace:\t{}\n", ing.namespace));
    let address: Vec<String> = ing.address.iter().map(ToString::to_string).collect();
    w.push_str(&format!("Address:\t{}\n", address.join(",")));
    w.push_str(&format!("Ingress Class:\t{}\n", ing.class.clone().unwrap_or_else(|| "<none>".into())));
    let backend = |b: &networking::IngressBackend| -> String {
        let Some(svc) = &b.service else { return "<resource>".into() };
        let port = svc
            .port
            .as_ref()
            .map_or(String::new(), |p| p.number.map(|n| n.to_string()).or_else(|| p.name.clone()).unwrap_or_default());
        let eps = cluster
            .service(&ing.namespace, &svc.name)
            .map(|s| {
                let names: Vec<String> =
                    s.ports.iter().map(|p| port_endpoints(cluster, s, &p.name)).filter(|e| !e.is_empty()).collect();
                if names.is_empty() {
                    "<none>".to_owned()
                } else {
                    names.join(",")
                }
            })
            .unwrap_or_else(|| format!("<error: services \"{}\" not found>", svc.name));
        format!("{}:{port} ({eps})", svc.name)
    };
    let default = ing.spec.default_backend.as_ref().map_or("<default>".to_owned(), backend);
    w.push_str(&format!("Default backend:\t{default}\n"));
    let mut tls = String::new();
    for t in ing.spec.tls.iter().flatten() {
        let hosts = t.hosts.clone().unwrap_or_default().join(",");
        tls.push_str(&format!(
            "  {} terminates {hosts}\n",
            t.secret_name.clone().unwrap_or_else(|| "SNI routes".into())
        ));
    }
    if !tls.is_empty() {
        w.push_str("TLS:\n");
        w.push_str(&tls);
    }
    w.push_str("Rules:\n  Host\tPath\tBackends\n  ----\t----\t--------\n");
    for r in ing.spec.rules.iter().flatten() {
        w.push_str(&format!("  {}\t\t\n", r.host.clone().unwrap_or_else(|| "*".into())));
        for p in r.http.iter().flat_map(|h| &h.paths) {
            w.push_str(&format!("  \t{}\t{}\n", p.path.clone().unwrap_or_default(), backend(&p.backend)));
        }
    }
    let ann: std::collections::BTreeMap<String, String> = ing.annotations.clone();
    w.push_str(&labels("Annotations", &ann, ""));
    w.push_str("Events:\t<none>\n");
    tabwrite(&w)
}

pub(super) fn node(cluster: &Cluster, n: &Node) -> String {
    let mut w = format!("Name:\t{}\nRoles:\t{}\n", n.name, n.roles());
    w.push_str(&labels("Labels", &n.labels, ""));
    w.push_str("Annotations:\t<none>\n");
    let taints: Vec<String> = n
        .taints
        .iter()
        .map(|t| {
            let effect = format!("{:?}", t.effect);
            if t.value.is_empty() {
                format!("{}:{effect}", t.key)
            } else {
                format!("{}={}:{effect}", t.key, t.value)
            }
        })
        .collect();
    match taints.split_first() {
        None => w.push_str("Taints:\t<none>\n"),
        Some((first, rest)) => {
            w.push_str(&format!("Taints:\t{first}\n"));
            for t in rest {
                w.push_str(&format!("\t{t}\n"));
            }
        }
    }
    w.push_str(&format!("Unschedulable:\t{}\n", n.unschedulable));
    w.push_str("Addresses:\n");
    if let Some(ip) = n.internal_ip {
        w.push_str(&format!("  InternalIP:\t{ip}\n"));
    }
    if let Some(ip) = n.external_ip {
        w.push_str(&format!("  ExternalIP:\t{ip}\n"));
    }
    w.push_str(&format!("  Hostname:\t{}\n", n.name));
    if let Some(c) = n.pod_cidr {
        w.push_str(&format!("PodCIDR:\t{c}\nPodCIDRs:\t{c}\n"));
    }
    let pods: Vec<&Pod> = cluster.pods_sorted().into_iter().filter(|p| p.node.as_deref() == Some(&n.name)).collect();
    w.push_str(&format!("Non-terminated Pods:\t({} in total)\n", pods.len()));
    w.push_str("  Namespace\tName\tAge\n  ---------\t----\t---\n");
    for p in pods {
        w.push_str(&format!("  {}\t{}\t<unknown>\n", p.namespace, p.name));
    }
    w.push_str("Events:\t<none>\n");
    tabwrite(&w)
}

#[cfg(test)]
mod tests {
    use super::tabwrite;

    #[test]
    fn columns_align_per_run_of_lines() {
        // As kubectl describe pod shows it: the IPs block breaks the run,
        // so "Controlled By:" aligns on its own.
        let text = "Name:\tweb\nService Account:\tdefault\nIPs:\n  IP:\t10.0.0.1\nControlled By:\tReplicaSet/web\n";
        assert_eq!(
            tabwrite(text),
            "Name:             web\nService Account:  default\nIPs:\n  IP:           10.0.0.1\nControlled By:  ReplicaSet/web\n"
        );
    }
}
