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

/// The fewest characters a search across traces (`search("...")` in a filter) takes: the
/// stores' text indexes are built of three-character pieces, and a shorter text would have to
/// read every span.
pub const MIN_SEARCH_CHARS: usize = 3;

/// What separates the texts of a span in its `search_text`: a control character no query
/// holds (it is taken out of the texts themselves), so a match never spans two texts.
pub const SEARCH_SEPARATOR: char = '\u{1f}';

/// True when any text of the span contains `needle` (already lowercased).
pub fn span_contains(span: &Span, needle: &str) -> bool {
    search_text(span).contains(needle)
}

/// Every text of the span a search looks in, lowercased, separated by `SEARCH_SEPARATOR`: its
/// name, service, model, status message, input and output (and the strings their JSON
/// decodes to), tag values, labels, attribute values and events (names and attribute values).
/// What the stores index, and what `span_contains` reads: a span matches `needle` exactly when
/// this text contains it. A text met twice (an input that is also its `input.value`
/// attribute, a tag that is also an attribute) is written once: the index costs ingest what
/// the text's length does.
pub fn search_text(span: &Span) -> String {
    use std::hash::{BuildHasherDefault, Hash, Hasher};
    let mut out = String::with_capacity(256);
    let mut seen: std::collections::HashSet<u64, BuildHasherDefault<Prehashed>> =
        std::collections::HashSet::default();
    let mut push = |text: &str| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut hasher);
        if text.is_empty() || !seen.insert(hasher.finish()) {
            return;
        }
        if !out.is_empty() {
            out.push(SEARCH_SEPARATOR);
        }
        let start = out.len();
        if text.is_ascii() {
            // What `to_lowercase` gives, without a string of its own.
            out.push_str(text);
            out[start..].make_ascii_lowercase();
        } else {
            out.push_str(&text.to_lowercase());
        }
        if out[start..].contains(SEARCH_SEPARATOR) {
            let text = out[start..].replace(SEARCH_SEPARATOR, " ");
            out.truncate(start);
            out.push_str(&text);
        }
    };
    for text in [&span.name, &span.service] {
        push(text);
    }
    for text in [&span.model, &span.status_message].into_iter().flatten() {
        push(text);
    }
    for text in [&span.input, &span.output].into_iter().flatten() {
        push(text);
        json_strings(text, &mut push);
    }
    for text in span.tags.values().chain(&span.labels) {
        push(text);
    }
    for value in span.attributes.values() {
        value_texts(value, &mut push);
    }
    for event in &span.events {
        push(&event.name);
        for value in event.attributes.values() {
            value_texts(value, &mut push);
        }
    }
    out
}

/// A set's hasher for keys that are hashes already (a text's SipHash): the key as it is,
/// rather than hashed a second time.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The decoded strings of a JSON payload, where they differ from its text: a message reads
/// `café` or `"quoted"` where its JSON text has `caf\u00e9` or `\"quoted\"`. Without a
/// backslash, every string of the payload is already in its text as it decodes.
fn json_strings(text: &str, push: &mut impl FnMut(&str)) {
    let t = text.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) || !t.contains('\\') {
        return;
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(t) {
        value_texts(&value, push);
    }
}

/// Strings, numbers and flags anywhere in a JSON value, without recursion (values may nest
/// deep).
fn value_texts(value: &serde_json::Value, push: &mut impl FnMut(&str)) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) => push(s),
            serde_json::Value::Number(n) => push(&n.to_string()),
            serde_json::Value::Bool(b) => push(if *b { "true" } else { "false" }),
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(map) => stack.extend(map.values()),
            serde_json::Value::Null => {}
        }
    }
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
    fn a_text_met_twice_is_written_once() {
        let mut s = Span {
            name: "chat".into(),
            input: Some("Refund please".into()),
            ..Span::default()
        };
        s.attributes
            .insert("input.value".into(), serde_json::json!("Refund please"));
        s.tags.insert("topic".into(), "billing".into());
        s.attributes
            .insert("topic".into(), serde_json::json!("billing"));
        let text = search_text(&s);
        assert_eq!(text.matches("refund please").count(), 1, "{text:?}");
        assert_eq!(text.matches("billing").count(), 1, "{text:?}");
        assert!(span_contains(&s, "refund please") && span_contains(&s, "billing"));
    }

    #[test]
    fn a_match_never_spans_two_texts() {
        let s = Span {
            name: "Refund".into(),
            service: "desk".into(),
            ..Span::default()
        };
        assert!(span_contains(&s, "refund") && span_contains(&s, "desk"));
        assert!(!span_contains(&s, "ddesk"));
    }

    #[test]
    fn empty_and_overlong_queries_are_refused() {
        assert!(normalize_query("   ").is_err());
        assert!(normalize_query(&"x".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert_eq!(normalize_query("  Paris ").unwrap(), "paris");
    }
}
