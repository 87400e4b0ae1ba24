//! `GET /api/v1/metrics` beyond the mean, over HTTP against the real binary: a business metric
//! summed per variant per day with the difference in value per trace, the p95 of any metric,
//! and the rate of traces at or above a threshold, each checked against the test's own data.

mod common;

use common::{client, get_json, wait_for_traces, Collector};
use serde_json::json;
use skein_model::metrics::{self, Comparison, MetricKind, MetricResponse, Statistic};
use skein_model::stats::{quantile_sorted, welch_t_test, Moments};

/// Midnight UTC: trace k of a variant starts 2k hours after it (k < 12 on the first day).
const DAY_NS: u64 = 86_400_000_000_000;
const START_NS: u64 = 20_782 * DAY_NS;
const HOUR_NS: u64 = 3_600_000_000_000;
const TRACES: u64 = 20;

fn span_id(variant: &str, k: u64) -> String {
    let base = if variant == "A" { 0xa000 } else { 0xb000 };
    format!("{:016x}", base + k)
}

/// Trace k lasts 10(k + 1) ms in A and 15(k + 1) ms in B.
fn duration_ms(variant: &str, k: u64) -> f64 {
    (if variant == "A" { 10 } else { 15 } * (k + 1)) as f64
}

/// A sale ($150) in A for every fourth trace, in B for every third; 0 for the others.
fn value(variant: &str, k: u64) -> f64 {
    let every = if variant == "A" { 4 } else { 3 };
    if k.is_multiple_of(every) {
        150.0
    } else {
        0.0
    }
}

async fn metric(collector: &Collector, query: &str) -> MetricResponse {
    let body = get_json(&collector.url(&format!("/api/v1/metrics?{query}"))).await;
    serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{query}: not a MetricResponse ({e}): {body}"))
}

fn group<'a>(r: &'a MetricResponse, value: &str) -> &'a metrics::MetricGroup {
    r.groups
        .iter()
        .find(|g| g.value.as_deref() == Some(value))
        .expect("a group per variant")
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

#[tokio::test]
async fn sums_quantiles_and_threshold_rates_per_variant() {
    let collector = Collector::start();
    let mut spans = Vec::new();
    for variant in ["A", "B"] {
        for k in 0..TRACES {
            let start = START_NS + 2 * k * HOUR_NS + u64::from(variant == "B") * 60_000_000_000;
            let id = span_id(variant, k);
            spans.push(json!({
                "traceId": format!("{id:0>32}"),
                "spanId": id,
                "name": "checkout",
                "kind": 2,
                "startTimeUnixNano": start.to_string(),
                "endTimeUnixNano": (start + duration_ms(variant, k) as u64 * 1_000_000).to_string(),
                "attributes": [{"key": "ab_test_variant", "value": {"stringValue": variant}}],
            }));
        }
    }
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]});
    let response = client()
        .post(collector.url("/v1/traces"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    wait_for_traces(&collector, "", 2 * TRACES).await;
    for variant in ["A", "B"] {
        for k in 0..TRACES {
            let body = json!({"run_id": span_id(variant, k), "key": "business_value", "score": value(variant, k)});
            let response = client()
                .post(collector.url("/api/v1/feedback"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }
    }

    // Total business value per variant per day, and per trace B − A with its CI.
    let r = metric(
        &collector,
        "metric=feedback:business_value&group_by=ab_test_variant&statistic=sum&bucket=1d",
    )
    .await;
    assert_eq!(r.statistic, Statistic::Sum);
    assert_eq!(r.bucket_ms, 86_400_000);
    for variant in ["A", "B"] {
        let g = group(&r, variant);
        let per_day = |day: u64| -> f64 {
            (0..TRACES)
                .filter(|k| (2 * k) / 24 == day)
                .map(|k| value(variant, k))
                .sum()
        };
        let sums: Vec<(i64, f64)> = g.series.iter().map(|p| (p.start_ms, p.sum)).collect();
        let day_ms = (START_NS / 1_000_000) as i64;
        assert_eq!(
            sums,
            vec![(day_ms, per_day(0)), (day_ms + 86_400_000, per_day(1))],
            "{variant}"
        );
        close(
            g.headline(Statistic::Sum).unwrap(),
            per_day(0) + per_day(1),
            "total",
        );
    }
    let values = |v: &str| -> Vec<f64> { (0..TRACES).map(|k| value(v, k)).collect() };
    let want = welch_t_test(
        &Moments::from_values(&values("B")),
        &Moments::from_values(&values("A")),
    )
    .unwrap();
    match metrics::compare(r.kind, group(&r, "B"), group(&r, "A")) {
        Some(Ok(Comparison::Welch(d))) => {
            close(
                d.difference,
                150.0 * (7.0 - 5.0) / 20.0,
                "value per trace B − A",
            );
            close(d.ci.low, want.ci.low, "CI low");
            close(d.ci.high, want.ci.high, "CI high");
        }
        other => panic!("expected a Welch test, got {other:?}"),
    }

    // The p95 of the trace duration, per variant and per day.
    let r = metric(
        &collector,
        "metric=latency_mean&group_by=ab_test_variant&statistic=p95&bucket=1d",
    )
    .await;
    assert_eq!(r.statistic, Statistic::P95);
    for variant in ["A", "B"] {
        let g = group(&r, variant);
        let all: Vec<f64> = (0..TRACES).map(|k| duration_ms(variant, k)).collect();
        close(
            g.headline(Statistic::P95).unwrap(),
            quantile_sorted(&all, 0.95).unwrap(),
            "p95",
        );
        let day_one: Vec<f64> = (0..12).map(|k| duration_ms(variant, k)).collect();
        close(
            g.series[0].headline(Statistic::P95).unwrap(),
            quantile_sorted(&day_one, 0.95).unwrap(),
            "first day's p95",
        );
    }

    // The share of traces lasting 100 ms or more.
    let r = metric(
        &collector,
        "metric=latency_mean&group_by=ab_test_variant&threshold=100",
    )
    .await;
    assert_eq!(r.kind, MetricKind::Rate);
    assert_eq!(r.threshold, Some(100.0));
    for variant in ["A", "B"] {
        let g = group(&r, variant);
        let reached = (0..TRACES)
            .filter(|k| duration_ms(variant, *k) >= 100.0)
            .count() as f64;
        assert_eq!(g.n, TRACES);
        close(g.mean, reached / TRACES as f64, "rate");
    }

    // Without a statistic, the answer is the metric's own, as before.
    let r = metric(&collector, "metric=latency_mean&group_by=ab_test_variant").await;
    assert_eq!(r.statistic, Statistic::Mean);
    assert!(r.threshold.is_none());
    let response = client()
        .get(collector.url("/api/v1/metrics?metric=cost&statistic=median"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}
