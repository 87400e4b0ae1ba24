//! `span_text`: the full-text index that `search("...")` in span and trace filters reads, and
//! `span_texts`, the texts it is built from. A span's text is its
//! `skein_model::trace_search::search_text`, lowercased in Rust on the caller's thread, kept in
//! `span_texts` by the span's rowid, packed where that is smaller (`codec::Packed`, read
//! through `skein_text`). The index is an FTS5 table with the trigram tokenizer,
//! case-sensitive (the text is lowercased already), contentless, and `detail=none`: it keeps
//! which documents hold each three-character sequence, not where.
//!
//! A document is a block of `BLOCK_SPANS` consecutive span rowids (`rowid >> BLOCK_SHIFT`):
//! every distinct text of the block's spans, once (`block_document`). Consecutive rowids are
//! mostly one trace's spans, whose texts repeat (the question in every model call, the tags
//! on every span), so a block has far fewer trigrams to index than its spans one by one
//! (bench/README.md, "Search index by blocks"). A search asks the index for the blocks
//! holding every trigram of the needle (`match_query`); their spans are the candidates, each
//! checked against its own kept text with `instr` (`check`) only when the statement reaches
//! it (`search_sql`; the span list checks its page's rows only): exactly `span_contains`,
//! Unicode case included.
//!
//! The index is built behind the writer: a span's text is stored in `span_texts` and its id
//! queued in `span_text_pending`, in the writer's transaction (`traces::insert_spans`,
//! `pieces::replace_row`), and moved into the index later, a chunk at a time, by the writer
//! when no write waits (`index_pending`), or after every write once more than
//! `MAX_PENDING_SPANS` wait (so the queue, and what a search scans of it, stays bounded).
//! Indexing a block writes its document again from all its spans' texts. A search takes the
//! indexed blocks' spans that are not queued and the newest queued spans
//! (`MAX_WAITING_CHECKED`), both in the same snapshot: a span is in at most one of them, so
//! it is found the moment it is acknowledged, unless more than that many wait (then until it
//! is indexed, and the list's total says it is approximate). A removed span's text leaves
//! with it (a trigger), its block's document once the block has no span left: until then
//! the document may name trigrams of removed spans, which only makes candidates that fail
//! their check.

use std::collections::HashSet;

use rusqlite::{params, Connection};
use skein_model::trace_search::{search_text, SEARCH_SEPARATOR};

use super::codec::{self, CurrentDict, Packed};
use crate::store::StoreResult;

/// A document of the index covers the spans whose rowids agree but for their last
/// `BLOCK_SHIFT` bits.
pub(super) const BLOCK_SHIFT: u32 = 4;
/// Spans a document covers (at most).
pub(super) const BLOCK_SPANS: i64 = 1 << BLOCK_SHIFT;
// `SCHEMA`'s trigger says 4 and 15 for these.
const _: () = assert!(BLOCK_SHIFT == 4 && BLOCK_SPANS == 16);

/// The index, the texts, the queue and the trigger that keeps them in step with `spans`.
pub(super) const SCHEMA: &str = "
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

/// FTS5 merges 16 segments of a level into one rather than its default 4: each span's
/// entries are rewritten by fewer merges as the index grows (a fifth less CPU to index, for
/// a search reading a few more segments; bench/README.md, "Ingest").
const MERGE_SETTINGS: &str = "INSERT INTO span_text (span_text, rank) VALUES ('automerge', 16);";

/// Sets `MERGE_SETTINGS` (on every index made, and as step 19 → 20 on an existing one).
pub(super) fn merge_wider(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(MERGE_SETTINGS)?;
    Ok(())
}

/// The most spans whose text waits for the index before the writer indexes after every write
/// (not only when idle). A burst up to this size is stored without building the index; a
/// search meanwhile checks the newest waiting spans only (`MAX_WAITING_CHECKED`), so what it
/// costs stays bounded (see bench/README.md, "Search and ingest").
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

