//! Reads for the live stream: the spans received after a cursor, and trace summaries by id
//! (of the traces passing a trace list's query).
//! The cursor is `spans.id`, which the one writer numbers in commit order: a reader never sees
//! a span whose id is below one it has already seen appear later (no settle window).

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection};
use skein_model::{TraceQuery, TraceSummary};

use super::codec;
use super::feedback;
use super::list::{trace_filter, trace_from_row, TRACE_COLUMNS};
use crate::store::{ReceivedBatch, ReceivedSpan, StoreResult};

/// Most spans read at once, whatever the caller asks.
const MAX_READ: u32 = 1_000;

pub(super) fn received_spans(
    conn: &Connection,
    project: &str,
    after: i64,
    limit: u32,
) -> StoreResult<ReceivedBatch> {
    let limit = limit.clamp(1, MAX_READ);
    // By rowid from the cursor: the cost is the rows read, never the store's size. Another
    // project's span is read as its id only.
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, CASE WHEN t.project = ?1 THEN s.body END \
         FROM spans s JOIN traces t ON t.id = s.trace \
         WHERE s.id > ?2 ORDER BY s.id LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![project, after, limit], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut batch = ReceivedBatch {
        scanned_to: rows.last().map_or(after, |(id, _)| *id),
        more: rows.len() == limit as usize,
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
    let max: Option<i64> = conn.query_row("SELECT max(id) FROM spans", [], |r| r.get(0))?;
    Ok(max.unwrap_or(0))
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
