//! The Gateway API's conformance tests (kubernetes-sigs/gateway-api
//! v1.4.1, conformance/tests/httproute-*.yaml and their .go tables),
//! re-expressed: the suite's base (conformance/base/manifests.yaml: the
//! infra, app-backend and web-backend namespaces, the same-namespace,
//! all-namespaces and backend-namespaces Gateways, the infra-backend-v1/v2/v3
//! Services), each test's routes, and each request's expected backend,
//! status and redirect, for every implementation podpath simulates.

use podpath_core::gateway::route::{route, GatewayRouted};
use podpath_core::gateway::status::{self, Condition, RouteView};
use podpath_core::gateway::Implementation;
use podpath_core::ingress::HttpRequest;
use podpath_core::{simulate, Cluster, Source};

const BASE: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: gateway-conformance-infra, labels: {gateway-conformance: infra}}
---
apiVersion: v1
kind: Namespace
metadata: {name: gateway-conformance-app-backend, labels: {gateway-conformance: backend}}
---
apiVersion: v1
kind: Namespace
metadata: {name: gateway-conformance-web-backend, labels: {gateway-conformance: backend}}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata: {name: same-namespace, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: conformance
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata: {name: all-namespaces, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: conformance
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata: {name: backend-namespaces, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: conformance
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {gateway-conformance: backend}}}}
";

/// A Deployment and Service of the suite's echo backend.
fn backend(ns: &str, name: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: echo, image: gcr.io/k8s-staging-gateway-api/echo-basic, ports: [{{containerPort: 3000}}]}}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  selector: {{app: {name}}}\n  ports: [{{port: 8080, targetPort: 3000}}]\n"
    )
}

const INFRA: &str = "gateway-conformance-infra";

fn cluster(implementation: Implementation, extra: &str) -> Cluster {
    let class = format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: conformance}}\nspec: {{controllerName: {}}}\n",
        implementation.controller_name()
    );
    let mut text = format!("{BASE}{class}");
    for b in ["infra-backend-v1", "infra-backend-v2", "infra-backend-v3"] {
        text.push_str(&backend(INFRA, b));
    }
    text.push_str(&backend("gateway-conformance-web-backend", "web-backend"));
    text.push_str(&backend("gateway-conformance-app-backend", "app-backend-v1"));
    text.push_str(extra);
    let (mut c, diags) = simulate(&[Source::new("conformance.yaml", text)]);
    assert!(!diags.iter().any(|d| d.is_error()), "{diags:#?}");
    // The tables hold for each implementation's controller: run it here
    // whatever else the cluster runs (Cilium's needs the Cilium plugin,
    // Traefik's its kubernetesGateway provider; see `data_planes`).
    c.gateway_api.running = vec![implementation];
    c
}

/// An HTTPRoute in infra on `same-namespace`, with these rules.
fn http_route(name: &str, rules: &str) -> String {
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: {INFRA}}}\nspec:\n  parentRefs: [{{name: same-namespace}}]\n  rules:\n{rules}"
    )
}

#[derive(Clone, Default)]
struct Req<'a> {
    gateway: &'a str,
    host: &'a str,
    port: u16,
    path: &'a str,
    method: &'a str,
    headers: &'a [(&'a str, &'a str)],
}

fn send(c: &Cluster, r: &Req<'_>, seed: u64) -> GatewayRouted {
    let gw = c
        .gateway_api
        .gateway(INFRA, if r.gateway.is_empty() { "same-namespace" } else { r.gateway })
        .expect("the Gateway");
    let req = HttpRequest {
        scheme: if r.port == 443 { "https".into() } else { "http".into() },
        host: if r.host.is_empty() {
            "172.18.255.201".into()
        } else {
            r.host.split(':').next().unwrap_or_default().into()
        },
        port: if r.port == 0 { 80 } else { r.port },
        path: r.path.into(),
        method: if r.method.is_empty() { "GET".into() } else { r.method.into() },
        headers: r.headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        client: "198.51.100.7".parse().unwrap(),
    };
    route(c, &c.gateway_api, gw, &req, seed).expect("a simulated implementation takes the Gateway")
}

/// `backend` for a 200, else the status.
fn outcome(c: &Cluster, r: Req<'_>) -> String {
    let routed = send(c, &r, 0);
    match (routed.status, &routed.backend) {
        (200, Some(b)) => b.service.clone(),
        (s, _) => s.to_string(),
    }
}

fn get(path: &str) -> Req<'_> {
    Req { path, ..Req::default() }
}

/// HTTPRouteMatching: a PathPrefix matches whole path elements; one rule's
/// matches are ORed.
#[test]
fn httproute_matching() {
    for i in Implementation::ALL {
        let c = cluster(i, &http_route("matching", "  - matches: [{path: {type: PathPrefix, value: /}}, {headers: [{name: version, value: one}]}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{path: {type: PathPrefix, value: /v2}}, {headers: [{name: version, value: two}]}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n"));
        for (path, headers, want) in [
            ("/", &[][..], "infra-backend-v1"),
            ("/example", &[], "infra-backend-v1"),
            ("/", &[("Version", "one")], "infra-backend-v1"),
            ("/v2", &[], "infra-backend-v2"),
            ("/v2/example", &[], "infra-backend-v2"),
            ("/", &[("Version", "two")], "infra-backend-v2"),
            ("/v2/", &[], "infra-backend-v2"),
            ("/v2example", &[], "infra-backend-v1"),
            ("/foo/v2/example", &[], "infra-backend-v1"),
        ] {
            assert_eq!(outcome(&c, Req { headers, ..get(path) }), want, "{i:?} {path} {headers:?}");
        }
    }
}

/// HTTPRoutePathMatchOrder: Exact first, then the longest prefix.
#[test]
fn httproute_path_match_order() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let rules = "  - matches: [{path: {type: Exact, value: /match}}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{path: {type: Exact, value: /match/exact}}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n  - matches: [{path: {type: Exact, value: /match/exact/one}}]\n    backendRefs: [{name: infra-backend-v3, port: 8080}]\n  - matches: [{path: {type: PathPrefix, value: /match/}}]\n    backendRefs: [{name: infra-backend-v3, port: 8080}]\n  - matches: [{path: {type: PathPrefix, value: /match/prefix/}}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{path: {type: PathPrefix, value: /match/prefix/one}}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n";
        let c = cluster(i, &http_route("path-matching-order", rules));
        for (path, want) in [
            ("/match/exact/one", "infra-backend-v3"),
            ("/match/exact", "infra-backend-v2"),
            ("/match", "infra-backend-v1"),
            ("/match/prefix/one/any", "infra-backend-v2"),
            ("/match/prefix/any", "infra-backend-v1"),
            ("/match/any", "infra-backend-v3"),
        ] {
            assert_eq!(outcome(&c, get(path)), want, "{path}");
        }
    }
}

