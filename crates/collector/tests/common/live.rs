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

async fn post_feedback(c: &Collector, body: Value) -> Value {
    let response = client()
        .post(c.url("/api/v1/feedback"))
        .json(&body)
        .send()
        .await
        .expect("POST feedback");
    assert_eq!(response.status(), 201);
    response.json().await.expect("JSON")
}

/// A stream whose `tree_filter` or `trace_filter` names feedback decides again when feedback
/// alone changes (a rating posted, changed or removed after the spans arrived).
pub async fn feedback_fires_filters_naming_it(c: &Collector) {
    let good = percent_encode(r#"and(eq(feedback_key, "quality"), gte(feedback_score, 0.5))"#);
    let mut traces_rated = open(c, &format!("kind=traces&tree_filter={good}")).await;
    let mut roots_rated = open(c, &format!("kind=traces&trace_filter={good}")).await;
    let mut spans_rated = open(c, &format!("kind=spans&tree_filter={good}")).await;

    send(
        c,
        &spans(&[(11, 1, None, "agent"), (11, 2, Some(1), "llm")]),
    )
    .await;
    assert!(traces_rated.drain(WAIT).await.is_empty(), "not rated yet");
    assert!(spans_rated.drain(WAIT).await.is_empty());

    // A good rating on the child: the trace has a span rated so (tree_filter), its root not.
    let child = post_feedback(
        c,
        json!({"run_id": format!("{:016x}", 2), "trace_id": trace_hex(11),
               "key": "quality", "score": 0.9}),
    )
    .await;
    let got = traces_rated.drain(WAIT).await;
    assert_eq!(traces(&got), vec![trace_hex(11)], "{got:?}");
    let got = spans_rated.drain(WAIT).await;
    assert_eq!(got.len(), 2, "each span once, as it is now: {got:?}");
    assert_eq!(
        names(&got),
        ["agent", "llm"].map(String::from).into(),
        "{got:?}"
    );
    assert!(
        roots_rated.drain(WAIT).await.is_empty(),
        "the root is not rated"
    );

    // The root rated too (its trace not named: looked up from the run).
    post_feedback(
        c,
        json!({"run_id": format!("{:016x}", 1), "key": "quality", "score": 1.0}),
    )
    .await;
    let got = roots_rated.drain(WAIT).await;
    assert_eq!(traces(&got), vec![trace_hex(11)], "{got:?}");

    // The child's rating lowered: the tree still passes through its root, announced again.
    let response = client()
        .patch(c.url(&format!(
            "/api/v1/feedback/{}",
            child["id"].as_str().unwrap()
        )))
        .json(&json!({"score": 0.1}))
        .send()
        .await
        .expect("PATCH feedback");
    assert!(response.status().is_success(), "{}", response.status());
    let got = traces_rated.drain(WAIT).await;
    assert_eq!(got.len(), 2, "each change announced: {got:?}");
}

/// A span held while its trace does not pass yet (`kind=spans`) is not lost by a reconnect
/// in that window: the events sent meanwhile have ids below it, so the resumed stream reads
/// it again and sends it when its trace passes.
pub async fn a_resume_while_a_span_is_held_still_gets_it(c: &Collector) {
    let agent = percent_encode(r#"eq(name, "agent")"#);
    let query = format!("kind=spans&trace_filter={agent}");
    let mut first = open(c, &query).await;
    // Trace 21's tool span before its root: held. Trace 22 passes at once: sent.
    send(c, &spans(&[(21, 2, Some(1), "tool")])).await;
    send(c, &spans(&[(22, 3, None, "agent")])).await;
    let got = first.drain(WAIT).await;
    assert_eq!(traces(&got), vec![trace_hex(22)], "{got:?}");
    let last_id = got[0].id.clone();
    drop(first);

    // The root of trace 21 arrives while the client is away; it reconnects.
    send(c, &spans(&[(21, 1, None, "agent")])).await;
    let mut resumed = SseStream::open(
        &c.url(&format!("/api/v1/stream?{query}")),
        &[("last-event-id", &last_id)],
    )
    .await;
    let got = resumed.drain(WAIT).await;
    let of_21: BTreeSet<String> = got
        .iter()
        .filter(|e| e.data["trace_id"] == trace_hex(21))
        .map(|e| e.data["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(of_21, ["agent", "tool"].map(String::from).into(), "{got:?}");
}
