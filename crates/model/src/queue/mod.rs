//! Annotation queues: runs set aside for people to rate, one at a time, with the score keys
//! the queue collects and how many different reviewers rate each item. A reviewer asks for the
//! next item and holds it under a lease that expires, so that a reviewer never gets an item
//! twice, no more reviewers hold an item than it still needs, and an item a reviewer left goes
//! back to the others.
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
/// Most reviewers one item may need.
pub const MAX_REVIEWS_PER_ITEM: u32 = 20;
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
    /// How many different reviewers rate each item (an item is done once that many did).
    #[serde(default = "one")]
    pub reviews_per_item: u32,
    pub created_ms: i64,
    #[serde(default)]
    pub counts: QueueCounts,
}

fn one() -> u32 {
    1
}

impl Queue {
    /// Whether `reviewer` may claim this queue's items.
    pub fn admits(&self, reviewer: &str) -> bool {
        self.reviewers.is_empty() || self.reviewers.iter().any(|r| r == reviewer)
    }
}

/// `POST /api/v1/queues`: the queue, and optionally its first items (as `AddItems` takes
/// them: a trace-list `query`, sampled and balanced as `sample` says).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewQueue {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub score_keys: Vec<String>,
    #[serde(default)]
    pub reviewers: Vec<String>,
    /// Different reviewers per item; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviews_per_item: Option<u32>,
    /// The first items: the traces a trace-list query selects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Or the spans a span-list query selects (its link's query string: `filter=...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<Sample>,
}

/// Which of a query's traces a queue takes: `size` of them at random (all when absent),
/// balanced across the values of tag `balance_by` when given (as many of each value, as far
/// as the rarest value allows; traces without the tag are left out).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_by: Option<String>,
}

/// `GET /api/v1/reviewer`: who the request reviews as when the server says (an API key's
/// label); none when Skein has no keys and the reviewer gives their name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reviewer {
    pub name: Option<String>,
}

/// Most of a query's traces a sample is drawn from (its newest).
pub const MAX_SAMPLE_POOL: usize = 10_000;

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
#[serde(from = "StoredItem")]
pub struct QueueItem {
    pub queue_id: String,
    pub id: String,
    #[serde(flatten)]
    pub target: ItemRef,
    /// Its place in the queue: items are offered in this order.
    pub position: i64,
    pub status: ItemStatus,
    /// How many different reviewers rate it (the queue's `reviews_per_item` when added).
    pub reviews_needed: u32,
    /// The reviewers holding it now, one lease each (leases that ran out may linger until the
    /// item is next written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leases: Vec<Lease>,
    /// Who rated it, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub completed_by: Vec<String>,
    /// Who passed it over.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_by: Vec<String>,
    pub added_ms: i64,
    pub modified_ms: i64,
}

/// An item as stored by any version: items of schema 12 had one `lease` and a `finished_by`
/// (the rater of a done item, the skipper of a skipped one) and needed one review.
#[derive(Deserialize)]
struct StoredItem {
    queue_id: String,
    id: String,
    #[serde(flatten)]
    target: ItemRef,
    position: i64,
    status: ItemStatus,
    #[serde(default = "one")]
    reviews_needed: u32,
    #[serde(default)]
    leases: Vec<Lease>,
    #[serde(default)]
    lease: Option<Lease>,
    #[serde(default)]
    completed_by: Vec<String>,
    #[serde(default)]
    skipped_by: Vec<String>,
    #[serde(default)]
    finished_by: Option<String>,
    added_ms: i64,
    modified_ms: i64,
}

impl From<StoredItem> for QueueItem {
    fn from(s: StoredItem) -> QueueItem {
        let mut item = QueueItem {
            queue_id: s.queue_id,
            id: s.id,
            target: s.target,
            position: s.position,
            status: s.status,
            reviews_needed: s.reviews_needed.max(1),
            leases: s.leases,
            completed_by: s.completed_by,
            skipped_by: s.skipped_by,
            added_ms: s.added_ms,
            modified_ms: s.modified_ms,
        };
        item.leases.extend(s.lease);
        if let Some(by) = s.finished_by {
            match s.status {
                ItemStatus::Done => item.completed_by.push(by),
                ItemStatus::Skipped => item.skipped_by.push(by),
                _ => {}
            }
        }
        item
    }
}

