//! The emulated shell: what the page's terminal and `podpath exec` run.
//!
//! A [`Shell`] is somewhere — on the learner's workstation with `kubectl`,
//! inside a pod (`kubectl exec -it POD -- sh`), or on a node (`kubectl
//! debug node/NAME -it --image=…`) — and runs one line at a time: split as a
//! shell splits it ([`words`]), then given to the tool, which prints what
//! the real one prints. Tools that send packets run a real trace and hand
//! it back ([`Traced`]) so the page animates what the command did.
//!
//! The tools and whose output they follow: `kubectl` (get, describe, exec,
//! debug, logs); in pods Debian's tools — iputils `ping`, BIND's `nslookup`
//! and `dig`, `curl` 8, BusyBox `wget`, OpenBSD `nc`, iproute2 `ip`, `cat`,
//! `hostname`; on nodes `iptables-save`, `nft`, `ipvsadm`, `ip`,
//! `bridge`, `conntrack`.

pub mod words;

mod describe;
mod generic;
mod i2gw;
mod kubectl;
mod node;
mod pod;

pub use describe::tabwrite;
pub use pod::Toolset;

use std::collections::BTreeMap;

use crate::trace::Trace;
use crate::Cluster;

/// Where the shell is.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum Where {
    #[default]
    /// The learner's machine, with kubectl pointed at the cluster.
    Workstation,
    /// Inside a pod's container (`NAMESPACE/NAME`), whose image ships
    /// `tools`.
    Pod { pod: String, container: String, tools: pod::Toolset },
    /// A root shell on a node, in its host namespaces.
    Node(String),
}

impl Where {
    /// The prompt there: `$ ` on the workstation, root's prompt in a pod
    /// or on a node (the host name is the pod's or the node's name).
    pub fn prompt(&self) -> String {
        match self {
            Where::Workstation => "$ ".to_owned(),
            Where::Pod { pod, tools, .. } => tools.prompt(pod.split_once('/').map_or(pod.as_str(), |(_, n)| n)),
            Where::Node(n) => format!("root@{n}:/# "),
        }
    }
}

/// A trace a command ran: what the page animates.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Traced {
    /// The source and destination in the words `podpath trace` takes.
    pub from: String,
    pub to: String,
    pub port: u16,
    pub protocol: crate::cluster::Protocol,
    /// The seed the trace ran with: tracing the same words with it gives
    /// the same path (the same endpoint picked).
    pub seed: u64,
    pub trace: Trace,
    /// A DNS tool's whole lookup (`trace` is its last query).
    pub lookup: Option<Box<crate::trace::Resolution>>,
}

/// What a command printed, its exit status, and the trace it ran.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Output {
    /// Standard output and standard error, in the order a terminal shows them.
    pub text: String,
    pub status: u8,
    pub traced: Option<Box<Traced>>,
    /// The screen is to be cleared (`clear`).
    pub clear: bool,
}

impl Output {
    pub(crate) fn ok(text: impl Into<String>) -> Output {
        Output { text: text.into(), ..Output::default() }
    }

    pub(crate) fn fail(status: u8, text: impl Into<String>) -> Output {
        Output { text: text.into(), status, ..Output::default() }
    }
}

/// The most lines of history kept, as bash's default `HISTSIZE`.
pub const HISTORY: usize = 500;

/// A shell session.
#[derive(Clone, Debug)]
pub struct Shell {
    at: Where,
    history: Vec<String>,
    /// Seeds the traces' choices, one per command, so a session replays
    /// the same; also the session's clock (see [`Shell::clock`]).
    runs: u64,
    /// The traces the session's commands ran, newest last (for conntrack).
    recent: Vec<Trace>,
    /// What the servers logged: (pod, line).
    logs: Vec<(String, String)>,
    /// The pods `kubectl run` created, as manifests: the cluster is built
    /// with them besides the input (see [`Shell::objects`]).
    created: Vec<(String, String)>,
    /// Set when `created` changed: the caller rebuilds the cluster, then
    /// calls [`Shell::resume`].
    rebuild: bool,
    /// A `kubectl run -i` waiting for its pod.
    pending: Option<kubectl::Plan>,
    /// The pod `kubectl run --rm -it` opened the shell in: deleted on exit.
    remove_on_exit: Option<String>,
}

