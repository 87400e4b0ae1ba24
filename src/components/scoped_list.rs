//! What the scoped list pages (sessions, users) share: the scope read from the URL, a list
//! loaded a page at a time in that scope, and the count, banner and empty-state rules.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use skein_model::sessions::{RecentRange, Scope, SessionQuery};

use crate::api::ApiError;
use crate::components::error_banner::ErrorBanner;
use crate::components::remote::{PageOf, Pager, Phase};
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
