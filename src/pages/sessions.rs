//! `/sessions`: every session with its aggregates, filtered by tags and time, sorted.

use leptos::prelude::*;
use skein_model::sessions::{headline_feedback_key, RecentRange, SessionSort, SessionSummary};

use crate::api;
use crate::components::empty_state::EmptyState;
use crate::components::filter_input::FilterInput;
use crate::components::remote::{LoadMore, PageOf, Phase};
use crate::components::scope_bar::ScopeBar;
use crate::components::scoped_list::{
    apply_filter, narrows, result_count, scope_banner, scoped_list, sessions_hint, use_scope,
    RANGES,
};
use crate::components::session_table::{session_columns, SessionHead, SessionRow};
use crate::components::skeleton::SkeletonRows;

pub const SESSION_SORTS: &[SessionSort] = &[
    SessionSort::LastDesc,
    SessionSort::FirstAsc,
    SessionSort::RequestsDesc,
    SessionSort::DurationDesc,
    SessionSort::TokensDesc,
    SessionSort::CostDesc,
    SessionSort::ErrorsDesc,
];

#[component]
pub fn SessionsPage() -> impl IntoView {
    let (project, scope, scope_error) = use_scope(RecentRange::All);
    let (pager, more) = scoped_list(project, scope, move |project, query| async move {
        api::sessions(&project, &query).await.map(|p| PageOf {
            rows: p.sessions,
            total: p.total,
            next_cursor: p.next_cursor,
        })
    });

    let apply = apply_filter("/sessions", project, scope);

    let feedback_key = Signal::derive(move || {
        pager
            .rows
            .with(|rows| headline_feedback_key(rows.iter().map(|r| &r.stats)))
    });
    let count = result_count(pager, "session", "sessions");
    let banner = scope_banner(pager, scope_error);
    let empty = move || {
        if !pager.ready_and_empty() {
            return None;
        }
        Some(if scope.with(narrows) {
            view! {
                <EmptyState title="No sessions match these filters">
                    <p>"No request in a session matches all of the filters above. Try another time range or remove a tag filter."</p>
                </EmptyState>
            }
            .into_any()
        } else {
            view! {
                <EmptyState title="No sessions yet">
                    {sessions_hint()}
                    <p class="muted">"Load the demo data set to look around: "<code>"skein demo"</code></p>
                </EmptyState>
            }
            .into_any()
        })
    };
    let body = move || {
        if pager.show_skeleton() {
            view! { <SkeletonRows rows=10 cols=session_columns(true)/> }.into_any()
        } else {
            view! {
                <For
                    each=move || pager.rows.get()
                    key=|s: &SessionSummary| s.session_id.clone()
                    children=move |s: SessionSummary| view! { <SessionRow session=s project=project show_user=true feedback_key=feedback_key/> }
                />
            }
            .into_any()
        }
    };

    view! {
        <div class="page sessions-page">
            <div class="page-head">
                <h1>"Sessions"</h1>
                <span class="result-count" data-testid="result-count">{count}</span>
            </div>
            <ScopeBar project=project scope=scope path="/sessions" default_range=RecentRange::All
                ranges=RANGES sorts=SESSION_SORTS/>
            <div class="filter-bar span-condition">
                <FilterInput project=project label="Requests having a span where"
                    value=Signal::derive(move || scope.with(|s| s.filter.clone().unwrap_or_default()))
                    on_apply=apply/>
            </div>
            {banner}
            <div class="table-wrap" class:stale=move || pager.stale()>
                <table class="data-table sessions-table">
                    <thead><SessionHead show_user=true feedback_key=feedback_key/></thead>
                    <tbody aria-busy=move || pager.show_skeleton().to_string()>{body}</tbody>
                </table>
                {empty}
            </div>
            <LoadMore
                shown=Signal::derive(move || pager.rows.with(Vec::len))
                total=pager.total.into()
                has_more=Signal::derive(move || pager.next_cursor.with(Option::is_some) && matches!(pager.phase.get(), Phase::Ready))
                state=pager.more.into()
                on_more=more/>
        </div>
    }
}
