//! Ingress routing, table-driven from the Ingress documentation's path
//! matching examples (kubernetes.io, "Ingress: Examples"), for both
//! controllers — with the rows where ingress-nginx or Traefik answer
//! differently from the table, and why:
//!
//! - ingress-nginx writes a Prefix `/foo/` as `location /foo/`; a request
//!   for `/foo` gets nginx's 301 to `/foo/` (auto_redirect) instead of the
//!   backend.
//! - Traefik's PathPrefix is a string prefix: `/aaa/bbb` matches
//!   `/aaa/bbbxyz`, and `/foo/` does not match `/foo`; and the longest rule
//!   wins, so a Prefix `/foo` beats an Exact `/foo` (`PathPrefix` is the
//!   longer word) and a wildcard host's HostRegexp beats an exact Host.

use std::net::IpAddr;

use podpath_core::ingress::{route, HttpRequest, Routed};
use podpath_core::{simulate, Cluster, IngressController, Source};

/// A cluster with one Service per path (`svc-0`, `svc-1`…) behind an
/// Ingress on `example.com` with those paths, under `controller`.
fn paths_cluster(controller: &str, paths: &[(&str, &str)]) -> Cluster {
    let mut y = format!(
        "apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {{name: ing}}\nspec: {{ingressController: {controller}, nodes: 2}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: app}}\n"
    );
    let mut rules = String::new();
    for (i, (kind, path)) in paths.iter().enumerate() {
        y.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: app, labels: {{app: a{i}}}}}\nspec: {{containers: [{{name: c, image: nginx, ports: [{{containerPort: 80}}]}}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}, namespace: app}}\nspec: {{selector: {{app: a{i}}}, ports: [{{port: 80}}]}}\n"
        ));
        rules.push_str(&format!(
            "      - {{path: \"{path}\", pathType: {kind}, backend: {{service: {{name: svc-{i}, port: {{number: 80}}}}}}}}\n"
        ));
    }
    let class = if controller == "nginx" { "nginx" } else { "traefik" };
    y.push_str(&format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: site, namespace: app}}\nspec:\n  ingressClassName: {class}\n  rules:\n  - host: example.com\n    http:\n      paths:\n{rules}"
    ));
    let (c, diags) = simulate(&[Source::new("ing.yaml", y)]);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    c
}

fn get(host: &str, path: &str) -> HttpRequest {
    HttpRequest {
        scheme: "http".into(),
        host: host.into(),
        port: 80,
        path: path.into(),
        method: "GET".into(),
        headers: Vec::new(),
        client: "198.51.100.7".parse().unwrap(),
    }
}

/// `svc-N`, `default` (the controller's own 404), or `301 → LOCATION`.
fn outcome(r: &Routed) -> String {
    match (r.status, &r.backend, &r.location) {
        (301 | 302 | 308, _, Some(l)) => format!("{} → {l}", r.status),
        (200, Some(b), _) => b.service.clone(),
        (404, _, _) => "default".into(),
        _ => format!("{} {}", r.status, r.reason),
    }
}

