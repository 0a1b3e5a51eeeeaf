//! `podpath`: the simulated cluster on the command line.
//!
//! A thin shell over podpath-core: read the `-f` inputs, simulate, print what
//! the core rendered. Exit codes are a contract (see the README): 0 success,
//! 1 the input cannot be used, 2 bad usage.

mod input;

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use podpath_core::kubectl::{self, Scope};
use podpath_core::{trace, Cni, Diagnostic, Overrides, ProxyMode};

#[derive(Parser, Debug)]
#[command(
    name = "podpath",
    version,
    about = "A Kubernetes networking simulator: what your manifests do to packets, without a cluster"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lists objects of the simulated cluster, as `kubectl get` prints them
    Get(GetArgs),
    /// Validates the input and prints every diagnostic; exits 1 on any error
    Lint(InputArgs),
    /// Prints a node's service-proxy rules as the real tool prints them
    Rules(RulesArgs),
    /// Follows the first packet of a connection hop by hop
    Trace(TraceArgs),
    /// The connectivity truth table under the NetworkPolicies
    Matrix(MatrixArgs),
    /// A node's (or a pod's) network as `ip addr`, `ip route`, `ip neigh` or `bridge fdb` print it
    Net(NetArgs),
    /// Writes a trace's packets, request and reply, as a pcap file
    Pcap(PcapArgs),
    /// Resolves a name as a pod's resolver and the cluster's CoreDNS would
    Dns(DnsArgs),
    /// Runs a tool in a pod (ping, nslookup, dig, curl, wget, nc, ip, cat, hostname)
    /// or on a node (node/NAME: iptables-save, nft, ipvsadm, ip, bridge, conntrack)
    Exec(ExecArgs),
    /// Lessons: `lesson check FILE [--solution FILE | --reference]`
    #[command(subcommand)]
    Lesson(LessonCommand),
}

#[derive(Subcommand, Debug)]
enum LessonCommand {
    /// Evaluates a lesson's goals on its starting scenario, a solution
    /// file, or (--reference) its own reference solution; exit 1 when a
    /// goal is not met
    Check(LessonCheckArgs),
}

#[derive(Args, Debug)]
struct LessonCheckArgs {
    /// The lesson (YAML)
    file: String,
    /// A scenario to check instead of the lesson's starting one
    #[arg(long, conflicts_with = "reference")]
    solution: Option<String>,
    /// Check the lesson's own reference solution
    #[arg(long)]
    reference: bool,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = TraceOutput::Text)]
    output: TraceOutput,
}

#[derive(Args, Debug)]
struct ExecArgs {
    /// NS/POD, POD (in --namespace), or node/NAME
    target: String,
    /// The pod's namespace when TARGET is a bare name
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// The container (default: the pod's first)
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// The command and its arguments, after `--`
    #[arg(last = true, required = true)]
    command: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args, Debug)]
struct DnsArgs {
    /// The name to resolve (an IP address asks for its PTR record)
    name: String,
    /// The record type
    #[arg(long = "type", default_value = "A", value_parser = ["A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "NS", "SOA"], ignore_case = true)]
    rtype: String,
    /// Resolve from this pod (its resolv.conf, its queries through the cluster's network and policies)
    #[arg(long, conflicts_with = "namespace")]
    from: Option<String>,
    /// Resolve as a ClusterFirst pod in this namespace would (default: "default")
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Seed for the random choices (which CoreDNS pod kube-proxy picks)
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = TraceOutput::Text)]
    output: TraceOutput,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args, Debug)]
struct PcapArgs {
    /// The file to write
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    file: String,
    #[command(flatten)]
    trace: TraceArgs,
}

#[derive(Args, Debug)]
struct NetArgs {
    /// What to print
    #[arg(value_parser = ["addr", "route", "neigh", "fdb"], default_value = "route")]
    what: String,
    /// The node whose host network namespace to show
    #[arg(long, required_unless_present = "pod")]
    node: Option<String>,
    /// A pod (NS/NAME) whose network namespace to show instead
    #[arg(long)]
    pod: Option<String>,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args, Debug)]
struct MatrixArgs {
    /// The servers' port
    #[arg(long, default_value_t = 80)]
    port: u16,
    /// tcp, udp or sctp
    #[arg(long, default_value = "tcp", value_parser = ["tcp", "udp", "sctp"])]
    protocol: String,
    /// Only the pods of this namespace
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = TraceOutput::Text)]
    output: TraceOutput,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args, Debug)]
