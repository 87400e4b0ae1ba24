//! Spans in, the trace list and one trace out.

use std::sync::Arc;

use skein_model::span::SpanStatus;
use skein_model::{StatusFilter, TagFilter, TraceQuery, TraceSort};

use super::{base_ns, span, trace_hex};
use crate::store::{Store, StoreError};

fn tag(t: &str) -> TagFilter {
    TagFilter::parse(t).expect("a tag filter")
}

pub async fn summary_is_right_whatever_the_arrival_order(store: Arc<dyn Store>) {
    let mut child = span("a", "2", Some("1"), 2);
    child.status = SpanStatus::Error;
    child.input_tokens = Some(10);
    child.cost = Some(0.25);
    child.tags.insert("env".into(), "child-env".into());
    child.tags.insert("step".into(), "plan".into());
    store.write_spans(vec![child]).await.unwrap();

    let page = store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap();
    assert_eq!(page.traces[0].root_name, "span-2");
    assert!(!page.traces[0].has_root);
    // Until its root arrives, a trace is tagged by its earliest span.
    assert_eq!(page.traces[0].tags["step"], "plan");

    let mut root = span("a", "1", None, 1);
    root.status = SpanStatus::Ok;
    root.tags.insert("env".into(), "production".into());
    root.session_id = Some("s-1".into());
    root.output_tokens = Some(5);
    store.write_spans(vec![root]).await.unwrap();

    let page = store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let t = &page.traces[0];
    assert_eq!(t.root_name, "span-1");
    assert!(t.has_root);
    assert_eq!(t.span_count, 2);
    assert_eq!(t.error_count, 1);
    assert_eq!(t.status, SpanStatus::Error);
    assert_eq!(t.start_ns, base_ns() + 1_000_000);
    assert_eq!(t.end_ns, base_ns() + 3_000_000);
    assert_eq!(t.services, vec!["svc-1", "svc-2"]);
    // The root's tags; its child's stay on the child.
    assert_eq!(t.tags["env"], "production");
    assert!(!t.tags.contains_key("step"), "{:?}", t.tags);
    assert_eq!(t.session_id.as_deref(), Some("s-1"));
    assert_eq!((t.input_tokens, t.output_tokens), (10, 5));
    assert!((t.cost - 0.25).abs() < 1e-12);

    let by = |q: &str| TraceQuery {
        tags: vec![tag(q)],
        ..TraceQuery::default()
    };
    assert_eq!(
        store
            .list_traces("p", &by("env=production"))
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        store
            .list_traces("p", &by("env=child-env"))
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        store
            .list_traces("p", &by("step=plan"))
            .await
            .unwrap()
            .total,
        0
    );
    let values = store.tag_values("p", "env", None, 10).await.unwrap();
    assert_eq!(values.len(), 1, "{values:?}");
    assert_eq!(
        (values[0].value.as_str(), values[0].trace_count),
        ("production", 1)
    );
}

pub async fn a_retried_request_is_stored_once(store: Arc<dyn Store>) {
    let spans = vec![span("b", "1", None, 0), span("b", "2", Some("1"), 1)];
    let first = store.write_spans(spans.clone()).await.unwrap();
    assert_eq!((first.inserted, first.duplicates), (2, 0));
    // Acknowledged again (an engine may or may not tell it saw them: the reads below count).
    let again = store.write_spans(spans).await.unwrap();
    assert_eq!(again.inserted + again.duplicates, 2);
    let t = &store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap()
        .traces[0];
    assert_eq!(t.span_count, 2);
    let services = store.services("p").await.unwrap();
    assert!(services.iter().all(|s| s.span_count == 1), "{services:?}");
}

pub async fn an_orphan_is_kept_and_named_by_its_earliest_span(store: Arc<dyn Store>) {
    let late = span("c", "3", Some("9"), 5);
    let early = span("c", "2", Some("9"), 1);
    store.write_spans(vec![late]).await.unwrap();
    store.write_spans(vec![early]).await.unwrap();
    let t = &store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap()
        .traces[0];
    assert!(!t.has_root);
    assert_eq!(t.root_name, "span-2");
    assert_eq!(t.span_count, 2);
    let skeleton = store
        .trace("p", &t.trace_id)
        .await
        .unwrap()
        .expect("the trace");
    assert_eq!(skeleton.spans.len(), 2);
}

