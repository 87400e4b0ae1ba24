//! Which of a span's tags can become its trace's tags, and which spans' usage a trace counts.
//!
//! A trace's tags are the metadata its user gave it: the tags of the span that speaks for the
//! trace (its root; without one, as when the root lives in a service that does not send to
//! Skein, its earliest span), which carry the root's attributes or metadata, its resource's
//! metadata and what an SDK stamps on every run (LangSmith copies a run's metadata into every
//! child). Keys that instrumentation adds for itself (LangGraph's step and node, a checkpoint
//! namespace, Logfire's message template, a model's structured output…) never become trace
//! tags, whichever span carries them: they stay on their spans.

use crate::span::SpanType;

/// Key prefixes instrumentation libraries use for their own bookkeeping.
const INTERNAL_PREFIXES: &[&str] = &[
    // Leading underscores: private by convention (`_type` from LangChain's invocation params).
    "_",
    // LangGraph / LangChain run bookkeeping.
    "langgraph_",
    "checkpoint_",
    "lc_",
    "ls_",
    "LANGSMITH_",
    "LANGCHAIN_",
    // Logfire and pydantic-ai.
    "logfire.",
    "pydantic_ai.",
    // Other frameworks' and SDKs' own namespaces (their user metadata is read out of them
    // into plain keys at ingest: Traceloop's association properties, Langfuse's metadata).
    "traceloop.",
    "langfuse.",
    "mlflow.",
    "smolagents.",
    "haystack.",
    "crewai.",
    // Semantic conventions that describe the span, never the user's metadata.
    "gen_ai.",
    "llm.",
    "openinference.",
    "langsmith.",
    "input.",
    "output.",
    "otel.",
    "telemetry.",
    "code.",
    "thread.",
    "exception.",
];

/// Keys instrumentation libraries stamp on spans for themselves.
const INTERNAL_KEYS: &[&str] = &[
    // pydantic-ai's agent run span.
    "final_result",
    "model_name",
    "model_request_parameters",
    "all_messages_events",
    "agent_name",
    // LangGraph / LangChain.
    "checkpoint_ns",
    "checkpoint_id",
    "langgraph_checkpoint_ns",
    "run_attempt",
];

/// Whether `key` is instrumentation's own bookkeeping rather than a user's metadata: such a
/// key stays on its span and never becomes a trace tag.
pub fn is_internal_key(key: &str) -> bool {
    INTERNAL_KEYS.contains(&key) || INTERNAL_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// `INTERNAL_PREFIXES` and `INTERNAL_KEYS`, for an engine that filters keys in SQL.
pub fn internal_prefixes() -> &'static [&'static str] {
    INTERNAL_PREFIXES
}

pub fn internal_keys() -> &'static [&'static str] {
    INTERNAL_KEYS
}

/// Whether a span of this type is a model call, where usage is counted: a trace counts the
/// usage of its model calls and, only when none of them reports any, the usage its other spans
/// report (an agent or chain that repeats its model calls' usage would otherwise count it twice).
pub fn is_model_call(span_type: SpanType) -> bool {
    matches!(
        span_type,
        SpanType::Llm | SpanType::Embedding | SpanType::Reranker
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instrumentation_keys_are_internal_and_user_metadata_is_not() {
        for key in [
            "_type",
            "checkpoint_ns",
            "langgraph_node",
            "langgraph_step",
            "logfire.msg",
            "logfire.json_schema",
            "final_result",
            "ls_provider",
            "gen_ai.system",
            "llm.model_name",
            "openinference.span.kind",
            "traceloop.entity.name",
            "langfuse.observation.type",
        ] {
            assert!(is_internal_key(key), "{key}");
        }
        for key in [
            "env",
            "ab_test_variant",
            "deployment.environment",
            "service.version",
            "thread_id",
            "revision_id",
            "version",
            "customer",
        ] {
            assert!(!is_internal_key(key), "{key}");
        }
    }

    #[test]
    fn model_calls_are_llm_embedding_and_reranker_spans() {
        let model: Vec<SpanType> = SpanType::ALL
            .into_iter()
            .filter(|t| is_model_call(*t))
            .collect();
        assert_eq!(
            model,
            vec![SpanType::Llm, SpanType::Embedding, SpanType::Reranker]
        );
    }
}
