//! `/metrics`: a metric per group of a tag over time, each group's mean with its 95% CI, each
//! group's distribution, and an honest A/B comparison of two groups. The page URL is the state
//! (`crate::metrics_view`): every control edits the URL, and the page re-draws from it without
//! a reload. The collector computes the aggregates (`GET /api/v1/metrics`); the statistics of
//! the comparison are `skein_model::metrics::compare`.

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use skein_model::metrics::{self, Metric, MetricKind, MetricQuery, MetricResponse};
use skein_model::{TagFilter, TagKeyInfo, TagValueInfo, TraceQuery};

use super::traces::RETRY;
use crate::api::{self, ApiError};
use crate::components::charts::{self, Colors, Series};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::icons::{CloseIcon, PlusIcon};
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

#[component]
pub fn MetricsPage() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let parsed = Memo::new(move |_| MetricsView::from_search(&location.search.get()));
    let view = Memo::new(move |_| parsed.get().unwrap_or_default());
    let url_error = Memo::new(move |_| parsed.get().err().map(|e| e.to_string()));

    let set_view = {
        let navigate = navigate.clone();
        Callback::new(move |v: MetricsView| {
            navigate(
                &mv::href(&project.get_untracked(), &v),
                NavigateOptions {
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        })
    };
    let set_query = Callback::new(move |q: MetricQuery| {
        set_view.run(view.get_untracked().with_query(q));
    });

    // What to fetch: the metric query and the range, not the page-only keys.
    let fetch_key = Memo::new(move |_| {
        let v = view.get();
        (project.get(), v.query, v.range)
    });
    let data = RwSignal::new(None::<MetricResponse>);
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
    let tag_keys = RwSignal::new(None::<Result<Vec<TagKeyInfo>, ApiError>>);
    let feedback_keys = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        let project = project.get();
        spawn_local(async move {
            let tags = api::tags(&project).await;
            tag_keys.try_set(Some(tags));
            let sample = TraceQuery {
                limit: Some(KEY_SAMPLE),
                ..TraceQuery::default()
            };
            if let Ok(page) = api::traces(&project, &sample).await {
                let mut keys: Vec<String> = page
                    .traces
                    .iter()
                    .flat_map(|t| t.feedback.iter().map(|f| f.key.clone()))
                    .collect();
                keys.sort();
                keys.dedup();
                feedback_keys.try_set(keys);
            }
        });
    });

    let theme = use_context::<ThemeState>().map(|t| t.0);
    let colors =
        Memo::new(move |_| Colors::new(theme.map(|t| t.get() == Theme::Dark).unwrap_or(false)));
    let series = Memo::new(move |_| {
        data.with(|d| d.as_ref().map(|r| charts::series(r, &colors.get())))
            .unwrap_or_default()
    });

    let has_data = Memo::new(move |_| {
        data.with(|d| d.as_ref().is_some_and(|r| r.groups.iter().any(|g| g.n > 0)))
    });
    let first_load = move || data.with(Option::is_none) && !matches!(phase.get(), Phase::Ready);
    let stale = move || !matches!(phase.get(), Phase::Ready) && data.with(Option::is_some);

    let banner = move || match phase.get() {
        Phase::Failed(e) => Some(view! {
            <ErrorBanner title=e.title() detail=e.detail() retrying=e.is_transient()/>
        }),
        _ => None,
    };
    let url_banner = move || {
        url_error.get().map(|message| {
            let reset = move |_| set_view.run(MetricsView::default());
            view! {
                <ErrorBanner title="This link's metric settings can't be read" detail=message>
                    <button type="button" class="button" on:click=reset>"Reset"</button>
                </ErrorBanner>
            }
        })
    };

    let summary = move || {
        let r = data.get()?;
        if matches!(phase.get(), Phase::Failed(_)) {
            return None;
        }
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
        Some(parts.join(" · "))
    };

    let empty = move || {
        if !matches!(phase.get(), Phase::Ready) || has_data.get() || url_error.get().is_some() {
            return None;
        }
        let v = view.get();
        let (title, body) = match &v.query.metric {
            Metric::Feedback(key) => (
                format!("No feedback \u{201c}{key}\u{201d} in this range"),
                "No trace here has feedback with this key. Rate runs on a trace's page, send feedback with the API, or pick another metric or a wider time range.".to_string(),
            ),
            _ => (
                "No traces in this range".to_string(),
                "Nothing matches this time range and these filters. Try a wider range or remove a filter.".to_string(),
            ),
        };
        Some(view! {
            <EmptyState title=title>
                <p>{body}</p>
            </EmptyState>
        })
    };

    let dist = Memo::new(move |_| view.get().dist);
    let set_dist = move |d: Dist| {
        let mut v = view.get_untracked();
        v.dist = d;
        set_view.run(v);
    };
    let distributions = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .is_some_and(|r| r.groups.iter().any(|g| g.quantiles.is_some()))
        })
    });

    let time_chart = Callback::new(move |width: u32| {
        data.with(|d| {
            d.as_ref()
                .map(|r| charts::time_series(r, &series.get(), width, &colors.get()))
                .unwrap_or_default()
        })
    });
    let means_chart = Callback::new(move |width: u32| {
        data.with(|d| {
            d.as_ref()
                .map(|r| charts::means(r, &series.get(), width, &colors.get()))
                .unwrap_or_default()
        })
    });
    let dist_chart = Callback::new(move |width: u32| {
        data.with(|d| {
            d.as_ref()
                .map(|r| charts::distribution(r, &series.get(), dist.get(), width, &colors.get()))
                .unwrap_or_default()
        })
    });

    let means_title = move || {
        data.with(|d| match d.as_ref().map(|r| r.kind) {
            Some(MetricKind::Count) => "Traces per group",
            _ => "Mean per group, with 95% confidence interval",
        })
    };
    let series_title = move || {
        data.with(|d| {
            d.as_ref().map(|r| {
                use skein_model::metrics::Statistic;
                let what = match (r.statistic, r.kind) {
                    (Statistic::Count, _) => "Traces",
                    (Statistic::Mean, MetricKind::Rate) => "Rate",
                    (Statistic::Mean, _) => "Mean",
                    (Statistic::P50, _) => "Median (p50)",
                    (Statistic::P95, _) => "p95",
                };
                format!("{what} per {} bucket", metrics::Bucket::Fixed(r.bucket_ms))
            })
        })
    };

    view! {
        <div class="page metrics-page">
            <div class="page-head">
                <h1>"Metrics"</h1>
                <span class="result-count" data-testid="metrics-summary">{summary}</span>
            </div>
            <Controls view=view project=project tag_keys=tag_keys feedback_keys=feedback_keys
                set_query=set_query set_view=set_view/>
            {url_banner}
            {banner}
            <Show
                when=move || !first_load()
                fallback=|| view! { <MetricsSkeleton/> }
            >
                {empty}
                <Show when=move || has_data.get()>
                    <div class="metrics-grid" class:stale=stale>
                        <section class="m-card ab-card">
                            <AbPanel data=data view=view set_view=set_view series=series/>
                        </section>
                        <section class="m-card">
                            <header class="m-card-head"><h2>{means_title}</h2></header>
                            <Chart render=means_chart testid="chart-means"/>
                        </section>
                        <section class="m-card wide">
                            <header class="m-card-head"><h2>{series_title}</h2></header>
                            <Chart render=time_chart testid="chart-series"/>
                        </section>
                        <section class="m-card wide">
                            <header class="m-card-head">
                                <h2>"Distribution per group"</h2>
                                <Show when=move || distributions.get()>
                                    <div class="m-seg" role="group" aria-label="Distribution view">
                                        <button type="button" class="m-seg-button"
                                            aria-pressed=move || (dist.get() == Dist::Box).to_string()
                                            on:click=move |_| set_dist(Dist::Box)>"Box plot"</button>
                                        <button type="button" class="m-seg-button"
                                            aria-pressed=move || (dist.get() == Dist::Histogram).to_string()
                                            on:click=move |_| set_dist(Dist::Histogram)>"Histogram"</button>
                                    </div>
                                </Show>
                            </header>
                            <Show
                                when=move || distributions.get()
                                fallback=|| view! {
                                    <p class="m-note">"Distributions are drawn for value metrics (latency, tokens, cost, feedback scores); a count or a rate has none."</p>
                                }
                            >
                                <Chart render=dist_chart testid="chart-dist"/>
                                <p class="m-note">{move || match dist.get() {
                                    Dist::Box => "Box: 25th to 75th percentile; thick line: median; whiskers: minimum to 99th percentile.",
                                    Dist::Histogram => "Share of each group's traces per bin; values beyond the largest group's 99th percentile are left out.",
                                }}</p>
                            </Show>
                        </section>
                    </div>
                </Show>
            </Show>
        </div>
    }
}

