use super::*;

fn item(n: i64) -> QueueItem {
    needing(n, 1)
}

fn needing(n: i64, reviews: u32) -> QueueItem {
    QueueItem::new(
        "q",
        ItemRef {
            trace_id: format!("{n:032x}"),
            span_id: None,
        },
        n,
        reviews,
        1_000,
    )
}

const LEASE: i64 = 60_000;

#[test]
fn a_lease_holds_until_it_expires() {
    let held = claim(&item(1), "ann", 10_000, LEASE);
    assert_eq!(held.state_at(10_000), ItemStatus::InProgress);
    assert_eq!(held.state_at(69_999), ItemStatus::InProgress);
    assert!(held.held_by("ann", 69_999));
    assert!(!held.held_by("bob", 69_999));
    assert_eq!(held.state_at(70_000), ItemStatus::Pending);
    assert!(!held.held_by("ann", 70_000));
    let read = held.as_of(70_000);
    assert_eq!(read.status, ItemStatus::Pending);
    assert!(read.leases.is_empty());
}

#[test]
fn next_is_the_held_item_else_the_first_pending_by_position() {
    let mut items = vec![item(3), item(1), item(2)];
    assert_eq!(choose_next(&items, "ann", 0).map(|i| i.position), Some(1));
    // Ann holds 1: Bob gets 2, Ann gets 1 again.
    items[1] = claim(&items[1], "ann", 0, LEASE);
    assert_eq!(choose_next(&items, "bob", 1).map(|i| i.position), Some(2));
    assert_eq!(choose_next(&items, "ann", 1).map(|i| i.position), Some(1));
    // Ann's lease runs out: Bob may have 1.
    assert_eq!(
        choose_next(&items, "bob", LEASE).map(|i| i.position),
        Some(1)
    );
    // Finished items are never offered.
    for i in items.iter_mut() {
        *i = finish(&claim(i, "ann", 0, LEASE), "ann", Finish::Complete, 1).unwrap();
    }
    assert_eq!(choose_next(&items, "ann", 2), None);
}

#[test]
fn only_the_holder_finishes_an_item() {
    let held = claim(&item(1), "ann", 0, LEASE);
    assert_eq!(
        finish(&held, "bob", Finish::Complete, 1),
        Err(FinishError::HeldByOther(vec!["ann".into()]))
    );
    assert_eq!(
        finish(&item(1), "ann", Finish::Skip, 1),
        Err(FinishError::NotHeld)
    );
    let done = finish(&held, "ann", Finish::Complete, 5).unwrap();
    assert_eq!(done.status, ItemStatus::Done);
    assert_eq!(done.completed_by, ["ann"]);
    assert!(done.leases.is_empty());
    assert_eq!(
        finish(&done, "ann", Finish::Complete, 6),
        Err(FinishError::Finished(ItemStatus::Done, vec!["ann".into()]))
    );
    let skipped = finish(&held, "ann", Finish::Skip, 5).unwrap();
    assert_eq!(skipped.state_at(10 * LEASE), ItemStatus::Skipped);
    let released = finish(&held, "ann", Finish::Release, 5).unwrap();
    assert_eq!(released.status, ItemStatus::Pending);
    assert!(released.completed_by.is_empty() && released.skipped_by.is_empty());
}

#[test]
fn a_slow_holder_may_still_complete_unless_someone_claimed_since() {
    let held = claim(&item(1), "ann", 0, LEASE);
    // Ann's lease ran out, nobody claimed: her rating still counts.
    assert!(finish(&held, "ann", Finish::Complete, LEASE + 1).is_ok());
    assert_eq!(
        finish(&held, "ann", Finish::Release, LEASE + 1),
        Err(FinishError::NotHeld)
    );
    // Bob claimed it since: Ann's rating is refused.
    let bobs = claim(&held, "bob", LEASE + 1, LEASE);
    assert_eq!(
        finish(&bobs, "ann", Finish::Complete, LEASE + 2),
        Err(FinishError::HeldByOther(vec!["bob".into()]))
    );
}

#[test]
fn an_item_needing_two_reviews_is_done_by_two_different_reviewers() {
    let two = needing(1, 2);
    let ann = claim(&two, "ann", 0, LEASE);
    // Ann holds it and it needs another: Bob may hold it too, Cy may not.
    assert!(ann.open_to("bob", 1));
    let both = claim(&ann, "bob", 1, LEASE);
    assert_eq!(both.state_at(2), ItemStatus::InProgress);
    assert!(!both.open_to("cy", 2));
    assert_eq!(choose_next([&both], "cy", 2), None);
    let rated = finish(&both, "ann", Finish::Complete, 3).unwrap();
    assert_eq!(rated.state_at(3), ItemStatus::InProgress);
    // Ann never gets it again, not even after Bob's lease runs out.
    assert_eq!(choose_next([&rated], "ann", 4), None);
    assert_eq!(choose_next([&rated], "ann", LEASE + 5), None);
    assert_eq!(
        finish(&rated, "ann", Finish::Complete, 4),
        Err(FinishError::FinishedByThem)
    );
    let done = finish(&rated, "bob", Finish::Complete, 5).unwrap();
    assert_eq!(done.status, ItemStatus::Done);
    assert_eq!(done.completed_by, ["ann", "bob"]);
    assert_eq!(choose_next([&done], "cy", 6), None);
    // A skip leaves room for another reviewer; one completion and one skip finish it.
    let skipped = finish(&claim(&two, "ann", 0, LEASE), "ann", Finish::Skip, 1).unwrap();
    assert_eq!(skipped.state_at(1), ItemStatus::Pending);
    assert_eq!(choose_next([&skipped], "ann", 2), None);
    assert!(skipped.open_to("bob", 2));
    let passed = finish(
        &claim(&skipped, "bob", 2, LEASE),
        "bob",
        Finish::Complete,
        3,
    )
    .unwrap();
    assert_eq!(passed.status, ItemStatus::Skipped);
}

