//! The trace on screen: the verdict, then every hop with where it happened,
//! what happened, the packet there (its TTL, the tunnel around it), what the
//! hop rewrote in it, and the rule that acted; then the reply's hops.

use yew::prelude::*;

use podpath_core::trace::walk::{Frame, Leg, Walk};

use crate::app::ModelHandle;
use crate::state::Action;

#[component]
pub fn TracePanel() -> Html {
    let model = use_context::<ModelHandle>().expect("TracePanel is rendered inside the model's provider");
    let Some(view) = model.trace.clone() else { return html! {} };
    let close = {
        let model = model.clone();
        Callback::from(move |_| model.dispatch(Action::CloseTrace))
    };
    html! {
        <section class="trace-panel" aria-label="Trace" data-testid="trace">
            <h2>
                { format!("{} → {}:{}", view.from, view.to, view.port) }
                <button class="close" onclick={close} aria-label="close the trace">{ "×" }</button>
            </h2>
            { match &view.result {
                Err(e) => html! { <p class="verdict error" data-testid="verdict" data-verdict="error">{ e.clone() }</p> },
                Ok(t) => html! {
                    <>
                        <p class={classes!("verdict", t.verdict.as_str())} data-testid="verdict" data-verdict={t.verdict.as_str()}>
                            <strong>{ t.verdict.as_str() }</strong>{ " — " }{ t.reason.clone() }
                        </p>
                        <a class="pcap" data-testid="pcap-download" download="podpath-trace.pcap"
                           href={format!("data:application/vnd.tcpdump.pcap;base64,{}", data_encoding::BASE64.encode(&podpath_core::pcap::write(t)))}>
                            { "download the packets (pcap)" }
                        </a>
                        <ol class="hops">
                            { for Walk::new(t).run().into_iter().filter(|f| f.leg == Leg::Request).map(hop) }
                        </ol>
                        if !t.reply.is_empty() {
                            <h3 class="reply-title">{ "the reply, back through conntrack" }</h3>
                            <ol class="hops reply">
                                { for Walk::new(t).run().into_iter().filter(|f| f.leg == Leg::Reply).map(hop) }
                            </ol>
                        }
                    </>
                },
            } }
        </section>
    }
}

/// One hop of the list: `hop` for the request's, `reply-hop` for the reply's.
fn hop(f: Frame<'_>) -> Html {
    let h = f.hop;
    let testid = if f.leg == Leg::Request { "hop" } else { "reply-hop" };
    html! {
        <li class="hop" data-testid={testid} data-action={h.action.clone()}>
            <span class="hop-node">{ h.node.clone().unwrap_or_default() }</span>
            <span class="hop-at">{ h.at.clone() }</span>
            <span class="hop-action">{ h.action.clone() }</span>
            <span class="hop-packet">{ format!("{}:{} → {}:{} ttl {}", h.packet.src, h.packet.sport, h.packet.dst, h.packet.dport, h.packet.ttl) }</span>
            if let Some(o) = &h.packet.outer {
                <span class="hop-outer" data-testid="hop-outer">{ format!("in {} {} → {}", o.encap.name(), o.src, o.dst) }</span>
            }
            { for f.changes.iter().map(|c| html! { <span class="hop-change" data-testid="hop-change">{ c.to_string() }</span> }) }
            if !h.detail.is_empty() { <div class="hop-detail">{ h.detail.clone() }</div> }
            if let Some(r) = &h.rule { <code class="hop-rule">{ r.clone() }</code> }
        </li>
    }
}
