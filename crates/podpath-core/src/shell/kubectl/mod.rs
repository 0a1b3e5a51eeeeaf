//! `kubectl` in the shell: get, describe, exec, debug node, logs — with
//! kubectl's flags, its error messages and its exit codes. `get` and its
//! printers are `get.rs`; describe's are `../describe.rs`.

mod get;

use std::collections::BTreeMap;

use crate::kubectl::{self as k, Scope};
use crate::labels::Selector;
use crate::shell::{pod, Output, Where};
use crate::Cluster;
use get::get;

/// The kinds `get` and `describe` know, with kubectl's names for them:
/// (canonical, every accepted name).
const KINDS: &[(&str, &[&str])] = &[
    ("pods", &["pods", "pod", "po"]),
    ("services", &["services", "service", "svc"]),
    ("endpoints", &["endpoints", "endpoint", "ep"]),
    ("endpointslices", &["endpointslices", "endpointslice"]),
    ("networkpolicies", &["networkpolicies", "networkpolicy", "netpol"]),
    ("ingresses", &["ingresses", "ingress", "ing"]),
    ("nodes", &["nodes", "node", "no"]),
    ("namespaces", &["namespaces", "namespace", "ns"]),
];

mod run;

pub(super) use run::{plan as run_plan, Plan};

const SUBCOMMANDS: &[&str] = &["get", "describe", "exec", "logs", "debug", "run"];

fn kind(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    // `pods.v1`, `networkpolicies.networking.k8s.io`: the group is allowed.
    let base = lower.split('.').next().unwrap_or("");
    KINDS
        .iter()
        .chain(crate::gateway::view::KINDS)
        .chain(crate::policy::admin::KINDS)
        .find(|(_, names)| names.contains(&base))
        .map(|(k, _)| *k)
}

/// The flags one subcommand was given.
#[derive(Debug, Default)]
pub(super) struct Flags {
    namespace: Option<String>,
    all_namespaces: bool,
    output: Option<String>,
    selector: Option<String>,
    container: Option<String>,
    image: Option<String>,
    tail: Option<usize>,
    interactive: bool,
    tty: bool,
    labels: Option<String>,
    restart: Option<String>,
    rm: bool,
    /// `--command`: the words after `--` are the command, not its args.
    command_flag: bool,
    /// The words that are not flags, and those after `--`.
    args: Vec<String>,
    command: Vec<String>,
}

/// Flags taking a value: (short, long).
const VALUED: &[(&str, &str)] = &[
    ("n", "namespace"),
    ("o", "output"),
    ("l", "selector"),
    ("c", "container"),
    ("", "image"),
    ("", "tail"),
    ("", "labels"),
    ("", "restart"),
];
const BOOLEAN: &[(&str, &str)] = &[
    ("A", "all-namespaces"),
    ("i", "stdin"),
    ("t", "tty"),
    ("", "show-labels"),
    ("f", "follow"),
    ("q", "quiet"),
    ("", "rm"),
    ("", "command"),
];

fn usage_error(sub: &str, message: String) -> Output {
    Output::fail(1, format!("error: {message}\nSee 'kubectl {sub} --help' for usage.\n"))
}

