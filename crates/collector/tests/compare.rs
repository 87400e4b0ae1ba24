//! `GET /api/v1/compare/cohorts` over HTTP against the real binary: two variants sent over
//! OTLP/JSON, B with a slower `execution_agent`, and every figure of the table checked against
//! a computation over the spans the test sent.

mod common;

use common::{client, get_json, wait_for_traces, Collector};
use serde_json::json;
use skein_model::cohort::{CohortCell, CohortComparison, CohortRow, Significance};
use skein_model::stats::{quantile_sorted, welch_t_test, Moments};
use skein_model::SpanType;

/// Trace k of a variant starts k minutes after this (k < 30 for A, 30 + k for B).
const START_NS: u64 = 1_795_600_000_000_000_000;
const MINUTE_NS: u64 = 60_000_000_000;
const MS_NS: u64 = 1_000_000;
const TRACES: u64 = 30;

/// The spans of one trace, in ms from its start: `planner` (LLM, 20 + k ms, 100 + k input
/// tokens), then `execution_agent` (A: 100 + 2k ms, B: 300 + 5k ms) holding a `search` tool
/// call of 30 + k mod 5 ms that fails in B when k mod 5 is 0, then 5 ms of the root's own.
struct Shape {
    planner_ms: u64,
    agent_ms: u64,
    search_ms: u64,
    search_fails: bool,
}

fn shape(variant: &str, k: u64) -> Shape {
    let b = variant == "B";
    Shape {
        planner_ms: 20 + k,
        agent_ms: if b { 300 + 5 * k } else { 100 + 2 * k },
        search_ms: 30 + k % 5,
        search_fails: b && k.is_multiple_of(5),
    }
}

fn otlp_span(
    trace: u64,
    id: u64,
    parent: Option<u64>,
    name: &str,
    kind: &str,
    (start_ms, end_ms): (u64, u64),
    extra: &[(&str, serde_json::Value)],
) -> serde_json::Value {
    let t0 = START_NS + trace * MINUTE_NS;
    let mut attributes =
        vec![json!({"key": "openinference.span.kind", "value": {"stringValue": kind}})];
    for (k, v) in extra {
        attributes.push(json!({"key": k, "value": v}));
    }
    let mut span = json!({
        "traceId": format!("{:032x}", 0xc0_0000 + trace),
        "spanId": format!("{:016x}", (0xc0_0000 + trace) * 16 + id),
        "name": name,
        "kind": 1,
        "startTimeUnixNano": (t0 + start_ms * MS_NS).to_string(),
        "endTimeUnixNano": (t0 + end_ms * MS_NS).to_string(),
        "status": {"code": 1},
        "attributes": attributes,
    });
    if let Some(p) = parent {
        span["parentSpanId"] = json!(format!("{:016x}", (0xc0_0000 + trace) * 16 + p));
    }
    span
}

fn trace_spans(variant: &str, trace: u64, k: u64) -> Vec<serde_json::Value> {
    let s = shape(variant, k);
    let plan_end = s.planner_ms;
    let agent_end = plan_end + s.agent_ms;
    let search = (plan_end + 10, plan_end + 10 + s.search_ms);
    let mut search_span = otlp_span(trace, 4, Some(3), "search", "TOOL", search, &[]);
    if s.search_fails {
        search_span["status"]["code"] = json!(2);
    }
    vec![
        otlp_span(
            trace,
            1,
            None,
            "handle_request",
            "CHAIN",
            (0, agent_end + 5),
            &[("ab_test_variant", json!({"stringValue": variant}))],
        ),
        otlp_span(
            trace,
            2,
            Some(1),
            "planner",
            "LLM",
            (0, plan_end),
            &[
                (
                    "gen_ai.usage.input_tokens",
                    json!({"intValue": (100 + k).to_string()}),
                ),
                ("gen_ai.usage.output_tokens", json!({"intValue": "20"})),
            ],
        ),
        otlp_span(
            trace,
            3,
            Some(1),
            "execution_agent",
            "AGENT",
            (plan_end, agent_end),
            &[],
        ),
        search_span,
    ]
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn row<'a>(c: &'a CohortComparison, name: &str) -> &'a CohortRow {
    c.rows.iter().find(|r| r.name == name).expect(name)
}

fn cell(c: &Option<CohortCell>) -> &CohortCell {
    c.as_ref().expect("a cell for the cohort")
}

