//! Annotation queues (`/api/v1/queues`) against the real `skein` binary: queues made from
//! trace ids and from a trace-list query, reviewers claiming items under leases (never the
//! same item at once; an item whose lease ran out goes back), completions stored as feedback
//! on the traces through the score-config checks (naming the queue and the reviewer, seen by
//! /metrics at once), items needing several reviewers, queues sampled from a query (balanced
//! across a tag), bad input refused with 400 {"error"}, a key reading and writing its own
//! project's queues only, and a key's label as its reviewer whatever the body claims.

mod access;
#[path = "../common/mod.rs"]
mod common;
mod reviews;
mod sampling;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{call, send_spans, Collector};
use serde_json::{json, Value};

fn trace_id(n: u64) -> String {
    format!("{n:032x}")
}

fn root_id(n: u64) -> String {
    format!("{:016x}", n * 16 + 1)
}

/// Traces `ns` of `project`: each a root span named `name` with one child.
async fn post_traces(collector: &Collector, project: &str, ns: &[u64], name: &str) {
    post_tagged(collector, project, ns, name, &[]).await;
}

/// Traces as `post_traces` sends them, their roots tagged with `tags`.
async fn post_tagged(
    collector: &Collector,
    project: &str,
    ns: &[u64],
    name: &str,
    tags: &[(&str, &str)],
) {
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
        - 60_000_000_000;
    let mut spans = Vec::new();
    for &n in ns {
        let at = start + n as i64 * 1_000_000;
        spans.push(json!({
            "traceId": trace_id(n), "spanId": root_id(n), "name": name,
            "startTimeUnixNano": at.to_string(), "endTimeUnixNano": (at + 5_000_000).to_string(),
            "attributes": std::iter::once(("input.value", format!("question {n}")))
                .chain(tags.iter().map(|(k, v)| (*k, v.to_string())))
                .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
                .collect::<Vec<_>>(),
        }));
        spans.push(json!({
            "traceId": trace_id(n), "spanId": format!("{:016x}", n * 16 + 2),
            "parentSpanId": root_id(n), "name": "llm",
            "startTimeUnixNano": (at + 1_000_000).to_string(),
            "endTimeUnixNano": (at + 4_000_000).to_string(),
        }));
    }
    send_spans(collector, project, "agent", spans).await;
}

fn correctness() -> Value {
    json!({"key": "correctness", "type": "categorical",
           "categories": [{"label": "correct", "score": 1}, {"label": "wrong", "score": 0}]})
}

/// Creates a queue collecting `correctness` in project `p`; its id.
async fn new_queue(collector: &Collector, p: &str) -> String {
    let url = collector.url(&format!("/api/v1/queues?project={p}"));
    let (status, queue) = call(
        "POST",
        &url,
        Some(&json!({"name": "weekly review", "score_keys": ["correctness"]})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{queue}");
    queue["id"].as_str().expect("an id").to_string()
}
