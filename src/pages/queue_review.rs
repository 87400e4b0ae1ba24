//! `/queues/{id}`: the review page, built for speed. The reviewer (their API key's label when
//! Skein has keys, else a name asked once and kept in the browser) is given one item at a time
//! under a lease; the page shows the run's input and output and the queue's score keys as the
//! rating widget's controls. Keyboard: digits choose a category or step of the current key,
//! `t`/`f` thumbs, ↑/↓ move between keys, `c` opens the comment box, Enter saves and moves to
//! the next item, `s` skips it, `k` goes back to the items rated before (shown read-only, with
//! their ratings; kept for the tab's session, `history`) and `j` forward again. The claim and
//! answer flow and the page's head are the review pages' (`review`).

use std::collections::BTreeMap;

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use skein_model::queue::{Completion, ItemScore, QueueItem};
use skein_model::span::Span;
use skein_model::{ScoreConfig, ScoreConfigList};
use wasm_bindgen::JsCast;

use super::review::{on_review_keys, use_review, Items};
use super::trace::detail::io::PayloadView;
use crate::api::{self, ApiError};
use crate::components::compact_tree::CompactTree;
use crate::components::error_banner::ErrorBanner;
use crate::components::feedback::rate::controls;
use crate::components::feedback::score::{parse_score, score_text};
use crate::components::remote::Remote;
use crate::links;

mod history;

use history::Rated;

/// The runs shown (current and rated), by item id, once fetched.
type Runs = RwSignal<BTreeMap<String, Result<Span, ApiError>>>;

/// Fetches the run an item is about (its span, or its trace's root) into `runs`.
fn fetch_run(project: String, item: QueueItem, runs: Runs) {
    spawn_local(async move {
        let trace_id = item.target.trace_id.clone();
        let span_id = match &item.target.span_id {
            Some(s) => Ok(s.clone()),
            None => api::trace(&project, &trace_id).await.and_then(|t| {
                t.summary
                    .root_span_id
                    .ok_or_else(|| api::unreachable("the trace has no root span yet"))
            }),
        };
        let span = match span_id {
            Ok(s) => api::span(&project, &trace_id, &s).await,
            Err(e) => Err(e),
        };
        runs.try_update(|r| r.insert(item.id, span));
    });
}

