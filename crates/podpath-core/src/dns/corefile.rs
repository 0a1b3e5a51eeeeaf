//! The Corefile, read the way CoreDNS reads it: server blocks (`ZONE:PORT
//! { … }`), each a list of plugin directives with arguments and an optional
//! block of their own. The plugins podpath answers with are typed
//! (`kubernetes`, `hosts`, `rewrite name`, `forward`); the rest are kept by
//! name, since they do not change an answer (`cache`, `errors`, `log`…).

use std::collections::BTreeMap;
use std::net::IpAddr;

/// One directive: its name, arguments, nested directives, and its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    pub block: Vec<Directive>,
    pub line: u32,
}

/// How the `kubernetes` plugin answers pod queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PodMode {
    /// No pod records (the plugin's default).
    #[default]
    Disabled,
    /// Any dashed address answers, pod or not (kubeadm's Corefile).
    Insecure,
    /// Only addresses a pod in that namespace has.
    Verified,
}

/// The `kubernetes` plugin's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kubernetes {
    /// The zones it is authoritative for, lower-case, ending in a dot.
    pub zones: Vec<String>,
    pub pods: PodMode,
    pub ttl: u32,
    /// `ignore empty_service`: Services without ready endpoints answer
    /// NXDOMAIN.
    pub ignore_empty_service: bool,
    /// Only these namespaces are exposed; empty means all.
    pub namespaces: Vec<String>,
    /// Zones whose NXDOMAIN goes on to the next plugin; `Some(empty)` is all.
    pub fallthrough: Option<Vec<String>>,
    /// `endpoint_pod_names`: a headless endpoint without a hostname is
    /// named after its pod rather than its dashed address.
    pub endpoint_pod_names: bool,
}

/// `rewrite name …`: the query name is changed before the plugins that
/// answer see it (and changed back in the answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewrite {
    /// `exact`, `prefix`, `suffix` or `substring`.
    pub how: String,
    pub from: String,
    pub to: String,
}

/// `hosts`: fixed names, each with its addresses.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Hosts {
    pub entries: BTreeMap<String, Vec<IpAddr>>,
    pub ttl: u32,
    pub fallthrough: bool,
}

/// One server block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// Lower-case zones ending in a dot (`.` for the root).
    pub zones: Vec<String>,
    pub port: u16,
    pub kubernetes: Option<Kubernetes>,
    pub hosts: Option<Hosts>,
    pub rewrites: Vec<Rewrite>,
    /// `forward FROM TO…`: the zone it forwards and where.
    pub forward: Option<(String, Vec<String>)>,
    /// Every directive as written.
    pub directives: Vec<Directive>,
}

/// A problem in the Corefile, with its line (1-based, in the Corefile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: u32,
    pub message: String,
}

/// Splits the text into words, braces and line ends, dropping comments.
fn tokens(text: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u32 + 1;
        let mut word = String::new();
        let mut quoted = false;
        for c in raw.chars() {
            match c {
                '"' => quoted = !quoted,
                '#' if !quoted && word.is_empty() => break,
                c if c.is_whitespace() && !quoted => {
                    if !word.is_empty() {
                        out.push((std::mem::take(&mut word), line));
                    }
                }
                '{' | '}' if !quoted && word.is_empty() => out.push((c.to_string(), line)),
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            out.push((word, line));
        }
        out.push(("\n".into(), line));
    }
    out
}

/// Reads directives up to the closing brace (or the end).
fn directives(toks: &[(String, u32)], pos: &mut usize, problems: &mut Vec<Problem>) -> Vec<Directive> {
    let mut out = Vec::new();
    while *pos < toks.len() {
        let (t, line) = &toks[*pos];
        match t.as_str() {
            "\n" => *pos += 1,
            "}" => {
                *pos += 1;
                return out;
            }
            "{" => {
                problems.push(Problem { line: *line, message: "a block with no directive before it".into() });
                *pos += 1;
                directives(toks, pos, problems);
            }
            _ => {
                let mut d = Directive { name: t.clone(), args: Vec::new(), block: Vec::new(), line: *line };
                *pos += 1;
                while *pos < toks.len() && toks[*pos].0 != "\n" {
                    match toks[*pos].0.as_str() {
                        "{" => {
                            *pos += 1;
                            d.block = directives(toks, pos, problems);
                            break;
                        }
                        "}" => break,
                        w => {
                            d.args.push(w.to_owned());
                            *pos += 1;
                        }
                    }
                }
                out.push(d);
            }
        }
    }
    out
}

