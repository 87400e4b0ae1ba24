//! `trace_table`'s tests: whole and split traces answer alike; upgrades fill the rows.

use skein_model::span::{Span, SpanStatus, SpanType};
use skein_model::{TagFilter, TraceQuery};

use super::super::client::RowExt;
use super::super::{test_store as open, testserver, ClickhouseStore};
use crate::store::testsuite::span;
use crate::store::{JourneyStore, QueryStore, SpanStore};

/// A trace of a root tagged `env` and a failed model call with usage.
fn trace(id: &str, env: &str) -> Vec<Span> {
    let mut root = span(id, "1", None, 0);
    root.tags.insert("env".into(), env.into());
    root.session_id = Some(format!("s-{id}"));
    let mut call = span(id, "2", Some("1"), 1);
    call.span_type = SpanType::Llm;
    call.status = SpanStatus::Error;
    call.input_tokens = Some(10);
    call.output_tokens = Some(5);
    call.tags.insert("env".into(), "child".into());
    vec![root, call]
}

/// Per trace (by its first letter): whether it is whole (one row, each span fed once:
/// read as its row) or named split (folded from its spans).
async fn exact_rows(store: &ClickhouseStore) -> Vec<(String, bool)> {
    let rows = store
        .client
        .rows(&format!(
            "SELECT trace_id, trace_id NOT IN (SELECT trace_id FROM {}) AS exact \
             FROM {} GROUP BY trace_id ORDER BY trace_id",
            store.layout.table(super::SPLITS.name),
            store.trace_table()
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.str_of("trace_id")[..1].to_string(),
                r.i64_of("exact") == 1,
            )
        })
        .collect()
}

async fn listed(store: &ClickhouseStore, q: &TraceQuery) -> Vec<(String, u64, u64, i64)> {
    let page = store.list_traces("p", q).await.unwrap();
    assert_eq!(page.total as usize, page.traces.len());
    page.traces
        .iter()
        .map(|t| {
            (
                t.trace_id[..1].to_string(),
                t.span_count,
                t.error_count,
                t.input_tokens + t.output_tokens,
            )
        })
        .collect()
}

/// Traces whose spans were each written once are read from the table; a trace written
/// twice (a retry) is folded from its spans; both answer alike, filters and sessions
/// included.
#[tokio::test]
async fn exact_rows_and_copies_answer_alike() {
    let store = open(&testserver::fresh_database()).await;
    store.write_spans(trace("a", "prod")).await.unwrap();
    store.write_spans(trace("b", "prod")).await.unwrap();
    store.write_spans(trace("c", "dev")).await.unwrap();
    let prod = TraceQuery {
        tags: vec![TagFilter {
            key: "env".into(),
            value: "prod".into(),
        }],
        ..TraceQuery::default()
    };
    let before = listed(&store, &prod).await;
    assert_eq!(before, [("b".into(), 2, 1, 15), ("a".into(), 2, 1, 15)]);
    assert_eq!(
        exact_rows(&store).await,
        [("a".into(), true), ("b".into(), true), ("c".into(), true)]
    );

    store.write_spans(trace("a", "prod")).await.unwrap();
    assert_eq!(
        exact_rows(&store).await,
        [("a".into(), false), ("b".into(), true), ("c".into(), true)]
    );
    assert_eq!(listed(&store, &prod).await, before);
    let child = TraceQuery {
        tags: vec![TagFilter {
            key: "env".into(),
            value: "child".into(),
        }],
        ..TraceQuery::default()
    };
    assert!(listed(&store, &child).await.is_empty(), "a child's tag");
    let errors = TraceQuery {
        status: Some(skein_model::StatusFilter::Error),
        ..TraceQuery::default()
    };
    assert_eq!(listed(&store, &errors).await.len(), 3);
    let sessions = store
        .list_sessions("p", &Default::default())
        .await
        .unwrap()
        .sessions;
    let mut figures: Vec<(String, u64, i64)> = sessions
        .iter()
        .map(|s| {
            (
                s.session_id.clone(),
                s.stats.span_count,
                s.stats.total_tokens(),
            )
        })
        .collect();
    figures.sort();
    let want = |id: &str| (format!("s-{id}"), 2, 15);
    assert_eq!(figures, [want("a"), want("b"), want("c")]);
    let values = store.tag_values("p", "env", None, 10).await.unwrap();
    let counts: Vec<(&str, u64)> = values
        .iter()
        .map(|v| (v.value.as_str(), v.trace_count))
        .collect();
    assert_eq!(counts, [("prod", 2), ("dev", 1)]);
}