#[test]
fn path_matching_per_the_ingress_documentation() {
    // (paths, request, the documentation's answer, nginx's, traefik's)
    type Row<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str, &'a str, &'a str);
    let rows: Vec<Row<'_>> = vec![
        (vec![("Prefix", "/")], "/anything", "svc-0", "svc-0", "svc-0"),
        (vec![("Exact", "/foo")], "/foo", "svc-0", "svc-0", "svc-0"),
        (vec![("Exact", "/foo")], "/bar", "default", "default", "default"),
        (vec![("Exact", "/foo")], "/foo/", "default", "default", "default"),
        (vec![("Exact", "/foo/")], "/foo", "default", "default", "default"),
        (vec![("Prefix", "/foo")], "/foo", "svc-0", "svc-0", "svc-0"),
        (vec![("Prefix", "/foo")], "/foo/", "svc-0", "svc-0", "svc-0"),
        (vec![("Prefix", "/foo/")], "/foo", "svc-0", "301 → http://example.com/foo/", "default"),
        (vec![("Prefix", "/foo/")], "/foo/", "svc-0", "svc-0", "svc-0"),
        (vec![("Prefix", "/aaa/bb")], "/aaa/bbb", "default", "default", "svc-0"),
        (vec![("Prefix", "/aaa/bbb")], "/aaa/bbb", "svc-0", "svc-0", "svc-0"),
        (vec![("Prefix", "/aaa/bbb/")], "/aaa/bbb", "svc-0", "301 → http://example.com/aaa/bbb/", "default"),
        (vec![("Prefix", "/aaa/bbb")], "/aaa/bbb/", "svc-0", "svc-0", "svc-0"),
        (vec![("Prefix", "/aaa/bbb")], "/aaa/bbb/ccc", "svc-0", "svc-0", "svc-0"),
        (vec![("Prefix", "/aaa/bbb")], "/aaa/bbbxyz", "default", "default", "svc-0"),
        (vec![("Prefix", "/"), ("Prefix", "/aaa")], "/aaa/ccc", "svc-1", "svc-1", "svc-1"),
        (vec![("Prefix", "/"), ("Prefix", "/aaa"), ("Prefix", "/aaa/bbb")], "/aaa/bbb", "svc-2", "svc-2", "svc-2"),
        (vec![("Prefix", "/"), ("Prefix", "/aaa"), ("Prefix", "/aaa/bbb")], "/ccc", "svc-0", "svc-0", "svc-0"),
        (vec![("Prefix", "/aaa")], "/ccc", "default", "default", "default"),
        (vec![("Prefix", "/foo"), ("Exact", "/foo")], "/foo", "svc-1", "svc-1", "svc-0"),
    ];
    let mut failures = Vec::new();
    for (paths, path, _doc, nginx, traefik) in &rows {
        for (controller, want) in [("nginx", nginx), ("traefik", traefik)] {
            let c = paths_cluster(controller, paths);
            let got = outcome(&route(&c, &get("example.com", path), 0));
            if got != *want {
                failures.push(format!("{controller}: {paths:?} GET {path}: want {want}, got {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn cluster(controller: &str, extra: &str) -> Cluster {
    let base = format!(
        "apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {{name: ing}}\nspec: {{ingressController: {controller}, nodes: 2}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: app}}\n"
    );
    let mut y = base;
    for name in ["web", "api", "canary", "fallback"] {
        y.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: app, labels: {{app: {name}}}}}\nspec: {{containers: [{{name: c, image: nginx, ports: [{{containerPort: 8080}}]}}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: app}}\nspec: {{selector: {{app: {name}}}, ports: [{{name: http, port: 80, targetPort: 8080}}]}}\n"
        ));
    }
    let (c, diags) = simulate(&[Source::new("ing.yaml", y + extra)]);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    c
}

fn ingress(name: &str, class: &str, annotations: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: app\n  annotations: {{{annotations}}}\nspec:\n  ingressClassName: {class}\n{spec}"
    )
}

const SITE: &str = "  tls: [{hosts: [secure.example.com], secretName: tls}]\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n  - host: \"*.example.com\"\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: fallback, port: {number: 80}}}}\n  - host: secure.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n";

