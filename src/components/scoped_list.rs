//! What the scoped list pages (sessions, users) share: the scope read from the URL, a list
//! loaded a page at a time in that scope, the count, banner and empty-state rules, and the
//! page itself.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use skein_model::sessions::{
    headline_feedback_key, RecentRange, Scope, SessionPage, SessionQuery, SessionSort,
    SessionSummary, TraceAggregate, UserPage, UserSummary,
};

use crate::api::ApiError;
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::filter_input::FilterInput;
use crate::components::remote::{LoadMore, PageOf, Pager, Phase};
use crate::components::scope_bar::ScopeBar;
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

/// Applies a span condition typed in the filter box: the page's link with the new filter.
pub fn apply_filter(
    path: &'static str,
    project: Memo<String>,
    scope: Memo<Scope>,
) -> Callback<String> {
    let navigate = use_navigate();
    Callback::new(move |text: String| {
        let mut s = scope.get_untracked();
        s.filter = (!text.is_empty()).then_some(text);
        navigate(
            &links::page(
                path,
                &project.get_untracked(),
                &s.to_query_string(RecentRange::All),
            ),
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    })
}

/// "12 sessions" once the total is known (nothing while the first load failed).
pub fn result_count<T: Send + Sync + Clone + 'static>(
    pager: Pager<T>,
    one: &'static str,
    many: &'static str,
) -> impl Fn() -> Option<String> + Copy {
    move || {
        if matches!(pager.phase.get(), Phase::Failed(_)) {
            return None;
        }
        pager.total.get().map(|t| text::plural(t, one, many))
    }
}

/// The banner above a scoped list: its load's error, else the link's unreadable filters.
pub fn scope_banner<T: Send + Sync + Clone + 'static>(
    pager: Pager<T>,
    scope_error: Memo<Option<String>>,
) -> impl Fn() -> Option<AnyView> + Copy {
    move || {
        pager.phase.get().error_view().or_else(|| {
            scope_error.get().map(|message| {
                view! { <ErrorBanner title="This link's filters can't be read" detail=message/> }
                    .into_any()
            })
        })
    }
}

/// Whether the scope narrows the list (so an empty answer means "nothing matches", not
/// "nothing yet").
pub fn narrows(scope: &Scope) -> bool {
    !scope.tags.is_empty() || scope.range != RecentRange::All || scope.filter.is_some()
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

impl From<SessionPage> for PageOf<SessionSummary> {
    fn from(p: SessionPage) -> Self {
        PageOf {
            rows: p.sessions,
            total: p.total,
            total_approximate: false,
            next_cursor: p.next_cursor,
        }
    }
}

impl From<UserPage> for PageOf<UserSummary> {
    fn from(p: UserPage) -> Self {
        PageOf {
            rows: p.users,
            total: p.total,
            total_approximate: false,
            next_cursor: p.next_cursor,
        }
    }
}

/// What tells one scoped list page from another.
pub struct ListPage {
    pub title: &'static str,
    /// What a row is: "session", "sessions" (also the page's and table's CSS classes).
    pub one: &'static str,
    pub many: &'static str,
    /// The page's path (`/sessions`).
    pub path: &'static str,
    pub sorts: &'static [SessionSort],
    pub columns: usize,
    /// The empty state's words when the filters match nothing.
    pub no_match: &'static str,
    /// Whether the empty state (nothing yet) offers the demo data.
    pub demo_hint: bool,
}

/// A scoped list page: the scope bar and filter box, a table a page at a time (its head and
/// rows given, with the feedback key most rows have), its count, banner, empty states and
/// "Load more".
pub fn scoped_list_page<T, F, Fut, Head, Row, RowView>(
    page: ListPage,
    fetch: F,
    stats: fn(&T) -> &TraceAggregate,
    key: fn(&T) -> String,
    head: Head,
    row: Row,
) -> impl IntoView
where
    T: Send + Sync + Clone + 'static,
    F: Fn(String, SessionQuery) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<PageOf<T>, ApiError>> + 'static,
    Head: FnOnce(Signal<Option<String>>) -> AnyView,
    Row: Fn(T, Memo<String>, Signal<Option<String>>) -> RowView + Copy + Send + Sync + 'static,
    RowView: IntoView + 'static,
{
    let (project, scope, scope_error) = use_scope(RecentRange::All);
    let (pager, more) = scoped_list(project, scope, fetch);
    let apply = apply_filter(page.path, project, scope);
    let feedback_key = Signal::derive(move || {
        pager
            .rows
            .with(|rows| headline_feedback_key(rows.iter().map(stats)))
    });
    let count = result_count(pager, page.one, page.many);
    let banner = scope_banner(pager, scope_error);
    let ListPage {
        many,
        no_match,
        demo_hint,
        columns,
        ..
    } = page;
    let empty = move || {
        if !pager.ready_and_empty() {
            return None;
        }
        Some(if scope.with(narrows) {
            view! {
                <EmptyState title=format!("No {many} match these filters")>
                    <p>{no_match}</p>
                </EmptyState>
            }
            .into_any()
        } else {
            view! {
                <EmptyState title=format!("No {many} yet")>
                    {sessions_hint()}
                    {demo_hint.then(|| view! {
                        <p class="muted">"Load the demo data set to look around: "<code>"skein demo"</code></p>
                    })}
                </EmptyState>
            }
            .into_any()
        })
    };
    let body = move || {
        if pager.show_skeleton() {
            view! { <SkeletonRows rows=10 cols=columns/> }.into_any()
        } else {
            view! {
                <For
                    each=move || pager.rows.get()
                    key=key
                    children=move |t: T| row(t, project, feedback_key)
                />
            }
            .into_any()
        }
    };

    view! {
        <div class=format!("page {many}-page")>
            <div class="page-head">
                <h1>{page.title}</h1>
                <span class="result-count" data-testid="result-count">{count}</span>
            </div>
            <ScopeBar project=project scope=scope path=page.path default_range=RecentRange::All
                ranges=RANGES sorts=page.sorts/>
            <div class="filter-bar span-condition">
                <FilterInput project=project label="Requests having a span where"
                    value=Signal::derive(move || scope.with(|s| s.filter.clone().unwrap_or_default()))
                    on_apply=apply/>
            </div>
            {banner}
            <div class="table-wrap" class:stale=move || pager.stale()>
                <table class=format!("data-table {many}-table")>
                    <thead>{head(feedback_key)}</thead>
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
