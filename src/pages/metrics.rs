//! `/metrics`: a metric per group of a tag over time, each group's mean with its 95% CI, each
//! group's distribution, and an honest A/B comparison of two groups. The page URL is the state
//! (`crate::metrics_view`): every control edits the URL, and the page re-draws from it without
//! a reload. The collector computes the aggregates (`GET /api/v1/metrics`); the statistics of
//! the comparison are `skein_model::metrics::compare`.
//!
//! The page re-renders in a few coarse blocks (the controls, the results) rather than many
//! fine-grained reactive pieces: every reactive closure costs code in the wasm bundle, and
//! these blocks change together anyway.

mod ab;
mod controls;
mod pairs;
mod pairwise;

use std::sync::Arc;

use leptos::html::Div;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use skein_model::metrics::{self, Metric, MetricKind, MetricResponse, Over, Statistic};
use skein_model::sort;
use skein_model::{ScoreConfigList, TagKeyInfo, TraceQuery};

use crate::api::{self, ApiError};
use crate::components::charts::{self, Colors, Series};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::feedback::configs;
use crate::components::filter_check;
use crate::components::filter_input::FilterInput;
use crate::components::remote::{Latest, Phase};
use crate::components::theme_toggle::{Theme, ThemeState};
use crate::metrics_view::{self as mv, Dist, MetricsView};
use crate::time::now_ms;
use crate::{links, text};

use ab::ab_panel;
use controls::Controls;
use pairwise::PairwisePanel;

/// How many recent traces are read to learn the project's feedback keys.
const KEY_SAMPLE: u32 = 200;

pub type TagKeys = RwSignal<Option<Result<Vec<TagKeyInfo>, ApiError>>>;

