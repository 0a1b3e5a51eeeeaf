//! DNS answers, table-driven from the Kubernetes DNS specification
//! (kubernetes/dns `docs/specification.md`) and the CoreDNS `kubernetes`
//! plugin's documentation; the pod's resolv.conf per `dnsPolicy`; the search
//! list; and DNS on the wire (a query NetworkPolicy drops is a lookup that
//! times out).

use std::path::Path;

use podpath_core::cluster::ClusterIp;
use podpath_core::dns::resolver::{self, cluster_first};
use podpath_core::dns::{Dns, RType, Rcode};
use podpath_core::trace::{self, From, Request, To, Verdict};
use podpath_core::{simulate, Cluster, Source};

fn fixture(extra: &str) -> Cluster {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/dns.yaml");
    let text = std::fs::read_to_string(path).unwrap() + extra;
    simulate(&[Source::new("dns.yaml", text)]).0
}

/// Fills `{service}` and `{pod}` with their addresses.
fn fill(c: &Cluster, s: &str) -> String {
    let mut s = s.to_owned();
    for svc in &c.services {
        if let ClusterIp::Ip(ip) = svc.cluster_ip {
            s = s.replace(&format!("{{{}}}", svc.name), &ip.to_string());
        }
    }
    for p in &c.pods {
        if let Some(ip) = p.ip {
            s = s.replace(&format!("{{{}}}", p.name), &ip.to_string());
            s = s.replace(&format!("{{{}-dashed}}", p.name), &ip.to_string().replace('.', "-"));
        }
    }
    s
}

/// `RCODE; TYPE data; TYPE data…` for one query, answers in order.
fn ask(c: &Cluster, dns: &Dns, name: &str, t: &str) -> String {
    let r = dns.answer(c, name, RType::parse(t).unwrap());
    let mut parts = vec![r.rcode.as_str().to_owned()];
    parts.extend(r.answers.iter().map(|a| format!("{} {} {}", a.name, a.rtype, a.data)));
    if matches!(r.rcode, Rcode::NxDomain | Rcode::NoError) && r.answers.is_empty() {
        assert!(
            r.authority.iter().any(|a| a.rtype == RType::Soa)
                || r.by.starts_with("forward")
                || r.by.starts_with("hosts"),
            "{name} {t}: a negative answer carries the SOA: {r:?}"
        );
    }
    parts.join("; ")
}

fn web_endpoints(c: &Cluster) -> Vec<String> {
    let mut v: Vec<String> =
        c.pods.iter().filter(|p| p.name.starts_with("web-")).map(|p| p.ip.unwrap().to_string()).collect();
    podpath_core::order::sort(&mut v);
    v
}

/// KEP-5311, GA in Kubernetes 1.37 ("Relaxed validation for Services
/// names"): a Service's name is validated as an RFC 1123 label, like other
/// objects' names, so one may start with a digit; it loads without a
/// diagnostic, gets a cluster IP, and its name resolves.
#[test]
fn a_service_name_may_start_with_a_digit() {
    let (c, diags) = simulate(&[Source::new(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: 1kubernetes}\nspec: {ports: [{port: 80}]}\n",
    )]);
    assert!(diags.is_empty(), "{diags:?}");
    let dns = Dns::of(&c);
    let answer = ask(&c, &dns, "1kubernetes.default.svc.cluster.local", "A");
    assert_eq!(answer, fill(&c, "NOERROR; 1kubernetes.default.svc.cluster.local. A {1kubernetes}"));
}

