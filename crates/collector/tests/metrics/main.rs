//! `GET /api/v1/metrics` and the trace list's feedback summary, over HTTP against the real
//! binary, on data the tests send themselves (spans over OTLP, feedback over the API), so that
//! every aggregate, interval and test result is known.

mod ab_test;
mod aggregates;
#[path = "../common/mod.rs"]
mod common;
mod feedback;

use common::{get_json, Collector};
use serde_json::json;
use skein_model::metrics::{self, MetricResponse};

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

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1e-12),
        "{what}: {got} vs {want}"
    );
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
