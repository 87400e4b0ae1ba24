//! `/metrics`: a metric per group of a tag over time, each group's mean with its 95% CI, each
//! group's distribution, and an honest A/B comparison of two groups. The page URL is the state
//! (`crate::metrics_view`): every control edits the URL, and the page re-draws from it without
//! a reload. The collector computes the aggregates (`GET /api/v1/metrics`); the statistics of
//! the comparison are `skein_model::metrics::compare`.
//!
//! The page re-renders in a few coarse blocks (the controls, the results) rather than many
//! fine-grained reactive pieces: every reactive closure costs code in the wasm bundle, and
//! these blocks change together anyway.

use std::sync::Arc;

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use skein_model::metrics::{self, Metric, MetricKind, MetricQuery, MetricResponse, Statistic};
use skein_model::sort;
use skein_model::{TagFilter, TagKeyInfo, TraceQuery};

use super::traces::RETRY;
use crate::api::{self, ApiError};
use crate::components::charts::{self, Colors, Series};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::icons::CloseIcon;
use crate::components::tag_picker::AddTagFilter;
use crate::components::theme_toggle::{Theme, ThemeState};
use crate::metrics_view::{self as mv, Dist, MetricsView, Range};
use crate::time::now_ms;
use crate::{links, text};

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Loading,
    Ready,
    Failed(ApiError),
}

/// How many recent traces are read to learn the project's feedback keys.
const KEY_SAMPLE: u32 = 200;

type TagKeys = RwSignal<Option<Result<Vec<TagKeyInfo>, ApiError>>>;

#[component]
pub fn MetricsPage() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let parsed = Memo::new(move |_| MetricsView::from_search(&location.search.get()));
    let view = Memo::new(move |_| parsed.get().unwrap_or_default());
    let url_error = Memo::new(move |_| parsed.get().err().map(|e| e.to_string()));

    let set_view = Callback::new(move |v: MetricsView| {
        navigate(
            &mv::href(&project.get_untracked(), &v),
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    });

    // What to fetch: the metric query and the range, not the page-only keys.
    let fetch_key = Memo::new(move |_| {
        let v = view.get();
        (project.get(), v.query, v.range)
    });
    let data = RwSignal::new(None::<Arc<MetricResponse>>);
    let phase = RwSignal::new(Phase::Loading);
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let (project, _, _) = fetch_key.get();
        let gen = generation.get_value() + 1;
        generation.set_value(gen);
        if url_error.get().is_some() {
            phase.set(Phase::Ready);
            data.set(None);
            return;
        }
        phase.set(Phase::Loading);
        load(data, phase, generation, gen, project, view.get_untracked());
    });

    // Tag keys (group-by choices, filters) and the feedback keys seen in recent traces.
    let tag_keys: TagKeys = RwSignal::new(None);
    let feedback_keys = RwSignal::new(Vec::<String>::new());
    // Bumped to ask again while the collector is unreachable.
    let keys_attempt = RwSignal::new(0u32);
    Effect::new(move |_| {
        let project = project.get();
        keys_attempt.track();
        spawn_local(async move {
            let tags = api::tags(&project).await;
            let mut retry = matches!(&tags, Err(e) if e.is_transient());
            tag_keys.try_set(Some(tags));
            let sample = TraceQuery {
                limit: Some(KEY_SAMPLE),
                ..TraceQuery::default()
            };
            match api::traces(&project, &sample).await {
                Ok(page) => {
                    let mut keys: Vec<String> = page
                        .traces
                        .into_iter()
                        .flat_map(|t| t.feedback.into_iter().map(|f| f.key))
                        .collect();
                    sort::sort(&mut keys);
                    keys.dedup();
                    feedback_keys.try_set(keys);
                }
                Err(e) => retry |= e.is_transient(),
            }
            if retry {
                set_timeout(
                    move || {
                        keys_attempt.try_update(|n| *n += 1);
                    },
                    RETRY,
                );
            }
        });
    });

    let theme = use_context::<ThemeState>().map(|t| t.0);
    let dark = Memo::new(move |_| theme.is_some_and(|t| t.get() == Theme::Dark));
    // Only flips: the results block re-renders on data, not on every phase change.
    let first_load =
        Memo::new(move |_| data.with(Option::is_none) && !matches!(phase.get(), Phase::Ready));
    // The last measured chart widths, so a re-rendered chart draws at once at the right size.
    let widths = StoredValue::new([0u32; 3]);

    let banners = move || {
        let url = url_error.get().map(|message| {
            let reset = move |_| set_view.run(MetricsView::default());
            view! {
                <ErrorBanner title="This link's metric settings can't be read" detail=message>
                    <button type="button" class="button" on:click=reset>"Reset"</button>
                </ErrorBanner>
            }
        });
        let failed = match phase.get() {
            Phase::Failed(e) => Some(view! {
                <ErrorBanner title=e.title() detail=e.detail() retrying=e.is_transient()/>
            }),
            _ => None,
        };
        (url, failed)
    };

    let summary = move || {
        let r = data.get()?;
        if matches!(phase.get(), Phase::Failed(_)) {
            return None;
        }
        Some(summary_text(&r))
    };

    let results = move || {
        if url_error.get().is_some() {
            return ().into_any();
        }
        if first_load.get() {
            return skeleton().into_any();
        }
        let Some(r) = data.get() else {
            return ().into_any();
        };
        let v = view.get();
        if !r.groups.iter().any(|g| g.n > 0) {
            return empty_state(&v.query.metric).into_any();
        }
        let colors = Colors::new(dark.get());
        let series = Arc::new(charts::series(&r, &colors));
        results_view(r, v, series, colors, set_view, widths).into_any()
    };
    let stale = move || !matches!(phase.get(), Phase::Ready) && data.with(Option::is_some);

    view! {
        <div class="page metrics-page">
            <div class="page-head">
                <h1>"Metrics"</h1>
                <span class="result-count" data-testid="metrics-summary">{summary}</span>
            </div>
            <Controls view=view project=project tag_keys=tag_keys feedback_keys=feedback_keys
                set_view=set_view/>
            {banners}
            <div class="metrics-results" class:stale=stale>{results}</div>
        </div>
    }
}

