//! `GET /api/v1/traces/{id}/search?q=` over HTTP against the real binary: spans found by text
//! in their attributes, input, output, events and tags as well as names and services,
//! case-insensitively; bad requests answered 400 with the one error shape, unknown traces 404.

mod common;

use std::time::Duration;

use common::{client, get_json, Collector};
use serde_json::{json, Value};

const TRACE: &str = "5ea4c4000000000000000000000000a1";

async fn send_trace(collector: &Collector) {
    let at = |ms: u64| (1_795_500_000_000_000_000u64 + ms * 1_000_000).to_string();
    let attr = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", "agents")]},
        "scopeSpans": [{"spans": [
            {"traceId": TRACE, "spanId": "00000000000000e1", "name": "main_agent",
             "startTimeUnixNano": at(0), "endTimeUnixNano": at(100),
             "attributes": [attr("env", "staging")]},
            {"traceId": TRACE, "spanId": "00000000000000e2", "parentSpanId": "00000000000000e1",
             "name": "chat", "startTimeUnixNano": at(10), "endTimeUnixNano": at(60),
             "attributes": [
                attr("input.value", "What is the Capital of France?"),
                attr("output.value", "Paris."),
                attr("retrieval.query", "capital cities 2024")
             ]},
            {"traceId": TRACE, "spanId": "00000000000000e3", "parentSpanId": "00000000000000e1",
             "name": "search_tool", "startTimeUnixNano": at(60), "endTimeUnixNano": at(90),
             "events": [{"name": "exception", "timeUnixNano": at(80), "attributes": [
                attr("exception.message", "Rate limit reached for tool")]}]}
        ]}]
    }]});
    let response = client()
        .post(&collector.otlp_traces)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert!(response.status().is_success());
    for _ in 0..100 {
        let r = client()
            .get(collector.url(&format!("/api/v1/traces/{TRACE}")))
            .send()
            .await
            .expect("GET");
        if r.status().is_success() {
            let skeleton: Value = r.json().await.expect("JSON");
            if skeleton["spans"].as_array().map(Vec::len) == Some(3) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the trace did not arrive");
}

async fn found(collector: &Collector, q: &str) -> Vec<String> {
    let url = collector.url(&format!(
        "/api/v1/traces/{TRACE}/search?q={}",
        q.replace(' ', "%20")
    ));
    let answer = get_json(&url).await;
    assert_eq!(answer["query"], q.trim());
    let mut ids: Vec<String> = answer["span_ids"]
        .as_array()
        .expect("span_ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}

async fn error(collector: &Collector, path: &str) -> (u16, Value) {
    let r = client().get(collector.url(path)).send().await.expect("GET");
    let status = r.status().as_u16();
    (status, r.json().await.expect("a JSON error"))
}

#[tokio::test]
async fn spans_are_found_by_any_text_they_hold() {
    let collector = Collector::start();
    send_trace(&collector).await;
    assert_eq!(
        found(&collector, "capital OF france").await,
        ["00000000000000e2"]
    );
    assert_eq!(found(&collector, "PARIS").await, ["00000000000000e2"]);
    assert_eq!(found(&collector, "cities 2024").await, ["00000000000000e2"]);
    assert_eq!(found(&collector, "rate limit").await, ["00000000000000e3"]);
    assert_eq!(found(&collector, "staging").await, ["00000000000000e1"]);
    // Names and services too: every span is in `agents`.
    assert_eq!(found(&collector, "agents").await.len(), 3);
    assert_eq!(found(&collector, "main_agent").await, ["00000000000000e1"]);
    assert!(found(&collector, "berlin").await.is_empty());
}

#[tokio::test]
async fn bad_searches_get_clear_errors() {
    let collector = Collector::start();
    send_trace(&collector).await;
    for path in [
        format!("/api/v1/traces/{TRACE}/search"),
        format!("/api/v1/traces/{TRACE}/search?q=%20%20"),
        format!("/api/v1/traces/{TRACE}/search?q={}", "x".repeat(201)),
        "/api/v1/traces/not-hex/search?q=paris".to_string(),
    ] {
        let (status, body) = error(&collector, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
    let (status, body) = error(
        &collector,
        "/api/v1/traces/0000000000000000000000000000dead/search?q=paris",
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].is_string());
}
