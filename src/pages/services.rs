//! `/services`: which services call which, drawn as a graph, with call counts, error rates
//! and p95 latency on the edges and nodes, for a time range and tag filters; the same figures
//! in tables below.

use leptos::prelude::*;
use skein_model::format;
use skein_model::service_graph::{CallStats, ServiceGraph, ServiceGraphQuery};
use skein_model::sessions::RecentRange;

use crate::api;
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::remote::{Loader, Remote};
use crate::components::scope_bar::ScopeBar;
use crate::components::scoped_list::use_scope;
use crate::components::service_chip::ServiceChip;
use crate::components::service_graph::{error_rate_text, ServiceGraphView};
use crate::text;
use crate::time::now_ms;

const RANGES: &[RecentRange] = &[
    RecentRange::Hour,
    RecentRange::SixHours,
    RecentRange::Day,
    RecentRange::Week,
    RecentRange::Month,
];
const DEFAULT_RANGE: RecentRange = RecentRange::Day;

/// `12 · 3.0%`, or `0` when none failed.
fn errors_text(stats: &CallStats) -> String {
    if stats.errors == 0 {
        "0".to_string()
    } else {
        format!(
            "{} · {}",
            text::thousands(stats.errors),
            error_rate_text(stats)
        )
    }
}

fn ms(ns: Option<i64>) -> String {
    ns.map(format::duration_ns).unwrap_or_else(|| "—".into())
}

#[component]
pub fn ServicesPage() -> impl IntoView {
    let (project, scope, scope_error) = use_scope(DEFAULT_RANGE);
    let loader = Loader::<ServiceGraph>::new();
    Effect::new(move |_| {
        let project = project.get();
        let s = scope.get();
        let range = if RANGES.contains(&s.range) {
            s.range
        } else {
            DEFAULT_RANGE
        };
        let bounds = range.bounds(now_ms());
        let query = ServiceGraphQuery {
            tags: s.tags,
            from_ms: bounds.map(|b| b.0),
            to_ms: bounds.map(|b| b.1),
        };
        loader.load(true, move || {
            let (project, query) = (project.clone(), query.clone());
            async move { api::service_graph(&project, &query).await }
        });
    });

    let summary = move || match loader.state.get() {
        Remote::Ready(g) => Some(format!(
            "{} · {} · {} · {}",
            text::plural(g.nodes.len() as u64, "service", "services"),
            text::plural(g.edges.len() as u64, "call path", "call paths"),
            text::plural(g.trace_count, "trace", "traces"),
            text::plural(g.span_count, "span", "spans"),
        )),
        _ => None,
    };
    let body = move || {
        match loader.state.get() {
        Remote::Loading => view! {
            <div class="panel graph-panel" aria-busy="true">
                <div class="graph-skeleton">
                    {(0..4).map(|i| view! {
                        <div class="graph-skeleton-col">
                            {(0..(1 + (i * 2) % 3)).map(|_| view! { <span class="shimmer node-shimmer"></span> }).collect_view()}
                        </div>
                    }).collect_view()}
                </div>
            </div>
        }
        .into_any(),
        Remote::Failed(error) => {
            let retrying = error.is_transient();
            view! { <ErrorBanner title=error.title() detail=error.detail() retrying=retrying/> }
                .into_any()
        }
        Remote::Ready(g) if g.nodes.is_empty() => {
            let filtered = !scope.get().tags.is_empty();
            view! {
                <div class="panel">
                    <EmptyState title=if filtered { "No services in these traces" } else { "No services in this time range" }>
                        <p class="hint-codes">"The graph is drawn from spans whose parent is in another service: an OpenTelemetry SDK in each service, propagating "
                           <code>"traceparent"</code>" between them, gives one trace across all of them."</p>
                        <p class="hint-codes">"Try a wider time range"{filtered.then_some(" or remove a tag filter")}". "
                           <code>"examples/microservices"</code>" runs a small set of services that does this."</p>
                    </EmptyState>
                </div>
            }
            .into_any()
        }
        Remote::Ready(g) => view! { <GraphAndTables graph=g/> }.into_any(),
    }
    };

    view! {
        <div class="page services-page">
            <div class="page-head">
                <h1>"Services"</h1>
                <span class="result-count" data-testid="result-count">{summary}</span>
            </div>
            <ScopeBar project=project scope=scope path="/services" default_range=DEFAULT_RANGE
                ranges=RANGES/>
            {move || scope_error.get().map(|message| view! {
                <ErrorBanner title="This link's filters can't be read" detail=message/>
            })}
            <div class:stale=move || loader.state.with(|s| matches!(s, Remote::Failed(_)))>{body}</div>
        </div>
    }
}

