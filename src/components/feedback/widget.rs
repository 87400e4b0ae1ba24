//! The rating widget in the span detail: thumbs up/down or a score under a key, with a
//! comment; the span's records listed, editable and deletable.

use leptos::html;
use leptos::prelude::*;
use skein_model::{FeedbackUpdate, NewFeedback, ScoreKind};

use super::rate::controls;
use super::score::{js_number_text, parse_score, score_text};
use super::store::{Item, Loaded, TraceFeedback};
use crate::text;
use crate::time::use_clock;

/// The key proposed when the project has no feedback yet.
const DEFAULT_KEY: &str = "user_satisfaction";

/// The detail panel's feedback section for a span: the records' count in the heading and
/// the widget.
#[component]
pub fn SpanFeedback(#[prop(into)] span_id: String) -> impl IntoView {
    let store = TraceFeedback::from_context();
    let count = {
        let span_id = span_id.clone();
        move || {
            let n = store.map(|s| s.for_span(&span_id).len()).unwrap_or(0);
            (n > 0).then(|| view! { <span class="fb-count">{n}</span> })
        }
    };
    view! {
        <details class="detail-section fb-section" open=true data-testid="span-feedback">
            <summary><h3>"Feedback"</h3>{count}</summary>
            <FeedbackWidget span_id=span_id/>
        </details>
    }
}

