//! The generated rules against the real tools: every node's `podpath rules`
//! output is loaded by a real `iptables-restore` (or `nft -f`) inside a
//! network namespace made for the test, and what the real `iptables-save`
//! (or `nft list table`) prints back must be what podpath printed.
//!
//! This needs root, iptables and nftables (scripts/setup.sh installs them; CI runs as
//! root). Where they are missing the test fails rather than passing without
//! checking; set PODPATH_SKIP_REAL_TOOLS=1 to skip it knowingly (refused
//! when CI is set).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{run, skipped, tool as find};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A network namespace that is deleted when dropped.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Result<Netns, String> {
        let name = format!("podpath-{}-{tag}", std::process::id());
        run(Command::new(find("ip")).args(["netns", "add", &name]), None)?;
        Ok(Netns(name))
    }

    fn exec(&self, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
        let (tool, rest) = args.split_first().expect("a command");
        let tool = find(tool);
        run(Command::new(find("ip")).args(["netns", "exec", &self.0]).arg(&tool).args(rest), stdin)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new(find("ip")).args(["netns", "del", &self.0]).status();
    }
}

/// tshark's fields for a pcap, with checksum validation on, VXLAN decoded
/// on Flannel's port, and the malformed and expert columns last (after
/// `fields`); the file is removed.
fn tshark(file: &Path, args: &[&str], fields: &[&str]) -> String {
    let mut cmd = Command::new(find("tshark"));
    cmd.args(["-r", file.to_str().unwrap(), "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"])
        .args(["-o", "udp.check_checksum:TRUE", "-d", "udp.port==8472,vxlan"])
        .args(args);
    for f in fields.iter().chain(&["_ws.malformed", "_ws.expert.message"]) {
        cmd.args(["-e", f]);
    }
    let out =
        run(&mut cmd, None).unwrap_or_else(|e| panic!("tshark must be installed (scripts/setup.sh does it): {e}"));
    let _ = std::fs::remove_file(file);
    out
}

fn podpath(args: &[&str]) -> String {
    run(Command::new(env!("CARGO_BIN_EXE_podpath")).args(args).current_dir(root()), None).expect("podpath runs")
}

/// Runs `check` for every node of the fixtures, each in a fresh network
/// namespace, unless PODPATH_SKIP_REAL_TOOLS is set; returns how many.
fn each_node(tag: &str, mut check: impl FnMut(&str, &str, &Netns)) -> usize {
    if skipped("the real-tool tests") {
        return usize::MAX;
    }
    let fixtures = ["web/scenarios/shop.yaml", "crates/podpath-core/tests/scenarios/proxy.yaml"];
    let mut checked = 0;
    for (i, fixture) in fixtures.iter().enumerate() {
        let nodes: serde_json::Value =
            serde_json::from_str(&podpath(&["get", "nodes", "-o", "json", "-f", fixture])).unwrap();
        for (j, node) in nodes["items"].as_array().unwrap().iter().enumerate() {
            let name = node["metadata"]["name"].as_str().unwrap();
            let ns = Netns::new(&format!("{tag}{i}{j}")).unwrap_or_else(|e| {
                panic!("cannot make a network namespace (run as root with iproute2, or set PODPATH_SKIP_REAL_TOOLS=1): {e}")
            });
            check(fixture, name, &ns);
            checked += 1;
        }
    }
    checked
}

