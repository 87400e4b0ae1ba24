//! The span table, virtualized: only the rows in view (and a few around) are in the page,
//! at a fixed height, however many pages are loaded; scrolling near the end loads the next.

use leptos::prelude::*;
use skein_model::format;
use skein_model::span_list::{SpanRow, SpanSort};

use crate::components::remote::{Pager, Phase};
use crate::components::row_link::row_opener_to;
use crate::components::service_chip::ServiceChip;
use crate::components::session_table::cost_text;
use crate::components::span_type::SpanTypeIcon;
use crate::components::status_badge::StatusBadge;
use crate::components::tag_chip::RowTagChips;
use crate::links;
use crate::time::{full_time, local_time, now_ms};

/// A row's height in pixels (the CSS's `.sl-row` height).
const ROW_PX: f64 = 34.0;
/// Rows drawn above and below the ones in view.
const OVERSCAN: usize = 8;
/// The most rows in view at once (the list is at most 72vh of a tall screen).
const MAX_VISIBLE: usize = 40;
/// The next page is fetched when the view comes this close to the end.
const PRELOAD_ROWS: usize = 12;

#[component]
pub fn SpanRows(
    project: Memo<String>,
    list: Pager<SpanRow>,
    sort: Signal<SpanSort>,
    on_sort: Callback<SpanSort>,
    on_tag: Callback<(String, String)>,
    has_more: Signal<bool>,
    on_more: Callback<()>,
) -> impl IntoView {
    let viewport = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0.0_f64);
    let count = Memo::new(move |_| list.rows.with(Vec::len));
    // A new query starts at the top.
    Effect::new(move |_| {
        list.phase.track();
        if list.phase.get() == Phase::Loading {
            if let Some(el) = viewport.get_untracked() {
                el.set_scroll_top(0);
            }
            scroll_top.set(0.0);
        }
    });
    let window = Memo::new(move |_| {
        let n = count.get();
        let first = ((scroll_top.get() / ROW_PX) as usize).saturating_sub(OVERSCAN);
        first.min(n)..(first + MAX_VISIBLE + 2 * OVERSCAN).min(n)
    });
    // Near the end: the next page, once at a time (not again while one is under way).
    Effect::new(move |_| {
        let height = viewport
            .get()
            .map_or(0.0, |el| f64::from(el.client_height()));
        let last_seen = ((scroll_top.get() + height) / ROW_PX).ceil() as usize;
        let n = count.get();
        let idle = list.more.get() == Phase::Ready;
        if n > 0 && last_seen + PRELOAD_ROWS >= n && has_more.get() && idle {
            on_more.run(());
        }
    });
    let shown = move || {
        let range = window.get();
        list.rows.with(|rows| {
            rows[range.clone()]
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, r)| (range.start + i, r))
                .collect::<Vec<_>>()
        })
    };
    let pad = move || {
        format!(
            "height: {}px; padding-top: {}px",
            count.get() as f64 * ROW_PX,
            window.get().start as f64 * ROW_PX
        )
    };
    let header = move |label: &'static str, by: Option<SpanSort>, class: &'static str| {
        let active = move || by.is_some() && by == Some(sort.get());
        let aria = move || if active() { "descending" } else { "none" };
        match by {
            Some(by) => view! {
                <span class=class role="columnheader" aria-sort=aria>
                    <button type="button" class="sort-header" class:active=active
                        title="Sort by this column, largest first"
                        on:click=move |_| on_sort.run(by)>
                        {label}{move || if active() { " ↓" } else { "" }}
                    </button>
                </span>
            }
            .into_any(),
            None => view! { <span class=class role="columnheader">{label}</span> }.into_any(),
        }
    };
    let skeleton = move || {
        list.show_skeleton().then(|| {
            (0..8)
                .map(|r| {
                    let width = 30 + (r * 37) % 50;
                    view! {
                        <div class="sl-row skeleton-line" aria-hidden="true">
                            <span class="shimmer" style=format!("width: {width}%")></span>
                        </div>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="sl-table" class:stale=move || list.stale() role="table" aria-label="Spans"
            aria-rowcount=move || count.get().to_string()
            aria-busy=move || list.show_skeleton().to_string()>
            <div class="sl-row sl-head" role="row">
                {header("Name", None, "s-name")}
                {header("Type", None, "s-type")}
                {header("Service", None, "s-service")}
                {header("Model", None, "s-model")}
                {header("Duration", Some(SpanSort::DurationDesc), "s-num")}
                {header("Tokens", Some(SpanSort::TokensDesc), "s-num")}
                {header("Cost", Some(SpanSort::CostDesc), "s-num")}
                {header("Status", None, "s-status")}
                {header("Started", Some(SpanSort::StartDesc), "s-time")}
                {header("Tags", None, "s-tags")}
            </div>
            {skeleton}
            <div class="sl-rows" node_ref=viewport data-testid="span-rows"
                on:scroll=move |ev| scroll_top.set(event_target::<web_sys::Element>(&ev).scroll_top() as f64)>
                <div class="sl-rows-inner" style=pad>
                    <For each=shown key=|(_, r)| (r.trace_id.clone(), r.span_id.clone())
                        children=move |(i, row)| view! { <Row index=i row=row project=project on_tag=on_tag/> }/>
                </div>
            </div>
        </section>
    }
}

#[component]
fn Row(
    index: usize,
    row: SpanRow,
    project: Memo<String>,
    on_tag: Callback<(String, String)>,
) -> impl IntoView {
    let href = links::trace_span_href(
        &project.get_untracked(),
        &row.trace_id,
        Some(&row.span_id),
        true,
    );
    let open = row_opener_to(&href);
    let name = if row.name.is_empty() {
        "(unnamed)".to_string()
    } else {
        row.name.clone()
    };
    let failed = row.status.is_error();
    let tokens = if row.tokens > 0 {
        format::count(row.tokens)
    } else {
        "—".to_string()
    };
    let tags: Vec<(String, String)> = row.tags.clone().into_iter().collect();
    view! {
        <div class="sl-row" role="row" class:row-error=failed on:click=open
            aria-rowindex=(index + 1).to_string()
            data-trace-id=row.trace_id.clone() data-span-id=row.span_id.clone()>
            <span class="s-name" role="cell">
                <SpanTypeIcon kind=row.span_type/>
                <a class="sl-name" href=href title=row.name.clone()>{name}</a>
            </span>
            <span class="s-type" role="cell">{row.span_type.as_str()}</span>
            <span class="s-service" role="cell"><ServiceChip name=row.service.clone()/></span>
            <span class="s-model" role="cell" title=row.model.clone().unwrap_or_default()>
                {row.model.clone().unwrap_or_else(|| "—".to_string())}
            </span>
            <span class="s-num" role="cell" data-col="duration">{format::duration_ns(row.duration_ns)}</span>
            <span class="s-num" role="cell" data-col="tokens">{tokens}</span>
            <span class="s-num" role="cell" data-col="cost">{cost_text(row.cost)}</span>
            <span class="s-status" role="cell"><StatusBadge status=row.status/></span>
            <span class="s-time" role="cell" title=full_time(row.start_ns)>{local_time(row.start_ns, now_ms())}</span>
            <span class="s-tags chips" role="cell">
                <RowTagChips tags=tags on_pick=on_tag/>
            </span>
        </div>
    }
}
