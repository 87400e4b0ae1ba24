//! Feedback on runs.

use std::sync::Arc;

use skein_model::{FeedbackUpdate, NewFeedback, TraceQuery};

use super::span;
use crate::store::{FeedbackFilter, Store};

fn score(run_id: &str, key: &str, score: f64) -> NewFeedback {
    NewFeedback {
        run_id: run_id.into(),
        key: key.into(),
        score: Some(score),
        ..NewFeedback::default()
    }
}

fn of_trace(trace_id: &str) -> FeedbackFilter {
    FeedbackFilter {
        trace_id: Some(trace_id.into()),
        ..FeedbackFilter::default()
    }
}

pub async fn feedback_is_found_through_its_run_and_edited(store: Arc<dyn Store>) {
    let root = span("c", "1", None, 0);
    store.write_spans(vec![root.clone()]).await.unwrap();
    let mut new = score(&root.span_id, "user_satisfaction", 1.0);
    new.comment = Some("great".into());
    let f = store.create_feedback("p", new).await.unwrap();
    assert_eq!(f.trace_id.as_deref(), Some(root.trace_id.as_str()));
    assert_eq!(
        store
            .list_feedback("p", of_trace(&root.trace_id))
            .await
            .unwrap(),
        vec![f.clone()]
    );

    let update = FeedbackUpdate {
        score: Some(0.0),
        ..FeedbackUpdate::default()
    };
    let updated = store
        .update_feedback("p", &f.id, update.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.score, Some(0.0));
    assert_eq!(updated.comment.as_deref(), Some("great"));
    assert!(store
        .update_feedback("other", &f.id, update)
        .await
        .unwrap()
        .is_none());
    assert!(!store.delete_feedback("other", &f.id).await.unwrap());
    assert!(store.delete_feedback("p", &f.id).await.unwrap());
    assert!(store
        .list_feedback("p", of_trace(&root.trace_id))
        .await
        .unwrap()
        .is_empty());
}

pub async fn feedback_before_its_run_takes_the_trace_when_it_arrives(store: Arc<dyn Store>) {
    let root = span("d", "1", None, 0);
    let f = store
        .create_feedback("p", score(&root.span_id, "correct", 1.0))
        .await
        .unwrap();
    assert_eq!(f.trace_id, None);
    let by_run = FeedbackFilter {
        run_id: Some(root.span_id.clone()),
        ..FeedbackFilter::default()
    };
    assert_eq!(store.list_feedback("p", by_run).await.unwrap().len(), 1);
    store.write_spans(vec![root.clone()]).await.unwrap();
    let listed = store
        .list_feedback("p", of_trace(&root.trace_id))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].trace_id.as_deref(), Some(root.trace_id.as_str()));
}

pub async fn feedback_ids_are_scoped_by_project(store: Arc<dyn Store>) {
    let mut new = score(&"1".repeat(16), "k", 1.0);
    new.id = Some("f-1".into());
    let created = store.create_feedback("p", new.clone()).await.unwrap();
    // The same id in the same project replaces the record and keeps its creation time.
    let mut again = new.clone();
    again.score = Some(0.5);
    let replaced = store.create_feedback("p", again).await.unwrap();
    assert_eq!(replaced.created_ms, created.created_ms);
    assert_eq!(replaced.score, Some(0.5));
    // The same id in another project is that project's own record: neither refused (which
    // would tell that the id exists elsewhere) nor taking the first one over.
    let mut theirs = new.clone();
    theirs.score = Some(0.0);
    let other = store.create_feedback("q", theirs).await.unwrap();
    assert_eq!((other.project.as_str(), other.score), ("q", Some(0.0)));
    let listed = |project: &'static str| {
        let store = store.clone();
        async move {
            store
                .list_feedback(
                    project,
                    FeedbackFilter {
                        key: Some("k".into()),
                        ..FeedbackFilter::default()
                    },
                )
                .await
                .unwrap()
        }
    };
    let p = listed("p").await;
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].id.as_str(), p[0].score), ("f-1", Some(0.5)));
    assert_eq!(listed("q").await.len(), 1);
    // Edits and deletes reach the record of their own project only.
    let update = FeedbackUpdate {
        score: Some(0.25),
        ..FeedbackUpdate::default()
    };
    let edited = store
        .update_feedback("q", "f-1", update)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(edited.score, Some(0.25));
    assert!(store.delete_feedback("q", "f-1").await.unwrap());
    assert!(listed("q").await.is_empty());
    let p = listed("p").await;
    assert_eq!((p.len(), p[0].score), (1, Some(0.5)));
}