pub async fn pages_follow_the_cursor_without_gaps(store: Arc<dyn Store>) {
    let spans = (0..25)
        .map(|i| {
            let mut s = span("d", "1", None, i);
            s.trace_id = trace_hex(i);
            s
        })
        .collect();
    store.write_spans(spans).await.unwrap();
    for sort in [TraceSort::StartDesc, TraceSort::StartAsc] {
        let mut query = TraceQuery {
            limit: Some(10),
            sort,
            ..TraceQuery::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = store.list_traces("p", &query).await.unwrap();
            assert_eq!(page.total, 25);
            seen.extend(page.traces.iter().map(|t| t.start_ns));
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => break,
            }
        }
        let mut expected: Vec<i64> = (0..25).map(|i| base_ns() + i * 1_000_000).collect();
        if sort == TraceSort::StartDesc {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{sort:?}");
    }
}

pub async fn a_cursor_the_store_did_not_give_is_invalid(store: Arc<dyn Store>) {
    store
        .write_spans(vec![span("e", "1", None, 0)])
        .await
        .unwrap();
    let query = TraceQuery {
        cursor: Some("not-a-cursor".into()),
        ..TraceQuery::default()
    };
    let err = store.list_traces("p", &query).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
}

/// 60 traces: env alternates, tier cycles over 3, every 5th fails, trace i lasts i+1 ms.
async fn sixty_traces(store: &Arc<dyn Store>) {
    let spans = (0..60)
        .map(|i: i64| {
            let mut s = span("1", "1", None, i);
            s.trace_id = trace_hex(i);
            s.end_ns = s.start_ns + (i + 1) * 1_000_000;
            s.tags
                .insert("env".into(), ["prod", "dev"][i as usize % 2].into());
            s.tags
                .insert("tier".into(), ["a", "b", "c"][i as usize % 3].into());
            if i % 5 == 0 {
                s.status = SpanStatus::Error;
            }
            s
        })
        .collect();
    store.write_spans(spans).await.unwrap();
}

