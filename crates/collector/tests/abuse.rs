//! Limits that must hold under abuse, over HTTP against the real binary: a request's cost is
//! bounded by its size (LangSmith session and run ids per request, unknown session ids that
//! cost no scan of the store, skipped parts summed up in one log line and a bounded answer),
//! the bytes of request bodies held at once are bounded (503 + Retry-After past the budget),
//! JSON endpoints answer an oversized body with 413 in the JSON error shape at the configured
//! limit, and LangSmith times outside a sane range are 400.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{client, Collector};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn send(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, String, Option<String>) {
    let mut request = client().post(url).body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, response.text().await.unwrap_or_default(), retry)
}

async fn post_json(url: &str, body: &Value) -> (u16, String) {
    let (status, text, _) = send(
        url,
        &[("content-type", "application/json")],
        serde_json::to_vec(body).unwrap(),
    )
    .await;
    (status, text)
}

fn run(id: &str, extra: Value) -> Value {
    let mut run = json!({"id": id, "trace_id": id, "name": "r", "run_type": "chain",
        "dotted_order": format!("20261124T060449941486Z{id}"),
        "start_time": "2026-11-24T06:04:49.941486+00:00"});
    for (k, v) in extra.as_object().unwrap() {
        run[k] = v.clone();
    }
    run
}

fn run_id(i: usize) -> String {
    format!("01a20c28-aec6-77ac-bd5e-{i:012x}")
}

/// One OTLP JSON request of `n` single-span traces.
fn many_traces(n: usize) -> Vec<u8> {
    let spans: Vec<Value> = (0..n)
        .map(|i| {
            json!({"traceId": format!("{:032x}", i + 1), "spanId": format!("{:016x}", i + 1),
                "name": "t", "kind": 1, "startTimeUnixNano": "1795500443630000000",
                "endTimeUnixNano": "1795500443631000000"})
        })
        .collect();
    serde_json::to_vec(&json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})).unwrap()
}

