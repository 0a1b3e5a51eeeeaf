//! Which tools a container has, from its image: the same command is a
//! different program (or none) in different images, and learners paste
//! commands written for one of them. The table:
//!
//! | image | tools |
//! |---|---|
//! | `busybox`, `alpine`, any `*alpine*` tag (`nginx:1.27-alpine`) | BusyBox applets: `ping`, `traceroute`, `nslookup`, `wget`, `nc`, `ip`, `cat`, `hostname`; the shell is `sh` (ash), prompt `/ # ` |
//! | `nicolaka/netshoot`, `ubuntu`, `debian`, `nginx` | the full set: iputils `ping`, BIND `nslookup` and `dig`, `curl`, `wget`, OpenBSD `nc`, iproute2 `ip`; `sh` and `bash` |
//! | `curlimages/curl` | `curl` only |
//! | `gcr.io/distroless/…`, `scratch`, `pause` | nothing, not even a shell: the runtime's "executable file not found" |
//! | anything else | taken as the full set, with a note when a shell is opened |
//!
//! Registry, path prefix, tag and digest are read off the reference
//! (`docker.io/library/alpine:3.20@sha256:…` is `alpine`).

use super::TOOLS;

/// The tools an image ships.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum Toolset {
    /// BusyBox's applets, with BusyBox's options and messages.
    BusyBox,
    /// A Debian-style userland with the usual network tools installed.
    #[default]
    Full,
    /// curl and nothing else.
    Curl,
    /// No shell and no tools.
    Bare,
}

/// The BusyBox applets podpath runs.
const BUSYBOX: &[&str] = &["ping", "traceroute", "nslookup", "wget", "nc", "ip", "cat", "hostname"];

impl Toolset {
    /// The toolset of `image`, and whether the table names it (an image it
    /// does not name is taken as [`Toolset::Full`]).
    pub fn of(image: &str) -> (Toolset, bool) {
        let reference = image.split('@').next().unwrap_or(image);
        let (path, tag) = match reference.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, t),
            _ => (reference, "latest"),
        };
        let name = path.rsplit('/').next().unwrap_or(path);
        if path.contains("distroless") || matches!(name, "scratch" | "pause") {
            (Toolset::Bare, true)
        } else if matches!(name, "busybox" | "alpine") || tag.contains("alpine") {
            (Toolset::BusyBox, true)
        } else if path.ends_with("curlimages/curl") {
            (Toolset::Curl, true)
        } else if matches!(name, "netshoot" | "ubuntu" | "debian" | "nginx") {
            (Toolset::Full, true)
        } else {
            (Toolset::Full, false)
        }
    }

    /// Whether `tool` is in the image.
    pub fn has(self, tool: &str) -> bool {
        match self {
            Toolset::BusyBox => BUSYBOX.contains(&tool),
            Toolset::Full => TOOLS.contains(&tool),
            Toolset::Curl => tool == "curl",
            Toolset::Bare => false,
        }
    }

    /// The tools podpath runs there, for `help`.
    pub fn tools(self) -> Vec<&'static str> {
        TOOLS.iter().copied().filter(|t| self.has(t)).collect()
    }

    /// Whether `shell` (as `kubectl exec … -- SHELL` names it) is there.
    pub fn has_shell(self, shell: &str) -> bool {
        let name = shell.rsplit('/').next().unwrap_or(shell);
        match self {
            Toolset::BusyBox | Toolset::Curl => matches!(name, "sh" | "ash"),
            Toolset::Full => matches!(name, "sh" | "bash"),
            Toolset::Bare => false,
        }
    }

    /// The shell's words for a command it cannot find: ash's
    /// `sh: curl: not found`, bash's `bash: curl: command not found`.
    pub fn not_found(self, cmd: &str) -> String {
        match self {
            Toolset::BusyBox | Toolset::Curl => format!("sh: {cmd}: not found\n"),
            Toolset::Full | Toolset::Bare => format!("bash: {cmd}: command not found\n"),
        }
    }

    /// The shell's prompt in pod `name`: BusyBox's ash as root in `/`
    /// (`/ # `), curl's image as its `curl_user` in the home directory
    /// (`~ $ `), bash's `root@NAME:/# ` elsewhere.
    pub fn prompt(self, name: &str) -> String {
        match self {
            Toolset::BusyBox => "/ # ".to_owned(),
            Toolset::Curl => "~ $ ".to_owned(),
            Toolset::Full | Toolset::Bare => format!("root@{name}:/# "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Toolset;

    #[test]
    fn references_are_read_to_their_name_and_tag() {
        for (image, want) in [
            ("alpine", Toolset::BusyBox),
            ("docker.io/library/alpine:3.20@sha256:0123", Toolset::BusyBox),
            ("busybox:1.36", Toolset::BusyBox),
            ("nginx:1.27-alpine", Toolset::BusyBox),
            ("nginx", Toolset::Full),
            ("nicolaka/netshoot:v0.13", Toolset::Full),
            ("curlimages/curl:8.11.1", Toolset::Curl),
            ("gcr.io/distroless/static-debian12:nonroot", Toolset::Bare),
            ("registry.k8s.io/pause:3.10", Toolset::Bare),
            ("localhost:5000/busybox", Toolset::BusyBox),
        ] {
            assert_eq!(Toolset::of(image), (want, true), "{image}");
        }
        assert_eq!(Toolset::of("ghcr.io/example/api:2.3"), (Toolset::Full, false));
    }

    #[test]
    fn busybox_has_wget_and_nc_but_no_curl() {
        assert!(Toolset::BusyBox.has("wget") && Toolset::BusyBox.has("nc"));
        assert!(!Toolset::BusyBox.has("curl") && !Toolset::BusyBox.has("dig"));
        assert_eq!(Toolset::BusyBox.not_found("curl"), "sh: curl: not found\n");
        assert!(!Toolset::BusyBox.has_shell("bash") && Toolset::BusyBox.has_shell("/bin/sh"));
        assert!(Toolset::Curl.has("curl") && !Toolset::Curl.has("ping"));
        assert!(!Toolset::Bare.has_shell("sh"));
    }
}
