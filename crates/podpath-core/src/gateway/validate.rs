//! What the API server refuses in the Gateway API's objects: the CRDs'
//! OpenAPI schema (required fields, enums, ranges, patterns, list sizes)
//! and their CEL rules, with the messages the CRDs carry, word for word,
//! in the form the API server prints them (`spec.listeners: Invalid
//! value: "array": …`). Facts from config/crd/standard at v1.5.1, whose
//! standard channel widens v1.4's (redirect codes 303/307/308, the CORS
//! filter, a TLS listener's mode required).
//!
//! Each problem is a diagnostic the API server would reject with (a
//! warning while simulating, an error for `podpath lint`), placed at the
//! element it is about: a CEL rule on a list names the list, as the API
//! server does, and the diagnostic sits on the item that breaks it.

use regex_lite::Regex;

use super::{name, namespace, GatewayApi};
use crate::diag::{Diagnostic, Origin};
use crate::load::gateway as crd;

/// `Hostname` in the API's types.
const HOSTNAME: &str = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// `SectionName`.
const SECTION_NAME: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// `GatewayController`: a domain-prefixed path.
const CONTROLLER: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$";
/// The characters an Exact or PathPrefix path may hold.
const PATH_CHARS: &str = r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$";
const GRPC_SERVICE: &str = r"^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$";
const GRPC_METHOD: &str = r"^[A-Za-z_][A-Za-z_0-9]*$";

struct Patterns {
    hostname: Regex,
    section: Regex,
    controller: Regex,
    path: Regex,
    grpc_service: Regex,
    grpc_method: Regex,
}

impl Patterns {
    fn new() -> Patterns {
        let re = |p: &str| Regex::new(p).expect("the CRDs' patterns compile");
        Patterns {
            hostname: re(HOSTNAME),
            section: re(SECTION_NAME),
            controller: re(CONTROLLER),
            path: re(PATH_CHARS),
            grpc_service: re(GRPC_SERVICE),
            grpc_method: re(GRPC_METHOD),
        }
    }
}

/// The problems of one object, said as the API server says them.
struct Check<'a> {
    out: &'a mut Vec<Diagnostic>,
    origin: &'a Origin,
    who: String,
    re: &'a Patterns,
}

impl Check<'_> {
    /// A problem the API server names at `path`, shown at `place`.
    fn at(&mut self, path: &str, place: &str, what: impl AsRef<str>) {
        let message = format!("{}: {path}: {}", self.who, what.as_ref());
        self.out.push(Diagnostic::rejected(self.origin.clone(), message).at_field(place));
    }

    fn cel(&mut self, path: &str, place: &str, type_: &str, message: &str) {
        self.at(path, place, format!("Invalid value: \"{type_}\": {message}"));
    }

    fn required(&mut self, path: &str) {
        self.at(path, path, "Required value");
    }

    fn enumerated(&mut self, path: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            let list = allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
            self.at(path, path, format!("Unsupported value: \"{value}\": supported values: {list}"));
        }
    }

    fn pattern(&mut self, path: &str, value: &str, re: &Regex) {
        if !re.is_match(value) {
            self.at(path, path, format!("Invalid value: \"{value}\": {path} in body should match '{}'", re.as_str()));
        }
    }

    fn range(&mut self, path: &str, value: i32, min: i32, max: i32) {
        if value < min {
            self.at(
                path,
                path,
                format!("Invalid value: {value}: {path} in body should be greater than or equal to {min}"),
            );
        } else if value > max {
            self.at(
                path,
                path,
                format!("Invalid value: {value}: {path} in body should be less than or equal to {max}"),
            );
        }
    }

    fn at_most(&mut self, path: &str, len: usize, max: usize) {
        if len > max {
            self.at(path, path, format!("Too many: {len}: must have at most {max} items"));
        }
    }

    fn hostname(&mut self, path: &str, value: &str) {
        let re = &self.re.hostname;
        if !re.is_match(value) {
            self.at(path, path, format!("Invalid value: \"{value}\": {path} in body should match '{}'", re.as_str()));
        }
    }
}

