//! Reading a request body within limits: size on the wire, then size once decompressed (so a
//! small gzip bomb cannot exhaust memory), within the budget of bodies held at once
//! (`crate::budget`). JSON endpoints take their body through `JsonBody`: declared JSON, read at
//! the configured limit, every refusal in the JSON error shape.

use std::io::Read;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};

use super::limits::ContentLimits;
use crate::budget::OverBudget;
use crate::context::AppState;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Most bytes accepted on the wire.
    pub max_body_bytes: usize,
    /// Most bytes a compressed body may expand to.
    pub max_decoded_bytes: usize,
    /// What one span may carry once decoded (`limits`).
    pub content: ContentLimits,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            max_body_bytes: 32 << 20,
            max_decoded_bytes: 128 << 20,
            content: ContentLimits::default(),
        }
    }
}

/// Reads the whole body, refusing more than the limit with 413 (and, past the budget of
/// bodies held at once, 503).
pub async fn read_limited(body: Body, limits: BodyLimits) -> Result<Bytes, ApiError> {
    to_bytes(body, limits.max_body_bytes).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if let Some(over) = s.downcast_ref::<OverBudget>() {
                return over.to_api_error();
            }
            source = s.source();
        }
        // axum reports an over-long body as a length-limit error somewhere in the source chain.
        let text = format!("{e:?}");
        if text.contains("LengthLimit") {
            ApiError::PayloadTooLarge(format!(
                "request body is larger than the limit of {} bytes",
                limits.max_body_bytes
            ))
        } else {
            ApiError::BadRequest(format!("could not read the request body: {e}"))
        }
    })
}

/// Refuses a body not declared as JSON (`application/json`, or a `+json` type) with 415. A
/// browser sends `text/plain`, form and multipart bodies to another site without asking it
/// first (no CORS preflight); a JSON body it only sends after the site agreed, which Skein
/// never does.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {content_type:?} is not JSON; send application/json"
        )))
    }
}

/// The body of a JSON endpoint: declared JSON (else 415), read within `--max-request-bytes`
/// (else 413), both in the JSON error shape.
pub struct JsonBody(pub Bytes);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        require_json(request.headers())?;
        let bytes = read_limited(request.into_body(), state.limits).await?;
        Ok(JsonBody(bytes))
    }
}

/// Undoes `Content-Encoding` (gzip, deflate, or none).
pub fn decode_content(
    headers: &HeaderMap,
    bytes: Bytes,
    limits: BodyLimits,
) -> Result<Bytes, ApiError> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity");
    decompress("Content-Encoding", encoding, bytes, limits)
}

/// Undoes a compression named in `header` (an HTTP `Content-Encoding`, a gRPC
/// `grpc-encoding`) within `max_decoded_bytes`: gzip, deflate (zlib), or none.
pub fn decompress(
    header: &str,
    encoding: &str,
    bytes: Bytes,
    limits: BodyLimits,
) -> Result<Bytes, ApiError> {
    let encoding = encoding.trim().to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok(bytes),
        "gzip" | "x-gzip" => inflate(flate2::read::GzDecoder::new(&bytes[..]), "gzip", limits),
        "deflate" => inflate(
            flate2::read::ZlibDecoder::new(&bytes[..]),
            "deflate",
            limits,
        ),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "{header} {other:?} is not supported; use gzip or none"
        ))),
    }
}

fn inflate(reader: impl Read, name: &str, limits: BodyLimits) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    let limit = limits.max_decoded_bytes as u64;
    reader.take(limit + 1).read_to_end(&mut out).map_err(|e| {
        ApiError::BadRequest(format!("the {name} body could not be decompressed: {e}"))
    })?;
    if out.len() as u64 > limit {
        return Err(ApiError::PayloadTooLarge(format!(
            "the {name} body decompresses to more than the limit of {limit} bytes"
        )));
    }
    Ok(Bytes::from(out))
}
