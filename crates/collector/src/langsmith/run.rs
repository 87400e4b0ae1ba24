//! A LangSmith run as a Skein span, and the span shown back to the SDK as a run. (How a run's
//! pieces merge is the store's rule: `skein_model::span_pieces`.)
//!
//! | run field | span field |
//! | --- | --- |
//! | `id`, `trace_id`, `parent_run_id` | `span_id`, `trace_id`, `parent_span_id` (see `ids`); the UUIDs in `langsmith.run_id`, `langsmith.trace_id`, `langsmith.parent_run_id` |
//! | `dotted_order` | `langsmith.dotted_order`; also the fallback for a missing `trace_id`, `parent_run_id` or `start_time` |
//! | `name`, `start_time`, `end_time` | `name`, `start_ns`, `end_ns` (`langsmith.end_time` is set once the run has ended) |
//! | `run_type` | `span_type` (`llm`, `tool`, `chain`, `retriever`, `embedding`; `prompt` and `parser` are chains; a `chain` named `…agent` is an agent, as `@traceable` gives every function `chain`); the original in `langsmith.run_type` |
//! | `session_name` | `project` (resolved by the caller) |
//! | `inputs`, `outputs` | `input`, `output` as JSON text (an empty object is no value) |
//! | `error` | status `error`, its first line as the status message, the whole text in `langsmith.error`; a run that ended without one is `ok`, one still running `unset` |
//! | `events` | `events` (`name`, `time`, `kwargs` as attributes) |
//! | `tags` | `labels` |
//! | `extra.metadata` | `tags` (scalar values; the SDK's own `ls_*` and `LANGSMITH_*` keys are left out), `session_id` (`session_id`, `thread_id`, `conversation_id`), `user_id`, `model` (`ls_model_name`), tokens and cost (`usage_metadata`); all of `extra` in `langsmith.extra` |
//! | `extra.runtime` | `resource` (`telemetry.sdk.*`, `process.runtime.*`) |
//! | — | `service`: metadata `service_name`/`service.name`/`service`, else a `service:<name>` (or `service=<name>`) tag, else the project (the SDK's project name; runs stored before this said `langsmith`) |

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};
use skein_model::span::{Span, SpanEvent, SpanKind, SpanStatus, SpanType};
use skein_model::span_pieces::deep_merge;
use uuid::Uuid;

use super::ids;

pub const ATTR_RUN_ID: &str = "langsmith.run_id";
pub const ATTR_TRACE_ID: &str = "langsmith.trace_id";
pub const ATTR_PARENT_RUN_ID: &str = "langsmith.parent_run_id";
pub const ATTR_DOTTED_ORDER: &str = "langsmith.dotted_order";
pub use skein_model::span_pieces::{ATTR_END_TIME, ATTR_ERROR, ATTR_RUN_TYPE, ATTR_START_UNKNOWN};
pub const ATTR_EXTRA: &str = "langsmith.extra";
/// Names, types and sizes of attachments; their bytes are not stored.
pub const ATTR_ATTACHMENTS: &str = "langsmith.attachments";
pub const ATTR_REFERENCE_EXAMPLE: &str = "langsmith.reference_example_id";

const MAX_TAGS: usize = 64;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;
const MAX_STATUS_MESSAGE: usize = 1024;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RunError {
    #[error("run {run}: {field} {value:?} is not a UUID")]
    BadUuid {
        run: String,
        field: &'static str,
        value: String,
    },
    #[error("run {0}: no trace_id, and no dotted_order to take it from")]
    NoTrace(String),
    #[error("run {run}: {field} {value} is not a timestamp between 1900 and 2200")]
    BadTime {
        run: String,
        field: &'static str,
        value: String,
    },
}

