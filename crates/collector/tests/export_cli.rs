//! `skein export` run as a script would, against a running collector over HTTP: the rows it
//! writes are what was sent (filtered by the language, in the project asked, with the key the
//! collector wants), paged across several of the API's pages; its OTLP lines (of traces, or of
//! spans), sent to a fresh collector, store the same traces or spans; and a refused request is a non-zero exit with the
//! collector's message. The same on a collector storing in ClickHouse.

mod common;

#[path = "../src/store/clickhouse/testserver.rs"]
mod testserver;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};
use std::time::Duration;

use common::{client, get_json_with_key, skein_cli, Collector};
use serde_json::{json, Value};

const PROJECT: &str = "shop";
const TRACES: u64 = 220;

fn trace_id(i: u64) -> String {
    format!("{:032x}", 0xe4b0_0000 + i)
}

fn span_id(i: u64, n: u64) -> String {
    format!("{:016x}", i * 16 + n)
}

/// `TRACES` requests of `PROJECT`: an agent root, a retriever that found `i % 7` documents
/// and an LLM call (gpt-4o for every third, else gpt-4o-mini) that fails for every tenth;
/// and one trace of another project that must never be exported.
async fn send(collector: &Collector, key: &str) {
    let text = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let int = |k: &str, v: i64| json!({"key": k, "value": {"intValue": v.to_string()}});
    let mut spans = Vec::new();
    for i in 0..TRACES {
        let at = |ms: u64| {
            (1_795_700_000_000_000_000u64 + i * 1_000_000_000 + ms * 1_000_000).to_string()
        };
        spans.push(json!({"traceId": trace_id(i), "spanId": span_id(i, 1),
            "name": "agent", "startTimeUnixNano": at(0), "endTimeUnixNano": at(900),
            "attributes": [text("session.id", &format!("s-{}", i % 4)), text("env", "prod")]}));
        spans.push(json!({"traceId": trace_id(i), "spanId": span_id(i, 2),
            "parentSpanId": span_id(i, 1),
            "name": "retrieve", "startTimeUnixNano": at(10), "endTimeUnixNano": at(100),
            "attributes": [int("retrieval.documents", (i % 7) as i64)]}));
        let mut llm = json!({"traceId": trace_id(i), "spanId": span_id(i, 3),
            "parentSpanId": span_id(i, 1),
            "name": "chat, \"quoted\"", "startTimeUnixNano": at(100), "endTimeUnixNano": at(800),
            "attributes": [text("gen_ai.operation.name", "chat"),
                text("gen_ai.request.model", if i % 3 == 0 { "gpt-4o" } else { "gpt-4o-mini" }),
                int("gen_ai.usage.input_tokens", 100 + i as i64),
                int("gen_ai.usage.output_tokens", 5)]});
        if i % 10 == 0 {
            llm["status"] = json!({"code": 2, "message": "rate limited"});
        }
        spans.push(llm);
    }
    post(collector, key, PROJECT, &otlp(spans)).await;
}

/// A trace of project `other`, that no export of `PROJECT` may show.
async fn send_other(collector: &Collector, key: &str) {
    let other = json!({"traceId": trace_id(9999), "spanId": span_id(9999, 1), "name": "agent",
        "startTimeUnixNano": "1795700000000000000", "endTimeUnixNano": "1795700000100000000",
        "attributes": [{"key": "retrieval.documents", "value": {"intValue": "5"}}]});
    post(collector, key, "other", &otlp(vec![other])).await;
}

/// GET as JSON, with the key when there is one.
async fn get(url: &str, key: &str) -> Value {
    if key.is_empty() {
        common::get_json(url).await
    } else {
        get_json_with_key(url, key).await
    }
}

fn otlp(spans: Vec<Value>) -> Value {
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeSpans": [{"spans": spans}]
    }]})
}

async fn post(collector: &Collector, key: &str, project: &str, body: &Value) {
    let mut request = client()
        .post(&collector.otlp_traces)
        .header("x-skein-project", project)
        .json(body);
    if !key.is_empty() {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.expect("POST");
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap_or_default()
    );
}

