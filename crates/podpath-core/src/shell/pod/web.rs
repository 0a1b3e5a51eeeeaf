//! The HTTP clients: curl 8 (its verbose lines, status line and headers,
//! the body; its exit codes and messages for what failed) and BusyBox
//! `wget` (its progress lines and failures).

use std::net::IpAddr;

use super::{dns_timed_out, request, resolved, traced, Client, Ran};
use crate::cluster::Protocol;
use crate::dns::{self, RType};
use crate::shell::{Output, Traced};
use crate::trace::{self, To, Trace, Verdict};
use crate::Cluster;

/// curl's options, as far as podpath reads them.
#[derive(Debug, Default)]
struct Curl {
    verbose: bool,
    head: bool,
    insecure: bool,
    silent: bool,
    show_error: bool,
    method: Option<String>,
    headers: Vec<(String, String)>,
    resolve: Vec<(String, u16, IpAddr)>,
    max_time: Option<f64>,
    url: Option<String>,
    discard: bool,
}

fn usage(m: String) -> Output {
    Output::fail(2, format!("curl: {m}\ncurl: try 'curl --help' or 'curl --manual' for more information\n"))
}

impl Curl {
    fn parse(args: &[String]) -> Result<Curl, Output> {
        let mut o = Curl::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value =
                |name: &str| it.next().cloned().ok_or_else(|| usage(format!("option {name}: requires parameter")));
            match a.as_str() {
                "-v" | "--verbose" => o.verbose = true,
                "-I" | "--head" => o.head = true,
                "-k" | "--insecure" => o.insecure = true,
                "-s" | "--silent" => o.silent = true,
                "-S" | "--show-error" => o.show_error = true,
                "-sS" | "-Ss" => (o.silent, o.show_error) = (true, true),
                "-sv" | "-vs" => (o.silent, o.verbose) = (true, true),
                "-sI" | "-Is" => (o.silent, o.head) = (true, true),
                "-kv" | "-vk" => (o.insecure, o.verbose) = (true, true),
                "-L" | "--location" | "-f" | "--fail" | "-4" | "-N" => {}
                "-X" | "--request" => o.method = Some(value(a)?),
                "-H" | "--header" => {
                    let h = value(a)?;
                    let (k, v) = h.split_once(':').ok_or_else(|| usage(format!("option {a}: bad header: {h}")))?;
                    o.headers.push((k.trim().to_owned(), v.trim().to_owned()));
                }
                "-o" | "--output" => o.discard = value(a)? == "/dev/null",
                "-m" | "--max-time" | "--connect-timeout" => {
                    let v = value(a)?;
                    let bad = || usage(format!("option {a}: expected a proper numerical parameter"));
                    o.max_time = Some(v.parse().map_err(|_| bad())?);
                }
                "--resolve" => {
                    let v = value(a)?;
                    let mut parts = v.splitn(3, ':');
                    let (h, p, addr) = (parts.next(), parts.next(), parts.next());
                    let addr = addr.and_then(|a| a.trim_matches(['[', ']']).parse().ok());
                    match (h, p.and_then(|p| p.parse().ok()), addr) {
                        (Some(h), Some(p), Some(addr)) => o.resolve.push((h.to_owned(), p, addr)),
                        _ => return Err(usage(format!("option --resolve: bad argument: {v}"))),
                    }
                }
                s if s.starts_with('-') && s.len() > 1 => return Err(usage(format!("option {s}: is unknown"))),
                s => o.url = Some(s.to_owned()),
            }
        }
        Ok(o)
    }

    /// A failure as curl reports it: the verbose lines so far, then
    /// `curl: (CODE) MESSAGE` unless silenced.
    fn fail(&self, code: u8, msg: &str, verbose: &str, shown: &Option<Box<Traced>>) -> Output {
        let mut text = String::new();
        if self.verbose {
            text.push_str(verbose);
        }
        if !self.silent || self.show_error {
            text.push_str(&format!("curl: ({code}) {msg}\n"));
        }
        Output { text, status: code, traced: shown.clone(), clear: false }
    }
}

