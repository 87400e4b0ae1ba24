//! The SDK's feedback reads and edits: `GET /feedback` (`Client.list_feedback`, by run ids,
//! keys, sources and sessions, paged by `offset`), `GET`, `PATCH` and `DELETE /feedback/{id}`
//! (`read_feedback`, `update_feedback`, `delete_feedback`). Creating is `feedback::store`.
//!
//! A feedback id is looked up in the key's project, or (without keys) in each project with
//! traces and the default one: one lookup by key per project. A record names its run by span
//! id; the run's UUID, which the SDK wants back, is read from the run's span (one read per
//! record of a page) or, when listing by run, is the one asked for.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};
use skein_model::Feedback;
use uuid::Uuid;

use super::feedback::{answer, score_of};
use super::params::{json_object, QueryParams};
use super::projects::locate_run;
use super::{as_run, ids};
use crate::api::score_configs::checked_score;
use crate::clock::now_ms;
use crate::context::{AppState, KeyScope};
use crate::error::{ApiError, ApiResult};
use crate::ingest::body::JsonBody;
use crate::store::FeedbackFilter;

/// Most run ids one listing may name.
const MAX_LIST_RUNS: usize = 1000;
/// Most records one page holds (the SDK asks for 100).
const MAX_PAGE: usize = 1000;
/// Most records read per project, and in all, when listing without run ids.
const MAX_SCAN: u32 = 10_000;

/// The projects a feedback id may be in, for this key.
async fn candidate_projects(state: &AppState, scope: &KeyScope) -> ApiResult<Vec<String>> {
    if let Some(own) = scope.project() {
        return Ok(vec![own.to_string()]);
    }
    let mut names = state.store.project_names().await?;
    if !names.iter().any(|n| n == skein_model::DEFAULT_PROJECT) {
        names.push(skein_model::DEFAULT_PROJECT.to_string());
    }
    Ok(names)
}

fn feedback_uuid(id: &str) -> ApiResult<Uuid> {
    ids::parse_uuid(id)
        .ok_or_else(|| ApiError::BadRequest(format!("feedback id {id:?} is not a UUID")))
}

/// The record with this id among the projects the key may see.
async fn find(state: &AppState, scope: &KeyScope, id: &Uuid) -> ApiResult<Feedback> {
    let id = id.to_string();
    for project in candidate_projects(state, scope).await? {
        if let Some(f) = state.store.read_feedback(&project, &id).await? {
            return Ok(f);
        }
    }
    Err(ApiError::NotFound(format!("no feedback {id}")))
}

/// The UUID of the run a record is about: the one its span keeps (a LangSmith run's own, or
/// an OTLP span's synthetic one); a span not stored (yet) is named by its synthetic id.
async fn run_uuid(
    state: &AppState,
    f: &Feedback,
    known: &mut HashMap<String, Uuid>,
) -> ApiResult<Uuid> {
    if let Some(u) = known.get(&f.run_id) {
        return Ok(*u);
    }
    let span = match &f.trace_id {
        Some(trace) => state.store.span(&f.project, trace, &f.run_id).await?,
        None => None,
    };
    let uuid = span
        .as_ref()
        .map_or_else(|| ids::synthetic_run_id(&f.run_id), as_run::run_id_of);
    known.insert(f.run_id.clone(), uuid);
    Ok(uuid)
}

fn answered(f: &Feedback, run: &Uuid) -> Value {
    let trace = f.trace_id.as_deref().and_then(ids::trace_uuid);
    answer(f, run, trace.as_ref(), json!({}))
}

/// `GET /feedback/{id}`.
pub async fn read_feedback(
    State(state): State<AppState>,
    scope: KeyScope,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let f = find(&state, &scope, &feedback_uuid(&id)?).await?;
    let run = run_uuid(&state, &f, &mut HashMap::new()).await?;
    Ok(Json(answered(&f, &run)))
}