/// Overlays a later piece of a run (`patch`, or a field part) on what is known of it. A
/// `null` never erases a value, `extra` is merged key by key, and the empty `inputs` /
/// `outputs` objects a `post` carries never hide real ones.
pub fn overlay(base: &mut Map<String, Value>, piece: Map<String, Value>) {
    for (key, value) in piece {
        if value.is_null() {
            continue;
        }
        match base.get_mut(&key) {
            Some(existing) if key == "extra" && existing.is_object() && value.is_object() => {
                deep_merge(existing, value)
            }
            Some(existing)
                if (key == "inputs" || key == "outputs")
                    && is_empty_value(&value)
                    && !is_empty_value(existing) => {}
            _ => {
                base.insert(key, value);
            }
        }
    }
}

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// Nanoseconds since the epoch of a run timestamp: RFC 3339 (`…+00:00`, `…Z`), the SDK's
/// zone-less ISO form (taken as UTC), or a number of seconds (milliseconds past 10¹¹).
pub fn parse_time(value: &Value) -> Option<i64> {
    let ns = match value {
        Value::String(s) => parse_time_text(s.trim()),
        Value::Number(n) => {
            let f = n.as_f64()?;
            let secs = if f.abs() > 1e11 { f / 1000.0 } else { f };
            let ns = secs * 1e9;
            ns.is_finite().then_some(ns as i64)
        }
        _ => None,
    };
    ns.filter(|ns| SANE_TIMES_NS.contains(ns))
}

/// The times a run may carry: 1900-01-01 up to 2200-01-01 (UTC). Anything else is a mistake
/// (a float of 9.9e300 would be stored as i64's extreme, a run "started in 1677").
pub const SANE_TIMES_NS: std::ops::Range<i64> =
    -2_208_988_800_000_000_000..7_258_118_400_000_000_000;

fn parse_time_text(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return t.timestamp_nanos_opt();
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return t.timestamp_nanos_opt();
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return t.and_utc().timestamp_nanos_opt();
        }
    }
    None
}

/// A timestamp as the SDK writes it: `2026-11-24T06:05:18.183114+00:00`.
pub fn format_time(ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// One segment of a dotted order: `20261124T060518183114Z<uuid>`.
#[derive(Debug, Clone, PartialEq)]
pub struct DottedSegment {
    pub start_ns: Option<i64>,
    pub run: Uuid,
}

/// The segments of a dotted order, root first; `None` if any is malformed.
pub fn parse_dotted_order(text: &str) -> Option<Vec<DottedSegment>> {
    text.split('.')
        .map(|segment| {
            let (time, id) = segment.split_once('Z')?;
            let run = ids::parse_uuid(id)?;
            let start_ns = NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%M%S%6f")
                .ok()
                .and_then(|t| t.and_utc().timestamp_nanos_opt())
                .filter(|ns| SANE_TIMES_NS.contains(ns));
            Some(DottedSegment { start_ns, run })
        })
        .collect()
}

/// A dotted order segment for a run that started at `start_ns`.
pub fn dotted_segment(start_ns: i64, run: &Uuid) -> String {
    let time = DateTime::<Utc>::from_timestamp_nanos(start_ns).format("%Y%m%dT%H%M%S%6fZ");
    format!("{time}{run}")
}

fn uuid_field(
    fields: &Map<String, Value>,
    run: &Uuid,
    field: &'static str,
) -> Result<Option<Uuid>, RunError> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => ids::parse_uuid(s).map(Some).ok_or(RunError::BadUuid {
            run: run.to_string(),
            field,
            value: s.clone(),
        }),
        Some(other) => Err(RunError::BadUuid {
            run: run.to_string(),
            field,
            value: other.to_string(),
        }),
    }
}

fn time_field(
    fields: &Map<String, Value>,
    run: &Uuid,
    field: &'static str,
) -> Result<Option<i64>, RunError> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => parse_time(v).map(Some).ok_or_else(|| RunError::BadTime {
            run: run.to_string(),
            field,
            value: v.to_string(),
        }),
    }
}

