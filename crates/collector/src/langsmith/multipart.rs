//! `POST /runs/multipart`: the body (maybe zstd), its parts, and what each part means.
//!
//! Part names: `post.<run>` / `patch.<run>` (a run's main fields), `<op>.<run>.<field>` with
//! `field` one of `inputs`, `outputs`, `events`, `extra`, `error`, `serialized`,
//! `attachment.<run>.<name>` (a file; its bytes are not stored, its name, type and size are),
//! and `feedback.<id>`. A part that cannot be used is skipped with its reason; the parts
//! before a break in the multipart framing are kept.

use std::convert::Infallible;
use std::io::Read;

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::ids;
use crate::error::ApiError;
use crate::ingest::body::{decode_content, BodyLimits};

/// Whether a piece starts a run or updates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Post,
    Patch,
}

impl Op {
    fn parse(text: &str) -> Option<Op> {
        match text {
            "post" => Some(Op::Post),
            "patch" => Some(Op::Patch),
            _ => None,
        }
    }
}

/// Fields a run may carry as parts of their own (`post.<run>.inputs`…).
const RUN_FIELDS: &[&str] = &[
    "inputs",
    "outputs",
    "events",
    "extra",
    "error",
    "serialized",
];

/// One usable part.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Fields of a run: a whole `post.<run>` / `patch.<run>` object, or one field.
    Run {
        op: Op,
        run: Uuid,
        fields: Map<String, Value>,
    },
    /// `attachment.<run>.<name>`: what is recorded of it.
    Attachment {
        run: Uuid,
        info: Value,
    },
    Feedback(Value),
}

/// The parts of an upload, the ones skipped and why, and the framing error that ended it
/// early, if any.
#[derive(Debug, Default)]
pub struct Parsed {
    pub parts: Vec<Part>,
    pub skipped: Skipped,
    pub broken: Option<String>,
}

/// What an upload could not use: how many things, and why for the first few. Bounded
/// whatever the upload holds, so that the answer and the log stay small (an upload of 100k
/// junk parts is a few KB of zstd).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The first `Skipped::KEPT` reasons, each at most `Skipped::REASON_CHARS` characters.
    pub first: Vec<String>,
    pub total: usize,
}

impl Skipped {
    pub const KEPT: usize = 20;
    pub const REASON_CHARS: usize = 300;

    pub fn push(&mut self, why: impl Into<String>) {
        self.total += 1;
        if self.first.len() < Self::KEPT {
            let why: String = why.into();
            let mut short: String = why.chars().take(Self::REASON_CHARS).collect();
            if short.len() < why.len() {
                short.push('…');
            }
            self.first.push(short);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// One line for people: how many, and the first reasons.
    pub fn summary(&self, reasons: usize) -> String {
        let shown: Vec<&str> = self
            .first
            .iter()
            .take(reasons)
            .map(String::as_str)
            .collect();
        let more = self.total - shown.len();
        let mut out = shown.join("; ");
        if more > 0 {
            out.push_str(&format!(
                " (and {more} more; {} skipped in all)",
                self.total
            ));
        }
        out
    }
}

/// Undoes `Content-Encoding`: zstd here (a single frame, often without a content size, so it
/// is decoded as a stream, never trusting a size it announces), gzip and deflate as for OTLP.
pub fn decode_body(headers: &HeaderMap, raw: Bytes, limits: BodyLimits) -> Result<Bytes, ApiError> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if encoding != "zstd" {
        return decode_content(headers, raw, limits);
    }
    let limit = limits.max_decoded_bytes as u64;
    // The SDK says how large the body was before compression: refuse early what cannot fit.
    let announced = headers
        .get("x-pre-compressed-size")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let decoder = zstd::stream::read::Decoder::new(&raw[..]).map_err(|e| {
        ApiError::BadRequest(format!("the zstd body could not be decompressed: {e}"))
    })?;
    let mut out = Vec::new();
    decoder.take(limit + 1).read_to_end(&mut out).map_err(|e| {
        ApiError::BadRequest(format!("the zstd body could not be decompressed: {e}"))
    })?;
    if out.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(Bytes::from(out))
}

fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the zstd body decompresses to more than the limit of {limit} bytes"
    ))
}