pub(super) fn parse_flags(sub: &str, args: &[String]) -> Result<Flags, Output> {
    let mut f = Flags::default();
    let mut it = args.iter();
    let set = |f: &mut Flags, long: &str, value: Option<String>| match (long, value) {
        ("namespace", v) => f.namespace = v,
        ("output", v) => f.output = v,
        ("selector", v) => f.selector = v,
        ("container", v) => f.container = v,
        ("image", v) => f.image = v,
        ("tail", v) => f.tail = v.and_then(|v| v.parse().ok()),
        ("labels", v) => f.labels = v,
        ("restart", v) => f.restart = v,
        ("rm", _) => f.rm = true,
        ("command", _) => f.command_flag = true,
        ("all-namespaces", _) => f.all_namespaces = true,
        ("stdin", _) => f.interactive = true,
        ("tty", _) => f.tty = true,
        _ => {}
    };
    while let Some(a) = it.next() {
        if a == "--" {
            f.command = it.by_ref().cloned().collect();
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            if VALUED.iter().any(|(_, l)| *l == name) {
                let value = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| usage_error(sub, format!("flag needs an argument: --{name}")))?,
                };
                set(&mut f, name, Some(value));
            } else if BOOLEAN.iter().any(|(_, l)| *l == name) {
                set(&mut f, name, None);
            } else {
                return Err(usage_error(sub, format!("unknown flag: --{name}")));
            }
        } else if let Some(short) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            // Short flags group (`-it`); a valued one takes the rest or the next word.
            let chars: Vec<char> = short.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                let c = chars[i].to_string();
                if let Some((_, long)) = VALUED.iter().find(|(s, _)| *s == c) {
                    let rest: String = chars[i + 1..].iter().collect();
                    let rest = rest.strip_prefix('=').map(str::to_owned).unwrap_or(rest);
                    let value = if !rest.is_empty() {
                        rest
                    } else {
                        it.next()
                            .cloned()
                            .ok_or_else(|| usage_error(sub, format!("flag needs an argument: '{c}' in -{c}")))?
                    };
                    set(&mut f, long, Some(value));
                    break;
                } else if let Some((_, long)) = BOOLEAN.iter().find(|(s, _)| *s == c) {
                    set(&mut f, long, None);
                } else {
                    return Err(usage_error(sub, format!("unknown shorthand flag: '{c}' in -{short}")));
                }
                i += 1;
            }
        } else {
            f.args.push(a.clone());
        }
    }
    Ok(f)
}

/// Runs `kubectl ARGS`; the second value is where an interactive `exec`
/// or `debug` takes the shell.
pub(super) fn run(
    cluster: &Cluster,
    args: &[String],
    seed: u64,
    logged: &[(String, String)],
) -> (Output, Option<Where>) {
    let Some((sub, rest)) = args.split_first() else {
        return (Output::ok("kubectl controls the Kubernetes cluster manager.\n\nBasic Commands:\n  get           Display one or many resources\n  describe      Show details of a specific resource or group of resources\n  logs          Print the logs for a container in a pod\n  exec          Execute a command in a container\n  debug         Create debugging sessions for troubleshooting workloads and nodes\n"), None);
    };
    let flags = match parse_flags(sub, rest) {
        Ok(f) => f,
        Err(out) => return (out, None),
    };
    match sub.as_str() {
        "get" => (get(cluster, &flags), None),
        "describe" => (describe(cluster, &flags), None),
        "exec" => exec(cluster, &flags, seed),
        "debug" => debug(cluster, &flags),
        "logs" => (logs(cluster, &flags, logged), None),
        other => {
            // cobra suggests commands within two edits.
            let near: Vec<&&str> = SUBCOMMANDS.iter().filter(|s| edits(s, other) <= 2).collect();
            let mut msg = format!("error: unknown command \"{other}\" for \"kubectl\"\n");
            if !near.is_empty() {
                msg.push_str("\nDid you mean this?\n");
                for n in near {
                    msg.push_str(&format!("\t{n}\n"));
                }
            }
            msg.push_str("\nRun 'kubectl --help' for usage.\n");
            (Output::fail(1, msg), None)
        }
    }
}

/// Levenshtein distance, as cobra's suggestions use it.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn namespace(f: &Flags) -> String {
    f.namespace.clone().unwrap_or_else(|| "default".to_owned())
}

fn scope(f: &Flags) -> Scope {
    if f.all_namespaces {
        Scope::All
    } else {
        Scope::Namespace(namespace(f))
    }
}