/// HTTPRouteHeaderMatching: more header matches win; a tie goes to the
/// earlier rule; nothing matching is a 404.
#[test]
fn httproute_header_matching() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let rules = "  - matches: [{headers: [{name: version, value: one}]}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{headers: [{name: version, value: two}]}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n  - matches: [{headers: [{name: version, value: two}, {name: color, value: orange}]}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{headers: [{name: color, value: blue}]}, {headers: [{name: color, value: green}]}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{headers: [{name: color, value: red}]}, {headers: [{name: color, value: yellow}]}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n";
        let c = cluster(i, &http_route("header-matching", rules));
        for (headers, want) in [
            (&[("Version", "one")][..], "infra-backend-v1"),
            (&[("Version", "two")], "infra-backend-v2"),
            (&[("Version", "two"), ("Color", "orange")], "infra-backend-v1"),
            (&[("Version", "two"), ("Color", "blue")], "infra-backend-v2"),
            (&[("Color", "orange")], "404"),
            (&[("Some-Other-Header", "one")], "404"),
            (&[("Color", "blue")], "infra-backend-v1"),
            (&[("Color", "green")], "infra-backend-v1"),
            (&[("Color", "red")], "infra-backend-v2"),
            (&[("Color", "yellow")], "infra-backend-v2"),
            (&[("Color", "purple")], "404"),
        ] {
            assert_eq!(outcome(&c, Req { headers, ..get("/") }), want, "{headers:?}");
        }
    }
}

/// HTTPRouteQueryParamMatching and HTTPRouteMethodMatching: a path beats
/// a method, a method beats headers, headers beat query parameters; names
/// of query parameters are case-sensitive.
#[test]
fn httproute_query_param_and_method_matching() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let q = "  - matches: [{queryParams: [{name: animal, value: whale}]}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{queryParams: [{name: animal, value: dolphin}]}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n  - matches: [{queryParams: [{name: animal, value: dolphin}, {name: color, value: blue}]}, {queryParams: [{name: ANIMAL, value: Whale}]}]\n    backendRefs: [{name: infra-backend-v3, port: 8080}]\n  - matches: [{path: {type: PathPrefix, value: /path1}, queryParams: [{name: animal, value: whale}]}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{headers: [{name: version, value: one}], queryParams: [{name: animal, value: whale}]}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n  - matches: [{path: {type: PathPrefix, value: /path5}}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{queryParams: [{name: animal, value: hydra}]}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n  - matches: [{headers: [{name: version, value: four}]}]\n    backendRefs: [{name: infra-backend-v3, port: 8080}]\n";
        let c = cluster(i, &http_route("query-param-matching", q));
        for (path, headers, want) in [
            ("/?animal=whale", &[][..], "infra-backend-v1"),
            ("/?animal=dolphin", &[], "infra-backend-v2"),
            ("/?animal=dolphin&color=blue", &[], "infra-backend-v3"),
            ("/?ANIMAL=Whale", &[], "infra-backend-v3"),
            ("/?animal=whale&otherparam=irrelevant", &[], "infra-backend-v1"),
            ("/?animal=dolphin&color=yellow", &[], "infra-backend-v2"),
            ("/?color=blue", &[], "404"),
            ("/?animal=dog", &[], "404"),
            ("/?animal=whaledolphin", &[], "404"),
            ("/", &[], "404"),
            ("/path1?animal=whale", &[], "infra-backend-v1"),
            ("/?animal=whale", &[("version", "one")], "infra-backend-v2"),
            ("/path5?animal=hydra", &[], "infra-backend-v1"),
            ("/?animal=hydra", &[("version", "four")], "infra-backend-v3"),
        ] {
            assert_eq!(outcome(&c, Req { headers, ..get(path) }), want, "{path} {headers:?}");
        }
        let m = "  - matches: [{method: POST}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{method: GET}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n  - matches: [{path: {type: PathPrefix, value: /path1}, method: GET}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{headers: [{name: version, value: one}], method: PUT}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n  - matches: [{path: {type: PathPrefix, value: /path5}}]\n    backendRefs: [{name: infra-backend-v1, port: 8080}]\n  - matches: [{method: PATCH}]\n    backendRefs: [{name: infra-backend-v2, port: 8080}]\n  - matches: [{headers: [{name: version, value: four}]}]\n    backendRefs: [{name: infra-backend-v3, port: 8080}]\n";
        let c = cluster(i, &http_route("method-matching", m));
        for (method, path, headers, want) in [
            ("POST", "/", &[][..], "infra-backend-v1"),
            ("GET", "/", &[], "infra-backend-v2"),
            ("HEAD", "/", &[], "404"),
            ("GET", "/path1", &[], "infra-backend-v1"),
            ("PUT", "/", &[("version", "one")], "infra-backend-v2"),
            ("PUT", "/", &[], "404"),
            ("PATCH", "/path5", &[], "infra-backend-v1"),
            ("PATCH", "/", &[("version", "four")], "infra-backend-v2"),
        ] {
            assert_eq!(outcome(&c, Req { method, headers, ..get(path) }), want, "{method} {path} {headers:?}");
        }
    }
}

