//! Where a trace starts and what it is addressed to, from the words a user
//! types — the CLI's `--from`/`--to`, the page's trace box, `&trace=` in a
//! link: `NS/POD`, `node/NAME`, `external`, an address, a DNS name, or an
//! `http(s)://` URL.

use super::{From, HttpSpec, To};

/// A source: `NS/POD`, `node/NAME`, `external`, or an IP address.
pub fn parse_from(s: &str) -> Result<From, String> {
    let s = s.trim();
    if s == "external" {
        return Ok(From::External);
    }
    if let Some(node) = s.strip_prefix("node/").filter(|n| !n.is_empty()) {
        return Ok(From::Node(node.to_owned()));
    }
    if let Ok(ip) = s.parse() {
        return Ok(From::Ip(ip));
    }
    match s.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok(From::Pod { namespace: ns.to_owned(), name: name.to_owned() })
        }
        _ => Err(format!("{s}: expected NS/POD, node/NAME, external or an IP address")),
    }
}

/// A destination, with the port a URL names (or its scheme's) and, for a
/// URL, the HTTP request to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub to: To,
    pub port: Option<u16>,
    pub http: Option<HttpSpec>,
}

/// A destination: an IP, `NS/POD`, a DNS name, or an `http(s)://` URL.
pub fn parse_to(s: &str) -> Result<Destination, String> {
    let s = s.trim();
    let bad = |why: &str| format!("{s}: {why}");
    if let Some((scheme, rest)) = s.split_once("://") {
        let default_port = match scheme {
            "http" => 80,
            "https" => 443,
            _ => return Err(bad("only http:// and https:// URLs")),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| bad("the port is not a number"))?)
            }
            _ => (authority, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("the URL has no host"));
        }
        let to = host.parse().map(To::Ip).unwrap_or_else(|_| To::Name(host.to_owned()));
        let path = &rest[authority.len()..];
        let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        let http = HttpSpec {
            scheme: scheme.to_owned(),
            host_header: authority.to_owned(),
            path: path.split('#').next().unwrap_or("/").to_owned(),
            method: "GET".into(),
            headers: Vec::new(),
            client: Default::default(),
        };
        return Ok(Destination { to, port: Some(port), http: Some(http) });
    }
    if let Ok(ip) = s.parse() {
        return Ok(Destination { to: To::Ip(ip), port: None, http: None });
    }
    match s.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok(Destination { to: To::Pod { namespace: ns.to_owned(), name: name.to_owned() }, port: None, http: None })
        }
        Some(_) => Err(bad("expected an IP address, NS/POD, a DNS name or an http(s):// URL")),
        None if s.is_empty() || s.chars().any(|c| !(c.is_ascii_alphanumeric() || "-._".contains(c))) => {
            Err(bad("not a DNS name"))
        }
        None => Ok(Destination { to: To::Name(s.to_owned()), port: None, http: None }),
    }
}

/// A trace from the words a user typed: the source and destination parsed,
/// a URL traced as an HTTP request (curl's GET), anything else as the first
/// packet of a connection on `port` (a URL's own port wins).
pub fn trace_words(
    cluster: &crate::cluster::Cluster,
    from: &str,
    to: &str,
    port: u16,
    protocol: crate::cluster::Protocol,
    seed: u64,
) -> Result<super::Trace, String> {
    trace_words_with(cluster, from, to, (port, protocol), seed, &[])
}

/// [`trace_words`] with request headers for a URL (`-H`, `Name: value`).
pub fn trace_words_with(
    cluster: &crate::cluster::Cluster,
    from: &str,
    to: &str,
    (port, protocol): (u16, crate::cluster::Protocol),
    seed: u64,
    headers: &[String],
) -> Result<super::Trace, String> {
    let from = parse_from(from)?;
    let d = parse_to(to)?;
    let req = super::Request { from, to: d.to, port: d.port.unwrap_or(port), protocol, node: None, seed };
    match d.http {
        Some(mut spec) => {
            for h in headers {
                let (name, value) = h.split_once(':').ok_or_else(|| format!("header {h}: expected Name: value"))?;
                spec.headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            super::trace_http(cluster, &req, &spec)
        }
        None => super::trace(cluster, &req),
    }
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_to_ends() {
        assert_eq!(parse_from("external"), Ok(From::External));
        assert_eq!(parse_from("node/kind-worker"), Ok(From::Node("kind-worker".into())));
        assert_eq!(parse_from("shop/web-1"), Ok(From::Pod { namespace: "shop".into(), name: "web-1".into() }));
        assert!(parse_from("web").is_err());
        let d = parse_to("https://shop.example.com:8443/a?b=1#frag").unwrap();
        assert_eq!((d.to, d.port), (To::Name("shop.example.com".into()), Some(8443)));
        let http = d.http.unwrap();
        assert_eq!((http.host_header.as_str(), http.path.as_str()), ("shop.example.com:8443", "/a?b=1"));
        assert_eq!(parse_to("http://10.0.0.1").unwrap().http.unwrap().path, "/");
        assert_eq!(parse_to("api").unwrap().to, To::Name("api".into()));
        assert!(parse_to("a b").is_err() && parse_to("ftp://x").is_err() && parse_to("a/b/c").is_err());
    }
}
