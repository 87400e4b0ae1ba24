//! The full-text index that `search("...")` in span and trace filters reads, and
//! `span_texts`, the texts it is built from. A span's text is its
//! `skein_model::trace_search::search_text`, lowercased in Rust on the caller's thread, kept in
//! `span_texts` by the span's rowid, packed where that is smaller (`codec::Packed`, read
//! through `skein_text`). The index is a trigram index of our own (`grams`, `postings`): which
//! blocks hold each three-byte sequence, not where.
//!
//! A block is `BLOCK_SPANS` consecutive span rowids (`rowid >> BLOCK_SHIFT`). Consecutive
//! rowids are mostly one trace's spans, whose texts repeat (the question in every model call,
//! the tags on every span), so a block has far fewer distinct trigrams than its spans one by
//! one (bench/README.md, "Search index by blocks"). A search asks the index for the blocks
//! holding every trigram of the needle; their spans are the candidates, each checked against
//! its own kept text (`search`).
//!
//! The index is built behind the writer. A new span's text is stored in `span_texts` in the
//! writer's transaction (`traces::insert_spans`) and nothing else: the index holds every span
//! up to a high-water mark (`span_text_mark`, a span rowid) but for the blocks listed in
//! `span_text_stale` (a stored span whose text changed: `pieces::replace_row`), so the spans
//! waiting for the index are those past the mark and those of the stale blocks. New spans'
//! rowids always lie past the mark (it never exceeds the largest stored rowid: the trigger
//! lowers it when the newest spans are removed, whose rowids SQLite would hand out again).
//! The writer moves waiting spans into the index a chunk at a time, when no write waits
//! (`index_pending`), or after every write once more than `MAX_PENDING_SPANS` wait (so what a
//! search checks of them stays bounded). A chunk's blocks' distinct trigrams are gathered in
//! memory and written as a few pages of postings (`postings::write_chunk`), in place of
//! FTS5's hash probe and segment a trigram occurrence (bench/README.md, session 17). Postings
//! are never taken back: a block indexed again is listed again, a removed span's block stays
//! listed until its whole chunk is gone (`postings::prune`); either only makes candidates
//! that fail their check.

use rusqlite::{params, Connection, OptionalExtension};

use super::codec::Packed;
use crate::store::StoreResult;

mod grams;
mod postings;
mod search;
#[cfg(test)]
mod tests;
mod upgrades;

pub(super) use postings::register;

pub(super) use search::{
    candidates, check, has_more_candidates, search_sql, waiting_beyond_checked,
};
pub(super) use upgrades::{high_water_mark, index_blocks, keep_texts, own_index, superseded};

/// A document of the index covers the spans whose rowids agree but for their last
/// `BLOCK_SHIFT` bits.
pub(super) const BLOCK_SHIFT: u32 = 4;
/// Spans a document covers (at most).
pub(super) const BLOCK_SPANS: i64 = 1 << BLOCK_SHIFT;
// `SCHEMA`'s trigger says 4 and 15 for these.
const _: () = assert!(BLOCK_SHIFT == 4 && BLOCK_SPANS == 16);

