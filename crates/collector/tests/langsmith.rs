//! The LangSmith API (`/api/langsmith`), driven by the unmodified LangSmith Python SDK against
//! the real `skein` binary: the seed's nested `@traceable` agents, its `create_feedback` calls
//! and the SDK's own reads, in every way the SDK uploads (zstd multipart, plain multipart,
//! `/runs/batch`, one run at a time), a trace propagated across two processes, replays of
//! recorded SDK requests, and bad input; the SDK's reads and edits beyond tracing (feedback,
//! `client.runs`, run links, projects) on SQLite and ClickHouse, and what a key may see of them.

mod common;

#[path = "../src/store/clickhouse/testserver.rs"]
mod testserver;

use std::collections::BTreeMap;
use std::process::Command;

use common::{assert_seed_tree, client, get_json, Collector};
use reqwest::Method;
use serde_json::{json, Value};

const METADATA: [(&str, &str); 6] = [
    ("env", "production"),
    ("version", "v2.1.0"),
    ("feature", "research_assistant"),
    ("user_tier", "premium"),
    ("experiment", "improved_prompts_v3"),
    ("ab_test_variant", "B"),
];

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

/// What the seed run must look like, through Skein's API and through the SDK's reads.
async fn check_seed(collector: &Collector, project: &str, out: &Value) {
    let root = out["trace_id"].as_str().expect("root run id");
    let trace = trace_hex(root);
    let summary = wait_for_trace(collector, project, &trace, 7).await;
    assert_eq!(summary["root_name"], "main_agent");
    assert_eq!(summary["span_count"], 7, "{summary}");
    assert_eq!(summary["error_count"], 0);
    assert_eq!(summary["status"], "ok");
    // No service named in the runs' metadata or tags: the project the SDK sent is the service.
    assert_eq!(summary["services"], json!([project]));
    assert_eq!(summary["session_id"], "thread-ls-1");
    assert_eq!(summary["user_id"], "user_ls");
    assert_eq!(summary["input_tokens"], 600);
    assert_eq!(summary["output_tokens"], 60);
    for (k, v) in METADATA {
        assert_eq!(summary["tags"][k], v, "tag {k}");
    }
    // The SDK's own metadata is no tag.
    assert!(summary["tags"].get("ls_method").is_none(), "{summary}");
    assert!(summary["tags"].get("LANGSMITH_PROJECT").is_none());

    let spans = spans_by_name(collector, project, &trace).await;
    assert_eq!(spans.len(), 7, "{:?}", spans.keys());
    assert_seed_tree(&spans);
    let run_ids = &out["run_ids"];
    for (name, span) in &spans {
        assert_eq!(
            span["attributes"]["langsmith.run_id"], run_ids[name],
            "{name}"
        );
        assert_eq!(span["project"], project);
        assert_eq!(span["status"], "ok", "{name}");
        assert!(
            span["end_ns"].as_i64() > span["start_ns"].as_i64(),
            "{name} has no duration"
        );
        for (k, v) in METADATA {
            assert_eq!(span["tags"][k], v, "{name}'s tag {k}");
        }
    }
    assert_eq!(spans["main_agent"]["span_type"], "agent");
    assert_eq!(
        spans["main_agent"]["input"],
        r#"{"question":"Research solid-state batteries"}"#
    );
    assert_eq!(
        spans["main_agent"]["output"],
        r#"{"answer":"final answer"}"#
    );
    assert_eq!(spans["main_agent"]["labels"], json!(["agent:main", "prod"]));
    let sub = &spans["sub_agent_2"];
    assert_eq!(sub["span_type"], "llm");
    assert_eq!(sub["model"], "gpt-4o-mini");
    assert_eq!(sub["input_tokens"], 200);
    assert_eq!(sub["output_tokens"], 20);

    // Feedback: both of the seed's calls on the root run, the third on sub_agent_2.
    let list = get_json(&collector.url(&format!(
        "/api/v1/feedback?project={project}&trace_id={trace}"
    )))
    .await;
    let feedback = list["feedback"].as_array().expect("feedback list");
    let by_key = |key: &str| {
        feedback
            .iter()
            .find(|f| f["key"] == key)
            .unwrap_or_else(|| panic!("no {key} feedback in {list}"))
    };
    assert_eq!(feedback.len(), 3, "{list}");
    let satisfaction = by_key("user_satisfaction");
    assert_eq!(satisfaction["run_id"], spans["main_agent"]["span_id"]);
    assert_eq!(satisfaction["trace_id"], trace.as_str());
    assert_eq!(satisfaction["score"], 0.95);
    assert_eq!(satisfaction["comment"], "User rated 5 stars");
    assert_eq!(satisfaction["source"], "api");
    let value = by_key("business_value");
    assert_eq!(value["run_id"], spans["main_agent"]["span_id"]);
    assert_eq!(value["score"], 150.0);
    assert_eq!(value["comment"], "Saved 2 hours of research");
    assert_eq!(
        by_key("helpfulness")["run_id"],
        spans["sub_agent_2"]["span_id"]
    );
    // The same records by run, as the dashboard asks.
    let by_run = get_json(&collector.url(&format!(
        "/api/v1/feedback?project={project}&run_id={}",
        spans["main_agent"]["span_id"].as_str().unwrap()
    )))
    .await;
    assert_eq!(by_run["feedback"].as_array().unwrap().len(), 2, "{by_run}");

    // The SDK's reads: list_runs found the root by name, 7 runs in the project, and
    // read_run(load_child_runs=True) rebuilt the tree.
    assert_eq!(out["roots"], json!([root]));
    assert_eq!(out["run_count"], 7);
    let tree = &out["tree"];
    assert_eq!(tree["name"], "main_agent");
    assert_eq!(tree["id"], root);
    assert_eq!(tree["status"], "success");
    assert_eq!(tree["outputs"], json!({"answer": "final answer"}));
    let names = |node: &Value| -> Vec<String> {
        node["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(tree),
        ["planning_agent", "execution_agent", "synthesis_agent"]
    );
    let execution = &tree["children"][1];
    assert_eq!(
        names(execution),
        ["sub_agent_1", "sub_agent_2", "sub_agent_3"]
    );
    assert_eq!(execution["children"][1]["run_type"], "llm");
    assert_eq!(
        execution["children"][1]["parent_run_id"],
        run_ids["execution_agent"]
    );
    for node in [tree, execution, &execution["children"][2]] {
        for (k, v) in METADATA {
            assert_eq!(node["metadata"][k], v, "{}'s metadata {k}", node["name"]);
        }
    }
}

#[tokio::test]
async fn zstd_multipart_is_the_default_and_carries_the_seed() {
    let collector = Collector::start();
    let info = get_json(&collector.url("/api/langsmith/info")).await;
    assert_eq!(info["batch_ingest_config"]["use_multipart_endpoint"], true);
    assert_eq!(info["instance_flags"]["zstd_compression_enabled"], true);

    let out = run_sdk(&collector, "ls-zstd", &["seed"], &[]);
    assert_eq!(out["info"]["compressing"], true, "{}", out["info"]);
    check_seed(&collector, "ls-zstd", &out).await;
}

#[tokio::test]
async fn plain_multipart_when_info_says_no_zstd() {
    let collector = Collector::start_with_env(&[("SKEIN_LANGSMITH_INGEST", "multipart")]);
    let out = run_sdk(&collector, "ls-plain", &["seed"], &[]);
    assert_eq!(out["info"]["zstd_enabled"], false);
    assert_eq!(out["info"]["use_multipart_endpoint"], true);
    assert_eq!(out["info"]["compressing"], false);
    check_seed(&collector, "ls-plain", &out).await;
}

#[tokio::test]
async fn plain_multipart_when_the_sdk_disables_compression() {
    let collector = Collector::start();
    let out = run_sdk(
        &collector,
        "ls-nocompress",
        &["seed"],
        &[("LANGSMITH_DISABLE_RUN_COMPRESSION", "true")],
    );
    assert_eq!(out["info"]["zstd_enabled"], true);
    assert_eq!(out["info"]["compressing"], false);
    check_seed(&collector, "ls-nocompress", &out).await;
}

#[tokio::test]
async fn runs_batch_when_info_says_no_multipart() {
    let collector = Collector::start_with_env(&[("SKEIN_LANGSMITH_INGEST", "batch")]);
    let info = get_json(&collector.url("/api/langsmith/info")).await;
    assert_eq!(info["batch_ingest_config"]["use_multipart_endpoint"], false);
    let out = run_sdk(&collector, "ls-batch", &["seed"], &[]);
    assert_eq!(out["info"]["use_multipart_endpoint"], false);
    assert_eq!(out["info"]["compressing"], false);
    check_seed(&collector, "ls-batch", &out).await;
}

#[tokio::test]
async fn one_run_at_a_time_without_auto_batching() {
    let collector = Collector::start();
    let out = run_sdk(&collector, "ls-single", &["seed", "--no-autobatch"], &[]);
    check_seed(&collector, "ls-single", &out).await;
}

#[tokio::test]
async fn a_trace_propagated_to_a_second_process_is_one_trace() {
    let collector = Collector::start();
    // The child process is told another project: the parent's baggage must win.
    let out = run_sdk(&collector, "ls-dist", &["dist-parent"], &[]);
    let headers = &out["headers"];
    assert!(headers["langsmith-trace"].as_str().is_some(), "{headers}");
    assert!(headers["baggage"]
        .as_str()
        .unwrap()
        .contains("langsmith-project=ls-dist"));

    let trace = trace_hex(out["trace_id"].as_str().unwrap());
    let summary = wait_for_trace(&collector, "ls-dist", &trace, 2).await;
    assert_eq!(summary["span_count"], 2);
    assert_eq!(summary["root_name"], "gateway_agent");
    let spans = spans_by_name(&collector, "ls-dist", &trace).await;
    let child = &spans["remote_agent"];
    assert_eq!(child["parent_span_id"], spans["gateway_agent"]["span_id"]);
    assert_eq!(child["attributes"]["langsmith.run_id"], out["child_id"]);
    assert_eq!(
        child["attributes"]["langsmith.parent_run_id"],
        out["parent_id"]
    );
    // Metadata and tags travel in the baggage.
    assert_eq!(child["tags"]["ab_test_variant"], "B");
    assert!(
        child["labels"].as_array().unwrap().contains(&json!("dist")),
        "{child}"
    );
    // Nothing went to another project.
    let projects = get_json(&collector.url("/api/v1/projects")).await;
    let names: Vec<&str> = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ls-dist"]);
}

#[tokio::test]
async fn the_sdks_otel_mode_lands_in_its_project() {
    let collector = Collector::start();
    let out = run_sdk(
        &collector,
        "ls-otel",
        &["otel"],
        &[("LANGSMITH_TRACING_MODE", "otel")],
    );
    // OTel mode has its own ids: find the trace by its root.
    let page = common::wait_for_traces(&collector, "project=ls-otel", 1).await;
    let summary = &page["traces"][0];
    assert_eq!(summary["root_name"], "main_agent");
    assert_eq!(summary["span_count"], 7, "{summary}");
    assert_eq!(summary["session_id"], "thread-otel-1");
    assert_eq!(summary["input_tokens"], 600);
    for (k, v) in METADATA {
        assert_eq!(summary["tags"][k], v, "tag {k}");
    }
    let trace = summary["trace_id"].as_str().unwrap();
    let spans = spans_by_name(&collector, "ls-otel", trace).await;
    assert_seed_tree(&spans);
    // ... and the SDK reads OTLP-ingested spans back as runs.
    assert_eq!(out["roots"], json!(["main_agent"]));
}

// ---------------------------------------------------------------------------------------------
// Replays of recorded SDK requests

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

#[tokio::test]
async fn replayed_zstd_upload_twice_is_one_trace_and_its_feedback_lands() {
    let collector = Collector::start();
    for _ in 0..2 {
        let (status, answer) = post_multipart(
            &collector,
            ZSTD_BOUNDARY,
            true,
            fixture("zstd_runs_multipart.bin"),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer["runs"], 7, "{answer}");
        assert_eq!(answer["skipped"], json!([]));
    }
    let trace = trace_hex(ZSTD_ROOT);
    let summary = wait_for_trace(&collector, "wire-test", &trace, 7).await;
    assert_eq!(
        summary["span_count"], 7,
        "a re-upload must not duplicate: {summary}"
    );
    assert_eq!(summary["input_tokens"], 12);
    let services = get_json(&collector.url("/api/v1/services?project=wire-test")).await;
    assert_eq!(
        services,
        json!([{"name": "wire-test", "span_count": 7, "error_count": 0}])
    );
    let tags = get_json(&collector.url("/api/v1/tags/env/values?project=wire-test")).await;
    assert_eq!(tags, json!([{"value": "production", "trace_count": 1}]));

    let (status, answer) = post(
        &collector,
        "/feedback",
        &[("content-type", "application/json")],
        fixture("zstd_feedback.json"),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["run_id"], ZSTD_ROOT);
    assert_eq!(answer["key"], "business_value");
    let (status, answer) = post_multipart(
        &collector,
        ZSTD_BOUNDARY,
        true,
        fixture("zstd_feedback_multipart.bin"),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["feedback"], 1);
    let list = get_json(&collector.url(&format!(
        "/api/v1/feedback?project=wire-test&trace_id={trace}"
    )))
    .await;
    let mut keys: Vec<&str> = list["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    keys.sort();
    assert_eq!(keys, ["business_value", "user_satisfaction"]);

    // The run reads back by its UUID, with its own fields.
    let run = get_json(&collector.url(&format!("/api/langsmith/runs/{ZSTD_ROOT}"))).await;
    assert_eq!(run["name"], "main_agent");
    assert_eq!(run["trace_id"], ZSTD_ROOT);
    assert_eq!(run["outputs"], json!({"answer": "final answer"}));
    assert_eq!(run["start_time"], "2026-11-24T06:05:18.183114+00:00");
    assert_eq!(run["end_time"], "2026-11-24T06:05:18.189763+00:00");
}

#[tokio::test]
async fn replayed_plain_upload_builds_the_tree() {
    let collector = Collector::start();
    let (status, answer) = post_multipart(
        &collector,
        PLAIN_BOUNDARY,
        false,
        fixture("plain_runs_multipart.bin"),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let trace = trace_hex("01a20c28-e9fd-7e41-9e8d-69915bee0fc9");
    let summary = wait_for_trace(&collector, "wire-test", &trace, 7).await;
    assert_eq!(summary["error_count"], 0);
    assert_eq!(summary["status"], "ok");
    let spans = spans_by_name(&collector, "wire-test", &trace).await;
    assert_seed_tree(&spans);
    assert_eq!(spans["sub_agent_1"]["span_type"], "llm");
    assert_eq!(spans["sub_agent_2"]["span_type"], "tool");
    assert_eq!(spans["sub_agent_3"]["span_type"], "retriever");
}

#[tokio::test]
async fn a_run_that_raises_is_an_error_span() {
    let collector = Collector::start();
    let out = run_sdk(&collector, "ls-fail", &["fail"], &[]);
    let root = out["trace_id"].as_str().unwrap();
    let trace = trace_hex(root);
    let summary = wait_for_trace(&collector, "ls-fail", &trace, 1).await;
    assert_eq!(summary["error_count"], 1, "{summary}");
    assert_eq!(summary["status"], "error");
    let spans = spans_by_name(&collector, "ls-fail", &trace).await;
    let failed = &spans["failing_agent"];
    assert_eq!(failed["status"], "error");
    assert_eq!(
        failed["status_message"],
        "ValueError('boom in failing_agent')"
    );
    let text = failed["attributes"]["langsmith.error"].as_str().unwrap();
    assert!(text.contains("Traceback"), "{text}");
    let run = get_json(&collector.url(&format!("/api/langsmith/runs/{root}"))).await;
    assert_eq!(run["status"], "error");
    assert!(run["error"]
        .as_str()
        .unwrap()
        .starts_with("ValueError('boom in failing_agent')"));
}

#[tokio::test]
async fn replayed_post_then_patch_merge_whatever_the_order() {
    let root = "01a20c2a-e3fb-7eb9-abdc-f49d8ccd5faa";
    let child = "01a20c2a-e40b-7e4f-b494-b175252e8042";
    let json_type = [("content-type", "application/json")];
    let patch = |collector: &Collector, id: &str, file: &str| {
        let request = client()
            .patch(collector.url(&format!("/api/langsmith/runs/{id}")))
            .header("content-type", "application/json")
            .body(fixture(file));
        async move {
            let response = request.send().await.expect("PATCH");
            assert_eq!(response.status().as_u16(), 202);
        }
    };
    // In the SDK's order, then with the patches first.
    for patches_first in [false, true] {
        let collector = Collector::start();
        if patches_first {
            patch(&collector, child, "no_autobatch_3_patch_child.json").await;
            patch(&collector, root, "no_autobatch_4_patch_root.json").await;
        }
        for file in [
            "no_autobatch_1_post_root.json",
            "no_autobatch_2_post_child.json",
        ] {
            let (status, answer) = post(&collector, "/runs", &json_type, fixture(file)).await;
            assert_eq!(status, 202, "{answer}");
        }
        if !patches_first {
            patch(&collector, child, "no_autobatch_3_patch_child.json").await;
            patch(&collector, root, "no_autobatch_4_patch_root.json").await;
        }
        let trace = trace_hex(root);
        let summary = wait_for_trace(&collector, "wire-test", &trace, 2).await;
        assert_eq!(summary["span_count"], 2, "{summary}");
        assert_eq!(summary["status"], "ok");
        assert_eq!(summary["root_name"], "main_agent");
        assert_eq!(
            summary["end_ns"].as_i64().unwrap() - summary["start_ns"].as_i64().unwrap(),
            109_670_000
        );
        let services = get_json(&collector.url("/api/v1/services?project=wire-test")).await;
        assert_eq!(services[0]["span_count"], 2, "{services}");
        let spans = spans_by_name(&collector, "wire-test", &trace).await;
        let sub = &spans["sub_agent_1"];
        assert_eq!(sub["input"], r#"{"x":3}"#, "patches_first={patches_first}");
        assert_eq!(sub["output"], r#"{"output":6}"#);
        assert_eq!(sub["status"], "ok");
        assert_eq!(sub["parent_span_id"], spans["main_agent"]["span_id"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input

const RUN: &str = "0190f4b2-7c3e-7a00-8000-000000000001";

fn part(name: &str, body: &str) -> String {
    format!(
        "--XX\r\nContent-Disposition: form-data; name=\"{name}\"\r\nContent-Type: application/json\r\n\r\n{body}\r\n"
    )
}

fn valid_run_parts() -> String {
    part(
        &format!("post.{RUN}"),
        &json!({"id": RUN, "trace_id": RUN, "name": "kept", "run_type": "chain",
                "session_name": "bad-input", "start_time": "2026-11-24T06:05:18.183114+00:00",
                "end_time": "2026-11-24T06:05:18.283114+00:00"})
        .to_string(),
    ) + &part(&format!("post.{RUN}.inputs"), r#"{"q": "still here"}"#)
}

async fn kept_run(collector: &Collector) -> Value {
    get_json(&collector.url(&format!("/api/langsmith/runs/{RUN}"))).await
}

#[tokio::test]
async fn malformed_multipart_is_400_and_the_runs_before_it_are_kept() {
    let collector = Collector::start();
    let body = valid_run_parts()
        + "--XX\r\nContent-Disposition: form-data; name=\"patch.x\"\r\n\r\nno end";
    let (status, answer) = post_multipart(&collector, "XX", false, body.into_bytes()).await;
    assert_eq!(status, 400, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(error.contains("malformed multipart"), "{error}");
    assert!(error.contains("1 runs"), "{error}");
    let run = kept_run(&collector).await;
    assert_eq!(run["name"], "kept");
    assert_eq!(run["inputs"], json!({"q": "still here"}));

    // Not multipart at all.
    let (status, answer) = post(
        &collector,
        "/runs/multipart",
        &[("content-type", "application/json")],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("multipart"));
}

#[tokio::test]
async fn a_bad_zstd_frame_is_400() {
    let collector = Collector::start();
    let frame = zstd::encode_all(valid_run_parts().as_bytes(), 3).unwrap();
    for (what, body) in [
        ("garbage", b"this is not zstd".to_vec()),
        ("a truncated frame", frame[..frame.len() / 2].to_vec()),
    ] {
        let (status, answer) = post_multipart(&collector, "XX", true, body).await;
        assert_eq!(status, 400, "{what}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("zstd"),
            "{what}: {answer}"
        );
    }
    // The whole frame is fine.
    let mut whole = valid_run_parts();
    whole.push_str("--XX--\r\n");
    let (status, answer) = post_multipart(
        &collector,
        "XX",
        true,
        zstd::encode_all(whole.as_bytes(), 3).unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(kept_run(&collector).await["name"], "kept");
}

#[tokio::test]
async fn unknown_and_bad_parts_are_skipped_and_valid_runs_kept() {
    let collector = Collector::start();
    let other = "0190f4b2-7c3e-7a00-8000-000000000002";
    let body = valid_run_parts()
        + &part("mystery.part", "{}")
        + &part(&format!("post.{RUN}.whatever"), "{}")
        + &part(&format!("post.{RUN}.outputs"), "not json")
        + &part(
            &format!("post.{other}"),
            r#"{"trace_id": "not-a-uuid", "name": "bad"}"#,
        )
        + &part(&format!("attachment.{RUN}.notes.txt"), "plain text")
        + "--XX--\r\n";
    let (status, answer) = post_multipart(&collector, "XX", false, body.into_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["runs"], 1, "{answer}");
    let skipped = answer["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 4, "{answer}");
    let text = answer["skipped"].to_string();
    for expected in ["mystery.part", "whatever", "not valid JSON", "not-a-uuid"] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
    let span = spans_by_name(&collector, "bad-input", &trace_hex(RUN)).await;
    let attachments = &span["kept"]["attributes"]["langsmith.attachments"];
    assert_eq!(attachments[0]["name"], "notes.txt", "{attachments}");
    assert_eq!(attachments[0]["stored"], false);

    // Nothing usable at all: a 400 that says why.
    let body = part("mystery", "{}") + "--XX--\r\n";
    let (status, answer) = post_multipart(&collector, "XX", false, body.into_bytes()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("unknown part"));
}

#[tokio::test]
async fn batch_and_feedback_errors_are_clear() {
    let collector = Collector::start();
    let json_type = [("content-type", "application/json")];
    let good = json!({"id": RUN, "trace_id": RUN, "name": "kept", "run_type": "llm",
                      "session_name": "bad-input", "start_time": "2026-11-24T06:05:18Z"});
    let (status, answer) = post(
        &collector,
        "/runs/batch",
        &json_type,
        json!({"post": [good, {"name": "no id"}, {"id": "x"}]})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["runs"], 1);
    assert_eq!(answer["skipped"].as_array().unwrap().len(), 2);
    let (status, answer) = post(&collector, "/runs/batch", &json_type, b"[1, 2".to_vec()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("JSON"));

    for (body, want) in [
        (json!({"run_id": RUN, "key": ""}), 400),
        (json!({"run_id": "nope", "key": "k"}), 400),
        (json!({"run_id": RUN, "key": "k", "score": "high"}), 400),
        (json!({"key": "k"}), 400),
        // A run that never arrives: 404 after a short wait, which the SDK retries.
        (
            json!({"run_id": "0190f4b2-7c3e-7a00-8000-00000000dead", "key": "k"}),
            404,
        ),
        (json!({"run_id": RUN, "key": "k", "score": true}), 200),
    ] {
        let (status, answer) = post(
            &collector,
            "/feedback",
            &json_type,
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, want, "{body}: {answer}");
        if status >= 400 {
            assert!(answer["error"].is_string(), "{answer}");
        }
    }
    let list = get_json(&collector.url(&format!(
        "/api/v1/feedback?project=bad-input&trace_id={}",
        trace_hex(RUN)
    )))
    .await;
    assert_eq!(list["feedback"][0]["score"], 1.0, "{list}");

    // Reads refuse what they cannot answer.
    let (status, answer) = post(
        &collector,
        "/runs/query",
        &json_type,
        json!({"trace": RUN, "filter": "eq(no_such_field, \"x\")"})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let missing = client()
        .get(collector.url("/api/langsmith/runs/0190f4b2-7c3e-7a00-8000-00000000dead"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test]
async fn feedback_that_arrives_before_its_run_waits_for_it() {
    let collector = Collector::start();
    let run = "0190f4b2-7c3e-7a00-8000-0000000000aa";
    let body = json!({"run_id": run, "key": "user_satisfaction", "score": 0.5});
    let early = {
        let url = collector.url("/api/langsmith/feedback");
        tokio::spawn(async move {
            let response = client()
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("POST /feedback");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let run_body = json!({"id": run, "trace_id": run, "name": "late", "run_type": "chain",
                          "session_name": "late-project", "start_time": "2026-11-24T06:05:18Z"});
    let (status, answer) = post(
        &collector,
        "/runs",
        &[("content-type", "application/json")],
        run_body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = early.await.unwrap();
    assert_eq!(status, 200, "{answer}");
    // It landed in the run's project, on the run.
    let list = get_json(&collector.url(&format!(
        "/api/v1/feedback?project=late-project&trace_id={}",
        trace_hex(run)
    )))
    .await;
    assert_eq!(list["feedback"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["feedback"][0]["key"], "user_satisfaction");
}

#[tokio::test]
async fn sessions_and_queries_answer_what_the_sdk_expects() {
    let collector = Collector::start();
    let (status, _) = post_multipart(
        &collector,
        ZSTD_BOUNDARY,
        true,
        fixture("zstd_runs_multipart.bin"),
    )
    .await;
    assert_eq!(status, 202);
    let sessions = get_json(&collector.url("/api/langsmith/sessions?limit=1&name=wire-test")).await;
    let session = &sessions[0];
    assert_eq!(session["name"], "wire-test");
    assert!(session.get("reference_dataset_id").is_some());
    assert_eq!(session["run_count"], 7);
    let id = session["id"].as_str().unwrap();
    let again = get_json(&collector.url(&format!("/api/langsmith/sessions/{id}"))).await;
    assert_eq!(again["name"], "wire-test");

    let json_type = [("content-type", "application/json")];
    let query = |body: Value| {
        let collector = &collector;
        async move {
            let (status, answer) = post(
                collector,
                "/runs/query",
                &json_type,
                body.to_string().into_bytes(),
            )
            .await;
            assert_eq!(status, 200, "{answer}");
            answer
        }
    };
    let roots =
        query(json!({"session": [id], "is_root": true, "filter": "eq(name, \"main_agent\")"}))
            .await;
    assert_eq!(roots["runs"].as_array().unwrap().len(), 1);
    assert_eq!(roots["runs"][0]["id"], ZSTD_ROOT);
    let llms = query(json!({"session": [id], "run_type": "llm"})).await;
    assert_eq!(llms["runs"].as_array().unwrap().len(), 1);
    assert_eq!(llms["runs"][0]["name"], "sub_agent_1");
    let children = query(json!({"trace": ZSTD_ROOT, "is_root": false})).await;
    assert_eq!(children["runs"].as_array().unwrap().len(), 6);
    // Pages follow the cursor.
    let mut seen = Vec::new();
    let mut body = json!({"trace": ZSTD_ROOT, "limit": 3});
    loop {
        let page = query(body.clone()).await;
        seen.extend(
            page["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].clone()),
        );
        match page["cursors"]["next"].as_str() {
            Some(next) => body["cursor"] = json!(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
}

/// Runs `skein <args> --data-dir <dir>` and returns what it printed.
fn skein_cli(dir: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_skein"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("run skein");
    assert!(
        output.status.success(),
        "skein {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The README: once a key exists, `LANGSMITH_API_KEY` must be one (checked like every other
/// key). The unmodified SDK with a Skein key uploads and reads back; with any other value its
/// uploads get 401 and nothing is stored.
#[tokio::test]
async fn once_a_key_exists_the_sdk_needs_one_as_its_api_key() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "ls-keyed"]);
    let key = skein_cli(dir.path(), &["key", "create", "--project", "ls-keyed"]);
    let collector = Collector::start_in(dir, &[]);
    let traces = |key: &str| {
        let request = client()
            .get(collector.url("/api/v1/traces?project=ls-keyed"))
            .bearer_auth(key.to_string());
        async move {
            let response = request.send().await.expect("GET");
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };

    // Any other value: every upload refused, so the SDK's own read-back fails too.
    let mut command = Command::new(common::python());
    for (name, _) in std::env::vars() {
        if name.starts_with("LANGSMITH_") || name.starts_with("LANGCHAIN_") {
            command.env_remove(name);
        }
    }
    let output = command
        .arg(script())
        .arg("seed")
        .env("LANGSMITH_ENDPOINT", collector.url("/api/langsmith"))
        .env("LANGSMITH_API_KEY", "anything")
        .env("LANGSMITH_TRACING", "true")
        .env("LANGSMITH_PROJECT", "ls-keyed")
        .output()
        .expect("run python");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the SDK got through without a key"
    );
    assert!(stderr.contains("401"), "{stderr}");
    let page = traces(&key).await;
    assert_eq!(page["total"], 0, "{page}");

    // The key: uploads, feedback and the SDK's reads go through.
    let out = run_sdk(
        &collector,
        "ls-keyed",
        &["seed"],
        &[("LANGSMITH_API_KEY", &key)],
    );
    assert_eq!(out["run_count"], 7, "{out}");
    assert_eq!(out["tree"]["name"], "main_agent");
    let trace = trace_hex(out["trace_id"].as_str().unwrap());
    let page = traces(&key).await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["traces"][0]["trace_id"], trace.as_str());
    assert_eq!(page["traces"][0]["span_count"], 7);
}

fn api_script() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/langsmith_api.py")
}

/// What the SDK's `Client` reads and edits beyond tracing, each call made by the real SDK and
/// its results checked as a user would see them (tests/python/langsmith_api.py).
#[tokio::test]
async fn the_sdks_reads_and_edits_answer_what_langsmith_would() {
    sdk_reads_and_edits(&[]).await;
}

/// The same on ClickHouse (Debian's clickhouse-server, `store/clickhouse/testserver.rs`).
#[tokio::test]
async fn the_sdks_reads_and_edits_answer_alike_on_clickhouse() {
    let server = testserver::server();
    let database = testserver::fresh_database();
    sdk_reads_and_edits(&[
        "--clickhouse-url",
        &server.url,
        "--clickhouse-database",
        &database,
    ])
    .await;
}

async fn sdk_reads_and_edits(store_args: &[&str]) {
    // A stand-in for the built dashboard: the trace page is its index.html.
    let dist = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>Skein</title>",
    )
    .expect("write index.html");
    let dist_arg = dist.path().to_str().expect("UTF-8 path");
    let mut args = vec!["--dist", dist_arg];
    args.extend_from_slice(store_args);
    let collector = Collector::start_with(&args);
    let web_url = collector.url("");
    let project = "ls-api";
    let out = run_script(
        api_script(),
        &collector,
        project,
        &[],
        &[("SKEIN_WEB_URL", web_url.as_str())],
    );
    let root = out["trace_id"].as_str().expect("root run id");
    let runs = &out["run_ids"];
    let sub2 = runs["sub_agent_2"].as_str().unwrap();

    // /info's version is one whose v2 runs API is here: the SDK warns of no old backend.
    assert_eq!(out["version"], "0.16.0");
    let warnings = out["warnings"].as_array().unwrap();
    assert!(
        !warnings.iter().any(|w| {
            let w = w.as_str().unwrap_or("").to_ascii_lowercase();
            w.contains("backend version") || w.contains("older than")
        }),
        "the SDK warned about the backend: {warnings:?}"
    );

    // create_project: started now, not in 1970.
    let offset = out["created_start_offset_s"].as_f64().unwrap();
    assert!(
        (-60.0..60.0).contains(&offset),
        "start time off by {offset} s"
    );

    // Feedback listed by run id, read, updated (a comment cleared), deleted.
    let fb = &out["feedback"];
    assert_eq!(
        fb["on_root"],
        json!(["business_value", "user_satisfaction"])
    );
    assert_eq!(fb["on_root_run_ids"], json!([root]));
    assert_eq!(
        fb["on_both"],
        json!(["business_value", "helpfulness", "user_satisfaction"])
    );
    assert_eq!(fb["helpful"], json!([["helpfulness", sub2, 1.0]]));
    assert_eq!(
        fb["read"],
        json!({"key": "user_satisfaction", "score": 0.95, "comment": "User rated 5 stars", "run_id": root})
    );
    assert_eq!(fb["updated"], json!({"score": 0.5, "comment": null}));
    assert_eq!(fb["deleted_read"], "not found");
    assert_eq!(fb["after_delete"], json!(["user_satisfaction"]));
    assert_eq!(
        fb["by_source"],
        json!({"api": ["helpfulness", "user_satisfaction"], "model": []})
    );
    assert_eq!(
        fb["by_project"],
        json!(["helpfulness", "user_satisfaction"])
    );

    // read_run: token totals where the model calls are (the LLM runs' 110 + 220 + 330), and
    // each run's own feedback.
    let read = &out["read_run"];
    assert_eq!(read["root_total_tokens"], 660);
    assert_eq!(read["execution_total_tokens"], 660);
    assert_eq!(read["sub2_total_tokens"], 220);
    assert_eq!(
        read["root_stats"],
        json!({"user_satisfaction": {"n": 1, "avg": 0.5}})
    );
    assert_eq!(
        read["sub2_stats"],
        json!({"helpfulness": {"n": 1, "avg": 1.0}})
    );

    // The v2 runs resource.
    let v2 = &out["v2"];
    assert_eq!(v2["roots"], json!(["billing_agent", "main_agent"]));
    assert_eq!(v2["root_total_tokens"]["main_agent"], 660);
    assert_eq!(v2["root_status"]["main_agent"], "SUCCESS");
    assert_eq!(
        v2["in_trace"],
        json!([
            "execution_agent",
            "main_agent",
            "planning_agent",
            "sub_agent_1",
            "sub_agent_2",
            "sub_agent_3",
            "synthesis_agent"
        ])
    );
    assert_eq!(
        v2["llms"],
        json!(["sub_agent_1", "sub_agent_2", "sub_agent_3"])
    );
    assert_eq!(v2["paged"], 7, "pages of 2 follow the cursor to all 7");
    assert_eq!(v2["by_id"], json!([["sub_agent_2", 220]]));
    assert_eq!(v2["by_id_has_no_unselected"], true);
    assert_eq!(
        v2["retrieved"],
        json!({"name": "main_agent", "total_tokens": 660, "feedback": {"user_satisfaction": 1}})
    );

    // Every run link opens the run on its trace page, on Skein's own address.
    let trace = trace_hex(root);
    let root_page = collector.url(&format!("/traces/{trace}?span="));
    let get_run_url = out["get_run_url"].as_str().unwrap();
    assert!(
        get_run_url.starts_with(&format!("{web_url}/o/")),
        "{get_run_url}"
    );
    for (name, run) in [("get_run_url", root), ("run_url", root), ("v2_url", sub2)] {
        let followed = &out["followed"][name];
        let span = span_id_of(&collector, project, &trace, run).await;
        assert_eq!(
            followed["final"],
            format!("{root_page}{span}&project={project}"),
            "{name}: {followed}"
        );
        assert_eq!(
            followed["status"], 200,
            "{name}: the dashboard's page: {followed}"
        );
    }
    assert_eq!(
        out["followed"]["get_run_url"]["redirects"],
        json!([303, 303])
    );
    // The project's link (`create_project(...).url`) opens its trace list.
    assert_eq!(
        out["followed"]["project_url"]["final"],
        collector.url(&format!("/traces?project={project}"))
    );
    assert_eq!(out["followed"]["project_url"]["status"], 200);

    // list_runs on a project nobody created raises the SDK's not-found error; one that
    // create_project made is found, empty.
    assert_eq!(out["unknown_project"], "not found");
    assert_eq!(out["empty_project_runs"], 0);

    // The runs' service: the project, unless the run names one (`service.name` metadata).
    let page = common::wait_for_traces(&collector, &format!("project={project}"), 2).await;
    let services: BTreeMap<String, Value> = page["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["root_name"].as_str().unwrap().to_string(),
                t["services"].clone(),
            )
        })
        .collect();
    assert_eq!(services["main_agent"], json!([project]));
    assert_eq!(services["billing_agent"], json!(["billing"]));
}

/// The span id Skein gave a run, as the trace's spans say (`langsmith.run_id`).
async fn span_id_of(collector: &Collector, project: &str, trace: &str, run: &str) -> String {
    let spans = spans_by_name(collector, project, trace).await;
    spans
        .values()
        .find(|s| s["attributes"]["langsmith.run_id"] == run)
        .and_then(|s| s["span_id"].as_str())
        .unwrap_or_else(|| panic!("no span of run {run}"))
        .to_string()
}

/// With keys, the feedback, v2 run and run-link endpoints answer a key about its own project
/// only: another project's key finds nothing, changes nothing, and learns no trace id.
#[tokio::test]
async fn another_projects_key_sees_no_feedback_runs_or_links() {
    let dir = tempfile::tempdir().unwrap();
    for project in ["ls-a", "ls-b"] {
        skein_cli(dir.path(), &["project", "create", project]);
    }
    let key_a = skein_cli(dir.path(), &["key", "create", "--project", "ls-a"]);
    let key_b = skein_cli(dir.path(), &["key", "create", "--project", "ls-b"]);
    let collector = Collector::start_in(dir, &[]);
    let out = run_sdk(
        &collector,
        "ls-a",
        &["seed"],
        &[("LANGSMITH_API_KEY", &key_a)],
    );
    let root = out["trace_id"].as_str().unwrap().to_string();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let call = |method: Method, path: String, key: Option<&str>, body: Option<Value>| {
        let mut request = no_redirects.request(method, collector.url(&path));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            let text = response.text().await.unwrap();
            (status, location, text)
        }
    };
    let (_, _, sessions) = call(
        Method::GET,
        "/api/langsmith/sessions?name=ls-a".into(),
        Some(&key_a),
        None,
    )
    .await;
    let sessions: Value = serde_json::from_str(&sessions).unwrap();
    let project_a = sessions[0]["id"].as_str().unwrap().to_string();

    let (status, _, listed) = call(
        Method::GET,
        format!("/api/langsmith/feedback?run={root}"),
        Some(&key_a),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let id = listed[0]["id"].as_str().unwrap().to_string();

    // Key B: nothing of A's.
    let (status, _, body) = call(
        Method::GET,
        format!("/api/langsmith/feedback?run={root}"),
        Some(&key_b),
        None,
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "[]"));
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"score": 0}));
        let (status, _, text) = call(
            method.clone(),
            format!("/api/langsmith/feedback/{id}"),
            Some(&key_b),
            body,
        )
        .await;
        assert_eq!(status, 404, "{method} with another project's key: {text}");
    }
    let (status, _, text) = call(
        Method::GET,
        format!("/api/langsmith/feedback/{id}"),
        Some(&key_a),
        None,
    )
    .await;
    assert_eq!(status, 200, "A's feedback is still there: {text}");
    for path in [
        format!("/api/langsmith/api/v2/runs/{root}?project_id={project_a}&selects=NAME"),
        format!("/api/langsmith/api/v2/runs/{root}/url?project_id={project_a}&trace_id={root}"),
        format!("/api/langsmith/runs/{root}/open"),
        format!("/api/langsmith/sessions/{project_a}/open"),
    ] {
        let (status, location, text) = call(Method::GET, path.clone(), Some(&key_b), None).await;
        assert_eq!((status, location), (404, None), "{path}: {text}");
    }
    let (status, _, text) = call(
        Method::POST,
        "/api/langsmith/api/v2/runs/query".into(),
        Some(&key_b),
        Some(json!({"project_ids": [project_a], "trace_id": root, "selects": ["NAME"]})),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["items"],
        json!([])
    );

    // The link the SDK writes leads on to the opener, which wants the project's key.
    let link = format!("/o/00000000-0000-0000-0000-000000000000/projects/p/{project_a}/r/{root}");
    let (status, location, _) = call(Method::GET, link, None, None).await;
    assert_eq!(status, 303);
    let opener = location.unwrap();
    assert_eq!(opener, format!("/api/langsmith/runs/{root}/open"));
    let (status, _, _) = call(Method::GET, opener.clone(), None, None).await;
    assert_eq!(status, 401);
    let (status, location, _) = call(Method::GET, opener, Some(&key_a), None).await;
    assert_eq!(status, 303);
    let page = location.unwrap();
    assert!(
        page.starts_with(&format!("/traces/{}?span=", trace_hex(&root)))
            && page.ends_with("&project=ls-a"),
        "{page}"
    );
}

/// The SDK's `list_runs(filter=..., trace_filter=..., tree_filter=...)` answers what
/// LangSmith's semantics say (tests/python/langsmith_filters.py): `filter` on the run,
/// `trace_filter` on its trace's root, `tree_filter` on any run of its trace.
#[tokio::test]
async fn the_sdks_run_filters_select_as_langsmith_would() {
    let collector = Collector::start();
    let out = run_script(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/langsmith_filters.py"
        ),
        &collector,
        "ls-filters",
        &[],
        &[],
    );
    assert_eq!(out["all"], 7, "{out}");
    let (a, b) = (
        out["roots"]["A"].as_str().unwrap(),
        out["roots"]["B"].as_str().unwrap(),
    );
    let names = |key: &str| -> Vec<(String, String)> {
        out[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}: {out}"))
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["trace"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let run = |name: &str, trace: &str| (name.to_string(), trace.to_string());
    let mut llm = vec![run("chat_model", a), run("chat_model", b)];
    llm.sort();
    assert_eq!(names("llm"), llm);
    assert!(out["llm"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["run_type"] == "llm"));
    assert_eq!(names("llm_in_b"), vec![run("chat_model", b)]);
    assert_eq!(names("roots_with_deep_tool"), vec![run("filter_root", b)]);
    assert_eq!(names("beta"), vec![run("lookup_tool", a)]);
    assert_eq!(
        names("not_llm_or_root"),
        vec![
            run("deep_tool", b),
            run("lookup_tool", a),
            run("writer_node", b)
        ]
    );
    assert_eq!(names("trace_a_by_id").len(), 3, "{out}");
    // Full-text search: the runs whose input holds the text, whatever its case.
    assert_eq!(
        names("search"),
        vec![run("deep_tool", b), run("writer_node", b)]
    );
    assert_eq!(names("search_tools"), vec![run("deep_tool", b)]);
    assert_eq!(names("roots_searched"), vec![run("filter_root", b)]);
    assert_eq!(names("search_nothing"), vec![], "{out}");
    let bad = out["bad_filter"].as_str().unwrap();
    assert!(
        bad.contains("400") && bad.contains("latncy"),
        "a bad filter is refused, saying why: {bad}"
    );
}
