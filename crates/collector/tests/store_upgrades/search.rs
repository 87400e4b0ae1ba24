//! The full-text index across its layouts: none, positional, plain texts, by span, by block.

use super::*;

/// Schema 10 had no full-text index: the upgrade to 11 builds it from the stored spans, so
/// `search(...)` finds what was stored before, and what arrives after.
#[tokio::test]
async fn a_database_without_the_search_index_gets_it_in_place() {
    const OTHER: &str = "6c8efff798038103d269b633813fc60c";
    let collector = Collector::start();
    let with_input = |trace: &str, name: &str, input: &str| {
        serde_json::to_vec(&json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "upgrades"}}]},
            "scopeSpans": [{"spans": [{
                "traceId": trace, "spanId": ROOT, "name": name, "kind": 1,
                "startTimeUnixNano": "1795500443630000000",
                "endTimeUnixNano": "1795500443640000000",
                "attributes": [{"key": "input.value", "value": {"stringValue": input}}]
            }]}]
        }]}))
        .unwrap()
    };
    send(
        &collector,
        with_input(TRACE, "support", "I want a Refund, please"),
    )
    .await;
    wait_for_traces(&collector, "", 1).await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    test_files::execute_batch(
        &db,
        "DROP TRIGGER span_text_removed; DROP TABLE span_grams; DROP TABLE span_gram_chunks; \
         DROP TABLE span_text_mark; DROP TABLE span_text_stale; DROP TABLE span_texts; DROP TABLE queue_items; DROP TABLE queues; \
         DROP TABLE pairwise_judgements; DROP TABLE pairwise_pairs; DROP TABLE pairwise_queues; \
         PRAGMA user_version = 10;",
    );

    let collector = Collector::start_in(dir, &[]);
    let search = "filter=search(%22refund%22)";
    let page = wait_for_traces(&collector, search, 1).await;
    assert_eq!(page["traces"][0]["trace_id"], TRACE, "{page}");
    send(&collector, with_input(OTHER, "REFUND desk", "hello")).await;
    let page = wait_for_traces(&collector, search, 2).await;
    assert_eq!(page["total"], 2, "{page}");
    let page = get_json(&collector.url("/api/v1/traces?filter=search(%22hello%22)")).await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["traces"][0]["trace_id"], OTHER, "{page}");
    let dir = collector.kill();
    assert_eq!(
        test_files::query_i64(&dir.path().join("skein.db"), "PRAGMA user_version"),
        LATEST_LAYOUT
    );
}

