//! The app shell: router, top bar (product name, navigation, project switcher, theme).

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;
use skein_model::TraceQuery;

use crate::components::icons::Logo;
use crate::components::project_switcher::ProjectSwitcher;
use crate::components::theme_toggle::{ThemeState, ThemeToggle};
use crate::links;
use crate::pages::not_found::NotFound;
use crate::pages::trace::TracePage;
use crate::pages::traces::TracesPage;
use crate::time::Clock;

#[component]
pub fn App() -> impl IntoView {
    provide_context(Clock::start());
    provide_context(ThemeState::init());
    view! {
        <Router>
            <TopBar/>
            <main class="main">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=RootRedirect/>
                    <Route path=path!("/traces") view=TracesPage/>
                    <Route path=path!("/traces/:trace_id") view=TracePage/>
                </Routes>
            </main>
        </Router>
    }
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
    view! {
        <header class="topbar">
            <a class="brand" href=traces_href>
                <Logo/>
                <span class="brand-name">"Skein"</span>
            </a>
            <nav class="nav" aria-label="Main">
                <a href=traces_href class:active=on_traces
                    aria-current=move || on_traces().then_some("page")>"Traces"</a>
            </nav>
            <div class="topbar-spacer"></div>
            <ProjectSwitcher/>
            <ThemeToggle/>
        </header>
    }
}