#[component]
fn GraphAndTables(graph: ServiceGraph) -> impl IntoView {
    let no_edges = graph.edges.is_empty();
    let edges = graph
        .edges
        .iter()
        .map(|e| {
            let failing = e.stats.errors > 0;
            view! {
                <tr class="edge-row" class:row-error=failing data-caller=e.caller.clone() data-callee=e.callee.clone()>
                    <td class="col-path">
                        <div class="chips">
                            <ServiceChip name=e.caller.clone()/>
                            <span class="edge-arrow" aria-label="calls">"→"</span>
                            <ServiceChip name=e.callee.clone()/>
                        </div>
                    </td>
                    <td class="col-num">{text::thousands(e.stats.calls)}</td>
                    <td class="col-num col-errors" class:error-count=failing
                        title=format!("{} failed", text::thousands(e.stats.errors))>
                        {errors_text(&e.stats)}
                    </td>
                    <td class="col-num">{ms(e.stats.p50_ns)}</td>
                    <td class="col-num">{ms(e.stats.p95_ns)}</td>
                </tr>
            }
        })
        .collect_view();
    let nodes = graph
        .nodes
        .iter()
        .map(|n| {
            let failing = n.stats.errors > 0;
            view! {
                <tr class="node-row" class:row-error=failing data-service=n.name.clone()>
                    <td class="col-path"><div class="chips"><ServiceChip name=n.name.clone()/></div></td>
                    <td class="col-num">{text::thousands(n.stats.calls)}</td>
                    <td class="col-num">{if n.root_calls > 0 { text::thousands(n.root_calls) } else { "—".into() }}</td>
                    <td class="col-num col-errors" class:error-count=failing
                        title=format!("{} failed", text::thousands(n.stats.errors))>
                        {errors_text(&n.stats)}
                    </td>
                    <td class="col-num">{ms(n.stats.p50_ns)}</td>
                    <td class="col-num">{ms(n.stats.p95_ns)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="panel graph-panel">
            <div class="graph-scroll">
                <ServiceGraphView graph=graph.clone()/>
            </div>
            <p class="graph-legend muted">
                "An arrow is a call from one service into another (a span whose parent is in another service), labelled with its number of calls, the callee's p95 latency and, when some failed, the error rate. A node's figures are the requests it served."
                {no_edges.then_some(" No calls between services in this range: every trace stayed within one service.")}
            </p>
        </div>
        <div class="services-tables">
            <section>
                <div class="panel-head table-title"><h2>"Calls between services"</h2></div>
                <div class="table-wrap">
                    <table class="data-table edges-table">
                        <thead><tr>
                            <th class="col-path">"Caller → callee"</th>
                            <th class="col-num">"Calls"</th>
                            <th class="col-num col-errors">"Errors"</th>
                            <th class="col-num">"p50"</th>
                            <th class="col-num">"p95"</th>
                        </tr></thead>
                        <tbody>{edges}</tbody>
                    </table>
                </div>
            </section>
            <section>
                <div class="panel-head table-title"><h2>"Services"</h2></div>
                <div class="table-wrap">
                    <table class="data-table nodes-table">
                        <thead><tr>
                            <th class="col-path">"Service"</th>
                            <th class="col-num" title="Spans that entered the service: from another service, or as a trace's root">"Requests"</th>
                            <th class="col-num" title="Requests that started a trace here">"Roots"</th>
                            <th class="col-num col-errors">"Errors"</th>
                            <th class="col-num">"p50"</th>
                            <th class="col-num">"p95"</th>
                        </tr></thead>
                        <tbody>{nodes}</tbody>
                    </table>
                </div>
            </section>
        </div>
    }
}