/// `cluster.local` → `cluster.local.`; `.` stays.
pub fn fqdn(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    if n.ends_with('.') {
        n
    } else {
        format!("{n}.")
    }
}

/// A server key: `.:53`, `cluster.local:53`, `dns://.:53`, `.`.
fn server_key(key: &str) -> Option<(String, u16)> {
    let key = key.strip_prefix("dns://").unwrap_or(key);
    match key.rsplit_once(':') {
        Some((zone, port)) => Some((fqdn(zone), port.parse().ok()?)),
        None => Some((fqdn(key), 53)),
    }
}

fn kubernetes(d: &Directive, server_zones: &[String], problems: &mut Vec<Problem>) -> Kubernetes {
    let mut k = Kubernetes {
        zones: if d.args.is_empty() { server_zones.to_vec() } else { d.args.iter().map(|z| fqdn(z)).collect() },
        pods: PodMode::Disabled,
        ttl: 5,
        ignore_empty_service: false,
        namespaces: Vec::new(),
        fallthrough: None,
        endpoint_pod_names: false,
    };
    for o in &d.block {
        let bad = |problems: &mut Vec<Problem>, what: &str| {
            problems.push(Problem { line: o.line, message: format!("kubernetes: {what}") })
        };
        match o.name.as_str() {
            "pods" => match o.args.first().map(String::as_str) {
                Some("insecure") => k.pods = PodMode::Insecure,
                Some("verified") => k.pods = PodMode::Verified,
                Some("disabled") => k.pods = PodMode::Disabled,
                _ => bad(problems, "pods takes one of disabled, insecure, verified"),
            },
            "ttl" => match o.args.first().and_then(|t| t.parse::<u32>().ok()) {
                Some(t) if t <= 3600 => k.ttl = t,
                _ => bad(problems, "ttl takes a number of seconds from 0 to 3600"),
            },
            "ignore" if o.args.first().map(String::as_str) == Some("empty_service") => k.ignore_empty_service = true,
            "namespaces" => k.namespaces.extend(o.args.iter().cloned()),
            "fallthrough" => k.fallthrough = Some(o.args.iter().map(|z| fqdn(z)).collect()),
            "endpoint_pod_names" => k.endpoint_pod_names = true,
            // Options that change how CoreDNS talks to the API server, not
            // what it answers.
            "endpoint"
            | "tls"
            | "kubeconfig"
            | "labels"
            | "namespace_labels"
            | "noendpoints"
            | "multicluster"
            | "startup_timeout"
            | "apiserver_qps"
            | "apiserver_burst"
            | "apiserver_max_inflight" => {}
            other => bad(problems, &format!("unknown property \"{other}\"")),
        }
    }
    k
}

fn hosts(d: &Directive) -> Hosts {
    let mut h = Hosts { ttl: 3600, ..Hosts::default() };
    for line in &d.block {
        match line.name.as_str() {
            "fallthrough" => h.fallthrough = true,
            "ttl" => h.ttl = line.args.first().and_then(|t| t.parse().ok()).unwrap_or(3600),
            "reload" | "no_reverse" => {}
            addr => {
                if let Ok(ip) = addr.parse::<IpAddr>() {
                    for name in &line.args {
                        h.entries.entry(fqdn(name)).or_default().push(ip);
                    }
                }
            }
        }
    }
    h
}