/// `PATCH /feedback/{id}`: the fields sent change (`null` clears one), the others stay.
pub async fn update_feedback(
    State(state): State<AppState>,
    scope: KeyScope,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let id = feedback_uuid(&id)?;
    let changes = &json_object(&body, "a feedback update")?;
    let mut f = find(&state, &scope, &id).await?;
    scope.allows(&f.project)?;
    let present = |v: &Value| (!v.is_null()).then(|| v.clone());
    for (field, value) in changes {
        match field.as_str() {
            "score" => f.score = score_of(Some(value))?,
            "value" => f.value = present(value),
            "correction" => f.correction = present(value),
            "comment" => {
                f.comment = match value {
                    Value::Null => None,
                    Value::String(s) if s.is_empty() => None,
                    Value::String(s) if s.len() <= super::feedback::MAX_COMMENT_LEN => {
                        Some(s.clone())
                    }
                    Value::String(_) => {
                        return Err(ApiError::BadRequest(format!(
                            "feedback comment is longer than {} bytes",
                            super::feedback::MAX_COMMENT_LEN
                        )))
                    }
                    other => {
                        return Err(ApiError::BadRequest(format!(
                            "feedback comment must be text, not {other}"
                        )))
                    }
                }
            }
            // LangSmith's update takes these too; Skein keeps none of them.
            "feedback_config" | "feedback_source" | "extra" => {}
            other => {
                return Err(ApiError::BadRequest(format!(
                    "feedback field {other:?} cannot be updated"
                )))
            }
        }
    }
    // A changed score must fit its key's config (a comment alone may change on a record
    // given before the config was).
    if changes.contains_key("score") || changes.contains_key("value") {
        f.score = checked_score(
            state.store.as_ref(),
            &f.project,
            &f.key,
            f.score,
            f.value.as_ref(),
        )
        .await?;
    }
    f.modified_ms = now_ms().max(f.modified_ms);
    // The edited record replaces the stored one whole (the store's `update_feedback` cannot
    // clear a field, which LangSmith's update can).
    state.store.import_feedback(f.clone()).await?;
    let run = run_uuid(&state, &f, &mut HashMap::new()).await?;
    Ok(Json(answered(&f, &run)))
}

/// `DELETE /feedback/{id}`.
pub async fn delete_feedback(
    State(state): State<AppState>,
    scope: KeyScope,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let f = find(&state, &scope, &feedback_uuid(&id)?).await?;
    scope.allows(&f.project)?;
    if !state.store.delete_feedback(&f.project, &f.id).await? {
        return Err(ApiError::NotFound(format!("no feedback {id}")));
    }
    Ok(Json(json!({})))
}

/// `GET /feedback?run=...&key=...&source=...&limit=...&offset=...`.
pub async fn list_feedback(
    State(state): State<AppState>,
    scope: KeyScope,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<Value>>> {
    let params = QueryParams::parse(query.as_deref());
    let all = |name: &str| params.all(name);
    let number = |name: &str, default: usize| -> ApiResult<usize> {
        match all(name).first() {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| {
                ApiError::BadRequest(format!("{name} {text:?} is not a whole number"))
            }),
        }
    };
    let limit = number("limit", 100)?.clamp(1, MAX_PAGE);
    let offset = number("offset", 0)?;
    let keys = all("key");
    let sources = all("source");
    let runs = all("run")
        .iter()
        .map(|r| {
            ids::parse_uuid(r)
                .ok_or_else(|| ApiError::BadRequest(format!("run id {r:?} is not a UUID")))
        })
        .collect::<ApiResult<Vec<Uuid>>>()?;
    if runs.len() > MAX_LIST_RUNS {
        return Err(ApiError::BadRequest(format!(
            "a feedback listing names at most {MAX_LIST_RUNS} runs, not {}",
            runs.len()
        )));
    }
    let mut known: HashMap<String, Uuid> = HashMap::new();
    let mut records: Vec<Feedback> = Vec::new();
    if !runs.is_empty() {
        for run in &runs {
            let Some(span) = locate_run(&state, &scope, run).await? else {
                continue;
            };
            scope.allows(&span.project)?;
            known.insert(span.span_id.clone(), *run);
            let filter = FeedbackFilter {
                run_id: Some(span.span_id.clone()),
                trace_id: Some(span.trace_id.clone()),
                key: (keys.len() == 1).then(|| keys[0].clone()),
                limit: Some(MAX_SCAN),
                ..FeedbackFilter::default()
            };
            records.extend(state.store.list_feedback(&span.project, filter).await?);
        }
    } else {
        // `session=<project UUID>` narrows to those projects.
        let sessions: Vec<Uuid> = all("session")
            .iter()
            .map(|s| {
                ids::parse_uuid(s)
                    .ok_or_else(|| ApiError::BadRequest(format!("session {s:?} is not a UUID")))
            })
            .collect::<ApiResult<_>>()?;
        let mut projects = candidate_projects(&state, &scope).await?;
        if !sessions.is_empty() {
            projects.retain(|p| sessions.contains(&ids::project_uuid(p)));
        }
        for project in projects {
            if records.len() >= MAX_SCAN as usize {
                break;
            }
            let filter = FeedbackFilter {
                key: (keys.len() == 1).then(|| keys[0].clone()),
                limit: Some(MAX_SCAN),
                ..FeedbackFilter::default()
            };
            records.extend(state.store.list_feedback(&project, filter).await?);
        }
    }
    records.retain(|f| {
        (keys.is_empty() || keys.contains(&f.key))
            && (sources.is_empty() || sources.contains(&f.source))
    });
    // Oldest first, as the store lists them: pages by offset stay put while feedback is added.
    records.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    records.dedup_by(|a, b| a.project == b.project && a.id == b.id);
    let page: Vec<Feedback> = records.into_iter().skip(offset).take(limit).collect();
    let mut out = Vec::with_capacity(page.len());
    for f in &page {
        let run = run_uuid(&state, f, &mut known).await?;
        out.push(answered(f, &run));
    }
    Ok(Json(out))
}
