//! API keys: once any key exists, every data endpoint (OTLP/HTTP and gRPC, LangSmith, query and feedback)
//! wants one, in `Authorization: Bearer <key>` or `x-api-key: <key>`. A key reads and writes one
//! project: a request that names another project gets 403, and one that names none is scoped to
//! the key's project. Without keys Skein is open (and `skein serve` keeps it on loopback unless
//! told otherwise). The dashboard's files and the health check need no key: they hold no data.
//!
//! The middleware hands handlers what the key may touch as a typed request extension
//! (`context::KeyScope`), never as a header: a handler that finds none refuses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;

use crate::context::{KeyHolder, KeyScope};
use crate::error::ApiError;
use crate::live::ticket;
use crate::store::keys::{hash_secret, ActiveKey};
use crate::store::KeyStore;

/// How long a read of the key table is trusted: keys created or revoked with the CLI take
/// effect within this, without a restart.
const REFRESH: Duration = Duration::from_secs(2);

/// What the middleware checks against: whether keys are required, and the active ones.
struct Snapshot {
    required: bool,
    /// Secret hash → the key.
    active: HashMap<String, ActiveKey>,
}

/// The key table, cached for `REFRESH`.
pub struct KeyCache {
    keys: Arc<dyn KeyStore>,
    cached: Mutex<Option<(Instant, Arc<Snapshot>)>>,
}

impl KeyCache {
    pub fn new(keys: Arc<dyn KeyStore>) -> KeyCache {
        KeyCache {
            keys,
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
        let table = self.keys.key_table().await?;
        let keys = Arc::new(Snapshot {
            required: table.required,
            active: table
                .active
                .into_iter()
                .map(|k| (k.secret_sha256.clone(), k))
                .collect(),
        });
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((Instant::now(), keys.clone()));
        }
        Ok(keys)
    }
}

impl KeyCache {
    /// Whether keys are required (any key was ever created).
    pub async fn required(&self) -> Result<bool, ApiError> {
        Ok(self.snapshot().await?.required)
    }
}

/// The secret a request carries, from `Authorization: Bearer` or `x-api-key` (HTTP headers
/// or gRPC metadata alike).
fn presented_key(headers: &HeaderMap) -> Option<&str> {
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

/// The projects a request names explicitly: `?project=`, `x-skein-project`, or LangSmith's
/// `langsmith-project` header. A header that is not UTF-8 text names a project no key has.
fn named_projects(query: Option<&str>, headers: &HeaderMap) -> Vec<String> {
    let mut named: Vec<String> = query
        .map(|q| {
            skein_model::query::parse_query_string(q)
                .into_iter()
                .filter(|(k, v)| k == "project" && !v.is_empty())
                .map(|(_, v)| v)
                .collect()
        })
        .unwrap_or_default();
    for h in [skein_model::PROJECT_HEADER, "langsmith-project"] {
        for v in headers.get_all(h) {
            named.push(
                std::str::from_utf8(v.as_bytes())
                    .map(|p| p.trim().to_string())
                    .unwrap_or_else(|_| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            );
        }
    }
    named
}

impl KeyCache {
    /// What a data request may touch, from its key and the projects it names (its query and
    /// headers): the one check behind HTTP (`require_key`) and gRPC (`ingest::grpc`).
    pub async fn scope(
        &self,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<KeyScope, ApiError> {
        Ok(self.scope_and_holder(query, headers).await?.0)
    }

    /// The request's scope, and who holds its key (none without keys).
    async fn scope_and_holder(
        &self,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<(KeyScope, Option<KeyHolder>), ApiError> {
        let keys = self.snapshot().await?;
        if !keys.required {
            return Ok((KeyScope::Open, None));
        }
        let Some(secret) = presented_key(headers) else {
            return Err(ApiError::Unauthorized(
                "this Skein needs an API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`"
                    .into(),
            ));
        };
        let Some(key) = keys.active.get(&hash_secret(secret)) else {
            return Err(ApiError::Unauthorized("unknown or revoked API key".into()));
        };
        let scope = KeyScope::Project(key.project.clone());
        for named in named_projects(query, headers) {
            scope.allows(&named)?;
        }
        Ok((scope, Some(KeyHolder(key.holder.clone()))))
    }
}

/// Where a stream ticket (`live::ticket`) stands in for a key.
pub const STREAM_PATH: &str = "/api/v1/stream";

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A ticket that opens live streams of `project` (which the request's key may read) for a
/// minute, signed with that key; none when the request carries no key (Skein without keys).
pub fn stream_ticket(headers: &HeaderMap, project: &str) -> Option<String> {
    let secret = presented_key(headers)?;
    Some(ticket::sign(
        &hash_secret(secret),
        project,
        now_secs() + ticket::TICKET_TTL_SECS,
    ))
}

impl KeyCache {
    /// The scope of a stream request that carries a ticket (`?ticket=`, with the `project=` it
    /// was given for) instead of a key: the project, if an active key of it signed the ticket.
    async fn ticket_scope(&self, query: Option<&str>) -> Result<Option<KeyScope>, ApiError> {
        let pairs = skein_model::query::parse_query_string(query.unwrap_or(""));
        let value = |name: &str| {
            pairs
                .iter()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.as_str())
        };
        let (Some(given), Some(project)) = (value("ticket"), value("project")) else {
            return Ok(None);
        };
        let keys = self.snapshot().await?;
        let now = now_secs();
        let signed = keys
            .active
            .values()
            .any(|k| k.project == project && ticket::verify(&k.secret_sha256, project, given, now));
        if signed {
            Ok(Some(KeyScope::Project(project.to_string())))
        } else {
            Err(ApiError::Unauthorized(
                "the stream ticket is expired or was not given for this project".into(),
            ))
        }
    }
}

/// The middleware on both HTTP addresses.
pub async fn require_key(
    State(keys): State<Arc<KeyCache>>,
    mut request: Request,
    next: Next,
) -> Response {
    // Only this middleware sets a scope and a key holder.
    request.extensions_mut().remove::<KeyScope>();
    request.extensions_mut().remove::<KeyHolder>();
    if !needs_key(request.uri().path()) {
        return next.run(request).await;
    }
    if request.uri().path() == STREAM_PATH && presented_key(request.headers()).is_none() {
        match keys.ticket_scope(request.uri().query()).await {
            Ok(Some(scope)) => {
                request.extensions_mut().insert(scope);
                return next.run(request).await;
            }
            Ok(None) => {}
            Err(e) => return e.into_response_for(request.headers()),
        }
    }
    match keys
        .scope_and_holder(request.uri().query(), request.headers())
        .await
    {
        Ok((scope, holder)) => {
            request.extensions_mut().insert(scope);
            if let Some(holder) = holder {
                request.extensions_mut().insert(holder);
            }
            next.run(request).await
        }
        Err(e) => e.into_response_for(request.headers()),
    }
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
