//! `/api/v1/queues`: annotation queues. Create, list, read and delete queues; add runs to a
//! queue (by trace or span id, or every trace a trace-list query selects); a reviewer claims
//! the next item under a lease (`POST .../next`), then completes it with scores (written as
//! ordinary feedback through the feedback API's checks, so score configs apply), skips it or
//! releases it. Every route is scoped to the request's project.
//!
//! Who reviews is the server's to say once Skein has keys: the request's key holder (its
//! label), whatever the body claims; without keys, the name the body gives (the dashboard asks
//! it once per browser).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use skein_model::query::parse_query_string;
use skein_model::queue::{
    self, AddItems, Added, Claim, Claimed, Completion, Finish, ItemRef, NewQueue, Queue,
    QueueCounts, QueueItem, QueueList, MAX_ADD, MAX_ITEMS, MAX_QUEUES, MAX_SAMPLE_POOL,
};
use skein_model::span_list::MAX_SPAN_LIMIT;
use skein_model::{Feedback, NewFeedback, TraceQuery};

use super::feedback::create_checked;
use super::leases::{deleted, found, lease_ms, now_ms};
use super::parse_json;
use super::reviewer::{reviewer_name, Holder};
use super::spans::span_query as span_query_of;
use crate::context::{AppState, Project};
use crate::error::{ApiError, ApiResult};
use crate::ingest::body::JsonBody;

async fn find_queue(state: &AppState, project: &str, id: &str) -> ApiResult<Queue> {
    let queue = state.store.queue(project, id, now_ms()).await?;
    found("queue", project, id, queue)
}

fn reviewer_of(given: &str, holder: &Holder, queue: &Queue) -> ApiResult<String> {
    let reviewer = reviewer_name(given, holder)?;
    if !queue.admits(&reviewer) {
        return Err(ApiError::Forbidden(format!(
            "{reviewer} is not a reviewer of queue {:?}",
            queue.name
        )));
    }
    Ok(reviewer)
}

pub async fn list(
    State(state): State<AppState>,
    Project(project): Project,
) -> ApiResult<Json<QueueList>> {
    let queues = state.store.queues(&project, now_ms()).await?;
    Ok(Json(QueueList { queues }))
}

pub async fn create(
    State(state): State<AppState>,
    Project(project): Project,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Queue>)> {
    let new: NewQueue = parse_json(&body)?;
    queue::check_new_queue(&new).map_err(ApiError::BadRequest)?;
    if state.store.queues(&project, now_ms()).await?.len() >= MAX_QUEUES {
        return Err(ApiError::BadRequest(format!(
            "a project has at most {MAX_QUEUES} queues"
        )));
    }
    let configs = state.store.score_configs(&project).await?;
    if configs.settings.configured_keys_only {
        if let Some(key) = new.score_keys.iter().find(|k| configs.get(k).is_none()) {
            return Err(ApiError::BadRequest(format!(
                "score key {key:?} has no score config, and this project accepts configured \
                 keys only"
            )));
        }
    }
    // Drawn before the queue is stored: a query that fails stores nothing.
    let first_items = first_items(&state, &project, &new).await?;
    let mut queue = Queue {
        id: uuid::Uuid::new_v4().to_string(),
        project,
        name: new.name.trim().to_string(),
        description: new.description,
        score_keys: new
            .score_keys
            .iter()
            .map(|k| k.trim().to_string())
            .collect(),
        reviewers: new.reviewers.iter().map(|r| r.trim().to_string()).collect(),
        reviews_per_item: new.reviews_per_item.unwrap_or(1),
        created_ms: now_ms(),
        counts: QueueCounts::default(),
    };
    state.store.create_queue(queue.clone()).await?;
    if !first_items.is_empty() {
        let now = now_ms();
        state
            .store
            .add_queue_items(
                &queue.project,
                &queue.id,
                first_items,
                queue.reviews_per_item,
                now,
            )
            .await?;
        queue = find_queue(&state, &queue.project, &queue.id).await?;
    }
    Ok((StatusCode::CREATED, Json(queue)))
}

