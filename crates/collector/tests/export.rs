//! A trace exported as OTLP/JSON (`GET /api/v1/traces/{id}/export`) and sent back to
//! `/v1/traces` is the same trace: every span reads as it did through the span endpoint,
//! whichever SDK first sent it (the OpenTelemetry Python SDK's seed agents, the LangSmith
//! SDK's `@traceable` run).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::sdks::{send_langsmith_seed, send_otel_seed};
use common::{client, get_json, Collector};
use serde_json::Value;

/// Every span of the trace in `project` by span id, once it has `count` spans and reads the
/// same twice in a row (the LangSmith SDK sends a run's end after its start), without the
/// project field.
async fn spans_of(
    collector: &Collector,
    project: &str,
    trace: &str,
    count: usize,
) -> BTreeMap<String, Value> {
    let skeleton_url = collector.url(&format!("/api/v1/traces/{trace}?project={project}"));
    let mut last = BTreeMap::new();
    for _ in 0..100 {
        let response = client().get(&skeleton_url).send().await.expect("GET");
        if response.status() == 200 {
            let skeleton: Value = response.json().await.expect("JSON");
            let ids: Vec<&str> = skeleton["spans"]
                .as_array()
                .expect("spans")
                .iter()
                .map(|s| s[0].as_str().expect("span id"))
                .collect();
            let mut spans = BTreeMap::new();
            for id in ids {
                let mut span = get_json(&collector.url(&format!(
                    "/api/v1/traces/{trace}/spans/{id}?project={project}"
                )))
                .await;
                span.as_object_mut().expect("a span").remove("project");
                spans.insert(id.to_string(), span);
            }
            if spans.len() >= count && spans == last {
                return spans;
            }
            last = spans;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("trace {trace} of {project} did not arrive whole");
}

/// OTLP has no null: a null inside an attribute's value is left out of the export.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter(|v| !v.is_null())
                .map(without_nulls)
                .collect(),
        ),
        other => other.clone(),
    }
}

#[tokio::test]
async fn an_exported_trace_sent_back_is_the_same_trace() {
    let collector = Collector::start();
    let from_otel = send_otel_seed(&collector, "session-export");
    let from_langsmith = send_langsmith_seed(&collector, "ls-export");
    for (project, trace) in [("default", from_otel), ("ls-export", from_langsmith)] {
        let before = spans_of(&collector, project, &trace, 7).await;
        let response = client()
            .get(collector.url(&format!("/api/v1/traces/{trace}/export?project={project}")))
            .send()
            .await
            .expect("export");
        assert_eq!(response.status(), 200);
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .expect("text")
            .to_string();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"trace-{trace}.otlp.json\"")
        );
        let body = response.bytes().await.expect("body");
        let copy = format!("{project}-copy");
        let sent = client()
            .post(&collector.otlp_traces)
            .header("content-type", "application/json")
            .header("x-skein-project", &copy)
            .body(body)
            .send()
            .await
            .expect("send back");
        assert_eq!(
            sent.status(),
            200,
            "{}",
            sent.text().await.unwrap_or_default()
        );
        let after = spans_of(&collector, &copy, &trace, before.len()).await;
        assert_eq!(after.len(), before.len(), "{project}");
        for (id, span) in &before {
            let mut copied = after[id].clone();
            for (key, value) in span["attributes"].as_object().into_iter().flatten() {
                assert_eq!(
                    without_nulls(&copied["attributes"][key]),
                    without_nulls(value),
                    "{project}: {key}"
                );
            }
            // Exporting adds the attributes the fields are derived from; the fields are what
            // must match.
            let mut original = span.clone();
            for s in [&mut copied, &mut original] {
                s.as_object_mut().expect("a span").remove("attributes");
            }
            assert_eq!(copied, original, "{project}: span {}", span["name"]);
        }
    }
}

#[tokio::test]
async fn exporting_what_is_not_there_says_so() {
    let collector = Collector::start();
    let missing = client()
        .get(collector.url(&format!("/api/v1/traces/{}/export", "ab".repeat(16))))
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.expect("JSON");
    assert!(body["error"].as_str().expect("error").contains("no trace"));
    let bad = client()
        .get(collector.url("/api/v1/traces/not-an-id/export"))
        .send()
        .await
        .expect("GET");
    assert_eq!(bad.status(), 400);
}
