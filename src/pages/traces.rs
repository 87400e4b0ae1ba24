//! `/traces`: the trace list, filtered by the page URL's query string.

mod select;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use skein_model::format;
use skein_model::live::TRACE_EVENT;
use skein_model::sort;
use skein_model::{TagFilter, TagKeyInfo, TraceQuery, TraceSummary, DEFAULT_PROJECT};

use crate::api::{self, ApiError};
use crate::components::add_to_queue::{AddToQueue, QueueRuns};
use crate::components::download_button::DownloadButton;
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::feedback::FeedbackSummary;
use crate::components::filter_bar::{go_to_list, FilterBar};
use crate::components::filter_check;
use crate::components::filter_input::FilterInput;
use crate::components::icons::TraceIcon;
use crate::components::live::{use_live_list, LiveNotice, LiveSwitch};
use crate::components::remote::{LoadMore, Loader, PageOf, Pager, Phase, Remote};
use crate::components::row_link::row_opener;
use crate::components::service_chip::ServiceChip;
use crate::components::skeleton::SkeletonRows;
use crate::components::span_type::SpanTypeIcon;
use crate::components::status_badge::StatusBadge;
use crate::components::tag_chip::RowTagChips;
use crate::time::{full_time, local_time, now_ms, use_clock};
use crate::{links, number, text};

use select::{SelectCell, Selection, SelectionBar};

const COLUMNS: usize = 10;
const SERVICES_SHOWN: usize = 1;
/// Rows a live list keeps (the oldest go), and live rows held while the user reads: few
/// enough that a burst of new traces redraws a table the browser lays out quickly.
const LIVE_ROWS: usize = 200;
/// Events kept between two frames: a burst beyond this shows its newest only.
const LIVE_BUFFERED: usize = 1_000;

fn trace_key(t: &TraceSummary) -> &str {
    &t.trace_id
}

