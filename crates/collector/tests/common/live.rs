//! Live-tail checks both engines run over HTTP (`tests/stream.rs` on SQLite,
//! `tests/clickhouse.rs` on ClickHouse): the stream's `trace_filter` and `tree_filter` select
//! as the trace and span lists do, also when a trace's root arrives after its other spans.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use skein_model::query::percent_encode;

use super::sse::{SseEvent, SseStream};
use super::{client, Collector};

/// Long enough for an event on any engine (ClickHouse streams read every 500 ms).
const WAIT: Duration = Duration::from_millis(1500);

fn trace_hex(t: u64) -> String {
    format!("{:032x}", 0x7f_0000 + t)
}

/// An OTLP/JSON request with one span per `(trace, span, parent, name)`.
fn spans(list: &[(u64, u64, Option<u64>, &str)]) -> Value {
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let spans: Vec<Value> = list
        .iter()
        .map(|(t, s, parent, name)| {
            let mut span = json!({"traceId": trace_hex(*t), "spanId": format!("{s:016x}"),
                "name": name, "startTimeUnixNano": (start + s * 1000).to_string(),
                "endTimeUnixNano": (start + s * 1000 + 2_000_000).to_string()});
            if let Some(p) = parent {
                span["parentSpanId"] = json!(format!("{p:016x}"));
            }
            span
        })
        .collect();
    json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
}

async fn send(c: &Collector, body: &Value) {
    let response = client()
        .post(&c.otlp_traces)
        .json(body)
        .send()
        .await
        .expect("POST spans");
    assert!(response.status().is_success(), "{}", response.status());
}

async fn open(c: &Collector, query: &str) -> SseStream {
    SseStream::open(&c.url(&format!("/api/v1/stream?{query}")), &[]).await
}

fn traces(events: &[SseEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.data["trace_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn names(events: &[SseEvent]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| e.data["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// `trace_filter` (on the root) and `tree_filter` (on any span) on both kinds of stream.
pub async fn trace_and_tree_filters_select(c: &Collector) {
    let agent = percent_encode(r#"eq(name, "agent")"#);
    let llm = percent_encode(r#"eq(name, "llm")"#);
    let tool = percent_encode(r#"eq(name, "tool")"#);
    let mut rooted = open(c, &format!("kind=traces&trace_filter={agent}")).await;
    let mut having_llm = open(c, &format!("kind=traces&tree_filter={llm}")).await;
    let mut spans_rooted = open(c, &format!("kind=spans&trace_filter={agent}")).await;
    let mut tools_with_llm = open(c, &format!("kind=spans&filter={tool}&tree_filter={llm}")).await;

    // Trace 1: a tool span before its root; trace 2: a chat root with an llm child.
    send(c, &spans(&[(1, 2, Some(1), "tool")])).await;
    send(c, &spans(&[(2, 3, None, "chat"), (2, 4, Some(3), "llm")])).await;
    assert!(
        rooted.drain(WAIT).await.is_empty(),
        "no root named agent yet"
    );
    assert_eq!(traces(&having_llm.drain(WAIT).await), vec![trace_hex(2)]);
    assert!(spans_rooted.drain(WAIT).await.is_empty());
    assert!(
        tools_with_llm.drain(WAIT).await.is_empty(),
        "no llm in trace 1 yet"
    );

    // Trace 1's root and an llm span arrive: now it passes both, and is announced.
    send(c, &spans(&[(1, 1, None, "agent"), (1, 5, Some(1), "llm")])).await;
    let got = rooted.drain(WAIT).await;
    assert_eq!(traces(&got), vec![trace_hex(1)], "{got:?}");
    assert_eq!(got[0].data["root_name"], "agent");
    assert_eq!(got[0].data["span_count"], 3);
    assert_eq!(traces(&having_llm.drain(WAIT).await), vec![trace_hex(1)]);
    // The held tool span comes with the root's arrival, each span once.
    let got = spans_rooted.drain(WAIT).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        names(&got),
        ["agent", "llm", "tool"].map(String::from).into()
    );
    assert!(got.iter().all(|e| e.data["trace_id"] == trace_hex(1)));
    let got = tools_with_llm.drain(WAIT).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].data["name"], "tool");

    // Once passed, later spans of the trace come at once.
    send(c, &spans(&[(1, 6, Some(1), "tool")])).await;
    let got = tools_with_llm.drain(WAIT).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].data["span_id"], format!("{:016x}", 6));

    // An expression that cannot be used: 400 naming the parameter.
    for param in ["trace_filter", "tree_filter"] {
        for kind in ["traces", "spans"] {
            let bad = client()
                .get(c.url(&format!(
                    "/api/v1/stream?kind={kind}&{param}={}",
                    percent_encode("eq(name,")
                )))
                .send()
                .await
                .expect("GET");
            assert_eq!(bad.status(), 400, "{kind} {param}");
            let body: Value = bad.json().await.expect("JSON");
            assert_eq!(body["param"], param, "{body}");
        }
    }
}
