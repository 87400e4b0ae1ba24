//! What Skein derives from a span's attributes, whatever convention the client follows:
//! OTel GenAI (`gen_ai.*`), OpenInference (`openinference.*`, `llm.*`, `input.value`…),
//! LangSmith's OTel mode (`langsmith.*`), and plain metadata attributes (`env`, `version`…).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use skein_model::payload::span_io;
use skein_model::span::{SpanKind, SpanType};

/// Longest tag key and value kept; longer ones are not tags (they stay attributes).
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;
const MAX_TAGS: usize = 64;

/// Attribute namespaces that describe the span itself rather than user metadata; they are
/// never turned into tags.
const RESERVED_PREFIXES: &[&str] = &[
    "gen_ai.",
    "llm.",
    "input.",
    "output.",
    "openinference.",
    "langsmith.",
    "http.",
    "url.",
    "server.",
    "client.",
    "network.",
    "net.",
    "db.",
    "rpc.",
    "messaging.",
    "exception.",
    "code.",
    "thread.",
    "otel.",
    "telemetry.",
    "process.",
    "host.",
    "os.",
    "container.",
    "k8s.",
    "cloud.",
    "user_agent.",
    "error.",
    "session.",
    "user.",
    "enduser.",
    "tag.",
    "retrieval.",
    "embedding.",
    "document.",
    "reranker.",
    "tool.",
    "tool_call.",
    "agent.",
    "graph.",
    "prompt.",
    "message.",
    "service.",
    "skein.",
    "webengine.",
    "device.",
    "browser.",
];

/// Attribute prefixes under which an SDK sends its user's metadata, one key each: the rest
/// of the key is the tag's (Traceloop's association properties, Langfuse's metadata).
const METADATA_PREFIXES: &[&str] = &[
    "langsmith.metadata.",
    "metadata.",
    "traceloop.association.properties.",
    "langfuse.trace.metadata.",
    "langfuse.observation.metadata.",
];

/// Resource attributes that are user metadata despite a reserved namespace.
const RESOURCE_TAG_KEYS: &[&str] = &[
    "deployment.environment",
    "deployment.environment.name",
    "service.version",
    "service.namespace",
];

/// Everything derived from one span's attributes.
#[derive(Debug, Default, PartialEq)]
pub struct Derived {
    pub span_type: SpanType,
    pub model: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost: Option<f64>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub labels: Vec<String>,
}

/// Derives the dashboard's fields from a span's attributes and its resource's attributes.
pub fn derive(
    name: &str,
    kind: SpanKind,
    attrs: &Map<String, Value>,
    resource: &Map<String, Value>,
) -> Derived {
    let tags = tags(attrs, resource);
    Derived {
        span_type: span_type(name, kind, attrs),
        model: first_str(
            attrs,
            &[
                "gen_ai.response.model",
                "gen_ai.request.model",
                "llm.model_name",
                "langsmith.metadata.ls_model_name",
            ],
        ),
        input_tokens: first_int(
            attrs,
            &[
                "gen_ai.usage.input_tokens",
                "gen_ai.usage.prompt_tokens",
                "llm.token_count.prompt",
            ],
        ),
        output_tokens: first_int(
            attrs,
            &[
                "gen_ai.usage.output_tokens",
                "gen_ai.usage.completion_tokens",
                "llm.token_count.completion",
            ],
        ),
        cost: first_f64(attrs, &["llm.cost.total", "gen_ai.usage.cost", "cost"]),
        input: span_io::input(attrs),
        output: span_io::output(attrs),
        session_id: first_str(
            attrs,
            &[
                "session.id",
                "gen_ai.conversation.id",
                "langsmith.metadata.session_id",
                "langsmith.metadata.thread_id",
                "langsmith.metadata.conversation_id",
            ],
        )
        .or_else(|| {
            ["session_id", "thread_id", "conversation_id"]
                .iter()
                .find_map(|k| tags.get(*k).cloned())
        })
        .or_else(|| first_str(resource, &["session.id"])),
        user_id: first_str(
            attrs,
            &["user.id", "enduser.id", "langsmith.metadata.user_id"],
        )
        .or_else(|| tags.get("user_id").cloned())
        .or_else(|| first_str(resource, &["user.id", "enduser.id"])),
        labels: labels(attrs),
        tags,
    }
}