/// "1,235 traces with feedback · 2 groups · Nov 17 09:26 – Nov 24 09:38 · 3h buckets".
fn summary_text(r: &MetricResponse) -> String {
    let total: u64 = r.groups.iter().map(|g| g.n).sum();
    let unit = match r.metric {
        Metric::Feedback(_) => ("trace with feedback", "traces with feedback"),
        _ => ("trace", "traces"),
    };
    let mut parts = vec![text::plural(total, unit.0, unit.1)];
    if r.group_by.is_some() {
        parts.push(text::plural(r.groups.len() as u64, "group", "groups"));
    }
    parts.push(format!(
        "{} – {}",
        day_time(r.from_ms),
        day_time(r.to_ms.saturating_sub(1))
    ));
    parts.push(format!("{} buckets", metrics::Bucket::Fixed(r.bucket_ms)));
    parts.join(" · ")
}

fn empty_state(metric: &Metric) -> impl IntoView {
    let (title, body) = match metric {
        Metric::Feedback(key) => (
            format!("No feedback \u{201c}{key}\u{201d} in this range"),
            "No trace here has feedback with this key. Rate runs on a trace's page, send feedback with the API, or pick another metric or a wider time range.",
        ),
        _ => (
            "No traces in this range".to_string(),
            "Nothing matches this time range and these filters. Try a wider range or remove a filter.",
        ),
    };
    view! {
        <EmptyState title=title>
            <p>{body}</p>
        </EmptyState>
    }
}

