//! Spans across traces (`list_spans`): every filter selects what `skein_model::filter`
//! decides on the spans as stored, with LangSmith's `trace_filter` (the root) and
//! `tree_filter` (any span of the trace) semantics, sorted and paged without gaps.

use std::collections::BTreeSet;
use std::sync::Arc;

use skein_model::filter::{self, Expr, Op};
use skein_model::span::{Span, SpanStatus, SpanType};
use skein_model::span_list::{SpanQuery, SpanRow, SpanSort};
use skein_model::{NewFeedback, TraceQuery};

use super::span;
use crate::store::{Store, StoreError};

const TRACES: [&str; 3] = ["a", "b", "c"];

/// Three traces of an agent calling two models and a tool, with varied costs, tokens, tags,
/// labels and statuses; trace `c` written in pieces (its LLM span's model and tags come in
/// the second piece). A span of another project with the same ids.
async fn seed(store: &Arc<dyn Store>) -> Vec<Span> {
    for (i, t) in TRACES.iter().enumerate() {
        let i = i as i64;
        let mut root = span(t, "1", None, i * 100);
        root.name = "agent".into();
        root.span_type = SpanType::Agent;
        root.end_ns = root.start_ns + (i + 1) * 3_000_000_000;
        root.tags
            .insert("variant".into(), ["A", "B", "B"][i as usize].into());
        root.session_id = Some(format!("s-{i}"));
        root.user_id = Some("u-1".into());
        root.labels = vec!["prod".into()];
        let mut llm = span(t, "2", Some("1"), i * 100 + 1);
        llm.name = "ChatOpenAI".into();
        llm.span_type = SpanType::Llm;
        llm.model = Some("gpt-4o".into());
        llm.end_ns = llm.start_ns + (i + 1) * 1_000_000_000;
        llm.input_tokens = Some(100 * (i + 1));
        llm.output_tokens = Some(10);
        llm.cost = Some(0.01 * (i + 1) as f64);
        llm.tags.insert("langgraph_node".into(), "writer".into());
        llm.labels = vec!["beta".into(), "seq:1".into()];
        let mut tool = span(t, "3", Some("1"), i * 100 + 2);
        tool.name = if i == 1 {
            "search_web".into()
        } else {
            "calculator".into()
        };
        tool.span_type = SpanType::Tool;
        tool.status = if i == 2 {
            SpanStatus::Error
        } else {
            SpanStatus::Ok
        };
        let mut mini = span(t, "4", Some("2"), i * 100 + 3);
        mini.span_type = SpanType::Llm;
        mini.model = Some("gpt-4o-mini".into());
        mini.input_tokens = Some(7);
        mini.cost = Some(0.001);
        if i == 2 {
            let mut first = llm.clone();
            first.model = None;
            first.tags.clear();
            store
                .write_span_pieces(vec![root, first, tool, mini])
                .await
                .unwrap();
            store.write_span_pieces(vec![llm]).await.unwrap();
        } else {
            store
                .write_spans(vec![root, llm, tool, mini])
                .await
                .unwrap();
        }
    }
    let mut other = span("a", "2", None, 0);
    other.project = "q".into();
    other.span_type = SpanType::Llm;
    store.write_spans(vec![other]).await.unwrap();

    let fb = |trace: &str, score: f64| NewFeedback {
        run_id: "2".repeat(16),
        trace_id: Some(trace.repeat(32)),
        key: "correctness".into(),
        score: Some(score),
        ..NewFeedback::default()
    };
    store.create_feedback("p", fb("a", 1.0)).await.unwrap();
    store.create_feedback("p", fb("b", 0.0)).await.unwrap();

    let mut stored = Vec::new();
    for t in TRACES {
        stored.extend(store.trace_spans("p", &t.repeat(32)).await.unwrap());
    }
    assert_eq!(stored.len(), 12);
    stored
}

