//! The field catalogue: every name a filter may use, what it means, and the prefixes that
//! name a tag (`tag.env`, `metadata.env`) or any attribute (`attr.http.status_code`). The
//! browser suggests from `FIELDS`.

use super::Field;

/// A field name as documented and suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: &'static str,
    pub about: &'static str,
}

macro_rules! fields {
    ($($name:literal => $about:literal),* $(,)?) => {
        &[$(FieldInfo { name: $name, about: $about }),*]
    };
}

/// Every field name (aliases included); the two `<key>` entries stand for a prefix and any key.
pub const FIELDS: &[FieldInfo] = fields![
    "tag.<key>" => "a metadata tag's value, as text: eq(tag.env, \"prod\") (also tags.<key>, metadata.<key>)",
    "attr.<key>" => "any span attribute: eq(attr.http.method, \"GET\"), gt(attr.retrieval.documents, 3); compared as a number when the value is a number (also attributes.<key>)",
    "name" => "the span's (run's) name",
    "run_type" => "llm, chain, tool, retriever, agent, embedding... (alias: type)",
    "type" => "the span type, as run_type",
    "service" => "the service that sent the span",
    "model" => "the model an LLM span called",
    "start_time" => "when the span started: \"2026-12-01T10:00:00Z\" or a date",
    "end_time" => "when the span ended",
    "latency" => "duration: \"2s\", \"500ms\", \"1.5m\", or a number of seconds",
    "error" => "true for a failed span (eq(error, true); neq(error, null))",
    "status" => "\"error\" or \"success\"",
    "total_tokens" => "input plus output tokens (alias: tokens)",
    "tokens" => "input plus output tokens",
    "prompt_tokens" => "input tokens",
    "completion_tokens" => "output tokens",
    "total_cost" => "cost in dollars (alias: cost)",
    "cost" => "cost in dollars",
    "tags" => "the span's labels: has(tags, \"beta\")",
    "metadata_key" => "with metadata_value in one and(): a metadata (tag) entry",
    "metadata_value" => "a metadata (tag) value",
    "feedback_key" => "with feedback_score in one and(): feedback on the span",
    "feedback_score" => "the score of feedback_key's feedback",
    "trace_id" => "the span's trace",
    "id" => "the span (run) id",
    "parent_run_id" => "the parent span (alias: parent_id)",
    "is_root" => "true for a span without a parent",
    "session" => "the session id (alias: session_id)",
    "user" => "the user id (alias: user_id)",
];

/// The prefixes that name a tag: `tag.env`, `tags.env`, `metadata.env`.
pub const TAG_PREFIXES: &[&str] = &["tag.", "tags.", "metadata."];

/// The prefixes that name an attribute: `attr.http.status_code`, `attributes.http.status_code`.
pub const ATTR_PREFIXES: &[&str] = &["attr.", "attrs.", "attributes."];

/// Every field name, for suggestions.
pub fn field_names() -> impl Iterator<Item = &'static str> {
    FIELDS.iter().map(|f| f.name)
}

/// The field a plain name means (not the paired `metadata_*`/`feedback_*` names).
pub fn resolve(name: &str) -> Option<Field> {
    if let Some(key) = TAG_PREFIXES.iter().find_map(|p| name.strip_prefix(p)) {
        return (!key.is_empty()).then(|| Field::Tag(key.to_string()));
    }
    if let Some(key) = ATTR_PREFIXES.iter().find_map(|p| name.strip_prefix(p)) {
        return (!key.is_empty()).then(|| Field::Attr(key.to_string()));
    }
    Some(match name {
        "name" => Field::Name,
        "run_type" | "type" | "span_type" => Field::Type,
        "service" => Field::Service,
        "model" => Field::Model,
        "start_time" | "start" => Field::Start,
        "end_time" | "end" => Field::End,
        "latency" | "duration" => Field::Latency,
        "error" | "status" => Field::Error,
        "total_tokens" | "tokens" => Field::Tokens,
        "prompt_tokens" | "input_tokens" => Field::PromptTokens,
        "completion_tokens" | "output_tokens" => Field::CompletionTokens,
        "total_cost" | "cost" => Field::Cost,
        "tags" | "labels" => Field::Labels,
        "trace_id" | "trace" => Field::TraceId,
        "id" | "span_id" | "run_id" => Field::SpanId,
        "parent_run_id" | "parent_id" | "parent_span_id" => Field::ParentId,
        "is_root" => Field::IsRoot,
        "session" | "session_id" | "thread_id" => Field::Session,
        "user" | "user_id" => Field::User,
        _ => return None,
    })
}
