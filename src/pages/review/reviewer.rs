//! Who reviews on the review pages (annotation and pairwise): an API key's label when the
//! server names one, else a name the browser asks once and keeps.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

/// Where the reviewer's name is kept (asked once per browser).
const REVIEWER_KEY: &str = "skein-reviewer";

fn stored_reviewer() -> Option<String> {
    let storage = window().local_storage().ok().flatten()?;
    storage
        .get_item(REVIEWER_KEY)
        .ok()
        .flatten()
        .filter(|r| !r.trim().is_empty())
}

/// Keeps the reviewer's name for the next visit (to either review page).
pub(super) fn remember_reviewer(name: &str) {
    if let Some(storage) = window().local_storage().ok().flatten() {
        let _ = storage.set_item(REVIEWER_KEY, name);
    }
}

/// Who reviews on this page: an API key's label when the server names one (`keyed`: then
/// nothing is asked), else the name this browser gave before (none until asked).
pub(super) fn use_reviewer(project: Memo<String>) -> (RwSignal<Option<String>>, RwSignal<bool>) {
    let reviewer = RwSignal::new(None::<String>);
    let keyed = RwSignal::new(false);
    Effect::new(move |_| {
        let project = project.get();
        spawn_local(async move {
            match api::reviewer(&project).await {
                Ok(api_reviewer) if api_reviewer.name.is_some() => {
                    keyed.try_set(true);
                    reviewer.try_set(api_reviewer.name);
                }
                _ => {
                    reviewer.try_set(stored_reviewer());
                }
            }
        });
    });
    (reviewer, keyed)
}
