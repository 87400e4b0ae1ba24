//! Metrics over spans (`over=spans`) and groups split by a second key (`then_by`): every
//! number checked against the test's own computation over the spans it wrote.

use std::sync::Arc;

use skein_model::metrics::{MetricGroup, MetricKind, MetricQuery, MetricResponse, Over};
use skein_model::span::{Span, SpanStatus, SpanType};
use skein_model::stats::quantile_sorted;

use super::{span, trace_hex};
use crate::store::Store;

fn query(text: &str) -> MetricQuery {
    MetricQuery::from_query_string(text).expect("a metric query")
}

const MODELS: [&str; 2] = ["gpt-4o", "claude"];
const TIERS: [&str; 3] = ["free", "pro", "team"];

/// Trace i (variant A for even i, B for odd; tier `TIERS[i % 3]`): a root agent, two LLM calls
/// (model `MODELS[(i + k) % 2]`, lasting 2 + i + 3k ms, 5(i + k) input tokens, the second
/// reporting `retrieval.documents` = i + 1) and a tool call failing in every third trace.
fn trace(i: i64) -> Vec<Span> {
    let id = trace_hex(i);
    let mut root = span("1", "1", None, i * 100);
    root.trace_id = id.clone();
    root.span_type = SpanType::Agent;
    root.end_ns = root.start_ns + 50_000_000;
    root.tags
        .insert("variant".into(), if i % 2 == 0 { "A" } else { "B" }.into());
    root.tags
        .insert("tier".into(), TIERS[(i % 3) as usize].into());
    let mut spans = vec![root];
    for k in 0..2 {
        let mut llm = span("1", &format!("{}", k + 2), Some("1"), i * 100 + 1);
        llm.trace_id = id.clone();
        llm.name = "chat".into();
        llm.span_type = SpanType::Llm;
        llm.model = Some(MODELS[((i + k) % 2) as usize].into());
        llm.end_ns = llm.start_ns + (2 + i + 3 * k) * 1_000_000;
        llm.input_tokens = Some(5 * (i + k));
        llm.output_tokens = Some(1);
        if k == 1 {
            llm.attributes
                .insert("retrieval.documents".into(), serde_json::json!(i + 1));
        }
        spans.push(llm);
    }
    let mut tool = span("1", "4", Some("1"), i * 100 + 10);
    tool.trace_id = id;
    tool.name = "search".into();
    tool.span_type = SpanType::Tool;
    if i % 3 == 0 {
        tool.status = SpanStatus::Error;
    }
    spans.push(tool);
    spans
}

const TRACES: i64 = 12;

/// The LLM durations (ms) of the traces passing `keep`, by model.
fn llm_ms(model: &str, keep: impl Fn(i64) -> bool) -> Vec<f64> {
    let mut out: Vec<f64> = (0..TRACES)
        .filter(|i| keep(*i))
        .flat_map(|i| (0..2).map(move |k| (i, k)))
        .filter(|(i, k)| MODELS[((i + k) % 2) as usize] == model)
        .map(|(i, k)| (2 + i + 3 * k) as f64)
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

fn group<'a>(r: &'a MetricResponse, value: &str, then: Option<&str>) -> &'a MetricGroup {
    r.groups
        .iter()
        .find(|g| g.value.as_deref() == Some(value) && g.then.as_deref() == then)
        .unwrap_or_else(|| panic!("a group {value} {then:?} in {:?}", r.groups))
}

fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-9, "{what}: got {got}, want {want}");
}

