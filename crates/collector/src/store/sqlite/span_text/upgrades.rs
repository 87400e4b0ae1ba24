//! The steps that brought older files' full-text index to the current layout. Steps 18 and 21
//! build the layout of schema 21 (a queue table of the waiting spans, `span_text_pending`),
//! which step 22 turns into the mark and the stale blocks; step 23 replaces the FTS5 index
//! with the trigram index of our own.

use rusqlite::Connection;
use skein_model::trace_search::search_text;

use super::super::codec::{self, CurrentDict, Packed};
use super::{merge_wider, SCHEMA};
use crate::store::StoreResult;

/// Schema 21's index, texts, queue and trigger (what steps 18 to 21 leave).
const SCHEMA_21: &str = "
    CREATE VIRTUAL TABLE IF NOT EXISTS span_text USING fts5(
        text, content = '', contentless_delete = 1, detail = none,
        tokenize = 'trigram case_sensitive 1'
    );
    CREATE TABLE IF NOT EXISTS span_texts (
        span INTEGER PRIMARY KEY,
        text TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS span_text_pending (
        span INTEGER PRIMARY KEY
    );
    DROP TRIGGER IF EXISTS span_text_removed;
    CREATE TRIGGER span_text_removed AFTER DELETE ON spans
    BEGIN
        DELETE FROM span_texts WHERE span = old.id;
        DELETE FROM span_text_pending WHERE span = old.id;
        DELETE FROM span_text WHERE rowid = (SELECT old.id >> 4 WHERE NOT EXISTS (
            SELECT 1 FROM span_texts WHERE span BETWEEN (old.id >> 4) << 4
                AND ((old.id >> 4) << 4) + 15));
    END;";

/// 10 → 11 and 12 → 13 built the layout before this one: what they made is replaced by step
/// 18 (`keep_texts`), so they do nothing now.
pub(in crate::store::sqlite) fn superseded(_: &Connection) -> StoreResult<()> {
    Ok(())
}

/// 17 → 18. The texts kept beside an index without positions: whatever index and queue the
/// file has (schema 11's index, schema 13's queue of texts, or none) is dropped, every stored
/// span's text is computed again from its body (a body this version cannot read is left out:
/// such a span is found by no search) and queued, and the writer builds the index behind
/// (a search checks the waiting spans meanwhile).
pub(in crate::store::sqlite) fn keep_texts(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS span_text_removed;
         DROP TABLE IF EXISTS span_text;
         DROP TABLE IF EXISTS span_text_pending;
         DROP TABLE IF EXISTS span_texts;",
    )?;
    conn.execute_batch(SCHEMA_21)?;
    merge_wider(conn)?;
    let dict = CurrentDict::load(conn)?.get();
    let mut read = conn.prepare("SELECT id, body FROM spans")?;
    let mut keep =
        conn.prepare("INSERT OR REPLACE INTO span_texts (span, text) VALUES (?1, ?2)")?;
    let mut queue = conn.prepare("INSERT OR IGNORE INTO span_text_pending (span) VALUES (?1)")?;
    let mut rows = read.query([])?;
    let mut filled = 0u64;
    while let Some(row) = rows.next()? {
        let (id, body): (i64, Vec<u8>) = (row.get(0)?, row.get(1)?);
        if let Ok(span) = codec::decode(conn, &body) {
            keep.execute(rusqlite::params![
                id,
                Packed::pack(search_text(&span), dict.as_deref())
            ])?;
            queue.execute([id])?;
            filled += 1;
        }
    }
    if filled > 0 {
        tracing::info!(spans = filled, "span texts kept for search, to be indexed");
    }
    Ok(())
}

/// 20 → 21. The index by blocks of spans: the index of one document a span is dropped, every
/// kept text queued, and the writer builds the new one behind (a search checks the newest
/// waiting texts meanwhile, as after any burst).
pub(in crate::store::sqlite) fn index_blocks(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS span_text_removed;
         DROP TABLE IF EXISTS span_text;",
    )?;
    conn.execute_batch(SCHEMA_21)?;
    merge_wider(conn)?;
    conn.execute_batch(
        "INSERT OR IGNORE INTO span_text_pending (span) SELECT span FROM span_texts;",
    )?;
    Ok(())
}

/// 21 → 22. The queue table becomes a mark and the stale blocks: the mark is the newest span
/// the index holds (the newest kept text not queued), and every block of a queued span at or
/// below it (a span whose text changed, or one that joined an indexed block) is stale. The
/// FTS5 index is kept (until step 23); the queued spans past the mark wait as they did.
pub(in crate::store::sqlite) fn high_water_mark(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS span_text_removed;
         DROP TABLE IF EXISTS span_text_mark;
         DROP TABLE IF EXISTS span_text_stale;
         CREATE TABLE IF NOT EXISTS span_text_pending (span INTEGER PRIMARY KEY);",
    )?;
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(
        "UPDATE span_text_mark SET mark = ifnull((SELECT span FROM span_texts
             WHERE span NOT IN (SELECT span FROM span_text_pending)
             ORDER BY span DESC LIMIT 1), 0);
         INSERT OR IGNORE INTO span_text_stale (block)
             SELECT DISTINCT span >> 4 FROM span_text_pending
             WHERE span <= (SELECT mark FROM span_text_mark);
         DROP TABLE span_text_pending;",
    )?;
    Ok(())
}

/// 22 → 23. The FTS5 index (`span_text`) gives way to the trigram index of our own
/// (`postings`): FTS5's tables are dropped and every kept text waits for the new index (the
/// mark back to 0, no block stale), which the writer builds behind as after any burst (a
/// search checks the newest waiting texts meanwhile).
pub(in crate::store::sqlite) fn own_index(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS span_text_removed;
         DROP TABLE IF EXISTS span_text;
         DROP TABLE IF EXISTS span_grams;
         DROP TABLE IF EXISTS span_gram_chunks;",
    )?;
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch("UPDATE span_text_mark SET mark = 0; DELETE FROM span_text_stale;")?;
    Ok(())
}