#[test]
fn hosts_tls_and_the_default_backend_under_nginx() {
    let c = cluster("nginx", &ingress("site", "nginx", "", SITE));
    let r = |host: &str, path: &str| outcome(&route(&c, &get(host, path), 0));
    assert_eq!(r("shop.example.com", "/api/items"), "api");
    assert_eq!(r("SHOP.example.com", "/"), "web", "host names match without case");
    // One label for the wildcard; an exact host beats it.
    assert_eq!(r("blog.example.com", "/"), "fallback");
    assert_eq!(r("a.b.example.com", "/"), "default");
    assert_eq!(r("example.com", "/"), "default");
    // A TLS host redirects plain HTTP with 308; HTTPS goes through.
    let routed = route(&c, &get("secure.example.com", "/x?y=1"), 0);
    assert_eq!((routed.status, routed.location.as_deref()), (308, Some("https://secure.example.com/x?y=1")));
    let https = HttpRequest { scheme: "https".into(), port: 443, ..get("secure.example.com", "/x") };
    assert_eq!(outcome(&route(&c, &https, 0)), "web");
    // The default backend's page is nginx's own 404.
    let nf = route(&c, &get("nobody.org", "/"), 0);
    assert_eq!(nf.status, 404);
    assert!(nf.body.unwrap().contains("<center><h1>404 Not Found</h1></center>"));
    // Upstreams are the pods, not the cluster IP; headers say who asked.
    let ok = route(&c, &get("shop.example.com", "/api"), 0);
    let api_pod = c.pod("app", "api").unwrap().ip.unwrap();
    assert_eq!(ok.upstream, Some((api_pod, 8080)));
    assert!(ok.upstream_headers.contains(&("X-Forwarded-For".into(), "198.51.100.7".into())));
    assert_eq!(ok.ingress.as_deref(), Some("app/site"));
    // An Ingress spec.defaultBackend takes what no rule matches.
    let c = cluster(
        "nginx",
        &ingress("catch", "nginx", "", "  defaultBackend: {service: {name: fallback, port: {number: 80}}}\n"),
    );
    assert_eq!(outcome(&route(&c, &get("anything.test", "/x"), 0)), "fallback");
}

#[test]
fn nginx_annotations() {
    let regex = ingress(
        "rw",
        "nginx",
        "nginx.ingress.kubernetes.io/rewrite-target: /$2, nginx.ingress.kubernetes.io/use-regex: \"true\"",
        "  rules:\n  - host: rw.example.com\n    http:\n      paths:\n      - {path: \"/something(/|$)(.*)\", pathType: ImplementationSpecific, backend: {service: {name: api, port: {number: 80}}}}\n",
    );
    let c = cluster("nginx", &regex);
    let r = route(&c, &get("rw.example.com", "/something/new/items"), 0);
    assert_eq!((r.status, r.upstream_path.as_str()), (200, "/new/items"));
    assert!(r.rule.contains("location ~* \"^/something(/|$)(.*)\""), "{}", r.rule);
    // Case-insensitive once regex locations are on.
    assert_eq!(route(&c, &get("rw.example.com", "/SOMETHING"), 0).upstream_path, "/");

    let allow = ingress(
        "allow",
        "nginx",
        "nginx.ingress.kubernetes.io/whitelist-source-range: \"10.0.0.0/8, 192.168.0.0/16\"",
        "  rules:\n  - host: internal.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n",
    );
    let c = cluster("nginx", &allow);
    assert_eq!(route(&c, &get("internal.example.com", "/"), 0).status, 403);
    let inside = HttpRequest { client: "10.1.2.3".parse::<IpAddr>().unwrap(), ..get("internal.example.com", "/") };
    assert_eq!(route(&c, &inside, 0).status, 200);

    // A canary: by header first, then by weight.
    let main = ingress("main", "nginx", "", "  rules:\n  - host: c.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n");
    let canary = ingress(
        "main-canary",
        "nginx",
        "nginx.ingress.kubernetes.io/canary: \"true\", nginx.ingress.kubernetes.io/canary-by-header: X-Canary, nginx.ingress.kubernetes.io/canary-weight: \"30\"",
        "  rules:\n  - host: c.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: canary, port: {number: 80}}}}\n",
    );
    let c = cluster("nginx", &format!("{main}{canary}"));
    let with = |v: &str| HttpRequest { headers: vec![("X-Canary".into(), v.into())], ..get("c.example.com", "/") };
    assert_eq!(outcome(&route(&c, &with("always"), 0)), "canary");
    let never: Vec<String> = (0..20).map(|s| outcome(&route(&c, &with("never"), s))).collect();
    assert!(never.iter().all(|o| o == "web"));
    let weighted: Vec<String> = (0..200).map(|s| outcome(&route(&c, &get("c.example.com", "/"), s))).collect();
    let share = weighted.iter().filter(|o| *o == "canary").count();
    assert!((30..=90).contains(&share), "about 30% of 200 go to the canary: {share}");

    // The first Ingress to claim a host and path keeps it.
    let first = ingress("a-first", "nginx", "", "  rules:\n  - host: dup.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n");
    let second = ingress("b-second", "nginx", "", "  rules:\n  - host: dup.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}\n");
    let c = cluster("nginx", &format!("{first}{second}"));
    assert_eq!(outcome(&route(&c, &get("dup.example.com", "/"), 0)), "web");
}

