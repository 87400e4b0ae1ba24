//! What a claim, a completion, a skip and a release make of an item, which item a reviewer
//! gets next, and what a new queue and a reviewer's name may be.

use super::*;

/// What an item written with `status` and its last lease ending at `lease_expires_ms` is at
/// `now_ms` (for stores that count items without reading them whole).
pub fn state_at(status: ItemStatus, lease_expires_ms: Option<i64>, now_ms: i64) -> ItemStatus {
    match (status, lease_expires_ms) {
        (ItemStatus::InProgress, Some(expires)) if expires > now_ms => ItemStatus::InProgress,
        (ItemStatus::InProgress, _) => ItemStatus::Pending,
        (status, _) => status,
    }
}

/// The item `reviewer` gets next at `now_ms`: the one they already hold (a reload of the review
/// page finds its item again), else the first by position that is open to them
/// (`QueueItem::open_to`); none when every item is finished, rated by them or held by as many
/// others as it needs.
pub fn choose_next<'a>(
    items: impl IntoIterator<Item = &'a QueueItem>,
    reviewer: &str,
    now_ms: i64,
) -> Option<&'a QueueItem> {
    let mut first_open: Option<&QueueItem> = None;
    for item in items {
        if item.held_by(reviewer, now_ms) && !item.is_finished() {
            return Some(item);
        }
        if item.open_to(reviewer, now_ms) && first_open.is_none_or(|f| item.position < f.position) {
            first_open = Some(item);
        }
    }
    first_open
}

/// `item` claimed by `reviewer` at `now_ms` for `lease_ms`: their lease, beside the others'
/// live ones (leases that ran out are dropped).
pub fn claim(item: &QueueItem, reviewer: &str, now_ms: i64, lease_ms: i64) -> QueueItem {
    let mut claimed = item.clone();
    claimed
        .leases
        .retain(|l| l.expires_ms > now_ms && l.holder != reviewer);
    claimed.leases.push(Lease {
        holder: reviewer.to_string(),
        expires_ms: now_ms.saturating_add(lease_ms),
    });
    claimed.settled(now_ms)
}

/// What a reviewer does with an item they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// Rated: done.
    Complete,
    /// Passed over: not offered again.
    Skip,
    /// Given back: pending again, for anyone.
    Release,
}

/// Why a reviewer cannot finish an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishError {
    /// The item is finished already (by whom).
    Finished(ItemStatus, Vec<String>),
    /// This reviewer rated or skipped it already.
    FinishedByThem,
    /// Others hold it, as many as it needs.
    HeldByOther(Vec<String>),
    /// Nobody holds it (never claimed, or the lease ran out): claim it first.
    NotHeld,
}

impl std::fmt::Display for FinishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FinishError::Finished(status, by) => write!(
                f,
                "the item is {} already{}",
                status.as_str(),
                if by.is_empty() {
                    String::new()
                } else {
                    format!(" (by {})", by.join(", "))
                }
            ),
            FinishError::FinishedByThem => {
                write!(f, "this reviewer rated or skipped the item already")
            }
            FinishError::HeldByOther(holders) => write!(
                f,
                "the item is held by {}, not by this reviewer",
                holders.join(", ")
            ),
            FinishError::NotHeld => write!(
                f,
                "the item is not held by this reviewer (its lease ran out or it was never \
                 claimed): claim it with POST .../next first"
            ),
        }
    }
}

