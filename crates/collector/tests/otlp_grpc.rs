//! OTLP/gRPC over the wire with the real exporters: the OTel Python SDK's (gzip, keys in
//! headers), `opentelemetry-instrument` with its defaults, and Node's; the trace reads right
//! through the query API. Also: an OTLP/HTTP exporter on the gRPC port is told so, and the gRPC
//! address is configurable, `off`, and fails clearly when taken. The status codes a gRPC client
//! gets are in otlp_grpc_status.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{
    client, get_json_with_key, python, skein_cli, spans_by_name, wait_for_traces, Collector,
};
use serde_json::Value;

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Runs a Python script of the test venv with these environment variables (and no OTEL_* of
/// the caller's); returns its stdout lines, panicking with its output if it fails.
fn run_python(script: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let mut command = Command::new(python());
    command
        .arg(tests_dir().join("python").join(script))
        .args(args);
    run(command, env)
}

fn run(mut command: Command, env: &[(&str, &str)]) -> Vec<String> {
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") {
            command.env_remove(key);
        }
    }
    let output = command
        .envs(env.iter().copied())
        .output()
        .expect("run the client");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{command:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.lines().map(str::to_string).collect()
}

/// A trace's spans by name, read with an API key.
async fn spans_with_key(
    collector: &Collector,
    trace: &str,
    key: &str,
) -> std::collections::BTreeMap<String, Value> {
    let skeleton = get_json_with_key(&collector.url(&format!("/api/v1/traces/{trace}")), key).await;
    let mut out = std::collections::BTreeMap::new();
    for s in skeleton["spans"].as_array().expect("spans") {
        let id = s[0].as_str().expect("span id");
        let span = get_json_with_key(
            &collector.url(&format!("/api/v1/traces/{trace}/spans/{id}")),
            key,
        )
        .await;
        out.insert(span["name"].as_str().expect("name").to_string(), span);
    }
    out
}

