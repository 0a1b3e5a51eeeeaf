//! The cluster podpath describes, built in network namespaces from
//! podpath's own artifacts and nothing else: one namespace per node, joined
//! by a bridge as kind's docker network joins them (the "wire", whose
//! address is the nodes' default gateway and which routes to a client
//! outside), one namespace per pod; each namespace's devices as `ip -d
//! link` would name them (the model's link kinds), then its `ip addr`,
//! `ip route`, `ip neigh` and `bridge fdb` output replayed as iproute2
//! commands, its sysctls, and each node's service-proxy dump loaded with
//! `iptables-restore` or `nft -f`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use podpath_core::cluster::Protocol;
use podpath_core::datapath::{self, Kind, Netns};
use podpath_core::settings::Encapsulation;
use podpath_core::shell::Shell;
use podpath_core::{Cluster, ProxyMode};

use super::capture::Captures;
use super::ns::Ns;
use super::sockets::{Proto, Servers};

/// The outside client's side of the wire: `OUTSIDE_CLIENT` on a /24 whose
/// first address is the wire's.
const OUTSIDE_PREFIX: u8 = 24;

/// The lab, torn down when dropped (captures and servers stop first).
#[derive(Debug)]
pub struct Lab {
    pub servers: Servers,
    pub captures: Captures,
    /// Namespaces by place: `node:NAME`, `pod:NS/NAME`, `outside`.
    pub places: BTreeMap<String, Ns>,
    wire: Ns,
    dir: PathBuf,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = &self.wire;
    }
}

/// Why a configuration cannot be built in this kernel.
#[derive(Debug)]
pub enum Unbuildable {
    /// The kernel lacks what it needs (IP-in-IP, Geneve, IPVS, eBPF…).
    Kernel(String),
    Failed(String),
}

impl From<String> for Unbuildable {
    fn from(e: String) -> Unbuildable {
        Unbuildable::Failed(e)
    }
}

impl Lab {
    pub fn place(&self, place: &str) -> &Ns {
        self.places.get(place).unwrap_or_else(|| panic!("no namespace for {place}"))
    }