/// The trace a run belongs to, from its own fields alone: `trace_id`, else the first segment
/// of `dotted_order`, else the run itself when it has no parent. `None` when only the store
/// can tell (a bare `PATCH` of a child run).
pub fn trace_of(run: &Uuid, fields: &Map<String, Value>) -> Result<Option<Uuid>, RunError> {
    if let Some(trace) = uuid_field(fields, run, "trace_id")? {
        return Ok(Some(trace));
    }
    if let Some(first) = fields
        .get("dotted_order")
        .and_then(Value::as_str)
        .and_then(parse_dotted_order)
        .and_then(|s| s.into_iter().next())
    {
        return Ok(Some(first.run));
    }
    if uuid_field(fields, run, "parent_run_id")?.is_none() {
        return Ok(Some(*run));
    }
    Ok(None)
}

/// Turns a run (its pieces overlaid) into a span of `project`.
pub fn to_span(
    run: &Uuid,
    fields: &Map<String, Value>,
    project: &str,
    attachments: &[Value],
    now_ns: i64,
) -> Result<Span, RunError> {
    let trace = trace_of(run, fields)?.ok_or_else(|| RunError::NoTrace(run.to_string()))?;
    let dotted = fields.get("dotted_order").and_then(Value::as_str);
    let segments = dotted.and_then(parse_dotted_order).unwrap_or_default();
    let parent = match uuid_field(fields, run, "parent_run_id")? {
        Some(p) => Some(p),
        // The dotted order names every ancestor: the one before the run's own segment.
        None if segments.len() >= 2 && segments[segments.len() - 1].run == *run => {
            Some(segments[segments.len() - 2].run)
        }
        None => None,
    }
    .filter(|p| p != run);

    let start = time_field(fields, run, "start_time")?.or_else(|| {
        segments
            .last()
            .filter(|s| s.run == *run)
            .and_then(|s| s.start_ns)
    });
    let end = time_field(fields, run, "end_time")?;
    let start_ns = start.or(end).unwrap_or(now_ns);
    let end_ns = end.unwrap_or(start_ns).max(start_ns);

    let name = fields
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let run_type = fields.get("run_type").and_then(Value::as_str);
    let extra = fields
        .get("extra")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let empty = Map::new();
    let metadata = extra
        .get("metadata")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let runtime = extra
        .get("runtime")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let inputs = fields.get("inputs").filter(|v| !is_empty_value(v));
    let outputs = fields.get("outputs").filter(|v| !is_empty_value(v));

    let error = match fields.get("error") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let (status, status_message) = match &error {
        Some(text) => (SpanStatus::Error, Some(first_line(text))),
        None if end.is_some() => (SpanStatus::Ok, None),
        None => (SpanStatus::Unset, None),
    };

    let usage = usage_of(fields, metadata, outputs);
    let meta_text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| metadata.get(*k).and_then(scalar_text))
            .filter(|s| !s.is_empty())
    };
    let service = meta_text(&["service_name", "service.name", "service"])
        .or_else(|| service_tag(fields.get("tags")))
        .unwrap_or_else(|| project.to_string());
    let model = meta_text(&["ls_model_name"]).or_else(|| {
        let params = extra.get("invocation_params")?.as_object()?;
        ["model", "model_name"]
            .iter()
            .find_map(|k| params.get(*k).and_then(Value::as_str))
            .map(str::to_string)
    });

    let mut attributes = Map::new();
    attributes.insert(ATTR_RUN_ID.into(), run.to_string().into());
    attributes.insert(ATTR_TRACE_ID.into(), trace.to_string().into());
    if let Some(p) = &parent {
        attributes.insert(ATTR_PARENT_RUN_ID.into(), p.to_string().into());
    }
    if let Some(d) = dotted {
        attributes.insert(ATTR_DOTTED_ORDER.into(), d.into());
    }
    if let Some(t) = run_type {
        attributes.insert(ATTR_RUN_TYPE.into(), t.into());
    }
    if end.is_some() {
        attributes.insert(ATTR_END_TIME.into(), format_time(end_ns).into());
    }
    if start.is_none() {
        attributes.insert(ATTR_START_UNKNOWN.into(), true.into());
    }
    if let Some(e) = &error {
        attributes.insert(ATTR_ERROR.into(), e.clone().into());
    }
    if !extra.is_empty() {
        attributes.insert(ATTR_EXTRA.into(), Value::Object(extra.clone()));
    }
    if !attachments.is_empty() {
        attributes.insert(ATTR_ATTACHMENTS.into(), Value::Array(attachments.to_vec()));
    }
    if let Some(r) = fields.get("reference_example_id").filter(|v| !v.is_null()) {
        attributes.insert(ATTR_REFERENCE_EXAMPLE.into(), r.clone());
    }

    let mut resource = Map::new();
    resource.insert("service.name".into(), service.clone().into());
    for (from, to) in [
        ("sdk", "telemetry.sdk.name"),
        ("sdk_version", "telemetry.sdk.version"),
        ("runtime", "process.runtime.name"),
        ("runtime_version", "process.runtime.version"),
    ] {
        if let Some(v) = runtime.get(from).filter(|v| !v.is_null()) {
            resource.insert(to.into(), v.clone());
        }
    }

    Ok(Span {
        project: project.to_string(),
        trace_id: ids::trace_hex(&trace),
        span_id: ids::span_hex(run),
        parent_span_id: parent.as_ref().map(ids::span_hex),
        span_type: span_type(run_type, &name),
        name,
        kind: SpanKind::Internal,
        service,
        start_ns,
        end_ns,
        status,
        status_message,
        model,
        input_tokens: usage.input,
        output_tokens: usage.output,
        cost: usage.cost,
        input: inputs.map(json_text),
        output: outputs.map(json_text),
        session_id: meta_text(&["session_id", "thread_id", "conversation_id"]),
        user_id: meta_text(&["user_id"]),
        tags: tags_of(metadata),
        labels: labels_of(fields.get("tags")),
        attributes,
        resource,
        events: events_of(fields.get("events"), start_ns),
        links: Vec::new(),
    })
}