/// Brings a database back to `schema` (9: spans, no per-trace table; 10 and 12: the
/// tables and views of schemas 10 and 11–12, by their names) and opens it again.
async fn reopened_from(database: &str, store: ClickhouseStore, schema: i64) -> ClickhouseStore {
    let db = super::ident(database);
    let mut statements = super::super::splits::undo(&store.layout);
    statements.extend(super::super::tag_starts::undo(&store.layout));
    statements.push(format!(
        "DROP TABLE {}",
        store.layout.table(super::SPLITS.name)
    ));
    let old = match schema {
        10 => Some(super::OLD_TABLES[0]),
        12 => Some(super::OLD_TABLES[1]),
        _ => None,
    };
    if let Some((table, view)) = old {
        statements.extend([
            format!(
                "CREATE TABLE {db}.{table} (project String, trace_id String) \
                 ENGINE = MergeTree ORDER BY trace_id"
            ),
            format!(
                "CREATE MATERIALIZED VIEW {db}.{view} TO {db}.{table} AS \
                 SELECT project, trace_id FROM {db}.spans"
            ),
        ]);
    }
    super::back_to_schema(&store, statements, schema).await;
    drop(store);
    open(database).await
}

/// A database of schema 9 (spans, no per-trace table), 10 or 12 (the tables of
/// aggregate states) gains the per-trace rows on open, filled from the spans stored
/// before (the old tables dropped), with the traces written twice before named split;
/// spans written after feed it.
#[tokio::test]
async fn spans_stored_before_the_rows_fill_them_on_upgrade() {
    for schema in [9, 10, 12] {
        let database = testserver::fresh_database();
        let store = open(&database).await;
        store.write_spans(trace("a", "prod")).await.unwrap();
        store.write_spans(trace("c", "prod")).await.unwrap();
        store.write_spans(trace("c", "prod")).await.unwrap();
        let store = reopened_from(&database, store, schema).await;
        let left: Vec<String> = store
            .client
            .rows(&format!(
                "SELECT name FROM system.tables WHERE database = {} ORDER BY name",
                super::quote(&database)
            ))
            .await
            .unwrap()
            .iter()
            .map(|r| r.str_of("name"))
            .filter(|n| n.starts_with("trace") && !n.starts_with("trace_tag"))
            .collect();
        assert_eq!(
            left,
            [
                "trace_parts",
                "trace_parts_feed",
                "trace_repeats",
                "trace_service_parts",
                "trace_service_parts_feed",
                "trace_splits"
            ],
            "from {schema}"
        );
        assert_eq!(
            exact_rows(&store).await,
            [("a".into(), true), ("c".into(), false)],
            "from {schema}"
        );
        store.write_spans(trace("b", "dev")).await.unwrap();
        assert_eq!(
            exact_rows(&store).await,
            [("a".into(), true), ("b".into(), true), ("c".into(), false)]
        );
        assert_eq!(
            listed(&store, &TraceQuery::default()).await,
            [
                ("c".into(), 2, 1, 15),
                ("b".into(), 2, 1, 15),
                ("a".into(), 2, 1, 15)
            ]
        );
    }
}

/// A newest-first list pages traces hours to years apart by their true starts: a trace
/// whose root arrived after a child (two rows: split) is listed by its root's start.
#[tokio::test]
async fn newest_first_pages_order_by_true_starts() {
    let store = open(&testserver::fresh_database()).await;
    const HOUR: i64 = 3_600_000;
    for (id, start) in [
        ("1", 0),
        ("2", -2 * HOUR),
        ("3", -20 * HOUR),
        ("4", -72 * HOUR),
        ("5", -30 * 24 * HOUR),
        ("6", -400 * 24 * HOUR),
    ] {
        store
            .write_spans(vec![span(id, "1", None, start)])
            .await
            .unwrap();
    }
    // Older traces, so that the first window (sized to the rows a minute) is a day.
    let old: Vec<Span> = (0..6_000)
        .map(|i| {
            let mut s = span(&format!("{:032x}", i + 1), "1", None, -900 * 24 * HOUR);
            s.trace_id = format!("f{:031x}", i);
            s
        })
        .collect();
    store.write_spans(old).await.unwrap();
    // Trace 7: a child half an hour ago, then its root, 50 hours ago.
    store
        .write_spans(vec![span("7", "2", Some("1"), -HOUR / 2)])
        .await
        .unwrap();
    store
        .write_spans(vec![span("7", "1", None, -50 * HOUR)])
        .await
        .unwrap();
    let mut q = TraceQuery {
        limit: Some(2),
        ..TraceQuery::default()
    };
    let mut order = Vec::new();
    while order.len() < 8 {
        let page = store.list_traces("p", &q).await.unwrap();
        assert_eq!(page.total, 6_007);
        order.extend(page.traces.iter().map(|t| t.trace_id[..1].to_string()));
        q.cursor = page.next_cursor;
    }
    assert_eq!(order, ["1", "2", "3", "7", "4", "5", "6", "f"]);
    let older = TraceQuery {
        to_ms: Some((crate::store::testsuite::base_ns() / 1_000_000) - 10 * HOUR),
        limit: Some(3),
        ..TraceQuery::default()
    };
    let page = store.list_traces("p", &older).await.unwrap();
    let ids: Vec<&str> = page.traces.iter().map(|t| &t.trace_id[..1]).collect();
    assert_eq!((ids, page.total), (vec!["3", "7", "4"], 6_005));
}

