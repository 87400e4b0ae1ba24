//! Feedback metrics: a run's feedback reaching its trace; edits, deletes and late runs.

use crate::common::{client, wait_for_traces, Collector};
use crate::{group, metrics, span};
use serde_json::json;

#[tokio::test]
async fn feedback_on_a_run_alone_reaches_its_trace() {
    // A LangSmith run (its span id is a hash of the run UUID, found through the LangSmith
    // ingest's lookup table) and an OTLP span (found by a scan of span ids), each rated by
    // run id only, as `create_feedback(run_id, ...)` does.
    let collector = Collector::start();
    let run = "01a20c28-9de7-7b5d-8818-498ab6782c00";
    let response = client()
        .post(collector.url("/api/langsmith/runs"))
        .header("x-api-key", "test-key")
        .json(
            &json!({"id": run, "trace_id": run, "name": "ls_root", "run_type": "chain",
            "session_name": "runs-only", "start_time": "2026-11-24T06:05:18.183114+00:00",
            "end_time": "2026-11-24T06:05:18.283114+00:00",
            "extra": {"metadata": {"variant": "L"}}}),
        )
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    let otlp =
        json!({"resourceSpans": [{"scopeSpans": [{"spans": [span(7, Some("O"), 30, false, 1)]}]}]});
    let response = client()
        .post(collector.url("/v1/traces"))
        .header("x-skein-project", "runs-only")
        .json(&otlp)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = wait_for_traces(&collector, "project=runs-only", 2).await;
    for t in page["traces"].as_array().unwrap() {
        let run_id = t["root_span_id"].as_str().unwrap();
        let score = if t["tags"]["variant"] == "L" {
            0.4
        } else {
            0.9
        };
        let response = client()
            .post(collector.url("/api/v1/feedback?project=runs-only"))
            .json(&json!({"run_id": run_id, "key": "quality", "score": score}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let r = metrics(
        &collector,
        "project=runs-only&metric=feedback:quality&group_by=variant",
    )
    .await;
    assert_eq!((group(&r, "L").n, group(&r, "L").mean), (1, 0.4));
    assert_eq!((group(&r, "O").n, group(&r, "O").mean), (1, 0.9));
}

#[tokio::test]
async fn feedback_metrics_follow_edits_deletes_and_late_runs() {
    // The per-trace score rollup behind feedback metrics is kept on every write: an edited
    // score, a changed key, a deleted record, a record re-sent with its id, and a record
    // given before its run arrived.
    let collector = Collector::start();
    let send = |spans: Vec<serde_json::Value>| {
        let url = collector.url("/v1/traces");
        async move {
            let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]});
            let response = client().post(url).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 200);
        }
    };
    send(vec![
        span(0, Some("X"), 10, false, 1),
        span(1, Some("Y"), 10, false, 1),
    ])
    .await;
    wait_for_traces(&collector, "", 2).await;
    let run = |i: u8| format!("{:016x}", u32::from(i) + 1);
    let trace = |i: u8| format!("{:032x}", u32::from(i) + 1);
    let post = |body: serde_json::Value| {
        let url = collector.url("/api/v1/feedback");
        async move {
            let response = client().post(url).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 201);
            response.json::<serde_json::Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let means = |query: &'static str| {
        let collector = &collector;
        async move {
            let r = metrics(collector, query).await;
            let mut out: Vec<(String, u64, f64)> = r
                .groups
                .iter()
                .map(|g| (g.value.clone().unwrap_or_default(), g.n, g.mean))
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
    };
    let quality = "metric=feedback:quality&group_by=variant";

    let a =
        post(json!({"run_id": run(0), "trace_id": trace(0), "key": "quality", "score": 1.0})).await;
    let b =
        post(json!({"run_id": run(0), "trace_id": trace(0), "key": "quality", "score": 0.5})).await;
    let c = post(json!({"run_id": run(1), "key": "quality", "score": 0.25})).await;
    assert_eq!(
        means(quality).await,
        vec![("X".into(), 1, 0.75), ("Y".into(), 1, 0.25)]
    );

    // An edited score, then a record moved to another key.
    let patch = |id: String, body: serde_json::Value| {
        let url = collector.url(&format!("/api/v1/feedback/{id}"));
        async move {
            let response = client().patch(url).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 200);
        }
    };
    patch(a.clone(), json!({"score": 0.0})).await;
    assert_eq!(means(quality).await[0], ("X".into(), 1, 0.25));
    patch(b.clone(), json!({"key": "tone"})).await;
    assert_eq!(means(quality).await[0], ("X".into(), 1, 0.0));
    assert_eq!(
        means("metric=feedback:tone&group_by=variant").await,
        vec![("X".into(), 1, 0.5)]
    );

    // Deleted: Y has no rated trace left.
    let response = client()
        .delete(collector.url(&format!("/api/v1/feedback/{c}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(means(quality).await, vec![("X".into(), 1, 0.0)]);

    // The same id again replaces the record rather than adding one.
    post(json!({"id": a, "run_id": run(0), "trace_id": trace(0), "key": "quality", "score": 0.5}))
        .await;
    assert_eq!(means(quality).await, vec![("X".into(), 1, 0.5)]);

    // Feedback on a run not stored yet counts once the run arrives.
    post(json!({"run_id": run(2), "key": "quality", "score": 0.75})).await;
    assert_eq!(means(quality).await, vec![("X".into(), 1, 0.5)]);
    send(vec![span(2, Some("Z"), 10, false, 1)]).await;
    wait_for_traces(&collector, "", 3).await;
    assert_eq!(
        means(quality).await,
        vec![("X".into(), 1, 0.5), ("Z".into(), 1, 0.75)]
    );
}
