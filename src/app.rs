//! The app shell: router, top bar (product name, navigation, project switcher, theme).

use leptos::prelude::*;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;
use leptos_router::{Lazy, LazyRoute};
use skein_model::TraceQuery;

use crate::components::api_key::{ForbiddenNotice, ForgetKeyButton, KeyPrompt, KeyState};
use crate::components::icons::Logo;
use crate::components::lazy;
use crate::components::project_switcher::ProjectSwitcher;
use crate::components::theme_toggle::{ThemeState, ThemeToggle};
use crate::links;
use crate::metrics_view::{self, MetricsView};
use crate::pages::cohorts::CohortsPage;
use crate::pages::compare::ComparePage;
use crate::pages::metrics::MetricsPage;
use crate::pages::not_found::NotFound;
use crate::pages::pairwise_review::PairwiseReviewPage;
use crate::pages::queue_review::QueueReviewPage;
use crate::pages::queues::QueuesPage;
use crate::pages::score_configs::ScoreConfigsPage;
use crate::pages::services::ServicesPage;
use crate::pages::session::SessionPage;
use crate::pages::sessions::SessionsPage;
use crate::pages::spans::SpansPage;
use crate::pages::trace::TracePage;
use crate::pages::traces::TracesPage;
use crate::pages::user::UserPage;
use crate::pages::users::UsersPage;
use crate::time::Clock;

#[component]
pub fn App() -> impl IntoView {
    provide_context(Clock::start());
    provide_context(ThemeState::init());
    provide_context(KeyState::init());
    view! {
        <Router>
            <TopBar/>
            <main class="main">
                <ForbiddenNotice/>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=RootRedirect/>
                    <Route path=path!("/traces") view={Lazy::<TracesRoute>::new()}/>
                    <Route path=path!("/traces/:trace_id") view={Lazy::<TraceRoute>::new()}/>
                    <Route path=path!("/spans") view={Lazy::<SpansRoute>::new()}/>
                    <Route path=path!("/metrics") view={Lazy::<MetricsRoute>::new()}/>
                    <Route path=path!("/sessions") view={Lazy::<SessionsRoute>::new()}/>
                    <Route path=path!("/sessions/:session_id") view={Lazy::<SessionRoute>::new()}/>
                    <Route path=path!("/users") view={Lazy::<UsersRoute>::new()}/>
                    <Route path=path!("/users/:user_id") view={Lazy::<UserRoute>::new()}/>
                    <Route path=path!("/services") view={Lazy::<ServicesRoute>::new()}/>
                    <Route path=path!("/compare") view={Lazy::<CompareRoute>::new()}/>
                    <Route path=path!("/compare/cohorts") view={Lazy::<CohortsRoute>::new()}/>
                    <Route path=path!("/settings/scores") view={Lazy::<ScoreConfigsRoute>::new()}/>
                    <Route path=path!("/queues") view={Lazy::<QueuesRoute>::new()}/>
                    <Route path=path!("/queues/:id") view={Lazy::<QueueReviewRoute>::new()}/>
                    <Route path=path!("/pairwise/:id") view={Lazy::<PairwiseReviewRoute>::new()}/>
                </Routes>
            </main>
            <KeyPrompt/>
        </Router>
    }
}

/// A route whose page is a wasm chunk, fetched the first time the page is opened
/// (scripts/build-wasm.sh cuts the chunks): a page downloads the shared runtime and its own
/// code, not the whole dashboard. Pages named with the same chunk share it. With a last
/// argument `vis name`, `name()` fetches the page's code ahead (a link to it is on screen).
macro_rules! lazy_page {
    ($route:ident, $chunk:ident, $render:ident, $title:literal, $page:ident) => {
        lazy_route!($route, {
            #[wasm_split($chunk, wasm_split_path = split, fallible, preload(load))]
            fn $render() -> Result<AnyView, SplitLoaderError> {
                Ok(view! { <$page/> }.into_any())
            }
            lazy::open_page($title, || Box::pin(load()), || Box::pin($render())).await
        });
    };
    ($route:ident, $chunk:ident, $render:ident, $title:literal, $page:ident, $vis:vis $load:ident) => {
        #[wasm_split($chunk, wasm_split_path = split, fallible, preload($load))]
        $vis fn $render() -> Result<AnyView, SplitLoaderError> {
            Ok(view! { <$page/> }.into_any())
        }

        lazy_route!($route, {
            lazy::open_page($title, || Box::pin($load()), || Box::pin($render())).await
        });
    };
}

