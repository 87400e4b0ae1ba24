//! The index's upkeep on a store's own connection: what a search finds while spans wait, as
//! they are indexed, changed and removed.

use skein_model::span::Span;

use skein_model::trace_search::SEARCH_SEPARATOR;

use super::search::MAX_WAITING_CHECKED;
use super::*;
use crate::store::sqlite::codec::SpanRow;
use crate::store::sqlite::{schema, traces};

/// Blocks the index holds every asked trigram of `needle` in, as far as a search takes them
/// from the index: a span of theirs kept and at or below the mark, the block not stale.
fn found(conn: &Connection, needle: &str) -> i64 {
    conn.query_row(
        &format!(
            "SELECT count(*) FROM json_each(skein_blocks(?1)) hit \
             WHERE hit.value NOT IN (SELECT block FROM span_text_stale) \
             AND EXISTS (SELECT 1 FROM span_texts WHERE span BETWEEN hit.value << {BLOCK_SHIFT} \
                 AND min((hit.value << {BLOCK_SHIFT}) + {}, {MARK}))",
            BLOCK_SPANS - 1
        ),
        [needle],
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

/// Spans waiting for the index.
fn queued(conn: &Connection) -> i64 {
    count(conn, WAITING_COUNT)
}

/// Indexes every waiting span, as the writer does when idle.
fn index_all(conn: &Connection, chunk: usize) {
    while !index_pending(conn, chunk).unwrap().caught_up {}
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
    assert_eq!(
        index_pending(&conn, INDEX_CHUNK).unwrap(),
        Indexed {
            spans: 1,
            caught_up: true
        }
    );
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
        "DROP TRIGGER span_text_removed; DROP TABLE span_grams; DROP TABLE span_gram_chunks; \
         DROP TABLE span_texts; DROP TABLE span_text_mark; DROP TABLE span_text_stale; \
         PRAGMA user_version = 9;",
    )
    .unwrap();
    schema::migrate(&mut conn).unwrap();
    assert_eq!((queued(&conn), searched(&conn, "refund")), (1, 1));
    assert_eq!(index_pending(&conn, INDEX_CHUNK).unwrap().spans, 1);
    assert_eq!((found(&conn, "refund"), searched(&conn, "refund")), (1, 1));
    // Removing the span removes its text; its chunk's postings go at the next indexing.
    conn.execute_batch("DELETE FROM spans").unwrap();
    assert_eq!(found(&conn, "refund"), 0);
    assert_eq!(count(&conn, "SELECT count(*) FROM span_texts"), 0);
    assert!(index_pending(&conn, INDEX_CHUNK).unwrap().caught_up);
    assert_eq!(count(&conn, "SELECT count(*) FROM span_grams"), 0);
}

#[test]
fn the_queue_is_indexed_a_block_at_a_time_and_leaves_with_its_spans() {
    let (_dir, conn) = migrated();
    insert(&conn, steps(40));
    let first = count(&conn, "SELECT min(span) FROM span_texts");
    let first_block = (first >> BLOCK_SHIFT) << BLOCK_SHIFT;
    let in_first_block = first_block + BLOCK_SPANS - first;
    assert_eq!(pending(&conn).unwrap(), 40);
    // Two spans asked: their block whole.
    assert_eq!(
        index_pending(&conn, 2).unwrap().spans as i64,
        in_first_block
    );
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
    // A span removed while waiting waits no more.
    conn.execute("DELETE FROM spans WHERE name = 'step 39 of kyoto'", [])
        .unwrap();
    assert_eq!(
        (searched(&conn, "kyoto"), queued(&conn)),
        (39, 39 - in_first_block)
    );
    index_all(&conn, 10);
    let blocks = count(
        &conn,
        &format!("SELECT count(DISTINCT span >> {BLOCK_SHIFT}) FROM span_texts"),
    );
    assert_eq!(
        (found(&conn, "kyoto"), searched(&conn, "kyoto")),
        (blocks, 39)
    );
    // The first block's spans removed: a search takes nothing of it from the index.
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
    index_all(&conn, INDEX_CHUNK);
    let id = count(&conn, "SELECT id FROM spans WHERE name = 'step 1 of kyoto'");
    replace(&conn, id, &Packed::pack("step 1 of osaka".into(), None)).unwrap();
    // Its block out of the index, its spans waiting: still found, the new text only.
    assert_eq!((found(&conn, "kyoto"), queued(&conn)), (0, 3));
    assert_eq!((searched(&conn, "kyoto"), searched(&conn, "osaka")), (2, 1));
    index_all(&conn, INDEX_CHUNK);
    assert_eq!((found(&conn, "kyoto"), queued(&conn)), (1, 0));
    assert_eq!((searched(&conn, "kyoto"), searched(&conn, "osaka")), (2, 1));
    assert_eq!(searched(&conn, "step 1 of kyoto"), 0);
}

#[test]
fn a_needle_across_texts_is_still_found() {
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
    index_all(&conn, INDEX_CHUNK);
    // What `span_contains` says of a needle holding the separator, the search says too.
    let across = format!("d{SEARCH_SEPARATOR}h");
    assert!(postings::candidate_blocks(&conn, &across)
        .unwrap()
        .is_none());
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
    assert!(index_pending(&conn, 2).unwrap().spans >= 2);
    assert_eq!(searched(&conn, "kyoto"), 2);
    assert_eq!(searched(&conn, "kyoto 0"), 1);
    assert!(!waiting_beyond_checked(&conn).unwrap());
}

#[test]
fn the_index_holds_spans_up_to_its_mark_and_changed_blocks_wait_apart() {
    let (_dir, conn) = migrated();
    insert(&conn, steps(40));
    index_all(&conn, INDEX_CHUNK);
    let last = count(&conn, "SELECT max(id) FROM spans");
    assert_eq!(count(&conn, &format!("SELECT {MARK}")), last);
    // A span of an indexed block changes, and more arrive: the changed block and the new
    // spans wait, apart; every span is found once, and a candidate once.
    let id = count(&conn, "SELECT id FROM spans WHERE name = 'step 1 of kyoto'");
    replace(&conn, id, &Packed::pack("step 1 of osaka".into(), None)).unwrap();
    insert(&conn, steps(45).skip(40));
    let in_block = count(
        &conn,
        &format!(
            "SELECT count(*) FROM span_texts WHERE span >> {BLOCK_SHIFT} = {}",
            id >> BLOCK_SHIFT
        ),
    );
    assert_eq!(queued(&conn), in_block + 5);
    assert_eq!(
        (searched(&conn, "kyoto"), searched(&conn, "osaka")),
        (44, 1)
    );
    let mut ids = candidate_ids(&conn, "kyoto");
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((ids.len(), n), (45, 45));
    // The stale block first, then the new spans; the mark past them.
    let done = index_pending(&conn, 1).unwrap();
    assert_eq!((done.spans as i64, done.caught_up), (in_block, false));
    assert_eq!((queued(&conn), found(&conn, "osaka")), (5, 1));
    assert_eq!(
        (searched(&conn, "kyoto"), searched(&conn, "osaka")),
        (44, 1)
    );
    index_all(&conn, INDEX_CHUNK);
    assert_eq!(queued(&conn), 0);
    assert_eq!(
        (searched(&conn, "kyoto"), searched(&conn, "osaka")),
        (44, 1)
    );
    assert_eq!(searched(&conn, "step 44 of"), 1);
}

#[test]
fn spans_stored_where_removed_ones_were_are_found_before_and_after_indexing() {
    let (_dir, conn) = migrated();
    insert(&conn, steps(20));
    index_all(&conn, INDEX_CHUNK);
    let last = count(&conn, "SELECT max(id) FROM spans");
    // The newest spans removed (retention, or a trace deleted): the mark comes down with
    // them, since the next spans take their rowids again.
    conn.execute("DELETE FROM spans WHERE id > ?1", [last - 3])
        .unwrap();
    assert_eq!(count(&conn, &format!("SELECT {MARK}")), last - 3);
    let again = (0..3).map(|i| Span {
        project: "p".into(),
        trace_id: format!("{:032x}", 100 + i),
        span_id: "c".repeat(16),
        name: format!("again {i} in nara"),
        ..Span::default()
    });
    insert(&conn, again);
    assert_eq!(count(&conn, "SELECT max(id) FROM spans"), last);
    assert_eq!((queued(&conn), searched(&conn, "nara")), (3, 3));
    assert_eq!(searched(&conn, "kyoto"), 17);
    index_all(&conn, INDEX_CHUNK);
    assert_eq!((queued(&conn), searched(&conn, "nara")), (0, 3));
    assert_eq!(searched(&conn, "kyoto"), 17);
    // Everything removed: the mark back to nothing, and what comes next is found.
    conn.execute_batch("DELETE FROM spans").unwrap();
    assert_eq!(count(&conn, &format!("SELECT {MARK}")), 0);
    insert(&conn, steps(2));
    assert_eq!((queued(&conn), searched(&conn, "kyoto")), (2, 2));
    index_all(&conn, INDEX_CHUNK);
    assert_eq!((queued(&conn), searched(&conn, "kyoto")), (0, 2));
}