/// The service a run's tags name: `service:<name>` or `service=<name>`.
fn service_tag(tags: Option<&Value>) -> Option<String> {
    tags?.as_array()?.iter().find_map(|t| {
        let (key, name) = t.as_str()?.split_once([':', '='])?;
        let name = name.trim();
        (key.trim().eq_ignore_ascii_case("service") && !name.is_empty())
            .then(|| name.chars().take(MAX_TAG_VALUE).collect())
    })
}

fn span_type(run_type: Option<&str>, name: &str) -> SpanType {
    match run_type.and_then(SpanType::parse) {
        // `chain` is what `@traceable` gives any function; an agent says so in its name.
        Some(SpanType::Chain) | None
            if run_type.is_none_or(|t| t.eq_ignore_ascii_case("chain"))
                && name.to_ascii_lowercase().ends_with("agent") =>
        {
            SpanType::Agent
        }
        Some(t) => t,
        None => SpanType::Internal,
    }
}

fn first_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut end = line.len().min(MAX_STATUS_MESSAGE);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line[..end].to_string()
}

fn json_text(value: &Value) -> String {
    value.to_string()
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Metadata the SDK adds on its own (`ls_method`, `ls_provider`, `LANGSMITH_ENDPOINT`…) says
/// nothing about the user's runs; it stays in `langsmith.extra` but is not a tag.
fn is_sdk_key(key: &str) -> bool {
    key.starts_with("ls_") || key.starts_with("LANGSMITH_")
}

fn tags_of(metadata: &Map<String, Value>) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    for (key, value) in metadata {
        if tags.len() >= MAX_TAGS {
            break;
        }
        if key.is_empty() || key.len() > MAX_TAG_KEY || is_sdk_key(key) {
            continue;
        }
        if let Some(text) = scalar_text(value).filter(|t| t.len() <= MAX_TAG_VALUE) {
            tags.insert(key.clone(), text);
        }
    }
    tags
}

