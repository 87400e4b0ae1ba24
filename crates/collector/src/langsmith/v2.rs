//! LangSmith's v2 run endpoints, which the SDK's `client.runs` calls (`query`, `retrieve`,
//! `get_url`). The SDK builds their base URL from `LANGSMITH_ENDPOINT` minus a trailing
//! `/api` or `/api/v1`, so with `…/api/langsmith` they arrive as `/api/langsmith/api/v2/…`.
//!
//! - `POST /api/v2/runs/query`: the v1 query (`reads::run_query`) with v2 names
//!   (`project_ids`, `ids`, `trace_id`, `has_error`, `min_start_time` defaulting to a day ago,
//!   `max_start_time`, `page_size`), answered as `{"items", "next_cursor"}`;
//! - `GET /api/v2/runs/{id}?project_id=…`: one run of that project;
//! - `GET /api/v2/runs/{id}/url?project_id=…&trace_id=…`: the run's trace page on this
//!   Skein (`/traces/{trace}?span={span}`), absolute on the address the request was sent to.
//!
//! A v2 run carries only the fields named in `selects` (upper-case field names; `id` always),
//! its `status` and `run_type` in the v2 spelling.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use serde_json::{json, Map, Value};
use skein_model::query::parse_query_string;

use super::params::json_object;
use super::projects::{locate_run, project_by_uuid};
use super::reads::run_query;
use super::{as_run, ids, rollups, run};
use crate::context::{AppState, KeyScope};
use crate::error::{ApiError, ApiResult};
use crate::ingest::body::JsonBody;

/// What `min_start_time` is when a query leaves it out: LangSmith's default, a day.
const DEFAULT_WINDOW_NS: i64 = 24 * 3600 * 1_000_000_000;

