//! Reads of one trace: its skeleton (every span's columns, no body), one span in full, every
//! span in full, and pieced spans by id and project (LangSmith's run UUIDs: `GET /runs/{id}`, feedback on a
//! run).

use rusqlite::{params, Connection, OptionalExtension};
use skein_model::skeleton_build::SkeletonBuilder;
use skein_model::skeleton_head::{HeadBuilder, SkeletonHead};
use skein_model::span::{Span, SpanStatus};
use skein_model::{SkeletonSpanInput, TraceSkeleton, TraceSummary};

use super::codec;
use super::list::{trace_from_row, TRACE_COLUMNS, TRACE_COLUMN_COUNT};
use crate::store::StoreResult;

/// A trace's summary and row id.
fn trace_row(
    conn: &Connection,
    project: &str,
    trace_id: &str,
) -> StoreResult<Option<(TraceSummary, i64)>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {TRACE_COLUMNS}, id FROM traces WHERE project = ?1 AND trace_id = ?2"
        ))?
        .query_row(params![project, trace_id], |r| {
            Ok((trace_from_row(r)?, r.get::<_, i64>(TRACE_COLUMN_COUNT)?))
        })
        .optional()?)
}

/// The columns of a span the skeleton holds, in `skeleton_input`'s order.
const SKELETON_COLUMNS: &str = "span_id, parent_span_id, name, service, span_type, start_ns, \
    end_ns, status, tokens, kind, cost";

pub(super) fn skeleton(
    conn: &Connection,
    project: &str,
    trace_id: &str,
) -> StoreResult<Option<TraceSkeleton>> {
    let Some((summary, id)) = trace_row(conn, project, trace_id)? else {
        return Ok(None);
    };
    // Each row's text is borrowed only while the row is read: ids are parsed and names
    // interned on the spot, no string allocated for a span that repeats them. Every column
    // comes from the covering index (schema 19), never from the span rows and their bodies.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SKELETON_COLUMNS} FROM spans INDEXED BY spans_by_trace_extent WHERE trace = ?1"
    ))?;
    let mut builder = SkeletonBuilder::with_capacity(summary.span_count.min(1 << 22) as usize);
    let mut rows = stmt.query(params![id])?;
    while let Some(r) = rows.next()? {
        builder.push(skeleton_input(r)?);
    }
    Ok(Some(builder.finish(summary)))
}

/// The first `want` spans of a trace of at least `from_spans` spans in display order
/// (`QueryStore::trace_head`): the tree walked from its roots through `spans_by_parent`
/// (children by start, then span id, as the skeleton orders them), each span's columns
/// from the covering index. A few hundred index lookups, whatever the trace's size.
pub(super) fn skeleton_head(
    conn: &Connection,
    project: &str,
    trace_id: &str,
    want: usize,
    from_spans: usize,
) -> StoreResult<Option<SkeletonHead>> {
    let Some((summary, id)) = trace_row(conn, project, trace_id)? else {
        return Ok(None);
    };
    if want == 0 || summary.span_count < from_spans as u64 {
        return Ok(None);
    }
    let mut roots = conn.prepare_cached(
        "SELECT span_id FROM spans INDEXED BY spans_by_parent \
         WHERE trace = ?1 AND parent_span_id IS NULL ORDER BY start_ns, span_id LIMIT ?2",
    )?;
    let mut children = conn.prepare_cached(
        "SELECT span_id FROM spans INDEXED BY spans_by_parent \
         WHERE trace = ?1 AND parent_span_id = ?2 AND span_id != ?2 \
         ORDER BY start_ns, span_id LIMIT ?3",
    )?;
    let mut span = conn.prepare_cached(&format!(
        "SELECT {SKELETON_COLUMNS} FROM spans INDEXED BY spans_by_trace_extent \
         WHERE trace = ?1 AND span_id = ?2"
    ))?;
    let mut head = HeadBuilder::new(summary);
    // Depth first: (span id, its parent's index in the head), the next one on top.
    let mut stack = roots
        .query_map(params![id, want as i64], |r| r.get::<_, String>(0))?
        .map(|span_id| Ok((span_id?, None)))
        .collect::<StoreResult<Vec<(String, Option<u32>)>>>()?;
    stack.reverse();
    while let Some((span_id, parent)) = stack.pop() {
        let Some(index) = span
            .query_row(params![id, span_id], |r| {
                Ok(head.push(skeleton_input(r)?, parent))
            })
            .optional()?
        else {
            continue;
        };
        let left = want - head.len();
        if left == 0 {
            break;
        }
        let kids = children
            .query_map(params![id, span_id, left as i64], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        stack.extend(kids.into_iter().rev().map(|kid| (kid, Some(index))));
    }
    Ok((!head.is_empty()).then(|| head.finish()))
}

/// A row of `SKELETON_COLUMNS`, its text borrowed.
fn skeleton_input<'r>(r: &'r rusqlite::Row) -> rusqlite::Result<SkeletonSpanInput<'r>> {
    Ok(SkeletonSpanInput {
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
    })
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
