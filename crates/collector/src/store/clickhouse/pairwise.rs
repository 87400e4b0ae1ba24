//! Blind pairwise review queues in ClickHouse (schema 8): each queue's versions in
//! `pairwise_queues`, each pair's in `pairwise_pairs`, each judgement in `pairwise_judgements`
//! (the latest version wins; a deleted queue is a version marked deleted, and its pairs are no
//! longer read), each the model's type as JSON beside the columns claims, counts and results
//! select by. Claims and finishes run one at a time per collector and read their pair back
//! after writing, as an ordinary queue's items do (`queues.rs` says what that guarantees).

use async_trait::async_trait;
use serde_json::json;
use skein_model::pairwise_queue::{Judgement, PairFinish, PairItem, PairwiseQueue};
use skein_model::queue::{self, FinishError, ItemStatus};

use super::client::{quote, RowExt};
use super::writer::arrivals;
use super::ClickhouseStore;
use crate::store::pairwise::PairwiseStore;
use crate::store::{StoreError, StoreResult};

fn unreadable(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Internal(format!("a stored {what} is unreadable: {e}"))
}

fn as_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(format!("as JSON: {e}")))
}

/// How often a claim that lost its pair to another collector's write tries the next one.
const CLAIM_ATTEMPTS: usize = 5;

impl ClickhouseStore {
    fn pairs_table(&self) -> String {
        self.layout.table("pairwise_pairs")
    }