struct TraceArgs {
    /// NS/POD, node/NAME, external, or an IP address
    #[arg(long)]
    from: String,
    /// An IP address, NS/POD, a DNS name, or a URL http://HOST[:PORT]/PATH
    #[arg(long)]
    to: String,
    /// Destination port
    #[arg(long, default_value_t = 80)]
    port: u16,
    /// tcp, udp, sctp, or icmp (an echo request, as ping sends)
    #[arg(long, default_value = "tcp", value_parser = ["tcp", "udp", "sctp", "icmp"])]
    protocol: String,
    /// For IP and external sources: the node whose network stack handles the packet first
    #[arg(long)]
    node: Option<String>,
    /// Seed for the random choices (kube-proxy's endpoint pick)
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// For URL destinations: an extra request header, as curl takes it ("Name: value")
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// For URL destinations: the request method
    #[arg(short = 'X', long = "request", default_value = "GET")]
    method: String,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = TraceOutput::Text)]
    output: TraceOutput,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TraceOutput {
    Text,
    Json,
}

#[derive(Args, Debug)]
struct RulesArgs {
    /// The node whose rules to print
    #[arg(long)]
    node: String,
    /// The proxy mode (default: the cluster's)
    #[arg(long, value_parser = parse_proxy_mode)]
    mode: Option<ProxyMode>,
    /// Another view of the same state: addr (ip addr show kube-ipvs0), ipset
    /// (ipset save), iptables (iptables-save), all
    #[arg(long, value_parser = ["addr", "ipset", "iptables", "all"])]
    show: Option<String>,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args, Debug)]
struct InputArgs {
    /// A YAML or JSON file, a directory of them, or - for standard input (repeatable)
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    files: Vec<String>,
    /// The CNI plugin, overriding the scenario's Cluster object
    #[arg(long, value_parser = parse_cni)]
    cni: Option<Cni>,
    /// The service proxy mode, overriding the scenario's Cluster object
    #[arg(long = "proxy-mode", value_parser = parse_proxy_mode)]
    proxy_mode: Option<ProxyMode>,
    /// How many nodes to generate when the input has no Node objects
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(podpath_core::settings::MAX_NODES)))]
    nodes: Option<u32>,
    /// The plugin's encapsulation (calico: IPIP, VXLAN, IPIPCrossSubnet, VXLANCrossSubnet, None;
    /// flannel: vxlan, host-gw; cilium: vxlan, geneve, native; weave: fastdp, sleeve)
    #[arg(long)]
    encapsulation: Option<String>,
}

#[derive(Args, Debug)]
struct GetArgs {
    /// What to list
    kind: GetKind,
    /// The namespace (default: "default")
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    namespace: Option<String>,
    /// List across all namespaces
    #[arg(short = 'A', long = "all-namespaces")]
    all_namespaces: bool,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum)]
    output: Option<Output>,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum GetKind {
    #[value(alias = "node", alias = "no")]
    Nodes,
    #[value(alias = "pod", alias = "po")]
    Pods,
    #[value(alias = "service", alias = "svc")]
    Services,
    #[value(alias = "endpointslice")]
    Endpointslices,
    #[value(alias = "networkpolicy", alias = "netpol")]
    Networkpolicies,
    #[value(alias = "ingress", alias = "ing")]
    Ingresses,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Wide,
    Json,
    Yaml,
}

fn parse_cni(s: &str) -> Result<Cni, String> {
    Cni::parse(s).ok_or_else(|| format!("unknown CNI plugin \"{s}\" (one of: calico, flannel, weave, cilium)"))
}

fn parse_proxy_mode(s: &str) -> Result<ProxyMode, String> {
    ProxyMode::parse(s).ok_or_else(|| format!("unknown proxy mode \"{s}\" (one of: iptables, ipvs, nftables, ebpf)"))
}

impl InputArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            cni: self.cni,
            proxy_mode: self.proxy_mode,
            nodes: self.nodes,
            encapsulation: self.encapsulation.clone(),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("podpath: {}", f.message);
            ExitCode::from(if f.usage { 2 } else { 1 })
        }
    }
}

/// Why a command could not run: the input could not be used (exit 1), or
/// the command line asks for something that makes no sense (exit 2).
struct Failure {
    message: String,
    usage: bool,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), usage: true }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message, usage: false }
    }
}

