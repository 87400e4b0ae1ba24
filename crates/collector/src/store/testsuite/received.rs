//! The live stream's reads: spans received after a cursor (`received_spans`), in receive
//! order, only the project's, paged without gaps; trace summaries by id (`trace_summaries`)
//! as the trace list shows them.

use std::sync::Arc;

use skein_model::span::Span;
use skein_model::{FeedbackUpdate, NewFeedback, TraceQuery};

use super::span;
use crate::store::{ReceivedBatch, Store};

fn ids(batch: &ReceivedBatch) -> Vec<String> {
    batch.spans.iter().map(|s| s.span.span_id.clone()).collect()
}

/// Every span of `project` received after `after`, read `limit` at a time.
async fn read_all(store: &Arc<dyn Store>, project: &str, after: i64, limit: u32) -> Vec<Span> {
    let mut cursor = after;
    let mut spans = Vec::new();
    for _ in 0..100 {
        let batch = store
            .received_spans(project, cursor, limit)
            .await
            .expect("received spans");
        assert!(batch.spans.len() <= limit as usize);
        assert!(batch.scanned_to >= cursor, "the cursor never goes back");
        let seqs: Vec<i64> = batch.spans.iter().map(|s| s.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "receive order: {seqs:?}"
        );
        assert!(seqs.iter().all(|s| *s > cursor && *s <= batch.scanned_to));
        cursor = batch.scanned_to;
        spans.extend(batch.spans.into_iter().map(|s| s.span));
        if !batch.more {
            return spans;
        }
    }
    panic!("reading the received spans never ended");
}

pub async fn received_spans_follow_the_cursor_within_their_project(store: Arc<dyn Store>) {
    let head = store.receive_head().await.expect("head");
    let before = store.received_spans("p", head, 100).await.expect("read");
    assert!(before.spans.is_empty(), "nothing after the head yet");
    assert!(!before.more);

    store
        .write_spans(vec![span("a", "1", None, 0), span("a", "2", Some("1"), 1)])
        .await
        .expect("write");
    let mut other = span("a", "3", None, 2);
    other.project = "q".into();
    store.write_spans(vec![other]).await.expect("write q");
    let first = store.received_spans("p", head, 100).await.expect("read");
    let mut got = ids(&first);
    got.sort();
    assert_eq!(got, vec!["1".repeat(16), "2".repeat(16)]);
    assert!(first.spans.iter().all(|s| s.span.project == "p"));
    assert_eq!(first.spans[0].span.trace_id, "a".repeat(32));

    // Only what came after the cursor read last.
    store
        .write_spans(vec![span("b", "4", None, 3)])
        .await
        .expect("write");
    let second = store
        .received_spans("p", first.scanned_to, 100)
        .await
        .expect("read");
    assert_eq!(ids(&second), vec!["4".repeat(16)]);
    assert!(second.spans[0].seq > first.spans.iter().map(|s| s.seq).max().unwrap_or(0));

    // Another project reads its own.
    let q = store.received_spans("q", head, 100).await.expect("read q");
    assert_eq!(ids(&q), vec!["3".repeat(16)]);

    // Small reads page through everything without gaps or repeats.
    let many: Vec<Span> = (0..7)
        .map(|i| span("c", &format!("{:x}", 5 + i), None, 10 + i))
        .collect();
    store.write_spans(many).await.expect("write many");
    let all = read_all(&store, "p", head, 2).await;
    let mut got: Vec<String> = all.iter().map(|s| s.span_id.clone()).collect();
    got.sort();
    let mut want: Vec<String> = (1..=2)
        .chain(4..12)
        .map(|i| format!("{i:x}").repeat(16))
        .collect();
    want.sort();
    assert_eq!(got, want);
    // Read in full: the span as written.
    let one = all
        .iter()
        .find(|s| s.span_id == "4".repeat(16))
        .expect("span 4");
    assert_eq!(one.name, "span-4");
    assert_eq!(one.service, "svc-4");
}

