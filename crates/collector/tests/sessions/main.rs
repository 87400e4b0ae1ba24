//! Sessions, users and the service graph over HTTP, against the real binary: ids from every
//! source ingest knows (OTel `session.id`, `gen_ai.conversation.id`, `user.id`, `enduser.id`,
//! plain `thread_id`/`user_id` attributes, LangSmith metadata), request order, conversation
//! text, feedback, filters, sorts and cursors; the graph's edges, counts and percentiles.

#[path = "../common/mod.rs"]
mod common;
mod id_sources;
mod lists;
mod service_graph;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{client, send_services, Collector};
use serde_json::{json, Value};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One OTLP JSON span with its service.
struct S {
    service: &'static str,
    span: Value,
}

#[allow(clippy::too_many_arguments)]
fn span(
    trace: u64,
    id: u64,
    parent: Option<u64>,
    service: &'static str,
    name: &str,
    kind: i64,
    start_ms: i64,
    duration_ms: i64,
    attributes: &[(&str, Value)],
    error: bool,
) -> S {
    let attrs: Vec<Value> = attributes
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => json!({"stringValue": s}),
                Value::Number(n) if n.is_i64() => json!({"intValue": n.to_string()}),
                Value::Number(n) => json!({"doubleValue": n}),
                Value::Bool(b) => json!({"boolValue": b}),
                other => json!({"stringValue": other.to_string()}),
            };
            json!({"key": k, "value": value})
        })
        .collect();
    let mut s = json!({
        "traceId": format!("{trace:032x}"),
        "spanId": format!("{id:016x}"),
        "name": name,
        "kind": kind,
        "startTimeUnixNano": (start_ms * 1_000_000).to_string(),
        "endTimeUnixNano": ((start_ms + duration_ms) * 1_000_000).to_string(),
        "attributes": attrs,
        "status": {"code": if error { 2 } else { 0 }},
    });
    if let Some(p) = parent {
        s["parentSpanId"] = json!(format!("{p:016x}"));
    }
    S { service, span: s }
}

async fn post_spans(collector: &Collector, project: &str, spans: Vec<S>) {
    let mut by_service: Vec<(&str, Vec<Value>)> = Vec::new();
    for s in spans {
        match by_service.iter_mut().find(|(name, _)| *name == s.service) {
            Some((_, list)) => list.push(s.span),
            None => by_service.push((s.service, vec![s.span])),
        }
    }
    send_services(collector, project, by_service).await;
}

async fn get_status(url: &str) -> (u16, Value) {
    let response = client().get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v[key].as_str().expect("an id").to_string())
        .collect()
}
