//! One span as Skein stores it: the OTLP span normalised, plus what the dashboard derives from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a span does, derived from `openinference.span.kind`, `gen_ai.operation.name`,
/// `langsmith.span.kind`, LangSmith's `run_type` or, failing those, the OTel span kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SpanType {
    Agent,
    Llm,
    Tool,
    Chain,
    Retriever,
    Embedding,
    Reranker,
    Guardrail,
    Evaluator,
    Http,
    Db,
    #[default]
    Internal,
    /// A prompt template being filled (OpenInference `PROMPT`, LangSmith `prompt` runs).
    Prompt,
}

impl SpanType {
    /// Every type, in the order of their stored codes (`code`): a new type goes last.
    pub const ALL: [SpanType; 13] = [
        SpanType::Agent,
        SpanType::Llm,
        SpanType::Tool,
        SpanType::Chain,
        SpanType::Retriever,
        SpanType::Embedding,
        SpanType::Reranker,
        SpanType::Guardrail,
        SpanType::Evaluator,
        SpanType::Http,
        SpanType::Db,
        SpanType::Internal,
        SpanType::Prompt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SpanType::Agent => "agent",
            SpanType::Llm => "llm",
            SpanType::Tool => "tool",
            SpanType::Chain => "chain",
            SpanType::Retriever => "retriever",
            SpanType::Embedding => "embedding",
            SpanType::Reranker => "reranker",
            SpanType::Guardrail => "guardrail",
            SpanType::Evaluator => "evaluator",
            SpanType::Http => "http",
            SpanType::Db => "db",
            SpanType::Internal => "internal",
            SpanType::Prompt => "prompt",
        }
    }

    /// Parses the names used by OpenInference (`LLM`, `AGENT`…), LangSmith (`llm`, `chain`,
    /// `prompt`, `parser`…) and Skein itself; unknown names give `None`.
    pub fn parse(name: &str) -> Option<SpanType> {
        let lower = name.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "agent" => SpanType::Agent,
            "llm" | "chat" | "text_completion" | "generate_content" | "completion" => SpanType::Llm,
            "tool" | "execute_tool" => SpanType::Tool,
            "chain" | "parser" | "workflow" => SpanType::Chain,
            "prompt" => SpanType::Prompt,
            "retriever" | "retrieval" => SpanType::Retriever,
            "embedding" | "embeddings" => SpanType::Embedding,
            "reranker" => SpanType::Reranker,
            "guardrail" => SpanType::Guardrail,
            "evaluator" => SpanType::Evaluator,
            "http" => SpanType::Http,
            "db" => SpanType::Db,
            "internal" | "unknown" => SpanType::Internal,
            _ => return None,
        })
    }

    /// A compact code for the skeleton wire format (`SkeletonSpan::kind`).
    pub fn code(self) -> u8 {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(11) as u8
    }

    pub fn from_code(code: u8) -> SpanType {
        Self::ALL.get(code as usize).copied().unwrap_or_default()
    }
}

/// The OTel span kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    #[default]
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    /// From the OTLP enum value (0 unspecified and 1 internal both map to `Internal`).
    pub fn from_otlp(value: i32) -> SpanKind {
        match value {
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Internal,
        }
    }

    /// The OTLP enum value, the compact code in the skeleton and the store (`Internal` is 1).
    pub fn code(self) -> u8 {
        match self {
            SpanKind::Internal => 1,
            SpanKind::Server => 2,
            SpanKind::Client => 3,
            SpanKind::Producer => 4,
            SpanKind::Consumer => 5,
        }
    }

    pub fn from_code(code: u8) -> SpanKind {
        Self::from_otlp(i32::from(code))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }

    pub fn parse(name: &str) -> SpanKind {
        match name {
            "server" => SpanKind::Server,
            "client" => SpanKind::Client,
            "producer" => SpanKind::Producer,
            "consumer" => SpanKind::Consumer,
            _ => SpanKind::Internal,
        }
    }
}

/// The OTel status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SpanStatus {
    #[default]
    Unset,
    Ok,
    Error,
}

impl SpanStatus {
    pub fn from_otlp(code: i32) -> SpanStatus {
        match code {
            1 => SpanStatus::Ok,
            2 => SpanStatus::Error,
            _ => SpanStatus::Unset,
        }
    }