/// Every problem the API server would refuse the Gateway API objects for.
pub fn diagnostics(api: &GatewayApi) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if api.is_empty() {
        return out;
    }
    let re = Patterns::new();
    // Each object's checks, said as `KIND NS/NAME: …` at its place.
    let mut each = |kind: &str,
                    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
                    origin: &Origin,
                    f: &dyn Fn(&mut Check<'_>)| {
        let who = if kind == "gatewayclass" {
            format!("{kind} {}", name(meta))
        } else {
            format!("{kind} {}/{}", namespace(meta), name(meta))
        };
        f(&mut Check { out: &mut out, origin, who, re: &re });
    };
    for c in &api.classes {
        each("gatewayclass", &c.object.metadata, &c.origin, &|ck| gateway_class(ck, &c.object));
    }
    for g in &api.gateways {
        each("gateway", &g.object.metadata, &g.origin, &|ck| gateway(ck, &g.object.spec));
    }
    for r in &api.http_routes {
        each("httproute", &r.object.metadata, &r.origin, &|ck| http_route(ck, &r.object.spec));
    }
    for r in &api.grpc_routes {
        each("grpcroute", &r.object.metadata, &r.origin, &|ck| grpc_route(ck, &r.object.spec));
    }
    for g in &api.grants {
        each("referencegrant", &g.object.metadata, &g.origin, &|ck| reference_grant(ck, &g.object.spec));
    }
    out
}

fn reference_grant(ck: &mut Check<'_>, spec: &crd::ReferenceGrantSpec) {
    if spec.from.is_empty() {
        ck.required("spec.from");
    }
    if spec.to.is_empty() {
        ck.required("spec.to");
    }
    for (i, f) in spec.from.iter().enumerate() {
        if f.kind.is_empty() {
            ck.required(&format!("spec.from[{i}].kind"));
        }
        if f.namespace.is_empty() {
            ck.required(&format!("spec.from[{i}].namespace"));
        }
    }
    for (i, t) in spec.to.iter().enumerate() {
        if t.kind.is_empty() {
            ck.required(&format!("spec.to[{i}].kind"));
        }
    }
}

fn gateway_class(ck: &mut Check<'_>, c: &crd::GatewayClass) {
    if c.spec.controller_name.is_empty() {
        ck.required("spec.controllerName");
    } else {
        let re = &ck.re.controller;
        ck.pattern("spec.controllerName", &c.spec.controller_name, re);
    }
}

fn gateway(ck: &mut Check<'_>, spec: &crd::GatewaySpec) {
    if spec.gateway_class_name.is_empty() {
        ck.required("spec.gatewayClassName");
    }
    if spec.listeners.is_empty() {
        ck.required("spec.listeners");
    }
    ck.at_most("spec.listeners", spec.listeners.len(), 64);
    for (i, l) in spec.listeners.iter().enumerate() {
        let at = format!("spec.listeners[{i}]");
        if l.name.is_empty() {
            ck.required(&format!("{at}.name"));
        } else {
            let re = &ck.re.section;
            ck.pattern(&format!("{at}.name"), &l.name, re);
        }
        if l.protocol.is_empty() {
            ck.required(&format!("{at}.protocol"));
        }
        ck.range(&format!("{at}.port"), l.port, 1, 65535);
        if let Some(h) = &l.hostname {
            ck.hostname(&format!("{at}.hostname"), h);
        }
        if let Some(from) =
            l.allowed_routes.as_ref().and_then(|a| a.namespaces.as_ref()).and_then(|n| n.from.as_deref())
        {
            ck.enumerated(&format!("{at}.allowedRoutes.namespaces.from"), from, &["All", "Selector", "Same"]);
        }
        if let Some(tls) = &l.tls {
            let mode = tls.mode.as_deref().unwrap_or("Terminate");
            ck.enumerated(&format!("{at}.tls.mode"), mode, &["Terminate", "Passthrough"]);
            if mode == "Terminate" && tls.certificate_refs.is_empty() {
                ck.cel(
                    &format!("{at}.tls"),
                    &format!("{at}.tls"),
                    "object",
                    "certificateRefs or options must be specified when mode is Terminate",
                );
            }
        }
    }
    listener_rules(ck, &spec.listeners);
    addresses(ck, &spec.addresses);
}

