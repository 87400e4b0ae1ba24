//! The run query's `filter`, `trace_filter` and `tree_filter` (`POST /runs/query`), in Skein's
//! one filter language (`skein_model::filter`, LangSmith's grammar): the run ids the SDK
//! writes (UUIDs) are turned into the span and trace ids they are stored as, and each run is
//! decided on its span, its trace's root spans (`trace_filter`) and any span of its trace
//! (`tree_filter`), as LangSmith does.

use serde_json::{Map, Value};
use skein_model::filter::{self, Expr, Field, Op};
use skein_model::span::Span;
use skein_model::Feedback;

use super::ids;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Default)]
pub(super) struct RunFilters {
    pub filter: Option<Expr>,
    trace_filter: Option<Expr>,
    tree_filter: Option<Expr>,
}

/// A run UUID (or a span id as Skein writes it) as the span id it is stored as.
fn span_id_of(text: &str) -> Option<String> {
    Some(match ids::parse_uuid(text) {
        Some(u) => ids::synthetic_span(&u).unwrap_or_else(|| ids::span_hex(&u)),
        None => text.to_ascii_lowercase(),
    })
}

fn trace_id_of(text: &str) -> Option<String> {
    Some(match ids::parse_uuid(text) {
        Some(u) => ids::trace_hex(&u),
        None => text.to_ascii_lowercase(),
    })
}

fn parse(q: &Map<String, Value>, param: &str) -> ApiResult<Option<Expr>> {
    let Some(text) = q.get(param).and_then(Value::as_str) else {
        return Ok(None);
    };
    let expr = filter::parse(text).map_err(|e| ApiError::bad_filter(param, &e))?;
    Ok(expr.map(|e| {
        e.map_text(&Field::SpanId, &span_id_of)
            .map_text(&Field::ParentId, &span_id_of)
            .map_text(&Field::TraceId, &trace_id_of)
    }))
}

/// A text as a string of the filter language (which reads `\\`, `\"`, `\n` and `\t`).
fn filter_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn feedback_passes(records: &[Feedback], span: &Span, key: &str, score: Option<(Op, f64)>) -> bool {
    records.iter().any(|f| {
        f.run_id == span.span_id
            && f.key == key
            && score.is_none_or(|(op, v)| {
                f.score.is_some_and(|s| match op {
                    Op::Eq => s == v,
                    Op::Neq => s != v,
                    Op::Gt => s > v,
                    Op::Gte => s >= v,
                    Op::Lt => s < v,
                    Op::Lte => s <= v,
                })
            })
    })
}

impl RunFilters {
    pub fn parse(q: &Map<String, Value>) -> ApiResult<RunFilters> {
        Ok(RunFilters {
            filter: parse(q, "filter")?,
            trace_filter: parse(q, "trace_filter")?,
            tree_filter: parse(q, "tree_filter")?,
        })
    }

    /// A trace-list filter every trace holding a passing run passes (its texts searched for
    /// wherever all of them must be found), so that the store's text index narrows the traces
    /// read; `None` when the filters search for nothing that way.
    pub fn trace_narrowing(&self) -> Option<String> {
        let mut needles = Vec::new();
        for expr in [&self.filter, &self.trace_filter, &self.tree_filter]
            .into_iter()
            .flatten()
        {
            needles.extend(expr.required_searches());
        }
        let terms: Vec<String> = needles
            .into_iter()
            .map(|n| format!("search({})", filter_string(n)))
            .collect();
        match terms.len() {
            0 => None,
            1 => terms.into_iter().next(),
            _ => Some(format!("and({})", terms.join(", "))),
        }
    }

    /// Whether deciding needs the whole trace of a run, not the run alone.
    pub fn needs_trace(&self) -> bool {
        self.trace_filter.is_some() || self.tree_filter.is_some()
    }

    /// Whether deciding needs the trace's feedback.
    pub fn needs_feedback(&self) -> bool {
        [&self.filter, &self.trace_filter, &self.tree_filter]
            .into_iter()
            .flatten()
            .any(|e| e.any(&|x| matches!(x, Expr::Feedback { .. })))
    }

    /// Whether the run of `span` passes, `trace` being the spans of its trace read (all of
    /// them when `needs_trace`), `feedback` its trace's feedback (when `needs_feedback`).
    pub fn keep(&self, span: &Span, trace: &[Span], feedback: &[Feedback]) -> bool {
        let test = |s: &Span, key: &str, score| feedback_passes(feedback, s, key, score);
        let passes = |e: &Expr, s: &Span| filter::matches_with(e, s, &test);
        self.filter.as_ref().is_none_or(|e| passes(e, span))
            && self.trace_filter.as_ref().is_none_or(|e| {
                trace.iter().any(|s| {
                    s.trace_id == span.trace_id && s.parent_span_id.is_none() && passes(e, s)
                })
            })
            && self.tree_filter.as_ref().is_none_or(|e| {
                trace
                    .iter()
                    .any(|s| s.trace_id == span.trace_id && passes(e, s))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(pairs: &[(&str, &str)]) -> RunFilters {
        let q: Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        RunFilters::parse(&q).unwrap()
    }

    #[test]
    fn the_store_narrows_by_every_text_a_run_must_hold() {
        let f = filters(&[
            (
                "filter",
                r#"and(search("Refund \"now\""), eq(run_type, "llm"))"#,
            ),
            ("tree_filter", r#"search("c:\\tmp")"#),
        ]);
        let narrowing = f.trace_narrowing().unwrap();
        assert_eq!(
            narrowing,
            r#"and(search("refund \"now\""), search("c:\\tmp"))"#
        );
        // It reads back as the same searches.
        let expr = filter::parse(&narrowing).unwrap().unwrap();
        assert_eq!(expr.required_searches(), ["refund \"now\"", "c:\\tmp"]);
        // A search that a run may pass without (under or, not) narrows nothing.
        for filter in [
            r#"or(search("refund"), eq(name, "x"))"#,
            r#"not(search("refund"))"#,
            r#"eq(name, "x")"#,
        ] {
            assert_eq!(filters(&[("filter", filter)]).trace_narrowing(), None);
        }
    }
}
