//! Loading: text in, typed Kubernetes objects and located diagnostics out.
//!
//! A source is split into YAML documents at `---` markers (a marker at column
//! 0 always starts a new document in YAML, even inside a block scalar), and
//! each document is parsed on its own, so a syntax error in one costs only
//! that one. JSON is YAML, so `.json` files take the same path. Objects of
//! kinds podpath does not model (CRDs, RBAC, Secrets…) are listed as
//! skipped, not rejected.

pub mod crd;

use k8s_openapi::api::{
    apps::v1 as apps, batch::v1 as batch, core::v1 as core, discovery::v1 as discovery, networking::v1 as networking,
};
use serde::de::DeserializeOwned;
use serde_yaml::Value;

use crate::diag::{Diagnostic, Origin};
use crate::settings::{ClusterObject, KubeProxyConfig};

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
            Object::Middleware(o) => ("Middleware", &o.metadata, true),
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
];

fn typed(api_version: &str, kind: &str, doc: Doc<'_>) -> Result<Object, serde_yaml::Error> {
    fn boxed<T: DeserializeOwned>(doc: Doc<'_>) -> Result<Box<T>, serde_yaml::Error> {
        // Every kind is typed by one deserializer, serde_yaml's text one
        // (it knows where an error is): a second one, from the parsed
        // value, would double the code serde generates for every
        // Kubernetes type, which is most of the page's weight. A `List`
        // item is written back as text first.
        match doc {
            Doc::Text(text) => serde_yaml::from_str(text).map(Box::new),
            Doc::Value(value) => serde_yaml::from_str(&serde_yaml::to_string(value)?).map(Box::new),
        }
    }
    Ok(match (api_version, kind) {
        ("podpath.dev/v1alpha1", "Cluster") => Object::Cluster(boxed(doc)?),
        ("kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration") => Object::KubeProxyConfiguration(boxed(doc)?),
        ("v1", "Namespace") => Object::Namespace(boxed(doc)?),
        ("v1", "Node") => Object::Node(boxed(doc)?),
        ("v1", "Pod") => Object::Pod(boxed(doc)?),
        ("v1", "Service") => Object::Service(boxed(doc)?),
        ("v1", "ConfigMap") => Object::ConfigMap(boxed(doc)?),
        ("apps/v1", "Deployment") => Object::Deployment(boxed(doc)?),
        ("apps/v1", "ReplicaSet") => Object::ReplicaSet(boxed(doc)?),
        ("apps/v1", "StatefulSet") => Object::StatefulSet(boxed(doc)?),
        ("apps/v1", "DaemonSet") => Object::DaemonSet(boxed(doc)?),
        ("batch/v1", "Job") => Object::Job(boxed(doc)?),
        ("batch/v1", "CronJob") => Object::CronJob(boxed(doc)?),
        ("discovery.k8s.io/v1", "EndpointSlice") => Object::EndpointSlice(boxed(doc)?),
        ("networking.k8s.io/v1", "NetworkPolicy") => Object::NetworkPolicy(boxed(doc)?),
        ("networking.k8s.io/v1", "Ingress") => Object::Ingress(boxed(doc)?),
        ("networking.k8s.io/v1", "IngressClass") => Object::IngressClass(boxed(doc)?),
        ("traefik.io/v1alpha1", "IngressRoute") => Object::IngressRoute(boxed(doc)?),
        ("traefik.io/v1alpha1", "Middleware") => Object::Middleware(boxed(doc)?),
        _ => unreachable!("typed() is only called for pairs listed in KINDS"),
    })
}

