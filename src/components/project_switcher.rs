//! The project picker in the top bar, fed by `GET /api/v1/projects`. The project lives in
//! the page URL (`?project=NAME`); picking one opens its trace list. With an API key the
//! collector lists only the key's projects.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use skein_model::{ProjectInfo, TraceQuery};

use crate::components::api_key::KeyState;
use crate::components::remote::Latest;
use crate::{api, links, text};

/// Asks for the projects (again on focus: a new project may have arrived); retries quietly
/// while the collector is away (the pages show the banner).
fn load(latest: Latest, projects: RwSignal<Vec<ProjectInfo>>) {
    latest.fetch(latest.next(), api::projects, move |result| {
        if let Ok(list) = result {
            projects.try_set(list);
        }
    });
}

#[component]
pub fn ProjectSwitcher() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let current = Memo::new(move |_| links::project_of(&location.search.get()));
    let projects = RwSignal::new(Vec::<ProjectInfo>::new());
    let latest = Latest::new();
    // The list is seen only when the picker is opened (which asks again): asked for once the
    // page has painted, not in the start's main-thread time.
    crate::perf::after_paint(move || load(latest, projects));
    let has_key = use_context::<KeyState>()
        .map(|k| k.has_key)
        .unwrap_or_else(|| RwSignal::new(false));

    let options = move || {
        let current = current.get();
        let mut list: Vec<(String, Option<u64>)> = projects
            .get()
            .into_iter()
            .map(|p| (p.name, Some(p.trace_count)))
            .collect();
        // The page's project stays selectable even when not listed (no trace yet); with a key
        // that does not see it, the option says so.
        let unlisted = !list.iter().any(|(name, _)| *name == current);
        if unlisted {
            list.insert(0, (current.clone(), None));
        }
        let no_access = unlisted && has_key.get() && !projects.with(Vec::is_empty);
        list.into_iter()
            .map(|(name, traces)| {
                let selected = name == current;
                let title = traces.map(|n| text::plural(n, "trace", "traces"));
                let label = if selected && no_access {
                    format!("{name} (no access)")
                } else {
                    name.clone()
                };
                view! {
                    <option value=name.clone() selected=selected title=title>{label}</option>
                }
            })
            .collect_view()
    };

    view! {
        <label class="project-switcher" title="Project">
            <span class="project-label">"Project"</span>
            <select
                aria-label="Project"
                on:focus=move |_| load(latest, projects)
                on:change=move |ev| {
                    let name = event_target_value(&ev);
                    navigate(&links::list_href(&name, &TraceQuery::default()), Default::default());
                }
            >
                {options}
            </select>
        </label>
    }
}
