//! Older table layouts upgraded in place: the first release's, schema 8's folds, the
//! skeleton's indexes, span changes.

use super::*;

#[tokio::test]
async fn a_trace_summary_names_its_root_span_type() {
    let collector = Collector::start();
    // The child first: no root yet, so no root type.
    send(
        &collector,
        otlp(TRACE, &[(CHILD, Some(ROOT), "call_model", "LLM")], "prod"),
    )
    .await;
    let t = summary(&collector, "").await;
    assert_eq!(t["has_root"], false, "{t}");
    assert!(t.get("root_span_type").is_none(), "{t}");
    send(
        &collector,
        otlp(TRACE, &[(ROOT, None, "main_agent", "AGENT")], "prod"),
    )
    .await;
    for _ in 0..50 {
        let t = summary(&collector, "").await;
        if t["has_root"] == true {
            assert_eq!(t["root_span_type"], "agent", "{t}");
            assert_eq!(t["root_name"], "main_agent", "{t}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the root never showed in the summary");
}

/// Takes a database written by this version back to the layout of the first release
/// (`user_version` 1): `trace_tags` without `project` and without `trace_tags_by_value`, no
/// `spans.kind` (nor the later indexes over it), no `traces.root_span_type`, feedback that
/// names no trace.
fn downgrade_to_first_layout(db: &std::path::Path) {
    test_files::execute_batch(
        db,
        "DROP INDEX trace_tags_by_value;
         DROP INDEX spans_by_trace_extent;
         DROP INDEX spans_by_parent;
         CREATE TABLE old_trace_tags (
             trace INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
             PRIMARY KEY (trace, key)
         ) WITHOUT ROWID;
         INSERT INTO old_trace_tags SELECT trace, key, value FROM trace_tags;
         DROP TABLE trace_tags;
         ALTER TABLE old_trace_tags RENAME TO trace_tags;
         ALTER TABLE spans DROP COLUMN kind;
         ALTER TABLE traces DROP COLUMN root_span_type;
         DROP INDEX feedback_waiting;
         UPDATE feedback SET trace_id = NULL;
         PRAGMA user_version = 1;",
    );
}

#[tokio::test]
async fn a_database_in_the_first_layout_upgrades_in_place() {
    let collector = with_agent_and_model_call().await;
    post_feedback(
        &collector,
        json!({"run_id": CHILD, "key": "helpful", "score": 1}),
    )
    .await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    let user_version =
        |db: &std::path::Path| -> i64 { test_files::query_i64(db, "PRAGMA user_version") };
    // What this version creates is its latest layout, which the upgrade must reach.
    let latest = user_version(&db);
    assert!(latest >= 3, "{latest}");
    downgrade_to_first_layout(&db);
    {
        // The old layout for real: an insert as this version writes it fails.
        let err = test_files::execute(
            &db,
            "INSERT INTO trace_tags (trace, key, value, project) VALUES (1, 'k', 'v', 'p')",
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("project"), "{err}");
    }

    let collector = Collector::start_in(dir, &[]);
    // What was stored is all there, with what the upgrade derived.
    let t = summary(&collector, "tag=env=prod").await;
    assert_eq!(t["trace_id"], TRACE, "{t}");
    assert_eq!(t["span_count"], 2, "{t}");
    assert_eq!(t["root_span_type"], "agent", "{t}");
    let listed = feedback_of_trace(&collector, TRACE).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["trace_id"], TRACE);
    let skeleton = get_json(&collector.url(&format!("/api/v1/traces/{TRACE}"))).await;
    assert_eq!(
        skeleton["spans"].as_array().map(Vec::len),
        Some(2),
        "{skeleton}"
    );

    // New spans and tags are written (this failed on the old layout) and filter.
    let other = "7d8efff798038103d269b633813fc60e";
    send(
        &collector,
        otlp(
            other,
            &[("aaa19b7ec3c1b177", None, "second", "CHAIN")],
            "staging",
        ),
    )
    .await;
    let t = summary(&collector, "tag=env=staging").await;
    assert_eq!(t["trace_id"], other, "{t}");
    assert_eq!(t["root_span_type"], "chain", "{t}");
    let prod = wait_for_traces(&collector, "tag=env=prod", 1).await;
    assert_eq!(prod["total"], 1, "{prod}");
    let dir = collector.kill();

    assert_eq!(user_version(&dir.path().join("skein.db")), latest);
    let tagged = test_files::query_i64(
        &dir.path().join("skein.db"),
        "SELECT count(*) FROM trace_tags WHERE project = 'default'",
    );
    assert_eq!(tagged, 2, "each trace's env tag, with its project");
}

/// Schema 8 tagged a trace with every span's metadata (the first value seen) and counted a
/// chain that repeats its model call's usage on top of it. The upgrade to 9 re-folds each
/// stored trace from its spans: its root's tags without instrumentation's keys, its usage once.
#[tokio::test]
async fn traces_folded_by_schema_8_are_refolded_in_place() {
    const LLM: &str = "eee19b7ec3c1b176";
    let collector = Collector::start();
    let span = |id: &str, parent: &str, name: &str, kind: &str, attrs: Value| {
        let mut attributes =
            vec![json!({"key": "openinference.span.kind", "value": {"stringValue": kind}})];
        for (k, v) in attrs.as_object().unwrap() {
            attributes.push(json!({"key": k, "value": {"stringValue": v.as_str().unwrap()}}));
        }
        json!({
            "traceId": TRACE, "spanId": id, "parentSpanId": parent, "name": name, "kind": 1,
            "startTimeUnixNano": "1795500443630000000", "endTimeUnixNano": "1795500443640000000",
            "attributes": attributes
        })
    };
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "upgrades"}}]},
        "scopeSpans": [{"spans": [
            span(ROOT, "", "graph", "CHAIN", json!({"env": "prod",
                "llm.token_count.prompt": "40", "llm.token_count.completion": "19"})),
            span(CHILD, ROOT, "writer", "CHAIN", json!({"langgraph_node": "writer",
                "customer": "acme"})),
            span(LLM, CHILD, "chat", "LLM", json!({
                "llm.token_count.prompt": "40", "llm.token_count.completion": "19"})),
        ]}]
    }]});
    send(&collector, serde_json::to_vec(&body).unwrap()).await;
    wait_for_traces(&collector, "", 1).await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    // What schema 8 had written for this trace: the child's tags and the usage twice.
    test_files::execute_batch(
        &db,
        "UPDATE traces SET input_tokens = 80, output_tokens = 38;
         UPDATE trace_folds SET fold = json_set(json_remove(fold, '$.oi', '$.oo', '$.mu'),
             '$.i', 80, '$.o', 38);
         INSERT INTO trace_tags (trace, key, value, project)
             SELECT id, 'langgraph_node', 'writer', project FROM traces;
         INSERT INTO trace_tags (trace, key, value, project)
             SELECT id, 'customer', 'acme', project FROM traces;
         INSERT INTO tag_values (project, key, value, trace_count)
             VALUES ('default', 'langgraph_node', 'writer', 1), ('default', 'customer', 'acme', 1);
         PRAGMA user_version = 8;",
    );
    assert_eq!(
        test_files::query_i64(&db, "SELECT count(*) FROM trace_tags"),
        3
    );

    let collector = Collector::start_in(dir, &[]);
    let row = summary(&collector, "").await;
    assert_eq!(row["tags"], json!({"env": "prod"}), "{row}");
    assert_eq!(
        (&row["input_tokens"], &row["output_tokens"]),
        (&json!(40), &json!(19)),
        "{row}"
    );
    let keys = get_json(&collector.url("/api/v1/tags")).await;
    let keys: Vec<&str> = keys
        .as_array()
        .or_else(|| keys["tags"].as_array())
        .expect("tag keys")
        .iter()
        .filter_map(|k| k["key"].as_str())
        .collect();
    assert_eq!(keys, vec!["env"]);
    let page = get_json(&collector.url("/api/v1/traces?tag=customer%3Dacme")).await;
    assert_eq!(page["total"], 0, "{page}");
    wait_for_traces(&collector, "tag=env%3Dprod", 1).await;
    let dir = collector.kill();
    assert!(test_files::query_i64(&dir.path().join("skein.db"), "PRAGMA user_version") >= 9);
}