pub async fn span_metrics_measure_the_spans_a_filter_selects(store: Arc<dyn Store>) {
    let spans = (0..TRACES).flat_map(trace).collect();
    store.write_spans(spans).await.unwrap();

    // LLM latency p95 by model.
    let r = store
        .metrics(
            "p",
            &query(r#"metric=latency_p95&over=spans&group_by=span.model&filter=eq(type, "llm")"#),
        )
        .await
        .unwrap();
    assert_eq!(r.over, Over::Spans);
    assert_eq!(r.groups.len(), 2, "{:?}", r.groups);
    for model in MODELS {
        let want = llm_ms(model, |_| true);
        let g = group(&r, model, None);
        assert_eq!(g.n, want.len() as u64, "{model}");
        close(g.sum, want.iter().sum(), model);
        let q = g.quantiles.expect("quantiles");
        close(q.p95, quantile_sorted(&want, 0.95).unwrap(), model);
        close(q.p50, quantile_sorted(&want, 0.5).unwrap(), model);
    }

    // Tool error rate by tool: one of every three traces' tool call fails.
    let r = store
        .metrics(
            "p",
            &query(r#"metric=error_rate&over=spans&group_by=span.name&filter=eq(type, "tool")"#),
        )
        .await
        .unwrap();
    assert_eq!(r.kind, MetricKind::Rate);
    let g = group(&r, "search", None);
    assert_eq!((g.n, g.sum), (TRACES as u64, (TRACES / 3) as f64));

    // Spans by type, counted; over the whole project without a filter.
    let r = store
        .metrics("p", &query("metric=count&over=spans&group_by=span.type"))
        .await
        .unwrap();
    assert_eq!(r.unit, "spans");
    for (kind, n) in [("llm", 2 * TRACES), ("tool", TRACES), ("agent", TRACES)] {
        assert_eq!(group(&r, kind, None).n, n as u64, "{kind}");
    }

    // A numeric attribute, by the trace's variant: only spans having it count.
    let r = store
        .metrics(
            "p",
            &query("metric=attr:retrieval.documents&over=spans&group_by=variant&statistic=sum"),
        )
        .await
        .unwrap();
    for (variant, parity) in [("A", 0), ("B", 1)] {
        let want: Vec<f64> = (0..TRACES)
            .filter(|i| i % 2 == parity)
            .map(|i| (i + 1) as f64)
            .collect();
        let g = group(&r, variant, None);
        assert_eq!(g.n, want.len() as u64);
        close(g.sum, want.iter().sum(), variant);
    }

    // Tokens of the LLM spans of B's traces (a tag filter on the trace), by model.
    let r = store
        .metrics(
            "p",
            &query(
                r#"metric=input_tokens&over=spans&tag=variant=B&group_by=span.model&filter=eq(type, "llm")"#,
            ),
        )
        .await
        .unwrap();
    let want: f64 = (0..TRACES)
        .filter(|i| i % 2 == 1)
        .flat_map(|i| (0..2).map(move |k| (i, k)))
        .filter(|(i, k)| (i + k) % 2 == 0)
        .map(|(i, k)| (5 * (i + k)) as f64)
        .sum();
    close(group(&r, "gpt-4o", None).sum, want, "B's gpt-4o tokens");

    // By variant then tier: each pair's LLM latency, the A/B pair within each tier.
    let r = store
        .metrics(
            "p",
            &query(
                r#"metric=latency_mean&over=spans&group_by=variant&then_by=tier&filter=eq(type, "llm")"#,
            ),
        )
        .await
        .unwrap();
    assert_eq!(r.then_by.as_deref(), Some("tier"));
    assert_eq!(r.groups.len(), 6);
    for (t, tier) in TIERS.iter().enumerate() {
        for (variant, parity) in [("A", 0), ("B", 1)] {
            let keep = |i: i64| i % 2 == parity && i % 3 == t as i64;
            let want: Vec<f64> = MODELS.iter().flat_map(|m| llm_ms(m, keep)).collect();
            let g = group(&r, variant, Some(tier));
            assert_eq!(g.n, want.len() as u64, "{variant} {tier}");
            close(g.mean, want.iter().sum::<f64>() / want.len() as f64, tier);
        }
    }

    // A span filter the engine cannot read is refused, naming the parameter.
    let unreadable = MetricQuery {
        filter: Some("eq(nofield, 1)".into()),
        ..query("metric=count&over=spans")
    };
    let err = store.metrics("p", &unreadable).await;
    assert!(err.is_err(), "{err:?}");
}

pub async fn trace_metrics_split_by_a_second_tag(store: Arc<dyn Store>) {
    let spans = (0..TRACES).flat_map(trace).collect();
    store.write_spans(spans).await.unwrap();
    let r = store
        .metrics(
            "p",
            &query("metric=input_tokens&group_by=variant&then_by=tier&statistic=sum"),
        )
        .await
        .unwrap();
    assert_eq!(r.groups.len(), 6);
    for (t, tier) in TIERS.iter().enumerate() {
        for (variant, parity) in [("A", 0), ("B", 1)] {
            let traces: Vec<i64> = (0..TRACES)
                .filter(|i| i % 2 == parity && i % 3 == t as i64)
                .collect();
            // A trace counts its LLM calls' tokens: 5i + 5(i + 1).
            let want: f64 = traces.iter().map(|i| (10 * i + 5) as f64).sum();
            let g = group(&r, variant, Some(tier));
            assert_eq!(g.n, traces.len() as u64, "{variant} {tier}");
            close(g.sum, want, &format!("{variant} {tier}"));
        }
    }
}
