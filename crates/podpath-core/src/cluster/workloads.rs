//! Workload controllers: Deployments, ReplicaSets, StatefulSets and
//! DaemonSets expanded into the pods their controllers would create, named
//! the way those controllers name them.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::{ident, Node, Owner, MAX_PODS};
use crate::diag::{Diagnostic, Origin};
use crate::labels::{Labels, Selector, NODE_NAME_FIELD};
use crate::load::{Manifests, Object};
use crate::names::{pod_template_hash, Rng};

/// A pod as a controller (or the user) creates it, before scheduling.
#[derive(Clone, Debug)]
pub(super) struct Draft {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub owner: Option<Owner>,
    pub spec: std::sync::Arc<core::PodSpec>,
    pub origin: Origin,
    /// Readiness as the scenario sets it (see [`READY_ANNOTATION`]).
    pub ready: bool,
    pub terminating: bool,
    /// Created while only the control plane had joined (see [`BOOTSTRAP_ANNOTATION`]).
    pub bootstrap: bool,
    /// The address a pod dumped from a live cluster already has
    /// (`status.podIP`): it keeps it.
    pub given_ip: Option<std::net::IpAddr>,
    /// A dumped pod whose containers have ended (`status.phase` Succeeded
    /// or Failed): whether it succeeded, and kubectl's STATUS for it.
    pub finished: Option<(bool, String)>,
}

/// On a workload: its pods were scheduled while the control plane was the
/// only node, as kubeadm's add-ons (CoreDNS) are during `kubeadm init`.
pub const BOOTSTRAP_ANNOTATION: &str = "podpath.dev/bootstrap";

/// Scenarios mark a pod (or a workload's pod template) not ready with this
/// annotation set to `"false"`; a Pod copied from a real cluster can say so
/// with its `Ready` condition instead.
pub const READY_ANNOTATION: &str = "podpath.dev/ready";

/// Marks a pod as terminating (being deleted), like a `deletionTimestamp`.
pub const TERMINATING_ANNOTATION: &str = "podpath.dev/terminating";

/// `(ready, terminating)` from annotations, the Ready condition and the
/// deletion timestamp.
fn readiness(
    meta: Option<&ObjectMeta>,
    spec: Option<&core::PodSpec>,
    status: Option<&core::PodStatus>,
) -> (bool, bool) {
    let ann = meta.and_then(|m| m.annotations.as_ref());
    let get = |k: &str| ann.and_then(|a| a.get(k)).map(String::as_str);
    let condition_false = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "False"));
    let ready = get(READY_ANNOTATION) != Some("false") && !condition_false;
    // Readiness gates: each named condition must be True in the status.
    let gates_open = spec.is_none_or(|spec| {
        spec.readiness_gates.iter().flatten().all(|g| {
            status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == g.condition_type && c.status == "True"))
        })
    });
    let ready = ready && gates_open;
    let terminating =
        get(TERMINATING_ANNOTATION) == Some("true") || meta.is_some_and(|m| m.deletion_timestamp.is_some());
    (ready, terminating)
}

/// Every pod the input asks for, in creation order.
pub(super) fn expand(manifests: &Manifests, nodes: &[Node], diags: &mut Vec<Diagnostic>) -> Vec<Draft> {
    let mut c = Controllers {
        manifests,
        nodes,
        bare: bare_pods(manifests),
        out: Pods { drafts: Vec::new(), names: BTreeSet::new(), bootstrap: false },
    };
    for located in &manifests.objects {
        let origin = &located.origin;
        c.out.bootstrap = match &located.object {
            Object::Deployment(d) => {
                d.metadata.annotations.as_ref().and_then(|a| a.get(BOOTSTRAP_ANNOTATION)).is_some_and(|v| v == "true")
            }
            _ => false,
        };
        match &located.object {
            Object::Pod(p) => bare_pod(p, origin, &mut c.out, diags),
            Object::Deployment(d) => c.deployment(d, origin, diags),
            Object::ReplicaSet(r) => c.replica_set(r, origin, diags),
            Object::StatefulSet(s) => c.stateful_set(s, origin, diags),
            Object::DaemonSet(d) => c.daemon_set(d, origin, diags),
            Object::Job(j) => c.job(j, origin, diags),
            _ => {}
        }
    }
    c.out.drafts
}

