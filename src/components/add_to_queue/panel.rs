//! The "Add to queue" panel's code, a wasm chunk of its own (`add_to_queue`, cut by
//! scripts/build-wasm.sh): the project's queues to choose from and the request that adds the
//! runs, loaded when a page's button is first clicked.

use leptos::prelude::*;
use leptos::task::spawn_local;
use skein_model::queue::{Added, QueueList};

use super::QueueRuns;
use crate::api::{self, ApiError};
use crate::links;
use crate::text;

#[derive(Clone)]
enum Outcome {
    Added(String, Added),
    Failed(String),
}

/// The open panel: the project's queues (read as it opens), the one chosen, the outcome.
#[component]
pub fn Panel(project: Signal<String>, runs: Signal<QueueRuns>) -> impl IntoView {
    let queues = RwSignal::new(None::<Result<QueueList, ApiError>>);
    let chosen = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Outcome>);
    let busy = RwSignal::new(false);
    let opened = project.get_untracked();
    spawn_local(async move {
        let list = api::queues(&opened).await;
        if let Ok(l) = &list {
            if let Some(first) = l.queues.first() {
                chosen.try_set(first.id.clone());
            }
        }
        queues.try_set(Some(list));
    });
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

    let body = move || match queues.get() {
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
}