#[test]
fn items_stored_with_one_lease_read_as_items_of_one_review() {
    let stored = serde_json::json!({
        "queue_id": "q", "id": "a".repeat(32), "trace_id": "a".repeat(32), "position": 1,
        "status": "done", "finished_by": "ann", "added_ms": 1, "modified_ms": 2
    });
    let item: QueueItem = serde_json::from_value(stored).unwrap();
    assert_eq!(item.reviews_needed, 1);
    assert_eq!(item.completed_by, ["ann"]);
    let held = serde_json::json!({
        "queue_id": "q", "id": "a".repeat(32), "trace_id": "a".repeat(32), "position": 1,
        "status": "in_progress", "lease": {"holder": "bob", "expires_ms": 50},
        "added_ms": 1, "modified_ms": 2
    });
    let item: QueueItem = serde_json::from_value(held).unwrap();
    assert!(item.held_by("bob", 10));
    let again: QueueItem = serde_json::from_str(&serde_json::to_string(&item).unwrap()).unwrap();
    assert_eq!(again, item);
}

#[test]
fn samples_are_random_and_balanced_across_a_tag() {
    let candidates: Vec<(String, Option<String>)> = (0..100)
        .map(|i| {
            let variant = match i % 10 {
                0..=6 => Some("A".to_string()),
                7 | 8 => Some("B".to_string()),
                _ => None,
            };
            (format!("t{i}"), variant)
        })
        .collect();
    let variant_of = |id: &str| candidates.iter().find(|(c, _)| c == id).unwrap().1.clone();
    let any = sample_items(candidates.clone(), 10, false, 7);
    assert_eq!(any.len(), 10);
    let unique: std::collections::HashSet<_> = any.iter().collect();
    assert_eq!(unique.len(), 10);
    assert_ne!(any, sample_items(candidates.clone(), 10, false, 8));
    assert_eq!(any, sample_items(candidates.clone(), 10, false, 7));
    let balanced = sample_items(candidates.clone(), 30, true, 7);
    let count = |v: &str| {
        balanced
            .iter()
            .filter(|id| variant_of(id).as_deref() == Some(v))
            .count()
    };
    assert_eq!((count("A"), count("B"), balanced.len()), (15, 15, 30));
    // As many of each as the rarest value has (20 B), at most.
    let all = sample_items(candidates.clone(), usize::MAX, true, 1);
    assert_eq!(all.len(), 40);
    assert!(sample_items(vec![("x".into(), None)], 5, true, 1).is_empty());
}

#[test]
fn counts_take_expired_leases_as_pending() {
    let items = [
        claim(&item(1), "ann", 0, LEASE),
        claim(&item(2), "bob", 0, 10),
        finish(&claim(&item(3), "ann", 0, LEASE), "ann", Finish::Skip, 1).unwrap(),
        item(4),
    ];
    let mut counts = QueueCounts::default();
    for i in &items {
        counts.add(i.state_at(100));
    }
    assert_eq!(
        counts,
        QueueCounts {
            total: 4,
            pending: 2,
            in_progress: 1,
            done: 0,
            skipped: 1
        }
    );
    assert_eq!(counts.finished(), 1);
}

#[test]
fn item_refs_are_normalized_hex_and_name_their_item() {
    let r = ItemRef {
        trace_id: format!(" {} ", "AB".repeat(16)),
        span_id: Some("00FF".repeat(4)),
    };
    let n = r.normalized().unwrap();
    assert_eq!(n.trace_id, "ab".repeat(16));
    assert_eq!(
        n.item_id(),
        format!("{}-{}", "ab".repeat(16), "00ff".repeat(4))
    );
    assert!(ItemRef {
        trace_id: "xyz".into(),
        span_id: None
    }
    .normalized()
    .is_none());
    assert!(ItemRef {
        trace_id: "ab".repeat(16),
        span_id: Some(String::new())
    }
    .normalized()
    .is_none());
}

#[test]
fn new_queues_are_checked() {
    let ok = NewQueue {
        name: "weekly".into(),
        score_keys: vec!["correctness".into()],
        ..NewQueue::default()
    };
    assert_eq!(check_new_queue(&ok), Ok(()));
    let no_keys = NewQueue {
        score_keys: vec![],
        ..ok.clone()
    };
    assert!(check_new_queue(&no_keys)
        .unwrap_err()
        .contains("score_keys"));
    let twice = NewQueue {
        score_keys: vec!["a".into(), "a".into()],
        ..ok.clone()
    };
    assert!(check_new_queue(&twice).unwrap_err().contains("twice"));
    let unnamed = NewQueue {
        name: "  ".into(),
        ..ok.clone()
    };
    assert!(check_new_queue(&unnamed).unwrap_err().contains("name"));
    let bad_reviewer = NewQueue {
        reviewers: vec!["a\nb".into()],
        ..ok.clone()
    };
    assert!(check_new_queue(&bad_reviewer)
        .unwrap_err()
        .contains("reviewer"));
    assert!(ItemStatus::parse("in_progress") == Some(ItemStatus::InProgress));
    let too_many = NewQueue {
        reviews_per_item: Some(3),
        reviewers: vec!["ann".into(), "bob".into()],
        ..ok.clone()
    };
    assert!(check_new_queue(&too_many).unwrap_err().contains("only 2"));
    let sample_without_query = NewQueue {
        sample: Some(Sample {
            size: Some(5),
            balance_by: None,
        }),
        ..ok
    };
    assert!(check_new_queue(&sample_without_query)
        .unwrap_err()
        .contains("query"));
}