/// A pod of the input, as the controllers see it when they adopt it.
struct Bare<'m> {
    namespace: &'m str,
    labels: Labels,
    node: Option<&'m str>,
    /// Whether its containers have ended, and whether they succeeded.
    finished: Option<bool>,
}

/// The bare pods of the input: their namespace, labels, node and phase.
fn bare_pods(manifests: &Manifests) -> Vec<Bare<'_>> {
    manifests
        .objects
        .iter()
        .filter_map(|l| match &l.object {
            Object::Pod(p) => Some(Bare {
                namespace: p.metadata.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default"),
                labels: p.metadata.labels.clone().unwrap_or_default(),
                node: p.spec.as_ref().and_then(|s| s.node_name.as_deref()),
                finished: p.status.as_ref().and_then(finished).map(|(ok, _)| ok),
            }),
            _ => None,
        })
        .collect()
}

/// The workload controllers, creating pods into `out`.
struct Controllers<'m> {
    manifests: &'m Manifests,
    nodes: &'m [Node],
    /// Pods written out by `kubectl get -o yaml` next to their workloads
    /// are adopted, as controllers adopt matching pods: only the missing
    /// replicas are created.
    bare: Vec<Bare<'m>>,
    out: Pods,
}

impl<'m> Controllers<'m> {
    /// The nodes of the bare pods a selector adopts in a namespace, the
    /// active ones only: controllers do not count a pod whose containers
    /// have ended (`controller.FilterActivePods`), such as an evicted one.
    fn existing(&self, ns: &str, selector: &LabelSelector) -> Vec<Option<&'m str>> {
        let Ok(sel) = Selector::from_label_selector(selector) else { return Vec::new() };
        if sel.is_empty() {
            return Vec::new();
        }
        self.bare
            .iter()
            .filter(|b| b.namespace == ns && b.finished.is_none() && sel.matches(&b.labels))
            .map(|b| b.node)
            .collect()
    }

    /// The Deployment controller names its ReplicaSet after the template's
    /// hash and adds that hash as a label to every pod.
    fn deployment(&mut self, d: &apps::Deployment, origin: &Origin, diags: &mut Vec<Diagnostic>) {
        let spec = &d.spec;
        let Some((ns, name)) = ident(&d.metadata, "Deployment", origin, diags) else { return };
        let Some(template) = checked_template(&spec.selector, &spec.template, origin, diags) else { return };
        let hash = pod_template_hash(&serde_json::to_vec(&spec.template).unwrap_or_default());
        let rs = format!("{name}-{hash}");
        let mut labels = template.labels;
        labels.insert("pod-template-hash".into(), hash);
        let replicas = replicas(spec.replicas, origin, &self.out, diags)
            .saturating_sub(self.existing(&ns, &spec.selector).len() as u32);
        let owner = Owner { kind: "ReplicaSet".into(), name: rs.clone() };
        self.out.random_named(&ns, &rs, replicas, &labels, &template.spec, &owner, origin, template.readiness);
    }

    fn replica_set(&mut self, r: &apps::ReplicaSet, origin: &Origin, diags: &mut Vec<Diagnostic>) {
        let spec = &r.spec;
        let Some((ns, name)) = ident(&r.metadata, "ReplicaSet", origin, diags) else { return };
        let Some(template) = spec.template.as_ref().and_then(|t| checked_template(&spec.selector, t, origin, diags))
        else {
            return;
        };
        let replicas = replicas(spec.replicas, origin, &self.out, diags)
            .saturating_sub(self.existing(&ns, &spec.selector).len() as u32);
        let owner = Owner { kind: "ReplicaSet".into(), name: name.clone() };
        let (labels, readiness) = (&template.labels, template.readiness);
        self.out.random_named(&ns, &name, replicas, labels, &template.spec, &owner, origin, readiness);
    }

    /// Ordinal names, and the hostname/subdomain pair that gives each pod
    /// its stable DNS name under the governing Service.
    fn stateful_set(&mut self, s: &apps::StatefulSet, origin: &Origin, diags: &mut Vec<Diagnostic>) {
        let spec = &s.spec;
        let Some((ns, name)) = ident(&s.metadata, "StatefulSet", origin, diags) else { return };
        let Some(template) = checked_template(&spec.selector, &spec.template, origin, diags) else { return };
        let replicas = replicas(spec.replicas, origin, &self.out, diags);
        let revision = format!("{name}-{}", pod_template_hash(&serde_json::to_vec(&spec.template).unwrap_or_default()));
        for i in 0..replicas {
            let pod_name = format!("{name}-{i}");
            if self.out.names.contains(&(ns.clone(), pod_name.clone())) || bare_named(self.manifests, &ns, &pod_name) {
                continue;
            }
            let mut labels = template.labels.clone();
            labels.insert("apps.kubernetes.io/pod-index".into(), i.to_string());
            labels.insert("controller-revision-hash".into(), revision.clone());
            labels.insert("statefulset.kubernetes.io/pod-name".into(), pod_name.clone());
            let mut pod_spec = template.spec.clone();
            pod_spec.hostname = Some(pod_name.clone());
            if !spec.service_name.as_deref().unwrap_or("").is_empty() {
                pod_spec.subdomain = spec.service_name.clone();
            }
            let owner = Owner { kind: "StatefulSet".into(), name: name.clone() };
            self.out.push(
                &ns,
                pod_name,
                labels,
                std::sync::Arc::new(pod_spec),
                Some(owner),
                origin,
                template.readiness,
            );
        }
    }

    /// The DaemonSet controller pins each pod to its node with a
    /// matchFields node affinity term, then lets the scheduler bind it; it
    /// also adds tolerations for the node conditions a daemon must survive.
    fn daemon_set(&mut self, d: &apps::DaemonSet, origin: &Origin, diags: &mut Vec<Diagnostic>) {
        let spec = &d.spec;
        let Some((ns, name)) = ident(&d.metadata, "DaemonSet", origin, diags) else { return };
        let Some(template) = checked_template(&spec.selector, &spec.template, origin, diags) else { return };
        let adopted = self.existing(&ns, &spec.selector);
        for node in self.nodes.iter().filter(|n| daemon_wants(&template.spec, n)) {
            if adopted.contains(&Some(node.name.as_str())) {
                continue;
            }
            let mut pod_spec = template.spec.clone();
            pin_to_node(&mut pod_spec, &node.name);
            add_daemon_tolerations(&mut pod_spec);
            let owner = Owner { kind: "DaemonSet".into(), name: name.clone() };
            let labels = template.labels.clone();
            self.out.random_named(&ns, &name, 1, &labels, &pod_spec, &owner, origin, template.readiness);
        }
    }

    /// The Job controller generates its own selector (a uid label), so the
    /// template need not match one; it runs `parallelism` pods at once,
    /// never more than the completions left.
    fn job(&mut self, j: &batch::Job, origin: &Origin, diags: &mut Vec<Diagnostic>) {
        let Some(spec) = &j.spec else { return };
        let Some((ns, name)) = ident(&j.metadata, "Job", origin, diags) else { return };
        let mut labels = spec.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
        labels.insert("batch.kubernetes.io/job-name".into(), name.clone());
        labels.insert("job-name".into(), name.clone());
        let template_spec = spec.template.spec.clone().unwrap_or_default();
        if !containers_valid(&template_spec, "spec.template.spec", "", origin, diags) {
            return;
        }
        // A dumped Job's own pods: those still active count against
        // parallelism, those that succeeded against completions; a Job
        // whose status says it is over runs nothing (job controller
        // `syncJob`).
        let (mut active, mut succeeded) = (0, 0);
        for b in self.bare.iter().filter(|b| b.namespace == ns && b.labels.get("job-name") == Some(&name)) {
            match b.finished {
                None => active += 1,
                Some(true) => succeeded += 1,
                Some(false) => {}
            }
        }
        let over = j
            .status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True");
        let parallelism = spec.parallelism.unwrap_or(1);
        let wanted = match spec.completions {
            _ if over => 0,
            // Without completions, the first success ends the Job.
            None if succeeded > 0 => 0,
            None => parallelism,
            Some(c) => parallelism.min((c - succeeded).max(0)),
        };
        let count = replicas(Some((wanted - active).max(0)), origin, &self.out, diags);
        let owner = Owner { kind: "Job".into(), name: name.clone() };
        let readiness = readiness(spec.template.metadata.as_ref(), spec.template.spec.as_ref(), None);
        self.out.random_named(&ns, &name, count, &labels, &template_spec, &owner, origin, readiness);
    }
}

