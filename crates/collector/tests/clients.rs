//! Agent frameworks with their real instrumentation (tests/python/framework_clients.py: LangGraph
//! and `@traceable` through the LangSmith SDK, pydantic-ai's OpenTelemetry spans, OpenInference's
//! LangChain and OpenAI Agents instrumentors), read back through the query API as a user sees
//! them: a trace's tags are its user's metadata and none of instrumentation's own keys, a model
//! call's usage is counted once in the trace, its session, its user and the metrics, and each
//! OpenInference span kind has its own type.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{get_json, Collector};
use serde_json::Value;

/// The tokens of the one model call each client makes (framework_clients.py).
const CALL_TOKENS: (i64, i64) = (40, 19);

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/framework_clients.py")
}

/// Runs one mode of the script against the collector; `langsmith_project` turns the LangSmith
/// SDK's tracing on (into that project), otherwise spans go over OTLP/HTTP. Returns the JSON
/// line it printed.
fn run_client(collector: &Collector, mode: &str, langsmith_project: Option<&str>) -> Value {
    let mut command = Command::new(common::python());
    command.arg(script()).arg(mode);
    // Hermetic: nothing of the caller's LangSmith, LangChain or OTel settings leaks in.
    for (key, _) in std::env::vars() {
        if key.starts_with("LANGSMITH_")
            || key.starts_with("LANGCHAIN_")
            || key.starts_with("OTEL_")
        {
            command.env_remove(key);
        }
    }
    command
        .env("SKEIN_OTLP_URL", &collector.otlp_traces)
        .env("OPENAI_API_KEY", "not-used");
    if let Some(project) = langsmith_project {
        command
            .env("LANGSMITH_ENDPOINT", collector.url("/api/langsmith"))
            .env("LANGSMITH_API_KEY", "test-key")
            .env("LANGSMITH_TRACING", "true")
            .env("LANGSMITH_PROJECT", project);
    }
    let output = command.output().expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{mode} failed: {stderr}\n{stdout}");
    for bad in ["Failed to", "Failed to export", "error sending"] {
        assert!(!stderr.contains(bad), "{mode} reported a problem: {stderr}");
    }
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{mode} printed {stdout:?}: {e}"))
}