#[test]
fn which_controller_serves_an_ingress() {
    // No class and no default IngressClass: ingress-nginx ignores it,
    // Traefik takes it.
    let spec = "  rules:\n  - host: x.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n";
    let unclassed = format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: u, namespace: app}}\nspec:\n{spec}"
    );
    assert_eq!(outcome(&route(&cluster("nginx", &unclassed), &get("x.example.com", "/"), 0)), "default");
    assert_eq!(outcome(&route(&cluster("traefik", &unclassed), &get("x.example.com", "/"), 0)), "web");
    // The legacy annotation picks nginx.
    let legacy = format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: l, namespace: app, annotations: {{kubernetes.io/ingress.class: nginx}}}}\nspec:\n{spec}"
    );
    assert_eq!(outcome(&route(&cluster("nginx", &legacy), &get("x.example.com", "/"), 0)), "web");
    // A class of the other controller is not served.
    let other = ingress("o", "traefik", "", spec);
    assert_eq!(outcome(&route(&cluster("nginx", &other), &get("x.example.com", "/"), 0)), "default");
    assert_eq!(route(&cluster("none", &other), &get("x.example.com", "/"), 0).controller, IngressController::None);
}

#[test]
fn traefik_routers_middlewares_and_ingressroutes() {
    // The same Ingress as under nginx: the wildcard's HostRegexp rule is
    // longer than the exact host's, so its router comes first and takes
    // shop.example.com too — Traefik's priority is the rule's length.
    let c = cluster("traefik", &ingress("site", "traefik", "", SITE));
    let r = |host: &str, path: &str| outcome(&route(&c, &get(host, path), 0));
    assert_eq!(r("shop.example.com", "/api/items"), "fallback");
    assert_eq!(r("blog.example.com", "/"), "fallback");
    // The fix users reach for: the wildcard in its own Ingress with a low
    // router.priority.
    let wildcard_rule = "  - host: \"*.example.com\"\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: fallback, port: {number: 80}}}}\n";
    let exact = SITE.replace(wildcard_rule, "");
    assert_ne!(exact, SITE);
    let wildcard = format!("  rules:\n{wildcard_rule}");
    let c = cluster(
        "traefik",
        &format!(
            "{}{}",
            ingress("site", "traefik", "", &exact),
            ingress("wild", "traefik", "traefik.ingress.kubernetes.io/router.priority: \"1\"", &wildcard)
        ),
    );
    let r = |host: &str, path: &str| outcome(&route(&c, &get(host, path), 0));
    assert_eq!(r("shop.example.com", "/api/items"), "api");
    assert_eq!(r("shop.example.com", "/apixyz"), "api", "a string prefix");
    assert_eq!(r("blog.example.com", "/"), "fallback");
    assert_eq!(r("a.b.example.com", "/"), "default");
    // No redirect to HTTPS by default; spec.tls alone makes no TLS router.
    assert_eq!(r("secure.example.com", "/"), "web");
    let nf = route(&c, &get("nobody.org", "/"), 0);
    assert_eq!((nf.status, nf.body.as_deref()), (404, Some("404 page not found\n")));
    // The rule that matched, with its priority: its own length.
    let ok = route(&c, &get("shop.example.com", "/api"), 0);
    let rule = "Host(`shop.example.com`) && PathPrefix(`/api`)";
    assert_eq!(ok.rule, format!("{rule} (priority {})", rule.len()));

    // An IngressRoute with middlewares: strip a prefix, allow a range,
    // redirect to HTTPS.
    let crd = "---\napiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {name: strip, namespace: app}\nspec: {stripPrefix: {prefixes: [/shop]}}\n---\napiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {name: office, namespace: app}\nspec: {ipAllowList: {sourceRange: [10.0.0.0/8]}}\n---\napiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {name: https, namespace: app}\nspec: {redirectScheme: {scheme: https, permanent: true}}\n---\napiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: shop, namespace: app}\nspec:\n  entryPoints: [web]\n  routes:\n  - match: Host(`r.example.com`) && PathPrefix(`/shop`)\n    kind: Rule\n    middlewares: [{name: strip}]\n    services: [{name: api, port: 80}]\n  - match: Host(`r.example.com`) && PathPrefix(`/admin`)\n    kind: Rule\n    middlewares: [{name: office}]\n    services: [{name: web, port: http}]\n  - match: Host(`r.example.com`) && (Path(`/login`) || Path(`/account`))\n    kind: Rule\n    middlewares: [{name: https}]\n    services: [{name: web, port: 80}]\n";
    let c = cluster("traefik", crd);
    let shop = route(&c, &get("r.example.com", "/shop/cart"), 0);
    assert_eq!((outcome(&shop).as_str(), shop.upstream_path.as_str()), ("api", "/cart"));
    assert!(shop.upstream_headers.contains(&("X-Forwarded-Prefix".into(), "/shop".into())));
    assert_eq!(route(&c, &get("r.example.com", "/admin"), 0).status, 403);
    let login = route(&c, &get("r.example.com", "/login"), 0);
    assert_eq!((login.status, login.location.as_deref()), (301, Some("https://r.example.com/login")));
    assert_eq!(outcome(&route(&c, &get("r.example.com", "/other"), 0)), "default");
}

