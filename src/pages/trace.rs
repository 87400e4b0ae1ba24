//! `/traces/:trace_id`: one trace's header and its spans as an indented tree. A first,
//! simple view: it shows at most `MAX_ROWS` spans (a virtualized tree and waterfall replace it).

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_params_map};
use skein_model::format;
use skein_model::{SpanStatus, TraceSkeleton};

use super::traces::RETRY;
use crate::api::{self, ApiError};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::icons::ArrowLeftIcon;
use crate::components::service_chip::ServiceChip;
use crate::components::span_type::{SpanTypeBadge, SpanTypeIcon};
use crate::components::status_badge::StatusBadge;
use crate::components::tag_chip::TagChip;
use crate::time::{full_time, local_time, now_ms, use_clock};
use crate::tree::flatten;
use crate::{links, text};

/// Rows drawn at most; the rest is summarised in a note.
pub const MAX_ROWS: usize = 2_000;
/// Indentation stops growing past this depth (deeper spans show their depth as a number).
const MAX_INDENT: usize = 24;

#[derive(Clone, PartialEq)]
enum State {
    Loading,
    Ready(Arc<TraceSkeleton>),
    Failed(ApiError),
}

fn load(
    state: RwSignal<State>,
    generation: StoredValue<u64>,
    gen: u64,
    project: String,
    id: String,
) {
    spawn_local(async move {
        let result = api::trace(&project, &id).await;
        if generation.try_get_value() != Some(gen) {
            return;
        }
        match result {
            Ok(skeleton) => state.set(State::Ready(Arc::new(skeleton))),
            Err(error) => {
                let retry = error.is_transient();
                state.set(State::Failed(error));
                if retry {
                    set_timeout(
                        move || {
                            if generation.try_get_value() == Some(gen) {
                                load(state, generation, gen, project, id);
                            }
                        },
                        RETRY,
                    );
                }
            }
        }
    });
}

#[component]
pub fn TracePage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let trace_id = Memo::new(move |_| params.read().get("trace_id").unwrap_or_default());
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let state = RwSignal::new(State::Loading);
    let generation = StoredValue::new(0u64);

    Effect::new(move |_| {
        let id = trace_id.get();
        let project = project.get();
        let gen = generation.get_value() + 1;
        generation.set_value(gen);
        // Keep showing a failed state while retrying; a new trace starts from loading.
        state.set(State::Loading);
        load(state, generation, gen, project, id);
    });

    let back = move || links::list_href(&project.get(), &Default::default());

    let content = move || match state.get() {
        State::Loading => view! { <TraceLoading/> }.into_any(),
        State::Failed(error) if error.is_not_found() => view! {
            <EmptyState title="Trace not found">
                <p>"No trace with id " <code>{trace_id.get()}</code> " in project "
                   <code>{project.get()}</code> "."</p>
                <p>"It may belong to another project, or not have arrived yet."</p>
                <p><a href=back()>"Back to the trace list"</a></p>
            </EmptyState>
        }
        .into_any(),
        State::Failed(error) => {
            let retrying = error.is_transient();
            view! {
                <ErrorBanner title=error.title() detail=error.detail() retrying=retrying/>
                <TraceLoading/>
            }
            .into_any()
        }
        State::Ready(skeleton) => view! { <TraceView skeleton=skeleton/> }.into_any(),
    };

    view! {
        <div class="page trace-page">
            <a class="back-link" href=back><ArrowLeftIcon/>"Traces"</a>
            {content}
        </div>
    }
}

#[component]
fn TraceLoading() -> impl IntoView {
    view! {
        <div class="trace-header" aria-busy="true">
            <span class="shimmer" style="width: 260px; height: 20px"></span>
            <span class="shimmer" style="width: 420px"></span>
        </div>
        <div class="span-tree">
            {(0..8)
                .map(|i| {
                    let style = format!("width: {}%; margin-left: {}px", 30 + (i * 17) % 40, (i % 4) * 16);
                    view! { <div class="span-row skeleton"><span class="shimmer" style=style></span></div> }
                })
                .collect_view()}
        </div>
    }
}