/// How many traces the session keeps for conntrack.
const RECENT: usize = 20;

/// Log lines kept for the whole session (all pods together); the oldest
/// go first, as a kubelet rotates container logs. A page left open for a
/// day of workshops stays the same size.
pub const LOG_LINES: usize = 10_000;

impl Default for Shell {
    fn default() -> Shell {
        Shell::new()
    }
}

impl Shell {
    pub fn new() -> Shell {
        Shell {
            at: Where::Workstation,
            history: Vec::new(),
            runs: 0,
            recent: Vec::new(),
            logs: Vec::new(),
            created: Vec::new(),
            rebuild: false,
            pending: None,
            remove_on_exit: None,
        }
    }

    pub fn at(&self) -> &Where {
        &self.at
    }

    /// The objects this session created (`kubectl run`), as one more
    /// input to build the cluster with; `None` when there are none.
    pub fn objects(&self) -> Option<crate::Source> {
        (!self.created.is_empty()).then(|| {
            let text: Vec<&str> = self.created.iter().map(|(_, m)| m.as_str()).collect();
            crate::Source::new("kubectl run", text.join("\n---\n"))
        })
    }

    /// Whether the last line changed [`Shell::objects`]: the caller builds
    /// the cluster again and calls [`Shell::resume`] with it.
    pub fn take_rebuild(&mut self) -> bool {
        std::mem::take(&mut self.rebuild)
    }

    /// Finishes a `kubectl run -i` once the cluster has its pod: opens the
    /// shell in it, or runs its command (and deletes it with `--rm`).
    pub fn resume(&mut self, cluster: &Cluster) -> Output {
        let Some(plan) = self.pending.take() else { return Output::default() };
        let key = format!("{}/{}", plan.namespace, plan.name);
        let running = cluster.pod(&plan.namespace, &plan.name).filter(|p| p.is_running());
        let Some(pod) = running else {
            // kubectl waits --pod-running-timeout (1m) for it.
            let mut out = Output::fail(1, "error: timed out waiting for the condition\n");
            if plan.rm {
                out.text.push_str(&self.delete(&key));
            }
            return out;
        };
        let image = pod.spec.containers.first().and_then(|c| c.image.clone()).unwrap_or_default();
        let (tools, _) = pod::Toolset::of(&image);
        let opens_shell = match plan.command.as_slice() {
            [] => tools.has_shell("sh"),
            [one] => kubectl::SHELLS.contains(&one.as_str()),
            _ => false,
        };
        if opens_shell {
            let shell = plan.command.first().map_or("sh", String::as_str);
            if !tools.has_shell(shell) {
                // The container cannot start: the runtime's words.
                let mut out = Output::fail(1, format!("pod {key} terminated (StartError)\nfailed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: \"{shell}\": executable file not found in $PATH: unknown\n"));
                if plan.rm {
                    out.text.push_str(&self.delete(&key));
                }
                return out;
            }
            if !plan.tty {
                return Output::default();
            }
            self.at = Where::Pod { pod: key.clone(), container: plan.name.clone(), tools };
            self.remove_on_exit = plan.rm.then_some(key);
            return Output::ok("If you don't see a command prompt, try pressing enter.\n");
        }
        self.runs += 1;
        let client = pod::Client::Pod { key: key.clone(), tools };
        let mut out = pod::run(cluster, &client, &plan.command, self.runs);
        if out.status != 0 {
            out.text.push_str(&format!("pod {key} terminated (Error)\n"));
        }
        if plan.rm {
            out.text.push_str(&self.delete(&key));
        }
        out
    }

    /// Deletes a pod `kubectl run` created, in kubectl's words.
    fn delete(&mut self, key: &str) -> String {
        self.created.retain(|(k, _)| k != key);
        self.rebuild = true;
        let name = key.split_once('/').map_or(key, |(_, n)| n);
        format!("pod \"{name}\" deleted\n")
    }

