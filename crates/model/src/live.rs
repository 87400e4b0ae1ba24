//! Live tail (`GET /api/v1/stream`): what a stream sends, and which new traces and spans it
//! sends. The collector reads the spans a store received after a cursor and asks these rules
//! which to announce; the dashboard reads the same event names and rows.
//!
//! - a `span` event is a new span passing the stream's `filter` (and whose trace passes its
//!   `trace_filter` and `tree_filter`), as its `SpanRow`;
//! - a `trace` event is a trace that got new spans, as its `TraceSummary` (the list's row),
//!   when the trace passes the trace list's query (the store decides, as for the list).
//!
//! Every event's id is the receive cursor of its newest span: sent back as `Last-Event-ID`,
//! the stream resumes after it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::span::Span;
use crate::span_list::{row_tags, SpanRow};

/// The SSE event name of a new trace (data: `TraceSummary`).
pub const TRACE_EVENT: &str = "trace";
/// The SSE event name of a new span (data: `SpanRow`).
pub const SPAN_EVENT: &str = "span";

/// `POST /api/v1/stream/ticket`: what opens a stream where the key cannot be sent (a browser's
/// EventSource): `?ticket=` with the same `project=`. None when Skein has no keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StreamTicket {
    pub ticket: Option<String>,
}

/// What a stream announces (`kind=traces|spans`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    #[default]
    Traces,
    Spans,
}

impl StreamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Traces => "traces",
            StreamKind::Spans => "spans",
        }
    }

    pub fn parse(text: &str) -> Option<StreamKind> {
        match text {
            "traces" | "trace" => Some(StreamKind::Traces),
            "spans" | "span" => Some(StreamKind::Spans),
            _ => None,
        }
    }
}

/// Puts `batch` (oldest first) at the top of `rows` (newest first): a row whose key comes
/// again moves up as its newest version; at most `cap` rows stay. Returns how many keys were
/// not in `rows` before (new rows, not updates).
pub fn merge_newest_first<T>(
    rows: &mut Vec<T>,
    batch: Vec<T>,
    key: impl Fn(&T) -> &str,
    cap: usize,
) -> usize {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut top: Vec<T> = Vec::with_capacity(batch.len() + rows.len());
    for item in batch.into_iter().rev() {
        if seen.insert(key(&item).to_string()) {
            top.push(item);
        }
    }
    let before = rows.len();
    rows.retain(|r| !seen.contains(key(r)));
    let fresh = seen.len() - (before - rows.len());
    top.append(rows);
    top.truncate(cap);
    *rows = top;
    fresh
}

impl SpanRow {
    /// A stored span as the span list shows it.
    pub fn of_span(span: &Span) -> SpanRow {
        SpanRow {
            trace_id: span.trace_id.clone(),
            span_id: span.span_id.clone(),
            parent_span_id: span.parent_span_id.clone(),
            name: span.name.clone(),
            span_type: span.span_type,
            service: span.service.clone(),
            model: span.model.clone().filter(|m| !m.is_empty()),
            start_ns: span.start_ns,
            duration_ns: span.duration_ns(),
            tokens: span.total_tokens().unwrap_or(0),
            cost: span.cost.filter(|c| c.is_finite()).unwrap_or(0.0),
            status: span.status,
            tags: row_tags(span.tags.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::SpanType;

    #[test]
    fn a_span_row_is_the_span_lists() {
        let span = Span {
            trace_id: "b".repeat(32),
            span_id: "c".repeat(16),
            name: "llm".into(),
            span_type: SpanType::Llm,
            start_ns: 5,
            end_ns: 15,
            input_tokens: Some(3),
            output_tokens: Some(4),
            model: Some(String::new()),
            ..Span::default()
        };
        let row = SpanRow::of_span(&span);
        assert_eq!(row.duration_ns, 10);
        assert_eq!(row.tokens, 7);
        assert_eq!(row.model, None);
        assert_eq!(row.span_type, SpanType::Llm);
    }

    #[test]
    fn a_batch_goes_on_top_newest_first_and_the_rows_stay_capped() {
        let mut rows = vec!["c", "b", "a"];
        let fresh = merge_newest_first(&mut rows, vec!["d", "b", "e", "d"], |s| s, 4);
        assert_eq!(fresh, 2, "d and e are new; b moved up");
        assert_eq!(rows, vec!["d", "e", "b", "c"]);
        let mut empty: Vec<&str> = Vec::new();
        assert_eq!(merge_newest_first(&mut empty, vec![], |s| s, 4), 0);
        assert!(empty.is_empty());
    }

    #[test]
    fn kinds_parse_both_spellings() {
        assert_eq!(StreamKind::parse("spans"), Some(StreamKind::Spans));
        assert_eq!(StreamKind::parse("traces"), Some(StreamKind::Traces));
        assert_eq!(StreamKind::parse("rows"), None);
    }
}