#[component]
fn TraceView(skeleton: Arc<TraceSkeleton>) -> impl IntoView {
    let clock = use_clock();
    let summary = skeleton.summary.clone();
    let (rows, total) = flatten(&skeleton, MAX_ROWS);
    let trace_us = summary.duration_ns() / 1_000;
    // The span extent can exceed the summary's (clock skew): scale bars to whichever is larger.
    let extent_us = skeleton
        .spans
        .iter()
        .map(|s| s.end_us())
        .max()
        .unwrap_or(0)
        .max(trace_us)
        .max(1);
    let start_ms = summary.start_ns / 1_000_000;
    let tags: Vec<(String, String)> = summary.tags.clone().into_iter().collect();
    let root_type = skeleton
        .spans
        .iter()
        .find(|s| s.parent().is_none())
        .map(|s| s.span_type())
        .unwrap_or_default();
    let shown = rows.len();
    let tokens = summary.total_tokens();

    let row_views = rows
        .into_iter()
        .map(|row| {
            let span = &skeleton.spans[row.index];
            let name = skeleton.name_of(span).to_string();
            let label = if name.is_empty() { "(unnamed)".to_string() } else { name.clone() };
            let service = skeleton.service_of(span).to_string();
            let kind = span.span_type();
            let failed = span.status() == SpanStatus::Error;
            let indent = row.depth.min(MAX_INDENT) * 16;
            let left = span.start_us().max(0) as f64 * 100.0 / extent_us as f64;
            let width = (span.duration_us().max(0) as f64 * 100.0 / extent_us as f64).max(0.3);
            let bar = format!("left: {left:.2}%; width: {:.2}%", width.min(100.0 - left.min(99.7)));
            let offset = match span.start_us() {
                0 => "0".to_string(),
                us => format!("+{}", format::duration_ns(us * 1_000)),
            };
            let tokens = span.tokens();
            view! {
                <div class="span-row" class:row-error=failed data-span-id=span.span_id().to_string()>
                    <div class="span-name" style=format!("padding-left: {}px", indent + 8)>
                        {(row.depth > MAX_INDENT).then(|| view! {
                            <span class="depth-note" title="Nesting depth">{row.depth}</span>
                        })}
                        <SpanTypeIcon kind=kind/>
                        <span class="name" title=name.clone()>{label}</span>
                        <SpanTypeBadge kind=kind/>
                        {failed.then(|| view! { <StatusBadge status=SpanStatus::Error/> })}
                    </div>
                    <div class="span-service"><ServiceChip name=service/></div>
                    <div class="span-num muted" title="Start, after the trace's start">{offset}</div>
                    <div class="span-num">{format::duration_ns(span.duration_us() * 1_000)}</div>
                    <div class="span-num">{if tokens > 0 { format::count(tokens) } else { String::new() }}</div>
                    <div class="span-bar" aria-hidden="true">
                        <div class="track"><span class="bar" class:bar-error=failed style=bar></span></div>
                    </div>
                </div>
            }
        })
        .collect_view();

    view! {
        <header class="trace-header">
            <div class="trace-title">
                <SpanTypeIcon kind=root_type/>
                <h1 title=summary.root_name.clone()>{summary.root_name.clone()}</h1>
                <StatusBadge status=summary.status error_count=summary.error_count/>
            </div>
            <dl class="trace-meta">
                <div><dt>"Duration"</dt><dd class="num">{format::duration_ns(summary.duration_ns())}</dd></div>
                <div><dt>"Spans"</dt><dd class="num">{text::thousands(summary.span_count)}</dd></div>
                <div><dt>"Started"</dt>
                    <dd title=full_time(summary.start_ns)>{local_time(summary.start_ns, now_ms())}
                        <span class="muted">" · " {move || text::relative(start_ms, clock.get())}</span></dd></div>
                <div><dt>"Tokens"</dt>
                    <dd class="num" title=format!("{} input + {} output", summary.input_tokens, summary.output_tokens)>
                        {if tokens > 0 { format::count(tokens) } else { "—".to_string() }}</dd></div>
                {(summary.cost > 0.0).then(|| view! {
                    <div><dt>"Cost"</dt><dd class="num">{format::cost_usd(summary.cost)}</dd></div>
                })}
                <div><dt>"Trace ID"</dt><dd class="mono">{summary.trace_id.clone()}</dd></div>
            </dl>
            <div class="trace-chips">
                <span class="filter-label">"Services"</span>
                <div class="chips">
                    {summary.services.iter().cloned().map(|s| view! { <ServiceChip name=s/> }).collect_view()}
                </div>
            </div>
            {(!tags.is_empty()).then(|| view! {
                <div class="trace-chips">
                    <span class="filter-label">"Tags"</span>
                    <div class="chips">
                        {tags.into_iter().map(|(k, v)| view! { <TagChip key=k value=v/> }).collect_view()}
                    </div>
                </div>
            })}
        </header>
        <section class="span-tree" aria-label="Spans">
            <div class="span-row span-head">
                <div class="span-name">"Span"</div>
                <div class="span-service">"Service"</div>
                <div class="span-num">"Start"</div>
                <div class="span-num">"Duration"</div>
                <div class="span-num">"Tokens"</div>
                <div class="span-bar">"Timeline"</div>
            </div>
            {row_views}
        </section>
        {(total > shown).then(|| view! {
            <p class="cap-note">
                {format!(
                    "Showing the first {} of {} spans. A full, virtualized tree for large traces is on the way.",
                    text::thousands(shown as u64),
                    text::thousands(total as u64)
                )}
            </p>
        })}
    }
}
