//! `/api/v1/traces`: the list, one trace's skeleton, one span in full, find in a trace, a
//! trace exported as OTLP.

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use skein_model::query::parse_query_string;
use skein_model::span::{is_valid_hex_id, Span};
use skein_model::trace_search::{self, TraceSearch};
use skein_model::{TracePage, TraceQuery, TraceSkeleton};

use crate::context::{AppState, Project};
use crate::error::{ApiError, ApiResult};
use crate::export;
use crate::store::StoreError;

pub async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<TracePage>> {
    let query = TraceQuery::from_query_string(query.as_deref().unwrap_or(""))?;
    Ok(Json(state.store.list_traces(&project, &query).await?))
}

fn check_trace_id(trace_id: &str) -> ApiResult<String> {
    let id = trace_id.to_ascii_lowercase();
    if !is_valid_hex_id(&id, 32) {
        return Err(ApiError::BadRequest(format!(
            "trace id {trace_id:?} is not 32 hex characters"
        )));
    }
    Ok(id)
}

pub async fn skeleton(
    State(state): State<AppState>,
    Project(project): Project,
    Path(trace_id): Path<String>,
) -> ApiResult<Json<TraceSkeleton>> {
    let id = check_trace_id(&trace_id)?;
    state
        .store
        .trace(&project, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no trace {id} in project {project:?}")))
}

pub async fn span(
    State(state): State<AppState>,
    Project(project): Project,
    Path((trace_id, span_id)): Path<(String, String)>,
) -> ApiResult<Json<Span>> {
    let trace_id = check_trace_id(&trace_id)?;
    let span_id = span_id.to_ascii_lowercase();
    if !is_valid_hex_id(&span_id, 16) {
        return Err(ApiError::BadRequest(format!(
            "span id {span_id:?} is not 16 hex characters"
        )));
    }
    state
        .store
        .span(&project, &trace_id, &span_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no span {span_id} in trace {trace_id}")))
}

/// `GET /api/v1/traces/{trace_id}/search?q=`: the spans holding `q` anywhere in their text
/// (`skein_model::trace_search`), as the store finds them.
pub async fn search(
    State(state): State<AppState>,
    Project(project): Project,
    Path(trace_id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<TraceSearch>> {
    let trace_id = check_trace_id(&trace_id)?;
    let raw = parse_query_string(query.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let needle = trace_search::normalize_query(&raw).map_err(ApiError::BadRequest)?;
    let span_ids = state
        .store
        .search_trace(&project, &trace_id, &needle)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no trace {trace_id} in project {project:?}")))?;
    Ok(Json(TraceSearch {
        query: raw.trim().to_string(),
        span_ids,
    }))
}

/// `GET /api/v1/traces/{trace_id}/export`: the whole trace as an OTLP/JSON export request, as a
/// file to download; sending it to `/v1/traces` stores the same trace again.
pub async fn export(
    State(state): State<AppState>,
    Project(project): Project,
    Path(trace_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let id = check_trace_id(&trace_id)?;
    let spans = state.store.trace_spans(&project, &id).await?;
    if spans.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no trace {id} in project {project:?}"
        )));
    }
    let request = export::otlp::trace_request(&spans);
    let body = serde_json::to_vec(&request)
        .map_err(|e| StoreError::Internal(format!("writing trace {id} as OTLP JSON: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"trace-{id}.otlp.json\""),
            ),
        ],
        body,
    ))
}
