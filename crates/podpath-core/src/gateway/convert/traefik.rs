//! Traefik's side: the router annotations on Ingresses (entrypoints, tls,
//! middlewares) and IngressRoutes whose rules the Gateway API can say.

use serde_json::json;

use super::{name_from_host, Rule, Work};
use crate::cluster::ingress::Named;
use crate::cluster::Ingress;
use crate::load::crd::{IngressRoute, MiddlewareRef};

const PREFIX: &str = "traefik.ingress.kubernetes.io/";

/// `router.entrypoints`, `router.tls` and `router.middlewares` of an
/// Ingress, applied to the routes of its hosts.
pub(super) fn ingress_annotations(work: &mut Work<'_>, ing: &Ingress, gw: &str) {
    let ns = ing.namespace.clone();
    let hosts: Vec<String> = {
        let mut h: Vec<String> = ing.spec.rules.iter().flatten().map(|r| r.host.clone().unwrap_or_default()).collect();
        h.dedup();
        h
    };
    for (key, value) in &ing.annotations {
        let Some(short) = key.strip_prefix(PREFIX) else { continue };
        match short {
            "router.tls" if value == "true" => {
                for host in &hosts {
                    if !work.has_https(&ns, gw, host) {
                        let secret = format!("{}-tls", name_from_host(host));
                        work.add_host(&ns, gw, host, false, Some(&secret));
                        work.warn(&ing.origin, "metadata.annotations", format!("ingress {}: router.tls serves Traefik's default certificate; the HTTPS listener for {host} names Secret {secret}, which you must create", ing.key()));
                    }
                    work.only_on(&ns, gw, host, true);
                }
            }
            "router.entrypoints" => {
                let eps: Vec<&str> = value.split(',').map(str::trim).collect();
                let secure = eps.iter().all(|e| *e == "websecure");
                let plain = eps.iter().all(|e| *e == "web");
                for host in &hosts {
                    if secure && work.has_https(&ns, gw, host) {
                        work.only_on(&ns, gw, host, true);
                    } else if plain {
                        work.only_on(&ns, gw, host, false);
                    }
                }
                if !secure && !plain && eps.iter().any(|e| !matches!(*e, "web" | "websecure")) {
                    work.warn(&ing.origin, "metadata.annotations", format!("ingress {}: entryPoints {value}: only web and websecure have listeners here; not converted", ing.key()));
                }
            }
            "router.middlewares" => {
                // `<namespace>-<name>@kubernetescrd`: both may hold dashes,
                // so the name is found among the Middlewares.
                let refs: Vec<MiddlewareRef> = value
                    .split(',')
                    .map(|m| m.trim().trim_end_matches("@kubernetescrd"))
                    .map(|m| {
                        let known =
                            work.cluster.middlewares.iter().find(|x| format!("{}-{}", x.namespace, x.name) == m);
                        match known {
                            Some(x) => MiddlewareRef { name: x.name.clone(), namespace: Some(x.namespace.clone()) },
                            None => MiddlewareRef { name: m.to_owned(), namespace: Some(ns.clone()) },
                        }
                    })
                    .collect();
                for host in &hosts {
                    middlewares(work, &ns, gw, host, &refs, &ing.origin, &ing.key());
                }
            }
            _ => work.warn(
                &ing.origin,
                "metadata.annotations",
                format!("ingress {}: annotation {key}: no Gateway API equivalent; not converted", ing.key()),
            ),
        }
    }
}

