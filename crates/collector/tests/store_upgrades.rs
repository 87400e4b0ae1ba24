//! The store keeps its promises across versions and arrival orders, checked over HTTP against
//! the real binary: a database in an older layout upgrades in place when opened; feedback
//! posted with only a run id carries its run's trace (whether the run came first or later);
//! a trace summary names its root span's type.

mod common;

/// The layout a file is brought up to (`PRAGMA user_version`).
const LATEST_LAYOUT: i64 = 21;

#[path = "../src/store/sqlite/test_files.rs"]
mod test_files;

use common::{client, get_json, wait_for_traces, Collector};
use serde_json::{json, Value};

const TRACE: &str = "5b8efff798038103d269b633813fc60c";
const ROOT: &str = "eee19b7ec3c1b174";
const CHILD: &str = "eee19b7ec3c1b175";

/// One OTLP JSON request: (span id, parent, name, openinference kind, tag value).
fn otlp(trace: &str, spans: &[(&str, Option<&str>, &str, &str)], env: &str) -> Vec<u8> {
    let spans: Vec<Value> = spans
        .iter()
        .map(|(id, parent, name, kind)| {
            json!({
                "traceId": trace, "spanId": id, "parentSpanId": parent.unwrap_or(""),
                "name": name, "kind": 1,
                "startTimeUnixNano": "1795500443630000000",
                "endTimeUnixNano": "1795500443640000000",
                "attributes": [
                    {"key": "openinference.span.kind", "value": {"stringValue": kind}},
                    {"key": "env", "value": {"stringValue": env}}
                ]
            })
        })
        .collect();
    serde_json::to_vec(&json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "upgrades"}}]},
        "scopeSpans": [{"spans": spans}]
    }]}))
    .unwrap()
}

async fn send(collector: &Collector, body: Vec<u8>) {
    let response = client()
        .post(&collector.otlp_traces)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        response.text().await.unwrap()
    );
}

async fn post_feedback(collector: &Collector, body: Value) -> Value {
    post_ok(collector, "/api/v1/feedback", body).await
}

async fn feedback_of_trace(collector: &Collector, trace: &str) -> Vec<Value> {
    get_json(&collector.url(&format!("/api/v1/feedback?trace_id={trace}"))).await["feedback"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn summary(collector: &Collector, query: &str) -> Value {
    let page = wait_for_traces(collector, query, 1).await;
    page["traces"][0].clone()
}

#[tokio::test]
async fn feedback_with_only_a_run_id_gets_its_runs_trace() {
    let collector = Collector::start();
    send(
        &collector,
        otlp(TRACE, &[(ROOT, None, "main_agent", "AGENT")], "prod"),
    )
    .await;
    wait_for_traces(&collector, "", 1).await;

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

/// A collector holding one trace: an agent (`ROOT`) and its model call (`CHILD`).
async fn with_agent_and_model_call() -> Collector {
    with_root_and_child(("main_agent", "AGENT"), ("call_model", "LLM")).await
}

/// A collector holding one trace of two spans: `ROOT` and its child `CHILD`, each (name, type).
async fn with_root_and_child(root: (&str, &str), child: (&str, &str)) -> Collector {
    let collector = Collector::start();
    send(
        &collector,
        otlp(
            TRACE,
            &[
                (ROOT, None, root.0, root.1),
                (CHILD, Some(ROOT), child.0, child.1),
            ],
            "prod",
        ),
    )
    .await;
    wait_for_traces(&collector, "", 1).await;
    collector
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

/// Schema 6 keyed feedback by its id alone, so one project's id was refused to another (which
/// told it the id existed). The upgrade to 7 keys it by project and id, records unchanged.
#[tokio::test]
async fn feedback_keyed_by_id_alone_upgrades_to_ids_scoped_by_project() {
    let collector = Collector::start();
    send(
        &collector,
        otlp(TRACE, &[(ROOT, None, "main_agent", "AGENT")], "prod"),
    )
    .await;
    wait_for_traces(&collector, "", 1).await;
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
        "DROP TRIGGER span_text_removed; DROP TABLE span_text; DROP TABLE span_text_pending; \
         DROP TABLE span_texts; DROP TABLE queue_items; DROP TABLE queues; \
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
        "DROP TRIGGER span_text_removed; DROP TABLE span_text; DROP TABLE span_text_pending; \
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
    let indexed = |c: &Collector| {
        test_files::query_i64(
            &c.data_dir.path().join("skein.db"),
            "SELECT count(*) FROM span_text_pending",
        ) == 0
    };
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
         DROP TRIGGER span_text_removed; DROP TABLE span_text; DROP TABLE span_text_pending; \
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
         DROP TABLE pairwise_pairs; DROP TABLE pairwise_queues; DROP TABLE span_text_pending; \
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

/// Schema 13 had no covering index for the cohort compare: the upgrade to 14 builds it from
/// the stored spans, and the compare of what was stored before reads from it.
#[tokio::test]
async fn a_database_without_the_span_extents_gets_them_in_place() {
    let collector = Collector::start();
    let span = |trace: &str, variant: &str| {
        serde_json::to_vec(&json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "upgrades"}}]},
            "scopeSpans": [{"spans": [{
                "traceId": trace, "spanId": ROOT, "name": "agent", "kind": 1,
                "startTimeUnixNano": "1795500443630000000",
                "endTimeUnixNano": "1795500443640000000",
                "attributes": [{"key": "variant", "value": {"stringValue": variant}}]
            }]}]
        }]}))
        .unwrap()
    };
    send(&collector, span(TRACE, "A")).await;
    send(&collector, span("6c8efff798038103d269b633813fc60d", "B")).await;
    wait_for_traces(&collector, "", 2).await;
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

