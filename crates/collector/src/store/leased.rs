//! What the tables of leased work have in common, whatever the engine: a queue's stored form
//! (its counts filled in on read) and a row a reviewer holds under a lease (an annotation
//! queue's item, a pairwise queue's pair), kept as the model's JSON beside the columns claims
//! and counts select by.

use serde::de::DeserializeOwned;
use serde::Serialize;
use skein_model::pairwise_queue::{PairItem, PairwiseQueue};
use skein_model::queue::{Queue, QueueCounts, QueueItem};

use super::StoreError;

/// A queue as stored: the model's type as JSON, its counts read beside it.
pub(crate) trait StoredQueue: Serialize + DeserializeOwned + Send {
    /// What a log or an error calls it.
    const WHAT: &'static str;
    fn id(&self) -> &str;
    fn project(&self) -> &str;
    fn created_ms(&self) -> i64;
    fn counts_mut(&mut self) -> &mut QueueCounts;
}

/// A row held under leases: the model's type as JSON in column `COLUMN`.
pub(crate) trait LeasedRow: Serialize + DeserializeOwned + Send + Sync {
    const WHAT: &'static str;
    /// The column holding the row's JSON.
    const COLUMN: &'static str;
    fn item(&self) -> &QueueItem;
}

impl StoredQueue for Queue {
    const WHAT: &'static str = "queue";
    fn id(&self) -> &str {
        &self.id
    }
    fn project(&self) -> &str {
        &self.project
    }
    fn created_ms(&self) -> i64 {
        self.created_ms
    }
    fn counts_mut(&mut self) -> &mut QueueCounts {
        &mut self.counts
    }
}

impl StoredQueue for PairwiseQueue {
    const WHAT: &'static str = "pairwise queue";
    fn id(&self) -> &str {
        &self.id
    }
    fn project(&self) -> &str {
        &self.project
    }
    fn created_ms(&self) -> i64 {
        self.created_ms
    }
    fn counts_mut(&mut self) -> &mut QueueCounts {
        &mut self.counts
    }
}

impl LeasedRow for QueueItem {
    const WHAT: &'static str = "queue item";
    const COLUMN: &'static str = "item";
    fn item(&self) -> &QueueItem {
        self
    }
}

impl LeasedRow for PairItem {
    const WHAT: &'static str = "pair";
    const COLUMN: &'static str = "pair";
    fn item(&self) -> &QueueItem {
        &self.item
    }
}

pub(crate) fn unreadable(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Internal(format!("a stored {what} is unreadable: {e}"))
}

/// A stored status the model does not know.
pub(crate) fn unknown_status(what: &str, status: &str) -> StoreError {
    StoreError::Internal(format!("a {what} has an unknown status {status:?}"))
}
