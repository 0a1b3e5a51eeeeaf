//! Traces as data: every file in `tests/traces/` is one case — a header
//! naming the trace, the scenario, and the trace as `podpath trace` prints
//! it (the core's `Display` of a `Trace`). `UPDATE_EXPECT=1` rewrites the
//! expected part of every file; read the diff before committing it.
//!
//! ```text
//! # trace shop/frontend → svc/shop/api --port 80 --seed 1
//! # with: --cni calico --proxy-mode ipvs
//! # scenario: ../../../../web/scenarios/shop.yaml
//! apiVersion: v1            (optional YAML, appended to the scenario files)
//! …
//! # expect
//!  1. [kind-worker] shop/frontend-… eth0 — sent: …
//! ```
//!
//! The words after `# trace` are `podpath trace`'s `--from`, `--to` and
//! flags, with a few conveniences resolved against the built cluster:
//! `NS/NAME` that is no pod names the first pod of the workload NAME
//! (`NS/NAME@NODE`: its pod on that node), `svc/NS/NAME` a Service's
//! ClusterIP and `node/NAME` as a destination the node's InternalIP.
//! `# with:` takes the settings flags (`--cni`, `--proxy-mode`,
//! `--encapsulation`, `--nodes`); `# verdict: WORD` says how the trace must
//! end, checked before the rendering. Adding a case is adding a file.

mod common;

use std::path::{Path, PathBuf};

use podpath_core::cluster::{ClusterIp, Protocol};
use podpath_core::proxy::Dataplane;
use podpath_core::shell::words;
use podpath_core::trace::{self, target, From, HttpSpec, Request, To};
use podpath_core::{datapath, simulate_with, Cluster, Cni, Overrides, ProxyMode, Source};

/// One fixture file, read.
struct Case {
    trace: Vec<String>,
    with: Vec<String>,
    scenarios: Vec<PathBuf>,
    inline: String,
    expected: String,
    /// `# verdict: WORD`: what the trace must end with, whatever the
    /// rendering says (so regenerating the rendering cannot turn a way in
    /// into a drop unnoticed).
    verdict: Option<String>,
}

fn read_case(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (input, expected) = text.split_once("\n# expect\n").ok_or("no `# expect` line")?;
    let mut case = Case {
        trace: Vec::new(),
        with: Vec::new(),
        scenarios: Vec::new(),
        inline: String::new(),
        expected: expected.to_owned(),
        verdict: None,
    };
    let dir = path.parent().expect("a fixture is in a folder");
    let mut lines = input.lines().peekable();
    while let Some(line) = lines.next_if(|l| l.starts_with('#')) {
        let split = |rest: &str| words::split(rest).map_err(|e| format!("{line}: {e:?}"));
        if let Some(rest) = line.strip_prefix("# trace ") {
            case.trace = split(&rest.replacen('→', " ", 1))?;
        } else if let Some(rest) = line.strip_prefix("# with: ") {
            case.with = split(rest)?;
        } else if let Some(rest) = line.strip_prefix("# scenario: ") {
            case.scenarios.push(dir.join(rest.trim()));
        } else if let Some(rest) = line.strip_prefix("# verdict: ") {
            case.verdict = Some(rest.trim().to_owned());
        }
    }
    case.inline = lines.map(|l| format!("{l}\n")).collect();
    if case.trace.len() < 2 {
        return Err("no `# trace FROM → TO` line".into());
    }
    Ok(case)
}

/// The value after `flag` in `words`, if any.
fn flag<'a>(words: &'a [String], name: &str) -> Option<&'a str> {
    words.windows(2).find(|w| w[0] == name).map(|w| w[1].as_str())
}

fn build(case: &Case) -> Result<Cluster, String> {
    let mut sources = Vec::new();
    for s in &case.scenarios {
        let text = std::fs::read_to_string(s).map_err(|e| format!("{}: {e}", s.display()))?;
        let name = s.file_name().unwrap_or_default().to_string_lossy().into_owned();
        sources.push(Source::new(name, text));
    }
    if !case.inline.trim().is_empty() {
        sources.push(Source::new("fixture.yaml", case.inline.clone()));
    }
    let w = &case.with;
    let overrides = Overrides {
        cni: flag(w, "--cni").map(|c| Cni::parse(c).ok_or(format!("--cni {c}"))).transpose()?,
        proxy_mode: flag(w, "--proxy-mode")
            .map(|m| ProxyMode::parse(m).ok_or(format!("--proxy-mode {m}")))
            .transpose()?,
        nodes: flag(w, "--nodes").map(|n| n.parse().map_err(|_| format!("--nodes {n}"))).transpose()?,
        encapsulation: flag(w, "--encapsulation").map(str::to_owned),
    };
    Ok(simulate_with(&sources, &overrides).0)
}