/// The v1 run JSON in v2's shape, all fields (before `selects`).
fn v2_run(v1: &Value) -> Map<String, Value> {
    let mut out = v1.as_object().cloned().unwrap_or_default();
    let upper = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(|s| Value::from(s.to_ascii_uppercase()))
    };
    for field in ["status", "run_type"] {
        if let Some(v) = upper(out.get(field)) {
            out.insert(field.into(), v);
        }
    }
    if let Some(t) = out.get("session_id").cloned() {
        out.insert("project_id".into(), t);
    }
    out.insert(
        "is_root".into(),
        out.get("parent_run_id").is_none_or(Value::is_null).into(),
    );
    let metadata = out
        .get("extra")
        .and_then(|e| e.get("metadata"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let thread = ["session_id", "thread_id", "conversation_id"]
        .iter()
        .find_map(|k| metadata.get(*k).and_then(Value::as_str).map(Value::from));
    out.insert("thread_id".into(), thread.unwrap_or(Value::Null));
    out.insert("metadata".into(), metadata);
    let latency = match (
        out.get("start_time").and_then(run::parse_time),
        out.get("end_time").and_then(run::parse_time),
    ) {
        (Some(s), Some(e)) => Value::from((e - s) as f64 / 1e9),
        _ => Value::Null,
    };
    out.insert("latency_seconds".into(), latency);
    out
}

/// Keeps the selected fields (`TOTAL_TOKENS` → `total_tokens`); `id` is always there.
fn select(mut run: Map<String, Value>, selects: &[String]) -> Value {
    run.retain(|k, _| k == "id" || selects.iter().any(|s| s.eq_ignore_ascii_case(k)));
    Value::Object(run)
}

fn selects_of(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// `POST /api/v2/runs/query`.
pub async fn query_runs(
    State(state): State<AppState>,
    scope: KeyScope,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let q = &json_object(&body, "a run query")?;
    let present = |k: &str| q.get(k).is_some_and(|v| !v.is_null());
    for unsupported in [
        "ai_search",
        "sem_filter",
        "trace_filter",
        "tree_filter",
        "reference_dataset_id",
        "reference_examples",
        "min_feedback_modified_at",
        "max_feedback_modified_at",
    ] {
        if present(unsupported) {
            return Err(ApiError::BadRequest(format!(
                "run queries with \"{unsupported}\" are not supported by Skein"
            )));
        }
    }
    // `include_subtree_usage` needs nothing: a run without usage of its own already carries
    // its subtree's total (`rollups`).
    let mut v1 = Map::new();
    for (from, to) in [
        ("project_ids", "session"),
        ("ids", "id"),
        ("trace_id", "trace"),
        ("is_root", "is_root"),
        ("run_type", "run_type"),
        ("has_error", "error"),
        ("filter", "filter"),
        ("max_start_time", "max_start_time"),
        ("page_size", "limit"),
        ("cursor", "cursor"),
    ] {
        if let Some(v) = q.get(from).filter(|v| !v.is_null()) {
            v1.insert(to.into(), v.clone());
        }
    }
    if let Some(Value::String(t)) = v1.get("run_type") {
        v1.insert("run_type".into(), t.to_ascii_lowercase().into());
    }
    let since = match q.get("min_start_time").filter(|v| !v.is_null()) {
        Some(v) => v.clone(),
        None => run::format_time(now_ns().saturating_sub(DEFAULT_WINDOW_NS)).into(),
    };
    v1.insert("start_time".into(), since);
    let (runs, next) = run_query(&state, &scope, &v1).await?;
    let selects = selects_of(q.get("selects"));
    let items: Vec<Value> = runs.iter().map(|r| select(v2_run(r), &selects)).collect();
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

/// `GET /api/v2/runs/{id}?project_id=…&selects=…`.
pub async fn retrieve_run(
    State(state): State<AppState>,
    scope: KeyScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    let uuid = ids::parse_uuid(&id)
        .ok_or_else(|| ApiError::BadRequest(format!("run id {id:?} is not a UUID")))?;
    let project_id = pairs
        .iter()
        .find(|(k, _)| k == "project_id")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| ApiError::BadRequest("a run is read with its project_id".into()))?;
    let project = ids::parse_uuid(project_id)
        .ok_or_else(|| ApiError::BadRequest(format!("project_id {project_id:?} is not a UUID")))?;
    let not_found = || ApiError::NotFound(format!("no run {uuid} in project {project}"));
    let span = locate_run(&state, &scope, &uuid)
        .await?
        .filter(|s| ids::project_uuid(&s.project) == project)
        .ok_or_else(not_found)?;
    scope.allows(&span.project)?;
    let mut v1 = as_run::run_of(&span);
    rollups::fill_one(&state, &span, &mut v1).await?;
    let selects: Vec<String> = pairs
        .into_iter()
        .filter(|(k, _)| k == "selects")
        .map(|(_, v)| v)
        .collect();
    Ok(Json(select(v2_run(&v1), &selects)))
}

/// `GET /api/v2/runs/{id}/url?project_id=…&trace_id=…`: built from the ids alone (a run's
/// trace and span ids are functions of its UUIDs), so it works before the run has arrived.
pub async fn run_url(
    State(state): State<AppState>,
    scope: KeyScope,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    let uuid_param = |name: &str| -> ApiResult<uuid::Uuid> {
        let text = pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| ApiError::BadRequest(format!("a run's URL needs its {name}")))?;
        ids::parse_uuid(text)
            .ok_or_else(|| ApiError::BadRequest(format!("{name} {text:?} is not a UUID")))
    };
    let run = ids::parse_uuid(&id)
        .ok_or_else(|| ApiError::BadRequest(format!("run id {id:?} is not a UUID")))?;
    let trace = uuid_param("trace_id")?;
    let project_id = uuid_param("project_id")?;
    let project = project_by_uuid(&state, &scope, &project_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no project {project_id}")))?;
    scope.allows(&project)?;
    // A LangSmith trace's Skein id is its UUID's hex, as an OTLP trace's UUID is its id.
    let path = as_run::trace_page(
        &project,
        &ids::trace_hex(&trace),
        &rollups::span_of_run(&run),
    );
    Ok(Json(
        json!({ "url": format!("{}{path}", origin(&headers)) }),
    ))
}

/// `http://<the Host the request named>`, or https behind a proxy that says so.
pub fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]_".contains(c))
        })
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v2_run_has_the_selected_fields_in_v2_spelling() {
        let v1 = json!({
            "id": "r", "name": "main_agent", "run_type": "chain", "status": "success",
            "session_id": "s", "parent_run_id": null, "total_tokens": 660,
            "start_time": "2026-11-24T06:05:18.000000+00:00",
            "end_time": "2026-11-24T06:05:19.500000+00:00",
            "extra": {"metadata": {"thread_id": "t-1"}},
        });
        let all = [
            "NAME",
            "RUN_TYPE",
            "STATUS",
            "PROJECT_ID",
            "IS_ROOT",
            "THREAD_ID",
            "LATENCY_SECONDS",
            "TOTAL_TOKENS",
        ]
        .map(String::from);
        let run = select(v2_run(&v1), &all);
        assert_eq!(
            run,
            json!({
                "id": "r", "name": "main_agent", "run_type": "CHAIN", "status": "SUCCESS",
                "project_id": "s", "is_root": true, "thread_id": "t-1",
                "latency_seconds": 1.5, "total_tokens": 660,
            })
        );
        assert_eq!(select(v2_run(&v1), &[]), json!({"id": "r"}));
    }

    #[test]
    fn the_origin_is_the_host_asked() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(origin(&headers), "http://127.0.0.1:8080");
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(origin(&headers), "https://127.0.0.1:8080");
        headers.insert(header::HOST, "evil\"><script>".parse().unwrap());
        assert_eq!(origin(&headers), "https://localhost");
    }
}
