//! A stored trace written back as an OTLP `ExportTraceServiceRequest`: what a client would
//! have sent to recreate it. Sending it to `/v1/traces` stores the same trace again, whatever
//! protocol first brought it: a field Skein derived from attributes the span does not carry
//! (a LangSmith run's input, type or usage, say) is written as the attribute ingest reads it
//! from.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span, status, ResourceSpans, ScopeSpans, Span as OtlpSpan, Status,
};
use serde_json::{Map, Value};
use skein_model::span::{Span, SpanStatus};

use crate::ingest::semconv;

/// The instrumentation scope the exported spans are under.
const SCOPE: &str = "skein.export";

/// The trace's spans as one request, a resource (service and its attributes) at a time, in
/// the order the spans are given.
pub fn trace_request(spans: &[Span]) -> ExportTraceServiceRequest {
    let mut groups: Vec<(Map<String, Value>, Vec<OtlpSpan>)> = Vec::new();
    for s in spans {
        let mut resource = s.resource.clone();
        resource
            .entry("service.name")
            .or_insert_with(|| Value::String(s.service.clone()));
        let otlp = otlp_span(s, &resource);
        match groups.iter_mut().find(|(r, _)| *r == resource) {
            Some((_, list)) => list.push(otlp),
            None => groups.push((resource, vec![otlp])),
        }
    }
    ExportTraceServiceRequest {
        resource_spans: groups
            .into_iter()
            .map(|(resource, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: key_values(resource),
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: SCOPE.to_string(),
                        ..InstrumentationScope::default()
                    }),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect(),
    }
}

fn otlp_span(s: &Span, resource: &Map<String, Value>) -> OtlpSpan {
    let attributes = attributes_that_rederive(s, resource);
    OtlpSpan {
        trace_id: unhex(&s.trace_id),
        span_id: unhex(&s.span_id),
        parent_span_id: s.parent_span_id.as_deref().map(unhex).unwrap_or_default(),
        name: s.name.clone(),
        kind: i32::from(s.kind.code()),
        start_time_unix_nano: nanos(s.start_ns),
        end_time_unix_nano: nanos(s.end_ns),
        attributes: key_values(attributes),
        events: s
            .events
            .iter()
            .map(|e| span::Event {
                time_unix_nano: nanos(e.time_ns),
                name: e.name.clone(),
                attributes: key_values(e.attributes.clone()),
                dropped_attributes_count: 0,
            })
            .collect(),
        links: s
            .links
            .iter()
            .map(|l| span::Link {
                trace_id: unhex(&l.trace_id),
                span_id: unhex(&l.span_id),
                attributes: key_values(l.attributes.clone()),
                ..span::Link::default()
            })
            .collect(),
        status: (s.status != SpanStatus::Unset || s.status_message.is_some()).then(|| Status {
            message: s.status_message.clone().unwrap_or_default(),
            code: match s.status {
                SpanStatus::Unset => status::StatusCode::Unset,
                SpanStatus::Ok => status::StatusCode::Ok,
                SpanStatus::Error => status::StatusCode::Error,
            } as i32,
        }),
        ..OtlpSpan::default()
    }
}

/// The span's attributes, plus the attribute each derived field comes from wherever the
/// attributes alone would derive something else.
fn attributes_that_rederive(s: &Span, resource: &Map<String, Value>) -> Map<String, Value> {
    let mut attrs = s.attributes.clone();
    let derived = semconv::derive(&s.name, s.kind, &attrs, resource);
    let mut set = |key: &str, value: Value| {
        attrs.insert(key.to_string(), value);
    };
    if derived.span_type != s.span_type {
        set("openinference.span.kind", s.span_type.as_str().into());
    }
    let texts = [
        (&derived.model, &s.model, "gen_ai.request.model"),
        (&derived.input, &s.input, "input.value"),
        (&derived.output, &s.output, "output.value"),
        (&derived.session_id, &s.session_id, "session.id"),
        (&derived.user_id, &s.user_id, "user.id"),
    ];
    for (got, want, key) in texts {
        if got != want {
            if let Some(v) = want {
                set(key, v.clone().into());
            }
        }
    }
    let numbers = [
        (
            derived.input_tokens,
            s.input_tokens,
            "gen_ai.usage.input_tokens",
        ),
        (
            derived.output_tokens,
            s.output_tokens,
            "gen_ai.usage.output_tokens",
        ),
    ];
    for (got, want, key) in numbers {
        if got != want {
            if let Some(v) = want {
                set(key, v.into());
            }
        }
    }
    if derived.cost != s.cost {
        if let Some(v) = s.cost {
            set("llm.cost.total", v.into());
        }
    }
    for (key, value) in &s.tags {
        if derived.tags.get(key) != Some(value) {
            set(key, value.clone().into());
        }
    }
    if derived.labels != s.labels && !s.labels.is_empty() {
        set(
            "tag.tags",
            Value::Array(s.labels.iter().cloned().map(Value::String).collect()),
        );
    }
    attrs
}

/// Attributes as OTLP key-values; a null (OTLP has no null value) is left out.
fn key_values(map: Map<String, Value>) -> Vec<KeyValue> {
    map.into_iter()
        .filter_map(|(key, value)| {
            Some(KeyValue {
                key,
                value: Some(any_value(value)?),
            })
        })
        .collect()
}

/// A JSON value as an OTLP value (objects become key-value lists, as ingest reads them);
/// `None` for null.
fn any_value(value: Value) -> Option<AnyValue> {
    use any_value::Value as V;
    let v = match value {
        Value::Null => return None,
        Value::Bool(b) => V::BoolValue(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => V::IntValue(i),
            None => V::DoubleValue(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => V::StringValue(s),
        Value::Array(items) => V::ArrayValue(ArrayValue {
            values: items.into_iter().filter_map(any_value).collect(),
        }),
        Value::Object(map) => V::KvlistValue(KeyValueList {
            values: key_values(map),
        }),
    };
    Some(AnyValue { value: Some(v) })
}

fn nanos(ns: i64) -> u64 {
    u64::try_from(ns).unwrap_or(0)
}

/// A stored id (lowercase hex) as bytes; ids are checked at ingest, so a bad digit is only
/// possible in a damaged store and reads as 0.
fn unhex(id: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    };
    id.as_bytes()
        .chunks(2)
        .map(|pair| (digit(pair[0]) << 4) | pair.get(1).map_or(0, |&c| digit(c)))
        .collect()
}