    pub fn build(cluster: &Cluster, tag: &str) -> Result<Lab, Unbuildable> {
        let mode = cluster.settings.proxy_mode;
        if !matches!(mode, ProxyMode::Iptables | ProxyMode::Nftables) {
            return Err(Unbuildable::Kernel(format!("{mode} mode: this kernel has no IPVS and no eBPF datapath")));
        }
        // Plugins whose datapath is a program of their own, not devices
        // and routes the kernel can be given.
        match cluster.settings.cni {
            podpath_core::Cni::Cilium => {
                return Err(Unbuildable::Kernel("Cilium: its datapath is its agent's eBPF programs".into()));
            }
            podpath_core::Cni::Weave if cluster.settings.encapsulation == Encapsulation::Sleeve => {
                return Err(Unbuildable::Kernel("Weave sleeve: its tunnel is the weave router process".into()));
            }
            _ => {}
        }
        let network = datapath::build(cluster);
        let name = |what: &str| format!("pp{}{tag}-{what}", std::process::id() % 10000);
        let wire = Ns::new(name("w"))?;
        let mut places = BTreeMap::new();
        let gateway = gateway(&network)?;
        wire.ip(&[
            "link add kind type bridge".into(),
            format!("addr add {gateway} dev kind"),
            "link set kind up".into(),
        ])?;
        wire.sysctls(&[("net.ipv4.ip_forward".into(), "1".into())])?;

        // The client outside, routed by the wire.
        let outside = Ns::new(name("out"))?;
        let client = podpath_core::trace::OUTSIDE_CLIENT;
        let IpAddr::V4(c4) = client else { unreachable!("an IPv4 literal") };
        let out_gw = Ipv4Addr::from(u32::from(c4) & 0xffff_ff00 | 1);
        outside.ip(&[
            format!("link add eth0 type veth peer name out0 netns {}", wire.name),
            format!("addr add {client}/{OUTSIDE_PREFIX} dev eth0"),
            "link set lo up".into(),
            "link set eth0 up".into(),
            format!("route add default via {out_gw}"),
        ])?;
        wire.ip(&[format!("addr add {out_gw}/{OUTSIDE_PREFIX} dev out0"), "link set out0 up".into()])?;
        places.insert("outside".to_owned(), outside);

        // Every pod's namespace first: the nodes' veths are made into them.
        for (i, key) in network.nodes.iter().flat_map(|n| n.pods.keys()).enumerate() {
            places.insert(format!("pod:{key}"), Ns::new(name(&format!("p{i}")))?);
        }
        for (i, node) in network.nodes.iter().enumerate() {
            let ns = Ns::new(name(&format!("n{i}")))?;
            let ip = node_ip(&node.host).ok_or_else(|| format!("{} has no eth0 address", node.node))?;
            make_links(&node.host, &ns, &wire, &places, i, ip)?;
            replay(&node.host, &ns)?;
            for (key, pod) in &node.pods {
                let pod_ns = &places[&format!("pod:{key}")];
                replay(pod, pod_ns)?;
            }
            load_rules(cluster, &node.node, mode, &ns)?;
            places.insert(format!("node:{}", node.node), ns);
        }

        let mut servers = Servers::new();
        for pod in &cluster.pods {
            let (Some(IpAddr::V4(ip)), false) = (pod.ip, pod.host_network) else { continue };
            let Some(ns) = places.get(&format!("pod:{}", pod.key())) else { continue };
            for p in pod.spec.containers.iter().flat_map(|c| c.ports.iter().flatten()) {
                let proto = match Protocol::parse(p.protocol.as_deref()) {
                    Some(Protocol::Udp) => Proto::Udp,
                    _ => Proto::Tcp,
                };
                let port = u16::try_from(p.container_port).map_err(|e| e.to_string())?;
                servers.listen(&ns.path(), &format!("pod:{}", pod.key()), proto, ip, port)?;
            }
        }

        let dir = std::env::temp_dir().join(name("pcap"));
        let mut ifaces = vec![(places["outside"].name.clone(), "outside".to_owned(), "eth0".to_owned())];
        for node in &network.nodes {
            let ns = &places[&format!("node:{}", node.node)];
            for l in node.host.links.iter().filter(|l| l.kind != Kind::Loopback) {
                ifaces.push((ns.name.clone(), format!("node:{}", node.node), l.name.clone()));
            }
            for key in node.pods.keys() {
                ifaces.push((places[&format!("pod:{key}")].name.clone(), format!("pod:{key}"), "eth0".to_owned()));
            }
        }
        let vxlan_ports = network
            .nodes
            .iter()
            .flat_map(|n| &n.host.links)
            .filter_map(|l| match l.kind {
                Kind::Vxlan { port, .. } => Some(port),
                _ => None,
            })
            .collect();
        let captures = Captures::start(&dir, &ifaces, vxlan_ports)?;
        Ok(Lab { servers, captures, places, wire, dir })
    }

    /// What the kernel itself prints of each namespace the lab replayed
    /// (`ip route`, the neighbours and VXLAN entries programmed, the bridge
    /// ports' flags) against podpath's rendering of the same namespace:
    /// the differing lines, `place: tool: -podpath +kernel`.
    pub fn dumps_differ(&self, cluster: &Cluster) -> Vec<String> {
        let network = datapath::build(cluster);
        let mut out = Vec::new();
        for node in &network.nodes {
            let spaces = std::iter::once((format!("node:{}", node.node), &node.host))
                .chain(node.pods.iter().map(|(k, ns)| (format!("pod:{k}"), ns)));
            for (place, netns) in spaces {
                let ns = self.place(&place);
                let kernel = |argv: &[&str]| ns.exec(argv, None).unwrap_or_else(|e| e);
                let permanent = |text: &str| lines(text).into_iter().filter(|l| l.ends_with("PERMANENT")).collect();
                let vxlan = |text: &str| lines(text).into_iter().filter(|l| l.contains(" dst ")).collect();
                let checks: [(&str, Vec<String>, Vec<String>); 3] = [
                    ("ip route", lines(&netns.ip_route()), lines(&kernel(&["ip", "route", "show"]))),
                    ("ip neigh", permanent(&netns.ip_neigh()), permanent(&kernel(&["ip", "neigh", "show"]))),
                    ("bridge fdb", vxlan(&netns.bridge_fdb()), vxlan(&kernel(&["bridge", "fdb", "show"]))),
                ];
                for (tool, ours, theirs) in checks {
                    let (mut a, mut b) = (ours.clone(), theirs.clone());
                    podpath_core::order::sort(&mut a);
                    podpath_core::order::sort(&mut b);
                    if a != b {
                        let minus = ours.iter().filter(|l| !theirs.contains(l)).map(|l| format!("-{l}"));
                        let plus = theirs.iter().filter(|l| !ours.contains(l)).map(|l| format!("+{l}"));
                        out.push(format!("{place}: {tool}: {}", minus.chain(plus).collect::<Vec<_>>().join(" | ")));
                    }
                }
            }
        }
        out
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim_end().to_owned()).filter(|l| !l.is_empty()).collect()
}