#[component]
pub fn QueueReviewPage() -> impl IntoView {
    let history = RwSignal::new(Vec::<Rated>::new());
    // The rated item shown instead of the current one (an index into `history`), after `k`.
    let looking_back = RwSignal::new(None::<usize>);
    let comment = RwSignal::new(String::new());
    let comment_box = NodeRef::<html::Textarea>::new();
    let configs = RwSignal::new(ScoreConfigList::default());
    let current = RwSignal::new(None::<QueueItem>);
    let runs: Runs = RwSignal::new(BTreeMap::new());
    let chosen = RwSignal::new(BTreeMap::<String, f64>::new());
    let active = RwSignal::new(0usize);
    let inputs = StoredValue::new(BTreeMap::<String, NodeRef<html::Input>>::new());

    let review = use_review::<Items>(move |project, item| {
        chosen.set(BTreeMap::new());
        comment.set(String::new());
        active.set(0);
        looking_back.set(None);
        if let Some(item) = &item {
            fetch_run(project.to_string(), item.clone(), runs);
        }
        current.set(item);
    });
    let (project, id) = (review.project, review.id);
    Effect::new(move |_| {
        let (project, id) = (project.get(), id.get());
        history.set(history::load(&project, &id));
        spawn_local(async move {
            if let Ok(c) = api::score_configs(&project).await {
                configs.try_set(c);
            }
        });
    });
    // A rated item looked at again whose run this visit has not fetched (after a reload).
    Effect::new(move |_| {
        let Some(i) = looking_back.get() else {
            return;
        };
        let Some(item) = history.with_untracked(|h| h.get(i).map(|r| r.item.clone())) else {
            return;
        };
        if !runs.with_untracked(|r| r.contains_key(&item.id)) {
            fetch_run(project.get_untracked(), item, runs);
        }
    });
    let remember = move |rated: Rated| {
        history.update(|h| {
            h.push(rated);
            history::save(&project.get_untracked(), &id.get_untracked(), h);
        });
    };

    let keys = move || {
        review.queue.state.with(|q| match q {
            Remote::Ready(q) => q.score_keys.clone(),
            _ => Vec::new(),
        })
    };
    let submit = move || {
        if review.busy.get_untracked() {
            return;
        }
        let Some(item) = current.get_untracked() else {
            return;
        };
        let list = configs.get_untracked();
        let mut scores = Vec::new();
        let mut shown = Vec::new();
        for key in keys() {
            let typed = inputs
                .with_value(|i| i.get(&key).and_then(|n| n.get_untracked()))
                .map(|i| i.value())
                .and_then(|t| parse_score(t.trim()));
            if let Some(score) = chosen.with_untracked(|c| c.get(&key).copied()).or(typed) {
                shown.push((key.clone(), chosen_text(list.get(&key), score)));
                scores.push(ItemScore {
                    key,
                    score: Some(score),
                    ..ItemScore::default()
                });
            }
        }
        // One comment per item, kept with its first score.
        let note = comment.get_untracked().trim().to_string();
        if let Some(first) = scores.first_mut().filter(|_| !note.is_empty()) {
            first.comment = Some(note.clone());
        }
        if scores.is_empty() {
            review.error.set(Some(
                "Choose a score first (digits choose, Enter saves).".into(),
            ));
            return;
        }
        let item_id = item.id.clone();
        review.answer(
            "Couldn't save",
            move |project, id, reviewer| async move {
                let completion = Completion { reviewer, scores };
                let result = api::complete_item(&project, &id, &item_id, &completion).await;
                // A refusal may come from a config changed since the page loaded: the
                // controls follow the config as it is now.
                if matches!(result, Err(ApiError::Status { status: 400, .. })) {
                    if let Ok(c) = api::score_configs(&project).await {
                        configs.try_set(c);
                    }
                }
                result
            },
            move || {
                remember(Rated {
                    item,
                    scores: shown,
                    comment: note,
                })
            },
        );
    };
    let skip = move || {
        let Some(item) = current.get_untracked() else {
            return;
        };
        let item_id = item.id.clone();
        review.answer(
            "Couldn't skip",
            move |project, id, reviewer| async move {
                let claim = skein_model::queue::Claim {
                    reviewer,
                    lease_secs: None,
                };
                api::skip_item(&project, &id, &item_id, &claim).await
            },
            move || {
                remember(Rated {
                    item,
                    scores: Vec::new(),
                    comment: String::new(),
                })
            },
        );
    };

    on_review_keys(move |key| {
        // Back and forth through what was rated, the current item last.
        match key {
            "k" => {
                let rated = history.with_untracked(Vec::len);
                let back = match looking_back.get_untracked() {
                    None => rated.checked_sub(1),
                    Some(i) => Some(i.saturating_sub(1)),
                };
                looking_back.set(back);
                return back.is_some();
            }
            "j" => {
                let rated = history.with_untracked(Vec::len);
                looking_back.update(|b| *b = b.map(|i| i + 1).filter(|i| *i < rated));
                return true;
            }
            _ => {}
        }
        if current.with_untracked(Option::is_none) || looking_back.get_untracked().is_some() {
            return false;
        }
        let n_keys = keys().len();
        match key {
            "Enter" => {
                submit();
                true
            }
            "s" | "S" => {
                skip();
                true
            }
            "c" | "C" => {
                if let Some(b) = comment_box.get_untracked() {
                    let _ = b.focus();
                }
                true
            }
            "ArrowDown" => {
                active.update(|a| *a = (*a + 1).min(n_keys.saturating_sub(1)));
                true
            }
            "ArrowUp" => {
                active.update(|a| *a = a.saturating_sub(1));
                true
            }
            "t" | "f" => click_in_active(
                active.get_untracked(),
                if key == "t" {
                    "[name=thumbs-up]"
                } else {
                    "[name=thumbs-down]"
                },
            ),
            digit if digit.len() == 1 && digit.as_bytes()[0].is_ascii_digit() && digit != "0" => {
                let n = usize::from(digit.as_bytes()[0] - b'0');
                click_in_active(
                    active.get_untracked(),
                    &format!(".fb-choice:nth-of-type({n})"),
                )
            }
            _ => false,
        }
    });

    let score_rows = move || {
        let list = configs.get();
        let keys = keys();
        let last = keys.len().saturating_sub(1);
        keys.into_iter()
            .enumerate()
            .map(|(i, key)| {
                let config = list.get(&key).cloned();
                let score_input = NodeRef::<html::Input>::new();
                inputs.update_value(|m| {
                    m.insert(key.clone(), score_input);
                });
                let for_key = key.clone();
                let rate = Callback::new(move |score: Option<f64>| {
                    if let Some(s) = score {
                        chosen.update(|c| {
                            c.insert(for_key.clone(), s);
                        });
                        active.set((i + 1).min(last));
                    }
                });
                let shown_key = key.clone();
                let label_config = config.clone();
                let shown = move || {
                    chosen
                        .with(|c| c.get(&shown_key).copied())
                        .map(|s| chosen_text(label_config.as_ref(), s))
                };
                view! {
                    <div class="review-key" class:active=move || active.get() == i
                        data-score-key=key.clone() data-key-index=i.to_string()>
                        <span class="review-key-name">{key.clone()}</span>
                        <div class="fb-form-row">{controls(config, rate, score_input)}</div>
                        <span class="review-chosen" data-testid="review-chosen">{shown}</span>
                    </div>
                }
            })
            .collect_view()
    };

    let item_view = move || {
        let project = project.get_untracked();
        if let Some(i) = looking_back.get() {
            let rated = history.with(|h| h.get(i).cloned())?;
            let count = history.with(Vec::len);
            let run = runs.with(|r| r.get(&rated.item.id).cloned());
            return Some(past_view(&project, rated, run, i, count).into_any());
        }
        let item = current.get()?;
        let run = runs.with(|r| r.get(&item.id).cloned());
        Some(run_view(&project, &item, run, None).into_any())
    };
    let busy = review.busy;

    view! {
        <div class="page review-page">
            {review.head(None)}
            {review.reviewer_form("Your name, as your ratings will show it")}
            {move || review.finished.get().then(|| view! {
                <p class="review-done" data-testid="review-done">"Nothing left to review in this queue."
                    {move || history.with(|h| !h.is_empty()).then_some(" k goes back to what you rated.")}</p>
            })}
            <div class="review-layout">
                {item_view}
                {move || (current.with(|c| c.is_some()) && looking_back.get().is_none()).then(|| view! {
                    <aside class="panel review-scores" data-testid="review-scores">
                        {score_rows}
                        <label class="fb-field review-comment">
                            <span class="fb-label">"Comment (c)"</span>
                            <textarea class="input" name="review-comment" rows="2" node_ref=comment_box
                                placeholder="Optional · Enter saves · Esc leaves the box"
                                prop:value=move || comment.get()
                                on:input=move |ev| comment.set(event_target_value(&ev))
                                on:keydown=move |ev: web_sys::KeyboardEvent| {
                                    let enter = ev.key() == "Enter" && !ev.shift_key();
                                    if enter || ev.key() == "Escape" {
                                        // The page's keys work again once out of the box.
                                        ev.prevent_default();
                                        if let Some(b) = comment_box.get_untracked() {
                                            let _ = b.blur();
                                        }
                                    }
                                    if enter {
                                        submit();
                                    }
                                }></textarea>
                        </label>
                        <div class="review-actions">
                            <button type="button" class="button primary" name="review-save"
                                disabled=move || busy.get() on:click=move |_| submit()>"Save and next (Enter)"</button>
                            <button type="button" class="button" name="review-skip"
                                disabled=move || busy.get() on:click=move |_| skip()>"Skip (S)"</button>
                        </div>
                        <p class="muted review-keys-help">"Digits choose · t/f thumbs · ↑/↓ move between keys · c comment · Enter saves · s skips · k back"</p>
                        {review.error_note()}
                    </aside>
                })}
            </div>
        </div>
    }
}

