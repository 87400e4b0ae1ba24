//! Find in a trace by any text a span holds: `GET /api/v1/traces/{id}/search?q=` answers with
//! the ids of the spans whose name, service, input, output, model, status message, tags,
//! labels, or any attribute or event attribute value contains the query (case-insensitive).
//! The trace page adds them to what it finds locally in names and services.

use serde::{Deserialize, Serialize};

use crate::span::Span;

/// The longest query accepted (characters).
pub const MAX_QUERY_CHARS: usize = 200;

/// `GET /api/v1/traces/{trace_id}/search?q=`: the matching spans, in the trace's stored order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TraceSearch {
    pub query: String,
    pub span_ids: Vec<String>,
}

/// The query as searched (trimmed, lowercased), or why it cannot be.
pub fn normalize_query(raw: &str) -> Result<String, String> {
    let q = raw.trim();
    if q.is_empty() {
        return Err("q is empty: give the text to find".to_string());
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(format!("q is longer than {MAX_QUERY_CHARS} characters"));
    }
    Ok(q.to_lowercase())
}

/// True when any text of the span contains `needle` (already lowercased).
pub fn span_contains(span: &Span, needle: &str) -> bool {
    let has = |text: &str| text.to_lowercase().contains(needle);
    [&span.name, &span.service].into_iter().any(|t| has(t))
        || [&span.model, &span.status_message]
            .into_iter()
            .flatten()
            .any(|t| has(t))
        || [&span.input, &span.output]
            .into_iter()
            .flatten()
            .any(|t| has(t) || json_text_contains(t, needle))
        || span.tags.values().any(|t| has(t))
        || span.labels.iter().any(|t| has(t))
        || span.attributes.values().any(|v| value_contains(v, needle))
        || span
            .events
            .iter()
            .any(|e| has(&e.name) || e.attributes.values().any(|v| value_contains(v, needle)))
}

/// Whether a JSON payload's decoded strings contain the needle: a message reads `café` or
/// `"quoted"` where its JSON text has `caf\u00e9` or `\"quoted\"`.
fn json_text_contains(text: &str, needle: &str) -> bool {
    let t = text.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return false;
    }
    serde_json::from_str::<serde_json::Value>(t).is_ok_and(|v| value_contains(&v, needle))
}

/// Strings and numbers anywhere in a JSON value, without recursion (values may nest deep).
fn value_contains(value: &serde_json::Value, needle: &str) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) => {
                if s.to_lowercase().contains(needle) {
                    return true;
                }
            }
            serde_json::Value::Number(n) => {
                if n.to_string().contains(needle) {
                    return true;
                }
            }
            serde_json::Value::Bool(b) => {
                if b.to_string() == needle {
                    return true;
                }
            }
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(map) => stack.extend(map.values()),
            serde_json::Value::Null => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::SpanEvent;

    fn span() -> Span {
        let mut s = Span {
            name: "chat".into(),
            service: "agents".into(),
            input: Some("What is the Capital of France?".into()),
            ..Span::default()
        };
        s.attributes.insert(
            "retrieval.documents".into(),
            serde_json::json!([{"document": {"content": "Paris is lovely", "score": 0.93}}]),
        );
        s.tags.insert("env".into(), "staging".into());
        s.events.push(SpanEvent {
            name: "exception".into(),
            time_ns: 0,
            attributes: serde_json::Map::from_iter([(
                "exception.message".to_string(),
                serde_json::json!("Rate limit reached"),
            )]),
        });
        s
    }

    #[test]
    fn finds_text_anywhere_in_the_span_ignoring_case() {
        let s = span();
        for q in [
            "capital of",
            "PARIS",
            "0.93",
            "stag",
            "rate limit",
            "chat",
            "agents",
        ] {
            let needle = normalize_query(q).unwrap();
            assert!(span_contains(&s, &needle), "{q}");
        }
        assert!(!span_contains(&s, &normalize_query("berlin").unwrap()));
    }

    #[test]
    fn finds_the_text_a_json_payload_escapes() {
        let s = Span {
            output: Some(
                r#"{"messages":[{"role":"ai","content":"Caf\u00e9 \"Flore\" opens at 7"}]}"#.into(),
            ),
            ..Span::default()
        };
        for q in ["café", "\"flore\" opens"] {
            assert!(span_contains(&s, &normalize_query(q).unwrap()), "{q}");
        }
        assert!(!span_contains(&s, &normalize_query("closed").unwrap()));
    }

    #[test]
    fn empty_and_overlong_queries_are_refused() {
        assert!(normalize_query("   ").is_err());
        assert!(normalize_query(&"x".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert_eq!(normalize_query("  Paris ").unwrap(), "paris");
    }
}