/// Every page of `query` (4 at a time), as the traces' indexes, and the totals all agree.
async fn all_pages(store: &Arc<dyn Store>, mut query: TraceQuery, expected: &[i64]) {
    query.limit = Some(4);
    let mut seen = Vec::new();
    loop {
        let page = store.list_traces("p", &query).await.unwrap();
        assert_eq!(page.total, expected.len() as u64, "{query:?}");
        seen.extend(
            page.traces
                .iter()
                .map(|t| (t.start_ns - base_ns()) / 1_000_000),
        );
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    let newest_first: Vec<i64> = expected.iter().rev().copied().collect();
    assert_eq!(seen, newest_first, "{query:?}");
}

pub async fn tag_filters_count_and_page_like_a_scan_would(store: Arc<dyn Store>) {
    sixty_traces(&store).await;
    let cases: Vec<(Vec<&str>, Option<StatusFilter>, Vec<i64>)> = vec![
        (
            vec!["env=prod"],
            None,
            (0..60).filter(|i| i % 2 == 0).collect(),
        ),
        (
            vec!["env=prod", "tier=b"],
            None,
            (0..60).filter(|i| i % 2 == 0 && i % 3 == 1).collect(),
        ),
        (
            vec!["tier=a", "env=dev"],
            Some(StatusFilter::Error),
            (0..60)
                .filter(|i| i % 3 == 0 && i % 2 == 1 && i % 5 == 0)
                .collect(),
        ),
        (
            vec![],
            Some(StatusFilter::Ok),
            (0..60).filter(|i| i % 5 != 0).collect(),
        ),
        (vec!["tier=c", "env=nowhere"], None, vec![]),
    ];
    for (tags, status, expected) in cases {
        let query = TraceQuery {
            tags: tags.into_iter().map(tag).collect(),
            status,
            ..TraceQuery::default()
        };
        all_pages(&store, query, &expected).await;
    }
}

pub async fn time_and_latency_ranges_select_like_a_scan_would(store: Arc<dyn Store>) {
    sixty_traces(&store).await;
    let base_ms = base_ns() / 1_000_000;
    let query = TraceQuery {
        tags: vec![tag("tier=c")],
        min_duration_ms: Some(30.0),
        ..TraceQuery::default()
    };
    all_pages(
        &store,
        query,
        &(0..60)
            .filter(|i| i % 3 == 2 && i + 1 >= 30)
            .collect::<Vec<_>>(),
    )
    .await;
    let query = TraceQuery {
        max_duration_ms: Some(10.0),
        ..TraceQuery::default()
    };
    all_pages(&store, query, &(0..10).collect::<Vec<_>>()).await;
    let query = TraceQuery {
        from_ms: Some(base_ms + 20),
        to_ms: Some(base_ms + 30),
        ..TraceQuery::default()
    };
    all_pages(&store, query, &(20..30).collect::<Vec<_>>()).await;
    let query = TraceQuery {
        name: Some("SPAN-1".into()),
        to_ms: Some(base_ms + 5),
        ..TraceQuery::default()
    };
    all_pages(&store, query, &(0..5).collect::<Vec<_>>()).await;
}

pub async fn projects_see_only_their_own_traces(store: Arc<dyn Store>) {
    let mut a = span("f", "1", None, 0);
    a.project = "équipe \"A\"".into();
    a.tags.insert("env".into(), "a".into());
    let mut b = span("f", "1", None, 0);
    b.project = "team-b".into();
    store.write_spans(vec![a.clone(), b]).await.unwrap();
    for project in ["équipe \"A\"", "team-b"] {
        let page = store
            .list_traces(project, &TraceQuery::default())
            .await
            .unwrap();
        assert_eq!(page.total, 1, "{project}");
        assert!(store.trace(project, &a.trace_id).await.unwrap().is_some());
    }
    assert_eq!(store.tag_keys("équipe \"A\"").await.unwrap().len(), 1);
    assert!(store.tag_keys("team-b").await.unwrap().is_empty());
    assert_eq!(
        store
            .list_traces("nobody", &TraceQuery::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(store.trace("nobody", &a.trace_id).await.unwrap().is_none());
    assert!(store
        .span("nobody", &a.trace_id, &a.span_id)
        .await
        .unwrap()
        .is_none());
}

pub async fn skeleton_span_and_search_read_what_was_written(store: Arc<dyn Store>) {
    let mut root = span("9", "1", None, 0);
    root.input = Some("<script>alert('plan')</script> find the needle".into());
    let mut child = span("9", "2", Some("1"), 1);
    child.output = Some("nothing here".into());
    child.status = SpanStatus::Error;
    store
        .write_spans(vec![child.clone(), root.clone()])
        .await
        .unwrap();

    let skeleton = store
        .trace("p", &root.trace_id)
        .await
        .unwrap()
        .expect("the trace");
    assert_eq!(skeleton.spans.len(), 2);
    assert_eq!(skeleton.summary.span_count, 2);
    let full = store
        .span("p", &root.trace_id, &root.span_id)
        .await
        .unwrap()
        .expect("the span");
    assert_eq!(full.input, root.input);
    assert_eq!(full.name, root.name);
    let all = store.trace_spans("p", &root.trace_id).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|s| s.span_id.as_str()).collect();
    assert_eq!(
        ids,
        vec![child.span_id.as_str(), root.span_id.as_str()],
        "arrival order"
    );

    let found = store
        .search_trace("p", &root.trace_id, "needle")
        .await
        .unwrap();
    assert_eq!(found, Some(vec![root.span_id.clone()]));
    let found = store
        .search_trace("p", &root.trace_id, "absent")
        .await
        .unwrap();
    assert_eq!(found, Some(vec![]));
    assert_eq!(
        store.search_trace("p", &"0".repeat(32), "x").await.unwrap(),
        None
    );
}

pub async fn catalog_counts_services_tags_and_projects(store: Arc<dyn Store>) {
    let mut spans = Vec::new();
    for i in 0..3 {
        let mut root = span("1", "1", None, i);
        root.trace_id = trace_hex(i);
        root.service = "gateway".into();
        root.tags
            .insert("variant".into(), if i < 2 { "A" } else { "B" }.into());
        let mut child = span("1", "2", Some("1"), i);
        child.trace_id = trace_hex(i);
        child.service = "llm".into();
        child.status = if i == 0 {
            SpanStatus::Error
        } else {
            SpanStatus::Ok
        };
        spans.extend([root, child]);
    }
    store.write_spans(spans).await.unwrap();
    let services = store.services("p").await.unwrap();
    let counts: Vec<(&str, u64, u64)> = services
        .iter()
        .map(|s| (s.name.as_str(), s.span_count, s.error_count))
        .collect();
    assert!(counts.contains(&("gateway", 3, 0)), "{counts:?}");
    assert!(counts.contains(&("llm", 3, 1)), "{counts:?}");
    let keys = store.tag_keys("p").await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].key.as_str(), keys[0].trace_count), ("variant", 3));
    let values = store.tag_values("p", "variant", None, 10).await.unwrap();
    let values: Vec<(&str, u64)> = values
        .iter()
        .map(|v| (v.value.as_str(), v.trace_count))
        .collect();
    assert_eq!(values, vec![("A", 2), ("B", 1)]);
    assert!(store
        .tag_values("p", "variant", Some("%"), 10)
        .await
        .unwrap()
        .is_empty());
    let projects = store.projects().await.unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!((projects[0].trace_count, projects[0].span_count), (3, 6));
}