/// The texts, the mark and the stale blocks, the postings (`postings`: the chunks written,
/// and their pages), and the trigger that keeps them in step with `spans`.
pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS span_texts (
        span INTEGER PRIMARY KEY,
        text TEXT NOT NULL
    );
    -- One row: the index holds the texts of the spans up to `mark` (a span rowid)...
    CREATE TABLE IF NOT EXISTS span_text_mark (
        only INTEGER PRIMARY KEY CHECK (only = 0),
        mark INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO span_text_mark (only, mark) VALUES (0, 0);
    -- ...but for these blocks (`span >> 4`), whose postings are out until indexed again.
    CREATE TABLE IF NOT EXISTS span_text_stale (
        block INTEGER PRIMARY KEY
    );
    CREATE TABLE IF NOT EXISTS span_gram_chunks (
        chunk INTEGER PRIMARY KEY,
        last_block INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS span_grams (
        chunk INTEGER NOT NULL,
        first INTEGER NOT NULL,
        postings BLOB NOT NULL,
        PRIMARY KEY (chunk, first)
    ) WITHOUT ROWID;
    DROP TRIGGER IF EXISTS span_text_removed;
    CREATE TRIGGER span_text_removed AFTER DELETE ON spans
    BEGIN
        DELETE FROM span_texts WHERE span = old.id;
        UPDATE span_text_mark SET mark = (SELECT ifnull(max(id), 0) FROM spans)
            WHERE mark > (SELECT ifnull(max(id), 0) FROM spans);
    END;";

/// The mark, as a scalar subquery (read once a statement).
pub(super) const MARK: &str = "(SELECT mark FROM span_text_mark)";

/// How many spans wait for the index: those past the mark and those of stale blocks.
pub(super) const WAITING_COUNT: &str = "SELECT \
    (SELECT count(*) FROM span_texts WHERE span > (SELECT mark FROM span_text_mark)) + \
    (SELECT count(*) FROM span_text_stale s CROSS JOIN span_texts t \
        ON t.span BETWEEN s.block << 4 AND (s.block << 4) + 15 \
        WHERE t.span <= (SELECT mark FROM span_text_mark))";

/// 19 → 20: schema 20's FTS5 index (`span_text`, replaced by step 23) merged 16 segments
/// of a level into one rather than its default 4 (a fifth less CPU to index). A file without
/// it (step 23 drops it anyway) is left as it is.
pub(super) fn merge_wider(conn: &Connection) -> StoreResult<()> {
    let fts5: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'span_text')",
        [],
        |r| r.get(0),
    )?;
    if fts5 {
        conn.execute_batch("INSERT INTO span_text (span_text, rank) VALUES ('automerge', 16);")?;
    }
    Ok(())
}

/// The most spans whose text waits for the index before the writer indexes after every write
/// (not only when idle). A burst up to this size is stored without building the index; a
/// search meanwhile checks the newest waiting spans only (`search::MAX_WAITING_CHECKED`), so
/// what it costs stays bounded (see bench/README.md, "Search and ingest").
pub(super) const MAX_PENDING_SPANS: usize = 1_000_000;

/// `MAX_PENDING_SPANS`, or `SKEIN_BENCH_SEARCH_INDEX_BOUND` when set to a number: for the
/// ingest benchmark only, which measures sustained ingest (past the bound) without sending
/// millions of spans.
pub(super) fn max_pending_spans() -> usize {
    static BOUND: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BOUND.get_or_init(|| {
        std::env::var("SKEIN_BENCH_SEARCH_INDEX_BOUND")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(MAX_PENDING_SPANS)
    })
}

/// The spans indexed in one transaction when catching up (and the rest of the last one's
/// block): a write that arrives meanwhile waits for at most this many. Each transaction
/// writes a segment that FTS5 merges later: 4,000 rather than 500 took a fifth less CPU to
/// index (bench/README.md, "Search bounded").
pub(super) const INDEX_CHUNK: usize = 4_000;

/// False when `SKEIN_BENCH_WITHOUT_SEARCH_INDEX` is set (to anything but `0`): for the ingest
/// benchmark only, which measures what the index costs against a collector that keeps no span
/// texts and builds no index (its searches find nothing).
pub(super) fn indexing() -> bool {
    static INDEXING: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INDEXING.get_or_init(|| {
        std::env::var("SKEIN_BENCH_WITHOUT_SEARCH_INDEX").map_or(true, |v| v == "0")
    })
}

/// Keeps the text of the span just inserted as row `span`: past the mark, it waits for the
/// index by that alone.
pub(super) fn queue(conn: &Connection, span: i64, text: &Packed) -> StoreResult<()> {
    if !indexing() {
        return Ok(());
    }
    conn.prepare_cached("INSERT OR REPLACE INTO span_texts (span, text) VALUES (?1, ?2)")?
        .execute(params![span, text])?;
    Ok(())
}

fn mark(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT mark FROM span_text_mark")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// The first and last span rowid of `span`'s block.
fn block_range(span: i64) -> (i64, i64) {
    let first = (span >> BLOCK_SHIFT) << BLOCK_SHIFT;
    (first, first + BLOCK_SPANS - 1)
}

/// The text of the span row `span`, whose content was just replaced. If the index holds the
/// span, its block is stale until indexed again (a search checks its spans as waiting, not
/// by the postings, which lack the new text); past the mark, the span waits already.
pub(super) fn replace(conn: &Connection, span: i64, text: &Packed) -> StoreResult<()> {
    if !indexing() {
        return Ok(());
    }
    queue(conn, span, text)?;
    if span <= mark(conn)? {
        let block = span >> BLOCK_SHIFT;
        conn.prepare_cached("INSERT OR IGNORE INTO span_text_stale (block) VALUES (?1)")?
            .execute([block])?;
    }
    Ok(())
}

thread_local! {
    /// The writer's set of a block's trigrams (2 MiB), kept across chunks.
    static GRAMS: std::cell::RefCell<grams::GramSet> = std::cell::RefCell::default();
}

/// What one call of `index_pending` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Indexed {
    /// Waiting spans that joined the index.
    pub(super) spans: usize,
    /// Whether none waits any more.
    pub(super) caught_up: bool,
}

