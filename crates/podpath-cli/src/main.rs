//! `podpath`: the simulated cluster on the command line.
//!
//! A thin shell over podpath-core: read the `-f` inputs, simulate, print what
//! the core rendered. Each subcommand is a module of `cmd/` holding its flags
//! and its `run`; this file is the command table and the exit codes, which
//! are a contract (see the README): 0 success, 1 the input cannot be used,
//! 2 bad usage.

mod cmd;
mod common;
mod input;
mod json;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cmd::{convert, dns, exec, get, lesson, matrix, net, rules, trace};
use common::{InputArgs, Ran};

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
    Get(get::GetArgs),
    /// Validates the input and prints every diagnostic; exits 1 on any error
    Lint(InputArgs),
    /// Prints a node's service-proxy rules as the real tool prints them
    Rules(rules::RulesArgs),
    /// Follows the first packet of a connection hop by hop
    Trace(trace::TraceArgs),
    /// The connectivity truth table under the NetworkPolicies
    Matrix(matrix::MatrixArgs),
    /// A node's (or a pod's) network as `ip addr`, `ip route`, `ip neigh` or `bridge fdb` print it
    Net(net::NetArgs),
    /// Writes a trace's packets, request and reply, as a pcap file
    Pcap(trace::PcapArgs),
    /// Resolves a name as a pod's resolver and the cluster's CoreDNS would
    Dns(dns::DnsArgs),
    /// Runs a tool in a pod (ping, nslookup, dig, curl, wget, nc, ip, cat, hostname)
    /// or on a node (node/NAME: iptables-save, nft, ipvsadm, ip, bridge, conntrack)
    Exec(exec::ExecArgs),
    /// Lessons: `lesson check FILE [--solution FILE | --reference]`
    #[command(subcommand)]
    Lesson(lesson::LessonCommand),
    /// Converts objects to their successors: `convert ingress-to-gateway -f …`
    #[command(subcommand)]
    Convert(convert::ConvertCommand),
}

fn run(command: &Command) -> Ran {
    match command {
        Command::Get(args) => get::run(args),
        Command::Lint(args) => cmd::lint::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Matrix(args) => matrix::run(args),
        Command::Net(args) => net::run(args),
        Command::Pcap(args) => trace::pcap(args),
        Command::Dns(args) => dns::run(args),
        Command::Exec(args) => exec::run(args),
        Command::Lesson(command) => lesson::run(command),
        Command::Convert(command) => convert::run(command),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(&cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("podpath: {}", f.message);
            ExitCode::from(if f.usage { 2 } else { 1 })
        }
    }
}