/// Rate a span, and the span's feedback with edit and delete. Needs the `TraceFeedback`
/// context of the span's trace.
///
/// The inputs are uncontrolled (read and cleared through node refs, not mirrored in signals):
/// less code, and no round trip that could rewrite what the user is typing.
#[component]
pub fn FeedbackWidget(#[prop(into)] span_id: String) -> impl IntoView {
    let Some(store) = TraceFeedback::from_context() else {
        return view! { <p class="muted">"Feedback is not available here."</p> }.into_any();
    };
    store.want_configs();
    let span_id = StoredValue::new(span_id);
    // The proposed key: the one this span was rated with last, else the usual key (of the
    // trace, or configured), else the first configured key, else the trace's first.
    let proposed = move || {
        let keys = store.keys();
        let configured = store.configured_keys();
        store
            .for_span(&span_id.get_value())
            .pop()
            .map(|i| i.record.key)
            .or_else(|| {
                keys.iter()
                    .chain(&configured)
                    .find(|k| *k == DEFAULT_KEY)
                    .cloned()
            })
            .or_else(|| configured.into_iter().next())
            .or_else(|| keys.into_iter().next())
            .unwrap_or_else(|| DEFAULT_KEY.to_string())
    };
    // The key being rated: as typed, else the proposed one; and its config, if any.
    let typed_key = RwSignal::new(String::new());
    let current_key = move || match typed_key.get().trim() {
        "" => proposed(),
        k => k.to_string(),
    };
    let config = Memo::new(move |_| store.config(&current_key()));
    let key_input = NodeRef::<html::Input>::new();
    let score_input = NodeRef::<html::Input>::new();
    let comment_input = NodeRef::<html::Textarea>::new();
    let error = RwSignal::new(None::<String>);
    // The record being edited, or waiting for a delete confirmation (by id).
    let editing = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(None::<String>);
    let datalist_id = format!("fb-keys-{}", span_id.get_value());

    let submit = move |score: Option<f64>| {
        let key = untrack(current_key);
        let Some(score) = score.or_else(|| parse_score(&typed(score_input))) else {
            error.set(Some(
                "The score must be a number, for example 0.8 or 4.".into(),
            ));
            return;
        };
        let comment = comment_input
            .get_untracked()
            .map(|c| c.value().trim().to_string())
            .unwrap_or_default();
        error.set(None);
        store.create(
            NewFeedback {
                run_id: span_id.get_value(),
                trace_id: Some(store.trace_id.get_value()),
                key,
                score: Some(score),
                comment: (!comment.is_empty()).then_some(comment),
                source: Some("app".into()),
                ..NewFeedback::default()
            },
            move |message| {
                error.try_set(Some(message));
            },
        );
        if let Some(i) = score_input.get_untracked() {
            i.set_value("");
        }
        if let Some(c) = comment_input.get_untracked() {
            c.set_value("");
        }
    };

    let rate = Callback::new(submit);
    let comment_asked = move || config.with(|c| c.as_ref().is_some_and(|c| c.comment_asked));
    // What the key means and allows, from its config.
    let hint = move || {
        config.get().map(|c| {
            let allowed = c.kind.allowed();
            let text = if c.description.is_empty() {
                format!("{}: {allowed}.", c.key)
            } else {
                format!("{} — {allowed}.", c.description)
            };
            view! { <p class="fb-hint muted" data-testid="feedback-hint">{text}</p> }
        })
    };

    let list = move || {
        let items = store.for_span(&span_id.get_value());
        if items.is_empty() {
            let note = match store.loaded.get() {
                Loaded::Loading => "Loading feedback…".to_string(),
                Loaded::Failed(e) => format!("Couldn't load feedback: {}", e.title()),
                Loaded::Ready => "No feedback on this span yet.".to_string(),
            };
            return view! { <p class="fb-empty muted">{note}</p> }.into_any();
        }
        let (editing_id, confirming_id) = (editing.get(), confirming.get());
        let rows = items
            .into_iter()
            .map(|item| {
                let id = item.record.id.clone();
                let mode = if editing_id.as_deref() == Some(id.as_str()) {
                    Mode::Editing
                } else if confirming_id.as_deref() == Some(id.as_str()) {
                    Mode::Confirming
                } else {
                    Mode::Viewing
                };
                row(item, mode, store, error, editing, confirming)
            })
            .collect_view();
        view! { <ul class="fb-list" data-testid="feedback-list">{rows}</ul> }.into_any()
    };

    let suggestions = move || {
        let mut keys = store.keys();
        keys.extend(store.configured_keys());
        skein_model::sort::sort(&mut keys);
        keys.dedup();
        if !keys.iter().any(|k| k == DEFAULT_KEY) {
            keys.push(DEFAULT_KEY.to_string());
        }
        keys.into_iter()
            .map(|k| view! { <option value=k/> })
            .collect_view()
    };

    view! {
        <div class="fb-widget" data-testid="feedback-widget" on:keydown=choose_by_digit>
            {list}
            <form class="fb-form" on:submit=move |ev| {
                ev.prevent_default();
                submit(None);
            }>
                <div class="fb-form-row">
                    <label class="fb-field fb-key">
                        <span class="fb-label">"Key"</span>
                        <input class="input" name="feedback-key" list=datalist_id.clone()
                            node_ref=key_input placeholder=proposed
                            on:input=move |ev| typed_key.set(event_target_value(&ev))/>
                        <datalist id=datalist_id>{suggestions}</datalist>
                    </label>
                    {move || controls(config.get(), rate, score_input)}
                </div>
                {hint}
                <textarea class="input fb-comment" class:asked=comment_asked name="feedback-comment"
                    rows=move || if comment_asked() { "2" } else { "1" }
                    placeholder=move || if comment_asked() {
                        "Comment (asked for this key: say why)"
                    } else {
                        "Comment (optional)"
                    }
                    node_ref=comment_input></textarea>
            </form>
            {move || error.get().map(|message| view! {
                <div class="fb-error" role="alert" data-testid="feedback-error">
                    <span>{message}</span>
                    <button type="button" class="link-button" on:click=move |_| error.set(None)>"Dismiss"</button>
                </div>
            })}
        </div>
    }
    .into_any()
}

/// A digit pressed in the widget (outside its text fields) clicks that category or step button
/// (`aria-keyshortcuts` on each).
/// What an input holds, trimmed (nothing before it is mounted).
fn typed(input: NodeRef<html::Input>) -> String {
    input
        .get_untracked()
        .map(|i| i.value().trim().to_string())
        .unwrap_or_default()
}

fn choose_by_digit(ev: leptos::ev::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return;
    }
    let key = ev.key();
    let Some(n) = key
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=9).contains(n) && key.len() == 1)
    else {
        return;
    };
    let Some(target) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    if matches!(
        target.tag_name().to_ascii_uppercase().as_str(),
        "INPUT" | "TEXTAREA" | "SELECT"
    ) {
        return;
    }
    let Some(widget) = target.closest(".fb-widget").ok().flatten() else {
        return;
    };
    let button = widget
        .query_selector(&format!(".fb-choices .fb-choice:nth-of-type({n})"))
        .ok()
        .flatten();
    if let Some(button) = button.and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok()) {
        button.click();
        ev.prevent_default();
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    Viewing,
    Confirming,
    Editing,
}

