//! Blind pairwise review queues: the `PairwiseStore` every engine implements. How pairs are
//! drawn, which side a run is on and what a pick means are rules of
//! `skein_model::pairwise_queue`; a pair is held under a lease by the rules of an ordinary
//! queue's item (`skein_model::queue`). An engine keeps queues, pairs and judgements, and
//! applies those rules so that two claims never hold one pair.

use async_trait::async_trait;
use skein_model::pairwise_queue::{Judgement, PairFinish, PairItem, PairwiseQueue};
use skein_model::queue::FinishError;

use super::StoreResult;

#[async_trait]
pub trait PairwiseStore: Send + Sync + 'static {
    /// Stores a new queue with its pairs (in the order given: the order they are offered).
    async fn create_pairwise_queue(
        &self,
        queue: PairwiseQueue,
        pairs: Vec<PairItem>,
    ) -> StoreResult<()>;

    /// The project's pairwise queues, oldest first, each with its counts at `now_ms`.
    async fn pairwise_queues(&self, project: &str, now_ms: i64) -> StoreResult<Vec<PairwiseQueue>>;

    /// One pairwise queue of the project, with its counts at `now_ms`.
    async fn pairwise_queue(
        &self,
        project: &str,
        id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<PairwiseQueue>>;

    /// Removes a queue and its pairs (its judgements stay); true when there was one.
    async fn delete_pairwise_queue(&self, project: &str, id: &str) -> StoreResult<bool>;

    /// Claims for `reviewer` the pair `queue::choose_next` picks at `now_ms`, held for
    /// `lease_ms`; none when nothing is left for them. Two claims, however concurrent, never
    /// hold the same pair at once.
    async fn claim_pair(
        &self,
        project: &str,
        queue_id: &str,
        reviewer: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<PairItem>>;

    /// Finishes a pair as `queue::finish` allows, checked and written as one step, with the
    /// judgement when `how` judges it: which cohort won, from the side picked
    /// (`Pick::winner`). The pair as finished, or why `reviewer` may not; none when the queue
    /// has no such pair.
    async fn finish_pair(
        &self,
        project: &str,
        queue_id: &str,
        pair_id: &str,
        reviewer: &str,
        how: PairFinish,
        now_ms: i64,
    ) -> StoreResult<Option<Result<PairItem, FinishError>>>;

    /// The project's judgements (of one queue when `queue_id` is given), oldest first.
    async fn judgements(
        &self,
        project: &str,
        queue_id: Option<&str>,
    ) -> StoreResult<Vec<Judgement>>;
}
