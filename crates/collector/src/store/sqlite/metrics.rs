//! `Store::metrics` on SQLite, and the per-trace feedback summary of the trace list.
//!
//! SQL selects the traces in scope (time range and tag filters), joins each to its group (the
//! `group_by` tag's value) and computes its value; the collector streams those rows once, in a
//! read transaction, and aggregates them as they come: count, sum and sum of squares per group
//! and time bucket, and for value metrics (latency, tokens, cost, feedback) every value, sorted
//! per group afterwards for exact quantiles (numpy's "linear" rule, `stats::quantile_sorted`)
//! and exact histogram counts over shared bins — and for the latency p50/p95 metrics the exact
//! p50/p95 of every bucket. Only the aggregates leave the collector; the browser never gets
//! rows.
//!
//! Why the aggregation is not a SQL `GROUP BY`: SQLite has no hash aggregation, so grouping
//! by (tag value, bucket) pushes every row through its sorter. Measured on 1M traces (SQLite
//! 3.50.2, both cores shared with other builds): the `GROUP BY` query takes 2.4 s where
//! streaming the same rows takes 0.75 s and a hash map in Rust adds ~0.05 s; a window for
//! the quantiles would have been another 1.7 s. The rows never leave the process.
//!
//! Indexes: traces are read in rowid order (`traces.id`), which keeps the `trace_tags`
//! primary-key lookups (`trace_tags (trace, key)`) of the group and of the tag filters
//! sequential. The time
//! range goes through `traces_by_start` only when it selects a small part of the project's
//! time span (`INDEX_FRACTION`): over a wide range, the random primary-key lookups from that
//! index cost 5x the scan (5.8 s against 1.1 s for 1M traces). Feedback metrics first read the
//! key's per-trace count and sum of scores from `feedback_scores` into a map by trace (a
//! trace's value is the mean of its scores), then the traces in scope.
//!
//! `feedback_scores` is kept by triggers on `feedback` (`FEEDBACK_SCORES`), so every write
//! path (create, replace, edit, delete, a waiting record given its trace) keeps it right, in
//! the same transaction. Reading the scores from `feedback` itself cost one row per record:
//! with 1M records on 75k traces (an evaluator scoring every span), 2.4 s for a key holding
//! most of them and 1.5 s for one of 45k records (`feedback_by_key` then random row fetches),
//! both cores busy with other builds; the rollup has one row per trace and key.

use std::collections::HashMap;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use skein_model::metric_fold::prepare;
use skein_model::metrics::{Metric, MetricQuery, MetricResponse, Over};

use super::list::trace_filter;
use crate::store::{StoreError, StoreResult};

/// Use `traces_by_start` when the time range covers less than this share of the project's
/// span of trace starts: random primary-key lookups from the index cost about 5x a row of the
/// sequential scan, hence 1/5.
const INDEX_FRACTION: f64 = 0.2;

/// Nanoseconds per millisecond.
const MS_NS: i64 = 1_000_000;

pub(super) fn metrics(
    conn: &Connection,
    project: &str,
    q: &MetricQuery,
) -> StoreResult<MetricResponse> {
    super::span_list::trace_list_filter(&q.scope(None, None))?;
    if q.over == Over::Spans {
        return super::span_metrics::span_metrics(conn, project, q);
    }
    // One read transaction: the feedback map and the traces come from the same snapshot.
    let started = std::time::Instant::now();
    let tx = conn.unchecked_transaction()?;
    let data = DataSpan::of(&tx, project)?;
    let (from_ms, to_ms, bucket_ms, mut acc) =
        prepare(q, data.first, data.last).map_err(|e| StoreError::Invalid(e.0))?;
    let by_start = data.is_selective(from_ms, to_ms);
    let mut buf = [Vec::new(), Vec::new()];

    match &q.metric {
        Metric::Feedback(key) => {
            let scores = TraceScores::read(&tx, project, key)?;
            tracing::debug!(
                elapsed = ?started.elapsed(),
                traces = scores.hex.len() + scores.other.len(),
                "metrics: feedback scores read"
            );
            if !scores.is_empty() {
                let scope = Scope::new(project, q, from_ms, to_ms, by_start, "t.trace_id");
                scope.for_each(&tx, |row| {
                    if let ValueRef::Text(id) = row.column {
                        if let Some(score) = scores.mean(id) {
                            let (group, then) = group_keys(&row, &mut buf);
                            acc.add_pair(group, then, row.start_ns, score);
                        }
                    }
                })?;
            }
        }
        metric => {
            let scope = Scope::new(project, q, from_ms, to_ms, by_start, value_expr(metric));
            scope.for_each(&tx, |row| {
                let value = match row.column {
                    ValueRef::Real(v) => v,
                    ValueRef::Integer(v) => v as f64,
                    _ => return,
                };
                let (group, then) = group_keys(&row, &mut buf);
                acc.add_pair(group, then, row.start_ns, value);
            })?;
        }
    }

    let streamed = started.elapsed();
    let response = acc.response(q, from_ms, to_ms, bucket_ms);
    // Where the time goes, for tuning (SKEIN_LOG=skein_collector=debug).
    tracing::debug!(
        metric = %q.metric,
        by_start,
        ?streamed,
        total = ?started.elapsed(),
        "metrics: aggregated"
    );
    Ok(response)
}

