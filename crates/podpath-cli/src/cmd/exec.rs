//! `podpath exec`: the page's shell, one command, in a pod or on a node.

use clap::Args;
use podpath_core::shell::{words::quote, Shell};

use crate::common::{out, report, InputArgs, Ran};

#[derive(Args, Debug)]
pub struct ExecArgs {
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

/// The exit status is the tool's (kubectl's 1 when the pod does not
/// exist), as `kubectl exec` passes it on.
pub fn run(args: &ExecArgs) -> Ran {
    let (cluster, diags) = args.input.simulate()?;
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
    let ran = shell.run(&cluster, &line);
    // kubectl's own note about the exit code is for a terminal; the status says it.
    let note = format!("command terminated with exit code {}\n", ran.status);
    out(ran.text.strip_suffix(&note).unwrap_or(&ran.text));
    Ok(ran.status)
}
