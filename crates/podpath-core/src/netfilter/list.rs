//! `iptables -L` as iptables 1.8 prints a table: a block per chain (its
//! policy or how many rules jump to it), then a line per rule in fixed
//! columns, the matches and the target's options after them. `-n` prints
//! protocols as numbers and addresses as written; without it `all`/`tcp`,
//! `anywhere` and service names for ports. `-v` adds counters (podpath
//! counts nothing: zeros) and the interfaces. Tests hold the `-n` forms
//! equal to the real tool's listing of the same rules.

use std::fmt::Write as _;

use super::{AddrMatch, Match, Rule, Table, Target};

/// How to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-n`: numbers, not names.
    pub numeric: bool,
    /// `-v`: counters and interfaces.
    pub verbose: bool,
}

fn proto_text(p: Option<&str>, numeric: bool) -> String {
    match (p, numeric) {
        (None, true) => "0".into(),
        (None, false) => "all".into(),
        (Some("tcp"), true) => "6".into(),
        (Some("udp"), true) => "17".into(),
        (Some("sctp"), true) => "132".into(),
        (Some("icmp"), true) => "1".into(),
        (Some(p), _) => p.to_owned(),
    }
}

fn addr_text(a: Option<&AddrMatch>, numeric: bool) -> (char, String) {
    match a {
        None if numeric => (' ', "0.0.0.0/0".into()),
        None => (' ', "anywhere".into()),
        Some(a) => {
            let text = if a.net.prefix_len() == 32 { a.net.addr().to_string() } else { a.net.to_string() };
            (if a.negated { '!' } else { ' ' }, text)
        }
    }
}

/// A port as iptables names it without `-n` (from /etc/services).
fn port_text(port: u16, numeric: bool) -> String {
    if numeric {
        return port.to_string();
    }
    match port {
        53 => "domain".into(),
        80 => "http".into(),
        443 => "https".into(),
        8080 => "http-alt".into(),
        p => p.to_string(),
    }
}