/// Schema 13 had no covering index for the cohort compare: the upgrade to 14 builds it from
/// the stored spans, and the compare of what was stored before reads from it.
#[tokio::test]
async fn a_database_without_the_span_extents_gets_them_in_place() {
    let collector = with_variants_a_and_b("6c8efff798038103d269b633813fc60d").await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    test_files::execute_batch(
        &db,
        "DROP INDEX spans_by_trace_extent; DROP TABLE pairwise_judgements; \
         DROP TABLE pairwise_pairs; DROP TABLE pairwise_queues; PRAGMA user_version = 13;",
    );

    let collector = Collector::start_in(dir, &[]);
    let c = get_json(&collector.url("/api/v1/compare/cohorts?a.tag=variant%3DA&b.tag=variant%3DB"))
        .await;
    assert_eq!(c["rows"][0]["name"], "agent", "{c}");
    assert_eq!(c["rows"][0]["a"]["p50_ms"], 10.0, "{c}");
    stops_at_the_latest_layout_with(
        collector,
        &["SELECT count(*) FROM sqlite_master WHERE name = 'spans_by_trace_extent'"],
    );
}

/// Schema 18's covering index had no `kind` and there was no index by parent: the upgrade to
/// 19 builds both, and the skeleton of what was stored before reads from them.
#[tokio::test]
async fn a_database_without_the_skeleton_indexes_gets_them_in_place() {
    let collector = with_agent_and_model_call().await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    test_files::execute_batch(
        &db,
        "DROP INDEX spans_by_parent; DROP INDEX spans_by_trace_extent;
         CREATE INDEX spans_by_trace_extent ON spans (trace, span_id, parent_span_id, name,
             span_type, service, start_ns, end_ns, status, tokens, cost);
         PRAGMA user_version = 18;",
    );

    let collector = Collector::start_in(dir, &[]);
    let skeleton = get_json(&collector.url(&format!("/api/v1/traces/{TRACE}"))).await;
    let spans = skeleton["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 2, "{skeleton}");
    // Each span's OTel kind (internal: 1) comes from the index now.
    assert!(spans.iter().all(|s| s[9] == 1), "{skeleton}");
    stops_at_the_latest_layout_with(
        collector,
        &[
            "SELECT count(*) FROM pragma_index_info('spans_by_trace_extent') WHERE name = 'kind'",
            "SELECT count(*) FROM sqlite_master WHERE name = 'spans_by_parent'",
        ],
    );
}

/// Until schema 17 the live stream's `span_changes` was created at start, outside the numbered
/// steps, so a file from before the live stream has none: the upgrade to 17 makes it, and a
/// LangSmith run patched after it is stored and announced again.
#[tokio::test]
async fn a_database_without_span_changes_gets_them_in_place() {
    let collector = Collector::start();
    let run = "0190f4b2-7c3e-7a00-8000-0000000000d1";
    let post = client()
        .post(collector.url("/api/langsmith/runs"))
        .json(
            &json!({"id": run, "trace_id": run, "name": "ls_agent", "run_type": "chain",
                      "start_time": "2026-11-24T06:05:18Z"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(post.status().as_u16(), 202);
    wait_for_traces(&collector, "", 1).await;
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    test_files::execute_batch(&db, "DROP TABLE span_changes; PRAGMA user_version = 14;");

    let collector = Collector::start_in(dir, &[]);
    let patch = client()
        .patch(collector.url(&format!("/api/langsmith/runs/{run}")))
        .json(&json!({"end_time": "2026-11-24T06:05:20Z", "outputs": {"answer": "done"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        patch.status().as_u16(),
        202,
        "{}",
        patch.text().await.unwrap()
    );
    let trace = run.replace('-', "");
    let page = wait_for_traces(&collector, "filter=search(%22done%22)", 1).await;
    assert_eq!(page["traces"][0]["trace_id"], trace.as_str(), "{page}");
    let summary = &page["traces"][0];
    let duration = summary["end_ns"].as_i64().unwrap() - summary["start_ns"].as_i64().unwrap();
    assert_eq!(duration, 2_000_000_000, "{page}");
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    assert_eq!(
        test_files::query_i64(&db, "PRAGMA user_version"),
        LATEST_LAYOUT
    );
    assert_eq!(
        test_files::query_i64(&db, "SELECT count(*) FROM span_changes"),
        1
    );
}
