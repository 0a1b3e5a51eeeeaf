//! Loading: text in, typed Kubernetes objects and located diagnostics out.
//!
//! A source is split into YAML documents at `---` markers (a marker at column
//! 0 always starts a new document in YAML, even inside a block scalar), and
//! each document is parsed on its own, so a syntax error in one costs only
//! that one. JSON is YAML, so `.json` files take the same path. Objects of
//! kinds podpath does not model (CRDs, RBAC, Secrets…) are listed as
//! skipped, not rejected.

pub mod crd;
pub mod gateway;
pub mod npa;

use k8s_openapi::api::{
    apps::v1 as apps, batch::v1 as batch, core::v1 as core, discovery::v1 as discovery, networking::v1 as networking,
};
use serde::de::DeserializeOwned;

use crate::diag::{Diagnostic, Origin};
use crate::settings::{ClusterObject, KubeProxyConfig};
use crate::yaml::{self, de, Node};

/// One input file (or the editor's buffer): a name for messages and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source { name: name.into(), text: text.into() }
    }
}

/// The largest input podpath reads, all sources together. Past this a paste is
/// almost certainly a mistake, and parsing it would freeze the page.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// The most documents podpath reads; the rest are reported, not loaded.
pub const MAX_DOCUMENTS: usize = 50_000;

/// A typed object, as the API server would store it.
#[derive(Clone, Debug)]
pub enum Object {
    Cluster(Box<ClusterObject>),
    KubeProxyConfiguration(Box<KubeProxyConfig>),
    Namespace(Box<core::Namespace>),
    Node(Box<core::Node>),
    Pod(Box<core::Pod>),
    Service(Box<core::Service>),
    ConfigMap(Box<core::ConfigMap>),
    Deployment(Box<apps::Deployment>),
    ReplicaSet(Box<apps::ReplicaSet>),
    StatefulSet(Box<apps::StatefulSet>),
    DaemonSet(Box<apps::DaemonSet>),
    Job(Box<batch::Job>),
    CronJob(Box<batch::CronJob>),
    EndpointSlice(Box<discovery::EndpointSlice>),
    NetworkPolicy(Box<networking::NetworkPolicy>),
    Ingress(Box<networking::Ingress>),
    IngressClass(Box<networking::IngressClass>),
    IngressRoute(Box<crate::load::crd::IngressRoute>),
    Middleware(Box<crate::load::crd::Middleware>),
    GatewayClass(Box<gateway::GatewayClass>),
    Gateway(Box<gateway::Gateway>),
    HttpRoute(Box<gateway::HttpRoute>),
    GrpcRoute(Box<gateway::GrpcRoute>),
    ReferenceGrant(Box<gateway::ReferenceGrant>),
    ClusterNetworkPolicy(Box<npa::ClusterPolicy>),
    AdminNetworkPolicy(Box<npa::ClusterPolicy>),
    BaselineAdminNetworkPolicy(Box<npa::ClusterPolicy>),
}

