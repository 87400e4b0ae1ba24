//! The one place where errors become HTTP answers: every failure is a JSON `{"error": ...}`
//! body with a status that tells the client whether to retry.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use skein_model::ErrorBody;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The collector cannot take this request now (not the store: its own budgets); the
    /// client should retry after the given seconds.
    #[error("{reason}; retry in {retry_after_secs} s")]
    Overloaded {
        reason: String,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<skein_model::QueryError> for ApiError {
    fn from(e: skein_model::QueryError) -> Self {
        ApiError::BadRequest(e.0)
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(StoreError::Overloaded { .. })
            | ApiError::Store(StoreError::Closed) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(StoreError::Invalid(_)) => StatusCode::BAD_REQUEST,
            ApiError::Store(StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
            ApiError::Store(StoreError::Internal(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(%status, error = %self, "request failed");
        }
        let error = match &self {
            // The engine's own text is for the log (above), never for clients.
            ApiError::Store(StoreError::Internal(_)) => {
                "storage failed; the collector's log says why".to_string()
            }
            other => other.to_string(),
        };
        let mut response = (status, Json(ErrorBody { error })).into_response();
        let retry_after = match &self {
            ApiError::Store(StoreError::Overloaded {
                retry_after_secs, ..
            })
            | ApiError::Overloaded {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            ApiError::Store(StoreError::Closed) => Some(5),
            _ => None,
        };
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
