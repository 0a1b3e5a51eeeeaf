//! Lessons: a scenario to start from, steps of text, goals with checks the
//! core evaluates against the cluster the learner's text builds, hints,
//! and a reference solution.
//!
//! ```yaml
//! apiVersion: podpath.dev/v1alpha1
//! kind: Lesson
//! metadata: {name: default-deny-dns}
//! spec:
//!   title: Default deny, and the DNS it forgets
//!   topic: NetworkPolicy
//!   steps: ["…", "…"]
//!   goals:
//!   - text: frontend reaches the API by name
//!     hint: a pod must reach kube-dns before it can reach anything by name
//!     check: {trace: {from: shop/frontend, to: http://api, expect: delivered}}
//!   scenario: |
//!     …the manifests the lesson starts from…
//!   solution: |
//!     …the same, solved…
//! ```
//!
//! Checks name pods as `NS/NAME`: a pod of that name, or else the first
//! pod (by name) of the workload of that name — so a check can say
//! `shop/frontend` for a Deployment's pods, whose names are random.

use serde::Deserialize;

use crate::cluster::{Cluster, ClusterIp};
use crate::dns::RType;
use crate::trace::{self, target};
use crate::{simulate, Source};

/// A lesson as written.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize))]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: Spec,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize))]
pub struct Metadata {
    pub name: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize))]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub title: String,
    pub topic: String,
    #[serde(default)]
    pub summary: String,
    pub steps: Vec<String>,
    pub goals: Vec<Goal>,
    pub scenario: String,
    pub solution: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize))]
#[serde(deny_unknown_fields)]
pub struct Goal {
    pub text: String,
    #[serde(default)]
    pub hint: String,
    /// `{trace: {…}}`: the check's kind as the map's one key.
    pub check: Check,
}

/// What a goal checks.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Check {
    /// A connection's verdict: `delivered`, `dropped`, `rejected`,
    /// `unreachable` or `nxdomain`.
    Trace {
        from: String,
        to: String,
        #[serde(default = "default_port")]
        port: u16,
        #[serde(default = "default_protocol")]
        protocol: String,
        expect: String,
        /// The source address the destination sees: `client` (the
        /// sender's own, kept), `node/NAME` (that node's InternalIP, after
        /// SNAT) or an address.
        #[serde(default)]
        source: Option<String>,
        /// How the packet crosses between nodes: `ipip`, `vxlan`, `geneve`,
        /// `sleeve`, or `none` (no tunnel on the way).
        #[serde(default)]
        encapsulation: Option<String>,
        /// Text that the line of some rule acting on the way contains, as
        /// the node's dump prints it (`--set --name KUBE-SEP`, `vmap`).
        #[serde(default)]
        rule: Option<String>,
    },
    /// A name as a pod resolves it: the rcode, and the address when given
    /// (`address: service` means the named Service's ClusterIP).
    Dns {
        from: String,
        name: String,
        #[serde(default = "noerror")]
        rcode: String,
        #[serde(default)]
        address: Option<String>,
        /// How many A records the answer has, when given.
        #[serde(default)]
        answers: Option<usize>,
    },
    /// An HTTP request: the status, and the backend (`NS/SERVICE:PORT`)
    /// when given.
    Http {
        from: String,
        url: String,
        status: u16,
        #[serde(default)]
        backend: Option<String>,
        /// `NS/NAME` of the Gateway the request must go through.
        #[serde(default)]
        gateway: Option<String>,
        /// Request headers, as curl's `-H` takes them (`Name: value`).
        #[serde(default)]
        headers: Vec<String>,
    },
    /// How many ready endpoints a Service has.
    Endpoints { service: String, count: usize },
    /// A field of an object as `kubectl get -o json` prints it:
    /// `object` is `KIND/NS/NAME` (`pod`, `service`, `endpointslice`,
    /// `networkpolicy`, `ingress`) or `node/NAME`; `path` is a
    /// JSONPath-like `.spec.ports[0].targetPort`; `equals` is the value
    /// as text, or absent to ask that the field is not set.
    Field {
        object: String,
        path: String,
        #[serde(default)]
        equals: Option<String>,
    },
    /// How many pods of a namespace run, optionally those a label
    /// selector picks (kubectl's `-l` syntax: `app=web,tier in (a,b)`).
    Running {
        namespace: String,
        #[serde(default)]
        selector: Option<String>,
        count: usize,
    },
}