/// HTTPRouteHostnameIntersection and HTTPRouteListenerHostnameMatching:
/// a route's hostnames must meet its listener's; exact listeners before
/// wildcards; the Host header's port is ignored.
#[test]
fn hostname_intersection_and_listener_hostnames() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let gw = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: hi, namespace: gateway-conformance-infra}\nspec:\n  gatewayClassName: conformance\n  listeners:\n  - {name: listener-1, port: 80, protocol: HTTP, hostname: very.specific.com}\n  - {name: listener-2, port: 80, protocol: HTTP, hostname: \"*.wildcard.io\"}\n  - {name: listener-3, port: 80, protocol: HTTP, hostname: \"*.anotherwildcard.io\"}\n";
        let route = |name: &str, hosts: &str, prefix: &str, b: &str| {
            format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: {INFRA}}}\nspec:\n  parentRefs: [{{name: hi, namespace: {INFRA}}}]\n  hostnames: [{hosts}]\n  rules:\n  - matches: [{{path: {{type: PathPrefix, value: {prefix}}}}}]\n    backendRefs: [{{name: {b}, port: 8080}}]\n")
        };
        let extra = [
            gw.to_owned(),
            route("s1", "non.matching.com, \"*.nonmatchingwildcard.io\", very.specific.com", "/s1", "infra-backend-v1"),
            route(
                "s2",
                "non.matching.com, wildcard.io, foo.wildcard.io, bar.wildcard.io, foo.bar.wildcard.io",
                "/s2",
                "infra-backend-v2",
            ),
            route("s3", "non.matching.com, \"*.specific.com\"", "/s3", "infra-backend-v3"),
            route("s4", "\"*.anotherwildcard.io\"", "/s4", "infra-backend-v1"),
            route("no-intersecting-hosts", "specific.but.wrong.com, wildcard.io", "/s5", "infra-backend-v2"),
        ]
        .concat();
        let c = cluster(i, &extra);
        for (host, path, want) in [
            ("very.specific.com", "/s1", "infra-backend-v1"),
            ("very.specific.com:1234", "/s1", "infra-backend-v1"),
            ("non.matching.com", "/s1", "404"),
            ("foo.nonmatchingwildcard.io", "/s1", "404"),
            ("foo.wildcard.io", "/s1", "404"),
            ("foo.wildcard.io", "/s2", "infra-backend-v2"),
            ("foo.bar.wildcard.io", "/s2", "infra-backend-v2"),
            ("wildcard.io", "/s2", "404"),
            ("very.specific.com", "/s3", "infra-backend-v3"),
            ("foo.specific.com", "/s3", "404"),
            ("foo.bar.anotherwildcard.io", "/s4", "infra-backend-v1"),
            ("anotherwildcard.io", "/s4", "404"),
            ("specific.but.wrong.com", "/s5", "404"),
            ("wildcard.io", "/s5", "404"),
        ] {
            assert_eq!(outcome(&c, Req { gateway: "hi", host, ..get(path) }), want, "{host}{path}");
        }
        // The route whose hostnames meet no listener's is not accepted.
        let r = c
            .gateway_api
            .http_routes
            .iter()
            .find(|r| r.object.metadata.name.as_deref() == Some("no-intersecting-hosts"))
            .unwrap();
        let view = RouteView::http(&r.object);
        let s = status::parent_status(&c, &c.gateway_api, &r.object.spec.parent_refs[0], &view).unwrap();
        assert_eq!(accepted(&s.conditions), (false, "NoMatchingListenerHostname"));

        let gw = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: lh, namespace: gateway-conformance-infra}\nspec:\n  gatewayClassName: conformance\n  listeners:\n  - {name: listener-1, port: 80, protocol: HTTP, hostname: bar.com}\n  - {name: listener-2, port: 80, protocol: HTTP, hostname: foo.bar.com}\n  - {name: listener-3, port: 80, protocol: HTTP, hostname: \"*.bar.com\"}\n  - {name: listener-4, port: 80, protocol: HTTP, hostname: \"*.foo.com\"}\n";
        let on = |name: &str, sections: &[&str], b: &str| {
            let parents: Vec<String> =
                sections.iter().map(|s| format!("{{name: lh, namespace: {INFRA}, sectionName: {s}}}")).collect();
            format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: {INFRA}}}\nspec:\n  parentRefs: [{}]\n  rules:\n  - backendRefs: [{{name: {b}, port: 8080}}]\n", parents.join(", "))
        };
        let extra = [
            gw.to_owned(),
            on("backend-v1", &["listener-1"], "infra-backend-v1"),
            on("backend-v2", &["listener-2"], "infra-backend-v2"),
            on("backend-v3", &["listener-3", "listener-4"], "infra-backend-v3"),
        ]
        .concat();
        let c = cluster(i, &extra);
        for (host, want) in [
            ("bar.com", "infra-backend-v1"),
            ("foo.bar.com", "infra-backend-v2"),
            ("baz.bar.com", "infra-backend-v3"),
            ("multiple.prefixes.bar.com", "infra-backend-v3"),
            ("multiple.prefixes.foo.com", "infra-backend-v3"),
            ("foo.com", "404"),
            ("no.matching.host", "404"),
        ] {
            assert_eq!(outcome(&c, Req { gateway: "lh", host, ..get("/") }), want, "{host}");
        }
    }
}

fn accepted(conditions: &[Condition]) -> (bool, &'static str) {
    conditions.iter().find(|c| c.type_ == "Accepted").map(|c| (c.status, c.reason)).unwrap()
}

fn resolved(conditions: &[Condition]) -> (bool, &'static str) {
    conditions.iter().find(|c| c.type_ == "ResolvedRefs").map(|c| (c.status, c.reason)).unwrap()
}

/// HTTPRouteRedirect*: the Location the redirect writes, its status; the
/// port a redirect keeps or drops (RedirectPortAndScheme's table).
#[test]
fn httproute_redirects() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let rules = "  - matches: [{path: {type: PathPrefix, value: /hostname-redirect}}]\n    filters: [{type: RequestRedirect, requestRedirect: {hostname: example.org}}]\n  - matches: [{path: {type: PathPrefix, value: /host-and-status}}]\n    filters: [{type: RequestRedirect, requestRedirect: {statusCode: 301, hostname: example.org}}]\n  - matches: [{path: {type: PathPrefix, value: /original-prefix}}]\n    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}}}]\n  - matches: [{path: {type: PathPrefix, value: /full}}]\n    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /full-path-replacement}}}]\n  - matches: [{path: {type: PathPrefix, value: /port}}]\n    filters: [{type: RequestRedirect, requestRedirect: {port: 8083}}]\n  - matches: [{path: {type: PathPrefix, value: /scheme-https-and-port-nil}}]\n    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, hostname: example.org}}]\n  - matches: [{path: {type: PathPrefix, value: /scheme-https-and-port-8443}}]\n    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, port: 8443, hostname: example.org}}]\n  - matches: [{path: {type: PathPrefix, value: /scheme-nil-and-port-80}}]\n    filters: [{type: RequestRedirect, requestRedirect: {port: 80, hostname: example.org}}]\n";
        let c = cluster(i, &http_route("redirect", rules));
        let host = "gw.example";
        for (path, status, location) in [
            ("/hostname-redirect", 302, "http://example.org/hostname-redirect"),
            ("/host-and-status", 301, "http://example.org/host-and-status"),
            ("/original-prefix/lemon", 302, "http://gw.example/replacement-prefix/lemon"),
            ("/full/path/original", 302, "http://gw.example/full-path-replacement"),
            ("/port", 302, "http://gw.example:8083/port"),
            ("/scheme-https-and-port-nil", 302, "https://example.org/scheme-https-and-port-nil"),
            ("/scheme-https-and-port-8443", 302, "https://example.org:8443/scheme-https-and-port-8443"),
            ("/scheme-nil-and-port-80", 302, "http://example.org/scheme-nil-and-port-80"),
        ] {
            let r = send(&c, &Req { host, ..get(path) }, 0);
            assert_eq!((r.status, r.location.as_deref()), (status, Some(location)), "{path}");
        }
        // A listener on 8080: a redirect that names no scheme keeps its port;
        // one to https drops it.
        let gw = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: on-8080, namespace: gateway-conformance-infra}\nspec:\n  gatewayClassName: conformance\n  listeners: [{name: http, port: 8080, protocol: HTTP}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r8080, namespace: gateway-conformance-infra}\nspec:\n  parentRefs: [{name: on-8080}]\n  rules:\n  - matches: [{path: {type: PathPrefix, value: /scheme-nil-and-port-nil}}]\n    filters: [{type: RequestRedirect, requestRedirect: {hostname: example.org}}]\n  - matches: [{path: {type: PathPrefix, value: /scheme-https-and-port-nil}}]\n    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, hostname: example.org}}]\n";
        let c = cluster(i, gw);
        let at = |path| send(&c, &Req { gateway: "on-8080", port: 8080, host, ..get(path) }, 0).location;
        assert_eq!(at("/scheme-nil-and-port-nil").as_deref(), Some("http://example.org:8080/scheme-nil-and-port-nil"));
        assert_eq!(at("/scheme-https-and-port-nil").as_deref(), Some("https://example.org/scheme-https-and-port-nil"));
    }
}

