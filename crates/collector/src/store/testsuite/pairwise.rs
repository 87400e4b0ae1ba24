//! Blind pairwise review queues: queues per project with their pairs, claims under leases,
//! judgements stored with the cohort the picked side was.

use std::collections::BTreeMap;
use std::sync::Arc;

use skein_model::pairwise_queue::{
    Matched, Pair, PairFinish, PairItem, PairwiseQueue, Pick, Winner,
};
use skein_model::queue::{FinishError, ItemStatus, QueueCounts};

use crate::store::Store;

const LEASE: i64 = 60_000;

fn queue(project: &str, id: &str, created_ms: i64) -> PairwiseQueue {
    PairwiseQueue {
        id: id.into(),
        project: project.into(),
        name: format!("pairwise {id}"),
        description: String::new(),
        cohort_a: "tag=variant%3DA".into(),
        cohort_b: "tag=variant%3DB".into(),
        created_ms,
        counts: QueueCounts::default(),
    }
}

fn pairs(queue_id: &str, n: u32) -> Vec<PairItem> {
    (1..=n)
        .map(|i| {
            let tier: BTreeMap<String, String> = [(
                "tier".to_string(),
                if i.is_multiple_of(2) { "pro" } else { "free" }.to_string(),
            )]
            .into();
            let pair = Pair {
                a: format!("{i:032x}"),
                b: format!("{:032x}", i + 1000),
                // Odd pairs show A on the left, even ones on the right.
                a_on_left: !i.is_multiple_of(2),
                matched: Matched::Tags,
                a_tags: tier.clone(),
                b_tags: tier,
            };
            PairItem::new(queue_id, pair, i64::from(i), 0)
        })
        .collect()
}

pub async fn pairwise_queues_hold_pairs_and_store_judgements(store: Arc<dyn Store>) {
    assert!(store.pairwise_queues("p", 0).await.unwrap().is_empty());
    store
        .create_pairwise_queue(queue("p", "q2", 2_000), pairs("q2", 2))
        .await
        .unwrap();
    store
        .create_pairwise_queue(queue("p", "q1", 1_000), pairs("q1", 3))
        .await
        .unwrap();
    store
        .create_pairwise_queue(queue("o", "q3", 1_000), pairs("q3", 1))
        .await
        .unwrap();
    let ids = |qs: Vec<PairwiseQueue>| qs.into_iter().map(|q| q.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.pairwise_queues("p", 0).await.unwrap()),
        ["q1", "q2"]
    );
    assert_eq!(ids(store.pairwise_queues("o", 0).await.unwrap()), ["q3"]);
    assert!(store.pairwise_queue("o", "q1", 0).await.unwrap().is_none());
    let q1 = store.pairwise_queue("p", "q1", 10).await.unwrap().unwrap();
    assert_eq!((q1.counts.total, q1.counts.pending), (3, 3));
    assert_eq!(q1.cohort_a, "tag=variant%3DA");

    // Pairs come in order; a reviewer who claims again gets the pair they hold.
    let first = store
        .claim_pair("p", "q1", "ann", 100, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.item.id, "1");
    assert_eq!(first.pair.a, format!("{:032x}", 1));
    let again = store
        .claim_pair("p", "q1", "ann", 200, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.item.id, "1");
    let bob = store
        .claim_pair("p", "q1", "bob", 300, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        bob.item.id, "2",
        "a held pair is not offered to another reviewer"
    );

    // Only the holder judges; the side picked is stored as the cohort it was.
    let refused = store
        .finish_pair("p", "q1", "1", "bob", PairFinish::Judge(Pick::Left), 400)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refused, Err(FinishError::HeldByOther(vec!["ann".into()])));
    let judged = store
        .finish_pair("p", "q1", "1", "ann", PairFinish::Judge(Pick::Left), 500)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(judged.item.status, ItemStatus::Done);
    // Pair 2 shows A on the right: a pick of the left is B.
    store
        .finish_pair("p", "q1", "2", "bob", PairFinish::Judge(Pick::Left), 600)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let twice = store
        .finish_pair("p", "q1", "1", "ann", PairFinish::Judge(Pick::Right), 700)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        twice,
        Err(FinishError::Finished(ItemStatus::Done, _))
    ));
    assert!(store
        .finish_pair("p", "q1", "9", "ann", PairFinish::Skip, 700)
        .await
        .unwrap()
        .is_none());

    // A lease that ran out gives the pair to the next reviewer; a skip stores no judgement.
    let third = store
        .claim_pair("p", "q1", "cy", 800, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.item.id, "3");
    let late = store
        .claim_pair("p", "q1", "dee", 800 + LEASE + 1, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(late.item.id, "3");
    store
        .finish_pair("p", "q1", "3", "dee", PairFinish::Skip, 900 + LEASE)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(store
        .claim_pair("p", "q1", "ann", 1_000 + LEASE, LEASE)
        .await
        .unwrap()
        .is_none());
    let counts = store
        .pairwise_queue("p", "q1", 1_000 + LEASE)
        .await
        .unwrap()
        .unwrap()
        .counts;
    assert_eq!((counts.done, counts.skipped, counts.pending), (2, 1, 0));

    let judgements = store.judgements("p", Some("q1")).await.unwrap();
    let got: Vec<(&str, &str, Winner)> = judgements
        .iter()
        .map(|j| (j.pair_id.as_str(), j.reviewer.as_str(), j.winner))
        .collect();
    assert_eq!(got, [("1", "ann", Winner::A), ("2", "bob", Winner::B)]);
    assert_eq!(judgements[1].pair.a_tags.get("tier").unwrap(), "pro");
    assert_eq!(store.judgements("p", None).await.unwrap().len(), 2);
    assert!(store.judgements("o", None).await.unwrap().is_empty());
    assert!(store.judgements("p", Some("q2")).await.unwrap().is_empty());

    // Deleting takes the queue and its pairs, in its project only; judgements stay.
    assert!(!store.delete_pairwise_queue("o", "q1").await.unwrap());
    assert!(store.delete_pairwise_queue("p", "q1").await.unwrap());
    assert_eq!(ids(store.pairwise_queues("p", 0).await.unwrap()), ["q2"]);
    assert!(store
        .claim_pair("p", "q1", "x", 0, LEASE)
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.judgements("p", Some("q1")).await.unwrap().len(), 2);
}

pub async fn concurrent_claims_never_share_a_pair(store: Arc<dyn Store>) {
    store
        .create_pairwise_queue(queue("p", "q", 1_000), pairs("q", 6))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..10)
        .map(|r| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_pair("p", "q", &format!("reviewer-{r}"), 100, LEASE)
                    .await
                    .unwrap()
                    .map(|p| p.item.id)
            })
        })
        .collect();
    let mut got = Vec::new();
    for t in tasks {
        if let Some(id) = t.await.unwrap() {
            got.push(id);
        }
    }
    assert_eq!(got.len(), 6, "each of the 6 pairs claimed once: {got:?}");
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 6, "no pair claimed twice");
}