    /// The prompt: `$ ` on the workstation, root's prompt in a pod or on
    /// a node (the host name is the pod's or the node's name).
    pub fn prompt(&self) -> String {
        self.at.prompt()
    }

    /// The lines run so far, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Runs one line.
    pub fn run(&mut self, cluster: &Cluster, line: &str) -> Output {
        let out = self.run_line(cluster, line);
        if let Some(t) = &out.traced {
            self.log(cluster, &t.trace);
            for res in t.trace.dns.iter().chain(&t.lookup) {
                self.log_queries(cluster, res);
            }
            self.recent.push(t.trace.clone());
            if self.recent.len() > RECENT {
                self.recent.remove(0);
            }
            let over = self.logs.len().saturating_sub(LOG_LINES);
            self.logs.drain(..over);
        }
        out
    }

    /// The session's clock, for log lines: podpath reads no real clock, so
    /// a session starts at 2026-01-01 00:00:00 UTC and each command takes
    /// a second.
    fn clock(&self) -> String {
        let s = self.runs;
        format!("01/Jan/2026:{:02}:{:02}:{:02} +0000", (s / 3600) % 24, (s / 60) % 60, s % 60)
    }

    /// A request a backend served, in its access log: nginx's `combined`
    /// format for nginx images, with the client address as the server saw
    /// it (after any SNAT — the lesson of externalTrafficPolicy).
    fn log(&mut self, cluster: &Cluster, t: &Trace) {
        let (Some(http), Some(pod)) = (&t.http, &t.destination_pod) else { return };
        if t.verdict != crate::trace::Verdict::Delivered {
            return;
        }
        let Some(p) = pod.split_once('/').and_then(|(ns, n)| cluster.pod(ns, n)) else { return };
        if !p.spec.containers.iter().any(|c| c.image.as_deref().is_some_and(|i| i.contains("nginx"))) {
            return;
        }
        let seen = t.hops.last().map(|h| h.packet.src.to_string()).unwrap_or_default();
        let got = http.upstream_request.as_deref().unwrap_or(&http.request);
        let request_line = got.split("\r\n").next().unwrap_or("");
        let agent = got.split("\r\n").find_map(|l| l.strip_prefix("User-Agent: ")).unwrap_or("-");
        // A HEAD is answered without a body: nginx logs 0 bytes.
        let body = if request_line.starts_with("HEAD ") {
            0
        } else {
            http.response.split_once("\r\n\r\n").map_or(0, |(_, b)| b.len())
        };
        let line = format!("{seen} - - [{}] \"{request_line}\" {} {body} \"-\" \"{agent}\"", self.clock(), http.status);
        self.logs.push((pod.clone(), line));
    }

    /// CoreDNS's `log` plugin, when the Corefile has it: a line per query
    /// the pod answered — client, id, the question, the rcode and flags,
    /// the sizes (the time taken is modelled, podpath has no clock).
    fn log_queries(&mut self, cluster: &Cluster, res: &crate::trace::Resolution) {
        let dns = crate::dns::Dns::of(cluster);
        for (a, wire) in res.lookup.attempts.iter().zip(&res.wires) {
            let (Some(r), Some(pod), Some(p)) = (&a.response, &wire.destination_pod, &wire.payload) else { continue };
            if !dns.logs_queries(&a.name) || p.request.len() < 4 {
                continue;
            }
            let client = wire.hops.last().map(|h| format!("{}:{}", h.packet.src, h.packet.sport)).unwrap_or_default();
            let id = u16::from_be_bytes([p.request[0], p.request[1]]);
            let flags = if r.authoritative { "qr,aa,rd" } else { "qr,rd,ra" };
            let micros = 40 + 10 * wire.hops.iter().filter(|h| h.at.is_somewhere()).count();
            let line = format!(
                "[INFO] {client} - {id} \"{} IN {} udp {} false 512\" {} {flags} {} 0.{micros:06}s",
                res.lookup.qtype,
                a.name,
                p.request.len(),
                r.rcode.as_str(),
                p.response.len()
            );
            self.logs.push((pod.clone(), line));
        }
    }

    /// The lines a pod's server logged this session.
    pub fn logs_of(&self, pod: &str) -> Vec<&str> {
        self.logs.iter().filter(|(p, _)| p == pod).map(|(_, l)| l.as_str()).collect()
    }

