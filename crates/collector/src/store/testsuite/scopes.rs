//! Span conditions wherever a filter is taken: `attr.KEY` on any span attribute (numbers
//! compared as numbers, anything else as text, as `skein_model::filter::attr` reads them),
//! and the trace scopes (trace list, sessions, users, metrics) narrowed by `filter` and
//! `tree_filter` (a span of the trace passes) and `trace_filter` (its root passes), each
//! checked against a scan of the stored spans with the model's evaluator.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::json;
use skein_model::filter::{self, Expr};
use skein_model::metrics::MetricQuery;
use skein_model::sessions::SessionQuery;
use skein_model::span::{Span, SpanEvent, SpanLink, SpanStatus, SpanType};
use skein_model::span_list::SpanQuery;
use skein_model::TraceQuery;

use super::{span, trace_hex};
use crate::store::{Store, StoreError};

const TRACES: i64 = 6;

fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Six traces of an agent (sessions s-0..s-2, users u-0 and u-1, tag `variant`), its model
/// call and a tool, with attributes of every kind: numbers, numeric and plain strings, flags,
/// lists, null, a payload-sized text; a tool span with none of its own but attributes on its
/// event and link, and a tag named like an attribute.
async fn seed(store: &Arc<dyn Store>) -> Vec<Span> {
    let mut spans = Vec::new();
    for i in 0..TRACES {
        let mut root = span("1", "1", None, i * 10);
        root.trace_id = trace_hex(i);
        root.name = "agent".into();
        root.span_type = SpanType::Agent;
        root.session_id = Some(format!("s-{}", i % 3));
        root.user_id = Some(format!("u-{}", i % 2));
        root.tags
            .insert("variant".into(), if i < 3 { "A" } else { "B" }.into());
        root.attributes = object(json!({
            "request.size": i * 10,
            "http.route": if i % 2 == 0 { "/chat" } else { "/search" },
        }));
        let mut llm = span("1", "2", Some("1"), i * 10 + 1);
        llm.trace_id = trace_hex(i);
        llm.name = "ChatOpenAI".into();
        llm.span_type = SpanType::Llm;
        llm.model = Some(if i % 2 == 0 { "gpt-4o" } else { "gpt-4o-mini" }.into());
        llm.status = if i == 4 {
            SpanStatus::Error
        } else {
            SpanStatus::Ok
        };
        llm.attributes = object(json!({
            "retrieval.documents": i,
            "http.status_code": if i == 2 { 500 } else { 200 },
            "db.rows": if i == 1 { json!("12") } else { json!(i) },
            "cache.hit": i % 2 == 0,
            "ratio": i as f64 / 4.0,
            "note": "5 apples",
            "list": ["a", "b"],
            "nothing": null,
            "long": if i == 3 { "x".repeat(filter::MAX_ATTR_TEXT + 1) } else { "short".into() },
            // A key nested in an object value is not an attribute of the span.
            "extra": {"metadata": {"tool.name": "nested", "db.rows": 1000}},
        }));
        let mut tool = span("1", "3", Some("1"), i * 10 + 2);
        tool.trace_id = trace_hex(i);
        tool.name = "search".into();
        tool.span_type = SpanType::Tool;
        if i == 5 {
            tool.tags.insert("http.status_code".into(), "404".into());
            tool.events = vec![SpanEvent {
                name: "retrieved".into(),
                time_ns: tool.start_ns,
                attributes: object(json!({"retrieval.documents": 99, "http.status_code": 404})),
            }];
            tool.links = vec![SpanLink {
                trace_id: trace_hex(0),
                span_id: "1".repeat(16),
                attributes: object(json!({"cache.hit": true})),
            }];
        } else {
            tool.attributes = object(json!({"tool.name": "search", "http.status_code": "404"}));
        }
        spans.extend([root, llm, tool]);
    }
    store.write_spans(spans).await.unwrap();
    let mut stored = Vec::new();
    for i in 0..TRACES {
        stored.extend(store.trace_spans("p", &trace_hex(i)).await.unwrap());
    }
    assert_eq!(stored.len(), 3 * TRACES as usize);
    stored
}

