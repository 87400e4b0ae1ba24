//! `span_text`: the full-text index that `search("...")` in span and trace filters reads. An
//! FTS5 table with the trigram tokenizer (any substring of three characters or more is found
//! through the index), contentless (the text is kept only as the index: the span's body has it
//! already), one row per span by the span's rowid. The text is the span's
//! `skein_model::trace_search::search_text`, lowercased in Rust on the caller's thread, so the
//! tokenizer is case-sensitive: matching is exactly `span_contains`, Unicode case included.
//!
//! Written with the span in the writer's transaction (`traces::insert_spans`,
//! `pieces::replace_row`), removed with it (a trigger), and filled from the stored bodies by
//! the migration that creates it (`fill`).

use rusqlite::{params, Connection};
use skein_model::trace_search::search_text;

use super::codec;
use crate::store::StoreResult;

/// The table and the trigger that keeps it in step with `spans`.
pub(super) const SCHEMA: &str = "
    CREATE VIRTUAL TABLE IF NOT EXISTS span_text USING fts5(
        text, content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
    );
    CREATE TRIGGER IF NOT EXISTS span_text_removed AFTER DELETE ON spans
    BEGIN DELETE FROM span_text WHERE rowid = old.id; END;";

/// 9 → 10. The index, filled from every stored span's body (a body this version cannot read
/// is left out: such a span is found by no search).
pub(super) fn create_and_fill(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(SCHEMA)?;
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

/// The text of the span just inserted as row `span`.
pub(super) fn insert(conn: &Connection, span: i64, text: &str) -> StoreResult<()> {
    conn.prepare_cached("INSERT INTO span_text (rowid, text) VALUES (?1, ?2)")?
        .execute(params![span, text])?;
    Ok(())
}

/// The text of the span row `span`, whose content was just replaced.
pub(super) fn replace(conn: &Connection, span: i64, text: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM span_text WHERE rowid = ?1")?
        .execute(params![span])?;
    insert(conn, span, text)
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
        for needle in ["refund", "\"a-1\"", "*now* near", "50%", "chat"] {
            assert_eq!(found(&conn, needle), 1, "{needle}");
        }
        assert_eq!(found(&conn, "refunds"), 0);

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
}
