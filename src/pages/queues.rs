//! `/queues`: the project's annotation queues with their progress, and a form that makes one
//! (a name, the score keys to collect, optionally the traces of a trace-list link). Each queue
//! opens its review page (`queue_review`).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_location;
use skein_model::queue::{check_new_queue, AddItems, NewQueue, Queue, QueueList};
use skein_model::ScoreConfigList;

use super::pairwise_queues::PairwiseQueues;
use crate::api::{self, ApiError};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::links;

/// Done and skipped items as a share of all, in percent.
pub fn progress_percent(queue: &Queue) -> f64 {
    match queue.counts.total {
        0 => 0.0,
        total => queue.counts.finished() as f64 * 100.0 / total as f64,
    }
}

/// A progress bar with its numbers.
pub fn progress_bar(queue: &Queue) -> impl IntoView {
    let c = queue.counts;
    let percent = progress_percent(queue);
    view! {
        <div class="queue-progress" data-testid="queue-progress">
            <div class="queue-bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=format!("{percent:.0}")>
                <div class="queue-bar-done" style=format!("width: {percent:.1}%")></div>
            </div>
            <span class="muted">{format!("{} of {} done", c.finished(), c.total)}
                {(c.skipped > 0).then(|| format!(" ({} skipped)", c.skipped))}
                {(c.in_progress > 0).then(|| format!(" · {} in review", c.in_progress))}
            </span>
        </div>
    }
}

/// The trace-list query of a trace-list link (`/traces?name=x` → `name=x`), or what was typed.
pub(super) fn list_query(text: &str) -> String {
    let text = text.trim();
    match text.split_once('?') {
        Some((_, query)) => query.to_string(),
        None => text.to_string(),
    }
}

#[component]
pub fn QueuesPage() -> impl IntoView {
    let location = use_location();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let list = RwSignal::new(None::<Result<QueueList, ApiError>>);
    let configs = RwSignal::new(ScoreConfigList::default());
    let reload = move || {
        let project = project.get_untracked();
        spawn_local(async move {
            let result = api::queues(&project).await;
            list.try_set(Some(result));
            if let Ok(c) = api::score_configs(&project).await {
                configs.try_set(c);
            }
        });
    };
    Effect::new(move |_| {
        project.track();
        reload();
    });

    let name = RwSignal::new(String::new());
    let keys = RwSignal::new(String::new());
    let traces = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = NewQueue {
            name: name.get_untracked(),
            score_keys: keys
                .get_untracked()
                .split(',')
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect(),
            ..NewQueue::default()
        };
        if let Err(message) = check_new_queue(&new) {
            error.set(Some(message));
            return;
        }
        let query = list_query(&traces.get_untracked());
        error.set(None);
        saving.set(true);
        let project = project.get_untracked();
        spawn_local(async move {
            let result = match api::create_queue(&project, &new).await {
                Ok(queue) if !query.is_empty() => {
                    let add = AddItems {
                        query: Some(query),
                        ..AddItems::default()
                    };
                    api::add_to_queue(&project, &queue.id, &add).await.map(drop)
                }
                other => other.map(drop),
            };
            saving.try_set(false);
            match result {
                Ok(()) => {
                    name.try_set(String::new());
                    traces.try_set(String::new());
                    reload();
                }
                Err(e) => {
                    error.try_set(Some(format!("Couldn't create the queue: {}", e.detail())));
                    reload();
                }
            }
        });
    };

    let table = move || {
        match list.get() {
        None => view! { <p class="muted">"Loading queues…"</p> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner title=e.title() detail=e.detail()/> }.into_any(),
        Some(Ok(l)) if l.queues.is_empty() => view! {
            <EmptyState title="No annotation queues yet">
                <p>"A queue sets runs aside for people to rate one after the other, with the score keys you choose. Create one below."</p>
            </EmptyState>
        }
        .into_any(),
        Some(Ok(l)) => {
            let project = project.get_untracked();
            let rows = l
                .queues
                .into_iter()
                .map(|q| {
                    let href = links::queue(&project, &q.id);
                    view! {
                        <tr data-queue-id=q.id.clone()>
                            <td><a href=href>{q.name.clone()}</a></td>
                            <td class="queue-keys">{q.score_keys.join(", ")}</td>
                            <td>{progress_bar(&q)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <div class="table-wrap">
                    <table class="data-table queue-table" data-testid="queues">
                        <thead><tr><th>"Queue"</th><th>"Score keys"</th><th>"Progress"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }
    }
    };
    let key_hint = move || {
        let keys: Vec<String> = configs.with(|c| c.configs.iter().map(|c| c.key.clone()).collect());
        if keys.is_empty() {
            "Comma-separated feedback keys, e.g. correctness".to_string()
        } else {
            format!("Configured: {}", keys.join(", "))
        }
    };

    view! {
        <div class="page queues-page">
            <div class="page-head">
                <h1>"Annotation queues"</h1>
                <span class="result-count">{move || format!("project {}", project.get())}</span>
            </div>
            {table}
            <form class="panel queue-form" data-testid="queue-form" on:submit=create>
                <h2>"New queue"</h2>
                <label class="fb-field">
                    <span class="fb-label">"Name"</span>
                    <input class="input" name="queue-name" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label class="fb-field">
                    <span class="fb-label">"Score keys"</span>
                    <input class="input" name="queue-keys" placeholder=key_hint
                        prop:value=move || keys.get()
                        on:input=move |ev| keys.set(event_target_value(&ev))/>
                </label>
                <label class="fb-field">
                    <span class="fb-label">"Traces (a trace-list link or its filters, optional)"</span>
                    <input class="input" name="queue-traces" placeholder="/traces?name=checkout&status=error"
                        prop:value=move || traces.get()
                        on:input=move |ev| traces.set(event_target_value(&ev))/>
                </label>
                <button type="submit" class="button primary" name="create-queue"
                    disabled=move || saving.get()>"Create queue"</button>
                {move || error.get().map(|message| view! {
                    <div class="fb-error" role="alert" data-testid="queue-error"><span>{message}</span></div>
                })}
            </form>
            <PairwiseQueues project=project/>
        </div>
    }
}
