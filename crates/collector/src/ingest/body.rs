//! Reading a request body within limits: size on the wire, then size once decompressed (so a
//! small gzip bomb cannot exhaust memory).

use std::io::Read;

use axum::body::{to_bytes, Body, Bytes};
use axum::http::{header, HeaderMap};

use super::limits::ContentLimits;
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

/// Reads the whole body, refusing more than the limit with 413.
pub async fn read_limited(body: Body, limits: BodyLimits) -> Result<Bytes, ApiError> {
    to_bytes(body, limits.max_body_bytes).await.map_err(|e| {
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

/// Undoes `Content-Encoding` (gzip, deflate, or none).
pub fn decode_content(
    headers: &HeaderMap,
    bytes: Bytes,
    limits: BodyLimits,
) -> Result<Bytes, ApiError> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok(bytes),
        "gzip" | "x-gzip" => inflate(flate2::read::GzDecoder::new(&bytes[..]), "gzip", limits),
        "deflate" => inflate(
            flate2::read::ZlibDecoder::new(&bytes[..]),
            "deflate",
            limits,
        ),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Encoding {other:?} is not supported; use gzip or none"
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
