//! `span_text`: the full-text index that `search("...")` in span and trace filters reads. An
//! FTS5 table with the trigram tokenizer (any substring of three characters or more is found
//! through the index), contentless (the text is kept only as the index: the span's body has it
//! already), one row per span by the span's rowid. The text is the span's
//! `skein_model::trace_search::search_text`, lowercased in Rust on the caller's thread, so the
//! tokenizer is case-sensitive: matching is exactly `span_contains`, Unicode case included.
//!
//! The index is built behind the writer: a span's text is first queued in
//! `span_text_pending` with the span, in the writer's transaction (`traces::insert_spans`,
//! `pieces::replace_row`), and moved into the index later, a chunk at a time, by the writer
//! when no write waits (`index_pending`), or after every write once more than
//! `MAX_PENDING_SPANS` wait (so the queue, and what a search scans of it, stays bounded).
//! Indexing costs about three times what the rest of storing a span does; queued, it is paid
//! after the acknowledgement. A search reads the index and scans the queue (`search_sql`),
//! both in the same snapshot: a span is in exactly one of them, so it is found the moment it
//! is acknowledged. Removed with the span (a trigger); filled from the stored bodies by the
//! migration that creates the index (`create_and_fill`).

use rusqlite::{params, Connection};
use skein_model::trace_search::search_text;

use super::codec;
use crate::store::StoreResult;

/// The index, its queue and the trigger that keeps both in step with `spans`.
pub(super) const SCHEMA: &str = "
    CREATE VIRTUAL TABLE IF NOT EXISTS span_text USING fts5(
        text, content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
    );
    CREATE TABLE IF NOT EXISTS span_text_pending (
        span INTEGER PRIMARY KEY,
        text TEXT NOT NULL
    );
    DROP TRIGGER IF EXISTS span_text_removed;
    CREATE TRIGGER span_text_removed AFTER DELETE ON spans
    BEGIN
        DELETE FROM span_text WHERE rowid = old.id;
        DELETE FROM span_text_pending WHERE span = old.id;
    END;";

/// The most spans whose text waits for the index before the writer indexes after every write
/// (not only when idle): what a search scans of the queue stays bounded.
pub(super) const MAX_PENDING_SPANS: usize = 1_000_000;

/// The spans indexed in one transaction when catching up: a write that arrives meanwhile
/// waits for at most this many.
pub(super) const INDEX_CHUNK: usize = 500;

/// 9 → 10. The index, filled from every stored span's body (a body this version cannot read
/// is left out: such a span is found by no search).
pub(super) fn create_and_fill(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(SCHEMA)?;
    // Every stored span is indexed below: none waits.
    conn.execute_batch("DELETE FROM span_text_pending")?;
    let mut read = conn.prepare("SELECT id, body FROM spans")?;
    let mut rows = read.query([])?;
    let mut filled = 0u64;
    while let Some(row) = rows.next()? {
        let (id, body): (i64, Vec<u8>) = (row.get(0)?, row.get(1)?);
        if let Ok(span) = codec::decode(conn, &body) {
            insert(conn, id, &search_text(&span))?;
            filled += 1;
        }
    }
    if filled > 0 {
        tracing::info!(spans = filled, "full-text index built for search");
    }
    Ok(())
}

/// 11 → 12. The queue (existing spans are all indexed already) and the trigger that empties
/// it with the spans.
pub(super) fn add_pending(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

fn insert(conn: &Connection, span: i64, text: &str) -> StoreResult<()> {
    conn.prepare_cached("INSERT INTO span_text (rowid, text) VALUES (?1, ?2)")?
        .execute(params![span, text])?;
    Ok(())
}

/// Queues the text of the span just inserted as row `span`.
pub(super) fn queue(conn: &Connection, span: i64, text: &str) -> StoreResult<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO span_text_pending (span, text) VALUES (?1, ?2)")?
        .execute(params![span, text])?;
    Ok(())
}

/// The text of the span row `span`, whose content was just replaced: its old text leaves the
/// index now, the new one is queued.
pub(super) fn replace(conn: &Connection, span: i64, text: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM span_text WHERE rowid = ?1")?
        .execute(params![span])?;
    queue(conn, span, text)
}

/// Moves up to `limit` queued texts (the oldest spans first) into the index; how many.
pub(super) fn index_pending(conn: &Connection, limit: usize) -> StoreResult<usize> {
    let mut read =
        conn.prepare_cached("SELECT span, text FROM span_text_pending ORDER BY span LIMIT ?1")?;
    let mut rows = read.query([limit as i64])?;
    let (mut moved, mut last) = (0, None);
    while let Some(row) = rows.next()? {
        let (span, text): (i64, String) = (row.get(0)?, row.get(1)?);
        insert(conn, span, &text)?;
        moved += 1;
        last = Some(span);
    }
    if let Some(last) = last {
        conn.prepare_cached("DELETE FROM span_text_pending WHERE span <= ?1")?
            .execute([last])?;
    }
    Ok(moved)
}

/// How many spans wait for the index.
pub(super) fn pending(conn: &Connection) -> StoreResult<usize> {
    let n: i64 = conn.query_row("SELECT count(*) FROM span_text_pending", [], |r| r.get(0))?;
    Ok(n as usize)
}

