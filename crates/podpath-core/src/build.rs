//! Building a cluster from manifests, in the order a control plane
//! settles: the settings (the `Cluster` object, the flags, a
//! KubeProxyConfiguration), the nodes, the platform's own components for
//! that CNI plugin and proxy mode merged under the user's objects, the
//! controllers ([`cluster::assemble`]), CoreDNS's configuration checked,
//! and Traefik's own objects.
//!
//! This is where the model meets the parts that read it: the cluster
//! model imports none of the plugins, the platform manifests or DNS.

use crate::cluster::{self, Cluster};
use crate::datapath;
use crate::diag::{Diagnostic, Origin};
use crate::dns::Dns;
use crate::load::{Manifests, Object};
use crate::settings::{ClusterObject, Overrides, Settings, MAX_NODES};
use crate::system;

impl Cluster {
    /// Builds the cluster the manifests describe. Never fails: problems come
    /// back as diagnostics and the rest is still built.
    pub fn build(manifests: &Manifests) -> (Cluster, Vec<Diagnostic>) {
        Cluster::build_with(manifests, &Overrides::default())
    }

    /// [`Cluster::build`] with settings from outside the scenario applied.
    pub fn build_with(manifests: &Manifests, overrides: &Overrides) -> (Cluster, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let settings = settings_of(manifests, overrides, &mut diags);
        let nodes = cluster::nodes::build(manifests, &settings, &mut diags);
        let mut merged = system::merge(system::manifests(&settings, &nodes), manifests);
        // The Gateways' data planes, as their controllers deploy them.
        let provisioned =
            crate::gateway::provision::manifests(&crate::gateway::GatewayApi::from_manifests(&merged), &settings);
        if !provisioned.is_empty() {
            let (more, _) =
                crate::load::load(&[crate::load::Source::new(crate::gateway::provision::FILE, provisioned)]);
            merged.objects.extend(more.objects);
        }
        let scheme = datapath::plugin(settings.cni).ipam();
        let mut cluster = cluster::assemble(&merged, settings, nodes, scheme, &mut diags);
        crate::health::warnings(&merged, &cluster.pods, &cluster.nodes, &mut diags);
        diags.extend(Dns::read(&cluster).1);
        let (routes, middlewares) = cluster::ingress::traefik_objects(&merged, &mut diags);
        cluster.ingress_routes = routes;
        cluster.middlewares = middlewares;
        let mut api = crate::gateway::GatewayApi::from_manifests(&merged);
        diags.extend(crate::gateway::validate::diagnostics(&api));
        api.find_running(&cluster);
        cluster.gateway_api = api;
        diags.extend(crate::gateway::status::route_warnings(&cluster, &cluster.gateway_api));
        cluster.cluster_policies = crate::cluster::admin::from_manifests(&merged);
        diags.extend(crate::policy::admin::diagnostics(&cluster, &cluster.cluster_policies));
        (cluster, diags)
    }
}

/// The settings of the first `Cluster` object, or the defaults, then what
/// a KubeProxyConfiguration says. A second Cluster object is an error:
/// which of the two would the user mean?
fn settings_of(manifests: &Manifests, overrides: &Overrides, diags: &mut Vec<Diagnostic>) -> Settings {
    let mut found: Option<(&Origin, Settings)> = None;
    for located in &manifests.objects {
        let Object::Cluster(obj) = &located.object else { continue };
        if let Some((first, _)) = &found {
            diags.push(Diagnostic::error(
                located.origin.clone(),
                format!("a second Cluster settings object; only one is allowed (the first is at {first})"),
            ));
            continue;
        }
        let mut s = obj.settings_with(overrides);
        if s.nodes == 0 || s.nodes > MAX_NODES {
            diags.push(Diagnostic::error(
                located.origin.clone(),
                format!("spec.nodes: {} is out of range; podpath simulates 1 to {MAX_NODES} nodes", s.nodes),
            ));
            s.nodes = s.nodes.clamp(1, MAX_NODES);
        }
        if let Some(why) = s.fix_proxy_mode() {
            diags.push(Diagnostic::error(located.origin.clone(), why));
        }
        // The object's own value, unless one given from outside replaces it
        // (the shell checks its own flag) or the plugin was switched from
        // outside, which makes a value written for another plugin moot.
        if let (Some(e), None, None) = (obj.spec.encapsulation.as_deref(), &overrides.encapsulation, overrides.cni) {
            if let Err(msg) = crate::settings::Encapsulation::parse(s.cni, e) {
                diags.push(Diagnostic::error(located.origin.clone(), msg));
            }
        }
        found = Some((&located.origin, s));
    }
    let mut settings = match found {
        Some((_, s)) => s,
        None => {
            let mut s = ClusterObject::default().settings_with(overrides);
            s.nodes = s.nodes.clamp(1, MAX_NODES);
            s
        }
    };
    let given = manifests.objects.iter().find_map(|o| match &o.object {
        Object::Cluster(c) => Some(&**c),
        _ => None,
    });
    apply_detected(manifests, given, overrides, &mut settings, diags);
    kube_proxy_config(manifests, overrides, &mut settings, diags);
    settings
}