/// The same document, as text (precise error locations) or as an already
/// parsed value (items of a `List`).
#[derive(Clone, Copy)]
enum Doc<'a> {
    Text(&'a str),
    Value(&'a Value),
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

/// A YAML document's text and the 1-based line of the file it starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chunk<'a> {
    text: &'a str,
    first_line: u32,
}

/// Splits a YAML stream at document markers. A `---` line belongs to the
/// document it opens (serde_yaml reads it fine and a `--- {…}` line keeps
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
    let value: Value = match serde_yaml::from_str(chunk.text) {
        Ok(v) => v,
        Err(e) => {
            diags.push(located_error(&e, &origin, chunk.first_line));
            return;
        }
    };
    let Some(map) = value.as_mapping() else {
        if !value.is_null() {
            diags.push(Diagnostic::error(
                first_content(chunk, &origin),
                format!(
                    "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
                    describe(&value)
                ),
            ));
        }
        return;
    };
    let api_version = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() || api_version.is_empty() {
        let missing = match (api_version.is_empty(), kind.is_empty()) {
            (true, true) => "apiVersion and kind",
            (true, false) => "apiVersion",
            _ => "kind",
        };
        diags.push(Diagnostic::error(
            first_content(chunk, &origin),
            format!("object has no {missing}; every Kubernetes object needs both"),
        ));
        return;
    }
    if is_list(api_version, kind) {
        load_list(&value, chunk, &origin, out, diags);
        return;
    }
    let at = first_content(chunk, &origin);
    classify(api_version, kind, Doc::Text(chunk.text), &value, at, chunk.first_line, None, out, diags);
}

/// `kind: List` (what `kubectl get -o yaml` prints for several objects) and
/// typed lists such as `PodList`.
fn is_list(api_version: &str, kind: &str) -> bool {
    kind == "List"
        || (kind.ends_with("List") && KINDS.iter().any(|(v, k)| *v == api_version && kind == format!("{k}List")))
}

