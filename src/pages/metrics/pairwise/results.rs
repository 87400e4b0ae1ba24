//! The pairwise panel's code, a wasm chunk of its own (`pairwise_panel`, cut by
//! scripts/build-wasm.sh), loaded after the metrics page's first frame: the project's pairwise
//! queues, the chosen queue's results per group, and the queue picker; nothing for a project
//! without pairwise queues.

use leptos::prelude::*;
use skein_model::pairwise_queue::{
    cohort_label, GroupResult, PairwiseQueue, PairwiseQueueList, PairwiseResults, ResultsQuery,
};

use super::PanelProps;
use crate::api;
use crate::components::remote::{Loader, Remote};
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

/// The panel of the queue the URL names (`chosen`), else of the newest; a choice goes into the
/// URL (`choose`).
pub fn panel(props: PanelProps) -> AnyView {
    let PanelProps {
        project,
        group_by,
        chosen,
        choose,
    } = props;
    let list = Loader::<PairwiseQueueList>::new();
    Effect::new(move |_| {
        let project = project.get();
        list.load(true, move || {
            let project = project.clone();
            async move { api::pairwise_queues(&project).await }
        });
    });
    // The newest first: the one most likely asked about.
    let queues = Memo::new(move |_| match list.state.get() {
        Remote::Ready(l) => l.queues.into_iter().rev().collect(),
        _ => Vec::<PairwiseQueue>::new(),
    });
    let results = Loader::<PairwiseResults>::new();
    let shown = Memo::new(move |_| {
        let named = chosen.get();
        queues.with(|list| match named {
            Some(id) if list.iter().any(|q| q.id == id) => Some(id),
            _ => list.first().map(|q| q.id.clone()),
        })
    });
    Effect::new(move |_| {
        let Some(queue) = shown.get() else {
            return;
        };
        let query = ResultsQuery {
            queue: Some(queue),
            group_by: group_by.get(),
        };
        let project = project.get_untracked();
        results.load(false, move || {
            let (project, query) = (project.clone(), query.clone());
            async move { api::pairwise_results(&project, &query).await }
        });
    });

    let view = move || {
        let list = queues.get();
        if list.is_empty() {
            return None;
        }
        let selected = shown.get().unwrap_or_default();
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
        let body = match results.state.get() {
            Remote::Loading => view! { <p class="muted">"Loading judgements…"</p> }.into_any(),
            Remote::Failed(e) => view! { <p class="fb-error">{e.detail()}</p> }.into_any(),
            Remote::Ready(r) if r.groups.is_empty() => {
                view! { <p class="muted" data-testid="pw-empty">"No judgements yet: review pairs on the queue's page."</p> }.into_any()
            }
            Remote::Ready(r) => {
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
        Some(view! {
            <section class="m-card pw-results-card" data-testid="pairwise-panel">
                <header class="m-card-head">
                    <h2>{format!("Blind pairwise review: B preferred over A, {by}")}</h2>
                    <select class="input" name="pairwise-queue" aria-label="Pairwise queue"
                        on:change=move |ev| choose.run(event_target_value(&ev))>{options}</select>
                </header>
                <p class="m-note">{cohorts}" · p-values from the exact sign test with ties excluded."</p>
                {body}
            </section>
        })
    };
    view.into_any()
}
