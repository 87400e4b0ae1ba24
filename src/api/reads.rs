//! What the pages read: traces, spans, tags, metrics, sessions, users, services and cohorts.

use serde::Deserialize;
use skein_model::metrics::{MetricQuery, MetricResponse};
use skein_model::skeleton_wire;
use skein_model::{ProjectInfo, TagKeyInfo, TagValueInfo, TracePage, TraceQuery, TraceSkeleton};

use super::body::{after_paint, BodyReader};
use super::early;
use super::{check, get, unreachable, ApiError};
use crate::links;

pub async fn projects() -> Result<Vec<ProjectInfo>, ApiError> {
    get(links::api_projects()).await
}

pub async fn traces(project: &str, query: &TraceQuery) -> Result<TracePage, ApiError> {
    get(links::api_traces(project, query)).await
}

/// The feedback keys on the traces `query` lists, in list order with repeats: the list's
/// answer read for them alone (the rest of each row is skipped, not decoded: a page that
/// only wants the keys does without the trace summary's decoder).
pub async fn feedback_keys(project: &str, query: &TraceQuery) -> Result<Vec<String>, ApiError> {
    #[derive(Deserialize)]
    struct Page {
        traces: Vec<Row>,
    }
    #[derive(Deserialize)]
    struct Row {
        #[serde(default)]
        feedback: Vec<Stat>,
    }
    #[derive(Deserialize)]
    struct Stat {
        key: String,
    }
    let page: Page = get(links::api_traces(project, query)).await?;
    Ok(page
        .traces
        .into_iter()
        .flat_map(|t| t.feedback)
        .map(|f| f.key)
        .collect())
}

/// A trace's skeleton, fetched in the compact binary form: at a million spans it is a
/// fraction of the JSON's bytes.
pub async fn trace(project: &str, trace_id: &str) -> Result<TraceSkeleton, ApiError> {
    trace_streamed(project, trace_id, |_| false).await
}

/// [`trace`], decoded as it arrives (the body read chunk by chunk): `progress` sees the
/// decoder after each chunk, the top of the tree first, and returns true to have the next
/// frame painted before reading on.
pub async fn trace_streamed(
    project: &str,
    trace_id: &str,
    mut progress: impl FnMut(&skeleton_wire::Decoder) -> bool,
) -> Result<TraceSkeleton, ApiError> {
    let url = links::api_trace_binary(project, trace_id);
    // The opened trace's skeleton: index.html asked for it already (the same URL).
    let response = early::get(&url).await?;
    check(&response).await?;
    let wrong = |e: skeleton_wire::WireError| ApiError::Unexpected(format!("{url}: {e}"));
    let mut decoder = skeleton_wire::Decoder::new();
    match response.body() {
        Some(body) => {
            let mut reader = BodyReader::new(&body).map_err(|e| unreachable(&e))?;
            while let Some(bytes) = reader.next().await.map_err(|e| unreachable(&e))? {
                decoder.feed(bytes).map_err(wrong)?;
                if progress(&decoder) {
                    after_paint().await;
                }
            }
        }
        None => {
            let bytes = response
                .binary()
                .await
                .map_err(|e| unreachable(&e.to_string()))?;
            decoder.feed(&bytes).map_err(wrong)?;
        }
    }
    decoder.finish().map_err(wrong)
}

/// `GET /api/v1/traces/{trace_id}/spans/{span_id}`: one span in full (attributes, events,
/// input, output), fetched when the trace page selects it.
pub async fn span(
    project: &str,
    trace_id: &str,
    span_id: &str,
) -> Result<skein_model::span::Span, ApiError> {
    get(links::api_span(project, trace_id, span_id)).await
}

/// `GET /api/v1/traces/{trace_id}/search?q=`: the spans holding the text anywhere
/// (attributes, input, output, events), for the trace page's find box.
pub async fn trace_search(
    project: &str,
    trace_id: &str,
    q: &str,
) -> Result<skein_model::trace_search::TraceSearch, ApiError> {
    get(links::api_trace_search(project, trace_id, q)).await
}

pub async fn tags(project: &str) -> Result<Vec<TagKeyInfo>, ApiError> {
    get(links::api_tags(project)).await
}

pub async fn tag_values(project: &str, key: &str) -> Result<Vec<TagValueInfo>, ApiError> {
    get(links::api_tag_values(project, key)).await
}

/// `GET /api/v1/fields/{field}/values`: a span field's values in use (`model`, `name`).
pub async fn field_values(
    project: &str,
    field: skein_model::ValueField,
) -> Result<Vec<skein_model::FieldValueInfo>, ApiError> {
    get(links::api_field_values(project, field)).await
}

/// `GET /api/v1/metrics`: a metric's aggregates per group and time bucket.
pub async fn metrics(project: &str, query: &MetricQuery) -> Result<MetricResponse, ApiError> {
    get(links::api_metrics(project, &query.to_query_string())).await
}

pub async fn sessions(
    project: &str,
    query: &skein_model::sessions::SessionQuery,
) -> Result<skein_model::sessions::SessionPage, ApiError> {
    get(links::api_sessions(
        "sessions",
        project,
        None,
        &query.to_query_string(),
    ))
    .await
}

pub async fn session(
    project: &str,
    session_id: &str,
) -> Result<skein_model::sessions::SessionDetail, ApiError> {
    get(links::api_sessions(
        "sessions",
        project,
        Some(session_id),
        "",
    ))
    .await
}

pub async fn users(
    project: &str,
    query: &skein_model::sessions::SessionQuery,
) -> Result<skein_model::sessions::UserPage, ApiError> {
    get(links::api_sessions(
        "users",
        project,
        None,
        &query.to_query_string(),
    ))
    .await
}

pub async fn user(
    project: &str,
    user_id: &str,
    query: &skein_model::sessions::SessionQuery,
) -> Result<skein_model::sessions::UserDetail, ApiError> {
    get(links::api_sessions(
        "users",
        project,
        Some(user_id),
        &query.to_query_string(),
    ))
    .await
}

pub async fn service_graph(
    project: &str,
    query: &skein_model::service_graph::ServiceGraphQuery,
) -> Result<skein_model::service_graph::ServiceGraph, ApiError> {
    get(links::api_service_graph(project, &query.to_query_string())).await
}

/// `GET /api/v1/spans`: a page of the project's spans across traces, for the `/spans` page.
pub async fn spans(
    project: &str,
    view: &links::SpanListView,
    cursor: Option<&str>,
) -> Result<skein_model::span_list::SpanPage, ApiError> {
    get(links::api_spans(project, view, cursor)).await
}

/// `GET /api/v1/services`: the project's services (filter suggestions).
pub async fn services(project: &str) -> Result<Vec<skein_model::ServiceInfo>, ApiError> {
    get(links::api_services(project)).await
}

/// `GET /api/v1/compare/cohorts`: two cohorts of traces compared span name by span name.
pub async fn compare_cohorts(
    project: &str,
    query: &skein_model::cohort::CohortQuery,
) -> Result<skein_model::cohort::CohortComparison, ApiError> {
    get(links::api_cohorts(project, query)).await
}
