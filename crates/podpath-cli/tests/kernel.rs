//! Traces checked against the Linux kernel.
//!
//! For each plugin configuration and proxy mode this kernel can run, the
//! cluster of `kernel/lab.yaml` is built in network namespaces from
//! podpath's own artifacts (`kernel/lab.rs`), and every case below is
//! traced by podpath and then tried for real: a connection (TCP), a
//! datagram (UDP) or an echo request (ICMP) from the source's namespace,
//! servers listening in the pods, tcpdump on every interface. The two must
//! agree on how the attempt ends, which endpoints a Service sends it to,
//! the interfaces the first packet and the first reply cross in order, the
//! addresses and TTL the destination sees, and the tunnel headers on the
//! wire; a difference prints both side by side.
//!
//! What this kernel cannot run (IP-in-IP, Geneve, IPVS, eBPF, Open
//! vSwitch) is listed by `the_cases_the_kernel_cannot_run`, never skipped
//! silently. Needs root, iproute2, iptables, nftables and tcpdump
//! (scripts/setup.sh installs them); PODPATH_SKIP_REAL_TOOLS=1 skips it
//! knowingly, except under CI.

mod common;
mod kernel {
    pub mod capture;
    pub mod check;
    pub mod lab;
    pub mod ns;
    pub mod sockets;
}

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddrV4};
use std::time::Duration;

use kernel::capture;
use kernel::check::{self, Seen};
use kernel::lab::{Lab, Unbuildable};
use kernel::sockets::{self, Proto};
use podpath_core::cluster::{ClusterIp, Protocol};
use podpath_core::trace::{self, From, Request, To};
use podpath_core::{simulate_with, Cluster, Cni, Overrides, ProxyMode, Source};

/// How long a client waits: under TCP's first retransmission (1 s), so a
/// dropped SYN is seen once.
const WAIT: Duration = Duration::from_millis(700);

/// How many tries a Service gets to show every endpoint it balances to.
const TRIES: usize = 40;

fn cluster(cni: Cni, encapsulation: &str, mode: ProxyMode) -> Cluster {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kernel/lab.yaml");
    let text = std::fs::read_to_string(path).expect("the lab's scenario");
    let overrides = Overrides {
        cni: Some(cni),
        proxy_mode: Some(mode),
        // kindnet has no encapsulation to choose.
        encapsulation: Some(encapsulation.to_owned()).filter(|e| !e.is_empty()),
        ..Overrides::default()
    };
    let (c, diags) = simulate_with(&[Source::new("lab.yaml", text)], &overrides);
    assert!(!diags.iter().any(|d| d.is_error()), "{diags:?}");
    c
}

/// One case: a name and the request, as `podpath trace` would take it.
struct Case {
    name: &'static str,
    req: Request,
}

fn pod<'a>(c: &'a Cluster, ns: &str, name_starts: &str, node: Option<&str>) -> &'a podpath_core::Pod {
    c.pods
        .iter()
        .find(|p| {
            p.namespace == ns && p.name.starts_with(name_starts) && node.is_none_or(|n| p.node.as_deref() == Some(n))
        })
        .unwrap_or_else(|| panic!("no pod {ns}/{name_starts}… on {node:?}"))
}

fn from_pod(p: &podpath_core::Pod) -> From {
    From::Pod { namespace: p.namespace.clone(), name: p.name.clone() }
}

fn service_ip(c: &Cluster, name: &str) -> IpAddr {
    match c.service("lab", name).expect("a lab Service").cluster_ip {
        ClusterIp::Ip(ip) => ip,
        _ => panic!("{name} has a ClusterIP"),
    }
}

fn node_ip(c: &Cluster, name: &str) -> IpAddr {
    c.node(name).and_then(|n| n.internal_ip).expect("a node with an address")
}