/// What a score shows as: its config's label and the number, or the number.
fn chosen_text(config: Option<&ScoreConfig>, score: f64) -> String {
    match config {
        Some(c) => format!("{} ({})", c.kind.label(score), score_text(Some(score))),
        None => score_text(Some(score)),
    }
}

/// The run under review (or reviewed): its trace, name, input and output.
fn run_view(
    project: &str,
    item: &QueueItem,
    run: Option<Result<Span, ApiError>>,
    note: Option<AnyView>,
) -> impl IntoView {
    let trace_href = links::trace_span_href(
        project,
        &item.target.trace_id,
        item.target.span_id.as_deref(),
        false,
    );
    let body = match run {
        None => view! { <p class="muted">"Loading the run…"</p> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner title=e.title() detail=e.detail()/> }.into_any(),
        Some(Ok(span)) => view! {
            <h3 class="review-span-name">{span.name.clone()}</h3>
            <section class="review-io">
                <h4>"Input"</h4>
                <PayloadView text=span.input.clone()/>
                <h4>"Output"</h4>
                <PayloadView text=span.output.clone()/>
            </section>
        }
        .into_any(),
    };
    view! {
        <article class="panel review-item" data-testid="review-item"
            data-item-id=item.id.clone() data-trace-id=item.target.trace_id.clone()>
            <div class="review-item-head">
                <a href=trace_href class="muted">{format!("trace {}", item.target.trace_id)}</a>
            </div>
            {note}
            {body}
            <CompactTree project=project.to_string() trace_id=item.target.trace_id.clone()
                marked=item.target.span_id.clone()/>
        </article>
    }
}