#[component]
pub fn TracesPage() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let compare_with = Memo::new(move |_| links::param(&location.search.get(), "compare"));
    let parsed =
        Memo::new(move |_| TraceQuery::from_link(&location.search.get(), number::parse_finite));
    let query = Memo::new(move |_| {
        let mut q = parsed.get().unwrap_or_default();
        q.cursor = None;
        q
    });
    let url_error = Memo::new(move |_| parsed.get().err().map(|e| e.to_string()));
    // A trace opened from a searched list starts its find box with the searched text.
    let searched =
        filter_check::searched_text(Signal::derive(move || query.with(|q| q.filter.clone())));

    let list = Pager::<TraceSummary>::new();
    let fetch_page = move |cursor: Option<String>| {
        let project = project.get_untracked();
        let mut query = query.get_untracked();
        query.cursor = cursor;
        async move {
            let page = api::traces(&project, &query).await?;
            Ok(PageOf {
                rows: page.traces,
                total: page.total,
                total_approximate: page.total_approximate,
                next_cursor: page.next_cursor,
            })
        }
    };
    Effect::new(move |_| {
        project.track();
        query.track();
        if url_error.get().is_some() {
            list.clear();
        } else {
            list.reload(fetch_page);
        }
    });
    let load_more = move |_: ()| list.load_more(fetch_page);
    // What in the link cannot be read: here, or by the collector (a 400 names the problem; the
    // filter language is checked there only, its parser kept out of this page).
    let query_error = Memo::new(move |_| {
        url_error.get().or_else(|| match list.phase.get() {
            Phase::Failed(ApiError::Status {
                status: 400,
                message,
            }) => Some(message),
            _ => None,
        })
    });

    // Live: new traces matching the filters come in at the top as they arrive (`live=1`).
    let live_on = Memo::new(move |_| links::live_param(&location.search.get()));
    let live_url = Memo::new(move |_| {
        (live_on.get() && query_error.get().is_none())
            .then(|| links::api_stream_traces(&project.get(), &query.get()))
    });
    let (hold, live_status, show_held) = use_live_list(
        list,
        live_url.into(),
        TRACE_EVENT,
        trace_key,
        (LIVE_ROWS, LIVE_BUFFERED),
        move || list.reload(fetch_page),
    );
    let live_new = Signal::derive(move || {
        hold.held.with(|held| {
            list.rows.with(|rows| {
                held.iter()
                    .filter(|t| !rows.iter().any(|r| r.trace_id == t.trace_id))
                    .count()
            })
        })
    });
    let live_toggle = Signal::derive(move || {
        links::with_live(
            &links::list_href(&project.get(), &query.get()),
            !live_on.get(),
        )
    });

    // Tag keys by how much they matter here: those filtered on, then the project's most used.
    let tag_keys = Loader::<Vec<TagKeyInfo>>::new();
    Effect::new(move |_| {
        let project = project.get();
        tag_keys.load(true, move || {
            let project = project.clone();
            async move { api::tags(&project).await }
        });
    });
    let key_order = Memo::new(move |_| {
        let mut keys: Vec<String> = query.with(|q| q.tags.iter().map(|t| t.key.clone()).collect());
        if let Remote::Ready(mut info) = tag_keys.state.get() {
            sort::sort_by(&mut info, |a, b| b.trace_count.cmp(&a.trace_count));
            keys.extend(info.into_iter().map(|i| i.key));
        }
        // A few keys: a linear check keeps a hash set's code out of the page.
        let mut unique: Vec<String> = Vec::with_capacity(keys.len());
        for k in keys {
            if !unique.contains(&k) {
                unique.push(k);
            }
        }
        unique
    });

    let clear_filters = {
        let navigate = navigate.clone();
        move |_| {
            go_to_list(
                &navigate,
                &project.get_untracked(),
                &links::without_filters(&query.get_untracked()),
                false,
            )
        }
    };
    let add_tag = {
        let navigate = navigate.clone();
        Callback::new(move |(key, value): (String, String)| {
            let mut q = query.get_untracked();
            let tag = TagFilter { key, value };
            if !q.tags.contains(&tag) {
                q.tags.push(tag);
                go_to_list(&navigate, &project.get_untracked(), &q, false);
            }
        })
    };

    // "Traces having a span where ...": the API's `filter=` (LangSmith's tree_filter).
    let span_filter = Signal::derive(move || query.with(|q| q.filter.clone().unwrap_or_default()));
    let apply_span_filter = {
        let navigate = navigate.clone();
        Callback::new(move |text: String| {
            let mut q = query.get_untracked();
            q.filter = (!text.is_empty()).then_some(text);
            go_to_list(&navigate, &project.get_untracked(), &q, false);
        })
    };

    let selection = Selection::new();
    let show_skeleton = Memo::new(move |_| list.show_skeleton());
    // Rows of an older query, shown dimmed while the new one loads or fails.
    let stale = move || list.stale();

    let count = move || {
        if matches!(list.phase.get(), Phase::Failed(_)) {
            return None;
        }
        list.total
            .get()
            .map(|t| text::count(t, list.approximate.get(), "trace", "traces"))
    };

    let banner = move || match list.phase.get() {
        Phase::Failed(error) if query_error.get().is_none() => {
            let retrying = error.is_transient();
            Some(view! {
                <ErrorBanner title=error.title() detail=error.detail() retrying=retrying/>
            })
        }
        _ => None,
    };
    let query_banner = {
        let clear_filters = clear_filters.clone();
        move || {
            query_error.get().map(|message| {
                let clear_filters = clear_filters.clone();
                view! {
                    <ErrorBanner title="This link's filters can't be read" detail=message>
                        <button type="button" class="button" on:click=clear_filters>"Clear filters"</button>
                    </ErrorBanner>
                }
            })
        }
    };

    let empty = {
        let clear_filters = clear_filters.clone();
        move || {
            let ready_and_empty = matches!(list.phase.get(), Phase::Ready)
                && list.rows.with(Vec::is_empty)
                && query_error.get().is_none();
            if !ready_and_empty {
                return None;
            }
            Some(if links::has_filters(&query.get()) {
                let clear_filters = clear_filters.clone();
                view! {
                    <EmptyState title="No traces match these filters">
                        <p>"Nothing in this project matches all of the filters above. Try removing a tag filter or widening the search."</p>
                        <button type="button" class="button" on:click=clear_filters>"Clear filters"</button>
                    </EmptyState>
                }
                .into_any()
            } else {
                let project = project.get();
                view! {
                    <EmptyState title="No traces yet">
                        <p>"Point any OpenTelemetry SDK at this collector:"</p>
                        <pre class="code-block">"export OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318"</pre>
                        {(project != DEFAULT_PROJECT).then(|| view! {
                            <p>"Spans go to this project when they carry the header "
                               <code>"x-skein-project: " {project.clone()}</code> "."</p>
                        })}
                        <p>"Or load sample agent traces to look around:"</p>
                        <pre class="code-block">"skein demo"</pre>
                        <p class="muted">"New traces appear here when you reload, or as they arrive with Live on."</p>
                    </EmptyState>
                }
                .into_any()
            })
        }
    };

    let body = move || {
        if show_skeleton.get() {
            view! { <SkeletonRows rows=10 cols=COLUMNS/> }.into_any()
        } else {
            view! {
                <For
                    each=move || list.rows.get()
                    // A live update of a row (more spans, a later end) draws it again.
                    key=|t: &TraceSummary| (t.trace_id.clone(), t.span_count, t.end_ns, t.error_count)
                    children=move |t: TraceSummary| view! { <TraceRow trace=t project=project on_tag=add_tag key_order=key_order compare_with=compare_with searched=searched selection=selection/> }
                />
            }
            .into_any()
        }
    };

    view! {
        <div class="page traces-page">
            <div class="page-head">
                <h1>"Traces"</h1>
                <span class="result-count" data-testid="result-count">{count}</span>
                <div class="page-actions">
                    <LiveNotice count=live_new on_show=show_held/>
                    <LiveSwitch on=live_on.into() status=live_status toggle_href=live_toggle/>
                    <DownloadButton label="CSV" testid="list-csv"
                        url=Signal::derive(move || links::api_traces_export(&project.get(), &query.get(), "csv"))
                        filename=Signal::derive(move || format!("traces-{}.csv", project.get()))
                        title="Every trace these filters select, one row each, as CSV"/>
                    <DownloadButton label="JSONL" testid="list-jsonl"
                        url=Signal::derive(move || links::api_traces_export(&project.get(), &query.get(), "jsonl"))
                        filename=Signal::derive(move || format!("traces-{}.jsonl", project.get()))
                        title="Every trace these filters select, as JSON Lines (one trace summary a line)"/>
                    <AddToQueue project=project runs=Signal::derive(move || QueueRuns::Selected {
                        query: query.get().to_query_string(),
                        total: list.total.get(),
                    })/>
                </div>
            </div>
            {move || compare_with.get().map(|a| view! {
                <div class="compare-pick" role="status" data-testid="compare-pick">
                    "Pick the trace to compare with " <code>{a.clone()}</code> ": a row opens the comparison. "
                    <a href=move || links::list_href(&project.get(), &query.get())>"Cancel"</a>
                </div>
            })}
            <FilterBar project=project query=query/>
            <div class="filter-bar span-condition">
                <FilterInput project=project value=span_filter on_apply=apply_span_filter
                    label="Having a span where"
                    placeholder="and(eq(tag.langgraph_node, \"writer\"), eq(status, \"error\"))"/>
            </div>
            {query_banner}
            {banner}
            <SelectionBar selection=selection project=project/>
            <div class="table-wrap" class:stale=stale
                on:mouseenter=move |_| hold.hovering.set(true)
                on:mouseleave=move |_| hold.hovering.set(false)>
                <table class="data-table traces-table">
                    <thead>
                        <tr>
                            <th class="col-select" aria-label="Select to compare"></th>
                            <th class="col-name">"Name"</th>
                            <th class="col-time">"Started"</th>
                            <th class="col-num">"Duration"</th>
                            <th class="col-num">"Spans"</th>
                            <th class="col-status">"Status"</th>
                            <th class="col-services">"Services"</th>
                            <th class="col-tags">"Tags"</th>
                            <th class="col-num">"Tokens"</th>
                            <th class="col-feedback">"Feedback"</th>
                        </tr>
                    </thead>
                    <tbody aria-busy=move || show_skeleton.get().to_string()>{body}</tbody>
                </table>
                {empty}
            </div>
            <LoadMore
                shown=Signal::derive(move || list.rows.with(Vec::len))
                total=list.total.into()
                approximate=list.approximate.into()
                has_more=Signal::derive(move || list.next_cursor.with(Option::is_some) && matches!(list.phase.get(), Phase::Ready))
                state=list.more.into()
                on_more=Callback::new(load_more)/>
        </div>
    }
}

