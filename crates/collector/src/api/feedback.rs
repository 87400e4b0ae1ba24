//! `/api/v1/feedback`: create, list by run or trace, edit, delete.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use skein_model::query::parse_query_string;
use skein_model::{Feedback, FeedbackList, FeedbackUpdate, NewFeedback};

use super::parse_json;
use super::score_configs::checked_score;
use crate::context::{AppState, Project};
use crate::error::{ApiError, ApiResult};
use crate::ingest::body::JsonBody;
use crate::store::FeedbackFilter;

const MAX_KEY_LEN: usize = 128;
const MAX_COMMENT_LEN: usize = 16 * 1024;

fn check_key(key: &str) -> ApiResult<()> {
    if key.trim().is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ApiError::BadRequest(format!(
            "feedback key must be 1 to {MAX_KEY_LEN} characters"
        )));
    }
    Ok(())
}

fn check_score(score: Option<f64>) -> ApiResult<()> {
    if score.is_some_and(|s| !s.is_finite()) {
        return Err(ApiError::BadRequest(
            "feedback score must be a finite number".into(),
        ));
    }
    Ok(())
}

fn check_comment(comment: Option<&str>) -> ApiResult<()> {
    if comment.is_some_and(|c| c.len() > MAX_COMMENT_LEN) {
        return Err(ApiError::BadRequest(format!(
            "feedback comment is longer than {MAX_COMMENT_LEN} bytes"
        )));
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    Project(project): Project,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Feedback>)> {
    let new: NewFeedback = parse_json(&body)?;
    let created = create_checked(&state, &project, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Creates feedback after every check feedback on Skein's API passes (its key, score and
/// comment, its run, the project's score configs): the one path the feedback API and the
/// review queues write by.
pub(super) async fn create_checked(
    state: &AppState,
    project: &str,
    mut new: NewFeedback,
) -> ApiResult<Feedback> {
    check_key(&new.key)?;
    check_score(new.score)?;
    check_comment(new.comment.as_deref())?;
    new.run_id = new.run_id.trim().to_ascii_lowercase();
    if new.run_id.is_empty() {
        return Err(ApiError::BadRequest(
            "feedback needs a run_id (a span id)".into(),
        ));
    }
    new.score = checked_score(
        state.store.as_ref(),
        project,
        &new.key,
        new.score,
        new.value.as_ref(),
    )
    .await?;
    Ok(state.store.create_feedback(project, new).await?)
}

pub async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<FeedbackList>> {
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let filter = FeedbackFilter {
        run_id: get("run_id"),
        trace_id: get("trace_id"),
        key: pairs
            .iter()
            .find(|(k, _)| k == "key")
            .map(|(_, v)| v.clone()),
        queue_id: pairs
            .iter()
            .find(|(k, v)| k == "queue_id" && !v.is_empty())
            .map(|(_, v)| v.clone()),
        limit: get("limit").and_then(|l| l.parse().ok()),
    };
    if filter.run_id.is_none()
        && filter.trace_id.is_none()
        && filter.key.is_none()
        && filter.queue_id.is_none()
    {
        return Err(ApiError::BadRequest(
            "list feedback by run_id, trace_id, key or queue_id".into(),
        ));
    }
    Ok(Json(FeedbackList {
        feedback: state.store.list_feedback(&project, filter).await?,
    }))
}

pub async fn update(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Feedback>> {
    let mut update: FeedbackUpdate = parse_json(&body)?;
    if let Some(key) = &update.key {
        check_key(key)?;
    }
    check_score(update.score)?;
    check_comment(update.comment.as_deref())?;
    // The record as it would be after the change must still fit its key's config.
    if update.key.is_some() || update.score.is_some() || update.value.is_some() {
        let stored = state
            .store
            .read_feedback(&project, &id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no feedback {id}")))?;
        let key = update.key.clone().unwrap_or(stored.key);
        let value = update.value.clone().or(stored.value);
        let score = update.score.or(stored.score);
        if let Some(checked) =
            checked_score(state.store.as_ref(), &project, &key, score, value.as_ref()).await?
        {
            update.score = Some(checked);
        }
    }
    state
        .store
        .update_feedback(&project, &id, update)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no feedback {id}")))
}

pub async fn delete(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state.store.delete_feedback(&project, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no feedback {id}")))
    }
}