/// An item rated before (`k`): what was given, read-only, above the run.
fn past_view(
    project: &str,
    rated: Rated,
    run: Option<Result<Span, ApiError>>,
    index: usize,
    count: usize,
) -> impl IntoView {
    let given = if rated.scores.is_empty() {
        view! { <p>"Skipped."</p> }.into_any()
    } else {
        let rows = rated
            .scores
            .into_iter()
            .map(|(key, text)| {
                let name = key.clone();
                view! { <li data-score-key=key><span class="review-key-name">{name}</span>" "<strong>{text}</strong></li> }
            })
            .collect_view();
        view! { <ul class="review-past-scores">{rows}</ul> }.into_any()
    };
    let comment = (!rated.comment.is_empty()).then(|| {
        view! { <p class="review-past-comment">{format!("“{}”", rated.comment)}</p> }
    });
    let note = view! {
        <div class="review-past" data-testid="review-past">
            <p class="muted">{format!("Rated earlier ({} of {count}) · read-only · j goes forward", index + 1)}</p>
            {given}
            {comment}
        </div>
    }
    .into_any();
    run_view(project, &rated.item, run, Some(note))
}

/// Clicks the control `css` of the score key at `index`; whether there was one.
fn click_in_active(index: usize, css: &str) -> bool {
    let selector = format!(".review-key[data-key-index=\"{index}\"] {css}");
    match document().query_selector(&selector).ok().flatten() {
        Some(el) => {
            if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
                el.click();
            }
            true
        }
        None => false,
    }
}
