//! `/queues`: the project's annotation queues with their progress, and a form that makes one
//! (a name, the score keys to collect, how many reviewers rate each item, optionally the traces
//! of a trace-list link, all or a random sample, balanced across a tag's values). Each queue
//! opens its review page (`queue_review`).

mod form;
mod pairwise;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_location;
use skein_model::queue::{check_new_queue, NewQueue, QueueCounts, Sample};
use skein_model::ScoreConfigList;

use crate::api;
use crate::app;
use crate::components::remote::Remote;
use crate::links;
use form::{field, project_list, queue_table, CreateForm, Kind};
use pairwise::PairwiseQueues;

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
fn list_query(text: &str) -> String {
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
    let (list, reload) = project_list(
        project,
        |project| async move { api::queues(&project).await },
    );
    // A queue to open is on screen: its review page's code is fetched ahead of the click.
    Effect::new(move |_| {
        if list
            .state
            .with(|s| matches!(s, Remote::Ready(l) if !l.queues.is_empty()))
        {
            app::prefetch(app::load_queue_review);
        }
    });
    let configs = RwSignal::new(ScoreConfigList::default());
    Effect::new(move |_| {
        let project = project.get();
        spawn_local(async move {
            if let Ok(c) = api::score_configs(&project).await {
                configs.try_set(c);
            }
        });
    });

    let name = RwSignal::new(String::new());
    let keys = RwSignal::new(String::new());
    let traces = RwSignal::new(String::new());
    let reviews = RwSignal::new(String::from("1"));
    let sample_size = RwSignal::new(String::new());
    let balance_by = RwSignal::new(String::new());
    let form = CreateForm::new(reload);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = new_queue(
            &name.get_untracked(),
            &keys.get_untracked(),
            &traces.get_untracked(),
            reviews.get_untracked().trim(),
            sample_size.get_untracked().trim(),
            balance_by.get_untracked().trim(),
        );
        let project = project.get_untracked();
        form.send(
            new,
            move |new| async move { api::create_queue(&project, &new).await },
            vec![name, traces, sample_size, balance_by],
        );
    };

    let table = move || {
        list.state.get().view("Loading queues…", |l| {
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
                .collect();
            let head = view! {
                <th>"Queue"</th><th>"Score keys"</th>
                <th class="col-num" title="Different reviewers who rate each item">"Reviewers"</th>
                <th>"Progress"</th>
            };
            let empty = (
                "No annotation queues yet",
                "A queue sets runs aside for people to rate one after the other, with the score keys you choose. Create one below.",
            );
            queue_table("queues", head, rows, empty)
        })
    };
    let key_hint = move || {
        let keys: Vec<String> = configs.with(|c| c.configs.iter().map(|c| c.key.clone()).collect());
        if keys.is_empty() {
            "Comma-separated feedback keys, e.g. correctness".to_string()
        } else {
            format!("Configured: {}", keys.join(", "))
        }
    };
    let number = |min, max| Kind::Number { min, max };

    view! {
        <div class="page queues-page">
            <div class="page-head">
                <h1>"Annotation queues"</h1>
                <span class="result-count">{move || format!("project {}", project.get())}</span>
            </div>
            {table}
            <form class="panel queue-form" data-testid="queue-form" on:submit=create>
                <h2>"New queue"</h2>
                {field("Name", "queue-name", "", Kind::Text, name)}
                {field("Score keys", "queue-keys", Signal::derive(key_hint), Kind::Text, keys)}
                {field("Traces (a trace-list link or its filters, optional)", "queue-traces",
                    "/traces?name=checkout&status=error", Kind::Text, traces)}
                <div class="queue-form-row">
                    {field("Reviewers per item", "queue-reviews", "", number("1", Some("20")), reviews)}
                    {field("Sample size (optional)", "queue-sample", "all", number("1", None), sample_size)}
                    {field("Balance by tag (optional)", "queue-balance", "ab_test_variant", Kind::Text, balance_by)}
                </div>
                <button type="submit" class="button primary" name="create-queue"
                    disabled=move || form.saving.get()>"Create queue"</button>
                {form.error_note("queue-error")}
            </form>
            <PairwiseQueues project=project/>
        </div>
    }
}

/// The queue the form describes, or why it is refused.
fn new_queue(
    name: &str,
    keys: &str,
    traces: &str,
    reviews: &str,
    sample_size: &str,
    balance_by: &str,
) -> Result<NewQueue, String> {
    let number = |text: &str, what: &str| match text.parse::<u32>() {
        Ok(n) => Ok(Some(n)),
        Err(_) if text.is_empty() => Ok(None),
        Err(_) => Err(format!("{what} is a whole number")),
    };
    let reviews_per_item = number(reviews, "Reviewers per item")?;
    let size = number(sample_size, "The sample's size")?;
    let query = list_query(traces);
    let sample = (size.is_some() || !balance_by.is_empty()).then(|| Sample {
        size,
        balance_by: (!balance_by.is_empty()).then(|| balance_by.to_string()),
    });
    let new = NewQueue {
        name: name.to_string(),
        score_keys: keys
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
    check_new_queue(&new)?;
    Ok(new)
}
