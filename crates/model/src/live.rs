//! Live tail (`GET /api/v1/stream`): what a stream sends, and which new traces and spans it
//! sends. The collector reads the spans a store received after a cursor and asks these rules
//! which to announce; the dashboard reads the same event names and rows.
//!
//! - a `span` event is a new span passing the stream's `filter`, as its `SpanRow`;
//! - a `trace` event is a trace that got new spans, as its `TraceSummary` (the list's row),
//!   when its trace passes the trace list's query (`TraceQuery::admits`, and `filter` on any
//!   span of it the stream has seen).
//!
//! Every event's id is the receive cursor of its newest span: sent back as `Last-Event-ID`,
//! the stream resumes after it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::query::TraceQuery;
use crate::span::Span;
use crate::span_list::{row_tags, SpanRow};
use crate::trace::TraceSummary;
use crate::StatusFilter;

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

impl TraceQuery {
    /// Whether a trace's summary passes the query's conditions on the trace itself (time,
    /// root name, status, duration, session, user, tags), as the stores' list does at `now_ms`.
    /// `filter` (on the trace's spans) is not looked at here: the caller holds the spans.
    pub fn admits(&self, t: &TraceSummary, now_ms: i64) -> bool {
        let ms_to_ns = |ms: i64| ms.saturating_mul(1_000_000);
        if self
            .start_from_ms(now_ms)
            .is_some_and(|from| t.start_ns < ms_to_ns(from))
        {
            return false;
        }
        if self.to_ms.is_some_and(|to| t.start_ns >= ms_to_ns(to)) {
            return false;
        }
        if let Some(name) = &self.name {
            if !t.root_name.to_lowercase().contains(&name.to_lowercase()) {
                return false;
            }
        }
        match self.status {
            Some(StatusFilter::Error) if t.error_count == 0 => return false,
            Some(StatusFilter::Ok) if t.error_count > 0 => return false,
            _ => {}
        }
        let duration = t.duration_ns();
        if self
            .min_duration_ms
            .is_some_and(|ms| duration < (ms * 1e6) as i64)
            || self
                .max_duration_ms
                .is_some_and(|ms| duration > (ms * 1e6) as i64)
        {
            return false;
        }
        if self
            .session_id
            .as_ref()
            .is_some_and(|s| t.session_id.as_ref() != Some(s))
            || self
                .user_id
                .as_ref()
                .is_some_and(|u| t.user_id.as_ref() != Some(u))
        {
            return false;
        }
        self.tags
            .iter()
            .all(|tag| t.tags.get(&tag.key) == Some(&tag.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::{SpanStatus, SpanType};

    fn summary() -> TraceSummary {
        TraceSummary {
            trace_id: "a".repeat(32),
            root_name: "Checkout".into(),
            start_ns: 10_000_000_000,
            end_ns: 12_500_000_000,
            span_count: 3,
            error_count: 1,
            status: SpanStatus::Error,
            tags: [("env".to_string(), "prod".to_string())].into(),
            session_id: Some("s1".into()),
            ..TraceSummary::default()
        }
    }

    fn query(text: &str) -> TraceQuery {
        TraceQuery::from_query_string(text).expect("query")
    }

    #[test]
    fn trace_conditions_decide_on_the_summary() {
        let t = summary();
        let now = 20_000;
        assert!(query("").admits(&t, now));
        assert!(query("name=checkOUT&status=error&tag=env%3Dprod").admits(&t, now));
        assert!(!query("status=ok").admits(&t, now));
        assert!(!query("tag=env%3Dstaging").admits(&t, now));
        assert!(!query("name=refund").admits(&t, now));
        assert!(query("min_ms=2500").admits(&t, now));
        assert!(!query("min_ms=2501").admits(&t, now));
        assert!(!query("max_ms=2000").admits(&t, now));
        assert!(query("session=s1").admits(&t, now));
        assert!(!query("user=u1").admits(&t, now));
        assert!(!query("from=10001").admits(&t, now));
        assert!(query("from=10000&to=10001").admits(&t, now));
    }

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
