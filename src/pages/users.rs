//! `/users`: every user with their sessions and aggregates, filtered by tags and time.

use leptos::prelude::*;
use skein_model::sessions::{headline_feedback_key, RecentRange, SessionSort, UserSummary};

use crate::api;
use crate::components::empty_state::EmptyState;
use crate::components::filter_input::FilterInput;
use crate::components::remote::{LoadMore, PageOf, Phase};
use crate::components::scope_bar::ScopeBar;
use crate::components::scoped_list::{
    apply_filter, narrows, result_count, scope_banner, scoped_list, sessions_hint, use_scope,
    RANGES,
};
use crate::components::session_table::{UserHead, UserRow, USER_COLUMNS};
use crate::components::skeleton::SkeletonRows;

const USER_SORTS: &[SessionSort] = &[
    SessionSort::LastDesc,
    SessionSort::FirstAsc,
    SessionSort::SessionsDesc,
    SessionSort::RequestsDesc,
    SessionSort::DurationDesc,
    SessionSort::TokensDesc,
    SessionSort::CostDesc,
    SessionSort::ErrorsDesc,
];

#[component]
pub fn UsersPage() -> impl IntoView {
    let (project, scope, scope_error) = use_scope(RecentRange::All);
    let (pager, more) = scoped_list(project, scope, |project, query| async move {
        api::users(&project, &query).await.map(|p| PageOf {
            rows: p.users,
            total: p.total,
            next_cursor: p.next_cursor,
        })
    });

    let feedback_key = Signal::derive(move || {
        pager
            .rows
            .with(|rows| headline_feedback_key(rows.iter().map(|r| &r.stats)))
    });
    let apply = apply_filter("/users", project, scope);
    let count = result_count(pager, "user", "users");
    let banner = scope_banner(pager, scope_error);
    let empty = move || {
        if !pager.ready_and_empty() {
            return None;
        }
        Some(if scope.with(narrows) {
            view! {
                <EmptyState title="No users match these filters">
                    <p>"No request with a user matches all of the filters above. Try another time range or remove a tag filter."</p>
                </EmptyState>
            }
            .into_any()
        } else {
            view! {
                <EmptyState title="No users yet">
                    {sessions_hint()}
                </EmptyState>
            }
            .into_any()
        })
    };
    let body = move || {
        if pager.show_skeleton() {
            view! { <SkeletonRows rows=10 cols=USER_COLUMNS/> }.into_any()
        } else {
            view! {
                <For
                    each=move || pager.rows.get()
                    key=|u: &UserSummary| u.user_id.clone()
                    children=move |u: UserSummary| view! { <UserRow user=u project=project feedback_key=feedback_key/> }
                />
            }
            .into_any()
        }
    };

    view! {
        <div class="page users-page">
            <div class="page-head">
                <h1>"Users"</h1>
                <span class="result-count" data-testid="result-count">{count}</span>
            </div>
            <ScopeBar project=project scope=scope path="/users" default_range=RecentRange::All
                ranges=RANGES sorts=USER_SORTS/>
            <div class="filter-bar span-condition">
                <FilterInput project=project label="Requests having a span where"
                    value=Signal::derive(move || scope.with(|s| s.filter.clone().unwrap_or_default()))
                    on_apply=apply/>
            </div>
            {banner}
            <div class="table-wrap" class:stale=move || pager.stale()>
                <table class="data-table users-table">
                    <thead><UserHead feedback_key=feedback_key/></thead>
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