/// One record: key, score, comment, source and age; edit and delete.
pub fn row(
    item: Item,
    mode: Mode,
    store: TraceFeedback,
    error: RwSignal<Option<String>>,
    editing: RwSignal<Option<String>>,
    confirming: RwSignal<Option<String>>,
) -> impl IntoView {
    let record = item.record;
    let pending = item.pending;
    let id = StoredValue::new(record.id.clone());
    let body = match mode {
        Mode::Editing => {
            let score_input = NodeRef::<html::Input>::new();
            let comment_input = NodeRef::<html::Input>::new();
            let save = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let score = match typed(score_input) {
                    empty if empty.is_empty() => None,
                    text => match parse_score(&text) {
                        Some(v) => Some(v),
                        None => {
                            error.set(Some("The score must be a number.".into()));
                            return;
                        }
                    },
                };
                let comment = typed(comment_input);
                error.set(None);
                editing.set(None);
                store.update(
                    id.get_value(),
                    FeedbackUpdate {
                        score,
                        comment: Some(comment),
                        ..FeedbackUpdate::default()
                    },
                    move |message| {
                        error.try_set(Some(message));
                    },
                );
            };
            let score = record.score.map(js_number_text).unwrap_or_default();
            let comment = record.comment.clone().unwrap_or_default();
            view! {
                <form class="fb-edit" on:submit=save>
                    <input class="input" name="edit-score" type="text" inputmode="decimal"
                        aria-label="Score" value=score node_ref=score_input/>
                    <input class="input fb-edit-comment" name="edit-comment" aria-label="Comment"
                        placeholder="Comment" value=comment node_ref=comment_input/>
                    <button type="submit" class="button">"Save"</button>
                    <button type="button" class="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                </form>
            }
            .into_any()
        }
        _ => {
            let clock = use_clock();
            let modified = record.modified_ms;
            let actions = match (pending, mode) {
                (true, _) => None,
                (false, Mode::Confirming) => Some(
                    view! {
                        <span class="fb-confirm">"Delete?"</span>
                        <button type="button" class="link-button danger" name="confirm-delete"
                            on:click=move |_| {
                                confirming.set(None);
                                error.set(None);
                                store.delete(id.get_value(), move |message| {
                                    error.try_set(Some(message));
                                });
                            }>"Yes"</button>
                        <button type="button" class="link-button"
                            on:click=move |_| confirming.set(None)>"No"</button>
                    }
                    .into_any(),
                ),
                (false, _) => Some(
                    view! {
                        <span class="muted">{move || text::relative(modified, clock.get())}</span>
                        <button type="button" class="link-button" name="edit-feedback"
                            on:click=move |_| editing.set(Some(id.get_value()))>"Edit"</button>
                        <button type="button" class="link-button danger" name="delete-feedback"
                            on:click=move |_| confirming.set(Some(id.get_value()))>"Delete"</button>
                    }
                    .into_any(),
                ),
            };
            let source = match (&record.reviewer, pending) {
                (_, true) => "saving…".to_string(),
                // A queue's rating says who gave it.
                (Some(reviewer), false) => format!("{} by {reviewer} · ", record.source),
                (None, false) => format!("{} · ", record.source),
            };
            // A category's label beside its score, for a key with a config.
            let shown_score = match (store.config(&record.key), record.score) {
                (Some(c), Some(s)) if !matches!(c.kind, ScoreKind::Numeric { .. }) => {
                    format!("{} ({})", c.kind.label(s), score_text(Some(s)))
                }
                _ => score_text(record.score),
            };
            let comment = record.comment.clone().map(|c| {
                view! { <span class="fb-comment-text" title=c.clone()>{c.clone()}</span> }
            });
            view! {
                <div class="fb-item-main">
                    <span class="fb-key-name">{record.key.clone()}</span>
                    <span class="fb-score-value" data-testid="feedback-score">{shown_score}</span>
                    {comment}
                </div>
                <div class="fb-item-meta">
                    <span class="muted">{source}</span>
                    {actions}
                </div>
            }
            .into_any()
        }
    };
    view! {
        <li class="fb-item" class:pending=pending data-feedback-id=record.id.clone()>{body}</li>
    }
}