#[test]
fn records_per_the_specification() {
    let c = fixture("");
    let web = web_endpoints(&c);
    let (w0, w1) = (&web[0], &web[1]);
    let d0 = c.pod("shop", "db-0").unwrap().ip.unwrap().to_string();
    let z = "cluster.local.";
    let cases: Vec<(&str, &str, String)> = vec![
        // 2.3.1 A records of a ClusterIP Service: its cluster IP.
        ("web.shop.svc.cluster.local", "A", format!("NOERROR; web.shop.svc.{z} A {{web}}")),
        // No AAAA on an IPv4 Service: NODATA, not NXDOMAIN.
        ("web.shop.svc.cluster.local", "AAAA", "NOERROR".into()),
        // 2.3.2 SRV per named port: `_port._proto`, the Service's name as target.
        (
            "_http._tcp.web.shop.svc.cluster.local",
            "SRV",
            format!("NOERROR; _http._tcp.web.shop.svc.{z} SRV 0 100 80 web.shop.svc.{z}"),
        ),
        ("_http._udp.web.shop.svc.cluster.local", "SRV", "NXDOMAIN".into()),
        // A plain name asked for SRV: every port, weight split between them.
        (
            "web.shop.svc.cluster.local",
            "SRV",
            format!("NOERROR; web.shop.svc.{z} SRV 0 50 80 web.shop.svc.{z}; web.shop.svc.{z} SRV 0 50 9090 web.shop.svc.{z}"),
        ),
        // 2.4.1 A records of a headless Service: one per ready endpoint.
        ("web-direct.shop.svc.cluster.local", "A", format!("NOERROR; web-direct.shop.svc.{z} A {w0}; web-direct.shop.svc.{z} A {w1}")),
        // 2.4.1 hostname records: a StatefulSet pod under its Service.
        ("db-0.db.shop.svc.cluster.local", "A", format!("NOERROR; db-0.db.shop.svc.{z} A {d0}")),
        ("db-9.db.shop.svc.cluster.local", "A", "NXDOMAIN".into()),
        // 2.4.2 SRV of a headless Service: one per endpoint, named by hostname.
        (
            "_pg._tcp.db.shop.svc.cluster.local",
            "SRV",
            format!("NOERROR; _pg._tcp.db.shop.svc.{z} SRV 0 50 5432 db-0.db.shop.svc.{z}; _pg._tcp.db.shop.svc.{z} SRV 0 50 5432 db-1.db.shop.svc.{z}"),
        ),
        // Endpoints without a hostname are named by their dashed address.
        (
            "_http._tcp.web-direct.shop.svc.cluster.local",
            "SRV",
            format!(
                "NOERROR; _http._tcp.web-direct.shop.svc.{z} SRV 0 50 8080 {}.web-direct.shop.svc.{z}; _http._tcp.web-direct.shop.svc.{z} SRV 0 50 8080 {}.web-direct.shop.svc.{z}",
                w0.replace('.', "-"),
                w1.replace('.', "-")
            ),
        ),
        // 2.5 ExternalName: a CNAME, and the target's records when the
        // server can resolve it.
        (
            "ext.shop.svc.cluster.local",
            "A",
            format!("NOERROR; ext.shop.svc.{z} CNAME web.shop.svc.cluster.local.; web.shop.svc.{z} A {{web}}"),
        ),
        ("ext.shop.svc.cluster.local", "CNAME", format!("NOERROR; ext.shop.svc.{z} CNAME web.shop.svc.cluster.local.")),
        ("ext.shop.svc.cluster.local", "SRV", "NOERROR".into()),
        // A ClusterIP Service without endpoints still has its address.
        ("empty.shop.svc.cluster.local", "A", format!("NOERROR; empty.shop.svc.{z} A {{empty}}")),
        // Names that do not exist, and names on the way to names.
        ("nope.shop.svc.cluster.local", "A", "NXDOMAIN".into()),
        ("web.nowhere.svc.cluster.local", "A", "NXDOMAIN".into()),
        ("shop.svc.cluster.local", "A", "NOERROR".into()),
        ("nowhere.svc.cluster.local", "A", "NXDOMAIN".into()),
        ("svc.cluster.local", "A", "NOERROR".into()),
        ("cluster.local", "A", "NOERROR".into()),
        ("web.cluster.local", "A", "NXDOMAIN".into()),
        // 2.1 schema version.
        ("dns-version.cluster.local", "TXT", format!("NOERROR; dns-version.{z} TXT \"1.1.0\"")),
        // Pod records with kubeadm's `pods insecure`: any address answers.
        ("10-9-8-7.shop.pod.cluster.local", "A", format!("NOERROR; 10-9-8-7.shop.pod.{z} A 10.9.8.7")),
        ("10-9-8-7.nowhere.pod.cluster.local", "A", "NXDOMAIN".into()),
        // PTR for a cluster IP and for a headless endpoint.
        ("{web-ptr}", "PTR", format!("NOERROR; {{web-ptr}} PTR web.shop.svc.{z}")),
        ("{db-0-ptr}", "PTR", format!("NOERROR; {{db-0-ptr}} PTR db-0.db.shop.svc.{z}")),
        // Case: matched without it, kept in the answer's owner name.
        ("WEB.Shop.SVC.cluster.LOCAL", "A", "NOERROR; WEB.Shop.SVC.cluster.LOCAL. A {web}".into()),
    ];
    let ClusterIp::Ip(web_ip) = c.service("shop", "web").unwrap().cluster_ip else { panic!() };
    let web_ptr = podpath_core::dns::kubernetes::to_reverse(web_ip);
    let db_ptr = podpath_core::dns::kubernetes::to_reverse(d0.parse().unwrap());
    let mut failures = Vec::new();
    for (name, t, want) in cases {
        let name = name.replace("{web-ptr}", &web_ptr).replace("{db-0-ptr}", &db_ptr);
        let want = fill(&c, &want.replace("{web-ptr}", &web_ptr).replace("{db-0-ptr}", &db_ptr));
        let got = ask(&c, &Dns::of(&c), &name, t);
        if got != want {
            failures.push(format!("{name} {t}\n   want {want}\n    got {got}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn with_corefile(corefile: &str) -> Cluster {
    let indented: String = corefile.lines().map(|l| format!("    {l}\n")).collect();
    fixture(&format!(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: coredns, namespace: kube-system}}\ndata:\n  Corefile: |\n{indented}"
    ))
}

#[test]
fn the_corefile_decides() {
    // The plugin's own defaults: pods disabled, TTL 5.
    let c = with_corefile(".:53 {\n  kubernetes cluster.local in-addr.arpa\n  forward . /etc/resolv.conf\n}");
    assert_eq!(ask(&c, &Dns::of(&c), "10-9-8-7.shop.pod.cluster.local", "A"), "NXDOMAIN");
    assert_eq!(Dns::of(&c).answer(&c, "web.shop.svc.cluster.local", RType::A).answers[0].ttl, 5);
    // Without fallthrough, a cluster name that does not exist stays NXDOMAIN
    // and PTRs of unknown addresses too; names outside go upstream.
    assert_eq!(ask(&c, &Dns::of(&c), "1.0.0.10.in-addr.arpa", "PTR"), "NXDOMAIN");
    assert!(ask(&c, &Dns::of(&c), "api.example.com", "A").starts_with("NOERROR; api.example.com. A 203.0.113."));

    // pods verified: only a pod's own address in its own namespace.
    let c = with_corefile(".:53 {\n  kubernetes cluster.local {\n    pods verified\n  }\n}");
    let client = c.pod("shop", "client").unwrap().ip.unwrap().to_string().replace('.', "-");
    assert!(ask(&c, &Dns::of(&c), &format!("{client}.shop.pod.cluster.local"), "A").starts_with("NOERROR; "));
    assert_eq!(ask(&c, &Dns::of(&c), "10-9-8-7.shop.pod.cluster.local", "A"), "NXDOMAIN");
    assert_eq!(ask(&c, &Dns::of(&c), &format!("{client}.default.pod.cluster.local"), "A"), "NXDOMAIN");
    // No forward: a name outside the zone has no plugin to answer it.
    assert_eq!(ask(&c, &Dns::of(&c), "api.example.com", "A"), "SERVFAIL");

    // ignore empty_service, namespaces, ttl.
    let c = with_corefile(
        ".:53 {\n  kubernetes cluster.local {\n    ignore empty_service\n    namespaces shop\n    ttl 60\n  }\n}",
    );
    assert_eq!(ask(&c, &Dns::of(&c), "empty.shop.svc.cluster.local", "A"), "NXDOMAIN");
    assert_eq!(ask(&c, &Dns::of(&c), "kube-dns.kube-system.svc.cluster.local", "A"), "NXDOMAIN");
    let r = Dns::of(&c).answer(&c, "web.shop.svc.cluster.local", RType::A);
    assert_eq!(r.answers[0].ttl, 60);
    let r = Dns::of(&c).answer(&c, "nope.shop.svc.cluster.local", RType::A);
    let soa = &r.authority[0];
    assert_eq!((soa.name.as_str(), soa.ttl), ("cluster.local.", 60));
    assert!(
        soa.data.starts_with("ns.dns.cluster.local. hostmaster.cluster.local. ")
            && soa.data.ends_with(" 7200 1800 86400 60")
    );

    // hosts answers first; rewrite changes the name the plugins see.
    let c = with_corefile(
        ".:53 {\n  rewrite name exact shop.example.org web.shop.svc.cluster.local\n  hosts {\n    10.10.10.10 legacy.corp\n    fallthrough\n  }\n  kubernetes cluster.local\n  forward . /etc/resolv.conf\n}",
    );
    assert_eq!(ask(&c, &Dns::of(&c), "legacy.corp", "A"), "NOERROR; legacy.corp. A 10.10.10.10");
    // The answer is given back under the name asked, as the rewrite
    // plugin reverts an exact rule in the response.
    assert_eq!(ask(&c, &Dns::of(&c), "shop.example.org", "A"), fill(&c, "NOERROR; shop.example.org. A {web}"));
    // A second server block for a zone wins for names in it.
    let c = with_corefile(
        "corp.example:53 {\n  hosts {\n    10.1.1.1 a.corp.example\n  }\n}\n.:53 {\n  kubernetes cluster.local\n  forward . /etc/resolv.conf\n}",
    );
    assert_eq!(ask(&c, &Dns::of(&c), "a.corp.example", "A"), "NOERROR; a.corp.example. A 10.1.1.1");
    assert_eq!(ask(&c, &Dns::of(&c), "b.corp.example", "A"), "NXDOMAIN");
}

#[test]
fn a_broken_corefile_is_reported_where_it_is() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/dns.yaml")).unwrap()
        + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\ndata:\n  Corefile: |\n    .:53 {\n      kubernetes cluster.local {\n        pods sometimes\n      }\n    }\n";
    let (_, diags) = simulate(&[Source::new("dns.yaml", text)]);
    let d = diags.iter().find(|d| d.message.contains("Corefile")).expect("a Corefile diagnostic");
    assert_eq!(d.message, "Corefile line 3: kubernetes: pods takes one of disabled, insecure, verified");
    assert_eq!(d.origin.file, "dns.yaml");
}

#[test]
fn resolv_conf_per_dns_policy() {
    let c = fixture("");
    let conf = |name: &str| resolver::resolv_conf(&c, c.pod("shop", name).unwrap()).render();
    assert_eq!(
        conf("client"),
        "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    );
    // None: only what dnsConfig says.
    assert_eq!(conf("custom"), "search corp.example\nnameserver 1.1.1.1\noptions ndots:2 edns0\n");
    // dnsConfig appends searches and replaces an option of the same name.
    assert_eq!(
        conf("tuned"),
        "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:1\n"
    );
    // A host-network pod with ClusterFirst gets the node's file; with
    // ClusterFirstWithHostNet the cluster's.
    assert_eq!(conf("hostnet"), resolver::node_resolv_conf(&c).render());
    assert_eq!(conf("hostnet-cluster"), conf("client"));
}

#[test]
fn ndots_5_makes_short_names_quick_and_outside_names_slow() {
    let c = fixture("");
    let conf = cluster_first(&c, "shop");
    let run = |name: &str| resolver::lookup(&conf, name, RType::A, |_, q| Some(Dns::of(&c).answer(&c, q, RType::A)));
    let web = run("web");
    assert_eq!(web.attempts.len(), 1, "the first search domain has it");
    assert!(web.answer().is_some());
    let other_ns = run("kube-dns.kube-system");
    assert_eq!(
        other_ns.attempts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["kube-dns.kube-system.shop.svc.cluster.local.", "kube-dns.kube-system.svc.cluster.local."]
    );
    // Two dots, fewer than five: every search domain fails first.
    let outside = run("api.example.com");
    let rcodes: Vec<&str> = outside.attempts.iter().map(|a| a.response.as_ref().unwrap().rcode.as_str()).collect();
    assert_eq!(rcodes, ["NXDOMAIN", "NXDOMAIN", "NXDOMAIN", "NOERROR"]);
    // A trailing dot skips the search list.
    assert_eq!(run("api.example.com.").attempts.len(), 1);
    // A name nobody has: every candidate, then NXDOMAIN.
    let typo = run("wbe");
    assert_eq!(typo.attempts.len(), 4);
    assert_eq!(typo.last().unwrap().rcode, Rcode::NxDomain);
}

fn trace_to(c: &Cluster, from: &str, to: &str) -> trace::Trace {
    let req = Request {
        from: From::Pod { namespace: "shop".into(), name: from.into() },
        to: To::Name(to.into()),
        port: 80,
        protocol: podpath_core::cluster::Protocol::Tcp,
        node: None,
        seed: 0,
    };
    trace::trace(c, &req).unwrap()
}

#[test]
fn lookups_cross_the_network_and_policy_can_break_them() {
    let c = fixture("");
    let t = trace_to(&c, "client", "web");
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
    let res = t.dns.as_ref().unwrap();
    let wire = &res.wires[0];
    assert_eq!((wire.destination_port, wire.hops[0].packet.protocol), (53, podpath_core::cluster::Protocol::Udp));
    let coredns = wire.destination_pod.as_deref().unwrap();
    assert!(coredns.starts_with("kube-system/coredns-"), "{coredns}");
    assert_eq!(t.service.name.as_deref(), Some("shop/web"));

    // A name that does not exist ends the trace at the lookup.
    let t = trace_to(&c, "client", "nope");
    assert_eq!(t.verdict, Verdict::Nxdomain);
    assert_eq!(t.dns.as_ref().unwrap().lookup.attempts.len(), 4);

    // Default-deny egress without a DNS rule: the query is dropped and the
    // lookup times out; the trace says so.
    let deny = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{to: [{podSelector: {}}]}]\n";
    let c = fixture(deny);
    let t = trace_to(&c, "client", "web");
    assert_eq!(t.verdict, Verdict::Dropped);
    assert!(t.reason.starts_with("the DNS query for web got no answer: NetworkPolicy"), "{}", t.reason);
    assert!(t.dns.as_ref().unwrap().lookup.timed_out());
    assert!(t.hops.iter().any(|h| h.action.stops()), "the query's own hops show the drop");

    // The usual fix: allow DNS to kube-dns.
    let allow = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: dns, namespace: shop}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n";
    let c = fixture(&format!("{deny}{allow}"));
    let t = trace_to(&c, "client", "web");
    assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
}