    fn run_line(&mut self, cluster: &Cluster, line: &str) -> Output {
        let line = line.trim();
        if line.is_empty() {
            return Output::default();
        }
        if self.history.last().map(String::as_str) != Some(line) {
            self.history.push(line.to_owned());
            if self.history.len() > HISTORY {
                self.history.remove(0);
            }
        }
        let args = match words::split(line) {
            Ok(a) => a,
            Err(e) => return Output::fail(2, format!("bash: {e}\nbash: syntax error: unexpected end of file\n")),
        };
        self.runs += 1;
        let seed = self.runs;
        let Some((cmd, rest)) = args.split_first() else { return Output::default() };
        match (cmd.as_str(), &self.at) {
            ("history", _) => Output::ok(
                self.history.iter().enumerate().map(|(i, l)| format!("{:>5}  {l}\n", i + 1)).collect::<String>(),
            ),
            ("clear", _) => Output { clear: true, ..Output::default() },
            ("exit" | "logout", Where::Workstation) => Output::default(),
            ("exit" | "logout", _) => {
                self.at = Where::Workstation;
                match self.remove_on_exit.take() {
                    Some(key) => Output::ok(self.delete(&key)),
                    None => Output::default(),
                }
            }
            ("help", _) => Output::ok(self.help()),
            ("kubectl" | "k", Where::Workstation) if rest.first().is_some_and(|s| s == "run") => {
                self.kubectl_run(cluster, &rest[1..])
            }
            ("ingress2gateway", Where::Workstation) => i2gw::run(cluster, rest),
            ("kubectl" | "k", Where::Workstation) => {
                let (out, enter) = kubectl::run(cluster, rest, seed, &self.logs);
                if let Some(at) = enter {
                    self.at = at;
                }
                out
            }
            (_, Where::Workstation) if pod::TOOLS.contains(&cmd.as_str()) => {
                // The workstation is outside the cluster: its curl reaches
                // what a client outside reaches.
                if cmd == "curl" {
                    return pod::run(cluster, &pod::Client::Outside, &args, seed);
                }
                Output::fail(
                    127,
                    format!("bash: {cmd}: command not found here; run it in a pod: kubectl exec -it POD -- {cmd} …\n"),
                )
            }
            (_, Where::Pod { pod, tools, .. }) => {
                let client = pod::Client::Pod { key: pod.clone(), tools: *tools };
                pod::run(cluster, &client, &args, seed)
            }
            (_, Where::Node(node)) => node::run(cluster, node, &args, &self.recent),
            (_, Where::Workstation) => Output::fail(127, format!("bash: {cmd}: command not found\n")),
        }
    }

    /// `kubectl run`: the pod joins the session's objects; with `-i` the
    /// rest happens in [`Shell::resume`], once the cluster has it.
    fn kubectl_run(&mut self, cluster: &Cluster, args: &[String]) -> Output {
        let plan = match kubectl::parse_flags("run", args).and_then(|f| kubectl::run_plan(cluster, &f)) {
            Ok(p) => p,
            Err(out) => return out,
        };
        self.created.push((format!("{}/{}", plan.namespace, plan.name), plan.manifest.clone()));
        self.rebuild = true;
        if !plan.attach {
            return Output::ok(format!("pod/{} created\n", plan.name));
        }
        self.pending = Some(plan);
        Output::default()
    }

    fn help(&self) -> String {
        match &self.at {
            Where::Workstation => "kubectl get|describe|logs  pods, services, endpoints, endpointslices, networkpolicies,\n                           ingresses, nodes, namespaces, gatewayclasses, gateways,\n                           httproutes, grpcroutes, referencegrants, cnp, anp, banp  (-n NS, -A, -l SELECTOR, -o wide|yaml|json)\nkubectl exec POD -- CMD    run a tool in a pod (-it … -- sh for a shell there)\nkubectl debug node/NAME -it --image=busybox   a root shell on a node\ncurl URL                   from outside the cluster\ningress2gateway print --providers=ingress-nginx   the Ingresses as Gateway API objects\nhistory, clear; Tab completes names; ↑/↓ walk the history\n".to_owned(),
            Where::Pod { tools, .. } => format!("in the pod: {}\nexit returns to kubectl\n", tools.tools().join(", ")),
            Where::Node(_) => format!("on the node: {}\nexit returns to kubectl\n", node::TOOLS.join(", ")),
        }
    }