/// The coverage the issue asks for, on the lab's cluster.
fn cases(c: &Cluster) -> Vec<Case> {
    let client = pod(c, "lab", "client", None);
    let near = pod(c, "lab", "web-", client.node.as_deref());
    let far = c
        .pods
        .iter()
        .find(|p| p.namespace == "lab" && p.name.starts_with("web-") && p.node != client.node)
        .expect("a web pod on another node");
    let req =
        |from: From, to: To, port: u16, protocol: Protocol| Request { from, to, port, protocol, node: None, seed: 0 };
    let pod_to = |p: &podpath_core::Pod| To::Pod { namespace: p.namespace.clone(), name: p.name.clone() };
    let far_node = far.node.clone().expect("scheduled");
    vec![
        Case { name: "pod to pod, same node", req: req(from_pod(client), pod_to(near), 8080, Protocol::Tcp) },
        Case { name: "pod to pod, across nodes", req: req(from_pod(client), pod_to(far), 8080, Protocol::Tcp) },
        Case { name: "ping a pod across nodes", req: req(from_pod(client), pod_to(far), 0, Protocol::Icmp) },
        Case { name: "pod to ClusterIP", req: req(from_pod(client), To::Ip(service_ip(c, "web")), 80, Protocol::Tcp) },
        Case {
            name: "pod to ClusterIP, UDP",
            req: req(from_pod(client), To::Ip(service_ip(c, "web")), 9000, Protocol::Udp),
        },
        Case {
            name: "node to ClusterIP",
            req: req(From::Node("kind-control-plane".into()), To::Ip(service_ip(c, "web")), 80, Protocol::Tcp),
        },
        Case {
            name: "outside to NodePort (Cluster)",
            req: req(From::External, To::Ip(node_ip(c, "kind-control-plane")), 30081, Protocol::Tcp),
        },
        Case {
            name: "outside to NodePort (Local), local endpoint",
            req: req(From::External, To::Ip(node_ip(c, &far_node)), 30080, Protocol::Tcp),
        },
        Case {
            name: "outside to NodePort (Local), no local endpoint",
            req: req(From::External, To::Ip(node_ip(c, "kind-control-plane")), 30080, Protocol::Tcp),
        },
        Case {
            name: "hairpin: a pod to its own Service",
            req: req(from_pod(client), To::Ip(service_ip(c, "client")), 80, Protocol::Tcp),
        },
        Case {
            name: "NetworkPolicy lets only friends in",
            req: req(from_pod(client), pod_to(pod(c, "locked", "guarded", None)), 8080, Protocol::Tcp),
        },
    ]
}

/// The namespace a request starts in.
fn source_place(req: &Request) -> String {
    match &req.from {
        From::Pod { namespace, name } => format!("pod:{namespace}/{name}"),
        From::Node(n) => format!("node:{n}"),
        _ => "outside".into(),
    }
}

/// The address and port the client connects to.
fn target(c: &Cluster, req: &Request) -> SocketAddrV4 {
    let ip = match &req.to {
        To::Ip(ip) => *ip,
        To::Pod { namespace, name } => c.pod(namespace, name).and_then(|p| p.ip).expect("a pod with an address"),
        To::Name(n) => panic!("the lab connects to addresses, not {n}"),
    };
    let IpAddr::V4(v4) = ip else { panic!("IPv4 only: {ip}") };
    SocketAddrV4::new(v4, req.port)
}

fn proto(p: Protocol) -> Proto {
    match p {
        Protocol::Udp => Proto::Udp,
        Protocol::Icmp => Proto::Icmp,
        _ => Proto::Tcp,
    }
}

/// One attempt: the connection, then what the captures and servers saw.
/// One attempt: the connection, then what the captures, the servers and
/// the conntrack table of `nat_node` (where the trace made its entry) saw.
fn attempt(lab: &Lab, from: &str, p: Proto, dst: SocketAddrV4, want: &Seen, nat_node: &str) -> Seen {
    let start = capture::now();
    let (outcome, local) = sockets::attempt(&lab.place(from).path(), p, dst, WAIT);
    // Let the last frames reach the files.
    std::thread::sleep(Duration::from_millis(40));
    let end = capture::now();
    let frames = lab.captures.between(start, end);
    let mut seen = check::observed(&frames, p, &outcome, want);
    seen.served = lab
        .servers
        .between(start, end)
        .first()
        .filter(|_| p != Proto::Icmp)
        .map(|s| format!("{} {} -> {}", s.place, s.peer.ip(), s.local));
    if want.conntrack.is_some() {
        let listing = lab.place(&format!("node:{nat_node}")).exec(&["conntrack", "-L"], None).unwrap_or_default();
        // The client's own address as the first frame shows it (a socket
        // bound to any address learns its source at connect), its port as
        // the socket has it.
        let client = check::client_of(&frames, p).zip(local).map(|((ip, frame_port), l)| {
            let port = if p == Proto::Icmp { frame_port } else { l.port() };
            let ip = if l.ip().is_unspecified() { ip } else { l.ip() };
            (ip, port)
        });
        seen.conntrack = client.and_then(|c| check::listed(&listing, c));
    }
    seen
}

