//! What the tests that drive real tools share: finding a tool, running it,
//! and the one switch that skips them.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// A tool's full path: on PATH, or in the sbin directories a minimal PATH
/// leaves out (where Debian puts iptables).
pub fn tool(name: &str) -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file());
    found.map_or_else(|| name.to_owned(), |p| p.display().to_string())
}

/// Runs a command, with `stdin` written to it; its stdout, or what it said
/// on failure (with the input it was given).
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Result<String, String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if let Some(text) = stdin {
        child.stdin.take().expect("piped").write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            stdin.map(|s| format!("\ninput:\n{s}")).unwrap_or_default()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether the real tools are switched off (PODPATH_SKIP_REAL_TOOLS), said
/// on stderr so a skipped run is visible. Never under CI: there a test
/// that does not run must not pass, so `what` must run.
pub fn skipped(what: &str) -> bool {
    let skip = std::env::var_os("PODPATH_SKIP_REAL_TOOLS").is_some();
    assert!(!(skip && std::env::var_os("CI").is_some()), "PODPATH_SKIP_REAL_TOOLS is set under CI: {what} must run");
    if skip {
        eprintln!("skipped: PODPATH_SKIP_REAL_TOOLS is set");
    }
    skip
}
