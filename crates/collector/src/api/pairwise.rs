//! `/api/v1/pairwise`: blind pairwise review queues. Create one from two cohorts (trace-list
//! query strings), its pairs drawn at once (`pairwise_queue::draw_pairs`); list, read and
//! delete queues; a reviewer claims the next pair under a lease (`POST .../next`, answered
//! with sides, never cohorts), then judges it (left, right or tie, stored as which cohort won),
//! skips it or releases it; `GET /api/v1/pairwise/results` adds judgements up per group of a
//! tag (`pairwise_queue::results_by_group`). Every route is scoped to the request's project.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use skein_model::pairwise_queue::{
    self, BlindPair, Candidate, ClaimedPair, Judge, NewPairwiseQueue, PairFinish, PairItem,
    PairwiseQueue, PairwiseQueueList, PairwiseResults, ResultsQuery, DEFAULT_PAIRS, MAX_COHORT,
    MAX_PAIRS,
};
use skein_model::queue::{self, Claim, QueueCounts, MAX_QUEUES};
use skein_model::TraceQuery;

use super::leases::{deleted, found, lease_ms, now_ms};
use super::parse_json;
use super::reviewer::{reviewer_name, Holder};
use crate::context::{AppState, Project};
use crate::error::{ApiError, ApiResult};
use crate::ingest::body::JsonBody;

async fn find_queue(state: &AppState, project: &str, id: &str) -> ApiResult<PairwiseQueue> {
    let queue = state.store.pairwise_queue(project, id, now_ms()).await?;
    found("pairwise queue", project, id, queue)
}

pub async fn list(
    State(state): State<AppState>,
    Project(project): Project,
) -> ApiResult<Json<PairwiseQueueList>> {
    let queues = state.store.pairwise_queues(&project, now_ms()).await?;
    Ok(Json(PairwiseQueueList { queues }))
}