impl Object {
    /// `(kind, namespace, name)`, namespace empty for cluster-scoped kinds;
    /// `None` for the settings object and unnamed objects.
    pub fn identity(&self) -> Option<(&'static str, String, String)> {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
        let (kind, meta, namespaced): (&'static str, &ObjectMeta, bool) = match self {
            Object::Cluster(_) | Object::KubeProxyConfiguration(_) => return None,
            Object::Namespace(o) => ("Namespace", &o.metadata, false),
            Object::Node(o) => ("Node", &o.metadata, false),
            Object::Pod(o) => ("Pod", &o.metadata, true),
            Object::Service(o) => ("Service", &o.metadata, true),
            Object::ConfigMap(o) => ("ConfigMap", &o.metadata, true),
            Object::Deployment(o) => ("Deployment", &o.metadata, true),
            Object::ReplicaSet(o) => ("ReplicaSet", &o.metadata, true),
            Object::StatefulSet(o) => ("StatefulSet", &o.metadata, true),
            Object::DaemonSet(o) => ("DaemonSet", &o.metadata, true),
            Object::Job(o) => ("Job", &o.metadata, true),
            Object::CronJob(o) => ("CronJob", &o.metadata, true),
            Object::EndpointSlice(o) => ("EndpointSlice", &o.metadata, true),
            Object::NetworkPolicy(o) => ("NetworkPolicy", &o.metadata, true),
            Object::Ingress(o) => ("Ingress", &o.metadata, true),
            Object::IngressClass(o) => ("IngressClass", &o.metadata, false),
            Object::IngressRoute(o) => ("IngressRoute", &o.metadata, true),
            Object::GatewayClass(o) => ("GatewayClass", &o.metadata, false),
            Object::Gateway(o) => ("Gateway", &o.metadata, true),
            Object::HttpRoute(o) => ("HTTPRoute", &o.metadata, true),
            Object::GrpcRoute(o) => ("GRPCRoute", &o.metadata, true),
            Object::ReferenceGrant(o) => ("ReferenceGrant", &o.metadata, true),
            Object::Middleware(o) => ("Middleware", &o.metadata, true),
            Object::ClusterNetworkPolicy(o) => ("ClusterNetworkPolicy", &o.metadata, false),
            Object::AdminNetworkPolicy(o) => ("AdminNetworkPolicy", &o.metadata, false),
            Object::BaselineAdminNetworkPolicy(o) => ("BaselineAdminNetworkPolicy", &o.metadata, false),
        };
        let name = meta.name.clone().filter(|n| !n.is_empty())?;
        let ns = if namespaced {
            meta.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into())
        } else {
            String::new()
        };
        Some((kind, ns, name))
    }
}

/// An object with the place it came from.
#[derive(Clone, Debug)]
pub struct Located {
    pub origin: Origin,
    pub object: Object,
}

/// An object of a kind podpath does not model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub origin: Origin,
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// Everything the input described, in input order.
#[derive(Clone, Debug, Default)]
pub struct Manifests {
    pub objects: Vec<Located>,
    pub skipped: Vec<Skipped>,
}