fn labels_of(tags: Option<&Value>) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for tag in tags.and_then(Value::as_array).into_iter().flatten() {
        if let Some(text) = scalar_text(tag) {
            if !labels.contains(&text) && labels.len() < MAX_TAGS {
                labels.push(text);
            }
        }
    }
    labels
}

fn events_of(events: Option<&Value>, default_ns: i64) -> Vec<SpanEvent> {
    events
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|e| {
            let mut attributes = match e.get("kwargs") {
                Some(Value::Object(k)) => k.clone(),
                Some(other) if !other.is_null() => {
                    let mut m = Map::new();
                    m.insert("kwargs".into(), other.clone());
                    m
                }
                _ => Map::new(),
            };
            for (k, v) in e {
                if !matches!(k.as_str(), "name" | "time" | "kwargs") {
                    attributes.insert(k.clone(), v.clone());
                }
            }
            SpanEvent {
                name: e
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("event")
                    .to_string(),
                time_ns: e.get("time").and_then(parse_time).unwrap_or(default_ns),
                attributes,
            }
        })
        .collect()
}

#[derive(Debug, Default, PartialEq)]
struct Usage {
    input: Option<i64>,
    output: Option<i64>,
    cost: Option<f64>,
}

fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

/// A LangChain message's usage: in itself (`usage_metadata`), or in `kwargs` when serialized.
fn message_usage(message: Option<&Value>) -> Option<&Map<String, Value>> {
    let message = message?;
    message
        .get("usage_metadata")
        .or_else(|| message.get("kwargs")?.get("usage_metadata"))?
        .as_object()
}

/// The message of a chat model's first generation (`LLMResult`).
fn first_generation(outputs: &Map<String, Value>) -> Option<&Value> {
    let first = outputs.get("generations")?.get(0)?;
    first.get(0).unwrap_or(first).get("message")
}

/// Token counts and cost: `extra.metadata.usage_metadata` (what `@traceable` records), else
/// the outputs' `usage_metadata` or `llm_output.token_usage`, else the usage of the message
/// they hold (a chain's `output`, a chat model's generation), else the run's own counters.
fn usage_of(
    fields: &Map<String, Value>,
    metadata: &Map<String, Value>,
    outputs: Option<&Value>,
) -> Usage {
    let from = |u: &Map<String, Value>| Usage {
        input: number(u.get("input_tokens").or_else(|| u.get("prompt_tokens"))).map(|f| f as i64),
        output: number(
            u.get("output_tokens")
                .or_else(|| u.get("completion_tokens")),
        )
        .map(|f| f as i64),
        cost: number(u.get("total_cost")),
    };
    let outputs = outputs.and_then(Value::as_object);
    let candidates = [
        metadata.get("usage_metadata").and_then(Value::as_object),
        outputs.and_then(|o| o.get("usage_metadata")?.as_object()),
        outputs.and_then(|o| o.get("llm_output")?.get("token_usage")?.as_object()),
        outputs.and_then(|o| message_usage(o.get("output"))),
        outputs.and_then(|o| message_usage(first_generation(o))),
        Some(fields),
    ];
    let mut usage = Usage::default();
    for candidate in candidates.into_iter().flatten() {
        let u = from(candidate);
        if u.input.is_some() || u.output.is_some() {
            usage.input = u.input;
            usage.output = u.output;
            usage.cost = u.cost.or(usage.cost);
            break;
        }
        usage.cost = usage.cost.or(u.cost);
    }
    usage
}

#[cfg(test)]
#[path = "run_tests.rs"]
pub(super) mod tests;
