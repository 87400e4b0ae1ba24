//! The comparison: the cohorts' per-trace means with B − A and its test, then one dense row
//! per span name (type, service): each figure for A above B, the row's share of B − A in the
//! chosen measure with its 95% CI and p-value, and links to the name's spans in each cohort.

use std::sync::Arc;

use leptos::prelude::*;
use skein_model::cohort::{
    CohortCell, CohortComparison, CohortMeasure, CohortQuery, CohortRow, Significance,
};
use skein_model::cohort_format as fmt;
use skein_model::cohort_scope::name_filter;
use skein_model::format;
use skein_model::TraceQuery;

use crate::components::span_type::SpanTypeIcon;
use crate::links::{self, SpanListView};
use crate::time::now_ms;

/// Below this p-value a difference is marked significant.
const ALPHA: f64 = 0.05;

/// `worse` when B has more (time, tokens, cost and errors are all costs), `better` when less.
fn delta_class(d: f64) -> &'static str {
    if d > 0.0 {
        "delta worse"
    } else if d < 0.0 {
        "delta better"
    } else {
        "delta same"
    }
}

/// The difference, and its CI and p-value (or why there is no test), as text.
fn tested(s: &Significance, by: CohortMeasure) -> (String, String) {
    match s {
        Significance::Tested { ci, p_value, .. } => (
            format!(
                "{} to {}",
                fmt::difference(by, ci.low),
                fmt::difference(by, ci.high)
            ),
            fmt::p_value(*p_value),
        ),
        Significance::NotEnoughData {
            not_enough_data, ..
        } => (
            "—".to_string(),
            match not_enough_data {
                skein_model::stats::NotEnoughData::NoSpread => "no spread".to_string(),
                _ => "too few".to_string(),
            },
        ),
    }
}

fn significant(s: &Significance) -> bool {
    s.p_value().is_some_and(|p| p < ALPHA)
}

