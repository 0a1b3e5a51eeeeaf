//! The scenario editor: a textarea with line numbers, problem lines marked in
//! the gutter, and the list of diagnostics below it (click one to jump to
//! its line). The text is the model's; every keystroke is kept.

use std::collections::BTreeMap;
use std::rc::Rc;

use podpath_core::{Diagnostic, Severity};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::state::Action;
use crate::state::ModelHandle;

#[component]
pub fn Editor() -> Html {
    let model = use_context::<ModelHandle>().expect("Editor is rendered inside the model's provider");
    let on_edit = {
        let dispatcher = model.dispatcher();
        use_callback((), move |text: String, _| dispatcher.dispatch(Action::Edit(text)))
    };
    let on_refuse = {
        let dispatcher = model.dispatcher();
        use_callback((), move |message: String, _| dispatcher.dispatch(Action::Notify(Some(message))))
    };
    html! {
        <EditorView text={model.text.clone()} diagnostics={model.diagnostics.clone()} pending={model.pending()}
                    stale={model.stale} {on_edit} {on_refuse} />
    }
}

/// Texts longer than this are shown without colours, problem marks or
/// per-line gutter elements: building those for hundreds of thousands of
/// lines would hold the page for seconds.
pub const HIGHLIGHT_LIMIT: usize = 256 * 1024;