/// HTTPRouteRewriteHost and HTTPRouteRewritePath, with the request header
/// modifier: what the backend sees.
#[test]
fn httproute_rewrites_and_header_modifiers() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let hm = "{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Header-Set, value: set-overwrites-values}], add: [{name: X-Header-Add, value: header-val-1}, {name: X-Header-Add-Append, value: header-val-2}], remove: [X-Header-Remove]}}";
        let rules = format!("  - matches: [{{path: {{type: PathPrefix, value: /prefix/one}}}}]\n    filters: [{{type: URLRewrite, urlRewrite: {{path: {{type: ReplacePrefixMatch, replacePrefixMatch: /one}}}}}}]\n    backendRefs: [{{name: infra-backend-v1, port: 8080}}]\n  - matches: [{{path: {{type: PathPrefix, value: /strip-prefix}}}}]\n    filters: [{{type: URLRewrite, urlRewrite: {{path: {{type: ReplacePrefixMatch, replacePrefixMatch: /}}}}}}]\n    backendRefs: [{{name: infra-backend-v1, port: 8080}}]\n  - matches: [{{path: {{type: PathPrefix, value: /full/one}}}}]\n    filters: [{{type: URLRewrite, urlRewrite: {{path: {{type: ReplaceFullPath, replaceFullPath: /one}}}}}}]\n    backendRefs: [{{name: infra-backend-v1, port: 8080}}]\n  - matches: [{{path: {{type: PathPrefix, value: /host}}}}]\n    filters: [{{type: URLRewrite, urlRewrite: {{hostname: test.example.org}}}}, {hm}]\n    backendRefs: [{{name: infra-backend-v2, port: 8080}}]\n");
        let c = cluster(i, &http_route("rewrite", &rules));
        for (path, want) in [
            ("/prefix/one/two", "/one/two"),
            ("/strip-prefix/three", "/three"),
            ("/strip-prefix", "/"),
            ("/full/one/two", "/one"),
            ("/prefix/one/two?q=1", "/one/two?q=1"),
        ] {
            assert_eq!(send(&c, &get(path), 0).upstream_path, want, "{path}");
        }
        let headers = [("X-Header-Remove", "remove-val"), ("X-Header-Add-Append", "append-val-1")];
        let r = send(&c, &Req { host: "rewrite.example", headers: &headers, ..get("/host") }, 0);
        assert_eq!(r.upstream_host, "test.example.org");
        let seen =
            |n: &str| r.upstream_headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str());
        assert_eq!(seen("X-Header-Add"), Some("header-val-1"));
        assert_eq!(seen("X-Header-Add-Append"), Some("append-val-1,header-val-2"));
        assert_eq!(seen("X-Header-Set"), Some("set-overwrites-values"));
        assert_eq!(seen("X-Header-Remove"), None);
    }
}

/// HTTPRouteWeight: 70/30/0 over many requests (the suite allows ±5%).
#[test]
fn httproute_weight() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let rules = "  - backendRefs:\n    - {name: infra-backend-v1, port: 8080, weight: 70}\n    - {name: infra-backend-v2, port: 8080, weight: 30}\n    - {name: infra-backend-v3, port: 8080, weight: 0}\n";
        let c = cluster(i, &http_route("weighted-backends", rules));
        let mut counts = std::collections::BTreeMap::new();
        for seed in 0..500 {
            let r = send(&c, &get("/"), seed);
            *counts.entry(r.backend.unwrap().service).or_insert(0) += 1;
        }
        let share = |b: &str| f64::from(*counts.get(b).unwrap_or(&0)) / 500.0;
        assert!((share("infra-backend-v1") - 0.7).abs() <= 0.05, "{counts:?}");
        assert!((share("infra-backend-v2") - 0.3).abs() <= 0.05, "{counts:?}");
        assert_eq!(share("infra-backend-v3"), 0.0, "{counts:?}");
    }
}

/// HTTPRouteReferenceGrant, HTTPRouteInvalidCrossNamespaceBackendRef,
/// HTTPRouteInvalidNonExistentBackendRef, HTTPRouteInvalidBackendRefUnknownKind:
/// the route stays accepted, ResolvedRefs says why, the request gets 500.
#[test]
fn invalid_backends_and_reference_grants() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let cross = "  - backendRefs: [{name: web-backend, namespace: gateway-conformance-web-backend, port: 8080}]\n";
        let grant = "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: reference-grant, namespace: gateway-conformance-web-backend}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gateway-conformance-infra}]\n  to: [{group: \"\", kind: Service, name: web-backend}]\n";
        for (extra, status, why) in [
            (http_route("r", cross), 500, (false, "RefNotPermitted")),
            (format!("{}{grant}", http_route("r", cross)), 200, (true, "ResolvedRefs")),
            (http_route("r", "  - backendRefs: [{name: nonexistent, port: 8080}]\n"), 500, (false, "BackendNotFound")),
            (http_route("r", "  - backendRefs: [{group: unknownkind.example.com, kind: NonExistent, name: infra-backend-v1, port: 8080}]\n"), 500, (false, "InvalidKind")),
        ] {
            let c = cluster(i, &extra);
            assert_eq!(send(&c, &get("/"), 0).status, status, "{extra}");
            let r = &c.gateway_api.http_routes[0].object;
            let s = status::parent_status(&c, &c.gateway_api, &r.spec.parent_refs[0], &RouteView::http(r)).unwrap();
            assert_eq!(accepted(&s.conditions), (true, "Accepted"));
            assert_eq!(resolved(&s.conditions), why, "{extra}");
        }
    }
}

