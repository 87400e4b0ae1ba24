//! `GET /api/v1/metrics` and the trace list's feedback summary, over HTTP against the real
//! binary: on the demo data set (A/B variants, feedback) and on a small hand-made one whose
//! every aggregate is known.

mod common;

use common::{client, get_json, wait_for_traces, Collector};
use serde_json::json;
use skein_model::metrics::{self, Comparison, MetricKind, MetricResponse};
use skein_model::stats::{quantile_sorted, NotEnoughData};

async fn metrics(collector: &Collector, query: &str) -> MetricResponse {
    let body = get_json(&collector.url(&format!("/api/v1/metrics?{query}"))).await;
    serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{query}: not a MetricResponse ({e}): {body}"))
}

fn group<'a>(r: &'a MetricResponse, value: &str) -> &'a metrics::MetricGroup {
    r.groups
        .iter()
        .find(|g| g.value.as_deref() == Some(value))
        .unwrap_or_else(|| {
            panic!(
                "no group {value}: {:?}",
                r.groups.iter().map(|g| &g.value).collect::<Vec<_>>()
            )
        })
}

/// Every group's series and histogram account for all of its traces.
fn assert_consistent(r: &MetricResponse) {
    for g in &r.groups {
        let series_n: u64 = g.series.iter().map(|p| p.n).sum();
        assert_eq!(series_n, g.n, "series of {:?}", g.value);
        let series_sum: f64 = g.series.iter().map(|p| p.sum).sum();
        assert!((series_sum - g.sum).abs() <= 1e-9 * g.sum.abs().max(1.0));
        assert!(g.series.windows(2).all(|w| w[0].start_ms < w[1].start_ms));
        for p in &g.series {
            assert_eq!(p.start_ms % r.bucket_ms, 0, "bucket starts are aligned");
        }
        if let Some(h) = &g.histogram {
            assert_eq!(h.counts.len() + 1, r.bins.len());
            assert_eq!(
                h.counts.iter().sum::<u64>() + h.above,
                g.n,
                "histogram of {:?}",
                g.value
            );
        }
        if let Some(q) = &g.quantiles {
            assert!(q.min <= q.p25 && q.p25 <= q.p50 && q.p50 <= q.p75);
            assert!(q.p75 <= q.p95 && q.p95 <= q.p99 && q.p99 <= q.max);
            assert!(q.min <= g.mean && g.mean <= q.max);
        }
    }
}

