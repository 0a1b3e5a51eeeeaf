//! `convert ingress-to-gateway`: the objects have the shape
//! kubernetes-sigs/ingress2gateway gives them (one Gateway per namespace and
//! class, `<host>-http`/`-https` listeners, `<ingress>-<host>` routes, the
//! 308 route on the HTTP listener for TLS hosts, canary weights
//! `total - weight` / `weight`), they pass the CRDs' validation, and the
//! same requests land on the same backends through ingress-nginx before and
//! through the Gateway after — except where ingress-nginx's regex locations
//! differ from PathPrefix, which the conversion warns about.

use podpath_core::gateway::convert::{both_ways, ingress_to_gateway, Options};
use podpath_core::gateway::Implementation;
use podpath_core::ingress::HttpRequest;
use podpath_core::{simulate, Cluster, Source};

const SHOP: &str = include_str!("convert/shop-ingress-nginx.yaml");

fn convert(text: &str, implementation: Implementation) -> (Cluster, Cluster, String, Vec<String>) {
    let (before, diags) = simulate(&[Source::new("shop.yaml", text)]);
    assert!(!diags.iter().any(|d| d.is_error()), "{diags:#?}");
    let converted = ingress_to_gateway(&before, &Options::new(implementation));
    let yaml = converted.to_yaml();
    let notes = converted.diagnostics.iter().map(|d| d.message.clone()).collect();
    let (after, diags) = simulate(&[Source::new("shop.yaml", text), Source::new("gateway.yaml", yaml.clone())]);
    assert!(!diags.iter().any(|d| d.is_error() || d.api_rejects), "{diags:#?}\n{yaml}");
    (before, after, yaml, notes)
}

fn req(scheme: &str, path: &str, headers: &[(&str, &str)]) -> HttpRequest {
    HttpRequest {
        scheme: scheme.into(),
        host: "shop.example.com".into(),
        port: if scheme == "https" { 443 } else { 80 },
        path: path.into(),
        method: "GET".into(),
        headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        client: "198.51.100.7".parse().unwrap(),
    }
}

/// A request (scheme, path, headers) and what both answer (status,
/// backend Service, upstream path).
type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], u16, Option<&'a str>, &'a str);

#[test]
fn ingress_nginx_shop_to_nginx_gateway_fabric() {
    let (before, after, yaml, notes) = convert(SHOP, Implementation::NginxGatewayFabric);
    for want in [
        "kind: Gateway\nmetadata:\n  name: nginx\n  namespace: shop\nspec:\n  gatewayClassName: nginx\n",
        "  - hostname: shop.example.com\n    name: shop-example-com-https\n    port: 443\n    protocol: HTTPS\n",
        "  name: shop-shop-example-com\n",
        "  name: shop-shop-example-com-http\n",
        "    - name: api\n      port: 8080\n      weight: 90\n    - name: api-canary\n      port: 8080\n      weight: 10\n",
        "        scheme: https\n        statusCode: 308\n",
        "          replacePrefixMatch: /\n          type: ReplacePrefixMatch\n",
    ] {
        assert!(yaml.contains(want), "missing\n{want}\nin\n{yaml}");
    }
    assert!(notes.iter().any(|n| n.contains("proxy-body-size: no Gateway API equivalent")), "{notes:#?}");
    assert!(notes.iter().any(|n| n.contains("case-insensitive regular expression")), "{notes:#?}");
    // (scheme, path, headers) → what both answer.
    let same: &[Case] = &[
        ("https", "/", &[], 200, Some("web"), "/"),
        ("https", "/cart/items", &[], 200, Some("web"), "/cart/items"),
        ("https", "/api/orders", &[("X-Canary", "always")], 200, Some("api-canary"), "/api/orders"),
        ("https", "/api/orders", &[("X-Canary", "never")], 200, Some("api"), "/api/orders"),
        ("https", "/assets/app.css", &[], 200, Some("web"), "/app.css"),
        ("http", "/api", &[], 308, None, ""),
    ];
    for (scheme, path, headers, status, backend, upstream) in same {
        let both = both_ways(&before, &after, &req(scheme, path, headers), 0);
        let gw = both.gateway.expect("the Gateway takes the host");
        let shown = |s: u16, b: Option<&podpath_core::ingress::Backend>, p: &str| {
            (s, b.map(|b| b.service.clone()), if s == 200 { p.to_owned() } else { String::new() })
        };
        let want = (*status, backend.map(str::to_owned), (*upstream).to_owned());
        assert_eq!(
            shown(both.ingress.status, both.ingress.backend.as_ref(), &both.ingress.upstream_path),
            want,
            "ingress-nginx {scheme}://…{path}"
        );
        assert_eq!(shown(gw.status, gw.backend.as_ref(), &gw.upstream_path), want, "gateway {scheme}://…{path}");
    }
    // Where they differ, as warned: ingress-nginx's `~* ^/api` takes
    // /apiary; PathPrefix /api does not, and `/` does.
    let both = both_ways(&before, &after, &req("https", "/apiary", &[("X-Canary", "never")]), 0);
    assert_eq!(both.ingress.backend.map(|b| b.service), Some("api".into()));
    assert_eq!(both.gateway.and_then(|g| g.backend).map(|b| b.service), Some("web".into()));
    // The redirect's Location, both ways.
    let both = both_ways(&before, &after, &req("http", "/api?x=1", &[]), 0);
    assert_eq!(both.ingress.location.as_deref(), Some("https://shop.example.com/api?x=1"));
    assert_eq!(both.gateway.and_then(|g| g.location).as_deref(), Some("https://shop.example.com/api?x=1"));
}