#[tokio::test]
async fn unknown_session_ids_cost_no_scan_of_the_store() {
    let collector = Collector::start();
    let c = &collector;
    let (status, answer, _) = send(
        &c.url("/v1/traces"),
        &[("content-type", "application/json")],
        many_traces(40_000),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let batch = c.url("/api/langsmith/runs/batch");
    // 300 runs of a named project, then 300 whose session ids no project has.
    let named: Vec<Value> = (0..300)
        .map(|i| run(&run_id(i), json!({"session_name": "default"})))
        .collect();
    let started = Instant::now();
    let (status, answer) = post_json(&batch, &json!({"post": named})).await;
    assert_eq!(status, 202, "{answer}");
    let named_took = started.elapsed();
    let unknown: Vec<Value> = (300..600)
        .map(|i| {
            run(
                &run_id(i),
                json!({"session_id": uuid::Uuid::new_v4().to_string()}),
            )
        })
        .collect();
    let started = Instant::now();
    let (status, answer) = post_json(&batch, &json!({"post": unknown})).await;
    assert_eq!(status, 202, "{answer}");
    let unknown_took = started.elapsed();
    let sessions: Vec<String> = (0..100).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let started = Instant::now();
    let (status, answer) = post_json(
        &c.url("/api/langsmith/runs/query"),
        &json!({"session": sessions}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let query_took = started.elapsed();
    eprintln!("300 named runs {named_took:?}, 300 unknown sessions {unknown_took:?}, a query of 100 unknown sessions {query_took:?}");
    assert!(
        unknown_took < named_took * 4 + Duration::from_millis(250),
        "300 runs with unknown session ids took {unknown_took:?}, with a named project {named_took:?}"
    );
    assert!(
        query_took < Duration::from_secs(1),
        "a query of 100 unknown sessions took {query_took:?}"
    );
}

#[tokio::test]
async fn ids_per_query_are_capped() {
    let collector = Collector::start();
    let query = collector.url("/api/langsmith/runs/query");
    let uuids = |n: usize| -> Vec<String> { (0..n).map(run_id).collect() };
    let (status, answer) = post_json(&query, &json!({"session": uuids(100)})).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post_json(&query, &json!({"session": uuids(101)})).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("100"), "{answer}");
    let (status, answer) = post_json(&query, &json!({"id": uuids(1000)})).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post_json(&query, &json!({"id": uuids(1001)})).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("1000"), "{answer}");
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// `n` parts no one can use, each with a 200-character name; then `tail`.
fn junk_upload(n: usize, tail: &str) -> Vec<u8> {
    let mut body = String::new();
    let name = "j".repeat(200);
    for i in 0..n {
        body.push_str(&format!(
            "--XX\r\nContent-Disposition: form-data; name=\"{name}{i}\"\r\n\r\n{{}}\r\n"
        ));
    }
    body.push_str(tail);
    body.push_str("--XX--\r\n");
    zstd(body.as_bytes())
}

#[tokio::test]
async fn skipped_parts_are_one_log_line_and_a_bounded_answer() {
    let dir = tempfile::tempdir().unwrap();
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("collector.log");
    let collector = Collector::start_logged(dir, &[], &[], Some(&log));
    let id = run_id(1);
    let good = format!(
        "--XX\r\nContent-Disposition: form-data; name=\"post.{id}\"\r\n\r\n{}\r\n",
        run(&id, json!({}))
    );
    let headers = [
        ("content-type", "multipart/form-data; boundary=XX"),
        ("content-encoding", "zstd"),
    ];
    let url = collector.url("/api/langsmith/runs/multipart");
    let upload = junk_upload(50_000, &good);
    assert!(upload.len() < 100_000, "{}", upload.len());
    let (status, answer, _) = send(&url, &headers, upload).await;
    assert_eq!(status, 202, "{}", &answer[..answer.len().min(500)]);
    assert!(answer.len() < 8192, "a {} byte answer", answer.len());
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["runs"], 1, "{answer}");
    assert_eq!(answer["skipped_total"], 50_000, "{answer}");
    let listed = answer["skipped"].as_array().unwrap();
    assert!(!listed.is_empty() && listed.len() <= 20, "{answer}");

    // Nothing usable: 400, as short.
    let (status, answer, _) = send(&url, &headers, junk_upload(50_000, "")).await;
    assert_eq!(status, 400, "{}", &answer[..answer.len().min(500)]);
    assert!(answer.len() < 8192, "a {} byte answer", answer.len());
    assert!(answer.contains("50000"), "{answer}");

    drop(collector);
    let log = std::fs::read_to_string(&log).unwrap();
    let lines = log.lines().filter(|l| l.contains("skipped")).count();
    assert!(
        (1..=2).contains(&lines),
        "{lines} log lines about skipped parts; the first: {:?}",
        log.lines().next()
    );
    assert!(log.len() < 64 * 1024, "a {} byte log", log.len());
}

#[tokio::test]
async fn json_endpoints_answer_an_oversized_body_with_413_at_the_configured_limit() {
    let collector = Collector::start_with(&["--max-request-bytes", "1000000"]);
    let c = &collector;
    let big = json!({"run_id": "b7ad6b7169203331", "key": "k", "comment": "x".repeat(1_500_000)});
    for (method, url) in [
        ("POST", c.url("/api/v1/feedback")),
        ("PATCH", c.url("/api/v1/feedback/some-id")),
        ("POST", c.url("/api/langsmith/runs/query")),
        ("POST", c.url("/api/langsmith/sessions")),
        ("POST", c.url("/api/langsmith/feedback")),
        ("POST", c.url("/api/langsmith/runs/batch")),
        ("POST", c.url("/api/langsmith/runs")),
    ] {
        let response = client()
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                &url,
            )
            .json(&big)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(status, 413, "{method} {url}: {text}");
        let answer: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {url}: not the JSON error shape: {text}"));
        assert!(
            answer["error"].as_str().unwrap().contains("1000000"),
            "{answer}"
        );
    }

    // At the default limit (32 MiB), a 3 MB feedback body is read, and judged on its content.
    let collector = Collector::start();
    let big = json!({"run_id": "b7ad6b7169203331", "key": "k", "comment": "x".repeat(3_000_000)});
    let (status, answer) = post_json(&collector.url("/api/v1/feedback"), &big).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("comment"), "{answer}");
}

/// An OTLP JSON body of about `bytes` bytes, one span.
fn otlp_of_size(bytes: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
        "name": "big", "kind": 1, "startTimeUnixNano": "1795500443630000000",
        "endTimeUnixNano": "1795500443631000000",
        "attributes": [{"key": "input.value", "value": {"stringValue": "x".repeat(bytes - 400)}}]
    }]}]}]}))
    .unwrap()
}

