//! The one place where errors become answers: an HTTP status and a JSON `{"error": ...}` body
//! (a protobuf `google.rpc.Status` body to an OTLP protobuf request), or a gRPC status; each
//! tells the client whether to retry (`Retry-After`, `google.rpc.RetryInfo`).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use prost::Message;
use skein_model::{ErrorBody, FilterPosition};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// A filter expression that cannot be used: a 400 whose body also says where in which
    /// parameter (`param`, `offset`/`end` in bytes, `char_offset` in characters).
    #[error("{message}")]
    BadFilter { message: String, at: FilterPosition },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is right but the resource's state refuses it now (an item someone else
    /// holds): 409.
    #[error("{0}")]
    Conflict(String),
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
        match e.1 {
            Some(at) => ApiError::BadFilter { message: e.0, at },
            None => ApiError::BadRequest(e.0),
        }
    }
}

impl ApiError {
    /// The expression of filter parameter `param` cannot be used.
    pub fn bad_filter(param: &str, e: &skein_model::filter::FilterError) -> ApiError {
        skein_model::QueryError::filter(param, e).into()
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::BadFilter { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
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

impl ApiError {
    /// The gRPC code of the same failure, as the OTLP specification gives them: bad or
    /// over-limit data is INVALID_ARGUMENT (never retried: it would fail again), a budget or a
    /// full store RESOURCE_EXHAUSTED and a closing store UNAVAILABLE (both with RetryInfo).
    pub fn grpc_code(&self) -> tonic::Code {
        match self {
            ApiError::BadRequest(_)
            | ApiError::BadFilter { .. }
            | ApiError::PayloadTooLarge(_)
            | ApiError::UnsupportedMediaType(_)
            | ApiError::Store(StoreError::Invalid(_)) => tonic::Code::InvalidArgument,
            ApiError::Unauthorized(_) => tonic::Code::Unauthenticated,
            ApiError::Conflict(_) => tonic::Code::FailedPrecondition,
            ApiError::Forbidden(_) => tonic::Code::PermissionDenied,
            ApiError::NotFound(_) | ApiError::Store(StoreError::NotFound(_)) => {
                tonic::Code::NotFound
            }
            ApiError::Overloaded { .. } | ApiError::Store(StoreError::Overloaded { .. }) => {
                tonic::Code::ResourceExhausted
            }
            ApiError::Store(StoreError::Closed) => tonic::Code::Unavailable,
            ApiError::Store(StoreError::Internal(_)) => tonic::Code::Internal,
        }
    }

    /// Seconds after which a client should try again, when it should.
    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::Store(StoreError::Overloaded {
                retry_after_secs, ..
            })
            | ApiError::Overloaded {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            ApiError::Store(StoreError::Closed) => Some(5),
            _ => None,
        }
    }

    /// What the client is told; failures of the server's side (not the request's) are logged
    /// here, once, with the answer given.
    fn client_message(&self, answer: &dyn std::fmt::Display) -> String {
        if self.status().is_server_error() {
            tracing::warn!(status = %answer, error = %self, "request failed");
        }
        match self {
            // The engine's own text is for the log (above), never for clients.
            ApiError::Store(StoreError::Internal(_)) => {
                "storage failed; the collector's log says why".to_string()
            }
            other => other.to_string(),
        }
    }

    /// The failure as a `google.rpc.Status`, with a `google.rpc.RetryInfo` detail when the
    /// client should retry: the body of a gRPC error's `grpc-status-details-bin` and of an
    /// OTLP/HTTP protobuf error.
    fn rpc_status(&self, message: String) -> tonic_types::pb::Status {
        let details = self
            .retry_after_secs()
            .map(|secs| {
                let info = tonic_types::pb::RetryInfo {
                    retry_delay: Some(prost_types::Duration {
                        seconds: i64::try_from(secs).unwrap_or(i64::MAX),
                        nanos: 0,
                    }),
                };
                prost_types::Any {
                    type_url: "type.googleapis.com/google.rpc.RetryInfo".to_string(),
                    value: info.encode_to_vec(),
                }
            })
            .into_iter()
            .collect();
        tonic_types::pb::Status {
            code: self.grpc_code() as i32,
            message,
            details,
        }
    }

    /// The answer to a gRPC call.
    pub fn into_grpc_status(self) -> tonic::Status {
        let code = self.grpc_code();
        let message = self.client_message(&format_args!("gRPC {code:?}"));
        let status = self.rpc_status(message.clone());
        tonic::Status::with_details(self.grpc_code(), message, status.encode_to_vec().into())
    }

    /// The HTTP answer to a request with these headers: a protobuf `google.rpc.Status` to an
    /// OTLP protobuf request (as OTLP/HTTP specifies), the JSON shape to any other.
    pub fn into_response_for(self, request: &HeaderMap) -> Response {
        let protobuf = request
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| mime.trim().to_ascii_lowercase())
            .is_some_and(|mime| mime == "application/x-protobuf" || mime == "application/protobuf");
        if !protobuf {
            return self.into_response();
        }
        let status = self.status();
        let body = self
            .rpc_status(self.client_message(&status))
            .encode_to_vec();
        let response = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-protobuf"),
            )],
            body,
        )
            .into_response();
        self.with_retry_after(response)
    }

    fn with_retry_after(&self, mut response: Response) -> Response {
        if let Some(secs) = self.retry_after_secs() {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let error = self.client_message(&status);
        let response = match &self {
            ApiError::BadFilter { at, .. } => (
                status,
                Json(serde_json::json!({
                    "error": error,
                    "param": at.param,
                    "offset": at.offset,
                    "end": at.end,
                    "char_offset": at.char_offset,
                })),
            )
                .into_response(),
            _ => (status, Json(ErrorBody { error })).into_response(),
        };
        self.with_retry_after(response)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::StatusExt;

    #[test]
    fn retryable_failures_carry_retry_info_over_grpc_and_in_protobuf_bodies() {
        let overloaded = || ApiError::Overloaded {
            reason: "busy".into(),
            retry_after_secs: 3,
        };
        let status = overloaded().into_grpc_status();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        let delay = status.get_details_retry_info().and_then(|i| i.retry_delay);
        assert_eq!(delay, Some(std::time::Duration::from_secs(3)));

        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        let response = overloaded().into_response_for(&headers);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");

        let status = ApiError::BadRequest("bad".into()).into_grpc_status();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.get_details_retry_info().is_none());
        let closed = ApiError::Store(StoreError::Closed).into_grpc_status();
        assert_eq!(closed.code(), tonic::Code::Unavailable);
        assert!(closed.get_details_retry_info().is_some());
    }
}
