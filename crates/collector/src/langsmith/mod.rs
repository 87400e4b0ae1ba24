//! LangSmith's REST API as the unmodified LangSmith SDK uses it, under `/api/langsmith` on the
//! HTTP address: users set `LANGSMITH_ENDPOINT=http://localhost:8080/api/langsmith`.
//!
//! Ingest (`ingest`): `GET /info`, `POST /runs/multipart` (plain or `Content-Encoding:
//! zstd`), `POST /runs/batch`, `POST /runs`, `PATCH /runs/{id}`, `POST /feedback` and
//! `POST /otel/v1/traces` (the SDK's OTel mode: OTLP with a `langsmith-project` header).
//! Sessions (`sessions`): `GET /sessions`, `GET /sessions/{id}`, `POST /sessions`. Reads
//! (`reads`): `POST /runs/query`, `GET /runs/{id}`; the v2 runs the SDK's `client.runs` reads (`v2`:
//! `/api/v2/runs/query`, `/api/v2/runs/{id}`, `/api/v2/runs/{id}/url`), with feedback stats
//! and token totals (`rollups`). Feedback reads and edits (`feedback_api`): `GET /feedback`,
//! `GET`/`PATCH`/`DELETE /feedback/{id}`. Links (`links`): the `/o/…/r/{run}` path
//! `get_run_url` writes, on to the run's trace page, and a project's `/o/…/p/{session}`.
//!
//! A run becomes a span (`run`) and a span is shown back as a run (`as_run`), its ids are mapped deterministically (`ids`), and its pieces
//! (a `post`, later a `patch`, re-sent copies) are stored as pieces of one span
//! (`SpanStore::write_span_pieces`, folded by `skein_model::span_pieces`), so a run is one span
//! however it arrives. A duplicate is success
//! (LangSmith's 409 means the same to the SDK). Feedback goes to Skein's feedback store
//! (`feedback`). Projects, their UUIDs and what a key may touch: `projects`; the run query's
//! filters in Skein's filter language (`skein_model::filter`): `run_filter`; multipart bodies: `multipart`.
//!
//! What `/info` announces steers the SDK: multipart with zstd (the default), multipart
//! without compression, or `/runs/batch`. `SKEIN_LANGSMITH_INGEST` (`multipart-zstd`,
//! `multipart`, `batch`) chooses; the SDK's own `LANGSMITH_DISABLE_RUN_COMPRESSION=true`
//! turns zstd off on its side. Every mode is always accepted whatever `/info` said.

mod as_run;
mod feedback;
mod feedback_api;
pub mod ids;
mod ingest;
mod links;
pub mod multipart;
mod params;
mod projects;
mod reads;
mod rollups;
pub mod run;
mod run_filter;
mod sessions;
mod v2;

use axum::routing::{get, post};
use axum::{Extension, Router};

pub use ingest::{IngestMode, ANNOUNCED_VERSION, INGEST_ENV};

use crate::context::AppState;

/// Where the API is served.
pub const PREFIX: &str = "/api/langsmith";

/// The routes, all under `PREFIX`.
pub fn router() -> Router<AppState> {
    let route = |path: &str| format!("{PREFIX}{path}");
    Router::new()
        .route(&route("/info"), get(ingest::info))
        .route(&route("/runs/multipart"), post(ingest::runs_multipart))
        .route(&route("/runs/batch"), post(ingest::runs_batch))
        .route(&route("/runs/query"), post(reads::query_runs))
        .route(&route("/runs"), post(ingest::create_run))
        .route(
            &route("/runs/{id}"),
            get(reads::read_run).patch(ingest::update_run),
        )
        .route(
            &route("/feedback"),
            post(ingest::create_feedback).get(feedback_api::list_feedback),
        )
        .route(
            &route("/feedback/{id}"),
            get(feedback_api::read_feedback)
                .patch(feedback_api::update_feedback)
                .delete(feedback_api::delete_feedback),
        )
        .route(&route("/runs/{id}/open"), get(links::open_run))
        .route(&route("/sessions/{id}/open"), get(links::open_project))
        .route(&route("/api/v2/runs/query"), post(v2::query_runs))
        .route(&route("/api/v2/runs/{id}"), get(v2::retrieve_run))
        .route(&route("/api/v2/runs/{id}/url"), get(v2::run_url))
        .route(
            "/o/{tenant}/projects/p/{session}/r/{run}",
            get(links::project_run_link),
        )
        .route("/o/{tenant}/projects/p/{session}", get(links::project_link))
        .route(
            &route("/sessions"),
            get(sessions::list_sessions).post(sessions::create_session),
        )
        .route(&route("/sessions/{id}"), get(sessions::read_session))
        .route(&route("/otel/v1/traces"), post(ingest::otel_traces))
        .layer(Extension(IngestMode::from_env()))
}
