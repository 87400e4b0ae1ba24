//! Full-text search across traces (`search("...")` in span and trace filters): a span matches
//! when its name, input, output, attribute values or event messages contain the text, ignoring
//! case, as `skein_model::trace_search::span_contains` decides; the text is always literal
//! (quotes, `%`, `_`, `*`, `-`, `NEAR`, backslashes are characters to find, never syntax).

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;
use skein_model::filter::{self, Expr};
use skein_model::span::{Span, SpanEvent, SpanType};
use skein_model::span_list::SpanQuery;
use skein_model::TraceQuery;

use super::span;
use crate::store::{Store, StoreError};

/// Spans of project `p`, each holding its text in one place; trace `9` matches nothing; a
/// span of project `q` (same ids as trace `1`) says "refund" too. The span of trace `6` gets
/// its output in a second piece.
async fn seed(store: &Arc<dyn Store>) -> Vec<Span> {
    let mut in_name = span("1", "1", None, 0);
    in_name.name = "RefundAgent".into();
    in_name.span_type = SpanType::Agent;
    let mut child = span("1", "2", Some("1"), 1);
    child.name = "lookup".into();

    let mut in_input = span("2", "1", None, 10);
    in_input.input = Some("Please REFUND my order".into());
    in_input.span_type = SpanType::Llm;

    let mut in_output = span("3", "1", None, 20);
    in_output.output = Some(r#"{"answer":"Your \"refund\" is on its way: échange OK"}"#.into());

    let mut in_attribute = span("4", "1", None, 30);
    in_attribute.attributes.insert(
        "tool.args".into(),
        json!({"reason": ["late", "Refund requested"], "amount": 100}),
    );

    let mut in_event = span("5", "1", None, 40);
    in_event.events.push(SpanEvent {
        name: "log".into(),
        time_ns: in_event.start_ns,
        attributes: serde_json::Map::from_iter([(
            "message".to_string(),
            json!("issuing REFUND now"),
        )]),
    });

    let mut special = span("7", "1", None, 60);
    special.input =
        Some(r#"He said "NEAR" 100% * -x_y col:umn ^start (a OR b) C:\Temp\Out.txt"#.into());
    let mut lookalike = span("8", "1", None, 70);
    lookalike.input = Some("1000 sure, xay, near them, c:/temp".into());

    let mut nothing = span("9", "1", None, 80);
    nothing.name = "invoice".into();
    nothing.input = Some("totally unrelated".into());

    let mut other = span("1", "1", None, 0);
    other.project = "q".into();
    other.name = "refund elsewhere".into();

    store
        .write_spans(vec![
            in_name,
            child,
            in_input,
            in_output,
            in_attribute,
            in_event,
            special,
            lookalike,
            nothing,
            other,
        ])
        .await
        .unwrap();

    let mut pieced = span("6", "1", None, 50);
    pieced.name = "chain".into();
    store.write_span_pieces(vec![pieced.clone()]).await.unwrap();
    pieced.output = Some("refund approved".into());
    store.write_span_pieces(vec![pieced]).await.unwrap();

    let mut stored = Vec::new();
    for t in "123456789".chars() {
        stored.extend(
            store
                .trace_spans("p", &t.to_string().repeat(32))
                .await
                .unwrap(),
        );
    }
    assert_eq!(stored.len(), 10);
    stored
}

fn parse(text: &str) -> Expr {
    filter::parse(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .expect("a filter")
}

/// `search(...)` of this text, as the filter language writes it.
fn search(text: &str) -> String {
    format!("search({})", serde_json::to_string(text).unwrap())
}

/// The traces (their repeated hex digit) of the spans the filter selects.
async fn span_traces(store: &Arc<dyn Store>, project: &str, filter: &str) -> BTreeSet<String> {
    let q = SpanQuery {
        filter: Some(parse(filter)),
        limit: 100,
        ..SpanQuery::default()
    };
    let page = store
        .list_spans(project, &q)
        .await
        .unwrap_or_else(|e| panic!("{filter}: {e}"));
    assert!(page.total_exact);
    assert_eq!(page.total as usize, page.spans.len(), "{filter}");
    page.spans
        .iter()
        .map(|r| format!("{}/{}", &r.trace_id[..1], &r.span_id[..1]))
        .collect()
}

async fn trace_list(store: &Arc<dyn Store>, project: &str, filter: &str) -> BTreeSet<String> {
    let q = TraceQuery {
        filter: Some(filter.to_string()),
        ..TraceQuery::default()
    };
    let page = store
        .list_traces(project, &q)
        .await
        .unwrap_or_else(|e| panic!("{filter}: {e}"));
    assert_eq!(page.total as usize, page.traces.len(), "{filter}");
    page.traces
        .iter()
        .map(|t| t.trace_id[..1].to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub async fn search_finds_text_anywhere_in_a_span_as_literal_text(store: Arc<dyn Store>) {
    let all = seed(&store).await;
    let scan = |filter: &str| -> BTreeSet<String> {
        let expr = parse(filter);
        all.iter()
            .filter(|s| filter::matches(&expr, s))
            .map(|s| format!("{}/{}", &s.trace_id[..1], &s.span_id[..1]))
            .collect()
    };

    // Name, input, output (its JSON decoded too), attribute value, event, a later piece; any
    // case; never another project's span.
    let refund = search("refund");
    let want = set(&["1/1", "2/1", "3/1", "4/1", "5/1", "6/1"]);
    assert_eq!(scan(&refund), want);
    assert_eq!(span_traces(&store, "p", &refund).await, want);
    for text in ["REFUND", "  Refund "] {
        assert_eq!(
            span_traces(&store, "p", &search(text)).await,
            want,
            "{text}"
        );
    }
    assert_eq!(span_traces(&store, "q", &refund).await, set(&["1/1"]));
    assert_eq!(
        span_traces(&store, "p", &search("\"refund\" is")).await,
        set(&["3/1"])
    );
    assert_eq!(
        span_traces(&store, "p", &search("ÉCHANGE")).await,
        set(&["3/1"])
    );
    assert!(span_traces(&store, "p", &search("refunds"))
        .await
        .is_empty());

    // A trace is listed when any of its spans matches; its summary is the whole trace's.
    assert_eq!(
        trace_list(&store, "p", &refund).await,
        set(&["1", "2", "3", "4", "5", "6"])
    );
    assert_eq!(trace_list(&store, "q", &refund).await, set(&["1"]));
    let q = TraceQuery {
        filter: Some(refund.clone()),
        ..TraceQuery::default()
    };
    let page = store.list_traces("p", &q).await.unwrap();
    let first = page.traces.iter().find(|t| t.trace_id.starts_with('1'));
    assert_eq!(first.map(|t| t.span_count), Some(2));

    // Combined with other conditions.
    for filter in [
        format!(r#"and({refund}, eq(run_type, "llm"))"#),
        format!(r#"or({}, eq(name, "lookup"))"#, search("invoice")),
        format!("not({refund})"),
        format!(r#"and(not({refund}), neq(name, "invoice"))"#),
        format!(r#"and({refund}, {})"#, search("agent")),
    ] {
        let want = scan(&filter);
        assert_eq!(span_traces(&store, "p", &filter).await, want, "{filter}");
        assert!(!want.is_empty(), "{filter}");
    }
    assert_eq!(
        trace_list(
            &store,
            "p",
            &format!(r#"and({refund}, eq(run_type, "llm"))"#)
        )
        .await,
        set(&["2"])
    );
    assert_eq!(
        trace_list(&store, "p", &format!("not({refund})")).await,
        set(&["1", "7", "8", "9"]),
        "trace 1 has a span without the word"
    );

    // Characters that are syntax in LIKE, FTS5 or SQL are text to find.
    for (text, want) in [
        ("\"near\"", &["7/1"][..]),
        ("near", &["7/1", "8/1"][..]),
        ("100%", &["7/1"]),
        ("00%", &["7/1"]),
        ("-x_y", &["7/1"]),
        ("x_y", &["7/1"]),
        ("* -x", &["7/1"]),
        ("col:umn", &["7/1"]),
        ("^start", &["7/1"]),
        ("(a or b)", &["7/1"]),
        ("c:\\temp\\", &["7/1"]),
        ("'; drop table spans; --", &[]),
        ("a\" OR \"b", &[]),
        ("%%%", &[]),
        ("___", &[]),
        ("***", &[]),
    ] {
        let filter = search(text);
        assert_eq!(scan(&filter), set(want), "{text}");
        assert_eq!(span_traces(&store, "p", &filter).await, set(want), "{text}");
    }

    // Shorter than three characters: refused, saying why.
    let short = TraceQuery {
        filter: Some(search("ab")),
        ..TraceQuery::default()
    };
    match store.list_traces("p", &short).await {
        Err(StoreError::Invalid(m)) => assert!(m.contains("at least 3 characters"), "{m}"),
        other => panic!("{other:?}"),
    }
    // The stores still hold everything they held.
    assert_eq!(
        store
            .list_spans("p", &SpanQuery::default())
            .await
            .unwrap()
            .total,
        10
    );
}