/// Schemas 11 to 17 indexed a span's text with positions (`detail=full`) and kept no text (a
/// queued one only until indexed): the upgrade to 18 keeps every span's text, computed from
/// its body, and rebuilds the index without positions; what was stored before is found as
/// before (also a needle whose trigrams are all in a text, not in a row, is not), and what
/// arrives after as soon as it is acknowledged.
#[tokio::test]
async fn a_database_with_the_positional_index_gets_kept_texts_in_place() {
    const OTHER: &str = "7c8efff798038103d269b633813fc60c";
    let collector = Collector::start();
    let named = |trace: &str, name: &str| {
        serde_json::to_vec(&json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "upgrades"}}]},
            "scopeSpans": [{"spans": [{
                "traceId": trace, "spanId": ROOT, "name": name, "kind": 1,
                "startTimeUnixNano": "1795500443630000000",
                "endTimeUnixNano": "1795500443640000000"
            }]}]
        }]}))
        .unwrap()
    };
    send(&collector, named(TRACE, "Kyoto planner, plan nerds")).await;
    wait_for_traces(&collector, "", 1).await;
    let dir = collector.kill();
    // The file as schema 17 left it: every text in the positional index, the queue empty.
    test_files::execute_batch(
        &dir.path().join("skein.db"),
        "DROP TRIGGER span_text_removed; DROP TABLE span_grams; DROP TABLE span_gram_chunks; \
         DROP TABLE span_text_mark; DROP TABLE span_text_stale; \
         CREATE VIRTUAL TABLE span_text USING fts5(text, content = '', \
             contentless_delete = 1, tokenize = 'trigram case_sensitive 1'); \
         INSERT INTO span_text (rowid, text) SELECT span, text FROM span_texts; \
         CREATE TABLE span_text_pending (span INTEGER PRIMARY KEY, text TEXT NOT NULL); \
         DROP TABLE span_texts; \
         CREATE TRIGGER span_text_removed AFTER DELETE ON spans BEGIN \
             DELETE FROM span_text WHERE rowid = old.id; \
             DELETE FROM span_text_pending WHERE span = old.id; END; \
         PRAGMA user_version = 17;",
    );

    let collector = Collector::start_in(dir, &[]);
    let page = get_json(&collector.url("/api/v1/traces?filter=search(%22kyoto%22)")).await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["traces"][0]["trace_id"], TRACE, "{page}");
    send(&collector, named(OTHER, "kyoto desk")).await;
    // Acknowledged, so found: indexed or still queued.
    let page = get_json(&collector.url("/api/v1/traces?filter=search(%22kyoto%22)")).await;
    assert_eq!(page["total"], 2, "{page}");
    let spans = get_json(&collector.url("/api/v1/spans?filter=search(%22yoto%20de%22)")).await;
    assert_eq!(spans["total"], 1, "{spans}");
    // Once indexed (the writer is idle): found through the index, its candidates checked.
    // "planner" and "nerd" hold every trigram of "plannerd", not in a row.
    let indexed =
        |c: &Collector| test_files::query_i64(&c.data_dir.path().join("skein.db"), WAITING) == 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !indexed(&collector) {
        assert!(std::time::Instant::now() < deadline, "never indexed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for (needle, total) in [
        ("kyoto", 2),
        ("yoto%20de", 1),
        ("plannerd", 0),
        ("nerds", 1),
    ] {
        let spans =
            get_json(&collector.url(&format!("/api/v1/spans?filter=search(%22{needle}%22)"))).await;
        assert_eq!(spans["total"], total, "{needle}: {spans}");
    }
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    assert_eq!(
        test_files::query_i64(&db, "PRAGMA user_version"),
        LATEST_LAYOUT
    );
    assert_eq!(
        test_files::query_i64(&db, "SELECT count(*) FROM span_texts"),
        2
    );
}

/// Schema 19 kept `span_facts`' JSON and the search texts as plain text, and its index merged
/// 4 segments at a time: the upgrade to 20 leaves those texts as they are (read as before
/// beside the packed ones written after) and makes the index merge 16 at a time.
#[tokio::test]
async fn a_database_with_plain_texts_reads_them_beside_packed_ones() {
    const OTHER: &str = "7c8efff798038103d269b633813fc60c";
    let collector = with_agent_and_model_call().await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    // The file as schema 19 wrote it: texts and JSON as they are (long enough to be packed
    // now), FTS5's default merge.
    let long = "a Kyoto itinerary, day by day, with trains and temples ".repeat(4);
    test_files::execute(
        &db,
        "UPDATE span_facts SET attrs = json_object('note', ?1), tags = '{\"env\":\"prod\"}'",
        &[&long],
    )
    .unwrap();
    test_files::execute(&db, "UPDATE span_texts SET text = lower(?1)", &[&long]).unwrap();
    test_files::execute_batch(&db, SEARCH_QUEUE_OF_21);
    test_files::execute_batch(
        &db,
        "DELETE FROM span_text_config WHERE k = 'automerge'; DELETE FROM span_text; \
         INSERT OR IGNORE INTO span_text_pending SELECT span FROM span_texts; \
         PRAGMA user_version = 19;",
    );

    let collector = Collector::start_in(dir, &[]);
    // A span stored now, whose texts are packed.
    let note = serde_json::to_vec(&json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "upgrades"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": OTHER, "spanId": ROOT, "name": "later", "kind": 1,
            "startTimeUnixNano": "1795500443630000000",
            "endTimeUnixNano": "1795500443640000000",
            "attributes": [{"key": "note", "value": {"stringValue": long}},
                           {"key": "env", "value": {"stringValue": "prod"}}]
        }]}]
    }]}))
    .unwrap();
    send(&collector, note).await;
    let filter: String = format!("eq(attr.note, \"{long}\")")
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let spans = get_json(&collector.url(&format!("/api/v1/spans?filter={filter}"))).await;
    assert_eq!(spans["total"], 3, "{spans}");
    let spans =
        get_json(&collector.url("/api/v1/spans?filter=search(%22kyoto%20itinerary%22)")).await;
    assert_eq!(spans["total"], 3, "{spans}");
    let spans = get_json(&collector.url("/api/v1/spans?filter=eq(tag.env,%22prod%22)")).await;
    assert_eq!(spans["total"], 3, "{spans}");
    let packed =
        |c: &Collector, sql: &str| test_files::query_i64(&c.data_dir.path().join("skein.db"), sql);
    assert_eq!(
        packed(
            &collector,
            "SELECT count(*) FROM span_facts WHERE typeof(attrs) = 'blob'"
        ),
        1
    );
    assert_eq!(
        packed(
            &collector,
            "SELECT count(*) FROM span_texts WHERE typeof(text) = 'blob'"
        ),
        1
    );
    stops_at_the_latest_layout_with(
        collector,
        &["SELECT count(*) = 0 FROM sqlite_master WHERE name = 'span_text'"],
    );
}

