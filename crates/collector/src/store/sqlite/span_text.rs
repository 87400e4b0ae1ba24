//! `span_text`: the full-text index that `search("...")` in span and trace filters reads, and
//! `span_texts`, the texts it is built from. A span's text is its
//! `skein_model::trace_search::search_text`, lowercased in Rust on the caller's thread, kept in
//! `span_texts` by the span's rowid, packed where that is smaller (`codec::Packed`, read
//! through `skein_text`). The index is an FTS5 table with the trigram tokenizer,
//! case-sensitive (the text is lowercased already), contentless, and `detail=none`: it keeps
//! which spans hold each three-character sequence, not where. A search asks it for the spans
//! holding every trigram of the needle (`match_query`, `candidates`), then checks a candidate's
//! kept text with `instr` (`check`) only when the statement reaches it (`search_sql`; the span
//! list checks its page's rows only): exactly `span_contains`, Unicode case included. A needle
//! of three characters is one trigram, which the index answers exactly without the check.
//! Without positions the index is about a quarter of the size of one that has them (the
//! layout before schema 18), and building it writes that much less.
//!
//! The index is built behind the writer: a span's text is stored in `span_texts` and its id
//! queued in `span_text_pending`, in the writer's transaction (`traces::insert_spans`,
//! `pieces::replace_row`), and moved into the index later, a chunk at a time, by the writer
//! when no write waits (`index_pending`), or after every write once more than
//! `MAX_PENDING_SPANS` wait (so the queue, and what a search scans of it, stays bounded).
//! A search takes the index's candidates and the newest queued spans (`MAX_WAITING_CHECKED`),
//! both in the same snapshot, and checks their texts: a span is in at most one of them, so it
//! is found the moment it is acknowledged, unless more than that many wait (then until it is
//! indexed, and the list's total says it is approximate). Removed with the span (a trigger).

use rusqlite::{params, Connection};
use skein_model::trace_search::search_text;

use super::codec::{self, CurrentDict, Packed};
use crate::store::StoreResult;

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
        DELETE FROM span_text WHERE rowid = old.id;
        DELETE FROM span_texts WHERE span = old.id;
        DELETE FROM span_text_pending WHERE span = old.id;
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
/// (not only when idle). A burst up to this size is stored without building the index (which
/// costs about as much CPU as the rest of storing a span); a search meanwhile checks every
/// waiting span it reaches, so what it costs is bounded by this (see bench/README.md, "Search
/// and ingest").
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

/// The spans indexed in one transaction when catching up: a write that arrives meanwhile
/// waits for at most this many. Each transaction writes a segment that FTS5 merges later:
/// 4,000 rather than 500 took a fifth less CPU to index (bench/README.md, "Search bounded").
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

/// The text of the span row `span`, whose content was just replaced: its old text leaves the
/// index now, the new one is kept and queued.
pub(super) fn replace(conn: &Connection, span: i64, text: &Packed) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM span_text WHERE rowid = ?1")?
        .execute(params![span])?;
    queue(conn, span, text)
}

