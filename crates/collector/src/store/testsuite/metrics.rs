//! Metrics: the numbers a chart and an A/B comparison are drawn from.

use std::sync::Arc;

use skein_model::metrics::{MetricKind, MetricQuery, Statistic};
use skein_model::span::SpanStatus;
use skein_model::stats::quantile_sorted;
use skein_model::NewFeedback;

use super::{span, trace_hex};
use crate::store::Store;

fn query(text: &str) -> MetricQuery {
    MetricQuery::from_query_string(text).expect("a metric query")
}

/// Trace i lasts `ms[i]`, tagged `variant` A for even i, B for odd, failing where asked.
async fn traces(store: &Arc<dyn Store>, ms: &[i64], failed: &[usize]) -> Vec<String> {
    let mut ids = Vec::new();
    let spans = ms
        .iter()
        .enumerate()
        .map(|(i, ms)| {
            let mut s = span("1", "1", None, i as i64);
            s.trace_id = trace_hex(i as i64);
            s.end_ns = s.start_ns + ms * 1_000_000;
            s.tags
                .insert("variant".into(), if i % 2 == 0 { "A" } else { "B" }.into());
            if failed.contains(&i) {
                s.status = SpanStatus::Error;
            }
            s.input_tokens = Some(10 * (i as i64 + 1));
            ids.push(s.span_id.clone());
            s
        })
        .collect();
    store.write_spans(spans).await.unwrap();
    ids
}

pub async fn quantiles_and_moments_are_exact(store: Arc<dyn Store>) {
    traces(&store, &[1, 2, 3, 4, 10], &[]).await;
    let answer = store
        .metrics("p", &query("metric=latency_p50"))
        .await
        .unwrap();
    assert_eq!(answer.groups.len(), 1);
    let g = &answer.groups[0];
    assert_eq!(g.n, 5);
    assert!((g.sum - 20.0).abs() < 1e-9, "{}", g.sum);
    assert!((g.sum_sq - 130.0).abs() < 1e-9, "{}", g.sum_sq);
    assert!((g.mean - 4.0).abs() < 1e-9);
    let q = g.quantiles.expect("quantiles");
    assert_eq!(
        (q.min, q.p25, q.p50, q.p75, q.max),
        (1.0, 2.0, 3.0, 4.0, 10.0)
    );
    assert!((q.p95 - 8.8).abs() < 1e-9, "{}", q.p95);
    let histogram = g.histogram.as_ref().expect("histogram");
    assert_eq!(histogram.counts.iter().sum::<u64>() + histogram.above, 5);
    let total: u64 = g.series.iter().map(|p| p.n).sum();
    assert_eq!(total, 5);
}

pub async fn metrics_group_by_tag_and_filter(store: Arc<dyn Store>) {
    traces(&store, &[1, 2, 3, 4, 5, 6], &[1, 3]).await;
    let answer = store
        .metrics("p", &query("metric=error_rate&group_by=variant"))
        .await
        .unwrap();
    let rate = |v: &str| {
        let g = answer
            .groups
            .iter()
            .find(|g| g.value.as_deref() == Some(v))
            .expect("group");
        (g.n, g.mean)
    };
    assert_eq!(rate("A").0, 3);
    assert!(rate("A").1.abs() < 1e-12);
    assert_eq!(rate("B").0, 3);
    assert!((rate("B").1 - 2.0 / 3.0).abs() < 1e-12);
    let tokens = store
        .metrics("p", &query("metric=input_tokens&tag=variant=B"))
        .await
        .unwrap();
    assert_eq!(tokens.groups.len(), 1);
    assert_eq!(tokens.groups[0].n, 3);
    assert!((tokens.groups[0].sum - (20.0 + 40.0 + 60.0)).abs() < 1e-9);
    let count = store
        .metrics("other", &query("metric=count"))
        .await
        .unwrap();
    assert!(count.groups.iter().all(|g| g.n == 0), "{:?}", count.groups);
}