/// Which typed object an `(apiVersion, kind)` pair is, if podpath models it.
/// The versions are the served ones of current Kubernetes; an older version of
/// a known kind is an error, as the API server says ("no matches for kind").
const KINDS: &[(&str, &str)] = &[
    ("podpath.dev/v1alpha1", "Cluster"),
    ("kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "IngressClass"),
    ("traefik.io/v1alpha1", "IngressRoute"),
    ("traefik.io/v1alpha1", "Middleware"),
    // The Gateway API's standard channel (v1.4): v1, and the v1beta1 the
    // CRDs still serve; ReferenceGrant is v1beta1 (v1 from v1.5).
    ("gateway.networking.k8s.io/v1", "GatewayClass"),
    ("gateway.networking.k8s.io/v1beta1", "GatewayClass"),
    ("gateway.networking.k8s.io/v1", "Gateway"),
    ("gateway.networking.k8s.io/v1beta1", "Gateway"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("gateway.networking.k8s.io/v1beta1", "HTTPRoute"),
    ("gateway.networking.k8s.io/v1", "GRPCRoute"),
    ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"),
    ("gateway.networking.k8s.io/v1", "ReferenceGrant"),
    // SIG Network's cluster-wide policies: v1alpha2 (network-policy-api
    // v0.2.0) and the v1alpha1 kinds it replaced (v0.1.7).
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"),
];

fn typed(api_version: &str, kind: &str, node: &Node) -> Result<Object, de::Error> {
    fn boxed<T: DeserializeOwned>(node: &Node) -> Result<Box<T>, de::Error> {
        de::from_node(node).map(Box::new)
    }
    // The Gateway API's kinds keep their text as JSON: `describe` and
    // `get -o yaml` print the spec as written.
    fn raw(node: &Node) -> serde_json::Value {
        de::from_node(node).unwrap_or_default()
    }
    Ok(match (api_version, kind) {
        ("podpath.dev/v1alpha1", "Cluster") => Object::Cluster(boxed(node)?),
        ("kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration") => Object::KubeProxyConfiguration(boxed(node)?),
        ("v1", "Namespace") => Object::Namespace(boxed(node)?),
        ("v1", "Node") => Object::Node(boxed(node)?),
        ("v1", "Pod") => Object::Pod(boxed(node)?),
        ("v1", "Service") => Object::Service(boxed(node)?),
        ("v1", "ConfigMap") => Object::ConfigMap(boxed(node)?),
        ("apps/v1", "Deployment") => Object::Deployment(boxed(node)?),
        ("apps/v1", "ReplicaSet") => Object::ReplicaSet(boxed(node)?),
        ("apps/v1", "StatefulSet") => Object::StatefulSet(boxed(node)?),
        ("apps/v1", "DaemonSet") => Object::DaemonSet(boxed(node)?),
        ("batch/v1", "Job") => Object::Job(boxed(node)?),
        ("batch/v1", "CronJob") => Object::CronJob(boxed(node)?),
        ("discovery.k8s.io/v1", "EndpointSlice") => Object::EndpointSlice(boxed(node)?),
        ("networking.k8s.io/v1", "NetworkPolicy") => Object::NetworkPolicy(boxed(node)?),
        ("networking.k8s.io/v1", "Ingress") => Object::Ingress(boxed(node)?),
        ("networking.k8s.io/v1", "IngressClass") => Object::IngressClass(boxed(node)?),
        ("traefik.io/v1alpha1", "IngressRoute") => Object::IngressRoute(boxed(node)?),
        ("traefik.io/v1alpha1", "Middleware") => Object::Middleware(boxed(node)?),
        (_, "ClusterNetworkPolicy") => {
            Object::ClusterNetworkPolicy(Box::new(npa::ClusterPolicy { raw: raw(node), ..de::from_node(node)? }))
        }
        (_, "AdminNetworkPolicy") => {
            Object::AdminNetworkPolicy(Box::new(npa::ClusterPolicy { raw: raw(node), ..de::from_node(node)? }))
        }
        (_, "BaselineAdminNetworkPolicy") => {
            Object::BaselineAdminNetworkPolicy(Box::new(npa::ClusterPolicy { raw: raw(node), ..de::from_node(node)? }))
        }
        (_, "GatewayClass") => {
            Object::GatewayClass(Box::new(gateway::GatewayClass { raw: raw(node), ..de::from_node(node)? }))
        }
        (_, "Gateway") => Object::Gateway(Box::new(gateway::Gateway { raw: raw(node), ..de::from_node(node)? })),
        (_, "HTTPRoute") => Object::HttpRoute(Box::new(gateway::HttpRoute { raw: raw(node), ..de::from_node(node)? })),
        (_, "GRPCRoute") => Object::GrpcRoute(Box::new(gateway::GrpcRoute { raw: raw(node), ..de::from_node(node)? })),
        (_, "ReferenceGrant") => {
            Object::ReferenceGrant(Box::new(gateway::ReferenceGrant { raw: raw(node), ..de::from_node(node)? }))
        }
        _ => unreachable!("typed() is only called for pairs listed in KINDS"),
    })
}

/// Loads every source, in order. Never fails: what cannot be used becomes a
/// diagnostic and the rest still loads.
pub fn load(sources: &[Source]) -> (Manifests, Vec<Diagnostic>) {
    let mut out = Manifests::default();
    let mut diags = Vec::new();
    let total: usize = sources.iter().map(|s| s.text.len()).sum();
    if total > MAX_INPUT_BYTES {
        let file = sources.first().map(|s| s.name.clone()).unwrap_or_default();
        diags.push(Diagnostic::error(
            Origin { file, document: 0, line: 1, column: 1 },
            format!(
                "input is {} bytes; podpath reads at most {} bytes ({} MiB): split it or leave out what the scenario does not need",
                total,
                MAX_INPUT_BYTES,
                MAX_INPUT_BYTES / (1024 * 1024)
            ),
        ));
        return (out, diags);
    }
    let mut documents = 0usize;
    for source in sources {
        for (index, chunk) in split_documents(&source.text).into_iter().enumerate() {
            documents += 1;
            if documents > MAX_DOCUMENTS {
                diags.push(Diagnostic::error(
                    Origin { file: source.name.clone(), document: index as u32, line: chunk.first_line, column: 1 },
                    format!("more than {MAX_DOCUMENTS} documents; podpath stops reading here (split the input or leave out what the scenario does not need)"),
                ));
                return (out, diags);
            }
            let origin =
                Origin { file: source.name.clone(), document: index as u32, line: chunk.first_line, column: 1 };
            load_document(chunk, origin, &mut out, &mut diags);
        }
    }
    (out, diags)
}

/// Moves each diagnostic that names a field to where that field is written:
/// the document it came from is parsed again and the path looked up in it
/// (a path that runs past the text stops at the nearest field written).
/// Only documents with such a diagnostic are read again, so the common case
/// (few diagnostics) costs little and nothing is kept in memory for it.
pub fn place(sources: &[Source], diags: &mut [Diagnostic]) {
    let mut wanted: Vec<usize> = (0..diags.len()).filter(|&i| !diags[i].placed && diags[i].field.is_some()).collect();
    crate::order::sort_by(&mut wanted, |&a, &b| {
        (&diags[a].origin.file, diags[a].origin.document).cmp(&(&diags[b].origin.file, diags[b].origin.document))
    });
    let mut chunks: Option<(&str, Vec<Chunk<'_>>)> = None;
    let mut parsed: Option<((String, u32), Option<Node>)> = None;
    for i in wanted {
        let (file, document) = (diags[i].origin.file.clone(), diags[i].origin.document);
        let Some(source) = sources.iter().find(|s| s.name == file) else { continue };
        if chunks.as_ref().is_none_or(|(name, _)| *name != source.name) {
            chunks = Some((&source.name, split_documents(&source.text)));
        }
        if parsed.as_ref().is_none_or(|(key, _)| *key != (file.clone(), document)) {
            let chunk = chunks.as_ref().and_then(|(_, c)| c.get(document as usize));
            let node = chunk.and_then(|c| yaml::parse(c.text, c.first_line).ok());
            parsed = Some(((file, document), node));
        }
        let Some((_, Some(root))) = &parsed else { continue };
        let d = &mut diags[i];
        let field = d.field.as_deref().unwrap_or_default();
        // A `List` item's own diagnostics are found by the item's line.
        let base = if root.mark.line == d.origin.line || field.starts_with("items[") {
            Some(root)
        } else {
            root.get("items")
                .and_then(Node::as_seq)
                .and_then(|items| items.iter().find(|n| n.mark.line == d.origin.line))
        };
        if let Some(base) = base {
            let mark = base.find(field);
            d.origin.line = mark.line;
            d.origin.column = mark.column;
            d.placed = true;
        }
    }
}

/// A YAML document's text and the 1-based line of the file it starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chunk<'a> {
    text: &'a str,
    first_line: u32,
}

/// Splits a YAML stream at document markers. A `---` line belongs to the
/// document it opens (the parser reads it fine and a `--- {…}` line keeps
/// its content); a `...` line ends a document.
fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    let mut offset = 0usize;
    let mut line_no = 1u32;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let opens = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
        let closes = bare == "..." || bare.starts_with("... ");
        if opens && offset > start {
            chunks.push(Chunk { text: &text[start..offset], first_line: start_line });
            start = offset;
            start_line = line_no;
        }
        offset += line.len();
        line_no += 1;
        if closes {
            chunks.push(Chunk { text: &text[start..offset], first_line: start_line });
            start = offset;
            start_line = line_no;
        }
    }
    if offset > start {
        chunks.push(Chunk { text: &text[start..], first_line: start_line });
    }
    chunks.retain(|c| !is_blank(c.text));
    chunks
}

