//! Annotation queues: queues per project with their counts, items in order, claims under
//! leases, finishing.

use std::sync::Arc;

use skein_model::queue::{Finish, FinishError, ItemRef, ItemStatus, Queue, QueueCounts};

use crate::store::Store;

const LEASE: i64 = 60_000;

fn queue(project: &str, id: &str, created_ms: i64) -> Queue {
    Queue {
        id: id.into(),
        project: project.into(),
        name: format!("queue {id}"),
        description: "rate these".into(),
        score_keys: vec!["correctness".into()],
        reviewers: vec![],
        reviews_per_item: 1,
        created_ms,
        counts: QueueCounts::default(),
    }
}

fn target(n: u32) -> ItemRef {
    ItemRef {
        trace_id: format!("{n:032x}"),
        span_id: None,
    }
}

pub async fn queues_are_kept_per_project_with_their_items(store: Arc<dyn Store>) {
    assert!(store.queues("p", 0).await.unwrap().is_empty());
    store.create_queue(queue("p", "q2", 2_000)).await.unwrap();
    store.create_queue(queue("p", "q1", 1_000)).await.unwrap();
    store.create_queue(queue("o", "q3", 1_000)).await.unwrap();
    let ids = |qs: Vec<Queue>| qs.into_iter().map(|q| q.id).collect::<Vec<_>>();
    assert_eq!(ids(store.queues("p", 0).await.unwrap()), ["q1", "q2"]);
    assert_eq!(ids(store.queues("o", 0).await.unwrap()), ["q3"]);
    assert!(store.queue("o", "q1", 0).await.unwrap().is_none());

    // Items keep the order they were added in; a run queued twice is one item.
    let span = ItemRef {
        trace_id: target(1).trace_id,
        span_id: Some("ab".repeat(8)),
    };
    let added = store
        .add_queue_items("p", "q1", vec![target(3), target(1), span.clone()], 1, 10)
        .await
        .unwrap();
    assert_eq!(added, 3);
    let again = store
        .add_queue_items("p", "q1", vec![target(1), target(2)], 1, 20)
        .await
        .unwrap();
    assert_eq!(again, 1);
    let items = store.queue_items("p", "q1", 30).await.unwrap();
    let targets: Vec<&ItemRef> = items.iter().map(|i| &i.target).collect();
    assert_eq!(targets, [&target(3), &target(1), &span, &target(2)]);
    assert!(items.iter().all(|i| i.status == ItemStatus::Pending));
    assert!(store.queue_items("o", "q1", 30).await.unwrap().is_empty());
    let one = store
        .queue_item("p", "q1", &span.item_id(), 30)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.target, span);

    let q1 = store.queue("p", "q1", 30).await.unwrap().unwrap();
    assert_eq!(q1.name, "queue q1");
    assert_eq!(q1.counts.total, 4);
    assert_eq!(q1.counts.pending, 4);
    assert_eq!(
        store.queue("p", "q2", 30).await.unwrap().unwrap().counts,
        QueueCounts::default()
    );

    // Deleting takes the queue and its items, in its project only.
    assert!(!store.delete_queue("o", "q1").await.unwrap());
    assert!(store.delete_queue("p", "q1").await.unwrap());
    assert!(!store.delete_queue("p", "q1").await.unwrap());
    assert!(store.queue("p", "q1", 40).await.unwrap().is_none());
    assert_eq!(ids(store.queues("p", 40).await.unwrap()), ["q2"]);
}

/// The id of the item `reviewer` claims in queue "q" of project "p" (a trace item's id is its
/// trace id).
async fn claim_in_q(store: &Arc<dyn Store>, reviewer: &str, now: i64) -> Option<String> {
    store
        .claim_queue_item("p", "q", reviewer, now, LEASE)
        .await
        .unwrap()
        .map(|i| i.id)
}

