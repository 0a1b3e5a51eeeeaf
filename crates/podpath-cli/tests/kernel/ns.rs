//! Network namespaces for the lab: made and filled with iproute2, entered
//! by a thread (setns) to open sockets or write `/proc/sys` there.

use std::fs::File;
use std::process::{Command, Stdio};

pub use crate::common::{run, tool};

/// A network namespace, deleted when dropped.
#[derive(Debug)]
pub struct Ns {
    pub name: String,
}

impl Ns {
    pub fn new(name: String) -> Result<Ns, String> {
        // A namespace left over by a run that was killed goes first.
        let _ = Command::new(tool("ip")).args(["netns", "del", &name]).stderr(Stdio::null()).status();
        run(Command::new(tool("ip")).args(["netns", "add", &name]), None)?;
        Ok(Ns { name })
    }

    /// `ip -n NS -batch -`: many iproute2 commands in one process.
    pub fn ip(&self, commands: &[String]) -> Result<(), String> {
        if commands.is_empty() {
            return Ok(());
        }
        let text = commands.join("\n") + "\n";
        run(Command::new(tool("ip")).args(["-n", &self.name, "-batch", "-"]), Some(&text)).map(drop)
    }

    /// `bridge -n NS -batch -`.
    pub fn bridge(&self, commands: &[String]) -> Result<(), String> {
        if commands.is_empty() {
            return Ok(());
        }
        let text = commands.join("\n") + "\n";
        run(Command::new(tool("bridge")).args(["-n", &self.name, "-batch", "-"]), Some(&text)).map(drop)
    }

    /// A tool run inside the namespace.
    pub fn exec(&self, argv: &[&str], stdin: Option<&str>) -> Result<String, String> {
        let (name, args) = argv.split_first().expect("a command");
        run(Command::new(tool("ip")).args(["netns", "exec", &self.name]).arg(tool(name)).args(args), stdin)
    }

    /// The path a thread opens to enter the namespace.
    pub fn path(&self) -> String {
        format!("/var/run/netns/{}", self.name)
    }

    /// Writes kernel settings (`net.ipv4.conf.IFACE.proxy_arp`, …) as the
    /// namespace sees them.
    pub fn sysctls(&self, settings: &[(String, String)]) -> Result<(), String> {
        let settings = settings.to_vec();
        in_netns(&self.path(), move || {
            for (key, value) in &settings {
                std::fs::write(proc_path(key), value).map_err(|e| format!("sysctl {key}={value}: {e}"))?;
            }
            Ok(())
        })
        .join()
        .map_err(|_| "a sysctl thread panicked".to_owned())?
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new(tool("ip")).args(["netns", "del", &self.name]).status();
    }
}

/// `net.ipv4.conf.flannel.1.rp_filter` → `/proc/sys/net/ipv4/conf/flannel.1/rp_filter`:
/// the interface is everything between the group and the setting.
fn proc_path(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() > 5 && matches!(parts[2], "conf" | "neigh") {
        let iface = parts[3..parts.len() - 1].join(".");
        format!("/proc/sys/{}/{}/{}/{iface}/{}", parts[0], parts[1], parts[2], parts[parts.len() - 1])
    } else {
        format!("/proc/sys/{}", parts.join("/"))
    }
}

/// Runs `f` on a thread that has entered the namespace at `path`: the
/// sockets it opens live there.
pub fn in_netns<T: Send + 'static>(path: &str, f: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
    let path = path.to_owned();
    std::thread::spawn(move || {
        let file = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap_or_else(|e| panic!("setns {path}: {e}"));
        f()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sysctl_keys_name_their_files() {
        assert_eq!(super::proc_path("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
        assert_eq!(
            super::proc_path("net.ipv4.conf.flannel.1.rp_filter"),
            "/proc/sys/net/ipv4/conf/flannel.1/rp_filter"
        );
        assert_eq!(
            super::proc_path("net.ipv4.neigh.cali1234.proxy_delay"),
            "/proc/sys/net/ipv4/neigh/cali1234/proxy_delay"
        );
    }
}
