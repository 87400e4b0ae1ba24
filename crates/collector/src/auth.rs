//! API keys: once any key exists, every data endpoint (OTLP, LangSmith, query and feedback)
//! wants one, in `Authorization: Bearer <key>` or `x-api-key: <key>`. A key reads and writes one
//! project: a request that names another project gets 403, and one that names none is scoped to
//! the key's project. Without keys Skein is open (and `skein serve` keeps it on loopback unless
//! told otherwise). The dashboard's files and the health check need no key: they hold no data.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OpenFlags};

use crate::error::ApiError;
use crate::server::AppState;
use crate::store::sqlite::keys::{hash_secret, read_keys};

/// How long a read of the key table is trusted: keys created or revoked with the CLI take
/// effect within this, without a restart.
const REFRESH: Duration = Duration::from_secs(2);

/// Set on a request by the middleware to the project its (checked) key is for; removed from
/// whatever a client sends.
pub const SCOPE_HEADER: &str = "x-skein-key-project";

/// The project the request's key is for; handlers that list across projects filter by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyScope(pub String);

/// What the middleware checks against: whether keys are required, and the active ones.
struct Snapshot {
    required: bool,
    /// Secret hash → project.
    active: HashMap<String, String>,
}

/// The key table, cached.
pub struct Keys {
    db: PathBuf,
    cached: Mutex<Option<(Instant, Arc<Snapshot>)>>,
}

impl Keys {
    pub fn new(db: PathBuf) -> Keys {
        Keys {
            db,
            cached: Mutex::new(None),
        }
    }

    /// The key table, at most `REFRESH` old.
    async fn snapshot(&self) -> Result<Arc<Snapshot>, ApiError> {
        if let Ok(cached) = self.cached.lock() {
            if let Some((at, keys)) = cached.as_ref() {
                if at.elapsed() < REFRESH {
                    return Ok(keys.clone());
                }
            }
        }
        let db = self.db.clone();
        let keys = tokio::task::spawn_blocking(move || {
            let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            read_keys(&conn)
        })
        .await
        .map_err(|e| ApiError::Store(crate::store::StoreError::Backend(e.to_string())))??;
        let keys = Arc::new(Snapshot {
            required: keys.required,
            active: keys.active.into_iter().collect(),
        });
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((Instant::now(), keys.clone()));
        }
        Ok(keys)
    }
}

/// The secret a request carries, from `Authorization: Bearer` or `x-api-key`.
fn presented_key(request: &Request) -> Option<&str> {
    let headers = request.headers();
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// Paths that hold data and so need a key.
fn needs_key(path: &str) -> bool {
    (path.starts_with("/api/") && path != "/api/v1/health") || path.starts_with("/v1/")
}

/// The project a request names explicitly: `?project=`, `x-skein-project`, or LangSmith's
/// `langsmith-project` header.
fn named_project(request: &Request) -> Option<String> {
    let from_query = request.uri().query().and_then(|q| {
        skein_model::query::parse_query_string(q)
            .into_iter()
            .find(|(k, v)| k == "project" && !v.is_empty())
            .map(|(_, v)| v)
    });
    from_query.or_else(|| {
        [skein_model::PROJECT_HEADER, "langsmith-project"]
            .iter()
            .find_map(|h| request.headers().get(*h)?.to_str().ok())
            .map(|p| p.trim().to_string())
    })
}

/// The middleware on both addresses.
pub async fn require_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    request.headers_mut().remove(SCOPE_HEADER);
    if !needs_key(request.uri().path()) {
        return next.run(request).await;
    }
    let keys = match state.keys.snapshot().await {
        Ok(keys) => keys,
        Err(e) => return e.into_response(),
    };
    if !keys.required {
        return next.run(request).await;
    }
    let Some(secret) = presented_key(&request) else {
        return ApiError::Unauthorized(
            "this Skein needs an API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`"
                .into(),
        )
        .into_response();
    };
    let Some(project) = keys.active.get(&hash_secret(secret)).cloned() else {
        return ApiError::Unauthorized("unknown or revoked API key".into()).into_response();
    };
    if let Some(named) = named_project(&request) {
        if named != project {
            return ApiError::Forbidden(format!(
                "this API key is for project {project:?}, not {named:?}"
            ))
            .into_response();
        }
    }
    // Pin the request to the key's project, for handlers that read the header.
    if let Ok(value) = HeaderValue::from_str(&project) {
        request
            .headers_mut()
            .insert(skein_model::PROJECT_HEADER, value.clone());
        request.headers_mut().insert(SCOPE_HEADER, value);
    }
    request.extensions_mut().insert(KeyScope(project));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_paths_need_a_key() {
        assert!(needs_key("/v1/traces"));
        assert!(needs_key("/api/v1/traces"));
        assert!(needs_key("/api/langsmith/runs/batch"));
        assert!(!needs_key("/api/v1/health"));
        assert!(!needs_key("/traces/abc"));
        assert!(!needs_key("/index.html"));
    }
}