/// True when a chunk holds no YAML content: blank lines, comments and markers.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

fn load_document(chunk: Chunk<'_>, origin: Origin, out: &mut Manifests, diags: &mut Vec<Diagnostic>) {
    let node = match yaml::parse(chunk.text, chunk.first_line) {
        Ok(node) => node,
        Err(e) => {
            diags.push(syntax_error(&e, &origin));
            return;
        }
    };
    let at = Origin { line: node.mark.line, column: 1, ..origin };
    if node.as_map().is_none() {
        if !node.is_null() {
            diags.push(Diagnostic::error(
                at,
                format!("expected a Kubernetes object (a mapping with apiVersion and kind), found {}", node.describe()),
            ));
        }
        return;
    }
    let api_version = node.get("apiVersion").and_then(Node::as_str).unwrap_or("");
    let kind = node.get("kind").and_then(Node::as_str).unwrap_or("");
    if kind.is_empty() || api_version.is_empty() {
        let missing = match (api_version.is_empty(), kind.is_empty()) {
            (true, true) => "apiVersion and kind",
            (true, false) => "apiVersion",
            _ => "kind",
        };
        diags.push(Diagnostic::error(at, format!("object has no {missing}; every Kubernetes object needs both")));
        return;
    }
    if is_list(api_version, kind) {
        load_list(&node, &at, out, diags);
        return;
    }
    classify(api_version, kind, &node, at, None, out, diags);
}