/// Traefik's flavour: `router.middlewares` with a StripPrefix becomes a
/// prefix rewrite; IngressRoute rules of `Host && PathPrefix && Headers`
/// become matches; an `||` rule is left with a warning; listeners sit on
/// Traefik's entryPoints (web :8000), as its provider requires.
#[test]
fn traefik_ingresses_and_ingress_routes_to_traefik_gateway() {
    let text = include_str!("convert/shop-traefik.yaml");
    let (before, after, yaml, notes) = convert(text, Implementation::Traefik);
    assert!(yaml.contains("    name: shop-example-com-http\n    port: 8000\n    protocol: HTTP\n"), "{yaml}");
    assert!(yaml.contains("  name: admin-admin-example-com\n"), "{yaml}");
    assert!(yaml.contains("  name: shop-shop-example-com\n"), "{yaml}");
    assert!(
        notes.iter().any(|n| n.contains("rule Host(`admin.example.com`) || Host(`ops.example.com`)")),
        "{notes:#?}"
    );
    let host =
        |h: &str, path: &str, headers: &[(&str, &str)]| HttpRequest { host: h.into(), ..req("http", path, headers) };
    for (r, backend, upstream) in [
        (host("shop.example.com", "/api/orders", &[]), "api", "/orders"),
        (host("shop.example.com", "/cart", &[]), "web", "/cart"),
        (host("admin.example.com", "/users", &[("X-Team", "ops")]), "web", "/users"),
    ] {
        let both = both_ways(&before, &after, &r, 0);
        let gw = both.gateway.expect("Traefik's Gateway takes the host");
        assert_eq!(
            (both.ingress.status, both.ingress.backend.map(|b| b.service), both.ingress.upstream_path),
            (200, Some(backend.to_owned()), upstream.to_owned()),
            "traefik ingress {} {}",
            r.host,
            r.path
        );
        assert_eq!(
            (gw.status, gw.backend.map(|b| b.service), gw.upstream_path),
            (200, Some(backend.to_owned()), upstream.to_owned()),
            "traefik gateway {} {}",
            r.host,
            r.path
        );
    }
}

/// Half migrated — the Ingresses and the converted Gateway both name the
/// host: public DNS still follows the Ingress, and the trace says where
/// the Gateway would send the same request (`http.also`), so a difference
/// shows before the cut-over.
#[test]
fn a_half_migrated_host_shows_the_other_way() {
    let (_, _, yaml, _) = convert(SHOP, Implementation::NginxGatewayFabric);
    let (both, _) = simulate(&[Source::new("shop.yaml", SHOP), Source::new("gateway.yaml", yaml)]);
    let t = podpath_core::trace::target::trace_words(
        &both,
        "external",
        "https://shop.example.com/apiary",
        443,
        podpath_core::cluster::Protocol::Tcp,
        0,
    )
    .unwrap();
    let h = t.http.as_ref().unwrap();
    assert_eq!((h.ingress.as_deref(), h.backend.as_deref()), (Some("shop/shop"), Some("shop/api:8080")));
    let also = h.also.as_deref().unwrap_or_default();
    assert!(also.starts_with("through Gateway shop/nginx: 200 from shop/web:80 (shop/shop-shop-example-com rules[0].matches[0]: PathPrefix / → web:80)"), "{also}");
    // One way only: no `also`.
    let (before, _) = simulate(&[Source::new("shop.yaml", SHOP)]);
    let t = podpath_core::trace::target::trace_words(
        &before,
        "external",
        "http://shop.example.com/",
        80,
        podpath_core::cluster::Protocol::Tcp,
        0,
    )
    .unwrap();
    assert_eq!(t.http.unwrap().also, None);
}

/// The class as ingress2gateway reads it: `spec.ingressClassName`, else the
/// legacy `kubernetes.io/ingress.class` annotation; the Gateway is named
/// after it.
#[test]
fn the_gateway_is_named_after_the_ingress_class() {
    let text = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: legacy\n  annotations: {kubernetes.io/ingress.class: traefik}\nspec:\n  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n";
    let (c, _) = simulate(&[Source::new("i.yaml", text)]);
    let yaml = ingress_to_gateway(&c, &Options::new(Implementation::NginxGatewayFabric)).to_yaml();
    assert!(
        yaml.contains(
            "kind: Gateway\nmetadata:\n  name: traefik\n  namespace: default\nspec:\n  gatewayClassName: nginx\n"
        ),
        "{yaml}"
    );
    assert!(yaml.contains("  name: legacy-all-hosts\n"), "{yaml}");
}