    /// The latest versions of a queue's pairs passing `condition` (on the pair's columns),
    /// ordered by `order`, at most `limit`.
    async fn select_pairs(
        &self,
        project: &str,
        queue_id: &str,
        condition: &str,
        order: &str,
        limit: Option<u32>,
    ) -> StoreResult<Vec<PairItem>> {
        // FINAL folds versions; only key columns filter inside it.
        let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let rows = self
            .client
            .rows(&format!(
                "SELECT pair FROM (SELECT pair, position, status, holder, lease_expires_ms \
                 FROM {} FINAL WHERE project = {} AND queue_id = {}) WHERE {condition} \
                 ORDER BY {order}{limit}",
                self.pairs_table(),
                quote(project),
                quote(queue_id)
            ))
            .await?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.str_of("pair")).map_err(|e| unreadable("pair", e)))
            .collect()
    }

    async fn write_pairs(
        &self,
        project: &str,
        pairs: &[PairItem],
        version: u64,
    ) -> StoreResult<()> {
        let mut rows = Vec::with_capacity(pairs.len());
        for (i, pair) in pairs.iter().enumerate() {
            let item = &pair.item;
            let (holder, expires) = item
                .leases
                .first()
                .map_or(("", 0), |l| (l.holder.as_str(), l.expires_ms));
            rows.push(json!({
                "project": project,
                "queue_id": item.queue_id,
                "id": item.id,
                "position": item.position,
                "status": item.status.as_str(),
                "holder": holder,
                "lease_expires_ms": expires,
                "pair": as_json(pair)?,
                "version": version + i as u64,
            }));
        }
        if rows.is_empty() {
            return Ok(());
        }
        self.client
            .insert(&self.pairs_table(), &rows, self.quorum)
            .await
    }

    async fn stored_pair(
        &self,
        project: &str,
        queue_id: &str,
        pair_id: &str,
    ) -> StoreResult<Option<(PairItem, u64)>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT pair, version FROM {} FINAL WHERE project = {} AND queue_id = {} \
                 AND id = {}",
                self.pairs_table(),
                quote(project),
                quote(queue_id),
                quote(pair_id)
            ))
            .await?;
        match rows.first() {
            Some(r) => {
                let pair =
                    serde_json::from_str(&r.str_of("pair")).map_err(|e| unreadable("pair", e))?;
                Ok(Some((pair, r.i64_of("version") as u64)))
            }
            None => Ok(None),
        }
    }

    /// Writes a new version of a pair and reads it back: false when another writer's version
    /// is the latest.
    async fn write_pair_and_confirm(&self, project: &str, pair: &PairItem) -> StoreResult<bool> {
        let version = arrivals(1);
        self.write_pairs(project, std::slice::from_ref(pair), version)
            .await?;
        let latest = self
            .stored_pair(project, &pair.item.queue_id, &pair.item.id)
            .await?;
        Ok(latest.is_some_and(|(_, v)| v == version))
    }

    async fn read_pairwise_queues(
        &self,
        project: &str,
        id: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<Vec<PairwiseQueue>> {
        let p = quote(project);
        let one = id.map(|id| format!(" AND id = {}", quote(id)));
        let rows = self
            .client
            .rows(&format!(
                "SELECT queue FROM (SELECT queue, created_ms, id, deleted FROM {} FINAL \
                 WHERE project = {p}{}) WHERE deleted = 0 ORDER BY created_ms, id",
                self.layout.table("pairwise_queues"),
                one.as_deref().unwrap_or("")
            ))
            .await?;
        let mut queues = rows
            .iter()
            .map(|r| serde_json::from_str::<PairwiseQueue>(&r.str_of("queue")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unreadable("pairwise queue", e))?;
        if queues.is_empty() {
            return Ok(queues);
        }
        let of_queue = id.map(|id| format!(" AND queue_id = {}", quote(id)));
        let counts = self
            .client
            .rows(&format!(
                "SELECT queue_id, status, lease_expires_ms > {now_ms} AS live, count() AS n \
                 FROM (SELECT queue_id, status, lease_expires_ms FROM {} FINAL \
                 WHERE project = {p}{}) GROUP BY queue_id, status, live",
                self.pairs_table(),
                of_queue.as_deref().unwrap_or("")
            ))
            .await?;
        for row in &counts {
            let status = row.str_of("status");
            let status = ItemStatus::parse(&status).ok_or_else(|| {
                StoreError::Internal(format!("a pair has an unknown status {status:?}"))
            })?;
            let live = row.i64_of("live") != 0;
            let state = queue::state_at(status, live.then_some(now_ms + 1), now_ms);
            let queue_id = row.str_of("queue_id");
            if let Some(q) = queues.iter_mut().find(|q| q.id == queue_id) {
                q.counts.add_many(state, row.i64_of("n").max(0) as u64);
            }
        }
        Ok(queues)
    }

    async fn write_pairwise_queue_row(
        &self,
        queue: &PairwiseQueue,
        deleted: bool,
    ) -> StoreResult<()> {
        let row = json!({
            "project": queue.project,
            "id": queue.id,
            "created_ms": queue.created_ms,
            "queue": as_json(queue)?,
            "deleted": u8::from(deleted),
            "version": arrivals(1),
        });
        self.client
            .insert(&self.layout.table("pairwise_queues"), &[row], self.quorum)
            .await
    }

    async fn write_judgement(&self, project: &str, judgement: &Judgement) -> StoreResult<()> {
        let row = json!({
            "project": project,
            "queue_id": judgement.queue_id,
            "pair_id": judgement.pair_id,
            "reviewer": judgement.reviewer,
            "winner": judgement.winner.as_str(),
            "created_ms": judgement.created_ms,
            "judgement": as_json(judgement)?,
            "version": arrivals(1),
        });
        self.client
            .insert(
                &self.layout.table("pairwise_judgements"),
                &[row],
                self.quorum,
            )
            .await
    }
}

#[async_trait]
impl PairwiseStore for ClickhouseStore {
    async fn create_pairwise_queue(
        &self,
        queue: PairwiseQueue,
        pairs: Vec<PairItem>,
    ) -> StoreResult<()> {
        // The pairs first: a queue is listed only once its pairs are all there.
        self.write_pairs(&queue.project, &pairs, arrivals(pairs.len()))
            .await?;
        self.write_pairwise_queue_row(&queue, false).await
    }

    async fn pairwise_queues(&self, project: &str, now_ms: i64) -> StoreResult<Vec<PairwiseQueue>> {
        self.read_pairwise_queues(project, None, now_ms).await
    }

    async fn pairwise_queue(
        &self,
        project: &str,
        id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<PairwiseQueue>> {
        Ok(self
            .read_pairwise_queues(project, Some(id), now_ms)
            .await?
            .pop())
    }

    async fn delete_pairwise_queue(&self, project: &str, id: &str) -> StoreResult<bool> {
        let Some(queue) = self.read_pairwise_queues(project, Some(id), 0).await?.pop() else {
            return Ok(false);
        };
        self.write_pairwise_queue_row(&queue, true).await?;
        Ok(true)
    }

    async fn claim_pair(
        &self,
        project: &str,
        queue_id: &str,
        reviewer: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<PairItem>> {
        // A deleted queue's pairs stay in the table: nothing of it is offered.
        if self
            .pairwise_queue(project, queue_id, now_ms)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let _one_at_a_time = self.queue_writes.lock().await;
        let r = quote(reviewer);
        let held =
            format!("(status = 'in_progress' AND holder = {r} AND lease_expires_ms > {now_ms})");
        let condition = format!(
            "{held} OR status = 'pending' \
             OR (status = 'in_progress' AND lease_expires_ms <= {now_ms})"
        );
        let order = format!("{held} DESC, position");
        for _ in 0..CLAIM_ATTEMPTS {
            let candidates = self
                .select_pairs(project, queue_id, &condition, &order, Some(2))
                .await?;
            let Some(claimed) = PairItem::claim_next(&candidates, reviewer, now_ms, lease_ms)
            else {
                return Ok(None);
            };
            if self.write_pair_and_confirm(project, &claimed).await? {
                return Ok(Some(claimed));
            }
        }
        Err(StoreError::Overloaded {
            reason: "other reviewers are claiming this queue's pairs at the same time".into(),
            retry_after_secs: 1,
        })
    }

    async fn finish_pair(
        &self,
        project: &str,
        queue_id: &str,
        pair_id: &str,
        reviewer: &str,
        how: PairFinish,
        now_ms: i64,
    ) -> StoreResult<Option<Result<PairItem, FinishError>>> {
        let _one_at_a_time = self.queue_writes.lock().await;
        let Some((stored, _)) = self.stored_pair(project, queue_id, pair_id).await? else {
            return Ok(None);
        };
        let finished = match stored.finish(reviewer, how.how(), now_ms) {
            Ok(finished) => finished,
            Err(e) => return Ok(Some(Err(e))),
        };
        // The judgement first: a pair is never done without the judgement that finished it
        // (should writing the pair fail, the reviewer judges again and the newer version wins).
        if let PairFinish::Judge(pick) = how {
            let judgement = Judgement::of(&finished, reviewer, pick, now_ms);
            self.write_judgement(project, &judgement).await?;
        }
        if !self.write_pair_and_confirm(project, &finished).await? {
            return Err(StoreError::Overloaded {
                reason: "the pair changed while it was being finished".into(),
                retry_after_secs: 1,
            });
        }
        Ok(Some(Ok(finished)))
    }

    async fn judgements(
        &self,
        project: &str,
        queue_id: Option<&str>,
    ) -> StoreResult<Vec<Judgement>> {
        let of_queue = queue_id.map(|id| format!(" AND queue_id = {}", quote(id)));
        let rows = self
            .client
            .rows(&format!(
                "SELECT judgement FROM (SELECT judgement, created_ms, queue_id, pair_id FROM {} \
                 FINAL WHERE project = {}{}) ORDER BY created_ms, queue_id, pair_id",
                self.layout.table("pairwise_judgements"),
                quote(project),
                of_queue.as_deref().unwrap_or("")
            ))
            .await?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(&r.str_of("judgement")).map_err(|e| unreadable("judgement", e))
            })
            .collect()
    }
}
