//! `/traces/:trace_id`: one trace, explored. The page loads the compact skeleton
//! (`GET /api/v1/traces/{id}`), builds the span tree once (`skein_model::tree`), and shows the
//! header, a virtualized tree + waterfall, and a detail panel that fetches the selected span in
//! full (`?span={span_id}` in the URL).
//!
//! Timings are marked with the Performance API for benchmarks: `skein:trace-requested`,
//! `skein:trace-fetched`, `skein:trace-built`, `skein:trace-painted` and the measures
//! `skein:trace-fetch`, `skein:trace-build`, `skein:trace-load`; for a span's detail
//! `skein:span-fetch`.

mod critical;
pub(crate) mod detail;
mod explorer;
mod find;
mod header;
mod kept;
mod keyboard;
mod live;
mod minimap;
mod row;
mod row_timing;
mod rows;
mod ruler;
mod state;
mod timeline;
mod toolbar;

use std::sync::Arc;
use std::time::Duration;

use leptos::either::EitherOf4;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};
use skein_model::span::is_valid_hex_id;
use skein_model::tree::TraceTree;
use skein_model::{TraceSkeleton, TraceSummary};

use crate::api::{self, ApiError};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::feedback::TraceFeedback;
use crate::components::icons::ArrowLeftIcon;
use crate::components::remote::{Loader, Remote};
use crate::links;
use crate::perf;
use crate::time::now_ms;

use explorer::{explorer_state, Explorer};
use header::TraceHeader;
use kept::Kept;
use state::Ex;

/// A trace as the page holds it: the skeleton and its tree, shared, never copied.
#[derive(Clone)]
pub struct Loaded {
    pub skeleton: Arc<TraceSkeleton>,
    pub tree: Arc<TraceTree>,
    /// Every span has arrived (else these are the first, the top of the tree, shown while
    /// the rest is on its way).
    pub complete: bool,
}

impl Loaded {
    fn new(skeleton: TraceSkeleton, complete: bool) -> Loaded {
        let tree = TraceTree::build(&skeleton);
        Loaded {
            skeleton: Arc::new(skeleton),
            tree: Arc::new(tree),
            complete,
        }
    }
}

/// A trace with more spans than this shows its first rows while the rest arrives. Below it
/// the skeleton, usually already in the browser (index.html asked for it), decodes in one
/// stretch and is drawn once, whole: first rows drawn in the middle of it were replaced before
/// anyone saw them alone (bench/README, session 15).
const SHOW_FIRST_ROWS_FROM: usize = 200_000;

/// Fetches a trace's skeleton and builds its tree (marking both for benchmarks). A big
/// trace's first rows are handed to `first_rows` as soon as they have arrived, and
/// `whole_next` is told before the whole trace replaces them.
async fn fetch(
    project: String,
    id: String,
    first_rows: impl Fn(Loaded),
    whole_next: impl Fn(),
) -> Result<Loaded, ApiError> {
    perf::mark("skein:trace-requested");
    let mut shown_first = false;
    let skeleton = api::trace_streamed(&project, &id, |decoder| {
        let big = decoder
            .expected_spans()
            .is_some_and(|n| n > SHOW_FIRST_ROWS_FROM);
        if big && !shown_first && !decoder.is_done() && !decoder.skeleton().spans.is_empty() {
            shown_first = true;
            perf::mark("skein:trace-first-chunk");
            first_rows(Loaded::new(decoder.skeleton().clone(), false));
            return true;
        }
        false
    })
    .await?;
    perf::mark("skein:trace-fetched");
    perf::measure(
        "skein:trace-fetch",
        "skein:trace-requested",
        "skein:trace-fetched",
    );
    let loaded = Loaded::new(skeleton, true);
    perf::mark("skein:trace-built");
    perf::measure(
        "skein:trace-build",
        "skein:trace-fetched",
        "skein:trace-built",
    );
    if shown_first {
        whole_next();
    }
    Ok(loaded)
}