/// `NS/NAME[@NODE]`: the pod of that name, else the first pod (by name) of
/// the workload NAME, on NODE when one is given.
fn pod_key(cluster: &Cluster, word: &str) -> Option<(String, String)> {
    let (key, node) = word.split_once('@').map_or((word, None), |(k, n)| (k, Some(n)));
    let (ns, name) = key.split_once('/')?;
    let on = |p: &&podpath_core::Pod| node.is_none_or(|n| p.node.as_deref() == Some(n));
    let pod = cluster.pod(ns, name).filter(on).or_else(|| {
        cluster
            .pods_sorted()
            .into_iter()
            .filter(|p| p.namespace == ns)
            .filter(on)
            .find(|p| p.owner.as_ref().is_some_and(|o| o.workload() == name) || (node.is_some() && p.name == name))
    })?;
    Some((pod.namespace.clone(), pod.name.clone()))
}

fn source(cluster: &Cluster, word: &str) -> Result<From, String> {
    if word.contains('/') && !word.starts_with("node/") {
        let (namespace, name) = pod_key(cluster, word).ok_or(format!("{word}: no such pod or workload"))?;
        return Ok(From::Pod { namespace, name });
    }
    target::parse_from(word)
}

fn destination(cluster: &Cluster, word: &str) -> Result<target::Destination, String> {
    let plain = |to| target::Destination { to, port: None, http: None };
    if let Some(key) = word.strip_prefix("svc/") {
        let (ns, name) = key.split_once('/').ok_or(format!("{word}: svc/NS/NAME"))?;
        return match cluster.service(ns, name).map(|s| &s.cluster_ip) {
            Some(ClusterIp::Ip(ip)) => Ok(plain(To::Ip(*ip))),
            _ => Err(format!("{word}: no Service with a ClusterIP")),
        };
    }
    if let Some(name) = word.strip_prefix("node/") {
        let ip = cluster.node(name).and_then(|n| n.internal_ip).ok_or(format!("{word}: no such node"))?;
        return Ok(plain(To::Ip(ip)));
    }
    if !word.contains("://") && word.contains('/') {
        let (namespace, name) = pod_key(cluster, word).ok_or(format!("{word}: no such pod or workload"))?;
        return Ok(plain(To::Pod { namespace, name }));
    }
    target::parse_to(word)
}

fn run(case: &Case) -> Result<String, String> {
    let cluster = build(case)?;
    Ok(match traced(&cluster, case)? {
        Ok(t) => match &case.verdict {
            Some(v) if v != t.verdict.as_str() => {
                return Err(format!("the verdict must be {v}, the trace says {}: {}", t.verdict.as_str(), t.reason))
            }
            _ => t.to_string(),
        },
        Err(e) => format!("error: {e}\n"),
    })
}