impl QueueItem {
    /// A new pending item that `reviews_needed` reviewers rate.
    pub fn new(
        queue_id: &str,
        target: ItemRef,
        position: i64,
        reviews_needed: u32,
        now_ms: i64,
    ) -> QueueItem {
        QueueItem {
            queue_id: queue_id.to_string(),
            id: target.item_id(),
            target,
            position,
            status: ItemStatus::Pending,
            reviews_needed: reviews_needed.max(1),
            leases: Vec::new(),
            completed_by: Vec::new(),
            skipped_by: Vec::new(),
            added_ms: now_ms,
            modified_ms: now_ms,
        }
    }

    /// The leases live at `now_ms`.
    pub fn live_leases(&self, now_ms: i64) -> impl Iterator<Item = &Lease> {
        self.leases.iter().filter(move |l| l.expires_ms > now_ms)
    }

    /// When the last live lease ends (0 when none was ever taken): what stores index.
    pub fn lease_expires_ms(&self) -> i64 {
        self.leases.iter().map(|l| l.expires_ms).max().unwrap_or(0)
    }

    /// The holders, each between newlines (`"\nann\nbob\n"`; empty when none), as stores
    /// keep them in one column: a reviewer's name has no control characters, so
    /// `"\n{name}\n"` is found in it exactly when they hold a lease.
    pub fn holders_column(&self) -> String {
        if self.leases.is_empty() {
            return String::new();
        }
        let mut text = String::from("\n");
        for l in &self.leases {
            text.push_str(&l.holder);
            text.push('\n');
        }
        text
    }

    /// The item's state at `now_ms`: an unfinished item is in progress while anyone holds a
    /// live lease on it, else pending.
    pub fn state_at(&self, now_ms: i64) -> ItemStatus {
        state_at(self.status, Some(self.lease_expires_ms()), now_ms)
    }

    /// The item as a reader sees it at `now_ms`: leases that ran out are gone.
    pub fn as_of(mut self, now_ms: i64) -> QueueItem {
        self.leases.retain(|l| l.expires_ms > now_ms);
        self.status = self.state_at(now_ms);
        self
    }

    /// Whether `reviewer` holds the item at `now_ms`.
    pub fn held_by(&self, reviewer: &str, now_ms: i64) -> bool {
        self.live_leases(now_ms).any(|l| l.holder == reviewer)
    }

    /// Whether `reviewer` rated or skipped the item already.
    pub fn finished_by(&self, reviewer: &str) -> bool {
        self.completed_by
            .iter()
            .chain(&self.skipped_by)
            .any(|r| r == reviewer)
    }

    /// Whether the item is finished: rated by as many reviewers as it needs (done), or passed
    /// through that many with some skipping it (skipped).
    pub fn is_finished(&self) -> bool {
        matches!(self.status, ItemStatus::Done | ItemStatus::Skipped)
    }

    /// Whether `reviewer` may claim the item at `now_ms`: unfinished, never rated or skipped
    /// by them, and with room beside the reviews given and the others' live leases.
    pub fn open_to(&self, reviewer: &str, now_ms: i64) -> bool {
        let others = self
            .live_leases(now_ms)
            .filter(|l| l.holder != reviewer)
            .count();
        !self.is_finished()
            && !self.finished_by(reviewer)
            && self.completed_by.len() + self.skipped_by.len() + others
                < self.reviews_needed as usize
    }

    /// The status that its reviews and leases make at `now_ms`.
    fn settled(mut self, now_ms: i64) -> QueueItem {
        let needed = self.reviews_needed as usize;
        self.status = if self.completed_by.len() >= needed {
            ItemStatus::Done
        } else if self.completed_by.len() + self.skipped_by.len() >= needed {
            ItemStatus::Skipped
        } else if self.held_by_anyone(now_ms) {
            ItemStatus::InProgress
        } else {
            ItemStatus::Pending
        };
        if self.is_finished() {
            self.leases.clear();
        }
        self.modified_ms = now_ms;
        self
    }

    fn held_by_anyone(&self, now_ms: i64) -> bool {
        self.live_leases(now_ms).next().is_some()
    }
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
    /// Every span a span-list query selects (`filter=...`, as in the spans page's link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_query: Option<String>,
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

mod rules;
mod sample;

pub use rules::*;
pub use sample::sample_items;

#[cfg(test)]
mod tests;
