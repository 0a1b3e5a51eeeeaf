//! DNS answers as the tools print them — dig's sections in its master-file
//! columns, nslookup's (BIND 9) lines — and a lookup's queries one per line:
//! the one rendering the shell's tools, the CLI's `dns` and the page's DNS
//! tab all print.

use std::fmt;
use std::net::IpAddr;

use super::resolver::Lookup;
use super::{RType, Rcode, Record, Response};

/// The queries a lookup sent, one line each: `;; NAME TYPE → RCODE (who
/// answered)`, or why no response came.
#[derive(Debug)]
pub struct Tried<'a> {
    pub lookup: &'a Lookup,
    /// Why each query that got no response got none, where known.
    pub why: Vec<String>,
}

impl fmt::Display for Tried<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let qtype = self.lookup.qtype;
        for (i, a) in self.lookup.attempts.iter().enumerate() {
            match &a.response {
                Some(x) => writeln!(f, ";; {} {qtype} → {} ({})", a.name, x.rcode.as_str(), x.by)?,
                None => match self.why.get(i).filter(|w| !w.is_empty()) {
                    Some(why) => writeln!(f, ";; {} {qtype} → no response: {why}", a.name)?,
                    None => writeln!(f, ";; {} {qtype} → no response", a.name)?,
                },
            }
        }
        Ok(())
    }
}

/// A response as dig prints it between its banner and its statistics: the
/// header and flags, the OPT pseudo-section, the question and each
/// non-empty section, fields at dig's tab stops.
#[derive(Debug)]
pub struct Dig<'a> {
    pub response: &'a Response,
    pub qname: &'a str,
    pub qtype: RType,
    pub id: u16,
}

impl fmt::Display for Dig<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.response;
        let flags = if r.authoritative { "qr aa rd" } else { "qr rd ra" };
        writeln!(f, ";; ->>HEADER<<- opcode: QUERY, status: {}, id: {}", r.rcode.as_str(), self.id)?;
        // The OPT record of the reply counts in the additional section.
        writeln!(
            f,
            ";; flags: {flags}; QUERY: 1, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}",
            r.answers.len(),
            r.authority.len(),
            r.additional.len() + 1
        )?;
        if r.authoritative {
            writeln!(f, ";; WARNING: recursion requested but not available")?;
        }
        writeln!(f, "\n;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232")?;
        writeln!(f, ";; QUESTION SECTION:")?;
        writeln!(f, "{}", columns(&[(&format!(";{}", self.qname), 32), ("IN", 40), (&self.qtype.name(), 0)]))?;
        for (title, records) in [("ANSWER", &r.answers), ("AUTHORITY", &r.authority), ("ADDITIONAL", &r.additional)] {
            section(f, title, records)?;
        }
        Ok(())
    }
}

/// A whole lookup for people, as `podpath dns` and the page's DNS tab
/// print it: the queries tried, then the last response as dig prints it
/// (its id drawn from the seed, as the query's was), or dig's own line
/// when no server answered at all.
#[derive(Debug)]
pub struct Report<'a> {
    pub lookup: &'a Lookup,
    /// Why each query that got no response got none, where known.
    pub why: Vec<String>,
    pub seed: u64,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lookup = self.lookup;
        write!(f, "{}", Tried { lookup, why: self.why.clone() })?;
        let Some(last) = lookup.last() else {
            return writeln!(f, ";; connection timed out; no servers could be reached");
        };
        let qname = lookup.attempts.iter().rev().find(|a| a.response.is_some()).map_or("", |a| a.name.as_str());
        let id = super::wire::query_id(qname, self.seed);
        write!(f, "\n{}", Dig { response: last, qname, qtype: lookup.qtype, id })
    }
}

fn section(f: &mut fmt::Formatter<'_>, title: &str, records: &[Record]) -> fmt::Result {
    if records.is_empty() {
        return Ok(());
    }
    writeln!(f, "\n;; {title} SECTION:")?;
    for r in records {
        let ttl = r.ttl.to_string();
        writeln!(f, "{}", columns(&[(&r.name, 24), (&ttl, 32), ("IN", 40), (&r.rtype.name(), 48), (&r.data, 0)]))?;
    }
    Ok(())
}

/// dig's master-file layout: each field starts at its tab stop (tabs of
/// eight), or one space after the last when that is already past it. Each
/// pair is a field and the column the next one starts at.
pub fn columns(fields: &[(&str, usize)]) -> String {
    let mut out = String::new();
    let mut col = 0;
    for (text, next) in fields {
        out.push_str(text);
        col += text.chars().count();
        if *next == 0 {
            break;
        }
        if col >= *next {
            out.push(' ');
            col += 1;
        } else {
            while col < *next {
                out.push('\t');
                col = (col / 8 + 1) * 8;
            }
        }
    }
    out
}

/// A lookup as nslookup (BIND 9) prints it: the server, then the answers
/// (`Non-authoritative answer:` unless the server is authoritative), or
/// that the server cannot find the name, or that no server answered.
#[derive(Debug)]
pub struct Nslookup<'a> {
    /// The name as typed.
    pub name: &'a str,
    pub server: Option<IpAddr>,
    pub lookup: &'a Lookup,
}

impl Nslookup<'_> {
    /// nslookup's exit status for this outcome.
    pub fn status(&self) -> u8 {
        u8::from(self.lookup.answer().is_none())
    }
}

impl fmt::Display for Nslookup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lookup.timed_out() {
            return writeln!(f, ";; connection timed out; no servers could be reached\n");
        }
        let server = self.server.map(|s| s.to_string()).unwrap_or_default();
        write!(f, "Server:\t\t{server}\nAddress:\t{server}#53\n\n")?;
        let Some(r) = self.lookup.answer() else {
            let rcode = self.lookup.last().map_or(Rcode::ServFail, |r| r.rcode);
            let why = if rcode == Rcode::NoError { Rcode::NxDomain.as_str() } else { rcode.as_str() };
            return writeln!(f, "** server can't find {}: {why}\n", self.name);
        };
        if !r.authoritative {
            writeln!(f, "Non-authoritative answer:")?;
        }
        for a in &r.answers {
            let name = a.name.trim_end_matches('.');
            match a.rtype {
                RType::Cname => writeln!(f, "{name}\tcanonical name = {}", a.data)?,
                RType::Ptr => writeln!(f, "{name}\tname = {}", a.data)?,
                _ => write!(f, "Name:\t{name}\nAddress: {}\n", a.data)?,
            }
        }
        writeln!(f)
    }
}