pub async fn project_names_are_every_project_with_traces(store: Arc<dyn Store>) {
    assert!(store.project_names().await.unwrap().is_empty());
    let names = ["p", "équipe", "チーム 東京", "a b \"c\"", "z"];
    let mut spans = Vec::new();
    for (i, name) in names.iter().enumerate() {
        // Several traces in some projects: a name is listed once.
        for t in 0..=i as i64 {
            let mut s = span("1", "1", None, t);
            s.trace_id = trace_hex(t);
            s.project = name.to_string();
            spans.push(s);
        }
    }
    store.write_spans(spans).await.unwrap();
    let mut want: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    want.sort();
    assert_eq!(store.project_names().await.unwrap(), want);
    let listed: Vec<String> = store
        .projects()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(listed, want, "the same projects as `projects` lists");
}

pub async fn traces_older_than_the_retention_leave_with_all_they_hold(store: Arc<dyn Store>) {
    let day_ms: i64 = 86_400_000;
    // An old trace (10 days before the others) with tags, an error, a LangSmith-style piece
    // and feedback; a recent one beside it.
    let mut old_root = span("a", "1", None, -10 * day_ms);
    old_root.tags.insert("env".into(), "old".into());
    old_root.service = "gateway".into();
    let mut old_child = span("a", "2", Some("1"), -10 * day_ms + 1);
    old_child.status = SpanStatus::Error;
    old_child.service = "llm".into();
    let mut new_root = span("b", "1", None, 0);
    new_root.tags.insert("env".into(), "new".into());
    new_root.service = "gateway".into();
    store
        .write_spans(vec![old_root.clone(), old_child, new_root.clone()])
        .await
        .unwrap();
    let mut old_run = span("c", "3", None, -10 * day_ms);
    old_run.trace_id = old_root.trace_id.clone();
    store
        .write_span_pieces(vec![old_run.clone()])
        .await
        .unwrap();
    let feedback = skein_model::NewFeedback {
        run_id: old_root.span_id.clone(),
        trace_id: Some(old_root.trace_id.clone()),
        key: "k".into(),
        score: Some(1.0),
        ..skein_model::NewFeedback::default()
    };
    store.create_feedback("p", feedback).await.unwrap();

    let removed = store
        .expire_before(base_ns() - day_ms * 1_000_000)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    // An engine may finish in the background: wait (a bounded while) until every reader agrees.
    let by_trace = crate::store::FeedbackFilter {
        trace_id: Some(old_root.trace_id.clone()),
        ..crate::store::FeedbackFilter::default()
    };
    let mut page = store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap();
    for _ in 0..100 {
        let gone = page.total == 1
            && store
                .trace_spans("p", &old_root.trace_id)
                .await
                .unwrap()
                .is_empty()
            && store
                .list_feedback("p", by_trace.clone())
                .await
                .unwrap()
                .is_empty()
            && store
                .pieced_spans(Some("p"), &old_run.span_id, 10)
                .await
                .unwrap()
                .is_empty();
        if gone {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = store
            .list_traces("p", &TraceQuery::default())
            .await
            .unwrap();
    }
    assert_eq!(page.total, 1, "{page:?}");
    assert_eq!(page.traces[0].trace_id, new_root.trace_id);
    assert!(store
        .trace("p", &old_root.trace_id)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .trace_spans("p", &old_root.trace_id)
        .await
        .unwrap()
        .is_empty());
    assert!(store.list_feedback("p", by_trace).await.unwrap().is_empty());
    assert!(store
        .pieced_spans(Some("p"), &old_run.span_id, 10)
        .await
        .unwrap()
        .is_empty());
    let services: Vec<(String, u64, u64)> = store
        .services("p")
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.span_count > 0)
        .map(|s| (s.name, s.span_count, s.error_count))
        .collect();
    assert_eq!(services, vec![("gateway".to_string(), 1, 0)]);
    let values: Vec<(String, u64)> = store
        .tag_values("p", "env", None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.value, v.trace_count))
        .collect();
    assert_eq!(values, vec![("new".to_string(), 1)]);
    // Nothing left to remove.
    assert_eq!(
        store
            .expire_before(base_ns() - day_ms * 1_000_000)
            .await
            .unwrap(),
        0
    );
}

