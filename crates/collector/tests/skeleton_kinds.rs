//! The trace skeleton carries each span's OTel kind (its 10th element) and its own cost (its
//! 11th), from OTLP through SQLite, including in a database written before the store kept
//! kinds; and the same skeleton in the compact binary form.

mod common;

#[path = "../src/store/sqlite/test_files.rs"]
mod test_files;

use std::time::Duration;

use common::{client, get_json, Collector};

const TRACE: &str = "5a1e0000000000000000000000000001";
const LATER_TRACE: &str = "5a1e0000000000000000000000000002";

/// A gateway client span calling an orders server span (two services, one request).
fn cross_service_request(trace_id: &str) -> serde_json::Value {
    let at = |ms: u64| (1_795_500_000_000_000_000u64 + ms * 1_000_000).to_string();
    let resource = |service: &str, spans: serde_json::Value| {
        serde_json::json!({
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{"spans": spans}]
        })
    };
    serde_json::json!({"resourceSpans": [
        resource("gateway", serde_json::json!([
            {"traceId": trace_id, "spanId": "00000000000000a1", "name": "GET /checkout",
             "kind": 2, "startTimeUnixNano": at(0), "endTimeUnixNano": at(100)},
            {"traceId": trace_id, "spanId": "00000000000000a2", "parentSpanId": "00000000000000a1",
             "name": "POST orders", "kind": 3, "startTimeUnixNano": at(10), "endTimeUnixNano": at(70)}
        ])),
        resource("orders", serde_json::json!([
            {"traceId": trace_id, "spanId": "00000000000000b1", "parentSpanId": "00000000000000a2",
             "name": "POST /orders", "kind": 2, "startTimeUnixNano": at(20), "endTimeUnixNano": at(60)},
            {"traceId": trace_id, "spanId": "00000000000000b2", "parentSpanId": "00000000000000b1",
             "name": "publish", "kind": 4, "startTimeUnixNano": at(30), "endTimeUnixNano": at(31)}
        ]))
    ]})
}

async fn send(collector: &Collector, trace_id: &str) {
    let response = client()
        .post(&collector.otlp_traces)
        .json(&cross_service_request(trace_id))
        .send()
        .await
        .expect("POST");
    assert!(response.status().is_success(), "{}", response.status());
}