#[tokio::test]
async fn demo_ab_test_metrics() {
    let collector = Collector::start_with(&["--demo"]);
    wait_for_traces(&collector, "", 2000).await;
    // The demo's feedback is posted after its spans; wait until the trace list shows it all.
    let mut satisfaction = None;
    for _ in 0..100 {
        let r = metrics(
            &collector,
            "metric=feedback:user_satisfaction&group_by=ab_test_variant",
        )
        .await;
        if r.groups.iter().map(|g| g.n).sum::<u64>() >= 1000 {
            satisfaction = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = satisfaction.expect("the demo's feedback did not arrive");
    assert_consistent(&r);

    // Feedback by variant: two groups, B better liked, and the difference is significant.
    assert_eq!(r.kind, MetricKind::Value);
    let values: Vec<Option<&str>> = r.groups.iter().map(|g| g.value.as_deref()).collect();
    assert_eq!(values.len(), 2, "{values:?}");
    let (a, b) = (group(&r, "A"), group(&r, "B"));
    assert!(b.mean > a.mean, "B {} should beat A {}", b.mean, a.mean);
    let (ci_a, ci_b) = (a.ci.expect("A's CI"), b.ci.expect("B's CI"));
    assert!(ci_a.contains(a.mean) && ci_b.contains(b.mean));
    assert!(ci_a.high < ci_b.low, "{ci_a:?} {ci_b:?}");
    for g in [a, b] {
        let q = g.quantiles.expect("quantiles");
        assert!(q.min >= 0.0 && q.max <= 1.0, "{q:?}");
    }
    assert_eq!(r.bins.first().copied(), Some(0.0));
    assert_eq!(r.bins.last().copied(), Some(1.0));
    match metrics::compare(r.kind, b, a) {
        Some(Ok(Comparison::Welch(d))) => {
            assert!(d.difference > 0.05, "{d:?}");
            assert!(d.p_value < 1e-6, "{d:?}");
            assert!(d.ci.low > 0.0, "the CI of B − A excludes 0: {d:?}");
        }
        other => panic!("expected a Welch test, got {other:?}"),
    }

    // Latency by variant: B is slower, in the p95 and over time.
    let r = metrics(&collector, "metric=latency_p95&group_by=ab_test_variant").await;
    assert_consistent(&r);
    assert_eq!(r.unit, "ms");
    let (a, b) = (group(&r, "A"), group(&r, "B"));
    assert_eq!(a.n + b.n, 2000);
    let (qa, qb) = (a.quantiles.unwrap(), b.quantiles.unwrap());
    assert!(qb.p95 > qa.p95, "B p95 {} vs A p95 {}", qb.p95, qa.p95);
    assert!(a.headline(r.statistic) == Some(qa.p95));
    assert!(b.series.iter().all(|p| p.p95.is_some() && p.p50.is_some()));

    // Error rate: a rate per variant with a Wilson interval, and the two-proportion test.
    let r = metrics(&collector, "metric=error_rate&group_by=ab_test_variant").await;
    assert_consistent(&r);
    assert_eq!(r.kind, MetricKind::Rate);
    assert!(r.bins.is_empty());
    for g in &r.groups {
        assert!(g.mean > 0.0 && g.mean < 0.5, "{:?}: {}", g.value, g.mean);
        let ci = g.ci.expect("CI of the rate");
        assert!(ci.low >= 0.0 && ci.contains(g.mean) && ci.high <= 1.0);
        assert!(g.histogram.is_none() && g.quantiles.is_none());
    }
    let errors = get_json(&collector.url("/api/v1/traces?status=error&limit=1")).await;
    let error_traces: f64 = r.groups.iter().map(|g| g.sum).sum();
    assert_eq!(error_traces, errors["total"].as_u64().unwrap() as f64);
    match metrics::compare(r.kind, group(&r, "A"), group(&r, "B")) {
        Some(Ok(Comparison::TwoProportion(d))) => assert!(d.p_value > 0.0 && d.p_value <= 1.0),
        Some(Err(NotEnoughData::TooFewEvents { .. })) => {}
        other => panic!("expected a two-proportion test, got {other:?}"),
    }

    // Tag filters are AND-ed and narrow n exactly as they narrow the trace list.
    let all = metrics(&collector, "metric=count&group_by=ab_test_variant").await;
    let filtered = metrics(
        &collector,
        "metric=count&group_by=ab_test_variant&tag=env=production&tag=user_tier=free",
    )
    .await;
    for variant in ["A", "B"] {
        let listed = get_json(&collector.url(&format!(
            "/api/v1/traces?tag=ab_test_variant={variant}&tag=env=production&tag=user_tier=free&limit=1"
        )))
        .await;
        let n = group(&filtered, variant).n;
        assert_eq!(n, listed["total"].as_u64().unwrap(), "{variant}");
        assert!(n > 0 && n < group(&all, variant).n, "{variant}: {n}");
    }

    // Without group_by: one group of everything. A time range and a bucket size narrow it.
    let one = metrics(&collector, "metric=count").await;
    assert_eq!(one.groups.len(), 1);
    assert_eq!(one.groups[0].value, None);
    assert_eq!(one.groups[0].n, 2000);
    let mid = (one.from_ms + one.to_ms) / 2;
    let half = metrics(
        &collector,
        &format!("metric=count&from={mid}&to={}&bucket=1d", one.to_ms),
    )
    .await;
    assert_eq!((half.from_ms, half.bucket_ms), (mid, 86_400_000));
    let late = get_json(&collector.url(&format!(
        "/api/v1/traces?from={mid}&to={}&limit=1",
        one.to_ms
    )))
    .await;
    assert_eq!(half.groups[0].n, late["total"].as_u64().unwrap());
    assert!(half.groups[0].n < 2000 && half.groups[0].series.len() <= 5);

    // A group-by key no trace has: one group of traces without it.
    let none = metrics(&collector, "metric=count&group_by=no_such_tag").await;
    assert_eq!(none.groups.len(), 1);
    assert_eq!(
        (none.groups[0].value.as_deref(), none.groups[0].n),
        (None, 2000)
    );

    // The trace list carries each trace's feedback summary.
    let page = get_json(&collector.url("/api/v1/traces?limit=100")).await;
    let rated: Vec<&serde_json::Value> = page["traces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t.get("feedback").is_some())
        .collect();
    assert!(
        rated.len() > 20,
        "{} of 100 traces have feedback",
        rated.len()
    );
    let trace = rated[0];
    let listed = get_json(&collector.url(&format!(
        "/api/v1/feedback?trace_id={}",
        trace["trace_id"].as_str().unwrap()
    )))
    .await;
    for stat in trace["feedback"].as_array().unwrap() {
        let key = stat["key"].as_str().unwrap();
        let scores: Vec<f64> = listed["feedback"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["key"] == key)
            .map(|f| f["score"].as_f64().unwrap())
            .collect();
        assert_eq!(stat["count"].as_u64().unwrap() as usize, scores.len());
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        assert!((stat["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    }
}

#[tokio::test]
async fn bad_metric_parameters_are_400_naming_the_parameter() {
    let collector = Collector::start();
    let long_key = "k".repeat(200);
    for (query, mentions) in [
        ("metric=speed", "metric"),
        ("metric=feedback%3A", "metric"),
        ("metric=count&from=yesterday", "from"),
        ("metric=count&to=soon", "to"),
        ("metric=count&from=10&to=5", "from"),
        ("metric=count&bucket=fortnight", "bucket"),
        ("metric=count&from=0&to=604800000&bucket=1s", "bucket"),
        ("metric=count&tag=novalue", "key=value"),
        (
            &format!("metric=count&group_by={long_key}") as &str,
            "group_by",
        ),
    ] {
        let url = collector.url(&format!("/api/v1/metrics?{query}"));
        let response = client().get(&url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        let error = body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{query}: {body}"));
        assert!(error.contains(mentions), "{query}: {error}");
    }
    // An empty store answers with no groups, whatever the range, extreme ones included.
    for range in [
        "",
        "&from=-9223372036854775808&to=9223372036854775807",
        "&to=-9223372036854775808",
        "&from=9223372036854775807",
    ] {
        let empty = metrics(
            &collector,
            &format!("metric=latency_mean&group_by=variant{range}"),
        )
        .await;
        assert!(empty.groups.is_empty(), "{range}");
        assert!(empty.from_ms < empty.to_ms, "{range}");
    }
}

/// One root span per trace: (trace id byte, variant tag or none, duration ms, error, tokens).
fn span(i: u8, variant: Option<&str>, ms: u64, error: bool, tokens: i64) -> serde_json::Value {
    let start: u64 = 1_795_500_000_000_000_000 + u64::from(i) * 60_000_000_000;
    let mut attributes = vec![
        json!({"key": "gen_ai.usage.input_tokens", "value": {"intValue": tokens.to_string()}}),
    ];
    if let Some(v) = variant {
        attributes.push(json!({"key": "variant", "value": {"stringValue": v}}));
    }
    json!({
        "traceId": format!("{:032x}", u32::from(i) + 1),
        "spanId": format!("{:016x}", u32::from(i) + 1),
        "name": "request",
        "kind": 1,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": (start + ms * 1_000_000).to_string(),
        "status": {"code": if error { 2 } else { 1 }},
        "attributes": attributes,
    })
}

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