/// HTTPRouteInvalidCrossNamespaceParentRef, ...NotMatchingSectionName,
/// ...NotMatchingListenerPort, HTTPRouteCrossNamespace: attachment by the
/// listener's allowedRoutes and the parentRef's sectionName and port.
#[test]
fn route_attachment_status() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let in_web = |name: &str, parent: &str| {
            format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: gateway-conformance-web-backend}}\nspec:\n  parentRefs: [{parent}]\n  rules:\n  - backendRefs: [{{name: web-backend, port: 8080}}]\n")
        };
        let extra = [
            in_web(
                "invalid-cross-namespace-parent-ref",
                "{name: same-namespace, namespace: gateway-conformance-infra}",
            ),
            in_web("cross-namespace", "{name: backend-namespaces, namespace: gateway-conformance-infra}"),
            http_route("section", "  - backendRefs: [{name: infra-backend-v1, port: 8080}]\n")
                .replace("{name: same-namespace}", "{name: same-namespace, sectionName: unknown}"),
            http_route("port", "  - backendRefs: [{name: infra-backend-v1, port: 8080}]\n")
                .replace("{name: same-namespace}", "{name: same-namespace, port: 81}"),
        ]
        .concat();
        let c = cluster(i, &extra);
        let of = |name: &str| {
            let r = &c
                .gateway_api
                .http_routes
                .iter()
                .find(|r| r.object.metadata.name.as_deref() == Some(name))
                .unwrap()
                .object;
            status::parent_status(&c, &c.gateway_api, &r.spec.parent_refs[0], &RouteView::http(r)).unwrap()
        };
        assert_eq!(accepted(&of("invalid-cross-namespace-parent-ref").conditions), (false, "NotAllowedByListeners"));
        assert_eq!(resolved(&of("invalid-cross-namespace-parent-ref").conditions), (true, "ResolvedRefs"));
        assert_eq!(accepted(&of("cross-namespace").conditions), (true, "Accepted"));
        assert_eq!(accepted(&of("section").conditions), (false, "NoMatchingParent"));
        assert_eq!(accepted(&of("port").conditions), (false, "NoMatchingParent"));
        // attachedRoutes: same-namespace's listener takes none of the others'.
        let gw = &c.gateway_api.gateway(INFRA, "backend-namespaces").unwrap().object;
        let s = status::gateway_status(&c, &c.gateway_api, gw, None).unwrap();
        assert_eq!((s.listeners[0].name.as_str(), s.listeners[0].attached_routes), ("http", 1));
        assert_eq!(s.listeners[0].supported_kinds, ["HTTPRoute", "GRPCRoute"]);
    }
}

/// GatewayInvalidRouteKind: a listener that names only kinds it cannot
/// serve supports none, says InvalidRouteKinds and takes no route.
#[test]
fn gateway_invalid_route_kind() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let gw = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gateway-only-invalid-route-kind, namespace: gateway-conformance-infra}\nspec:\n  gatewayClassName: conformance\n  listeners:\n  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{group: gateway.networking.k8s.io, kind: InvalidRoute}]}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: gateway-conformance-infra}\nspec:\n  parentRefs: [{name: gateway-only-invalid-route-kind}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]\n";
        let c = cluster(i, gw);
        let gw = &c.gateway_api.gateway(INFRA, "gateway-only-invalid-route-kind").unwrap().object;
        let s = status::gateway_status(&c, &c.gateway_api, gw, None).unwrap();
        let l = &s.listeners[0];
        assert!(l.supported_kinds.is_empty());
        assert_eq!(l.attached_routes, 0);
        assert_eq!(resolved(&l.conditions), (false, "InvalidRouteKinds"));
        // NGF reports its Gateway programmed once nginx is configured, even
        // before the load balancer has an address (its status/prepare_requests.go).
        let programmed = s.conditions.iter().find(|c| c.type_ == "Programmed").unwrap();
        if i == Implementation::NginxGatewayFabric {
            assert_eq!((programmed.status, programmed.reason), (true, "Programmed"));
        }
    }
}

fn http_trace(c: &Cluster, url: &str) -> podpath_core::trace::Trace {
    podpath_core::trace::target::trace_words(c, "external", url, 80, podpath_core::cluster::Protocol::Tcp, 0).unwrap()
}