mod the_way_in {
    use podpath_core::trace::{trace_http, From, HttpSpec, Request, To, Verdict};
    use podpath_core::{simulate, Cluster, Source};

    fn shop(controller: &str, extra: &str) -> Cluster {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/scenarios/shop.yaml");
        let class = if controller == "nginx" { "nginx" } else { "traefik" };
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace("  cni: flannel\n", &format!("  cni: calico\n  ingressController: {controller}\n"))
            + &format!("---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: shop, namespace: shop}}\nspec:\n  ingressClassName: {class}\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - {{path: /api, pathType: Prefix, backend: {{service: {{name: api, port: {{number: 80}}}}}}}}\n")
            + extra;
        let (c, _) = simulate(&[Source::new("shop.yaml", text)]);
        c
    }

    fn curl(c: &Cluster, from: From, url_path: &str) -> podpath_core::trace::Trace {
        let req = Request {
            from,
            to: To::Name("shop.example.com".into()),
            port: 80,
            protocol: podpath_core::cluster::Protocol::Tcp,
            node: None,
            seed: 3,
        };
        let spec = HttpSpec {
            scheme: "http".into(),
            host_header: "shop.example.com".into(),
            path: url_path.into(),
            method: "GET".into(),
            headers: Vec::new(),
            client: Default::default(),
        };
        trace_http(c, &req, &spec).unwrap()
    }