/// The CEL rules on the listener list, each reported once, at the first
/// listener that breaks it.
fn listener_rules(ck: &mut Check<'_>, ls: &[crd::Listener]) {
    let first =
        |f: &dyn Fn(usize, &crd::Listener) -> bool| ls.iter().enumerate().find(|(i, l)| f(*i, l)).map(|(i, _)| i);
    let rules: [(Option<usize>, &str, &str); 6] = [
        (
            first(&|_, l| matches!(l.protocol.as_str(), "HTTP" | "TCP" | "UDP") && l.tls.is_some()),
            "tls",
            "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
        ),
        (
            first(&|_, l| {
                l.protocol == "HTTPS"
                    && l.tls.as_ref().is_some_and(|t| !matches!(t.mode.as_deref(), None | Some("") | Some("Terminate")))
            }),
            "tls.mode",
            "tls mode must be Terminate for protocol HTTPS",
        ),
        (
            first(&|_, l| {
                l.protocol == "TLS" && l.tls.as_ref().and_then(|t| t.mode.as_deref()).is_none_or(str::is_empty)
            }),
            "protocol",
            "tls mode must be set for protocol TLS",
        ),
        (
            first(&|_, l| {
                matches!(l.protocol.as_str(), "TCP" | "UDP") && l.hostname.as_deref().is_some_and(|h| !h.is_empty())
            }),
            "hostname",
            "hostname must not be specified for protocols ['TCP', 'UDP']",
        ),
        (
            first(&|i, l| ls.iter().enumerate().any(|(j, m)| j != i && m.name == l.name)),
            "name",
            "Listener name must be unique within the Gateway",
        ),
        (
            first(&|i, l| {
                ls.iter()
                    .enumerate()
                    .any(|(j, m)| j != i && m.port == l.port && m.protocol == l.protocol && m.hostname == l.hostname)
            }),
            "port",
            "Combination of port, protocol and hostname must be unique for each listener",
        ),
    ];
    for (found, field, message) in rules {
        if let Some(i) = found {
            ck.cel("spec.listeners", &format!("spec.listeners[{i}].{field}"), "array", message);
        }
    }
}

fn addresses(ck: &mut Check<'_>, list: &[crd::GatewayAddress]) {
    ck.at_most("spec.addresses", list.len(), 16);
    for (type_, message) in
        [("IPAddress", "IPAddress values must be unique"), ("Hostname", "Hostname values must be unique")]
    {
        let values: Vec<(usize, &str)> = list
            .iter()
            .enumerate()
            .filter(|(_, a)| a.type_.as_deref().unwrap_or("IPAddress") == type_)
            .filter_map(|(i, a)| a.value.as_deref().map(|v| (i, v)))
            .collect();
        if let Some((i, _)) = values.iter().find(|(i, v)| values.iter().any(|(j, w)| j != i && w == v)) {
            ck.cel("spec.addresses", &format!("spec.addresses[{i}].value"), "array", message);
        }
    }
    for (i, a) in list.iter().enumerate() {
        if a.type_.as_deref() == Some("Hostname") && a.value.as_deref().is_some_and(|v| !ck.re.hostname.is_match(v)) {
            ck.cel(
                &format!("spec.addresses[{i}]"),
                &format!("spec.addresses[{i}].value"),
                "object",
                &format!("Hostname value must be empty or contain only valid characters (matching {HOSTNAME})"),
            );
        }
    }
}

