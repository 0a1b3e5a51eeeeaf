//! The NetworkPolicy matrix as a heat map: a row per client pod, a column
//! per server pod, green where the connection passes and red where a
//! policy stops it. A cell opens the trace for that pair.

use podpath_core::cluster::Protocol;
use podpath_core::policy::matrix::{matrix, Matrix};
use podpath_core::policy::Engine;
use podpath_core::system::is_system_namespace;
use yew::prelude::*;

use crate::hooks::use_cluster_memo;
use crate::state::Action;
use crate::state::ModelHandle;

/// Above this many pods the table would not fit a screen.
const MAX_PODS: usize = 60;

#[component]
pub fn PolicyMatrix() -> Html {
    let model = use_context::<ModelHandle>().expect("PolicyMatrix is rendered inside the model's provider");
    let cluster = model.cluster.clone();
    // The table changes with the cluster, the port and whether the
    // platform's pods are shown, not with each hop the player shows.
    let full = use_cluster_memo(&model, (model.matrix_port, model.show_system), |cluster, (port, system)| {
        let engine = Engine::new(cluster);
        // The user's pods, as the topology shows them by default. Counted
        // before the table is computed: a big cluster's would not fit memory.
        let count =
            cluster.pods.iter().filter(|p| !p.host_network && (*system || !is_system_namespace(&p.namespace))).count();
        if cluster.network_policies.is_empty() || count > MAX_PODS {
            return Matrix { port: *port, protocol: Protocol::Tcp, pods: Vec::new(), allowed: Vec::new(), classes: 0 };
        }
        matrix(&engine, *port, Protocol::Tcp, None)
    });
    if cluster.network_policies.is_empty() {
        return html! {
            <p class="muted" data-testid="matrix-empty">
                { "No NetworkPolicy in this scenario: every pod may reach every other. Add one in the editor (a default-deny, say) and the matrix shows who may still reach whom." }
            </p>
        };
    }
    let enforcement = podpath_core::policy::Enforcement::of(cluster.settings.cni);
    let shown = |ns: &str| model.show_system || !is_system_namespace(ns);
    let count = cluster.pods.iter().filter(|p| !p.host_network && shown(&p.namespace)).count();
    let keep: Vec<usize> =
        (0..full.pods.len()).filter(|i| shown(full.pods[*i].split('/').next().unwrap_or(""))).collect();
    let on_port = {
        let model = model.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            if let Ok(p) = input.value().parse::<u16>() {
                model.dispatch(Action::SetMatrixPort(p));
            }
        })
    };
    let short = |k: &str| k.rsplit('/').next().unwrap_or(k).to_owned();
    html! {
        <section class="matrix-panel" aria-label="NetworkPolicy matrix">
            <h2>{ "NetworkPolicy matrix" }
                <label class="matrix-port">{ "TCP port " }
                    <input type="number" min="1" max="65535" value={model.matrix_port.to_string()} onchange={on_port} data-testid="matrix-port" />
                </label>
            </h2>
            if !enforcement.enforced {
                <p class="warning" role="note" data-testid="policy-warning">
                    { format!("{} does not enforce NetworkPolicy: the {} policies here have no effect, every connection passes.", enforcement.cni, cluster.network_policies.len()) }
                </p>
            }
            if count > MAX_PODS {
                <p class="muted">{ format!("{count} pods: too many to draw; use podpath matrix on the command line.") }</p>
            } else {
                <table class="matrix" data-testid="matrix">
                    <thead>
                        <tr>
                            <th class="corner">{ "from \\ to" }</th>
                            { for keep.iter().map(|j| html! { <th class="col" title={full.pods[*j].clone()}><span>{ short(&full.pods[*j]) }</span></th> }) }
                        </tr>
                    </thead>
                    <tbody>
                        { for keep.iter().map(|i| {
                            let src = full.pods[*i].clone();
                            html! {
                                <tr>
                                    <th class="row" title={src.clone()}>{ src.clone() }</th>
                                    { for keep.iter().map(|j| {
                                        let dst = full.pods[*j].clone();
                                        let ok = full.allowed[*i][*j];
                                        let onclick = {
                                            let (model, from, to, port) = (model.clone(), src.clone(), dst.clone(), model.matrix_port);
                                            Callback::from(move |_| model.dispatch(Action::Trace { from: from.clone(), to: to.clone(), port }))
                                        };
                                        html! {
                                            <td class={classes!("cell", if ok { "allowed" } else { "blocked" })}
                                                data-testid="matrix-cell" data-from={src.clone()} data-to={dst.clone()}
                                                data-allowed={ok.to_string()}
                                                title={format!("{src} → {dst}: {}", if ok { "allowed" } else { "blocked" })}
                                                {onclick}>
                                                { if ok { "✓" } else { "✗" } }
                                            </td>
                                        }
                                    }) }
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
        </section>
    }
}