/// `Nov 21 14:03`.
fn day_time(ms: i64) -> String {
    use chrono::{Local, TimeZone};
    Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%b %d %H:%M").to_string())
        .unwrap_or_default()
}

fn load(
    data: RwSignal<Option<MetricResponse>>,
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
                data.set(Some(response));
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
fn Chart(render: Callback<u32, String>, testid: &'static str) -> impl IntoView {
    let node = NodeRef::<Div>::new();
    let width = RwSignal::new(0u32);
    let measure = move || {
        if let Some(el) = node.get_untracked() {
            let w = el.client_width().max(0) as u32;
            if w > 0 && w != width.get_untracked() {
                width.set(w);
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
    let svg = Memo::new(move |_| {
        let w = width.get();
        if w == 0 {
            String::new()
        } else {
            render.run(w)
        }
    });
    // SAFETY (markup): the SVG comes from `components::charts`, which writes every
    // data-derived string (tag keys and values, feedback keys) through `svg::escape` and hands
    // plotters only numbers and fixed text, which plotters escapes itself. That invariant is
    // what makes `inner_html` acceptable here; keep it when changing the charts.
    view! {
        <div class="m-chart" node_ref=node data-testid=testid inner_html=move || svg.get()></div>
    }
}

/// Placeholder cards while the first answer loads.
#[component]
fn MetricsSkeleton() -> impl IntoView {
    view! {
        <div class="metrics-grid" aria-busy="true" aria-label="Loading metrics">
            {[("ab-card", 5usize), ("", 0), ("wide", 0), ("wide", 0)]
                .into_iter()
                .map(|(class, rows)| view! {
                    <section class=format!("m-card {class}")>
                        <header class="m-card-head"><span class="shimmer" style="width: 40%"></span></header>
                        {if rows > 0 {
                            (0..rows).map(|i| view! {
                                <div class="m-skeleton-line"><span class="shimmer" style=format!("width: {}%", 50 + (i * 17) % 45)></span></div>
                            }).collect_view().into_any()
                        } else {
                            view! { <div class="m-chart-skeleton shimmer"></div> }.into_any()
                        }}
                    </section>
                })
                .collect_view()}
        </div>
    }
}

/// The metric, grouping, filters, time range and bucket pickers. They only edit the URL.
#[component]
fn Controls(
    view: Memo<MetricsView>,
    project: Memo<String>,
    tag_keys: RwSignal<Option<Result<Vec<TagKeyInfo>, ApiError>>>,
    feedback_keys: RwSignal<Vec<String>>,
    set_query: Callback<MetricQuery>,
    set_view: Callback<MetricsView>,
) -> impl IntoView {
    let query = Memo::new(move |_| view.get().query);

    let on_metric = move |ev: leptos::ev::Event| {
        if let Ok(metric) = Metric::parse(&event_target_value(&ev)) {
            let mut q = query.get_untracked();
            q.metric = metric;
            set_query.run(q);
        }
    };
    let metric_options = move || {
        let current = query.get().metric.to_string();
        let mut keys = feedback_keys.get();
        if let Some(key) = current.strip_prefix("feedback:") {
            if !keys.iter().any(|k| k == key) {
                keys.push(key.to_string());
                keys.sort();
            }
        }
        let mut groups: Vec<(&str, Vec<(String, String)>)> = Vec::new();
        for (group, name, label) in mv::BUILT_IN {
            match groups.last_mut() {
                Some((g, items)) if *g == group => items.push((name.into(), label.into())),
                _ => groups.push((group, vec![(name.into(), label.into())])),
            }
        }
        let feedback: Vec<(String, String)> = keys
            .into_iter()
            .map(|k| (format!("feedback:{k}"), format!("Feedback: {k}")))
            .collect();
        let feedback_group = (!feedback.is_empty()).then_some(("Feedback score (mean)", feedback));
        groups
            .into_iter()
            .chain(feedback_group)
            .map(|(group, items)| {
                let current = current.clone();
                view! {
                    <optgroup label=group>
                        {items.into_iter().map(|(value, label)| {
                            let selected = value == current;
                            view! { <option value=value selected=selected>{label}</option> }
                        }).collect_view()}
                    </optgroup>
                }
            })
            .collect_view()
    };

    let on_group = move |ev: leptos::ev::Event| {
        let key = event_target_value(&ev);
        let mut q = query.get_untracked();
        q.group_by = (!key.is_empty()).then_some(key);
        set_query.run(q);
    };
    let group_options = move || {
        let current = query.get().group_by;
        let mut keys: Vec<(String, Option<u64>)> = match tag_keys.get() {
            Some(Ok(list)) => list
                .into_iter()
                .map(|k| (k.key, Some(k.trace_count)))
                .collect(),
            _ => Vec::new(),
        };
        if let Some(c) = &current {
            if !keys.iter().any(|(k, _)| k == c) {
                keys.insert(0, (c.clone(), None));
            }
        }
        let none_selected = current.is_none();
        view! {
            <option value="" selected=none_selected>"No grouping"</option>
            {keys.into_iter().map(|(key, count)| {
                let selected = current.as_deref() == Some(key.as_str());
                let label = match count {
                    Some(n) => format!("{key} ({})", text::thousands(n)),
                    None => key.clone(),
                };
                view! { <option value=key selected=selected>{label}</option> }
            }).collect_view()}
        }
    };

    let on_bucket = move |ev: leptos::ev::Event| {
        if let Ok(bucket) = metrics::Bucket::parse(&event_target_value(&ev)) {
            let mut q = query.get_untracked();
            q.bucket = bucket;
            set_query.run(q);
        }
    };
    let bucket_options = move || {
        let current = query.get().bucket.to_string();
        let mut list: Vec<String> = mv::BUCKETS.iter().map(|s| s.to_string()).collect();
        if !list.contains(&current) {
            list.push(current.clone());
        }
        list.into_iter()
            .map(|b| {
                let selected = b == current;
                let label = if b == "auto" {
                    "Auto".to_string()
                } else {
                    b.clone()
                };
                view! { <option value=b selected=selected>{label}</option> }
            })
            .collect_view()
    };

    let set_range = move |range: Range| {
        let mut v = view.get_untracked();
        v.range = range;
        v.query.from_ms = None;
        v.query.to_ms = None;
        set_view.run(v);
    };
    let fixed = move || {
        let q = query.get();
        (q.from_ms.is_some() || q.to_ms.is_some()).then(|| {
            let from = q.from_ms.map(day_time).unwrap_or_else(|| "…".into());
            let to = q.to_ms.map(day_time).unwrap_or_else(|| "now".into());
            view! { <span class="range-fixed" title="A fixed range from the link">{format!("{from} – {to}")}</span> }
        })
    };
    let ranges = move || {
        let v = view.get();
        let fixed = v.query.from_ms.is_some() || v.query.to_ms.is_some();
        Range::ALL
            .into_iter()
            .map(|r| {
                let pressed = !fixed && v.range == r;
                view! {
                    <button type="button" class="m-seg-button" data-range=r.as_str()
                        aria-pressed=pressed.to_string()
                        on:click=move |_| set_range(r)>{r.label()}</button>
                }
            })
            .collect_view()
    };

    let remove_tag = move |i: usize| {
        let mut q = query.get_untracked();
        if i < q.tags.len() {
            q.tags.remove(i);
        }
        set_query.run(q);
    };
    let chips = move || {
        query
            .get()
            .tags
            .into_iter()
            .enumerate()
            .map(|(i, tag)| {
                let label = format!("Remove filter {} = {}", tag.key, tag.value);
                view! {
                    <span class="filter-chip">
                        <span class="chip-text">
                            <span class="tag-key">{tag.key}</span>
                            <span class="filter-eq">" = "</span>
                            <span class="tag-val">{tag.value}</span>
                        </span>
                        <button type="button" class="chip-remove" title=label.clone() aria-label=label
                            on:click=move |_| remove_tag(i)>
                            <CloseIcon/>
                        </button>
                    </span>
                }
            })
            .collect_view()
    };
    let add_tag = Callback::new(move |(key, value): (String, String)| {
        let mut q = query.get_untracked();
        let tag = TagFilter { key, value };
        if !q.tags.contains(&tag) {
            q.tags.push(tag);
            set_query.run(q);
        }
    });

    view! {
        <div class="filter-bar metrics-controls">
            <div class="filter-row">
                <label class="m-control">
                    <span class="m-control-label">"Metric"</span>
                    <select class="select" name="metric" on:change=on_metric>{metric_options}</select>
                </label>
                <label class="m-control">
                    <span class="m-control-label">"Group by"</span>
                    <select class="select" name="group_by" on:change=on_group>{group_options}</select>
                </label>
                <div class="m-control">
                    <span class="m-control-label">"Range"</span>
                    <div class="m-seg" role="group" aria-label="Time range">{ranges}</div>
                    {fixed}
                </div>
                <label class="m-control">
                    <span class="m-control-label">"Bucket"</span>
                    <select class="select" name="bucket" on:change=on_bucket>{bucket_options}</select>
                </label>
            </div>
            <div class="filter-row tag-row">
                <span class="filter-label">"Filters"</span>
                {chips}
                <AddTag project=project tag_keys=tag_keys on_add=add_tag/>
            </div>
        </div>
    }
}

/// "Add filter": a tag key, then one of its values.
#[component]
fn AddTag(
    project: Memo<String>,
    tag_keys: RwSignal<Option<Result<Vec<TagKeyInfo>, ApiError>>>,
    on_add: Callback<(String, String)>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let key = RwSignal::new(String::new());
    let values = RwSignal::new(None::<(String, Result<Vec<TagValueInfo>, ApiError>)>);
    let close = move || {
        open.set(false);
        key.set(String::new());
        values.set(None);
    };
    let on_key = move |ev: leptos::ev::Event| {
        let k = event_target_value(&ev);
        key.set(k.clone());
        values.set(None);
        if k.is_empty() {
            return;
        }
        let project = project.get_untracked();
        spawn_local(async move {
            let result = api::tag_values(&project, &k).await;
            if key.try_get_untracked().as_deref() == Some(k.as_str()) {
                values.try_set(Some((k, result)));
            }
        });
    };
    let on_value = move |ev: leptos::ev::Event| {
        let (k, v) = (key.get_untracked(), event_target_value(&ev));
        if !k.is_empty() && !v.is_empty() {
            on_add.run((k, v));
            close();
        }
    };
    let key_options = move || {
        match tag_keys.get() {
        None => view! { <option value="" disabled=true>"Loading keys…"</option> }.into_any(),
        Some(Err(e)) => view! { <option value="" disabled=true>{format!("Couldn't load keys: {}", e.title())}</option> }.into_any(),
        Some(Ok(list)) => list
            .into_iter()
            .map(|k| {
                let label = format!("{} ({})", k.key, text::thousands(k.trace_count));
                view! { <option value=k.key>{label}</option> }
            })
            .collect_view()
            .into_any(),
    }
    };
    let value_options = move || {
        match values.get() {
        None => view! { <option value="" disabled=true>"Loading values…"</option> }.into_any(),
        Some((_, Err(e))) => view! { <option value="" disabled=true>{format!("Couldn't load values: {}", e.title())}</option> }.into_any(),
        Some((_, Ok(list))) => list
            .into_iter()
            .map(|v| {
                let label = format!("{} ({})", v.value, text::thousands(v.trace_count));
                view! { <option value=v.value>{label}</option> }
            })
            .collect_view()
            .into_any(),
    }
    };
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button type="button" class="add-filter" on:click=move |_| open.set(true)>
                    <PlusIcon/>"Add filter"
                </button>
            }
        >
            <span class="tag-picker"
                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { close() }>
                <select class="select" name="filter-key" aria-label="Tag key" on:change=on_key>
                    <option value="" selected=true>"Key…"</option>
                    {key_options}
                </select>
                <span class="filter-eq">"="</span>
                <select class="select" name="filter-value" aria-label="Tag value" on:change=on_value
                    disabled=move || key.get().is_empty()>
                    <option value="" selected=true>"Value…"</option>
                    {move || (!key.get().is_empty()).then(value_options)}
                </select>
                <button type="button" class="icon-button" title="Cancel" aria-label="Cancel"
                    on:click=move |_| close()>
                    <CloseIcon/>
                </button>
            </span>
        </Show>
    }
}

/// The groups' n, mean and 95% CI, and the comparison of two of them.
#[component]
fn AbPanel(
    data: RwSignal<Option<MetricResponse>>,
    view: Memo<MetricsView>,
    set_view: Callback<MetricsView>,
    series: Memo<Vec<Series>>,
) -> impl IntoView {
    // The compared pair as indices into the groups: the URL's, else the two largest groups.
    let pair = Memo::new(move |_| {
        let v = view.get();
        data.with(|d| {
            let r = d.as_ref()?;
            if r.groups.len() < 2 {
                return None;
            }
            let find = |want: &Option<Option<String>>| {
                want.as_ref()
                    .and_then(|value| r.groups.iter().position(|g| &g.value == value))
            };
            let (mut a, mut b) = (find(&v.a), find(&v.b));
            if a.is_none() || b.is_none() || a == b {
                // The two largest groups, in the groups' (reading) order.
                let mut by_n: Vec<usize> = (0..r.groups.len()).collect();
                by_n.sort_by_key(|&i| std::cmp::Reverse(r.groups[i].n));
                a = Some(by_n[0].min(by_n[1]));
                b = Some(by_n[0].max(by_n[1]));
            }
            Some((a?, b?))
        })
    });
    let pick = move |which: char, ev: leptos::ev::Event| {
        let Ok(i) = event_target_value(&ev).parse::<usize>() else {
            return;
        };
        let Some((a, b)) = pair.get_untracked() else {
            return;
        };
        let value = |i: usize| {
            data.with_untracked(|d| {
                d.as_ref()
                    .and_then(|r| r.groups.get(i).map(|g| g.value.clone()))
            })
        };
        let (mut a, mut b) = (a, b);
        if which == 'a' {
            if i == b {
                b = a;
            }
            a = i;
        } else {
            if i == a {
                a = b;
            }
            b = i;
        }
        let mut v = view.get_untracked();
        v.a = value(a);
        v.b = value(b);
        set_view.run(v);
    };

    let rows = move || {
        let r = data.get()?;
        let colors = series.get();
        let kind = r.kind;
        Some(
            r.groups
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let label = mv::group_label(&g.value, r.group_by.as_deref());
                    let color = colors.get(i).map(|s| charts::hex(s.color)).unwrap_or_default();
                    let mean = match kind {
                        MetricKind::Count => "—".to_string(),
                        _ => mv::value(g.mean, &r.metric),
                    };
                    let ci = match (kind, g.ci) {
                        (MetricKind::Count, _) => "—".to_string(),
                        (_, Some(ci)) => format!(
                            "{} – {}",
                            mv::value(ci.low, &r.metric),
                            mv::value(ci.high, &r.metric)
                        ),
                        (_, None) => format!("n < {}", mv::MIN_PER_GROUP),
                    };
                    view! {
                        <tr data-group=label.clone()>
                            <td>
                                <div class="group-cell">
                                    <span class="swatch" style=format!("background: {color}")></span>
                                    <span class="group-name" title=label.clone()>{label.clone()}</span>
                                </div>
                            </td>
                            <td class="col-num" data-col="n">{text::thousands(g.n)}</td>
                            <td class="col-num" data-col="mean">{mean}</td>
                            <td class="col-num" data-col="ci">{ci}</td>
                        </tr>
                    }
                })
                .collect_view(),
        )
    };

    let comparison = move || {
        let r = data.get()?;
        if r.group_by.is_none() {
            return Some(view! {
                <p class="m-note">"Choose a tag to group by (for example ab_test_variant) to compare groups."</p>
            }.into_any());
        }
        if r.groups.len() < 2 {
            return Some(
                view! {
                    <p class="m-note">"Only one group in this range: nothing to compare."</p>
                }
                .into_any(),
            );
        }
        let (a, b) = pair.get()?;
        let (ga, gb) = (&r.groups[a], &r.groups[b]);
        let la = mv::group_label(&ga.value, r.group_by.as_deref());
        let lb = mv::group_label(&gb.value, r.group_by.as_deref());
        let options = |selected: usize| {
            r.groups
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let label = mv::group_label(&g.value, r.group_by.as_deref());
                    view! { <option value=i.to_string() selected=i == selected>{label}</option> }
                })
                .collect_view()
        };
        let result = match metrics::compare(r.kind, ga, gb) {
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
                view! {
                    <div class="verdict" class:significant=verdict.significant data-testid="ab-verdict">
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
        Some(
            view! {
                <div class="ab-compare">
                    <div class="ab-pickers">
                        <select class="select" name="ab-a" aria-label="First group"
                            on:change=move |ev| pick('a', ev)>{options(a)}</select>
                        <span class="muted">"vs"</span>
                        <select class="select" name="ab-b" aria-label="Second group"
                            on:change=move |ev| pick('b', ev)>{options(b)}</select>
                    </div>
                    {result}
                    {latency_note}
                </div>
            }
            .into_any(),
        )
    };

    let omitted = move || {
        data.with(|d| {
            d.as_ref().filter(|r| r.omitted_groups > 0).map(|r| {
                format!(
                    "{} smaller groups not shown",
                    text::thousands(r.omitted_groups)
                )
            })
        })
    };
    let mean_head = move || {
        data.with(|d| match d.as_ref().map(|r| r.kind) {
            Some(MetricKind::Rate) => "Rate",
            _ => "Mean",
        })
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
        {move || omitted().map(|t| view! { <p class="m-note">{t}</p> })}
        {comparison}
    }
}