/// A copy of the cluster holding only what `get` was asked for: the
/// named object, and what the selector matches.
fn filtered(cluster: &Cluster, name: Option<&str>, sel: Option<&Selector>) -> Cluster {
    let keep = |n: &str, labels: &BTreeMap<String, String>| {
        name.is_none_or(|x| x == n) && sel.is_none_or(|s| s.matches(labels))
    };
    let none = BTreeMap::new();
    let mut c = cluster.clone();
    c.pods.retain(|p| keep(&p.name, &p.labels));
    c.services.retain(|s| keep(&s.name, &s.labels));
    c.nodes.retain(|n| keep(&n.name, &n.labels));
    c.endpoint_slices.retain(|e| keep(&e.name, &none));
    c.network_policies.retain(|p| keep(&p.name, &none));
    c.ingresses.retain(|i| keep(&i.name, &none));
    // The Gateway API's objects refer to each other (a route's status is
    // its Gateway's word): they are kept whole, and `get` picks by name.
    c
}

/// The kind a `get` or `describe` names first, and the name given with it
/// (`pod/web`), or kubectl's error.
fn resource(f: &Flags, verb: &str, more: &str) -> Result<(&'static str, Option<String>), Output> {
    let Some(what) = f.args.first() else {
        return Err(Output::fail(1, format!("You must specify the type of resource to {verb}. Use \"kubectl api-resources\" for a complete list of supported resources.{more}\n")));
    };
    let (what, name) = match what.split_once('/') {
        Some((k, n)) => (k, Some(n.to_owned())),
        None => (what.as_str(), None),
    };
    match kind(what) {
        Some(k) => Ok((k, name)),
        None => Err(Output::fail(1, format!("error: the server doesn't have a resource type \"{what}\"\n"))),
    }
}

fn describe(cluster: &Cluster, f: &Flags) -> Output {
    let (kind, slash_name) = match resource(f, "describe", "") {
        Ok(r) => r,
        Err(o) => return o,
    };
    let ns = namespace(f);
    let names: Vec<String> = match slash_name {
        Some(n) => vec![n],
        None => f.args[1..].to_vec(),
    };
    let sel = match f.selector.as_deref().map(Selector::parse).transpose() {
        Ok(s) => s,
        Err(e) => return Output::fail(1, format!("error: {e}\n")),
    };
    // Without a name: every object of the kind in the namespace.
    let names = if names.is_empty() {
        let c = filtered(cluster, None, sel.as_ref());
        let scope = Scope::Namespace(ns.clone());
        match kind {
            "pods" => k::pods(&c, &scope).iter().map(|p| p.name.clone()).collect(),
            "services" | "endpoints" => k::services(&c, &scope).iter().map(|s| s.name.clone()).collect(),
            "networkpolicies" => {
                c.network_policies.iter().filter(|p| p.namespace == ns).map(|p| p.name.clone()).collect()
            }
            "ingresses" => c.ingresses.iter().filter(|i| i.namespace == ns).map(|i| i.name.clone()).collect(),
            "nodes" => c.nodes.iter().map(|n| n.name.clone()).collect(),
            _ if crate::policy::admin::is_kind(kind) => {
                crate::policy::admin::names(cluster, kind, None).into_iter().map(|p| p.name.clone()).collect()
            }
            _ => {
                let scope = if kind == "gatewayclasses" { Scope::All } else { scope };
                crate::gateway::view::names(&cluster.gateway_api, kind, &scope, None)
                    .into_iter()
                    .map(|(_, n)| n)
                    .collect()
            }
        }
    } else {
        names
    };
    let mut out = Output::default();
    for (i, name) in names.iter().enumerate() {
        let text = match kind {
            "pods" => cluster.pod(&ns, name).map(|p| super::describe::pod(cluster, p)),
            "services" => cluster.service(&ns, name).map(|s| super::describe::service(cluster, s)),
            "endpoints" => cluster.service(&ns, name).map(|s| super::describe::endpoints(cluster, s)),
            "networkpolicies" => cluster
                .network_policies
                .iter()
                .find(|p| p.namespace == ns && p.name == *name)
                .map(|p| super::describe::network_policy(cluster, p)),
            "ingresses" => cluster
                .ingresses
                .iter()
                .find(|x| x.namespace == ns && x.name == *name)
                .map(|x| super::describe::ingress(cluster, x)),
            "nodes" => cluster.node(name).map(|n| super::describe::node(cluster, n)),
            _ => {
                // The Gateway API's kinds are CRDs: kubectl describes them
                // with its generic describer.
                let scope = if kind == "gatewayclasses" { Scope::All } else { Scope::Namespace(ns.clone()) };
                let list = if crate::policy::admin::is_kind(kind) {
                    crate::policy::admin::list(cluster, kind, Some(name))
                } else {
                    crate::gateway::view::list(cluster, kind, &scope, Some(name))
                };
                list["items"].get(0).map(super::generic::describe)
            }
        };
        match text {
            Some(t) => {
                if i > 0 {
                    out.text.push_str("\n\n");
                }
                out.text.push_str(&t);
            }
            None => {
                // A CRD's kind is named with its group.
                let shown = if crate::policy::admin::is_kind(kind) {
                    format!("{kind}.{}", crate::policy::admin::GROUP)
                } else if crate::gateway::view::KINDS.iter().any(|(k, _)| *k == kind) {
                    format!("{kind}.{}", crate::gateway::GROUP)
                } else {
                    kind.to_owned()
                };
                out.text.push_str(&format!("Error from server (NotFound): {shown} \"{name}\" not found\n"));
                out.status = 1;
            }
        }
    }
    out
}

