use super::*;

fn item(n: i64) -> QueueItem {
    QueueItem::new(
        "q",
        ItemRef {
            trace_id: format!("{n:032x}"),
            span_id: None,
        },
        n,
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
    assert_eq!(read.lease, None);
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
        Err(FinishError::HeldByOther("ann".into()))
    );
    assert_eq!(
        finish(&item(1), "ann", Finish::Skip, 1),
        Err(FinishError::NotHeld)
    );
    let done = finish(&held, "ann", Finish::Complete, 5).unwrap();
    assert_eq!(done.status, ItemStatus::Done);
    assert_eq!(done.finished_by.as_deref(), Some("ann"));
    assert_eq!(done.lease, None);
    assert_eq!(
        finish(&done, "ann", Finish::Complete, 6),
        Err(FinishError::Finished(ItemStatus::Done, Some("ann".into())))
    );
    let skipped = finish(&held, "ann", Finish::Skip, 5).unwrap();
    assert_eq!(skipped.state_at(10 * LEASE), ItemStatus::Skipped);
    let released = finish(&held, "ann", Finish::Release, 5).unwrap();
    assert_eq!(released.status, ItemStatus::Pending);
    assert_eq!(released.finished_by, None);
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
        Err(FinishError::HeldByOther("bob".into()))
    );
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
        ..ok
    };
    assert!(check_new_queue(&bad_reviewer)
        .unwrap_err()
        .contains("reviewer"));
    assert!(ItemStatus::parse("in_progress") == Some(ItemStatus::InProgress));
}