/// Parses a Corefile into its server blocks, with the problems found.
pub fn parse(text: &str) -> (Vec<Server>, Vec<Problem>) {
    let toks = tokens(text);
    let mut problems = Vec::new();
    let mut servers = Vec::new();
    let mut pos = 0;
    while pos < toks.len() {
        // Server keys up to the opening brace.
        let mut keys = Vec::new();
        let mut line = 0;
        while pos < toks.len() && toks[pos].0 != "{" {
            if toks[pos].0 != "\n" {
                keys.push(toks[pos].0.trim_end_matches(',').to_owned());
                line = toks[pos].1;
            }
            pos += 1;
        }
        if pos >= toks.len() {
            if !keys.is_empty() {
                problems.push(Problem { line, message: "a server block without its {".into() });
            }
            break;
        }
        pos += 1;
        let body = directives(&toks, &mut pos, &mut problems);
        let mut zones = Vec::new();
        let mut port = 53;
        for k in &keys {
            match server_key(k) {
                Some((z, p)) => {
                    zones.push(z);
                    port = p;
                }
                None => problems.push(Problem { line, message: format!("\"{k}\" is not a zone with a port") }),
            }
        }
        let mut server = Server {
            zones,
            port,
            kubernetes: None,
            hosts: None,
            rewrites: Vec::new(),
            forward: None,
            directives: body,
        };
        for d in &server.directives {
            match d.name.as_str() {
                "kubernetes" => server.kubernetes = Some(kubernetes(d, &server.zones, &mut problems)),
                "hosts" => server.hosts = Some(hosts(d)),
                "rewrite" => {
                    // `rewrite [continue|stop] name [exact|prefix|suffix|substring] FROM TO`
                    let a: Vec<&str> =
                        d.args.iter().map(String::as_str).filter(|a| !matches!(*a, "stop" | "continue")).collect();
                    match a.as_slice() {
                        ["name", how @ ("exact" | "prefix" | "suffix" | "substring"), from, to, ..] => {
                            server.rewrites.push(Rewrite {
                                how: (*how).to_owned(),
                                from: from.to_ascii_lowercase(),
                                to: to.to_ascii_lowercase(),
                            })
                        }
                        ["name", from, to] => server.rewrites.push(Rewrite {
                            how: "exact".into(),
                            from: fqdn(from),
                            to: fqdn(to),
                        }),
                        _ => problems.push(Problem {
                            line: d.line,
                            message: "rewrite: podpath follows `rewrite name [exact|prefix|suffix|substring] FROM TO`; this rule is not applied".into(),
                        }),
                    }
                }
                "forward" => {
                    let mut a = d.args.iter();
                    if let Some(from) = a.next() {
                        server.forward = Some((fqdn(from), a.cloned().collect()));
                    }
                }
                _ => {}
            }
        }
        servers.push(server);
    }
    (servers, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeadm_corefile() {
        let text = ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n";
        let (servers, problems) = parse(text);
        assert_eq!(problems, vec![]);
        assert_eq!(servers.len(), 1);
        let s = &servers[0];
        assert_eq!((s.zones.clone(), s.port), (vec![".".to_owned()], 53));
        let k = s.kubernetes.as_ref().unwrap();
        assert_eq!(k.zones, ["cluster.local.", "in-addr.arpa.", "ip6.arpa."]);
        assert_eq!((k.pods, k.ttl), (PodMode::Insecure, 30));
        assert_eq!(k.fallthrough, Some(vec!["in-addr.arpa.".to_owned(), "ip6.arpa.".to_owned()]));
        assert_eq!(s.forward, Some((".".into(), vec!["/etc/resolv.conf".into()])));
        assert_eq!(s.directives.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().len(), 10);
    }

    #[test]
    fn problems_name_their_line() {
        let (servers, problems) =
            parse("# a comment\n.:53 {\n  kubernetes cluster.local {\n    pods maybe\n    ttl 9999\n  }\n  hosts {\n    10.0.0.9 db.example.org\n    fallthrough\n  }\n}\n");
        assert_eq!(
            problems,
            vec![
                Problem { line: 4, message: "kubernetes: pods takes one of disabled, insecure, verified".into() },
                Problem { line: 5, message: "kubernetes: ttl takes a number of seconds from 0 to 3600".into() },
            ]
        );
        let h = servers[0].hosts.as_ref().unwrap();
        assert_eq!(h.entries["db.example.org."], vec!["10.0.0.9".parse::<IpAddr>().unwrap()]);
        assert!(h.fallthrough);
    }
}