fn span_type(name: &str, kind: SpanKind, attrs: &Map<String, Value>) -> SpanType {
    for key in [
        "openinference.span.kind",
        "langsmith.span.kind",
        "traceloop.span.kind",
    ] {
        if let Some(t) = attrs
            .get(key)
            .and_then(Value::as_str)
            .and_then(SpanType::parse)
        {
            return t;
        }
    }
    if let Some(op) = attrs.get("gen_ai.operation.name").and_then(Value::as_str) {
        match op {
            "invoke_agent" | "create_agent" => return SpanType::Agent,
            other => {
                if let Some(t) = SpanType::parse(other) {
                    return t;
                }
            }
        }
    }
    if attrs.contains_key("gen_ai.agent.name") && !attrs.contains_key("gen_ai.tool.name") {
        return SpanType::Agent;
    }
    if attrs.contains_key("gen_ai.tool.name") {
        return SpanType::Tool;
    }
    if attrs.contains_key("db.system") || attrs.contains_key("db.system.name") {
        return SpanType::Db;
    }
    let http = attrs.keys().any(|k| {
        k == "http.method" || k == "http.request.method" || k == "http.route" || k == "url.full"
    });
    if http && matches!(kind, SpanKind::Server | SpanKind::Client) {
        return SpanType::Http;
    }
    // Plainly instrumented agents (`main_agent`, `planning_agent`) say what they are in their name.
    if name.to_ascii_lowercase().ends_with("agent") {
        return SpanType::Agent;
    }
    if matches!(kind, SpanKind::Server | SpanKind::Client) {
        return SpanType::Http;
    }
    SpanType::Internal
}

fn tags(attrs: &Map<String, Value>, resource: &Map<String, Value>) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    let put = |key: &str, value: &Value, tags: &mut BTreeMap<String, String>| {
        if tags.len() >= MAX_TAGS || key.is_empty() || key.len() > MAX_TAG_KEY {
            return;
        }
        if let Some(text) = scalar_text(value) {
            if text.len() <= MAX_TAG_VALUE {
                tags.insert(key.to_string(), text);
            }
        }
    };
    // Resource first, so span-level values win.
    for (k, v) in resource {
        if RESOURCE_TAG_KEYS.contains(&k.as_str()) || !is_reserved(k) {
            put(k, v, &mut tags);
        }
    }
    for (k, v) in attrs {
        if let Some(meta_key) = METADATA_PREFIXES.iter().find_map(|p| k.strip_prefix(p)) {
            put(meta_key, v, &mut tags);
        } else if k == "metadata" {
            // OpenInference sends metadata as a JSON object in a string.
            let parsed;
            let object = match v {
                Value::String(s) => {
                    parsed = serde_json::from_str::<Value>(s).ok();
                    parsed.as_ref().and_then(Value::as_object)
                }
                Value::Object(o) => Some(o),
                _ => None,
            };
            for (mk, mv) in object.into_iter().flatten() {
                put(mk, mv, &mut tags);
            }
        } else if !is_reserved(k) {
            put(k, v, &mut tags);
        }
    }
    tags
}

fn is_reserved(key: &str) -> bool {
    RESERVED_PREFIXES.iter().any(|p| key.starts_with(p))
}

fn labels(attrs: &Map<String, Value>) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for key in ["tag.tags", "langsmith.span.tags"] {
        match attrs.get(key) {
            Some(Value::Array(items)) => labels.extend(items.iter().filter_map(scalar_text)),
            Some(Value::String(s)) => {
                // A JSON list in a string, or comma-joined.
                match serde_json::from_str::<Vec<String>>(s) {
                    Ok(list) => labels.extend(list),
                    Err(_) => labels.extend(
                        s.split(',')
                            .map(str::trim)
                            .filter(|t| !t.is_empty())
                            .map(String::from),
                    ),
                }
            }
            _ => {}
        }
    }
    labels.dedup();
    labels.truncate(MAX_TAGS);
    labels
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn first_str(attrs: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| attrs.get(*k).and_then(scalar_text))
        .filter(|s| !s.is_empty())
}

