//! Feedback across upgrades: records that name only a run, and ids scoped by project.

use super::*;

#[tokio::test]
async fn feedback_with_only_a_run_id_gets_its_runs_trace() {
    let collector = with_main_agent().await;

    // The run is stored: the record is written with its trace.
    let created = post_feedback(
        &collector,
        json!({"run_id": ROOT, "key": "helpful", "score": 1}),
    )
    .await;
    assert_eq!(created["trace_id"], TRACE, "{created}");

    // The run comes later: the record waits, then takes the run's trace when it arrives.
    let later_trace = "6c8efff798038103d269b633813fc60d";
    let later_span = "fff19b7ec3c1b176";
    let waiting = post_feedback(
        &collector,
        json!({"run_id": later_span, "key": "helpful", "score": 0}),
    )
    .await;
    assert!(waiting.get("trace_id").is_none(), "{waiting}");
    send(
        &collector,
        otlp(
            later_trace,
            &[(later_span, None, "late_agent", "AGENT")],
            "prod",
        ),
    )
    .await;
    let listed = feedback_of_trace(&collector, later_trace).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], waiting["id"]);
    assert_eq!(listed[0]["trace_id"], later_trace);
    assert_eq!(feedback_of_trace(&collector, TRACE).await.len(), 1);

    // The same through the LangSmith ingest (runs merged by upsert): a run posted after its
    // feedback.
    let run = "0190f4b2-7c3e-7a00-8000-0000000000c1";
    let response = client()
        .post(collector.url("/api/langsmith/runs"))
        .json(
            &json!({"id": run, "trace_id": run, "name": "ls_agent", "run_type": "chain",
                      "start_time": "2026-11-24T06:05:18Z", "end_time": "2026-11-24T06:05:19Z"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let ls_trace = run.replace('-', "");
    // A second run of that trace, rated before it arrives.
    let child = "0190f4b2-7c3e-7a00-8000-0000000000c2";
    let pending = client()
        .post(collector.url("/api/langsmith/runs/multipart"))
        .header("content-type", "multipart/form-data; boundary=XX")
        .body(format!(
            "--XX\r\nContent-Disposition: form-data; name=\"feedback.0190f4b2-7c3e-7a00-8000-0000000000f9\"\r\n\
             Content-Type: application/json\r\n\r\n{}\r\n--XX--\r\n",
            json!({"id": "0190f4b2-7c3e-7a00-8000-0000000000f9", "run_id": child, "key": "correct", "score": 1})
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        pending.status().as_u16(),
        202,
        "{}",
        pending.text().await.unwrap()
    );
    let response = client()
        .post(collector.url("/api/langsmith/runs"))
        .json(
            &json!({"id": child, "trace_id": run, "parent_run_id": run, "name": "tool",
                      "run_type": "tool", "start_time": "2026-11-24T06:05:18.5Z"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let listed = feedback_of_trace(&collector, &ls_trace).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["key"], "correct");
    assert_eq!(listed[0]["trace_id"], ls_trace.as_str(), "{listed:?}");
}

/// Schema 6 keyed feedback by its id alone, so one project's id was refused to another (which
/// told it the id existed). The upgrade to 7 keys it by project and id, records unchanged.
#[tokio::test]
async fn feedback_keyed_by_id_alone_upgrades_to_ids_scoped_by_project() {
    let collector = with_main_agent().await;
    post_feedback(
        &collector,
        json!({"id": "f-1", "run_id": ROOT, "key": "helpful", "score": 1}),
    )
    .await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    test_files::execute_batch(
        &db,
        "CREATE TABLE old_feedback (
                 id TEXT PRIMARY KEY, project TEXT NOT NULL, run_id TEXT NOT NULL, trace_id TEXT,
                 key TEXT NOT NULL, score REAL, value TEXT, comment TEXT, correction TEXT,
                 source TEXT NOT NULL, created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL);
             INSERT INTO old_feedback SELECT id, project, run_id, trace_id, key, score, value,
                 comment, correction, source, created_ms, modified_ms FROM feedback;
             DROP TABLE feedback;
             ALTER TABLE old_feedback RENAME TO feedback;
             CREATE INDEX feedback_by_run ON feedback (project, run_id);
             CREATE INDEX feedback_by_trace ON feedback (project, trace_id);
             CREATE INDEX feedback_by_key ON feedback (project, key, created_ms);
             CREATE INDEX feedback_waiting ON feedback (project, run_id) WHERE trace_id IS NULL;
             PRAGMA user_version = 6;",
    );

    let collector = Collector::start_in(dir, &[]);
    let listed = feedback_of_trace(&collector, TRACE).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], "f-1");
    // The same id in another project is that project's own record.
    let response = client()
        .post(collector.url("/api/v1/feedback?project=other"))
        .json(&json!({"id": "f-1", "run_id": ROOT, "key": "helpful", "score": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        201,
        "{}",
        response.text().await.unwrap()
    );
    let listed = feedback_of_trace(&collector, TRACE).await;
    assert_eq!(
        (listed.len(), &listed[0]["score"]),
        (1, &json!(1.0)),
        "{listed:?}"
    );
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    // Upgraded all the way (7 scoped the ids; later versions leave feedback as it is).
    assert!(test_files::query_i64(&db, "PRAGMA user_version") >= 7);
    let triggers = test_files::query_i64(
        &db,
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'feedback'",
    );
    assert_eq!(triggers, 4, "the score rollup's triggers");
    let rows = test_files::query_i64(&db, "SELECT count(*) FROM feedback WHERE id = 'f-1'");
    assert_eq!(rows, 2);
}
