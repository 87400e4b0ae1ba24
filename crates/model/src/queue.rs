//! Annotation queues: runs set aside for people to rate, one at a time, with the score keys
//! the queue collects. A reviewer asks for the next item and holds it under a lease that
//! expires, so that two reviewers never rate the same item at once and an item a reviewer left
//! goes back to the others.
//!
//! The rules every engine applies are here as pure functions: what an item's state is at a
//! time (`QueueItem::state_at`), which item a reviewer gets next (`choose_next`), what a claim,
//! a completion, a skip and a release make of an item (`claim`, `finish`), and what a new
//! queue may be (`check_new_queue`).

use serde::{Deserialize, Serialize};

/// Longest queue name.
pub const MAX_NAME_LEN: usize = 200;
/// Longest queue description.
pub const MAX_DESCRIPTION_LEN: usize = 4000;
/// Most score keys one queue collects (a row of controls each).
pub const MAX_SCORE_KEYS: usize = 20;
/// Most reviewers named on one queue.
pub const MAX_REVIEWERS: usize = 100;
/// Longest reviewer name.
pub const MAX_REVIEWER_LEN: usize = 128;
/// Most items one request adds.
pub const MAX_ADD: usize = 1000;
/// Most items one queue holds.
pub const MAX_ITEMS: usize = 10_000;
/// Most queues one project holds.
pub const MAX_QUEUES: usize = 500;
/// How long a claim holds an item unless the request says otherwise: long enough to read a
/// conversation and rate it, short enough that a closed tab gives the item back soon.
pub const DEFAULT_LEASE_SECS: u32 = 600;
/// Longest lease a claim may ask for.
pub const MAX_LEASE_SECS: u32 = 3600;

/// How many of a queue's items are in each state (leases that ran out count as pending).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    pub total: u64,
    pub pending: u64,
    pub in_progress: u64,
    pub done: u64,
    pub skipped: u64,
}

impl QueueCounts {
    /// Counts one item in `state` (its state at the time counted: `QueueItem::state_at`).
    pub fn add(&mut self, state: ItemStatus) {
        self.add_many(state, 1);
    }

    /// Counts `n` items in `state`.
    pub fn add_many(&mut self, state: ItemStatus, n: u64) {
        self.total += n;
        match state {
            ItemStatus::Pending => self.pending += n,
            ItemStatus::InProgress => self.in_progress += n,
            ItemStatus::Done => self.done += n,
            ItemStatus::Skipped => self.skipped += n,
        }
    }

    /// Items no longer waiting for a reviewer.
    pub fn finished(&self) -> u64 {
        self.done + self.skipped
    }
}

/// A stored queue (`GET /api/v1/queues`), with its counts as of the read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    pub id: String,
    pub project: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The feedback keys a reviewer gives for each item, in the order shown.
    pub score_keys: Vec<String>,
    /// Who may claim items; empty: anyone who can read the project.
    #[serde(default)]
    pub reviewers: Vec<String>,
    pub created_ms: i64,
    #[serde(default)]
    pub counts: QueueCounts,
}

impl Queue {
    /// Whether `reviewer` may claim this queue's items.
    pub fn admits(&self, reviewer: &str) -> bool {
        self.reviewers.is_empty() || self.reviewers.iter().any(|r| r == reviewer)
    }
}

/// `POST /api/v1/queues`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewQueue {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub score_keys: Vec<String>,
    #[serde(default)]
    pub reviewers: Vec<String>,
}