/// A row's group and `then_by` keys (`group_key`); `bufs` hold a number's text.
pub(super) fn group_keys<'a>(
    row: &ScopeRow<'a>,
    bufs: &'a mut [Vec<u8>; 2],
) -> (Option<&'a [u8]>, Option<&'a [u8]>) {
    let [first, second] = bufs;
    (group_key(row.group, first), group_key(row.then, second))
}

/// A group's key as the accumulator takes it: the tag value's bytes, borrowed from SQLite's
/// buffer (no allocation per row); a number by its text form; none without the tag.
fn group_key<'a>(value: ValueRef<'a>, buf: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    match value {
        ValueRef::Null => None,
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(b),
        // Tag values are stored as text; a number is grouped by its text form.
        ValueRef::Integer(i) => {
            *buf = i.to_string().into_bytes();
            Some(buf)
        }
        ValueRef::Real(r) => {
            *buf = r.to_string().into_bytes();
            Some(buf)
        }
    }
}

/// A trace metric's value, REAL so that sums of squares of token counts cannot overflow.
fn value_expr(metric: &Metric) -> &'static str {
    match metric {
        Metric::Count => "1.0",
        Metric::ErrorRate => "CASE WHEN t.error_count > 0 THEN 1.0 ELSE 0.0 END",
        Metric::LatencyP50 | Metric::LatencyP95 | Metric::LatencyMean => "t.duration_ns / 1e6",
        Metric::InputTokens => "CAST(t.input_tokens AS REAL)",
        Metric::OutputTokens => "CAST(t.output_tokens AS REAL)",
        Metric::TotalTokens => "CAST(t.input_tokens + t.output_tokens AS REAL)",
        Metric::Cost => "CAST(t.cost AS REAL)",
        // Feedback values come from `TraceScores`; the scope selects the trace id instead.
        // An attribute is a span's: refused over traces (`Over::check`).
        Metric::Feedback(_) | Metric::Attr(_) => "NULL",
    }
}

/// The first and last trace start of the project (ns), from `traces_by_start`: two seeks.
struct DataSpan {
    first: Option<i64>,
    last: Option<i64>,
}

impl DataSpan {
    fn of(conn: &Connection, project: &str) -> StoreResult<DataSpan> {
        let (first, last) = conn
            .prepare_cached("SELECT min(start_ns), max(start_ns) FROM traces WHERE project = ?1")?
            .query_row([project], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((None, None));
        Ok(DataSpan { first, last })
    }

    /// Whether `[from_ms, to_ms)` covers little enough of the data's time span for the
    /// `traces_by_start` index to beat a scan (assuming traces spread evenly over time).
    fn is_selective(&self, from_ms: i64, to_ms: i64) -> bool {
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return false;
        };
        let span = (last - first).max(1) as f64;
        let from = from_ms.saturating_mul(MS_NS).max(first);
        let to = to_ms.saturating_mul(MS_NS).min(last.saturating_add(1));
        (to.saturating_sub(from).max(0) as f64) < INDEX_FRACTION * span
    }
}

/// The traces (or spans) in scope as rows `(grp, then, ts, column)`: the group tag's value
/// (NULL without one), the `then_by` tag's, the start (ns), and a column (the metric's value,
/// or the trace id).
pub(super) struct Scope {
    pub(super) sql: String,
    pub(super) args: Vec<SqlValue>,
}

/// One row of a `Scope`, borrowed from SQLite's buffers (no allocation per row).
pub(super) struct ScopeRow<'a> {
    group: ValueRef<'a>,
    then: ValueRef<'a>,
    pub(super) start_ns: i64,
    pub(super) column: ValueRef<'a>,
}

