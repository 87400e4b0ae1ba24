//! LangSmith's sessions (Skein's projects) as the SDK reads and creates them: `GET /sessions`
//! (`read_project`, `list_projects`, the lookup of `list_runs(project_name=...)`),
//! `GET /sessions/{id}` and `POST /sessions` (`create_project`).
//!
//! A session is a project that has traces, was created (`POST /sessions`, `skein project
//! create`) or is the default one; any other name is not found, as in LangSmith. Its id is the
//! stable UUIDv5 of its name, its start time when it was created or its first trace started.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};
use skein_model::query::{parse_query_string, TraceSort};
use skein_model::{ProjectInfo, TraceQuery};
use uuid::Uuid;

use super::projects::{check_project, project_by_uuid, remember_project};
use super::{ids, run};
use crate::context::{AppState, KeyScope};
use crate::error::{ApiError, ApiResult};
use crate::ingest::body::JsonBody;

fn session_json(name: &str, info: Option<&ProjectInfo>, start_ns: i64) -> Value {
    let last = info.and_then(|p| p.last_seen_ns);
    json!({
        "id": ids::project_uuid(name).to_string(),
        "name": name,
        "tenant_id": ids::TENANT_ID.to_string(),
        "start_time": run::format_time(start_ns),
        "end_time": null,
        "description": null,
        "extra": null,
        "reference_dataset_id": null,
        "run_count": info.map_or(0, |p| p.span_count),
        "last_run_start_time": last.map(run::format_time),
    })
}

/// When a project started: when it was created (`create_project`, `skein project create`) or
/// its first trace, whichever is earlier; now for a project with neither.
async fn project_start_ns(state: &AppState, name: &str, created_ms: Option<i64>) -> ApiResult<i64> {
    let first = TraceQuery {
        limit: Some(1),
        sort: TraceSort::StartAsc,
        ..TraceQuery::default()
    };
    let first_trace = state
        .store
        .list_traces(name, &first)
        .await?
        .traces
        .first()
        .map(|t| t.start_ns);
    let created = created_ms.map(|ms| ms.saturating_mul(1_000_000));
    Ok(match (created, first_trace) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or_else(now_ns),
    })
}

/// A project as a session, if it exists: it has traces, was created, or is the default one.
async fn existing_session(
    state: &AppState,
    name: &str,
    info: Option<&ProjectInfo>,
) -> ApiResult<Option<Value>> {
    let created_ms = state.store.project_created_ms(name).await?;
    if info.is_none() && created_ms.is_none() && name != skein_model::DEFAULT_PROJECT {
        return Ok(None);
    }
    let start = project_start_ns(state, name, created_ms).await?;
    Ok(Some(session_json(name, info, start)))
}

/// `GET /sessions?name=...&limit=...` (also `name_contains`, `id`, `offset`).
pub async fn list_sessions(
    State(state): State<AppState>,
    scope: KeyScope,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<Value>>> {
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    };
    let one = |name: &str| all(name).into_iter().next();
    let limit = one("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let offset = one("offset")
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0);
    let projects = state.store.projects().await?;
    let names = all("name");
    let wanted_ids: Vec<Uuid> = all("id")
        .iter()
        .filter_map(|i| ids::parse_uuid(i))
        .collect();
    let contains = one("name_contains");

    let mut selected: Vec<(String, Option<&ProjectInfo>)> = Vec::new();
    if !names.is_empty() {
        for name in names {
            let name = check_project(&name).map_err(ApiError::BadRequest)?;
            let info = projects.iter().find(|p| p.name == name);
            selected.push((name, info));
        }
    } else {
        for p in &projects {
            if !wanted_ids.is_empty() && !wanted_ids.contains(&ids::project_uuid(&p.name)) {
                continue;
            }
            if contains
                .as_ref()
                .is_some_and(|c| !p.name.contains(c.as_str()))
            {
                continue;
            }
            selected.push((p.name.clone(), Some(p)));
        }
    }
    // A scoped key lists its own project only.
    if let Some(own) = scope.project() {
        selected.retain(|(name, _)| name == own);
    }
    // A name nobody created and no trace went to is not found, as in LangSmith (the SDK's
    // `read_project` and `list_runs(project_name=...)` then raise their not-found error).
    let mut out = Vec::new();
    for (name, info) in selected.into_iter().skip(offset) {
        if out.len() >= limit {
            break;
        }
        if let Some(session) = existing_session(&state, &name, info).await? {
            // `list_runs(project_name=...)` asks for the UUID, then queries by it.
            remember_project(&name);
            out.push(session);
        }
    }
    Ok(Json(out))
}

/// `GET /sessions/{id}`.
pub async fn read_session(
    State(state): State<AppState>,
    scope: KeyScope,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let uuid = ids::parse_uuid(&id)
        .ok_or_else(|| ApiError::BadRequest(format!("session id {id:?} is not a UUID")))?;
    // Among the projects the key may see: another project's session is not found.
    let not_found = || ApiError::NotFound(format!("no session {id}"));
    let name = project_by_uuid(&state, &scope, &uuid)
        .await?
        .ok_or_else(not_found)?;
    let projects = state.store.projects().await?;
    let info = projects.iter().find(|p| p.name == name);
    let session = existing_session(&state, &name, info)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(session))
}

/// `POST /sessions` (`Client.create_project`): registers the project (as `skein project
/// create` does), so it is found by name before any trace arrives and keeps its creation time.
pub async fn create_session(
    State(state): State<AppState>,
    scope: KeyScope,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::BadRequest("a session needs a \"name\"".into()))?;
    let name = check_project(name).map_err(ApiError::BadRequest)?;
    scope.allows(&name)?;
    state.store.create_project(&name).await?;
    remember_project(&name);
    let projects = state.store.projects().await?;
    let info = projects.iter().find(|p| p.name == name);
    let session = existing_session(&state, &name, info)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no project {name}")))?;
    Ok(Json(session))
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
