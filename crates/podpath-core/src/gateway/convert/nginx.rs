//! Ingresses, with ingress-nginx's annotations: paths and backends, the
//! canaries, the redirect to HTTPS, rewrites and regular expressions.

use serde_json::json;

use super::{name_from_host, Rule, Work};
use crate::cluster::Ingress;

const PREFIX: &str = "nginx.ingress.kubernetes.io/";

/// The annotations this conversion turns into Gateway API fields.
const CONVERTED: &[&str] = &[
    "canary",
    "canary-weight",
    "canary-weight-total",
    "canary-by-header",
    "canary-by-header-value",
    "canary-by-header-pattern",
    "rewrite-target",
    "use-regex",
    "ssl-redirect",
    "force-ssl-redirect",
    "permanent-redirect",
    "permanent-redirect-code",
    "temporal-redirect",
];

fn ann<'a>(ing: &'a Ingress, key: &str) -> Option<&'a str> {
    ing.annotation(&format!("{PREFIX}{key}"))
}

/// The Gateway an Ingress goes to: named after its class —
/// `spec.ingressClassName`, else the legacy `kubernetes.io/ingress.class`
/// annotation (ingress2gateway's `GetIngressClass`), else the default.
pub(super) fn gateway_name(ing: &Ingress, class: &str) -> String {
    ingress_class(ing).unwrap_or_else(|| class.to_owned())
}

/// An Ingress's class: `spec.ingressClassName`, else the legacy annotation.
pub(super) fn ingress_class(ing: &Ingress) -> Option<String> {
    ing.class
        .clone()
        .or_else(|| ing.annotation("kubernetes.io/ingress.class").map(str::to_owned))
        .filter(|c| !c.is_empty())
}

fn route_name(ing: &Ingress, host: &str) -> String {
    format!("{}-{}", ing.name, name_from_host(host))
}

/// Whether a path holds characters a regular expression gives meaning to.
fn is_regex(path: &str) -> bool {
    path.chars().any(|c| "()[]{}*+?|^$\\".contains(c))
}

/// A backend's Service port as written: its number, or its name.
fn backend_port(svc: &k8s_openapi::api::networking::v1::IngressServiceBackend) -> String {
    svc.port
        .as_ref()
        .map_or(String::new(), |p| p.number.map(|n| n.to_string()).or_else(|| p.name.clone()).unwrap_or_default())
}

/// Each `(host, path type, path, service, port)` of an Ingress.
fn paths(ing: &Ingress) -> Vec<(String, String, String, String, String)> {
    let mut out = Vec::new();
    for rule in ing.spec.rules.iter().flatten() {
        let host = rule.host.clone().unwrap_or_default();
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            let Some(svc) = &p.backend.service else { continue };
            let port = backend_port(svc);
            let value = p.path.clone().filter(|v| !v.is_empty()).unwrap_or_else(|| "/".into());
            out.push((host.clone(), p.path_type.clone(), value, svc.name.clone(), port));
        }
    }
    out
}

