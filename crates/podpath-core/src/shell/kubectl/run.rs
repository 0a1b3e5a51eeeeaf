//! `kubectl run`: a pod made from the command line, as the
//! network-policy recipes start one (`kubectl run --rm -i -t
//! --image=alpine test -- sh`). kubectl's own checks and words
//! (pkg/cmd/run/run.go); the pod is the one the generator writes: one
//! container named after the pod, the label `run=NAME` unless `--labels`
//! gives others, the arguments after `--` as its args (its command with
//! `--command`).

use super::{namespace, usage_error, Flags};
use crate::shell::Output;
use crate::Cluster;

/// What `kubectl run` asked for, once checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::shell) struct Plan {
    pub namespace: String,
    pub name: String,
    /// The Pod, as JSON (YAML's subset, and no quoting to get wrong).
    pub manifest: String,
    /// `-i`: the terminal attaches to the container.
    pub attach: bool,
    pub tty: bool,
    pub rm: bool,
    /// What runs in the container: the arguments after `--`.
    pub command: Vec<String>,
}

pub(in crate::shell) fn plan(cluster: &Cluster, f: &Flags) -> Result<Plan, Output> {
    let Some(name) = f.args.first().cloned() else {
        return Err(usage_error("run", "NAME is required for run".into()));
    };
    let Some(image) = f.image.clone().filter(|i| !i.is_empty()) else {
        return Err(Output::fail(1, "error: required flag(s) \"image\" not set\n"));
    };
    if f.rm && !f.interactive {
        return Err(usage_error("run", "--rm should only be used for attached containers".into()));
    }
    let ns = namespace(f);
    if cluster.pod(&ns, &name).is_some() {
        return Err(Output::fail(1, format!("Error from server (AlreadyExists): pods \"{name}\" already exists\n")));
    }
    let mut labels = serde_json::Map::new();
    match &f.labels {
        Some(list) => {
            for pair in list.split(',').filter(|p| !p.is_empty()) {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err(Output::fail(1, format!("error: invalid label spec: {pair}\n")));
                };
                labels.insert(k.to_owned(), v.into());
            }
        }
        None => {
            labels.insert("run".into(), name.clone().into());
        }
    }
    let mut container = serde_json::json!({"name": name, "image": image});
    if !f.command.is_empty() {
        container[if f.command_flag { "command" } else { "args" }] = f.command.clone().into();
    }
    if f.interactive {
        container["stdin"] = true.into();
        container["stdinOnce"] = true.into();
        container["tty"] = f.tty.into();
    }
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [container], "restartPolicy": f.restart.clone().unwrap_or_else(|| "Always".into())},
    });
    Ok(Plan {
        namespace: ns,
        name,
        manifest: pod.to_string(),
        attach: f.interactive,
        tty: f.tty,
        rm: f.rm,
        command: f.command.clone(),
    })
}