/// The pod `exec` and `logs` mean: `NAME`, or `pod/NAME`.
fn find_pod<'a>(cluster: &'a Cluster, ns: &str, name: &str) -> Result<&'a crate::Pod, Output> {
    let name = name.strip_prefix("pod/").or_else(|| name.strip_prefix("pods/")).unwrap_or(name);
    cluster
        .pod(ns, name)
        .ok_or_else(|| Output::fail(1, format!("Error from server (NotFound): pods \"{name}\" not found\n")))
}

/// The container a command runs in: `-c`, else the first (kubectl says
/// which it picked when there are several).
fn container(p: &crate::Pod, f: &Flags) -> Result<(String, Option<String>), Output> {
    let names: Vec<&str> = p.spec.containers.iter().map(|c| c.name.as_str()).collect();
    match &f.container {
        Some(c) if names.contains(&c.as_str()) => Ok((c.clone(), None)),
        Some(c) => Err(Output::fail(
            1,
            format!("error: unable to upgrade connection: container {c} not found in pod {}\n", p.name),
        )),
        None => {
            let first = names.first().copied().unwrap_or("").to_owned();
            let note =
                (names.len() > 1).then(|| format!("Defaulted container \"{first}\" out of: {}\n", names.join(", ")));
            Ok((first, note))
        }
    }
}

pub(super) const SHELLS: &[&str] = &["sh", "bash", "ash", "/bin/sh", "/bin/bash", "/bin/ash"];