/// The column and join of a group tag's value for the trace `t.id` (alias `g`), its key
/// bound in `args`; NULL without a key.
pub(super) fn tag_group(
    key: Option<&str>,
    alias: &str,
    args: &mut Vec<SqlValue>,
) -> (String, String) {
    match key {
        Some(key) => {
            args.push(key.to_string().into());
            (
                format!("{alias}.value"),
                format!(
                    " LEFT JOIN trace_tags {alias} ON {alias}.trace = t.id AND {alias}.key = ?"
                ),
            )
        }
        None => ("NULL".into(), String::new()),
    }
}

impl Scope {
    fn new(
        project: &str,
        q: &MetricQuery,
        from_ms: i64,
        to_ms: i64,
        by_start: bool,
        column: &str,
    ) -> Scope {
        let mut args: Vec<SqlValue> = Vec::new();
        let (group, join) = tag_group(q.group_by.as_deref(), "g", &mut args);
        let (then, then_join) = tag_group(q.then_by.as_deref(), "g2", &mut args);
        let scope = q.scope(by_start.then_some(from_ms), by_start.then_some(to_ms));
        let (mut filter, filter_args) = trace_filter(project, &scope);
        args.extend(filter_args);
        let mut order = "";
        let mut scan = "";
        if !by_start {
            // The same range with the index disabled (a unary + makes the column an
            // expression), and the rowid order asked for: otherwise the planner reads a
            // narrow covering index (`traces_by_user` for count metrics), whose order makes
            // every `trace_tags` lookup random (measured on 1M traces: 2.7 s against 0.85 s).
            filter.push_str(" AND +t.start_ns >= ? AND +t.start_ns < ?");
            args.push(from_ms.saturating_mul(MS_NS).into());
            args.push(to_ms.saturating_mul(MS_NS).into());
            order = " ORDER BY t.id";
            // And the table itself, in rowid order: asked only for the order, the planner
            // read `traces_by_user` and sorted its rows by id (170 ms against 60 ms at 75k
            // traces).
            scan = " NOT INDEXED";
        }
        Scope {
            sql: format!(
                "SELECT {group}, {then}, t.start_ns, {column} FROM traces t{scan}{join}{then_join} \
                 WHERE {filter}{order}"
            ),
            args,
        }
    }

