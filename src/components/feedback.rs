//! Feedback from the browser: rate a span (a run) with thumbs up/down or a score, under a key,
//! with an optional comment; list, edit and delete what is there; badges on spans.
//!
//! A trace's feedback lives in one `TraceFeedback` store (`GET /api/v1/feedback?trace_id=`),
//! provided as context by the trace page, so that the rating widget and the badges in the tree
//! show the same records. Changes are optimistic: a new, edited or deleted record shows at once
//! and is rolled back, with a visible error, if the collector refuses or cannot be reached.
//! Records posted by code (`create_feedback(...)`) and by the browser are the same records and
//! show the same way; the browser's carry `source: "app"`.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use skein_model::format::trimmed;
use skein_model::sort;
use skein_model::trace::FeedbackStat;
use skein_model::{Feedback, FeedbackUpdate, NewFeedback};

use crate::api::{self, ApiError};
use crate::text;
use crate::time::{now_ms, use_clock};

/// The key proposed when the project has no feedback yet.
const DEFAULT_KEY: &str = "user_satisfaction";

/// A typed score: what Rust's `str::parse::<f64>` reads, when finite. On the web the browser's
/// `Number()` converts the checked text (both round a decimal correctly), which keeps core's
/// float parser and its tables out of the trace page's wasm.
fn parse_score(text: &str) -> Option<f64> {
    if !is_decimal(text) {
        return None;
    }
    let value = js_number(text);
    value.is_finite().then_some(value)
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Number)]
    fn js_number(text: &str) -> f64;
    /// The shortest text that reads back as the same number (`0.1`, `1e+21`), which
    /// `parse_score` accepts; `f64::to_string` would pull core's float formatting in.
    #[wasm_bindgen(js_name = String)]
    fn js_number_text(value: f64) -> String;
}

/// Rust's decimal float syntax: `[+-]digits[.digits][(e|E)[+-]digits]`, with digits on at
/// least one side of the point (`inf` and `NaN` are not finite scores, so not accepted).
fn is_decimal(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let mut mantissa = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A record as the page holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub record: Feedback,
    /// Sent, not yet confirmed by the collector.
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    Loading,
    Ready,
    Failed(ApiError),
}

/// The feedback of one trace, shared by the widget and the badges.
#[derive(Clone, Copy)]
pub struct TraceFeedback {
    project: StoredValue<String>,
    trace_id: StoredValue<String>,
    pub items: RwSignal<Vec<Item>>,
    pub loaded: RwSignal<Loaded>,
    next_temp: StoredValue<u64>,
}

impl TraceFeedback {
    /// Creates the store for a trace, loads it, and provides it as context.
    pub fn provide(project: String, trace_id: String) -> TraceFeedback {
        let store = TraceFeedback {
            project: StoredValue::new(project),
            trace_id: StoredValue::new(trace_id),
            items: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(Loaded::Loading),
            next_temp: StoredValue::new(0),
        };
        store.reload();
        provide_context(store);
        store
    }

    pub fn from_context() -> Option<TraceFeedback> {
        use_context::<TraceFeedback>()
    }

    /// (Re)loads the trace's feedback; records still being saved are kept.
    pub fn reload(self) {
        let (project, trace_id) = (self.project.get_value(), self.trace_id.get_value());
        spawn_local(async move {
            match api::trace_feedback(&project, &trace_id).await {
                Ok(list) => {
                    self.items.try_update(|items| {
                        let pending: Vec<Item> = items.drain(..).filter(|i| i.pending).collect();
                        items.extend(list.into_iter().map(|record| Item {
                            record,
                            pending: false,
                        }));
                        items.extend(pending);
                    });
                    self.loaded.try_set(Loaded::Ready);
                }
                Err(e) => {
                    self.loaded.try_set(Loaded::Failed(e));
                }
            }
        });
    }

    /// The records on one span, oldest first (reactive).
    pub fn for_span(&self, span_id: &str) -> Vec<Item> {
        self.items.with(|items| {
            items
                .iter()
                .filter(|i| i.record.run_id.eq_ignore_ascii_case(span_id))
                .cloned()
                .collect()
        })
    }

