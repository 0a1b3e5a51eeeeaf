//! The CLI as other tools see it: exit codes, stdout, stderr.

use std::path::PathBuf;
use std::process::{Command, Output};

use expect_test::expect;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn podpath(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_podpath"));
    cmd.args(args).current_dir(root());
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn podpath");
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("podpath runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn get_pods_json_carries_node_and_ip() {
    let out = podpath(&["get", "pods", "-n", "shop", "-o", "json", "-f", "web/scenarios/shop.yaml"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    for item in items {
        assert_eq!(item["kind"], "Pod");
        assert!(item["spec"]["nodeName"].as_str().unwrap().starts_with("kind-worker"));
        let ip = item["status"]["podIP"].as_str().unwrap();
        assert!(ip.starts_with("10.244."), "{ip}");
    }
}

#[test]
fn get_nodes_wide_prints_addresses() {
    let out = podpath(&["get", "nodes", "-o", "wide", "-f", "web/scenarios/shop.yaml"], None);
    assert_eq!(out.status.code(), Some(0));
    expect![[r#"
        NAME                 STATUS   ROLES           AGE         VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE    KERNEL-VERSION   CONTAINER-RUNTIME
        kind-control-plane   Ready    control-plane   <unknown>   v1.37.0   172.18.0.2    <none>        <unknown>   <unknown>        <unknown>
        kind-worker          Ready    <none>          <unknown>   v1.37.0   172.18.0.3    <none>        <unknown>   <unknown>        <unknown>
        kind-worker2         Ready    <none>          <unknown>   v1.37.0   172.18.0.4    <none>        <unknown>   <unknown>        <unknown>
    "#]]
    .assert_eq(&text(&out.stdout));
}

#[test]
fn flags_override_the_scenario() {
    let out = podpath(
        &["get", "nodes", "--nodes", "5", "--cni", "calico", "-o", "json", "-f", "-"],
        Some("apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nspec: {nodes: 2}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cidrs: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|n| n["spec"]["podCIDR"].as_str().unwrap()).collect();
    // Calico's default pool, cut into /24s by the range allocator.
    assert_eq!(cidrs, ["192.168.0.0/24", "192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24", "192.168.4.0/24"]);
}

#[test]
fn bad_input_is_located_and_exits_1_but_the_rest_is_printed() {
    let input = "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: c, image: x}]}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers: [{name: c, image: x, ports: [{containerPort: http}]}]\n";
    let out = podpath(&["get", "pods", "-f", "-"], Some(input));
    assert_eq!(out.status.code(), Some(1));
    expect![[r#"
        <stdin>:11:60: error: Pod bad: spec.containers[0].ports[0].containerPort: invalid type: string "http", expected i32
    "#]]
    .assert_eq(&text(&out.stderr));
    assert!(text(&out.stdout).contains("\nok "), "{}", text(&out.stdout));
}

#[test]
fn usage_errors_exit_2_and_missing_files_exit_1() {
    assert_eq!(podpath(&["get", "pots", "-f", "x"], None).status.code(), Some(2));
    assert_eq!(podpath(&["get", "pods"], None).status.code(), Some(2));
    let missing = podpath(&["get", "pods", "-f", "does-not-exist.yaml"], None);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(text(&missing.stderr), "podpath: the path \"does-not-exist.yaml\" does not exist\n");
}

#[test]
fn lint_lists_problems_and_skipped_kinds() {
    let input = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: b}}\n    spec: {containers: [{name: c, image: x}]}\n";
    let out = podpath(&["lint", "-f", "-"], Some(input));
    assert_eq!(out.status.code(), Some(1));
    expect![[r#"
        <stdin>:11:16: error: spec.template.metadata.labels: Invalid value: "app=b": `selector` does not match template `labels` (selector is app=a)
        <stdin>:1:1: note: skipped ServiceAccount sa (v1): podpath does not model this kind
        1 error(s), 0 warning(s), 1 object(s) skipped
    "#]]
    .assert_eq(&text(&out.stderr));
    // Every bundled scenario is clean (each is a cluster of its own).
    for entry in std::fs::read_dir(root().join("web/scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let clean = podpath(&["lint", "-f", path.to_str().unwrap()], None);
        assert_eq!(clean.status.code(), Some(0), "{}: {}", path.display(), text(&clean.stderr));
    }
}

#[test]
fn what_the_api_server_refuses_is_simulated_but_lint_fails() {
    let input = "apiVersion: v1\nkind: Service\nmetadata: {name: np}\nspec:\n  type: NodePort\n  ports: [{port: 80, nodePort: 8080}]\n";
    let get = podpath(&["get", "services", "-f", "-"], Some(input));
    assert_eq!(get.status.code(), Some(0), "simulated, with a warning");
    assert!(text(&get.stdout).contains("80:8080/TCP"));
    assert!(text(&get.stderr)
        .starts_with("<stdin>:6:22: warning: service default/np: spec.ports[0].nodePort: Invalid value: 8080"));
    let lint = podpath(&["lint", "-f", "-"], Some(input));
    assert_eq!(lint.status.code(), Some(1));
    assert!(
        text(&lint.stderr).starts_with("<stdin>:6:22: error: service default/np: spec.ports[0].nodePort"),
        "{}",
        text(&lint.stderr)
    );
}

#[test]
fn trace_json_follows_the_contract() {
    let pods: serde_json::Value = serde_json::from_slice(
        &podpath(&["get", "pods", "-n", "shop", "-o", "json", "-f", "web/scenarios/shop.yaml"], None).stdout,
    )
    .unwrap();
    let frontend = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["metadata"]["name"].as_str().unwrap().starts_with("frontend-"))
        .unwrap();
    let from = format!("shop/{}", frontend["metadata"]["name"].as_str().unwrap());
    let svcs: serde_json::Value = serde_json::from_slice(
        &podpath(&["get", "services", "-n", "shop", "-o", "json", "-f", "web/scenarios/shop.yaml"], None).stdout,
    )
    .unwrap();
    let api = svcs["items"].as_array().unwrap().iter().find(|s| s["metadata"]["name"] == "api").unwrap();
    let ip = api["spec"]["clusterIP"].as_str().unwrap();
    let out = podpath(
        &[
            "trace",
            "--from",
            &from,
            "--to",
            ip,
            "--port",
            "80",
            "--seed",
            "7",
            "-o",
            "json",
            "-f",
            "web/scenarios/shop.yaml",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(t["verdict"], "delivered");
    assert_eq!(t["service"]["frontend"], "ClusterIP");
    assert_eq!(t["service"]["name"], "shop/api");
    assert_eq!(t["service"]["candidates"].as_array().unwrap().len(), 2);
    let chosen = t["service"]["chosen"].as_str().unwrap();
    assert!(t["service"]["candidates"].as_array().unwrap().iter().any(|c| c == chosen));
    assert_eq!(format!("{}:{}", t["destination"]["ip"].as_str().unwrap(), t["destination"]["port"]), chosen);
    assert!(t["destination"]["pod"].as_str().unwrap().starts_with("shop/api-"));
    assert_eq!(t["policy"]["ingress"]["verdict"], "not-enforced", "Flannel enforces no policy");
    let hops = t["hops"].as_array().unwrap();
    let dnat = hops.iter().find(|h| h["action"] == "DNAT").expect("a DNAT hop");
    assert!(dnat["rule"].as_str().unwrap().contains(&format!("-j DNAT --to-destination {chosen}")));
    assert_eq!(dnat["packet"]["dst"], chosen);
    // The rule a trace quotes is a line of what that node (or the pod)
    // prints: its proxy rules, its routes, its VXLAN forwarding entries.
    let f = "web/scenarios/shop.yaml";
    for h in hops {
        let Some(rule) = h["rule"].as_str() else { continue };
        let node = h["node"].as_str().unwrap();
        let at = h["at"].as_str().unwrap();
        let mut dumps = vec![
            text(&podpath(&["rules", "--node", node, "-f", f], None).stdout),
            text(&podpath(&["net", "route", "--node", node, "-f", f], None).stdout),
            text(&podpath(&["net", "fdb", "--node", node, "-f", f], None).stdout),
        ];
        if let Some(pod) = at.strip_suffix(" eth0") {
            dumps.push(text(&podpath(&["net", "route", "--pod", pod, "-f", f], None).stdout));
        }
        assert!(dumps.iter().any(|d| d.lines().any(|l| l == rule)), "{at}: {rule}");
    }
    assert!(hops.iter().any(|h| h["action"] == "encapsulated" || h["action"] == "bridged"), "the datapath is traced");
}

#[test]
fn a_flag_value_the_plugin_does_not_know_is_a_usage_error() {
    // shop.yaml has a Cluster object; the flag is checked against its plugin
    // (flannel), and against the one --cni switches to.
    let out = podpath(
        &["net", "route", "--node", "kind-worker", "--encapsulation", "sleeve", "-f", "web/scenarios/shop.yaml"],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    expect![[r#"
        podpath: --encapsulation sleeve: "sleeve" is not one of flannel's: vxlan, host-gw
    "#]]
    .assert_eq(&text(&out.stderr));
    let out = podpath(
        &["net", "route", "--node", "kind-worker", "--cni", "weave", "--encapsulation", "sleeve", "-f", "-"],
        Some("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = podpath(
        &["net", "route", "--node", "kind-worker", "--encapsulation", "fastdp", "-f", "-"],
        Some("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"),
    );
    assert_eq!(out.status.code(), Some(2), "a Cluster-less input runs the default plugin");
    let out = podpath(&["trace", "--from", "shop", "--to", "10.0.0.1", "-f", "web/scenarios/shop.yaml"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn dns_json_follows_the_contract() {
    let out = podpath(&["dns", "api", "-n", "shop", "-o", "json", "-f", "web/scenarios/shop.yaml"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tried"], serde_json::json!(["api.shop.svc.cluster.local."]));
    assert_eq!(v["rcode"], "NOERROR");
    let a = &v["answers"][0];
    assert_eq!(
        (a["name"].as_str(), a["type"].as_str(), a["ttl"].as_u64()),
        (Some("api.shop.svc.cluster.local."), Some("A"), Some(30))
    );
    assert!(a["data"].as_str().unwrap().starts_with("10.9"));
    assert!(v["authority"].as_array().unwrap().is_empty() && v["additional"].as_array().unwrap().is_empty());

    // NXDOMAIN with the zone's SOA in authority; every search domain tried.
    let out = podpath(&["dns", "nope", "-n", "shop", "-o", "json", "-f", "web/scenarios/shop.yaml"], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rcode"], "NXDOMAIN");
    assert_eq!(v["tried"].as_array().unwrap().len(), 4);
    assert_eq!(v["authority"][0]["type"], "SOA");

    // SRV data as dig prints it; an address asks for its PTR.
    let out = podpath(
        &[
            "dns",
            "_http._tcp.api.shop.svc.cluster.local.",
            "--type",
            "SRV",
            "-o",
            "json",
            "-f",
            "web/scenarios/shop.yaml",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["answers"][0]["data"], "0 100 80 api.shop.svc.cluster.local.");
    assert_eq!(v["additional"][0]["type"], "A");
    let out = podpath(&["dns", "10.96.0.10", "-o", "json", "-f", "web/scenarios/shop.yaml"], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["answers"][0]["data"], "kube-dns.kube-system.svc.cluster.local.");
}

#[test]
fn a_trace_to_a_name_or_url_resolves_it_first() {
    let pods: serde_json::Value = serde_json::from_slice(
        &podpath(&["get", "pods", "-n", "shop", "-o", "json", "-f", "web/scenarios/shop.yaml"], None).stdout,
    )
    .unwrap();
    let client = format!("shop/{}", pods["items"][0]["metadata"]["name"].as_str().unwrap());
    let out = podpath(
        &["trace", "--from", &client, "--to", "http://api:80/", "-o", "json", "-f", "web/scenarios/shop.yaml"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "delivered");
    assert_eq!(v["service"]["name"], "shop/api");
    assert_eq!(v["dns"]["queries"][0]["verdict"], "delivered");
    assert!(v["dns"]["queries"][0]["server_pod"].as_str().unwrap().starts_with("kube-system/coredns-"));
    let out =
        podpath(&["trace", "--from", &client, "--to", "nope", "-o", "json", "-f", "web/scenarios/shop.yaml"], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "nxdomain");
}

const SHOP_INGRESS: &str = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop, namespace: shop}\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}\n";

#[test]
fn http_section_for_a_url_from_outside() {
    let args =
        ["trace", "--from", "external", "--to", "http://shop.example.com/api/v1", "-H", "X-Debug: 1", "-o", "json"];
    let out = podpath(&[&args[..], &["-f", "web/scenarios/shop.yaml", "-f", "-"]].concat(), Some(SHOP_INGRESS));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "delivered");
    assert_eq!(v["http"]["status"], 200);
    assert_eq!(v["http"]["backend"], "shop/api:80");
    assert_eq!(v["http"]["ingress"], "shop/shop");
    assert!(v["http"]["upstream_request"].as_str().unwrap().contains("X-Debug: 1\r\n"));
    assert!(v["hops"].as_array().unwrap().iter().any(|h| h["action"] == "proxied"));
    // No rule for the path: the controller's 404.
    let out = podpath(
        &[
            "trace",
            "--from",
            "external",
            "--to",
            "http://shop.example.com/",
            "-o",
            "json",
            "-f",
            "web/scenarios/shop.yaml",
            "-f",
            "-",
        ],
        Some(SHOP_INGRESS),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["http"]["status"].as_u64(), v["http"]["backend"].as_str()), (Some(404), None));
    // -H without a URL makes no sense.
    let out = podpath(
        &["trace", "--from", "external", "--to", "10.0.0.1", "-H", "A: b", "-f", "web/scenarios/shop.yaml"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn exec_runs_a_tool_in_a_pod_with_its_exit_status() {
    let deny = "apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: t}\nspec: {cni: calico}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c, image: curl}]}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Egress]}\n";
    // DNS is cut off by the egress policy: nslookup times out, exit 1.
    let out = podpath(&["exec", "x/a", "-f", "-", "--", "nslookup", "kubernetes.default"], Some(deny));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), ";; connection timed out; no servers could be reached\n\n");
    // cat of the resolv.conf the kubelet wrote.
    let out = podpath(&["exec", "a", "-n", "x", "-f", "-", "--", "cat", "/etc/resolv.conf"], Some(deny));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "search x.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    );
    // A pod that does not exist: kubectl's message and status.
    let out = podpath(&["exec", "x/nope", "-f", "-", "--", "hostname"], Some(deny));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "Error from server (NotFound): pods \"nope\" not found\n");
    // On the pod's node: every rule `podpath rules` prints (kube-proxy's),
    // and Calico's own chains with them, Felix's jump first in FORWARD.
    let pods = podpath(&["get", "pods", "-n", "x", "-o", "json", "-f", "-"], Some(deny));
    let pods: serde_json::Value = serde_json::from_slice(&pods.stdout).unwrap();
    let on = pods["items"][0]["spec"]["nodeName"].as_str().unwrap().to_owned();
    let node = podpath(&["exec", &format!("node/{on}"), "-f", "-", "--", "iptables-save"], Some(deny));
    let rules = podpath(&["rules", "--node", &on, "-f", "-"], Some(deny));
    assert_eq!(node.status.code(), Some(0));
    let saved = text(&node.stdout);
    for line in text(&rules.stdout).lines() {
        assert!(saved.lines().any(|l| l == line), "{line} is not in the node's iptables-save");
    }
    let forward: Vec<&str> = saved.lines().filter(|l| l.starts_with("-A FORWARD ")).collect();
    assert!(forward[0].ends_with("-j cali-FORWARD"), "{forward:?}");
    assert!(saved.contains(":cali-fw-") && saved.contains("-A cali-po-"), "{saved}");
}

#[test]
fn lesson_check_reports_each_goal_and_exits_by_them() {
    let lesson = root().join("web/lessons/05-default-deny-dns.yaml");
    let lesson = lesson.to_str().unwrap();
    let start = podpath(&["lesson", "check", lesson], None);
    assert_eq!(start.status.code(), Some(1), "the start misses goals");
    let said = text(&start.stdout);
    assert!(said.contains("✗ frontend resolves api — api: TIMEOUT"), "{said}");
    assert!(said.contains("  hint: egress to kube-system's kube-dns pods"), "{said}");
    assert!(said.ends_with("1 of 3 goals met\n"), "{said}");
    let solved = podpath(&["lesson", "check", lesson, "--reference", "-o", "json"], None);
    assert_eq!(solved.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&solved.stdout).unwrap();
    assert_eq!(v["lesson"], "default-deny-dns");
    assert_eq!(v["passed"], true);
    assert_eq!(v["goals"].as_array().unwrap().len(), 3);
    // A solution file of the learner's.
    let dir = std::env::temp_dir().join(format!("podpath-lesson-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mine = dir.join("mine.yaml");
    let l = podpath_core::lesson::parse("l", &std::fs::read_to_string(lesson).unwrap()).unwrap();
    std::fs::write(&mine, &l.spec.solution).unwrap();
    let out = podpath(&["lesson", "check", lesson, "--solution", mine.to_str().unwrap()], None);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

/// `podpath rules … | head` ends quietly when `head` has read enough, as
/// other tools do: no panic about a broken pipe, no message, exit 0.
#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    use std::io::Read;
    let mut yaml = String::new();
    for i in 0..400 {
        yaml += &format!("apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}}}\nspec: {{selector: {{app: a}}, ports: [{{port: 80}}]}}\n---\n");
    }
    yaml += "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {app: a}}\nspec: {containers: [{name: c, image: nginx}]}\n";
    let file = std::env::temp_dir().join(format!("podpath-pipe-{}.yaml", std::process::id()));
    std::fs::write(&file, yaml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_podpath"))
        .args(["rules", "--node", "kind-worker", "-f", file.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then the pipe closes
    let out = child.wait_with_output().unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_eq!(&first[..], b"*filter\n:I");
    assert_eq!(text(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
}

/// The network-policy recipes' commands from `podpath exec`
/// (ahmetb/kubernetes-network-policy-recipes, 01-deny-all-traffic-to-an-
/// application.md): BusyBox wget in an alpine pod prints the page while
/// nothing denies it, and "wget: download timed out" once web-deny-all
/// selects the web pods; BusyBox nc -v prints "HOST (ADDR:PORT) open".
#[test]
fn exec_runs_the_recipes_busybox_commands() {
    let base = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\nspec: {containers: [{name: nginx, image: nginx, ports: [{containerPort: 80}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: test}\nspec: {containers: [{name: test, image: alpine, command: [sleep, infinity]}]}\n";
    let out =
        podpath(&["exec", "default/test", "-f", "-", "--", "wget", "-qO-", "--timeout=2", "http://web"], Some(base));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).starts_with("Hostname: web\n"), "{}", text(&out.stdout));
    let nc = podpath(&["exec", "default/test", "-f", "-", "--", "nc", "-v", "-w", "2", "web", "80"], Some(base));
    assert_eq!(nc.status.code(), Some(0));
    assert!(
        text(&nc.stdout).starts_with("web (10.") && text(&nc.stdout).ends_with(":80) open\n"),
        "{}",
        text(&nc.stdout)
    );
    let deny = format!("{base}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web-deny-all}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n  ingress: []\n");
    let out =
        podpath(&["exec", "default/test", "-f", "-", "--", "wget", "-qO-", "--timeout=2", "http://web"], Some(&deny));
    // Flannel, podpath's default plugin, enforces no policy: the recipe's
    // result needs a plugin that does.
    assert_eq!(text(&out.stdout).lines().next(), Some("Hostname: web"));
    let out = podpath(
        &["exec", "default/test", "--cni", "calico", "-f", "-", "--", "wget", "-qO-", "--timeout=2", "http://web"],
        Some(&deny),
    );
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(1), "wget: download timed out\n".to_owned()));
}

/// The Gateway API's kinds with kubectl's printer columns (the CRDs'
/// additionalPrinterColumns) and the status their controller writes:
/// a route whose backend is missing is accepted, its ResolvedRefs False
/// with BackendNotFound, which lint says at the route.
#[test]
fn get_gateway_api_kinds_with_their_status() {
    let text = "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: nginx}\nspec: {controllerName: gateway.nginx.org/nginx-gateway-controller}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gateway, namespace: default}\nspec:\n  gatewayClassName: nginx\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: coffee, namespace: default}\nspec:\n  parentRefs: [{name: gateway}]\n  hostnames: [cafe.example.com]\n  rules: [{backendRefs: [{name: coffee, port: 80}]}]\n";
    let out = podpath(&["get", "gatewayclasses", "-f", "-"], Some(text));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("NAME    CONTROLLER                                   ACCEPTED   AGE\nnginx   gateway.nginx.org/nginx-gateway-controller   True       <unknown>\n"), "{table}");
    let out = podpath(&["get", "httproutes", "-o", "json", "-f", "-"], Some(text));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let parent = &v["items"][0]["status"]["parents"][0];
    assert_eq!(parent["controllerName"], "gateway.nginx.org/nginx-gateway-controller");
    assert_eq!(parent["parentRef"]["name"], "gateway");
    let conditions = parent["conditions"].as_array().unwrap();
    let of = |t: &str| conditions.iter().find(|c| c["type"] == t).map(|c| (c["status"].clone(), c["reason"].clone()));
    assert_eq!(of("Accepted"), Some(("True".into(), "Accepted".into())));
    assert_eq!(of("ResolvedRefs"), Some(("False".into(), "BackendNotFound".into())));
    let out = podpath(&["lint", "-f", "-"], Some(text));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<stdin>:17:16: warning: httproute default/coffee: Gateway default/gateway says ResolvedRefs False (BackendNotFound)"), "{err}");
}

/// `convert ingress-to-gateway` (cli.md): the Gateway API objects on
/// stdout, loadable as they are; what has no equivalent on stderr at the
/// field, as a warning; exit 0. Fed back with the Ingresses, the Gateway
/// answers for the Ingress's host.
#[test]
fn convert_ingress_to_gateway() {
    let file = "crates/podpath-core/tests/convert/shop-ingress-nginx.yaml";
    let out = podpath(&["convert", "ingress-to-gateway", "-f", file, "--gateway-class", "ngf"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert!(
        yaml.starts_with("---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: ngf\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  gatewayClassName: ngf\n"), "{yaml}");
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{file}:74:3: warning: ingress shop/shop-assets: annotation nginx.ingress.kubernetes.io/proxy-body-size"
        )),
        "{err}"
    );
    let both = format!("{}\n{yaml}", std::fs::read_to_string(root().join(file)).unwrap());
    let out = podpath(&["get", "gateways", "-n", "shop", "-o", "json", "-f", "-"], Some(&both));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gw = &v["items"][0];
    assert_eq!(gw["metadata"]["name"], "nginx");
    let programmed = gw["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Programmed").cloned();
    assert_eq!(programmed.map(|c| c["status"].clone()), Some("True".into()), "{gw}");
    let out = podpath(&["convert", "ingress-to-gateway", "-f", file, "--implementation", "traefik"], None);
    assert!(text(&out.stderr).contains("add --providers.kubernetesgateway"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("    port: 8000\n"), "{}", text(&out.stdout));
}

/// `get clusternetworkpolicies` (cli.md, with kubectl's short name cnp):
/// the CRD's printer columns; the enforcement warning on stderr.
#[test]
fn get_cluster_network_policies() {
    let yaml = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: deny-web}\nspec:\n  tier: Admin\n  priority: 5\n  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: web}}}\n  ingress: [{action: Deny, from: [{namespaces: {}}]}]\n";
    let out = podpath(&["get", "cnp", "-f", "-"], Some(yaml));
    assert_eq!(text(&out.stdout), "NAME       TIER    PRIORITY   AGE\ndeny-web   Admin   5          <unknown>\n");
    assert!(text(&out.stderr).contains("flannel does not enforce ClusterNetworkPolicy"), "{}", text(&out.stderr));
    let out = podpath(&["get", "clusternetworkpolicies", "-o", "json", "-f", "-"], Some(yaml));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"][0]["spec"]["priority"], 5);
    assert_eq!(v["items"][0]["apiVersion"], "policy.networking.k8s.io/v1alpha2");
}