const CAFE: &str = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gateway, namespace: default}\nspec:\n  gatewayClassName: CLASS\n  listeners: [{name: http, port: PORT, protocol: HTTP}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: coffee, namespace: default}\nspec:\n  parentRefs: [{name: gateway}]\n  hostnames: [cafe.example.com]\n  rules:\n  - matches: [{path: {type: PathPrefix, value: /coffee}}]\n    backendRefs: [{name: coffee, port: 80}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: coffee, namespace: default, labels: {app: coffee}}\nspec: {containers: [{name: c, image: nginxdemos/nginx-hello, ports: [{containerPort: 8080}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: coffee, namespace: default}\nspec: {selector: {app: coffee}, ports: [{port: 80, targetPort: 8080}]}\n";

/// The data planes as each controller deploys them: NGINX Gateway Fabric
/// a Deployment and a LoadBalancer Service `<gateway>-<class>` per
/// Gateway (its provisioner), whose address is the Gateway's; a request
/// to a route's host goes through that nginx to the backend. Traefik
/// takes Gateways only with its kubernetesGateway provider, on listeners
/// whose port is one of its entryPoints' ("Cannot find entryPoint for
/// Gateway"); Cilium's with the Cilium plugin, behind `cilium-gateway-<gateway>`.
#[test]
fn data_planes() {
    let ngf = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: nginx}\nspec: {controllerName: gateway.nginx.org/nginx-gateway-controller}\n";
    let (c, diags) =
        simulate(&[Source::new("cafe.yaml", format!("{ngf}{}", CAFE.replace("CLASS", "nginx").replace("PORT", "80")))]);
    assert!(!diags.iter().any(|d| d.is_error()), "{diags:#?}");
    let svc = c.service("default", "gateway-nginx").expect("NGF's data plane Service");
    assert_eq!(svc.type_, podpath_core::cluster::ServiceType::LoadBalancer);
    assert_eq!(svc.external_traffic_policy, podpath_core::cluster::TrafficPolicy::Local);
    let gw = &c.gateway_api.gateway("default", "gateway").unwrap().object;
    let s = status::gateway_status(&c, &c.gateway_api, gw, podpath_core::gateway::address(&c, gw)).unwrap();
    assert_eq!(s.addresses, svc.load_balancer_ips);
    assert!(c.pods.iter().any(|p| p.namespace == "default" && p.name.starts_with("gateway-nginx-") && p.is_running()));
    let t = http_trace(&c, "http://cafe.example.com/coffee");
    let http = t.http.as_ref().unwrap();
    assert_eq!(
        (http.status, http.gateway.as_deref(), http.route.as_deref()),
        (200, Some("default/gateway"), Some("default/coffee"))
    );
    assert_eq!(http.backend.as_deref(), Some("default/coffee:80"));
    assert!(
        t.hops.iter().any(|h| h.at.to_string().ends_with(" nginx")
            && h.rule
                .as_deref()
                .is_some_and(|r| r.starts_with("default/gateway listener http: default/coffee rules[0]"))),
        "{t}"
    );
    assert_eq!(t.destination_pod.as_deref(), Some("default/coffee"));
    let t = http_trace(&c, "http://cafe.example.com/tea");
    assert_eq!(t.http.as_ref().unwrap().status, 404);

    // Traefik: without its kubernetesGateway provider nobody takes the
    // class; with it, a listener on port 80 (not an entryPoint's) is refused.
    let traefik_class = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: traefik}\nspec: {controllerName: traefik.io/gateway-controller}\n";
    let cluster_spec =
        "apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: kind}\nspec: {ingressController: traefik}\n";
    let text = format!("{cluster_spec}{traefik_class}{}", CAFE.replace("CLASS", "traefik").replace("PORT", "80"));
    let (c, _) = simulate(&[Source::new("t.yaml", text.clone())]);
    assert!(c.gateway_api.running.iter().all(|i| *i != Implementation::Traefik));
    let deployment = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: traefik, namespace: traefik}\nspec:\n  selector: {matchLabels: {app.kubernetes.io/name: traefik, app.kubernetes.io/instance: traefik-traefik}}\n  template:\n    metadata: {labels: {app.kubernetes.io/name: traefik, app.kubernetes.io/instance: traefik-traefik}}\n    spec:\n      containers:\n      - name: traefik\n        image: docker.io/traefik:v3.5.3\n        args: [--entryPoints.web.address=:8000/tcp, --entryPoints.websecure.address=:8443/tcp, --entryPoints.websecure.http.tls=true, --providers.kubernetesingress, --providers.kubernetesgateway]\n        ports: [{name: web, containerPort: 8000}, {name: websecure, containerPort: 8443}]\n";
    let (c, _) = simulate(&[Source::new("t.yaml", format!("{text}{deployment}"))]);
    assert!(c.gateway_api.running.contains(&Implementation::Traefik));
    let gw = &c.gateway_api.gateway("default", "gateway").unwrap().object;
    let s = status::gateway_status(&c, &c.gateway_api, gw, podpath_core::gateway::address(&c, gw)).unwrap();
    assert_eq!(accepted(&s.listeners[0].conditions), (false, "PortUnavailable"));
    assert_eq!(accepted(&s.conditions), (false, "ListenersNotValid"));
    // On the web entryPoint's port it is served, through Traefik's Service.
    let (c, _) = simulate(&[Source::new(
        "t.yaml",
        format!("{}{deployment}", text.replace("port: 80, protocol: HTTP", "port: 8000, protocol: HTTP")),
    )]);
    let t = http_trace(&c, "http://cafe.example.com/coffee");
    let http = t.http.as_ref().unwrap();
    assert_eq!((http.status, http.gateway.as_deref()), (200, Some("default/gateway")), "{t}");

    // Cilium: only with the Cilium plugin, behind cilium-gateway-<gateway>.
    let cilium_class = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: cilium}\nspec: {controllerName: io.cilium/gateway-controller}\n";
    let text = format!("{cilium_class}{}", CAFE.replace("CLASS", "cilium").replace("PORT", "80"));
    let (c, _) = simulate(&[Source::new("c.yaml", text.clone())]);
    assert!(c.service("default", "cilium-gateway-gateway").is_none());
    let cilium = "apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: kind}\nspec: {cni: cilium, proxyMode: ebpf}\n";
    let (c, _) = simulate(&[Source::new("c.yaml", format!("{cilium}{text}"))]);
    let svc = c.service("default", "cilium-gateway-gateway").expect("Cilium's Gateway Service");
    let gw = &c.gateway_api.gateway("default", "gateway").unwrap().object;
    assert_eq!(podpath_core::gateway::address(&c, gw), svc.load_balancer_ips.first().copied());
    // Its frontend is an L7 load balancer: the service map sends the
    // connection to the node's Envoy (cilium-envoy, host network), which
    // routes it by the HTTPRoute and opens its own connection to a pod.
    let t = http_trace(&c, "http://cafe.example.com/coffee");
    let http = t.http.as_ref().unwrap();
    assert_eq!(
        (http.status, http.gateway.as_deref(), http.backend.as_deref()),
        (200, Some("default/gateway"), Some("default/coffee:80")),
        "{t}"
    );
    let redirect = t.hops.iter().find(|h| h.detail.contains("is an L7 load balancer")).expect("the redirect hop");
    assert!(redirect.rule.as_deref().unwrap_or_default().contains("[LoadBalancer, l7-load-balancer]"), "{redirect:?}");
    assert!(
        t.hops
            .iter()
            .any(|h| h.at.to_string().starts_with("kube-system/cilium-envoy-") && h.at.to_string().ends_with(" envoy")),
        "{t}"
    );
    assert_eq!(t.destination_pod.as_deref(), Some("default/coffee"), "{t}");
    let slices = c.endpoint_slices.iter().filter(|s| s.service.as_deref() == Some("cilium-gateway-gateway")).count();
    assert_eq!(slices, 1, "the placeholder endpoint's slice");
}

