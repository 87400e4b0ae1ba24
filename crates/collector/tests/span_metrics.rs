//! `GET /api/v1/metrics` over spans and by two tags, over HTTP against the real binary on
//! SQLite and on ClickHouse: LLM latency p95 by model, tool error rate by tool, a numeric
//! span attribute per variant with its CI, and variant × tier with the A/B test within each
//! tier, each checked against the test's own computation over the spans it sent.

mod common;

#[path = "../src/store/clickhouse/testserver.rs"]
mod testserver;

use common::{client, get_json, wait_for_traces, Collector};
use serde_json::{json, Value};
use skein_model::metrics::{self, Comparison, MetricGroup, MetricResponse, Over};
use skein_model::stats::{mean_ci, quantile_sorted, welch_t_test, Moments};

const START_NS: u64 = 20_782 * 86_400_000_000_000;
const TRACES: u64 = 60;
const MODELS: [&str; 3] = ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"];
const TOOLS: [&str; 2] = ["web_search", "calculator"];
const TIERS: [&str; 2] = ["free", "pro"];

fn variant(t: u64) -> &'static str {
    if t.is_multiple_of(2) {
        "A"
    } else {
        "B"
    }
}

fn tier(t: u64) -> &'static str {
    TIERS[((t / 2) % 2) as usize]
}

/// The LLM call k (0..3) of trace t: its model and duration in ms (B slower on pro).
fn llm(t: u64, k: u64) -> (&'static str, u64) {
    let slow = u64::from(variant(t) == "B") * (if tier(t) == "pro" { 40 } else { 5 });
    (
        MODELS[((t + k) % 3) as usize],
        20 + (t * 7 + k * 13) % 50 + slow,
    )
}

/// The tool call of trace t: which tool, and whether it failed.
fn tool(t: u64) -> (&'static str, bool) {
    let name = TOOLS[(t % 2) as usize];
    (
        name,
        if name == "web_search" {
            t.is_multiple_of(4)
        } else {
            t.is_multiple_of(5)
        },
    )
}

/// The documents the retriever of trace t found.
fn documents(t: u64) -> u64 {
    (t * 3) % 11 + u64::from(variant(t) == "B") * 2
}

fn span_json(
    t: u64,
    id: u64,
    parent: Option<u64>,
    name: &str,
    ms: (u64, u64),
    attrs: Value,
    error: bool,
) -> Value {
    let start = START_NS + t * 60_000_000_000 + ms.0 * 1_000_000;
    let mut span = json!({
        "traceId": format!("{:032x}", t + 1),
        "spanId": format!("{:016x}", (t + 1) * 16 + id),
        "name": name,
        "kind": 1,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": (start + ms.1 * 1_000_000).to_string(),
        "attributes": attrs,
    });
    if let Some(p) = parent {
        span["parentSpanId"] = json!(format!("{:016x}", (t + 1) * 16 + p));
    }
    if error {
        span["status"] = json!({"code": 2, "message": "failed"});
    }
    span
}

fn kv(key: &str, value: Value) -> Value {
    let value = match value {
        Value::String(s) => json!({"stringValue": s}),
        Value::Number(n) => json!({"intValue": n.to_string()}),
        other => other,
    };
    json!({"key": key, "value": value})
}

fn otlp_body() -> Value {
    let mut spans = Vec::new();
    for t in 0..TRACES {
        spans.push(span_json(
            t,
            0,
            None,
            "agent",
            (0, 500),
            json!([
                kv("openinference.span.kind", json!("AGENT")),
                kv("ab_test_variant", json!(variant(t))),
                kv("user_tier", json!(tier(t))),
            ]),
            false,
        ));
        for k in 0..3 {
            let (model, ms) = llm(t, k);
            spans.push(span_json(
                t,
                1 + k,
                Some(0),
                "chat",
                (10 + 100 * k, ms),
                json!([
                    kv("openinference.span.kind", json!("LLM")),
                    kv("llm.model_name", json!(model)),
                ]),
                false,
            ));
        }
        let (name, failed) = tool(t);
        spans.push(span_json(
            t,
            5,
            Some(0),
            name,
            (350, 5),
            json!([kv("openinference.span.kind", json!("TOOL")),]),
            failed,
        ));
        spans.push(span_json(
            t,
            6,
            Some(0),
            "retrieve",
            (400, 5),
            json!([
                kv("openinference.span.kind", json!("RETRIEVER")),
                kv("retrieval.documents", json!(documents(t))),
            ]),
            false,
        ));
    }
    json!({"resourceSpans": [{"resource": {"attributes": [kv("service.name", json!("agents"))]},
        "scopeSpans": [{"spans": spans}]}]})
}

async fn metric(collector: &Collector, query: &str) -> MetricResponse {
    let body = get_json(&collector.url(&format!("/api/v1/metrics?{query}"))).await;
    serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{query}: not a MetricResponse ({e}): {body}"))
}