/// A new queue's items: the traces its trace-list query selects or the spans its span-list
/// query does, or a sample of them (random, balanced across a tag's values when asked) drawn
/// from the newest `MAX_SAMPLE_POOL`.
async fn first_items(state: &AppState, project: &str, new: &NewQueue) -> ApiResult<Vec<ItemRef>> {
    let pool_size = if new.sample.is_some() {
        MAX_SAMPLE_POOL
    } else {
        MAX_ADD
    };
    let pool = match (&new.query, &new.span_query) {
        (Some(query), _) => selected_traces(state, project, query, pool_size).await?,
        (None, Some(span_query)) => selected_spans(state, project, span_query, pool_size)
            .await?
            .into_iter()
            .map(|target| (target, Default::default()))
            .collect(),
        (None, None) => return Ok(Vec::new()),
    };
    let Some(sample) = &new.sample else {
        return Ok(pool.into_iter().map(|(target, _)| target).collect());
    };
    let tag = sample.balance_by.as_deref().map(str::trim);
    // Sampled by position in the pool, so that traces and spans are drawn alike.
    let candidates = pool
        .iter()
        .enumerate()
        .map(|(i, (_, tags))| (i.to_string(), tag.and_then(|t| tags.get(t).cloned())))
        .collect();
    let size = sample.size.map_or(MAX_ADD, |n| n as usize);
    let seed = uuid::Uuid::new_v4().as_u64_pair().0;
    let picked = queue::sample_items(candidates, size, tag.is_some(), seed);
    if picked.is_empty() {
        return Err(ApiError::BadRequest(match tag {
            Some(t) => format!("none of the query's traces has tag {t:?} to balance by"),
            None => "the query selects no runs".into(),
        }));
    }
    Ok(picked
        .iter()
        .filter_map(|i| i.parse::<usize>().ok())
        .filter_map(|i| pool.get(i).map(|(target, _)| target.clone()))
        .collect())
}