fn default_port() -> u16 {
    80
}

fn default_protocol() -> String {
    "tcp".into()
}

fn noerror() -> String {
    "NOERROR".into()
}

/// Why a lesson file could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LessonError {
    #[error("{file}:{line}:{column}: error: {message}")]
    Syntax { file: String, line: usize, column: usize, message: String },
    #[error("{file}: error: kind must be Lesson (apiVersion podpath.dev/v1alpha1), not {found}")]
    Kind { file: String, found: String },
}

/// Reads a lesson.
pub fn parse(file: &str, text: &str) -> Result<Lesson, LessonError> {
    let syntax = |mark: Option<crate::yaml::Mark>, message: String| {
        let mark = mark.unwrap_or(crate::yaml::Mark { line: 1, column: 1 });
        LessonError::Syntax { file: file.to_owned(), line: mark.line as usize, column: mark.column as usize, message }
    };
    let node = crate::yaml::parse(text, 1).map_err(|e| syntax(Some(e.mark), e.message))?;
    let lesson: Lesson = crate::yaml::de::from_node(&node).map_err(|e| syntax(e.mark, e.to_string()))?;
    if lesson.kind != "Lesson" || lesson.api_version != "podpath.dev/v1alpha1" {
        return Err(LessonError::Kind {
            file: file.to_owned(),
            found: format!("{}/{}", lesson.api_version, lesson.kind),
        });
    }
    Ok(lesson)
}

/// One goal's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Outcome {
    pub goal: String,
    pub passed: bool,
    /// What was found, for people ("dropped: NetworkPolicy …").
    pub detail: String,
}

/// The pod a check names: exact, or the first of the workload so named.
pub fn find_pod(cluster: &Cluster, key: &str) -> Option<String> {
    let (ns, name) = key.split_once('/')?;
    if cluster.pod(ns, name).is_some() {
        return Some(key.to_owned());
    }
    let mut owned: Vec<&crate::Pod> = cluster
        .pods
        .iter()
        .filter(|p| p.namespace == ns && p.is_running())
        .filter(|p| p.owner.as_ref().is_some_and(|o| o.name == name || o.workload() == name))
        .collect();
    crate::order::sort_by(&mut owned, |a, b| a.name.cmp(&b.name));
    owned.first().map(|p| p.key())
}

fn source(cluster: &Cluster, s: &str) -> Result<String, String> {
    if s == "external" || s.starts_with("node/") {
        return Ok(s.to_owned());
    }
    find_pod(cluster, s).ok_or_else(|| format!("no running pod {s} (nor of a workload of that name)"))
}

/// Evaluates each goal of `lesson` against `cluster`.
pub fn check(lesson: &Lesson, cluster: &Cluster) -> Vec<Outcome> {
    lesson.spec.goals.iter().map(|g| evaluate(g, cluster)).collect()
}

/// Builds the cluster from `text` (the learner's scenario) and checks.
pub fn check_text(lesson: &Lesson, name: &str, text: &str) -> Vec<Outcome> {
    let (cluster, _) = simulate(&[Source::new(name, text)]);
    check(lesson, &cluster)
}

fn evaluate(goal: &Goal, cluster: &Cluster) -> Outcome {
    let (passed, detail) = match run(&goal.check, cluster) {
        Ok(x) => x,
        Err(e) => (false, e),
    };
    Outcome { goal: goal.text.clone(), passed, detail }
}