/// Runs a command; `Ok` carries the exit code, `Err` a message for a failure
/// to read the input at all.
fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Get(args) => get(&args),
        Command::Lint(args) => lint(&args),
        Command::Rules(args) => rules(&args),
        Command::Trace(args) => trace(&args),
        Command::Matrix(args) => matrix(&args),
        Command::Net(args) => net(&args),
        Command::Pcap(args) => pcap(&args),
        Command::Dns(args) => dns(&args),
        Command::Exec(args) => exec(&args),
        Command::Lesson(LessonCommand::Check(args)) => lesson_check(&args),
    }
}

/// `podpath lesson check`: each goal met or not, with what was found.
fn lesson_check(args: &LessonCheckArgs) -> Result<u8, Failure> {
    use podpath_core::lesson;
    let read = |path: &str| std::fs::read_to_string(path).map_err(|e| Failure::from(format!("{path}: {e}")));
    let lesson = lesson::parse(&args.file, &read(&args.file)?).map_err(|e| Failure::from(e.to_string()))?;
    let (name, text) = match (&args.solution, args.reference) {
        (Some(path), _) => (path.clone(), read(path)?),
        (None, true) => (format!("{} (reference solution)", args.file), lesson.spec.solution.clone()),
        (None, false) => (format!("{} (starting scenario)", args.file), lesson.spec.scenario.clone()),
    };
    let outcomes = lesson::check_text(&lesson, &name, &text);
    let met = outcomes.iter().filter(|o| o.passed).count();
    match args.output {
        TraceOutput::Json => {
            let goals: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|o| serde_json::json!({"goal": o.goal, "passed": o.passed, "detail": o.detail}))
                .collect();
            let v = serde_json::json!({"lesson": lesson.metadata.name, "checked": name, "passed": met == outcomes.len(), "goals": goals});
            println!("{}", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?);
        }
        TraceOutput::Text => {
            println!("{}: {} — checking {name}", lesson.metadata.name, lesson.spec.title);
            for (o, g) in outcomes.iter().zip(&lesson.spec.goals) {
                println!("{} {} — {}", if o.passed { "✓" } else { "✗" }, o.goal, o.detail);
                if !o.passed && !g.hint.is_empty() {
                    println!("  hint: {}", g.hint);
                }
            }
            println!("{met} of {} goals met", outcomes.len());
        }
    }
    Ok(if met == outcomes.len() { 0 } else { 1 })
}

/// `podpath exec`: the page's shell, one command. The exit status is the
/// tool's (kubectl's 1 when the pod does not exist), as `kubectl exec`
/// passes it on.
fn exec(args: &ExecArgs) -> Result<u8, Failure> {
    use podpath_core::shell::{words::quote, Shell};
    let (cluster, diags) = simulate(&args.input)?;
    report(&diags);
    let command: Vec<String> = args.command.iter().map(|w| quote(w)).collect();
    let mut shell = Shell::new();
    let line = match args.target.strip_prefix("node/") {
        Some(node) => {
            let enter = shell.run(&cluster, &format!("kubectl debug node/{} -it --image=busybox", quote(node)));
            if enter.status != 0 {
                eprint!("{}", enter.text);
                return Ok(enter.status);
            }
            command.join(" ")
        }
        None => {
            let (ns, pod) = args.target.split_once('/').unwrap_or((args.namespace.as_str(), args.target.as_str()));
            let container = args.container.as_ref().map(|c| format!(" -c {}", quote(c))).unwrap_or_default();
            format!("kubectl exec -n {} {}{container} -- {}", quote(ns), quote(pod), command.join(" "))
        }
    };
    let out = shell.run(&cluster, &line);
    // kubectl's own note about the exit code is for a terminal; the status says it.
    let text =
        out.text.strip_suffix(&format!("command terminated with exit code {}\n", out.status)).unwrap_or(&out.text);
    print!("{text}");
    Ok(out.status)
}

fn pcap(args: &PcapArgs) -> Result<u8, Failure> {
    let (t, code) = run_trace(&args.trace)?;
    let bytes = podpath_core::pcap::write(&t);
    std::fs::write(&args.file, bytes).map_err(|e| format!("{}: {e}", args.file))?;
    eprintln!("{}: {} — {}", args.file, t.verdict.as_str(), t.reason);
    Ok(code)
}

