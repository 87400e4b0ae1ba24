//! The LangSmith API (`/api/langsmith`), driven by the unmodified LangSmith Python SDK against
//! the real `skein` binary: the seed's nested `@traceable` agents, its `create_feedback` calls
//! and the SDK's own reads, in every way the SDK uploads (zstd multipart, plain multipart,
//! `/runs/batch`, one run at a time), a trace propagated across two processes, replays of
//! recorded SDK requests, and bad input; the SDK's reads and edits beyond tracing (feedback,
//! `client.runs`, run links, projects) on SQLite and ClickHouse, and what a key may see of them.

mod bad_input;
#[path = "../common/mod.rs"]
mod common;
mod reads;
mod replays;
mod sdk;

#[path = "../../src/store/clickhouse/testserver.rs"]
mod testserver;

use std::collections::BTreeMap;
use std::process::Command;

use common::{assert_seed_tree, client, get_json, skein_cli, Collector};
use reqwest::Method;
use serde_json::{json, Value};

fn script() -> &'static str {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/langsmith_agents.py"
    )
}

/// Runs the SDK script against the collector; returns the JSON line it printed.
fn run_sdk(collector: &Collector, project: &str, args: &[&str], env: &[(&str, &str)]) -> Value {
    run_script(script(), collector, project, args, env)
}

/// Runs a script of tests/python with the SDK configured for the collector.
fn run_script(
    script: &str,
    collector: &Collector,
    project: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Value {
    let mut command = Command::new(common::python());
    command.arg(script).args(args);
    // Hermetic: nothing of the caller's LangSmith or LangChain settings leaks in.
    for (key, _) in std::env::vars() {
        if key.starts_with("LANGSMITH_") || key.starts_with("LANGCHAIN_") {
            command.env_remove(key);
        }
    }
    command
        .env("LANGSMITH_ENDPOINT", collector.url("/api/langsmith"))
        .env("LANGSMITH_API_KEY", "test-key")
        .env("LANGSMITH_TRACING", "true")
        .env("LANGSMITH_PROJECT", project)
        .envs(env.iter().copied());
    let output = command.output().expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the SDK script failed: {stderr}\n{stdout}"
    );
    // The SDK logs failed uploads instead of raising: none may be there.
    for bad in ["Failed to", "Error", "error sending"] {
        assert!(
            !stderr.contains(bad),
            "the SDK reported a problem: {stderr}"
        );
    }
    let line = stdout.lines().last().expect("a line of output");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn trace_hex(uuid: &str) -> String {
    uuid.replace('-', "").to_ascii_lowercase()
}

async fn wait_for_trace(collector: &Collector, project: &str, trace: &str, spans: u64) -> Value {
    let url = collector.url(&format!("/api/v1/traces?project={project}&limit=100"));
    for _ in 0..100 {
        let page = get_json(&url).await;
        if let Some(t) = page["traces"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["trace_id"] == trace)
        {
            if t["span_count"].as_u64() >= Some(spans) {
                return t.clone();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("trace {trace} with {spans} spans did not arrive in project {project}");
}

/// A trace's spans by name, read through Skein's own API.
async fn spans_by_name(
    collector: &Collector,
    project: &str,
    trace: &str,
) -> BTreeMap<String, Value> {
    let skeleton =
        get_json(&collector.url(&format!("/api/v1/traces/{trace}?project={project}"))).await;
    let mut out = BTreeMap::new();
    for s in skeleton["spans"].as_array().expect("spans") {
        let id = s[0].as_str().expect("span id");
        let span = get_json(&collector.url(&format!(
            "/api/v1/traces/{trace}/spans/{id}?project={project}"
        )))
        .await;
        out.insert(span["name"].as_str().expect("name").to_string(), span);
    }
    out
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/langsmith/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const ZSTD_BOUNDARY: &str = "b75e5b7ef68d4a8697c543e019d2e566";
const PLAIN_BOUNDARY: &str = "96e79d6059ac4e9cba7cda45a8af47bd";
const ZSTD_ROOT: &str = "01a20c28-9de7-7b5d-8818-498ab6782bfd";

async fn post(
    collector: &Collector,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = client().post(collector.url(&format!("/api/langsmith{path}")));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request
        .header("x-api-key", "test-key")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

async fn post_multipart(
    collector: &Collector,
    boundary: &str,
    zstd: bool,
    body: Vec<u8>,
) -> (u16, Value) {
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let mut headers = vec![("content-type", content_type.as_str())];
    if zstd {
        headers.push(("content-encoding", "zstd"));
    }
    post(collector, "/runs/multipart", &headers, body).await
}