/// Opens a request that announces `length` bytes of body and sends only a few: the
/// collector holds its place in the budget while it waits for the rest.
async fn held_request(addr: &str, length: usize) -> tokio::net::TcpStream {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n{{\"resourceSpans\": ["
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket
}

#[tokio::test]
async fn bodies_held_at_once_stay_within_the_budget() {
    let collector = Collector::start_with(&[
        "--max-request-bytes",
        "1000000",
        "--max-inflight-bytes",
        "2500000",
    ]);
    let addr = collector.http.trim_start_matches("http://").to_string();
    let held = vec![
        held_request(&addr, 1_000_000).await,
        held_request(&addr, 1_000_000).await,
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = collector.url("/v1/traces");
    let json_type = [("content-type", "application/json")];
    let (status, answer, retry) = send(&url, &json_type, otlp_of_size(900_000)).await;
    assert_eq!(status, 503, "{answer}");
    assert!(retry.is_some(), "no Retry-After");
    assert!(answer.contains("\"error\""), "{answer}");
    // A body without a length is counted as it arrives.
    {
        let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let chunk = otlp_of_size(900_000);
        let head = format!(
            "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            chunk.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let _ = socket.write_all(&chunk).await;
        let _ = socket.write_all(b"\r\n0\r\n\r\n").await;
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer))
            .await
            .expect("an answer")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    }
    // Small requests still fit.
    let (status, answer, _) = send(&url, &json_type, otlp_of_size(100_000)).await;
    assert_eq!(status, 200, "{answer}");
    // Once the held requests are gone, their share is free again.
    drop(held);
    let mut status = 0;
    for _ in 0..50 {
        (status, _, _) = send(&url, &json_type, otlp_of_size(900_000)).await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
}

#[tokio::test]
async fn langsmith_times_outside_a_sane_range_are_400() {
    let collector = Collector::start();
    let runs = collector.url("/api/langsmith/runs");
    for (i, (field, time)) in [
        ("start_time", json!(9.9e300)),
        ("start_time", json!(-9.9e300)),
        ("start_time", json!(1e18)),
        ("start_time", json!(-5e12)),
        ("start_time", json!("1800-01-01T00:00:00Z")),
        ("start_time", json!("2600-01-01T00:00:00Z")),
        ("end_time", json!(9.9e300)),
        ("end_time", json!(-9.9e300)),
    ]
    .into_iter()
    .enumerate()
    {
        let id = run_id(100 + i);
        let mut body = run(&id, json!({}));
        body[field] = time.clone();
        let (status, answer) = post_json(&runs, &body).await;
        assert_eq!(status, 400, "{field} {time}: {answer}");
        let (status, answer) = post_json(
            &collector.url("/api/langsmith/runs/batch"),
            &json!({"post": [body]}),
        )
        .await;
        assert_eq!(status, 400, "batch {field} {time}: {answer}");
    }
    let (status, answer) = post_json(
        &collector.url("/api/langsmith/runs/query"),
        &json!({"session": [run_id(1)], "start_time": 9.9e300}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    // Seconds and milliseconds in range are fine.
    for (i, time) in [json!(1795500443.63), json!(1795500443630_u64)]
        .into_iter()
        .enumerate()
    {
        let mut body = run(&run_id(200 + i), json!({}));
        body["start_time"] = time;
        let (status, answer) = post_json(&runs, &body).await;
        assert_eq!(status, 202, "{answer}");
    }
}

/// The filter language is parsed by recursive descent: a deeply nested filter is refused with
/// 400 rather than overflowing the stack (which took the whole collector down).
#[tokio::test]
async fn a_deeply_nested_run_filter_is_400_and_the_collector_lives_on() {
    let collector = Collector::start();
    let query = collector.url("/api/langsmith/runs/query");
    let nested = format!(
        "{}eq(name, \"x\"){}",
        "and(".repeat(100_000),
        ")".repeat(100_000)
    );
    let (status, answer) =
        post_json(&query, &json!({"session": [run_id(1)], "filter": nested})).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("nest"), "{answer}");
    // Nesting a real filter needs is fine.
    let nested = format!("{}eq(name, \"x\"){}", "and(".repeat(30), ")".repeat(30));
    let (status, answer) =
        post_json(&query, &json!({"session": [run_id(1)], "filter": nested})).await;
    assert_eq!(status, 200, "{answer}");
}
