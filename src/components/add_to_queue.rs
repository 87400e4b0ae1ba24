//! "Add to queue": a button that opens a small panel to put runs into an existing annotation
//! queue: the trace a trace page shows, the traces a trace list's filters select, or the spans
//! the spans page's filter selects (the panel says how many before anything is added, at most
//! `queue::MAX_ADD` of them).

use leptos::prelude::*;
use leptos::task::spawn_local;
use skein_model::queue::{AddItems, Added, QueueList, MAX_ADD};

use crate::api::{self, ApiError};
use crate::links;
use crate::text;

/// What the button adds.
#[derive(Clone, PartialEq)]
pub enum QueueRuns {
    /// One trace.
    Trace(String),
    /// The traces of a trace-list query (its query string), `total` of them.
    Selected { query: String, total: Option<u64> },
    /// The spans of a span-list query (its query string), `total` of them.
    Spans { query: String, total: Option<u64> },
}

impl QueueRuns {
    fn request(&self) -> AddItems {
        match self {
            QueueRuns::Trace(id) => AddItems {
                trace_ids: vec![id.clone()],
                ..AddItems::default()
            },
            QueueRuns::Selected { query, .. } => AddItems {
                query: Some(query.clone()),
                limit: Some(MAX_ADD as u32),
                ..AddItems::default()
            },
            QueueRuns::Spans { query, .. } => AddItems {
                span_query: Some(query.clone()),
                limit: Some(MAX_ADD as u32),
                ..AddItems::default()
            },
        }
    }

    /// What one and several of the runs are called.
    fn nouns(&self) -> (&'static str, &'static str) {
        match self {
            QueueRuns::Trace(_) | QueueRuns::Selected { .. } => ("trace", "traces"),
            QueueRuns::Spans { .. } => ("span", "spans"),
        }
    }

    /// What the confirm button says.
    fn what(&self) -> String {
        let total = match self {
            QueueRuns::Trace(_) => return "Add this trace".into(),
            QueueRuns::Selected { total, .. } | QueueRuns::Spans { total, .. } => *total,
        };
        let (one, many) = self.nouns();
        match total {
            Some(n) if n > MAX_ADD as u64 => format!(
                "Add the first {} of {}",
                text::thousands(MAX_ADD as u64),
                text::plural(n, one, many)
            ),
            Some(n) => format!("Add {}", text::plural(n, one, many)),
            None => format!("Add the selected {many}"),
        }
    }
}

#[derive(Clone)]
enum Outcome {
    Added(String, Added),
    Failed(String),
}

#[component]
pub fn AddToQueue(
    #[prop(into)] project: Signal<String>,
    /// Read when the panel opens and when confirmed (a list's current filters and count).
    #[prop(into)]
    runs: Signal<QueueRuns>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let queues = RwSignal::new(None::<Result<QueueList, ApiError>>);
    let chosen = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Outcome>);
    let busy = RwSignal::new(false);
    let toggle = move |_| {
        let opening = !open.get_untracked();
        open.set(opening);
        outcome.set(None);
        if opening {
            let project = project.get_untracked();
            spawn_local(async move {
                let list = api::queues(&project).await;
                if let Ok(l) = &list {
                    if let Some(first) = l.queues.first() {
                        chosen.try_update(|c| {
                            if c.is_empty() || !l.queues.iter().any(|q| q.id == *c) {
                                *c = first.id.clone();
                            }
                        });
                    }
                }
                queues.try_set(Some(list));
            });
        }
    };
    let confirm = move |_| {
        let id = chosen.get_untracked();
        if id.is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (project, add) = (project.get_untracked(), runs.get_untracked().request());
        spawn_local(async move {
            let result = api::add_to_queue(&project, &id, &add).await;
            busy.try_set(false);
            outcome.try_set(Some(match result {
                Ok(added) => Outcome::Added(id, added),
                Err(e) => Outcome::Failed(e.detail()),
            }));
        });
    };

    let panel = move || {
        let body = match queues.get() {
            None => view! { <p class="muted">"Loading queues…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="fb-error" role="alert">{e.detail()}</p> }.into_any(),
            Some(Ok(l)) if l.queues.is_empty() => view! {
                <p class="muted">"No queue yet. "
                    <a href=links::queues(&project.get_untracked())>"Create one"</a>" first."</p>
            }
            .into_any(),
            Some(Ok(l)) => {
                let options = l
                    .queues
                    .into_iter()
                    .map(|q| {
                        let id = q.id.clone();
                        let selected = move || chosen.get() == id;
                        view! { <option value=q.id.clone() selected=selected>{q.name.clone()}</option> }
                    })
                    .collect_view();
                view! {
                    <label class="fb-field">
                        <span class="fb-label">"Queue"</span>
                        <select class="input" name="add-to-queue-queue"
                            on:change=move |ev| chosen.set(event_target_value(&ev))>{options}</select>
                    </label>
                    <button type="button" class="button primary" name="add-to-queue-confirm"
                        disabled=move || busy.get() on:click=confirm>{move || runs.get().what()}</button>
                }
                .into_any()
            }
        };
        let result = move || {
            outcome.get().map(|o| match o {
                Outcome::Added(id, added) => {
                    let (one, many) = runs.with_untracked(QueueRuns::nouns);
                    let href = links::queue(&project.get_untracked(), &id);
                    let already = (added.already_queued > 0)
                        .then(|| format!(" ({} already queued)", added.already_queued));
                    view! {
                        <p class="add-to-queue-done" role="status" data-testid="add-to-queue-done">
                            {format!("Added {}", text::plural(added.added, one, many))}
                            {already}" · "<a href=href>"Open the queue"</a>
                        </p>
                    }
                    .into_any()
                }
                Outcome::Failed(why) => view! {
                    <p class="fb-error" role="alert">{format!("Couldn't add: {why}")}</p>
                }
                .into_any(),
            })
        };
        view! {
            <div class="panel add-to-queue-panel" data-testid="add-to-queue-panel">
                {body}
                {result}
            </div>
        }
    };

    view! {
        <div class="add-to-queue">
            <button type="button" class="button" data-testid="add-to-queue"
                aria-expanded=move || open.get().to_string() on:click=toggle
                title="Put these runs into an annotation queue for people to rate">"Add to queue"</button>
            {move || open.get().then(panel)}
        </div>
    }
}
