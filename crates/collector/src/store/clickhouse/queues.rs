//! Annotation queues in ClickHouse (schema 6): each queue's versions in `queues` and each
//! item's in `queue_items`, by project, queue and id (the latest version wins; a deleted queue
//! is a version marked deleted, and its items are no longer read), each the model's type as
//! JSON beside the columns claims and counts select by (`holder`: the lease holders between
//! newlines, `QueueItem::holders_column`; `lease_expires_ms`: when the last lease ends).
//! Sharded by project.
//!
//! ClickHouse has no transactions, so a claim is a read, the model's choice
//! (`queue::choose_next`) and a new version of the item. Claims, adds and finishes of one
//! collector run one at a time (`ClickhouseStore::queue_writes`), and each reads its item
//! again after writing (FINAL) to check its version is the latest: on one collector, whatever
//! the ClickHouse nodes behind it, two reviewers never get the same item. Several collectors
//! over one cluster serialize only their own claims: two of them claiming within one
//! read-write round trip of each other could both win the same item, and the read-back catches
//! only the ones whose writes it sees. Such a setup should send a queue's review traffic to
//! one collector (sticky routing by queue), or keep leases in a store with compare-and-set.

use async_trait::async_trait;
use skein_model::queue::{self, Finish, FinishError, ItemRef, Queue, QueueItem};

use super::client::{quote, RowExt};
use super::writer::arrivals;
use super::ClickhouseStore;
use crate::store::queues::QueueStore;
use crate::store::{StoreError, StoreResult};

const QUEUES: &str = "queues";
const ITEMS: &str = "queue_items";

impl ClickhouseStore {
    async fn select_items(
        &self,
        project: &str,
        queue_id: &str,
        condition: &str,
        order: &str,
        limit: Option<u32>,
    ) -> StoreResult<Vec<QueueItem>> {
        self.select_leased(ITEMS, project, queue_id, condition, order, limit)
            .await
    }

    async fn stored_item(
        &self,
        project: &str,
        queue_id: &str,
        item_id: &str,
    ) -> StoreResult<Option<(QueueItem, u64)>> {
        self.stored_leased(ITEMS, project, queue_id, item_id).await
    }

    async fn read_queues(
        &self,
        project: &str,
        id: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<Vec<Queue>> {
        self.read_stored_queues(QUEUES, ITEMS, project, id, now_ms)
            .await
    }
}

/// How often a claim that lost its item to another collector's write tries the next one.
const CLAIM_ATTEMPTS: usize = 5;

#[async_trait]
impl QueueStore for ClickhouseStore {
    async fn create_queue(&self, queue: Queue) -> StoreResult<()> {
        self.write_queue_version(QUEUES, &queue, false).await
    }

    async fn queues(&self, project: &str, now_ms: i64) -> StoreResult<Vec<Queue>> {
        self.read_queues(project, None, now_ms).await
    }

    async fn queue(&self, project: &str, id: &str, now_ms: i64) -> StoreResult<Option<Queue>> {
        Ok(self.read_queues(project, Some(id), now_ms).await?.pop())
    }

    async fn delete_queue(&self, project: &str, id: &str) -> StoreResult<bool> {
        let Some(queue) = self.read_queues(project, Some(id), 0).await?.pop() else {
            return Ok(false);
        };
        self.write_queue_version(QUEUES, &queue, true).await?;
        Ok(true)
    }

    async fn add_queue_items(
        &self,
        project: &str,
        queue_id: &str,
        targets: Vec<ItemRef>,
        reviews_needed: u32,
        now_ms: i64,
    ) -> StoreResult<u64> {
        let _one_at_a_time = self.queue_writes.lock().await;
        let rows = self
            .client
            .rows(&format!(
                "SELECT id, position FROM {} FINAL WHERE project = {} AND queue_id = {}",
                self.layout.table(ITEMS),
                quote(project),
                quote(queue_id)
            ))
            .await?;
        let mut known: std::collections::HashSet<String> =
            rows.iter().map(|r| r.str_of("id")).collect();
        let mut next = rows.iter().map(|r| r.i64_of("position")).max().unwrap_or(0) + 1;
        let mut new = Vec::new();
        for target in targets {
            let item = QueueItem::new(queue_id, target, next, reviews_needed, now_ms);
            if known.insert(item.id.clone()) {
                new.push(item);
                next += 1;
            }
        }
        self.write_leased(ITEMS, project, &new, arrivals(new.len()))
            .await?;
        Ok(new.len() as u64)
    }

    async fn queue_items(
        &self,
        project: &str,
        queue_id: &str,
        now_ms: i64,
    ) -> StoreResult<Vec<QueueItem>> {
        let items = self
            .select_items(project, queue_id, "1", "position", None)
            .await?;
        Ok(items.into_iter().map(|i| i.as_of(now_ms)).collect())
    }

    async fn queue_item(
        &self,
        project: &str,
        queue_id: &str,
        item_id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<QueueItem>> {
        let found = self.stored_item(project, queue_id, item_id).await?;
        Ok(found.map(|(i, _)| i.as_of(now_ms)))
    }

    async fn claim_queue_item(
        &self,
        project: &str,
        queue_id: &str,
        reviewer: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<QueueItem>> {
        let _one_at_a_time = self.queue_writes.lock().await;
        for _ in 0..CLAIM_ATTEMPTS {
            // The candidates of `queue::choose_next`: the unfinished items, the one the
            // reviewer holds first (a reviewer's own ratings are in the item only, so every
            // unfinished item is read: at most `MAX_ITEMS`).
            let held = format!(
                "lease_expires_ms > {now_ms} AND position(holder, {}) > 0",
                quote(&format!("\n{reviewer}\n"))
            );
            let candidates = self
                .select_items(
                    project,
                    queue_id,
                    "status IN ('pending', 'in_progress')",
                    &format!("({held}) DESC, position"),
                    None,
                )
                .await?;
            let Some(chosen) = queue::choose_next(&candidates, reviewer, now_ms) else {
                return Ok(None);
            };
            let claimed = queue::claim(chosen, reviewer, now_ms, lease_ms);
            if self
                .write_leased_and_confirm(ITEMS, project, &claimed)
                .await?
            {
                return Ok(Some(claimed));
            }
        }
        Err(StoreError::Overloaded {
            reason: "other reviewers are claiming this queue's items at the same time".into(),
            retry_after_secs: 1,
        })
    }

    async fn finish_queue_item(
        &self,
        project: &str,
        queue_id: &str,
        item_id: &str,
        reviewer: &str,
        how: Finish,
        now_ms: i64,
    ) -> StoreResult<Option<Result<QueueItem, FinishError>>> {
        let _one_at_a_time = self.queue_writes.lock().await;
        let Some((stored, _)) = self.stored_item(project, queue_id, item_id).await? else {
            return Ok(None);
        };
        let finished = queue::finish(&stored, reviewer, how, now_ms);
        if let Ok(item) = &finished {
            if !self.write_leased_and_confirm(ITEMS, project, item).await? {
                // Another collector wrote the item meanwhile: asked again, the rule decides on
                // what it wrote.
                return Err(StoreError::Overloaded {
                    reason: "the item changed while it was being finished".into(),
                    retry_after_secs: 1,
                });
            }
        }
        Ok(Some(finished))
    }
}
