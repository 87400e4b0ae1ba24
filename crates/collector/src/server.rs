//! The routers of the two addresses: which handlers answer which paths, behind which layers.
//! Nothing else: request context is `context`, keys are `auth`, browsers are `browser`, the
//! budget of bodies held at once is `budget`.
//!
//! The layers, outermost first: compression (HTTP address), the browser checks (Host, and
//! Origin for writes, without keys), the key check, the body budget. A request is refused on
//! its headers before its body is read or counted.

use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use tower_http::compression::CompressionLayer;

use crate::auth::{self, KeyCache};
use crate::browser::{self, BrowserPolicy};
use crate::budget::{self, BodyBudget};
use crate::context::AppState;
use crate::ingest::otlp;
use crate::{api, dashboard, langsmith};

/// What the layers of both addresses check requests against.
#[derive(Clone)]
pub struct Guards {
    pub keys: Arc<KeyCache>,
    pub browser: Arc<BrowserPolicy>,
    pub budget: Arc<BodyBudget>,
}

impl Guards {
    fn wrap(&self, router: Router) -> Router {
        router
            .layer(axum::middleware::from_fn_with_state(
                self.budget.clone(),
                budget::hold_bodies,
            ))
            .layer(axum::middleware::from_fn_with_state(
                self.keys.clone(),
                auth::require_key,
            ))
            .layer(axum::middleware::from_fn_with_state(
                self.browser.clone(),
                browser::check_browser,
            ))
    }
}

/// The OTLP address: `/v1/traces` only (and health, for load balancers).
pub fn otlp_router(state: AppState, guards: &Guards) -> Router {
    guards.wrap(
        Router::new()
            .route("/v1/traces", post(otlp::export))
            .route("/api/v1/health", get(api::health))
            .with_state(state),
    )
}

/// The HTTP address: query API, OTLP too (one port is enough to start), LangSmith, and the
/// dashboard.
pub fn http_router(state: AppState, guards: &Guards, dist: Option<PathBuf>) -> Router {
    let api = api::router()
        .route("/v1/traces", post(otlp::export))
        .merge(langsmith::router())
        .with_state(state);
    let router = match dist {
        Some(dir) => api.merge(dashboard::router(&dir)),
        None => api.fallback(api::no_dashboard),
    };
    guards.wrap(router).layer(CompressionLayer::new())
}