/// The path match and filters a path of this Ingress converts to.
fn path_rule(work: &mut Work<'_>, ing: &Ingress, path_type: &str, path: &str) -> Rule {
    let mut rule = Rule::default();
    let t = if path_type == "Exact" { "Exact" } else { "PathPrefix" };
    rule.path = Some((t.to_owned(), path.to_owned()));
    let use_regex = ann(ing, "use-regex") == Some("true");
    let target = ann(ing, "rewrite-target");
    if let Some(target) = target {
        if !target.contains('$') {
            rule.filters.push(json!({"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplaceFullPath", "replaceFullPath": target}}}));
        } else if let (Some(prefix), "/$2") = (path.strip_suffix("(/|$)(.*)"), target) {
            // ingress-nginx's documented rewrite: everything after the
            // prefix, which is what ReplacePrefixMatch `/` keeps.
            let prefix = if prefix.is_empty() { "/" } else { prefix };
            rule.path = Some(("PathPrefix".into(), prefix.to_owned()));
            rule.filters.push(json!({"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}));
            return rule;
        } else {
            work.warn(
                &ing.origin,
                "metadata.annotations",
                format!("ingress {}: rewrite-target {target} on path {path}: path rewrites with capture group references other than /p(/|$)(.*) → /$2 have no Gateway API equivalent; not converted", ing.key()),
            );
        }
    }
    if (use_regex || target.is_some()) && is_regex(path) {
        rule.path = Some(("RegularExpression".into(), format!("(?i){path}.*")));
    }
    if let Some(to) = ann(ing, "temporal-redirect").or_else(|| ann(ing, "permanent-redirect")) {
        let code = if ann(ing, "temporal-redirect").is_some() {
            302
        } else {
            ann(ing, "permanent-redirect-code").and_then(|c| c.parse::<i64>().ok()).unwrap_or(301)
        };
        rule.filters.push(redirect_to(to, code));
    }
    rule
}

/// A RequestRedirect to a URL (`https://host[:port]/path`).
fn redirect_to(url: &str, code: i64) -> serde_json::Value {
    let mut r = json!({"statusCode": code});
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    if !scheme.is_empty() {
        r["scheme"] = json!(scheme);
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.parse::<i64>().is_ok() => (h, p.parse::<i64>().ok()),
        _ => (authority, None),
    };
    if !host.is_empty() {
        r["hostname"] = json!(host);
    }
    if let Some(p) = port {
        r["port"] = json!(p);
    }
    if !path.is_empty() {
        r["path"] = json!({"type": "ReplaceFullPath", "replaceFullPath": path});
    }
    json!({"type": "RequestRedirect", "requestRedirect": r})
}

/// An Ingress that is not a canary: its listeners, its routes' rules.
pub(super) fn plain(work: &mut Work<'_>, ing: &Ingress, class: &str) {
    let ns = ing.namespace.clone();
    let gw = gateway_name(ing, class);
    for t in ing.spec.tls.iter().flatten() {
        for host in t.hosts.iter().flatten() {
            match &t.secret_name {
                Some(secret) => work.add_host(&ns, &gw, host, false, Some(secret)),
                None => work.warn(
                    &ing.origin,
                    "spec.tls",
                    format!("ingress {}: TLS for {host} names no secretName (the controller's default certificate): an HTTPS listener needs a certificateRef, none is made", ing.key()),
                ),
            }
        }
    }
    for (host, path_type, path, service, port) in paths(ing) {
        work.add_host(&ns, &gw, &host, true, None);
        let mut rule = path_rule(work, ing, &path_type, &path);
        let redirect = rule.filters.iter().any(|f| f["type"] == "RequestRedirect");
        if !redirect {
            if let Some(port) = work.port(&ns, &service, &port, &ing.origin) {
                rule.backends.push((service, port, None));
            }
        }
        let rules = work.rules(&ns, &gw, &host, || route_name(ing, &host));
        match rules.iter_mut().find(|r| r.path == rule.path && r.headers.is_empty() && r.filters == rule.filters) {
            Some(existing) if !redirect => existing.backends.extend(rule.backends),
            _ => rules.push(rule),
        }
    }
    if let Some(svc) = ing.spec.default_backend.as_ref().and_then(|b| b.service.as_ref()) {
        let port = backend_port(svc);
        work.add_host(&ns, &gw, "", true, None);
        if let Some(port) = work.port(&ns, &svc.name, &port, &ing.origin) {
            let rules = work.rules(&ns, &gw, "", || route_name(ing, ""));
            rules.push(Rule { backends: vec![(svc.name.clone(), port, None)], ..Rule::default() });
        }
    }
    // use-regex or rewrite-target on any Ingress of a host makes every
    // location of that host a case-insensitive regular expression.
    let regex_host = |host: &str| {
        work.cluster.ingresses.iter().any(|o| {
            o.namespace == ns
                && gateway_name(o, class) == gw
                && (ann(o, "use-regex") == Some("true") || ann(o, "rewrite-target").is_some())
                && o.spec.rules.iter().flatten().any(|r| r.host.as_deref().unwrap_or("") == host)
        })
    };
    if paths(ing).iter().any(|p| !is_regex(&p.2) && regex_host(&p.0)) {
        work.warn(
            &ing.origin,
            "spec.rules",
            format!("ingress {}: an Ingress for this host has use-regex or rewrite-target, so ingress-nginx matched every path of the host as a case-insensitive regular expression (/app also took /apple and /APP); PathPrefix takes whole segments, case-sensitive", ing.key()),
        );
    }
    unconverted(work, ing);
    super::traefik::ingress_annotations(work, ing, &gw);
}

/// Warnings for the annotations that have no equivalent.
fn unconverted(work: &mut Work<'_>, ing: &Ingress) {
    for key in ing.annotations.keys() {
        let Some(short) = key.strip_prefix(PREFIX) else { continue };
        if CONVERTED.contains(&short) {
            continue;
        }
        let why = if short == "canary-by-cookie" {
            "cookie matches are not in the Gateway API".to_owned()
        } else {
            "no Gateway API equivalent in the standard channel".to_owned()
        };
        work.warn(
            &ing.origin,
            "metadata.annotations",
            format!("ingress {}: annotation {key}: {why}; not converted", ing.key()),
        );
    }
}

/// A canary Ingress: weights and header rules on the main Ingress's rule
/// for the same host and path, as ingress-nginx splits the traffic.
pub(super) fn canary(work: &mut Work<'_>, ing: &Ingress, class: &str) {
    let ns = ing.namespace.clone();
    let gw = gateway_name(ing, class);
    let total = ann(ing, "canary-weight-total").and_then(|w| w.parse::<i64>().ok()).unwrap_or(100);
    let mut weight = ann(ing, "canary-weight").and_then(|w| w.parse::<i64>().ok());
    if let Some(w) = weight.filter(|w| *w > total) {
        work.warn(
            &ing.origin,
            "metadata.annotations",
            format!(
                "ingress {}: canary-weight ({w}) exceeds canary-weight-total ({total}): capped to {total}",
                ing.key()
            ),
        );
        weight = Some(total);
    }
    let header = ann(ing, "canary-by-header").map(str::to_owned);
    if weight.is_none() && header.is_none() {
        work.warn(
            &ing.origin,
            "metadata.annotations",
            format!(
                "ingress {}: a canary with neither canary-weight nor canary-by-header takes no traffic; not converted",
                ing.key()
            ),
        );
        unconverted(work, ing);
        return;
    }
    for (host, path_type, path, service, port) in paths(ing) {
        if !work.route_exists(&ns, &gw, &host) {
            work.warn(
                &ing.origin,
                "spec.rules",
                format!(
                    "ingress {}: canary for {host}{path} has no main Ingress with that host; ingress-nginx ignores it",
                    ing.key()
                ),
            );
            continue;
        }
        let Some(port) = work.port(&ns, &service, &port, &ing.origin) else { continue };
        let base = path_rule(work, ing, &path_type, &path).path;
        let rules = work.rules(&ns, &gw, &host, String::new);
        let Some(i) = rules.iter().position(|r| r.path == base && r.headers.is_empty()) else {
            continue;
        };
        if let Some(w) = weight {
            for b in &mut rules[i].backends {
                b.2 = Some(total - w);
            }
            rules[i].backends.push((service.clone(), port, Some(w)));
        }
        if let Some(h) = &header {
            let mut by_header = Rule { path: base.clone(), filters: rules[i].filters.clone(), ..Rule::default() };
            by_header.backends = vec![(service.clone(), port, None)];
            match (ann(ing, "canary-by-header-value"), ann(ing, "canary-by-header-pattern")) {
                (Some(v), _) => by_header.headers.push(("Exact".into(), h.clone(), v.to_owned())),
                (None, Some(p)) => by_header.headers.push(("RegularExpression".into(), h.clone(), p.to_owned())),
                (None, None) => {
                    // `always` sends to the canary, `never` never does.
                    let mut never = rules[i].clone();
                    never.backends.retain(|b| b.0 != service);
                    for b in &mut never.backends {
                        b.2 = None;
                    }
                    never.headers.push(("Exact".into(), h.clone(), "never".into()));
                    by_header.headers.push(("Exact".into(), h.clone(), "always".into()));
                    rules.push(never);
                }
            }
            rules.push(by_header);
        }
    }
    unconverted(work, ing);
}

/// The 308 to HTTPS ingress-nginx answers plain HTTP with for a TLS host
/// (`ssl-redirect`, on by default): a route on the HTTP listener that
/// redirects, the Ingress's rules on the HTTPS one.
pub(super) fn ssl_redirect(work: &mut Work<'_>, ing: &Ingress, class: &str) {
    if ann(ing, "canary") == Some("true") {
        return;
    }
    let ns = ing.namespace.clone();
    let gw = gateway_name(ing, class);
    let redirect = json!({"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 308}});
    let tls_hosts: Vec<String> =
        ing.spec.tls.iter().flatten().flat_map(|t| t.hosts.iter().flatten().cloned()).collect();
    if ann(ing, "ssl-redirect") != Some("false") {
        for host in &tls_hosts {
            if work.has_https(&ns, &gw, host) {
                work.split_http(&ns, &gw, host, redirect.clone());
            }
        }
    }
    if ann(ing, "force-ssl-redirect") == Some("true") {
        for (host, ..) in paths(ing) {
            if !tls_hosts.contains(&host) {
                work.warn(&ing.origin, "metadata.annotations", format!("ingress {}: force-ssl-redirect for {host}, which has no TLS secret: the redirect leads to no HTTPS listener; not converted", ing.key()));
            }
        }
    }
}