fn first_int(attrs: &Map<String, Value>, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|k| match attrs.get(*k)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn first_f64(attrs: &Map<String, Value>, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|k| match attrs.get(*k)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn openinference_span_from_the_python_capture() {
        let attrs = map(json!({
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "main_agent",
            "openinference.span.kind": "AGENT",
            "input.value": "What is the weather?",
            "session.id": "thread-otel-1",
            "metadata": "{\"env\": \"production\", \"version\": \"v2.1.0\", \"experiment\": \"improved_prompts_v3\", \"ab_test_variant\": \"B\"}",
            "tag.tags": ["agent:main", "prod"],
            "output.value": "final answer"
        }));
        let resource = map(json!({
            "telemetry.sdk.language": "python",
            "service.name": "service-a",
            "service.instance.id": "7dfbbe1c",
            "deployment.environment": "production"
        }));
        let d = derive("main_agent", SpanKind::Internal, &attrs, &resource);
        assert_eq!(d.span_type, SpanType::Agent);
        assert_eq!(d.input.as_deref(), Some("What is the weather?"));
        assert_eq!(d.output.as_deref(), Some("final answer"));
        assert_eq!(d.session_id.as_deref(), Some("thread-otel-1"));
        assert_eq!(d.labels, vec!["agent:main", "prod"]);
        assert_eq!(d.tags["ab_test_variant"], "B");
        assert_eq!(d.tags["version"], "v2.1.0");
        assert_eq!(d.tags["deployment.environment"], "production");
        assert!(!d.tags.contains_key("service.instance.id"));
        assert!(!d.tags.contains_key("telemetry.sdk.language"));
        assert!(!d.tags.contains_key("input.value"));
    }

    #[test]
    fn genai_llm_span_with_tokens_and_plain_metadata() {
        let attrs = map(json!({
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 120,
            "gen_ai.usage.output_tokens": "45",
            "llm.cost.total": 0.0012,
            "env": "staging",
            "user_tier": "premium",
            "request_sequence": 3,
            "user.id": "user_42",
            "gen_ai.input.messages": [{"role": "user", "content": "hi"}]
        }));
        let d = derive("chat gpt-4o-mini", SpanKind::Client, &attrs, &Map::new());
        assert_eq!(d.span_type, SpanType::Llm);
        assert_eq!(d.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(d.input_tokens, Some(120));
        assert_eq!(d.output_tokens, Some(45));
        assert_eq!(d.cost, Some(0.0012));
        assert_eq!(d.user_id.as_deref(), Some("user_42"));
        assert_eq!(d.tags["env"], "staging");
        assert_eq!(d.tags["request_sequence"], "3");
        assert!(d.input.unwrap().contains("\"role\":\"user\""));
    }

    #[test]
    fn langsmith_otel_metadata_and_tags() {
        let attrs = map(json!({
            "langsmith.span.kind": "llm",
            "langsmith.metadata.ab_test_variant": "A",
            "langsmith.metadata.session_id": "s-1",
            "langsmith.span.tags": "alpha,beta"
        }));
        let d = derive("call", SpanKind::Internal, &attrs, &Map::new());
        assert_eq!(d.span_type, SpanType::Llm);
        assert_eq!(d.tags["ab_test_variant"], "A");
        assert_eq!(d.session_id.as_deref(), Some("s-1"));
        assert_eq!(d.labels, vec!["alpha", "beta"]);
    }

    #[test]
    fn http_and_fallback_types() {
        let attrs = map(json!({"http.request.method": "GET"}));
        assert_eq!(
            derive("GET /search", SpanKind::Server, &attrs, &Map::new()).span_type,
            SpanType::Http
        );
        assert_eq!(
            derive(
                "planning_agent",
                SpanKind::Internal,
                &Map::new(),
                &Map::new()
            )
            .span_type,
            SpanType::Agent
        );
        assert_eq!(
            derive("compute", SpanKind::Internal, &Map::new(), &Map::new()).span_type,
            SpanType::Internal
        );
    }

    #[test]
    fn traceloop_and_langfuse_metadata_are_tags_under_their_own_keys() {
        let attrs = map(json!({
            "traceloop.span.kind": "workflow",
            "traceloop.association.properties.customer": "acme",
            "langfuse.trace.metadata.env": "production",
            "traceloop.entity.name": "qa"
        }));
        let d = derive("qa.workflow", SpanKind::Internal, &attrs, &Map::new());
        assert_eq!(d.span_type, SpanType::Chain);
        assert_eq!(d.tags["customer"], "acme");
        assert_eq!(d.tags["env"], "production");
    }

    #[test]
    fn every_openinference_kind_has_its_own_type() {
        for (kind, expected) in [
            ("PROMPT", SpanType::Prompt),
            ("EMBEDDING", SpanType::Embedding),
            ("RERANKER", SpanType::Reranker),
            ("GUARDRAIL", SpanType::Guardrail),
            ("EVALUATOR", SpanType::Evaluator),
            ("RETRIEVER", SpanType::Retriever),
            ("CHAIN", SpanType::Chain),
        ] {
            let attrs = map(json!({"openinference.span.kind": kind}));
            let d = derive("step", SpanKind::Internal, &attrs, &Map::new());
            assert_eq!(d.span_type, expected, "{kind}");
        }
    }

    #[test]
    fn oversized_values_are_not_tags() {
        let attrs = map(json!({"note": "x".repeat(MAX_TAG_VALUE + 1), "obj": {"a": 1}}));
        let d = derive("n", SpanKind::Internal, &attrs, &Map::new());
        assert!(d.tags.is_empty(), "{:?}", d.tags);
    }
}
