//! The pairwise part of `/queues`: the project's blind pairwise review queues with their
//! progress, and a form that makes one from two cohorts (each a trace-list link or its
//! filters, e.g. `tag=ab_test_variant=A`) and a number of pairs. Each queue opens its review
//! page (`pairwise_review`); its results are on `/metrics`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use skein_model::pairwise_queue::{
    check_new_queue, cohort_label, NewPairwiseQueue, PairwiseQueueList, DEFAULT_PAIRS,
};

use super::queues::{list_query, progress_bar};
use crate::api::{self, ApiError};
use crate::components::error_banner::ErrorBanner;
use crate::links;

#[component]
pub fn PairwiseQueues(project: Memo<String>) -> impl IntoView {
    let list = RwSignal::new(None::<Result<PairwiseQueueList, ApiError>>);
    let reload = move || {
        let project = project.get_untracked();
        spawn_local(async move {
            list.try_set(Some(api::pairwise_queues(&project).await));
        });
    };
    Effect::new(move |_| {
        project.track();
        reload();
    });

    let name = RwSignal::new(String::new());
    let cohort_a = RwSignal::new(String::new());
    let cohort_b = RwSignal::new(String::new());
    let pairs = RwSignal::new(DEFAULT_PAIRS.to_string());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let count = pairs.get_untracked().trim().parse::<u32>().ok();
        let new = NewPairwiseQueue {
            name: name.get_untracked(),
            description: String::new(),
            cohort_a: list_query(&cohort_a.get_untracked()),
            cohort_b: list_query(&cohort_b.get_untracked()),
            pairs: count.or(Some(0)),
        };
        if let Err(message) = check_new_queue(&new) {
            error.set(Some(message));
            return;
        }
        error.set(None);
        saving.set(true);
        let project = project.get_untracked();
        spawn_local(async move {
            let result = api::create_pairwise_queue(&project, &new).await;
            saving.try_set(false);
            match result {
                Ok(_) => {
                    name.try_set(String::new());
                    reload();
                }
                Err(e) => {
                    error.try_set(Some(format!("Couldn't create the queue: {}", e.detail())));
                }
            }
        });
    };

    let table = move || {
        match list.get() {
        None => view! { <p class="muted">"Loading pairwise queues…"</p> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner title=e.title() detail=e.detail()/> }.into_any(),
        Some(Ok(l)) if l.queues.is_empty() => view! {
            <p class="muted">"No pairwise queues yet. A pairwise queue shows a run of cohort A and one of cohort B side by side, sides shuffled and cohorts hidden, and asks which is better."</p>
        }
        .into_any(),
        Some(Ok(l)) => {
            let project = project.get_untracked();
            let rows = l
                .queues
                .into_iter()
                .map(|q| {
                    let href = links::pairwise(&project, &q.id);
                    view! {
                        <tr data-pairwise-id=q.id.clone()>
                            <td><a href=href>{q.name.clone()}</a></td>
                            <td class="queue-keys">{cohort_label(&q.cohort_a)}</td>
                            <td class="queue-keys">{cohort_label(&q.cohort_b)}</td>
                            <td>{progress_bar(q.counts)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <div class="table-wrap">
                    <table class="data-table queue-table" data-testid="pairwise-queues">
                        <thead><tr><th>"Queue"</th><th>"Cohort A"</th><th>"Cohort B"</th><th>"Progress"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }
    }
    };

    let field = |label: &'static str,
                 field_name: &'static str,
                 placeholder: &'static str,
                 value: RwSignal<String>| {
        view! {
            <label class="fb-field">
                <span class="fb-label">{label}</span>
                <input class="input" name=field_name placeholder=placeholder
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
        }
    };

    view! {
        <section class="pairwise-queues">
            <h2 class="pw-heading">"Blind pairwise review"</h2>
            {table}
            <form class="panel queue-form" data-testid="pairwise-form" on:submit=create>
                <h2>"New pairwise queue"</h2>
                {field("Name", "pairwise-name", "Variant B vs A", name)}
                {field("Cohort A (a trace-list link or its filters)", "pairwise-a", "/traces?tag=ab_test_variant%3DA", cohort_a)}
                {field("Cohort B", "pairwise-b", "/traces?tag=ab_test_variant%3DB", cohort_b)}
                {field("Pairs", "pairwise-pairs", "100", pairs)}
                <p class="muted fb-hint">"Pairs are matched on the same input, else on shared tags, else drawn at random."</p>
                <button type="submit" class="button primary" name="create-pairwise"
                    disabled=move || saving.get()>"Create pairwise queue"</button>
                {move || error.get().map(|message| view! {
                    <div class="fb-error" role="alert" data-testid="pairwise-error"><span>{message}</span></div>
                })}
            </form>
        </section>
    }
}
