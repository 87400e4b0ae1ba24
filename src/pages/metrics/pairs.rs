//! The metrics page's table for two keys (`group_by` × `then_by`): a row per value of the
//! second key, each first-key value's mean with its 95% CI, and the A/B test of two of them
//! within the row (`crate::metrics_pairs`). Rarely asked for, so its code is a chunk of its
//! own (`then_by_table`), fetched when a link names a second key.

use std::sync::{Arc, OnceLock};

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use skein_model::metrics::{MetricKind, MetricResponse};

use crate::api;
use crate::components::error_banner::ErrorBanner;
use crate::metrics_pairs::{pair_table, repick};
use crate::metrics_view::{self as mv, MetricsView};
use crate::text;

type TableCode = fn(&Arc<MetricResponse>, &MetricsView, Callback<MetricsView>) -> AnyView;

/// The code once loaded (for the rest of the visit).
static LOADED: OnceLock<TableCode> = OnceLock::new();

#[wasm_split(then_by_table, wasm_split_path = split, fallible)]
fn table_code() -> Result<TableCode, SplitLoaderError> {
    Ok(|r, v, set_view| table(r, v, set_view).into_any())
}

/// What loading the code came to: `None` while it loads.
type Loaded = Option<Result<TableCode, ()>>;

/// Loads the table's code into `into` (at once if it is loaded already).
fn load(into: RwSignal<Loaded>) {
    if let Some(code) = LOADED.get() {
        into.set(Some(Ok(*code)));
        return;
    }
    spawn_local(async move {
        let loaded = table_code().await.map_err(|_| ());
        into.try_set(Some(loaded.map(|code| *LOADED.get_or_init(|| code))));
    });
}

/// Starts fetching the table's code while the page's data loads (a link with `then_by`).
pub fn preload() {
    if LOADED.get().is_none() {
        spawn_local(async move {
            let _ = table_code().await;
        });
    }
}

/// The table, once its code is here.
pub fn pairs_panel(
    r: &Arc<MetricResponse>,
    v: &MetricsView,
    set_view: Callback<MetricsView>,
) -> impl IntoView {
    let code = RwSignal::new(None);
    load(code);
    let (r, v) = (r.clone(), v.clone());
    move || match code.get() {
        None => view! { <p class="muted">"Loading the table…"</p> }.into_any(),
        Some(Ok(draw)) => draw(&r, &v, set_view),
        Some(Err(())) => {
            let error = api::unreachable("the table's code did not load");
            view! {
                <ErrorBanner title=error.title() detail=error.detail()>
                    <button type="button" class="button" on:click=move |_| load(code)>"Try again"</button>
                </ErrorBanner>
            }
            .into_any()
        }
    }
}