/// The most waiting spans (the newest) a search checks by their texts while the index catches
/// up: a search's cost stays bounded however long the queue, and what was just acknowledged
/// is still found. Older waiting spans are found once indexed; meanwhile a list says its
/// total is approximate (`waiting_beyond_checked`).
#[cfg(not(test))]
pub(super) const MAX_WAITING_CHECKED: usize = 20_000;
/// Small in unit tests, whose stores are small.
#[cfg(test)]
pub(super) const MAX_WAITING_CHECKED: usize = 500;

/// The newest waiting spans a search checks (column `span`).
fn waiting_checked() -> String {
    format!(
        "SELECT span FROM (SELECT span FROM span_text_pending ORDER BY span DESC LIMIT {MAX_WAITING_CHECKED})"
    )
}

/// True when more spans wait for the index than a search checks: its results leave some out.
pub(super) fn waiting_beyond_checked(conn: &Connection) -> StoreResult<bool> {
    let n: i64 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM span_text_pending LIMIT {})",
            MAX_WAITING_CHECKED + 1
        ))?
        .query_row([], |r| r.get(0))?;
    Ok(n as usize > MAX_WAITING_CHECKED)
}

/// The most trigrams of a needle asked of the index: the candidates are checked against the
/// text anyway, and a few dozen trigrams already leave next to no false candidate.
const MAX_QUERY_TRIGRAMS: usize = 24;

/// 10 → 11 and 12 → 13 built the layout before this one: what they made is replaced by step
/// 18 (`keep_texts`), so they do nothing now.
pub(super) fn superseded(_: &Connection) -> StoreResult<()> {
    Ok(())
}

/// 17 → 18. The texts kept beside an index without positions: whatever index and queue the
/// file has (schema 11's index, schema 13's queue of texts, or none) is dropped, every stored
/// span's text is computed again from its body (a body this version cannot read is left out:
/// such a span is found by no search) and queued, and the writer builds the index behind
/// (a search scans the queue meanwhile).
pub(super) fn keep_texts(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS span_text_removed;
         DROP TABLE IF EXISTS span_text;
         DROP TABLE IF EXISTS span_text_pending;
         DROP TABLE IF EXISTS span_texts;",
    )?;
    conn.execute_batch(SCHEMA)?;
    merge_wider(conn)?;
    let dict = CurrentDict::load(conn)?.get();
    let mut read = conn.prepare("SELECT id, body FROM spans")?;
    let mut rows = read.query([])?;
    let mut filled = 0u64;
    while let Some(row) = rows.next()? {
        let (id, body): (i64, Vec<u8>) = (row.get(0)?, row.get(1)?);
        if let Ok(span) = codec::decode(conn, &body) {
            queue(conn, id, &Packed::pack(search_text(&span), dict.as_deref()))?;
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
/// queued texts meanwhile, as after any burst).
pub(super) fn index_blocks(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS span_text_removed;
         DROP TABLE IF EXISTS span_text;",
    )?;
    conn.execute_batch(SCHEMA)?;
    merge_wider(conn)?;
    conn.execute_batch(
        "INSERT OR IGNORE INTO span_text_pending (span) SELECT span FROM span_texts;",
    )?;
    Ok(())
}

/// False when `SKEIN_BENCH_WITHOUT_SEARCH_INDEX` is set (to anything but `0`): for the ingest
/// benchmark only, which measures what the index costs against a collector that keeps no span
/// texts and builds no index (its searches find nothing).
pub(super) fn indexing() -> bool {
    static INDEXING: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INDEXING.get_or_init(|| {
        std::env::var("SKEIN_BENCH_WITHOUT_SEARCH_INDEX").map_or(true, |v| v == "0")
    })
}

/// Keeps the text of the span just inserted as row `span` and queues it for the index.
pub(super) fn queue(conn: &Connection, span: i64, text: &Packed) -> StoreResult<()> {
    if !indexing() {
        return Ok(());
    }
    conn.prepare_cached("INSERT OR REPLACE INTO span_texts (span, text) VALUES (?1, ?2)")?
        .execute(params![span, text])?;
    conn.prepare_cached("INSERT OR IGNORE INTO span_text_pending (span) VALUES (?1)")?
        .execute(params![span])?;
    Ok(())
}

/// The first and last span rowid of `span`'s block.
fn block_range(span: i64) -> (i64, i64) {
    let first = (span >> BLOCK_SHIFT) << BLOCK_SHIFT;
    (first, first + BLOCK_SPANS - 1)
}

/// The text of the span row `span`, whose content was just replaced: its block's document
/// leaves the index now (it holds the old text), and every span of the block is queued to
/// be indexed again, the new text with them.
pub(super) fn replace(conn: &Connection, span: i64, text: &Packed) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM span_text WHERE rowid = ?1")?
        .execute(params![span >> BLOCK_SHIFT])?;
    if indexing() {
        let (first, last) = block_range(span);
        conn.prepare_cached(
            "INSERT OR IGNORE INTO span_text_pending (span) \
             SELECT span FROM span_texts WHERE span BETWEEN ?1 AND ?2",
        )?
        .execute(params![first, last])?;
    }
    queue(conn, span, text)
}