    #[test]
    fn outside_client_to_a_backend_through_the_controller() {
        let c = shop("nginx", "");
        let t = curl(&c, From::External, "/api/items");
        assert_eq!(t.verdict, Verdict::Delivered, "{}", t.reason);
        let h = t.http.as_ref().unwrap();
        assert_eq!(
            (h.status, h.backend.as_deref(), h.ingress.as_deref()),
            (200, Some("shop/api:80"), Some("shop/shop"))
        );
        // The controller's hop names the location that matched.
        let hop = t.hops.iter().find(|h| h.action == podpath_core::step::Action::Proxied).unwrap();
        let at = hop.at.to_string();
        assert!(at.starts_with("ingress-nginx/ingress-nginx-controller-") && at.ends_with(" nginx"), "{at}");
        assert_eq!(hop.rule.as_deref(), Some("server_name shop.example.com; location /api/"));
        // First leg: the LoadBalancer address, kube-proxy, the controller pod.
        assert_eq!(t.legs[0].service.frontend, "LoadBalancer");
        // Second leg: straight to the pod, no Service in the way.
        assert_eq!(t.legs[1].service.frontend, "none");
        assert!(t.destination_pod.as_deref().unwrap().starts_with("shop/api-"));
        // externalTrafficPolicy: Local keeps the client's address.
        assert!(h.upstream_request.as_ref().unwrap().contains("X-Forwarded-For: 198.51.100.7\r\n"));
        assert!(h.response.contains("Hostname: api-"));

        // Traefik's Service keeps the default Cluster policy: kube-proxy
        // masquerades, and the backend sees a node's address.
        let c = shop("traefik", "");
        let t = curl(&c, From::External, "/api/items");
        let h = t.http.as_ref().unwrap();
        assert_eq!((h.status, h.controller.as_deref()), (200, Some("traefik")));
        let xff = h
            .upstream_request
            .as_ref()
            .unwrap()
            .split("X-Forwarded-For: ")
            .nth(1)
            .unwrap()
            .split("\r\n")
            .next()
            .unwrap();
        // MASQUERADE takes the address of the way out: the node's own, or
        // its tunnel device's when the controller is on another node.
        let node_address = |n: &podpath_core::Node| {
            [n.internal_ip, n.network.gateway].iter().flatten().any(|ip| ip.to_string() == xff)
        };
        assert!(c.nodes.iter().any(node_address), "{xff}");
    }

    #[test]
    fn a_node_port_with_a_host_header_reaches_the_same_backend() {
        let c = shop("nginx", "");
        let svc = podpath_core::ingress::controller_service(&c).unwrap();
        let node_port = svc.ports.iter().find(|p| p.port == 80).and_then(|p| p.node_port).unwrap();
        let node = c.nodes.iter().find(|n| !n.is_control_plane()).unwrap();
        let req = Request {
            from: From::External,
            to: To::Ip(node.internal_ip.unwrap()),
            port: node_port,
            protocol: podpath_core::cluster::Protocol::Tcp,
            node: Some(node.name.clone()),
            seed: 0,
        };
        let spec = |headers: Vec<(String, String)>| HttpSpec {
            scheme: "http".into(),
            host_header: format!("{}:{node_port}", node.internal_ip.unwrap()),
            path: "/api".into(),
            method: "GET".into(),
            headers,
            client: Default::default(),
        };
        // By address, no rule's host matches: the default server's 404.
        let t = trace_http(&c, &req, &spec(Vec::new())).unwrap();
        assert_eq!(t.legs.len(), 0);
        assert_eq!(t.http.as_ref().map(|h| h.status), Some(404), "{}", t.reason);
        // curl -H 'Host: shop.example.com' picks the rule.
        let t = trace_http(&c, &req, &spec(vec![("Host".into(), "shop.example.com".into())])).unwrap();
        assert_eq!(t.legs[0].service.frontend, "NodePort");
        assert_eq!(t.http.as_ref().unwrap().backend.as_deref(), Some("shop/api:80"));
    }