#[tokio::test]
async fn the_cohort_table_finds_where_b_spends_its_extra_time() {
    let collector = Collector::start();
    let mut spans = Vec::new();
    for k in 0..TRACES {
        spans.extend(trace_spans("A", k, k));
        spans.extend(trace_spans("B", TRACES + k, k));
    }
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeSpans": [{"spans": spans}]
    }]});
    let response = client()
        .post(collector.url("/v1/traces"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    wait_for_traces(&collector, "", 2 * TRACES).await;

    let url = collector.url(
        "/api/v1/compare/cohorts?a.tag=ab_test_variant%3DA&b.tag=ab_test_variant%3DB&by=duration",
    );
    let body = get_json(&url).await;
    let c: CohortComparison = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("not a CohortComparison ({e}): {body}"));
    assert_eq!((c.a.traces, c.b.traces), (TRACES, TRACES));

    let per_variant = |v: &str, f: &dyn Fn(&Shape) -> f64| -> Vec<f64> {
        (0..TRACES).map(|k| f(&shape(v, k))).collect()
    };
    // The whole traces: planner + agent + 5 ms.
    let trace_ms = |s: &Shape| (s.planner_ms + s.agent_ms + 5) as f64;
    close(
        c.a.duration_ms,
        mean(&per_variant("A", &trace_ms)),
        "A's trace mean",
    );
    close(
        c.difference.duration_ms.difference(),
        mean(&per_variant("B", &trace_ms)) - mean(&per_variant("A", &trace_ms)),
        "B − A per trace",
    );

    // execution_agent first: its self time (less the search inside it) is all of B's extra.
    let names: Vec<&str> = c.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names[0], "execution_agent", "{names:?}");
    let agent = &c.rows[0];
    assert_eq!(agent.span_type, SpanType::Agent);
    assert_eq!(agent.service, "shop");
    let agent_ms = |s: &Shape| s.agent_ms as f64;
    let agent_self = |s: &Shape| (s.agent_ms - s.search_ms) as f64;
    for (v, got) in [("A", cell(&agent.a)), ("B", cell(&agent.b))] {
        let mut durations = per_variant(v, &agent_ms);
        durations.sort_by(f64::total_cmp);
        close(
            got.p50_ms.unwrap(),
            quantile_sorted(&durations, 0.5).unwrap(),
            "p50",
        );
        close(
            got.p95_ms.unwrap(),
            quantile_sorted(&durations, 0.95).unwrap(),
            "p95",
        );
        close(
            got.mean_self_ms.unwrap(),
            mean(&per_variant(v, &agent_self)),
            "self",
        );
        close(got.spans_per_trace, 1.0, "spans per trace");
        assert_eq!(got.traces, TRACES);
    }
    let (self_a, self_b) = (per_variant("A", &agent_self), per_variant("B", &agent_self));
    close(
        agent.contribution,
        mean(&self_b) - mean(&self_a),
        "contribution",
    );
    let welch = welch_t_test(
        &Moments::from_values(&self_b),
        &Moments::from_values(&self_a),
    )
    .unwrap();
    match &agent.self_ms_per_trace {
        Significance::Tested { ci, p_value, .. } => {
            close(ci.low, welch.ci.low, "CI low");
            close(ci.high, welch.ci.high, "CI high");
            close(*p_value, welch.p_value, "p");
            assert!(*p_value < 1e-9);
        }
        other => panic!("expected a test, got {other:?}"),
    }

    // The other names add nothing to the difference; the search fails 6 times in 30 in B.
    let planner = row(&c, "planner");
    assert_eq!(planner.span_type, SpanType::Llm);
    close(planner.contribution, 0.0, "planner");
    let tokens = |s: &Shape| (s.planner_ms - 20 + 100 + 20) as f64;
    close(
        cell(&planner.b).tokens_per_trace,
        mean(&per_variant("B", &tokens)),
        "tokens",
    );
    let search = row(&c, "search");
    assert_eq!((cell(&search.a).errors, cell(&search.b).errors), (0, 6));
    close(cell(&search.b).error_rate.unwrap(), 0.2, "error rate");
    close(
        cell(&row(&c, "handle_request").a).mean_self_ms.unwrap(),
        5.0,
        "root self",
    );

    // Sorted by errors, the search comes first.
    let by_errors: CohortComparison =
        serde_json::from_value(get_json(&url.replace("by=duration", "by=errors")).await).unwrap();
    assert_eq!(by_errors.rows[0].name, "search");
    close(by_errors.rows[0].contribution, 0.2, "errors per trace");

    // A filter the list would refuse is a 400 naming the cohort's parameter.
    let response = client()
        .get(collector.url("/api/v1/compare/cohorts?a.tag=ab_test_variant%3DA&b.from=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap_or("").contains("b.from"),
        "{error}"
    );
}
