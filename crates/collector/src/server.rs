//! The HTTP side: shared state, the routers for the OTLP and HTTP addresses, and the built
//! dashboard with SPA fallback.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use tower_http::compression::CompressionLayer;

use crate::api;
use crate::error::ApiError;
use crate::ingest::body::BodyLimits;
use crate::ingest::otlp;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub limits: BodyLimits,
    pub keys: Arc<crate::auth::Keys>,
}

/// Longest project name accepted.
const MAX_PROJECT_NAME: usize = 128;

fn validate_project(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_PROJECT_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "project name must be 1 to {MAX_PROJECT_NAME} printable characters"
        )));
    }
    Ok(name.to_string())
}

/// The project named by the `x-skein-project` header, if any.
pub fn project_from_headers(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get(skein_model::PROJECT_HEADER) {
        None => Ok(None),
        Some(v) => {
            let text = v.to_str().map_err(|_| {
                ApiError::BadRequest(format!("{} is not valid text", skein_model::PROJECT_HEADER))
            })?;
            validate_project(text).map(Some)
        }
    }
}

/// The project a query is scoped to: `?project=`, else the `x-skein-project` header, else
/// `default`.
pub struct Project(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Project {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(|q| {
            skein_model::query::parse_query_string(q)
                .into_iter()
                .find(|(k, _)| k == "project")
                .map(|(_, v)| v)
        });
        if let Some(name) = from_query {
            return validate_project(&name).map(Project);
        }
        Ok(Project(
            project_from_headers(&parts.headers)?
                .unwrap_or_else(|| skein_model::DEFAULT_PROJECT.to_string()),
        ))
    }
}

/// The OTLP address: `/v1/traces` only (and health, for load balancers).
pub fn otlp_router(state: AppState) -> Router {
    Router::new()
        .route("/v1/traces", post(otlp::export))
        .route("/api/v1/health", get(api::health))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_key,
        ))
        .with_state(state)
}

/// The HTTP address: query API, OTLP too (one port is enough to start), and the dashboard.
pub fn http_router(state: AppState, dist: Option<PathBuf>) -> Router {
    let auth = axum::middleware::from_fn_with_state(state.clone(), crate::auth::require_key);
    let api = api::router()
        .route("/v1/traces", post(otlp::export))
        .merge(crate::ingest::langsmith::router())
        .with_state(state);
    let router = match dist {
        Some(dir) => api.merge(crate::dashboard::router(&dir)),
        None => api.fallback(api::no_dashboard),
    };
    router.layer(auth).layer(CompressionLayer::new())
}
