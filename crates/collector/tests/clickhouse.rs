//! Skein on ClickHouse through the real binary: two collectors (`skein serve --clickhouse-url`)
//! over one database are stateless: what real SDKs send through one (the OpenTelemetry Python
//! SDK's seed agents, the LangSmith SDK's `@traceable` run and feedback) reads back identically
//! through the other, and keys created with the CLI hold on both. The server is Debian's
//! clickhouse-server, started from a temporary config (`store/clickhouse/testserver.rs`).

mod common;

#[path = "../src/store/clickhouse/testserver.rs"]
mod testserver;

use std::process::Command;
use std::time::Duration;

use common::sdks::{send_langsmith_seed, send_otel_seed};
use common::{client, get_json, Collector};
use serde_json::Value;

fn on_clickhouse(url: &str, database: &str) -> Collector {
    Collector::start_with(&["--clickhouse-url", url, "--clickhouse-database", database])
}

/// The trace as `collector` shows it, once it has `spans` spans.
async fn trace_with(collector: &Collector, project: &str, trace: &str, spans: u64) -> Value {
    let url = collector.url(&format!("/api/v1/traces/{trace}?project={project}"));
    for _ in 0..100 {
        let response = client().get(&url).send().await.expect("request");
        if response.status() == 200 {
            let skeleton: Value = response.json().await.expect("json");
            if skeleton["summary"]["span_count"].as_u64() >= Some(spans) {
                return skeleton;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "trace {trace} did not show {spans} spans on {}",
        collector.http
    );
}

fn skein(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_skein"))
        .args(args)
        .output()
        .expect("run skein");
    assert!(
        output.status.success(),
        "skein {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[tokio::test]
async fn two_collectors_on_one_database_answer_alike() {
    let server = testserver::server();
    let database = testserver::fresh_database();
    let a = on_clickhouse(&server.url, &database);
    let b = on_clickhouse(&server.url, &database);

    let health = get_json(&a.url("/api/v1/health")).await;
    assert_eq!(health["store"]["engine"], "clickhouse", "{health}");
    assert!(
        health["store"]["version"]
            .as_str()
            .is_some_and(|v| !v.is_empty()),
        "{health}"
    );
    // ClickHouse indexes a span as it stores it: nothing ever waits.
    assert_eq!(health["search_index"]["waiting"], 0, "{health}");

    // The OpenTelemetry Python SDK's seed through A, the LangSmith SDK's through B.
    let otel_trace = send_otel_seed(&a, "session-ch");
    let ls_trace = send_langsmith_seed(&b, "ls-team");

    for (project, trace) in [("default", &otel_trace), ("ls-team", &ls_trace)] {
        let via_a = trace_with(&a, project, trace, 7).await;
        let via_b = trace_with(&b, project, trace, 7).await;
        assert_eq!(via_a, via_b, "{project}: the two collectors disagree");
        assert_eq!(via_a["summary"]["root_name"], "main_agent", "{project}");
        for path in [
            format!("/api/v1/traces?project={project}"),
            format!("/api/v1/tags?project={project}"),
            format!("/api/v1/services?project={project}"),
            format!("/api/v1/sessions?project={project}"),
            format!("/api/v1/metrics?project={project}&metric=latency_p50"),
            format!("/api/v1/feedback?project={project}&trace_id={trace}"),
        ] {
            let (x, y) = (get_json(&a.url(&path)).await, get_json(&b.url(&path)).await);
            assert_eq!(x, y, "{path}");
        }
    }
    // The LangSmith SDK's feedback reached the trace, whichever collector is asked.
    let feedback = get_json(&a.url(&format!(
        "/api/v1/feedback?project=ls-team&trace_id={ls_trace}"
    )))
    .await;
    let keys: Vec<&str> = feedback["feedback"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["key"].as_str())
        .collect();
    assert_eq!(
        keys,
        vec!["user_satisfaction", "business_value", "helpfulness"],
        "{feedback}"
    );

    // A key created with the CLI against the database holds on both collectors.
    let ch = [
        "--clickhouse-url",
        server.url.as_str(),
        "--clickhouse-database",
        database.as_str(),
    ];
    skein(&[&["project", "create", "ls-team"][..], &ch[..]].concat());
    let key = skein(&[&["key", "create", "--project", "ls-team"][..], &ch[..]].concat());
    assert!(key.starts_with("skein_"), "{key}");
    for collector in [&a, &b] {
        let url = collector.url("/api/v1/traces");
        let mut status = 0;
        for _ in 0..50 {
            status = client()
                .get(&url)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16();
            if status == 401 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            status, 401,
            "{}: no key after one was created",
            collector.http
        );
        let page: Value = client()
            .get(&url)
            .bearer_auth(&key)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        assert_eq!(page["total"], 1, "{}: {page}", collector.http);
        assert_eq!(page["traces"][0]["trace_id"], ls_trace.as_str());
    }
}

#[tokio::test]
async fn migrate_moves_a_sqlite_store_into_clickhouse() {
    // A SQLite store with what the SDKs send, feedback, a project and a key.
    let sqlite = Collector::start();
    let otel_trace = send_otel_seed(&sqlite, "session-migrate");
    let ls_trace = send_langsmith_seed(&sqlite, "ls-team");
    trace_with(&sqlite, "default", &otel_trace, 7).await;
    trace_with(&sqlite, "ls-team", &ls_trace, 7).await;
    // Score configs and settings move too.
    for (path, method, body) in [
        (
            "/api/v1/score-configs?project=ls-team",
            reqwest::Method::POST,
            serde_json::json!({"key": "correctness", "type": "categorical",
                "categories": [{"label": "right", "score": 1}, {"label": "wrong", "score": 0}]}),
        ),
        (
            "/api/v1/score-settings?project=ls-team",
            reqwest::Method::PUT,
            serde_json::json!({"configured_keys_only": true}),
        ),
    ] {
        let response = client()
            .request(method, sqlite.url(path))
            .json(&body)
            .send()
            .await
            .expect("request");
        assert!(response.status().is_success(), "{path}");
    }
    let before: Vec<Value> = {
        let mut answers = Vec::new();
        for path in [
            format!("/api/v1/traces/{otel_trace}"),
            format!("/api/v1/traces/{ls_trace}?project=ls-team"),
            "/api/v1/traces?project=ls-team".to_string(),
            format!("/api/v1/feedback?project=ls-team&trace_id={ls_trace}"),
            "/api/v1/score-configs?project=ls-team".to_string(),
        ] {
            answers.push(get_json(&sqlite.url(&path)).await);
        }
        answers
    };
    let dir = sqlite.kill();
    let data_dir = dir.path().display().to_string();
    skein(&["project", "create", "ls-team", "--data-dir", &data_dir]);
    let key = skein(&[
        "key",
        "create",
        "--project",
        "ls-team",
        "--data-dir",
        &data_dir,
    ]);
    skein(&["project", "create", "default", "--data-dir", &data_dir]);
    let default_key = skein(&[
        "key",
        "create",
        "--project",
        "default",
        "--data-dir",
        &data_dir,
    ]);

    let server = testserver::server();
    let database = testserver::fresh_database();
    let migrate = [
        "migrate",
        "--data-dir",
        data_dir.as_str(),
        "--clickhouse-url",
        server.url.as_str(),
        "--clickhouse-database",
        database.as_str(),
    ];
    let said = skein(&migrate);
    assert!(said.contains("the counts agree"), "{said}");
    // Run again (as after an interruption): nothing is stored twice and the counts still agree.
    let again = skein(&migrate);
    assert!(again.contains("the counts agree"), "{again}");

    let ch = on_clickhouse(&server.url, &database);
    for (path, want) in [
        format!("/api/v1/traces/{otel_trace}"),
        format!("/api/v1/traces/{ls_trace}?project=ls-team"),
        "/api/v1/traces?project=ls-team".to_string(),
        format!("/api/v1/feedback?project=ls-team&trace_id={ls_trace}"),
        "/api/v1/score-configs?project=ls-team".to_string(),
    ]
    .iter()
    .zip(&before)
    {
        // Each project's own key, moved with it, reads it.
        let key = if path.contains("ls-team") {
            &key
        } else {
            &default_key
        };
        let response = client()
            .get(ch.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{path}");
        let got: Value = response.json().await.expect("json");
        assert_eq!(&got, want, "{path} differs after the move");
    }
}

/// Live tail across collectors: a stream on B announces, within a second of A's
/// acknowledgement, a span written through A (B reads the shared store; nothing but the store
/// connects them), and a reconnect to A with B's last event id misses nothing.
#[tokio::test]
async fn a_stream_on_one_collector_sees_what_another_stored() {
    use common::sse::SseStream;
    let server = testserver::server();
    let database = testserver::fresh_database();
    let a = on_clickhouse(&server.url, &database);
    let b = on_clickhouse(&server.url, &database);
    let body = |trace: u64, name: &str| {
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": format!("{trace:032x}"), "spanId": format!("{trace:016x}"), "name": name,
            "startTimeUnixNano": start.to_string(),
            "endTimeUnixNano": (start + 1_000_000).to_string()}]}]}]})
    };
    let url = |c: &Collector| c.url("/api/v1/stream?kind=spans");
    let mut on_b = SseStream::open(&url(&b), &[]).await;
    let response = client()
        .post(&a.otlp_traces)
        .json(&body(0x11, "through-a"))
        .send()
        .await
        .expect("POST");
    assert!(response.status().is_success());
    let acked = std::time::Instant::now();
    let event = on_b
        .next(Duration::from_millis(1500))
        .await
        .expect("B announces A's span");
    assert!(
        acked.elapsed() <= Duration::from_millis(1100),
        "{:?}",
        acked.elapsed()
    );
    assert_eq!(event.data["name"], "through-a");
    drop(on_b);

    client()
        .post(&b.otlp_traces)
        .json(&body(0x12, "through-b"))
        .send()
        .await
        .expect("POST");
    let mut on_a = SseStream::open(&url(&a), &[("last-event-id", &event.id)]).await;
    let missed = on_a.drain(Duration::from_millis(1500)).await;
    let names: Vec<&str> = missed
        .iter()
        .filter_map(|e| e.data["name"].as_str())
        .collect();
    assert_eq!(names, vec!["through-b"]);
}

/// The stream's `trace_filter` and `tree_filter`, decided by ClickHouse as its lists decide.
#[tokio::test]
async fn stream_trace_and_tree_filters_select_on_clickhouse() {
    let server = testserver::server();
    let database = testserver::fresh_database();
    let c = on_clickhouse(&server.url, &database);
    common::live::trace_and_tree_filters_select(&c).await;
}

/// Feedback alone fires stream filters that name it, on ClickHouse.
#[tokio::test]
async fn stream_feedback_fires_filters_naming_it_on_clickhouse() {
    let server = testserver::server();
    let database = testserver::fresh_database();
    let c = on_clickhouse(&server.url, &database);
    common::live::feedback_fires_filters_naming_it(&c).await;
}

/// A reconnect while a span is held for its trace still gets it, on ClickHouse.
#[tokio::test]
async fn stream_resume_keeps_a_held_span_on_clickhouse() {
    let server = testserver::server();
    let database = testserver::fresh_database();
    let c = on_clickhouse(&server.url, &database);
    common::live::a_resume_while_a_span_is_held_still_gets_it(&c).await;
}