/// The CRDs' schema and CEL rules, with cases re-expressed from the API's
/// own CEL tests (tests/cel/gateway_test.go, httproute_test.go,
/// grpcroute_test.go at v1.5.1): each refused object is reported with the
/// CRD's message, at the line of the field it is about.
#[test]
fn crd_validation_at_the_field() {
    let text = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: nginx
  listeners:
  - name: http
    port: 8080
    protocol: HTTP
    tls: {certificateRefs: [{name: cert}]}
  - name: https
    port: 8443
    protocol: HTTPS
    tls: {mode: Passthrough}
  - name: http
    port: 80
    protocol: TCP
    hostname: foo.com
  - name: dup
    port: 80
    protocol: TCP
    hostname: foo.com
  - name: Bad_Name
    port: 0
    protocol: HTTP
    hostname: Foo.Example.com
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs:
  - name: gw
  - name: gw
    sectionName: http
  rules:
  - matches:
    - path: {type: PathPrefix, value: foo}
    - path: {type: Exact, value: /a//b}
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 309}
    - type: URLRewrite
    backendRefs:
    - name: web
  - matches:
    - path: {type: Exact, value: /x}
    filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /y}}
    backendRefs:
    - {name: web, port: 80, weight: -1}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches:
    - method: {type: Exact}
    - method: {service: 'foo-bar', method: Echo}
    backendRefs: [{name: grpc, port: 9000}]
";
    let (_, diags) = simulate(&[Source::new("crd.yaml", text)]);
    let got: Vec<String> = diags
        .iter()
        .filter(|d| d.api_rejects)
        .map(|d| format!("{}:{} {}", d.origin.line, d.origin.column, d.message))
        .collect();
    let want = [
        "23:5 gateway default/gw: spec.listeners[4].name: Invalid value: \"Bad_Name\": spec.listeners[4].name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
        "24:5 gateway default/gw: spec.listeners[4].port: Invalid value: 0: spec.listeners[4].port in body should be greater than or equal to 1",
        "26:5 gateway default/gw: spec.listeners[4].hostname: Invalid value: \"Foo.Example.com\": spec.listeners[4].hostname in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'",
        "10:5 gateway default/gw: spec.listeners: Invalid value: \"array\": tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
        "14:11 gateway default/gw: spec.listeners: Invalid value: \"array\": tls mode must be Terminate for protocol HTTPS",
        "18:5 gateway default/gw: spec.listeners: Invalid value: \"array\": hostname must not be specified for protocols ['TCP', 'UDP']",
        "7:5 gateway default/gw: spec.listeners: Invalid value: \"array\": Listener name must be unique within the Gateway",
        "16:5 gateway default/gw: spec.listeners: Invalid value: \"array\": Combination of port, protocol and hostname must be unique for each listener",
    ];
    for w in want {
        assert!(got.iter().any(|g| g == w), "missing {w}\n got {got:#?}");
    }
    for w in [
        "spec.parentRefs: Invalid value: \"array\": sectionName must be specified when parentRefs includes 2 or more references to the same parent",
        "spec.rules[0].matches[0].path: Invalid value: \"object\": value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
        "spec.rules[0].matches[1].path: Invalid value: \"object\": must not contain '//' when type one of ['Exact', 'PathPrefix']",
        "spec.rules[0].filters[0].requestRedirect.statusCode: Unsupported value: 309: supported values: \"301\", \"302\", \"303\", \"307\", \"308\"",
        "spec.rules[0].filters[1]: Invalid value: \"object\": filter.urlRewrite must be specified for URLRewrite filter.type",
        "spec.rules[0].backendRefs[0]: Invalid value: \"object\": Must have port for Service reference",
        "spec.rules[0]: Invalid value: \"object\": RequestRedirect filter must not be used together with backendRefs",
        "spec.rules[0].filters: Invalid value: \"array\": May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
        "spec.rules[1]: Invalid value: \"object\": When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified",
        "spec.rules[1].backendRefs[0].weight: Invalid value: -1: spec.rules[1].backendRefs[0].weight in body should be greater than or equal to 0",
        "spec.rules[0].matches[0].method: Invalid value: \"object\": One or both of 'service' or 'method' must be specified",
        "spec.rules[0].matches[1].method: Invalid value: \"object\": service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)",
    ] {
        assert!(got.iter().any(|g| g.ends_with(w)), "missing {w}\n got {got:#?}");
    }
    // Placed at the item: the redirect's code, the backend without a port.
    assert!(got.iter().any(|g| g.starts_with("42:40 ") && g.contains("statusCode")), "{got:#?}");
    assert!(got.iter().any(|g| g.starts_with("45:7 ") && g.contains("Must have port")), "{got:#?}");
    // A valid object says nothing: the conformance base above loads clean.
    let (_, clean) = simulate(&[Source::new("ok.yaml", BASE)]);
    assert!(!clean.iter().any(|d| d.api_rejects), "{clean:#?}");
}

fn grpc_route(name: &str, rules: &str) -> String {
    let mut s = backend(INFRA, "grpc-infra-backend-v1");
    s.push_str(&backend(INFRA, "grpc-infra-backend-v2"));
    s.push_str(&format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {{name: {name}, namespace: {INFRA}}}\nspec:\n  parentRefs: [{{name: same-namespace}}]\n  rules:\n{rules}"
    ));
    s
}

/// A gRPC call (`content-type: application/grpc`, POST to
/// `/service/method`): the backend on OK, else the grpc-status.
fn grpc_outcome(c: &Cluster, method: &str, metadata: &[(&str, &str)]) -> String {
    let mut headers = vec![("content-type", "application/grpc")];
    headers.extend_from_slice(metadata);
    let path = format!("/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/{method}");
    let routed = send(c, &Req { method: "POST", headers: &headers, ..get(&path) }, 0);
    assert_eq!(routed.status, 200, "gRPC answers over HTTP 200: {routed:?}");
    match routed.response_headers.iter().find(|(n, _)| n == "grpc-status") {
        Some((_, code)) => format!("grpc-status {code}"),
        None => routed.backend.map(|b| b.service).unwrap_or_default(),
    }
}