    /// The keys used in this trace (reactive).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .items
            .with(|items| items.iter().map(|i| i.record.key.clone()).collect());
        sort::sort(&mut keys);
        keys.dedup();
        keys
    }

    /// Saves a new record: shown at once, replaced by the stored one, or removed again with
    /// `on_error` told why.
    pub fn create(self, new: NewFeedback, on_error: impl Fn(String) + 'static) {
        let n = self.next_temp.get_value() + 1;
        self.next_temp.set_value(n);
        let temp_id = format!("pending-{n}");
        let now = now_ms();
        let optimistic = Feedback {
            id: temp_id.clone(),
            project: self.project.get_value(),
            run_id: new.run_id.clone(),
            trace_id: new.trace_id.clone(),
            key: new.key.clone(),
            score: new.score,
            value: new.value.clone(),
            comment: new.comment.clone(),
            correction: None,
            source: new.source.clone().unwrap_or_else(|| "app".into()),
            created_ms: now,
            modified_ms: now,
        };
        self.items.update(|items| {
            items.push(Item {
                record: optimistic,
                pending: true,
            })
        });
        let project = self.project.get_value();
        spawn_local(async move {
            let result = api::create_feedback(&project, &new).await;
            self.items.try_update(|items| {
                let at = items.iter().position(|i| i.record.id == temp_id);
                match (&result, at) {
                    (Ok(saved), Some(at)) => {
                        items[at] = Item {
                            record: saved.clone(),
                            pending: false,
                        }
                    }
                    (Err(_), Some(at)) => {
                        items.remove(at);
                    }
                    _ => {}
                }
            });
            if let Err(e) = result {
                on_error(describe("Couldn't save the feedback", &e));
            }
        });
    }

    /// Changes a record: shown at once, rolled back on failure.
    pub fn update(self, id: String, update: FeedbackUpdate, on_error: impl Fn(String) + 'static) {
        let Some(before) = self
            .items
            .with_untracked(|items| items.iter().find(|i| i.record.id == id).cloned())
        else {
            return;
        };
        let mut changed = before.record.clone();
        if let Some(key) = &update.key {
            changed.key = key.clone();
        }
        if update.score.is_some() {
            changed.score = update.score;
        }
        if let Some(comment) = &update.comment {
            changed.comment = (!comment.is_empty()).then(|| comment.clone());
        }
        self.replace(&id, changed, true);
        let project = self.project.get_value();
        spawn_local(async move {
            match api::update_feedback(&project, &id, &update).await {
                Ok(saved) => self.replace(&id, saved, false),
                Err(e) => {
                    self.replace(&id, before.record, false);
                    on_error(describe("Couldn't change the feedback", &e));
                }
            }
        });
    }

    /// Deletes a record: gone at once, back on failure.
    pub fn delete(self, id: String, on_error: impl Fn(String) + 'static) {
        let Some((at, before)) = self.items.with_untracked(|items| {
            items
                .iter()
                .position(|i| i.record.id == id)
                .map(|at| (at, items[at].clone()))
        }) else {
            return;
        };
        self.items.update(|items| {
            items.remove(at);
        });
        let project = self.project.get_value();
        spawn_local(async move {
            // A record that is already gone is what we wanted.
            match api::delete_feedback(&project, &id).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    self.items.try_update(|items| {
                        let at = at.min(items.len());
                        items.insert(at, before);
                    });
                    on_error(describe("Couldn't delete the feedback", &e));
                }
            }
        });
    }

    fn replace(&self, id: &str, record: Feedback, pending: bool) {
        self.items.try_update(|items| {
            if let Some(item) = items.iter_mut().find(|i| i.record.id == id) {
                *item = Item { record, pending };
            }
        });
    }
}

fn describe(what: &str, e: &ApiError) -> String {
    format!("{what}: {} — {}", e.title(), e.detail())
}

/// A score as shown: `1`, `0.5`, `0.82`, `150`, `0.123` (at most three decimals).
pub fn score_text(score: Option<f64>) -> String {
    match score {
        None => "—".into(),
        Some(s) if s.fract() == 0.0 && s.abs() < 1e15 => format!("{}", s as i64),
        Some(s) if s.abs() >= 1e4 => crate::metrics_view::number(s),
        Some(s) => trimmed(s, 3),
    }
}

#[component]
fn ThumbUpIcon() -> impl IntoView {
    view! {
        <svg class="fb-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
            <path d="M5 7v7H2.5A.5.5 0 0 1 2 13.5v-6A.5.5 0 0 1 2.5 7H5zm1 7V7l2.6-4.6a1.2 1.2 0 0 1 2.2.8L10.3 6h3a1.5 1.5 0 0 1 1.5 1.8l-1 5A1.5 1.5 0 0 1 12.3 14H6z"
                fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/>
        </svg>
    }
}