/// The results: the groups and their comparison, the means, the series, the distributions.
fn results_view(
    r: Arc<MetricResponse>,
    v: MetricsView,
    series: Arc<Vec<Series>>,
    colors: Colors,
    set_view: Callback<MetricsView>,
    widths: StoredValue<[u32; 3]>,
) -> impl IntoView {
    let means_title = match r.kind {
        MetricKind::Count => "Traces per group",
        MetricKind::Rate => "Rate per group, with 95% confidence interval",
        MetricKind::Value => "Mean per group, with 95% confidence interval",
    };
    let what = match (r.statistic, r.kind) {
        (Statistic::Count, _) => "Traces",
        (Statistic::Mean, MetricKind::Rate) => "Rate",
        (Statistic::Mean, _) => "Mean",
        (Statistic::P50, _) => "Median (p50)",
        (Statistic::P95, _) => "p95",
        (Statistic::Sum, _) => "Total",
        (Statistic::P99, _) => "p99",
    };
    let series_title = format!("{what} per {} bucket", metrics::Bucket::Fixed(r.bucket_ms));
    let has_dist = r.groups.iter().any(|g| g.quantiles.is_some());
    let dist = v.dist;
    let chart = |which: usize| {
        let (r, series) = (r.clone(), series.clone());
        Callback::new(move |width: u32| match which {
            0 => charts::means(&r, &series, width, &colors),
            1 => charts::time_series(&r, &series, width, &colors),
            _ => charts::distribution(&r, &series, dist, width, &colors),
        })
    };
    let set_dist = {
        let v = v.clone();
        move |d: Dist| {
            let mut v = v.clone();
            v.dist = d;
            set_view.run(v);
        }
    };
    let set_dist_box = set_dist.clone();
    let (toggle, distribution) = if has_dist {
        let note = match dist {
            Dist::Box => "Box: 25th to 75th percentile; thick line: median; whiskers: minimum to 99th percentile.",
            Dist::Histogram => "Share of each group's traces per bin; values beyond the largest group's 99th percentile are left out.",
        };
        (
            Some(view! {
                <div class="m-seg" role="group" aria-label="Distribution view">
                    <button type="button" class="m-seg-button"
                        aria-pressed=(dist == Dist::Box).to_string()
                        on:click=move |_| set_dist_box(Dist::Box)>"Box plot"</button>
                    <button type="button" class="m-seg-button"
                        aria-pressed=(dist == Dist::Histogram).to_string()
                        on:click=move |_| set_dist(Dist::Histogram)>"Histogram"</button>
                </div>
            }),
            view! {
                <Chart render={chart(2)} testid="chart-dist" index=2 widths=widths/>
                <p class="m-note">{note}</p>
            }
            .into_any(),
        )
    } else {
        (
            None,
            view! {
                <p class="m-note">"Distributions are drawn for value metrics (latency, tokens, cost, feedback scores); a count or a rate has none."</p>
            }
            .into_any(),
        )
    };
    view! {
        <div class="metrics-grid">
            <section class="m-card ab-card">{ab_panel(&r, &v, &series, set_view)}</section>
            <section class="m-card">
                <header class="m-card-head"><h2>{means_title}</h2></header>
                <Chart render={chart(0)} testid="chart-means" index=0 widths=widths/>
            </section>
            <section class="m-card wide">
                <header class="m-card-head"><h2>{series_title}</h2></header>
                <Chart render={chart(1)} testid="chart-series" index=1 widths=widths/>
            </section>
            <section class="m-card wide m-dist">
                <header class="m-card-head"><h2>"Distribution per group"</h2>{toggle}</header>
                {distribution}
            </section>
        </div>
    }
}

/// `Nov 21 14:03`.
fn day_time(ms: i64) -> String {
    crate::time::local_parts(ms)
        .map(|t| format!("{} {}", t.month_day(), t.hour_minute()))
        .unwrap_or_default()
}

fn load(
    data: RwSignal<Option<Arc<MetricResponse>>>,
    phase: RwSignal<Phase>,
    generation: StoredValue<u64>,
    gen: u64,
    project: String,
    view: MetricsView,
) {
    spawn_local(async move {
        let result = api::metrics(&project, &view.api_query(now_ms())).await;
        if generation.try_get_value() != Some(gen) {
            return;
        }
        match result {
            Ok(mut response) => {
                mv::sort_groups(&mut response.groups);
                data.set(Some(Arc::new(response)));
                phase.set(Phase::Ready);
            }
            Err(error) => {
                let transient = error.is_transient();
                phase.set(Phase::Failed(error));
                if transient {
                    set_timeout(
                        move || {
                            if generation.try_get_value() == Some(gen) {
                                load(data, phase, generation, gen, project, view);
                            }
                        },
                        RETRY,
                    );
                }
            }
        }
    });
}

