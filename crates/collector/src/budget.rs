//! The budget of request bodies held at once: every body counts against one global budget of
//! bytes (`--max-inflight-bytes`) from the moment its request is let in until its answer is
//! made. A body announced with `Content-Length` is counted whole before a byte of it is read;
//! one without (chunked) is counted as it arrives. Past the budget the request is answered
//! 503 with `Retry-After`, so a flood of large bodies cannot take the collector's memory
//! (128 concurrent 31 MiB bodies once held 4.7 GB). Runs after the key check: a request
//! without a valid key never counts, and is refused before its body is read.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Bytes of request bodies that may be held at once.
pub struct BodyBudget {
    permits: Arc<Semaphore>,
    bytes: usize,
    /// The largest body a request may have (`--max-request-bytes`): no request is charged more.
    max_body_bytes: usize,
}

impl BodyBudget {
    /// A budget of `bytes` (at least `max_body_bytes`, so that any one request can fit).
    pub fn new(bytes: usize, max_body_bytes: usize) -> BodyBudget {
        let bytes = bytes.clamp(max_body_bytes.max(1), Semaphore::MAX_PERMITS);
        BodyBudget {
            permits: Arc::new(Semaphore::new(bytes)),
            bytes,
            max_body_bytes,
        }
    }

    /// The largest body a request may have: no request is charged more than one byte past it.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn over(&self) -> OverBudget {
        OverBudget { budget: self.bytes }
    }

    /// Holds `bytes` more of the budget until the permit is dropped (none for no bytes).
    pub fn take(&self, bytes: usize) -> Result<Option<OwnedSemaphorePermit>, OverBudget> {
        if bytes == 0 {
            return Ok(None);
        }
        let n = u32::try_from(bytes).map_err(|_| self.over())?;
        self.permits
            .clone()
            .try_acquire_many_owned(n)
            .map(Some)
            .map_err(|_| self.over())
    }
}

/// The default budget: a quarter of the machine's memory (or of the container's limit), at
/// most 1 GiB, at least one request of `max_body_bytes`.
pub fn default_budget(max_body_bytes: usize) -> usize {
    let memory = machine_memory().unwrap_or(2 << 30);
    (memory / 4).min(1 << 30).max(max_body_bytes)
}

/// The memory this process may use: the machine's, or its cgroup's limit if lower.
fn machine_memory() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let total_kb: usize = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let total = total_kb.saturating_mul(1024);
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|t| t.trim().parse::<usize>().ok());
    Some(cgroup.map_or(total, |c| c.min(total)))
}

/// A body could not be let in: the budget is spent. Travels as the body stream's error for
/// bodies counted as they arrive (`ingest::body::read_limited` turns it into the answer).
#[derive(Debug, Clone, Copy)]
pub struct OverBudget {
    budget: usize,
}

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the collector holds as many request bodies as its budget allows ({} bytes, \
             --max-inflight-bytes)",
            self.budget
        )
    }
}

impl std::error::Error for OverBudget {}

impl OverBudget {
    pub fn to_api_error(self) -> ApiError {
        ApiError::Overloaded {
            reason: self.to_string(),
            retry_after_secs: 1,
        }
    }
}

/// The middleware on both addresses.
pub async fn hold_bodies(
    State(budget): State<Arc<BodyBudget>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(length) = length {
        // Announced: counted whole now (a body over the request limit is refused by its
        // reader at that limit, so it is charged no more than that).
        let charged = usize::try_from(length)
            .unwrap_or(usize::MAX)
            .min(budget.max_body_bytes.saturating_add(1));
        return match budget.take(charged) {
            Ok(held) => {
                let response = next.run(request).await;
                drop(held);
                response
            }
            Err(over) => over.to_api_error().into_response_for(request.headers()),
        };
    }
    if !headers.contains_key(header::TRANSFER_ENCODING) {
        return next.run(request).await;
    }
    // Chunked: counted as it arrives, held until the answer is made.
    let held: Arc<Mutex<Option<OwnedSemaphorePermit>>> = Arc::default();
    let (parts, body) = request.into_parts();
    let counting = {
        let (budget, held) = (budget.clone(), held.clone());
        let mut charged = 0usize;
        body.into_data_stream().map(move |chunk| {
            let chunk = chunk.map_err(axum::BoxError::from)?;
            // Never more than the request limit (the reader stops there).
            let n = chunk
                .len()
                .min((budget.max_body_bytes + 1).saturating_sub(charged));
            charged += n;
            let permit = budget.take(n)?;
            if let (Some(permit), Ok(mut held)) = (permit, held.lock()) {
                match held.as_mut() {
                    Some(all) => all.merge(permit),
                    None => *held = Some(permit),
                }
            }
            Ok::<_, axum::BoxError>(chunk)
        })
    };
    let request = Request::from_parts(parts, Body::from_stream(counting));
    let response = next.run(request).await;
    drop(held);
    response
}