#[component]
pub fn CohortTotals(comparison: Arc<CohortComparison>) -> impl IntoView {
    let c = comparison;
    let rows = [
        (
            "Duration",
            CohortMeasure::Duration,
            c.a.duration_ms,
            c.b.duration_ms,
            c.difference.duration_ms.clone(),
        ),
        (
            "Tokens",
            CohortMeasure::Tokens,
            c.a.tokens,
            c.b.tokens,
            c.difference.tokens.clone(),
        ),
        (
            "Cost",
            CohortMeasure::Cost,
            c.a.cost,
            c.b.cost,
            c.difference.cost.clone(),
        ),
        (
            "Error spans",
            CohortMeasure::Errors,
            c.a.errors,
            c.b.errors,
            c.difference.errors.clone(),
        ),
    ];
    view! {
        <section class="cohort-totals" aria-label="The cohorts per trace" data-testid="cohort-totals">
            <table class="data-table cohort-totals-table">
                <thead>
                    <tr>
                        <th>"Per trace (mean)"</th>
                        <th class="col-num">"A"</th>
                        <th class="col-num">"B"</th>
                        <th class="col-num">"B − A"</th>
                        <th class="col-num">"95% CI"</th>
                        <th class="col-num">"p"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr data-measure="traces">
                        <td>"Traces"</td>
                        <td class="col-num" data-side="a">{format::count(c.a.traces as i64)}</td>
                        <td class="col-num" data-side="b">{format::count(c.b.traces as i64)}</td>
                        <td></td><td></td><td></td>
                    </tr>
                    {rows.into_iter().map(|(label, by, a, b, s)| {
                        let (ci, p) = tested(&s, by);
                        let d = s.difference();
                        let sig = significant(&s);
                        view! {
                            <tr data-measure=by.as_str()>
                                <td>{label}</td>
                                <td class="col-num" data-side="a">{fmt::measure(by, a)}</td>
                                <td class="col-num" data-side="b">{fmt::measure(by, b)}</td>
                                <td class=format!("col-num {}", delta_class(d)) data-col="difference">
                                    <strong class:sig=sig>{fmt::difference(by, d)}</strong></td>
                                <td class="col-num muted" data-col="ci">{ci}</td>
                                <td class="col-num" class:sig=sig data-col="p">{p}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// A figure of both cells, A above B; "—" for a cohort without the name.
fn pair(col: &'static str, a: Option<String>, b: Option<String>) -> impl IntoView {
    let dash = || "—".to_string();
    view! {
        <td class="col-num pair" data-col=col>
            <span class="va" data-side="a">{a.unwrap_or_else(dash)}</span>
            <span class="vb" data-side="b">{b.unwrap_or_else(dash)}</span>
        </td>
    }
}

/// The spans of a row's name in one cohort's traces: `/spans` with the name's filter and the
/// cohort as trace filters; the cohort's trace list when it has no span-filter form.
fn spans_link(project: &str, cohort: &TraceQuery, row: &CohortRow) -> String {
    match cohort.span_scope(now_ms()) {
        Some(scope) => links::spans_href(
            project,
            &SpanListView {
                filter: Some(name_filter(&row.name, row.span_type, &row.service)),
                trace_filter: scope.trace_filter,
                tree_filter: scope.tree_filter,
                ..SpanListView::default()
            },
        ),
        None => links::list_href(project, cohort),
    }
}

fn cell_figures(
    c: &Option<CohortCell>,
    f: impl Fn(&CohortCell) -> Option<String>,
) -> Option<String> {
    c.as_ref().and_then(f)
}

#[component]
pub fn CohortTable(
    comparison: Arc<CohortComparison>,
    project: String,
    query: CohortQuery,
    by: CohortMeasure,
    set_query: Callback<CohortQuery>,
) -> impl IntoView {
    let c = comparison;
    let sort_query = query.clone();
    let sort_by = move |m: CohortMeasure| {
        let query = sort_query.clone();
        move |_| {
            let mut q = query.clone();
            q.by = m;
            set_query.run(q);
        }
    };
    let head = |label: &'static str, m: CohortMeasure| {
        let active = m == by;
        view! {
            <th class="col-num" aria-sort=if active { "descending" } else { "none" }>
                <button type="button" class="th-sort" class:active=active
                    title=format!("Sort by the share of B − A in {}", fmt::measure_label(m).to_lowercase())
                    on:click=sort_by(m)>{label}</button>
            </th>
        }
    };
    let rows = c
        .rows
        .iter()
        .map(|row| {
            let (a, b) = (&row.a, &row.b);
            let s = match by {
                CohortMeasure::Duration => &row.self_ms_per_trace,
                CohortMeasure::Tokens => &row.tokens_per_trace,
                CohortMeasure::Cost => &row.cost_per_trace,
                CohortMeasure::Errors => &row.errors_per_trace,
            };
            let (ci, p) = tested(s, by);
            let sig = significant(s);
            let href_a = spans_link(&project, &query.a, row);
            let href_b = spans_link(&project, &query.b, row);
            let title = format!("{} · {} · {}", row.name, row.span_type.as_str(), row.service);
            view! {
                <tr class="cohort-row" data-testid="cohort-row" data-name=row.name.clone()
                    data-service=row.service.clone() data-type=row.span_type.as_str()>
                    <td class="cohort-name" title=title>
                        <SpanTypeIcon kind=row.span_type/>
                        <span class="cohort-span-name">{row.name.clone()}</span>
                        <span class="muted cohort-service">{row.service.clone()}</span>
                    </td>
                    {pair("spans", cell_figures(a, |x| Some(fmt::per_trace(x.spans_per_trace))),
                        cell_figures(b, |x| Some(fmt::per_trace(x.spans_per_trace))))}
                    {pair("p50", cell_figures(a, |x| x.p50_ms.map(fmt::ms)), cell_figures(b, |x| x.p50_ms.map(fmt::ms)))}
                    {pair("p95", cell_figures(a, |x| x.p95_ms.map(fmt::ms)), cell_figures(b, |x| x.p95_ms.map(fmt::ms)))}
                    {pair("self", cell_figures(a, |x| Some(fmt::ms(x.self_ms_per_trace))),
                        cell_figures(b, |x| Some(fmt::ms(x.self_ms_per_trace))))}
                    {pair("error_rate", cell_figures(a, |x| x.error_rate.map(fmt::rate)),
                        cell_figures(b, |x| x.error_rate.map(fmt::rate)))}
                    {pair("tokens", cell_figures(a, |x| Some(fmt::tokens(x.tokens_per_trace))),
                        cell_figures(b, |x| Some(fmt::tokens(x.tokens_per_trace))))}
                    {pair("cost", cell_figures(a, |x| Some(format::cost_usd(x.cost_per_trace))),
                        cell_figures(b, |x| Some(format::cost_usd(x.cost_per_trace))))}
                    <td class=format!("col-num {}", delta_class(row.contribution)) data-col="contribution">
                        <strong class:sig=sig>{fmt::difference(by, row.contribution)}</strong>
                    </td>
                    <td class="col-num pair muted" data-col="test">
                        <span data-col="ci">{ci}</span>
                        <span data-col="p" class:sig=sig>{p}</span>
                    </td>
                    <td class="cohort-links">
                        <a href=href_a data-testid="spans-a" title="This name's spans in A's traces">"A"</a>
                        <a href=href_b data-testid="spans-b" title="This name's spans in B's traces">"B"</a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let omitted = (c.omitted_rows > 0).then(|| {
        view! {
            <p class="m-note">{format!("{} rows contributing least not shown", format::count(c.omitted_rows as i64))}</p>
        }
    });
    let empty = c.rows.is_empty().then(|| {
        view! { <p class="m-note">"No spans in either cohort's traces."</p> }
    });
    view! {
        <section class="cohort-table-wrap" aria-label="Span names compared">
            <table class="data-table cohort-table" data-testid="cohort-table">
                <thead>
                    <tr>
                        <th>"Span · service"<span class="muted th-note">" (A above B)"</span></th>
                        <th class="col-num" title="Spans of this name per trace of the cohort">"Spans / trace"</th>
                        <th class="col-num" title="Exact median of the spans' durations">"p50"</th>
                        <th class="col-num" title="Exact 95th percentile of the spans' durations (numpy's linear rule)">"p95"</th>
                        {head("Self / trace", CohortMeasure::Duration)}
                        {head("Error rate", CohortMeasure::Errors)}
                        {head("Tokens / trace", CohortMeasure::Tokens)}
                        {head("Cost / trace", CohortMeasure::Cost)}
                        <th class="col-num col-diff" title="What this name adds to B − A per trace">{format!("B − A {}", fmt::measure_label(by).to_lowercase())}</th>
                        <th class="col-num col-test" title="Welch's t-test over the per-trace values">"95% CI · p"</th>
                        <th class="col-links">"Spans"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            {empty}
            {omitted}
            <p class="m-note">{METHOD}</p>
        </section>
    }
}

/// How the figures are computed, said once under the table.
const METHOD: &str = "Per trace: a trace without the name counts 0. Self time: a span's duration less the time its direct \
     children cover. p50/p95: exact quantiles of every span's duration. B − A tested with Welch's t-test; \
     bold where p < 0.05.";
