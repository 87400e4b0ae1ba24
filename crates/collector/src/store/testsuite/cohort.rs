//! Cohort compare: two filters compared span name by span name, each figure checked against a
//! computation over the spans the test wrote.

use std::sync::Arc;

use skein_model::cohort::{CohortCell, CohortComparison, CohortQuery, Significance};
use skein_model::span::{Span, SpanStatus};
use skein_model::stats::{quantile_sorted, welch_t_test, Moments};
use skein_model::SpanType;

use super::{base_ns, span, trace_hex};
use crate::store::Store;

const MS: i64 = 1_000_000;

/// A span of trace `i` named `name`, from `start` to `end` ms after `base_ns()`.
fn named(i: i64, id: &str, parent: Option<&str>, name: &str, start: i64, end: i64) -> Span {
    let mut s = span("1", id, parent, 0);
    s.trace_id = trace_hex(i);
    s.name = name.into();
    s.service = "app".into();
    s.start_ns = base_ns() + start * MS;
    s.end_ns = base_ns() + end * MS;
    s
}

/// Per trace k of a variant: `plan` (an LLM call, 10 + k ms, 100 + k tokens), then
/// `execution_agent` (A: 50 + 2k ms, B: 80 + 3k ms) holding a 20 + k mod 3 ms `tool` call
/// that fails in B for k divisible by 3, and 5 ms of the root's own after them.
fn trace_of(i: i64, variant: &str, k: i64) -> Vec<Span> {
    let plan_end = 10 + k;
    let exec = if variant == "B" {
        80 + 3 * k
    } else {
        50 + 2 * k
    };
    let exec_end = plan_end + exec;
    let tool = 20 + k % 3;
    let mut root = named(i, "1", None, "main", 0, exec_end + 5);
    root.span_type = SpanType::Agent;
    root.tags.insert("variant".into(), variant.into());
    let mut plan = named(i, "2", Some("1"), "plan", 0, plan_end);
    plan.span_type = SpanType::Llm;
    plan.input_tokens = Some(100 + k);
    plan.cost = Some(0.001 * (k + 1) as f64);
    let mut agent = named(i, "3", Some("1"), "execution_agent", plan_end, exec_end);
    agent.span_type = SpanType::Agent;
    let mut call = named(i, "4", Some("3"), "tool", plan_end + 5, plan_end + 5 + tool);
    call.span_type = SpanType::Tool;
    if variant == "B" && k % 3 == 0 {
        call.status = SpanStatus::Error;
    }
    vec![root, plan, agent, call]
}

async fn write_variants(store: &Arc<dyn Store>) {
    let mut spans = Vec::new();
    for k in 0..12 {
        spans.extend(trace_of(2 * k, "A", k));
        spans.extend(trace_of(2 * k + 1, "B", k));
    }
    // A third variant in neither cohort.
    spans.extend(trace_of(100, "C", 50));
    store.write_spans(spans).await.unwrap();
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

fn compare_query(by: &str) -> CohortQuery {
    CohortQuery::from_query_string(&format!("a.tag=variant%3DA&b.tag=variant%3DB&by={by}")).unwrap()
}

fn row<'a>(c: &'a CohortComparison, name: &str) -> &'a skein_model::cohort::CohortRow {
    c.rows.iter().find(|r| r.name == name).expect(name)
}