pub async fn imported_feedback_keeps_its_times(store: Arc<dyn Store>) {
    let root = span("f", "1", None, 0);
    store.write_spans(vec![root.clone()]).await.unwrap();
    let record = skein_model::Feedback {
        id: "moved-1".into(),
        project: "p".into(),
        run_id: root.span_id.clone(),
        trace_id: Some(root.trace_id.clone()),
        key: "quality".into(),
        score: Some(0.5),
        value: None,
        comment: Some("from the old store".into()),
        correction: None,
        source: "queue".into(),
        queue_id: Some("q-1".into()),
        reviewer: Some("ann".into()),
        created_ms: 1_000,
        modified_ms: 2_000,
    };
    store.import_feedback(record.clone()).await.unwrap();
    store.import_feedback(record.clone()).await.unwrap();
    assert_eq!(
        store
            .list_feedback("p", of_trace(&root.trace_id))
            .await
            .unwrap(),
        vec![record]
    );
}

pub async fn the_trace_list_carries_feedback_means(store: Arc<dyn Store>) {
    let root = span("e", "1", None, 0);
    let child = span("e", "2", Some("1"), 1);
    store
        .write_spans(vec![root.clone(), child.clone()])
        .await
        .unwrap();
    for (run, s) in [
        (&root.span_id, 1.0),
        (&child.span_id, 0.0),
        (&root.span_id, 0.5),
    ] {
        store
            .create_feedback("p", score(run, "quality", s))
            .await
            .unwrap();
    }
    let page = store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap();
    let stats = &page.traces[0].feedback;
    assert_eq!(stats.len(), 1, "{stats:?}");
    assert_eq!((stats[0].key.as_str(), stats[0].count), ("quality", 3));
    assert!((stats[0].mean.unwrap() - 0.5).abs() < 1e-12);
}

pub async fn feedback_is_read_by_id_within_its_project(store: Arc<dyn Store>) {
    let root = span("c", "1", None, 0);
    let waiting = span("d", "2", None, 0);
    store.write_spans(vec![root.clone()]).await.unwrap();
    let on_root = store
        .create_feedback("p", score(&root.span_id, "quality", 0.5))
        .await
        .unwrap();
    // Its run not stored yet: read by id all the same, with its trace once the run is.
    let early = store
        .create_feedback("p", score(&waiting.span_id, "quality", 1.0))
        .await
        .unwrap();
    assert_eq!(
        store.read_feedback("p", &on_root.id).await.unwrap(),
        Some(on_root.clone())
    );
    assert_eq!(
        store.read_feedback("other", &on_root.id).await.unwrap(),
        None
    );
    assert_eq!(store.read_feedback("p", "no-such-id").await.unwrap(), None);
    let read = store.read_feedback("p", &early.id).await.unwrap().unwrap();
    assert_eq!((read.key.as_str(), read.trace_id), ("quality", None));
    store.write_spans(vec![waiting.clone()]).await.unwrap();
    let read = store.read_feedback("p", &early.id).await.unwrap().unwrap();
    assert_eq!(read.trace_id.as_deref(), Some(waiting.trace_id.as_str()));
    assert!(store.delete_feedback("p", &on_root.id).await.unwrap());
    assert_eq!(store.read_feedback("p", &on_root.id).await.unwrap(), None);
}

/// A queue's rating is an ordinary record that names its queue and reviewer, found by trace
/// like any other and by its queue.
pub async fn queue_ratings_name_their_queue_and_reviewer(store: Arc<dyn Store>) {
    let root = span("r", "1", None, 0);
    store.write_spans(vec![root.clone()]).await.unwrap();
    let rating = NewFeedback {
        queue_id: Some("q-7".into()),
        reviewer: Some("Ann Reviewer".into()),
        source: Some("queue".into()),
        ..score(&root.span_id, "correctness", 1.0)
    };
    let rated = store.create_feedback("p", rating).await.unwrap();
    let plain = store
        .create_feedback("p", score(&root.span_id, "correctness", 0.0))
        .await
        .unwrap();
    assert_eq!(rated.queue_id.as_deref(), Some("q-7"));
    assert_eq!(rated.reviewer.as_deref(), Some("Ann Reviewer"));
    assert_eq!(plain.queue_id, None);
    let of_trace = store
        .list_feedback("p", of_trace(&root.trace_id))
        .await
        .unwrap();
    assert_eq!(of_trace.len(), 2);
    assert!(of_trace.contains(&rated) && of_trace.contains(&plain));
    let of_queue = |project: &str, queue: &str| {
        let store = store.clone();
        let (project, filter) = (
            project.to_string(),
            FeedbackFilter {
                queue_id: Some(queue.into()),
                ..FeedbackFilter::default()
            },
        );
        async move { store.list_feedback(&project, filter).await.unwrap() }
    };
    assert_eq!(of_queue("p", "q-7").await, vec![rated]);
    assert!(of_queue("p", "q-8").await.is_empty());
    assert!(of_queue("o", "q-7").await.is_empty());
}
