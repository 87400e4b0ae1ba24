//! `GET /api/v1/metrics` and the trace list's feedback summary, over HTTP against the real
//! binary, on data the tests send themselves (spans over OTLP, feedback over the API), so that
//! every aggregate, interval and test result is known.

mod common;

use common::{client, get_json, wait_for_traces, Collector};
use serde_json::json;
use skein_model::metrics::{self, Comparison, MetricKind, MetricResponse};
use skein_model::stats::quantile_sorted;

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

/// Start of the A/B data set: trace `k` starts `k` minutes after it.
const AB_START_NS: u64 = 1_795_500_000_000_000_000;
const MINUTE_NS: u64 = 60_000_000_000;

/// The root span of trace `k` of the A/B data set, with its tags.
fn ab_span(k: u64, ms: u64, error: bool, tags: &[(&str, &str)]) -> serde_json::Value {
    let start = AB_START_NS + k * MINUTE_NS;
    let attributes: Vec<serde_json::Value> = tags
        .iter()
        .map(|(key, value)| json!({"key": key, "value": {"stringValue": value}}))
        .collect();
    json!({
        "traceId": format!("{:032x}", 0xab00 + k),
        "spanId": format!("{:016x}", 0xab00 + k),
        "name": "request",
        "kind": 1,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": (start + ms * 1_000_000).to_string(),
        "status": {"code": if error { 2 } else { 1 }},
        "attributes": attributes,
    })
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1e-12),
        "{what}: {got} vs {want}"
    );
}

