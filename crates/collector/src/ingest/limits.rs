//! Limits on what one span (or LangSmith run) may carry: attributes per span, bytes per
//! attribute value, events per span, the length of names, for OTLP and LangSmith alike.
//!
//! A request with anything over a limit is refused whole with 413 and nothing of it is
//! stored (no `partial_success`): the answer names every offending span (trace id/span id, or
//! run id), the attribute, its size and the limit, so a client knows exactly what was not
//! stored. Partial acceptance would keep the rest of a trace without the span that broke the
//! limit, and OTel SDKs do not report `partial_success` to anyone.

use std::io::Write;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::ApiError;
use skein_model::span::to_hex as hex;

/// Longest attribute key (keys name things; a longer one is a client bug).
pub const MAX_ATTRIBUTE_KEY_BYTES: usize = 1024;
/// Longest span, event or run name. Names label rows and group spans (`chat gpt-4o`,
/// `POST /v1/chat`); text that long belongs in an attribute or the input.
pub const MAX_NAME_BYTES: usize = 4096;
/// Most tags (labels) on one LangSmith run.
pub const MAX_RUN_TAGS: usize = 64;
/// How many violations an answer lists before it only counts the rest.
const LISTED: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentLimits {
    /// Most attributes on a span, an event, a link or a resource; most keys in a LangSmith
    /// run's `extra.metadata`.
    pub max_attributes: usize,
    /// Most bytes in one attribute value (a string's bytes; an array's or map's as JSON), and
    /// in a LangSmith run's `inputs`, `outputs`, `extra`, `error`, `events` or `tags` as JSON.
    pub max_attribute_bytes: usize,
    /// Most events (and most links) on a span or run.
    pub max_events: usize,
}

impl Default for ContentLimits {
    /// Generous: LLM prompts and answers of several MiB, streaming runs with an event per
    /// token, and well past the OTel SDKs' own defaults (128 attributes, 128 events).
    fn default() -> Self {
        ContentLimits {
            max_attributes: 1024,
            max_attribute_bytes: 8 << 20,
            max_events: 10_000,
        }
    }
}

/// What went over the limits in one request.
#[derive(Debug, Default)]
struct Violations {
    listed: Vec<String>,
    total: usize,
}

impl Violations {
    fn push(&mut self, text: impl FnOnce() -> String) {
        if self.listed.len() < LISTED {
            self.listed.push(text());
        }
        self.total += 1;
    }

    fn into_result(self, what: &str) -> Result<(), ApiError> {
        if self.total == 0 {
            return Ok(());
        }
        let mut text = format!(
            "{what} refused, nothing of it was stored: {}",
            self.listed.join("; ")
        );
        if self.total > self.listed.len() {
            text.push_str(&format!(
                "; and {} more over the limits",
                self.total - self.listed.len()
            ));
        }
        Err(ApiError::PayloadTooLarge(text))
    }
}

const ATTRIBUTES_FLAG: &str = "--max-span-attributes";
const BYTES_FLAG: &str = "--max-attribute-bytes";
const EVENTS_FLAG: &str = "--max-span-events";

/// A key or name as shown in an answer: whole when short, else its start and length.
fn shown_key(key: &str) -> String {
    const SHOWN: usize = 64;
    if key.len() <= SHOWN {
        return format!("{key:?}");
    }
    let mut end = SHOWN;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes)", &key[..end], key.len())
}

/// Checks an OTLP request against the limits before anything of it is stored.
pub fn check_otlp(
    request: &ExportTraceServiceRequest,
    limits: &ContentLimits,
) -> Result<(), ApiError> {
    let mut found = Violations::default();
    for resource_spans in &request.resource_spans {
        if let Some(resource) = &resource_spans.resource {
            let spans: usize = resource_spans
                .scope_spans
                .iter()
                .map(|s| s.spans.len())
                .sum();
            check_attributes(&resource.attributes, limits, &mut found, || {
                let plural = if spans == 1 { "" } else { "s" };
                format!("the resource of {spans} span{plural}")
            });
        }
        for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
            let who = || {
                format!(
                    "span {}/{} ({})",
                    hex(&span.trace_id),
                    hex(&span.span_id),
                    shown_key(&span.name)
                )
            };
            if span.name.len() > MAX_NAME_BYTES {
                found.push(|| format!("{}: the name is longer than {MAX_NAME_BYTES} bytes", who()));
            }
            check_attributes(&span.attributes, limits, &mut found, who);
            if span.events.len() > limits.max_events {
                found.push(|| {
                    format!(
                        "{}: {} events; the limit is {} ({EVENTS_FLAG})",
                        who(),
                        span.events.len(),
                        limits.max_events
                    )
                });
            }
            for (i, event) in span.events.iter().enumerate() {
                let event_who = || format!("{}, event {i} ({})", who(), shown_key(&event.name));
                if event.name.len() > MAX_NAME_BYTES {
                    found.push(|| {
                        format!(
                            "{}: the name is longer than {MAX_NAME_BYTES} bytes",
                            event_who()
                        )
                    });
                }
                check_attributes(&event.attributes, limits, &mut found, event_who);
            }
            if span.links.len() > limits.max_events {
                found.push(|| {
                    format!(
                        "{}: {} links; the limit is {} ({EVENTS_FLAG})",
                        who(),
                        span.links.len(),
                        limits.max_events
                    )
                });
            }
            for (i, link) in span.links.iter().enumerate() {
                check_attributes(&link.attributes, limits, &mut found, || {
                    format!("{}, link {i}", who())
                });
            }
        }
    }
    found.into_result("the request")
}