/// `kind: List` (what `kubectl get -o yaml` prints for several objects) and
/// typed lists such as `PodList`.
fn is_list(api_version: &str, kind: &str) -> bool {
    kind == "List"
        || (kind.ends_with("List") && KINDS.iter().any(|(v, k)| *v == api_version && kind == format!("{k}List")))
}

fn load_list(node: &Node, origin: &Origin, out: &mut Manifests, diags: &mut Vec<Diagnostic>) {
    let items = match node.get("items") {
        None => return,
        Some(items) if items.is_null() => return,
        Some(items) => match items.as_seq() {
            Some(items) => items,
            None => {
                let message = format!("items: expected a sequence of objects, found {}", items.describe());
                diags.push(Diagnostic::error(origin.clone(), message).at_field("items"));
                return;
            }
        },
    };
    for (i, item) in items.iter().enumerate() {
        let item_origin = Origin { line: item.mark.line, column: 1, ..origin.clone() };
        let api_version = item.get("apiVersion").and_then(Node::as_str).unwrap_or("");
        let kind = item.get("kind").and_then(Node::as_str).unwrap_or("");
        if kind.is_empty() || api_version.is_empty() {
            diags.push(Diagnostic::error(item_origin, format!("items[{i}]: object has no apiVersion or kind")));
            continue;
        }
        classify(api_version, kind, item, item_origin, Some(i), out, diags);
    }
}

fn classify(
    api_version: &str,
    kind: &str,
    node: &Node,
    origin: Origin,
    item: Option<usize>,
    out: &mut Manifests,
    diags: &mut Vec<Diagnostic>,
) {
    let prefix = item.map(|i| format!("items[{i}]: ")).unwrap_or_default();
    if KINDS.iter().any(|(v, k)| *v == api_version && *k == kind) {
        if let Some((field, problem)) = name_problem(api_version, kind, node) {
            let message = format!(
                "{prefix}{kind} {}: {field}: {problem} (the API server refuses it; podpath leaves it out)",
                object_name(node)
            );
            diags.push(Diagnostic::error(origin, message).at_field(field));
            return;
        }
        match typed(api_version, kind, node) {
            Ok(object) => out.objects.push(Located { origin, object }),
            Err(e) => {
                let mark = e.mark.unwrap_or(node.mark);
                let at = Origin { line: mark.line, column: mark.column, ..origin };
                diags.push(Diagnostic::error(at, format!("{prefix}{kind} {}: {e}", object_name(node))).placed());
            }
        }
        return;
    }
    if let Some((served, _)) = KINDS.iter().find(|(_, k)| *k == kind) {
        // A kind we know under a version the API server no longer serves
        // (extensions/v1beta1 Ingress, apps/v1beta2 Deployment…).
        let message =
            format!("{prefix}no matches for kind \"{kind}\" in version \"{api_version}\"; use apiVersion: {served}");
        diags.push(Diagnostic::error(origin, message).at_field("apiVersion"));
        return;
    }
    if let Some(near) = near_kind(api_version, kind) {
        // A built-in group has no such kind: `kubectl apply` fails with
        // "resource mapping not found … no matches for kind", as for an
        // old version, and the rest of the file is still applied.
        let message = format!(
            "{prefix}no matches for kind \"{kind}\" in version \"{api_version}\"; did you mean \"{near}\"? (podpath leaves it out)"
        );
        diags.push(Diagnostic::error(origin, message).at_field("kind"));
        return;
    }
    out.skipped.push(Skipped {
        origin,
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: object_name(node),
    });
}