/// Runs one case in the lab; `Err` with both sides when they differ.
fn run_case(lab: &Lab, c: &Cluster, case: &Case) -> Result<(), String> {
    let t = trace::trace(c, &case.req).map_err(|e| format!("{}: the trace failed: {e}", case.name))?;
    let p = proto(case.req.protocol);
    let want = check::expected(&t, p);
    let candidates = check::candidates(&t, c);
    let (from, dst) = (source_place(&case.req), target(c, &case.req));
    let nat_node = t.hops.first().and_then(|h| h.node.clone()).unwrap_or_default();
    // A Service balances at random: try until every endpoint it can pick
    // has answered, keeping the try that reached the trace's own pick.
    let mut reached = BTreeSet::new();
    let mut kept: Option<Seen> = None;
    for _ in 0..if candidates.len() > 1 { TRIES } else { 1 } {
        let seen = attempt(lab, &from, p, dst, &want, &nat_node);
        if let Some(e) = seen.endpoint() {
            reached.insert(e.to_owned());
        }
        let same = seen.endpoint() == want.endpoint();
        if kept.is_none() || (same && kept.as_ref().and_then(Seen::endpoint) != want.endpoint()) {
            kept = Some(seen);
        }
        if reached.is_superset(&candidates) && kept.as_ref().and_then(Seen::endpoint) == want.endpoint() {
            break;
        }
    }
    let got = kept.expect("at least one try");
    let mut problems = Vec::new();
    if candidates.len() > 1 && want.outcome == "answered" && reached != candidates {
        problems.push(format!("the Service's endpoints: trace {candidates:?}, kernel {reached:?}"));
    }
    if got != want {
        problems.push(check::side_by_side(&want, &got));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n  trace {} → {}\n{}\n{t}", case.name, from, dst, problems.join("\n")))
    }
}

/// Builds the lab for one configuration and runs every case in it.
fn check_configuration(tag: &str, cni: Cni, encapsulation: &str, mode: ProxyMode) {
    if common::skipped("the kernel lab") {
        return;
    }
    let c = cluster(cni, encapsulation, mode);
    let lab = match Lab::build(&c, tag) {
        Ok(lab) => lab,
        Err(Unbuildable::Kernel(why)) => panic!("{tag}: listed as runnable, but {why}"),
        Err(Unbuildable::Failed(e)) => panic!("{tag}: the lab could not be built (run as root with iproute2, iptables, nftables and tcpdump, or set PODPATH_SKIP_REAL_TOOLS=1): {e}"),
    };
    let differ = lab.dumps_differ(&c);
    assert!(
        differ.is_empty(),
        "{tag}: what podpath prints of the namespaces is not what the kernel prints:\n{}",
        differ.join("\n")
    );
    // A verdict kindnetd gives in user space is not the kernel's to give:
    // the lab runs no agent on the queue.
    let user_space = c.nodes.iter().any(|n| c.plugin_rules(&n.name).is_some_and(|r| r.nft.is_some()));
    let (cases, left): (Vec<Case>, Vec<Case>) =
        cases(&c).into_iter().partition(|case| !(user_space && case.name.starts_with("NetworkPolicy")));
    for case in &left {
        eprintln!("{tag}: not run: \"{}\" is decided by the plugin's agent in user space (nfqueue)", case.name);
    }
    let failures: Vec<String> = cases.iter().filter_map(|case| run_case(&lab, &c, case).err()).collect();
    eprintln!("{tag}: {} of {} cases equal to the kernel", cases.len() - failures.len(), cases.len());
    assert!(failures.is_empty(), "{cni} {encapsulation}, {mode} mode:\n\n{}", failures.join("\n\n"));
}