/// The runs of a cohort (a trace-list query string), at most `MAX_COHORT`, each with the key
/// of its root's input and its tags.
async fn cohort(
    state: &AppState,
    project: &str,
    field: &str,
    query: &str,
) -> ApiResult<Vec<Candidate>> {
    let mut query = TraceQuery::from_query_string(query.trim().trim_start_matches('?'))
        .map_err(|e| ApiError::BadRequest(format!("{field}: {e}")))?;
    let mut summaries = Vec::new();
    while summaries.len() < MAX_COHORT {
        query.limit =
            Some((MAX_COHORT - summaries.len()).min(TraceQuery::MAX_LIMIT as usize) as u32);
        let page = state.store.list_traces(project, &query).await?;
        summaries.extend(page.traces);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    let mut runs = Vec::with_capacity(summaries.len());
    for summary in summaries {
        let input = match &summary.root_span_id {
            Some(root) => state
                .store
                .span(project, &summary.trace_id, root)
                .await?
                .and_then(|s| s.input),
            None => None,
        };
        runs.push(Candidate {
            trace_id: summary.trace_id,
            input_key: input
                .filter(|i| !i.trim().is_empty())
                .map(|i| pairwise_queue::input_key(&i)),
            tags: summary.tags,
        });
    }
    Ok(runs)
}

pub async fn create(
    State(state): State<AppState>,
    Project(project): Project,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<PairwiseQueue>)> {
    let new: NewPairwiseQueue = parse_json(&body)?;
    pairwise_queue::check_new_queue(&new).map_err(ApiError::BadRequest)?;
    if state.store.pairwise_queues(&project, now_ms()).await?.len() >= MAX_QUEUES {
        return Err(ApiError::BadRequest(format!(
            "a project has at most {MAX_QUEUES} pairwise queues"
        )));
    }
    let a = cohort(&state, &project, "cohort_a", &new.cohort_a).await?;
    let b = cohort(&state, &project, "cohort_b", &new.cohort_b).await?;
    // A run in both cohorts would be compared with itself: it is left to cohort A.
    let in_a: std::collections::HashSet<&str> = a.iter().map(|r| r.trace_id.as_str()).collect();
    let b: Vec<Candidate> = b
        .into_iter()
        .filter(|r| !in_a.contains(r.trace_id.as_str()))
        .collect();
    if a.is_empty() || b.is_empty() {
        let empty = if a.is_empty() { "cohort_a" } else { "cohort_b" };
        return Err(ApiError::BadRequest(format!(
            "{empty} selects no trace (of its own) in project {project:?}: nothing to pair"
        )));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let n = new
        .pairs
        .map_or(DEFAULT_PAIRS, |n| n as usize)
        .min(MAX_PAIRS);
    let pairs = pairwise_queue::draw_pairs(&id, &a, &b, n, pairwise_queue::seed_of(&id));
    let now = now_ms();
    let items: Vec<PairItem> = pairs
        .into_iter()
        .enumerate()
        .map(|(i, pair)| PairItem::new(&id, pair, i as i64 + 1, now))
        .collect();
    let queue = PairwiseQueue {
        id,
        project,
        name: new.name.trim().to_string(),
        description: new.description,
        cohort_a: new.cohort_a.trim().to_string(),
        cohort_b: new.cohort_b.trim().to_string(),
        created_ms: now,
        counts: QueueCounts::default(),
    };
    let mut stored = queue.clone();
    for _ in &items {
        stored.counts.add(queue::ItemStatus::Pending);
    }
    state.store.create_pairwise_queue(queue, items).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

pub async fn one(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> ApiResult<Json<PairwiseQueue>> {
    Ok(Json(find_queue(&state, &project, &id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let gone = state.store.delete_pairwise_queue(&project, &id).await?;
    deleted("pairwise queue", &project, &id, gone)
}

pub async fn next(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    holder: Holder,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<ClaimedPair>> {
    let claim: Claim = parse_json(&body)?;
    find_queue(&state, &project, &id).await?;
    let reviewer = reviewer_name(&claim.reviewer, &holder)?;
    let lease_ms = lease_ms(&claim)?;
    let pair = state
        .store
        .claim_pair(&project, &id, &reviewer, now_ms(), lease_ms)
        .await?;
    let counts = find_queue(&state, &project, &id).await?.counts;
    Ok(Json(ClaimedPair {
        pair: pair.as_ref().map(PairItem::blind),
        counts,
    }))
}

async fn finish(
    state: &AppState,
    project: &str,
    id: &str,
    pair_id: &str,
    reviewer: &str,
    how: PairFinish,
) -> ApiResult<Json<BlindPair>> {
    find_queue(state, project, id).await?;
    let pair = state
        .store
        .finish_pair(project, id, pair_id, reviewer, how, now_ms())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no pair {pair_id:?} in this queue")))?
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    Ok(Json(pair.blind()))
}

pub async fn judge(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, pair_id)): Path<(String, String)>,
    holder: Holder,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<BlindPair>> {
    let judge: Judge = parse_json(&body)?;
    let reviewer = reviewer_name(&judge.reviewer, &holder)?;
    finish(
        &state,
        &project,
        &id,
        &pair_id,
        &reviewer,
        PairFinish::Judge(judge.pick),
    )
    .await
}

async fn skip_or_release(
    state: AppState,
    project: String,
    id: String,
    pair_id: String,
    holder: Holder,
    body: &[u8],
    how: PairFinish,
) -> ApiResult<Json<BlindPair>> {
    let claim: Claim = parse_json(body)?;
    let reviewer = reviewer_name(&claim.reviewer, &holder)?;
    finish(&state, &project, &id, &pair_id, &reviewer, how).await
}

pub async fn skip(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, pair_id)): Path<(String, String)>,
    holder: Holder,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<BlindPair>> {
    skip_or_release(state, project, id, pair_id, holder, &body, PairFinish::Skip).await
}

pub async fn release(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, pair_id)): Path<(String, String)>,
    holder: Holder,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<BlindPair>> {
    skip_or_release(
        state,
        project,
        id,
        pair_id,
        holder,
        &body,
        PairFinish::Release,
    )
    .await
}

/// `GET /api/v1/pairwise/results?queue=ID&group_by=KEY`.
pub async fn results(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<PairwiseResults>> {
    let query = ResultsQuery::from_query_string(query.as_deref().unwrap_or(""));
    let judgements = state
        .store
        .judgements(&project, query.queue.as_deref())
        .await?;
    let groups = pairwise_queue::results_by_group(&judgements, query.group_by.as_deref());
    Ok(Json(PairwiseResults {
        queue: query.queue,
        group_by: query.group_by,
        groups,
    }))
}