pub async fn one(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> ApiResult<Json<Queue>> {
    Ok(Json(find_queue(&state, &project, &id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let gone = state.store.delete_queue(&project, &id).await?;
    deleted("queue", &project, &id, gone)
}

/// `GET /api/v1/queues/{id}/items`.
#[derive(Debug, Serialize)]
pub struct ItemList {
    pub items: Vec<QueueItem>,
}

pub async fn items(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> ApiResult<Json<ItemList>> {
    find_queue(&state, &project, &id).await?;
    let items = state.store.queue_items(&project, &id, now_ms()).await?;
    Ok(Json(ItemList { items }))
}

/// The runs a request names, checked: ids well formed and stored in the project.
async fn named_targets(state: &AppState, project: &str, add: &AddItems) -> ApiResult<Vec<ItemRef>> {
    let given = add.trace_ids.iter().map(|t| ItemRef {
        trace_id: t.clone(),
        span_id: None,
    });
    let mut targets = Vec::new();
    for target in given.chain(add.items.iter().cloned()) {
        let checked = target.normalized().ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{:?} is not a run: a trace id is 32 hex digits, a span id 16",
                target.item_id()
            ))
        })?;
        targets.push(checked);
    }
    let trace_ids: Vec<String> = targets.iter().map(|t| t.trace_id.clone()).collect();
    let mut stored = std::collections::HashSet::new();
    for chunk in trace_ids.chunks(TraceQuery::MAX_LIMIT as usize) {
        for summary in state
            .store
            .trace_summaries(project, chunk, &TraceQuery::default())
            .await?
        {
            stored.insert(summary.trace_id);
        }
    }
    for target in &targets {
        if !stored.contains(&target.trace_id) {
            return Err(ApiError::BadRequest(format!(
                "no trace {} in project {project:?}",
                target.trace_id
            )));
        }
        if let Some(span_id) = &target.span_id {
            if state
                .store
                .span(project, &target.trace_id, span_id)
                .await?
                .is_none()
            {
                return Err(ApiError::BadRequest(format!(
                    "no span {span_id} in trace {}",
                    target.trace_id
                )));
            }
        }
    }
    Ok(targets)
}

/// The traces a trace-list query selects (its link's query string), newest first, at most
/// `limit`, each with its tags.
async fn selected_traces(
    state: &AppState,
    project: &str,
    query: &str,
    limit: usize,
) -> ApiResult<Vec<(ItemRef, std::collections::BTreeMap<String, String>)>> {
    let mut query = TraceQuery::from_query_string(query.trim_start_matches('?'))?;
    let mut targets = Vec::new();
    while targets.len() < limit {
        query.limit = Some((limit - targets.len()).min(TraceQuery::MAX_LIMIT as usize) as u32);
        let page = state.store.list_traces(project, &query).await?;
        targets.extend(page.traces.into_iter().map(|t| {
            let target = ItemRef {
                trace_id: t.trace_id,
                span_id: None,
            };
            (target, t.tags)
        }));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    targets.truncate(limit);
    Ok(targets)
}

/// The spans a span-list query selects (its link's query string), in its order, at most
/// `limit`.
async fn selected_spans(
    state: &AppState,
    project: &str,
    span_query: &str,
    limit: usize,
) -> ApiResult<Vec<ItemRef>> {
    let pairs = parse_query_string(span_query.trim_start_matches('?'));
    let mut query = span_query_of(&pairs)?;
    let mut targets = Vec::new();
    while targets.len() < limit {
        query.limit = (limit - targets.len()).min(MAX_SPAN_LIMIT as usize) as u32;
        let page = state.store.list_spans(project, &query).await?;
        targets.extend(page.spans.into_iter().map(|s| ItemRef {
            trace_id: s.trace_id,
            span_id: Some(s.span_id),
        }));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    targets.truncate(limit);
    Ok(targets)
}

pub async fn add_items(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Added>> {
    let add: AddItems = parse_json(&body)?;
    let queue = find_queue(&state, &project, &id).await?;
    let named = add.trace_ids.len() + add.items.len();
    if named > MAX_ADD {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_ADD} runs are added at once ({named} given)"
        )));
    }
    let limit = add.limit.map_or(MAX_ADD, |l| (l as usize).min(MAX_ADD));
    let mut targets = named_targets(&state, &project, &add).await?;
    if let Some(query) = &add.query {
        let selected = selected_traces(&state, &project, query, limit).await?;
        targets.extend(selected.into_iter().map(|(target, _)| target));
    }
    if let Some(span_query) = &add.span_query {
        targets.extend(selected_spans(&state, &project, span_query, limit).await?);
    }
    if targets.is_empty() {
        return Err(ApiError::BadRequest(
            "name the runs to add: \"trace_ids\", \"items\" ({\"trace_id\", \"span_id\"}), a \
             trace-list \"query\" or a span-list \"span_query\""
                .into(),
        ));
    }
    let room = MAX_ITEMS.saturating_sub(queue.counts.total as usize);
    if targets.len() > room {
        return Err(ApiError::BadRequest(format!(
            "a queue holds at most {MAX_ITEMS} items: this one has room for {room}"
        )));
    }
    let asked = targets.len() as u64;
    let added = state
        .store
        .add_queue_items(&project, &id, targets, queue.reviews_per_item, now_ms())
        .await?;
    Ok(Json(Added {
        added,
        already_queued: asked - added,
    }))
}

pub async fn next(
    State(state): State<AppState>,
    Project(project): Project,
    holder: Holder,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Claimed>> {
    let claim: Claim = parse_json(&body)?;
    let queue = find_queue(&state, &project, &id).await?;
    let reviewer = reviewer_of(&claim.reviewer, &holder, &queue)?;
    let lease_ms = lease_ms(&claim)?;
    let item = state
        .store
        .claim_queue_item(&project, &id, &reviewer, now_ms(), lease_ms)
        .await?;
    let counts = find_queue(&state, &project, &id).await?.counts;
    Ok(Json(Claimed { item, counts }))
}

fn finish_refused(e: queue::FinishError) -> ApiError {
    ApiError::Conflict(e.to_string())
}

/// What a completion answers: the item as finished and the feedback written.
#[derive(Debug, Serialize)]
pub struct Completed {
    pub item: QueueItem,
    pub feedback: Vec<Feedback>,
}

/// The item a reviewer finishes, found and checked against `queue::finish` before anything is
/// written (the store checks again as it writes).
async fn held_item(
    state: &AppState,
    project: &str,
    queue: &Queue,
    item_id: &str,
    reviewer: &str,
    how: Finish,
) -> ApiResult<QueueItem> {
    // Read as stored (as of the earliest time: a lease that ran out is kept, for the rule
    // lets its holder still complete the item when nobody claimed it since).
    let stored = state
        .store
        .queue_item(project, &queue.id, item_id, i64::MIN)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no item {item_id:?} in this queue")))?;
    queue::finish(&stored, reviewer, how, now_ms()).map_err(finish_refused)?;
    Ok(stored)
}

async fn finish_item(
    state: &AppState,
    project: &str,
    queue_id: &str,
    item_id: &str,
    reviewer: &str,
    how: Finish,
) -> ApiResult<QueueItem> {
    state
        .store
        .finish_queue_item(project, queue_id, item_id, reviewer, how, now_ms())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no item {item_id:?} in this queue")))?
        .map_err(finish_refused)
}

/// The span a trace item's scores are about: its root.
async fn run_of(state: &AppState, project: &str, item: &QueueItem) -> ApiResult<String> {
    if let Some(span_id) = &item.target.span_id {
        return Ok(span_id.clone());
    }
    let trace_id = &item.target.trace_id;
    state
        .store
        .trace_summaries(
            project,
            std::slice::from_ref(trace_id),
            &TraceQuery::default(),
        )
        .await?
        .into_iter()
        .find_map(|t| t.root_span_id)
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "trace {trace_id} has no root span to rate (it is gone, or its root has not \
                 arrived)"
            ))
        })
}