/// `lazy_page!`'s route: a unit struct whose view is `$view` (an async block's body).
macro_rules! lazy_route {
    ($route:ident, $view:block) => {
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_: Self) -> AnyView $view
        }
    };
}
lazy_page!(TracesRoute, traces_page, traces, "Traces", TracesPage);
lazy_page!(TraceRoute, trace_page, trace, "Trace", TracePage);
lazy_page!(SpansRoute, spans_page, spans, "Spans", SpansPage);
lazy_page!(MetricsRoute, metrics_page, metrics, "Metrics", MetricsPage);
lazy_page!(
    ServicesRoute,
    services_page,
    services,
    "Services",
    ServicesPage
);
lazy_page!(CompareRoute, compare_page, compare, "Compare", ComparePage);
lazy_page!(
    CohortsRoute,
    cohorts_page,
    cohorts,
    "Compare cohorts",
    CohortsPage
);
lazy_page!(
    ScoreConfigsRoute,
    settings_page,
    score_configs,
    "Score configs",
    ScoreConfigsPage
);
// The queue list and the two review pages are chunks of their own: the list's first load
// does not carry the review pages' code (the runs they show, the rating, the claims); the
// list fetches a review page's code once a queue to open is on screen (`prefetch`).
lazy_page!(QueuesRoute, queues_page, queues, "Queues", QueuesPage);
lazy_page!(
    QueueReviewRoute,
    queue_review_page,
    queue_review,
    "Review",
    QueueReviewPage,
    pub(crate) load_queue_review
);
lazy_page!(
    PairwiseReviewRoute,
    pairwise_review_page,
    pairwise_review,
    "Pairwise review",
    PairwiseReviewPage,
    pub(crate) load_pairwise_review
);
// Sessions and users: small pages, usually visited together.
lazy_page!(SessionsRoute, journeys, sessions, "Sessions", SessionsPage);
lazy_page!(SessionRoute, journeys, session, "Session", SessionPage);
lazy_page!(UsersRoute, journeys, users, "Users", UsersPage);
lazy_page!(UserRoute, journeys, user, "User", UserPage);

/// Fetches a page's code ahead of a likely visit (`load_queue_review`, …), after the current
/// page's next frame so that its first paint does not wait for it; a failed fetch is tried
/// again when the page is opened.
pub fn prefetch<F: std::future::Future<Output = Result<(), SplitLoaderError>> + 'static>(
    load: fn() -> F,
) {
    request_animation_frame(move || {
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    // Not here yet: the page's own load fetches it again when opened.
                    let _ = load().await;
                })
            },
            std::time::Duration::ZERO,
        )
    });
}

/// `/` opens the trace list, keeping the query (`/?project=x` → `/traces?project=x`).
#[component]
fn RootRedirect() -> impl IntoView {
    let search = use_location().search.get_untracked();
    let path = if search.is_empty() {
        "/traces".to_string()
    } else {
        format!("/traces?{search}")
    };
    view! { <Redirect path=path/> }
}

#[component]
fn TopBar() -> impl IntoView {
    let location = use_location();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let traces_href = move || links::list_href(&project.get(), &TraceQuery::default());
    let on_traces = move || location.pathname.get().starts_with("/traces");
    let metrics_href = move || metrics_view::href(&project.get(), &MetricsView::default());
    let on_metrics = move || location.pathname.get().starts_with("/metrics");
    let on_page = move |prefix: &'static str| {
        move || {
            let path = location.pathname.get();
            path == prefix || path.starts_with(&format!("{prefix}/"))
        }
    };
    let on_spans = on_page("/spans");
    let spans_href = move || links::spans_href(&project.get(), &links::SpanListView::default());
    let on_sessions = on_page("/sessions");
    let on_users = on_page("/users");
    let on_services = on_page("/services");
    let on_cohorts = on_page("/compare/cohorts");
    let cohorts_href = move || links::cohorts_href(&project.get(), &Default::default());
    let on_settings = on_page("/settings/scores");
    let on_queues = on_page("/queues");
    let queues_href = move || links::queues(&project.get());
    let sessions_href = move || links::sessions(&project.get());
    let users_href = move || links::users(&project.get());
    let services_href = move || links::services(&project.get());
    let settings_href = move || links::score_configs(&project.get());
    view! {
        <header class="topbar">
            <a class="brand" href=traces_href>
                <Logo/>
                <span class="brand-name">"Skein"</span>
            </a>
            <nav class="nav" aria-label="Main">
                <a href=traces_href class:active=on_traces
                    aria-current=move || on_traces().then_some("page")>"Traces"</a>
                <a href=spans_href class:active=on_spans
                    aria-current=move || on_spans().then_some("page")>"Spans"</a>
                <a href=metrics_href class:active=on_metrics
                    aria-current=move || on_metrics().then_some("page")>"Metrics"</a>
                <a href=sessions_href class:active=on_sessions
                    aria-current=move || on_sessions().then_some("page")>"Sessions"</a>
                <a href=users_href class:active=on_users
                    aria-current=move || on_users().then_some("page")>"Users"</a>
                <a href=cohorts_href class:active=on_cohorts title="Compare two cohorts of traces span by span"
                    aria-current=move || on_cohorts().then_some("page")>"Compare"</a>
                <a href=services_href class:active=on_services
                    aria-current=move || on_services().then_some("page")>"Services"</a>
                <a href=queues_href class:active=on_queues title="Annotation queues: runs set aside to rate"
                    aria-current=move || on_queues().then_some("page")>"Queues"</a>
                <a href=settings_href class:active=on_settings title="Score configs: what each feedback key means"
                    aria-current=move || on_settings().then_some("page")>"Scores"</a>
            </nav>
            <div class="topbar-spacer"></div>
            <ProjectSwitcher/>
            <ForgetKeyButton/>
            <ThemeToggle/>
        </header>
    }
}