/// A chart: measures its box, draws at that width, and re-draws on resize.
#[component]
fn Chart(
    render: Callback<u32, String>,
    testid: &'static str,
    index: usize,
    widths: StoredValue<[u32; 3]>,
) -> impl IntoView {
    let node = NodeRef::<Div>::new();
    let width = RwSignal::new(widths.with_value(|w| w[index]));
    let measure = move || {
        if let Some(el) = node.get_untracked() {
            let w = el.client_width().max(0) as u32;
            if w > 0 && w != width.get_untracked() {
                width.set(w);
                widths.update_value(|ws| ws[index] = w);
            }
        }
    };
    Effect::new(move |_| {
        if node.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());
    // SAFETY (markup): the SVG comes from `components::charts`, which writes every
    // data-derived string (tag keys and values, feedback keys) through `svg::escape` and hands
    // plotters only numbers and fixed text, which plotters escapes itself. That invariant is
    // what makes `inner_html` acceptable here; keep it when changing the charts.
    let svg = move || match width.get() {
        0 => String::new(),
        w => {
            // For the browser benchmark: after the frame that shows this chart.
            request_animation_frame(|| {
                set_timeout(
                    || super::trace::perf::mark("skein:metrics-painted"),
                    std::time::Duration::ZERO,
                )
            });
            render.run(w)
        }
    };
    view! {
        <div class="m-chart" node_ref=node data-testid=testid inner_html=svg></div>
    }
}

/// Placeholder cards while the first answer loads.
fn skeleton() -> impl IntoView {
    let line = |w: usize| {
        view! { <div class="m-skeleton-line"><span class="shimmer" style=format!("width: {w}%")></span></div> }
    };
    let chart = |class: &'static str| {
        view! {
            <section class=class>
                <header class="m-card-head"><span class="shimmer" style="width: 40%"></span></header>
                <div class="m-chart-skeleton shimmer"></div>
            </section>
        }
    };
    view! {
        <div class="metrics-grid" aria-busy="true" aria-label="Loading metrics">
            <section class="m-card ab-card">
                <header class="m-card-head"><span class="shimmer" style="width: 30%"></span></header>
                {[62, 79, 50, 67, 84].into_iter().map(line).collect_view()}
            </section>
            {chart("m-card")}
            {chart("m-card wide")}
            {chart("m-card wide")}
        </div>
    }
}