/// A database of schema 15 (the rows without ranks, `trace_rows`) gains the ranked rows on
/// open, filled from the spans stored before, schema 15's rows dropped: a trace written in
/// parts before (named split) is merged from its rows, one written twice is still folded from
/// its spans; each lists as before, filters included, as does a trace written in parts after.
#[tokio::test]
async fn schema_15_rows_are_replaced_by_ranked_rows_on_upgrade() {
    let database = testserver::fresh_database();
    let store = open(&database).await;
    store.write_spans(trace("a", "prod")).await.unwrap();
    // The child first: the trace's name, tags and session are its root's, in the later part.
    let b = trace("b", "prod");
    store.write_spans(b[1..].to_vec()).await.unwrap();
    store.write_spans(b[..1].to_vec()).await.unwrap();
    store.write_spans(trace("c", "prod")).await.unwrap();
    store.write_spans(trace("c", "prod")).await.unwrap();
    let prod = TraceQuery {
        tags: vec![TagFilter {
            key: "env".into(),
            value: "prod".into(),
        }],
        ..TraceQuery::default()
    };
    let session = |id: &str| TraceQuery {
        session_id: Some(format!("s-{id}")),
        ..TraceQuery::default()
    };
    let want = [
        ("c".to_string(), 2, 1, 15),
        ("b".to_string(), 2, 1, 15),
        ("a".to_string(), 2, 1, 15),
    ];
    assert_eq!(listed(&store, &prod).await, want);
    let db = super::ident(&database);
    let schema_15 = vec![
        format!(
            "CREATE TABLE {db}.trace_rows (project String, trace_id String) \
             ENGINE = MergeTree ORDER BY trace_id"
        ),
        format!(
            "CREATE MATERIALIZED VIEW {db}.trace_rows_feed TO {db}.trace_rows AS \
             SELECT project, trace_id FROM {db}.spans"
        ),
    ];
    super::back_to_schema(&store, schema_15, 15).await;
    drop(store);
    let store = open(&database).await;
    let tables: Vec<String> = store
        .client
        .rows(&format!(
            "SELECT name FROM system.tables WHERE database = {} AND name LIKE 'trace_%' \
             AND name NOT LIKE 'trace_tag%' ORDER BY name",
            super::quote(&database)
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.str_of("name"))
        .collect();
    assert_eq!(
        tables,
        [
            "trace_parts",
            "trace_parts_feed",
            "trace_repeats",
            "trace_service_parts",
            "trace_service_parts_feed",
            "trace_splits"
        ]
    );
    let repeated = store
        .client
        .rows(&format!(
            "SELECT DISTINCT trace_id FROM {}",
            store.layout.table(super::REPEATS.name)
        ))
        .await
        .unwrap();
    let repeated: Vec<String> = repeated
        .iter()
        .map(|r| r.str_of("trace_id")[..1].to_string())
        .collect();
    assert_eq!(repeated, ["c"]);
    assert_eq!(
        exact_rows(&store).await,
        [("a".into(), true), ("b".into(), false), ("c".into(), false)]
    );
    assert_eq!(listed(&store, &prod).await, want);
    assert_eq!(listed(&store, &session("b")).await, want[1..2]);
    // Written in parts after the upgrade: merged from its two ranked rows.
    let d = trace("d", "prod");
    store.write_spans(d[1..].to_vec()).await.unwrap();
    store.write_spans(d[..1].to_vec()).await.unwrap();
    let mut with_d = vec![("d".to_string(), 2, 1, 15)];
    with_d.extend(want.iter().cloned());
    assert_eq!(listed(&store, &prod).await, with_d);
    assert_eq!(listed(&store, &session("d")).await, with_d[..1]);
    let tagged = store.tag_values("p", "env", None, 10).await.unwrap();
    assert_eq!(tagged[0].trace_count, 4);
}