/// Indexes about `limit` waiting spans: the stale blocks first, then the spans past the mark
/// (the oldest first, and the rest of the last one's block), each block's trigrams listed
/// again from all its kept texts; the mark moves past them.
pub(super) fn index_pending(conn: &Connection, limit: usize) -> StoreResult<Indexed> {
    let limit = limit.max(1);
    let before = mark(conn)?;
    let stale_blocks = (limit as i64 + BLOCK_SPANS - 1) / BLOCK_SPANS;
    let stale: Vec<i64> = conn
        .prepare_cached("SELECT block FROM span_text_stale ORDER BY block LIMIT ?1")?
        .query_map([stale_blocks + 1], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let more_stale = stale.len() as i64 > stale_blocks;
    let stale = &stale[..stale.len().min(stale_blocks as usize)];
    // New spans with what the stale blocks (few: changed spans) leave of `limit`.
    let room = limit.saturating_sub(stale.len() * BLOCK_SPANS as usize);
    let fresh: Vec<i64> = if room == 0 {
        Vec::new()
    } else {
        conn.prepare_cached("SELECT span FROM span_texts WHERE span > ?1 ORDER BY span LIMIT ?2")?
            .query_map(params![before, room as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    // The new mark: the last span taken, and the rest of its block.
    let after = match fresh.last() {
        Some(&last) => conn
            .prepare_cached("SELECT max(span) FROM span_texts WHERE span BETWEEN ?1 AND ?2")?
            .query_row([last, block_range(last).1], |r| r.get::<_, Option<i64>>(0))?
            .unwrap_or(last),
        None => before,
    };
    let more_fresh: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM span_texts WHERE span > ?1)")?
        .query_row([after], |r| r.get(0))?;
    let mut blocks: Vec<i64> = stale.to_vec();
    blocks.extend(fresh.iter().map(|s| s >> BLOCK_SHIFT));
    blocks.sort_unstable();
    blocks.dedup();
    // Each block's distinct trigrams, from all its kept texts, as (trigram, block) pairs of
    // the chunk; a block indexed before (stale, or the mark's block) is listed again.
    let mut read = conn
        .prepare_cached("SELECT skein_text(text) FROM span_texts WHERE span BETWEEN ?1 AND ?2")?;
    let mut stale_spans = 0;
    let mut pairs: Vec<u64> = Vec::new();
    GRAMS.with_borrow_mut(|grams| -> StoreResult<()> {
        for (index, &block) in blocks.iter().enumerate() {
            let (first, last) = block_range(block << BLOCK_SHIFT);
            let mut rows = read.query([first, last])?;
            let mut texts = 0;
            while let Some(row) = rows.next()? {
                if let Ok(text) = row.get_ref(0)?.as_str() {
                    grams.add(text);
                }
                texts += 1;
            }
            if stale.binary_search(&block).is_ok() {
                stale_spans += texts;
            }
            grams.drain(|g| pairs.push(u64::from(g) << grams::BLOCK_BITS | index as u64));
        }
        Ok(())
    })?;
    postings::write_chunk(conn, &blocks, &mut pairs)?;
    postings::prune(conn)?;
    if let (Some(first), Some(last)) = (stale.first(), stale.last()) {
        conn.prepare_cached("DELETE FROM span_text_stale WHERE block BETWEEN ?1 AND ?2")?
            .execute([first, last])?;
    }
    if after != before {
        conn.prepare_cached("UPDATE span_text_mark SET mark = ?1")?
            .execute([after])?;
    }
    // The rest of the last block counted as rowids (a close enough count for the writer).
    let rest = fresh.last().map_or(0, |&last| (after - last) as usize);
    Ok(Indexed {
        spans: stale_spans + fresh.len() + rest,
        caught_up: !more_stale && !more_fresh,
    })
}

/// How many spans wait for the index.
pub(super) fn pending(conn: &Connection) -> StoreResult<usize> {
    let n: i64 = conn.query_row(WAITING_COUNT, [], |r| r.get(0))?;
    Ok(n as usize)
}
