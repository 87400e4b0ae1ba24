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

/// `count` one-span traces in one OTLP/JSON request: names `job-{i}`, `env` tag `prod` for
/// even `i`, `dev` for odd; trace 0 is named like a spreadsheet formula with a comma.
async fn send_many_traces(collector: &Collector, count: usize) {
    let spans: Vec<Value> = (0..count)
        .map(|i| {
            let name = if i == 0 {
                "=HYPERLINK(\"http://x\",\"y\")".to_string()
            } else {
                format!("job-{i}")
            };
            serde_json::json!({
                "traceId": format!("{:032x}", i + 1),
                "spanId": format!("{:016x}", i + 1),
                "name": name,
                "kind": 1,
                "startTimeUnixNano": (1_700_000_000_000_000_000u64 + i as u64 * 1_000_000).to_string(),
                "endTimeUnixNano": (1_700_000_000_000_000_000u64 + i as u64 * 1_000_000 + 5_000_000).to_string(),
                "attributes": [{"key": "env", "value": {"stringValue": if i % 2 == 0 { "prod" } else { "dev" }}}],
            })
        })
        .collect();
    let request = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "batch"}}]},
        "scopeSpans": [{"spans": spans}],
    }]});
    let answer = client()
        .post(&collector.otlp_traces)
        .json(&request)
        .send()
        .await
        .expect("send");
    assert_eq!(answer.status(), 200);
}

/// RFC 4180 records (quoted cells may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn the_filtered_list_downloads_whole_as_csv_and_jsonl() {
    let collector = Collector::start();
    send_many_traces(&collector, 2_500).await;
    common::wait_for_traces(&collector, "range=all", 2_500).await;
    let download = |query: &'static str| {
        let url = collector.url(&format!("/api/v1/traces/export?{query}"));
        async move {
            let response = client().get(url).send().await.expect("GET");
            let status = response.status();
            let headers = response.headers().clone();
            (status, headers, response.text().await.expect("body"))
        }
    };
    // JSON Lines: every matching trace once, across the list's 1,000-row pages.
    let (status, headers, body) = download("format=jsonl&tag=env=prod&range=all").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let rows: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), 1_250);
    let ids: std::collections::BTreeSet<&str> = rows
        .iter()
        .map(|r| r["trace_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 1_250);
    assert!(rows.iter().all(|r| r["tags"]["env"] == "prod"));
    // CSV: a header and the same rows; a formula-like name is defused, its comma quoted.
    let (status, headers, body) =
        download("format=csv&tag=env=prod&range=all&sort=start_asc").await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"traces-default.csv\""
    );
    let table = parse_csv(&body);
    assert_eq!(table[0][..4], ["trace_id", "start", "duration_ms", "name"]);
    assert_eq!(table.len(), 1 + 1_250);
    assert_eq!(table[1][0], format!("{:032x}", 1));
    assert_eq!(table[1][3], "'=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(table[1][2], "5");
    assert_eq!(table[2][3], "job-2");
    // Compressed (as a browser asks), the stream ends as a whole gzip file.
    let compressed = client()
        .get(collector.url("/api/v1/traces/export?format=jsonl&range=all"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("GET");
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    let gz = compressed.bytes().await.expect("the whole body");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text)
        .expect("a complete gzip stream");
    assert_eq!(text.lines().count(), 2_500);
    // A format it does not write is a clear 400.
    let (status, _, body) = download("format=xlsx").await;
    assert_eq!(status, 400);
    assert!(body.contains("format must be csv or jsonl"), "{body}");
}