/// The two CEL rules on `parentRefs` that every route kind carries.
fn parent_refs(ck: &mut Check<'_>, refs: &[crd::ParentRef]) {
    ck.at_most("spec.parentRefs", refs.len(), 32);
    let same = |a: &crd::ParentRef, b: &crd::ParentRef| {
        a.group.as_deref().unwrap_or(super::GROUP) == b.group.as_deref().unwrap_or(super::GROUP)
            && a.kind.as_deref().unwrap_or("Gateway") == b.kind.as_deref().unwrap_or("Gateway")
            && a.name == b.name
            && a.namespace.as_deref().unwrap_or("") == b.namespace.as_deref().unwrap_or("")
    };
    let section = |p: &crd::ParentRef| p.section_name.clone().filter(|s| !s.is_empty());
    for (i, p) in refs.iter().enumerate() {
        if p.name.is_empty() {
            ck.required(&format!("spec.parentRefs[{i}].name"));
        }
        if let Some(port) = p.port {
            ck.range(&format!("spec.parentRefs[{i}].port"), port, 1, 65535);
        }
    }
    let mixed = refs.iter().enumerate().find(|(i, a)| {
        refs.iter().enumerate().any(|(j, b)| j != *i && same(a, b) && section(a).is_none() != section(b).is_none())
    });
    if let Some((i, _)) = mixed {
        ck.cel(
            "spec.parentRefs",
            &format!("spec.parentRefs[{i}]"),
            "array",
            "sectionName must be specified when parentRefs includes 2 or more references to the same parent",
        );
    }
    let repeated = refs
        .iter()
        .enumerate()
        .find(|(i, a)| refs.iter().enumerate().any(|(j, b)| j != *i && same(a, b) && section(a) == section(b)));
    if let Some((i, _)) = repeated {
        ck.cel(
            "spec.parentRefs",
            &format!("spec.parentRefs[{i}]"),
            "array",
            "sectionName must be unique when parentRefs includes 2 or more references to the same parent",
        );
    }
}

/// The CEL rule on a route's rules: at most 128 matches in all.
fn total_matches(ck: &mut Check<'_>, total: usize) {
    if total > 128 {
        ck.cel(
            "spec.rules",
            "spec.rules",
            "array",
            "While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128",
        );
    }
}

fn hostnames(ck: &mut Check<'_>, hosts: &[String]) {
    ck.at_most("spec.hostnames", hosts.len(), 16);
    for (i, h) in hosts.iter().enumerate() {
        ck.hostname(&format!("spec.hostnames[{i}]"), h);
    }
}

fn backend_ref(ck: &mut Check<'_>, at: &str, b: &crd::BackendRef) {
    if b.name.is_empty() {
        ck.required(&format!("{at}.name"));
    }
    let service = b.group.as_deref().unwrap_or("").is_empty() && b.kind.as_deref().unwrap_or("Service") == "Service";
    match b.port {
        None if service => ck.cel(at, at, "object", "Must have port for Service reference"),
        Some(p) => ck.range(&format!("{at}.port"), p, 1, 65535),
        None => {}
    }
    if let Some(w) = b.weight {
        ck.range(&format!("{at}.weight"), w, 0, 1_000_000);
    }
}

