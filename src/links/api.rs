//! The collector API's URLs (`/api/v1/…`): the project always named (the API has no
//! default), list queries in the same codec as the page URLs.

use skein_model::cohort::CohortQuery;
use skein_model::query::{encode_pairs, percent_encode};
use skein_model::TraceQuery;

use super::{join, SpanListView};

/// The live stream of the traces a list query selects (`GET /api/v1/stream`).
pub fn api_stream_traces(project: &str, query: &TraceQuery) -> String {
    let mut q = query.clone();
    q.cursor = None;
    q.limit = None;
    join(
        "/api/v1/stream",
        &[
            encode_pairs([("project", project), ("kind", "traces")]),
            q.to_query_string(),
        ],
    )
}

/// The live stream of the spans passing `filter`.
pub fn api_stream_spans(project: &str, filter: &str) -> String {
    let mut pairs = vec![("project", project), ("kind", "spans")];
    if !filter.trim().is_empty() {
        pairs.push(("filter", filter));
    }
    join("/api/v1/stream", &[encode_pairs(pairs)])
}

/// Where a browser gets a ticket for opening streams of a project.
pub fn api_stream_ticket(project: &str) -> String {
    join(
        "/api/v1/stream/ticket",
        &[encode_pairs([("project", project)])],
    )
}

/// `/api/v1/queues` and below it (`tail`: `/{id}/next`, already encoded).
pub fn api_queues(project: &str, tail: &str) -> String {
    api(&format!("/api/v1/queues{tail}"), project, "")
}

/// `/api/v1/pairwise` and below it (`tail`: `/{id}/next`, already encoded), with `query`.
pub fn api_pairwise(project: &str, tail: &str, query: &str) -> String {
    api(&format!("/api/v1/pairwise{tail}"), project, query)
}

/// Who the request's API key reviews as.
pub fn api_reviewer(project: &str) -> String {
    api("/api/v1/reviewer", project, "")
}

/// `GET /api/v1/compare/cohorts`.
pub fn api_cohorts(project: &str, query: &CohortQuery) -> String {
    api("/api/v1/compare/cohorts", project, &query.to_query_string())
}

/// `GET /api/v1/spans` for a page's view, from `cursor`.
pub fn api_spans(project: &str, view: &SpanListView, cursor: Option<&str>) -> String {
    let cursor = cursor.map(|c| encode_pairs([("cursor", c)]));
    api(
        "/api/v1/spans",
        project,
        &[view.query_string(), cursor.unwrap_or_default()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("&"),
    )
}

/// `GET /api/v1/services` (the project's services, for filter suggestions).
pub fn api_services(project: &str) -> String {
    with_project("/api/v1/services".to_string(), project)
}

/// `GET /api/v1/traces` for a project and query (cursor included).
pub fn api_traces(project: &str, query: &TraceQuery) -> String {
    join(
        "/api/v1/traces",
        &[
            encode_pairs([("project", project)]),
            query.to_query_string(),
        ],
    )
}

fn with_project(path: String, project: &str) -> String {
    api(&path, project, "")
}

/// An API URL: `path?project=…&query` (the project always named: the API has no default).
fn api(path: &str, project: &str, query: &str) -> String {
    join(
        path,
        &[encode_pairs([("project", project)]), query.to_string()],
    )
}

/// `GET /api/v1/traces/{trace_id}/spans/{span_id}`.
pub fn api_span(project: &str, trace_id: &str, span_id: &str) -> String {
    with_project(
        format!(
            "/api/v1/traces/{}/spans/{}",
            percent_encode(trace_id),
            percent_encode(span_id)
        ),
        project,
    )
}

/// `GET /api/v1/traces/{trace_id}/search?q=`.
pub fn api_trace_search(project: &str, trace_id: &str, q: &str) -> String {
    api(
        &format!("/api/v1/traces/{}/search", percent_encode(trace_id)),
        project,
        &encode_pairs([("q", q)]),
    )
}

/// `GET /api/v1/metrics` for a metric query (its query string).
pub fn api_metrics(project: &str, query: &str) -> String {
    api("/api/v1/metrics", project, query)
}

/// `/api/v1/feedback` (a trace's records with `trace_id`), or `/api/v1/feedback/{id}`.
pub fn api_feedback(project: &str, id: Option<&str>, trace_id: Option<&str>) -> String {
    let path = match id {
        Some(id) => format!("/api/v1/feedback/{}", percent_encode(id)),
        None => "/api/v1/feedback".to_string(),
    };
    let query = trace_id
        .map(|t| encode_pairs([("trace_id", t)]))
        .unwrap_or_default();
    api(&path, project, &query)
}

/// `/api/v1/score-configs`, or one config by id or key.
pub fn api_score_configs(project: &str, id_or_key: Option<&str>) -> String {
    let path = match id_or_key {
        Some(id) => format!("/api/v1/score-configs/{}", percent_encode(id)),
        None => "/api/v1/score-configs".to_string(),
    };
    api(&path, project, "")
}

/// `/api/v1/score-settings`.
pub fn api_score_settings(project: &str) -> String {
    api("/api/v1/score-settings", project, "")
}

/// `GET /api/v1/sessions` or `/api/v1/users` (`kind`), or one of them by id, with a list query.
pub fn api_sessions(kind: &str, project: &str, id: Option<&str>, query: &str) -> String {
    let path = match id {
        Some(id) => format!("/api/v1/{kind}/{}", percent_encode(id)),
        None => format!("/api/v1/{kind}"),
    };
    api(&path, project, query)
}

/// `GET /api/v1/services/graph`.
pub fn api_service_graph(project: &str, query: &str) -> String {
    api("/api/v1/services/graph", project, query)
}

/// A trace's skeleton in the compact binary form (`skein_model::skeleton_wire`).
pub fn api_trace_binary(project: &str, trace_id: &str) -> String {
    api(
        &format!("/api/v1/traces/{}", percent_encode(trace_id)),
        project,
        &encode_pairs([("format", skein_model::skeleton_wire::FORMAT)]),
    )
}

/// The trace as an OTLP/JSON file.
pub fn api_trace_export(project: &str, trace_id: &str) -> String {
    with_project(
        format!("/api/v1/traces/{}/export", percent_encode(trace_id)),
        project,
    )
}

/// The list's traces (its filters, all pages) as a `format` (`csv`, `jsonl`) file.
pub fn api_traces_export(project: &str, query: &TraceQuery, format: &str) -> String {
    let mut all = query.clone();
    all.cursor = None;
    join(
        "/api/v1/traces/export",
        &[
            encode_pairs([("project", project), ("format", format)]),
            all.to_query_string(),
        ],
    )
}

pub fn api_tags(project: &str) -> String {
    with_project("/api/v1/tags".to_string(), project)
}

pub fn api_tag_values(project: &str, key: &str) -> String {
    with_project(
        format!("/api/v1/tags/{}/values", percent_encode(key)),
        project,
    )
}

/// A span field's stored values (`model`, `name`), for the filter box.
pub fn api_field_values(project: &str, field: skein_model::ValueField) -> String {
    with_project(format!("/api/v1/fields/{}/values", field.as_str()), project)
}

pub fn api_projects() -> String {
    "/api/v1/projects".to_string()
}