    pub(super) fn for_each(
        &self,
        conn: &Connection,
        mut f: impl FnMut(ScopeRow<'_>),
    ) -> StoreResult<()> {
        let mut stmt = conn.prepare(&self.sql)?;
        let mut rows = stmt.query(params_from_iter(self.args.iter()))?;
        while let Some(row) = rows.next()? {
            f(ScopeRow {
                group: row.get_ref(0)?,
                then: row.get_ref(1)?,
                start_ns: row.get(2)?,
                column: row.get_ref(3)?,
            });
        }
        Ok(())
    }
}

/// The rollup of scores per project, feedback key and trace, kept by triggers on `feedback`:
/// `n` scored records (a record without a score, or one still waiting for its run's trace,
/// is not counted) and the `sum` of their scores. A replaced record (`INSERT OR REPLACE` of
/// its id) is taken out before the insert, since SQLite runs no delete trigger for REPLACE
/// (recursive triggers are off).
pub(super) const FEEDBACK_SCORES: &str = r#"
    CREATE TABLE IF NOT EXISTS feedback_scores (
        project TEXT NOT NULL,
        key TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        sum REAL NOT NULL,
        PRIMARY KEY (project, key, trace_id)
    ) WITHOUT ROWID;
    CREATE TRIGGER IF NOT EXISTS feedback_scores_replaced BEFORE INSERT ON feedback
    BEGIN
        UPDATE feedback_scores SET n = n - 1, sum = sum - f.score
            FROM (SELECT project, key, trace_id, score FROM feedback
                  WHERE project = NEW.project AND id = NEW.id AND trace_id IS NOT NULL AND score IS NOT NULL) AS f
            WHERE feedback_scores.project = f.project AND feedback_scores.key = f.key
              AND feedback_scores.trace_id = f.trace_id;
        DELETE FROM feedback_scores WHERE n <= 0 AND (project, key, trace_id) IN
            (SELECT project, key, trace_id FROM feedback WHERE project = NEW.project AND id = NEW.id);
    END;
    CREATE TRIGGER IF NOT EXISTS feedback_scores_inserted AFTER INSERT ON feedback
    WHEN NEW.trace_id IS NOT NULL AND NEW.score IS NOT NULL
    BEGIN
        INSERT INTO feedback_scores (project, key, trace_id, n, sum)
            VALUES (NEW.project, NEW.key, NEW.trace_id, 1, NEW.score)
            ON CONFLICT (project, key, trace_id)
            DO UPDATE SET n = n + 1, sum = sum + excluded.sum;
    END;
    CREATE TRIGGER IF NOT EXISTS feedback_scores_deleted AFTER DELETE ON feedback
    WHEN OLD.trace_id IS NOT NULL AND OLD.score IS NOT NULL
    BEGIN
        UPDATE feedback_scores SET n = n - 1, sum = sum - OLD.score
            WHERE project = OLD.project AND key = OLD.key AND trace_id = OLD.trace_id;
        DELETE FROM feedback_scores
            WHERE project = OLD.project AND key = OLD.key AND trace_id = OLD.trace_id
              AND n <= 0;
    END;
    CREATE TRIGGER IF NOT EXISTS feedback_scores_updated
    AFTER UPDATE OF project, key, trace_id, score ON feedback
    BEGIN
        UPDATE feedback_scores SET n = n - 1, sum = sum - OLD.score
            WHERE OLD.trace_id IS NOT NULL AND OLD.score IS NOT NULL
              AND project = OLD.project AND key = OLD.key AND trace_id = OLD.trace_id;
        DELETE FROM feedback_scores
            WHERE project = OLD.project AND key = OLD.key AND trace_id = OLD.trace_id
              AND n <= 0;
        INSERT INTO feedback_scores (project, key, trace_id, n, sum)
            SELECT NEW.project, NEW.key, NEW.trace_id, 1, NEW.score
            WHERE NEW.trace_id IS NOT NULL AND NEW.score IS NOT NULL
            ON CONFLICT (project, key, trace_id)
            DO UPDATE SET n = n + 1, sum = sum + excluded.sum;
    END;
"#;

/// Schema 3 → 4: `feedback_scores` and its triggers, filled from the stored feedback (10 s
/// for 1M records on a busy machine, once).
pub(super) fn add_feedback_scores(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(FEEDBACK_SCORES)?;
    conn.execute_batch(
        "DELETE FROM feedback_scores;
         INSERT INTO feedback_scores (project, key, trace_id, n, sum)
             SELECT project, key, trace_id, count(*), sum(score) FROM feedback
             WHERE trace_id IS NOT NULL AND score IS NOT NULL
             GROUP BY project, key, trace_id;",
    )?;
    Ok(())
}

/// Per trace, the sum and count of its scores for one feedback key. Trace ids in the usual
/// form (32 lowercase hex digits) are kept as a u128, others as bytes.
#[derive(Default)]
struct TraceScores {
    hex: HashMap<u128, (f64, u32)>,
    other: HashMap<Vec<u8>, (f64, u32)>,
}

impl TraceScores {
    /// Reads the key's rollup rows: one range of `feedback_scores`' primary key.
    fn read(conn: &Connection, project: &str, key: &str) -> StoreResult<TraceScores> {
        let mut stmt = conn.prepare_cached(
            "SELECT trace_id, sum, n FROM feedback_scores WHERE project = ?1 AND key = ?2",
        )?;
        let mut rows = stmt.query([project, key])?;
        let mut scores = TraceScores::default();
        while let Some(row) = rows.next()? {
            let (sum, n): (f64, i64) = (row.get(1)?, row.get(2)?);
            if let (ValueRef::Text(trace_id), true) = (row.get_ref(0)?, n > 0) {
                scores.add(trace_id, sum, u32::try_from(n).unwrap_or(u32::MAX));
            }
        }
        Ok(scores)
    }

    fn add(&mut self, trace_id: &[u8], sum: f64, n: u32) {
        let entry = match hex_id(trace_id) {
            Some(id) => self.hex.entry(id).or_default(),
            None => self.other.entry(trace_id.to_vec()).or_default(),
        };
        entry.0 += sum;
        entry.1 += n;
    }

    fn is_empty(&self) -> bool {
        self.hex.is_empty() && self.other.is_empty()
    }

    fn mean(&self, trace_id: &[u8]) -> Option<f64> {
        let (sum, n) = match hex_id(trace_id) {
            Some(id) => self.hex.get(&id),
            None => self.other.get(trace_id),
        }?;
        (*n > 0).then(|| sum / f64::from(*n))
    }
}

/// A 32-digit lowercase hex id as a number; None for anything else (uppercase included, so
/// that two ids match exactly when their text does, as in SQL).
fn hex_id(id: &[u8]) -> Option<u128> {
    if id.len() != 32 {
        return None;
    }
    let mut n: u128 = 0;
    for &b in id {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        n = (n << 4) | u128::from(digit);
    }
    Some(n)
}
