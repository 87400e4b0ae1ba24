//! The routers of the two addresses: which handlers answer which paths, behind which layers.
//! Nothing else: request context is `context`, keys are `auth`.

use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use tower_http::compression::CompressionLayer;

use crate::auth::{self, KeyCache};
use crate::context::AppState;
use crate::ingest::otlp;
use crate::{api, dashboard, langsmith};

/// The OTLP address: `/v1/traces` only (and health, for load balancers).
pub fn otlp_router(state: AppState, keys: Arc<KeyCache>) -> Router {
    Router::new()
        .route("/v1/traces", post(otlp::export))
        .route("/api/v1/health", get(api::health))
        .layer(axum::middleware::from_fn_with_state(
            keys,
            auth::require_key,
        ))
        .with_state(state)
}

/// The HTTP address: query API, OTLP too (one port is enough to start), LangSmith, and the
/// dashboard.
pub fn http_router(state: AppState, keys: Arc<KeyCache>, dist: Option<PathBuf>) -> Router {
    let api = api::router()
        .route("/v1/traces", post(otlp::export))
        .merge(langsmith::router())
        .with_state(state);
    let router = match dist {
        Some(dir) => api.merge(dashboard::router(&dir)),
        None => api.fallback(api::no_dashboard),
    };
    router
        .layer(axum::middleware::from_fn_with_state(
            keys,
            auth::require_key,
        ))
        .layer(CompressionLayer::new())
}