/// The project list read after each kind of write that changes it: a new trace, a trace that
/// grows, another project, a span sent in pieces, old traces expired (an engine may keep the
/// list between reads, never past a write).
pub async fn the_project_list_follows_every_write(store: Arc<dyn Store>) {
    async fn counts(store: &Arc<dyn Store>) -> Vec<(String, u64, u64)> {
        let list = store.projects().await.unwrap();
        list.into_iter()
            .map(|p| (p.name, p.trace_count, p.span_count))
            .collect()
    }
    let listed = |rows: &[(&str, u64, u64)]| -> Vec<(String, u64, u64)> {
        rows.iter()
            .map(|(n, t, s)| (n.to_string(), *t, *s))
            .collect()
    };
    assert!(counts(&store).await.is_empty());
    let day_ms: i64 = 86_400_000;
    let old_root = span("a", "1", None, -10 * day_ms);
    store.write_spans(vec![old_root]).await.unwrap();
    assert_eq!(counts(&store).await, listed(&[("p", 1, 1)]));
    let old_child = span("a", "2", Some("1"), -10 * day_ms + 1);
    store.write_spans(vec![old_child]).await.unwrap();
    assert_eq!(
        counts(&store).await,
        listed(&[("p", 1, 2)]),
        "the trace grew"
    );
    let mut elsewhere = span("b", "1", None, 0);
    elsewhere.project = "q".into();
    store.write_spans(vec![elsewhere]).await.unwrap();
    assert_eq!(counts(&store).await, listed(&[("p", 1, 2), ("q", 1, 1)]));
    let piece = span("c", "3", None, 0);
    store.write_span_pieces(vec![piece]).await.unwrap();
    assert_eq!(
        counts(&store).await,
        listed(&[("p", 2, 3), ("q", 1, 1)]),
        "a span in pieces"
    );

    let removed = store
        .expire_before(base_ns() - day_ms * 1_000_000)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    // An engine may finish in the background: wait (a bounded while) until the list agrees.
    let after = listed(&[("p", 1, 1), ("q", 1, 1)]);
    for _ in 0..100 {
        if counts(&store).await == after {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(counts(&store).await, after, "the old trace expired");
}