/// `item` after `reviewer` finishes it at `now_ms`: only a lease holder may finish an item; a
/// completion or a skip may also come from a reviewer whose lease ran out, as long as the item
/// still has room for them (the rating is the holder's work, not lost to a slow form).
pub fn finish(
    item: &QueueItem,
    reviewer: &str,
    how: Finish,
    now_ms: i64,
) -> Result<QueueItem, FinishError> {
    if item.is_finished() {
        let by = match item.status {
            ItemStatus::Done => item.completed_by.clone(),
            _ => item.skipped_by.clone(),
        };
        return Err(FinishError::Finished(item.status, by));
    }
    if item.finished_by(reviewer) {
        return Err(FinishError::FinishedByThem);
    }
    if !item.held_by(reviewer, now_ms) {
        let lapsed = item.leases.iter().any(|l| l.holder == reviewer);
        if how == Finish::Release || !lapsed || !item.open_to(reviewer, now_ms) {
            let others: Vec<String> = item.live_leases(now_ms).map(|l| l.holder.clone()).collect();
            return Err(if others.is_empty() || (lapsed && how == Finish::Release) {
                FinishError::NotHeld
            } else {
                FinishError::HeldByOther(others)
            });
        }
    }
    let mut done = item.clone();
    done.leases.retain(|l| l.holder != reviewer);
    match how {
        Finish::Complete => done.completed_by.push(reviewer.to_string()),
        Finish::Skip => done.skipped_by.push(reviewer.to_string()),
        Finish::Release => {}
    }
    Ok(done.settled(now_ms))
}

/// A reviewer's name as accepted: 1 to `MAX_REVIEWER_LEN` printable characters, trimmed.
pub fn check_reviewer(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_REVIEWER_LEN || name.chars().any(char::is_control) {
        return Err(format!(
            "a reviewer is named by 1 to {MAX_REVIEWER_LEN} printable characters"
        ));
    }
    Ok(name.to_string())
}

/// Checks a new queue; the sentence says what is wrong. Score keys must be distinct and
/// non-empty (whether they have configs is the API's to check against the project).
pub fn check_new_queue(new: &NewQueue) -> Result<(), String> {
    let name = new.name.trim();
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!(
            "a queue's name must be 1 to {MAX_NAME_LEN} characters"
        ));
    }
    if new.description.len() > MAX_DESCRIPTION_LEN {
        return Err(format!(
            "a queue's description is at most {MAX_DESCRIPTION_LEN} bytes"
        ));
    }
    if new.score_keys.is_empty() || new.score_keys.len() > MAX_SCORE_KEYS {
        return Err(format!(
            "a queue collects 1 to {MAX_SCORE_KEYS} score keys (score_keys)"
        ));
    }
    for (i, key) in new.score_keys.iter().enumerate() {
        if key.trim().is_empty() || key.len() > crate::score_config::MAX_KEY_LEN {
            return Err(format!(
                "score key {key:?} must be 1 to {} characters",
                crate::score_config::MAX_KEY_LEN
            ));
        }
        if new.score_keys[..i].contains(key) {
            return Err(format!("score key {key:?} is named twice"));
        }
    }
    if new.reviewers.len() > MAX_REVIEWERS {
        return Err(format!("a queue names at most {MAX_REVIEWERS} reviewers"));
    }
    for reviewer in &new.reviewers {
        check_reviewer(reviewer)?;
    }
    if let Some(n) = new.reviews_per_item {
        if n == 0 || n > MAX_REVIEWS_PER_ITEM {
            return Err(format!(
                "reviews_per_item must be 1 to {MAX_REVIEWS_PER_ITEM}"
            ));
        }
        if !new.reviewers.is_empty() && n as usize > new.reviewers.len() {
            return Err(format!(
                "each item needs {n} different reviewers, but the queue names only {}",
                new.reviewers.len()
            ));
        }
    }
    if new.query.is_some() && new.span_query.is_some() {
        return Err(
            "a queue starts from a trace-list \"query\" or a span-list \"span_query\", not both"
                .into(),
        );
    }
    if let Some(sample) = &new.sample {
        if new.query.is_none() && new.span_query.is_none() {
            return Err(
                "a sample is drawn from a trace-list \"query\" or a span-list \"span_query\": \
                 give one"
                    .into(),
            );
        }
        if new.span_query.is_some() && sample.balance_by.is_some() {
            return Err(
                "balance_by balances traces by a tag: give a trace-list \"query\" to balance"
                    .into(),
            );
        }
        if sample.size.is_some_and(|n| n == 0 || n as usize > MAX_ADD) {
            return Err(format!("a sample's size must be 1 to {MAX_ADD}"));
        }
        if sample
            .balance_by
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return Err("balance_by names a tag (e.g. ab_test_variant)".into());
        }
    }
    Ok(())
}