/// One trace in the list; a click anywhere on the row opens it.
#[component]
fn TraceRow(
    trace: TraceSummary,
    project: Memo<String>,
    on_tag: Callback<(String, String)>,
    /// Tag keys in the order their chips come (the rest after, by name).
    key_order: Memo<Vec<String>>,
    /// Picking a trace to compare with this one: a row opens the comparison.
    compare_with: Memo<Option<String>>,
    /// The text the list's filter searches for, which the opened trace finds.
    searched: Memo<Option<String>>,
    /// The rows picked to compare.
    selection: Selection,
) -> impl IntoView {
    let clock = use_clock();
    let trace_id = trace.trace_id.clone();
    let href = move || match compare_with.get_untracked() {
        Some(a) => links::compare_href(&project.get_untracked(), &a, &trace_id, None),
        None => searched
            .with(|s| links::trace_find_href(&project.get_untracked(), &trace_id, s.as_deref())),
    };
    let open = row_opener(href.clone());

    let failed = trace.error_count > 0 || trace.status.is_error();
    let start_ms = trace.start_ns / 1_000_000;
    let started = local_time(trace.start_ns, now_ms());
    let started_title = full_time(trace.start_ns);
    let ago = move || text::relative(start_ms, clock.get());
    let duration = format::duration_ns(trace.duration_ns());
    let tokens = trace.total_tokens();
    let tokens_title = format!(
        "{} input + {} output tokens",
        text::thousands(trace.input_tokens.max(0) as u64),
        text::thousands(trace.output_tokens.max(0) as u64)
    );

    let (services, more_services) = text::shown_and_rest(&trace.services, SERVICES_SHOWN);
    let all_services = trace.services.join(", ");
    let tags: Vec<(String, String)> = trace.tags.clone().into_iter().collect();
    let tag_chips = move || {
        let mut tags = tags.clone();
        key_order.with(|order| {
            let rank = |k: &str| order.iter().position(|o| o == k).unwrap_or(usize::MAX);
            sort::sort_by(&mut tags, |a, b| rank(&a.0).cmp(&rank(&b.0)));
        });
        view! { <RowTagChips tags=tags on_pick=on_tag/> }
    };
    let root_name = if trace.root_name.is_empty() {
        "(unnamed)".to_string()
    } else {
        trace.root_name.clone()
    };

    view! {
        <tr class="trace-row" class:row-error=failed on:click=open data-trace-id=trace.trace_id.clone()>
            <SelectCell selection=selection trace_id=trace.trace_id.clone() name=root_name.clone()/>
            <td class="col-name">
                <div class="name-cell">
                    // The root span's type; a neutral trace glyph until the root arrives.
                    {match trace.root_span_type { Some(kind) => view! { <SpanTypeIcon kind=kind/> }.into_any(), None => view! { <TraceIcon/> }.into_any() }}
                    <a class="root-name" href=href title=trace.root_name.clone()>{root_name}</a>
                    {(!trace.has_root).then(|| view! {
                        <span class="hint" title="The root span has not arrived (yet)">"no root"</span>
                    })}
                </div>
            </td>
            <td class="col-time" title=started_title>
                <span class="time-main">{started}</span>
                <span class="time-ago">{ago}</span>
            </td>
            <td class="col-num">{duration}</td>
            <td class="col-num">{text::thousands(trace.span_count)}</td>
            <td class="col-status"><StatusBadge status=trace.status error_count=trace.error_count/></td>
            <td class="col-services">
                <div class="chips" title=all_services>
                    {services.into_iter().map(|s| view! { <ServiceChip name=s/> }).collect_view()}
                    {(more_services > 0).then(|| view! { <span class="more-chip">{format!("+{more_services}")}</span> })}
                </div>
            </td>
            <td class="col-tags">
                <div class="chips">{tag_chips}</div>
            </td>
            <td class="col-num" title=tokens_title>
                {if tokens > 0 { format::count(tokens) } else { "—".to_string() }}
            </td>
            <td class="col-feedback"><FeedbackSummary stats=trace.feedback.clone()/></td>
        </tr>
    }
}