/// Stops the collector; its file is at the latest layout, and each query counts 1.
fn stops_at_the_latest_layout_with(collector: Collector, counts_one: &[&str]) {
    let dir = collector.kill();
    let db = dir.path().join("skein.db");
    assert_eq!(
        test_files::query_i64(&db, "PRAGMA user_version"),
        LATEST_LAYOUT
    );
    for sql in counts_one {
        assert_eq!(test_files::query_i64(&db, sql), 1, "{sql}");
    }
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
        &["SELECT count(*) FROM span_text_config WHERE k = 'automerge' AND v = 16"],
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
    test_files::execute_batch(
        &db,
        "DROP TRIGGER span_text_removed; DROP TABLE span_text; DELETE FROM span_text_pending; \
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
        test_files::query_i64(&db, "SELECT count(*) FROM span_text_pending") == 0
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !indexed(&collector) {
        assert!(std::time::Instant::now() < deadline, "never indexed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Indexed by block: the two spans are one document, each still found by its own text.
    assert_eq!(totals(&collector).await, [1, 1, 0, 2]);
    stops_at_the_latest_layout_with(collector, &["SELECT count(*) FROM span_text_docsize"]);
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

async fn post_ok(collector: &Collector, path: &str, body: Value) -> Value {
    let response = client()
        .post(collector.url(path))
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

/// Schema 14 had feedback without a queue or reviewer, and
/// queue items with one `lease` each: the upgrades to 16 add the columns (old records have
/// none), and an item held under the old shape is still its holder's to rate, the rating
/// naming the queue and the reviewer.
#[tokio::test]
async fn a_database_from_before_queue_reviewers_gains_them() {
    let collector = Collector::start();
    send(
        &collector,
        otlp(TRACE, &[(ROOT, None, "main_agent", "AGENT")], "prod"),
    )
    .await;
    wait_for_traces(&collector, "", 1).await;
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
    let collector = Collector::start();
    let span = |trace: &str, variant: &str| {
        serde_json::to_vec(&json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "upgrades"}}]},
            "scopeSpans": [{"spans": [{
                "traceId": trace, "spanId": ROOT, "name": "agent", "kind": 1,
                "startTimeUnixNano": "1795500443630000000",
                "endTimeUnixNano": "1795500443640000000",
                "attributes": [{"key": "variant", "value": {"stringValue": variant}}]
            }]}]
        }]}))
        .unwrap()
    };
    send(&collector, span(TRACE, "A")).await;
    send(&collector, span("6c8efff798038103d269b633813fc60e", "B")).await;
    wait_for_traces(&collector, "", 2).await;
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