/// Polls the trace with a key until it has `count` spans.
async fn wait_for_trace_with_key(collector: &Collector, trace: &str, key: &str, count: usize) {
    for _ in 0..100 {
        let response = client()
            .get(collector.url(&format!("/api/v1/traces/{trace}")))
            .header("x-api-key", key)
            .send()
            .await
            .expect("GET");
        if response.status().is_success() {
            let body: Value = response.json().await.expect("JSON");
            if body["spans"].as_array().map_or(0, Vec::len) >= count {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("trace {trace} did not arrive with {count} spans");
}

fn assert_python_trace(spans: &std::collections::BTreeMap<String, Value>, service: &str) {
    let root = &spans["plan_trip"];
    assert_eq!(root["parent_span_id"], Value::Null, "{root}");
    assert_eq!(root["service"], service);
    assert_eq!(root["session_id"], "grpc-session-1", "{root}");
    let llm = &spans["chat gpt-4o-mini"];
    assert_eq!(llm["parent_span_id"], root["span_id"]);
    assert_eq!(llm["span_type"], "llm");
    assert_eq!(llm["model"], "gpt-4o-mini");
    assert_eq!(llm["input_tokens"], 12);
    assert_eq!(llm["output_tokens"], 5);
    assert_eq!(spans["book_hotel"]["parent_span_id"], root["span_id"]);
}

#[tokio::test]
async fn the_python_grpc_exporter_sends_with_gzip_and_keys_in_headers() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "travel"]);
    let key = skein_cli(dir.path(), &["key", "create", "--project", "travel"]);
    let collector = Collector::start_in(dir, &[]);
    let endpoint = collector.grpc_url();

    // gzip, the key as `authorization: Bearer` (headers are URL-encoded in the variable).
    let bearer = format!("authorization=Bearer%20{key}");
    let lines = run_python(
        "otlp_grpc_send.py",
        &["travel-agent-gzip"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_HEADERS", &bearer),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ],
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("SUCCESS"),
        "{lines:?}"
    );
    let gzip_trace = lines[0].clone();

    // Uncompressed, the key as `x-api-key`, with the trace-specific variables.
    let api_key = format!("x-api-key={key}");
    let lines = run_python(
        "otlp_grpc_send.py",
        &["travel-agent"],
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", &api_key),
        ],
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("SUCCESS"),
        "{lines:?}"
    );
    let plain_trace = lines[0].clone();

    for (trace, service) in [
        (&gzip_trace, "travel-agent-gzip"),
        (&plain_trace, "travel-agent"),
    ] {
        // Acknowledged means stored: the trace is there at once.
        let spans = spans_with_key(&collector, trace, &key).await;
        assert_eq!(spans.len(), 3, "{spans:?}");
        assert_python_trace(&spans, service);
        assert_eq!(spans["plan_trip"]["project"], "travel", "the key's project");
    }
    let page = get_json_with_key(&collector.url("/api/v1/traces?project=travel"), &key).await;
    assert_eq!(page["total"], 2, "{page}");

    // Without the key the exporter is refused (UNAUTHENTICATED is not retried): nothing stored.
    let output = Command::new(python())
        .arg(tests_dir().join("python/otlp_grpc_send.py"))
        .arg("no-key")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
        .output()
        .expect("run python");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("FAILURE"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let page = get_json_with_key(&collector.url("/api/v1/traces?project=travel"), &key).await;
    assert_eq!(page["total"], 2, "{page}");
}

#[tokio::test]
async fn opentelemetry_instrument_with_its_defaults_reaches_skein() {
    let collector = Collector::start();
    let venv_bin = python().parent().expect("venv bin").to_path_buf();
    let mut command = Command::new(venv_bin.join("opentelemetry-instrument"));
    command
        .arg(python())
        .arg(tests_dir().join("python/instrumented_app.py"));
    // What a user sets: the service's name, and where Skein's gRPC port is (the default,
    // localhost:4317, belongs to whatever else runs on this machine during the tests).
    let lines = run(
        command,
        &[
            ("OTEL_SERVICE_NAME", "instrumented-app"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.grpc_url()),
            ("PATH", &std::env::var("PATH").unwrap_or_default()),
        ],
    );
    let trace = lines.last().expect("the trace id").clone();
    let page = wait_for_traces(&collector, "", 1).await;
    assert_eq!(page["traces"][0]["trace_id"], trace, "{page}");
    assert_eq!(page["traces"][0]["root_name"], "handle_request");
    assert_eq!(
        page["traces"][0]["services"],
        serde_json::json!(["instrumented-app"])
    );
    let spans = spans_by_name(&collector, &trace).await;
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert_eq!(
        spans["answer"]["parent_span_id"],
        spans["handle_request"]["span_id"]
    );
    assert_eq!(
        spans["handle_request"]["attributes"]["app.request"],
        "hello"
    );
}

#[tokio::test]
async fn nodes_grpc_exporter_sends_with_gzip_and_a_key() {
    let node_dir = tests_dir().join("node");
    assert!(
        node_dir
            .join("node_modules/@opentelemetry/exporter-trace-otlp-grpc")
            .is_dir(),
        "the Node clients are not installed in {}: run `bash scripts/setup.sh node`",
        node_dir.display()
    );
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "support"]);
    let key = skein_cli(dir.path(), &["key", "create", "--project", "support"]);
    let collector = Collector::start_in(dir, &[]);
    let mut command = Command::new("node");
    command
        .current_dir(&node_dir)
        .arg("send_grpc.js")
        .arg(collector.grpc_url())
        .arg("support-router")
        .arg(&key);
    let lines = run(command, &[]);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("SUCCESS"),
        "{lines:?}"
    );
    let trace = lines[0].clone();
    wait_for_trace_with_key(&collector, &trace, &key, 2).await;
    let spans = spans_with_key(&collector, &trace, &key).await;
    let root = &spans["route_ticket"];
    assert_eq!(root["service"], "support-router");
    assert_eq!(root["project"], "support");
    let tool = &spans["lookup_customer"];
    assert_eq!(tool["parent_span_id"], root["span_id"]);
    assert_eq!(tool["span_type"], "tool", "{tool}");
}

#[test]
fn a_taken_grpc_address_fails_clearly_and_off_serves_none() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_skein"))
        .args([
            "serve",
            "--http-addr",
            "127.0.0.1:0",
            "--otlp-addr",
            "off",
            "--otlp-grpc-addr",
            &addr,
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run skein");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&addr) && stderr.contains("--otlp-grpc-addr"),
        "{stderr}"
    );

    let collector = Collector::start_with(&["--otlp-grpc-addr", "off"]);
    assert_eq!(collector.otlp_grpc, None);
}

#[tokio::test]
async fn an_otlp_http_exporter_on_the_grpc_port_is_told_so() {
    let collector = Collector::start();
    let url = format!("{}/v1/traces", collector.grpc_url());
    let response = client()
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"resourceSpans": []}"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 415);
    let answer = common::answer_json(response).await;
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("OTLP over gRPC") && error.contains("4318"),
        "{answer}"
    );
}

#[test]
fn serving_grpc_beyond_loopback_without_keys_needs_an_explicit_flag() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_skein"))
        .args([
            "serve",
            "--http-addr",
            "127.0.0.1:0",
            "--otlp-addr",
            "off",
            "--otlp-grpc-addr",
            "0.0.0.0:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run skein");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--allow-open") && stderr.contains("0.0.0.0"),
        "{stderr}"
    );
}