/// Whether the input has a bare Pod with this name (a StatefulSet adopts it).
fn bare_named(manifests: &Manifests, ns: &str, name: &str) -> bool {
    manifests.objects.iter().any(|l| match &l.object {
        Object::Pod(p) => {
            p.metadata.name.as_deref() == Some(name)
                && p.metadata.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default") == ns
        }
        _ => false,
    })
}

struct Pods {
    drafts: Vec<Draft>,
    names: BTreeSet<(String, String)>,
    /// Whether the workload being expanded is a bootstrap add-on.
    bootstrap: bool,
}

impl Pods {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        ns: &str,
        name: String,
        labels: Labels,
        spec: std::sync::Arc<core::PodSpec>,
        owner: Option<Owner>,
        origin: &Origin,
        (ready, terminating): (bool, bool),
    ) {
        self.names.insert((ns.to_owned(), name.clone()));
        let origin = origin.clone();
        let bootstrap = self.bootstrap;
        self.drafts.push(Draft {
            namespace: ns.to_owned(),
            name,
            labels,
            owner,
            spec,
            origin,
            ready,
            terminating,
            bootstrap,
            given_ip: None,
            finished: None,
        });
    }

    /// `count` pods named `<base>-<5 random characters>`, the apiserver's
    /// `generateName`. The stream is seeded by the pod's namespace and base
    /// name, so adding an unrelated object renames nothing.
    #[allow(clippy::too_many_arguments)]
    fn random_named(
        &mut self,
        ns: &str,
        base: &str,
        count: u32,
        labels: &Labels,
        spec: &core::PodSpec,
        owner: &Owner,
        origin: &Origin,
        readiness: (bool, bool),
    ) {
        let mut rng = Rng::for_name(&format!("{ns}/{base}"));
        // The replicas share one copy of their template's spec.
        let spec = std::sync::Arc::new(spec.clone());
        for _ in 0..count {
            let name = loop {
                let candidate = format!("{base}-{}", rng.suffix(5));
                if !self.names.contains(&(ns.to_owned(), candidate.clone())) {
                    break candidate;
                }
            };
            self.push(ns, name, labels.clone(), std::sync::Arc::clone(&spec), Some(owner.clone()), origin, readiness);
        }
    }
}

