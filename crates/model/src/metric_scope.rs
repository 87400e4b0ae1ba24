//! What a metric measures: each trace (the default) or, with `over=spans`, each span — "LLM
//! latency p95 by model", "tool error rate by tool", any numeric span attribute.
//!
//! Over spans, a metric's parameters read as on the spans page: `filter` selects the spans
//! measured (`eq(type, "llm")`), `trace_filter`, `tree_filter` and `tag` select their traces,
//! `from`/`to` bound the span's start. The values are the span's duration (the latency
//! metrics), its tokens, cost and error (0 or 1), or `attr:<key>`, its attribute with that key
//! where it is a number. Groups are a span field (`span.name`, `span.type`, `span.model`,
//! `span.service`) or a tag of the span's trace (its value on the trace list), so that spans
//! group by the trace's variant as the trace metrics do.

use serde::{Deserialize, Serialize};

use crate::metrics::Metric;
use crate::query::QueryError;

/// What a metric's values are measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Over {
    #[default]
    Traces,
    Spans,
}

impl Over {
    pub fn as_str(self) -> &'static str {
        match self {
            Over::Traces => "traces",
            Over::Spans => "spans",
        }
    }

    pub fn parse(text: &str) -> Result<Over, QueryError> {
        match text.trim() {
            "traces" => Ok(Over::Traces),
            "spans" => Ok(Over::Spans),
            other => Err(QueryError::new(format!(
                "over must be traces or spans, not {other:?}"
            ))),
        }
    }

    pub fn is_traces(&self) -> bool {
        *self == Over::Traces
    }

    /// Refuses a metric that has no value on this unit: feedback is averaged per trace, an
    /// attribute belongs to a span.
    pub fn check(self, metric: &Metric) -> Result<(), QueryError> {
        match (self, metric) {
            (Over::Spans, Metric::Feedback(_)) => Err(QueryError::new(format!(
                "metric {metric} is a per-trace mean: over=spans takes count, error_rate, \
                 latency_*, *_tokens, cost or attr:<key>"
            ))),
            (Over::Traces, Metric::Attr(_)) => Err(QueryError::new(format!(
                "metric {metric} is a span attribute: add over=spans"
            ))),
            _ => Ok(()),
        }
    }
}

/// The span filter of a span metric (`filter`), parsed; an error names the parameter.
pub fn span_filter(
    q: &crate::metrics::MetricQuery,
) -> Result<Option<crate::filter::Expr>, QueryError> {
    match &q.filter {
        Some(text) => {
            crate::filter::parse(text).map_err(|e| QueryError::new(format!("filter: {e}")))
        }
        None => Ok(None),
    }
}

/// A span metric's group: a field of the span, or a tag of its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanGroup<'a> {
    Name,
    Type,
    Model,
    Service,
    Tag(&'a str),
}

impl<'a> SpanGroup<'a> {
    /// The span fields a span metric groups by, as `group_by` names them.
    pub const FIELDS: [&'static str; 4] = ["span.name", "span.type", "span.model", "span.service"];

    /// The group a `group_by` (or `then_by`) key names: `span.<field>`, else a trace tag.
    pub fn of(key: &'a str) -> SpanGroup<'a> {
        match key {
            "span.name" => SpanGroup::Name,
            "span.type" => SpanGroup::Type,
            "span.model" => SpanGroup::Model,
            "span.service" => SpanGroup::Service,
            tag => SpanGroup::Tag(tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricQuery;

    #[test]
    fn a_span_scope_round_trips_and_refuses_what_it_cannot_measure() {
        let text = "metric=attr%3Aretrieval.documents&over=spans&group_by=span.model\
                    &then_by=variant&filter=eq(type%2C%20%22llm%22)";
        let q = MetricQuery::from_query_string(text).unwrap();
        assert_eq!(q.over, Over::Spans);
        assert_eq!(q.metric, Metric::Attr("retrieval.documents".into()));
        assert_eq!(
            SpanGroup::of(q.group_by.as_deref().unwrap()),
            SpanGroup::Model
        );
        assert_eq!(SpanGroup::of("variant"), SpanGroup::Tag("variant"));
        assert_eq!(q.then_by.as_deref(), Some("variant"));
        assert_eq!(
            MetricQuery::from_query_string(&q.to_query_string()).unwrap(),
            q
        );
        // Over spans, `filter` is the spans', not the traces'.
        assert_eq!(q.scope(None, None).filter, None);
        assert_eq!(q.unit(), "");
        let count = MetricQuery::from_query_string("metric=count&over=spans").unwrap();
        assert_eq!(count.unit(), "spans");

        for (text, names) in [
            ("metric=attr%3Ax", "over=spans"),
            ("metric=feedback%3Ascore&over=spans", "per-trace"),
            ("metric=count&over=rows", "over"),
            ("metric=attr%3A", "metric"),
        ] {
            let err = MetricQuery::from_query_string(text).unwrap_err();
            assert!(err.0.contains(names), "{text}: {err}");
        }
    }
}