#[component]
pub fn MetricsPage() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let parsed = Memo::new(move |_| MetricsView::from_search(&location.search.get()));
    let view = Memo::new(move |_| parsed.get().unwrap_or_default());
    // The link's filter is checked by the lazily loaded parser (and by the collector).
    let filter_error = filter_check::link_filter_error(Signal::derive(move || {
        parsed.with(|p| p.as_ref().ok().and_then(|v| v.filter.clone()))
    }));
    let url_error = Memo::new(move |_| match parsed.get() {
        Err(e) => Some(e.to_string()),
        Ok(_) => filter_error.get().map(|e| format!("filter: {e}")),
    });

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
        (project.get(), v.query, v.range, v.filter)
    });
    // The two-key table's code fetched beside the data (a chunk of its own).
    Effect::new(move |_| {
        if view.with(|v| v.query.then_by.is_some()) {
            pairs::preload();
        }
    });
    let data = RwSignal::new(None::<Arc<MetricResponse>>);
    let phase = RwSignal::new(Phase::Loading);
    let latest = Latest::new();
    Effect::new(move |_| {
        let (project, _, _, _) = fetch_key.get();
        let ticket = latest.next();
        if url_error.get().is_some() {
            phase.set(Phase::Ready);
            data.set(None);
            return;
        }
        phase.set(Phase::Loading);
        let view = view.get_untracked();
        let fetch = move || {
            let (project, query) = (project.clone(), view.api_query(now_ms()));
            async move { api::metrics(&project, &query).await }
        };
        latest.fetch(ticket, fetch, move |result| match result {
            Ok(mut response) => {
                mv::sort_groups(&mut response.groups);
                data.set(Some(Arc::new(response)));
                phase.set(Phase::Ready);
            }
            Err(error) => phase.set(Phase::Failed(error)),
        });
    });

    // Tag keys (group-by choices, filters) and the feedback keys seen in recent traces.
    let tag_keys: TagKeys = RwSignal::new(None);
    let feedback_keys = RwSignal::new(Vec::<String>::new());
    let score_configs = RwSignal::new(ScoreConfigList::default());
    let (tags_latest, feedback_latest) = (Latest::new(), Latest::new());
    let configs_latest = Latest::new();
    Effect::new(move |_| {
        let project = project.get();
        let configs = {
            let project = project.clone();
            move || {
                let project = project.clone();
                async move { configs::score_configs(project).await }
            }
        };
        configs_latest.fetch(configs_latest.next(), configs, move |result| {
            // Without them the charts show plain numbers.
            if let Ok(list) = result {
                score_configs.try_set(list);
            }
        });
        let tags = {
            let project = project.clone();
            move || {
                let project = project.clone();
                async move { api::tags(&project).await }
            }
        };
        tags_latest.fetch(tags_latest.next(), tags, move |result| {
            tag_keys.try_set(Some(result));
        });
        let sample = move || {
            let project = project.clone();
            let query = TraceQuery {
                limit: Some(KEY_SAMPLE),
                ..TraceQuery::default()
            };
            async move { api::feedback_keys(&project, &query).await }
        };
        feedback_latest.fetch(feedback_latest.next(), sample, move |result| {
            if let Ok(mut keys) = result {
                sort::sort(&mut keys);
                keys.dedup();
                feedback_keys.try_set(keys);
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
            return empty_state(&v.query.metric, v.query.over).into_any();
        }
        let colors = Colors::new(dark.get());
        let series = Arc::new(charts::series(&r, &colors));
        let scale = Arc::new(score_scale(&score_configs.get(), &v.query.metric));
        results_view(r, v, series, colors, set_view, widths, scale).into_any()
    };
    let stale = move || !matches!(phase.get(), Phase::Ready) && data.with(Option::is_some);

    // Over spans the filter selects the spans measured; over traces, the traces having one.
    let over_spans = Memo::new(move |_| view.with(|v| v.query.over == Over::Spans));
    let filter_input = move || {
        let label = if over_spans.get() {
            "Spans where"
        } else {
            "Traces having a span where"
        };
        view! {
            <FilterInput project=project label=label
                value=Signal::derive(move || view.with(|v| v.filter.clone().unwrap_or_default()))
                on_apply=Callback::new(move |text: String| {
                    let mut v = view.get_untracked();
                    v.filter = (!text.is_empty()).then_some(text);
                    set_view.run(v);
                })/>
        }
    };

    view! {
        <div class="page metrics-page">
            <div class="page-head">
                <h1>"Metrics"</h1>
                <span class="result-count" data-testid="metrics-summary">{summary}</span>
            </div>
            <Controls view=view project=project tag_keys=tag_keys feedback_keys=feedback_keys
                set_view=set_view/>
            <div class="filter-bar span-condition">{filter_input}</div>
            {banners}
            <div class="metrics-results" class:stale=stale>{results}</div>
            <PairwisePanel project=project
                group_by=Signal::derive(move || view.with(|v| v.query.group_by.clone()))
                chosen=Signal::derive(move || view.with(|v| v.pairwise.clone()))
                choose=Callback::new(move |queue: String| {
                    let mut v = view.get_untracked();
                    v.pairwise = Some(queue);
                    set_view.run(v);
                })/>
        </div>
    }
}

/// The named scores of a feedback metric whose key has a config (`ScoreConfigList::named_scores`).
fn score_scale(configs: &ScoreConfigList, metric: &Metric) -> Vec<(f64, String)> {
    match metric {
        Metric::Feedback(key) => configs.named_scores(key),
        _ => Vec::new(),
    }
}

/// "1,235 traces with feedback · 2 groups · Nov 17 09:26 – Nov 24 09:38 · 3h buckets".
fn summary_text(r: &MetricResponse) -> String {
    let total: u64 = r.groups.iter().map(|g| g.n).sum();
    let unit = mv::unit_words(r);
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

fn empty_state(metric: &Metric, over: Over) -> impl IntoView {
    let (title, body) = match metric {
        Metric::Attr(key) => (
            format!("No span with a number under \u{201c}{key}\u{201d} in this range"),
            "No span here has this attribute as a number. Check the key on a span's attributes, or widen the time range or the span filter.",
        ),
        _ if over == Over::Spans => (
            "No spans in this range".to_string(),
            "No span matches this time range and these filters. Try a wider range or another span filter.",
        ),
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
    scale: Arc<Vec<(f64, String)>>,
) -> impl IntoView {
    let scale_note = (!scale.is_empty()).then(|| {
        let names: Vec<String> = scale
            .iter()
            .map(|(score, label)| format!("{label} = {}", skein_model::format::plain(*score)))
            .collect();
        view! {
            <p class="m-note" data-testid="score-scale">
                {format!("Scores of {}: {}", r.metric.label(), names.join(" · "))}
            </p>
        }
    });
    let means_title = match (r.kind, r.over) {
        (MetricKind::Count, Over::Spans) => "Spans per group",
        (MetricKind::Count, _) => "Traces per group",
        (kind, _) => match kind {
            MetricKind::Count => "Traces per group",
            MetricKind::Rate => "Rate per group, with 95% confidence interval",
            MetricKind::Value => "Mean per group, with 95% confidence interval",
        },
    };
    let what = match (r.statistic, r.kind) {
        (Statistic::Count, _) if r.over == Over::Spans => "Spans",
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
        let (r, series, scale) = (r.clone(), series.clone(), scale.clone());
        Callback::new(move |width: u32| match which {
            0 => charts::means(&r, &series, &scale, width, &colors),
            1 => charts::time_series(&r, &series, &scale, width, &colors),
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
    let pairs_or_groups = if r.then_by.is_some() {
        view! { <section class="m-card wide pairs-card">{pairs::pairs_panel(&r, &v, set_view)}</section> }
            .into_any()
    } else {
        view! { <section class="m-card ab-card">{ab_panel(&r, &v, &series, set_view)}</section> }
            .into_any()
    };
    view! {
        <div class="metrics-grid">
            {pairs_or_groups}
            <section class="m-card">
                <header class="m-card-head"><h2>{means_title}</h2></header>
                <Chart render={chart(0)} testid="chart-means" index=0 widths=widths/>
                {scale_note}
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
pub fn day_time(ms: i64) -> String {
    crate::time::local_parts(ms)
        .map(|t| format!("{} {}", t.month_day(), t.hour_minute()))
        .unwrap_or_default()
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
                    || crate::perf::mark("skein:metrics-painted"),
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