fn run(check: &Check, cluster: &Cluster) -> Result<(bool, String), String> {
    match check {
        Check::Trace { from, to, port, protocol, expect, source: seen, encapsulation, rule } => {
            let t = traced(cluster, from, to, *port, protocol)?;
            Ok(trace_outcome(cluster, &t, expect, seen.as_deref(), encapsulation.as_deref(), rule.as_deref()))
        }
        Check::Field { object, path, equals } => {
            let value = object_json(cluster, object)?;
            let found = json_path(&value, path)?;
            let shown = found.as_ref().map_or_else(|| "not set".to_owned(), |v| format!("{path} = {v}"));
            Ok((found == *equals, format!("{object}: {shown}")))
        }
        Check::Dns { from, name, rcode, address, answers } => {
            dns_check(cluster, from, name, rcode, address.as_deref(), *answers)
        }
        Check::Http { from, url, status, backend, gateway, headers } => {
            let from = source(cluster, from)?;
            let t = target::trace_words_with(cluster, &from, url, (80, crate::cluster::Protocol::Tcp), 0, headers)?;
            let Some(h) = &t.http else {
                return Ok((false, format!("no HTTP answer: {} — {}", t.verdict.as_str(), t.reason)));
            };
            let passed = h.status == *status
                && backend.as_ref().is_none_or(|b| h.backend.as_deref() == Some(b))
                && gateway.as_ref().is_none_or(|g| h.gateway.as_deref() == Some(g));
            let via = match (&h.gateway, &h.ingress) {
                (Some(g), _) => format!(" through Gateway {g}"),
                (None, Some(i)) => format!(" through Ingress {i}"),
                (None, None) => String::new(),
            };
            Ok((passed, format!("HTTP {} from {}{via}", h.status, h.backend.as_deref().unwrap_or("the controller"))))
        }
        Check::Endpoints { service, count } => {
            let (ns, name) = service.split_once('/').ok_or("service is NS/NAME")?;
            let Some(s) = cluster.service(ns, name) else { return Ok((false, format!("no Service {service}"))) };
            // Endpoints that serve none of the Service's ports (a named
            // targetPort no container has) are no endpoints to kube-proxy.
            let ready: usize = cluster
                .slices_of(s)
                .filter(|es| s.ports.is_empty() || !es.ports.is_empty())
                .flat_map(|es| &es.endpoints)
                .filter(|e| e.is_ready())
                .map(|e| e.addresses.len())
                .sum();
            Ok((ready == *count, format!("{service} has {ready} ready endpoint(s)")))
        }
        Check::Running { namespace, selector, count } => {
            let sel = selector.as_deref().map(crate::labels::Selector::parse).transpose()?;
            let n = cluster
                .pods
                .iter()
                .filter(|p| p.namespace == *namespace && p.is_running())
                .filter(|p| sel.as_ref().is_none_or(|s| s.matches(&p.labels)))
                .count();
            Ok((n == *count, format!("{n} pod(s) running")))
        }
    }
}

/// The trace a `trace` goal asks for: its pods named by their workloads.
fn traced(cluster: &Cluster, from: &str, to: &str, port: u16, protocol: &str) -> Result<trace::Trace, String> {
    let from = source(cluster, from)?;
    let to = match find_pod(cluster, to) {
        Some(p) if to.contains('/') && !to.contains("://") => p,
        _ => to.to_owned(),
    };
    let protocol = crate::cluster::Protocol::from_name(protocol)
        .ok_or_else(|| format!("protocol {protocol}: expected tcp, udp, sctp or icmp"))?;
    target::trace_words(cluster, &from, &to, port, protocol, 0)
}

