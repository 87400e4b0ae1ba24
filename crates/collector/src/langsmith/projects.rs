//! LangSmith's projects and runs as Skein knows them: project names and their UUIDs, what the
//! request's key may touch, and a run found by its UUID alone.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use skein_model::span::Span;
use uuid::Uuid;

use super::{ids, run};
use crate::context::AppState;
use crate::error::ApiError;

pub use crate::context::check_project;

/// Project names by their LangSmith UUID, as seen in uploads and listings. A name's UUID never
/// changes, so an entry never goes stale; it saves a scan of every trace (`Store::projects`)
/// each time the SDK names a project by UUID (every `list_runs` page does).
static PROJECT_NAMES: OnceLock<Mutex<HashMap<Uuid, String>>> = OnceLock::new();
/// Beyond this many names the cache starts over (a bound, not a working-set size).
const MAX_CACHED_PROJECTS: usize = 10_000;

pub fn remember_project(name: &str) {
    let names = PROJECT_NAMES.get_or_init(Default::default);
    if let Ok(mut names) = names.lock() {
        if names.len() >= MAX_CACHED_PROJECTS {
            names.clear();
        }
        names
            .entry(ids::project_uuid(name))
            .or_insert_with(|| name.to_string());
    }
}

fn cached_project(id: &Uuid) -> Option<String> {
    PROJECT_NAMES
        .get()
        .and_then(|names| names.lock().ok()?.get(id).cloned())
}

/// The project whose LangSmith UUID this is, among the projects that have data.
pub async fn project_by_uuid(state: &AppState, id: &Uuid) -> Result<Option<String>, ApiError> {
    if let Some(name) = cached_project(id) {
        return Ok(Some(name));
    }
    let projects = state.store.projects().await?;
    for p in &projects {
        remember_project(&p.name);
    }
    Ok(projects
        .into_iter()
        .map(|p| p.name)
        .find(|name| ids::project_uuid(name) == *id))
}

/// The span of a run, found by the run's UUID alone, in any project. The hash is checked
/// against the UUID kept in the span, so a collision across traces cannot mix runs up.
pub async fn locate_run(state: &AppState, run_id: &Uuid) -> Result<Option<Span>, ApiError> {
    let hashed = state.store.pieced_spans(&ids::span_hex(run_id), 10).await?;
    Ok(hashed.into_iter().find(|s| run::run_id_of(s) == *run_id))
}
