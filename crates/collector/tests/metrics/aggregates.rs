//! Every aggregate exact on data whose values the test knows.

use crate::common::{client, get_json, wait_for_traces, Collector};
use crate::{assert_consistent, group, metrics, span};
use serde_json::json;
use skein_model::stats::quantile_sorted;

#[tokio::test]
async fn aggregates_are_exact_on_known_data() {
    let collector = Collector::start();
    // X: 12 traces of 10, 20, ..., 120 ms, two of them errors; Y: 11 traces of 100..=200 ms;
    // two traces without the tag.
    let mut spans = Vec::new();
    let x: Vec<f64> = (1..=12).map(|k| f64::from(k * 10)).collect();
    let y: Vec<f64> = (0..=10).map(|k| f64::from(100 + k * 10)).collect();
    for (i, ms) in x.iter().enumerate() {
        spans.push(span(i as u8, Some("X"), *ms as u64, i < 2, 100));
    }
    for (i, ms) in y.iter().enumerate() {
        spans.push(span(
            20 + i as u8,
            Some("Y"),
            *ms as u64,
            false,
            1_000_000_000,
        ));
    }
    spans.push(span(40, None, 5, false, 7));
    spans.push(span(41, None, 7, false, 7));
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]});
    let response = client()
        .post(collector.url("/v1/traces"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    wait_for_traces(&collector, "", 25).await;

    let r = metrics(&collector, "metric=latency_p50&group_by=variant").await;
    assert_consistent(&r);
    let values: Vec<Option<&str>> = r.groups.iter().map(|g| g.value.as_deref()).collect();
    assert_eq!(
        values,
        vec![Some("X"), Some("Y"), None],
        "largest first, untagged last"
    );
    for (name, data) in [("X", &x), ("Y", &y)] {
        let g = group(&r, name);
        assert_eq!(g.n, data.len() as u64);
        let mean = data.iter().sum::<f64>() / data.len() as f64;
        assert!((g.mean - mean).abs() < 1e-9, "{name}");
        let q = g.quantiles.unwrap();
        for (got, level) in [
            (q.min, 0.0),
            (q.p25, 0.25),
            (q.p50, 0.5),
            (q.p95, 0.95),
            (q.p99, 0.99),
            (q.max, 1.0),
        ] {
            let want = quantile_sorted(data, level).unwrap();
            assert!(
                (got - want).abs() < 1e-9,
                "{name} q{level}: {got} vs {want}"
            );
        }
    }
    // X's p95 of 10..120 by numpy's linear rule: 114.5.
    assert!((group(&r, "X").quantiles.unwrap().p95 - 114.5).abs() < 1e-9);

    // Rates and huge token counts (sums of squares beyond 64-bit integers).
    let r = metrics(&collector, "metric=error_rate&group_by=variant").await;
    assert!((group(&r, "X").mean - 2.0 / 12.0).abs() < 1e-12);
    assert_eq!(group(&r, "Y").mean, 0.0);
    let r = metrics(&collector, "metric=input_tokens&group_by=variant").await;
    assert_eq!(group(&r, "Y").mean, 1e9);
    assert_eq!(group(&r, "Y").sum_sq, 11e18);

    // Feedback: with a trace id, with only a run id (found through the span), a second score on
    // the same trace (averaged per trace), and a comment without a score.
    let post = |body: serde_json::Value| {
        let url = collector.url("/api/v1/feedback");
        async move {
            let response = client().post(url).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 201);
        }
    };
    let run = |i: u8| format!("{:016x}", u32::from(i) + 1);
    let trace = |i: u8| format!("{:032x}", u32::from(i) + 1);
    post(json!({"run_id": run(0), "trace_id": trace(0), "key": "quality", "score": 1.0})).await;
    post(json!({"run_id": run(0), "trace_id": trace(0), "key": "quality", "score": 0.5})).await;
    post(json!({"run_id": run(1), "key": "quality", "score": 0.25})).await;
    post(json!({"run_id": run(20), "key": "quality", "score": 0.0})).await;
    post(json!({"run_id": run(20), "key": "quality", "comment": "no score"})).await;

    let r = metrics(&collector, "metric=feedback:quality&group_by=variant").await;
    let gx = group(&r, "X");
    assert_eq!(gx.n, 2, "two rated X traces");
    assert!(
        (gx.mean - (0.75 + 0.25) / 2.0).abs() < 1e-12,
        "per-trace means 0.75 and 0.25"
    );
    assert_eq!(group(&r, "Y").n, 1);
    assert!(gx.ci.is_none(), "two traces are below the minimum n");

    // The list's summary: counts every record of a key, averages those with a score.
    let page = get_json(&collector.url("/api/v1/traces?limit=100")).await;
    let summary = |id: String| {
        page["traces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["trace_id"] == id.as_str())
            .map(|t| t.get("feedback").cloned())
            .unwrap()
    };
    assert_eq!(
        summary(trace(0)),
        Some(json!([{"key": "quality", "count": 2, "mean": 0.75}]))
    );
    assert_eq!(
        summary(trace(1)),
        Some(json!([{"key": "quality", "count": 1, "mean": 0.25}]))
    );
    assert_eq!(
        summary(trace(20)),
        Some(json!([{"key": "quality", "count": 2, "mean": 0.0}]))
    );
    assert_eq!(summary(trace(2)), None, "no feedback, no field");
}