/// GRPCExactMethodMatching and GRPCRouteHeaderMatching (conformance
/// tests grpcroute-exact-method-matching, grpcroute-header-matching): an
/// unknown method and metadata no rule matches are UNIMPLEMENTED (12); a
/// gRPC call never takes an HTTPRoute's rule, nor an HTTP request a
/// GRPCRoute's.
#[test]
fn grpcroute_method_and_header_matching() {
    let exact = "  - matches: [{method: {service: gateway_api_conformance.echo_basic.grpcecho.GrpcEcho, method: Echo}}]\n    backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]\n  - matches: [{method: {service: gateway_api_conformance.echo_basic.grpcecho.GrpcEcho, method: EchoTwo}}]\n    backendRefs: [{name: grpc-infra-backend-v2, port: 8080}]\n";
    let headers = "  - matches: [{headers: [{name: version, value: one}]}]\n    backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]\n  - matches: [{headers: [{name: version, value: two}]}]\n    backendRefs: [{name: grpc-infra-backend-v2, port: 8080}]\n  - matches: [{headers: [{name: version, value: two}, {name: color, value: orange}]}]\n    backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]\n  - matches: [{headers: [{name: color, value: blue}]}, {headers: [{name: color, value: green}]}]\n    backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]\n  - matches: [{headers: [{name: color, value: red}]}, {headers: [{name: color, value: yellow}]}]\n    backendRefs: [{name: grpc-infra-backend-v2, port: 8080}]\n";
    for i in Implementation::ALL {
        let c = cluster(i, &grpc_route("exact-matching", exact));
        assert_eq!(grpc_outcome(&c, "Echo", &[]), "grpc-infra-backend-v1", "{i:?}");
        assert_eq!(grpc_outcome(&c, "EchoTwo", &[]), "grpc-infra-backend-v2", "{i:?}");
        assert_eq!(grpc_outcome(&c, "EchoThree", &[]), "grpc-status 12", "{i:?}");
        // An HTTP request on the same listener finds no HTTPRoute: 404.
        assert_eq!(outcome(&c, get("/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo")), "404", "{i:?}");
        let route = &c.gateway_api.grpc_routes[0].object;
        let parents = status::parent_status(&c, &c.gateway_api, &route.spec.parent_refs[0], &RouteView::grpc(route));
        assert_eq!(accepted(&parents.unwrap().conditions), (true, "Accepted"), "{i:?}");

        let c = cluster(i, &grpc_route("grpc-header-matching", headers));
        for (metadata, want) in [
            (&[("Version", "one")][..], "grpc-infra-backend-v1"),
            (&[("Version", "two")], "grpc-infra-backend-v2"),
            (&[("Version", "two"), ("Color", "orange")], "grpc-infra-backend-v1"),
            (&[("Version", "two"), ("Color", "blue")], "grpc-infra-backend-v2"),
            (&[("Color", "orange")], "grpc-status 12"),
            (&[("Some-Other-Header", "one")], "grpc-status 12"),
            (&[("Color", "blue")], "grpc-infra-backend-v1"),
            (&[("Color", "green")], "grpc-infra-backend-v1"),
            (&[("Color", "red")], "grpc-infra-backend-v2"),
            (&[("Color", "yellow")], "grpc-infra-backend-v2"),
            (&[("Color", "purple")], "grpc-status 12"),
        ] {
            assert_eq!(grpc_outcome(&c, "Echo", metadata), want, "{i:?} {metadata:?}");
        }
    }
    // A backend that does not exist: UNAVAILABLE (14).
    let c = cluster(
        Implementation::NginxGatewayFabric,
        &grpc_route("missing", "  - backendRefs: [{name: nope, port: 8080}]\n"),
    );
    assert_eq!(grpc_outcome(&c, "Echo", &[]), "grpc-status 14");
}

/// GatewayInvalidTLSConfiguration, GatewaySecretMissingReferenceGrant and
/// GatewaySecretReferenceGrantSpecific (conformance tests gateway-*): a
/// terminating listener's certificateRef must be a core Secret the cluster
/// has; one in another namespace needs a ReferenceGrant there from
/// Gateways of the listener's namespace. Otherwise the listener's
/// ResolvedRefs is False (InvalidCertificateRef, RefNotPermitted) and it
/// is not Programmed.
#[test]
fn listener_certificates_and_secret_reference_grants() {
    // Every implementation podpath simulates passes the same table.
    for i in Implementation::ALL {
        let extra = "
---
apiVersion: v1
kind: Namespace
metadata: {name: gateway-conformance-web-backend-certs}
---
apiVersion: v1
kind: Secret
metadata: {name: tls-validity-checks-certificate, namespace: gateway-conformance-infra}
type: kubernetes.io/tls
data: {tls.crt: '', tls.key: ''}
---
apiVersion: v1
kind: Secret
metadata: {name: certificate, namespace: gateway-conformance-web-backend}
type: kubernetes.io/tls
data: {tls.crt: '', tls.key: ''}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: tls, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: conformance
  listeners:
  - {name: https-ok, port: 443, protocol: HTTPS, hostname: ok.example.com, tls: {certificateRefs: [{name: tls-validity-checks-certificate}]}}
  - {name: https-missing, port: 443, protocol: HTTPS, hostname: missing.example.com, tls: {certificateRefs: [{name: nonexistent-certificate}]}}
  - {name: https-cross, port: 443, protocol: HTTPS, hostname: cross.example.com, tls: {certificateRefs: [{name: certificate, namespace: gateway-conformance-web-backend}]}}
  - {name: https-kind, port: 443, protocol: HTTPS, hostname: kind.example.com, tls: {certificateRefs: [{group: '', kind: ConfigMap, name: tls-validity-checks-certificate}]}}
";
        // Traefik serves HTTPS on its websecure entryPoint only.
        let extra = &extra.replace("port: 443", if i == Implementation::Traefik { "port: 8443" } else { "port: 443" });
        let c = cluster(i, extra);
        let of = |c: &Cluster| {
            let gw = &c.gateway_api.gateway(INFRA, "tls").unwrap().object;
            let s = status::gateway_status(c, &c.gateway_api, gw, podpath_core::gateway::address(c, gw)).unwrap();
            s.listeners
                .iter()
                .map(|l| {
                    (
                        l.name.clone(),
                        resolved(&l.conditions),
                        // Traefik's pods here run no kubernetesGateway
                        // provider, so it has no entryPoint to program.
                        i == Implementation::Traefik
                            || l.conditions.iter().any(|c| c.type_ == "Programmed" && c.status),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            of(&c),
            [
                ("https-ok".to_owned(), (true, "ResolvedRefs"), true),
                ("https-missing".to_owned(), (false, "InvalidCertificateRef"), i == Implementation::Traefik),
                ("https-cross".to_owned(), (false, "RefNotPermitted"), i == Implementation::Traefik),
                ("https-kind".to_owned(), (false, "InvalidCertificateRef"), i == Implementation::Traefik),
            ]
        );
        // A grant for that Secret, from Gateways of the infra namespace.
        let grant = "
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: reference-grant, namespace: gateway-conformance-web-backend}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: gateway-conformance-infra}]
  to: [{group: '', kind: Secret, name: certificate}]
";
        let c = cluster(i, &format!("{extra}{grant}"));
        assert_eq!(of(&c)[2], ("https-cross".to_owned(), (true, "ResolvedRefs"), true));
    }
}
