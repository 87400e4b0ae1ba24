//! What every request handler is given: the shared state (`AppState`), the project a request
//! is scoped to (`Project`) and what its API key may touch (`KeyScope`). The lowest module of
//! the HTTP side: it imports only the store and the error shape, and everything else may
//! import it.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::error::ApiError;
use crate::ingest::body::BodyLimits;
use crate::live::LiveHub;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub limits: BodyLimits,
    /// Wakes live streams when spans are stored, and caps how many are open.
    pub live: Arc<LiveHub>,
}

/// Longest project name accepted.
pub const MAX_PROJECT_NAME: usize = 128;

/// A project name as Skein accepts it: 1 to `MAX_PROJECT_NAME` bytes of printable text,
/// trimmed.
pub fn check_project(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_PROJECT_NAME || name.chars().any(char::is_control) {
        return Err(format!(
            "project name {name:?} must be 1 to {MAX_PROJECT_NAME} printable characters"
        ));
    }
    Ok(name.to_string())
}

/// The project named by the `x-skein-project` header, if any.
pub fn project_from_headers(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get(skein_model::PROJECT_HEADER) {
        None => Ok(None),
        Some(v) => {
            // UTF-8, not only visible ASCII: a project may be named in any script.
            let text = std::str::from_utf8(v.as_bytes()).map_err(|_| {
                ApiError::BadRequest(format!("{} is not UTF-8 text", skein_model::PROJECT_HEADER))
            })?;
            check_project(text).map(Some).map_err(ApiError::BadRequest)
        }
    }
}

/// The project a query is scoped to: `?project=`, else the `x-skein-project` header, else
/// the key's project (`KeyScope`), else `default`.
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
        let named = match from_query {
            Some(name) => Some(check_project(&name).map_err(ApiError::BadRequest)?),
            None => project_from_headers(&parts.headers)?,
        };
        let scope = parts.extensions.get::<KeyScope>();
        match (named, scope) {
            (Some(name), Some(scope)) => {
                scope.allows(&name)?;
                Ok(Project(name))
            }
            (Some(name), None) => Ok(Project(name)),
            (None, Some(KeyScope::Project(key_project))) => Ok(Project(key_project.clone())),
            (None, _) => Ok(Project(skein_model::DEFAULT_PROJECT.to_string())),
        }
    }
}

/// What the request's API key may read and write, set by the key middleware (`auth`) on every
/// data request once it has checked the key; clients cannot set it. A handler that needs it and
/// finds none refuses the request: a missing scope never means "no restriction".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyScope {
    /// Skein has no keys: every project is open (to loopback or `--allow-open`).
    Open,
    /// The key's one project.
    Project(String),
}

impl KeyScope {
    /// The key's project, when there are keys.
    pub fn project(&self) -> Option<&str> {
        match self {
            KeyScope::Open => None,
            KeyScope::Project(p) => Some(p),
        }
    }

    /// Whether this key may read or write `project`.
    pub fn allows(&self, project: &str) -> Result<(), ApiError> {
        match self {
            KeyScope::Project(own) if own != project => Err(ApiError::Forbidden(format!(
                "this API key is for project {own:?}, not {project:?}"
            ))),
            _ => Ok(()),
        }
    }
}

/// Who holds the request's API key (`store::keys::ActiveKey::holder`), set by the key
/// middleware beside the scope; absent when Skein has no keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder(pub String);

impl<S: Send + Sync> FromRequestParts<S> for KeyScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<KeyScope>().cloned().ok_or_else(|| {
            ApiError::Forbidden("this request carries no checked API key scope".into())
        })
    }
}
