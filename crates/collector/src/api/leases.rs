//! What the two review-queue APIs (annotation queues, `queues.rs`; pairwise queues,
//! `pairwise.rs`) share: the clock leases are read by, a queue that is not in the project, a
//! deletion's answer and a claim's lease.

use axum::http::StatusCode;
use skein_model::queue::{Claim, DEFAULT_LEASE_SECS, MAX_LEASE_SECS};

pub use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};

/// The queue read (`kind`: what it is called, "queue" or "pairwise queue"), or 404.
pub fn found<T>(kind: &str, project: &str, id: &str, queue: Option<T>) -> ApiResult<T> {
    queue.ok_or_else(|| ApiError::NotFound(format!("no {kind} {id:?} in project {project:?}")))
}

/// A deletion's answer: 204, or 404 when there was no such queue.
pub fn deleted(kind: &str, project: &str, id: &str, deleted: bool) -> ApiResult<StatusCode> {
    found(kind, project, id, deleted.then_some(StatusCode::NO_CONTENT))
}

/// How long a claim holds its work, in ms: what it asks (1 s to `MAX_LEASE_SECS`), else
/// `DEFAULT_LEASE_SECS`.
pub fn lease_ms(claim: &Claim) -> ApiResult<i64> {
    let secs = claim.lease_secs.unwrap_or(DEFAULT_LEASE_SECS);
    if secs == 0 || secs > MAX_LEASE_SECS {
        return Err(ApiError::BadRequest(format!(
            "lease_secs must be 1 to {MAX_LEASE_SECS}"
        )));
    }
    Ok(i64::from(secs) * 1000)
}