/// The metric, grouping, filters, time range and bucket pickers. They only edit the URL.
#[component]
fn Controls(
    view: Memo<MetricsView>,
    project: Memo<String>,
    tag_keys: TagKeys,
    feedback_keys: RwSignal<Vec<String>>,
    set_view: Callback<MetricsView>,
) -> impl IntoView {
    let set_query = move |q: MetricQuery| set_view.run(view.get_untracked().with_query(q));
    let edit = move |f: &dyn Fn(&mut MetricQuery)| {
        let mut q = view.get_untracked().query;
        f(&mut q);
        set_query(q);
    };
    let row = move || {
        let v = view.get();
        let q = v.query.clone();
        let metric_now = q.metric.to_string();
        let mut keys = feedback_keys.get();
        if let Some(key) = metric_now.strip_prefix("feedback:") {
            if !keys.iter().any(|k| k == key) {
                keys.push(key.to_string());
            }
        }
        let option = |value: String, label: String, selected: bool| {
            view! { <option value=value selected=selected>{label}</option> }
        };
        let mut metric_groups: Vec<(&str, Vec<(String, String)>)> = Vec::new();
        for (group, name, label) in mv::BUILT_IN {
            match metric_groups.last_mut() {
                Some((g, items)) if *g == group => items.push((name.into(), label.into())),
                _ => metric_groups.push((group, vec![(name.into(), label.into())])),
            }
        }
        if !keys.is_empty() {
            let items = keys
                .into_iter()
                .map(|k| (format!("feedback:{k}"), format!("Feedback: {k}")))
                .collect();
            metric_groups.push(("Feedback score (mean)", items));
        }
        let metric_options = metric_groups
            .into_iter()
            .map(|(group, items)| {
                let options = items
                    .into_iter()
                    .map(|(value, label)| {
                        let selected = value == metric_now;
                        option(value, label, selected)
                    })
                    .collect_view();
                view! { <optgroup label=group>{options}</optgroup> }
            })
            .collect_view();

        let mut group_keys: Vec<(String, String)> = match tag_keys.get() {
            Some(Ok(list)) => list
                .into_iter()
                .map(|k| {
                    let label = format!("{} ({})", k.key, text::thousands(k.trace_count));
                    (k.key, label)
                })
                .collect(),
            _ => Vec::new(),
        };
        if let Some(c) = &q.group_by {
            if !group_keys.iter().any(|(k, _)| k == c) {
                group_keys.insert(0, (c.clone(), c.clone()));
            }
        }
        let group_options = std::iter::once((String::new(), "No grouping".to_string()))
            .chain(group_keys)
            .map(|(key, label)| {
                let selected = q.group_by.as_deref().unwrap_or("") == key;
                option(key, label, selected)
            })
            .collect_view();

        let bucket_now = q.bucket.to_string();
        let mut buckets: Vec<String> = mv::BUCKETS.iter().map(|s| s.to_string()).collect();
        if !buckets.contains(&bucket_now) {
            buckets.push(bucket_now.clone());
        }
        let bucket_options = buckets
            .into_iter()
            .map(|b| {
                let label = if b == "auto" {
                    "Auto".into()
                } else {
                    b.clone()
                };
                let selected = b == bucket_now;
                option(b, label, selected)
            })
            .collect_view();

        let fixed = q.from_ms.is_some() || q.to_ms.is_some();
        let ranges = Range::ALL
            .into_iter()
            .map(|r| {
                let pressed = !fixed && v.range == r;
                let v = v.clone();
                let pick = move |_| {
                    let mut v = v.clone();
                    v.range = r;
                    v.query.from_ms = None;
                    v.query.to_ms = None;
                    set_view.run(v);
                };
                view! {
                    <button type="button" class="m-seg-button" data-range=r.as_str()
                        aria-pressed=pressed.to_string() on:click=pick>{r.label()}</button>
                }
            })
            .collect_view();
        let fixed_text = fixed.then(|| {
            let from = q.from_ms.map(day_time).unwrap_or_else(|| "…".into());
            let to = q.to_ms.map(day_time).unwrap_or_else(|| "now".into());
            view! { <span class="range-fixed" title="A fixed range from the link">{format!("{from} – {to}")}</span> }
        });

        view! {
            <div class="filter-row">
                <label class="m-control">
                    <span class="m-control-label">"Metric"</span>
                    <select class="select" name="metric" on:change=move |ev| {
                        if let Ok(m) = Metric::parse(&event_target_value(&ev)) {
                            edit(&|q| q.metric = m.clone());
                        }
                    }>{metric_options}</select>
                </label>
                <label class="m-control">
                    <span class="m-control-label">"Group by"</span>
                    <select class="select" name="group_by" on:change=move |ev| {
                        let key = event_target_value(&ev);
                        edit(&|q| q.group_by = (!key.is_empty()).then(|| key.clone()));
                    }>{group_options}</select>
                </label>
                <div class="m-control">
                    <span class="m-control-label">"Range"</span>
                    <div class="m-seg" role="group" aria-label="Time range">{ranges}</div>
                    {fixed_text}
                </div>
                <label class="m-control">
                    <span class="m-control-label">"Bucket"</span>
                    <select class="select" name="bucket" on:change=move |ev| {
                        if let Ok(b) = metrics::Bucket::parse(&event_target_value(&ev)) {
                            edit(&|q| q.bucket = b);
                        }
                    }>{bucket_options}</select>
                </label>
            </div>
        }
    };

    let chips = move || {
        view.get()
            .query
            .tags
            .into_iter()
            .enumerate()
            .map(|(i, tag)| {
                let label = format!("Remove filter {} = {}", tag.key, tag.value);
                let remove = move |_| {
                    edit(&|q| {
                        if i < q.tags.len() {
                            q.tags.remove(i);
                        }
                    })
                };
                view! {
                    <span class="filter-chip">
                        <span class="chip-text">
                            <span class="tag-key">{tag.key}</span>
                            <span class="filter-eq">" = "</span>
                            <span class="tag-val">{tag.value}</span>
                        </span>
                        <button type="button" class="chip-remove" title=label.clone() aria-label=label
                            on:click=remove>
                            <CloseIcon/>
                        </button>
                    </span>
                }
            })
            .collect_view()
    };
    let add_tag = Callback::new(move |(key, value): (String, String)| {
        let tag = TagFilter { key, value };
        if !view.get_untracked().query.tags.contains(&tag) {
            edit(&|q| q.tags.push(tag.clone()));
        }
    });

    view! {
        <div class="filter-bar metrics-controls">
            {row}
            <div class="filter-row tag-row">
                <span class="filter-label">"Filters"</span>
                {chips}
                <AddTagFilter project=project on_add=add_tag/>
            </div>
        </div>
    }
}

/// The groups' n, mean and 95% CI, and the comparison of two of them.
fn ab_panel(
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
fn comparison(
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
            let (mut x, mut y) = (a, b);
            if which_a {
                if i == y {
                    y = x;
                }
                x = i;
            } else {
                if i == x {
                    x = y;
                }
                y = i;
            }
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
            {latency_note}
        </div>
    }
}
