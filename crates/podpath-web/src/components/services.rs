//! The Services layer: each Service with its addresses and the endpoints
//! its EndpointSlices list, below the nodes.

use podpath_core::cluster::{ClusterIp, Service, ServiceType};
use podpath_core::system::is_system_namespace;
use yew::prelude::*;

use crate::palette::namespace_hue;
use crate::state::Action;
use crate::state::ModelHandle;

/// Endpoints listed per Service; the rest are counted.
const SHOWN_ENDPOINTS: usize = 8;

#[component]
pub fn Services() -> Html {
    let model = use_context::<ModelHandle>().expect("Services is rendered inside the model's provider");
    let cluster = model.cluster.clone();
    let mut services: Vec<&Service> = cluster
        .services
        .iter()
        .filter(|s| model.show_system || !is_system_namespace(&s.namespace) && s.key() != "default/kubernetes")
        .collect();
    services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    if services.is_empty() {
        return html! {};
    }
    html! {
        <section class="services" aria-label="Services">
            <h2>{ "Services" }</h2>
            <div class="service-list">
                { for services.iter().map(|s| {
                    let endpoints: Vec<String> = cluster
                        .slices_of(s)
                        .flat_map(|es| {
                            let port = es.ports.first().and_then(|p| p.port);
                            es.endpoints.iter().map(move |e| {
                                let ip = e.addresses.first().map(|a| a.to_string()).unwrap_or_default();
                                let state = if e.is_ready() { "" } else if e.is_terminating() { " (terminating)" } else { " (not ready)" };
                                match port {
                                    Some(p) => format!("{ip}:{p}{state}"),
                                    None => format!("{ip}{state}"),
                                }
                            })
                        })
                        .collect();
                    view_service(s, endpoints, &model)
                }) }
            </div>
            if !model.show_system {
                <Platform />
            }
        </section>
    }
}

/// The platform's own front doors, even while system pods are hidden:
/// CoreDNS behind kube-dns, and the ingress controller's address.
#[component]
fn Platform() -> Html {
    let model = use_context::<ModelHandle>().expect("Platform is rendered inside the model's provider");
    let cluster = &model.cluster;
    let running = |ns: &str, prefix: &str| {
        cluster.pods.iter().filter(|p| p.namespace == ns && p.name.starts_with(prefix) && p.is_running()).count()
    };
    let dns = cluster.service("kube-system", "kube-dns").map(|s| {
        let ip = match s.cluster_ip {
            ClusterIp::Ip(ip) => ip.to_string(),
            _ => String::new(),
        };
        format!("CoreDNS · kube-dns {ip} · {} pods", running("kube-system", "coredns-"))
    });
    let ingress = podpath_core::ingress::controller_service(cluster).map(|s| {
        let lb = s.load_balancer_ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        format!(
            "{} · {} · {}",
            s.namespace,
            s.type_.as_str(),
            if lb.is_empty() { "no external address".into() } else { lb }
        )
    });
    html! {
        <div class="platform" data-testid="platform">
            { for dns.into_iter().chain(ingress).map(|t| html! { <span class="platform-item">{ t }</span> }) }
        </div>
    }
}

fn view_service(s: &Service, endpoints: Vec<String>, model: &ModelHandle) -> Html {
    let address = match (&s.cluster_ip, s.type_) {
        (_, ServiceType::ExternalName) => format!("→ {}", s.external_name.clone().unwrap_or_default()),
        (ClusterIp::Ip(ip), _) => ip.to_string(),
        (ClusterIp::Headless, _) => "headless".to_owned(),
        (ClusterIp::Unset, _) => String::new(),
    };
    let ports: Vec<String> = s
        .ports
        .iter()
        .map(|p| match p.node_port {
            Some(np) => format!("{}:{}/{}", p.port, np, p.protocol),
            None => format!("{}/{} → {}", p.port, p.protocol, p.target_port),
        })
        .collect();
    let external: Vec<String> = s.load_balancer_ips.iter().chain(&s.external_ips).map(ToString::to_string).collect();
    // With a source pod picked, a click traces to the Service by its name.
    let onclick = model.pick.clone().map(|from| {
        let model = model.clone();
        let to = format!("{}.{}", s.name, s.namespace);
        let port = s.ports.first().map_or(80, |p| p.port);
        Callback::from(move |_: MouseEvent| model.dispatch(Action::Trace { from: from.clone(), to: to.clone(), port }))
    });
    let pickable = onclick.is_some();
    html! {
        <article class={classes!("service", pickable.then_some("pickable"))} data-testid="service" data-service={s.key()} style={format!("--hue: {}", namespace_hue(&s.namespace))}>
            <header>
                if let Some(onclick) = onclick {
                    <button class="svc-name link-like" onclick={onclick} data-testid="service-target">{ s.key() }</button>
                } else {
                    <span class="svc-name">{ s.key() }</span>
                }
                <span class="svc-type">{ s.type_.as_str() }</span>
            </header>
            <div class="svc-addr">{ address }{ if external.is_empty() { String::new() } else { format!("  ·  {}", external.join(", ")) } }</div>
            <div class="svc-ports">{ ports.join(", ") }</div>
            <div class="svc-endpoints">
                if endpoints.is_empty() {
                    <span class="none">{ "no endpoints" }</span>
                } else {
                    { for endpoints.iter().take(SHOWN_ENDPOINTS).map(|e| html! { <span class="ep">{ e.clone() }</span> }) }
                    if endpoints.len() > SHOWN_ENDPOINTS {
                        // As kubectl's ENDPOINTS column does, past a few.
                        <span class="ep more">{ format!("+ {} more…", endpoints.len() - SHOWN_ENDPOINTS) }</span>
                    }
                }
            </div>
        </article>
    }
}