/// The length, in UTF-16 code units, of the text a paste event carries,
/// read in the page without copying the text into the Wasm.
fn pasted_length(e: &Event) -> Option<u32> {
    use wasm_bindgen::JsCast;
    let data = e.dyn_ref::<web_sys::ClipboardEvent>()?.clipboard_data()?;
    let get = js_sys::Reflect::get(&data, &"getData".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
    let text = get.call1(&data, &"text/plain".into()).ok()?;
    Some(text.dyn_ref::<js_sys::JsString>()?.length())
}

/// The message for a text over the input limit; `units` is its length in
/// UTF-16 code units, as the textarea counts it.
fn refusal(units: u32) -> String {
    let limit = podpath_core::load::MAX_INPUT_BYTES;
    format!(
        "the pasted text is {:.1} MB, more than the {} MB podpath reads; it was not taken and your text is as it was (leave out what the scenario does not need: kubectl get -o yaml of the namespaces in question, or split it)",
        f64::from(units) / 1e6,
        limit / (1024 * 1024)
    )
}

#[derive(Properties, PartialEq)]
struct EditorProps {
    text: String,
    diagnostics: Rc<Vec<Diagnostic>>,
    pending: bool,
    stale: bool,
    on_edit: Callback<String>,
    /// Called with a message when an edit is refused (over the input limit).
    on_refuse: Callback<String>,
}

/// The editor itself. Its props change only with the text and its
/// diagnostics, so the player's ticks do not highlight the YAML again.
#[component]
fn EditorView(props: &EditorProps) -> Html {
    let model = props;
    let textarea = use_node_ref();
    let oninput = {
        let (on_edit, on_refuse, before) = (props.on_edit.clone(), props.on_refuse.clone(), props.text.clone());
        Callback::from(move |e: InputEvent| {
            let el = e.target_unchecked_into::<HtmlTextAreaElement>();
            // The length is read without copying the text out of the page:
            // a 50 MB paste is turned back before it costs anything.
            let units = el.text_length();
            if units as usize > podpath_core::load::MAX_INPUT_BYTES {
                el.set_value(&before);
                on_refuse.emit(refusal(units));
                return;
            }
            on_edit.emit(el.value());
        })
    };
    // A paste is measured before the browser inserts it: a huge one is
    // refused without ever entering the textarea (inserting 50 MB alone
    // holds the page for seconds).
    let onpaste = {
        let on_refuse = props.on_refuse.clone();
        Callback::from(move |e: Event| {
            let el = e.target_unchecked_into::<HtmlTextAreaElement>();
            let Some(pasted) = pasted_length(&e) else { return };
            let selected = match (el.selection_start(), el.selection_end()) {
                (Ok(Some(a)), Ok(Some(b))) => b.saturating_sub(a),
                _ => 0,
            };
            let after = el.text_length().saturating_sub(selected).saturating_add(pasted);
            if after as usize > podpath_core::load::MAX_INPUT_BYTES {
                e.prevent_default();
                on_refuse.emit(refusal(pasted));
            }
        })
    };
    let plain = model.text.len() > HIGHLIGHT_LIMIT;
    // The worst severity on each line, for the gutter.
    let mut marks: BTreeMap<u32, Severity> = BTreeMap::new();
    for d in model.diagnostics.iter() {
        let e = marks.entry(d.origin.line).or_insert(d.severity);
        *e = (*e).max(d.severity);
    }
    // The textarea grows to fit the text, and the pane scrolls both it and
    // the gutter together, so line numbers always line up.
    let lines = model.text.lines().count().max(1) + usize::from(model.text.ends_with('\n'));
    let columns = model.text.lines().map(|l| l.chars().count()).max().unwrap_or(0).max(40) + 2;
    let gutter = (1..=if plain { 0 } else { lines as u32 }).map(|n| {
        let class = match marks.get(&n) {
            Some(Severity::Error) => "line error",
            Some(Severity::Warning) => "line warning",
            Some(Severity::Note) => "line note",
            None => "line",
        };
        html! { <div class={class}>{ n }</div> }
    });
    let jump = {
        let textarea = textarea.clone();
        let text = model.text.clone();
        move |line: u32, column: u32| {
            let Some(el) = textarea.cast::<HtmlTextAreaElement>() else { return };
            let offset = utf16_offset(&text, line, column);
            let _ = el.focus();
            let _ = el.set_selection_range(offset, offset);
        }
    };
    let status = if model.pending {
        "editing…".to_owned()
    } else if plain {
        format!(
            "{} problem(s); the text is over {} KB, so it is shown without colours",
            model.diagnostics.len(),
            HIGHLIGHT_LIMIT / 1024
        )
    } else if model.stale {
        "the text has errors: the topology shows the last cluster that built".to_owned()
    } else {
        format!("{} problem(s)", model.diagnostics.len())
    };
    html! {
        <section class="editor-pane" aria-label="Scenario editor">
            <div class="editor-scroll">
                <div class="gutter" aria-hidden="true">
                    if plain {
                        <pre class="line">{ (1..=lines).map(|n| n.to_string()).collect::<Vec<_>>().join("\n") }</pre>
                    } else {
                        { for gutter }
                    }
                </div>
                <div class={classes!("code", plain.then_some("plain"))}>
                if !plain {
                    <pre class="highlight" aria-hidden="true">{ highlight(&model.text, &model.diagnostics) }</pre>
                }
                <textarea
                    ref={textarea}
                    data-testid="editor"
                    class="editor"
                    spellcheck="false"
                    autocomplete="off"
                    wrap="off"
                    rows={lines.to_string()}
                    cols={columns.to_string()}
                    aria-label="Scenario YAML"
                    value={model.text.clone()}
                    {oninput}
                    {onpaste}
                />
                </div>
            </div>
            <div class={classes!("problems", model.stale.then_some("stale"))}>
                <p class="problems-status" data-testid="editor-status">{ status }</p>
                <ul>
                    { for model.diagnostics.iter().map(|d| view_diagnostic(d, jump.clone())) }
                </ul>
            </div>
        </section>
    }
}

/// The text coloured as YAML (comments, document separators, keys, quoted
/// strings, numbers and booleans), each problem's message at the end of its
/// line. Characters are never changed: the layer lies exactly under the
/// transparent text of the textarea.
fn highlight(text: &str, diagnostics: &[Diagnostic]) -> Html {
    let mut by_line: BTreeMap<u32, &Diagnostic> = BTreeMap::new();
    for d in diagnostics {
        let e = by_line.entry(d.origin.line).or_insert(d);
        if d.severity > e.severity {
            *e = d;
        }
    }
    let lines: Vec<&str> = text.split('\n').collect();
    html! {
        { for lines.iter().enumerate().map(|(i, line)| {
            let n = i as u32 + 1;
            let diag = by_line.get(&n).map(|d| {
                let class = match d.severity {
                    Severity::Error => "inline-diag error",
                    Severity::Warning => "inline-diag warning",
                    Severity::Note => "inline-diag note",
                };
                html! { <span class={class} data-testid="inline-diagnostic" data-line={n.to_string()}>{ format!("  ◂ {}", d.message) }</span> }
            });
            html! { <>{ for tokens(line) }{ for diag }{ "\n" }</> }
        }) }
    }
}

/// One line of YAML as coloured spans.
fn tokens(line: &str) -> Vec<Html> {
    let span = |class: &'static str, s: &str| html! { <span class={class}>{ s.to_owned() }</span> };
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    if trimmed.starts_with('#') {
        return vec![html! { { indent.to_owned() } }, span("t-comment", trimmed)];
    }
    if trimmed.starts_with("---") || trimmed.starts_with("...") {
        return vec![span("t-sep", line)];
    }
    let mut out = vec![html! { { indent.to_owned() } }];
    let mut rest = trimmed;
    if let Some(r) = rest.strip_prefix("- ") {
        out.push(span("t-punct", "- "));
        rest = r;
    }
    // A key: up to the first `: ` (or a line-ending `:`) outside quotes.
    let key_end = rest.find(": ").or_else(|| rest.strip_suffix(':').map(str::len));
    if let Some(k) = key_end.filter(|k| !rest[..*k].contains(['"', '\'', '{', '[', '#'])) {
        out.push(span("t-key", &rest[..k]));
        out.push(span("t-punct", ":"));
        rest = &rest[k + 1..];
    }
    // The value, and a trailing comment.
    let (value, comment) = match rest.find(" #") {
        Some(i) if !rest[..i].contains(['"', '\'']) => (&rest[..i], Some(&rest[i..])),
        _ => (rest, None),
    };
    let v = value.trim();
    let class = if v.starts_with(['"', '\'']) {
        "t-string"
    } else if v.parse::<f64>().is_ok() || matches!(v, "true" | "false" | "null" | "~") {
        "t-number"
    } else if v.starts_with(['{', '[', '|', '>']) {
        "t-punct"
    } else {
        "t-value"
    };
    out.push(span(class, value));
    if let Some(c) = comment {
        out.push(span("t-comment", c));
    }
    out
}

fn view_diagnostic(d: &Diagnostic, jump: impl Fn(u32, u32) + 'static) -> Html {
    let (line, column) = (d.origin.line, d.origin.column);
    let onclick = Callback::from(move |_: MouseEvent| jump(line, column));
    let class = match d.severity {
        Severity::Error => "diagnostic error",
        Severity::Warning => "diagnostic warning",
        Severity::Note => "diagnostic note",
    };
    html! {
        <li class={class} data-testid="diagnostic" data-line={line.to_string()} data-severity={d.severity.to_string()}>
            <button type="button" class="at" {onclick}>{ format!("{line}:{column}") }</button>
            <span class="severity">{ d.severity.to_string() }</span>
            <span class="message">{ d.message.clone() }</span>
        </li>
    }
}

/// The UTF-16 offset (what the DOM's selection API counts) of a 1-based
/// line and column in `text`.
pub fn utf16_offset(text: &str, line: u32, column: u32) -> u32 {
    let mut offset = 0u32;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u32 + 1 == line {
            let col: u32 = l.chars().take(column.saturating_sub(1) as usize).map(|c| c.len_utf16() as u32).sum();
            return offset + col;
        }
        offset += l.encode_utf16().count() as u32;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::utf16_offset;

    #[test]
    fn offsets_count_utf16_units() {
        let text = "ab\né€\nxyz";
        assert_eq!(utf16_offset(text, 1, 1), 0);
        assert_eq!(utf16_offset(text, 2, 1), 3);
        assert_eq!(utf16_offset(text, 3, 3), 8);
        assert_eq!(utf16_offset(text, 9, 1), 9);
    }
}