/// `pods verified` looks the address up in CoreDNS's pod index, which a
/// pod being deleted leaves (plugin/kubernetes/object/pod.go: "if the pod
/// is in the process of termination, return an error so it can be
/// ignored"): its record is gone while it still runs; `pods insecure`
/// answers from the name alone.
#[test]
fn a_terminating_pod_has_no_verified_record() {
    let leaving = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: leaving, namespace: shop, annotations: {podpath.dev/terminating: \"true\"}}\nspec: {containers: [{name: c, image: nginx}]}\n";
    for (mode, want) in [("verified", "NXDOMAIN"), ("insecure", "NOERROR")] {
        let c = fixture(&format!(
            "{leaving}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: coredns, namespace: kube-system}}\ndata:\n  Corefile: |\n    .:53 {{\n      kubernetes cluster.local {{\n        pods {mode}\n      }}\n    }}\n"
        ));
        let p = c.pod("shop", "leaving").unwrap();
        assert!(p.terminating && p.is_running());
        let dashed = p.ip.unwrap().to_string().replace('.', "-");
        let got = ask(&c, &Dns::of(&c), &format!("{dashed}.shop.pod.cluster.local"), "A");
        assert!(got.starts_with(want), "pods {mode}: {got}");
    }
}

/// A type the kubernetes plugin makes no records of (HINFO, MX, CAA,
/// TYPEn): its handler does a fake A lookup to tell NODATA from NXDOMAIN
/// (coredns plugin/kubernetes/handler.go, the `default:` case), so an
/// existing name is NOERROR with no answer and the SOA, a missing one
/// NXDOMAIN; on the wire the question carries the type's number.
#[test]
fn types_without_records_are_nodata_or_nxdomain() {
    let c = fixture("");
    let dns = Dns::of(&c);
    for t in ["HINFO", "mx", "CAA", "TYPE65280"] {
        assert_eq!(ask(&c, &dns, "web.shop.svc.cluster.local", t), "NOERROR", "{t}");
        assert_eq!(ask(&c, &dns, "nope.shop.svc.cluster.local", t), "NXDOMAIN", "{t}");
    }
    assert_eq!(RType::parse("hinfo").unwrap().to_string(), "HINFO");
    assert_eq!(RType::parse("TYPE65280").unwrap().to_string(), "TYPE65280");
    // Zone transfers and the modelled types by number are not asked so.
    assert!(RType::parse("AXFR").is_none() && RType::parse("TYPE1").is_none());
    let q = podpath_core::dns::wire::query(7, "web.shop.svc.cluster.local.", RType::parse("HINFO").unwrap());
    assert_eq!(&q[q.len() - 4..], [0, 13, 0, 1]);
}
