//! `Store::compare_cohorts` on SQLite: each cohort's aggregates over the spans of the traces
//! its list filter selects (`list::trace_filter`); `mod.rs` reads the two cohorts at once on
//! two reader connections, then `skein_model::cohort::compare` makes the table.
//!
//! Per cohort, two statements in one read transaction: the traces' moments from their summary
//! rows, and one read of the cohort's spans from the covering index `spans_by_trace_extent`
//! (never the rows and their bodies), folded trace by trace by `skein_model::cohort_fold` into
//! the per-name aggregates: self time by the rule of `cohort::self_time_ns`, the per-trace sums
//! of a Welch test, and the exact p50/p95 of the durations. (Grouping in SQL read the spans
//! twice and sorted them three times; bench/README.md has the figures.)

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};
use skein_model::cohort::{CohortAggregates, NameAggregates, MAX_NAMES};
use skein_model::cohort_fold::{CohortFold, FoldSpan};
use skein_model::stats::Moments;
use skein_model::{SpanStatus, SpanType, TraceQuery};

use super::list::traces_in_order;
use crate::store::StoreResult;

/// One cohort's aggregates, in one read transaction (one snapshot).
pub(super) fn cohort(
    conn: &Connection,
    project: &str,
    q: &TraceQuery,
) -> StoreResult<CohortAggregates> {
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    super::span_list::trace_list_filter(q)?;
    let (from, filter, args) = traces_in_order(conn, project, q)?;
    let traces = format!("{from} WHERE {filter}");
    let mut aggregates = trace_moments(conn, &traces, &args)?;
    if aggregates.duration_ms.n > 0 {
        aggregates.names = names(conn, &from, &filter, &args)?;
    }
    Ok(aggregates)
}

fn moments(row: &rusqlite::Row<'_>, n: u64, at: usize) -> rusqlite::Result<Moments> {
    Ok(Moments::new(
        n,
        row.get::<_, Option<f64>>(at)?.unwrap_or(0.0),
        row.get::<_, Option<f64>>(at + 1)?.unwrap_or(0.0),
    ))
}

/// `traces`: the cohort's `FROM ... WHERE ...`.
fn trace_moments(
    conn: &Connection,
    traces: &str,
    args: &[SqlValue],
) -> StoreResult<CohortAggregates> {
    let sql = format!(
        "SELECT count(*), sum(d), sum(d * d), sum(tok), sum(tok * tok), sum(cost), \
         sum(cost * cost), sum(err), sum(err * err) FROM \
         (SELECT t.duration_ns / 1e6 AS d, CAST(t.input_tokens + t.output_tokens AS REAL) AS tok, \
          CAST(t.cost AS REAL) AS cost, CAST(t.error_count AS REAL) AS err \
          FROM {traces})"
    );
    Ok(conn.query_row(&sql, params_from_iter(args.iter()), |r| {
        let n = r.get::<_, i64>(0)?.max(0) as u64;
        Ok(CohortAggregates {
            duration_ms: moments(r, n, 1)?,
            tokens: moments(r, n, 3)?,
            cost: moments(r, n, 5)?,
            errors: moments(r, n, 7)?,
            names: Vec::new(),
        })
    })?)
}

/// Per span name, type and service: one pass over the cohort's spans folded by
/// `CohortFold`. `CROSS JOIN` keeps the traces the outer loop (each trace's spans read together
/// through `spans_by_trace`), which the fold needs: a trace's spans before the next trace's.
fn names(
    conn: &Connection,
    from: &str,
    filter: &str,
    args: &[SqlValue],
) -> StoreResult<Vec<NameAggregates>> {
    let sql = format!(
        "SELECT t.id, s.span_id, s.parent_span_id, s.name, s.span_type, s.service, s.start_ns, \
         s.end_ns, s.status, s.tokens, s.cost \
         FROM {from} CROSS JOIN spans s INDEXED BY spans_by_trace_extent ON s.trace = t.id \
         WHERE {filter}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args.iter()))?;
    let mut fold = CohortFold::new();
    let mut push = |r: &rusqlite::Row<'_>| -> rusqlite::Result<()> {
        let text =
            |i: usize| -> rusqlite::Result<Option<&[u8]>> { Ok(r.get_ref(i)?.as_bytes_or_null()?) };
        let span_type: u8 = r.get(4)?;
        let status: u8 = r.get(8)?;
        fold.push(
            r.get(0)?,
            FoldSpan {
                span_id: text(1)?.unwrap_or_default(),
                parent_span_id: text(2)?,
                name: text(3)?.unwrap_or_default(),
                span_type: SpanType::from_code(span_type),
                service: text(5)?.unwrap_or_default(),
                start_ns: r.get(6)?,
                end_ns: r.get(7)?,
                error: status == SpanStatus::Error.code(),
                tokens: r.get::<_, Option<i64>>(9)?.unwrap_or(0),
                cost: r.get::<_, Option<f64>>(10)?.unwrap_or(0.0),
            },
        );
        Ok(())
    };
    while let Some(r) = rows.next()? {
        push(r)?;
    }
    Ok(fold.finish(MAX_NAMES))
}