/// A trace whose last span ended this recently (or whose root has not arrived) may still be
/// in progress: its page follows its new spans.
const IN_PROGRESS_MS: i64 = 15 * 60 * 1000;
/// New spans are gathered this long before the skeleton is fetched again.
const REFETCH_AFTER: Duration = Duration::from_millis(300);

fn in_progress(summary: &TraceSummary) -> bool {
    !summary.has_root || summary.end_ns / 1_000_000 >= now_ms() - IN_PROGRESS_MS
}

#[component]
pub fn TracePage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let trace_id = Memo::new(move |_| params.read().get("trace_id").unwrap_or_default());
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let span_in_url = Memo::new(move |_| links::span_param(&location.search.get()));
    let skew_in_url = Memo::new(move |_| links::skew_param(&location.search.get()));
    let loader = Loader::<Loaded>::new();
    // The explorer shown, and the view taken from it before the trace is loaded again: the
    // new explorer shows it (find, selection, collapse, zoom, scroll).
    let shown = StoredValue::new(None::<Ex>);
    let kept = StoredValue::new(None::<Kept>);
    // Each load's number: a big trace's first rows are shown only while their load is the
    // latest and nothing else is shown yet.
    let loads = StoredValue::new(0u64);
    // The feedback store made for a big trace's first rows, taken over by the whole trace of
    // the same load (fetched once, not twice). Made under the page's owner: the first rows'
    // view is dropped when the whole trace replaces it.
    let page_owner = Owner::current().unwrap_or_default();
    let first_rows_feedback = StoredValue::new(None::<TraceFeedback>);
    let load = move |keep: bool| {
        let ticket = loads.get_value() + 1;
        loads.set_value(ticket);
        let (project, id) = (project.get_untracked(), trace_id.get_untracked());
        loader.load(keep, move || {
            let first_rows = move |first: Loaded| {
                let waiting = matches!(loader.state.try_get_untracked(), Some(Remote::Loading));
                if loads.try_get_value() == Some(ticket) && waiting {
                    loader.state.set(Remote::Ready(first));
                }
            };
            let whole_next = move || {
                if loads.try_get_value() == Some(ticket) {
                    kept.set_value(shown.get_value().and_then(kept::keep));
                }
            };
            fetch(project.clone(), id.clone(), first_rows, whole_next)
        });
    };
    Effect::new(move |_| {
        project.track();
        trace_id.track();
        load(false);
    });

    // A trace still in progress grows as its spans arrive: a stream of its new spans, each
    // burst of them coalesced into one fetch of the skeleton.
    let follow = Memo::new(move |_| {
        let id = trace_id.get();
        let recent = loader.state.with(|s| match s {
            Remote::Ready(loaded) => loaded.complete && in_progress(&loaded.skeleton.summary),
            _ => false,
        });
        (recent && is_valid_hex_id(&id, 32))
            .then(|| links::api_stream_spans(&project.get(), &format!("eq(trace_id, \"{id}\")")))
    });
    let refetch_due = StoredValue::new(false);
    let refetch = move || {
        if refetch_due.try_get_value() != Some(false) {
            return;
        }
        refetch_due.set_value(true);
        set_timeout(
            move || {
                if refetch_due.try_update_value(|due| *due = false).is_none() {
                    return;
                }
                kept.set_value(shown.get_value().and_then(kept::keep));
                load(true);
            },
            REFETCH_AFTER,
        );
    };
    // The page has just loaded the skeleton when the stream first opens: only a reopened
    // stream (after a drop) asks again for what may have come meanwhile.
    let opened = StoredValue::new(false);
    live::follow_trace(
        follow,
        Callback::new(move |()| refetch()),
        Callback::new(move |()| {
            if opened.get_value() {
                refetch();
            } else {
                opened.set_value(true);
            }
        }),
    );

    let back = move || links::list_href(&project.get(), &Default::default());

    // The other states: small views, redrawn as the state changes.
    let other = move || match loader.state.get() {
        Remote::Ready(_) => None,
        Remote::Loading => Some(EitherOf4::A(view! { <TraceLoading/> })),
        Remote::Failed(error) if error.is_not_found() => Some(EitherOf4::B(view! {
            <EmptyState title="Trace not found">
                <p>"No trace with id " <code>{trace_id.get()}</code> " in project "
                   <code>{project.get()}</code> "."</p>
                <p>"It may belong to another project, or its spans may not have arrived yet."</p>
                <p><a href=back()>"Back to the trace list"</a></p>
            </EmptyState>
        })),
        Remote::Failed(error) if !error.is_transient() => Some(EitherOf4::C(view! {
            <ErrorBanner title=error.title() detail=error.detail()/>
        })),
        Remote::Failed(error) => Some(EitherOf4::D(view! {
            <ErrorBanner title=error.title() detail=error.detail() retrying=true/>
            <TraceLoading/>
        })),
    };
    // The loaded trace: built once per load, never diffed (a keyed list of at most one).
    let ready = move || match loader.state.get() {
        Remote::Ready(loaded) => Some(loaded),
        _ => None,
    };

    view! {
        <div class="page trace-page">
            <a class="back-link" href=back><ArrowLeftIcon/>"Traces"</a>
            {other}
            <For each=ready key=|loaded| Arc::as_ptr(&loaded.skeleton) as usize children=move |loaded: Loaded| {
                let project_now = project.get_untracked();
                let id = trace_id.get_untracked();
                // The trace's feedback, shared by the detail panel's widget and the rows' badges.
                let feedback = if loaded.complete {
                    first_rows_feedback
                        .try_update_value(Option::take)
                        .flatten()
                        .filter(|f| f.is_of(&project_now, &id))
                        .unwrap_or_else(|| TraceFeedback::new(project_now.clone(), id.clone()))
                } else {
                    let made = page_owner.with(|| TraceFeedback::new(project_now.clone(), id.clone()));
                    first_rows_feedback.set_value(Some(made));
                    made
                };
                feedback.provide();
                let ex = explorer_state(&loaded, project_now.clone(), id.clone(), span_in_url, skew_in_url);
                if let Some(view) = kept.try_update_value(Option::take).flatten() {
                    // Replacing a painted explorer: nothing waits for a paint (the minimap
                    // would blink).
                    ex.painted.set(true);
                    kept::restore(ex, view);
                }
                shown.set_value(Some(ex));
                // One extent for the header, the ruler and the bars (adjusted or not).
                let duration_ns = Signal::derive(move || ex.timing().duration_us() * 1_000);
                view! {
                    <TraceHeader skeleton=loaded.skeleton.clone() project=project_now.clone()
                        duration_ns=duration_ns/>
                    <Explorer ex=ex project=project_now trace_id=id span_in_url=span_in_url/>
                }
            }/>
        </div>
    }
}

