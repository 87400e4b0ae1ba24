//! `/spans`: every span of the project passing a filter (`filter=`, the filter language),
//! newest first or by duration, tokens or cost (`sort=`), a page at a time with the total.
//! A row opens its trace with the span selected. The rows are virtualized (`rows`). With Live
//! on (`live=1`, newest first only), new spans passing the filter come in at the top.

mod rows;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use skein_model::filter::complete;
use skein_model::live::SPAN_EVENT;
use skein_model::span_list::{SpanRow, SpanSort};

use crate::api;
use crate::components::add_to_queue::{AddToQueue, QueueRuns};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::filter_check;
use crate::components::filter_input::FilterInput;
use crate::components::live::{use_live_list, LiveNotice, LiveSwitch};
use crate::components::remote::{LoadMore, PageOf, Pager, Phase};
use crate::links::{self, SpanListView};
use crate::text;

use rows::SpanRows;

/// Rows a live list keeps (the oldest go), and events kept between two frames: as the trace
/// list's.
const LIVE_ROWS: usize = 200;
const LIVE_BUFFERED: usize = 1_000;

fn span_key(s: &SpanRow) -> &str {
    &s.span_id
}

fn sort_label(sort: SpanSort) -> &'static str {
    match sort {
        SpanSort::StartDesc => "Newest first",
        SpanSort::DurationDesc => "Slowest first",
        SpanSort::TokensDesc => "Most tokens",
        SpanSort::CostDesc => "Highest cost",
    }
}