fn parse(text: &str) -> Option<Expr> {
    filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn passes(e: &Option<Expr>, s: &Span) -> bool {
    e.as_ref().is_none_or(|e| filter::matches(e, s))
}

pub async fn attribute_filters_select_like_a_scan_would(store: Arc<dyn Store>) {
    let all = seed(&store).await;
    let cases = [
        "gt(attr.retrieval.documents, 3)",
        "gte(attributes.retrieval.documents, 5)",
        "gt(attr.retrieval.documents, 50)",
        "eq(attr.http.status_code, 500)",
        r#"eq(attr.http.status_code, "404")"#,
        "eq(attr.http.status_code, 404)",
        "in(attr.http.status_code, [404, 500])",
        "lt(attr.db.rows, 4)",
        r#"gt(attr.db.rows, "2")"#,
        "eq(attr.cache.hit, true)",
        "neq(attr.retrieval.documents, 2)",
        "not(gt(attr.retrieval.documents, 1))",
        "lte(attr.ratio, 0.5)",
        "gt(attr.note, 1)",
        r#"eq(attr.note, "5 apples")"#,
        r#"eq(attr.list, "[\"a\",\"b\"]")"#,
        "eq(attr.nothing, null)",
        "eq(attr.long, null)",
        r#"eq(attr.long, "short")"#,
        r#"and(eq(run_type, "llm"), lte(attr.request.size, 20))"#,
        r#"or(eq(attr.http.route, "/search"), eq(attr.tool.name, "search"))"#,
        r#"eq(attr.tool.name, "nested")"#,
        "gt(attr.db.rows, 100)",
        r#"eq(attr.extra, "{\"metadata\":{\"db.rows\":1000,\"tool.name\":\"nested\"}}")"#,
    ];
    let mut sizes = BTreeSet::new();
    for text in cases {
        let q = SpanQuery {
            filter: parse(text),
            limit: 500,
            ..SpanQuery::default()
        };
        let want: BTreeSet<(String, String)> = all
            .iter()
            .filter(|s| passes(&q.filter, s))
            .map(|s| (s.trace_id.clone(), s.span_id.clone()))
            .collect();
        let page = store.list_spans("p", &q).await.unwrap();
        let got: BTreeSet<(String, String)> = page
            .spans
            .iter()
            .map(|r| (r.trace_id.clone(), r.span_id.clone()))
            .collect();
        assert_eq!(got, want, "{text}");
        assert_eq!(page.total, want.len() as u64, "{text}");
        sizes.insert(want.len());
    }
    assert!(sizes.len() >= 6, "the cases tell spans apart: {sizes:?}");

    // In trace and tree conditions too.
    let q = SpanQuery {
        filter: parse(r#"eq(run_type, "llm")"#),
        trace_filter: parse("gt(attr.request.size, 25)"),
        tree_filter: parse(r#"neq(attr.tool.name, "search")"#),
        ..SpanQuery::default()
    };
    let page = store.list_spans("p", &q).await.unwrap();
    let got: BTreeSet<String> = page.spans.iter().map(|r| r.trace_id.clone()).collect();
    // Roots of 3, 4, 5 are above 25; every trace has a span without the tool's name.
    assert_eq!(got, (3..TRACES).map(trace_hex).collect());
}

/// The trace ids a scope's conditions select, by a scan.
fn selected(all: &[Span], f: &Option<Expr>, t: &Option<Expr>, tree: &Option<Expr>) -> Vec<String> {
    let ids: BTreeSet<&String> = all.iter().map(|s| &s.trace_id).collect();
    ids.into_iter()
        .filter(|id| {
            let trace: Vec<&Span> = all.iter().filter(|s| &s.trace_id == *id).collect();
            let any = |e: &Option<Expr>| e.is_none() || trace.iter().any(|s| passes(e, s));
            any(f)
                && any(tree)
                && (t.is_none()
                    || trace
                        .iter()
                        .any(|s| s.parent_span_id.is_none() && passes(t, s)))
        })
        .cloned()
        .collect()
}

pub async fn trace_scopes_take_span_conditions(store: Arc<dyn Store>) {
    let all = seed(&store).await;
    let cases: &[(&str, &str, &str)] = &[
        (r#"eq(model, "gpt-4o")"#, "", ""),
        ("", "gt(attr.request.size, 25)", ""),
        ("", "", r#"eq(status, "error")"#),
        (
            r#"eq(run_type, "llm")"#,
            r#"eq(tag.variant, "A")"#,
            "gt(attr.retrieval.documents, 0)",
        ),
        (
            "eq(attr.http.status_code, 500)",
            "",
            r#"eq(run_type, "tool")"#,
        ),
        // A root has no model: the trace condition is on the root alone.
        ("", r#"eq(model, "gpt-4o")"#, ""),
        // `filter` and `tree_filter` may each be met by a different span.
        (r#"eq(run_type, "tool")"#, "", r#"eq(model, "gpt-4o-mini")"#),
    ];
    let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let mut sizes = BTreeSet::new();
    for (f, t, tree) in cases {
        let want = selected(&all, &parse(f), &parse(t), &parse(tree));
        sizes.insert(want.len());
        let label = format!("{f} | {t} | {tree}");

        let q = TraceQuery {
            filter: text(f),
            trace_filter: text(t),
            tree_filter: text(tree),
            ..TraceQuery::default()
        };
        let page = store.list_traces("p", &q).await.unwrap();
        let mut got: Vec<String> = page.traces.iter().map(|t| t.trace_id.clone()).collect();
        got.sort();
        assert_eq!(got, want, "traces: {label}");

        // Sessions and users: a group is listed when some of its requests pass, and its
        // aggregates are over those requests.
        let roots: Vec<&Span> = all
            .iter()
            .filter(|s| s.parent_span_id.is_none() && want.contains(&s.trace_id))
            .collect();
        let count_by = |key: fn(&Span) -> Option<String>| {
            let mut out: BTreeMap<String, u64> = BTreeMap::new();
            for r in &roots {
                *out.entry(key(r).unwrap_or_default()).or_default() += 1;
            }
            out
        };
        let sq = SessionQuery {
            filter: text(f),
            trace_filter: text(t),
            tree_filter: text(tree),
            ..SessionQuery::default()
        };
        let sessions = store.list_sessions("p", &sq).await.unwrap();
        let got: BTreeMap<String, u64> = sessions
            .sessions
            .iter()
            .map(|s| (s.session_id.clone(), s.stats.request_count))
            .collect();
        assert_eq!(got, count_by(|s| s.session_id.clone()), "sessions: {label}");
        assert_eq!(sessions.total, got.len() as u64, "sessions: {label}");
        let users = store.list_users("p", &sq).await.unwrap();
        let got: BTreeMap<String, u64> = users
            .users
            .iter()
            .map(|u| (u.user_id.clone(), u.stats.request_count))
            .collect();
        assert_eq!(got, count_by(|s| s.user_id.clone()), "users: {label}");

        // Metrics: the traces counted, per variant.
        let mq = MetricQuery {
            group_by: Some("variant".into()),
            filter: text(f),
            trace_filter: text(t),
            tree_filter: text(tree),
            ..MetricQuery::default()
        };
        let answer = store.metrics("p", &mq).await.unwrap();
        let got: BTreeMap<String, u64> = answer
            .groups
            .iter()
            .filter(|g| g.n > 0)
            .map(|g| (g.value.clone().unwrap_or_default(), g.n))
            .collect();
        assert_eq!(
            got,
            count_by(|s| s.tags.get("variant").cloned()),
            "metrics: {label}"
        );
    }
    assert!(sizes.len() >= 4, "the cases tell traces apart: {sizes:?}");

    // A condition the store is handed unchecked is refused, naming the parameter.
    let bad = "eq(nmae, 1)";
    let invalid = |r: Result<(), StoreError>, what: &str| match r {
        Err(StoreError::Invalid(m)) => assert!(m.starts_with("tree_filter: "), "{what}: {m}"),
        other => panic!("{what}: {other:?}"),
    };
    let sq = SessionQuery {
        tree_filter: Some(bad.into()),
        ..SessionQuery::default()
    };
    invalid(store.list_sessions("p", &sq).await.map(|_| ()), "sessions");
    invalid(store.list_users("p", &sq).await.map(|_| ()), "users");
    let mq = MetricQuery {
        tree_filter: Some(bad.into()),
        ..MetricQuery::default()
    };
    invalid(store.metrics("p", &mq).await.map(|_| ()), "metrics");
    let tq = TraceQuery {
        tree_filter: Some(bad.into()),
        ..TraceQuery::default()
    };
    invalid(store.list_traces("p", &tq).await.map(|_| ()), "traces");
}