/// Whether a trace meets a `trace` goal: its verdict, and where asked, the
/// source the destination sees, the tunnel between nodes, a rule that
/// acted.
fn trace_outcome(
    cluster: &Cluster,
    t: &trace::Trace,
    expect: &str,
    seen: Option<&str>,
    encapsulation: Option<&str>,
    rule: Option<&str>,
) -> (bool, String) {
    let got = t.verdict.as_str();
    let mut passed = got == expect;
    let mut detail = format!("{got}: {}", t.reason);
    if let Some(want) = seen {
        match seen_source(cluster, t, want) {
            Ok((ok, found)) => {
                passed &= ok;
                detail.push_str(&format!("; the destination sees {found}"));
            }
            Err(e) => return (false, e),
        }
    }
    if let Some(want) = encapsulation {
        let found = tunnel(t);
        passed &= found == want;
        detail.push_str(&format!("; between nodes: {found}"));
    }
    if let Some(want) = rule {
        let ok = all_hops(t).any(|h| h.rule.as_deref().is_some_and(|r| r.contains(want)));
        passed &= ok;
        let verb = if ok { "acted" } else { "did not act" };
        detail.push_str(&format!("; a rule with \"{want}\" {verb}"));
    }
    (passed, detail)
}

/// A `dns` goal: the lookup from the source, its response code, and where
/// asked the address and how many there are.
fn dns_check(
    cluster: &Cluster,
    from: &str,
    name: &str,
    rcode: &str,
    address: Option<&str>,
    answers: Option<usize>,
) -> Result<(bool, String), String> {
    let from = source(cluster, from)?;
    let req = trace::Request {
        from: target::parse_from(&from)?,
        to: trace::To::Name(name.to_owned()),
        port: 53,
        protocol: crate::cluster::Protocol::Udp,
        node: None,
        seed: 0,
    };
    let res = trace::resolve(cluster, &req, name, RType::A).map_err(|e| e.to_string())?;
    let got = match res.lookup.last() {
        Some(r) => r.rcode.as_str().to_owned(),
        None => "TIMEOUT".to_owned(),
    };
    let addr = res.address();
    let want_addr = match address {
        None => None,
        Some(a) => Some(match a.parse::<std::net::IpAddr>() {
            Ok(ip) => ip,
            Err(_) => service_ip(cluster, a).ok_or_else(|| format!("no Service {a} with a ClusterIP"))?,
        }),
    };
    let records: Vec<String> = res
        .lookup
        .answer()
        .map(|r| r.answers.iter().filter(|a| a.rtype == RType::A).map(|a| a.data.clone()).collect())
        .unwrap_or_default();
    let passed =
        got == rcode && want_addr.is_none_or(|w| addr == Some(w)) && answers.is_none_or(|n| records.len() == n);
    let shown = if records.is_empty() { String::new() } else { format!(" {}", records.join(" ")) };
    Ok((passed, format!("{name}: {got}{shown}")))
}

/// Every hop of a trace, the legs a proxy joined included.
fn all_hops(t: &trace::Trace) -> impl Iterator<Item = &trace::Hop> {
    t.hops.iter().chain(t.legs.iter().flat_map(|l| l.hops.iter()))
}

/// The tunnel a trace's packet took between nodes, or `none`.
fn tunnel(t: &trace::Trace) -> String {
    all_hops(t).find_map(|h| h.packet.outer.as_ref()).map_or_else(|| "none".to_owned(), |o| o.encap.name().to_owned())
}

/// Whether the source address at delivery is `want` (`client`,
/// `node/NAME` or an address), and that address.
fn seen_source(cluster: &Cluster, t: &trace::Trace, want: &str) -> Result<(bool, String), String> {
    let last = t.legs.last().unwrap_or(t);
    let (Some(first), Some(delivered)) = (t.hops.first(), last.hops.last()) else {
        return Ok((false, "nothing".into()));
    };
    let seen = delivered.packet.src;
    let expected = match want {
        "client" => first.packet.src,
        _ => match want.strip_prefix("node/") {
            Some(n) => {
                cluster.node(n).and_then(|n| n.internal_ip).ok_or_else(|| format!("no node {n} with an InternalIP"))?
            }
            None => want.parse().map_err(|_| format!("source: {want} is not client, node/NAME or an address"))?,
        },
    };
    let whose = if seen == first.packet.src { " (the client's own)" } else { "" };
    Ok((seen == expected, format!("{seen}{whose}")))
}

