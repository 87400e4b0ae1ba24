//! The query and feedback API, `/api/v1/...`: one file per resource.

mod catalog;
mod compare;
mod feedback;
mod leases;
mod metrics;
mod pairwise;
mod queues;
mod reviewer;
pub(crate) mod score_configs;
mod services;
mod sessions;
mod spans;
mod stream;
mod traces;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use tower_http::compression::{CompressionLayer, CompressionLevel};

use crate::context::AppState;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/projects", get(catalog::projects))
        .route("/api/v1/services", get(catalog::services))
        .route("/api/v1/services/graph", get(services::graph))
        .route("/api/v1/sessions", get(sessions::list))
        .route("/api/v1/sessions/{session_id}", get(sessions::one))
        .route("/api/v1/users", get(sessions::users))
        .route("/api/v1/users/{user_id}", get(sessions::user))
        .route("/api/v1/tags", get(catalog::tag_keys))
        .route("/api/v1/tags/{key}/values", get(catalog::tag_values))
        .route("/api/v1/fields/{field}/values", get(catalog::field_values))
        .route("/api/v1/metrics", get(metrics::get))
        .route("/api/v1/spans", get(spans::list))
        .route("/api/v1/stream", get(stream::stream))
        .route("/api/v1/stream/ticket", post(stream::ticket))
        .route("/api/v1/spans/export", get(spans::export_list))
        .route("/api/v1/compare/cohorts", get(compare::cohorts))
        .route("/api/v1/traces", get(traces::list))
        .route("/api/v1/traces/export", get(traces::export_list))
        // The biggest answer the dashboard reads (a million spans: ~20 MB binary, ~50 MB
        // JSON): gzip at its fastest level, so compressing does not outlast the transfer (the
        // server's own layer leaves an answer already encoded alone).
        .route(
            "/api/v1/traces/{trace_id}",
            get(traces::skeleton).layer(CompressionLayer::new().quality(CompressionLevel::Fastest)),
        )
        .route(
            "/api/v1/traces/{trace_id}/spans/{span_id}",
            get(traces::span),
        )
        .route("/api/v1/traces/{trace_id}/search", get(traces::search))
        .route("/api/v1/traces/{trace_id}/export", get(traces::export))
        .route(
            "/api/v1/feedback",
            get(feedback::list).post(feedback::create),
        )
        .route(
            "/api/v1/feedback/{id}",
            patch(feedback::update).delete(feedback::delete),
        )
        .route(
            "/api/v1/score-configs",
            get(score_configs::list).post(score_configs::create),
        )
        .route(
            "/api/v1/score-configs/{id_or_key}",
            get(score_configs::one)
                .put(score_configs::update)
                .delete(score_configs::delete),
        )
        .route(
            "/api/v1/score-settings",
            get(score_configs::settings).put(score_configs::set_settings),
        )
        .route("/api/v1/queues", get(queues::list).post(queues::create))
        .route("/api/v1/reviewer", get(reviewer::reviewer))
        .route(
            "/api/v1/queues/{id}",
            get(queues::one).delete(queues::delete),
        )
        .route(
            "/api/v1/queues/{id}/items",
            get(queues::items).post(queues::add_items),
        )
        .route("/api/v1/queues/{id}/next", post(queues::next))
        .route(
            "/api/v1/queues/{id}/items/{item}/complete",
            post(queues::complete),
        )
        .route("/api/v1/queues/{id}/items/{item}/skip", post(queues::skip))
        .route(
            "/api/v1/queues/{id}/items/{item}/release",
            post(queues::release),
        )
        .route(
            "/api/v1/pairwise",
            get(pairwise::list).post(pairwise::create),
        )
        .route("/api/v1/pairwise/results", get(pairwise::results))
        .route(
            "/api/v1/pairwise/{id}",
            get(pairwise::one).delete(pairwise::delete),
        )
        .route("/api/v1/pairwise/{id}/next", post(pairwise::next))
        .route(
            "/api/v1/pairwise/{id}/pairs/{pair}/judge",
            post(pairwise::judge),
        )
        .route(
            "/api/v1/pairwise/{id}/pairs/{pair}/skip",
            post(pairwise::skip),
        )
        .route(
            "/api/v1/pairwise/{id}/pairs/{pair}/release",
            post(pairwise::release),
        )
        .route("/api/{*rest}", axum::routing::any(unknown_api))
}

/// `GET /api/v1/health`: up, on which store engine, and whether the store's disk is full
/// (then "degraded": reads are answered, writes get 503 + Retry-After until space is freed),
/// and how many stored spans still wait for the full-text index.
pub async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    let disk_full = state.store.disk_full();
    Json(serde_json::json!({
        "status": if disk_full { "degraded" } else { "ok" },
        "disk_full": disk_full,
        "store": state.store.engine(),
        "search_index": { "waiting": state.store.search_index_waiting() },
    }))
}

async fn unknown_api(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no API endpoint at {}", uri.path()))
}

/// Served at page routes when the collector was started without `--dist`.
pub async fn no_dashboard(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::NotFound(format!("no API endpoint at {}", uri.path())).into_response();
    }
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><title>Skein</title><h1>Skein collector</h1>\
             <p>The dashboard is not being served: start <code>skein serve</code> with \
             <code>--dist</code> pointing at the built dashboard (<code>scripts/build-dashboard.sh</code> \
             builds it into <code>dist/</code>). The API is at <code>/api/v1/</code>.</p>",
        ),
    )
        .into_response()
}

/// Parses a JSON request body, answering 400 with what is wrong rather than axum's plain text.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}