fn bare_pod(p: &core::Pod, origin: &Origin, out: &mut Pods, diags: &mut Vec<Diagnostic>) {
    let Some((ns, name)) = ident(&p.metadata, "Pod", origin, diags) else { return };
    if out.names.contains(&(ns.clone(), name.clone())) {
        diags.push(
            Diagnostic::error(origin.clone(), format!("pods \"{name}\" already exists in namespace {ns}"))
                .at_field("metadata.name"),
        );
        return;
    }
    let Some(spec) = p.spec.clone() else {
        diags.push(Diagnostic::error(origin.clone(), format!("pod {ns}/{name}: spec: Required value")));
        return;
    };
    if !containers_valid(&spec, "spec", &format!("pod {ns}/{name}: "), origin, diags) {
        return;
    }
    let labels = p.metadata.labels.clone().unwrap_or_default();
    // A pod written out by `kubectl get -o yaml` may carry its owner.
    let owner = p
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map(|o| Owner { kind: o.kind.clone(), name: o.name.clone() });
    let readiness = readiness(Some(&p.metadata), p.spec.as_ref(), p.status.as_ref());
    out.push(&ns, name, labels, std::sync::Arc::new(spec), owner, origin, readiness);
    // A pod from `kubectl get -o yaml` of a running cluster keeps the
    // address its node gave it.
    let given = p.status.as_ref().and_then(|s| s.pod_ip.as_deref()).and_then(|ip| ip.trim().parse().ok());
    if let Some(draft) = out.drafts.last_mut().filter(|d| d.origin == *origin) {
        draft.given_ip = given;
        draft.finished = p.status.as_ref().and_then(finished);
    }
}