/// The boundary of a `multipart/form-data` request, or why there is none.
pub fn boundary(headers: &HeaderMap) -> Result<String, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    multer::parse_boundary(content_type).map_err(|_| {
        ApiError::UnsupportedMediaType(format!(
            "Content-Type {content_type:?} is not multipart/form-data with a boundary"
        ))
    })
}

/// Splits a decoded body into parts. Never fails: framing errors end the parse (`broken`),
/// bad parts are skipped, and everything read before either is kept.
pub async fn parse(body: Bytes, boundary: &str, max_parts: usize) -> Parsed {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parsed = Parsed::default();
    let mut count = 0usize;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                parsed.broken = Some(format!("malformed multipart body after {count} parts: {e}"));
                break;
            }
        };
        count += 1;
        if count > max_parts {
            parsed.broken = Some(format!("more than {max_parts} parts in one upload"));
            break;
        }
        let name = field.name().unwrap_or("").to_string();
        let content_type = field.content_type().map(|m| m.to_string());
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) => {
                parsed.broken = Some(format!("malformed multipart part {name:?}: {e}"));
                break;
            }
        };
        match classify(&name, content_type.as_deref(), &data) {
            Ok(part) => parsed.parts.push(part),
            Err(why) => parsed.skipped.push(why),
        }
    }
    parsed
}

