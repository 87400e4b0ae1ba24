//! LangSmith's projects and runs as Skein knows them: project names and their UUIDs, what the
//! request's key may touch, and a run found by its UUID within what the key may see.
//!
//! Every lookup here costs a bounded amount whatever the request names: a session UUID is
//! resolved from a cache of names (read from the store at most once per `REREAD` for UUIDs
//! it does not know, an O(projects) read), and a run from an index, within the key's project.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use skein_model::span::Span;
use uuid::Uuid;

use super::{as_run, ids};
use crate::context::{AppState, KeyScope};
use crate::error::ApiError;

pub use crate::context::check_project;

/// Project names by their LangSmith UUID, as seen in uploads, listings and reads of the
/// store's names. A name's UUID never changes, so an entry never goes stale.
struct Names {
    by_uuid: HashMap<Uuid, String>,
    /// When the store's names were last read.
    read_at: Option<Instant>,
}

static PROJECT_NAMES: OnceLock<Mutex<Names>> = OnceLock::new();
/// Beyond this many names the cache starts over (a bound, not a working-set size).
const MAX_CACHED_PROJECTS: usize = 10_000;
/// How often at most an unknown UUID makes the store's project names be read again: a flood
/// of made-up session ids costs one read per interval, not one per id.
const REREAD: Duration = Duration::from_secs(1);

fn names() -> &'static Mutex<Names> {
    PROJECT_NAMES.get_or_init(|| {
        Mutex::new(Names {
            by_uuid: HashMap::new(),
            read_at: None,
        })
    })
}

fn remember(names: &mut Names, name: &str) {
    if names.by_uuid.len() >= MAX_CACHED_PROJECTS {
        names.by_uuid.clear();
    }
    names
        .by_uuid
        .entry(ids::project_uuid(name))
        .or_insert_with(|| name.to_string());
}

pub fn remember_project(name: &str) {
    if let Ok(mut names) = names().lock() {
        remember(&mut names, name);
    }
}

fn cached_project(id: &Uuid) -> Option<String> {
    names().lock().ok()?.by_uuid.get(id).cloned()
}

/// The project whose LangSmith UUID this is, among those the key may see: a key's own project
/// only, or (without keys) any project that has data.
pub async fn project_by_uuid(
    state: &AppState,
    scope: &KeyScope,
    id: &Uuid,
) -> Result<Option<String>, ApiError> {
    if let KeyScope::Project(own) = scope {
        return Ok((ids::project_uuid(own) == *id).then(|| own.clone()));
    }
    if let Some(name) = cached_project(id) {
        return Ok(Some(name));
    }
    // Unknown: read the store's names, unless that was done a moment ago.
    let due = names().lock().is_ok_and(|mut names| {
        let due = names.read_at.is_none_or(|at| at.elapsed() >= REREAD);
        if due {
            names.read_at = Some(Instant::now());
        }
        due
    });
    if !due {
        return Ok(None);
    }
    let stored = state.store.project_names().await?;
    if let Ok(mut names) = names().lock() {
        for name in &stored {
            remember(&mut names, name);
        }
    }
    Ok(stored
        .into_iter()
        .find(|name| ids::project_uuid(name) == *id))
}

/// The span of a run, found by the run's UUID alone, in the key's project (in any project
/// without keys). The hash is checked against the UUID kept in the span, so a collision
/// across traces cannot mix runs up; another project's run with the same UUID is never seen.
pub async fn locate_run(
    state: &AppState,
    scope: &KeyScope,
    run_id: &Uuid,
) -> Result<Option<Span>, ApiError> {
    let hashed = state
        .store
        .pieced_spans(scope.project(), &ids::span_hex(run_id), 10)
        .await?;
    Ok(hashed.into_iter().find(|s| as_run::run_id_of(s) == *run_id))
}