/// What a live cluster's dump says it runs, for each setting neither the
/// Cluster object nor the caller gave (see [`crate::detect`]).
fn apply_detected(
    manifests: &Manifests,
    given: Option<&ClusterObject>,
    overrides: &Overrides,
    settings: &mut Settings,
    diags: &mut Vec<Diagnostic>,
) {
    let d = crate::detect::detect(manifests);
    if !d.snapshot {
        return;
    }
    // The Cluster object as written, its gaps filled from the dump.
    let mut object = given.cloned().unwrap_or_default();
    let spec = &mut object.spec;
    let plugin_detected = spec.cni.is_none() && overrides.cni.is_none();
    if plugin_detected {
        diags.extend(d.cni_said);
        spec.cni = d.cni;
        if spec.encapsulation.is_none() && overrides.encapsulation.is_none() {
            spec.encapsulation = d.encapsulation.map(str::to_owned);
        }
    }
    let ingress_service = if spec.ingress_controller.is_none() { d.ingress_service } else { None };
    spec.proxy_mode = spec.proxy_mode.or(d.proxy_mode);
    spec.ingress_controller = spec.ingress_controller.or(d.ingress_controller);
    spec.cluster_cidr = spec.cluster_cidr.or(d.cluster_cidr);
    spec.service_cidr = spec.service_cidr.or(d.service_cidr);
    *settings = Settings {
        // Already checked and bounded by settings_of.
        nodes: settings.nodes,
        snapshot: true,
        ingress_service,
        kube_router_policy: plugin_detected && d.kube_router,
        ..object.settings_with(overrides)
    };
    diags.extend(d.said);
}

/// kube-proxy's own configuration decides its mode, unless a flag or the
/// page's switch overrides it, or Cilium replaces kube-proxy.
fn kube_proxy_config(
    manifests: &Manifests,
    overrides: &Overrides,
    settings: &mut Settings,
    diags: &mut Vec<Diagnostic>,
) {
    for located in &manifests.objects {
        let Object::KubeProxyConfiguration(kpc) = &located.object else { continue };
        if settings.kube_proxy.is_some() {
            diags.push(Diagnostic::error(
                located.origin.clone(),
                "a second KubeProxyConfiguration; kube-proxy reads one",
            ));
            continue;
        }
        match kpc.proxy_mode() {
            Ok(mode) if overrides.proxy_mode.is_none() => {
                if settings.proxy_mode.is_kube_proxy() {
                    settings.proxy_mode = mode;
                } else {
                    diags.push(Diagnostic::warning(
                        located.origin.clone(),
                        "the Cluster object asks for Cilium's kube-proxy replacement; this KubeProxyConfiguration is not used",
                    ));
                }
            }
            Ok(_) => {}
            Err(e) => diags.push(Diagnostic::error(located.origin.clone(), format!("KubeProxyConfiguration: {e}"))),
        }
        settings.kube_proxy = Some((**kpc).clone());
    }
}