fn net(args: &NetArgs) -> Result<u8, Failure> {
    let (cluster, diags) = simulate(&args.input)?;
    let code = report(&diags);
    let network = podpath_core::datapath::build(&cluster);
    let ns = match (&args.pod, &args.node) {
        (Some(pod), _) => network
            .nodes
            .iter()
            .find_map(|n| n.pods.get(pod))
            .ok_or_else(|| format!("pods \"{pod}\" not found, or it has no network of its own"))?,
        (None, Some(node)) => &network.node(node).ok_or_else(|| format!("nodes \"{node}\" not found"))?.host,
        (None, None) => return Err(Failure::usage("--node or --pod is needed")),
    };
    print!(
        "{}",
        match args.what.as_str() {
            "addr" => ns.ip_addr(),
            "fdb" => ns.bridge_fdb(),
            "neigh" => ns.ip_neigh(),
            _ => ns.ip_route(),
        }
    );
    Ok(code)
}

fn matrix(args: &MatrixArgs) -> Result<u8, Failure> {
    let (cluster, diags) = simulate(&args.input)?;
    let code = report(&diags);
    let protocol = podpath_core::cluster::Protocol::parse(Some(&args.protocol.to_ascii_uppercase()))
        .ok_or_else(|| Failure::usage(format!("--protocol {}: expected tcp, udp or sctp", args.protocol)))?;
    podpath_core::policy::matrix::check_size(&cluster, args.namespace.as_deref()).map_err(Failure::from)?;
    let engine = podpath_core::policy::Engine::new(&cluster);
    let m = podpath_core::policy::matrix::matrix(&engine, args.port, protocol, args.namespace.as_deref());
    match args.output {
        TraceOutput::Json => {
            let value = serde_json::json!({
                "port": m.port,
                "protocol": args.protocol,
                "pods": m.pods,
                "allowed": m.allowed,
            });
            println!("{}", serde_json::to_string(&value).map_err(|e| e.to_string())?);
        }
        TraceOutput::Text => print!("{}", matrix_text(&m, &engine)),
    }
    Ok(code)
}

/// The table as the upstream netpol tests print reachability: `.` for a
/// connection that passes, `X` for one that is blocked.
fn matrix_text(m: &podpath_core::policy::matrix::Matrix, engine: &podpath_core::policy::Engine<'_>) -> String {
    let mut out = String::new();
    if !engine.enforcement.enforced && !engine.cluster.network_policies.is_empty() {
        out.push_str(&format!(
            "note: {} does not enforce NetworkPolicy; every connection passes whatever the policies say\n",
            engine.enforcement.cni
        ));
    }
    let width = m.pods.iter().map(String::len).max().unwrap_or(0);
    out.push_str(&format!("{:width$}", ""));
    for (j, _) in m.pods.iter().enumerate() {
        out.push_str(&format!(" {:>2}", j + 1));
    }
    out.push('\n');
    for (i, src) in m.pods.iter().enumerate() {
        out.push_str(&format!("{src:width$}"));
        for ok in &m.allowed[i] {
            out.push_str(if *ok { "  ." } else { "  X" });
        }
        out.push_str(&format!("  {}\n", i + 1));
    }
    let blocked: usize = m.allowed.iter().flatten().filter(|a| !**a).count();
    out.push_str(&format!(
        "{} pods, {} blocked of {} pairs, port {}/{}\n",
        m.pods.len(),
        blocked,
        m.pods.len() * m.pods.len(),
        m.port,
        m.protocol.as_str()
    ));
    out
}

fn simulate(input: &InputArgs) -> Result<(podpath_core::Cluster, Vec<Diagnostic>), Failure> {
    let sources = input::read_all(&input.files)?;
    let (cluster, diags) = podpath_core::simulate_with(&sources, &input.overrides());
    // The flag's value is checked against the plugin the cluster ended up
    // with: the Cluster object or --cni decides which words are valid.
    if let Some(e) = &input.encapsulation {
        podpath_core::settings::Encapsulation::parse(cluster.settings.cni, e).map_err(|m| {
            Failure::usage(format!("--encapsulation {e}: {}", m.trim_start_matches("spec.encapsulation: ")))
        })?;
    }
    Ok((cluster, diags))
}

