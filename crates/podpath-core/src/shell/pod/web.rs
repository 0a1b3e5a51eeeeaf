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

/// BusyBox's usage text for wget (as Alpine's build prints it), after an
/// option it does not know or without a URL.
const WGET_USAGE: &str = "BusyBox v1.36.1 (2023-11-07 18:53:09 UTC) multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[--no-check-certificate] [-P DIR] [-U AGENT] [-T SEC] URL...\n\nRetrieve files via HTTP or FTP\n\n\t--spider\tOnly check URL existence: $? is 0 if exists\n\t--header STR\tAdd STR (of form 'header: value') to headers\n\t--post-data STR\tSend STR using POST method\n\t--post-file FILE\tSend FILE using POST method\n\t--no-check-certificate\tDon't validate the server's certificate\n\t-c\t\tContinue retrieval of aborted transfer\n\t-q\t\tQuiet\n\t-P DIR\t\tSave to DIR (default .)\n\t-S    \t\tShow server response\n\t-T SEC\t\tNetwork read timeout is SEC seconds\n\t-O FILE\t\tSave to FILE ('-' for stdout)\n\t-o LOGFILE\tLog messages to FILE\n\t-U STR\t\tUse STR for User-Agent header\n\t-Y on/off\tUse proxy\n";

/// wget's long options (networking/wget.c `wget_longopts`, BusyBox 1.36
/// with DESKTOP, as Alpine builds it); the last seven are accepted and
/// ignored, as there.
const WGET_LONG: &[super::getopt::Long] = &[
    ("continue", false, Some('c')),
    ("quiet", false, Some('q')),
    ("server-response", false, Some('S')),
    ("output-document", true, Some('O')),
    ("output-file", true, Some('o')),
    ("directory-prefix", true, Some('P')),
    ("proxy", true, Some('Y')),
    ("user-agent", true, Some('U')),
    ("timeout", true, Some('T')),
    ("header", true, None),
    ("post-data", true, None),
    ("spider", false, None),
    ("no-check-certificate", false, None),
    ("post-file", true, None),
    ("tries", true, None),
    ("passive-ftp", false, None),
    ("no-cache", false, None),
    ("no-verbose", false, None),
    ("no-clobber", false, None),
    ("no-host-directories", false, None),
    ("no-parent", false, None),
];

/// The host part of a URL as typed, port included (`web:80`): BusyBox
/// names it so in `Connecting to …` and `bad address '…'`.
fn typed_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// BusyBox's wget (networking/wget.c), options read by musl's
/// `getopt_long` (`-qO-`, `-T2`, `--timeout=2`): its progress lines, and
/// its messages for what failed (libbb/xconnect.c `bad address '%s'` with
/// the host as typed, `can't connect to remote host (%s)`, `download timed
/// out`, `server returned error: %s`).
pub(super) fn wget(cluster: &Cluster, client: &Client, args: &[String], seed: u64) -> Ran {
    let o = super::getopt::parse("cqSO:o:P:Y:U:T:", WGET_LONG, args)
        .map_err(|e| Output::fail(1, format!("wget: {e}\n{WGET_USAGE}")))?;
    // `T:+`: a non-negative number (xatoi_positive).
    if let Some(t) = o.value("T").filter(|t| t.parse::<u32>().is_err()) {
        return Err(Output::fail(1, format!("wget: invalid number '{t}'\n")));
    }
    let (quiet, spider, show_response) = (o.has("q"), o.has("spider"), o.has("S"));
    let output = o.value("O").map(str::to_owned);
    let mut headers = Vec::new();
    if let Some(agent) = o.value("U") {
        headers.push(("User-Agent".to_owned(), agent.to_owned()));
    }
    for h in o.opts.iter().filter(|x| x.key == "header") {
        if let Some((k, v)) = h.value.as_deref().and_then(|h| h.split_once(':')) {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let url = o.operands.first().cloned();
    let Some(raw) = url else { return Err(Output::fail(1, WGET_USAGE.to_owned())) };
    let full = if raw.contains("://") { raw.clone() } else { format!("http://{raw}") };
    let dest = trace::target::parse_to(&full)
        .map_err(|_| Output::fail(1, format!("wget: not an http or ftp url: {raw}\n")))?;
    let mut spec = dest.http.ok_or_else(|| Output::fail(1, format!("wget: not an http or ftp url: {raw}\n")))?;
    // BusyBox's --spider asks with GET too, and reads only the headers.
    spec.client = crate::http::Client::BusyboxWget;
    spec.headers = headers;
    let port = dest.port.unwrap_or(if spec.scheme == "https" { 443 } else { 80 });
    let host = typed_host(&raw).to_owned();
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
        // musl's strerror(EHOSTUNREACH).
        _ => return done(text + &format!("wget: can't connect to remote host ({addr}): Host is unreachable\n"), 1),
    }
    let Some(http) = &t.http else { return done(text, 1) };
    let status_line = http.response.split("\r\n").next().unwrap_or("");
    if show_response {
        // -S: each line of the response's head, indented by two spaces.
        let head = http.response.split("\r\n\r\n").next().unwrap_or("");
        for line in head.split("\r\n") {
            text.push_str(&format!("  {line}\n"));
        }
    }
    if http.status >= 400 {
        return done(text + &format!("wget: server returned error: {status_line}\n"), 1);
    }
    if spider {
        return done(text + "remote file exists\n", 0);
    }
    let body = http.response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // -O names the file (`-` is stdout); without it, the URL's last path
    // segment, or index.html.
    let file = output.unwrap_or_else(|| {
        let path = raw.split_once("://").map_or(raw.as_str(), |(_, r)| r);
        let path = path.split(['?', '#']).next().unwrap_or(path);
        match path.split_once('/').map(|(_, p)| p.rsplit('/').next().unwrap_or("")) {
            Some(last) if !last.is_empty() => last.to_owned(),
            _ => "index.html".to_owned(),
        }
    });
    let to_stdout = file == "-";
    if !quiet {
        text.push_str(&if to_stdout { "writing to stdout\n".to_owned() } else { format!("saving to '{file}'\n") });
    }
    if to_stdout {
        text.push_str(body);
    }
    if !quiet {
        let saved = if to_stdout { "written to stdout".to_owned() } else { format!("'{file}' saved") };
        // The progress line names the file without its directory
        // (bb_get_last_path_component_nostrip), in 20 columns.
        let shown: String = file.rsplit('/').next().unwrap_or(&file).chars().take(20).collect();
        text.push_str(&format!("{shown:<20} 100% |{}| {:>5}  0:00:00 ETA\n{saved}\n", "*".repeat(32), body.len()));
    }
    done(text, 0)
}
