//! Reads of one trace: its skeleton (every span's columns, no body), one span in full, every
//! span in full, and pieced spans by id and project (LangSmith's run UUIDs: `GET /runs/{id}`, feedback on a
//! run).

use rusqlite::{params, Connection, OptionalExtension};
use skein_model::skeleton_build::SkeletonBuilder;
use skein_model::span::{Span, SpanStatus};
use skein_model::{SkeletonSpanInput, TraceSkeleton};

use super::codec;
use super::list::{trace_from_row, TRACE_COLUMNS, TRACE_COLUMN_COUNT};
use crate::store::StoreResult;

pub(super) fn skeleton(
    conn: &Connection,
    project: &str,
    trace_id: &str,
) -> StoreResult<Option<TraceSkeleton>> {
    let Some((summary, id)) = conn
        .prepare_cached(&format!(
            "SELECT {TRACE_COLUMNS}, id FROM traces WHERE project = ?1 AND trace_id = ?2"
        ))?
        .query_row(params![project, trace_id], |r| {
            Ok((trace_from_row(r)?, r.get::<_, i64>(TRACE_COLUMN_COUNT)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    // Each row's text is borrowed only while the row is read: ids are parsed and names
    // interned on the spot, no string allocated for a span that repeats them.
    let mut stmt = conn.prepare_cached(
        "SELECT span_id, parent_span_id, name, service, span_type, start_ns, end_ns, status, tokens, \
         kind, cost FROM spans WHERE trace = ?1",
    )?;
    let mut builder = SkeletonBuilder::with_capacity(summary.span_count.min(1 << 22) as usize);
    let mut rows = stmt.query(params![id])?;
    while let Some(r) = rows.next()? {
        push_skeleton_row(&mut builder, r)?;
    }
    Ok(Some(builder.finish(summary)))
}

fn push_skeleton_row(builder: &mut SkeletonBuilder, r: &rusqlite::Row) -> rusqlite::Result<()> {
    builder.push(SkeletonSpanInput {
        span_id: r.get_ref(0)?.as_str()?,
        parent_span_id: r.get_ref(1)?.as_str_or_null()?,
        name: r.get_ref(2)?.as_str()?,
        service: r.get_ref(3)?.as_str()?,
        span_type: skein_model::SpanType::from_code(r.get(4)?),
        start_ns: r.get(5)?,
        end_ns: r.get(6)?,
        status: SpanStatus::from_code(r.get(7)?),
        tokens: r.get(8)?,
        kind: skein_model::SpanKind::from_code(r.get(9)?),
        cost: r.get(10)?,
    });
    Ok(())
}

/// One span in full.
pub(super) fn span(
    conn: &Connection,
    project: &str,
    trace_id: &str,
    span_id: &str,
) -> StoreResult<Option<Span>> {
    let body: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT s.body FROM traces t JOIN spans s ON s.trace = t.id \
             WHERE t.project = ?1 AND t.trace_id = ?2 AND s.span_id = ?3",
        )?
        .query_row(params![project, trace_id, span_id], |r| r.get(0))
        .optional()?;
    body.map(|b| codec::decode(conn, &b)).transpose()
}

/// Most spans `pieced_spans` returns, whatever the caller asks.
const MAX_FOUND: u32 = 100;

/// Spans stored through `write_span_pieces` with this id, in `project` (any project when
/// `None`), in any trace, newest first (through `span_lookup`, see `pieces::ensure_schema`,
/// whose key starts with the span id and the project).
pub(super) fn pieced_spans(
    conn: &Connection,
    project: Option<&str>,
    span_id: &str,
    limit: u32,
) -> StoreResult<Vec<Span>> {
    let limit = limit.clamp(1, MAX_FOUND);
    let mut stmt = conn.prepare_cached(
        "SELECT s.body FROM span_lookup l \
         JOIN traces t ON t.project = l.project AND t.trace_id = l.trace_id \
         JOIN spans s ON s.trace = t.id AND s.span_id = l.span_id \
         WHERE l.span_id = ?1 AND (?2 IS NULL OR l.project = ?2) \
         ORDER BY s.start_ns DESC, s.id DESC LIMIT ?3",
    )?;
    let bodies = stmt
        .query_map(params![span_id, project, limit], |r| r.get::<_, Vec<u8>>(0))?
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