pub(super) fn curl(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let o = Curl::parse(args)?;
    let Some(raw) = o.url.clone() else { return Err(usage("no URL specified".into())) };
    // curl guesses http:// for a URL without a scheme.
    let full = if raw.contains("://") { raw.clone() } else { format!("http://{raw}") };
    let dest = trace::target::parse_to(&full)
        .map_err(|_| Output::fail(3, "curl: (3) URL using bad/illegal format or missing URL\n"))?;
    let mut spec = dest.http.ok_or_else(|| {
        Output::fail(1, format!("curl: (1) Protocol \"{}\" not supported\n", full.split("://").next().unwrap_or("")))
    })?;
    let port = dest.port.unwrap_or(if spec.scheme == "https" { 443 } else { 80 });
    spec.method = o.method.clone().unwrap_or_else(|| if o.head { "HEAD".into() } else { "GET".into() });
    spec.headers = o.headers.clone();
    let host = spec
        .host_header
        .rsplit_once(':')
        .filter(|(_, p)| p.parse::<u16>().is_ok())
        .map_or(spec.host_header.clone(), |(h, _)| h.to_owned());
    let mut to = dest.to;
    if let Some((_, _, addr)) = o.resolve.iter().find(|(h, p, _)| *h == host && *p == port) {
        to = To::Ip(*addr);
    }
    let req = request(client, to.clone(), port, Protocol::Tcp, seed);
    let t = trace::trace_http(cluster, &req, &spec).map_err(|e| Output::fail(1, format!("podpath: {e}\n")))?;
    let shown = traced(client, &full, port, Protocol::Tcp, seed, t.clone());
    let addr = match (&to, client) {
        (To::Ip(ip), _) => Some(*ip),
        (_, Client::Outside) => {
            dns::upstream(cluster, &host, RType::A).answers.first().and_then(|a| a.data.parse().ok())
        }
        _ => resolved(&t, &to),
    };
    let Some(addr) = addr.filter(|_| t.verdict != Verdict::Nxdomain && !dns_timed_out(&t)) else {
        let v = format!("* Could not resolve host: {host}\n* Closing connection\n");
        return Ok(o.fail(6, &format!("Could not resolve host: {host}"), &v, &shown));
    };
    let mut v = String::new();
    if !matches!(to, To::Ip(_)) {
        v.push_str(&format!("* Host {host}:{port} was resolved.\n* IPv6: (none)\n* IPv4: {addr}\n"));
    }
    v.push_str(&format!("*   Trying {addr}:{port}...\n"));
    if let Err(failed) = connected(&o, &t, (&host, addr, port), &mut v, &shown) {
        return Ok(failed);
    }
    v.push_str(&format!("* Connected to {host} ({addr}) port {port}\n"));
    if spec.scheme == "https" && !o.insecure {
        v.push_str("* SSL certificate problem: self-signed certificate\n* Closing connection\n");
        let mut out = o.fail(60, "SSL certificate problem: self-signed certificate", &v, &shown);
        if !o.silent || o.show_error {
            out.text.push_str("More details here: https://curl.se/docs/sslcerts.html\n\ncurl failed to verify the legitimacy of the server and therefore could not\nestablish a secure connection to it. To learn more about this situation and\nhow to fix it, please visit the web page mentioned above.\n");
        }
        return Ok(out);
    }
    let Some(http) = &t.http else { return Ok(o.fail(52, "Empty reply from server", &v, &shown)) };
    Ok(Output { text: answer(&o, http, &v, &host), status: 0, traced: shown, clear: false })
}

/// Whether the TCP connection was made: the client's own leg, as far as it
/// got — a timeout (28), or a refusal or no route (7).
fn connected(
    o: &Curl,
    t: &Trace,
    (host, addr, port): (&str, IpAddr, u16),
    v: &mut String,
    shown: &Option<Box<Traced>>,
) -> Result<(), Output> {
    let first = t.legs.first().unwrap_or(t);
    if first.verdict == Verdict::Delivered {
        return Ok(());
    }
    if first.lost() {
        let text = match o.max_time {
            Some(s) => format!("Connection timed out after {} milliseconds", (s * 1000.0) as u64 + 1),
            // The kernel gives up after tcp_syn_retries (6): 127 s.
            None => format!("Failed to connect to {host} port {port} after 127000 ms: Couldn't connect to server"),
        };
        return Err(o.fail(28, &text, v, shown));
    }
    let why = if first.verdict == Verdict::Rejected { "Connection refused" } else { "No route to host" };
    if let Some((sip, sport)) = first.hops.first().map(|h| (h.packet.src, h.packet.sport)) {
        v.push_str(&format!("* connect to {addr} port {port} from {sip} port {sport} failed: {why}\n"));
    }
    let msg = format!("Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server");
    v.push_str(&format!("* {msg}\n* Closing connection\n"));
    Err(o.fail(7, &msg, v, shown))
}

/// What curl prints of an answer: with -v the request and response
/// headers, with -I the headers, else the body (unless -o /dev/null).
fn answer(o: &Curl, http: &trace::Http, v: &str, host: &str) -> String {
    let (head_text, body) = http.response.split_once("\r\n\r\n").unwrap_or((http.response.as_str(), ""));
    let mut text = String::new();
    if o.verbose {
        text.push_str(v);
        for line in http.request.split("\r\n") {
            if line.is_empty() {
                text.push_str("> \n");
                break;
            }
            text.push_str(&format!("> {line}\n"));
        }
        for line in head_text.split("\r\n") {
            text.push_str(&format!("< {line}\n"));
        }
        text.push_str("< \n");
    }
    if o.head {
        if !o.verbose {
            for line in head_text.split("\r\n") {
                text.push_str(&format!("{line}\n"));
            }
            text.push('\n');
        }
    } else if !o.discard {
        text.push_str(body);
    }
    if o.verbose {
        text.push_str(&format!("* Connection #0 to host {host} left intact\n"));
    }
    text
}