    #[test]
    fn the_controller_answers_for_itself_or_for_a_backend_it_cannot_reach() {
        let c = shop("nginx", "");
        let t = curl(&c, From::External, "/nothing-here");
        let h = t.http.as_ref().unwrap();
        assert_eq!(h.status, 404);
        assert!(h.response.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert_eq!(t.legs.len(), 0, "no second connection");

        // From a pod: DNS sends the Ingress host to the controller's address.
        let client = c.pods.iter().find(|p| p.name.starts_with("frontend-")).unwrap();
        let t = curl(&c, From::Pod { namespace: "shop".into(), name: client.name.clone() }, "/api");
        assert_eq!(t.http.as_ref().unwrap().status, 200, "{}", t.reason);
        assert!(t.dns.is_some());

        // The backend's namespace admits no one: the controller's connection
        // is dropped, and it answers 504 after waiting.
        let deny = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n";
        let c = shop("nginx", deny);
        let t = curl(&c, From::External, "/api");
        assert_eq!(t.verdict, Verdict::Dropped);
        assert_eq!(t.http.as_ref().unwrap().status, 504);
    }
}

/// Traefik's Ingress provider only loads an Ingress's `spec.tls`
/// certificates into its TLS store (getCertificates); the routers it makes
/// carry no TLS of their own and stay on every entrypoint, and the Helm
/// chart's websecure entrypoint terminates TLS for all of them
/// (traefik-helm-chart values.yaml: `ports.websecure.tls.enabled: true`).
/// So an Ingress with `spec.tls` answers both plain HTTP and HTTPS.
#[test]
fn traefik_serves_a_tls_ingress_on_both_entrypoints() {
    let text = "apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: kind}\nspec: {ingressController: traefik}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\nspec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  tls: [{hosts: [shop.example.com], secretName: shop-tls}]\n  rules:\n  - host: shop.example.com\n    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}\n";
    let (c, diags) = podpath_core::simulate(&[podpath_core::Source::new("tls.yaml", text)]);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    for url in ["http://shop.example.com/", "https://shop.example.com/"] {
        let dest = podpath_core::trace::target::parse_to(url).unwrap();
        let spec = dest.http.clone().unwrap();
        let port = dest.port.unwrap_or(if spec.scheme == "https" { 443 } else { 80 });
        let req = podpath_core::trace::Request {
            from: podpath_core::trace::From::External,
            to: dest.to,
            port,
            protocol: podpath_core::cluster::Protocol::Tcp,
            node: None,
            seed: 0,
        };
        let t = podpath_core::trace::trace_http(&c, &req, &spec).unwrap();
        assert_eq!(t.http.as_ref().map(|h| h.status), Some(200), "{url}: {}", t.reason);
    }
}

/// Traefik v3.5's `strictPrefixMatching` (providers.kubernetesIngress,
/// default false): "a PathPrefix of `/foo` will match `/foo`, `/foo/`, and
/// `/foo/bar` but not `/foobar`" (Traefik's Kubernetes Ingress provider
/// reference); the provider then writes ``(Path(`/api`) ||
/// PathPrefix(`/api/`))`` (its `TestLoadConfigurationFromIngresses`, "with
/// strict prefix matching"). Set by the controller's own argument, as the
/// Helm chart's `providers.kubernetesIngress.strictPrefixMatching` does.
#[test]
fn traefik_strict_prefix_matching_matches_whole_path_elements() {
    // SITE without its wildcard host, whose longer rule would take all.
    let spec = "  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n";
    let site = ingress("site", "traefik", "", spec);
    let loose = cluster("traefik", &site);
    let r = |c: &Cluster, path: &str| outcome(&route(c, &get("shop.example.com", path), 0));
    assert_eq!(r(&loose, "/apixyz"), "api", "by default a string prefix");

    let deployment = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: traefik, namespace: traefik}\nspec:\n  selector: {matchLabels: {app.kubernetes.io/name: traefik, app.kubernetes.io/instance: traefik-traefik}}\n  template:\n    metadata: {labels: {app.kubernetes.io/name: traefik, app.kubernetes.io/instance: traefik-traefik}}\n    spec:\n      containers:\n      - name: traefik\n        image: docker.io/traefik:v3.5.3\n        args: [--entryPoints.web.address=:8000/tcp, --entryPoints.websecure.address=:8443/tcp, --providers.kubernetesingress, --providers.kubernetesIngress.strictPrefixMatching=true]\n        ports: [{name: web, containerPort: 8000}, {name: websecure, containerPort: 8443}]\n";
    let strict = cluster("traefik", &format!("{site}{deployment}"));
    assert_eq!(r(&strict, "/apixyz"), "web", "/api no longer takes /apixyz");
    assert_eq!(r(&strict, "/api"), "api");
    assert_eq!(r(&strict, "/api/"), "api");
    assert_eq!(r(&strict, "/api/items"), "api");
    let ok = route(&strict, &get("shop.example.com", "/api/items"), 0);
    let rule = "Host(`shop.example.com`) && (Path(`/api`) || PathPrefix(`/api/`))";
    assert_eq!(ok.rule, format!("{rule} (priority {})", rule.len()));
}
