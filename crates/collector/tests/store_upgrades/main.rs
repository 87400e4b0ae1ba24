//! The store keeps its promises across versions and arrival orders, checked over HTTP against
//! the real binary: a database in an older layout upgrades in place when opened; feedback
//! posted with only a run id carries its run's trace (whether the run came first or later);
//! a trace summary names its root span's type.

#[path = "../common/mod.rs"]
mod common;
mod feedback;
mod layouts;
mod rating;
mod search;
mod search_mark;

/// The layout a file is brought up to (`PRAGMA user_version`).
const LATEST_LAYOUT: i64 = 23;

/// Spans waiting for the full-text index (schema 22 on): past its mark, or in a stale block.
const WAITING: &str = "SELECT \
    (SELECT count(*) FROM span_texts WHERE span > (SELECT mark FROM span_text_mark)) + \
    (SELECT count(*) FROM span_text_stale)";

/// Takes the current layout's trigram index back to schema 22's FTS5 table (empty, with
/// schema 20's merge setting) and trigger, the mark where it is.
const SEARCH_INDEX_OF_22: &str = "DROP TABLE span_grams; DROP TABLE span_gram_chunks; \
    CREATE VIRTUAL TABLE span_text USING fts5(text, content = '', contentless_delete = 1, \
        detail = none, tokenize = 'trigram case_sensitive 1'); \
    INSERT INTO span_text (span_text, rank) VALUES ('automerge', 16); \
    DROP TRIGGER span_text_removed; \
    CREATE TRIGGER span_text_removed AFTER DELETE ON spans BEGIN \
        DELETE FROM span_texts WHERE span = old.id; \
        DELETE FROM span_text WHERE rowid = (SELECT old.id >> 4 WHERE NOT EXISTS ( \
            SELECT 1 FROM span_texts WHERE span BETWEEN (old.id >> 4) << 4 \
                AND ((old.id >> 4) << 4) + 15)); \
        UPDATE span_text_mark SET mark = (SELECT ifnull(max(id), 0) FROM spans) \
            WHERE mark > (SELECT ifnull(max(id), 0) FROM spans); END;";

/// Takes the current layout's full-text tables back to schema 21's FTS5 index (empty), queue
/// table (empty) and trigger, before a test makes the file older still or queues spans in it.
const SEARCH_QUEUE_OF_21: &str = "DROP TABLE span_grams; DROP TABLE span_gram_chunks; \
    CREATE VIRTUAL TABLE span_text USING fts5(text, content = '', contentless_delete = 1, \
        detail = none, tokenize = 'trigram case_sensitive 1'); \
    INSERT INTO span_text (span_text, rank) VALUES ('automerge', 16); \
    DROP TABLE span_text_mark; DROP TABLE span_text_stale; \
    CREATE TABLE span_text_pending (span INTEGER PRIMARY KEY); \
    DROP TRIGGER span_text_removed; \
    CREATE TRIGGER span_text_removed AFTER DELETE ON spans BEGIN \
        DELETE FROM span_texts WHERE span = old.id; \
        DELETE FROM span_text_pending WHERE span = old.id; \
        DELETE FROM span_text WHERE rowid = (SELECT old.id >> 4 WHERE NOT EXISTS ( \
            SELECT 1 FROM span_texts WHERE span BETWEEN (old.id >> 4) << 4 \
                AND ((old.id >> 4) << 4) + 15)); END;";

#[path = "../../src/store/sqlite/test_files.rs"]
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

/// A collector holding two one-span traces whose `variant` attribute is "A" (`TRACE`) and "B"
/// (`second`).
async fn with_variants_a_and_b(second: &str) -> Collector {
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
    send(&collector, span(second, "B")).await;
    wait_for_traces(&collector, "", 2).await;
    collector
}

/// A collector holding one trace of one span: `ROOT`, the agent "main_agent".
async fn with_main_agent() -> Collector {
    let collector = Collector::start();
    send(
        &collector,
        otlp(TRACE, &[(ROOT, None, "main_agent", "AGENT")], "prod"),
    )
    .await;
    wait_for_traces(&collector, "", 1).await;
    collector
}