fn check_attributes(
    attributes: &[KeyValue],
    limits: &ContentLimits,
    found: &mut Violations,
    who: impl Fn() -> String,
) {
    if attributes.len() > limits.max_attributes {
        found.push(|| {
            format!(
                "{}: {} attributes; the limit is {} ({ATTRIBUTES_FLAG})",
                who(),
                attributes.len(),
                limits.max_attributes
            )
        });
    }
    for kv in attributes {
        if kv.key.len() > MAX_ATTRIBUTE_KEY_BYTES {
            found.push(|| {
                format!(
                    "{}: attribute key {} is longer than {MAX_ATTRIBUTE_KEY_BYTES} bytes",
                    who(),
                    shown_key(&kv.key)
                )
            });
        }
        let size = kv.value.as_ref().map_or(0, any_value_size);
        if size > limits.max_attribute_bytes {
            found.push(|| {
                format!(
                    "{}: attribute {} is {size} bytes; the limit is {} ({BYTES_FLAG})",
                    who(),
                    shown_key(&kv.key),
                    limits.max_attribute_bytes
                )
            });
        }
    }
}

/// About the bytes a value takes once stored: a string's bytes, bytes as hex, arrays and
/// maps as the sum of their parts (what their JSON holds, less punctuation).
fn any_value_size(value: &AnyValue) -> usize {
    match &value.value {
        None => 0,
        Some(any_value::Value::StringValue(s)) => s.len(),
        Some(any_value::Value::BytesValue(b)) => b.len() * 2,
        Some(any_value::Value::ArrayValue(a)) => a.values.iter().map(any_value_size).sum(),
        Some(any_value::Value::KvlistValue(kv)) => kv
            .values
            .iter()
            .map(|kv| kv.key.len() + kv.value.as_ref().map_or(0, any_value_size))
            .sum(),
        Some(_) => 8,
    }
}

/// Bytes of a value's compact JSON, counted without building it.
pub fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a `Value` to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Fields of a LangSmith run that are stored, each limited as one attribute value.
const STORED_RUN_FIELDS: &[&str] = &["inputs", "outputs", "extra", "error", "events", "tags"];

/// Checks the pieces of LangSmith runs (`post`/`patch` fields, or one field of a multipart
/// upload) against the limits before any of them is stored.
pub fn check_runs<'a>(
    runs: impl IntoIterator<Item = (&'a Uuid, &'a Map<String, Value>)>,
    limits: &ContentLimits,
    what: &str,
) -> Result<(), ApiError> {
    let mut found = Violations::default();
    for (run, fields) in runs {
        if let Some(name) = fields.get("name").and_then(Value::as_str) {
            if name.len() > MAX_NAME_BYTES {
                found.push(|| {
                    format!(
                        "run {run}: the name {} is longer than {MAX_NAME_BYTES} bytes",
                        shown_key(name)
                    )
                });
            }
        }
        for field in STORED_RUN_FIELDS {
            let Some(value) = fields.get(*field) else {
                continue;
            };
            let size = json_size(value);
            if size > limits.max_attribute_bytes {
                found.push(|| {
                    format!(
                        "run {run}: {field} is {size} bytes as JSON; the limit is {} ({BYTES_FLAG})",
                        limits.max_attribute_bytes
                    )
                });
            }
        }
        if let Some(metadata) = fields
            .get("extra")
            .and_then(|e| e.get("metadata"))
            .and_then(Value::as_object)
        {
            if metadata.len() > limits.max_attributes {
                found.push(|| {
                    format!(
                        "run {run}: extra.metadata has {} keys; the limit is {} ({ATTRIBUTES_FLAG})",
                        metadata.len(),
                        limits.max_attributes
                    )
                });
            }
            for key in metadata.keys() {
                if key.len() > MAX_ATTRIBUTE_KEY_BYTES {
                    found.push(|| {
                        format!(
                            "run {run}: extra.metadata key {} is longer than {MAX_ATTRIBUTE_KEY_BYTES} bytes",
                            shown_key(key)
                        )
                    });
                }
            }
        }
        if let Some(events) = fields.get("events").and_then(Value::as_array) {
            if events.len() > limits.max_events {
                found.push(|| {
                    format!(
                        "run {run}: {} events; the limit is {} ({EVENTS_FLAG})",
                        events.len(),
                        limits.max_events
                    )
                });
            }
        }
        if let Some(tags) = fields.get("tags").and_then(Value::as_array) {
            if tags.len() > MAX_RUN_TAGS {
                found.push(|| {
                    format!(
                        "run {run}: {} tags; the limit is {MAX_RUN_TAGS}",
                        tags.len()
                    )
                });
            }
        }
    }
    found.into_result(what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_size_is_the_compact_json_length() {
        let value = json!({"a": [1, "x\"y", null], "b": {"c": true}});
        assert_eq!(json_size(&value), value.to_string().len());
    }

    #[test]
    fn runs_over_the_limits_are_named_with_sizes() {
        let limits = ContentLimits {
            max_attributes: 2,
            max_attribute_bytes: 10,
            max_events: 1,
        };
        let run = Uuid::from_u128(7);
        let fields = json!({
            "inputs": {"q": "a long question"},
            "extra": {"metadata": {"a": 1, "b": 2, "c": 3}},
            "events": [{}, {}],
        });
        let fields = fields.as_object().unwrap();
        let err = check_runs([(&run, fields)], &limits, "the upload")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("run {run}: inputs is 23 bytes")),
            "{err}"
        );
        assert!(
            err.contains("extra.metadata has 3 keys; the limit is 2"),
            "{err}"
        );
        assert!(err.contains("2 events; the limit is 1"), "{err}");
        let small = json!({"inputs": {"q": 1}});
        assert!(check_runs([(&run, small.as_object().unwrap())], &limits, "x").is_ok());
    }
}