fn table(
    r: &Arc<MetricResponse>,
    v: &MetricsView,
    set_view: Callback<MetricsView>,
) -> impl IntoView {
    let table = pair_table(r, &v.a, &v.b);
    let group_by = r.group_by.as_deref();
    let then_by = r.then_by.clone().unwrap_or_default();
    let column = |i: usize| mv::group_label(&table.columns[i], group_by);
    let metric = r.metric.clone();
    let kind = r.kind;
    let cell = |g: Option<usize>| match g.map(|i| &r.groups[i]) {
        None => view! { <td class="col-num muted" data-col="cell">"—"</td> }.into_any(),
        Some(g) => {
            let head = match kind {
                MetricKind::Count => text::thousands(g.n),
                _ => mv::value(g.mean, &metric),
            };
            let ci = match (kind, g.ci) {
                (MetricKind::Count, _) => String::new(),
                (_, Some(ci)) => format!(
                    "{} – {}",
                    mv::value(ci.low, &metric),
                    mv::value(ci.high, &metric)
                ),
                (_, None) => format!("n < {}", mv::MIN_PER_GROUP),
            };
            view! {
                <td class="col-num" data-col="cell">
                    <div class="pair-mean" data-testid="pair-mean">{head}</div>
                    <div class="pair-ci muted" data-testid="pair-ci">{ci}</div>
                    <div class="pair-n muted">{format!("n = {}", text::thousands(g.n))}</div>
                </td>
            }
            .into_any()
        }
    };
    let compared = table.compared;
    let names = compared.map(|(a, b)| (column(a), column(b)));
    let rows = table
        .rows
        .iter()
        .map(|row| {
            let then = mv::group_label(&row.then, Some(&then_by));
            let cells = row.cells.iter().map(|g| cell(*g)).collect_view();
            let test = match &row.comparison {
                None => view! { <td class="pair-test muted" data-col="test">"—"</td> }.into_any(),
                Some(Err(why)) => view! {
                    <td class="pair-test not-enough" data-col="test" title=mv::not_enough(why)>"Not enough data"</td>
                }
                .into_any(),
                Some(Ok(cmp)) => {
                    let ci = cmp.ci();
                    let significant = cmp.p_value() < mv::ALPHA;
                    view! {
                        <td class="pair-test" class:significant=significant data-col="test">
                            <div class="pair-mean" data-testid="pair-difference">{mv::difference(cmp.difference(), &metric)}</div>
                            <div class="pair-ci muted" data-testid="pair-difference-ci">{format!("{} to {}", mv::difference(ci.low, &metric), mv::difference(ci.high, &metric))}</div>
                            <div class="pair-n" data-testid="pair-p">{mv::p_value(cmp.p_value())}</div>
                        </td>
                    }
                    .into_any()
                }
            };
            view! {
                <tr data-then=then.clone()>
                    <th scope="row" class="pair-then" title=then.clone()>{then.clone()}</th>
                    {cells}
                    {test}
                </tr>
            }
        })
        .collect_view();
    let heads = (0..table.columns.len())
        .map(|i| view! { <th class="col-num" scope="col">{column(i)}</th> })
        .collect_view();
    let test_head = match &names {
        Some((a, b)) => format!("{a} − {b} (95% CI, p)"),
        None => "Difference".to_string(),
    };
    // The compared pair, picked among the first key's values (`a`, `b` in the URL).
    let pickers = compared.map(|(a, b)| {
        let columns = table.columns.clone();
        let view_now = v.clone();
        let pick = move |which_a: bool, ev: leptos::ev::Event| {
            let Ok(i) = event_target_value(&ev).parse::<usize>() else {
                return;
            };
            let (x, y) = repick((a, b), i, which_a);
            let mut v = view_now.clone();
            v.a = columns.get(x).cloned();
            v.b = columns.get(y).cloned();
            set_view.run(v);
        };
        let pick_b = pick.clone();
        let options = |selected: usize| {
            (0..table.columns.len())
                .map(|i| view! { <option value=i.to_string() selected=i == selected>{column(i)}</option> })
                .collect_view()
        };
        view! {
            <div class="ab-pickers">
                <span class="muted">"Compare"</span>
                <select class="select" name="pair-a" aria-label="First group"
                    on:change=move |ev| pick(true, ev)>{options(a)}</select>
                <span class="muted">"with"</span>
                <select class="select" name="pair-b" aria-label="Second group"
                    on:change=move |ev| pick_b(false, ev)>{options(b)}</select>
                <span class="muted">{format!("within each {then_by}")}</span>
            </div>
        }
    });
    let what = if r.kind == MetricKind::Rate {
        "Rate"
    } else {
        "Mean"
    };
    let title = format!(
        "{what} by {} and {}, with 95% confidence intervals",
        group_by.unwrap_or_default(),
        r.then_by.as_deref().unwrap_or_default()
    );
    view! {
        <header class="m-card-head"><h2>{title}</h2></header>
        {pickers}
        <div class="pairs-scroll">
            <table class="data-table pairs-table" data-testid="pairs-table">
                <thead>
                    <tr>
                        <th scope="col">{then_by.clone()}</th>
                        {heads}
                        <th scope="col" class="pair-test">{test_head}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p class="m-note">"Each row compares the two chosen groups within that row only: Welch's t-test for means, the two-proportion z-test for rates."</p>
    }
}