/// Middlewares as filters: StripPrefix of the rule's own prefix is a
/// URLRewrite to `/`, RedirectScheme a RequestRedirect on the HTTP
/// listener; any other kind is a warning.
fn middlewares(
    work: &mut Work<'_>,
    ns: &str,
    gw: &str,
    host: &str,
    refs: &[MiddlewareRef],
    origin: &crate::diag::Origin,
    who: &str,
) {
    for r in refs {
        let mns = r.namespace.clone().unwrap_or_else(|| ns.to_owned());
        let Some(m) = work.cluster.middlewares.iter().find(|m| m.namespace == mns && m.name == r.name) else {
            work.warn(
                origin,
                "metadata.annotations",
                format!("{who}: middleware {mns}/{} not found; not converted", r.name),
            );
            continue;
        };
        let spec = m.object.spec.clone();
        if let Some(strip) = &spec.strip_prefix {
            let rules = work.rules(ns, gw, host, String::new);
            for rule in rules.iter_mut() {
                let Some((_, p)) = &rule.path else { continue };
                if strip.prefixes.iter().any(|x| x.trim_end_matches('/') == p.trim_end_matches('/')) {
                    rule.filters.push(json!({"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}));
                }
            }
        } else if let Some(redirect) = &spec.redirect_scheme {
            let code = if redirect.permanent == Some(true) { 301 } else { 302 };
            let scheme = redirect.scheme.clone().unwrap_or_else(|| "https".into());
            if work.has_https(ns, gw, host) {
                work.split_http(
                    ns,
                    gw,
                    host,
                    json!({"type": "RequestRedirect", "requestRedirect": {"scheme": scheme, "statusCode": code}}),
                );
            }
        } else {
            work.warn(origin, "metadata.annotations", format!("{who}: middleware {mns}/{}: only StripPrefix and RedirectScheme have a Gateway API equivalent; not converted", r.name));
        }
    }
}

/// One matcher of a Traefik rule: its name and arguments.
fn matchers(rule: &str) -> Option<Vec<(String, Vec<String>)>> {
    if rule.contains("||") || rule.contains('!') {
        return None;
    }
    let mut out = Vec::new();
    for part in rule.split("&&") {
        let part = part.trim().trim_start_matches('(').trim_end_matches(')');
        let (name, args) = part.split_once('(')?;
        let args = args.trim_end_matches(')');
        let values: Vec<String> = args
            .split(',')
            .map(|a| a.trim().trim_matches(|c| c == '`' || c == '"').to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        out.push((name.trim().to_owned(), values));
    }
    Some(out)
}

/// An IngressRoute: each route whose rule converts becomes a rule of the
/// HTTPRoute for its host, on the entryPoints' listeners.
pub(super) fn ingress_route(work: &mut Work<'_>, r: &Named<IngressRoute>, _class: &str) {
    let gw = "traefik".to_owned();
    let ns = r.namespace.clone();
    let who = format!("ingressroute {}/{}", r.namespace, r.name);
    let secret =
        r.object.spec.tls.as_ref().and_then(|t| t.get("secretName")).and_then(|s| s.as_str()).map(str::to_owned);
    let secure = r.object.spec.tls.is_some()
        || (!r.object.spec.entry_points.is_empty() && r.object.spec.entry_points.iter().all(|e| e == "websecure"));
    for (i, route) in r.object.spec.routes.iter().enumerate() {
        let Some(ms) = matchers(&route.rule) else {
            work.warn(&r.origin, &format!("spec.routes[{i}].match"), format!("{who}: rule {}: only Host, Path, PathPrefix, Header(s) and Method joined by && have a Gateway API equivalent; not converted", route.rule));
            continue;
        };
        let mut hosts = vec![String::new()];
        let mut rule = Rule::default();
        let mut unknown = None;
        for (name, args) in &ms {
            match (name.as_str(), args.as_slice()) {
                ("Host", hs) if !hs.is_empty() => hosts = hs.to_vec(),
                ("PathPrefix", [p, ..]) => rule.path = Some(("PathPrefix".into(), p.clone())),
                ("Path", [p, ..]) => rule.path = Some(("Exact".into(), p.clone())),
                ("Header" | "Headers", [k, v]) => rule.headers.push(("Exact".into(), k.clone(), v.clone())),
                ("Method", [m]) => rule.method = Some(m.clone()),
                _ => unknown = Some(name.clone()),
            }
        }
        if let Some(name) = unknown {
            work.warn(
                &r.origin,
                &format!("spec.routes[{i}].match"),
                format!("{who}: matcher {name} has no Gateway API equivalent; route not converted"),
            );
            continue;
        }
        for s in &route.services {
            if s.kind.as_deref().is_some_and(|k| k != "Service") {
                continue;
            }
            let port = s.port.as_ref().map_or(String::new(), |p| match p {
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
            });
            let sns = s.namespace.clone().unwrap_or_else(|| ns.clone());
            if sns != ns {
                work.warn(
                    &r.origin,
                    &format!("spec.routes[{i}].services"),
                    format!(
                        "{who}: service {sns}/{} is in another namespace: the route needs a ReferenceGrant there",
                        s.name
                    ),
                );
            }
            if let Some(port) = work.port(&sns, &s.name, &port, &r.origin) {
                rule.backends.push((s.name.clone(), port, s.weight.map(i64::from)));
            }
        }
        for host in &hosts {
            match (&secret, secure) {
                (Some(sec), true) => work.add_host(&ns, &gw, host, false, Some(sec)),
                (None, true) => {
                    let sec = format!("{}-tls", name_from_host(host));
                    work.add_host(&ns, &gw, host, false, Some(&sec));
                    work.warn(&r.origin, "spec.tls", format!("{who}: TLS with Traefik's default certificate; the HTTPS listener for {host} names Secret {sec}, which you must create"));
                }
                _ => work.add_host(&ns, &gw, host, true, None),
            }
            work.rules(&ns, &gw, host, || format!("{}-{}", r.name, name_from_host(host))).push(rule.clone());
            if secure {
                work.only_on(&ns, &gw, host, true);
            }
        }
        if !route.middlewares.is_empty() {
            for host in &hosts {
                middlewares(work, &ns, &gw, host, &route.middlewares, &r.origin, &who);
            }
        }
    }
}