/// Moves up to `limit` queued texts (the oldest spans first) into the index; how many.
pub(super) fn index_pending(conn: &Connection, limit: usize) -> StoreResult<usize> {
    let mut read = conn.prepare_cached(
        "SELECT p.span, skein_text(t.text) FROM span_text_pending p \
         JOIN span_texts t ON t.span = p.span \
         ORDER BY p.span LIMIT ?1",
    )?;
    let mut insert = conn.prepare_cached("INSERT INTO span_text (rowid, text) VALUES (?1, ?2)")?;
    let mut rows = read.query([limit as i64])?;
    let (mut moved, mut last) = (0, None);
    while let Some(row) = rows.next()? {
        let (span, text): (i64, String) = (row.get(0)?, row.get(1)?);
        insert.execute(params![span, text])?;
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

/// The condition "span row `id` holds `needle`" (lowercased, at least three characters),
/// its parameters bound through `bind` (which answers each one's placeholder) in the order
/// they appear: the row is one of the needle's `candidates` and its kept text holds the
/// needle (`check`). The candidates are read once a statement; the text is read only for a
/// candidate the rest of the statement reaches (in a trace scope's `EXISTS`, until a span of
/// the trace passes). A needle of three characters is one trigram: the index's answer is
/// exact, and only the queued texts are read.
pub(super) fn search_sql(id: &str, needle: &str, mut bind: impl FnMut(String) -> String) -> String {
    if needle.chars().count() == 3 {
        let query = bind(match_query(needle));
        let waiting = check("p.span", &bind(needle.to_string()));
        return format!(
            "{id} IN (SELECT rowid FROM span_text WHERE span_text MATCH {query} UNION ALL \
             SELECT p.span FROM ({}) p WHERE {waiting})",
            waiting_checked()
        );
    }
    let candidates = candidates(needle, &mut bind);
    let checked = check(id, &bind(needle.to_string()));
    format!("({id} IN ({candidates}) AND {checked})")
}

/// The span rowids that may hold `needle`: those the index holds every (asked) trigram of,
/// and the newest spans whose texts wait for the index (column `id`; each span once: a span is
/// in at most one of them). A superset of the matches, read from the index alone; `check` decides.
pub(super) fn candidates(needle: &str, mut bind: impl FnMut(String) -> String) -> String {
    let query = bind(match_query(needle));
    format!(
        "SELECT rowid AS id FROM span_text WHERE span_text MATCH {query} UNION ALL {}",
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

/// `needle` as an FTS5 query for the spans whose text holds every one of its distinct
/// trigrams (at most `MAX_QUERY_TRIGRAMS` of them, every n-th in sorted order): each trigram one quoted string, its
/// quotes doubled, so that `"`, `*`, `-`, `NEAR`, `AND`, `^` and the like are characters to
/// find, never query syntax.
pub(super) fn match_query(needle: &str) -> String {
    let chars: Vec<char> = needle.chars().collect();
    let mut trigrams: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    trigrams.sort();
    trigrams.dedup();
    let step = trigrams.len().div_ceil(MAX_QUERY_TRIGRAMS).max(1);
    trigrams
        .iter()
        .step_by(step)
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
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

    /// Stores `spans` as the writer does (their texts queued).
    fn insert(conn: &Connection, spans: impl Iterator<Item = Span>) {
        let rows: Vec<SpanRow> = spans
            .map(|span| SpanRow::encode(span, None).unwrap())
            .collect();
        let mut next = schema::next_trace_id(conn).unwrap();
        traces::insert_spans(conn, &mut next, &rows).unwrap();
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
        // Removing the span removes its text.
        conn.execute_batch("DELETE FROM spans").unwrap();
        assert_eq!(found(&conn, "refund"), 0);
        let kept: i64 = conn
            .query_row("SELECT count(*) FROM span_texts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 0);
    }

    #[test]
    fn the_queue_is_indexed_a_chunk_at_a_time_and_leaves_with_its_spans() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("skein.db")).unwrap();
        schema::migrate(&mut conn).unwrap();
        let spans = (0..5).map(|i| Span {
            project: "p".into(),
            trace_id: format!("{i:032x}"),
            span_id: "b".repeat(16),
            name: format!("step {i} of kyoto"),
            ..Span::default()
        });
        insert(&conn, spans);
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

    #[test]
    fn a_search_checks_only_the_newest_waiting_spans() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("skein.db")).unwrap();
        schema::migrate(&mut conn).unwrap();
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
        assert_eq!(index_pending(&conn, 2).unwrap(), 2);
        assert_eq!(searched(&conn, "kyoto"), 2);
        assert_eq!(searched(&conn, "kyoto 0"), 1);
        assert!(!waiting_beyond_checked(&conn).unwrap());
    }
}
