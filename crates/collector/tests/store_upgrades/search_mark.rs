//! The full-text index's queue table (schema 21) turned into a high-water mark and stale
//! blocks (schema 22), and FTS5 replaced by the trigram index of our own (schema 23): every
//! span found once, before and after the writer catches up.

use super::*;

/// One trace of 20 spans, "step 1" to "step 20", each saying "a day in Kyoto".
fn twenty_steps() -> Vec<u8> {
    let spans: Vec<Value> = (1..=20)
        .map(|i| {
            json!({
                "traceId": TRACE, "spanId": format!("{i:016x}"), "name": format!("step {i}"),
                "kind": 1,
                "startTimeUnixNano": "1795500443630000000",
                "endTimeUnixNano": "1795500443640000000",
                "attributes": [{"key": "input.value", "value": {"stringValue": "a day in Kyoto"}}]
            })
        })
        .collect();
    serde_json::to_vec(&json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "upgrades"}}]},
        "scopeSpans": [{"spans": spans}]
    }]}))
    .unwrap()
}

/// The spans whose kept text holds each needle, as the span list counts them.
async fn totals(collector: &Collector, needles: &[&str]) -> Vec<i64> {
    let mut totals = Vec::new();
    for needle in needles {
        let page =
            get_json(&collector.url(&format!("/api/v1/spans?filter=search(%22{needle}%22)"))).await;
        totals.push(page["total"].as_i64().unwrap_or(-1));
    }
    totals
}

async fn wait_until_indexed(collector: &Collector) {
    let db = collector.data_dir.path().join("skein.db");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while test_files::query_i64(&db, WAITING) != 0 {
        assert!(std::time::Instant::now() < deadline, "never indexed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A collector's data dir holding `twenty_steps`, every span indexed, the collector stopped.
async fn twenty_steps_indexed_then_stopped() -> tempfile::TempDir {
    let collector = Collector::start();
    send(&collector, twenty_steps()).await;
    wait_for_traces(&collector, "", 1).await;
    wait_until_indexed(&collector).await;
    collector.kill()
}

/// Schema 21 queued a span in a table until indexed: a stored span whose text changed queued
/// its whole block again (its document out of the index), and new spans joined the queue. The
/// upgrade to 22 keeps the index, sets the mark at the newest span not queued and makes the
/// blocks of the queued spans below it stale; no span is lost or found twice on the way.
#[tokio::test]
async fn a_database_with_a_queue_table_gets_the_mark_in_place() {
    let dir = twenty_steps_indexed_then_stopped().await;
    let db = dir.path().join("skein.db");
    // Rowids 1 to 20: blocks 0 (1–15) and 1 (16–20).
    assert_eq!(
        test_files::query_i64(&db, "SELECT min(id) * 100 + max(id) FROM spans"),
        120
    );
    // The file as schema 21 left it after span 2 changed (to "osaka"; its block out of the
    // index and queued) and spans 19 and 20 arrived (queued; "nara", which the index of their
    // block does not hold).
    test_files::execute_batch(&db, SEARCH_QUEUE_OF_21);
    test_files::execute_batch(
        &db,
        "UPDATE span_texts SET text = 'step 2\u{1f}a day in osaka' WHERE span = 2;
         UPDATE span_texts SET text = 'a night in nara' WHERE span IN (19, 20);
         DELETE FROM span_text WHERE rowid = 0;
         INSERT INTO span_text_pending SELECT span FROM span_texts WHERE span < 16 OR span > 18;
         PRAGMA user_version = 21;",
    );

    let collector = Collector::start_in(dir, &[]);
    let needles = ["kyoto", "osaka", "nara", "step%201"];
    // "step 1" is in steps 1 and 10 to 18 (19 and 20 say only "nara" now).
    let expected = [17, 1, 2, 10];
    assert_eq!(totals(&collector, &needles).await, expected);
    wait_until_indexed(&collector).await;
    assert_eq!(totals(&collector, &needles).await, expected);
    // A span stored after the upgrade is found at once, and once indexed.
    send(
        &collector,
        otlp(
            "6c8efff798038103d269b633813fc60c",
            &[(ROOT, None, "kobe", "CHAIN")],
            "prod",
        ),
    )
    .await;
    assert_eq!(totals(&collector, &["kobe", "nara"]).await, [1, 2]);
    wait_until_indexed(&collector).await;
    assert_eq!(totals(&collector, &["kobe", "nara"]).await, [1, 2]);
    stops_at_the_latest_layout_with(
        collector,
        &[
            "SELECT count(*) FROM span_text_mark WHERE mark = 21",
            "SELECT count(*) = 0 FROM span_text_stale",
            "SELECT count(*) = 0 FROM sqlite_master WHERE name = 'span_text_pending'",
        ],
    );
}

/// Schema 22 kept an FTS5 index of blocks: the upgrade to 23 drops it and every kept text
/// waits for the trigram index, which the writer builds behind; the spans are found the same
/// throughout, and a span changed after the upgrade by its new text only.
#[tokio::test]
async fn a_database_with_the_fts5_index_gets_the_trigram_index_in_place() {
    let dir = twenty_steps_indexed_then_stopped().await;
    let db = dir.path().join("skein.db");
    // The file as schema 22 left it: every span indexed (a document a block), the mark at 20.
    test_files::execute_batch(&db, SEARCH_INDEX_OF_22);
    test_files::execute_batch(
        &db,
        "INSERT INTO span_text (rowid, text) SELECT span >> 4, group_concat(text, char(31)) \
             FROM span_texts GROUP BY span >> 4; \
         PRAGMA user_version = 22;",
    );
    assert_eq!(
        test_files::query_i64(&db, "SELECT count(*) FROM span_text_docsize"),
        2
    );

    let collector = Collector::start_in(dir, &[]);
    let needles = ["kyoto", "step%201", "step%2020", "osaka"];
    let expected = [20, 11, 1, 0];
    assert_eq!(totals(&collector, &needles).await, expected);
    wait_until_indexed(&collector).await;
    assert_eq!(totals(&collector, &needles).await, expected);
    let trace_list =
        get_json(&collector.url("/api/v1/traces?filter=search(%22a%20day%20in%20kyoto%22)")).await;
    assert_eq!(trace_list["total"], 1, "{trace_list}");
    stops_at_the_latest_layout_with(
        collector,
        &[
            "SELECT count(*) FROM span_text_mark WHERE mark = 20",
            "SELECT count(*) = 0 FROM sqlite_master WHERE name = 'span_text'",
            "SELECT count(*) > 0 FROM span_grams",
        ],
    );
}
