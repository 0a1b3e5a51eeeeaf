//! Traefik's own kinds (`traefik.io/v1alpha1`), typed as far as routing
//! needs them: `IngressRoute` (match rules, priorities, middlewares and
//! services) and `Middleware` (stripPrefix, redirectScheme, ipAllowList).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressRoute {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: IngressRouteSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressRouteSpec {
    #[serde(default)]
    pub entry_points: Vec<String>,
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Present (even empty) makes the routes TLS ones, on websecure.
    pub tls: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    #[serde(rename = "match")]
    pub rule: String,
    pub kind: Option<String>,
    pub priority: Option<i64>,
    #[serde(default)]
    pub middlewares: Vec<MiddlewareRef>,
    #[serde(default)]
    pub services: Vec<RouteService>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct MiddlewareRef {
    pub name: String,
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteService {
    pub name: String,
    pub namespace: Option<String>,
    pub port: Option<IntOrString>,
    pub weight: Option<u32>,
    pub kind: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Middleware {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: MiddlewareSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MiddlewareSpec {
    pub strip_prefix: Option<StripPrefix>,
    pub redirect_scheme: Option<RedirectScheme>,
    pub ip_allow_list: Option<IpAllowList>,
    /// The v2 name of ipAllowList, still read.
    pub ip_white_list: Option<IpAllowList>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct StripPrefix {
    #[serde(default)]
    pub prefixes: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct RedirectScheme {
    pub scheme: Option<String>,
    pub permanent: Option<bool>,
    pub port: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpAllowList {
    #[serde(default)]
    pub source_range: Vec<String>,
    pub reject_status_code: Option<u16>,
}
