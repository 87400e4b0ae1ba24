//! Blind pairwise review queues (`/api/v1/pairwise`).

use skein_model::pairwise_queue as pq;
use skein_model::queue::Claim;

use super::{get, id_tail, send_json, ApiError};
use crate::links;

pub async fn pairwise_queues(project: &str) -> Result<pq::PairwiseQueueList, ApiError> {
    get(links::api_pairwise(project, "", "")).await
}

pub async fn pairwise_queue(project: &str, id: &str) -> Result<pq::PairwiseQueue, ApiError> {
    get(links::api_pairwise(project, &id_tail(id, ""), "")).await
}

/// `POST`: 201 and the stored queue, its pairs drawn.
pub async fn create_pairwise_queue(
    project: &str,
    new: &pq::NewPairwiseQueue,
) -> Result<pq::PairwiseQueue, ApiError> {
    send_json("POST", links::api_pairwise(project, "", ""), new).await
}

/// `POST /{id}/next`: the pair the reviewer holds now (none when the queue is finished).
pub async fn claim_pair(
    project: &str,
    id: &str,
    claim: &Claim,
) -> Result<pq::ClaimedPair, ApiError> {
    let url = links::api_pairwise(project, &id_tail(id, "/next"), "");
    send_json("POST", url, claim).await
}

/// `POST /{id}/pairs/{pair}/judge`.
pub async fn judge_pair(
    project: &str,
    id: &str,
    pair: &str,
    judge: &pq::Judge,
) -> Result<pq::BlindPair, ApiError> {
    let rest = format!("/pairs/{}/judge", skein_model::query::percent_encode(pair));
    let url = links::api_pairwise(project, &id_tail(id, &rest), "");
    send_json("POST", url, judge).await
}

/// `POST /{id}/pairs/{pair}/skip`.
pub async fn skip_pair(
    project: &str,
    id: &str,
    pair: &str,
    claim: &Claim,
) -> Result<pq::BlindPair, ApiError> {
    let rest = format!("/pairs/{}/skip", skein_model::query::percent_encode(pair));
    let url = links::api_pairwise(project, &id_tail(id, &rest), "");
    send_json("POST", url, claim).await
}

/// `GET /results`: judgements per group of a tag.
pub async fn pairwise_results(
    project: &str,
    query: &pq::ResultsQuery,
) -> Result<pq::PairwiseResults, ApiError> {
    get(links::api_pairwise(
        project,
        "/results",
        &query.to_query_string(),
    ))
    .await
}
