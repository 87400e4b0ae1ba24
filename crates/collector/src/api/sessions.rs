//! `/api/v1/sessions` and `/api/v1/users`: a user's requests grouped by session, with
//! aggregates (requests, time, tokens, cost, errors, feedback).

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use skein_model::sessions::{SessionDetail, SessionPage, SessionQuery, UserDetail, UserPage};

use crate::context::{AppState, Project};
use crate::error::{ApiError, ApiResult};

/// Longest session or user id accepted in a path.
const MAX_ID_BYTES: usize = 1024;

fn check_id(what: &str, id: &str) -> ApiResult<()> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(ApiError::BadRequest(format!(
            "a {what} id is 1 to {MAX_ID_BYTES} bytes"
        )));
    }
    Ok(())
}

fn query_of(raw: Option<String>) -> ApiResult<SessionQuery> {
    Ok(SessionQuery::from_query_string(
        raw.as_deref().unwrap_or(""),
    )?)
}

pub async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<SessionPage>> {
    let query = query_of(query)?;
    Ok(Json(state.store.list_sessions(&project, &query).await?))
}

pub async fn one(
    State(state): State<AppState>,
    Project(project): Project,
    Path(session_id): Path<String>,
) -> ApiResult<Json<SessionDetail>> {
    check_id("session", &session_id)?;
    state
        .store
        .session(&project, &session_id)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::NotFound(format!("no session {session_id:?} in project {project:?}"))
        })
}

pub async fn users(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<UserPage>> {
    let query = query_of(query)?;
    Ok(Json(state.store.list_users(&project, &query).await?))
}

/// One user; the query orders and pages their sessions (`sort`, `cursor`, `limit`).
pub async fn user(
    State(state): State<AppState>,
    Project(project): Project,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<UserDetail>> {
    check_id("user", &user_id)?;
    let query = query_of(query)?;
    state
        .store
        .user(&project, &user_id, &query)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no user {user_id:?} in project {project:?}")))
}
