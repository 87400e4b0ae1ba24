//! Annotation queues: the `QueueStore` every engine implements. Which item a reviewer gets next,
//! what a lease is and who may finish an item are rules of `skein_model::queue`; an engine
//! keeps queues and items and applies those rules so that two claims never hold one item.
//! A queue's ratings are ordinary feedback records (`FeedbackStore`), written by the API.

use async_trait::async_trait;
use skein_model::queue::{Finish, FinishError, ItemRef, Queue, QueueItem};

use super::StoreResult;

#[async_trait]
pub trait QueueStore: Send + Sync + 'static {
    /// Stores a new queue (its counts are the store's to compute on read).
    async fn create_queue(&self, queue: Queue) -> StoreResult<()>;

    /// The project's queues, oldest first, each with its counts at `now_ms`.
    async fn queues(&self, project: &str, now_ms: i64) -> StoreResult<Vec<Queue>>;

    /// One queue of the project, with its counts at `now_ms`.
    async fn queue(&self, project: &str, id: &str, now_ms: i64) -> StoreResult<Option<Queue>>;

    /// Removes a queue and its items (the feedback given stays); true when there was one.
    async fn delete_queue(&self, project: &str, id: &str) -> StoreResult<bool>;

    /// Appends items to a queue, in the order given, after those it holds, each to be rated by
    /// `reviews_needed` reviewers; a run the queue holds already (same `ItemRef::item_id`) is
    /// left as it is. How many were new.
    async fn add_queue_items(
        &self,
        project: &str,
        queue_id: &str,
        targets: Vec<ItemRef>,
        reviews_needed: u32,
        now_ms: i64,
    ) -> StoreResult<u64>;

    /// The queue's items by position, each as of `now_ms` (`QueueItem::as_of`).
    async fn queue_items(
        &self,
        project: &str,
        queue_id: &str,
        now_ms: i64,
    ) -> StoreResult<Vec<QueueItem>>;

    /// One item of the queue, as of `now_ms`.
    async fn queue_item(
        &self,
        project: &str,
        queue_id: &str,
        item_id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<QueueItem>>;

    /// Claims for `reviewer` the item `queue::choose_next` picks at `now_ms`, held for
    /// `lease_ms` (`queue::claim`); none when nothing is left for them. Concurrent claims never
    /// put more holders on an item than it needs reviews (one, by default: two reviewers never
    /// hold the same item), and never give a reviewer an item they rated or skipped.
    async fn claim_queue_item(
        &self,
        project: &str,
        queue_id: &str,
        reviewer: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<QueueItem>>;

    /// Finishes an item as `queue::finish` allows, checked and written as one step: the item
    /// as finished, or why `reviewer` may not; none when the queue has no such item.
    async fn finish_queue_item(
        &self,
        project: &str,
        queue_id: &str,
        item_id: &str,
        reviewer: &str,
        how: Finish,
        now_ms: i64,
    ) -> StoreResult<Option<Result<QueueItem, FinishError>>>;
}