/// BusyBox's wget: `-q`, `-O FILE|-`, `--spider`, `-U`, `--header`; its
/// progress line, and its messages for what failed.
pub(super) fn wget(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let (mut quiet, mut to_stdout, mut spider) = (false, false, false);
    let mut url = None;
    let mut headers = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-q" => quiet = true,
            "-qO-" | "-qO" => {
                quiet = true;
                to_stdout = a == "-qO-" || it.next().is_some_and(|v| v == "-");
            }
            "-O-" => to_stdout = true,
            "-O" => to_stdout = it.next().is_some_and(|v| v == "-"),
            "--spider" => spider = true,
            "-T" | "--timeout" => {
                it.next();
            }
            "-U" | "--user-agent" => {
                if let Some(v) = it.next() {
                    headers.push(("User-Agent".to_owned(), v.clone()));
                }
            }
            "--header" => {
                if let Some((k, v)) = it.next().and_then(|h| h.split_once(':')) {
                    headers.push((k.trim().to_owned(), v.trim().to_owned()));
                }
            }
            s if s.starts_with('-') => {
                return Err(Output::fail(1, format!("wget: unrecognized option '{s}'\nBusyBox v1.36.1 (2023-11-07 18:53:09 UTC) multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n")))
            }
            s => url = Some(s.to_owned()),
        }
    }
    let Some(raw) = url else { return Err(Output::fail(1, "wget: missing URL\n")) };
    let full = if raw.contains("://") { raw.clone() } else { format!("http://{raw}") };
    let dest = trace::target::parse_to(&full)
        .map_err(|_| Output::fail(1, format!("wget: not an http or ftp url: {raw}\n")))?;
    let mut spec = dest.http.ok_or_else(|| Output::fail(1, format!("wget: not an http or ftp url: {raw}\n")))?;
    // BusyBox's --spider asks with GET too, and reads only the headers.
    spec.client = crate::http::Client::BusyboxWget;
    spec.headers = headers;
    let port = dest.port.unwrap_or(if spec.scheme == "https" { 443 } else { 80 });
    let host = spec.host_header.split(':').next().unwrap_or("").to_owned();
    let to = dest.to;
    let t = trace::trace_http(cluster, &request(client, to.clone(), port, Protocol::Tcp, seed), &spec)
        .map_err(|e| Output::fail(1, format!("podpath: {e}\n")))?;
    let shown = traced(client, &full, port, Protocol::Tcp, seed, t.clone());
    let done = |text: String, status: u8| Ok(Output { text, status, traced: shown.clone(), clear: false });
    if t.verdict == Verdict::Nxdomain || dns_timed_out(&t) {
        return done(format!("wget: bad address '{host}'\n"), 1);
    }
    let addr = resolved(&t, &to).unwrap_or(t.destination_ip);
    let mut text = if quiet { String::new() } else { format!("Connecting to {host} ({addr}:{port})\n") };
    let first = t.legs.first().unwrap_or(&t);
    match first.verdict {
        Verdict::Delivered => {}
        _ if first.lost() => return done(text + "wget: download timed out\n", 1),
        Verdict::Rejected => {
            return done(text + &format!("wget: can't connect to remote host ({addr}): Connection refused\n"), 1)
        }
        _ => return done(text + &format!("wget: can't connect to remote host ({addr}): No route to host\n"), 1),
    }
    let Some(http) = &t.http else { return done(text, 1) };
    let status_line = http.response.split("\r\n").next().unwrap_or("");
    if http.status >= 400 {
        return done(text + &format!("wget: server returned error: {status_line}\n"), 1);
    }
    if spider {
        return done(text + "remote file exists\n", 0);
    }
    let body = http.response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let (file, saved) =
        if to_stdout { ("-", "written to stdout".to_owned()) } else { ("index.html", "'index.html' saved".to_owned()) };
    if !quiet {
        text.push_str(if to_stdout { "writing to stdout\n" } else { "saving to 'index.html'\n" });
    }
    if to_stdout {
        text.push_str(body);
    }
    if !quiet {
        text.push_str(&format!("{file:<20} 100% |{}| {:>5}  0:00:00 ETA\n{saved}\n", "*".repeat(32), body.len()));
    }
    done(text, 0)
}
