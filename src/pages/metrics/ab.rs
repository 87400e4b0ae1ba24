//! The metrics page's A/B panel: the groups' n, mean and 95% CI, and the comparison of two.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use skein_model::cohort::CohortQuery;
use skein_model::metrics::{self, Metric, MetricKind, MetricResponse};
use skein_model::recent::RecentRange;
use skein_model::sort;
use skein_model::{TagFilter, TraceQuery};

use crate::components::charts::{self, Series};
use crate::links;
use crate::metrics_pairs::repick;
use crate::metrics_view::{self as mv, MetricsView};
use crate::text;

/// The groups' n, mean and 95% CI, and the comparison of two of them.
pub fn ab_panel(
    r: &Arc<MetricResponse>,
    v: &MetricsView,
    series: &[Series],
    set_view: Callback<MetricsView>,
) -> impl IntoView {
    let group_by = r.group_by.as_deref();
    let label = |i: usize| mv::group_label(&r.groups[i].value, group_by);
    let rows = r
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let name = label(i);
            let color = series
                .get(i)
                .map(|s| charts::hex(s.color))
                .unwrap_or_default();
            let (mean, ci) = match (r.kind, g.ci) {
                (MetricKind::Count, _) => ("—".to_string(), "—".to_string()),
                (_, Some(ci)) => (
                    mv::value(g.mean, &r.metric),
                    format!(
                        "{} – {}",
                        mv::value(ci.low, &r.metric),
                        mv::value(ci.high, &r.metric)
                    ),
                ),
                (_, None) => (
                    mv::value(g.mean, &r.metric),
                    format!("n < {}", mv::MIN_PER_GROUP),
                ),
            };
            view! {
                <tr data-group=name.clone()>
                    <td>
                        <div class="group-cell">
                            <span class="swatch" style=format!("background: {color}")></span>
                            <span class="group-name" title=name.clone()>{name.clone()}</span>
                        </div>
                    </td>
                    <td class="col-num" data-col="n">{text::thousands(g.n)}</td>
                    <td class="col-num" data-col="mean">{mean}</td>
                    <td class="col-num" data-col="ci">{ci}</td>
                </tr>
            }
        })
        .collect_view();
    let omitted = (r.omitted_groups > 0).then(|| {
        view! { <p class="m-note">{format!("{} smaller groups not shown", text::thousands(r.omitted_groups))}</p> }
    });
    let mean_head = if r.kind == MetricKind::Rate {
        "Rate"
    } else {
        "Mean"
    };
    let comparison = if r.group_by.is_none() {
        view! { <p class="m-note">"Choose a tag to group by (for example ab_test_variant) to compare groups."</p> }
            .into_any()
    } else if r.groups.len() < 2 {
        view! { <p class="m-note">"Only one group in this range: nothing to compare."</p> }
            .into_any()
    } else {
        comparison(r, v, set_view).into_any()
    };
    view! {
        <header class="m-card-head"><h2>"Groups"</h2></header>
        <table class="data-table groups-table" data-testid="groups-table">
            <thead>
                <tr>
                    <th>"Group"</th>
                    <th class="col-num">"n"</th>
                    <th class="col-num">{mean_head}</th>
                    <th class="col-num">"95% CI"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {omitted}
        {comparison}
    }
}