/// `GET /api/v1/queues`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueList {
    pub queues: Vec<Queue>,
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Waiting for a reviewer.
    Pending,
    /// Held by a reviewer under a lease.
    InProgress,
    /// Rated.
    Done,
    /// Passed over by a reviewer: not offered again.
    Skipped,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Pending => "pending",
            ItemStatus::InProgress => "in_progress",
            ItemStatus::Done => "done",
            ItemStatus::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<ItemStatus> {
        [
            ItemStatus::Pending,
            ItemStatus::InProgress,
            ItemStatus::Done,
            ItemStatus::Skipped,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What an item is about: a trace (rated at its root span) or one span of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ItemRef {
    pub trace_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
}

impl ItemRef {
    /// The item's id within its queue: the trace id, or `trace-span` for a span, so that the
    /// same run is never queued twice.
    pub fn item_id(&self) -> String {
        match &self.span_id {
            Some(span) => format!("{}-{span}", self.trace_id),
            None => self.trace_id.clone(),
        }
    }

    /// Ids as ids are stored: trimmed, lowercase; `None` unless the trace id is 32 hex digits
    /// and the span id 16.
    pub fn normalized(&self) -> Option<ItemRef> {
        let id = |s: &str, len: usize| {
            let s = s.trim().to_ascii_lowercase();
            crate::span::is_valid_hex_id(&s, len).then_some(s)
        };
        Some(ItemRef {
            trace_id: id(&self.trace_id, 32)?,
            span_id: match &self.span_id {
                Some(s) => Some(id(s, 16)?),
                None => None,
            },
        })
    }
}

/// A reviewer's hold on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub holder: String,
    /// When the hold ends (Unix ms) unless the item is finished first.
    pub expires_ms: i64,
}

/// One item of a queue, as stored: its state as last written (`state_at` says what it is at a
/// given time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    pub queue_id: String,
    pub id: String,
    #[serde(flatten)]
    pub target: ItemRef,
    /// Its place in the queue: items are offered in this order.
    pub position: i64,
    pub status: ItemStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// Who rated or skipped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_by: Option<String>,
    pub added_ms: i64,
    pub modified_ms: i64,
}

impl QueueItem {
    /// A new pending item.
    pub fn new(queue_id: &str, target: ItemRef, position: i64, now_ms: i64) -> QueueItem {
        QueueItem {
            queue_id: queue_id.to_string(),
            id: target.item_id(),
            target,
            position,
            status: ItemStatus::Pending,
            lease: None,
            finished_by: None,
            added_ms: now_ms,
            modified_ms: now_ms,
        }
    }

    /// The item's state at `now_ms`: an item held under a lease that has run out is pending.
    pub fn state_at(&self, now_ms: i64) -> ItemStatus {
        state_at(
            self.status,
            self.lease.as_ref().map(|l| l.expires_ms),
            now_ms,
        )
    }

    /// The item as a reader sees it at `now_ms`: a lease that ran out is gone.
    pub fn as_of(mut self, now_ms: i64) -> QueueItem {
        if self.state_at(now_ms) == ItemStatus::Pending {
            self.status = ItemStatus::Pending;
            self.lease = None;
        }
        self
    }

    /// Whether `reviewer` holds the item at `now_ms`.
    pub fn held_by(&self, reviewer: &str, now_ms: i64) -> bool {
        self.state_at(now_ms) == ItemStatus::InProgress
            && self.lease.as_ref().is_some_and(|l| l.holder == reviewer)
    }
}

/// What an item written with `status` and a lease ending at `lease_expires_ms` is at `now_ms`
/// (for stores that count items without reading them whole).
pub fn state_at(status: ItemStatus, lease_expires_ms: Option<i64>, now_ms: i64) -> ItemStatus {
    match (status, lease_expires_ms) {
        (ItemStatus::InProgress, Some(expires)) if expires > now_ms => ItemStatus::InProgress,
        (ItemStatus::InProgress, _) => ItemStatus::Pending,
        (status, _) => status,
    }
}

/// The item `reviewer` gets next at `now_ms`: the one they already hold (a reload of the review
/// page finds its item again), else the first pending one by position (one whose lease ran out
/// included); none when every item is held by others or finished.
pub fn choose_next<'a>(
    items: impl IntoIterator<Item = &'a QueueItem>,
    reviewer: &str,
    now_ms: i64,
) -> Option<&'a QueueItem> {
    let mut first_pending: Option<&QueueItem> = None;
    for item in items {
        if item.held_by(reviewer, now_ms) {
            return Some(item);
        }
        if item.state_at(now_ms) == ItemStatus::Pending
            && first_pending.is_none_or(|f| item.position < f.position)
        {
            first_pending = Some(item);
        }
    }
    first_pending
}