/// iptables-save's output without its timestamp comments.
fn saved(ns: &Netns) -> String {
    ns.exec(&["iptables-save"], None)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn iptables_restore_loads_every_node_and_iptables_save_prints_it_back() {
    let checked = each_node("i", |fixture, name, ns| {
        let ours = podpath(&["rules", "--node", name, "-f", fixture]);
        ns.exec(&["iptables-restore"], Some(&ours)).unwrap_or_else(|e| panic!("{fixture} {name}: {e}"));
        assert_eq!(saved(ns), ours, "{fixture} on {name}: iptables-save prints back something else");
    });
    assert!(checked >= 6, "checked {checked} nodes");
}

#[test]
fn iptables_lists_the_rules_as_the_node_shell_does() {
    // `iptables -L -n [-v]` of the loaded rules, next to the shell's.
    let checked = each_node("l", |fixture, name, ns| {
        let ours = podpath(&["rules", "--node", name, "-f", fixture]);
        ns.exec(&["iptables-restore"], Some(&ours)).unwrap_or_else(|e| panic!("{fixture} {name}: {e}"));
        for args in [["-t", "nat", "-L", "-n"], ["-t", "filter", "-L", "-n"], ["-t", "nat", "-L", "-nv"]] {
            let real = ns.exec(&[&["iptables"][..], &args[..]].concat(), None).unwrap();
            let line = format!("iptables {}", args.join(" "));
            let shell = podpath(&[
                "exec",
                &format!("node/{name}"),
                "-f",
                fixture,
                "--",
                "iptables",
                args[0],
                args[1],
                args[2],
                args[3],
            ]);
            assert_eq!(shell, real, "{fixture} on {name}: {line}");
        }
    });
    assert!(checked >= 6, "checked {checked} nodes");
}

/// nft prints the elements of a set in its own order and wraps them its
/// own way: compare them as sets, everything else line for line.
fn normalise_elements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        let buf = match pending.take() {
            Some(b) => format!("{b} {t}"),
            None if t.starts_with("elements = {") => t.to_owned(),
            None => {
                out.push(line.to_owned());
                continue;
            }
        };
        if !buf.ends_with('}') {
            pending = Some(buf);
            continue;
        }
        let inner = &buf[buf.find('{').unwrap() + 1..buf.rfind('}').unwrap()];
        let mut items: Vec<&str> = inner.split(',').map(str::trim).collect();
        podpath_core::order::sort(&mut items);
        out.push(format!("elements {}", items.join(" | ")));
    }
    out
}

#[test]
fn nft_loads_every_node_and_lists_it_back() {
    let checked = each_node("n", |fixture, name, ns| {
        let ours = podpath(&["rules", "--node", name, "--mode", "nftables", "-f", fixture]);
        ns.exec(&["nft", "-f", "-"], Some(&ours)).unwrap_or_else(|e| panic!("{fixture} {name}: {e}"));
        let theirs = ns.exec(&["nft", "list", "table", "ip", "kube-proxy"], None).unwrap();
        assert_eq!(
            normalise_elements(&theirs),
            normalise_elements(&ours),
            "{fixture} on {name}: nft lists back something else"
        );
        assert!(ours.contains("numgen random mod"), "{fixture} on {name}: no load balancing written");
    });
    assert!(checked >= 6, "checked {checked} nodes");
}

/// `ipset save` with the per-set hash parameters the kernel picks (bucket
/// size, a random initval) left out, members sorted.
fn normalise_ipsets(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| match l.find(" bucketsize ") {
            Some(i) => l[..i].to_owned(),
            None => l.to_owned(),
        })
        .collect();
    podpath_core::order::sort(&mut lines);
    lines
}

#[test]
fn ipvs_mode_ipsets_and_iptables_load_into_the_real_tools() {
    let checked = each_node("v", |fixture, name, ns| {
        let args = |show: &str| podpath(&["rules", "--node", name, "--mode", "ipvs", "--show", show, "-f", fixture]);
        let (sets, rules) = (args("ipset"), args("iptables"));
        // The rules name the sets: the sets go in first, as kube-proxy
        // creates them first.
        ns.exec(&["ipset", "restore"], Some(&sets)).unwrap_or_else(|e| panic!("{fixture} {name}: {e}"));
        ns.exec(&["iptables-restore"], Some(&rules)).unwrap_or_else(|e| panic!("{fixture} {name}: {e}"));
        assert_eq!(saved(ns), rules, "{fixture} on {name}: iptables-save prints back something else");
        let theirs = ns.exec(&["ipset", "save"], None).unwrap();
        assert_eq!(normalise_ipsets(&theirs), normalise_ipsets(&sets), "{fixture} on {name}: ipset save differs");
        assert!(sets.contains("add KUBE-CLUSTER-IP "), "{fixture} on {name}: no cluster IPs in the sets");
    });
    assert!(checked >= 6, "checked {checked} nodes");
}

