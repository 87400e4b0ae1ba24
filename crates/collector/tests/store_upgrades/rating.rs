//! Rating features added to older files: score configs, queues, reviewers, pairwise queues.

use super::*;

#[tokio::test]
async fn a_database_from_before_score_configs_gains_them() {
    let collector = Collector::start();
    post_feedback(
        &collector,
        json!({"run_id": "00000000000000c1", "key": "correctness", "score": 0.7}),
    )
    .await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    // Schema 9 had neither score config tables nor the full-text index.
    test_files::execute_batch(
        &db,
        "DROP TABLE score_configs; DROP TABLE score_settings; \
         DROP TRIGGER span_text_removed; DROP TABLE span_grams; DROP TABLE span_gram_chunks; \
         DROP TABLE span_text_mark; \
         DROP TABLE span_text_stale; \
         DROP TABLE span_texts; DROP TABLE queue_items; DROP TABLE queues; \
         DROP TABLE pairwise_judgements; DROP TABLE pairwise_pairs; DROP TABLE pairwise_queues; \
         PRAGMA user_version = 9;",
    );

    let collector = Collector::start_in(dir, &[]);
    let config = json!({"key": "correctness", "type": "categorical",
        "categories": [{"label": "right", "score": 1}, {"label": "wrong", "score": 0}]});
    let response = client()
        .post(collector.url("/api/v1/score-configs"))
        .json(&config)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    // Feedback from before the config is kept as it was.
    let listed = get_json(&collector.url("/api/v1/feedback?key=correctness")).await;
    assert_eq!(listed["feedback"][0]["score"], 0.7, "{listed}");
    let dir = collector.kill();
    assert_eq!(
        test_files::query_i64(&dir.path().join("skein.db"), "PRAGMA user_version"),
        LATEST_LAYOUT
    );
}

/// Schema 11 had no annotation queues: the upgrade to 12 makes their tables, empty.
#[tokio::test]
async fn a_database_from_before_queues_gains_them() {
    let collector = Collector::start();
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    test_files::execute_batch(
        &db,
        "DROP TABLE queue_items; DROP TABLE queues; DROP TABLE pairwise_judgements; \
         DROP TABLE pairwise_pairs; DROP TABLE pairwise_queues; DROP TABLE span_text_mark; \
         DROP TABLE span_text_stale; DROP TABLE span_grams; DROP TABLE span_gram_chunks; \
         PRAGMA user_version = 11;",
    );
    let collector = Collector::start_in(dir, &[]);
    let response = client()
        .post(collector.url("/api/v1/queues"))
        .json(&json!({"name": "after the upgrade", "score_keys": ["correctness"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let listed = get_json(&collector.url("/api/v1/queues")).await;
    assert_eq!(listed["queues"][0]["name"], "after the upgrade", "{listed}");
    let dir = collector.kill();
    assert_eq!(
        test_files::query_i64(&dir.path().join("skein.db"), "PRAGMA user_version"),
        LATEST_LAYOUT
    );
}

/// Schema 14 had feedback without a queue or reviewer, and
/// queue items with one `lease` each: the upgrades to 16 add the columns (old records have
/// none), and an item held under the old shape is still its holder's to rate, the rating
/// naming the queue and the reviewer.
#[tokio::test]
async fn a_database_from_before_queue_reviewers_gains_them() {
    let collector = with_main_agent().await;
    post_feedback(
        &collector,
        json!({"run_id": ROOT, "key": "helpful", "score": 1}),
    )
    .await;
    let queue = post_ok(
        &collector,
        "/api/v1/queues",
        json!({"name": "old", "score_keys": ["correctness"], "query": ""}),
    )
    .await;
    let id = queue["id"].as_str().unwrap().to_string();
    let claimed = post_ok(
        &collector,
        &format!("/api/v1/queues/{id}/next"),
        json!({"reviewer": "ann"}),
    )
    .await;
    assert_eq!(claimed["item"]["trace_id"], TRACE, "{claimed}");
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    // The item as schema 12 wrote it: one lease, no reviews_needed.
    test_files::execute_batch(
        &db,
        "UPDATE queue_items SET item = json_remove(json_set(item, '$.lease', \
             json_extract(item, '$.leases[0]')), '$.leases', '$.reviews_needed'), \
             holder = 'ann';
         DROP INDEX feedback_by_queue;
         ALTER TABLE feedback DROP COLUMN queue_id;
         ALTER TABLE feedback DROP COLUMN reviewer;
         PRAGMA user_version = 14;",
    );

    let collector = Collector::start_in(dir, &[]);
    let before = feedback_of_trace(&collector, TRACE).await;
    assert_eq!(before.len(), 1);
    assert!(before[0].get("queue_id").is_none(), "{before:?}");
    let again = post_ok(
        &collector,
        &format!("/api/v1/queues/{id}/next"),
        json!({"reviewer": "ann"}),
    )
    .await;
    assert_eq!(again["item"]["leases"][0]["holder"], "ann", "{again}");
    let done = post_ok(
        &collector,
        &format!("/api/v1/queues/{id}/items/{TRACE}/complete"),
        json!({"reviewer": "ann", "scores": [{"key": "correctness", "score": 1}]}),
    )
    .await;
    assert_eq!(done["item"]["status"], "done", "{done}");
    let of_queue = get_json(&collector.url(&format!("/api/v1/feedback?queue_id={id}"))).await;
    assert_eq!(of_queue["feedback"][0]["reviewer"], "ann", "{of_queue}");
    assert_eq!(of_queue["feedback"][0]["run_id"], ROOT, "{of_queue}");
    let dir = collector.kill();
    assert_eq!(
        test_files::query_i64(&dir.path().join("skein.db"), "PRAGMA user_version"),
        LATEST_LAYOUT
    );
}

/// Schema 14 had no pairwise review queues: the upgrade makes their tables, empty, and
/// the traces stored before can be paired.
#[tokio::test]
async fn a_database_from_before_pairwise_queues_gains_them() {
    let collector = with_variants_a_and_b("6c8efff798038103d269b633813fc60e").await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    test_files::execute_batch(
        &db,
        "DROP TABLE pairwise_judgements; DROP TABLE pairwise_pairs; DROP TABLE pairwise_queues; \
         PRAGMA user_version = 14;",
    );

    let collector = Collector::start_in(dir, &[]);
    let response = client()
        .post(collector.url("/api/v1/pairwise"))
        .json(
            &json!({"name": "after the upgrade", "cohort_a": "tag=variant%3DA",
            "cohort_b": "tag=variant%3DB"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let listed = get_json(&collector.url("/api/v1/pairwise")).await;
    assert_eq!(listed["queues"][0]["name"], "after the upgrade", "{listed}");
    assert_eq!(listed["queues"][0]["counts"]["pending"], 1, "{listed}");
    let dir = collector.kill();
    assert_eq!(
        test_files::query_i64(&dir.path().join("skein.db"), "PRAGMA user_version"),
        LATEST_LAYOUT
    );
}
