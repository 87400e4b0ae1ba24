//! The unmodified SDK sends the seed's traces in every way it uploads (zstd multipart, plain
//! multipart, `/runs/batch`, one run at a time), across two processes, and in its OTel mode.

use super::*;

const METADATA: [(&str, &str); 6] = [
    ("env", "production"),
    ("version", "v2.1.0"),
    ("feature", "research_assistant"),
    ("user_tier", "premium"),
    ("experiment", "improved_prompts_v3"),
    ("ab_test_variant", "B"),
];

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