/// The matches, each as its extension prints itself (a leading space).
fn matches_text(rule: &Rule, numeric: bool) -> String {
    let mut out = String::new();
    let proto = rule.protocol.as_deref().unwrap_or("tcp");
    for m in &rule.matches {
        match m {
            Match::Comment(c) => {
                let _ = write!(out, " /* {c} */");
            }
            Match::DPort(p) => {
                let _ = write!(out, " {proto} dpt:{}", port_text(*p, numeric));
            }
            Match::ProtoModule => {
                let _ = write!(out, " {proto}");
            }
            Match::AddrType { src, kind, negated } => {
                let side = if *src { "src-type" } else { "dst-type" };
                let neg = if *negated { "!" } else { "" };
                let _ = write!(out, " ADDRTYPE match {side} {neg}{kind}");
            }
            Match::Mark { value, mask, negated } => {
                let neg = if *negated { "! " } else { "" };
                let _ = write!(out, " mark match {neg}{value:#x}/{mask:#x}");
            }
            Match::CtState { states, negated } => {
                let neg = if *negated { "! " } else { "" };
                let _ = write!(out, " {neg}ctstate {}", states.join(","));
            }
            Match::Probability(p) => {
                let _ =
                    write!(out, " statistic mode random probability {:.11}", f64::from(*p) / f64::from(0x8000_0000u32));
            }
            Match::RecentCheck { name, seconds } => {
                let _ = write!(
                    out,
                    " recent: CHECK seconds: {seconds} reap name: {name} side: source mask: 255.255.255.255"
                );
            }
            Match::RecentSet { name } => {
                let _ = write!(out, " recent: SET name: {name} side: source mask: 255.255.255.255");
            }
            Match::Set { name, flags, negated } => {
                let neg = if *negated { " !" } else { "" };
                let _ = write!(out, "{neg} match-set {name} {flags}");
            }
            Match::PhysdevNotIn => out.push_str(" PHYSDEV match ! --physdev-is-in"),
            Match::Ipvs { proto, vaddr, vport } => {
                let _ = write!(out, " vaddr {vaddr} vport {vport} vproto {proto}");
            }
            Match::Multiport(ports) => {
                let list: Vec<String> =
                    ports.iter().map(|(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}:{hi}") }).collect();
                let _ = write!(out, " multiport dports {}", list.join(","));
            }
        }
    }
    out
}

/// The target's column, and its options after the matches.
fn target_text(t: Option<&Target>) -> (String, String) {
    match t {
        None => (String::new(), String::new()),
        Some(Target::Jump(c) | Target::Goto(c)) => (c.clone(), String::new()),
        Some(Target::Accept) => ("ACCEPT".into(), String::new()),
        Some(Target::Drop) => ("DROP".into(), String::new()),
        Some(Target::Return) => ("RETURN".into(), String::new()),
        Some(Target::Reject) => ("REJECT".into(), " reject-with icmp-port-unreachable".into()),
        Some(Target::Dnat(to)) => ("DNAT".into(), format!(" to:{to}")),
        Some(Target::Masquerade { random_fully }) => {
            ("MASQUERADE".into(), if *random_fully { " random-fully".into() } else { String::new() })
        }
        Some(Target::SetXMark { value, mask }) => {
            // libxt_MARK's shorthand for the --set-xmark it was given.
            let opt = match (*value, *mask) {
                (v, 0xffff_ffff) => format!(" MARK set {v:#x}"),
                (0, m) => format!(" MARK and {:#x}", !m),
                (v, m) if v == m => format!(" MARK or {v:#x}"),
                (v, 0) => format!(" MARK xor {v:#x}"),
                (v, m) => format!(" MARK xset {v:#x}/{m:#x}"),
            };
            ("MARK".into(), opt)
        }
    }
}

/// One rule's line.
fn rule_line(rule: &Rule, o: Options) -> String {
    let mut line = String::new();
    if o.verbose {
        line.push_str("    0     0 ");
    }
    let (target, options) = target_text(rule.target.as_ref());
    let _ = write!(line, "{target:<9}  {:<5}-- ", proto_text(rule.protocol.as_deref(), o.numeric));
    if o.verbose {
        let _ = write!(
            line,
            " {:<6} {:<6} ",
            rule.in_interface.as_deref().unwrap_or("*"),
            rule.out_interface.as_deref().unwrap_or("*")
        );
    }
    let (si, s) = addr_text(rule.source.as_ref(), o.numeric);
    let (di, d) = addr_text(rule.destination.as_ref(), o.numeric);
    let _ = write!(line, "{si}{s:<19} {di}{d:<19} ");
    // iptables prints a goto's mark before the matches.
    if matches!(rule.target, Some(Target::Goto(_))) {
        line.push_str("[goto] ");
    }
    line.push_str(&matches_text(rule, o.numeric));
    line.push_str(&options);
    line
}

/// The listing of `table`, or of one chain of it; `None` when the chain
/// does not exist.
pub fn list(table: &Table, chain: Option<&str>, o: Options) -> Option<String> {
    if let Some(c) = chain {
        if !table.chains.iter().any(|x| x.name == c) {
            return None;
        }
    }
    let mut out = String::new();
    // The built-in chains in their order, then the user's by name.
    let mut chains: Vec<&super::Chain> = table.chains.iter().filter(|c| c.policy.is_some()).collect();
    let mut user: Vec<&super::Chain> = table.chains.iter().filter(|c| c.policy.is_none()).collect();
    crate::order::sort_by(&mut user, |a, b| a.name.cmp(&b.name));
    chains.extend(user);
    for (i, c) in chains.into_iter().filter(|c| chain.is_none_or(|x| x == c.name)).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match c.policy {
            Some(p) if o.verbose => {
                let _ = writeln!(out, "Chain {} (policy {p} 0 packets, 0 bytes)", c.name);
            }
            Some(p) => {
                let _ = writeln!(out, "Chain {} (policy {p})", c.name);
            }
            None => {
                let refs = table
                    .rules()
                    .iter()
                    .filter(|r| matches!(&r.target, Some(Target::Jump(t) | Target::Goto(t)) if *t == c.name))
                    .count();
                let _ = writeln!(out, "Chain {} ({refs} references)", c.name);
            }
        }
        if o.verbose {
            out.push_str(" pkts bytes target     prot opt in     out     source               destination         \n");
        } else {
            out.push_str("target     prot opt source               destination         \n");
        }
        for (_, r) in table.rules_of(&c.name) {
            out.push_str(&rule_line(r, o));
            out.push('\n');
        }
    }
    Some(out)
}
