//! A trace as text, for people: the one rendering the CLI prints, the
//! trace fixtures hold, and anything else that shows a whole trace as
//! lines. The page draws the same hops as HTML from the same values.

use std::fmt;
use std::net::SocketAddr;

use super::{Hop, Trace};

/// One hop as a numbered line, its tunnel and the rule that acted below it:
///
/// ```text
///  4. [kind-worker] nat KUBE-SERVICES — jump: demo/web:http cluster IP  10.244.1.3:40001 -> 10.96.0.20:80 ttl 64
///       -A KUBE-SERVICES -d 10.96.0.20/32 -p tcp … -j KUBE-SVC-…
/// ```
struct Numbered<'a>(usize, &'a Hop);

impl fmt::Display for Numbered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Numbered(n, h) = *self;
        let p = &h.packet;
        writeln!(
            f,
            "{n:>2}. [{}] {} — {}: {}  {} -> {} ttl {}",
            h.node.as_deref().unwrap_or("-"),
            h.at,
            h.action,
            h.detail,
            SocketAddr::new(p.src, p.sport),
            SocketAddr::new(p.dst, p.dport),
            p.ttl,
        )?;
        if let Some(o) = &p.outer {
            writeln!(f, "      outer {} {} -> {}", o.encap.name(), o.src, o.dst)?;
        }
        if let Some(r) = &h.rule {
            writeln!(f, "      {r}")?;
        }
        Ok(())
    }
}

fn hops(f: &mut fmt::Formatter<'_>, hops: &[Hop]) -> fmt::Result {
    hops.iter().enumerate().try_for_each(|(i, h)| write!(f, "{}", Numbered(i + 1, h)))
}

impl fmt::Display for Trace {
    /// The lookup that came first, every hop of the request, the conntrack
    /// entry and the reply's hops, what the Service and the HTTP request
    /// came to, and the verdict with its reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.dns {
            for a in &r.lookup.attempts {
                let what = a.response.as_ref().map_or("no response", |x| x.rcode.as_str());
                writeln!(f, "dns: {} A → {what}", a.name)?;
            }
            if let Some(ip) = r.address() {
                writeln!(f, "dns: {} is {ip}", r.name)?;
            }
        }
        hops(f, &self.hops)?;
        if let Some(ct) = &self.conntrack {
            writeln!(f, "conntrack: {ct}\nreply:")?;
            hops(f, &self.reply)?;
        }
        if let Some(name) = &self.service.name {
            writeln!(
                f,
                "service: {} {} — candidates {} — chosen {} — snat {}",
                self.service.frontend,
                name,
                self.service.candidates.join(", "),
                self.service.chosen.as_deref().unwrap_or("none"),
                self.service.snat
            )?;
        }
        if let Some(h) = &self.http {
            writeln!(
                f,
                "http: {} {}{}{}{}",
                h.status,
                crate::http::reason(h.status),
                h.ingress.as_ref().map(|i| format!(" — ingress {i}")).unwrap_or_default(),
                h.gateway.as_ref().map(|g| format!(" — gateway {g}")).unwrap_or_default(),
                h.backend.as_ref().map(|b| format!(" — backend {b}")).unwrap_or_default()
            )?;
            if let Some(also) = &h.also {
                writeln!(f, "the other way: {also}")?;
            }
        }
        writeln!(f, "verdict: {} — {}", self.verdict.as_str(), self.reason)
    }
}