fn parse(text: &str) -> Option<Expr> {
    filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// What the query should select, by a scan of the stored spans.
fn expected(all: &[Span], q: &SpanQuery) -> BTreeSet<(String, String)> {
    let feedback = |s: &Span, key: &str, score: Option<(Op, f64)>| {
        let given = match s.trace_id.chars().next() {
            Some('a') if s.span_id.starts_with('2') => 1.0,
            Some('b') if s.span_id.starts_with('2') => 0.0,
            _ => return false,
        };
        key == "correctness"
            && score.is_none_or(|(op, v)| match op {
                Op::Eq => given == v,
                Op::Neq => given != v,
                Op::Gt => given > v,
                Op::Gte => given >= v,
                Op::Lt => given < v,
                Op::Lte => given <= v,
            })
    };
    let passes = |e: &Option<Expr>, s: &Span| {
        e.as_ref()
            .is_none_or(|e| filter::matches_with(e, s, &feedback))
    };
    all.iter()
        .filter(|s| passes(&q.filter, s))
        .filter(|s| {
            let trace = all.iter().filter(|o| o.trace_id == s.trace_id);
            (q.trace_filter.is_none()
                || trace
                    .clone()
                    .any(|o| o.parent_span_id.is_none() && passes(&q.trace_filter, o)))
                && (q.tree_filter.is_none() || trace.clone().any(|o| passes(&q.tree_filter, o)))
        })
        .map(|s| (s.trace_id.clone(), s.span_id.clone()))
        .collect()
}

fn sort_key(sort: SpanSort, r: &SpanRow) -> f64 {
    match sort {
        SpanSort::StartDesc => r.start_ns as f64,
        SpanSort::DurationDesc => r.duration_ns as f64,
        SpanSort::TokensDesc => r.tokens as f64,
        SpanSort::CostDesc => r.cost,
    }
}

/// Every page of the query, two rows at a time, checked for order, gaps and totals.
async fn all_pages(store: &Arc<dyn Store>, mut q: SpanQuery) -> Vec<SpanRow> {
    q.limit = 2;
    let mut rows: Vec<SpanRow> = Vec::new();
    let mut total = None;
    loop {
        let page = store.list_spans("p", &q).await.unwrap();
        assert!(page.total_exact);
        assert_eq!(*total.get_or_insert(page.total), page.total);
        assert!(page.spans.len() <= 2);
        rows.extend(page.spans);
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
        assert!(rows.len() <= 12, "pages do not end");
    }
    assert_eq!(total, Some(rows.len() as u64));
    for pair in rows.windows(2) {
        assert!(
            sort_key(q.sort, &pair[0]) >= sort_key(q.sort, &pair[1]),
            "{:?} order",
            q.sort
        );
    }
    rows
}

pub async fn span_filters_select_like_a_scan_would(store: Arc<dyn Store>) {
    let all = seed(&store).await;
    let cases: &[(&str, &str, &str)] = &[
        ("", "", ""),
        (r#"eq(run_type, "llm")"#, "", ""),
        (r#"and(eq(run_type, "llm"), gt(latency, "1500ms"))"#, "", ""),
        (
            r#"and(eq(model, "gpt-4o"), gte(total_tokens, 210))"#,
            "",
            "",
        ),
        (r#"or(eq(status, "error"), gt(total_cost, 0.015))"#, "", ""),
        (r#"has(tags, "beta")"#, "", ""),
        (r#"not(has(tags, "beta"))"#, "", ""),
        (r#"in(tags, ["prod", "seq:1"])"#, "", ""),
        (
            r#"and(eq(metadata_key, "variant"), eq(metadata_value, "B"))"#,
            "",
            "",
        ),
        (r#"eq(tag.langgraph_node, "writer")"#, "", ""),
        (r#"eq(metadata_key, "langgraph_node")"#, "", ""),
        (r#"eq(metadata_value, "A")"#, "", ""),
        (r#"neq(model, "gpt-4o")"#, "", ""),
        (
            r#"and(eq(is_root, false), lt(prompt_tokens, 50), eq(completion_tokens, 0))"#,
            "",
            "",
        ),
        (r#"in(run_type, ["tool", "agent"])"#, "", ""),
        (r#"and(eq(session, "s-1"), eq(user, "u-1"))"#, "", ""),
        (&format!(r#"eq(trace_id, "{}")"#, "b".repeat(32)), "", ""),
        (
            &format!(r#"eq(parent_run_id, "{}")"#, "2".repeat(16)),
            "",
            "",
        ),
        (
            r#"and(eq(feedback_key, "correctness"), gt(feedback_score, 0.5))"#,
            "",
            "",
        ),
        (r#"eq(feedback_key, "correctness")"#, "", ""),
        (r#"gte(start_time, "2000-01-01T00:00:00Z")"#, "", ""),
        (
            "",
            r#"and(eq(metadata_key, "variant"), eq(metadata_value, "B"))"#,
            "",
        ),
        (r#"eq(run_type, "llm")"#, r#"eq(tag.variant, "A")"#, ""),
        (r#"eq(run_type, "llm")"#, r#"eq(model, "gpt-4o")"#, ""),
        ("", "", r#"eq(name, "search_web")"#),
        (r#"eq(run_type, "agent")"#, "", r#"eq(error, true)"#),
        (
            r#"eq(run_type, "llm")"#,
            r#"gt(latency, "4s")"#,
            r#"eq(status, "error")"#,
        ),
    ];
    let mut seen_sizes = BTreeSet::new();
    for (f, t, tree) in cases {
        for sort in SpanSort::ALL {
            let q = SpanQuery {
                filter: parse(f),
                trace_filter: parse(t),
                tree_filter: parse(tree),
                sort,
                ..SpanQuery::default()
            };
            let want = expected(&all, &q);
            let got: Vec<(String, String)> = all_pages(&store, q)
                .await
                .into_iter()
                .map(|r| (r.trace_id, r.span_id))
                .collect();
            let got_set: BTreeSet<_> = got.iter().cloned().collect();
            assert_eq!(got.len(), got_set.len(), "{f} | {t} | {tree}: a span twice");
            assert_eq!(got_set, want, "{f} | {t} | {tree} ({sort:?})");
            seen_sizes.insert(want.len());
        }
    }
    // The cases tell spans apart (not all everything or nothing).
    assert!(seen_sizes.len() >= 5, "{seen_sizes:?}");
}

pub async fn span_rows_carry_what_the_list_shows(store: Arc<dyn Store>) {
    seed(&store).await;
    let q = SpanQuery {
        filter: parse(
            r#"and(eq(model, "gpt-4o"), eq(trace_id, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"))"#,
        ),
        ..SpanQuery::default()
    };
    let page = store.list_spans("p", &q).await.unwrap();
    assert_eq!(page.spans.len(), 1, "{page:?}");
    let r = &page.spans[0];
    assert_eq!(
        (r.name.as_str(), r.span_type),
        ("ChatOpenAI", SpanType::Llm)
    );
    assert_eq!(r.model.as_deref(), Some("gpt-4o"));
    assert_eq!(r.parent_span_id.as_deref(), Some("1".repeat(16).as_str()));
    assert_eq!((r.tokens, r.duration_ns), (210, 2_000_000_000));
    assert!((r.cost - 0.02).abs() < 1e-12);
    assert_eq!(r.service, "svc-2");
    assert_eq!(
        r.tags.get("langgraph_node").map(String::as_str),
        Some("writer")
    );

    // Newest first by default; another project's spans never show.
    let page = store.list_spans("p", &SpanQuery::default()).await.unwrap();
    assert_eq!(page.total, 12);
    assert!(page
        .spans
        .windows(2)
        .all(|w| w[0].start_ns >= w[1].start_ns));
    let other = store.list_spans("q", &SpanQuery::default()).await.unwrap();
    assert_eq!(other.total, 1);
    assert_eq!(other.spans[0].trace_id, "a".repeat(32));

    for (cursor, sort) in [
        ("nonsense", SpanSort::StartDesc),
        ("x~1", SpanSort::CostDesc),
    ] {
        let bad = SpanQuery {
            cursor: Some(cursor.into()),
            sort,
            ..SpanQuery::default()
        };
        assert!(matches!(
            store.list_spans("p", &bad).await,
            Err(StoreError::Invalid(_))
        ));
    }
}

pub async fn the_trace_list_keeps_traces_having_a_matching_span(store: Arc<dyn Store>) {
    seed(&store).await;
    let list = |filter: &str| {
        let store = store.clone();
        let q = TraceQuery {
            filter: Some(filter.to_string()),
            ..TraceQuery::default()
        };
        async move { store.list_traces("p", &q).await }
    };
    let ids = |page: &skein_model::TracePage| -> Vec<String> {
        page.traces.iter().map(|t| t.trace_id.clone()).collect()
    };
    let page = list(r#"and(eq(tag.langgraph_node, "writer"), eq(status, "error"))"#)
        .await
        .unwrap();
    assert_eq!(page.total, 0, "no single span is both");
    let page = list(r#"or(eq(name, "search_web"), eq(status, "error"))"#)
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    let mut got = ids(&page);
    got.sort();
    assert_eq!(got, vec!["b".repeat(32), "c".repeat(32)]);
    // The summaries are the whole traces', not the matching spans'.
    assert!(page.traces.iter().all(|t| t.span_count == 4));
    let page = list(r#"eq(run_type, "llm")"#).await.unwrap();
    assert_eq!(page.total, 3);
    // With the list's own filters.
    let q = TraceQuery {
        filter: Some(r#"eq(metadata_value, "B")"#.into()),
        status: Some(skein_model::StatusFilter::Error),
        ..TraceQuery::default()
    };
    assert_eq!(
        ids(&store.list_traces("p", &q).await.unwrap()),
        vec!["c".repeat(32)]
    );
    assert!(matches!(
        list(r#"search("x")"#).await,
        Err(StoreError::Invalid(_))
    ));
}

/// The filter box's stored values of a span field: the project's only, most used first, by
/// prefix, from its latest traces only.
pub async fn field_values_are_the_latest_traces_most_used_first(store: Arc<dyn Store>) {
    use skein_model::catalog::FIELD_VALUE_TRACES;
    use skein_model::ValueField;
    let named = |trace: &str, id: &str, parent: Option<&str>, name: &str, model: Option<&str>| {
        let mut s = span(trace, id, parent, 0);
        s.name = name.into();
        s.model = model.map(str::to_string);
        s
    };
    let mut other = named("c", "5", None, "chat", Some("claude"));
    other.project = "q".into();
    store
        .write_spans(vec![
            named("a", "1", None, "agent", None),
            named("a", "2", Some("1"), "chat", Some("gpt-4o")),
            named("a", "3", Some("1"), "chat", Some("gpt-4o")),
            named("b", "4", None, "chat", Some("gpt-4o-mini")),
            other,
        ])
        .await
        .expect("write");
    let values = |field, prefix: Option<&'static str>, limit| {
        let store = store.clone();
        async move {
            store
                .field_values("p", field, prefix, limit)
                .await
                .expect("values")
                .into_iter()
                .map(|v| (v.value, v.span_count))
                .collect::<Vec<_>>()
        }
    };
    let pair = |v: &str, n: u64| (v.to_string(), n);
    assert_eq!(
        values(ValueField::Model, None, 10).await,
        vec![pair("gpt-4o", 2), pair("gpt-4o-mini", 1)]
    );
    assert_eq!(
        values(ValueField::Model, Some("gpt-4o-"), 10).await,
        vec![pair("gpt-4o-mini", 1)]
    );
    assert_eq!(values(ValueField::Model, Some("GPT"), 10).await, vec![]);
    assert_eq!(
        values(ValueField::Name, None, 10).await,
        vec![pair("chat", 3), pair("agent", 1)]
    );
    assert_eq!(
        values(ValueField::Name, None, 1).await,
        vec![pair("chat", 3)]
    );
    let q = store
        .field_values("q", ValueField::Model, None, 10)
        .await
        .expect("q");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].value, "claude");

    // Older than the latest traces: not suggested.
    let mut ancient = named("d", "6", None, "old", Some("ancient"));
    ancient.project = "r".into();
    ancient.start_ns -= 3_600_000_000_000;
    ancient.end_ns -= 3_600_000_000_000;
    let mut recent: Vec<Span> = (0..FIELD_VALUE_TRACES as i64)
        .map(|i| {
            let mut s = span(&super::trace_hex(i), "7", None, i);
            s.project = "r".into();
            s.model = Some("recent".into());
            s
        })
        .collect();
    recent.push(ancient);
    store.write_spans(recent).await.expect("write r");
    let r = store
        .field_values("r", ValueField::Model, None, 10)
        .await
        .expect("r");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        (r[0].value.as_str(), r[0].span_count),
        ("recent", u64::from(FIELD_VALUE_TRACES))
    );
}
