//! An A/B test with known effects, and bad parameters refused with 400.

use crate::common::{client, get_json, wait_for_traces, Collector};
use crate::{assert_consistent, close, group, metrics};
use serde_json::json;
use skein_model::metrics::{Comparison, MetricKind};

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