/// Runs `skein export --url <collector> <args>`.
fn export(collector: &Collector, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skein"))
        .arg("export")
        .args(["--url", &collector.http])
        .args(args)
        .env_remove("SKEIN_API_KEY")
        .output()
        .expect("run skein export")
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "skein export failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

fn stderr_of(output: &Output) -> String {
    assert!(!output.status.success(), "skein export should have failed");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The traces of `PROJECT` in the collector with a key, waited for.
async fn wait_for_project(collector: &Collector, key: &str, count: u64) {
    for _ in 0..100 {
        let page = get(
            &collector.url(&format!("/api/v1/traces?project={PROJECT}&limit=1")),
            key,
        )
        .await;
        if page["total"].as_u64().unwrap_or(0) >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{count} traces did not arrive");
}

#[tokio::test]
async fn exports_are_the_rows_the_filter_selects() {
    let dir = tempfile::tempdir().expect("temp dir");
    skein_cli(dir.path(), &["project", "create", PROJECT]);
    skein_cli(dir.path(), &["project", "create", "other"]);
    let key = skein_cli(dir.path(), &["key", "create", "--project", PROJECT]);
    let other_key = skein_cli(dir.path(), &["key", "create", "--project", "other"]);
    let collector = Collector::start_in(dir, &[]);
    send(&collector, &key).await;
    send_other(&collector, &other_key).await;
    wait_for_project(&collector, &key, TRACES).await;
    let auth = ["--project", PROJECT, "--api-key", key.as_str()];

    // Traces as JSON Lines: those having a gpt-4o call (every third).
    let out = stdout_of(&export(
        &collector,
        &[&auth[..], &["--filter", r#"eq(model, "gpt-4o")"#]].concat(),
    ));
    let got: BTreeSet<String> = out
        .lines()
        .map(|l| {
            let row: Value = serde_json::from_str(l).expect("a JSON line");
            assert_eq!(row["span_count"], 3);
            row["trace_id"].as_str().expect("trace id").to_string()
        })
        .collect();
    let want: BTreeSet<String> = (0..TRACES).filter(|i| i % 3 == 0).map(trace_id).collect();
    assert_eq!(got, want);

    // Spans as CSV into a file, across the span list's pages (500 a page): every retriever
    // that found more than 3 documents.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("spans.csv");
    let out = export(
        &collector,
        &[
            &auth[..],
            &[
                "--kind",
                "spans",
                "--format",
                "csv",
                "--filter",
                "gt(attr.retrieval.documents, 3)",
                "--output",
                file.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert!(stdout_of(&out).is_empty(), "the rows go to the file");
    let csv = std::fs::read_to_string(&file).expect("the file");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(&header[..3], ["trace_id", "span_id", "parent_span_id"]);
    let name_at = header.iter().position(|h| *h == "name").expect("name");
    let rows: BTreeSet<(String, String)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            assert_eq!(cells[name_at], "retrieve");
            (cells[0].to_string(), cells[1].to_string())
        })
        .collect();
    let want: BTreeSet<(String, String)> = (0..TRACES)
        .filter(|i| i % 7 > 3)
        .map(|i| (trace_id(i), span_id(i, 2)))
        .collect();
    assert_eq!(rows, want);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no partial file left"
    );

    // Every span, as JSON Lines: more than a page; a quoted name comes through whole.
    let out = stdout_of(&export(
        &collector,
        &[&auth[..], &["--kind", "spans", "--format", "jsonl"]].concat(),
    ));
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), 3 * TRACES as usize);
    let ids: BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["trace_id"].as_str().unwrap(),
                r["span_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(ids.len(), rows.len(), "no span twice");
    assert!(rows.iter().all(|r| r["trace_id"] != trace_id(9999)));
    assert_eq!(
        rows.iter()
            .filter(|r| r["name"] == "chat, \"quoted\"")
            .count(),
        TRACES as usize
    );

    // The collector's refusals, with its message and a failing exit.
    let bad = export(
        &collector,
        &[&auth[..], &["--filter", "eq(nmae, 1)"]].concat(),
    );
    let message = stderr_of(&bad);
    assert!(message.contains("400"), "{message}");
    assert!(message.contains("unknown field \"nmae\""), "{message}");
    assert!(message.contains("at character 4"), "{message}");
    let bad = export(
        &collector,
        &[
            &auth[..],
            &["--kind", "spans", "--tree-filter", "gt(latency, \"x\")"],
        ]
        .concat(),
    );
    let message = stderr_of(&bad);
    assert!(message.contains("tree_filter"), "{message}");
    let keyless = stderr_of(&export(&collector, &["--project", PROJECT]));
    assert!(keyless.contains("401"), "{keyless}");
    let wrong = stderr_of(&export(
        &collector,
        &["--project", "other", "--api-key", key.as_str()],
    ));
    assert!(wrong.contains("403"), "{wrong}");
    let failed_file = dir.path().join("failed.jsonl");
    stderr_of(&export(
        &collector,
        &[
            &auth[..],
            &["--filter", "eq(", "--output", failed_file.to_str().unwrap()],
        ]
        .concat(),
    ));
    assert!(!failed_file.exists(), "a failed export leaves no file");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let unreachable = Command::new(env!("CARGO_BIN_EXE_skein"))
        .args(["export", "--url", "http://127.0.0.1:9"])
        .output()
        .expect("run");
    assert!(stderr_of(&unreachable).contains("cannot reach"));
}

/// Every span of a trace through the span endpoint, by id, without its project.
async fn spans_of(
    collector: &Collector,
    key: &str,
    project: &str,
    trace: &str,
) -> BTreeMap<String, Value> {
    let skeleton = get(
        &collector.url(&format!("/api/v1/traces/{trace}?project={project}")),
        key,
    )
    .await;
    let mut out = BTreeMap::new();
    for s in skeleton["spans"].as_array().expect("spans") {
        let id = s[0].as_str().expect("span id");
        let mut span = get(
            &collector.url(&format!(
                "/api/v1/traces/{trace}/spans/{id}?project={project}"
            )),
            key,
        )
        .await;
        let span_object = span.as_object_mut().expect("a span");
        span_object.remove("project");
        // Exporting adds the attributes the fields are derived from; the fields must match.
        span_object.remove("attributes");
        out.insert(id.to_string(), span);
    }
    out
}

#[tokio::test]
async fn otlp_lines_sent_to_a_fresh_collector_are_the_same_traces() {
    let source = Collector::start();
    send(&source, "").await;
    send_other(&source, "").await;
    wait_for_project(&source, "", TRACES).await;
    // Traces having a failed call whose root is in session s-0: i % 10 == 0 and i % 4 == 0.
    let out = stdout_of(&export(
        &source,
        &[
            "--project",
            PROJECT,
            "--format",
            "otlp",
            "--tree-filter",
            r#"eq(status, "error")"#,
            "--trace-filter",
            r#"eq(session, "s-0")"#,
        ],
    ));
    let want: Vec<u64> = (0..TRACES).filter(|i| i % 20 == 0).collect();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), want.len());

    let target = Collector::start();
    for line in &lines {
        let document: Value = serde_json::from_str(line).expect("one OTLP/JSON document a line");
        assert!(document["resourceSpans"].is_array(), "{line}");
        let response = client()
            .post(&target.otlp_traces)
            .header("content-type", "application/json")
            .header("x-skein-project", PROJECT)
            .body(line.to_string())
            .send()
            .await
            .expect("POST a line");
        assert_eq!(response.status(), 200);
    }
    wait_for_project(&target, "", want.len() as u64).await;
    for i in want {
        let trace = trace_id(i);
        let before = spans_of(&source, "", PROJECT, &trace).await;
        let after = spans_of(&target, "", PROJECT, &trace).await;
        assert_eq!(before.len(), 3);
        assert_eq!(after, before, "trace {trace}");
    }
}

/// The `(trace, span)` ids of the spans in OTLP/JSON lines.
fn otlp_span_ids(out: &str) -> Vec<(String, String)> {
    out.lines()
        .flat_map(|l| {
            let document: Value = serde_json::from_str(l).expect("one OTLP/JSON document a line");
            let spans: Vec<(String, String)> = document["resourceSpans"]
                .as_array()
                .expect("resourceSpans")
                .iter()
                .flat_map(|r| r["scopeSpans"].as_array().into_iter().flatten())
                .flat_map(|s| s["spans"].as_array().into_iter().flatten())
                .map(|s| {
                    (
                        s["traceId"].as_str().expect("traceId").to_string(),
                        s["spanId"].as_str().expect("spanId").to_string(),
                    )
                })
                .collect();
            assert!(!spans.is_empty(), "{l}");
            assert!(
                spans.iter().all(|(t, _)| *t == spans[0].0),
                "one trace a line"
            );
            spans
        })
        .collect()
}

#[tokio::test]
async fn otlp_span_lines_sent_to_a_fresh_collector_recreate_the_spans() {
    let source = Collector::start();
    send(&source, "").await;
    send_other(&source, "").await;
    wait_for_project(&source, "", TRACES).await;
    // Every span of the project: 660, more than a page of the API's (500 rows), so one trace
    // is split between two pages, and two lines.
    let out = stdout_of(&export(
        &source,
        &["--project", PROJECT, "--kind", "spans", "--format", "otlp"],
    ));
    assert_eq!(out.lines().count() as u64, TRACES + 1);
    let ids = otlp_span_ids(&out);
    let unique: BTreeSet<(String, String)> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "each span once");
    let want: BTreeSet<(String, String)> = (0..TRACES)
        .flat_map(|i| (1..=3).map(move |n| (trace_id(i), span_id(i, n))))
        .collect();
    assert_eq!(unique, want);

    let target = Collector::start();
    for line in out.lines() {
        let response = client()
            .post(&target.otlp_traces)
            .header("content-type", "application/json")
            .header("x-skein-project", PROJECT)
            .body(line.to_string())
            .send()
            .await
            .expect("POST a line");
        assert_eq!(response.status(), 200);
    }
    wait_for_project(&target, "", TRACES).await;
    let spans = get(
        &target.url(&format!("/api/v1/spans?project={PROJECT}&limit=1")),
        "",
    )
    .await;
    assert_eq!(spans["total"], 3 * TRACES, "{spans}");
    // Each span as it was (a sample of traces, and the one split between pages).
    let split = (0..TRACES)
        .find(|i| out.lines().filter(|l| l.contains(&trace_id(*i))).count() == 2)
        .expect("a trace on two lines");
    for i in (0..TRACES).step_by(23).chain([split]) {
        let trace = trace_id(i);
        let before = spans_of(&source, "", PROJECT, &trace).await;
        let after = spans_of(&target, "", PROJECT, &trace).await;
        assert_eq!(after.len(), 3);
        assert_eq!(after, before, "trace {trace}");
    }
}

#[tokio::test]
async fn a_clickhouse_collector_exports_alike() {
    let server = testserver::server();
    let database = testserver::fresh_database();
    let collector = Collector::start_with(&[
        "--clickhouse-url",
        &server.url,
        "--clickhouse-database",
        &database,
    ]);
    send(&collector, "").await;
    send_other(&collector, "").await;
    wait_for_project(&collector, "", TRACES).await;
    let out = stdout_of(&export(
        &collector,
        &[
            "--project",
            PROJECT,
            "--kind",
            "spans",
            "--filter",
            "gt(attr.retrieval.documents, 3)",
            "--trace-filter",
            r#"eq(session, "s-1")"#,
        ],
    ));
    let got: BTreeSet<(String, String)> = out
        .lines()
        .map(|l| {
            let row: Value = serde_json::from_str(l).expect("a JSON line");
            (
                row["trace_id"].as_str().unwrap().to_string(),
                row["span_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = (0..TRACES)
        .filter(|i| i % 7 > 3 && i % 4 == 1)
        .map(|i| (trace_id(i), span_id(i, 2)))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    let out = stdout_of(&export(
        &collector,
        &[
            "--project",
            PROJECT,
            "--format",
            "otlp",
            "--filter",
            "eq(attr.retrieval.documents, 6)",
            "--tree-filter",
            r#"eq(model, "gpt-4o")"#,
        ],
    ));
    let got: BTreeSet<String> = out
        .lines()
        .map(|l| {
            let document: Value = serde_json::from_str(l).expect("OTLP/JSON");
            let spans: Vec<&Value> = document["resourceSpans"]
                .as_array()
                .expect("resourceSpans")
                .iter()
                .flat_map(|r| r["scopeSpans"].as_array().into_iter().flatten())
                .flat_map(|s| s["spans"].as_array().into_iter().flatten())
                .collect();
            assert_eq!(spans.len(), 3, "the trace whole");
            spans[0]["traceId"].as_str().unwrap().to_string()
        })
        .collect();
    let want: BTreeSet<String> = (0..TRACES)
        .filter(|i| i % 7 == 6 && i % 3 == 0)
        .map(trace_id)
        .collect();
    assert_eq!(got, want);
    // Spans as OTLP lines: the same spans the rows are.
    let out = stdout_of(&export(
        &collector,
        &[
            "--project",
            PROJECT,
            "--kind",
            "spans",
            "--format",
            "otlp",
            "--filter",
            "gt(attr.retrieval.documents, 3)",
            "--trace-filter",
            r#"eq(session, "s-1")"#,
        ],
    ));
    let got: BTreeSet<(String, String)> = otlp_span_ids(&out).into_iter().collect();
    let want: BTreeSet<(String, String)> = (0..TRACES)
        .filter(|i| i % 7 > 3 && i % 4 == 1)
        .map(|i| (trace_id(i), span_id(i, 2)))
        .collect();
    assert_eq!(got, want);
    let bad = stderr_of(&export(&collector, &["--filter", "gt(attr., 1)"]));
    assert!(bad.contains("at character 4"), "{bad}");
}