pub async fn complete(
    State(state): State<AppState>,
    Project(project): Project,
    holder: Holder,
    Path((id, item_id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Completed>> {
    let completion: Completion = parse_json(&body)?;
    let queue = find_queue(&state, &project, &id).await?;
    let reviewer = reviewer_of(&completion.reviewer, &holder, &queue)?;
    if completion.scores.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "a completion gives scores: one or more of {}",
            queue.score_keys.join(", ")
        )));
    }
    for (i, score) in completion.scores.iter().enumerate() {
        if !queue.score_keys.contains(&score.key) {
            return Err(ApiError::BadRequest(format!(
                "this queue collects {}, not {:?}",
                queue.score_keys.join(", "),
                score.key
            )));
        }
        if completion.scores[..i].iter().any(|s| s.key == score.key) {
            return Err(ApiError::BadRequest(format!(
                "score {:?} is given twice",
                score.key
            )));
        }
        // Checked before any is written: a refusal stores none of the scores.
        super::score_configs::checked_score(
            state.store.as_ref(),
            &project,
            &score.key,
            score.score,
            score.value.as_ref(),
        )
        .await?;
    }
    let item = held_item(
        &state,
        &project,
        &queue,
        &item_id,
        &reviewer,
        Finish::Complete,
    )
    .await?;
    let run_id = run_of(&state, &project, &item).await?;
    let mut feedback = Vec::with_capacity(completion.scores.len());
    for score in completion.scores {
        let new = NewFeedback {
            run_id: run_id.clone(),
            trace_id: Some(item.target.trace_id.clone()),
            key: score.key,
            score: score.score,
            value: score.value,
            comment: score.comment,
            source: Some("queue".into()),
            queue_id: Some(queue.id.clone()),
            reviewer: Some(reviewer.clone()),
            ..NewFeedback::default()
        };
        feedback.push(create_checked(&state, &project, new).await?);
    }
    let item = finish_item(&state, &project, &id, &item_id, &reviewer, Finish::Complete).await?;
    Ok(Json(Completed { item, feedback }))
}

async fn skip_or_release(
    state: AppState,
    project: String,
    holder: Holder,
    (id, item_id): (String, String),
    body: &[u8],
    how: Finish,
) -> ApiResult<Json<QueueItem>> {
    let claim: Claim = parse_json(body)?;
    let queue = find_queue(&state, &project, &id).await?;
    let reviewer = reviewer_of(&claim.reviewer, &holder, &queue)?;
    held_item(&state, &project, &queue, &item_id, &reviewer, how).await?;
    Ok(Json(
        finish_item(&state, &project, &id, &item_id, &reviewer, how).await?,
    ))
}

pub async fn skip(
    State(state): State<AppState>,
    Project(project): Project,
    holder: Holder,
    Path(ids): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<QueueItem>> {
    skip_or_release(state, project, holder, ids, &body, Finish::Skip).await
}

pub async fn release(
    State(state): State<AppState>,
    Project(project): Project,
    holder: Holder,
    Path(ids): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<QueueItem>> {
    skip_or_release(state, project, holder, ids, &body, Finish::Release).await
}