/// An object as `kubectl get KIND NAME -o json` prints it.
fn object_json(cluster: &Cluster, object: &str) -> Result<serde_json::Value, String> {
    use crate::kubectl::{self, Scope};
    let mut parts = object.splitn(3, '/');
    let kind = parts.next().unwrap_or_default().to_ascii_lowercase();
    let (a, b) = (parts.next(), parts.next());
    if kind == "node" {
        let name = a.ok_or_else(|| format!("object {object}: expected node/NAME"))?;
        return find_item(&kubectl::nodes_list(cluster), None, name).ok_or_else(|| format!("no node {name}"));
    }
    let lister: fn(&Cluster, &Scope) -> serde_json::Value = match kind.as_str() {
        "pod" => kubectl::pods_list,
        "service" => kubectl::services_list,
        "endpointslice" => kubectl::endpoint_slices_list,
        "networkpolicy" => kubectl::network_policies_list,
        "ingress" => kubectl::ingresses_list,
        "gateway" => |c: &Cluster, s: &Scope| crate::gateway::view::list(c, "gateways", s, None),
        "httproute" => |c: &Cluster, s: &Scope| crate::gateway::view::list(c, "httproutes", s, None),
        "grpcroute" => |c: &Cluster, s: &Scope| crate::gateway::view::list(c, "grpcroutes", s, None),
        _ => {
            return Err(format!(
                "object {object}: kind {kind} is not one of node, pod, service, endpointslice, networkpolicy, ingress, gateway, httproute, grpcroute"
            ))
        }
    };
    let (Some(ns), Some(name)) = (a, b) else { return Err(format!("object {object}: expected KIND/NS/NAME")) };
    // A pod may be named by its workload, as in every other check.
    let pod = (kind == "pod").then(|| find_pod(cluster, &format!("{ns}/{name}"))).flatten();
    let name = pod.as_deref().map_or(name, |k| &k[ns.len() + 1..]);
    let list = lister(cluster, &Scope::Namespace(ns.to_owned()));
    find_item(&list, Some(ns), name).ok_or_else(|| format!("no {kind} {ns}/{name}"))
}

fn find_item(list: &serde_json::Value, ns: Option<&str>, name: &str) -> Option<serde_json::Value> {
    list["items"]
        .as_array()?
        .iter()
        .find(|i| i["metadata"]["name"] == name && ns.is_none_or(|ns| i["metadata"]["namespace"] == ns))
        .cloned()
}

/// Follows `.a.b[0].c` into `value`: the field as text (strings bare,
/// anything else as JSON), or `None` when it is not set.
fn json_path(value: &serde_json::Value, path: &str) -> Result<Option<String>, String> {
    let bad = || format!("path {path}: expected .field, .field[N] or .field.field…");
    let rest = path.strip_prefix('.').ok_or_else(bad)?;
    let mut at = value;
    for part in rest.split('.') {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() {
            return Err(bad());
        }
        at = &at[name];
        let mut indexes = indexes;
        while let Some(open) = indexes.strip_prefix('[') {
            let (n, after) = open.split_once(']').ok_or_else(bad)?;
            at = &at[n.parse::<usize>().map_err(|_| bad())?];
            indexes = after;
        }
        if !indexes.is_empty() {
            return Err(bad());
        }
    }
    Ok(match at {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        v => Some(v.to_string()),
    })
}

fn service_ip(cluster: &Cluster, key: &str) -> Option<std::net::IpAddr> {
    let (ns, name) = key.split_once('/')?;
    match cluster.service(ns, name)?.cluster_ip {
        ClusterIp::Ip(ip) => Some(ip),
        _ => None,
    }
}
