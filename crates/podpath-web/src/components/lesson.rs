//! The lesson panel: what the lesson is about, its steps, and its goals
//! met or not on the cluster the editor's text builds now — with a hint
//! for each goal not met yet, and a way to start over.

use gloo::storage::Storage as _;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::state::Action;
use crate::state::ModelHandle;

/// Where a finished lesson is remembered (its text is autosaved apart).
fn done_key(name: &str) -> String {
    format!("podpath.v1.done.{name}")
}

fn is_done(name: &str) -> bool {
    gloo::storage::LocalStorage::get::<bool>(done_key(name)).unwrap_or(false)
}

/// A workshop's set of lessons, from `?lessons=a,b,c`.
fn lesson_set() -> Option<Vec<String>> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    let set: Vec<String> =
        params.get("lessons")?.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    (!set.is_empty()).then_some(set)
}

/// The page's address for a lesson, keeping the workshop's set.
fn lesson_href(name: &str) -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else { return String::new() };
    let base = location.pathname().unwrap_or_default();
    match lesson_set() {
        Some(set) => format!("{base}?scenario={name}&lessons={}", set.join(",")),
        None => format!("{base}?scenario={name}"),
    }
}

/// The lessons menu: every bundled lesson (or the workshop's set), a ✓ on
/// those finished in this browser; choosing one opens it.
#[component]
pub fn LessonMenu() -> Html {
    let model = use_context::<ModelHandle>().expect("LessonMenu is rendered inside the model's provider");
    let current = model.lesson.as_ref().map(|l| l.metadata.name.clone()).unwrap_or_default();
    // The menu renders with every change of the model (each hop the player
    // shows): the URL and the finished marks are read again only when the
    // current lesson's goals change, which is when one can get finished.
    // The open lesson, finished this very moment (its mark is stored after
    // this render).
    let finished_now = !model.stale && !model.outcomes.is_empty() && model.outcomes.iter().all(|o| o.passed);
    let shown = use_memo(model.outcomes.clone(), |_| {
        let all = crate::scenarios::lesson_titles();
        let listed: Vec<(String, String)> = match lesson_set() {
            Some(set) => set.iter().filter_map(|n| all.iter().find(|(name, _)| name == n).cloned()).collect(),
            None => all,
        };
        listed.into_iter().map(|(name, title)| (is_done(&name), name, title)).collect::<Vec<_>>()
    });
    let onchange = Callback::from(|e: Event| {
        let Some(select) = e.target_dyn_into::<HtmlSelectElement>() else { return };
        let name = select.value();
        if let (false, Some(w)) = (name.is_empty(), web_sys::window()) {
            let _ = w.location().set_href(&lesson_href(&name));
        }
    });
    html! {
        <label>
            { "Lesson " }
            <select data-testid="lesson-select" {onchange}>
                <option value="" selected={current.is_empty()}>{ "choose…" }</option>
                { for shown.iter().enumerate().map(|(i, (done, name, title))| html! {
                    <option value={name.clone()} selected={*name == current}>
                        { format!("{}{}. {title}", if *done || (*name == current && finished_now) { "✓ " } else { "" }, i + 1) }
                    </option>
                }) }
            </select>
        </label>
    }
}

#[component]
pub fn LessonPanel() -> Html {
    let model = use_context::<ModelHandle>().expect("LessonPanel is rendered inside the model's provider");
    let Some(lesson) = model.lesson.clone() else { return Html::default() };
    let met = model.outcomes.iter().filter(|o| o.passed).count();
    let total = lesson.spec.goals.len();
    let done = met == total && total > 0 && !model.stale;
    // Finished once is finished: the menu marks it.
    {
        let name = lesson.metadata.name.clone();
        use_effect_with(done, move |done| {
            if *done {
                let _ = gloo::storage::LocalStorage::set(done_key(&name), true);
            }
        });
    }
    // In a workshop's set: where this lesson is, and the next one (the URL
    // is read once, not at each of the player's ticks).
    let set = use_memo((), |_| lesson_set());
    let set = set.as_ref();
    let place = set.as_ref().and_then(|s| s.iter().position(|n| *n == lesson.metadata.name).map(|i| (i, s.len())));
    let next = place.and_then(|(i, _)| set.as_ref()?.get(i + 1).cloned());
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
            <p class="lesson-topic">
                { match place {
                    Some((i, n)) => format!("Lesson {} of {n} · {}", i + 1, lesson.spec.topic),
                    None => format!("Lesson · {}", lesson.spec.topic),
                } }
            </p>
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
                if let Some(next) = &next {
                    <p><a href={lesson_href(next)} data-testid="lesson-next">{ "Next lesson →" }</a></p>
                }
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