/// The nodes' default gateway, with the prefix of their network: the
/// wire's address.
fn gateway(network: &datapath::Network) -> Result<String, String> {
    let host = &network.nodes.first().ok_or("no nodes")?.host;
    let via = host.routes.iter().find(|r| r.dst.is_none()).and_then(|r| r.via).ok_or("no default route")?;
    let eth0 = host.link("eth0").and_then(|l| l.addrs.first()).ok_or("no eth0 address")?;
    Ok(format!("{via}/{}", eth0.prefix_len()))
}

fn node_ip(host: &Netns) -> Option<IpAddr> {
    host.link("eth0").and_then(|l| l.addrs.first()).map(|a| a.addr())
}

/// The node's devices, by kind: its uplink is a veth into the wire's
/// bridge, each pod's veth has its other end as the pod's eth0.
fn make_links(
    host: &Netns,
    ns: &Ns,
    wire: &Ns,
    places: &BTreeMap<String, Ns>,
    index: usize,
    ip: IpAddr,
) -> Result<(), Unbuildable> {
    let mut cmds = Vec::new();
    for l in &host.links {
        match &l.kind {
            Kind::Loopback => {}
            Kind::Ether => {
                let port = format!("n{index}");
                wire.ip(&[
                    format!("link add {port} type veth peer name {} netns {}", l.name, ns.name),
                    format!("link set {port} master kind up"),
                ])?;
            }
            Kind::Bridge => cmds.push(format!("link add {} type bridge", l.name)),
            Kind::Vxlan { vni, port } => cmds
                .push(format!("link add {} type vxlan id {vni} local {ip} dev eth0 dstport {port} nolearning", l.name)),
            Kind::Veth { peer_netns, .. } => {
                let peer = places
                    .get(&format!("pod:{peer_netns}"))
                    .ok_or_else(|| format!("{}: no namespace for {peer_netns}", l.name))?;
                cmds.push(format!("link add {} type veth peer name eth0 netns {}", l.name, peer.name));
            }
            Kind::Ipip => return Err(Unbuildable::Kernel(format!("{}: this kernel has no IP-in-IP", l.name))),
            Kind::Other(what) => return Err(Unbuildable::Kernel(format!("{}: this kernel has no {what}", l.name))),
        }
    }
    ns.ip(&cmds)?;
    Ok(())
}

/// A namespace's `ip addr`, `ip route`, `ip neigh` and `bridge fdb`
/// output, replayed as the commands that make it, then its sysctls.
fn replay(netns: &Netns, ns: &Ns) -> Result<(), String> {
    let mut cmds = links_and_addresses(&netns.ip_addr());
    // Routes to a gateway after the routes that make the gateway
    // reachable, whatever order `ip route` lists them in.
    let routes = netns.ip_route();
    let (direct, via): (Vec<&str>, Vec<&str>) = routes.lines().partition(|l| !l.contains(" via "));
    cmds.extend(direct.iter().chain(&via).map(|l| format!("route replace {l}")));
    for l in netns.ip_neigh().lines() {
        // What the plugin programs; what ARP learns, the kernel learns.
        if let Some(entry) = l.strip_suffix(" PERMANENT") {
            cmds.push(format!("neigh replace {entry} nud permanent"));
        }
    }
    ns.ip(&cmds)?;
    ns.bridge(&netns.bridge_fdb().lines().map(|l| format!("fdb append {l}")).collect::<Vec<_>>())?;
    // `bridge -d link`: the ports' flags, hairpin mode among them.
    let mut port = "";
    let mut flags = Vec::new();
    for l in netns.bridge_link().lines() {
        if l.starts_with(|c: char| c.is_ascii_digit()) {
            port = l.split_whitespace().nth(1).unwrap_or_default().split(['@', ':']).next().unwrap_or_default();
        } else if l.trim_start().starts_with("hairpin on") {
            flags.push(format!("link set dev {port} type bridge_slave hairpin on"));
        }
    }
    ns.ip(&flags)?;
    ns.sysctls(&netns.sysctls)
}