fn http_route(ck: &mut Check<'_>, spec: &crd::HttpRouteSpec) {
    parent_refs(ck, &spec.parent_refs);
    hostnames(ck, &spec.hostnames);
    let Some(rules) = &spec.rules else { return };
    ck.at_most("spec.rules", rules.len(), 16);
    let total: usize = rules.iter().take(16).map(|r| r.matches.as_ref().map_or(1, Vec::len)).sum();
    total_matches(ck, total);
    for (r, rule) in rules.iter().enumerate() {
        let at = format!("spec.rules[{r}]");
        if let Some(n) = &rule.name {
            let re = &ck.re.section;
            ck.pattern(&format!("{at}.name"), n, re);
        }
        let matches = rule.matches.as_deref().unwrap_or_default();
        ck.at_most(&format!("{at}.matches"), matches.len(), 64);
        for (m, mat) in matches.iter().enumerate() {
            http_match(ck, &format!("{at}.matches[{m}]"), mat);
        }
        filters(ck, &at, &rule.filters);
        ck.at_most(&format!("{at}.backendRefs"), rule.backend_refs.len(), 16);
        for (b, backend) in rule.backend_refs.iter().enumerate() {
            backend_ref(ck, &format!("{at}.backendRefs[{b}]"), backend);
        }
        if !rule.backend_refs.is_empty() {
            if let Some(f) = rule.filters.iter().position(|f| f.request_redirect.is_some()) {
                ck.cel(
                    &at,
                    &format!("{at}.filters[{f}]"),
                    "object",
                    "RequestRedirect filter must not be used together with backendRefs",
                );
            }
        }
        // ReplacePrefixMatch needs exactly one PathPrefix match (an absent
        // list is the default, one PathPrefix `/`).
        let one_prefix = match &rule.matches {
            None => true,
            Some(ms) => {
                ms.len() == 1
                    && ms[0].path.as_ref().is_some_and(|p| p.type_.as_deref().unwrap_or("PathPrefix") == "PathPrefix")
            }
        };
        for (f, filter) in rule.filters.iter().enumerate() {
            let prefix = |p: &Option<crd::PathModifier>| {
                p.as_ref().is_some_and(|p| p.type_ == "ReplacePrefixMatch" && p.replace_prefix_match.is_some())
            };
            let (redirect, rewrite) = (
                filter.request_redirect.as_ref().is_some_and(|r| prefix(&r.path)),
                filter.url_rewrite.as_ref().is_some_and(|r| prefix(&r.path)),
            );
            if (redirect || rewrite) && !one_prefix {
                let message = if redirect {
                    "When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified"
                } else {
                    "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified"
                };
                ck.cel(&at, &format!("{at}.filters[{f}]"), "object", message);
            }
        }
    }
}

fn http_match(ck: &mut Check<'_>, at: &str, m: &crd::HttpRouteMatch) {
    if let Some(p) = &m.path {
        let type_ = p.type_.as_deref().unwrap_or("PathPrefix");
        let value = p.value.as_deref().unwrap_or("/");
        let path_at = format!("{at}.path");
        ck.enumerated(&format!("{path_at}.type"), type_, &["Exact", "PathPrefix", "RegularExpression"]);
        if matches!(type_, "Exact" | "PathPrefix") {
            let broken: Option<String> = if !value.starts_with('/') {
                Some(
                    "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']".into(),
                )
            } else if let Some(bad) = ["//", "/./", "/../", "%2f", "%2F", "#"].into_iter().find(|b| value.contains(b)) {
                Some(format!("must not contain '{bad}' when type one of ['Exact', 'PathPrefix']"))
            } else if let Some(bad) = ["/..", "/."].into_iter().find(|b| value.ends_with(b)) {
                Some(format!("must not end with '{bad}' when type one of ['Exact', 'PathPrefix']"))
            } else if !ck.re.path.is_match(value) {
                Some(format!(
                    "must only contain valid characters (matching {PATH_CHARS}) for types ['Exact', 'PathPrefix']"
                ))
            } else {
                None
            };
            if let Some(message) = broken {
                ck.cel(&path_at, &format!("{path_at}.value"), "object", &message);
            }
        }
    }
    ck.at_most(&format!("{at}.headers"), m.headers.len(), 16);
    for (h, header) in m.headers.iter().enumerate() {
        value_match(ck, &format!("{at}.headers[{h}]"), header);
    }
    ck.at_most(&format!("{at}.queryParams"), m.query_params.len(), 16);
    for (q, query) in m.query_params.iter().enumerate() {
        value_match(ck, &format!("{at}.queryParams[{q}]"), query);
    }
    if let Some(method) = &m.method {
        ck.enumerated(
            &format!("{at}.method"),
            method,
            &["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"],
        );
    }
}

