//! The metrics page's pairwise panel: a blind pairwise review queue's judgements per group of
//! the page's group-by tag: how often B's run was preferred over A's with its 95% Wilson
//! interval, the exact sign test's p-value with ties left out, the tie rate and n. The
//! collector adds the judgements up (`GET /api/v1/pairwise/results`); the statistics are
//! `skein_model::pairwise`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use skein_model::pairwise_queue::{cohort_label, GroupResult, PairwiseQueue, ResultsQuery};

use crate::api;
use crate::metrics_view as mv;

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn group_row(g: GroupResult) -> impl IntoView {
    let c = g.counts;
    let (preferred, ci, p, p_raw, ties) = match g.result {
        Some(r) => (
            percent(r.b_preferred),
            format!("{} – {}", percent(r.ci.low), percent(r.ci.high)),
            mv::p_value(r.p_value),
            r.p_value.to_string(),
            percent(r.tie_rate),
        ),
        None => (
            "–".to_string(),
            "no decisive judgement".to_string(),
            "–".to_string(),
            String::new(),
            percent(if c.total() == 0 {
                0.0
            } else {
                c.ties as f64 / c.total() as f64
            }),
        ),
    };
    view! {
        <tr data-group=g.group.clone() data-p=p_raw>
            <td class="pw-group">{g.group.clone()}</td>
            <td class="num" data-testid="pw-n">{c.total()}</td>
            <td class="num" data-testid="pw-counts">{format!("{} / {} / {}", c.b_wins, c.a_wins, c.ties)}</td>
            <td class="num" data-testid="pw-b-preferred">{preferred}</td>
            <td class="num" data-testid="pw-ci">{ci}</td>
            <td class="num" data-testid="pw-p">{p}</td>
            <td class="num" data-testid="pw-ties">{ties}</td>
        </tr>
    }
}

/// The panel; nothing while the project has no pairwise queue.
#[component]
pub fn PairwisePanel(project: Memo<String>, group_by: Signal<Option<String>>) -> impl IntoView {
    let queues = RwSignal::new(Vec::<PairwiseQueue>::new());
    let chosen = RwSignal::new(None::<String>);
    let results =
        RwSignal::new(None::<Result<skein_model::pairwise_queue::PairwiseResults, api::ApiError>>);
    Effect::new(move |_| {
        let project = project.get();
        spawn_local(async move {
            if let Ok(list) = api::pairwise_queues(&project).await {
                // The newest first: the one most likely asked about.
                let mut list = list.queues;
                list.reverse();
                chosen.try_set(list.first().map(|q| q.id.clone()));
                queues.try_set(list);
            }
        });
    });
    Effect::new(move |_| {
        let Some(queue) = chosen.get() else {
            return;
        };
        let query = ResultsQuery {
            queue: Some(queue),
            group_by: group_by.get(),
        };
        let project = project.get_untracked();
        spawn_local(async move {
            results.try_set(Some(api::pairwise_results(&project, &query).await));
        });
    });

    move || {
        let list = queues.get();
        if list.is_empty() {
            return ().into_any();
        }
        let selected = chosen.get().unwrap_or_default();
        let options = list
            .iter()
            .map(|q| {
                let is = q.id == selected;
                view! { <option value=q.id.clone() selected=is>{q.name.clone()}</option> }
            })
            .collect_view();
        let queue = list.iter().find(|q| q.id == selected).cloned();
        let cohorts = queue.map(|q| {
            format!(
                "A: {} · B: {}",
                cohort_label(&q.cohort_a),
                cohort_label(&q.cohort_b)
            )
        });
        let by = group_by
            .get()
            .map_or("all judgements".to_string(), |k| format!("per {k}"));
        let body = match results.get() {
            None => view! { <p class="muted">"Loading judgements…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="fb-error">{e.detail()}</p> }.into_any(),
            Some(Ok(r)) if r.groups.is_empty() => {
                view! { <p class="muted" data-testid="pw-empty">"No judgements yet: review pairs on the queue's page."</p> }.into_any()
            }
            Some(Ok(r)) => {
                let rows = r.groups.into_iter().map(group_row).collect_view();
                view! {
                    <div class="table-wrap">
                        <table class="data-table pw-table" data-testid="pw-results">
                            <thead><tr>
                                <th>"Group"</th><th class="num">"n"</th>
                                <th class="num" title="B wins / A wins / ties">"B / A / ties"</th>
                                <th class="num">"B preferred"</th><th class="num">"95% CI (Wilson)"</th>
                                <th class="num" title="Exact two-sided binomial (sign) test against ½, ties excluded">"p-value (sign test)"</th>
                                <th class="num">"Ties"</th>
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
                .into_any()
            }
        };
        view! {
            <section class="m-card pw-results-card" data-testid="pairwise-panel">
                <header class="m-card-head">
                    <h2>{format!("Blind pairwise review: B preferred over A, {by}")}</h2>
                    <select class="input" name="pairwise-queue" aria-label="Pairwise queue"
                        on:change=move |ev| chosen.set(Some(event_target_value(&ev)))>{options}</select>
                </header>
                <p class="m-note">{cohorts}" · p-values from the exact sign test with ties excluded."</p>
                {body}
            </section>
        }
        .into_any()
    }
}
