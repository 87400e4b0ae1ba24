//! Any URL the dashboard has no page for.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::empty_state::EmptyState;

#[component]
pub fn NotFound() -> impl IntoView {
    let location = use_location();
    view! {
        <div class="page">
            <EmptyState title="Page not found">
                <p>"There is no page at " <code>{move || location.pathname.get()}</code> "."</p>
                <p>"Traces are listed at " <a href="/traces">"/traces"</a>
                   "; a trace opens at " <code>"/traces/<trace id>"</code> "."</p>
            </EmptyState>
        </div>
    }
}