/// `ip addr` output as commands: each link's MTU, MAC, master and state,
/// each address with its broadcast and scope.
fn links_and_addresses(text: &str) -> Vec<String> {
    let mut cmds = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with(|c: char| c.is_ascii_digit()) {
            // `2: eth0@if5: <…> mtu 1450 qdisc noqueue master cni0 state UP …`
            let mut words = line.split_whitespace();
            let name = words.nth(1).unwrap_or_default().trim_end_matches(':');
            current = name.split('@').next().unwrap_or(name).to_owned();
            let words: Vec<&str> = line.split_whitespace().collect();
            let after = |key: &str| words.iter().position(|w| *w == key).and_then(|i| words.get(i + 1));
            if let Some(mtu) = after("mtu") {
                cmds.push(format!("link set dev {current} mtu {mtu}"));
            }
            if let Some(master) = after("master") {
                cmds.push(format!("link set dev {current} master {master}"));
            }
            cmds.push(format!("link set dev {current} up"));
        } else if let Some(mac) = line.trim().strip_prefix("link/ether ") {
            let mac = mac.split_whitespace().next().unwrap_or_default();
            cmds.insert(cmds.len() - 1, format!("link set dev {current} address {mac}"));
        } else if let Some(rest) = line.trim().strip_prefix("inet ") {
            // `inet 10.244.1.1/24 brd 10.244.1.255 scope global cni0`
            let words: Vec<&str> = rest.split_whitespace().collect();
            let dev = words.last().copied().unwrap_or_default();
            cmds.push(format!("addr replace {} dev {dev}", words[..words.len() - 1].join(" ")));
        }
    }
    cmds
}

/// The node's netfilter state as the node's own tools print it in
/// podpath's shell (`ipset save`, `iptables-save` with the service proxy's
/// and the CNI plugin's rules, `nft list ruleset` in nftables mode),
/// loaded by the real tools.
fn load_rules(cluster: &Cluster, node: &str, mode: ProxyMode, ns: &Ns) -> Result<(), String> {
    let mut shell = Shell::new();
    let on = shell.run(cluster, &format!("kubectl debug node/{node} -it --image=busybox"));
    if on.status != 0 {
        return Err(on.text);
    }
    let mut dump = |cmd: &str| {
        let out = shell.run(cluster, cmd);
        if out.status == 0 {
            Ok(out.text)
        } else {
            Err(format!("{cmd}: {}", out.text))
        }
    };
    let (sets, rules) = (dump("ipset save")?, dump("iptables-save")?);
    let nft = if mode == ProxyMode::Nftables { Some(dump("nft list table ip kube-proxy")?) } else { None };
    if !sets.trim().is_empty() {
        ns.exec(&["ipset", "restore"], Some(&sets))?;
    }
    if !rules.trim().is_empty() {
        ns.exec(&["iptables-restore"], Some(&rules))?;
    }
    if let Some(text) = nft {
        ns.exec(&["nft", "-f", "-"], Some(&text))?;
    }
    if let Some(table) = cluster.plugin_rules(node).and_then(|r| r.nft.as_ref()) {
        load_plugin_table(&table.to_string(), ns)?;
    }
    Ok(())
}

/// The plugin's own nftables table (kindnetd's). Its queue rules hand
/// packets to the agent in user space, which the lab does not run; where
/// this kernel has no nft_queue, the table is loaded without them (and the
/// cases that policy decides are not run: `kernel.rs`).
fn load_plugin_table(text: &str, ns: &Ns) -> Result<(), String> {
    match ns.exec(&["nft", "-f", "-"], Some(text)) {
        Ok(_) => Ok(()),
        Err(e) if e.contains("queue") => {
            let without: String = text.lines().filter(|l| !l.contains(" queue ")).map(|l| format!("{l}\n")).collect();
            ns.exec(&["nft", "-f", "-"], Some(&without)).map(|_| ())
        }
        Err(e) => Err(e),
    }
}
