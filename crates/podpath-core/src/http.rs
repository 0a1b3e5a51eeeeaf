//! HTTP messages as they cross the wire: the request as curl sends it, the
//! answers an ingress controller writes itself (its 404, redirects, 403,
//! 503), and the backend's answer.
//!
//! podpath does not run the applications in the manifests. Every backend
//! answers the way the `traefik/whoami` image does — `200 OK`, and a body
//! that says which pod answered and echoes the request it received — so a
//! learner sees which endpoint was picked, the path after any rewrite, and
//! the client address and `X-Forwarded-*` headers the backend sees.

use std::fmt::Write as _;
use std::net::IpAddr;

/// curl's User-Agent (curl 8.5, as in Ubuntu 24.04's and recent images).
pub const USER_AGENT: &str = "curl/8.5.0";

/// The program that makes a request: each sends its own default headers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Client {
    /// Host, `User-Agent: curl/8.5.0`, `Accept: */*`.
    #[default]
    Curl,
    /// BusyBox's wget (networking/wget.c): Host, `User-Agent: Wget`,
    /// `Connection: close`, and no Accept.
    BusyboxWget,
}

/// The request `client` sends: the request line, its default headers,
/// then the `-H` headers (one replacing a default of the same name).
pub fn request(client: Client, method: &str, host_header: &str, path: &str, extra: &[(String, String)]) -> String {
    let defaults = match client {
        Client::Curl => vec![
            ("Host".into(), host_header.to_owned()),
            ("User-Agent".into(), USER_AGENT.to_owned()),
            ("Accept".into(), "*/*".into()),
        ],
        Client::BusyboxWget => vec![
            ("Host".into(), host_header.to_owned()),
            ("User-Agent".into(), "Wget".into()),
            ("Connection".into(), "close".into()),
        ],
    };
    message(method, path, with(defaults, extra))
}

/// A request as a proxy forwards it: the same line and headers, the
/// proxy's headers added (or replacing the client's of the same name).
pub fn forwarded(method: &str, path: &str, original: &str, added: &[(String, String)]) -> String {
    let headers = original
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    message(method, path, with(headers, added))
}

/// `headers` with `extra` set: a name already there takes the new value.
fn with(mut headers: Vec<(String, String)>, extra: &[(String, String)]) -> Vec<(String, String)> {
    for (k, v) in extra {
        match headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
            Some(h) => h.1 = v.clone(),
            None => headers.push((k.clone(), v.clone())),
        }
    }
    headers
}

fn message(method: &str, path: &str, headers: Vec<(String, String)>) -> String {
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    out.push_str("\r\n");
    out
}

/// The reason phrase of a status.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        403 => "Forbidden",
        404 => "Not Found",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// A response: status line, headers, body.
pub fn response(status: u16, headers: &[(&str, String)], body: &str) -> String {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    let _ = write!(out, "Content-Length: {}\r\n\r\n{body}", body.len());
    out
}

/// What a backend pod answers: whoami's echo of the request it received.
pub fn whoami(hostname: &str, ip: IpAddr, remote: (IpAddr, u16), received: &str) -> String {
    let mut body = format!("Hostname: {hostname}\nIP: 127.0.0.1\nIP: {ip}\nRemoteAddr: {}:{}\n", remote.0, remote.1);
    for line in received.split("\r\n").filter(|l| !l.is_empty()) {
        body.push_str(line);
        body.push('\n');
    }
    response(200, &[("Content-Type", "text/plain; charset=utf-8".into())], &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_request_and_whoami_answer() {
        let req = request(Client::Curl, "GET", "shop.example.com", "/api", &[("X-Canary".into(), "always".into())]);
        assert_eq!(
            req,
            "GET /api HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nX-Canary: always\r\n\r\n"
        );
        let fwd = forwarded("GET", "/", &req, &[("X-Forwarded-For".into(), "198.51.100.7".into())]);
        assert!(
            fwd.starts_with("GET / HTTP/1.1\r\nHost: shop.example.com\r\n")
                && fwd.contains("X-Forwarded-For: 198.51.100.7\r\n")
        );
        let resp = whoami("api-1", "10.244.1.5".parse().unwrap(), ("10.244.2.3".parse().unwrap(), 40000), &fwd);
        assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
        assert!(resp.contains(
            "\r\n\r\nHostname: api-1\nIP: 127.0.0.1\nIP: 10.244.1.5\nRemoteAddr: 10.244.2.3:40000\nGET / HTTP/1.1\n"
        ));
        let len: usize = resp.split("Content-Length: ").nth(1).unwrap().split("\r\n").next().unwrap().parse().unwrap();
        assert_eq!(len, resp.split("\r\n\r\n").nth(1).unwrap().len());
    }
}