/// Polls until `project` holds a trace whose root is `root_name` with all of `spans` spans;
/// returns its row of the trace list.
async fn trace_named(collector: &Collector, project: &str, root_name: &str, spans: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..150 {
        let page =
            get_json(&collector.url(&format!("/api/v1/traces?project={project}&limit=100"))).await;
        if let Some(t) =
            page["traces"].as_array().into_iter().flatten().find(|t| {
                t["root_name"] == root_name && t["span_count"].as_u64().unwrap_or(0) >= spans
            })
        {
            return t.clone();
        }
        last = page;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no trace {root_name:?} of {spans} spans in {project}: {last}");
}

/// Each span of a trace by name: (span type, input tokens, output tokens).
async fn span_types(
    collector: &Collector,
    project: &str,
    trace_id: &str,
) -> BTreeMap<String, (String, Value, Value)> {
    let skeleton =
        get_json(&collector.url(&format!("/api/v1/traces/{trace_id}?project={project}"))).await;
    let mut out = BTreeMap::new();
    for s in skeleton["spans"].as_array().expect("spans") {
        let id = s[0].as_str().expect("span id");
        let span = get_json(&collector.url(&format!(
            "/api/v1/traces/{trace_id}/spans/{id}?project={project}"
        )))
        .await;
        out.insert(
            span["name"].as_str().expect("name").to_string(),
            (
                span["span_type"].as_str().unwrap_or("").to_string(),
                span["input_tokens"].clone(),
                span["output_tokens"].clone(),
            ),
        );
    }
    out
}

/// Keys no trace tag may have: instrumentation's own bookkeeping.
fn assert_no_internal_keys(tags: &Value) {
    let tags = tags.as_object().expect("tags");
    for key in tags.keys() {
        let internal = key.starts_with('_')
            || [
                "langgraph_",
                "checkpoint_",
                "ls_",
                "logfire.",
                "gen_ai.",
                "llm.",
                "openinference.",
            ]
            .iter()
            .any(|p| key.starts_with(p))
            || ["final_result", "model_name", "agent_name", "checkpoint_ns"]
                .contains(&key.as_str());
        assert!(
            !internal,
            "instrumentation key {key:?} in the trace's tags: {tags:?}"
        );
    }
}

fn assert_user_metadata(tags: &Value) {
    assert_eq!(tags["env"], "production", "{tags}");
    assert_eq!(tags["customer"], "acme", "{tags}");
}

fn tokens(row: &Value) -> (i64, i64) {
    (
        row["input_tokens"].as_i64().unwrap_or(-1),
        row["output_tokens"].as_i64().unwrap_or(-1),
    )
}

async fn tag_keys(collector: &Collector, project: &str) -> Vec<String> {
    get_json(&collector.url(&format!("/api/v1/tags?project={project}")))
        .await
        .as_array()
        .expect("tag keys")
        .iter()
        .filter_map(|k| k["key"].as_str().map(String::from))
        .collect()
}

async fn traces_with_tag(collector: &Collector, project: &str, tag: &str) -> u64 {
    let url = collector.url(&format!(
        "/api/v1/traces?project={project}&tag={}",
        tag.replace('=', "%3D")
    ));
    get_json(&url).await["total"].as_u64().expect("total")
}

#[tokio::test]
async fn langgraph_through_the_langsmith_sdk_is_tagged_by_its_user() {
    let collector = Collector::start();
    run_client(&collector, "langgraph", Some("langgraph"));
    // The graph, its two nodes, the node's chain, its prompt and its model call.
    let trace = trace_named(&collector, "langgraph", "LangGraph", 6).await;
    let tags = &trace["tags"];
    assert_user_metadata(tags);
    assert_no_internal_keys(tags);
    assert_eq!(tags["thread_id"], "thread-lg-1", "{tags}");
    assert_eq!(trace["session_id"], "thread-lg-1");
    assert_eq!(tokens(&trace), CALL_TOKENS);

    // Node bookkeeping is no trace filter or suggestion: it stays on the spans.
    assert_eq!(
        traces_with_tag(&collector, "langgraph", "langgraph_node=supervisor").await,
        0
    );
    assert_eq!(
        traces_with_tag(&collector, "langgraph", "customer=acme").await,
        1
    );
    let keys = tag_keys(&collector, "langgraph").await;
    assert!(keys.contains(&"env".to_string()), "{keys:?}");
    for key in &keys {
        assert_no_internal_keys(&serde_json::json!({ key.as_str(): "" }));
    }
    let spans = span_types(&collector, "langgraph", trace["trace_id"].as_str().unwrap()).await;
    assert_eq!(spans["ChatPromptTemplate"].0, "prompt", "{spans:?}");
    assert_eq!(spans["GenericFakeChatModel"].0, "llm", "{spans:?}");
    assert_eq!(spans["writer"].0, "chain", "{spans:?}");
}

#[tokio::test]
async fn an_agent_repeating_its_model_calls_usage_is_counted_once_everywhere() {
    let collector = Collector::start();
    let project = "traceable";
    run_client(&collector, "langsmith-traceable", Some(project));
    let trace = trace_named(&collector, project, "answer_agent", 2).await;
    assert_eq!(tokens(&trace), CALL_TOKENS, "{trace}");
    assert_user_metadata(&trace["tags"]);
    assert_no_internal_keys(&trace["tags"]);
    // Both runs report the call's usage: the trace counts the model call's.
    let spans = span_types(&collector, project, trace["trace_id"].as_str().unwrap()).await;
    assert_eq!(spans["answer_agent"].1, 40, "{spans:?}");
    assert_eq!(spans["call_model"].0, "llm", "{spans:?}");

    let total = CALL_TOKENS.0 + CALL_TOKENS.1;
    let session =
        get_json(&collector.url(&format!("/api/v1/sessions/ls-session-1?project={project}"))).await;
    assert_eq!(tokens(&session["summary"]), CALL_TOKENS, "{session}");
    let sessions = get_json(&collector.url(&format!("/api/v1/sessions?project={project}"))).await;
    assert_eq!(tokens(&sessions["sessions"][0]), CALL_TOKENS, "{sessions}");
    let user =
        get_json(&collector.url(&format!("/api/v1/users/ls-user-1?project={project}"))).await;
    assert_eq!(tokens(&user["summary"]), CALL_TOKENS, "{user}");
    let metric = get_json(&collector.url(&format!(
        "/api/v1/metrics?project={project}&metric=total_tokens"
    )))
    .await;
    assert_eq!(
        metric["groups"][0]["sum"].as_f64(),
        Some(total as f64),
        "{metric}"
    );
}

#[tokio::test]
async fn pydantic_ai_over_otlp_is_tagged_by_its_user_and_resource() {
    let collector = Collector::start();
    let usage = run_client(&collector, "pydantic-ai", None);
    // The agent run, two model calls and a tool call.
    let trace = trace_named(&collector, "default", "invoke_agent support_agent", 4).await;
    let tags = &trace["tags"];
    assert_user_metadata(tags);
    assert_no_internal_keys(tags);
    assert_eq!(tags["deployment.environment"], "staging", "{tags}");
    // What pydantic-ai itself counted for the run.
    assert_eq!(
        tokens(&trace),
        (
            usage["input_tokens"].as_i64().unwrap(),
            usage["output_tokens"].as_i64().unwrap()
        )
    );
    assert_eq!(
        traces_with_tag(&collector, "default", "final_result=a test answer").await,
        0
    );
    let keys = tag_keys(&collector, "default").await;
    assert!(!keys.iter().any(|k| k.starts_with("logfire.")), "{keys:?}");
}

#[tokio::test]
async fn openinference_langchain_spans_have_their_kinds_and_the_users_tags() {
    let collector = Collector::start();
    run_client(&collector, "openinference", None);
    let trace = trace_named(&collector, "default", "qa_chain", 4).await;
    assert_user_metadata(&trace["tags"]);
    assert_no_internal_keys(&trace["tags"]);
    assert_eq!(tokens(&trace), CALL_TOKENS);
    let spans = span_types(&collector, "default", trace["trace_id"].as_str().unwrap()).await;
    assert_eq!(spans["ChatPromptTemplate"].0, "prompt", "{spans:?}");
    assert_eq!(spans["GenericFakeChatModel"].0, "llm", "{spans:?}");
    assert_eq!(spans["qa_chain"].0, "chain", "{spans:?}");
}

#[tokio::test]
async fn openai_agents_through_openinference_count_their_generation() {
    let collector = Collector::start();
    run_client(&collector, "openai-agents", None);
    let trace = trace_named(&collector, "default", "Agent workflow", 4).await;
    assert_eq!(tokens(&trace), CALL_TOKENS, "{trace}");
    assert_user_metadata(&trace["tags"]);
    assert_no_internal_keys(&trace["tags"]);
    let spans = span_types(&collector, "default", trace["trace_id"].as_str().unwrap()).await;
    assert_eq!(spans["support_agent"].0, "agent", "{spans:?}");
    assert_eq!(spans["polite"].0, "guardrail", "{spans:?}");
    assert_eq!(spans["generation"].0, "llm", "{spans:?}");
}

#[tokio::test]
async fn every_openinference_span_kind_has_its_own_type() {
    let collector = Collector::start();
    run_client(&collector, "kinds", None);
    let trace = trace_named(&collector, "default", "pipeline", 7).await;
    assert_user_metadata(&trace["tags"]);
    let spans = span_types(&collector, "default", trace["trace_id"].as_str().unwrap()).await;
    for kind in [
        "prompt",
        "embedding",
        "reranker",
        "guardrail",
        "evaluator",
        "retriever",
    ] {
        assert_eq!(spans[&format!("{kind}_step")].0, kind, "{spans:?}");
    }
}