fn value_match(ck: &mut Check<'_>, at: &str, m: &crd::ValueMatch) {
    if let Some(t) = &m.type_ {
        ck.enumerated(&format!("{at}.type"), t, &["Exact", "RegularExpression"]);
    }
    if m.name.is_empty() {
        ck.required(&format!("{at}.name"));
    }
    if m.value.is_empty() {
        ck.required(&format!("{at}.value"));
    }
}

/// The filters of a rule: the type enum, the union's members, and the
/// rules on the list.
fn filters(ck: &mut Check<'_>, rule_at: &str, fs: &[crd::HttpRouteFilter]) {
    let list_at = format!("{rule_at}.filters");
    ck.at_most(&list_at, fs.len(), 16);
    for (i, f) in fs.iter().enumerate() {
        let at = format!("{list_at}[{i}]");
        if f.type_.is_empty() {
            ck.required(&format!("{at}.type"));
            continue;
        }
        ck.enumerated(
            &format!("{at}.type"),
            &f.type_,
            &[
                "RequestHeaderModifier",
                "ResponseHeaderModifier",
                "RequestMirror",
                "RequestRedirect",
                "URLRewrite",
                "ExtensionRef",
                "CORS",
            ],
        );
        let members: [(&str, &str, bool); 5] = [
            ("requestHeaderModifier", "RequestHeaderModifier", f.request_header_modifier.is_some()),
            ("responseHeaderModifier", "ResponseHeaderModifier", f.response_header_modifier.is_some()),
            ("requestMirror", "RequestMirror", f.request_mirror.is_some()),
            ("requestRedirect", "RequestRedirect", f.request_redirect.is_some()),
            ("urlRewrite", "URLRewrite", f.url_rewrite.is_some()),
        ];
        for (field, type_, set) in members {
            if set && f.type_ != type_ {
                ck.cel(
                    &at,
                    &format!("{at}.{field}"),
                    "object",
                    &format!("filter.{field} must be nil if the filter.type is not {type_}"),
                );
            } else if !set && f.type_ == type_ {
                ck.cel(&at, &at, "object", &format!("filter.{field} must be specified for {type_} filter.type"));
            }
        }
        if let Some(r) = &f.request_redirect {
            if let Some(s) = &r.scheme {
                ck.enumerated(&format!("{at}.requestRedirect.scheme"), s, &["http", "https"]);
            }
            if let Some(code) = r.status_code {
                if ![301, 302, 303, 307, 308].contains(&code) {
                    ck.at(
                        &format!("{at}.requestRedirect.statusCode"),
                        &format!("{at}.requestRedirect.statusCode"),
                        format!(
                            "Unsupported value: {code}: supported values: \"301\", \"302\", \"303\", \"307\", \"308\""
                        ),
                    );
                }
            }
            if let Some(h) = &r.hostname {
                ck.hostname(&format!("{at}.requestRedirect.hostname"), h);
            }
            if let Some(p) = r.port {
                ck.range(&format!("{at}.requestRedirect.port"), p, 1, 65535);
            }
            path_modifier(ck, &format!("{at}.requestRedirect.path"), r.path.as_ref());
        }
        if let Some(r) = &f.url_rewrite {
            if let Some(h) = &r.hostname {
                ck.hostname(&format!("{at}.urlRewrite.hostname"), h);
            }
            path_modifier(ck, &format!("{at}.urlRewrite.path"), r.path.as_ref());
        }
        if let Some(m) = &f.request_mirror {
            backend_ref(ck, &format!("{at}.requestMirror.backendRef"), &m.backend_ref);
            if let Some(p) = m.percent {
                ck.range(&format!("{at}.requestMirror.percent"), p, 0, 100);
            }
        }
    }
    let of = |t: &str| fs.iter().enumerate().filter(|(_, f)| f.type_ == t).map(|(i, _)| i).collect::<Vec<_>>();
    if !of("RequestRedirect").is_empty() && !of("URLRewrite").is_empty() {
        let i = of("URLRewrite")[0];
        ck.cel(
            &list_at,
            &format!("{list_at}[{i}]"),
            "array",
            "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
        );
    }
    for t in ["RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite"] {
        if let Some(&second) = of(t).get(1) {
            ck.cel(&list_at, &format!("{list_at}[{second}]"), "array", &format!("{t} filter cannot be repeated"));
        }
    }
}