pub async fn claims_hold_items_under_leases(store: Arc<dyn Store>) {
    store.create_queue(queue("p", "q", 1_000)).await.unwrap();
    store
        .add_queue_items("p", "q", vec![target(1), target(2), target(3)], 1, 0)
        .await
        .unwrap();
    let claim = |reviewer: &'static str, now: i64| claim_in_q(&store, reviewer, now);
    // Two reviewers get different items; asking again finds one's own item.
    let ann = claim("ann", 100).await.unwrap();
    let bob = claim("bob", 110).await.unwrap();
    assert_eq!(ann, target(1).trace_id);
    assert_eq!(bob, target(2).trace_id);
    assert_eq!(claim("ann", 120).await.unwrap(), ann);
    let counts = store.queue("p", "q", 130).await.unwrap().unwrap().counts;
    assert_eq!((counts.in_progress, counts.pending), (2, 1));

    // Ann completes hers; Bob cannot finish Ann's, nor what nobody holds.
    let refused = store
        .finish_queue_item("p", "q", &bob, "ann", Finish::Complete, 200)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refused, Err(FinishError::HeldByOther(vec!["bob".into()])));
    let done = store
        .finish_queue_item("p", "q", &ann, "ann", Finish::Complete, 200)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(done.status, ItemStatus::Done);
    assert_eq!(done.completed_by, ["ann"]);
    assert!(store
        .finish_queue_item("p", "q", "no-such-item", "ann", Finish::Skip, 200)
        .await
        .unwrap()
        .is_none());

    // Ann's next is the third item; Bob's lease runs out, and Carl gets his item.
    assert_eq!(claim("ann", 300).await.unwrap(), target(3).trace_id);
    let bobs_item = store
        .queue_item("p", "q", &bob, 110 + LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bobs_item.status, ItemStatus::Pending);
    assert!(bobs_item.leases.is_empty());
    assert_eq!(claim("carl", 110 + LEASE).await.unwrap(), bob);
    let late = store
        .finish_queue_item("p", "q", &bob, "bob", Finish::Complete, 120 + LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(late, Err(FinishError::HeldByOther(vec!["carl".into()])));

    // Carl skips, Ann releases: the released item is pending again, the skipped one is not.
    let skipped = store
        .finish_queue_item("p", "q", &bob, "carl", Finish::Skip, 130 + LEASE)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(skipped.status, ItemStatus::Skipped);
    let third = target(3).trace_id;
    store
        .finish_queue_item("p", "q", &third, "ann", Finish::Release, 140 + LEASE)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let counts = store
        .queue("p", "q", 150 + LEASE)
        .await
        .unwrap()
        .unwrap()
        .counts;
    assert_eq!(
        counts,
        QueueCounts {
            total: 3,
            pending: 1,
            in_progress: 0,
            done: 1,
            skipped: 1
        }
    );
    assert_eq!(claim("bob", 160 + LEASE).await.unwrap(), third);
    assert_eq!(claim("dan", 170 + LEASE).await, None);
}

/// Many claims at once, from many tasks: every item is held by one reviewer only.
pub async fn concurrent_claims_never_share_an_item(store: Arc<dyn Store>) {
    store.create_queue(queue("p", "q", 1_000)).await.unwrap();
    store
        .add_queue_items("p", "q", (1..=8).map(target).collect(), 1, 0)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|r| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_queue_item("p", "q", &format!("reviewer-{r}"), 100, LEASE)
                    .await
                    .unwrap()
                    .map(|i| i.id)
            })
        })
        .collect();
    let mut got = Vec::new();
    for t in tasks {
        if let Some(id) = t.await.unwrap() {
            got.push(id);
        }
    }
    assert_eq!(got.len(), 8, "each of the 8 items claimed once: {got:?}");
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 8, "no item claimed twice");
}

/// A queue of two reviews per item: each item is held by two different reviewers at most,
/// done once both rated it, and never given twice to one reviewer.
pub async fn items_needing_two_reviews_go_to_two_reviewers(store: Arc<dyn Store>) {
    store.create_queue(queue("p", "q", 1_000)).await.unwrap();
    store
        .add_queue_items("p", "q", vec![target(1), target(2)], 2, 0)
        .await
        .unwrap();
    let claim = |reviewer: &'static str, now: i64| claim_in_q(&store, reviewer, now);
    let complete = |reviewer: &'static str, item: String, now: i64| {
        let store = store.clone();
        async move {
            store
                .finish_queue_item("p", "q", &item, reviewer, Finish::Complete, now)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let first = target(1).trace_id;
    let second = target(2).trace_id;
    // Ann and Bob both get the first item (it needs two); Carl gets the second.
    assert_eq!(claim("ann", 100).await, Some(first.clone()));
    assert_eq!(claim("bob", 110).await, Some(first.clone()));
    assert_eq!(claim("carl", 120).await, Some(second.clone()));
    let held = store
        .queue_item("p", "q", &first, 130)
        .await
        .unwrap()
        .unwrap();
    let holders: Vec<&str> = held.leases.iter().map(|l| l.holder.as_str()).collect();
    assert_eq!(holders, ["ann", "bob"]);
    // Ann rates the first: it still waits for Bob, and Ann gets the second next.
    let rated = complete("ann", first.clone(), 200).await.unwrap();
    assert_eq!(rated.status, ItemStatus::InProgress);
    assert_eq!(claim("ann", 210).await, Some(second.clone()));
    // Ann again, after rating both: nothing left for her, even once every lease ran out.
    complete("ann", second.clone(), 220).await.unwrap();
    assert_eq!(claim("ann", 230 + 2 * LEASE).await, None);
    assert_eq!(
        complete("ann", first.clone(), 240).await,
        Err(FinishError::FinishedByThem)
    );
    let done = complete("bob", first.clone(), 300).await.unwrap();
    assert_eq!(done.status, ItemStatus::Done);
    assert_eq!(done.completed_by, ["ann", "bob"]);
    let counts = store.queue("p", "q", 310).await.unwrap().unwrap().counts;
    assert_eq!((counts.done, counts.in_progress), (1, 1));
    // The second has Ann's rating and Carl's live lease, as many as it needs: Dan waits until
    // Carl's lease runs out.
    assert_eq!(claim("dan", 320).await, None);
    assert_eq!(claim("dan", 120 + LEASE).await, Some(second));
}