/// The configurations the lab runs (one test each below).
const RUNNABLE: [(Cni, &str, ProxyMode); 12] = [
    (Cni::Kindnet, "", ProxyMode::Iptables),
    (Cni::Kindnet, "", ProxyMode::Nftables),
    (Cni::Flannel, "vxlan", ProxyMode::Iptables),
    (Cni::Flannel, "vxlan", ProxyMode::Nftables),
    (Cni::Flannel, "host-gw", ProxyMode::Iptables),
    (Cni::Flannel, "host-gw", ProxyMode::Nftables),
    (Cni::Calico, "VXLAN", ProxyMode::Iptables),
    (Cni::Calico, "VXLAN", ProxyMode::Nftables),
    (Cni::Calico, "None", ProxyMode::Iptables),
    (Cni::Calico, "None", ProxyMode::Nftables),
    (Cni::Calico, "VXLANCrossSubnet", ProxyMode::Iptables),
    (Cni::Calico, "VXLANCrossSubnet", ProxyMode::Nftables),
];

#[test]
fn kindnet_iptables() {
    check_configuration("kni", Cni::Kindnet, "", ProxyMode::Iptables);
}

#[test]
fn kindnet_nftables() {
    check_configuration("knn", Cni::Kindnet, "", ProxyMode::Nftables);
}

#[test]
fn flannel_vxlan_iptables() {
    check_configuration("fvi", Cni::Flannel, "vxlan", ProxyMode::Iptables);
}

#[test]
fn flannel_vxlan_nftables() {
    check_configuration("fvn", Cni::Flannel, "vxlan", ProxyMode::Nftables);
}

#[test]
fn flannel_host_gw_iptables() {
    check_configuration("fhi", Cni::Flannel, "host-gw", ProxyMode::Iptables);
}

#[test]
fn flannel_host_gw_nftables() {
    check_configuration("fhn", Cni::Flannel, "host-gw", ProxyMode::Nftables);
}

/// Every configuration the lab does not run, and why: each must be one the
/// kernel cannot build, so nothing is left out silently.
#[test]
fn the_cases_the_kernel_cannot_run() {
    if common::skipped("the kernel lab") {
        return;
    }
    let runnable: &[(Cni, &str, ProxyMode)] = &RUNNABLE;
    let mut listed = Vec::new();
    for cni in Cni::ALL {
        let words: &[&str] = match cni {
            Cni::Calico => &["IPIP", "VXLAN", "IPIPCrossSubnet", "VXLANCrossSubnet", "None"],
            Cni::Flannel => &["vxlan", "host-gw"],
            Cni::Cilium => &["vxlan", "geneve", "native"],
            Cni::Weave => &["fastdp", "sleeve"],
            Cni::Kindnet => &[""],
        };
        for &enc in words {
            for mode in ProxyMode::ALL {
                if runnable.contains(&(cni, enc, mode))
                    || (mode == ProxyMode::Ebpf) != (cni == Cni::Cilium) && mode == ProxyMode::Ebpf
                {
                    continue;
                }
                let c = cluster(cni, enc, mode);
                match Lab::build(&c, "x") {
                    Err(Unbuildable::Kernel(why)) => listed.push(format!("{cni} {enc}, {mode} mode: {why}")),
                    Err(Unbuildable::Failed(e)) => panic!("{cni} {enc}, {mode} mode: {e}"),
                    Ok(_) => panic!("{cni} {enc}, {mode} mode builds in this kernel: add it to RUNNABLE"),
                }
            }
        }
    }
    eprintln!("not run against the kernel ({}):\n{}", listed.len(), listed.join("\n"));
    assert!(!listed.is_empty());
}

#[test]
fn calico_vxlan_iptables() {
    check_configuration("cvi", Cni::Calico, "VXLAN", ProxyMode::Iptables);
}

#[test]
fn calico_vxlan_nftables() {
    check_configuration("cvn", Cni::Calico, "VXLAN", ProxyMode::Nftables);
}

#[test]
fn calico_none_iptables() {
    check_configuration("cni", Cni::Calico, "None", ProxyMode::Iptables);
}

#[test]
fn calico_none_nftables() {
    check_configuration("cnn", Cni::Calico, "None", ProxyMode::Nftables);
}

#[test]
fn calico_vxlan_cross_subnet_iptables() {
    check_configuration("cxi", Cni::Calico, "VXLANCrossSubnet", ProxyMode::Iptables);
}

#[test]
fn calico_vxlan_cross_subnet_nftables() {
    check_configuration("cxn", Cni::Calico, "VXLANCrossSubnet", ProxyMode::Nftables);
}
