//! Blind pairwise review queues in ClickHouse (schema 8): each queue's versions in
//! `pairwise_queues`, each pair's in `pairwise_pairs`, each judgement in `pairwise_judgements`
//! (the latest version wins; a deleted queue is a version marked deleted, and its pairs are no
//! longer read), each the model's type as JSON beside the columns claims, counts and results
//! select by. Claims and finishes run one at a time per collector and read their pair back
//! after writing, as an ordinary queue's items do (`queues.rs` says what that guarantees).

use async_trait::async_trait;
use serde_json::json;
use skein_model::pairwise_queue::{Judgement, PairFinish, PairItem, PairwiseQueue};
use skein_model::queue::FinishError;

use super::client::{quote, RowExt};
use super::leased::as_json;
use super::writer::arrivals;
use super::ClickhouseStore;
use crate::store::leased::unreadable;
use crate::store::pairwise::PairwiseStore;
use crate::store::{StoreError, StoreResult};

const QUEUES: &str = "pairwise_queues";
const PAIRS: &str = "pairwise_pairs";

/// How often a claim that lost its pair to another collector's write tries the next one.
const CLAIM_ATTEMPTS: usize = 5;

impl ClickhouseStore {
    async fn read_pairwise_queues(
        &self,
        project: &str,
        id: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<Vec<PairwiseQueue>> {
        self.read_stored_queues(QUEUES, PAIRS, project, id, now_ms)
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
        self.write_leased(PAIRS, &queue.project, &pairs, arrivals(pairs.len()))
            .await?;
        self.write_queue_version(QUEUES, &queue, false).await
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
        self.write_queue_version(QUEUES, &queue, true).await?;
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
        // One at a time from the queue's read on, so that no claim reads counts halfway
        // through another's write.
        let _one_at_a_time = self.queue_writes.lock().await;
        // A deleted queue's pairs stay in the table: nothing of it is offered.
        if self
            .pairwise_queue(project, queue_id, now_ms)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let r = quote(&format!("\n{reviewer}\n"));
        let held = format!(
            "(status = 'in_progress' AND position(holder, {r}) > 0 \
             AND lease_expires_ms > {now_ms})"
        );
        let condition = format!(
            "{held} OR status = 'pending' \
             OR (status = 'in_progress' AND lease_expires_ms <= {now_ms})"
        );
        let order = format!("{held} DESC, position");
        for _ in 0..CLAIM_ATTEMPTS {
            let candidates = self
                .select_leased(PAIRS, project, queue_id, &condition, &order, Some(2))
                .await?;
            let Some(claimed) = PairItem::claim_next(&candidates, reviewer, now_ms, lease_ms)
            else {
                return Ok(None);
            };
            if self
                .write_leased_and_confirm(PAIRS, project, &claimed)
                .await?
            {
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
        let Some((stored, _)) = self
            .stored_leased::<PairItem>(PAIRS, project, queue_id, pair_id)
            .await?
        else {
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
        if !self
            .write_leased_and_confirm(PAIRS, project, &finished)
            .await?
        {
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