/// Whether a dumped pod's containers have ended, and what kubectl's STATUS
/// column says of it: the last container's termination reason, else
/// `Completed` for a Succeeded pod and `Error` for a Failed one
/// (kubectl's `printPod` takes the terminated container's reason).
fn finished(status: &core::PodStatus) -> Option<(bool, String)> {
    let succeeded = match status.phase.as_deref()? {
        "Succeeded" => true,
        "Failed" => false,
        _ => return None,
    };
    let reason = status
        .container_statuses
        .iter()
        .flatten()
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.reason.clone())
        .next_back()
        .unwrap_or_else(|| if succeeded { "Completed" } else { "Error" }.to_owned());
    Some((succeeded, reason))
}

/// The API server's checks of a pod spec's containers
/// (`validateContainers` and `validateContainerPorts` in
/// kubernetes/pkg/apis/core/validation/validation.go): at least one; each
/// named by a unique RFC 1123 label; each `containerPort` given and
/// between 1 and 65535, and a `hostPort` too when set. Says every problem
/// at its field and whether the spec passed.
fn containers_valid(
    spec: &core::PodSpec,
    at: &str,
    prefix: &str,
    origin: &Origin,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let mut problems = Vec::new();
    if spec.containers.is_empty() {
        problems.push(format!("{at}.containers: Required value"));
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, c) in spec.containers.iter().enumerate() {
        let path = format!("{at}.containers[{i}]");
        if c.name.is_empty() {
            problems.push(format!("{path}.name: Required value"));
        } else if let Some(why) = crate::names::NameRule::Label.check(&c.name) {
            problems.push(format!("{path}.name: {why}"));
        } else if !names.insert(c.name.as_str()) {
            problems.push(format!("{path}.name: Duplicate value: \"{}\"", c.name));
        }
        for (j, p) in c.ports.iter().flatten().enumerate() {
            let port_path = format!("{path}.ports[{j}]");
            if p.container_port == 0 {
                problems.push(format!("{port_path}.containerPort: Required value"));
            } else if !(1..=65535).contains(&p.container_port) {
                problems.push(format!(
                    "{port_path}.containerPort: Invalid value: {}: must be between 1 and 65535, inclusive",
                    p.container_port
                ));
            }
            if let Some(h) = p.host_port.filter(|h| *h != 0 && !(1..=65535).contains(h)) {
                problems
                    .push(format!("{port_path}.hostPort: Invalid value: {h}: must be between 1 and 65535, inclusive"));
            }
        }
    }
    let valid = problems.is_empty();
    for problem in problems {
        diags.push(Diagnostic::error(origin.clone(), format!("{prefix}{problem}")));
    }
    valid
}

struct Template {
    labels: Labels,
    readiness: (bool, bool),
    spec: core::PodSpec,
}