/// Schema 20 indexed each span's text as a document of its own: the upgrade to 21 drops that
/// index, queues every kept text, and the writer builds the index of blocks of spans behind;
/// searches find the same spans throughout.
#[tokio::test]
async fn a_database_with_an_index_by_span_gets_the_index_by_block_in_place() {
    let collector = with_root_and_child(
        ("plan the kyoto trip", "AGENT"),
        ("book an osaka hotel", "TOOL"),
    )
    .await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    // The file as schema 20 left it: a document a span (the short texts are plain).
    test_files::execute_batch(&db, SEARCH_QUEUE_OF_21);
    test_files::execute_batch(
        &db,
        "DROP TRIGGER span_text_removed; DROP TABLE span_text; \
         CREATE VIRTUAL TABLE span_text USING fts5(text, content = '', contentless_delete = 1, \
             detail = none, tokenize = 'trigram case_sensitive 1'); \
         INSERT INTO span_text (span_text, rank) VALUES ('automerge', 16); \
         INSERT INTO span_text (rowid, text) SELECT span, text FROM span_texts; \
         CREATE TRIGGER span_text_removed AFTER DELETE ON spans BEGIN \
             DELETE FROM span_text WHERE rowid = old.id; \
             DELETE FROM span_texts WHERE span = old.id; \
             DELETE FROM span_text_pending WHERE span = old.id; END; \
         PRAGMA user_version = 20;",
    );
    assert_eq!(
        test_files::query_i64(&db, "SELECT count(*) FROM span_text_docsize"),
        2
    );

    let collector = Collector::start_in(dir, &[]);
    let totals = |c: &Collector| {
        let c = c.url("/api/v1/spans?filter=");
        async move {
            let mut totals = Vec::new();
            for needle in ["kyoto", "osaka%20hotel", "trip%20book", "upgrades"] {
                let page = get_json(&format!("{c}search(%22{needle}%22)")).await;
                totals.push(page["total"].as_i64().unwrap_or(-1));
            }
            totals
        }
    };
    // Queued again, found all the same.
    assert_eq!(totals(&collector).await, [1, 1, 0, 2]);
    let indexed = |c: &Collector| {
        let db = c.data_dir.path().join("skein.db");
        test_files::query_i64(&db, WAITING) == 0
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !indexed(&collector) {
        assert!(std::time::Instant::now() < deadline, "never indexed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Indexed by block: the two spans are one document, each still found by its own text.
    assert_eq!(totals(&collector).await, [1, 1, 0, 2]);
    stops_at_the_latest_layout_with(
        collector,
        &["SELECT count(*) = 0 FROM sqlite_master WHERE name = 'span_text'"],
    );
}
