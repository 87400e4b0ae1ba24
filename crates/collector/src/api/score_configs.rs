//! `/api/v1/score-configs`: what a project's feedback keys mean (list, create, read, change,
//! delete, by id or key), and `/api/v1/score-settings` (whether the project accepts configured
//! keys only). `checked_score` is the check every path feedback enters by applies.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use skein_model::score_config::{check_config, MAX_CONFIGS};
use skein_model::{NewScoreConfig, ScoreConfig, ScoreConfigList, ScoreSettings};

use super::parse_json;
use crate::clock::now_ms;
use crate::context::{AppState, Project};
use crate::error::{ApiError, ApiResult};
use crate::ingest::body::JsonBody;
use crate::store::Store;

/// Feedback under `key` in `project` checked against the project's score configs: the score
/// to store (a category's score when the feedback names the category by its label), or 400
/// naming the key and what it allows.
pub(crate) async fn checked_score(
    store: &dyn Store,
    project: &str,
    key: &str,
    score: Option<f64>,
    value: Option<&Value>,
) -> ApiResult<Option<f64>> {
    store
        .score_configs(project)
        .await?
        .check(key, score, value)
        .map_err(ApiError::BadRequest)
}

fn parse_config(body: &[u8]) -> ApiResult<NewScoreConfig> {
    let new: NewScoreConfig = parse_json(body)?;
    check_config(&new).map_err(ApiError::BadRequest)?;
    Ok(new)
}

fn not_found(id_or_key: &str) -> ApiError {
    ApiError::NotFound(format!("no score config {id_or_key:?} in this project"))
}

pub async fn list(
    State(state): State<AppState>,
    Project(project): Project,
) -> ApiResult<Json<ScoreConfigList>> {
    Ok(Json(state.store.score_configs(&project).await?))
}

pub async fn create(
    State(state): State<AppState>,
    Project(project): Project,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<ScoreConfig>)> {
    let new = parse_config(&body)?;
    let existing = state.store.score_configs(&project).await?;
    if existing.get(&new.key).is_some() {
        return Err(ApiError::BadRequest(format!(
            "{} has a score config already: change it with PUT /api/v1/score-configs/{}",
            new.key, new.key
        )));
    }
    if existing.configs.len() >= MAX_CONFIGS {
        return Err(ApiError::BadRequest(format!(
            "a project has at most {MAX_CONFIGS} score configs"
        )));
    }
    let now = now_ms();
    let config = ScoreConfig {
        id: uuid::Uuid::new_v4().to_string(),
        project,
        key: new.key,
        kind: new.kind,
        description: new.description,
        comment_asked: new.comment_asked,
        created_ms: now,
        modified_ms: now,
    };
    state.store.put_score_config(config.clone()).await?;
    Ok((StatusCode::CREATED, Json(config)))
}

pub async fn one(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id_or_key): Path<String>,
) -> ApiResult<Json<ScoreConfig>> {
    state
        .store
        .score_configs(&project)
        .await?
        .find(&id_or_key)
        .cloned()
        .map(Json)
        .ok_or_else(|| not_found(&id_or_key))
}

/// Replaces a config's type, description and comment setting. Its key stays: feedback already
/// given under it keeps its meaning only if a config is not moved to another key.
pub async fn update(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id_or_key): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<ScoreConfig>> {
    let new = parse_config(&body)?;
    let list = state.store.score_configs(&project).await?;
    let old = list.find(&id_or_key).ok_or_else(|| not_found(&id_or_key))?;
    if new.key != old.key {
        return Err(ApiError::BadRequest(format!(
            "a score config's key cannot change ({} to {}): delete it and create another",
            old.key, new.key
        )));
    }
    let config = ScoreConfig {
        kind: new.kind,
        description: new.description,
        comment_asked: new.comment_asked,
        modified_ms: now_ms().max(old.modified_ms),
        ..old.clone()
    };
    state.store.put_score_config(config.clone()).await?;
    Ok(Json(config))
}

pub async fn delete(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id_or_key): Path<String>,
) -> ApiResult<StatusCode> {
    let list = state.store.score_configs(&project).await?;
    let key = list
        .find(&id_or_key)
        .map(|c| c.key.clone())
        .ok_or_else(|| not_found(&id_or_key))?;
    if state.store.delete_score_config(&project, &key).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id_or_key))
    }
}

pub async fn settings(
    State(state): State<AppState>,
    Project(project): Project,
) -> ApiResult<Json<ScoreSettings>> {
    Ok(Json(state.store.score_configs(&project).await?.settings))
}

pub async fn set_settings(
    State(state): State<AppState>,
    Project(project): Project,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<ScoreSettings>> {
    let settings: ScoreSettings = parse_json(&body)?;
    state.store.set_score_settings(&project, settings).await?;
    Ok(Json(settings))
}