/// The pod template, after the checks the API server makes on every
/// workload: a selector that matches the template's labels, and containers.
fn checked_template(
    selector: &LabelSelector,
    template: &core::PodTemplateSpec,
    origin: &Origin,
    diags: &mut Vec<Diagnostic>,
) -> Option<Template> {
    let labels = template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    let sel = match Selector::from_label_selector(selector) {
        Ok(s) => s,
        Err(e) => {
            diags.push(Diagnostic::error(origin.clone(), format!("spec.selector.{e}")));
            return None;
        }
    };
    if sel.is_empty() {
        diags.push(Diagnostic::error(
            origin.clone(),
            "spec.selector: Invalid value: empty selector is invalid for a workload",
        ));
        return None;
    }
    if !sel.matches(&labels) {
        let shown: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        diags.push(Diagnostic::error(
            origin.clone(),
            format!(
                "spec.template.metadata.labels: Invalid value: \"{}\": `selector` does not match template `labels` (selector is {sel})",
                shown.join(",")
            ),
        ));
        return None;
    }
    let spec = template.spec.clone().unwrap_or_default();
    if !containers_valid(&spec, "spec.template.spec", "", origin, diags) {
        return None;
    }
    Some(Template { labels, spec, readiness: readiness(template.metadata.as_ref(), template.spec.as_ref(), None) })
}

/// `spec.replicas` (default 1), bounded so a typo cannot freeze the page.
fn replicas(replicas: Option<i32>, origin: &Origin, out: &Pods, diags: &mut Vec<Diagnostic>) -> u32 {
    let wanted = replicas.unwrap_or(1);
    if wanted < 0 {
        diags.push(Diagnostic::error(
            origin.clone(),
            format!("spec.replicas: Invalid value: {wanted}: must be greater than or equal to 0"),
        ));
        return 0;
    }
    let room = MAX_PODS.saturating_sub(out.drafts.len() as u32);
    let wanted = wanted as u32;
    if wanted > room {
        diags.push(Diagnostic::error(
            origin.clone(),
            format!("spec.replicas: {wanted} would take the cluster past podpath's limit of {MAX_PODS} pods; lower it to see the rest"),
        ));
        return 0;
    }
    wanted
}

/// Whether a DaemonSet wants a pod on `node`: its nodeSelector and required
/// node affinity match, and the node's NoSchedule/NoExecute taints are
/// tolerated (the controller runs the scheduler's own predicates).
fn daemon_wants(spec: &core::PodSpec, node: &Node) -> bool {
    super::nodes::NodeAffinity::of(spec).matches(node)
        && node
            .taints
            .iter()
            .filter(|t| t.effect != super::TaintEffect::PreferNoSchedule)
            .all(|t| t.tolerated_by(spec.tolerations.as_deref().unwrap_or(&[])))
}

fn pin_to_node(spec: &mut core::PodSpec, node: &str) {
    let term = core::NodeSelectorTerm {
        match_expressions: None,
        match_fields: Some(vec![core::NodeSelectorRequirement {
            key: NODE_NAME_FIELD.into(),
            operator: "In".into(),
            values: Some(vec![node.to_owned()]),
        }]),
    };
    let affinity = spec.affinity.get_or_insert_with(Default::default);
    let node_affinity = affinity.node_affinity.get_or_insert_with(Default::default);
    node_affinity.required_during_scheduling_ignored_during_execution =
        Some(core::NodeSelector { node_selector_terms: vec![term] });
}

/// The tolerations `util.AddOrUpdateDaemonPodTolerations` adds.
fn add_daemon_tolerations(spec: &mut core::PodSpec) {
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for (key, effect) in [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ] {
        if !tolerations.iter().any(|t| t.key.as_deref() == Some(key) && t.effect.as_deref() == Some(effect)) {
            tolerations.push(core::Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some(effect.into()),
                ..Default::default()
            });
        }
    }
}