fn group<'a>(r: &'a MetricResponse, value: &str, then: Option<&str>) -> &'a MetricGroup {
    r.groups
        .iter()
        .find(|g| g.value.as_deref() == Some(value) && g.then.as_deref() == then)
        .unwrap_or_else(|| panic!("no group {value} {then:?} in {:?}", r.groups))
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

async fn span_metrics_answer_as_computed(collector: &Collector) {
    let response = client()
        .post(collector.url("/v1/traces"))
        .json(&otlp_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    wait_for_traces(collector, "", TRACES).await;
    // Spans of a trace may land after its first ones: wait for the last kind of span.
    for _ in 0..100 {
        let r = metric(collector, "metric=count&over=spans").await;
        if r.groups.first().map(|g| g.n) == Some(TRACES * 6) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // LLM latency p95 by model.
    let r = metric(
        collector,
        "metric=latency_p95&over=spans&group_by=span.model&filter=eq(type%2C%22llm%22)",
    )
    .await;
    assert_eq!(r.over, Over::Spans);
    assert_eq!(r.groups.len(), MODELS.len());
    for model in MODELS {
        let want = sorted(
            (0..TRACES)
                .flat_map(|t| (0..3).map(move |k| llm(t, k)))
                .filter(|(m, _)| *m == model)
                .map(|(_, ms)| ms as f64)
                .collect(),
        );
        let g = group(&r, model, None);
        assert_eq!(g.n, want.len() as u64, "{model}");
        close(
            g.headline(r.statistic).unwrap(),
            quantile_sorted(&want, 0.95).unwrap(),
            model,
        );
    }

    // Tool error rate by tool.
    let r = metric(
        collector,
        "metric=error_rate&over=spans&group_by=span.name&filter=eq(type%2C%22tool%22)",
    )
    .await;
    for name in TOOLS {
        let calls: Vec<bool> = (0..TRACES)
            .map(tool)
            .filter(|(n, _)| *n == name)
            .map(|(_, f)| f)
            .collect();
        let g = group(&r, name, None);
        assert_eq!(g.n, calls.len() as u64, "{name}");
        close(
            g.mean,
            calls.iter().filter(|f| **f).count() as f64 / calls.len() as f64,
            name,
        );
    }

    // A numeric attribute per variant, with its CI.
    let r = metric(
        collector,
        "metric=attr%3Aretrieval.documents&over=spans&group_by=ab_test_variant",
    )
    .await;
    for v in ["A", "B"] {
        let values: Vec<f64> = (0..TRACES)
            .filter(|t| variant(*t) == v)
            .map(|t| documents(t) as f64)
            .collect();
        let g = group(&r, v, None);
        let m = Moments::from_values(&values);
        close(g.mean, m.mean().unwrap(), v);
        let (got, want) = (g.ci.expect("a CI"), mean_ci(&m).unwrap());
        close(got.low, want.low, "CI low");
        close(got.high, want.high, "CI high");
    }

    // Variant × tier: B − A within each tier, as Welch's test over the test's own values.
    let r = metric(collector, "metric=latency_mean&over=spans&group_by=ab_test_variant&then_by=user_tier&filter=eq(type%2C%22llm%22)").await;
    assert_eq!(r.groups.len(), 4);
    for tier_name in TIERS {
        let values = |v: &str| -> Vec<f64> {
            (0..TRACES)
                .filter(|t| variant(*t) == v && tier(*t) == tier_name)
                .flat_map(|t| (0..3).map(move |k| llm(t, k).1 as f64))
                .collect()
        };
        let (a, b) = (
            group(&r, "A", Some(tier_name)),
            group(&r, "B", Some(tier_name)),
        );
        let want = welch_t_test(
            &Moments::from_values(&values("B")),
            &Moments::from_values(&values("A")),
        )
        .unwrap();
        match metrics::compare(r.kind, b, a) {
            Some(Ok(Comparison::Welch(d))) => {
                close(d.difference, want.difference, tier_name);
                close(d.p_value, want.p_value, "p");
                close(d.ci.low, want.ci.low, "CI low");
            }
            other => panic!("expected a Welch test, got {other:?}"),
        }
    }

    // What a unit cannot measure is a 400 naming it.
    for query in [
        "metric=attr%3Aretrieval.documents",
        "metric=feedback%3Ascore&over=spans",
        "metric=count&over=spans&filter=eq(nofield%2C1)",
    ] {
        let response = client()
            .get(collector.url(&format!("/api/v1/metrics?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
    }
}

#[tokio::test]
async fn span_metrics_on_sqlite() {
    span_metrics_answer_as_computed(&Collector::start()).await;
}

#[tokio::test]
async fn span_metrics_on_clickhouse() {
    let server = testserver::server();
    let collector = Collector::start_with(&[
        "--clickhouse-url",
        &server.url,
        "--clickhouse-database",
        &testserver::fresh_database(),
    ]);
    span_metrics_answer_as_computed(&collector).await;
}
