//! Reads by span id across traces, and whole traces in full: what the LangSmith API needs to
//! answer `GET /runs/{id}` and `POST /runs/query`, where a run is named by its UUID alone.

use rusqlite::{params, Connection};
use skein_model::span::Span;

use super::codec;
use crate::store::StoreResult;

/// Most spans `find_spans` returns, whatever the caller asks.
const MAX_FOUND: u32 = 100;

/// Spans stored through `upsert_spans` with this id, in any project or trace, newest first
/// (through `span_lookup`, see `upsert::ensure_schema`).
pub(super) fn find_spans(conn: &Connection, span_id: &str, limit: u32) -> StoreResult<Vec<Span>> {
    let limit = limit.clamp(1, MAX_FOUND);
    let mut stmt = conn.prepare_cached(
        "SELECT s.body FROM span_lookup l \
         JOIN traces t ON t.project = l.project AND t.trace_id = l.trace_id \
         JOIN spans s ON s.trace = t.id AND s.span_id = l.span_id \
         WHERE l.span_id = ?1 ORDER BY s.start_ns DESC, s.id DESC LIMIT ?2",
    )?;
    let bodies = stmt
        .query_map(params![span_id, limit], |r| r.get::<_, Vec<u8>>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    bodies.iter().map(|b| codec::decode(conn, b)).collect()
}

/// Every span of one trace, in arrival order.
pub(super) fn trace_spans(
    conn: &Connection,
    project: &str,
    trace_id: &str,
) -> StoreResult<Vec<Span>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.body FROM traces t JOIN spans s ON s.trace = t.id \
         WHERE t.project = ?1 AND t.trace_id = ?2 ORDER BY s.id",
    )?;
    let bodies = stmt
        .query_map(params![project, trace_id], |r| r.get::<_, Vec<u8>>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    bodies.iter().map(|b| codec::decode(conn, b)).collect()
}