/// The pcap of a cross-node trace under each plugin, read by tshark with
/// checksum validation on: no malformed frame, no bad checksum, and the
/// layers the plugin's encapsulation puts on the wire.
#[test]
fn tshark_decodes_the_pcap_of_a_cross_node_trace_for_every_plugin() {
    if skipped("the real-tool tests") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("podpath-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = "web/scenarios/shop.yaml";
    let vxlan = "eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp";
    for (cni, encapsulation, layers) in [
        ("flannel", "vxlan", vxlan),
        ("flannel", "host-gw", "eth:ethertype:ip:tcp"),
        ("calico", "IPIP", "eth:ethertype:ip:ip:tcp"),
        ("calico", "VXLAN", vxlan),
        ("calico", "None", "eth:ethertype:ip:tcp"),
        ("cilium", "vxlan", vxlan),
        ("cilium", "geneve", "eth:ethertype:ip:udp:geneve:eth:ethertype:ip:tcp"),
        ("cilium", "native", "eth:ethertype:ip:tcp"),
        ("weave", "fastdp", vxlan),
        // No dissector knows sleeve: its frames stay data to tshark.
        ("weave", "sleeve", "eth:ethertype:ip:udp:data"),
    ] {
        // A client and a server on different nodes, as the CLI lists them.
        let pods: serde_json::Value =
            serde_json::from_str(&podpath(&["get", "pods", "-n", "shop", "-o", "json", "--cni", cni, "-f", f]))
                .unwrap();
        let items = pods["items"].as_array().unwrap();
        let node = |p: &serde_json::Value| p["spec"]["nodeName"].as_str().unwrap().to_owned();
        let name = |p: &serde_json::Value| format!("shop/{}", p["metadata"]["name"].as_str().unwrap());
        let client = items.iter().find(|p| name(p).contains("frontend")).unwrap();
        let server = items.iter().find(|p| name(p).contains("api") && node(p) != node(client)).unwrap();
        let file = dir.join(format!("{cni}-{encapsulation}.pcap"));
        let out = run(
            Command::new(env!("CARGO_BIN_EXE_podpath"))
                .args([
                    "pcap",
                    "-w",
                    file.to_str().unwrap(),
                    "--cni",
                    cni,
                    "--encapsulation",
                    encapsulation,
                    "--from",
                    &name(client),
                    "--to",
                    &name(server),
                ])
                .args(["--port", "8080", "-f", f])
                .current_dir(root()),
            None,
        );
        out.unwrap_or_else(|e| panic!("{cni}: {e}"));
        let fields = run(
            Command::new(find("tshark"))
                .args(["-r", file.to_str().unwrap(), "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"])
                .args(["-o", "udp.check_checksum:TRUE", "-d", "udp.port==8472,vxlan", "-d", "udp.port==6784,vxlan"])
                .args(["-T", "fields", "-e", "frame.protocols", "-e", "_ws.malformed", "-e", "_ws.expert.message"]),
            None,
        )
        .unwrap_or_else(|e| panic!("tshark must be installed (scripts/setup.sh does it): {e}"));
        let lines: Vec<&str> = fields.lines().collect();
        let cni = format!("{cni} {encapsulation}");
        assert!(lines.len() >= 6, "{cni}: {} frames", lines.len());
        for l in &lines {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(cols.get(1).is_none_or(|m| m.is_empty()), "{cni}: malformed frame: {l}");
            let expert = cols.get(2).copied().unwrap_or("").to_ascii_lowercase();
            assert!(!expert.contains("checksum") && !expert.contains("malformed"), "{cni}: {l}");
        }
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{layers}\t"))),
            "{cni}: no frame with {layers}:\n{fields}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A connection's whole exchange in the pcap: tshark follows the TCP
/// handshake, the HTTP request and response and the close, with every
/// checksum valid and the sequence numbers consistent (no "previous segment
/// not captured", no "ACKed unseen segment").
#[test]
fn tshark_follows_a_whole_http_exchange_through_the_tunnel() {
    if skipped("the real-tool tests") {
        return;
    }
    use podpath_core::trace::{trace, From, Payload, Request, To};
    let text = std::fs::read_to_string(root().join("web/scenarios/shop.yaml")).unwrap();
    let (c, _) = podpath_core::simulate(&[podpath_core::Source::new("shop.yaml", text)]);
    let client = c.pods.iter().find(|p| p.name.starts_with("frontend-")).unwrap();
    let server = c.pods.iter().find(|p| p.name.starts_with("api-") && p.node != client.node).unwrap();
    let req = Request {
        from: From::Pod { namespace: "shop".into(), name: client.name.clone() },
        to: To::Pod { namespace: "shop".into(), name: server.name.clone() },
        port: 8080,
        protocol: podpath_core::cluster::Protocol::Tcp,
        node: None,
        seed: 1,
    };
    let mut t = trace(&c, &req).unwrap();
    let ip = server.ip.unwrap();
    t.payload = Some(Payload {
        request: format!("GET / HTTP/1.1\r\nHost: {ip}:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n")
            .into_bytes(),
        response: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n".to_vec(),
    });
    let file = std::env::temp_dir().join(format!("podpath-http-{}.pcap", std::process::id()));
    std::fs::write(&file, podpath_core::pcap::write(&t)).unwrap();
    let fields = tshark(
        &file,
        &["-d", "tcp.port==8080,http", "-T", "fields", "-e", "frame.protocols", "-e", "tcp.flags.str"],
        &["http.request.method", "http.response.code"],
    );
    let rows: Vec<Vec<&str>> = fields.lines().map(|l| l.split('\t').collect()).collect();
    for r in &rows {
        assert!(r.get(4).is_none_or(|m| m.is_empty()), "malformed: {r:?}");
        let expert = r.get(5).copied().unwrap_or("").to_ascii_lowercase();
        for bad in ["checksum", "malformed", "previous segment", "unseen segment"] {
            assert!(!expert.contains(bad), "{bad}: {r:?}");
        }
    }
    let flags = |f: &str| rows.iter().filter(|r| r[1].contains(f)).count();
    assert!(flags("S") > 0 && rows.iter().any(|r| r[1].contains('S') && r[1].contains('A')), "SYN, SYN-ACK: {fields}");
    assert!(flags("F") > 0, "the close: {fields}");
    // Every copy after the first is the same segment at a later hop, which
    // tshark marks as a retransmission and does not dissect again.
    assert!(rows.iter().any(|r| r[0].ends_with(":tcp:http") && r[2] == "GET"), "{fields}");
    assert!(rows.iter().any(|r| r[0].contains(":tcp:http") && r[3] == "200"), "{fields}");
}

/// A trace to a name: its DNS exchange comes first in the pcap, and tshark
/// reads the query and CoreDNS's answer out of it.
#[test]
fn tshark_reads_the_dns_exchange_before_the_connection() {
    if skipped("the real-tool tests") {
        return;
    }
    let f = "web/scenarios/shop.yaml";
    let pods: serde_json::Value =
        serde_json::from_str(&podpath(&["get", "pods", "-n", "shop", "-o", "json", "-f", f])).unwrap();
    let client = format!("shop/{}", pods["items"][0]["metadata"]["name"].as_str().unwrap());
    let file = std::env::temp_dir().join(format!("podpath-dns-{}.pcap", std::process::id()));
    podpath(&[
        "pcap",
        "-w",
        file.to_str().unwrap(),
        "--from",
        &client,
        "--to",
        "api.example.com",
        "--port",
        "443",
        "-f",
        f,
    ]);
    let fields = tshark(
        &file,
        &["-Y", "dns", "-T", "fields", "-e", "dns.qry.name", "-e", "dns.flags.response"],
        &["dns.flags.rcode", "dns.a"],
    );
    let rows: Vec<Vec<&str>> = fields.lines().map(|l| l.split('\t').collect()).collect();
    for r in &rows {
        assert!(r.get(4).is_none_or(|m| m.is_empty()), "malformed: {r:?}");
        assert!(!r.get(5).copied().unwrap_or("").to_ascii_lowercase().contains("checksum"), "{r:?}");
    }
    // The search list at work: NXDOMAIN (rcode 3) for the first three
    // names, then the answer.
    let answers: Vec<(&str, &str)> =
        rows.iter().filter(|r| r[1] == "1" || r[1] == "True").map(|r| (r[0], r[2])).collect();
    let firsts: Vec<&(&str, &str)> = answers.iter().fold(Vec::new(), |mut v, a| {
        if !v.iter().any(|b: &&(&str, &str)| b.0 == a.0) {
            v.push(a);
        }
        v
    });
    assert_eq!(
        firsts.iter().map(|(n, c)| format!("{n} {c}")).collect::<Vec<_>>(),
        [
            "api.example.com.shop.svc.cluster.local 3",
            "api.example.com.svc.cluster.local 3",
            "api.example.com.cluster.local 3",
            "api.example.com 0"
        ],
        "{fields}"
    );
    assert!(rows.iter().any(|r| r[3].starts_with("203.0.113.")), "{fields}");
}

/// A request through the ingress controller is two connections in the
/// pcap, client to controller and controller to backend, both HTTP that
/// tshark reads.
#[test]
fn tshark_reads_both_connections_of_a_proxied_request() {
    if skipped("the real-tool tests") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("podpath-ingress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ingress = dir.join("ingress.yaml");
    std::fs::write(&ingress, "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop, namespace: shop}\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}\n").unwrap();
    let file = dir.join("in.pcap");
    podpath(&[
        "pcap",
        "-w",
        file.to_str().unwrap(),
        "--from",
        "external",
        "--to",
        "http://shop.example.com/items",
        "-f",
        "web/scenarios/shop.yaml",
        "-f",
        ingress.to_str().unwrap(),
    ]);
    let fields = tshark(
        &file,
        &["-d", "tcp.port==8080,http", "-Y", "http", "-T", "fields", "-e", "ip.src", "-e", "ip.dst"],
        &["http.request.method", "http.response.code", "http.x_forwarded_for"],
    );
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<Vec<&str>> = fields.lines().map(|l| l.split('\t').collect()).collect();
    assert!(rows.iter().all(|r| r.get(5).is_none_or(|m| m.is_empty())), "{fields}");
    // The client's GET, to the LoadBalancer address (and again after the
    // DNAT, addressed to the controller pod); the controller's own GET to the
    // backend pod, saying who asked.
    let client = "198.51.100.7";
    let gets: Vec<&Vec<&str>> = rows.iter().filter(|r| r[2] == "GET").collect();
    assert!(gets.iter().any(|r| r[0] == client), "{fields}");
    let proxied = gets.iter().find(|r| r[0] != client).expect("the controller's request");
    assert_eq!(proxied[4], client, "X-Forwarded-For: {fields}");
    let (controller, backend) = (proxied[0], proxied[1]);
    // The backend answers the controller; the client gets an answer back.
    assert!(rows.iter().any(|r| r[0] == backend && r[1] == controller && r[3] == "200"), "{fields}");
    assert!(rows.iter().any(|r| r[1] == client && r[3] == "200"), "{fields}");
}

#[test]
fn the_capture_view_reads_frames_as_tshark_does() {
    if skipped("the real-tool tests") {
        return;
    }
    // curl by name: the DNS exchange, then HTTP through the VXLAN tunnel.
    let text = std::fs::read_to_string(root().join("web/scenarios/shop.yaml")).unwrap();
    let (c, _) = podpath_core::simulate(&[podpath_core::Source::new("shop.yaml", text)]);
    let client = c.pods.iter().find(|p| p.name.starts_with("frontend-")).unwrap().key();
    let t = podpath_core::trace::target::trace_words(
        &c,
        &client,
        "http://api",
        80,
        podpath_core::cluster::Protocol::Tcp,
        1,
    )
    .unwrap();
    let frames = podpath_core::pcap::packets(&t);
    let file = std::env::temp_dir().join(format!("podpath-view-{}.pcap", std::process::id()));
    std::fs::write(&file, podpath_core::pcap::write_packets(&frames)).unwrap();
    let out = run(
        Command::new(find("tshark"))
            .args(["-r", file.to_str().unwrap(), "-d", "udp.port==8472,vxlan", "-T", "fields", "-E", "separator=|"])
            .args([
                "-e",
                "_ws.col.Source",
                "-e",
                "_ws.col.Destination",
                "-e",
                "_ws.col.Protocol",
                "-e",
                "_ws.col.Info",
            ]),
        None,
    )
    .unwrap_or_else(|e| panic!("tshark must be installed (scripts/setup.sh does it): {e}"));
    let _ = std::fs::remove_file(&file);
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.splitn(4, '|').collect()).collect();
    assert_eq!(rows.len(), frames.len());
    let mut compared = 0;
    for (i, (f, r)) in frames.iter().zip(&rows).enumerate() {
        let d = podpath_core::capture::dissect(&f.data, i + 1);
        let ours = [d.source.as_str(), d.destination.as_str()];
        assert_eq!(&ours[..], &r[..2], "frame {}: {} / tshark {r:?}", i + 1, d.info);
        // tshark marks later copies of a segment as retransmissions (and
        // does not read their HTTP again): the others must read the same.
        if !r[3].starts_with('[') {
            assert_eq!((d.protocol.as_str(), d.info.as_str()), (r[2], r[3].trim_end()), "frame {}", i + 1);
            compared += 1;
        }
    }
    assert!(compared >= 10, "{compared} infos compared:\n{out}");
    assert!(rows.iter().any(|r| r[2] == "DNS") && rows.iter().any(|r| r[2] == "HTTP"), "{out}");
}