/// The fixture's trace on its cluster.
fn traced(cluster: &Cluster, case: &Case) -> Result<Result<trace::Trace, trace::TraceError>, String> {
    let w = &case.trace;
    let from = source(cluster, &w[0])?;
    let to = destination(cluster, &w[1])?;
    let number = |name: &str, default: u64| {
        flag(w, name).map_or(Ok(default), |v| v.parse::<u64>().map_err(|_| format!("{name} {v}")))
    };
    let protocol = flag(w, "--protocol").unwrap_or("tcp");
    let req = Request {
        from,
        to: to.to,
        port: to.port.map_or_else(|| number("--port", 80).map(|p| p as u16), Ok)?,
        protocol: Protocol::from_name(protocol).ok_or(format!("--protocol {protocol}"))?,
        node: flag(w, "--node").map(str::to_owned),
        seed: number("--seed", 0)?,
    };
    let headers: Vec<(String, String)> = w
        .windows(2)
        .filter(|p| p[0] == "-H")
        .filter_map(|p| p[1].split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect();
    let t = match to.http {
        Some(spec) => {
            let method = flag(w, "-X").unwrap_or("GET").to_owned();
            trace::trace_http(cluster, &req, &HttpSpec { method, headers, ..spec })
        }
        None => trace::trace(cluster, &req),
    };
    Ok(t)
}

#[test]
fn every_trace_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/traces");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/traces exists")
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "trace"))
        .collect();
    podpath_core::order::sort(&mut files);
    assert!(files.len() >= 50, "the fixtures are there: {}", files.len());
    let update = common::updating();
    let mut failures = Vec::new();
    for path in &files {
        let outcome = read_case(path).and_then(|c| run(&c).map(|got| (c, got)));
        match outcome {
            Err(e) => failures.push(format!("{}: {e}", path.display())),
            Ok((case, got)) if got != case.expected => {
                if update {
                    let text = std::fs::read_to_string(path).expect("read above");
                    let head = text.split_once("\n# expect\n").expect("read above").0;
                    std::fs::write(path, format!("{head}\n# expect\n{got}")).expect("writable");
                } else {
                    failures.push(common::diff(path, &case.expected, &got));
                }
            }
            Ok(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What a node's own tools print: the service proxy's dump in every view,
/// its `iptables-save` (with the CNI plugin's rules), `nft list ruleset`,
/// and `ip
/// addr|route|neigh` and `bridge fdb` of the host and of each pod.
fn dumps(cluster: &Cluster, node: &str) -> String {
    let dataplane = Dataplane::build(cluster, node, cluster.settings.proxy_mode);
    let mut text = dataplane.render();
    text += &dataplane.render_view("all").unwrap_or_default();
    // The node's iptables-save: the proxy's rules with the CNI plugin's.
    let mut shell = podpath_core::shell::Shell::new();
    shell.run(cluster, &format!("kubectl debug node/{node} -it --image=busybox"));
    text += &shell.run(cluster, "iptables-save").text;
    // The plugin's own nftables table (kindnetd's NetworkPolicy queue).
    text += &shell.run(cluster, "nft list ruleset").text;
    let network = datapath::build(cluster);
    if let Some(n) = network.node(node) {
        for ns in std::iter::once(&n.host).chain(n.pods.values()) {
            text += &(ns.ip_addr() + &ns.ip_route() + &ns.ip_neigh() + &ns.bridge_fdb());
        }
    }
    text
}

/// Where a quoted line is printed other than in the node's dumps, if
/// anywhere yet: the conntrack entry is the trace's own (`conntrack -L`
/// lists the traces a session ran); an ingress controller quotes its configuration. Cilium's
/// tunnel map and reverse-NAT map have no tool on the node to print them
/// yet (`cilium-dbg bpf tunnel list`, `bpf lb list --revnat`): these are
/// the known gaps, named so that no other hop joins them unnoticed.
fn quoted_elsewhere(t: &trace::Trace, h: &trace::Hop) -> bool {
    let at = h.at.to_string();
    match h.action.as_str() {
        "un-NAT" if at == "conntrack" => {
            // An HTTP trace's legs each have their entry.
            std::iter::once(t).chain(&t.legs).any(|l| l.conntrack.as_ref().map(ToString::to_string) == h.rule)
        }
        "un-NAT" => at == "bpf rev-NAT",
        "encapsulated" => at.starts_with("cilium_"),
        "proxied" | "answered" => t.http.is_some(),
        _ => false,
    }
}

/// Whether a line of a dump is what a hop quotes: the line itself, or one
/// element of an nft set or map, which nft prints after `elements = {`,
/// comma-separated, one per line.
fn quotes(line: &str, rule: &str) -> bool {
    let (line, rule) = (line.trim(), rule.trim());
    let element = line.strip_prefix("elements = { ").unwrap_or(line);
    let element = element.strip_suffix(" }").or_else(|| element.strip_suffix(',')).unwrap_or(element);
    line == rule || element == rule
}

/// A hop quotes the line that acted as the node's tools print it, so the
/// dump never disagrees with the trace: every quoted line of every
/// fixture is a line of its node's dumps.
#[test]
fn every_quoted_line_is_in_the_nodes_dump() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/traces");
    let mut missing = Vec::new();
    let mut quoted = 0;
    for path in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
        let case = read_case(&path).unwrap();
        let cluster = build(&case).unwrap();
        let Ok(Ok(t)) = traced(&cluster, &case) else { continue };
        for h in t.hops.iter().chain(&t.reply) {
            let (Some(rule), Some(node)) = (&h.rule, &h.node) else { continue };
            quoted += 1;
            let dump = dumps(&cluster, node);
            if !dump.lines().any(|l| quotes(l, rule)) && !quoted_elsewhere(&t, h) {
                missing.push(format!("{}: [{node}] {} {}: {rule}", path.display(), h.at, h.action.as_str()));
            }
        }
    }
    assert!(quoted > 300, "{quoted} quoted lines");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
