//! Spans that arrive in pieces (LangSmith's post, then patch), folded by
//! `skein_model::span_pieces`.

use std::sync::Arc;

use serde_json::json;
use skein_model::span::{Span, SpanStatus};
use skein_model::span_pieces::{ATTR_END_TIME, ATTR_ERROR};
use skein_model::{TagFilter, TraceQuery};

use super::span;
use crate::store::Store;

/// A run's `post`: started, not ended.
fn post(id: &str, parent: Option<&str>, service: &str) -> Span {
    let mut s = span("a", id, parent, 0);
    s.service = service.into();
    s.end_ns = s.start_ns;
    s.input = Some("question".into());
    s
}

/// The same run's `patch`: ended 5 ms in, with its output.
fn patch(of: &Span) -> Span {
    let mut s = of.clone();
    s.input = None;
    s.end_ns = s.start_ns + 5_000_000;
    s.output = Some("answer".into());
    s.status = SpanStatus::Ok;
    s.attributes
        .insert(ATTR_END_TIME.into(), json!("2026-01-01T00:00:00Z"));
    s
}

pub async fn post_then_patch_reads_as_one_span(store: Arc<dyn Store>) {
    let run = post("1", None, "svc");
    let first = store.write_span_pieces(vec![run.clone()]).await.unwrap();
    assert_eq!((first.inserted, first.merged), (1, 0));
    let second = store.write_span_pieces(vec![patch(&run)]).await.unwrap();
    assert_eq!(second.merged, 1);
    // The patch sent again changes nothing.
    let third = store.write_span_pieces(vec![patch(&run)]).await.unwrap();
    assert_eq!((third.merged, third.duplicates), (0, 1));

    let folded = store
        .span("p", &run.trace_id, &run.span_id)
        .await
        .unwrap()
        .expect("the run");
    assert_eq!(
        folded.input.as_deref(),
        Some("question"),
        "the post's input is kept"
    );
    assert_eq!(folded.output.as_deref(), Some("answer"));
    assert_eq!(folded.end_ns - folded.start_ns, 5_000_000);
    let page = store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.traces[0].span_count, 1);
    assert_eq!(page.traces[0].duration_ns(), 5_000_000);
    assert_eq!(page.traces[0].status, SpanStatus::Ok);
    let skeleton = store
        .trace("p", &run.trace_id)
        .await
        .unwrap()
        .expect("trace");
    assert_eq!(skeleton.spans.len(), 1);
}

pub async fn a_replaced_piece_keeps_every_count_exact(store: Arc<dyn Store>) {
    let mut root = post("1", None, "svc-a");
    root.tags.insert("env".into(), "staging".into());
    let child = post("2", Some("1"), "svc-a");
    store
        .write_span_pieces(vec![root.clone(), child])
        .await
        .unwrap();

    // The root's patch: it ended later, failed, moved service and changed a tag.
    let mut patched = patch(&root);
    patched.status = SpanStatus::Error;
    patched.attributes.insert(ATTR_ERROR.into(), json!("boom"));
    patched.service = "svc-b".into();
    patched.tags.insert("env".into(), "production".into());
    patched.input_tokens = Some(7);
    let outcome = store.write_span_pieces(vec![patched]).await.unwrap();
    assert_eq!(outcome.merged, 1);

    let page = store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let t = &page.traces[0];
    assert_eq!((t.span_count, t.error_count), (2, 1));
    assert_eq!(t.status, SpanStatus::Error);
    assert_eq!(t.input_tokens, 7);
    assert_eq!(t.services, vec!["svc-b", "svc-a"]);
    assert_eq!(t.tags["env"], "production");

    let services = store.services("p").await.unwrap();
    let count = |name: &str| {
        services
            .iter()
            .find(|s| s.name == name)
            .map(|s| (s.span_count, s.error_count))
    };
    assert_eq!(count("svc-a"), Some((1, 0)));
    assert_eq!(count("svc-b"), Some((1, 1)));
    let values = store.tag_values("p", "env", None, 10).await.unwrap();
    assert_eq!(values.len(), 1, "{values:?}");
    assert_eq!(
        (values[0].value.as_str(), values[0].trace_count),
        ("production", 1)
    );
    let by = |v: &str| TraceQuery {
        tags: vec![TagFilter::parse(&format!("env={v}")).unwrap()],
        ..TraceQuery::default()
    };
    assert_eq!(
        store
            .list_traces("p", &by("production"))
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        store.list_traces("p", &by("staging")).await.unwrap().total,
        0
    );
}

pub async fn pieces_are_found_by_span_id_within_their_project(store: Arc<dyn Store>) {
    let run = post("3", None, "svc");
    // Both pieces in one request: folded in the order sent.
    let outcome = store
        .write_span_pieces(vec![run.clone(), patch(&run)])
        .await
        .unwrap();
    assert_eq!((outcome.inserted, outcome.merged), (1, 0));
    let found = store
        .pieced_spans(Some("p"), &run.span_id, 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].output.as_deref(), Some("answer"));
    assert_eq!(found[0].project, "p");
    assert!(store
        .pieced_spans(Some("p"), &"f".repeat(16), 10)
        .await
        .unwrap()
        .is_empty());

    // Another project stores a span with the same id (a LangSmith run UUID it knows): each
    // project finds its own, and neither changes the other's.
    let mut theirs = post("3", None, "other-svc");
    theirs.project = "q".into();
    theirs.trace_id = "b".repeat(32);
    theirs.start_ns += 1_000_000;
    theirs.input = Some("not yours".into());
    store.write_span_pieces(vec![theirs]).await.unwrap();
    let in_p = store
        .pieced_spans(Some("p"), &run.span_id, 10)
        .await
        .unwrap();
    assert_eq!(in_p.len(), 1);
    assert_eq!(
        (in_p[0].project.as_str(), in_p[0].input.as_deref()),
        ("p", Some("question"))
    );
    let in_q = store
        .pieced_spans(Some("q"), &run.span_id, 10)
        .await
        .unwrap();
    assert_eq!(in_q.len(), 1);
    assert_eq!(in_q[0].input.as_deref(), Some("not yours"));
    assert!(store
        .pieced_spans(Some("r"), &run.span_id, 10)
        .await
        .unwrap()
        .is_empty());
    // Any project (a Skein without keys): both, newest first.
    let anywhere = store.pieced_spans(None, &run.span_id, 10).await.unwrap();
    let projects: Vec<&str> = anywhere.iter().map(|s| s.project.as_str()).collect();
    assert_eq!(projects, ["q", "p"]);
}
