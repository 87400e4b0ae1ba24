//! `Store::metrics` over spans (`over=spans`, `skein_model::metric_scope`) on SQLite: the
//! spans in scope (their start in the range, the span filter on the span row, tags and trace
//! conditions on its trace) streamed with their value and groups into the same accumulator as
//! the trace metrics. Spans are read through `spans_by_start` when the range is narrow,
//! else in rowid order.

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::Connection;
use skein_model::metric_fold::prepare;
use skein_model::metric_scope::span_filter;
use skein_model::metrics::{Metric, MetricQuery, MetricResponse, SpanGroup};
use skein_model::span::{SpanStatus, SpanType};

use super::list::trace_filter;
use super::metrics::{group_keys, tag_group, Scope};
use crate::store::{StoreError, StoreResult};

/// Nanoseconds per millisecond.
const MS_NS: i64 = 1_000_000;

pub(super) fn span_metrics(
    conn: &Connection,
    project: &str,
    q: &MetricQuery,
) -> StoreResult<MetricResponse> {
    let span_filter = span_filter(q).map_err(|e| StoreError::Invalid(e.0))?;
    let tx = conn.unchecked_transaction()?;
    // A span starts within its trace: at or after the trace's start, at or before its end.
    let (first, last): (Option<i64>, Option<i64>) = tx
        .prepare_cached(
            "SELECT min(start_ns), max(start_ns + duration_ns) FROM traces WHERE project = ?1",
        )?
        .query_row([project], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let (from_ms, to_ms, bucket_ms, mut acc) =
        prepare(q, first, last).map_err(|e| StoreError::Invalid(e.0))?;

    // Parameters in the order they are written: the value's (in the SELECT), then the joins'.
    let mut args: Vec<SqlValue> = Vec::new();
    let value = value_expr(&q.metric, &mut args);
    let (group, join) = span_group(q.group_by.as_deref(), "g", &mut args);
    let (then, then_join) = span_group(q.then_by.as_deref(), "g2", &mut args);
    let (trace_conditions, trace_args) = trace_filter(project, &q.scope(None, None));
    args.extend(trace_args);
    let mut filter = format!("{trace_conditions} AND s.start_ns >= ? AND s.start_ns < ?");
    args.push(from_ms.saturating_mul(MS_NS).into());
    args.push(to_ms.saturating_mul(MS_NS).into());
    if let Some(expr) = &span_filter {
        let (condition, condition_args) = super::span_list::span_condition(expr, "s")
            .map_err(|e| StoreError::Invalid(format!("filter: {e}")))?;
        filter.push_str(&format!(" AND ({condition})"));
        args.extend(condition_args);
    }
    // The trace twice: `t` for the trace conditions, `st` for the span filter's fields.
    let scope = Scope {
        sql: format!(
            "SELECT {group}, {then}, s.start_ns, {value} FROM spans s \
             JOIN traces t ON t.id = s.trace JOIN traces st ON st.id = s.trace \
             LEFT JOIN span_facts sf ON sf.span = s.id{join}{then_join} WHERE {filter}"
        ),
        args,
    };
    let mut bufs = [Vec::new(), Vec::new()];
    scope.for_each(&tx, |row| {
        let value = match row.column {
            ValueRef::Real(v) => v,
            ValueRef::Integer(v) => v as f64,
            _ => return,
        };
        let (group, then) = group_keys(&row, &mut bufs);
        acc.add_pair(group, then, row.start_ns, value);
    })?;
    Ok(acc.response(q, from_ms, to_ms, bucket_ms))
}

/// The column (and join) of a span's group: a span field, or its trace's tag.
fn span_group(key: Option<&str>, alias: &str, args: &mut Vec<SqlValue>) -> (String, String) {
    let column = match key.map(SpanGroup::of) {
        None | Some(SpanGroup::Tag(_)) => return tag_group(key, alias, args),
        Some(SpanGroup::Name) => "s.name".to_string(),
        Some(SpanGroup::Service) => "s.service".to_string(),
        Some(SpanGroup::Model) => "nullif(sf.model, '')".to_string(),
        Some(SpanGroup::Type) => {
            let whens: String = SpanType::ALL
                .iter()
                .map(|t| format!(" WHEN {} THEN '{}'", t.code(), t.as_str()))
                .collect();
            format!("CASE s.span_type{whens} END")
        }
    };
    (column, String::new())
}

/// A span's value, REAL; NULL (the span left out) for an attribute it has no number under.
fn value_expr(metric: &Metric, args: &mut Vec<SqlValue>) -> String {
    match metric {
        Metric::Count => "1.0".into(),
        Metric::ErrorRate => format!(
            "CASE WHEN s.status = {} THEN 1.0 ELSE 0.0 END",
            SpanStatus::Error.code()
        ),
        Metric::LatencyP50 | Metric::LatencyP95 | Metric::LatencyMean => {
            "max(s.end_ns - s.start_ns, 0) / 1e6".into()
        }
        Metric::InputTokens => "CAST(ifnull(sf.input_tokens, 0) AS REAL)".into(),
        Metric::OutputTokens => "CAST(ifnull(sf.output_tokens, 0) AS REAL)".into(),
        Metric::TotalTokens => "CAST(s.tokens AS REAL)".into(),
        Metric::Cost => "CAST(s.cost AS REAL)".into(),
        Metric::Attr(key) => {
            args.push(key.clone().into());
            "(SELECT CAST(j.value AS REAL) FROM json_each(skein_text(sf.attr_nums)) j WHERE j.key = ?)".into()
        }
        // Refused by the query's parser (`Over::check`).
        Metric::Feedback(_) => "NULL".into(),
    }
}