pub async fn cohorts_compare_span_names_with_exact_figures(store: Arc<dyn Store>) {
    write_variants(&store).await;
    let c = store
        .compare_cohorts("p", &compare_query("duration"))
        .await
        .unwrap();
    assert_eq!((c.a.traces, c.b.traces), (12, 12));
    let names: Vec<&str> = c.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(names[0], "execution_agent", "{names:?}");

    // The trace durations: 10 + k + exec + 5.
    let trace_ms = |b: bool| -> Vec<f64> {
        (0..12)
            .map(|k| (15 + k + if b { 80 + 3 * k } else { 50 + 2 * k }) as f64)
            .collect()
    };
    let (ta, tb) = (trace_ms(false), trace_ms(true));
    close(c.a.duration_ms, ta.iter().sum::<f64>() / 12.0, "A duration");
    let want = welch_t_test(&Moments::from_values(&tb), &Moments::from_values(&ta)).unwrap();
    match &c.difference.duration_ms {
        Significance::Tested {
            difference,
            ci,
            p_value,
        } => {
            close(*difference, want.difference, "duration difference");
            close(ci.low, want.ci.low, "duration ci");
            close(*p_value, want.p_value, "duration p");
        }
        other => panic!("{other:?}"),
    }

    // execution_agent: its duration and self time (less the tool call inside it).
    let exec = row(&c, "execution_agent");
    assert_eq!(exec.span_type, SpanType::Agent);
    assert_eq!(exec.service, "app");
    let durations = |b: bool| -> Vec<f64> {
        (0..12)
            .map(|k| if b { 80 + 3 * k } else { 50 + 2 * k } as f64)
            .collect()
    };
    let self_ms = |b: bool| -> Vec<f64> {
        durations(b)
            .iter()
            .enumerate()
            .map(|(k, d)| d - (20 + k % 3) as f64)
            .collect()
    };
    let cell = |cell: &Option<CohortCell>| cell.clone().expect("a cell");
    for (b, got) in [(false, cell(&exec.a)), (true, cell(&exec.b))] {
        let d = durations(b);
        close(
            got.p50_ms.unwrap(),
            quantile_sorted(&d, 0.5).unwrap(),
            "p50",
        );
        close(
            got.p95_ms.unwrap(),
            quantile_sorted(&d, 0.95).unwrap(),
            "p95",
        );
        let s = self_ms(b);
        close(
            got.mean_self_ms.unwrap(),
            s.iter().sum::<f64>() / 12.0,
            "self",
        );
        close(
            got.self_ms_per_trace,
            s.iter().sum::<f64>() / 12.0,
            "self/trace",
        );
        assert_eq!((got.spans, got.traces, got.traces_with), (12, 12, 12));
        close(got.spans_per_trace, 1.0, "spans per trace");
    }
    let want = welch_t_test(
        &Moments::from_values(&self_ms(true)),
        &Moments::from_values(&self_ms(false)),
    )
    .unwrap();
    close(exec.contribution, want.difference, "contribution");
    match &exec.self_ms_per_trace {
        Significance::Tested { p_value, ci, .. } => {
            close(*p_value, want.p_value, "self p");
            close(ci.high, want.ci.high, "self ci");
        }
        other => panic!("{other:?}"),
    }

    // The root keeps 5 ms of its own; the plan's tokens and cost are the same in both.
    let root = row(&c, "main");
    close(cell(&root.a).mean_self_ms.unwrap(), 5.0, "root self");
    close(root.contribution, 0.0, "root contribution");
    let plan = row(&c, "plan");
    assert_eq!(plan.span_type, SpanType::Llm);
    close(
        cell(&plan.b).tokens_per_trace,
        (0..12).map(|k| (100 + k) as f64).sum::<f64>() / 12.0,
        "tokens",
    );
    close(
        cell(&plan.a).cost_per_trace,
        (0..12).map(|k| 0.001 * (k + 1) as f64).sum::<f64>() / 12.0,
        "cost",
    );

    // The tool fails in B 4 times in 12.
    let tool = row(&c, "tool");
    assert_eq!(cell(&tool.a).errors, 0);
    assert_eq!(cell(&tool.b).errors, 4);
    close(cell(&tool.b).error_rate.unwrap(), 4.0 / 12.0, "error rate");
    close(
        tool.error_rate.difference(),
        4.0 / 12.0,
        "error rate difference",
    );

    // By errors, the tool comes first.
    let by_errors = store
        .compare_cohorts("p", &compare_query("errors"))
        .await
        .unwrap();
    assert_eq!(by_errors.rows[0].name, "tool");
    close(
        by_errors.rows[0].contribution,
        4.0 / 12.0,
        "errors per trace",
    );
}

pub async fn a_cohort_without_traces_compares_as_empty(store: Arc<dyn Store>) {
    write_variants(&store).await;
    let q = CohortQuery::from_query_string("a.tag=variant%3DA&b.tag=variant%3DZ").unwrap();
    let c = store.compare_cohorts("p", &q).await.unwrap();
    assert_eq!((c.a.traces, c.b.traces), (12, 0));
    assert!(c.rows.iter().all(|r| r.b.is_none() && r.a.is_some()));
    // Another project sees none of them.
    let c = store.compare_cohorts("other", &q).await.unwrap();
    assert_eq!((c.a.traces, c.rows.len()), (0, 0));
}