fn exec(cluster: &Cluster, f: &Flags, seed: u64) -> (Output, Option<Where>) {
    let Some(name) = f.args.first() else {
        return (
            usage_error(
                "exec",
                "exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead".into(),
            )
            .with_status(1),
            None,
        );
    };
    if f.command.is_empty() {
        return (Output::fail(1, "error: you must specify at least one command for the container\n"), None);
    }
    let ns = namespace(f);
    let p = match find_pod(cluster, &ns, name) {
        Ok(p) => p,
        Err(o) => return (o, None),
    };
    if p.node.is_none() {
        return (
            Output::fail(1, format!("Error from server (BadRequest): pod {} does not have a host assigned\n", p.name)),
            None,
        );
    }
    if !p.is_running() {
        let c = p.spec.containers.first().map_or("", |c| c.name.as_str());
        return (
            Output::fail(1, format!("error: unable to upgrade connection: container not found (\"{c}\")\n")),
            None,
        );
    }
    let (container, note) = match container(p, f) {
        Ok(x) => x,
        Err(o) => return (o, None),
    };
    let mut note = note.unwrap_or_default();
    let image =
        p.spec.containers.iter().find(|c| c.name == container).and_then(|c| c.image.clone()).unwrap_or_default();
    let (tools, known) = pod::Toolset::of(&image);
    let oci = |note: &str, cmd: &str| {
        // The runtime's message when the binary is not in the image.
        Output::fail(
            1,
            format!(
                "{note}error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec \"{}\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"{cmd}\": executable file not found in $PATH: unknown\n",
                // The runtime's exec id: 64 hex digits (derived, not random).
                (0..4u8).map(|i| format!("{:016x}", crate::names::fnv64a(format!("{i}{seed}{cmd}").as_bytes()))).collect::<String>(),
            ),
        )
    };
    if SHELLS.contains(&f.command[0].as_str()) && f.command.len() == 1 {
        if !tools.has_shell(&f.command[0]) {
            return (oci(&note, &f.command[0]), None);
        }
        // An interactive shell needs -i and -t; without them the shell
        // reads nothing and exits.
        if f.interactive && f.tty {
            if !known {
                note.push_str(&format!(
                    "podpath: the image \"{image}\" is not in podpath's table of images; its tools are taken to be a Debian-based image's ({})\n",
                    tools.tools().join(", ")
                ));
            }
            return (Output::ok(note), Some(Where::Pod { pod: p.key(), container, tools }));
        }
        return (Output::ok(note), None);
    }
    let client = pod::Client::Pod { key: p.key(), tools };
    let mut out = pod::run(cluster, &client, &f.command, seed);
    out.text.insert_str(0, &note);
    if out.status == 127 {
        let traced = out.traced.take();
        return (Output { traced, ..oci(&note, &f.command[0]) }, None);
    }
    if out.status != 0 {
        out.text.push_str(&format!("command terminated with exit code {}\n", out.status));
    }
    (out, None)
}

impl Output {
    fn with_status(mut self, status: u8) -> Output {
        self.status = status;
        self
    }
}

fn debug(cluster: &Cluster, f: &Flags) -> (Output, Option<Where>) {
    let Some(target) = f.args.first() else {
        return (usage_error("debug", "one of -f or TYPE/NAME must be specified".into()), None);
    };
    let Some(node) = target.strip_prefix("node/").or_else(|| target.strip_prefix("nodes/")) else {
        return (
            Output::fail(1, "error: podpath debugs nodes only: kubectl debug node/NAME -it --image=busybox\n"),
            None,
        );
    };
    if cluster.node(node).is_none() {
        return (Output::fail(1, format!("Error from server (NotFound): nodes \"{node}\" not found\n")), None);
    }
    if f.image.is_none() {
        return (Output::fail(1, "error: --image is required when debugging a node\n"), None);
    }
    // kubectl names the pod node-debugger-NODE-xxxxx (five random
    // characters; here derived from the node's name).
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = crate::names::fnv32a(node.as_bytes());
    let suffix: String = (0..5)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u32) as usize] as char;
            h /= ALPHABET.len() as u32;
            c
        })
        .collect();
    let mut text =
        format!("Creating debugging pod node-debugger-{node}-{suffix} with container debugger on node {node}.\n");
    if !(f.interactive && f.tty) {
        return (Output::ok(text), None);
    }
    text.push_str("If you don't see a command prompt, try pressing enter.\n");
    (Output::ok(text), Some(Where::Node(node.to_owned())))
}

