//! Reads for the live stream: the spans received after a cursor, and trace summaries by id
//! (of the traces passing a trace list's query).
//!
//! The cursor numbers every write of a span in commit order: a new span's `spans.id`, or a
//! change to a stored span (a LangSmith run's patch) as a `span_changes.seq`, both taken from
//! one counter (`next_seq`) by the one writer, so a reader never sees a cursor below one it has
//! already seen appear later (no settle window). A span keeps its id (its place in the arrival
//! order); `span_changes` holds the latest change of each changed span.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use skein_model::{TraceQuery, TraceSummary};

use super::codec;
use super::feedback;
use super::list::{trace_filter, trace_from_row, TRACE_COLUMNS};
use crate::store::{ReceivedBatch, ReceivedSpan, StoreResult};

/// Most spans read at once, whatever the caller asks.
const MAX_READ: u32 = 1_000;

/// The latest change of each changed span, in the receive order.
pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS span_changes (
        seq INTEGER PRIMARY KEY,
        span INTEGER NOT NULL UNIQUE
    );";

/// 16 → 17. The table, empty where it is new (no change was recorded before it); a file that
/// has it already (versions that created it at start, outside the numbered steps) keeps its
/// rows.
pub(super) fn add_span_changes(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

/// The next cursor the writer gives (a new span's id, or a change's seq).
pub(super) fn next_seq(conn: &Connection) -> StoreResult<i64> {
    let max: i64 = conn
        .prepare_cached(
            "SELECT max(ifnull((SELECT max(id) FROM spans), 0), \
             ifnull((SELECT max(seq) FROM span_changes), 0))",
        )?
        .query_row([], |r| r.get(0))?;
    Ok(max + 1)
}

/// Records that the stored span `span` (its `spans.id`) changed: it is received again.
pub(super) fn span_changed(conn: &Connection, span: i64) -> StoreResult<()> {
    let seq = next_seq(conn)?;
    conn.prepare_cached("INSERT OR REPLACE INTO span_changes (seq, span) VALUES (?1, ?2)")?
        .execute(params![seq, span])?;
    Ok(())
}

/// Records that the feedback on run `run_id` of trace `trace_id` in `project` changed
/// (created, changed or removed): the run's span, when stored, is received again, so that a
/// stream whose conditions name feedback decides again. A record whose run has not arrived
/// (no trace yet) changes nothing: the run's arrival is received then.
pub(super) fn feedback_changed(
    conn: &Connection,
    project: &str,
    trace_id: Option<&str>,
    run_id: &str,
) -> StoreResult<()> {
    let Some(trace_id) = trace_id else {
        return Ok(());
    };
    let span: Option<i64> = conn
        .prepare_cached(
            "SELECT s.id FROM traces t JOIN spans s ON s.trace = t.id \
             WHERE t.project = ?1 AND t.trace_id = ?2 AND s.span_id = ?3",
        )?
        .query_row(params![project, trace_id, run_id], |r| r.get(0))
        .optional()?;
    match span {
        Some(span) => span_changed(conn, span),
        None => Ok(()),
    }
}

/// A write read after a cursor: its cursor, and the span's body when of the project.
type Written = (i64, Option<Vec<u8>>);

fn read_after(
    conn: &Connection,
    sql: &str,
    project: &str,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<Written>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(params![project, after, limit], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(super) fn received_spans(
    conn: &Connection,
    project: &str,
    after: i64,
    limit: u32,
) -> StoreResult<ReceivedBatch> {
    let limit = limit.clamp(1, MAX_READ);
    // New spans by rowid and changes by seq, each from the cursor: the cost is the rows read,
    // never the store's size. Another project's span is read as its cursor only.
    let inserted = read_after(
        conn,
        "SELECT s.id, CASE WHEN t.project = ?1 THEN s.body END \
         FROM spans s JOIN traces t ON t.id = s.trace \
         WHERE s.id > ?2 ORDER BY s.id LIMIT ?3",
        project,
        after,
        limit,
    )?;
    let changed = read_after(
        conn,
        "SELECT c.seq, CASE WHEN t.project = ?1 THEN s.body END \
         FROM span_changes c JOIN spans s ON s.id = c.span JOIN traces t ON t.id = s.trace \
         WHERE c.seq > ?2 ORDER BY c.seq LIMIT ?3",
        project,
        after,
        limit,
    )?;
    // Either read stopping at its limit may have more below the other's last: the first
    // `limit` of both in order are below both reads' ends.
    let cut = inserted.len() == limit as usize || changed.len() == limit as usize;
    let mut rows: Vec<Written> = inserted.into_iter().chain(changed).collect();
    rows.sort_by_key(|(seq, _)| *seq);
    let more = cut || rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let mut batch = ReceivedBatch {
        scanned_to: rows.last().map_or(after, |(seq, _)| *seq),
        more,
        spans: Vec::new(),
    };
    for (seq, body) in rows {
        if let Some(body) = body {
            batch.spans.push(ReceivedSpan {
                seq,
                span: codec::decode(conn, &body)?,
            });
        }
    }
    Ok(batch)
}

pub(super) fn receive_head(conn: &Connection) -> StoreResult<i64> {
    Ok(next_seq(conn)? - 1)
}

pub(super) fn trace_summaries(
    conn: &Connection,
    project: &str,
    trace_ids: &[String],
    query: &TraceQuery,
) -> StoreResult<Vec<TraceSummary>> {
    super::span_list::trace_list_filter(query)?;
    if trace_ids.is_empty() {
        return Ok(Vec::new());
    }
    // The list's own conditions, on these traces only (their primary key first).
    let (filter, mut args) = trace_filter(project, query);
    let marks = vec!["?"; trace_ids.len()].join(", ");
    args.extend(trace_ids.iter().map(|id| SqlValue::from(id.clone())));
    let mut stmt = conn.prepare(&format!(
        "SELECT {TRACE_COLUMNS} FROM traces t WHERE {filter} AND t.trace_id IN ({marks})"
    ))?;
    let found = stmt
        .query_map(params_from_iter(args), trace_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let mut traces: Vec<TraceSummary> = trace_ids
        .iter()
        .filter_map(|id| found.iter().find(|t| &t.trace_id == id).cloned())
        .collect();
    feedback::add_summaries(conn, project, &mut traces)?;
    Ok(traces)
}