/// An A/B test whose every effect the test makes itself: variant B is better rated, slower and
/// fails more. Expected values are numpy's and scipy's (`ttest_ind(B, A, equal_var=False)`,
/// `percentile`, `t.ppf`), or written out by hand (Wilson, the pooled two-proportion z-test).
#[tokio::test]
async fn ab_test_metrics_on_data_with_known_effects() {
    let collector = Collector::start();
    // Trace k: A is k = 0..40 (10, 20, ..., 400 ms; the first 8 fail), B is k = 40..80 (15, 30,
    // ..., 600 ms; the first 20 fail), and two traces without a variant (5 ms). env is
    // production for even i, user_tier free for i % 4 < 2: both hold for 10 traces per variant.
    let mut spans = Vec::new();
    for (variant, first, step, errors) in [("A", 0u64, 10u64, 8u64), ("B", 40, 15, 20)] {
        for i in 0..40u64 {
            let env = if i % 2 == 0 { "production" } else { "staging" };
            let tier = if i % 4 < 2 { "free" } else { "pro" };
            spans.push(ab_span(
                first + i,
                (i + 1) * step,
                i < errors,
                &[
                    ("ab_test_variant", variant),
                    ("env", env),
                    ("user_tier", tier),
                ],
            ));
        }
    }
    spans.push(ab_span(80, 5, false, &[("env", "production")]));
    spans.push(ab_span(81, 5, false, &[("env", "production")]));
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]});
    let response = client()
        .post(collector.url("/v1/traces"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    wait_for_traces(&collector, "", 82).await;

    // Feedback: 20 rated traces a variant. A: ten 0.25 and ten 0.75 (the first 0.25 given as
    // two records, 0.0 and 0.5, averaged per trace); B: ten 0.75 and ten 1.0.
    let post = |k: u64, score: f64| {
        let url = collector.url("/api/v1/feedback");
        let body = json!({"run_id": format!("{:016x}", 0xab00 + k), "key": "user_satisfaction", "score": score});
        async move {
            let response = client().post(url).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 201);
        }
    };
    post(0, 0.0).await;
    post(0, 0.5).await;
    for i in 1..20 {
        post(i, if i < 10 { 0.25 } else { 0.75 }).await;
    }
    for i in 0..20 {
        post(40 + i, if i < 10 { 0.75 } else { 1.0 }).await;
    }

    // Feedback by variant: B better liked, and Welch's test says so.
    let r = metrics(
        &collector,
        "metric=feedback:user_satisfaction&group_by=ab_test_variant",
    )
    .await;
    assert_consistent(&r);
    assert_eq!(r.kind, MetricKind::Value);
    let values: Vec<Option<&str>> = r.groups.iter().map(|g| g.value.as_deref()).collect();
    assert_eq!(
        values,
        vec![Some("A"), Some("B")],
        "only rated traces count"
    );
    let (a, b) = (group(&r, "A"), group(&r, "B"));
    assert_eq!((a.n, b.n), (20, 20));
    close(a.mean, 0.5, "A's mean");
    close(b.mean, 0.875, "B's mean");
    let (ci_a, ci_b) = (a.ci.expect("A's CI"), b.ci.expect("B's CI"));
    close(ci_a.low, 0.379_956_837_637_294_8, "A's CI low");
    close(ci_a.high, 0.620_043_162_362_705_2, "A's CI high");
    close(ci_b.low, 0.814_978_418_818_647_4, "B's CI low");
    close(ci_b.high, 0.935_021_581_181_352_6, "B's CI high");
    let q = a.quantiles.expect("quantiles");
    assert_eq!((q.min, q.max), (0.25, 0.75));
    match metrics::compare(r.kind, b, a) {
        Some(Ok(Comparison::Welch(d))) => {
            close(d.difference, 0.375, "B − A");
            close(d.t, 5.848_076_606_885_379, "t");
            close(d.df, 27.941_176_470_588_236, "df");
            close(d.p_value, 2.778_137_864_298_244_4e-6, "p");
            close(d.ci.low, 0.243_636_204_301_875_88, "CI low of B − A");
            close(d.ci.high, 0.506_363_795_698_124_2, "CI high of B − A");
        }
        other => panic!("expected a Welch test, got {other:?}"),
    }

    // Latency by variant: B is slower, in the p95 and over time.
    let r = metrics(&collector, "metric=latency_p95&group_by=ab_test_variant").await;
    assert_consistent(&r);
    assert_eq!(r.unit, "ms");
    let values: Vec<Option<&str>> = r.groups.iter().map(|g| g.value.as_deref()).collect();
    assert_eq!(values, vec![Some("A"), Some("B"), None]);
    let (a, b) = (group(&r, "A"), group(&r, "B"));
    assert_eq!((a.n, b.n), (40, 40));
    let (qa, qb) = (a.quantiles.unwrap(), b.quantiles.unwrap());
    close(qa.p95, 380.5, "A's p95");
    close(qb.p95, 570.75, "B's p95");
    close(qa.p50, 205.0, "A's p50");
    close(qb.p50, 307.5, "B's p50");
    assert_eq!(a.headline(r.statistic), Some(qa.p95));
    assert!(b.series.iter().all(|p| p.p95.is_some() && p.p50.is_some()));

    // Error rate: 8 of 40 against 20 of 40, Wilson intervals, the two-proportion z-test.
    let r = metrics(&collector, "metric=error_rate&group_by=ab_test_variant").await;
    assert_consistent(&r);
    assert_eq!(r.kind, MetricKind::Rate);
    assert!(r.bins.is_empty());
    let (a, b) = (group(&r, "A"), group(&r, "B"));
    assert_eq!((a.n, a.sum, b.n, b.sum), (40, 8.0, 40, 20.0));
    close(a.mean, 0.2, "A's error rate");
    close(b.mean, 0.5, "B's error rate");
    let (ci_a, ci_b) = (a.ci.expect("A's CI"), b.ci.expect("B's CI"));
    close(ci_a.low, 0.104_999_897_254_377_03, "A's Wilson low");
    close(ci_a.high, 0.347_573_063_463_995, "A's Wilson high");
    close(ci_b.low, 0.351_995_269_334_653_8, "B's Wilson low");
    close(ci_b.high, 0.648_004_730_665_346_3, "B's Wilson high");
    for g in [a, b] {
        assert!(g.histogram.is_none() && g.quantiles.is_none());
    }
    let errors = get_json(&collector.url("/api/v1/traces?status=error&limit=1")).await;
    assert_eq!(errors["total"], 28);
    match metrics::compare(r.kind, a, b) {
        Some(Ok(Comparison::TwoProportion(d))) => {
            close(d.difference, -0.3, "A − B");
            close(d.z, -2.812_843_385_630_972_5, "z");
            close(d.p_value, 0.004_910_556_162_172_656, "p");
        }
        other => panic!("expected a two-proportion test, got {other:?}"),
    }

    // Tag filters are AND-ed and narrow n exactly as they narrow the trace list.
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
        assert_eq!(group(&filtered, variant).n, 10, "{variant}");
        assert_eq!(listed["total"], 10, "{variant}");
    }

    // Without group_by: one group of everything. A time range narrows it: B's 40 minutes.
    let one = metrics(&collector, "metric=count").await;
    assert_eq!(one.groups.len(), 1);
    assert_eq!(
        (one.groups[0].value.as_deref(), one.groups[0].n),
        (None, 82)
    );
    let ms = |k: f64| ((AB_START_NS as f64 + k * MINUTE_NS as f64) / 1e6) as i64;
    let (from, to) = (ms(39.5), ms(79.5));
    let range = metrics(
        &collector,
        &format!("metric=count&group_by=ab_test_variant&from={from}&to={to}&bucket=1h"),
    )
    .await;
    assert_eq!((range.from_ms, range.to_ms), (from, to));
    assert_eq!(range.bucket_ms, 3_600_000);
    let values: Vec<(Option<&str>, u64)> = range
        .groups
        .iter()
        .map(|g| (g.value.as_deref(), g.n))
        .collect();
    assert_eq!(values, vec![(Some("B"), 40)]);
    let listed =
        get_json(&collector.url(&format!("/api/v1/traces?from={from}&to={to}&limit=1"))).await;
    assert_eq!(listed["total"], 40);

    // A group-by key no trace has: one group of traces without it.
    let none = metrics(&collector, "metric=count&group_by=no_such_tag").await;
    assert_eq!(none.groups.len(), 1);
    assert_eq!(
        (none.groups[0].value.as_deref(), none.groups[0].n),
        (None, 82)
    );

    // The trace list carries each trace's feedback summary: every record, averaged.
    let page = get_json(&collector.url("/api/v1/traces?limit=100")).await;
    let summary = |k: u64| {
        let id = format!("{:032x}", 0xab00 + k);
        page["traces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["trace_id"] == id.as_str())
            .unwrap_or_else(|| panic!("trace {id} not listed"))
            .get("feedback")
            .cloned()
    };
    assert_eq!(
        summary(0),
        Some(json!([{"key": "user_satisfaction", "count": 2, "mean": 0.25}]))
    );
    assert_eq!(
        summary(59),
        Some(json!([{"key": "user_satisfaction", "count": 1, "mean": 1.0}]))
    );
    assert_eq!(summary(20), None, "no feedback, no field");
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