pub async fn trace_summaries_are_the_lists_rows(store: Arc<dyn Store>) {
    let mut spans = vec![
        span("a", "1", None, 0),
        span("a", "2", Some("1"), 1),
        span("b", "3", None, 5),
    ];
    spans[1].end_ns += 9_000_000;
    spans[2].tags.insert("env".into(), "prod".into());
    store.write_spans(spans).await.expect("write");
    let list = store
        .list_traces("p", &TraceQuery::default())
        .await
        .expect("list");
    let (a, b) = ("a".repeat(32), "b".repeat(32));
    let missing = "c".repeat(32);
    let got = store
        .trace_summaries(
            "p",
            &[b.clone(), missing, a.clone()],
            &TraceQuery::default(),
        )
        .await
        .expect("summaries");
    let row = |id: &str| list.traces.iter().find(|t| t.trace_id == id).cloned();
    assert_eq!(got, vec![row(&b).expect("b"), row(&a).expect("a")]);
    assert_eq!(got[1].span_count, 2);
    assert!(store
        .trace_summaries("other", &[a], &TraceQuery::default())
        .await
        .expect("other project")
        .is_empty());
}

/// Every condition of a trace list's query, on the traces asked only: what the list shows of
/// them (the live stream's `filter`, `trace_filter`, `tree_filter`, tags...).
pub async fn trace_summaries_pass_the_lists_query(store: Arc<dyn Store>) {
    // a: root "agent", child "llm" with an error; b: root "agent" only; c: a child "llm" whose
    // root has not arrived; d: root "chat" tagged prod, child "llm".
    let mut spans = vec![
        span("a", "1", None, 0),
        span("a", "2", Some("1"), 1),
        span("b", "3", None, 2),
        span("c", "4", Some("9"), 3),
        span("d", "5", None, 4),
        span("d", "6", Some("5"), 5),
    ];
    for (i, name) in [
        (0, "agent"),
        (1, "llm"),
        (2, "agent"),
        (3, "llm"),
        (4, "chat"),
        (5, "llm"),
    ] {
        spans[i].name = name.into();
    }
    spans[1].status = skein_model::span::SpanStatus::Error;
    spans[4].tags.insert("env".into(), "prod".into());
    store.write_spans(spans).await.expect("write");
    let ids: Vec<String> = ["d", "c", "b", "a", "e"]
        .iter()
        .map(|t| t.repeat(32))
        .collect();
    let cases: &[(&str, &[&str])] = &[
        ("", &["d", "c", "b", "a"]),
        (r#"filter=eq(name, "llm")"#, &["d", "c", "a"]),
        (r#"tree_filter=eq(name, "llm")"#, &["d", "c", "a"]),
        (r#"trace_filter=eq(name, "agent")"#, &["b", "a"]),
        (
            r#"trace_filter=eq(name, "agent")&tree_filter=eq(status, "error")"#,
            &["a"],
        ),
        (r#"filter=eq(name, "llm")&tag=env=prod"#, &["d"]),
        ("status=error", &["a"]),
        (r#"trace_filter=eq(name, "nothing")"#, &[]),
    ];
    for (query, want) in cases {
        let q = TraceQuery::from_pairs(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.split_once('=')),
        )
        .expect("query");
        let got: Vec<String> = store
            .trace_summaries("p", &ids, &q)
            .await
            .expect("summaries")
            .into_iter()
            .map(|t| t.trace_id)
            .collect();
        let want: Vec<String> = want.iter().map(|t| t.repeat(32)).collect();
        assert_eq!(got, want, "{query}");
        // The list agrees.
        let mut listed: Vec<String> = store
            .list_traces("p", &q)
            .await
            .expect("list")
            .traces
            .into_iter()
            .map(|t| t.trace_id)
            .collect();
        listed.sort();
        let mut sorted = want.clone();
        sorted.sort();
        assert_eq!(listed, sorted, "the list: {query}");
    }
    let bad = TraceQuery {
        tree_filter: Some("eq(name,".into()),
        ..TraceQuery::default()
    };
    assert!(store.trace_summaries("p", &ids, &bad).await.is_err());
}

/// A span written again with changes (a LangSmith run's patch) is received again, after what
/// came in between, as it is now; a head taken after it is past it.
pub async fn a_patched_span_is_received_again(store: Arc<dyn Store>) {
    let head = store.receive_head().await.expect("head");
    let mut run = span("a", "1", None, 0);
    run.end_ns = run.start_ns;
    store
        .write_span_pieces(vec![run.clone()])
        .await
        .expect("post");
    let first = read_all(&store, "p", head, 100).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].end_ns, first[0].start_ns, "not ended yet");
    let after_first = store
        .received_spans("p", head, 100)
        .await
        .expect("read")
        .scanned_to;

    store
        .write_spans(vec![span("b", "2", None, 1)])
        .await
        .expect("another span");
    let mut patch = run.clone();
    patch.end_ns = run.start_ns + 5_000_000;
    patch.output = Some("answer".into());
    patch.attributes.insert(
        skein_model::span_pieces::ATTR_END_TIME.into(),
        serde_json::json!("2026-01-01T00:00:00Z"),
    );
    store.write_span_pieces(vec![patch]).await.expect("patch");
    let second = read_all(&store, "p", after_first, 1).await;
    let ids: Vec<String> = second.iter().map(|s| s.span_id.clone()).collect();
    assert_eq!(
        ids,
        vec!["2".repeat(16), "1".repeat(16)],
        "in receive order"
    );
    assert_eq!(second[1].output.as_deref(), Some("answer"));
    assert_eq!(second[1].end_ns - second[1].start_ns, 5_000_000);

    let now = store.receive_head().await.expect("head");
    let later = store.received_spans("p", now, 100).await.expect("read");
    assert!(later.spans.is_empty(), "{later:?}");
}

/// Feedback written on a stored span (created, changed, removed) receives the span again, so
/// that a stream whose conditions name feedback decides again; feedback on a run not stored
/// receives nothing.
pub async fn feedback_on_a_span_receives_it_again(store: Arc<dyn Store>) {
    let head = store.receive_head().await.expect("head");
    store
        .write_spans(vec![span("a", "1", None, 0), span("a", "2", Some("1"), 1)])
        .await
        .expect("write");
    assert_eq!(read_all(&store, "p", head, 100).await.len(), 2);
    let mut cursor = store
        .received_spans("p", head, 100)
        .await
        .expect("read")
        .scanned_to;
    let rated = TraceQuery {
        tree_filter: Some(
            r#"and(eq(feedback_key, "correctness"), gt(feedback_score, 0.5))"#.into(),
        ),
        ..TraceQuery::default()
    };
    let trace = "a".repeat(32);
    let passes = |store: Arc<dyn Store>, q: TraceQuery| {
        let trace = trace.clone();
        async move {
            !store
                .trace_summaries("p", &[trace], &q)
                .await
                .expect("summaries")
                .is_empty()
        }
    };
    assert!(!passes(store.clone(), rated.clone()).await);

    let next = |store: Arc<dyn Store>, after: i64| async move {
        let batch = read_all(&store, "p", after, 100).await;
        let to = store
            .received_spans("p", after, 100)
            .await
            .expect("read")
            .scanned_to;
        (batch, to)
    };
    let created = store
        .create_feedback(
            "p",
            NewFeedback {
                run_id: "2".repeat(16),
                key: "correctness".into(),
                score: Some(1.0),
                ..NewFeedback::default()
            },
        )
        .await
        .expect("feedback");
    let (again, to) = next(store.clone(), cursor).await;
    let got: Vec<&str> = again.iter().map(|s| s.span_id.as_str()).collect();
    assert_eq!(got, vec!["2".repeat(16)], "the rated span, once");
    assert!(passes(store.clone(), rated.clone()).await);
    cursor = to;

    store
        .update_feedback(
            "p",
            &created.id,
            FeedbackUpdate {
                score: Some(0.0),
                ..FeedbackUpdate::default()
            },
        )
        .await
        .expect("update")
        .expect("found");
    let (again, to) = next(store.clone(), cursor).await;
    assert_eq!(again.len(), 1, "changed: received again");
    assert!(!passes(store.clone(), rated.clone()).await);
    cursor = to;

    assert!(store
        .delete_feedback("p", &created.id)
        .await
        .expect("delete"));
    let (again, to) = next(store.clone(), cursor).await;
    assert_eq!(again.len(), 1, "removed: received again");
    cursor = to;

    // A run that was never stored: nothing to receive.
    store
        .create_feedback(
            "p",
            NewFeedback {
                run_id: "9".repeat(16),
                trace_id: Some("a".repeat(32)),
                key: "correctness".into(),
                score: Some(1.0),
                ..NewFeedback::default()
            },
        )
        .await
        .expect("feedback");
    let (again, _) = next(store.clone(), cursor).await;
    assert!(again.is_empty(), "{again:?}");
}
