//! The terminal: the core's shell with a prompt, its scrollback, the
//! history on ↑/↓ and completion on Tab. Commands that send packets play
//! their trace on the topology (the model does that on `Action::Run`).

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::state::Action;
use crate::state::ModelHandle;

/// The longest common prefix of the candidates.
fn common_prefix(items: &[String]) -> String {
    let Some(first) = items.first() else { return String::new() };
    let mut n = first.len();
    for s in &items[1..] {
        n = n.min(first.bytes().zip(s.bytes()).take_while(|(a, b)| a == b).count());
    }
    first[..n].to_owned()
}

#[component]
pub fn Terminal() -> Html {
    let model = use_context::<ModelHandle>().expect("Terminal is rendered inside the model's provider");
    let input = use_node_ref();
    let output = use_node_ref();
    // Where ↑/↓ is in the history (None: the line being typed).
    let walk = use_mut_ref(|| None::<usize>);
    let hint = use_state(String::new);
    // The scrollback follows the newest output.
    {
        let output = output.clone();
        use_effect_with(model.scrollback.len(), move |_| {
            if let Some(el) = output.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    let onkeydown = {
        let (model, input, walk, hint) = (model.clone(), input.clone(), walk.clone(), hint.clone());
        Callback::from(move |e: KeyboardEvent| {
            let Some(el) = input.cast::<HtmlInputElement>() else { return };
            let history = model.history.clone();
            match e.key().as_str() {
                "Enter" => {
                    e.prevent_default();
                    let line = el.value();
                    el.set_value("");
                    *walk.borrow_mut() = None;
                    hint.set(String::new());
                    model.dispatch(Action::Run(line));
                }
                "ArrowUp" | "ArrowDown" if !history.is_empty() => {
                    e.prevent_default();
                    let mut at = walk.borrow_mut();
                    let next = match (e.key().as_str(), *at) {
                        ("ArrowUp", None) => Some(history.len() - 1),
                        ("ArrowUp", Some(i)) => Some(i.saturating_sub(1)),
                        ("ArrowDown", Some(i)) if i + 1 < history.len() => Some(i + 1),
                        _ => None,
                    };
                    *at = next;
                    el.set_value(next.map_or("", |i| history[i].as_str()));
                }
                // Tab completes; on an empty line it moves the focus on,
                // so the terminal never traps the keyboard.
                "Tab" if !el.value().is_empty() => {
                    e.prevent_default();
                    let line = el.value();
                    let options = podpath_core::shell::complete(&model.at, &model.scene.names, &line);
                    let start = line.rfind([' ', '\t']).map_or(0, |i| i + 1);
                    match options.len() {
                        0 => hint.set(String::new()),
                        1 => {
                            el.set_value(&format!("{}{} ", &line[..start], options[0]));
                            hint.set(String::new());
                        }
                        _ => {
                            el.set_value(&format!("{}{}", &line[..start], common_prefix(&options)));
                            hint.set(options.join("  "));
                        }
                    }
                }
                _ => {}
            }
        })
    };
    let focus = {
        let input = input.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(el) = input.cast::<HtmlInputElement>() {
                // A click that selected text keeps the selection.
                let selecting =
                    web_sys::window().and_then(|w| w.get_selection().ok().flatten()).is_some_and(|s| !s.is_collapsed());
                if !selecting {
                    let _ = el.focus();
                }
            }
        })
    };
    html! {
        <div class="terminal" onclick={focus}>
            <pre class="terminal-output" data-testid="terminal-output" ref={output} aria-live="polite" tabindex="0" aria-label="terminal output">
                if model.scrollback.is_empty() {
                    <span class="muted">{ "Type kubectl commands here: kubectl get pods -A, kubectl exec -it POD -- sh, then curl, ping, nslookup, dig… (help lists them; Tab completes names)\n" }</span>
                }
                { for model.scrollback.iter().map(|e| html! {
                    <>
                        <span class="prompt">{ e.prompt.clone() }</span>{ e.line.clone() }{ "\n" }
                        <span class={classes!("out", (e.status != 0).then_some("failed"))}>{ e.output.clone() }</span>
                    </>
                }) }
            </pre>
            <div class="terminal-line">
                <label for="terminal-input" class="prompt">{ model.at.prompt() }</label>
                <input id="terminal-input" data-testid="terminal-input" ref={input} onkeydown={onkeydown}
                       autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="terminal-hint" />
            </div>
            <div id="terminal-hint" class="muted terminal-hint" data-testid="terminal-hint">{ (*hint).clone() }</div>
        </div>
    }
}
