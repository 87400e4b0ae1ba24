//! Annotation queues (`/api/v1/queues`).

use skein_model::queue::{
    AddItems, Added, Claim, Claimed, Completion, NewQueue, Queue, QueueItem, QueueList, Reviewer,
};

use super::{get, id_tail, send_json, ApiError};
use crate::links;

/// `GET /api/v1/reviewer`: the reviewer the API key names (none without keys).
pub async fn reviewer(project: &str) -> Result<Reviewer, ApiError> {
    get(links::api_reviewer(project)).await
}

pub async fn queues(project: &str) -> Result<QueueList, ApiError> {
    get(links::api_queues(project, "")).await
}

pub async fn queue(project: &str, id: &str) -> Result<Queue, ApiError> {
    get(links::api_queues(project, &id_tail(id, ""))).await
}

/// `POST`: 201 and the stored queue.
pub async fn create_queue(project: &str, new: &NewQueue) -> Result<Queue, ApiError> {
    send_json("POST", links::api_queues(project, ""), new).await
}

/// `POST /{id}/items`: runs added to the queue.
pub async fn add_to_queue(project: &str, id: &str, add: &AddItems) -> Result<Added, ApiError> {
    send_json(
        "POST",
        links::api_queues(project, &id_tail(id, "/items")),
        add,
    )
    .await
}

/// `POST /{id}/next`: the item the reviewer holds now (none when the queue is finished).
pub async fn claim_next(project: &str, id: &str, claim: &Claim) -> Result<Claimed, ApiError> {
    send_json(
        "POST",
        links::api_queues(project, &id_tail(id, "/next")),
        claim,
    )
    .await
}

/// `POST /{id}/items/{item}/complete`: the scores stored as feedback, the item done.
pub async fn complete_item(
    project: &str,
    id: &str,
    item: &str,
    completion: &Completion,
) -> Result<serde_json::Value, ApiError> {
    let tail = id_tail(
        id,
        &format!(
            "/items/{}/complete",
            skein_model::query::percent_encode(item)
        ),
    );
    send_json("POST", links::api_queues(project, &tail), completion).await
}

/// `POST /{id}/items/{item}/skip`.
pub async fn skip_item(
    project: &str,
    id: &str,
    item: &str,
    claim: &Claim,
) -> Result<QueueItem, ApiError> {
    let tail = id_tail(
        id,
        &format!("/items/{}/skip", skein_model::query::percent_encode(item)),
    );
    send_json("POST", links::api_queues(project, &tail), claim).await
}