fn load_list(value: &Value, chunk: Chunk<'_>, origin: &Origin, out: &mut Manifests, diags: &mut Vec<Diagnostic>) {
    let items = match value.get("items") {
        None | Some(Value::Null) => return,
        Some(Value::Sequence(items)) => items,
        Some(other) => {
            diags.push(Diagnostic::error(
                first_content(chunk, origin),
                format!("items: expected a sequence of objects, found {}", describe(other)),
            ));
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        // serde_yaml's Value keeps no positions; point at the item's own
        // line by finding its n-th top-level entry under `items:`.
        let item_origin = Origin { line: item_line(chunk, i).unwrap_or(origin.line), ..origin.clone() };
        let api_version = item.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = item.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.is_empty() || api_version.is_empty() {
            diags.push(Diagnostic::error(item_origin, format!("items[{i}]: object has no apiVersion or kind")));
            continue;
        }
        classify(api_version, kind, Doc::Value(item), item, item_origin, chunk.first_line, Some(i), out, diags);
    }
}

/// The file line of the `index`-th entry of a top-level `items:` sequence,
/// for block-style lists as kubectl prints them.
fn item_line(chunk: Chunk<'_>, index: usize) -> Option<u32> {
    let mut in_items = false;
    let mut seen = 0usize;
    let mut indent = None;
    for (n, line) in chunk.text.lines().enumerate() {
        if !in_items {
            in_items = line.starts_with("items:");
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let col = line.len() - trimmed.len();
        if col == 0 && !trimmed.starts_with('-') {
            return None;
        }
        if trimmed.starts_with("- ") || trimmed == "-" {
            let expected = *indent.get_or_insert(col);
            if col == expected {
                if seen == index {
                    return Some(chunk.first_line + n as u32);
                }
                seen += 1;
            }
        }
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn classify(
    api_version: &str,
    kind: &str,
    doc: Doc<'_>,
    value: &Value,
    origin: Origin,
    first_line: u32,
    item: Option<usize>,
    out: &mut Manifests,
    diags: &mut Vec<Diagnostic>,
) {
    let prefix = item.map(|i| format!("items[{i}]: ")).unwrap_or_default();
    if KINDS.iter().any(|(v, k)| *v == api_version && *k == kind) {
        if let Some(problem) = name_problem(api_version, kind, value) {
            diags.push(Diagnostic::error(
                origin,
                format!(
                    "{prefix}{kind} {}: {problem} (the API server refuses it; podpath leaves it out)",
                    object_name(value)
                ),
            ));
            return;
        }
        match typed(api_version, kind, doc) {
            Ok(object) => out.objects.push(Located { origin, object }),
            Err(e) => {
                let mut d = located_error(&e, &origin, first_line);
                d.message = format!("{prefix}{kind} {}: {}", object_name(value), d.message);
                if item.is_some() {
                    d.origin = origin;
                }
                diags.push(d);
            }
        }
        return;
    }
    if let Some((served, _)) = KINDS.iter().find(|(_, k)| *k == kind) {
        // A kind we know under a version the API server no longer serves
        // (extensions/v1beta1 Ingress, apps/v1beta2 Deployment…).
        diags.push(Diagnostic::error(
            origin,
            format!("{prefix}no matches for kind \"{kind}\" in version \"{api_version}\"; use apiVersion: {served}"),
        ));
        return;
    }
    if let Some(near) = near_kind(api_version, kind) {
        diags.push(Diagnostic::warning(
            origin.clone(),
            format!("{prefix}no kind \"{kind}\" in version \"{api_version}\"; did you mean \"{near}\"? (skipped)"),
        ));
    }
    out.skipped.push(Skipped {
        origin,
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: object_name(value),
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

/// `NAME` or `NAMESPACE/NAME` of an object, for messages.
/// What is wrong with an object's `metadata.name` and `metadata.namespace`
/// by the API server's rules, if anything. Configuration files
/// (KubeProxyConfiguration) and podpath's own settings object are not
/// API objects and are not checked here.
fn name_problem(api_version: &str, kind: &str, value: &Value) -> Option<String> {
    use crate::names::NameRule;
    if api_version.starts_with("podpath.dev/") || api_version.contains(".config.k8s.io/") {
        return None;
    }
    let meta = value.get("metadata");
    let field = |f: &str| meta.and_then(|m| m.get(f));
    match field("name") {
        Some(Value::String(name)) => {
            if let Some(why) = NameRule::for_kind(kind).check(name) {
                return Some(format!("metadata.name: {why}"));
            }
        }
        None | Some(Value::Null) if field("generateName").is_none() => {
            return Some("metadata.name: Required value: name or generateName is required".into());
        }
        _ => {}
    }
    if let Some(Value::String(ns)) = field("namespace") {
        if let Some(why) = NameRule::Label.check(ns) {
            return Some(format!("metadata.namespace: {why}"));
        }
    }
    None
}

fn object_name(value: &Value) -> String {
    let meta = value.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("<unnamed>");
    match meta.and_then(|m| m.get("namespace")).and_then(Value::as_str) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a sequence",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// The origin of the first line with content in a chunk (past comments and
/// the `---` marker), where "this object" errors point.
fn first_content(chunk: Chunk<'_>, origin: &Origin) -> Origin {
    let skip = chunk
        .text
        .lines()
        .position(|l| {
            let t = l.trim();
            !(t.is_empty() || t.starts_with('#') || t == "---")
        })
        .unwrap_or(0);
    Origin { line: chunk.first_line + skip as u32, column: 1, ..origin.clone() }
}

/// Turns a serde_yaml error into a diagnostic at its place in the file.
/// serde_yaml appends " at line L column C" to its message; the location is
/// moved into the origin instead.
fn located_error(e: &serde_yaml::Error, origin: &Origin, first_line: u32) -> Diagnostic {
    let mut message = e.to_string();
    let mut at = origin.clone();
    if let Some(loc) = e.location() {
        at.line = first_line + loc.line().saturating_sub(1) as u32;
        at.column = loc.column() as u32;
        let suffix = format!(" at line {} column {}", loc.line(), loc.column());
        if let Some(pos) = message.rfind(&suffix) {
            message.replace_range(pos..pos + suffix.len(), "");
        }
    }
    let mut message = shift_lines(&message, first_line.saturating_sub(1));
    if let Some(hint) = hint_for(&message) {
        message.push_str(hint);
    }
    Diagnostic::error(at, message)
}

/// A plain-words hint for the YAML errors people meet most.
fn hint_for(message: &str) -> Option<&'static str> {
    if message.contains("found character that cannot start any token") {
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

/// libyaml's messages may name a second place ("while parsing a flow
/// sequence at line 5 column 9"), counted from the document's start: make
/// those lines count from the file's start too.
fn shift_lines(message: &str, delta: u32) -> String {
    const MARK: &str = "at line ";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(pos) = rest.find(MARK) {
        let (head, tail) = rest.split_at(pos + MARK.len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        match tail[..digits].parse::<u32>() {
            Ok(n) => out.push_str(&(n + delta).to_string()),
            Err(_) => out.push_str(&tail[..digits]),
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