/// A block's document: every distinct text (between `SEARCH_SEPARATOR`s) of its spans' kept
/// texts, once, separated as in a span's text. A needle within one text of a span is within
/// one text of the document, so the document holds all its trigrams.
fn block_document(texts: &[String]) -> String {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut document = String::new();
    for piece in texts.iter().flat_map(|t| t.split(SEARCH_SEPARATOR)) {
        if piece.is_empty() || !seen.insert(piece) {
            continue;
        }
        if !document.is_empty() {
            document.push(SEARCH_SEPARATOR);
        }
        document.push_str(piece);
    }
    document
}

/// Indexes the blocks of up to `limit` queued spans (the oldest first, and the rest of the
/// last one's block), each block's document written again from all its kept texts; how many
/// queued spans left the queue.
pub(super) fn index_pending(conn: &Connection, limit: usize) -> StoreResult<usize> {
    let mut spans: Vec<i64> = conn
        .prepare_cached("SELECT span FROM span_text_pending ORDER BY span LIMIT ?1")?
        .query_map([limit as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let Some(&last) = spans.last() else {
        return Ok(0);
    };
    let (_, end) = block_range(last);
    let rest: Vec<i64> = conn
        .prepare_cached("SELECT span FROM span_text_pending WHERE span > ?1 AND span <= ?2")?
        .query_map([last, end], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    spans.extend(rest);
    let mut blocks: Vec<i64> = spans.iter().map(|s| s >> BLOCK_SHIFT).collect();
    blocks.dedup();
    // Every old document out first: a delete between inserts would make FTS5 write its
    // pending inserts out as a segment of their own.
    let mut forget = conn.prepare_cached("DELETE FROM span_text WHERE rowid = ?1")?;
    for block in &blocks {
        forget.execute([block])?;
    }
    let mut read = conn
        .prepare_cached("SELECT skein_text(text) FROM span_texts WHERE span BETWEEN ?1 AND ?2")?;
    let mut insert = conn.prepare_cached("INSERT INTO span_text (rowid, text) VALUES (?1, ?2)")?;
    for &block in &blocks {
        let (first, last) = block_range(block << BLOCK_SHIFT);
        let texts: Vec<String> = read
            .query_map([first, last], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if !texts.is_empty() {
            insert.execute(params![block, block_document(&texts)])?;
        }
    }
    conn.prepare_cached("DELETE FROM span_text_pending WHERE span <= ?1")?
        .execute([end])?;
    Ok(spans.len())
}

/// How many spans wait for the index.
pub(super) fn pending(conn: &Connection) -> StoreResult<usize> {
    let n: i64 = conn.query_row("SELECT count(*) FROM span_text_pending", [], |r| r.get(0))?;
    Ok(n as usize)
}

/// The condition "span row `id` holds `needle`" (lowercased, at least three characters),
/// its parameters bound through `bind` (which answers each one's placeholder) in the order
/// they appear: the row's block holds the needle's trigrams and the row is not queued, or the
/// row is one of the newest queued; and its kept text holds the needle (`check`). The blocks
/// and the queued rows are read once a statement (small sets: blocks, not spans); the text is
/// read only for a row the rest of the statement reaches (in a trace scope's `EXISTS`, until
/// a span of the trace passes).
pub(super) fn search_sql(id: &str, needle: &str, mut bind: impl FnMut(String) -> String) -> String {
    let Some(query) = match_query(needle) else {
        return check(id, &bind(needle.to_string()));
    };
    let query = bind(query);
    let checked = check(id, &bind(needle.to_string()));
    format!(
        "(((({id} >> {BLOCK_SHIFT}) IN (SELECT rowid FROM span_text WHERE span_text MATCH {query}) \
         AND {id} NOT IN (SELECT span FROM span_text_pending)) OR {id} IN ({})) AND {checked})",
        waiting_checked()
    )
}

/// The span rowids that may hold `needle`, in rowid order (column `id`; each span once): the
/// spans of the blocks the index holds every (asked) trigram of, but for those queued, then
/// the newest queued spans. A superset of the matches; `check` decides. A needle without a
/// trigram of one text (it spans a `SEARCH_SEPARATOR`) makes every span a candidate.
pub(super) fn candidates(needle: &str, mut bind: impl FnMut(String) -> String) -> String {
    let Some(query) = match_query(needle) else {
        return "SELECT span AS id FROM span_texts".to_string();
    };
    let query = bind(query);
    format!(
        "SELECT block_span.span AS id FROM span_text CROSS JOIN span_texts block_span \
         ON block_span.span BETWEEN span_text.rowid << {BLOCK_SHIFT} \
         AND (span_text.rowid << {BLOCK_SHIFT}) + {} \
         WHERE span_text MATCH {query} \
         AND block_span.span NOT IN (SELECT span FROM span_text_pending) \
         UNION ALL {}",
        BLOCK_SPANS - 1,
        waiting_checked()
    )
}

/// Whether `needle` has more than `limit` candidates (index and checked queue).
pub(super) fn has_more_candidates(
    conn: &Connection,
    needle: &str,
    limit: usize,
) -> StoreResult<bool> {
    let mut args = Vec::new();
    let candidates = candidates(needle, |value| {
        args.push(value);
        "?".to_string()
    });
    let n: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM (SELECT 1 FROM ({candidates}) LIMIT {})",
            limit + 1
        ),
        rusqlite::params_from_iter(args),
        |r| r.get(0),
    )?;
    Ok(n as usize > limit)
}

/// "The kept text of span row `id` holds the needle bound as `needle`": exact, for any span,
/// indexed or queued (a span without a kept text holds nothing). `instr` on the lowercased
/// text is what `span_contains` does; the text is read by its key.
pub(super) fn check(id: &str, needle: &str) -> String {
    // `kept`: an alias no caller gives its span rows.
    format!(
        "ifnull(instr((SELECT skein_text(kept.text) FROM span_texts kept WHERE kept.span = {id}), \
         {needle}), \
         0) > 0"
    )
}

/// `needle` as an FTS5 query for the documents holding every one of its distinct trigrams
/// that lie within one text (at most `MAX_QUERY_TRIGRAMS` of them, every n-th in sorted
/// order): each trigram one quoted string, its quotes doubled, so that `"`, `*`, `-`, `NEAR`,
/// `AND`, `^` and the like are characters to find, never query syntax. None when no trigram
/// lies within one text: a block's document keeps its texts, not how its spans joined them.
pub(super) fn match_query(needle: &str) -> Option<String> {
    let chars: Vec<char> = needle.chars().collect();
    let mut trigrams: Vec<String> = chars
        .windows(3)
        .filter(|w| !w.contains(&SEARCH_SEPARATOR))
        .map(|w| w.iter().collect())
        .collect();
    trigrams.sort();
    trigrams.dedup();
    if trigrams.is_empty() {
        return None;
    }
    let step = trigrams.len().div_ceil(MAX_QUERY_TRIGRAMS).max(1);
    Some(
        trigrams
            .iter()
            .step_by(step)
            .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" AND "),
    )
}

#[cfg(test)]
mod tests {
    use skein_model::span::Span;

    use super::*;
    use crate::store::sqlite::codec::SpanRow;
    use crate::store::sqlite::{schema, traces};

    /// Documents (blocks) the index holds every asked trigram of `needle` in.
    fn found(conn: &Connection, needle: &str) -> i64 {
        conn.query_row(
            "SELECT count(*) FROM span_text WHERE span_text MATCH ?1",
            [match_query(needle).unwrap()],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// What a search finds: the index, its candidates checked, and the queue.
    fn searched(conn: &Connection, needle: &str) -> i64 {
        let mut args = Vec::new();
        let condition = search_sql("spans.id", needle, |value| {
            args.push(value);
            "?".to_string()
        });
        conn.query_row(
            &format!("SELECT count(*) FROM spans WHERE {condition}"),
            rusqlite::params_from_iter(args),
            |r| r.get(0),
        )
        .unwrap()
    }

    /// The candidates of `needle` (as the span list reads its rows from them).
    fn candidate_ids(conn: &Connection, needle: &str) -> Vec<i64> {
        let mut args = Vec::new();
        let sql = candidates(needle, |value| {
            args.push(value);
            "?".to_string()
        });
        let mut statement = conn.prepare(&sql).unwrap();
        let ids = statement
            .query_map(rusqlite::params_from_iter(args), |r| r.get(0))
            .unwrap()
            .collect::<Result<Vec<i64>, _>>()
            .unwrap();
        ids
    }

    /// Stores `spans` as the writer does (their texts queued).
    fn insert(conn: &Connection, spans: impl Iterator<Item = Span>) {
        let rows: Vec<SpanRow> = spans
            .map(|span| SpanRow::encode(span, None).unwrap())
            .collect();
        let mut next = schema::next_trace_id(conn).unwrap();
        traces::insert_spans(conn, &mut next, &rows).unwrap();
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn queued(conn: &Connection) -> i64 {
        count(conn, "SELECT count(*) FROM span_text_pending")
    }

    fn migrated() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("skein.db")).unwrap();
        schema::migrate(&mut conn).unwrap();
        (dir, conn)
    }

    /// `n` spans of their own traces, named "step {i} of kyoto".
    fn steps(n: usize) -> impl Iterator<Item = Span> {
        (0..n).map(|i| Span {
            project: "p".into(),
            trace_id: format!("{:032x}", i + 1),
            span_id: "b".repeat(16),
            name: format!("step {i} of kyoto"),
            ..Span::default()
        })
    }

    #[test]
    fn a_database_from_before_gets_its_index_from_the_stored_bodies() {
        let (_dir, mut conn) = migrated();
        let span = Span {
            project: "p".into(),
            trace_id: "a".repeat(32),
            span_id: "b".repeat(16),
            name: "chat".into(),
            input: Some(r#"Please REFUND order "A-1" *now* NEAR 50%"#.into()),
            // Every trigram of "kyoto", not in a row: a candidate of the index, not a match.
            output: Some("kyo, yoto".into()),
            ..Span::default()
        };
        let mut next = schema::next_trace_id(&conn).unwrap();
        traces::insert_spans(&conn, &mut next, &[SpanRow::encode(span, None).unwrap()]).unwrap();
        let needles = ["refund", "\"a-1\"", "*now* near", "50%", "chat", "yoto"];
        // Queued, not indexed yet: found by the scan of the queue.
        assert_eq!((queued(&conn), found(&conn, "refund")), (1, 0));
        for needle in needles {
            assert_eq!(searched(&conn, needle), 1, "{needle}");
        }
        assert_eq!(searched(&conn, "refunds"), 0);
        assert_eq!(searched(&conn, "kyoto"), 0);
        // Indexed: found through the index, once.
        assert_eq!(index_pending(&conn, INDEX_CHUNK).unwrap(), 1);
        assert_eq!(queued(&conn), 0);
        for needle in needles {
            assert_eq!(found(&conn, needle), 1, "{needle}");
            assert_eq!(searched(&conn, needle), 1, "{needle}");
        }
        assert_eq!(searched(&conn, "refunds"), 0);
        assert_eq!((found(&conn, "kyoto"), searched(&conn, "kyoto")), (1, 0));

        // A file from before the index: the migration keeps the texts from the bodies and
        // queues them.
        conn.execute_batch(
            "DROP TRIGGER span_text_removed; DROP TABLE span_text; DROP TABLE span_texts; \
             DROP TABLE span_text_pending; PRAGMA user_version = 9;",
        )
        .unwrap();
        schema::migrate(&mut conn).unwrap();
        assert_eq!((queued(&conn), searched(&conn, "refund")), (1, 1));
        assert_eq!(index_pending(&conn, INDEX_CHUNK).unwrap(), 1);
        assert_eq!((found(&conn, "refund"), searched(&conn, "refund")), (1, 1));
        // Removing the span removes its text, and its block's document with the last span.
        conn.execute_batch("DELETE FROM spans").unwrap();
        assert_eq!(found(&conn, "refund"), 0);
        assert_eq!(count(&conn, "SELECT count(*) FROM span_texts"), 0);
    }

    #[test]
    fn the_queue_is_indexed_a_block_at_a_time_and_leaves_with_its_spans() {
        let (_dir, conn) = migrated();
        insert(&conn, steps(40));
        let first = count(&conn, "SELECT min(span) FROM span_text_pending");
        let first_block = (first >> BLOCK_SHIFT) << BLOCK_SHIFT;
        let in_first_block = first_block + BLOCK_SPANS - first;
        assert_eq!(pending(&conn).unwrap(), 40);
        // Two spans asked: their block whole.
        assert_eq!(index_pending(&conn, 2).unwrap() as i64, in_first_block);
        assert_eq!(found(&conn, "kyoto"), 1);
        assert_eq!(queued(&conn), 40 - in_first_block);
        // Every span found once, indexed or queued, and each candidate once.
        assert_eq!(searched(&conn, "kyoto"), 40);
        let mut ids = candidate_ids(&conn, "kyoto");
        assert_eq!(ids.len(), 40);
        ids.dedup();
        assert_eq!(ids.len(), 40);
        assert_eq!(searched(&conn, "step 3 of"), 1);
        assert_eq!(searched(&conn, "step 39 of"), 1);
        // A three-character needle is checked too: the block holds it, not every span.
        assert_eq!(searched(&conn, "p 7"), 1);
        // A span removed while queued leaves the queue.
        conn.execute("DELETE FROM spans WHERE name = 'step 39 of kyoto'", [])
            .unwrap();
        assert_eq!(
            (searched(&conn, "kyoto"), queued(&conn)),
            (39, 39 - in_first_block)
        );
        while index_pending(&conn, 10).unwrap() > 0 {}
        let blocks = count(
            &conn,
            &format!("SELECT count(DISTINCT span >> {BLOCK_SHIFT}) FROM span_texts"),
        );
        assert_eq!(
            (found(&conn, "kyoto"), searched(&conn, "kyoto")),
            (blocks, 39)
        );
        // The first block's spans removed: its document goes with the last of them.
        conn.execute(
            "DELETE FROM spans WHERE id < ?1",
            [first_block + BLOCK_SPANS],
        )
        .unwrap();
        assert_eq!(found(&conn, "kyoto"), blocks - 1);
        assert_eq!(searched(&conn, "kyoto"), 39 - in_first_block);
    }

    #[test]
    fn a_block_is_indexed_again_when_a_span_of_it_changes() {
        let (_dir, conn) = migrated();
        insert(&conn, steps(3));
        while index_pending(&conn, INDEX_CHUNK).unwrap() > 0 {}
        let id = count(&conn, "SELECT id FROM spans WHERE name = 'step 1 of kyoto'");
        replace(&conn, id, &Packed::pack("step 1 of osaka".into(), None)).unwrap();
        // Its block out of the index, its spans queued: still found, the new text only.
        assert_eq!((found(&conn, "kyoto"), queued(&conn)), (0, 3));
        assert_eq!((searched(&conn, "kyoto"), searched(&conn, "osaka")), (2, 1));
        while index_pending(&conn, INDEX_CHUNK).unwrap() > 0 {}
        assert_eq!((found(&conn, "kyoto"), queued(&conn)), (1, 0));
        assert_eq!((searched(&conn, "kyoto"), searched(&conn, "osaka")), (2, 1));
        assert_eq!(searched(&conn, "step 1 of kyoto"), 0);
    }

    #[test]
    fn a_block_document_keeps_each_text_once_and_a_needle_across_texts_is_still_found() {
        let texts = ["chat\u{1f}kyoto trip", "chat\u{1f}osaka\u{1f}kyoto trip"].map(String::from);
        assert_eq!(block_document(&texts), "chat\u{1f}kyoto trip\u{1f}osaka");
        let (_dir, conn) = migrated();
        insert(
            &conn,
            [("Refund", "desk"), ("refund", "help")]
                .into_iter()
                .enumerate()
                .map(|(i, (name, service))| Span {
                    project: "p".into(),
                    trace_id: format!("{:032x}", i + 1),
                    span_id: "b".repeat(16),
                    name: name.into(),
                    service: service.into(),
                    ..Span::default()
                }),
        );
        while index_pending(&conn, INDEX_CHUNK).unwrap() > 0 {}
        // What `span_contains` says of a needle holding the separator, the search says too.
        let across = format!("d{SEARCH_SEPARATOR}h");
        assert!(match_query(&across).is_none());
        assert_eq!(searched(&conn, &across), 1);
        assert_eq!(searched(&conn, &format!("refund{SEARCH_SEPARATOR}d")), 1);
        assert_eq!(searched(&conn, "refund"), 2);
    }

    #[test]
    fn a_search_checks_only_the_newest_waiting_spans() {
        let (_dir, conn) = migrated();
        // The oldest and the newest of MAX_WAITING_CHECKED + 2 waiting spans say "kyoto".
        let last = MAX_WAITING_CHECKED + 1;
        let spans = (0..=last).map(|i| Span {
            project: "p".into(),
            trace_id: format!("{:032x}", i / 10 + 1),
            span_id: format!("{:016x}", i + 1),
            name: format!(
                "{} {i}",
                if i == 0 || i == last {
                    "kyoto"
                } else {
                    "osaka"
                }
            ),
            ..Span::default()
        });
        insert(&conn, spans);
        assert!(waiting_beyond_checked(&conn).unwrap());
        // The newest is found at once (as are three-character needles of it); the oldest
        // once indexed.
        assert_eq!(searched(&conn, "kyoto"), 1);
        assert_eq!(searched(&conn, "kyo"), 1);
        assert_eq!(searched(&conn, &format!("kyoto {last}")), 1);
        assert_eq!(searched(&conn, "kyoto 0"), 0);
        assert!(index_pending(&conn, 2).unwrap() >= 2);
        assert_eq!(searched(&conn, "kyoto"), 2);
        assert_eq!(searched(&conn, "kyoto 0"), 1);
        assert!(!waiting_beyond_checked(&conn).unwrap());
    }
}