#[component]
pub fn SpansPage() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let view = Memo::new(move |_| SpanListView::from_search(&location.search.get()));
    let live_on = Memo::new(move |_| links::live_param(&location.search.get()));
    // A live list stays live as its filter changes (and turns off with another order).
    let go = move |v: SpanListView| {
        let live = live_on.get_untracked() && v.sort == SpanSort::default();
        navigate(
            &links::with_live(&links::spans_href(&project.get_untracked(), &v), live),
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        )
    };

    let list = Pager::<SpanRow>::new();
    let fetch_page = move |cursor: Option<String>| {
        let (project, view) = (project.get_untracked(), view.get_untracked());
        async move {
            let page = api::spans(&project, &view, cursor.as_deref()).await?;
            Ok(PageOf {
                rows: page.spans,
                total: page.total,
                total_approximate: !page.total_exact,
                next_cursor: page.next_cursor,
            })
        }
    };
    // A link whose filter cannot be read: the box shows where, nothing is fetched (known once
    // the parser's chunk is loaded; the collector's 400 shows meanwhile).
    let filter_errors = [
        Signal::derive(move || view.with(|v| v.filter.clone())),
        Signal::derive(move || view.with(|v| v.trace_filter.clone())),
        Signal::derive(move || view.with(|v| v.tree_filter.clone())),
    ]
    .map(filter_check::link_filter_error);
    let unreadable = Memo::new(move |_| filter_errors.iter().any(|e| e.with(Option::is_some)));
    Effect::new(move |_| {
        project.track();
        view.track();
        if unreadable.get() {
            list.clear();
        } else {
            list.reload(fetch_page);
        }
    });
    let load_more = Callback::new(move |_: ()| list.load_more(fetch_page));

    // Live: a stream of the spans passing the filter, while the list is newest first.
    let live_url = Memo::new(move |_| {
        let v = view.get();
        // The stream takes a span filter only: a list scoped to some traces is not live.
        let scoped = v.trace_filter.is_some() || v.tree_filter.is_some();
        (live_on.get() && !unreadable.get() && !scoped && v.sort == SpanSort::default()).then(
            || links::api_stream_spans(&project.get(), v.filter.as_deref().unwrap_or_default()),
        )
    });
    let (hold, live_status, show_held) = use_live_list(
        list,
        live_url.into(),
        SPAN_EVENT,
        span_key,
        (LIVE_ROWS, LIVE_BUFFERED),
        move || list.reload(fetch_page),
    );
    let live_new = Signal::derive(move || hold.held.with(Vec::len));
    let live_toggle = Signal::derive(move || {
        let mut v = view.get();
        // Live shows the newest spans first.
        v.sort = SpanSort::default();
        links::with_live(&links::spans_href(&project.get(), &v), !live_on.get())
    });
    let has_more = Signal::derive(move || {
        list.next_cursor.with(Option::is_some) && matches!(list.phase.get(), Phase::Ready)
    });

    let filter_text = Signal::derive(move || view.get().filter.unwrap_or_default());
    let apply_filter = {
        let go = go.clone();
        Callback::new(move |text: String| {
            let mut v = view.get_untracked();
            v.filter = (!text.is_empty()).then_some(text);
            go(v);
        })
    };
    let on_sort = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let mut v = view.get_untracked();
            v.sort = SpanSort::parse(&event_target_value(&ev)).unwrap_or_default();
            go(v);
        }
    };
    let sort_by = {
        let go = go.clone();
        Callback::new(move |sort: SpanSort| {
            let mut v = view.get_untracked();
            v.sort = sort;
            go(v);
        })
    };
    // A tag chip in a row narrows the filter to its value.
    let add_tag = Callback::new(move |(key, value): (String, String)| {
        if let Some(field) = complete::tag_field(&key) {
            let condition = format!("eq({field}, {})", complete::quote(&value));
            let current = view.get_untracked().filter.unwrap_or_default();
            apply_filter.run(complete::conjoin(&current, &condition));
        }
    });

    let count = move || {
        if matches!(list.phase.get(), Phase::Failed(_)) || unreadable.get() {
            return None;
        }
        list.total
            .get()
            .map(|t| text::count(t, list.approximate.get(), "span", "spans"))
    };
    let banner = move || match list.phase.get() {
        Phase::Failed(error) => {
            let retrying = error.is_transient();
            Some(
                view! { <ErrorBanner title=error.title() detail=error.detail() retrying=retrying/> },
            )
        }
        _ => None,
    };
    let clear = {
        let go = go.clone();
        move |_| {
            go(SpanListView {
                sort: view.get_untracked().sort,
                ..SpanListView::default()
            })
        }
    };
    // The traces the spans are drawn from (a cohort's, from the cohort page), and a way out.
    let unscope = {
        let go = go.clone();
        move |_| {
            let mut v = view.get_untracked();
            v.trace_filter = None;
            v.tree_filter = None;
            go(v);
        }
    };
    let scope_note = move || {
        let v = view.get();
        (v.trace_filter.is_some() || v.tree_filter.is_some()).then(|| {
            let root = v.trace_filter.map(|f| view! {
                <span>"whose root span passes " <code>{f}</code></span>
            });
            let tree = v.tree_filter.map(|f| view! {
                <span>" having a span that passes " <code>{f}</code></span>
            });
            view! {
                <div class="scope-note" data-testid="span-scope">
                    <span class="muted">"In traces "</span>{root}{tree}
                    <button type="button" class="link-button" on:click=unscope.clone()>"All traces"</button>
                </div>
            }
        })
    };
    let empty = move || {
        if !list.ready_and_empty() || unreadable.get() {
            return None;
        }
        Some(
            if view.with(|v| {
                v != &SpanListView {
                    sort: v.sort,
                    ..Default::default()
                }
            }) {
                let clear = clear.clone();
                view! {
                <EmptyState title="No spans match this filter">
                    <p>"No span in this project passes the filter above. Loosen a condition (a lower "
                       <code>"gt(latency, …)"</code>", another model), or look at every span."</p>
                    <button type="button" class="button" on:click=clear>"Show all spans"</button>
                </EmptyState>
            }
            .into_any()
            } else {
                view! {
                <EmptyState title="No spans yet">
                    <p>"Spans appear here as agents send them (OTLP, the LangSmith SDK). Load sample agent traces to look around:"</p>
                    <pre class="code-block">"skein demo"</pre>
                </EmptyState>
            }
            .into_any()
            },
        )
    };

    view! {
        <div class="page spans-page">
            <div class="page-head">
                <h1>"Spans"</h1>
                <span class="result-count" data-testid="result-count">{count}</span>
                <div class="page-actions">
                    <LiveNotice count=live_new on_show=show_held/>
                    <LiveSwitch on=live_on.into() status=live_status toggle_href=live_toggle/>
                    <select class="select" name="sort" aria-label="Sort" on:change=on_sort
                        prop:value=move || view.get().sort.as_str()>
                        {SpanSort::ALL
                            .iter()
                            .map(|s| view! { <option value=s.as_str()>{sort_label(*s)}</option> })
                            .collect_view()}
                    </select>
                    <AddToQueue project=project runs=Signal::derive(move || QueueRuns::Spans {
                        query: view.get().query_string(),
                        total: list.total.get(),
                    })/>
                </div>
            </div>
            <div class="filter-bar">
                <FilterInput project=project value=filter_text on_apply=apply_filter label="Filter"/>
                {scope_note}
            </div>
            {banner}
            // New live rows wait while the pointer is over the list (someone is reading it).
            <div on:mouseenter=move |_| hold.hovering.set(true)
                on:mouseleave=move |_| hold.hovering.set(false)>
                <SpanRows project=project list=list sort=Signal::derive(move || view.get().sort)
                    on_sort=sort_by on_tag=add_tag has_more=has_more on_more=load_more/>
            </div>
            {empty}
            <LoadMore
                shown=Signal::derive(move || list.rows.with(Vec::len))
                total=list.total.into()
                approximate=list.approximate.into()
                has_more=has_more
                state=list.more.into()
                on_more=load_more/>
        </div>
    }
}
