//! OTLP/HTTP traces: `POST /v1/traces` in protobuf or JSON, optionally gzip-compressed.
//! Answers an `ExportTraceServiceResponse` in the request's encoding, with `partial_success`
//! when some spans were refused (bad ids) and the rest were stored. `store_request` is the
//! pipeline OTLP/gRPC (`grpc`) shares. A request with a span over
//! the content limits (`limits`) is refused whole with 413.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use prost::Message;
use serde_json::{Map, Value};
use skein_model::span::{to_hex as hex, Span, SpanEvent, SpanKind, SpanLink, SpanStatus};

use super::body::{decode_content, read_limited};
use super::limits::check_otlp;
use super::semconv;
use crate::context::{project_from_headers, AppState, KeyScope};
use crate::error::ApiError;

/// Most spans accepted in one request.
pub const MAX_SPANS_PER_REQUEST: usize = 100_000;

/// How an OTLP body is encoded (from its Content-Type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

fn request_encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
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
    match mime.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {content_type:?} is not OTLP; send application/x-protobuf or application/json"
        ))),
    }
}

/// The `/v1/traces` handler. Its errors are answered here, in the request's encoding (a
/// protobuf `google.rpc.Status` to a protobuf request, `{"error": ...}` to any other), so it
/// returns `Ok` always; the `Result` lets callers that check more first chain it.
pub async fn export(
    State(state): State<AppState>,
    scope: KeyScope,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    Ok(match export_http(&state, &scope, &headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response_for(&headers),
    })
}

async fn export_http(
    state: &AppState,
    scope: &KeyScope,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let encoding = request_encoding(headers)?;
    let raw = read_limited(body, state.limits).await?;
    let bytes = decode_content(headers, raw, state.limits)?;
    let request = decode_request(encoding, &bytes)?;
    let response = store_request(state, request, scope, headers).await?;
    Ok(encode_response(encoding, &response))
}

/// The one OTLP pipeline behind both protocols, once a request is decoded: the content
/// limits, the project (the key's, else `x-skein-project`, else the resource's), conversion,
/// and the store, which answers only once the spans are durably stored. Spans refused one by
/// one (bad ids) are reported in `partial_success`.
pub async fn store_request(
    state: &AppState,
    request: ExportTraceServiceRequest,
    scope: &KeyScope,
    headers: &HeaderMap,
) -> Result<ExportTraceServiceResponse, ApiError> {
    check_otlp(&request, &state.limits.content)?;
    // A key's spans go to the key's project, whatever they name (the key check has already
    // refused a header naming another).
    let project = match scope.project() {
        Some(own) => Some(own.to_string()),
        None => project_from_headers(headers)?,
    };
    let converted = convert_owned(request, project.as_deref());
    if converted.spans.len() > MAX_SPANS_PER_REQUEST {
        return Err(ApiError::PayloadTooLarge(format!(
            "the request has {} spans; the limit is {MAX_SPANS_PER_REQUEST} per request",
            converted.spans.len()
        )));
    }
    if converted.spans.is_empty() && !converted.rejected.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "no span could be accepted: {}",
            converted.rejected.join("; ")
        )));
    }
    state.store.write_spans(converted.spans).await?;
    state.live.spans_stored();

    let partial_success = (!converted.rejected.is_empty()).then(|| ExportTracePartialSuccess {
        rejected_spans: converted.rejected.len() as i64,
        error_message: summarize(&converted.rejected),
    });
    Ok(ExportTraceServiceResponse { partial_success })
}

/// Decodes an OTLP body; public for the fuzz targets (fuzz/).
pub fn decode_request(
    encoding: Encoding,
    bytes: &Bytes,
) -> Result<ExportTraceServiceRequest, ApiError> {
    match encoding {
        Encoding::Protobuf => decode_protobuf(bytes.as_ref()),
        Encoding::Json => serde_json::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("invalid OTLP JSON: {e}"))),
    }
}