/// Prints diagnostics on stderr; returns 1 when any is an error.
fn report(diags: &[Diagnostic]) -> u8 {
    let mut err = std::io::stderr().lock();
    for d in diags {
        let _ = writeln!(err, "{d}");
    }
    u8::from(diags.iter().any(Diagnostic::is_error))
}

fn get(args: &GetArgs) -> Result<u8, Failure> {
    let (cluster, diags) = simulate(&args.input)?;
    let code = report(&diags);
    let scope = if args.all_namespaces {
        Scope::All
    } else {
        Scope::Namespace(args.namespace.clone().unwrap_or_else(|| "default".into()))
    };
    let output = args.output.unwrap_or(Output::Text);
    let value = match args.kind {
        GetKind::Pods => kubectl::pods_list(&cluster, &scope),
        GetKind::Nodes => kubectl::nodes_list(&cluster),
        GetKind::Services => kubectl::services_list(&cluster, &scope),
        GetKind::Endpointslices => kubectl::endpoint_slices_list(&cluster, &scope),
        GetKind::Networkpolicies => kubectl::network_policies_list(&cluster, &scope),
        GetKind::Ingresses => kubectl::ingresses_list(&cluster, &scope),
    };
    let text = match output {
        Output::Json => serde_json::to_string_pretty(&value).map_err(|e| e.to_string())? + "\n",
        Output::Yaml => podpath_core::kubectl::to_yaml(&value),
        Output::Text | Output::Wide => {
            let wide = output == Output::Wide;
            let empty = value["items"].as_array().is_none_or(Vec::is_empty);
            if empty {
                eprintln!("{}", kubectl::no_resources(&scope));
                String::new()
            } else {
                match args.kind {
                    GetKind::Pods => kubectl::pods_table(&cluster, &scope, wide),
                    GetKind::Nodes => kubectl::nodes_table(&cluster, wide),
                    GetKind::Services => kubectl::services_table(&cluster, &scope, wide),
                    GetKind::Endpointslices => kubectl::endpoint_slices_table(&cluster, &scope),
                    GetKind::Networkpolicies => kubectl::network_policies_table(&cluster, &scope),
                    GetKind::Ingresses => kubectl::ingresses_table(&cluster, &scope),
                }
            }
        }
    };
    print!("{text}");
    Ok(code)
}