    /// What may complete the line's last word: commands first, then
    /// kubectl's subcommands and kinds, and the names of pods, Services,
    /// nodes and namespaces where kubectl takes them. Sorted, without
    /// repeats; the line with one of them in place of its last word is the
    /// completed line.
    pub fn complete(&self, cluster: &Cluster, line: &str) -> Vec<String> {
        complete(&self.at, &Names::of(cluster), line)
    }
}

/// The names of a cluster's objects that completion offers, read once:
/// a shell's completion needs these, not the cluster (the page completes
/// on its main thread, where the cluster is not).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Names {
    pub namespaces: Vec<String>,
    pub nodes: Vec<String>,
    /// Per kind as kubectl names it in full (`pods`, `services`,
    /// `endpointslices`, `networkpolicies`, `ingresses`): `(namespace, name)`.
    pub objects: BTreeMap<String, Vec<(String, String)>>,
}

impl Names {
    pub fn of(cluster: &Cluster) -> Names {
        let mut objects: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut add = |kind: &str, items: Vec<(String, String)>| {
            objects.insert(kind.to_owned(), items);
        };
        add("pods", cluster.pods.iter().map(|p| (p.namespace.clone(), p.name.clone())).collect());
        add("services", cluster.services.iter().map(|s| (s.namespace.clone(), s.name.clone())).collect());
        add("endpointslices", cluster.endpoint_slices.iter().map(|s| (s.namespace.clone(), s.name.clone())).collect());
        add(
            "networkpolicies",
            cluster.network_policies.iter().map(|p| (p.namespace.clone(), p.name.clone())).collect(),
        );
        add("ingresses", cluster.ingresses.iter().map(|i| (i.namespace.clone(), i.name.clone())).collect());
        Names {
            namespaces: cluster.namespaces.iter().cloned().collect(),
            nodes: cluster.nodes.iter().map(|n| n.name.clone()).collect(),
            objects,
        }
    }

    /// The names of a kind's objects in a namespace (`nodes` and
    /// `namespaces` are cluster-wide).
    pub fn in_namespace(&self, kind: &str, ns: &str) -> Vec<String> {
        match kind {
            "nodes" => self.nodes.clone(),
            "namespaces" => self.namespaces.clone(),
            "endpoints" => self.in_namespace("services", ns),
            _ => self
                .objects
                .get(kind)
                .into_iter()
                .flatten()
                .filter(|(n, _)| n == ns)
                .map(|(_, name)| name.clone())
                .collect(),
        }
    }
}

/// [`Shell::complete`] for a shell at `at`, over a cluster's [`Names`].
pub fn complete(at: &Where, names: &Names, line: &str) -> Vec<String> {
    let ends_blank = line.is_empty() || line.ends_with([' ', '\t']);
    let mut args = words::split(line).unwrap_or_default();
    let partial = if ends_blank { String::new() } else { args.pop().unwrap_or_default() };
    let candidates: Vec<String> = match (args.first().map(String::as_str), at) {
        (None, Where::Workstation) => {
            ["kubectl", "curl", "ingress2gateway", "history", "clear", "help"].map(String::from).to_vec()
        }
        (None, Where::Pod { tools, .. }) => {
            tools.tools().iter().chain(&["exit", "history", "clear"]).map(|s| s.to_string()).collect()
        }
        (None, Where::Node(_)) => {
            node::TOOLS.iter().chain(&["exit", "history", "clear"]).map(|s| s.to_string()).collect()
        }
        (Some("kubectl" | "k"), Where::Workstation) => kubectl::complete(names, &args[1..], &partial),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = candidates.into_iter().filter(|c| c.starts_with(&partial)).collect();
    crate::order::sort(&mut out);
    out.dedup();
    out
}

#[cfg(test)]
mod tests;
