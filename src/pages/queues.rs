//! `/queues`: the project's annotation queues with their progress, and a form that makes one
//! (a name, the score keys to collect, how many reviewers rate each item, optionally the traces
//! of a trace-list link, all or a random sample, balanced across a tag's values). Each queue
//! opens its review page (`queue_review`).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_location;
use skein_model::queue::{check_new_queue, NewQueue, QueueCounts, QueueList, Sample};
use skein_model::ScoreConfigList;

use super::pairwise_queues::PairwiseQueues;
use crate::api::{self, ApiError};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::links;

/// Done and skipped items as a share of all, in percent.
pub fn progress_percent(c: &QueueCounts) -> f64 {
    match c.total {
        0 => 0.0,
        total => c.finished() as f64 * 100.0 / total as f64,
    }
}

/// A progress bar with its numbers.
pub fn progress_bar(c: QueueCounts) -> impl IntoView {
    let percent = progress_percent(&c);
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
    let reviews = RwSignal::new(String::from("1"));
    let sample_size = RwSignal::new(String::new());
    let balance_by = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let query = list_query(&traces.get_untracked());
        let size = sample_size.get_untracked().trim().to_string();
        let balance = balance_by.get_untracked().trim().to_string();
        let number = |text: &str, what: &str| match text.parse::<u32>() {
            Ok(n) => Ok(Some(n)),
            Err(_) if text.is_empty() => Ok(None),
            Err(_) => Err(format!("{what} is a whole number")),
        };
        let (reviews_per_item, size) = match (
            number(reviews.get_untracked().trim(), "Reviewers per item"),
            number(&size, "The sample's size"),
        ) {
            (Ok(r), Ok(s)) => (r, s),
            (Err(e), _) | (_, Err(e)) => {
                error.set(Some(e));
                return;
            }
        };
        let sample = (size.is_some() || !balance.is_empty()).then(|| Sample {
            size,
            balance_by: (!balance.is_empty()).then_some(balance),
        });
        let new = NewQueue {
            name: name.get_untracked(),
            score_keys: keys
                .get_untracked()
                .split(',')
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect(),
            reviews_per_item,
            // Without a link the queue starts empty; with a sample, an empty link samples all.
            query: (!query.is_empty() || sample.is_some()).then_some(query),
            sample,
            ..NewQueue::default()
        };
        if let Err(message) = check_new_queue(&new) {
            error.set(Some(message));
            return;
        }
        error.set(None);
        saving.set(true);
        let project = project.get_untracked();
        spawn_local(async move {
            let result = api::create_queue(&project, &new).await;
            saving.try_set(false);
            match result {
                Ok(_) => {
                    name.try_set(String::new());
                    traces.try_set(String::new());
                    sample_size.try_set(String::new());
                    balance_by.try_set(String::new());
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
                            <td class="col-num">{q.reviews_per_item}</td>
                            <td>{progress_bar(q.counts)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <div class="table-wrap">
                    <table class="data-table queue-table" data-testid="queues">
                        <thead><tr><th>"Queue"</th><th>"Score keys"</th><th class="col-num" title="Different reviewers who rate each item">"Reviewers"</th><th>"Progress"</th></tr></thead>
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
                <div class="queue-form-row">
                    <label class="fb-field">
                        <span class="fb-label">"Reviewers per item"</span>
                        <input class="input" name="queue-reviews" type="number" min="1" max="20"
                            prop:value=move || reviews.get()
                            on:input=move |ev| reviews.set(event_target_value(&ev))/>
                    </label>
                    <label class="fb-field">
                        <span class="fb-label">"Sample size (optional)"</span>
                        <input class="input" name="queue-sample" type="number" min="1" placeholder="all"
                            prop:value=move || sample_size.get()
                            on:input=move |ev| sample_size.set(event_target_value(&ev))/>
                    </label>
                    <label class="fb-field">
                        <span class="fb-label">"Balance by tag (optional)"</span>
                        <input class="input" name="queue-balance" placeholder="ab_test_variant"
                            prop:value=move || balance_by.get()
                            on:input=move |ev| balance_by.set(event_target_value(&ev))/>
                    </label>
                </div>
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