fn lint(args: &InputArgs) -> Result<u8, Failure> {
    let (cluster, diags) = simulate(args)?;
    // What the API server would refuse is an error here, though other
    // commands simulate it with a warning.
    let diags: Vec<Diagnostic> = diags.iter().map(Diagnostic::strict).collect();
    let code = report(&diags);
    for s in &cluster.skipped {
        eprintln!(
            "{}: note: skipped {} {} ({}): podpath does not model this kind",
            s.origin, s.kind, s.name, s.api_version
        );
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    eprintln!("{errors} error(s), {warnings} warning(s), {} object(s) skipped", cluster.skipped.len());
    Ok(code)
}

fn rules(args: &RulesArgs) -> Result<u8, Failure> {
    let (cluster, diags) = simulate(&args.input)?;
    let code = report(&diags);
    if cluster.node(&args.node).is_none() {
        let known: Vec<&str> = cluster.nodes.iter().map(|n| n.name.as_str()).collect();
        return Err(format!("nodes \"{}\" not found (nodes: {})", args.node, known.join(", ")).into());
    }
    let mode = args.mode.unwrap_or(cluster.settings.proxy_mode);
    let dataplane = podpath_core::proxy::Dataplane::build(&cluster, &args.node, mode);
    match &args.show {
        None => print!("{}", dataplane.render()),
        Some(view) => match dataplane.render_view(view) {
            Some(text) => print!("{text}"),
            None => return Err(Failure::usage(format!("--show {view}: {mode} mode has no such view"))),
        },
    }
    Ok(code)
}

fn parse_from(s: &str) -> Result<trace::From, Failure> {
    trace::target::parse_from(s).map_err(|e| Failure::usage(format!("--from {e}")))
}

fn parse_to(s: &str) -> Result<(trace::To, Option<u16>, Option<trace::HttpSpec>), Failure> {
    let d = trace::target::parse_to(s).map_err(|e| Failure::usage(format!("--to {e}")))?;
    Ok((d.to, d.port, d.http))
}

/// Simulates the input and traces what the flags ask for.
fn run_trace(args: &TraceArgs) -> Result<(trace::Trace, u8), Failure> {
    let from = parse_from(&args.from)?;
    let (to, url_port, spec) = parse_to(&args.to)?;
    let mut headers = Vec::new();
    for h in &args.headers {
        let (k, v) = h.split_once(':').ok_or_else(|| Failure::usage(format!("-H {h}: expected \"Name: value\"")))?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    if spec.is_none() && (!headers.is_empty() || args.method != "GET") {
        return Err(Failure::usage("-H and -X need a URL destination (http://HOST/PATH)"));
    }
    let (cluster, diags) = simulate(&args.input)?;
    let code = report(&diags);
    let req = trace::Request {
        from,
        to,
        port: url_port.unwrap_or(args.port),
        protocol: podpath_core::cluster::Protocol::from_name(&args.protocol)
            .ok_or_else(|| Failure::usage(format!("--protocol {}", args.protocol)))?,
        node: args.node.clone(),
        seed: args.seed,
    };
    let t = match spec {
        Some(spec) => {
            let spec = trace::HttpSpec { method: args.method.clone(), headers, ..spec };
            trace::trace_http(&cluster, &req, &spec)
        }
        None => trace::trace(&cluster, &req),
    };
    Ok((t.map_err(|e| e.to_string())?, code))
}

fn trace(args: &TraceArgs) -> Result<u8, Failure> {
    let (t, code) = run_trace(args)?;
    match args.output {
        TraceOutput::Json => {
            println!("{}", serde_json::to_string_pretty(&trace_json(&t)).map_err(|e| e.to_string())?)
        }
        TraceOutput::Text => print!("{t}"),
    }
    Ok(code)
}

fn hostport(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => format!("{v4}:{port}"),
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// The contract's JSON shape of a trace.
fn trace_json(t: &trace::Trace) -> serde_json::Value {
    use serde_json::json;
    let hop_json = |h: &trace::Hop| {
        json!({
            "node": h.node,
            "at": h.at.to_string(),
            "action": h.action.as_str(),
            "detail": h.detail,
            "rule": h.rule,
            "packet": {
                "src": hostport(h.packet.src, h.packet.sport),
                "dst": hostport(h.packet.dst, h.packet.dport),
                "protocol": h.packet.protocol.name(),
                "ttl": h.packet.ttl,
                "outer": h.packet.outer.as_ref().map(|o| json!({
                    "src": o.src.to_string(),
                    "dst": o.dst.to_string(),
                    "encap": o.encap.name(),
                })),
            },
        })
    };
    let hops: Vec<serde_json::Value> = t.hops.iter().map(hop_json).collect();
    let reply: Vec<serde_json::Value> = t.reply.iter().map(hop_json).collect();
    json!({
        "verdict": t.verdict.as_str(),
        "reason": t.reason,
        "service": {
            "frontend": t.service.frontend,
            "name": t.service.name,
            "candidates": t.service.candidates,
            "chosen": t.service.chosen,
            "snat": t.service.snat,
        },
        "destination": {
            "pod": t.destination_pod,
            "node": t.destination_node,
            "ip": t.destination_ip.to_string(),
            "port": t.destination_port,
        },
        "policy": policy_json(t),
        "hops": hops,
        "conntrack": t.conntrack.as_ref().map(ToString::to_string),
        "reply": reply,
        "dns": t.dns.as_ref().map(|r| resolution_json(r)),
        "http": t.http.as_ref().map(|h| json!({
            "status": h.status,
            "backend": h.backend,
            "ingress": h.ingress,
            "controller": h.controller,
            "rule": h.rule,
            "location": h.location,
            "reason": h.reason,
            "request": h.request,
            "response": h.response,
            "upstream_request": h.upstream_request,
        })),
    })
}

fn record_json(r: &podpath_core::dns::Record) -> serde_json::Value {
    serde_json::json!({"name": r.name, "type": r.rtype.as_str(), "ttl": r.ttl, "data": r.data})
}

/// A lookup as the contract's `podpath dns` prints it, plus each query's
/// fate on the wire.
fn resolution_json(r: &trace::Resolution) -> serde_json::Value {
    use serde_json::json;
    let last = r.lookup.last();
    let section = |f: fn(&podpath_core::dns::Response) -> &Vec<podpath_core::dns::Record>| {
        last.map(|l| f(l).iter().map(record_json).collect::<Vec<_>>()).unwrap_or_default()
    };
    json!({
        "name": r.name,
        "tried": r.lookup.attempts.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
        "rcode": if r.lookup.timed_out() { "TIMEOUT" } else { last.map_or("SERVFAIL", |l| l.rcode.as_str()) },
        "answers": section(|l| &l.answers),
        "authority": section(|l| &l.authority),
        "additional": section(|l| &l.additional),
        "resolv_conf": r.conf.render(),
        "queries": r.lookup.attempts.iter().zip(r.wires.iter().map(Some).chain(std::iter::repeat(None))).map(|(a, w)| json!({
            "name": a.name,
            "server": a.server.map(|s| s.to_string()),
            "rcode": a.response.as_ref().map(|x| x.rcode.as_str()),
            "answered_by": a.response.as_ref().map(|x| x.by.clone()),
            "verdict": w.map(|w| w.verdict.as_str()),
            "server_pod": w.and_then(|w| w.destination_pod.clone()),
        })).collect::<Vec<_>>(),
    })
}

fn dns(args: &DnsArgs) -> Result<u8, Failure> {
    use podpath_core::dns::{kubernetes::to_reverse, RType};
    let (cluster, diags) = simulate(&args.input)?;
    let code = report(&diags);
    let mut qtype = RType::parse(&args.rtype).ok_or_else(|| Failure::usage(format!("--type {}", args.rtype)))?;
    // An address asks for its name, as `dig -x` does.
    let name = match args.name.parse::<std::net::IpAddr>() {
        Ok(ip) => {
            qtype = RType::Ptr;
            to_reverse(ip)
        }
        Err(_) => args.name.clone(),
    };
    let res = match &args.from {
        Some(from) => {
            let from = parse_from(from)?;
            let req = trace::Request {
                from,
                to: trace::To::Name(name.clone()),
                port: 53,
                protocol: podpath_core::cluster::Protocol::Udp,
                node: None,
                seed: args.seed,
            };
            trace::resolve(&cluster, &req, &name, qtype).map_err(|e| e.to_string())?
        }
        None => {
            // A ClusterFirst pod in the namespace; its queries reach CoreDNS.
            let ns = args.namespace.clone().unwrap_or_else(|| "default".into());
            let conf = podpath_core::dns::resolver::cluster_first(&cluster, &ns);
            let server = podpath_core::dns::Dns::of(&cluster);
            let lookup = podpath_core::dns::resolver::lookup(&conf, &name, qtype, |_, q| {
                Some(server.answer(&cluster, q, qtype))
            });
            trace::Resolution { name: name.clone(), conf, lookup, wires: Vec::new() }
        }
    };
    match args.output {
        TraceOutput::Json => {
            println!("{}", serde_json::to_string_pretty(&resolution_json(&res)).map_err(|e| e.to_string())?)
        }
        TraceOutput::Text => print!("{}", dig_text(&res, qtype, args.seed)),
    }
    Ok(code)
}

/// A lookup for people: the queries tried, then the last response as dig
/// prints it.
fn dig_text(r: &trace::Resolution, qtype: podpath_core::dns::RType, seed: u64) -> String {
    use podpath_core::dns::show::{Dig, Tried};
    let why = r.wires.iter().map(|w| w.reason.clone()).collect();
    let mut out = Tried { lookup: &r.lookup, why }.to_string();
    let Some(last) = r.lookup.last() else {
        out.push_str(";; connection timed out; no servers could be reached\n");
        return out;
    };
    let qname = r.lookup.attempts.iter().rev().find(|a| a.response.is_some()).map_or("", |a| a.name.as_str());
    let id = podpath_core::dns::wire::query_id(qname, seed);
    out.push_str(&format!("\n{}", Dig { response: last, qname, qtype, id }));
    out
}

/// The contract's `policy` section: each side's verdict and the policies
/// behind it (`not-isolated` where no pod is involved).
fn policy_json(t: &trace::Trace) -> serde_json::Value {
    use serde_json::json;
    let side = |s: Option<&podpath_core::policy::Side>| match s {
        Some(s) => json!({
            "verdict": s.verdict.as_str(),
            "by": s.by,
            "rule": s.rule,
            "explanation": s.explanation,
            "reasons": s.reasons,
        }),
        None => json!({"verdict": "not-isolated", "by": []}),
    };
    json!({
        "egress": side(t.policy.as_ref().map(|d| &d.egress)),
        "ingress": side(t.policy.as_ref().map(|d| &d.ingress)),
    })
}
