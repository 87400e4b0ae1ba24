//! `/sessions`: every session with its aggregates, filtered by tags and time, sorted.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use skein_model::sessions::{
    headline_feedback_key, RecentRange, Scope, SessionQuery, SessionSort, SessionSummary,
};

use crate::api::{self, ApiError};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::filter_input::FilterInput;
use crate::components::remote::{LoadMore, PageOf, Pager, Phase};
use crate::components::scope_bar::ScopeBar;
use crate::components::session_table::{session_columns, SessionHead, SessionRow};
use crate::components::skeleton::SkeletonRows;
use crate::time::now_ms;
use crate::{links, text};

pub const RANGES: &[RecentRange] = &[
    RecentRange::Hour,
    RecentRange::Day,
    RecentRange::Week,
    RecentRange::Month,
    RecentRange::All,
];
pub const SESSION_SORTS: &[SessionSort] = &[
    SessionSort::LastDesc,
    SessionSort::FirstAsc,
    SessionSort::RequestsDesc,
    SessionSort::DurationDesc,
    SessionSort::TokensDesc,
    SessionSort::CostDesc,
    SessionSort::ErrorsDesc,
];

/// The page's project and scope, from its URL; a URL that cannot be read gives its error.
pub fn use_scope(default_range: RecentRange) -> (Memo<String>, Memo<Scope>, Memo<Option<String>>) {
    let location = use_location();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let parsed = Memo::new(move |_| Scope::parse(&location.search.get(), default_range));
    let scope = Memo::new(move |_| parsed.get().unwrap_or_default());
    let error = Memo::new(move |_| parsed.get().err().map(|e| e.to_string()));
    (project, scope, error)
}

/// A list in a page's scope (sessions, users), a page at a time: reloaded when the project or
/// the scope changes; "Load more" continues the query shown (the same time bounds).
pub fn scoped_list<T, F, Fut>(
    project: Memo<String>,
    scope: Memo<Scope>,
    fetch: F,
) -> (Pager<T>, Callback<()>)
where
    T: Send + Sync + Clone + 'static,
    F: Fn(String, SessionQuery) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<PageOf<T>, ApiError>> + 'static,
{
    let pager = Pager::<T>::new();
    let current = StoredValue::new(SessionQuery::default());
    let page_of = move |project: String, query: SessionQuery| {
        move |cursor: Option<String>| {
            let (project, mut query) = (project.clone(), query.clone());
            query.cursor = cursor;
            fetch(project, query)
        }
    };
    Effect::new(move |_| {
        let query = scope.get().session_query(now_ms());
        current.set_value(query.clone());
        pager.reload(page_of(project.get(), query));
    });
    let more = Callback::new(move |_| {
        pager.load_more(page_of(project.get_untracked(), current.get_value()))
    });
    (pager, more)
}

/// The "what sessions are" note for empty states.
pub fn sessions_hint() -> impl IntoView {
    view! {
        <p class="hint-codes">"A request joins a session when its spans carry "<code>"session.id"</code>", "
           <code>"gen_ai.conversation.id"</code>" or LangSmith metadata "<code>"session_id"</code>" / "
           <code>"thread_id"</code>"; "<code>"user.id"</code>" or "<code>"enduser.id"</code>" names the user."</p>
    }
}

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

    let navigate = use_navigate();
    let apply_filter = Callback::new(move |text: String| {
        let mut s = scope.get_untracked();
        s.filter = (!text.is_empty()).then_some(text);
        navigate(
            &links::page(
                "/sessions",
                &project.get_untracked(),
                &s.to_query_string(RecentRange::All),
            ),
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    });

    let feedback_key = Signal::derive(move || {
        pager
            .rows
            .with(|rows| headline_feedback_key(rows.iter().map(|r| &r.stats)))
    });
    let count = move || {
        if matches!(pager.phase.get(), Phase::Failed(_)) {
            return None;
        }
        pager
            .total
            .get()
            .map(|t| text::plural(t, "session", "sessions"))
    };
    let banner = move || {
        pager.phase.get().error_view().or_else(|| {
            scope_error.get().map(|message| {
                view! { <ErrorBanner title="This link's filters can't be read" detail=message/> }
                    .into_any()
            })
        })
    };
    let empty = move || {
        if !pager.ready_and_empty() {
            return None;
        }
        let s = scope.get();
        Some(
            if !s.tags.is_empty() || s.range != RecentRange::All || s.filter.is_some() {
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
            },
        )
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
                    on_apply=apply_filter/>
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

/// The banner for a failed first load.
pub trait PhaseBanner {
    fn error_view(&self) -> Option<AnyView>;
}

impl PhaseBanner for Phase {
    fn error_view(&self) -> Option<AnyView> {
        match self {
            Phase::Failed(error) => {
                let retrying = error.is_transient();
                Some(
                    view! { <ErrorBanner title=error.title() detail=error.detail() retrying=retrying/> }
                        .into_any(),
                )
            }
            _ => None,
        }
    }
}