/// A modelled kind of the same API group that `kind` is one or two edits
/// away from: most likely a typo rather than a custom resource.
fn near_kind(api_version: &str, kind: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .filter(|(v, _)| *v == api_version)
        .map(|(_, k)| *k)
        .find(|k| edit_distance(&k.to_ascii_lowercase(), &kind.to_ascii_lowercase()) <= 2)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// What is wrong with an object's `metadata.name` and `metadata.namespace`
/// by the API server's rules, if anything: the field and why.
/// Configuration files (KubeProxyConfiguration) and podpath's own settings
/// object are not API objects and are not checked here.
fn name_problem(api_version: &str, kind: &str, node: &Node) -> Option<(&'static str, String)> {
    use crate::names::NameRule;
    if api_version.starts_with("podpath.dev/") || api_version.contains(".config.k8s.io/") {
        return None;
    }
    let meta = node.get("metadata");
    let field = |f: &str| meta.and_then(|m| m.get(f));
    let unnamed = field("name").is_none_or(Node::is_null);
    if unnamed && field("generateName").is_none() {
        return Some(("metadata.name", "Required value: name or generateName is required".into()));
    }
    if let Some(name) = field("name").and_then(Node::as_str) {
        if let Some(why) = NameRule::for_kind(kind).check(name) {
            return Some(("metadata.name", why));
        }
    }
    if let Some(ns) = field("namespace").and_then(Node::as_str) {
        if let Some(why) = NameRule::Label.check(ns) {
            return Some(("metadata.namespace", why));
        }
    }
    None
}

/// `NAME` or `NAMESPACE/NAME` of an object, for messages.
fn object_name(node: &Node) -> String {
    let meta = node.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Node::as_str).unwrap_or("<unnamed>");
    match meta.and_then(|m| m.get("namespace")).and_then(Node::as_str) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

/// A document that is not YAML: the parser's message at its place, with a
/// plain-words hint for the mistakes people make most.
fn syntax_error(e: &yaml::Error, origin: &Origin) -> Diagnostic {
    let at = Origin { line: e.mark.line, column: e.mark.column, ..origin.clone() };
    let mut message = e.message.clone();
    if let Some(hint) = hint_for(&message) {
        message.push_str(hint);
    }
    Diagnostic::error(at, message).placed()
}

/// A plain-words hint for the YAML errors people meet most.
fn hint_for(message: &str) -> Option<&'static str> {
    if message.contains("found character that cannot start any token") || message.starts_with("tabs disallowed") {
        Some(" (YAML allows no tabs for indentation; use spaces)")
    } else if message.contains("repetition limit exceeded") {
        Some(" (its anchors and aliases expand too far; podpath refuses it to stay responsive)")
    } else if message.contains("recursion limit exceeded") {
        Some(" (it nests more than 128 levels deep; podpath refuses it to stay responsive)")
    } else if message.contains("control characters are not allowed") {
        Some(" (the text holds bytes that are not YAML text: binary data, or a file pasted in the wrong encoding)")
    } else if message.contains("mapping values are not allowed in this context") {
        Some(" (a `key: value` where a plain value was expected; check the indentation, or quote a value that contains \": \")")
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
