//! The capture tab, as Wireshark lays it out: the packet list (No., Time,
//! Source, Destination, Protocol, Length, Info), the selected packet's
//! layers as a tree and its bytes as a hex dump; a filter by interface;
//! the same packets as a .pcap download. Everything is read from the
//! pcap's own bytes by the core's dissector.

use std::rc::Rc;

use podpath_core::capture::{dissect, hexdump, seconds, Dissection};
use podpath_core::pcap::{self, Packet};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::state::ModelHandle;

/// Where a frame was captured, as the filter names it.
fn place(p: &Packet) -> String {
    match &p.node {
        Some(n) => format!("{n}: {}", p.at),
        None => p.at.to_string(),
    }
}

#[component]
pub fn Capture() -> Html {
    let model = use_context::<ModelHandle>().expect("Capture is rendered inside the model's provider");
    let filter = use_state(String::new);
    let selected = use_state(|| None::<usize>);
    // A new trace starts with every packet shown and none selected.
    {
        let (filter, selected) = (filter.clone(), selected.clone());
        use_effect_with(model.trace.as_ref().map(|t| t.id), move |_| {
            filter.set(String::new());
            selected.set(None);
        });
    }
    // Read once per trace, not on every tick of the player.
    let frames: Rc<Vec<(Packet, Dissection)>> = crate::hooks::use_trace_memo(&model, |t| {
        let Some(t) = t else { return Vec::new() };
        let frames = pcap::packets(t).into_iter().enumerate();
        frames
            .map(|(i, p)| {
                let d = dissect(&p.data, i + 1);
                (p, d)
            })
            .collect()
    });
    if frames.is_empty() {
        return html! { <p class="muted">{ "Start a trace (or run curl, ping or dig in the terminal) to capture its packets here." }</p> };
    }
    let mut places: Vec<String> = frames.iter().map(|(p, _)| place(p)).collect();
    podpath_core::order::sort(&mut places);
    places.dedup();
    let shown: Vec<(usize, &(Packet, Dissection))> =
        frames.iter().enumerate().filter(|(_, (p, _))| filter.is_empty() || place(p) == *filter).collect();
    let download = {
        let packets: Vec<Packet> = shown.iter().map(|(_, (p, _))| p.clone()).collect();
        data_encoding::BASE64.encode(&pcap::write_packets(&packets))
    };
    let on_filter = {
        let (filter, selected) = (filter.clone(), selected.clone());
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                filter.set(s.value());
                selected.set(None);
            }
        })
    };
    let chosen = selected.and_then(|i| frames.get(i));
    html! {
        <div class="capture-view">
            <div class="capture-bar">
                <label>{ "Interface " }
                    <select data-testid="capture-interface" onchange={on_filter}>
                        <option value="" selected={filter.is_empty()}>{ format!("all ({} packets)", frames.len()) }</option>
                        { for places.iter().map(|p| html! { <option value={p.clone()} selected={*filter == *p}>{ p.clone() }</option> }) }
                    </select>
                </label>
                <a class="pcap" data-testid="capture-download" download="podpath-capture.pcap"
                   href={format!("data:application/vnd.tcpdump.pcap;base64,{download}")}>{ format!("download {} packets (.pcap)", shown.len()) }</a>
            </div>
            <div class="capture-list">
                <table class="capture" data-testid="capture">
                    <thead><tr><th>{ "No." }</th><th>{ "Time" }</th><th>{ "Source" }</th><th>{ "Destination" }</th><th>{ "Protocol" }</th><th>{ "Length" }</th><th>{ "Info" }</th></tr></thead>
                    <tbody>
                        { for shown.iter().map(|(i, (p, d))| {
                            let i = *i;
                            let pick = {
                                let selected = selected.clone();
                                Callback::from(move |_: MouseEvent| selected.set(Some(i)))
                            };
                            html! {
                                <tr class={classes!((*selected == Some(i)).then_some("current"))} data-testid="capture-row" title={place(p)}>
                                    <td><button class="link" onclick={pick} aria-pressed={(*selected == Some(i)).to_string()}>{ i + 1 }</button></td>
                                    <td>{ seconds(p.usec) }</td>
                                    <td>{ d.source.clone() }</td>
                                    <td>{ d.destination.clone() }</td>
                                    <td>{ d.protocol.clone() }</td>
                                    <td>{ p.data.len() }</td>
                                    <td>{ d.info.clone() }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            </div>
            if let Some((p, d)) = chosen {
                <div class="capture-detail">
                    <div class="capture-tree" data-testid="capture-tree">
                        <p class="muted">{ format!("captured on {}", place(p)) }</p>
                        { for d.layers.iter().map(|l| html! {
                            <details open=true>
                                <summary>{ l.title.clone() }</summary>
                                <ul>{ for l.fields.iter().map(|f| html! { <li>{ f.clone() }</li> }) }</ul>
                            </details>
                        }) }
                    </div>
                    <pre class="capture-hex" data-testid="capture-hex" tabindex="0" aria-label="the packet's bytes">{ hexdump(&p.data) }</pre>
                </div>
            }
        </div>
    }
}