fn path_modifier(ck: &mut Check<'_>, at: &str, p: Option<&crd::PathModifier>) {
    let Some(p) = p else { return };
    if p.type_.is_empty() {
        ck.required(&format!("{at}.type"));
        return;
    }
    ck.enumerated(&format!("{at}.type"), &p.type_, &["ReplaceFullPath", "ReplacePrefixMatch"]);
    let rules = [
        (
            p.type_ == "ReplaceFullPath" && p.replace_full_path.is_none(),
            "replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
        ),
        (
            p.type_ != "ReplaceFullPath" && p.replace_full_path.is_some(),
            "type must be 'ReplaceFullPath' when replaceFullPath is set",
        ),
        (
            p.type_ == "ReplacePrefixMatch" && p.replace_prefix_match.is_none(),
            "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'",
        ),
        (
            p.type_ != "ReplacePrefixMatch" && p.replace_prefix_match.is_some(),
            "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set",
        ),
    ];
    for (broken, message) in rules {
        if broken {
            ck.cel(at, at, "object", message);
        }
    }
}

fn grpc_route(ck: &mut Check<'_>, spec: &crd::GrpcRouteSpec) {
    parent_refs(ck, &spec.parent_refs);
    hostnames(ck, &spec.hostnames);
    ck.at_most("spec.rules", spec.rules.len(), 16);
    let total: usize = spec.rules.iter().take(16).map(|r| r.matches.len()).sum();
    total_matches(ck, total);
    for (r, rule) in spec.rules.iter().enumerate() {
        let at = format!("spec.rules[{r}]");
        for (m, mat) in rule.matches.iter().enumerate() {
            let mat_at = format!("{at}.matches[{m}]");
            if let Some(method) = &mat.method {
                let method_at = format!("{mat_at}.method");
                let type_ = method.type_.as_deref().unwrap_or("Exact");
                ck.enumerated(&format!("{method_at}.type"), type_, &["Exact", "RegularExpression"]);
                if method.type_.is_some() && method.service.is_none() && method.method.is_none() {
                    ck.cel(&method_at, &method_at, "object", "One or both of 'service' or 'method' must be specified");
                }
                if type_ == "Exact" {
                    if method.service.as_deref().is_some_and(|s| !ck.re.grpc_service.is_match(s)) {
                        ck.cel(
                            &method_at,
                            &format!("{method_at}.service"),
                            "object",
                            &format!("service must only contain valid characters (matching {GRPC_SERVICE})"),
                        );
                    }
                    if method.method.as_deref().is_some_and(|m| !ck.re.grpc_method.is_match(m)) {
                        ck.cel(
                            &method_at,
                            &format!("{method_at}.method"),
                            "object",
                            &format!("method must only contain valid characters (matching {GRPC_METHOD})"),
                        );
                    }
                }
            }
            for (h, header) in mat.headers.iter().enumerate() {
                value_match(ck, &format!("{mat_at}.headers[{h}]"), header);
            }
        }
        ck.at_most(&format!("{at}.backendRefs"), rule.backend_refs.len(), 16);
        for (b, backend) in rule.backend_refs.iter().enumerate() {
            backend_ref(ck, &format!("{at}.backendRefs[{b}]"), backend);
        }
    }
}