#[component]
fn ThumbDownIcon() -> impl IntoView {
    view! {
        <svg class="fb-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
            <g transform="rotate(180 8 8)">
                <path d="M5 7v7H2.5A.5.5 0 0 1 2 13.5v-6A.5.5 0 0 1 2.5 7H5zm1 7V7l2.6-4.6a1.2 1.2 0 0 1 2.2.8L10.3 6h3a1.5 1.5 0 0 1 1.5 1.8l-1 5A1.5 1.5 0 0 1 12.3 14H6z"
                    fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/>
            </g>
        </svg>
    }
}

#[component]
fn NoteIcon() -> impl IntoView {
    view! {
        <svg class="fb-icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
            <path d="M2.5 3h11a.5.5 0 0 1 .5.5v7a.5.5 0 0 1-.5.5H7l-3 2.5V11H2.5a.5.5 0 0 1-.5-.5v-7a.5.5 0 0 1 .5-.5z"
                fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/>
        </svg>
    }
}

/// A span's feedback as one small badge (for tree rows): thumbs when every score is 0 or 1,
/// else a note glyph; the number of records; the details in the tooltip. Nothing without
/// feedback. Reads the `TraceFeedback` context.
#[component]
pub fn FeedbackBadge(#[prop(into)] span_id: String) -> impl IntoView {
    let store = TraceFeedback::from_context();
    move || {
        let items = store.map(|s| s.for_span(&span_id)).unwrap_or_default();
        if items.is_empty() {
            return None;
        }
        let scores: Vec<f64> = items.iter().filter_map(|i| i.record.score).collect();
        let thumbs = !scores.is_empty() && scores.iter().all(|s| *s == 0.0 || *s == 1.0);
        let ups = scores.iter().filter(|s| **s == 1.0).count();
        let pending = items.iter().any(|i| i.pending);
        let title = items
            .iter()
            .map(|i| {
                let mut line = format!("{}: {}", i.record.key, score_text(i.record.score));
                if let Some(c) = &i.record.comment {
                    line.push_str(&format!(" — {}", text_shorten(c, 60)));
                }
                if i.pending {
                    line.push_str(" (saving…)");
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n");
        let glyph = if thumbs {
            if ups * 2 >= scores.len() {
                view! { <ThumbUpIcon/> }.into_any()
            } else {
                view! { <ThumbDownIcon/> }.into_any()
            }
        } else {
            view! { <NoteIcon/> }.into_any()
        };
        let count = items.len();
        Some(view! {
            <span class="fb-badge" class:pending=pending data-testid="feedback-badge"
                title=title aria-label=format!("{count} feedback")>
                {glyph}
                {(count > 1).then(|| view! { <span class="fb-badge-count">{count}</span> })}
            </span>
        })
    }
}

/// A trace's feedback in the trace list: per key its mean score (or count), at most two keys
/// and "+N"; the full summary in the tooltip.
#[component]
pub fn FeedbackSummary(stats: Vec<FeedbackStat>) -> impl IntoView {
    if stats.is_empty() {
        return view! { <span class="muted">"—"</span> }.into_any();
    }
    let title = stats
        .iter()
        .map(|s| {
            let records = text::plural(s.count, "record", "records");
            match s.mean {
                Some(m) => format!("{}: mean {} over {records}", s.key, score_text(Some(m))),
                None => format!("{}: {records}, no scores", s.key),
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (shown, rest) = text::shown_and_rest(&stats, 2);
    view! {
        <div class="fb-summary" title=title data-testid="feedback-summary">
            {shown
                .into_iter()
                .map(|s| {
                    let value = match s.mean {
                        Some(m) => score_text(Some(m)),
                        None => format!("×{}", s.count),
                    };
                    view! {
                        <span class="fb-stat">
                            <span class="fb-stat-key">{s.key}</span>
                            <span class="fb-stat-value">{value}</span>
                        </span>
                    }
                })
                .collect_view()}
            {(rest > 0).then(|| view! { <span class="more-chip">{format!("+{rest}")}</span> })}
        </div>
    }
    .into_any()
}

fn text_shorten(text: &str, max: usize) -> String {
    crate::svg::shorten(text, max)
}

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
    let span_id = StoredValue::new(span_id);
    // The proposed key: the one this span was rated with last, else the trace's usual key.
    let proposed = move || {
        let keys = store.keys();
        store
            .for_span(&span_id.get_value())
            .pop()
            .map(|i| i.record.key)
            .or_else(|| keys.iter().find(|k| *k == DEFAULT_KEY).cloned())
            .or_else(|| keys.into_iter().next())
            .unwrap_or_else(|| DEFAULT_KEY.to_string())
    };
    let key_input = NodeRef::<html::Input>::new();
    let score_input = NodeRef::<html::Input>::new();
    let comment_input = NodeRef::<html::Textarea>::new();
    let error = RwSignal::new(None::<String>);
    // The record being edited, or waiting for a delete confirmation (by id).
    let editing = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(None::<String>);
    let datalist_id = format!("fb-keys-{}", span_id.get_value());

    let submit = move |score: Option<f64>| {
        let typed = key_input
            .get_untracked()
            .map(|i| i.value())
            .unwrap_or_default();
        let key = match typed.trim() {
            "" => proposed(),
            k => k.to_string(),
        };
        let score = match score {
            Some(s) => s,
            None => {
                let text = score_input
                    .get_untracked()
                    .map(|i| i.value())
                    .unwrap_or_default();
                match parse_score(text.trim()) {
                    Some(v) => v,
                    None => {
                        error.set(Some(
                            "The score must be a number, for example 0.8 or 4.".into(),
                        ));
                        return;
                    }
                }
            }
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
        if !keys.iter().any(|k| k == DEFAULT_KEY) {
            keys.push(DEFAULT_KEY.to_string());
        }
        keys.into_iter()
            .map(|k| view! { <option value=k/> })
            .collect_view()
    };

    view! {
        <div class="fb-widget" data-testid="feedback-widget">
            {list}
            <form class="fb-form" on:submit=move |ev| {
                ev.prevent_default();
                submit(None);
            }>
                <div class="fb-form-row">
                    <label class="fb-field fb-key">
                        <span class="fb-label">"Key"</span>
                        <input class="input" name="feedback-key" list=datalist_id.clone()
                            node_ref=key_input placeholder=proposed/>
                        <datalist id=datalist_id>{suggestions}</datalist>
                    </label>
                    <div class="fb-thumbs" role="group" aria-label="Quick rating">
                        <button type="button" class="button fb-thumb" name="thumbs-up"
                            title="Thumbs up (score 1)" aria-label="Thumbs up"
                            on:click=move |_| submit(Some(1.0))><ThumbUpIcon/></button>
                        <button type="button" class="button fb-thumb" name="thumbs-down"
                            title="Thumbs down (score 0)" aria-label="Thumbs down"
                            on:click=move |_| submit(Some(0.0))><ThumbDownIcon/></button>
                    </div>
                    <span class="muted fb-or">"or"</span>
                    <label class="fb-field fb-score">
                        <span class="fb-label">"Score"</span>
                        // Text, not type=number: a number input reads "" while "0." is typed.
                        <input class="input" name="feedback-score" type="text"
                            inputmode="decimal" placeholder="0.8" node_ref=score_input/>
                    </label>
                    <button type="submit" class="button" name="save-score">"Save score"</button>
                </div>
                <textarea class="input fb-comment" name="feedback-comment" rows="1"
                    placeholder="Comment (optional)" node_ref=comment_input></textarea>
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

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Viewing,
    Confirming,
    Editing,
}

/// One record: key, score, comment, source and age; edit and delete.
fn row(
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
                let score_text = score_input
                    .get_untracked()
                    .map(|i| i.value())
                    .unwrap_or_default();
                let score = match score_text.trim() {
                    "" => None,
                    t => match parse_score(t) {
                        Some(v) => Some(v),
                        None => {
                            error.set(Some("The score must be a number.".into()));
                            return;
                        }
                    },
                };
                let comment = comment_input
                    .get_untracked()
                    .map(|c| c.value().trim().to_string())
                    .unwrap_or_default();
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
            let source = if pending {
                "saving…".to_string()
            } else {
                format!("{} · ", record.source)
            };
            let comment = record.comment.clone().map(|c| {
                view! { <span class="fb-comment-text" title=c.clone()>{c.clone()}</span> }
            });
            view! {
                <div class="fb-item-main">
                    <span class="fb-key-name">{record.key.clone()}</span>
                    <span class="fb-score-value" data-testid="feedback-score">{score_text(record.score)}</span>
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