/// The condition "span row `id` holds `needle`", its two parameters (`match_query(needle)`
/// and `needle`) in that order: through the index for the indexed spans, by scanning the
/// queue for the others (a span is in exactly one of them). `instr` on the lowercased text is
/// what `span_contains` does.
pub(super) fn search_sql(id: &str, query: &str, needle: &str) -> String {
    format!(
        "{id} IN (SELECT rowid FROM span_text WHERE span_text MATCH {query} \
         UNION ALL SELECT span FROM span_text_pending WHERE instr(text, {needle}) > 0)"
    )
}

/// `needle` (lowercased, at least three characters) as an FTS5 query that matches it as
/// literal text: one quoted string, its quotes doubled, so that `"`, `*`, `-`, `NEAR`, `AND`,
/// `^` and the like are characters to find, never query syntax.
pub(super) fn match_query(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use skein_model::span::Span;

    use super::*;
    use crate::store::sqlite::codec::SpanRow;
    use crate::store::sqlite::{schema, traces};

    fn found(conn: &Connection, needle: &str) -> i64 {
        conn.query_row(
            "SELECT count(*) FROM span_text WHERE span_text MATCH ?1",
            [match_query(needle)],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// What a search finds: the index and the queue.
    fn searched(conn: &Connection, needle: &str) -> i64 {
        conn.query_row(
            &format!(
                "SELECT count(*) FROM spans WHERE {}",
                search_sql("spans.id", "?1", "?2")
            ),
            [match_query(needle), needle.to_string()],
            |r| r.get(0),
        )
        .unwrap()
    }

    fn queued(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM span_text_pending", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_database_from_before_gets_its_index_from_the_stored_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("skein.db")).unwrap();
        schema::migrate(&mut conn).unwrap();
        let span = Span {
            project: "p".into(),
            trace_id: "a".repeat(32),
            span_id: "b".repeat(16),
            name: "chat".into(),
            input: Some(r#"Please REFUND order "A-1" *now* NEAR 50%"#.into()),
            ..Span::default()
        };
        let mut next = schema::next_trace_id(&conn).unwrap();
        traces::insert_spans(&conn, &mut next, &[SpanRow::encode(span, None).unwrap()]).unwrap();
        let needles = ["refund", "\"a-1\"", "*now* near", "50%", "chat"];
        // Queued, not indexed yet: found by the scan of the queue.
        assert_eq!((queued(&conn), found(&conn, "refund")), (1, 0));
        for needle in needles {
            assert_eq!(searched(&conn, needle), 1, "{needle}");
        }
        assert_eq!(searched(&conn, "refunds"), 0);
        // Indexed: found through the index, once.
        assert_eq!(index_pending(&conn, INDEX_CHUNK).unwrap(), 1);
        assert_eq!(queued(&conn), 0);
        for needle in needles {
            assert_eq!(found(&conn, needle), 1, "{needle}");
            assert_eq!(searched(&conn, needle), 1, "{needle}");
        }
        assert_eq!(searched(&conn, "refunds"), 0);

        // A file from before the index: the migration builds it from the bodies.
        conn.execute_batch(
            "DROP TRIGGER span_text_removed; DROP TABLE span_text; PRAGMA user_version = 9;",
        )
        .unwrap();
        schema::migrate(&mut conn).unwrap();
        assert_eq!(found(&conn, "refund"), 1);
        // Removing the span removes its text.
        conn.execute_batch("DELETE FROM spans").unwrap();
        assert_eq!(found(&conn, "refund"), 0);
    }

    #[test]
    fn the_queue_is_indexed_a_chunk_at_a_time_and_leaves_with_its_spans() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("skein.db")).unwrap();
        schema::migrate(&mut conn).unwrap();
        let rows: Vec<SpanRow> = (0..5)
            .map(|i| {
                let span = Span {
                    project: "p".into(),
                    trace_id: format!("{i:032x}"),
                    span_id: "b".repeat(16),
                    name: format!("step {i} of kyoto"),
                    ..Span::default()
                };
                SpanRow::encode(span, None).unwrap()
            })
            .collect();
        let mut next = schema::next_trace_id(&conn).unwrap();
        traces::insert_spans(&conn, &mut next, &rows).unwrap();
        assert_eq!(pending(&conn).unwrap(), 5);
        assert_eq!(index_pending(&conn, 2).unwrap(), 2);
        // Two indexed, three queued: every span found once.
        assert_eq!((found(&conn, "kyoto"), queued(&conn)), (2, 3));
        assert_eq!(searched(&conn, "kyoto"), 5);
        assert_eq!(searched(&conn, "step 3 of"), 1);
        assert_eq!(searched(&conn, "step 0 of"), 1);
        // A span removed while queued leaves the queue.
        conn.execute("DELETE FROM spans WHERE name = 'step 4 of kyoto'", [])
            .unwrap();
        assert_eq!((searched(&conn, "kyoto"), queued(&conn)), (4, 2));
        assert_eq!(index_pending(&conn, 10).unwrap(), 2);
        assert_eq!(index_pending(&conn, 10).unwrap(), 0);
        assert_eq!((found(&conn, "kyoto"), searched(&conn, "kyoto")), (4, 4));
    }
}