/// Span id → kind code, from the skeleton, once all four spans are readable.
async fn kinds(collector: &Collector, trace_id: &str) -> Vec<(String, u64)> {
    for _ in 0..100 {
        let response = client()
            .get(collector.url(&format!("/api/v1/traces/{trace_id}")))
            .send()
            .await
            .expect("GET");
        if response.status().is_success() {
            let skeleton: serde_json::Value = response.json().await.expect("JSON");
            let spans = skeleton["spans"].as_array().cloned().unwrap_or_default();
            if spans.len() == 4 {
                let mut out: Vec<(String, u64)> = spans
                    .iter()
                    .map(|s| {
                        (
                            s[0].as_str().expect("id").to_string(),
                            s[9].as_u64().expect("kind"),
                        )
                    })
                    .collect();
                out.sort();
                return out;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("trace {trace_id} did not arrive within 10 s");
}

fn expected() -> Vec<(String, u64)> {
    // server 2, client 3, producer 4 (the OTLP numbers).
    [
        ("00000000000000a1", 2),
        ("00000000000000a2", 3),
        ("00000000000000b1", 2),
        ("00000000000000b2", 4),
    ]
    .into_iter()
    .map(|(id, k)| (id.to_string(), k))
    .collect()
}

#[tokio::test]
async fn the_skeleton_carries_span_kinds() {
    let collector = Collector::start();
    send(&collector, TRACE).await;
    assert_eq!(kinds(&collector, TRACE).await, expected());
}

#[tokio::test]
async fn a_database_from_before_kinds_is_upgraded_in_place() {
    let collector = Collector::start();
    send(&collector, TRACE).await;
    kinds(&collector, TRACE).await;
    let dir = collector.kill();

    // Put the database back to schema 1: spans without a kind column (nor the later index
    // over it).
    test_files::execute_batch(
        &dir.path().join("skein.db"),
        "DROP INDEX spans_by_trace_extent;
         ALTER TABLE spans DROP COLUMN kind; ALTER TABLE spans DROP COLUMN cost;
         PRAGMA user_version = 1;",
    );

    let collector = Collector::start_in(dir, &[]);
    // Spans stored before the upgrade have no known kind: read as internal (1).
    let old = kinds(&collector, TRACE).await;
    assert!(old.iter().all(|(_, k)| *k == 1), "{old:?}");
    send(&collector, LATER_TRACE).await;
    assert_eq!(kinds(&collector, LATER_TRACE).await, expected());
    let summary = get_json(&collector.url(&format!("/api/v1/traces/{TRACE}"))).await;
    assert_eq!(summary["summary"]["span_count"], 4);
}

#[tokio::test]
async fn the_skeleton_carries_span_costs() {
    let collector = Collector::start();
    let trace_id = "5a1e0000000000000000000000000003";
    let at = |ms: u64| (1_795_500_000_000_000_000u64 + ms * 1_000_000).to_string();
    let attr = |k: &str, v: serde_json::Value| serde_json::json!({"key": k, "value": v});
    let body = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", serde_json::json!({"stringValue": "agents"}))]},
        "scopeSpans": [{"spans": [
            {"traceId": trace_id, "spanId": "00000000000000c1", "name": "agent",
             "startTimeUnixNano": at(0), "endTimeUnixNano": at(100)},
            {"traceId": trace_id, "spanId": "00000000000000c2", "parentSpanId": "00000000000000c1",
             "name": "chat", "startTimeUnixNano": at(10), "endTimeUnixNano": at(90),
             "attributes": [
                attr("openinference.span.kind", serde_json::json!({"stringValue": "LLM"})),
                attr("llm.token_count.prompt", serde_json::json!({"intValue": "1200"})),
                attr("llm.cost.total", serde_json::json!({"doubleValue": 0.0042}))
             ]}
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
        let skeleton = get_json(&collector.url(&format!("/api/v1/traces/{trace_id}"))).await;
        let spans = skeleton["spans"].as_array().cloned().unwrap_or_default();
        if spans.len() == 2 {
            let cost_of = |id: &str| {
                spans
                    .iter()
                    .find(|s| s[0] == id)
                    .map(|s| s[10].clone())
                    .expect("the span")
            };
            assert_eq!(cost_of("00000000000000c2"), serde_json::json!(0.0042));
            // Without a cost the element is left out.
            assert_eq!(cost_of("00000000000000c1"), serde_json::Value::Null);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the trace did not arrive");
}

/// The compact binary form (`?format=binary`, or `Accept` naming its type) is the same
/// skeleton as the JSON, for clients that ask for it, its spans in display order (the top of
/// the tree first); JSON stays the default.
#[tokio::test]
async fn the_binary_skeleton_is_the_json_one() {
    use skein_model::{skeleton_wire, TraceSkeleton};
    let collector = Collector::start();
    send(&collector, TRACE).await;
    kinds(&collector, TRACE).await;
    let url = collector.url(&format!("/api/v1/traces/{TRACE}"));
    let json: TraceSkeleton =
        serde_json::from_value(get_json(&url).await).expect("a trace skeleton");
    assert_eq!(json.spans.len(), 4);
    for request in [
        client().get(format!("{url}?format=binary")),
        client()
            .get(&url)
            .header("accept", skeleton_wire::CONTENT_TYPE),
    ] {
        let response = request.send().await.expect("GET");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            skeleton_wire::CONTENT_TYPE
        );
        let bytes = response.bytes().await.expect("body");
        assert_eq!(skeleton_wire::decode(&bytes), Ok(json.in_display_order()));
    }
    let response = client()
        .get(format!("{url}?format=xml"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.expect("JSON error");
    assert!(
        error["error"].as_str().is_some_and(|e| e.contains("xml")),
        "{error}"
    );
    // Unknown traces are a 404 in either form.
    let missing = collector.url("/api/v1/traces/5a1e00000000000000000000000000ff?format=binary");
    assert_eq!(
        client().get(missing).send().await.expect("GET").status(),
        404
    );
}
