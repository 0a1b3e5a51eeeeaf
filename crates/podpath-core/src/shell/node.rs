//! A root shell on a node: the service proxy's state as its own tools
//! print it (the same rendering `podpath rules` prints and traces quote),
//! the node's interfaces, routes and bridge table, and the connections
//! the session's traces left in conntrack.

use crate::proxy::Dataplane;
use crate::shell::Output;
use crate::step::Place;
use crate::trace::Trace;
use crate::Cluster;

pub(crate) const TOOLS: &[&str] =
    &["iptables-save", "iptables", "ipset", "nft", "ipvsadm", "ip", "bridge", "conntrack", "tcpdump", "hostname"];

pub(crate) fn run(cluster: &Cluster, node: &str, args: &[String], recent: &[Trace]) -> Output {
    let Some((cmd, rest)) = args.split_first() else { return Output::default() };
    let mode = cluster.settings.proxy_mode;
    let built;
    let plane = match cluster.dataplane(node) {
        Some(p) if mode == cluster.settings.proxy_mode => p,
        _ => {
            built = Dataplane::build(cluster, node, mode);
            &built
        }
    };
    let words: Vec<&str> = rest.iter().map(String::as_str).collect();
    match cmd.as_str() {
        "iptables-save" => {
            // The proxy's tables (none in nftables and eBPF modes) with the
            // plugin's rules (Calico's Felix) where it writes any.
            let tables = iptables_tables(cluster, node, plane);
            let text = if tables.is_empty() { String::new() } else { crate::netfilter::save(&tables.iter().collect::<Vec<_>>()) };
            let table = words.windows(2).find(|w| w[0] == "-t" || w[0] == "--table").map(|w| w[1]);
            Output::ok(match table {
                Some(t) => only_table(&text, t),
                None => text,
            })
        }
        "iptables" => iptables(&iptables_tables(cluster, node, plane), &words),
        "ipset" => ipset(cluster, node, plane, &words),
        "nft" => {
            let plugin = cluster.plugin_rules(node).and_then(|p| p.nft.as_ref());
            match words.as_slice() {
                ["list", "ruleset"] => Output::ok(nft_ruleset(cluster, node, plane)),
                ["list", "table", "ip", "kube-proxy"] | ["list", "table", "kube-proxy"] => {
                    Output::ok(plane.nft_ruleset().unwrap_or_default())
                }
                ["list", "table", family, name] if plugin.is_some_and(|t| t.family == *family && t.name == *name) => {
                    Output::ok(plugin.map(ToString::to_string).unwrap_or_default())
                }
                ["list", "table", ..] => Output::fail(1, "Error: No such file or directory\n"),
                _ => Output::fail(
                    1,
                    "Error: podpath's nft lists only: nft list ruleset, nft list table FAMILY NAME\n",
                ),
            }
        }
        "ipvsadm" => match plane.ipvsadm() {
            Some(text) => Output::ok(text),
            None => Output::fail(
                2,
                "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
            ),
        },
        "ip" | "bridge" => {
            let Some(n) = cluster.network().node(node) else { return Output::fail(1, "Cannot open netlink socket\n") };
            let obj = words.iter().find(|w| !w.starts_with('-')).copied().unwrap_or("");
            match (cmd.as_str(), obj) {
                ("ip", "a" | "addr" | "address") => Output::ok(n.host.ip_addr()),
                ("ip", "r" | "ro" | "route") => Output::ok(n.host.ip_route()),
                ("ip", "n" | "neigh" | "neighbor") => Output::ok(n.host.ip_neigh()),
                ("bridge", "fdb") => Output::ok(n.host.bridge_fdb()),
                ("ip", other) => Output::fail(255, format!("Object \"{other}\" is unknown, try \"ip help\".\n")),
                (_, other) => Output::fail(255, format!("Object \"{other}\" is unknown, try \"bridge help\".\n")),
            }
        }
        "conntrack" => {
            if !words.iter().any(|w| *w == "-L" || *w == "--dump") {
                return Output::fail(
                    2,
                    "conntrack v1.4.7 (conntrack-tools): no command specified. Please, use -L to list the table\n",
                );
            }
            // The entries the session's connections left on this node: the
            // node where the service proxy rewrote the packet holds the
            // NATed entry; the nodes it passed after that see the packet
            // as rewritten and hold a plain one.
            let mut lines: Vec<String> = Vec::new();
            for t in recent.iter().flat_map(|t| std::iter::once(t).chain(&t.legs)) {
                let Some(ct) = &t.conntrack else { continue };
                let first = t.hops.first().and_then(|h| h.node.as_deref());
                let entry = if first == Some(node) {
                    ct.clone()
                } else if t.hops.iter().any(|h| h.node.as_deref() == Some(node)) {
                    let r = ct.reply;
                    crate::trace::Conntrack { protocol: ct.protocol, original: (r.2, r.3, r.0, r.1), reply: r }
                } else {
                    continue;
                };
                let line = settled(&entry, t);
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
            let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            text.push_str(&format!(
                "conntrack v1.4.7 (conntrack-tools): {} flow entries have been shown.\n",
                lines.len()
            ));
            Output::ok(text)
        }
        "tcpdump" => tcpdump(cluster, node, &words, recent),
        "hostname" => Output::ok(format!("{node}\n")),
        other => Output::fail(127, format!("bash: {other}: command not found\n")),
    }
}

/// The node's iptables tables, filter then nat as iptables-save orders
/// them: the service proxy's, with the CNI plugin's additions merged in.
fn iptables_tables(cluster: &Cluster, node: &str, plane: &Dataplane) -> Vec<crate::netfilter::Table> {
    let plugin = cluster.plugin_rules(node);
    let table = |name: &str, added: Option<&crate::netfilter::Additions>| match added {
        Some(a) => Some(a.merged(plane.iptables_table(name))),
        None => plane.iptables_table(name).cloned(),
    };
    let filter = table("filter", plugin.and_then(|p| p.filter.as_ref()));
    let nat = table("nat", plugin.and_then(|p| p.nat.as_ref()));
    filter.into_iter().chain(nat).collect()
}

/// `nft list ruleset`: the service proxy's table (nftables mode), then
/// the plugin's own (kindnetd's).
fn nft_ruleset(cluster: &Cluster, node: &str, plane: &Dataplane) -> String {
    let mut text = plane.nft_ruleset().unwrap_or_default();
    if let Some(t) = cluster.plugin_rules(node).and_then(|p| p.nft.as_ref()) {
        text.push_str(&t.to_string());
    }
    text
}

/// `ipset save` / `ipset list -n`: the service proxy's sets (IPVS mode)
/// and the plugin's (Calico's selectors).
fn ipset(cluster: &Cluster, node: &str, plane: &Dataplane, words: &[&str]) -> Output {
    let mut sets = plane.ipsets().cloned().unwrap_or_default();
    if let Some(p) = cluster.plugin_rules(node) {
        sets.sets.extend(p.sets.sets.iter().cloned());
    }
    match words {
        ["save"] | ["-S"] | ["-save"] => Output::ok(sets.save()),
        ["list", "-n"] | ["list", "-name"] | ["-L", "-n"] => {
            Output::ok(sets.sets.iter().map(|s| format!("{}\n", s.name)).collect::<String>())
        }
        _ => Output::fail(1, "ipset v7.17: podpath's ipset lists only: ipset save, ipset list -n\n"),
    }
}

/// One table's part of an `iptables-save` dump (`-t TABLE`).
fn only_table(dump: &str, table: &str) -> String {
    let mut out = String::new();
    let mut keep = false;
    for line in dump.lines() {
        if let Some(name) = line.strip_prefix('*') {
            keep = name == table;
        }
        let comment = line.starts_with('#');
        if keep || comment {
            out.push_str(line);
            out.push('\n');
        }
        if line == "COMMIT" {
            keep = false;
        }
    }
    out
}

/// The entry as `conntrack -L` shows it once the exchange is over: a TCP
/// connection that got its answer and closed waits in TIME_WAIT (120 s)
/// and is ASSURED; a UDP flow that saw a reply is no longer UNREPLIED; a
/// connection that got no reply is listed as the first packet left it.
fn settled(entry: &crate::trace::Conntrack, t: &Trace) -> String {
    entry.listing(t.verdict == crate::trace::Verdict::Delivered && !t.reply.is_empty())
}

/// `tcpdump -i IFACE`: the frames of the session's traces that crossed
/// that interface of this node (`any`: all of them), one line each as
/// tcpdump prints them, the time being the session's capture clock.
fn tcpdump(cluster: &Cluster, node: &str, words: &[&str], recent: &[Trace]) -> Output {
    let mut iface = None;
    let mut count = None;
    let mut numeric_ports = false;
    let mut it = words.iter();
    while let Some(w) = it.next() {
        match *w {
            "-i" => iface = it.next().copied(),
            "-c" => count = it.next().and_then(|c| c.parse::<usize>().ok()),
            "-nn" => numeric_ports = true,
            "-n" | "-l" | "-e" | "-v" | "-q" => {}
            w if w.starts_with("-i") => iface = Some(&w[2..]),
            w if w.starts_with('-') => {
                return Output::fail(1, format!("tcpdump: invalid option -- '{}'\n", w.trim_start_matches('-')))
            }
            // A filter expression: podpath captures everything on the interface.
            _ => {}
        }
    }
    let Some(n) = cluster.network().node(node) else { return Output::fail(1, "tcpdump: no suitable device found\n") };
    let links: Vec<&str> = n.host.links.iter().map(|l| l.name.as_str()).collect();
    let iface = iface.unwrap_or("eth0");
    if iface != "any" && !links.contains(&iface) {
        return Output::fail(1, format!("tcpdump: {iface}: No such device exists\n(SIOCGIFHWADDR: No such device)\n"));
    }
    let link_type = if iface == "any" { "LINUX_SLL2 (Linux cooked v2)" } else { "EN10MB (Ethernet)" };
    let mut text = format!(
        "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on {iface}, link-type {link_type}, snapshot length 262144 bytes\n"
    );
    let mut shown = 0;
    let mut usec = 0u64;
    for t in recent {
        for p in crate::pcap::packets(t) {
            usec += 1000;
            let dev = match &p.at {
                Place::Dev(dev) => Some(dev.as_str()),
                _ => None,
            };
            let here = p.node.as_deref() == Some(node) && dev.is_some_and(|d| links.contains(&d));
            if !here || (iface != "any" && dev != Some(iface)) || count.is_some_and(|c| shown >= c) {
                continue;
            }
            let d = crate::capture::dissect(&p.data, 1);
            let mut line = d.tcpdump.clone();
            if !numeric_ports {
                line = named_ports(&line);
            }
            let s = usec / 1000;
            let prefix = if iface == "any" { format!(" {} Out ", p.at) } else { " ".into() };
            text.push_str(&format!(
                "00:{:02}:{:02}.{:06}{prefix}{line}\n",
                (s / 60_000) % 60,
                (s / 1000) % 60,
                (usec % 1_000_000)
            ));
            shown += 1;
        }
    }
    text.push_str(&format!(
        "{shown} packets captured\n{shown} packets received by filter\n0 packets dropped by kernel\n"
    ));
    Output::ok(text)
}

/// tcpdump without `-nn` names well-known ports (`10.96.0.10.domain`).
fn named_ports(line: &str) -> String {
    let mut out = line.to_owned();
    for (port, name) in [
        (".53 ", ".domain "),
        (".53:", ".domain:"),
        (".80 ", ".http "),
        (".80:", ".http:"),
        (".443 ", ".https "),
        (".443:", ".https:"),
        (".8080 ", ".http-alt "),
        (".8080:", ".http-alt:"),
    ] {
        out = out.replace(port, name);
    }
    out
}

/// `iptables [-t TABLE] -L [CHAIN] [-n] [-v]` (flags may be grouped, as in
/// `-nvL`): the listing of the rules the service proxy wrote.
fn iptables(tables: &[crate::netfilter::Table], words: &[&str]) -> Output {
    use crate::netfilter::list::{list, Options};
    let mut table = "filter";
    let mut chain = None;
    let mut listing = false;
    let mut o = Options::default();
    let mut it = words.iter().peekable();
    while let Some(w) = it.next() {
        match *w {
            "-t" | "--table" => table = it.next().copied().unwrap_or(table),
            "--list" => listing = true,
            "--numeric" => o.numeric = true,
            "--verbose" => o.verbose = true,
            w if w.starts_with('-') && !w.starts_with("--") => {
                for c in w[1..].chars() {
                    match c {
                        'L' => listing = true,
                        'n' => o.numeric = true,
                        'v' => o.verbose = true,
                        'x' => {}
                        't' => table = it.next().copied().unwrap_or(table),
                        other => {
                            return Output::fail(
                                2,
                                format!("iptables v1.8.9 (nf_tables): unknown option \"-{other}\"\nTry `iptables -h' or 'iptables --help' for more information.\n"),
                            )
                        }
                    }
                }
            }
            w if listing && chain.is_none() => chain = Some(w),
            _ => {}
        }
    }
    if !listing {
        return Output::fail(2, "iptables: podpath lists rules only: iptables [-t TABLE] -L [CHAIN] -n [-v]\n");
    }
    if !["filter", "nat", "mangle", "raw", "security"].contains(&table) {
        return Output::fail(3, format!("iptables v1.8.9 (nf_tables): table '{table}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.\n"));
    }
    match tables.iter().find(|t| t.name == table) {
        Some(t) => match list(t, chain, o) {
            Some(text) => Output::ok(text),
            None => Output::fail(1, "iptables: No chain/target/match by that name.\n"),
        },
        // A table the proxy never wrote to: its built-in chains, empty.
        None => {
            let builtin: &[&str] = match table {
                "nat" => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
                "filter" => &["INPUT", "FORWARD", "OUTPUT"],
                _ => &["PREROUTING", "OUTPUT"],
            };
            let empty = crate::netfilter::Table::new(table, builtin);
            Output::ok(list(&empty, chain, o).unwrap_or_default())
        }
    }
}
