//! Reads of one trace: its skeleton (every span's columns, no body), one span in full, every
//! span in full, and pieced spans by id and project (LangSmith's run UUIDs: `GET /runs/{id}`, feedback on a
//! run).

use rusqlite::{params, Connection, OptionalExtension};
use skein_model::skeleton_build::SkeletonBuilder;
use skein_model::skeleton_head::{HeadBuilder, SkeletonHead};
use skein_model::skeleton_id::parse_hex16;
use skein_model::span::{Span, SpanStatus};
use skein_model::{SkeletonSpanInput, TraceSkeleton, TraceSummary};

use super::codec;
use super::list::{trace_from_row, TRACE_COLUMNS, TRACE_COLUMN_COUNT};
use super::readers::ReaderPool;
use crate::store::{StoreError, StoreResult};

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

/// A trace of at least this many spans is read in two halves at once, on two connections:
/// the read (SQLite's row steps, ids parsed, names interned) is most of a big skeleton's
/// time, and the page waits for all of it before the rest of its rows can come.
const SPLIT_FROM_SPANS: u64 = 50_000;

pub(super) fn skeleton(
    conn: &Connection,
    pool: &ReaderPool,
    project: &str,
    trace_id: &str,
) -> StoreResult<Option<TraceSkeleton>> {
    skeleton_split_from(conn, pool, project, trace_id, SPLIT_FROM_SPANS)
}

/// [`skeleton`], read in two halves from `split_from` spans on (when the ids allow a split).
pub(super) fn skeleton_split_from(
    conn: &Connection,
    pool: &ReaderPool,
    project: &str,
    trace_id: &str,
    split_from: u64,
) -> StoreResult<Option<TraceSkeleton>> {
    let Some((summary, id)) = trace_row(conn, project, trace_id)? else {
        return Ok(None);
    };
    let expected = summary.span_count.min(1 << 22) as usize;
    let middle = if summary.span_count >= split_from {
        middle_span_id(conn, id)?
    } else {
        None
    };
    let builder = match middle {
        None => read_spans(conn, id, Below::All, expected)?,
        // The halves in span id order, the lower one first: pushed as one read would push
        // them, so the skeleton is the same (names in the same order of first use).
        Some(middle) => std::thread::scope(|scope| {
            let upper = scope
                .spawn(|| pool.with(|c| read_spans(c, id, Below::From(&middle), expected / 2)));
            let lower = read_spans(conn, id, Below::Id(&middle), expected);
            let upper = upper
                .join()
                .map_err(|_| StoreError::Internal("a skeleton's read panicked".into()))?;
            let mut lower = lower?;
            lower.append(upper?);
            Ok::<_, StoreError>(lower)
        })?,
    };
    Ok(Some(builder.finish(summary)))
}

/// Which of a trace's spans a read takes, by span id.
enum Below<'a> {
    All,
    /// Those before this id.
    Id(&'a str),
    /// This id and those after it.
    From(&'a str),
}

/// Pushes the spans of trace row `trace` (those `below` selects) into a builder. Each row's
/// text is borrowed only while the row is read: ids are parsed and names interned on the
/// spot, no string allocated for a span that repeats them. Every column comes from the
/// covering index (schema 19), never from the span rows and their bodies.
fn read_spans(
    conn: &Connection,
    trace: i64,
    below: Below,
    capacity: usize,
) -> StoreResult<SkeletonBuilder> {
    let base = format!(
        "SELECT {SKELETON_COLUMNS} FROM spans INDEXED BY spans_by_trace_extent WHERE trace = ?1"
    );
    let mut builder = SkeletonBuilder::with_capacity(capacity);
    let mut push = |mut rows: rusqlite::Rows| -> StoreResult<()> {
        while let Some(r) = rows.next()? {
            builder.push(skeleton_input(r)?);
        }
        Ok(())
    };
    match below {
        Below::All => push(conn.prepare_cached(&base)?.query(params![trace])?)?,
        Below::Id(id) => push(
            conn.prepare_cached(&format!("{base} AND span_id < ?2"))?
                .query(params![trace, id])?,
        )?,
        Below::From(id) => push(
            conn.prepare_cached(&format!("{base} AND span_id >= ?2"))?
                .query(params![trace, id])?,
        )?,
    }
    Ok(builder)
}

/// An id splitting a trace's spans into two halves of about the same size: halfway between
/// its lowest and highest span id when both are OTel's 16 hex digits (as text, those sort as
/// their numbers do); `None` when they are not, or when there is nothing between them.
fn middle_span_id(conn: &Connection, trace: i64) -> StoreResult<Option<String>> {
    let end = |order: &str| -> StoreResult<Option<String>> {
        Ok(conn
            .prepare_cached(&format!(
                "SELECT span_id FROM spans INDEXED BY spans_by_trace_extent \
                 WHERE trace = ?1 ORDER BY span_id {order} LIMIT 1"
            ))?
            .query_row(params![trace], |r| r.get::<_, String>(0))
            .optional()?)
    };
    let (Some(lowest), Some(highest)) = (end("ASC")?, end("DESC")?) else {
        return Ok(None);
    };
    let (Some(lo), Some(hi)) = (
        parse_hex16(lowest.as_bytes()),
        parse_hex16(highest.as_bytes()),
    ) else {
        return Ok(None);
    };
    Ok((hi > lo).then(|| format!("{:016x}", lo + (hi - lo).div_ceil(2))))
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

#[cfg(test)]
mod tests {
    use skein_model::span::Span;

    use super::{middle_span_id, skeleton_split_from, trace_row};
    use crate::store::sqlite::{SqliteOptions, SqliteStore};
    use crate::store::SpanStore;

    /// A trace of 600 spans with scattered ids, three levels deep, names and services
    /// repeated across both halves of the id range, some orphans.
    fn spans() -> Vec<Span> {
        let base = 1_795_000_000_000_000_000i64;
        let id = |k: u64| format!("{:016x}", k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        (0..600u64)
            .map(|k| Span {
                project: "p".into(),
                trace_id: format!("{:032x}", 7),
                span_id: id(k + 1),
                parent_span_id: match k {
                    0 => None,
                    k if k % 97 == 0 => Some(id(10_000 + k)),
                    k if k < 20 => Some(id(1)),
                    k => Some(id(k % 20 + 1)),
                },
                name: format!("step {}", k % 7),
                service: format!("svc {}", k % 3),
                start_ns: base + ((k * 7_919) % 997) as i64 * 1_000_000,
                end_ns: base + 2_000_000_000,
                ..Span::default()
            })
            .collect()
    }

    #[tokio::test]
    async fn a_trace_read_in_two_halves_is_the_trace_read_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(SqliteOptions::new(dir.path().join("skein.db")))
            .expect("open the store");
        store.write_spans(spans()).await.expect("write");
        let trace = format!("{:032x}", 7);
        let pool = store.readers.clone();
        pool.with(|conn| {
            let (_, row) = trace_row(conn, "p", &trace)?.expect("the trace");
            assert!(middle_span_id(conn, row)?.is_some(), "the ids split");
            let whole = skeleton_split_from(conn, &pool, "p", &trace, u64::MAX)?.expect("read");
            let halves = skeleton_split_from(conn, &pool, "p", &trace, 1)?.expect("read");
            assert_eq!(whole.spans.len(), 600);
            assert_eq!(whole.names.len(), 7);
            assert!(!whole.orphans.is_empty());
            assert_eq!(halves, whole);
            Ok(())
        })
        .expect("the reads");
    }
}
