//! The built dashboard (Trunk's `dist/`): its files, and `index.html` for every page route (the
//! app routes in the browser).
//!
//! The wasm modules live in `pkg-<content hash>/` (scripts/build-wasm.sh): a file there never
//! changes, so browsers may keep it for good, while `index.html`, which names the current
//! directory, is revalidated on every load. A module missing from `pkg-*/` (an app still open
//! from before an upgrade asks for its old chunks) is a 404, not `index.html`, which the
//! browser could not instantiate.

use std::path::Path;

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::ApiError;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Serves `dist`, with `index.html` for any path that is not a file.
pub fn router(dist: &Path) -> Router {
    let index = dist.join("index.html");
    Router::new()
        .fallback_service(ServeDir::new(dist).fallback(ServeFile::new(index)))
        .layer(middleware::from_fn(cache_headers))
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if path.starts_with("/pkg-") {
        if is_html {
            return ApiError::NotFound(format!(
                "no dashboard file at {path}: the dashboard was rebuilt since this page was \
                 loaded; reload it"
            ))
            .into_response();
        }
        if response.status() == StatusCode::OK {
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        }
    } else if is_html {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    }
    response
}
