//! The pairwise part of `/queues`: the project's blind pairwise review queues with their
//! progress, and a form that makes one from two cohorts (each a trace-list link or its
//! filters, e.g. `tag=ab_test_variant=A`) and a number of pairs. Each queue opens its review
//! page (`pairwise_review`); its results are on `/metrics`.

use leptos::prelude::*;
use skein_model::pairwise_queue::{check_new_queue, cohort_label, NewPairwiseQueue, DEFAULT_PAIRS};

use super::form::{field, project_list, queue_table, CreateForm, Kind};
use super::{list_query, progress_bar};
use crate::api;
use crate::app;
use crate::components::remote::Remote;
use crate::links;

#[component]
pub fn PairwiseQueues(project: Memo<String>) -> impl IntoView {
    let (list, reload) = project_list(project, |project| async move {
        api::pairwise_queues(&project).await
    });

    // A queue to open is on screen: the pairwise review page's code is fetched ahead.
    Effect::new(move |_| {
        if list
            .state
            .with(|s| matches!(s, Remote::Ready(l) if !l.queues.is_empty()))
        {
            app::prefetch(app::load_pairwise_review);
        }
    });

    let name = RwSignal::new(String::new());
    let cohort_a = RwSignal::new(String::new());
    let cohort_b = RwSignal::new(String::new());
    let pairs = RwSignal::new(DEFAULT_PAIRS.to_string());
    let form = CreateForm::new(reload);
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
        let checked = check_new_queue(&new).map(|()| new);
        let project = project.get_untracked();
        form.send(
            checked,
            move |new| async move { api::create_pairwise_queue(&project, &new).await },
            vec![name],
        );
    };

    let table = move || {
        list.state.get().view("Loading pairwise queues…", |l| {
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
                .collect();
            let head = view! {
                <th>"Queue"</th><th>"Cohort A"</th><th>"Cohort B"</th><th>"Progress"</th>
            };
            let empty = (
                "No pairwise queues yet",
                "A pairwise queue shows a run of cohort A and one of cohort B side by side, sides shuffled and cohorts hidden, and asks which is better. Create one below.",
            );
            queue_table("pairwise-queues", head, rows, empty)
        })
    };

    view! {
        <section class="pairwise-queues">
            <h2 class="pw-heading">"Blind pairwise review"</h2>
            {table}
            <form class="panel queue-form" data-testid="pairwise-form" on:submit=create>
                <h2>"New pairwise queue"</h2>
                {field("Name", "pairwise-name", "Variant B vs A", Kind::Text, name)}
                {field("Cohort A (a trace-list link or its filters)", "pairwise-a",
                    "/traces?tag=ab_test_variant%3DA", Kind::Text, cohort_a)}
                {field("Cohort B", "pairwise-b", "/traces?tag=ab_test_variant%3DB", Kind::Text, cohort_b)}
                {field("Pairs", "pairwise-pairs", "100", Kind::Text, pairs)}
                <p class="muted fb-hint">"Pairs are matched on the same input, else on shared tags, else drawn at random."</p>
                <button type="submit" class="button primary" name="create-pairwise"
                    disabled=move || form.saving.get()>"Create pairwise queue"</button>
                {form.error_note("pairwise-error")}
            </form>
        </section>
    }
}