/// The page's shape while the skeleton loads: header, toolbar, rows with bars.
#[component]
fn TraceLoading() -> impl IntoView {
    view! {
        <div class="trace-header" aria-busy="true" aria-label="Loading the trace">
            <span class="shimmer" style="width: 260px; height: 20px"></span>
            <span class="shimmer" style="width: 460px"></span>
            <span class="shimmer" style="width: 320px"></span>
        </div>
        <div class="explorer explorer-loading" aria-hidden="true">
            <div class="explorer-main">
                <div class="explorer-toolbar">
                    <span class="shimmer" style="width: 280px; height: 26px"></span>
                </div>
                <div class="rows-wrap">
                    {(0..12)
                        .map(|i| {
                            let name = format!(
                                "width: {}px; margin-left: {}px",
                                90 + (i * 37) % 120,
                                (i % 4) * 14
                            );
                            let bar = format!(
                                "margin-left: {}%; width: {}%",
                                (i * 7) % 50,
                                8 + (i * 13) % 40
                            );
                            view! {
                                <div class="loading-row">
                                    <span class="loading-name"><span class="shimmer" style=name></span></span>
                                    <span class="loading-bar"><span class="shimmer" style=bar></span></span>
                                </div>
                            }
                        })
                        .collect_view()}
                </div>
            </div>
        </div>
    }
}
