//! The lesson panel: what the lesson is about, its steps, and its goals
//! met or not on the cluster the editor's text builds now — with a hint
//! for each goal not met yet, and a way to start over.

use yew::prelude::*;

use crate::app::ModelHandle;
use crate::state::Action;

#[component]
pub fn LessonPanel() -> Html {
    let model = use_context::<ModelHandle>().expect("LessonPanel is rendered inside the model's provider");
    let Some(lesson) = model.lesson.clone() else { return Html::default() };
    let met = model.outcomes.iter().filter(|o| o.passed).count();
    let total = lesson.spec.goals.len();
    let done = met == total && total > 0 && !model.stale;
    let reset = {
        let model = model.clone();
        Callback::from(move |_: MouseEvent| model.dispatch(Action::ResetLesson))
    };
    // The print stylesheet shows the lesson alone, hints included.
    let print = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    });
    html! {
        <section class="lesson" aria-label="Lesson" data-testid="lesson" data-lesson={lesson.metadata.name.clone()}>
            <p class="lesson-topic">{ format!("Lesson · {}", lesson.spec.topic) }</p>
            <h2>{ lesson.spec.title.clone() }</h2>
            if !lesson.spec.summary.is_empty() {
                <p>{ lesson.spec.summary.clone() }</p>
            }
            <ol class="lesson-steps">
                { for lesson.spec.steps.iter().map(|s| html! { <li>{ with_code(s) }</li> }) }
            </ol>
            <h3>{ format!("Goals: {met} of {total} met") }</h3>
            <ul class="lesson-goals">
                { for lesson.spec.goals.iter().enumerate().map(|(i, g)| {
                    let o = model.outcomes.get(i);
                    let passed = o.is_some_and(|o| o.passed);
                    html! {
                        <li class={classes!("goal", passed.then_some("met"))} data-testid="goal" data-passed={passed.to_string()}>
                            <span class="mark" aria-hidden="true">{ if passed { "✓" } else { "○" } }</span>
                            <span class="visually-hidden">{ if passed { "met: " } else { "not met yet: " } }</span>
                            { g.text.clone() }
                            if let Some(o) = o {
                                <span class="goal-detail">{ o.detail.clone() }</span>
                            }
                            if !passed && !g.hint.is_empty() {
                                <details class="hint"><summary>{ "Hint" }</summary>{ g.hint.clone() }</details>
                            }
                            if !g.hint.is_empty() {
                                <span class="print-only">{ format!("Hint: {}", g.hint) }</span>
                            }
                        </li>
                    }
                }) }
            </ul>
            if done {
                <p class="lesson-complete" data-testid="lesson-complete" role="status">{ "Lesson complete: every goal is met." }</p>
            }
            <div class="lesson-actions">
                <button class="secondary" onclick={reset} data-testid="lesson-reset">{ "Start the lesson over" }</button>
                <button class="secondary" onclick={print} data-testid="lesson-print" title="a one-page summary of the lesson: steps, goals and hints">{ "Print summary" }</button>
            </div>
        </section>
    }
}

/// A step's text with its `backquoted` parts as code (text only: nothing
/// in a lesson becomes markup).
fn with_code(text: &str) -> Html {
    html! {
        { for text.split('`').enumerate().map(|(i, part)| {
            if i % 2 == 1 { html! { <code>{ part.to_owned() }</code> } } else { html! { { part.to_owned() } } }
        }) }
    }
}