/// What one part is, from its name and body.
pub fn classify(name: &str, content_type: Option<&str>, data: &[u8]) -> Result<Part, String> {
    let mut pieces = name.splitn(3, '.');
    let kind = pieces.next().unwrap_or("");
    let id_text = pieces.next();
    let rest = pieces.next();
    let id = |what: &str| {
        id_text
            .and_then(ids::parse_uuid)
            .ok_or_else(|| format!("part {name:?}: {what} is not a UUID"))
    };
    let json = || {
        serde_json::from_slice::<Value>(data)
            .map_err(|e| format!("part {name:?} is not valid JSON: {e}"))
    };
    if kind == "feedback" && rest.is_none() {
        id("the feedback id")?;
        return Ok(Part::Feedback(json()?));
    }
    if kind == "attachment" {
        let run = id("the run id")?;
        let file = rest
            .filter(|r| !r.is_empty())
            .ok_or_else(|| format!("part {name:?}: an attachment needs a name"))?;
        return Ok(Part::Attachment {
            run,
            info: json!({
                "name": file,
                "content_type": content_type.unwrap_or("application/octet-stream"),
                "size": data.len(),
                "stored": false,
            }),
        });
    }
    let Some(op) = Op::parse(kind) else {
        return Err(format!("unknown part {name:?}"));
    };
    let run = id("the run id")?;
    match rest {
        None => match json()? {
            Value::Object(fields) => {
                if let Some(body_id) = fields.get("id").and_then(Value::as_str) {
                    if ids::parse_uuid(body_id) != Some(run) {
                        return Err(format!(
                            "part {name:?}: its body's id {body_id:?} is another run"
                        ));
                    }
                }
                Ok(Part::Run { op, run, fields })
            }
            _ => Err(format!("part {name:?} must be a JSON object")),
        },
        Some(field) if RUN_FIELDS.contains(&field) => {
            let mut fields = Map::new();
            fields.insert(field.to_string(), json()?);
            Ok(Part::Run { op, run, fields })
        }
        Some(field) => Err(format!("unknown part {name:?} (no run field {field:?})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "01a20c28-9de7-7b5d-8818-498ab6782bfd";

    fn body(parts: &[(&str, &str)]) -> Bytes {
        let mut out = String::new();
        for (name, data) in parts {
            out.push_str(&format!(
                "--XX\r\nContent-Disposition: form-data; name=\"{name}\"\r\nContent-Type: application/json\r\n\r\n{data}\r\n"
            ));
        }
        out.push_str("--XX--\r\n");
        Bytes::from(out)
    }

    #[tokio::test]
    async fn parts_are_classified_and_bad_ones_skipped() {
        let parsed = parse(
            body(&[
                (
                    &format!("post.{RUN}"),
                    &format!(r#"{{"id":"{RUN}","name":"main"}}"#),
                ),
                (&format!("post.{RUN}.inputs"), r#"{"q":1}"#),
                (&format!("post.{RUN}.whatever"), "{}"),
                ("mystery", "{}"),
                (&format!("patch.{RUN}.outputs"), "not json"),
                (&format!("feedback.{RUN}"), r#"{"key":"k"}"#),
                (&format!("attachment.{RUN}.image.png"), "PNG"),
            ]),
            "XX",
            100,
        )
        .await;
        assert_eq!(parsed.broken, None);
        assert_eq!(parsed.parts.len(), 4, "{:?}", parsed.parts);
        assert_eq!(parsed.skipped.total, 3, "{:?}", parsed.skipped);
        assert!(parsed
            .skipped
            .first
            .iter()
            .any(|s| s.contains("unknown part \"mystery\"")));
        match &parsed.parts[3] {
            Part::Attachment { info, .. } => {
                assert_eq!(info["name"], "image.png");
                assert_eq!(info["size"], 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_broken_body_keeps_the_parts_before_the_break() {
        let mut raw = body(&[
            (&format!("post.{RUN}"), r#"{"name":"main"}"#),
            (
                &format!("post.{RUN}.inputs"),
                r#"{"q": "a long enough value"}"#,
            ),
        ])
        .to_vec();
        raw.truncate(raw.len() - 30); // cut into the second part: it never ends
        raw.extend_from_slice(b"garbage without a boundary");
        let parsed = parse(Bytes::from(raw), "XX", 100).await;
        assert!(parsed.broken.is_some());
        assert_eq!(parsed.parts.len(), 1);
    }

    #[test]
    fn skipped_reasons_are_counted_all_and_kept_few_and_short() {
        let mut skipped = Skipped::default();
        for i in 0..1000 {
            skipped.push(format!("part {i}: {}", "x".repeat(1000)));
        }
        assert_eq!(skipped.total, 1000);
        assert_eq!(skipped.first.len(), Skipped::KEPT);
        assert!(skipped
            .first
            .iter()
            .all(|r| r.chars().count() <= Skipped::REASON_CHARS + 1));
        let line = skipped.summary(3);
        assert!(
            line.len() < 2000 && line.ends_with("(and 997 more; 1000 skipped in all)"),
            "{line}"
        );
    }

    #[test]
    fn zstd_bodies_decode_as_a_stream_and_bad_frames_are_400() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, "zstd".parse().unwrap());
        let plain = b"hello ".repeat(1000);
        // A streamed frame has no content size, like the SDK's.
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        std::io::Write::write_all(&mut encoder, &plain).unwrap();
        let frame = encoder.finish().unwrap();
        let limits = BodyLimits::default();
        let decoded = decode_body(&headers, Bytes::from(frame.clone()), limits).unwrap();
        assert_eq!(&decoded[..], &plain[..]);

        let small = BodyLimits {
            max_body_bytes: 100,
            max_decoded_bytes: 100,
            ..BodyLimits::default()
        };
        assert!(matches!(
            decode_body(&headers, Bytes::from(frame.clone()), small),
            Err(ApiError::PayloadTooLarge(_))
        ));
        let truncated = Bytes::from(frame[..frame.len() / 2].to_vec());
        assert!(matches!(
            decode_body(&headers, truncated, limits),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            decode_body(&headers, Bytes::from_static(b"not zstd at all"), limits),
            Err(ApiError::BadRequest(_))
        ));
    }
}
