//! The NetworkPolicy matrix as a heat map: a row per client pod, a column
//! per server pod, green where the connection passes and red where a
//! policy stops it. A cell opens the trace for that pair.

use yew::prelude::*;

use crate::session::{Request, MATRIX_MAX_PODS};
use crate::state::Action;
use crate::state::ModelHandle;

#[component]
pub fn PolicyMatrix() -> Html {
    let model = use_context::<ModelHandle>().expect("PolicyMatrix is rendered inside the model's provider");
    let scene = model.scene.clone();
    // The table changes with the cluster, the port and whether the
    // platform's pods are shown, not with each hop the player shows: it is
    // asked for again only then.
    {
        let model = model.clone();
        let deps = (model.generation(), model.matrix_port, model.show_system, scene.policies > 0);
        use_effect_with(deps, move |(generation, port, system, any)| {
            if *generation > 0 && *any {
                model.dispatch(Action::Ask(Request::Matrix { port: *port, system: *system }));
            }
        });
    }
    if scene.policies == 0 {
        return html! {
            <p class="muted" data-testid="matrix-empty">
                { "No NetworkPolicy in this scenario: every pod may reach every other. Add one in the editor (a default-deny, say) and the matrix shows who may still reach whom." }
            </p>
        };
    }
    // The answer for this cluster, port and switch; none yet while it is computed.
    let full = model
        .matrix
        .as_ref()
        .filter(|m| m.0 == model.generation() && m.1.port == model.matrix_port && m.1.system == model.show_system)
        .map(|m| m.1.clone())
        .unwrap_or_default();
    let count = full.count;
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
            if !scene.enforced {
                <p class="warning" role="note" data-testid="policy-warning">
                    { format!("{} does not enforce NetworkPolicy: the {} policies here have no effect, every connection passes.", scene.cni, scene.policies) }
                </p>
            }
            if count > MATRIX_MAX_PODS {
                <p class="muted">{ format!("{count} pods: too many to draw; use podpath matrix on the command line.") }</p>
            } else {
                <table class="matrix" data-testid="matrix">
                    <thead>
                        <tr>
                            <th class="corner">{ "from \\ to" }</th>
                            { for full.pods.iter().map(|p| html! { <th class="col" title={p.clone()}><span>{ short(p) }</span></th> }) }
                        </tr>
                    </thead>
                    <tbody>
                        { for (0..full.pods.len()).map(|i| {
                            let src = full.pods[i].clone();
                            html! {
                                <tr>
                                    <th class="row" title={src.clone()}>{ src.clone() }</th>
                                    { for (0..full.pods.len()).map(|j| {
                                        let dst = full.pods[j].clone();
                                        let ok = full.allowed[i][j];
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