pub async fn feedback_metrics_average_per_trace(store: Arc<dyn Store>) {
    let runs = traces(&store, &[1, 1, 1], &[]).await;
    let _ = runs;
    // Trace 0 gets 1.0 and 0.0 (mean 0.5), trace 1 gets 1.0; trace 2 none.
    let spans = store
        .list_traces("p", &Default::default())
        .await
        .unwrap()
        .traces;
    let root_of = |i: i64| {
        spans
            .iter()
            .find(|t| t.trace_id == trace_hex(i))
            .and_then(|t| t.root_span_id.clone())
            .expect("root")
    };
    for (i, score) in [(0, 1.0), (0, 0.0), (1, 1.0)] {
        let f = NewFeedback {
            run_id: root_of(i),
            trace_id: Some(trace_hex(i)),
            key: "helpful".into(),
            score: Some(score),
            ..NewFeedback::default()
        };
        store.create_feedback("p", f).await.unwrap();
    }
    let answer = store
        .metrics("p", &query("metric=feedback:helpful"))
        .await
        .unwrap();
    assert_eq!(answer.groups.len(), 1);
    let g = &answer.groups[0];
    assert_eq!(g.n, 2, "one value per trace with feedback");
    assert!((g.mean - 0.75).abs() < 1e-12);
}

pub async fn statistics_sums_and_thresholds_are_exact(store: Arc<dyn Store>) {
    // Traces 0..12 last 1..12 ms (A even, B odd) with 10·(i+1) input tokens, one per ms.
    let ms: Vec<i64> = (1..=12).collect();
    traces(&store, &ms, &[]).await;
    let group = |answer: &skein_model::metrics::MetricResponse, v: &str| {
        answer
            .groups
            .iter()
            .find(|g| g.value.as_deref() == Some(v))
            .cloned()
            .expect("group")
    };
    let tokens = |b: bool| -> Vec<f64> {
        (0..12)
            .filter(|i| (i % 2 == 1) == b)
            .map(|i| 10.0 * f64::from(i + 1))
            .collect()
    };

    // The total per variant, and per bucket (all in the first minute: one bucket).
    let sum = store
        .metrics(
            "p",
            &query("metric=input_tokens&group_by=variant&statistic=sum&bucket=1d"),
        )
        .await
        .unwrap();
    assert_eq!(sum.statistic, Statistic::Sum);
    let a = group(&sum, "A");
    assert_eq!(a.headline(Statistic::Sum), Some(tokens(false).iter().sum()));
    assert_eq!(
        a.series.iter().map(|p| p.sum).sum::<f64>(),
        tokens(false).iter().sum::<f64>()
    );
    assert!(
        a.series.iter().all(|p| p.p50.is_none()),
        "no quantiles for a sum"
    );

    // p95 and p99 of each variant and bucket, as numpy would interpolate them.
    for (text, stat, q) in [("p95", Statistic::P95, 0.95), ("p99", Statistic::P99, 0.99)] {
        let answer = store
            .metrics(
                "p",
                &query(&format!(
                    "metric=input_tokens&group_by=variant&statistic={text}&bucket=1d"
                )),
            )
            .await
            .unwrap();
        assert_eq!(answer.statistic, stat);
        let b = group(&answer, "B");
        let want = quantile_sorted(&tokens(true), q).unwrap();
        assert!((b.headline(stat).unwrap() - want).abs() < 1e-9, "{text}");
        assert_eq!(b.series.len(), 1);
        let point = b.series[0].headline(stat).expect("a bucket quantile");
        assert!((point - want).abs() < 1e-9, "{text} per bucket");
    }

    // The share of traces lasting 8 ms or more: 8..12 ms, i.e. 5 of 12 (A: 9, 11; B: 8, 10, 12).
    let rate = store
        .metrics(
            "p",
            &query("metric=latency_mean&group_by=variant&threshold=8"),
        )
        .await
        .unwrap();
    assert_eq!(rate.kind, MetricKind::Rate);
    assert_eq!(rate.threshold, Some(8.0));
    let (a, b) = (group(&rate, "A"), group(&rate, "B"));
    assert_eq!((a.n, a.sum), (6, 2.0));
    assert_eq!((b.n, b.sum), (6, 3.0));
    assert!(a.ci.is_none() || a.ci.is_some_and(|ci| ci.contains(a.mean)));
}
