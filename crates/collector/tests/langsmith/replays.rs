//! Replays of recorded SDK requests: the same upload twice, post then patch in any order, a
//! run that raised.

use super::*;

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