/// Decodes an OTLP protobuf message (an HTTP body, a gRPC message).
pub fn decode_protobuf(
    bytes: impl prost::bytes::Buf,
) -> Result<ExportTraceServiceRequest, ApiError> {
    ExportTraceServiceRequest::decode(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid OTLP protobuf: {e}")))
}

fn encode_response(encoding: Encoding, response: &ExportTraceServiceResponse) -> Response {
    let (body, content_type) = match encoding {
        Encoding::Protobuf => (response.encode_to_vec(), "application/x-protobuf"),
        Encoding::Json => (
            serde_json::to_vec(response).unwrap_or_else(|_| b"{}".to_vec()),
            "application/json",
        ),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

fn summarize(rejected: &[String]) -> String {
    let mut text = rejected
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if rejected.len() > 5 {
        text.push_str(&format!("; and {} more", rejected.len() - 5));
    }
    text
}

/// The spans of a request, and why any were refused.
#[derive(Debug, Default)]
pub struct Converted {
    pub spans: Vec<Span>,
    pub rejected: Vec<String>,
}

/// Resource attributes that name the project when no header does.
const PROJECT_RESOURCE_KEYS: &[&str] = &["skein.project", "openinference.project.name"];

/// Normalises an OTLP request into Skein's spans. `project` (from the request's header) wins
/// over the resource's attributes.
pub fn convert(request: &ExportTraceServiceRequest, project: Option<&str>) -> Converted {
    convert_owned(request.clone(), project)
}

/// `convert`, taking the request apart rather than copying from it: the strings of its
/// attributes move into the spans (measured on the ingest benchmark, copying them was a
/// good part of the ingest path's allocations).
pub fn convert_owned(request: ExportTraceServiceRequest, project: Option<&str>) -> Converted {
    let mut out = Converted::default();
    let count = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    out.spans.reserve_exact(count);
    for resource_spans in request.resource_spans {
        let resource = resource_spans
            .resource
            .map(|r| attributes_into_map(r.attributes))
            .unwrap_or_default();
        let service = resource
            .get("service.name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown_service")
            .to_string();
        let project = project
            .map(str::to_string)
            .or_else(|| {
                PROJECT_RESOURCE_KEYS
                    .iter()
                    .find_map(|k| resource.get(*k).and_then(Value::as_str).map(str::to_string))
            })
            .unwrap_or_else(|| skein_model::DEFAULT_PROJECT.to_string());
        for scope_spans in resource_spans.scope_spans {
            for span in scope_spans.spans {
                match convert_span(span, &project, &service, &resource) {
                    Ok(s) => out.spans.push(s),
                    Err(why) => out.rejected.push(why),
                }
            }
        }
    }
    out
}

fn convert_span(
    span: opentelemetry_proto::tonic::trace::v1::Span,
    project: &str,
    service: &str,
    resource: &Map<String, Value>,
) -> Result<Span, String> {
    let trace_id = id_hex(&span.trace_id, 16).ok_or_else(|| {
        format!(
            "span {:?}: trace_id must be 16 non-zero bytes, got {}",
            span.name,
            span.trace_id.len()
        )
    })?;
    let span_id = id_hex(&span.span_id, 8).ok_or_else(|| {
        format!(
            "span {:?}: span_id must be 8 non-zero bytes, got {}",
            span.name,
            span.span_id.len()
        )
    })?;
    let parent_span_id = match span.parent_span_id.len() {
        0 => None,
        8 => id_hex(&span.parent_span_id, 8),
        n => {
            return Err(format!(
                "span {:?}: parent_span_id must be 8 bytes or empty, got {n}",
                span.name
            ))
        }
    };
    let attributes = attributes_into_map(span.attributes);
    let kind = SpanKind::from_otlp(span.kind);
    let start_ns = clamp_time(span.start_time_unix_nano);
    let end_ns = clamp_time(span.end_time_unix_nano).max(start_ns);
    let events: Vec<SpanEvent> = span
        .events
        .into_iter()
        .map(|e| SpanEvent {
            name: e.name,
            time_ns: clamp_time(e.time_unix_nano),
            attributes: attributes_into_map(e.attributes),
        })
        .collect();
    let links = span
        .links
        .into_iter()
        .filter_map(|l| {
            Some(SpanLink {
                trace_id: id_hex(&l.trace_id, 16)?,
                span_id: id_hex(&l.span_id, 8)?,
                attributes: attributes_into_map(l.attributes),
            })
        })
        .collect();
    let (status, mut status_message) = match span.status {
        Some(s) => (
            SpanStatus::from_otlp(s.code),
            Some(s.message).filter(|m| !m.is_empty()),
        ),
        None => (SpanStatus::Unset, None),
    };
    if status.is_error() && status_message.is_none() {
        status_message = events
            .iter()
            .find(|e| e.name == "exception")
            .and_then(|e| e.attributes.get("exception.message"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let derived = semconv::derive(&span.name, kind, &attributes, resource);
    Ok(Span {
        project: project.to_string(),
        trace_id,
        span_id,
        parent_span_id,
        name: span.name,
        kind,
        span_type: derived.span_type,
        service: service.to_string(),
        start_ns,
        end_ns,
        status,
        status_message,
        model: derived.model,
        input_tokens: derived.input_tokens,
        output_tokens: derived.output_tokens,
        cost: derived.cost,
        input: derived.input,
        output: derived.output,
        session_id: derived.session_id,
        user_id: derived.user_id,
        tags: derived.tags,
        labels: derived.labels,
        attributes,
        resource: resource.clone(),
        events,
        links,
    })
}

fn clamp_time(ns: u64) -> i64 {
    i64::try_from(ns).unwrap_or(i64::MAX)
}

/// Lowercase hex of an id of exactly `len` bytes that is not all zeros.
fn id_hex(bytes: &[u8], len: usize) -> Option<String> {
    if bytes.len() != len || bytes.iter().all(|b| *b == 0) {
        return None;
    }
    Some(hex(bytes))
}

/// `attributes_to_map`, moving the keys and values out.
pub fn attributes_into_map(attributes: Vec<KeyValue>) -> Map<String, Value> {
    attributes
        .into_iter()
        .map(|kv| (kv.key, kv.value.map_or(Value::Null, any_value_into_json)))
        .collect()
}

fn any_value_into_json(value: AnyValue) -> Value {
    match value.value {
        Some(any_value::Value::StringValue(s)) => Value::String(s),
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.into_iter().map(any_value_into_json).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => Value::Object(attributes_into_map(kv.values)),
        _ => any_value_to_json(&value),
    }
}

pub fn attributes_to_map(attributes: &[KeyValue]) -> Map<String, Value> {
    attributes
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map_or(Value::Null, any_value_to_json),
            )
        })
        .collect()
}

fn any_value_to_json(value: &AnyValue) -> Value {
    match &value.value {
        None => Value::Null,
        Some(any_value::Value::StringValue(s)) => Value::String(s.clone()),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
        Some(any_value::Value::IntValue(i)) => Value::from(*i),
        Some(any_value::Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(d.to_string())),
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(any_value_to_json).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => Value::Object(attributes_to_map(&kv.values)),
        Some(any_value::Value::BytesValue(b)) => Value::String(hex(b)),
        #[allow(unreachable_patterns)]
        Some(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JS_CAPTURE: &str = include_str!("../../tests/fixtures/otel_js_json.json");

    #[test]
    fn the_js_exporters_json_decodes() {
        let request: ExportTraceServiceRequest = serde_json::from_str(JS_CAPTURE).unwrap();
        let converted = convert(&request, None);
        assert!(converted.rejected.is_empty(), "{:?}", converted.rejected);
        let main = converted
            .spans
            .iter()
            .find(|s| s.name == "main_agent")
            .unwrap();
        assert_eq!(main.service, "js-service");
        assert_eq!(main.project, "default");
        assert_eq!(main.span_type, skein_model::SpanType::Agent);
        assert_eq!(main.input_tokens, Some(12));
        assert_eq!(main.labels, vec!["a", "b"]);
        let sub = converted
            .spans
            .iter()
            .find(|s| s.name == "sub_agent_1")
            .unwrap();
        assert_eq!(sub.parent_span_id.as_deref(), Some("de7c1a89ddab9cfc"));
        assert_eq!(sub.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(sub.start_ns, 1_795_500_443_630_000_000);
    }

    #[test]
    fn bad_ids_are_rejected_one_by_one() {
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span as OtlpSpan};
        let good = OtlpSpan {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: "good".into(),
            ..OtlpSpan::default()
        };
        let bad = OtlpSpan {
            trace_id: vec![0; 16],
            span_id: vec![3; 8],
            name: "bad".into(),
            ..OtlpSpan::default()
        };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![good, bad],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        let converted = convert(&request, Some("team-a"));
        assert_eq!(converted.spans.len(), 1);
        assert_eq!(converted.spans[0].project, "team-a");
        assert_eq!(converted.spans[0].service, "unknown_service");
        assert_eq!(converted.rejected.len(), 1);
        assert!(
            converted.rejected[0].contains("trace_id"),
            "{:?}",
            converted.rejected
        );
    }
}