/// `item` claimed by `reviewer` at `now_ms` for `lease_ms`.
pub fn claim(item: &QueueItem, reviewer: &str, now_ms: i64, lease_ms: i64) -> QueueItem {
    QueueItem {
        status: ItemStatus::InProgress,
        lease: Some(Lease {
            holder: reviewer.to_string(),
            expires_ms: now_ms.saturating_add(lease_ms),
        }),
        modified_ms: now_ms,
        ..item.clone()
    }
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
    Finished(ItemStatus, Option<String>),
    /// Someone else holds it.
    HeldByOther(String),
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
                by.as_ref()
                    .map(|b| format!(" (by {b})"))
                    .unwrap_or_default()
            ),
            FinishError::HeldByOther(holder) => {
                write!(f, "the item is held by {holder}, not by this reviewer")
            }
            FinishError::NotHeld => write!(
                f,
                "the item is not held by this reviewer (its lease ran out or it was never \
                 claimed): claim it with POST .../next first"
            ),
        }
    }
}

/// `item` after `reviewer` finishes it at `now_ms`: only the lease holder may finish an item;
/// a completion may also rate an item that is pending after its holder's lease ran out, as
/// long as nobody else claimed it since (the rating is the holder's work, not lost to a slow
/// form).
pub fn finish(
    item: &QueueItem,
    reviewer: &str,
    how: Finish,
    now_ms: i64,
) -> Result<QueueItem, FinishError> {
    match item.state_at(now_ms) {
        ItemStatus::Done | ItemStatus::Skipped => {
            return Err(FinishError::Finished(item.status, item.finished_by.clone()))
        }
        ItemStatus::InProgress if !item.held_by(reviewer, now_ms) => {
            let holder = item.lease.as_ref().map(|l| l.holder.clone());
            return Err(FinishError::HeldByOther(holder.unwrap_or_default()));
        }
        ItemStatus::Pending => {
            let last_holder = item.lease.as_ref().map(|l| l.holder.as_str());
            if how == Finish::Release || last_holder != Some(reviewer) {
                return Err(FinishError::NotHeld);
            }
        }
        ItemStatus::InProgress => {}
    }
    let (status, finished_by) = match how {
        Finish::Complete => (ItemStatus::Done, Some(reviewer.to_string())),
        Finish::Skip => (ItemStatus::Skipped, Some(reviewer.to_string())),
        Finish::Release => (ItemStatus::Pending, None),
    };
    Ok(QueueItem {
        status,
        lease: None,
        finished_by,
        modified_ms: now_ms,
        ..item.clone()
    })
}

/// `POST /api/v1/queues/{id}/items`: runs by id, and/or every trace a trace-list query selects
/// (`query`: the trace list's query string, as in its link), at most `limit` of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddItems {
    #[serde(default)]
    pub trace_ids: Vec<String>,
    #[serde(default)]
    pub items: Vec<ItemRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// The answer to `AddItems`: items new to the queue, and those it held already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Added {
    pub added: u64,
    pub already_queued: u64,
}

/// `POST /api/v1/queues/{id}/next` (and the reviewer of a completion, skip or release).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// Who reviews: required without API keys; with keys, the key's project scopes it.
    #[serde(default)]
    pub reviewer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_secs: Option<u32>,
}

/// The answer to a claim: the item held (none when nothing is left for this reviewer) and the
/// queue's counts after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claimed {
    pub item: Option<QueueItem>,
    pub counts: QueueCounts,
}

/// One score of a completion: a feedback record on the item's run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemScore {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `POST /api/v1/queues/{id}/items/{item}/complete`; skip and release take the reviewer only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    #[serde(default)]
    pub reviewer: String,
    #[serde(default)]
    pub scores: Vec<ItemScore>,
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
    Ok(())
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