/// The pair picker and the test of the pair (at least two groups).
pub fn comparison(
    r: &Arc<MetricResponse>,
    v: &MetricsView,
    set_view: Callback<MetricsView>,
) -> impl IntoView {
    let group_by = r.group_by.as_deref();
    let label = |i: usize| mv::group_label(&r.groups[i].value, group_by);
    // The compared pair: the URL's, else the two largest groups (in reading order).
    let find = |want: &Option<Option<String>>| {
        want.as_ref()
            .and_then(|value| r.groups.iter().position(|g| &g.value == value))
    };
    let (a, b) = match (find(&v.a), find(&v.b)) {
        (Some(a), Some(b)) if a != b => (a, b),
        _ => {
            let mut by_n: Vec<usize> = (0..r.groups.len()).collect();
            sort::sort_by_key(&mut by_n, |&i| (std::cmp::Reverse(r.groups[i].n), i));
            (by_n[0].min(by_n[1]), by_n[0].max(by_n[1]))
        }
    };
    let (la, lb) = (label(a), label(b));
    let pick = {
        let (r, v) = (r.clone(), v.clone());
        move |which_a: bool, ev: leptos::ev::Event| {
            let Ok(i) = event_target_value(&ev).parse::<usize>() else {
                return;
            };
            let (x, y) = repick((a, b), i, which_a);
            let mut v = v.clone();
            v.a = r.groups.get(x).map(|g| g.value.clone());
            v.b = r.groups.get(y).map(|g| g.value.clone());
            set_view.run(v);
        }
    };
    let pick_b = pick.clone();
    let options = |selected: usize| {
        (0..r.groups.len())
            .map(|i| view! { <option value=i.to_string() selected=i == selected>{label(i)}</option> })
            .collect_view()
    };
    let result = match metrics::compare(r.kind, &r.groups[a], &r.groups[b]) {
        None => view! {
            <p class="verdict muted" data-testid="ab-verdict">"A count has nothing to test: choose a rate or a value metric to compare groups."</p>
        }
        .into_any(),
        Some(Err(why)) => view! {
            <p class="verdict not-enough" data-testid="ab-verdict">{mv::not_enough(&why)}</p>
        }
        .into_any(),
        Some(Ok(cmp)) => {
            let verdict = mv::verdict(&cmp, &la, &lb, &r.metric);
            let ci = cmp.ci();
            let class = if verdict.significant {
                "verdict significant"
            } else {
                "verdict"
            };
            view! {
                <div class=class data-testid="ab-verdict">
                    <dl class="ab-numbers">
                        <div><dt>{format!("Difference ({la} − {lb})")}</dt>
                            <dd data-testid="ab-difference">{mv::difference(cmp.difference(), &r.metric)}</dd></div>
                        <div><dt>"95% CI"</dt>
                            <dd data-testid="ab-ci">{format!("{} to {}", mv::difference(ci.low, &r.metric), mv::difference(ci.high, &r.metric))}</dd></div>
                        <div><dt>"p-value"</dt>
                            <dd data-testid="ab-p">{mv::p_value(cmp.p_value())}</dd></div>
                    </dl>
                    <p class="verdict-headline">{verdict.headline}</p>
                    <p class="verdict-detail">{verdict.detail}</p>
                </div>
            }
            .into_any()
        }
    };
    // The same two groups span by span, on the cohort page.
    let span_by_span = cohort_query(
        v,
        r.group_by.as_deref(),
        &r.groups[a].value,
        &r.groups[b].value,
    )
    .map(|q| {
        let project = links::project_of(&use_location().search.get_untracked());
        view! {
            <p class="m-note"><a href=links::cohorts_href(&project, &q) data-testid="ab-cohorts">
                {format!("Where do {la} and {lb} differ? Compare them span by span →")}</a></p>
        }
    });
    let latency_note = matches!(r.metric, Metric::LatencyP50 | Metric::LatencyP95).then(|| view! {
        <p class="m-note">"The test compares means: testing a percentile needs the raw values, which the dashboard does not download."</p>
    });
    view! {
        <div class="ab-compare">
            <div class="ab-pickers">
                <select class="select" name="ab-a" aria-label="First group"
                    on:change=move |ev| pick(true, ev)>{options(a)}</select>
                <span class="muted">"vs"</span>
                <select class="select" name="ab-b" aria-label="Second group"
                    on:change=move |ev| pick_b(false, ev)>{options(b)}</select>
            </div>
            {result}
            {span_by_span}
            {latency_note}
        </div>
    }
}

/// Two groups of the view (values of its `group_by` tag) as cohorts of its traces: the view's
/// tags, filters and time range, and the group's tag. None for the group without the tag.
fn cohort_query(
    v: &MetricsView,
    group_by: Option<&str>,
    a: &Option<String>,
    b: &Option<String>,
) -> Option<CohortQuery> {
    let key = group_by?;
    let q = &v.query;
    let side = |value: &str| {
        let mut tags = q.tags.clone();
        tags.retain(|t| t.key != key);
        tags.push(TagFilter {
            key: key.to_string(),
            value: value.to_string(),
        });
        TraceQuery {
            tags,
            filter: v.filter.clone(),
            trace_filter: q.trace_filter.clone(),
            tree_filter: q.tree_filter.clone(),
            from_ms: q.from_ms,
            to_ms: q.to_ms,
            range: RecentRange::parse(v.range.as_str()).unwrap_or_default(),
            ..TraceQuery::default()
        }
    };
    Some(CohortQuery {
        a: side(a.as_deref()?),
        b: side(b.as_deref()?),
        by: Default::default(),
    })
}