    pub fn code(self) -> u8 {
        match self {
            SpanStatus::Unset => 0,
            SpanStatus::Ok => 1,
            SpanStatus::Error => 2,
        }
    }

    pub fn from_code(code: u8) -> SpanStatus {
        Self::from_otlp(code as i32)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SpanStatus::Unset => "unset",
            SpanStatus::Ok => "ok",
            SpanStatus::Error => "error",
        }
    }

    pub fn is_error(self) -> bool {
        self == SpanStatus::Error
    }
}

/// A timestamped event on a span (an exception is an event named `exception`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent {
    pub name: String,
    pub time_ns: i64,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// A link from this span to a span of (usually) another trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanLink {
    pub trace_id: String,
    pub span_id: String,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// A span, complete: what ingest produces, what the store keeps and what
/// `GET /api/v1/traces/{trace_id}/spans/{span_id}` returns.
///
/// Ids are lowercase hex (32 characters for a trace, 16 for a span); times are Unix nanoseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Span {
    pub project: String,
    pub trace_id: String,
    pub span_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: SpanKind,
    pub span_type: SpanType,
    pub service: String,
    pub start_ns: i64,
    pub end_ns: i64,
    pub status: SpanStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// The span's input as text: plain text, or JSON (chat messages, tool arguments) as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Metadata tags (`env`, `version`, `ab_test_variant`, any key), values as text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Free-form labels (`tag.tags`, `langsmith.span.tags`, LangSmith `tags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub resource: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<SpanEvent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<SpanLink>,
}

impl Span {
    pub fn duration_ns(&self) -> i64 {
        (self.end_ns - self.start_ns).max(0)
    }

    pub fn total_tokens(&self) -> Option<i64> {
        match (self.input_tokens, self.output_tokens) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        }
    }
}

/// True for a lowercase-hex id of `len` characters that is not all zeros (OTLP's "invalid id").
pub fn is_valid_hex_id(id: &str, len: usize) -> bool {
    id.len() == len
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && id.bytes().any(|b| b != b'0')
}

/// Bytes as lowercase hex, as trace and span ids are written.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_type_codes_round_trip() {
        // Stored codes never move: the types known before `Prompt` keep theirs.
        assert_eq!(SpanType::Internal.code(), 11);
        assert_eq!(SpanType::Prompt.code(), 12);
        for t in SpanType::ALL {
            assert_eq!(SpanType::from_code(t.code()), t);
            assert_eq!(SpanType::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn span_type_parses_openinference_and_langsmith_names() {
        assert_eq!(SpanType::parse("LLM"), Some(SpanType::Llm));
        assert_eq!(SpanType::parse("AGENT"), Some(SpanType::Agent));
        assert_eq!(SpanType::parse("execute_tool"), Some(SpanType::Tool));
        assert_eq!(SpanType::parse("prompt"), Some(SpanType::Prompt));
        assert_eq!(SpanType::parse("PROMPT"), Some(SpanType::Prompt));
        assert_eq!(SpanType::parse("EMBEDDING"), Some(SpanType::Embedding));
        assert_eq!(SpanType::parse("RERANKER"), Some(SpanType::Reranker));
        assert_eq!(SpanType::parse("GUARDRAIL"), Some(SpanType::Guardrail));
        assert_eq!(SpanType::parse("EVALUATOR"), Some(SpanType::Evaluator));
        assert_eq!(SpanType::parse("parser"), Some(SpanType::Chain));
        assert_eq!(SpanType::parse("something_else"), None);
    }

    #[test]
    fn hex_ids_are_checked() {
        assert!(is_valid_hex_id("36ab34dd62b95159", 16));
        assert!(!is_valid_hex_id("0000000000000000", 16));
        assert!(!is_valid_hex_id("36AB34DD62B95159", 16));
        assert!(!is_valid_hex_id("36ab34dd62b9515", 16));
    }

    #[test]
    fn empty_fields_are_left_out_of_json() {
        let span = Span {
            trace_id: "a".repeat(32),
            span_id: "b".repeat(16),
            name: "x".into(),
            ..Span::default()
        };
        let json = serde_json::to_value(&span).unwrap();
        assert!(json.get("tags").is_none());
        assert!(json.get("parent_span_id").is_none());
        assert_eq!(json["span_type"], "internal");
        let back: Span = serde_json::from_value(json).unwrap();
        assert_eq!(back, span);
    }
}