fn logs(cluster: &Cluster, f: &Flags, logged: &[(String, String)]) -> Output {
    let ns = namespace(f);
    let pods: Vec<&crate::Pod> = match (f.args.first(), &f.selector) {
        (Some(name), _) => match find_pod(cluster, &ns, name) {
            Ok(p) => vec![p],
            Err(o) => return o,
        },
        (None, Some(sel)) => {
            let sel = match Selector::parse(sel) {
                Ok(s) => s,
                Err(e) => return Output::fail(1, format!("error: {e}\n")),
            };
            let c = filtered(cluster, None, Some(&sel));
            let names: Vec<String> =
                k::pods(&c, &Scope::Namespace(ns.clone())).iter().map(|p| p.name.clone()).collect();
            if names.is_empty() {
                return Output::ok(format!("No resources found in {ns} namespace.\n"));
            }
            names.iter().filter_map(|n| cluster.pod(&ns, n)).collect()
        }
        (None, None) => {
            return Output::fail(1, "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'kubectl logs -h' for help and examples\n");
        }
    };
    let mut out = Output::default();
    for p in pods {
        if let Err(o) = container(p, f) {
            return o;
        }
        if !p.is_running() {
            let c = p.spec.containers.first().map_or("", |c| c.name.as_str());
            out.text.push_str(&format!("Error from server (BadRequest): container \"{c}\" in pod \"{}\" is waiting to start: ContainerCreating\n", p.name));
            out.status = 1;
            continue;
        }
        let key = p.key();
        let lines: Vec<&str> = logged.iter().filter(|(k, _)| *k == key).map(|(_, l)| l.as_str()).collect();
        // With a selector kubectl shows the last 10 lines of each pod.
        let tail = f.tail.or(f.selector.as_ref().map(|_| 10)).unwrap_or(usize::MAX);
        for l in &lines[lines.len().saturating_sub(tail)..] {
            out.text.push_str(l);
            out.text.push('\n');
        }
    }
    out
}

/// Completions for the words after `kubectl`.
pub(super) fn complete(names: &super::Names, args: &[String], partial: &str) -> Vec<String> {
    let ns =
        args.windows(2).find(|w| w[0] == "-n" || w[0] == "--namespace").map_or("default".to_owned(), |w| w[1].clone());
    let positional: Vec<&String> = {
        let mut v = Vec::new();
        let mut skip = false;
        for a in args {
            if skip {
                skip = false;
                continue;
            }
            if ["-n", "--namespace", "-o", "--output", "-l", "--selector", "-c", "--container", "--image"]
                .contains(&a.as_str())
            {
                skip = true;
                continue;
            }
            if a == "--" {
                break;
            }
            if !a.starts_with('-') {
                v.push(a);
            }
        }
        v
    };
    if args.last().is_some_and(|a| a == "-n" || a == "--namespace") {
        return names.namespaces.clone();
    }
    if args.last().is_some_and(|a| a == "-o" || a == "--output") {
        return ["wide", "yaml", "json", "name"].map(String::from).to_vec();
    }
    let pods = || names.in_namespace("pods", &ns);
    match positional.as_slice() {
        [] => SUBCOMMANDS.iter().map(|s| s.to_string()).collect(),
        [sub] if *sub == "exec" || *sub == "logs" => pods(),
        [sub] if *sub == "debug" => names.nodes.iter().map(|n| format!("node/{n}")).collect(),
        [sub] if *sub == "get" || *sub == "describe" => {
            if let Some((k, _)) = partial.split_once('/') {
                return names
                    .in_namespace(kind(k).unwrap_or(""), &ns)
                    .into_iter()
                    .map(|n| format!("{k}/{n}"))
                    .collect();
            }
            KINDS.iter().map(|(k, _)| k.to_string()).collect()
        }
        [sub, k] if *sub == "get" || *sub == "describe" => names.in_namespace(kind(k).unwrap_or(""), &ns),
        [sub, _] if *sub == "exec" => {
            if args.iter().any(|a| a == "--") {
                pod::TOOLS.iter().map(|s| s.to_string()).collect()
            } else {
                vec!["--".to_owned()]
            }
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_as_kubectl_reads_them() {
        let s = Selector::parse("app=web,tier in (a, b),!legacy,env!=prod,track").unwrap();
        assert_eq!(s.to_string(), "app=web,tier in (a,b),!legacy,env!=prod,track");
        assert!(Selector::parse("a=(").is_ok_and(|s| s.requirements.len() == 1));
        assert!(Selector::parse("a b").is_err());
    }
}
